//! Files to text: plain text and Markdown as they are, Word documents through their XML,
//! web pages through their visible text, PDF through poppler's `pdftotext`. The text returned is the one whose 1-based line
//! numbers every finding cites.

use std::path::Path;
use std::process::Command;

use crate::docx::docx_text;
use crate::error::AuditError;
use crate::html::html_text;

/// The extracted text of a report, split into lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// The full text, lines separated by `\n`.
    pub text: String,
    /// The lines of `text`, without their line breaks; line `n` is `lines[n - 1]`.
    pub lines: Vec<String>,
}

impl Document {
    /// Builds a document from text already in memory (line breaks normalised to `\n`).
    pub fn from_text(text: &str) -> Document {
        let text = normalize_breaks(text);
        let lines = text.split('\n').map(str::to_string).collect::<Vec<_>>();
        Document { text, lines }
    }

    /// The text of 1-based line `n`, or "" past the end.
    pub fn line(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// `\r\n`, `\r` and form feeds (page breaks of `pdftotext`) become plain line breaks.
fn normalize_breaks(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.replace("\r\n", "\n").replace(['\r', '\u{c}'], "\n")
}

/// Reads a report and returns its text and lines.
pub fn read_document(path: &Path) -> Result<Document, AuditError> {
    extract_text(path).map(|text| Document::from_text(&text))
}

/// Reads a report (.txt, .md, .docx, .html, .pdf) and returns the text that findings cite.
pub fn extract_text(path: &Path) -> Result<String, AuditError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = match extension.as_str() {
        "txt" | "md" | "markdown" | "text" | "" => utf8(path, std::fs::read(path).map_err(io)?)?,
        "html" | "htm" | "xhtml" => html_text(&utf8(path, std::fs::read(path).map_err(io)?)?),
        "docx" => {
            let bytes = std::fs::read(path).map_err(io)?;
            docx_text(&bytes).map_err(|reason| AuditError::Docx {
                path: path.to_path_buf(),
                reason,
            })?
        }
        "pdf" => pdf_text(path)?,
        _ => {
            return Err(AuditError::Unsupported {
                path: path.to_path_buf(),
            });
        }
    };
    Ok(normalize_breaks(&text))
}

/// The bytes of a file as UTF-8 text.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, AuditError> {
    String::from_utf8(bytes).map_err(|e| AuditError::Encoding {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

fn pdf_text(path: &Path) -> Result<String, AuditError> {
    if !path.exists() {
        return Err(AuditError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "文件不存在"),
        });
    }
    let output = Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(path)
        .arg("-")
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AuditError::PdfToolMissing {
                path: path.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(AuditError::Pdf {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    if !output.status.success() {
        return Err(AuditError::Pdf {
            path: path.to_path_buf(),
            reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    String::from_utf8(output.stdout).map_err(|e| AuditError::Encoding {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}
