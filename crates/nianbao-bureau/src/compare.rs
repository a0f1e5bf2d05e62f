//! Many schools at once: the checks and indicators of every school (in parallel, on std
//! threads, with a bounded queue so only a few datasets are in memory at a time), then per
//! indicator how many schools meet every standard (达标) and how many do not (不达标), the
//! median over the years, and each school's robust peer outliers.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use nianbao_core::{Dataset, Definitions, Plan, Severity, Summary, Table, Year};
use serde::Serialize;

use crate::areas::{AreaSchool, AreaTree, SchoolType};
use crate::peers::{self, Observation, Outlier, PeerKey, PeerLevel, PeerRule, SizeBand};

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
        self.value_of(line)
    }

    /// As [`SchoolResult::value`] for the indicator at `index` in the definitions' order
    /// (where [`evaluate_school`] puts it), looked for by id only if it is not there.
    pub fn value_at(&self, index: usize, indicator: &str) -> Option<f64> {
        match self.indicators.get(index) {
            Some(line) if line.id == indicator => self.value_of(line),
            _ => self.value(indicator),
        }
    }

    fn value_of(&self, line: &IndicatorLine) -> Option<f64> {
        line.values
            .iter()
            .find(|(y, _)| *y == self.year)
            .and_then(|(_, v)| *v)
    }
}

/// Orders schools by one indicator's value in the report year, schools without a value
/// last, ascending or (`descending`) the reverse; schools with equal values keep their
/// order. Each school's value is looked up once, not at every comparison.
pub fn sort_by_indicator<'a>(
    schools: &mut Vec<&'a SchoolResult>,
    definitions: &Definitions,
    indicator: &str,
    descending: bool,
) {
    let index = definitions
        .indicators
        .iter()
        .position(|i| i.id == indicator)
        .unwrap_or(usize::MAX);
    let mut keyed: Vec<(Option<f64>, &'a SchoolResult)> = schools
        .iter()
        .map(|s| (s.value_at(index, indicator), *s))
        .collect();
    keyed.sort_by(|(x, _), (y, _)| {
        let order = match (x, y) {
            (Some(x), Some(y)) => x.total_cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        if descending { order.reverse() } else { order }
    });
    schools.clear();
    schools.extend(keyed.into_iter().map(|(_, s)| s));
}

/// Runs the checks and indicators of one school, computing each indicator once for both.
pub fn evaluate_school(
    definitions: &Definitions,
    school: &AreaSchool,
    data: &Dataset,
) -> SchoolResult {
    let plan = Plan::new(definitions);
    evaluate_school_with(&plan, &mut Table::default(), definitions, school, data)
}

/// As [`evaluate_school`], with the rules and indicators compiled once for many schools
/// (`plan`, from `definitions`) and `table`'s buffers reused from one school to the next.
pub fn evaluate_school_with(
    plan: &Plan,
    table: &mut Table,
    definitions: &Definitions,
    school: &AreaSchool,
    data: &Dataset,
) -> SchoolResult {
    // The findings' texts are not shown here: their rules, severities and keys suffice.
    let Summary {
        findings,
        indicators,
    } = plan.summarize(definitions, data, table);
    let year = data.school.report_year;
    let mut lines: Vec<IndicatorLine> = definitions
        .indicators
        .iter()
        .map(|i| IndicatorLine {
            id: i.id.clone(),
            values: Vec::with_capacity(indicators.len()),
            meets: None,
        })
        .collect();
    for (y, values) in &indicators {
        for (line, result) in lines.iter_mut().zip(values) {
            line.values.push((*y, result.value));
            if *y == year && result.meets.is_some() {
                line.meets = result.meets;
            }
        }
    }
    let errors = findings.iter().filter(|f| f.severity == Severity::Error);
    let warnings = findings.iter().filter(|f| f.severity == Severity::Warning);
    SchoolResult {
        code: school.code.clone(),
        name: school.name.clone(),
        district: school.district.clone(),
        kind: school.kind,
        year,
        enrolled: data.value(year, "students.enrolled_total"),
        errors: errors.clone().count(),
        warnings: warnings.clone().count(),
        error_rules: errors.map(|f| f.rule.clone()).collect(),
        warning_keys: warnings.map(|f| f.key.clone()).collect(),
        indicators: lines,
    }
}

/// Evaluates schools on worker threads as they are handed over: a bounded queue (four
/// schools a thread) makes the one handing them over wait while the workers are busy, so
/// only a few datasets are in memory at a time however many schools there are. Results
/// come back in the order the schools were handed over.
pub struct Evaluator {
    sender: mpsc::SyncSender<(usize, AreaSchool, Dataset)>,
    workers: Vec<thread::JoinHandle<Vec<(usize, SchoolResult)>>>,
    handed: usize,
}

impl Evaluator {
    /// Starts `threads` workers (1 to 64).
    pub fn start(definitions: Arc<Definitions>, threads: usize) -> Evaluator {
        let threads = threads.clamp(1, 64);
        let (sender, receiver) = mpsc::sync_channel::<(usize, AreaSchool, Dataset)>(threads * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = (0..threads)
            .map(|_| {
                let receiver = receiver.clone();
                let definitions = definitions.clone();
                thread::spawn(move || {
                    let plan = Plan::new(&definitions);
                    let mut table = Table::default();
                    let mut mine = Vec::new();
                    loop {
                        let next = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => break,
                        };
                        let Ok((index, school, data)) = next else {
                            break;
                        };
                        mine.push((
                            index,
                            evaluate_school_with(&plan, &mut table, &definitions, &school, &data),
                        ));
                    }
                    mine
                })
            })
            .collect();
        Evaluator {
            sender,
            workers,
            handed: 0,
        }
    }

    /// Hands over one school; waits while the queue is full.
    pub fn evaluate(&mut self, school: AreaSchool, data: Dataset) {
        // A send fails only when every worker has stopped, which `finish` reports.
        let _ = self.sender.send((self.handed, school, data));
        self.handed += 1;
    }

    /// Waits for the workers and returns every result in the order handed over.
    pub fn finish(self) -> Vec<SchoolResult> {
        drop(self.sender);
        let mut results: Vec<(usize, SchoolResult)> = Vec::with_capacity(self.handed);
        for worker in self.workers {
            match worker.join() {
                Ok(mine) => results.extend(mine),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

/// Evaluates every school the iterator yields on `threads` worker threads (see
/// [`Evaluator`]); the iterator runs on the calling thread. Results come back in the
/// iterator's order.
pub fn evaluate_many<I>(definitions: &Definitions, schools: I, threads: usize) -> Vec<SchoolResult>
where
    I: IntoIterator<Item = (AreaSchool, Dataset)>,
{
    let mut evaluator = Evaluator::start(Arc::new(definitions.clone()), threads);
    for (school, data) in schools {
        evaluator.evaluate(school, data);
    }
    evaluator.finish()
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
                match (school.value_of(line), key) {
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

    /// Summarises evaluated schools, each compared with the schools of its area at `level`
    /// (its district, city or province in `tree`) of the same type and size band, by the
    /// default rule.
    pub fn within(
        definitions: &Definitions,
        tree: &AreaTree,
        level: PeerLevel,
        year: Year,
        schools: Vec<SchoolResult>,
    ) -> Comparison {
        // Each district's peer area found once, not by walking the tree for every school.
        let districts: std::collections::BTreeSet<&str> =
            schools.iter().map(|s| s.district.as_str()).collect();
        let peers: std::collections::HashMap<String, String> = districts
            .into_iter()
            .map(|d| (d.to_string(), peer_area(tree, d, level)))
            .collect();
        let peers = &peers;
        Comparison::build(
            definitions,
            year,
            schools,
            |s| {
                peers
                    .get(s.district.as_str())
                    .cloned()
                    .unwrap_or_else(|| peer_area(tree, &s.district, level))
            },
            PeerRule::default(),
        )
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

/// The area whose schools an area's schools are compared with at `level`: the area's own
/// city or province when `level` lies above the area, else the area itself (a city's report
/// compared within districts draws from the city).
pub fn peer_scope(tree: &AreaTree, area: &str, level: PeerLevel) -> String {
    tree.ancestors(area)
        .iter()
        .find(|a| a.level == level.level())
        .map_or_else(|| area.to_string(), |a| a.code.clone())
}

impl Comparison {
    /// The comparison of the schools of `area` among `results` (which may hold more: the
    /// schools of the area's [`peer_scope`]): counts, medians and trends over the area's
    /// schools only, while each school's outliers are judged among its peers in all of
    /// `results`.
    pub fn of_area(
        definitions: &Definitions,
        tree: &AreaTree,
        area: &str,
        level: PeerLevel,
        year: Year,
        results: Vec<SchoolResult>,
    ) -> Comparison {
        let own: Vec<SchoolResult> = results
            .iter()
            .filter(|r| tree.contains_school(area, &r.code))
            .cloned()
            .collect();
        if own.len() == results.len() {
            return Comparison::within(definitions, tree, level, year, results);
        }
        let mut comparison = Comparison::within(definitions, tree, level, year, own);
        let wider = Comparison::within(definitions, tree, level, year, results);
        comparison.outliers = wider
            .outliers
            .into_iter()
            .filter(|(code, _)| tree.contains_school(area, code))
            .collect();
        comparison
    }
}

/// The code of the area at `level` that holds a district (the district itself, its city or
/// its province); empty when the tree has none.
pub fn peer_area(tree: &AreaTree, district: &str, level: PeerLevel) -> String {
    tree.ancestors(district)
        .iter()
        .find(|a| a.level == level.level())
        .map(|a| a.code.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{self, Fault, SynthConfig};

    #[test]
    fn a_district_s_peer_area_is_itself_its_city_or_its_province() {
        let area = synth::area(SynthConfig {
            count: 30,
            seed: 1,
            fault_share: 0.0,
            year: Year::new(2025).unwrap(),
        });
        let tree = &area.tree;
        let district = &tree.schools[0].district;
        let city = tree.area(district).unwrap().parent.clone().unwrap();
        let province = tree.area(&city).unwrap().parent.clone().unwrap();
        assert_eq!(&peer_area(tree, district, PeerLevel::District), district);
        assert_eq!(peer_area(tree, district, PeerLevel::City), city);
        assert_eq!(peer_area(tree, district, PeerLevel::Province), province);
        assert_eq!(peer_area(tree, "no-such-district", PeerLevel::City), "");
        assert_eq!(PeerLevel::parse("province"), Some(PeerLevel::Province));
        assert_eq!(PeerLevel::parse("planet"), None);
    }

    /// One school's result from the checks and the full indicators computed apart, as
    /// before indicators were computed once for both.
    fn computed_apart(
        definitions: &Definitions,
        school: &AreaSchool,
        data: &Dataset,
    ) -> SchoolResult {
        let findings = nianbao_core::run_checks(definitions, data);
        let year = data.school.report_year;
        let mut lines: Vec<IndicatorLine> = definitions
            .indicators
            .iter()
            .map(|i| IndicatorLine {
                id: i.id.clone(),
                values: Vec::new(),
                meets: None,
            })
            .collect();
        for y in data.years() {
            let results = nianbao_core::evaluate_indicators(definitions, data, y);
            for (line, result) in lines.iter_mut().zip(results) {
                line.values.push((y, result.value));
                if y == year && !result.verdicts.is_empty() {
                    line.meets = Some(result.passes_all());
                }
            }
        }
        let of = |severity| findings.iter().filter(move |f| f.severity == severity);
        SchoolResult {
            code: school.code.clone(),
            name: school.name.clone(),
            district: school.district.clone(),
            kind: school.kind,
            year,
            enrolled: data.value(year, "students.enrolled_total"),
            errors: of(Severity::Error).count(),
            warnings: of(Severity::Warning).count(),
            error_rules: of(Severity::Error).map(|f| f.rule.clone()).collect(),
            warning_keys: of(Severity::Warning).map(|f| f.key()).collect(),
            indicators: lines,
        }
    }

    #[test]
    fn a_school_evaluated_once_equals_its_checks_and_indicators_computed_apart() {
        let definitions = Definitions::builtin().unwrap();
        let area = synth::area(SynthConfig {
            count: 120,
            seed: 21,
            fault_share: 0.5,
            year: Year::new(2025).unwrap(),
        });
        let mut with_errors = 0;
        for (i, school) in area.tree.schools.iter().enumerate() {
            let data = synth::dataset(&area, i).unwrap();
            let once = evaluate_school(&definitions, school, &data);
            assert_eq!(
                once,
                computed_apart(&definitions, school, &data),
                "{}",
                school.code
            );
            with_errors += usize::from(once.errors > 0);
        }
        assert!(with_errors > 10, "{with_errors} schools with errors");
    }

    #[test]
    fn an_area_counts_its_own_schools_and_judges_them_among_the_peers_of_its_scope() {
        let definitions = Definitions::builtin().unwrap();
        let year = Year::new(2025).unwrap();
        let area = synth::area(SynthConfig {
            count: 400,
            seed: 11,
            fault_share: 0.15,
            year,
        });
        let tree = &area.tree;
        let district = &tree
            .areas
            .iter()
            .find(|a| a.level == crate::Level::District)
            .unwrap()
            .code;
        let city = peer_scope(tree, district, PeerLevel::City);
        assert_eq!(tree.area(&city).unwrap().level, crate::Level::City);
        assert_eq!(peer_scope(tree, district, PeerLevel::District), *district);
        // A city compared within districts draws from the city itself.
        assert_eq!(peer_scope(tree, &city, PeerLevel::District), city);
        let in_city: Vec<usize> = (0..tree.schools.len())
            .filter(|&i| tree.contains_school(&city, &tree.schools[i].code))
            .collect();
        let results = evaluate_many(
            &definitions,
            in_city
                .iter()
                .map(|&i| (tree.schools[i].clone(), synth::dataset(&area, i).unwrap())),
            2,
        );
        let own = tree.schools_in(district).len();
        assert!(own < results.len(), "{own} of {}", results.len());
        let comparison = Comparison::of_area(
            &definitions,
            tree,
            district,
            PeerLevel::City,
            year,
            results.clone(),
        );
        let wider = Comparison::within(&definitions, tree, PeerLevel::City, year, results);
        assert_eq!(comparison.schools.len(), own);
        let ratio = comparison
            .indicators
            .iter()
            .find(|i| i.id == "student_teacher_ratio")
            .unwrap();
        assert_eq!(ratio.meets + ratio.fails + ratio.missing, own);
        // Each of the district's schools is judged as in the city's comparison.
        for school in &comparison.schools {
            assert_eq!(
                comparison.outliers.get(&school.code),
                wider.outliers.get(&school.code),
                "{}",
                school.code
            );
        }
        assert!(
            comparison
                .outliers
                .keys()
                .all(|code| tree.contains_school(district, code))
        );
        assert!(
            comparison
                .outliers
                .values()
                .flatten()
                .any(|o| o.group_size > own),
            "some group holds schools of other districts"
        );
    }

    #[test]
    fn sorting_by_an_indicator_orders_as_comparing_values_at_each_step() {
        let definitions = Definitions::builtin().unwrap();
        let area = synth::area(SynthConfig {
            count: 150,
            seed: 5,
            fault_share: 0.3,
            year: Year::new(2025).unwrap(),
        });
        let inputs = (0..area.tree.schools.len()).map(|i| {
            (
                area.tree.schools[i].clone(),
                synth::dataset(&area, i).unwrap(),
            )
        });
        let mut results = evaluate_many(&definitions, inputs, 2);
        // A school whose indicator lines are not in the definitions' order is still sorted
        // by its own value.
        results[3].indicators.reverse();
        for indicator in &definitions.indicators {
            for descending in [false, true] {
                let mut expected: Vec<&SchoolResult> = results.iter().collect();
                expected.sort_by(|a, b| {
                    let order = match (a.value(&indicator.id), b.value(&indicator.id)) {
                        (Some(x), Some(y)) => x.total_cmp(&y),
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => std::cmp::Ordering::Equal,
                    };
                    if descending { order.reverse() } else { order }
                });
                let mut sorted: Vec<&SchoolResult> = results.iter().collect();
                sort_by_indicator(&mut sorted, &definitions, &indicator.id, descending);
                let codes = |v: &[&SchoolResult]| -> Vec<String> {
                    v.iter().map(|r| r.code.clone()).collect()
                };
                assert_eq!(
                    codes(&sorted),
                    codes(&expected),
                    "{} {descending}",
                    indicator.id
                );
                // Without a value comes last, whichever way.
                let first_none = sorted.iter().position(|r| r.value(&indicator.id).is_none());
                if let Some(n) = first_none {
                    assert!(sorted[n..].iter().all(|r| r.value(&indicator.id).is_none()));
                }
            }
        }
        let ratio = "student_teacher_ratio";
        let mut sorted: Vec<&SchoolResult> = results.iter().collect();
        sort_by_indicator(&mut sorted, &definitions, ratio, false);
        let values: Vec<f64> = sorted.iter().filter_map(|r| r.value(ratio)).collect();
        assert!(values.len() > 100, "{}", values.len());
        assert!(values.windows(2).all(|w| w[0] <= w[1]));
    }

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

        // At every level, a school's peers are the schools of its own district, city or
        // province: no outlier's group is larger than the schools of that area.
        for level in PeerLevel::ALL {
            let comparison = Comparison::within(
                &definitions,
                &area.tree,
                level,
                Year::new(2025).unwrap(),
                results.clone(),
            );
            // The peer areas found once per district give what finding them for every
            // school gives.
            let direct = Comparison::build(
                &definitions,
                Year::new(2025).unwrap(),
                results.clone(),
                |s| peer_area(&area.tree, &s.district, level),
                PeerRule::default(),
            );
            assert_eq!(comparison, direct, "{level:?}");
            for (school, list) in &comparison.outliers {
                let district = &area.tree.school(school).unwrap().district;
                let peers = peer_area(&area.tree, district, level);
                assert_eq!(area.tree.area(&peers).unwrap().level, level.level());
                let within = area.tree.schools_in(&peers).len();
                for o in list {
                    assert!(o.group_size <= within, "{level:?} {o:?} in {within}");
                }
            }
        }
        let comparison = Comparison::within(
            &definitions,
            &area.tree,
            PeerLevel::City,
            Year::new(2025).unwrap(),
            results,
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
