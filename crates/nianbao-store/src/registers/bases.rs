//! 实训基地与设备台账 in the store: bases, equipment and usage records.

use nianbao_systems::bases::{Base, BasesImport, BasesRegister, Equipment, Usage};
use nianbao_systems::register::System;
use nianbao_systems::{ImportSummary, Mode, Vocabulary};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Query, Record, begin, count_of, day_of, load, store_figures, this_year, write};
use crate::{Store, StoreError, school_id};

fn opt_text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn opt_number(value: Option<f64>) -> String {
    value.map(nianbao_core::number::plain).unwrap_or_default()
}

impl Record for Base {
    const TABLE: &'static str = "training_base";
    const COLUMNS: &'static [&'static str] = &[
        "code",
        "name",
        "level",
        "majors",
        "area",
        "stations",
        "available_hours",
        "built",
        "note",
    ];
    const KEY: &'static [&'static str] = &["code"];
    const ORDER: &'static str = "code";
    const ENTITY: &'static str = "实训基地";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.code)
            .bind(&self.name)
            .bind(&self.level)
            .bind(self.majors.join("、"))
            .bind(self.area)
            .bind(self.stations.map(i64::from))
            .bind(self.available_hours)
            .bind(self.built.map(i64::from))
            .bind(&self.note)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.code)
    }

    fn read(row: &AnyRow) -> Result<Base, StoreError> {
        let majors: String = row.try_get("majors")?;
        Ok(Base {
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            level: row.try_get("level")?,
            majors: majors
                .split('、')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
            area: row.try_get("area")?,
            stations: row
                .try_get::<Option<i64>, _>("stations")?
                .map(count_of)
                .transpose()?,
            available_hours: row.try_get("available_hours")?,
            built: row.try_get::<Option<i64>, _>("built")?.map(|y| y as i32),
            note: row.try_get("note")?,
        })
    }

    fn key(&self) -> String {
        self.code.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜服务专业：{}｜面积 {}｜工位 {}｜年开放 {} 学时",
            self.name,
            self.level,
            self.majors.join("、"),
            opt_number(self.area),
            self.stations.map(|s| s.to_string()).unwrap_or_default(),
            nianbao_core::number::plain(self.available_hours)
        )
    }
}

impl Record for Equipment {
    const TABLE: &'static str = "equipment";
    const COLUMNS: &'static [&'static str] = &[
        "asset_no",
        "name",
        "model",
        "value",
        "base",
        "acquired",
        "status",
        "disposed",
        "available_hours",
    ];
    const KEY: &'static [&'static str] = &["asset_no"];
    const ORDER: &'static str = "asset_no";
    const ENTITY: &'static str = "实训设备";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.asset_no)
            .bind(&self.name)
            .bind(&self.model)
            .bind(self.value)
            .bind(&self.base)
            .bind(self.acquired.to_string())
            .bind(&self.status)
            .bind(self.disposed.map(|d| d.to_string()))
            .bind(self.available_hours)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.asset_no)
    }

    fn read(row: &AnyRow) -> Result<Equipment, StoreError> {
        let acquired: String = row.try_get("acquired")?;
        let disposed: Option<String> = row.try_get("disposed")?;
        Ok(Equipment {
            asset_no: row.try_get("asset_no")?,
            name: row.try_get("name")?,
            model: row.try_get("model")?,
            value: row.try_get("value")?,
            base: row.try_get("base")?,
            acquired: day_of(&acquired)?,
            status: row.try_get("status")?,
            disposed: disposed.as_deref().map(day_of).transpose()?,
            available_hours: row.try_get("available_hours")?,
        })
    }

    fn key(&self) -> String {
        self.asset_no.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}｜{} 元｜基地 {}｜购置 {}｜{}{}",
            self.name,
            opt_text(&self.model),
            nianbao_core::number::plain(self.value),
            self.base,
            self.acquired,
            self.status,
            self.disposed
                .map(|d| format!("（报废 {d}）"))
                .unwrap_or_default()
        )
    }
}

impl Record for Usage {
    const TABLE: &'static str = "base_usage";
    const COLUMNS: &'static [&'static str] = &[
        "record_no",
        "base",
        "asset_no",
        "user_kind",
        "user_name",
        "day",
        "hours",
        "people",
        "purpose",
    ];
    const KEY: &'static [&'static str] = &["record_no"];
    const ORDER: &'static str = "day, record_no";
    const ENTITY: &'static str = "实训使用记录";

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(&self.record_no)
            .bind(&self.base)
            .bind(&self.asset_no)
            .bind(&self.user_kind)
            .bind(&self.user)
            .bind(self.day.to_string())
            .bind(self.hours)
            .bind(i64::from(self.people))
            .bind(&self.purpose)
    }

    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(&self.record_no)
    }

    fn read(row: &AnyRow) -> Result<Usage, StoreError> {
        let day: String = row.try_get("day")?;
        Ok(Usage {
            record_no: row.try_get("record_no")?,
            base: row.try_get("base")?,
            asset_no: row.try_get("asset_no")?,
            user_kind: row.try_get("user_kind")?,
            user: row.try_get("user_name")?,
            day: day_of(&day)?,
            hours: row.try_get("hours")?,
            people: count_of(row.try_get("people")?)?,
            purpose: row.try_get("purpose")?,
        })
    }

    fn key(&self) -> String {
        self.record_no.clone()
    }

    fn describe(&self) -> String {
        format!(
            "{}｜{}{}｜{}：{}｜{} 学时｜{} 人｜{}",
            self.day,
            self.base,
            self.asset_no
                .as_ref()
                .map(|a| format!("/{a}"))
                .unwrap_or_default(),
            self.user_kind,
            self.user,
            nianbao_core::number::plain(self.hours),
            self.people,
            self.purpose
        )
    }
}

impl Store {
    /// A school's training bases, equipment register and usage records.
    pub async fn bases_register(&self, code: &str) -> Result<BasesRegister, StoreError> {
        let mut conn = self.db.read().await?;
        let school = school_id(&mut conn, code).await?;
        Ok(BasesRegister {
            bases: load(&mut conn, school).await?,
            equipment: load(&mut conn, school).await?,
            usage: load(&mut conn, school).await?,
        })
    }

    /// Imports one list of the register in one transaction: merged, checked as a whole
    /// (against the school's majors too), written, and the register's figures recomputed.
    pub async fn import_bases(
        &self,
        code: &str,
        import: BasesImport,
        mode: Mode,
        vocabulary: &Vocabulary,
        actor: &str,
    ) -> Result<ImportSummary, StoreError> {
        let (mut tx, school, mut log) = begin(self, code, actor).await?;
        let old = BasesRegister {
            bases: load(&mut tx, school).await?,
            equipment: load(&mut tx, school).await?,
            usage: load(&mut tx, school).await?,
        };
        let majors: Vec<String> = crate::load_majors(&mut tx, school)
            .await?
            .into_iter()
            .map(|m| m.name)
            .collect();
        let imported = match &import {
            BasesImport::Bases(rows) => rows.len(),
            BasesImport::Equipment(rows) => rows.len(),
            BasesImport::Usage(rows) => rows.len(),
        };
        let new = old
            .apply(import, mode, &majors)
            .map_err(|e| StoreError::Import(Box::new(e)))?;
        let mut summary = ImportSummary::default();
        for part in [
            ImportSummary::from(&write(&mut tx, school, &old.bases, &new.bases, &mut log).await?),
            ImportSummary::from(
                &write(&mut tx, school, &old.equipment, &new.equipment, &mut log).await?,
            ),
            ImportSummary::from(&write(&mut tx, school, &old.usage, &new.usage, &mut log).await?),
        ] {
            summary.added += part.added;
            summary.changed += part.changed;
            summary.removed += part.removed;
        }
        summary.unchanged = imported.saturating_sub(summary.added + summary.changed);
        let figures = new.facts(&vocabulary.bases, this_year());
        store_figures(&mut tx, school, System::Bases, &figures, None).await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(summary)
    }
}
