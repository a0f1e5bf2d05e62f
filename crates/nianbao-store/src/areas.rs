//! The bureau's tables: areas and their schools, deadlines, each school's submission of a
//! year with its history of actions (and the reasons of every return), the facts as they
//! were approved, the area's approval, the area report's own texts, and which area a
//! bureau user works for.
//!
//! A year that is submitted or approved is locked: [`Store::ensure_open`] is called by
//! every write of facts, report texts and register figures, and refuses with the reason in Chinese.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use nianbao_bureau::approval::{self, FactChange};
use nianbao_bureau::areas::{Area, AreaSchool, AreaTree, Deadline, Level, SchoolType, parse_date};
use nianbao_bureau::compare::{Evaluator, SchoolResult, peer_scope};
use nianbao_bureau::peers::PeerLevel;
use nianbao_bureau::{Action, Actor, ActorRole, ReturnItem, ReturnTarget, SubmissionState};
use nianbao_core::{Dataset, Definitions, FactKey, Year, run_checks};
use sqlx::Row;
use time::Date;

use crate::{Store, StoreError, fact_record, key_of};

/// Where a school's year stands, with who moved it there and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionStatus {
    pub school: String,
    pub year: Year,
    pub state: SubmissionState,
    /// Who last acted; empty while nothing happened.
    pub actor: String,
    /// When (UTC as stored; show with `nianbao_core::clock::beijing_time`).
    pub at: String,
    /// When it was first submitted, if ever.
    pub submitted_at: Option<String>,
}

/// One action in a submission's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionEvent {
    pub id: i64,
    pub action: Action,
    pub from: SubmissionState,
    pub to: SubmissionState,
    pub actor: String,
    pub actor_role: String,
    pub at: String,
    /// The return's items, for a return.
    pub items: Vec<ReturnItem>,
}

/// What a bulk approval did with each submitted school.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BulkOutcome {
    pub approved: Vec<String>,
    /// (school code, why it was left for a person to look at).
    pub skipped: Vec<(String, String)>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn state_of(text: &str) -> Result<SubmissionState, StoreError> {
    SubmissionState::from_code(text).ok_or_else(|| corrupt(&format!("提交状态「{text}」")))
}

fn year_of(value: i64) -> Result<Year, StoreError> {
    Year::new(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn role_code(role: ActorRole) -> &'static str {
    match role {
        ActorRole::School => "school",
        ActorRole::District => "district",
        ActorRole::City => "city",
        ActorRole::Province => "province",
    }
}

/// The role a bureau at a level acts in.
pub fn role_of_level(level: Level) -> ActorRole {
    match level {
        Level::District => ActorRole::District,
        Level::City => ActorRole::City,
        Level::Province => ActorRole::Province,
    }
}

impl Store {
    /// Stores the areas, schools and deadlines of an area file in one transaction: new
    /// codes are added, known ones updated; nothing is removed.
    pub async fn load_areas(&self, tree: &AreaTree) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        for area in &tree.areas {
            sqlx::query(
                "INSERT INTO area (code, name, level, parent_code) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 parent_code = excluded.parent_code",
            )
            .bind(&area.code)
            .bind(&area.name)
            .bind(area.level.code())
            .bind(area.parent.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        for (position, school) in tree.schools.iter().enumerate() {
            sqlx::query(
                "INSERT INTO area_school (school_code, district_code, name, kind, position) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (school_code) DO UPDATE SET \
                 district_code = excluded.district_code, name = excluded.name, kind = excluded.kind, \
                 position = excluded.position",
            )
            .bind(&school.code)
            .bind(&school.district)
            .bind(&school.name)
            .bind(school.kind.label())
            .bind(position as i64)
            .execute(&mut *tx)
            .await?;
        }
        for deadline in &tree.deadlines {
            sqlx::query(
                "INSERT INTO deadline (area_code, year, due) VALUES ($1, $2, $3) \
                 ON CONFLICT (area_code, year) DO UPDATE SET due = excluded.due",
            )
            .bind(&deadline.area)
            .bind(i64::from(deadline.year))
            .bind(deadline.date_text())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every area, school and deadline stored.
    pub async fn area_tree(&self) -> Result<AreaTree, StoreError> {
        let mut conn = self.db.read().await?;
        let rows = sqlx::query("SELECT code, name, level, parent_code FROM area")
            .fetch_all(&mut *conn)
            .await?;
        let mut areas = Vec::new();
        for r in &rows {
            let level: String = r.try_get("level")?;
            areas.push(Area {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                level: Level::from_code(&level)
                    .ok_or_else(|| corrupt(&format!("区域级别「{level}」")))?,
                parent: r.try_get("parent_code")?,
            });
        }
        areas.sort_by(|a, b| a.level.cmp(&b.level).then(a.code.cmp(&b.code)));
        let rows = sqlx::query(
            "SELECT school_code, district_code, name, kind FROM area_school ORDER BY position, school_code",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut schools = Vec::new();
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            schools.push(AreaSchool {
                code: r.try_get("school_code")?,
                name: r.try_get("name")?,
                district: r.try_get("district_code")?,
                kind: SchoolType::from_label(&kind)
                    .ok_or_else(|| corrupt(&format!("学校类型「{kind}」")))?,
            });
        }
        let rows =
            sqlx::query("SELECT area_code, year, due FROM deadline ORDER BY area_code, year")
                .fetch_all(&mut *conn)
                .await?;
        let mut deadlines = Vec::new();
        for r in &rows {
            let due: String = r.try_get("due")?;
            deadlines.push(Deadline {
                area: r.try_get("area_code")?,
                year: year_of(r.try_get("year")?)?,
                date: parse_date(&due).ok_or_else(|| corrupt(&format!("截止日期「{due}」")))?,
            });
        }
        Ok(AreaTree {
            areas,
            schools,
            deadlines,
        })
    }

    /// Binds a user to the area whose bureau they work for.
    pub async fn set_user_area(&self, user: &str, area: &str) -> Result<(), StoreError> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("SELECT id FROM app_user WHERE name = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::UnknownUser(user.to_string()))?
            .try_get(0)?;
        let known = sqlx::query("SELECT code FROM area WHERE code = $1")
            .bind(area)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(StoreError::Refused(format!(
                "区域代码「{area}」不存在：请先用 nianbao area load 导入区域文件"
            )));
        }
        sqlx::query(
            "INSERT INTO user_area (user_id, area_code) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET area_code = excluded.area_code",
        )
        .bind(id)
        .bind(area)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The area a bureau user is bound to, with its name and level (one row, for the page
    /// header); `None` for a user bound to none.
    pub async fn user_area_of(&self, user_id: i64) -> Result<Option<Area>, StoreError> {
        let row = sqlx::query(
            "SELECT a.code, a.name, a.level, a.parent_code FROM user_area u \
             JOIN area a ON a.code = u.area_code WHERE u.user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| {
            let level: String = r.try_get(2)?;
            Ok(Area {
                code: r.try_get(0)?,
                name: r.try_get(1)?,
                level: Level::from_code(&level)
                    .ok_or_else(|| StoreError::Corrupt(format!("未知的区域级别「{level}」")))?,
                parent: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// The area a user works for, if any.
    pub async fn user_area(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT area_code FROM user_area WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Where a school's year stands; 待提交 when nothing was done yet.
    pub async fn submission(
        &self,
        school: &str,
        year: Year,
    ) -> Result<SubmissionStatus, StoreError> {
        let mut conn = self.db.read().await?;
        submission_in(&mut conn, school, year).await
    }

    /// The state of every school with a submission row for a year, by school code.
    pub async fn submissions(
        &self,
        year: Year,
    ) -> Result<BTreeMap<String, SubmissionStatus>, StoreError> {
        let rows = sqlx::query(
            "SELECT school_code, state, actor, changed_at, submitted_at FROM submission WHERE year = $1",
        )
        .bind(i64::from(year))
        .fetch_all(self.db.reader())
        .await?;
        let mut all = BTreeMap::new();
        for r in &rows {
            let school: String = r.try_get("school_code")?;
            all.insert(school.clone(), status_of_row(r, school, year)?);
        }
        Ok(all)
    }

    /// Every action on a school's year, oldest first, with the items of each return.
    pub async fn submission_history(
        &self,
        school: &str,
        year: Year,
    ) -> Result<Vec<SubmissionEvent>, StoreError> {
        let mut conn = self.db.read().await?;
        let rows = sqlx::query(
            "SELECT id, action, from_state, to_state, actor, actor_role, changed_at FROM submission_event \
             WHERE school_code = $1 AND year = $2 ORDER BY id",
        )
        .bind(school)
        .bind(i64::from(year))
        .fetch_all(&mut *conn)
        .await?;
        let items = sqlx::query(
            "SELECT event_id, target_kind, target, reason FROM return_item \
             WHERE school_code = $1 AND year = $2 ORDER BY event_id, position",
        )
        .bind(school)
        .bind(i64::from(year))
        .fetch_all(&mut *conn)
        .await?;
        let mut by_event: HashMap<i64, Vec<ReturnItem>> = HashMap::new();
        for r in &items {
            let kind: String = r.try_get("target_kind")?;
            let target: String = r.try_get("target")?;
            let target = match kind.as_str() {
                "section" => ReturnTarget::Section(target),
                _ => ReturnTarget::Fact(
                    crate::edits::parse_record(&target)
                        .ok_or_else(|| corrupt(&format!("退回的数据项「{target}」")))?,
                ),
            };
            by_event
                .entry(r.try_get("event_id")?)
                .or_default()
                .push(ReturnItem {
                    target,
                    reason: r.try_get("reason")?,
                });
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let action: String = r.try_get("action")?;
                let from: String = r.try_get("from_state")?;
                let to: String = r.try_get("to_state")?;
                Ok(SubmissionEvent {
                    id,
                    action: Action::from_code(&action)
                        .ok_or_else(|| corrupt(&format!("操作「{action}」")))?,
                    from: state_of(&from)?,
                    to: state_of(&to)?,
                    actor: r.try_get("actor")?,
                    actor_role: r.try_get("actor_role")?,
                    at: r.try_get("changed_at")?,
                    items: by_event.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Takes one action on a school's year, all in one transaction: the transition is
    /// checked, a submission needs the checks to be clean (no error, every warning
    /// accepted), a return needs its items, an approval keeps the year's facts as approved.
    pub async fn act_on_submission(
        &self,
        school: &str,
        year: Year,
        action: Action,
        actor: &Actor,
        items: &[ReturnItem],
        definitions: &Definitions,
    ) -> Result<SubmissionState, StoreError> {
        if action == Action::Return {
            approval::validate_return(items).map_err(|r| StoreError::Refused(r.0))?;
        }
        if action == Action::Submit {
            let data = self
                .load_dataset_with_registers(school, definitions)
                .await?;
            let findings: Vec<_> = run_checks(definitions, &data)
                .into_iter()
                .filter(|f| concerns(f, year))
                .collect();
            let accepted: BTreeSet<String> = self
                .acceptances(school)
                .await?
                .into_iter()
                .map(|a| a.key)
                .collect();
            approval::ready_to_submit(&findings, &accepted)
                .map_err(|r| StoreError::Refused(r.0))?;
        }
        let mut tx = self.db.write().await?;
        let status = submission_in(&mut tx, school, year).await?;
        let next = approval::transition(status.state, action, actor.role)
            .map_err(|r| StoreError::Refused(r.0))?;
        self.write_transition(
            &mut tx,
            school,
            year,
            status.state,
            next,
            action,
            actor,
            items,
        )
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_transition(
        &self,
        tx: &mut sqlx::AnyConnection,
        school: &str,
        year: Year,
        from: SubmissionState,
        to: SubmissionState,
        action: Action,
        actor: &Actor,
        items: &[ReturnItem],
    ) -> Result<(), StoreError> {
        let now = self.now_sql();
        let submitted = if action == Action::Submit {
            format!("COALESCE(submission.submitted_at, {now})")
        } else {
            "submission.submitted_at".to_string()
        };
        let first_submitted = if action == Action::Submit {
            now.to_string()
        } else {
            "NULL".to_string()
        };
        sqlx::query(&format!(
            "INSERT INTO submission (school_code, year, state, actor, changed_at, submitted_at) \
             VALUES ($1, $2, $3, $4, {now}, {first_submitted}) ON CONFLICT (school_code, year) DO UPDATE SET \
             state = excluded.state, actor = excluded.actor, changed_at = excluded.changed_at, \
             submitted_at = {submitted}"
        ))
        .bind(school)
        .bind(i64::from(year))
        .bind(to.code())
        .bind(&actor.name)
        .execute(&mut *tx)
        .await?;
        let event: i64 = sqlx::query(&format!(
            "INSERT INTO submission_event (school_code, year, action, from_state, to_state, actor, actor_role, changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {now}) RETURNING id"
        ))
        .bind(school)
        .bind(i64::from(year))
        .bind(action.code())
        .bind(from.code())
        .bind(to.code())
        .bind(&actor.name)
        .bind(role_code(actor.role))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if action == Action::Return {
            for (position, item) in items.iter().enumerate() {
                let (kind, target) = match &item.target {
                    ReturnTarget::Section(s) => ("section", s.trim().to_string()),
                    ReturnTarget::Fact(key) => ("fact", fact_record(key)),
                };
                sqlx::query(
                    "INSERT INTO return_item (school_code, year, event_id, position, target_kind, target, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(school)
                .bind(i64::from(year))
                .bind(event)
                .bind(position as i64)
                .bind(kind)
                .bind(target)
                .bind(item.reason.trim())
                .execute(&mut *tx)
                .await?;
            }
        }
        if action == Action::Approve {
            sqlx::query("DELETE FROM approval_snapshot WHERE school_code = $1 AND year = $2")
                .bind(school)
                .bind(i64::from(year))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO approval_snapshot (school_code, year, element, major, value) \
                 SELECT s.code, f.year, f.element, f.major, f.value FROM fact f \
                 JOIN school s ON s.id = f.school_id WHERE s.code = $1 AND f.year = $2",
            )
            .bind(school)
            .bind(i64::from(year))
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }

    /// The facts of a school's year that changed since it was last approved; `None` when
    /// it was never approved.
    pub async fn changes_since_approval(
        &self,
        school: &str,
        year: Year,
    ) -> Result<Option<Vec<FactChange>>, StoreError> {
        let mut conn = self.db.read().await?;
        let approved_rows = sqlx::query(
            "SELECT year, element, major, value FROM approval_snapshot WHERE school_code = $1 AND year = $2",
        )
        .bind(school)
        .bind(i64::from(year))
        .fetch_all(&mut *conn)
        .await?;
        let ever = sqlx::query(
            "SELECT id FROM submission_event WHERE school_code = $1 AND year = $2 AND action = 'approve'",
        )
        .bind(school)
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await?;
        if ever.is_none() {
            return Ok(None);
        }
        let mut approved = BTreeMap::new();
        for r in &approved_rows {
            approved.insert(key_of(r)?, r.try_get::<f64, _>("value")?);
        }
        let current_rows = sqlx::query(
            "SELECT f.year, f.element, f.major, f.value FROM fact f JOIN school s ON s.id = f.school_id \
             WHERE s.code = $1 AND f.year = $2",
        )
        .bind(school)
        .bind(i64::from(year))
        .fetch_all(&mut *conn)
        .await?;
        let mut current = BTreeMap::new();
        for r in &current_rows {
            current.insert(key_of(r)?, r.try_get::<f64, _>("value")?);
        }
        Ok(Some(approval::changes_since(&approved, &current)))
    }

    /// Refuses a write to a school's years when one of them is locked (submitted or
    /// approved), with the reason. Called by every write of facts, report texts and register figures.
    pub(crate) async fn ensure_open(
        conn: &mut sqlx::AnyConnection,
        school: &str,
        years: &BTreeSet<Year>,
    ) -> Result<(), StoreError> {
        if years.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query("SELECT year, state FROM submission WHERE school_code = $1")
            .bind(school)
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let year = year_of(r.try_get("year")?)?;
            let state: String = r.try_get("state")?;
            if years.contains(&year)
                && let Some(reason) = state_of(&state)?.lock_reason()
            {
                return Err(StoreError::Refused(format!(
                    "{year} 年度数据已锁定，未保存：{reason}"
                )));
            }
        }
        Ok(())
    }

    /// Approves an area (a district or a city) for a year once every school in it is
    /// approved; refuses with the schools still waiting.
    pub async fn approve_area(
        &self,
        area: &str,
        year: Year,
        actor: &str,
    ) -> Result<(), StoreError> {
        let tree = self.area_tree().await?;
        if tree.area(area).is_none() {
            return Err(StoreError::Refused(format!("区域代码「{area}」不存在")));
        }
        let states = self.submissions(year).await?;
        let schools: Vec<(String, SubmissionState)> = tree
            .schools_in(area)
            .into_iter()
            .map(|s| {
                let state = states
                    .get(&s.code)
                    .map_or(SubmissionState::Draft, |st| st.state);
                (s.name.clone(), state)
            })
            .collect();
        approval::area_ready(&schools).map_err(|r| StoreError::Refused(r.0))?;
        let now = self.now_sql();
        let mut tx = self.db.write().await?;
        sqlx::query(&format!(
            "INSERT INTO area_approval (area_code, year, actor, approved_at) VALUES ($1, $2, $3, {now}) \
             ON CONFLICT (area_code, year) DO UPDATE SET actor = excluded.actor, approved_at = excluded.approved_at"
        ))
        .bind(area)
        .bind(i64::from(year))
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who approved an area for a year, and when.
    pub async fn area_approval(
        &self,
        area: &str,
        year: Year,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT actor, approved_at FROM area_approval WHERE area_code = $1 AND year = $2",
        )
        .bind(area)
        .bind(i64::from(year))
        .fetch_optional(self.db.reader())
        .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Approves every submitted school of an area whose checks are clean (no error, every
    /// warning accepted); the others are listed with the reason they were left.
    pub async fn bulk_approve(
        &self,
        area: &str,
        year: Year,
        actor: &Actor,
        definitions: &Definitions,
    ) -> Result<BulkOutcome, StoreError> {
        let tree = self.area_tree().await?;
        let states = self.submissions(year).await?;
        let mut outcome = BulkOutcome::default();
        for school in tree.schools_in(area) {
            if states.get(&school.code).map(|s| s.state) != Some(SubmissionState::Submitted) {
                continue;
            }
            let data = self
                .load_dataset_with_registers(&school.code, definitions)
                .await?;
            let findings: Vec<_> = run_checks(definitions, &data)
                .into_iter()
                .filter(|f| concerns(f, year))
                .collect();
            let accepted: BTreeSet<String> = self
                .acceptances(&school.code)
                .await?
                .into_iter()
                .map(|a| a.key)
                .collect();
            if let Err(why) = approval::ready_to_submit(&findings, &accepted) {
                outcome.skipped.push((school.code.clone(), why.0));
                continue;
            }
            match self
                .act_on_submission(&school.code, year, Action::Approve, actor, &[], definitions)
                .await
            {
                Ok(_) => outcome.approved.push(school.code.clone()),
                Err(StoreError::Refused(why)) => outcome.skipped.push((school.code.clone(), why)),
                Err(e) => return Err(e),
            }
        }
        Ok(outcome)
    }

    /// The schools of an area whose deadline for the year has passed on `today` and that
    /// have not submitted: (school, deadline).
    pub async fn late_schools(
        &self,
        area: &str,
        year: Year,
        today: Date,
    ) -> Result<Vec<(AreaSchool, Date)>, StoreError> {
        let tree = self.area_tree().await?;
        let states = self.submissions(year).await?;
        let mut late = Vec::new();
        for school in tree.schools_in(area) {
            let Some(deadline) = tree.deadline_for(&school.code, year) else {
                continue;
            };
            let state = states
                .get(&school.code)
                .map_or(SubmissionState::Draft, |s| s.state);
            if deadline.date < today
                && matches!(state, SubmissionState::Draft | SubmissionState::Returned)
            {
                late.push((school.clone(), deadline.date));
            }
        }
        Ok(late)
    }

    /// Saves one of the area report's own texts (前言, 总体情况, 面临挑战 …).
    pub async fn save_area_text(
        &self,
        area: &str,
        year: Year,
        part: &str,
        body: &str,
        author: &str,
    ) -> Result<(), StoreError> {
        if body.len() > crate::MAX_TEXT_BYTES {
            return Err(StoreError::TextTooLong {
                path: part.to_string(),
                limit: crate::MAX_TEXT_BYTES,
            });
        }
        let now = self.now_sql();
        let mut tx = self.db.write().await?;
        sqlx::query(&format!(
            "INSERT INTO area_text (area_code, year, part, body, author, saved_at) VALUES ($1, $2, $3, $4, $5, {now}) \
             ON CONFLICT (area_code, year, part) DO UPDATE SET body = excluded.body, author = excluded.author, \
             saved_at = excluded.saved_at"
        ))
        .bind(area)
        .bind(i64::from(year))
        .bind(part)
        .bind(body)
        .bind(author)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The area report's texts for a year, by part.
    pub async fn area_texts(
        &self,
        area: &str,
        year: Year,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let rows =
            sqlx::query("SELECT part, body FROM area_text WHERE area_code = $1 AND year = $2")
                .bind(area)
                .bind(i64::from(year))
                .fetch_all(self.db.reader())
                .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// What an area's report of `year` is compiled from, read in one pass: the approved
    /// schools of the area's peer scope at `peers` (the area's city, say, which may reach
    /// beyond the area), each evaluated on `threads` worker threads as soon as it is read.
    /// Only the datasets of the area's own schools are kept; a peer outside the area is
    /// needed for its indicator values alone, so its dataset is dropped once evaluated.
    pub async fn approved_for_report(
        &self,
        tree: &AreaTree,
        area: &str,
        peers: PeerLevel,
        year: Year,
        definitions: &Definitions,
        threads: usize,
    ) -> Result<ApprovedSchools, StoreError> {
        let states = self.submissions(year).await?;
        let scope = peer_scope(tree, area, peers);
        let compared: BTreeMap<&str, &AreaSchool> = tree
            .schools_in(&scope)
            .into_iter()
            .filter(|s| states.get(&s.code).is_some_and(|x| x.state.approved()))
            .map(|s| (s.code.as_str(), s))
            .collect();
        let codes: BTreeSet<String> = compared.keys().map(|c| c.to_string()).collect();
        let mut evaluator = Evaluator::start(Arc::new(definitions.clone()), threads);
        let mut datasets = Vec::new();
        self.each_dataset(Some(&codes), definitions, |data| {
            let Some(school) = compared.get(data.school.code.as_str()) else {
                return;
            };
            if tree.contains_school(area, &school.code) {
                datasets.push(data.clone());
            }
            evaluator.evaluate((*school).clone(), data);
        })
        .await?;
        let results = evaluator.finish();
        Ok(ApprovedSchools { datasets, results })
    }

    /// Stores many datasets at once, as an import of synthetic or collected data: a school
    /// already in the store is saved as [`Store::save_dataset`] does; a new one is written
    /// with multi-row inserts and one change-log line for the whole dataset. Each batch of
    /// schools is one transaction. Returns the number of facts written.
    pub async fn save_datasets(
        &self,
        datasets: &[Dataset],
        actor: &str,
    ) -> Result<usize, StoreError> {
        const BATCH: usize = 200;
        const ROWS: usize = 150;
        let existing: BTreeSet<String> =
            self.schools().await?.into_iter().map(|s| s.code).collect();
        let mut written = 0;
        for batch in datasets.chunks(BATCH) {
            let mut tx = self.db.write().await?;
            for data in batch {
                if existing.contains(&data.school.code) {
                    continue;
                }
                let org_unit = crate::ensure_org_units(&mut tx, &data.school).await?;
                let profile = serde_json::to_string(&data.school)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let school_id: i64 = sqlx::query(
                    "INSERT INTO school (org_unit_id, code, name, profile) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(org_unit)
                .bind(&data.school.code)
                .bind(&data.school.name)
                .bind(&profile)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
                for (position, major) in data.majors.iter().enumerate() {
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
                let facts: Vec<(&FactKey, &f64)> = data.facts.iter().collect();
                for chunk in facts.chunks(ROWS) {
                    let mut sql = String::from(
                        "INSERT INTO fact (school_id, year, element, major, value) VALUES ",
                    );
                    for i in 0..chunk.len() {
                        let b = i * 5;
                        if i > 0 {
                            sql.push_str(", ");
                        }
                        sql.push_str(&format!(
                            "(${}, ${}, ${}, ${}, ${})",
                            b + 1,
                            b + 2,
                            b + 3,
                            b + 4,
                            b + 5
                        ));
                    }
                    let mut query = sqlx::query(&sql);
                    for (key, value) in chunk {
                        query = query
                            .bind(school_id)
                            .bind(i64::from(key.year))
                            .bind(key.element.as_str())
                            .bind(key.major.as_deref().unwrap_or(""))
                            .bind(**value);
                    }
                    query.execute(&mut *tx).await?;
                }
                for (key, text) in &data.notes {
                    sqlx::query("INSERT INTO note (school_id, year, element, major, text) VALUES ($1, $2, $3, $4, $5)")
                        .bind(school_id)
                        .bind(i64::from(key.year))
                        .bind(&key.element)
                        .bind(key.major.as_deref().unwrap_or(""))
                        .bind(text)
                        .execute(&mut *tx)
                        .await?;
                }
                let mut log = crate::ChangeLog {
                    actor,
                    now: self.now_sql(),
                    entries: Vec::new(),
                };
                log.push(
                    "dataset",
                    &data.school.code,
                    None,
                    Some(format!("批量导入 {} 项数据", data.facts.len())),
                );
                log.write(&mut tx, school_id).await?;
                written += data.facts.len();
            }
            tx.commit().await?;
        }
        for data in datasets
            .iter()
            .filter(|d| existing.contains(&d.school.code))
        {
            let summary = self.save_dataset(data, actor).await?;
            written += summary.added + summary.changed;
        }
        Ok(written)
    }
}

/// What an area's report is compiled from ([`Store::approved_for_report`]).
#[derive(Debug)]
pub struct ApprovedSchools {
    /// The datasets of the area's own approved schools, in code order.
    pub datasets: Vec<Dataset>,
    /// The evaluated results of the approved schools of the area's peer scope (the area's
    /// own among them), in code order.
    pub results: Vec<SchoolResult>,
}

/// Whether a finding is about `year`: its first location (the one its key names) is in
/// that year, or it names no year at all.
fn concerns(finding: &nianbao_core::Finding, year: Year) -> bool {
    finding
        .locations
        .first()
        .and_then(|l| l.year)
        .is_none_or(|y| y == year)
}

async fn submission_in(
    conn: &mut sqlx::AnyConnection,
    school: &str,
    year: Year,
) -> Result<SubmissionStatus, StoreError> {
    let row = sqlx::query(
        "SELECT state, actor, changed_at, submitted_at FROM submission WHERE school_code = $1 AND year = $2",
    )
    .bind(school)
    .bind(i64::from(year))
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok(SubmissionStatus {
            school: school.to_string(),
            year,
            state: SubmissionState::Draft,
            actor: String::new(),
            at: String::new(),
            submitted_at: None,
        }),
        Some(r) => status_of_row(&r, school.to_string(), year),
    }
}

/// A school's year as a row of `submission` holds it (state, actor, changed_at, submitted_at).
fn status_of_row(
    row: &sqlx::any::AnyRow,
    school: String,
    year: Year,
) -> Result<SubmissionStatus, StoreError> {
    let state: String = row.try_get("state")?;
    Ok(SubmissionStatus {
        school,
        year,
        state: state_of(&state)?,
        actor: row.try_get("actor")?,
        at: row.try_get("changed_at")?,
        submitted_at: row.try_get("submitted_at")?,
    })
}
