//! Web pages: the visible text of an HTML report, laid out as the other readers lay out
//! theirs.
//!
//! Each block element (paragraph, heading, list item, caption …) becomes one line; each
//! table row becomes one tab-separated line, with a cell spanning several columns or rows
//! written once and followed by empty cells, so columns stay aligned (as for Word
//! documents). The head, scripts, styles and drawings (inline SVG) are not read.

use scraper::{ElementRef, Html, Node};

use crate::limits::MAX_HTML_DEPTH;

/// Elements whose content is not read.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "template", "noscript", "svg", "math", "iframe", "object", "canvas",
    "select", "button",
];

/// Elements that start and end a line of their own.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "ul",
];

/// The most columns or rows one cell may span (a guard against absurd attributes).
const MAX_SPAN: usize = 64;

/// Reads the visible text of an HTML page; a page whose elements nest deeper than
/// [`MAX_HTML_DEPTH`] is refused (its depth measured without recursion, so that reading it
/// can recurse safely).
pub fn html_text(html: &str) -> Result<String, String> {
    let document = Html::parse_document(html);
    let depth = depth(&document);
    if depth > MAX_HTML_DEPTH {
        return Err(format!(
            "元素嵌套达 {depth} 层，超过上限 {MAX_HTML_DEPTH} 层，不予读取"
        ));
    }
    let mut writer = Writer::default();
    writer.element(document.root_element());
    writer.flush();
    let mut out = writer.out;
    while out.ends_with('\n') {
        out.pop();
    }
    out.push('\n');
    Ok(out)
}

/// The deepest nesting of the page's nodes, walked without recursion.
fn depth(document: &Html) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for edge in document.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ego_tree::iter::Edge::Close(_) => depth = depth.saturating_sub(1),
        }
    }
    deepest
}

#[derive(Default)]
struct Writer {
    out: String,
    /// The text of the line being written, whitespace already collapsed.
    line: String,
}

impl Writer {
    /// Ends the current line, if it holds any text.
    fn flush(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = line.trim_matches(' ');
        if !line.is_empty() {
            self.out.push_str(line);
            self.out.push('\n');
        }
    }

    fn text(&mut self, text: &str) {
        push_collapsed(&mut self.line, text);
    }

    fn element(&mut self, element: ElementRef<'_>) {
        let name = element.value().name();
        if SKIPPED.contains(&name) {
            return;
        }
        match name {
            "br" => {
                self.flush();
                return;
            }
            "table" => {
                self.flush();
                self.table(element);
                return;
            }
            _ => {}
        }
        let block = BLOCKS.contains(&name);
        if block {
            self.flush();
        }
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.text(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child);
                    }
                }
                _ => {}
            }
        }
        if block {
            self.flush();
        }
    }

    /// A table: its caption, then its rows, set off by blank lines.
    fn table(&mut self, table: ElementRef<'_>) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        let mut rows: Vec<ElementRef<'_>> = Vec::new();
        collect_rows(table, &mut rows, &mut |caption| {
            let text = cell_text(caption);
            if !text.is_empty() {
                self.out.push_str(&text);
                self.out.push('\n');
            }
        });
        // Columns still covered by a cell above: (column → rows left).
        let mut covered: Vec<usize> = Vec::new();
        for row in rows {
            let mut cells: Vec<String> = Vec::new();
            let mut column = 0;
            for cell in row.child_elements() {
                let name = cell.value().name();
                if name != "td" && name != "th" {
                    continue;
                }
                skip_covered(&mut covered, &mut cells, &mut column);
                let span = |attribute: &str| {
                    cell.value()
                        .attr(attribute)
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, MAX_SPAN)
                };
                let (colspan, rowspan) = (span("colspan"), span("rowspan"));
                cells.push(cell_text(cell).replace('\t', " "));
                for _ in 1..colspan {
                    cells.push(String::new());
                }
                for c in column..column + colspan {
                    if covered.len() <= c {
                        covered.resize(c + 1, 0);
                    }
                    covered[c] = rowspan - 1;
                }
                column += colspan;
            }
            skip_covered(&mut covered, &mut cells, &mut column);
            let line = cells.join("\t");
            let line = line.trim_end_matches('\t');
            if !line.trim().is_empty() {
                self.out.push_str(line);
                self.out.push('\n');
            }
        }
        self.out.push('\n');
    }
}

/// Writes an empty cell for each column from `column` on that a cell above still covers.
fn skip_covered(covered: &mut [usize], cells: &mut Vec<String>, column: &mut usize) {
    while let Some(left) = covered.get_mut(*column).filter(|left| **left > 0) {
        *left -= 1;
        cells.push(String::new());
        *column += 1;
    }
}

/// The rows of a table (through thead, tbody and tfoot, not into nested tables), and its
/// caption.
fn collect_rows<'a>(
    element: ElementRef<'a>,
    rows: &mut Vec<ElementRef<'a>>,
    caption: &mut impl FnMut(ElementRef<'a>),
) {
    for child in element.child_elements() {
        match child.value().name() {
            "tr" => rows.push(child),
            "thead" | "tbody" | "tfoot" => collect_rows(child, rows, caption),
            "caption" => caption(child),
            _ => {}
        }
    }
}

/// The text of a cell (or caption) on one line.
fn cell_text(element: ElementRef<'_>) -> String {
    let mut out = String::new();
    fn walk(element: ElementRef<'_>, out: &mut String) {
        if SKIPPED.contains(&element.value().name()) {
            return;
        }
        for child in element.children() {
            match child.value() {
                Node::Text(text) => push_collapsed(out, text),
                Node::Element(e) => {
                    if e.name() == "br" || BLOCKS.contains(&e.name()) {
                        push_collapsed(out, " ");
                    }
                    if let Some(child) = ElementRef::wrap(child) {
                        walk(child, out);
                    }
                }
                _ => {}
            }
        }
    }
    walk(element, &mut out);
    out.trim_matches(' ').to_string()
}

/// Appends text with every run of HTML whitespace written as one space.
fn push_collapsed(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{c}') {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_tables_and_spans() {
        let html = r#"<!DOCTYPE html><html><head><title>标题</title><style>p{}</style></head>
<body><h2>1.4 师资队伍</h2>
<p>全校教职工
  <strong>639</strong> 人。<br>另起一行</p>
<figure><figcaption>表 1：情况</figcaption><table><thead>
<tr><th rowspan="2">年份</th><th colspan="2">人数</th></tr>
<tr><th>在编</th><th>外聘</th></tr></thead>
<tbody><tr><th scope="row">2025</th><td>10</td><td>2</td></tr></tbody></table></figure>
<div role="img"><svg><text>9,999</text></svg></div>
<ul><li>甲</li><li>乙</li></ul></body></html>"#;
        assert_eq!(
            html_text(html).unwrap_or_default(),
            "1.4 师资队伍\n全校教职工 639 人。\n另起一行\n表 1：情况\n\n年份\t人数\n\t在编\t外聘\n2025\t10\t2\n\n甲\n乙\n"
        );
    }

    #[test]
    fn a_row_span_leaves_empty_cells_below() {
        let html = "<table><tr><td rowspan=\"3\">甲类</td><td>a</td><td>1</td></tr>\
                    <tr><td>b</td><td>2</td></tr><tr><td>c</td><td>3</td></tr>\
                    <tr><td>合计</td><td></td><td>6</td></tr></table>";
        assert_eq!(
            html_text(html).unwrap_or_default(),
            "甲类\ta\t1\n\tb\t2\n\tc\t3\n合计\t\t6\n"
        );
    }
}
