//! Lists against the body: the figure, table and case lists against the captions, the
//! contents against the headings, and numbering that skips or repeats a number.

use std::collections::{BTreeMap, BTreeSet};

use nianbao_core::{Finding, Severity};

use super::finding;
use crate::blocks::{Caption, Entry, LabelKind, ListKind, section_text};
use crate::model::Model;

pub fn check(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    for kind in [LabelKind::Figure, LabelKind::Table, LabelKind::Case] {
        findings.extend(labels(model, kind));
    }
    findings.extend(contents(model));
    findings.extend(heading_numbers(model));
    findings
}

/// Titles compared without spaces, punctuation and dot leaders.
fn normalize(title: &str) -> String {
    title
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !c.is_ascii_punctuation()
                && !"。，、；：“”‘’《》（）…·！？\u{3000}".contains(*c)
        })
        .collect()
}

fn labels(model: &Model, kind: LabelKind) -> Vec<Finding> {
    let word = kind.word();
    let list_name = match kind {
        LabelKind::Figure => ListKind::Figures.name(),
        LabelKind::Table => ListKind::Tables.name(),
        _ => ListKind::Cases.name(),
    };
    let entries: BTreeMap<u32, &Entry> = model
        .entries
        .iter()
        .filter_map(|e| match e.label {
            Some((k, n)) if k == kind => Some((n, e)),
            _ => None,
        })
        .collect();
    let mut captions: BTreeMap<u32, &Caption> = BTreeMap::new();
    let mut findings = Vec::new();
    for caption in model.captions.iter().filter(|c| c.kind == kind) {
        if let Some(first) = captions.get(&caption.number) {
            let message = format!("正文中{word}{}出现两次", caption.number);
            findings.push(finding(
                model,
                "caption-numbering",
                Severity::Warning,
                message,
                [first.line, caption.line],
            ));
        } else {
            captions.insert(caption.number, caption);
        }
    }
    // Numbering of the body's captions.
    if let Some(&max) = captions.keys().next_back() {
        for n in 1..max {
            if !captions.contains_key(&n) {
                let neighbours: Vec<usize> = [n.checked_sub(1), Some(n + 1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|k| captions.get(&k).map(|c| c.line))
                    .collect();
                let message = format!("正文中的{word}编号跳过了{word}{n}");
                findings.push(finding(
                    model,
                    "caption-numbering",
                    Severity::Warning,
                    message,
                    neighbours,
                ));
            }
        }
    }
    if entries.is_empty() {
        return findings;
    }
    let numbers: BTreeSet<u32> = entries.keys().chain(captions.keys()).copied().collect();
    for n in numbers {
        match (entries.get(&n), captions.get(&n)) {
            (None, Some(caption)) => {
                let neighbours = [n.checked_sub(1), Some(n + 1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|k| entries.get(&k).map(|e| e.line));
                let message = format!(
                    "{list_name}缺少{word}{n}（正文有“{word}{n}：{}”）",
                    caption.title
                );
                findings.push(finding(
                    model,
                    "list-caption",
                    Severity::Warning,
                    message,
                    neighbours.chain([caption.line]),
                ));
            }
            (Some(entry), None) => {
                let message = format!(
                    "{list_name}列出“{word}{n}：{}”，正文中没有该{word}题",
                    entry.title
                );
                findings.push(finding(
                    model,
                    "list-caption",
                    Severity::Warning,
                    message,
                    [entry.line],
                ));
            }
            (Some(entry), Some(caption))
                if normalize(&entry.title) != normalize(&caption.title) =>
            {
                let message = format!(
                    "{list_name}中{word}{n}的标题“{}”与正文“{}”不一致",
                    entry.title, caption.title
                );
                findings.push(finding(
                    model,
                    "list-caption",
                    Severity::Warning,
                    message,
                    [entry.line, caption.line],
                ));
            }
            _ => {}
        }
    }
    findings
}

/// The contents' entries against the headings of the body.
fn contents(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    let headings: BTreeMap<String, &crate::blocks::Heading> = model
        .headings
        .iter()
        .map(|h| (h.number_text(), h))
        .collect();
    let entries: Vec<&Entry> = model
        .entries
        .iter()
        .filter(|e| e.list == ListKind::Contents && e.section.is_some())
        .collect();
    if entries.is_empty() {
        return findings;
    }
    let listed: BTreeSet<String> = entries
        .iter()
        .filter_map(|e| e.section.as_deref().map(section_text))
        .collect();
    for entry in &entries {
        let Some(number) = entry.section.as_deref().map(section_text) else {
            continue;
        };
        match headings.get(&number) {
            None => {
                let message = format!("目录列出“{number} {}”，正文中没有该标题", entry.title);
                findings.push(finding(
                    model,
                    "contents-heading",
                    Severity::Warning,
                    message,
                    [entry.line],
                ));
            }
            Some(heading) if normalize(&heading.title) != normalize(&entry.title) => {
                let message = format!(
                    "目录中“{number} {}”与正文标题“{number} {}”不一致",
                    entry.title, heading.title
                );
                findings.push(finding(
                    model,
                    "contents-heading",
                    Severity::Warning,
                    message,
                    [entry.line, heading.line],
                ));
            }
            _ => {}
        }
    }
    for heading in &model.headings {
        let number = heading.number_text();
        if !listed.contains(&number) && heading.number.len() <= 2 {
            let message = format!("正文标题“{number} {}”不在目录中", heading.title);
            findings.push(finding(
                model,
                "contents-heading",
                Severity::Warning,
                message,
                [heading.line],
            ));
        }
    }
    findings
}

/// Section numbers under one parent run 1, 2, 3 … without gaps or repeats.
fn heading_numbers(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut children: BTreeMap<Vec<u32>, Vec<&crate::blocks::Heading>> = BTreeMap::new();
    for heading in &model.headings {
        if let Some((_, parent)) = heading.number.split_last() {
            children.entry(parent.to_vec()).or_default().push(heading);
        }
    }
    if model.headings.len() < 3 {
        return findings;
    }
    for (parent, list) in children {
        let mut previous: Option<&crate::blocks::Heading> = None;
        for heading in list {
            let n = heading.number.last().copied().unwrap_or(0);
            let expected = previous
                .and_then(|p| p.number.last().copied())
                .map(|p| p + 1)
                .unwrap_or(1);
            if n != expected && !(previous.is_none() && parent.is_empty() && n == 1) {
                let mut number = parent.clone();
                number.push(expected);
                let message = if previous.is_some_and(|p| p.number == heading.number) {
                    format!("章节编号 {} 重复", heading.number_text())
                } else {
                    format!(
                        "章节编号不连续：应为 {}，实为 {}",
                        section_text(&number),
                        heading.number_text()
                    )
                };
                let lines = previous.map(|p| p.line).into_iter().chain([heading.line]);
                findings.push(finding(
                    model,
                    "heading-numbering",
                    Severity::Warning,
                    message,
                    lines,
                ));
            }
            previous = Some(heading);
        }
    }
    findings
}
