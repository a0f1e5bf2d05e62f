//! Hostile files: each is refused with a Chinese error that names the file, or audited to a
//! normal result — never an abort, a stack overflow or unbounded memory. (How long each takes
//! and how much memory it needs is measured in `benches/audit-hostile.sh`, not here.)

use std::io::Write;

use nianbao_audit::{AuditError, audit, extract_text};

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn a_word_file_that_inflates_past_its_cap_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bomb.docx");
    let file = std::fs::File::create(&path).expect("create");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", options).expect("entry");
    zip.write_all(b"<w:document><w:body>").expect("write");
    let paragraph = "<w:p><w:r><w:t>教职工 100 人。</w:t></w:r></w:p>".repeat(4096);
    // 80 MiB inflated, a few hundred kilobytes packed.
    for _ in 0..(80 * 1024 * 1024 / paragraph.len()) {
        zip.write_all(paragraph.as_bytes()).expect("write");
    }
    zip.write_all(b"</w:body></w:document>").expect("write");
    zip.finish().expect("finish");
    let packed = std::fs::metadata(&path).expect("size").len();
    assert!(packed < 4 * 1024 * 1024, "{packed}");
    match extract_text(&path) {
        Err(error @ AuditError::Docx { .. }) => {
            let message = error.to_string();
            assert!(message.contains("bomb.docx"), "{message}");
            assert!(message.contains("超过上限"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|t| t.len())),
    }
}

#[test]
fn deeply_nested_tables_in_a_web_page_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = format!(
        "<html><body>{}1{}</body></html>",
        "<table><tr><td>".repeat(20_000),
        "</td></tr></table>".repeat(20_000)
    );
    let path = write(&dir, "nested.html", html.as_bytes());
    match extract_text(&path) {
        Err(error @ AuditError::Html { .. }) => {
            let message = error.to_string();
            assert!(message.contains("nested.html"), "{message}");
            assert!(message.contains("嵌套"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|t| t.len())),
    }
    // Nesting within the bound is read.
    let html = format!(
        "<html><body>{}教职工 100 人。{}</body></html>",
        "<div>".repeat(100),
        "</div>".repeat(100)
    );
    let path = write(&dir, "deep.html", html.as_bytes());
    assert!(extract_text(&path).expect("read").contains("教职工 100 人"));
}

#[test]
fn a_file_over_fifty_megabytes_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.txt");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(51 * 1024 * 1024).expect("size");
    match extract_text(&path) {
        Err(error @ AuditError::TooLarge { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains("big.txt") && message.contains("过大"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {:?}", other.map(|t| t.len())),
    }
}

#[test]
fn one_long_line_of_prose_is_audited() {
    let sentence = "学校共有教师12人和学生300人以及设备";
    let text = sentence.repeat(1024 * 1024 / sentence.len());
    let findings = audit(&text);
    assert!(findings.len() < 2000, "{}", findings.len());
    // A total that disagrees with its parts is still found far into the line.
    let text = format!("{text}。教职工总数 100 人，其中在编 60 人，外聘 30 人。");
    let findings = audit(&text);
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "total-parts" && f.message.contains("100")),
        "{findings:#?}"
    );
}

#[test]
fn many_lines_of_one_number_each_are_audited_with_findings_bounded() {
    let text: String = (0..20_000).map(|i| format!("在校生 {i} 人\n")).collect();
    let findings = audit(&text);
    // Every line states the same fact with another value: each rule lists at most 200
    // findings and counts the rest in one more.
    let same = findings.iter().filter(|f| f.rule == "same-fact").count();
    assert!(same <= 201, "{same}");
    assert!(
        findings
            .iter()
            .any(|f| f.message.contains("未逐一列出") && f.locations.is_empty()),
        "{:#?}",
        &findings[..findings.len().min(3)]
    );
}

#[test]
fn text_that_is_not_utf8_is_refused_with_its_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "gbk.txt", &[0xd1, 0xa7, 0xff, 0xfe, b'\n']);
    let message = extract_text(&path).expect_err("refused").to_string();
    assert!(
        message.contains("gbk.txt") && message.contains("UTF-8"),
        "{message}"
    );
}
