//! Word documents: the paragraphs and tables of `word/document.xml`, as plain text.
//!
//! Each paragraph becomes one line; each table row becomes one tab-separated line, with a
//! merged cell (`gridSpan`, `vMerge`) written as empty cells so columns stay aligned. A
//! table of one column (a shaded box around a case or a note) is a frame, not a table of
//! data: its paragraphs are read as the body's.

use std::io::Read;

use crate::limits::MAX_DOCX_XML_BYTES;

/// Reads the body text of a `.docx` archive held in memory.
pub fn docx_text(bytes: &[u8]) -> Result<String, String> {
    let reader = std::io::Cursor::new(bytes);
    let mut archive =
        zip::ZipArchive::new(reader).map_err(|e| format!("不是有效的 zip 压缩包（{e}）"))?;
    let file = archive
        .by_name("word/document.xml")
        .map_err(|_| "压缩包中没有 word/document.xml".to_string())?;
    let too_large = |size: u64| {
        format!(
            "word/document.xml 解压后有 {size} 字节，超过上限 {MAX_DOCX_XML_BYTES} 字节（64 MB），疑为压缩炸弹，不予读取"
        )
    };
    // The size the archive declares, then the bytes actually inflated (a declared size can lie).
    if file.size() > MAX_DOCX_XML_BYTES {
        return Err(too_large(file.size()));
    }
    let mut bytes = Vec::with_capacity(file.size() as usize);
    file.take(MAX_DOCX_XML_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("word/document.xml 无法读取（{e}）"))?;
    if bytes.len() as u64 > MAX_DOCX_XML_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let xml = String::from_utf8(bytes).map_err(|e| {
        format!(
            "word/document.xml 不是 UTF-8 编码（第 {} 字节处编码无效）",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(xml_to_text(&xml))
}

/// What the scanner is inside of, innermost last.
#[derive(Default)]
struct State {
    out: String,
    paragraph: String,
    in_text: bool,
    /// Inside `w:tabs`, where `w:tab` defines a tab stop rather than writing a tab.
    in_tab_stops: bool,
    /// Depth of nested tables; text inside a table goes to the current cell.
    tables: Vec<TableState>,
}

#[derive(Default)]
struct TableState {
    row: Vec<String>,
    cell: String,
    span: usize,
    in_cell: bool,
    /// Inside `w:tblGrid`, counting its columns.
    in_grid: bool,
    grid_columns: usize,
}

impl TableState {
    /// A one-column table: a frame whose paragraphs are body text.
    fn is_frame(&self) -> bool {
        self.grid_columns == 1
    }
}

/// Converts WordprocessingML to text (paragraphs as lines, table rows as tab-separated lines).
pub fn xml_to_text(xml: &str) -> String {
    let mut state = State::default();
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        let (text, after) = rest.split_at(open);
        if state.in_text {
            push_text(&mut state, &decode_entities(text));
        }
        let Some(close) = after.find('>') else { break };
        let tag = &after[1..close];
        rest = &after[close + 1..];
        handle_tag(&mut state, tag);
    }
    let mut out = state.out;
    while out.ends_with('\n') {
        out.pop();
    }
    out.push('\n');
    out
}

fn push_text(state: &mut State, text: &str) {
    match state.tables.last_mut() {
        Some(table) if table.in_cell => table.cell.push_str(text),
        _ => state.paragraph.push_str(text),
    }
}

fn tag_name(tag: &str) -> &str {
    let tag = tag.trim_start_matches('/');
    tag.split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or("")
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

fn handle_tag(state: &mut State, tag: &str) {
    let closing = tag.starts_with('/');
    let self_closing = tag.ends_with('/');
    let name = tag_name(tag);
    match (name, closing) {
        ("w:t", false) => state.in_text = !self_closing,
        ("w:t", true) => state.in_text = false,
        ("w:tabs", false) => state.in_tab_stops = !self_closing,
        ("w:tabs", true) => state.in_tab_stops = false,
        ("w:tab", false) if !state.in_tab_stops => push_text(state, "\t"),
        ("w:br", false) | ("w:cr", false) => push_text(state, " "),
        ("w:p", true) => {
            let in_cell = state.tables.last().is_some_and(|t| t.in_cell);
            if in_cell {
                if let Some(table) = state.tables.last_mut()
                    && !table.cell.is_empty()
                {
                    table.cell.push(' ');
                }
            } else {
                let paragraph = std::mem::take(&mut state.paragraph);
                state.out.push_str(paragraph.trim_end());
                state.out.push('\n');
            }
        }
        ("w:tbl", false) => {
            if !state.out.ends_with("\n\n") && !state.out.is_empty() {
                state.out.push('\n');
            }
            state.tables.push(TableState::default());
        }
        ("w:tbl", true) => {
            state.tables.pop();
            state.out.push('\n');
        }
        ("w:tr", false) => {
            if let Some(table) = state.tables.last_mut() {
                table.row.clear();
            }
        }
        ("w:tblGrid", false) => {
            if let Some(table) = state.tables.last_mut() {
                table.in_grid = !self_closing;
            }
        }
        ("w:tblGrid", true) => {
            if let Some(table) = state.tables.last_mut() {
                table.in_grid = false;
            }
        }
        ("w:gridCol", false) => {
            if let Some(table) = state.tables.last_mut().filter(|t| t.in_grid) {
                table.grid_columns += 1;
            }
        }
        ("w:tr", true) => {
            if let Some(table) = state.tables.last_mut().filter(|t| !t.is_frame()) {
                let line = table.row.join("\t");
                state.out.push_str(line.trim_end_matches('\t'));
                state.out.push('\n');
            }
        }
        ("w:tc", false) => {
            if let Some(table) = state.tables.last_mut().filter(|t| !t.is_frame()) {
                table.cell.clear();
                table.span = 1;
                table.in_cell = true;
            }
        }
        ("w:tc", true) => {
            if let Some(table) = state.tables.last_mut().filter(|t| !t.is_frame()) {
                let cell = table.cell.trim().replace(['\t', '\n'], " ");
                table.row.push(cell);
                for _ in 1..table.span.min(64) {
                    table.row.push(String::new());
                }
                table.in_cell = false;
            }
        }
        ("w:gridSpan", false) => {
            if let (Some(table), Some(value)) = (state.tables.last_mut(), attribute(tag, "w:val")) {
                table.span = value.parse().unwrap_or(1).max(1);
            }
        }
        ("w:vMerge", false) => {
            // A continued vertical merge repeats nothing: the cell stays empty.
            if attribute(tag, "w:val") != Some("restart")
                && let Some(table) = state.tables.last_mut()
            {
                table.cell.clear();
            }
        }
        _ => {}
    }
}

/// Decodes the five XML entities and numeric character references.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_tables() {
        let xml = r#"<w:document><w:body><w:p><w:r><w:t>学校概况</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>人数</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>合计</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>2</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>3</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:t xml:space="preserve">A &amp; B</w:t></w:r></w:p></w:body></w:document>"#;
        let text = xml_to_text(xml);
        assert_eq!(text, "学校概况\n\n人数\t\t合计\n1\t2\t3\n\nA & B\n");
    }

    #[test]
    fn a_one_column_table_is_a_frame_of_paragraphs() {
        let xml = r#"<w:body><w:tbl><w:tblGrid><w:gridCol w:w="9000"/></w:tblGrid><w:tr><w:tc>
<w:p><w:r><w:t>典型案例 1：送技下乡</w:t></w:r></w:p><w:p><w:r><w:t>培训 34 期。</w:t></w:r></w:p>
<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid><w:tr><w:tc><w:p><w:r><w:t>期数</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>34</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p/></w:tc></w:tr></w:tbl><w:p><w:r><w:t>正文</w:t></w:r></w:p></w:body>"#;
        assert_eq!(
            xml_to_text(xml),
            "典型案例 1：送技下乡\n培训 34 期。\n\n期数\t34\n\n\n正文\n"
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a&lt;b&#x4E2D;&#25991;&bogus"),
            "a<b中文&bogus"
        );
    }
}
