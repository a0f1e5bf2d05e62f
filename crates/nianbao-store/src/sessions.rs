//! Sign-in sessions of the web app and the departments that fill in each report section.
//! A session is kept as the hash of its cookie token, so the table alone cannot sign
//! anyone in.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::accounts::user_of;
use crate::{ChangeLog, Store, StoreError, User, school_id};

impl Store {
    /// Records a new session and forgets the ones that have expired.
    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        csrf_token: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM web_session WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO web_session (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf_token)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user and CSRF token of a session that has not expired.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.school_code, u.department, s.csrf_token \
             FROM web_session s JOIN app_user u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at >= $2 AND u.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| Ok((user_of(&r)?, r.try_get("csrf_token")?)))
            .transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM web_session WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Which department fills in each section of a school's data (section → department).
    pub async fn section_owners(&self, code: &str) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.section, o.department FROM section_owner o JOIN school s ON s.id = o.school_id WHERE s.code = $1",
        )
        .bind(code)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("section")?, r.try_get("department")?)))
            .collect()
    }

    /// Assigns a section to a department, or takes it back (`None`), logging the change.
    pub async fn set_section_owner(
        &self,
        code: &str,
        section: &str,
        department: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let department = department.map(str::trim).filter(|d| !d.is_empty());
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let old: Option<String> = sqlx::query(
            "SELECT department FROM section_owner WHERE school_id = $1 AND section = $2",
        )
        .bind(school)
        .bind(section)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        if old.as_deref() == department {
            return Ok(());
        }
        sqlx::query("DELETE FROM section_owner WHERE school_id = $1 AND section = $2")
            .bind(school)
            .bind(section)
            .execute(&mut *tx)
            .await?;
        if let Some(department) = department {
            sqlx::query(
                "INSERT INTO section_owner (school_id, section, department) VALUES ($1, $2, $3)",
            )
            .bind(school)
            .bind(section)
            .bind(department)
            .execute(&mut *tx)
            .await?;
        }
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        log.push(
            "section_owner",
            section,
            old,
            department.map(str::to_string),
        );
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }
}
