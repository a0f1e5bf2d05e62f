//! Many schools' datasets read at once, for the bureau's reads over an area or the whole
//! store (`check --all`, `indicators --all`, the comparison page, the compiled report).
//!
//! Each school comes as ONE row: its profile with its majors, facts and notes aggregated by
//! the database into JSON arrays (SQLite `json_group_array`, PostgreSQL `json_agg`), which
//! is parsed here, instead of millions of fact rows decoded one by one. A fact's value
//! travels as text that reads back to the same `f64`, bit for bit: SQLite prints it with
//! 17 significant digits (`printf('%!.17g')`), PostgreSQL with its shortest exact form
//! (`float8` to text). Schools are read in chunks of [`CHUNK`] in code order and handed
//! over one at a time, so memory holds one chunk's rows, not every school's.
//!
//! The registers' figures and the points ledger's are laid in as
//! [`Store::load_dataset_with_registers`] does for one school, so a school reads the same
//! here as alone.

use std::borrow::Cow;
use std::collections::BTreeSet;

use nianbao_core::{Dataset, Definitions, FactKey, Major, School, Year};
use serde::Deserialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, Store, StoreError};

/// Schools read by one query.
pub const CHUNK: usize = 256;

/// The columns of one school's row; the `FROM` and the rest follow.
fn select(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT s.code, s.profile, \
             (SELECT json_group_array(json_array(m.position, m.name, m.category, m.department)) \
              FROM major m WHERE m.school_id = s.id) AS majors, \
             (SELECT json_group_array(json_array(f.year, f.element, f.major, printf('%!.17g', f.value))) \
              FROM fact f WHERE f.school_id = s.id) AS facts, \
             (SELECT json_group_array(json_array(n.year, n.element, n.major, n.text)) \
              FROM note n WHERE n.school_id = s.id) AS notes \
             FROM school s"
        }
        Backend::Postgres => {
            "SELECT s.code, s.profile, \
             (SELECT COALESCE(json_agg(json_build_array(m.position, m.name, m.category, m.department)), '[]')::text \
              FROM major m WHERE m.school_id = s.id) AS majors, \
             (SELECT COALESCE(json_agg(json_build_array(f.year, f.element, f.major, f.value::text)), '[]')::text \
              FROM fact f WHERE f.school_id = s.id) AS facts, \
             (SELECT COALESCE(json_agg(json_build_array(n.year, n.element, n.major, n.text)), '[]')::text \
              FROM note n WHERE n.school_id = s.id) AS notes \
             FROM school s"
        }
    }
}

/// A major as aggregated: position, name, 专业大类, department.
#[derive(Deserialize)]
struct MajorCell(i64, String, String, String);

/// A fact as aggregated: year, element, major ("" for the school), value as text.
#[derive(Deserialize)]
struct FactCell<'a>(i64, String, String, #[serde(borrow)] Cow<'a, str>);

/// A note as aggregated: year, element, major, text.
#[derive(Deserialize)]
struct NoteCell(i64, String, String, String);

fn corrupt(code: &str, what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("学校「{code}」的{what}：{why}"))
}

fn key(code: &str, year: i64, element: String, major: String) -> Result<FactKey, StoreError> {
    let year = Year::new(year).map_err(|e| corrupt(code, "数据年份", e))?;
    Ok(FactKey {
        year,
        element,
        major: (!major.is_empty()).then_some(major),
    })
}

/// One school's dataset from its aggregated row (registers and points not yet laid in).
fn dataset_of(row: &AnyRow) -> Result<Dataset, StoreError> {
    let code: String = row.try_get("code")?;
    let profile: String = row.try_get("profile")?;
    let school: School =
        serde_json::from_str(&profile).map_err(|e| corrupt(&code, "学校信息", e))?;
    let mut data = Dataset::new(school);

    let majors: String = row.try_get("majors")?;
    let mut majors: Vec<MajorCell> =
        serde_json::from_str(&majors).map_err(|e| corrupt(&code, "专业", e))?;
    majors.sort_by_key(|m| m.0);
    data.majors = majors
        .into_iter()
        .map(|MajorCell(_, name, category, department)| Major {
            name,
            category,
            department,
        })
        .collect();

    let facts: String = row.try_get("facts")?;
    let facts: Vec<FactCell> =
        serde_json::from_str(&facts).map_err(|e| corrupt(&code, "数据项", e))?;
    for FactCell(year, element, major, text) in facts {
        let value: f64 = text.parse().map_err(|_| {
            corrupt(
                &code,
                "数据项",
                format!("{year} 年度 {element} 的值「{text}」不是数字"),
            )
        })?;
        data.facts.insert(key(&code, year, element, major)?, value);
    }

    let notes: String = row.try_get("notes")?;
    let notes: Vec<NoteCell> =
        serde_json::from_str(&notes).map_err(|e| corrupt(&code, "数据说明", e))?;
    for NoteCell(year, element, major, text) in notes {
        data.notes.insert(key(&code, year, element, major)?, text);
    }
    Ok(data)
}

impl Store {
    /// Reads the dataset of every school in the store (of `codes` only, when given), in
    /// code order, and hands each to `each` as soon as it is read: one query per
    /// [`CHUNK`] schools, each school one row. The registers' and the points ledger's
    /// figures are laid in as for one school ([`Store::load_dataset_with_registers`]).
    /// Returns how many schools were read.
    pub async fn each_dataset(
        &self,
        codes: Option<&BTreeSet<String>>,
        definitions: &Definitions,
        mut each: impl FnMut(Dataset),
    ) -> Result<usize, StoreError> {
        let with_registers = self
            .codes_with(
                "SELECT DISTINCT s.code FROM register_fact f JOIN school s ON s.id = f.school_id",
            )
            .await?;
        let with_points = self
            .codes_with(
                "SELECT DISTINCT s.code FROM points_tree t JOIN school s ON s.id = t.school_id",
            )
            .await?;
        let vocabulary = if with_registers.is_empty() {
            None
        } else {
            Some(
                nianbao_systems::Vocabulary::builtin(definitions)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
        };
        let select = select(self.backend);
        let mut read = 0;
        let mut after: Option<String> = None;
        let wanted: Option<Vec<&String>> = codes.map(|c| c.iter().collect());
        let mut chunks = wanted.as_ref().map(|w| w.chunks(CHUNK));
        loop {
            let rows = match chunks.as_mut() {
                // The schools asked for, CHUNK codes a query.
                Some(chunks) => {
                    let Some(chunk) = chunks.next() else { break };
                    let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!(
                        "{select} WHERE s.code IN ({}) ORDER BY s.code",
                        marks.join(", ")
                    );
                    let mut query = sqlx::query(&sql);
                    for code in chunk {
                        query = query.bind(code.as_str());
                    }
                    query.fetch_all(self.db.reader()).await?
                }
                // Every school, the next CHUNK after the last one read.
                None => {
                    let sql = format!("{select} WHERE s.code > $1 ORDER BY s.code LIMIT {CHUNK}");
                    let rows = sqlx::query(&sql)
                        .bind(after.as_deref().unwrap_or(""))
                        .fetch_all(self.db.reader())
                        .await?;
                    if rows.is_empty() {
                        break;
                    }
                    rows
                }
            };
            for row in &rows {
                let mut data = dataset_of(row)?;
                let code = data.school.code.clone();
                if let Some(vocabulary) = &vocabulary
                    && with_registers.contains(&code)
                {
                    let figures = self.register_figures(&code).await?;
                    nianbao_systems::facts::lay_in(&mut data, definitions, vocabulary, &figures);
                }
                if with_points.contains(&code) {
                    self.lay_in_points(&code, &mut data, definitions)
                        .await
                        .map_err(|e| StoreError::Points(Box::new(e)))?;
                }
                after = Some(code);
                each(data);
                read += 1;
            }
        }
        Ok(read)
    }

    /// The datasets of many schools (every school in the store when `codes` is `None`), in
    /// code order, read as [`Store::each_dataset`] reads them.
    pub async fn load_datasets(
        &self,
        codes: Option<&BTreeSet<String>>,
        definitions: &Definitions,
    ) -> Result<Vec<Dataset>, StoreError> {
        let mut datasets = Vec::new();
        self.each_dataset(codes, definitions, |d| datasets.push(d))
            .await?;
        Ok(datasets)
    }

    async fn codes_with(&self, sql: &str) -> Result<BTreeSet<String>, StoreError> {
        sqlx::query(sql)
            .fetch_all(self.db.reader())
            .await?
            .iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }
}
