//! The store: datasets kept in a SQLite file (the embedded default) or a PostgreSQL
//! server, through one interface. Every write is one transaction and leaves a line in the
//! change log (who, when, which record, old → new), so history can be shown and reverted.
//!
//! Both backends speak through sqlx's `Any` driver with the same SQL; only the migrations
//! (one set per backend, under `migrations/`) and a timestamp expression differ.

mod accounts;
mod area_finals;
mod areas;
mod audit_batches;
mod authoring;
mod backup;
mod database;
mod edits;
mod many;
pub mod points;
mod postgres_backup;
mod raw_sqlite;
mod registers;
mod school;
mod sessions;
mod table_copy;

use std::collections::BTreeMap;
use std::path::Path;

pub use accounts::Account;
pub use accounts::{NewUser, Scope, User, hash_password, verify_password};
pub use area_finals::{AreaFinal, FinalFile, FinalFiles};
pub use areas::{ApprovedSchools, BulkOutcome, SubmissionEvent, SubmissionStatus, role_of_level};
pub use audit_batches::{
    AUDIT_HEARTBEAT, AUDIT_SILENCE, AuditBatch, BatchState, ConfirmedGrade, ProgressKeeper,
};
pub use authoring::{
    Comment, ContentSummary, MAX_TEXT_BYTES, PartMove, PartState, SnapshotEntry, StoredImage,
    TextConflict, TextSave, TextVersion,
};
pub use backup::Restored;
pub use database::{DEFAULT_BUSY_TIMEOUT, Database, OpenOptions, WriteTx, sqlite_url};
pub use edits::{Conflict, FactEdit};
use nianbao_core::{Acceptance, Dataset, FactKey, Major, School, Year};
pub use registers::{AccessEntry, PsychAccess, PsychArchiveEntry};
pub use school::Restructure;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Schema migrations, in order, for each backend.
const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_datasets.sql"),
    include_str!("../migrations/sqlite/0002_acceptances.sql"),
    include_str!("../migrations/sqlite/0003_users.sql"),
    include_str!("../migrations/sqlite/0004_web.sql"),
    include_str!("../migrations/sqlite/0005_authoring.sql"),
    include_str!("../migrations/sqlite/0006_accounts.sql"),
    include_str!("../migrations/sqlite/0010_registers.sql"),
    include_str!("../migrations/sqlite/0011_psych_archive.sql"),
    include_str!("../migrations/sqlite/0012_points.sql"),
    include_str!("../migrations/sqlite/0013_points_reads.sql"),
    include_str!("../migrations/sqlite/0014_areas.sql"),
    include_str!("../migrations/sqlite/0015_school_revision.sql"),
    include_str!("../migrations/sqlite/0016_user_scope.sql"),
    include_str!("../migrations/sqlite/0017_school_keys.sql"),
    include_str!("../migrations/sqlite/0018_audit_batches.sql"),
    include_str!("../migrations/sqlite/0019_points_exports.sql"),
    include_str!("../migrations/sqlite/0020_area_finals.sql"),
    include_str!("../migrations/sqlite/0021_area_final_pdf.sql"),
    include_str!("../migrations/sqlite/0022_audit_batch_progress.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_datasets.sql"),
    include_str!("../migrations/postgres/0002_acceptances.sql"),
    include_str!("../migrations/postgres/0003_users.sql"),
    include_str!("../migrations/postgres/0004_web.sql"),
    include_str!("../migrations/postgres/0005_authoring.sql"),
    include_str!("../migrations/postgres/0006_accounts.sql"),
    include_str!("../migrations/postgres/0010_registers.sql"),
    include_str!("../migrations/postgres/0011_psych_archive.sql"),
    include_str!("../migrations/postgres/0012_points.sql"),
    include_str!("../migrations/postgres/0013_points_reads.sql"),
    include_str!("../migrations/postgres/0014_areas.sql"),
    include_str!("../migrations/postgres/0015_school_revision.sql"),
    include_str!("../migrations/postgres/0016_user_scope.sql"),
    include_str!("../migrations/postgres/0017_school_keys.sql"),
    include_str!("../migrations/postgres/0018_audit_batches.sql"),
    include_str!("../migrations/postgres/0019_points_exports.sql"),
    include_str!("../migrations/postgres/0020_area_finals.sql"),
    include_str!("../migrations/postgres/0021_area_final_pdf.sql"),
    include_str!("../migrations/postgres/0022_audit_batch_progress.sql"),
];

/// The schema migrations of the store's tables on `backend`, oldest first; a store at
/// version N has had the first N applied.
pub fn migrations(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库错误：{0}")]
    Database(#[source] sqlx::Error),
    /// An error of SQLite itself on a connection driven without sqlx (bulk reads).
    #[error("数据库错误：{0}")]
    Sqlite(String),
    #[error(
        "数据库正忙：其他用户或程序正在保存数据，等待后仍未轮到本次写入。本次操作没有保存任何内容，请稍后重试"
    )]
    Busy,
    #[error("数据库文件路径无法使用：{0}")]
    BadPath(String),
    #[error("不支持的数据库地址「{0}」：应以 sqlite: 或 postgres:// 开头")]
    UnsupportedUrl(String),
    #[error("数据库中没有代码为「{0}」的学校")]
    UnknownSchool(String),
    #[error("只有警告和提示可以说明后接受，「{0}」是错误，需要更正数据")]
    ErrorNotAcceptable(String),
    #[error("说明不能为空：请写明接受这项核查结果的理由")]
    EmptyExplanation,
    #[error("用户「{0}」已存在")]
    UserExists(String),
    #[error("角色「{0}」需要用 --department 指定所属专业部")]
    DepartmentRequired(String),
    #[error("密码至少需要 {0} 个字符")]
    WeakPassword(usize),
    #[error("无法处理密码：{0}")]
    Password(String),
    #[error("{0}。您的修改没有保存，请刷新页面、核对后再提交")]
    Conflict(Box<Conflict>),
    #[error("变更记录 {0} 不存在")]
    UnknownChange(i64),
    #[error("变更记录 {0} 不是数据项的修改，不能撤销")]
    NotRevertible(i64),
    #[error("数据库中的记录无法解读（{0}）")]
    Corrupt(String),
    #[error("{0}。您的修改没有保存：请复制您的文字，刷新页面后在最新版本上修改")]
    TextConflict(Box<TextConflict>),
    #[error("「{path}」超过 {limit} 字节，无法保存")]
    TextTooLong { path: String, limit: usize },
    #[error("状态已被他人改为「{found}」（您看到的是「{expected}」），请刷新页面")]
    StateChanged {
        expected: &'static str,
        found: &'static str,
    },
    #[error("意见不能为空")]
    EmptyComment,
    #[error("意见 {0} 不存在")]
    UnknownComment(i64),
    #[error("学校信息已被他人修改（{0}），您的修改没有保存：请刷新页面后再改")]
    StructureChanged(String),
    #[error("学校代码「{0}」已被使用")]
    SchoolExists(String),
    #[error("学校代码「{0}」只能由英文字母、数字和连字符（-）组成，最长 64 个字符")]
    BadSchoolCode(String),
    #[error("用户「{0}」不存在")]
    UnknownUser(String),
    #[error("原密码不正确")]
    WrongPassword,
    #[error("定稿快照 {0} 不存在：请用 `nianbao report --snapshots` 查看已有的定稿")]
    UnknownSnapshot(i64),
    #[error("{0}")]
    Import(Box<nianbao_systems::ImportErrors>),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    MassDeletion(String),
    #[error(transparent)]
    Seal(#[from] nianbao_systems::psych::SealError),
    #[error("积分账本：{0}")]
    Points(Box<points::PointsError>),
    #[error(
        "心理档案密钥与本校建档时使用的密钥不一致：请使用原来的密钥文件或 NIANBAO_PSYCH_KEY，档案未被读取或改动"
    )]
    WrongKey,
    #[error("只有本校的心理辅导员可以查看、导入或导出心理档案")]
    NotCounsellor,
    #[error(
        "查看、导入或导出心理档案须说明事由，事由应为以下之一（可在其后加「：」写明详情）：{0}"
    )]
    ReasonRequired(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if database::is_busy(&error) {
            StoreError::Busy
        } else {
            StoreError::Database(error)
        }
    }
}

/// A school as listed by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolEntry {
    pub code: String,
    pub name: String,
}

/// What a save changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaveSummary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// One line of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: i64,
    pub changed_at: String,
    pub actor: String,
    pub entity: String,
    pub record: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// The store of datasets, on one [`Database`].
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
    backend: Backend,
    /// Where the points ledger keeps its columnar cache (beside a SQLite file).
    points_cache: Option<std::path::PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the SQLite file at `path` and brings its schema up to date.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let mut store = Store::open(&sqlite_url(path)?).await?;
        store.points_cache = Some(std::path::PathBuf::from(format!(
            "{}.points-cache",
            path.display()
        )));
        Ok(store)
    }

    /// Opens a store by URL (`sqlite://…` or `postgres://…`) and migrates it.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, OpenOptions::default()).await
    }

    /// Opens a store by URL with the given options and migrates it.
    pub async fn open_with(url: &str, options: OpenOptions) -> Result<Store, StoreError> {
        Store::on(Database::open(url, options).await?).await
    }

    /// The store on an open database, whose schema it brings up to date.
    pub async fn on(db: Database) -> Result<Store, StoreError> {
        let store = Store {
            backend: db.backend(),
            db,
            points_cache: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Keeps the points ledger's columnar cache in `dir` (beside a SQLite file), so reading
    /// the ledger's figures for the report does not read every event again.
    pub fn set_points_cache(&mut self, dir: Option<std::path::PathBuf>) {
        self.points_cache = dir;
    }

    /// Where the points ledger's columnar cache is kept, if anywhere.
    pub fn points_cache(&self) -> Option<&std::path::Path> {
        self.points_cache.as_deref()
    }

    /// The database under the store, for other parts of the application that keep their
    /// tables in it.
    pub fn database(&self) -> &Database {
        &self.db
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = migrations(self.backend);
        self.db.migrate("schema_version", 4242, migrations).await
    }

    fn now_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            Backend::Postgres => {
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            }
        }
    }

    /// The schools in the store, by code.
    pub async fn schools(&self) -> Result<Vec<SchoolEntry>, StoreError> {
        let rows = sqlx::query("SELECT code, name FROM school ORDER BY code")
            .fetch_all(self.db.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SchoolEntry {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// Replaces everything stored for the dataset's school with the dataset, in one
    /// transaction, logging each difference under `actor`.
    pub async fn save_dataset(
        &self,
        data: &Dataset,
        actor: &str,
    ) -> Result<SaveSummary, StoreError> {
        self.import_dataset(data, actor, None).await
    }

    /// As [`Store::save_dataset`]; with `guard` (the element catalogue, for names), an
    /// import that would delete a large share of the stored facts, or every fact of one
    /// element or year, is refused with [`StoreError::MassDeletion`] and nothing changes.
    pub async fn import_dataset(
        &self,
        data: &Dataset,
        actor: &str,
        guard: Option<&nianbao_core::ElementCatalogue>,
    ) -> Result<SaveSummary, StoreError> {
        let mut tx = self.db.write().await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };

        let org_unit = ensure_org_units(&mut tx, &data.school).await?;
        let profile =
            serde_json::to_string(&data.school).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let existing = sqlx::query("SELECT id, profile FROM school WHERE code = $1")
            .bind(&data.school.code)
            .fetch_optional(&mut *tx)
            .await?;
        let school_id: i64 = match existing {
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                let old: String = row.try_get("profile")?;
                if old != profile {
                    sqlx::query(
                        "UPDATE school SET profile = $1, name = $2, org_unit_id = $3 WHERE id = $4",
                    )
                    .bind(&profile)
                    .bind(&data.school.name)
                    .bind(org_unit)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    log.push("school", "profile", Some(old), Some(profile));
                }
                id
            }
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO school (org_unit_id, code, name, profile) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(org_unit)
                .bind(&data.school.code)
                .bind(&data.school.name)
                .bind(&profile)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                log.push("school", "profile", None, Some(profile));
                id
            }
        };

        let old_majors = load_majors(&mut tx, school_id).await?;
        school::write_majors(&mut tx, school_id, &old_majors, &data.majors, &mut log).await?;

        let old_facts = load_facts(&mut tx, school_id).await?;
        if let Some(elements) = guard
            && let Some(reason) =
                nianbao_core::deletion::mass_deletion(&old_facts, &data.facts, elements)
        {
            return Err(StoreError::MassDeletion(reason));
        }
        let touched: std::collections::BTreeSet<Year> = data
            .facts
            .iter()
            .filter(|(k, v)| old_facts.get(*k).map(|o| o.to_bits()) != Some(v.to_bits()))
            .map(|(k, _)| k.year)
            .chain(
                old_facts
                    .keys()
                    .filter(|k| !data.facts.contains_key(*k))
                    .map(|k| k.year),
            )
            .collect();
        Store::ensure_open(&mut tx, &data.school.code, &touched).await?;
        let mut summary = SaveSummary::default();
        for (key, value) in &data.facts {
            match old_facts.get(key) {
                Some(old) if old.to_bits() == value.to_bits() => {}
                Some(old) => {
                    sqlx::query(
                        "UPDATE fact SET value = $1 WHERE school_id = $2 AND year = $3 AND element = $4 AND major = $5",
                    )
                    .bind(*value)
                    .bind(school_id)
                    .bind(i64::from(key.year))
                    .bind(&key.element)
                    .bind(key.major.as_deref().unwrap_or(""))
                    .execute(&mut *tx)
                    .await?;
                    log.push(
                        "fact",
                        &fact_record(key),
                        Some(old.to_string()),
                        Some(value.to_string()),
                    );
                    summary.changed += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO fact (school_id, year, element, major, value) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(school_id)
                    .bind(i64::from(key.year))
                    .bind(&key.element)
                    .bind(key.major.as_deref().unwrap_or(""))
                    .bind(*value)
                    .execute(&mut *tx)
                    .await?;
                    log.push("fact", &fact_record(key), None, Some(value.to_string()));
                    summary.added += 1;
                }
            }
        }
        for (key, old) in old_facts
            .iter()
            .filter(|(k, _)| !data.facts.contains_key(*k))
        {
            sqlx::query("DELETE FROM fact WHERE school_id = $1 AND year = $2 AND element = $3 AND major = $4")
                .bind(school_id)
                .bind(i64::from(key.year))
                .bind(&key.element)
                .bind(key.major.as_deref().unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            log.push("fact", &fact_record(key), Some(old.to_string()), None);
            summary.removed += 1;
        }

        let old_notes = load_notes(&mut tx, school_id).await?;
        if old_notes != data.notes {
            sqlx::query("DELETE FROM note WHERE school_id = $1")
                .bind(school_id)
                .execute(&mut *tx)
                .await?;
            for (key, text) in &data.notes {
                sqlx::query("INSERT INTO note (school_id, year, element, major, text) VALUES ($1, $2, $3, $4, $5)")
                    .bind(school_id)
                    .bind(i64::from(key.year))
                    .bind(&key.element)
                    .bind(key.major.as_deref().unwrap_or(""))
                    .bind(text)
                    .execute(&mut *tx)
                    .await?;
                if old_notes.get(key) != Some(text) {
                    log.push(
                        "note",
                        &fact_record(key),
                        old_notes.get(key).cloned(),
                        Some(text.clone()),
                    );
                }
            }
            for (key, old) in old_notes
                .iter()
                .filter(|(k, _)| !data.notes.contains_key(*k))
            {
                log.push("note", &fact_record(key), Some(old.clone()), None);
            }
        }

        log.write(&mut tx, school_id).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// The school's revision: a number raised in the same transaction as every write to
    /// the school's data, its registers or its points ledger, by any process. Results
    /// computed from the school's data at one revision stay valid while it is unchanged.
    /// A school without writes since the revision was introduced (or no such school) is at 0.
    pub async fn revision(&self, code: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT r.revision FROM school_revision r JOIN school s ON s.id = r.school_id WHERE s.code = $1",
        )
        .bind(code)
        .fetch_optional(self.db.reader())
        .await?;
        Ok(row
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(0))
    }

    /// Every school's revision (see [`Store::revision`]) by school code, in one read: what
    /// results kept for many schools are checked against.
    pub async fn revisions(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.code, CAST(COALESCE(r.revision, 0) AS BIGINT) FROM school s \
             LEFT JOIN school_revision r ON r.school_id = s.id",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Loads the dataset of one school.
    pub async fn load_dataset(&self, code: &str) -> Result<Dataset, StoreError> {
        let mut conn = self.db.read().await?;
        let row = sqlx::query("SELECT id, profile FROM school WHERE code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::UnknownSchool(code.to_string()))?;
        let school_id: i64 = row.try_get("id")?;
        let profile: String = row.try_get("profile")?;
        let school: School =
            serde_json::from_str(&profile).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut data = Dataset::new(school);
        data.majors = load_majors(&mut conn, school_id).await?;
        data.facts = load_facts(&mut conn, school_id).await?;
        data.notes = load_notes(&mut conn, school_id).await?;
        Ok(data)
    }

    /// Accepts a warning with a written explanation, replacing an earlier one for the same
    /// finding. The explanation is kept and shown wherever the finding is.
    pub async fn accept(
        &self,
        code: &str,
        finding: &nianbao_core::Finding,
        explanation: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        if finding.severity == nianbao_core::Severity::Error {
            return Err(StoreError::ErrorNotAcceptable(finding.key()));
        }
        if explanation.trim().is_empty() {
            return Err(StoreError::EmptyExplanation);
        }
        let mut tx = self.db.write().await?;
        let school_id = school_id(&mut tx, code).await?;
        let key = finding.key();
        let old: Option<String> = sqlx::query(
            "SELECT explanation FROM acceptance WHERE school_id = $1 AND finding_key = $2",
        )
        .bind(school_id)
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        sqlx::query("DELETE FROM acceptance WHERE school_id = $1 AND finding_key = $2")
            .bind(school_id)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO acceptance (school_id, finding_key, explanation, actor, accepted_at) VALUES ($1, $2, $3, $4, {})",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(school_id)
            .bind(&key)
            .bind(explanation.trim())
            .bind(actor)
            .execute(&mut *tx)
            .await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        log.push(
            "acceptance",
            &key,
            old,
            Some(explanation.trim().to_string()),
        );
        log.write(&mut tx, school_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every accepted finding of one school, by finding key.
    pub async fn acceptances(&self, code: &str) -> Result<Vec<Acceptance>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.finding_key, a.explanation, a.actor, a.accepted_at FROM acceptance a \
             JOIN school s ON s.id = a.school_id WHERE s.code = $1 ORDER BY a.finding_key",
        )
        .bind(code)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Acceptance {
                    key: r.try_get("finding_key")?,
                    explanation: r.try_get("explanation")?,
                    actor: r.try_get("actor")?,
                    accepted_at: r.try_get("accepted_at")?,
                })
            })
            .collect()
    }

    /// The newest `limit` changes of one school, newest first.
    pub async fn history(&self, code: &str, limit: i64) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.changed_at, c.actor, c.entity, c.record, c.old_value, c.new_value \
             FROM change_log c JOIN school s ON s.id = c.school_id WHERE s.code = $1 ORDER BY c.id DESC LIMIT $2",
        )
        .bind(code)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(change_of).collect()
    }

    /// The newest `limit` changes of one record (e.g. the fact "2025 staff.total"), newest first.
    pub async fn record_history(
        &self,
        code: &str,
        entity: &str,
        record: &str,
        limit: i64,
    ) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.changed_at, c.actor, c.entity, c.record, c.old_value, c.new_value \
             FROM change_log c JOIN school s ON s.id = c.school_id \
             WHERE s.code = $1 AND c.entity = $2 AND c.record = $3 ORDER BY c.id DESC LIMIT $4",
        )
        .bind(code)
        .bind(entity)
        .bind(record)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(change_of).collect()
    }
}

async fn school_id(conn: &mut sqlx::AnyConnection, code: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT id FROM school WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::UnknownSchool(code.to_string()))?;
    Ok(row.try_get(0)?)
}

/// Applies the migrations not yet recorded in `version_table`, inside the caller's
/// transaction. On PostgreSQL an advisory lock on `lock_key` makes processes that open the
/// same database at once migrate one at a time. Statements are separated by `;` and a blank
/// line, so a statement (a trigger body, say) may itself contain `;`.
pub async fn apply_migrations(
    tx: &mut sqlx::AnyConnection,
    backend: Backend,
    version_table: &str,
    lock_key: i64,
    migrations: &[&str],
) -> Result<(), sqlx::Error> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT CAST(pg_advisory_xact_lock($1) AS TEXT)")
            .bind(lock_key)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {version_table} (version BIGINT NOT NULL)"
    ))
    .execute(&mut *tx)
    .await?;
    let applied: Option<i64> = sqlx::query(&format!("SELECT MAX(version) FROM {version_table}"))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let applied = applied.unwrap_or(0).max(0) as usize;
    for (index, migration) in migrations.iter().enumerate().skip(applied) {
        for statement in migration
            .split(";\n\n")
            .map(|s| s.trim().trim_end_matches(';').trim())
            .filter(|s| !s.is_empty())
        {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query(&format!(
            "INSERT INTO {version_table} (version) VALUES ($1)"
        ))
        .bind((index + 1) as i64)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn change_of(r: &AnyRow) -> Result<Change, StoreError> {
    Ok(Change {
        id: r.try_get("id")?,
        changed_at: r.try_get("changed_at")?,
        actor: r.try_get("actor")?,
        entity: r.try_get("entity")?,
        record: r.try_get("record")?,
        old_value: r.try_get("old_value")?,
        new_value: r.try_get("new_value")?,
    })
}

/// A fact's address as one line of text: "2025 staff.total" or "2025 major.intake 会计事务",
/// as the change log names it.
pub fn fact_record(key: &FactKey) -> String {
    match &key.major {
        Some(major) => format!("{} {} {major}", key.year, key.element),
        None => format!("{} {}", key.year, key.element),
    }
}

struct ChangeLog<'a> {
    actor: &'a str,
    now: &'static str,
    entries: Vec<(&'static str, String, Option<String>, Option<String>)>,
}

impl ChangeLog<'_> {
    fn push(
        &mut self,
        entity: &'static str,
        record: &str,
        old: Option<String>,
        new: Option<String>,
    ) {
        self.entries.push((entity, record.to_string(), old, new));
    }

    /// Writes the entries and raises the school's revision (see [`Store::revision`]), in
    /// the caller's transaction: every write that logs a change to a school is seen by
    /// whoever keeps results computed from the school's data.
    async fn write(self, tx: &mut sqlx::AnyConnection, school_id: i64) -> Result<(), StoreError> {
        bump_revision(tx, school_id).await?;
        let sql = format!(
            "INSERT INTO change_log (school_id, changed_at, actor, entity, record, old_value, new_value) \
             VALUES ($1, {}, $2, $3, $4, $5, $6)",
            self.now
        );
        for (entity, record, old, new) in self.entries {
            sqlx::query(&sql)
                .bind(school_id)
                .bind(self.actor)
                .bind(entity)
                .bind(record)
                .bind(old)
                .bind(new)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

/// Raises a school's revision by one. Called inside the transaction of every write that
/// changes what [`Store::load_dataset_with_registers`] reads, so the new revision becomes
/// visible together with the data.
/// The statement of [`bump_revision`], `$1` the school.
pub(crate) const BUMP_REVISION_SQL: &str = "INSERT INTO school_revision (school_id, revision) VALUES ($1, 1) \
     ON CONFLICT (school_id) DO UPDATE SET revision = school_revision.revision + 1";

pub(crate) async fn bump_revision(
    tx: &mut sqlx::AnyConnection,
    school_id: i64,
) -> Result<(), StoreError> {
    sqlx::query(BUMP_REVISION_SQL)
        .bind(school_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Finds or creates province > city > district > school > departments; returns the school's unit.
pub(crate) async fn ensure_org_units(
    tx: &mut sqlx::AnyConnection,
    school: &School,
) -> Result<i64, StoreError> {
    let org = &school.org_unit;
    let levels = [
        ("province", &org.province),
        ("city", &org.city),
        ("district", &org.district),
        ("school", &school.name),
    ];
    let mut parent: Option<i64> = None;
    let mut path = String::new();
    for (level, name) in levels {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(name);
        parent = Some(ensure_org_unit(tx, parent, level, name, &path).await?);
    }
    let school_unit = parent.ok_or_else(|| StoreError::Corrupt("组织机构层级为空".into()))?;
    for department in &school.departments {
        ensure_org_unit(
            tx,
            Some(school_unit),
            "department",
            department,
            &format!("{path}/{department}"),
        )
        .await?;
    }
    Ok(school_unit)
}

async fn ensure_org_unit(
    tx: &mut sqlx::AnyConnection,
    parent: Option<i64>,
    level: &str,
    name: &str,
    path: &str,
) -> Result<i64, StoreError> {
    // Insert-or-ignore first, so two schools saved at once under one district do not collide.
    sqlx::query("INSERT INTO org_unit (parent_id, level, name, path) VALUES ($1, $2, $3, $4) ON CONFLICT (path) DO NOTHING")
        .bind(parent)
        .bind(level)
        .bind(name)
        .bind(path)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query("SELECT id FROM org_unit WHERE path = $1")
        .bind(path)
        .fetch_one(&mut *tx)
        .await?;
    Ok(row.try_get(0)?)
}

async fn load_majors(
    conn: &mut sqlx::AnyConnection,
    school_id: i64,
) -> Result<Vec<Major>, StoreError> {
    let rows = sqlx::query(
        "SELECT name, category, department FROM major WHERE school_id = $1 ORDER BY position",
    )
    .bind(school_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Major {
                name: r.try_get("name")?,
                category: r.try_get("category")?,
                department: r.try_get("department")?,
            })
        })
        .collect()
}

pub(crate) fn key_of(row: &AnyRow) -> Result<FactKey, StoreError> {
    let year: i64 = row.try_get("year")?;
    let year = Year::new(year).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let major: String = row.try_get("major")?;
    Ok(FactKey {
        year,
        element: row.try_get("element")?,
        major: (!major.is_empty()).then_some(major),
    })
}

async fn load_facts(
    conn: &mut sqlx::AnyConnection,
    school_id: i64,
) -> Result<BTreeMap<FactKey, f64>, StoreError> {
    let rows = sqlx::query("SELECT year, element, major, value FROM fact WHERE school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((key_of(r)?, r.try_get::<f64, _>("value")?)))
        .collect()
}

async fn load_notes(
    conn: &mut sqlx::AnyConnection,
    school_id: i64,
) -> Result<BTreeMap<FactKey, String>, StoreError> {
    let rows = sqlx::query("SELECT year, element, major, text FROM note WHERE school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((key_of(r)?, r.try_get::<String, _>("text")?)))
        .collect()
}
