//! What the command-line tests share: a folder with a store holding the sample school, the
//! binary run against it, and the sample with its contradictions corrected.
#![allow(dead_code)]

pub mod browser;

use std::fs;
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    /// A fresh folder with a store holding the sample school (data and report content), and
    /// the sample folder at `out/sample`.
    pub fn with_demo() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
        };
        ws.succeed(&["demo", "--out", ws.path("out").to_str().unwrap()]);
        ws
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nianbao"))
            .arg("--db")
            .arg(self.path("store.db"))
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs the command, fails the test if it fails, and returns its standard output.
    pub fn succeed(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nianbao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A copy of the sample folder under a new name, for editing.
    pub fn copy_sample(&self, name: &str) -> PathBuf {
        let target = self.path(name);
        copy_dir(&self.path("out/sample"), &target);
        target
    }

    /// Imports the sample with every contradiction of its data corrected (no check error
    /// remains; warnings do).
    pub fn import_corrected(&self) {
        let fixed = self.copy_sample("corrected");
        let y2024 = fixed.join("years/2024.toml");
        edit(&y2024, "external = 188", "external = 196");
        edit(
            &y2024,
            "intermediate_share = 31.7",
            "intermediate_share = 31.8",
        );
        edit(&y2024, "senior_share = 5.06", "senior_share = 5.07");
        edit(&y2024, "rate = 100", "rate = 90.64");
        let y2025 = fixed.join("years/2025.toml");
        edit(&y2025, "other_share = 9.4", "other_share = 8.4");
        edit(
            &y2025,
            "student_teacher_ratio = 18.7",
            "student_teacher_ratio = 19.0",
        );
        edit(&y2025, "rate = 100", "rate = 92.77");
        edit(&y2025, "matched = 2964", "matched = 196");
        self.succeed(&["import", fixed.to_str().unwrap()]);
    }

    /// Accepts every open warning with an explanation.
    pub fn accept_all_warnings(&self) {
        let out = self.run(&["check", "--format", "json"]);
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        for finding in json["findings"].as_array().unwrap() {
            if finding["severity"] == "warning" && finding["accepted"].is_null() {
                let key = finding["key"].as_str().unwrap();
                self.succeed(&[
                    "accept",
                    key,
                    "--because",
                    "经核对，数据属实，差异源于统计口径",
                ]);
            }
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Whether an external program is installed; in CI (`NIANBAO_REQUIRE_BROWSER=1`, set with
/// the document tools) a missing one fails the test instead of skipping it.
pub fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("NIANBAO_REQUIRE_BROWSER").is_err(),
            "{name} is required here (CI installs poppler-utils and LibreOffice)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "skipping the checks that need {name}: it is not installed"
        );
    }
    found
}

/// The text of one page of a PDF (pdftotext).
pub fn pdf_page_text(pdf: &Path, page: usize) -> String {
    let out = Command::new("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The number of pages of a PDF (pdfinfo).
pub fn pdf_pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints the page count")
}

/// Every XML part of a Word document, by name.
pub fn docx_parts(docx: &Path) -> Vec<(String, String)> {
    use std::io::Read;
    let bytes = fs::read(docx).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut parts = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).unwrap();
        let name = entry.name().to_string();
        if name.ends_with(".xml") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            parts.push((name, text));
        }
    }
    parts
}

/// The names of the media files in a Word document.
pub fn docx_media(docx: &Path) -> Vec<String> {
    let bytes = fs::read(docx).unwrap();
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    archive
        .file_names()
        .filter(|n| n.starts_with("word/media/"))
        .map(str::to_string)
        .collect()
}
