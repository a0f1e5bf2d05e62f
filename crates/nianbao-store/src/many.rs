//! Many schools' datasets read at once, for the bureau's reads over an area or the whole
//! store (`check --all`, `indicators --all`, the comparison page, the compiled report).
//!
//! The rows are read plainly — schools, then their majors, facts and notes — through a
//! connection of the database's own driver (see [`Bulk`]), each value in its stored type (a
//! fact's `f64` as the database holds it, bit for bit), and grouped by school here. Schools
//! are read in chunks of [`CHUNK`] in code order, all of them in one read transaction (one
//! state of the database), and handed over one at a time, so memory holds one chunk's rows,
//! not every school's.
//!
//! The registers' figures and the points ledger's are laid in as
//! [`Store::load_dataset_with_registers`] does for one school, so a school reads the same
//! here as alone.

use std::collections::{BTreeSet, HashMap};

use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use nianbao_core::{Dataset, Definitions, FactKey, Major, School, Year};
use sqlx::Row;

use crate::database::Bulk;
use crate::{Store, StoreError};

/// Schools read by one round of queries.
pub const CHUNK: usize = 256;

fn corrupt(code: &str, what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("学校「{code}」的{what}：{why}"))
}

/// The rows of one query with `binds` (text) on a SQLite connection, as they arrive.
fn sqlite_rows<'c>(
    conn: &'c mut sqlx::SqliteConnection,
    sql: &'c str,
    binds: &'c [&'c str],
) -> BoxStream<'c, Result<sqlx::sqlite::SqliteRow, sqlx::Error>> {
    // Each chunk's query names its own schools: not worth keeping prepared.
    let mut query = sqlx::query(sql).persistent(false);
    for bind in binds {
        query = query.bind(*bind);
    }
    query.fetch(conn)
}

/// The rows of one query with `binds` (text) on a PostgreSQL connection, as they arrive.
fn postgres_rows<'c>(
    conn: &'c mut sqlx::PgConnection,
    sql: &'c str,
    binds: &'c [&'c str],
) -> BoxStream<'c, Result<sqlx::postgres::PgRow, sqlx::Error>> {
    // Each chunk's query names its own schools: not worth keeping prepared.
    let mut query = sqlx::query(sql).persistent(false);
    for bind in binds {
        query = query.bind(*bind);
    }
    query.fetch(conn)
}

/// Runs one query on a [`Bulk`] connection with `binds` (text) and runs `$body` for each
/// row as it arrives; the row is a `SqliteRow` or a `PgRow`, read by column position.
macro_rules! each_row {
    ($bulk:expr, $sql:expr, $binds:expr, |$row:ident| $body:block) => {
        match $bulk {
            Bulk::Sqlite(conn) => {
                let mut rows = sqlite_rows(conn, $sql, $binds);
                while let Some($row) = rows.try_next().await? $body
            }
            Bulk::Postgres(conn) => {
                let mut rows = postgres_rows(conn, $sql, $binds);
                while let Some($row) = rows.try_next().await? $body
            }
        }
    };
}

/// The schools of one chunk as they are being read.
struct Chunk {
    /// A school's row id → its place in `datasets`.
    place: HashMap<i64, usize>,
    datasets: Vec<Dataset>,
    /// Per school, its majors with their positions, ordered when the chunk is complete.
    majors: Vec<Vec<(i64, Major)>>,
}

impl Chunk {
    /// The dataset of the school with row id `id`, and its code.
    fn school(&mut self, id: i64) -> Result<&mut Dataset, StoreError> {
        let place = *self.place.get(&id).ok_or_else(|| {
            StoreError::Corrupt(format!("编号为 {id} 的学校在读取过程中出现又消失"))
        })?;
        Ok(&mut self.datasets[place])
    }
}

/// A fact's or note's key from its stored parts.
fn key(code: &str, year: i64, element: &str, major: &str) -> Result<FactKey, StoreError> {
    let year = Year::new(year).map_err(|e| corrupt(code, "数据年份", e))?;
    Ok(FactKey {
        year,
        element: element.to_string(),
        major: (!major.is_empty()).then(|| major.to_string()),
    })
}

/// Reads one chunk of schools: those whose code is in `codes` (in code order), or else the
/// next [`CHUNK`] schools after `after`. An empty chunk means there are no more.
async fn read_chunk(
    bulk: &mut Bulk,
    codes: Option<&[&str]>,
    after: &str,
) -> Result<Vec<Dataset>, StoreError> {
    let marks = |n: usize| -> String {
        (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let schools_sql = match codes {
        Some(codes) => format!(
            "SELECT id, code, profile FROM school WHERE code IN ({}) ORDER BY code",
            marks(codes.len())
        ),
        None => format!(
            "SELECT id, code, profile FROM school WHERE code > $1 ORDER BY code LIMIT {CHUNK}"
        ),
    };
    let asked: Vec<&str> = match codes {
        Some(codes) => codes.to_vec(),
        None => vec![after],
    };
    let mut chunk = Chunk {
        place: HashMap::new(),
        datasets: Vec::new(),
        majors: Vec::new(),
    };
    each_row!(bulk, &schools_sql, &asked, |row| {
        let id: i64 = row.try_get(0)?;
        let code: &str = row.try_get(1)?;
        let profile: &str = row.try_get(2)?;
        let school: School =
            serde_json::from_str(profile).map_err(|e| corrupt(code, "学校信息", e))?;
        chunk.place.insert(id, chunk.datasets.len());
        chunk.datasets.push(Dataset::new(school));
        chunk.majors.push(Vec::new());
    });
    if chunk.datasets.is_empty() {
        return Ok(Vec::new());
    }
    // The chunk's rows of the other tables, by the schools' row ids (numbers the database
    // gave, written into the query): each table is searched by its key's first column,
    // school_id, on both backends.
    let ids: Vec<String> = chunk.place.keys().map(i64::to_string).collect();
    let filter = format!("school_id IN ({})", ids.join(", "));
    let binds: Vec<&str> = Vec::new();

    let sql =
        format!("SELECT school_id, position, name, category, department FROM major WHERE {filter}");
    each_row!(bulk, &sql, &binds, |row| {
        let id: i64 = row.try_get(0)?;
        let place = *chunk.place.get(&id).ok_or_else(|| {
            StoreError::Corrupt(format!("编号为 {id} 的学校在读取过程中出现又消失"))
        })?;
        chunk.majors[place].push((
            row.try_get(1)?,
            Major {
                name: row.try_get(2)?,
                category: row.try_get(3)?,
                department: row.try_get(4)?,
            },
        ));
    });

    let sql = format!("SELECT school_id, year, element, major, value FROM fact WHERE {filter}");
    each_row!(bulk, &sql, &binds, |row| {
        let data = chunk.school(row.try_get(0)?)?;
        let key = key(
            &data.school.code,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        )?;
        data.facts.insert(key, row.try_get::<f64, _>(4)?);
    });

    let sql = format!("SELECT school_id, year, element, major, text FROM note WHERE {filter}");
    each_row!(bulk, &sql, &binds, |row| {
        let data = chunk.school(row.try_get(0)?)?;
        let key = key(
            &data.school.code,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        )?;
        data.notes.insert(key, row.try_get::<String, _>(4)?);
    });

    for (data, mut majors) in chunk.datasets.iter_mut().zip(chunk.majors) {
        majors.sort_by_key(|(position, _)| *position);
        data.majors = majors.into_iter().map(|(_, m)| m).collect();
    }
    Ok(chunk.datasets)
}

impl Store {
    /// Reads the dataset of every school in the store (of `codes` only, when given), in
    /// code order, and hands each to `each` as soon as it is read: one round of queries
    /// per [`CHUNK`] schools, all in one read transaction. The registers' and the points
    /// ledger's figures are laid in as for one school
    /// ([`Store::load_dataset_with_registers`]). Returns how many schools were read.
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
        let mut bulk = self.db.bulk().await?;
        bulk.begin().await?;
        let mut read = 0;
        let mut after = String::new();
        let wanted: Option<Vec<&str>> = codes.map(|c| c.iter().map(String::as_str).collect());
        let mut chunks = wanted.as_ref().map(|w| w.chunks(CHUNK));
        loop {
            let datasets = match chunks.as_mut() {
                Some(chunks) => {
                    let Some(chunk) = chunks.next() else { break };
                    read_chunk(&mut bulk, Some(chunk), "").await?
                }
                None => {
                    let datasets = read_chunk(&mut bulk, None, &after).await?;
                    if datasets.is_empty() {
                        break;
                    }
                    datasets
                }
            };
            for mut data in datasets {
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
                after = code;
                each(data);
                read += 1;
            }
        }
        bulk.end().await?;
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

/// Checked when compiling: the read's future can move between threads, as the web
/// server's handlers need.
#[allow(dead_code)]
fn each_dataset_is_send(store: &Store, definitions: &Definitions) {
    fn send<T: Send>(_: T) {}
    send(store.each_dataset(None, definitions, |_| {}));
}
