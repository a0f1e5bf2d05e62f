//! The bureau's commands on a SQLite file: synthetic schools, every school checked and
//! computed in one process, a wrong area file refused with its line, submission and
//! approval from the command line, and the compiled area report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("USER", "tester")
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A store in a fresh folder, `file` in it, holding `count` synthetic schools made with
/// `seed` and a share `faults` of them with a planted fault.
fn synth_store(file: &str, count: &str, seed: &str, faults: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(file);
    let out = run(
        &db,
        &[
            "synth", "schools", "--count", count, "--seed", seed, "--faults", faults,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    (dir, db)
}

/// `nianbao compile` of the synthetic district synth-d0000's 2025 report, `args` after.
fn compile(db: &Path, args: &[&str]) -> Output {
    let mut all = vec!["compile", "--area", "synth-d0000", "--year", "2025"];
    all.extend_from_slice(args);
    run(db, &all)
}

#[test]
fn synthetic_schools_are_checked_computed_and_compiled_in_one_process() {
    let (dir, db) = synth_store("bureau.db", "60", "3", "0.2");

    let out = run(&db, &["check", "--all"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("synth-")).count(),
        60
    );
    // Faults were planted, so some school has an error and the command says so.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout.contains("所有错误"), "{stdout}");

    let out = run(&db, &["indicators", "--all", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schools = json.as_array().unwrap();
    assert_eq!(schools.len(), 60);
    let ratio = schools[0]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "student_teacher_ratio")
        .unwrap();
    assert_eq!(ratio["values"].as_array().unwrap().len(), 3);

    // Submission of a clean school: accept its warnings, submit, approve, receive.
    let code = schools
        .iter()
        .map(|s| s["school"].as_str().unwrap().to_string())
        .find(|code| {
            let out = run(&db, &["check", "--school", code, "--format", "json"]);
            let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            findings["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["severity"] != "error")
        })
        .expect("a clean school");
    let out = run(&db, &["check", "--school", &code, "--format", "json"]);
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for finding in findings["findings"].as_array().unwrap() {
        if finding["severity"] == "warning" {
            let key = finding["key"].as_str().unwrap();
            let out = run(
                &db,
                &["accept", key, "--because", "已核实", "--school", &code],
            );
            assert!(out.status.success(), "{}", text(&out));
        }
    }
    let out = run(&db, &["submission", "submit", "--school", &code]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("已提交"), "{}", text(&out));
    // A return needs a reason; a district returns it with one.
    let out = run(
        &db,
        &["submission", "return", "--school", &code, "--item", "1.4="],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("没有写明原因"), "{}", text(&out));
    let out = run(
        &db,
        &[
            "submission",
            "return",
            "--school",
            &code,
            "--item",
            "2025 staff.total=请核对教职工总数",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    for args in [
        vec!["submission", "submit", "--school", code.as_str()],
        vec!["submission", "approve", "--school", code.as_str()],
        vec!["submission", "receive", "--school", code.as_str()],
    ] {
        let out = run(&db, &args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    let out = run(&db, &["submission", "history", "--school", &code]);
    let history = text(&out);
    assert!(history.contains("请核对教职工总数"), "{history}");
    assert!(history.contains("审核通过后数据未改动"), "{history}");

    // The district with that school cannot be approved while others wait.
    let out = run(
        &db,
        &[
            "submission",
            "approve-area",
            "--area",
            "synth-d0000",
            "--year",
            "2025",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("未审核通过"), "{}", text(&out));

    let out_dir = dir.path().join("out");
    let out = compile(
        &db,
        &["--format", "html", "--out", out_dir.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("已纳入的学校（1 所）"), "one approved school");
    assert!(html.contains("尚未纳入的学校（49 所）"));
    assert!(
        html.contains("征求意见稿"),
        "the draft says so on its cover"
    );
    // Peers are the city's approved schools by default; --peers names another level, and
    // the report says where they were taken from.
    assert!(html.contains("（同市）已审核的学校"), "the default peers");
    let out = compile(
        &db,
        &[
            "--format",
            "html",
            "--peers",
            "district",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("（同区县）已审核的学校"), "--peers district");
    let out = compile(&db, &["--peers", "planet"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("不是区域级别"), "{}", text(&out));

    // A final is refused while the bureau's texts are unwritten, naming them…
    let final_dir = dir.path().join("final");
    let compile_final = ["--final", "--out", final_dir.to_str().unwrap()];
    let out = compile(&db, &compile_final);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("尚不能定稿") && text(&out).contains("前言"),
        "{}",
        text(&out)
    );
    assert!(!final_dir.join("report.html").exists());
    // …and made once they are written: no draft marks, its number, the data notes.
    for part in ["preface", "overview", "challenges"] {
        let file = dir.path().join(format!("{part}.md"));
        std::fs::write(&file, "本区职业教育稳步发展。").unwrap();
        let out = run(
            &db,
            &[
                "area-text",
                "--area",
                "synth-d0000",
                "--year",
                "2025",
                "--part",
                part,
                file.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out));
    }
    let out = compile(&db, &compile_final);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("已定稿：第 1 号"), "{}", text(&out));
    let kept = std::fs::read_to_string(final_dir.join("report.html")).unwrap();
    assert!(kept.contains("定稿编号：第 1 号"));
    assert!(!kept.contains("征求意见稿"));
    assert!(kept.contains("已纳入的学校（1 所）") && kept.contains("尚未纳入的学校（49 所）"));
    assert!(
        std::fs::read(final_dir.join("report.docx"))
            .unwrap()
            .starts_with(b"PK")
    );
    // The PDF by the school report's renderer (fonts-noto-cjk is needed), without draft marks.
    let pdf = final_dir.join("report.pdf");
    assert!(pdf.exists(), "report.pdf: {}", text(&out));
    let printed: String = nianbao_audit::extract_text(&pdf)
        .unwrap()
        .split_whitespace()
        .collect();
    assert!(printed.contains("定稿编号：第1号"), "{printed}");
    assert!(!printed.contains("草稿"), "{printed}");
}

#[test]
fn a_wrong_area_file_names_its_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("areas.db");
    let file = dir.path().join("areas.toml");
    std::fs::write(
        &file,
        "[[province]]\ncode = \"50\"\nname = \"重庆市\"\n\n[[city]]\ncode = \"5001\"\nname = \"重庆市\"\nprovince = \"50\"\n\n[[district]]\ncode = \"500114\"\nname = \"黔江区\"\ncity = \"5009\"\n",
    )
    .unwrap();
    let out = run(&db, &["area", "load", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("第 13 行"), "{message}");
    assert!(message.contains("5009"), "{message}");
    let out = run(&db, &["area", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
}

#[test]
fn every_school_at_once_reads_as_each_school_alone() {
    let (_dir, db) = synth_store("all.db", "40", "17", "0.4");
    let json = |out: &Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
    };
    let checks = json(&run(&db, &["check", "--all", "--format", "json"]));
    let checks = checks.as_array().unwrap();
    let indicators = json(&run(&db, &["indicators", "--all", "--format", "json"]));
    let indicators = indicators.as_array().unwrap();
    assert_eq!(checks.len(), 40);
    assert_eq!(indicators.len(), 40);

    // Schools with errors and schools without, each compared with its own commands.
    let with_errors: Vec<&serde_json::Value> =
        checks.iter().filter(|c| c["errors"] != 0).take(4).collect();
    let clean: Vec<&serde_json::Value> =
        checks.iter().filter(|c| c["errors"] == 0).take(3).collect();
    assert_eq!(with_errors.len(), 4, "planted faults give errors");
    assert_eq!(clean.len(), 3);
    for line in with_errors.iter().chain(&clean) {
        let code = line["school"].as_str().unwrap();
        let alone = json(&run(&db, &["check", "--school", code, "--format", "json"]));
        let findings = alone["findings"].as_array().unwrap();
        let of =
            |severity: &'static str| findings.iter().filter(move |f| f["severity"] == severity);
        assert_eq!(line["errors"], of("error").count(), "{code}");
        assert_eq!(line["warnings"], of("warning").count(), "{code}");
        let rules: Vec<&serde_json::Value> = of("error").map(|f| &f["rule"]).collect();
        let listed: Vec<&serde_json::Value> =
            line["error_rules"].as_array().unwrap().iter().collect();
        assert_eq!(listed, rules, "{code}");

        let school = indicators.iter().find(|s| s["school"] == code).unwrap();
        let report_year = school["year"].as_i64().unwrap();
        let years: Vec<i64> = school["indicators"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[0].as_i64().unwrap())
            .collect();
        assert_eq!(years.len(), 3, "{code}");
        for year in years {
            let alone = json(&run(
                &db,
                &[
                    "indicators",
                    "--school",
                    code,
                    "--year",
                    &year.to_string(),
                    "--format",
                    "json",
                ],
            ));
            let alone = alone["indicators"].as_array().unwrap();
            let all = school["indicators"].as_array().unwrap();
            assert_eq!(all.len(), alone.len());
            for (a, b) in all.iter().zip(alone) {
                assert_eq!(a["id"], b["id"]);
                let value = a["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|v| v[0] == year)
                    .map(|v| v[1].clone())
                    .unwrap();
                assert_eq!(value, b["value"], "{code} {year} {}", a["id"]);
                if year == report_year {
                    let verdicts = b["verdicts"].as_array().unwrap();
                    let meets =
                        (!verdicts.is_empty()).then(|| verdicts.iter().all(|v| v["pass"] == true));
                    assert_eq!(a["meets"], serde_json::json!(meets), "{code} {}", a["id"]);
                }
            }
        }
    }
}
