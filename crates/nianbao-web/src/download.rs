//! Files sent to the browser as downloads: a Content-Disposition header that carries the
//! file's Chinese name (RFC 6266 `filename*`) with an ASCII fallback, and the percent
//! encoding both it and URL path segments use.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::WebError;

/// The MIME type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The MIME type of a Word file.
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The MIME type of a PDF.
pub const PDF: &str = "application/pdf";

/// `text` percent-encoded as one URL path segment or an RFC 5987 value.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The Content-Disposition value for an attachment named `file`: browsers that read
/// `filename*` show the real name; others get the name with every non-ASCII character
/// replaced, which can never break the header.
pub fn content_disposition(file: &str) -> String {
    let ascii: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encode(file)
    )
}

/// `bytes` as a download named `file`, never cached.
pub fn attachment(file: &str, mime: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, content_disposition(file)),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// The bytes `make` gives, made on a blocking thread (a workbook, a Word file or a PDF
/// takes long enough to hold up other requests), as a download named `file`; its error, or
/// a panic while making, answers instead.
pub async fn made(
    file: &str,
    mime: &str,
    make: impl FnOnce() -> Result<Vec<u8>, WebError> + Send + 'static,
) -> Result<Response, WebError> {
    let bytes = tokio::task::spawn_blocking(make)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    Ok(attachment(file, mime, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_name_keeps_the_header_ascii_and_quotes_harmless() {
        let value = content_disposition("黔江\"学校\r\n-2025.xlsx");
        assert!(value.is_ascii());
        assert!(value.starts_with("attachment; filename=\"_"));
        assert!(value.contains("filename*=UTF-8''%E9%BB%94%E6%B1%9F%22"));
        assert!(!value.contains('\r') && !value.contains('\n'));
        assert_eq!(value.matches('"').count(), 2);
    }

    #[test]
    fn path_segments_escape_slashes_and_spaces() {
        assert_eq!(percent_encode("K 1/2"), "K%201%2F2");
    }
}
