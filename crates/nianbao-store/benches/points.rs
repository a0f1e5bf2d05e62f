//! Small-size benchmarks: checking and appending a batch into SQLite, and aggregating per
//! student × dimension in columns versus the same GROUP BY in SQLite. The 10^7-event runs
//! are in `benches/big.sh`.

use criterion::{Criterion, criterion_group, criterion_main};
use nianbao_points::Tree;
use nianbao_points::aggregate::{Span, student_dimensions};
use nianbao_points::synth::{self, SynthConfig};
use nianbao_store::points::{PointsStore, SchoolLedger};

fn setup(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    events: usize,
) -> (PointsStore, SchoolLedger) {
    rt.block_on(async {
        let store = PointsStore::open_sqlite(&dir.join(format!("bench-{events}.db")))
            .await
            .expect("store");
        let code = "BENCH";
        store
            .ensure_school(
                code,
                "基准学校",
                nianbao_core::Year::new(2025).expect("year"),
                "bench",
            )
            .await
            .expect("school");
        store
            .load_tree(code, &Tree::sample(), "bench")
            .await
            .expect("tree");
        let cfg = SynthConfig {
            students: 2_000,
            events,
            seed: 3,
            first_year: 2025,
            years: 1,
            class_size: 45,
        };
        let roster = synth::roster(&cfg);
        store.import_roster(code, &roster).await.expect("roster");
        for (term, year, from, to) in synth::terms(&cfg) {
            store
                .define_period(code, &term, year, from, to)
                .await
                .expect("term");
        }
        let mut sl = store.open_ledger(code).await.expect("ledger");
        let tree = Tree::sample();
        let mut generator = synth::EventGenerator::new(&cfg, &tree, &roster);
        loop {
            let rows = generator.next_batch(50_000);
            if rows.is_empty() {
                break;
            }
            store
                .append(&mut sl, "bench", &rows, "bench")
                .await
                .expect("append");
        }
        store.save_cache(&sl).await.expect("cache");
        (store, sl)
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, sl) = setup(&rt, dir.path(), 100_000);
    let mut group = c.benchmark_group("points_100k");
    group.sample_size(10);
    group.bench_function("columnar_student_dimension", |b| {
        b.iter(|| student_dimensions(&sl.ledger, &Span::all()))
    });
    group.bench_function("columnar_open_and_aggregate", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sl = store.open_ledger("BENCH").await.expect("ledger");
                student_dimensions(&sl.ledger, &Span::all())
            })
        })
    });
    group.bench_function("sqlite_group_by", |b| {
        b.iter(|| {
            rt.block_on(store.sql_student_dimensions(sl.school_id))
                .expect("sql")
        })
    });
    group.bench_function("ingest_10k", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().expect("tempdir"),
            |d| setup(&rt, d.path(), 10_000),
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
