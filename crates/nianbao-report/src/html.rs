//! The report as one self-contained web page: inline CSS, charts as inline SVG, pictures
//! as data URIs; printable (A4, page breaks before chapters) and readable on a phone.

use std::fmt::Write as _;

use crate::charts::escape;
use crate::model::{Block, DRAFT_MARK, Document, Figure, Image, Inline, ListKind, Paragraph};
use crate::tables::Table;

const STYLE: &str = r#"
:root { --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --accent: #8b1a1a; --case: #fbf7f2; }
* { box-sizing: border-box; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "宋体", serif; color: var(--ink);
       max-width: 60rem; margin: 0 auto; padding: 1rem 1.25rem 4rem; line-height: 1.9; font-size: 1.02rem; }
h1, h2, h3, h4, .cover, figcaption, .case-title, nav.list a, th { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "SimHei", "黑体", sans-serif; }
h2 { border-bottom: 2px solid var(--accent); padding-bottom: .2rem; margin-top: 3rem; font-size: 1.5rem; }
h2.front { text-align: center; border: none; letter-spacing: .2em; }
h3 { margin-top: 2rem; font-size: 1.2rem; }
h4 { margin-top: 1.4rem; font-size: 1.05rem; }
p { text-indent: 2em; margin: .6rem 0; text-align: justify; }
p.center { text-align: center; text-indent: 0; }
p.right { text-align: right; text-indent: 0; }
p.left { text-indent: 0; }
a { color: var(--accent); }
.cover { text-align: center; padding: 5rem 0 6rem; border-bottom: 1px solid var(--line); }
.cover p { text-indent: 0; text-align: center; }
.cover .name { font-size: 2rem; font-weight: 700; margin: 0; }
.cover .en { color: var(--muted); letter-spacing: .05em; font-size: .8rem; }
.cover .designations { font-size: 1.05rem; }
.cover .title { font-size: 2.4rem; font-weight: 700; margin: 4rem 0 5rem; color: var(--accent); }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .82rem; line-height: 1.4; }
th, td { border: 1px solid var(--ink); padding: .3rem .35rem; text-align: center; }
thead th { background: #f1ece6; }
tbody th { font-weight: normal; background: #faf8f5; }
figure { margin: 1.6rem 0; }
figure img, figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { text-align: center; margin: .4rem 0; font-size: .95rem; }
.case { background: var(--case); border-left: 4px solid var(--accent); padding: .6rem 1.2rem; margin: 1.8rem 0; }
.case-title { font-weight: 700; color: var(--accent); text-indent: 0; text-align: left; font-size: 1.08rem; }
nav.list ol { list-style: none; padding: 0; }
nav.list li { display: flex; gap: .4rem; margin: .25rem 0; }
nav.list li.level-2 { padding-left: 2em; }
nav.list li.level-3 { padding-left: 4em; }
nav.list a { color: var(--ink); text-decoration: none; }
nav.list a:hover { color: var(--accent); text-decoration: underline; }
ul, ol { margin: .5rem 0 .5rem 2em; }
.gap { border: 1px solid #b41e1e; background: #fdf0f0; color: #961414; padding: .6rem .9rem; margin: 1rem 0; text-indent: 0; }
.cover .status { font-size: 1.3rem; color: var(--accent); margin-top: -3rem; }
.draft-mark { position: fixed; top: .4rem; right: .6rem; color: #a01414; border: 1px solid #a01414; padding: 0 .5rem;
              font-family: "Noto Sans CJK SC", sans-serif; font-size: .85rem; background: #fff; z-index: 10; }
.draft-watermark { position: fixed; top: 40%; left: 0; right: 0; text-align: center; font-size: 7rem; font-weight: 700;
                   color: rgba(200, 30, 30, .10); transform: rotate(-30deg); pointer-events: none; z-index: 0; text-indent: 0; }
@media (max-width: 40rem) { body { padding: .6rem .8rem 3rem; font-size: 1rem; } .cover .title { font-size: 1.7rem; } .cover .name { font-size: 1.4rem; } }
@media print {
  @page { size: A4; margin: 2.2cm 2cm; }
  body { max-width: none; padding: 0; }
  h2 { break-before: page; }
  .cover { break-after: page; border: none; }
  figure, .case, tr { break-inside: avoid; }
  .page-break { break-after: page; }
}
"#;

/// Renders the document as one HTML page.
pub fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&doc.title)
    );
    if doc.status.is_draft() {
        // Fixed boxes repeat on every printed page.
        let _ = writeln!(
            out,
            "<div class=\"draft-mark\" role=\"note\">{DRAFT_MARK}</div>\n<div class=\"draft-watermark\" aria-hidden=\"true\">{DRAFT_MARK}</div>"
        );
    }
    let cover = &doc.cover;
    out.push_str("<section class=\"cover\" id=\"cover\">\n");
    let _ = writeln!(out, "<p class=\"name\">{}</p>", escape(&cover.school));
    if !cover.school_en.is_empty() {
        let _ = writeln!(out, "<p class=\"en\">{}</p>", escape(&cover.school_en));
    }
    let _ = writeln!(
        out,
        "<p class=\"designations\">{}</p>",
        escape(&cover.designations.join("　"))
    );
    let _ = writeln!(out, "<p class=\"title\">{}</p>", escape(&cover.title));
    if !cover.status.is_empty() {
        let _ = writeln!(out, "<p class=\"status\">{}</p>", escape(&cover.status));
    }
    let _ = writeln!(
        out,
        "<p class=\"date\">{}<br>{}</p>\n</section>",
        escape(&cover.school),
        escape(&cover.date)
    );
    blocks(doc, &doc.blocks, &mut out);
    out.push_str("</body>\n</html>\n");
    out
}

/// The blocks of one text alone, for the editor's preview.
pub fn fragment(list: &[Block]) -> String {
    let doc = Document {
        title: String::new(),
        cover: crate::model::Cover::default(),
        blocks: Vec::new(),
        status: crate::model::Status::Draft,
        gaps: Vec::new(),
    };
    let mut out = String::new();
    blocks(&doc, list, &mut out);
    out
}

/// The report's stylesheet, for pages that show fragments of it.
pub fn stylesheet() -> &'static str {
    STYLE
}

fn blocks(doc: &Document, list: &[Block], out: &mut String) {
    for block in list {
        match block {
            Block::Heading(h) => {
                let tag = match h.level {
                    1 => "h2",
                    2 => "h3",
                    _ => "h4",
                };
                let class = if h.level == 1 && !h.in_toc {
                    " class=\"front\""
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "<{tag} id=\"{}\"{class}>{}</{tag}>",
                    escape(&h.id),
                    escape(&h.display())
                );
            }
            Block::Paragraph(p) => paragraph(p, out),
            Block::List { ordered, items } => {
                let tag = if *ordered { "ol" } else { "ul" };
                let _ = write!(out, "<{tag}>");
                for item in items {
                    out.push_str("<li>");
                    runs(item, out);
                    out.push_str("</li>");
                }
                let _ = writeln!(out, "</{tag}>");
            }
            Block::Table(t) => table(t, out),
            Block::Figure(f) => figure(f, out),
            Block::Case(case) => {
                let _ = writeln!(
                    out,
                    "<aside class=\"case\" id=\"{}\">\n<p class=\"case-title\">典型案例 {}：{}</p>",
                    case.id(),
                    case.number,
                    escape(&case.title)
                );
                blocks(doc, &case.blocks, out);
                out.push_str("</aside>\n");
            }
            Block::ListOf(kind) => list_of(doc, *kind, out),
            Block::PageBreak => out.push_str("<div class=\"page-break\"></div>\n"),
            Block::Gap(message) => {
                let _ = writeln!(out, "<p class=\"gap\">{}</p>", escape(message));
            }
        }
    }
}

fn list_of(doc: &Document, kind: ListKind, out: &mut String) {
    let entries = doc.entries(kind);
    let _ = writeln!(
        out,
        "<nav class=\"list\" aria-label=\"{}\">\n<ol>",
        kind.title()
    );
    if entries.is_empty() {
        out.push_str("<li>（无）</li>\n");
    }
    for entry in entries {
        let _ = writeln!(
            out,
            "<li class=\"level-{}\"><a href=\"#{}\">{}</a></li>",
            entry.level,
            escape(&entry.target),
            escape(&entry.text)
        );
    }
    out.push_str("</ol>\n</nav>\n");
}

fn paragraph(p: &Paragraph, out: &mut String) {
    let class = match p.align {
        crate::model::Align::Body => "",
        crate::model::Align::Center => " class=\"center\"",
        crate::model::Align::Right => " class=\"right\"",
        crate::model::Align::Left => " class=\"left\"",
    };
    let _ = write!(out, "<p{class}>");
    runs(&p.runs, out);
    out.push_str("</p>\n");
}

fn runs(list: &[Inline], out: &mut String) {
    for run in list {
        let mut text = escape(&run.text).replace('\n', "<br>");
        if run.bold {
            text = format!("<strong>{text}</strong>");
        }
        if run.italic {
            text = format!("<em>{text}</em>");
        }
        if let Some(link) = &run.link {
            text = format!("<a href=\"{}\">{text}</a>", escape(link));
        }
        out.push_str(&text);
    }
}

fn table(t: &Table, out: &mut String) {
    let _ = writeln!(
        out,
        "<figure class=\"table\">\n<figcaption>表 {}：{}</figcaption>\n<div class=\"scroll\">\n<table id=\"{}\">\n<thead>",
        t.number,
        escape(&t.caption),
        escape(&t.id)
    );
    for row in &t.header {
        out.push_str("<tr>");
        for h in row {
            out.push_str("<th");
            if h.colspan > 1 {
                let _ = write!(out, " colspan=\"{}\"", h.colspan);
            }
            if h.rowspan > 1 {
                let _ = write!(out, " rowspan=\"{}\"", h.rowspan);
            }
            let _ = write!(out, ">{}</th>", escape(&h.text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row.iter().filter(|c| c.rowspan > 0) {
            if c.label {
                out.push_str("<th scope=\"row\"");
                if c.rowspan > 1 {
                    let _ = write!(out, " rowspan=\"{}\"", c.rowspan);
                }
                let _ = write!(out, ">{}</th>", escape(&c.text));
            } else {
                let _ = write!(out, "<td>{}</td>", escape(&c.text));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n</figure>\n");
}

fn figure(f: &Figure, out: &mut String) {
    let _ = writeln!(out, "<figure id=\"{}\">", f.id());
    match &f.image {
        Image::Chart { svg, .. } => {
            let _ = write!(
                out,
                "<div role=\"img\" aria-label=\"{}\">",
                escape(&f.caption)
            );
            out.push_str(svg);
            out.push_str("</div>\n");
        }
        Image::File {
            bytes,
            format,
            width,
            height,
            ..
        } => {
            let _ = writeln!(
                out,
                "<img src=\"data:{};base64,{}\" width=\"{width}\" height=\"{height}\" alt=\"{}\">",
                format.mime(),
                base64(bytes),
                escape(&f.caption)
            );
        }
    }
    let _ = writeln!(
        out,
        "<figcaption>图 {}：{}</figcaption>\n</figure>",
        f.number,
        escape(&f.caption)
    );
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
