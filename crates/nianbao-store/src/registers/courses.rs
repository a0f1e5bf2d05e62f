//! 课程质量闭环 in the store: courses, enrolment, monitoring, evaluations, feedback and
//! improvement actions.

use nianbao_systems::courses::{
    Action, Course, CoursesImport, CoursesRegister, Enrolment, Evaluation, Feedback, Measurement,
    Term,
};
use nianbao_systems::register::System;
use nianbao_systems::{Day, ImportSummary, Mode, Vocabulary};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Query, Record, begin, count_of, day_of, load, store_figures, this_year, write};
use crate::{ChangeLog, Store, StoreError, school_id};

fn term_of(text: &str) -> Result<Term, StoreError> {
    Term::parse(text).ok_or_else(|| StoreError::Corrupt(format!("学期「{text}」")))
}

fn plain(value: f64) -> String {
    nianbao_core::number::plain(value)
}

impl Record for Course {
    const TABLE: &'static str = "course";
    const COLUMNS: &'static [&'static str] = &[
        "code", "name", "level", "platform", "hours", "built", "updated", "owner", "major",
    ];
    const KEY: &'static [&'static str] = &["code"];
    const ORDER: &'static str = "code";
    const ENTITY: &'static str = "课程";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.code)
            .bind(&self.name)
            .bind(&self.level)
            .bind(&self.platform)
            .bind(self.hours)
            .bind(i64::from(self.built))
            .bind(self.updated.map(i64::from))
            .bind(&self.owner)
            .bind(&self.major)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.code)
    }

    fn read(row: &AnyRow) -> Result<Course, StoreError> {
        Ok(Course {
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            level: row.try_get("level")?,
            platform: row.try_get("platform")?,
            hours: row.try_get("hours")?,
            built: row.try_get::<i64, _>("built")? as i32,
            updated: row.try_get::<Option<i64>, _>("updated")?.map(|y| y as i32),
            owner: row.try_get("owner")?,
            major: row.try_get("major")?,
        })
    }

    fn key(&self) -> String {
        self.code.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜{}｜{} 学时｜{} 年建设{}",
            self.name,
            self.level,
            self.platform.as_deref().unwrap_or("未上线"),
            plain(self.hours),
            self.built,
            self.updated
                .map(|u| format!("，{u} 年更新"))
                .unwrap_or_default()
        )
    }
}

impl Record for Enrolment {
    const TABLE: &'static str = "course_enrolment";
    const COLUMNS: &'static [&'static str] = &["course", "term", "students"];
    const KEY: &'static [&'static str] = &["course", "term"];
    const ORDER: &'static str = "course, term";
    const ENTITY: &'static str = "课程选课";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.course)
            .bind(self.term.to_string())
            .bind(i64::from(self.students))
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.course).bind(self.term.to_string())
    }

    fn read(row: &AnyRow) -> Result<Enrolment, StoreError> {
        let term: String = row.try_get("term")?;
        Ok(Enrolment {
            course: row.try_get("course")?,
            term: term_of(&term)?,
            students: count_of(row.try_get("students")?)?,
        })
    }

    fn key(&self) -> String {
        Enrolment::key(self)
    }

    fn describe(&self) -> String {
        format!("选课 {} 人", self.students)
    }
}

impl Record for Measurement {
    const TABLE: &'static str = "course_measurement";
    const COLUMNS: &'static [&'static str] = &["course", "term", "indicator", "value"];
    const KEY: &'static [&'static str] = &["course", "term", "indicator"];
    const ORDER: &'static str = "course, term, indicator";
    const ENTITY: &'static str = "课程监测";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.course)
            .bind(self.term.to_string())
            .bind(&self.indicator)
            .bind(self.value)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.course)
            .bind(self.term.to_string())
            .bind(&self.indicator)
    }

    fn read(row: &AnyRow) -> Result<Measurement, StoreError> {
        let term: String = row.try_get("term")?;
        Ok(Measurement {
            course: row.try_get("course")?,
            term: term_of(&term)?,
            indicator: row.try_get("indicator")?,
            value: row.try_get("value")?,
        })
    }

    fn key(&self) -> String {
        Measurement::key(self)
    }

    fn describe(&self) -> String {
        plain(self.value)
    }
}

impl Record for Evaluation {
    const TABLE: &'static str = "course_evaluation";
    const COLUMNS: &'static [&'static str] = &["course", "term", "rater", "score", "raters"];
    const KEY: &'static [&'static str] = &["course", "term", "rater"];
    const ORDER: &'static str = "course, term, rater";
    const ENTITY: &'static str = "课程评价";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.course)
            .bind(self.term.to_string())
            .bind(&self.rater)
            .bind(self.score)
            .bind(self.raters.map(i64::from))
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.course)
            .bind(self.term.to_string())
            .bind(&self.rater)
    }

    fn read(row: &AnyRow) -> Result<Evaluation, StoreError> {
        let term: String = row.try_get("term")?;
        Ok(Evaluation {
            course: row.try_get("course")?,
            term: term_of(&term)?,
            rater: row.try_get("rater")?,
            score: row.try_get("score")?,
            raters: row
                .try_get::<Option<i64>, _>("raters")?
                .map(count_of)
                .transpose()?,
        })
    }

    fn key(&self) -> String {
        Evaluation::key(self)
    }

    fn describe(&self) -> String {
        format!(
            "{} 分{}",
            plain(self.score),
            self.raters
                .map(|n| format!("（{n} 人）"))
                .unwrap_or_default()
        )
    }
}

impl Record for Feedback {
    const TABLE: &'static str = "course_feedback";
    const COLUMNS: &'static [&'static str] = &["code", "course", "day", "source", "body"];
    const KEY: &'static [&'static str] = &["code"];
    const ORDER: &'static str = "day, code";
    const ENTITY: &'static str = "课程问题反馈";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.code)
            .bind(&self.course)
            .bind(self.day.to_string())
            .bind(&self.source)
            .bind(&self.text)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.code)
    }

    fn read(row: &AnyRow) -> Result<Feedback, StoreError> {
        let day: String = row.try_get("day")?;
        Ok(Feedback {
            code: row.try_get("code")?,
            course: row.try_get("course")?,
            day: day_of(&day)?,
            source: row.try_get("source")?,
            text: row.try_get("body")?,
        })
    }

    fn key(&self) -> String {
        self.code.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜{}｜{}",
            self.course, self.day, self.source, self.text
        )
    }
}

impl Record for Action {
    const TABLE: &'static str = "course_action";
    const COLUMNS: &'static [&'static str] = &[
        "code", "course", "feedback", "body", "owner", "due", "status", "done", "evidence",
    ];
    const KEY: &'static [&'static str] = &["code"];
    const ORDER: &'static str = "due, code";
    const ENTITY: &'static str = "课程改进措施";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.code)
            .bind(&self.course)
            .bind(&self.feedback)
            .bind(&self.text)
            .bind(&self.owner)
            .bind(self.due.to_string())
            .bind(&self.status)
            .bind(self.done.map(|d| d.to_string()))
            .bind(&self.evidence)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.code)
    }

    fn read(row: &AnyRow) -> Result<Action, StoreError> {
        let due: String = row.try_get("due")?;
        let done: Option<String> = row.try_get("done")?;
        Ok(Action {
            code: row.try_get("code")?,
            course: row.try_get("course")?,
            feedback: row.try_get("feedback")?,
            text: row.try_get("body")?,
            owner: row.try_get("owner")?,
            due: day_of(&due)?,
            status: row.try_get("status")?,
            done: done.as_deref().map(day_of).transpose()?,
            evidence: row.try_get("evidence")?,
        })
    }

    fn key(&self) -> String {
        self.code.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜{}｜截止 {}｜{}{}",
            self.course,
            self.text,
            self.owner,
            self.due,
            self.status,
            match (&self.done, &self.evidence) {
                (Some(done), Some(evidence)) => format!("（{done} 完成，佐证：{evidence}）"),
                _ => String::new(),
            }
        )
    }
}

async fn load_all(
    conn: &mut sqlx::AnyConnection,
    school: i64,
) -> Result<CoursesRegister, StoreError> {
    Ok(CoursesRegister {
        courses: load(conn, school).await?,
        enrolments: load(conn, school).await?,
        measurements: load(conn, school).await?,
        evaluations: load(conn, school).await?,
        feedback: load(conn, school).await?,
        actions: load(conn, school).await?,
    })
}

async fn write_all(
    tx: &mut sqlx::AnyConnection,
    school: i64,
    old: &CoursesRegister,
    new: &CoursesRegister,
    log: &mut ChangeLog<'_>,
) -> Result<ImportSummary, StoreError> {
    let parts = [
        ImportSummary::from(&write(tx, school, &old.courses, &new.courses, log).await?),
        ImportSummary::from(&write(tx, school, &old.enrolments, &new.enrolments, log).await?),
        ImportSummary::from(&write(tx, school, &old.measurements, &new.measurements, log).await?),
        ImportSummary::from(&write(tx, school, &old.evaluations, &new.evaluations, log).await?),
        ImportSummary::from(&write(tx, school, &old.feedback, &new.feedback, log).await?),
        ImportSummary::from(&write(tx, school, &old.actions, &new.actions, log).await?),
    ];
    let mut summary = ImportSummary::default();
    for part in parts {
        summary.added += part.added;
        summary.changed += part.changed;
        summary.removed += part.removed;
    }
    Ok(summary)
}

impl Store {
    /// A school's course register.
    pub async fn courses_register(&self, code: &str) -> Result<CoursesRegister, StoreError> {
        let mut conn = self.db.read().await?;
        let school = school_id(&mut conn, code).await?;
        load_all(&mut conn, school).await
    }

    /// Imports one list of the course register in one transaction.
    pub async fn import_courses(
        &self,
        code: &str,
        import: CoursesImport,
        mode: Mode,
        vocabulary: &Vocabulary,
        actor: &str,
    ) -> Result<ImportSummary, StoreError> {
        let (mut tx, school, mut log) = begin(self, code, actor).await?;
        let old = load_all(&mut tx, school).await?;
        let imported = match &import {
            CoursesImport::Courses(r) => r.len(),
            CoursesImport::Enrolments(r) => r.len(),
            CoursesImport::Measurements(r) => r.len(),
            CoursesImport::Evaluations(r) => r.len(),
            CoursesImport::Feedback(r) => r.len(),
            CoursesImport::Actions(r) => r.len(),
        };
        let new = old
            .apply(import, mode)
            .map_err(|e| StoreError::Import(Box::new(e)))?;
        let mut summary = write_all(&mut tx, school, &old, &new, &mut log).await?;
        summary.unchanged = imported.saturating_sub(summary.added + summary.changed);
        let figures = new.facts(&vocabulary.courses, this_year());
        store_figures(&mut tx, school, System::Courses, &figures, None).await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Marks an improvement action done, with its evidence (refused without).
    pub async fn close_course_action(
        &self,
        code: &str,
        action: &str,
        evidence: &str,
        day: Day,
        vocabulary: &Vocabulary,
        actor: &str,
    ) -> Result<(), StoreError> {
        let (mut tx, school, mut log) = begin(self, code, actor).await?;
        let old = load_all(&mut tx, school).await?;
        let new = old
            .close_action(action, evidence, day, &vocabulary.courses)
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        write_all(&mut tx, school, &old, &new, &mut log).await?;
        let figures = new.facts(&vocabulary.courses, this_year());
        store_figures(&mut tx, school, System::Courses, &figures, None).await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }
}
