//! The checks of an audit, each in its own module, and the helpers they share to cite lines
//! and print numbers.

pub mod catalogue;
pub mod changes;
pub mod facts;
pub mod lists;
pub mod per_student;
pub mod rates;
pub mod rows;
pub mod shares;
pub mod sums;
pub mod table_shares;

use std::collections::{BTreeMap, BTreeSet};

use crate::limits::MAX_FINDINGS_PER_RULE;

use nianbao_core::number::{fixed, plain};
use nianbao_core::{Finding, Location, Severity};

use crate::facts::Fact;
use crate::model::Model;

/// Runs every check on a model.
pub fn run(model: &Model) -> Vec<Finding> {
    let facts = crate::facts::collect(model);
    let mut findings = Vec::new();
    findings.extend(sums::check(model));
    findings.extend(shares::check(model, &facts));
    findings.extend(facts::check(model, &facts));
    findings.extend(lists::check(model));
    findings.extend(changes::check(model));
    findings.extend(table_shares::check(model));
    findings.extend(rates::check(model));
    findings.extend(rows::check(model));
    findings.extend(per_student::check(model, &facts));
    findings.extend(per_student::class_size(model, &facts));
    findings.extend(catalogue::check(model));
    findings.extend(catalogue::category_shares(model));
    findings.sort_by(|a, b| {
        let line = |f: &Finding| f.locations.first().and_then(|l| l.line).unwrap_or(0);
        line(a)
            .cmp(&line(b))
            .then(a.severity.cmp(&b.severity))
            .then(a.rule.cmp(&b.rule))
    });
    findings.dedup_by(|a, b| a.rule == b.rule && a.message == b.message);
    if model.claims.truncated_at > 0 {
        findings.push(finding(
            model,
            "too-many-numbers",
            Severity::Warning,
            format!(
                "报告中的数字超过 {} 个，自第 {} 行起的数字未核查",
                crate::claims::MAX_CLAIMS,
                model.claims.truncated_at
            ),
            [model.claims.truncated_at],
        ));
    }
    bounded(findings)
}

/// At most [`MAX_FINDINGS_PER_RULE`] findings of each rule, the rest counted in one more.
fn bounded(findings: Vec<Finding>) -> Vec<Finding> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(findings.len().min(10_000));
    let mut dropped: BTreeMap<String, (usize, Severity)> = BTreeMap::new();
    for finding in findings {
        let count = counts.entry(finding.rule.clone()).or_default();
        *count += 1;
        if *count <= MAX_FINDINGS_PER_RULE {
            kept.push(finding);
        } else {
            let entry = dropped
                .entry(finding.rule.clone())
                .or_insert((0, finding.severity));
            entry.0 += 1;
            entry.1 = entry.1.min(finding.severity);
        }
    }
    for (rule, (count, severity)) in dropped {
        kept.push(Finding {
            rule: rule.clone(),
            severity,
            section: String::new(),
            message: format!(
                "同类问题（{rule}）另有 {count} 处未逐一列出：每类最多列出 {MAX_FINDINGS_PER_RULE} 处"
            ),
            locations: Vec::new(),
        });
    }
    kept
}

/// A finding that cites every line in `lines` (sorted, each once).
pub fn finding(
    model: &Model,
    rule: &str,
    severity: Severity,
    message: String,
    lines: impl IntoIterator<Item = usize>,
) -> Finding {
    let lines: BTreeSet<usize> = lines.into_iter().filter(|&l| l > 0).collect();
    let section = lines
        .iter()
        .map(|&l| model.layout.section_of(l))
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_string();
    Finding {
        rule: rule.to_string(),
        severity,
        section,
        message,
        locations: lines
            .into_iter()
            .map(|l| Location::line(l, quote(model.document.line(l).trim())))
            .collect(),
    }
}

/// The longest line quoted whole in a location; longer lines are cut with "…".
const LONGEST_QUOTE: usize = 2000;

fn quote(line: &str) -> String {
    match line.char_indices().nth(LONGEST_QUOTE) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// A number as printed: "9313", "35.41".
pub fn num(value: f64) -> String {
    plain(value)
}

/// A number at a printed precision.
pub fn at(value: f64, decimals: u32) -> String {
    fixed(value, decimals)
}

/// Half a unit of the last printed decimal: what rounding can explain.
pub fn half_unit(decimals: u32) -> f64 {
    0.5 * 10f64.powi(-(decimals as i32))
}

/// A fact's value as written, with its unit.
pub fn fact_value(fact: &Fact) -> String {
    fact.quantity.describe()
}

/// "a + b + c".
pub fn sum_text(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| num(*v))
        .collect::<Vec<_>>()
        .join(" + ")
}
