//! The corpus score: reports written for the purpose (`tests/corpus/`, several schools, in
//! varied wording, headings, units and table layouts, as text, Markdown and web pages), each
//! audited clean and with single faults injected as its manifest lists. A fault counts as
//! found when a finding that the clean report does not have cites a line the fault changed.
//! The test prints recall per class of fault, for the reports used in tuning and for the
//! held-out ones apart, with the errors and warnings on the clean reports; it asserts that no
//! clean report has an error and that recall stays above its floor.
//!
//! Run: `cargo test -p nianbao-audit --test corpus -- --nocapture`

use std::collections::{BTreeMap, BTreeSet};
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};

use nianbao_audit::{audit, extract_text};
use nianbao_core::{Finding, Severity};
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    report: Vec<Report>,
}

#[derive(Deserialize)]
struct Report {
    file: String,
    school: String,
    held_out: bool,
    #[serde(default)]
    fault: Vec<Fault>,
}

#[derive(Deserialize)]
struct Fault {
    class: String,
    line: usize,
    find: String,
    replace: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn manifest() -> Manifest {
    let text = std::fs::read_to_string(corpus().join("manifest.toml")).expect("manifest");
    toml::from_str(&text).expect("a valid manifest")
}

/// The text a report file gives, read as the auditor reads it (from a file of its type).
fn read_as(file: &str, raw: &str, dir: &Path) -> String {
    let path = dir.join(file);
    std::fs::write(&path, raw).expect("write");
    extract_text(&path).expect("readable")
}

/// The 1-based lines of `after` that differ from `before`.
fn changed_lines(before: &str, after: &str) -> BTreeSet<usize> {
    let (a, b): (Vec<&str>, Vec<&str>) =
        (before.split('\n').collect(), after.split('\n').collect());
    (0..a.len().max(b.len()))
        .filter(|&i| a.get(i) != b.get(i))
        .map(|i| i + 1)
        .collect()
}

fn cites(finding: &Finding, lines: &BTreeSet<usize>) -> bool {
    finding
        .locations
        .iter()
        .any(|l| l.line.is_some_and(|n| lines.contains(&n)))
}

fn key(finding: &Finding) -> (String, String) {
    (finding.rule.clone(), finding.message.clone())
}

#[derive(Default)]
struct Tally {
    /// class → (found, injected)
    classes: BTreeMap<String, (usize, usize)>,
    missed: Vec<String>,
    clean_errors: Vec<String>,
    clean_warnings: usize,
    all_at_once: (usize, usize),
}

impl Tally {
    fn recall(&self) -> (usize, usize) {
        self.classes
            .values()
            .fold((0, 0), |(f, n), (a, b)| (f + a, n + b))
    }

    fn print(&self, title: &str) {
        let (found, total) = self.recall();
        println!(
            "== {title}：单处故障检出 {found}/{total}（{:.0}%）；全部故障同时注入时检出 {}/{}；干净版本错误 {} 处、警告 {} 处",
            100.0 * found as f64 / total.max(1) as f64,
            self.all_at_once.0,
            self.all_at_once.1,
            self.clean_errors.len(),
            self.clean_warnings
        );
        for (class, (found, total)) in &self.classes {
            println!("   {class:<16} {found}/{total}");
        }
        for missed in &self.missed {
            println!("   未检出：{missed}");
        }
        for error in &self.clean_errors {
            println!("   干净版本的错误：{error}");
        }
    }
}

/// A report's sources: clean, with each fault alone, and with every fault at once.
struct Variants {
    clean: String,
    faults: Vec<String>,
    all: String,
}

fn variants(report: &Report) -> Variants {
    let raw = std::fs::read_to_string(corpus().join(&report.file)).expect("report");
    let raw_lines: Vec<&str> = raw.split('\n').collect();
    let mut all = raw.clone();
    let mut faults = Vec::new();
    for fault in &report.fault {
        assert_eq!(
            raw.matches(fault.find.as_str()).count(),
            1,
            "{}: `{}` must occur once",
            report.file,
            fault.find
        );
        assert!(
            raw_lines
                .get(fault.line - 1)
                .is_some_and(|l| l.contains(&fault.find)),
            "{}: `{}` is not on line {}",
            report.file,
            fault.find,
            fault.line
        );
        faults.push(raw.replace(&fault.find, &fault.replace));
        all = all.replace(&fault.find, &fault.replace);
    }
    Variants {
        clean: raw,
        faults,
        all,
    }
}

/// Scores one report whose variants have been read (`texts`: the same order as
/// [`Variants`]: clean, each fault, all at once).
fn score(report: &Report, texts: &[String], tally: &mut Tally) {
    let (clean_text, rest) = texts.split_first().expect("the clean text");
    let (all_text, fault_texts) = rest.split_last().expect("the text with every fault");
    let clean = audit(clean_text);
    let clean_keys: BTreeSet<(String, String)> = clean.iter().map(key).collect();
    for finding in &clean {
        match finding.severity {
            Severity::Error => tally.clean_errors.push(format!(
                "{} {:?}：{}",
                report.file,
                finding
                    .locations
                    .iter()
                    .filter_map(|l| l.line)
                    .collect::<Vec<_>>(),
                finding.message
            )),
            Severity::Warning => tally.clean_warnings += 1,
            Severity::Info => {}
        }
    }
    let new_findings = |text: &str| -> Vec<Finding> {
        audit(text)
            .into_iter()
            .filter(|f| f.severity != Severity::Info && !clean_keys.contains(&key(f)))
            .collect()
    };
    let mut all_lines = Vec::new();
    for (fault, text) in report.fault.iter().zip(fault_texts) {
        let lines = changed_lines(clean_text, text);
        assert!(
            !lines.is_empty(),
            "{}: `{}` changes nothing",
            report.file,
            fault.find
        );
        let found = new_findings(text).iter().any(|f| cites(f, &lines));
        let entry = tally.classes.entry(fault.class.clone()).or_default();
        entry.1 += 1;
        if found {
            entry.0 += 1;
        } else {
            tally.missed.push(format!(
                "{} 第 {} 行 [{}] {} → {}",
                report.file, fault.line, fault.class, fault.find, fault.replace
            ));
        }
        all_lines.push(lines);
    }
    let findings = new_findings(all_text);
    tally.all_at_once.1 += all_lines.len();
    tally.all_at_once.0 += all_lines
        .iter()
        .filter(|lines| findings.iter().any(|f| cites(f, lines)))
        .count();
}

/// Reads each variant as a file of the report's own type.
fn read_variants(report: &Report, variants: &Variants, dir: &Path) -> Vec<String> {
    std::iter::once(&variants.clean)
        .chain(&variants.faults)
        .chain(std::iter::once(&variants.all))
        .map(|raw| read_as(&report.file, raw, dir))
        .collect()
}

#[test]
fn corpus_score() {
    let manifest = manifest();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut tuning, mut held_out) = (Tally::default(), Tally::default());
    let schools: BTreeSet<&str> = manifest.report.iter().map(|r| r.school.as_str()).collect();
    for report in &manifest.report {
        let tally = if report.held_out {
            &mut held_out
        } else {
            &mut tuning
        };
        let texts = read_variants(report, &variants(report), dir.path());
        score(report, &texts, tally);
    }
    println!(
        "语料：{} 份报告，{} 所学校",
        manifest.report.len(),
        schools.len()
    );
    tuning.print("调校用报告");
    held_out.print("留出报告（未用于调校）");

    assert!(schools.len() >= 6, "the corpus covers at least six schools");
    let errors: Vec<&String> = tuning
        .clean_errors
        .iter()
        .chain(&held_out.clean_errors)
        .collect();
    assert!(errors.is_empty(), "errors on clean reports: {errors:#?}");
    let (found, total) = tuning.recall();
    assert!(
        found * 100 >= total * RECALL_FLOOR,
        "recall {found}/{total} under {RECALL_FLOOR}%"
    );
    let (found, total) = held_out.recall();
    assert!(
        found * 100 >= total * HELD_OUT_FLOOR,
        "held-out recall {found}/{total} under {HELD_OUT_FLOOR}%"
    );
}

/// The least recall accepted on the reports used in tuning, in percent.
const RECALL_FLOOR: usize = 80;

/// The least recall accepted on the held-out reports, in percent.
const HELD_OUT_FLOOR: usize = 70;

/// The reports scored again as Word documents (with real Word tables) and as PDFs, made
/// from each variant by LibreOffice: text and Markdown become a web page first, each line a
/// paragraph and each table (Markdown `|` rows, or columns aligned with spaces) a table.
const DOCUMENT_REPORTS: &[&str] = &[
    "a-nanxun.txt",
    "b-jinhua.html",
    "c-yongkang.txt",
    "g-lishui.txt",
];

/// The least recall accepted on the Word documents and on the PDFs, in percent.
const DOCX_RECALL_FLOOR: usize = 70;
const PDF_RECALL_FLOOR: usize = 70;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The cells of a table line of a text report, if it is one.
fn table_cells(line: &str) -> Option<Vec<String>> {
    let trimmed = line.trim();
    if let Some(inner) = trimmed.strip_prefix('|') {
        let inner = inner.trim_end_matches('|');
        return Some(inner.split('|').map(|c| c.trim().to_string()).collect());
    }
    let cells: Vec<String> = trimmed
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    (cells.len() >= 3).then_some(cells)
}

fn is_rule(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.starts_with('|') && trimmed.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// A report's source as a web page.
fn as_html(file: &str, raw: &str) -> String {
    if file.ends_with(".html") {
        return raw.to_string();
    }
    let mut body = String::new();
    let mut in_table = false;
    for line in raw.lines() {
        if is_rule(line) {
            continue;
        }
        match table_cells(line) {
            Some(cells) => {
                if !in_table {
                    body.push_str("<table border=\"1\">\n");
                    in_table = true;
                }
                body.push_str("<tr>");
                for cell in cells {
                    body.push_str(&format!("<td>{}</td>", escape(&cell)));
                }
                body.push_str("</tr>\n");
            }
            None => {
                if in_table {
                    body.push_str("</table>\n");
                    in_table = false;
                }
                let text = line.trim().trim_start_matches('#').trim();
                if !text.is_empty() {
                    body.push_str(&format!("<p>{}</p>\n", escape(text)));
                }
            }
        }
    }
    if in_table {
        body.push_str("</table>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>质量年报</title></head>\n<body>\n{body}</body></html>\n"
    )
}

/// Whether a program is installed; where the document tools are required
/// (`NIANBAO_REQUIRE_BROWSER=1`) a missing one fails the test.
fn tool(name: &str) -> bool {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("NIANBAO_REQUIRE_BROWSER").is_err(),
            "{name} is required here"
        );
        let _ = writeln!(std::io::stderr(), "跳过 Word 与 PDF 语料：未安装 {name}");
    }
    found
}

/// Converts web pages with LibreOffice, all in one run, into `out`.
fn convert(pages: &[PathBuf], to: &str, out: &Path, profile: &Path) {
    let status = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(out)
        .args(pages)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("soffice runs");
    assert!(status.success(), "soffice --convert-to {to} failed");
}

#[test]
fn corpus_score_in_word_and_pdf() {
    if !tool("soffice") || !tool("pdftotext") {
        return;
    }
    let manifest = manifest();
    let dir = tempfile::tempdir().expect("tempdir");
    let reports: Vec<&Report> = manifest
        .report
        .iter()
        .filter(|r| DOCUMENT_REPORTS.contains(&r.file.as_str()))
        .collect();
    assert_eq!(reports.len(), DOCUMENT_REPORTS.len());
    let pages_dir = dir.path().join("pages");
    std::fs::create_dir_all(&pages_dir).expect("folder");
    let mut pages = Vec::new();
    let mut counts = Vec::new();
    for (r, report) in reports.iter().enumerate() {
        let variants = variants(report);
        let sources: Vec<&String> = std::iter::once(&variants.clean)
            .chain(&variants.faults)
            .chain(std::iter::once(&variants.all))
            .collect();
        counts.push(sources.len());
        for (v, raw) in sources.into_iter().enumerate() {
            let page = pages_dir.join(format!("r{r}-v{v}.html"));
            std::fs::write(&page, as_html(&report.file, raw)).expect("write");
            pages.push(page);
        }
    }
    let profile = dir.path().join("profile");
    for (format, filter, floor) in [
        ("docx", "docx:MS Word 2007 XML", DOCX_RECALL_FLOOR),
        ("pdf", "pdf", PDF_RECALL_FLOOR),
    ] {
        let out = dir.path().join(format);
        std::fs::create_dir_all(&out).expect("folder");
        convert(&pages, filter, &out, &profile);
        let (mut tuning, mut held_out) = (Tally::default(), Tally::default());
        for (r, report) in reports.iter().enumerate() {
            let texts: Vec<String> = (0..counts[r])
                .map(|v| {
                    extract_text(&out.join(format!("r{r}-v{v}.{format}")))
                        .expect("a converted report is readable")
                })
                .collect();
            let tally = if report.held_out {
                &mut held_out
            } else {
                &mut tuning
            };
            score(report, &texts, tally);
        }
        println!("语料（{format}）：{}", DOCUMENT_REPORTS.join("、"));
        tuning.print(&format!("{format} 调校用报告"));
        held_out.print(&format!("{format} 留出报告（未用于调校）"));
        let errors: Vec<&String> = tuning
            .clean_errors
            .iter()
            .chain(&held_out.clean_errors)
            .collect();
        assert!(
            errors.is_empty(),
            "errors on clean {format} reports: {errors:#?}"
        );
        let (found, total) = {
            let (a, b) = tuning.recall();
            let (c, d) = held_out.recall();
            (a + c, b + d)
        };
        assert!(
            found * 100 >= total * floor,
            "{format} recall {found}/{total} under {floor}%"
        );
    }
}
