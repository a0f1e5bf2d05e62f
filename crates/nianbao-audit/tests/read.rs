//! Reading reports from files: text, Markdown, Word, web pages and PDF, and the errors that
//! name the file.

use std::io::Write;

use nianbao_audit::{AuditError, audit, extract_text, read_document};
use nianbao_core::Severity;

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
fn web_pages_with_lists_tables_and_charts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = r##"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>青山职业技术学校 2025 年度质量年度报告</title><style>p { text-indent: 2em; }</style></head>
<body><section class="cover"><p>青山职业技术学校</p><p>2025 年度质量年度报告</p></section>
<h2 class="front">目　录</h2><nav class="list"><ol>
<li class="level-1"><a href="#s1">1. 学校概况</a></li><li class="level-2"><a href="#s1-1">1.1 学生规模</a></li>
</ol></nav>
<h2 class="front">表目录</h2><nav class="list"><ol><li><a href="#table-1">表 1：学生情况</a></li></ol></nav>
<h2 id="s1">1. 学校概况</h2><h3 id="s1-1">1.1 学生规模</h3>
<p>2025 年度学校招生 <strong>1,800</strong> 人，其中本地生源 1,500 人、外地生源 300 人。</p>
<div role="img" aria-label="人数"><svg><text>1,900</text><text>99.9%</text></svg></div>
<figure class="table"><figcaption>表 1：学生情况</figcaption><div class="scroll"><table id="table-1">
<thead><tr><th>专业大类</th><th>专业名称</th><th>招生人数</th></tr></thead>
<tbody><tr><th scope="row" rowspan="2">财经商贸类</th><th scope="row">会计事务</th><td>500</td></tr>
<tr><th scope="row">电子商务</th><td>300</td></tr>
<tr><th scope="row">信息技术类</th><th scope="row">计算机应用</th><td>1,000</td></tr>
<tr><th scope="row">合计</th><th scope="row"></th><td>1,810</td></tr></tbody></table></div></figure>
<aside class="case" id="case-1"><p class="case-title">典型案例 1：送技下乡</p><p>全年培训 34 期。</p></aside>
</body></html>"##;
    let path = write(&dir, "report.html", html.as_bytes());
    let text = extract_text(&path).expect("read html");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.contains(&"2025 年度学校招生 1,800 人，其中本地生源 1,500 人、外地生源 300 人。")
    );
    assert!(lines.contains(&"财经商贸类\t会计事务\t500"));
    assert!(lines.contains(&"\t电子商务\t300"));
    assert!(!text.contains("99.9%"), "drawings are not read: {text}");
    // The total row disagrees with its rows (an error) and with the prose (a warning).
    let findings = audit(&text);
    let rules: Vec<(&str, Severity)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect();
    assert_eq!(
        rules,
        [
            ("prose-table", Severity::Warning),
            ("table-total", Severity::Error)
        ],
        "{text}\n{findings:#?}"
    );
    let total = lines
        .iter()
        .position(|l| l.starts_with("合计"))
        .expect("total row")
        + 1;
    assert!(findings[1].locations.iter().any(|l| l.line == Some(total)));
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

/// A PDF made by LibreOffice from a web page with a table: `pdftotext -layout` keeps each
/// row on a line with its cells apart by spaces (one space only between cells of Chinese
/// width), and the table checks read it as a table.
#[test]
fn pdf_tables_keep_their_cells() {
    for tool in ["soffice", "pdftotext"] {
        let found = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var("NIANBAO_REQUIRE_BROWSER").is_err(),
                "{tool} is required here"
            );
            let _ = writeln!(std::io::stderr(), "跳过 PDF 表格测试：未安装 {tool}");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let page = |total: &str| {
        format!(
            "<html><head><meta charset=\"utf-8\"></head><body>\
             <p>表1 各专业大类在校生情况</p>\
             <table border=\"1\">\
             <tr><td>专业大类</td><td>一年级</td><td>二年级</td><td>合计</td><td>占比</td></tr>\
             <tr><td>装备制造大类</td><td>420</td><td>398</td><td>818</td><td>56.5%</td></tr>\
             <tr><td>电子与信息大类</td><td>360</td><td>270</td><td>630</td><td>43.5%</td></tr>\
             <tr><td>合计</td><td>780</td><td>668</td><td>{total}</td><td>100.0%</td></tr>\
             </table><p>以上为本年度在校生情况。</p></body></html>"
        )
    };
    let clean = dir.path().join("clean.html");
    let wrong = dir.path().join("wrong.html");
    std::fs::write(&clean, page("1,448")).unwrap();
    std::fs::write(&wrong, page("1,484")).unwrap();
    let status = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .args([
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
        ])
        .arg(dir.path())
        .args([&clean, &wrong])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());

    let document = read_document(&dir.path().join("clean.pdf")).unwrap();
    let model = nianbao_audit::model::Model::build(document);
    assert_eq!(model.tables.len(), 1, "{:#?}", model.layout.blocks);
    let table = &model.tables[0];
    let labels: Vec<String> = table.columns.iter().map(|c| c.label()).collect();
    assert_eq!(labels, ["专业大类", "一年级", "二年级", "合计", "占比"]);
    assert_eq!(table.rows.len(), 3);
    assert_eq!(table.rows[1].labels, ["电子与信息大类"]);
    let values: Vec<f64> = (1..5)
        .filter_map(|c| table.value(1, c).map(|q| q.value))
        .collect();
    assert_eq!(values, [360.0, 270.0, 630.0, 43.5]);
    let errors = |name: &str| {
        let text = extract_text(&dir.path().join(name)).unwrap();
        audit(&text)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message)
            .collect::<Vec<_>>()
    };
    assert!(errors("clean.pdf").is_empty(), "{:?}", errors("clean.pdf"));
    let found = errors("wrong.pdf");
    assert!(
        found
            .iter()
            .any(|m| m.contains("1484") && m.contains("1448")),
        "{found:?}"
    );
}
