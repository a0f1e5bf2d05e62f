//! The points ledger (积分制) in a real browser on a phone-sized window (390 px): a 班主任
//! records points for three students (picking the observation by search), is refused with
//! the daily limit named when recording one of them again, reverses one event with a
//! reason, and reads the class ranking and a profile (a read the log keeps); the student
//! signs in, sees the new total, the 八维 radar and the history, and another student's
//! profile answers 403.
//!
//! Skipped when chromedriver is not installed, unless `NIANBAO_REQUIRE_BROWSER=1`.

mod common;

use std::path::Path;

use anyhow::{Context, Result, ensure};
use common::browser::{
    browser_available, cli, click_and_wait, ensure_fits, open_browser, page_text, screenshot,
    sign_in, sign_out, start_chromedriver, start_server, wait_for,
};
use fantoccini::{Client, Locator};
use nianbao_points::ledger::{civil_from_days, days_from_civil, format_date};

const HEAD_TEACHER: &str = "王班主任";
const QUALITY: &str = "质量办";
const STUDENT: &str = "张小明";
const PASSWORD: &str = "浏览器测试的密码 2026";
const CLASS: &str = "汽修2601";

const ROSTER: &str = "学号,姓名,班级,专业,专业部,入学年份
S2601001,张小明,汽修2601,汽车运用与维修,汽车技术部,2026
S2601002,李小红,汽修2601,汽车运用与维修,汽车技术部,2026
S2601003,王小刚,汽修2601,汽车运用与维修,汽车技术部,2026
S2601004,陈小燕,汽修2601,汽车运用与维修,汽车技术部,2026
S2602001,赵小军,数控2601,数控技术应用,智能制造部,2026
";

/// Today in Beijing, as a day number.
fn today() -> i32 {
    let now = time::OffsetDateTime::now_utc().to_offset(nianbao_core::clock::beijing());
    days_from_civil(
        now.year(),
        u32::from(u8::from(now.month())),
        u32::from(now.day()),
    )
}

#[tokio::test]
async fn a_head_teacher_records_and_reverses_and_a_student_reads_their_profile_on_a_phone() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("points.db");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    cli(&db, &["import", sample.to_str().unwrap()], None);
    cli(&db, &["points", "tree", "load"], None);
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, ROSTER).unwrap();
    cli(&db, &["points", "roster", roster.to_str().unwrap()], None);
    let today = today();
    let (year, _, _) = civil_from_days(today - 60);
    cli(
        &db,
        &[
            "points",
            "period",
            "add",
            "本学期",
            "--year",
            &year.to_string(),
            "--from",
            &format_date(today - 60),
            "--to",
            &format_date(today + 60),
        ],
        None,
    );
    let password = format!("{PASSWORD}\n");
    cli(
        &db,
        &[
            "user",
            "add",
            "--name",
            HEAD_TEACHER,
            "--role",
            "head_teacher",
            "--class",
            CLASS,
        ],
        Some(&password),
    );
    cli(
        &db,
        &["user", "add", "--name", QUALITY, "--role", "quality"],
        Some(&password),
    );
    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        "学号,姓名,班级,专业,专业部,入学年份\nS2602002,孙小雨,数控2601,数控技术应用,智能制造部,2026\n",
    )
    .unwrap();
    cli(
        &db,
        &[
            "user",
            "add",
            "--name",
            STUDENT,
            "--role",
            "student",
            "--student",
            "S2601001",
        ],
        Some(&password),
    );

    let (_server, base, log) = start_server(&db);
    let (_driver, driver_url) = start_chromedriver();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let browser = open_browser(&driver_url, &downloads).await;
    let outcome = walk(&browser, &base, &more).await;
    if outcome.is_err() {
        if let Ok(source) = browser.source().await {
            eprintln!("--- page at failure ---\n{source}\n---");
        }
        eprintln!(
            "--- server log ---\n{}\n---",
            log.lock().unwrap().join("\n")
        );
    }
    if let Err(e) = browser.close().await {
        eprintln!("could not close the browser session: {e}");
    }
    outcome.unwrap();

    // The 班主任's read of a profile is in the read log; the student's own reads are not.
    let reads = cli(&db, &["points", "reads"], None);
    assert!(
        reads.contains(HEAD_TEACHER) && reads.contains("S2601003"),
        "{reads}"
    );
    assert!(!reads.contains(STUDENT), "{reads}");
}

/// Checks the page fits 390 px and saves its screenshot.
async fn phone_page(browser: &Client, name: &str) -> Result<()> {
    ensure_fits(browser, name).await?;
    screenshot(browser, name).await
}

/// The HTTP status of a GET of `url` from the page's session.
async fn status_of(browser: &Client, url: &str) -> Result<i64> {
    let status = browser
        .execute(
            "return fetch(arguments[0], {credentials: 'same-origin', redirect: 'manual'}).then(r => r.status);",
            vec![serde_json::json!(url)],
        )
        .await?;
    status.as_i64().context("a status number")
}

/// Ticks the students with these numbers, searches for `words` and picks `observation`.
async fn fill_record_form(
    browser: &Client,
    students: &[&str],
    words: &str,
    observation: &str,
    note: &str,
) -> Result<()> {
    for number in students {
        let box_ = wait_for(browser, &format!("input[name=student][value='{number}']")).await?;
        if !box_.is_selected().await? {
            box_.click().await?;
        }
    }
    let search = wait_for(browser, "#obs-search").await?;
    search.clear().await?;
    search.send_keys(words).await?;
    let radio = wait_for(
        browser,
        &format!("input[name=observation][value='{observation}']"),
    )
    .await?;
    ensure!(
        radio.is_displayed().await?,
        "searching 「{words}」 shows {observation}"
    );
    radio.click().await?;
    let note_field = wait_for(browser, "input[name=note]").await?;
    note_field.clear().await?;
    note_field.send_keys(note).await?;
    Ok(())
}

async fn walk(browser: &Client, base: &str, more: &Path) -> Result<()> {
    browser.set_window_size(390, 844).await?;
    let width = browser.execute("return window.innerWidth;", vec![]).await?;
    ensure!(
        width.as_i64().is_some_and(|w| w <= 400),
        "the window is phone-sized: {width}"
    );

    // The 班主任 lands on their classes.
    sign_in(browser, base, HEAD_TEACHER, PASSWORD).await?;
    let path = browser.current_url().await?.path().to_string();
    let code = path
        .strip_prefix("/schools/")
        .and_then(|p| p.strip_suffix("/points"))
        .with_context(|| format!("a 班主任 starts at /schools/CODE/points, not {path}"))?
        .to_string();
    let school = format!("{base}/schools/{code}");
    wait_for(browser, "#classes").await?;
    let text = page_text(browser).await?;
    ensure!(text.contains(CLASS) && !text.contains("数控2601"), "{text}");
    ensure!(
        !text.contains("报告撰写"),
        "a 班主任 is offered none of the report's pages: {text}"
    );
    phone_page(browser, "points-classes-phone").await?;
    ensure!(
        status_of(browser, &school).await? == 403,
        "the school's dashboard is closed to a 班主任"
    );

    // Three students, one observation found by searching.
    click_and_wait(browser, "#classes a[href*='/points/record']").await?;
    wait_for(browser, "form#record").await?;
    fill_record_form(
        browser,
        &["S2601001", "S2601002", "S2601003"],
        "升旗",
        "C01.1.1",
        "周一升旗仪式",
    )
    .await?;
    phone_page(browser, "points-record-phone").await?;
    click_and_wait(browser, "form#record button[type=submit]").await?;
    let notice = wait_for(browser, ".notice").await?.text().await?;
    ensure!(notice.contains("已为 3 名学生记录积分"), "{notice}");

    // The same observation again for one of them: the daily limit, named in Chinese.
    fill_record_form(browser, &["S2601001"], "升旗", "C01.1.1", "").await?;
    click_and_wait(browser, "form#record button[type=submit]").await?;
    let problems = wait_for(browser, "#problems").await?.text().await?;
    ensure!(
        problems.contains("张小明")
            && problems.contains("超出每日 1 次的上限")
            && problems.contains("没有记录任何积分"),
        "{problems}"
    );
    let kept = browser
        .find(Locator::Css("input[name=observation][value='C01.1.1']"))
        .await?
        .is_selected()
        .await?;
    ensure!(kept, "the refused form keeps the chosen observation");
    phone_page(browser, "points-limit-phone").await?;

    // The teacher's own events; 李小红's is reversed with a reason.
    click_and_wait(browser, "header nav a[href$='/points/mine']").await?;
    let events = wait_for(browser, "#events").await?;
    let items = events.find_all(Locator::Css("li")).await?;
    ensure!(items.len() == 3, "three events listed, got {}", items.len());
    let mut target = None;
    for item in items {
        if item.text().await?.contains("李小红") {
            target = Some(item);
        }
    }
    let target = target.context("李小红's event is listed")?;
    target
        .find(Locator::Css("details.reverse summary"))
        .await?
        .click()
        .await?;
    target
        .find(Locator::Css("input[name=reason]"))
        .await?
        .send_keys("记错学生，实为缺席")
        .await?;
    phone_page(browser, "points-reverse-phone").await?;
    common::browser::mark_leaving(browser).await?;
    target
        .find(Locator::Css("form.reverse button[type=submit]"))
        .await?
        .click()
        .await?;
    common::browser::new_page(browser).await?;
    let notice = wait_for(browser, ".notice").await?.text().await?;
    ensure!(notice.contains("已冲销"), "{notice}");
    let text = wait_for(browser, "#events").await?.text().await?;
    ensure!(
        text.contains("冲销：") && text.contains("已冲销") && text.contains("记错学生，实为缺席"),
        "{text}"
    );
    phone_page(browser, "points-mine-phone").await?;

    // The class ranking, and one student's profile (a read the log keeps).
    browser
        .goto(&format!("{school}/points/classes/{}", encode(CLASS)))
        .await?;
    let ranking = wait_for(browser, "#ranking").await?.text().await?;
    ensure!(
        ranking.contains("张小明") && ranking.contains("陈小燕"),
        "{ranking}"
    );
    phone_page(browser, "points-class-phone").await?;
    click_and_wait(browser, "#ranking a[href$='/S2601003']").await?;
    let total = wait_for(browser, "#total").await?.text().await?;
    ensure!(total == "1", "王小刚's total is 1, shown {total}");
    ensure!(
        page_text(browser).await?.contains("本次查阅已记入查阅日志"),
        "staff are told the read is logged"
    );
    ensure!(
        status_of(browser, &format!("{school}/points/students/S2602001")).await? == 403,
        "a student of another class is closed to the 班主任"
    );
    sign_out(browser).await?;

    // The student sees their own total, radar and history.
    sign_in(browser, base, STUDENT, PASSWORD).await?;
    let path = browser.current_url().await?.path().to_string();
    ensure!(
        path.ends_with("/points/students/S2601001"),
        "a student starts at their own profile, not {path}"
    );
    let total = wait_for(browser, "#total").await?.text().await?;
    ensure!(total == "1", "张小明's total is 1, shown {total}");
    let radar = wait_for(browser, "#radar svg").await?;
    ensure!(
        radar.text().await?.contains("爱国主义 1"),
        "the radar shows the dimension the point fed"
    );
    let history = wait_for(browser, "#history").await?.text().await?;
    ensure!(
        history.contains("升旗仪式着装整齐") && history.contains(HEAD_TEACHER),
        "{history}"
    );
    ensure!(
        !page_text(browser).await?.contains("查阅日志"),
        "a student's own reads are not logged as staff reads"
    );
    phone_page(browser, "points-student-phone").await?;

    // Another student's profile, and the school's pages, answer 403.
    for path in [
        format!("{school}/points/students/S2601002"),
        format!("{school}/points/students/S2602001"),
        format!("{school}/points/classes/{}", encode(CLASS)),
        format!("{school}/points/record"),
        school.clone(),
    ] {
        ensure!(
            status_of(browser, &path).await? == 403,
            "{path} is closed to a student"
        );
    }
    browser
        .goto(&format!("{school}/points/students/S2601002"))
        .await?;
    let text = page_text(browser).await?;
    ensure!(
        text.contains("无权访问") && !text.contains("李小红"),
        "{text}"
    );
    // The radar, scrolled into view.
    browser.back().await?;
    wait_for(browser, "#radar svg").await?;
    browser
        .execute("document.getElementById('radar').scrollIntoView();", vec![])
        .await?;
    screenshot(browser, "points-radar-phone").await?;
    sign_out(browser).await?;

    // The quality office: the roster from the browser, the rankings and the award lists.
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    browser.goto(&format!("{school}/points")).await?;
    let form = wait_for(browser, "form#roster").await?;
    form.find(Locator::Css("input[type=file]"))
        .await?
        .send_keys(more.to_str().context("a path")?)
        .await?;
    phone_page(browser, "points-roster-phone").await?;
    click_and_wait(browser, "form#roster button[type=submit]").await?;
    let notice = wait_for(browser, ".notice").await?.text().await?;
    ensure!(notice.contains("新增 1 名学生"), "{notice}");
    click_and_wait(browser, "a[href$='/points/rankings']").await?;
    let ranking = wait_for(browser, "#rankings").await?.text().await?;
    ensure!(
        ranking.contains("汽修2601") && ranking.contains("数控2601"),
        "{ranking}"
    );
    phone_page(browser, "points-rankings-phone").await?;
    click_and_wait(browser, "a[href$='/points/awards']").await?;
    let text = page_text(browser).await?;
    ensure!(
        text.contains("红匠之星") && text.contains("参评 6 人"),
        "{text}"
    );
    phone_page(browser, "points-awards-phone").await?;
    Ok(())
}

/// `text` percent-encoded for a URL path segment.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
