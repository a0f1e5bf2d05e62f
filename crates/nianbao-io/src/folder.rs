//! Reading and writing the dataset folder.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use nianbao_core::catalogue::{Dimension, Element};
use nianbao_core::{Dataset, Definitions, FactKey, Major, School, Year};
use toml::de::{DeTable, DeValue};

use crate::bounded::read_text;
use crate::error::ImportError;
use crate::headers::*;

/// Reads a dataset folder, refusing anything the definitions do not allow.
pub fn read_dataset(dir: &Path, definitions: &Definitions) -> Result<Dataset, ImportError> {
    if !dir.is_dir() {
        let problem = if dir.exists() {
            "不是文件夹"
        } else {
            "文件夹不存在或无法读取"
        };
        return Err(ImportError::new(dir, problem));
    }
    let school = read_school(&dir.join(SCHOOL_FILE))?;
    let mut data = Dataset::new(school);
    data.majors = read_majors(&dir.join(MAJORS_FILE), definitions)?;
    read_students(&dir.join(STUDENTS_FILE), definitions, &mut data)?;
    let years_dir = dir.join(YEARS_DIR);
    if years_dir.is_dir() {
        for path in year_files(&years_dir)? {
            read_year(&path, definitions, &mut data)?;
        }
    }
    Ok(data)
}

/// A number as an error message shows it: short, even when it is absurdly large.
fn shown(number: f64) -> String {
    if number.abs() >= 1e15 {
        format!("{number:e}")
    } else {
        number.to_string()
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> ImportError {
    let err = ImportError::new(path, format!("TOML 格式错误：{}", error.message().trim()));
    match error.span() {
        Some(span) => err.at(line_of(text, span.start)),
        None => err,
    }
}

fn read_school(path: &Path) -> Result<School, ImportError> {
    let text = read_text(path)?;
    let school: School = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
    if school.name.trim().is_empty() {
        return Err(ImportError::new(path, "学校名称不能为空").column("name"));
    }
    if school.code.trim().is_empty() {
        return Err(ImportError::new(path, "学校代码不能为空").column("code"));
    }
    if !School::valid_code(&school.code) {
        return Err(ImportError::new(
            path,
            format!(
                "学校代码「{}」只能由英文字母、数字和连字符（-）组成，最长 64 个字符",
                school.code
            ),
        )
        .column("code"));
    }
    Ok(school)
}

/// A CSV file read with its header, each record with its line number.
struct Csv {
    path: PathBuf,
    headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Csv {
    fn read(path: &Path) -> Result<Csv, ImportError> {
        let text = read_text(path)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let csv_error = |e: csv::Error| {
            let line = e.position().map(|p| p.line() as usize);
            let err = ImportError::new(path, format!("CSV 格式错误：{}", csv_problem(&e)));
            match line {
                Some(line) => err.at(line),
                None => err,
            }
        };
        let headers = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            rows.push((line, record.iter().map(|c| c.trim().to_string()).collect()));
        }
        Ok(Csv {
            path: path.to_path_buf(),
            headers,
            rows,
        })
    }

    /// The index of a required column.
    fn column(&self, name: &str) -> Result<usize, ImportError> {
        self.headers.iter().position(|h| h == name).ok_or_else(|| {
            ImportError::new(
                &self.path,
                format!("缺少列「{name}」（表头为：{}）", self.headers.join(",")),
            )
            .at(1)
            .column(name)
        })
    }

    fn cell<'a>(&self, row: &'a [String], index: usize) -> &'a str {
        row.get(index).map(String::as_str).unwrap_or("")
    }
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("本行有 {len} 列，表头有 {expected_len} 列")
        }
        csv::ErrorKind::Utf8 { .. } => "不是 UTF-8 编码".to_string(),
        _ => e.to_string(),
    }
}

fn read_majors(path: &Path, definitions: &Definitions) -> Result<Vec<Major>, ImportError> {
    let csv = Csv::read(path)?;
    let (name_col, category_col) = (csv.column(MAJOR_NAME)?, csv.column(MAJOR_CATEGORY)?);
    let department_col = csv.headers.iter().position(|h| h == MAJOR_DEPARTMENT);
    let mut majors: Vec<(usize, Major)> = Vec::new();
    for (line, row) in &csv.rows {
        let at = |column: &str, problem: String| {
            ImportError::new(path, problem).at(*line).column(column)
        };
        let name = csv.cell(row, name_col);
        if name.is_empty() {
            return Err(at(MAJOR_NAME, "专业名称不能为空".into()));
        }
        if let Some((first, _)) = majors.iter().find(|(_, m)| m.name == name) {
            return Err(at(
                MAJOR_NAME,
                format!("专业「{name}」重复（第 {first} 行已有）"),
            ));
        }
        let category = csv.cell(row, category_col);
        if definitions.majors.category(category).is_none() {
            return Err(at(
                MAJOR_CATEGORY,
                format!(
                    "未知的专业大类「{category}」，应为专业目录中的大类名称，如：{}",
                    sample_names(definitions)
                ),
            ));
        }
        let department = department_col
            .map(|c| csv.cell(row, c).to_string())
            .unwrap_or_default();
        majors.push((
            *line,
            Major {
                name: name.to_string(),
                category: category.to_string(),
                department,
            },
        ));
    }
    Ok(majors.into_iter().map(|(_, m)| m).collect())
}

fn sample_names(definitions: &Definitions) -> String {
    let names = definitions.majors.all_names();
    let shown: Vec<&str> = names.iter().take(8).copied().collect();
    format!("{} 等（共 {} 个）", shown.join("、"), names.len())
}

fn parse_year(text: &str) -> Result<Year, String> {
    let number: i64 = text
        .trim()
        .parse()
        .map_err(|_| format!("应为四位年份，实际为「{text}」"))?;
    Year::new(number).map_err(|e| e.to_string())
}

/// Parses a cell as a value of the element's kind; `None` for an empty cell.
fn parse_value(text: &str, element: &Element) -> Result<Option<f64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value: f64 = text
        .replace(',', "")
        .parse()
        .map_err(|_| format!("应为数值（{}），实际为「{text}」", element.name))?;
    element
        .accepts(value)
        .map_err(|expected| format!("应为{expected}，实际为「{text}」"))?;
    Ok(Some(value))
}

fn read_students(
    path: &Path,
    definitions: &Definitions,
    data: &mut Dataset,
) -> Result<(), ImportError> {
    if !path.exists() {
        return Ok(());
    }
    let csv = Csv::read(path)?;
    let name_col = csv.column(MAJOR_NAME)?;
    let year_col = csv.column(YEAR)?;
    let value_cols: Vec<(usize, &str, &Element)> = STUDENT_COLUMNS
        .iter()
        .map(|(header, code)| {
            let element = definitions.elements.get(code).ok_or_else(|| {
                ImportError::new(path, format!("定义中没有数据项「{code}」")).column(*header)
            })?;
            csv.column(header).map(|i| (i, *header, element))
        })
        .collect::<Result<_, _>>()?;
    let mut seen: BTreeMap<(String, Year), usize> = BTreeMap::new();
    for (line, row) in &csv.rows {
        let at = |column: &str, problem: String| {
            ImportError::new(path, problem).at(*line).column(column)
        };
        let name = csv.cell(row, name_col);
        if data.major(name).is_none() {
            return Err(at(
                MAJOR_NAME,
                format!("专业「{name}」不在 {MAJORS_FILE} 中"),
            ));
        }
        let year = parse_year(csv.cell(row, year_col)).map_err(|p| at(YEAR, p))?;
        if let Some(first) = seen.insert((name.to_string(), year), *line) {
            return Err(at(
                YEAR,
                format!("专业「{name}」{year}年的数据重复（第 {first} 行已有）"),
            ));
        }
        for (index, header, element) in &value_cols {
            let value = parse_value(csv.cell(row, *index), element).map_err(|p| at(header, p))?;
            if let Some(value) = value {
                data.set(FactKey::major(year, element.code.clone(), name), value);
            }
        }
    }
    Ok(())
}

fn year_files(dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let entries =
        fs::read_dir(dir).map_err(|e| ImportError::new(dir, format!("无法读取文件夹：{e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| ImportError::new(dir, format!("无法读取文件夹：{e}")))?
            .path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn read_year(
    path: &Path,
    definitions: &Definitions,
    data: &mut Dataset,
) -> Result<(), ImportError> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let year = parse_year(stem)
        .map_err(|p| ImportError::new(path, format!("文件名应为年份（如 2025.toml）：{p}")))?;
    let text = read_text(path)?;
    let table = DeTable::parse(&text).map_err(|e| toml_error(path, &text, &e))?;
    let mut reader = YearReader {
        path,
        text: &text,
        definitions,
        year,
        data,
    };
    for (key, value) in table.get_ref() {
        if key.get_ref() == NOTES_TABLE {
            reader.notes(value)?;
        } else {
            reader.value(key.get_ref(), value)?;
        }
    }
    Ok(())
}

struct YearReader<'a> {
    path: &'a Path,
    text: &'a str,
    definitions: &'a Definitions,
    year: Year,
    data: &'a mut Dataset,
}

impl YearReader<'_> {
    fn error(&self, span: std::ops::Range<usize>, key: &str, problem: String) -> ImportError {
        ImportError::new(self.path, problem)
            .at(line_of(self.text, span.start))
            .column(key)
    }

    fn value(&mut self, code: &str, value: &toml::Spanned<DeValue<'_>>) -> Result<(), ImportError> {
        let number = match value.get_ref() {
            DeValue::Table(table) => {
                for (key, child) in table {
                    self.value(&format!("{code}.{}", key.get_ref()), child)?;
                }
                return Ok(());
            }
            DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
                .map(|v| v as f64)
                .ok(),
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            _ => None,
        };
        let Some(element) = self.definitions.elements.get(code) else {
            return Err(self.error(value.span(), code, format!("未知的数据项「{code}」")));
        };
        if element.dimension == Dimension::Major {
            return Err(self.error(
                value.span(),
                code,
                format!("「{}」按专业填报，应写在 {STUDENTS_FILE} 中", element.name),
            ));
        }
        if element.is_computed() {
            return Err(self.error(
                value.span(),
                code,
                format!(
                    "「{}」由学校的登记系统计算，不能在数据文件中填写",
                    element.name
                ),
            ));
        }
        let Some(number) = number else {
            return Err(self.error(value.span(), code, format!("「{}」应为数值", element.name)));
        };
        element.accepts(number).map_err(|expected| {
            self.error(
                value.span(),
                code,
                format!(
                    "「{}」应为{expected}，实际为 {}",
                    element.name,
                    shown(number)
                ),
            )
        })?;
        self.data.set(FactKey::school(self.year, code), number);
        Ok(())
    }

    fn notes(&mut self, value: &toml::Spanned<DeValue<'_>>) -> Result<(), ImportError> {
        let DeValue::Table(table) = value.get_ref() else {
            return Err(self.error(value.span(), NOTES_TABLE, "[notes] 应为表".into()));
        };
        for (key, note) in table {
            let code: &str = key.get_ref();
            if self.definitions.elements.get(code).is_none() {
                return Err(self.error(
                    key.span(),
                    code,
                    format!("说明所属的数据项「{code}」未知"),
                ));
            }
            let DeValue::String(text) = note.get_ref() else {
                return Err(self.error(note.span(), code, "说明应为文本".into()));
            };
            self.data
                .notes
                .insert(FactKey::school(self.year, code), text.to_string());
        }
        Ok(())
    }
}

/// Writes a dataset as a folder that `read_dataset` reads back to the same dataset.
pub fn write_dataset(dir: &Path, data: &Dataset) -> Result<(), ImportError> {
    let write = |path: PathBuf, text: String| {
        fs::write(&path, text).map_err(|e| ImportError::new(&path, format!("无法写入：{e}")))
    };
    fs::create_dir_all(dir.join(YEARS_DIR))
        .map_err(|e| ImportError::new(dir, format!("无法创建文件夹：{e}")))?;
    let school = toml::to_string_pretty(&data.school)
        .map_err(|e| ImportError::new(dir.join(SCHOOL_FILE), e.to_string()))?;
    write(dir.join(SCHOOL_FILE), school)?;

    let mut majors = csv_writer();
    majors
        .write_record([MAJOR_NAME, MAJOR_CATEGORY, MAJOR_DEPARTMENT])
        .map_err(|e| csv_write_error(dir, e))?;
    for m in &data.majors {
        majors
            .write_record([&m.name, &m.category, &m.department])
            .map_err(|e| csv_write_error(dir, e))?;
    }
    write(dir.join(MAJORS_FILE), finish(majors))?;

    let mut students = csv_writer();
    let mut header = vec![MAJOR_NAME, YEAR];
    header.extend(STUDENT_COLUMNS.iter().map(|(h, _)| *h));
    students
        .write_record(&header)
        .map_err(|e| csv_write_error(dir, e))?;
    for major in &data.majors {
        for year in data.years() {
            let values: Vec<Option<f64>> = STUDENT_COLUMNS
                .iter()
                .map(|(_, code)| data.major_value(year, code, &major.name))
                .collect();
            if values.iter().all(Option::is_none) {
                continue;
            }
            let mut record = vec![major.name.clone(), year.to_string()];
            record.extend(
                values
                    .iter()
                    .map(|v| v.map(format_number).unwrap_or_default()),
            );
            students
                .write_record(&record)
                .map_err(|e| csv_write_error(dir, e))?;
        }
    }
    write(dir.join(STUDENTS_FILE), finish(students))?;

    for year in data.years() {
        let mut table = toml::Table::new();
        for (key, value) in data
            .facts
            .range(FactKey::school(year, "")..)
            .take_while(|(k, _)| k.year == year)
        {
            if key.major.is_some() {
                continue;
            }
            insert_path(&mut table, &key.element, toml_number(*value));
        }
        let notes: toml::Table = data
            .notes
            .iter()
            .filter(|(k, _)| k.year == year && k.major.is_none())
            .map(|(k, v)| (k.element.clone(), toml::Value::String(v.clone())))
            .collect();
        if !notes.is_empty() {
            table.insert(NOTES_TABLE.into(), toml::Value::Table(notes));
        }
        if table.is_empty() {
            continue;
        }
        let text =
            toml::to_string_pretty(&table).map_err(|e| ImportError::new(dir, e.to_string()))?;
        write(dir.join(YEARS_DIR).join(format!("{year}.toml")), text)?;
    }
    Ok(())
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::new())
}

fn finish(writer: csv::Writer<Vec<u8>>) -> String {
    // Writing into a Vec cannot fail, and every field written was a valid String.
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn csv_write_error(dir: &Path, e: csv::Error) -> ImportError {
    ImportError::new(dir, format!("无法写入 CSV：{e}"))
}

fn format_number(value: f64) -> String {
    format!("{value}")
}

fn toml_number(value: f64) -> toml::Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        toml::Value::Integer(value as i64)
    } else {
        toml::Value::Float(value)
    }
}

/// Inserts `value` at a dotted path, creating the tables on the way.
fn insert_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let child = table
                .entry(head.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(child) = child {
                insert_path(child, rest, value);
            }
        }
    }
}
