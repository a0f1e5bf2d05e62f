//! Draft and final on the command line: the sample's report is a draft marked 草稿 on every
//! page of every format and cannot be made final while anything is missing (the command
//! says what); once the data is corrected, the warnings explained and every part written
//! and approved, `report --final` stores a snapshot and `report --snapshot N` writes the
//! same files byte for byte. A change after approval sends the part back to 草稿.

mod common;

use std::fs;

use common::{Workspace, docx_parts, pdf_page_text, pdf_pages, tool};

#[test]
fn the_sample_is_a_draft_on_every_page_and_final_is_refused_with_what_is_missing() {
    let ws = Workspace::with_demo();
    let out = ws.path("out");

    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("class=\"draft-mark\""),
        "HTML: fixed draft mark"
    );
    assert!(html.contains("（征求意见稿）"), "HTML cover");
    assert!(
        html.contains(nianbao_report::EMPTY_PART),
        "unwritten sections show as gaps"
    );

    let parts = docx_parts(&out.join("report.docx"));
    let headers: Vec<&(String, String)> = parts
        .iter()
        .filter(|(name, _)| name.starts_with("word/header"))
        .collect();
    assert!(!headers.is_empty(), "DOCX has page headers");
    assert!(
        headers.iter().all(|(_, xml)| xml.contains("草稿")),
        "every DOCX header says 草稿"
    );
    let body = &parts
        .iter()
        .find(|(name, _)| name == "word/document.xml")
        .unwrap()
        .1;
    assert!(body.contains("（征求意见稿）"), "DOCX cover");

    if tool("pdftotext") {
        let pdf = out.join("report.pdf");
        let pages = pdf_pages(&pdf);
        assert!(pages > 10, "{pages} pages");
        for page in 1..=pages {
            let text: String = pdf_page_text(&pdf, page).split_whitespace().collect();
            assert!(text.contains("草稿"), "PDF page {page} lacks 草稿: {text}");
        }
    }

    let refused = ws.run(&[
        "report",
        "--final",
        "--out",
        ws.path("final").to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1), "final refused");
    let why = String::from_utf8_lossy(&refused.stderr);
    for kind in ["核查错误", "警告未说明", "尚未撰写", "尚未定稿"] {
        assert!(why.contains(kind), "the refusal names {kind}: {why}");
    }
    assert!(!ws.path("final").exists(), "nothing written");
    assert!(
        ws.succeed(&["content", "snapshots"]).contains("还没有定稿"),
        "no snapshot stored"
    );

    let missing = ws.run(&["report", "--snapshot", "999"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("定稿快照 999 不存在"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

/// Writes a short text for every part that has none, as its department would.
fn write_missing_parts(ws: &Workspace) {
    let folder = ws.path("more-content");
    for line in ws.succeed(&["content", "parts"]).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (key, title, state) = (fields[0], fields[1], fields[2]);
        if state != "待写" {
            continue;
        }
        let path = match key {
            "publication" | "declaration" | "preface" | "back" => {
                folder.join(format!("front/{key}.md"))
            }
            number => folder.join(format!("sections/{number}.md")),
        };
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            format!("{title}部分的工作由相关部门总结，学校在本年度持续推进。\n"),
        )
        .unwrap();
    }
    ws.succeed(&["content", "import", folder.to_str().unwrap()]);
}

#[test]
fn a_final_is_written_from_its_snapshot_and_written_again_byte_for_byte() {
    let ws = Workspace::with_demo();
    ws.import_corrected();
    ws.accept_all_warnings();
    write_missing_parts(&ws);
    ws.succeed(&["content", "state", "all", "submit"]);
    ws.succeed(&["content", "state", "all", "approve"]);
    let parts = ws.succeed(&["content", "parts"]);
    assert!(
        parts
            .lines()
            .all(|l| l.contains("已定稿") || l.contains("待写")),
        "{parts}"
    );

    let first = ws.path("final");
    let made = ws.succeed(&["report", "--final", "--out", first.to_str().unwrap()]);
    let id = made
        .split("已定稿：第 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the snapshot number is printed")
        .to_string();
    let hash = made
        .split("SHA-256 ")
        .nth(1)
        .and_then(|rest| rest.split('（').next())
        .expect("the hash is printed")
        .trim()
        .to_string();
    assert_eq!(hash.len(), 64, "{made}");

    let html = fs::read_to_string(first.join("report.html")).unwrap();
    assert!(!html.contains("草稿"), "the final carries no draft mark");
    assert!(!html.contains("征求意见稿"));
    assert!(
        !html.contains(nianbao_report::EMPTY_PART),
        "no gap in the final"
    );
    assert!(
        html.contains(&hash),
        "the hash is printed on the declaration page"
    );
    let docx = docx_parts(&first.join("report.docx"));
    assert!(docx.iter().all(|(_, xml)| !xml.contains("草稿")), "DOCX");
    if tool("pdftotext") {
        let pdf = first.join("report.pdf");
        let all: String = (1..=pdf_pages(&pdf))
            .map(|p| pdf_page_text(&pdf, p))
            .collect::<String>()
            .split_whitespace()
            .collect();
        assert!(!all.contains("草稿"), "PDF");
        assert!(all.contains(&hash), "PDF prints the hash");
    }

    let again = ws.path("again");
    ws.succeed(&[
        "report",
        "--snapshot",
        &id,
        "--out",
        again.to_str().unwrap(),
    ]);
    for file in ["report.html", "report.docx", "report.pdf"] {
        let a = first.join(file);
        if !a.exists() {
            continue;
        }
        assert!(
            fs::read(&a).unwrap() == fs::read(again.join(file)).unwrap(),
            "{file} is the same byte for byte"
        );
    }
    assert!(ws.succeed(&["content", "snapshots"]).contains(&hash));

    // A change after approval sends its part back to 草稿, and the report is a draft again.
    let changed = ws.path("changed");
    fs::create_dir_all(changed.join("sections")).unwrap();
    fs::write(changed.join("sections/2.4.md"), "教材建设的文字改过了。\n").unwrap();
    ws.succeed(&["content", "import", changed.to_str().unwrap()]);
    let parts = ws.succeed(&["content", "parts"]);
    let line = parts.lines().find(|l| l.starts_with("2.4\t")).unwrap();
    assert!(line.contains("草稿"), "{line}");
    let refused = ws.run(&[
        "report",
        "--final",
        "--out",
        ws.path("no").to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("2.4 教材建设"));
}

#[test]
fn content_folders_round_trip_and_bad_text_is_refused_whole() {
    let ws = Workspace::with_demo();
    let exported = ws.path("exported");
    ws.succeed(&["content", "export", exported.to_str().unwrap()]);
    assert!(exported.join("sections/2.1.md").exists());
    assert!(exported.join("cases/01-growth-points.md").exists());
    assert!(exported.join("images/campus.png").exists());
    let again = ws.succeed(&["content", "import", exported.to_str().unwrap()]);
    assert!(again.contains("文字 0 篇、图片 0 张有更新"), "{again}");

    let bad = ws.path("bad");
    fs::create_dir_all(bad.join("sections")).unwrap();
    fs::write(bad.join("sections/2.2.md"), "好的一段。\n").unwrap();
    fs::write(
        bad.join("sections/2.3.md"),
        "第一行\n[点击这里](javascript:alert(1))\n{{ v(\"专任教师人数\") }}\n",
    )
    .unwrap();
    let before = ws.succeed(&["content", "parts"]);
    let out = ws.run(&["content", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("sections/2.3.md 第 2 行"), "{message}");
    assert!(message.contains("javascript:"), "{message}");
    assert!(message.contains("sections/2.3.md 第 3 行"), "{message}");
    assert!(message.contains("相近的有"), "{message}");
    assert_eq!(
        ws.succeed(&["content", "parts"]),
        before,
        "nothing of the folder was stored, not even the good file"
    );
}
