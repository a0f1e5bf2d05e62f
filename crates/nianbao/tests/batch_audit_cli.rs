//! `nianbao audit-batch`: a zip of school reports built here (text and Word), each matched to
//! its synthetic school by code or name, audited, compared with the school's data in the
//! store and pre-graded by the rubric; files that are not reports are listed as skipped, and
//! a file that is not a zip is refused in Chinese.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use nianbao_core::Year;
use nianbao_store::Store;

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(db)
        .args(args)
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

/// A report with every chapter, the two tables, and the given enrolment and staff figures.
fn full_report(name: &str, enrolled: f64, staff: f64, chapters: &[&str]) -> String {
    let mut text = format!("{name}\n2025年职业教育质量年度报告\n\n");
    for (i, chapter) in chapters.iter().enumerate() {
        let number = ["一", "二", "三", "四", "五", "六", "七", "八"][i];
        text.push_str(&format!("{number}、{chapter}\n\n"));
        match *chapter {
            "学校概况" => {
                text.push_str(&format!(
                    "2025年，学校有教职工{staff}人。学校在校生{enrolled}人。\n\n\
                     年份\t教职工总数(人)\n2025年度\t{staff}\n\n表 1：师资队伍情况\n\n\
                     年份\t在校生人数\n2025\t{enrolled}\n\n表 2：学生情况统计表\n\n"
                ));
            }
            _ => text.push_str("学校持续推进各项工作，成效明显。\n\n"),
        }
    }
    text
}

const ALL: [&str; 8] = [
    "学校概况",
    "人才培养",
    "服务贡献",
    "文化传承",
    "国际合作",
    "产教融合",
    "发展保障",
    "面临挑战",
];

/// A Word document holding the given paragraphs.
fn docx(paragraphs: &str) -> Vec<u8> {
    let body: String = paragraphs
        .lines()
        .map(|l| format!("<w:p><w:r><w:t xml:space=\"preserve\">{l}</w:t></w:r></w:p>"))
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document \
         xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(xml.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_zip_of_reports_is_audited_compared_and_pre_graded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let out = run(
        &db,
        &[
            "synth", "schools", "--count", "3", "--seed", "5", "--faults", "0",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let store = Store::open_sqlite(&db).await.unwrap();
    let schools = store.schools().await.unwrap();
    assert_eq!(schools.len(), 3);
    let year = Year::new(2025).unwrap();
    let mut figures = Vec::new();
    for s in &schools {
        let data = store.load_dataset(&s.code).await.unwrap();
        figures.push((
            data.value(year, "students.enrolled_total").unwrap(),
            data.value(year, "staff.total").unwrap(),
        ));
    }
    store.database().close().await;

    // School 0: complete and as submitted, named by its code.
    let first = full_report(&schools[0].name, figures[0].0, figures[0].1, &ALL);
    // School 1: named by its school name, two chapters missing, enrolment misstated.
    let second = full_report(
        &schools[1].name,
        figures[1].0 + 100.0,
        figures[1].1,
        &ALL[..6],
    );
    // School 2, as a Word file: a total its parts contradict, most chapters missing.
    let third = format!(
        "{}\n2025年职业教育质量年度报告\n一、学校概况\n\
         2025年学校教职工共{}人，其中专任教师300人、行政人员50人、工勤人员20人，合计400人。",
        schools[2].name, figures[2].1
    );
    let zip_path = dir.path().join("reports.zip");
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default();
        zip.add_directory("报告/", options).unwrap();
        zip.start_file(format!("报告/{}-年报.txt", schools[0].code), options)
            .unwrap();
        zip.write_all(first.as_bytes()).unwrap();
        zip.start_file(
            format!("报告/{}2025年度质量报告.txt", schools[1].name),
            options,
        )
        .unwrap();
        zip.write_all(second.as_bytes()).unwrap();
        zip.start_file("报告/第三所.docx", options).unwrap();
        zip.write_all(&docx(&third)).unwrap();
        zip.start_file("报告/汇总表.xlsx", options).unwrap();
        zip.write_all(b"not a report").unwrap();
        zip.finish().unwrap();
    }

    let csv = dir.path().join("grades.csv");
    let out = run(
        &db,
        &[
            "audit-batch",
            zip_path.to_str().unwrap(),
            "--format",
            "json",
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json_end = stdout.rfind('}').unwrap() + 1;
    let json: serde_json::Value = serde_json::from_str(&stdout[..json_end]).unwrap();
    let reports = json["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 3, "{json}");
    for (report, school) in reports.iter().zip(&schools) {
        assert_eq!(report["school_code"], school.code.as_str(), "{report}");
    }
    let grade = |i: usize| reports[i]["assessment"]["grade"].as_str().unwrap();

    let a = &reports[0]["assessment"];
    assert_eq!(a["missing_parts"].as_array().unwrap().len(), 0, "{a}");
    assert_eq!(a["missing_tables"].as_array().unwrap().len(), 0, "{a}");
    assert_eq!(a["errors"], 0, "{a}");
    let agreements = a["agreements"].as_array().unwrap();
    assert!(
        agreements
            .iter()
            .any(|x| x["element"] == "students.enrolled_total" && x["agrees"] == true),
        "{a}"
    );
    assert!(agreements.iter().all(|x| x["agrees"] == true), "{a}");
    assert_eq!(grade(0), "A");

    let b = &reports[1]["assessment"];
    let missing: Vec<&str> = b["missing_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(missing, ["发展保障", "面临挑战"], "{b}");
    let enrolled = b["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["element"] == "students.enrolled_total")
        .unwrap_or_else(|| panic!("{b}"));
    assert_eq!(enrolled["agrees"], false);
    assert_eq!(enrolled["stated"], figures[1].0 + 100.0);
    assert_eq!(enrolled["submitted"], figures[1].0);
    assert_eq!(grade(1), "B");

    let c = &reports[2]["assessment"];
    assert!(c["errors"].as_u64().unwrap() >= 1, "{c}");
    assert!(c["missing_parts"].as_array().unwrap().len() >= 7, "{c}");
    assert_eq!(grade(2), "C");

    let skipped = json["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{json}");
    assert_eq!(skipped[0]["name"], "报告/汇总表.xlsx");

    // The CSV leaves the confirmed grade to the reviewer.
    let table = std::fs::read_to_string(&csv).unwrap();
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("预评等级,确认等级,审核意见"), "{header}");
    let first_row = lines.next().unwrap();
    assert!(
        first_row.contains(&schools[0].code) && first_row.contains(",A,,"),
        "{first_row}"
    );

    // The text table names the schools and the grades.
    let out = run(&db, &["audit-batch", zip_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&format!("{}（{}）", schools[1].name, schools[1].code)),
        "{table}"
    );
    assert!(table.contains("缺少章节：发展保障、面临挑战"), "{table}");
    assert!(table.contains("预评 A 1 份，B 1 份，C 1 份"), "{table}");
    assert!(table.contains("未审核 报告/汇总表.xlsx"), "{table}");

    // With an .xlsx name the table is an Excel workbook: a line per school with its grade,
    // an empty confirmed grade for the reviewer, and the counts of its findings by kind.
    let workbook = dir.path().join("审核表.xlsx");
    let out = run(
        &db,
        &[
            "audit-batch",
            zip_path.to_str().unwrap(),
            "--out",
            workbook.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("审核表.xlsx"), "{}", text(&out));
    {
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook(&workbook).unwrap();
        let sheet = book.worksheet_range("批量审核").unwrap();
        let header: Vec<String> = sheet
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{name} in {header:?}"))
        };
        let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
        assert_eq!(rows.len(), 3, "{header:?}");
        for (row, (school, grade)) in rows.iter().zip(schools.iter().zip(["A", "B", "C"])) {
            assert_eq!(row[column("学校代码")], Data::String(school.code.clone()));
            assert_eq!(row[column("学校")], Data::String(school.name.clone()));
            assert_eq!(row[column("预评等级")], Data::String(grade.into()));
            assert_eq!(row[column("确认等级")], Data::Empty);
        }
        assert_eq!(rows[1][column("缺少章节")], Data::Float(2.0));
        assert_eq!(rows[1][column("与报送数据不一致")], Data::Float(1.0));
        assert_eq!(rows[0][column("与报送数据不一致")], Data::Float(0.0));
        assert!(
            matches!(rows[2][column("错误")], Data::Float(n) if n >= 1.0),
            "{:?}",
            rows[2]
        );
        let left_out = book.worksheet_range("未审核的文件").unwrap();
        assert_eq!(
            left_out.get_value((1, 0)),
            Some(&Data::String("报告/汇总表.xlsx".into()))
        );
    }

    // A file that is not a zip is refused, saying what was expected.
    let not_zip = dir.path().join("reports.txt");
    std::fs::write(&not_zip, "plain text").unwrap();
    let out = run(&db, &["audit-batch", not_zip.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("不是 zip 压缩包"), "{}", text(&out));
}
