//! The data notes appendix (数据说明) of the sample school's report: the dataset's notes
//! and an accepted warning with its explanation, who accepted it and when, in the HTML and
//! the Word document alike; without acceptances it says there are none.

use std::io::Read;
use std::path::Path;

use nianbao_core::{Acceptance, Dataset, Definitions, Severity, evaluate_indicators, run_checks};
use nianbao_report::model::{Block, Document};
use nianbao_report::{Content, ReportInput, Status};

const EXPLANATION: &str = "2024年有85名学生由其他专业转入电子商务专业，已附转专业名单";

fn sample() -> (Definitions, Dataset) {
    let definitions = Definitions::builtin().expect("definitions");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    let data = nianbao_io::read_dataset(&sample, &definitions).expect("the sample reads");
    (definitions, data)
}

fn document(definitions: &Definitions, data: &Dataset, acceptances: &[Acceptance]) -> Document {
    let year = data.school.report_year;
    let findings = run_checks(definitions, data);
    let indicators = evaluate_indicators(definitions, data, year);
    let input = ReportInput {
        definitions,
        data,
        year,
        findings: &findings,
        indicators: &indicators,
        acceptances,
        status: Status::Draft,
    };
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang/content");
    let content = Content::with_folder(&folder).expect("content");
    nianbao_report::build_document(&input, &content).expect("document")
}

/// The text of the blocks after the 数据说明 heading.
fn notes_text(doc: &Document) -> String {
    let start = doc
        .blocks
        .iter()
        .position(|b| matches!(b, Block::Heading(h) if h.text == "数据说明"))
        .expect("the report has a 数据说明 appendix");
    doc.blocks[start..]
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph(p) => Some(p.text()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn docx_xml(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .expect("document.xml")
        .read_to_string(&mut xml)
        .expect("utf-8");
    xml
}

#[test]
fn an_accepted_warning_and_the_dataset_notes_are_in_the_html_and_the_word_document() {
    let (definitions, data) = sample();
    let findings = run_checks(&definitions, &data);
    let warning = findings
        .iter()
        .find(|f| f.severity == Severity::Warning && f.rule == "students.stock-flow")
        .expect("the sample has a stock-flow warning");
    let acceptance = Acceptance {
        key: warning.key(),
        explanation: EXPLANATION.into(),
        actor: "质量办".into(),
        accepted_at: "2026-01-05 09:30:00".into(),
    };
    let doc = document(&definitions, &data, std::slice::from_ref(&acceptance));
    let notes = notes_text(&doc);
    assert!(notes.contains(&format!("「{EXPLANATION}」")), "{notes}");
    assert!(
        notes.contains("（质量办，2026 年 1 月 5 日确认）"),
        "{notes}"
    );
    assert!(notes.contains(&warning.message), "{notes}");
    let (key, note) = data
        .notes
        .iter()
        .find(|(k, _)| k.year == data.school.report_year)
        .expect("the sample has notes for its report year");
    assert!(notes.contains(note.as_str()), "{notes}");
    assert!(
        notes.contains(definitions.elements.name(&key.element)),
        "{notes}"
    );
    assert!(
        doc.entries(nianbao_report::model::ListKind::Contents)
            .iter()
            .any(|e| e.text == "数据说明"),
        "the contents list the appendix"
    );

    let html = nianbao_report::html::render(&doc);
    let page = scraper::Html::parse_document(&html);
    let text: String = page.root_element().text().collect();
    assert!(text.contains(EXPLANATION), "HTML lacks the explanation");
    assert!(text.contains("2026 年 1 月 5 日确认"));
    assert!(text.contains(note.as_str()));

    let xml = docx_xml(&nianbao_report::docx::render(&doc).expect("docx"));
    assert!(
        xml.contains(EXPLANATION),
        "Word document lacks the explanation"
    );
    assert!(xml.contains("质量办，2026 年 1 月 5 日确认"));
}

#[test]
fn without_acceptances_the_appendix_says_so() {
    let (definitions, data) = sample();
    let notes = notes_text(&document(&definitions, &data, &[]));
    assert!(notes.contains("没有经书面说明后保留的核查提示"), "{notes}");
    assert!(!notes.contains("学校说明"), "{notes}");
}
