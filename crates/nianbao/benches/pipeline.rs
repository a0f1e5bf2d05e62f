//! The whole path of `nianbao demo` on the sample school: read the dataset folder, save it
//! into a fresh SQLite file, load it back, run every check, compute the indicators and
//! render the HTML report.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use nianbao_core::{Definitions, evaluate_indicators, run_checks};
use nianbao_store::Store;

fn pipeline(c: &mut Criterion) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang");
    let definitions = Definitions::builtin().expect("definitions");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("sample school");
    group.sample_size(30);

    group.bench_function("import + check + indicators + render", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let data = nianbao_io::read_dataset(&sample, &definitions).expect("sample reads");
            let html = runtime.block_on(async {
                let store = Store::open_sqlite(&dir.path().join("bench.db"))
                    .await
                    .expect("store");
                store.save_dataset(&data, "bench").await.expect("save");
                let data = store.load_dataset(&data.school.code).await.expect("load");
                let findings = run_checks(&definitions, &data);
                let year = data.school.report_year;
                let indicators = evaluate_indicators(&definitions, &data, year);
                let input = nianbao_report::ReportInput {
                    definitions: &definitions,
                    data: &data,
                    year,
                    findings: &findings,
                    indicators: &indicators,
                    acceptances: &[],
                    status: nianbao_report::Status::Draft,
                };
                nianbao_report::render_html(&input).expect("render")
            });
            assert!(html.len() > 10_000);
        })
    });

    let data = nianbao_io::read_dataset(&sample, &definitions).expect("sample reads");
    group.bench_function("check + indicators (in memory)", |b| {
        b.iter(|| {
            let findings = run_checks(&definitions, &data);
            let indicators = evaluate_indicators(&definitions, &data, data.school.report_year);
            (findings.len(), indicators.len())
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
