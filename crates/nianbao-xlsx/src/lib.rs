//! Excel templates and workbooks for entering a school's dataset, and reading them back.
//!
//! [`write_template`] writes a workbook for one numbered section: a sheet of the section's
//! school-level elements (one row per element, one column per year, pre-filled with the current
//! values) and, when the section has per-major elements, a second sheet with one row per major
//! and year. [`write_workbook`] writes the same sheets for many sections at once: the whole
//! year in one file. Label cells are grey and locked; input cells are white, unlocked and carry
//! Excel data validation for the element's kind.
//!
//! Every template and workbook also carries the values it was made from, in a very hidden,
//! protected sheet ([`BASE_SHEET`]) that Excel, WPS and LibreOffice keep when the file is
//! saved again. On upload, [`Upload::changes`] compares each cell with that base value: a cell
//! equal to it is not an edit and never overwrites anything, however the store changed since;
//! a cell that differs is an edit whose expected value is the base value, so the store applies
//! it only if it still holds that value (compare-and-set), exactly as the web form does. A
//! workbook without the base sheet (made by another program, or copied into a new file) is
//! compared with the store's values at upload time instead, and the result says so.
//!
//! [`read_upload`] and [`read_workbook`] read a filled-in file. Before any spreadsheet parsing
//! they refuse what is not a plausible `.xlsx` file: too large, not a zip archive, or a zip
//! whose central directory promises too many entries, too many bytes or an implausible
//! compression ratio. Every entry is then inflated with its size enforced and repacked
//! uncompressed, so the spreadsheet reader only ever sees bytes that were already bounded.
//! Cells are read one by one (never as a dense grid), matched to elements by their code,
//! majors and years, and checked against the element's [`ValueKind`](nianbao_core::ValueKind).
//! All cell errors are collected, each naming the sheet, row and column as Excel shows them.
//! Nothing is written anywhere: the caller applies the returned changes in one transaction.

mod base;
mod changes;
mod error;
mod guard;
mod layout;
mod read;
mod rows;
mod write;

pub use base::{BASE_SHEET, Base};
pub use changes::{CellChange, Changes, stale_message, summary};
pub use error::{CellError, ScopeError, UploadError, XlsxError};
pub use read::{read_base, read_upload, read_workbook};
pub use rows::{MAX_SHEET_CELLS, SheetCell, SheetRows, read_sheet_rows};
pub use write::{write_template, write_workbook};

use nianbao_core::{FactKey, Major, Year};

/// The most cell errors one upload reports; the rest are not listed.
pub const MAX_CELL_ERRORS: usize = 50;

/// Upload limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest file accepted, in bytes (default 5 MiB).
    pub max_upload_bytes: usize,
    /// The most bytes all entries of the archive may inflate to together (default 50 MiB).
    pub max_uncompressed_bytes: u64,
    /// The most entries the archive may have (default 200).
    pub max_entries: usize,
    /// The highest compression ratio (uncompressed / compressed) of one entry (default 200).
    /// Entries that inflate to at most 1 MiB are exempt: they cannot be a bomb on their own,
    /// and the total is capped by `max_uncompressed_bytes` anyway.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_upload_bytes: 5 * 1024 * 1024,
            max_uncompressed_bytes: 50 * 1024 * 1024,
            max_entries: 200,
            max_ratio: 200,
        }
    }
}

/// Which cells of a section a template covers.
#[derive(Debug, Clone)]
pub struct TemplateScope<'a> {
    /// The section number from `data/sections.toml`, e.g. "1.4".
    pub section: &'a str,
    /// The year columns, e.g. the report year and the two before it.
    pub years: Vec<Year>,
    /// For elements with dimension "major": the majors the user may edit. A major not listed
    /// here is neither written to the template nor accepted from an upload.
    pub majors: Vec<&'a Major>,
}

/// Which sections, years and majors a whole-year workbook covers.
#[derive(Debug, Clone)]
pub struct WorkbookScope<'a> {
    /// The year columns of every sheet.
    pub years: Vec<Year>,
    /// The sections, in the order their sheets appear.
    pub sections: Vec<SectionScope<'a>>,
}

/// One section of a workbook.
#[derive(Debug, Clone)]
pub struct SectionScope<'a> {
    /// The section number from `data/sections.toml`, e.g. "1.4".
    pub section: &'a str,
    /// Whether the section's school-level elements are included (its first sheet).
    pub school_level: bool,
    /// For elements with dimension "major": the majors the user may edit.
    pub majors: Vec<&'a Major>,
}

impl<'a> From<&TemplateScope<'a>> for WorkbookScope<'a> {
    /// A one-section template: its school-level sheet always, its per-major sheet for the
    /// scope's majors.
    fn from(scope: &TemplateScope<'a>) -> WorkbookScope<'a> {
        WorkbookScope {
            years: scope.years.clone(),
            sections: vec![SectionScope {
                section: scope.section,
                school_level: true,
                majors: scope.majors.clone(),
            }],
        }
    }
}

/// One value read from an upload: `None` means the cell was left blank (no value).
#[derive(Debug, Clone, PartialEq)]
pub struct CellValue {
    pub key: FactKey,
    pub value: Option<f64>,
    /// The worksheet the value was read from, as shown on its tab.
    pub sheet: String,
    /// The cell as Excel names it, e.g. "D7".
    pub cell: String,
}

/// What an upload holds: every input cell read, and the values the file was made from when
/// it carries them.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub cells: Vec<CellValue>,
    /// `None` for a workbook without the hidden base sheet.
    pub base: Option<Base>,
}
