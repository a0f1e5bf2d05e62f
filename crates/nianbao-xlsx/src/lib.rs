//! Excel templates for entering one section of a school's dataset, and reading them back.
//!
//! [`write_template`] writes a workbook for one numbered section: a sheet of the section's
//! school-level elements (one row per element, one column per year, pre-filled with the current
//! values) and, when the section has per-major elements, a second sheet with one row per major
//! and year. Label cells are grey and locked; input cells are white, unlocked and carry Excel
//! data validation for the element's kind.
//!
//! [`read_upload`] reads a filled-in template. Before any spreadsheet parsing it refuses what is
//! not a plausible `.xlsx` file: too large, not a zip archive, or a zip whose central directory
//! promises too many entries, too many bytes or an implausible compression ratio. Every entry
//! is then inflated with its size enforced and repacked uncompressed, so the spreadsheet reader
//! only ever sees bytes that were already bounded. Cells are read one by one (never as a dense
//! grid), matched to elements by their code, majors and years, and checked against the
//! element's [`ValueKind`](nianbao_core::ValueKind). All cell errors are collected, each naming
//! the sheet, row and column as Excel shows them. Nothing is written anywhere: the caller applies
//! the returned values.

mod error;
mod guard;
mod layout;
mod read;
mod write;

pub use error::{CellError, ScopeError, UploadError, XlsxError};
pub use read::read_upload;
pub use write::write_template;

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

/// One value read from an upload: `None` means the cell was left blank (no value).
#[derive(Debug, Clone, PartialEq)]
pub struct CellValue {
    pub key: FactKey,
    pub value: Option<f64>,
}
