//! The national catalogue of majors: a report must name its 专业大类 from one edition (2010
//! names end in 类, 2021 names in 大类), and prose must name the categories its tables use.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use nianbao_core::{Finding, MajorCatalogue, Severity};

use super::finding;
use crate::model::Model;

/// The catalogue shipped with the project.
pub fn catalogue() -> &'static MajorCatalogue {
    static CATALOGUE: OnceLock<MajorCatalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        toml::from_str(include_str!("../../../../data/majors.toml")).unwrap_or_default()
    })
}

/// A category named at a line, and the edition it belongs to.
struct Mention {
    name: String,
    edition: u16,
    line: usize,
    in_table: Option<usize>,
}

fn mentions(model: &Model) -> Vec<Mention> {
    let catalogue = catalogue();
    let mut found = Vec::new();
    for (t, table) in model.tables.iter().enumerate() {
        for row in &table.rows {
            let raw = table_row_labels(model, t, row.line);
            for label in raw {
                if let Some(category) = catalogue.category(&label) {
                    found.push(Mention {
                        name: label.clone(),
                        edition: category.edition,
                        line: row.line,
                        in_table: Some(t),
                    });
                }
            }
        }
    }
    for paragraph in &model.paragraphs {
        for (offset, name) in names_in(&paragraph.text) {
            if let Some(category) = catalogue.category(name) {
                found.push(Mention {
                    name: name.to_string(),
                    edition: category.edition,
                    line: paragraph.line_at(offset),
                    in_table: None,
                });
            }
        }
    }
    found
}

/// The names of categories that can be found in running text (the ones ending in 类, of at
/// least three characters), and the longest, in characters.
fn text_names() -> &'static (HashSet<&'static str>, usize) {
    static NAMES: OnceLock<(HashSet<&'static str>, usize)> = OnceLock::new();
    NAMES.get_or_init(|| {
        let names: HashSet<&'static str> = catalogue()
            .all_names()
            .into_iter()
            .filter(|n| n.ends_with('类') && n.chars().count() >= 3)
            .collect();
        let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        (names, longest)
    })
}

/// Every category name in a text, with its byte offset, in order: each 类 is looked up with
/// the few characters before it, so the cost grows with the text, not with the catalogue.
fn names_in(text: &str) -> Vec<(usize, &'static str)> {
    let (names, longest) = text_names();
    let mut found = Vec::new();
    for (at, c) in text.char_indices() {
        if c != '类' {
            continue;
        }
        let end = at + c.len_utf8();
        let mut starts: Vec<usize> = text[..end]
            .char_indices()
            .rev()
            .take(*longest)
            .map(|(i, _)| i)
            .collect();
        starts.reverse();
        for start in starts {
            if let Some(name) = names.get(&text[start..end]) {
                found.push((start, *name));
            }
        }
    }
    found
}

/// The label cells as written on a row's line (a merged category cell counts only where written).
fn table_row_labels(model: &Model, table: usize, line: usize) -> Vec<String> {
    let Some(table) = model.tables.get(table) else {
        return Vec::new();
    };
    model
        .document
        .line(line)
        .split('\t')
        .take(table.label_columns.max(1))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

pub fn check(model: &Model) -> Vec<Finding> {
    let mut findings = Vec::new();
    let found = mentions(model);
    let mut by_edition: BTreeMap<u16, Vec<&Mention>> = BTreeMap::new();
    for mention in &found {
        by_edition.entry(mention.edition).or_default().push(mention);
    }
    if by_edition.len() >= 2 {
        let parts: Vec<String> = by_edition
            .iter()
            .map(|(edition, list)| {
                let names: BTreeSet<&str> = list.iter().map(|m| m.name.as_str()).collect();
                let names: Vec<&str> = names.into_iter().collect();
                format!("{edition}年版（{}）", names.join("、"))
            })
            .collect();
        let message = format!(
            "专业大类名称混用了不同版本的专业目录：{}；2010年版名称以“类”结尾，2021年版以“大类”结尾",
            parts.join("与")
        );
        findings.push(finding(
            model,
            "catalogue-edition",
            Severity::Warning,
            message,
            found.iter().map(|m| m.line),
        ));
    }
    // Categories named in prose that no table lists.
    let mut table_categories: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for mention in &found {
        if let Some(t) = mention.in_table {
            table_categories
                .entry(t)
                .or_default()
                .insert(mention.name.as_str());
        }
    }
    if let Some((&t, names)) = table_categories.iter().max_by_key(|(_, names)| names.len())
        && names.len() >= 2
    {
        let table = &model.tables[t];
        let mut reported = BTreeSet::new();
        for mention in found
            .iter()
            .filter(|m| m.in_table.is_none() && !names.contains(m.name.as_str()))
        {
            if !reported.insert((mention.name.clone(), mention.line)) {
                continue;
            }
            let message = format!(
                "文中的专业大类“{}”不在{}中（{}列出的是：{}）",
                mention.name,
                table.name,
                table.name,
                names.iter().copied().collect::<Vec<_>>().join("、")
            );
            findings.push(finding(
                model,
                "category-table",
                Severity::Warning,
                message,
                [mention.line, table.first_line],
            ));
        }
    }
    findings
}

/// Which label column of a table holds catalogue categories, and the categories by row.
fn category_column(model: &Model, table: usize) -> Option<usize> {
    let table = model.tables.get(table)?;
    (0..table.label_columns).find(|&c| {
        table
            .rows
            .iter()
            .filter(|r| {
                r.labels
                    .get(c)
                    .is_some_and(|l| catalogue().category(l).is_some())
            })
            .count()
            >= 2
    })
}

/// Two names share a word of two characters (beyond 类 and 大类): "加工制造类" ~ "装备制造大类".
fn resembles(a: &str, b: &str) -> bool {
    let core = |s: &str| {
        s.trim_end_matches('类')
            .trim_end_matches('大')
            .chars()
            .collect::<Vec<char>>()
    };
    let (a, b) = (core(a), core(b));
    a.windows(2).any(|w| b.windows(2).any(|v| v == w))
}

/// How many category tables before and after a share it is read against.
const NEAR_TABLES: usize = 4;

/// "甲类、乙类和丙类学生较多，占全校总人数的93.2%": the listed categories' share recomputed
/// from the table, for the year of the paragraph and, when that fails, the other years.
pub fn category_shares(model: &Model) -> Vec<Finding> {
    use crate::claims::ClaimKind;
    use crate::tables::TotalKind;
    let mut findings = Vec::new();
    let claims = &model.claims.claims;
    // The shares that list two categories or more, each with the names it lists in order.
    let mut lists: Vec<(usize, Vec<&str>)> = Vec::new();
    for (index, share) in claims.iter().enumerate() {
        if share.kind != ClaimKind::Share || share.owner.is_some() || !share.quantity.is_percent() {
            continue;
        }
        let mut listed: Vec<&str> = Vec::new();
        for (_, name) in names_in(&share.owner_text) {
            if !listed.contains(&name) {
                listed.push(name);
            }
        }
        if listed.len() >= 2 {
            lists.push((index, listed));
        }
    }
    if lists.is_empty() {
        return findings;
    }
    let category_tables: Vec<(usize, usize)> = (0..model.tables.len())
        .filter_map(|t| category_column(model, t).map(|c| (t, c)))
        .collect();
    for (rank, &(t, column)) in category_tables.iter().enumerate() {
        let table = &model.tables[t];
        let categories: Vec<&str> = {
            let mut seen = Vec::new();
            for row in table.rows.iter().filter(|r| r.total == TotalKind::Detail) {
                if let Some(label) = row.labels.get(column)
                    && !seen.contains(&label.as_str())
                {
                    seen.push(label.as_str());
                }
            }
            seen
        };
        for (index, listed) in &lists {
            let (index, share) = (*index, &claims[*index]);
            // A share is read against the tables near it (at most four before and after).
            let place = category_tables.partition_point(|&(u, _)| {
                model.tables[u].first_line < share.lines.first().copied().unwrap_or(0)
            });
            if rank + NEAR_TABLES < place || rank >= place + NEAR_TABLES {
                continue;
            }
            // Names the table lacks stand for the one unlisted category that resembles them.
            let mut chosen: Vec<&str> = Vec::new();
            let mut notes = Vec::new();
            for name in listed {
                if categories.contains(name) {
                    chosen.push(name);
                    continue;
                }
                let similar: Vec<&str> = categories
                    .iter()
                    .copied()
                    .filter(|c| !listed.contains(c) && resembles(name, c))
                    .collect();
                if let [one] = similar.as_slice() {
                    chosen.push(one);
                    notes.push(format!("“{name}”按“{one}”计"));
                }
            }
            if chosen.len() < 2 {
                continue;
            }
            // The whole: the total of the paragraph this share is taken of.
            let Some(whole) = (index.saturating_sub(200)..index)
                .rev()
                .take_while(|&j| claims[j].paragraph == share.paragraph)
                .find(|&j| claims[j].kind == ClaimKind::Amount && claims[j].concept.is_some())
            else {
                continue;
            };
            let Some(key) = claims[whole].concept.map(|m| m.concept.key) else {
                continue;
            };
            let columns: Vec<(usize, i32)> = table
                .columns
                .iter()
                .enumerate()
                .filter_map(|(c, h)| {
                    (crate::concepts::concept_of(&h.label()).map(|m| m.concept.key) == Some(key))
                        .then_some(c)
                        .zip(h.year)
                })
                .collect();
            let compute = |c: usize| -> Option<(f64, f64, Vec<usize>)> {
                let mut listed_sum = 0.0;
                let mut all = 0.0;
                let mut lines = Vec::new();
                for row in table.rows.iter().filter(|r| r.total == TotalKind::Detail) {
                    let value = row
                        .cells
                        .get(c)
                        .and_then(|x| x.value.as_ref())
                        .map(|q| q.value)
                        .unwrap_or(0.0);
                    all += value;
                    if row
                        .labels
                        .get(column)
                        .is_some_and(|l| chosen.contains(&l.as_str()))
                    {
                        listed_sum += value;
                        lines.push(row.line);
                    }
                }
                (all > 0.0).then_some((listed_sum, all, lines))
            };
            let decimals = share.quantity.decimals;
            let matches = |c: usize| {
                compute(c).is_some_and(|(s, a, _)| {
                    (s / a * 100.0 - share.quantity.value).abs()
                        <= super::half_unit(decimals) + 1e-9
                })
            };
            let Some(&(own, _)) = columns.iter().find(|(_, y)| Some(*y) == share.year) else {
                continue;
            };
            if matches(own) {
                continue;
            }
            let Some((sum, all, mut lines)) = compute(own) else {
                continue;
            };
            let mut message = format!(
                "文中“{}”{} 个专业大类占 {}%，按{}“{}”为 {} / {} = {}%",
                listed.join("、"),
                listed.len(),
                super::at(share.quantity.value, decimals),
                table.name,
                table.columns[own].label(),
                super::num(sum),
                super::num(all),
                super::at(sum / all * 100.0, decimals)
            );
            if !notes.is_empty() {
                message.push_str(&format!("（{}）", notes.join("，")));
            }
            // The rest: "其余5个专业大类共657人".
            let rest = claims.iter().filter(|c| {
                c.sentence == share.sentence && c.remainder && c.kind == ClaimKind::Amount
            });
            for claim in rest {
                let expected = if claim.quantity.unit == "个" {
                    (categories.len() - chosen.len()) as f64
                } else {
                    all - sum
                };
                if (claim.quantity.value - expected).abs() > 1e-6 {
                    message.push_str(&format!(
                        "；其余 {} 应为 {}",
                        claim.quantity.describe(),
                        super::num(expected)
                    ));
                    lines.extend(claim.lines.iter().copied());
                }
            }
            if let Some(&(other, other_year)) = columns
                .iter()
                .find(|&&(c, y)| Some(y) != share.year && matches(c))
                && let Some((s, a, _)) = compute(other)
            {
                message.push_str(&format!(
                    "；与{other_year}年数据相符（{} / {} = {}%），疑为沿用上年数字",
                    super::num(s),
                    super::num(a),
                    super::at(s / a * 100.0, decimals)
                ));
            }
            lines.extend(share.lines.iter().copied());
            lines.extend(
                table
                    .rows
                    .iter()
                    .filter(|r| r.total == TotalKind::Total)
                    .map(|r| r.line),
            );
            findings.push(finding(
                model,
                "category-share",
                Severity::Warning,
                message,
                lines,
            ));
        }
    }
    findings
}
