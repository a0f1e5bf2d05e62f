//! The psychological archive in the store. Every field about a student is sealed before it
//! is written (identity, scores, risk levels, notes); an archive is found by a keyed hash
//! of the student number. Only a counsellor of the school, naming a reason from the
//! vocabulary, can open records, and every opening, export, import and deletion is written
//! to the access log in the same transaction. The counts the report uses are recomputed
//! on every import for the years it touched; deleting archives at the end of their
//! retention leaves those counts as they were.

use std::collections::{BTreeMap, BTreeSet};

use nianbao_core::{Role, Year};
use nianbao_systems::psych::{
    Archive, Counselling, FollowUp, Identity, PsychKind, PsychRecords, PsychRow, Screening, Sealer,
    tallies,
};
use nianbao_systems::register::{System, diff};
use nianbao_systems::table::{Located, Sheet};
use nianbao_systems::{Day, ImportSummary, Mode, Vocabulary};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use super::store_figures;
use crate::{Store, StoreError, User, school_id};

/// Who opens the archive and why.
#[derive(Debug, Clone, Copy)]
pub struct PsychAccess<'a> {
    pub user: &'a User,
    /// One of the vocabulary's reasons, optionally followed by `：` and details.
    pub reason: &'a str,
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub id: i64,
    /// UTC, as stored.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub reason: String,
}

/// One archive in the counsellor's list.
#[derive(Debug, Clone, PartialEq)]
pub struct PsychArchiveEntry {
    pub id: i64,
    pub identity: Identity,
    pub records: usize,
    pub last_day: Option<Day>,
    /// The highest risk level of the student's latest screening year.
    pub latest_risk: Option<String>,
    pub retain_until: Day,
}

const IDENTITY: &str = "identity";
const SCREENING: &str = "screening";
const SESSION: &str = "session";
const FOLLOWUP: &str = "followup";

/// The longest reason kept.
const MAX_REASON_CHARS: usize = 200;

fn seal<T: Serialize>(sealer: &Sealer, kind: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    let plain = zeroize::Zeroizing::new(
        serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    );
    Ok(sealer.seal(kind, &plain)?)
}

fn open<T: DeserializeOwned>(sealer: &Sealer, kind: &str, sealed: &[u8]) -> Result<T, StoreError> {
    let plain = sealer.open(kind, sealed)?;
    serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Refuses anyone but a counsellor of the school, and a read without a listed reason.
fn authorise(
    code: &str,
    access: &PsychAccess<'_>,
    vocabulary: &Vocabulary,
) -> Result<(), StoreError> {
    let user = access.user;
    if user.role != Role::Counsellor || user.school_code.as_deref() != Some(code) {
        return Err(StoreError::NotCounsellor);
    }
    let reason = access.reason.trim();
    let head = reason.split('：').next().unwrap_or("").trim();
    if !vocabulary.psych.access_reasons.iter().any(|r| r == head)
        || reason.chars().count() > MAX_REASON_CHARS
    {
        return Err(StoreError::ReasonRequired(
            vocabulary.psych.access_reasons.join("、"),
        ));
    }
    Ok(())
}

/// The stored archive, opened: records, and each student's archive id and retention day.
struct Opened {
    records: PsychRecords,
    archives: BTreeMap<String, (i64, String)>,
}

async fn open_all(
    conn: &mut sqlx::AnyConnection,
    school: i64,
    sealer: &Sealer,
) -> Result<Opened, StoreError> {
    let mut records = PsychRecords::default();
    let mut archives = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT id, sealed, retain_until FROM psych_archive WHERE school_id = $1 ORDER BY id",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let sealed: Vec<u8> = row.try_get("sealed")?;
        let identity: Identity = open(sealer, IDENTITY, &sealed)?;
        archives.insert(
            identity.student_no.clone(),
            (id, row.try_get::<String, _>("retain_until")?),
        );
        records
            .identities
            .insert(identity.student_no.clone(), identity);
    }
    let rows = sqlx::query(
        "SELECT kind, sealed FROM psych_record WHERE school_id = $1 ORDER BY kind, record_no",
    )
    .bind(school)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        let sealed: Vec<u8> = row.try_get("sealed")?;
        match kind.as_str() {
            SCREENING => records.screenings.push(open(sealer, SCREENING, &sealed)?),
            SESSION => records.sessions.push(open(sealer, SESSION, &sealed)?),
            FOLLOWUP => records.followups.push(open(sealer, FOLLOWUP, &sealed)?),
            other => return Err(StoreError::Corrupt(format!("心理档案记录类别「{other}」"))),
        }
    }
    Ok(Opened { records, archives })
}

/// Checks the key against the fingerprint kept for the school (keeping one on first use).
async fn check_key(
    conn: &mut sqlx::AnyConnection,
    school: i64,
    sealer: &Sealer,
    now: &str,
) -> Result<(), StoreError> {
    let stored: Option<String> =
        sqlx::query("SELECT fingerprint FROM psych_key WHERE school_id = $1")
            .bind(school)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
    match stored {
        Some(fingerprint) if fingerprint == sealer.fingerprint() => Ok(()),
        Some(_) => Err(StoreError::WrongKey),
        None => {
            sqlx::query(&format!(
                "INSERT INTO psych_key (school_id, fingerprint, created_at) VALUES ($1, $2, {now})"
            ))
            .bind(school)
            .bind(sealer.fingerprint())
            .execute(&mut *conn)
            .await?;
            Ok(())
        }
    }
}

async fn log_access(
    conn: &mut sqlx::AnyConnection,
    school: i64,
    now: &str,
    actor: &str,
    action: &str,
    subject: &str,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO psych_access (school_id, at, actor, action, subject, reason) VALUES ($1, {now}, $2, $3, $4, $5)"
    ))
    .bind(school)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(reason.trim())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn years_of(records: &PsychRecords, keep: &BTreeSet<(String, String)>) -> BTreeSet<i32> {
    let mut years = BTreeSet::new();
    for s in &records.screenings {
        if keep.contains(&(SCREENING.to_string(), s.record_no.clone())) {
            years.insert(s.day.year());
        }
    }
    for s in &records.sessions {
        if keep.contains(&(SESSION.to_string(), s.record_no.clone())) {
            years.insert(s.day.year());
        }
    }
    for f in &records.followups {
        if keep.contains(&(FOLLOWUP.to_string(), f.record_no.clone())) {
            years.insert(f.day.year());
        }
    }
    years
}

impl Store {
    /// The counsellor's list of archives: who, how many records, the latest risk level and
    /// when the archive is to be deleted. Logged.
    pub async fn psych_archives(
        &self,
        code: &str,
        sealer: &Sealer,
        access: &PsychAccess<'_>,
        vocabulary: &Vocabulary,
    ) -> Result<Vec<PsychArchiveEntry>, StoreError> {
        authorise(code, access, vocabulary)?;
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        check_key(&mut tx, school, sealer, self.now_sql()).await?;
        let opened = open_all(&mut tx, school, sealer).await?;
        let mut entries = Vec::new();
        for (no, identity) in &opened.records.identities {
            let Some((id, retain)) = opened.archives.get(no) else {
                continue;
            };
            let archive = opened.records.archive(no);
            let latest_year = opened
                .records
                .screenings
                .iter()
                .filter(|s| s.student_no == *no)
                .map(|s| s.day.year())
                .max();
            let latest_risk = latest_year.and_then(|year| {
                let rank = *opened
                    .records
                    .highest_risk(year, &vocabulary.psych)
                    .get(no)?;
                vocabulary.psych.risk.get(rank).map(|r| r.name.clone())
            });
            entries.push(PsychArchiveEntry {
                id: *id,
                identity: identity.clone(),
                records: archive.as_ref().map_or(0, |a| a.events.len()),
                last_day: opened.records.last_day(no),
                latest_risk,
                retain_until: super::day_of(retain)?,
            });
        }
        log_access(
            &mut tx,
            school,
            self.now_sql(),
            &access.user.name,
            "查看档案列表",
            &format!("全部档案（{} 人）", entries.len()),
            access.reason,
        )
        .await?;
        tx.commit().await?;
        Ok(entries)
    }

    /// One student's archive (一人一档), by its id. Logged.
    pub async fn psych_archive(
        &self,
        code: &str,
        id: i64,
        sealer: &Sealer,
        access: &PsychAccess<'_>,
        vocabulary: &Vocabulary,
    ) -> Result<Option<(Archive, Day)>, StoreError> {
        authorise(code, access, vocabulary)?;
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        check_key(&mut tx, school, sealer, self.now_sql()).await?;
        let opened = open_all(&mut tx, school, sealer).await?;
        let found = opened
            .archives
            .iter()
            .find(|(_, (archive_id, _))| *archive_id == id)
            .map(|(no, (_, retain))| (no.clone(), retain.clone()));
        let Some((no, retain)) = found else {
            return Ok(None);
        };
        let archive = opened.records.archive(&no);
        log_access(
            &mut tx,
            school,
            self.now_sql(),
            &access.user.name,
            "查看个人档案",
            &format!("档案 {id}"),
            access.reason,
        )
        .await?;
        tx.commit().await?;
        let retain = super::day_of(&retain)?;
        Ok(archive.map(|a| (a, retain)))
    }

    /// The records of one kind as a sheet to export, with names. Logged.
    pub async fn export_psych(
        &self,
        code: &str,
        kind: PsychKind,
        sealer: &Sealer,
        access: &PsychAccess<'_>,
        vocabulary: &Vocabulary,
    ) -> Result<Sheet, StoreError> {
        authorise(code, access, vocabulary)?;
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        check_key(&mut tx, school, sealer, self.now_sql()).await?;
        let opened = open_all(&mut tx, school, sealer).await?;
        let sheet = opened.records.sheet(kind);
        log_access(
            &mut tx,
            school,
            self.now_sql(),
            &access.user.name,
            "导出",
            &format!("{}（{} 条）", kind.label(), sheet.rows.len()),
            access.reason,
        )
        .await?;
        tx.commit().await?;
        Ok(sheet)
    }

    /// Imports one list of the archive in one transaction: opened, merged and checked,
    /// sealed again, the counts of the touched years recomputed, the import logged.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_psych(
        &self,
        code: &str,
        kind: PsychKind,
        rows: Vec<Located<PsychRow>>,
        mode: Mode,
        sealer: &Sealer,
        access: &PsychAccess<'_>,
        vocabulary: &Vocabulary,
    ) -> Result<ImportSummary, StoreError> {
        authorise(code, access, vocabulary)?;
        let imported = rows.len();
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        check_key(&mut tx, school, sealer, self.now_sql()).await?;
        let Opened {
            records: old,
            archives,
        } = open_all(&mut tx, school, sealer).await?;
        let new = old
            .apply(kind, rows, mode)
            .map_err(|e| StoreError::Import(Box::new(e)))?;
        let years_kept = vocabulary.psych.retention_years;

        // Archives: one per student with records; retention follows the last record.
        let mut ids: BTreeMap<String, i64> = BTreeMap::new();
        for (no, identity) in &new.identities {
            let retain = new
                .retain_until(no, years_kept)
                .unwrap_or_else(Day::today)
                .to_string();
            match archives.get(no) {
                Some((id, old_retain)) => {
                    if old.identities.get(no) != Some(identity) || *old_retain != retain {
                        sqlx::query(
                            "UPDATE psych_archive SET sealed = $1, retain_until = $2 WHERE id = $3",
                        )
                        .bind(seal(sealer, IDENTITY, identity)?)
                        .bind(&retain)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    ids.insert(no.clone(), *id);
                }
                None => {
                    let id: i64 = sqlx::query(
                        "INSERT INTO psych_archive (school_id, pseudonym, sealed, retain_until) VALUES ($1, $2, $3, $4) RETURNING id",
                    )
                    .bind(school)
                    .bind(sealer.pseudonym(no))
                    .bind(seal(sealer, IDENTITY, identity)?)
                    .bind(&retain)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                    ids.insert(no.clone(), id);
                }
            }
        }

        // Records: what changed, by kind and number.
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        let mut summary = ImportSummary::default();
        let screenings = diff(&old.screenings, &new.screenings, |s: &Screening| {
            s.record_no.clone()
        });
        let sessions = diff(&old.sessions, &new.sessions, |s: &Counselling| {
            s.record_no.clone()
        });
        let followups = diff(&old.followups, &new.followups, |f: &FollowUp| {
            f.record_no.clone()
        });
        let mut gone: Vec<(&str, &str)> = Vec::new();
        let mut put: Vec<(&str, &str, Option<&str>, Vec<u8>)> = Vec::new();
        for s in screenings
            .removed
            .iter()
            .chain(screenings.changed.iter().map(|(o, _)| o))
        {
            gone.push((SCREENING, &s.record_no));
        }
        for s in screenings
            .added
            .iter()
            .chain(screenings.changed.iter().map(|(_, n)| n))
        {
            put.push((
                SCREENING,
                &s.record_no,
                Some(&s.student_no),
                seal(sealer, SCREENING, s)?,
            ));
        }
        for s in sessions
            .removed
            .iter()
            .chain(sessions.changed.iter().map(|(o, _)| o))
        {
            gone.push((SESSION, &s.record_no));
        }
        for s in sessions
            .added
            .iter()
            .chain(sessions.changed.iter().map(|(_, n)| n))
        {
            put.push((
                SESSION,
                &s.record_no,
                s.student_no.as_deref(),
                seal(sealer, SESSION, s)?,
            ));
        }
        for f in followups
            .removed
            .iter()
            .chain(followups.changed.iter().map(|(o, _)| o))
        {
            gone.push((FOLLOWUP, &f.record_no));
        }
        for f in followups
            .added
            .iter()
            .chain(followups.changed.iter().map(|(_, n)| n))
        {
            put.push((
                FOLLOWUP,
                &f.record_no,
                Some(&f.student_no),
                seal(sealer, FOLLOWUP, f)?,
            ));
        }
        for (kind, record_no) in &gone {
            sqlx::query(
                "DELETE FROM psych_record WHERE school_id = $1 AND kind = $2 AND record_no = $3",
            )
            .bind(school)
            .bind(*kind)
            .bind(*record_no)
            .execute(&mut *tx)
            .await?;
            touched.insert((kind.to_string(), record_no.to_string()));
        }
        for (kind, record_no, student, sealed) in &put {
            let archive = student.and_then(|no| ids.get(no).copied());
            sqlx::query(
                "INSERT INTO psych_record (school_id, kind, record_no, archive_id, sealed) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(school)
            .bind(*kind)
            .bind(*record_no)
            .bind(archive)
            .bind(sealed)
            .execute(&mut *tx)
            .await?;
            touched.insert((kind.to_string(), record_no.to_string()));
        }
        for part in [
            ImportSummary::from(&screenings),
            ImportSummary::from(&sessions),
            ImportSummary::from(&followups),
        ] {
            summary.added += part.added;
            summary.changed += part.changed;
            summary.removed += part.removed;
        }
        summary.unchanged = imported.saturating_sub(summary.added + summary.changed);

        // Archives left without records go.
        for (no, (id, _)) in &archives {
            if !new.identities.contains_key(no) {
                sqlx::query("DELETE FROM psych_record WHERE archive_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM psych_archive WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }

        let mut years = years_of(&old, &touched);
        years.extend(years_of(&new, &touched));
        let years: Vec<Year> = years
            .into_iter()
            .filter_map(|y| Year::new(i64::from(y)).ok())
            .collect();
        let figures = tallies(&new, &vocabulary.psych);
        store_figures(&mut tx, school, System::Psych, &figures, Some(&years)).await?;
        log_access(
            &mut tx,
            school,
            self.now_sql(),
            &access.user.name,
            "导入",
            &format!("{}：{summary}", kind.label()),
            access.reason,
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// How many archives are past their retention day.
    pub async fn psych_due_for_deletion(&self, code: &str, today: Day) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM psych_archive a JOIN school s ON s.id = a.school_id \
             WHERE s.code = $1 AND a.retain_until < $2",
        )
        .bind(code)
        .bind(today.to_string())
        .fetch_one(self.db.reader())
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Deletes every archive past its retention day, with its records; the yearly counts
    /// already computed stay. Only a counsellor of the school may; logged.
    pub async fn purge_psych(
        &self,
        code: &str,
        today: Day,
        user: &User,
    ) -> Result<usize, StoreError> {
        if user.role != Role::Counsellor || user.school_code.as_deref() != Some(code) {
            return Err(StoreError::NotCounsellor);
        }
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let due: Vec<i64> =
            sqlx::query("SELECT id FROM psych_archive WHERE school_id = $1 AND retain_until < $2")
                .bind(school)
                .bind(today.to_string())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        for id in &due {
            sqlx::query("DELETE FROM psych_record WHERE archive_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM psych_archive WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        log_access(
            &mut tx,
            school,
            self.now_sql(),
            &user.name,
            "到期删除",
            &format!("保存期满的档案 {} 份", due.len()),
            &format!("保存期限届满（截至 {today}）"),
        )
        .await?;
        tx.commit().await?;
        Ok(due.len())
    }

    /// The newest lines of the archive's access log. Only a counsellor of the school may
    /// read it.
    pub async fn psych_access_log(
        &self,
        code: &str,
        user: &User,
        limit: i64,
    ) -> Result<Vec<AccessEntry>, StoreError> {
        if user.role != Role::Counsellor || user.school_code.as_deref() != Some(code) {
            return Err(StoreError::NotCounsellor);
        }
        let rows = sqlx::query(
            "SELECT a.id, a.at, a.actor, a.action, a.subject, a.reason FROM psych_access a \
             JOIN school s ON s.id = a.school_id WHERE s.code = $1 ORDER BY a.id DESC LIMIT $2",
        )
        .bind(code)
        .bind(limit)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}
