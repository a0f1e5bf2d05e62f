//! 课程质量闭环「建设—监测—评价—反馈—改进」: the school's courses (level, platform, hours,
//! the year built and last updated), enrolment per term, the monitored figures of every
//! course per term against targets kept as data, evaluations by students, peers and
//! supervisors, the problems fed back and the improvement actions taken (owner, due date,
//! state — closed only with evidence). A course's loop reads as one timeline; the figures
//! of report section 2.3 come from the whole register.
//!
//! Terms are written `2025-2026-1` (autumn, counted in 2025) and `2025-2026-2` (spring,
//! counted in 2026).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::register::{Mode, RegisterFact, covered_years, merge, problem};
use crate::table::{
    At, Columns, Fields, ImportErrors, Located, MAX_NAME_CHARS, MAX_TEXT_CHARS, Sheet, Table,
};
use crate::vocab::CoursesVocabulary;

/// A school term: `2025-2026-1` is the autumn term of the school year 2025–2026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Term {
    pub first_year: i32,
    /// 1 (autumn) or 2 (spring).
    pub half: u8,
}

impl Term {
    pub fn parse(text: &str) -> Option<Term> {
        let parts: Vec<&str> = text.trim().split('-').collect();
        let [first, second, half] = parts.as_slice() else {
            return None;
        };
        let first: i32 = first.parse().ok().filter(|y| (1950..=2099).contains(y))?;
        let second: i32 = second.parse().ok()?;
        let half: u8 = half.parse().ok().filter(|h| *h == 1 || *h == 2)?;
        (second == first + 1).then_some(Term {
            first_year: first,
            half,
        })
    }

    /// The calendar year the term is counted in.
    pub fn year(self) -> i32 {
        if self.half == 1 {
            self.first_year
        } else {
            self.first_year + 1
        }
    }

    /// The day the term starts, for ordering a timeline.
    pub fn start(self) -> Day {
        let start = if self.half == 1 {
            Day::new(self.first_year, 9, 1)
        } else {
            Day::new(self.first_year + 1, 2, 15)
        };
        start.unwrap_or_else(|| Day::new(2000, 1, 1).expect("a valid day"))
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.first_year,
            self.first_year + 1,
            self.half
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Course {
    pub code: String,
    pub name: String,
    pub level: String,
    /// The online platform it is published on; empty for a course taught only in class.
    pub platform: Option<String>,
    pub hours: f64,
    pub built: i32,
    pub updated: Option<i32>,
    pub owner: Option<String>,
    pub major: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrolment {
    pub course: String,
    pub term: Term,
    pub students: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub course: String,
    pub term: Term,
    pub indicator: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub course: String,
    pub term: Term,
    pub rater: String,
    pub score: f64,
    pub raters: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub code: String,
    pub course: String,
    pub day: Day,
    pub source: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub code: String,
    pub course: String,
    pub feedback: Option<String>,
    pub text: String,
    pub owner: String,
    pub due: Day,
    pub status: String,
    pub done: Option<Day>,
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoursesRegister {
    pub courses: Vec<Course>,
    pub enrolments: Vec<Enrolment>,
    pub measurements: Vec<Measurement>,
    pub evaluations: Vec<Evaluation>,
    pub feedback: Vec<Feedback>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoursesKind {
    Courses,
    Enrolments,
    Measurements,
    Evaluations,
    Feedback,
    Actions,
}

pub const COURSE_COLUMNS: Columns = Columns {
    required: &["课程编号", "课程名称", "课程级别", "学时", "建设年份"],
    optional: &["上线平台", "最近更新年份", "课程负责人", "所属专业"],
};
pub const ENROLMENT_COLUMNS: Columns = Columns {
    required: &["课程编号", "学期", "选课人数"],
    optional: &[],
};
pub const MEASUREMENT_COLUMNS: Columns = Columns {
    required: &["课程编号", "学期", "监测指标", "数值"],
    optional: &[],
};
pub const EVALUATION_COLUMNS: Columns = Columns {
    required: &["课程编号", "学期", "评价主体", "平均分"],
    optional: &["评价人数"],
};
pub const FEEDBACK_COLUMNS: Columns = Columns {
    required: &["反馈编号", "课程编号", "反馈日期", "来源", "问题描述"],
    optional: &[],
};
pub const ACTION_COLUMNS: Columns = Columns {
    required: &[
        "措施编号",
        "课程编号",
        "改进措施",
        "责任人",
        "截止日期",
        "状态",
    ],
    optional: &["反馈编号", "完成日期", "佐证"],
};

impl CoursesKind {
    pub const ALL: [CoursesKind; 6] = [
        CoursesKind::Courses,
        CoursesKind::Enrolments,
        CoursesKind::Measurements,
        CoursesKind::Evaluations,
        CoursesKind::Feedback,
        CoursesKind::Actions,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CoursesKind::Courses => "courses",
            CoursesKind::Enrolments => "enrolments",
            CoursesKind::Measurements => "measurements",
            CoursesKind::Evaluations => "evaluations",
            CoursesKind::Feedback => "feedback",
            CoursesKind::Actions => "actions",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CoursesKind::Courses => "课程",
            CoursesKind::Enrolments => "选课人数",
            CoursesKind::Measurements => "监测数据",
            CoursesKind::Evaluations => "课程评价",
            CoursesKind::Feedback => "问题反馈",
            CoursesKind::Actions => "改进措施",
        }
    }

    pub fn columns(self) -> &'static Columns {
        match self {
            CoursesKind::Courses => &COURSE_COLUMNS,
            CoursesKind::Enrolments => &ENROLMENT_COLUMNS,
            CoursesKind::Measurements => &MEASUREMENT_COLUMNS,
            CoursesKind::Evaluations => &EVALUATION_COLUMNS,
            CoursesKind::Feedback => &FEEDBACK_COLUMNS,
            CoursesKind::Actions => &ACTION_COLUMNS,
        }
    }

    pub fn from_code(code: &str) -> Option<CoursesKind> {
        CoursesKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone)]
pub enum CoursesImport {
    Courses(Vec<Located<Course>>),
    Enrolments(Vec<Located<Enrolment>>),
    Measurements(Vec<Located<Measurement>>),
    Evaluations(Vec<Located<Evaluation>>),
    Feedback(Vec<Located<Feedback>>),
    Actions(Vec<Located<Action>>),
}

pub fn read(
    kind: CoursesKind,
    table: &Table,
    vocabulary: &CoursesVocabulary,
) -> Result<CoursesImport, ImportErrors> {
    Ok(match kind {
        CoursesKind::Courses => {
            CoursesImport::Courses(table.records(|f| read_course(f, vocabulary))?)
        }
        CoursesKind::Enrolments => CoursesImport::Enrolments(table.records(read_enrolment)?),
        CoursesKind::Measurements => {
            CoursesImport::Measurements(table.records(|f| read_measurement(f, vocabulary))?)
        }
        CoursesKind::Evaluations => {
            CoursesImport::Evaluations(table.records(|f| read_evaluation(f, vocabulary))?)
        }
        CoursesKind::Feedback => {
            CoursesImport::Feedback(table.records(|f| read_feedback(f, vocabulary))?)
        }
        CoursesKind::Actions => {
            CoursesImport::Actions(table.records(|f| read_action(f, vocabulary))?)
        }
    })
}

fn year_field(f: &mut Fields<'_>, header: &str, required: bool) -> Option<i32> {
    let year = f.count(header, 2100, required)?;
    if year < 1950 {
        f.error(header, format!("年份「{year}」不合理"));
        return None;
    }
    Some(year as i32)
}

fn term_field(f: &mut Fields<'_>) -> Option<Term> {
    let text = f.text("学期", 20, true)?;
    let term = Term::parse(&text);
    if term.is_none() {
        f.error(
            "学期",
            format!("应写作「2025-2026-1」（秋季）或「2025-2026-2」（春季），实际为「{text}」"),
        );
    }
    term
}

fn read_course(f: &mut Fields<'_>, vocabulary: &CoursesVocabulary) -> Option<Course> {
    let code = f.text("课程编号", MAX_NAME_CHARS, true);
    let name = f.text("课程名称", MAX_NAME_CHARS, true);
    let level = f.choice("课程级别", &vocabulary.level_names(), true);
    let hours = f.number("学时", 1.0, 2000.0, true);
    let built = year_field(f, "建设年份", true);
    let platform = f.text("上线平台", MAX_NAME_CHARS, false);
    let updated = year_field(f, "最近更新年份", false);
    let owner = f.text("课程负责人", MAX_NAME_CHARS, false);
    let major = f.text("所属专业", MAX_NAME_CHARS, false);
    let built = built?;
    if let Some(updated) = updated
        && updated < built
    {
        f.error("最近更新年份", format!("早于建设年份 {built}"));
        return None;
    }
    Some(Course {
        code: code?,
        name: name?,
        level: level?,
        platform,
        hours: hours?,
        built,
        updated,
        owner,
        major,
    })
}

fn read_enrolment(f: &mut Fields<'_>) -> Option<Enrolment> {
    let course = f.text("课程编号", MAX_NAME_CHARS, true);
    let term = term_field(f);
    let students = f.count("选课人数", 1_000_000, true);
    Some(Enrolment {
        course: course?,
        term: term?,
        students: students?,
    })
}

fn read_measurement(f: &mut Fields<'_>, vocabulary: &CoursesVocabulary) -> Option<Measurement> {
    let course = f.text("课程编号", MAX_NAME_CHARS, true);
    let term = term_field(f);
    let indicator = f.choice("监测指标", &vocabulary.indicator_names(), true);
    let value = f.number("数值", 0.0, 1e9, true);
    Some(Measurement {
        course: course?,
        term: term?,
        indicator: indicator?,
        value: value?,
    })
}

fn read_evaluation(f: &mut Fields<'_>, vocabulary: &CoursesVocabulary) -> Option<Evaluation> {
    let course = f.text("课程编号", MAX_NAME_CHARS, true);
    let term = term_field(f);
    let rater = f.choice("评价主体", &vocabulary.rater_names(), true);
    let score = f.number("平均分", 0.0, 100.0, true);
    let raters = f.count("评价人数", 1_000_000, false);
    Some(Evaluation {
        course: course?,
        term: term?,
        rater: rater?,
        score: score?,
        raters,
    })
}

fn read_feedback(f: &mut Fields<'_>, vocabulary: &CoursesVocabulary) -> Option<Feedback> {
    let code = f.text("反馈编号", MAX_NAME_CHARS, true);
    let course = f.text("课程编号", MAX_NAME_CHARS, true);
    let day = f.day("反馈日期", true);
    let source = f.choice("来源", &vocabulary.feedback_sources, true);
    let text = f.text("问题描述", MAX_TEXT_CHARS, true);
    Some(Feedback {
        code: code?,
        course: course?,
        day: day?,
        source: source?,
        text: text?,
    })
}

fn read_action(f: &mut Fields<'_>, vocabulary: &CoursesVocabulary) -> Option<Action> {
    let code = f.text("措施编号", MAX_NAME_CHARS, true);
    let course = f.text("课程编号", MAX_NAME_CHARS, true);
    let text = f.text("改进措施", MAX_TEXT_CHARS, true);
    let owner = f.text("责任人", MAX_NAME_CHARS, true);
    let due = f.day("截止日期", true);
    let status = f.choice("状态", &vocabulary.statuses(), true);
    let feedback = f.text("反馈编号", MAX_NAME_CHARS, false);
    let done = f.day("完成日期", false);
    let evidence = f.text("佐证", MAX_TEXT_CHARS, false);
    let status = status?;
    if status == vocabulary.closed_status {
        if evidence.is_none() {
            f.error(
                "佐证",
                format!("状态为「{status}」的措施须写明佐证（材料名称或链接）"),
            );
            return None;
        }
        if done.is_none() {
            f.error(
                "完成日期",
                format!("状态为「{status}」的措施须填写完成日期"),
            );
            return None;
        }
    } else if done.is_some() {
        f.error(
            "完成日期",
            format!("措施尚未完成（状态「{status}」），不应有完成日期"),
        );
        return None;
    }
    Some(Action {
        code: code?,
        course: course?,
        feedback,
        text: text?,
        owner: owner?,
        due: due?,
        status,
        done,
        evidence,
    })
}

fn pair(course: &str, term: Term) -> String {
    format!("{course}|{term}")
}

/// Where every imported record came from, by kind and key.
#[derive(Default)]
struct Origins {
    courses: BTreeMap<String, At>,
    enrolments: BTreeMap<String, At>,
    measurements: BTreeMap<String, At>,
    evaluations: BTreeMap<String, At>,
    feedback: BTreeMap<String, At>,
    actions: BTreeMap<String, At>,
}

impl Enrolment {
    pub fn key(&self) -> String {
        pair(&self.course, self.term)
    }
}

impl Measurement {
    pub fn key(&self) -> String {
        format!("{}|{}", pair(&self.course, self.term), self.indicator)
    }
}

impl Evaluation {
    pub fn key(&self) -> String {
        format!("{}|{}", pair(&self.course, self.term), self.rater)
    }
}

/// Why an improvement action could not be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    #[error("没有编号为「{0}」的改进措施")]
    Unknown(String),
    #[error("改进措施「{0}」已经完成")]
    AlreadyClosed(String),
    #[error("须写明佐证（材料名称或链接）才能把措施标为完成")]
    NoEvidence,
    #[error("佐证过长（超过 {0} 个字）")]
    TooLong(usize),
}

impl CoursesRegister {
    /// The register with an import merged in and checked: every record of a known course,
    /// every action's feedback (if named) about the same course.
    pub fn apply(
        &self,
        import: CoursesImport,
        mode: Mode,
    ) -> Result<CoursesRegister, ImportErrors> {
        let mut next = self.clone();
        let mut origins = Origins::default();
        match import {
            CoursesImport::Courses(rows) => {
                (next.courses, origins.courses) =
                    merge(&self.courses, rows, "课程编号", |c| c.code.clone(), mode)?;
            }
            CoursesImport::Enrolments(rows) => {
                (next.enrolments, origins.enrolments) =
                    merge(&self.enrolments, rows, "学期", Enrolment::key, mode)?;
            }
            CoursesImport::Measurements(rows) => {
                (next.measurements, origins.measurements) =
                    merge(&self.measurements, rows, "监测指标", Measurement::key, mode)?;
            }
            CoursesImport::Evaluations(rows) => {
                (next.evaluations, origins.evaluations) =
                    merge(&self.evaluations, rows, "评价主体", Evaluation::key, mode)?;
            }
            CoursesImport::Feedback(rows) => {
                (next.feedback, origins.feedback) =
                    merge(&self.feedback, rows, "反馈编号", |f| f.code.clone(), mode)?;
            }
            CoursesImport::Actions(rows) => {
                (next.actions, origins.actions) =
                    merge(&self.actions, rows, "措施编号", |a| a.code.clone(), mode)?;
            }
        }
        next.check(&origins).or_ok(next)
    }

    fn check(&self, origins: &Origins) -> ImportErrors {
        let mut errors = ImportErrors::default();
        let courses: BTreeSet<&str> = self.courses.iter().map(|c| c.code.as_str()).collect();
        let unknown = |course: &str| format!("没有编号为「{course}」的课程");
        let mut refer = |origin: &BTreeMap<String, At>, key: &str, course: &str, what: &str| {
            if !courses.contains(course) {
                errors.push(problem(origin, key, "课程编号", what, unknown(course)));
            }
        };
        for e in &self.enrolments {
            refer(&origins.enrolments, &e.key(), &e.course, "选课记录");
        }
        for m in &self.measurements {
            refer(&origins.measurements, &m.key(), &m.course, "监测数据");
        }
        for e in &self.evaluations {
            refer(&origins.evaluations, &e.key(), &e.course, "课程评价");
        }
        for f in &self.feedback {
            refer(&origins.feedback, &f.code, &f.course, "问题反馈");
        }
        for a in &self.actions {
            refer(&origins.actions, &a.code, &a.course, "改进措施");
        }
        let feedback: BTreeMap<&str, &Feedback> =
            self.feedback.iter().map(|f| (f.code.as_str(), f)).collect();
        for action in &self.actions {
            let Some(code) = &action.feedback else {
                continue;
            };
            let message = match feedback.get(code.as_str()) {
                None => Some(format!("没有编号为「{code}」的问题反馈")),
                Some(f) if f.course != action.course => Some(format!(
                    "反馈「{code}」是课程「{}」的，不是「{}」的",
                    f.course, action.course
                )),
                Some(_) => None,
            };
            if let Some(message) = message {
                errors.push(problem(
                    &origins.actions,
                    &action.code,
                    "反馈编号",
                    "改进措施",
                    message,
                ));
            }
        }
        errors
    }

    /// Marks an action done on `day`, with the evidence that it was.
    pub fn close_action(
        &self,
        code: &str,
        evidence: &str,
        day: Day,
        vocabulary: &CoursesVocabulary,
    ) -> Result<CoursesRegister, CloseError> {
        let evidence = evidence.trim();
        if evidence.is_empty() {
            return Err(CloseError::NoEvidence);
        }
        if evidence.chars().count() > MAX_TEXT_CHARS {
            return Err(CloseError::TooLong(MAX_TEXT_CHARS));
        }
        let mut next = self.clone();
        let action = next
            .actions
            .iter_mut()
            .find(|a| a.code == code)
            .ok_or_else(|| CloseError::Unknown(code.to_string()))?;
        if action.status == vocabulary.closed_status {
            return Err(CloseError::AlreadyClosed(code.to_string()));
        }
        action.status = vocabulary.closed_status.clone();
        action.done = Some(day);
        action.evidence = Some(evidence.to_string());
        Ok(next)
    }

    pub fn sheet(&self, kind: CoursesKind) -> Sheet {
        let mut sheet = Sheet::new(kind.label(), kind.columns());
        let year = |y: Option<i32>| y.map(f64::from);
        match kind {
            CoursesKind::Courses => {
                for c in &self.courses {
                    sheet.rows.push(vec![
                        c.code.clone().into(),
                        c.name.clone().into(),
                        c.level.clone().into(),
                        c.hours.into(),
                        f64::from(c.built).into(),
                        c.platform.clone().into(),
                        year(c.updated).into(),
                        c.owner.clone().into(),
                        c.major.clone().into(),
                    ]);
                }
            }
            CoursesKind::Enrolments => {
                for e in &self.enrolments {
                    sheet.rows.push(vec![
                        e.course.clone().into(),
                        e.term.to_string().into(),
                        e.students.into(),
                    ]);
                }
            }
            CoursesKind::Measurements => {
                for m in &self.measurements {
                    sheet.rows.push(vec![
                        m.course.clone().into(),
                        m.term.to_string().into(),
                        m.indicator.clone().into(),
                        m.value.into(),
                    ]);
                }
            }
            CoursesKind::Evaluations => {
                for e in &self.evaluations {
                    sheet.rows.push(vec![
                        e.course.clone().into(),
                        e.term.to_string().into(),
                        e.rater.clone().into(),
                        e.score.into(),
                        e.raters.into(),
                    ]);
                }
            }
            CoursesKind::Feedback => {
                for f in &self.feedback {
                    sheet.rows.push(vec![
                        f.code.clone().into(),
                        f.course.clone().into(),
                        f.day.into(),
                        f.source.clone().into(),
                        f.text.clone().into(),
                    ]);
                }
            }
            CoursesKind::Actions => {
                for a in &self.actions {
                    sheet.rows.push(vec![
                        a.code.clone().into(),
                        a.course.clone().into(),
                        a.text.clone().into(),
                        a.owner.clone().into(),
                        a.due.into(),
                        a.status.clone().into(),
                        a.feedback.clone().into(),
                        a.done.into(),
                        a.evidence.clone().into(),
                    ]);
                }
            }
        }
        sheet
    }

    /// One course's loop as a timeline, oldest first.
    pub fn timeline(
        &self,
        code: &str,
        vocabulary: &CoursesVocabulary,
        today: Day,
    ) -> Option<Vec<Step>> {
        let course = self.courses.iter().find(|c| c.code == code)?;
        let mut steps: Vec<Step> = Vec::new();
        let year_start = |year: i32| Day::new(year, 1, 1).unwrap_or(today);
        steps.push(Step {
            at: year_start(course.built),
            when: format!("{} 年", course.built),
            stage: Stage::Build,
            text: format!(
                "建设（{}，{} 学时{}）",
                course.level,
                nianbao_core::number::plain(course.hours),
                course
                    .platform
                    .as_ref()
                    .map(|p| format!("，上线{p}"))
                    .unwrap_or_default()
            ),
            flag: None,
        });
        if let Some(updated) = course.updated.filter(|u| *u > course.built) {
            steps.push(Step {
                at: year_start(updated),
                when: format!("{updated} 年"),
                stage: Stage::Build,
                text: "更新课程内容".into(),
                flag: None,
            });
        }
        for e in self.enrolments.iter().filter(|e| e.course == code) {
            steps.push(Step {
                at: e.term.start(),
                when: e.term.to_string(),
                stage: Stage::Build,
                text: format!("开课，选课 {} 人", e.students),
                flag: None,
            });
        }
        for m in self.measurements.iter().filter(|m| m.course == code) {
            let indicator = vocabulary.indicator.iter().find(|i| i.name == m.indicator);
            let met = indicator.is_none_or(|i| i.met(m.value));
            steps.push(Step {
                at: m.term.start(),
                when: m.term.to_string(),
                stage: Stage::Monitor,
                text: format!(
                    "{} {}{}（目标 {}）",
                    m.indicator,
                    nianbao_core::number::plain(m.value),
                    indicator.map(|i| i.unit.as_str()).unwrap_or(""),
                    indicator.map(|i| i.target_text()).unwrap_or_default()
                ),
                flag: (!met).then_some(Flag::BelowTarget),
            });
        }
        for e in self.evaluations.iter().filter(|e| e.course == code) {
            steps.push(Step {
                at: e.term.start(),
                when: e.term.to_string(),
                stage: Stage::Evaluate,
                text: format!(
                    "{}评价平均 {} 分{}",
                    e.rater,
                    nianbao_core::number::plain(e.score),
                    e.raters.map(|n| format!("（{n} 人）")).unwrap_or_default()
                ),
                flag: None,
            });
        }
        for f in self.feedback.iter().filter(|f| f.course == code) {
            steps.push(Step {
                at: f.day,
                when: f.day.to_string(),
                stage: Stage::Feedback,
                text: format!("{}（{}，{}）", f.text, f.source, f.code),
                flag: None,
            });
        }
        for a in self.actions.iter().filter(|a| a.course == code) {
            let closed = a.status == vocabulary.closed_status;
            let (at, flag, text) = match (closed, a.done) {
                (true, Some(done)) => (
                    done,
                    Flag::Closed,
                    format!(
                        "{}（{}，截止 {}，{} 完成；佐证：{}）",
                        a.text,
                        a.owner,
                        a.due,
                        done,
                        a.evidence.as_deref().unwrap_or("")
                    ),
                ),
                _ => (
                    a.due,
                    if a.due < today {
                        Flag::Overdue
                    } else {
                        Flag::Open
                    },
                    format!("{}（{}，截止 {}，{}）", a.text, a.owner, a.due, a.status),
                ),
            };
            steps.push(Step {
                at,
                when: at.to_string(),
                stage: Stage::Improve,
                text,
                flag: Some(flag),
            });
        }
        steps.sort_by_key(|s| (s.at, s.stage));
        Some(steps)
    }

    /// The stage each course's loop has reached, and its open actions, for a list.
    pub fn summaries(&self, vocabulary: &CoursesVocabulary, today: Day) -> Vec<CourseSummary> {
        self.courses
            .iter()
            .map(|c| {
                let open: Vec<&Action> = self
                    .actions
                    .iter()
                    .filter(|a| a.course == c.code && a.status != vocabulary.closed_status)
                    .collect();
                let latest_term = self
                    .enrolments
                    .iter()
                    .filter(|e| e.course == c.code)
                    .max_by_key(|e| e.term);
                CourseSummary {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    level: c.level.clone(),
                    platform: c.platform.clone(),
                    hours: c.hours,
                    latest_term: latest_term.map(|e| e.term.to_string()),
                    latest_students: latest_term.map(|e| e.students),
                    feedback: self.feedback.iter().filter(|f| f.course == c.code).count(),
                    open_actions: open.len(),
                    overdue_actions: open.iter().filter(|a| a.due < today).count(),
                    closed_actions: self
                        .actions
                        .iter()
                        .filter(|a| a.course == c.code && a.status == vocabulary.closed_status)
                        .count(),
                }
            })
            .collect()
    }

    /// The figures of one year.
    pub fn figures(&self, year: i32, vocabulary: &CoursesVocabulary) -> Vec<(String, f64)> {
        let mut figures: Vec<(String, f64)> = Vec::new();
        let courses: Vec<&Course> = self.courses.iter().filter(|c| c.built <= year).collect();
        if !courses.is_empty() {
            let count =
                |keep: &dyn Fn(&Course) -> bool| courses.iter().filter(|c| keep(c)).count() as f64;
            figures.extend([
                ("register.courses.total".to_string(), courses.len() as f64),
                (
                    "register.courses.online".into(),
                    count(&|c| c.platform.is_some()),
                ),
                (
                    "register.courses.national_platform".into(),
                    count(&|c| {
                        c.platform
                            .as_ref()
                            .is_some_and(|p| vocabulary.national_platforms.contains(p))
                    }),
                ),
                ("register.courses.new".into(), count(&|c| c.built == year)),
                (
                    "register.courses.updated".into(),
                    count(&|c| c.updated == Some(year) && c.built < year),
                ),
                (
                    "register.courses.hours".into(),
                    courses.iter().map(|c| c.hours).sum(),
                ),
            ]);
            for level in &vocabulary.level {
                figures.push((level.element.clone(), count(&|c| c.level == level.name)));
            }
        }
        let enrolments: Vec<&Enrolment> = self
            .enrolments
            .iter()
            .filter(|e| e.term.year() == year)
            .collect();
        if !enrolments.is_empty() {
            let total: f64 = enrolments.iter().map(|e| f64::from(e.students)).sum();
            let taught: BTreeSet<&str> = enrolments.iter().map(|e| e.course.as_str()).collect();
            figures.push(("register.courses.enrolment".into(), total));
            figures.push((
                "register.courses.students_per_course".into(),
                total / taught.len() as f64,
            ));
        }
        for rater in &vocabulary.rater {
            let scores: Vec<&Evaluation> = self
                .evaluations
                .iter()
                .filter(|e| e.term.year() == year && e.rater == rater.name)
                .collect();
            let weight = |e: &Evaluation| f64::from(e.raters.unwrap_or(1).max(1));
            let weights: f64 = scores.iter().map(|e| weight(e)).sum();
            if weights > 0.0 {
                let mean = scores.iter().map(|e| e.score * weight(e)).sum::<f64>() / weights;
                figures.push((rater.element.clone(), mean));
            }
        }
        let measured: Vec<&Measurement> = self
            .measurements
            .iter()
            .filter(|m| m.term.year() == year)
            .collect();
        if !measured.is_empty() {
            let below = measured
                .iter()
                .filter(|m| {
                    vocabulary
                        .indicator
                        .iter()
                        .find(|i| i.name == m.indicator)
                        .is_some_and(|i| !i.met(m.value))
                })
                .count();
            figures.push(("register.courses.below_target".into(), below as f64));
        }
        let feedback = self
            .feedback
            .iter()
            .filter(|f| f.day.year() == year)
            .count();
        if feedback > 0 {
            figures.push(("register.courses.feedback".into(), feedback as f64));
        }
        let due: Vec<&Action> = self
            .actions
            .iter()
            .filter(|a| a.due.year() == year)
            .collect();
        if !due.is_empty() {
            figures.push(("register.courses.actions_due".into(), due.len() as f64));
            figures.push((
                "register.courses.actions_closed".into(),
                due.iter()
                    .filter(|a| a.status == vocabulary.closed_status)
                    .count() as f64,
            ));
        }
        figures
    }

    pub fn facts(&self, vocabulary: &CoursesVocabulary, this_year: i32) -> Vec<RegisterFact> {
        if self.courses.is_empty() {
            return Vec::new();
        }
        let years = self
            .courses
            .iter()
            .map(|c| c.built)
            .chain(self.enrolments.iter().map(|e| e.term.year()))
            .chain(self.feedback.iter().map(|f| f.day.year()))
            .chain(self.actions.iter().map(|a| a.due.year()));
        covered_years(years, this_year)
            .into_iter()
            .flat_map(|year| {
                self.figures(year, vocabulary)
                    .into_iter()
                    .filter_map(move |(code, value)| RegisterFact::new(year, &code, value))
            })
            .collect()
    }
}

/// The stages of the loop, in the order they follow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Stage {
    Build,
    Monitor,
    Evaluate,
    Feedback,
    Improve,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Build => "建设",
            Stage::Monitor => "监测",
            Stage::Evaluate => "评价",
            Stage::Feedback => "反馈",
            Stage::Improve => "改进",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Stage::Build => "build",
            Stage::Monitor => "monitor",
            Stage::Evaluate => "evaluate",
            Stage::Feedback => "feedback",
            Stage::Improve => "improve",
        }
    }
}

/// What needs attention on a step of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Flag {
    BelowTarget,
    Open,
    Overdue,
    Closed,
}

impl Flag {
    pub fn label(self) -> &'static str {
        match self {
            Flag::BelowTarget => "未达标",
            Flag::Open => "进行中",
            Flag::Overdue => "已逾期",
            Flag::Closed => "已完成",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Flag::BelowTarget => "below",
            Flag::Open => "open",
            Flag::Overdue => "overdue",
            Flag::Closed => "closed",
        }
    }
}

/// One step of a course's loop.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The day the step is placed at (a term's start, a year's first day, a date).
    pub at: Day,
    /// As shown: a date, a term or a year.
    pub when: String,
    pub stage: Stage,
    pub text: String,
    pub flag: Option<Flag>,
}

/// One course in the list of courses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CourseSummary {
    pub code: String,
    pub name: String,
    pub level: String,
    pub platform: Option<String>,
    pub hours: f64,
    pub latest_term: Option<String>,
    pub latest_students: Option<u32>,
    pub feedback: usize,
    pub open_actions: usize,
    pub overdue_actions: usize,
    pub closed_actions: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_file;
    use crate::vocab::Vocabulary;

    fn vocabulary() -> CoursesVocabulary {
        let definitions = nianbao_core::Definitions::builtin().unwrap();
        Vocabulary::builtin(&definitions).unwrap().courses
    }

    fn import(kind: CoursesKind, text: &str) -> Result<CoursesImport, ImportErrors> {
        let table = read_file(
            "t.csv",
            text.as_bytes(),
            "",
            kind.columns(),
            &nianbao_xlsx::Limits::default(),
        )?;
        read(kind, &table, &vocabulary())
    }

    fn register() -> CoursesRegister {
        let mut register = CoursesRegister::default();
        for (kind, text) in [
            (
                CoursesKind::Courses,
                "课程编号,课程名称,课程级别,学时,建设年份,上线平台,最近更新年份\nK1,汽车电气,省级,64,2023,国家职业教育智慧教育平台,2025\nK2,网店运营,校级,48,2025,学校网络教学平台,\nK3,语文,校级,120,2020,,\n",
            ),
            (
                CoursesKind::Enrolments,
                "课程编号,学期,选课人数\nK1,2024-2025-2,500\nK1,2025-2026-1,620\nK2,2025-2026-1,300\n",
            ),
            (
                CoursesKind::Measurements,
                "课程编号,学期,监测指标,数值\nK1,2025-2026-1,学生到课率,86\nK1,2025-2026-1,学生投诉件数,1\n",
            ),
            (
                CoursesKind::Evaluations,
                "课程编号,学期,评价主体,平均分,评价人数\nK1,2025-2026-1,学生,90,300\nK2,2025-2026-1,学生,80,100\n",
            ),
            (
                CoursesKind::Feedback,
                "反馈编号,课程编号,反馈日期,来源,问题描述\nF1,K1,2025-10-10,监测预警,到课率低于目标\n",
            ),
            (
                CoursesKind::Actions,
                "措施编号,课程编号,反馈编号,改进措施,责任人,截止日期,状态,完成日期,佐证\nA1,K1,F1,增加课堂互动,王老师,2025-11-30,已完成,2025-11-20,教研记录2025-11\nA2,K1,F1,调整上课时间,教务处,2025-12-31,进行中,,\n",
            ),
        ] {
            register = register
                .apply(import(kind, text).unwrap(), Mode::Upsert)
                .unwrap();
        }
        register
    }

    #[test]
    fn terms_are_counted_in_their_calendar_year() {
        let autumn = Term::parse("2025-2026-1").unwrap();
        assert_eq!(
            (autumn.year(), autumn.to_string()),
            (2025, "2025-2026-1".into())
        );
        assert_eq!(Term::parse("2025-2026-2").unwrap().year(), 2026);
        assert!(Term::parse("2025-2027-1").is_none());
        assert!(Term::parse("2025-2026-3").is_none());
    }

    #[test]
    fn figures_of_section_two_three_come_from_the_register() {
        let figures: BTreeMap<String, f64> = register()
            .figures(2025, &vocabulary())
            .into_iter()
            .collect();
        assert_eq!(figures["register.courses.total"], 3.0);
        assert_eq!(figures["register.courses.online"], 2.0);
        assert_eq!(figures["register.courses.national_platform"], 1.0);
        assert_eq!(figures["register.courses.level.school"], 2.0);
        assert_eq!(figures["register.courses.new"], 1.0);
        assert_eq!(figures["register.courses.updated"], 1.0);
        assert_eq!(figures["register.courses.hours"], 232.0);
        assert_eq!(figures["register.courses.enrolment"], 1420.0);
        assert_eq!(figures["register.courses.students_per_course"], 710.0);
        assert_eq!(figures["register.courses.score.student"], 87.5);
        assert_eq!(figures["register.courses.below_target"], 1.0);
        assert_eq!(figures["register.courses.actions_due"], 2.0);
        assert_eq!(figures["register.courses.actions_closed"], 1.0);
    }

    #[test]
    fn an_action_closes_only_with_evidence() {
        let error = import(
            CoursesKind::Actions,
            "措施编号,课程编号,改进措施,责任人,截止日期,状态,完成日期\nA3,K1,x,王老师,2025-11-30,已完成,2025-11-20\n",
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("第 2 行 「佐证」：状态为「已完成」的措施须写明佐证"),
            "{error}"
        );
        let register = register();
        let day = Day::new(2025, 12, 20).unwrap();
        assert_eq!(
            register.close_action("A2", "  ", day, &vocabulary()),
            Err(CloseError::NoEvidence)
        );
        let closed = register
            .close_action("A2", "课表调整通知", day, &vocabulary())
            .unwrap();
        let steps = closed.timeline("K1", &vocabulary(), day).unwrap();
        let last = steps.last().unwrap();
        assert_eq!(
            (last.stage, last.flag),
            (Stage::Improve, Some(Flag::Closed))
        );
        assert!(last.text.contains("课表调整通知"), "{}", last.text);
    }

    #[test]
    fn the_timeline_runs_build_monitor_evaluate_feedback_improve() {
        let today = Day::new(2026, 1, 15).unwrap();
        let steps = register().timeline("K1", &vocabulary(), today).unwrap();
        let stages: Vec<&str> = steps.iter().map(|s| s.stage.label()).collect();
        assert_eq!(
            stages,
            [
                "建设", "建设", "建设", "建设", "监测", "监测", "评价", "反馈", "改进", "改进"
            ]
        );
        assert_eq!(steps[4].flag, Some(Flag::BelowTarget));
        assert_eq!(steps.last().unwrap().flag, Some(Flag::Overdue));
    }

    #[test]
    fn records_of_unknown_courses_are_refused_at_their_row() {
        let error = register()
            .apply(
                import(
                    CoursesKind::Enrolments,
                    "课程编号,学期,选课人数\nK1,2025-2026-2,10\nK9,2025-2026-1,10\n",
                )
                .unwrap(),
                Mode::Upsert,
            )
            .unwrap_err();
        assert_eq!(
            error.list[0].to_string(),
            "t.csv 第 3 行 第 1 列（课程编号）：没有编号为「K9」的课程"
        );
    }
}
