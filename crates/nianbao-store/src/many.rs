//! Many schools' datasets read at once, for the bureau's reads over an area or the whole
//! store (`check --all`, `indicators --all`, the comparison page, the compiled report).
//!
//! On SQLite the rows are read by a thread of their own on a connection driven through
//! SQLite's C interface ([`RawSqlite`]), school by school in code order (its majors, then its
//! facts and notes in key order, by the tables' keys), and handed over as each school is
//! complete, so that the reading goes on while the schools already read are evaluated. On
//! PostgreSQL they are read through a connection of its own driver (see [`Bulk`]) in chunks
//! of [`CHUNK`] schools in code order, grouped by school here (a chunk decoded on a thread
//! of its own while the server sends the next). Either way every value is
//! read in its stored type (a fact's `f64` as the database holds it, bit for bit), all in
//! one read transaction (one state of the database), and memory holds a few schools' rows
//! (a chunk's on PostgreSQL), not every school's.
//!
//! The registers' figures and the points ledger's are laid in as
//! [`Store::load_dataset_with_registers`] does for one school, so a school reads the same
//! here as alone.

use std::collections::{BTreeSet, HashMap};

use futures_util::TryStreamExt;
use nianbao_core::{Dataset, Definitions, FactKey, Major, School, Year};
use sqlx::Row;

use crate::database::{Bulk, begin_postgres_read, end_postgres_read};
use crate::raw_sqlite::{RawSqlite, Statement};
use crate::{Store, StoreError};

/// Schools read by one round of queries on PostgreSQL.
pub const CHUNK: usize = 256;

/// Schools read ahead while the ones before them are being used.
const AHEAD: usize = 64;

fn corrupt(code: &str, what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("学校「{code}」的{what}：{why}"))
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

/// A school's dataset from its stored profile, before its majors, facts and notes.
fn school(code: &str, profile: &str) -> Result<Dataset, StoreError> {
    let school: School = serde_json::from_str(profile).map_err(|e| corrupt(code, "学校信息", e))?;
    Ok(Dataset::new(school))
}

/// The statements of the SQLite read, prepared once and run for each school.
struct SqliteRead<'c> {
    majors: Statement<'c>,
    facts: Statement<'c>,
    notes: Statement<'c>,
}

impl<'c> SqliteRead<'c> {
    fn prepare(conn: &'c RawSqlite) -> Result<SqliteRead<'c>, StoreError> {
        Ok(SqliteRead {
            // The key is (school_id, name): the majors' order is their position's.
            majors: conn.prepare(
                "SELECT name, category, department FROM major WHERE school_id = ?1 \
                 ORDER BY position, name",
            )?,
            // In the key's order, which is a FactKey's (SQLite compares text as bytes, as
            // Rust does, and a school-level fact's empty major comes first, as `None`
            // does): the maps are built from sorted rows.
            facts: conn.prepare(
                "SELECT year, element, major, value FROM fact WHERE school_id = ?1 \
                 ORDER BY year, element, major",
            )?,
            notes: conn.prepare(
                "SELECT year, element, major, text FROM note WHERE school_id = ?1 \
                 ORDER BY year, element, major",
            )?,
        })
    }

    /// Fills in the majors, facts and notes of the school with row id `id`.
    fn fill(&mut self, id: i64, data: &mut Dataset) -> Result<(), StoreError> {
        let code = &data.school.code;
        let st = &mut self.majors;
        st.restart_with(1, id)?;
        while st.step()? {
            data.majors.push(Major {
                name: st.text(0)?.to_string(),
                category: st.text(1)?.to_string(),
                department: st.text(2)?.to_string(),
            });
        }
        let st = &mut self.facts;
        st.restart_with(1, id)?;
        let mut facts = Vec::new();
        while st.step()? {
            facts.push((
                key(code, st.int(0), st.text(1)?, st.text(2)?)?,
                st.double(3),
            ));
        }
        data.facts = facts.into_iter().collect();
        let st = &mut self.notes;
        st.restart_with(1, id)?;
        let mut notes = Vec::new();
        while st.step()? {
            notes.push((
                key(code, st.int(0), st.text(1)?, st.text(2)?)?,
                st.text(3)?.to_string(),
            ));
        }
        data.notes = notes.into_iter().collect();
        Ok(())
    }
}

type Sender = tokio::sync::mpsc::Sender<Result<Dataset, StoreError>>;

/// What reads ahead.
enum Reader {
    Thread(std::thread::JoinHandle<()>),
    Task(tokio::task::JoinHandle<()>),
}

/// Reads the schools of `codes` (every school when `None`) in code order on `conn`, in one
/// read transaction, and sends each as it is complete; stops early when nobody receives.
fn read_sqlite(
    mut conn: RawSqlite,
    codes: Option<Vec<String>>,
    sender: &Sender,
) -> Result<(), StoreError> {
    conn.execute("BEGIN")?;
    let read = read_sqlite_schools(&conn, codes, sender);
    let end = conn.execute("COMMIT");
    read.and(end)
}

fn read_sqlite_schools(
    conn: &RawSqlite,
    codes: Option<Vec<String>>,
    sender: &Sender,
) -> Result<(), StoreError> {
    let mut read = SqliteRead::prepare(conn)?;
    let send = |data: Dataset| sender.blocking_send(Ok(data)).is_ok();
    match codes {
        Some(codes) => {
            let mut one = conn.prepare("SELECT id, profile FROM school WHERE code = ?1")?;
            // A BTreeSet's order is SQLite's order of codes (bytes).
            for code in &codes {
                one.restart_with_text(1, code)?;
                if !one.step()? {
                    continue;
                }
                let id = one.int(0);
                let mut data = school(code, one.text(1)?)?;
                read.fill(id, &mut data)?;
                if !send(data) {
                    return Ok(());
                }
            }
        }
        None => {
            let mut all = conn.prepare("SELECT id, code, profile FROM school ORDER BY code")?;
            while all.step()? {
                let id = all.int(0);
                let mut data = school(all.text(1)?, all.text(2)?)?;
                read.fill(id, &mut data)?;
                if !send(data) {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// A COPY's rows in PostgreSQL's binary format (a signature, flags and a header extension,
/// then per row a field count and each field's length and bytes, ending with -1), for a
/// query of `N` columns none of which is NULL.
struct CopyRows<'a, const N: usize> {
    buf: &'a [u8],
    pos: usize,
}

const COPY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

fn bad_copy(why: &str) -> StoreError {
    StoreError::Corrupt(format!("数据库返回的 COPY 数据无法解读：{why}"))
}

impl<'a, const N: usize> CopyRows<'a, N> {
    fn new(buf: &'a [u8]) -> Result<Self, StoreError> {
        let mut rows = CopyRows { buf, pos: 0 };
        if rows.take(COPY_SIGNATURE.len())? != COPY_SIGNATURE {
            return Err(bad_copy("开头不是二进制 COPY 的标记"));
        }
        rows.take(4)?;
        let extension = rows.int4()?;
        rows.take(usize::try_from(extension).map_err(|_| bad_copy("头部长度为负"))?)?;
        Ok(rows)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| bad_copy("数据提前结束"))?;
        let bytes = &self.buf[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn int4(&mut self) -> Result<i32, StoreError> {
        let bytes = self.take(4)?;
        Ok(i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// The next row's fields, or `None` after the last.
    fn next_row(&mut self) -> Result<Option<[&'a [u8]; N]>, StoreError> {
        let bytes = self.take(2)?;
        let count = i16::from_be_bytes([bytes[0], bytes[1]]);
        if count == -1 {
            return Ok(None);
        }
        if usize::try_from(count).ok() != Some(N) {
            return Err(bad_copy("一行的列数不符"));
        }
        let mut fields = [&[][..]; N];
        for field in &mut fields {
            let length = self.int4()?;
            let length = usize::try_from(length).map_err(|_| bad_copy("出现空值"))?;
            *field = self.take(length)?;
        }
        Ok(Some(fields))
    }
}

/// A BIGINT field of a binary COPY.
fn int8(field: &[u8]) -> Result<i64, StoreError> {
    let bytes: [u8; 8] = field.try_into().map_err(|_| bad_copy("整数不是 8 字节"))?;
    Ok(i64::from_be_bytes(bytes))
}

/// A DOUBLE PRECISION field of a binary COPY, bit for bit.
fn float8(field: &[u8]) -> Result<f64, StoreError> {
    Ok(f64::from_bits(int8(field)? as u64))
}

/// A TEXT field of a binary COPY.
fn text(field: &[u8]) -> Result<&str, StoreError> {
    std::str::from_utf8(field).map_err(|e| bad_copy(&format!("文本不是 UTF-8：{e}")))
}

/// The whole output of `COPY (query) TO STDOUT (FORMAT binary)`.
async fn copy_out(conn: &mut sqlx::PgConnection, query: &str) -> Result<Vec<u8>, StoreError> {
    let sql = format!("COPY ({query}) TO STDOUT (FORMAT binary)");
    let mut stream = conn.copy_out_raw(&sql).await?;
    let mut buf = Vec::new();
    while let Some(bytes) = stream.try_next().await? {
        buf.extend_from_slice(&bytes);
    }
    Ok(buf)
}

/// One chunk of schools on PostgreSQL as the database sent it: each school's row id, code
/// and profile, and the binary COPY output of its majors, facts and notes.
struct PostgresChunk {
    schools: Vec<(i64, String, String)>,
    majors: Vec<u8>,
    facts: Vec<u8>,
    notes: Vec<u8>,
}

/// Fetches one chunk of schools on PostgreSQL: those whose code is in `codes` (in code
/// order), or else the next [`CHUNK`] schools after `after`. No schools means there are no
/// more.
async fn fetch_postgres_chunk(
    conn: &mut sqlx::PgConnection,
    codes: Option<&[String]>,
    after: &str,
) -> Result<PostgresChunk, StoreError> {
    let rows = match codes {
        Some(codes) => {
            sqlx::query("SELECT id, code, profile FROM school WHERE code = ANY($1) ORDER BY code")
                .bind(codes)
                .fetch_all(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT id, code, profile FROM school WHERE code > $1 ORDER BY code LIMIT {CHUNK}"
            ))
            .bind(after)
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let mut chunk = PostgresChunk {
        schools: Vec::with_capacity(rows.len()),
        majors: Vec::new(),
        facts: Vec::new(),
        notes: Vec::new(),
    };
    for row in &rows {
        chunk
            .schools
            .push((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?));
    }
    if chunk.schools.is_empty() {
        return Ok(chunk);
    }
    // The chunk's rows of the other tables, by the schools' row ids (numbers the database
    // gave, written into the query, as COPY takes no parameters): each table is searched by
    // its key's first column, school_id.
    let ids: Vec<String> = chunk
        .schools
        .iter()
        .map(|(id, _, _)| id.to_string())
        .collect();
    let filter = format!("school_id IN ({})", ids.join(", "));
    chunk.majors = copy_out(
        conn,
        &format!(
            "SELECT school_id, position, name, category, department FROM major WHERE {filter}"
        ),
    )
    .await?;
    chunk.facts = copy_out(
        conn,
        &format!("SELECT school_id, year, element, major, value FROM fact WHERE {filter}"),
    )
    .await?;
    chunk.notes = copy_out(
        conn,
        &format!("SELECT school_id, year, element, major, text FROM note WHERE {filter}"),
    )
    .await?;
    Ok(chunk)
}

/// Builds the datasets of a fetched chunk, grouped by school, in code order.
fn decode_postgres_chunk(chunk: PostgresChunk) -> Result<Vec<Dataset>, StoreError> {
    // A school's row id → its place in the chunk.
    let mut place: HashMap<i64, usize> = HashMap::with_capacity(chunk.schools.len());
    let mut datasets = Vec::with_capacity(chunk.schools.len());
    for (id, code, profile) in &chunk.schools {
        place.insert(*id, datasets.len());
        datasets.push(school(code, profile)?);
    }
    let place_of = |id: i64| {
        place
            .get(&id)
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("编号为 {id} 的学校在读取过程中出现又消失")))
    };

    let mut majors: Vec<Vec<(i64, Major)>> = vec![Vec::new(); datasets.len()];
    let mut copy = CopyRows::<5>::new(&chunk.majors)?;
    while let Some([id, position, name, category, department]) = copy.next_row()? {
        majors[place_of(int8(id)?)?].push((
            int8(position)?,
            Major {
                name: text(name)?.to_string(),
                category: text(category)?.to_string(),
                department: text(department)?.to_string(),
            },
        ));
    }
    for (data, mut majors) in datasets.iter_mut().zip(majors) {
        majors.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.name.cmp(&y.name)));
        data.majors = majors.into_iter().map(|(_, m)| m).collect();
    }

    let mut facts: Vec<Vec<(FactKey, f64)>> = vec![Vec::new(); datasets.len()];
    let mut copy = CopyRows::<5>::new(&chunk.facts)?;
    while let Some([id, year, element, major, value]) = copy.next_row()? {
        let at = place_of(int8(id)?)?;
        let key = key(
            &datasets[at].school.code,
            int8(year)?,
            text(element)?,
            text(major)?,
        )?;
        facts[at].push((key, float8(value)?));
    }
    for (data, facts) in datasets.iter_mut().zip(facts) {
        data.facts = facts.into_iter().collect();
    }

    let mut copy = CopyRows::<5>::new(&chunk.notes)?;
    while let Some([id, year, element, major, note]) = copy.next_row()? {
        let data = &mut datasets[place_of(int8(id)?)?];
        let key = key(&data.school.code, int8(year)?, text(element)?, text(major)?)?;
        data.notes.insert(key, text(note)?.to_string());
    }
    Ok(datasets)
}

/// Reads the schools of `codes` (every school when `None`) in code order on `conn`, chunk
/// by chunk in one read transaction, and sends each; stops early when nobody receives.
/// While the database sends one chunk, the one before it is decoded on a thread of its own
/// and handed on, so the server and this process work at the same time.
async fn read_postgres(
    mut conn: sqlx::PgConnection,
    codes: Option<Vec<String>>,
    sender: &Sender,
) -> Result<(), StoreError> {
    begin_postgres_read(&mut conn).await?;
    let mut after = String::new();
    let mut chunks = codes.as_ref().map(|c| c.chunks(CHUNK));
    let mut decoding: Option<tokio::task::JoinHandle<Result<Vec<Dataset>, StoreError>>> = None;
    loop {
        let chunk = match chunks.as_mut() {
            Some(chunks) => match chunks.next() {
                Some(codes) => fetch_postgres_chunk(&mut conn, Some(codes), "").await?,
                None => PostgresChunk {
                    schools: Vec::new(),
                    majors: Vec::new(),
                    facts: Vec::new(),
                    notes: Vec::new(),
                },
            },
            None => fetch_postgres_chunk(&mut conn, None, &after).await?,
        };
        let previous = match decoding.take() {
            Some(task) => Some(decoded(task).await?),
            None => None,
        };
        let more = match chunk.schools.last() {
            Some((_, code, _)) => {
                after.clone_from(code);
                decoding = Some(tokio::task::spawn_blocking(move || {
                    decode_postgres_chunk(chunk)
                }));
                true
            }
            None => false,
        };
        for data in previous.into_iter().flatten() {
            if sender.send(Ok(data)).await.is_err() {
                return Ok(());
            }
        }
        if !more {
            break;
        }
    }
    end_postgres_read(conn).await
}

/// The datasets of a chunk decoded on a thread of its own (its panic carried on here).
async fn decoded(
    task: tokio::task::JoinHandle<Result<Vec<Dataset>, StoreError>>,
) -> Result<Vec<Dataset>, StoreError> {
    match task.await {
        Ok(datasets) => datasets,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Corrupt(format!("读取中断：{e}"))),
    }
}

/// What is laid into every dataset read, as for one school.
struct LayIn<'a> {
    definitions: &'a Definitions,
    with_registers: BTreeSet<String>,
    with_points: BTreeSet<String>,
    vocabulary: Option<nianbao_systems::Vocabulary>,
}

impl Store {
    /// Reads the dataset of every school in the store (of `codes` only, when given), in
    /// code order, and hands each to `each` as soon as it is read, all in one read
    /// transaction (see the module's documentation). The registers' and the points
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
        let lay_in = LayIn {
            definitions,
            with_registers,
            with_points,
            vocabulary,
        };
        let codes: Option<Vec<String>> = codes.map(|c| c.iter().cloned().collect());
        // Read ahead by a task of their own (a thread on SQLite, whose reads block), while
        // the schools already read are laid in and handed over here.
        let (sender, mut receiver) = tokio::sync::mpsc::channel(AHEAD);
        let reader = match self.db.bulk().await? {
            Bulk::Sqlite(conn) => {
                let thread = std::thread::Builder::new()
                    .name("nianbao-read".into())
                    .spawn(move || {
                        if let Err(e) = read_sqlite(conn, codes, &sender) {
                            let _ = sender.blocking_send(Err(e));
                        }
                    })
                    .map_err(|e| StoreError::Sqlite(format!("无法启动读取线程：{e}")))?;
                Reader::Thread(thread)
            }
            Bulk::Postgres(conn) => Reader::Task(tokio::spawn(async move {
                if let Err(e) = read_postgres(conn, codes, &sender).await {
                    let _ = sender.send(Err(e)).await;
                }
            })),
        };
        let mut read = 0;
        while let Some(data) = receiver.recv().await {
            let mut data = data?;
            self.lay_in(&lay_in, &mut data).await?;
            each(data);
            read += 1;
        }
        // Everything was sent: the reader is ending or has ended.
        match reader {
            Reader::Thread(thread) => {
                if let Err(panic) = thread.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Reader::Task(task) => {
                if let Err(e) = task.await
                    && e.is_panic()
                {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        Ok(read)
    }

    /// Lays the registers' and the points ledger's figures into a dataset just read.
    async fn lay_in(&self, lay_in: &LayIn<'_>, data: &mut Dataset) -> Result<(), StoreError> {
        let code = &data.school.code;
        if let Some(vocabulary) = &lay_in.vocabulary
            && lay_in.with_registers.contains(code)
        {
            let figures = self.register_figures(code).await?;
            nianbao_systems::facts::lay_in(data, lay_in.definitions, vocabulary, &figures);
        }
        if lay_in.with_points.contains(&data.school.code) {
            let code = data.school.code.clone();
            self.lay_in_points(&code, data, lay_in.definitions)
                .await
                .map_err(|e| StoreError::Points(Box::new(e)))?;
        }
        Ok(())
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
