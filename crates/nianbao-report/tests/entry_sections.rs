//! Where a figure is entered follows where the report prints it: an element bound by the
//! narrative of a section (the built-in templates and the sample school's texts) is entered
//! in that section's form and template, and every row of the appended tables is an element
//! or an indicator a school can fill in — none is a label printed as 「—」 by design.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use nianbao_core::Definitions;
use nianbao_report::Content;
use nianbao_report::outline::Outline;
use nianbao_report::tables;

/// The element codes or names bound with `v(…)`, `prev(…)` or `has(…)` in a template, and
/// those of the tables it places with `table(…)`.
fn bound(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if text.contains("table(\"staff\")") {
        out.extend(tables::STAFF_COLUMNS.iter().map(|c| c.2.to_string()));
    }
    if text.contains("table(\"further\")") {
        out.extend(tables::FURTHER_COLUMNS.iter().map(|c| c.1.to_string()));
    }
    if text.contains("table(\"students\")") {
        out.extend(tables::STUDENT_GROUPS.iter().map(|c| c.2.to_string()));
    }
    for function in ["v(\"", "prev(\"", "has(\""] {
        let mut rest = text;
        while let Some(at) = rest.find(function) {
            let after = &rest[at + function.len()..];
            if let Some(end) = after.find('"') {
                out.push(after[..end].to_string());
            }
            rest = after;
        }
    }
    out
}

#[test]
fn every_bound_element_is_entered_in_a_section_that_prints_it() {
    let definitions = Definitions::builtin().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/qianjiang/content");
    let content = Content::with_folder(&sample).unwrap();
    let outline = Outline::load(&content, &definitions).unwrap();
    // Which sections print each element.
    let mut printed_in: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for part in nianbao_report::parts::parts(&outline, &definitions) {
        let Some(section) = &part.section else {
            continue;
        };
        let Some(text) = content.get(&part.path).and_then(|f| f.text().ok()) else {
            continue;
        };
        for name in bound(text) {
            let code = definitions
                .elements
                .iter()
                .find(|e| e.code == name || e.name == name)
                .unwrap_or_else(|| panic!("{} binds unknown {name}", part.path))
                .code
                .clone();
            printed_in.entry(code).or_default().insert(section.clone());
        }
    }
    assert!(printed_in.len() > 30, "{} elements bound", printed_in.len());
    let misplaced: Vec<String> = printed_in
        .iter()
        .filter_map(|(code, sections)| {
            let element = definitions.elements.get(code).unwrap();
            // Figures computed from a register are not entered anywhere.
            (!element.is_computed() && !sections.contains(&element.section)).then(|| {
                format!(
                    "{}（{code}）entered in {}, printed in {sections:?}",
                    element.name, element.section
                )
            })
        })
        .collect();
    assert!(misplaced.is_empty(), "{misplaced:#?}");
}

#[test]
fn every_row_of_the_appended_tables_can_be_filled_in() {
    let definitions = Definitions::builtin().unwrap();
    let outline = Outline::load(&Content::generic(), &definitions).unwrap();
    let rows: Vec<_> = outline
        .appendix
        .tables
        .iter()
        .flat_map(|t| t.rows.iter().map(move |r| (t.title.as_str(), r)))
        .collect();
    assert!(rows.len() > 40);
    for (table, row) in rows {
        assert!(
            row.item.is_some(),
            "附表「{table}」的「{}」不是可填报的数据项",
            row.label.as_deref().unwrap_or_default()
        );
    }
}
