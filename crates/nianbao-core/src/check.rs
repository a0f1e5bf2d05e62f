//! Checks of a dataset: the rules written as data, the vocabulary of the major catalogue,
//! reported indicator values against their recomputation, and indicators against standards.

use serde::Deserialize;

use crate::catalogue::ElementCatalogue;
use crate::dataset::{Dataset, FactKey, Year};
use crate::definitions::Definitions;
use crate::expr::{CompareOp, Condition, EvalError, Expr, ParseError, Scope};
use crate::finding::{Finding, Location, Severity};
use crate::indicator::{IndicatorResult, IndicatorValue, evaluate_indicator};
use crate::number;
use crate::plan::{Plan, Table};

/// How far apart the two sides of a rule may be and still agree.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Tolerance {
    /// An absolute slack, in the unit of the compared values.
    pub absolute: f64,
    /// A slack relative to the expected (right-hand) value, e.g. 0.1 for 10%.
    pub relative: f64,
    /// Allow the rounding of the left-hand value as printed (18.7 allows ±0.05).
    pub printed: bool,
}

impl Tolerance {
    pub(crate) fn allowance(&self, found: f64, expected: f64) -> f64 {
        let printed = if self.printed {
            number::rounding_tolerance(found)
        } else {
            0.0
        };
        self.absolute
            .max(self.relative * expected.abs())
            .max(printed)
    }
}

/// A rule: a condition that must hold for every year (and, if per major, every major).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub section: String,
    pub severity: Severity,
    /// What the rule asserts, in Chinese, e.g. "教职工总数等于在编与外聘人数之和".
    pub title: String,
    pub condition: Condition,
    pub tolerance: Tolerance,
    pub per_major: bool,
}

/// A rule as written in the rules file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    id: String,
    #[serde(default)]
    section: String,
    severity: Severity,
    title: String,
    check: String,
    #[serde(default)]
    tolerance: ToleranceSpec,
    #[serde(default)]
    relative_tolerance: f64,
    #[serde(default)]
    for_each: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ToleranceSpec {
    Absolute(f64),
    Named(String),
}

impl Default for ToleranceSpec {
    fn default() -> Self {
        ToleranceSpec::Absolute(0.0)
    }
}

/// Why a rule could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("规则 `{id}` 的 check 无法解析：{source}")]
    Syntax { id: String, source: ParseError },
    #[error("规则 `{id}`：{source}")]
    Elements { id: String, source: EvalError },
    #[error("规则 `{id}`：tolerance 应为数字或 \"printed\"，而不是 \"{found}\"")]
    Tolerance { id: String, found: String },
    #[error("规则 `{id}`：for_each 只能是 \"major\"，而不是 \"{found}\"")]
    ForEach { id: String, found: String },
    #[error("规则 id `{0}` 重复")]
    Duplicate(String),
}

impl RuleSpec {
    pub(crate) fn compile(self, catalogue: &ElementCatalogue) -> Result<Rule, RuleError> {
        let id = self.id;
        let condition = Condition::parse(&self.check).map_err(|source| RuleError::Syntax {
            id: id.clone(),
            source,
        })?;
        let per_major = match self.for_each.as_deref() {
            None => false,
            Some("major") => true,
            Some(other) => {
                return Err(RuleError::ForEach {
                    id,
                    found: other.into(),
                });
            }
        };
        condition
            .validate(catalogue, per_major)
            .map_err(|source| RuleError::Elements {
                id: id.clone(),
                source,
            })?;
        let mut tolerance = Tolerance {
            relative: self.relative_tolerance,
            ..Tolerance::default()
        };
        match self.tolerance {
            ToleranceSpec::Absolute(t) => tolerance.absolute = t,
            ToleranceSpec::Named(name) if name == "printed" => tolerance.printed = true,
            ToleranceSpec::Named(found) => return Err(RuleError::Tolerance { id, found }),
        }
        Ok(Rule {
            id,
            section: self.section,
            severity: self.severity,
            title: self.title,
            condition,
            tolerance,
            per_major,
        })
    }
}

/// The rules of a deployment, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl Rule {
    /// Evaluates the rule in one scope; a finding when it does not hold.
    pub(crate) fn check(&self, scope: Scope<'_>, catalogue: &ElementCatalogue) -> Option<Finding> {
        // Values alone first: most rules hold, and only a finding needs the facts it
        // relied on and the texts that explain it.
        let left = self.condition.left.value(scope)?;
        let right = self.condition.right.value(scope)?;
        let allowance = self.tolerance.allowance(left, right);
        if self.condition.op.holds(left, right, allowance) {
            return None;
        }
        let left = self.condition.left.eval(scope)?;
        let right = self.condition.right.eval(scope)?;
        // Show computed values at the precision the reported one was printed with (at least 2).
        let decimals = number::printed_decimals(left.value).max(2);
        let show = |value: f64| number::plain(number::round_to(value, decimals));
        let side = |expr: &Expr, value: f64| {
            let names = expr.describe(catalogue);
            let values = expr.substitute(scope);
            let value = show(value);
            if names == value {
                value
            } else if values == value {
                format!("{names} {value}")
            } else {
                format!("{names}（{values}）= {value}")
            }
        };
        let prefix = match scope.major {
            Some(major) => format!("{}年度【{major}】", scope.year),
            None => format!("{}年度", scope.year),
        };
        let difference = show(left.value - right.value);
        let message = format!(
            "{prefix}{}：实际 {}，{} {}（相差 {difference}）",
            self.title,
            side(&self.condition.left, left.value),
            self.condition.op.phrase(),
            side(&self.condition.right, right.value),
        );
        let mut keys = left.inputs;
        for key in right.inputs {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Some(Finding {
            rule: self.id.clone(),
            severity: self.severity,
            section: self.section.clone(),
            message,
            locations: keys.into_iter().map(fact_location).collect(),
        })
    }
}

pub(crate) fn fact_location(key: FactKey) -> Location {
    Location {
        year: Some(key.year),
        element: Some(key.element),
        major: key.major,
        ..Location::default()
    }
}

/// Runs every check on the dataset; findings come ordered by section, then severity.
pub fn run_checks(definitions: &Definitions, data: &Dataset) -> Vec<Finding> {
    check_and_compute(definitions, data).findings
}

/// What the checks found in a dataset and every indicator's value in every year it holds,
/// computed once for both.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// As [`run_checks`] returns them.
    pub findings: Vec<Finding>,
    /// For every year of the dataset in order, each indicator's value in the order of the
    /// definitions (as [`crate::indicator_values`] computes them).
    pub indicators: Vec<(Year, Vec<IndicatorValue>)>,
}

/// Runs every check and computes every indicator of every year once: the checks of the
/// indicators (a printed value against its recomputation, the report year against the
/// standards) use the same values. The texts of an indicator are built only for the
/// indicators that have a finding. (For many datasets, compile a [`Plan`] once and use
/// [`Plan::evaluate`], which this does for one.)
pub fn check_and_compute(definitions: &Definitions, data: &Dataset) -> Evaluation {
    Plan::new(definitions).evaluate(definitions, data, &mut Table::default())
}

/// The rest of [`check_and_compute`] once the rules' `findings` are known: the catalogue's
/// editions, each year's indicators (`values` computes them, as [`crate::indicator_values`] does)
/// and the findings about them, then every finding in order.
pub(crate) fn finish(
    definitions: &Definitions,
    data: &Dataset,
    years: &[Year],
    mut findings: Vec<Finding>,
    values: impl Fn(Year) -> Vec<IndicatorValue>,
) -> Evaluation {
    findings.extend(catalogue_editions(definitions, data));
    let mut indicators = Vec::with_capacity(years.len());
    for &year in years {
        let values = values(year);
        let report_year = year == data.school.report_year;
        let explained: Vec<IndicatorResult> = definitions
            .indicators
            .iter()
            .zip(&values)
            .filter(|(_, v)| {
                let misprinted = match (v.reported, v.value) {
                    (Some(reported), Some(value)) => reported_differs(reported, value),
                    _ => false,
                };
                misprinted || (report_year && v.meets == Some(false))
            })
            .map(|(indicator, _)| evaluate_indicator(definitions, indicator, data, year))
            .collect();
        findings.extend(reported_indicators(&explained, year));
        if report_year {
            findings.extend(standard_findings(&explained));
        }
        indicators.push((year, values));
    }
    // A stable sort: findings of one section and severity keep the order they were found in.
    if findings.len() > 1 {
        findings.sort_by_cached_key(|f| (section_order(&f.section), f.severity));
    }
    Evaluation {
        findings,
        indicators,
    }
}

/// Whether a printed indicator value is not the computed one rounded as it was printed.
pub(crate) fn reported_differs(reported: f64, value: f64) -> bool {
    let decimals = number::printed_decimals(reported);
    let recomputed = number::round_to(value, decimals);
    let agrees = (recomputed - reported).abs() <= number::rounding_tolerance(reported) * 1e-6;
    !agrees
}

/// Sorts "1.10" after "1.9" and sectionless findings last.
pub(crate) fn section_order(section: &str) -> Vec<u32> {
    if section.is_empty() {
        return vec![u32::MAX];
    }
    section
        .split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

/// Majors whose 专业大类 come from different editions of the catalogue.
pub(crate) fn catalogue_editions(definitions: &Definitions, data: &Dataset) -> Option<Finding> {
    let mut by_edition: Vec<(u16, Vec<&str>)> = Vec::new();
    for category in data.categories() {
        let Some(found) = definitions.majors.category(category) else {
            continue;
        };
        match by_edition.iter_mut().find(|(e, _)| *e == found.edition) {
            Some((_, names)) => names.push(category),
            None => by_edition.push((found.edition, vec![category])),
        }
    }
    if by_edition.len() < 2 {
        return None;
    }
    by_edition.sort_by_key(|(edition, _)| *edition);
    let parts: Vec<String> = by_edition
        .iter()
        .map(|(edition, names)| format!("{edition}年版目录：{}", names.join("、")))
        .collect();
    let locations = data
        .majors
        .iter()
        .filter(|m| by_edition.len() > 1 && definitions.majors.category(&m.category).is_some())
        .map(|m| Location {
            major: Some(m.name.clone()),
            element: Some("major.category".into()),
            ..Location::default()
        })
        .collect();
    Some(Finding {
        rule: "catalogue.mixed-editions".into(),
        severity: Severity::Warning,
        section: "1.3".into(),
        message: format!(
            "专业大类名称混用了不同版本的专业目录（{}），应统一使用同一版本",
            parts.join("；")
        ),
        locations,
    })
}

/// Indicator values the school printed, recomputed from their operands.
fn reported_indicators(results: &[IndicatorResult], year: Year) -> Vec<Finding> {
    let mut findings = Vec::new();
    for result in results {
        let (Some(reported), Some(value)) = (result.reported, result.value) else {
            continue;
        };
        if !reported_differs(reported, value) {
            continue;
        }
        let decimals = number::printed_decimals(reported);
        let mut locations = vec![Location {
            year: Some(year),
            element: Some(format!("reported.{}", result.id)),
            ..Location::default()
        }];
        locations.extend(
            result
                .inputs
                .iter()
                .map(|(key, _)| fact_location(key.clone())),
        );
        findings.push(Finding {
            rule: format!("indicator.reported.{}", result.id),
            severity: Severity::Error,
            section: result.section.clone(),
            message: format!(
                "{year}年度{}：报告值 {}，按 {}（{}）计算应为 {}",
                result.name,
                number::plain(reported),
                result.formula_names,
                result.formula_values,
                number::fixed(value, decimals),
            ),
            locations,
        });
    }
    findings
}

/// Indicators of the report year that fall short of a standard.
fn standard_findings(results: &[IndicatorResult]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for result in results {
        let Some(value) = result.value else { continue };
        for verdict in result.verdicts.iter().filter(|v| !v.pass) {
            findings.push(Finding {
                rule: format!("standard.{}.{}", verdict.standard, result.id),
                severity: verdict.severity,
                section: result.section.clone(),
                message: format!(
                    "{}年度{} {}{}，未达到{}的要求（{} {}{}），依据：{}",
                    result.year,
                    result.name,
                    number::fixed(value, result.decimals),
                    result.unit,
                    verdict.standard_name,
                    verdict.op.symbol(),
                    number::plain(verdict.threshold),
                    result.unit,
                    verdict.source,
                ),
                locations: result
                    .inputs
                    .iter()
                    .map(|(key, _)| fact_location(key.clone()))
                    .collect(),
            });
        }
    }
    findings
}

/// Whether a comparison operator written in a standards file is known.
pub(crate) fn compare_op(text: &str) -> Option<CompareOp> {
    match text {
        ">=" => Some(CompareOp::AtLeast),
        "<=" => Some(CompareOp::AtMost),
        ">" => Some(CompareOp::Greater),
        "<" => Some(CompareOp::Less),
        "==" => Some(CompareOp::Equal),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The findings as computed before indicators were shared with the checks: every rule
    /// evaluated with its inputs, every indicator of every year with its texts.
    fn findings_computed_apart(definitions: &Definitions, data: &Dataset) -> Vec<Finding> {
        let years = data.years();
        let mut findings = Vec::new();
        for rule in &definitions.rules.rules {
            for &year in &years {
                let scope = Scope::new(data, year);
                let majors: Vec<Option<&str>> = if rule.per_major {
                    data.majors.iter().map(|m| Some(m.name.as_str())).collect()
                } else {
                    vec![None]
                };
                for major in majors {
                    let scope = Scope { major, ..scope };
                    let (Some(left), Some(right)) = (
                        rule.condition.left.eval(scope),
                        rule.condition.right.eval(scope),
                    ) else {
                        continue;
                    };
                    let allowance = rule.tolerance.allowance(left.value, right.value);
                    let holds = rule.condition.op.holds(left.value, right.value, allowance);
                    let found = rule.check(scope, &definitions.elements);
                    assert_eq!(holds, found.is_none(), "{}", rule.id);
                    findings.extend(found);
                }
            }
        }
        findings.extend(catalogue_editions(definitions, data));
        for &year in &years {
            let results = crate::indicator::evaluate_indicators(definitions, data, year);
            findings.extend(reported_indicators(&results, year));
            if year == data.school.report_year {
                findings.extend(standard_findings(&results));
            }
        }
        findings.sort_by(|a, b| {
            section_order(&a.section)
                .cmp(&section_order(&b.section))
                .then(a.severity.cmp(&b.severity))
        });
        findings
    }

    fn agrees_with_computing_apart(definitions: &Definitions, data: &Dataset) {
        let evaluation = check_and_compute(definitions, data);
        assert_eq!(
            evaluation.findings,
            findings_computed_apart(definitions, data)
        );
        assert_eq!(evaluation.indicators.len(), data.years().len());
        for (year, values) in &evaluation.indicators {
            let full = crate::indicator::evaluate_indicators(definitions, data, *year);
            assert_eq!(values.len(), full.len());
            for (value, result) in values.iter().zip(&full) {
                assert_eq!(
                    value.value.map(f64::to_bits),
                    result.value.map(f64::to_bits),
                    "{}",
                    result.id
                );
                assert_eq!(value.reported, result.reported, "{}", result.id);
                let meets = (!result.verdicts.is_empty()).then(|| result.passes_all());
                assert_eq!(value.meets, meets, "{}", result.id);
            }
        }
    }

    #[test]
    fn a_dataset_with_misprinted_and_substandard_indicators_is_found_as_when_computed_apart() {
        let definitions = Definitions::builtin().unwrap();
        let y = |n| Year::new(n).unwrap();
        let mut data = Dataset::default();
        data.school.report_year = y(2025);
        // A 生师比 of 30 in 2025, above the standard's 20.
        for (year, enrolled, teachers) in [(2024, 1200.0, 80.0), (2025, 1500.0, 50.0)] {
            data.set(
                FactKey::school(y(year), "students.enrolled_total"),
                enrolled,
            );
            data.set(FactKey::school(y(year), "staff.equivalent"), teachers);
            data.set(FactKey::school(y(year), "staff.full_time.total"), teachers);
        }
        // A printed 生师比 that is not the computed one.
        data.set(
            FactKey::school(y(2025), "reported.student_teacher_ratio"),
            12.3,
        );
        let evaluation = check_and_compute(&definitions, &data);
        assert!(
            evaluation
                .findings
                .iter()
                .any(|f| f.rule.starts_with("indicator.reported.")),
            "{:?}",
            evaluation.findings
        );
        assert!(
            evaluation
                .findings
                .iter()
                .any(|f| f.rule.starts_with("standard.")
                    && f.rule.ends_with(".student_teacher_ratio")),
            "{:?}",
            evaluation.findings
        );
        agrees_with_computing_apart(&definitions, &data);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn checks_and_indicators_computed_once_equal_those_computed_apart(
            data in crate::arbitrary::dataset(&Definitions::builtin().unwrap())
        ) {
            agrees_with_computing_apart(&Definitions::builtin().unwrap(), &data);
        }
    }
}
