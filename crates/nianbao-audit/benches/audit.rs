//! Throughput of auditing a report (extracted text to findings). The report is the file named
//! by `NIANBAO_AUDIT_BENCH_FILE`, else the sample report in `../shared` when present; without
//! either the bench prints a notice and measures nothing, unless `NIANBAO_REQUIRE_SEED=1`
//! asks for the sample report, when its absence is a failure.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seeds/qianjiang-2025-quality-report.txt"
);

fn bench(c: &mut Criterion) {
    let path = std::env::var("NIANBAO_AUDIT_BENCH_FILE").unwrap_or_else(|_| SEED.to_string());
    let text = match nianbao_audit::extract_text(std::path::Path::new(&path)) {
        Ok(text) => text,
        Err(error) => {
            if std::env::var("NIANBAO_REQUIRE_SEED").as_deref() == Ok("1") {
                panic!("NIANBAO_REQUIRE_SEED=1 but the report to measure cannot be read: {error}");
            }
            eprintln!("跳过：{error}（用 NIANBAO_AUDIT_BENCH_FILE 指定要测量的报告）");
            return;
        }
    };
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("report", |b| {
        b.iter(|| nianbao_audit::audit(std::hint::black_box(&text)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
