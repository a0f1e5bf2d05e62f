//! Reading a filled-in template or workbook back: locating the sheets and headers, matching
//! rows to elements, majors and years, checking every value against its element's kind, and
//! reading the hidden sheet of the values the file was made from.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{DataRef, Reader, Xlsx};
use nianbao_core::{Definitions, Element, FactKey, ValueKind, Year};

use crate::base::{BASE_SHEET, Base, parse_base};
use crate::error::{CellError, ScopeError, UploadError};
use crate::guard::checked_archive;
use crate::layout::{
    HEADER_ROW, HEADER_SEARCH_ROWS, MAJOR_LABELS, MAJOR_SHEET_SUFFIX, Plan, SCHOOL_CODE_COLUMN,
    SCHOOL_LABELS, column_name, element_header, expected, year_header,
};
use crate::{CellValue, Limits, MAX_CELL_ERRORS, TemplateScope, Upload, WorkbookScope};

/// The most non-empty cells one sheet may hold; a template has a few hundred.
const MAX_CELLS: usize = 100_000;
/// The longest piece of a cell's text quoted back in a message.
const MAX_QUOTED_CHARS: usize = 40;

/// How strictly the sheets of a file are matched to its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One section's template: its sheets must be there; other sheets are not looked at.
    Template,
    /// A whole year's workbook: a section whose sheets are missing yields nothing, but a
    /// sheet of a section (or part of one) outside the scope is refused rather than ignored.
    Workbook,
}

/// Reads a filled-in template of `scope`'s section. Returns one value for every input cell of
/// every row present (blank cells as `None`) and the values the file was made from, or every
/// problem found (up to [`MAX_CELL_ERRORS`]). Rows missing from the upload yield nothing.
pub fn read_upload(
    bytes: &[u8],
    defs: &Definitions,
    scope: &TemplateScope,
    limits: &Limits,
) -> Result<Upload, UploadError> {
    let workbook = WorkbookScope::from(scope);
    let plan = Plan::new(defs, &workbook.sections[0], &workbook.years)?;
    read(bytes, defs, vec![plan], limits, Mode::Template)
}

/// Reads a filled-in workbook of many sections, as [`write_workbook`](crate::write_workbook)
/// writes it. Sections whose sheets were deleted yield nothing; a sheet of a section the scope
/// does not cover is refused.
pub fn read_workbook(
    bytes: &[u8],
    defs: &Definitions,
    scope: &WorkbookScope,
    limits: &Limits,
) -> Result<Upload, UploadError> {
    let mut plans = Vec::new();
    for section in &scope.sections {
        match Plan::new(defs, section, &scope.years) {
            Ok(plan) => plans.push(plan),
            Err(ScopeError::NothingToFill(_)) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    if plans.is_empty() {
        return Err(ScopeError::EmptyWorkbook.into());
    }
    read(bytes, defs, plans, limits, Mode::Workbook)
}

/// Only the values a file was made from (school, years and base values), or `None` when it
/// has no base sheet: what a caller needs to know which years to read it for.
pub fn read_base(bytes: &[u8], limits: &Limits) -> Result<Option<Base>, UploadError> {
    let archive = checked_archive(bytes, limits)?;
    catch_unwind(AssertUnwindSafe(|| {
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(&archive[..])).map_err(damaged)?;
        if !book.sheet_names().iter().any(|n| n == BASE_SHEET) {
            return Ok(None);
        }
        let sheet = read_sheet(&mut book, BASE_SHEET)?;
        parse_base(&sheet).map(Some)
    }))
    .map_err(|_| UploadError::Damaged("工作簿内容无法解析".into()))?
}

/// The sheets found for one plan.
struct Found {
    school: Option<Sheet>,
    major: Option<Sheet>,
}

fn read(
    bytes: &[u8],
    defs: &Definitions,
    plans: Vec<Plan>,
    limits: &Limits,
    mode: Mode,
) -> Result<Upload, UploadError> {
    let archive = checked_archive(bytes, limits)?;
    // The archive is bounded by now; a parser panic on hostile content is still a refusal,
    // not a crash of the caller.
    let (found, base) = catch_unwind(AssertUnwindSafe(|| load(&archive, defs, &plans, mode)))
        .map_err(|_| UploadError::Damaged("工作簿内容无法解析".into()))??;
    let base = base.as_ref().map(parse_base).transpose()?;
    if let (Some(base), Some(plan)) = (&base, plans.first())
        && base.years != plan.years
    {
        let list = |years: &[Year]| {
            years
                .iter()
                .map(Year::to_string)
                .collect::<Vec<_>>()
                .join("、")
        };
        return Err(UploadError::OtherYears {
            made: list(&base.years),
            expected: list(&plan.years),
        });
    }
    let mut cells = Vec::new();
    let mut errors = Errors::default();
    for (plan, sheets) in plans.iter().zip(&found) {
        if let Some(sheet) = &sheets.school {
            read_school_sheet(sheet, plan, &mut cells, &mut errors);
        }
        if let Some(sheet) = &sheets.major {
            read_major_sheet(sheet, plan, &mut cells, &mut errors);
        }
    }
    if errors.list.is_empty() {
        Ok(Upload { cells, base })
    } else {
        Err(UploadError::Cells(errors.list))
    }
}

/// A cell's content as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
    /// A date, time or duration (the cell has a date or time format).
    Date,
    /// An error value such as `#DIV/0!`.
    Error(String),
    Empty,
}

#[derive(Debug, Clone)]
pub(crate) struct Cell {
    pub(crate) value: Value,
    /// Whether the cell holds a formula (its value is then the cached result, if any).
    formula: bool,
    /// Whether the cell's number format shows it as a percentage (0.85 shown as 85%).
    percent: bool,
}

impl Cell {
    fn is_blank(&self) -> bool {
        match &self.value {
            Value::Empty => !self.formula,
            Value::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }
}

/// The non-empty cells of one sheet, by 0-based (row, column).
pub(crate) struct Sheet {
    pub(crate) name: String,
    cells: BTreeMap<(u32, u32), Cell>,
}

impl Sheet {
    pub(crate) fn get(&self, row: u32, col: u32) -> Option<&Cell> {
        self.cells.get(&(row, col))
    }

    /// The cells of one row, left to right.
    pub(crate) fn row(&self, row: u32) -> impl Iterator<Item = (u32, &Cell)> {
        self.cells
            .range((row, 0)..=(row, u32::MAX))
            .map(|((_, col), cell)| (*col, cell))
    }

    /// Every row that has a cell.
    pub(crate) fn rows(&self) -> Vec<u32> {
        let mut rows: Vec<u32> = self.cells.keys().map(|(r, _)| *r).collect();
        rows.dedup();
        rows
    }

    /// Every row below `row` that has a cell.
    pub(crate) fn rows_below(&self, row: u32) -> Vec<u32> {
        let mut rows: Vec<u32> = self
            .cells
            .range((row.saturating_add(1), 0)..)
            .map(|((r, _), _)| *r)
            .collect();
        rows.dedup();
        rows
    }

    /// A label cell's text, trimmed; numbers as Excel shows them; "" when empty.
    pub(crate) fn label(&self, row: u32, col: u32) -> String {
        match self.get(row, col).map(|c| &c.value) {
            Some(Value::Text(text)) => text.trim().to_string(),
            Some(Value::Number(n)) => number_text(*n),
            Some(Value::Bool(b)) => bool_text(*b).to_string(),
            Some(Value::Error(e)) => e.clone(),
            _ => String::new(),
        }
    }

    /// The header row: the first of the top rows whose leading cells are `labels`.
    fn find_header(&self, labels: &[&str]) -> Option<u32> {
        (0..HEADER_SEARCH_ROWS).find(|row| {
            labels
                .iter()
                .enumerate()
                .all(|(col, label)| self.label(*row, col as u32) == *label)
        })
    }
}

/// Cell errors, collected up to [`MAX_CELL_ERRORS`].
#[derive(Default)]
struct Errors {
    list: Vec<CellError>,
}

impl Errors {
    /// Records a problem at a 0-based row and column.
    fn add(&mut self, sheet: &Sheet, row: u32, col: u32, message: impl Into<String>) {
        if self.list.len() < MAX_CELL_ERRORS {
            self.list.push(CellError {
                sheet: sheet.name.clone(),
                row: row.saturating_add(1),
                column: column_name(col),
                message: message.into(),
            });
        }
    }

    fn len(&self) -> usize {
        self.list.len()
    }
}

/// A spreadsheet reader error, as a Chinese reason with the technical detail kept for support.
fn damaged(error: impl std::fmt::Display) -> UploadError {
    UploadError::Damaged(format!("工作簿内容无法解析（技术信息：{error}）"))
}

/// Opens the (already checked) archive and reads the sheets the plans expect, and the base
/// sheet if there is one.
fn load(
    archive: &[u8],
    defs: &Definitions,
    plans: &[Plan],
    mode: Mode,
) -> Result<(Vec<Found>, Option<Sheet>), UploadError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(archive)).map_err(damaged)?;
    let names = book.sheet_names();
    let mut used: Vec<String> = Vec::new();
    let mut pick = |found: Result<String, UploadError>| -> Result<Option<String>, UploadError> {
        match (found, mode) {
            (Ok(name), _) => {
                used.push(name.clone());
                Ok(Some(name))
            }
            (Err(UploadError::MissingSheet { .. }), Mode::Workbook) => Ok(None),
            (Err(other), _) => Err(other),
        }
    };
    let mut chosen = Vec::new();
    for plan in plans {
        let prefix = plan.sheet_prefix();
        let major_name = plan.major_sheet_name();
        let school = if plan.has_school_sheet() {
            pick(find_sheet(
                &names,
                &plan.school_sheet_name(),
                &prefix,
                |n| n != major_name && !n.contains(MAJOR_SHEET_SUFFIX),
            ))?
        } else {
            None
        };
        let major = if plan.has_major_sheet() {
            pick(find_sheet(&names, &major_name, &prefix, |n| {
                n.contains(MAJOR_SHEET_SUFFIX)
            }))?
        } else {
            None
        };
        chosen.push((school, major));
    }
    if mode == Mode::Workbook {
        if used.is_empty() {
            return Err(UploadError::NoSheets);
        }
        let sections: Vec<String> = defs
            .sections
            .iter()
            .filter(|s| defs.elements.iter().any(|e| e.section == s.number))
            .map(|s| format!("{} ", s.number))
            .collect();
        if let Some(other) = names.iter().find(|name| {
            !used.contains(name) && sections.iter().any(|prefix| name.starts_with(prefix))
        }) {
            return Err(UploadError::OutOfScope {
                sheet: other.clone(),
            });
        }
    }
    let mut found = Vec::new();
    for (school, major) in chosen {
        found.push(Found {
            school: school.map(|n| read_sheet(&mut book, &n)).transpose()?,
            major: major.map(|n| read_sheet(&mut book, &n)).transpose()?,
        });
    }
    let base = if names.iter().any(|n| n == BASE_SHEET) {
        Some(read_sheet(&mut book, BASE_SHEET)?)
    } else {
        None
    };
    Ok((found, base))
}

/// The sheet named `exact`, or else the one sheet whose name starts with the section number.
fn find_sheet(
    names: &[String],
    exact: &str,
    prefix: &str,
    fits: impl Fn(&str) -> bool,
) -> Result<String, UploadError> {
    if names.iter().any(|n| n == exact) {
        return Ok(exact.to_string());
    }
    let candidates: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with(prefix) && fits(n))
        .collect();
    match candidates.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(UploadError::MissingSheet {
            expected: exact.to_string(),
        }),
        many => Err(UploadError::AmbiguousSheet {
            prefix: prefix.trim_end().to_string(),
            names: many
                .iter()
                .map(|n| format!("「{n}」"))
                .collect::<Vec<_>>()
                .join("、"),
        }),
    }
}

/// Reads a sheet cell by cell (never as a dense grid, whose size a file could inflate at will).
fn read_sheet<RS: std::io::Read + std::io::Seek>(
    book: &mut Xlsx<RS>,
    name: &str,
) -> Result<Sheet, UploadError> {
    let mut cells = BTreeMap::new();
    let mut reader = book.worksheet_cells_reader(name).map_err(damaged)?;
    while let Some(record) = reader.next_cell_with_formula_metadata().map_err(damaged)? {
        let value = convert(&record.value);
        let formula = record.formula.is_some();
        if value == Value::Empty && !formula {
            continue;
        }
        if cells.len() >= MAX_CELLS {
            return Err(UploadError::TooManyCells {
                sheet: name.to_string(),
                max: MAX_CELLS,
            });
        }
        cells.insert(
            record.pos,
            Cell {
                value,
                formula,
                percent: false,
            },
        );
    }
    drop(reader);

    // A second pass for the number formats of numeric cells.
    let mut reader = book.worksheet_cells_reader(name).map_err(damaged)?;
    let mut styled = Vec::new();
    while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(damaged)? {
        let pos = cell.get_position();
        if style != 0
            && matches!(
                cells.get(&pos),
                Some(Cell {
                    value: Value::Number(_),
                    ..
                })
            )
        {
            styled.push((pos, style));
        }
    }
    let styles = reader.styles();
    for (pos, style) in styled {
        let percent = styles
            .get(style)
            .and_then(|s| s.number_format.as_ref())
            .is_some_and(|f| is_percent_format(&f.format_code));
        if let (true, Some(cell)) = (percent, cells.get_mut(&pos)) {
            cell.percent = true;
        }
    }
    Ok(Sheet {
        name: name.to_string(),
        cells,
    })
}

fn convert(value: &DataRef) -> Value {
    match value {
        DataRef::Int(n) => Value::Number(*n as f64),
        DataRef::Float(n) => Value::Number(*n),
        DataRef::String(s) => Value::Text(s.clone()),
        DataRef::SharedString(s) => Value::Text(s.to_string()),
        DataRef::Bool(b) => Value::Bool(*b),
        DataRef::DateTime(_) | DataRef::DateTimeIso(_) | DataRef::DurationIso(_) => Value::Date,
        DataRef::Error(e) => Value::Error(e.to_string()),
        DataRef::Empty => Value::Empty,
    }
}

/// Whether an Excel number format shows values as percentages: a `%` outside quoted text,
/// escapes and bracketed sections.
fn is_percent_format(code: &str) -> bool {
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                }
            }
            '[' => {
                for q in chars.by_ref() {
                    if q == ']' {
                        break;
                    }
                }
            }
            '\\' | '_' | '*' => {
                chars.next();
            }
            '%' => return true,
            _ => {}
        }
    }
    false
}

fn read_school_sheet(sheet: &Sheet, plan: &Plan, out: &mut Vec<CellValue>, errors: &mut Errors) {
    let Some(header) = sheet.find_header(&SCHOOL_LABELS[..2]) else {
        errors.add(
            sheet,
            HEADER_ROW,
            0,
            "找不到表头（应以「项目」「代码」「单位」开头，其后为各年份列）：请使用本系统下载的模板，不要修改表头",
        );
        return;
    };
    let before = errors.len();
    check_labels(sheet, header, &SCHOOL_LABELS, errors);
    let first = SCHOOL_LABELS.len() as u32;
    let years = year_columns(sheet, header, first, plan, errors);
    if errors.len() > before {
        return;
    }
    let elements: HashMap<&str, &Element> =
        plan.school.iter().map(|e| (e.code.as_str(), *e)).collect();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in sheet.rows_below(header) {
        check_outside(sheet, row, first, &years, errors);
        if !has_content(sheet, row, first, &years) {
            continue;
        }
        let code = sheet.label(row, SCHOOL_CODE_COLUMN);
        let element = if code.is_empty() {
            errors.add(
                sheet,
                row,
                SCHOOL_CODE_COLUMN,
                "这一行填写了内容，但没有数据项代码：请不要在模板中增加行或删除代码",
            );
            None
        } else if let Some(element) = elements.get(code.as_str()) {
            if let Some(first_row) = seen.insert(code.clone(), row) {
                errors.add(
                    sheet,
                    row,
                    SCHOOL_CODE_COLUMN,
                    format!("代码「{code}」与第 {} 行重复", first_row + 1),
                );
                None
            } else {
                Some(*element)
            }
        } else {
            errors.add(
                sheet,
                row,
                SCHOOL_CODE_COLUMN,
                format!(
                    "代码「{}」不是「{} {}」的数据项：请不要修改代码",
                    quoted(&code),
                    plan.number,
                    plan.title
                ),
            );
            None
        };
        if let Some(element) = element {
            for (col, year) in &years {
                match parse_value(sheet.get(row, *col), element) {
                    Ok(value) => out.push(CellValue {
                        key: FactKey::school(*year, element.code.clone()),
                        value,
                        sheet: sheet.name.clone(),
                        cell: cell_name(row, *col),
                    }),
                    Err(message) => errors.add(sheet, row, *col, message),
                }
            }
        }
    }
}

fn read_major_sheet(sheet: &Sheet, plan: &Plan, out: &mut Vec<CellValue>, errors: &mut Errors) {
    let Some(header) = sheet.find_header(&MAJOR_LABELS) else {
        errors.add(
            sheet,
            HEADER_ROW,
            0,
            "找不到表头（应以「专业名称」「年份」开头，其后为各数据项列）：请使用本系统下载的模板，不要修改表头",
        );
        return;
    };
    let before = errors.len();
    let first = MAJOR_LABELS.len() as u32;
    let columns = element_columns(sheet, header, first, plan, errors);
    if errors.len() > before {
        return;
    }
    let years: Vec<String> = plan.years.iter().map(|y| y.to_string()).collect();
    let years = years.join("、");
    let mut seen: HashMap<(String, Year), u32> = HashMap::new();
    for row in sheet.rows_below(header) {
        check_outside(sheet, row, first, &columns, errors);
        if !has_content(sheet, row, first, &columns) {
            continue;
        }
        let name = sheet.label(row, 0);
        let major = if name.is_empty() {
            errors.add(
                sheet,
                row,
                0,
                "这一行填写了内容，但没有专业名称：请不要在模板中增加行",
            );
            None
        } else if let Some(major) = plan.majors.iter().find(|m| m.name == name) {
            Some(*major)
        } else {
            errors.add(
                sheet,
                row,
                0,
                format!(
                    "专业「{}」不在本模板的填报范围内：只能填报模板中列出的专业，请不要增加行或修改专业名称",
                    quoted(&name)
                ),
            );
            None
        };
        let year_text = sheet.label(row, 1);
        let year = parse_year(&year_text).filter(|y| plan.years.contains(y));
        if year.is_none() {
            errors.add(
                sheet,
                row,
                1,
                format!("年份应为 {years} 之一，实际为「{}」", quoted(&year_text)),
            );
        }
        if let (Some(major), Some(year)) = (major, year) {
            if let Some(first_row) = seen.insert((major.name.clone(), year), row) {
                errors.add(
                    sheet,
                    row,
                    0,
                    format!(
                        "「{}」{year}年的数据与第 {} 行重复",
                        major.name,
                        first_row + 1
                    ),
                );
            } else {
                for (col, element) in &columns {
                    match parse_value(sheet.get(row, *col), element) {
                        Ok(value) => out.push(CellValue {
                            key: FactKey::major(year, element.code.clone(), major.name.clone()),
                            value,
                            sheet: sheet.name.clone(),
                            cell: cell_name(row, *col),
                        }),
                        Err(message) => errors.add(sheet, row, *col, message),
                    }
                }
            }
        }
    }
}

/// A cell as Excel names it from its 0-based row and column: "D7".
fn cell_name(row: u32, col: u32) -> String {
    format!("{}{}", column_name(col), row.saturating_add(1))
}

/// Whether a row has anything in its label or input columns.
fn has_content<T>(sheet: &Sheet, row: u32, first: u32, inputs: &BTreeMap<u32, T>) -> bool {
    sheet
        .row(row)
        .any(|(col, cell)| (col < first || inputs.contains_key(&col)) && !cell.is_blank())
}

/// Checks the fixed label headers of a sheet.
fn check_labels(sheet: &Sheet, header: u32, labels: &[&str], errors: &mut Errors) {
    for (col, label) in labels.iter().enumerate() {
        let found = sheet.label(header, col as u32);
        if found != *label {
            errors.add(
                sheet,
                header,
                col as u32,
                format!("表头应为「{label}」，实际为「{}」", quoted(&found)),
            );
        }
    }
}

/// The year columns of the school-level sheet, each identified by its header ("2025年").
fn year_columns(
    sheet: &Sheet,
    header: u32,
    first: u32,
    plan: &Plan,
    errors: &mut Errors,
) -> BTreeMap<u32, Year> {
    let allowed = plan
        .years
        .iter()
        .map(|y| format!("「{}」", year_header(*y)))
        .collect::<Vec<_>>()
        .join("、");
    let mut columns: BTreeMap<u32, Year> = BTreeMap::new();
    for (col, _) in sheet.row(header).filter(|(col, _)| *col >= first) {
        let text = sheet.label(header, col);
        if text.is_empty() {
            continue;
        }
        match parse_year(&text) {
            Some(year) if plan.years.contains(&year) => {
                if let Some((other, _)) = columns.iter().find(|(_, y)| **y == year) {
                    errors.add(
                        sheet,
                        header,
                        col,
                        format!("「{text}」列与 {} 列重复", column_name(*other)),
                    );
                } else {
                    columns.insert(col, year);
                }
            }
            Some(_) => errors.add(
                sheet,
                header,
                col,
                format!("年份「{text}」不在本模板的填报范围内（应为 {allowed}）"),
            ),
            None => errors.add(
                sheet,
                header,
                col,
                format!("表头应为年份（{allowed}），实际为「{}」", quoted(&text)),
            ),
        }
    }
    for (i, year) in plan.years.iter().enumerate() {
        if !columns.values().any(|y| y == year) {
            errors.add(
                sheet,
                header,
                first + i as u32,
                format!("缺少「{}」列：请不要删除模板中的列", year_header(*year)),
            );
        }
    }
    columns
}

/// The element columns of the per-major sheet, each identified by its header ("招生人数（人）").
fn element_columns<'a>(
    sheet: &Sheet,
    header: u32,
    first: u32,
    plan: &Plan<'a>,
    errors: &mut Errors,
) -> BTreeMap<u32, &'a Element> {
    let mut columns: BTreeMap<u32, &Element> = BTreeMap::new();
    for (col, _) in sheet.row(header).filter(|(col, _)| *col >= first) {
        let text = sheet.label(header, col);
        if text.is_empty() {
            continue;
        }
        let element = plan
            .major
            .iter()
            .find(|e| element_header(e) == text || e.name == text || e.code == text);
        match element {
            Some(element) => {
                if let Some((other, _)) = columns.iter().find(|(_, e)| e.code == element.code) {
                    errors.add(
                        sheet,
                        header,
                        col,
                        format!("「{text}」列与 {} 列重复", column_name(*other)),
                    );
                } else {
                    columns.insert(col, element);
                }
            }
            None => errors.add(
                sheet,
                header,
                col,
                format!(
                    "表头「{}」不是本部分的分专业数据项：请不要修改表头",
                    quoted(&text)
                ),
            ),
        }
    }
    for (i, element) in plan.major.iter().enumerate() {
        if !columns.values().any(|e| e.code == element.code) {
            errors.add(
                sheet,
                header,
                first + i as u32,
                format!(
                    "缺少「{}」列：请不要删除模板中的列",
                    element_header(element)
                ),
            );
        }
    }
    columns
}

/// Flags content in a row's columns that are neither labels nor input columns.
fn check_outside<T>(
    sheet: &Sheet,
    row: u32,
    first: u32,
    inputs: &BTreeMap<u32, T>,
    errors: &mut Errors,
) {
    for (col, cell) in sheet.row(row) {
        if col >= first && !inputs.contains_key(&col) && !cell.is_blank() {
            errors.add(
                sheet,
                row,
                col,
                "此处不在模板的填写范围内（该列没有表头）：请删除这里的内容",
            );
        }
    }
}

/// A year as written in a header or a year cell: "2025", "2025年", "2025年度".
fn parse_year(text: &str) -> Option<Year> {
    let digits = text
        .trim()
        .trim_end_matches('度')
        .trim_end_matches('年')
        .trim();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 4 {
        return None;
    }
    Year::new(digits.parse().ok()?).ok()
}

/// The value of one input cell, checked against its element's kind.
fn parse_value(cell: Option<&Cell>, element: &Element) -> Result<Option<f64>, String> {
    let kind = element.kind;
    let wanted = expected(kind);
    let Some(cell) = cell else {
        return Ok(None);
    };
    let check = |value: f64, found: &str| match element.accepts(value) {
        Ok(()) => Ok(Some(value)),
        Err(_) if kind.accepts(value).is_err() => Err(format!("应为{wanted}，实际为「{found}」")),
        Err(bounded) => Err(format!("应为{bounded}，实际为「{found}」")),
    };
    match &cell.value {
        Value::Empty if cell.formula => Err(format!(
            "这里是公式，但文件中没有它的计算结果：请直接填写{wanted}，或在 Excel/WPS 中打开并保存后再上传"
        )),
        Value::Empty => Ok(None),
        Value::Number(n) if cell.percent => match kind {
            ValueKind::Percent | ValueKind::Change => {
                // Shown as "85%" and stored as 0.85: take what the person sees.
                let shown = (n * 100.0 * 1e9).round() / 1e9;
                check(shown, &number_text(shown))
            }
            _ => Err(format!(
                "应为{wanted}，实际为百分比「{}%」：请把单元格格式改为「常规」后重新填写",
                number_text(n * 100.0)
            )),
        },
        Value::Number(n) => check(*n, &number_text(*n)),
        Value::Text(text) => {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            match parse_number_text(text) {
                Some(n) => check(n, text),
                None => Err(format!(
                    "应为{wanted}，实际为「{}」（只填写数字，不要带单位或文字）",
                    quoted(text)
                )),
            }
        }
        Value::Bool(b) => Err(format!("应为{wanted}，实际为逻辑值「{}」", bool_text(*b))),
        Value::Date => Err(format!(
            "应为{wanted}，实际为日期或时间：请把单元格格式改为「常规」后重新填写"
        )),
        Value::Error(e) => Err(format!("应为{wanted}，实际为错误值「{e}」")),
    }
}

/// A number typed as text: "12", " 12.5 ", "1,234", full-width "１２"; nothing with units,
/// words, or forms like "inf" and "NaN".
fn parse_number_text(text: &str) -> Option<f64> {
    let normalised: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' => '-',
            '＋' => '+',
            '，' => ',',
            _ => c,
        })
        .collect();
    let plain = without_thousands_separators(&normalised)?;
    let allowed = plain
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    let starts_well =
        plain.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    if !allowed || !starts_well {
        return None;
    }
    plain.parse().ok()
}

/// "1,234,567.5" → "1234567.5"; `None` when commas are not thousands separators.
fn without_thousands_separators(text: &str) -> Option<String> {
    if !text.contains(',') {
        return Some(text.to_string());
    }
    let (integer, fraction) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let unsigned = integer.trim_start_matches(['-', '+']);
    let groups: Vec<&str> = unsigned.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    let all_digits = groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()));
    if !(first_ok && rest_ok && all_digits) || fraction.is_some_and(|f| f.contains(',')) {
        return None;
    }
    Some(text.replace(',', ""))
}

/// A number as a person would write it: 12, 12.5, -3.25.
fn number_text(n: f64) -> String {
    format!("{n}")
}

fn bool_text(b: bool) -> &'static str {
    if b { "TRUE" } else { "FALSE" }
}

/// Text quoted back in a message, cut short when long.
fn quoted(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED_CHARS {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX_QUOTED_CHARS).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_typed_as_text_are_read_as_people_mean_them() {
        assert_eq!(parse_number_text("12"), Some(12.0));
        assert_eq!(parse_number_text(" 12.5 "), Some(12.5));
        assert_eq!(parse_number_text("-3"), Some(-3.0));
        assert_eq!(parse_number_text("1,234,567.5"), Some(1_234_567.5));
        assert_eq!(parse_number_text("１２３"), Some(123.0));
        assert_eq!(parse_number_text("12人"), None);
        assert_eq!(parse_number_text("abc"), None);
        assert_eq!(parse_number_text("inf"), None);
        assert_eq!(parse_number_text("NaN"), None);
        assert_eq!(parse_number_text("1,23"), None);
        assert_eq!(parse_number_text("e5"), None);
    }

    #[test]
    fn percent_formats_are_told_from_quoted_percent_signs() {
        assert!(is_percent_format("0%"));
        assert!(is_percent_format("0.00%"));
        assert!(!is_percent_format("0.00\"%\""));
        assert!(!is_percent_format("0\\%"));
        assert!(!is_percent_format("General"));
        assert!(!is_percent_format("[Red]0"));
    }

    #[test]
    fn years_are_read_with_or_without_their_suffix() {
        assert_eq!(parse_year("2025年").map(|y| y.get()), Some(2025));
        assert_eq!(parse_year("2025").map(|y| y.get()), Some(2025));
        assert_eq!(parse_year("2025年度").map(|y| y.get()), Some(2025));
        assert_eq!(parse_year("二〇二五年"), None);
        assert_eq!(parse_year("1800"), None);
        assert_eq!(parse_year("20250"), None);
    }
}
