//! Which facts may exist (the element catalogue) and which 专业大类 names are valid (the
//! major catalogue, one list per edition). Both are loaded from data files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What kind of number an element holds; decides what input is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// A whole number of people, items, sessions: never negative, never fractional.
    Count,
    /// A non-negative quantity with decimals: areas, money.
    Amount,
    /// A percentage between 0 and 100.
    Percent,
    /// A percentage change, which may be negative.
    Change,
    /// A non-negative ratio, such as a per-student value.
    Ratio,
}

impl ValueKind {
    /// What a value of this kind is, in Chinese ("非负整数").
    pub fn expected(self) -> &'static str {
        match self {
            ValueKind::Count => "非负整数",
            ValueKind::Amount | ValueKind::Ratio => "非负数",
            ValueKind::Percent => "0 到 100 之间的百分数",
            ValueKind::Change => "百分数（可为负）",
        }
    }

    /// Whether `value` is acceptable; otherwise what was expected, in Chinese.
    pub fn accepts(self, value: f64) -> Result<(), &'static str> {
        if !value.is_finite() {
            return Err("有限的数值");
        }
        match self {
            ValueKind::Count if value < 0.0 || value.fract() != 0.0 => Err("非负整数"),
            ValueKind::Amount | ValueKind::Ratio if value < 0.0 => Err("非负数"),
            ValueKind::Percent if !(0.0..=100.0).contains(&value) => Err("0 到 100 之间的百分数"),
            _ => Ok(()),
        }
    }
}

/// Whether an element has one value per school-year or one per major and year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    #[default]
    School,
    Major,
}

/// One kind of fact a school reports (a DHIS2 "data element").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub code: String,
    /// The Chinese name used in messages, forms and reports.
    pub name: String,
    #[serde(default)]
    pub unit: String,
    pub kind: ValueKind,
    #[serde(default)]
    pub dimension: Dimension,
    /// The report section (e.g. "1.4") the element belongs to.
    #[serde(default)]
    pub section: String,
    /// The school register that computes the element ("bases", "training", "psych",
    /// "courses"); `None` for a figure the school enters. A computed element is never typed
    /// into a form, a template or a dataset folder: its facts come from the register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<String>,
    /// The largest value accepted (the smallest is its negative for a change), in the
    /// element's unit. Unset in the file, it is the limit of the element's kind from the
    /// `[limits]` table of elements.toml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Element {
    /// Whether the element's facts are computed from a register rather than entered.
    pub fn is_computed(&self) -> bool {
        self.register.is_some()
    }

    /// Whether `value` is acceptable for this element: of its kind and within its bound;
    /// otherwise what was expected, in Chinese.
    pub fn accepts(&self, value: f64) -> Result<(), String> {
        self.kind.accepts(value).map_err(str::to_string)?;
        match self.max {
            Some(max) if value > max || (self.kind == ValueKind::Change && value < -max) => {
                Err(format!(
                    "{}（{}不超过 {}{}）",
                    self.kind.expected(),
                    if self.kind == ValueKind::Change {
                        "绝对值"
                    } else {
                        ""
                    },
                    crate::number::grouped(max, 0),
                    self.unit
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The largest value of each kind of element, unless an element sets its own `max`
/// (the `[limits]` table of elements.toml). A percentage is bounded by 100 by its kind.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindLimits {
    pub count: f64,
    pub amount: f64,
    pub ratio: f64,
    pub change: f64,
}

impl KindLimits {
    pub fn of(&self, kind: ValueKind) -> Option<f64> {
        match kind {
            ValueKind::Count => Some(self.count),
            ValueKind::Amount => Some(self.amount),
            ValueKind::Ratio => Some(self.ratio),
            ValueKind::Change => Some(self.change),
            ValueKind::Percent => None,
        }
    }
}

/// Every element, by code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ElementCatalogue {
    elements: BTreeMap<String, Element>,
    order: Vec<String>,
}

impl ElementCatalogue {
    pub fn new(elements: Vec<Element>) -> Result<ElementCatalogue, String> {
        let mut catalogue = ElementCatalogue::default();
        for element in elements {
            catalogue.insert(element)?;
        }
        Ok(catalogue)
    }

    /// Adds an element; refuses a code already taken, or one that is a dotted prefix of
    /// another (a year file nests codes as TOML tables, so `a.b` and `a.b.c` cannot both exist).
    pub fn insert(&mut self, element: Element) -> Result<(), String> {
        let clashes = |a: &str, b: &str| {
            a == b || b.starts_with(&format!("{a}.")) || a.starts_with(&format!("{b}."))
        };
        if self
            .elements
            .keys()
            .any(|code| clashes(code, &element.code))
        {
            return Err(element.code);
        }
        self.order.push(element.code.clone());
        self.elements.insert(element.code.clone(), element);
        Ok(())
    }

    pub fn get(&self, code: &str) -> Option<&Element> {
        self.elements.get(code)
    }

    /// Gives every element without its own `max` the limit of its kind.
    pub fn apply_limits(&mut self, limits: &KindLimits) {
        for element in self.elements.values_mut() {
            if element.max.is_none() {
                element.max = limits.of(element.kind);
            }
        }
    }

    /// The element's Chinese name, or the code itself when it is unknown.
    pub fn name<'a>(&'a self, code: &'a str) -> &'a str {
        self.get(code).map(|e| e.name.as_str()).unwrap_or(code)
    }

    /// Elements in the order of the catalogue file.
    pub fn iter(&self) -> impl Iterator<Item = &Element> {
        self.order.iter().filter_map(|code| self.elements.get(code))
    }
}

/// An edition of the national catalogue of secondary vocational majors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edition {
    /// The year the edition was issued, e.g. 2010 or 2021.
    pub year: u16,
    /// The document that issued it.
    pub source: String,
    pub categories: Vec<String>,
}

/// A 专业大类 and the edition it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category<'a> {
    pub name: &'a str,
    pub edition: u16,
}

/// The editions of the major catalogue that a deployment knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorCatalogue {
    #[serde(rename = "edition")]
    pub editions: Vec<Edition>,
}

impl MajorCatalogue {
    /// The category of that name in the newest edition that has it.
    pub fn category(&self, name: &str) -> Option<Category<'_>> {
        self.editions
            .iter()
            .filter(|e| e.categories.iter().any(|c| c == name))
            .max_by_key(|e| e.year)
            .and_then(|e| {
                let name = e.categories.iter().find(|c| *c == name)?;
                Some(Category {
                    name,
                    edition: e.year,
                })
            })
    }

    /// The names of every category of every edition, for error messages.
    pub fn all_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .editions
            .iter()
            .flat_map(|e| e.categories.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_kinds_accept_what_they_should() {
        assert!(ValueKind::Count.accepts(3.0).is_ok());
        assert!(ValueKind::Count.accepts(-1.0).is_err());
        assert!(ValueKind::Count.accepts(1.5).is_err());
        assert!(ValueKind::Percent.accepts(100.0).is_ok());
        assert!(ValueKind::Percent.accepts(100.1).is_err());
        assert!(ValueKind::Change.accepts(-12.5).is_ok());
        assert!(ValueKind::Amount.accepts(f64::NAN).is_err());
    }

    #[test]
    fn codes_may_not_nest_inside_each_other() {
        let element = |code: &str| Element {
            code: code.into(),
            name: code.into(),
            unit: String::new(),
            kind: ValueKind::Count,
            dimension: Dimension::School,
            section: String::new(),
            register: None,
            max: None,
        };
        let mut catalogue = ElementCatalogue::new(vec![element("staff.total")]).unwrap();
        assert!(catalogue.insert(element("staff.total.x")).is_err());
        assert!(catalogue.insert(element("staff")).is_err());
        assert!(catalogue.insert(element("staff.totals")).is_ok());
    }

    #[test]
    fn category_lookup_names_the_edition() {
        let catalogue = MajorCatalogue {
            editions: vec![
                Edition {
                    year: 2010,
                    source: String::new(),
                    categories: vec!["加工制造类".into()],
                },
                Edition {
                    year: 2021,
                    source: String::new(),
                    categories: vec!["装备制造大类".into()],
                },
            ],
        };
        assert_eq!(
            catalogue.category("加工制造类").map(|c| c.edition),
            Some(2010)
        );
        assert_eq!(
            catalogue.category("装备制造大类").map(|c| c.edition),
            Some(2021)
        );
        assert!(catalogue.category("不存在类").is_none());
    }
}
