//! Uploads that are not templates, or are built to hurt: each is refused cleanly and quickly.

mod common;

use std::io::{Cursor, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use nianbao_xlsx::{Limits, TemplateScope, UploadError, read_upload, write_template};
use proptest::prelude::*;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn scope() -> TemplateScope<'static> {
    office_scope("1.5", sample())
}

fn read(bytes: &[u8]) -> Result<Vec<nianbao_xlsx::CellValue>, UploadError> {
    read_upload(bytes, defs(), &scope(), &Limits::default()).map(|upload| upload.cells)
}

fn template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| write_template(defs(), sample(), &scope()).unwrap())
}

/// A zip with a workbook's parts and one entry of `size` zeros, written in chunks so the test
/// itself never holds it.
fn zip_bomb(size: usize) -> Vec<u8> {
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    out.start_file("[Content_Types].xml", options).unwrap();
    out.write_all(b"<Types/>").unwrap();
    out.start_file("xl/workbook.xml", options).unwrap();
    out.write_all(b"<workbook/>").unwrap();
    out.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        out.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    out.finish().unwrap().into_inner()
}

#[test]
fn a_zip_bomb_is_refused_from_its_directory_without_inflating() {
    let bomb = zip_bomb(100 * 1024 * 1024);
    assert!(bomb.len() < 1024 * 1024, "bomb is {} bytes", bomb.len());
    let scope = scope();
    let limits = Limits::default();
    let started = Instant::now();
    let err = read_upload(&bomb, defs(), &scope, &limits).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, UploadError::TooLargeUncompressed { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("解压后超过 50 MB"), "{err}");
    assert!(took < Duration::from_secs(1), "took {took:?}");

    // Under the total limit, the ratio alone gives it away.
    let limits = Limits {
        max_uncompressed_bytes: 200 * 1024 * 1024,
        ..Limits::default()
    };
    let err = read_upload(&bomb, defs(), &scope, &limits).unwrap_err();
    assert!(
        matches!(err, UploadError::SuspiciousRatio { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("xl/worksheets/sheet1.xml"),
        "{err}"
    );
}

#[test]
fn an_entry_larger_than_its_directory_says_is_refused() {
    // 4 MiB of zeros, whose directory entries then claim 1000 bytes.
    let mut bomb = zip_bomb(4 * 1024 * 1024);
    let real = (4u32 * 1024 * 1024).to_le_bytes();
    let claimed = 1000u32.to_le_bytes();
    let mut patched = 0;
    for at in 0..bomb.len() - 4 {
        let (signature, offset) = match &bomb[at..at + 4] {
            b"PK\x03\x04" => ("local", 22),
            b"PK\x01\x02" => ("central", 24),
            _ => continue,
        };
        let _ = signature;
        if bomb[at + offset..at + offset + 4] == real {
            bomb[at + offset..at + offset + 4].copy_from_slice(&claimed);
            patched += 1;
        }
    }
    assert!(patched >= 1);
    let err = read(&bomb).unwrap_err();
    assert!(matches!(err, UploadError::Damaged(_)), "{err:?}");
}

#[test]
fn too_many_entries_are_refused() {
    let names: Vec<String> = (0..300).map(|i| format!("xl/media/{i}.xml")).collect();
    let mut entries: Vec<(&str, &[u8])> = vec![("xl/workbook.xml", b"<workbook/>")];
    entries.extend(names.iter().map(|n| (n.as_str(), &b"x"[..])));
    let err = read(&zip_of(&entries)).unwrap_err();
    assert_eq!(
        err,
        UploadError::TooManyEntries {
            count: 301,
            max: 200
        }
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_reading() {
    let limits = Limits {
        max_upload_bytes: 1024,
        ..Limits::default()
    };
    let err = read_upload(template(), defs(), &scope(), &limits).unwrap_err();
    assert!(matches!(err, UploadError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("不应超过 1 KB"), "{err}");
}

#[test]
fn random_bytes_and_other_files_are_refused_cleanly() {
    let random: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(read(&random).unwrap_err(), UploadError::NotXlsx);
    assert_eq!(read(b"").unwrap_err(), UploadError::Empty);
    assert_eq!(
        read("专业名称,年份\n会计事务,2025\n".as_bytes()).unwrap_err(),
        UploadError::NotXlsx
    );
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend_from_slice(&[0; 504]);
    let err = read(&xls).unwrap_err();
    assert_eq!(err, UploadError::LegacyOrEncrypted);
    assert!(err.to_string().contains(".xls"), "{err}");
    // A zip signature followed by garbage.
    let mut fake = b"PK\x03\x04".to_vec();
    fake.extend_from_slice(&random);
    assert_eq!(read(&fake).unwrap_err(), UploadError::NotXlsx);
}

#[test]
fn a_word_document_or_a_plain_zip_is_not_a_workbook() {
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", b"<w:document/>"),
    ]);
    let err = read(&docx).unwrap_err();
    assert_eq!(
        err,
        UploadError::OtherOffice {
            kind: "Word 文档"
        }
    );
    assert!(err.to_string().contains("Word"), "{err}");

    let plain = zip_of(&[("readme.txt", b"hello"), ("data/a.csv", b"1,2")]);
    assert_eq!(read(&plain).unwrap_err(), UploadError::NotWorkbook);
}

#[test]
fn a_workbook_with_broken_parts_is_refused_as_damaged() {
    let broken = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook><sheets><sheet name="),
    ]);
    let err = read(&broken).unwrap_err();
    assert!(
        matches!(
            err,
            UploadError::Damaged(_) | UploadError::MissingSheet { .. }
        ),
        "{err:?}"
    );

    // A shared-string table that asks the reader to reserve room for a billion strings.
    let greedy = edit_entries(template(), |name, text| {
        if name == "xl/sharedStrings.xml" {
            text.replacen("uniqueCount=\"", "uniqueCount=\"1000000000", 1)
        } else {
            text
        }
    });
    assert!(matches!(
        read(&greedy).unwrap_err(),
        UploadError::Damaged(_)
    ));

    // Two cells far apart must not make the reader allocate the grid between them.
    let sparse = edit_sheet(template(), 2, |xml| {
        add_row(&xml, 1_048_576, &[("XFD", Put::Number(1.0))])
    });
    let errors = match read(&sparse).unwrap_err() {
        UploadError::Cells(cells) => cells,
        other => panic!("{other:?}"),
    };
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].row, errors[0].column.as_str()),
        (1_048_576, "XFD")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_zip_signature_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048)
    ) {
        let mut input = b"PK\x03\x04".to_vec();
        input.extend_from_slice(&bytes);
        let _ = read(&input);
    }

    #[test]
    fn mutated_sheets_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)
    ) {
        let mutated = edit_entries(template(), |name, text| {
            if name != "xl/worksheets/sheet2.xml" && name != "xl/workbook.xml" {
                return text;
            }
            let mut bytes = text.into_bytes();
            for (at, byte) in &edits {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        });
        let _ = read(&mutated);
    }
}
