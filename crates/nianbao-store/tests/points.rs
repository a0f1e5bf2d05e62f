//! The points store on SQLite (and on PostgreSQL when NIANBAO_TEST_DATABASE_URL is set):
//! imports are all-or-nothing with each bad row named, the database's own GROUP BY agrees
//! with the columnar aggregation, events are append-only, new tree versions leave old events
//! alone, and award lists come with reasons.

// A skipped test's notice is written to stderr itself, which the test harness does not
// capture, so that `cargo test` shows it.
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use nianbao_points::Tree;
use nianbao_points::aggregate::{self, Span};
use nianbao_points::awards::{RulesFile, annual_figures, evaluate};
use nianbao_points::ledger::{EventReader, days_from_civil, read_events_csv};
use nianbao_points::roster::read_roster_csv;
use nianbao_points::synth::{self, SynthConfig};
use nianbao_store::points::{PointsError, PointsStore, SchoolLedger};

/// The report year of the schools the tests create.
fn year() -> nianbao_core::Year {
    nianbao_core::Year::new(2025).expect("year")
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique school code, since PostgreSQL test databases are shared between test binaries.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{name}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A new school with the sample observation tree, the synthetic roster of `cfg` and its
/// terms: returns the school's code and the roster.
async fn synthetic_school(
    store: &PointsStore,
    prefix: &str,
    cfg: &SynthConfig,
) -> (String, Vec<nianbao_points::roster::Student>) {
    let code = unique(prefix);
    store
        .ensure_school(&code, "模拟学校", year(), "test")
        .await
        .expect("school");
    store
        .load_tree(&code, &Tree::sample(), "test")
        .await
        .expect("tree");
    let roster = synth::roster(cfg);
    store.import_roster(&code, &roster).await.expect("roster");
    for (term, year, from, to) in synth::terms(cfg) {
        store
            .define_period(&code, &term, year, from, to)
            .await
            .expect("term");
    }
    (code, roster)
}

/// Every backend to test: SQLite always, PostgreSQL when configured.
async fn stores(dir: &Path) -> Vec<PointsStore> {
    let mut out = vec![
        PointsStore::open_sqlite(&dir.join("points.db"))
            .await
            .expect("sqlite"),
    ];
    if let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") {
        out.push(
            PointsStore::open(&url, Some(dir.join("pg-cache")))
                .await
                .expect("postgres"),
        );
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

const ROSTER: &str = "学号,姓名,班级,专业,专业部,入学年份
2025001,张明,2025级汽修1班,汽车运用与维修,汽车工程部,2025
2025002,李华,2025级汽修1班,汽车运用与维修,汽车工程部,2025
2025003,王芳,2025级电商1班,电子商务,信息技术部,2025
2024001,赵强,2024级电商1班,电子商务,信息技术部,2024
";

const HEADER: &str = "事件编号,学号,观测点,分值,记录人,记录角色,时间,事由,佐证,冲销事件\n";

/// A school with the sample tree, the four students above and two terms of 2025.
async fn school(store: &PointsStore, dir: &Path, name: &str) -> String {
    let code = unique(name);
    store
        .ensure_school(&code, "测试学校", year(), "test")
        .await
        .expect("school");
    store
        .load_tree(&code, &Tree::sample(), "test")
        .await
        .expect("tree");
    let roster = read_roster_csv(&write(dir, "roster.csv", ROSTER)).expect("roster");
    store
        .import_roster(&code, &roster)
        .await
        .expect("roster import");
    store
        .define_period(
            &code,
            "2025-2026-1",
            2025,
            days_from_civil(2025, 9, 1),
            days_from_civil(2026, 1, 20),
        )
        .await
        .expect("term 1");
    store
        .define_period(
            &code,
            "2025-2026-2",
            2025,
            days_from_civil(2026, 2, 20),
            days_from_civil(2026, 7, 10),
        )
        .await
        .expect("term 2");
    code
}

const GOOD: &str = "E1,2025001,C01.1.1,,T01,班主任,2025-09-08 07:50,升旗仪式,,
E2,2025001,C08.2.4,15,T02,德育处,2025-10-12 10:00,市级技能竞赛二等奖,获奖证书.pdf,
E3,2025002,C03.2.1,,T01,班主任,2025-09-09 08:10,迟到,,
E4,2025003,C06.1.1,,T03,任课教师,2025-11-02 09:00,计算机等级证书,证书.jpg,
E5,2025002,,,T01,班主任,2025-09-10 08:00,误记，予以冲销,,E3
E6,2024001,C07.1.1,,T04,班主任,2026-03-02 17:00,值日,,
";

/// Imports a CSV text (with header) into a school; returns the result.
async fn import(
    store: &PointsStore,
    dir: &Path,
    code: &str,
    name: &str,
    body: &str,
) -> Result<nianbao_store::points::ImportSummary, PointsError> {
    let path = write(dir, name, &format!("{HEADER}{body}"));
    let rows = read_events_csv(&path)?;
    let mut sl = store.open_ledger(code).await?;
    let summary = store.append(&mut sl, name, &rows, "test").await?;
    store.save_cache(&sl).await?;
    Ok(summary)
}

/// Imports `body` expecting refusal; asserts the first error's row and column and that the
/// number of events did not change. Returns the message.
async fn refused(
    store: &PointsStore,
    dir: &Path,
    code: &str,
    body: &str,
    row: usize,
    column: &str,
) -> String {
    let id = store.school_id(code).await.expect("id");
    let before = store.count_events(id).await.expect("count");
    let err = import(store, dir, code, "bad.csv", body)
        .await
        .expect_err("must be refused");
    let PointsError::Rejected(rejected) = &err else {
        panic!("expected a rejected batch, got {err}");
    };
    let first = &rejected.errors[0];
    assert_eq!(first.row, row, "{err}");
    assert_eq!(first.column.as_deref(), Some(column), "{err}");
    assert_eq!(
        store.count_events(id).await.expect("count"),
        before,
        "nothing partially imported"
    );
    err.to_string()
}

#[tokio::test]
async fn import_and_aggregate_agree_with_sql() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "agg").await;
        let summary = import(&store, dir.path(), &code, "good.csv", GOOD)
            .await
            .expect("import");
        assert_eq!((summary.events, summary.reversals), (6, 1));
        let sl = store.open_ledger(&code).await.expect("ledger");
        let columnar = aggregate::student_dimensions(&sl.ledger, &Span::all());
        let mut from_sql = vec![[0i64; 8]; sl.ledger.roster.len()];
        for (student, dim, sum) in store
            .sql_student_dimensions(sl.school_id)
            .await
            .expect("sql")
        {
            from_sql[student as usize - 1][dim as usize] = sum;
        }
        assert_eq!(columnar, from_sql);
        let totals = aggregate::student_totals(&sl.ledger, &Span::all());
        // 张明: +1 (升旗) +15 (竞赛); 李华: -1 then reversed.
        assert_eq!(totals, vec![16, 0, 4, 1]);
        let history = store.history(&sl, 2, 10).await.expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].reverses, Some(3));
        // Second term only.
        let term2 = aggregate::student_totals(&sl.ledger, &Span::terms(vec![1]));
        assert_eq!(term2, vec![0, 0, 0, 1]);
    }
}

#[tokio::test]
async fn unknown_student_is_refused_with_its_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "stu").await;
        let body = "A1,2025001,C01.1.1,,T01,班主任,2025-09-08 07:50,升旗,,\nA2,2099999,C01.1.1,,T01,班主任,2025-09-08 07:50,升旗,,\n";
        let msg = refused(&store, dir.path(), &code, body, 3, "学号").await;
        assert!(msg.contains("2099999"), "{msg}");
    }
}

#[tokio::test]
async fn unknown_observation_is_refused_with_its_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "obs").await;
        let body = "B1,2025001,C99.9.9,,T01,班主任,2025-09-08 07:50,?,,\n";
        let msg = refused(&store, dir.path(), &code, body, 2, "观测点").await;
        assert!(msg.contains("C99.9.9"), "{msg}");
    }
}

#[tokio::test]
async fn values_outside_limits_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "lim").await;
        // C08.2.4 allows 10～20.
        let msg = refused(
            &store,
            dir.path(),
            &code,
            "C1,2025001,C08.2.4,25,T02,德育处,2025-10-12 10:00,竞赛,,\n",
            2,
            "分值",
        )
        .await;
        assert!(msg.contains("10～20"), "{msg}");
        // Once a day for 升旗 (C01.1.1).
        let twice = "C2,2025001,C01.1.1,,T01,班主任,2025-09-08 07:50,升旗,,\nC3,2025001,C01.1.1,,T01,班主任,2025-09-08 08:50,升旗,,\n";
        let msg = refused(&store, dir.path(), &code, twice, 3, "观测点").await;
        assert!(msg.contains("每日"), "{msg}");
        // A role that may not record it.
        let msg = refused(
            &store,
            dir.path(),
            &code,
            "C4,2025001,C01.1.1,,T01,宿管员,2025-09-08 07:50,升旗,,\n",
            2,
            "记录角色",
        )
        .await;
        assert!(msg.contains("宿管员"), "{msg}");
        // Per-term cap: C03.1.4 (-10) has a cap of 30; four times exceeds it.
        let many: String = (0..4)
            .map(|i| {
                format!(
                    "C5{i},2024001,C03.1.4,,T02,德育处,2025-10-{:02} 10:00,处分,,\n",
                    10 + i
                )
            })
            .collect();
        let msg = refused(&store, dir.path(), &code, &many, 5, "分值").await;
        assert!(msg.contains("每学期"), "{msg}");
    }
}

#[tokio::test]
async fn duplicate_event_ids_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "dup").await;
        import(&store, dir.path(), &code, "good.csv", GOOD)
            .await
            .expect("import");
        // Against an earlier batch.
        let again = "X1,2025003,C01.1.1,,T01,班主任,2025-09-15 07:50,升旗,,\nE2,2025003,C01.1.1,,T01,班主任,2025-09-16 07:50,升旗,,\n";
        let msg = refused(&store, dir.path(), &code, again, 3, "事件编号").await;
        assert!(msg.contains("E2"), "{msg}");
        // Within one batch.
        let twice = "Y1,2025003,C01.1.1,,T01,班主任,2025-09-15 07:50,升旗,,\nY1,2025003,C01.1.1,,T01,班主任,2025-09-16 07:50,升旗,,\n";
        refused(&store, dir.path(), &code, twice, 3, "事件编号").await;
        // Reversing twice.
        let msg = refused(
            &store,
            dir.path(),
            &code,
            "Z1,,,,T01,班主任,2025-09-20 08:00,再冲销,,E3\n",
            2,
            "冲销事件",
        )
        .await;
        assert!(msg.contains("已被冲销"), "{msg}");
    }
}

#[tokio::test]
async fn closed_term_refuses_events_and_reversals() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "close").await;
        import(&store, dir.path(), &code, "good.csv", GOOD)
            .await
            .expect("import");
        let closed = store
            .close(&code, Some("2025-2026-1"), None, "test")
            .await
            .expect("close");
        assert_eq!(closed, vec!["2025-2026-1".to_string()]);
        let msg = refused(
            &store,
            dir.path(),
            &code,
            "F1,2025001,C01.1.1,,T01,班主任,2025-12-01 07:50,升旗,,\n",
            2,
            "时间",
        )
        .await;
        assert!(
            msg.contains("已结账") && msg.contains("2025-2026-1"),
            "{msg}"
        );
        // A correction of a closed term's event is recorded in the open term.
        let fix = "F2,,,,T02,德育处,2026-03-01 09:00,更正上学期记录,,E2\n";
        import(&store, dir.path(), &code, "fix.csv", fix)
            .await
            .expect("reversal in open term");
        // Closing the year closes the rest; then nothing is accepted.
        store
            .close(&code, None, Some(2025), "test")
            .await
            .expect("close year");
        refused(
            &store,
            dir.path(),
            &code,
            "F3,2025001,C01.1.1,,T01,班主任,2026-03-02 07:50,升旗,,\n",
            2,
            "时间",
        )
        .await;
        assert!(
            store
                .close(&code, Some("2025-2026-2"), None, "test")
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn malformed_rows_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "csv").await;
        let bad_value = "G1,2025001,C01.1.1,,T01,班主任,2025-09-08 07:50,升旗,,\nG2,2025001,C01.1.1,两分,T01,班主任,2025-09-09 07:50,升旗,,\n";
        let msg = refused(&store, dir.path(), &code, bad_value, 3, "分值").await;
        assert!(msg.contains("两分"), "{msg}");
        let bad_time = "G3,2025001,C01.1.1,,T01,班主任,2025-13-08,升旗,,\n";
        refused(&store, dir.path(), &code, bad_time, 2, "时间").await;
        let outside = "G4,2025001,C01.1.1,,T01,班主任,2025-08-01 07:50,暑假,,\n";
        refused(&store, dir.path(), &code, outside, 2, "时间").await;
        // A short row has no column to name.
        let path = write(
            dir.path(),
            "short.csv",
            &format!("{HEADER}G5,2025001,C01.1.1\n"),
        );
        let err = read_events_csv(&path).expect_err("short row");
        assert_eq!(err.errors[0].row, 2);
        assert!(err.to_string().contains("只有 3 列"), "{err}");
    }
}

#[tokio::test]
async fn events_are_append_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "ro").await;
        import(&store, dir.path(), &code, "good.csv", GOOD)
            .await
            .expect("import");
        let mut tx = store.database().write().await.expect("write");
        let update = sqlx::query("UPDATE points_event SET value = 100 WHERE event_id = 'E1'")
            .execute(&mut *tx)
            .await;
        assert!(update.is_err(), "update must be refused");
        drop(tx);
        let mut tx = store.database().write().await.expect("write");
        let delete = sqlx::query("DELETE FROM points_event WHERE event_id = 'E1'")
            .execute(&mut *tx)
            .await;
        assert!(delete.is_err(), "delete must be refused");
    }
}

#[tokio::test]
async fn a_new_tree_version_leaves_old_events_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "ver").await;
        import(&store, dir.path(), &code, "good.csv", GOOD)
            .await
            .expect("import");
        let before = store.open_ledger(&code).await.expect("ledger");
        let before_dims = aggregate::student_dimensions(&before.ledger, &Span::all());
        // Version 2 from the second term: 升旗 is worth 2 and feeds 职业素质 too.
        let v2 = nianbao_points::tree::SAMPLE_TREE
            .replacen("version = 1", "version = 2", 1)
            .replacen(
                "effective = \"2025-09-01\"",
                "effective = \"2026-02-20\"",
                1,
            )
            .replacen(
                "value = 1\nper_day = 1\nper_term = 20\ndimensions = [\"爱国主义\"]",
                "value = 2\nper_day = 1\nper_term = 40\ndimensions = [\"爱国主义\", \"职业素质\"]",
                1,
            );
        let tree = Tree::from_toml(&v2, "v2.toml").expect("v2");
        store
            .load_tree(&code, &tree, "test")
            .await
            .expect("load v2");
        assert!(
            store.load_tree(&code, &tree, "test").await.is_err(),
            "same version twice"
        );
        let after = store.open_ledger(&code).await.expect("ledger");
        assert_eq!(
            aggregate::student_dimensions(&after.ledger, &Span::all()),
            before_dims
        );
        import(&store, dir.path(), &code, "v2.csv", "H1,2025001,C01.1.1,,T01,班主任,2026-03-02 07:50,升旗,,\nH2,2025001,C01.1.1,,T01,班主任,2025-09-15 07:50,补记,,\n")
            .await
            .expect("import under v2");
        let sl = store.open_ledger(&code).await.expect("ledger");
        let history = store.history(&sl, 1, 2).await.expect("history");
        assert_eq!(
            (history[0].tree_version, history[0].value),
            (1, 1),
            "backfilled event uses v1"
        );
        assert_eq!((history[1].tree_version, history[1].value), (2, 2));
        let mut from_sql = vec![[0i64; 8]; sl.ledger.roster.len()];
        for (student, dim, sum) in store
            .sql_student_dimensions(sl.school_id)
            .await
            .expect("sql")
        {
            from_sql[student as usize - 1][dim as usize] = sum;
        }
        assert_eq!(
            aggregate::student_dimensions(&sl.ledger, &Span::all()),
            from_sql
        );
    }
}

#[tokio::test]
async fn roster_errors_name_file_row_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "roster.csv",
        "学号,姓名,班级,专业,专业部,入学年份\n1,甲,一班,专业,部,2025\n2,,一班,专业,部,2025\n3,丙,一班,专业,部,二〇二五\n1,丁,一班,专业,部,2025\n",
    );
    let err = read_roster_csv(&bad).expect_err("bad roster");
    let found: Vec<(usize, Option<&str>)> = err
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_deref()))
        .collect();
    assert_eq!(
        found,
        vec![(3, Some("姓名")), (4, Some("入学年份")), (5, Some("学号"))]
    );
    assert!(err.to_string().contains("roster.csv"), "{err}");
    let id_numbers = write(
        dir.path(),
        "ids.csv",
        "学号,姓名,身份证号,班级,专业,专业部,入学年份\n",
    );
    let err = read_roster_csv(&id_numbers).expect_err("id numbers refused");
    assert_eq!(err.errors[0].column.as_deref(), Some("身份证号"));
}

#[tokio::test]
async fn cache_is_reused_and_stays_correct() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = PointsStore::open_sqlite(&dir.path().join("c.db"))
        .await
        .expect("store");
    let code = school(&store, dir.path(), "cache").await;
    import(&store, dir.path(), &code, "good.csv", GOOD)
        .await
        .expect("import");
    let first = store.open_ledger(&code).await.expect("ledger");
    let cache = PathBuf::from(format!(
        "{}.points-cache",
        dir.path().join("c.db").display()
    ));
    assert!(
        cache
            .join(format!("school-{}.columns", first.school_id))
            .exists()
    );
    // A second store over the same file appends without the cache knowing.
    let other = PointsStore::open(
        &format!("sqlite://{}", dir.path().join("c.db").display()),
        None,
    )
    .await
    .expect("second");
    let mut sl = other.open_ledger(&code).await.expect("ledger");
    let rows = read_events_csv(&write(
        dir.path(),
        "more.csv",
        &format!("{HEADER}K1,2025003,C01.1.1,,T01,班主任,2025-09-15 07:50,升旗,,\n"),
    ))
    .expect("csv");
    other
        .append(&mut sl, "more.csv", &rows, "test")
        .await
        .expect("append");
    let again = store.open_ledger(&code).await.expect("ledger");
    assert_eq!(again.ledger.columns.len(), 7);
    assert_eq!(
        aggregate::student_totals(&again.ledger, &Span::all()),
        vec![16, 0, 5, 1]
    );
}

#[tokio::test]
async fn synthetic_school_passes_checks_and_yields_awards() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let cfg = SynthConfig {
            students: 400,
            events: 30_000,
            seed: 7,
            first_year: 2025,
            years: 1,
            class_size: 45,
        };
        let (code, roster) = synthetic_school(&store, "syn", &cfg).await;
        let mut sl = store.open_ledger(&code).await.expect("ledger");
        let tree = Tree::sample();
        let mut generator = synth::EventGenerator::new(&cfg, &tree, &roster);
        let mut total = 0;
        loop {
            let rows = generator.next_batch(7_000);
            if rows.is_empty() {
                break;
            }
            total += store
                .append(&mut sl, "synth", &rows, "test")
                .await
                .expect("synthetic events pass")
                .events;
        }
        assert_eq!(total, 30_000);
        let c = &sl.ledger.columns;
        let negative = c.value.iter().filter(|v| **v < 0).count();
        assert!(negative > 0 && negative < total / 5, "{negative}");
        assert!(!c.reverses.is_empty());
        // Zipf-like: the busiest tenth of students has far more than a tenth of the events.
        let mut per_student = vec![0usize; roster.len()];
        for s in &c.student {
            per_student[*s as usize - 1] += 1;
        }
        per_student.sort_unstable_by(|a, b| b.cmp(a));
        let top: usize = per_student[..roster.len() / 10].iter().sum();
        assert!(top * 100 / total > 20, "top tenth has {top} of {total}");

        let rules = RulesFile::sample();
        let star = evaluate(
            &sl.ledger,
            &rules.rules[0],
            &Span::terms(vec![0]),
            2025,
            "2025-2026-1学期",
        );
        assert_eq!(star.name, "红匠之星");
        assert!(!star.listed.is_empty());
        for l in &star.listed {
            assert!(
                l.reasons.iter().any(|r| r.contains("法治教育无扣分")),
                "{:?}",
                l.reasons
            );
            assert!(l.rank <= (l.of as f64 * 0.05).ceil() as usize);
        }
        let figures = annual_figures(&sl.ledger, "模拟学校", 2025, &rules);
        assert_eq!(figures.events, total as u64);
        assert_eq!(
            (figures.competencies, figures.points, figures.observations),
            (15, 46, 235)
        );
        assert_eq!(
            figures.positive_events + figures.negative_events + figures.reversals,
            figures.events
        );
        assert_eq!(figures.dimension_averages.len(), 8);
        let json = serde_json::to_string(&figures).expect("json");
        assert!(json.contains("红匠之星"));
    }
}

/// Imports a CSV text (with header) from a file read two rows at a time, as one import.
async fn streamed(
    store: &PointsStore,
    sl: &mut SchoolLedger,
    dir: &Path,
    name: &str,
    body: &str,
) -> Result<nianbao_store::points::ImportSummary, PointsError> {
    let reader = EventReader::open(&write(dir, name, &format!("{HEADER}{body}")))?;
    store.import_events(sl, reader, 2, "test").await
}

/// The rejected batch of an import that must have been refused.
fn rejection(
    result: Result<nianbao_store::points::ImportSummary, PointsError>,
) -> nianbao_points::Rejected {
    match result {
        Err(PointsError::Rejected(rejected)) => rejected,
        Err(e) => panic!("expected a rejected batch, got {e}"),
        Ok(summary) => panic!("expected a rejected batch, got {summary:?}"),
    }
}

/// A file read two rows at a time is checked across its batches (a reversal of an event of
/// an earlier batch, a daily limit counted over batches) and recorded in one transaction:
/// a bad row in the last batch leaves nothing of the earlier ones, in the store or in memory.
#[tokio::test]
async fn streamed_import_is_one_transaction_across_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "stream").await;
        let id = store.school_id(&code).await.expect("id");
        let mut sl = store.open_ledger(&code).await.expect("ledger");

        // The last row reverses E3 a second time: refused, and E1…E5 with it.
        let bad = format!("{GOOD}E7,2025002,,,T01,班主任,2025-09-11 08:00,再次冲销,,E3\n");
        let rejected =
            rejection(streamed(&store, &mut sl, dir.path(), "stream-bad.csv", &bad).await);
        assert_eq!(rejected.errors[0].row, 8, "{rejected}");
        assert_eq!(rejected.errors[0].column.as_deref(), Some("冲销事件"));
        assert_eq!(store.count_events(id).await.expect("count"), 0);
        assert_eq!(sl.ledger.len(), 0, "the ledger in memory was rolled back");

        let summary = streamed(&store, &mut sl, dir.path(), "stream.csv", GOOD)
            .await
            .expect("import");
        assert_eq!((summary.events, summary.reversals), (6, 1));
        assert_eq!(store.count_events(id).await.expect("count"), 6);
        let fresh = store.open_ledger(&code).await.expect("ledger");
        assert_eq!(
            aggregate::student_totals(&fresh.ledger, &Span::all()),
            vec![16, 0, 4, 1]
        );
        assert_eq!(
            aggregate::student_totals(&sl.ledger, &Span::all()),
            vec![16, 0, 4, 1],
            "the ledger in memory equals the stored one"
        );
    }
}

/// An event id that a file repeats in a later batch than its first (the checks see one
/// batch at a time, the database refuses the second) is named with both rows, and nothing
/// is recorded; one recorded by an earlier import is named as such.
#[tokio::test]
async fn an_id_repeated_in_a_later_batch_of_the_file_is_named_with_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "dup-batches").await;
        let id = store.school_id(&code).await.expect("id");
        let mut sl = store.open_ledger(&code).await.expect("ledger");
        // Rows 2–3, 4–5, 6–7, 8–9: E2 (row 3) comes again in the last batch (row 9).
        let repeated = format!(
            "{GOOD}E7,2025003,C01.1.1,,T01,班主任,2025-09-22 07:50,升旗,,\nE2,2025003,C01.1.1,,T01,班主任,2025-09-23 07:50,升旗,,\n"
        );
        let rejected =
            rejection(streamed(&store, &mut sl, dir.path(), "repeated.csv", &repeated).await);
        assert!(rejected.file.ends_with("repeated.csv"), "{rejected}");
        assert_eq!(rejected.errors.len(), 1, "{rejected}");
        let error = &rejected.errors[0];
        assert_eq!(error.row, 9, "{rejected}");
        assert_eq!(error.column.as_deref(), Some("事件编号"), "{rejected}");
        assert!(
            error.message.contains("「E2」") && error.message.contains("第 3 行"),
            "{rejected}"
        );
        assert_eq!(store.count_events(id).await.expect("count"), 0);
        assert_eq!(sl.ledger.len(), 0, "the ledger in memory was rolled back");

        // Once E1…E6 are recorded, an id of theirs is named as recorded before.
        streamed(&store, &mut sl, dir.path(), "good.csv", GOOD)
            .await
            .expect("import");
        let again = "E8,2025003,C01.1.1,,T01,班主任,2025-09-22 07:50,升旗,,\nE9,2025003,C01.1.1,,T01,班主任,2025-09-23 07:50,升旗,,\nE4,2025003,C01.1.1,,T01,班主任,2025-09-24 07:50,升旗,,\n";
        let rejected = rejection(streamed(&store, &mut sl, dir.path(), "again.csv", again).await);
        assert_eq!(rejected.errors.len(), 1, "{rejected}");
        assert_eq!(rejected.errors[0].row, 4, "{rejected}");
        assert!(
            rejected.errors[0].message.contains("「E4」已经记录过"),
            "{rejected}"
        );
        assert_eq!(store.count_events(id).await.expect("count"), 6);
    }
}

/// The report's dataset carries the ledger's figures for the school year that begins in
/// each of its years, and nothing for a school without events.
#[tokio::test]
async fn the_report_dataset_carries_the_ledger_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let definitions = nianbao_core::Definitions::builtin().expect("definitions");
    for store in stores(dir.path()).await {
        let code = school(&store, dir.path(), "report").await;
        // The school needs a year in its dataset for the figures to be laid into.
        let mut data = store.store().load_dataset(&code).await.expect("dataset");
        data.set(nianbao_core::FactKey::school(year(), "staff.total"), 100.0);
        store
            .store()
            .save_dataset(&data, "test")
            .await
            .expect("save");
        let before = store
            .store()
            .load_dataset_with_registers(&code, &definitions)
            .await
            .expect("load");
        assert_eq!(before.value(year(), "register.points.events"), None);
        let revision = store.store().revision(&code).await.expect("revision");

        import(&store, dir.path(), &code, "good.csv", GOOD)
            .await
            .expect("import");
        assert!(
            store.store().revision(&code).await.expect("revision") > revision,
            "a points import changes the report's dataset, so it raises the school's revision"
        );
        let sl = store.open_ledger(&code).await.expect("ledger");
        let figures = annual_figures(&sl.ledger, &sl.name, 2025, &RulesFile::sample());
        let data = store
            .store()
            .load_dataset_with_registers(&code, &definitions)
            .await
            .expect("load");
        // Read with many schools at once, the school carries the same figures.
        let codes = std::collections::BTreeSet::from([code.clone()]);
        let many = store
            .store()
            .load_datasets(Some(&codes), &definitions)
            .await
            .expect("load many");
        assert_eq!(many, vec![data.clone()]);
        let v = |element: &str| data.value(year(), element);
        assert_eq!(v("register.points.events"), Some(6.0));
        assert_eq!(v("register.points.reversals"), Some(1.0));
        assert_eq!(
            v("register.points.students_evaluated"),
            Some(figures.students_evaluated as f64)
        );
        assert_eq!(v("register.points.students_on_roll"), Some(4.0));
        assert_eq!(
            v("register.points.average_total"),
            Some(figures.average_total)
        );
        let craft = figures
            .dimension_averages
            .iter()
            .find(|d| d.dimension == "工匠精神")
            .expect("工匠精神");
        assert_eq!(
            v("register.points.dimension.craftsmanship.average"),
            Some(craft.average)
        );
        assert_eq!(
            v("register.points.award.hongjiang_star.students"),
            Some(figures.awards[0].students as f64)
        );
    }
}

/// The bulk path of an import (on SQLite the per-student index dropped and rebuilt in the
/// transaction, rows inserted many at a time) stores exactly the events that the ledger's
/// rules, applied in memory one batch after another, produce from the same file: same
/// sequence numbers, ids, students, observations, values, terms and reversals. A refused
/// bulk import leaves no event and the index as it was.
#[tokio::test]
async fn bulk_import_stores_what_the_rules_produce_in_memory() {
    use nianbao_points::Ledger;
    use nianbao_points::columns::Columns;
    use nianbao_points::ledger::EventWriter;
    use sqlx::Row;

    let dir = tempfile::tempdir().expect("tempdir");
    for mut store in stores(dir.path()).await {
        store.set_rebuild_index_from(1_000);
        let cfg = SynthConfig {
            students: 300,
            events: 12_000,
            seed: 11,
            first_year: 2025,
            years: 1,
            class_size: 45,
        };
        let (code, roster) = synthetic_school(&store, "bulk", &cfg).await;
        let tree = Tree::sample();
        let mut generator = synth::EventGenerator::new(&cfg, &tree, &roster);
        let path = dir.path().join(format!("{code}.csv"));
        let mut writer = EventWriter::new(std::fs::File::create(&path).expect("csv")).expect("w");
        writer
            .write(&generator.next_batch(cfg.events))
            .expect("rows");
        writer.finish().expect("flush");

        let mut sl = store.open_ledger(&code).await.expect("ledger");
        let id = sl.school_id;
        let student_index = "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('points_event_student', 'points_event_recorder')";
        let sqlite = store.backend() == nianbao_store::Backend::Sqlite;

        // A bad last row: refused whole, the index kept.
        let bad = dir.path().join(format!("{code}-bad.csv"));
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str("X-1,9999999,C01.1.1,,T01,班主任,2025-09-11 08:00,,,\n");
        std::fs::write(&bad, text).expect("write");
        let reader = EventReader::open(&bad).expect("open");
        let err = store
            .import_events(&mut sl, reader, 3_000, "test")
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("9999999"), "{err}");
        assert_eq!(store.count_events(id).await.expect("count"), 0);
        if sqlite {
            let n: i64 = sqlx::query(student_index)
                .fetch_one(store.database().reader())
                .await
                .expect("index")
                .get(0);
            assert_eq!(n, 2, "the refused import left the indexes in place");
        }

        // The reference: the same rows through the ledger's rules in memory.
        let mut reference = Ledger::new(
            sl.ledger.catalog.clone(),
            sl.ledger.roster.clone(),
            sl.ledger.periods.clone(),
            Columns::default(),
            true,
        );
        let mut expected = Vec::new();
        let mut rows = EventReader::open(&path).expect("open");
        while let Some(batch) = rows.next_batch(3_000).expect("rows") {
            expected.extend(
                reference
                    .record("reference", &batch)
                    .expect("the rules pass"),
            );
        }
        assert!(expected.iter().any(|e| e.reverses.is_some()));

        let reader = EventReader::open(&path).expect("open");
        let summary = store
            .import_events(&mut sl, reader, 3_000, "test")
            .await
            .expect("import");
        assert_eq!(summary.events, expected.len());
        let stored = sqlx::query(
            "SELECT seq, event_id, student_id, tree_version, observation, value, at, period_id, \
             recorder, role, reason, evidence, reverses FROM points_event WHERE school_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(store.database().reader())
        .await
        .expect("rows");
        assert_eq!(stored.len(), expected.len());
        for (r, e) in stored.iter().zip(&expected) {
            let got = (
                r.get::<i64, _>(0),
                r.get::<String, _>(1),
                r.get::<i64, _>(2),
                r.get::<i64, _>(3),
                r.get::<i64, _>(4),
                r.get::<i64, _>(5),
                r.get::<String, _>(6),
                r.get::<i64, _>(7),
                (
                    r.get::<String, _>(8),
                    r.get::<String, _>(9),
                    r.get::<String, _>(10),
                ),
                r.get::<Option<String>, _>(11),
                r.get::<Option<i64>, _>(12),
            );
            let want = (
                i64::from(e.seq),
                e.event_id.clone(),
                i64::from(e.student),
                i64::from(e.tree_version),
                i64::from(e.observation),
                i64::from(e.value),
                e.at.to_string(),
                sl.ledger.periods[e.period].id,
                (e.recorder.clone(), e.role.clone(), e.reason.clone()),
                e.evidence.clone(),
                e.reverses.map(i64::from),
            );
            assert_eq!(got, want);
        }
        if sqlite {
            let n: i64 = sqlx::query(student_index)
                .fetch_one(store.database().reader())
                .await
                .expect("index")
                .get(0);
            assert_eq!(n, 2, "the indexes were built again");
        }
        let fresh = store.open_ledger(&code).await.expect("ledger");
        assert_eq!(
            aggregate::student_totals(&fresh.ledger, &Span::all()),
            aggregate::student_totals(&reference, &Span::all())
        );
        // A student's history (read through the rebuilt index) holds their events.
        let student = expected[0].student;
        let history = store
            .history(&fresh, student, 10_000)
            .await
            .expect("history");
        let theirs = expected.iter().filter(|e| e.student == student).count();
        assert_eq!(history.len(), theirs);
        // So does a teacher's own list (read through the rebuilt per-recorder index).
        let recorder = &expected[0].recorder;
        let mine = store
            .recorded_by(&fresh, recorder, 100_000)
            .await
            .expect("recorded by");
        let theirs = expected.iter().filter(|e| &e.recorder == recorder).count();
        assert_eq!(mine.len(), theirs);
    }
}

/// A synthetic school (see [`synthetic_school`]) and a file of `cfg.events` synthetic
/// events (reversals among them) for it, written to `dir`.
async fn synthetic_file(store: &PointsStore, dir: &Path, cfg: &SynthConfig) -> (String, PathBuf) {
    use nianbao_points::ledger::EventWriter;
    let (code, roster) = synthetic_school(store, "copy", cfg).await;
    let tree = Tree::sample();
    let mut generator = synth::EventGenerator::new(cfg, &tree, &roster);
    let path = dir.join(format!("{code}.csv"));
    let mut writer = EventWriter::new(std::fs::File::create(&path).expect("csv")).expect("w");
    writer
        .write(&generator.next_batch(cfg.events))
        .expect("rows");
    writer.finish().expect("flush");
    (code, path)
}

/// Every stored event of a school in order, each column as text (NULL as "∅").
async fn stored_events(store: &PointsStore, code: &str) -> Vec<Vec<String>> {
    use sqlx::Row;
    let id = store.school_id(code).await.expect("id");
    let rows = sqlx::query(
        "SELECT CAST(e.seq AS TEXT), e.event_id, CAST(e.student_id AS TEXT), CAST(e.school_year AS TEXT), \
         CAST(tree_version AS TEXT), CAST(observation AS TEXT), CAST(value AS TEXT), at, \
         p.code, recorder, role, reason, COALESCE(evidence, '∅'), COALESCE(CAST(reverses AS TEXT), '∅') \
         FROM points_event e JOIN points_period p ON p.id = e.period_id WHERE e.school_id = $1 ORDER BY e.seq",
    )
    .bind(id)
    .fetch_all(store.database().reader())
    .await
    .expect("rows");
    rows.iter()
        .map(|r| (0..14).map(|i| r.get::<String, _>(i)).collect())
        .collect()
}

/// On PostgreSQL the import writes each batch with COPY on a connection of PostgreSQL's own
/// type: the stored events equal those the SQLite path stores from the same file (values,
/// texts with tabs, backslashes and line breaks, NULLs, reversals, terms), and a file whose
/// last row is refused, or whose id was recorded before, leaves nothing.
#[tokio::test]
async fn copy_on_postgres_stores_what_sqlite_stores() {
    let Ok(url) = std::env::var("NIANBAO_TEST_DATABASE_URL") else {
        let _ = writeln!(
            std::io::stderr(),
            "skipped: NIANBAO_TEST_DATABASE_URL is not set (PostgreSQL)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = PointsStore::open_sqlite(&dir.path().join("points.db"))
        .await
        .expect("sqlite");
    let postgres = PointsStore::open(&url, Some(dir.path().join("pg-cache")))
        .await
        .expect("postgres");
    let cfg = SynthConfig {
        students: 200,
        events: 25_000,
        seed: 5,
        first_year: 2025,
        years: 1,
        class_size: 45,
    };
    let mut stored = Vec::new();
    for store in [&sqlite, &postgres] {
        let (code, path) = synthetic_file(store, dir.path(), &cfg).await;
        // Texts COPY must escape, in the reason and the evidence of a few rows.
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for (i, line) in lines.iter_mut().enumerate().skip(1).step_by(997) {
            let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
            cells[7] = format!("\"第{i}行\t制表\\反斜杠\n换行\"");
            cells[8] = "C:\\证书\\N.pdf".into();
            *line = cells.join(",");
        }
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");

        let mut sl = store.open_ledger(&code).await.expect("ledger");
        let id = sl.school_id;
        // A refused last row leaves nothing, after several batches were written.
        let bad = dir.path().join(format!("{code}-bad.csv"));
        std::fs::write(
            &bad,
            format!(
                "{}X-1,9999999,C01.1.1,,T01,班主任,2025-09-11 08:00,,,\n",
                lines.join("\n") + "\n"
            ),
        )
        .expect("write");
        let err = store
            .import_events(
                &mut sl,
                EventReader::open(&bad).expect("open"),
                10_000,
                "test",
            )
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("9999999"), "{err}");
        assert_eq!(store.count_events(id).await.expect("count"), 0);

        let summary = store
            .import_events(
                &mut sl,
                EventReader::open(&path).expect("open"),
                10_000,
                "test",
            )
            .await
            .expect("import");
        assert_eq!(summary.events, cfg.events);
        assert!(summary.reversals > 0);

        // A row that passes every check but whose id was recorded before: refused by the
        // database's unique index (during COPY on PostgreSQL), named, nothing more stored.
        let mut cells: Vec<&str> = lines[1].split(',').collect();
        cells[6] = "2026-07-10 23:00:00";
        let again = dir.path().join(format!("{code}-again.csv"));
        std::fs::write(&again, format!("{}\n{}\n", lines[0], cells.join(","))).expect("write");
        let err = store
            .import_events(
                &mut sl,
                EventReader::open(&again).expect("open"),
                10_000,
                "test",
            )
            .await
            .expect_err("duplicate");
        assert!(
            err.to_string().contains("第 2 行「事件编号」列")
                && err.to_string().contains("已经记录过"),
            "{err}"
        );
        assert_eq!(
            store.count_events(id).await.expect("count"),
            cfg.events as i64
        );
        stored.push(stored_events(store, &code).await);
    }
    assert_eq!(stored[0].len(), cfg.events);
    assert!(
        stored[0]
            .iter()
            .any(|r| r[11].contains('\t') && r[11].contains('\n'))
    );
    assert!(stored[0].iter().any(|r| r[12] == "C:\\证书\\N.pdf"));
    assert!(stored[0].iter().any(|r| r[13] != "∅"));
    assert_eq!(stored[0], stored[1]);
}
