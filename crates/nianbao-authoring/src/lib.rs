//! The report's writing workflow over the store, shared by the command line and the web
//! app: a school's content for a year (generic templates with the school's own texts and
//! pictures laid over them), checked saves of texts and typical cases with their photos,
//! content folders in and out, the review states of each part, what keeps a draft from
//! being final, and the final itself — a snapshot stored once and rendered again byte for
//! byte whenever it is asked for.

mod cases;
mod folder;

use std::collections::{BTreeMap, BTreeSet};

use nianbao_core::definitions::Sources;
use nianbao_core::{Dataset, Definitions, Finding, IndicatorResult, WritingState, Year};
use nianbao_report::outline::Outline;
use nianbao_report::parts::{Part, PartKind};
use nianbao_report::preview::{Problem, validate};
use nianbao_report::readiness::{Blocker, blockers, effective_state, has_text};
use nianbao_report::snapshot::{Snapshot, hash};
use nianbao_report::{Content, Document, FinalMark, Generated, ReportError, Status};
use nianbao_store::{PartMove, PartState, SnapshotEntry, Store, StoreError, TextSave};

pub use cases::{CaseEdit, CaseView, PhotoUpload};
pub use folder::Imported;

#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Report(#[from] ReportError),
    /// A text with problems that must be fixed before it can be saved.
    #[error("{file} 有 {} 处需要修改：\n{}", .problems.len(), list(.problems))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
    },
    /// The report cannot be final yet.
    #[error("报告还不能定稿，尚有 {} 项未完成：\n{}", .0.len(), list(.0))]
    NotReady(Vec<Blocker>),
    #[error("报告中没有「{0}」这一部分")]
    UnknownPart(String),
    #[error("{0}")]
    Refused(String),
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|item| format!("  - {item}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One part as the dashboard and the editor show it.
#[derive(Debug, Clone)]
pub struct PartView {
    pub part: Part,
    /// The state as it stands (the stored one, or 待写/草稿 when none was stored).
    pub state: WritingState,
    /// Who set the stored state, when, and why.
    pub stored: Option<PartState>,
    /// Whether the part has any text (the school's or a default one).
    pub has_text: bool,
    /// Whether the text is the school's own (saved in the store), not a default.
    pub own_text: bool,
    /// How many typical cases are filed under the part.
    pub cases: usize,
}

/// The report as it stands, with what keeps it from being final.
pub struct Draft {
    pub generated: Generated,
    pub blockers: Vec<Blocker>,
    pub parts: Vec<PartView>,
}

/// A final report just made.
pub struct Final {
    pub snapshot: SnapshotEntry,
    pub document: Document,
}

/// The workflow over one store and the built-in definitions.
pub struct Authoring<'a> {
    store: &'a Store,
    definitions: &'a Definitions,
}

impl<'a> Authoring<'a> {
    pub fn new(store: &'a Store, definitions: &'a Definitions) -> Authoring<'a> {
        Authoring { store, definitions }
    }

    pub fn store(&self) -> &Store {
        self.store
    }

    pub fn definitions(&self) -> &Definitions {
        self.definitions
    }

    /// The outline of the report (compiled in).
    pub fn outline(&self) -> Result<Outline, AuthoringError> {
        Ok(Outline::load(&Content::generic(), self.definitions)?)
    }

    /// Every part of the report, in print order.
    pub fn parts(&self) -> Result<Vec<Part>, AuthoringError> {
        Ok(nianbao_report::parts::parts(
            &self.outline()?,
            self.definitions,
        ))
    }

    /// One part by its key.
    pub fn part(&self, key: &str) -> Result<Part, AuthoringError> {
        self.parts()?
            .into_iter()
            .find(|p| p.key == key)
            .ok_or_else(|| AuthoringError::UnknownPart(key.to_string()))
    }

    /// The school's content for a year: the generic content with the school's texts and
    /// pictures from the store laid over it.
    pub async fn content(&self, code: &str, year: Year) -> Result<Content, AuthoringError> {
        let texts = self.store.report_texts(code, year).await?;
        let images = self.store.report_images(code, year).await?;
        let files = texts
            .into_iter()
            .map(|t| (t.path.clone(), t.path, t.body.into_bytes()))
            .chain(
                images
                    .into_iter()
                    .map(|i| (i.path.clone(), i.path, i.bytes)),
            );
        Ok(Content::with_school(files))
    }

    /// The school's texts for a year over the generic content, without the pictures: what
    /// lists of parts and their states need, at a fraction of the cost.
    pub async fn texts(&self, code: &str, year: Year) -> Result<Content, AuthoringError> {
        let texts = self.store.report_texts(code, year).await?;
        Ok(Content::with_school(
            texts
                .into_iter()
                .map(|t| (t.path.clone(), t.path, t.body.into_bytes())),
        ))
    }

    /// The state of every part, with its text and cases, in print order.
    pub async fn part_views(
        &self,
        code: &str,
        year: Year,
        content: &Content,
    ) -> Result<Vec<PartView>, AuthoringError> {
        let stored: BTreeMap<String, PartState> = self
            .store
            .part_states(code, year)
            .await?
            .into_iter()
            .map(|s| (s.part.clone(), s))
            .collect();
        let own: BTreeSet<String> = self
            .store
            .report_texts(code, year)
            .await?
            .into_iter()
            .map(|t| t.path)
            .collect();
        let case_counts = cases::count_by_section(content);
        Ok(self
            .parts()?
            .into_iter()
            .map(|part| {
                let cases = part
                    .section
                    .as_ref()
                    .and_then(|s| case_counts.get(s))
                    .copied()
                    .unwrap_or(0);
                let written = has_text(content, &part);
                let stored = stored.get(&part.key).cloned();
                PartView {
                    state: effective_state(stored.as_ref().map(|s| s.state), written || cases > 0),
                    own_text: own.contains(&part.path),
                    has_text: written,
                    stored,
                    cases,
                    part,
                }
            })
            .collect())
    }

    /// The report as it stands for a school and year (a draft), with what keeps it from
    /// being final. `overlay` lays a content folder over the stored content.
    pub async fn draft(
        &self,
        code: &str,
        year: Year,
        overlay: Option<Content>,
    ) -> Result<Draft, AuthoringError> {
        let data = self
            .store
            .load_dataset_with_registers(code, self.definitions)
            .await?;
        let findings = nianbao_core::run_checks(self.definitions, &data);
        let indicators = nianbao_core::evaluate_indicators(self.definitions, &data, year);
        self.draft_of(code, year, &data, findings, indicators, overlay)
            .await
    }

    /// As [`Authoring::draft`], from the school's dataset (registers laid in) with its
    /// findings and its indicators for `year` already computed, as a server keeps them.
    pub async fn draft_of(
        &self,
        code: &str,
        year: Year,
        data: &Dataset,
        findings: Vec<Finding>,
        indicators: Vec<IndicatorResult>,
        overlay: Option<Content>,
    ) -> Result<Draft, AuthoringError> {
        let acceptances = self.store.acceptances(code).await?;
        let mut content = self.content(code, year).await?;
        if let Some(overlay) = overlay {
            content.overlay(overlay);
        }
        let generated = nianbao_report::generate_with(
            self.definitions,
            data,
            year,
            findings,
            indicators,
            &acceptances,
            &content,
            Status::Draft,
        )?;
        let parts = self.part_views(code, year, &content).await?;
        let states: BTreeMap<String, WritingState> = parts
            .iter()
            .filter_map(|v| v.stored.as_ref().map(|s| (v.part.key.clone(), s.state)))
            .collect();
        let plain: Vec<Part> = parts.iter().map(|v| v.part.clone()).collect();
        let with_cases: BTreeSet<String> = cases::count_by_section(&content).into_keys().collect();
        let blockers = blockers(
            &plain,
            &states,
            &content,
            &with_cases,
            &generated.findings,
            &acceptances,
            &generated.document,
        );
        Ok(Draft {
            generated,
            blockers,
            parts,
        })
    }

    /// Makes the report final if nothing keeps it a draft: stores a snapshot of the data,
    /// the accepted warnings, the definitions and the content, and renders the final from
    /// that snapshot. `created_at` (RFC 3339, UTC) is the documents' creation time.
    pub async fn make_final(
        &self,
        code: &str,
        year: Year,
        actor: &str,
        created_at: &str,
    ) -> Result<Final, AuthoringError> {
        let draft = self.draft(code, year, None).await?;
        if !draft.blockers.is_empty() {
            return Err(AuthoringError::NotReady(draft.blockers));
        }
        let snapshot = Snapshot {
            year,
            created_at: created_at.to_string(),
            data: self
                .store
                .load_dataset_with_registers(code, self.definitions)
                .await?,
            acceptances: self.store.acceptances(code).await?,
            sources: Sources::builtin(),
            content: self.content(code, year).await?,
        };
        let payload = snapshot.pack()?;
        let digest = hash(&payload);
        let id = self
            .store
            .save_snapshot(code, year, &digest, &payload, actor)
            .await?;
        let (entry, document) = self.snapshot_document(id).await?;
        Ok(Final {
            snapshot: entry,
            document,
        })
    }

    /// A stored final, rendered again from its snapshot alone.
    pub async fn snapshot_document(
        &self,
        id: i64,
    ) -> Result<(SnapshotEntry, Document), AuthoringError> {
        let (entry, payload) = self.store.snapshot(id).await?;
        let document = render_snapshot(id, &payload)?;
        Ok((entry, document))
    }

    /// Checks a part's text and saves it as a new version, if its author started from the
    /// newest one. The part goes back to 草稿.
    pub async fn save_text(
        &self,
        code: &str,
        year: Year,
        part: &Part,
        base_version: i64,
        text: &str,
        actor: &str,
    ) -> Result<i64, AuthoringError> {
        let content = self.content(code, year).await?;
        let problems = validate(self.definitions, &content, &part.path, text);
        if !problems.is_empty() {
            return Err(AuthoringError::Invalid {
                file: part.title.clone(),
                problems,
            });
        }
        let parts = [part.key.as_str()];
        let save = TextSave {
            path: &part.path,
            parts: &parts,
            base_version,
            body: Some(text),
        };
        let versions = self.store.save_texts(code, year, &[save], actor).await?;
        Ok(versions.first().copied().unwrap_or(base_version + 1))
    }

    /// Moves a part along its review: 草稿 → 待审 (hand in), 待审 → 已定稿 (approve),
    /// 待审 → 草稿 (return, with a reason that is also kept as a comment).
    pub async fn move_part(
        &self,
        code: &str,
        year: Year,
        part: &Part,
        action: Action,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<(), AuthoringError> {
        let content = self.texts(code, year).await?;
        let views = self.part_views(code, year, &content).await?;
        let view = views
            .iter()
            .find(|v| v.part.key == part.key)
            .ok_or_else(|| AuthoringError::UnknownPart(part.key.clone()))?;
        let (from, to) = match action {
            Action::Submit => {
                if !view.has_text && view.cases == 0 {
                    return Err(AuthoringError::Refused(format!(
                        "「{}」还没有内容，不能提交审阅",
                        part.title
                    )));
                }
                (WritingState::Draft, WritingState::Review)
            }
            Action::Approve => (WritingState::Review, WritingState::Approved),
            Action::Return => (WritingState::Review, WritingState::Draft),
        };
        if view.state != from {
            return Err(AuthoringError::Refused(format!(
                "「{}」当前为「{}」，只有「{}」的部分可以{}",
                part.title,
                view.state.label(),
                from.label(),
                action.label()
            )));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if action == Action::Return && reason.is_none() {
            return Err(AuthoringError::Refused("退回修改需要写明理由".to_string()));
        }
        let change = PartMove {
            part: &part.key,
            from: view.stored.as_ref().map(|s| s.state),
            to,
            reason,
        };
        self.store.move_part(code, year, &change, actor).await?;
        if let (Action::Return, Some(reason)) = (action, reason) {
            self.store
                .add_comment(
                    code,
                    year,
                    &part.key,
                    None,
                    &format!("退回修改：{reason}"),
                    actor,
                )
                .await?;
        }
        Ok(())
    }

    /// Whether a part's kind of text may be written by departments (sections and front
    /// pages may be assigned; the back page stays with the quality office).
    pub fn assignable(part: &Part) -> bool {
        part.kind != PartKind::Back
    }
}

/// A step of a part's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    Approve,
    Return,
}

impl Action {
    pub fn label(self) -> &'static str {
        match self {
            Action::Submit => "提交审阅",
            Action::Approve => "定稿",
            Action::Return => "退回修改",
        }
    }

    pub fn parse(text: &str) -> Option<Action> {
        match text {
            "submit" => Some(Action::Submit),
            "approve" => Some(Action::Approve),
            "return" => Some(Action::Return),
            _ => None,
        }
    }
}

/// Renders a stored snapshot: the definitions, data and content all come from it.
pub fn render_snapshot(id: i64, payload: &[u8]) -> Result<Document, AuthoringError> {
    let snapshot = Snapshot::unpack(payload)?;
    let definitions = Definitions::load(&snapshot.sources)
        .map_err(|e| AuthoringError::Refused(format!("定稿快照中的定义文件无法读取：{e}")))?;
    let status = Status::Final(FinalMark {
        snapshot: id,
        hash: hash(payload),
        created_at: snapshot.created_at.clone(),
    });
    let generated = nianbao_report::generate(
        &definitions,
        &snapshot.data,
        snapshot.year,
        &snapshot.acceptances,
        &snapshot.content,
        status,
    )?;
    Ok(generated.document)
}
