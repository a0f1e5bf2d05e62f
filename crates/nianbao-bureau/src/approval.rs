//! Submission and approval of one school's year: the states (待提交 → 已提交 → 区县已审核 →
//! 市已接收, or 已退回), who may move a submission from one state to the next, what a
//! return must say, when a school may submit at all, when a district may be approved as a
//! whole, and what changed since the last approval.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use nianbao_core::{FactKey, Finding, Severity};
use serde::{Deserialize, Serialize};

/// The longest reason a return item may carry, in characters.
pub const MAX_REASON_CHARS: usize = 2000;
/// The most items one return may carry.
pub const MAX_RETURN_ITEMS: usize = 200;

/// Where a school's year stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionState {
    /// 待提交: the school is still entering its data.
    Draft,
    /// 已提交: waiting for the district.
    Submitted,
    /// 区县已审核: the district approved it.
    DistrictApproved,
    /// 市已接收: the city accepted the district's approval.
    CityReceived,
    /// 已退回: sent back to the school with reasons.
    Returned,
}

impl SubmissionState {
    pub const ALL: [SubmissionState; 5] = [
        SubmissionState::Draft,
        SubmissionState::Submitted,
        SubmissionState::DistrictApproved,
        SubmissionState::CityReceived,
        SubmissionState::Returned,
    ];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            SubmissionState::Draft => "draft",
            SubmissionState::Submitted => "submitted",
            SubmissionState::DistrictApproved => "district_approved",
            SubmissionState::CityReceived => "city_received",
            SubmissionState::Returned => "returned",
        }
    }

    pub fn from_code(code: &str) -> Option<SubmissionState> {
        SubmissionState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The Chinese name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            SubmissionState::Draft => "待提交",
            SubmissionState::Submitted => "已提交",
            SubmissionState::DistrictApproved => "区县已审核",
            SubmissionState::CityReceived => "市已接收",
            SubmissionState::Returned => "已退回",
        }
    }

    /// Whether the school's data for the year may not be changed: from submission until it
    /// is returned.
    pub fn locked(self) -> bool {
        matches!(
            self,
            SubmissionState::Submitted
                | SubmissionState::DistrictApproved
                | SubmissionState::CityReceived
        )
    }

    /// Whether the district has approved it (and perhaps the city received it).
    pub fn approved(self) -> bool {
        matches!(
            self,
            SubmissionState::DistrictApproved | SubmissionState::CityReceived
        )
    }

    /// Why a locked year refuses changes, in Chinese; `None` when it is open.
    pub fn lock_reason(self) -> Option<&'static str> {
        match self {
            SubmissionState::Submitted => Some(
                "本年度数据已提交，正在等待区县教育局审核，审核期间不能修改；如需修改，请联系区县教育局退回",
            ),
            SubmissionState::DistrictApproved => {
                Some("本年度数据已由区县教育局审核通过并锁定；如需修改，请联系区县教育局退回")
            }
            SubmissionState::CityReceived => {
                Some("本年度数据已由市教育局接收并锁定；如需修改，请联系市教育局退回")
            }
            SubmissionState::Draft | SubmissionState::Returned => None,
        }
    }
}

impl fmt::Display for SubmissionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who acts on a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorRole {
    /// The school's own quality office.
    School,
    /// 区县教育局.
    District,
    /// 市教育局.
    City,
    /// 省教育厅.
    Province,
}

impl ActorRole {
    pub fn label(self) -> &'static str {
        match self {
            ActorRole::School => "学校",
            ActorRole::District => "区县教育局",
            ActorRole::City => "市教育局",
            ActorRole::Province => "省教育厅",
        }
    }
}

/// One who acts: a role and the person's name, kept in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: ActorRole,
    pub name: String,
}

/// What an actor asks to do with a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// 提交: the school sends its year.
    Submit,
    /// 审核通过: the district approves.
    Approve,
    /// 退回: the district or city sends it back with reasons.
    Return,
    /// 接收: the city accepts the district's approval.
    Receive,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Submit,
        Action::Approve,
        Action::Return,
        Action::Receive,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Return => "return",
            Action::Receive => "receive",
        }
    }

    pub fn from_code(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::Submit => "提交",
            Action::Approve => "审核通过",
            Action::Return => "退回",
            Action::Receive => "接收",
        }
    }
}

/// Why an action was refused, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The state an action leads to, or why it may not be taken.
pub fn transition(
    state: SubmissionState,
    action: Action,
    role: ActorRole,
) -> Result<SubmissionState, Refusal> {
    use ActorRole as R;
    use SubmissionState as S;
    let who = role.label();
    let refuse = |why: String| Err(Refusal(why));
    match action {
        Action::Submit => match (role, state) {
            (R::School, S::Draft | S::Returned) => Ok(S::Submitted),
            (R::School, _) => refuse(format!("当前状态为「{}」，不能再次提交", state.label())),
            _ => refuse(format!("只有学校可以提交本校数据，{who}不能提交")),
        },
        Action::Approve => match (role, state) {
            (R::District, S::Submitted) => Ok(S::DistrictApproved),
            (R::District, _) => refuse(format!(
                "当前状态为「{}」，只有「已提交」的数据可以审核通过",
                state.label()
            )),
            _ => refuse(format!("审核通过由区县教育局进行，{who}不能审核")),
        },
        Action::Receive => match (role, state) {
            (R::City, S::DistrictApproved) => Ok(S::CityReceived),
            (R::City, _) => refuse(format!(
                "当前状态为「{}」，只有「区县已审核」的数据可以接收",
                state.label()
            )),
            _ => refuse(format!("接收由市教育局进行，{who}不能接收")),
        },
        Action::Return => match (role, state) {
            (R::District, S::Submitted | S::DistrictApproved) => Ok(S::Returned),
            (R::District, S::CityReceived) => {
                refuse("市教育局已接收，区县教育局不能再退回；请联系市教育局".to_string())
            }
            (R::City, S::DistrictApproved | S::CityReceived) => Ok(S::Returned),
            (R::Province, S::CityReceived) => Ok(S::Returned),
            (R::School, _) => refuse("学校不能退回本校数据".to_string()),
            _ => refuse(format!("当前状态为「{}」，{who}不能退回", state.label())),
        },
    }
}

/// What a returned item points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "target")]
pub enum ReturnTarget {
    /// A section of the report, e.g. "1.4".
    Section(String),
    /// One fact.
    Fact(FactKey),
}

/// One reason for a return: what to fix and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnItem {
    pub target: ReturnTarget,
    pub reason: String,
}

/// Checks the items of a return: at least one, each with a reason that is not blank.
pub fn validate_return(items: &[ReturnItem]) -> Result<(), Refusal> {
    if items.is_empty() {
        return Err(Refusal(
            "退回时必须至少写明一条退回意见（针对某一章节或某一数据项）".to_string(),
        ));
    }
    if items.len() > MAX_RETURN_ITEMS {
        return Err(Refusal(format!(
            "一次退回最多 {MAX_RETURN_ITEMS} 条意见，现有 {} 条",
            items.len()
        )));
    }
    for (i, item) in items.iter().enumerate() {
        let reason = item.reason.trim();
        if reason.is_empty() {
            return Err(Refusal(format!("第 {} 条退回意见没有写明原因", i + 1)));
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(Refusal(format!(
                "第 {} 条退回意见超过 {MAX_REASON_CHARS} 个字符",
                i + 1
            )));
        }
        if let ReturnTarget::Section(s) = &item.target
            && (s.trim().is_empty() || s.len() > 16)
        {
            return Err(Refusal(format!("第 {} 条退回意见的章节编号无效", i + 1)));
        }
    }
    Ok(())
}

/// Whether a school may submit: no error finding, and every warning accepted with an
/// explanation (`accepted` holds the [`Finding::key`]s of accepted warnings).
pub fn ready_to_submit(findings: &[Finding], accepted: &BTreeSet<String>) -> Result<(), Refusal> {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let open_warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning && !accepted.contains(&f.key()))
        .count();
    match (errors, open_warnings) {
        (0, 0) => Ok(()),
        (0, w) => Err(Refusal(format!(
            "还有 {w} 条警告未说明原因；每条警告都需写明说明后才能提交"
        ))),
        (e, 0) => Err(Refusal(format!("还有 {e} 条错误未改正，改正后才能提交"))),
        (e, w) => Err(Refusal(format!(
            "还有 {e} 条错误未改正、{w} 条警告未说明原因，处理后才能提交"
        ))),
    }
}

/// Whether a district (or city) may be approved as a whole: every school in it approved.
/// `schools` pairs each school's Chinese name with its state.
pub fn area_ready(schools: &[(String, SubmissionState)]) -> Result<(), Refusal> {
    if schools.is_empty() {
        return Err(Refusal("该区域没有学校，无需审核".to_string()));
    }
    let pending: Vec<&str> = schools
        .iter()
        .filter(|(_, s)| !s.approved())
        .map(|(name, _)| name.as_str())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = pending.iter().take(5).copied().collect();
    let more = if pending.len() > shown.len() {
        format!(" 等 {} 所", pending.len())
    } else {
        String::new()
    };
    Err(Refusal(format!(
        "区域内还有 {} 所学校未审核通过（{}{more}），全部学校审核通过后才能审核本区域",
        pending.len(),
        shown.join("、")
    )))
}

/// A fact that differs between the last approval and now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactChange {
    pub key: FactKey,
    /// The approved value; `None` if the fact did not exist then.
    pub approved: Option<f64>,
    /// The current value; `None` if the fact was removed.
    pub current: Option<f64>,
}

/// Every fact added, removed or changed since the approved snapshot, in key order.
pub fn changes_since(
    approved: &BTreeMap<FactKey, f64>,
    current: &BTreeMap<FactKey, f64>,
) -> Vec<FactChange> {
    let keys: BTreeSet<&FactKey> = approved.keys().chain(current.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let a = approved.get(key).copied();
            let c = current.get(key).copied();
            let same = match (a, c) {
                (Some(x), Some(y)) => x == y,
                (None, None) => true,
                _ => false,
            };
            (!same).then(|| FactChange {
                key: key.clone(),
                approved: a,
                current: c,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nianbao_core::{Location, Year};

    use ActorRole as R;
    use SubmissionState as S;

    #[test]
    fn the_normal_path_runs_from_draft_to_city() {
        let s = transition(S::Draft, Action::Submit, R::School).unwrap();
        assert_eq!(s, S::Submitted);
        assert!(s.locked());
        let s = transition(s, Action::Approve, R::District).unwrap();
        assert_eq!(s.label(), "区县已审核");
        let s = transition(s, Action::Receive, R::City).unwrap();
        assert_eq!(s, S::CityReceived);
        assert!(s.lock_reason().unwrap().contains("市教育局"));
    }

    #[test]
    fn a_return_unlocks_and_allows_a_new_submission() {
        let s = transition(S::Submitted, Action::Return, R::District).unwrap();
        assert_eq!(s, S::Returned);
        assert!(!s.locked());
        assert_eq!(s.lock_reason(), None);
        assert_eq!(
            transition(s, Action::Submit, R::School).unwrap(),
            S::Submitted
        );
    }

    #[test]
    fn illegal_steps_are_refused_with_a_reason() {
        let err = transition(S::Draft, Action::Approve, R::District).unwrap_err();
        assert!(err.0.contains("「待提交」"), "{err}");
        let err = transition(S::Submitted, Action::Approve, R::School).unwrap_err();
        assert!(err.0.contains("学校不能审核"), "{err}");
        let err = transition(S::Submitted, Action::Receive, R::City).unwrap_err();
        assert!(err.0.contains("区县已审核"), "{err}");
        let err = transition(S::CityReceived, Action::Return, R::District).unwrap_err();
        assert!(err.0.contains("市教育局已接收"), "{err}");
        assert!(transition(S::Submitted, Action::Submit, R::School).is_err());
        assert!(transition(S::Draft, Action::Return, R::City).is_err());
    }

    /// Every pair of state and action: a legal step leads somewhere else, and only the
    /// school can leave Draft/Returned, only bureaus can leave the locked states.
    #[test]
    fn every_step_is_either_legal_or_refused_with_text() {
        for state in SubmissionState::ALL {
            for action in Action::ALL {
                for role in [R::School, R::District, R::City, R::Province] {
                    match transition(state, action, role) {
                        Ok(next) => {
                            assert_ne!(next, state);
                            assert_eq!(role == R::School, !state.locked());
                        }
                        Err(refusal) => assert!(!refusal.0.is_empty()),
                    }
                }
            }
        }
    }

    fn finding(severity: Severity, rule: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            section: "1.4".into(),
            message: "m".into(),
            locations: vec![Location {
                year: Some(Year::new(2025).unwrap()),
                ..Location::default()
            }],
        }
    }

    #[test]
    fn submission_needs_no_errors_and_every_warning_explained() {
        let findings = vec![
            finding(Severity::Warning, "w1"),
            finding(Severity::Info, "i1"),
        ];
        let err = ready_to_submit(&findings, &BTreeSet::new()).unwrap_err();
        assert!(err.0.contains("1 条警告未说明"), "{err}");
        let accepted: BTreeSet<String> = ["w1:2025".to_string()].into();
        assert!(ready_to_submit(&findings, &accepted).is_ok());
        let mut with_error = findings.clone();
        with_error.push(finding(Severity::Error, "e1"));
        let err = ready_to_submit(&with_error, &accepted).unwrap_err();
        assert!(err.0.contains("1 条错误未改正"), "{err}");
    }

    #[test]
    fn returns_need_a_reason_on_every_item() {
        assert!(validate_return(&[]).is_err());
        let item = |reason: &str| ReturnItem {
            target: ReturnTarget::Section("1.4".into()),
            reason: reason.into(),
        };
        assert!(validate_return(&[item("双师型教师数与表1不一致")]).is_ok());
        let err = validate_return(&[item("ok"), item("  ")]).unwrap_err();
        assert!(err.0.contains("第 2 条"), "{err}");
    }

    #[test]
    fn a_district_waits_for_all_its_schools() {
        let schools = vec![
            ("甲校".to_string(), S::DistrictApproved),
            ("乙校".to_string(), S::Submitted),
            ("丙校".to_string(), S::CityReceived),
        ];
        let err = area_ready(&schools).unwrap_err();
        assert!(err.0.contains("1 所学校未审核通过（乙校）"), "{err}");
        assert!(area_ready(&schools[..1]).is_ok());
        assert!(area_ready(&[]).is_err());
    }

    #[test]
    fn changes_list_added_removed_and_changed_facts() {
        let y = Year::new(2025).unwrap();
        let approved: BTreeMap<FactKey, f64> = [
            (FactKey::school(y, "staff.total"), 639.0),
            (FactKey::school(y, "staff.external"), 263.0),
            (FactKey::school(y, "books"), 1.0),
        ]
        .into();
        let current: BTreeMap<FactKey, f64> = [
            (FactKey::school(y, "staff.total"), 640.0),
            (FactKey::school(y, "staff.external"), 263.0),
            (FactKey::school(y, "staff.general"), 219.0),
        ]
        .into();
        let changes = changes_since(&approved, &current);
        let summary: Vec<(&str, Option<f64>, Option<f64>)> = changes
            .iter()
            .map(|c| (c.key.element.as_str(), c.approved, c.current))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("books", Some(1.0), None),
                ("staff.general", None, Some(219.0)),
                ("staff.total", Some(639.0), Some(640.0)),
            ]
        );
    }
}
