//! 社会培训登记 in the store: training classes and certification batches.

use nianbao_systems::register::System;
use nianbao_systems::training::{Certification, TrainingClass, TrainingImport, TrainingRegister};
use nianbao_systems::{ImportSummary, Mode, Vocabulary};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Query, Record, begin, count_of, day_of, load, store_figures, write};
use crate::{Store, StoreError, school_id};

impl Record for TrainingClass {
    const TABLE: &'static str = "training_class";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "title",
        "audience",
        "start_day",
        "end_day",
        "hours",
        "trainees",
        "place",
        "funder",
    ];
    const KEY: &'static [&'static str] = &["code"];
    const ORDER: &'static str = "end_day, code";
    const ENTITY: &'static str = "社会培训班";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.code)
            .bind(&self.title)
            .bind(&self.audience)
            .bind(self.start.to_string())
            .bind(self.end.to_string())
            .bind(self.hours)
            .bind(i64::from(self.trainees))
            .bind(&self.place)
            .bind(&self.funder)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.code)
    }

    fn read(row: &AnyRow) -> Result<TrainingClass, StoreError> {
        let start: String = row.try_get("start_day")?;
        let end: String = row.try_get("end_day")?;
        Ok(TrainingClass {
            code: row.try_get("code")?,
            title: row.try_get("title")?,
            audience: row.try_get("audience")?,
            start: day_of(&start)?,
            end: day_of(&end)?,
            hours: row.try_get("hours")?,
            trainees: count_of(row.try_get("trainees")?)?,
            place: row.try_get("place")?,
            funder: row.try_get("funder")?,
        })
    }

    fn key(&self) -> String {
        self.code.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜{} 至 {}｜{} 学时｜{} 人",
            self.title,
            self.audience,
            self.start,
            self.end,
            nianbao_core::number::plain(self.hours),
            self.trainees
        )
    }
}

impl Record for Certification {
    const TABLE: &'static str = "training_certification";
    const COLUMNS: &'static [&'static str] = &[
        "batch",
        "occupation",
        "level",
        "day",
        "assessed",
        "certified",
    ];
    const KEY: &'static [&'static str] = &["batch"];
    const ORDER: &'static str = "day, batch";
    const ENTITY: &'static str = "职业技能等级认定";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.batch)
            .bind(&self.occupation)
            .bind(&self.level)
            .bind(self.day.to_string())
            .bind(i64::from(self.assessed))
            .bind(i64::from(self.certified))
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.batch)
    }

    fn read(row: &AnyRow) -> Result<Certification, StoreError> {
        let day: String = row.try_get("day")?;
        Ok(Certification {
            batch: row.try_get("batch")?,
            occupation: row.try_get("occupation")?,
            level: row.try_get("level")?,
            day: day_of(&day)?,
            assessed: count_of(row.try_get("assessed")?)?,
            certified: count_of(row.try_get("certified")?)?,
        })
    }

    fn key(&self) -> String {
        self.batch.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜{}｜认定 {} 人，取证 {} 人",
            self.occupation, self.level, self.day, self.assessed, self.certified
        )
    }
}

impl Store {
    /// A school's training classes and certification batches.
    pub async fn training_register(&self, code: &str) -> Result<TrainingRegister, StoreError> {
        let mut conn = self.db.read().await?;
        let school = school_id(&mut conn, code).await?;
        Ok(TrainingRegister {
            classes: load(&mut conn, school).await?,
            certifications: load(&mut conn, school).await?,
        })
    }

    /// Imports one list of the training register in one transaction.
    pub async fn import_training(
        &self,
        code: &str,
        import: TrainingImport,
        mode: Mode,
        vocabulary: &Vocabulary,
        actor: &str,
    ) -> Result<ImportSummary, StoreError> {
        let (mut tx, school, mut log) = begin(self, code, actor).await?;
        let old = TrainingRegister {
            classes: load(&mut tx, school).await?,
            certifications: load(&mut tx, school).await?,
        };
        let imported = match &import {
            TrainingImport::Classes(rows) => rows.len(),
            TrainingImport::Certifications(rows) => rows.len(),
        };
        let new = old
            .apply(import, mode, &vocabulary.training)
            .map_err(|e| StoreError::Import(Box::new(e)))?;
        let classes = ImportSummary::from(
            &write(&mut tx, school, &old.classes, &new.classes, &mut log).await?,
        );
        let batches = ImportSummary::from(
            &write(
                &mut tx,
                school,
                &old.certifications,
                &new.certifications,
                &mut log,
            )
            .await?,
        );
        let mut summary = ImportSummary {
            added: classes.added + batches.added,
            changed: classes.changed + batches.changed,
            removed: classes.removed + batches.removed,
            unchanged: 0,
        };
        summary.unchanged = imported.saturating_sub(summary.added + summary.changed);
        let figures = new.facts(&vocabulary.training);
        store_figures(&mut tx, school, System::Training, &figures, None).await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(summary)
    }
}
