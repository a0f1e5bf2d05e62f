//! The web app end to end through its router, on SQLite and on PostgreSQL (when
//! `NIANBAO_TEST_DATABASE_URL` is set): sign-in, CSRF, the login limit, form entry with
//! inline errors, concurrent edits, department rights, acceptances, revert and downloads.

mod common;

use axum::http::StatusCode;
use common::{Harness, PASSWORD};
use nianbao_core::{FactKey, Year};

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

const STAFF: &str = "2025|staff.total|";

fn staff_key() -> FactKey {
    FactKey::school(year(2025), "staff.total")
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_the_session() {
    for h in Harness::all().await {
        let mut client = h.client();
        let refused = client.login(&h.users["quality"], "wrong password").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", h.label);
        assert!(refused.body.contains("用户名或密码不正确"));

        let response = client.login(&h.users["quality"], PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
        let cookie = response
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("nianbao_session="))
            .expect("a session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );

        let home = client.get("/").await;
        assert_eq!(home.location(), format!("/schools/{}", h.code));
        let dashboard = client.get(home.location()).await;
        assert_eq!(dashboard.status, StatusCode::OK);
        assert!(dashboard.body.contains("各部分填报进度"));
        assert!(dashboard.body.contains("生师比"), "indicators at a glance");

        let csrf = dashboard.csrf();
        let out = client.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(out.location(), "/login");
        // The old cookie no longer opens anything, even if replayed.
        let mut replay = h.client();
        replay.cookies.insert(
            "nianbao_session".into(),
            cookie
                .split(';')
                .next()
                .unwrap()
                .split_once('=')
                .unwrap()
                .1
                .into(),
        );
        assert_eq!(
            replay.get(&format!("/schools/{}", h.code)).await.location(),
            "/login"
        );
    }
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_locked_out_even_with_the_right_password() {
    let h = Harness::sqlite().await;
    let mut client = h.client();
    for _ in 0..5 {
        let r = client.login(&h.users["reviewer"], "not the password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = client.login(&h.users["reviewer"], PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("分钟后再试"), "{}", locked.body);
    // Other accounts are not affected.
    let other = h.client().login(&h.users["quality"], PASSWORD).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_without_the_session_token_are_refused_and_change_nothing() {
    for h in Harness::all().await {
        let mut client = h.signed_in("quality").await;
        let path = format!("/schools/{}/sections/1.4", h.code);
        let page = client.get(&path).await;
        let before = h.data().await.facts[&staff_key()];
        let original = before.to_string();
        for csrf in ["", "forged-token"] {
            let r = client
                .post(
                    &path,
                    &[
                        ("csrf", csrf),
                        (&format!("v|{STAFF}"), "1"),
                        (&format!("o|{STAFF}"), &original),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
        }
        assert_eq!(h.data().await.facts[&staff_key()], before);
        // The login form is protected too.
        let mut fresh = h.client();
        let r = fresh
            .post(
                "/login",
                &[
                    ("csrf", "x"),
                    ("name", &h.users["quality"]),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains(&page.csrf()));
    }
}

#[tokio::test]
async fn a_form_saves_valid_numbers_and_shows_bad_ones_inline_without_saving() {
    for h in Harness::all().await {
        let mut client = h.signed_in("quality").await;
        let path = format!("/schools/{}/sections/1.4", h.code);
        let page = client.get(&path).await;
        assert!(page.body.contains("教职工总数"));
        let csrf = page.csrf();
        let original = h.data().await.facts[&staff_key()].to_string();
        let teachers = "2025|staff.full_time.total|";
        let teachers_before = h
            .data()
            .await
            .facts
            .get(&FactKey::school(year(2025), "staff.full_time.total"))
            .copied();
        let teachers_original = teachers_before.map(|v| v.to_string()).unwrap_or_default();

        let bad = client
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|{STAFF}"), "650"),
                    (&format!("o|{STAFF}"), &original),
                    (&format!("v|{teachers}"), "12.5"),
                    (&format!("o|{teachers}"), &teachers_original),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", h.label);
        assert!(
            bad.body.contains("应为非负整数，实际为「12.5」"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("所有修改均未保存"));
        assert!(bad.body.contains("value=\"650\""), "what was typed is kept");
        assert_eq!(h.data().await.facts[&staff_key()].to_string(), original);

        let good = client
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|{STAFF}"), "６５０"),
                    (&format!("o|{STAFF}"), &original),
                ],
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
        assert_eq!(h.data().await.facts[&staff_key()], 650.0);
        let shown = client.get(good.location()).await;
        assert!(shown.body.contains("已保存，共修改 1 项数据"));
        let history = client.get(&format!("/schools/{}/history", h.code)).await;
        assert!(
            history.body.contains(&h.users["quality"])
                && history.body.contains("2025年 教职工总数")
        );
    }
}

#[tokio::test]
async fn the_second_of_two_concurrent_editors_is_told_and_loses_nothing_silently() {
    for h in Harness::all().await {
        let path = format!("/schools/{}/sections/1.4", h.code);
        let mut first = h.signed_in("quality").await;
        let mut second = h.signed_in("quality2").await;
        let original = h.data().await.facts[&staff_key()].to_string();
        // Both open the form while the value is the original.
        let csrf1 = first.csrf(&path).await;
        let csrf2 = second.csrf(&path).await;
        let r1 = first
            .post(
                &path,
                &[
                    ("csrf", &csrf1),
                    (&format!("v|{STAFF}"), "700"),
                    (&format!("o|{STAFF}"), &original),
                ],
            )
            .await;
        assert_eq!(r1.status, StatusCode::SEE_OTHER);
        let r2 = second
            .post(
                &path,
                &[
                    ("csrf", &csrf2),
                    (&format!("v|{STAFF}"), "701"),
                    (&format!("o|{STAFF}"), &original),
                ],
            )
            .await;
        assert_eq!(r2.status, StatusCode::CONFLICT, "{}", h.label);
        assert!(
            r2.body.contains(&h.users["quality"]),
            "names who changed it: {}",
            r2.body
        );
        assert!(r2.body.contains("改为 700"));
        assert!(r2.body.contains("您的修改均未保存"));
        assert_eq!(h.data().await.facts[&staff_key()], 700.0);
        // The refreshed form now carries 700 as the original, so a deliberate retry works.
        let retry_csrf = r2.csrf();
        let retry = second
            .post(
                &path,
                &[
                    ("csrf", &retry_csrf),
                    (&format!("v|{STAFF}"), "701"),
                    (&format!("o|{STAFF}"), "700"),
                ],
            )
            .await;
        assert_eq!(retry.status, StatusCode::SEE_OTHER);
        assert_eq!(h.data().await.facts[&staff_key()], 701.0);
    }
}

#[tokio::test]
async fn a_department_edits_its_own_majors_but_not_another_departments_by_tampering() {
    for h in Harness::all().await {
        let data = h.data().await;
        let (own, other) = common::two_departments(&data);
        let own_major = data
            .majors
            .iter()
            .find(|m| m.department == own)
            .unwrap()
            .name
            .clone();
        let other_major = data
            .majors
            .iter()
            .find(|m| m.department == other)
            .unwrap()
            .name
            .clone();
        let mut client = h.signed_in("department").await;
        let path = format!("/schools/{}/sections/1.5", h.code);
        let page = client.get(&path).await;
        assert!(
            page.body
                .contains(&format!("v|2025|major.intake|{own_major}"))
        );
        assert!(
            !page
                .body
                .contains(&format!("v|2025|major.intake|{other_major}")),
            "other majors are read-only"
        );
        let csrf = page.csrf();
        let key = |m: &str| FactKey::major(year(2025), "major.intake", m);
        let value = |m: &str| {
            data.facts
                .get(&key(m))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };

        // Forging the field of another department's major is refused as a whole.
        let forged = client
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|2025|major.intake|{own_major}"), "11"),
                    (
                        &format!("o|2025|major.intake|{own_major}"),
                        &value(&own_major),
                    ),
                    (&format!("v|2025|major.intake|{other_major}"), "99"),
                    (
                        &format!("o|2025|major.intake|{other_major}"),
                        &value(&other_major),
                    ),
                ],
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", h.label);
        assert_eq!(
            h.data().await.facts.get(&key(&own_major)),
            data.facts.get(&key(&own_major))
        );
        assert_eq!(
            h.data().await.facts.get(&key(&other_major)),
            data.facts.get(&key(&other_major))
        );

        // A school-wide section not assigned to the department, reached by URL: read only.
        let staff_path = format!("/schools/{}/sections/1.4", h.code);
        let staff = client.get(&staff_path).await;
        assert_eq!(staff.status, StatusCode::OK);
        assert!(!staff.body.contains(&format!("v|{STAFF}")));
        let original = data.facts[&staff_key()].to_string();
        let r = client
            .post(
                &staff_path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|{STAFF}"), "1"),
                    (&format!("o|{STAFF}"), &original),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Its own major goes through.
        let ok = client
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|2025|major.intake|{own_major}"), "11"),
                    (
                        &format!("o|2025|major.intake|{own_major}"),
                        &value(&own_major),
                    ),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(h.data().await.facts[&key(&own_major)], 11.0);

        // Once the quality office assigns 1.4 to the department, it may edit it.
        let mut quality = h.signed_in("quality").await;
        let qcsrf = quality.csrf(&format!("/schools/{}", h.code)).await;
        let assigned = quality
            .post(
                &format!("/schools/{}/owners", h.code),
                &[("csrf", &qcsrf), ("section", "1.4"), ("department", &own)],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::SEE_OTHER);
        let r = client
            .post(
                &staff_path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|{STAFF}"), "1"),
                    (&format!("o|{STAFF}"), &original),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(h.data().await.facts[&staff_key()], 1.0);
    }
}

#[tokio::test]
async fn a_warning_is_accepted_with_an_explanation_that_reaches_the_report() {
    for h in Harness::all().await {
        let data = h.data().await;
        let findings = nianbao_core::run_checks(&h.definitions, &data);
        let warning = findings
            .iter()
            .find(|f| f.severity == nianbao_core::Severity::Warning)
            .expect("the sample has warnings");
        let error = findings
            .iter()
            .find(|f| f.severity == nianbao_core::Severity::Error)
            .expect("the sample has errors");
        let path = format!("/schools/{}/findings", h.code);

        let mut reviewer = h.signed_in("reviewer").await;
        let page = reviewer.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.body.contains("说明并接受"),
            "read-only users see no accept form"
        );
        let r = reviewer
            .post(
                &format!("{path}/accept"),
                &[
                    ("csrf", &page.csrf()),
                    ("key", &warning.key()),
                    ("explanation", "x"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        let mut quality = h.signed_in("quality").await;
        let page = quality.get(&path).await;
        assert!(page.body.contains("说明并接受"));
        let csrf = page.csrf();
        let empty = quality
            .post(
                &format!("{path}/accept"),
                &[
                    ("csrf", &csrf),
                    ("key", &warning.key()),
                    ("explanation", "  "),
                ],
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let refused = quality
            .post(
                &format!("{path}/accept"),
                &[
                    ("csrf", &csrf),
                    ("key", &error.key()),
                    ("explanation", "理由"),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "errors must be corrected"
        );
        let explanation = "该数据按学年统计，口径与上年一致";
        let ok = quality
            .post(
                &format!("{path}/accept"),
                &[
                    ("csrf", &csrf),
                    ("key", &warning.key()),
                    ("explanation", explanation),
                ],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let page = quality.get(&path).await;
        assert!(page.body.contains(explanation));
        let report = quality.get(&format!("/schools/{}/report", h.code)).await;
        assert_eq!(report.status, StatusCode::OK);
        assert!(
            report.body.contains(explanation),
            "the explanation is in the report's data notes"
        );
    }
}

#[tokio::test]
async fn a_change_is_reverted_from_the_history() {
    for h in Harness::all().await {
        let mut client = h.signed_in("quality").await;
        let path = format!("/schools/{}/sections/1.4", h.code);
        let csrf = client.csrf(&path).await;
        let original = h.data().await.facts[&staff_key()];
        client
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    (&format!("v|{STAFF}"), "800"),
                    (&format!("o|{STAFF}"), &original.to_string()),
                ],
            )
            .await;
        let change = h.store.history(&h.code, 1).await.unwrap().remove(0);
        let history = client.get(&format!("/schools/{}/history", h.code)).await;
        assert!(
            history
                .body
                .contains(&format!("/history/{}/revert", change.id))
        );
        let r = client
            .post(
                &format!("/schools/{}/history/{}/revert", h.code, change.id),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(h.data().await.facts[&staff_key()], original);
        // Undoing it twice would overwrite the value since: refused with a message.
        let again = client
            .post(
                &format!("/schools/{}/history/{}/revert", h.code, change.id),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert!(again.body.contains("没有保存"));
    }
}

#[tokio::test]
async fn the_report_downloads_as_word() {
    let h = Harness::sqlite().await;
    let mut client = h.signed_in("reviewer").await;
    let r = client
        .get(&format!("/schools/{}/report.docx", h.code))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.bytes.starts_with(b"PK\x03\x04"), "a DOCX is a zip");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".docx")
    );
    let preview = client.get(&format!("/schools/{}/report", h.code)).await;
    assert!(preview.body.contains(&h.data().await.school.name));
}

#[tokio::test]
async fn downloads_are_named_after_the_school_not_its_code() {
    let h = Harness::sqlite().await;
    let data = h.data().await;
    let mut client = h.signed_in("quality").await;
    let year = data.school.report_year;
    let template = client
        .get(&format!("/schools/{}/sections/1.4/template.xlsx", h.code))
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert_eq!(
        template.saved_name(),
        format!("{}-{year}年度-1.4 师资队伍.xlsx", data.school.name)
    );
    let workbook = client
        .get(&format!("/schools/{}/workbook.xlsx", h.code))
        .await;
    assert_eq!(workbook.status, StatusCode::OK);
    assert_eq!(
        workbook.saved_name(),
        format!("{}-{year}年度数据填报工作簿.xlsx", data.school.name)
    );
    let report = client
        .get(&format!("/schools/{}/report.docx", h.code))
        .await;
    assert!(report.saved_name().starts_with(&data.school.name));
    for response in [&template, &workbook, &report] {
        let header = response.headers["content-disposition"].to_str().unwrap();
        assert!(header.is_ascii(), "{header}");
    }
}

#[tokio::test]
async fn pages_escape_what_users_typed() {
    let h = Harness::sqlite().await;
    let mut quality = h.signed_in("quality").await;
    let data = h.data().await;
    let findings = nianbao_core::run_checks(&h.definitions, &data);
    let warning = findings
        .iter()
        .find(|f| f.severity == nianbao_core::Severity::Warning)
        .unwrap();
    let path = format!("/schools/{}/findings", h.code);
    let csrf = quality.csrf(&path).await;
    let script = "<script>alert(1)</script>";
    quality
        .post(
            &format!("{path}/accept"),
            &[
                ("csrf", &csrf),
                ("key", &warning.key()),
                ("explanation", script),
            ],
        )
        .await;
    for page in [path.clone(), format!("/schools/{}/report", h.code)] {
        let body = quality.get(&page).await.body;
        assert!(!body.contains(script), "{page} shows the script unescaped");
        assert!(
            body.contains("&lt;script&gt;"),
            "{page} shows the text escaped"
        );
    }
}

#[tokio::test]
async fn each_fact_has_its_own_history() {
    let h = Harness::sqlite().await;
    let mut client = h.signed_in("quality").await;
    let path = format!("/schools/{}/sections/1.4", h.code);
    let page = client.get(&path).await;
    let csrf = page.csrf();
    assert!(
        page.body.contains("history?record=2025%20staff.total"),
        "each cell links to its history"
    );
    let original = h.data().await.facts[&staff_key()].to_string();
    client
        .post(
            &path,
            &[
                ("csrf", &csrf),
                (&format!("v|{STAFF}"), "645"),
                (&format!("o|{STAFF}"), &original),
            ],
        )
        .await;
    let history = client
        .get(&format!(
            "/schools/{}/history?record=2025%20staff.total",
            h.code
        ))
        .await;
    assert!(history.body.contains("2025年 教职工总数"));
    assert!(history.body.contains(">645<"), "{}", history.body);
    assert!(
        !history.body.contains("专任教师数"),
        "only that fact's changes"
    );
}

/// The template of section 1.4 made from `data`, with `staff.total` of 2025 then set to
/// `value` as a person editing it in Excel would.
fn template_with_staff(h: &Harness, data: &nianbao_core::Dataset, value: f64) -> Vec<u8> {
    let scope = nianbao_xlsx::TemplateScope {
        section: "1.4",
        years: vec![year(2023), year(2024), year(2025)],
        majors: Vec::new(),
    };
    let template = nianbao_xlsx::write_template(&h.definitions, data, &scope).unwrap();
    common::edit_cell(&template, "1.4 师资队伍", "staff.total", "2025年", value)
}

#[tokio::test]
async fn an_uploaded_template_with_a_bad_cell_names_it_and_changes_nothing() {
    for h in Harness::all().await {
        let mut client = h.signed_in("quality").await;
        let path = format!("/schools/{}/sections/1.4", h.code);
        let csrf = client.csrf(&path).await;
        let data = h.data().await;

        let download = client.get(&format!("{path}/template.xlsx")).await;
        assert_eq!(download.status, StatusCode::OK);
        assert!(download.bytes.starts_with(b"PK\x03\x04"));

        let bad = client
            .upload(
                &format!("{path}/upload"),
                &[("csrf", &csrf)],
                &template_with_staff(&h, &data, 650.5),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", h.label);
        assert!(bad.body.contains("「1.4 师资队伍」工作表"), "{}", bad.body);
        assert!(
            bad.body.contains("650.5") && bad.body.contains("单元格"),
            "{}",
            bad.body
        );
        assert!(bad.body.contains("数据库未作任何修改"));
        assert_eq!(h.data().await, data, "the store is unchanged");

        for junk in [
            b"not a workbook at all".to_vec(),
            b"PK\x03\x04garbage".to_vec(),
        ] {
            let r = client
                .upload(&format!("{path}/upload"), &[("csrf", &csrf)], &junk)
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(r.body.contains("未能导入"), "{}", r.body);
        }
        let forged = client
            .upload(
                &format!("{path}/upload"),
                &[("csrf", "forged")],
                &template_with_staff(&h, &data, 650.0),
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        let good = client
            .upload(
                &format!("{path}/upload"),
                &[("csrf", &csrf)],
                &template_with_staff(&h, &data, 650.0),
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
        assert!(
            client
                .get(good.location())
                .await
                .body
                .contains("Excel 模板已导入，共修改 1 项数据")
        );
        assert_eq!(h.data().await.facts[&staff_key()], 650.0);
    }
}

/// Saves `staff.total` of 2025 through the section form as `client`.
async fn save_staff(client: &mut common::Client, h: &Harness, value: &str) {
    let path = format!("/schools/{}/sections/1.4", h.code);
    let csrf = client.csrf(&path).await;
    let original = h.data().await.facts[&staff_key()].to_string();
    let r = client
        .post(
            &path,
            &[
                ("csrf", &csrf),
                (&format!("v|{STAFF}"), value),
                (&format!("o|{STAFF}"), &original),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn a_stale_template_never_overwrites_a_newer_value() {
    for h in Harness::all().await {
        let mut first = h.signed_in("quality").await;
        let mut second = h.signed_in("quality2").await;
        let path = format!("/schools/{}/sections/1.4", h.code);
        // 65 when the second user downloads the template.
        save_staff(&mut first, &h, "65").await;
        let template = second.get(&format!("{path}/template.xlsx")).await.bytes;
        let csrf = second.csrf(&path).await;
        // 75 through the form afterwards.
        save_staff(&mut first, &h, "75").await;
        let last = h
            .store
            .record_history(&h.code, "fact", "2025 staff.total", 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!(last.actor, h.users["quality"]);

        // The untouched template: nothing is overwritten, and the page says what was kept.
        let untouched = second
            .upload(&format!("{path}/upload"), &[("csrf", &csrf)], &template)
            .await;
        assert_eq!(
            untouched.status,
            StatusCode::SEE_OTHER,
            "{}",
            untouched.body
        );
        assert_eq!(h.data().await.facts[&staff_key()], 75.0, "{}", h.label);
        let shown = second.get(untouched.location()).await;
        assert!(
            shown.body.contains("共修改 0 项数据")
                && shown.body.contains("另有 1 项在文件生成后已被他人修改"),
            "{}",
            shown.body
        );

        // The same template with that cell changed from 65 to 70: refused, naming the cell,
        // who changed it and when (Beijing time); the newer value stays.
        let edited = common::edit_cell(&template, "1.4 师资队伍", "staff.total", "2025年", 70.0);
        let refused = second
            .upload(&format!("{path}/upload"), &[("csrf", &csrf)], &edited)
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        let when = nianbao_core::clock::beijing_time(&last.changed_at);
        assert!(
            refused.body.contains("「1.4 师资队伍」工作表 F")
                && refused.body.contains("（教职工总数，2025年）")
                && refused
                    .body
                    .contains(&format!("已由 {} 于 {when} 改为 75", h.users["quality"]))
                && refused.body.contains("文件中原为 65，上传的是 70")
                && refused.body.contains("数据库未作任何修改"),
            "{}",
            refused.body
        );
        assert_eq!(h.data().await.facts[&staff_key()], 75.0, "{}", h.label);

        // An edit of another cell in the same stale template is applied; 75 stays.
        let external = FactKey::school(year(2025), "staff.external");
        let other = common::edit_cell(&template, "1.4 师资队伍", "staff.external", "2025年", 3.0);
        let applied = second
            .upload(&format!("{path}/upload"), &[("csrf", &csrf)], &other)
            .await;
        assert_eq!(applied.status, StatusCode::SEE_OTHER, "{}", applied.body);
        let now = h.data().await;
        assert_eq!(now.facts[&external], 3.0);
        assert_eq!(now.facts[&staff_key()], 75.0, "{}", h.label);
    }
}

#[tokio::test]
async fn the_year_workbook_is_downloaded_and_uploaded_from_the_dashboard() {
    for h in Harness::all().await {
        let mut quality = h.signed_in("quality").await;
        let dashboard = format!("/schools/{}", h.code);
        let page = quality.get(&dashboard).await;
        assert!(page.body.contains("id=\"workbook-link\""), "{}", page.body);
        let csrf = page.csrf();
        let workbook = quality
            .get(&format!("/schools/{}/workbook.xlsx", h.code))
            .await;
        assert_eq!(workbook.status, StatusCode::OK);
        let before = h.data().await;
        let edited = common::edit_cell(
            &workbook.bytes,
            "1.4 师资队伍",
            "staff.total",
            "2025年",
            612.0,
        );
        let r = quality
            .upload(
                &format!("/schools/{}/workbook", h.code),
                &[("csrf", &csrf)],
                &edited,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("工作簿已导入，共修改 1 项数据"),
            "{}",
            r.body
        );
        let mut expected = before.clone();
        expected.set(staff_key(), 612.0);
        assert_eq!(h.data().await.facts, expected.facts, "{}", h.label);

        // A department's workbook holds its own majors' sheets only; the quality office's
        // workbook, with sheets the department may not fill, is refused whole.
        let mut department = h.signed_in("department").await;
        let page = department.get(&dashboard).await;
        assert!(page.body.contains("id=\"workbook-link\""));
        let csrf = page.csrf();
        let own = department
            .get(&format!("/schools/{}/workbook.xlsx", h.code))
            .await;
        assert_eq!(own.status, StatusCode::OK);
        let r = department
            .upload(
                &format!("/schools/{}/workbook", h.code),
                &[("csrf", &csrf)],
                &workbook.bytes,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("不在您可以填报的范围内"), "{}", r.body);
        assert_eq!(h.data().await.facts, expected.facts, "{}", h.label);

        let mut reviewer = h.signed_in("school_reviewer").await;
        assert!(
            !reviewer
                .get(&dashboard)
                .await
                .body
                .contains("workbook-link")
        );
    }
}

#[tokio::test]
async fn an_upload_larger_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = nianbao_store::Store::open_sqlite(&dir.path().join("small.db"))
        .await
        .unwrap();
    let config = nianbao_web::Config {
        max_upload_bytes: 10_000,
        ..nianbao_web::Config::default()
    };
    let h = Harness::with_config(store, dir, "SQLite", config).await;
    let mut client = h.signed_in("quality").await;
    let path = format!("/schools/{}/sections/1.4", h.code);
    let csrf = client.csrf(&path).await;
    let r = client
        .upload(
            &format!("{path}/upload"),
            &[("csrf", &csrf)],
            &vec![b'x'; 200_000],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("文件过大"), "{}", r.body);
}
