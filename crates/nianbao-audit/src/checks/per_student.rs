//! 生均 figures of any amount ("生均财政拨款", "生均财政经常性补助"): the amount named after
//! 生均, found in prose or as a table's row or column of that name, divided by the students
//! enrolled. (Amounts the vocabulary knows, and amounts stated in the same sentence, are
//! checked with the other facts.)

use nianbao_core::{Finding, Severity};

use super::{at, finding, half_unit, num};
use crate::claims::{Claim, ClaimKind};
use crate::concepts::{compact, concept_of};
use crate::facts::{Fact, Index};
use crate::model::Model;
use crate::numbers::{Approx, same_unit_family};
use crate::tables::{Table, TotalKind};

/// An amount found by its name.
struct Amount {
    value: f64,
    lines: Vec<usize>,
    place: String,
    paragraph: Option<usize>,
}

pub fn check(model: &Model, facts: &[Fact]) -> Vec<Finding> {
    let index = Index::new(facts);
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    for (at_claim, claim) in claims.iter().enumerate() {
        if claim.kind != ClaimKind::PerCapita
            || claim.quantity.approx != Approx::Exact
            || claim.quantity.upper.is_some()
        {
            continue;
        }
        let subject = compact(&claim.subject);
        let Some(after) = subject.split("生均").nth(1) else {
            continue;
        };
        let noun = after.trim_start_matches(['的', '为']);
        if noun.chars().count() < 2 || concept_of(noun).is_some() {
            continue;
        }
        // An amount the vocabulary knows earlier in the sentence is read with the other facts.
        let in_sentence = (0..at_claim)
            .rev()
            .take_while(|&j| claims[j].sentence == claim.sentence)
            .any(|j| {
                claims[j].kind == ClaimKind::Amount
                    && same_unit_family(&claims[j].quantity.unit, &claim.quantity.unit)
                    && claims[j].concept.is_some()
            });
        if in_sentence {
            continue;
        }
        let Some(amount) =
            in_prose(claims, at_claim, noun).or_else(|| in_tables(model, claim, noun))
        else {
            continue;
        };
        let Some(students) = index.pick("在校生", claim.year, Some(claim.paragraph)) else {
            continue;
        };
        if students.quantity.value <= 0.0 {
            continue;
        }
        let expected = amount.value / students.quantity.value;
        let decimals = claim.quantity.decimals;
        let tolerance = half_unit(decimals) * claim.quantity.multiplier.max(1.0) + 1e-9;
        if (expected - claim.quantity.value).abs() <= tolerance {
            continue;
        }
        let near = amount.paragraph == Some(claim.paragraph)
            || students.paragraph == Some(claim.paragraph);
        let severity = if near && amount.paragraph.is_some() {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = format!(
            "{}应为 {} {}（{}）/ 在校生 {}（{}）= {}，文中为 {}",
            claim.subject,
            noun,
            num(amount.value),
            amount.place,
            num(students.quantity.value),
            students.place,
            at(expected / claim.quantity.multiplier.max(1.0), decimals),
            claim.quantity.describe()
        );
        let lines = claim
            .lines
            .iter()
            .chain(&amount.lines)
            .chain(&students.lines)
            .copied()
            .collect::<Vec<_>>();
        findings.push(finding(model, "per-student", severity, message, lines));
    }
    findings
}

/// The nearest amount in prose named by the noun, in the 生均 figure's unit and year.
fn in_prose(claims: &[Claim], at_claim: usize, noun: &str) -> Option<Amount> {
    let claim = &claims[at_claim];
    let fits = |c: &Claim| {
        c.kind == ClaimKind::Amount
            && c.quantity.approx == Approx::Exact
            && c.quantity.upper.is_none()
            && !c.quantity.unit.is_empty()
            && same_unit_family(&c.quantity.unit, &claim.quantity.unit)
            && !c.subject.contains("生均")
            && compact(&c.subject).ends_with(noun)
            && (c.year == claim.year || c.year.is_none() || claim.year.is_none())
    };
    let before = (0..at_claim).rev().take(400).find(|&j| fits(&claims[j]));
    let after = (at_claim + 1..claims.len())
        .take(50)
        .find(|&j| fits(&claims[j]));
    let j = before.or(after)?;
    Some(Amount {
        value: claims[j].quantity.value,
        lines: claims[j].lines.clone(),
        place: "正文".to_string(),
        paragraph: Some(claims[j].paragraph),
    })
}

/// The multiplier a table's header or title writes for its figures ("（万元）").
fn multiplier(text: &str) -> Option<f64> {
    if text.contains("亿元") {
        Some(1e8)
    } else if text.contains("万元") {
        Some(1e4)
    } else if text.contains('元') {
        Some(1.0)
    } else {
        None
    }
}

/// The amount of a table's row or column named by the noun, for the 生均 figure's year.
fn in_tables(model: &Model, claim: &Claim, noun: &str) -> Option<Amount> {
    if claim.quantity.unit != "元" {
        return None;
    }
    for table in &model.tables {
        let scale = |column: usize, row_label: &str| {
            multiplier(row_label)
                .or_else(|| multiplier(&table.columns[column].label()))
                .or_else(|| multiplier(&table.title))
        };
        let value = |r: usize, c: usize| {
            table
                .value(r, c)
                .filter(|q| !q.is_percent() && q.unit.is_empty())
                .map(|q| q.value)
        };
        let found = |r: usize, c: usize, label: &str| -> Option<Amount> {
            let v = value(r, c)?;
            let m = scale(c, label)?;
            Some(Amount {
                value: v * m,
                lines: vec![table.rows[r].line],
                place: format!(
                    "{} {}行“{}”",
                    table.name,
                    table.rows[r].label(),
                    table.columns[c].label()
                ),
                paragraph: None,
            })
        };
        // A row of that name: the column of the year, else the first figure.
        for (r, row) in table.rows.iter().enumerate() {
            let label = row.label();
            if !compact(&label).contains(noun) || row.label().contains("生均") {
                continue;
            }
            let column = year_column(table, claim.year).or_else(|| {
                (table.label_columns..table.columns.len()).find(|&c| value(r, c).is_some())
            });
            if let Some(amount) = column.and_then(|c| found(r, c, &label)) {
                return Some(amount);
            }
        }
        // A column of that name: the row of the year, else the total row.
        for c in table.label_columns..table.columns.len() {
            let label = table.columns[c].label();
            if !compact(&label).contains(noun) || label.contains("生均") {
                continue;
            }
            let row = (0..table.rows.len())
                .find(|&r| claim.year.is_some() && table.rows[r].year == claim.year)
                .or_else(|| {
                    (0..table.rows.len()).find(|&r| table.rows[r].total == TotalKind::Total)
                });
            if let Some(amount) = row.and_then(|r| found(r, c, &table.rows[r].label())) {
                return Some(amount);
            }
        }
    }
    None
}

fn year_column(table: &Table, year: Option<i32>) -> Option<usize> {
    let year = year?;
    (table.label_columns..table.columns.len()).find(|&c| table.columns[c].year == Some(year))
}

/// Words that name the average class size.
const CLASS_SIZE: &[&str] = &["平均班额", "班均人数", "班均规模", "班均学生", "平均每班"];

/// 平均班额 against the students and the classes the same paragraph counts: 在校生 / 教学班数,
/// within the rounding of the figure. An error when both counts are in its paragraph and
/// exact, a warning when the students come from elsewhere in the report.
pub fn class_size(model: &Model, facts: &[Fact]) -> Vec<Finding> {
    let index = Index::new(facts);
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    for (k, claim) in claims.iter().enumerate() {
        if !claim.subject.contains('班') {
            continue;
        }
        let subject = compact(&claim.subject);
        if !CLASS_SIZE.iter().any(|w| subject.contains(w))
            || claim.quantity.approx != Approx::Exact
            || claim.quantity.upper.is_some()
            || !matches!(claim.quantity.unit.as_str(), "人" | "名" | "")
        {
            continue;
        }
        // The classes: an exact count of 班 in the same paragraph, the nearest first.
        let is_classes = |c: &Claim| {
            let words = compact(&c.subject);
            c.paragraph == claim.paragraph
                && c.quantity.approx == Approx::Exact
                && c.quantity.upper.is_none()
                && matches!(c.quantity.unit.as_str(), "个" | "班" | "")
                && (words.ends_with("班") || words.ends_with("班级") || words.ends_with("教学班"))
                && !CLASS_SIZE.iter().any(|w| words.contains(w))
        };
        let nearest = (0..k)
            .rev()
            .take_while(|&j| claims[j].paragraph == claim.paragraph)
            .chain((k + 1..claims.len()).take_while(|&j| claims[j].paragraph == claim.paragraph))
            .find(|&j| is_classes(&claims[j]));
        let Some(classes) = nearest.map(|j| &claims[j]) else {
            continue;
        };
        let Some(students) = index.pick("在校生", claim.year, Some(claim.paragraph)) else {
            continue;
        };
        if classes.quantity.value <= 0.0 || !students.is_exact() {
            continue;
        }
        let expected = students.quantity.value / classes.quantity.value;
        let tolerance = half_unit(claim.quantity.decimals) + 1e-9;
        if (expected - claim.quantity.value).abs() <= tolerance {
            continue;
        }
        let severity = if students.paragraph == Some(claim.paragraph) {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = format!(
            "{}应为 在校生 {}（{}）/ 班级 {} = {}，文中为 {}",
            claim.subject,
            num(students.quantity.value),
            students.place,
            num(classes.quantity.value),
            at(expected, claim.quantity.decimals),
            claim.quantity.describe()
        );
        let lines = claim
            .lines
            .iter()
            .chain(&classes.lines)
            .chain(&students.lines)
            .copied()
            .collect::<Vec<_>>();
        findings.push(finding(model, "class-size", severity, message, lines));
    }
    findings
}
