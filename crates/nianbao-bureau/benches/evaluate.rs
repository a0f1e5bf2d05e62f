//! The checks and indicators of synthetic schools held in memory, on one thread: what one
//! worker of `check --all` spends per school, without the store's read. Compared with the
//! rules and indicators compiled for every school (the one-school path).
//!
//! `cargo bench -p nianbao-bureau --bench evaluate`

use criterion::{Criterion, criterion_group, criterion_main};
use nianbao_bureau::compare::{evaluate_school, evaluate_school_with};
use nianbao_bureau::synth::{self, SynthConfig};
use nianbao_core::{Definitions, Plan, Table, Year};

const SCHOOLS: usize = 500;

fn evaluate(c: &mut Criterion) {
    let definitions = Definitions::builtin().expect("built-in definitions");
    let area = synth::area(SynthConfig {
        count: SCHOOLS,
        seed: 7,
        fault_share: 0.05,
        year: Year::new(2025).expect("year"),
    });
    let schools: Vec<_> = (0..area.tree.schools.len())
        .filter_map(|i| Some((area.tree.schools[i].clone(), synth::dataset(&area, i)?)))
        .collect();
    let mut group = c.benchmark_group(format!("{SCHOOLS} synthetic schools"));
    group.sample_size(10);
    group.bench_function("compiled once", |b| {
        let plan = Plan::new(&definitions);
        let mut table = Table::default();
        b.iter(|| {
            schools
                .iter()
                .map(|(school, data)| {
                    evaluate_school_with(&plan, &mut table, &definitions, school, data).errors
                })
                .sum::<usize>()
        })
    });
    group.bench_function("compiled per school", |b| {
        b.iter(|| {
            schools
                .iter()
                .map(|(school, data)| evaluate_school(&definitions, school, data).errors)
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, evaluate);
criterion_main!(benches);
