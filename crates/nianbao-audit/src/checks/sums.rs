//! Totals against their parts: the breakdowns of prose ("总数 N，其中 …") and the total rows
//! and columns of tables.

use std::collections::BTreeSet;

use nianbao_core::{Finding, Severity};

use super::{finding, num};
use crate::claims::{Breakdown, Claim};
use crate::model::Model;
use crate::numbers::Approx;
use crate::tables::TotalKind;

/// Pairs of parts that together make up every member of a whole.
const COMPLEMENTS: &[&[&str]] = &[
    &["在编", "外聘"],
    &["在编", "编外"],
    &["专职", "兼职"],
    &["校内", "校外"],
    &["男", "女"],
];

/// What rounding can explain in one figure: nothing for whole numbers, half a unit of the
/// last printed decimal otherwise.
fn rounding(decimals: u32) -> f64 {
    if decimals == 0 {
        0.0
    } else {
        super::half_unit(decimals)
    }
}

pub fn check(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parallels = parallels(model);
    for breakdown in &model.claims.breakdowns {
        findings.extend(check_breakdown(model, breakdown, &parallels));
    }
    findings.extend(check_tables(model));
    findings
}

/// The label of a part, for matching parallel breakdowns: its level word or its subject.
fn part_label(claim: &Claim) -> String {
    claim
        .qualifier
        .clone()
        .unwrap_or_else(|| claim.subject.clone())
}

fn sums_exactly(model: &Model, breakdown: &Breakdown) -> bool {
    let claims = &model.claims.claims;
    let total = claims[breakdown.total].quantity.value;
    let sum: f64 = breakdown
        .parts
        .iter()
        .map(|&p| claims[p].quantity.value)
        .sum();
    (sum - total).abs() < 1e-6
}

/// Whether the parts must add up to the total: they are complements (在编/外聘), one of
/// them is "the rest", or the same parts add up exactly elsewhere in the report.
pub fn exhaustive(
    model: &Model,
    breakdown: &Breakdown,
    parallels: &BTreeSet<(Option<&str>, BTreeSet<String>, usize)>,
) -> bool {
    let claims = &model.claims.claims;
    let labels: BTreeSet<String> = breakdown
        .parts
        .iter()
        .map(|&p| part_label(&claims[p]))
        .collect();
    if COMPLEMENTS
        .iter()
        .any(|set| set.iter().all(|w| labels.iter().any(|l| l.contains(w))))
    {
        return true;
    }
    if breakdown.exhaustive {
        return true;
    }
    if breakdown.parts.iter().any(|&p| {
        claims[p].remainder
            || claims[p].subject.contains("其他")
            || claims[p].subject.contains("其余")
    }) {
        return true;
    }
    let key = claims[breakdown.total].concept.map(|m| m.concept.key);
    parallels
        .range((key, labels.clone(), 0)..=(key, labels, usize::MAX))
        .any(|(_, _, total)| *total != breakdown.total)
}

/// The breakdowns that add up exactly, by the concept of their total and their parts' labels.
fn parallels(model: &Model) -> BTreeSet<(Option<&'static str>, BTreeSet<String>, usize)> {
    let claims = &model.claims.claims;
    model
        .claims
        .breakdowns
        .iter()
        .filter(|b| sums_exactly(model, b))
        .map(|b| {
            let labels = b.parts.iter().map(|&p| part_label(&claims[p])).collect();
            (
                claims[b.total].concept.map(|m| m.concept.key),
                labels,
                b.total,
            )
        })
        .collect()
}

fn check_breakdown(
    model: &Model,
    breakdown: &Breakdown,
    parallels: &BTreeSet<(Option<&'static str>, BTreeSet<String>, usize)>,
) -> Option<Finding> {
    let claims = &model.claims.claims;
    let total = &claims[breakdown.total];
    let parts: Vec<&Claim> = breakdown.parts.iter().map(|&p| &claims[p]).collect();
    let sum: f64 = parts.iter().map(|p| p.quantity.value).sum();
    let t = total.quantity.value;
    let approximate = total.quantity.approx != Approx::Exact
        || parts.iter().any(|p| p.quantity.approx != Approx::Exact);
    let mut lines: Vec<usize> = total.lines.clone();
    for part in &parts {
        lines.extend(part.lines.iter().copied());
    }
    let unit = &total.quantity.unit;
    let terms = parts
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p.subject,
                num(p.quantity.value / p.quantity.multiplier)
            )
        })
        .collect::<Vec<_>>()
        .join(" + ");
    let scale = total.quantity.multiplier;
    let tolerance = 1e-6 + rounding(total.quantity.decimals) * scale * parts.len() as f64;
    if (sum - t).abs() <= tolerance {
        return None;
    }
    // Further parts after the ones that already add up are details of those ("其中 A a，B b，
    // A 中的 C c").
    let mut running = 0.0;
    for part in &parts {
        running += part.quantity.value;
        if (running - t).abs() <= tolerance {
            return None;
        }
    }
    if sum > t && total.quantity.approx != Approx::AtLeast {
        let exclusive = {
            let labels: BTreeSet<String> = parts.iter().map(|p| part_label(p)).collect();
            labels.len() == parts.len()
                && parts.iter().all(|p| {
                    p.qualifier
                        .as_deref()
                        .is_some_and(|q| crate::concepts::qualifier_of(q) == Some(q))
                })
        };
        let severity = if !approximate && (exclusive || exhaustive(model, breakdown, parallels)) {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = format!(
            "{} {}{unit} 小于其组成部分之和：{terms} = {}{unit}（多出 {}）",
            total.subject,
            num(t / scale),
            num(sum / scale),
            num((sum - t) / scale)
        );
        return Some(finding(model, "total-parts", severity, message, lines));
    }
    if sum < t && !approximate && !exhaustive(model, breakdown, parallels) {
        // Three parts or more that nearly make up their total (nine tenths or more) but fall
        // short look like a slip rather than a part left out: worth a look.
        if parts.len() < 3 || sum < 0.9 * t {
            return None;
        }
        let message = format!(
            "{} {}{unit} 大于所列各部分之和：{terms} = {}{unit}（相差 {}；若另有未列出的部分可忽略）",
            total.subject,
            num(t / scale),
            num(sum / scale),
            num((t - sum) / scale)
        );
        return Some(finding(
            model,
            "total-parts",
            Severity::Warning,
            message,
            lines,
        ));
    }
    if sum < t && !approximate && exhaustive(model, breakdown, parallels) {
        let message = format!(
            "{} {}{unit} ≠ {terms} = {}{unit}（相差 {}）",
            total.subject,
            num(t / scale),
            num(sum / scale),
            num((t - sum) / scale)
        );
        return Some(finding(
            model,
            "total-parts",
            Severity::Error,
            message,
            lines,
        ));
    }
    None
}

fn check_tables(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in &model.tables {
        // Total rows: each numeric column adds up the detail rows.
        for total_row in table.rows.iter().filter(|r| r.total == TotalKind::Total) {
            for column in table.label_columns..table.columns.len() {
                let Some(total) = total_row.cells.get(column).and_then(|c| c.value.as_ref()) else {
                    continue;
                };
                if total.is_percent() || total.approx != Approx::Exact {
                    continue;
                }
                let details: Vec<&crate::tables::Row> = table
                    .rows
                    .iter()
                    .filter(|r| r.total == TotalKind::Detail)
                    .collect();
                let values: Vec<f64> = details
                    .iter()
                    .filter_map(|r| {
                        r.cells
                            .get(column)
                            .and_then(|c| c.value.as_ref())
                            .map(|q| q.value)
                    })
                    .collect();
                if values.len() < 2 {
                    continue;
                }
                let sum: f64 = values.iter().sum();
                let tolerance = 1e-6 + rounding(total.decimals) * values.len() as f64;
                if (sum - total.value).abs() > tolerance {
                    let label = table.columns[column].label();
                    let message = format!(
                        "{}“{}”列：合计行为 {}，各行之和为 {}（相差 {}）",
                        table.name,
                        label,
                        num(total.value),
                        num(sum),
                        num((total.value - sum).abs())
                    );
                    let mut lines: Vec<usize> = details.iter().map(|r| r.line).collect();
                    lines.push(total_row.line);
                    findings.push(finding(
                        model,
                        "table-total",
                        Severity::Error,
                        message,
                        lines,
                    ));
                }
            }
        }
        // Total columns: a "合计" column under a header adds up its sibling columns.
        for (column, header) in table.columns.iter().enumerate().skip(table.label_columns) {
            let Some(last) = header.path.last() else {
                continue;
            };
            if !(last.contains("合计") || last.contains("小计") || last.contains("总计"))
                || header.path.len() < 2
            {
                continue;
            }
            let parent = &header.path[..header.path.len() - 1];
            let siblings: Vec<usize> = table
                .columns
                .iter()
                .enumerate()
                .filter(|(c, h)| {
                    *c != column
                        && h.path.len() == header.path.len()
                        && &h.path[..h.path.len() - 1] == parent
                })
                .map(|(c, _)| c)
                .collect();
            if siblings.is_empty() {
                continue;
            }
            for row in &table.rows {
                let Some(total) = row.cells.get(column).and_then(|c| c.value.as_ref()) else {
                    continue;
                };
                let values: Vec<f64> = siblings
                    .iter()
                    .filter_map(|&c| {
                        row.cells
                            .get(c)
                            .and_then(|x| x.value.as_ref())
                            .map(|q| q.value)
                    })
                    .collect();
                let sum: f64 = values.iter().sum();
                if total.is_percent() || values.is_empty() {
                    continue;
                }
                if (sum - total.value).abs() > 1e-6 + rounding(total.decimals) * values.len() as f64
                {
                    let message = format!(
                        "{} {}行“{}”为 {}，同组各列之和为 {} = {}",
                        table.name,
                        row.label(),
                        header.label(),
                        num(total.value),
                        super::sum_text(&values),
                        num(sum)
                    );
                    let mut lines = table.header_lines.clone();
                    lines.push(row.line);
                    findings.push(finding(
                        model,
                        "table-total",
                        Severity::Error,
                        message,
                        lines,
                    ));
                }
            }
        }
    }
    findings
}
