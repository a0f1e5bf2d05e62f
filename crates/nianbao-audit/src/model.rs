//! The document model: blocks, tables with their captions, prose claims, lists and
//! captions, and the year the report is about — everything the checks read.

use crate::blocks::{Block, Caption, Entry, Heading, LabelKind, Layout, layout};
use crate::claims::{Claims, extract};
use crate::lines::Joined;
use crate::numbers::{Token, scan};
use crate::read::Document;
use crate::tables::{Table, parse_table};

/// Everything extracted from a report.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub document: Document,
    pub layout: Layout,
    pub paragraphs: Vec<Joined>,
    pub tables: Vec<Table>,
    pub headings: Vec<Heading>,
    pub captions: Vec<Caption>,
    pub entries: Vec<Entry>,
    pub claims: Claims,
    /// The year the report is about (the year of its title), when it can be told.
    pub report_year: Option<i32>,
}

impl Model {
    /// Reads a document into the model.
    pub fn build(document: Document) -> Model {
        let layout = layout(&document);
        let mut paragraphs = Vec::new();
        let mut tables = Vec::new();
        let mut headings = Vec::new();
        let mut captions = Vec::new();
        let mut entries = Vec::new();
        let mut used_captions = Vec::new();
        for (index, block) in layout.blocks.iter().enumerate() {
            match block {
                Block::Paragraph(p) => paragraphs.push(p.clone()),
                Block::Heading(h) => headings.push(h.clone()),
                Block::Caption(c) => captions.push(c.clone()),
                Block::Entry(e) => entries.push(e.clone()),
                Block::Table(rows) => {
                    let caption = table_caption(&layout.blocks, index, &used_captions);
                    if let Some(line) = caption.as_ref().map(|c| c.line) {
                        used_captions.push(line);
                    }
                    tables.push(parse_table(
                        rows,
                        caption.map(|c| (c.number, c.title.clone())),
                    ));
                }
            }
        }
        let report_year = report_year(&document, &paragraphs);
        let claims = extract(&paragraphs, report_year);
        Model {
            document,
            layout,
            paragraphs,
            tables,
            headings,
            captions,
            entries,
            claims,
            report_year,
        }
    }

    /// The text of 1-based line `n`, trimmed.
    pub fn line_text(&self, n: usize) -> String {
        self.document.line(n).trim().to_string()
    }
}

/// A table's caption: the table caption just before it (not yet taken by another table), else
/// the one just after it (blank lines between do not count).
fn table_caption<'a>(blocks: &'a [Block], index: usize, used: &[usize]) -> Option<&'a Caption> {
    let is_table_caption = |block: Option<&'a Block>| match block {
        Some(Block::Caption(c)) if c.kind == LabelKind::Table && !used.contains(&c.line) => Some(c),
        _ => None,
    };
    let before = index
        .checked_sub(1)
        .and_then(|i| is_table_caption(blocks.get(i)));
    let after_is_table = matches!(blocks.get(index + 2), Some(Block::Table(_)));
    match before {
        Some(c) if !matches!(blocks.get(index.wrapping_sub(2)), Some(Block::Table(_))) => Some(c),
        _ => {
            is_table_caption(blocks.get(index + 1)).filter(|_| !after_is_table || before.is_none())
        }
    }
}

/// The report's year: the year in a title line that names a report (年度报告, 年报), else the
/// year most often written.
fn report_year(document: &Document, paragraphs: &[Joined]) -> Option<i32> {
    for line in document.lines.iter().take(200) {
        if line.contains("报告") || line.contains("年报") {
            let year = scan(line).into_iter().find_map(|t| match t {
                Token::Year(y) => Some(y.year),
                _ => None,
            });
            if year.is_some() {
                return year;
            }
        }
    }
    let mut counts: std::collections::BTreeMap<i32, usize> = Default::default();
    for paragraph in paragraphs {
        for token in scan(&paragraph.text) {
            if let Token::Year(y) = token {
                *counts.entry(y.year).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(year, count)| (count, year))
        .map(|(year, _)| year)
}
