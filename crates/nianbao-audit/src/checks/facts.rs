//! Facts against each other: the same fact stated twice (prose and tables), a change on last
//! year against both years' values, rates and per-student figures recomputed from their
//! operands, and parts that cannot exceed their whole.

use std::collections::BTreeMap;

use nianbao_core::{Finding, Severity};

use super::{at, finding, half_unit, num};
use crate::claims::{Claim, ClaimKind};
use crate::concepts::{Measure, concept_of};
use crate::facts::{Fact, Index, Origin};
use crate::model::Model;
use crate::numbers::{Approx, same_unit_family};

/// Rates: (rate, numerator, denominator).
const RATES: &[(&str, &str, &str)] = &[("升学率", "升学", "毕业生"), ("就业率", "就业", "毕业生")];

/// Counts that are part of another count of the same year.
const WITHIN: &[(&str, &str)] = &[
    ("就业", "毕业生"),
    ("升学", "毕业生"),
    ("本科升学", "升学"),
    ("统招升学", "升学"),
    ("中高贯通", "升学"),
    ("专任教师", "教职工"),
    ("招生", "在校生"),
];

pub fn check(model: &Model, facts: &[Fact]) -> Vec<Finding> {
    let index = Index::new(facts);
    let mut findings = Vec::new();
    findings.extend(same_fact(model, facts));
    findings.extend(year_over_year(model, &index));
    findings.extend(rates(model, facts, &index));
    findings.extend(per_student(model, &index));
    findings.extend(within(model, facts, &index));
    findings
}

fn year_text(year: Option<i32>) -> String {
    year.map(|y| format!("{y}年")).unwrap_or_default()
}

/// The same concept, qualifier and year with two values.
fn same_fact(model: &Model, facts: &[Fact]) -> Vec<Finding> {
    type Key<'a> = (&'a str, Option<String>, Option<i32>);
    let mut groups: BTreeMap<Key, Vec<&Fact>> = BTreeMap::new();
    for fact in facts {
        groups
            .entry((fact.concept.key, fact.qualifier.clone(), fact.year))
            .or_default()
            .push(fact);
    }
    let mut findings = Vec::new();
    for ((_, qualifier, year), group) in groups {
        let reference = group
            .iter()
            .find(|f| f.from_table() && f.is_exact())
            .or_else(|| group.iter().find(|f| f.is_exact()));
        let Some(reference) = reference else { continue };
        let mut reported: std::collections::BTreeSet<u64> = Default::default();
        for fact in &group {
            if std::ptr::eq(*fact, *reference) || reported.contains(&fact.quantity.value.to_bits())
            {
                continue;
            }
            if fact.concept.measure == Measure::Rate && (fact.loose || reference.loose) {
                continue;
            }
            let Some(agrees) = agree(&fact.quantity, &reference.quantity) else {
                continue;
            };
            if agrees {
                continue;
            }
            reported.insert(fact.quantity.value.to_bits());
            let certain = fact.is_exact()
                && fact.year_explicit
                && reference.year_explicit
                && !fact.loose
                && !reference.loose;
            let severity = if certain {
                Severity::Error
            } else {
                Severity::Warning
            };
            let rule = if fact.from_table() != reference.from_table() {
                "prose-table"
            } else {
                "same-fact"
            };
            let what = match &qualifier {
                Some(q) => format!("{}（{q}）", fact.concept.label),
                None => fact.concept.label.to_string(),
            };
            let (first, second) = if reference.lines.first() <= fact.lines.first() {
                (*reference, *fact)
            } else {
                (*fact, *reference)
            };
            let mut message = format!(
                "{}{what}前后不一：{}为 {}，{}为 {}",
                year_text(year),
                first.place,
                first.quantity.describe(),
                second.place,
                second.quantity.describe()
            );
            if !certain && !fact.year_explicit {
                message.push_str("（文中未写明年份，按报告年度比较）");
            }
            let lines = first.lines.iter().chain(second.lines.iter()).copied();
            findings.push(finding(model, rule, severity, message, lines));
        }
    }
    findings
}

/// Square metres in one 亩.
const MU: f64 = 2000.0 / 3.0;

/// Whether two statements of a fact agree, allowing for how each is written (rounding,
/// approximations, 亩 against m²); None when their units cannot be compared.
fn agree(a: &crate::numbers::Quantity, b: &crate::numbers::Quantity) -> Option<bool> {
    let factor = |unit: &str| if unit == "亩" { MU } else { 1.0 };
    let family = |unit: &str| {
        if unit == "亩" {
            "m²".to_string()
        } else {
            unit.to_string()
        }
    };
    if !crate::numbers::same_unit_family(&family(&a.unit), &family(&b.unit)) {
        return None;
    }
    let (fa, fb) = (factor(&a.unit), factor(&b.unit));
    let tolerance = half_unit(a.decimals) * a.multiplier * fa
        + half_unit(b.decimals) * b.multiplier * fb
        + 1e-9;
    let exact = |q: &crate::numbers::Quantity| q.approx == Approx::Exact && q.upper.is_none();
    Some(match (exact(a), exact(b)) {
        (true, true) => (a.value * fa - b.value * fb).abs() <= tolerance,
        (false, true) => a.holds(b.value * fb / fa),
        (true, false) => b.holds(a.value * fa / fb),
        (false, false) => true,
    })
}

/// "同比上一年减少224人" against last year's value.
fn year_over_year(model: &Model, index: &Index) -> Vec<Finding> {
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    for change in claims {
        let ClaimKind::Change(increase) = change.kind else {
            continue;
        };
        let Some(owner) = change.owner.map(|o| &claims[o]) else {
            continue;
        };
        let Some(matched) = owner.concept else {
            continue;
        };
        if owner.quantity.approx != Approx::Exact || change.quantity.approx != Approx::Exact {
            continue;
        }
        let Some(year) = owner.year else { continue };
        let Some(previous) = index.pick(matched.concept.key, Some(year - 1), None) else {
            continue;
        };
        let now = owner.quantity.value;
        let before = previous.quantity.value;
        let direction = if increase { "增加" } else { "减少" };
        let (expected, stated, unit, decimals) = if change.quantity.is_percent() {
            if before == 0.0 {
                continue;
            }
            (
                (now - before) / before * 100.0,
                change.quantity.value,
                "%",
                change.quantity.decimals,
            )
        } else {
            (
                now - before,
                change.quantity.value * change.quantity.multiplier
                    / owner.quantity.multiplier.max(1.0),
                "",
                change.quantity.decimals,
            )
        };
        let signed = if increase { stated } else { -stated };
        let tolerance = if unit == "%" {
            half_unit(decimals)
        } else {
            half_unit(decimals) * owner.quantity.multiplier
        } + 1e-9;
        if (expected - signed).abs() > tolerance {
            let actual = if expected >= 0.0 { "增加" } else { "减少" };
            let message = if unit == "%" {
                format!(
                    "{}{} {}，上年（{}）{}，应为{actual} ({} − {}) / {} = {}%，文中为{direction} {}%",
                    year_text(Some(year)),
                    matched.concept.label,
                    num(now),
                    previous.place,
                    num(before),
                    num(now),
                    num(before),
                    num(before),
                    at(expected.abs(), decimals),
                    at(stated, decimals)
                )
            } else {
                format!(
                    "{}{} {}，上年（{}）为 {}，应为{actual} {}，文中为{direction} {}",
                    year_text(Some(year)),
                    matched.concept.label,
                    num(now),
                    previous.place,
                    num(before),
                    num(expected.abs()),
                    num(stated)
                )
            };
            let lines = change
                .lines
                .iter()
                .chain(owner.lines.iter())
                .chain(previous.lines.iter())
                .copied();
            findings.push(finding(
                model,
                "year-over-year",
                Severity::Error,
                message,
                lines,
            ));
        }
    }
    findings
}

/// A rate against the counts it is made of (升学率 = 升学人数 / 毕业生人数).
fn rates(model: &Model, facts: &[Fact], index: &Index) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rate in facts
        .iter()
        .filter(|f| f.concept.measure == Measure::Rate && f.qualifier.is_none())
    {
        let Some(&(_, numerator_key, denominator_key)) =
            RATES.iter().find(|(r, _, _)| *r == rate.concept.key)
        else {
            continue;
        };
        if rate.quantity.approx != Approx::Exact {
            continue;
        }
        // The numerator from the same table row when there is one.
        let same_row = match rate.origin {
            Origin::Table { table, row, .. } => index.in_row(numerator_key, table, row),
            Origin::Prose(_) => None,
        };
        let Some(numerator) =
            same_row.or_else(|| index.pick(numerator_key, rate.year, rate.paragraph))
        else {
            continue;
        };
        let Some(denominator) = index.pick(denominator_key, rate.year, rate.paragraph) else {
            continue;
        };
        if denominator.quantity.value <= 0.0 {
            continue;
        }
        let expected = numerator.quantity.value / denominator.quantity.value * 100.0;
        let decimals = rate.quantity.decimals;
        if (expected - rate.quantity.value).abs() <= half_unit(decimals) + 1e-9 {
            continue;
        }
        let severity = if rate.loose {
            Severity::Warning
        } else {
            Severity::Error
        };
        let message = format!(
            "{}{}为 {}%（{}），但{} {}（{}）/ {} {}（{}）= {}%",
            year_text(rate.year),
            rate.concept.label,
            at(rate.quantity.value, decimals),
            rate.place,
            numerator.concept.label,
            num(numerator.quantity.value),
            numerator.place,
            denominator.concept.label,
            num(denominator.quantity.value),
            denominator.place,
            at(expected, decimals.max(1))
        );
        let lines = rate
            .lines
            .iter()
            .chain(numerator.lines.iter())
            .chain(denominator.lines.iter())
            .copied();
        findings.push(finding(model, "rate-counts", severity, message, lines));
    }
    findings
}

/// 生均 figures (amount / students) and 生师比 (students / 折合教师数).
fn per_student(model: &Model, index: &Index) -> Vec<Finding> {
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    for (at_claim, claim) in claims.iter().enumerate() {
        let (numerator, denominator, label) = match claim.kind {
            ClaimKind::PerCapita => {
                let rest = claim.subject.replacen("生均", "", 1);
                let named = concept_of(&rest).filter(|m| m.concept.key != "在校生");
                let amount = match named {
                    Some(matched) => {
                        index.pick(matched.concept.key, claim.year, Some(claim.paragraph))
                    }
                    // "校舍建筑面积199,100.59平方米，生均21.38平方米": the amount just before.
                    None => amount_before(claims, index, at_claim),
                };
                let Some(amount) = amount else {
                    continue;
                };
                let Some(students) = index.pick("在校生", claim.year, Some(claim.paragraph))
                else {
                    continue;
                };
                (amount, students, claim.subject.clone())
            }
            ClaimKind::Ratio if claim.concept.is_some_and(|m| m.concept.key == "生师比") => {
                let Some(students) = index.pick("在校生", claim.year, Some(claim.paragraph))
                else {
                    continue;
                };
                let Some(teachers) = index.pick("折合教师", claim.year, Some(claim.paragraph))
                else {
                    continue;
                };
                (students, teachers, claim.subject.clone())
            }
            _ => continue,
        };
        if denominator.quantity.value <= 0.0 || claim.quantity.approx != Approx::Exact {
            continue;
        }
        let expected = numerator.quantity.value / denominator.quantity.value;
        let decimals = claim.quantity.decimals;
        let holds = match claim.quantity.upper {
            Some(upper) => {
                expected >= claim.quantity.value - half_unit(decimals)
                    && expected <= upper + half_unit(decimals)
            }
            None => {
                (expected - claim.quantity.value).abs()
                    <= half_unit(decimals) * claim.quantity.multiplier + 1e-9
            }
        };
        if holds {
            continue;
        }
        let near = numerator.paragraph == Some(claim.paragraph)
            && denominator.paragraph == Some(claim.paragraph);
        let severity = if near {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = format!(
            "{label}应为 {} {}（{}）/ {} {}（{}）= {}，文中为 {}",
            numerator.concept.label,
            num(numerator.quantity.value),
            numerator.place,
            denominator.concept.label,
            num(denominator.quantity.value),
            denominator.place,
            at(expected / claim.quantity.multiplier, decimals),
            claim.quantity.describe()
        );
        let lines = claim
            .lines
            .iter()
            .chain(numerator.lines.iter())
            .chain(denominator.lines.iter())
            .copied();
        findings.push(finding(model, "per-student", severity, message, lines));
    }
    findings
}

/// The amount a 生均 figure that names none divides: the last amount of the same sentence
/// before it, in the same unit, that names a concept.
fn amount_before<'a>(claims: &[Claim], index: &Index<'a>, at: usize) -> Option<&'a Fact> {
    let claim = &claims[at];
    let j = (0..at)
        .rev()
        .take_while(|&j| claims[j].sentence == claim.sentence)
        .find(|&j| claims[j].kind == ClaimKind::Amount)?;
    if !same_unit_family(&claims[j].quantity.unit, &claim.quantity.unit) {
        return None;
    }
    index
        .of_claim(j)
        .filter(|f| f.is_exact() && f.concept.measure != Measure::Rate)
}

/// Parts that cannot exceed their whole: 就业 or 升学 ≤ 毕业生, and 就业 + 升学 ≤ 毕业生
/// (a warning: some statistics count 升学 as 就业).
fn within(model: &Model, facts: &[Fact], index: &Index) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut years: Vec<i32> = facts.iter().filter_map(|f| f.year).collect();
    years.sort_unstable();
    years.dedup();
    for year in years {
        for &(part_key, whole_key) in WITHIN {
            let (Some(part), Some(whole)) = (
                index.pick(part_key, Some(year), None),
                index.pick(whole_key, Some(year), None),
            ) else {
                continue;
            };
            if part.quantity.value > whole.quantity.value + 1e-9 {
                let message = format!(
                    "{year}年{} {}（{}）大于{} {}（{}）",
                    part.concept.label,
                    num(part.quantity.value),
                    part.place,
                    whole.concept.label,
                    num(whole.quantity.value),
                    whole.place
                );
                let lines = part.lines.iter().chain(whole.lines.iter()).copied();
                findings.push(finding(
                    model,
                    "part-exceeds-whole",
                    Severity::Error,
                    message,
                    lines,
                ));
            }
        }
        // A part of those employed (对口就业) bounds them from below just as well.
        let employed = facts.iter().find(|f| {
            f.concept.key == "就业"
                && f.year == Some(year)
                && (f.qualifier.is_none() || f.restricted)
                && f.is_exact()
                && !f.from_table()
        });
        let (Some(employed), Some(further), Some(graduates)) = (
            employed,
            index.pick("升学", Some(year), employed.and_then(|e| e.paragraph)),
            index.pick("毕业生", Some(year), None),
        ) else {
            continue;
        };
        let sum = employed.quantity.value + further.quantity.value;
        if sum > graduates.quantity.value + 1e-9 {
            let message = format!(
                "{year}年就业人数 {}（{}）+ 升学人数 {}（{}）= {}，超过毕业生人数 {}（{}）；除非升学计入就业，否则两者不能同时成立",
                num(employed.quantity.value),
                employed.place,
                num(further.quantity.value),
                further.place,
                num(sum),
                num(graduates.quantity.value),
                graduates.place
            );
            let lines = employed
                .lines
                .iter()
                .chain(further.lines.iter())
                .chain(graduates.lines.iter())
                .copied();
            findings.push(finding(
                model,
                "outcomes-exceed",
                Severity::Warning,
                message,
                lines,
            ));
        }
    }
    findings
}
