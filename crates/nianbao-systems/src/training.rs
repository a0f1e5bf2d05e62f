//! 社会培训登记: the school's training classes for people outside it (title, audience from
//! the vocabulary, start and end, hours, place, who commissioned or funded it, how many
//! took part — counts only, no personal data) and its 职业技能等级认定 batches (occupation,
//! level, how many were assessed and certified). From them the figures of report sections
//! 3.1 and 3.2: classes, person-times by audience, 乡村振兴 training, certification.
//!
//! A class counts in the year it ends; a certification batch in the year it was assessed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::register::{Mode, RegisterFact, covered_years, merge, problem};
use crate::table::{Columns, Fields, ImportErrors, Located, MAX_NAME_CHARS, Sheet, Table};
use crate::vocab::TrainingVocabulary;

/// One training class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingClass {
    pub code: String,
    pub title: String,
    pub audience: String,
    pub start: Day,
    pub end: Day,
    pub hours: f64,
    pub trainees: u32,
    pub place: Option<String>,
    pub funder: Option<String>,
}

/// One batch of 职业技能等级认定.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certification {
    pub batch: String,
    pub occupation: String,
    pub level: String,
    pub day: Day,
    pub assessed: u32,
    pub certified: u32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingRegister {
    pub classes: Vec<TrainingClass>,
    pub certifications: Vec<Certification>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingKind {
    Classes,
    Certifications,
}

pub const CLASS_COLUMNS: Columns = Columns {
    required: &[
        "班级编号",
        "培训项目",
        "培训对象",
        "开班日期",
        "结业日期",
        "学时",
        "参训人数",
    ],
    optional: &["培训地点", "委托或资助单位"],
};
pub const CERTIFICATION_COLUMNS: Columns = Columns {
    required: &[
        "批次编号",
        "职业（工种）",
        "等级",
        "认定日期",
        "参加认定人数",
        "取得证书人数",
    ],
    optional: &[],
};

impl TrainingKind {
    pub const ALL: [TrainingKind; 2] = [TrainingKind::Classes, TrainingKind::Certifications];

    pub fn code(self) -> &'static str {
        match self {
            TrainingKind::Classes => "classes",
            TrainingKind::Certifications => "certifications",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrainingKind::Classes => "培训班",
            TrainingKind::Certifications => "技能等级认定",
        }
    }

    pub fn columns(self) -> &'static Columns {
        match self {
            TrainingKind::Classes => &CLASS_COLUMNS,
            TrainingKind::Certifications => &CERTIFICATION_COLUMNS,
        }
    }

    pub fn from_code(code: &str) -> Option<TrainingKind> {
        TrainingKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone)]
pub enum TrainingImport {
    Classes(Vec<Located<TrainingClass>>),
    Certifications(Vec<Located<Certification>>),
}

pub fn read(
    kind: TrainingKind,
    table: &Table,
    vocabulary: &TrainingVocabulary,
) -> Result<TrainingImport, ImportErrors> {
    Ok(match kind {
        TrainingKind::Classes => {
            TrainingImport::Classes(table.records(|f| read_class(f, vocabulary))?)
        }
        TrainingKind::Certifications => {
            TrainingImport::Certifications(table.records(|f| read_certification(f, vocabulary))?)
        }
    })
}

fn read_class(f: &mut Fields<'_>, vocabulary: &TrainingVocabulary) -> Option<TrainingClass> {
    let code = f.text("班级编号", MAX_NAME_CHARS, true);
    let title = f.text("培训项目", MAX_NAME_CHARS, true);
    let audience = f.choice("培训对象", &vocabulary.audience_names(), true);
    let start = f.day("开班日期", true);
    let end = f.day("结业日期", true);
    let hours = f.number("学时", 0.5, 5000.0, true);
    let trainees = f.count("参训人数", 100_000, true);
    let place = f.text("培训地点", MAX_NAME_CHARS, false);
    let funder = f.text("委托或资助单位", MAX_NAME_CHARS, false);
    let (start, end) = (start?, end?);
    if end < start {
        f.error("结业日期", format!("早于开班日期 {start}"));
        return None;
    }
    if trainees == Some(0) {
        f.error("参训人数", "应至少为 1");
        return None;
    }
    Some(TrainingClass {
        code: code?,
        title: title?,
        audience: audience?,
        start,
        end,
        hours: hours?,
        trainees: trainees?,
        place,
        funder,
    })
}

fn read_certification(
    f: &mut Fields<'_>,
    vocabulary: &TrainingVocabulary,
) -> Option<Certification> {
    let batch = f.text("批次编号", MAX_NAME_CHARS, true);
    let occupation = f.text("职业（工种）", MAX_NAME_CHARS, true);
    let level = f.choice("等级", &vocabulary.levels, true);
    let day = f.day("认定日期", true);
    let assessed = f.count("参加认定人数", 100_000, true);
    let certified = f.count("取得证书人数", 100_000, true);
    let (assessed, certified) = (assessed?, certified?);
    if certified > assessed {
        f.error(
            "取得证书人数",
            format!("{certified} 人多于参加认定的 {assessed} 人"),
        );
        return None;
    }
    Some(Certification {
        batch: batch?,
        occupation: occupation?,
        level: level?,
        day: day?,
        assessed,
        certified,
    })
}

/// Person-times of one audience in a year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudienceRow {
    pub audience: String,
    pub classes: usize,
    pub trainees: u32,
    pub rural: bool,
}

/// Certification of one occupation and level in a year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertificationRow {
    pub occupation: String,
    pub level: String,
    pub assessed: u32,
    pub certified: u32,
}

impl TrainingRegister {
    /// The register with an import merged in and checked. Classes' audiences must still be
    /// in the vocabulary (a renamed audience is named at the stored class).
    pub fn apply(
        &self,
        import: TrainingImport,
        mode: Mode,
        vocabulary: &TrainingVocabulary,
    ) -> Result<TrainingRegister, ImportErrors> {
        let mut next = self.clone();
        let mut origin = BTreeMap::new();
        match import {
            TrainingImport::Classes(rows) => {
                let (merged, o) = merge(&self.classes, rows, "班级编号", |c| c.code.clone(), mode)?;
                next.classes = merged;
                origin = o;
            }
            TrainingImport::Certifications(rows) => {
                let (merged, _) = merge(
                    &self.certifications,
                    rows,
                    "批次编号",
                    |c| c.batch.clone(),
                    mode,
                )?;
                next.certifications = merged;
            }
        }
        let mut errors = ImportErrors::default();
        let audiences = vocabulary.audience_names();
        for class in &next.classes {
            if !audiences.contains(&class.audience) {
                errors.push(problem(
                    &origin,
                    &class.code,
                    "培训对象",
                    "培训班",
                    format!("培训对象「{}」已不在培训对象列表中", class.audience),
                ));
            }
        }
        errors.or_ok(next)
    }

    pub fn sheet(&self, kind: TrainingKind) -> Sheet {
        let mut sheet = Sheet::new(kind.label(), kind.columns());
        match kind {
            TrainingKind::Classes => {
                for c in &self.classes {
                    sheet.rows.push(vec![
                        c.code.clone().into(),
                        c.title.clone().into(),
                        c.audience.clone().into(),
                        c.start.into(),
                        c.end.into(),
                        c.hours.into(),
                        c.trainees.into(),
                        c.place.clone().into(),
                        c.funder.clone().into(),
                    ]);
                }
            }
            TrainingKind::Certifications => {
                for c in &self.certifications {
                    sheet.rows.push(vec![
                        c.batch.clone().into(),
                        c.occupation.clone().into(),
                        c.level.clone().into(),
                        c.day.into(),
                        c.assessed.into(),
                        c.certified.into(),
                    ]);
                }
            }
        }
        sheet
    }

    /// Classes and person-times by audience in a year, in the vocabulary's order.
    pub fn by_audience(&self, year: i32, vocabulary: &TrainingVocabulary) -> Vec<AudienceRow> {
        vocabulary
            .audience
            .iter()
            .map(|a| {
                let classes: Vec<&TrainingClass> = self
                    .classes
                    .iter()
                    .filter(|c| c.end.year() == year && c.audience == a.name)
                    .collect();
                AudienceRow {
                    audience: a.name.clone(),
                    classes: classes.len(),
                    trainees: classes.iter().map(|c| c.trainees).sum(),
                    rural: a.rural,
                }
            })
            .collect()
    }

    /// Certification by occupation and level in a year.
    pub fn by_occupation(&self, year: i32) -> Vec<CertificationRow> {
        let mut rows: BTreeMap<(String, String), (u32, u32)> = BTreeMap::new();
        for c in self.certifications.iter().filter(|c| c.day.year() == year) {
            let entry = rows
                .entry((c.occupation.clone(), c.level.clone()))
                .or_default();
            entry.0 += c.assessed;
            entry.1 += c.certified;
        }
        rows.into_iter()
            .map(
                |((occupation, level), (assessed, certified))| CertificationRow {
                    occupation,
                    level,
                    assessed,
                    certified,
                },
            )
            .collect()
    }

    /// The figures of one year.
    pub fn figures(&self, year: i32, vocabulary: &TrainingVocabulary) -> Vec<(String, f64)> {
        let classes: Vec<&TrainingClass> = self
            .classes
            .iter()
            .filter(|c| c.end.year() == year)
            .collect();
        let batches: Vec<&Certification> = self
            .certifications
            .iter()
            .filter(|c| c.day.year() == year)
            .collect();
        let mut figures: Vec<(String, f64)> = Vec::new();
        if !classes.is_empty() {
            let rural: Vec<&&TrainingClass> = classes
                .iter()
                .filter(|c| {
                    vocabulary
                        .audience
                        .iter()
                        .any(|a| a.rural && a.name == c.audience)
                })
                .collect();
            figures.extend([
                ("register.training.classes".into(), classes.len() as f64),
                (
                    "register.training.trainees".into(),
                    classes.iter().map(|c| f64::from(c.trainees)).sum(),
                ),
                (
                    "register.training.trainee_hours".into(),
                    classes
                        .iter()
                        .map(|c| c.hours * f64::from(c.trainees))
                        .sum(),
                ),
                ("register.training.rural_classes".into(), rural.len() as f64),
                (
                    "register.training.rural_trainees".into(),
                    rural.iter().map(|c| f64::from(c.trainees)).sum(),
                ),
            ]);
            for row in self.by_audience(year, vocabulary) {
                if row.trainees > 0
                    && let Some(a) = vocabulary.audience.iter().find(|a| a.name == row.audience)
                {
                    figures.push((a.element.clone(), f64::from(row.trainees)));
                }
            }
        }
        if !batches.is_empty() {
            figures.extend([
                (
                    "register.training.assessed".into(),
                    batches.iter().map(|c| f64::from(c.assessed)).sum(),
                ),
                (
                    "register.training.certified".into(),
                    batches.iter().map(|c| f64::from(c.certified)).sum(),
                ),
            ]);
        }
        figures
    }

    pub fn facts(&self, vocabulary: &TrainingVocabulary) -> Vec<RegisterFact> {
        let years = self
            .classes
            .iter()
            .map(|c| c.end.year())
            .chain(self.certifications.iter().map(|c| c.day.year()));
        covered_years(years, 0)
            .into_iter()
            .flat_map(|year| {
                self.figures(year, vocabulary)
                    .into_iter()
                    .filter_map(move |(code, value)| RegisterFact::new(year, &code, value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_file;
    use crate::vocab::Vocabulary;

    fn vocabulary() -> TrainingVocabulary {
        let definitions = nianbao_core::Definitions::builtin().unwrap();
        Vocabulary::builtin(&definitions).unwrap().training
    }

    fn import(kind: TrainingKind, text: &str) -> Result<TrainingImport, ImportErrors> {
        let table = read_file(
            "t.csv",
            text.as_bytes(),
            "",
            kind.columns(),
            &nianbao_xlsx::Limits::default(),
        )?;
        read(kind, &table, &vocabulary())
    }

    #[test]
    fn figures_count_classes_by_audience_and_the_year_they_end() {
        let classes = "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\n\
            C1,植保无人机,高素质农民,2025-03-01,2025-03-05,32,50\n\
            C2,电工,退役军人,2025-04-01,2025-04-20,80,30\n\
            C3,电商直播,返乡青年,2024-12-20,2025-01-10,40,20\n\
            C4,焊工,企事业单位职工,2024-05-01,2024-05-10,40,25\n";
        let register = TrainingRegister::default()
            .apply(
                import(TrainingKind::Classes, classes).unwrap(),
                Mode::Upsert,
                &vocabulary(),
            )
            .unwrap();
        let figures: BTreeMap<String, f64> =
            register.figures(2025, &vocabulary()).into_iter().collect();
        assert_eq!(figures["register.training.classes"], 3.0);
        assert_eq!(figures["register.training.trainees"], 100.0);
        assert_eq!(
            figures["register.training.trainee_hours"],
            32.0 * 50.0 + 80.0 * 30.0 + 40.0 * 20.0
        );
        assert_eq!(figures["register.training.rural_classes"], 2.0);
        assert_eq!(figures["register.training.rural_trainees"], 70.0);
        assert_eq!(figures["register.training.audience.veterans"], 30.0);
        assert!(!figures.contains_key("register.training.audience.employees"));
        assert!(!figures.contains_key("register.training.assessed"));
    }

    #[test]
    fn bad_rows_are_refused_at_their_cells() {
        let error = import(
            TrainingKind::Classes,
            "班级编号,培训项目,培训对象,开班日期,结业日期,学时,参训人数\nC1,x,外星人,2025-03-05,2025-03-01,0,5\n",
        )
        .unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.contains("第 2 行 第 3 列（培训对象）：应为 高素质农民、"),
            "{shown}"
        );
        assert!(
            shown.contains("第 2 行 第 6 列（学时）：应在 0.5 到 5000 之间"),
            "{shown}"
        );
        let error = import(
            TrainingKind::Certifications,
            "批次编号,职业（工种）,等级,认定日期,参加认定人数,取得证书人数\nB1,电工,四级/中级工,2025-06-01,10,12\n",
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("第 2 行 第 6 列（取得证书人数）：12 人多于参加认定的 10 人"),
            "{error}"
        );
    }
}
