//! Typst markup generated from the document model. Every piece of text goes into the
//! markup as a string literal (`#"…";`), so no character of the data can be read as
//! markup. Lists (目录, 图目录 …) take their page numbers from labels placed in the body.

use std::fmt::Write as _;

use crate::model::{Align, Block, DRAFT_MARK, Document, Figure, Image, Inline, ListKind};
use crate::tables::Table;

pub const BODY_FONT: &str = "Noto Serif CJK SC";
pub const HEADING_FONT: &str = "Noto Sans CJK SC";

/// A typst string literal with `"` and `\` escaped.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// Text as markup: one string literal per line, joined by line breaks.
fn text(value: &str) -> String {
    value
        .split('\n')
        .map(|line| format!("#{};", string(line)))
        .collect::<Vec<_>>()
        .join("#linebreak();")
}

/// The page settings: a draft carries 「草稿」 across every page, behind the text.
fn page_rule(doc: &Document) -> String {
    let mut rule = String::from(
        "#set page(paper: \"a4\", margin: (top: 2.6cm, bottom: 2.6cm, x: 2.4cm), numbering: none",
    );
    if doc.status.is_draft() {
        let _ = write!(
            rule,
            ", background: rotate(-35deg, text(font: (\"{HEADING_FONT}\",), size: 110pt, weight: \"bold\", fill: rgb(200, 30, 30, 38), {mark})), header: align(right, text(font: (\"{HEADING_FONT}\",), size: 9pt, fill: rgb(160, 20, 20), {mark}))",
            mark = string(DRAFT_MARK)
        );
    }
    rule.push(')');
    rule
}

fn preamble(doc: &Document) -> String {
    format!(
        r##"#set document(title: {title}, author: {author})
{page}
#set text(font: ("{BODY_FONT}", "{HEADING_FONT}"), size: 10.5pt, lang: "zh", region: "cn")
#set par(justify: true, leading: 0.9em, spacing: 0.9em, first-line-indent: (amount: 2em, all: true))
#let accent = rgb("#8b1a1a")
#let sans = ("{HEADING_FONT}", "{BODY_FONT}")
#show heading: set text(font: sans, weight: "bold")
#show heading: set par(first-line-indent: 0em, justify: false)
#show heading.where(level: 1): set text(size: 16pt)
#show heading.where(level: 1): set block(above: 0.6em, below: 1.2em)
#show heading.where(level: 2): set text(size: 13pt)
#show heading.where(level: 2): set block(above: 1.4em, below: 0.9em)
#show heading.where(level: 3): set text(size: 11pt)
#show link: set text(fill: rgb("#1f4e9a"))
#let caption(body) = block(sticky: true, width: 100%, above: 1em, below: 0.6em, {{
  set par(first-line-indent: 0em)
  align(center, text(font: sans, size: 9.5pt, body))
}})
#let entry(level, body, target) = context {{
  let loc = locate(label(target))
  let n = counter(page).at(loc).first()
  block(above: 0.55em, below: 0.55em, inset: (left: (level - 1) * 2em), {{
    set par(first-line-indent: 0em, justify: false)
    let shown = if level == 1 {{ text(font: sans, weight: "bold", fill: black, body) }} else {{ text(fill: black, body) }}
    link(loc, shown)
    box(width: 1fr, repeat(gap: 2pt)[.])
    str(n)
  }})
}}
"##,
        title = string(&doc.title),
        author = string(&doc.cover.school),
        page = page_rule(doc),
    )
}

/// The markup of the whole document and the files it refers to (charts, pictures).
pub fn generate(doc: &Document) -> (String, Vec<(String, Vec<u8>)>) {
    let mut out = preamble(doc);
    let mut files = Vec::new();
    cover(doc, &mut out);
    out.push_str("#set page(numbering: \"I\")\n#counter(page).update(1)\n");
    let mut body_started = false;
    blocks(doc, &doc.blocks, &mut out, &mut files, &mut body_started);
    (out, files)
}

fn cover(doc: &Document, out: &mut String) {
    let c = &doc.cover;
    let _ = writeln!(
        out,
        r#"#align(center, {{
  set par(first-line-indent: 0em, justify: false)
  v(3.2cm)
  text(font: sans, size: 24pt, weight: "bold", {school})
  v(0.2cm)
  text(size: 8.5pt, fill: luma(90), {en})
  v(0.8cm)
  text(font: sans, size: 13pt, {designations})
  v(3.6cm)
  text(font: sans, size: 28pt, weight: "bold", fill: accent, {title})
  v(0.6cm)
  text(font: sans, size: 16pt, fill: accent, {status})
  v(1fr)
  text(font: sans, size: 15pt, {school})
  linebreak()
  text(font: sans, size: 15pt, {date})
  v(2.2cm)
}})
#pagebreak()"#,
        school = string(&c.school),
        en = string(&c.school_en),
        designations = string(&c.designations.join("　")),
        title = string(&c.title),
        status = string(&c.status),
        date = string(&c.date),
    );
}

fn runs(list: &[Inline]) -> String {
    let mut out = String::new();
    for run in list {
        let mut piece = text(&run.text);
        if run.bold {
            piece = format!("#strong[{piece}]");
        }
        if run.italic {
            piece = format!("#emph[{piece}]");
        }
        if let Some(link) = &run.link {
            piece = format!("#link({})[{piece}]", string(link));
        }
        out.push_str(&piece);
    }
    out
}

fn blocks(
    doc: &Document,
    list: &[Block],
    out: &mut String,
    files: &mut Vec<(String, Vec<u8>)>,
    body_started: &mut bool,
) {
    for block in list {
        match block {
            Block::Heading(h) => {
                if h.level == 1 && h.in_toc && !*body_started {
                    // The body starts: Arabic page numbers from 1.
                    *body_started = true;
                    out.push_str("#set page(numbering: \"1\")\n#counter(page).update(1)\n");
                } else if h.page_break {
                    out.push_str("#pagebreak(weak: true)\n");
                }
                let heading = format!(
                    "heading(level: {}, outlined: false, {})",
                    h.level.clamp(1, 3),
                    string(&h.display())
                );
                let _ = writeln!(out, "#metadata(none) <{}>", h.id);
                if h.level == 1 && !h.in_toc {
                    let _ = writeln!(out, "#align(center, {heading})\n");
                } else {
                    let _ = writeln!(out, "#{heading}\n");
                }
            }
            Block::Paragraph(p) => match p.align {
                Align::Body => {
                    let _ = writeln!(out, "{}\n", runs(&p.runs));
                }
                other => {
                    let align = match other {
                        Align::Center => "center",
                        Align::Right => "right",
                        _ => "left",
                    };
                    let _ = writeln!(
                        out,
                        "#block(width: 100%)[#set par(first-line-indent: 0em, justify: false)\n#set align({align})\n{}]\n",
                        runs(&p.runs)
                    );
                }
            },
            Block::List { ordered, items } => {
                let function = if *ordered { "enum" } else { "list" };
                let items: Vec<String> = items.iter().map(|i| format!("[{}]", runs(i))).collect();
                let _ = writeln!(
                    out,
                    "#{{ set par(first-line-indent: 0em); {function}({}) }}\n",
                    items.join(", ")
                );
            }
            Block::Table(t) => table(t, out),
            Block::Figure(f) => figure(f, out, files),
            Block::Case(case) => {
                let _ = writeln!(out, "#metadata(none) <{}>", case.id());
                let _ = writeln!(
                    out,
                    "#block(fill: rgb(\"#fbf7f2\"), stroke: (left: 3pt + accent), inset: (x: 14pt, y: 12pt), width: 100%, above: 1.4em, below: 1.4em)[\n#block(sticky: true, below: 0.9em)[#set par(first-line-indent: 0em)\n#text(font: sans, weight: \"bold\", size: 11.5pt, fill: accent, {})]\n",
                    string(&format!("典型案例 {}：{}", case.number, case.title))
                );
                blocks(doc, &case.blocks, out, files, body_started);
                out.push_str("]\n\n");
            }
            Block::ListOf(kind) => list_of(doc, *kind, out),
            Block::PageBreak => out.push_str("#pagebreak(weak: true)\n"),
            Block::Gap(message) => {
                let _ = writeln!(
                    out,
                    "#block(width: 100%, inset: 10pt, stroke: 1pt + rgb(180, 30, 30), fill: rgb(253, 240, 240), above: 1em, below: 1em)[#set par(first-line-indent: 0em)\n#text(fill: rgb(150, 20, 20), {})]\n",
                    string(message)
                );
            }
        }
    }
}

fn list_of(doc: &Document, kind: ListKind, out: &mut String) {
    let entries = doc.entries(kind);
    if entries.is_empty() {
        out.push_str("#align(center)[#\"（无）\";]\n\n");
        return;
    }
    for entry in entries {
        let _ = writeln!(
            out,
            "#entry({}, {}, {})",
            entry.level,
            string(&entry.text),
            string(&entry.target)
        );
    }
    out.push('\n');
}

fn table(t: &Table, out: &mut String) {
    let columns: usize = t
        .header
        .first()
        .map(|row| row.iter().map(|h| h.colspan.max(1)).sum())
        .unwrap_or(1)
        .max(1);
    let size = if columns > 12 {
        6.5
    } else if columns > 8 {
        7.5
    } else {
        9.0
    };
    let _ = writeln!(out, "#metadata(none) <{}>", t.id);
    let _ = writeln!(
        out,
        "#caption({})",
        string(&format!("表 {}：{}", t.number, t.caption))
    );
    let _ = writeln!(
        out,
        "#{{\nset text(size: {size}pt)\nset par(first-line-indent: 0em, justify: false, leading: 0.5em)\ntable(columns: {columns}, align: center + horizon, inset: (x: 2.5pt, y: 4pt), stroke: 0.5pt + luma(40),\nfill: (x, y) => if y < {} {{ rgb(\"#f1ece6\") }},",
        t.header.len()
    );
    out.push_str("table.header(");
    for row in &t.header {
        for h in row {
            let _ = write!(
                out,
                "table.cell(colspan: {}, rowspan: {}, text(font: sans, weight: \"bold\", {})), ",
                h.colspan.max(1),
                h.rowspan.max(1),
                string(&h.text)
            );
        }
    }
    out.push_str("),\n");
    for row in &t.rows {
        for c in row.iter().filter(|c| c.rowspan > 0) {
            if c.rowspan > 1 {
                let _ = write!(
                    out,
                    "table.cell(rowspan: {}, {}), ",
                    c.rowspan,
                    string(&c.text)
                );
            } else {
                let _ = write!(out, "{}, ", string(&c.text));
            }
        }
        out.push('\n');
    }
    out.push_str(")\n}\n\n");
}

fn figure(f: &Figure, out: &mut String, files: &mut Vec<(String, Vec<u8>)>) {
    let (name, bytes, width) = match &f.image {
        Image::Chart { svg, .. } => (
            format!("chart-{}.svg", f.number),
            svg.as_bytes().to_vec(),
            "100%",
        ),
        Image::File { bytes, format, .. } => (
            format!("picture-{}.{}", f.number, format.extension()),
            (**bytes).clone(),
            "82%",
        ),
    };
    let _ = writeln!(out, "#metadata(none) <{}>", f.id());
    let _ = writeln!(
        out,
        "#block(breakable: false, width: 100%, above: 1.2em, below: 1.2em)[\n#align(center, image({}, width: {width}))\n#caption({})\n]\n",
        string(&name),
        string(&format!("图 {}：{}", f.number, f.caption))
    );
    files.push((name, bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            string(r#"a "b" \ #c [d] $e$"#),
            r#""a \"b\" \\ #c [d] $e$""#
        );
        assert_eq!(text("甲\n乙"), "#\"甲\";#linebreak();#\"乙\";");
    }

    #[test]
    fn a_paragraph_set_left_is_ragged_and_the_body_is_justified() {
        use crate::model::{Align, Block, Paragraph};
        // A final's seal line ends in a 64-letter hash that cannot break: justified, the
        // line before it was spread letter by letter across the page.
        let seal = "定稿编号：第 1 号；内容摘要（SHA-256）：a7c99683eed721043b4e455c09dc5788da1a45a0a185d613c9b090418c42459a";
        let mut out = String::new();
        let (mut files, mut started) = (Vec::new(), false);
        let list = [
            Block::Paragraph(Paragraph {
                runs: vec![Inline::plain(seal)],
                align: Align::Left,
            }),
            Block::Paragraph(Paragraph::new(vec![Inline::plain("正文。")])),
        ];
        let doc = Document {
            title: String::new(),
            cover: crate::model::Cover::default(),
            blocks: Vec::new(),
            status: crate::model::Status::Draft,
            gaps: Vec::new(),
        };
        blocks(&doc, &list, &mut out, &mut files, &mut started);
        let left = out.find("a7c99683").unwrap();
        let body = out.find("正文").unwrap();
        assert!(out[..left].contains("justify: false"), "{out}");
        assert!(!out[left..body].contains("justify"), "{out}");
        // The preamble justifies the body text.
        assert!(preamble(&doc).contains("justify: true"));
    }
}
