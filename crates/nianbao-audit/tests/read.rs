//! Reading reports from files: text, Markdown, Word and PDF, and the errors that name the file.

use std::io::Write;

use nianbao_audit::{AuditError, audit, extract_text, read_document};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn plain_text_and_markdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "r.txt",
        "第一行\r\n2025年度，教职工共100人，其中在编60人，外聘30人。\r\n".as_bytes(),
    );
    let document = read_document(&path).expect("read");
    assert_eq!(
        document.lines[1],
        "2025年度，教职工共100人，其中在编60人，外聘30人。"
    );
    let findings = audit(&document.text);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].locations[0].line, Some(2));

    let md = "# 1. 概况\n\n| 年份 | 在校生人数 | 招生人数 |\n|---|---|---|\n| 甲 | 900 | 300 |\n| 乙 | 100 | 200 |\n| 合计 | 1000 | 501 |\n";
    let path = write(&dir, "r.md", md.as_bytes());
    let findings = audit(&extract_text(&path).expect("read"));
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "table-total" && f.locations.iter().any(|l| l.line == Some(7))),
        "{findings:#?}"
    );
}

#[test]
fn word_documents_with_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let xml = r#"<?xml version="1.0"?><w:document><w:body>
<w:p><w:r><w:t>2025年度，全校教职工总数50人，其中在编30人，外聘10人。</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>年份</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>人数</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>2025</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>50</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
</w:body></w:document>"#;
    let path = dir.path().join("r.docx");
    let file = std::fs::File::create(&path).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file(
        "word/document.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .expect("zip");
    zip.write_all(xml.as_bytes()).expect("zip");
    zip.finish().expect("zip");
    let text = extract_text(&path).expect("read docx");
    assert_eq!(
        text,
        "2025年度，全校教职工总数50人，其中在编30人，外聘10人。\n\n年份\t人数\n2025\t50\n"
    );
    let findings = audit(&text);
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "total-parts" && f.locations[0].line == Some(1))
    );
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.txt");
    let error = extract_text(&missing).expect_err("missing file");
    assert!(matches!(error, AuditError::Io { .. }));
    assert!(error.to_string().contains("missing.txt"));

    let odd = write(&dir, "r.xls", b"x");
    assert!(matches!(
        extract_text(&odd),
        Err(AuditError::Unsupported { .. })
    ));

    let bad = write(&dir, "bad.docx", b"not a zip");
    let error = extract_text(&bad).expect_err("bad docx");
    assert!(error.to_string().contains("bad.docx"), "{error}");

    let latin1 = write(&dir, "latin1.txt", &[0x41, 0xff, 0x42]);
    assert!(matches!(
        extract_text(&latin1),
        Err(AuditError::Encoding { offset: 1, .. })
    ));

    let fake_pdf = write(&dir, "fake.pdf", b"not a pdf");
    match extract_text(&fake_pdf) {
        Err(AuditError::Pdf { path, .. }) | Err(AuditError::PdfToolMissing { path }) => {
            assert!(path.ends_with("fake.pdf"))
        }
        other => panic!("{other:?}"),
    }
    assert!(
        AuditError::PdfToolMissing {
            path: "a.pdf".into()
        }
        .to_string()
        .contains("poppler-utils")
    );
}
