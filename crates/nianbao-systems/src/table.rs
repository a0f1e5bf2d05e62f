//! Lists of records as people keep them: a CSV file or one worksheet of an Excel workbook
//! with a header row and one record per row. Reading checks the headers, then each field
//! against what its column expects, and collects every problem with the file, sheet, row
//! and column as the user's spreadsheet shows them. Writing produces the same layout, so
//! an export can be edited and imported again.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::date::Day;

/// The most rows one file may hold.
pub const MAX_ROWS: usize = 200_000;
/// The largest file an import reads, in bytes.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// The most problems one refused import lists.
pub const MAX_ERRORS: usize = 50;
/// The longest text a cell may hold (a note, a record of a session).
pub const MAX_TEXT_CHARS: usize = 2000;
/// The longest name, title or code.
pub const MAX_NAME_CHARS: usize = 200;

/// Where a table was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file name as the user gave it.
    pub file: String,
    /// The worksheet, for a workbook.
    pub sheet: Option<String>,
    /// Header name → 0-based column.
    headers: Vec<(String, u32)>,
}

impl Source {
    fn column_label(&self, column: u32) -> String {
        match self.sheet {
            Some(_) => format!("{} 列", nianbao_xlsx::SheetRows::column_letters(column)),
            None => format!("第 {} 列", column + 1),
        }
    }

    fn column_of(&self, header: &str) -> Option<u32> {
        self.headers
            .iter()
            .find(|(name, _)| name == header)
            .map(|(_, column)| *column)
    }

    fn place(&self) -> String {
        match &self.sheet {
            Some(sheet) => format!("{}「{sheet}」工作表", self.file),
            None => self.file.clone(),
        }
    }
}

/// One problem of an import, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// "equipment.xlsx「设备」工作表" or "equipment.csv"; empty for a problem of the
    /// register as stored (a record the import would leave dangling).
    pub place: String,
    /// The row as the spreadsheet shows it (1-based); 0 for the file as a whole.
    pub row: u32,
    /// "D 列" or "第 4 列", with the header: "D 列（购置日期）"; empty for a whole row.
    pub column: String,
    pub message: String,
}

impl ImportError {
    /// A problem of the whole file (unreadable, wrong headers …).
    pub fn file(place: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError {
            place: place.into(),
            row: 0,
            column: String::new(),
            message: message.into(),
        }
    }

    /// A problem of the register as a whole, not of one row of the file.
    pub fn register(message: impl Into<String>) -> ImportError {
        ImportError::file("", message)
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.place.is_empty(), self.row, self.column.is_empty()) {
            (true, _, _) => write!(f, "{}", self.message),
            (false, 0, _) => write!(f, "{}：{}", self.place, self.message),
            (false, row, true) => write!(f, "{} 第 {row} 行：{}", self.place, self.message),
            (false, row, false) => write!(
                f,
                "{} 第 {row} 行 {}：{}",
                self.place, self.column, self.message
            ),
        }
    }
}

/// Every problem an import found (at most [`MAX_ERRORS`] listed). Nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportErrors {
    pub list: Vec<ImportError>,
    /// How many more problems there were beyond the list.
    pub more: usize,
}

impl ImportErrors {
    pub fn push(&mut self, error: ImportError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        } else {
            self.more += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len() + self.more
    }

    pub fn one(error: ImportError) -> ImportErrors {
        ImportErrors {
            list: vec![error],
            more: 0,
        }
    }

    /// `Ok(value)` when nothing was found wrong.
    pub fn or_ok<T>(self, value: T) -> Result<T, ImportErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "导入未完成，数据库未作任何修改。共 {} 处问题：",
            self.len()
        )?;
        for error in &self.list {
            write!(f, "\n  - {error}")?;
        }
        if self.more > 0 {
            write!(f, "\n  - ……另有 {} 处未列出", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// A cell's value as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Date(Day),
    Bool(bool),
    /// A spreadsheet error such as `#N/A`, or a date cell outside the calendar.
    Invalid(String),
}

impl Value {
    /// The value as the user sees it, for messages.
    fn shown(&self) -> String {
        match self {
            Value::Text(text) => quote(text),
            Value::Number(n) => number_text(*n),
            Value::Date(day) => day.to_string(),
            Value::Bool(b) => if *b { "是" } else { "否" }.to_string(),
            Value::Invalid(text) => text.clone(),
        }
    }
}

/// A number as a message shows it: whole numbers without a fraction, others as printed.
pub fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{}", nianbao_core::number::round_to(value, 6))
    }
}

/// A piece of user text short enough to quote in a message.
fn quote(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() > 30 {
        format!("{}…", text.chars().take(30).collect::<String>())
    } else {
        text.to_string()
    }
}

/// One data row: its number as the spreadsheet shows it, and its non-empty cells by column.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: u32,
    cells: BTreeMap<u32, Value>,
}

/// A list of records read from a file, headers checked.
#[derive(Debug, Clone)]
pub struct Table {
    pub source: Arc<Source>,
    pub rows: Vec<Row>,
}

/// The headers a kind of record has: some must be present, others may be.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Columns {
    /// Every header, required first.
    pub fn all(&self) -> Vec<&'static str> {
        self.required.iter().chain(self.optional).copied().collect()
    }
}

/// Where one record of an import came from, for messages about it.
#[derive(Debug, Clone)]
pub struct At {
    source: Arc<Source>,
    row: u32,
}

impl At {
    /// A problem of this record in the column with that header.
    pub fn error(&self, header: &str, message: impl Into<String>) -> ImportError {
        let column = match self.source.column_of(header) {
            Some(column) => format!("{}（{header}）", self.source.column_label(column)),
            // The file has no such column (an optional one left out).
            None => format!("「{header}」"),
        };
        ImportError {
            place: self.source.place(),
            row: self.row,
            column,
            message: message.into(),
        }
    }

    /// A problem of the record as a whole.
    pub fn row_error(&self, message: impl Into<String>) -> ImportError {
        ImportError {
            place: self.source.place(),
            row: self.row,
            column: String::new(),
            message: message.into(),
        }
    }
}

/// A record read from an import, with where it came from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub at: At,
    pub record: T,
}

/// Reads a CSV (UTF-8) or Excel (`.xlsx`) file by its name's extension. For a workbook,
/// the sheet named `sheet` is read (or the first one). `limits` bounds a workbook; a CSV
/// file is bounded by [`MAX_FILE_BYTES`].
pub fn read_file(
    name: &str,
    bytes: &[u8],
    sheet: &str,
    columns: &Columns,
    limits: &nianbao_xlsx::Limits,
) -> Result<Table, ImportErrors> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        read_csv(name, bytes, columns)
    } else if lower.ends_with(".xlsx") {
        read_xlsx(name, bytes, sheet, columns, limits)
    } else {
        Err(ImportErrors::one(ImportError::file(
            name,
            "只能导入 .csv（UTF-8 编码）或 .xlsx 文件",
        )))
    }
}

/// A cell that a spreadsheet would run as a formula, written with a leading `'` in CSV
/// exports; the `'` is dropped again on import.
fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@'])
}

fn read_csv(name: &str, bytes: &[u8], columns: &Columns) -> Result<Table, ImportErrors> {
    let refuse = |message: String| Err(ImportErrors::one(ImportError::file(name, message)));
    if bytes.len() > MAX_FILE_BYTES {
        return refuse(format!(
            "文件过大（超过 {} MB）：请分成几个文件导入",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return refuse(
            "文件不是 UTF-8 编码：请在 Excel 或 WPS 中另存为「CSV UTF-8（逗号分隔）」后导入".into(),
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut header: Option<(u32, Vec<String>)> = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as u32);
                return Err(ImportErrors::one(ImportError {
                    place: name.to_string(),
                    row: line,
                    column: String::new(),
                    message: format!("无法按 CSV 格式读取（{e}）"),
                }));
            }
        };
        let line = record.position().map_or(0, |p| p.line() as u32);
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if header.is_none() {
            header = Some((line, record.iter().map(|h| h.trim().to_string()).collect()));
            continue;
        }
        if rows.len() >= MAX_ROWS {
            return refuse(format!("超过 {MAX_ROWS} 行：请分成几个文件导入"));
        }
        let cells = record
            .iter()
            .enumerate()
            .filter(|(_, field)| !field.trim().is_empty())
            .map(|(column, field)| {
                let field = match field.strip_prefix('\'') {
                    Some(rest) if formula_like(rest) => rest,
                    _ => field,
                };
                (column as u32, Value::Text(field.to_string()))
            })
            .collect();
        rows.push(Row {
            number: line,
            cells,
        });
    }
    let Some((header_line, names)) = header else {
        return refuse(format!(
            "文件是空的：第一行应为表头（{}）",
            columns.all().join("、")
        ));
    };
    let source = check_headers(name, None, header_line, &names, columns)?;
    let source = Arc::new(source);
    let width = names.len() as u32;
    let mut errors = ImportErrors::default();
    for row in &rows {
        if let Some((column, value)) = row.cells.range(width..).next() {
            errors.push(ImportError {
                place: source.place(),
                row: row.number,
                column: source.column_label(*column),
                message: format!("表头之外还有内容「{}」：请删除多余的列", value.shown()),
            });
        }
    }
    errors.or_ok(Table { source, rows })
}

fn read_xlsx(
    name: &str,
    bytes: &[u8],
    sheet: &str,
    columns: &Columns,
    limits: &nianbao_xlsx::Limits,
) -> Result<Table, ImportErrors> {
    let read = nianbao_xlsx::read_sheet_rows(bytes, sheet, limits)
        .map_err(|e| ImportErrors::one(ImportError::file(name, e.to_string())))?;
    let Some(&(header_row, _)) = read.cells.keys().next() else {
        return Err(ImportErrors::one(ImportError::file(
            format!("{name}「{}」工作表", read.sheet),
            format!(
                "工作表是空的：第一行应为表头（{}）",
                columns.all().join("、")
            ),
        )));
    };
    let mut names: Vec<String> = Vec::new();
    for ((_, column), value) in read.cells.range((header_row, 0)..=(header_row, u32::MAX)) {
        let column = *column as usize;
        if column > 200 {
            break;
        }
        if names.len() <= column {
            names.resize(column + 1, String::new());
        }
        names[column] = match value {
            nianbao_xlsx::SheetCell::Text(text) => text.trim().to_string(),
            nianbao_xlsx::SheetCell::Number(n) => number_text(*n),
            _ => String::new(),
        };
    }
    let source = Arc::new(check_headers(
        name,
        Some(read.sheet.clone()),
        header_row + 1,
        &names,
        columns,
    )?);
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = ImportErrors::default();
    for ((row, column), cell) in read.cells.range((header_row + 1, 0)..) {
        if rows.last().is_none_or(|r| r.number != row + 1) {
            if rows.len() >= MAX_ROWS {
                return Err(ImportErrors::one(ImportError::file(
                    source.place(),
                    format!("超过 {MAX_ROWS} 行：请分成几个文件导入"),
                )));
            }
            rows.push(Row {
                number: row + 1,
                cells: BTreeMap::new(),
            });
        }
        let value = match cell {
            nianbao_xlsx::SheetCell::Text(text) => Value::Text(text.clone()),
            nianbao_xlsx::SheetCell::Number(n) => Value::Number(*n),
            nianbao_xlsx::SheetCell::Bool(b) => Value::Bool(*b),
            nianbao_xlsx::SheetCell::Date(serial) => match Day::from_excel_serial(*serial) {
                Some(day) => Value::Date(day),
                None => Value::Invalid(format!("日期序号 {serial}")),
            },
            nianbao_xlsx::SheetCell::Error(e) => Value::Invalid(e.clone()),
        };
        let in_header = names.get(*column as usize).is_some_and(|h| !h.is_empty());
        if !in_header {
            errors.push(ImportError {
                place: source.place(),
                row: row + 1,
                column: source.column_label(*column),
                message: format!("表头之外还有内容「{}」：请删除多余的列", value.shown()),
            });
            continue;
        }
        if let Some(last) = rows.last_mut() {
            last.cells.insert(*column, value);
        }
    }
    errors.or_ok(Table { source, rows })
}

/// Matches the header row against the columns a kind of record has.
fn check_headers(
    file: &str,
    sheet: Option<String>,
    row: u32,
    names: &[String],
    columns: &Columns,
) -> Result<Source, ImportErrors> {
    let mut source = Source {
        file: file.to_string(),
        sheet,
        headers: Vec::new(),
    };
    let mut errors = ImportErrors::default();
    let known = columns.all();
    for (index, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        let column = index as u32;
        let error = |message: String| ImportError {
            place: source.place(),
            row,
            column: source.column_label(column),
            message,
        };
        if !known.contains(&name.as_str()) {
            errors.push(error(format!(
                "表头「{}」不是本表的列，应为：{}",
                quote(name),
                known.join("、")
            )));
        } else if source.column_of(name).is_some() {
            errors.push(error(format!("表头「{name}」重复")));
        } else {
            source.headers.push((name.clone(), column));
        }
    }
    for required in columns.required {
        if source.column_of(required).is_none() {
            errors.push(ImportError {
                place: source.place(),
                row,
                column: String::new(),
                message: format!("表头缺少「{required}」列"),
            });
        }
    }
    errors.or_ok(source)
}

impl Table {
    /// Reads every row with `read`, which takes the row's fields; returns the records, or
    /// every problem found in any row.
    pub fn records<T>(
        &self,
        mut read: impl FnMut(&mut Fields<'_>) -> Option<T>,
    ) -> Result<Vec<Located<T>>, ImportErrors> {
        let mut errors = ImportErrors::default();
        let mut out = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let before = errors.len();
            let mut fields = Fields {
                table: self,
                row,
                errors: &mut errors,
            };
            let record = read(&mut fields);
            if let (Some(record), true) = (record, errors.len() == before) {
                out.push(Located {
                    at: At {
                        source: self.source.clone(),
                        row: row.number,
                    },
                    record,
                });
            }
        }
        errors.or_ok(out)
    }
}

/// The fields of one row, read by header; each reader records a problem and returns `None`
/// when the cell does not hold what the column expects.
pub struct Fields<'a> {
    table: &'a Table,
    row: &'a Row,
    errors: &'a mut ImportErrors,
}

impl Fields<'_> {
    fn cell(&self, header: &str) -> Option<&Value> {
        let column = self.table.source.column_of(header)?;
        self.row.cells.get(&column)
    }

    /// Records a problem in the column with that header.
    pub fn error(&mut self, header: &str, message: impl Into<String>) {
        let at = At {
            source: self.table.source.clone(),
            row: self.row.number,
        };
        self.errors.push(at.error(header, message));
    }

    fn missing(&mut self, header: &str, required: bool) {
        if required {
            self.error(header, "不能为空");
        }
    }

    /// Text, trimmed; `None` when the cell is empty (a problem if `required`).
    pub fn text(&mut self, header: &str, max_chars: usize, required: bool) -> Option<String> {
        let text = match self.cell(header).cloned() {
            None => None,
            Some(Value::Text(text)) => Some(text.trim().to_string()),
            Some(Value::Number(n)) => Some(number_text(n)),
            Some(Value::Date(day)) => Some(day.to_string()),
            Some(Value::Bool(b)) => Some(if b { "是" } else { "否" }.to_string()),
            Some(Value::Invalid(e)) => {
                self.error(header, format!("单元格是错误值「{e}」"));
                return None;
            }
        };
        match text {
            Some(text) if text.is_empty() => {
                self.missing(header, required);
                None
            }
            Some(text) if text.chars().count() > max_chars => {
                self.error(header, format!("文字过长（超过 {max_chars} 个字）"));
                None
            }
            Some(text)
                if text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t') =>
            {
                self.error(header, "含有不可见的控制字符");
                None
            }
            Some(text) => Some(text),
            None => {
                self.missing(header, required);
                None
            }
        }
    }

    /// A number between `min` and `max`; `None` when empty (a problem if `required`).
    pub fn number(&mut self, header: &str, min: f64, max: f64, required: bool) -> Option<f64> {
        let value = match self.cell(header).cloned() {
            None => {
                self.missing(header, required);
                return None;
            }
            Some(Value::Number(n)) => Some(n),
            Some(Value::Text(text)) => parse_number(&text),
            Some(other) => {
                self.error(header, format!("应为数值，实际为「{}」", other.shown()));
                return None;
            }
        };
        let shown = self.cell(header).map(Value::shown).unwrap_or_default();
        match value {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.error(
                    header,
                    format!(
                        "应在 {} 到 {} 之间，实际为「{shown}」",
                        number_text(min),
                        number_text(max)
                    ),
                );
                None
            }
            None => {
                self.error(header, format!("应为数值，实际为「{shown}」"));
                None
            }
        }
    }

    /// A whole number between 0 and `max`.
    pub fn count(&mut self, header: &str, max: u32, required: bool) -> Option<u32> {
        let value = self.number(header, 0.0, f64::from(max), required)?;
        if value.fract() != 0.0 {
            self.error(
                header,
                format!("应为整数，实际为「{}」", number_text(value)),
            );
            return None;
        }
        Some(value as u32)
    }

    /// A calendar day.
    pub fn day(&mut self, header: &str, required: bool) -> Option<Day> {
        match self.cell(header).cloned() {
            None => {
                self.missing(header, required);
                None
            }
            Some(Value::Date(day)) => Some(day),
            Some(Value::Text(text)) => {
                let day = Day::parse(&text);
                if day.is_none() {
                    self.error(
                        header,
                        format!("应为日期（如 2025-03-01），实际为「{}」", quote(&text)),
                    );
                }
                day
            }
            Some(other) => {
                self.error(
                    header,
                    format!("应为日期（如 2025-03-01），实际为「{}」", other.shown()),
                );
                None
            }
        }
    }

    /// One of `options` (compared after trimming).
    pub fn choice(&mut self, header: &str, options: &[String], required: bool) -> Option<String> {
        let text = self.text(header, MAX_NAME_CHARS, required)?;
        if options.contains(&text) {
            Some(text)
        } else {
            self.error(
                header,
                format!(
                    "应为 {} 之一，实际为「{}」",
                    options.join("、"),
                    quote(&text)
                ),
            );
            None
        }
    }

    /// A list written in one cell, separated by 、，, ; or ；.
    pub fn list(&mut self, header: &str, max_items: usize) -> Vec<String> {
        let Some(text) = self.text(header, MAX_TEXT_CHARS, false) else {
            return Vec::new();
        };
        let items: Vec<String> = text
            .split(['、', '，', ',', ';', '；'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if items.len() > max_items {
            self.error(header, format!("最多列出 {max_items} 项"));
            return Vec::new();
        }
        items
    }
}

/// A number as people type it: thousands separators, full-width digits, spaces.
pub fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '\u{3000}'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' => '-',
            c => c,
        })
        .collect();
    if cleaned.is_empty()
        || !cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    cleaned.parse().ok()
}

/// One cell of a table to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Text(String),
    Number(f64),
    Empty,
}

impl From<&str> for Out {
    fn from(text: &str) -> Out {
        Out::Text(text.to_string())
    }
}

impl From<String> for Out {
    fn from(text: String) -> Out {
        Out::Text(text)
    }
}

impl From<Option<String>> for Out {
    fn from(text: Option<String>) -> Out {
        text.map_or(Out::Empty, Out::Text)
    }
}

impl From<f64> for Out {
    fn from(n: f64) -> Out {
        Out::Number(n)
    }
}

impl From<u32> for Out {
    fn from(n: u32) -> Out {
        Out::Number(f64::from(n))
    }
}

impl From<Option<f64>> for Out {
    fn from(n: Option<f64>) -> Out {
        n.map_or(Out::Empty, Out::Number)
    }
}

impl From<Option<u32>> for Out {
    fn from(n: Option<u32>) -> Out {
        n.map_or(Out::Empty, |n| Out::Number(f64::from(n)))
    }
}

impl From<Day> for Out {
    fn from(day: Day) -> Out {
        Out::Text(day.to_string())
    }
}

impl From<Option<Day>> for Out {
    fn from(day: Option<Day>) -> Out {
        day.map_or(Out::Empty, |d| Out::Text(d.to_string()))
    }
}

/// A list of records to write: one sheet, a header row, one row per record.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Out>>,
}

/// Why a table could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法生成文件：{0}")]
pub struct WriteError(String);

impl Sheet {
    pub fn new(name: &str, columns: &Columns) -> Sheet {
        Sheet {
            name: name.to_string(),
            headers: columns.all(),
            rows: Vec::new(),
        }
    }

    /// The sheet as a file of the kind its name ends with (`.csv` or `.xlsx`).
    pub fn write_as(&self, file_name: &str) -> Result<Vec<u8>, WriteError> {
        if file_name.to_ascii_lowercase().ends_with(".csv") {
            self.to_csv()
        } else if file_name.to_ascii_lowercase().ends_with(".xlsx") {
            self.to_xlsx()
        } else {
            Err(WriteError("只能导出为 .csv 或 .xlsx 文件".into()))
        }
    }

    /// UTF-8 CSV with a byte-order mark (so Excel reads the Chinese right).
    pub fn to_csv(&self) -> Result<Vec<u8>, WriteError> {
        let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        let error = |e: csv::Error| WriteError(e.to_string());
        writer.write_record(&self.headers).map_err(error)?;
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Out::Text(text) if formula_like(text) => format!("'{text}"),
                    Out::Text(text) => text.clone(),
                    Out::Number(n) => number_text(*n),
                    Out::Empty => String::new(),
                })
                .collect();
            writer.write_record(&fields).map_err(error)?;
        }
        writer
            .into_inner()
            .map_err(|e| WriteError(e.error().to_string()))
    }

    /// An Excel workbook with this one sheet; text cells are written as text.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, WriteError> {
        let error = |e: rust_xlsxwriter::XlsxError| WriteError(e.to_string());
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(&self.name).map_err(error)?;
        let bold = rust_xlsxwriter::Format::new()
            .set_bold()
            .set_background_color(rust_xlsxwriter::Color::RGB(0xEEF2F6));
        for (column, header) in self.headers.iter().enumerate() {
            let column = column as u16;
            sheet
                .write_string_with_format(0, column, *header, &bold)
                .map_err(error)?;
            let width = (header.chars().count() as f64 * 2.2).max(12.0);
            sheet.set_column_width(column, width).map_err(error)?;
        }
        for (index, row) in self.rows.iter().enumerate() {
            let excel_row = index as u32 + 1;
            for (column, cell) in row.iter().enumerate() {
                let column = column as u16;
                match cell {
                    Out::Text(text) => {
                        sheet.write_string(excel_row, column, text).map_err(error)?;
                    }
                    Out::Number(n) => {
                        sheet.write_number(excel_row, column, *n).map_err(error)?;
                    }
                    Out::Empty => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(error)?;
        book.save_to_buffer().map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: Columns = Columns {
        required: &["编号", "数量"],
        optional: &["日期", "备注"],
    };

    fn limits() -> nianbao_xlsx::Limits {
        nianbao_xlsx::Limits::default()
    }

    #[derive(Debug, PartialEq)]
    struct Item {
        code: String,
        count: u32,
        day: Option<Day>,
        note: Option<String>,
    }

    fn read(fields: &mut Fields<'_>) -> Option<Item> {
        // Every field is read before any is found missing, so one row reports all its problems.
        let code = fields.text("编号", MAX_NAME_CHARS, true);
        let count = fields.count("数量", 1000, true);
        let day = fields.day("日期", false);
        let note = fields.text("备注", MAX_TEXT_CHARS, false);
        Some(Item {
            code: code?,
            count: count?,
            day,
            note,
        })
    }

    #[test]
    fn csv_rows_are_read_by_header_with_errors_at_row_and_column() {
        let text = "\u{feff}编号,数量,日期\nA,3,2025-03-01\nB,3.5,2025-02-30\n,2,\n";
        let table = read_file("items.csv", text.as_bytes(), "", &COLUMNS, &limits()).unwrap();
        let errors = table.records(read).unwrap_err();
        let shown: Vec<String> = errors.list.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "items.csv 第 3 行 第 2 列（数量）：应为整数，实际为「3.5」",
                "items.csv 第 3 行 第 3 列（日期）：应为日期（如 2025-03-01），实际为「2025-02-30」",
                "items.csv 第 4 行 第 1 列（编号）：不能为空",
            ]
        );
        let good = "编号,数量\nA,3\n";
        let table = read_file("items.csv", good.as_bytes(), "", &COLUMNS, &limits()).unwrap();
        let items = table.records(read).unwrap();
        assert_eq!(items[0].record.code, "A");
        assert_eq!(items[0].at.row, 2);
    }

    #[test]
    fn headers_are_checked_before_any_row() {
        let text = "编号,数目\nA,3\n";
        let errors = read_file("items.csv", text.as_bytes(), "", &COLUMNS, &limits()).unwrap_err();
        let shown = errors.to_string();
        assert!(shown.contains("表头「数目」不是本表的列"), "{shown}");
        assert!(shown.contains("表头缺少「数量」列"), "{shown}");
        let gbk = b"\xb1\xe0\xba\xc5,\xca\xfd\xc1\xbf\n";
        let errors = read_file("items.csv", gbk, "", &COLUMNS, &limits()).unwrap_err();
        assert!(errors.to_string().contains("UTF-8"), "{errors}");
        let errors = read_file("items.txt", b"", "", &COLUMNS, &limits()).unwrap_err();
        assert!(errors.to_string().contains(".csv"), "{errors}");
    }

    #[test]
    fn sheets_round_trip_through_csv_and_xlsx() {
        let mut sheet = Sheet::new("物品", &COLUMNS);
        sheet.rows.push(vec![
            "=SUM(A1)".into(),
            3u32.into(),
            Day::new(2025, 3, 1).into(),
            "说明，含逗号".into(),
        ]);
        for file in ["items.csv", "items.xlsx"] {
            let bytes = sheet.write_as(file).unwrap();
            let table = read_file(file, &bytes, "物品", &COLUMNS, &limits()).unwrap();
            let items = table.records(read).unwrap();
            assert_eq!(
                items[0].record,
                Item {
                    code: "=SUM(A1)".into(),
                    count: 3,
                    day: Day::new(2025, 3, 1),
                    note: Some("说明，含逗号".into()),
                },
                "{file}"
            );
        }
        let csv = String::from_utf8(sheet.to_csv().unwrap()).unwrap();
        assert!(
            csv.contains("'=SUM(A1)"),
            "formulas are defused in CSV: {csv}"
        );
    }

    #[test]
    fn xlsx_errors_name_the_sheet_and_column_letter() {
        let mut sheet = Sheet::new("物品", &COLUMNS);
        sheet.rows.push(vec!["A".into(), "三".into()]);
        let bytes = sheet.to_xlsx().unwrap();
        let table = read_file("items.xlsx", &bytes, "物品", &COLUMNS, &limits()).unwrap();
        let errors = table.records(read).unwrap_err();
        assert_eq!(
            errors.list[0].to_string(),
            "items.xlsx「物品」工作表 第 2 行 B 列（数量）：应为数值，实际为「三」"
        );
    }

    #[test]
    fn numbers_are_read_as_people_type_them() {
        assert_eq!(parse_number(" １，２３４．５ "), Some(1234.5));
        assert_eq!(parse_number("12人"), None);
        assert_eq!(parse_number(""), None);
    }
}
