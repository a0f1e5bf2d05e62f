//! The bureau's batch audit from the web: a district uploads a zip of school reports built
//! here; the report of its own school is compared with the school's data (a misstated
//! enrolment is found), a report of another district's school is audited but not compared,
//! a file that is not a report is listed as skipped; the district confirms a grade, which
//! keeps who and when; others cannot see or upload, and a file that is not a zip is refused.
//! A batch that another process is auditing shows its progress from the store, and one whose
//! process stopped shows as cut off with when it was last heard of.

mod common;

use std::io::Write;

use axum::http::StatusCode;
use common::{Client, Harness};
use nianbao_core::Year;

fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A report with two chapters stating staff and enrolment as given.
fn report(name: &str, staff: f64, enrolled: f64) -> String {
    format!(
        "{name}\n2025年职业教育质量年度报告\n\n一、学校概况\n\n2025年，学校有教职工{staff}人。\
         学校在校生{enrolled}人。\n\n二、人才培养\n\n学校持续推进各项工作，成效明显。\n"
    )
}

/// Uploads an archive to the area's batch audit; the answer.
async fn upload(client: &mut Client, area: &str, file: &[u8]) -> common::Response {
    let csrf = client.csrf(&format!("/areas/{area}/audit")).await;
    client
        .upload_as(
            &format!("/areas/{area}/audit"),
            &[("csrf", &csrf)],
            "各校报告.zip",
            "application/zip",
            file,
        )
        .await
}

/// The batch's page once its audit has finished.
async fn finished(client: &mut Client, path: &str) -> common::Response {
    for _ in 0..600 {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if !page.body.contains("id=\"progress\"") {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the batch did not finish within a minute");
}

#[tokio::test]
async fn a_district_uploads_reports_and_confirms_a_grade() {
    for h in Harness::all().await {
        let year = Year::new(2025).unwrap();
        let data = h.data().await;
        let staff = data.value(year, "staff.total").unwrap();
        let enrolled = data.value(year, "students.enrolled_total").unwrap();
        let own = report(&data.school.name, staff, enrolled + 100.0);
        let other = report("邻区学校", staff, enrolled);
        let archive = zip(&[
            (&format!("报告/{}-年报.txt", h.code), own.as_bytes()),
            (&format!("报告/{}-年报.txt", h.other_code), other.as_bytes()),
            ("报告/汇总表.xlsx", b"not a report"),
        ]);

        let mut district = h.signed_in("district").await;
        let r = upload(&mut district, &h.district, &archive).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.label, r.body);
        let path = r.location().to_string();
        // Another server process on the same store sees the batch running or done, never
        // cut off.
        let mut elsewhere = h.signed_in_to_new_app("district").await;
        let seen = elsewhere.get(&path).await;
        assert!(
            seen.body.contains("进行中：已审") || seen.body.contains("已完成"),
            "{}: {}",
            h.label,
            seen.body
        );
        assert!(!seen.body.contains("已中断"), "{}: {}", h.label, seen.body);
        let page = finished(&mut district, &path).await;
        let body = &page.body;
        assert!(body.contains("已完成"), "{}: {body}", h.label);
        assert!(body.contains("共 2 份报告"), "{}: {body}", h.label);
        // Its own school's report is matched and compared: the enrolment differs, the
        // staff figure agrees.
        let own_row = row(body, 0);
        assert!(own_row.contains(&h.code), "{}: {own_row}", h.label);
        assert!(own_row.contains("1 项"), "{}: {own_row}", h.label);
        assert!(
            body.contains(&format!(
                "报送数据为 {}",
                nianbao_core::number::grouped(enrolled, 0)
            )) || body.contains(&format!("报送数据为 {enrolled}")),
            "{}: {body}",
            h.label
        );
        // The other district's school is neither named nor compared.
        let other_row = row(body, 1);
        assert!(
            other_row.contains("未对应到本辖区的学校") && other_row.contains("未比对"),
            "{}: {other_row}",
            h.label
        );
        assert!(
            !other_row.contains(&format!("（{}）", h.other_code)),
            "{}: {other_row}",
            h.label
        );
        assert!(body.contains("汇总表.xlsx"), "{}: {body}", h.label);

        // A grade outside the rubric is refused; a confirmation keeps who and when.
        let csrf = page.csrf();
        let confirm = format!("{path}/confirm");
        let r = district
            .post(
                &confirm,
                &[("csrf", &csrf), ("position", "0"), ("grade", "D")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", h.label);
        assert!(r.body.contains("A、B、C"), "{}: {}", h.label, r.body);
        let r = district
            .post(
                &confirm,
                &[
                    ("csrf", &csrf),
                    ("position", "0"),
                    ("grade", "B"),
                    ("note", "在校生人数须更正"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.label, r.body);
        let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
        let grades = h.store.audit_grades(id).await.unwrap();
        assert_eq!(grades.len(), 1, "{}", h.label);
        assert_eq!(grades[0].grade, "B");
        assert_eq!(grades[0].by, h.users["district"]);
        let page = district.get(&path).await;
        let own_row = row(&page.body, 0);
        assert!(
            own_row.contains(&h.users["district"])
                && own_row.contains(&nianbao_core::clock::beijing_time(&grades[0].at))
                && own_row.contains("在校生人数须更正"),
            "{}: {own_row}",
            h.label
        );
        assert!(page.body.contains("已确认 1 份"), "{}", h.label);

        // The table downloads as Excel: a line per report with the pre-grade, the grade
        // confirmed (who, when, the note) and the counts of the findings by kind.
        assert!(page.body.contains("/table.xlsx"), "{}", h.label);
        let file = district.get(&format!("{path}/table.xlsx")).await;
        assert_eq!(file.status, StatusCode::OK, "{}: {}", h.label, file.body);
        assert!(
            file.saved_name().ends_with(".xlsx"),
            "{}",
            file.saved_name()
        );
        {
            use calamine::{Data, Reader, Xlsx};
            let mut book = Xlsx::new(std::io::Cursor::new(file.bytes.clone())).unwrap();
            let sheet = book.worksheet_range("批量审核").unwrap();
            let header: Vec<String> = sheet
                .rows()
                .next()
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let at = |row: usize, name: &str| {
                let c = header.iter().position(|h| h == name).unwrap();
                sheet.rows().nth(row).unwrap()[c].clone()
            };
            assert_eq!(sheet.rows().count(), 3, "{}: {header:?}", h.label);
            assert_eq!(at(1, "学校代码"), Data::String(h.code.clone()));
            assert_eq!(at(1, "确认等级"), Data::String("B".into()));
            assert_eq!(at(1, "审核意见"), Data::String("在校生人数须更正".into()));
            assert_eq!(at(1, "确认人"), Data::String(h.users["district"].clone()));
            assert_eq!(at(1, "与报送数据不一致"), Data::Float(1.0));
            assert!(
                at(1, "不一致的数字").to_string().contains("报送数据为"),
                "{}",
                h.label
            );
            assert!(matches!(at(1, "预评等级"), Data::String(g) if !g.is_empty()));
            // The other district's report: audited, not compared, not confirmed.
            assert_eq!(at(2, "学校代码"), Data::Empty);
            assert_eq!(at(2, "与报送数据不一致"), Data::Empty);
            assert_eq!(at(2, "确认等级"), Data::Empty);
            assert!(matches!(at(2, "错误"), Data::Float(_)), "{}", h.label);
            let left_out = book.worksheet_range("未审核的文件").unwrap();
            assert!(
                left_out
                    .rows()
                    .any(|r| r[0].to_string().ends_with("汇总表.xlsx")),
                "{}",
                h.label
            );
        }
        let r = district
            .post(
                &confirm,
                &[("csrf", &csrf), ("position", "7"), ("grade", "A")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", h.label);

        // Another district neither sees the batch nor uploads to this district; the
        // commission's reader sees it and uploads nothing.
        let mut other_district = h.signed_in("district_other").await;
        let r = other_district.get(&path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
        let r = other_district
            .get(&format!("/areas/{}/audit", h.district))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
        let r = other_district.get(&format!("{path}/table.xlsx")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
        let mut reader = h.signed_in("reviewer").await;
        let r = reader.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", h.label);
        assert!(!r.body.contains("/confirm"), "{}", h.label);
        let csrf = reader.csrf(&format!("/areas/{}/audit", h.district)).await;
        let r = reader
            .upload_as(
                &format!("/areas/{}/audit", h.district),
                &[("csrf", &csrf)],
                "a.zip",
                "application/zip",
                &archive,
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);

        // A file that is not a zip is refused, saying what was expected; no batch is made.
        let before = h.store.audit_batches(&h.district).await.unwrap().len();
        let r = upload(&mut district, &h.district, b"plain text, not an archive").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", h.label);
        assert!(
            r.body.contains("不是 zip 压缩包"),
            "{}: {}",
            h.label,
            r.body
        );
        let after = h.store.audit_batches(&h.district).await.unwrap().len();
        assert_eq!(before, after, "{}", h.label);
        let list = district.get(&format!("/areas/{}/audit", h.district)).await;
        assert!(list.body.contains("各校报告.zip"), "{}", h.label);
    }
}

/// A second handle on the harness's store, as another server process holds it.
async fn another_handle(h: &Harness) -> nianbao_store::Store {
    match std::env::var("NIANBAO_TEST_DATABASE_URL") {
        Ok(url) if h.label == "PostgreSQL" => nianbao_store::Store::open(&url).await.unwrap(),
        _ => nianbao_store::Store::open_sqlite(&h._dir.path().join("web.db"))
            .await
            .unwrap(),
    }
}

/// The row of the batch in the area's list, as a browser reads it ("/" is escaped as
/// "&#x2f;").
fn batch_row(body: &str, id: i64) -> String {
    let body = body.replace("&#x2f;", "/");
    let start = body
        .find(&format!("/audit/{id}\""))
        .unwrap_or_else(|| panic!("no batch {id}: {body}"));
    let end = body[start..]
        .find("</tr>")
        .map_or(body.len(), |e| start + e);
    body[start..end].to_string()
}

#[tokio::test]
async fn a_batch_audited_by_another_process_shows_its_progress_or_when_it_was_cut_off() {
    for h in Harness::all().await {
        // The other process starts a batch of five and has audited three of them.
        let running = another_handle(&h).await;
        let id = running
            .start_audit_batch(&h.district, "另一进程.zip", &h.users["district"], 5)
            .await
            .unwrap();
        running.record_audit_progress(id, 3).await.unwrap();

        let mut district = h.signed_in("district").await;
        let list_path = format!("/areas/{}/audit", h.district);
        let path = format!("{list_path}/{id}");
        let list = district.get(&list_path).await;
        assert_eq!(list.status, StatusCode::OK, "{}", h.label);
        let row = batch_row(&list.body, id);
        assert!(
            row.contains("进行中：已审 3 / 5 份") && !row.contains("已中断"),
            "{}: {row}",
            h.label
        );
        let page = district.get(&path).await;
        assert!(
            page.body.contains("id=\"progress\"")
                && page.body.contains("进行中：已审 3 / 5 份")
                && page.body.contains("http-equiv=\"refresh\""),
            "{}: {}",
            h.label,
            page.body
        );
        assert!(!page.body.contains("已中断"), "{}: {}", h.label, page.body);

        // Its heartbeat stopped long ago: cut off, with when it was last heard of.
        {
            let mut tx = running.database().write().await.unwrap();
            sqlx::query("UPDATE audit_batch SET heartbeat_at = $1 WHERE id = $2")
                .bind("2026-01-05T08:30:00Z")
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let list = district.get(&list_path).await;
        let row = batch_row(&list.body, id);
        assert!(
            row.contains("已中断（最后一次更新：2026-01-05 16:30，北京时间）"),
            "{}: {row}",
            h.label
        );
        assert!(!row.contains("进行中"), "{}: {row}", h.label);
        let page = district.get(&path).await;
        assert!(
            page.body.contains("id=\"interrupted\"") && page.body.contains("2026-01-05 16:30"),
            "{}: {}",
            h.label,
            page.body
        );
        assert!(
            !page.body.contains("id=\"progress\"") && !page.body.contains("http-equiv=\"refresh\""),
            "{}: {}",
            h.label,
            page.body
        );

        // It writes again (it was only held up): running once more, on every process.
        running.record_audit_progress(id, 4).await.unwrap();
        let mut other_app = h.signed_in_to_new_app("district").await;
        let list = other_app.get(&list_path).await;
        let row = batch_row(&list.body, id);
        assert!(row.contains("进行中：已审 4 / 5 份"), "{}: {row}", h.label);
        if h.label == "PostgreSQL" {
            running.database().close().await;
        }
    }
}

/// The table row of the report at `position`.
fn row(body: &str, position: usize) -> String {
    let start = body
        .find(&format!("id=\"report-{position}\""))
        .unwrap_or_else(|| panic!("no row {position}: {body}"));
    let end = body[start..]
        .find("</tr>")
        .map_or(body.len(), |e| start + e);
    body[start..end].to_string()
}
