//! The bureau's pages on SQLite and PostgreSQL: who sees which school and area, a district
//! cannot be approved before its schools, a locked form says why, and the compiled report
//! carries an approved school's figures.

mod common;

use axum::http::StatusCode;
use common::{Client, Harness, Response};
use nianbao_bureau::synth::{self, SynthConfig};
use nianbao_core::{Severity, Year, run_checks};

/// Replaces the harness school's data with a clean synthetic year and explains its warnings,
/// so it can be submitted.
async fn make_clean(h: &Harness) -> f64 {
    let year = Year::new(2025).unwrap();
    let area = synth::area(SynthConfig {
        count: 3,
        seed: 21,
        fault_share: 0.0,
        year,
    });
    let mut data = synth::dataset(&area, 0).unwrap();
    let old = h.data().await;
    data.school = old.school.clone();
    h.store.save_dataset(&data, "setup").await.unwrap();
    let data = h.data().await;
    for finding in run_checks(&h.definitions, &data)
        .iter()
        .filter(|f| f.severity == Severity::Warning)
    {
        h.store
            .accept(&h.code, finding, "已核实", "setup")
            .await
            .unwrap();
    }
    data.value(year, "students.enrolled_total").unwrap()
}

/// Posts an action on the school's 2025 submission as `client`: the fields after the
/// CSRF token and the year.
async fn act(client: &mut Client, h: &Harness, csrf: &str, fields: &[(&str, &str)]) -> Response {
    let mut form = vec![("csrf", csrf), ("year", "2025")];
    form.extend_from_slice(fields);
    client
        .post(&format!("/schools/{}/submission", h.code), &form)
        .await
}

/// Posts the approval of the school's district for 2025 as `client`.
async fn approve_area(client: &mut Client, h: &Harness, csrf: &str) -> Response {
    client
        .post(
            &format!("/areas/{}/approve", h.district),
            &[("csrf", csrf), ("year", "2025"), ("what", "area")],
        )
        .await
}

/// Saves one of the district's report texts for 2025 as `client`.
async fn write_part(
    client: &mut Client,
    h: &Harness,
    csrf: &str,
    part: &str,
    body: &str,
) -> Response {
    client
        .post(
            &format!("/areas/{}/report", h.district),
            &[
                ("csrf", csrf),
                ("year", "2025"),
                ("part", part),
                ("body", body),
            ],
        )
        .await
}

/// Downloads an Office file (a workbook, a Word file) as `client`: answered, and a zip
/// file as those are.
async fn download(client: &mut Client, h: &Harness, path: &str) -> Response {
    let r = client.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{}: {path}", h.label);
    assert!(r.bytes.starts_with(b"PK"), "{}: {path}", h.label);
    r
}

/// The 生师比 of `data` in `year` as the indicators compute it, and as pages show it.
fn student_teacher_ratio(h: &Harness, data: &nianbao_core::Dataset, year: Year) -> (f64, String) {
    let ratio = nianbao_core::evaluate_indicators(&h.definitions, data, year)
        .into_iter()
        .find(|r| r.id == "student_teacher_ratio")
        .and_then(|r| r.value)
        .unwrap();
    let decimals = h
        .definitions
        .indicator("student_teacher_ratio")
        .unwrap()
        .decimals;
    (ratio, nianbao_core::number::grouped(ratio, decimals))
}

#[tokio::test]
async fn users_see_only_their_school_or_area() {
    for h in Harness::all().await {
        let mut outsider = h.signed_in("outsider").await;
        let r = outsider
            .get(&format!("/schools/{}/submission", h.code))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
        let r = outsider
            .get(&format!("/schools/{}/submission", h.other_code))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", h.label);

        let mut other_district = h.signed_in("district_other").await;
        for path in [
            format!("/areas/{}", h.district),
            format!("/areas/{}/compare", h.district),
            format!("/areas/{}/report.html", h.district),
            format!("/schools/{}/submission", h.code),
            format!("/schools/{}", h.code),
        ] {
            let r = other_district.get(&path).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{} {path}", h.label);
        }
        let r = other_district
            .get(&format!("/schools/{}/submission", h.other_code))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", h.label);

        // The district's page lists its school and not the other district's.
        let mut district = h.signed_in("district").await;
        let page = district.get(&format!("/areas/{}", h.district)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("本校"), "{}", h.label);
        assert!(!page.body.contains("邻区学校"), "{}", h.label);
        // The city sees both.
        let mut city = h.signed_in("city").await;
        let page = city
            .get(&format!("/schools/{}/submission", h.other_code))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", h.label);
        assert!(page.body.contains("测试市教育局 · 接收"), "{}", h.label);
        // A commission's reader, bound to no area, keeps the reviewer's name.
        let mut reader = h.signed_in("reviewer").await;
        let page = reader.get("/areas").await;
        assert!(
            page.body.contains("（只读审阅）"),
            "{}: {}",
            h.label,
            page.body
        );
    }
}

#[tokio::test]
async fn a_submission_locks_the_forms_and_the_district_waits_for_every_school() {
    for h in Harness::all().await {
        let enrolled = make_clean(&h).await;
        let mut quality = h.signed_in("quality").await;
        let page = quality
            .get(&format!("/schools/{}/submission", h.code))
            .await;
        assert!(page.body.contains("待提交"), "{}", h.label);
        let csrf = page.csrf();
        let r = act(&mut quality, &h, &csrf, &[("action", "submit")]).await;
        let page = quality.get(r.location()).await;
        assert!(page.body.contains("已提交"), "{}: {}", h.label, page.body);

        // The form says why it is locked, and a save is refused with the reason.
        let form = quality
            .get(&format!("/schools/{}/sections/1.4", h.code))
            .await;
        assert!(form.body.contains("id=\"locked\""), "{}", h.label);
        assert!(form.body.contains("等待区县教育局审核"), "{}", h.label);
        let staff = h
            .data()
            .await
            .value(Year::new(2025).unwrap(), "staff.total");
        let staff = staff.unwrap().to_string();
        let r = quality
            .post(
                &format!("/schools/{}/sections/1.4", h.code),
                &[
                    ("csrf", &csrf),
                    ("v|2025|staff.total|", "1"),
                    ("o|2025|staff.total|", &staff),
                ],
            )
            .await;
        assert!(
            r.body.contains("已锁定"),
            "{}: {} {}",
            h.label,
            r.status,
            r.body
        );

        // The district cannot approve itself while the school only submitted…
        let (mut district, csrf) = h
            .signed_in_at("district", &format!("/areas/{}", h.district))
            .await;
        let r = approve_area(&mut district, &h, &csrf).await;
        let page = district.get(r.location()).await;
        assert!(
            page.body.contains("未能审核") && page.body.contains("本校"),
            "{}: {}",
            h.label,
            page.body
        );
        // The refusal is shown as an error, not as the success notice.
        let shown = refusal(&page.body);
        assert!(shown.contains("未能审核"), "{}: {shown}", h.label);
        assert!(!page.body.contains("class=\"notice\""), "{}", h.label);
        // The header names the district's bureau and what it does, not the reviewer role.
        assert!(
            page.body
                .contains(&format!("{}（黔江区教育局 · 审核）", h.users["district"])),
            "{}: {}",
            h.label,
            page.body
        );
        assert!(!page.body.contains("只读审阅"), "{}", h.label);
        // …returns it with a reason on one fact, which unlocks it…
        let r = act(
            &mut district,
            &h,
            &csrf,
            &[
                ("action", "return"),
                ("target", "fact:staff.total"),
                ("reason", "教职工总数请与人事报表核对"),
                ("target", "section:1.4"),
                ("reason", "请补充专任教师的学历结构"),
                ("target", ""),
                ("reason", ""),
            ],
        )
        .await;
        let page = district.get(r.location()).await;
        assert!(page.body.contains("已退回"), "{}", h.label);
        for reason in ["教职工总数请与人事报表核对", "请补充专任教师的学历结构"]
        {
            assert!(page.body.contains(reason), "{}: {reason}", h.label);
        }
        let history = h
            .store
            .submission_history(&h.code, nianbao_core::Year::new(2025).unwrap())
            .await
            .unwrap();
        let returned = history
            .iter()
            .find(|e| e.action.code() == "return")
            .unwrap();
        assert_eq!(
            returned.items.len(),
            2,
            "{}: one return, two items",
            h.label
        );
        let form = quality
            .get(&format!("/schools/{}/sections/1.4", h.code))
            .await;
        assert!(!form.body.contains("id=\"locked\""), "{}", h.label);
        // …and, resubmitted, approves it; then the district as a whole.
        let csrf_q = form.csrf();
        act(&mut quality, &h, &csrf_q, &[("action", "submit")]).await;
        act(&mut district, &h, &csrf, &[("action", "approve")]).await;
        let r = approve_area(&mut district, &h, &csrf).await;
        let page = district.get(r.location()).await;
        assert!(
            page.body.contains("id=\"area-approval\""),
            "{}: {}",
            h.label,
            page.body
        );

        // The compiled report of the district carries the school's figures.
        let report = district
            .get(&format!("/areas/{}/report.html?year=2025", h.district))
            .await;
        assert_eq!(report.status, StatusCode::OK);
        let total = nianbao_core::number::grouped(enrolled, 0);
        assert!(
            report.body.contains(&format!("在校生数合计 {total} 人")),
            "{}",
            h.label
        );
        assert!(report.body.contains("已纳入的学校（1 所）"), "{}", h.label);
        // The comparison exports to Excel.
        let xlsx = download(
            &mut district,
            &h,
            &format!("/areas/{}/compare.xlsx?year=2025", h.district),
        )
        .await;
        assert_eq!(
            xlsx.saved_name(),
            "黔江区2025年度学校比较.xlsx",
            "{}",
            h.label
        );
        // The compiled report downloads under the report's Chinese title, named a draft as
        // its PDF is.
        let docx = download(
            &mut district,
            &h,
            &format!("/areas/{}/report.docx?year=2025", h.district),
        )
        .await;
        assert_eq!(
            docx.saved_name(),
            "黔江区2025 年度职业教育质量年度报告（草稿）.docx",
            "{}",
            h.label
        );
        let pdf = district
            .get(&format!("/areas/{}/report.pdf?year=2025", h.district))
            .await;
        assert_eq!(pdf.status, StatusCode::OK, "{}", h.label);
        assert_eq!(
            pdf.saved_name(),
            "黔江区2025 年度职业教育质量年度报告（草稿）.pdf",
            "{}",
            h.label
        );
        // Its web page is shown, not downloaded.
        let html = district
            .get(&format!("/areas/{}/report.html?year=2025", h.district))
            .await;
        assert_eq!(html.status, StatusCode::OK, "{}", h.label);
        assert!(
            html.headers.get("content-disposition").is_none(),
            "{}",
            h.label
        );
    }
}

#[tokio::test]
async fn the_comparison_pages_its_schools_and_follows_changed_data() {
    let h = Harness::sqlite().await;
    let year = Year::new(2025).unwrap();
    let area = synth::area(SynthConfig {
        count: 130,
        seed: 17,
        fault_share: 0.0,
        year,
    });
    h.store.load_areas(&area.tree).await.unwrap();
    let datasets: Vec<_> = (0..130).filter_map(|i| synth::dataset(&area, i)).collect();
    h.store.save_datasets(&datasets, "setup").await.unwrap();
    let province = synth::PROVINCE_CODE;
    let mut reader = h.signed_in("reviewer").await;
    let rows = |body: &str| body.matches("<tr id=\"row-").count();

    let page = reader
        .get(&format!("/areas/{province}/compare?year=2025"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("共 130 所（第 1 / 2 页）"),
        "{}",
        page.body
    );
    assert_eq!(rows(&page.body), 100);
    assert!(page.body.contains("page=2\" rel=\"next\""), "{}", page.body);
    let page = reader
        .get(&format!("/areas/{province}/compare?year=2025&page=2"))
        .await;
    assert!(page.body.contains("第 101–130 所"), "{}", page.body);
    assert_eq!(rows(&page.body), 30);
    let evaluated = h.state.comparison_evaluations();
    assert!(evaluated >= 130, "every school evaluated once: {evaluated}");

    // A school whose enrolment grows tenfold tops the 生师比 column at once: the kept
    // comparison is not served after the data changed.
    let mut data = datasets[57].clone();
    let enrolled = data.value(year, "students.enrolled_total").unwrap();
    data.facts.insert(
        nianbao_core::FactKey::school(year, "students.enrolled_total"),
        enrolled * 10.0,
    );
    h.store.save_dataset(&data, "setup").await.unwrap();
    let stored = h.store.load_dataset(&data.school.code).await.unwrap();
    let (ratio, shown) = student_teacher_ratio(&h, &stored, year);
    let sorted = format!("/areas/{province}/compare?year=2025&sort=student_teacher_ratio&desc=1");
    let page = reader.get(&sorted).await;
    assert_eq!(
        h.state.comparison_evaluations(),
        evaluated + 1,
        "only the changed school is evaluated again"
    );
    // The comparison built from kept results equals one a new app computes from scratch.
    let table = |body: &str| -> Vec<String> {
        body.split("<tr id=\"row-")
            .skip(1)
            .map(|row| row[..row.find("</tr>").unwrap()].to_string())
            .collect()
    };
    let mut fresh = h.signed_in_to_new_app("reviewer").await;
    for page_query in ["", "&page=2"] {
        let kept = reader.get(&format!("{sorted}{page_query}")).await;
        let computed = fresh.get(&format!("{sorted}{page_query}")).await;
        assert_eq!(table(&kept.body), table(&computed.body), "{page_query}");
        assert!(!table(&kept.body).is_empty());
    }
    assert_eq!(h.state.comparison_evaluations(), evaluated + 1, "kept");
    let first = page.body.find("<tr id=\"row-").unwrap();
    let row = &page.body[first..first + page.body[first..].find("</tr>").unwrap()];
    assert!(row.contains(&data.school.code), "{row}");
    assert!(row.contains(&shown), "{ratio} in {row}");
    // The order survives paging.
    assert!(
        page.body
            .contains("sort=student_teacher_ratio&amp;desc=1&page=2"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_comparison_takes_peers_from_the_level_asked_for() {
    let h = Harness::sqlite().await;
    let mut city = h.signed_in("city").await;
    let area = h.district.replace("-d", "-c");
    let page = city.get(&format!("/areas/{area}/compare")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<option value=\"city\" selected>同市</option>"),
        "{}",
        page.body
    );
    let page = city
        .get(&format!(
            "/areas/{area}/compare?peers=district&sort=student_teacher_ratio"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<option value=\"district\" selected>同区县</option>")
            && page.body.contains("按同区县、同类学校"),
        "{}",
        page.body
    );
    // Sorting and paging keep the level.
    assert!(page.body.contains("peers=district&sort="), "{}", page.body);
    let xlsx = city
        .get(&format!("/areas/{area}/compare.xlsx?peers=province"))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let wrong = city
        .get(&format!("/areas/{area}/compare?peers=planet"))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("不是区域级别"), "{}", wrong.body);
}

#[tokio::test]
async fn a_school_s_indicators_over_the_years_are_shown_beside_the_area_s_medians() {
    let h = Harness::sqlite().await;
    let mut district = h.signed_in("district").await;
    let compare = district
        .get(&format!("/areas/{}/compare?year=2025", h.district))
        .await;
    let link = format!("/areas/{}/compare/{}?year=2025", h.district, h.code);
    assert!(compare.body.contains(&link), "{}", compare.body);
    let page = district.get(&link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // Every year the store holds, each indicator's value as the indicators compute it.
    let data = h.data().await;
    let years: Vec<Year> = data.years();
    assert!(years.len() >= 2);
    for y in &years {
        assert!(page.body.contains(&format!("<th>{y}</th>")), "{y}");
    }
    for y in &years {
        let (_, shown) = student_teacher_ratio(&h, &data, *y);
        let row_start = page.body.find("生师比").unwrap();
        let row = &page.body[row_start..row_start + page.body[row_start..].find("</tr>").unwrap()];
        assert!(row.contains(&shown), "{y}: {shown} in {row}");
        assert!(row.contains("<polyline"), "{row}");
    }
    // A school of another district is not found under this district.
    let r = district
        .get(&format!("/areas/{}/compare/{}", h.district, h.other_code))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Makes the harness school's 2025 data clean, submits it and approves it as its district,
/// as set up by hand (not through the pages); returns its 在校生数.
async fn approved_school(h: &Harness) -> f64 {
    use nianbao_bureau::{Action, Actor, ActorRole};
    let year = Year::new(2025).unwrap();
    let enrolled = make_clean(h).await;
    for (action, role) in [
        (Action::Submit, ActorRole::School),
        (Action::Approve, ActorRole::District),
    ] {
        let actor = Actor {
            role,
            name: "setup".into(),
        };
        h.store
            .act_on_submission(&h.code, year, action, &actor, &[], &h.definitions)
            .await
            .unwrap();
    }
    enrolled
}

#[tokio::test]
async fn the_area_report_is_made_final_once_written_and_kept_as_made() {
    for h in Harness::all().await {
        let enrolled = approved_school(&h).await;
        let report = format!("/areas/{}/report?year=2025", h.district);
        let (mut district, csrf) = h.signed_in_at("district", &report).await;
        let make_final = format!("/areas/{}/report/final", h.district);
        // Refused while the bureau's texts are unwritten, naming them.
        let r = district
            .post(&make_final, &[("csrf", &csrf), ("year", "2025")])
            .await;
        let refused = district.get(r.location()).await;
        assert!(
            refusal(&refused.body).contains("尚不能定稿") && refused.body.contains("前言"),
            "{}: {}",
            h.label,
            refused.body
        );
        assert!(
            h.store
                .area_finals(&h.district, 2025)
                .await
                .unwrap()
                .is_empty(),
            "{}",
            h.label
        );
        for part in ["preface", "overview", "challenges"] {
            let r = write_part(&mut district, &h, &csrf, part, "本区职业教育稳步发展。").await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", h.label);
        }
        let r = district
            .post(&make_final, &[("csrf", &csrf), ("year", "2025")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.label, r.body);
        let finals = h.store.area_finals(&h.district, 2025).await.unwrap();
        assert_eq!(finals.len(), 1, "{}", h.label);
        let id = finals[0].id;
        let page = district.get(&report).await;
        assert!(
            page.body.contains(&format!("第 {id} 号定稿"))
                && page.body.contains(&h.users["district"]),
            "{}: {}",
            h.label,
            page.body
        );
        let html_path = format!("/areas/{}/finals/{id}/report.html", h.district);
        let kept = district.get(&html_path).await;
        assert_eq!(kept.status, StatusCode::OK, "{}", h.label);
        let total = nianbao_core::number::grouped(enrolled, 0);
        assert!(kept.body.contains(&total), "{}: {total}", h.label);
        assert!(
            kept.body.contains(&format!("定稿编号：第 {id} 号")),
            "{}",
            h.label
        );
        assert!(kept.body.contains("已纳入的学校（1 所）"), "{}", h.label);
        assert!(kept.body.contains("尚未纳入的学校（0 所）"), "{}", h.label);
        assert!(!kept.body.contains("征求意见稿"), "{}", h.label);
        download(
            &mut district,
            &h,
            &format!("/areas/{}/finals/{id}/report.docx", h.district),
        )
        .await;
        // The PDF was made with the final by the school report's renderer, and is listed.
        assert!(finals[0].has_pdf, "{}: needs fonts-noto-cjk", h.label);
        assert!(
            page.body.contains(&format!("/finals/{id}/report.pdf")),
            "{}",
            h.label
        );
        let pdf = district
            .get(&format!("/areas/{}/finals/{id}/report.pdf", h.district))
            .await;
        assert_eq!(pdf.status, StatusCode::OK, "{}", h.label);
        assert!(
            pdf.saved_name().ends_with(&format!("定稿第{id}号）.pdf")),
            "{}",
            pdf.saved_name()
        );
        let text = pdf_text(&pdf.bytes);
        assert!(
            text.contains(&format!("定稿编号：第{id}号")),
            "{}: {text}",
            h.label
        );
        assert!(text.contains(&total), "{}: {total} in the PDF", h.label);
        assert!(
            !text.contains("草稿"),
            "{}: the final's PDF is no draft",
            h.label
        );
        // The draft downloads as PDF too, marked as a draft.
        let draft_pdf = district
            .get(&format!("/areas/{}/report.pdf?year=2025", h.district))
            .await;
        assert_eq!(draft_pdf.status, StatusCode::OK, "{}", h.label);
        assert!(pdf_text(&draft_pdf.bytes).contains("草稿"), "{}", h.label);
        // A later text changes the draft, not the final.
        write_part(&mut district, &h, &csrf, "preface", "定稿之后改写的前言。").await;
        let draft = district
            .get(&format!("/areas/{}/report.html?year=2025", h.district))
            .await;
        assert!(draft.body.contains("定稿之后改写的前言"), "{}", h.label);
        let again = district.get(&html_path).await;
        assert_eq!(again.bytes, kept.bytes, "{}", h.label);
        let again = district
            .get(&format!("/areas/{}/finals/{id}/report.pdf", h.district))
            .await;
        assert_eq!(again.bytes, pdf.bytes, "{}: the PDF as made", h.label);
        // Another district neither makes nor reads this district's finals.
        let other_area = format!("/areas/{}", h.district.replace("-d", "-e"));
        let (mut other, csrf) = h.signed_in_at("district_other", &other_area).await;
        let r = other.get(&html_path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
        let r = other
            .post(&make_final, &[("csrf", &csrf), ("year", "2025")])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", h.label);
    }
}

#[tokio::test]
async fn the_area_report_s_final_takes_its_peers_from_the_level_chosen() {
    for h in Harness::all().await {
        approved_school(&h).await;
        let report = format!("/areas/{}/report?year=2025", h.district);
        let (mut district, csrf) = h.signed_in_at("district", &report).await;
        for part in ["preface", "overview", "challenges"] {
            let r = write_part(&mut district, &h, &csrf, part, "本区职业教育稳步发展。").await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", h.label);
        }
        // The page offers the three levels, the city chosen unless another is; the
        // preview, the draft downloads and the final's form follow the level chosen.
        let section = |body: &str, id: &str| -> String {
            let from = body
                .find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("{}: no {id}: {body}", h.label));
            let rest = &body[from..];
            rest[..rest.find("</form>").unwrap()].to_string()
        };
        let page = district.get(&report).await;
        let choice = section(&page.body, "peers-form");
        for option in [
            "<option value=\"district\">同区县</option>",
            "<option value=\"city\" selected>同市</option>",
            "<option value=\"province\">同省</option>",
        ] {
            assert!(choice.contains(option), "{}: {option} in {choice}", h.label);
        }
        let form = section(&page.body, "final-form");
        assert!(
            form.contains("name=\"peers\" value=\"city\""),
            "{}: {form}",
            h.label
        );
        let page = district.get(&format!("{report}&peers=province")).await;
        assert!(
            section(&page.body, "peers-form").contains("<option value=\"province\" selected>"),
            "{}: {}",
            h.label,
            page.body
        );
        assert!(
            section(&page.body, "final-form").contains("name=\"peers\" value=\"province\""),
            "{}: {}",
            h.label,
            page.body
        );
        for link in ["report.html", "report.docx", "report.pdf"] {
            let href = format!("/areas/{}/{link}?year=2025&peers=province", h.district);
            assert!(
                page.body.contains(&href),
                "{}: {href} in {}",
                h.label,
                page.body
            );
        }
        let make_final = format!("/areas/{}/report/final", h.district);
        // The province chosen: the final says its peers came from the province.
        let r = district
            .post(
                &make_final,
                &[("csrf", &csrf), ("year", "2025"), ("peers", "province")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.label, r.body);
        let finals = h.store.area_finals(&h.district, 2025).await.unwrap();
        assert_eq!(finals.len(), 1, "{}", h.label);
        let body = kept_html(&mut district, &h, finals[0].id).await;
        assert!(
            body.contains("同类学校取自测试省（同省）已审核的学校"),
            "{}: {body}",
            h.label
        );
        // A level the form does not offer is refused, and nothing is made final.
        let r = district
            .post(
                &make_final,
                &[("csrf", &csrf), ("year", "2025"), ("peers", "planet")],
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", h.label);
        assert!(r.body.contains("不是区域级别"), "{}: {}", h.label, r.body);
        let finals = h.store.area_finals(&h.district, 2025).await.unwrap();
        assert_eq!(finals.len(), 1, "{}", h.label);
        // No level sent (an older form): the city, as before.
        let r = district
            .post(&make_final, &[("csrf", &csrf), ("year", "2025")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.label, r.body);
        let finals = h.store.area_finals(&h.district, 2025).await.unwrap();
        assert_eq!(finals.len(), 2, "{}", h.label);
        let newest = finals.iter().map(|f| f.id).max().unwrap();
        let body = kept_html(&mut district, &h, newest).await;
        assert!(
            body.contains("同类学校取自测试市（同市）已审核的学校"),
            "{}: {body}",
            h.label
        );
    }
}

/// The web page of the district's final `id`, as kept.
async fn kept_html(client: &mut Client, h: &Harness, id: i64) -> String {
    let r = client
        .get(&format!("/areas/{}/finals/{id}/report.html", h.district))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", h.label);
    r.body
}

/// The text of a PDF, spaces removed (as the auditor reads it).
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let text = nianbao_audit::extract_text(&path).unwrap();
    text.split_whitespace().collect()
}

/// The text of a page's refusal (the error shown after a refused action).
fn refusal(body: &str) -> &str {
    let start = body
        .find("id=\"refused\"")
        .unwrap_or_else(|| panic!("no refusal shown: {body}"));
    let end = body[start..].find("</p>").map_or(body.len(), |e| start + e);
    &body[start..end]
}
