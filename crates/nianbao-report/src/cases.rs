//! Typical cases (典型案例): Markdown files with TOML front matter between `+++` lines
//! (`title`, `section`, optional `order` and `images = [{ file, caption }]`). The body is a
//! narrative template like any other; the case is placed at the end of its section.

use std::collections::BTreeMap;

use minijinja::Value;
use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::error::ReportError;
use crate::model::{Block, Case, Gap, GapKind};
use crate::narrative::Narrative;

/// The most photos one case may show.
pub const MAX_CASE_IMAGES: usize = 4;

/// A case's front matter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseMeta {
    pub title: String,
    /// The number of the section the case is printed in.
    pub section: String,
    /// Its place among the cases of its section (smaller first).
    #[serde(default)]
    pub order: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<CaseImage>,
}

/// A photo of a case and its caption.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CaseImage {
    pub file: String,
    pub caption: String,
}

/// Reads a case file's front matter and body.
pub fn read_case(text: &str) -> Result<(CaseMeta, String), String> {
    let (meta, body) = split_front_matter(text)?;
    let meta: CaseMeta =
        toml::from_str(meta).map_err(|e| format!("元数据有误：{}", e.message()))?;
    if meta.title.trim().is_empty() {
        return Err("案例标题（title）为空".into());
    }
    let body = body.trim_start_matches('\n').to_string();
    Ok((meta, body))
}

/// Reads a case file's front matter alone.
pub fn read_meta(text: &str) -> Result<CaseMeta, String> {
    read_case(text).map(|(meta, _)| meta)
}

/// Writes a case file: front matter between `+++` lines, then the body.
pub fn write_case(meta: &CaseMeta, body: &str) -> String {
    let front = toml::to_string(meta).unwrap_or_default();
    format!("+++\n{}+++\n{}", front, body.trim_start_matches('\n'))
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

/// Reads every case of the content, renders it and groups it by section number. A case
/// whose text binds a fact without a value prints a gap in place of its text, recorded in
/// `gaps`.
pub fn load(
    content: &Content,
    folder: &str,
    known_sections: &[String],
    narrative: &Narrative,
    gaps: &mut Vec<Gap>,
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
        let mut blocks = match narrative.render_str(&file.display, &body, Value::from(())) {
            Ok(blocks) => blocks,
            Err(error) => {
                let missing = narrative.take_gaps();
                if missing.is_empty() {
                    return Err(error);
                }
                let part = format!("典型案例「{}」", meta.title.trim());
                missing
                    .into_iter()
                    .map(|message| {
                        let block = Block::Gap(format!("【待补数据：{message}】"));
                        gaps.push(Gap {
                            part: part.clone(),
                            kind: GapKind::Data,
                            message,
                        });
                        block
                    })
                    .collect()
            }
        };
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
