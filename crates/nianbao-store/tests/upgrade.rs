//! A store written before the latest migrations (on SQLite, and on PostgreSQL when
//! NIANBAO_TEST_DATABASE_URL names a server) opens, is brought up to date and keeps its
//! data; a backup taken while the store is in use opens as a store with the same data.

use nianbao_core::{Dataset, FactKey, OrgPath, School, Year};
use nianbao_store::{Database, OpenOptions, Store, migrations};
// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;

mod common;
use common::OwnDatabase;

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

/// The number of migrations of the release before the points ledger moved into the store
/// (0001–0011).
const EARLIER_RELEASE: usize = 8;

/// Writes what the earlier release made of a store on `db`: its schema, and rows written the
/// way it wrote them (ids from the database, as its inserts took them).
async fn write_earlier_release(db: &Database) {
    let all = migrations(db.backend());
    assert!(all.len() > EARLIER_RELEASE);
    db.migrate("schema_version", 4242, &all[..EARLIER_RELEASE])
        .await
        .unwrap();
    let mut tx = db.write().await.unwrap();
    let profile = serde_json::to_string(&School {
        code: "old".into(),
        name: "旧版学校".into(),
        report_year: year(2025),
        ..School::default()
    })
    .unwrap();
    let org_unit: i64 = sqlx::query_scalar("INSERT INTO org_unit (parent_id, level, name, path) VALUES (NULL, 'school', '旧版学校', '旧版学校') RETURNING id")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    let school: i64 = sqlx::query_scalar("INSERT INTO school (org_unit_id, code, name, profile) VALUES ($1, 'old', '旧版学校', $2) RETURNING id")
        .bind(org_unit)
        .bind(profile)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    for statement in [
        "INSERT INTO fact (school_id, year, element, major, value) VALUES ($1, 2025, 'staff.total', '', 639)",
        "INSERT INTO fact (school_id, year, element, major, value) VALUES ($1, 2025, 'major.intake', '会计事务', 213)",
        "INSERT INTO change_log (school_id, changed_at, actor, entity, record, old_value, new_value) VALUES ($1, '2025-09-01T08:00:00Z', 'cli:old', 'fact', '2025 staff.total', NULL, '639')",
        // Rows of the tables PostgreSQL's migration 0017 re-keys by school.
        "INSERT INTO report_comment (school_id, year, part, quote, body, author, created_at, resolved_by, resolved_at) VALUES ($1, 2025, '1.1', NULL, '请补充数据来源', 'reviewer', '2025-09-02T08:00:00Z', NULL, NULL)",
    ] {
        sqlx::query(statement)
            .bind(school)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO report_snapshot (school_id, year, hash, created_at, actor, payload) VALUES ($1, 2025, 'old-hash', '2025-09-03T08:00:00Z', 'cli:old', $2)")
        .bind(school)
        .bind(b"PDF".to_vec())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The earlier release's rows are all there after the upgrade, and the store takes new
/// writes (new ids follow the old ones).
async fn check_upgraded(store: &Store) {
    assert_eq!(
        store.schema_version().await.unwrap(),
        migrations(store.backend()).len() as i64
    );
    let data = store.load_dataset("old").await.unwrap();
    assert_eq!(data.school.name, "旧版学校");
    assert_eq!(
        data.facts[&FactKey::school(year(2025), "staff.total")],
        639.0
    );
    assert_eq!(
        data.facts[&FactKey::major(year(2025), "major.intake", "会计事务")],
        213.0
    );
    let history = store.history("old", 10).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].actor, "cli:old");
    let comments = store.comments("old", year(2025)).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].body, "请补充数据来源");
    let snapshots = store.snapshots("old").await.unwrap();
    assert_eq!(snapshots.len(), 1);
    let (_, payload) = store.snapshot(snapshots[0].id).await.unwrap();
    assert_eq!(payload, b"PDF");
    // And it takes new writes.
    let mut changed = data.clone();
    changed.set(FactKey::school(year(2025), "staff.total"), 640.0);
    store.save_dataset(&changed, "tester").await.unwrap();
    let history = store.history("old", 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].id > history[1].id, "{history:?}");
    let newer = store
        .save_snapshot("old", year(2025), "new-hash", b"PDF2", "tester")
        .await
        .unwrap();
    assert!(newer > snapshots[0].id);
}

#[tokio::test]
async fn a_store_of_an_earlier_release_opens_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("earlier.db");
    {
        let db = Database::open_sqlite(&path, OpenOptions::default())
            .await
            .unwrap();
        write_earlier_release(&db).await;
        db.close().await;
    }
    check_upgraded(&Store::open_sqlite(&path).await.unwrap()).await;
}

#[tokio::test]
async fn a_postgres_store_of_an_earlier_release_opens_migrates_and_keeps_its_data() {
    let Ok(admin) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "跳过：未设置 NIANBAO_TEST_DATABASE_URL，不测试 PostgreSQL 上旧版数据库的升级"
        );
        return;
    };
    // A database of its own: the earlier schema cannot share one with the current schema.
    let database = OwnDatabase::create(&admin, "upgrade");
    let url = database.url.clone();
    {
        let db = Database::open(&url, OpenOptions::default()).await.unwrap();
        write_earlier_release(&db).await;
        db.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    check_upgraded(&store).await;
    store.database().close().await;
}

#[tokio::test]
async fn a_backup_taken_in_use_opens_with_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("live.db"))
        .await
        .unwrap();
    let school = School {
        code: "bk".into(),
        name: "备份学校".into(),
        org_unit: OrgPath {
            province: "某省".into(),
            city: "某市".into(),
            district: "某区".into(),
        },
        report_year: year(2025),
        ..School::default()
    };
    let mut data = Dataset::new(school);
    data.set(FactKey::school(year(2025), "staff.total"), 639.0);
    store.save_dataset(&data, "tester").await.unwrap();

    let target = dir.path().join("备份 2025#1.db");
    store.backup(&target).await.unwrap();
    let again = store.backup(&target).await.unwrap_err();
    assert!(again.to_string().contains("已存在"), "{again}");

    let copy = Store::open_sqlite(&target).await.unwrap();
    assert_eq!(copy.load_dataset("bk").await.unwrap(), data);
    assert_eq!(
        copy.history("bk", 100).await.unwrap(),
        store.history("bk", 100).await.unwrap()
    );
}

#[tokio::test]
async fn a_restore_replaces_the_data_and_leaves_every_revision_above_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("live.db"))
        .await
        .unwrap();
    let school = School {
        code: "rs".into(),
        name: "恢复学校".into(),
        report_year: year(2025),
        ..School::default()
    };
    let mut data = Dataset::new(school);
    data.set(FactKey::school(year(2025), "staff.total"), 639.0);
    store.save_dataset(&data, "tester").await.unwrap();
    let target = dir.path().join("backup.db");
    store.backup(&target).await.unwrap();

    let mut later = data.clone();
    for value in [640.0, 641.0, 642.0] {
        later.set(FactKey::school(year(2025), "staff.total"), value);
        store.save_dataset(&later, "tester").await.unwrap();
    }
    let revision = store.revision("rs").await.unwrap();

    let refused = store.restore(&target, false).await.unwrap_err();
    assert!(refused.to_string().contains("--force"), "{refused}");
    assert_eq!(store.load_dataset("rs").await.unwrap(), later);

    let restored = store.restore(&target, true).await.unwrap();
    assert_eq!((restored.schools, restored.facts), (1, 1));
    assert_eq!(store.load_dataset("rs").await.unwrap(), data);
    assert!(
        store.revision("rs").await.unwrap() > revision,
        "results kept for the replaced data are never taken for the restored data"
    );
}
