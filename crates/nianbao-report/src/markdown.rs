//! Rendered narrative (Markdown) into document blocks: paragraphs with bold, italic and
//! links, bullet and numbered lists, sub-headings, pictures (`![caption](images/x.png)`),
//! and the tables, charts and figures that template functions placed as markers.

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use crate::model::{Align, Block, Heading, Inline, Paragraph};

/// The text a template function leaves where a block goes: `§§N§§` on its own paragraph.
pub fn marker(index: usize) -> String {
    format!("\n\n§§{index}§§\n\n")
}

fn parse_marker(text: &str) -> Option<usize> {
    text.trim()
        .strip_prefix("§§")?
        .strip_suffix("§§")?
        .parse()
        .ok()
}

/// Converts Markdown to blocks. `placed` holds the blocks that markers refer to;
/// `picture(path, caption)` turns a Markdown image into a figure block.
pub fn to_blocks(
    markdown: &str,
    placed: &mut [Option<Block>],
    picture: &mut dyn FnMut(&str, &str) -> Result<Block, String>,
) -> Result<Vec<Block>, String> {
    let mut out: Vec<Block> = Vec::new();
    let mut runs: Vec<Inline> = Vec::new();
    let (mut bold, mut italic) = (0usize, 0usize);
    let mut link: Option<String> = None;
    // The image being read: its path and alt text (the caption).
    let mut image: Option<(String, String)> = None;
    let mut figures: Vec<Block> = Vec::new();
    let mut list: Option<(bool, Vec<Vec<Inline>>)> = None;
    let mut heading = false;
    // Open lists; nested lists are flattened into the outermost one.
    let mut depth = 0usize;

    let push_text =
        |runs: &mut Vec<Inline>, text: &str, bold: bool, italic: bool, link: &Option<String>| {
            if let Some(last) = runs.last_mut()
                && last.bold == bold
                && last.italic == italic
                && &last.link == link
            {
                last.text.push_str(text);
                return;
            }
            runs.push(Inline {
                text: text.to_string(),
                bold,
                italic,
                link: link.clone(),
            });
        };

    for event in Parser::new(markdown) {
        match event {
            Event::Start(Tag::Strong) => bold += 1,
            Event::End(TagEnd::Strong) => bold = bold.saturating_sub(1),
            Event::Start(Tag::Emphasis) => italic += 1,
            Event::End(TagEnd::Emphasis) => italic = italic.saturating_sub(1),
            Event::Start(Tag::Link { dest_url, .. }) => {
                if !safe_link(&dest_url) {
                    return Err(format!(
                        "链接「{dest_url}」不被接受：只能链接到 http://、https://、mailto: 地址或报告内的 # 锚点"
                    ));
                }
                link = Some(dest_url.to_string());
            }
            Event::End(TagEnd::Link) => link = None,
            Event::Start(Tag::Image { dest_url, .. }) => {
                image = Some((dest_url.to_string(), String::new()));
            }
            Event::End(TagEnd::Image) => {
                if let Some((path, caption)) = image.take() {
                    figures.push(picture(&path, caption.trim())?);
                }
            }
            Event::Text(text) | Event::Code(text) => match &mut image {
                Some((_, caption)) => caption.push_str(&text),
                None => push_text(&mut runs, &text, bold > 0, italic > 0, &link),
            },
            Event::SoftBreak => {
                // Chinese lines join without a space; Latin words keep one.
                let latin = runs
                    .last()
                    .and_then(|r| r.text.chars().last())
                    .is_some_and(|c| c.is_ascii_alphanumeric());
                if latin {
                    push_text(&mut runs, " ", bold > 0, italic > 0, &link);
                }
            }
            Event::HardBreak => push_text(&mut runs, "\n", bold > 0, italic > 0, &link),
            Event::Start(Tag::Heading { .. }) => heading = true,
            Event::End(TagEnd::Heading(level)) => {
                heading = false;
                let text: String = runs.drain(..).map(|r| r.text).collect();
                out.push(Block::Heading(Heading {
                    level: heading_level(level),
                    number: None,
                    text: text.trim().to_string(),
                    id: String::new(),
                    in_toc: false,
                    page_break: false,
                }));
            }
            Event::Start(Tag::List(start)) => {
                depth += 1;
                if let Some((_, items)) = &mut list {
                    if !runs.is_empty() {
                        items.push(std::mem::take(&mut runs));
                    }
                } else {
                    list = Some((start.is_some(), Vec::new()));
                }
            }
            Event::End(TagEnd::Item) => {
                if let Some((_, items)) = &mut list
                    && !runs.is_empty()
                {
                    items.push(std::mem::take(&mut runs));
                }
                out.append(&mut figures);
            }
            Event::End(TagEnd::List(_)) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && let Some((ordered, items)) = list.take()
                {
                    out.push(Block::List { ordered, items });
                }
            }
            Event::End(TagEnd::Paragraph) => {
                if list.is_some() {
                    // A loose list item: keep its paragraphs in the item.
                    continue;
                }
                let text: String = runs.iter().map(|r| r.text.as_str()).collect();
                if let Some(index) = parse_marker(&text) {
                    let block = placed
                        .get_mut(index)
                        .and_then(Option::take)
                        .ok_or_else(|| format!("内部标记 {index} 无效"))?;
                    out.push(block);
                    runs.clear();
                } else if !text.trim().is_empty() {
                    out.push(Block::Paragraph(paragraph(std::mem::take(&mut runs))));
                } else {
                    runs.clear();
                }
                out.append(&mut figures);
            }
            Event::Html(html) | Event::InlineHtml(html) if !heading => {
                push_text(&mut runs, &html, bold > 0, italic > 0, &link);
            }
            _ => {}
        }
    }
    if !runs.is_empty() {
        out.push(Block::Paragraph(paragraph(runs)));
    }
    out.append(&mut figures);
    Ok(out)
}

/// Whether a link target is safe to print: a web or mail address, or an anchor in the
/// report. `javascript:`, `data:` and every other scheme are refused.
pub fn safe_link(target: &str) -> bool {
    let lower = target.trim().to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('#') && !lower.contains(':'))
}

/// Markdown headings inside a section are sub-headings of it (level 3).
fn heading_level(_level: HeadingLevel) -> u8 {
    3
}

/// A paragraph from its runs; a leading `->` sets it flush right (signature lines).
fn paragraph(mut runs: Vec<Inline>) -> Paragraph {
    trim_runs(&mut runs);
    let mut align = Align::Body;
    if let Some(first) = runs.first_mut()
        && let Some(rest) = first.text.strip_prefix("->")
    {
        first.text = rest.trim_start().to_string();
        align = Align::Right;
    }
    Paragraph { runs, align }
}

fn trim_runs(runs: &mut [Inline]) {
    if let Some(first) = runs.first_mut() {
        first.text = first.text.trim_start().to_string();
    }
    if let Some(last) = runs.last_mut() {
        last.text = last.text.trim_end().to_string();
    }
}
