//! The report outline as data (`data/report/outline.toml`): the cover, the front matter
//! pages and generated lists, where each section's narrative lives, and the appended
//! indicator tables as templates over the dataset. The numbered sections themselves come
//! from `data/sections.toml` (`Definitions::sections`).

use serde::Deserialize;

use nianbao_core::Definitions;

use crate::content::Content;
use crate::error::ReportError;
use crate::model::ListKind;

pub const OUTLINE_FILE: &str = "outline.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outline {
    pub cover: CoverSpec,
    #[serde(rename = "front")]
    pub front: Vec<FrontPage>,
    /// The generated lists, in the order they follow the front pages.
    pub lists: Vec<ListName>,
    pub sections: SectionsSpec,
    pub appendix: AppendixSpec,
    /// The back page (封底): the school's address and contacts.
    pub back: FrontPage,
    /// The id of the front page that carries a final report's snapshot number and hash.
    pub seal: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverSpec {
    /// The title under the school's name; `{year}` is replaced by the report year.
    pub title: String,
}

/// A front-matter page (or the back page): a title and the path of its text. A page whose
/// text is missing prints as a gap until the school writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontPage {
    /// The page title; for a numbered section ("0") the outline's title is used instead.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub section: Option<String>,
    pub template: String,
    /// A stable anchor for the page.
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListName {
    Contents,
    Figures,
    Cases,
    Tables,
}

impl From<ListName> for ListKind {
    fn from(name: ListName) -> ListKind {
        match name {
            ListName::Contents => ListKind::Contents,
            ListName::Figures => ListKind::Figures,
            ListName::Cases => ListKind::Cases,
            ListName::Tables => ListKind::Tables,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionsSpec {
    /// The folder of per-section narrative templates, named by section number ("1.4.md").
    pub folder: String,
    /// The folder of typical cases.
    pub cases: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendixSpec {
    pub title: String,
    /// A narrative template printed before the tables.
    #[serde(default)]
    pub intro: Option<String>,
    #[serde(rename = "table")]
    pub tables: Vec<AppendixTable>,
}

/// One appended table: a row per item, a column per year of the report's tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendixTable {
    pub title: String,
    pub rows: Vec<AppendixRow>,
}

/// A row of an appended table: an element code, an indicator (`ind:<id>`), or a label
/// the dataset does not collect yet (printed as "—").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendixRow {
    #[serde(default)]
    pub item: Option<String>,
    /// The printed name; defaults to the element's or indicator's name.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
}

impl Outline {
    /// Reads and checks the outline: every appended item must name a known element or
    /// indicator, every page must have a title.
    pub fn load(content: &Content, definitions: &Definitions) -> Result<Outline, ReportError> {
        let file = content.require(OUTLINE_FILE, OUTLINE_FILE)?;
        let error = |message: String| ReportError::Content {
            file: file.display.clone(),
            message,
        };
        let outline: Outline = toml::from_str(file.text()?).map_err(|e| error(e.to_string()))?;
        for page in &outline.front {
            if let Some(section) = &page.section
                && definitions.section_title(section).is_none()
            {
                return Err(error(format!("章节 {section} 不在 data/sections.toml 中")));
            }
            if page.title.is_none() && page.section.is_none() {
                return Err(error(format!("前置页 {} 既无标题也无章节号", page.id)));
            }
        }
        if outline.back.title.is_none() {
            return Err(error("封底（back）需要标题".into()));
        }
        if !outline.front.iter().any(|p| p.id == outline.seal) {
            return Err(error(format!(
                "seal 指定的前置页「{}」不在 front 中",
                outline.seal
            )));
        }
        if let Some(intro) = &outline.appendix.intro {
            content.require(intro, &file.display)?;
        }
        for table in &outline.appendix.tables {
            for row in &table.rows {
                match &row.item {
                    Some(item) => {
                        let known = match item.strip_prefix("ind:") {
                            Some(id) => definitions.indicator(id).is_some(),
                            None => definitions.elements.get(item).is_some(),
                        };
                        if !known {
                            return Err(error(format!(
                                "附表「{}」引用了未知的数据项或指标 `{item}`",
                                table.title
                            )));
                        }
                    }
                    None if row.label.is_none() => {
                        return Err(error(format!(
                            "附表「{}」有一行既无 item 也无 label",
                            table.title
                        )));
                    }
                    None => {}
                }
            }
        }
        Ok(outline)
    }
}
