//! Many schools at once: the checks and indicators of every school (in parallel, on std
//! threads, with a bounded queue so only a few datasets are in memory at a time), then per
//! indicator how many schools meet every standard (达标) and how many do not (不达标), the
//! median over the years, and each school's robust peer outliers.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use nianbao_core::{Dataset, Definitions, Severity, Year, evaluate_indicators, run_checks};
use serde::Serialize;

use crate::areas::{AreaSchool, SchoolType};
use crate::peers::{self, Observation, Outlier, PeerKey, PeerRule, SizeBand};

/// One school's indicator over the years.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorLine {
    pub id: String,
    /// (year, value) for every year the dataset holds, `None` where an input is missing.
    pub values: Vec<(Year, Option<f64>)>,
    /// In the report year: `Some(true)` meets every standard that judges it, `Some(false)`
    /// fails one, `None` when no standard judges it or it cannot be computed.
    pub meets: Option<bool>,
}

/// What the checks and indicators say about one school.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchoolResult {
    pub code: String,
    pub name: String,
    pub district: String,
    pub kind: SchoolType,
    pub year: Year,
    /// 在校生数 of the report year, which decides the size band.
    pub enrolled: Option<f64>,
    pub errors: usize,
    pub warnings: usize,
    /// The rule ids of the error findings, in order.
    pub error_rules: Vec<String>,
    /// The [`nianbao_core::Finding::key`]s of the warnings, so accepted ones can be told apart.
    pub warning_keys: Vec<String>,
    pub indicators: Vec<IndicatorLine>,
}

impl SchoolResult {
    /// The value of an indicator in the report year.
    pub fn value(&self, indicator: &str) -> Option<f64> {
        let line = self.indicators.iter().find(|l| l.id == indicator)?;
        line.values
            .iter()
            .find(|(y, _)| *y == self.year)
            .and_then(|(_, v)| *v)
    }
}

/// Runs the checks and indicators of one school.
pub fn evaluate_school(
    definitions: &Definitions,
    school: &AreaSchool,
    data: &Dataset,
) -> SchoolResult {
    let findings = run_checks(definitions, data);
    let year = data.school.report_year;
    let years = data.years();
    let mut lines: Vec<IndicatorLine> = definitions
        .indicators
        .iter()
        .map(|i| IndicatorLine {
            id: i.id.clone(),
            values: Vec::new(),
            meets: None,
        })
        .collect();
    for &y in &years {
        for (line, result) in lines
            .iter_mut()
            .zip(evaluate_indicators(definitions, data, y))
        {
            line.values.push((y, result.value));
            if y == year && !result.verdicts.is_empty() {
                line.meets = Some(result.passes_all());
            }
        }
    }
    SchoolResult {
        code: school.code.clone(),
        name: school.name.clone(),
        district: school.district.clone(),
        kind: school.kind,
        year,
        enrolled: data.value(year, "students.enrolled_total"),
        errors: findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count(),
        warnings: findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count(),
        error_rules: findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.rule.clone())
            .collect(),
        warning_keys: findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.key())
            .collect(),
        indicators: lines,
    }
}

/// Evaluates every school the iterator yields on `threads` worker threads; the iterator
/// runs on the calling thread and waits while the queue is full. Results come back in the
/// iterator's order.
pub fn evaluate_many<I>(definitions: &Definitions, schools: I, threads: usize) -> Vec<SchoolResult>
where
    I: IntoIterator<Item = (AreaSchool, Dataset)>,
{
    let threads = threads.clamp(1, 64);
    let (sender, receiver) = mpsc::sync_channel::<(usize, AreaSchool, Dataset)>(threads * 4);
    let receiver = Mutex::new(receiver);
    let results: Mutex<Vec<(usize, SchoolResult)>> = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let next = match receiver.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => break,
                    };
                    let Ok((index, school, data)) = next else {
                        break;
                    };
                    mine.push((index, evaluate_school(definitions, &school, &data)));
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(mine);
                }
            });
        }
        for (index, (school, data)) in schools.into_iter().enumerate() {
            if sender.send((index, school, data)).is_err() {
                break;
            }
        }
        drop(sender);
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// One indicator across the area.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorSummary {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub decimals: u32,
    /// Schools meeting every standard on it (达标).
    pub meets: usize,
    /// Schools failing at least one standard (不达标).
    pub fails: usize,
    /// Schools for which it cannot be computed.
    pub missing: usize,
    /// Whether any standard judges this indicator.
    pub judged: bool,
    /// (year, median over schools with a value, schools with a value).
    pub trend: Vec<(Year, Option<f64>, usize)>,
}

/// The comparison of an area's schools.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub year: Year,
    pub schools: Vec<SchoolResult>,
    pub indicators: Vec<IndicatorSummary>,
    /// Per school code, its outliers.
    pub outliers: BTreeMap<String, Vec<Outlier>>,
}

impl Comparison {
    /// Summarises evaluated schools. `peer_area` names the area a school is compared in
    /// (its city, for instance); `year` is the report year compared.
    pub fn build(
        definitions: &Definitions,
        year: Year,
        schools: Vec<SchoolResult>,
        peer_area: impl Fn(&SchoolResult) -> String,
        rule: PeerRule,
    ) -> Comparison {
        let mut indicators = Vec::new();
        let mut outliers: BTreeMap<String, Vec<Outlier>> = BTreeMap::new();
        let keys: Vec<Option<PeerKey>> = schools
            .iter()
            .map(|s| {
                s.enrolled.map(|e| PeerKey {
                    area: peer_area(s),
                    kind: s.kind,
                    band: SizeBand::of(e),
                })
            })
            .collect();
        for (k, indicator) in definitions.indicators.iter().enumerate() {
            let mut summary = IndicatorSummary {
                id: indicator.id.clone(),
                name: indicator.name.clone(),
                unit: indicator.unit.clone(),
                decimals: indicator.decimals,
                meets: 0,
                fails: 0,
                missing: 0,
                judged: definitions
                    .standards
                    .iter()
                    .any(|s| s.thresholds.iter().any(|t| t.indicator == indicator.id)),
                trend: Vec::new(),
            };
            let mut by_year: BTreeMap<Year, Vec<f64>> = BTreeMap::new();
            let mut observations = Vec::new();
            for (school, key) in schools.iter().zip(&keys) {
                let Some(line) = school.indicators.get(k).filter(|l| l.id == indicator.id) else {
                    summary.missing += 1;
                    continue;
                };
                for (y, v) in &line.values {
                    if let Some(v) = v.filter(|v| v.is_finite()) {
                        by_year.entry(*y).or_default().push(v);
                    }
                }
                match line.meets {
                    Some(true) => summary.meets += 1,
                    Some(false) => summary.fails += 1,
                    None => {}
                }
                match (school.value(&indicator.id), key) {
                    (Some(v), Some(key)) => observations.push(Observation {
                        school: &school.code,
                        key: key.clone(),
                        value: v,
                    }),
                    (None, _) => summary.missing += 1,
                    _ => {}
                }
            }
            summary.trend = by_year
                .into_iter()
                .map(|(y, mut values)| {
                    let n = values.len();
                    (y, peers::median(&mut values), n)
                })
                .collect();
            for o in peers::outliers(&indicator.id, &observations, rule) {
                outliers.entry(o.school.clone()).or_default().push(o);
            }
            indicators.push(summary);
        }
        Comparison {
            year,
            schools,
            indicators,
            outliers,
        }
    }

    /// The outliers of a school explained in Chinese, one sentence each.
    pub fn explain(&self, definitions: &Definitions, school: &str) -> Vec<String> {
        self.outliers
            .get(school)
            .map(|list| {
                list.iter()
                    .map(|o| match definitions.indicator(&o.indicator) {
                        Some(i) => o.explain(&i.name, i.decimals),
                        None => o.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{self, Fault, SynthConfig};

    #[test]
    fn an_area_is_evaluated_counted_and_its_outliers_named() {
        let definitions = Definitions::builtin().unwrap();
        let area = synth::area(SynthConfig {
            count: 200,
            seed: 3,
            fault_share: 0.15,
            year: Year::new(2025).unwrap(),
        });
        let inputs = (0..area.tree.schools.len()).map(|i| {
            (
                area.tree.schools[i].clone(),
                synth::dataset(&area, i).unwrap(),
            )
        });
        let results = evaluate_many(&definitions, inputs, 3);
        assert_eq!(results.len(), 200);
        // Order is kept and the parallel run equals the sequential one.
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.code, area.tree.schools[i].code);
        }
        let sequential = evaluate_school(
            &definitions,
            &area.tree.schools[17],
            &synth::dataset(&area, 17).unwrap(),
        );
        assert_eq!(results[17], sequential);

        let tree = area.tree.clone();
        let comparison = Comparison::build(
            &definitions,
            Year::new(2025).unwrap(),
            results,
            |s| {
                tree.area(&s.district)
                    .and_then(|d| d.parent.clone())
                    .unwrap_or_default()
            },
            PeerRule::default(),
        );
        let ratio = comparison
            .indicators
            .iter()
            .find(|i| i.id == "student_teacher_ratio")
            .unwrap();
        assert!(ratio.judged);
        assert_eq!(ratio.meets + ratio.fails + ratio.missing, 200);
        assert!(ratio.meets > 0 && ratio.fails > 0, "{ratio:?}");
        assert_eq!(ratio.trend.len(), 3);
        // Most schools planted with an extreme 生师比 are found by the peer rule, and no
        // more than a few others are.
        let planted: Vec<&str> = area
            .faults
            .iter()
            .enumerate()
            .filter(|(_, f)| **f == Some(Fault::RatioOutlier))
            .map(|(i, _)| area.tree.schools[i].code.as_str())
            .collect();
        let flagged: Vec<&str> = comparison
            .outliers
            .iter()
            .filter(|(_, list)| list.iter().any(|o| o.indicator == "student_teacher_ratio"))
            .map(|(s, _)| s.as_str())
            .collect();
        let hits = planted.iter().filter(|p| flagged.contains(p)).count();
        assert!(!planted.is_empty());
        assert!(hits * 2 >= planted.len(), "{planted:?} vs {flagged:?}");
        assert!(flagged.len() <= planted.len() + 6, "{flagged:?}");
        let school = planted.iter().find(|p| flagged.contains(p)).unwrap();
        let text = comparison.explain(&definitions, school);
        assert!(
            text.iter()
                .any(|t| t.starts_with("生师比 ") && t.contains("倍")),
            "{text:?}"
        );
    }
}
