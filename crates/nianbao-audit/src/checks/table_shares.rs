//! Share columns of tables: each row's share (占比, 比例, 比重) recomputed from the count
//! column beside it and the table's total (its 合计 row, else the sum of its rows), and the
//! rows' shares adding up to 100% within their printed rounding.

use nianbao_core::{Finding, Severity};

use super::{at, finding, half_unit, num};
use crate::model::Model;
use crate::tables::{Table, TotalKind};

/// Words of a header that name a share of the whole (a rate, 率, is not one).
const SHARE_WORDS: &[&str] = &["占比", "比例", "比重", "构成", "占"];

pub fn check(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in &model.tables {
        for column in table.label_columns..table.columns.len() {
            if let Some(count) = share_column(table, column) {
                findings.extend(check_column(model, table, column, count));
            }
        }
    }
    findings
}

/// The count column a share column is taken of: the nearest numeric column on its left.
fn share_column(table: &Table, column: usize) -> Option<usize> {
    let label = table.columns[column].label();
    let named = SHARE_WORDS.iter().any(|w| label.contains(w))
        || (label.contains('%') && !label.contains('率'));
    let details = || table.rows.iter().filter(|r| r.total == TotalKind::Detail);
    let percents = details()
        .filter(|r| {
            r.cells
                .get(column)
                .and_then(|c| c.value.as_ref())
                .is_some_and(|q| q.is_percent())
        })
        .count();
    if !named || percents < 2 || table.rows.iter().any(|r| r.total == TotalKind::Subtotal) {
        return None;
    }
    (table.label_columns..column).rev().find(|&c| {
        let counts = details()
            .filter(|r| {
                r.cells
                    .get(c)
                    .and_then(|x| x.value.as_ref())
                    .is_some_and(|q| !q.is_percent())
            })
            .count();
        counts >= percents
    })
}

fn check_column(model: &Model, table: &Table, column: usize, count: usize) -> Vec<Finding> {
    let mut findings = Vec::new();
    let value = |r: usize, c: usize| table.value(r, c);
    let details: Vec<usize> = (0..table.rows.len())
        .filter(|&r| table.rows[r].total == TotalKind::Detail)
        .collect();
    let total_row = (0..table.rows.len()).find(|&r| table.rows[r].total == TotalKind::Total);
    let sum: f64 = details
        .iter()
        .filter_map(|&r| value(r, count).map(|q| q.value))
        .sum();
    let (whole, whole_text, whole_lines) =
        match total_row.and_then(|r| value(r, count).map(|q| (r, q))) {
            Some((r, q)) => (
                q.value,
                format!("合计 {}", num(q.value)),
                vec![table.rows[r].line],
            ),
            None => (sum, format!("各行之和 {}", num(sum)), Vec::new()),
        };
    if whole <= 0.0 {
        return findings;
    }
    let header = table.columns[column].label();
    let mut wrong = false;
    for &r in &details {
        let (Some(share), Some(part)) = (value(r, column), value(r, count)) else {
            continue;
        };
        if !share.is_percent() {
            continue;
        }
        let expected = part.value / whole * 100.0;
        if (expected - share.value).abs() <= half_unit(share.decimals) + 1e-9 {
            continue;
        }
        wrong = true;
        let row = &table.rows[r];
        let message = format!(
            "{} {}行“{}”为 {}%，按“{}” {} / {} 应为 {}%",
            table.name,
            row.label(),
            header,
            at(share.value, share.decimals),
            table.columns[count].label(),
            num(part.value),
            whole_text,
            at(expected, share.decimals)
        );
        let mut lines = table.header_lines.clone();
        lines.push(row.line);
        lines.extend(&whole_lines);
        findings.push(finding(
            model,
            "table-share",
            Severity::Error,
            message,
            lines,
        ));
    }
    // The shares of every row add up to 100%.
    let shares: Vec<(f64, u32)> = details
        .iter()
        .filter_map(|&r| value(r, column).filter(|q| q.is_percent()))
        .map(|q| (q.value, q.decimals))
        .collect();
    if !wrong && shares.len() == details.len() && shares.len() >= 2 {
        let total: f64 = shares.iter().map(|(v, _)| v).sum();
        let tolerance: f64 = shares.iter().map(|(_, d)| half_unit(*d)).sum::<f64>() + 1e-9;
        if (total - 100.0).abs() > tolerance {
            let decimals = shares.iter().map(|(_, d)| *d).max().unwrap_or(0);
            let message = format!(
                "{}“{}”各行之和为 {}%，应为 100%（舍入最多相差 {}%）",
                table.name,
                header,
                at(total, decimals),
                at(tolerance, decimals + 1)
            );
            let mut lines = table.header_lines.clone();
            lines.extend(details.iter().map(|&r| table.rows[r].line));
            findings.push(finding(
                model,
                "table-share",
                Severity::Error,
                message,
                lines,
            ));
        }
    }
    findings
}
