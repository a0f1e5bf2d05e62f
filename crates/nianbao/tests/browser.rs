//! The web app in a real browser: headless Chromium, driven through chromedriver, signs in,
//! downloads a section's Excel template, uploads a copy with a bad cell (refused, naming the
//! sheet and cell, nothing saved) and then a corrected copy, accepts a warning with a written
//! explanation and downloads the Word report.
//!
//! Skipped when chromedriver is not installed, unless `NIANBAO_REQUIRE_BROWSER=1`.

mod common;

use std::io::Cursor;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use calamine::{Data, Reader, Xlsx};
use common::browser::{
    WAIT, browser_available, cli, open_browser, page_text, start_chromedriver, start_server,
    wait_for, wait_for_download,
};
use fantoccini::{Client, Locator};

const USER: &str = "质量办测试";
const PASSWORD: &str = "浏览器测试的密码 2025";
const EXPLANATION: &str = "浏览器测试：该数据经教务处核对无误，差异源于学年统计口径。";

#[tokio::test]
async fn a_quality_officer_works_through_the_app_in_a_browser() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("browser.db");
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();

    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    cli(&db, &["import", sample.to_str().unwrap()], None);
    cli(
        &db,
        &["user", "add", "--name", USER, "--role", "quality"],
        Some(&format!("{PASSWORD}\n")),
    );

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
        "browser test finished in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The steps a quality officer takes, each checked on the page the browser shows.
async fn walk_through(browser: &Client, base: &str, dir: &Path, downloads: &Path) -> Result<()> {
    // Sign in; the app sends a user of one school to its dashboard.
    browser.goto(&format!("{base}/login")).await?;
    let form = wait_for(browser, "form.login").await?;
    form.find(Locator::Css("input[name=name]"))
        .await?
        .send_keys(USER)
        .await?;
    form.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#completion").await?;
    let dashboard = browser.current_url().await?;
    let code = dashboard
        .path()
        .strip_prefix("/schools/")
        .context("signed in, the dashboard is /schools/CODE")?
        .to_string();
    ensure!(
        page_text(browser).await?.contains("各部分填报进度"),
        "the dashboard shows the progress table"
    );

    // Section 1.5 (student numbers, per major) and its template.
    wait_for(browser, "#completion a[href$='/sections/1.5']")
        .await?
        .click()
        .await?;
    wait_for(browser, "#upload-form").await?;
    let heading = browser.find(Locator::Css("h1")).await?.text().await?;
    ensure!(heading.starts_with("1.5"), "section 1.5 opened: {heading}");
    wait_for(browser, "#template-link").await?.click().await?;
    let template_path = wait_for_download(downloads, "xlsx").await?;
    let template = std::fs::read(&template_path)?;
    let target = pick_count_cell(&template)?;
    eprintln!(
        "editing 「{}」 {} ({} {}年 {}, now {})",
        target.sheet,
        target.reference(),
        target.major,
        target.year,
        target.element,
        target.value
    );

    // An upload with text in a whole-number cell is refused cell by cell; nothing is saved.
    let bad = dir.join("bad.xlsx");
    std::fs::write(
        &bad,
        rewrite(&template, &target, Data::String("十二".into()))?,
    )?;
    upload(browser, &bad).await?;
    let errors = wait_for(browser, "#cell-errors").await?.text().await?;
    let expected = format!("「{}」工作表 {} 单元格", target.sheet, target.reference());
    ensure!(
        errors.contains(&expected) && errors.contains("十二"),
        "the error names the sheet and cell ({expected}): {errors}"
    );
    eprintln!("refused upload: {errors}");
    let problem = browser.find(Locator::Css("#problem")).await?.text().await?;
    ensure!(
        problem.contains("数据库未作任何修改"),
        "the page says nothing was saved: {problem}"
    );
    let section = format!("{base}/schools/{code}/sections/1.5");
    browser.goto(&section).await?;
    let shown = cell_value(browser, &target).await?;
    ensure!(
        shown == plain(target.value),
        "after the refused upload the stored value is still {}, page shows {shown}",
        plain(target.value)
    );

    // The corrected file goes in.
    let fixed_value = target.value + 1.0;
    let fixed = dir.join("fixed.xlsx");
    std::fs::write(
        &fixed,
        rewrite(&template, &target, Data::Float(fixed_value))?,
    )?;
    upload(browser, &fixed).await?;
    let notice = wait_for(browser, "p.notice").await?.text().await?;
    ensure!(
        notice.contains("Excel 模板已导入") && notice.contains("共修改 1 项数据"),
        "the upload is confirmed: {notice}"
    );
    eprintln!("corrected upload: {notice}");
    let shown = cell_value(browser, &target).await?;
    ensure!(
        shown == plain(fixed_value),
        "the uploaded value {} is stored, page shows {shown}",
        plain(fixed_value)
    );

    // Accept the first warning with an explanation.
    browser
        .find(Locator::Css("header nav a[href$='/findings']"))
        .await?
        .click()
        .await?;
    // Only the findings page has acceptance forms (the section page lists findings too).
    let warning = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "(//ul[@class='findings']/li[@class='warning'][.//form[@class='accept']])[1]",
        ))
        .await
        .context("the findings page lists a warning that can be accepted")?;
    let key = warning
        .find(Locator::Css("input[name=key]"))
        .await?
        .attr("value")
        .await?
        .context("the acceptance form names its finding")?;
    let explanation = warning
        .find(Locator::Css("textarea[name=explanation]"))
        .await?;
    explanation.clear().await?;
    explanation.send_keys(EXPLANATION).await?;
    let button = warning.find(Locator::Css("form.accept button")).await?;
    let label = button.text().await?;
    ensure!(
        label == "说明并接受",
        "the button reads 说明并接受: {label}"
    );
    button.click().await?;
    let accepted = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&format!(
            "//li[.//input[@name='key'][@value='{key}']]//div[@class='accepted']"
        )))
        .await
        .with_context(|| format!("the warning {key} is shown as accepted"))?
        .text()
        .await?;
    ensure!(
        accepted.contains("已接受") && accepted.contains(USER) && accepted.contains(EXPLANATION),
        "the explanation is shown as accepted: {accepted}"
    );

    // The Word report, downloaded by the browser.
    browser.goto(&format!("{base}/schools/{code}")).await?;
    wait_for(browser, "#completion").await?;
    browser
        .find(Locator::LinkText("下载 Word"))
        .await?
        .click()
        .await?;
    let report = wait_for_download(downloads, "docx").await?;
    let bytes = std::fs::read(&report)?;
    ensure!(
        bytes.starts_with(b"PK"),
        "{} is a zip (Word) file",
        report.display()
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut document = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("word/document.xml")?, &mut document)?;
    let name = &browser.find(Locator::Css("p.school")).await?.text().await?;
    let name = name.split(" · ").next().unwrap_or(name);
    ensure!(
        document.contains(name),
        "the Word report names the school ({name})"
    );
    Ok(())
}

/// Chooses a file in the upload form and submits it.
async fn upload(browser: &Client, file: &Path) -> Result<()> {
    let input = wait_for(browser, "#upload-form input[type=file]").await?;
    input
        .send_keys(file.canonicalize()?.to_str().context("a UTF-8 path")?)
        .await?;
    browser
        .find(Locator::Css("#upload-form button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

/// One whole-number cell of the per-major sheet.
struct Target {
    sheet: String,
    /// 0-based, as calamine and rust_xlsxwriter count.
    row: u32,
    col: u32,
    major: String,
    year: String,
    /// The element's name, as the web form labels its inputs.
    element: String,
    value: f64,
}

impl Target {
    /// The cell as Excel names it, e.g. "C4".
    fn reference(&self) -> String {
        let mut n = self.col + 1;
        let mut letters = Vec::new();
        while n > 0 {
            letters.push(char::from(b'A' + ((n - 1) % 26) as u8));
            n = (n - 1) / 26;
        }
        letters.iter().rev().collect::<String>() + &(self.row + 1).to_string()
    }
}

/// The 招生人数 cell of the first data row of the template's per-major sheet.
fn pick_count_cell(template: &[u8]) -> Result<Target> {
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(template))?;
    let sheet = workbook
        .sheet_names()
        .into_iter()
        .find(|name| name.starts_with("1.5 ") && name.ends_with("分专业"))
        .context("the template has a per-major sheet")?;
    let range = workbook.worksheet_range(&sheet)?;
    let (top, left) = range.start().context("the per-major sheet has cells")?;
    let text = |cell: Option<&Data>| match cell {
        Some(Data::String(s)) => s.trim().to_string(),
        Some(Data::Float(f)) => plain(*f),
        Some(Data::Int(i)) => i.to_string(),
        _ => String::new(),
    };
    let header = (0..range.height())
        .find(|&r| text(range.get((r, 0))) == "专业名称")
        .context("the per-major sheet has a 专业名称 header")?;
    let col = (0..range.width())
        .find(|&c| text(range.get((header, c))).starts_with("招生人数"))
        .context("the per-major sheet has a 招生人数 column")?;
    let row = header + 1;
    let value = match range.get((row, col)) {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => bail!("the first 招生人数 cell holds {other:?}, not a number"),
    };
    let heading = text(range.get((header, col)));
    Ok(Target {
        sheet,
        row: top + row as u32,
        col: left + col as u32,
        major: text(range.get((row, 0))),
        year: text(range.get((row, 1))),
        element: heading.split('（').next().unwrap_or(&heading).to_string(),
        value,
    })
}

/// A copy of the workbook's cells (as a person re-saving it would keep them) with one cell
/// replaced.
fn rewrite(template: &[u8], target: &Target, replacement: Data) -> Result<Vec<u8>> {
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(template))?;
    let mut out = rust_xlsxwriter::Workbook::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name)?;
        let sheet = out.add_worksheet();
        sheet.set_name(&name)?;
        let Some((top, left)) = range.start() else {
            continue;
        };
        for (r, c, cell) in range.used_cells() {
            let (row, col) = (top + r as u32, left + c as u32);
            let cell = if name == target.sheet && (row, col) == (target.row, target.col) {
                &replacement
            } else {
                cell
            };
            let col = u16::try_from(col)?;
            match cell {
                Data::String(s) => sheet.write_string(row, col, s)?,
                Data::Float(f) => sheet.write_number(row, col, *f)?,
                Data::Int(i) => sheet.write_number(row, col, *i as f64)?,
                Data::Bool(b) => sheet.write_boolean(row, col, *b)?,
                _ => sheet,
            };
        }
    }
    Ok(out.save_to_buffer()?)
}

/// The input of the target cell on the section page, by its label.
async fn cell_value(browser: &Client, target: &Target) -> Result<String> {
    let css = format!(
        "input[aria-label='{} {}年 {}']",
        target.major, target.year, target.element
    );
    Ok(wait_for(browser, &css)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// A number as the app shows it: no trailing ".0".
fn plain(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}
