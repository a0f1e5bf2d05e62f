//! Shares and fractions: each recomputed from its part and its whole where both are in the
//! report, at the precision printed; and the shares of one whole adding up to 100%.

use std::collections::{BTreeMap, BTreeSet};

use nianbao_core::{Finding, Severity};

use super::{at, finding, half_unit, num};
use crate::claims::{Claim, ClaimKind};
use crate::facts::{Fact, Index};
use crate::model::Model;
use crate::numbers::Approx;

/// A whole a share is taken of.
struct Base {
    value: f64,
    label: String,
    lines: Vec<usize>,
    /// Found in the same paragraph (or as the total of the breakdown), not elsewhere.
    near: bool,
}

pub fn check(model: &Model, facts: &[Fact]) -> Vec<Finding> {
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    let mut wrong: BTreeSet<usize> = BTreeSet::new();
    let totals: BTreeSet<usize> = model.claims.breakdowns.iter().map(|b| b.total).collect();
    let facts = Index::new(facts);
    for (index, claim) in claims.iter().enumerate() {
        if !matches!(claim.kind, ClaimKind::Share | ClaimKind::Fraction) {
            continue;
        }
        let Some(owner) = claim.owner.map(|o| &claims[o]) else {
            continue;
        };
        let Some(base) = base_of(model, &facts, &totals, index) else {
            continue;
        };
        if owner.quantity.approx != Approx::Exact || base.value <= 0.0 {
            continue;
        }
        let ratio = owner.quantity.value / base.value;
        let mut lines = claim.lines.clone();
        lines.extend(owner.lines.iter().copied());
        lines.extend(base.lines.iter().copied());
        if let Some((numerator, denominator)) = claim.fraction {
            let stated = numerator / denominator;
            if ((ratio - stated) / stated).abs() > 0.15 {
                let nearest = (1.0 / ratio).round();
                let message = format!(
                    "“{}”约为 {}%，但{} {} / {} {} = {}%（约为 {} 分之一）",
                    fraction_words(numerator, denominator),
                    at(stated * 100.0, 1),
                    owner.subject,
                    num(owner.quantity.value),
                    base.label,
                    num(base.value),
                    at(ratio * 100.0, 1),
                    num(nearest)
                );
                findings.push(finding(model, "fraction", Severity::Error, message, lines));
            }
            continue;
        }
        let decimals = claim.quantity.decimals;
        let expected = ratio * 100.0;
        if (expected - claim.quantity.value).abs() > half_unit(decimals) + 1e-9
            && claim.quantity.approx == Approx::Exact
        {
            wrong.insert(index);
            let severity = if base.near {
                Severity::Error
            } else {
                Severity::Warning
            };
            let message = format!(
                "{} {} 占{} {} 的比例应为 {} / {} = {}%，文中为 {}%",
                owner.subject,
                num(owner.quantity.value),
                base.label,
                num(base.value),
                num(owner.quantity.value),
                num(base.value),
                at(expected, decimals),
                at(claim.quantity.value, decimals)
            );
            findings.push(finding(model, "share-recompute", severity, message, lines));
        }
    }
    findings.extend(share_sums(model, &wrong));
    findings
}

fn fraction_words(numerator: f64, denominator: f64) -> String {
    const DIGITS: [&str; 11] = [
        "零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十",
    ];
    let word = |v: f64| {
        DIGITS
            .get(v as usize)
            .map(|s| s.to_string())
            .unwrap_or_else(|| num(v))
    };
    format!("{}分之{}", word(denominator), word(numerator))
}

/// Words for a whole that mean "the total just mentioned".
fn generic_base(text: &str) -> bool {
    let mut text = text.to_string();
    for word in [
        "全校", "学校", "我校", "全体", "全部", "所有", "学生", "在校",
    ] {
        text = text.replace(word, "");
    }
    matches!(
        text.as_str(),
        "" | "总数" | "总人数" | "总量" | "人数" | "总额" | "总和"
    )
}

fn base_of(model: &Model, facts: &Index, totals: &BTreeSet<usize>, index: usize) -> Option<Base> {
    let claims = &model.claims.claims;
    let claim = &claims[index];
    let owner = claim.owner.map(|o| &claims[o])?;
    match &claim.base_text {
        None => {
            let total = &claims[owner.parent?];
            Some(Base {
                value: total.quantity.value,
                label: total.subject.clone(),
                lines: total.lines.clone(),
                near: true,
            })
        }
        Some(text) if generic_base(text) => {
            // The nearest total before it in the paragraph: a breakdown's total or a 总数.
            let is_total = |j: usize| totals.contains(&j) || claims[j].subject.contains('总');
            let j = (index.saturating_sub(200)..index)
                .rev()
                .take_while(|&j| claims[j].paragraph == claim.paragraph)
                .find(|&j| {
                    j != claim.owner.unwrap_or(usize::MAX)
                        && claims[j].kind == ClaimKind::Amount
                        && claims[j].quantity.approx == Approx::Exact
                        && is_total(j)
                        && crate::numbers::same_unit_family(
                            &claims[j].quantity.unit,
                            &owner.quantity.unit,
                        )
                })?;
            Some(Base {
                value: claims[j].quantity.value,
                label: claims[j].subject.clone(),
                lines: claims[j].lines.clone(),
                near: true,
            })
        }
        Some(text) => {
            let matched = crate::concepts::concept_of(text)?;
            let (fact, near) =
                facts.find(matched.concept.key, claim.year, Some(claim.paragraph))?;
            // The part is not its own whole: then the whole named is not stated as such.
            if claim.owner.map(crate::facts::Origin::Prose) == Some(fact.origin) {
                return None;
            }
            Some(Base {
                value: fact.quantity.value,
                label: text.clone(),
                lines: fact.lines.clone(),
                // Named by a looser word, the whole is not certain: a warning at most.
                near: near && !fact.loose && !matched.loose,
            })
        }
    }
}

/// Pairs of words that split a whole into two parts with nothing left over.
const COMPLEMENTS: &[(&str, &str)] = &[
    ("本地", "外地"),
    ("区内", "区外"),
    ("市内", "市外"),
    ("县内", "县外"),
    ("省内", "省外"),
    ("境内", "境外"),
    ("校内", "校外"),
    ("城镇", "农村"),
    ("男", "女"),
];

/// "本地生源" and "外地生源": the same whole, split by a complementary pair of words.
fn complementary(a: &str, b: &str) -> bool {
    COMPLEMENTS.iter().any(|&(x, y)| {
        [(x, y), (y, x)].iter().any(|&(p, q)| {
            a.contains(p) && b.contains(q) && a.replacen(p, "", 1) == b.replacen(q, "", 1)
        })
    })
}

/// Shares of one whole must add up to 100% (within printed rounding) when they cover it all,
/// and never to more.
fn share_sums(model: &Model, wrong: &BTreeSet<usize>) -> Vec<Finding> {
    let claims = &model.claims.claims;
    let mut groups: BTreeMap<(usize, String), Vec<usize>> = BTreeMap::new();
    let mut last_group: BTreeMap<usize, (usize, String)> = BTreeMap::new();
    for (index, claim) in claims.iter().enumerate() {
        if claim.kind != ClaimKind::Share || !claim.quantity.is_percent() {
            continue;
        }
        let key = match (&claim.base_text, claim.owner.and_then(|o| claims[o].parent)) {
            (Some(base), _) => (claim.paragraph, format!("base:{base}")),
            (None, Some(total)) => (claim.paragraph, format!("total:{total}")),
            (None, None) if claim.remainder => match last_group.get(&claim.paragraph) {
                Some(key) => key.clone(),
                None => continue,
            },
            _ => continue,
        };
        last_group.insert(claim.paragraph, key.clone());
        groups.entry(key).or_default().push(index);
    }
    // "本地生源占91.6%，外地生源占8.4%": shares of complementary parts cover their whole.
    for (index, claim) in claims.iter().enumerate() {
        if claim.kind != ClaimKind::Share
            || !claim.quantity.is_percent()
            || claim.owner.is_some()
            || claim.base_text.is_some()
        {
            continue;
        }
        let Some(part) = &claim.part else { continue };
        let partner = (index + 1..claims.len())
            .take_while(|&j| claims[j].sentence == claim.sentence)
            .take(64)
            .find(|&j| {
                claims[j].kind == ClaimKind::Share
                    && claims[j].owner.is_none()
                    && claims[j].base_text.is_none()
                    && claims[j]
                        .part
                        .as_deref()
                        .is_some_and(|other| complementary(part, other))
            });
        if let Some(j) = partner {
            let key = (claim.paragraph, format!("complement:{index}"));
            groups.entry(key).or_default().extend([index, j]);
        }
    }
    let breakdowns: BTreeMap<usize, &crate::claims::Breakdown> = model
        .claims
        .breakdowns
        .iter()
        .map(|b| (b.total, b))
        .collect();
    let mut findings = Vec::new();
    for ((_, key), members) in groups {
        if members.len() < 2 || members.iter().any(|m| wrong.contains(m)) {
            continue;
        }
        let shares: Vec<&Claim> = members.iter().map(|&m| &claims[m]).collect();
        if shares.iter().any(|s| s.quantity.approx != Approx::Exact) {
            continue;
        }
        let covers_all = key.starts_with("complement:")
            || shares.iter().any(|s| s.remainder)
            || key
                .strip_prefix("total:")
                .and_then(|t| t.parse::<usize>().ok())
                .and_then(|t| breakdowns.get(&t))
                .is_some_and(|b| {
                    let sum: f64 = b.parts.iter().map(|&p| claims[p].quantity.value).sum();
                    (sum - claims[b.total].quantity.value).abs() < 1e-6
                        && b.parts
                            .iter()
                            .all(|&p| shares.iter().any(|s| s.owner == Some(p)))
                });
        let sum: f64 = shares.iter().map(|s| s.quantity.value).sum();
        let tolerance: f64 = shares
            .iter()
            .map(|s| half_unit(s.quantity.decimals))
            .sum::<f64>()
            + 1e-9;
        let decimals = shares
            .iter()
            .map(|s| s.quantity.decimals)
            .max()
            .unwrap_or(0);
        let terms = shares
            .iter()
            .map(|s| format!("{}%", at(s.quantity.value, s.quantity.decimals)))
            .collect::<Vec<_>>()
            .join(" + ");
        let lines: Vec<usize> = shares
            .iter()
            .flat_map(|s| s.lines.iter().copied())
            .collect();
        if covers_all && (sum - 100.0).abs() > tolerance {
            let message = format!(
                "同一总体的各部分占比之和应为 100%，文中为 {terms} = {}%",
                at(sum, decimals)
            );
            findings.push(finding(model, "share-sum", Severity::Error, message, lines));
        } else if !covers_all && sum > 100.0 + tolerance {
            let message = format!(
                "同一总体的各部分占比之和超过 100%：{terms} = {}%",
                at(sum, decimals)
            );
            findings.push(finding(model, "share-sum", Severity::Error, message, lines));
        }
    }
    findings
}
