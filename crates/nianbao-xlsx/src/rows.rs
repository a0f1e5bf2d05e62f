//! Reading one worksheet of an uploaded workbook as plain cells, for imports that are lists
//! of records (an asset register, a class list) rather than a section template. The upload
//! passes the same checks as a template (size, zip structure, bounded inflate) before the
//! spreadsheet reader sees it, and the sheet is read cell by cell, never as a dense grid.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{DataRef, Reader, Xlsx};

use crate::Limits;
use crate::error::UploadError;
use crate::guard::checked_archive;
use crate::layout::column_name;

/// The most non-empty cells a record sheet may hold (10^5 rows of a dozen columns).
pub const MAX_SHEET_CELLS: usize = 1_500_000;

/// One cell as the spreadsheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetCell {
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date or date-time cell, as Excel's serial day number (1900 date system).
    Date(f64),
    /// An error value such as `#N/A`.
    Error(String),
}

/// The non-empty cells of one worksheet, by 0-based (row, column).
#[derive(Debug, Clone, Default)]
pub struct SheetRows {
    /// The worksheet's name, as shown on its tab.
    pub sheet: String,
    pub cells: BTreeMap<(u32, u32), SheetCell>,
}

impl SheetRows {
    /// The column letters Excel shows for a 0-based column index ("A", "AB").
    pub fn column_letters(column: u32) -> String {
        column_name(column)
    }
}

/// Reads the worksheet named `preferred` (or, if the workbook has no sheet of that name,
/// its first sheet). Refuses what is not a plausible `.xlsx` file, as a template upload.
pub fn read_sheet_rows(
    bytes: &[u8],
    preferred: &str,
    limits: &Limits,
) -> Result<SheetRows, UploadError> {
    let archive = checked_archive(bytes, limits)?;
    catch_unwind(AssertUnwindSafe(|| load(&archive, preferred)))
        .map_err(|_| UploadError::Damaged("工作簿内容无法解析".into()))?
}

fn damaged(error: impl std::fmt::Display) -> UploadError {
    UploadError::Damaged(format!("工作簿内容无法解析（技术信息：{error}）"))
}

fn load(archive: &[u8], preferred: &str) -> Result<SheetRows, UploadError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(archive)).map_err(damaged)?;
    let names = book.sheet_names();
    let name = names
        .iter()
        .find(|n| n.trim() == preferred)
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| UploadError::MissingSheet {
            expected: preferred.to_string(),
        })?;
    let mut cells = BTreeMap::new();
    let mut reader = book.worksheet_cells_reader(&name).map_err(damaged)?;
    while let Some(cell) = reader.next_cell().map_err(damaged)? {
        let value = match cell.get_value() {
            DataRef::Int(n) => SheetCell::Number(*n as f64),
            DataRef::Float(n) => SheetCell::Number(*n),
            DataRef::String(s) => SheetCell::Text(s.clone()),
            DataRef::SharedString(s) => SheetCell::Text(s.to_string()),
            DataRef::Bool(b) => SheetCell::Bool(*b),
            DataRef::DateTime(d) => SheetCell::Date(d.as_f64()),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => SheetCell::Text(s.clone()),
            DataRef::Error(e) => SheetCell::Error(e.to_string()),
            DataRef::Empty => continue,
        };
        if matches!(&value, SheetCell::Text(t) if t.trim().is_empty()) {
            continue;
        }
        if cells.len() >= MAX_SHEET_CELLS {
            return Err(UploadError::TooManyCells {
                sheet: name,
                max: MAX_SHEET_CELLS,
            });
        }
        cells.insert(cell.get_position(), value);
    }
    Ok(SheetRows { sheet: name, cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_is_read_cell_by_cell_with_dates_as_serials() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("设备").unwrap();
        sheet.write_string(0, 0, "资产编号").unwrap();
        sheet.write_string(1, 0, "A-1").unwrap();
        sheet.write_number(1, 1, 12.5).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2025, 3, 1).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        sheet
            .write_datetime_with_format(1, 2, &date, &format)
            .unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let rows = read_sheet_rows(&bytes, "设备", &Limits::default()).unwrap();
        assert_eq!(rows.sheet, "设备");
        assert_eq!(rows.cells[&(0, 0)], SheetCell::Text("资产编号".into()));
        assert_eq!(rows.cells[&(1, 1)], SheetCell::Number(12.5));
        // 2025-03-01 is day 45717 of Excel's 1900 date system.
        assert_eq!(rows.cells[&(1, 2)], SheetCell::Date(45717.0));
        assert!(read_sheet_rows(b"not a zip", "设备", &Limits::default()).is_err());
    }
}
