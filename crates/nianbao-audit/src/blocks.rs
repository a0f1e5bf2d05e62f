//! Lines to blocks: headings with section numbers, captions of figures, tables and cases,
//! the entries of the contents lists, table rows, and prose paragraphs (joined across the
//! line and page breaks of PDF extraction).

use std::collections::BTreeSet;

use crate::limits::{MAX_COLUMNS, MAX_PARAGRAPH_BYTES};
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

/// A contents list being read: its kind and what it has listed so far, so that the body's
/// first heading or caption (which repeats a listed one) ends it.
struct ListRun {
    kind: ListKind,
    sections: BTreeSet<Vec<u32>>,
    labels: BTreeSet<(LabelKind, u32)>,
}

impl ListRun {
    fn new(kind: ListKind) -> ListRun {
        ListRun {
            kind,
            sections: BTreeSet::new(),
            labels: BTreeSet::new(),
        }
    }

    /// Whether a heading line is the next entry of this list rather than the body's heading.
    fn takes_heading(&self, number: &[u32]) -> bool {
        self.kind == ListKind::Contents && !self.sections.contains(number)
    }

    /// Whether a caption line is the next entry of this list rather than the body's caption.
    fn takes_caption(&self, kind: LabelKind, number: u32) -> bool {
        let fits = match self.kind {
            ListKind::Figures => kind == LabelKind::Figure,
            ListKind::Tables => kind == LabelKind::Table,
            ListKind::Cases => matches!(kind, LabelKind::Case | LabelKind::Challenge),
            ListKind::Contents => false,
        };
        fits && !self.labels.contains(&(kind, number))
    }
}

/// Splits a document into blocks.
///
/// Contents lists are recognised by their shape: a title (目录, 图目录, 表目录, 案例目录)
/// followed by entries, which end in page numbers or dot leaders, or — in a list whose page
/// numbers are not filled in yet (a Word field before it is updated, a web page) — repeat
/// the body's headings or captions; the list ends at the first line that is not an entry
/// or repeats one already listed. Prose broken across lines is joined into paragraphs;
/// across blank lines only when the line before is long or fills the text width (a page
/// break in PDF text), so short pieces (table cells, chart labels) stay apart.
pub fn layout(document: &Document) -> Layout {
    let mut blocks = Vec::new();
    let mut sections = Vec::with_capacity(document.lines.len());
    let mut section = String::new();
    let mut paragraph = Joined::default();
    let mut paragraph_open = false;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    let mut list: Option<ListRun> = None;
    let full_width = full_width(document);
    // Whether a blank line (or a page number) came after the paragraph's last line, and
    // whether that line was long or filled the text width.
    let mut gap = false;
    let mut last_full = false;
    // The chapter the headings are in, and whether it was numbered in Chinese.
    let mut chapter = 0u32;
    let mut chinese_chapter = false;
    // Whether chapters are numbered in Chinese, once the first chapter is seen.
    let mut scheme: Option<bool> = None;

    let flush_paragraph = |blocks: &mut Vec<Block>, paragraph: &mut Joined, open: &mut bool| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(std::mem::take(paragraph)));
        }
        *open = false;
    };
    let flush_rows = |blocks: &mut Vec<Block>, rows: &mut Vec<(usize, Vec<String>)>| {
        if !rows.is_empty() {
            let rows = std::mem::take(rows);
            if whole_table(document, &rows) {
                blocks.push(Block::Table(rows));
            }
        }
    };

    for (index, line) in document.lines.iter().enumerate() {
        let number = index + 1;
        let mut kind = classify(line);
        if kind == LineKind::Text && is_page_number(document, index) {
            kind = LineKind::Blank;
        }
        // A header of short words apart by single spaces (as `pdftotext -layout` writes a
        // CJK table's) when a row follows it.
        if kind == LineKind::Text
            && let Some(cells) = spaced_header(line)
            && cells.len() >= 3
            && matches!(next_kind(document, index), Some(LineKind::Row(_)))
        {
            kind = LineKind::Row(cells);
        }
        // Inside a table, a row of a label and one number is the table's, not a list entry.
        if matches!(kind, LineKind::Entry { .. }) && list.is_none() && !rows.is_empty() {
            kind = LineKind::Row(cells(line));
        }
        // Headings and captions that a list without page numbers lists.
        match (&kind, &list) {
            (LineKind::Heading(n, title), Some(run)) if run.takes_heading(n) => {
                let dot = if n.len() == 1 { "." } else { "" };
                kind = LineKind::Entry {
                    title: format!("{}{dot} {title}", section_text(n)),
                };
            }
            (LineKind::Caption(k, n, title), Some(run)) if run.takes_caption(*k, *n) => {
                kind = LineKind::Entry {
                    title: format!("{}{n}：{title}", k.word()),
                };
            }
            (LineKind::Text, Some(run))
                if run.kind == ListKind::Contents && is_list_title_text(line) =>
            {
                kind = LineKind::Entry {
                    title: line.trim_matches(is_blank).to_string(),
                };
            }
            _ => {}
        }
        if !matches!(kind, LineKind::Row(_) | LineKind::Blank | LineKind::Rule) {
            flush_rows(&mut blocks, &mut rows);
        }
        match kind {
            LineKind::Rule => {}
            LineKind::Blank => {
                // Rows apart by blank lines (`pdftotext -layout`) stay one table.
                if rows.is_empty() || !matches!(next_kind(document, index), Some(LineKind::Row(_)))
                {
                    flush_rows(&mut blocks, &mut rows);
                }
                gap = true;
            }
            LineKind::ListTitle(kind) => {
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                list = Some(ListRun::new(kind));
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
                let run = list.get_or_insert_with(|| ListRun::new(inferred));
                let (section_number, title) = match (label, heading) {
                    (None, Some((n, t))) => (Some(n), t),
                    _ => (None, rest),
                };
                if let Some(n) = &section_number {
                    run.sections.insert(n.clone());
                }
                if let Some(label) = label {
                    run.labels.insert(label);
                }
                blocks.push(Block::Entry(Entry {
                    line: number,
                    list: run.kind,
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
            LineKind::Heading(mut n, title) => {
                // Under a chapter numbered in Chinese, "（一）" and "1." number its sections.
                let bare = line
                    .trim_matches(is_blank)
                    .trim_start_matches('#')
                    .trim_matches(is_blank)
                    .trim_matches('*');
                let chinese = parse_chinese_heading(bare).is_some();
                // The first chapter decides how chapters are numbered: in a report whose
                // chapters are numbered 1, 2, … a "一、" is an item of a list, not a chapter.
                if scheme.is_none() && n.len() == 1 && n[0] != 0 {
                    scheme = Some(chinese);
                }
                if chinese && scheme == Some(false) {
                    list = None;
                    let continues =
                        paragraph_open && !paragraph.is_empty() && !ends_sentence(&paragraph.text);
                    if !continues {
                        flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                    }
                    paragraph.push_line(number, line);
                    paragraph_open = true;
                    sections.push(section.clone());
                    continue;
                }
                flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                list = None;
                if n.first() == Some(&0) {
                    n[0] = chapter.max(1);
                } else if n.len() == 1 && !chinese && chinese_chapter {
                    n = vec![chapter.max(1), n[0]];
                } else if n.len() == 1 {
                    chapter = n[0];
                    chinese_chapter = chinese;
                }
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
                let continues = paragraph_open
                    && !paragraph.is_empty()
                    && !ends_sentence(&paragraph.text)
                    && (!gap || last_full);
                if !continues {
                    flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                }
                // A paragraph is bounded: a longer run of text becomes several.
                for piece in pieces(line, MAX_PARAGRAPH_BYTES) {
                    if paragraph.text.len() + piece.len() > MAX_PARAGRAPH_BYTES {
                        flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
                    }
                    paragraph.push_line(number, piece);
                }
                paragraph_open = true;
                gap = false;
                let w = width(line);
                last_full = w >= LONG_LINE || w * 100 >= full_width * 85;
            }
        }
        sections.push(section.clone());
    }
    flush_rows(&mut blocks, &mut rows);
    flush_paragraph(&mut blocks, &mut paragraph, &mut paragraph_open);
    Layout { blocks, sections }
}

/// A line cut into pieces of at most `max` bytes, each ending at a sentence end, else at a
/// clause end, else at a character boundary (past half of `max`, so that pieces are never
/// tiny).
fn pieces(line: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while rest.len() > max {
        let mut limit = max;
        while !rest.is_char_boundary(limit) {
            limit -= 1;
        }
        let window = &rest[..limit];
        let after = |at: Option<(usize, char)>| at.map(|(i, c)| i + c.len_utf8());
        let cut = after(
            window
                .char_indices()
                .rfind(|(_, c)| SENTENCE_END.contains(*c)),
        )
        .filter(|&i| i >= max / 2)
        .or_else(|| {
            after(
                window
                    .char_indices()
                    .rfind(|(_, c)| CLAUSE_END.contains(*c)),
            )
            .filter(|&i| i >= max / 2)
        })
        .unwrap_or(limit);
        let cut = if cut == 0 { rest.len() } else { cut };
        let (piece, next) = rest.split_at(cut);
        out.push(piece);
        rest = next;
    }
    out.push(rest);
    out
}

const SENTENCE_END: &str = "。！？!?";
const CLAUSE_END: &str = "；，;,、 ";

/// A line at least this wide (twenty Chinese characters) is prose, never a label or a cell.
const LONG_LINE: usize = 40;

/// The width of a line as printed: two for a Chinese character or a full-width form, one for
/// other characters.
fn width(line: &str) -> usize {
    line.trim_matches(is_blank)
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// The width of a full line of prose: the fifth widest line (the widest, in a short text)
/// that is not a table row or a list entry with dot leaders. In text broken into lines (PDF)
/// that is the text width; in text with one paragraph per line it is so wide that only
/// long lines count as full.
fn full_width(document: &Document) -> usize {
    let mut widths: Vec<usize> = document
        .lines
        .iter()
        .filter(|l| !l.contains('\t') && !l.contains("...") && !l.contains(". . ."))
        .map(|l| width(l))
        .filter(|&w| w > 0)
        .collect();
    widths.sort_unstable_by(|a, b| b.cmp(a));
    let rank = if widths.len() >= 20 { 4 } else { 0 };
    widths.get(rank).copied().unwrap_or(0).max(1)
}

/// A page number on a line of its own between blank lines ("12", "IV", "- 3 -"), as PDF
/// text extraction writes the footer of each page.
fn is_page_number(document: &Document, index: usize) -> bool {
    let blank = |i: Option<usize>| {
        i.and_then(|i| document.lines.get(i))
            .is_none_or(|l| l.trim_matches(is_blank).is_empty())
    };
    if !blank(index.checked_sub(1)) || !blank(Some(index + 1)) {
        return false;
    }
    let text = document.lines[index].trim_matches(is_blank);
    let text = text
        .trim_matches(|c: char| c == '-' || c == '—' || is_blank(c))
        .trim_start_matches('第')
        .trim_end_matches('页')
        .trim_matches(is_blank);
    let arabic = !text.is_empty() && text.len() <= 4 && text.chars().all(|c| c.is_ascii_digit());
    let roman = !text.is_empty()
        && text.len() <= 6
        && (text.chars().all(|c| "IVXLC".contains(c)) || text.chars().all(|c| "ivxlc".contains(c)));
    arabic || roman
}

/// A line of a contents list without a section number ("前言", "附表　指标表"): short, and
/// not a sentence.
fn is_list_title_text(line: &str) -> bool {
    let text = line.trim_matches(is_blank);
    !text.is_empty()
        && text.chars().count() <= 40
        && !text.contains(['。', '，', '；', '！', '？', ',', ';', '!', '?'])
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
        let cells = inner
            .split('|')
            .take(MAX_COLUMNS)
            .map(|c| c.trim().to_string())
            .collect();
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
        let cells = cells(line);
        let filled: Vec<&String> = cells.iter().filter(|c| !c.is_empty()).collect();
        let is_page =
            |c: &str| !c.is_empty() && c.len() <= 4 && c.chars().all(|d| d.is_ascii_digit());
        // "1.学校概况\t1": a title, then its page; a row whose first cell is empty (below a
        // merged cell) is a table's.
        if filled.len() == 2 && is_page(filled[1]) && !is_page(filled[0]) && !cells[0].is_empty() {
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
    if let Some((n, title)) = parse_chinese_heading(unmarked)
        && title.chars().count() <= 40
        && !title.contains(['，', '。', '；', ',', ';'])
    {
        return LineKind::Heading(n, title);
    }
    if let Some(cells) = aligned_cells(trimmed).or_else(|| spaced_cells(trimmed)) {
        return LineKind::Row(cells);
    }
    LineKind::Text
}

/// Whether rows read as a table are a whole table. Rows laid out with spaces (plain text,
/// `pdftotext -layout`) whose first row already holds numbers are the rest of a table
/// whose head is elsewhere, and rows next to a page number may be one page's part of a
/// table that runs on: neither is read as a table, so that no sum is checked against part
/// of its rows. Tab-separated and Markdown rows (Word, web pages, text written as such)
/// carry their table whole.
fn whole_table(document: &Document, rows: &[(usize, Vec<String>)]) -> bool {
    let laid_out = rows.iter().all(|(line, _)| {
        let text = document.line(*line);
        !text.contains('\t') && !text.trim_start().starts_with('|')
    });
    if !laid_out {
        return true;
    }
    let headed = rows.first().is_some_and(|(_, cells)| {
        !cells.iter().any(|c| {
            crate::tables::cell_value(c).is_some() && crate::tables::cell_year(c).is_none()
        })
    });
    let first = rows.first().map_or(0, |(line, _)| *line);
    let last = rows.last().map_or(0, |(line, _)| *line);
    headed && !page_number_near(document, first, -1) && !page_number_near(document, last, 1)
}

/// Whether a page number is among the few lines before (`step` -1) or after (1) a line,
/// past blank lines and short ones (a running header, a watermark), before any text.
fn page_number_near(document: &Document, line: usize, step: isize) -> bool {
    let mut index = line as isize - 1;
    for _ in 0..10 {
        index += step;
        let Some(text) = usize::try_from(index)
            .ok()
            .and_then(|i| document.lines.get(i))
        else {
            return false;
        };
        let trimmed = text.trim_matches(is_blank);
        if is_page_number(document, index as usize) {
            return true;
        }
        if trimmed.chars().count() > 12 {
            return false;
        }
    }
    false
}

/// The kind of the next line that is not blank, looking at most a few lines ahead.
fn next_kind(document: &Document, index: usize) -> Option<LineKind> {
    document
        .lines
        .iter()
        .skip(index + 1)
        .take(3)
        .find(|l| !l.trim_matches(is_blank).is_empty())
        .map(|l| classify(l))
}

/// Whether a word is a table cell's number, or a dash for an empty cell.
fn is_cell_number(word: &str) -> bool {
    matches!(word, "-" | "—" | "–" | "/" | "／") || crate::tables::cell_value(word).is_some()
}

/// The cells of a table row written with single spaces between cells, as `pdftotext
/// -layout` writes a table whose labels are in Chinese: a label (or a year) and two numbers
/// or more, and nothing else.
fn spaced_cells(line: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = line
        .split([' ', '\u{3000}'])
        .filter(|w| !w.is_empty())
        .take(MAX_COLUMNS + 1)
        .collect();
    if words.len() < 3 || words.len() > MAX_COLUMNS {
        return None;
    }
    let first_number = if crate::tables::cell_year(words[0]).is_some() {
        1
    } else {
        words.iter().position(|w| is_cell_number(w))?
    };
    let (label, numbers) = words.split_at(first_number);
    let label = label.join(" ");
    let real = numbers
        .iter()
        .filter(|w| crate::tables::cell_value(w).is_some())
        .count();
    let label_fits = !label.is_empty()
        && label.chars().count() <= 20
        && !label.contains(['，', '。', '；', '：', ',', ';', ':', '、']);
    (label_fits && real >= 2 && numbers.iter().all(|w| is_cell_number(w))).then(|| {
        std::iter::once(label)
            .chain(numbers.iter().map(|w| w.to_string()))
            .collect()
    })
}

/// The cells of a table header written with single spaces between short labels (three or
/// more, no numbers, no sentence punctuation).
fn spaced_header(line: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = line
        .split([' ', '\u{3000}'])
        .filter(|w| !w.is_empty())
        .take(MAX_COLUMNS + 1)
        .collect();
    let short = |w: &&str| {
        w.chars().count() <= 10
            && !w.starts_with(['(', '（'])
            && !w.chars().any(|c| c.is_ascii_digit())
            && !w.contains(['，', '。', '；', '：', ',', ';', ':', '、'])
    };
    (words.len() >= 2 && words.len() <= MAX_COLUMNS && words.iter().all(short))
        .then(|| words.iter().map(|w| w.to_string()).collect())
}

/// A heading numbered in Chinese: "一、学校概况" and "第一章 …", "第一部分 …" (a chapter),
/// "（一）办学规模" and "第一节 …" (a section of the chapter, written with 0 for the chapter,
/// which the layout fills in).
pub fn parse_chinese_heading(text: &str) -> Option<(Vec<u32>, String)> {
    let text = text.trim_matches(is_blank);
    let numeral = |s: &str| -> Option<(u32, usize)> {
        let len: usize = s
            .chars()
            .take_while(|c| "零〇一二三四五六七八九十两".contains(*c))
            .map(char::len_utf8)
            .sum();
        let value = crate::numbers::parse_chinese_int(&s[..len])?;
        (len > 0 && (1..=99).contains(&value)).then_some((value as u32, len))
    };
    let title = |rest: &str| {
        let rest = rest.trim_start_matches(is_blank);
        let rest = rest
            .strip_prefix(['、', '.', '．', '：', ':'])
            .unwrap_or(rest);
        rest.trim_matches(is_blank).to_string()
    };
    if let Some(rest) = text.strip_prefix('第') {
        let (n, len) = numeral(rest)?;
        let rest = &rest[len..];
        for (word, chapter) in [("章", true), ("部分", true), ("篇", true), ("节", false)] {
            if let Some(after) = rest.strip_prefix(word) {
                let title = title(after);
                if title.is_empty()
                    || !(after.starts_with(is_blank)
                        || after.starts_with(['、', '：', ':'])
                        || title.chars().next().is_some_and(is_cjk))
                {
                    return None;
                }
                let number = if chapter { vec![n] } else { vec![0, n] };
                return Some((number, title));
            }
        }
        return None;
    }
    if let Some(rest) = text.strip_prefix(['（', '(']) {
        let (n, len) = numeral(rest)?;
        let after = rest[len..].strip_prefix(['）', ')'])?;
        let title = title(after);
        return (!title.is_empty()).then_some((vec![0, n], title));
    }
    let (n, len) = numeral(text)?;
    let after = text[len..].strip_prefix(['、', '．'])?;
    let title = title(after);
    (!title.is_empty()).then_some((vec![n], title))
}

/// The cells of a table row laid out with runs of spaces (plain text, `pdftotext -layout`):
/// three cells or more, two of them numbers; or a header of three short labels or more.
fn aligned_cells(line: &str) -> Option<Vec<String>> {
    if !line.contains("  ") && !line.contains('\u{3000}') {
        return None;
    }
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut blanks = 0;
    for c in line.chars() {
        if c == ' ' || c == '\u{3000}' {
            blanks += if c == ' ' { 1 } else { 2 };
            continue;
        }
        if blanks >= 2 && !cell.is_empty() {
            cells.push(std::mem::take(&mut cell));
        } else if blanks > 0 && !cell.is_empty() {
            cell.push(' ');
        }
        blanks = 0;
        cell.push(c);
        if cells.len() >= MAX_COLUMNS {
            return None;
        }
    }
    if !cell.is_empty() {
        cells.push(cell);
    }
    // `pdftotext -layout` puts one space only between cells of Chinese width: a cell of
    // numbers apart by single spaces is as many cells.
    let mut cells: Vec<String> = cells
        .into_iter()
        .flat_map(|cell| {
            let words: Vec<&str> = cell.split(' ').collect();
            // The words from the first number on, when all of them are numbers.
            let first = words.iter().position(|w| is_cell_number(w));
            match first {
                Some(at) if words.len() > 1 && words[at..].iter().all(|w| is_cell_number(w)) => {
                    let label = words[..at].join(" ");
                    (!label.is_empty())
                        .then_some(label)
                        .into_iter()
                        .chain(words[at..].iter().map(|w| w.to_string()))
                        .collect()
                }
                _ => vec![cell],
            }
        })
        .take(MAX_COLUMNS)
        .collect();
    let header = cells.iter().all(|c| crate::tables::cell_value(c).is_none());
    if header {
        // A header's short labels apart by single spaces, likewise.
        cells = cells
            .into_iter()
            .flat_map(|cell| match spaced_header(&cell) {
                Some(words) if cell.contains(' ') => words,
                _ => vec![cell],
            })
            .take(MAX_COLUMNS)
            .collect();
    }
    if cells.len() < 3 {
        return None;
    }
    let numbers = cells
        .iter()
        .filter(|c| crate::tables::cell_value(c).is_some())
        .count();
    let labels = cells
        .iter()
        .all(|c| c.chars().count() <= 12 && !c.contains(['，', '。', '；', '：', ',', ';']));
    (numbers >= 2 || (numbers == 0 && labels)).then_some(cells)
}

/// The cells of a tab-separated line (at most [`MAX_COLUMNS`]).
fn cells(line: &str) -> Vec<String> {
    line.split('\t')
        .take(MAX_COLUMNS)
        .map(|c| c.trim_matches(is_blank).to_string())
        .collect()
}

/// Removes dot leaders and ellipses from a list entry's title.
fn strip_leaders(title: &str) -> String {
    title
        .trim_end_matches(|c: char| matches!(c, '.' | '·' | '…' | '。') || is_blank(c))
        .to_string()
}

/// "1.1 基本情况 ........ 1", or "1.1 基本情况. . . . . ." whose page number is not there
/// (PDF text sometimes writes it elsewhere).
fn dotted_entry(text: &str) -> Option<String> {
    let page_len = text
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if page_len > 4 {
        return None;
    }
    let body: String = text.chars().take(text.chars().count() - page_len).collect();
    let leaders = body
        .chars()
        .rev()
        .take_while(|c| matches!(c, '.' | '·' | '…') || is_blank(*c))
        .filter(|c| !is_blank(*c))
        .count();
    // Without a page number, a run of leaders (not a writer's ellipsis "……", "......").
    let enough = if page_len > 0 { 3 } else { 10 };
    if leaders < enough {
        return None;
    }
    let title = strip_leaders(&body);
    // Without a page number, a sentence is prose ending in an ellipsis, not an entry.
    let prose = page_len == 0 && title.contains(['。', '，', '；', '！', '？']);
    (!title.is_empty() && !prose).then_some(title)
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

/// Words of measure that follow a number ("2.5万元", "50.0册"), so cannot start a heading's
/// title written right after its number.
const UNIT_WORDS: &str =
    "年月日时分秒万亿%％个人项名次元角册岁倍所家门本种支场期位套台件篇间条批届天米吨亩";

/// A Chinese character (CJK ideographs and their extensions).
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
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
    // A title starts with a word, not with a unit or a number ("2.5万元", "35.41m²",
    // "19.0（标准≤20）" are not headings); written right after the number, with neither a
    // dot nor a space between, it starts with a Chinese word.
    let set_off = dotted && (trailing_dot || spaced);
    let opens_quote = matches!(first, '“' | '‘' | '「' | '『' | '《');
    if first.is_ascii_digit()
        || first.is_ascii_punctuation()
        || !(first.is_alphanumeric() || opens_quote)
        || (!set_off && (!is_cjk(first) || UNIT_WORDS.contains(first)))
    {
        return None;
    }
    // Sections are numbered from 1 below the chapter ("19.0" is a number, not section 19.0).
    if numbers.iter().skip(1).any(|&n| n == 0) {
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
    fn headings_numbered_in_chinese_and_aligned_rows() {
        assert_eq!(
            classify("一、学校概况"),
            LineKind::Heading(vec![1], "学校概况".into())
        );
        assert_eq!(
            classify("（二）师资队伍"),
            LineKind::Heading(vec![0, 2], "师资队伍".into())
        );
        assert_eq!(
            classify("第三章 办学条件"),
            LineKind::Heading(vec![3], "办学条件".into())
        );
        assert_eq!(classify("一、加强党建，提升质量。"), LineKind::Text);
        assert_eq!(classify("二等奖 15 项"), LineKind::Text);
        assert!(matches!(
            classify("机电技术应用      14        602          21.1%"),
            LineKind::Row(cells) if cells.len() == 4
        ));
        let layout = layout(&Document::from_text(
            "第二章 学生发展\n第一节 毕业去向\n毕业生 912 人。\n三、服务\n1.培训\n培训 30 人次。",
        ));
        assert_eq!(layout.section_of(3), "2.1");
        assert_eq!(layout.section_of(6), "3.1");
    }

    #[test]
    fn numbers_with_units_are_not_headings() {
        for line in [
            "35.41m²（标准≥33）达标",
            "19.0（标准≤20）达标",
            "50.0册（标准≥30）达标",
            "3.5万元",
        ] {
            assert_eq!(classify(line), LineKind::Text, "{line}");
        }
        assert_eq!(
            classify("1. 学校概况. . . . . . . . . . . ."),
            LineKind::Entry {
                title: "1. 学校概况".into()
            }
        );
        assert!(matches!(classify("\t电子商务\t300"), LineKind::Row(_)));
        assert_eq!(classify("我们将继续努力......"), LineKind::Text);
    }

    fn kinds(text: &str) -> Vec<String> {
        layout(&Document::from_text(text))
            .blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph(p) => format!("P {}", p.text),
                Block::Heading(h) => format!("H {}", h.number_text()),
                Block::Caption(c) => format!("C {}{}", c.kind.word(), c.number),
                Block::Entry(e) => format!("E {:?} {}", e.list, e.title),
                Block::Table(rows) => format!("T {}", rows.len()),
            })
            .collect()
    }

    #[test]
    fn lists_without_page_numbers_end_where_the_body_repeats_them() {
        assert_eq!(
            kinds(
                "目　录\n1. 概况\n1.1 基本情况\n附表\n图目录\n图 1：大门\n1. 概况\n1.1 基本情况\n正文。\n图 1：大门"
            ),
            [
                "E Contents 概况",
                "E Contents 基本情况",
                "E Contents 附表",
                "E Figures 大门",
                "H 1",
                "H 1.1",
                "P 正文。",
                "C 图1",
            ]
        );
    }

    #[test]
    fn page_numbers_and_short_pieces() {
        let full = "学校现有专任教师四百八十八人，其中专业课教师二百六十九人、文化课教师二百一十九";
        let text = format!("{full}\n\n3\n\n\n人。\n专任教师数\n\n人\n\n484\n\n{full}。");
        assert_eq!(
            kinds(&text),
            [
                format!("P {full}人。"),
                "P 专任教师数".to_string(),
                "P 人".to_string(),
                format!("P {full}。"),
            ]
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
