//! One text of the report as its author writes it: checked before it is saved, and shown
//! with its bound values filled in.
//!
//! [`validate`] finds what is wrong with the text itself whatever the data holds: template
//! syntax, bindings to names that do not exist (with the nearest known names), links to
//! anything but a web or mail address, pictures the content does not have. A text with
//! such a problem is not saved. [`preview`] renders the text against the data; a binding
//! without a value is a gap shown in the preview, not a reason to refuse the text.

use minijinja::Environment;
use pulldown_cmark::{Event, Parser, Tag};

use nianbao_core::{Dataset, Definitions, Year};

use crate::content::Content;
use crate::error::ReportError;
use crate::markdown::safe_link;
use crate::model::Block;
use crate::narrative::Narrative;
use crate::{ReportInput, Status, assemble, table_years};

/// A problem in a text, at a line (1-based; 0 for the text as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "第 {} 行：{}", self.line, self.message)
        }
    }
}

/// The functions whose first argument names an element or an indicator.
const ELEMENT_FUNCTIONS: [&str; 4] = ["v", "prev", "has", "major_sum"];
const INDICATOR_FUNCTION: &str = "ind";

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Every `name("literal"` call in the text: (function, literal, byte offset).
fn literal_calls<'a>(text: &'a str, function: &str) -> Vec<(&'a str, usize)> {
    let needle = format!("{function}(");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let at = from + found;
        from = at + needle.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = text[from..].trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let inner = &rest[1..];
        if let Some(end) = inner.find(quote) {
            out.push((&inner[..end], at));
        }
    }
    out
}

fn nearest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> String {
    let near = crate::narrative::nearest(wanted, names);
    if near.is_empty() {
        String::new()
    } else {
        format!("；相近的有：{}", near.join("、"))
    }
}

/// What is wrong with a text whatever the data holds; empty when it can be saved.
pub fn validate(
    definitions: &Definitions,
    content: &Content,
    display: &str,
    text: &str,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut env = Environment::new();
    if let Err(error) = env.add_template(display, text) {
        problems.push(Problem {
            line: error.line().unwrap_or(1),
            message: format!(
                "模板语法有误：{}",
                error.detail().unwrap_or(&error.kind().to_string())
            ),
        });
    }
    for function in ELEMENT_FUNCTIONS {
        for (name, at) in literal_calls(text, function) {
            let known = definitions.elements.get(name).is_some()
                || definitions.elements.iter().any(|e| e.name == name.trim());
            if !known {
                problems.push(Problem {
                    line: line_at(text, at),
                    message: format!(
                        "没有名为「{name}」的数据项{}",
                        nearest(name, definitions.elements.iter().map(|e| e.name.as_str()))
                    ),
                });
            }
        }
    }
    for (name, at) in literal_calls(text, INDICATOR_FUNCTION) {
        let known = definitions
            .indicators
            .iter()
            .any(|i| i.id == name || i.name == name.trim());
        if !known {
            problems.push(Problem {
                line: line_at(text, at),
                message: format!(
                    "没有名为「{name}」的指标{}",
                    nearest(name, definitions.indicators.iter().map(|i| i.name.as_str()))
                ),
            });
        }
    }
    for (path, at) in literal_calls(text, "figure") {
        if content.get(path).is_none() {
            problems.push(Problem {
                line: line_at(text, at),
                message: format!("图片「{path}」不存在：请先上传"),
            });
        }
    }
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) if !safe_link(&dest_url) => {
                problems.push(Problem {
                    line: line_at(text, range.start),
                    message: format!(
                        "链接「{dest_url}」不被接受：只能链接到 http://、https://、mailto: 地址或报告内的 # 锚点"
                    ),
                });
            }
            Event::Start(Tag::Image { dest_url, .. }) if content.get(&dest_url).is_none() => {
                problems.push(Problem {
                    line: line_at(text, range.start),
                    message: format!("图片「{dest_url}」不存在：请先上传"),
                });
            }
            _ => {}
        }
    }
    problems.sort_by_key(|p| p.line);
    problems
}

/// A text rendered for the editor: its blocks (gap boxes where data is missing), the data
/// gaps it met, and how many characters of prose it prints.
#[derive(Debug, Clone)]
pub struct Preview {
    pub blocks: Vec<Block>,
    pub gaps: Vec<String>,
    pub chars: usize,
}

/// Renders a text as it would print in the part at content path `path` (a case's body is
/// rendered like a section's text). The text must have passed [`validate`].
pub fn preview(
    definitions: &Definitions,
    data: &Dataset,
    year: Year,
    content: &Content,
    path: &str,
    text: &str,
) -> Result<Preview, ReportError> {
    let findings = Vec::new();
    let indicators = nianbao_core::evaluate_indicators(definitions, data, year);
    let input = ReportInput {
        definitions,
        data,
        year,
        findings: &findings,
        indicators: &indicators,
        acceptances: &[],
        status: Status::Draft,
    };
    let years = table_years(data, year);
    let mut content = content.clone();
    content.insert(path, path, text.as_bytes().to_vec());
    let narrative = Narrative::new(
        definitions,
        data,
        year,
        &years,
        &indicators,
        &content,
        assemble::context(&input, &years),
    )?;
    let section = path
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".md"))
        .unwrap_or_default();
    let extra = minijinja::context! {
        section => minijinja::context! {
            number => section,
            title => definitions.section_title(section).unwrap_or_default(),
            cases => 0,
        },
    };
    let (mut blocks, gaps) = match narrative.render_str(path, text, extra) {
        Ok(blocks) => (blocks, Vec::new()),
        Err(error) => {
            let gaps = narrative.take_gaps();
            if gaps.is_empty() {
                return Err(error);
            }
            let blocks = gaps
                .iter()
                .map(|g| Block::Gap(format!("【待补数据：{g}】")))
                .collect();
            (blocks, gaps)
        }
    };
    crate::model::number_in_order(&mut blocks);
    let mut chars = 0;
    crate::model::walk(&blocks, &mut |block| match block {
        Block::Paragraph(p) => chars += p.text().chars().filter(|c| !c.is_whitespace()).count(),
        Block::List { items, .. } => {
            for item in items {
                chars += item
                    .iter()
                    .map(|r| r.text.chars().filter(|c| !c.is_whitespace()).count())
                    .sum::<usize>();
            }
        }
        Block::Heading(h) => chars += h.text.chars().count(),
        _ => {}
    });
    Ok(Preview {
        blocks,
        gaps,
        chars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_bad_links_and_syntax_are_found_at_their_lines() {
        let definitions = Definitions::builtin().unwrap();
        let content = Content::generic();
        let text = "第一行 {{ v(\"教职工总人数\") }}\n[点我](javascript:alert(1))\n{{ ind(\"生师比\") }} {% if %}";
        let problems = validate(&definitions, &content, "t.md", text);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert!(
            lines.contains(&1) && lines.contains(&2) && lines.contains(&3),
            "{problems:?}"
        );
        let first = problems.iter().find(|p| p.line == 1).unwrap();
        assert!(
            first.message.contains("教职工总数"),
            "nearest name offered: {first}"
        );
        assert!(
            validate(
                &definitions,
                &content,
                "t.md",
                "{{ v(\"教职工总数\") | num }}，{{ ind(\"生师比\").display }}"
            )
            .is_empty()
        );
    }
}
