//! The records of the archive as the counsellor sees them once opened: a student's identity,
//! screenings (instrument, date, score, risk level), counselling (one student, a group or a
//! lecture) and follow-ups; reading them from import files, merging and checking an import,
//! and writing them back out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::register::{Mode, merge};
use crate::table::{
    At, Columns, Fields, ImportError, ImportErrors, Located, MAX_NAME_CHARS, MAX_TEXT_CHARS, Sheet,
    Table,
};
use crate::vocab::PsychVocabulary;

/// Who an archive belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub student_no: String,
    pub name: String,
    pub class: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    pub record_no: String,
    pub student_no: String,
    pub instrument: String,
    pub day: Day,
    pub score: f64,
    pub risk: String,
    pub note: Option<String>,
}

/// A counselling record: one student (个体辅导), or a group session or a lecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counselling {
    pub record_no: String,
    pub form: String,
    /// The student, for 个体辅导 only.
    pub student_no: Option<String>,
    pub day: Day,
    pub minutes: Option<u32>,
    /// How many took part, for a group session or a lecture.
    pub participants: Option<u32>,
    pub counsellor: Option<String>,
    pub topic: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub record_no: String,
    pub student_no: String,
    pub day: Day,
    pub method: String,
    pub note: Option<String>,
    pub next: Option<Day>,
}

/// The whole archive of a school, opened.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PsychRecords {
    /// By 学号.
    pub identities: BTreeMap<String, Identity>,
    pub screenings: Vec<Screening>,
    pub sessions: Vec<Counselling>,
    pub followups: Vec<FollowUp>,
}

/// The lists of the archive, each imported and exported on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsychKind {
    Screenings,
    Sessions,
    FollowUps,
}

pub const SCREENING_COLUMNS: Columns = Columns {
    required: &[
        "记录编号",
        "学号",
        "姓名",
        "量表",
        "筛查日期",
        "得分",
        "风险等级",
    ],
    optional: &["班级", "备注"],
};
pub const SESSION_COLUMNS: Columns = Columns {
    required: &["记录编号", "形式", "日期"],
    optional: &[
        "学号",
        "姓名",
        "班级",
        "时长（分钟）",
        "参加人数",
        "辅导教师",
        "主题",
        "记录",
    ],
};
pub const FOLLOWUP_COLUMNS: Columns = Columns {
    required: &["记录编号", "学号", "跟进日期", "方式"],
    optional: &["姓名", "班级", "情况记录", "下次跟进日期"],
};

impl PsychKind {
    pub const ALL: [PsychKind; 3] = [
        PsychKind::Screenings,
        PsychKind::Sessions,
        PsychKind::FollowUps,
    ];

    /// The code of the kind, also the kind of record the store seals it as.
    pub fn code(self) -> &'static str {
        match self {
            PsychKind::Screenings => "screenings",
            PsychKind::Sessions => "sessions",
            PsychKind::FollowUps => "followups",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PsychKind::Screenings => "心理筛查",
            PsychKind::Sessions => "心理辅导",
            PsychKind::FollowUps => "跟进回访",
        }
    }

    pub fn columns(self) -> &'static Columns {
        match self {
            PsychKind::Screenings => &SCREENING_COLUMNS,
            PsychKind::Sessions => &SESSION_COLUMNS,
            PsychKind::FollowUps => &FOLLOWUP_COLUMNS,
        }
    }

    pub fn from_code(code: &str) -> Option<PsychKind> {
        PsychKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Identity fields given on an import row.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenIdentity {
    pub student_no: String,
    pub name: Option<String>,
    pub class: Option<String>,
}

/// One row of an import.
#[derive(Debug, Clone, PartialEq)]
pub enum PsychRecord {
    Screening(Screening),
    Session(Counselling),
    FollowUp(FollowUp),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PsychRow {
    pub identity: Option<GivenIdentity>,
    pub record: PsychRecord,
}

/// Reads the rows of a table of one kind.
pub fn read(
    kind: PsychKind,
    table: &Table,
    vocabulary: &PsychVocabulary,
) -> Result<Vec<Located<PsychRow>>, ImportErrors> {
    table.records(|f| match kind {
        PsychKind::Screenings => read_screening(f, vocabulary),
        PsychKind::Sessions => read_session(f, vocabulary),
        PsychKind::FollowUps => read_followup(f, vocabulary),
    })
}

fn given(f: &mut Fields<'_>, student_no: Option<String>) -> Option<GivenIdentity> {
    let name = f.text("姓名", MAX_NAME_CHARS, false);
    let class = f.text("班级", MAX_NAME_CHARS, false);
    student_no.map(|student_no| GivenIdentity {
        student_no,
        name,
        class,
    })
}

fn read_screening(f: &mut Fields<'_>, vocabulary: &PsychVocabulary) -> Option<PsychRow> {
    let record_no = f.text("记录编号", MAX_NAME_CHARS, true);
    let student_no = f.text("学号", MAX_NAME_CHARS, true);
    let identity = given(f, student_no.clone());
    let instrument = f.choice("量表", &vocabulary.instruments, true);
    let day = f.day("筛查日期", true);
    let score = f.number("得分", 0.0, 10_000.0, true);
    let risk = f.choice("风险等级", &vocabulary.risk_names(), true);
    let note = f.text("备注", MAX_TEXT_CHARS, false);
    if identity.as_ref().is_some_and(|i| i.name.is_none()) {
        f.error("姓名", "不能为空");
        return None;
    }
    Some(PsychRow {
        identity,
        record: PsychRecord::Screening(Screening {
            record_no: record_no?,
            student_no: student_no?,
            instrument: instrument?,
            day: day?,
            score: score?,
            risk: risk?,
            note,
        }),
    })
}

fn read_session(f: &mut Fields<'_>, vocabulary: &PsychVocabulary) -> Option<PsychRow> {
    let record_no = f.text("记录编号", MAX_NAME_CHARS, true);
    let form = f.choice("形式", &vocabulary.forms(), true)?;
    let individual = form == vocabulary.individual_form;
    let student_no = f.text("学号", MAX_NAME_CHARS, individual);
    let identity = given(f, student_no.clone());
    let day = f.day("日期", true);
    let minutes = f.count("时长（分钟）", 24 * 60, false);
    let participants = f.count("参加人数", 100_000, !individual);
    let counsellor = f.text("辅导教师", MAX_NAME_CHARS, false);
    let topic = f.text("主题", MAX_NAME_CHARS, false);
    let note = f.text("记录", MAX_TEXT_CHARS, false);
    if individual && student_no.is_none() {
        return None;
    }
    if !individual && student_no.is_some() {
        f.error("学号", format!("「{form}」不针对某一名学生，学号应留空"));
        return None;
    }
    Some(PsychRow {
        identity,
        record: PsychRecord::Session(Counselling {
            record_no: record_no?,
            form,
            student_no,
            day: day?,
            minutes,
            participants: if individual { None } else { participants },
            counsellor,
            topic,
            note,
        }),
    })
}

fn read_followup(f: &mut Fields<'_>, vocabulary: &PsychVocabulary) -> Option<PsychRow> {
    let record_no = f.text("记录编号", MAX_NAME_CHARS, true);
    let student_no = f.text("学号", MAX_NAME_CHARS, true);
    let identity = given(f, student_no.clone());
    let day = f.day("跟进日期", true);
    let method = f.choice("方式", &vocabulary.followup_methods, true);
    let note = f.text("情况记录", MAX_TEXT_CHARS, false);
    let next = f.day("下次跟进日期", false);
    if let (Some(day), Some(next)) = (day, next)
        && next < day
    {
        f.error("下次跟进日期", format!("早于本次跟进日期 {day}"));
        return None;
    }
    Some(PsychRow {
        identity,
        record: PsychRecord::FollowUp(FollowUp {
            record_no: record_no?,
            student_no: student_no?,
            day: day?,
            method: method?,
            note,
            next,
        }),
    })
}

impl PsychRecords {
    /// The archive with an import of one kind merged in and checked: every student named
    /// once with one name, every follow-up and individual session about a student who has
    /// an archive. Students left without any record lose their archive.
    pub fn apply(
        &self,
        kind: PsychKind,
        rows: Vec<Located<PsychRow>>,
        mode: Mode,
    ) -> Result<PsychRecords, ImportErrors> {
        let mut errors = ImportErrors::default();
        let mut next = self.clone();
        let mut named_at: BTreeMap<String, (At, String)> = BTreeMap::new();
        for row in &rows {
            let Some(given) = &row.record.identity else {
                continue;
            };
            let Some(name) = &given.name else { continue };
            if let Some((_, earlier)) = named_at.get(&given.student_no)
                && earlier != name
            {
                errors.push(row.at.error(
                    "姓名",
                    format!("学号「{}」在文件中另有姓名「{earlier}」", given.student_no),
                ));
                continue;
            }
            named_at.insert(given.student_no.clone(), (row.at.clone(), name.clone()));
            match next.identities.get_mut(&given.student_no) {
                Some(identity) if identity.name != *name => errors.push(row.at.error(
                    "姓名",
                    format!(
                        "学号「{}」已登记为「{}」，与本行的「{name}」不符",
                        given.student_no, identity.name
                    ),
                )),
                Some(identity) => {
                    if given.class.is_some() {
                        identity.class.clone_from(&given.class);
                    }
                }
                None => {
                    next.identities.insert(
                        given.student_no.clone(),
                        Identity {
                            student_no: given.student_no.clone(),
                            name: name.clone(),
                            class: given.class.clone(),
                        },
                    );
                }
            }
        }
        let mut origin_of_student: BTreeMap<String, At> = BTreeMap::new();
        for row in &rows {
            if let Some(given) = &row.record.identity {
                origin_of_student
                    .entry(given.student_no.clone())
                    .or_insert_with(|| row.at.clone());
            }
        }
        match kind {
            PsychKind::Screenings => {
                let imported = only(rows, |r| match r {
                    PsychRecord::Screening(s) => Some(s),
                    _ => None,
                });
                let (merged, _) = merge(
                    &self.screenings,
                    imported,
                    "记录编号",
                    |s| s.record_no.clone(),
                    mode,
                )?;
                next.screenings = merged;
            }
            PsychKind::Sessions => {
                let imported = only(rows, |r| match r {
                    PsychRecord::Session(s) => Some(s),
                    _ => None,
                });
                let (merged, _) = merge(
                    &self.sessions,
                    imported,
                    "记录编号",
                    |s| s.record_no.clone(),
                    mode,
                )?;
                next.sessions = merged;
            }
            PsychKind::FollowUps => {
                let imported = only(rows, |r| match r {
                    PsychRecord::FollowUp(s) => Some(s),
                    _ => None,
                });
                let (merged, _) = merge(
                    &self.followups,
                    imported,
                    "记录编号",
                    |s| s.record_no.clone(),
                    mode,
                )?;
                next.followups = merged;
            }
        }
        let mut students = next.students();
        for student in &students {
            if !next.identities.contains_key(student) {
                let message = format!("学号「{student}」还没有心理档案：请填写姓名");
                let error = match origin_of_student.get(student) {
                    Some(at) => at.error("姓名", message),
                    None => ImportError::register(message),
                };
                errors.push(error);
            }
        }
        students.retain(|s| next.identities.contains_key(s));
        next.identities.retain(|no, _| students.contains(no));
        errors.or_ok(next)
    }

    /// Every 学号 with at least one record.
    pub fn students(&self) -> BTreeSet<String> {
        self.screenings
            .iter()
            .map(|s| s.student_no.clone())
            .chain(self.sessions.iter().filter_map(|s| s.student_no.clone()))
            .chain(self.followups.iter().map(|f| f.student_no.clone()))
            .collect()
    }

    /// The last day with a record of the student.
    pub fn last_day(&self, student_no: &str) -> Option<Day> {
        self.screenings
            .iter()
            .filter(|s| s.student_no == student_no)
            .map(|s| s.day)
            .chain(
                self.sessions
                    .iter()
                    .filter(|s| s.student_no.as_deref() == Some(student_no))
                    .map(|s| s.day),
            )
            .chain(
                self.followups
                    .iter()
                    .filter(|f| f.student_no == student_no)
                    .map(|f| f.day),
            )
            .max()
    }

    /// The day a student's archive is to be deleted: `years` after the last record.
    pub fn retain_until(&self, student_no: &str, years: u32) -> Option<Day> {
        self.last_day(student_no)
            .map(|day| day.plus_years(years as i32))
    }

    /// One student's archive, records by date.
    pub fn archive(&self, student_no: &str) -> Option<Archive> {
        let identity = self.identities.get(student_no)?.clone();
        let mut events: Vec<ArchiveEvent> = Vec::new();
        for s in self
            .screenings
            .iter()
            .filter(|s| s.student_no == student_no)
        {
            events.push(ArchiveEvent::Screening(s.clone()));
        }
        for s in self
            .sessions
            .iter()
            .filter(|s| s.student_no.as_deref() == Some(student_no))
        {
            events.push(ArchiveEvent::Session(s.clone()));
        }
        for f in self.followups.iter().filter(|f| f.student_no == student_no) {
            events.push(ArchiveEvent::FollowUp(f.clone()));
        }
        events.sort_by_key(|e| (e.day(), e.record_no().to_string()));
        Some(Archive { identity, events })
    }

    /// The records of one kind as a sheet to export, with each student's name and class.
    pub fn sheet(&self, kind: PsychKind) -> Sheet {
        let mut sheet = Sheet::new(kind.label(), kind.columns());
        let name = |no: &str| self.identities.get(no).map(|i| i.name.clone());
        let class = |no: &str| self.identities.get(no).and_then(|i| i.class.clone());
        match kind {
            PsychKind::Screenings => {
                for s in &self.screenings {
                    sheet.rows.push(vec![
                        s.record_no.clone().into(),
                        s.student_no.clone().into(),
                        name(&s.student_no).into(),
                        s.instrument.clone().into(),
                        s.day.into(),
                        s.score.into(),
                        s.risk.clone().into(),
                        class(&s.student_no).into(),
                        s.note.clone().into(),
                    ]);
                }
            }
            PsychKind::Sessions => {
                for s in &self.sessions {
                    let no = s.student_no.as_deref().unwrap_or("");
                    sheet.rows.push(vec![
                        s.record_no.clone().into(),
                        s.form.clone().into(),
                        s.day.into(),
                        s.student_no.clone().into(),
                        name(no).into(),
                        class(no).into(),
                        s.minutes.into(),
                        s.participants.into(),
                        s.counsellor.clone().into(),
                        s.topic.clone().into(),
                        s.note.clone().into(),
                    ]);
                }
            }
            PsychKind::FollowUps => {
                for f in &self.followups {
                    sheet.rows.push(vec![
                        f.record_no.clone().into(),
                        f.student_no.clone().into(),
                        f.day.into(),
                        f.method.clone().into(),
                        name(&f.student_no).into(),
                        class(&f.student_no).into(),
                        f.note.clone().into(),
                        f.next.into(),
                    ]);
                }
            }
        }
        sheet
    }

    /// The highest risk level of each student screened in `year`, by 学号.
    pub fn highest_risk(&self, year: i32, vocabulary: &PsychVocabulary) -> BTreeMap<String, usize> {
        let rank = |risk: &str| vocabulary.risk.iter().position(|r| r.name == risk);
        let mut highest: BTreeMap<String, usize> = BTreeMap::new();
        for s in self.screenings.iter().filter(|s| s.day.year() == year) {
            if let Some(level) = rank(&s.risk) {
                let entry = highest.entry(s.student_no.clone()).or_insert(level);
                *entry = (*entry).max(level);
            }
        }
        highest
    }
}

fn only<T>(
    rows: Vec<Located<PsychRow>>,
    pick: impl Fn(PsychRecord) -> Option<T>,
) -> Vec<Located<T>> {
    rows.into_iter()
        .filter_map(|row| {
            let at = row.at;
            pick(row.record.record).map(|record| Located { at, record })
        })
        .collect()
}

/// One entry of a student's archive.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchiveEvent {
    Screening(Screening),
    Session(Counselling),
    FollowUp(FollowUp),
}

impl ArchiveEvent {
    pub fn day(&self) -> Day {
        match self {
            ArchiveEvent::Screening(s) => s.day,
            ArchiveEvent::Session(s) => s.day,
            ArchiveEvent::FollowUp(f) => f.day,
        }
    }

    pub fn record_no(&self) -> &str {
        match self {
            ArchiveEvent::Screening(s) => &s.record_no,
            ArchiveEvent::Session(s) => &s.record_no,
            ArchiveEvent::FollowUp(f) => &f.record_no,
        }
    }
}

/// A student's archive (一人一档): who, and every record by date.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    pub identity: Identity,
    pub events: Vec<ArchiveEvent>,
}
