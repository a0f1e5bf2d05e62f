//! Many writers and readers on one store at once. Several `Store`s opened on one SQLite file
//! stand for several processes (each has its own writer connection, so they meet at the
//! file's lock, as processes do); clones of one `Store` stand for the requests of one web
//! server. Every write must succeed and be in the change log, and a write that cannot get
//! the lock within its bound must fail as "busy" with nothing saved. The same load runs on
//! PostgreSQL when `NIANBAO_TEST_DATABASE_URL` names a server.

// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::time::{Duration, Instant};

use nianbao_core::{Dataset, FactKey, Finding, Location, OrgPath, School, Severity, Year};
use nianbao_store::{Database, OpenOptions, Store, StoreError};

fn year(y: i64) -> Year {
    Year::new(y).unwrap()
}

/// A school with `facts` facts whose values all equal `value`.
fn dataset(code: &str, facts: usize, value: f64) -> Dataset {
    let school = School {
        code: code.into(),
        name: format!("并发测试学校{code}"),
        org_unit: OrgPath {
            province: "某省".into(),
            city: "某市".into(),
            district: "某区".into(),
        },
        report_year: year(2025),
        ..School::default()
    };
    let mut data = Dataset::new(school);
    for i in 0..facts {
        data.set(FactKey::school(year(2025), format!("test.e{i}")), value);
    }
    data
}

fn warning(n: usize) -> Finding {
    Finding {
        rule: format!("test.rule{n}"),
        severity: Severity::Warning,
        section: String::new(),
        message: "测试".into(),
        locations: vec![Location {
            year: Some(year(2025)),
            ..Location::default()
        }],
    }
}

fn code(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}-{nanos}")
}

/// Four "processes" with two writers and a reader each, all on one database: every write
/// succeeds, every read sees a whole dataset (all facts old or all new), and the change log
/// holds every acceptance that was reported saved.
async fn mixed_load(open: impl AsyncFn() -> Store) {
    const PROCESSES: usize = 4;
    const ROUNDS: usize = 12;
    const FACTS: usize = 40;
    let school = code("busy");
    let first = open().await;
    first
        .save_dataset(&dataset(&school, FACTS, 1.0), "setup")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for p in 0..PROCESSES {
        let store = open().await;
        // An importer: replaces the whole dataset, flipping every value between 1 and 2.
        let (s, c) = (store.clone(), school.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                let value = if (round + p) % 2 == 0 { 2.0 } else { 1.0 };
                s.save_dataset(&dataset(&c, FACTS, value), &format!("import{p}"))
                    .await
                    .map(|_| 0)?;
            }
            Ok::<usize, StoreError>(0)
        }));
        // An accepter: one acceptance per round, each with its own explanation.
        let (s, c) = (store.clone(), school.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                s.accept(&c, &warning(p), &format!("说明{p}-{round}"), "accepter")
                    .await?;
            }
            Ok(0)
        }));
        // A reader: every dataset it reads is whole.
        let (s, c) = (store.clone(), school.clone());
        tasks.push(tokio::spawn(async move {
            let mut torn = 0;
            for _ in 0..ROUNDS * 2 {
                let data = s.load_dataset(&c).await?;
                let values: std::collections::BTreeSet<u64> =
                    data.facts.values().map(|v| v.to_bits()).collect();
                if data.facts.len() != FACTS || values.len() != 1 {
                    torn += 1;
                }
            }
            Ok(torn)
        }));
    }
    let mut failures = Vec::new();
    let mut torn = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(n) => torn += n,
            Err(e) => failures.push(e.to_string()),
        }
    }
    assert_eq!(failures, Vec::<String>::new(), "writes failed under load");
    assert_eq!(torn, 0, "a reader saw a half-written dataset");
    let logged = first
        .history(&school, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.entity == "acceptance")
        .count();
    assert_eq!(
        logged,
        PROCESSES * ROUNDS,
        "every acceptance is in the change log"
    );
    let accepted = first.acceptances(&school).await.unwrap();
    assert_eq!(accepted.len(), PROCESSES);
    for a in &accepted {
        assert!(
            a.explanation.ends_with(&format!("-{}", ROUNDS - 1)),
            "{a:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_and_readers_in_several_processes_on_one_sqlite_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy store.db");
    mixed_load(async || Store::open_sqlite(&path).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_and_readers_on_postgresql_all_succeed() {
    let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "跳过：未设置 NIANBAO_TEST_DATABASE_URL，不测试 PostgreSQL 上的并发写入"
        );
        return;
    };
    mixed_load(async || Store::open(&url).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_of_one_process_queue_for_its_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("queue.db"))
        .await
        .unwrap();
    let school = code("queue");
    store
        .save_dataset(&dataset(&school, 5, 1.0), "setup")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let (s, c) = (store.clone(), school.clone());
            tokio::spawn(async move { s.accept(&c, &warning(n), "排队", "web").await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(store.acceptances(&school).await.unwrap().len(), 32);
}

#[tokio::test]
async fn a_write_that_cannot_get_the_lock_in_time_is_busy_and_saves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let school = code("locked");
    let store = Store::open_with(
        &nianbao_store::sqlite_url(&path).unwrap(),
        OpenOptions {
            busy_timeout: Duration::from_millis(300),
        },
    )
    .await
    .unwrap();
    store
        .save_dataset(&dataset(&school, 5, 1.0), "setup")
        .await
        .unwrap();

    // Another "process" holds the write lock and does not let go.
    let other = Database::open_sqlite(&path, OpenOptions::default())
        .await
        .unwrap();
    let held = other.write().await.unwrap();

    let started = Instant::now();
    let error = store
        .save_dataset(&dataset(&school, 5, 9.0), "blocked")
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(error, StoreError::Busy), "{error:?}");
    assert!(
        waited >= Duration::from_millis(250),
        "gave up after {waited:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("正忙") && message.contains("没有保存"),
        "{message}"
    );
    assert!(!message.contains("locked"), "{message}");

    // Reads go on while the lock is held, and see nothing of the refused write.
    let data = store.load_dataset(&school).await.unwrap();
    assert!(data.facts.values().all(|v| *v == 1.0));
    drop(held);

    // Once the lock is free the same write goes through.
    store
        .save_dataset(&dataset(&school, 5, 9.0), "unblocked")
        .await
        .unwrap();
    let data = store.load_dataset(&school).await.unwrap();
    assert!(data.facts.values().all(|v| *v == 9.0));
    assert!(
        store
            .history(&school, 1000)
            .await
            .unwrap()
            .iter()
            .all(|c| c.actor != "blocked")
    );
}

#[tokio::test]
async fn a_store_file_with_spaces_and_url_characters_in_its_name_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a b?c%d#e.db");
    let school = code("odd");
    {
        let store = Store::open_sqlite(&path).await.unwrap();
        store
            .save_dataset(&dataset(&school, 3, 1.0), "tester")
            .await
            .unwrap();
        store.database().close().await;
    }
    assert!(path.is_file(), "the file keeps its exact name");
    let store = Store::open_sqlite(&path).await.unwrap();
    assert_eq!(store.load_dataset(&school).await.unwrap().facts.len(), 3);
}
