//! The one error type of import: where, and what was expected.

use std::fmt;
use std::path::PathBuf;

/// An input problem, located as precisely as the format allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ImportError {
    pub file: PathBuf,
    /// 1-based line of the file (for CSV, the header is line 1).
    pub line: Option<usize>,
    /// The CSV column header or the TOML key.
    pub column: Option<String>,
    pub problem: String,
}

impl ImportError {
    pub fn new(file: impl Into<PathBuf>, problem: impl Into<String>) -> ImportError {
        ImportError {
            file: file.into(),
            line: None,
            column: None,
            problem: problem.into(),
        }
    }

    pub fn at(mut self, line: usize) -> ImportError {
        self.line = Some(line);
        self
    }

    pub fn column(mut self, column: impl Into<String>) -> ImportError {
        self.column = Some(column.into());
        self
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": 「{column}」")?;
        }
        write!(f, ": {}", self.problem)
    }
}
