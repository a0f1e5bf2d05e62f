//! The parts of the report a school writes: the front pages, every numbered section and
//! the back page, each with the content path its text lives at. A part is what a
//! department is assigned, what a reviewer approves, and what the report needs before it
//! can be final. Typical cases belong to the part of their section.

use nianbao_core::Definitions;

use crate::cases;
use crate::outline::Outline;

/// One writable part of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// A stable key: the front page's id ("preface"), the section number ("1.4"), "back".
    pub key: String,
    /// The title as printed ("前言", "1.4 师资队伍").
    pub title: String,
    /// Where its text lives in the content ("front/preface.md", "sections/1.4.md").
    pub path: String,
    /// The numbered section it is, if it is one ("0" for the preface).
    pub section: Option<String>,
    /// Whether a final report needs it written. A chapter whose sections carry the text
    /// ("2 人才培养") may stay empty.
    pub required: bool,
    pub kind: PartKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    Front,
    Section,
    Back,
}

impl PartKind {
    pub fn label(self) -> &'static str {
        match self {
            PartKind::Front => "前置页",
            PartKind::Section => "正文",
            PartKind::Back => "封底",
        }
    }
}

/// Every part of the report, in the order it prints.
pub fn parts(outline: &Outline, definitions: &Definitions) -> Vec<Part> {
    let mut out = Vec::new();
    for page in &outline.front {
        let title = match (&page.section, &page.title) {
            (Some(number), _) => definitions.section_title(number).unwrap_or(number),
            (None, Some(title)) => title.as_str(),
            (None, None) => page.id.as_str(),
        };
        out.push(Part {
            key: page.id.clone(),
            title: title.to_string(),
            path: page.template.clone(),
            section: page.section.clone(),
            required: true,
            kind: PartKind::Front,
        });
    }
    let folder = outline.sections.folder.trim_end_matches('/');
    let numbers: Vec<&str> = definitions
        .sections
        .iter()
        .map(|s| s.number.as_str())
        .collect();
    for section in definitions.sections.iter().filter(|s| s.number != "0") {
        let has_children = numbers
            .iter()
            .any(|n| n.starts_with(&format!("{}.", section.number)));
        let title = if section.number.contains('.') {
            format!("{} {}", section.number, section.title)
        } else {
            format!("{}. {}", section.number, section.title)
        };
        out.push(Part {
            key: section.number.clone(),
            title,
            path: format!("{folder}/{}.md", section.number),
            section: Some(section.number.clone()),
            required: !has_children,
            kind: PartKind::Section,
        });
    }
    let back = &outline.back;
    out.push(Part {
        key: back.id.clone(),
        title: back.title.clone().unwrap_or_else(|| back.id.clone()),
        path: back.template.clone(),
        section: None,
        required: true,
        kind: PartKind::Back,
    });
    out
}

/// The part a content file belongs to: a text's own part, or for a case the part of the
/// section it is filed under. `None` for files that are no part's text (pictures, the
/// outline) and for a case whose front matter cannot be read.
pub fn part_of<'a>(
    parts: &'a [Part],
    outline: &Outline,
    path: &str,
    text: &str,
) -> Option<&'a Part> {
    if let Some(part) = parts.iter().find(|p| p.path == path) {
        return Some(part);
    }
    let cases_folder = format!("{}/", outline.sections.cases.trim_end_matches('/'));
    if path.starts_with(&cases_folder) && path.ends_with(".md") {
        let meta = cases::read_meta(text).ok()?;
        return parts
            .iter()
            .find(|p| p.section.as_deref() == Some(meta.section.as_str()));
    }
    None
}
