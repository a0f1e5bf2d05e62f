//! Import and export of a school's dataset as a folder a person can edit:
//!
//! ```text
//! school.toml        the profile: name, org unit, designations, report year …
//! majors.csv         专业名称,专业大类,所属专业部
//! students.csv       专业名称,年份,招生人数,在校生人数,毕业生人数
//! years/2025.toml    every school-level fact of one year, as nested tables of element codes,
//!                    and a [notes] table of explanations keyed by element code
//! ```
//!
//! Reading turns text into typed values at the edge; every error names the file, the row
//! or line, the column or key, and what was expected.

mod bounded;
mod error;
mod folder;
mod headers;

pub use bounded::{MAX_FILE_BYTES, read_file, read_text};
pub use error::ImportError;
pub use folder::{read_dataset, write_dataset};
