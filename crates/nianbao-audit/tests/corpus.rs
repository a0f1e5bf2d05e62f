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

fn score(report: &Report, dir: &Path, tally: &mut Tally) {
    let raw = std::fs::read_to_string(corpus().join(&report.file)).expect("report");
    let clean_text = read_as(&report.file, &raw, dir);
    let clean = audit(&clean_text);
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
    let raw_lines: Vec<&str> = raw.split('\n').collect();
    let mut all = raw.clone();
    let mut all_lines = Vec::new();
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
        let text = read_as(&report.file, &raw.replace(&fault.find, &fault.replace), dir);
        let lines = changed_lines(&clean_text, &text);
        assert!(
            !lines.is_empty(),
            "{}: `{}` changes nothing",
            report.file,
            fault.find
        );
        let found = new_findings(&text).iter().any(|f| cites(f, &lines));
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
        all = all.replace(&fault.find, &fault.replace);
        all_lines.push(lines);
    }
    let text = read_as(&report.file, &all, dir);
    let findings = new_findings(&text);
    tally.all_at_once.1 += all_lines.len();
    tally.all_at_once.0 += all_lines
        .iter()
        .filter(|lines| findings.iter().any(|f| cites(f, lines)))
        .count();
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
        score(report, dir.path(), tally);
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
