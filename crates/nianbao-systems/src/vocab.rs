//! The registers' vocabularies (`data/systems.toml`): base levels, equipment states,
//! training audiences, risk levels, course levels, monitoring indicators … Loaded once and
//! checked against the element catalogue, so an entry that feeds a report figure names an
//! element that exists and is computed by the right register.

use nianbao_core::Definitions;
use serde::Deserialize;

/// The vocabulary file compiled into the binary.
pub const BUILTIN: &str = include_str!("../../../data/systems.toml");
const BUILTIN_NAME: &str = "data/systems.toml";

/// A name that a figure of the report is counted into.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counted {
    pub name: String,
    /// The element (data/elements.toml) the entry is counted into.
    pub element: String,
    /// For a training audience: whether its classes are 乡村振兴 training.
    #[serde(default)]
    pub rural: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasesVocabulary {
    pub levels: Vec<String>,
    pub national_levels: Vec<String>,
    pub statuses: Vec<String>,
    pub disposed: String,
    pub user_kinds: Vec<String>,
    pub internal_user_kind: String,
    pub purposes: Vec<String>,
    pub competition_purpose: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingVocabulary {
    pub levels: Vec<String>,
    pub audience: Vec<Counted>,
}

impl TrainingVocabulary {
    pub fn audience_names(&self) -> Vec<String> {
        self.audience.iter().map(|a| a.name.clone()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PsychVocabulary {
    pub min_cell: u32,
    pub unsuppressed: Vec<String>,
    pub retention_years: u32,
    pub instruments: Vec<String>,
    pub individual_form: String,
    pub group_form: String,
    pub lecture_form: String,
    pub followup_methods: Vec<String>,
    pub access_reasons: Vec<String>,
    /// Lowest first.
    pub risk: Vec<Counted>,
}

impl PsychVocabulary {
    pub fn risk_names(&self) -> Vec<String> {
        self.risk.iter().map(|r| r.name.clone()).collect()
    }

    pub fn forms(&self) -> Vec<String> {
        vec![
            self.individual_form.clone(),
            self.group_form.clone(),
            self.lecture_form.clone(),
        ]
    }
}

/// Whether a monitored value should reach its target or stay under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    AtLeast,
    AtMost,
}

/// A figure monitored for every course each term.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorIndicator {
    pub name: String,
    pub unit: String,
    pub target: f64,
    pub direction: Direction,
}

impl MonitorIndicator {
    /// Whether `value` meets the target.
    pub fn met(&self, value: f64) -> bool {
        match self.direction {
            Direction::AtLeast => value >= self.target,
            Direction::AtMost => value <= self.target,
        }
    }

    /// "≥ 90%" as shown beside a value.
    pub fn target_text(&self) -> String {
        let op = match self.direction {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
        };
        format!(
            "{op} {}{}",
            nianbao_core::number::plain(self.target),
            self.unit
        )
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoursesVocabulary {
    pub national_platforms: Vec<String>,
    pub open_statuses: Vec<String>,
    pub closed_status: String,
    pub feedback_sources: Vec<String>,
    pub level: Vec<Counted>,
    pub rater: Vec<Counted>,
    pub indicator: Vec<MonitorIndicator>,
}

impl CoursesVocabulary {
    pub fn statuses(&self) -> Vec<String> {
        let mut all = self.open_statuses.clone();
        all.push(self.closed_status.clone());
        all
    }

    pub fn level_names(&self) -> Vec<String> {
        self.level.iter().map(|l| l.name.clone()).collect()
    }

    pub fn rater_names(&self) -> Vec<String> {
        self.rater.iter().map(|r| r.name.clone()).collect()
    }

    pub fn indicator_names(&self) -> Vec<String> {
        self.indicator.iter().map(|i| i.name.clone()).collect()
    }
}

/// Every register's vocabulary.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    pub bases: BasesVocabulary,
    pub training: TrainingVocabulary,
    pub psych: PsychVocabulary,
    pub courses: CoursesVocabulary,
}

/// A vocabulary file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        source: Box<toml::de::Error>,
    },
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
}

impl Vocabulary {
    /// The built-in vocabulary, checked against the built-in elements.
    pub fn builtin(definitions: &Definitions) -> Result<Vocabulary, VocabularyError> {
        Vocabulary::load(BUILTIN_NAME, BUILTIN, definitions)
    }

    /// Reads a vocabulary file and checks it against `definitions`.
    pub fn load(
        file: &str,
        text: &str,
        definitions: &Definitions,
    ) -> Result<Vocabulary, VocabularyError> {
        let vocabulary: Vocabulary =
            toml::from_str(text).map_err(|source| VocabularyError::Toml {
                file: file.to_string(),
                source: Box::new(source),
            })?;
        vocabulary
            .check(definitions)
            .map_err(|problem| VocabularyError::Invalid {
                file: file.to_string(),
                problem,
            })?;
        Ok(vocabulary)
    }

    fn check(&self, definitions: &Definitions) -> Result<(), String> {
        let counted = [
            ("training", &self.training.audience),
            ("psych", &self.psych.risk),
            ("courses", &self.courses.level),
            ("courses", &self.courses.rater),
        ];
        for (register, entries) in counted {
            if entries.is_empty() {
                return Err(format!("{register} 的列表不能为空"));
            }
            for entry in entries {
                match definitions.elements.get(&entry.element) {
                    Some(element) if element.register.as_deref() == Some(register) => {}
                    Some(_) => {
                        return Err(format!(
                            "「{}」的数据项 `{}` 不是由 {register} 登记计算的数据项",
                            entry.name, entry.element
                        ));
                    }
                    None => {
                        return Err(format!(
                            "「{}」的数据项 `{}` 不存在",
                            entry.name, entry.element
                        ));
                    }
                }
            }
        }
        for code in &self.psych.unsuppressed {
            if definitions
                .elements
                .get(code)
                .is_none_or(|e| e.register.as_deref() != Some("psych"))
            {
                return Err(format!(
                    "psych.unsuppressed 中的 `{code}` 不是心理档案的数据项"
                ));
            }
        }
        let one_of = |value: &String, list: &[String], what: &str| {
            if list.contains(value) {
                Ok(())
            } else {
                Err(format!("{what}「{value}」不在列表中"))
            }
        };
        one_of(&self.bases.disposed, &self.bases.statuses, "bases.disposed")?;
        one_of(
            &self.bases.internal_user_kind,
            &self.bases.user_kinds,
            "bases.internal_user_kind",
        )?;
        one_of(
            &self.bases.competition_purpose,
            &self.bases.purposes,
            "bases.competition_purpose",
        )?;
        for level in &self.bases.national_levels {
            one_of(level, &self.bases.levels, "bases.national_levels")?;
        }
        if self.psych.min_cell < 2 {
            return Err("psych.min_cell 至少为 2".into());
        }
        if self.psych.retention_years == 0 || self.psych.retention_years > 30 {
            return Err("psych.retention_years 应在 1 到 30 之间".into());
        }
        if self.psych.access_reasons.is_empty() {
            return Err("psych.access_reasons 不能为空".into());
        }
        if self
            .courses
            .open_statuses
            .contains(&self.courses.closed_status)
        {
            return Err("courses.closed_status 不能同时是未完成状态".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_vocabulary_names_computed_elements() {
        let definitions = Definitions::builtin().unwrap();
        let vocabulary = Vocabulary::builtin(&definitions).unwrap();
        assert_eq!(vocabulary.psych.min_cell, 5);
        let broken = BUILTIN.replace("register.psych.risk.high", "wellbeing.psych_screenings");
        let error = Vocabulary::load("x.toml", &broken, &definitions)
            .unwrap_err()
            .to_string();
        assert!(error.contains("不是由 psych 登记计算"), "{error}");
    }
}
