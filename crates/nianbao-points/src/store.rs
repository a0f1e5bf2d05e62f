//! Persistence of the points system in SQLite or PostgreSQL through sqlx's `Any` driver:
//! schools, tree versions, roster, terms, import batches and the append-only event table
//! (partitioned by school and school year on PostgreSQL), plus the columnar cache file
//! that keeps aggregation fast. Migrations are per backend and versioned in
//! `pt_schema_version`, apart from the report store's own table.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Row};

use crate::PointsError;
use crate::columns::{CacheHeader, Columns, read_cache, write_cache};
use crate::ledger::{
    Ledger, NewEvent, Period, Rejected, RowError, Target, Timestamp, format_date, parse_date,
};
use crate::roster::{Roster, Student};
use crate::tree::{Catalog, Tree};

pub use nianbao_store::Backend;

const SQLITE_MIGRATIONS: &[&str] = &[include_str!("../migrations/sqlite/0001_points.sql")];
const POSTGRES_MIGRATIONS: &[&str] = &[include_str!("../migrations/postgres/0001_points.sql")];

/// The points store: one database (and, optionally, a folder of cache files).
#[derive(Debug, Clone)]
pub struct PointsStore {
    pool: AnyPool,
    backend: Backend,
    uid: String,
    cache_dir: Option<PathBuf>,
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

fn corrupt(what: impl std::fmt::Display) -> PointsError {
    PointsError::Corrupt(what.to_string())
}

fn int<T: TryFrom<i64>>(v: i64, what: &str) -> Result<T, PointsError> {
    T::try_from(v).map_err(|_| corrupt(format!("{what} 超出范围：{v}")))
}

impl PointsStore {
    /// Opens the SQLite file at `path` (creating it), with its cache beside it.
    pub async fn open_sqlite(path: &Path) -> Result<PointsStore, PointsError> {
        let cache = PathBuf::from(format!("{}.points-cache", path.display()));
        let url = nianbao_store::sqlite_url(path).map_err(|e| PointsError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        PointsStore::open(&url, Some(cache)).await
    }

    /// Opens a store by URL and migrates it. `cache_dir` holds columnar cache files.
    pub async fn open(url: &str, cache_dir: Option<PathBuf>) -> Result<PointsStore, PointsError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(PointsError::UnsupportedUrl(url.to_string()));
        };
        sqlx::any::install_default_drivers();
        let mut options =
            AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 1 } else { 4 });
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 10000",
                        "PRAGMA cache_size = -131072",
                        "PRAGMA temp_store = MEMORY",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        let mut store = PointsStore {
            pool,
            backend,
            uid: String::new(),
            cache_dir,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn migrate(&mut self) -> Result<(), PointsError> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut tx = self.pool.begin().await?;
        nianbao_store::apply_migrations(
            &mut tx,
            self.backend,
            "pt_schema_version",
            4343,
            migrations,
        )
        .await?;
        let uid: Option<String> = sqlx::query("SELECT value FROM pt_meta WHERE key = 'store'")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        self.uid = match uid {
            Some(uid) => uid,
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let uid = format!("{nanos:x}-{:x}", std::process::id());
                sqlx::query("INSERT INTO pt_meta (key, value) VALUES ('store', $1)")
                    .bind(&uid)
                    .execute(&mut *tx)
                    .await?;
                uid
            }
        };
        tx.commit().await?;
        Ok(())
    }

    fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            Backend::Postgres => {
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
        }
    }

    /// Finds or creates a school by code.
    pub async fn ensure_school(&self, code: &str, name: &str) -> Result<i64, PointsError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(PointsError::Invalid("学校代码不能为空".into()));
        }
        sqlx::query(
            "INSERT INTO pt_school (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING",
        )
        .bind(code)
        .bind(name)
        .execute(&self.pool)
        .await?;
        self.school_id(code).await
    }

    pub async fn school_id(&self, code: &str) -> Result<i64, PointsError> {
        sqlx::query("SELECT id FROM pt_school WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .ok_or_else(|| PointsError::UnknownSchool(code.to_string()))
    }

    /// (code, name) of every school with a points ledger.
    pub async fn schools(&self) -> Result<Vec<(String, String)>, PointsError> {
        let rows = sqlx::query("SELECT code, name FROM pt_school ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Stores a new tree version for a school; versions must increase.
    pub async fn load_tree(&self, code: &str, tree: &Tree, actor: &str) -> Result<(), PointsError> {
        let school = self.school_id(code).await?;
        let mut tx = self.pool.begin().await?;
        let latest: Option<i64> =
            sqlx::query("SELECT MAX(version) FROM pt_tree WHERE school_id = $1")
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
            "INSERT INTO pt_tree (school_id, version, name, effective, source, loaded_at, loaded_by) VALUES ($1, $2, $3, $4, $5, {}, $6)",
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
            sqlx::query("INSERT INTO pt_observation (school_id, tree_version, observation, code, name, point_code, competency_code, value, min_value, max_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
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
                sqlx::query("INSERT INTO pt_observation_dimension (school_id, tree_version, observation, dimension) VALUES ($1, $2, $3, $4)")
                    .bind(school)
                    .bind(i64::from(tree.version))
                    .bind(i as i64)
                    .bind(d.index() as i64)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn trees(&self, conn: &mut AnyConnection, school: i64) -> Result<Vec<Tree>, PointsError> {
        let rows = sqlx::query(
            "SELECT version, source FROM pt_tree WHERE school_id = $1 ORDER BY version",
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
        let mut tx = self.pool.begin().await?;
        let mut roster = load_roster(&mut tx, school).await?;
        let (added, updated) = roster.merge(rows);
        for chunk in added.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO pt_student (school_id, id, number, name, class, major, department, entry_year) VALUES ",
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
            sqlx::query("UPDATE pt_student SET name = $1, class = $2, major = $3, department = $4, entry_year = $5 WHERE school_id = $6 AND id = $7")
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
        let mut tx = self.pool.begin().await?;
        for p in load_periods(&mut tx, school).await? {
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
            // Partitions: one per school, and within it one per school year.
            sqlx::query("SELECT CAST(pg_advisory_xact_lock(4344) AS TEXT)")
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "CREATE TABLE IF NOT EXISTS pt_event_s{school} PARTITION OF pt_event FOR VALUES IN ({school}) PARTITION BY RANGE (school_year)"
            ))
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "CREATE TABLE IF NOT EXISTS pt_event_s{school}_y{school_year} PARTITION OF pt_event_s{school} FOR VALUES FROM ({school_year}) TO ({})",
                school_year + 1
            ))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO pt_period (school_id, code, school_year, starts, ends) VALUES ($1, $2, $3, $4, $5)")
            .bind(school)
            .bind(period)
            .bind(i64::from(school_year))
            .bind(format_date(starts))
            .bind(format_date(ends))
            .execute(&mut *tx)
            .await?;
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
        let mut tx = self.pool.begin().await?;
        let periods = load_periods(&mut tx, school).await?;
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
                "UPDATE pt_period SET closed_at = {}, closed_by = $1 WHERE id = $2 AND closed_at IS NULL",
                self.now_sql()
            );
            sqlx::query(&sql)
                .bind(actor)
                .bind(p.id)
                .execute(&mut *tx)
                .await?;
            closed.push(p.code.clone());
        }
        tx.commit().await?;
        Ok(closed)
    }

    pub async fn periods(&self, code: &str) -> Result<Vec<Period>, PointsError> {
        let school = self.school_id(code).await?;
        let mut conn = self.pool.acquire().await?;
        load_periods(&mut conn, school).await
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
        let name: String = sqlx::query("SELECT name FROM pt_school WHERE id = $1")
            .bind(school)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let mut conn = self.pool.acquire().await?;
        let trees = self.trees(&mut conn, school).await?;
        let catalog = Catalog::new(trees);
        let roster = load_roster(&mut conn, school).await?;
        let periods = load_periods(&mut conn, school).await?;
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
        catch_up(&mut conn, school, &catalog, &periods, &mut columns).await?;
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
            sqlx::query("SELECT event_id FROM pt_event WHERE school_id = $1 AND seq = $2")
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
        let mut conn = self.pool.acquire().await?;
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
            sqlx::query("SELECT event_id FROM pt_event WHERE school_id = $1 AND seq = $2")
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
        let school = sl.school_id;
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT CAST(pg_advisory_xact_lock(4345, CAST($1 AS INTEGER)) AS TEXT)")
                .bind(school)
                .execute(&mut *tx)
                .await?;
        }
        // The batch row comes first: on SQLite it takes the write lock before anything is read.
        let sql = format!(
            "INSERT INTO pt_batch (school_id, id, source, actor, imported_at, events) \
             SELECT $1, COALESCE(MAX(id), 0) + 1, $2, $3, {}, $4 FROM pt_batch WHERE school_id = $5",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(school)
            .bind(file)
            .bind(actor)
            .bind(rows.len() as i64)
            .bind(school)
            .execute(&mut *tx)
            .await?;
        let batch: i64 = sqlx::query("SELECT MAX(id) FROM pt_batch WHERE school_id = $1")
            .bind(school)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;

        // Another process may have appended or closed a term since the ledger was loaded.
        let periods = load_periods(&mut tx, school).await?;
        let before = sl.ledger.columns.len();
        let periods_changed = periods != sl.ledger.periods;
        if periods_changed {
            sl.ledger.periods = periods.clone();
        }
        catch_up(
            &mut tx,
            school,
            &sl.ledger.catalog,
            &periods,
            &mut sl.ledger.columns,
        )
        .await?;
        if periods_changed || sl.ledger.columns.len() != before {
            sl.ledger.invalidate();
        }

        let mut wanted: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.reverses.as_deref().map(str::trim))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let existing = find_events(&mut tx, school, &wanted).await?;
        let events = sl.ledger.check(file, rows, &existing)?;

        let chunk = match self.backend {
            Backend::Sqlite => 2000,
            Backend::Postgres => 4000,
        };
        let full_sql = insert_sql(self.backend, chunk);
        for part in events.chunks(chunk) {
            let sql = if part.len() == chunk {
                std::borrow::Cow::Borrowed(full_sql.as_str())
            } else {
                std::borrow::Cow::Owned(insert_sql(self.backend, part.len()))
            };
            let mut q = sqlx::query(&sql);
            for e in part {
                let p = &sl.ledger.periods[e.period];
                q = q
                    .bind(school)
                    .bind(i64::from(p.school_year))
                    .bind(i64::from(e.seq))
                    .bind(e.event_id.as_str())
                    .bind(i64::from(e.student))
                    .bind(i64::from(e.tree_version))
                    .bind(i64::from(e.observation))
                    .bind(i64::from(e.value))
                    .bind(e.at.to_string())
                    .bind(p.id)
                    .bind(e.recorder.as_str())
                    .bind(e.role.as_str())
                    .bind(e.reason.as_str())
                    .bind(e.evidence.as_deref())
                    .bind(e.reverses.map(i64::from))
                    .bind(batch);
            }
            if let Err(error) = q.execute(&mut *tx).await {
                let unique = matches!(&error, sqlx::Error::Database(d) if d.is_unique_violation());
                drop(tx);
                if unique {
                    return Err(self.duplicates(school, file, rows).await?.into());
                }
                return Err(error.into());
            }
        }
        tx.commit().await?;
        let reversals = events.iter().filter(|e| e.reverses.is_some()).count();
        sl.ledger.apply(&events);
        Ok(ImportSummary {
            batch,
            events: events.len(),
            reversals,
        })
    }

    /// The rows of a refused batch whose event ids were recorded before.
    async fn duplicates(
        &self,
        school: i64,
        file: &str,
        rows: &[NewEvent],
    ) -> Result<Rejected, PointsError> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.event_id.trim()).collect();
        let found = find_events(&mut conn, school, &ids).await?;
        let errors = rows
            .iter()
            .filter(|r| found.contains_key(r.event_id.trim()))
            .take(crate::ledger::MAX_ERRORS)
            .map(|r| RowError {
                row: r.row,
                column: Some("事件编号".into()),
                message: format!("「{}」已经记录过", r.event_id.trim()),
            })
            .collect();
        Ok(Rejected {
            file: file.to_string(),
            errors,
        })
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
             FROM pt_event WHERE school_id = $1 AND student_id = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(sl.school_id)
        .bind(i64::from(student))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
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
            "SELECT e.student_id, d.dimension, CAST(SUM(e.value) AS BIGINT) FROM pt_event e \
             JOIN pt_observation_dimension d ON d.school_id = e.school_id \
               AND d.tree_version = e.tree_version AND d.observation = e.observation \
             WHERE e.school_id = $1 GROUP BY e.student_id, d.dimension",
        )
        .bind(school)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Number of events of a school, counted by the database.
    pub async fn count_events(&self, school: i64) -> Result<i64, PointsError> {
        Ok(
            sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM pt_event WHERE school_id = $1")
                .bind(school)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }
}

/// A multi-row INSERT of events. SQLite gets anonymous `?` parameters: looking up numbered
/// ones costs time proportional to their count on every bind.
fn insert_sql(backend: Backend, rows: usize) -> String {
    let mut sql = String::with_capacity(64 + rows * 120);
    sql.push_str(
        "INSERT INTO pt_event (school_id, school_year, seq, event_id, student_id, tree_version, observation, value, at, period_id, recorder, role, reason, evidence, reverses, batch_id) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..16 {
            if c > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(i * 16 + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
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
            "SELECT event_id, seq FROM pt_event WHERE school_id = $1 AND event_id IN ({})",
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

/// Appends to `columns` the events numbered after it, reading them in pages.
async fn catch_up(
    conn: &mut AnyConnection,
    school: i64,
    catalog: &Catalog,
    periods: &[Period],
    columns: &mut Columns,
) -> Result<(), PointsError> {
    let period_index: HashMap<i64, usize> =
        periods.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let page = 200_000i64;
    loop {
        let from = columns.len() as i64;
        let rows = sqlx::query(
            "SELECT seq, student_id, tree_version, observation, value, at, period_id, reverses \
             FROM pt_event WHERE school_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(school)
        .bind(from)
        .bind(page)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        columns.reserve(rows.len());
        for r in &rows {
            let seq: i64 = r.try_get(0)?;
            if seq != columns.len() as i64 + 1 {
                return Err(corrupt(format!(
                    "事件序号不连续：应为 {}，读到 {seq}",
                    columns.len() + 1
                )));
            }
            let version: i64 = r.try_get(2)?;
            let observation: i64 = r.try_get(3)?;
            let key = catalog
                .key(int(version, "版本")?, int(observation, "观测点")?)
                .ok_or_else(|| corrupt(format!("事件 {seq} 的观测点不在任何已存版本中")))?;
            let at: String = r.try_get(5)?;
            let day = Timestamp::parse(&at)
                .map(|t| t.day)
                .ok_or_else(|| corrupt(format!("事件 {seq} 的时间「{at}」")))?;
            let period_id: i64 = r.try_get(6)?;
            let period = *period_index
                .get(&period_id)
                .ok_or_else(|| corrupt(format!("事件 {seq} 的学期 {period_id}")))?;
            let reverses: Option<i64> = r.try_get(7)?;
            let reverses = match reverses {
                Some(t) => Some((int(seq, "序号")?, int(t, "序号")?)),
                None => None,
            };
            let student: i64 = r.try_get(1)?;
            let value: i64 = r.try_get(4)?;
            columns.push_raw(
                int(student, "学生")?,
                key,
                int(value, "分值")?,
                day,
                period,
                reverses,
            );
        }
        if (rows.len() as i64) < page {
            return Ok(());
        }
    }
}

async fn load_roster(conn: &mut AnyConnection, school: i64) -> Result<Roster, PointsError> {
    let rows = sqlx::query(
        "SELECT id, number, name, class, major, department, entry_year FROM pt_student WHERE school_id = $1 ORDER BY id",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?;
    let students = rows
        .iter()
        .map(|r: &AnyRow| {
            Ok(Student {
                id: int(r.try_get::<i64, _>(0)?, "学生")?,
                number: r.try_get(1)?,
                name: r.try_get(2)?,
                class: r.try_get(3)?,
                major: r.try_get(4)?,
                department: r.try_get(5)?,
                entry_year: int(r.try_get::<i64, _>(6)?, "入学年份")?,
            })
        })
        .collect::<Result<Vec<_>, PointsError>>()?;
    Ok(Roster::new(students))
}

async fn load_periods(conn: &mut AnyConnection, school: i64) -> Result<Vec<Period>, PointsError> {
    let rows = sqlx::query(
        "SELECT id, code, school_year, starts, ends, closed_at FROM pt_period WHERE school_id = $1 ORDER BY id",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
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
        })
        .collect()
}
