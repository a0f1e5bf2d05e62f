//! The document model every renderer reads: one `Document` of blocks (headings, paragraphs,
//! tables, figures, case boxes, lists, page breaks). HTML, DOCX and PDF are three views of
//! the same value, so they cannot disagree on a number, a caption or a list entry.

use crate::tables::Table;

/// The whole report, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// "学校名称 2025 年度质量年度报告": the document title and the HTML `<title>`.
    pub title: String,
    pub cover: Cover,
    pub blocks: Vec<Block>,
    /// Whether this is a draft (every page marked 草稿) or the final from a snapshot.
    pub status: Status,
    /// The parts that print a gap instead of their text, in order.
    pub gaps: Vec<Gap>,
}

/// A draft, or the final report rendered from a stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every page carries 「草稿」 and the cover says 征求意见稿.
    Draft,
    Final(FinalMark),
}

/// What identifies a final report: its snapshot and the hash of the snapshot's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalMark {
    pub snapshot: i64,
    /// SHA-256 of the snapshot payload, hex.
    pub hash: String,
    /// When the final was made, as the documents' creation time (RFC 3339, UTC).
    pub created_at: String,
}

impl Status {
    pub fn is_draft(&self) -> bool {
        matches!(self, Status::Draft)
    }
}

/// The word every page of a draft carries.
pub const DRAFT_MARK: &str = "草稿";
/// What the cover of a draft says under its title.
pub const DRAFT_COVER: &str = "（征求意见稿）";

/// A part of the report that prints a gap: which part, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The part's title as printed ("1.4 师资队伍", "前言").
    pub part: String,
    pub kind: GapKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapKind {
    /// Nothing has been written for the part.
    Empty,
    /// The text binds a fact or indicator that has no value.
    Data,
}

/// What the cover page shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cover {
    pub school: String,
    pub school_en: String,
    pub designations: Vec<String>,
    /// "2025 年度质量年度报告".
    pub title: String,
    /// "（征求意见稿）" on a draft, empty on the final.
    pub status: String,
    /// "2026 年 1 月 5 日".
    pub date: String,
}

/// One run of text with its emphasis.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inline {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    /// A hyperlink target, if the run is a link.
    pub link: Option<String>,
}

impl Inline {
    pub fn plain(text: impl Into<String>) -> Inline {
        Inline {
            text: text.into(),
            ..Inline::default()
        }
    }

    pub fn bold(text: impl Into<String>) -> Inline {
        Inline {
            text: text.into(),
            bold: true,
            ..Inline::default()
        }
    }
}

/// How a paragraph sits on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Body text: justified with a first-line indent of two characters.
    #[default]
    Body,
    Center,
    Right,
    /// Flush left without indent (notes, signature lines).
    Left,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub runs: Vec<Inline>,
    pub align: Align,
}

impl Paragraph {
    pub fn new(runs: Vec<Inline>) -> Paragraph {
        Paragraph {
            runs,
            align: Align::Body,
        }
    }

    pub fn text(&self) -> String {
        self.runs.iter().map(|r| r.text.as_str()).collect()
    }
}

/// A heading; `number` is the outline number ("1.4") for numbered sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 chapter, 2 section, 3 sub-heading inside a section's narrative.
    pub level: u8,
    pub number: Option<String>,
    pub text: String,
    /// A stable anchor ("s1-4", "preface").
    pub id: String,
    /// Whether the 目录 lists it (front matter headings are not listed).
    pub in_toc: bool,
    /// Whether it starts a new page.
    pub page_break: bool,
}

impl Heading {
    /// The heading as printed: "1. 学校概况", "1.4 师资队伍", or the bare text.
    pub fn display(&self) -> String {
        match &self.number {
            Some(n) if !n.contains('.') => format!("{n}. {}", self.text),
            Some(n) => format!("{n} {}", self.text),
            None => self.text.clone(),
        }
    }
}

/// An image of a figure: a generated chart (SVG) or a picture file from the content folder.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// A chart drawn from the data: SVG text with its natural size in CSS pixels.
    Chart {
        svg: String,
        width: f64,
        height: f64,
    },
    /// A picture file (PNG, JPEG or SVG) with its size in pixels.
    File {
        name: String,
        bytes: std::sync::Arc<Vec<u8>>,
        format: ImageFormat,
        width: u32,
        height: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Svg,
}

impl ImageFormat {
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Svg => "image/svg+xml",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Svg => "svg",
        }
    }
}

/// A numbered figure: 图 N：caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub number: usize,
    pub caption: String,
    pub image: Image,
}

impl Figure {
    pub fn id(&self) -> String {
        format!("figure-{}", self.number)
    }
}

/// A numbered typical case (典型案例 N) with its own blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub number: usize,
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Case {
    pub fn id(&self) -> String {
        format!("case-{}", self.number)
    }
}

/// The generated lists of the front matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Contents,
    Figures,
    Cases,
    Tables,
}

impl ListKind {
    pub fn title(self) -> &'static str {
        match self {
            ListKind::Contents => "目　录",
            ListKind::Figures => "图目录",
            ListKind::Cases => "案例目录",
            ListKind::Tables => "表目录",
        }
    }
}

/// One block of the document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(Heading),
    Paragraph(Paragraph),
    List {
        ordered: bool,
        items: Vec<Vec<Inline>>,
    },
    Table(Box<Table>),
    Figure(Box<Figure>),
    Case(Box<Case>),
    /// A generated list (目录, 图目录 …), filled from the body by `Document::entries`.
    ListOf(ListKind),
    PageBreak,
    /// A visible box where text or data is missing (only in drafts).
    Gap(String),
}

/// One line of a generated list: its label ("图 3：…", "1.4 师资队伍"), the anchor it
/// points to, and its indent level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub text: String,
    pub target: String,
    pub level: u8,
}

impl Document {
    /// The entries of a generated list, read from the blocks in order of appearance, so a
    /// list cannot name a caption the body does not have.
    pub fn entries(&self, kind: ListKind) -> Vec<Entry> {
        let mut out = Vec::new();
        walk(&self.blocks, &mut |block| match (kind, block) {
            (ListKind::Contents, Block::Heading(h)) if h.in_toc => out.push(Entry {
                text: h.display(),
                target: h.id.clone(),
                level: h.level,
            }),
            (ListKind::Figures, Block::Figure(f)) => out.push(Entry {
                text: format!("图 {}：{}", f.number, f.caption),
                target: f.id(),
                level: 1,
            }),
            (ListKind::Tables, Block::Table(t)) => out.push(Entry {
                text: format!("表 {}：{}", t.number, t.caption),
                target: t.id.clone(),
                level: 1,
            }),
            (ListKind::Cases, Block::Case(c)) => out.push(Entry {
                text: format!("典型案例 {}：{}", c.number, c.title),
                target: c.id(),
                level: 1,
            }),
            _ => {}
        });
        out
    }

    /// Every heading of the document, in order (used by tests and the audit).
    pub fn headings(&self) -> Vec<&Heading> {
        let mut out = Vec::new();
        for block in &self.blocks {
            if let Block::Heading(h) = block {
                out.push(h);
            }
        }
        out
    }
}

/// Visits every block, descending into case boxes.
pub fn walk<'a>(blocks: &'a [Block], visit: &mut impl FnMut(&'a Block)) {
    for block in blocks {
        visit(block);
        if let Block::Case(case) = block {
            walk(&case.blocks, visit);
        }
    }
}

/// Visits every block mutably, descending into case boxes.
pub fn walk_mut(blocks: &mut [Block], visit: &mut impl FnMut(&mut Block)) {
    for block in blocks {
        visit(block);
        if let Block::Case(case) = block {
            walk_mut(&mut case.blocks, visit);
        }
    }
}

/// Numbers figures, tables and cases in order of appearance (1, 2, 3 … without gaps) and
/// gives each table its anchor.
pub fn number_in_order(blocks: &mut [Block]) {
    let (mut figures, mut tables, mut cases) = (0, 0, 0);
    walk_mut(blocks, &mut |block| match block {
        Block::Figure(f) => {
            figures += 1;
            f.number = figures;
        }
        Block::Table(t) => {
            tables += 1;
            t.number = tables;
            t.id = format!("table-{tables}");
        }
        Block::Case(c) => {
            cases += 1;
            c.number = cases;
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> Block {
        Block::Figure(Box::new(Figure {
            number: 0,
            caption: "图题".into(),
            image: Image::Chart {
                svg: String::new(),
                width: 1.0,
                height: 1.0,
            },
        }))
    }

    #[test]
    fn numbers_follow_appearance_and_lists_follow_the_body() {
        let mut blocks = vec![
            figure(),
            Block::Case(Box::new(Case {
                number: 0,
                title: "案例".into(),
                blocks: vec![figure()],
            })),
            figure(),
        ];
        number_in_order(&mut blocks);
        let doc = Document {
            title: String::new(),
            cover: Cover::default(),
            blocks,
            status: Status::Draft,
            gaps: Vec::new(),
        };
        let figures: Vec<String> = doc
            .entries(ListKind::Figures)
            .into_iter()
            .map(|e| e.text)
            .collect();
        assert_eq!(figures, ["图 1：图题", "图 2：图题", "图 3：图题"]);
        assert_eq!(doc.entries(ListKind::Cases)[0].target, "case-1");
    }
}
