//! The registers' pages in a real browser, at a desktop width and at 390 px: the overview,
//! training bases (with a refused upload naming its row and column), social training, the
//! courses and one course's loop (an improvement action closed with its evidence), the
//! counts of the psychological archive for the quality office, and the archive itself for
//! the counsellor, opened with a reason and found again in the access log.
//!
//! Skipped when chromedriver is not installed, unless `NIANBAO_REQUIRE_BROWSER=1`.

mod common;

use std::path::Path;

use anyhow::{Context, Result, ensure};
use common::browser::{
    both_widths, browser_available, cli, open_browser, page_text, sign_in, sign_out,
    start_chromedriver, start_server_with, wait_for,
};
use fantoccini::{Client, Locator};

const QUALITY: &str = "质量办";
const COUNSELLOR: &str = "心理老师";
const PASSWORD: &str = "浏览器测试的密码 2025";
const STUDENT: &str = "浏览器测试学生";

const FILES: &[(&str, &str, &str, &str)] = &[
    (
        "bases",
        "bases",
        "bases.csv",
        "基地编号,基地名称,级别,年开放学时,服务专业,面积（平方米）,工位数\nB1,汽车实训中心,国家级,1600,汽车运用与维修,3200,120\nB2,电子商务实训室,校级,1200,电子商务,400,60\n",
    ),
    (
        "bases",
        "equipment",
        "equipment.csv",
        "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态\nA1,四柱举升机,1250000,B1,2023-05-01,在用\nA2,汽车诊断仪,830000,B1,2025-03-01,在用\n",
    ),
    (
        "bases",
        "usage",
        "usage.csv",
        "记录编号,基地编号,资产编号,使用单位类型,使用单位,使用日期,学时,人数,用途\nU1,B1,A1,校内班级,汽修2301,2025-04-01,4,40,教学实训\nU2,B2,,外校师生,某中学,2025-05-01,6,30,开放参观\n",
    ),
    (
        "training",
        "classes",
        "classes.csv",
        "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\nC1,植保无人机操作,高素质农民,2025-03-01,2025-03-05,32,50\nC2,电工上岗,退役军人,2025-04-01,2025-04-20,80,30\n",
    ),
    (
        "courses",
        "courses",
        "courses.csv",
        "课程编号,课程名称,课程级别,学时,建设年份,上线平台\nK1,汽车电气设备检修,省级,64,2023,国家职业教育智慧教育平台\n",
    ),
    (
        "courses",
        "enrolments",
        "enrolments.csv",
        "课程编号,学期,选课人数\nK1,2025-2026-1,620\n",
    ),
    (
        "courses",
        "measurements",
        "measurements.csv",
        "课程编号,学期,监测指标,数值\nK1,2025-2026-1,学生到课率,86\n",
    ),
    (
        "courses",
        "actions",
        "actions.csv",
        "措施编号,课程编号,改进措施,责任人,截止日期,状态\nA1,K1,增加课堂互动,王老师,2025-11-30,进行中\n",
    ),
];

#[tokio::test]
async fn the_registers_work_in_a_browser_at_desktop_and_phone_widths() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("registers.db");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    cli(&db, &["import", sample.to_str().unwrap()], None);
    for (name, role) in [(QUALITY, "quality"), (COUNSELLOR, "counsellor")] {
        cli(
            &db,
            &["user", "add", "--name", name, "--role", role],
            Some(&format!("{PASSWORD}\n")),
        );
    }
    for (command, list, file, text) in FILES {
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        cli(
            &db,
            &[command, "import", list, path.to_str().unwrap()],
            None,
        );
    }
    let key = dir.path().join("psych.key");
    cli(&db, &["psych", "keygen", key.to_str().unwrap()], None);
    let screenings = dir.path().join("screenings.csv");
    std::fs::write(
        &screenings,
        format!("记录编号,学号,姓名,量表,筛查日期,得分,风险等级\nP1,S1,{STUDENT},SCL-90,2025-03-10,150,中风险\n"),
    )
    .unwrap();
    cli(
        &db,
        &[
            "psych",
            "import",
            "screenings",
            screenings.to_str().unwrap(),
            "--key-file",
            key.to_str().unwrap(),
            "--as",
            COUNSELLOR,
            "--reason",
            "统计核对",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态\nA3,示波器,一千,B1,2025-01-01,在用\n",
    )
    .unwrap();

    let (_server, base, log) = start_server_with(&db, &["--psych-key-file", key.to_str().unwrap()]);
    let (_driver, driver_url) = start_chromedriver();
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let browser = open_browser(&driver_url, &downloads).await;
    let outcome = walk(&browser, &base, &bad).await;
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

async fn walk(browser: &Client, base: &str, bad: &Path) -> Result<()> {
    sign_in(browser, base, QUALITY, PASSWORD).await?;
    let code = browser
        .current_url()
        .await?
        .path()
        .strip_prefix("/schools/")
        .context("the dashboard is /schools/CODE")?
        .to_string();
    let school = format!("{base}/schools/{code}");

    browser
        .find(Locator::LinkText("业务系统"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#systems").await?;
    let text = page_text(browser).await?;
    for system in [
        "实训基地与设备台账",
        "社会培训登记",
        "心理健康档案",
        "课程质量闭环",
    ] {
        ensure!(text.contains(system), "the overview lists {system}");
    }
    both_widths(browser, "registers").await?;

    // Training bases: utilisation, and an upload refused at its row and column.
    browser.goto(&format!("{school}/bases")).await?;
    wait_for(browser, "#bases").await?;
    let text = page_text(browser).await?;
    ensure!(text.contains("汽车实训中心"), "the bases are listed");
    ensure!(
        text.contains("208.00"),
        "the equipment total (万元) is shown"
    );
    ensure!(
        text.contains("教学仪器设备总值"),
        "the check against the typed figure is shown"
    );
    both_widths(browser, "bases").await?;
    let form = wait_for(browser, "#import-form").await?;
    form.find(Locator::Css("select[name=kind] option[value=equipment]"))
        .await?
        .click()
        .await?;
    form.find(Locator::Css("input[type=file]"))
        .await?
        .send_keys(bad.to_str().unwrap())
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    let errors = wait_for(browser, "#import-errors").await?.text().await?;
    ensure!(
        errors.contains("bad.csv 第 2 行 第 3 列（价值（元））：应为数值，实际为「一千」"),
        "the refused upload names its row and column: {errors}"
    );
    ensure!(
        !page_text(browser).await?.contains("示波器"),
        "nothing of the refused file is saved"
    );
    both_widths(browser, "bases-refused").await?;

    browser.goto(&format!("{school}/training")).await?;
    wait_for(browser, "#audiences").await?;
    ensure!(
        page_text(browser).await?.contains("植保无人机操作"),
        "classes listed"
    );
    both_widths(browser, "training").await?;

    // Courses: the loop of one course, and an action closed with its evidence.
    browser.goto(&format!("{school}/courses")).await?;
    wait_for(browser, "#courses").await?;
    both_widths(browser, "courses").await?;
    browser
        .find(Locator::LinkText("汽车电气设备检修"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#timeline").await?;
    let timeline = wait_for(browser, "#timeline").await?.text().await?;
    for stage in ["建设", "监测", "改进"] {
        ensure!(
            timeline.contains(stage),
            "the timeline shows {stage}: {timeline}"
        );
    }
    ensure!(
        timeline.contains("未达标"),
        "a monitored figure below target is flagged"
    );
    both_widths(browser, "course").await?;
    let form = wait_for(browser, "#close-A1").await?;
    form.find(Locator::Css("input[name=evidence]"))
        .await?
        .send_keys("教研活动记录 2025-11")
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    // The page comes back without the form once the action is closed.
    let deadline = std::time::Instant::now() + common::browser::WAIT;
    let timeline = loop {
        let closed = browser.find(Locator::Css("#close-A1")).await.is_err();
        let text = match browser.find(Locator::Css("#timeline")).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if closed && text.contains("教研活动记录 2025-11") {
            break text;
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the action is closed with its evidence: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    ensure!(timeline.contains("已完成"), "{timeline}");

    // The archive: counts only for the quality office; nothing personal anywhere.
    browser.goto(&format!("{school}/psych")).await?;
    wait_for(browser, "#psych-counts").await?;
    let text = page_text(browser).await?;
    ensure!(
        !text.contains(STUDENT),
        "the quality office sees no student"
    );
    ensure!(!text.contains("查看档案列表"), "nor a way into the archive");
    both_widths(browser, "psych-summary").await?;
    browser
        .goto(&format!("{school}/psych/archives?reason=统计核对"))
        .await?;
    ensure!(
        page_text(browser).await?.contains("您没有权限"),
        "the quality office is refused the archive"
    );
    browser.goto(&school).await?;
    sign_out(browser).await?;

    sign_in(browser, base, COUNSELLOR, PASSWORD).await?;
    browser.goto(&format!("{school}/psych")).await?;
    wait_for(browser, "#open-archives").await?.click().await?;
    let form = wait_for(browser, "#reason-form").await?;
    form.find(Locator::Css("select[name=reason] option:nth-child(2)"))
        .await?
        .click()
        .await?;
    form.find(Locator::Css("input[name=detail]"))
        .await?
        .send_keys("浏览器测试")
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for(browser, "#archives").await?;
    ensure!(
        page_text(browser).await?.contains(STUDENT),
        "the counsellor sees the list"
    );
    both_widths(browser, "psych-archives").await?;
    browser
        .find(Locator::Css("#archives tbody a"))
        .await?
        .click()
        .await?;
    let archive = wait_for(browser, "#archive").await?.text().await?;
    ensure!(
        archive.contains("SCL-90") && archive.contains("中风险"),
        "one student's archive: {archive}"
    );
    both_widths(browser, "psych-archive").await?;
    browser.goto(&format!("{school}/psych/access")).await?;
    let log = wait_for(browser, "#access-log").await?.text().await?;
    ensure!(
        log.contains("查看个人档案")
            && log.contains("危机干预：浏览器测试")
            && log.contains(COUNSELLOR),
        "both reads are in the access log, with who and why: {log}"
    );
    both_widths(browser, "psych-access").await?;
    sign_out(browser).await?;
    Ok(())
}
