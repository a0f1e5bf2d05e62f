//! A school's set-up: creating a school, and changing its profile, departments and majors
//! (and starting a new report year) against what the person changing them saw. Renaming a
//! major carries its facts and notes along; renaming a department carries its majors, the
//! parts assigned to it and its users along — all in one transaction, all logged. A major
//! whose facts lie in a submitted or approved year is not renamed.

use std::collections::BTreeSet;

use nianbao_core::{Dataset, Major, School, Year};
use sqlx::Row;

use crate::{ChangeLog, Store, StoreError, ensure_org_units, load_majors, school_id};

/// A change to a school's profile and majors, made against what its author saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Restructure {
    /// The profile and majors the author started from.
    pub expected_school: School,
    pub expected_majors: Vec<Major>,
    /// The profile and majors after the change. The code cannot change.
    pub school: School,
    pub majors: Vec<Major>,
    /// Majors renamed (old name, new name): their facts and notes follow.
    pub renamed_majors: Vec<(String, String)>,
    /// Departments renamed (old, new): majors, assignments and users follow.
    pub renamed_departments: Vec<(String, String)>,
}

/// Writes the majors if they changed, logging each difference.
pub(crate) async fn write_majors(
    tx: &mut sqlx::AnyConnection,
    school_id: i64,
    old_majors: &[Major],
    majors: &[Major],
    log: &mut ChangeLog<'_>,
) -> Result<(), StoreError> {
    if old_majors == majors {
        return Ok(());
    }
    sqlx::query("DELETE FROM major WHERE school_id = $1")
        .bind(school_id)
        .execute(&mut *tx)
        .await?;
    for (position, major) in majors.iter().enumerate() {
        sqlx::query(
            "INSERT INTO major (school_id, position, name, category, department) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(school_id)
        .bind(position as i64)
        .bind(&major.name)
        .bind(&major.category)
        .bind(&major.department)
        .execute(&mut *tx)
        .await?;
    }
    let describe = |m: &Major| format!("{}|{}|{}", m.name, m.category, m.department);
    for major in majors {
        let old = old_majors.iter().find(|m| m.name == major.name);
        if old != Some(major) {
            log.push(
                "major",
                &major.name,
                old.map(describe),
                Some(describe(major)),
            );
        }
    }
    for old in old_majors
        .iter()
        .filter(|o| !majors.iter().any(|m| m.name == o.name))
    {
        log.push("major", &old.name, Some(describe(old)), None);
    }
    Ok(())
}

fn profile_json(school: &School) -> Result<String, StoreError> {
    serde_json::to_string(school).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Creates a school with its profile and no data. Refuses a code in use or one that is
    /// not letters, digits and `-`.
    pub async fn create_school(&self, school: &School, actor: &str) -> Result<(), StoreError> {
        if !School::valid_code(&school.code) {
            return Err(StoreError::BadSchoolCode(school.code.clone()));
        }
        let exists = sqlx::query("SELECT id FROM school WHERE code = $1")
            .bind(&school.code)
            .fetch_optional(self.db.reader())
            .await?;
        if exists.is_some() {
            return Err(StoreError::SchoolExists(school.code.clone()));
        }
        self.save_dataset(&Dataset::new(school.clone()), actor)
            .await?;
        Ok(())
    }

    /// Applies a change to the school's profile and majors if they are still what its
    /// author saw; otherwise nothing changes and the error says what differs.
    pub async fn restructure(
        &self,
        code: &str,
        change: &Restructure,
        actor: &str,
    ) -> Result<(), StoreError> {
        if change.school.code != code {
            return Err(StoreError::BadSchoolCode(change.school.code.clone()));
        }
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let row = sqlx::query("SELECT profile FROM school WHERE id = $1")
            .bind(school)
            .fetch_one(&mut *tx)
            .await?;
        let old_profile: String = row.try_get("profile")?;
        let stored: School =
            serde_json::from_str(&old_profile).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if stored != change.expected_school {
            return Err(StoreError::StructureChanged("学校概况".into()));
        }
        let old_majors = load_majors(&mut tx, school).await?;
        if old_majors != change.expected_majors {
            return Err(StoreError::StructureChanged("专业设置".into()));
        }
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        // A rename relabels the major's facts of every year: not while one of them is locked.
        let mut renamed_years = BTreeSet::new();
        for (old, _) in &change.renamed_majors {
            for table in ["fact", "note"] {
                let rows = sqlx::query(&format!(
                    "SELECT DISTINCT year FROM {table} WHERE school_id = $1 AND major = $2"
                ))
                .bind(school)
                .bind(old)
                .fetch_all(&mut *tx)
                .await?;
                for r in &rows {
                    let year: i64 = r.try_get("year")?;
                    renamed_years
                        .insert(Year::new(year).map_err(|e| StoreError::Corrupt(e.to_string()))?);
                }
            }
        }
        Store::ensure_open(&mut tx, code, &renamed_years).await?;
        for (old, new) in &change.renamed_majors {
            for table in ["fact", "note"] {
                sqlx::query(&format!(
                    "UPDATE {table} SET major = $1 WHERE school_id = $2 AND major = $3"
                ))
                .bind(new)
                .bind(school)
                .bind(old)
                .execute(&mut *tx)
                .await?;
            }
            log.push("major_name", old, Some(old.clone()), Some(new.clone()));
        }
        for (old, new) in &change.renamed_departments {
            sqlx::query(
                "UPDATE section_owner SET department = $1 WHERE school_id = $2 AND department = $3",
            )
            .bind(new)
            .bind(school)
            .bind(old)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE app_user SET department = $1 WHERE school_code = $2 AND department = $3",
            )
            .bind(new)
            .bind(code)
            .bind(old)
            .execute(&mut *tx)
            .await?;
            log.push("department", old, Some(old.clone()), Some(new.clone()));
        }
        let new_profile = profile_json(&change.school)?;
        if stored != change.school {
            let org_unit = ensure_org_units(&mut tx, &change.school).await?;
            sqlx::query(
                "UPDATE school SET profile = $1, name = $2, org_unit_id = $3 WHERE id = $4",
            )
            .bind(&new_profile)
            .bind(&change.school.name)
            .bind(org_unit)
            .bind(school)
            .execute(&mut *tx)
            .await?;
            log.push("school", "profile", Some(old_profile), Some(new_profile));
        }
        write_majors(&mut tx, school, &old_majors, &change.majors, &mut log).await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }
}
