//! Writing the report through the web app, on SQLite and PostgreSQL: a department saves its
//! part with bindings, a second writer holding an old version is refused and told who saved,
//! bad text (a `javascript:` link, an unknown binding) is refused at its line with nothing
//! saved, raw HTML is shown as text, the preview fills in the bound values, the review
//! steps check the state and the reason, and photos are checked, turned upright and
//! stripped before they are stored.

mod common;

use axum::http::StatusCode;
use common::Harness;
use nianbao_core::{WritingState, Year};
use serde_json::Value;

const PART: &str = "2.2";
const PATH: &str = "sections/2.2.md";

fn y2025() -> Year {
    Year::new(2025).unwrap()
}

async fn version(h: &Harness) -> i64 {
    h.store
        .report_text(&h.code, y2025(), PATH)
        .await
        .unwrap()
        .map_or(0, |t| t.version)
}

async fn state(h: &Harness) -> Option<WritingState> {
    h.store
        .part_states(&h.code, y2025())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.part == PART)
        .map(|s| s.state)
}

#[tokio::test]
async fn a_department_writes_its_part_and_bad_or_stale_saves_change_nothing() {
    for h in Harness::all().await {
        let data = h.data().await;
        let (own, _) = common::two_departments(&data);
        h.store
            .set_section_owner(&h.code, PART, Some(&own), "setup")
            .await
            .unwrap();
        let staff = data
            .value(y2025(), "staff.total")
            .expect("the sample has staff.total");
        let url = format!("/schools/{}/writing/{PART}", h.code);

        let mut department = h.signed_in("department").await;
        let page = department.get(&url).await;
        assert_eq!(page.status, StatusCode::OK, "{}", h.label);
        assert!(page.body.contains("插入数据"), "the picker is shown");
        assert!(page.body.contains("教职工总数"), "by Chinese name");
        let csrf = page.csrf();

        let text = "本年度教职工 {{ v(\"教职工总数\") | num }} 人，较上年 {{ v(\"教职工总数\") | change(prev(\"教职工总数\"), \"人\") }}。";
        let preview = department
            .post(
                &format!("{url}/preview"),
                &[
                    ("csrf", &csrf),
                    ("text", &format!("{text}\n\n<script>alert(1)</script>")),
                ],
            )
            .await;
        let json: Value = serde_json::from_str(&preview.body).unwrap();
        let html = json["html"].as_str().unwrap();
        let shown = nianbao_core::number::grouped(staff, 0);
        assert!(
            html.contains(&shown),
            "{}: bound value {shown} in {html}",
            h.label
        );
        assert!(
            html.contains("&lt;script&gt;") && !html.contains("<script>"),
            "{html}"
        );
        assert!(json["chars"].as_u64().unwrap() > 10);

        let saved = department
            .post(&url, &[("csrf", &csrf), ("text", text), ("version", "0")])
            .await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{}: {}",
            h.label,
            saved.body
        );
        assert_eq!(version(&h).await, 1);
        assert_eq!(state(&h).await, Some(WritingState::Draft));

        // The quality office opened the page before the department saved: refused, told who.
        let mut quality = h.signed_in("quality").await;
        let quality_csrf = quality.get(&url).await.csrf();
        let stale = quality
            .post(
                &url,
                &[
                    ("csrf", &quality_csrf),
                    ("text", "质量办的另一版"),
                    ("version", "0"),
                ],
            )
            .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{}", h.label);
        assert!(
            stale.body.contains(&h.users["department"]),
            "names who saved"
        );
        assert!(
            stale.body.contains("质量办的另一版"),
            "keeps the refused text"
        );
        assert_eq!(version(&h).await, 1, "nothing saved");

        for (bad, expected) in [
            ("第一行\n[链接](javascript:alert(1))", "第 2 行"),
            ("{{ v(\"教职工总人数\") }}", "相近的有"),
            ("{% if %}", "模板语法有误"),
        ] {
            let refused = department
                .post(&url, &[("csrf", &csrf), ("text", bad), ("version", "1")])
                .await;
            assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(refused.body.contains(expected), "{bad}: {}", refused.body);
            assert_eq!(version(&h).await, 1, "{bad}: nothing saved");
        }

        // Review: hand in, a return needs a reason, then approve; a save afterwards sends
        // the part back to 草稿.
        let step = |action: &'static str, reason: &'static str| {
            vec![
                ("action".to_string(), action.to_string()),
                ("reason".to_string(), reason.to_string()),
            ]
        };
        let post_state =
            async |client: &mut common::Client, csrf: &str, fields: Vec<(String, String)>| {
                let mut all: Vec<(&str, &str)> = vec![("csrf", csrf)];
                for (k, v) in &fields {
                    all.push((k.as_str(), v.as_str()));
                }
                client.post(&format!("{url}/state"), &all).await
            };
        let submitted = post_state(&mut department, &csrf, step("submit", "")).await;
        assert_eq!(
            submitted.status,
            StatusCode::SEE_OTHER,
            "{}",
            submitted.body
        );
        assert_eq!(state(&h).await, Some(WritingState::Review));
        let mut reviewer = h.signed_in("school_reviewer").await;
        let reviewer_csrf = reviewer.get(&url).await.csrf();
        let no_reason = post_state(&mut reviewer, &reviewer_csrf, step("return", " ")).await;
        assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
        assert!(no_reason.body.contains("理由"));
        assert_eq!(state(&h).await, Some(WritingState::Review));
        let returned = post_state(
            &mut reviewer,
            &reviewer_csrf,
            step("return", "请补充专业建设的具体成效"),
        )
        .await;
        assert_eq!(returned.status, StatusCode::SEE_OTHER);
        assert_eq!(state(&h).await, Some(WritingState::Draft));
        let comments = h.store.comments(&h.code, y2025()).await.unwrap();
        assert!(
            comments
                .iter()
                .any(|c| c.body.contains("请补充专业建设的具体成效"))
        );
        let page = department.get(&url).await;
        assert!(
            page.body.contains("请补充专业建设的具体成效"),
            "the author sees why"
        );
        let dashboard = department.get(&format!("/schools/{}", h.code)).await;
        assert!(
            dashboard.body.contains("请补充专业建设的具体成效"),
            "and the dashboard lists it"
        );

        assert_eq!(
            post_state(&mut department, &csrf, step("submit", ""))
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        let approve_by_author = post_state(&mut department, &csrf, step("approve", "")).await;
        assert_eq!(
            approve_by_author.status,
            StatusCode::FORBIDDEN,
            "an author cannot approve"
        );
        assert_eq!(
            post_state(&mut reviewer, &reviewer_csrf, step("approve", ""))
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(state(&h).await, Some(WritingState::Approved));
        let again = department
            .post(
                &url,
                &[
                    ("csrf", &csrf),
                    ("text", "定稿后又改了一句。"),
                    ("version", "1"),
                ],
            )
            .await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(state(&h).await, Some(WritingState::Draft), "back to 草稿");

        let history = department.get(&format!("{url}/history")).await;
        assert!(history.body.contains("第 2 版") && history.body.contains("<ins>"));
    }
}

/// A PNG whose header claims `width` × `height` pixels, with no image data after it.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    out
}

fn photo_png() -> Vec<u8> {
    let picture = image::RgbImage::from_pixel(300, 200, image::Rgb([200, 120, 40]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn photos_are_checked_before_anything_is_stored() {
    let h = Harness::sqlite().await;
    let mut quality = h.signed_in("quality").await;
    let code = &h.code;
    let form = quality
        .get(&format!("/schools/{code}/cases/new?section=2.6"))
        .await;
    let csrf = form.csrf();
    let created = quality
        .post(
            &format!("/schools/{code}/cases"),
            &[
                ("csrf", &csrf),
                ("title", "实训基地开放日"),
                ("section", "2.6"),
                ("order", "1"),
                ("body", "正文。"),
                ("version", "0"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let case_url = created.location().split('?').next().unwrap().to_string();
    let upload = format!("{case_url}/photos");
    let images = async || h.store.report_images(code, y2025()).await.unwrap().len();

    let huge = vec![0xFFu8; 50 * 1024 * 1024];
    let refused = quality
        .upload(&upload, &[("csrf", &csrf), ("caption", "太大")], &huge)
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert!(refused.body.contains("MB"), "{}", refused.body);

    for (bytes, expected) in [
        (png_header(20_000, 20_000), "尺寸过大"),
        (b"just some text, not a picture".to_vec(), "不是图片"),
    ] {
        let refused = quality
            .upload(&upload, &[("csrf", &csrf), ("caption", "图")], &bytes)
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains(expected), "{}", refused.body);
    }
    let no_caption = quality
        .upload(&upload, &[("csrf", &csrf), ("caption", " ")], &photo_png())
        .await;
    assert_eq!(no_caption.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(images().await, 0, "nothing stored");

    let stored = quality
        .upload(
            &upload,
            &[("csrf", &csrf), ("caption", "学生在实训基地操作设备")],
            &photo_png(),
        )
        .await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.body);
    let all = h.store.report_images(code, y2025()).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(&all[0].bytes[..2], &[0xFF, 0xD8], "stored as JPEG");
    let page = quality.get(&case_url).await;
    assert!(page.body.contains("学生在实训基地操作设备"));
    let name = all[0].path.trim_start_matches("images/");
    let served = quality.get(&format!("/schools/{code}/images/{name}")).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.bytes, all[0].bytes);
    // The draft report shows the case and its photo.
    let report = quality.get(&format!("/schools/{code}/report")).await;
    assert!(report.body.contains("实训基地开放日"));
    assert!(report.body.contains("学生在实训基地操作设备"));
}
