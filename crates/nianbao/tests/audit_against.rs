//! `nianbao audit FILE --against`: the numbers of a report compared with the school's data in
//! the store. The report `nianbao report` writes from the data agrees with it; a report
//! written by hand, in other words, agrees where its numbers are the data's and lists each
//! changed number as differing, with both values and its line; exit 1 only then.

mod common;

use std::fs;
use std::path::Path;

use common::Workspace;
use serde_json::Value;

fn against(ws: &Workspace, file: &Path, extra: &[&str]) -> (Value, i32, String) {
    let file = file.to_str().unwrap();
    let mut args = vec!["audit", file, "--against", "--format", "json"];
    args.extend_from_slice(extra);
    let out = ws.run(&args);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1),
        "audit --against failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut human_args = vec!["audit", file, "--against"];
    human_args.extend_from_slice(extra);
    let human = String::from_utf8_lossy(&ws.run(&human_args).stdout).into_owned();
    (json, code, human)
}

fn items<'a>(json: &'a Value, verdict: &str) -> Vec<&'a Value> {
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["verdict"] == verdict)
        .collect()
}

fn find<'a>(json: &'a Value, code: &str, year: i64) -> Vec<&'a Value> {
    json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["code"] == code && i["year"] == year)
        .collect()
}

/// A report written by hand about the sample school's 2025 data, in wording of its own.
const HAND_WRITTEN: &str = "\
黔江区民族职业教育中心2025年质量年度报告

一、学校概况

（一）办学条件
学校校园用地面积约33万平方米，校舍面积19.91万平方米，藏书465,650册。

（二）学生
2025年学校共有在籍学生9313人，当年招收新生3211人，毕业学生3112人。

（三）教师队伍
全校教职员工共计639人，其中正式在编376人，外聘263人。专职教师488人，具有硕士研究生学历的32人。
学校“双师型”教师225人，生师比19.0。
";

#[test]
fn a_hand_written_report_is_compared_number_by_number() {
    let ws = Workspace::with_demo();
    ws.import_corrected();
    let report = ws.path("hand.txt");
    fs::write(&report, HAND_WRITTEN).unwrap();
    let (json, code, human) = against(&ws, &report, &[]);
    assert_eq!(code, 0, "every number agrees\n{human}");
    assert!(items(&json, "differs").is_empty(), "{human}");
    for (element, value) in [
        ("conditions.land_area", 329800.11),
        ("conditions.building_area", 199100.59),
        ("conditions.books", 465650.0),
        ("students.enrolled_total", 9313.0),
        ("students.intake_total", 3211.0),
        ("students.graduates_total", 3112.0),
        ("staff.total", 639.0),
        ("staff.establishment", 376.0),
        ("staff.external", 263.0),
        ("staff.full_time.total", 488.0),
        ("staff.full_time.degree.master", 32.0),
        ("staff.dual.total", 225.0),
        ("student_teacher_ratio", 9313.0 / 489.0),
    ] {
        let found = find(&json, element, 2025);
        assert_eq!(found.len(), 1, "{element} read once\n{human}");
        assert_eq!(found[0]["verdict"], "agrees", "{element}\n{human}");
        let stored = found[0]["stored"].as_f64().unwrap();
        assert!((stored - value).abs() < 1e-6, "{element}: {stored}");
    }

    // One number changed: listed as differing, with both values and its line; exit 1.
    let changed = HAND_WRITTEN.replace("其中正式在编376人", "其中正式在编367人");
    fs::write(&report, &changed).unwrap();
    let (json, code, human) = against(&ws, &report, &[]);
    assert_eq!(code, 1, "{human}");
    let differs = items(&json, "differs");
    assert_eq!(differs.len(), 1, "{human}");
    let item = differs[0];
    assert_eq!(item["code"], "staff.establishment");
    assert_eq!(item["written"], "367人");
    assert_eq!(item["stored"].as_f64(), Some(376.0));
    let line = changed
        .lines()
        .position(|l| l.contains("367"))
        .map(|i| i + 1)
        .unwrap();
    assert_eq!(item["line"].as_u64(), Some(line as u64));
    assert!(
        human.contains(&format!("第 {line} 行"))
            && human.contains("367人")
            && human.contains("376人"),
        "{human}"
    );
    assert_eq!(
        items(&json, "agrees").len(),
        12,
        "the other numbers still agree\n{human}"
    );

    // The same words about 2024 are compared with 2024's data.
    let earlier = HAND_WRITTEN.replace("2025年", "2024年");
    fs::write(&report, &earlier).unwrap();
    let (json, _, human) = against(&ws, &report, &[]);
    let staff = find(&json, "staff.total", 2024);
    assert_eq!(staff.len(), 1, "{human}");
    assert_eq!(staff[0]["verdict"], "differs", "2024 had 576\n{human}");
    assert_eq!(staff[0]["stored"].as_f64(), Some(576.0));
}

#[test]
fn a_number_without_data_is_listed_as_such() {
    let ws = Workspace::with_demo();
    let report = ws.path("old.txt");
    fs::write(
        &report,
        "2019年质量年度报告\n\n2019年，全校教职工总数600人。\n",
    )
    .unwrap();
    let (json, code, human) = against(&ws, &report, &[]);
    assert_eq!(code, 0, "{human}");
    let missing = items(&json, "missing");
    assert_eq!(missing.len(), 1, "{human}");
    assert_eq!(missing[0]["code"], "staff.total");
    assert!(missing[0]["stored"].is_null());
    assert!(human.contains("数据中没有"), "{human}");
}

#[test]
fn the_report_generated_from_the_data_agrees_with_it() {
    let ws = Workspace::with_demo();
    ws.import_corrected();
    let out = ws.path("report");
    ws.succeed(&["report", "--format", "html", "--out", out.to_str().unwrap()]);
    let html = out.join("report.html");
    let (json, code, human) = against(&ws, &html, &[]);
    assert_eq!(code, 0, "{human}");
    let agrees = items(&json, "agrees");
    assert!(agrees.len() >= 30, "{human}");
    assert!(items(&json, "differs").is_empty(), "{human}");
    let staff = find(&json, "staff.total", 2025);
    assert!(
        !staff.is_empty() && staff.iter().all(|i| i["verdict"] == "agrees"),
        "{human}"
    );

    // A changed figure in the page is found.
    let text = fs::read_to_string(&html).unwrap();
    let edited = ws.path("edited.html");
    assert!(text.contains("9313") || text.contains("9,313"));
    let changed = if text.contains("9,313") {
        text.replacen("9,313", "9,331", 1)
    } else {
        text.replacen("9313", "9331", 1)
    };
    fs::write(&edited, changed).unwrap();
    let (json, code, human) = against(&ws, &edited, &[]);
    assert_eq!(code, 1, "{human}");
    let differs = items(&json, "differs");
    assert!(
        differs
            .iter()
            .any(|i| i["code"] == "students.enrolled_total" && i["stored"].as_f64() == Some(9313.0)),
        "{human}"
    );
}
