//! Writing a report in a real browser, for a school that is not the sample. The quality
//! office assigns a section to a department; the department writes it with two bindings
//! inserted from the picker, adds a typical case with a photo and hands it in; the school's
//! reviewer returns it with a reason; the department fixes it and hands it in again; the
//! reviewer approves; the quality office explains the remaining warnings and makes the
//! report final. The final PDF and Word files then carry no 「草稿」 and no gap, and hold
//! the written text, the bound numbers and the photo.
//!
//! The other sections are written beforehand through the command line, as other
//! departments would. Skipped when chromedriver is not installed, unless
//! `NIANBAO_REQUIRE_BROWSER=1`. With `NIANBAO_SCREENSHOTS=DIR` the editor and the final
//! page are saved as pictures.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use common::browser::{
    browser_available, cli, click_and_wait, mark_leaving, new_page, open_browser, page_text,
    screenshot, sign_in, sign_out, start_chromedriver, start_server, wait_for, wait_for_download,
    wait_until_text,
};
use fantoccini::{Client, Locator};

const CODE: &str = "qingshan-zz";
const QUALITY: &str = "质量办王老师";
const DEPARTMENT: &str = "信息部李老师";
const REVIEWER: &str = "审阅组张老师";
const PASSWORD: &str = "撰写测试用的密码 2026";
const DEPARTMENT_NAME: &str = "信息技术部";
const FIRST_TEXT: &str = "专业建设围绕区域数字产业的需要展开，计算机应用专业新增两个方向。";
const FIX: &str = "新增方向为网络安全运维和数据标注。";
const REASON: &str = "请写明新增专业方向的名称";
const CASE_TITLE: &str = "校企共建数据标注实训室";
const CAPTION: &str = "共建实训室揭牌仪式";

/// A school with a few facts of two years: no check error, two warnings to explain.
fn write_school(dir: &Path) {
    std::fs::create_dir_all(dir.join("years")).unwrap();
    let files = [
        (
            "school.toml",
            "code = \"qingshan-zz\"\nname = \"青山市第二职业学校\"\nreport_year = 2025\nreport_date = \"2026-01-10\"\n\
             address = \"青山市河西区学府路 8 号\"\nwebsite = \"https://www.example.edu.cn/\"\n\
             departments = [\"信息技术部\", \"现代服务部\"]\n\n[org_unit]\nprovince = \"某省\"\ncity = \"青山市\"\ndistrict = \"河西区\"\n",
        ),
        (
            "majors.csv",
            "专业名称,专业大类,所属专业部\n计算机应用,电子与信息大类,信息技术部\n会计事务,财经商贸大类,现代服务部\n",
        ),
        (
            "students.csv",
            "专业名称,年份,招生人数,在校生人数,毕业生人数\n计算机应用,2024,120,350,100\n计算机应用,2025,130,380,100\n\
             会计事务,2024,80,240,70\n会计事务,2025,90,250,80\n",
        ),
        (
            "years/2024.toml",
            "[students]\nintake_total = 200\nenrolled_total = 590\ngraduates_total = 170\n\n[staff]\ntotal = 60\n",
        ),
        (
            "years/2025.toml",
            "[students]\nintake_total = 220\nenrolled_total = 630\ngraduates_total = 180\n\n[staff]\ntotal = 86\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Texts for every section but 2.2, written and approved through the command line.
fn write_other_sections(db: &Path, dir: &Path) {
    let folder = dir.join("others");
    std::fs::create_dir_all(folder.join("sections")).unwrap();
    for line in cli(db, &["content", "parts"], None).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (key, title) = (fields[0], fields[1]);
        let is_section = key.chars().next().is_some_and(|c| c.is_ascii_digit());
        if is_section && key != "2.2" {
            std::fs::write(
                folder.join(format!("sections/{key}.md")),
                format!("{title}：本部分由相关部门撰写，记述学校本年度的做法。\n"),
            )
            .unwrap();
        }
    }
    cli(db, &["content", "import", folder.to_str().unwrap()], None);
    cli(db, &["content", "state", "all", "submit"], None);
    cli(db, &["content", "state", "all", "approve"], None);
}

fn photo(dir: &Path) -> std::path::PathBuf {
    let picture = image::RgbImage::from_fn(480, 320, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 140])
    });
    let path = dir.join("揭牌.jpg");
    picture.save(&path).unwrap();
    path
}

#[tokio::test]
async fn a_school_writes_reviews_and_finalises_its_report_in_a_browser() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("writing.db");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let school = dir.path().join("school");
    write_school(&school);
    cli(&db, &["import", school.to_str().unwrap()], None);
    let password = format!("{PASSWORD}\n");
    cli(
        &db,
        &["user", "add", "--name", QUALITY, "--role", "quality"],
        Some(&password),
    );
    cli(
        &db,
        &[
            "user",
            "add",
            "--name",
            DEPARTMENT,
            "--role",
            "department",
            "--department",
            DEPARTMENT_NAME,
        ],
        Some(&password),
    );
    cli(
        &db,
        &[
            "user", "add", "--name", REVIEWER, "--role", "reviewer", "--school", CODE,
        ],
        Some(&password),
    );
    write_other_sections(&db, dir.path());

    let (_server, base, server_log) = start_server(&db);
    let (_driver, driver_url) = start_chromedriver();
    let browser = open_browser(&driver_url, &downloads).await;
    let outcome = walk_through(&browser, &base, dir.path(), &downloads).await;
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
    eprintln!(
        "browser writing test finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn state_of(browser: &Client) -> Result<String> {
    Ok(wait_for(browser, "#part-state").await?.text().await?)
}

async fn walk_through(browser: &Client, base: &str, dir: &Path, downloads: &Path) -> Result<()> {
    let part = format!("{base}/schools/{CODE}/writing/2.2");

    // The quality office assigns 2.2 to the department.
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    browser
        .goto(&format!("{base}/schools/{CODE}/writing"))
        .await?;
    let row = wait_for(browser, "#part-2\\.2").await?;
    row.find(Locator::Css("select[name=department]"))
        .await?
        .select_by_value(DEPARTMENT_NAME)
        .await?;
    mark_leaving(browser).await?;
    row.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    new_page(browser).await?;
    wait_until_text(browser, "p.notice", "负责部门已更新").await?;
    let row = wait_for(browser, "#part-2\\.2").await?;
    ensure!(
        row.find(Locator::Css("option[selected]"))
            .await?
            .text()
            .await?
            == DEPARTMENT_NAME,
        "2.2 is assigned to {DEPARTMENT_NAME}"
    );
    screenshot(browser, "writing-list").await?;
    sign_out(browser).await?;

    // The department writes with two bindings from the picker.
    sign_in(browser, base, DEPARTMENT, PASSWORD).await?;
    browser.goto(&part).await?;
    ensure!(state_of(browser).await? == "待写", "2.2 starts unwritten");
    let text = wait_for(browser, "#text").await?;
    text.send_keys("本年度，我校教职工共 ").await?;
    insert_binding(browser, "教职工总数", "本年").await?;
    text.send_keys(" 人，学历教育在校生 ").await?;
    insert_binding(browser, "在校生人数合计", "本年").await?;
    text.send_keys(&format!(" 人。{FIRST_TEXT}")).await?;
    wait_until_text(browser, "#preview", "教职工共 86 人").await?;
    wait_until_text(browser, "#preview", "在校生 630 人").await?;
    let chars = wait_for(browser, "#chars").await?.text().await?;
    ensure!(
        chars.parse::<usize>().is_ok_and(|n| n > 30),
        "a character count: {chars}"
    );
    screenshot(browser, "section-editor").await?;
    click_and_wait(browser, "#save").await?;
    wait_until_text(browser, "p.notice", "已保存").await?;
    ensure!(state_of(browser).await? == "草稿", "saved as 草稿");

    // A typical case with a photo.
    click_and_wait(browser, "#new-case").await?;
    wait_for(browser, "#case-title")
        .await?
        .send_keys(CASE_TITLE)
        .await?;
    wait_for(browser, "#text")
        .await?
        .send_keys("学校与本地企业共建实训室，学生在真实项目中完成数据标注训练。")
        .await?;
    click_and_wait(browser, "#save-case").await?;
    wait_until_text(browser, "p.notice", "案例已保存").await?;
    let file = photo(dir);
    wait_for(browser, "#photo-file")
        .await?
        .send_keys(file.to_str().context("a UTF-8 path")?)
        .await?;
    wait_for(browser, "#photo-caption")
        .await?
        .send_keys(CAPTION)
        .await?;
    click_and_wait(browser, "#upload-photo").await?;
    wait_until_text(browser, "p.notice", "照片已上传").await?;
    let shown = wait_for(browser, ".photos figcaption")
        .await?
        .text()
        .await?;
    ensure!(
        shown == CAPTION,
        "the photo is shown with its caption: {shown}"
    );

    browser.goto(&part).await?;
    click_and_wait(browser, "#submit-review").await?;
    wait_until_text(browser, "#part-state", "待审").await?;
    sign_out(browser).await?;

    // The reviewer returns it with a reason.
    sign_in(browser, base, REVIEWER, PASSWORD).await?;
    browser.goto(&part).await?;
    wait_for(browser, "#return-reason")
        .await?
        .send_keys(REASON)
        .await?;
    click_and_wait(browser, "#return").await?;
    wait_until_text(browser, "#part-state", "草稿").await?;
    sign_out(browser).await?;

    // The department sees why, fixes the text and hands it in again.
    sign_in(browser, base, DEPARTMENT, PASSWORD).await?;
    ensure!(
        page_text(browser).await?.contains(REASON),
        "the dashboard lists the return and its reason"
    );
    browser.goto(&part).await?;
    ensure!(
        page_text(browser).await?.contains(REASON),
        "the reason is shown"
    );
    let text = wait_for(browser, "#text").await?;
    text.send_keys(FIX).await?;
    click_and_wait(browser, "#save").await?;
    wait_until_text(browser, "p.notice", "已保存").await?;
    click_and_wait(browser, "#submit-review").await?;
    wait_until_text(browser, "#part-state", "待审").await?;
    browser.set_window_size(390, 844).await?;
    screenshot(browser, "section-editor-phone").await?;
    browser.set_window_size(1280, 1024).await?;
    sign_out(browser).await?;

    // The reviewer approves.
    sign_in(browser, base, REVIEWER, PASSWORD).await?;
    browser.goto(&part).await?;
    click_and_wait(browser, "#approve").await?;
    wait_until_text(browser, "#part-state", "已定稿").await?;
    sign_out(browser).await?;

    // The quality office explains the remaining warnings and makes the report final.
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    for _ in 0..10 {
        browser
            .goto(&format!("{base}/schools/{CODE}/findings"))
            .await?;
        wait_for(browser, "h1").await?;
        let Ok(form) = browser
            .find(Locator::XPath(
                "(//li[@class='warning'][not(.//div[@class='accepted'])]//form[@class='accept'])[1]",
            ))
            .await
        else {
            break;
        };
        form.find(Locator::Css("textarea"))
            .await?
            .send_keys("经核对，数据属实：学校本年度新进教师较多，规模仍在发展中。")
            .await?;
        mark_leaving(browser).await?;
        form.find(Locator::Css("button")).await?.click().await?;
        new_page(browser).await?;
        wait_for(browser, "h1").await?;
    }
    browser
        .goto(&format!("{base}/schools/{CODE}/report/final"))
        .await?;
    if browser.find(Locator::Css("#blockers")).await.is_ok() {
        let left = browser
            .find(Locator::Css("#blockers"))
            .await?
            .text()
            .await?;
        anyhow::bail!("the report should be ready for the final: {left}");
    }
    mark_leaving(browser).await?;
    wait_for(browser, "#make-final").await?.click().await?;
    browser.accept_alert().await?;
    new_page(browser).await?;
    wait_for(browser, "#final-made").await?;
    screenshot(browser, "final").await?;
    wait_for(browser, "#final-pdf").await?.click().await?;
    let pdf = wait_for_download(downloads, "pdf").await?;
    wait_for(browser, "#final-docx").await?.click().await?;
    let docx = wait_for_download(downloads, "docx").await?;
    check_pdf(&pdf)?;
    check_docx(&docx)?;
    Ok(())
}

/// Finds the picker entry by name and clicks one of its binding buttons.
async fn insert_binding(browser: &Client, name: &str, label: &str) -> Result<()> {
    let search = wait_for(browser, "#picker-search").await?;
    search.clear().await?;
    search.send_keys(name).await?;
    let button = browser
        .find(Locator::XPath(&format!(
            "//li[@data-name='{name}']/button[normalize-space(.)='{label}']"
        )))
        .await
        .with_context(|| format!("the picker offers {name} {label}"))?;
    button.click().await?;
    Ok(())
}

fn check_pdf(pdf: &Path) -> Result<()> {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output()?;
    ensure!(out.status.success(), "pdftotext reads the final PDF");
    let text: String = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect();
    ensure!(!text.contains("草稿"), "the final PDF has no 草稿");
    ensure!(!text.contains("待填写"), "the final PDF has no gap");
    for wanted in [
        "教职工共86人",
        "在校生630人",
        FIRST_TEXT,
        FIX,
        CASE_TITLE,
        CAPTION,
    ] {
        ensure!(text.contains(wanted), "the final PDF holds 「{wanted}」");
    }
    let images = Command::new("pdfimages").arg("-list").arg(pdf).output()?;
    let listed = String::from_utf8_lossy(&images.stdout);
    ensure!(
        listed.lines().count() > 2,
        "the final PDF embeds the photo: {listed}"
    );
    Ok(())
}

fn check_docx(docx: &Path) -> Result<()> {
    let parts = common::docx_parts(docx);
    ensure!(
        parts.iter().all(|(_, xml)| !xml.contains("草稿")),
        "the final Word document has no 草稿"
    );
    let body = &parts
        .iter()
        .find(|(name, _)| name == "word/document.xml")
        .context("word/document.xml")?
        .1;
    for wanted in [FIRST_TEXT, FIX, CASE_TITLE, CAPTION, "86", "630"] {
        ensure!(
            body.contains(wanted),
            "the final Word document holds 「{wanted}」"
        );
    }
    ensure!(!body.contains("待填写"), "no gap in the Word document");
    ensure!(
        !common::docx_media(docx).is_empty(),
        "the Word document embeds the photo"
    );
    Ok(())
}
