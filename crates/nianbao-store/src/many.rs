//! Many schools' datasets read at once, for the bureau's reads over an area or the whole
//! store (`check --all`, `indicators --all`, the comparison page, the compiled report).
//!
//! On SQLite the rows are read by a thread of their own on a connection driven through
//! SQLite's C interface ([`RawSqlite`]), school by school in code order (its majors, then its
//! facts and notes in key order, by the tables' keys), and handed over as each school is
//! complete, so that the reading goes on while the schools already read are evaluated. On
//! PostgreSQL they are read through a connection of its own driver (see [`Bulk`]) as one
//! streamed `COPY` of every school's rows in code order, decoded on a thread of its own as
//! the server sends it. Either way every value is read in its stored type (a fact's `f64`
//! as the database holds it, bit for bit), all in one read transaction (one state of the database), and memory holds a few schools' rows,
//! not every school's.
//!
//! The registers' figures and the points ledger's are laid in as
//! [`Store::load_dataset_with_registers`] does for one school, so a school reads the same
//! here as alone.

use std::collections::BTreeSet;

use futures_util::TryStreamExt;
use nianbao_core::{Dataset, Definitions, FactKey, Major, School, Year};
use sqlx::Row;

use crate::database::{Bulk, begin_postgres_read, end_postgres_read};
use crate::raw_sqlite::{RawSqlite, Statement};
use crate::{Store, StoreError};

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

const COPY_SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

fn bad_copy(why: &str) -> StoreError {
    StoreError::Corrupt(format!("数据库返回的 COPY 数据无法解读：{why}"))
}

/// The length of a binary COPY's header (a signature, flags and a header extension) at the
/// start of `buf`, or `None` when `buf` does not hold all of it yet.
fn copy_header(buf: &[u8]) -> Result<Option<usize>, StoreError> {
    let fixed = COPY_SIGNATURE.len() + 8;
    if buf.len() < fixed {
        return Ok(None);
    }
    if &buf[..COPY_SIGNATURE.len()] != COPY_SIGNATURE {
        return Err(bad_copy("开头不是二进制 COPY 的标记"));
    }
    let extension = int4_at(buf, COPY_SIGNATURE.len() + 4);
    let extension = usize::try_from(extension).map_err(|_| bad_copy("头部长度为负"))?;
    let length = fixed + extension;
    Ok((buf.len() >= length).then_some(length))
}

/// The big-endian 4-byte integer at `at` (which the caller checked is in `buf`).
fn int4_at(buf: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// A decoded row of `N` fields, or the end marker (`None`).
type CopyRow<'a, const N: usize> = Option<[&'a [u8]; N]>;

/// The binary COPY row at the start of `buf` (a field count, then each field's length and
/// bytes; a count of -1 ends the output), for a query of `N` columns none of which is NULL,
/// with its length in bytes; or `None` when `buf` does not hold all of it yet.
fn copy_row<const N: usize>(buf: &[u8]) -> Result<Option<(CopyRow<'_, N>, usize)>, StoreError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let count = i16::from_be_bytes([buf[0], buf[1]]);
    if count == -1 {
        return Ok(Some((None, 2)));
    }
    if usize::try_from(count).ok() != Some(N) {
        return Err(bad_copy("一行的列数不符"));
    }
    let mut pos = 2;
    let mut fields = [&[][..]; N];
    for field in &mut fields {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        let length = int4_at(buf, pos);
        let length = usize::try_from(length).map_err(|_| bad_copy("出现空值"))?;
        pos += 4;
        let Some(end) = pos.checked_add(length).filter(|&end| end <= buf.len()) else {
            return Ok(None);
        };
        *field = &buf[pos..end];
        pos = end;
    }
    Ok(Some((Some(fields), pos)))
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

/// The streamed read on PostgreSQL, one COPY for every school asked for: a row per school in
/// code order (by bytes, collation "C", as SQLite and Rust order codes), holding its row id,
/// code and profile, then its majors, facts and notes each packed column by column: numbers as
/// their 8-byte binary forms one after another (`int8send`, `float8send`), texts as their
/// bytes separated by a zero byte, which no PostgreSQL text can hold. Each school's rows are
/// looked up by its tables' keys (school_id first) one school after another, so that the
/// server sends the first school at once and never sorts more than the schools; a packed
/// column costs the server less than a row per fact, and the read takes one message per
/// school. `{filter}` narrows the schools (empty for every school).
const STREAM_QUERY: &str = r#"
SELECT s.id, s.code, s.profile,
    m.positions, m.names, m.categories, m.departments,
    f.years, f.elements, f.majors, f.vals,
    n.years, n.elements, n.majors, n.texts
FROM (SELECT id, code, profile FROM school {filter} ORDER BY code COLLATE "C") s
CROSS JOIN LATERAL (SELECT
    coalesce(string_agg(int8send(position), ''::bytea), '') AS positions,
    coalesce(string_agg(textsend(name), '\x00'::bytea), '') AS names,
    coalesce(string_agg(textsend(category), '\x00'::bytea), '') AS categories,
    coalesce(string_agg(textsend(department), '\x00'::bytea), '') AS departments
    FROM major WHERE school_id = s.id) m
CROSS JOIN LATERAL (SELECT
    coalesce(string_agg(int8send(year), ''::bytea), '') AS years,
    coalesce(string_agg(textsend(element), '\x00'::bytea), '') AS elements,
    coalesce(string_agg(textsend(major), '\x00'::bytea), '') AS majors,
    coalesce(string_agg(float8send(value), ''::bytea), '') AS vals
    FROM fact WHERE school_id = s.id) f
CROSS JOIN LATERAL (SELECT
    coalesce(string_agg(int8send(year), ''::bytea), '') AS years,
    coalesce(string_agg(textsend(element), '\x00'::bytea), '') AS elements,
    coalesce(string_agg(textsend(major), '\x00'::bytea), '') AS majors,
    coalesce(string_agg(textsend(text), '\x00'::bytea), '') AS texts
    FROM note WHERE school_id = s.id) n
ORDER BY s.code COLLATE "C""#;

/// The columns of [`STREAM_QUERY`].
const STREAM_COLUMNS: usize = 15;

/// Messages of COPY output in flight between the connection and the decoding thread.
const STREAM_AHEAD: usize = 64;

/// Reads the schools of `codes` (every school when `None`) on `conn` in one read
/// transaction, as one streamed COPY ([`STREAM_QUERY`]) whose output is decoded on a thread of
/// its own as it arrives, each school sent as soon as its row is in; stops early when nobody
/// receives.
async fn read_postgres(
    mut conn: sqlx::PgConnection,
    codes: Option<Vec<String>>,
    sender: &Sender,
) -> Result<(), StoreError> {
    begin_postgres_read(&mut conn).await?;
    let filter = match codes {
        None => String::new(),
        Some(codes) => {
            // The schools' row ids, numbers the database gave, written into the query as
            // COPY takes no parameters.
            let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM school WHERE code = ANY($1)")
                .bind(&codes)
                .fetch_all(&mut conn)
                .await?;
            if ids.is_empty() {
                return end_postgres_read(conn).await;
            }
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("WHERE id IN ({})", ids.join(", "))
        }
    };
    let sql = format!(
        "COPY ({}) TO STDOUT (FORMAT binary)",
        STREAM_QUERY.replace("{filter}", &filter)
    );

    let (messages, mut received) =
        tokio::sync::mpsc::channel::<sqlx_core::bytes::Bytes>(STREAM_AHEAD);
    let datasets = sender.clone();
    let decoder = tokio::task::spawn_blocking(move || -> Result<bool, StoreError> {
        let mut decoder = StreamDecoder::default();
        while let Some(message) = received.blocking_recv() {
            for data in decoder.feed(&message)? {
                if datasets.blocking_send(Ok(data)).is_err() {
                    return Ok(false);
                }
            }
        }
        decoder.finish()?;
        Ok(true)
    });

    let mut stream = conn.copy_out_raw(&sql).await?;
    let mut listening = true;
    while let Some(message) = stream.try_next().await? {
        if messages.send(message).await.is_err() {
            // The decoder has ended: with an error, or nobody receives.
            listening = false;
            break;
        }
    }
    drop(stream);
    drop(messages);
    let complete = match decoder.await {
        Ok(outcome) => outcome?,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(StoreError::Corrupt(format!("读取中断：{e}"))),
    };
    if complete && listening {
        end_postgres_read(conn).await
    } else {
        // Nobody receives: the rest of the COPY is not read, the connection is dropped.
        Ok(())
    }
}

/// A packed column of numbers: their 8-byte binary forms one after another.
fn packed_numbers(field: &[u8]) -> Result<std::slice::ChunksExact<'_, u8>, StoreError> {
    if !field.len().is_multiple_of(8) {
        return Err(bad_copy("数字列的长度不是 8 的倍数"));
    }
    Ok(field.chunks_exact(8))
}

/// A packed column of `count` texts separated by zero bytes.
fn packed_texts(field: &[u8], count: usize) -> Result<Vec<&str>, StoreError> {
    if count == 0 {
        return match field.is_empty() {
            true => Ok(Vec::new()),
            false => Err(bad_copy("文本列与数字列的个数不符")),
        };
    }
    let texts = field
        .split(|&b| b == 0)
        .map(text)
        .collect::<Result<Vec<&str>, StoreError>>()?;
    if texts.len() != count {
        return Err(bad_copy("文本列与数字列的个数不符"));
    }
    Ok(texts)
}

/// A school's dataset from its row of the streamed read.
fn school_from_row(fields: [&[u8]; STREAM_COLUMNS]) -> Result<Dataset, StoreError> {
    let [
        _id,
        code,
        profile,
        positions,
        names,
        categories,
        departments,
        fact_years,
        fact_elements,
        fact_majors,
        values,
        note_years,
        note_elements,
        note_majors,
        note_texts,
    ] = fields;
    let code = text(code)?;
    let mut data = school(code, text(profile)?)?;

    let positions = packed_numbers(positions)?;
    let count = positions.len();
    let mut majors: Vec<(i64, Major)> = positions
        .zip(packed_texts(names, count)?)
        .zip(packed_texts(categories, count)?)
        .zip(packed_texts(departments, count)?)
        .map(|(((position, name), category), department)| {
            Ok((
                int8(position)?,
                Major {
                    name: name.to_string(),
                    category: category.to_string(),
                    department: department.to_string(),
                },
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    majors.sort_by(|(a, x), (b, y)| a.cmp(b).then_with(|| x.name.cmp(&y.name)));
    data.majors = majors.into_iter().map(|(_, m)| m).collect();

    let years = packed_numbers(fact_years)?;
    let count = years.len();
    if values.len() != count * 8 {
        return Err(bad_copy("数值列与年份列的个数不符"));
    }
    let mut facts = Vec::with_capacity(count);
    for (((year, element), major), value) in years
        .zip(packed_texts(fact_elements, count)?)
        .zip(packed_texts(fact_majors, count)?)
        .zip(values.chunks_exact(8))
    {
        facts.push((key(code, int8(year)?, element, major)?, float8(value)?));
    }
    data.facts = facts.into_iter().collect();

    let years = packed_numbers(note_years)?;
    let count = years.len();
    let mut notes = Vec::with_capacity(count);
    for (((year, element), major), note) in years
        .zip(packed_texts(note_elements, count)?)
        .zip(packed_texts(note_majors, count)?)
        .zip(packed_texts(note_texts, count)?)
    {
        notes.push((key(code, int8(year)?, element, major)?, note.to_string()));
    }
    data.notes = notes.into_iter().collect();
    Ok(data)
}

/// Decodes the streamed read's binary COPY output as it arrives, in pieces cut anywhere
/// (PostgreSQL sends a row a message, which the decoder does not count on), into schools'
/// datasets.
#[derive(Default)]
struct StreamDecoder {
    /// Bytes received and not yet decoded: a row cut by the end of a piece.
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

impl StreamDecoder {
    /// Decodes a piece; returns the schools it completed.
    fn feed(&mut self, piece: &[u8]) -> Result<Vec<Dataset>, StoreError> {
        let mut complete = Vec::new();
        let mut pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            let used = self.decode(piece, &mut complete)?;
            pending.extend_from_slice(&piece[used..]);
        } else {
            pending.extend_from_slice(piece);
            let used = self.decode(&pending, &mut complete)?;
            pending.drain(..used);
        }
        self.pending = pending;
        Ok(complete)
    }

    /// Decodes the whole rows at the start of `buf` into `complete`; returns the bytes used.
    fn decode(&mut self, buf: &[u8], complete: &mut Vec<Dataset>) -> Result<usize, StoreError> {
        let mut pos = 0;
        if !self.header_read {
            match copy_header(buf)? {
                Some(length) => {
                    pos = length;
                    self.header_read = true;
                }
                None => return Ok(0),
            }
        }
        while !self.ended {
            let Some((row, length)) = copy_row::<STREAM_COLUMNS>(&buf[pos..])? else {
                break;
            };
            pos += length;
            match row {
                None => self.ended = true,
                Some(fields) => complete.push(school_from_row(fields)?),
            }
        }
        if self.ended && pos < buf.len() {
            return Err(bad_copy("结尾标记之后还有数据"));
        }
        Ok(pos)
    }

    /// Checks that the whole output came in.
    fn finish(self) -> Result<(), StoreError> {
        match self.ended && self.pending.is_empty() {
            true => Ok(()),
            false => Err(bad_copy("数据提前结束")),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use nianbao_core::School;

    /// A field of a binary COPY row: its length, then its bytes.
    fn field(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&i32::try_from(bytes.len()).unwrap().to_be_bytes());
        out.extend_from_slice(bytes);
    }

    fn numbers(values: &[i64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn floats(values: &[f64]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|v| v.to_bits().to_be_bytes())
            .collect()
    }

    fn texts(values: &[&str]) -> Vec<u8> {
        values.join("\0").into_bytes()
    }

    fn profile(code: &str) -> String {
        serde_json::to_string(&School {
            code: code.into(),
            name: format!("{code} 学校"),
            ..School::default()
        })
        .unwrap()
    }

    /// A school's row of the streamed read as the server sends it.
    fn row(out: &mut Vec<u8>, id: i64, code: &str, columns: [Vec<u8>; STREAM_COLUMNS - 3]) {
        out.extend_from_slice(&i16::try_from(STREAM_COLUMNS).unwrap().to_be_bytes());
        field(out, &id.to_be_bytes());
        field(out, code.as_bytes());
        field(out, profile(code).as_bytes());
        for column in columns {
            field(out, &column);
        }
    }

    fn header() -> Vec<u8> {
        let mut out = COPY_SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        field(&mut out, b"ext");
        out
    }

    const END: [u8; 2] = (-1i16).to_be_bytes();

    fn nan() -> f64 {
        f64::from_bits(0x7ff8_0000_0000_0001)
    }

    /// The output of two schools, the second with no majors and no notes, with a header
    /// extension, and the datasets it holds.
    fn sample() -> (Vec<u8>, Vec<Dataset>) {
        let mut out = header();
        row(
            &mut out,
            7,
            "A01",
            [
                numbers(&[2, 1]),
                texts(&["数控", "会计"]),
                texts(&["装备制造", "财经商贸"]),
                texts(&["机电部", "商贸部"]),
                numbers(&[2025, 2025, 2024]),
                texts(&["students", "students", "teachers"]),
                texts(&["", "会计", ""]),
                floats(&[1234.5, nan(), 80.0]),
                numbers(&[2025]),
                texts(&["students"]),
                texts(&[""]),
                texts(&["含五年制\n（另计）"]),
            ],
        );
        row(
            &mut out,
            3,
            "B02",
            [
                vec![],
                vec![],
                vec![],
                vec![],
                numbers(&[2024]),
                texts(&["teachers"]),
                texts(&[""]),
                floats(&[-0.0]),
                vec![],
                vec![],
                vec![],
                vec![],
            ],
        );
        out.extend_from_slice(&END);

        let key = |year, element: &str, major: Option<&str>| FactKey {
            year: Year::new(year).unwrap(),
            element: element.into(),
            major: major.map(str::to_string),
        };
        let major = |name: &str, category: &str, department: &str| Major {
            name: name.into(),
            category: category.into(),
            department: department.into(),
        };
        let mut a = school("A01", &profile("A01")).unwrap();
        a.majors = vec![
            major("会计", "财经商贸", "商贸部"),
            major("数控", "装备制造", "机电部"),
        ];
        a.facts.insert(key(2025, "students", None), 1234.5);
        a.facts.insert(key(2025, "students", Some("会计")), nan());
        a.facts.insert(key(2024, "teachers", None), 80.0);
        a.notes.insert(
            key(2025, "students", None),
            "含五年制\n（另计）".to_string(),
        );
        let mut b = school("B02", &profile("B02")).unwrap();
        b.facts.insert(key(2024, "teachers", None), -0.0);
        (out, vec![a, b])
    }

    fn decode_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<Vec<Dataset>, StoreError> {
        let mut decoder = StreamDecoder::default();
        let mut datasets = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            datasets.extend(decoder.feed(&bytes[from..cut])?);
            from = cut;
        }
        decoder.finish()?;
        Ok(datasets)
    }

    /// Compares datasets with their facts bit for bit (NaN, -0.0).
    fn same(a: &[Dataset], b: &[Dataset]) -> bool {
        let bits = |d: &Dataset| {
            d.facts
                .iter()
                .map(|(k, v)| (k.clone(), v.to_bits()))
                .collect::<Vec<_>>()
        };
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                x.school == y.school
                    && x.majors == y.majors
                    && x.notes == y.notes
                    && bits(x) == bits(y)
            })
    }

    #[test]
    fn output_cut_anywhere_decodes_to_the_same_schools() {
        let (bytes, expected) = sample();
        assert!(same(&decode_in_pieces(&bytes, &[]).unwrap(), &expected));
        for cut in 0..=bytes.len() {
            let got = decode_in_pieces(&bytes, &[cut]).unwrap();
            assert!(same(&got, &expected), "cut at byte {cut}");
        }
        let every_byte: Vec<usize> = (1..bytes.len()).collect();
        assert!(same(
            &decode_in_pieces(&bytes, &every_byte).unwrap(),
            &expected
        ));
    }

    #[test]
    fn a_school_is_handed_over_as_soon_as_its_row_is_in() {
        let (bytes, _) = sample();
        let mut decoder = StreamDecoder::default();
        let second = bytes
            .windows(3)
            .position(|w| w == b"B02")
            .expect("the second school's code")
            - 4
            - 8
            - 4
            - 2;
        let first = decoder.feed(&bytes[..second]).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].school.code, "A01");
        let rest = decoder.feed(&bytes[second..]).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].school.code, "B02");
        decoder.finish().unwrap();
    }

    #[test]
    fn truncated_or_inconsistent_output_is_an_error() {
        let (bytes, _) = sample();
        for end in [0, 5, bytes.len() / 2, bytes.len() - 1] {
            let err = decode_in_pieces(&bytes[..end], &[]).unwrap_err();
            assert!(err.to_string().contains("提前结束"), "{end}: {err}");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_in_pieces(&trailing, &[]).is_err());

        // A school whose columns disagree on how many facts it has.
        let broken = |columns: [Vec<u8>; STREAM_COLUMNS - 3]| {
            let mut out = header();
            row(&mut out, 1, "C03", columns);
            out.extend_from_slice(&END);
            decode_in_pieces(&out, &[]).unwrap_err().to_string()
        };
        let empty = || vec![];
        let fact_columns = |years: Vec<u8>, elements: Vec<u8>, majors: Vec<u8>, values: Vec<u8>| {
            [
                empty(),
                empty(),
                empty(),
                empty(),
                years,
                elements,
                majors,
                values,
                empty(),
                empty(),
                empty(),
                empty(),
            ]
        };
        let err = broken(fact_columns(
            numbers(&[2025, 2025]),
            texts(&["a", "b", "c"]),
            texts(&["", ""]),
            floats(&[1.0, 2.0]),
        ));
        assert!(err.contains("个数不符"), "{err}");
        let err = broken(fact_columns(
            numbers(&[2025]),
            texts(&["a"]),
            texts(&[""]),
            floats(&[1.0, 2.0]),
        ));
        assert!(err.contains("个数不符"), "{err}");
        let err = broken(fact_columns(
            vec![0; 7],
            texts(&["a"]),
            texts(&[""]),
            floats(&[1.0]),
        ));
        assert!(err.contains("8 的倍数"), "{err}");
        let err = broken(fact_columns(vec![], texts(&["a"]), vec![], vec![]));
        assert!(err.contains("个数不符"), "{err}");
    }
}
