//! The points ledger reaches section 2.1 of the report: the sample school gets a synthetic
//! term of point events in the same store, and the figures `nianbao points figures` prints
//! for that school year are read back from the Word document.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nianbao_core::number::grouped;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(self.path("store.db"))
            .args(args)
            .env_remove("NIANBAO_DATABASE_URL")
            .output()
            .unwrap()
    }

    fn succeed(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nianbao {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn docx_text(&self) -> String {
        let out = self.path("out");
        self.succeed(&["report", "--format", "docx", "--out", out.to_str().unwrap()]);
        nianbao_audit::extract_text(&out.join("report.docx")).unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The text of one numbered section of the report: from its heading to the next one.
fn section(text: &str, heading: &str, next: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| l.trim() == heading)
        .unwrap_or_else(|| panic!("no heading {heading} in the report"));
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.trim() == next)
        .map_or(lines.len(), |p| start + 1 + p);
    lines[start + 1..end].join("\n")
}

#[test]
fn section_2_1_quotes_the_ledger_of_the_school_year() {
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    let folder = ws.path("sample");
    copy_dir(&sample, &folder);
    std::fs::remove_dir_all(folder.join("content")).unwrap();
    ws.succeed(&["import", folder.to_str().unwrap()]);

    // Before the ledger has events, the report says nothing about it.
    let before = ws.docx_text();
    let wellbeing = section(&before, "2.1 立德树人", "2.2 专业建设");
    assert!(!wellbeing.contains("积分事件"), "{wellbeing}");

    let code = "qianjiang-mzzj";
    let synth = ws.succeed(&[
        "points",
        "--school",
        code,
        "synth",
        "--students",
        "300",
        "--events",
        "6000",
        "--first-year",
        "2025",
        "--years",
        "1",
        "--seed",
        "7",
    ]);
    assert!(synth.contains("条/秒"), "{synth}");
    let figures = ws.succeed(&["points", "--school", code, "figures", "--year", "2025"]);
    let figures: serde_json::Value = serde_json::from_str(&figures).unwrap();
    let count = |key: &str| figures[key].as_u64().unwrap_or_else(|| panic!("{key}")) as f64;
    assert!(count("events") > 0.0);

    let text = ws.docx_text();
    let wellbeing = section(&text, "2.1 立德树人", "2.2 专业建设");
    let expect = [
        format!("共记录积分事件 {} 条", grouped(count("events"), 0)),
        format!("加分 {} 条", grouped(count("positive_events"), 0)),
        format!("扣分 {} 条", grouped(count("negative_events"), 0)),
        format!("覆盖学生 {} 人", grouped(count("students_evaluated"), 0)),
        format!("名册在籍 {} 人", grouped(count("students_on_roll"), 0)),
        format!(
            "学生人均积分 {} 分",
            grouped(figures["average_total"].as_f64().unwrap(), 1)
        ),
        "2025—2026 学年".to_string(),
    ];
    for phrase in &expect {
        assert!(
            wellbeing.contains(phrase.as_str()),
            "「{phrase}」 not in 2.1:\n{wellbeing}"
        );
    }
    for d in figures["dimension_averages"].as_array().unwrap() {
        let phrase = format!(
            "{} {} 分",
            d["dimension"].as_str().unwrap(),
            grouped(d["average"].as_f64().unwrap(), 1)
        );
        assert!(
            wellbeing.contains(&phrase),
            "「{phrase}」 not in 2.1:\n{wellbeing}"
        );
    }
    for a in figures["awards"].as_array().unwrap() {
        let students = a["students"].as_u64().unwrap() as f64;
        let name = a["name"].as_str().unwrap();
        let label = name.trim_end_matches("推荐");
        let phrase = format!("{label} {} 人", grouped(students, 0));
        assert!(
            wellbeing.contains(&phrase),
            "「{phrase}」 not in 2.1:\n{wellbeing}"
        );
    }
}
