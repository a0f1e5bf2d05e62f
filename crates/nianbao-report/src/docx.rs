//! The report as a Word document (docx-rs) that the quality office edits in Word or WPS:
//! A4, real paragraph styles (正文 in 宋体; 标题 1–3 in 黑体 with outline levels so the
//! 目录 field can be rebuilt), captions with SEQ fields (图/表/典型案例) so the 图目录,
//! 表目录 and 案例目录 fields can be rebuilt too, tables with merged header cells, and
//! charts embedded as PNG.
//!
//! Three sections: the cover (one page, no page number), the front matter numbered I, II, …
//! and the body numbered 1, 2, … from chapter 1. The core properties name the report as its
//! title and the school as its author; they are dated with the final's snapshot time (so a
//! final is the same file byte for byte however often it is written) or a draft's
//! generation time.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx, FieldCharType, Footer, Header, Hyperlink, HyperlinkData,
    HyperlinkType, InstrPAGEREF, InstrText, InstrToC, LineSpacing, LineSpacingType, PageMargin,
    PageNum, PageNumType, PageSize, Paragraph as DocxParagraph, Pic, Run, RunFonts, Section,
    Shading, SpecialIndentType, Style, StyleType, StyleWithLevel, Styles, Tab, TabLeaderType,
    TabValueType, Table as DocxTable, TableCell, TableRow, VAlignType, VMergeType, WidthType,
};

use crate::error::ReportError;
use crate::model::{
    Align, Block, DRAFT_MARK, Document, Figure, Image, ImageFormat, Inline, ListKind, Status,
};
use crate::tables::Table;

const BODY_FONT: &str = "宋体";
const HEADING_FONT: &str = "黑体";
const LATIN_FONT: &str = "Times New Roman";
/// A4 in twips, with 2.54 cm / 3.17 cm margins: a text width of 8,306 twips (14.65 cm).
const PAGE_W: u32 = 11_906;
const PAGE_H: u32 = 16_838;
const MARGIN_X: i32 = 1_800;
const MARGIN_Y: i32 = 1_440;
const TEXT_W: usize = (PAGE_W as usize) - 2 * (MARGIN_X as usize);
/// EMU per twip, and the widest a picture may be (the text width).
const EMU_PER_TWIP: u32 = 635;
const ACCENT: &str = "8B1A1A";
/// Charts are rasterised at 1.5× their CSS size: about 170 dpi at the text width.
const CHART_SCALE: f32 = 1.5;

fn fonts(east_asia: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
        .cs(LATIN_FONT)
}

fn styles() -> Styles {
    let heading = |level: usize, size: usize, before: u32, after: u32| {
        Style::new(format!("Heading{level}"), StyleType::Paragraph)
            .name(format!("标题 {level}"))
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .fonts(fonts(HEADING_FONT))
            .size(size)
            .bold()
            .outline_lvl(level - 1)
            .indent(Some(0), Some(SpecialIndentType::FirstLine(0)), None, None)
            .first_line_chars(0)
            .line_spacing(LineSpacing::new().before(before).after(after))
    };
    let toc = |level: usize| {
        Style::new(format!("ToC{level}"), StyleType::Paragraph)
            .name(format!("toc {level}"))
            .based_on("Normal")
            .next("Normal")
            .indent(
                Some(((level - 1) * 420) as i32),
                Some(SpecialIndentType::FirstLine(0)),
                None,
                None,
            )
            .first_line_chars(0)
    };
    Styles::new()
        .default_fonts(fonts(BODY_FONT))
        .default_size(24)
        .add_style(
            Style::new("Normal", StyleType::Paragraph)
                .name("Normal")
                .q_format(true)
                .fonts(fonts(BODY_FONT))
                .size(24)
                .align(AlignmentType::Both)
                .line_spacing(
                    LineSpacing::new()
                        .line_rule(LineSpacingType::Auto)
                        .line(360)
                        .before(0)
                        .after(0),
                ),
        )
        .add_style(heading(1, 32, 480, 240).align(AlignmentType::Left))
        .add_style(heading(2, 28, 240, 120))
        .add_style(heading(3, 24, 160, 80))
        .add_style(
            Style::new("Caption", StyleType::Paragraph)
                .name("题注")
                .based_on("Normal")
                .next("Normal")
                .q_format(true)
                .fonts(fonts(HEADING_FONT))
                .size(21)
                .align(AlignmentType::Center)
                .first_line_chars(0)
                .line_spacing(LineSpacing::new().before(80).after(120)),
        )
        .add_style(toc(1))
        .add_style(toc(2))
        .add_style(toc(3))
}

/// Renders the document as a .docx file; a draft is dated now.
pub fn render(doc: &Document) -> Result<Vec<u8>, ReportError> {
    let now = nianbao_core::clock::stored_time(time::OffsetDateTime::now_utc());
    render_at(doc, &now)
}

/// Renders the document as a .docx file. `generated_at` (RFC 3339, UTC, e.g.
/// "2026-01-05T08:30:00Z") dates a draft; a final is dated by its snapshot and ignores it.
/// Apart from those dates the bytes depend on the document alone.
pub fn render_at(doc: &Document, generated_at: &str) -> Result<Vec<u8>, ReportError> {
    let created = match &doc.status {
        Status::Final(mark) => mark.created_at.as_str(),
        Status::Draft => generated_at,
    };
    let mut writer = Writer {
        bookmark: 0,
        links: 0,
        pictures: rasterise(doc)?,
    };
    // Every page, the cover included, says a draft is a draft.
    let draft_mark = || {
        Header::new().add_paragraph(
            DocxParagraph::new().align(AlignmentType::Right).add_run(
                Run::new()
                    .add_text(DRAFT_MARK)
                    .bold()
                    .size(28)
                    .color("B41E1E")
                    .fonts(fonts(HEADING_FONT)),
            ),
        )
    };
    let page_number = || {
        Footer::new().add_paragraph(
            DocxParagraph::new()
                .align(AlignmentType::Center)
                .add_page_num(PageNum::new()),
        )
    };
    let a4 = |section: Section| {
        section
            .page_size(PageSize::new().size(PAGE_W, PAGE_H))
            .page_margin(margin())
    };
    let (front, body) = doc.blocks.split_at(body_start(&doc.blocks));

    // The cover: no page number. (docx-rs applies only one of a section's own headers and
    // footers, so the front matter inherits the draft mark from the cover, as Word does for
    // a section without its own header.)
    let mut cover_section = a4(Section::new());
    if doc.status.is_draft() {
        cover_section = cover_section.header(draft_mark());
    }
    for paragraph in cover(doc) {
        cover_section = cover_section.add_paragraph(paragraph);
    }
    // The front matter: pages I, II, … (the Roman format is set below).
    let mut front_section = a4(Section::new())
        .footer(page_number())
        .page_num_type(PageNumType::new().start(1));
    for item in writer.blocks(doc, &without_first_page_break(front))? {
        front_section = match item {
            Item::Paragraph(p) => front_section.add_paragraph(*p),
            Item::Table(t) => front_section.add_table(*t),
        };
    }
    // The body, from chapter 1: pages 1, 2, ….
    let mut docx = Docx::new()
        .styles(styles())
        .page_size(PAGE_W, PAGE_H)
        .page_margin(margin())
        .add_section(cover_section)
        .add_section(front_section)
        .footer(page_number())
        .page_num_type(PageNumType::new().start(1));
    if doc.status.is_draft() {
        docx = docx.header(draft_mark());
    }
    for item in writer.blocks(doc, &without_first_page_break(body))? {
        docx = match item {
            Item::Paragraph(p) => docx.add_paragraph(*p),
            Item::Table(t) => docx.add_table(*t),
        };
    }
    let mut xml = docx.build();
    let mut next_id = 1;
    xml.document = renumber_paragraphs(&roman_front_matter(&xml.document)?, &mut next_id);
    for part in xml.headers.iter_mut().chain(xml.footers.iter_mut()) {
        *part = renumber_paragraphs(part, &mut next_id);
    }
    xml.doc_props.core = core_properties(&doc.title, &doc.cover.school, created).into_bytes();
    let mut out = Cursor::new(Vec::new());
    xml.pack(&mut out)
        .map_err(|e| ReportError::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

fn margin() -> PageMargin {
    PageMargin {
        top: MARGIN_Y,
        left: MARGIN_X,
        bottom: MARGIN_Y,
        right: MARGIN_X,
        header: 851,
        footer: 992,
        gutter: 0,
    }
}

/// Where the body starts: the heading of chapter 1 (the first numbered chapter heading).
fn body_start(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .position(|b| matches!(b, Block::Heading(h) if h.level == 1 && h.number.is_some()))
        .unwrap_or(blocks.len())
}

/// The blocks of a section, whose first heading needs no page break of its own: the section
/// already starts on a new page.
fn without_first_page_break(blocks: &[Block]) -> Vec<Block> {
    let mut blocks = blocks.to_vec();
    if let Some(Block::Heading(h)) = blocks.first_mut() {
        h.page_break = false;
    }
    blocks
}

/// Numbers the front matter's pages I, II, …: docx-rs writes the section's `w:pgNumType`
/// without a format, so the attribute is added to the first one (the cover section has none;
/// the front matter's comes before the body's).
fn roman_front_matter(document: &[u8]) -> Result<Vec<u8>, ReportError> {
    const TAG: &[u8] = b"<w:pgNumType";
    let at = document
        .windows(TAG.len())
        .position(|w| w == TAG)
        .ok_or_else(|| ReportError::Docx("前置部分缺少页码设置".into()))?;
    let mut out = Vec::with_capacity(document.len() + 24);
    out.extend_from_slice(&document[..at + TAG.len()]);
    out.extend_from_slice(br#" w:fmt="upperRoman""#);
    out.extend_from_slice(&document[at + TAG.len()..]);
    Ok(out)
}

/// Numbers the paragraphs' `w14:paraId` in order of appearance, from `next` on. docx-rs
/// takes them from a per-thread counter that nothing resets between documents, so two
/// renders in one thread (a web server's) would otherwise differ in these ids alone.
fn renumber_paragraphs(part: &[u8], next: &mut u32) -> Vec<u8> {
    const ATTR: &[u8] = b"w14:paraId=\"";
    let mut out = Vec::with_capacity(part.len());
    let mut rest = part;
    while let Some(at) = rest.windows(ATTR.len()).position(|w| w == ATTR) {
        let value = at + ATTR.len();
        let Some(length) = rest[value..].iter().position(|b| *b == b'"') else {
            break;
        };
        out.extend_from_slice(&rest[..value]);
        out.extend_from_slice(format!("{:08x}", *next).as_bytes());
        *next += 1;
        rest = &rest[value + length..];
    }
    out.extend_from_slice(rest);
    out
}

/// `docProps/core.xml`: the report's title, the school as author, and when it was made.
fn core_properties(title: &str, school: &str, created: &str) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            r#"<dc:title>{title}</dc:title><dc:creator>{school}</dc:creator><cp:lastModifiedBy>{school}</cp:lastModifiedBy>"#,
            r#"<cp:revision>1</cp:revision>"#,
            r#"<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>"#,
            r#"<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>"#,
            r#"</cp:coreProperties>"#
        ),
        title = escape(title),
        school = escape(school),
        created = escape(created),
    )
}

/// The cover page, laid out to fit one A4 page with room for a two-line school name and
/// designations: single line spacing and fixed space above each line.
fn cover(doc: &Document) -> Vec<DocxParagraph> {
    let c = &doc.cover;
    let line = |text: &str, size: usize, bold: bool, font: &str, before: u32| {
        let mut run = Run::new().add_text(text).size(size).fonts(fonts(font));
        if bold {
            run = run.bold();
        }
        DocxParagraph::new()
            .align(AlignmentType::Center)
            .first_line_chars(0)
            .indent(None, Some(SpecialIndentType::FirstLine(0)), None, None)
            .line_spacing(
                LineSpacing::new()
                    .line_rule(LineSpacingType::Auto)
                    .line(240)
                    .before(before)
                    .after(0),
            )
            .add_run(run)
    };
    let mut out = vec![line(&c.school, 44, true, HEADING_FONT, 1600)];
    if !c.school_en.is_empty() {
        out.push(line(&c.school_en, 18, false, BODY_FONT, 120));
    }
    out.push(line(
        &c.designations.join("　"),
        28,
        false,
        HEADING_FONT,
        480,
    ));
    out.push(line(&c.title, 56, true, HEADING_FONT, 1600));
    if !c.status.is_empty() {
        out.push(line(&c.status, 32, false, HEADING_FONT, 240));
    }
    out.push(line(&c.school, 30, false, HEADING_FONT, 3600));
    out.push(line(&c.date, 30, false, HEADING_FONT, 120));
    out
}

/// A body item of the document.
enum Item {
    Paragraph(Box<DocxParagraph>),
    Table(Box<DocxTable>),
}

struct Writer {
    bookmark: usize,
    /// External links written so far, which name their relationships.
    links: usize,
    /// Every figure's picture, rasterised ahead, in order of appearance.
    pictures: std::collections::VecDeque<Pic>,
}

/// Rasterises every figure of the document, spread over the available cores.
fn rasterise(doc: &Document) -> Result<std::collections::VecDeque<Pic>, ReportError> {
    let mut figures: Vec<&Figure> = Vec::new();
    crate::model::walk(&doc.blocks, &mut |block| {
        if let Block::Figure(f) = block {
            figures.push(f);
        }
    });
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 4);
    let chunk = figures.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<Pic>, ReportError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = figures
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|f| picture(f)).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ReportError::Chart("图表转换线程异常退出".into())))
            })
            .collect()
    });
    let mut out = std::collections::VecDeque::with_capacity(figures.len());
    for part in results {
        out.extend(part?);
    }
    // docx-rs names pictures from a process-wide counter, taken here by whichever thread ran
    // first; named by their place in the document instead, a render is the same bytes every
    // time.
    Ok(out
        .into_iter()
        .enumerate()
        .map(|(index, pic)| pic.id(format!("rIdImage{}", index + 1)))
        .collect())
}

fn bookmark_name(id: &str) -> String {
    // Word bookmark names: letters, digits and underscores, at most 40 characters.
    let name: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("_Toc_{name}")
}

/// A SEQ field that Word counts captions with: `图 {SEQ 图}`.
fn seq(label: &str, number: usize) -> Vec<Run> {
    vec![
        Run::new().add_field_char(FieldCharType::Begin, false),
        Run::new().add_instr_text(InstrText::Unsupported(format!(" SEQ {label} \\* ARABIC "))),
        Run::new().add_field_char(FieldCharType::Separate, false),
        Run::new().add_text(number.to_string()),
        Run::new().add_field_char(FieldCharType::End, false),
    ]
}

impl Writer {
    fn next_bookmark(&mut self) -> usize {
        self.bookmark += 1;
        self.bookmark
    }

    /// An external link, its relationship named by its place in the document (docx-rs
    /// would take a number from a process-wide counter, different on every render).
    fn link(&mut self, url: &str) -> Hyperlink {
        self.links += 1;
        let mut link = Hyperlink::new(url, HyperlinkType::External);
        if let HyperlinkData::External { rid, .. } = &mut link.link {
            *rid = format!("rIdHyperlink{}", self.links);
        }
        link
    }

    fn runs(&mut self, paragraph: DocxParagraph, runs: &[Inline]) -> DocxParagraph {
        let mut p = paragraph;
        for inline in runs {
            let mut lines = inline.text.split('\n').peekable();
            while let Some(text) = lines.next() {
                let mut run = Run::new().add_text(text);
                if inline.bold {
                    run = run.bold();
                }
                if inline.italic {
                    run = run.italic();
                }
                if lines.peek().is_some() {
                    run = run.add_break(BreakType::TextWrapping);
                }
                p = match &inline.link {
                    Some(url) if url.starts_with("http") => p.add_hyperlink(
                        self.link(url)
                            .add_run(run.color("1F4E9A").underline("single")),
                    ),
                    _ => p.add_run(run),
                };
            }
        }
        p
    }

    /// A caption paragraph "label N：text" with a SEQ field and a bookmark for the lists.
    fn caption(
        &mut self,
        label: &str,
        number: usize,
        text: &str,
        target: &str,
        keep_next: bool,
    ) -> DocxParagraph {
        let id = self.next_bookmark();
        let mut p = DocxParagraph::new()
            .style("Caption")
            .keep_next(keep_next)
            .add_bookmark_start(id, bookmark_name(target))
            .add_run(Run::new().add_text(format!("{label} ")));
        for run in seq(label, number) {
            p = p.add_run(run);
        }
        p.add_run(Run::new().add_text(format!("：{text}")))
            .add_bookmark_end(id)
    }

    fn blocks(&mut self, doc: &Document, blocks: &[Block]) -> Result<Vec<Item>, ReportError> {
        let mut out = Vec::new();
        for block in blocks {
            match block {
                Block::Heading(h) => {
                    let id = self.next_bookmark();
                    let mut p = DocxParagraph::new()
                        .style(&format!("Heading{}", h.level.clamp(1, 3)))
                        .keep_next(true)
                        .page_break_before(h.page_break)
                        .add_bookmark_start(id, bookmark_name(&h.id))
                        .add_run(Run::new().add_text(h.display()))
                        .add_bookmark_end(id);
                    if h.level == 1 && !h.in_toc {
                        p = p.align(AlignmentType::Center);
                    }
                    out.push(Item::Paragraph(Box::new(p)));
                }
                Block::Paragraph(p) => {
                    let base = match p.align {
                        Align::Body => DocxParagraph::new()
                            .style("Normal")
                            .indent(None, Some(SpecialIndentType::FirstLine(480)), None, None)
                            .first_line_chars(200),
                        Align::Center => DocxParagraph::new().align(AlignmentType::Center),
                        Align::Right => DocxParagraph::new().align(AlignmentType::Right),
                        Align::Left => DocxParagraph::new().align(AlignmentType::Left),
                    };
                    out.push(Item::Paragraph(Box::new(self.runs(base, &p.runs))));
                }
                Block::List { ordered, items } => {
                    for (i, item) in items.iter().enumerate() {
                        let bullet = if *ordered {
                            format!("{}. ", i + 1)
                        } else {
                            "• ".into()
                        };
                        let p = DocxParagraph::new()
                            .indent(Some(420), Some(SpecialIndentType::Hanging(280)), None, None)
                            .add_run(Run::new().add_text(bullet));
                        out.push(Item::Paragraph(Box::new(self.runs(p, item))));
                    }
                }
                Block::Table(t) => {
                    out.push(Item::Paragraph(Box::new(
                        self.caption("表", t.number, &t.caption, &t.id, true),
                    )));
                    out.push(Item::Table(Box::new(table(t))));
                    out.push(Item::Paragraph(Box::new(DocxParagraph::new())));
                }
                Block::Figure(f) => {
                    out.push(Item::Paragraph(Box::new(
                        DocxParagraph::new()
                            .align(AlignmentType::Center)
                            .keep_next(true)
                            .line_spacing(
                                LineSpacing::new()
                                    .line_rule(LineSpacingType::Auto)
                                    .line(240),
                            )
                            .indent(None, Some(SpecialIndentType::FirstLine(0)), None, None)
                            .add_run(Run::new().add_image(self.pictures.pop_front().ok_or_else(
                                || ReportError::Docx("图片数量与图题不一致".into()),
                            )?)),
                    )));
                    out.push(Item::Paragraph(Box::new(self.caption(
                        "图",
                        f.number,
                        &f.caption,
                        &f.id(),
                        false,
                    ))));
                }
                Block::Case(case) => {
                    let title = self
                        .caption("典型案例", case.number, &case.title, &case.id(), true)
                        .align(AlignmentType::Left)
                        .color(ACCENT);
                    let mut cell = TableCell::new()
                        .shading(Shading::new().fill("FBF7F2"))
                        .width(TEXT_W, WidthType::Dxa)
                        .add_paragraph(title);
                    for item in self.blocks(doc, &case.blocks)? {
                        cell = match item {
                            Item::Paragraph(p) => cell.add_paragraph(*p),
                            Item::Table(t) => cell.add_table(*t),
                        };
                    }
                    // A cell must end with a paragraph.
                    cell = cell.add_paragraph(DocxParagraph::new());
                    out.push(Item::Table(Box::new(
                        DocxTable::new(vec![TableRow::new(vec![cell])])
                            .set_grid(vec![TEXT_W])
                            .width(TEXT_W, WidthType::Dxa),
                    )));
                    out.push(Item::Paragraph(Box::new(DocxParagraph::new())));
                }
                Block::ListOf(kind) => out.extend(self.list_of(doc, *kind)),
                Block::PageBreak => out.push(Item::Paragraph(Box::new(
                    DocxParagraph::new().add_run(Run::new().add_break(BreakType::Page)),
                ))),
                Block::Gap(message) => out.push(Item::Paragraph(Box::new(
                    DocxParagraph::new()
                        .first_line_chars(0)
                        .indent(None, Some(SpecialIndentType::FirstLine(0)), None, None)
                        .add_run(
                            Run::new()
                                .add_text(message)
                                .bold()
                                .color("961414")
                                .highlight("yellow"),
                        ),
                ))),
            }
        }
        Ok(out)
    }

    /// A TOC field pre-filled with the entries, so the list shows before Word or WPS
    /// updates it, and updating rebuilds the same list from the styles and SEQ fields.
    fn list_of(&mut self, doc: &Document, kind: ListKind) -> Vec<Item> {
        let instr = match kind {
            ListKind::Contents => InstrToC::new()
                .heading_styles_range(1, 3)
                .add_style_with_level(StyleWithLevel::new("标题 1", 1))
                .add_style_with_level(StyleWithLevel::new("标题 2", 2))
                .add_style_with_level(StyleWithLevel::new("标题 3", 3))
                .use_applied_paragraph_line_level()
                .hyperlink()
                .hide_tab_and_page_numbers_in_webview(),
            ListKind::Figures => InstrToC::new().caption_label("图").hyperlink(),
            ListKind::Tables => InstrToC::new().caption_label("表").hyperlink(),
            ListKind::Cases => InstrToC::new().caption_label("典型案例").hyperlink(),
        };
        let entries = doc.entries(kind);
        if entries.is_empty() {
            return vec![Item::Paragraph(Box::new(
                DocxParagraph::new()
                    .align(AlignmentType::Center)
                    .add_run(Run::new().add_text("（无）")),
            ))];
        }
        let count = entries.len();
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let level = entry.level.clamp(1, 3);
            let mut p = DocxParagraph::new().style(&format!("ToC{level}")).add_tab(
                Tab::new()
                    .val(TabValueType::Right)
                    .leader(TabLeaderType::Dot)
                    .pos(TEXT_W),
            );
            if i == 0 {
                p = p
                    .add_run(Run::new().add_field_char(FieldCharType::Begin, true))
                    .add_run(Run::new().add_instr_text(InstrText::TOC(instr.clone())))
                    .add_run(Run::new().add_field_char(FieldCharType::Separate, false));
            }
            let target = bookmark_name(&entry.target);
            let page = Run::new()
                .add_field_char(FieldCharType::Begin, false)
                .add_instr_text(InstrText::PAGEREF(InstrPAGEREF::new(&target).hyperlink()))
                .add_field_char(FieldCharType::Separate, false)
                .add_field_char(FieldCharType::End, false);
            p = p.add_hyperlink(
                Hyperlink::new(&target, HyperlinkType::Anchor)
                    .add_run(Run::new().add_text(&entry.text))
                    .add_run(Run::new().add_tab())
                    .add_run(page),
            );
            if i + 1 == count {
                p = p.add_run(Run::new().add_field_char(FieldCharType::End, false));
            }
            out.push(Item::Paragraph(Box::new(p)));
        }
        out
    }
}

/// A table with its header rows and merged cells (gridSpan across, vMerge down).
fn table(t: &Table) -> DocxTable {
    let columns: usize = t
        .header
        .first()
        .map(|row| row.iter().map(|h| h.colspan.max(1)).sum())
        .unwrap_or(1)
        .max(1);
    let size = if columns > 12 {
        14
    } else if columns > 8 {
        17
    } else {
        19
    };
    let cell = |text: &str, bold: bool| {
        let mut run = Run::new().add_text(text).size(size);
        if bold {
            run = run.bold().fonts(fonts(HEADING_FONT));
        }
        TableCell::new()
            .vertical_align(VAlignType::Center)
            .add_paragraph(
                DocxParagraph::new()
                    .align(AlignmentType::Center)
                    .line_spacing(
                        LineSpacing::new()
                            .line_rule(LineSpacingType::Auto)
                            .line(240),
                    )
                    .indent(None, Some(SpecialIndentType::FirstLine(0)), None, None)
                    .add_run(run),
            )
    };
    let mut rows = Vec::new();
    // Columns still covered by a header cell from a row above: (rows left, colspan).
    let mut covered: Vec<(usize, usize)> = vec![(0, 0); columns];
    for header_row in &t.header {
        let mut cells = Vec::new();
        let mut given = header_row.iter();
        let mut col = 0;
        while col < columns {
            let (left, span) = covered[col];
            if left > 0 {
                covered[col].0 -= 1;
                cells.push(
                    TableCell::new()
                        .vertical_merge(VMergeType::Continue)
                        .grid_span(span)
                        .shading(Shading::new().fill("F1ECE6"))
                        .add_paragraph(DocxParagraph::new()),
                );
                col += span.max(1);
                continue;
            }
            let Some(h) = given.next() else {
                break;
            };
            let span = h.colspan.max(1);
            let mut c = cell(&h.text, true)
                .grid_span(span)
                .shading(Shading::new().fill("F1ECE6"));
            if h.rowspan > 1 {
                c = c.vertical_merge(VMergeType::Restart);
                covered[col] = (h.rowspan - 1, span);
            }
            cells.push(c);
            col += span;
        }
        rows.push(TableRow::new(cells).cant_split());
    }
    for body_row in &t.rows {
        let cells = body_row
            .iter()
            .map(|c| {
                if c.rowspan == 0 {
                    TableCell::new()
                        .vertical_merge(VMergeType::Continue)
                        .add_paragraph(DocxParagraph::new())
                } else {
                    let mut out = cell(&c.text, false);
                    if c.rowspan > 1 {
                        out = out.vertical_merge(VMergeType::Restart);
                    }
                    if c.label {
                        out = out.shading(Shading::new().fill("FAF8F5"));
                    }
                    out
                }
            })
            .collect();
        rows.push(TableRow::new(cells).cant_split());
    }
    // Label columns (年份, 专业大类, 专业名称 …) are wider than number columns; in a wide
    // table a little, so the numbers still fit on one line.
    let label_weight = if columns > 12 { 3 } else { 4 };
    let weights: Vec<usize> = (0..columns)
        .map(|i| {
            let label = t.rows.iter().any(|r| r.get(i).is_some_and(|c| c.label));
            if label { label_weight } else { 2 }
        })
        .collect();
    let total: usize = weights.iter().sum::<usize>().max(1);
    let grid: Vec<usize> = weights.iter().map(|w| TEXT_W * w / total).collect();
    DocxTable::new(rows)
        .set_grid(grid)
        .width(TEXT_W, WidthType::Dxa)
        .margins(docx_rs::TableCellMargins::new().margin(20, 30, 20, 30))
        .align(docx_rs::TableAlignmentType::Center)
}

/// A picture run: charts and SVG pictures are rasterised to PNG; PNG is embedded as is;
/// JPEG is re-encoded as PNG (docx-rs stores pictures as PNG).
fn picture(f: &Figure) -> Result<Pic, ReportError> {
    let max_w = TEXT_W as u32 * EMU_PER_TWIP;
    let (png, w, h) = match &f.image {
        Image::Chart { svg, .. } => crate::raster::svg_to_png(svg.as_bytes(), CHART_SCALE)?,
        Image::File {
            bytes,
            format: ImageFormat::Png,
            width,
            height,
            ..
        } => ((**bytes).clone(), *width, *height),
        Image::File {
            bytes,
            format: ImageFormat::Svg,
            ..
        } => crate::raster::svg_to_png(bytes, CHART_SCALE)?,
        Image::File {
            bytes,
            format: ImageFormat::Jpeg,
            width,
            height,
            ..
        } => crate::raster::jpeg_to_png(bytes, *width, *height)?,
    };
    // Display size: charts at their natural size (1 px = 9,525 EMU at 96 dpi, drawn at CHART_SCALE×),
    // pictures at the text width at most.
    let (natural_w, natural_h) = match &f.image {
        Image::Chart { width, height, .. } => (*width * 9_525.0, *height * 9_525.0),
        _ => (f64::from(w) * 9_525.0, f64::from(h) * 9_525.0),
    };
    let scale = (f64::from(max_w) / natural_w).min(1.0);
    let (ew, eh) = ((natural_w * scale) as u32, (natural_h * scale) as u32);
    Ok(Pic::new_with_dimensions(png, w, h).size(ew, eh))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::model::{Cover, FinalMark, Heading, Paragraph};

    fn chart(number: usize) -> Block {
        Block::Figure(Box::new(Figure {
            number,
            caption: format!("图题{number}"),
            image: Image::Chart {
                svg: format!(
                    r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="{}" height="20" fill="#8b1a1a"/></svg>"##,
                    number * 5
                ),
                width: 40.0,
                height: 20.0,
            },
        }))
    }

    fn heading(text: &str, number: Option<&str>) -> Block {
        Block::Heading(Heading {
            level: 1,
            number: number.map(str::to_string),
            text: text.into(),
            id: text.into(),
            in_toc: number.is_some(),
            page_break: true,
        })
    }

    fn document(status: Status) -> Document {
        Document {
            title: "示例学校 2025 年度质量年度报告".into(),
            cover: Cover {
                school: "示例学校 & 附属中心".into(),
                school_en: String::new(),
                designations: vec!["国家级重点中等职业学校".into()],
                title: "2025 年度质量年度报告".into(),
                status: String::new(),
                date: "2026 年 1 月 5 日".into(),
            },
            blocks: vec![
                heading("前言", None),
                Block::Paragraph(Paragraph::new(vec![Inline::plain("前言正文")])),
                heading("学校概况", Some("1")),
                Block::Paragraph(Paragraph::new(vec![Inline::plain("正文")])),
                heading("人才培养", Some("2")),
            ],
            status,
            gaps: Vec::new(),
        }
    }

    fn part(docx: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(docx)).unwrap();
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn core_properties_name_the_report_the_school_and_the_time() {
        let draft = render_at(&document(Status::Draft), "2026-01-05T08:30:00Z").unwrap();
        let core = part(&draft, "docProps/core.xml");
        assert!(
            core.contains("<dc:title>示例学校 2025 年度质量年度报告</dc:title>"),
            "{core}"
        );
        assert!(core.contains("<dc:creator>示例学校 &amp; 附属中心</dc:creator>"));
        assert!(core.contains(">2026-01-05T08:30:00Z</dcterms:created>"));
        assert!(core.contains(">2026-01-05T08:30:00Z</dcterms:modified>"));
        assert!(
            !core.contains("unknown") && !core.contains("1970"),
            "{core}"
        );

        // A draft's other bytes depend on the document alone.
        let again = render_at(&document(Status::Draft), "2026-01-05T08:30:00Z").unwrap();
        for name in ["word/document.xml", "word/header1.xml", "word/footer1.xml"] {
            assert_eq!(part(&draft, name), part(&again, name), "{name}");
        }
        assert!(draft == again, "the same bytes");

        // A final is dated by its snapshot, whatever time it is written at.
        let final_doc = document(Status::Final(FinalMark {
            snapshot: 3,
            hash: "ab".into(),
            created_at: "2026-01-20T02:00:00Z".into(),
        }));
        let first = render_at(&final_doc, "2026-02-01T00:00:00Z").unwrap();
        let later = render_at(&final_doc, "2027-03-01T00:00:00Z").unwrap();
        assert!(first == later, "the same bytes");
        assert!(
            part(&first, "docProps/core.xml").contains(">2026-01-20T02:00:00Z</dcterms:created>")
        );
        assert!(render(&final_doc).unwrap() == first, "the same bytes");
    }

    #[test]
    fn pictures_and_links_are_named_by_their_place_so_every_render_is_the_same() {
        let mut doc = document(Status::Final(FinalMark {
            snapshot: 1,
            hash: "ab".into(),
            created_at: "2026-01-20T02:00:00Z".into(),
        }));
        let link = Inline {
            text: "学校网站".into(),
            link: Some("https://example.cn/".into()),
            ..Inline::default()
        };
        doc.blocks
            .push(Block::Paragraph(Paragraph::new(vec![link])));
        doc.blocks.extend((1..=6).map(chart));
        let first = render(&doc).unwrap();
        // Other renders in between move docx-rs's process-wide counters along.
        let mut other = doc.clone();
        other.blocks.truncate(3);
        other.blocks.push(chart(1));
        render(&other).unwrap();
        let again = render(&doc).unwrap();
        assert!(first == again, "the same bytes");
        let rels = part(&first, "word/_rels/document.xml.rels");
        for n in 1..=6 {
            assert!(rels.contains(&format!("Id=\"rIdImage{n}\"")), "{rels}");
        }
        assert!(rels.contains("Id=\"rIdHyperlink1\""), "{rels}");
    }

    #[test]
    fn the_front_matter_is_numbered_in_roman_and_the_body_from_one() {
        let docx = render_at(&document(Status::Draft), "2026-01-05T08:30:00Z").unwrap();
        let xml = part(&docx, "word/document.xml");
        let sections: Vec<&str> = xml.split("<w:sectPr>").skip(1).collect();
        assert_eq!(sections.len(), 3, "cover, front matter, body");
        let (cover, front, body) = (sections[0], sections[1], sections[2]);
        assert!(!cover.contains("footerReference") && !cover.contains("pgNumType"));
        assert!(
            cover.contains("headerReference"),
            "the draft mark on the cover"
        );
        assert!(front.contains("footerReference"));
        assert!(front.contains(r#"<w:pgNumType w:fmt="upperRoman" w:start="1" />"#));
        assert!(body.contains(r#"<w:pgNumType w:start="1" />"#));
        // The front matter ends before chapter 1, which starts the body's section.
        let chapter = xml.find("1. 学校概况").unwrap();
        let front_end = xml.find("upperRoman").unwrap();
        assert!(xml.find("前言正文").unwrap() < front_end && front_end < chapter);
        // A section starts on a new page already: its first heading breaks no page, later
        // chapters still do.
        assert_eq!(xml.matches("<w:pageBreakBefore />").count(), 1, "{xml}");

        let final_doc = document(Status::Final(FinalMark {
            snapshot: 1,
            hash: "ab".into(),
            created_at: "2026-01-20T02:00:00Z".into(),
        }));
        let xml = part(&render(&final_doc).unwrap(), "word/document.xml");
        assert!(
            !xml.contains("headerReference"),
            "a final has no draft mark"
        );
    }
}
