//! The annual quality report generated from a dataset: every number in its prose,
//! tables and lists is read from the data through a template, so none can disagree.
//!
//! Templates live in `data/report/` and are written in minijinja. They read facts with
//! `v("element")` (an error, naming the template and line, when the fact is missing),
//! indicators with `ind("id")`, and format with the filters `num`, `pct`, `share` and
//! `change`.

mod format;
pub mod tables;

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, ErrorKind};
use nianbao_core::indicator::IndicatorResult;
use nianbao_core::{Dataset, Definitions, Finding, Severity, Year};
use serde::Serialize;

pub use format::{chinese_date, year_change};

/// The HTML template of the report.
const HTML_TEMPLATE: (&str, &str) = (
    "data/report/report.html",
    include_str!("../../../data/report/report.html"),
);

/// What a report is made from.
pub struct ReportInput<'a> {
    pub definitions: &'a Definitions,
    pub data: &'a Dataset,
    pub year: Year,
    pub findings: &'a [Finding],
    pub indicators: &'a [IndicatorResult],
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{template}:{line}: {message}")]
    Template {
        template: String,
        line: usize,
        message: String,
    },
    #[error("{year} 年度没有任何数据，无法生成报告")]
    NoData { year: Year },
}

impl From<minijinja::Error> for ReportError {
    fn from(error: minijinja::Error) -> ReportError {
        let message = match error.detail() {
            Some(detail) => detail.to_string(),
            None => error.kind().to_string(),
        };
        ReportError::Template {
            template: error.name().unwrap_or(HTML_TEMPLATE.0).to_string(),
            line: error.line().unwrap_or(0),
            message,
        }
    }
}

/// A 专业大类 with its majors and share of enrolment in the report year.
#[derive(Debug, Clone, Serialize)]
struct CategoryRow {
    name: String,
    edition: Option<u16>,
    majors: Vec<String>,
    enrolled: f64,
}

/// Findings of one section.
#[derive(Debug, Clone, Serialize)]
struct FindingGroup {
    section: String,
    title: String,
    findings: Vec<FindingRow>,
}

#[derive(Debug, Clone, Serialize)]
struct FindingRow {
    rule: String,
    severity: Severity,
    label: &'static str,
    message: String,
}

/// The three years a report's tables cover, ending with the report year.
pub fn table_years(data: &Dataset, year: Year) -> Vec<Year> {
    let mut years: Vec<Year> = data.years().into_iter().filter(|y| *y <= year).collect();
    let skip = years.len().saturating_sub(3);
    years.drain(..skip);
    years
}

/// Renders the report as one self-contained HTML page.
pub fn render_html(input: &ReportInput<'_>) -> Result<String, ReportError> {
    if !input.data.years().contains(&input.year) {
        return Err(ReportError::NoData { year: input.year });
    }
    let env = environment(input)?;
    let context = context(input);
    let template = env.get_template(HTML_TEMPLATE.0)?;
    Ok(template.render(context)?)
}

fn environment(input: &ReportInput<'_>) -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template(HTML_TEMPLATE.0, HTML_TEMPLATE.1)?;
    let data = Arc::new(input.data.clone());
    let names: Arc<BTreeMap<String, String>> = Arc::new(
        input
            .definitions
            .elements
            .iter()
            .map(|e| (e.code.clone(), e.name.clone()))
            .collect(),
    );
    let year = input.year;

    let (d, n) = (data.clone(), names.clone());
    env.add_function(
        "v",
        move |code: String, at: Option<i64>| -> Result<f64, minijinja::Error> {
            let at = resolve_year(at, year)?;
            d.value(at, &code).ok_or_else(|| {
                let name = n.get(&code).map(String::as_str).unwrap_or("未知数据项");
                minijinja::Error::new(
                    ErrorKind::UndefinedError,
                    format!("数据项「{name}」（{code}）在 {at} 年度没有数据"),
                )
            })
        },
    );
    let d = data.clone();
    env.add_function(
        "has",
        move |code: String, at: Option<i64>| -> Result<bool, minijinja::Error> {
            Ok(d.value(resolve_year(at, year)?, &code).is_some())
        },
    );
    let indicators: Arc<Vec<IndicatorResult>> = Arc::new(input.indicators.to_vec());
    env.add_function(
        "ind",
        move |id: String| -> Result<Value, minijinja::Error> {
            indicators
                .iter()
                .find(|i| i.id == id)
                .map(Value::from_serialize)
                .ok_or_else(|| {
                    minijinja::Error::new(
                        ErrorKind::UndefinedError,
                        format!("没有 id 为「{id}」的指标"),
                    )
                })
        },
    );
    env.add_filter("num", |value: f64, decimals: Option<u32>| {
        nianbao_core::number::grouped(value, decimals.unwrap_or(0))
    });
    env.add_filter("pct", |value: f64, decimals: Option<u32>| {
        format!(
            "{}%",
            nianbao_core::number::fixed(value, decimals.unwrap_or(1))
        )
    });
    env.add_filter(
        "share",
        |part: f64, whole: f64, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let decimals: Option<u32> = kwargs.get("decimals")?;
            kwargs.assert_all_used()?;
            if whole == 0.0 {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    "占比的分母为 0",
                ));
            }
            Ok(format!(
                "{}%",
                nianbao_core::number::fixed(100.0 * part / whole, decimals.unwrap_or(1))
            ))
        },
    );
    env.add_filter("change", |now: f64, before: f64, unit: Option<String>| {
        year_change(now, before, unit.as_deref().unwrap_or("人"))
    });
    Ok(env)
}

fn resolve_year(at: Option<i64>, default: Year) -> Result<Year, minijinja::Error> {
    match at {
        None => Ok(default),
        Some(y) => Year::new(y)
            .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string())),
    }
}

fn context(input: &ReportInput<'_>) -> Value {
    let data = input.data;
    let year = input.year;
    let years = table_years(data, year);
    let categories: Vec<CategoryRow> = data
        .categories()
        .into_iter()
        .map(|name| CategoryRow {
            name: name.to_string(),
            edition: input.definitions.majors.category(name).map(|c| c.edition),
            majors: data.majors_in(name).map(|m| m.name.clone()).collect(),
            enrolled: data
                .majors_in(name)
                .filter_map(|m| data.major_value(year, "major.enrolled", &m.name))
                .sum(),
        })
        .collect();
    let mut groups: Vec<FindingGroup> = Vec::new();
    for finding in input.findings {
        let row = FindingRow {
            rule: finding.rule.clone(),
            severity: finding.severity,
            label: finding.severity.label(),
            message: finding.message.clone(),
        };
        match groups.iter_mut().find(|g| g.section == finding.section) {
            Some(group) => group.findings.push(row),
            None => groups.push(FindingGroup {
                section: finding.section.clone(),
                title: input
                    .definitions
                    .section_title(&finding.section)
                    .unwrap_or("其他")
                    .to_string(),
                findings: vec![row],
            }),
        }
    }
    let count = |s: Severity| input.findings.iter().filter(|f| f.severity == s).count();
    let standards: Vec<Value> = input
        .definitions
        .standards
        .iter()
        .map(|s| {
            minijinja::context! { id => s.id, name => s.name, source => s.source }
        })
        .collect();
    let notes: Vec<Value> = data
        .notes
        .iter()
        .filter(|(k, _)| years.contains(&k.year))
        .map(|(k, text)| {
            minijinja::context! {
                year => k.year.get(),
                element => input.definitions.elements.name(&k.element),
                text => text,
            }
        })
        .collect();
    minijinja::context! {
        school => data.school,
        report_date => chinese_date(&data.school.report_date),
        year => year.get(),
        prev_year => year.back(1).map(Year::get),
        years => years.iter().map(|y| y.get()).collect::<Vec<_>>(),
        majors => data.majors,
        categories => categories,
        staff_table => tables::staff_table(data, &years, 1),
        students_table => tables::students_table(data, &years, 2),
        further_table => tables::further_table(data, &years, 3),
        indicators => input.indicators,
        standards => standards,
        finding_groups => groups,
        errors => count(Severity::Error),
        warnings => count(Severity::Warning),
        infos => count(Severity::Info),
        notes => notes,
    }
}
