//! What a section's template looks like, shared by the writer and the reader: which elements,
//! years and majors it covers, the sheet names, the fixed rows and the header texts.

use nianbao_core::{Definitions, Dimension, Element, Major, ValueKind, Year};

use crate::SectionScope;
use crate::error::ScopeError;

/// Row of the title (0-based, as the writer and calamine count).
pub(crate) const TITLE_ROW: u32 = 0;
/// Row of the instructions.
pub(crate) const NOTE_ROW: u32 = 1;
/// Row of the column headers.
pub(crate) const HEADER_ROW: u32 = 2;
/// How far down the reader looks for the header row, in case rows were added above it.
pub(crate) const HEADER_SEARCH_ROWS: u32 = 10;

/// The label columns of the school-level sheet; the year columns follow.
pub(crate) const SCHOOL_LABELS: [&str; 3] = ["项目", "代码", "单位"];
pub(crate) const SCHOOL_CODE_COLUMN: u32 = 1;
/// The label columns of the per-major sheet; one column per major element follows.
pub(crate) const MAJOR_LABELS: [&str; 2] = ["专业名称", "年份"];
pub(crate) const MAJOR_SHEET_SUFFIX: &str = "分专业";

/// The instructions every sheet carries under its title.
pub(crate) const INSTRUCTIONS: &str = "请在白色单元格中填写，灰色单元格请勿修改；留空表示不填报。\
人数、个数等填写整数；百分比填写 0 到 100 之间的数（如 85.5 表示 85.5%），不带 % 号；\
只填写数字，不要填写单位或文字。";

/// The elements, years and majors of one section's template.
#[derive(Debug, Clone)]
pub(crate) struct Plan<'a> {
    pub number: &'a str,
    pub title: &'a str,
    /// School-level elements, in catalogue order.
    pub school: Vec<&'a Element>,
    /// Per-major elements, in catalogue order.
    pub major: Vec<&'a Element>,
    /// Years in ascending order, without repeats.
    pub years: Vec<Year>,
    /// The majors in scope, in the caller's order, without repeats.
    pub majors: Vec<&'a Major>,
}

impl<'a> Plan<'a> {
    pub fn new(
        defs: &'a Definitions,
        scope: &SectionScope<'a>,
        years: &[Year],
    ) -> Result<Plan<'a>, ScopeError> {
        let section = defs
            .sections
            .iter()
            .find(|s| s.number == scope.section)
            .ok_or_else(|| ScopeError::UnknownSection(scope.section.to_string()))?;
        let in_section = |dimension: Dimension| {
            defs.elements
                .iter()
                .filter(|e| {
                    e.section == section.number && e.dimension == dimension && !e.is_computed()
                })
                .collect::<Vec<_>>()
        };
        let mut years = years.to_vec();
        years.sort_unstable();
        years.dedup();
        if years.is_empty() {
            return Err(ScopeError::NoYears);
        }
        let mut majors: Vec<&Major> = Vec::new();
        for major in &scope.majors {
            if !majors.iter().any(|m| m.name == major.name) {
                majors.push(major);
            }
        }
        let plan = Plan {
            number: &section.number,
            title: &section.title,
            school: if scope.school_level {
                in_section(Dimension::School)
            } else {
                Vec::new()
            },
            major: in_section(Dimension::Major),
            years,
            majors,
        };
        if !plan.has_school_sheet() && !plan.has_major_sheet() {
            return Err(ScopeError::NothingToFill(format!(
                "{} {}",
                plan.number, plan.title
            )));
        }
        Ok(plan)
    }

    pub fn has_school_sheet(&self) -> bool {
        !self.school.is_empty()
    }

    pub fn has_major_sheet(&self) -> bool {
        !self.major.is_empty() && !self.majors.is_empty()
    }

    /// "1.4 师资队伍"
    pub fn school_sheet_name(&self) -> String {
        sheet_name(&format!("{} {}", self.number, self.title))
    }

    /// "1.5 分专业"
    pub fn major_sheet_name(&self) -> String {
        sheet_name(&format!("{} {MAJOR_SHEET_SUFFIX}", self.number))
    }

    /// What every sheet name of this section starts with: "1.4 ".
    pub fn sheet_prefix(&self) -> String {
        format!("{} ", self.number)
    }

    /// The title row of a sheet.
    pub fn title_text(&self, school: &str, what: &str) -> String {
        let school = school.trim();
        let school = if school.is_empty() {
            String::new()
        } else {
            format!("{school} ")
        };
        format!(
            "{school}{} {} {what}数据填报模板（{}）",
            self.number,
            self.title,
            self.years
                .iter()
                .map(|y| year_header(*y))
                .collect::<Vec<_>>()
                .join("、")
        )
    }
}

/// A valid Excel sheet name: at most 31 UTF-16 units, none of `[]:*?/\`, no apostrophe at
/// either end.
pub(crate) fn sheet_name(wanted: &str) -> String {
    let cleaned: String = wanted
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .collect();
    let mut name = String::new();
    let mut units = 0;
    for c in cleaned.trim_matches('\'').chars() {
        units += c.len_utf16();
        if units > 31 {
            break;
        }
        name.push(c);
    }
    let name = name.trim_end_matches('\'').trim_end().to_string();
    if name.is_empty() {
        "Sheet1".to_string()
    } else {
        name
    }
}

/// "2025年"
pub(crate) fn year_header(year: Year) -> String {
    format!("{year}年")
}

/// The header of a per-major element's column: "招生人数（人）".
pub(crate) fn element_header(element: &Element) -> String {
    if element.unit.is_empty() {
        element.name.clone()
    } else {
        format!("{}（{}）", element.name, element.unit)
    }
}

/// What a kind of element expects, for messages: "不小于 0 的整数".
pub(crate) fn expected(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Count => "不小于 0 的整数",
        ValueKind::Amount | ValueKind::Ratio => "不小于 0 的数",
        ValueKind::Percent => "介于 0 到 100 之间的数",
        ValueKind::Change => "数值（可为负数）",
    }
}

/// The column letters Excel shows for a 0-based column: 0 → "A", 26 → "AA".
pub(crate) fn column_name(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// An approximate column width for text: CJK characters take two units, others one.
pub(crate) fn text_width(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 1.0 } else { 2.0 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_follow_excel() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(3), "D");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16383), "XFD");
    }

    #[test]
    fn sheet_names_are_valid_for_excel() {
        assert_eq!(sheet_name("1.4 师资队伍"), "1.4 师资队伍");
        assert_eq!(sheet_name("2.1 a/b[c]:d*e?f\\g"), "2.1 abcdefg");
        let long = sheet_name(&format!("4.3 {}", "传承".repeat(20)));
        assert_eq!(long.encode_utf16().count(), 31);
        assert_eq!(sheet_name("'x'"), "x");
        assert_eq!(sheet_name("[]"), "Sheet1");
    }
}
