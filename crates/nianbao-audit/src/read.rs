//! Files to text: plain text and Markdown as they are, Word documents through their XML,
//! web pages through their visible text, PDF through poppler's `pdftotext`. The text returned is the one whose 1-based line
//! numbers every finding cites.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::docx::docx_text;
use crate::error::AuditError;
use crate::html::html_text;
use crate::limits::{MAX_INPUT_BYTES, MAX_PDF_TEXT_BYTES, PDF_SECONDS};

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
/// Every input is bounded (see [`crate::limits`]): a file over 50 MB, a Word file whose text
/// inflates past its cap, a web page nested too deeply or a PDF whose conversion runs too
/// long is refused with an error that says so.
pub fn extract_text(path: &Path) -> Result<String, AuditError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let text = match extension.as_str() {
        "txt" | "md" | "markdown" | "text" | "" => utf8(path, read_bounded(path)?)?,
        "html" | "htm" | "xhtml" => {
            html_text(&utf8(path, read_bounded(path)?)?).map_err(|reason| AuditError::Html {
                path: path.to_path_buf(),
                reason,
            })?
        }
        "docx" => {
            let bytes = read_bounded(path)?;
            docx_text(&bytes).map_err(|reason| AuditError::Docx {
                path: path.to_path_buf(),
                reason,
            })?
        }
        "pdf" => {
            read_bounded_size(path)?;
            pdf_text(path)?
        }
        _ => {
            return Err(AuditError::Unsupported {
                path: path.to_path_buf(),
            });
        }
    };
    Ok(normalize_breaks(&text))
}

/// The size of a file, refused when over the bound.
fn read_bounded_size(path: &Path) -> Result<u64, AuditError> {
    let size = std::fs::metadata(path)
        .map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if size > MAX_INPUT_BYTES {
        return Err(AuditError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(size)
}

/// The bytes of a file of at most [`MAX_INPUT_BYTES`] (read with that cap, in case the file
/// grows while it is read).
fn read_bounded(path: &Path) -> Result<Vec<u8>, AuditError> {
    let io = |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = read_bounded_size(path)?;
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(AuditError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(bytes)
}

/// The bytes of a file as UTF-8 text.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, AuditError> {
    String::from_utf8(bytes).map_err(|e| AuditError::Encoding {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// The text of a PDF through `pdftotext`, which must finish within [`PDF_SECONDS`] and write
/// at most [`MAX_PDF_TEXT_BYTES`].
fn pdf_text(path: &Path) -> Result<String, AuditError> {
    let failed = |reason: String| AuditError::Pdf {
        path: path.to_path_buf(),
        reason,
    };
    // -layout keeps a table's row on one line, its cells apart by spaces.
    let child = Command::new("pdftotext")
        .arg("-layout")
        .arg("-enc")
        .arg("UTF-8")
        .arg(path)
        .arg("-")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AuditError::PdfToolMissing {
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(failed(e.to_string())),
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed("无法读取 pdftotext 的输出".to_string()));
    };
    let reader = std::thread::spawn(move || {
        // Past the cap the pipe closes, and pdftotext stops.
        let mut bytes = Vec::new();
        stdout
            .take(MAX_PDF_TEXT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map(|_| bytes)
    });
    let errors = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.take(64 * 1024).read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + Duration::from_secs(PDF_SECONDS);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(e.to_string()));
            }
        }
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(failed(format!("转换超过 {PDF_SECONDS} 秒仍未完成，已停止")));
    };
    let bytes = reader
        .join()
        .map_err(|_| failed("读取输出时出错".to_string()))?
        .map_err(|e| failed(e.to_string()))?;
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(failed(String::from_utf8_lossy(&stderr).trim().to_string()));
    }
    if bytes.len() as u64 > MAX_PDF_TEXT_BYTES {
        return Err(failed(format!(
            "提取出的文字超过 {MAX_PDF_TEXT_BYTES} 字节，不予审核"
        )));
    }
    String::from_utf8(bytes).map_err(|e| AuditError::Encoding {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}
