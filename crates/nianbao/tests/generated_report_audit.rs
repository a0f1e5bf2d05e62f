//! The reports `nianbao report` writes, read back by `nianbao audit`: on a consistent
//! dataset (the sample with its contradictions corrected, and a warning accepted with a
//! written explanation) neither the Word document, the PDF nor the web page has a finding of
//! severity error; on the sample as it is, the only errors are contradictions its data
//! really holds.

use std::fs;
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A fresh folder with a store holding the sample school, the sample folder at
    /// `out/sample` and its report at `out/report.*`.
    fn with_demo() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = ws.run(&["demo", "--out", ws.path("out").to_str().unwrap()]);
        assert!(
            out.status.success(),
            "demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ws
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(self.path("store.db"))
            .args(args)
            .output()
            .unwrap()
    }

    fn succeed(&self, args: &[&str]) {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nianbao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A copy of the sample folder under a new name, for editing.
    fn copy_sample(&self, name: &str) -> PathBuf {
        let target = self.path(name);
        copy_dir(&self.path("out/sample"), &target);
        target
    }

    /// The findings of `nianbao audit FILE`, and its report for people (for messages).
    fn audit(&self, file: &Path) -> (Vec<Value>, String) {
        let file = file.to_str().unwrap();
        let out = self.run(&["audit", file, "--format", "json"]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "audit {file} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        let findings = json["findings"].as_array().unwrap().clone();
        let errors = findings.iter().any(|f| f["severity"] == "error");
        assert_eq!(out.status.code(), Some(i32::from(errors)), "exit status");
        let human = String::from_utf8_lossy(&self.run(&["audit", file]).stdout).into_owned();
        (findings, human)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
}

/// The generated files the auditor can read here: Word and HTML always, the PDF when
/// pdftotext is installed (the PDF itself needs fonts-noto-cjk).
fn generated(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![dir.join("report.docx"), dir.join("report.html")];
    if tool("pdftotext") {
        let pdf = dir.join("report.pdf");
        assert!(
            pdf.exists(),
            "report 应写出 report.pdf（需要 fonts-noto-cjk）"
        );
        files.push(pdf);
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "跳过 PDF：未安装 pdftotext（poppler-utils）"
        );
    }
    files
}

fn errors(findings: &[Value]) -> Vec<&Value> {
    findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect()
}

const EXPLANATION: &str = "2024年有85名学生由其他专业转入电子商务专业，在校生人数301人属实";

#[test]
fn reports_generated_from_consistent_data_have_no_audit_error() {
    let ws = Workspace::with_demo();
    let fixed = ws.copy_sample("corrected");
    let y2024 = fixed.join("years/2024.toml");
    edit(&y2024, "external = 188", "external = 196");
    edit(
        &y2024,
        "intermediate_share = 31.7",
        "intermediate_share = 31.8",
    );
    edit(&y2024, "senior_share = 5.06", "senior_share = 5.07");
    edit(&y2024, "rate = 100", "rate = 90.64");
    let y2025 = fixed.join("years/2025.toml");
    edit(&y2025, "other_share = 9.4", "other_share = 8.4");
    edit(
        &y2025,
        "student_teacher_ratio = 18.7",
        "student_teacher_ratio = 19.0",
    );
    edit(&y2025, "rate = 100", "rate = 92.77");
    edit(&y2025, "matched = 2964", "matched = 196");
    ws.succeed(&["import", fixed.to_str().unwrap()]);
    let check = ws.run(&["check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "the corrected data has no error"
    );
    // A warning accepted with an explanation that states other figures: the data notes
    // print it, and it must not read as a contradiction.
    ws.succeed(&[
        "accept",
        "students.stock-flow:2024:电子商务",
        "--because",
        EXPLANATION,
    ]);
    let out = ws.path("report");
    ws.succeed(&["report", "--format", "all", "--out", out.to_str().unwrap()]);

    for file in generated(&out) {
        let (findings, human) = ws.audit(&file);
        assert!(
            errors(&findings).is_empty(),
            "{}：一致的数据生成的报告不应有错误\n{human}",
            file.display()
        );
        let text = nianbao_audit::extract_text(&file).unwrap();
        assert!(text.contains("数据说明"), "{}", file.display());
        let squeezed: String = text.split_whitespace().collect();
        assert!(
            squeezed.contains(&EXPLANATION.replace(' ', "")),
            "{} 缺少已说明的核查提示",
            file.display()
        );
    }
}

/// The errors the sample's own data holds, as its report prints them: 本地生源 91.6% and
/// 外地生源 9.4% make 101%; Table 3 gives 升学率 100% for 2024 and 2025 while its counts
/// give 2652 / 2926 and 2887 / 3112.
const REAL_ERRORS: &[(&str, &str, bool)] = &[
    ("share-sum", "91.6% + 9.4% = 101.0%", true),
    ("rate-counts", "2024年升学率为 100%", false),
    ("rate-counts", "2025年升学率为 100%", false),
];

#[test]
fn the_sample_report_shows_only_the_contradictions_of_its_data() {
    let ws = Workspace::with_demo();
    for file in generated(&ws.path("out")) {
        let (findings, human) = ws.audit(&file);
        for error in errors(&findings) {
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                REAL_ERRORS
                    .iter()
                    .any(|(rule, words, _)| error["rule"] == *rule && message.contains(words)),
                "{}：数据中没有的错误 {error:#}\n{human}",
                file.display()
            );
        }
        // Prose is read from every format; tables from Word and HTML only (pdftotext writes
        // table cells one by one).
        let pdf = file.extension().is_some_and(|e| e == "pdf");
        for (rule, words, in_prose) in REAL_ERRORS {
            if pdf && !in_prose {
                continue;
            }
            assert!(
                errors(&findings).iter().any(|f| f["rule"] == *rule
                    && f["message"].as_str().unwrap_or_default().contains(words)),
                "{}：应发现 {words}\n{human}",
                file.display()
            );
        }
    }
}
