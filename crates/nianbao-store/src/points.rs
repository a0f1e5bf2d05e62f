//! The points ledger's persistence (积分制): tree versions, roster, terms, import batches
//! and the append-only event table (partitioned by school and school year on PostgreSQL),
//! kept in the same database (readers and one writer) and migrations as the datasets, keyed by the
//! `school` table; plus the columnar cache file that keeps aggregation fast.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use sqlx::{AnyConnection, Row};

use nianbao_core::{Dataset, Definitions, FactKey, OrgPath, School, Year};
use nianbao_points::awards::{ELEMENT_PREFIX, RulesFile, annual_figures, report_facts};
use nianbao_points::columns::{CacheHeader, Columns, read_cache, write_cache};
use nianbao_points::ledger::{
    Event, EventReader, Ledger, NewEvent, Period, Rejected, RowError, Target, Timestamp,
    format_date, parse_date,
};
use nianbao_points::roster::{Roster, Student};
use nianbao_points::tree::{Catalog, Tree};

use crate::{Backend, Database, Store, StoreError};

/// Everything that can go wrong in the points ledger's store, with messages for the user.
#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    #[error("数据库错误：{0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tree(#[from] nianbao_points::tree::TreeError),
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error(
        "没有代码为「{0}」的学校：先导入学校的数据，或运行 `nianbao points init --school 代码 --name 名称`"
    )]
    UnknownSchool(String),
    #[error("没有「{0}」这个学期")]
    UnknownPeriod(String),
    #[error("名册中没有学号为「{0}」的学生")]
    UnknownStudent(String),
    #[error("{0}")]
    Invalid(String),
    #[error("数据库中的记录无法解读（{0}）")]
    Corrupt(String),
}

/// The points store: the ledger's tables in the data store (and, optionally, a folder of
/// cache files).
#[derive(Debug, Clone)]
pub struct PointsStore {
    store: Store,
    db: Database,
    backend: Backend,
    uid: String,
    cache_dir: Option<PathBuf>,
    /// Events an append must expect for the per-student index to be rebuilt rather than kept
    /// up to date row by row ([`REBUILD_INDEX_FROM`] unless set).
    rebuild_index_from: usize,
}

/// A school's ledger loaded for reading and appending.
#[derive(Debug, Clone)]
pub struct SchoolLedger {
    pub school_id: i64,
    pub code: String,
    pub name: String,
    pub ledger: Ledger,
}

/// What an import appended.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub batch: i64,
    pub events: usize,
    pub reversals: usize,
}

impl Store {
    /// Lays the ledger's figures for the report's section 2.1 into `data`: for each year of
    /// the dataset, the figures of the school year that begins in it (built-in award rules),
    /// for elements of data/elements.toml only. A school without a ledger, or a year without
    /// events, gets nothing, so the report shows a gap.
    pub(crate) async fn lay_in_points(
        &self,
        code: &str,
        data: &mut Dataset,
        definitions: &Definitions,
    ) -> Result<(), PointsError> {
        let school = self.points_school(code).await?;
        let Some(school) = school else {
            return Ok(());
        };
        let has_events =
            sqlx::query("SELECT seq FROM points_event WHERE school_id = $1 AND seq = 1")
                .bind(school)
                .fetch_optional(self.db.reader())
                .await?
                .is_some();
        data.facts
            .retain(|key, _| !key.element.starts_with(ELEMENT_PREFIX));
        if !has_events {
            return Ok(());
        }
        let points = PointsStore::new(self, self.points_cache.clone()).await?;
        let sl = points.open_ledger(code).await?;
        let rules = RulesFile::sample();
        for year in data.years() {
            let figures = annual_figures(&sl.ledger, &sl.name, i32::from(year.get()), &rules);
            for (element, value) in report_facts(&figures) {
                if definitions.elements.get(&element).is_some() {
                    data.set(FactKey::school(year, element), value);
                }
            }
        }
        Ok(())
    }

    async fn points_school(&self, code: &str) -> Result<Option<i64>, PointsError> {
        Ok(sqlx::query(
            "SELECT s.id FROM school s WHERE s.code = $1 AND EXISTS (SELECT 1 FROM points_tree t WHERE t.school_id = s.id)",
        )
        .bind(code)
        .fetch_optional(self.db.reader())
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?)
    }
}

/// One read of a student's records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReadEntry {
    /// The student's number (学号).
    pub student: String,
    pub reader: String,
    pub what: String,
    /// When, in UTC as stored (`nianbao_core::clock::beijing_time` shows it).
    pub read_at: String,
}

/// One export of a list of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportEntry {
    pub exported_by: String,
    pub what: String,
    pub rows: i64,
    /// When, in UTC as stored (`nianbao_core::clock::beijing_time` shows it).
    pub exported_at: String,
}

/// One event as shown in a student's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventRecord {
    pub seq: i64,
    pub event_id: String,
    pub at: String,
    pub tree_version: i64,
    pub observation: String,
    pub observation_name: String,
    pub value: i64,
    pub recorder: String,
    pub role: String,
    pub reason: String,
    pub evidence: Option<String>,
    pub reverses: Option<i64>,
}

/// An event a teacher recorded, as their own list shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedEvent {
    pub event: EventRecord,
    /// The student's number (学号).
    pub student: String,
    /// Index of the event's term in the ledger's terms.
    pub period: Option<usize>,
    /// Whether a later event reversed this one.
    pub reversed: bool,
}

/// Creates (if missing) the PostgreSQL partition of `points_event` that holds one school's
/// events of one school year: one partition per school, and within it one per school year.
pub(crate) async fn create_event_partition(
    tx: &mut AnyConnection,
    school: i64,
    school_year: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT CAST(pg_advisory_xact_lock(4344) AS TEXT)")
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS points_event_s{school} PARTITION OF points_event FOR VALUES IN ({school}) PARTITION BY RANGE (school_year)"
    ))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS points_event_s{school}_y{school_year} PARTITION OF points_event_s{school} FOR VALUES FROM ({school_year}) TO ({})",
        school_year + 1
    ))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One row of `points_event` as shown, its observation named from the tree it was recorded under.
fn event_record(sl: &SchoolLedger, r: &sqlx::any::AnyRow) -> Result<EventRecord, PointsError> {
    let version: i64 = r.try_get("tree_version")?;
    let observation: i64 = r.try_get("observation")?;
    let key = sl
        .ledger
        .catalog
        .key(int(version, "版本")?, int(observation, "观测点")?);
    let (code, name) = key
        .and_then(|k| sl.ledger.catalog.observation(k))
        .map(|(_, o)| (o.code.clone(), o.name.clone()))
        .unwrap_or_default();
    Ok(EventRecord {
        seq: r.try_get("seq")?,
        event_id: r.try_get("event_id")?,
        at: r.try_get("at")?,
        tree_version: version,
        observation: code,
        observation_name: name,
        value: r.try_get("value")?,
        recorder: r.try_get("recorder")?,
        role: r.try_get("role")?,
        reason: r.try_get("reason")?,
        evidence: r.try_get("evidence")?,
        reverses: r.try_get("reverses")?,
    })
}

fn corrupt(what: impl std::fmt::Display) -> PointsError {
    PointsError::Corrupt(what.to_string())
}

fn int<T: TryFrom<i64>>(v: i64, what: &str) -> Result<T, PointsError> {
    T::try_from(v).map_err(|_| corrupt(format!("{what} 超出范围：{v}")))
}

impl PointsStore {
    /// Opens the SQLite file at `path` (creating and migrating it), with its cache beside it.
    pub async fn open_sqlite(path: &Path) -> Result<PointsStore, PointsError> {
        let cache = PathBuf::from(format!("{}.points-cache", path.display()));
        let store = Store::open_sqlite(path).await?;
        PointsStore::new(&store, Some(cache)).await
    }

    /// Opens a store by URL and migrates it. `cache_dir` holds columnar cache files.
    pub async fn open(url: &str, cache_dir: Option<PathBuf>) -> Result<PointsStore, PointsError> {
        let store = Store::open(url).await?;
        PointsStore::new(&store, cache_dir).await
    }

    /// The ledger of an open data store, sharing its pool.
    pub async fn new(
        store: &Store,
        cache_dir: Option<PathBuf>,
    ) -> Result<PointsStore, PointsError> {
        let mut points = PointsStore {
            store: store.clone(),
            db: store.database().clone(),
            backend: store.backend,
            uid: String::new(),
            cache_dir,
            rebuild_index_from: REBUILD_INDEX_FROM,
        };
        points.uid = points.store_uid().await?;
        Ok(points)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Sets how many events an append must expect (and at least as many as the table holds)
    /// for the per-student index to be dropped and rebuilt at its end; tests set it low to
    /// take that path with small files.
    pub fn set_rebuild_index_from(&mut self, events: usize) {
        self.rebuild_index_from = events.max(1);
    }

    /// The database (readers and the writer) the ledger shares with the data store.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The data store the ledger lives in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The identity of this database, kept in `points_meta`: a cache file written for
    /// another database is never read.
    async fn store_uid(&self) -> Result<String, PointsError> {
        let read = |row: Option<sqlx::any::AnyRow>| -> Result<Option<String>, PointsError> {
            Ok(row.map(|r| r.try_get(0)).transpose()?)
        };
        let sql = "SELECT value FROM points_meta WHERE key = 'store'";
        if let Some(uid) = read(sqlx::query(sql).fetch_optional(self.db.reader()).await?)? {
            return Ok(uid);
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let uid = format!("{nanos:x}-{:x}", std::process::id());
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO points_meta (key, value) VALUES ('store', $1) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&uid)
        .execute(&mut *tx)
        .await?;
        let uid = read(sqlx::query(sql).fetch_optional(&mut *tx).await?)?.unwrap_or(uid);
        tx.commit().await?;
        Ok(uid)
    }

    fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            Backend::Postgres => {
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
        }
    }

    /// The school's id, creating the school in the data store (with only its code, name and
    /// report year) when there is none with this code.
    pub async fn ensure_school(
        &self,
        code: &str,
        name: &str,
        report_year: Year,
        actor: &str,
    ) -> Result<i64, PointsError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(PointsError::Invalid("学校代码不能为空".into()));
        }
        if let Ok(id) = self.school_id(code).await {
            return Ok(id);
        }
        let school = School {
            code: code.to_string(),
            name: name.trim().to_string(),
            org_unit: OrgPath::default(),
            report_year,
            ..School::default()
        };
        match self.store.create_school(&school, actor).await {
            Ok(()) | Err(StoreError::SchoolExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.school_id(code).await
    }

    pub async fn school_id(&self, code: &str) -> Result<i64, PointsError> {
        sqlx::query("SELECT id FROM school WHERE code = $1")
            .bind(code)
            .fetch_optional(self.db.reader())
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .ok_or_else(|| PointsError::UnknownSchool(code.to_string()))
    }

    /// (code, name) of every school of the store.
    pub async fn schools(&self) -> Result<Vec<(String, String)>, PointsError> {
        Ok(self
            .store
            .schools()
            .await?
            .into_iter()
            .map(|s| (s.code, s.name))
            .collect())
    }

    /// Stores a new tree version for a school; versions must increase.
    pub async fn load_tree(&self, code: &str, tree: &Tree, actor: &str) -> Result<(), PointsError> {
        let school = self.school_id(code).await?;
        let mut tx = self.db.write().await?;
        let latest: Option<i64> =
            sqlx::query("SELECT MAX(version) FROM points_tree WHERE school_id = $1")
                .bind(school)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        if let Some(latest) = latest
            && i64::from(tree.version) <= latest
        {
            return Err(PointsError::Invalid(format!(
                "学校 {code} 已有第 {latest} 版积分体系；新版本号应大于 {latest}（已记录的积分保留原版本，不会被改写）"
            )));
        }
        let sql = format!(
            "INSERT INTO points_tree (school_id, version, name, effective, source, loaded_at, loaded_by) VALUES ($1, $2, $3, $4, $5, {}, $6)",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(school)
            .bind(i64::from(tree.version))
            .bind(&tree.name)
            .bind(tree.effective.clone())
            .bind(&tree.source)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
        for (i, o) in tree.observations.iter().enumerate() {
            sqlx::query("INSERT INTO points_observation (school_id, tree_version, observation, code, name, point_code, competency_code, value, min_value, max_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(school)
                .bind(i64::from(tree.version))
                .bind(i as i64)
                .bind(&o.code)
                .bind(&o.name)
                .bind(&tree.points[o.point].code)
                .bind(&tree.competencies[o.competency].code)
                .bind(i64::from(o.value))
                .bind(i64::from(o.min))
                .bind(i64::from(o.max))
                .execute(&mut *tx)
                .await?;
            for d in &o.dimensions {
                sqlx::query("INSERT INTO points_observation_dimension (school_id, tree_version, observation, dimension) VALUES ($1, $2, $3, $4)")
                    .bind(school)
                    .bind(i64::from(tree.version))
                    .bind(i as i64)
                    .bind(d.index() as i64)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        crate::bump_revision(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn trees(&self, conn: &mut AnyConnection, school: i64) -> Result<Vec<Tree>, PointsError> {
        let rows = sqlx::query(
            "SELECT version, source FROM points_tree WHERE school_id = $1 ORDER BY version",
        )
        .bind(school)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                let version: i64 = r.try_get(0)?;
                let source: String = r.try_get(1)?;
                Ok(Tree::from_toml(
                    &source,
                    &format!("数据库中的第 {version} 版"),
                )?)
            })
            .collect()
    }

    /// Imports roster rows in one transaction. Returns (added, updated).
    pub async fn import_roster(
        &self,
        code: &str,
        rows: &[Student],
    ) -> Result<(usize, usize), PointsError> {
        let school = self.school_id(code).await?;
        let mut tx = self.db.write().await?;
        let mut roster = load_roster(&mut tx, school).await?;
        let (added, updated) = roster.merge(rows);
        for chunk in added.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO points_student (school_id, id, number, name, class, major, department, entry_year) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 8;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${},${},${},${},${},${},${},${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                ));
            }
            let mut q = sqlx::query(&sql);
            for s in chunk {
                q = q
                    .bind(school)
                    .bind(i64::from(s.id))
                    .bind(&s.number)
                    .bind(&s.name)
                    .bind(&s.class)
                    .bind(&s.major)
                    .bind(&s.department)
                    .bind(i64::from(s.entry_year));
            }
            q.execute(&mut *tx).await?;
        }
        for s in &updated {
            sqlx::query("UPDATE points_student SET name = $1, class = $2, major = $3, department = $4, entry_year = $5 WHERE school_id = $6 AND id = $7")
                .bind(&s.name)
                .bind(&s.class)
                .bind(&s.major)
                .bind(&s.department)
                .bind(i64::from(s.entry_year))
                .bind(school)
                .bind(i64::from(s.id))
                .execute(&mut *tx)
                .await?;
        }
        crate::bump_revision(&mut tx, school).await?;
        tx.commit().await?;
        Ok((added.len(), updated.len()))
    }

    /// Defines a term. Terms of one school may not overlap.
    pub async fn define_period(
        &self,
        code: &str,
        period: &str,
        school_year: i32,
        starts: i32,
        ends: i32,
    ) -> Result<(), PointsError> {
        let school = self.school_id(code).await?;
        if starts > ends {
            return Err(PointsError::Invalid(format!(
                "学期「{period}」的开始日期 {} 晚于结束日期 {}",
                format_date(starts),
                format_date(ends)
            )));
        }
        let mut tx = self.db.write().await?;
        for p in tx.periods(school).await? {
            if p.code == period {
                return Err(PointsError::Invalid(format!("学期「{period}」已存在")));
            }
            if p.starts <= ends && starts <= p.ends {
                return Err(PointsError::Invalid(format!(
                    "学期「{period}」与「{}」（{} 至 {}）日期重叠",
                    p.code,
                    format_date(p.starts),
                    format_date(p.ends)
                )));
            }
        }
        if self.backend == Backend::Postgres {
            create_event_partition(&mut tx, school, i64::from(school_year)).await?;
        }
        sqlx::query("INSERT INTO points_period (school_id, code, school_year, starts, ends) VALUES ($1, $2, $3, $4, $5)")
            .bind(school)
            .bind(period)
            .bind(i64::from(school_year))
            .bind(format_date(starts))
            .bind(format_date(ends))
            .execute(&mut *tx)
            .await?;
        crate::bump_revision(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes one term (`period = Some`) or every term of a school year. Returns the codes closed.
    pub async fn close(
        &self,
        code: &str,
        period: Option<&str>,
        school_year: Option<i32>,
        actor: &str,
    ) -> Result<Vec<String>, PointsError> {
        let school = self.school_id(code).await?;
        let mut tx = self.db.write().await?;
        let periods = tx.periods(school).await?;
        let chosen: Vec<&Period> = periods
            .iter()
            .filter(|p| period.is_none_or(|c| p.code == c))
            .filter(|p| school_year.is_none_or(|y| p.school_year == y))
            .collect();
        if chosen.is_empty() {
            return Err(PointsError::UnknownPeriod(
                period
                    .map(str::to_string)
                    .or(school_year.map(|y| format!("{y} 学年")))
                    .unwrap_or_default(),
            ));
        }
        let mut closed = Vec::new();
        for p in chosen {
            if p.closed {
                if period.is_some() {
                    return Err(PointsError::Invalid(format!("学期「{}」已经结账", p.code)));
                }
                continue;
            }
            let sql = format!(
                "UPDATE points_period SET closed_at = {}, closed_by = $1 WHERE id = $2 AND closed_at IS NULL",
                self.now_sql()
            );
            sqlx::query(&sql)
                .bind(actor)
                .bind(p.id)
                .execute(&mut *tx)
                .await?;
            closed.push(p.code.clone());
        }
        crate::bump_revision(&mut tx, school).await?;
        tx.commit().await?;
        Ok(closed)
    }

    pub async fn periods(&self, code: &str) -> Result<Vec<Period>, PointsError> {
        let school = self.school_id(code).await?;
        let mut conn = self.db.reader().acquire().await?;
        conn.periods(school).await
    }

    fn cache_path(&self, school: i64) -> Option<PathBuf> {
        self.cache_dir
            .as_ref()
            .map(|d| d.join(format!("school-{school}.columns")))
    }

    /// Loads a school's trees, roster, terms and ledger (from the cache file when it is
    /// current, reading only the events appended since).
    pub async fn open_ledger(&self, code: &str) -> Result<SchoolLedger, PointsError> {
        let school = self.school_id(code).await?;
        let name: String = sqlx::query("SELECT name FROM school WHERE id = $1")
            .bind(school)
            .fetch_one(self.db.reader())
            .await?
            .try_get(0)?;
        let mut conn = self.db.reader().acquire().await?;
        let trees = self.trees(&mut conn, school).await?;
        let catalog = Catalog::new(trees);
        let roster = load_roster(&mut conn, school).await?;
        let periods = conn.periods(school).await?;
        let mut columns = Columns::default();
        if let Some(path) = self.cache_path(school)
            && let Some((header, cached)) = read_cache(&path)
            && self
                .cache_fits(&mut conn, school, &header, &catalog, &periods)
                .await?
        {
            columns = cached;
        }
        let before = columns.len();
        catch_up(&mut *conn, school, &catalog, &periods, &mut columns).await?;
        let ledger = SchoolLedger {
            school_id: school,
            code: code.to_string(),
            name,
            ledger: Ledger::new(catalog, roster, periods, columns, false),
        };
        if ledger.ledger.columns.len() != before || before == 0 {
            self.write_cache_file(&mut conn, &ledger).await?;
        }
        Ok(ledger)
    }

    async fn cache_fits(
        &self,
        conn: &mut AnyConnection,
        school: i64,
        header: &CacheHeader,
        catalog: &Catalog,
        periods: &[Period],
    ) -> Result<bool, PointsError> {
        if header.store != self.uid || header.school_id != school {
            return Ok(false);
        }
        let trees_fit = header.trees.len() <= catalog.trees.len()
            && header
                .trees
                .iter()
                .zip(&catalog.trees)
                .all(|(&(v, n), t)| v == t.version && n as usize == t.observations.len());
        let periods_fit = header.periods.len() <= periods.len()
            && header
                .periods
                .iter()
                .zip(periods)
                .all(|(&id, p)| id == p.id);
        if !trees_fit || !periods_fit {
            return Ok(false);
        }
        if header.rows == 0 {
            return Ok(true);
        }
        let last: Option<String> =
            sqlx::query("SELECT event_id FROM points_event WHERE school_id = $1 AND seq = $2")
                .bind(school)
                .bind(header.rows as i64)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        Ok(last.as_deref() == Some(header.last_event_id.as_str()))
    }

    /// Writes the school's columnar cache file (if the store keeps one). Appending does not
    /// write it, so that many batches in a row cost one write.
    pub async fn save_cache(&self, sl: &SchoolLedger) -> Result<(), PointsError> {
        let mut conn = self.db.reader().acquire().await?;
        self.write_cache_file(&mut conn, sl).await
    }

    async fn write_cache_file(
        &self,
        conn: &mut AnyConnection,
        sl: &SchoolLedger,
    ) -> Result<(), PointsError> {
        let Some(path) = self.cache_path(sl.school_id) else {
            return Ok(());
        };
        let l = &sl.ledger;
        let rows = l.columns.len() as u64;
        let last_event_id = if rows == 0 {
            String::new()
        } else {
            sqlx::query("SELECT event_id FROM points_event WHERE school_id = $1 AND seq = $2")
                .bind(sl.school_id)
                .bind(rows as i64)
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?
        };
        let header = CacheHeader {
            store: self.uid.clone(),
            school_id: sl.school_id,
            rows,
            last_event_id,
            trees: l
                .catalog
                .trees
                .iter()
                .map(|t| (t.version, t.observations.len() as u32))
                .collect(),
            periods: l.periods.iter().map(|p| p.id).collect(),
            reverses: l.columns.reverses.len() as u64,
        };
        // A cache that cannot be written only costs speed next time.
        let _ = write_cache(&path, &header, &l.columns);
        Ok(())
    }

    /// Checks and appends a batch in one transaction: either every row is recorded or
    /// none is, and the error names each rejected row.
    pub async fn append(
        &self,
        sl: &mut SchoolLedger,
        file: &str,
        rows: &[NewEvent],
        actor: &str,
    ) -> Result<ImportSummary, PointsError> {
        self.append_from(sl, file, actor, Source::Rows(Some(rows.to_vec())))
            .await
    }

    /// Checks and appends the rows of an events file read `batch` rows at a time (at most
    /// one INSERT statement's worth), all in one transaction: the file is never held in
    /// memory whole, and either every row is recorded or none is. The file is read and
    /// parsed on a thread of its own, a few batches ahead, while this task checks one batch
    /// and the database writes the one before.
    pub async fn import_events(
        &self,
        sl: &mut SchoolLedger,
        reader: EventReader,
        batch: usize,
        actor: &str,
    ) -> Result<ImportSummary, PointsError> {
        let file = reader.file().to_string();
        let batch = batch.clamp(1, self.rows_per_insert());
        let path = reader.path().to_path_buf();
        let source = Source::Reader(spawn_reader(reader, batch), path);
        self.append_from(sl, &file, actor, source).await
    }

    /// Rows per statement that writes events on this backend.
    fn rows_per_insert(&self) -> usize {
        match self.backend {
            Backend::Sqlite => VALUES_ROWS,
            Backend::Postgres => COPY_ROWS,
        }
    }

    async fn append_from(
        &self,
        sl: &mut SchoolLedger,
        file: &str,
        actor: &str,
        mut source: Source,
    ) -> Result<ImportSummary, PointsError> {
        let before = sl.ledger.columns.len();
        let result = match self.backend {
            Backend::Sqlite => match self.db.write().await {
                Ok(tx) => {
                    let writer = SqliteWriter::new(tx, self.rebuild_index_from);
                    self.import_with(writer, sl, file, actor, &mut source).await
                }
                Err(e) => Err(e.into()),
            },
            Backend::Postgres => match self.db.postgres_pool() {
                Some(pool) => match CopyWriter::begin(pool, sl.school_id).await {
                    Ok(writer) => self.import_with(writer, sl, file, actor, &mut source).await,
                    Err(e) => Err(e),
                },
                None => Err(PointsError::Invalid("COPY 只用于 PostgreSQL".into())),
            },
        };
        if result.is_err() {
            // Whatever was applied in memory was rolled back in the database.
            sl.ledger.rollback_to(before);
            sl.ledger.invalidate();
        }
        result
    }

    /// Checks and writes every batch of `source` in the one transaction of `writer`: the
    /// import's batch row first, then the events appended since the ledger was loaded, then
    /// each batch checked while the one before it is written. A refused row, a duplicate id
    /// or a lost connection rolls the whole import back.
    async fn import_with<W: EventWriter>(
        &self,
        mut writer: W,
        sl: &mut SchoolLedger,
        file: &str,
        actor: &str,
        source: &mut Source,
    ) -> Result<ImportSummary, PointsError> {
        let school = sl.school_id;
        // The batch row comes first: on SQLite it takes the write lock before anything is read.
        let batch = writer
            .conn()
            .open_batch(school, file, actor, self.now_sql())
            .await?;

        // Another process may have appended or closed a term since the ledger was loaded.
        let periods = writer.conn().periods(school).await?;
        let before = sl.ledger.columns.len();
        let periods_changed = periods != sl.ledger.periods;
        if periods_changed {
            sl.ledger.periods = periods.clone();
        }
        catch_up(
            writer.conn(),
            school,
            &sl.ledger.catalog,
            &periods,
            &mut sl.ledger.columns,
        )
        .await?;
        if periods_changed || sl.ledger.columns.len() != before {
            sl.ledger.invalidate();
        }

        let mut summary = ImportSummary {
            batch,
            events: 0,
            reversals: 0,
        };
        let mut next = source.next().await?;
        if let Some((rows, expected)) = &next {
            let expected = (*expected).max(rows.len());
            writer.expect(expected).await?;
            // Grown once to the file's estimated size (and a sixteenth, as the estimate comes
            // from the first rows) rather than doubled and copied on the way.
            sl.ledger.columns.reserve(expected + expected / 16);
        }
        // The ids of the batch being written: reversals in the next batch may name them
        // before they are in the database.
        let mut writing = BatchIds::default();
        let mut encoded: Option<W::Encoded> = None;
        loop {
            writer.before_batch(school, summary.events).await?;
            // The database has every batch before the one about to be written: reversal
            // targets are looked up there or among the ids of that batch.
            let rows = match next.take() {
                Some((rows, _)) => {
                    let existing = find_targets(writer.conn(), school, &rows, &writing).await?;
                    Some((rows, existing))
                }
                None => None,
            };
            if rows.is_none() && encoded.is_none() {
                break;
            }
            let ledger = &mut sl.ledger;
            let periods = &periods;
            let check = async move {
                let Some((rows, existing)) = rows else {
                    return Ok(None);
                };
                let mut ids = BatchIds::of(&rows);
                ids.first_seq = ledger.columns.len() as u32 + 1;
                let events = ledger.check_and_apply(file, rows, &existing)?;
                let reversals = events.iter().filter(|e| e.reverses.is_some()).count();
                let count = events.len();
                let encoded = W::encode(periods, school, batch, events);
                Ok::<_, PointsError>(Some((encoded, ids, count, reversals)))
            };
            let write = async {
                match encoded.take() {
                    Some(batch) => writer.write(batch).await,
                    None => Ok(()),
                }
            };
            // The database writes one batch (on its own thread for SQLite, on the server
            // for PostgreSQL) while this task checks the next.
            let (written, checked) = futures_util::future::join(write, check).await;
            if let Err(error) = written {
                let unique = matches!(&error, sqlx::Error::Database(d) if d.is_unique_violation());
                drop(writer);
                if unique {
                    let rejected = self
                        .duplicates(school, file, &writing, source.path())
                        .await?;
                    if !rejected.errors.is_empty() {
                        return Err(rejected.into());
                    }
                }
                return Err(error.into());
            }
            if let Some((checked, ids, count, reversals)) = checked? {
                encoded = Some(checked);
                writing = ids;
                summary.events += count;
                summary.reversals += reversals;
                next = source.next().await?;
            }
        }
        writer.complete().await?;
        let conn = writer.conn();
        conn.run(
            "UPDATE points_batch SET events = $1 WHERE school_id = $2 AND id = $3",
            &[summary.events as i64, school, batch],
        )
        .await?;
        conn.run(crate::BUMP_REVISION_SQL, &[school]).await?;
        writer.commit().await?;
        Ok(summary)
    }

    /// The rows of a batch the database refused for a repeated event id: those whose id was
    /// recorded before, and (when the rows come from the file at `path`) those whose id an
    /// earlier row of the file holds, which the checks, one batch at a time, do not see.
    async fn duplicates(
        &self,
        school: i64,
        file: &str,
        batch: &BatchIds,
        path: Option<&Path>,
    ) -> Result<Rejected, PointsError> {
        let mut conn = self.db.reader().acquire().await?;
        let ids: Vec<&str> = batch.iter().map(|(_, id)| id).collect();
        let recorded = find_events(&mut conn, school, &ids).await?;
        let unseen: HashSet<String> = batch
            .iter()
            .filter(|(_, id)| !recorded.contains_key(*id))
            .map(|(_, id)| id.to_string())
            .collect();
        let earlier = match (path, batch.iter().next()) {
            (Some(path), Some((first, _))) if !unseen.is_empty() => {
                let path = path.to_path_buf();
                tokio::task::spawn_blocking(move || earlier_rows(&path, first, unseen))
                    .await
                    .unwrap_or_default()
            }
            _ => HashMap::new(),
        };
        let errors = batch
            .iter()
            .filter_map(|(row, id)| {
                let message = if recorded.contains_key(id) {
                    format!("「{id}」已经记录过")
                } else {
                    let earlier = earlier.get(id)?;
                    format!("「{id}」在本批中重复出现（第 {earlier} 行已有）")
                };
                Some(RowError {
                    row,
                    column: Some("事件编号".into()),
                    message,
                })
            })
            .take(nianbao_points::ledger::MAX_ERRORS)
            .collect();
        Ok(Rejected {
            file: file.to_string(),
            errors,
        })
    }

    /// The events `recorder` recorded in the school, newest first, each with its student's
    /// 学号, its term and whether it was reversed since: what a teacher's own list shows.
    pub async fn recorded_by(
        &self,
        sl: &SchoolLedger,
        recorder: &str,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, PointsError> {
        let rows = sqlx::query(
            "SELECT seq, event_id, at, tree_version, observation, value, recorder, role, reason, evidence, reverses, student_id, period_id \
             FROM points_event WHERE school_id = $1 AND recorder = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(sl.school_id)
        .bind(recorder)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let student: i64 = r.try_get("student_id")?;
                let period_id: i64 = r.try_get("period_id")?;
                let event = event_record(sl, r)?;
                let period = sl.ledger.periods.iter().position(|p| p.id == period_id);
                Ok(RecordedEvent {
                    student: sl
                        .ledger
                        .roster
                        .student(int(student, "学生")?)
                        .map(|s| s.number.clone())
                        .unwrap_or_default(),
                    period,
                    reversed: sl.ledger.is_reversed(int(event.seq, "序号")?),
                    event,
                })
            })
            .collect()
    }

    /// A student's events, newest first.
    pub async fn history(
        &self,
        sl: &SchoolLedger,
        student: u32,
        limit: i64,
    ) -> Result<Vec<EventRecord>, PointsError> {
        let rows = sqlx::query(
            "SELECT seq, event_id, at, tree_version, observation, value, recorder, role, reason, evidence, reverses \
             FROM points_event WHERE school_id = $1 AND student_id = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(sl.school_id)
        .bind(i64::from(student))
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(|r| event_record(sl, r)).collect()
    }

    /// Logs that `reader` read a student's `what` (画像, 积分流水 …): the ledger holds minors'
    /// records, and every read of one of them is kept with who and when.
    pub async fn log_read(
        &self,
        sl: &SchoolLedger,
        student: u32,
        reader: &str,
        what: &str,
    ) -> Result<(), PointsError> {
        let mut tx = self.db.write().await?;
        let sql = format!(
            "INSERT INTO points_read (school_id, student_id, reader, what, read_at) VALUES ($1, $2, $3, $4, {})",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(sl.school_id)
            .bind(i64::from(student))
            .bind(reader)
            .bind(what)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Logs that `who` exported `what` (a ranking, an award list) with `rows` rows, and
    /// returns the time logged (UTC, as stored), which the exported file shows too.
    pub async fn log_export(
        &self,
        sl: &SchoolLedger,
        who: &str,
        what: &str,
        rows: usize,
    ) -> Result<String, PointsError> {
        let at = nianbao_core::clock::stored_time(time::OffsetDateTime::now_utc());
        let mut tx = self.db.write().await?;
        sqlx::query(
            "INSERT INTO points_export (school_id, exported_by, what, rows, exported_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sl.school_id)
        .bind(who)
        .bind(what)
        .bind(rows as i64)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(at)
    }

    /// The newest `limit` exports of the school's lists, newest first.
    pub async fn exports(
        &self,
        sl: &SchoolLedger,
        limit: i64,
    ) -> Result<Vec<ExportEntry>, PointsError> {
        let rows = sqlx::query(
            "SELECT exported_by, what, rows, exported_at FROM points_export \
             WHERE school_id = $1 ORDER BY exported_at DESC, what LIMIT $2",
        )
        .bind(sl.school_id)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExportEntry {
                    exported_by: r.try_get(0)?,
                    what: r.try_get(1)?,
                    rows: r.try_get(2)?,
                    exported_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The newest `limit` reads of students' records, newest first; of one student when
    /// `student` is given.
    pub async fn reads(
        &self,
        sl: &SchoolLedger,
        student: Option<u32>,
        limit: i64,
    ) -> Result<Vec<ReadEntry>, PointsError> {
        let rows = sqlx::query(
            "SELECT student_id, reader, what, read_at FROM points_read \
             WHERE school_id = $1 AND ($2 < 0 OR student_id = $2) ORDER BY read_at DESC, student_id LIMIT $3",
        )
        .bind(sl.school_id)
        .bind(student.map_or(-1, i64::from))
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get(0)?;
                let number = sl
                    .ledger
                    .roster
                    .student(int(id, "学生")?)
                    .map(|s| s.number.clone())
                    .unwrap_or_default();
                Ok(ReadEntry {
                    student: number,
                    reader: r.try_get(1)?,
                    what: r.try_get(2)?,
                    read_at: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Per student × dimension totals computed by the database itself (the reference the
    /// columnar path is measured and tested against). Returns (student id, dimension, sum).
    pub async fn sql_student_dimensions(
        &self,
        school: i64,
    ) -> Result<Vec<(i64, i64, i64)>, PointsError> {
        let rows = sqlx::query(
            "SELECT e.student_id, d.dimension, CAST(SUM(e.value) AS BIGINT) FROM points_event e \
             JOIN points_observation_dimension d ON d.school_id = e.school_id \
               AND d.tree_version = e.tree_version AND d.observation = e.observation \
             WHERE e.school_id = $1 GROUP BY e.student_id, d.dimension",
        )
        .bind(school)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Number of events of a school, counted by the database.
    pub async fn count_events(&self, school: i64) -> Result<i64, PointsError> {
        Ok(
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM points_event WHERE school_id = $1")
                .bind(school)
                .fetch_one(self.db.reader())
                .await?
                .try_get(0)?,
        )
    }
}

/// Rows per COPY of events on PostgreSQL.
const COPY_ROWS: usize = 10_000;

/// Where appended rows come from: rows given whole, or batches of a file read on a thread
/// of its own.
enum Source {
    Rows(Option<Vec<NewEvent>>),
    /// Batches read ahead from the file at the path.
    Reader(
        tokio::sync::mpsc::Receiver<Result<(Vec<NewEvent>, usize), Rejected>>,
        PathBuf,
    ),
}

impl Source {
    /// The file the rows are read from, if they are.
    fn path(&self) -> Option<&Path> {
        match self {
            Source::Rows(_) => None,
            Source::Reader(_, path) => Some(path),
        }
    }

    /// The next batch and the number of rows the whole append is expected to bring.
    async fn next(&mut self) -> Result<Option<(Vec<NewEvent>, usize)>, Rejected> {
        match self {
            Source::Rows(rows) => Ok(rows.take().map(|rows| {
                let n = rows.len();
                (rows, n)
            })),
            Source::Reader(batches, _) => batches.recv().await.transpose(),
        }
    }
}

/// Batches of the file parsed ahead of the checks.
const READ_AHEAD: usize = 4;

/// Reads `reader` `batch` rows at a time on a thread of its own, a few batches ahead; each
/// batch comes with the number of rows the whole file is estimated to hold. The thread ends
/// at the end of the file, after the first refused batch, or when the receiver is dropped.
fn spawn_reader(
    mut reader: EventReader,
    batch: usize,
) -> tokio::sync::mpsc::Receiver<Result<(Vec<NewEvent>, usize), Rejected>> {
    let (send, receive) = tokio::sync::mpsc::channel(READ_AHEAD);
    std::thread::spawn(move || {
        loop {
            let next = reader
                .next_batch(batch)
                .map(|rows| rows.map(|rows| (rows, reader.estimated_rows())));
            let item = match next {
                Ok(Some(item)) => Ok(item),
                Ok(None) => return,
                Err(rejected) => Err(rejected),
            };
            let refused = item.is_err();
            if send.blocking_send(item).is_err() || refused {
                return;
            }
        }
    });
    receive
}

/// The row of the events file at `path` where each of `ids` first stands, among the rows
/// before `before` (rows counted as the file's reader counts them); an id on none of them
/// is left out.
fn earlier_rows(path: &Path, before: usize, mut ids: HashSet<String>) -> HashMap<String, usize> {
    let mut found = HashMap::new();
    let Ok(mut reader) = EventReader::open(path) else {
        return found;
    };
    // The first data row is row 2. Only the rows before `before` are read: a later one may
    // not parse, which would refuse the batch it is read in.
    let mut left = before.saturating_sub(2);
    while left > 0 && !ids.is_empty() {
        let Ok(Some(rows)) = reader.next_batch(left.min(10_000)) else {
            break;
        };
        left = left.saturating_sub(rows.len());
        for r in rows {
            if let Some(id) = ids.take(r.event_id.trim()) {
                found.insert(id, r.row);
            }
        }
    }
    found
}

/// The row numbers and event ids of one checked batch, kept in one text.
#[derive(Debug, Default)]
struct BatchIds {
    text: String,
    /// (row, end of the id in `text`).
    ends: Vec<(usize, usize)>,
    /// The sequence number of the first event (each row makes one event, in order).
    first_seq: u32,
}

impl BatchIds {
    fn of(rows: &[NewEvent]) -> BatchIds {
        let mut ids = BatchIds {
            text: String::with_capacity(rows.iter().map(|r| r.event_id.len()).sum()),
            ends: Vec::with_capacity(rows.len()),
            first_seq: 0,
        };
        for r in rows {
            ids.text.push_str(r.event_id.trim());
            ids.ends.push((r.row, ids.text.len()));
        }
        ids
    }

    /// The sequence number of the event with this id, if it is one of the batch's.
    fn seq(&self, id: &str) -> Option<u32> {
        self.iter()
            .position(|(_, own)| own == id)
            .map(|i| self.first_seq + i as u32)
    }

    /// (row, id) of each event, in order.
    fn iter(&self) -> impl Iterator<Item = (usize, &str)> {
        let mut start = 0;
        self.ends.iter().map(move |&(row, end)| {
            let id = &self.text[start..end];
            start = end;
            (row, id)
        })
    }
}

/// The INSERT statements that write one checked batch on SQLite: multi-row INSERTs of
/// [`insert_values_sql`], (rows, values) each.
struct Insert(Vec<(usize, sqlx::any::AnyArguments<'static>)>);

impl Insert {
    fn new(periods: &[Period], school: i64, batch: i64, events: Vec<Event>) -> Insert {
        let mut out = Vec::with_capacity(events.len().div_ceil(VALUES_ROWS));
        let mut events = events.into_iter().peekable();
        while events.peek().is_some() {
            let part: Vec<Event> = events.by_ref().take(VALUES_ROWS).collect();
            out.push((part.len(), values(periods, school, batch, part)));
        }
        Insert(out)
    }
}

/// The queries the ledger runs on a connection of either kind: the `Any` connections of the
/// store's pools, or one of PostgreSQL's own type (an import by COPY).
trait LedgerConn: Send {
    /// The query of [`LedgerConn::events_page`] on this connection's database.
    fn catch_up_sql(&self) -> &'static str;

    /// One page of a school's events numbered after `after` ([`CATCH_UP_PAGE`] at most), as
    /// one JSON text.
    async fn events_page(&mut self, school: i64, after: i64) -> Result<String, PointsError>;

    /// Sequence numbers of the school's events with these ids.
    async fn find_events(
        &mut self,
        school: i64,
        ids: &[&str],
    ) -> Result<HashMap<String, Target>, PointsError>;

    /// The school's terms, in the order they were defined.
    async fn periods(&mut self, school: i64) -> Result<Vec<Period>, PointsError>;

    /// Runs one statement whose arguments are whole numbers.
    async fn run(&mut self, sql: &str, values: &[i64]) -> Result<(), PointsError>;

    /// Adds an import's row to `points_batch` (its events counted at its end) and returns
    /// its number. `now_sql` is the backend's expression for the current time.
    async fn open_batch(
        &mut self,
        school: i64,
        file: &str,
        actor: &str,
        now_sql: &str,
    ) -> Result<i64, PointsError>;
}

// The queries below are the same text on the store's `Any` connections and on PostgreSQL's own:
// each is a function generic over the connection, which both kinds of [`LedgerConn`] call.

/// One page of a school's events numbered after `after`, as one JSON text, by `sql` (the
/// connection's [`LedgerConn::catch_up_sql`]).
async fn events_page_on<C, DB>(
    conn: &mut C,
    sql: &str,
    school: i64,
    after: i64,
) -> Result<String, PointsError>
where
    DB: sqlx::Database,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    Ok(sqlx::query::<DB>(sql)
        .bind(school)
        .bind(after)
        .bind(CATCH_UP_PAGE)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

/// The school's terms, in the order they were defined.
async fn periods_on<C, DB>(conn: &mut C, school: i64) -> Result<Vec<Period>, PointsError>
where
    DB: sqlx::Database,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB>,
    for<'r> String: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    sqlx::query::<DB>(PERIODS_SQL)
        .bind(school)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(period_of)
        .collect()
}

/// Runs one statement whose arguments are whole numbers.
async fn run_on<C, DB>(conn: &mut C, sql: &str, values: &[i64]) -> Result<(), PointsError>
where
    DB: sqlx::Database,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut query = sqlx::query::<DB>(sql);
    for v in values {
        query = query.bind(*v);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Adds an import's row to `points_batch` (its events counted at its end) and returns its
/// number. `now_sql` is the backend's expression for the current time.
async fn open_batch_on<C, DB>(
    conn: &mut C,
    school: i64,
    file: &str,
    actor: &str,
    now_sql: &str,
) -> Result<i64, PointsError>
where
    DB: sqlx::Database,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> i64: sqlx::Decode<'r, DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let sql = format!(
        "INSERT INTO points_batch (school_id, id, source, actor, imported_at, events) \
         SELECT $1, COALESCE(MAX(id), 0) + 1, $2, $3, {now_sql}, 0 FROM points_batch WHERE school_id = $4 \
         RETURNING id"
    );
    Ok(sqlx::query::<DB>(&sql)
        .bind(school)
        .bind(file)
        .bind(actor)
        .bind(school)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?)
}

impl LedgerConn for AnyConnection {
    async fn events_page(&mut self, school: i64, after: i64) -> Result<String, PointsError> {
        events_page_on(self, self.catch_up_sql(), school, after).await
    }

    async fn periods(&mut self, school: i64) -> Result<Vec<Period>, PointsError> {
        periods_on(self, school).await
    }

    async fn run(&mut self, sql: &str, values: &[i64]) -> Result<(), PointsError> {
        run_on(self, sql, values).await
    }

    async fn open_batch(
        &mut self,
        school: i64,
        file: &str,
        actor: &str,
        now_sql: &str,
    ) -> Result<i64, PointsError> {
        open_batch_on(self, school, file, actor, now_sql).await
    }

    fn catch_up_sql(&self) -> &'static str {
        if backend_of(self) == Backend::Postgres {
            CATCH_UP_SQL_POSTGRES
        } else {
            CATCH_UP_SQL_SQLITE
        }
    }

    async fn find_events(
        &mut self,
        school: i64,
        ids: &[&str],
    ) -> Result<HashMap<String, Target>, PointsError> {
        find_events(self, school, ids).await
    }
}

impl LedgerConn for sqlx::PgConnection {
    async fn events_page(&mut self, school: i64, after: i64) -> Result<String, PointsError> {
        events_page_on(self, self.catch_up_sql(), school, after).await
    }

    async fn periods(&mut self, school: i64) -> Result<Vec<Period>, PointsError> {
        periods_on(self, school).await
    }

    async fn run(&mut self, sql: &str, values: &[i64]) -> Result<(), PointsError> {
        run_on(self, sql, values).await
    }

    async fn open_batch(
        &mut self,
        school: i64,
        file: &str,
        actor: &str,
        now_sql: &str,
    ) -> Result<i64, PointsError> {
        open_batch_on(self, school, file, actor, now_sql).await
    }

    fn catch_up_sql(&self) -> &'static str {
        CATCH_UP_SQL_POSTGRES
    }

    /// One query with the ids as an array.
    async fn find_events(
        &mut self,
        school: i64,
        ids: &[&str],
    ) -> Result<HashMap<String, Target>, PointsError> {
        let mut found = HashMap::new();
        if ids.is_empty() {
            return Ok(found);
        }
        let rows = sqlx::query(
            "SELECT event_id, seq FROM points_event WHERE school_id = $1 AND event_id = ANY($2)",
        )
        .bind(school)
        .bind(ids)
        .fetch_all(&mut *self)
        .await?;
        for r in rows {
            let seq: i64 = r.try_get(1)?;
            found.insert(
                r.try_get(0)?,
                Target {
                    seq: int(seq, "序号")?,
                },
            );
        }
        Ok(found)
    }
}

/// One backend's side of an import, which [`PointsStore::import_with`] drives: the
/// transaction everything happens in, and how a checked batch is encoded for the database
/// (while the batch before it is written) and then written.
trait EventWriter {
    /// The transaction's connection.
    type Conn: LedgerConn;
    /// A checked batch, ready to be written.
    type Encoded;

    /// The connection of the import's transaction, for the reads the checks need.
    fn conn(&mut self) -> &mut Self::Conn;

    /// Told, before anything is written, how many events the import is expected to bring.
    async fn expect(&mut self, _expected: usize) -> Result<(), PointsError> {
        Ok(())
    }

    /// Called before each batch's reversal targets are looked up, with the events checked
    /// so far.
    async fn before_batch(&mut self, _school: i64, _checked: usize) -> Result<(), PointsError> {
        Ok(())
    }

    /// The checked `events` of one batch encoded for [`EventWriter::write`].
    fn encode(periods: &[Period], school: i64, batch: i64, events: Vec<Event>) -> Self::Encoded;

    /// Writes one encoded batch.
    async fn write(&mut self, encoded: Self::Encoded) -> Result<(), sqlx::Error>;

    /// Called after the last batch is written, before the import's count is recorded.
    async fn complete(&mut self) -> Result<(), PointsError> {
        Ok(())
    }

    async fn commit(self) -> Result<(), PointsError>;
}

/// SQLite: the import in one write transaction on the store's writer (`BEGIN IMMEDIATE`),
/// each checked batch written by multi-row INSERTs; a large import into a table that holds
/// fewer events defers the per-student and per-recorder indexes and builds them at its end.
struct SqliteWriter {
    tx: crate::WriteTx,
    /// The INSERT of a full [`VALUES_ROWS`] chunk, prepared once.
    full_sql: String,
    /// Events an import must expect for the indexes to be deferred.
    rebuild_from: usize,
    /// The statements that build the deferred indexes again.
    rebuild: Vec<String>,
}

impl SqliteWriter {
    fn new(tx: crate::WriteTx, rebuild_from: usize) -> SqliteWriter {
        SqliteWriter {
            tx,
            full_sql: insert_values_sql(VALUES_ROWS),
            rebuild_from,
            rebuild: Vec::new(),
        }
    }
}

impl EventWriter for SqliteWriter {
    type Conn = AnyConnection;
    type Encoded = Insert;

    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    async fn expect(&mut self, expected: usize) -> Result<(), PointsError> {
        self.rebuild = defer_indexes(&mut self.tx, expected, self.rebuild_from).await?;
        Ok(())
    }

    fn encode(periods: &[Period], school: i64, batch: i64, events: Vec<Event>) -> Insert {
        Insert::new(periods, school, batch, events)
    }

    async fn write(&mut self, insert: Insert) -> Result<(), sqlx::Error> {
        for (rows, args) in insert.0 {
            if rows == VALUES_ROWS {
                // Prepared once per connection and reused.
                sqlx::query_with(&self.full_sql, args)
                    .execute(&mut *self.tx)
                    .await?;
            } else {
                let sql = insert_values_sql(rows);
                sqlx::query_with(&sql, args)
                    .persistent(false)
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    /// Builds the deferred indexes again.
    async fn complete(&mut self) -> Result<(), PointsError> {
        if self.rebuild.is_empty() {
            return Ok(());
        }
        let tx = &mut *self.tx;
        // The sorts spill to temporary files, not to memory (the store's setting), and
        // may use a second thread.
        sqlx::query("PRAGMA temp_store = FILE")
            .execute(&mut *tx)
            .await?;
        sqlx::query("PRAGMA threads = 2").execute(&mut *tx).await?;
        let mut built = Ok(());
        for create in &self.rebuild {
            built = sqlx::query(create).execute(&mut *tx).await.map(|_| ());
            if built.is_err() {
                break;
            }
        }
        sqlx::query("PRAGMA temp_store = MEMORY")
            .execute(&mut *tx)
            .await?;
        sqlx::query("PRAGMA threads = 0").execute(&mut *tx).await?;
        Ok(built?)
    }

    async fn commit(self) -> Result<(), PointsError> {
        Ok(self.tx.commit().await?)
    }
}

/// PostgreSQL: the import in one transaction on a connection of PostgreSQL's own type,
/// each checked batch written by one `COPY … FROM STDIN`.
struct CopyWriter {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    /// Events checked when the school's partitions were last analyzed.
    analyzed: usize,
}

impl CopyWriter {
    /// Begins the import's transaction, holding the school's import lock.
    async fn begin(pool: &sqlx::PgPool, school: i64) -> Result<CopyWriter, PointsError> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT CAST(pg_advisory_xact_lock(4345, CAST($1 AS INTEGER)) AS TEXT)")
            .bind(school)
            .execute(&mut *tx)
            .await?;
        // The statistics of the school's partitions do not know of the rows this transaction
        // adds: a partition that held few rows before would be read whole for each batch's
        // reversal targets. The index is always the way here.
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await?;
        Ok(CopyWriter { tx, analyzed: 0 })
    }
}

impl EventWriter for CopyWriter {
    type Conn = sqlx::PgConnection;
    type Encoded = Vec<u8>;

    fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }

    /// Statistics that count this transaction's rows, each time they double, so that the
    /// reversal targets are looked up by the event-id index.
    async fn before_batch(&mut self, school: i64, checked: usize) -> Result<(), PointsError> {
        if checked >= 2 * self.analyzed.max(COPY_ROWS) {
            sqlx::query(&format!("ANALYZE points_event_s{school}"))
                .execute(&mut *self.tx)
                .await?;
            self.analyzed = checked;
        }
        Ok(())
    }

    fn encode(periods: &[Period], school: i64, batch: i64, events: Vec<Event>) -> Vec<u8> {
        copy_text(periods, school, batch, &events)
    }

    async fn write(&mut self, data: Vec<u8>) -> Result<(), sqlx::Error> {
        let mut sink = self.tx.copy_in_raw(COPY_EVENTS_SQL).await?;
        if let Err(e) = sink.send(data).await {
            let _ = sink.abort("导入中止").await;
            return Err(e);
        }
        sink.finish().await.map(|_| ())
    }

    async fn commit(self) -> Result<(), PointsError> {
        Ok(self.tx.commit().await?)
    }
}

/// Events expected in one append from which the per-student and per-recorder indexes of
/// `points_event` are dropped inside the transaction and built again once at its end, when the append also
/// brings at least as many events as the table holds: one sort then costs less than a
/// B-tree insert at a random place for every event.
const REBUILD_INDEX_FROM: usize = 100_000;

/// The indexes whose upkeep a bulk append defers (SQLite): by student and by recorder, whose
/// keys arrive in no order (the primary key and the event-id index grow at their end).
const DEFERRED_INDEXES: [&str; 2] = ["points_event_student", "points_event_recorder"];

/// On SQLite, drops the per-student and per-recorder indexes of `points_event` when an
/// append of `expected` events (at least `from`) is worth rebuilding them for, and returns
/// the statements that build them again (as the schema defines them). Both happen in the
/// append's transaction: a failed or killed import leaves the indexes as they were.
async fn defer_indexes(
    tx: &mut AnyConnection,
    expected: usize,
    from: usize,
) -> Result<Vec<String>, PointsError> {
    if expected < from {
        return Ok(Vec::new());
    }
    let stored: i64 =
        sqlx::query("SELECT CAST(COALESCE(SUM(events), 0) AS BIGINT) FROM points_batch")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
    if (expected as i64) < stored {
        return Ok(Vec::new());
    }
    let mut creates = Vec::new();
    for index in DEFERRED_INDEXES {
        let create: Option<String> =
            sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1")
                .bind(index)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        let Some(create) = create else {
            continue;
        };
        sqlx::query(&format!("DROP INDEX {index}"))
            .execute(&mut *tx)
            .await?;
        creates.push(create);
    }
    Ok(creates)
}

/// Rows per prepared multi-row INSERT on SQLite: 16 bound values a row stay within
/// SQLite's 32,766 variables.
const VALUES_ROWS: usize = 2_000;

/// `INSERT INTO points_event … VALUES (?, …), (?, …)` for `rows` rows of 16 values, in the
/// order [`bind_values`] binds them. Anonymous `?` only: for numbered or named parameters
/// (`?NNN`, `$NNN`) the driver asks SQLite each parameter's name, a walk over all of them,
/// which makes binding a long statement quadratic. The text is the same for every full
/// chunk, so the connection prepares it once and reuses it.
fn insert_values_sql(rows: usize) -> String {
    const ROW: &str = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    let mut sql = String::with_capacity(200 + rows * (ROW.len() + 1));
    sql.push_str(
        "INSERT INTO points_event (school_id, batch_id, school_year, seq, event_id, student_id, tree_version, observation, value, at, period_id, recorder, role, reason, evidence, reverses) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(ROW);
    }
    sql
}

/// The values of [`insert_values_sql`] for `events`, in its order. The texts are moved into
/// the arguments, not copied: the driver copies them once more into SQLite, and only a
/// borrowed text would be copied on the way (sqlx's `String` binding clones).
fn values(
    periods: &[Period],
    school: i64,
    batch: i64,
    events: Vec<Event>,
) -> sqlx::any::AnyArguments<'static> {
    use sqlx::any::AnyTypeInfoKind;
    // Not re-exported by sqlx (hidden in sqlx-core, whose version sqlx pins).
    use sqlx_core::any::AnyValueKind;
    use std::borrow::Cow;
    let mut args = sqlx::any::AnyArguments::default();
    let v = &mut args.values.0;
    v.reserve(events.len() * 16);
    let text = |s: String| AnyValueKind::Text(Cow::Owned(s));
    for e in events {
        let p = &periods[e.period];
        v.push(AnyValueKind::BigInt(school));
        v.push(AnyValueKind::BigInt(batch));
        v.push(AnyValueKind::BigInt(i64::from(p.school_year)));
        v.push(AnyValueKind::BigInt(i64::from(e.seq)));
        v.push(text(e.event_id));
        v.push(AnyValueKind::BigInt(i64::from(e.student)));
        v.push(AnyValueKind::BigInt(i64::from(e.tree_version)));
        v.push(AnyValueKind::BigInt(i64::from(e.observation)));
        v.push(AnyValueKind::BigInt(i64::from(e.value)));
        v.push(text(e.at.to_text()));
        v.push(AnyValueKind::BigInt(p.id));
        v.push(text(e.recorder));
        v.push(text(e.role));
        v.push(text(e.reason));
        v.push(match e.evidence {
            Some(s) => text(s),
            None => AnyValueKind::Null(AnyTypeInfoKind::Text),
        });
        v.push(match e.reverses {
            Some(t) => AnyValueKind::BigInt(i64::from(t)),
            None => AnyValueKind::Null(AnyTypeInfoKind::BigInt),
        });
    }
    args
}

/// The events that the reversals among `rows` name, found in the batch being written or
/// in the database (the batch's own rows are found by the checks).
async fn find_targets<C: LedgerConn>(
    conn: &mut C,
    school: i64,
    rows: &[NewEvent],
    writing: &BatchIds,
) -> Result<HashMap<String, Target>, PointsError> {
    let mut found = HashMap::new();
    let mut wanted: Vec<&str> = Vec::new();
    for id in rows
        .iter()
        .filter_map(|r| r.reverses.as_deref().map(str::trim))
    {
        match writing.seq(id) {
            Some(seq) => {
                found.insert(id.to_string(), Target { seq });
            }
            None => wanted.push(id),
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    found.extend(conn.find_events(school, &wanted).await?);
    Ok(found)
}

/// Sequence numbers of the events with these ids.
async fn find_events(
    conn: &mut AnyConnection,
    school: i64,
    ids: &[&str],
) -> Result<HashMap<String, Target>, PointsError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT event_id, seq FROM points_event WHERE school_id = $1 AND event_id IN ({})",
            marks.join(",")
        );
        let mut q = sqlx::query(&sql).bind(school);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let id: String = r.try_get(0)?;
            let seq: i64 = r.try_get(1)?;
            found.insert(
                id,
                Target {
                    seq: int(seq, "序号")?,
                },
            );
        }
    }
    Ok(found)
}

/// Events read by one query of a catch-up.
const CATCH_UP_PAGE: i64 = 200_000;

/// One page of events numbered after `$2`, as one JSON text: decoding values one by one
/// through `Any` is the slow part. `$1` school, `$3` page size.
const CATCH_UP_SQL_POSTGRES: &str = "SELECT CAST(COALESCE(json_agg(json_build_array(seq, student_id, tree_version, observation, value, at, period_id, reverses) ORDER BY seq), '[]') AS TEXT) \
     FROM (SELECT * FROM points_event WHERE school_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) e";
const CATCH_UP_SQL_SQLITE: &str = "SELECT COALESCE(json_group_array(json_array(seq, student_id, tree_version, observation, value, at, period_id, reverses) ORDER BY seq), '[]') \
     FROM (SELECT * FROM points_event WHERE school_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)";

/// Appends to `columns` the events numbered after it, reading them in pages.
async fn catch_up<C: LedgerConn>(
    conn: &mut C,
    school: i64,
    catalog: &Catalog,
    periods: &[Period],
    columns: &mut Columns,
) -> Result<(), PointsError> {
    loop {
        let text = conn.events_page(school, columns.len() as i64).await?;
        if append_page(&text, catalog, periods, columns)? < CATCH_UP_PAGE as usize {
            return Ok(());
        }
    }
}

/// Appends one page of a catch-up to `columns`; returns how many events it held.
fn append_page(
    text: &str,
    catalog: &Catalog,
    periods: &[Period],
    columns: &mut Columns,
) -> Result<usize, PointsError> {
    let period_index: HashMap<i64, usize> =
        periods.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    type EventRow = (i64, i64, i64, i64, i64, String, i64, Option<i64>);
    let rows: Vec<EventRow> =
        serde_json::from_str(text).map_err(|e| corrupt(format!("积分事件：{e}")))?;
    columns.reserve(rows.len());
    for (seq, student, version, observation, value, at, period_id, reverses) in &rows {
        let seq = *seq;
        if seq != columns.len() as i64 + 1 {
            return Err(corrupt(format!(
                "事件序号不连续：应为 {}，读到 {seq}",
                columns.len() + 1
            )));
        }
        let key = catalog
            .key(int(*version, "版本")?, int(*observation, "观测点")?)
            .ok_or_else(|| corrupt(format!("事件 {seq} 的观测点不在任何已存版本中")))?;
        let day = Timestamp::parse(at)
            .map(|t| t.day)
            .ok_or_else(|| corrupt(format!("事件 {seq} 的时间「{at}」")))?;
        let period = *period_index
            .get(period_id)
            .ok_or_else(|| corrupt(format!("事件 {seq} 的学期 {period_id}")))?;
        let reverses = match reverses {
            Some(t) => Some((int(seq, "序号")?, int(*t, "序号")?)),
            None => None,
        };
        let (student, value) = (*student, *value);
        columns.push_raw(
            int(student, "学生")?,
            key,
            int(value, "分值")?,
            day,
            period,
            reverses,
        );
    }
    Ok(rows.len())
}

/// The COPY that [`copy_text`] feeds: PostgreSQL's text format, tab-separated, `\N` for NULL.
const COPY_EVENTS_SQL: &str = "COPY points_event (school_id, batch_id, school_year, seq, event_id, student_id, tree_version, observation, value, at, period_id, recorder, role, reason, evidence, reverses) FROM STDIN";

/// The events as rows of [`COPY_EVENTS_SQL`].
fn copy_text(periods: &[Period], school: i64, batch: i64, events: &[Event]) -> Vec<u8> {
    use std::fmt::Write;
    fn text(out: &mut String, s: &str) {
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
    let mut out = String::with_capacity(events.len() * 128);
    for e in events {
        let p = &periods[e.period];
        // Writing to a String cannot fail.
        let _ = write!(out, "{school}\t{batch}\t{}\t{}\t", p.school_year, e.seq);
        text(&mut out, &e.event_id);
        let _ = write!(
            out,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t",
            e.student,
            e.tree_version,
            e.observation,
            e.value,
            e.at.to_text(),
            p.id
        );
        text(&mut out, &e.recorder);
        out.push('\t');
        text(&mut out, &e.role);
        out.push('\t');
        text(&mut out, &e.reason);
        out.push('\t');
        match &e.evidence {
            Some(s) => text(&mut out, s),
            None => out.push_str("\\N"),
        }
        out.push('\t');
        match e.reverses {
            Some(t) => {
                let _ = write!(out, "{t}");
            }
            None => out.push_str("\\N"),
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// The roster, read as one JSON array built by the database: decoding a hundred thousand
/// rows one value at a time through the `Any` driver costs far more than parsing one text.
async fn load_roster(conn: &mut AnyConnection, school: i64) -> Result<Roster, PointsError> {
    let sql = if backend_of(conn) == Backend::Postgres {
        "SELECT CAST(COALESCE(json_agg(json_build_array(id, number, name, class, major, department, entry_year) ORDER BY id), '[]') AS TEXT) \
         FROM points_student WHERE school_id = $1"
    } else {
        "SELECT COALESCE(json_group_array(json_array(id, number, name, class, major, department, entry_year) ORDER BY id), '[]') \
         FROM (SELECT * FROM points_student WHERE school_id = $1 ORDER BY id)"
    };
    let text: String = sqlx::query(sql)
        .bind(school)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    type Row = (i64, String, String, String, String, String, i64);
    let rows: Vec<Row> = serde_json::from_str(&text).map_err(|e| corrupt(format!("名册：{e}")))?;
    let students = rows
        .into_iter()
        .map(|(id, number, name, class, major, department, entry_year)| {
            Ok(Student {
                id: int(id, "学生")?,
                number,
                name,
                class,
                major,
                department,
                entry_year: int(entry_year, "入学年份")?,
            })
        })
        .collect::<Result<Vec<_>, PointsError>>()?;
    Ok(Roster::new(students))
}

/// The backend of a connection taken from the pool.
fn backend_of(conn: &AnyConnection) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("PostgreSQL") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

/// A school's terms, in the order they were defined.
const PERIODS_SQL: &str = "SELECT id, code, school_year, starts, ends, closed_at FROM points_period WHERE school_id = $1 ORDER BY id";

/// One row of [`PERIODS_SQL`], from either backend's connection type.
fn period_of<R: Row>(r: &R) -> Result<Period, PointsError>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let starts: String = r.try_get(3)?;
    let ends: String = r.try_get(4)?;
    let closed: Option<String> = r.try_get(5)?;
    Ok(Period {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        school_year: int(r.try_get::<i64, _>(2)?, "学年")?,
        starts: parse_date(&starts).ok_or_else(|| corrupt(&starts))?,
        ends: parse_date(&ends).ok_or_else(|| corrupt(&ends))?,
        closed: closed.is_some(),
    })
}
