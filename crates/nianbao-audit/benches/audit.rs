//! Throughput of auditing a real report (extracted text to findings).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seeds/qianjiang-2025-quality-report.txt"
);

fn bench(c: &mut Criterion) {
    let text = std::fs::read_to_string(SEED).unwrap_or_default();
    let mut group = c.benchmark_group("audit");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("seed", |b| {
        b.iter(|| nianbao_audit::audit(std::hint::black_box(&text)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
