//! Rates named by what they count ("报到率", "去向落实率", "对口就业率"), recomputed from the
//! counts the report states next to them: the numerator is the count whose subject names the
//! rate's words (the longest ending of them), the denominator the whole that count is a part
//! of (its breakdown's total), else the count just before it in its sentence, else the one
//! count of the sentence before. An error only when the rate's words are written out in the
//! numerator's subject and the denominator is its total or in its sentence; else a warning.

use nianbao_core::{Finding, Severity};

use super::{at, finding, half_unit, num};
use crate::claims::{Claim, ClaimKind};
use crate::concepts::compact;
use crate::model::Model;
use crate::numbers::{Approx, same_unit_family};

/// Units of counts a rate can be taken of.
fn is_count(claim: &Claim) -> bool {
    claim.kind == ClaimKind::Amount
        && claim.quantity.approx == Approx::Exact
        && claim.quantity.upper.is_none()
        && matches!(
            claim.quantity.unit.as_str(),
            "人" | "名" | "人次" | "项" | "个" | "家"
        )
}

pub fn check(model: &Model) -> Vec<Finding> {
    let claims = &model.claims.claims;
    let mut findings = Vec::new();
    for (index, rate) in claims.iter().enumerate() {
        if rate.kind != ClaimKind::Rate
            || !rate.quantity.is_percent()
            || rate.quantity.approx != Approx::Exact
        {
            continue;
        }
        let subject = compact(&rate.subject);
        let Some(at_rate) = subject.rfind('率') else {
            continue;
        };
        // A rate of a wider population ("全市本科上线率") is not the school's.
        let stem_text = &subject[..at_rate];
        if ["全市", "全省", "全国", "全区", "全县", "平均"]
            .iter()
            .any(|w| stem_text.contains(w))
        {
            continue;
        }
        let stem: Vec<char> = stem_text.chars().collect();
        if stem.len() < 2 {
            continue;
        }
        // Counts near the rate: its paragraph, and the paragraph before.
        let near: Vec<usize> = (index.saturating_sub(40)..(index + 10).min(claims.len()))
            .filter(|&j| {
                claims[j].paragraph + 1 >= rate.paragraph
                    && claims[j].paragraph <= rate.paragraph
                    && is_count(&claims[j])
            })
            .collect();
        let nearest = |matches: &dyn Fn(&str) -> bool| {
            near.iter()
                .copied()
                .filter(|&j| matches(&compact(&claims[j].subject)))
                .min_by_key(|&j| j.abs_diff(index))
        };
        let mut numerator = None;
        for len in (2..=stem.len().min(6)).rev() {
            let ending: String = stem[stem.len() - len..].iter().collect();
            if let Some(j) = nearest(&|s: &str| s.contains(&ending)) {
                numerator = Some((j, true));
                break;
            }
        }
        if numerator.is_none() {
            let ending: Vec<char> = stem[stem.len() - 2..].to_vec();
            numerator =
                nearest(&|s: &str| ending.iter().all(|c| s.contains(*c))).map(|j| (j, false));
        }
        let Some((top, written)) = numerator else {
            continue;
        };
        let part = &claims[top];
        let unit = part.quantity.unit.clone();
        let fits = |j: usize| {
            is_count(&claims[j]) && same_unit_family(&claims[j].quantity.unit, &unit) && j != top
        };
        // The whole: the numerator's total; else the counts before it in its sentence (any
        // of them may be the base; with more than one the base is not certain); else the one
        // count of the sentence before.
        let in_sentence: Vec<usize> = (0..top)
            .rev()
            .take_while(|&j| claims[j].sentence == part.sentence)
            .filter(|&j| fits(j))
            .collect();
        let previous_sentence = || {
            let earlier: Vec<usize> = (0..top)
                .rev()
                .skip_while(|&j| claims[j].sentence == part.sentence)
                .take_while(|&j| claims[j].sentence + 1 == part.sentence)
                .filter(|&j| fits(j))
                .collect();
            earlier
        };
        // A total counts as the base only when the sentence names it as the population or
        // the parts make it up.
        let named_total = model
            .claims
            .breakdowns
            .iter()
            .find(|b| b.parts.contains(&top))
            .filter(|b| b.scoped || b.exhaustive)
            .map(|b| b.total);
        let (wholes, close) = match named_total.filter(|&p| fits(p)) {
            Some(p) => (vec![p], true),
            None if !in_sentence.is_empty() => {
                let one = in_sentence.len() == 1;
                // Several possible bases: only a rate stated right after its count is read.
                if !one && index != top + 1 {
                    continue;
                }
                (in_sentence, one)
            }
            None => {
                let earlier = previous_sentence();
                if earlier.len() != 1 {
                    continue;
                }
                (earlier, false)
            }
        };
        let decimals = rate.quantity.decimals;
        let ratio = |j: usize| part.quantity.value / claims[j].quantity.value * 100.0;
        let wholes: Vec<usize> = wholes
            .into_iter()
            .filter(|&j| {
                claims[j].quantity.value > 0.0 && claims[j].quantity.value >= part.quantity.value
            })
            .collect();
        if wholes.is_empty()
            || wholes
                .iter()
                .any(|&j| (ratio(j) - rate.quantity.value).abs() <= half_unit(decimals) + 1e-9)
        {
            continue;
        }
        let bottom = wholes[0];
        let whole = &claims[bottom];
        let expected = ratio(bottom);
        let severity = if written && close {
            Severity::Error
        } else {
            Severity::Warning
        };
        let message = format!(
            "{}为 {}%，但“{}” {} / “{}” {} = {}%",
            rate.subject,
            at(rate.quantity.value, decimals),
            part.subject,
            num(part.quantity.value),
            whole.subject,
            num(whole.quantity.value),
            at(expected, decimals.max(1))
        );
        let lines = rate
            .lines
            .iter()
            .chain(&part.lines)
            .chain(&whole.lines)
            .copied()
            .collect::<Vec<_>>();
        findings.push(finding(model, "rate-recompute", severity, message, lines));
    }
    findings
}
