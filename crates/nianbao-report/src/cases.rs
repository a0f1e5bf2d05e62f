//! Typical cases (典型案例): Markdown files with TOML front matter between `+++` lines
//! (`title`, `section`, optional `order` and `images = [{ file, caption }]`). The body is a
//! narrative template like any other; the case is placed at the end of its section.

use std::collections::BTreeMap;

use minijinja::Value;
use serde::Deserialize;

use crate::content::Content;
use crate::error::ReportError;
use crate::model::{Block, Case};
use crate::narrative::Narrative;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseMeta {
    title: String,
    section: String,
    #[serde(default)]
    order: i64,
    #[serde(default)]
    images: Vec<CaseImage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseImage {
    file: String,
    caption: String,
}

/// Splits `+++` front matter from the body; the body keeps its line numbers by being
/// preceded by as many empty lines as the front matter took.
fn split_front_matter(text: &str) -> Result<(&str, String), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return Err(
            "案例文件应以 +++ 行开头，其后是 TOML 元数据（title、section），再以 +++ 行结束".into(),
        );
    };
    let end = rest
        .find("\n+++")
        .ok_or_else(|| "元数据没有以 +++ 行结束".to_string())?;
    let meta = &rest[..end];
    let after = &rest[end + 4..];
    let after = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))
        .unwrap_or(after);
    let padding = "\n".repeat(meta.lines().count() + 2);
    Ok((meta, format!("{padding}{after}")))
}

/// Reads every case of the content, renders it and groups it by section number.
pub fn load(
    content: &Content,
    folder: &str,
    known_sections: &[String],
    narrative: &Narrative,
) -> Result<BTreeMap<String, Vec<Block>>, ReportError> {
    let prefix = format!("{}/", folder.trim_end_matches('/'));
    let mut cases: Vec<(String, i64, String, Block)> = Vec::new();
    for (path, file) in content.under(&prefix) {
        if !path.ends_with(".md") {
            continue;
        }
        let bad = |message: String| ReportError::Content {
            file: file.display.clone(),
            message,
        };
        let (meta, body) = split_front_matter(file.text()?).map_err(bad)?;
        let meta: CaseMeta =
            toml::from_str(meta).map_err(|e| bad(format!("元数据有误：{}", e.message())))?;
        if meta.title.trim().is_empty() {
            return Err(bad("案例标题（title）为空".into()));
        }
        if !known_sections.contains(&meta.section) {
            return Err(ReportError::UnknownSection {
                file: file.display.clone(),
                section: meta.section,
            });
        }
        let mut blocks = narrative.render_str(&file.display, &body, Value::from(()))?;
        for image in &meta.images {
            blocks.push(narrative.picture(&file.display, &image.file, &image.caption)?);
        }
        let case = Block::Case(Box::new(Case {
            number: 0,
            title: meta.title.trim().to_string(),
            blocks,
        }));
        cases.push((meta.section, meta.order, path.to_string(), case));
    }
    cases.sort_by(|a, b| (a.1, &a.2).cmp(&(b.1, &b.2)));
    let mut by_section: BTreeMap<String, Vec<Block>> = BTreeMap::new();
    for (section, _, _, case) in cases {
        by_section.entry(section).or_default().push(case);
    }
    Ok(by_section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_split_and_lines_are_kept() {
        let (meta, body) =
            split_front_matter("+++\ntitle = \"a\"\nsection = \"2.1\"\n+++\n正文\n").unwrap();
        assert_eq!(meta, "title = \"a\"\nsection = \"2.1\"");
        assert_eq!(body.lines().position(|l| l == "正文"), Some(4));
    }

    #[test]
    fn missing_front_matter_is_refused() {
        assert!(split_front_matter("title: a\n").is_err());
        assert!(split_front_matter("+++\ntitle = \"a\"\n").is_err());
    }
}
