//! Lines to blocks: headings with section numbers, captions of figures, tables and cases,
//! the entries of the contents lists, table rows, and prose paragraphs (joined across the
//! line and page breaks of PDF extraction).

use crate::lines::{Joined, ends_sentence, is_blank};
use crate::read::Document;

/// What a caption or a list entry labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelKind {
    Figure,
    Table,
    Case,
    Challenge,
}

impl LabelKind {
    /// The Chinese word of the label ("图", "表", "典型案例", "挑战").
    pub fn word(self) -> &'static str {
        match self {
            LabelKind::Figure => "图",
            LabelKind::Table => "表",
            LabelKind::Case => "典型案例",
            LabelKind::Challenge => "挑战",
        }
    }
}

/// Which contents list a run of entries belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    Contents,
    Figures,
    Tables,
    Cases,
}

impl ListKind {
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Contents => "目录",
            ListKind::Figures => "图目录",
            ListKind::Tables => "表目录",
            ListKind::Cases => "案例目录",
        }
    }
}

/// A numbered section heading ("1.4师资队伍").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub line: usize,
    pub number: Vec<u32>,
    pub title: String,
}

impl Heading {
    pub fn number_text(&self) -> String {
        section_text(&self.number)
    }
}

/// "1.4" from [1, 4].
pub fn section_text(number: &[u32]) -> String {
    number
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// A caption in the body ("图3：开展金课活动").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caption {
    pub line: usize,
    pub kind: LabelKind,
    pub number: u32,
    pub title: String,
}

/// One entry of a contents list, with its page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub list: ListKind,
    /// A figure, table, case or challenge label.
    pub label: Option<(LabelKind, u32)>,
    /// A section number ("1.4").
    pub section: Option<Vec<u32>>,
    pub title: String,
}

/// A block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Joined),
    Heading(Heading),
    Caption(Caption),
    Entry(Entry),
    /// Consecutive rows of a table: (line, cells).
    Table(Vec<(usize, Vec<String>)>),
}

/// What one line is.
#[derive(Debug, Clone, PartialEq)]
enum LineKind {
    Blank,
    /// The "|---|---|" line under a Markdown table's header.
    Rule,
    ListTitle(ListKind),
    Entry {
        title: String,
    },
    Row(Vec<String>),
    Heading(Vec<u32>, String),
    Caption(LabelKind, u32, String),
    Text,
}

/// The blocks of a document and the section each line belongs to.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub blocks: Vec<Block>,
    /// Section number ("1.4") of each line, index = line - 1.
    pub sections: Vec<String>,
}

impl Layout {
    pub fn section_of(&self, line: usize) -> &str {
        line.checked_sub(1)
            .and_then(|i| self.sections.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// Splits a document into blocks.
pub fn layout(document: &Document) -> Layout {
    let mut blocks = Vec::new();
    let mut sections = Vec::with_capacity(document.lines.len());
    let mut section = String::new();
    let mut paragraph = Joined::default();
    let mut paragraph_open = false;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    let mut list: Option<ListKind> = None;

    let flush_paragraph = |blocks: &mut Vec<Block>, paragraph: &mut Joined, open: &mut bool| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(std::mem::take(paragraph)));
        }
        *open = false;
    };
    let flush_rows = |blocks: &mut Vec<Block>, rows: &mut Vec<(usize, Vec<String>)>| {
        if !rows.is_empty() {
            blocks.push(Block::Table(std::mem::take(rows)));
        }
    };

    for (index, line) in document.lines.iter().enumerate() {
        let number = index + 1;
        let kind = classify(line);
        if !matches!(kind, LineKind::Row(_) | LineKind::Blank | LineKind::Rule) {
            flush_rows(&mut blocks, &mut rows);
        }
        match kind {
            LineKind::Rule => {}
            LineKind::Blank => {
                flush_rows(&mut blocks, &mut rows);
            }
            LineKind::ListTitle(kind) => {
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                list = Some(kind);
            }
            LineKind::Entry { title } => {
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                let (label, rest) = match parse_label(&title) {
                    Some((kind, n, rest)) => (Some((kind, n)), rest),
                    None => (None, title.clone()),
                };
                let heading = parse_heading_number(&rest);
                let inferred = match label {
                    Some((LabelKind::Figure, _)) => ListKind::Figures,
                    Some((LabelKind::Table, _)) => ListKind::Tables,
                    Some((LabelKind::Case, _)) => ListKind::Cases,
                    _ => ListKind::Contents,
                };
                let list_kind = list.unwrap_or(inferred);
                let (section_number, title) = match (label, heading) {
                    (None, Some((n, t))) => (Some(n), t),
                    _ => (None, rest),
                };
                blocks.push(Block::Entry(Entry {
                    line: number,
                    list: list_kind,
                    label,
                    section: section_number,
                    title,
                }));
            }
            LineKind::Row(cells) => {
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                list = None;
                rows.push((number, cells));
            }
            LineKind::Heading(n, title) => {
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                list = None;
                section = section_text(&n);
                blocks.push(Block::Heading(Heading {
                    line: number,
                    number: n,
                    title,
                }));
            }
            LineKind::Caption(kind, n, title) => {
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                list = None;
                blocks.push(Block::Caption(Caption {
                    line: number,
                    kind,
                    number: n,
                    title,
                }));
            }
            LineKind::Text => {
                list = None;
                let continues =
                    paragraph_open && !paragraph.is_empty() && !ends_sentence(&paragraph.text);
                if !continues {
                    flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                }
                paragraph.push_line(number, line);
                paragraph_open = true;
            }
        }
        sections.push(section.clone());
    }
    flush_rows(&mut blocks, &mut rows);
    flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
    Layout { blocks, sections }
}

fn classify(line: &str) -> LineKind {
    let trimmed = line.trim_matches(is_blank);
    if trimmed.is_empty() {
        return LineKind::Blank;
    }
    // Markdown tables: "| a | b |"; the "|---|" rule line is a blank.
    if trimmed.starts_with('|') && trimmed.len() > 1 {
        let inner = trimmed.trim_start_matches('|').trim_end_matches('|');
        if inner.chars().all(|c| matches!(c, '-' | ':' | '|' | ' ')) {
            return LineKind::Rule;
        }
        let cells = inner.split('|').map(|c| c.trim().to_string()).collect();
        return LineKind::Row(cells);
    }
    let unmarked = trimmed.trim_start_matches('#').trim_matches(is_blank);
    let unmarked = unmarked.trim_matches('*').trim_matches(is_blank);
    let compact: String = unmarked.chars().filter(|c| !is_blank(*c)).collect();
    let list_title = match compact.as_str() {
        "目录" | "目次" => Some(ListKind::Contents),
        "图目录" | "插图目录" | "图片目录" => Some(ListKind::Figures),
        "表目录" | "表格目录" => Some(ListKind::Tables),
        "案例目录" | "典型案例目录" => Some(ListKind::Cases),
        _ => None,
    };
    if let Some(kind) = list_title {
        return LineKind::ListTitle(kind);
    }
    if line.contains('\t') {
        let cells: Vec<String> = line
            .split('\t')
            .map(|c| c.trim_matches(is_blank).to_string())
            .collect();
        let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
        let is_page =
            |c: &str| !c.is_empty() && c.len() <= 4 && c.chars().all(|d| d.is_ascii_digit());
        if filled.len() == 2 && is_page(filled[1]) && !is_page(filled[0]) {
            return LineKind::Entry {
                title: strip_leaders(filled[0]),
            };
        }
        if filled.len() >= 2 {
            return LineKind::Row(cells);
        }
    }
    // "1.1 基本情况 ........ 1"
    if let Some(title) = dotted_entry(unmarked) {
        return LineKind::Entry { title };
    }
    if let Some((kind, n, title)) = parse_label(unmarked) {
        let title = title.trim_end_matches(['。', '.']).to_string();
        let commas_allowed = kind == LabelKind::Case;
        if title.chars().count() <= 60
            && !title.contains('。')
            && (commas_allowed || !title.contains('，'))
        {
            return LineKind::Caption(kind, n, title);
        }
    }
    if let Some((n, title)) = parse_heading_number(unmarked)
        && title.chars().count() <= 40
        && !title.contains(['，', '。', '；', '、', ',', ';'])
    {
        return LineKind::Heading(n, title);
    }
    LineKind::Text
}

/// Removes dot leaders and ellipses from a list entry's title.
fn strip_leaders(title: &str) -> String {
    title
        .trim_end_matches(|c: char| matches!(c, '.' | '·' | '…' | '。') || is_blank(c))
        .to_string()
}

fn dotted_entry(text: &str) -> Option<String> {
    let page_len = text
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if page_len == 0 || page_len > 4 {
        return None;
    }
    let body: String = text.chars().take(text.chars().count() - page_len).collect();
    let leaders = body
        .chars()
        .rev()
        .take_while(|c| matches!(c, '.' | '·' | '…') || is_blank(*c))
        .filter(|c| !is_blank(*c))
        .count();
    if leaders >= 3 {
        let title = strip_leaders(&body);
        (!title.is_empty()).then_some(title)
    } else {
        None
    }
}

/// "图 3：开展金课活动" → (Figure, 3, "开展金课活动").
pub fn parse_label(text: &str) -> Option<(LabelKind, u32, String)> {
    let text = text.trim_matches(is_blank);
    let (kind, rest) = [
        ("典型案例", LabelKind::Case),
        ("案例", LabelKind::Case),
        ("挑战", LabelKind::Challenge),
        ("图", LabelKind::Figure),
        ("表", LabelKind::Table),
    ]
    .iter()
    .find_map(|(word, kind)| text.strip_prefix(word).map(|rest| (*kind, rest)))?;
    let rest = rest.trim_start_matches(is_blank);
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() || digits.len() > 3 {
        return None;
    }
    let number = digits.parse().ok()?;
    let after = rest[digits.len()..].trim_start_matches(is_blank);
    let title = after
        .strip_prefix(['：', ':', '.', '、', '．'])
        .map(|t| t.trim_matches(is_blank))
        .or_else(|| (after.len() < rest[digits.len()..].len()).then_some(after))?;
    if title.is_empty() {
        return None;
    }
    Some((kind, number, title.to_string()))
}

/// "1.4师资队伍" → ([1, 4], "师资队伍"); "2. 人才培养" → ([2], "人才培养").
pub fn parse_heading_number(text: &str) -> Option<(Vec<u32>, String)> {
    let text = text.trim_matches(is_blank);
    let mut numbers = Vec::new();
    let mut rest = text;
    let mut dotted = false;
    let mut trailing_dot = false;
    loop {
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() || digits.len() > 2 {
            break;
        }
        numbers.push(digits.parse().ok()?);
        rest = &rest[digits.len()..];
        match rest.chars().next() {
            Some(c @ ('.' | '．')) => {
                dotted = true;
                trailing_dot = true;
                rest = &rest[c.len_utf8()..];
            }
            _ => {
                trailing_dot = false;
                break;
            }
        }
    }
    if numbers.is_empty() || numbers.len() > 4 {
        return None;
    }
    let spaced = rest.starts_with(is_blank);
    let rest = rest.trim_start_matches(is_blank);
    let rest = rest.strip_prefix('、').unwrap_or(rest);
    if !(dotted || spaced) {
        return None;
    }
    let first = rest.chars().next()?;
    // A title starts with a word, not with a unit or a number ("2.5万元" is not a heading).
    if first.is_ascii_digit()
        || first.is_ascii_punctuation()
        || (!(dotted && (trailing_dot || spaced)) && "年月日万亿%％个人项名次元".contains(first))
    {
        return None;
    }
    Some((numbers, rest.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_lines() {
        assert_eq!(
            classify("1.4师资队伍"),
            LineKind::Heading(vec![1, 4], "师资队伍".into())
        );
        assert_eq!(
            classify("2. 人才培养"),
            LineKind::Heading(vec![2], "人才培养".into())
        );
        assert_eq!(
            classify("## 3.1 服务企业"),
            LineKind::Heading(vec![3, 1], "服务企业".into())
        );
        assert_eq!(
            classify("1.学校概况\t1"),
            LineKind::Entry {
                title: "1.学校概况".into()
            }
        );
        assert_eq!(
            classify("图 1: 学校大门\t2"),
            LineKind::Entry {
                title: "图 1: 学校大门".into()
            }
        );
        assert_eq!(
            classify("图3：开展金课活动"),
            LineKind::Caption(LabelKind::Figure, 3, "开展金课活动".into())
        );
        assert_eq!(classify("表 目 录"), LineKind::ListTitle(ListKind::Tables));
        assert_eq!(classify("3项、二等奖5项。"), LineKind::Text);
        assert_eq!(classify("2.5万元用于设备"), LineKind::Text);
        assert!(matches!(classify("年份\t人数\t合计"), LineKind::Row(_)));
        assert_eq!(
            classify("1.1 基本情况 ........ 1"),
            LineKind::Entry {
                title: "1.1 基本情况".into()
            }
        );
    }

    #[test]
    fn joins_paragraphs_across_page_breaks() {
        let document = Document::from_text(
            "1.1 概况\n\n学校共有教师\n\n\n\n120人。另有\n职工5人。\n\n新段落。",
        );
        let layout = layout(&document);
        let paragraphs: Vec<&Joined> = layout
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Paragraph(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(paragraphs.len(), 2);
        assert_eq!(paragraphs[0].text, "学校共有教师120人。另有职工5人。");
        assert_eq!(layout.section_of(7), "1.1");
    }
}
