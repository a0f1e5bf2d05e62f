//! A batch audit's progress kept in the store, on SQLite and (when
//! `NIANBAO_TEST_DATABASE_URL` is set, else skipped with a notice) PostgreSQL: what the
//! process running a batch writes (reports done, heartbeat) is read through a second handle
//! on the same store while the batch is mid-way; a running batch whose heartbeat is older
//! than the bound is cut off and a recent one is not; a store of the release before the
//! progress columns opens with its batches, the one left running shown as cut off.

// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nianbao_bureau::areas::AreaTree;
use nianbao_core::clock;
use nianbao_store::{
    AUDIT_HEARTBEAT, AUDIT_SILENCE, AuditBatch, BatchState, Database, OpenOptions, Store,
    migrations,
};
use time::OffsetDateTime;

mod common;
use common::OwnDatabase;

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("t{nanos}")
}

/// Two handles on one store, as two processes hold it: the SQLite file opened twice, and the
/// PostgreSQL database connected to twice.
async fn two_handles() -> Vec<(&'static str, tempfile::TempDir, Store, Store)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("batches.db");
    let first = Store::open_sqlite(&path).await.unwrap();
    let second = Store::open_sqlite(&path).await.unwrap();
    let mut handles = vec![("SQLite", dir, first, second)];
    match std::env::var("NIANBAO_TEST_DATABASE_URL") {
        Ok(url) => handles.push((
            "PostgreSQL",
            tempfile::tempdir().unwrap(),
            Store::open(&url).await.unwrap(),
            Store::open(&url).await.unwrap(),
        )),
        Err(_) => {
            let _ = writeln!(
                std::io::stderr(),
                "跳过 PostgreSQL：未设置 NIANBAO_TEST_DATABASE_URL，只在 SQLite 上测试批量审核的进度"
            );
        }
    }
    handles
}

/// A district of its own in the store; its code.
async fn district(store: &Store) -> String {
    let p = unique();
    let tree = AreaTree::parse(
        "areas.toml",
        &format!(
            "[[province]]\ncode = \"{p}-p\"\nname = \"测试省\"\n\n\
             [[city]]\ncode = \"{p}-c\"\nname = \"测试市\"\nprovince = \"{p}-p\"\n\n\
             [[district]]\ncode = \"{p}-d\"\nname = \"甲区\"\ncity = \"{p}-c\"\n"
        ),
    )
    .unwrap();
    store.load_areas(&tree).await.unwrap();
    format!("{p}-d")
}

/// The batch as `store` reads it, in its area's list (as the list page reads it).
async fn listed(store: &Store, area: &str, id: i64) -> AuditBatch {
    store
        .audit_batches(area)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.id == id)
        .unwrap()
}

/// Waits up to `bound` for the batch, read through `store`, to meet `done`.
async fn until(
    store: &Store,
    id: i64,
    bound: Duration,
    done: impl Fn(&AuditBatch) -> bool,
) -> AuditBatch {
    let start = Instant::now();
    loop {
        let batch = store.audit_batch(id).await.unwrap().unwrap();
        if done(&batch) {
            return batch;
        }
        assert!(
            start.elapsed() < bound,
            "not within {bound:?}; last read: {batch:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sets a batch's heartbeat as a process would have written it at `at`.
async fn set_heartbeat(store: &Store, id: i64, at: Option<&str>) {
    let mut tx = store.database().write().await.unwrap();
    sqlx::query("UPDATE audit_batch SET heartbeat_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn ago(seconds: i64) -> String {
    clock::stored_time(OffsetDateTime::now_utc() - time::Duration::seconds(seconds))
}

#[tokio::test]
async fn a_running_batchs_progress_is_read_through_another_handle_while_it_runs() {
    for (label, _dir, running, other) in two_handles().await {
        let area = district(&running).await;
        let id = running
            .start_audit_batch(&area, "各校报告.zip", "tester", 5)
            .await
            .unwrap();
        // Started: none done, alive, as the other process reads it.
        let batch = listed(&other, &area, id).await;
        assert_eq!(batch.state, BatchState::Running, "{label}");
        assert_eq!((batch.audited, batch.reports), (0, 5), "{label}");
        assert!(batch.heartbeat_at.is_some(), "{label}: {batch:?}");
        assert!(
            batch.is_live() && !batch.is_interrupted(),
            "{label}: {batch:?}"
        );

        // The running process counts reports as they are done; the other reads how many.
        let done = Arc::new(AtomicUsize::new(0));
        let keeper = {
            let done = done.clone();
            running.keep_audit_progress(id, move || done.load(Ordering::SeqCst))
        };
        done.store(3, Ordering::SeqCst);
        let batch = until(&other, id, Duration::from_secs(10), |b| b.audited == 3).await;
        assert!(batch.is_live(), "{label}: {batch:?}");
        let batch = listed(&other, &area, id).await;
        assert_eq!((batch.audited, batch.reports), (3, 5), "{label}");
        assert!(batch.is_live(), "{label}: {batch:?}");

        // Nothing more is done for a while: the heartbeat goes on all the same.
        let seen = batch.heartbeat_at.clone().unwrap();
        let batch = until(&other, id, AUDIT_HEARTBEAT * 2, |b| {
            b.heartbeat_at.as_deref() > Some(seen.as_str())
        })
        .await;
        assert_eq!(batch.audited, 3, "{label}");
        assert!(batch.is_live(), "{label}: {batch:?}");

        // Stopped, then finished: every report counted, no longer running.
        done.store(5, Ordering::SeqCst);
        keeper.stop().await;
        running
            .finish_audit_batch(id, Ok(r#"{"reports":[],"skipped":[]}"#))
            .await
            .unwrap();
        let batch = other.audit_batch(id).await.unwrap().unwrap();
        assert_eq!(batch.state, BatchState::Done, "{label}");
        assert_eq!(batch.audited, 5, "{label}");
        assert!(
            !batch.is_live() && !batch.is_interrupted(),
            "{label}: {batch:?}"
        );
        // A write of a keeper that outlived its batch changes nothing.
        running.record_audit_progress(id, 1).await.unwrap();
        assert_eq!(other.audit_batch(id).await.unwrap().unwrap().audited, 5);
    }
}

#[tokio::test]
async fn a_keeper_dropped_without_stopping_stops_its_heartbeat() {
    for (label, _dir, running, other) in two_handles().await {
        let area = district(&running).await;
        let id = running
            .start_audit_batch(&area, "各校报告.zip", "tester", 2)
            .await
            .unwrap();
        let keeper = running.keep_audit_progress(id, || 1);
        until(&other, id, Duration::from_secs(10), |b| b.audited == 1).await;
        drop(keeper);
        // Written long ago: a keeper still running would write a new heartbeat within
        // AUDIT_HEARTBEAT.
        let old = ago(3600);
        set_heartbeat(&running, id, Some(&old)).await;
        tokio::time::sleep(AUDIT_HEARTBEAT + Duration::from_secs(1)).await;
        let batch = other.audit_batch(id).await.unwrap().unwrap();
        assert_eq!(batch.heartbeat_at.as_deref(), Some(old.as_str()), "{label}");
        assert!(batch.is_interrupted(), "{label}: {batch:?}");
    }
}

#[tokio::test]
async fn a_stale_heartbeat_is_interrupted_and_a_recent_one_is_running() {
    for (label, _dir, store, other) in two_handles().await {
        let area = district(&store).await;
        let id = store
            .start_audit_batch(&area, "各校报告.zip", "tester", 4)
            .await
            .unwrap();
        store.record_audit_progress(id, 2).await.unwrap();

        // Heard of well within the bound: running.
        let recent = ago(AUDIT_SILENCE.as_secs() as i64 / 2);
        set_heartbeat(&store, id, Some(&recent)).await;
        let batch = listed(&other, &area, id).await;
        assert!(
            batch.is_live() && !batch.is_interrupted(),
            "{label}: {batch:?}"
        );
        assert_eq!(batch.audited, 2, "{label}");

        // Silent for longer than the bound: cut off, last seen at its heartbeat.
        let stale = ago(AUDIT_SILENCE.as_secs() as i64 + 30);
        set_heartbeat(&store, id, Some(&stale)).await;
        let batch = listed(&other, &area, id).await;
        assert!(
            batch.is_interrupted() && !batch.is_live(),
            "{label}: {batch:?}"
        );
        assert_eq!(batch.last_seen(), stale, "{label}");
        assert!(
            batch.silent_for > AUDIT_SILENCE.as_secs() as i64,
            "{label}: {batch:?}"
        );

        // A new heartbeat brings it back.
        store.record_audit_progress(id, 3).await.unwrap();
        let batch = other.audit_batch(id).await.unwrap().unwrap();
        assert!(batch.is_live(), "{label}: {batch:?}");
        assert_eq!(batch.audited, 3, "{label}");

        // A finished or failed batch is neither running nor cut off, however old.
        set_heartbeat(&store, id, Some(&stale)).await;
        store.finish_audit_batch(id, Err("读不出")).await.unwrap();
        set_heartbeat(&store, id, Some(&stale)).await;
        let batch = other.audit_batch(id).await.unwrap().unwrap();
        assert_eq!(batch.state, BatchState::Failed, "{label}");
        assert_eq!(batch.audited, 3, "{label}: a failed batch keeps its count");
        assert!(
            !batch.is_live() && !batch.is_interrupted(),
            "{label}: {batch:?}"
        );
    }
}

/// The migrations of the release before the progress columns.
fn before_progress(db: &Database) -> &'static [&'static str] {
    let all = migrations(db.backend());
    let progress = all
        .iter()
        .position(|m| m.contains("ADD COLUMN heartbeat_at"))
        .expect("a migration adds the heartbeat");
    &all[..progress]
}

/// Writes a store of the release before the progress columns: a district, a batch that
/// finished and one left running (its process stopped), as that release wrote them.
async fn write_earlier_release(db: &Database) {
    db.migrate("schema_version", 4242, before_progress(db))
        .await
        .unwrap();
    let mut tx = db.write().await.unwrap();
    for statement in [
        "INSERT INTO area (code, name, level, parent_code) VALUES ('old-d', '旧区', 'district', NULL)",
        "INSERT INTO audit_batch (area_code, file_name, uploaded_by, uploaded_at, reports, state, result) \
         VALUES ('old-d', 'done.zip', 'old', '2026-01-05T08:30:00Z', 2, 'done', '{\"reports\":[],\"skipped\":[]}')",
        "INSERT INTO audit_batch (area_code, file_name, uploaded_by, uploaded_at, reports, state) \
         VALUES ('old-d', 'cut.zip', 'old', '2026-01-05T09:00:00Z', 3, 'running')",
    ] {
        sqlx::query(statement).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The earlier batches after the upgrade: the finished one as it was, the one left running
/// cut off, last seen at its upload; a new batch keeps its progress.
async fn check_upgraded(label: &str, store: &Store) {
    assert_eq!(
        store.schema_version().await.unwrap(),
        migrations(store.backend()).len() as i64,
        "{label}"
    );
    let batches = store.audit_batches("old-d").await.unwrap();
    assert_eq!(batches.len(), 2, "{label}: {batches:?}");
    let (cut, done) = (&batches[0], &batches[1]);
    assert_eq!(done.file_name, "done.zip", "{label}");
    assert_eq!(done.state, BatchState::Done, "{label}");
    assert!(!done.is_interrupted(), "{label}: {done:?}");
    assert_eq!(cut.file_name, "cut.zip", "{label}");
    assert_eq!(
        (cut.audited, cut.heartbeat_at.as_deref()),
        (0, None),
        "{label}"
    );
    assert!(cut.is_interrupted(), "{label}: {cut:?}");
    assert_eq!(cut.last_seen(), "2026-01-05T09:00:00Z", "{label}");
    let id = store
        .start_audit_batch("old-d", "new.zip", "tester", 3)
        .await
        .unwrap();
    assert!(id > cut.id, "{label}");
    store.record_audit_progress(id, 2).await.unwrap();
    let batch = store.audit_batch(id).await.unwrap().unwrap();
    assert_eq!(batch.audited, 2, "{label}");
    assert!(batch.is_live(), "{label}: {batch:?}");
}

#[tokio::test]
async fn a_sqlite_store_of_the_release_before_progress_migrates_with_its_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("earlier.db");
    {
        let db = Database::open_sqlite(&path, OpenOptions::default())
            .await
            .unwrap();
        write_earlier_release(&db).await;
        db.close().await;
    }
    check_upgraded("SQLite", &Store::open_sqlite(&path).await.unwrap()).await;
}

#[tokio::test]
async fn a_postgres_store_of_the_release_before_progress_migrates_with_its_batches() {
    let Ok(admin) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "跳过：未设置 NIANBAO_TEST_DATABASE_URL，不测试 PostgreSQL 上批量审核进度列的迁移"
        );
        return;
    };
    // A database of its own: the earlier schema cannot share one with the current schema.
    let database = OwnDatabase::create(&admin, "batchprog");
    let url = database.url.clone();
    {
        let db = Database::open(&url, OpenOptions::default()).await.unwrap();
        write_earlier_release(&db).await;
        db.close().await;
    }
    let store = Store::open(&url).await.unwrap();
    check_upgraded("PostgreSQL", &store).await;
    store.database().close().await;
}
