//! The checks an upload passes before any spreadsheet parsing: size, magic bytes, the zip
//! central directory (entry count, total size, compression ratio), then a bounded inflate of
//! every entry into an uncompressed copy of the archive for the spreadsheet reader.

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::Limits;
use crate::error::UploadError;

/// A zip archive's local file header signature.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// An OLE compound file: a legacy .xls, or an encrypted (password-protected) .xlsx.
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
/// Entries that inflate to at most this many bytes are exempt from the ratio check.
const RATIO_EXEMPT_BYTES: u64 = 1024 * 1024;
/// The most shared strings a workbook may declare (the reader reserves room for them).
const MAX_DECLARED_STRINGS: u128 = 1_000_000;

/// A zip library error, as a Chinese reason with the technical detail kept for support.
fn damaged(error: impl std::fmt::Display) -> UploadError {
    UploadError::Damaged(format!("压缩包结构无法读取（技术信息：{error}）"))
}

/// Checks an upload and returns the same archive with every entry stored uncompressed.
pub(crate) fn checked_archive(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, UploadError> {
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    if bytes.len() > limits.max_upload_bytes {
        return Err(UploadError::TooLarge {
            size: bytes.len(),
            max: limits.max_upload_bytes,
        });
    }
    if bytes.starts_with(CFB_MAGIC) {
        return Err(UploadError::LegacyOrEncrypted);
    }
    if !bytes.starts_with(ZIP_MAGIC) {
        return Err(UploadError::NotXlsx);
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| UploadError::NotXlsx)?;
    if archive.len() > limits.max_entries {
        return Err(UploadError::TooManyEntries {
            count: archive.len(),
            max: limits.max_entries,
        });
    }

    // The central directory alone: nothing is inflated yet.
    let mut total: u64 = 0;
    let mut names = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(damaged)?;
        let size = entry.size();
        total = total.saturating_add(size);
        if total > limits.max_uncompressed_bytes {
            return Err(UploadError::TooLargeUncompressed {
                max: limits.max_uncompressed_bytes,
            });
        }
        if size > RATIO_EXEMPT_BYTES
            && size > entry.compressed_size().saturating_mul(limits.max_ratio)
        {
            return Err(UploadError::SuspiciousRatio {
                entry: entry.name().to_string(),
                max_ratio: limits.max_ratio,
            });
        }
        names.push(entry.name().to_ascii_lowercase());
    }
    let has = |path: &str| names.iter().any(|n| n == path);
    if !names.iter().any(|n| n.ends_with("workbook.xml")) {
        return Err(if has("word/document.xml") {
            UploadError::OtherOffice {
                kind: "Word 文档"
            }
        } else if has("ppt/presentation.xml") {
            UploadError::OtherOffice {
                kind: "PowerPoint 演示文稿",
            }
        } else {
            UploadError::NotWorkbook
        });
    }

    // Inflate each entry, holding it to the size the directory declared, and store it again.
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(damaged)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let declared = entry.size();
        let mut content = Vec::with_capacity(declared as usize);
        (&mut entry)
            .take(declared + 1)
            .read_to_end(&mut content)
            .map_err(|e| UploadError::Damaged(format!("「{name}」无法解压（技术信息：{e}）")))?;
        if content.len() as u64 != declared {
            return Err(UploadError::Damaged(format!(
                "「{name}」的实际大小与压缩包目录不符"
            )));
        }
        if name.to_ascii_lowercase().ends_with("sharedstrings.xml")
            && declared_strings(&content) > MAX_DECLARED_STRINGS
        {
            return Err(UploadError::Damaged("共享字符串表声明的条目数异常".into()));
        }
        drop(entry);
        out.start_file(name, stored).map_err(damaged)?;
        out.write_all(&content).map_err(damaged)?;
    }
    Ok(out.finish().map_err(damaged)?.into_inner())
}

/// The largest `uniqueCount` the shared-string table declares anywhere in its text (the
/// spreadsheet reader reserves that many slots before reading a single string).
fn declared_strings(xml: &[u8]) -> u128 {
    const KEY: &[u8] = b"uniqueCount";
    let mut largest = 0u128;
    let mut from = 0;
    while let Some(at) = find(&xml[from..], KEY) {
        let mut i = from + at + KEY.len();
        from = i;
        while xml.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if xml.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while xml.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if !matches!(xml.get(i), Some(b'"' | b'\'')) {
            continue;
        }
        i += 1;
        let digits = xml[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        let value = if digits > 30 {
            u128::MAX
        } else {
            std::str::from_utf8(&xml[i..i + digits])
                .ok()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0)
        };
        largest = largest.max(value);
    }
    largest
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_string_counts_are_found_however_quoted() {
        assert_eq!(declared_strings(br#"<sst count="3" uniqueCount="2">"#), 2);
        assert_eq!(declared_strings(b"<sst uniqueCount = '7'>"), 7);
        assert_eq!(
            declared_strings(br#"<!-- uniqueCount="1" --><sst uniqueCount="99999999999">"#),
            99_999_999_999
        );
        assert_eq!(declared_strings(b"<sst>"), 0);
    }

    #[test]
    fn what_is_not_a_zip_is_refused_before_anything_else() {
        let limits = Limits::default();
        assert_eq!(checked_archive(b"", &limits), Err(UploadError::Empty));
        assert_eq!(
            checked_archive(b"hello", &limits),
            Err(UploadError::NotXlsx)
        );
        assert_eq!(
            checked_archive(CFB_MAGIC, &limits),
            Err(UploadError::LegacyOrEncrypted)
        );
        assert_eq!(
            checked_archive(b"PK\x03\x04garbage", &limits),
            Err(UploadError::NotXlsx)
        );
        let small = Limits {
            max_upload_bytes: 4,
            ..Limits::default()
        };
        assert!(matches!(
            checked_archive(b"PK\x03\x04x", &small),
            Err(UploadError::TooLarge { size: 5, max: 4 })
        ));
    }
}
