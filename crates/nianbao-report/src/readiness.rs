//! What stands between a draft and the final report: check errors not fixed, warnings not
//! accepted with an explanation, parts with nothing written or with data gaps, and parts
//! not yet approved (已定稿). A report can be made final only when the list is empty.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use nianbao_core::{Acceptance, Finding, Severity, WritingState};

use crate::content::Content;
use crate::model::{Document, Gap, GapKind};
use crate::parts::Part;

/// One reason the report is still a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// A check error: the data must be corrected.
    Error { section: String, message: String },
    /// A warning nobody has accepted with a written explanation.
    Warning { section: String, message: String },
    /// A part printing a gap: nothing written, or a binding without data.
    Gap(Gap),
    /// A part not yet approved by the reviewer.
    NotApproved { part: String, state: WritingState },
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::Error { section, message } => {
                write!(f, "核查错误（{section}）：{message}")
            }
            Blocker::Warning { section, message } => {
                write!(f, "警告未说明（{section}）：{message}")
            }
            Blocker::Gap(gap) => match gap.kind {
                GapKind::Empty => write!(f, "尚未撰写：{}", gap.part),
                GapKind::Data => write!(f, "缺少数据：{}，{}", gap.part, gap.message),
            },
            Blocker::NotApproved { part, state } => {
                write!(f, "尚未定稿：{part}（当前状态：{}）", state.label())
            }
        }
    }
}

impl Blocker {
    /// A short Chinese name of the kind, for grouping in lists.
    pub fn kind_label(&self) -> &'static str {
        match self {
            Blocker::Error { .. } => "核查错误",
            Blocker::Warning { .. } => "未说明的警告",
            Blocker::Gap(gap) if gap.kind == GapKind::Empty => "尚未撰写",
            Blocker::Gap(_) => "缺少数据",
            Blocker::NotApproved { .. } => "尚未定稿",
        }
    }
}

/// Whether a part has any text of its own in the content (a school's or a default one).
pub fn has_text(content: &Content, part: &Part) -> bool {
    content
        .get(&part.path)
        .and_then(|file| file.text().ok())
        .is_some_and(|text| !text.trim().is_empty())
}

/// A part's state: the stored one, or, when none was ever stored, 草稿 if the part has a
/// default text and 待写 if it has none.
pub fn effective_state(stored: Option<WritingState>, has_text: bool) -> WritingState {
    stored.unwrap_or(if has_text {
        WritingState::Draft
    } else {
        WritingState::Empty
    })
}

/// Everything that keeps the report from being final, in the order a person fixes it:
/// data first, then the text, then the approvals. Empty when the report can be final.
/// `sections_with_cases` names the sections that print at least one case.
pub fn blockers(
    parts: &[Part],
    states: &BTreeMap<String, WritingState>,
    content: &Content,
    sections_with_cases: &BTreeSet<String>,
    findings: &[Finding],
    acceptances: &[Acceptance],
    document: &Document,
) -> Vec<Blocker> {
    let accepted: BTreeSet<&str> = acceptances.iter().map(|a| a.key.as_str()).collect();
    let mut out = Vec::new();
    for finding in findings {
        let section = finding.section.clone();
        let message = finding.message.clone();
        match finding.severity {
            Severity::Error => out.push(Blocker::Error { section, message }),
            Severity::Warning if !accepted.contains(finding.key().as_str()) => {
                out.push(Blocker::Warning { section, message })
            }
            _ => {}
        }
    }
    out.extend(document.gaps.iter().cloned().map(Blocker::Gap));
    for part in parts {
        let written = has_text(content, part)
            || part
                .section
                .as_ref()
                .is_some_and(|s| sections_with_cases.contains(s));
        if !written && !part.required {
            continue;
        }
        let state = effective_state(states.get(&part.key).copied(), written);
        if state != WritingState::Approved {
            out.push(Blocker::NotApproved {
                part: part.title.clone(),
                state,
            });
        }
    }
    out
}
