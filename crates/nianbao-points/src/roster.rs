//! The roster: the students points are recorded for, with class, major, department and
//! year of entry. Only what the ledger needs is kept (student number, name, class, major,
//! department, entry year); identity-card numbers, phone numbers and addresses are refused.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::ledger::{MAX_ERRORS, Rejected, RowError};

/// A student; `id` is the school-internal number events refer to (1, 2, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Student {
    pub id: u32,
    pub number: String,
    pub name: String,
    pub class: String,
    pub major: String,
    pub department: String,
    pub entry_year: i32,
}

/// A school's students, by internal id and by student number.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    students: Vec<Student>,
    by_number: HashMap<String, u32>,
}

impl Roster {
    /// Builds a roster from students whose ids are 1..=n in order.
    pub fn new(mut students: Vec<Student>) -> Roster {
        students.sort_by_key(|s| s.id);
        let by_number = students.iter().map(|s| (s.number.clone(), s.id)).collect();
        Roster {
            students,
            by_number,
        }
    }

    pub fn len(&self) -> usize {
        self.students.len()
    }

    pub fn is_empty(&self) -> bool {
        self.students.is_empty()
    }

    pub fn students(&self) -> &[Student] {
        &self.students
    }

    pub fn student(&self, id: u32) -> Option<&Student> {
        let s = self.students.get((id as usize).checked_sub(1)?)?;
        (s.id == id).then_some(s)
    }

    pub fn id_of(&self, number: &str) -> Option<u32> {
        self.by_number.get(number).copied()
    }

    /// Merges imported rows: known numbers are updated, new ones get the next ids.
    /// Returns (added, updated).
    pub fn merge(&mut self, rows: &[Student]) -> (Vec<Student>, Vec<Student>) {
        let mut added = Vec::new();
        let mut updated = Vec::new();
        for row in rows {
            match self.by_number.get(&row.number) {
                Some(&id) => {
                    let s = &mut self.students[id as usize - 1];
                    let new = Student { id, ..row.clone() };
                    if *s != new {
                        *s = new.clone();
                        updated.push(new);
                    }
                }
                None => {
                    let id = self.students.len() as u32 + 1;
                    let new = Student { id, ..row.clone() };
                    self.by_number.insert(new.number.clone(), id);
                    self.students.push(new.clone());
                    added.push(new);
                }
            }
        }
        (added, updated)
    }
}

/// The columns of a roster CSV file.
pub const ROSTER_COLUMNS: [&str; 6] = ["学号", "姓名", "班级", "专业", "专业部", "入学年份"];

/// Header words that mark personal data the roster must not hold.
const REFUSED: [&str; 6] = ["身份证", "证件", "手机", "电话", "住址", "家庭地址"];

/// Reads a roster CSV; the ids of the returned students are 0 until merged.
pub fn read_roster_csv(path: &Path) -> Result<Vec<Student>, Rejected> {
    let file = path.display().to_string();
    let opened = std::fs::File::open(path).map_err(|e| Rejected {
        file: file.clone(),
        errors: vec![RowError {
            row: 0,
            column: None,
            message: format!("无法打开：{e}"),
        }],
    })?;
    read_roster(opened, &file)
}

/// Reads a roster CSV from any reader (an uploaded file, say); `file` names it in errors.
pub fn read_roster(input: impl std::io::Read, file: &str) -> Result<Vec<Student>, Rejected> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            return Err(Rejected {
                file: file.to_string(),
                errors: vec![RowError {
                    row: 1,
                    column: None,
                    message: format!("表头无法读取：{e}"),
                }],
            });
        }
    };
    let rows = reader.into_records().enumerate().map(|(n, record)| {
        let line = n + 2;
        record
            .map(|r| (line, r.iter().map(str::to_string).collect()))
            .map_err(|e| RowError {
                row: line,
                column: None,
                message: format!("无法解析：{e}"),
            })
    });
    read_roster_table(file, 1, &header, rows)
}

/// Reads a roster laid out as a table, from a CSV file or a worksheet: the header's cells
/// (on row `header_row`) and each data row's cells with its row number. `place` names the
/// file (and sheet) in errors; every error names its row and column.
pub fn read_roster_table(
    place: &str,
    header_row: usize,
    header: &[String],
    rows: impl IntoIterator<Item = Result<(usize, Vec<String>), RowError>>,
) -> Result<Vec<Student>, Rejected> {
    let file = place.to_string();
    let fail = |row: usize, column: Option<&str>, message: String| Rejected {
        file: file.clone(),
        errors: vec![RowError {
            row,
            column: column.map(str::to_string),
            message,
        }],
    };
    let clean = |h: &str| h.trim().trim_start_matches('\u{feff}').to_string();
    if let Some(h) = header
        .iter()
        .map(|h| clean(h))
        .find(|h| REFUSED.iter().any(|r| h.contains(r)))
    {
        return Err(fail(
            header_row,
            Some(&h),
            "名册只需学号、姓名、班级、专业、专业部、入学年份；请删除此列后再导入，系统不保存此类个人信息"
                .into(),
        ));
    }
    let mut index = [0usize; 6];
    for (i, name) in ROSTER_COLUMNS.iter().enumerate() {
        index[i] = header
            .iter()
            .position(|h| clean(h) == *name)
            .ok_or_else(|| {
                fail(
                    header_row,
                    Some(name),
                    format!("表头缺少此列；应有：{}", ROSTER_COLUMNS.join(",")),
                )
            })?;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut students = Vec::new();
    let mut errors = Vec::new();
    for record in rows {
        if errors.len() >= MAX_ERRORS {
            break;
        }
        let (line, record) = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut err = |column: Option<&str>, message: String| {
            errors.push(RowError {
                row: line,
                column: column.map(str::to_string),
                message,
            })
        };
        let cell = |i: usize| {
            record
                .get(index[i])
                .map(|c| c.trim())
                .unwrap_or("")
                .to_string()
        };
        let mut ok = true;
        for (i, name) in ROSTER_COLUMNS.iter().enumerate().take(5) {
            if cell(i).is_empty() {
                err(Some(name), "不能为空".into());
                ok = false;
            }
        }
        let year = cell(5);
        let entry_year = match year.parse::<i32>() {
            Ok(y) if (2000..=2150).contains(&y) => y,
            _ => {
                err(Some("入学年份"), format!("「{year}」应为四位年份，如 2025"));
                continue;
            }
        };
        if !ok {
            continue;
        }
        let number = cell(0);
        if let Some(first) = seen.insert(number.clone(), line) {
            err(Some("学号"), format!("学号「{number}」与第 {first} 行重复"));
            continue;
        }
        students.push(Student {
            id: 0,
            number,
            name: cell(1),
            class: cell(2),
            major: cell(3),
            department: cell(4),
            entry_year,
        });
    }
    if errors.is_empty() {
        Ok(students)
    } else {
        Err(Rejected { file, errors })
    }
}
