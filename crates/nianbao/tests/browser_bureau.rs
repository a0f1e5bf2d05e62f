//! The bureau's side in a real browser, at a desktop width and at 390 px: a school submits
//! its year, the locked form says why, the district returns it with a reason on one fact,
//! the school submits again, the district approves, the city receives, and the district's
//! compiled report carries the school's figures. The district also uploads a zip of
//! hand-written reports, sees the school's misstated enrolment in the batch audit's table
//! and confirms a grade.
//!
//! Skipped when chromedriver is not installed, unless `NIANBAO_REQUIRE_BROWSER=1`.

mod common;

use std::path::Path;

use anyhow::{Context, Result, ensure};
use common::browser::{
    both_widths, browser_available, cli, click_and_wait, mark_leaving, new_page, open_browser,
    page_text, screenshot, sign_in, sign_out, start_chromedriver, start_server, wait_for,
    wait_until_text,
};
use fantoccini::{Client, Locator};

const QUALITY: &str = "甲校质量办";
const DISTRICT: &str = "区县教育局";
const CITY: &str = "市教育局";
const PASSWORD: &str = "浏览器测试的密码 2025";
const SCHOOL: &str = "synth-00000";

#[tokio::test]
async fn a_year_goes_from_the_school_to_the_city_in_a_browser() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bureau.db");
    cli(
        &db,
        &[
            "synth", "schools", "--count", "12", "--seed", "5", "--faults", "0",
        ],
        None,
    );
    // The school explains its warnings so it may submit.
    let findings: serde_json::Value = serde_json::from_str(&cli_any(
        &db,
        &["check", "--school", SCHOOL, "--format", "json"],
    ))
    .unwrap();
    for f in findings["findings"].as_array().unwrap() {
        if f["severity"] == "warning" {
            cli(
                &db,
                &[
                    "accept",
                    f["key"].as_str().unwrap(),
                    "--because",
                    "已核实，办学条件正在改善",
                    "--school",
                    SCHOOL,
                ],
                None,
            );
        }
    }
    cli(
        &db,
        &[
            "user", "add", "--name", QUALITY, "--role", "quality", "--school", SCHOOL,
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    for (name, area) in [(DISTRICT, "synth-d0000"), (CITY, "synth-c000")] {
        cli(
            &db,
            &["user", "add", "--name", name, "--role", "reviewer"],
            Some(&format!("{PASSWORD}\n")),
        );
        cli(
            &db,
            &["area", "assign", "--user", name, "--area", area],
            None,
        );
    }
    let enrolled = {
        let out = cli_any(&db, &["indicators", "--school", SCHOOL, "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        json.as_array()
            .or_else(|| json["indicators"].as_array())
            .and_then(|list| list.iter().find(|i| i["id"] == "enrolled"))
            .and_then(|i| i["value"].as_f64())
            .context("the school's enrolment")
            .unwrap()
    };

    let (_server, base, log) = start_server(&db);
    let (_driver, driver_url) = start_chromedriver();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let reports = dir.path().join("各校报告.zip");
    std::fs::write(&reports, reports_zip(enrolled)).unwrap();
    let browser = open_browser(&driver_url, &downloads).await;
    let outcome = walk(&browser, &base, enrolled, &reports).await;
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
}

/// A zip of the school's hand-written report, stating its enrolment 50 more than submitted,
/// and a file that is not a report.
fn reports_zip(enrolled: f64) -> Vec<u8> {
    use std::io::Write;
    let report = format!(
        "2025年职业教育质量年度报告\n\n一、学校概况\n\n学校在校生{}人。\n\n二、人才培养\n\n\
         学校持续推进各项工作。\n",
        enrolled + 50.0
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file(format!("{SCHOOL}-年报.txt"), options)
        .unwrap();
    zip.write_all(report.as_bytes()).unwrap();
    zip.start_file("汇总表.xlsx", options).unwrap();
    zip.write_all(b"not a report").unwrap();
    zip.finish().unwrap().into_inner()
}

/// Runs the command line and returns its standard output whatever its exit code (`check`
/// exits 1 when the data has errors).
fn cli_any(db: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn act(browser: &Client, action: &str) -> Result<()> {
    click_and_wait(browser, &format!("button[name=action][value={action}]")).await
}

async fn walk(browser: &Client, base: &str, enrolled: f64, reports: &Path) -> Result<()> {
    let submission = format!("{base}/schools/{SCHOOL}/submission");

    // The school submits; its form is then locked and says why.
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    browser
        .find(Locator::LinkText("报送审核"))
        .await?
        .click()
        .await?;
    wait_until_text(browser, "#state", "待提交").await?;
    act(browser, "submit").await?;
    wait_until_text(browser, "#state", "已提交").await?;
    both_widths(browser, "bureau-submitted").await?;
    browser
        .goto(&format!("{base}/schools/{SCHOOL}/sections/1.4"))
        .await?;
    wait_until_text(browser, "#locked", "等待区县教育局审核").await?;
    both_widths(browser, "bureau-locked-form").await?;
    sign_out(browser).await?;

    // The district sees its schools and returns this one with a reason on one fact.
    sign_in(browser, base, DISTRICT, PASSWORD).await?;
    wait_for(browser, "#schools").await?;
    ensure!(
        page_text(browser).await?.contains("已提交 1"),
        "the area counts the submitted school"
    );
    both_widths(browser, "bureau-area").await?;
    browser.goto(&submission).await?;
    let form = wait_for(browser, "#return-form").await?;
    form.find(Locator::Css("select[name=target]"))
        .await?
        .select_by_value("fact:staff.total")
        .await?;
    form.find(Locator::Css("textarea[name=reason]"))
        .await?
        .send_keys("教职工总数与人事报表不一致，请核对")
        .await?;
    // A second item on a section, in a row added with the button.
    browser
        .find(Locator::Css("#more-items"))
        .await?
        .click()
        .await?;
    let rows = form.find_all(Locator::Css("fieldset.return-item")).await?;
    ensure!(rows.len() == 4, "a fourth row was added: {}", rows.len());
    rows[3]
        .find(Locator::Css("select[name=target]"))
        .await?
        .select_by_value("section:1.4")
        .await?;
    rows[3]
        .find(Locator::Css("textarea[name=reason]"))
        .await?
        .send_keys("请补充专任教师的学历结构")
        .await?;
    both_widths(browser, "bureau-return-form").await?;
    click_and_wait(browser, "#return-form button[type=submit]").await?;
    wait_until_text(browser, "#state", "已退回").await?;
    wait_until_text(browser, "#history", "教职工总数与人事报表不一致").await?;
    wait_until_text(browser, "#history", "请补充专任教师的学历结构").await?;
    both_widths(browser, "bureau-returned").await?;
    sign_out(browser).await?;

    // The school sees the reason, its form is open again, and it submits again.
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    browser
        .goto(&format!("{base}/schools/{SCHOOL}/sections/1.4"))
        .await?;
    wait_for(browser, "#section-form").await?;
    ensure!(
        browser.find(Locator::Css("#locked")).await.is_err(),
        "a returned year is open"
    );
    browser.goto(&submission).await?;
    wait_until_text(browser, "#history", "教职工总数与人事报表不一致").await?;
    act(browser, "submit").await?;
    wait_until_text(browser, "#state", "已提交").await?;
    sign_out(browser).await?;

    // The district approves it, compares the area and writes the report's preface.
    sign_in(browser, base, DISTRICT, PASSWORD).await?;
    browser.goto(&submission).await?;
    act(browser, "approve").await?;
    wait_until_text(browser, "#state", "区县已审核").await?;
    wait_until_text(browser, "#changes", "未改动").await?;
    browser
        .goto(&format!("{base}/areas/synth-d0000/compare?year=2025"))
        .await?;
    wait_for(browser, "#compare").await?;
    both_widths(browser, "bureau-compare").await?;
    // One school's indicators over the years, beside the area's medians.
    click_and_wait(browser, &format!("#row-{SCHOOL} a.trend-link")).await?;
    wait_for(browser, "#trends svg.spark polyline").await?;
    both_widths(browser, "bureau-school-trends").await?;
    browser
        .goto(&format!("{base}/areas/synth-d0000/report?year=2025"))
        .await?;
    let preface = wait_for(browser, "form.stack textarea[name=body]").await?;
    preface
        .send_keys("本区各校年度数据按时报送，逐校审核。")
        .await?;
    click_and_wait(browser, "form.stack button[type=submit]").await?;
    both_widths(browser, "bureau-area-report").await?;
    browser
        .goto(&format!("{base}/areas/synth-d0000/report.html?year=2025"))
        .await?;
    let report = page_text(browser).await?;
    let total = nianbao_core::number::grouped(enrolled, 0);
    ensure!(
        report.contains(&format!("在校生数合计 {total} 人")),
        "the compiled report carries the school's 在校生数 {total}"
    );
    ensure!(report.contains("本区各校年度数据按时报送"), "the preface");
    ensure!(report.contains("已纳入的学校（1 所）"), "the data notes");
    screenshot(browser, "bureau-compiled-report").await?;
    // Made final while texts are unwritten: refused, naming them; once written, final.
    browser
        .goto(&format!("{base}/areas/synth-d0000/report?year=2025"))
        .await?;
    click_and_wait(browser, "#final-form button[type=submit]").await?;
    wait_until_text(browser, "#refused", "尚不能定稿").await?;
    for (i, text) in ["各校办学条件持续改善。", "部分学校师资仍显不足。"]
        .iter()
        .enumerate()
    {
        let area = browser
            .find_all(Locator::Css("form.stack textarea[name=body]"))
            .await?;
        area[i + 1].clear().await?;
        area[i + 1].send_keys(text).await?;
        let buttons = browser
            .find_all(Locator::Css("form.stack button[type=submit]"))
            .await?;
        mark_leaving(browser).await?;
        buttons[i + 1].click().await?;
        new_page(browser).await?;
    }
    click_and_wait(browser, "#final-form button[type=submit]").await?;
    wait_until_text(browser, "#finals", "号定稿").await?;
    both_widths(browser, "bureau-area-final").await?;
    click_and_wait(browser, "#finals a[href$='report.html']").await?;
    let kept = page_text(browser).await?;
    ensure!(kept.contains("定稿编号"), "the final carries its number");
    ensure!(
        kept.contains(&format!("在校生数合计 {total} 人")),
        "the final carries the school's 在校生数"
    );
    browser.goto(&format!("{base}/areas/synth-d0000")).await?;
    wait_for(browser, "#schools").await?;

    // The district audits a zip of hand-written reports and confirms a grade.
    click_and_wait(browser, "a[href$='/audit']").await?;
    wait_for(browser, "#audit-upload input[type=file]")
        .await?
        .send_keys(&reports.display().to_string())
        .await?;
    click_and_wait(browser, "#audit-upload button[type=submit]").await?;
    wait_until_text(browser, "#batch-state", "已完成").await?;
    wait_until_text(browser, "#report-0", SCHOOL).await?;
    wait_until_text(browser, "#report-0", "1项").await?;
    // The figures are inside each row's folded details: read from the page's source.
    let table = browser.source().await?;
    let stated = nianbao_core::number::plain(enrolled + 50.0);
    ensure!(
        table.contains(&format!("报告写 {stated}人"))
            || table.contains(&format!("报告写 {}人", enrolled + 50.0)),
        "the audit names the misstated enrolment"
    );
    ensure!(table.contains("汇总表.xlsx"), "the skipped file is listed");
    both_widths(browser, "bureau-audit").await?;
    let confirm = wait_for(browser, "#report-0 form.grade-confirm").await?;
    confirm
        .find(Locator::Css("select[name=grade] option[value=B]"))
        .await?
        .click()
        .await?;
    confirm
        .find(Locator::Css("input[name=note]"))
        .await?
        .send_keys("在校生人数与报送数据不一致")
        .await?;
    click_and_wait(browser, "#report-0 form.grade-confirm button[type=submit]").await?;
    wait_until_text(browser, "#report-0", DISTRICT).await?;
    wait_until_text(browser, "#summary", "已确认 1 份").await?;
    both_widths(browser, "bureau-audit-confirmed").await?;
    sign_out(browser).await?;

    // The city receives it; the school's form now names the city.
    sign_in(browser, base, CITY, PASSWORD).await?;
    browser.goto(&submission).await?;
    act(browser, "receive").await?;
    wait_until_text(browser, "#state", "市已接收").await?;
    sign_out(browser).await?;
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    browser
        .goto(&format!("{base}/schools/{SCHOOL}/sections/1.4"))
        .await?;
    wait_until_text(browser, "#locked", "市教育局").await?;
    Ok(())
}
