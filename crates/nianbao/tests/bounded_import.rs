//! Imports of hostile or mistaken input: a named pipe or a device in place of a data file,
//! a file over the size cap, numbers beyond any real school (1e308, 10²³), and files that
//! would delete most of a school's data (a students.csv with only its header, an empty year
//! file). Each is refused in Chinese, naming the file, and leaves the store as it was; the
//! mass deletion goes through when the user says it is meant.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn with_demo() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
        };
        let out = ws.run(&["demo", "--out", ws.path("out").to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ws
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nianbao"));
        command.arg("--db").arg(self.path("store.db")).args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs an import that must end within a minute (not hang on a pipe or a device).
    fn import(&self, folder: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["import", folder.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("import of {} hung", folder.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    }

    /// A copy of the sample folder to break.
    fn copy_sample(&self, name: &str) -> PathBuf {
        let target = self.path(name);
        copy_dir(&self.path("out/sample"), &target);
        target
    }

    /// Everything the store holds, as the export folder's files.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let dir = self.path("snapshot");
        let _ = fs::remove_dir_all(&dir);
        let out = self.run(&["export", dir.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files = Vec::new();
        collect(&dir, &mut files);
        files.sort();
        files
    }

    /// Imports `folder` expecting a refusal; returns stderr after checking nothing changed.
    fn refused(&self, folder: &Path) -> String {
        let before = self.snapshot();
        let out = self.import(folder, &[]);
        assert!(
            !out.status.success(),
            "the import of {} went through",
            folder.display()
        );
        assert!(
            self.snapshot() == before,
            "a refused import changed the store"
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
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

fn collect(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push((path.clone(), fs::read(&path).unwrap()));
        }
    }
}

fn replace(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[cfg(unix)]
#[test]
fn pipes_devices_and_oversized_files_are_refused_without_reading_them() {
    let ws = Workspace::with_demo();

    let fifo = ws.copy_sample("fifo");
    let year = fifo.join("years/2025.toml");
    fs::remove_file(&year).unwrap();
    let made = Command::new("mkfifo").arg(&year).status().unwrap();
    assert!(made.success());
    let stderr = ws.refused(&fifo);
    assert!(
        stderr.contains("2025.toml: 不是普通文件（这是命名管道）"),
        "{stderr}"
    );

    let device = ws.copy_sample("device");
    let students = device.join("students.csv");
    fs::remove_file(&students).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &students).unwrap();
    let stderr = ws.refused(&device);
    assert!(
        stderr.contains("students.csv: 不是普通文件（这是设备文件）"),
        "{stderr}"
    );

    let folder = ws.copy_sample("folder");
    let year = folder.join("years/2024.toml");
    fs::remove_file(&year).unwrap();
    fs::create_dir(&year).unwrap();
    let stderr = ws.refused(&folder);
    assert!(
        stderr.contains("2024.toml: 不是普通文件（这是文件夹）"),
        "{stderr}"
    );

    let big = ws.copy_sample("big");
    let students = big.join("students.csv");
    let mut text = fs::read_to_string(&students).unwrap();
    text.push_str(&"\n".repeat(21 * 1024 * 1024));
    fs::write(&students, text).unwrap();
    let stderr = ws.refused(&big);
    assert!(
        stderr.contains("students.csv: 文件超过 20 MB 的上限"),
        "{stderr}"
    );
}

#[test]
fn numbers_beyond_any_school_are_refused_with_their_place() {
    let ws = Workspace::with_demo();

    let huge_area = ws.copy_sample("area");
    replace(
        &huge_area.join("years/2025.toml"),
        "land_area = 329800.11",
        "land_area = 1e308",
    );
    let stderr = ws.refused(&huge_area);
    assert!(
        stderr.contains("2025.toml:4: 「conditions.land_area」: 「校园占地面积」应为非负数（不超过 100,000,000m²），实际为 1e308"),
        "{stderr}"
    );

    let huge_count = ws.copy_sample("count");
    replace(
        &huge_count.join("students.csv"),
        "会计事务,2025,213,",
        "会计事务,2025,99999999999999999999999,",
    );
    let stderr = ws.refused(&huge_count);
    assert!(
        stderr.contains("students.csv:4: 「招生人数」: 应为非负整数（不超过 10,000,000人）"),
        "{stderr}"
    );

    let infinite = ws.copy_sample("inf");
    replace(
        &infinite.join("years/2025.toml"),
        "books = 465650",
        "books = inf",
    );
    let stderr = ws.refused(&infinite);
    assert!(stderr.contains("2025.toml:7"), "{stderr}");
}

#[test]
fn an_import_that_would_delete_most_data_needs_confirming() {
    let ws = Workspace::with_demo();

    let header_only = ws.copy_sample("header-only");
    let students = header_only.join("students.csv");
    let header = fs::read_to_string(&students)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    fs::write(&students, format!("{header}\n")).unwrap();
    let stderr = ws.refused(&header_only);
    assert!(stderr.contains("这次导入将删除"), "{stderr}");
    assert!(stderr.contains("「招生人数」的全部数据"), "{stderr}");
    assert!(stderr.contains("--allow-deletions"), "{stderr}");

    let empty_year = ws.copy_sample("empty-year");
    fs::write(empty_year.join("years/2025.toml"), "").unwrap();
    let stderr = ws.refused(&empty_year);
    assert!(stderr.contains("2025年度的全校数据"), "{stderr}");

    // Said to be meant, the same import goes through and deletes what it said.
    let count: usize = stderr
        .split("这次导入将删除 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let out = ws.import(&empty_year, &["--allow-deletions"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(&format!("删除 {count} 项数据")), "{stdout}");
}
