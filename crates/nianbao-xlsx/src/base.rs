//! The hidden sheet that records the values a template or workbook was made from: which
//! school and years, and for every input cell its fact and the value written into it.
//!
//! The sheet is "very hidden" (Excel shows no way to unhide it) and protected, but it is an
//! ordinary worksheet, so Excel, WPS and LibreOffice keep it when the file is saved again.
//! Facts are identified by element code, year and major, never by cell position, so rows a
//! person moves or sorts still find their base value. Values are written as text in Rust's
//! shortest exact form ("4181.3"), which no spreadsheet program rounds on saving.
//!
//! The base is no secret and needs none: it only names the value an edit expects to replace.
//! Someone who rewrites it can at most claim to have seen the store's current value — what
//! downloading a fresh template gives anyone allowed to edit — and every edit is still
//! checked against the user's rights.

use std::collections::BTreeMap;

use nianbao_core::{Dataset, FactKey, Year};
use rust_xlsxwriter::{Format, Worksheet};

use crate::error::UploadError;
use crate::layout::column_name;
use crate::read::{Sheet, Value};

/// The name of the hidden sheet.
pub const BASE_SHEET: &str = "基准值";
/// What the format row says; a later layout would say something else.
const FORMAT: &str = "nianbao-base-1";

/// Labels in column A of the sheet's fixed rows.
const NOTE_LABEL: &str = "说明";
const FORMAT_LABEL: &str = "格式";
const CODE_LABEL: &str = "学校代码";
const NAME_LABEL: &str = "学校名称";
const YEARS_LABEL: &str = "年份";
/// The header of the value rows.
const HEADER: [&str; 4] = ["代码", "年份", "专业", "数值"];
const NOTE: &str = "本表记录生成此文件时各数据项的数值。上传时，与此相同的单元格视为未修改，\
不会覆盖他人在此期间保存的数据；与此不同的单元格视为修改，只有数据库中仍是此数值时才会保存。\
请勿修改或删除本表。";

/// The values a template or workbook was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct Base {
    pub school_code: String,
    pub school_name: String,
    /// The year columns of the file, ascending.
    pub years: Vec<Year>,
    values: BTreeMap<FactKey, Option<f64>>,
}

impl Base {
    /// The value a cell of `key` was made with: `Some(None)` for a blank cell, `None` when the
    /// file was made without that cell.
    pub fn value(&self, key: &FactKey) -> Option<Option<f64>> {
        self.values.get(key).copied()
    }

    /// How many cells the base records.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Writes the base sheet for the given input cells of `data`, hidden and protected.
pub(crate) fn write_base_sheet(
    sheet: &mut Worksheet,
    data: &Dataset,
    years: &[Year],
    keys: &[FactKey],
) -> Result<(), rust_xlsxwriter::XlsxError> {
    sheet.set_name(BASE_SHEET)?;
    let text = Format::new().set_num_format("@");
    sheet.write_string(0, 0, NOTE_LABEL)?;
    sheet.write_string(0, 1, NOTE)?;
    sheet.write_string(1, 0, FORMAT_LABEL)?;
    sheet.write_string(1, 1, FORMAT)?;
    sheet.write_string(2, 0, CODE_LABEL)?;
    sheet.write_string(2, 1, &data.school.code)?;
    sheet.write_string(3, 0, NAME_LABEL)?;
    sheet.write_string(3, 1, &data.school.name)?;
    sheet.write_string(4, 0, YEARS_LABEL)?;
    for (i, year) in years.iter().enumerate() {
        sheet.write_number(4, 1 + i as u16, year.get())?;
    }
    for (col, label) in HEADER.iter().enumerate() {
        sheet.write_string(6, col as u16, *label)?;
    }
    for (i, key) in keys.iter().enumerate() {
        let row = 7 + i as u32;
        sheet.write_string(row, 0, &key.element)?;
        sheet.write_number(row, 1, key.year.get())?;
        if let Some(major) = &key.major {
            sheet.write_string(row, 2, major)?;
        }
        if let Some(value) = data.facts.get(key) {
            sheet.write_string_with_format(row, 3, value.to_string(), &text)?;
        }
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 12)?;
    sheet.set_column_width(2, 16)?;
    sheet.set_column_width(3, 14)?;
    sheet.protect();
    sheet.set_very_hidden(true);
    Ok(())
}

/// A problem with the base sheet: the upload is refused, since without trustworthy base
/// values an untouched cell could overwrite someone else's newer value.
fn damaged(sheet: &Sheet, row: u32, col: u32, what: &str) -> UploadError {
    UploadError::DamagedBase(format!(
        "「{}」工作表 {}{} 单元格{what}",
        sheet.name,
        column_name(col),
        row + 1
    ))
}

/// Reads the base sheet back.
pub(crate) fn parse_base(sheet: &Sheet) -> Result<Base, UploadError> {
    let rows = sheet.rows();
    let row_of = |label: &str| {
        rows.iter()
            .copied()
            .find(|row| sheet.label(*row, 0) == label)
    };
    let format_row = row_of(FORMAT_LABEL)
        .ok_or_else(|| UploadError::DamagedBase(format!("缺少「{FORMAT_LABEL}」行")))?;
    let format = sheet.label(format_row, 1);
    if format != FORMAT {
        return Err(damaged(
            sheet,
            format_row,
            1,
            &format!("应为「{FORMAT}」，这个文件可能由更新版本的系统生成"),
        ));
    }
    let text_at = |label: &str| -> Result<String, UploadError> {
        let row =
            row_of(label).ok_or_else(|| UploadError::DamagedBase(format!("缺少「{label}」行")))?;
        Ok(sheet.label(row, 1))
    };
    let school_code = text_at(CODE_LABEL)?;
    let school_name = text_at(NAME_LABEL)?;
    let years_row =
        row_of(YEARS_LABEL).ok_or_else(|| UploadError::DamagedBase("缺少「年份」行".into()))?;
    let mut years = Vec::new();
    for (col, _) in sheet.row(years_row).filter(|(col, _)| *col >= 1) {
        let year = parse_year_cell(sheet.get(years_row, col).map(|c| &c.value))
            .ok_or_else(|| damaged(sheet, years_row, col, "不是年份"))?;
        years.push(year);
    }
    years.sort_unstable();
    years.dedup();
    if years.is_empty() {
        return Err(damaged(sheet, years_row, 1, "缺少年份"));
    }
    let header = rows
        .iter()
        .copied()
        .find(|row| {
            HEADER
                .iter()
                .enumerate()
                .all(|(col, label)| sheet.label(*row, col as u32) == *label)
        })
        .ok_or_else(|| {
            UploadError::DamagedBase("缺少「代码」「年份」「专业」「数值」表头".into())
        })?;
    let mut values = BTreeMap::new();
    for row in sheet.rows_below(header) {
        let element = sheet.label(row, 0);
        if element.is_empty() {
            return Err(damaged(sheet, row, 0, "缺少数据项代码"));
        }
        let year = parse_year_cell(sheet.get(row, 1).map(|c| &c.value))
            .ok_or_else(|| damaged(sheet, row, 1, "不是年份"))?;
        let major = sheet.label(row, 2);
        let value = match sheet.get(row, 3).map(|c| &c.value) {
            None | Some(Value::Empty) => None,
            Some(Value::Text(text)) if text.trim().is_empty() => None,
            Some(Value::Text(text)) => Some(
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| damaged(sheet, row, 3, "不是数值"))?,
            ),
            Some(Value::Number(n)) if n.is_finite() => Some(*n),
            Some(_) => return Err(damaged(sheet, row, 3, "不是数值")),
        };
        let key = FactKey {
            year,
            element,
            major: (!major.is_empty()).then_some(major),
        };
        if values.insert(key, value).is_some() {
            return Err(damaged(sheet, row, 0, "与前面的行重复"));
        }
    }
    Ok(Base {
        school_code,
        school_name,
        years,
        values,
    })
}

fn parse_year_cell(value: Option<&Value>) -> Option<Year> {
    match value? {
        Value::Number(n) if n.fract() == 0.0 => Year::new(*n as i64).ok(),
        Value::Text(text) => Year::new(text.trim().parse().ok()?).ok(),
        _ => None,
    }
}
