//! Award and recommendation rules as data (e.g. 红匠之星: the top share of a department by
//! total, no unreversed deduction in 法治教育, at least so many points in 工匠精神), the
//! lists they produce with the reason for each student, and the figures the annual report
//! cites in its section on moral education (2.1).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::aggregate::Measure;
use crate::aggregate::{Group, Span, rank, student_dimensions, student_matrix, student_totals};
use crate::columns::FLAG_REVERSAL;
use crate::ledger::Ledger;
use crate::tree::Dimension;

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("规则文件 {file} 格式有误：{message}")]
    Syntax { file: String, message: String },
    #[error("规则文件 {file}，规则「{rule}」：{message}")]
    Invalid {
        file: String,
        rule: String,
        message: String,
    },
    #[error("无法读取规则文件 {file}：{message}")]
    Io { file: String, message: String },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

/// One award or recommendation.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub code: String,
    pub name: String,
    /// 奖项 or 推荐.
    pub kind: String,
    pub scope: ScopeName,
    /// 总分 or a dimension's name.
    pub rank_by: String,
    /// Share (0–1] of each scope taken, by rank.
    pub top_share: f64,
    /// Grades considered (1 = entered this school year); all when absent.
    pub grades: Option<Vec<i32>>,
    #[serde(default)]
    pub require: Vec<Requirement>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    Class,
    Major,
    Department,
    School,
}

impl ScopeName {
    fn group(self) -> Group {
        match self {
            ScopeName::Class => Group::Class,
            ScopeName::Major => Group::Major,
            ScopeName::Department => Group::Department,
            ScopeName::School => Group::School,
        }
    }
}

/// A condition; exactly one kind per entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub dimension: Option<String>,
    pub competency: Option<String>,
    pub min: Option<i64>,
    pub no_negative: Option<bool>,
    pub total_min: Option<i64>,
    pub max_negative_events: Option<u64>,
}

/// The built-in rules (data/points/awards.toml).
pub const SAMPLE_RULES: &str = include_str!("../../../data/points/awards.toml");

impl RulesFile {
    pub fn sample() -> RulesFile {
        match RulesFile::from_toml(SAMPLE_RULES, "data/points/awards.toml") {
            Ok(r) => r,
            Err(e) => panic!("内置评优规则有误：{e}"),
        }
    }

    pub fn from_file(path: &std::path::Path) -> Result<RulesFile, RulesError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RulesError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        RulesFile::from_toml(&text, &file)
    }

    pub fn from_toml(text: &str, file: &str) -> Result<RulesFile, RulesError> {
        let rules: RulesFile = toml::from_str(text).map_err(|e| RulesError::Syntax {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        for rule in &rules.rules {
            let bad = |message: String| RulesError::Invalid {
                file: file.to_string(),
                rule: rule.name.clone(),
                message,
            };
            if !(rule.top_share > 0.0 && rule.top_share <= 1.0) {
                return Err(bad(format!(
                    "top_share {} 应在 0 到 1 之间",
                    rule.top_share
                )));
            }
            if rule.rank_by != "总分" && Dimension::from_name(&rule.rank_by).is_none() {
                return Err(bad(format!(
                    "rank_by「{}」应为「总分」或八个维度之一",
                    rule.rank_by
                )));
            }
            for r in &rule.require {
                let kinds = [
                    r.dimension.is_some() && (r.min.is_some() || r.no_negative == Some(true)),
                    r.competency.is_some() && r.min.is_some(),
                    r.total_min.is_some(),
                    r.max_negative_events.is_some(),
                ];
                if kinds.iter().filter(|k| **k).count() != 1
                    || (r.dimension.is_some() && r.competency.is_some())
                {
                    return Err(bad("每条 require 只能写一种条件：维度 min/no_negative、素养 min、total_min 或 max_negative_events".into()));
                }
                if let Some(d) = &r.dimension
                    && Dimension::from_name(d).is_none()
                {
                    return Err(bad(format!("未知的维度「{d}」")));
                }
            }
        }
        Ok(rules)
    }
}

/// A student on a list, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub student: u32,
    pub number: String,
    pub name: String,
    pub class: String,
    pub major: String,
    pub department: String,
    pub score: i64,
    pub rank: usize,
    pub of: usize,
    pub reasons: Vec<String>,
}

/// The result of one rule over one span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwardList {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub span: String,
    pub considered: usize,
    pub listed: Vec<Listed>,
}

/// Applies a rule. `school_year` sets the grades; `label` describes the span in reasons.
pub fn evaluate(
    ledger: &Ledger,
    rule: &Rule,
    span: &Span,
    school_year: i32,
    label: &str,
) -> AwardList {
    let totals = student_totals(ledger, span);
    let dims = student_dimensions(ledger, span);
    let (width, comps, _) = student_matrix(ledger, Measure::Competency, span);
    let negatives = negative_events(ledger, span);
    let rank_dim = Dimension::from_name(&rule.rank_by);
    let scores: Vec<i64> = match rank_dim {
        Some(d) => dims.iter().map(|r| r[d.index()]).collect(),
        None => totals.clone(),
    };
    let in_grade = |entry: i32| {
        rule.grades
            .as_ref()
            .is_none_or(|g| g.contains(&(school_year - entry + 1)))
    };
    // Rank only among students of the grades considered.
    let considered_scores: Vec<i64> = ledger
        .roster
        .students()
        .iter()
        .map(|s| {
            if in_grade(s.entry_year) {
                scores[s.id as usize - 1]
            } else {
                i64::MIN
            }
        })
        .collect();
    let group = rule.scope.group();
    let mut sizes = std::collections::HashMap::new();
    for s in ledger
        .roster
        .students()
        .iter()
        .filter(|s| in_grade(s.entry_year))
    {
        *sizes.entry(group.of(s)).or_insert(0usize) += 1;
    }
    let considered = sizes.values().sum();
    let mut listed = Vec::new();
    for r in rank(ledger, group, &considered_scores) {
        let Some(s) = ledger.roster.student(r.student) else {
            continue;
        };
        if !in_grade(s.entry_year) {
            continue;
        }
        let of = sizes.get(&r.scope).copied().unwrap_or(0);
        let quota = ((of as f64) * rule.top_share).ceil() as usize;
        if r.rank > quota || r.score <= 0 {
            continue;
        }
        let i = s.id as usize - 1;
        let what = rank_dim.map_or("总分", |d| d.name());
        let mut reasons = vec![format!(
            "{label}{what} {} 分，{}第 {} 名（共 {of} 人，取前 {:.0}% 即 {quota} 人）",
            r.score,
            r.scope,
            r.rank,
            rule.top_share * 100.0
        )];
        let mut ok = true;
        for req in &rule.require {
            match check(req, ledger, i, &totals, &dims, &comps, width, &negatives) {
                Ok(reason) => reasons.push(reason),
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            listed.push(Listed {
                student: s.id,
                number: s.number.clone(),
                name: s.name.clone(),
                class: s.class.clone(),
                major: s.major.clone(),
                department: s.department.clone(),
                score: r.score,
                rank: r.rank,
                of,
                reasons,
            });
        }
    }
    listed.sort_by(|a, b| {
        a.department
            .cmp(&b.department)
            .then(a.major.cmp(&b.major))
            .then(a.rank.cmp(&b.rank))
            .then(a.number.cmp(&b.number))
    });
    AwardList {
        code: rule.code.clone(),
        name: rule.name.clone(),
        kind: rule.kind.clone(),
        span: label.to_string(),
        considered,
        listed,
    }
}

/// Per student: unreversed deductions in total and per dimension.
struct Negatives {
    total: Vec<u64>,
    by_dimension: Vec<[u64; 8]>,
}

fn negative_events(ledger: &Ledger, span: &Span) -> Negatives {
    let n = ledger.roster.len();
    let mut out = Negatives {
        total: vec![0; n],
        by_dimension: vec![[0; 8]; n],
    };
    let c = &ledger.columns;
    let reversed: HashSet<u32> = c.reverses.iter().map(|&(_, t)| t).collect();
    let masks: Vec<u8> = ledger.catalog.keys.iter().map(|k| k.mask).collect();
    let in_span = crate::aggregate::event_filter(ledger, span);
    for i in 0..c.len() {
        if c.value[i] >= 0 || c.flags[i] & FLAG_REVERSAL != 0 || !in_span(i) {
            continue;
        }
        if reversed.contains(&(i as u32 + 1)) {
            continue;
        }
        let s = (c.student[i] as usize).wrapping_sub(1);
        if s >= n {
            continue;
        }
        out.total[s] += 1;
        let mut m = masks.get(c.key[i] as usize).copied().unwrap_or(0);
        while m != 0 {
            out.by_dimension[s][m.trailing_zeros() as usize] += 1;
            m &= m - 1;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn check(
    req: &Requirement,
    ledger: &Ledger,
    i: usize,
    totals: &[i64],
    dims: &[[i64; 8]],
    comps: &[i64],
    width: usize,
    negatives: &Negatives,
) -> Result<String, String> {
    if let Some(d) = req.dimension.as_deref().and_then(Dimension::from_name) {
        if req.no_negative == Some(true) {
            let n = negatives.by_dimension[i][d.index()];
            return if n == 0 {
                Ok(format!("{}无扣分记录", d.name()))
            } else {
                Err(format!("{}有 {n} 次扣分", d.name()))
            };
        }
        let min = req.min.unwrap_or(0);
        let v = dims[i][d.index()];
        return if v >= min {
            Ok(format!("{} {v} 分（不低于 {min}）", d.name()))
        } else {
            Err(format!("{} {v} 分，低于 {min}", d.name()))
        };
    }
    if let Some(code) = &req.competency {
        let min = req.min.unwrap_or(0);
        let col = ledger
            .catalog
            .competencies
            .iter()
            .position(|c| &c.code == code);
        let v = col.map_or(0, |c| comps[i * width + c]);
        let name = col.map_or(code.as_str(), |c| {
            ledger.catalog.competencies[c].name.as_str()
        });
        return if v >= min {
            Ok(format!("{name} {v} 分（不低于 {min}）"))
        } else {
            Err(format!("{name} {v} 分，低于 {min}"))
        };
    }
    if let Some(min) = req.total_min {
        let v = totals[i];
        return if v >= min {
            Ok(format!("总分 {v} 分（不低于 {min}）"))
        } else {
            Err(format!("总分 {v} 分，低于 {min}"))
        };
    }
    if let Some(max) = req.max_negative_events {
        let n = negatives.total[i];
        return if n <= max {
            Ok(format!("扣分记录 {n} 次（不超过 {max}）"))
        } else {
            Err(format!("扣分记录 {n} 次，超过 {max}"))
        };
    }
    Err("条件为空".into())
}

/// The figures section 2.1 of the annual report cites, for one school year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnualFigures {
    pub school: String,
    pub school_year: i32,
    pub tree_version: u32,
    pub competencies: usize,
    pub points: usize,
    pub observations: usize,
    pub students_on_roll: usize,
    /// Students with at least one event in the year.
    pub students_evaluated: usize,
    pub events: u64,
    pub positive_events: u64,
    pub negative_events: u64,
    pub reversals: u64,
    pub average_total: f64,
    pub dimension_averages: Vec<DimensionAverage>,
    pub awards: Vec<AwardFigure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionAverage {
    pub dimension: String,
    /// Per student evaluated.
    pub average: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwardFigure {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// Distinct students listed in any term of the year (or for the year itself).
    pub students: usize,
    /// Share of the students evaluated, in percent.
    pub share_percent: f64,
}

/// Computes the section 2.1 figures for `school_year`; awards of kind 奖项 are evaluated per
/// term and counted once per student, recommendations over the whole year.
pub fn annual_figures(
    ledger: &Ledger,
    school: &str,
    school_year: i32,
    rules: &RulesFile,
) -> AnnualFigures {
    let terms: Vec<usize> = ledger
        .periods
        .iter()
        .enumerate()
        .filter(|(_, p)| p.school_year == school_year)
        .map(|(i, _)| i)
        .collect();
    let span = Span::terms(terms.clone());
    let in_span = crate::aggregate::event_filter(ledger, &span);
    let c = &ledger.columns;
    let mut evaluated = vec![false; ledger.roster.len()];
    let (mut events, mut positive, mut negative, mut reversals) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..c.len() {
        if !in_span(i) {
            continue;
        }
        events += 1;
        if c.flags[i] & FLAG_REVERSAL != 0 {
            reversals += 1;
        } else if c.value[i] > 0 {
            positive += 1;
        } else {
            negative += 1;
        }
        if let Some(e) = evaluated.get_mut((c.student[i] as usize).wrapping_sub(1)) {
            *e = true;
        }
    }
    let n_eval = evaluated.iter().filter(|e| **e).count();
    let dims = student_dimensions(ledger, &span);
    let totals = student_totals(ledger, &span);
    let avg = |sum: i64| {
        if n_eval == 0 {
            0.0
        } else {
            (sum as f64 / n_eval as f64 * 10.0).round() / 10.0
        }
    };
    let dimension_averages = Dimension::ALL
        .iter()
        .map(|d| DimensionAverage {
            dimension: d.name().to_string(),
            average: avg(dims.iter().map(|r| r[d.index()]).sum()),
        })
        .collect();
    let awards = rules
        .rules
        .iter()
        .map(|rule| {
            let mut winners = HashSet::new();
            if rule.kind == "奖项" {
                for &t in &terms {
                    let label = format!("{}学期", ledger.periods[t].code);
                    for l in
                        evaluate(ledger, rule, &Span::terms(vec![t]), school_year, &label).listed
                    {
                        winners.insert(l.student);
                    }
                }
            } else {
                for l in evaluate(
                    ledger,
                    rule,
                    &span,
                    school_year,
                    &format!("{school_year} 学年"),
                )
                .listed
                {
                    winners.insert(l.student);
                }
            }
            AwardFigure {
                code: rule.code.clone(),
                name: rule.name.clone(),
                kind: rule.kind.clone(),
                students: winners.len(),
                share_percent: if n_eval == 0 {
                    0.0
                } else {
                    (winners.len() as f64 / n_eval as f64 * 1000.0).round() / 10.0
                },
            }
        })
        .collect();
    let latest = ledger.catalog.latest();
    AnnualFigures {
        school: school.to_string(),
        school_year,
        tree_version: latest.map_or(0, |t| t.version),
        competencies: latest.map_or(0, |t| t.competencies.len()),
        points: latest.map_or(0, |t| t.points.len()),
        observations: latest.map_or(0, |t| t.observations.len()),
        students_on_roll: ledger.roster.len(),
        students_evaluated: n_eval,
        events,
        positive_events: positive,
        negative_events: negative,
        reversals,
        average_total: avg(totals.iter().sum()),
        dimension_averages,
        awards,
    }
}

/// The prefix of the report elements the ledger's figures are laid into (data/elements.toml,
/// `register = "points"`).
pub const ELEMENT_PREFIX: &str = "register.points.";

/// The figures as (element code, value) pairs for the report's dataset: counts of students
/// and events, the average total and the average of each 八维 dimension per student
/// evaluated, and the students listed by each award or recommendation rule. Nothing is
/// returned for a year without events, so the report shows a gap rather than zeros.
pub fn report_facts(figures: &AnnualFigures) -> Vec<(String, f64)> {
    if figures.events == 0 {
        return Vec::new();
    }
    let code = |name: &str| format!("{ELEMENT_PREFIX}{name}");
    let mut out = vec![
        (code("students_on_roll"), figures.students_on_roll as f64),
        (
            code("students_evaluated"),
            figures.students_evaluated as f64,
        ),
        (code("events"), figures.events as f64),
        (code("positive_events"), figures.positive_events as f64),
        (code("negative_events"), figures.negative_events as f64),
        (code("reversals"), figures.reversals as f64),
        (code("average_total"), figures.average_total),
    ];
    for d in &figures.dimension_averages {
        if let Some(dimension) = Dimension::from_name(&d.dimension) {
            out.push((
                code(&format!("dimension.{}.average", dimension.code())),
                d.average,
            ));
        }
    }
    for a in &figures.awards {
        out.push((
            code(&format!("award.{}.students", a.code.replace('-', "_"))),
            a.students as f64,
        ));
    }
    out
}
