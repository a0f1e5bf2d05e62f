//! The dataset of one school: its profile, its majors and every yearly fact, as reported.
//!
//! A fact is one number for one year, optionally for one major. Totals that a school reports
//! beside their parts are facts of their own, so that checks can see the two disagree.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// The first and last school years a dataset may hold.
pub const FIRST_YEAR: u16 = 1990;
pub const LAST_YEAR: u16 = 2100;

/// A school year, named by the calendar year its report covers ("2025年度").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Year(u16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("年份 {0} 超出范围（应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间）")]
pub struct YearError(pub i64);

impl Year {
    pub fn new(year: i64) -> Result<Year, YearError> {
        if (FIRST_YEAR as i64..=LAST_YEAR as i64).contains(&year) {
            Ok(Year(year as u16))
        } else {
            Err(YearError(year))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// The year `n` years before this one, if it is still a valid year.
    pub fn back(self, n: u16) -> Option<Year> {
        self.0.checked_sub(n).filter(|y| *y >= FIRST_YEAR).map(Year)
    }
}

/// The earliest valid year; only a placeholder for values built field by field.
impl Default for Year {
    fn default() -> Self {
        Year(FIRST_YEAR)
    }
}

impl TryFrom<i64> for Year {
    type Error = YearError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Year::new(value)
    }
}

impl From<Year> for i64 {
    fn from(value: Year) -> i64 {
        value.0 as i64
    }
}

impl fmt::Display for Year {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a school sits among the education authorities: province > city > district.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrgPath {
    pub province: String,
    pub city: String,
    pub district: String,
}

/// A school's profile: everything about it that is text rather than a yearly number.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct School {
    /// A short stable identifier, unique within a store.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub designations: Vec<String>,
    pub org_unit: OrgPath,
    #[serde(default)]
    pub sponsor: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub website: String,
    /// The telephone number printed on the back page.
    #[serde(default)]
    pub phone: String,
    /// Departments (专业部 and the like), the lowest level of the org-unit hierarchy.
    #[serde(default)]
    pub departments: Vec<String>,
    /// The year the school's current report covers.
    pub report_year: Year,
    /// The date printed on the report's cover, as written (e.g. "2026-01-05").
    #[serde(default)]
    pub report_date: String,
    /// The school's own introduction, in its words, used by section 1.1.
    #[serde(default)]
    pub summary: String,
    /// Majors that no longer enrol (停招): kept for the years they have students, not
    /// offered in a new year's forms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_majors: Vec<String>,
}

impl School {
    /// Whether a school code is acceptable: 1–64 ASCII letters, digits and `-`, so it is
    /// safe in a URL, a file name and a header.
    pub fn valid_code(code: &str) -> bool {
        !code.is_empty()
            && code.len() <= 64
            && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    }
}

/// A major (专业) the school offers, with its 专业大类 as named in the school's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Major {
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub department: String,
}

/// The address of one fact: which element, which year, and for major-level elements which major.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FactKey {
    pub year: Year,
    pub element: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<String>,
}

impl FactKey {
    pub fn school(year: Year, element: impl Into<String>) -> FactKey {
        FactKey {
            year,
            element: element.into(),
            major: None,
        }
    }

    pub fn major(year: Year, element: impl Into<String>, major: impl Into<String>) -> FactKey {
        FactKey {
            year,
            element: element.into(),
            major: Some(major.into()),
        }
    }
}

/// A fact's address given by its parts, so that a fact can be looked up in a dataset
/// without building an owned [`FactKey`] (two `String`s) for every lookup. It orders as
/// [`FactKey`] does: by year, element, then major (none first).
pub trait FactAddress {
    fn parts(&self) -> (Year, &str, Option<&str>);
}

impl FactAddress for FactKey {
    fn parts(&self) -> (Year, &str, Option<&str>) {
        (self.year, &self.element, self.major.as_deref())
    }
}

impl FactAddress for (Year, &str, Option<&str>) {
    fn parts(&self) -> (Year, &str, Option<&str>) {
        *self
    }
}

impl<'a> Borrow<dyn FactAddress + 'a> for FactKey {
    fn borrow(&self) -> &(dyn FactAddress + 'a) {
        self
    }
}

impl PartialEq for dyn FactAddress + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn FactAddress + '_ {}

impl PartialOrd for dyn FactAddress + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn FactAddress + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

/// All that one school reported, over every year it has data for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Dataset {
    pub school: School,
    pub majors: Vec<Major>,
    pub facts: BTreeMap<FactKey, f64>,
    /// Explanations attached to facts (where a value came from, what else was reported).
    pub notes: BTreeMap<FactKey, String>,
}

impl Dataset {
    pub fn new(school: School) -> Dataset {
        Dataset {
            school,
            ..Dataset::default()
        }
    }

    /// The value of a school-level fact.
    pub fn value(&self, year: Year, element: &str) -> Option<f64> {
        self.lookup(year, element, None)
    }

    /// The value of a major-level fact.
    pub fn major_value(&self, year: Year, element: &str, major: &str) -> Option<f64> {
        self.lookup(year, element, Some(major))
    }

    /// The value of a fact of the school (`major` none) or of one major.
    pub fn lookup(&self, year: Year, element: &str, major: Option<&str>) -> Option<f64> {
        let address: &dyn FactAddress = &(year, element, major);
        self.facts.get(address).copied()
    }

    pub fn set(&mut self, key: FactKey, value: f64) {
        self.facts.insert(key, value);
    }

    /// Every year for which at least one fact exists, in order.
    pub fn years(&self) -> Vec<Year> {
        let years: BTreeSet<Year> = self.facts.keys().map(|k| k.year).collect();
        years.into_iter().collect()
    }

    pub fn major(&self, name: &str) -> Option<&Major> {
        self.majors.iter().find(|m| m.name == name)
    }

    /// The 专业大类 in the order their first major appears.
    pub fn categories(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for major in &self.majors {
            if !seen.contains(&major.category.as_str()) {
                seen.push(&major.category);
            }
        }
        seen
    }

    pub fn majors_in(&self, category: &str) -> impl Iterator<Item = &Major> {
        self.majors.iter().filter(move |m| m.category == category)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_outside_the_range_are_refused() {
        assert!(Year::new(1989).is_err());
        assert!(Year::new(2101).is_err());
        assert_eq!(Year::new(2025).unwrap().get(), 2025);
        assert_eq!(Year::new(1990).unwrap().back(1), None);
    }

    #[test]
    fn a_fact_is_found_by_its_parts_as_by_its_key() {
        let y = |n| Year::new(n).unwrap();
        let mut data = Dataset::default();
        let keys = [
            FactKey::school(y(2024), "staff.total"),
            FactKey::school(y(2025), "staff.total"),
            FactKey::school(y(2025), "staff.external"),
            FactKey::major(y(2025), "major.intake", "会计事务"),
            FactKey::major(y(2025), "major.intake", "电子商务"),
            FactKey::major(y(2025), "major.enrolled", "会计事务"),
        ];
        for (i, key) in keys.iter().enumerate() {
            data.set(key.clone(), i as f64);
        }
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(data.facts.get(key), Some(&(i as f64)));
            assert_eq!(
                data.lookup(key.year, &key.element, key.major.as_deref()),
                Some(i as f64)
            );
        }
        assert_eq!(data.value(y(2025), "staff.total"), Some(1.0));
        assert_eq!(
            data.major_value(y(2025), "major.intake", "电子商务"),
            Some(4.0)
        );
        assert_eq!(data.value(y(2023), "staff.total"), None);
        assert_eq!(data.value(y(2025), "major.intake"), None);
        assert_eq!(data.major_value(y(2025), "staff.total", "会计事务"), None);
        assert_eq!(data.major_value(y(2025), "major.intake", "旅游服务"), None);
    }

    #[test]
    fn categories_keep_first_appearance_order() {
        let mut data = Dataset::default();
        for (name, category) in [("a", "乙类"), ("b", "甲类"), ("c", "乙类")] {
            data.majors.push(Major {
                name: name.into(),
                category: category.into(),
                department: String::new(),
            });
        }
        assert_eq!(data.categories(), vec!["乙类", "甲类"]);
    }
}
