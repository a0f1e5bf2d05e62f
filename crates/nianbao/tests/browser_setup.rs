//! A new school set up and worked through in a real browser: the administrator creates the
//! school, two departments, a major and the accounts, and starts 2026 from 2025; a
//! department fills in its section on a phone-sized window (390 × 844) without the page
//! scrolling sideways; the quality office sees a finding, follows it to the highlighted
//! cell and fixes it.
//!
//! Skipped when chromedriver is not installed, unless `NIANBAO_REQUIRE_BROWSER=1`. With
//! `NIANBAO_SCREENSHOTS=DIR` the pages are saved as pictures.

mod common;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use common::browser::{
    browser_available, cli, click_and_wait, ensure_fits, mark_leaving, new_page, open_browser,
    page_text, screenshot, sign_in, sign_out, start_chromedriver, start_server, wait_for,
    wait_until_text,
};
use fantoccini::{Client, Locator};

const ADMIN: &str = "系统管理员";
const QUALITY: &str = "三职质量办";
const DEPARTMENT: &str = "三职信息部";
const PASSWORD: &str = "设置测试用的密码 2026";
const CODE: &str = "qingshan-3";
const SCHOOL: &str = "青山市第三职业学校";
const MAJOR: &str = "计算机应用";

#[tokio::test]
async fn an_administrator_sets_up_a_school_and_its_people_work_in_it() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("setup.db");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    cli(&db, &["init"], None);
    cli(
        &db,
        &["user", "add", "--name", ADMIN, "--role", "admin"],
        Some(&format!("{PASSWORD}\n")),
    );
    let (_server, base, server_log) = start_server(&db);
    let (_driver, driver_url) = start_chromedriver();
    let browser = open_browser(&driver_url, &downloads).await;
    let outcome = walk_through(&browser, &base).await;
    if outcome.is_err() {
        if let Ok(source) = browser.source().await {
            eprintln!("--- page at failure ---\n{source}\n---");
        }
        eprintln!(
            "--- server log ---\n{}\n---",
            server_log.lock().unwrap().join("\n")
        );
    }
    if let Err(e) = browser.close().await {
        eprintln!("could not close the browser session: {e}");
    }
    outcome.unwrap();
    let _ = Path::new(&db);
    eprintln!(
        "browser set-up test finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn fill(browser: &Client, css: &str, text: &str) -> Result<()> {
    let field = wait_for(browser, css).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

/// Submits with the element at `css` and waits for the notice the next page shows.
async fn submit(browser: &Client, css: &str, notice: &str) -> Result<()> {
    click_and_wait(browser, css).await?;
    wait_until_text(browser, "p.notice", notice).await
}

async fn walk_through(browser: &Client, base: &str) -> Result<()> {
    // The administrator creates the school.
    sign_in(browser, base, ADMIN, PASSWORD).await?;
    browser.goto(&format!("{base}/admin/schools")).await?;
    fill(browser, "#school-name", SCHOOL).await?;
    fill(browser, "#school-code", CODE).await?;
    fill(browser, "input[name=province]", "某省").await?;
    fill(browser, "input[name=city]", "青山市").await?;
    fill(browser, "input[name=district]", "河东区").await?;
    fill(browser, "input[name=report_year]", "2025").await?;
    submit(browser, "#create-school", "学校已创建").await?;

    // Two departments and a major.
    for department in ["信息技术部", "财经商贸部"] {
        fill(browser, "#department-name", department).await?;
        submit(browser, "#add-department-button", "专业部已更新").await?;
    }
    fill(browser, "#major-name", MAJOR).await?;
    wait_for(browser, "#major-category")
        .await?
        .select_by_value("电子与信息大类")
        .await?;
    wait_for(browser, "#major-department")
        .await?
        .select_by_value("信息技术部")
        .await?;
    submit(browser, "#add-major-button", "专业已更新").await?;
    let majors = wait_for(browser, "#majors").await?.text().await?;
    ensure!(
        majors.contains(MAJOR) && majors.contains("2021 年版") && majors.contains("信息技术部"),
        "the major is listed with its catalogue edition: {majors}"
    );
    screenshot(browser, "setup-structure").await?;

    // The accounts, the department chosen from the school's list.
    for (name, role, department) in [
        (QUALITY, "quality", ""),
        (DEPARTMENT, "department", "信息技术部"),
    ] {
        browser.goto(&format!("{base}/admin/users")).await?;
        let form = wait_for(browser, "#new-user").await?;
        form.find(Locator::Css("input[name=name]"))
            .await?
            .send_keys(name)
            .await?;
        form.find(Locator::Css("select[name=role]"))
            .await?
            .select_by_value(role)
            .await?;
        form.find(Locator::Css("select[name=school]"))
            .await?
            .select_by_value(CODE)
            .await?;
        if !department.is_empty() {
            form.find(Locator::Css("select[name=department]"))
                .await?
                .select_by_value(&format!("{CODE}|{department}"))
                .await?;
        }
        form.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        submit(browser, "#new-user button[type=submit]", "账号已创建").await?;
    }

    // 2026 starts from 2025.
    browser
        .goto(&format!("{base}/schools/{CODE}/structure"))
        .await?;
    mark_leaving(browser).await?;
    wait_for(browser, "#next-year-button")
        .await?
        .click()
        .await?;
    browser.accept_alert().await?;
    new_page(browser).await?;
    wait_until_text(browser, "p.notice", "已开始 2026 年度").await?;
    sign_out(browser).await?;

    // The department fills in its section on a phone.
    browser.set_window_size(390, 844).await?;
    sign_in(browser, base, DEPARTMENT, PASSWORD).await?;
    wait_for(browser, "#completion").await?;
    ensure_fits(browser, "the dashboard").await?;
    screenshot(browser, "dashboard-phone").await?;
    browser
        .goto(&format!("{base}/schools/{CODE}/sections/1.5"))
        .await?;
    for (label, value) in [
        ("招生人数", "130"),
        ("在校生人数", "380"),
        ("毕业生人数", "100"),
    ] {
        fill(
            browser,
            &format!("input[aria-label='{MAJOR} 2026年 {label}']"),
            value,
        )
        .await?;
    }
    ensure_fits(browser, "the section form").await?;
    screenshot(browser, "section-form-phone").await?;
    submit(browser, "#section-form button[type=submit]", "已保存").await?;
    sign_out(browser).await?;
    browser.set_window_size(1280, 1024).await?;

    // The quality office enters the totals, one of them wrong.
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    browser
        .goto(&format!("{base}/schools/{CODE}/sections/1.5"))
        .await?;
    fill(browser, "input[aria-label='招生人数合计 2026年']", "120").await?;
    fill(browser, "input[aria-label='在校生人数合计 2026年']", "380").await?;
    click_and_wait(browser, "#section-form button[type=submit]").await?;
    let banner = wait_for(browser, "#after-save").await?.text().await?;
    ensure!(
        banner.contains("招生人数合计应等于各专业招生人数之和"),
        "after the save the new error is at the top: {banner}"
    );
    screenshot(browser, "section-form-error").await?;

    // The finding, in words, leads to the highlighted cell.
    browser
        .goto(&format!("{base}/schools/{CODE}/findings"))
        .await?;
    let text = page_text(browser).await?;
    ensure!(
        !text.contains("students.intake"),
        "no internal codes: {text}"
    );
    screenshot(browser, "findings").await?;
    mark_leaving(browser).await?;
    browser
        .find(Locator::XPath(
            "//li[contains(., '招生人数合计应等于各专业招生人数之和')]//div[@class='where']/a[contains(., '2026年 招生人数合计')]",
        ))
        .await
        .context("the finding links to the 2026 total")?
        .click()
        .await?;
    new_page(browser).await?;
    let cell = wait_for(browser, "td.focus input#focus").await?;
    ensure!(
        cell.attr("aria-label").await?.as_deref() == Some("招生人数合计 2026年"),
        "the link lands on the cell"
    );
    let class = wait_for(browser, "td.focus")
        .await?
        .attr("class")
        .await?
        .unwrap_or_default();
    ensure!(
        class.contains("flag-error"),
        "the cell is marked as an error: {class}"
    );
    cell.clear().await?;
    cell.send_keys("130").await?;
    submit(browser, "#section-form button[type=submit]", "已保存").await?;
    ensure!(
        browser.find(Locator::Css("#after-save")).await.is_err()
            || !page_text(browser)
                .await?
                .contains("招生人数合计应等于各专业招生人数之和"),
        "the error is gone"
    );
    browser
        .goto(&format!("{base}/schools/{CODE}/history"))
        .await?;
    let history = wait_for(browser, "#history").await?.text().await?;
    ensure!(
        history.contains("2026年 招生人数合计") && !history.contains("students.intake_total"),
        "the history reads in words: {history}"
    );
    screenshot(browser, "history").await?;
    browser.goto(&format!("{base}/schools/{CODE}")).await?;
    wait_for(browser, "#completion").await?;
    screenshot(browser, "dashboard").await?;
    Ok(())
}
