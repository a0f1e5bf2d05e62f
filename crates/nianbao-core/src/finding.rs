//! Findings: what a check found, how sure it is, and where.
//!
//! The same type serves checks on a dataset (locations name facts) and the audit of a
//! written report (locations name lines of the extracted text).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataset::Year;

/// How certain a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Certainly wrong: arithmetic proves it.
    Error,
    /// Probably wrong, or needs an explanation.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// The Chinese label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "警告",
            Severity::Info => "提示",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One place a finding relies on: a fact of the dataset, or a line of a report's text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<Year>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<String>,
    /// 1-based line number of the extracted text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Location {
    pub fn line(line: usize, text: impl Into<String>) -> Location {
        Location {
            line: Some(line),
            text: Some(text.into()),
            ..Location::default()
        }
    }
}

/// A finding of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The id of the rule that produced it.
    pub rule: String,
    pub severity: Severity,
    /// The report section it concerns (e.g. "1.4"); empty when none applies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub section: String,
    /// What is wrong, in Chinese, showing expected against found.
    pub message: String,
    pub locations: Vec<Location>,
}

impl Finding {
    /// A stable key naming this finding across runs: the rule, and the year and major of
    /// its first location ("students.stock-flow:2024:电子商务").
    pub fn key(&self) -> String {
        let mut key = self.rule.clone();
        if let Some(first) = self.locations.first() {
            if let Some(year) = first.year {
                key.push_str(&format!(":{year}"));
            }
            if let Some(major) = &first.major {
                key.push_str(&format!(":{major}"));
            }
        }
        key
    }
}

/// A warning that the school has looked at and explained, with who accepted it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// The [`Finding::key`] it accepts.
    pub key: String,
    pub explanation: String,
    pub actor: String,
    pub accepted_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_rule_year_and_major() {
        let finding = Finding {
            rule: "students.stock-flow".into(),
            severity: Severity::Warning,
            section: "1.5".into(),
            message: String::new(),
            locations: vec![Location {
                year: Some(Year::new(2024).unwrap()),
                major: Some("电子商务".into()),
                ..Location::default()
            }],
        };
        assert_eq!(finding.key(), "students.stock-flow:2024:电子商务");
        let unlocated = Finding {
            locations: Vec::new(),
            ..finding
        };
        assert_eq!(unlocated.key(), "students.stock-flow");
    }
}
