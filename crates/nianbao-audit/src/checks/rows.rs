//! A figure in prose against the table row it names: "装备制造大类在校生规模最大，达 1,190 人"
//! against the row 装备制造大类 of a table, in the column the words also name (在校生) or, when
//! they name none, the row's total column (合计) or its one column of figures.

use nianbao_core::{Finding, Severity};

use super::{finding, num};
use crate::claims::ClaimKind;
use crate::concepts::compact;
use crate::model::Model;
use crate::numbers::{Approx, same_unit_family};
use crate::tables::{Table, TotalKind, cell_year};

/// The fewest characters of a row label looked for in prose.
const LEAST_LABEL_CHARS: usize = 3;

/// Words of a column label that say nothing of what it counts.
const GENERIC: &[&str] = &["人数", "数量", "（人）", "(人)", "人", "个", "数"];

fn column_words(label: &str) -> String {
    let mut words = compact(label);
    if let Some(open) = words.find(['（', '(']) {
        words.truncate(open);
    }
    for generic in GENERIC {
        if let Some(rest) = words.strip_suffix(generic)
            && rest.chars().count() >= 2
        {
            words = rest.to_string();
        }
    }
    words
}

fn is_total_column(label: &str) -> bool {
    ["合计", "总计", "小计", "总数"]
        .iter()
        .any(|w| label.contains(w))
}

/// The column of a row a prose subject refers to.
fn column_for(table: &Table, row: usize, subject: &str) -> Option<usize> {
    let numeric: Vec<usize> = (table.label_columns..table.columns.len())
        .filter(|&c| table.value(row, c).is_some())
        .collect();
    let named: Vec<usize> = numeric
        .iter()
        .copied()
        .filter(|&c| {
            let words = column_words(&table.columns[c].label());
            words.chars().count() >= 2 && !is_total_column(&words) && subject.contains(&words)
        })
        .collect();
    match named.as_slice() {
        [only] => return Some(*only),
        [] => {}
        _ => return None,
    }
    let totals: Vec<usize> = numeric
        .iter()
        .copied()
        .filter(|&c| is_total_column(&table.columns[c].label()))
        .collect();
    match (totals.as_slice(), numeric.as_slice()) {
        ([only], _) => Some(*only),
        ([], [only]) => Some(*only),
        _ => None,
    }
}

pub fn check(model: &Model) -> Vec<Finding> {
    // Row labels, longest first, with their table and row (labels found in more than one
    // row are left out: they do not say which row).
    let mut labels: Vec<(String, usize, usize)> = Vec::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    for (t, table) in model.tables.iter().enumerate() {
        for (r, row) in table.rows.iter().enumerate() {
            let name = compact(row.name());
            if row.total != TotalKind::Detail
                || row.year.is_some()
                || cell_year(&name).is_some()
                || name.chars().count() < LEAST_LABEL_CHARS
                || name.chars().any(|c| c.is_ascii_digit())
            {
                continue;
            }
            *seen.entry(name.clone()).or_default() += 1;
            labels.push((name, t, r));
        }
    }
    labels.retain(|(name, _, _)| seen.get(name) == Some(&1));
    labels.sort_by_key(|(name, _, _)| std::cmp::Reverse(name.len()));
    labels.truncate(2_000);
    let mut findings = Vec::new();
    if labels.is_empty() {
        return findings;
    }
    let claims = &model.claims.claims;
    for (k, claim) in claims.iter().enumerate() {
        if claim.kind != ClaimKind::Amount
            || claim.quantity.approx != Approx::Exact
            || claim.quantity.upper.is_some()
            || claim.parent.is_some()
        {
            continue;
        }
        // The words before the number back to the previous number or the sentence's start
        // ("装备制造大类在校生规模最大，达 1,190 人").
        let text = &model.paragraphs[claim.paragraph].text;
        let start = claim.quantity.span.start.min(text.len());
        let previous = k
            .checked_sub(1)
            .map(|j| &claims[j])
            .filter(|c| c.paragraph == claim.paragraph && c.sentence == claim.sentence)
            .map_or(0, |c| c.quantity.span.end.min(start));
        let sentence_start = text[..start]
            .char_indices()
            .rev()
            .find(|(_, c)| matches!(c, '。' | '！' | '？' | '；'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let from = previous.max(sentence_start);
        let subject = compact(crate::claims::tail_chars(&text[from..start], 80));
        let Some((name, t, r)) = labels
            .iter()
            .find(|(name, _, _)| subject.contains(name.as_str()))
        else {
            continue;
        };
        let table = &model.tables[*t];
        let Some(c) = column_for(table, *r, &subject) else {
            continue;
        };
        let Some(cell) = table.value(*r, c) else {
            continue;
        };
        let column = &table.columns[c];
        if cell.approx != Approx::Exact
            || cell.upper.is_some()
            || cell.is_percent() != claim.quantity.is_percent()
            || column
                .year
                .is_some_and(|y| claim.year.is_some_and(|c| c != y))
        {
            continue;
        }
        // A bare cell is in the unit the prose writes only for counts.
        let comparable = if cell.unit.is_empty() {
            matches!(
                claim.quantity.unit.as_str(),
                "人" | "名" | "个" | "项" | "门" | "所"
            ) && claim.quantity.multiplier == 1.0
        } else {
            same_unit_family(&cell.unit, &claim.quantity.unit)
        };
        if !comparable || claim.quantity.holds(cell.value) || cell.holds(claim.quantity.value) {
            continue;
        }
        let row = &table.rows[*r];
        let message = format!(
            "{} 为 {}，但{} {}行“{}”为 {}",
            claim.subject,
            claim.quantity.describe(),
            table.name,
            name,
            column.label(),
            num(cell.value)
        );
        let lines = claim.lines.iter().copied().chain([row.line]);
        findings.push(finding(
            model,
            "prose-table-row",
            Severity::Error,
            message,
            lines,
        ));
    }
    findings
}
