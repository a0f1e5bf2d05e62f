//! Indicators (生师比, 生均占地面积 …): formulas over the dataset with unit and rounding,
//! and the standards that jurisdictions set on them, each naming its source document.

use serde::{Deserialize, Serialize};

use crate::catalogue::ElementCatalogue;
use crate::check::compare_op;
use crate::dataset::{Dataset, FactKey, Year};
use crate::definitions::Definitions;
use crate::expr::{CompareOp, EvalError, Expr, ParseError, Scope};
use crate::finding::Severity;
use crate::number;

/// A computed figure of the school, e.g. 生师比 = 在校生数 / 折合教师数.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub id: String,
    pub name: String,
    pub formula: Expr,
    pub unit: String,
    pub decimals: u32,
    pub section: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IndicatorSpec {
    id: String,
    name: String,
    formula: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    decimals: u32,
    #[serde(default)]
    section: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    #[error("指标 `{id}` 的公式无法解析：{source}")]
    Syntax { id: String, source: ParseError },
    #[error("指标 `{id}`：{source}")]
    Elements { id: String, source: EvalError },
    #[error("标准 `{standard}` 引用了未知的指标 `{indicator}`")]
    UnknownIndicator { standard: String, indicator: String },
    #[error("标准 `{standard}` 的指标 `{indicator}`：比较符应为 >=、<=、>、< 或 ==，而不是 `{op}`")]
    Operator {
        standard: String,
        indicator: String,
        op: String,
    },
    #[error("指标 id `{0}` 重复")]
    Duplicate(String),
}

impl IndicatorSpec {
    pub(crate) fn compile(self, catalogue: &ElementCatalogue) -> Result<Indicator, IndicatorError> {
        let id = self.id;
        let formula = Expr::parse(&self.formula).map_err(|source| IndicatorError::Syntax {
            id: id.clone(),
            source,
        })?;
        formula
            .validate(catalogue, false)
            .map_err(|source| IndicatorError::Elements {
                id: id.clone(),
                source,
            })?;
        Ok(Indicator {
            id,
            name: self.name,
            formula,
            unit: self.unit,
            decimals: self.decimals,
            section: self.section,
        })
    }
}

/// A set of thresholds issued by one authority in one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    pub id: String,
    pub name: String,
    /// The document that sets it, e.g. "《中等职业学校设置标准》（教职成〔2010〕12号）".
    pub source: String,
    /// How serious falling short is.
    pub severity: Severity,
    pub thresholds: Vec<Threshold>,
}

/// One threshold: indicator `op` value.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub indicator: String,
    pub op: CompareOp,
    pub value: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StandardSpec {
    id: String,
    name: String,
    source: String,
    #[serde(default = "default_severity")]
    severity: Severity,
    #[serde(rename = "threshold", default)]
    thresholds: Vec<ThresholdSpec>,
}

fn default_severity() -> Severity {
    Severity::Warning
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdSpec {
    indicator: String,
    op: String,
    value: f64,
}

impl StandardSpec {
    pub(crate) fn compile(self, indicators: &[Indicator]) -> Result<Standard, IndicatorError> {
        let mut thresholds = Vec::new();
        for t in self.thresholds {
            if !indicators.iter().any(|i| i.id == t.indicator) {
                return Err(IndicatorError::UnknownIndicator {
                    standard: self.id,
                    indicator: t.indicator,
                });
            }
            let Some(op) = compare_op(&t.op) else {
                return Err(IndicatorError::Operator {
                    standard: self.id,
                    indicator: t.indicator,
                    op: t.op,
                });
            };
            thresholds.push(Threshold {
                indicator: t.indicator,
                op,
                value: t.value,
            });
        }
        Ok(Standard {
            id: self.id,
            name: self.name,
            source: self.source,
            severity: self.severity,
            thresholds,
        })
    }
}

/// How an indicator fares against one threshold of one standard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardVerdict {
    pub standard: String,
    pub standard_name: String,
    pub source: String,
    #[serde(serialize_with = "serialize_op")]
    pub op: CompareOp,
    pub threshold: f64,
    pub pass: bool,
    pub severity: Severity,
}

fn serialize_op<S: serde::Serializer>(op: &CompareOp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(op.symbol())
}

/// An indicator computed for one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorResult {
    pub id: String,
    pub name: String,
    pub year: Year,
    /// The exact value; `None` when an input was not reported.
    pub value: Option<f64>,
    /// The value rounded to the indicator's decimals, as printed (with thousands separators).
    pub display: Option<String>,
    pub unit: String,
    pub decimals: u32,
    pub section: String,
    /// The formula in Chinese names, and with this year's values.
    pub formula_names: String,
    pub formula_values: String,
    /// The facts the value was computed from.
    #[serde(serialize_with = "serialize_inputs")]
    pub inputs: Vec<(FactKey, f64)>,
    /// What the school printed for this indicator, if it reported it.
    pub reported: Option<f64>,
    pub verdicts: Vec<StandardVerdict>,
}

fn serialize_inputs<S: serde::Serializer>(
    inputs: &[(FactKey, f64)],
    s: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Input<'a> {
        element: &'a str,
        year: Year,
        #[serde(skip_serializing_if = "Option::is_none")]
        major: Option<&'a str>,
        value: f64,
    }
    s.collect_seq(inputs.iter().map(|(k, v)| Input {
        element: &k.element,
        year: k.year,
        major: k.major.as_deref(),
        value: *v,
    }))
}

impl IndicatorResult {
    /// Whether every standard that judges this indicator is met.
    pub fn passes_all(&self) -> bool {
        self.verdicts.iter().all(|v| v.pass)
    }
}

/// The element code under which a school's printed value of an indicator is kept.
pub fn reported_element(indicator: &str) -> String {
    format!("reported.{indicator}")
}

/// An indicator's value in one year and how it fares against the standards, without the
/// texts that explain it (those are in [`IndicatorResult`]): what the comparison of many
/// schools needs, computed without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndicatorValue {
    /// The exact value; `None` when an input was not reported.
    pub value: Option<f64>,
    /// What the school printed for this indicator, if it reported it.
    pub reported: Option<f64>,
    /// `Some(true)` when it meets every standard that judges it, `Some(false)` when it
    /// fails one, `None` when no standard judges it or it has no value (as
    /// [`IndicatorResult::passes_all`] over its verdicts, when there are any).
    pub meets: Option<bool>,
}

/// Every indicator's value for `year` and whether it meets the standards, in the order of
/// the definitions: the same numbers as [`evaluate_indicators`], without the texts.
pub fn indicator_values(
    definitions: &Definitions,
    data: &Dataset,
    year: Year,
) -> Vec<IndicatorValue> {
    let scope = Scope::new(data, year);
    definitions
        .indicators
        .iter()
        .map(|indicator| {
            let value = indicator.formula.value(scope);
            let meets = value.and_then(|value| {
                let rounded = number::round_to(value, indicator.decimals);
                let mut judged = false;
                let mut all = true;
                for t in definitions
                    .standards
                    .iter()
                    .flat_map(|s| &s.thresholds)
                    .filter(|t| t.indicator == indicator.id)
                {
                    judged = true;
                    all &= t.op.holds(rounded, t.value, 0.0);
                }
                judged.then_some(all)
            });
            IndicatorValue {
                value,
                reported: data.value(year, &reported_element(&indicator.id)),
                meets,
            }
        })
        .collect()
}

/// Computes every indicator for `year` and judges it against every standard.
pub fn evaluate_indicators(
    definitions: &Definitions,
    data: &Dataset,
    year: Year,
) -> Vec<IndicatorResult> {
    definitions
        .indicators
        .iter()
        .map(|indicator| evaluate_indicator(definitions, indicator, data, year))
        .collect()
}

/// Computes one indicator for `year` with the texts that explain it, and judges it against
/// every standard.
pub fn evaluate_indicator(
    definitions: &Definitions,
    indicator: &Indicator,
    data: &Dataset,
    year: Year,
) -> IndicatorResult {
    let scope = Scope::new(data, year);
    let evaluated = indicator.formula.eval(scope);
    let value = evaluated.as_ref().map(|v| v.value);
    let inputs = evaluated
        .map(|v| {
            v.inputs
                .into_iter()
                .filter_map(|k| data.facts.get(&k).map(|x| (k.clone(), *x)))
                .collect()
        })
        .unwrap_or_default();
    let verdicts = match value {
        None => Vec::new(),
        Some(value) => {
            let rounded = number::round_to(value, indicator.decimals);
            definitions
                .standards
                .iter()
                .flat_map(|standard| {
                    standard
                        .thresholds
                        .iter()
                        .filter(|t| t.indicator == indicator.id)
                        .map(move |t| StandardVerdict {
                            standard: standard.id.clone(),
                            standard_name: standard.name.clone(),
                            source: standard.source.clone(),
                            op: t.op,
                            threshold: t.value,
                            pass: t.op.holds(rounded, t.value, 0.0),
                            severity: standard.severity,
                        })
                })
                .collect()
        }
    };
    IndicatorResult {
        id: indicator.id.clone(),
        name: indicator.name.clone(),
        year,
        value,
        display: value.map(|v| number::Style::exactly(indicator.decimals).format(v)),
        unit: indicator.unit.clone(),
        decimals: indicator.decimals,
        section: indicator.section.clone(),
        formula_names: indicator.formula.describe(&definitions.elements),
        formula_values: indicator.formula.substitute(scope),
        inputs,
        reported: data.value(year, &reported_element(&indicator.id)),
        verdicts,
    }
}
