//! The command line on a store shared by several processes at once: imports and
//! acceptances running side by side all succeed and are all in the change log; a write that
//! cannot get its turn says the store is busy and saves nothing; store files may have any
//! name; backups (of SQLite or PostgreSQL) restore into either with the same data.

// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn nianbao(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A store with the sample school, and the sample folder beside it.
fn demo(dir: &Path, db: &Path) -> PathBuf {
    let out = dir.join("out");
    ok(&nianbao(db, &["demo", "--out", out.to_str().unwrap()]));
    out.join("sample")
}

const WARNING: &str = "students.stock-flow:2024:电子商务";

#[test]
fn a_store_file_may_have_spaces_and_url_characters_in_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a b?c%d#e.db");
    let sample = demo(dir.path(), &db);
    assert!(
        db.is_file(),
        "the store is the file named, not a cut-off name"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(names, vec!["a b?c%d#e.db".to_string()]);
    ok(&nianbao(&db, &["import", sample.to_str().unwrap()]));
    assert!(ok(&nianbao(&db, &["schools"])).contains("黔江"));
}

#[test]
fn imports_and_acceptances_in_parallel_processes_all_succeed() {
    const ROUNDS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let sample = demo(dir.path(), &db);
    let mut workers = Vec::new();
    for importer in 0..2 {
        let (db, sample) = (db.clone(), sample.clone());
        workers.push(std::thread::spawn(move || {
            (0..ROUNDS)
                .filter_map(|_| {
                    let out = nianbao(&db, &["import", sample.to_str().unwrap()]);
                    (!out.status.success()).then(|| {
                        format!(
                            "import {importer}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        )
                    })
                })
                .collect::<Vec<_>>()
        }));
    }
    for accepter in 0..2 {
        let db = db.clone();
        workers.push(std::thread::spawn(move || {
            (0..ROUNDS)
                .filter_map(|round| {
                    let because = format!("说明{accepter}-{round}");
                    let out = nianbao(&db, &["accept", WARNING, "--because", &because]);
                    (!out.status.success())
                        .then(|| format!("{because}: {}", String::from_utf8_lossy(&out.stderr)))
                })
                .collect::<Vec<_>>()
        }));
    }
    {
        let db = db.clone();
        workers.push(std::thread::spawn(move || {
            (0..ROUNDS)
                .filter_map(|_| {
                    let out = nianbao(&db, &["check", "--format", "json"]);
                    // `check` exits 1 when the data has errors; only a crash or 2 is a failure.
                    (out.status.code() == Some(2) || out.status.code().is_none())
                        .then(|| format!("check: {}", String::from_utf8_lossy(&out.stderr)))
                })
                .collect::<Vec<_>>()
        }));
    }
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert_eq!(failures, Vec::<String>::new());
    let history = ok(&nianbao(&db, &["history", "--limit", "100000"]));
    for accepter in 0..2 {
        for round in 0..ROUNDS {
            let because = format!("说明{accepter}-{round}");
            assert!(
                history.contains(&because),
                "{because} was reported saved but is not in the change log"
            );
        }
    }
}

#[test]
fn a_write_that_waits_too_long_says_the_store_is_busy_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("locked.db");
    demo(dir.path(), &db);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Another program holds the store's write lock while the command runs.
    let database = runtime
        .block_on(nianbao_store::Database::open_sqlite(
            &db,
            nianbao_store::OpenOptions::default(),
        ))
        .unwrap();
    let held = runtime.block_on(database.write()).unwrap();
    let out = nianbao(
        &db,
        &[
            "--busy-timeout",
            "0.5",
            "accept",
            WARNING,
            "--because",
            "被挡住的说明",
        ],
    );
    runtime.block_on(held.rollback()).unwrap();
    runtime.block_on(database.close());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("数据库正忙"), "{stderr}");
    assert!(stderr.contains("没有保存"), "{stderr}");
    assert!(!stderr.contains("locked"), "{stderr}");
    assert!(
        !stderr.contains("无法打开"),
        "a store is opened without waiting: {stderr}"
    );
    let history = ok(&nianbao(&db, &["history", "--limit", "100000"]));
    assert!(!history.contains("被挡住的说明"));
}

#[test]
fn a_backup_is_a_store_with_the_same_data_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    demo(dir.path(), &db);
    let backup = dir.path().join("备份 2025#1.db");
    let out = ok(&nianbao(&db, &["backup", backup.to_str().unwrap()]));
    assert!(out.contains("已备份到"), "{out}");
    let again = nianbao(&db, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已存在"));
    for args in [&["schools"][..], &["history", "--limit", "100000"][..]] {
        assert_eq!(ok(&nianbao(&backup, args)), ok(&nianbao(&db, args)));
    }
}

/// Every file of an exported school folder, by name.
fn exported(db: &Path, dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    ok(&nianbao(db, &["export", dir.to_str().unwrap()]));
    exported_folder(dir)
}

/// Every file of a folder written by `export`, by name.
fn exported_folder(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                files.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    files
}

#[test]
fn a_restore_brings_back_the_backup_and_refuses_to_replace_data_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let sample = demo(dir.path(), &db);
    let backup = dir.path().join("backup.db");
    ok(&nianbao(&db, &["backup", backup.to_str().unwrap()]));
    let saved = exported(&backup, &dir.path().join("from-backup"));
    let history = ok(&nianbao(&backup, &["history", "--limit", "100000"]));

    // Change the live store after the backup: a fact and an acceptance.
    let year = sample.join("years/2025.toml");
    let text = std::fs::read_to_string(&year).unwrap();
    let changed = text.replacen("= 639", "= 640", 1);
    assert_ne!(changed, text, "the sample has a value of 639 to change");
    std::fs::write(&year, changed).unwrap();
    ok(&nianbao(&db, &["import", sample.to_str().unwrap()]));
    ok(&nianbao(
        &db,
        &["accept", WARNING, "--because", "恢复前的说明"],
    ));
    assert_ne!(exported(&db, &dir.path().join("changed")), saved);

    // Not over data without --force; the store is left as it was.
    let refused = nianbao(&db, &["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("--force") && message.contains("所学校"),
        "{message}"
    );
    assert!(ok(&nianbao(&db, &["history", "--limit", "100000"])).contains("恢复前的说明"));

    let out = ok(&nianbao(
        &db,
        &["restore", "--force", backup.to_str().unwrap()],
    ));
    assert!(out.contains("已从") && out.contains("1 所学校"), "{out}");
    assert_eq!(exported(&db, &dir.path().join("restored")), saved);
    assert_eq!(
        ok(&nianbao(&db, &["history", "--limit", "100000"])),
        history
    );

    // Into a new store, no --force is needed.
    let fresh = dir.path().join("fresh.db");
    ok(&nianbao(&fresh, &["restore", backup.to_str().unwrap()]));
    assert_eq!(exported(&fresh, &dir.path().join("fresh")), saved);
}

#[test]
fn a_damaged_or_foreign_backup_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    demo(dir.path(), &db);
    let before = ok(&nianbao(&db, &["history", "--limit", "100000"]));

    let backup = dir.path().join("backup.db");
    ok(&nianbao(&db, &["backup", backup.to_str().unwrap()]));
    // Overwrite a page in the middle of the file: the structure no longer holds.
    let mut bytes = std::fs::read(&backup).unwrap();
    assert!(bytes.len() > 8 * 4096);
    for b in &mut bytes[4 * 4096..6 * 4096] {
        *b = 0x5a;
    }
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database at all, just words".repeat(200)).unwrap();
    let foreign = dir.path().join("foreign.db");
    let made = Command::new("sqlite3")
        .arg(&foreign)
        .arg("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .status();
    let cases: Vec<(&Path, &str)> = [
        (damaged.as_path(), "integrity_check"),
        (garbage.as_path(), "数据库"),
        (dir.path(), "不是普通文件"),
    ]
    .into_iter()
    .chain(
        made.is_ok_and(|s| s.success())
            .then_some((foreign.as_path(), "不是年报的数据库备份")),
    )
    .collect();
    for (file, expected) in cases {
        let out = nianbao(&db, &["restore", "--force", file.to_str().unwrap()]);
        assert!(!out.status.success(), "{}", file.display());
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains(expected), "{}: {message}", file.display());
        assert_eq!(ok(&nianbao(&db, &["history", "--limit", "100000"])), before);
    }
}

/// Runs the command line on the PostgreSQL database at `url`.
fn nianbao_on(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .unwrap()
}

/// A database of its own on the test server (a restore replaces everything in it), dropped
/// at the end.
struct OwnDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl OwnDatabase {
    fn create(admin_url: &str, purpose: &str) -> OwnDatabase {
        let name = format!("nianbao_cli_{purpose}_{}", std::process::id());
        let out = Command::new("psql")
            .arg(admin_url)
            .arg("-v")
            .arg("ON_ERROR_STOP=1")
            .arg("-qc")
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql runs when NIANBAO_TEST_DATABASE_URL is set");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let base = admin_url.rsplit_once('/').expect("a URL ends in /name").0;
        OwnDatabase {
            admin_url: admin_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .arg("-qc")
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

#[test]
fn a_postgresql_backup_restores_into_sqlite_and_into_postgresql() {
    let Ok(admin) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "跳过：未设置 NIANBAO_TEST_DATABASE_URL，不测试 PostgreSQL 的备份与恢复命令"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let origin = OwnDatabase::create(&admin, "origin");
    let sample = dir.path().join("out");
    ok(&nianbao_on(
        &origin.url,
        &["demo", "--out", sample.to_str().unwrap()],
    ));
    ok(&nianbao_on(
        &origin.url,
        &["accept", WARNING, "--because", "备份前的说明"],
    ));
    let export_pg = |url: &str, name: &str| {
        let folder = dir.path().join(name);
        ok(&nianbao_on(url, &["export", folder.to_str().unwrap()]));
        folder
    };
    let history = ok(&nianbao_on(&origin.url, &["history", "--limit", "100000"]));
    assert!(history.contains("备份前的说明"), "{history}");

    let backup = dir.path().join("年报 备份.db");
    let out = ok(&nianbao_on(
        &origin.url,
        &["backup", backup.to_str().unwrap()],
    ));
    assert!(out.contains("已备份到"), "{out}");
    let again = nianbao_on(&origin.url, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已存在"));

    // Into a SQLite file: the same data, the same history.
    let db = dir.path().join("restored.db");
    let out = ok(&nianbao(&db, &["restore", backup.to_str().unwrap()]));
    assert!(out.contains("已从") && out.contains("1 所学校"), "{out}");
    assert_eq!(
        exported(&db, &dir.path().join("sqlite")),
        exported_folder(&export_pg(&origin.url, "pg"))
    );
    assert_eq!(
        ok(&nianbao(&db, &["history", "--limit", "100000"])),
        history
    );

    // Into another PostgreSQL database, and on with new writes there.
    let other = OwnDatabase::create(&admin, "other");
    ok(&nianbao_on(
        &other.url,
        &["restore", backup.to_str().unwrap()],
    ));
    assert_eq!(
        ok(&nianbao_on(&other.url, &["history", "--limit", "100000"])),
        history
    );
    let year = sample.join("sample/years/2025.toml");
    let text = std::fs::read_to_string(&year).unwrap();
    let changed = text.replacen("= 639", "= 640", 1);
    assert_ne!(changed, text, "the sample has a value of 639 to change");
    std::fs::write(&year, changed).unwrap();
    ok(&nianbao_on(
        &other.url,
        &["import", sample.join("sample").to_str().unwrap()],
    ));
    let after = ok(&nianbao_on(&other.url, &["history", "--limit", "1"]));
    assert!(after.contains("639") && after.contains("640"), "{after}");
}

/// `nianbao check | head -0`: the reader is gone before the first line is written. The
/// command ends without a panic message (killed by the pipe signal, as `cat` would be).
#[cfg(unix)]
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    demo(dir.path(), &db);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_nianbao"))
        .arg("--db")
        .arg(&db)
        .arg("check")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(13), "{:?} {stderr}", out.status);
}
