//! The browser harness: `nianbao serve` on a test store, chromedriver and a headless
//! Chromium session that saves downloads into a folder, and the small waits the tests use.
//! Without chromedriver the browser tests skip, unless `NIANBAO_REQUIRE_BROWSER=1`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// How long one page or element may take to appear.
pub const WAIT: Duration = Duration::from_secs(30);
/// How long a download may take.
pub const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// Whether the browser tests can run here; a missing chromedriver fails them when
/// `NIANBAO_REQUIRE_BROWSER=1` (as in CI) and skips them with a notice otherwise.
pub fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    if std::env::var("NIANBAO_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!(
            "NIANBAO_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing: install the Debian packages chromium and chromium-driver"
        );
    }
    let _ = writeln!(
        std::io::stderr(),
        "skipping the browser test: {CHROMEDRIVER} is missing (install chromium and chromium-driver, or set NIANBAO_REQUIRE_BROWSER=1 to make this a failure)"
    );
    false
}

/// A child process that is killed when the test ends, however it ends.
pub struct Running {
    child: Child,
    what: &'static str,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!("could not stop {}: {e}", self.what);
        }
        let _ = self.child.wait();
    }
}

/// Runs the command line on the test's store; `stdin` is piped in when given.
pub fn cli(db: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the nianbao binary runs");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(text.as_bytes()).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "nianbao {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Starts `nianbao serve` on a free port; returns the process, its base URL and its log.
pub fn start_server(db: &Path) -> (Running, String, Arc<Mutex<Vec<String>>>) {
    start_server_with(db, &[])
}

/// Starts `nianbao serve` with more arguments (e.g. `--psych-key-file`).
pub fn start_server_with(db: &Path, extra: &[&str]) -> (Running, String, Arc<Mutex<Vec<String>>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(db)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nianbao serve starts");
    let stderr = child.stderr.take().unwrap();
    let server = Running {
        child,
        what: "nianbao serve",
    };
    let log = Arc::new(Mutex::new(Vec::new()));
    let (found, address) = mpsc::channel();
    let lines = Arc::clone(&log);
    // Keeps reading the log so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.split("年报网页服务已启动：").nth(1) {
                let _ = found.send(url.trim().to_string());
            }
            lines.lock().unwrap().push(line);
        }
    });
    let base = address
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("the server did not start: {:?}", log.lock().unwrap()));
    (server, base, log)
}

/// Starts chromedriver on a free port and waits until it accepts connections.
pub fn start_chromedriver() -> (Running, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Running {
        child,
        what: "chromedriver",
    };
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (driver, format!("http://{address}"))
}

/// A headless Chromium session that saves downloads into `downloads`.
pub async fn open_browser(driver_url: &str, downloads: &Path) -> Client {
    let mut options = json!({
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1280,1024",
        ],
        "prefs": {
            "download.default_directory": downloads.to_str().unwrap(),
            "download.prompt_for_download": false,
            "download.directory_upgrade": true,
        },
    });
    if Path::new(CHROMIUM).exists() {
        options["binary"] = json!(CHROMIUM);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver_url)
        .await
        .expect("chromedriver opens a Chromium session")
}

/// Waits for the element matching `css` to appear.
pub async fn wait_for(browser: &Client, css: &str) -> Result<Element> {
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("waiting for `{css}`"))
}

pub async fn page_text(browser: &Client) -> Result<String> {
    Ok(browser.find(Locator::Css("body")).await?.text().await?)
}

/// Waits until a finished download with this extension is in the folder, and returns it.
pub async fn wait_for_download(downloads: &Path, extension: &str) -> Result<PathBuf> {
    let deadline = Instant::now() + DOWNLOAD_WAIT;
    loop {
        let mut partial = false;
        let mut found = None;
        for entry in std::fs::read_dir(downloads)? {
            let path = entry?.path();
            match path.extension().and_then(|e| e.to_str()) {
                Some("crdownload") => partial = true,
                Some(e) if e == extension => found = Some(path),
                _ => {}
            }
        }
        if let (Some(path), false) = (found, partial) {
            return Ok(path);
        }
        if Instant::now() > deadline {
            bail!(
                "no .{extension} file arrived in {} within {DOWNLOAD_WAIT:?}",
                downloads.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Signs in through the login form and waits for the page the app sends the user to.
pub async fn sign_in(browser: &Client, base: &str, user: &str, password: &str) -> Result<()> {
    browser.goto(&format!("{base}/login")).await?;
    let form = wait_for(browser, "form.login").await?;
    form.find(Locator::Css("input[name=name]"))
        .await?
        .send_keys(user)
        .await?;
    form.find(Locator::Css("input[name=password]"))
        .await?
        .send_keys(password)
        .await?;
    form.find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    wait_for(browser, "header.top .who").await?;
    Ok(())
}

/// Signs out with the header's button and waits for the sign-in page.
pub async fn sign_out(browser: &Client) -> Result<()> {
    browser
        .find(Locator::Css("form[action='/logout'] button"))
        .await?
        .click()
        .await?;
    wait_for(browser, "form.login").await?;
    Ok(())
}

/// Saves a screenshot of the page as `name`.png into `NIANBAO_SCREENSHOTS`, if set.
pub async fn screenshot(browser: &Client, name: &str) -> Result<()> {
    if let Some(dir) = std::env::var_os("NIANBAO_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), browser.screenshot().await?)?;
    }
    Ok(())
}

/// Fails unless the page fits its window without sideways scrolling; `what` names the page.
pub async fn ensure_fits(browser: &Client, what: &str) -> Result<()> {
    let sizes = browser
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    let pair = sizes.as_array().context("two numbers")?;
    let (page, window) = (
        pair[0].as_f64().unwrap_or(f64::INFINITY),
        pair[1].as_f64().unwrap_or(0.0),
    );
    if page > window + 1.0 {
        bail!("{what}: the page is {page} px wide in a {window} px window");
    }
    Ok(())
}

/// Saves a screenshot at the desktop width, then checks at 390×844 that the page is
/// phone-sized and fits without sideways scrolling, saves `NAME-phone`, and goes back.
pub async fn both_widths(browser: &Client, name: &str) -> Result<()> {
    screenshot(browser, name).await?;
    browser.set_window_size(390, 844).await?;
    let width = browser.execute("return window.innerWidth;", vec![]).await?;
    if width.as_i64().is_none_or(|w| w > 400) {
        bail!("the window is not phone-sized: {width}");
    }
    ensure_fits(browser, name).await?;
    screenshot(browser, &format!("{name}-phone")).await?;
    browser.set_window_size(1280, 1024).await?;
    Ok(())
}

/// Clicks what submits a form (or follows a link) and waits until the next page has
/// replaced this one, so nothing is read from the page being left.
pub async fn click_and_wait(browser: &Client, css: &str) -> Result<()> {
    mark_leaving(browser).await?;
    wait_for(browser, css).await?.click().await?;
    new_page(browser).await
}

/// Marks the page as being left, for [`new_page`] to wait until another replaced it.
pub async fn mark_leaving(browser: &Client) -> Result<()> {
    browser
        .execute("document.documentElement.dataset.leaving = '1';", vec![])
        .await?;
    Ok(())
}

/// Waits until the page marked as being left is gone (after an alert was accepted, say).
pub async fn new_page(browser: &Client) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = browser
            .execute(
                "return document.readyState === 'complete' && !document.documentElement.dataset.leaving;",
                vec![],
            )
            .await;
        if matches!(left, Ok(serde_json::Value::Bool(true))) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the next page did not load within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the element's text (spaces removed) contains `wanted` (spaces removed).
pub async fn wait_until_text(browser: &Client, css: &str, wanted: &str) -> Result<()> {
    let wanted: String = wanted.split_whitespace().collect();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
            && text
                .split_whitespace()
                .collect::<String>()
                .contains(&wanted)
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("`{css}` never showed 「{wanted}」");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
