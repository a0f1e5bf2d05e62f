//! Backups move between the backends: a PostgreSQL store's backup is a SQLite store file
//! like a SQLite store's, and a backup from either restores into either with every row and
//! every value as it was (floats to the bit, text, bytes, NULLs). A damaged or foreign file,
//! a restore over data without `force`, and a backup onto an existing file are refused with
//! the store unchanged. The PostgreSQL parts run in databases of their own on the server
//! named by NIANBAO_TEST_DATABASE_URL, and are skipped with a notice without it.

use std::collections::BTreeMap;
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::Path;

use nianbao_bureau::areas::AreaTree;
use nianbao_core::{Dataset, FactKey, Major, OrgPath, Role, School, Year};
use nianbao_points::Tree;
use nianbao_points::ledger::{days_from_civil, read_events_csv};
use nianbao_points::roster::read_roster_csv;
use nianbao_store::points::PointsStore;
use nianbao_store::{Backend, NewUser, Store};
use sqlx::Row;

mod common;
use common::OwnDatabase;

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

/// The test server, or None (with a notice) when none is configured.
fn server(test: &str) -> Option<String> {
    match std::env::var("NIANBAO_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "跳过 {test}：未设置 NIANBAO_TEST_DATABASE_URL，不测试 PostgreSQL 上的备份与恢复"
            );
            None
        }
    }
}

const ROSTER: &str = "学号,姓名,班级,专业,专业部,入学年份
2025001,张明,2025级汽修1班,汽车运用与维修,汽车工程部,2025
2025002,李华,2025级汽修1班,汽车运用与维修,汽车工程部,2025
2024001,赵强,2024级电商1班,电子商务,信息技术部,2024
";

const EVENTS: &str = "事件编号,学号,观测点,分值,记录人,记录角色,时间,事由,佐证,冲销事件
E1,2025001,C01.1.1,,T01,班主任,2025-09-08 07:50,升旗仪式,,
E2,2025001,C08.2.4,15,T02,德育处,2025-10-12 10:00,市级技能竞赛二等奖,获奖证书.pdf,
E3,2025002,C03.2.1,,T01,班主任,2025-09-09 08:10,迟到,,
E4,2025002,,,T01,班主任,2025-09-10 08:00,误记，予以冲销,,E3
E5,2024001,C07.1.1,,T04,班主任,2026-03-02 17:00,值日,,
";

/// Areas whose codes sort children before parents ("…-c" before "…-p"), with more districts
/// than one INSERT of the copy carries (1,000 rows), so a copy that wrote a tree's rows in
/// any order but parents first would break its references.
fn areas(prefix: &str) -> AreaTree {
    let mut text = format!(
        r#"
[[province]]
code = "{prefix}-p"
name = "测试省"

[[city]]
code = "{prefix}-c"
name = "测试市"
province = "{prefix}-p"

[[district]]
code = "{prefix}-a"
name = "甲区"
city = "{prefix}-c"

[[school]]
code = "{prefix}-s"
name = "甲区一校"
district = "{prefix}-a"
type = "中职"

[[deadline]]
area = "{prefix}-c"
year = 2025
date = "2026-01-31"
"#
    );
    for n in 0..1_100 {
        text.push_str(&format!(
            "\n[[district]]\ncode = \"{prefix}-d{n:04}\"\nname = \"第{n}区\"\ncity = \"{prefix}-c\"\n"
        ));
    }
    AreaTree::parse("areas.toml", &text).unwrap()
}

/// Facts whose values test the float columns: no decimal form is exact for most of them.
const AWKWARD: &[(&str, f64)] = &[
    ("finance.income", 0.1 + 0.2),
    ("finance.spending", 1.0 / 3.0),
    ("campus.land_area", 123_456_789.012_345_67),
    ("staff.total", 639.0),
    ("finance.tiny", 1e-300),
    ("finance.negative", -2.5e-7),
];

/// Fills a store with a bit of everything: a school with majors, facts and notes, a second
/// school, a user, a report snapshot (bytes that are not text), areas, and a points ledger
/// with a reversal (partitioned events on PostgreSQL).
async fn fill(store: &Store, dir: &Path, prefix: &str) {
    let school = School {
        code: format!("{prefix}-s"),
        name: "备份测试学校".into(),
        org_unit: OrgPath {
            province: "某省".into(),
            city: "某市".into(),
            district: "某区".into(),
        },
        report_year: year(2025),
        ..School::default()
    };
    let mut data = Dataset::new(school);
    data.majors.push(Major {
        name: "会计事务".into(),
        category: "财经商贸大类".into(),
        department: "财经部".into(),
    });
    for (element, value) in AWKWARD {
        data.set(FactKey::school(year(2025), *element), *value);
    }
    data.set(
        FactKey::major(year(2025), "major.intake", "会计事务"),
        213.0,
    );
    data.notes.insert(
        FactKey::school(year(2025), "staff.total"),
        "含「外聘」教师 12 人；单引号 ' 双引号 \" 反斜杠 \\ 换行\n第二行 🚗".into(),
    );
    store.save_dataset(&data, "tester").await.unwrap();
    let mut changed = data.clone();
    changed.set(FactKey::school(year(2025), "staff.total"), 640.0);
    store.save_dataset(&changed, "tester").await.unwrap();

    let other = School {
        code: format!("{prefix}-t"),
        name: "第二所学校".into(),
        report_year: year(2025),
        ..School::default()
    };
    store
        .save_dataset(&Dataset::new(other), "tester")
        .await
        .unwrap();

    store
        .add_user(&NewUser {
            name: &format!("{prefix}-admin"),
            role: Role::Quality,
            school_code: Some(&format!("{prefix}-s")),
            department: None,
            password: "correct horse battery",
        })
        .await
        .unwrap();
    let payload: Vec<u8> = (0..=255u8).chain([0, 0, 0xff, 0x80]).collect();
    store
        .save_snapshot(
            &format!("{prefix}-s"),
            year(2025),
            "abc123",
            &payload,
            "tester",
        )
        .await
        .unwrap();
    store.load_areas(&areas(prefix)).await.unwrap();

    let points = PointsStore::new(store, None).await.unwrap();
    let code = format!("{prefix}-s");
    points
        .load_tree(&code, &Tree::sample(), "tester")
        .await
        .unwrap();
    let roster_file = dir.join(format!("{prefix}-roster.csv"));
    std::fs::write(&roster_file, ROSTER).unwrap();
    let roster = read_roster_csv(&roster_file).unwrap();
    points.import_roster(&code, &roster).await.unwrap();
    for (period, school_year, from, to) in [
        ("2025-2026-1", 2025, (2025, 9, 1), (2026, 1, 20)),
        ("2025-2026-2", 2025, (2026, 2, 20), (2026, 7, 10)),
    ] {
        points
            .define_period(
                &code,
                period,
                school_year,
                days_from_civil(from.0, from.1, from.2),
                days_from_civil(to.0, to.1, to.2),
            )
            .await
            .unwrap();
    }
    let events_file = dir.join(format!("{prefix}-events.csv"));
    std::fs::write(&events_file, EVENTS).unwrap();
    let rows = read_events_csv(&events_file).unwrap();
    let mut ledger = points.open_ledger(&code).await.unwrap();
    points
        .append(&mut ledger, "events.csv", &rows, "tester")
        .await
        .unwrap();
    roots_last(store).await;
}

/// Puts the roots of the area tree after their children in the table's own order of rows
/// (renaming a province after its cities were added does that on PostgreSQL), so a copy
/// that wrote the rows in the order it read them would break the tree's references.
async fn roots_last(store: &Store) {
    let mut tx = store.database().write().await.unwrap();
    let statements: &[&str] = match store.backend() {
        Backend::Postgres => {
            &["UPDATE area SET name = name || '（更名）' WHERE level <> 'district'"]
        }
        Backend::Sqlite => &[
            "PRAGMA defer_foreign_keys = ON",
            "CREATE TEMP TABLE area_copy AS SELECT * FROM area",
            "DELETE FROM area",
            "INSERT INTO area SELECT * FROM area_copy ORDER BY level <> 'district', code",
            "DROP TABLE area_copy",
        ],
    };
    for statement in statements {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Every table's rows as text, sorted: whole numbers, floats by their bits, text, bytes in
/// hex, NULL. Schools' revisions are left out (a restore raises them on purpose).
async fn contents(store: &Store) -> BTreeMap<String, Vec<String>> {
    let pool = store.database().reader();
    let tables: Vec<String> = match store.backend() {
        Backend::Sqlite => sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        Backend::Postgres => sqlx::query_scalar(
            "SELECT CAST(c.relname AS TEXT) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    let mut all = BTreeMap::new();
    for table in tables {
        let select = if table == "school_revision" {
            "SELECT school_id FROM school_revision".to_string()
        } else {
            format!("SELECT * FROM {table}")
        };
        let mut rows: Vec<String> = sqlx::query(&select)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| shown(row, i))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        rows.sort();
        all.insert(table, rows);
    }
    all
}

fn shown(row: &sqlx::any::AnyRow, i: usize) -> String {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or("NULL".into(), |v| format!("int {v}"));
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or("NULL".into(), |v| {
            format!("real {v:?} ({:016x})", v.to_bits())
        });
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or("NULL".into(), |v| format!("text {v:?}"));
    }
    let bytes: Option<Vec<u8>> = row.try_get(i).unwrap();
    bytes.map_or("NULL".into(), |b| {
        format!(
            "bytes {}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        )
    })
}

/// The number of rows over every table, to see that a comparison compares something.
fn rows(contents: &BTreeMap<String, Vec<String>>) -> usize {
    contents.values().map(Vec::len).sum()
}

/// Revisions by school code.
async fn revisions(store: &Store) -> BTreeMap<String, i64> {
    let mut all = BTreeMap::new();
    for school in store.schools().await.unwrap() {
        let revision = store.revision(&school.code).await.unwrap();
        all.insert(school.code, revision);
    }
    all
}

/// The awkward values come back to the bit through the store's own reading.
async fn awkward_values_kept(store: &Store, prefix: &str) {
    let data = store.load_dataset(&format!("{prefix}-s")).await.unwrap();
    for (element, value) in AWKWARD {
        let read = data.facts[&FactKey::school(year(2025), *element)];
        let expected = if *element == "staff.total" {
            640.0
        } else {
            *value
        };
        assert_eq!(read.to_bits(), expected.to_bits(), "{element}");
    }
}

#[tokio::test]
async fn a_postgres_store_round_trips_through_its_backup() {
    let Some(admin) = server("a_postgres_store_round_trips_through_its_backup") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = OwnDatabase::create(&admin, "backup");
    let store = Store::open(&first.url).await.unwrap();
    fill(&store, dir.path(), "pg").await;
    let before = contents(&store).await;
    assert!(rows(&before) > 50, "{before:?}");
    assert!(!before["points_event"].is_empty());

    let file = dir.path().join("pg 备份#1.db");
    store.backup(&file).await.unwrap();
    // Nothing but the backup is left in the directory (no partial file).
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("备份"))
        .collect();
    assert_eq!(names, ["pg 备份#1.db"]);

    // The backup is a SQLite store with the same rows.
    {
        let copy = Store::open_sqlite(&file).await.unwrap();
        assert_eq!(contents(&copy).await, before);
        awkward_values_kept(&copy, "pg").await;
        copy.database().close().await;
    }
    // Into another, empty PostgreSQL database.
    let second = OwnDatabase::create(&admin, "backup");
    let restored_store = Store::open(&second.url).await.unwrap();
    let restored = restored_store.restore(&file, false).await.unwrap();
    assert_eq!((restored.schools, restored.users), (2, 1));
    assert_eq!(contents(&restored_store).await, before);
    awkward_values_kept(&restored_store, "pg").await;
    // The ids continue after the restored ones: new schools, changes and events are stored.
    let next = School {
        code: "pg-after".into(),
        name: "恢复后新建的学校".into(),
        report_year: year(2025),
        ..School::default()
    };
    restored_store
        .save_dataset(&Dataset::new(next), "tester")
        .await
        .unwrap();
    let points = PointsStore::new(&restored_store, None).await.unwrap();
    let mut ledger = points.open_ledger("pg-s").await.unwrap();
    let more = dir.path().join("more.csv");
    std::fs::write(
        &more,
        "事件编号,学号,观测点,分值,记录人,记录角色,时间,事由,佐证,冲销事件\nE9,2025002,C01.1.1,,T01,班主任,2025-09-15 07:50,升旗仪式,,\n",
    )
    .unwrap();
    points
        .append(
            &mut ledger,
            "more.csv",
            &read_events_csv(&more).unwrap(),
            "tester",
        )
        .await
        .unwrap();

    // Back into the first database over its own, changed data.
    let old_revisions = revisions(&store).await;
    let mut data = store.load_dataset("pg-s").await.unwrap();
    data.set(FactKey::school(year(2025), "staff.total"), 700.0);
    store.save_dataset(&data, "tester").await.unwrap();
    let refused = store.restore(&file, false).await.unwrap_err();
    assert!(refused.to_string().contains("--force"), "{refused}");
    let changed = store.revision("pg-s").await.unwrap();
    store.restore(&file, true).await.unwrap();
    assert_eq!(contents(&store).await, before);
    for (code, revision) in revisions(&store).await {
        assert!(
            revision > changed && revision > old_revisions[&code],
            "{code}: {revision}"
        );
    }
}

#[tokio::test]
async fn backups_move_from_sqlite_to_postgres_and_back() {
    let Some(admin) = server("backups_move_from_sqlite_to_postgres_and_back") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open_sqlite(&dir.path().join("origin.db"))
        .await
        .unwrap();
    fill(&sqlite, dir.path(), "lite").await;
    let origin = contents(&sqlite).await;
    assert!(rows(&origin) > 50);

    let from_sqlite = dir.path().join("from-sqlite.db");
    sqlite.backup(&from_sqlite).await.unwrap();
    let database = OwnDatabase::create(&admin, "backup");
    let postgres = Store::open(&database.url).await.unwrap();
    postgres.restore(&from_sqlite, false).await.unwrap();
    assert_eq!(contents(&postgres).await, origin);
    awkward_values_kept(&postgres, "lite").await;

    let from_postgres = dir.path().join("from-postgres.db");
    postgres.backup(&from_postgres).await.unwrap();
    let again = Store::open_sqlite(&dir.path().join("again.db"))
        .await
        .unwrap();
    again.restore(&from_postgres, false).await.unwrap();
    assert_eq!(contents(&again).await, origin);
    awkward_values_kept(&again, "lite").await;
}

/// Files that are not backups of this program, each with what its refusal says.
fn foreign_files(dir: &Path, backup: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let mut files = Vec::new();
    let damaged = dir.join("damaged.db");
    let mut bytes = std::fs::read(backup).unwrap();
    assert!(bytes.len() > 8 * 4096);
    for b in &mut bytes[4 * 4096..6 * 4096] {
        *b = 0x5a;
    }
    std::fs::write(&damaged, bytes).unwrap();
    files.push((damaged, "integrity_check"));
    let text = dir.join("notes.txt");
    std::fs::write(&text, "这不是数据库\n".repeat(200)).unwrap();
    files.push((text, "不是完好的数据库文件"));
    let other = dir.join("other.db");
    let status = std::process::Command::new("sqlite3")
        .arg(&other)
        .arg("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .status();
    if status.is_ok_and(|s| s.success()) {
        files.push((other, "不是年报的数据库备份"));
    }
    let newer = dir.join("newer.db");
    std::fs::copy(backup, &newer).unwrap();
    let status = std::process::Command::new("sqlite3")
        .arg(&newer)
        .arg("INSERT INTO schema_version (version) VALUES (9999);")
        .status();
    if status.is_ok_and(|s| s.success()) {
        files.push((newer, "更新版本"));
    }
    files
}

#[tokio::test]
async fn a_damaged_or_foreign_file_is_refused_and_the_postgres_store_is_unchanged() {
    let Some(admin) =
        server("a_damaged_or_foreign_file_is_refused_and_the_postgres_store_is_unchanged")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = OwnDatabase::create(&admin, "backup");
    let store = Store::open(&database.url).await.unwrap();
    fill(&store, dir.path(), "bad").await;
    let before = contents(&store).await;
    let backup = dir.path().join("backup.db");
    store.backup(&backup).await.unwrap();

    for (file, expected) in foreign_files(dir.path(), &backup) {
        let refused = store.restore(&file, true).await.unwrap_err();
        assert!(
            refused.to_string().contains(expected),
            "{}: {refused}",
            file.display()
        );
        assert_eq!(contents(&store).await, before, "{}", file.display());
    }

    // A sound backup whose rows PostgreSQL cannot take (a NUL inside a text) fails half-way
    // through the copy: the transaction takes nothing back with it.
    let poisoned = dir.path().join("poisoned.db");
    std::fs::copy(&backup, &poisoned).unwrap();
    {
        let file = Store::open_sqlite(&poisoned).await.unwrap();
        let mut tx = file.database().write().await.unwrap();
        sqlx::query("UPDATE note SET text = 'a' || char(0) || 'b'")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        file.database().close().await;
    }
    let failed = store.restore(&poisoned, true).await;
    assert!(failed.is_err(), "a NUL in text is not PostgreSQL text");
    assert_eq!(contents(&store).await, before);
    // And the store still restores a good backup afterwards.
    store.restore(&backup, true).await.unwrap();
    assert_eq!(contents(&store).await, before);
}

#[tokio::test]
async fn a_postgres_backup_never_replaces_a_file_and_a_restore_over_data_needs_force() {
    let Some(admin) =
        server("a_postgres_backup_never_replaces_a_file_and_a_restore_over_data_needs_force")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = OwnDatabase::create(&admin, "backup");
    let store = Store::open(&database.url).await.unwrap();
    fill(&store, dir.path(), "keep").await;

    let existing = dir.path().join("existing.db");
    std::fs::write(&existing, "已有的文件").unwrap();
    let refused = store.backup(&existing).await.unwrap_err();
    assert!(refused.to_string().contains("已存在"), "{refused}");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "已有的文件");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "only the CSV files and it"
    );

    // A backup of another store, restored over this one's data: refused without force.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Store::open_sqlite(&other_dir.path().join("other.db"))
        .await
        .unwrap();
    fill(&other, other_dir.path(), "other").await;
    let backup = other_dir.path().join("other-backup.db");
    other.backup(&backup).await.unwrap();
    let before = contents(&store).await;
    let refused = store.restore(&backup, false).await.unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("--force") && message.contains("2 所学校"),
        "{message}"
    );
    assert_eq!(contents(&store).await, before);
}

#[tokio::test]
async fn a_sqlite_store_with_points_events_is_restored_over_with_force() {
    // The points events are append-only (a trigger refuses to delete them); a restore
    // replaces them all the same, and only a restore does.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("live.db"))
        .await
        .unwrap();
    fill(&store, dir.path(), "ev").await;
    let before = contents(&store).await;
    let backup = dir.path().join("backup.db");
    store.backup(&backup).await.unwrap();
    let mut data = store.load_dataset("ev-s").await.unwrap();
    data.set(FactKey::school(year(2025), "staff.total"), 700.0);
    store.save_dataset(&data, "tester").await.unwrap();

    store.restore(&backup, true).await.unwrap();
    assert_eq!(contents(&store).await, before);
    let mut tx = store.database().write().await.unwrap();
    let refused = sqlx::query("DELETE FROM points_event")
        .execute(&mut *tx)
        .await;
    assert!(refused.is_err(), "the append-only guard is back in place");
}
