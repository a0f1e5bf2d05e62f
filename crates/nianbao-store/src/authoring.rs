//! The report's written content, kept per school and year: every saved version of every
//! text (section narratives, front pages, typical cases, addressed by their content path
//! such as `sections/2.1.md`), the pictures they show, each part's review state
//! (待写 → 草稿 → 待审 → 已定稿), reviewers' comments, and the snapshots of finished reports.
//!
//! A text is saved as a new version only if the author started from the newest one
//! (compare-and-set on the version number), so a second writer is refused and told who
//! saved in between. Saving a text sends its part back to 草稿.

use nianbao_core::{WritingState, Year};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{ChangeLog, Store, StoreError, school_id};

/// One saved version of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextVersion {
    /// The content path, e.g. `sections/2.1.md`, `front/preface.md`, `cases/case-1.md`.
    pub path: String,
    /// 1 for the first save, then 2, 3 …
    pub version: i64,
    pub body: String,
    /// A deleted text (a removed case) is a version with no body.
    pub deleted: bool,
    pub author: String,
    pub saved_at: String,
}

/// A text save that would overwrite a version its author never saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextConflict {
    pub path: String,
    /// The version the author started from (0: none).
    pub expected: i64,
    /// The newest version in the store.
    pub found: i64,
    pub saved_by: String,
    pub saved_at: String,
}

impl std::fmt::Display for TextConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "这段文字已由 {} 于 {} 保存为第 {} 版（您打开时是第 {} 版）",
            self.saved_by, self.saved_at, self.found, self.expected
        )
    }
}

/// A picture of the report's content, already prepared for the documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    /// The content path, e.g. `images/case-1-1.jpg`.
    pub path: String,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// The review state of one part, with who set it, when, and why (a return's reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    pub part: String,
    pub state: WritingState,
    pub actor: String,
    pub changed_at: String,
    pub reason: Option<String>,
}

/// A reviewer's comment on a part, optionally on a quoted passage of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub part: String,
    pub quote: Option<String>,
    pub body: String,
    pub author: String,
    pub created_at: String,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
}

/// A stored snapshot of a finished report (without its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    pub id: i64,
    pub school: String,
    pub year: Year,
    /// SHA-256 of the payload, in hex.
    pub hash: String,
    pub created_at: String,
    pub actor: String,
}

/// What an import of a content folder changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContentSummary {
    pub texts: usize,
    pub images: usize,
    pub unchanged: usize,
}

/// The most a text may hold, in bytes: far beyond any section of a report.
pub const MAX_TEXT_BYTES: usize = 512 * 1024;

fn year_value(year: Year) -> i64 {
    i64::from(year)
}

fn version_of(row: &AnyRow) -> Result<TextVersion, StoreError> {
    Ok(TextVersion {
        path: row.try_get("path")?,
        version: row.try_get("version")?,
        body: row.try_get("body")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
        author: row.try_get("author")?,
        saved_at: row.try_get("saved_at")?,
    })
}

fn state_of(row: &AnyRow) -> Result<PartState, StoreError> {
    let code: String = row.try_get("state")?;
    Ok(PartState {
        part: row.try_get("part")?,
        state: code
            .parse()
            .map_err(|e: nianbao_core::writing::UnknownState| StoreError::Corrupt(e.to_string()))?,
        actor: row.try_get("actor")?,
        changed_at: row.try_get("changed_at")?,
        reason: row.try_get("reason")?,
    })
}

fn comment_of(row: &AnyRow) -> Result<Comment, StoreError> {
    Ok(Comment {
        id: row.try_get("id")?,
        part: row.try_get("part")?,
        quote: row.try_get("quote")?,
        body: row.try_get("body")?,
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolved_at: row.try_get("resolved_at")?,
    })
}

fn image_of(row: &AnyRow) -> Result<StoredImage, StoreError> {
    let size = |name: &str| -> Result<u32, StoreError> {
        let value: i64 = row.try_get(name)?;
        u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("图片尺寸 {value}")))
    };
    Ok(StoredImage {
        path: row.try_get("path")?,
        bytes: row.try_get("bytes")?,
        width: size("width")?,
        height: size("height")?,
        uploaded_by: row.try_get("uploaded_by")?,
        uploaded_at: row.try_get("uploaded_at")?,
    })
}

/// A move of a part's review state, with the reason for it (a return's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartMove<'a> {
    pub part: &'a str,
    /// The state the store must hold for the move to happen; `None` when none was stored
    /// yet (the part still stands where its content puts it: 待写 or 草稿).
    pub from: Option<WritingState>,
    pub to: WritingState,
    pub reason: Option<&'a str>,
}

/// A text to save: its path, the version its author started from and the new body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSave<'a> {
    pub path: &'a str,
    /// The parts whose review state the save resets to 草稿: the text's own part, or a
    /// case's section (both sections when a case moves).
    pub parts: &'a [&'a str],
    /// The newest version the author saw (0: the text did not exist).
    pub base_version: i64,
    /// `None` deletes the text.
    pub body: Option<&'a str>,
}

impl Store {
    /// The newest version of every text of a school's report for one year, deleted texts
    /// left out, by path.
    pub async fn report_texts(
        &self,
        code: &str,
        year: Year,
    ) -> Result<Vec<TextVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.path, t.version, t.body, t.deleted, t.author, t.saved_at FROM report_text t \
             JOIN school s ON s.id = t.school_id \
             WHERE s.code = $1 AND t.year = $2 AND t.version = \
               (SELECT MAX(u.version) FROM report_text u WHERE u.school_id = t.school_id AND u.year = t.year AND u.path = t.path) \
             ORDER BY t.path",
        )
        .bind(code)
        .bind(year_value(year))
        .fetch_all(self.db.reader())
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let version = version_of(row)?;
            if !version.deleted {
                out.push(version);
            }
        }
        Ok(out)
    }

    /// Every path a text was ever saved at, deleted ones included.
    pub async fn report_text_paths(
        &self,
        code: &str,
        year: Year,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT t.path FROM report_text t JOIN school s ON s.id = t.school_id \
             WHERE s.code = $1 AND t.year = $2 ORDER BY t.path",
        )
        .bind(code)
        .bind(year_value(year))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("path")?)).collect()
    }

    /// The newest version of one text (possibly a deletion), if it was ever saved.
    pub async fn report_text(
        &self,
        code: &str,
        year: Year,
        path: &str,
    ) -> Result<Option<TextVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT t.path, t.version, t.body, t.deleted, t.author, t.saved_at FROM report_text t \
             JOIN school s ON s.id = t.school_id \
             WHERE s.code = $1 AND t.year = $2 AND t.path = $3 ORDER BY t.version DESC LIMIT 1",
        )
        .bind(code)
        .bind(year_value(year))
        .bind(path)
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(version_of).transpose()
    }

    /// Every saved version of one text, newest first.
    pub async fn text_history(
        &self,
        code: &str,
        year: Year,
        path: &str,
    ) -> Result<Vec<TextVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.path, t.version, t.body, t.deleted, t.author, t.saved_at FROM report_text t \
             JOIN school s ON s.id = t.school_id \
             WHERE s.code = $1 AND t.year = $2 AND t.path = $3 ORDER BY t.version DESC",
        )
        .bind(code)
        .bind(year_value(year))
        .bind(path)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(version_of).collect()
    }

    /// Saves new versions of texts in one transaction, all or none. Each save names the
    /// version its author started from; if a newer one was saved meanwhile, nothing is
    /// written and the conflict says who saved it and when. Each part touched goes back
    /// to 草稿. Returns the new version numbers in order.
    pub async fn save_texts(
        &self,
        code: &str,
        year: Year,
        saves: &[TextSave<'_>],
        actor: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        Store::ensure_open(&mut tx, code, &[year].into()).await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        let versions = self
            .write_texts(&mut tx, school, year, saves, &mut log)
            .await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(versions)
    }

    async fn write_texts(
        &self,
        tx: &mut sqlx::AnyConnection,
        school: i64,
        year: Year,
        saves: &[TextSave<'_>],
        log: &mut ChangeLog<'_>,
    ) -> Result<Vec<i64>, StoreError> {
        let actor = log.actor;
        let mut versions = Vec::new();
        let mut parts: Vec<&str> = Vec::new();
        for save in saves {
            if save.body.is_some_and(|b| b.len() > MAX_TEXT_BYTES) {
                return Err(StoreError::TextTooLong {
                    path: save.path.to_string(),
                    limit: MAX_TEXT_BYTES,
                });
            }
            let newest = sqlx::query(
                "SELECT version, author, saved_at, body, deleted FROM report_text \
                 WHERE school_id = $1 AND year = $2 AND path = $3 ORDER BY version DESC LIMIT 1",
            )
            .bind(school)
            .bind(year_value(year))
            .bind(save.path)
            .fetch_optional(&mut *tx)
            .await?;
            let (found, old_body) = match &newest {
                Some(row) => {
                    let deleted: i64 = row.try_get("deleted")?;
                    let body: String = row.try_get("body")?;
                    (
                        row.try_get::<i64, _>("version")?,
                        (deleted == 0).then_some(body),
                    )
                }
                None => (0, None),
            };
            if found != save.base_version {
                let (saved_by, saved_at) = match &newest {
                    Some(row) => (row.try_get("author")?, row.try_get("saved_at")?),
                    None => (String::new(), String::new()),
                };
                return Err(StoreError::TextConflict(Box::new(TextConflict {
                    path: save.path.to_string(),
                    expected: save.base_version,
                    found,
                    saved_by,
                    saved_at,
                })));
            }
            let version = found + 1;
            let sql = format!(
                "INSERT INTO report_text (school_id, year, path, version, body, deleted, author, saved_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, {})",
                self.now_sql()
            );
            // The primary key refuses a second insert of the same version by a writer
            // that read the same newest version at the same moment.
            sqlx::query(&sql)
                .bind(school)
                .bind(year_value(year))
                .bind(save.path)
                .bind(version)
                .bind(save.body.unwrap_or(""))
                .bind(i64::from(save.body.is_none()))
                .bind(actor)
                .execute(&mut *tx)
                .await?;
            log.push("text", save.path, old_body, save.body.map(str::to_string));
            versions.push(version);
            for part in save.parts {
                if !part.is_empty() && !parts.contains(part) {
                    parts.push(part);
                }
            }
        }
        for part in parts {
            let change = PartMove {
                part,
                from: None,
                to: WritingState::Draft,
                reason: None,
            };
            self.put_state(tx, school, year, &change, actor).await?;
        }
        Ok(versions)
    }

    async fn put_state(
        &self,
        tx: &mut sqlx::AnyConnection,
        school: i64,
        year: Year,
        change: &PartMove<'_>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let PartMove {
            part,
            to: state,
            reason,
            ..
        } = *change;
        sqlx::query("DELETE FROM report_part WHERE school_id = $1 AND year = $2 AND part = $3")
            .bind(school)
            .bind(year_value(year))
            .bind(part)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO report_part (school_id, year, part, state, actor, changed_at, reason) \
             VALUES ($1, $2, $3, $4, $5, {}, $6)",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(school)
            .bind(year_value(year))
            .bind(part)
            .bind(state.code())
            .bind(actor)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// The review state of every part that has one, by part.
    pub async fn part_states(&self, code: &str, year: Year) -> Result<Vec<PartState>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.part, p.state, p.actor, p.changed_at, p.reason FROM report_part p \
             JOIN school s ON s.id = p.school_id WHERE s.code = $1 AND p.year = $2 ORDER BY p.part",
        )
        .bind(code)
        .bind(year_value(year))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(state_of).collect()
    }

    /// Moves a part from one state to another (compare-and-set: if someone moved it
    /// meanwhile, nothing changes and the error names the state found), logging the move.
    pub async fn move_part(
        &self,
        code: &str,
        year: Year,
        change: &PartMove<'_>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let PartMove {
            part,
            from,
            to,
            reason,
        } = *change;
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let current: Option<String> = sqlx::query(
            "SELECT state FROM report_part WHERE school_id = $1 AND year = $2 AND part = $3",
        )
        .bind(school)
        .bind(year_value(year))
        .bind(part)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        let current: Option<WritingState> = current
            .map(|code| code.parse())
            .transpose()
            .map_err(|e: nianbao_core::writing::UnknownState| StoreError::Corrupt(e.to_string()))?;
        let label = |state: Option<WritingState>| state.map_or("未处理", WritingState::label);
        if current != from {
            return Err(StoreError::StateChanged {
                expected: label(from),
                found: label(current),
            });
        }
        self.put_state(&mut tx, school, year, change, actor).await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        let new_value = match reason {
            Some(reason) => format!("{}：{reason}", to.label()),
            None => to.label().to_string(),
        };
        log.push(
            "part_state",
            part,
            Some(label(from).to_string()),
            Some(new_value),
        );
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Saves texts, stores pictures and removes pictures in one transaction, all or none:
    /// a case and its photos change together. Texts follow the rules of
    /// [`Store::save_texts`]. Returns the new text versions in order.
    pub async fn save_content(
        &self,
        code: &str,
        year: Year,
        saves: &[TextSave<'_>],
        images: &[StoredImage],
        removed_images: &[&str],
        actor: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        Store::ensure_open(&mut tx, code, &[year].into()).await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        for image in images {
            self.put_image(&mut tx, school, year, image, actor).await?;
            log.push(
                "image",
                &image.path,
                None,
                Some(format!("{}×{}", image.width, image.height)),
            );
        }
        for path in removed_images {
            let removed = sqlx::query(
                "DELETE FROM report_image WHERE school_id = $1 AND year = $2 AND path = $3",
            )
            .bind(school)
            .bind(year_value(year))
            .bind(*path)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if removed > 0 {
                log.push("image", path, Some((*path).to_string()), None);
            }
        }
        let versions = self
            .write_texts(&mut tx, school, year, saves, &mut log)
            .await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(versions)
    }

    async fn put_image(
        &self,
        tx: &mut sqlx::AnyConnection,
        school: i64,
        year: Year,
        image: &StoredImage,
        actor: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM report_image WHERE school_id = $1 AND year = $2 AND path = $3")
            .bind(school)
            .bind(year_value(year))
            .bind(&image.path)
            .execute(&mut *tx)
            .await?;
        let sql = format!(
            "INSERT INTO report_image (school_id, year, path, bytes, width, height, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {})",
            self.now_sql()
        );
        sqlx::query(&sql)
            .bind(school)
            .bind(year_value(year))
            .bind(&image.path)
            .bind(image.bytes.as_slice())
            .bind(i64::from(image.width))
            .bind(i64::from(image.height))
            .bind(actor)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Every picture of a school's report for one year, by path.
    pub async fn report_images(
        &self,
        code: &str,
        year: Year,
    ) -> Result<Vec<StoredImage>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.path, i.bytes, i.width, i.height, i.uploaded_by, i.uploaded_at FROM report_image i \
             JOIN school s ON s.id = i.school_id WHERE s.code = $1 AND i.year = $2 ORDER BY i.path",
        )
        .bind(code)
        .bind(year_value(year))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(image_of).collect()
    }

    /// One picture, if it exists.
    pub async fn report_image(
        &self,
        code: &str,
        year: Year,
        path: &str,
    ) -> Result<Option<StoredImage>, StoreError> {
        let row = sqlx::query(
            "SELECT i.path, i.bytes, i.width, i.height, i.uploaded_by, i.uploaded_at FROM report_image i \
             JOIN school s ON s.id = i.school_id WHERE s.code = $1 AND i.year = $2 AND i.path = $3",
        )
        .bind(code)
        .bind(year_value(year))
        .bind(path)
        .fetch_optional(self.db.reader())
        .await?;
        row.as_ref().map(image_of).transpose()
    }

    /// Imports a content folder's texts and pictures in one transaction: a text that
    /// differs from the newest stored version becomes a new version, an identical one is
    /// left alone; pictures replace those at the same path. `part_of` names the part each
    /// text belongs to, which goes back to 草稿 when its text changes.
    pub async fn import_content(
        &self,
        code: &str,
        year: Year,
        texts: &[(String, String)],
        images: &[StoredImage],
        part_of: &dyn Fn(&str) -> String,
        actor: &str,
    ) -> Result<ContentSummary, StoreError> {
        let mut summary = ContentSummary::default();
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        Store::ensure_open(&mut tx, code, &[year].into()).await?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        let mut saves: Vec<(&str, i64, &str, [&str; 1])> = Vec::new();
        let owned_parts: Vec<(String, String)> = texts
            .iter()
            .map(|(path, _)| (path.clone(), part_of(path)))
            .collect();
        let part_for = |path: &str| -> &str {
            owned_parts
                .iter()
                .find(|(p, _)| p == path)
                .map_or("", |(_, part)| part.as_str())
        };
        for (path, body) in texts {
            let newest = sqlx::query(
                "SELECT version, body, deleted FROM report_text \
                 WHERE school_id = $1 AND year = $2 AND path = $3 ORDER BY version DESC LIMIT 1",
            )
            .bind(school)
            .bind(year_value(year))
            .bind(path)
            .fetch_optional(&mut *tx)
            .await?;
            match newest {
                Some(row) => {
                    let deleted: i64 = row.try_get("deleted")?;
                    let old: String = row.try_get("body")?;
                    if deleted == 0 && old == *body {
                        summary.unchanged += 1;
                    } else {
                        saves.push((path, row.try_get("version")?, body, [part_for(path)]));
                    }
                }
                None => saves.push((path, 0, body, [part_for(path)])),
            }
        }
        for image in images {
            let old: Option<Vec<u8>> = sqlx::query(
                "SELECT bytes FROM report_image WHERE school_id = $1 AND year = $2 AND path = $3",
            )
            .bind(school)
            .bind(year_value(year))
            .bind(&image.path)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
            if old.as_deref() == Some(image.bytes.as_slice()) {
                summary.unchanged += 1;
                continue;
            }
            self.put_image(&mut tx, school, year, image, actor).await?;
            log.push(
                "image",
                &image.path,
                None,
                Some(format!("{}×{}", image.width, image.height)),
            );
            summary.images += 1;
        }
        let requests: Vec<TextSave<'_>> = saves
            .iter()
            .map(|(path, base, body, parts)| TextSave {
                path,
                parts: parts.as_slice(),
                base_version: *base,
                body: Some(body),
            })
            .collect();
        summary.texts = requests.len();
        self.write_texts(&mut tx, school, year, &requests, &mut log)
            .await?;
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Adds a comment to a part; returns its id.
    pub async fn add_comment(
        &self,
        code: &str,
        year: Year,
        part: &str,
        quote: Option<&str>,
        body: &str,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(StoreError::EmptyComment);
        }
        let quote = quote.map(str::trim).filter(|q| !q.is_empty());
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let sql = format!(
            "INSERT INTO report_comment (school_id, year, part, quote, body, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, {}) RETURNING id",
            self.now_sql()
        );
        let id: i64 = sqlx::query(&sql)
            .bind(school)
            .bind(year_value(year))
            .bind(part)
            .bind(quote)
            .bind(body)
            .bind(actor)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        crate::bump_revision(&mut tx, school).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every comment of a school's report for one year, oldest first.
    pub async fn comments(&self, code: &str, year: Year) -> Result<Vec<Comment>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.part, c.quote, c.body, c.author, c.created_at, c.resolved_by, c.resolved_at \
             FROM report_comment c JOIN school s ON s.id = c.school_id \
             WHERE s.code = $1 AND c.year = $2 ORDER BY c.id",
        )
        .bind(code)
        .bind(year_value(year))
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(comment_of).collect()
    }

    /// One comment of a school.
    pub async fn comment(&self, code: &str, id: i64) -> Result<Comment, StoreError> {
        let row = sqlx::query(
            "SELECT c.id, c.part, c.quote, c.body, c.author, c.created_at, c.resolved_by, c.resolved_at \
             FROM report_comment c JOIN school s ON s.id = c.school_id WHERE s.code = $1 AND c.id = $2",
        )
        .bind(code)
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(StoreError::UnknownComment(id))?;
        comment_of(&row)
    }

    /// Marks a comment resolved (resolving it twice keeps the first resolution).
    pub async fn resolve_comment(
        &self,
        code: &str,
        id: i64,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.comment(code, id).await?;
        let sql = format!(
            "UPDATE report_comment SET resolved_by = $1, resolved_at = {} WHERE id = $2 AND resolved_by IS NULL",
            self.now_sql()
        );
        let mut tx = self.db.write().await?;
        sqlx::query(&sql)
            .bind(actor)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let school = school_id(&mut tx, code).await?;
        crate::bump_revision(&mut tx, school).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a finished report's snapshot; returns its id.
    pub async fn save_snapshot(
        &self,
        code: &str,
        year: Year,
        hash: &str,
        payload: &[u8],
        actor: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.db.write().await?;
        let school = school_id(&mut tx, code).await?;
        let sql = format!(
            "INSERT INTO report_snapshot (school_id, year, hash, created_at, actor, payload) \
             VALUES ($1, $2, $3, {}, $4, $5) RETURNING id",
            self.now_sql()
        );
        let id: i64 = sqlx::query(&sql)
            .bind(school)
            .bind(year_value(year))
            .bind(hash)
            .bind(actor)
            .bind(payload)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let mut log = ChangeLog {
            actor,
            now: self.now_sql(),
            entries: Vec::new(),
        };
        log.push(
            "snapshot",
            &id.to_string(),
            None,
            Some(format!("{year} 年度定稿，SHA-256 {hash}")),
        );
        log.write(&mut tx, school).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A snapshot and its payload.
    pub async fn snapshot(&self, id: i64) -> Result<(SnapshotEntry, Vec<u8>), StoreError> {
        let row = sqlx::query(
            "SELECT r.id, s.code, r.year, r.hash, r.created_at, r.actor, r.payload \
             FROM report_snapshot r JOIN school s ON s.id = r.school_id WHERE r.id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.reader())
        .await?
        .ok_or(StoreError::UnknownSnapshot(id))?;
        let entry = snapshot_entry(&row)?;
        Ok((entry, row.try_get("payload")?))
    }

    /// The snapshots of one school, newest first.
    pub async fn snapshots(&self, code: &str) -> Result<Vec<SnapshotEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, s.code, r.year, r.hash, r.created_at, r.actor \
             FROM report_snapshot r JOIN school s ON s.id = r.school_id WHERE s.code = $1 ORDER BY r.id DESC",
        )
        .bind(code)
        .fetch_all(self.db.reader())
        .await?;
        rows.iter().map(snapshot_entry).collect()
    }
}

fn snapshot_entry(row: &AnyRow) -> Result<SnapshotEntry, StoreError> {
    let year: i64 = row.try_get("year")?;
    Ok(SnapshotEntry {
        id: row.try_get("id")?,
        school: row.try_get("code")?,
        year: Year::new(year).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        hash: row.try_get("hash")?,
        created_at: row.try_get("created_at")?,
        actor: row.try_get("actor")?,
    })
}
