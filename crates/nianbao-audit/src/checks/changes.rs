//! Changes on an earlier figure, read from the sentence alone: "较上年的 X 增长 p%",
//! "比上年增加 d 人（上年为 X）", "由 X 增至 Y，增幅 p%", "提高 d 个百分点（上年为 r%）".
//! The earlier figure is the one the sentence marks as earlier (上年, 去年, the year before,
//! 由/从 …); without one, a table row or column that holds this figure under its year and
//! another under the year before. The stated change is recomputed from the two.

use nianbao_core::{Finding, Severity};

use super::{at, finding, half_unit, num};
use crate::claims::Claim;
use crate::model::Model;
use crate::numbers::{Approx, Quantity, same_unit_family};

const INCREASE: &[&str] = &[
    "增长",
    "增加",
    "提高",
    "上升",
    "提升",
    "增多",
    "增幅",
    "涨幅",
    "增长率",
    "增速",
    "多",
];
const DECREASE: &[&str] = &["减少", "下降", "降低", "降幅", "回落", "减", "少"];
/// Words before a figure that mark it as the earlier one.
const EARLIER: &[&str] = &[
    "上年",
    "去年",
    "上一年",
    "上一年度",
    "前一年",
    "上学年",
    "由",
    "从",
];
/// Words before a figure that mark it as the later one ("增至 Y").
const LATER: &[&str] = &[
    "增至",
    "增加到",
    "增加至",
    "增长到",
    "增长至",
    "提高到",
    "提高至",
    "提升到",
    "提升至",
    "上升到",
    "上升至",
    "降至",
    "下降到",
    "下降至",
    "减少到",
    "减少至",
    "减至",
    "降到",
];

/// How many figures before and after a change are read for its two figures.
const NEAR: usize = 16;

/// How far from a figure, in lines, a table that holds it is looked for.
const NEAR_LINES: usize = 300;

/// The earlier figure a change is measured from.
struct Earlier {
    value: f64,
    quantity: Option<Quantity>,
    lines: Vec<usize>,
    place: String,
    /// Found in the sentence itself (not looked up in a table).
    stated: bool,
}

/// The last `n` characters of a text.
fn tail(text: &str, n: usize) -> &str {
    match text.char_indices().rev().nth(n.saturating_sub(1)) {
        Some((at, _)) => &text[at..],
        None => text,
    }
}

/// The words just before a claim's number, without the filler that may follow a verb.
fn words_before<'a>(model: &'a Model, claim: &Claim) -> &'a str {
    let text = &model.paragraphs[claim.paragraph].text;
    let start = claim.quantity.span.start.min(text.len());
    tail(&text[..start], 12).trim_end_matches([' ', '了', '达', '约', '为', '到', '是', '的'])
}

/// The words just after a claim's digits.
fn words_after<'a>(model: &'a Model, claim: &Claim) -> &'a str {
    let text = &model.paragraphs[claim.paragraph].text;
    let end = claim.quantity.digits.end.min(text.len());
    let rest = text[end..].trim_start_matches(' ');
    match rest.char_indices().nth(5) {
        Some((at, _)) => &rest[..at],
        None => rest,
    }
}

/// +1 for an increase, -1 for a decrease, when the words before a number say it is a change.
fn direction(before: &str) -> Option<f64> {
    if INCREASE.iter().any(|w| before.ends_with(w)) {
        Some(1.0)
    } else if DECREASE.iter().any(|w| before.ends_with(w)) {
        Some(-1.0)
    } else {
        None
    }
}

pub fn check(model: &Model) -> Vec<Finding> {
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    let mut start = 0;
    while start < claims.len() {
        let sentence = claims[start].sentence;
        let end = (start..claims.len())
            .find(|&j| claims[j].sentence != sentence)
            .unwrap_or(claims.len());
        for change in start..end {
            if let Some(found) = check_change(model, start..end, change) {
                findings.push(found);
            }
        }
        start = end;
    }
    findings
}

fn check_change(model: &Model, sentence: std::ops::Range<usize>, index: usize) -> Option<Finding> {
    let claims = &model.claims.claims;
    let change = &claims[index];
    if change.quantity.approx != Approx::Exact || change.quantity.upper.is_some() {
        return None;
    }
    let sign = direction(words_before(model, change))?;
    let points = words_after(model, change).starts_with("个百分点")
        || words_after(model, change).starts_with("百分点");
    let relative = change.quantity.is_percent() && !points;
    let is_change = |j: usize| direction(words_before(model, &claims[j])).is_some();
    let fits = |q: &Quantity| {
        if points {
            q.is_percent()
        } else if relative {
            !q.is_percent()
        } else {
            !q.is_percent() && same_unit_family(&q.unit, &change.quantity.unit)
        }
    };
    // The figures around the change (a sentence runs on without bound only in broken text).
    let window = sentence.start.max(index.saturating_sub(NEAR))..sentence.end.min(index + NEAR);
    let candidates: Vec<usize> = window
        .filter(|&j| j != index && !is_change(j) && claims[j].quantity.approx == Approx::Exact)
        .filter(|&j| fits(&claims[j].quantity) && claims[j].quantity.upper.is_none())
        .collect();
    let marked = |j: usize, words: &[&str]| {
        let before = words_before(model, &claims[j]);
        words
            .iter()
            .any(|w| before.ends_with(w) || before.contains(w))
    };
    // The earlier figure: marked as earlier, or written under a year that another figure of
    // the sentence follows.
    let explicit_year = |j: usize| claims[j].year.filter(|_| claims[j].year_explicit);
    let dated_earlier = |j: usize| {
        explicit_year(j).is_some_and(|y| {
            candidates
                .iter()
                .any(|&k| k != j && claims[k].year == Some(y + 1))
        })
    };
    let earlier_index = candidates
        .iter()
        .copied()
        .find(|&j| marked(j, EARLIER) && !marked(j, LATER))
        .or_else(|| candidates.iter().copied().find(|&j| dated_earlier(j)));
    // The later figure: marked as later, else the nearest figure before the change that is
    // not the earlier one, else the nearest after it.
    let later = candidates
        .iter()
        .copied()
        .find(|&j| marked(j, LATER))
        .or_else(|| {
            candidates
                .iter()
                .copied()
                .rfind(|&j| j < index && Some(j) != earlier_index && !marked(j, EARLIER))
        })
        .or_else(|| {
            candidates
                .iter()
                .copied()
                .find(|&j| j > index && Some(j) != earlier_index && !marked(j, EARLIER))
        })?;
    let now = &claims[later];
    let earlier = earlier_index
        .filter(|&j| j != later)
        .filter(|&j| same_unit_family(&claims[j].quantity.unit, &now.quantity.unit))
        .map(|j| Earlier {
            value: claims[j].quantity.value,
            quantity: Some(claims[j].quantity.clone()),
            lines: claims[j].lines.clone(),
            place: "文中".to_string(),
            stated: true,
        })
        .or_else(|| in_tables(model, now))?;
    let before = earlier.value;
    let after = now.quantity.value;
    let (expected, tolerance, stated, unit) = if relative {
        if before == 0.0 {
            return None;
        }
        (
            (after - before) / before * 100.0,
            half_unit(change.quantity.decimals)
                + relative_rounding(&now.quantity, earlier.quantity.as_ref(), before),
            change.quantity.value,
            "%".to_string(),
        )
    } else {
        let scale = change.quantity.multiplier.max(1.0);
        (
            after - before,
            half_unit(change.quantity.decimals) * scale
                + rounding(&now.quantity)
                + earlier.quantity.as_ref().map(rounding).unwrap_or(0.0)
                + 1e-9,
            change.quantity.value,
            if points {
                "个百分点".to_string()
            } else {
                change.quantity.unit.clone()
            },
        )
    };
    let signed = sign * stated;
    if (expected - signed).abs() <= tolerance + 1e-9 {
        return None;
    }
    let word = if expected >= 0.0 { "增长" } else { "下降" };
    let stated_word = if sign > 0.0 { "增长" } else { "下降" };
    let decimals = change.quantity.decimals;
    let written = |q: Option<&Quantity>, value: f64| match q {
        Some(q) => num(q.written),
        None => num(value),
    };
    let (now_text, before_text) = (
        written(Some(&now.quantity), after),
        written(earlier.quantity.as_ref(), before),
    );
    let shown = if relative {
        format!(
            "({now_text} − {before_text}) / {before_text} = {word} {}%",
            at(expected.abs(), decimals)
        )
    } else {
        let scale = change.quantity.multiplier.max(1.0);
        let prefix = match scale {
            s if s >= 1e8 => "亿",
            s if s >= 1e4 => "万",
            _ => "",
        };
        format!(
            "{now_text} − {before_text} = {word} {}{prefix}{unit}",
            num((expected / scale).abs())
        )
    };
    let message = format!(
        "“{}”{stated_word} {}，按本期 {} 与前期 {}（{}）计算应为 {shown}",
        now.subject,
        if relative {
            format!("{}%", at(stated, decimals))
        } else if points {
            format!("{} 个百分点", at(change.quantity.written, decimals))
        } else {
            change.quantity.describe()
        },
        now.quantity.describe(),
        earlier
            .quantity
            .as_ref()
            .map(Quantity::describe)
            .unwrap_or_else(|| num(before)),
        earlier.place,
    );
    let severity = if earlier.stated {
        Severity::Error
    } else {
        Severity::Warning
    };
    let lines = change
        .lines
        .iter()
        .chain(&now.lines)
        .chain(&earlier.lines)
        .copied()
        .collect::<Vec<_>>();
    Some(finding(model, "change-recompute", severity, message, lines))
}

/// What rounding a figure as printed can hide, in its base unit.
fn rounding(q: &Quantity) -> f64 {
    if q.decimals == 0 && q.multiplier <= 1.0 {
        0.0
    } else {
        half_unit(q.decimals) * q.multiplier.max(1.0)
    }
}

/// How far rounding the two figures moves a relative change, in percent.
fn relative_rounding(now: &Quantity, earlier: Option<&Quantity>, before: f64) -> f64 {
    let spread = rounding(now) + earlier.map(rounding).unwrap_or(0.0);
    if before <= 0.0 {
        0.0
    } else {
        spread / before * 100.0 * 1.01
    }
}

/// The earlier figure from a table: this figure in a column (or row) of its year, and the
/// figure of the same row (or column) under the year before.
fn in_tables(model: &Model, now: &Claim) -> Option<Earlier> {
    let year = now.year?;
    // The tables near the figure (within NEAR_LINES lines), found by their first line.
    let line = now.lines.first().copied().unwrap_or(0);
    let from = model
        .tables
        .partition_point(|t| t.first_line + NEAR_LINES < line);
    let tables = model.tables[from..]
        .iter()
        .take_while(|t| t.first_line <= line + NEAR_LINES);
    for table in tables {
        for (r, row) in table.rows.iter().enumerate() {
            for (c, cell) in row.cells.iter().enumerate() {
                let Some(q) = &cell.value else { continue };
                if (q.value - now.quantity.value).abs() > 1e-9
                    || !same_unit_family(&q.unit, &now.quantity.unit)
                    || q.is_percent() != now.quantity.is_percent()
                {
                    continue;
                }
                // Years as columns: the same row, the column of the year before.
                if table.columns.get(c).and_then(|h| h.year) == Some(year) {
                    let before = table
                        .columns
                        .iter()
                        .position(|h| h.year == Some(year - 1))
                        .and_then(|b| table.value(r, b));
                    if let Some(before) = before {
                        return Some(Earlier {
                            value: before.value,
                            quantity: Some(before.clone()),
                            lines: vec![row.line],
                            place: format!("{} {}行", table.name, row.label()),
                            stated: false,
                        });
                    }
                }
                // Years as rows: the same column, the row of the year before.
                if row.year == Some(year) {
                    let before = table
                        .rows
                        .iter()
                        .position(|o| o.year == Some(year - 1))
                        .and_then(|b| table.value(b, c).map(|q| (b, q)));
                    if let Some((b, before)) = before {
                        return Some(Earlier {
                            value: before.value,
                            quantity: Some(before.clone()),
                            lines: vec![table.rows[b].line],
                            place: format!("{} {}行", table.name, table.rows[b].label()),
                            stated: false,
                        });
                    }
                }
            }
        }
    }
    None
}
