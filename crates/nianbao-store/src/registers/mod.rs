//! The school's registers in the store (training bases and equipment, social training,
//! courses, the psychological archive) and the figures they compute for the report.
//!
//! An import is one transaction: the register is read, the import merged in and the whole
//! checked (by `nianbao-systems`), the differences written with one change-log line per
//! record, and the register's figures computed again and stored. A refused import changes
//! nothing. The figures are kept per school, register, year and element, so laying them
//! into a dataset ([`Store::load_dataset_with_registers`]) costs one query.

mod bases;
mod courses;
mod psych;
mod training;

use std::collections::{BTreeMap, BTreeSet};

use nianbao_core::{Dataset, Definitions, Year};
use nianbao_systems::register::{Diff, RegisterFact, System, diff};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Row};

use crate::{ChangeLog, Store, StoreError, school_id};

pub use psych::{AccessEntry, PsychAccess, PsychArchiveEntry};

/// A query being built, with its arguments.
pub(crate) type Query<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;

/// One kind of register record and its table: how it is bound, read back, keyed and
/// described in the change log.
pub(crate) trait Record: Sized + Clone + PartialEq {
    const TABLE: &'static str;
    /// Every column but `school_id`, in the order [`Record::bind`] binds them.
    const COLUMNS: &'static [&'static str];
    /// The columns that identify a record within a school.
    const KEY: &'static [&'static str];
    /// How records are listed.
    const ORDER: &'static str;
    /// What the change log calls this kind of record.
    const ENTITY: &'static str;

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q>;
    /// Binds the key columns only, in the order of `KEY`.
    fn bind_key<'q>(&'q self, query: Query<'q>) -> Query<'q>;
    fn read(row: &AnyRow) -> Result<Self, StoreError>;
    /// The key as one text (the change log's record).
    fn key(&self) -> String;
    /// The record's fields as one line of text for the change log.
    fn describe(&self) -> String;
}

/// A stored text that should be a day.
pub(crate) fn day_of(text: &str) -> Result<nianbao_systems::Day, StoreError> {
    nianbao_systems::Day::parse(text).ok_or_else(|| StoreError::Corrupt(format!("日期「{text}」")))
}

/// A stored whole number that should fit a count.
pub(crate) fn count_of(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("计数 {value}")))
}

pub(crate) async fn load<T: Record>(
    conn: &mut sqlx::AnyConnection,
    school: i64,
) -> Result<Vec<T>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} WHERE school_id = $1 ORDER BY {}",
        T::COLUMNS.join(", "),
        T::TABLE,
        T::ORDER
    );
    let rows = sqlx::query(&sql).bind(school).fetch_all(&mut *conn).await?;
    rows.iter().map(T::read).collect()
}

/// Writes what changed between two lists of records, logging each record.
pub(crate) async fn write<T: Record>(
    tx: &mut sqlx::AnyConnection,
    school: i64,
    old: &[T],
    new: &[T],
    log: &mut ChangeLog<'_>,
) -> Result<Diff<T>, StoreError> {
    let changes = diff(old, new, T::key);
    let key_match: Vec<String> = T::KEY
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 2))
        .collect();
    let delete = format!(
        "DELETE FROM {} WHERE school_id = $1 AND {}",
        T::TABLE,
        key_match.join(" AND ")
    );
    let placeholders: Vec<String> = (0..=T::COLUMNS.len())
        .map(|i| format!("${}", i + 1))
        .collect();
    let insert = format!(
        "INSERT INTO {} (school_id, {}) VALUES ({})",
        T::TABLE,
        T::COLUMNS.join(", "),
        placeholders.join(", ")
    );
    let gone = changes
        .removed
        .iter()
        .chain(changes.changed.iter().map(|(old, _)| old));
    for record in gone {
        record
            .bind_key(sqlx::query(&delete).bind(school))
            .execute(&mut *tx)
            .await?;
    }
    for record in changes
        .added
        .iter()
        .chain(changes.changed.iter().map(|(_, new)| new))
    {
        record
            .bind(sqlx::query(&insert).bind(school))
            .execute(&mut *tx)
            .await?;
    }
    for record in &changes.added {
        log.push(T::ENTITY, &record.key(), None, Some(record.describe()));
    }
    for (old, new) in &changes.changed {
        log.push(
            T::ENTITY,
            &new.key(),
            Some(old.describe()),
            Some(new.describe()),
        );
    }
    for record in &changes.removed {
        log.push(T::ENTITY, &record.key(), Some(record.describe()), None);
    }
    Ok(changes)
}

/// Replaces the stored figures of one register (all years, or only `years`). Refused when
/// a figure of a year that is submitted or approved would change: the register's records
/// may still grow, but the locked year's figures stay those the bureau saw.
pub(crate) async fn store_figures(
    tx: &mut sqlx::AnyConnection,
    school: i64,
    system: System,
    figures: &[RegisterFact],
    years: Option<&[Year]>,
) -> Result<(), StoreError> {
    let changed = changed_years(tx, school, system, figures, years).await?;
    if !changed.is_empty() {
        let code: String = sqlx::query("SELECT code FROM school WHERE id = $1")
            .bind(school)
            .fetch_one(&mut *tx)
            .await?
            .try_get("code")?;
        Store::ensure_open(tx, &code, &changed).await?;
    }
    crate::bump_revision(tx, school).await?;
    match years {
        None => {
            sqlx::query("DELETE FROM register_fact WHERE school_id = $1 AND system = $2")
                .bind(school)
                .bind(system.code())
                .execute(&mut *tx)
                .await?;
        }
        Some(years) => {
            for year in years {
                sqlx::query(
                    "DELETE FROM register_fact WHERE school_id = $1 AND system = $2 AND year = $3",
                )
                .bind(school)
                .bind(system.code())
                .bind(i64::from(*year))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    for fact in figures {
        if years.is_some_and(|years| !years.contains(&fact.year)) {
            continue;
        }
        sqlx::query(
            "INSERT INTO register_fact (school_id, system, year, element, value) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(school)
        .bind(system.code())
        .bind(i64::from(fact.year))
        .bind(&fact.element)
        .bind(fact.value)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The years whose stored figures of the register differ from `figures` (a figure added,
/// removed or with another value), among `years` when given.
async fn changed_years(
    tx: &mut sqlx::AnyConnection,
    school: i64,
    system: System,
    figures: &[RegisterFact],
    years: Option<&[Year]>,
) -> Result<BTreeSet<Year>, StoreError> {
    let in_scope = |year: &Year| years.is_none_or(|years| years.contains(year));
    let rows = sqlx::query(
        "SELECT year, element, value FROM register_fact WHERE school_id = $1 AND system = $2",
    )
    .bind(school)
    .bind(system.code())
    .fetch_all(&mut *tx)
    .await?;
    let mut stored = BTreeMap::new();
    for r in &rows {
        let year: i64 = r.try_get("year")?;
        let year = Year::new(year).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let element: String = r.try_get("element")?;
        let value: f64 = r.try_get("value")?;
        stored.insert((year, element), value);
    }
    stored.retain(|(year, _), _| in_scope(year));
    let mut changed = BTreeSet::new();
    for fact in figures.iter().filter(|f| in_scope(&f.year)) {
        match stored.remove(&(fact.year, fact.element.clone())) {
            Some(value) if value == fact.value => {}
            _ => {
                changed.insert(fact.year);
            }
        }
    }
    changed.extend(stored.into_keys().map(|(year, _)| year));
    Ok(changed)
}

/// The year it is now in Beijing, which registers' stock figures run up to.
pub(crate) fn this_year() -> i32 {
    nianbao_systems::Day::today().year()
}

impl Store {
    /// The figures every register of a school has stored, raw (the archive's counts not yet
    /// suppressed: [`nianbao_systems::facts::lay_in`] does that).
    pub async fn register_figures(
        &self,
        code: &str,
    ) -> Result<Vec<(System, RegisterFact)>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.system, f.year, f.element, f.value FROM register_fact f \
             JOIN school s ON s.id = f.school_id WHERE s.code = $1 ORDER BY f.system, f.year, f.element",
        )
        .bind(code)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let system: String = r.try_get("system")?;
                let system = System::from_code(&system)
                    .ok_or_else(|| StoreError::Corrupt(format!("登记系统「{system}」")))?;
                let year: i64 = r.try_get("year")?;
                Ok((
                    system,
                    RegisterFact {
                        year: Year::new(year).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        element: r.try_get("element")?,
                        value: r.try_get("value")?,
                    },
                ))
            })
            .collect()
    }

    /// A school's dataset with the figures of its registers laid in: what checks,
    /// indicators, dashboards and the report read. (Forms and exports read
    /// [`Store::load_dataset`], which holds only what was entered.)
    pub async fn load_dataset_with_registers(
        &self,
        code: &str,
        definitions: &Definitions,
    ) -> Result<Dataset, StoreError> {
        let mut data = self.load_dataset(code).await?;
        let figures = self.register_figures(code).await?;
        if !figures.is_empty() {
            let vocabulary = nianbao_systems::Vocabulary::builtin(definitions)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            nianbao_systems::facts::lay_in(&mut data, definitions, &vocabulary, &figures);
        }
        self.lay_in_points(code, &mut data, definitions)
            .await
            .map_err(|e| StoreError::Points(Box::new(e)))?;
        Ok(data)
    }
}

/// Begins a register write: the transaction, the school's id and a change log.
pub(crate) async fn begin<'a>(
    store: &'a Store,
    code: &str,
    actor: &'a str,
) -> Result<(sqlx::Transaction<'static, Any>, i64, ChangeLog<'a>), StoreError> {
    let mut tx = store.db.write().await?;
    let school = school_id(&mut tx, code).await?;
    let log = ChangeLog {
        actor,
        now: store.now_sql(),
        entries: Vec::new(),
    };
    Ok((tx, school, log))
}
