//! The report's data tables (表 1 师资队伍情况, 表 2 学生情况统计表, 表 3 学生升学情况统计表),
//! built cell by cell from the dataset, with their multi-row headers.

use nianbao_core::{Dataset, Year};
use serde::Serialize;

use crate::format::Kinds;

/// A header cell that may span several columns or rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderCell {
    pub text: String,
    pub colspan: usize,
    pub rowspan: usize,
}

/// A body cell; `rowspan` is 0 for a cell covered by the one above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub text: String,
    pub rowspan: usize,
    /// Whether the cell labels its row (rendered as a header cell).
    pub label: bool,
}

impl Cell {
    fn label(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            rowspan: 1,
            label: true,
        }
    }

    /// A value of element `code`, printed in its kind's style; empty when there is none.
    fn value(kinds: &Kinds, code: &str, value: Option<f64>) -> Cell {
        Cell {
            text: value.map(|v| kinds.print(code, v)).unwrap_or_default(),
            rowspan: 1,
            label: false,
        }
    }
}

/// A table ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The table's id in the document, e.g. "table-1".
    pub id: String,
    pub number: usize,
    pub caption: String,
    pub header: Vec<Vec<HeaderCell>>,
    pub rows: Vec<Vec<Cell>>,
}

fn header(text: &str, colspan: usize, rowspan: usize) -> HeaderCell {
    HeaderCell {
        text: text.to_string(),
        colspan,
        rowspan,
    }
}

/// A column of 表 1: a group heading (empty for a single column), its label and its element.
pub const STAFF_COLUMNS: &[(&str, &str, &str)] = &[
    ("", "教职工总数(人)", "staff.total"),
    ("", "专任教师数(人)", "staff.full_time.total"),
    ("双师型教师数(人)", "初级", "staff.dual.junior"),
    ("双师型教师数(人)", "中级", "staff.dual.intermediate"),
    ("双师型教师数(人)", "高级", "staff.dual.senior"),
    ("", "专业课教师数(人)", "staff.professional"),
    ("", "文化课教师数(人)", "staff.general"),
    ("", "校外教师数(人)", "staff.off_campus"),
    ("", "行业导师数(人)", "staff.industry_mentors"),
    ("", "折合教师数(人)", "staff.equivalent"),
    ("教学创新团队(个)", "国家级", "teams.innovation.national"),
    ("教学创新团队(个)", "省市级", "teams.innovation.provincial"),
    (
        "“双师型”名师工作室(个)",
        "国家级",
        "studios.dual_master.national",
    ),
    (
        "“双师型”名师工作室(个)",
        "省市级",
        "studios.dual_master.provincial",
    ),
    (
        "技能大师工作室(个)",
        "国家级",
        "studios.skill_master.national",
    ),
    (
        "技能大师工作室(个)",
        "省市级",
        "studios.skill_master.provincial",
    ),
];

/// The columns of 表 3 and their elements.
pub const FURTHER_COLUMNS: &[(&str, &str)] = &[
    ("升学总人数", "further.total"),
    ("升学率", "further.rate"),
    ("升入本科院校人数", "further.undergraduate"),
    ("升入高职高专院校人数", "further.college"),
    ("通过职教高考统招升学", "further.exam"),
    ("通过中本贯通升学人数", "further.through_undergraduate"),
    ("通过中高贯通升学人数", "further.through_college"),
];

/// The per-major columns of 表 2.
pub const STUDENT_GROUPS: &[(&str, &str, &str)] = &[
    ("招生人数", "major.intake", "students.intake_total"),
    ("在校生人数", "major.enrolled", "students.enrolled_total"),
    ("毕业生人数", "major.graduates", "students.graduates_total"),
];

/// 表 1: one row per year, with two header rows whose groups span their sub-columns.
pub fn staff_table(data: &Dataset, kinds: &Kinds, years: &[Year], number: usize) -> Table {
    let mut top = vec![header("年份", 1, 2)];
    let mut second = Vec::new();
    let mut i = 0;
    while i < STAFF_COLUMNS.len() {
        let (group, label, _) = STAFF_COLUMNS[i];
        if group.is_empty() {
            top.push(header(label, 1, 2));
            i += 1;
            continue;
        }
        let width = STAFF_COLUMNS[i..]
            .iter()
            .take_while(|c| c.0 == group)
            .count();
        top.push(header(group, width, 1));
        second.extend(
            STAFF_COLUMNS[i..i + width]
                .iter()
                .map(|c| header(c.1, 1, 1)),
        );
        i += width;
    }
    let rows = years
        .iter()
        .map(|&year| {
            let mut row = vec![Cell::label(format!("{year}年度"))];
            row.extend(
                STAFF_COLUMNS
                    .iter()
                    .map(|(_, _, code)| Cell::value(kinds, code, data.value(year, code))),
            );
            row
        })
        .collect();
    Table {
        id: format!("table-{number}"),
        number,
        caption: "师资队伍情况".into(),
        header: vec![top, second],
        rows,
    }
}

/// 表 2: one row per major grouped by 专业大类, three years of intake, enrolment and
/// graduates, and the school's reported totals in the 合计 row.
pub fn students_table(data: &Dataset, kinds: &Kinds, years: &[Year], number: usize) -> Table {
    let mut top = vec![header("专业大类", 1, 2), header("专业名称", 1, 2)];
    let mut second = Vec::new();
    for (label, _, _) in STUDENT_GROUPS {
        top.push(header(label, years.len(), 1));
        second.extend(years.iter().map(|y| header(&y.to_string(), 1, 1)));
    }
    let mut rows = Vec::new();
    for category in data.categories() {
        let majors: Vec<_> = data.majors_in(category).collect();
        for (index, major) in majors.iter().enumerate() {
            let category_cell = Cell {
                text: category.to_string(),
                rowspan: if index == 0 { majors.len() } else { 0 },
                label: true,
            };
            let mut row = vec![category_cell, Cell::label(&major.name)];
            for (_, code, _) in STUDENT_GROUPS {
                row.extend(
                    years
                        .iter()
                        .map(|&y| Cell::value(kinds, code, data.major_value(y, code, &major.name))),
                );
            }
            rows.push(row);
        }
    }
    let mut total = vec![Cell::label("合计"), Cell::label("")];
    for (_, _, total_code) in STUDENT_GROUPS {
        total.extend(
            years
                .iter()
                .map(|&y| Cell::value(kinds, total_code, data.value(y, total_code))),
        );
    }
    rows.push(total);
    Table {
        id: format!("table-{number}"),
        number,
        caption: "学生情况统计表".into(),
        header: vec![top, second],
        rows,
    }
}

/// 表 3: one row per year with further-education figures; the rate is printed with "%".
pub fn further_table(data: &Dataset, kinds: &Kinds, years: &[Year], number: usize) -> Table {
    let mut top = vec![header("年度", 1, 1)];
    top.extend(FURTHER_COLUMNS.iter().map(|(label, _)| header(label, 1, 1)));
    let rows = years
        .iter()
        .filter(|&&y| {
            FURTHER_COLUMNS
                .iter()
                .any(|(_, code)| data.value(y, code).is_some())
        })
        .map(|&year| {
            let mut row = vec![Cell::label(year.to_string())];
            for (_, code) in FURTHER_COLUMNS {
                let mut cell = Cell::value(kinds, code, data.value(year, code));
                if *code == "further.rate" && !cell.text.is_empty() {
                    cell.text.push('%');
                }
                row.push(cell);
            }
            row
        })
        .collect();
    Table {
        id: format!("table-{number}"),
        number,
        caption: "学生升学情况统计表".into(),
        header: vec![top],
        rows,
    }
}
