//! Everything a deployment defines as data: elements, the major catalogue, rules,
//! indicators, standards and the report's section outline. The built-in set is compiled
//! in from `data/`; a province or school can load its own files instead.

use serde::Deserialize;

use crate::catalogue::{Element, ElementCatalogue, KindLimits, MajorCatalogue, ValueKind};
use crate::check::{Rule, RuleError, RuleSet, RuleSpec};
use crate::indicator::{
    Indicator, IndicatorError, IndicatorSpec, Standard, StandardSpec, reported_element,
};

/// One numbered section of the report outline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Section {
    pub number: String,
    pub title: String,
}

/// The loaded definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct Definitions {
    pub elements: ElementCatalogue,
    pub majors: MajorCatalogue,
    pub rules: RuleSet,
    pub indicators: Vec<Indicator>,
    pub standards: Vec<Standard>,
    pub sections: Vec<Section>,
}

/// The text of each definition file, with the name it is reported under in errors.
#[derive(Debug, Clone)]
pub struct Sources {
    pub elements: (String, String),
    pub majors: (String, String),
    pub rules: (String, String),
    pub indicators: (String, String),
    pub sections: (String, String),
    pub standards: Vec<(String, String)>,
}

/// A definition file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        source: Box<toml::de::Error>,
    },
    #[error("{file}: 数据项 `{code}` 与已有数据项重复，或与另一数据项互为上下级")]
    DuplicateElement { file: String, code: String },
    #[error("{file}: {source}")]
    Rule { file: String, source: RuleError },
    #[error("{file}: {source}")]
    Indicator {
        file: String,
        source: IndicatorError,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ElementsFile {
    limits: KindLimits,
    element: Vec<Element>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorsFile {
    indicator: Vec<IndicatorSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionsFile {
    section: Vec<Section>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &(String, String)) -> Result<T, DefinitionError> {
    toml::from_str(&file.1).map_err(|source| DefinitionError::Toml {
        file: file.0.clone(),
        source: Box::new(source),
    })
}

impl Sources {
    /// The definitions that ship with Nianbao, from the repository's `data/` folder.
    pub fn builtin() -> Sources {
        let file = |name: &str, text: &str| (format!("data/{name}"), text.to_string());
        Sources {
            elements: file("elements.toml", include_str!("../../../data/elements.toml")),
            majors: file("majors.toml", include_str!("../../../data/majors.toml")),
            rules: file("rules.toml", include_str!("../../../data/rules.toml")),
            indicators: file(
                "indicators.toml",
                include_str!("../../../data/indicators.toml"),
            ),
            sections: file("sections.toml", include_str!("../../../data/sections.toml")),
            standards: vec![
                file(
                    "standards/national-2022-conditions.toml",
                    include_str!("../../../data/standards/national-2022-conditions.toml"),
                ),
                file(
                    "standards/national-2010-setup.toml",
                    include_str!("../../../data/standards/national-2010-setup.toml"),
                ),
            ],
        }
    }
}

impl Definitions {
    /// The built-in definitions. They are tested, so loading them cannot fail at run time
    /// unless the binary was built from broken data files.
    pub fn builtin() -> Result<Definitions, DefinitionError> {
        Definitions::load(&Sources::builtin())
    }

    pub fn load(sources: &Sources) -> Result<Definitions, DefinitionError> {
        let elements_file: ElementsFile = parse(&sources.elements)?;
        let mut elements = ElementCatalogue::new(elements_file.element).map_err(|code| {
            DefinitionError::DuplicateElement {
                file: sources.elements.0.clone(),
                code,
            }
        })?;
        let majors: MajorCatalogue = parse(&sources.majors)?;
        let sections: SectionsFile = parse(&sources.sections)?;

        let indicator_specs: IndicatorsFile = parse(&sources.indicators)?;
        let indicator_error = |source| DefinitionError::Indicator {
            file: sources.indicators.0.clone(),
            source,
        };
        let mut indicators: Vec<Indicator> = Vec::new();
        for spec in indicator_specs.indicator {
            let indicator = spec.compile(&elements).map_err(indicator_error)?;
            if indicators.iter().any(|i| i.id == indicator.id) {
                return Err(indicator_error(IndicatorError::Duplicate(indicator.id)));
            }
            indicators.push(indicator);
        }
        // Every indicator may also be reported by the school as a printed figure.
        for indicator in &indicators {
            elements
                .insert(Element {
                    code: reported_element(&indicator.id),
                    name: format!("{}（报告值）", indicator.name),
                    unit: indicator.unit.clone(),
                    kind: ValueKind::Ratio,
                    dimension: Default::default(),
                    section: indicator.section.clone(),
                    register: None,
                    max: None,
                })
                .map_err(|code| DefinitionError::DuplicateElement {
                    file: sources.indicators.0.clone(),
                    code,
                })?;
        }

        let mut standards = Vec::new();
        for file in &sources.standards {
            let spec: StandardSpec = parse(file)?;
            let standard =
                spec.compile(&indicators)
                    .map_err(|source| DefinitionError::Indicator {
                        file: file.0.clone(),
                        source,
                    })?;
            standards.push(standard);
        }

        elements.apply_limits(&elements_file.limits);

        let rule_specs: RulesFile = parse(&sources.rules)?;
        let rule_error = |source| DefinitionError::Rule {
            file: sources.rules.0.clone(),
            source,
        };
        let mut rules: Vec<Rule> = Vec::new();
        for spec in rule_specs.rule {
            let rule = spec.compile(&elements).map_err(rule_error)?;
            if rules.iter().any(|r| r.id == rule.id) {
                return Err(rule_error(RuleError::Duplicate(rule.id)));
            }
            rules.push(rule);
        }

        Ok(Definitions {
            elements,
            majors,
            rules: RuleSet { rules },
            indicators,
            standards,
            sections: sections.section,
        })
    }

    /// The title of a numbered section, if the outline has it.
    pub fn section_title(&self, number: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|s| s.number == number)
            .map(|s| s.title.as_str())
    }

    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_definitions_load() {
        let d = Definitions::builtin().unwrap();
        assert!(d.elements.get("staff.total").is_some());
        assert!(d.elements.get("reported.student_teacher_ratio").is_some());
        assert!(!d.rules.rules.is_empty());
        assert!(d.standards.iter().all(|s| !s.source.is_empty()));
        assert_eq!(d.section_title("1.4"), Some("师资队伍"));
    }

    #[test]
    fn a_rule_naming_an_unknown_element_is_refused_with_its_file() {
        let mut sources = Sources::builtin();
        sources.rules.1 = "[[rule]]\nid = \"x\"\nseverity = \"error\"\ntitle = \"t\"\ncheck = \"staff.nope == 1\"\n".into();
        let err = Definitions::load(&sources).unwrap_err().to_string();
        assert!(err.contains("data/rules.toml"), "{err}");
        assert!(err.contains("staff.nope"), "{err}");
    }
}
