//! Areas as data: provinces, cities, districts and the schools in each district, with the
//! deadline each area sets for a year's submissions, read from a TOML file and checked
//! before anything is stored (every error names the file, the line and what was expected).
//!
//! ```toml
//! [[province]]
//! code = "50"
//! name = "重庆市"
//!
//! [[city]]
//! code = "5001"
//! name = "重庆市"
//! province = "50"
//!
//! [[district]]
//! code = "500114"
//! name = "黔江区"
//! city = "5001"
//!
//! [[school]]
//! code = "qianjiang-mzzj"
//! name = "重庆市黔江区民族职业教育中心"
//! district = "500114"
//! type = "中职"
//!
//! [[deadline]]
//! area = "500114"
//! year = 2025
//! date = "2026-01-31"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;

use nianbao_core::{School, Year};
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

/// The largest area file read, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// The most areas (of all levels) one file may define.
pub const MAX_AREAS: usize = 10_000;
/// The most schools one file may define.
pub const MAX_SCHOOLS: usize = 100_000;
/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The level of an education authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    City,
    District,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Province, Level::City, Level::District];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::District => "district",
        }
    }

    /// The Chinese name of the level.
    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省",
            Level::City => "市",
            Level::District => "区县",
        }
    }

    /// The name of the bureau at this level (区县教育局 …).
    pub fn bureau(self) -> &'static str {
        match self {
            Level::Province => "省教育厅",
            Level::City => "市教育局",
            Level::District => "区县教育局",
        }
    }

    /// What the bureau of this level does with its schools' years, as its users' pages name
    /// their role: a district approves (审核), a city receives (接收), a province reads and
    /// may return (审阅).
    pub fn duty(self) -> &'static str {
        match self {
            Level::Province => "审阅",
            Level::City => "接收",
            Level::District => "审核",
        }
    }

    pub fn from_code(code: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// The kind of school, which decides its peer group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SchoolType {
    /// 中等职业学校.
    #[serde(rename = "中职")]
    Secondary,
    /// 技工学校.
    #[serde(rename = "技工")]
    Technician,
    /// 高等职业学校.
    #[serde(rename = "高职")]
    Higher,
}

impl SchoolType {
    pub const ALL: [SchoolType; 3] = [
        SchoolType::Secondary,
        SchoolType::Technician,
        SchoolType::Higher,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SchoolType::Secondary => "中职",
            SchoolType::Technician => "技工",
            SchoolType::Higher => "高职",
        }
    }

    pub fn from_label(text: &str) -> Option<SchoolType> {
        SchoolType::ALL.into_iter().find(|t| t.label() == text)
    }
}

impl fmt::Display for SchoolType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One education authority's area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub level: Level,
    /// The area above it; `None` for a province.
    pub parent: Option<String>,
}

impl Area {
    /// The name of the area's bureau: 「南宁区教育局」, 「平山市教育局」, 「合成省教育厅」.
    pub fn bureau_name(&self) -> String {
        let suffix = match self.level {
            Level::Province => "教育厅",
            Level::City | Level::District => "教育局",
        };
        format!("{}{suffix}", self.name)
    }
}

/// A school as the bureau knows it: which district it belongs to and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaSchool {
    pub code: String,
    pub name: String,
    pub district: String,
    pub kind: SchoolType,
}

/// A deadline set by one area for one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub area: String,
    pub year: Year,
    pub date: Date,
}

impl Deadline {
    /// The date as written in files and the database ("2026-01-31").
    pub fn date_text(&self) -> String {
        format_date(self.date)
    }
}

/// Formats a date as YYYY-MM-DD.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Parses a date written as YYYY-MM-DD.
pub fn parse_date(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

/// An area file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("{file}: 文件大小 {size} 字节，超过上限 {MAX_FILE_BYTES} 字节")]
    TooLarge { file: String, size: usize },
    #[error("{file}: 第 {line} 行：{message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: 第 {line} 行：{message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    TooMany { file: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaFile {
    #[serde(default)]
    province: Vec<AreaSpec>,
    #[serde(default)]
    city: Vec<AreaSpec>,
    #[serde(default)]
    district: Vec<AreaSpec>,
    #[serde(default)]
    school: Vec<SchoolSpec>,
    #[serde(default)]
    deadline: Vec<DeadlineSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaSpec {
    code: toml::Spanned<String>,
    name: toml::Spanned<String>,
    #[serde(default)]
    province: Option<toml::Spanned<String>>,
    #[serde(default)]
    city: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchoolSpec {
    code: toml::Spanned<String>,
    name: toml::Spanned<String>,
    district: toml::Spanned<String>,
    #[serde(rename = "type")]
    kind: toml::Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineSpec {
    area: toml::Spanned<String>,
    year: toml::Spanned<i64>,
    date: toml::Spanned<String>,
}

/// Every area and school of a file, checked: codes unique, every parent known, every
/// school in a district, every deadline for a known area.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AreaTree {
    pub areas: Vec<Area>,
    pub schools: Vec<AreaSchool>,
    pub deadlines: Vec<Deadline>,
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

struct Reader<'a> {
    file: &'a str,
    text: &'a str,
}

impl Reader<'_> {
    fn invalid(&self, span: Range<usize>, message: String) -> AreaError {
        AreaError::Invalid {
            file: self.file.to_string(),
            line: line_of(self.text, span.start),
            message,
        }
    }

    fn code(&self, code: &toml::Spanned<String>, what: &str) -> Result<String, AreaError> {
        let value = code.get_ref().trim();
        if !School::valid_code(value) {
            return Err(self.invalid(
                code.span(),
                format!("{what}代码「{value}」无效：应为 1–64 个英文字母、数字或连字符（-）"),
            ));
        }
        Ok(value.to_string())
    }

    fn name(&self, name: &toml::Spanned<String>, what: &str) -> Result<String, AreaError> {
        let value = name.get_ref().trim();
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS || value.chars().any(char::is_control) {
            return Err(self.invalid(
                name.span(),
                format!("{what}名称应为 1–{MAX_NAME_CHARS} 个字符且不含控制字符"),
            ));
        }
        Ok(value.to_string())
    }
}

impl AreaTree {
    /// Reads and checks an area file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<AreaTree, AreaError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(AreaError::TooLarge {
                file: file.to_string(),
                size: text.len(),
            });
        }
        let spec: AreaFile = toml::from_str(text).map_err(|e| AreaError::Syntax {
            file: file.to_string(),
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            message: format!("无法读取区域文件：{}", e.message()),
        })?;
        let reader = Reader { file, text };
        let area_count = spec.province.len() + spec.city.len() + spec.district.len();
        if area_count > MAX_AREAS {
            return Err(AreaError::TooMany {
                file: file.to_string(),
                message: format!("共 {area_count} 个区域，超过上限 {MAX_AREAS}"),
            });
        }
        if spec.school.len() > MAX_SCHOOLS {
            return Err(AreaError::TooMany {
                file: file.to_string(),
                message: format!("共 {} 所学校，超过上限 {MAX_SCHOOLS}", spec.school.len()),
            });
        }

        let mut tree = AreaTree::default();
        let mut seen: HashMap<String, Level> = HashMap::new();
        let levels = [
            (Level::Province, &spec.province),
            (Level::City, &spec.city),
            (Level::District, &spec.district),
        ];
        for (level, specs) in levels {
            for a in specs {
                let code = reader.code(&a.code, level.label())?;
                let name = reader.name(&a.name, level.label())?;
                let (parent, parent_level, field) = match level {
                    Level::Province => (None, None, ""),
                    Level::City => (a.province.as_ref(), Some(Level::Province), "province"),
                    Level::District => (a.city.as_ref(), Some(Level::City), "city"),
                };
                let wrong_field = match level {
                    Level::Province => a.province.as_ref().or(a.city.as_ref()),
                    Level::City => a.city.as_ref(),
                    Level::District => a.province.as_ref(),
                };
                if let Some(wrong) = wrong_field {
                    return Err(reader.invalid(
                        wrong.span(),
                        format!(
                            "{}「{name}」不应填写此上级字段{}",
                            level.label(),
                            if field.is_empty() {
                                String::new()
                            } else {
                                format!("（应只填写 {field}）")
                            }
                        ),
                    ));
                }
                let parent = match (parent, parent_level) {
                    (None, None) => None,
                    (None, Some(pl)) => {
                        return Err(reader.invalid(
                            a.code.span(),
                            format!(
                                "{}「{name}」缺少上级{}：应填写 {field} = \"上级代码\"",
                                level.label(),
                                pl.label()
                            ),
                        ));
                    }
                    (Some(p), Some(pl)) => {
                        let value = p.get_ref().trim();
                        if seen.get(value) != Some(&pl) {
                            return Err(reader.invalid(
                                p.span(),
                                format!(
                                    "{}「{name}」的上级{}代码「{value}」未在前面定义",
                                    level.label(),
                                    pl.label()
                                ),
                            ));
                        }
                        Some(value.to_string())
                    }
                    (Some(_), None) => None,
                };
                if seen.insert(code.clone(), level).is_some() {
                    return Err(reader.invalid(a.code.span(), format!("区域代码「{code}」重复")));
                }
                tree.areas.push(Area {
                    code,
                    name,
                    level,
                    parent,
                });
            }
        }

        let mut school_codes: HashMap<String, ()> = HashMap::new();
        for s in &spec.school {
            let code = reader.code(&s.code, "学校")?;
            let name = reader.name(&s.name, "学校")?;
            let district = s.district.get_ref().trim();
            if seen.get(district) != Some(&Level::District) {
                return Err(reader.invalid(
                    s.district.span(),
                    format!("学校「{name}」所属区县代码「{district}」不是已定义的区县"),
                ));
            }
            let Some(kind) = SchoolType::from_label(s.kind.get_ref().trim()) else {
                return Err(reader.invalid(
                    s.kind.span(),
                    format!(
                        "学校「{name}」的类型「{}」无效：应为 中职、技工 或 高职",
                        s.kind.get_ref()
                    ),
                ));
            };
            if school_codes.insert(code.clone(), ()).is_some() || seen.contains_key(&code) {
                return Err(reader.invalid(s.code.span(), format!("学校代码「{code}」重复")));
            }
            tree.schools.push(AreaSchool {
                code,
                name,
                district: district.to_string(),
                kind,
            });
        }

        let mut deadline_keys: HashMap<(String, Year), ()> = HashMap::new();
        for d in &spec.deadline {
            let area = d.area.get_ref().trim();
            if !seen.contains_key(area) {
                return Err(
                    reader.invalid(d.area.span(), format!("截止日期的区域代码「{area}」未定义"))
                );
            }
            let year = Year::new(*d.year.get_ref())
                .map_err(|e| reader.invalid(d.year.span(), e.to_string()))?;
            let Some(date) = parse_date(d.date.get_ref()) else {
                return Err(reader.invalid(
                    d.date.span(),
                    format!(
                        "截止日期「{}」无效：应写作 YYYY-MM-DD，如 2026-01-31",
                        d.date.get_ref()
                    ),
                ));
            };
            if deadline_keys.insert((area.to_string(), year), ()).is_some() {
                return Err(reader.invalid(
                    d.area.span(),
                    format!("区域「{area}」{year} 年度的截止日期重复"),
                ));
            }
            tree.deadlines.push(Deadline {
                area: area.to_string(),
                year,
                date,
            });
        }
        Ok(tree)
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    pub fn school(&self, code: &str) -> Option<&AreaSchool> {
        self.schools.iter().find(|s| s.code == code)
    }

    /// The area and every area above it, nearest first.
    pub fn ancestors(&self, code: &str) -> Vec<&Area> {
        let mut chain = Vec::new();
        let mut next = self.area(code);
        while let Some(area) = next {
            if chain.len() > Level::ALL.len() {
                break;
            }
            chain.push(area);
            next = area.parent.as_deref().and_then(|p| self.area(p));
        }
        chain
    }

    /// Whether `area` is `school`'s district or lies above it.
    pub fn contains_school(&self, area: &str, school: &str) -> bool {
        self.school(school)
            .is_some_and(|s| self.ancestors(&s.district).iter().any(|a| a.code == area))
    }

    /// The schools within an area, in file order.
    pub fn schools_in(&self, area: &str) -> Vec<&AreaSchool> {
        let districts: BTreeMap<&str, bool> = self
            .areas
            .iter()
            .filter(|a| a.level == Level::District)
            .map(|a| {
                let inside = self.ancestors(&a.code).iter().any(|x| x.code == area);
                (a.code.as_str(), inside)
            })
            .collect();
        self.schools
            .iter()
            .filter(|s| districts.get(s.district.as_str()).copied().unwrap_or(false))
            .collect()
    }

    /// The deadline that binds a school for a year: its district's, else its city's, else
    /// its province's.
    pub fn deadline_for(&self, school: &str, year: Year) -> Option<&Deadline> {
        let school = self.school(school)?;
        self.ancestors(&school.district).into_iter().find_map(|a| {
            self.deadlines
                .iter()
                .find(|d| d.area == a.code && d.year == year)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[[province]]
code = "50"
name = "重庆市"

[[city]]
code = "5001"
name = "重庆市"
province = "50"

[[district]]
code = "500114"
name = "黔江区"
city = "5001"

[[district]]
code = "500115"
name = "长寿区"
city = "5001"

[[school]]
code = "qj-1"
name = "黔江一校"
district = "500114"
type = "中职"

[[school]]
code = "cs-1"
name = "长寿技工学校"
district = "500115"
type = "技工"

[[deadline]]
area = "5001"
year = 2025
date = "2026-01-31"

[[deadline]]
area = "500115"
year = 2025
date = "2026-01-15"
"#;

    fn year(y: i64) -> Year {
        Year::new(y).unwrap()
    }

    #[test]
    fn a_sample_file_reads_with_its_hierarchy() {
        let tree = AreaTree::parse("areas.toml", SAMPLE).unwrap();
        assert_eq!(tree.areas.len(), 4);
        assert_eq!(tree.schools.len(), 2);
        assert!(tree.contains_school("5001", "qj-1"));
        assert!(tree.contains_school("500114", "qj-1"));
        assert!(!tree.contains_school("500115", "qj-1"));
        let in_city: Vec<_> = tree.schools_in("50").iter().map(|s| &s.code).collect();
        assert_eq!(in_city, ["qj-1", "cs-1"]);
        assert_eq!(tree.schools_in("500115").len(), 1);
        // The district's own deadline wins over the city's.
        assert_eq!(
            tree.deadline_for("cs-1", year(2025)).unwrap().date_text(),
            "2026-01-15"
        );
        assert_eq!(
            tree.deadline_for("qj-1", year(2025)).unwrap().date_text(),
            "2026-01-31"
        );
        assert!(tree.deadline_for("qj-1", year(2024)).is_none());
    }

    fn error_of(text: &str) -> String {
        AreaTree::parse("areas.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn an_unknown_district_is_named_with_its_line() {
        let text = SAMPLE.replace("district = \"500115\"", "district = \"599999\"");
        let err = error_of(&text);
        assert!(err.starts_with("areas.toml: 第 30 行"), "{err}");
        assert!(err.contains("599999"), "{err}");
        assert!(err.contains("不是已定义的区县"), "{err}");
    }

    #[test]
    fn bad_types_dates_codes_and_duplicates_are_refused() {
        let err = error_of(&SAMPLE.replace("type = \"技工\"", "type = \"普高\""));
        assert!(err.contains("应为 中职、技工 或 高职"), "{err}");
        let err = error_of(&SAMPLE.replace("2026-01-15", "2026-13-15"));
        assert!(err.contains("YYYY-MM-DD"), "{err}");
        assert!(err.contains("第 41 行"), "{err}");
        let err = error_of(&SAMPLE.replace("code = \"cs-1\"", "code = \"qj-1\""));
        assert!(err.contains("学校代码「qj-1」重复"), "{err}");
        let err = error_of(&SAMPLE.replace("code = \"cs-1\"", "code = \"长寿/1\""));
        assert!(err.contains("代码「长寿/1」无效"), "{err}");
        let err = error_of(&SAMPLE.replace("city = \"5001\"\n\n[[district]]", "\n[[district]]"));
        assert!(err.contains("缺少上级市"), "{err}");
        let err = error_of(&SAMPLE.replace(
            "year = 2025\ndate = \"2026-01-31\"",
            "year = 1800\ndate = \"2026-01-31\"",
        ));
        assert!(err.contains("1800"), "{err}");
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let err = error_of("[[province]]\ncode = \"50\"\nname = 重庆\n");
        assert!(err.starts_with("areas.toml: 第 3 行"), "{err}");
        let err = error_of("[[province]]\ncode = \"50\"\nname = \"x\"\ncolour = \"red\"\n");
        assert!(err.contains("第 4 行"), "{err}");
    }

    #[test]
    fn a_city_naming_a_later_or_missing_province_is_refused() {
        let err = error_of(&SAMPLE.replace("province = \"50\"", "province = \"51\""));
        assert!(err.contains("上级省代码「51」未在前面定义"), "{err}");
    }
}
