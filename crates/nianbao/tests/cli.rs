//! End-to-end tests of the command line on a real SQLite file: demo, import errors that
//! leave the store unchanged, check and indicators output, and the generated report's
//! tables read back from the HTML.

use std::fs;
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nianbao_core::{Dataset, Definitions, Year};
use serde_json::Value;

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A fresh folder with a store holding the sample school, and the sample folder at `out/sample`.
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

    fn sample(&self) -> PathBuf {
        self.path("out/sample")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(self.path("store.db"))
            .args(args)
            .output()
            .unwrap()
    }

    fn stdout(&self, args: &[&str]) -> String {
        String::from_utf8(self.run(args).stdout).unwrap()
    }

    /// A copy of the sample folder under a new name, for editing.
    fn copy_sample(&self, name: &str) -> PathBuf {
        let target = self.path(name);
        copy_dir(&self.sample(), &target);
        target
    }

    /// Everything the store holds for the sample school, as exported files (pictures as
    /// their bytes read leniently).
    fn snapshot(&self) -> Vec<(String, String)> {
        let dir = self.path("snapshot");
        let _ = fs::remove_dir_all(&dir);
        let out = self.run(&["export", dir.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files = Vec::new();
        collect_files(&dir, &dir, &mut files);
        files.sort();
        files
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

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().display().to_string();
            let bytes = fs::read(&path).unwrap();
            out.push((name, String::from_utf8_lossy(&bytes).into_owned()));
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

/// Imports `folder` expecting failure; returns stderr after checking the store is unchanged.
fn failed_import(ws: &Workspace, folder: &Path) -> String {
    let before = ws.snapshot();
    let out = ws.run(&["import", folder.to_str().unwrap()]);
    assert!(!out.status.success(), "import should have failed");
    assert_eq!(ws.snapshot(), before, "a failed import changed the store");
    String::from_utf8(out.stderr).unwrap()
}

/// Something done to a copy of the sample folder to break it.
type Breakage = Box<dyn Fn(&Path)>;

#[test]
fn import_errors_name_the_place_and_leave_the_store_unchanged() {
    let ws = Workspace::with_demo();
    // Make the store differ from the sample so an import that went through would show.
    let changed = ws.copy_sample("changed");
    edit(
        &changed.join("years/2025.toml"),
        "total = 639",
        "total = 640",
    );
    assert!(
        ws.run(&["import", changed.to_str().unwrap()])
            .status
            .success()
    );

    let cases: Vec<(&str, Breakage, String)> = vec![
        ("missing file", Box::new(|d: &Path| fs::remove_file(d.join("majors.csv")).unwrap()), "majors.csv: 文件不存在".into()),
        (
            "missing column",
            Box::new(|d: &Path| edit(&d.join("students.csv"), ",在校生人数,", ",在校人数,")),
            "students.csv:1: 「在校生人数」: 缺少列「在校生人数」".into(),
        ),
        (
            "text in a count",
            Box::new(|d: &Path| edit(&d.join("students.csv"), "会计事务,2024,271,", "会计事务,2024,二七一,")),
            "students.csv:3: 「招生人数」: 应为数值".into(),
        ),
        (
            "negative count",
            Box::new(|d: &Path| edit(&d.join("years/2025.toml"), "establishment = 376", "establishment = -376")),
            "2025.toml:25: 「staff.establishment」: 「在编教职工」应为非负整数，实际为 -376".into(),
        ),
        (
            "percentage over 100",
            Box::new(|d: &Path| edit(&d.join("years/2025.toml"), "local_share = 91.6", "local_share = 191.6")),
            "2025.toml:20: 「students.local_share」: 「本地生源占比」应为0 到 100 之间的百分数，实际为 191.6".into(),
        ),
        (
            "duplicate major",
            Box::new(|d: &Path| {
                let path = d.join("majors.csv");
                let text = fs::read_to_string(&path).unwrap() + "会计事务,财经商贸类,现代服务部\n";
                fs::write(path, text).unwrap();
            }),
            "majors.csv:24: 「专业名称」: 专业「会计事务」重复（第 2 行已有）".into(),
        ),
        (
            "unknown category",
            Box::new(|d: &Path| edit(&d.join("majors.csv"), "会计事务,财经商贸类", "会计事务,财经管理类")),
            "majors.csv:2: 「专业大类」: 未知的专业大类「财经管理类」".into(),
        ),
        (
            "year out of range",
            Box::new(|d: &Path| edit(&d.join("students.csv"), "电子商务,2023,", "电子商务,1889,")),
            "students.csv:5: 「年份」: 年份 1889 超出范围".into(),
        ),
        (
            "year file out of range",
            Box::new(|d: &Path| fs::rename(d.join("years/2023.toml"), d.join("years/1980.toml")).unwrap()),
            "1980.toml: 文件名应为年份（如 2025.toml）：年份 1980 超出范围".into(),
        ),
        (
            "unknown element",
            Box::new(|d: &Path| edit(&d.join("years/2024.toml"), "total = 576", "totl = 576")),
            "2024.toml:9: 「staff.totl」: 未知的数据项「staff.totl」".into(),
        ),
        (
            "broken TOML",
            Box::new(|d: &Path| edit(&d.join("school.toml"), "report_year = 2025", "report_year = = 2025")),
            "school.toml:12: TOML 格式错误".into(),
        ),
        (
            "broken CSV",
            Box::new(|d: &Path| edit(&d.join("students.csv"), "会计事务,2025,213,687,229", "会计事务,2025,213,687")),
            "students.csv:4: CSV 格式错误：本行有 4 列，表头有 5 列".into(),
        ),
        (
            "not UTF-8",
            Box::new(|d: &Path| fs::write(d.join("majors.csv"), b"\xc4\xea\xb1\xa8,\n").unwrap()),
            "majors.csv: 不是 UTF-8 编码的文本文件".into(),
        ),
    ];
    for (name, break_it, expected) in cases {
        let folder = ws.copy_sample(&format!("case-{}", name.replace(' ', "-")));
        break_it(&folder);
        let stderr = failed_import(&ws, &folder);
        assert!(
            stderr.contains(&expected),
            "{name}: expected {expected:?} in {stderr:?}"
        );
    }

    let missing = ws.path("no-such-folder");
    let stderr = failed_import(&ws, &missing);
    assert!(
        stderr.contains("no-such-folder: 文件夹不存在或无法读取"),
        "{stderr}"
    );
    let a_file = ws.sample().join("school.toml");
    let stderr = failed_import(&ws, &a_file);
    assert!(stderr.contains("school.toml: 不是文件夹"), "{stderr}");
}

#[test]
fn check_reports_the_sample_contradictions_as_errors() {
    let ws = Workspace::with_demo();
    let out = ws.run(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "errors found: exit code 1");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let find = |rule: &str, year: u64| {
        findings.iter().find(|f| {
            f["rule"] == rule
                && f["locations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["year"] == year)
        })
    };
    let staff = find("staff.total-parts", 2024).expect("2024 staff total against its parts");
    assert_eq!(staff["severity"], "error");
    assert!(staff["message"].as_str().unwrap().contains("576"));
    assert!(staff["message"].as_str().unwrap().contains("568"));
    let elements: Vec<&str> = staff["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["element"].as_str().unwrap())
        .collect();
    assert_eq!(
        elements,
        ["staff.total", "staff.establishment", "staff.external"]
    );
    assert!(find("staff.total-parts", 2025).is_none(), "2025 adds up");
    assert_eq!(find("further.rate", 2025).unwrap()["severity"], "error");
    assert_eq!(
        find("students.origin-shares-whole", 2025).unwrap()["severity"],
        "error"
    );
    assert_eq!(
        find("indicator.reported.student_teacher_ratio", 2025).unwrap()["severity"],
        "error"
    );
    assert_eq!(
        find("students.stock-flow", 2024).unwrap()["severity"],
        "warning"
    );
    let senior =
        find("standard.national-2010-setup.senior_title_share", 2025).expect("senior title share");
    assert_eq!(senior["severity"], "warning");
    assert!(senior["message"].as_str().unwrap().contains("17.8"));
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "catalogue.mixed-editions")
    );

    let text = ws.stdout(&["check"]);
    assert!(text.contains("1.4 师资队伍"), "grouped by section");
    assert!(text.contains("[错误] 2024年度教职工总数应等于在编与外聘人数之和"));
}

#[test]
fn the_corrected_sample_has_no_errors() {
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
    assert!(
        ws.run(&["import", fixed.to_str().unwrap()])
            .status
            .success()
    );
    let out = ws.run(&["check", "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(out.status.code(), Some(0));
    // Warnings that need an explanation remain.
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] == "warning")
    );
}

#[test]
fn indicators_show_thresholds_and_inputs() {
    let ws = Workspace::with_demo();
    let json: Value =
        serde_json::from_str(&ws.stdout(&["indicators", "--format", "json"])).unwrap();
    let indicators = json["indicators"].as_array().unwrap();
    let get = |id: &str| indicators.iter().find(|i| i["id"] == id).unwrap();
    let land = get("land_per_student");
    assert_eq!(land["display"], "35.41");
    assert!(
        land["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["pass"] == true)
    );
    let inputs: Vec<&str> = land["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["element"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, ["conditions.land_area", "students.enrolled_total"]);
    let senior = get("senior_title_share");
    assert_eq!(senior["display"], "17.8");
    let verdict = &senior["verdicts"][0];
    assert_eq!(verdict["pass"], false);
    assert_eq!(verdict["op"], "≥");
    assert_eq!(verdict["threshold"], 20.0);
    assert!(
        verdict["source"]
            .as_str()
            .unwrap()
            .contains("教职成〔2010〕12号")
    );

    let text = ws.stdout(&["indicators"]);
    assert!(text.contains("生师比：19.0"));
    assert!(text.contains("未达标"));
    let previous = ws.stdout(&["indicators", "--year", "2024"]);
    assert!(previous.starts_with("2024 年度指标"));
}

fn sample_dataset(ws: &Workspace) -> Dataset {
    nianbao_io::read_dataset(&ws.sample(), &Definitions::builtin().unwrap()).unwrap()
}

fn cell_text(element: scraper::ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_string()
}

/// A table cell of element `code` as the number-format rule prints its kind.
fn number_cell(code: &str, value: Option<f64>) -> String {
    let kind = Definitions::builtin()
        .unwrap()
        .elements
        .get(code)
        .unwrap()
        .kind;
    value
        .map(|v| nianbao_core::number::Style::of(kind).format(v))
        .unwrap_or_default()
}

#[test]
fn report_tables_equal_the_dataset_cell_for_cell() {
    let ws = Workspace::with_demo();
    let html = fs::read_to_string(ws.path("out/report.html")).unwrap();
    let doc = scraper::Html::parse_document(&html);
    let data = sample_dataset(&ws);
    let years: Vec<Year> = [2023, 2024, 2025]
        .into_iter()
        .map(|y| Year::new(y).unwrap())
        .collect();
    let rows = |table: &str| -> Vec<Vec<String>> {
        let selector = scraper::Selector::parse(&format!("#{table} tbody tr")).unwrap();
        let cells = scraper::Selector::parse("th, td").unwrap();
        doc.select(&selector)
            .map(|tr| tr.select(&cells).map(cell_text).collect())
            .collect()
    };

    // 表 1: two header rows, then one row per year.
    let header = scraper::Selector::parse("#table-1 thead tr").unwrap();
    assert_eq!(doc.select(&header).count(), 2);
    let t1 = rows("table-1");
    assert_eq!(t1.len(), 3);
    for (row, year) in t1.iter().zip(&years) {
        assert_eq!(row[0], format!("{year}年度"));
        let expected: Vec<String> = nianbao_report::tables::STAFF_COLUMNS
            .iter()
            .map(|(_, _, code)| number_cell(code, data.value(*year, code)))
            .collect();
        assert_eq!(&row[1..], expected.as_slice(), "表1 {year}");
    }
    assert_eq!(t1[1][1], "576");

    // 表 2: one row per major (the category cell only on a group's first row), then 合计.
    let t2 = rows("table-2");
    assert_eq!(t2.len(), data.majors.len() + 1);
    for (row, major) in t2.iter().zip(&data.majors) {
        let values = &row[row.len() - 9..];
        assert_eq!(row[row.len() - 10], major.name);
        let mut expected = Vec::new();
        for code in ["major.intake", "major.enrolled", "major.graduates"] {
            expected.extend(
                years
                    .iter()
                    .map(|y| number_cell(code, data.major_value(*y, code, &major.name))),
            );
        }
        assert_eq!(values, expected.as_slice(), "表2 {}", major.name);
    }
    let total = t2.last().unwrap();
    assert_eq!(total[0], "合计");
    let mut expected = Vec::new();
    for code in [
        "students.intake_total",
        "students.enrolled_total",
        "students.graduates_total",
    ] {
        expected.extend(
            years
                .iter()
                .map(|y| number_cell(code, data.value(*y, code))),
        );
    }
    assert_eq!(&total[total.len() - 9..], expected.as_slice());

    // 表 3: the years with further-education data.
    let t3 = rows("table-3");
    assert_eq!(t3.len(), 2);
    for row in &t3 {
        let year = Year::new(row[0].parse().unwrap()).unwrap();
        let expected: Vec<String> = nianbao_report::tables::FURTHER_COLUMNS
            .iter()
            .map(|(_, code)| {
                let text = number_cell(code, data.value(year, code));
                if *code == "further.rate" {
                    format!("{text}%")
                } else {
                    text
                }
            })
            .collect();
        assert_eq!(&row[1..], expected.as_slice(), "表3 {year}");
    }

    // Prose numbers are bound to the data too.
    assert!(
        html.contains("招生 3,211 人，同比减少224人"),
        "year-over-year wording from the data"
    );
}

#[test]
fn a_warning_can_be_accepted_with_an_explanation_but_an_error_cannot() {
    let ws = Workspace::with_demo();
    let key = "students.stock-flow:2024:电子商务";
    let out = ws.run(&[
        "accept",
        key,
        "--because",
        "2024年有85名学生由其他专业转入电子商务专业",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_str(&ws.stdout(&["check", "--format", "json"])).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap();
    assert_eq!(
        finding["accepted"]["explanation"],
        "2024年有85名学生由其他专业转入电子商务专业"
    );
    assert!(ws.stdout(&["check"]).contains("已说明"));
    assert!(
        ws.stdout(&["history"]).contains(key),
        "the acceptance is in the change log"
    );

    let refused = ws.run(&["accept", "staff.total-parts:2024", "--because", "另有说明"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("是错误，需要更正数据"));
    let unknown = ws.run(&["accept", "no.such-rule:2024", "--because", "x"]);
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("当前核查结果中没有「no.such-rule:2024」")
    );
    let empty = ws.run(&["accept", key, "--because", "  "]);
    assert!(String::from_utf8_lossy(&empty.stderr).contains("说明不能为空"));
}

#[test]
fn commands_work_on_postgresql_when_given_a_database_url() {
    let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "NIANBAO_TEST_DATABASE_URL is not set: PostgreSQL part skipped"
        );
        return;
    };
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--database-url")
            .arg(&url)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["demo", "--out", ws.path("out").to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(
        &run(&["check", "--school", "qianjiang-mzzj", "--format", "json"]).stdout,
    )
    .unwrap();
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "staff.total-parts:2024")
    );
}

/// The demo's report files are created as its findings.json is, with the mode any new file
/// gets: 0666 less the umask (0644 and 0640 under the umasks 022 and 027).
#[cfg(unix)]
#[test]
fn report_files_get_the_mode_any_new_file_gets() {
    use std::os::unix::fs::PermissionsExt;
    // The permission bits, in octal as `ls` and `chmod` write them.
    let mode = |path: &Path| {
        format!(
            "{:o}",
            fs::metadata(path).unwrap().permissions().mode() & 0o777
        )
    };
    let ws = Workspace::with_demo();
    let findings = mode(&ws.path("out/findings.json"));
    for name in ["report.html", "report.docx", "report.pdf"] {
        let path = ws.path("out").join(name);
        if name == "report.pdf" && !path.exists() {
            continue; // no CJK fonts: the demo skips the PDF
        }
        assert_eq!(mode(&path), findings, "{name}");
    }
    for (umask, expected) in [("022", "644"), ("027", "640")] {
        let out = ws.path(&format!("umask-{umask}"));
        let run = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(ws.path("store.db"))
            .args(["report", "--format", "html", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(mode(&out.join("report.html")), expected, "umask {umask}");
    }
}

#[test]
fn users_are_added_with_a_role_and_a_password_from_stdin() {
    use std::io::Write;
    let ws = Workspace::with_demo();
    let add = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(ws.path("store.db"))
            .args(["user", "add"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(password.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = add(
        &["--name", "zhang", "--role", "质量办"],
        "correct horse battery\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("已添加用户「zhang」（质量办）"));

    let again = add(
        &["--name", "zhang", "--role", "quality"],
        "another password\n",
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("用户「zhang」已存在"));
    let no_department = add(
        &["--name", "li", "--role", "department"],
        "long enough password\n",
    );
    assert!(
        String::from_utf8_lossy(&no_department.stderr)
            .contains("需要用 --department 指定所属专业部")
    );
    let wrong_department = add(
        &[
            "--name",
            "li",
            "--role",
            "department",
            "--department",
            "教务处",
        ],
        "long enough\n",
    );
    assert!(String::from_utf8_lossy(&wrong_department.stderr).contains("没有专业部「教务处」"));
    let weak = add(&["--name", "wang", "--role", "reviewer"], "short\n");
    assert!(String::from_utf8_lossy(&weak.stderr).contains("密码至少需要 8 个字符"));
    let unknown_role = add(
        &["--name", "wang", "--role", "校长"],
        "long enough password\n",
    );
    assert!(String::from_utf8_lossy(&unknown_role.stderr).contains("未知的角色「校长」"));
    let editor = add(
        &[
            "--name",
            "li",
            "--role",
            "department",
            "--department",
            "信息技术部",
        ],
        "long enough password\n",
    );
    assert!(
        editor.status.success(),
        "{}",
        String::from_utf8_lossy(&editor.stderr)
    );

    let list = ws.stdout(&["user", "list"]);
    assert!(
        list.contains("li\t部门填报\tqianjiang-mzzj / 信息技术部"),
        "{list}"
    );
    assert!(list.contains("zhang\t质量办\tqianjiang-mzzj"), "{list}");
    assert!(!list.contains("wang"));

    // Teachers of the points ledger name their classes, a student their 学号.
    let head = add(
        &[
            "--name",
            "chen",
            "--role",
            "head_teacher",
            "--class",
            "汽修2601",
            "--class",
            "汽修2602",
        ],
        "long enough password\n",
    );
    assert!(
        head.status.success(),
        "{}",
        String::from_utf8_lossy(&head.stderr)
    );
    assert!(String::from_utf8_lossy(&head.stdout).contains("（班主任）"));
    let pupil = add(
        &[
            "--name",
            "xiaoming",
            "--role",
            "学生",
            "--student",
            "S2601001",
        ],
        "long enough password\n",
    );
    assert!(
        pupil.status.success(),
        "{}",
        String::from_utf8_lossy(&pupil.stderr)
    );
    let classless = add(
        &["--name", "zhao", "--role", "teacher"],
        "long enough password\n",
    );
    assert!(
        String::from_utf8_lossy(&classless.stderr).contains("任课教师账号须指定所教的班级"),
        "{}",
        String::from_utf8_lossy(&classless.stderr)
    );
    let list = ws.stdout(&["user", "list"]);
    assert!(
        list.contains("chen\t班主任\tqianjiang-mzzj / 汽修2601、汽修2602"),
        "{list}"
    );
    assert!(
        list.contains("xiaoming\t学生\tqianjiang-mzzj / S2601001"),
        "{list}"
    );
    assert!(!list.contains("zhao"), "{list}");
}

#[test]
fn audit_reads_a_report_and_cites_its_lines() {
    let ws = Workspace {
        dir: tempfile::tempdir().unwrap(),
    };
    let report = ws.path("report.txt");
    fs::write(
        &report,
        "1.4 师资队伍\n全校教职工总数600人，其中在编400人，\n外聘180人。\n本地生源占90.5%，外地生源占9.5%。\n",
    )
    .unwrap();
    let extracted = ws.stdout(&["extract", report.to_str().unwrap()]);
    assert!(extracted.contains("2  全校教职工总数600人"), "{extracted}");
    let out = ws.run(&["audit", report.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "an error was found");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["severity"], "error");
    let lines: Vec<u64> = findings[0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3]);
    let missing = ws.run(&["audit", ws.path("none.docx").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("none.docx"));
}
