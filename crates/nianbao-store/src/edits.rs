//! Edits of single facts, from the web forms, uploaded templates and reverts. Each edit
//! names the value its author saw and is applied only if the store still holds that value
//! (compare-and-set in SQL), so two people editing one number at once never overwrite each
//! other silently: the second gets a [`Conflict`] and nothing of their edit is written.

use nianbao_core::{FactKey, Year};
use sqlx::Row;

use crate::{ChangeLog, SaveSummary, Store, StoreError, fact_record, school_id};

/// One fact to set (`value`), add (`expected` is `None`) or remove (`value` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct FactEdit {
    pub key: FactKey,
    /// The value the author saw when they started editing.
    pub expected: Option<f64>,
    pub value: Option<f64>,
}

/// Someone else changed a fact after the author of an edit read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub key: FactKey,
    pub expected: Option<f64>,
    pub found: Option<f64>,
    /// Who made the change that got in between, and when, from the change log.
    pub changed_by: Option<String>,
    pub changed_at: Option<String>,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: Option<f64>| v.map_or("（空）".to_string(), |v| v.to_string());
        write!(f, "「{}」", fact_record(&self.key))?;
        if let (Some(by), Some(at)) = (&self.changed_by, &self.changed_at) {
            write!(f, "已由 {by} 于 {} ", nianbao_core::clock::beijing_time(at))?;
        } else {
            write!(f, "已被他人")?;
        }
        write!(
            f,
            "改为 {}（您打开时为 {}）",
            shown(self.found),
            shown(self.expected)
        )
    }
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.to_bits() == b.to_bits(),
        (None, None) => true,
        _ => false,
    }
}

/// Parses a change-log record ("2025 staff.total", "2025 major.intake 会计事务") back to a key.
pub(crate) fn parse_record(record: &str) -> Option<FactKey> {
    let mut parts = record.splitn(3, ' ');
    let year = Year::new(parts.next()?.parse().ok()?).ok()?;
    let element = parts.next()?.to_string();
    let major = parts.next().map(str::to_string);
    Some(FactKey {
        year,
        element,
        major,
    })
}

fn parse_value(text: Option<&str>) -> Result<Option<f64>, StoreError> {
    text.map(|t| {
        t.parse::<f64>()
            .map_err(|_| StoreError::Corrupt(format!("变更记录中的数值「{t}」")))
    })
    .transpose()
}

impl Store {
    /// Applies the edits in one transaction, all or none. An edit whose `expected` value is
    /// no longer the stored one aborts the transaction with [`StoreError::Conflict`].
    pub async fn edit_facts(
        &self,
        code: &str,
        edits: &[FactEdit],
        actor: &str,
    ) -> Result<SaveSummary, StoreError> {
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let years = edits
            .iter()
            .filter(|e| !same(e.expected, e.value))
            .map(|e| e.key.year)
            .collect();
        Store::ensure_open(&mut tx, code, &years).await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        let mut summary = SaveSummary::default();
        for edit in edits.iter().filter(|e| !same(e.expected, e.value)) {
            let key = &edit.key;
            let major = key.major.as_deref().unwrap_or("");
            let year = i64::from(key.year);
            let applied = match (edit.expected, edit.value) {
                (Some(old), Some(new)) => {
                    summary.changed += 1;
                    sqlx::query("UPDATE fact SET value = $1 WHERE school_id = $2 AND year = $3 AND element = $4 AND major = $5 AND value = $6")
                        .bind(new).bind(school).bind(year).bind(&key.element).bind(major).bind(old)
                        .execute(&mut *tx).await?.rows_affected()
                }
                (None, Some(new)) => {
                    summary.added += 1;
                    sqlx::query("INSERT INTO fact (school_id, year, element, major, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                        .bind(school).bind(year).bind(&key.element).bind(major).bind(new)
                        .execute(&mut *tx).await?.rows_affected()
                }
                (Some(old), None) => {
                    summary.removed += 1;
                    sqlx::query("DELETE FROM fact WHERE school_id = $1 AND year = $2 AND element = $3 AND major = $4 AND value = $5")
                        .bind(school).bind(year).bind(&key.element).bind(major).bind(old)
                        .execute(&mut *tx).await?.rows_affected()
                }
                (None, None) => continue,
            };
            if applied != 1 {
                let conflict = self.conflict(&mut tx, school, edit).await?;
                return Err(StoreError::Conflict(Box::new(conflict)));
            }
            log.push(
                "fact",
                &fact_record(key),
                edit.expected.map(|v| v.to_string()),
                edit.value.map(|v| v.to_string()),
            );
        }
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn conflict(
        &self,
        tx: &mut sqlx::AnyConnection,
        school: i64,
        edit: &FactEdit,
    ) -> Result<Conflict, StoreError> {
        let key = &edit.key;
        let found: Option<f64> = sqlx::query(
            "SELECT value FROM fact WHERE school_id = $1 AND year = $2 AND element = $3 AND major = $4",
        )
        .bind(school)
        .bind(i64::from(key.year))
        .bind(&key.element)
        .bind(key.major.as_deref().unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let last = sqlx::query(
            "SELECT actor, changed_at FROM change_log WHERE school_id = $1 AND entity = 'fact' AND record = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(school)
        .bind(fact_record(key))
        .fetch_optional(&mut *tx)
        .await?;
        let (changed_by, changed_at) = match last {
            Some(row) => (Some(row.try_get(0)?), Some(row.try_get(1)?)),
            None => (None, None),
        };
        Ok(Conflict {
            key: key.clone(),
            expected: edit.expected,
            found,
            changed_by,
            changed_at,
        })
    }

    /// One line of a school's change log.
    pub async fn change(&self, code: &str, id: i64) -> Result<crate::Change, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.changed_at, c.actor, c.entity, c.record, c.old_value, c.new_value \
             FROM change_log c JOIN school s ON s.id = c.school_id WHERE s.code = $1 AND c.id = $2",
        )
        .bind(code)
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(StoreError::UnknownChange(id))?;
        crate::change_of(&row)
    }

    /// Undoes one logged change of a fact, if the fact still holds the value it was changed
    /// to; the undo is itself logged. Returns the fact's key.
    pub async fn revert(&self, code: &str, id: i64, actor: &str) -> Result<FactKey, StoreError> {
        let change = self.change(code, id).await?;
        let key = (change.entity == "fact")
            .then(|| parse_record(&change.record))
            .flatten()
            .ok_or(StoreError::NotRevertible(id))?;
        let edit = FactEdit {
            key: key.clone(),
            expected: parse_value(change.new_value.as_deref())?,
            value: parse_value(change.old_value.as_deref())?,
        };
        self.edit_facts(code, &[edit], actor).await?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_back_to_keys() {
        let year = Year::new(2025).unwrap();
        for key in [
            FactKey::school(year, "staff.total"),
            FactKey::major(year, "major.intake", "会计事务 （中外合作）"),
        ] {
            assert_eq!(parse_record(&fact_record(&key)), Some(key));
        }
        assert_eq!(parse_record("staff.total"), None);
    }
}
