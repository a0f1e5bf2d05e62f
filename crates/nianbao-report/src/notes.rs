//! The data notes appendix (数据说明): the dataset's notes on single facts, and the warnings
//! of the data check that the school accepted with a written explanation — who accepted
//! each and when. Built as blocks of the document model, so the three formats show the same.
//!
//! Notes and explanations are the school's own words and may state other figures (what an
//! earlier report said, why a number changed); they are printed in quotation marks 「…」 as
//! quoted statements, so that they are not read as the report's own claims.

use nianbao_core::{Acceptance, Dataset, Definitions, Finding, Year};

use crate::format::chinese_date;
use crate::model::{Align, Block, Heading, Inline, Paragraph};

/// The title of the appendix.
pub const TITLE: &str = "数据说明";

/// The anchor of the appendix.
pub const ID: &str = "data-notes";

/// The appendix's blocks: its heading, the notes on the years the tables show, and the
/// accepted warnings up to the report year (`years` ends with it).
pub fn blocks(
    definitions: &Definitions,
    data: &Dataset,
    years: &[Year],
    findings: &[Finding],
    acceptances: &[Acceptance],
) -> Vec<Block> {
    let mut out = vec![
        Block::Heading(Heading {
            level: 1,
            number: None,
            text: TITLE.to_string(),
            id: ID.to_string(),
            in_toc: true,
            page_break: true,
        }),
        body(
            "本部分说明报告所用数据中需要交代的情况：一是个别数据项的来源或口径，二是数据核查提出、学校核实后作了书面说明的提示。引号内为原始说明。",
        ),
    ];

    out.push(subtitle("一、数据项说明"));
    let notes: Vec<_> = data
        .notes
        .iter()
        .filter(|(key, _)| years.contains(&key.year))
        .collect();
    if notes.is_empty() {
        out.push(body("本报告所用数据没有需要说明的数据项。"));
    }
    for (index, (key, text)) in notes.into_iter().enumerate() {
        let name = definitions.elements.name(&key.element);
        let subject = match &key.major {
            Some(major) => format!("{major}专业{name}"),
            None => name.to_string(),
        };
        out.push(item(
            index + 1,
            vec![
                Inline::plain(format!("{} 年度，{subject}：", key.year)),
                Inline::plain(quote(text)),
            ],
        ));
    }

    out.push(subtitle("二、已说明的核查提示"));
    let report_year = years.last().copied();
    let accepted: Vec<(&Finding, &Acceptance)> = findings
        .iter()
        .filter(|f| finding_year(f).is_none_or(|y| report_year.is_none_or(|r| y <= r)))
        .filter_map(|f| {
            let key = f.key();
            acceptances.iter().find(|a| a.key == key).map(|a| (f, a))
        })
        .collect();
    if accepted.is_empty() {
        out.push(body("没有经书面说明后保留的核查提示。"));
    }
    for (index, (finding, acceptance)) in accepted.into_iter().enumerate() {
        out.push(item(
            index + 1,
            vec![
                Inline::plain(format!("核查{}：", finding.severity.label())),
                Inline::plain(quote(&finding.message)),
            ],
        ));
        out.push(Block::Paragraph(Paragraph::new(vec![
            Inline::plain("学校说明："),
            Inline::plain(quote(&acceptance.explanation)),
            Inline::plain(format!(
                "（{}，{}确认）",
                acceptance.actor.trim(),
                accepted_on(&acceptance.accepted_at)
            )),
        ])));
    }
    out
}

/// The year a finding concerns: the year of its first location.
fn finding_year(finding: &Finding) -> Option<Year> {
    finding.locations.first().and_then(|l| l.year)
}

/// "2026-01-05 08:30:00" → "2026 年 1 月 5 日"; anything else as written.
fn accepted_on(at: &str) -> String {
    let date = at.trim().get(..10).unwrap_or(at.trim());
    let formatted = chinese_date(date);
    if formatted == date {
        at.trim().to_string()
    } else {
        formatted
    }
}

/// Text in corner quotation marks, on one line (the marks of the text itself kept).
fn quote(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("「{text}」")
}

fn body(text: &str) -> Block {
    Block::Paragraph(Paragraph::new(vec![Inline::plain(text)]))
}

fn subtitle(text: &str) -> Block {
    Block::Paragraph(Paragraph {
        runs: vec![Inline::bold(text)],
        align: Align::Left,
    })
}

/// A numbered item: "（1）…".
fn item(number: usize, mut runs: Vec<Inline>) -> Block {
    runs.insert(0, Inline::plain(format!("（{number}）")));
    Block::Paragraph(Paragraph::new(runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_quotes() {
        assert_eq!(accepted_on("2026-01-05 08:30:00"), "2026 年 1 月 5 日");
        assert_eq!(accepted_on("2026-01-05T08:30:00Z"), "2026 年 1 月 5 日");
        assert_eq!(accepted_on("昨天"), "昨天");
        assert_eq!(quote("a\n  b"), "「a b」");
    }
}
