//! The education bureau's pages: an area's schools with their submission state (who, when,
//! late), a school's submission with approve / return (a reason per item) and what changed
//! since the last approval, the comparison of the area's schools (sortable, as Excel), and
//! the area's compiled report with the bureau's own texts.
//!
//! An area's comparison is built from each school's result kept at the school's revision
//! ([`ComparisonCache`]): after a save only that school is evaluated again. Its page shows
//! one page of schools at a time, sorted over all of them.
//!
//! Who sees what: a bureau user (a reviewer bound to an area) sees the schools of its area
//! only; a school's own users see their school's submission; a reviewer bound to nothing (a
//! commission's reader) reads every area but acts on none.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use nianbao_bureau::areas::{AreaTree, format_date};
use nianbao_bureau::compare::{Comparison, Evaluator, SchoolResult, sort_by_indicator};
use nianbao_bureau::peers::PeerLevel;
use nianbao_bureau::{
    Action, Actor, ActorRole, AreaSchool, ReturnItem, ReturnTarget, SubmissionState,
};
use nianbao_core::{Dataset, FactKey, Role, Year, clock};
use nianbao_report::area_report::{AreaReportInput, TEXT_PARTS, compile};
use serde::Deserialize;
use serde_json::{Value, json};

use super::frame;
use crate::auth::Session;
use crate::{AppState, WebError};

/// Whom a signed-in user speaks for in the bureau's pages.
#[derive(Debug, Clone)]
pub(crate) enum Standing {
    /// A school's own user.
    School(String),
    /// A bureau bound to an area.
    Bureau(String),
    /// A commission's reader: reads every area, acts on none.
    Reader,
    /// No business here (an administrator).
    None,
}

pub(crate) async fn standing(state: &AppState, session: &Session) -> Result<Standing, WebError> {
    let user = &session.user;
    if let Some(code) = &user.school_code {
        return Ok(if user.role == Role::Admin || user.role.points_only() {
            Standing::None
        } else {
            Standing::School(code.clone())
        });
    }
    if user.role != Role::Reviewer {
        return Ok(Standing::None);
    }
    Ok(match state.store().user_area(user.id).await? {
        Some(area) => Standing::Bureau(area),
        None => Standing::Reader,
    })
}

/// Whether the user may look at an area's pages.
pub(crate) fn can_see_area(standing: &Standing, tree: &AreaTree, area: &str) -> bool {
    match standing {
        Standing::Bureau(own) => tree.ancestors(area).iter().any(|a| a.code == *own),
        Standing::Reader => tree.area(area).is_some(),
        Standing::School(_) | Standing::None => false,
    }
}

/// Whether the user may look at a school's submission.
pub(crate) fn can_see_school(standing: &Standing, tree: &AreaTree, school: &str) -> bool {
    match standing {
        Standing::School(own) => own == school,
        Standing::Bureau(area) => tree.contains_school(area, school),
        Standing::Reader => true,
        Standing::None => false,
    }
}

/// The role the user acts in on a school's submission, if any.
fn actor_role(
    session: &Session,
    standing: &Standing,
    tree: &AreaTree,
    school: &str,
) -> Option<ActorRole> {
    match standing {
        Standing::School(own) if own == school && session.user.role == Role::Quality => {
            Some(ActorRole::School)
        }
        Standing::Bureau(area) if tree.contains_school(area, school) => tree
            .area(area)
            .map(|a| nianbao_store::role_of_level(a.level)),
        _ => None,
    }
}

/// The year a page is about: the one asked for, else the year before the current one in
/// Beijing (a report covers the year that has just ended).
fn year_of(asked: Option<i64>) -> Result<Year, WebError> {
    let year = asked.unwrap_or_else(|| {
        i64::from(
            time::OffsetDateTime::now_utc()
                .to_offset(clock::beijing())
                .year(),
        ) - 1
    });
    Year::new(year).map_err(|e| WebError::BadRequest(e.to_string()))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(clock::beijing())
        .date()
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i64>,
    done: Option<String>,
    /// Why the action just taken was refused, shown as an error.
    refused: Option<String>,
    sort: Option<String>,
    desc: Option<String>,
    page: Option<usize>,
    /// The level of the area peers are taken from (`district`, `city`, `province`).
    peers: Option<String>,
}

/// The peer level a request asks for; the default when it asks for none.
fn peers_of(query: &YearQuery) -> Result<PeerLevel, WebError> {
    peer_level(query.peers.as_deref())
}

/// The peer level named by `code` (an address's or a form's `peers`); the default when
/// none is named.
fn peer_level(code: Option<&str>) -> Result<PeerLevel, WebError> {
    match code {
        None | Some("") => Ok(PeerLevel::default()),
        Some(code) => PeerLevel::parse(code).ok_or_else(|| {
            WebError::BadRequest(format!(
                "「{code}」不是区域级别：应为 district（区县）、city（市）或 province（省）"
            ))
        }),
    }
}

/// Schools shown on one page of the comparison.
pub const COMPARE_PAGE: usize = 100;

/// The most comparisons kept at once.
const CACHED_COMPARISONS: usize = 16;

/// What a kept comparison was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Basis {
    /// A hash of the compared schools' (code, revision).
    revisions: u64,
    /// A hash of the area's schools (code, name, district, type), which decide who is
    /// compared and how they are named.
    schools: u64,
}

/// A kept comparison: its (area, year), what it was computed from, and itself.
type Kept = ((String, Year, PeerLevel), Basis, Arc<Comparison>);

/// Areas' comparisons and the results of each school they were built from.
///
/// A school's result is kept with the revision of the school it was computed at
/// ([`nianbao_store::Store::revision`], raised with every write to the school's data, its
/// registers or its points ledger, by any process). A request reads every school's
/// revision in one query, evaluates again only the schools whose revision changed (one
/// school after one save, not the whole area), and builds the comparison from the kept
/// results; an area's built comparison is kept while its schools and their revisions stay
/// the same.
#[derive(Default)]
pub struct ComparisonCache {
    schools: Mutex<HashMap<String, (i64, Arc<SchoolResult>)>>,
    comparisons: Mutex<Vec<Kept>>,
    /// How many schools were evaluated for comparisons.
    evaluated: AtomicU64,
}

impl ComparisonCache {
    fn get(&self, key: &(String, Year, PeerLevel), basis: &Basis) -> Option<Arc<Comparison>> {
        let entries = self.comparisons.lock().ok()?;
        entries
            .iter()
            .find(|(k, b, _)| k == key && b == basis)
            .map(|(_, _, c)| c.clone())
    }

    fn put(&self, key: (String, Year, PeerLevel), basis: Basis, comparison: Arc<Comparison>) {
        if let Ok(mut entries) = self.comparisons.lock() {
            entries.retain(|(k, _, _)| *k != key);
            if entries.len() >= CACHED_COMPARISONS {
                entries.remove(0);
            }
            entries.push((key, basis, comparison));
        }
    }

    /// How many schools were evaluated for comparisons since the app started.
    pub fn evaluated(&self) -> u64 {
        self.evaluated.load(Ordering::Relaxed)
    }
}

/// The items of a return from the form's rows, in order: a row with neither a target nor a
/// reason is left out; a reason without a target, or no row at all, is refused. A target
/// without a reason goes on to the store, which refuses it with the reason required.
fn return_items(
    year: Year,
    targets: &[&str],
    reasons: &[&str],
) -> Result<Vec<ReturnItem>, WebError> {
    let mut items = Vec::new();
    for row in 0..targets.len().max(reasons.len()) {
        let target = targets.get(row).copied().unwrap_or("").trim();
        let reason = reasons.get(row).copied().unwrap_or("");
        if target.is_empty() && reason.trim().is_empty() {
            continue;
        }
        let target = match target.split_once(':') {
            Some(("fact", element)) => ReturnTarget::Fact(FactKey::school(year, element)),
            Some(("section", number)) => ReturnTarget::Section(number.to_string()),
            _ => {
                return Err(WebError::BadRequest(format!(
                    "第 {} 条退回意见没有选择针对的章节或数据项",
                    row + 1
                )));
            }
        };
        items.push(ReturnItem {
            target,
            reason: reason.to_string(),
        });
    }
    if items.is_empty() {
        return Err(WebError::BadRequest(
            "请至少填写一条退回意见：选择章节或数据项并写明原因".into(),
        ));
    }
    Ok(items)
}

/// The comparison of an area's schools for a year, built from kept per-school results:
/// only the schools whose revision changed since their result was kept are read and
/// evaluated again.
async fn cached_comparison(
    state: &AppState,
    tree: &AreaTree,
    area: &str,
    year: Year,
    peers: PeerLevel,
) -> Result<Arc<Comparison>, WebError> {
    let revisions = state.store().revisions().await?;
    // The area's schools that have data, in code order (as the store reads them).
    let compared: BTreeMap<&str, &AreaSchool> = tree
        .schools_in(area)
        .into_iter()
        .filter(|s| revisions.contains_key(&s.code))
        .map(|s| (s.code.as_str(), s))
        .collect();
    let mut by_revision = DefaultHasher::new();
    let mut by_school = DefaultHasher::new();
    for school in tree.schools_in(area) {
        (
            &school.code,
            &school.name,
            &school.district,
            school.kind.label(),
        )
            .hash(&mut by_school);
    }
    for code in compared.keys() {
        (code, revisions[*code]).hash(&mut by_revision);
    }
    let basis = Basis {
        revisions: by_revision.finish(),
        schools: by_school.finish(),
    };
    let key = (area.to_string(), year, peers);
    let cache = state.comparisons();
    if let Some(found) = cache.get(&key, &basis) {
        return Ok(found);
    }

    let stale: BTreeSet<String> = {
        let kept = cache
            .schools
            .lock()
            .map_err(|_| WebError::Internal("比较结果缓存不可用".into()))?;
        compared
            .keys()
            .filter(|code| kept.get(**code).map(|(r, _)| *r) != Some(revisions[**code]))
            .map(|code| code.to_string())
            .collect()
    };
    if !stale.is_empty() {
        // The revisions were read before the data: a result is never older than the
        // revision it is kept under (a write in between only makes it be computed again).
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let threads = threads.min(stale.len());
        let mut evaluator = Evaluator::start(Arc::new(state.definitions().clone()), threads);
        state
            .store()
            .each_dataset(Some(&stale), state.definitions(), |data| {
                let school = compared
                    .get(data.school.code.as_str())
                    .map(|s| (*s).clone())
                    .unwrap_or_else(|| AreaSchool {
                        code: data.school.code.clone(),
                        name: data.school.name.clone(),
                        district: String::new(),
                        kind: nianbao_bureau::SchoolType::Secondary,
                    });
                evaluator.evaluate(school, data);
            })
            .await?;
        let results = tokio::task::spawn_blocking(move || evaluator.finish())
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
        cache
            .evaluated
            .fetch_add(results.len() as u64, Ordering::Relaxed);
        let mut kept = cache
            .schools
            .lock()
            .map_err(|_| WebError::Internal("比较结果缓存不可用".into()))?;
        for result in results {
            let revision = revisions.get(&result.code).copied().unwrap_or_default();
            kept.insert(result.code.clone(), (revision, Arc::new(result)));
        }
        // Schools no longer in the store are forgotten.
        kept.retain(|code, _| revisions.contains_key(code));
    }

    let results: Vec<SchoolResult> = {
        let kept = cache
            .schools
            .lock()
            .map_err(|_| WebError::Internal("比较结果缓存不可用".into()))?;
        compared
            .iter()
            .filter_map(|(code, school)| {
                let (_, result) = kept.get(*code)?;
                let mut result = SchoolResult::clone(result);
                // Named and placed as the area file says now.
                result.name.clone_from(&school.name);
                result.district.clone_from(&school.district);
                result.kind = school.kind;
                Some(result)
            })
            .collect()
    };
    let definitions = state.definitions().clone();
    let tree = tree.clone();
    let built = tokio::task::spawn_blocking(move || {
        Comparison::within(&definitions, &tree, peers, year, results)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    let built = Arc::new(built);
    cache.put(key, basis, built.clone());
    Ok(built)
}

/// `/areas`: the areas a user may look at.
pub async fn list(State(state): State<AppState>, session: Session) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if let Standing::Bureau(area) = &standing {
        return Ok(Redirect::to(&format!("/areas/{area}")).into_response());
    }
    if !matches!(standing, Standing::Reader) {
        return Err(WebError::Forbidden);
    }
    let areas: Vec<Value> = tree
        .areas
        .iter()
        .map(|a| {
            json!({
                "code": a.code, "name": a.name, "level": a.level.label(),
                "schools": tree.schools_in(&a.code).len(),
            })
        })
        .collect();
    let mut context = frame(&session, None);
    context.insert("areas".into(), Value::Array(areas));
    Ok(state.render("areas.html", context)?.into_response())
}

/// `/areas/{area}`: every school of the area with its state, who and when, and the late ones.
pub async fn overview(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, &area) {
        return Err(WebError::Forbidden);
    }
    let year = year_of(query.year)?;
    let Some(info) = tree.area(&area) else {
        return Err(WebError::NotFound);
    };
    let states = state.store().submissions(year).await?;
    let late: BTreeSet<String> = state
        .store()
        .late_schools(&area, year, today())
        .await?
        .into_iter()
        .map(|(s, _)| s.code)
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let schools: Vec<Value> = tree
        .schools_in(&area)
        .into_iter()
        .map(|s| {
            let status = states.get(&s.code);
            let st = status.map_or(SubmissionState::Draft, |x| x.state);
            *counts.entry(st.label()).or_default() += 1;
            let district = tree.area(&s.district).map_or("", |d| d.name.as_str());
            json!({
                "code": s.code, "name": s.name, "kind": s.kind.label(), "district": district,
                "state": st.label(), "state_code": st.code(),
                "actor": status.map(|x| x.actor.clone()).unwrap_or_default(),
                "at": status.map(|x| clock::beijing_time(&x.at)).unwrap_or_default(),
                "late": late.contains(&s.code),
                "deadline": tree.deadline_for(&s.code, year).map(|d| format_date(d.date)),
            })
        })
        .collect();
    let children: Vec<Value> = tree
        .areas
        .iter()
        .filter(|a| a.parent.as_deref() == Some(area.as_str()))
        .map(|a| json!({ "code": a.code, "name": a.name }))
        .collect();
    let approval = state.store().area_approval(&area, year).await?;
    let mut context = frame(&session, None);
    context.insert(
        "area".into(),
        json!({ "code": info.code, "name": info.name, "level": info.level.label() }),
    );
    context.insert("year".into(), json!(year.get()));
    context.insert("schools".into(), Value::Array(schools));
    context.insert("children".into(), Value::Array(children));
    context.insert(
        "counts".into(),
        json!(
            counts
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
        ),
    );
    context.insert("late".into(), json!(late.len()));
    context.insert(
        "approval".into(),
        json!(approval.map(|(who, at)| format!("{who}，{}", clock::beijing_time(&at)))),
    );
    let acts = matches!(&standing, Standing::Bureau(own) if *own == area)
        && info.level == nianbao_bureau::Level::District;
    context.insert("can_act".into(), json!(acts));
    outcome(&mut context, &query);
    Ok(state.render("area.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct AreaActionForm {
    csrf: String,
    year: i64,
    what: String,
}

/// `POST /areas/{area}/approve`: approve every clean submitted school, or the area as a whole.
pub async fn approve(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Form(form): Form<AreaActionForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    let Standing::Bureau(own) = &standing else {
        return Err(WebError::Forbidden);
    };
    let Some(info) = tree.area(&area).filter(|_| *own == area) else {
        return Err(WebError::Forbidden);
    };
    let year = year_of(Some(form.year))?;
    let actor = Actor {
        role: nianbao_store::role_of_level(info.level),
        name: session.user.name.clone(),
    };
    let outcome = match form.what.as_str() {
        "clean" => {
            let outcome = state
                .store()
                .bulk_approve(&area, year, &actor, state.definitions())
                .await?;
            Ok(format!(
                "已审核通过 {} 所学校；{} 所需逐一查看",
                outcome.approved.len(),
                outcome.skipped.len()
            ))
        }
        "area" => match state
            .store()
            .approve_area(&area, year, &session.user.name)
            .await
        {
            Ok(()) => Ok(format!("{}{year} 年度已审核通过", info.name)),
            Err(nianbao_store::StoreError::Refused(why)) => Err(format!("未能审核：{why}")),
            Err(e) => return Err(e.into()),
        },
        _ => return Err(WebError::BadRequest("未知的操作".into())),
    };
    Ok(Redirect::to(&after(&format!("/areas/{area}?year={year}"), outcome)).into_response())
}

/// The outcome of the action just taken, from the address it redirected to: a success as
/// a notice, a refusal as an error.
fn outcome(context: &mut serde_json::Map<String, Value>, query: &YearQuery) {
    if let Some(done) = &query.done {
        context.insert("notice".into(), json!(done));
    }
    if let Some(refused) = &query.refused {
        context.insert("refused".into(), json!(refused));
    }
}

/// Where an action redirects: `page` (with its query) and its outcome, a success as `done`,
/// a refusal as `refused`.
fn after(page: &str, outcome: Result<String, String>) -> String {
    let (key, text) = match outcome {
        Ok(done) => ("done", done),
        Err(refused) => ("refused", refused),
    };
    let glue = if page.contains('?') { '&' } else { '?' };
    format!("{page}{glue}{key}={}", encode(&text))
}

fn encode(text: &str) -> String {
    crate::download::percent_encode(text)
}

/// `/schools/{code}/submission`: the state, the history with reasons, what changed since
/// approval, and the actions the user may take.
pub async fn submission(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_school(&standing, &tree, &code) {
        return Err(WebError::Forbidden);
    }
    let data = state.store().load_dataset(&code).await?;
    let year = match query.year {
        Some(y) => year_of(Some(y))?,
        None => data.school.report_year,
    };
    let definitions = state.definitions();
    let status = state.store().submission(&code, year).await?;
    let history: Vec<Value> = state
        .store()
        .submission_history(&code, year)
        .await?
        .into_iter()
        .map(|e| {
            let items: Vec<Value> = e
                .items
                .iter()
                .map(|i| {
                    let target = match &i.target {
                        ReturnTarget::Section(s) => {
                            format!("{s} {}", definitions.section_title(s).unwrap_or_default())
                        }
                        ReturnTarget::Fact(k) => {
                            format!("{}年 {}", k.year, definitions.elements.name(&k.element))
                        }
                    };
                    json!({ "target": target, "reason": i.reason })
                })
                .collect();
            json!({
                "at": clock::beijing_time(&e.at), "actor": e.actor, "action": e.action.label(),
                "from": e.from.label(), "to": e.to.label(), "items": items,
            })
        })
        .collect();
    let changes: Option<Vec<Value>> = state
        .store()
        .changes_since_approval(&code, year)
        .await?
        .map(|list| {
            list.into_iter()
                .map(|c| {
                    json!({
                        "name": definitions.elements.name(&c.key.element),
                        "major": c.key.major,
                        "approved": c.approved.map(nianbao_core::number::plain),
                        "current": c.current.map(nianbao_core::number::plain),
                    })
                })
                .collect()
        });
    let role = actor_role(&session, &standing, &tree, &code);
    let actions: Vec<Value> = Action::ALL
        .into_iter()
        .filter(|a| {
            role.is_some_and(|r| nianbao_bureau::approval::transition(status.state, *a, r).is_ok())
        })
        .map(|a| json!({ "code": a.code(), "label": a.label() }))
        .collect();
    let elements: Vec<Value> = definitions
        .elements
        .iter()
        .filter(|e| !e.is_computed() && e.dimension == nianbao_core::Dimension::School)
        .map(|e| json!({ "code": e.code, "name": e.name }))
        .collect();
    let mut context = frame(&session, Some(&data));
    context.insert("year".into(), json!(year.get()));
    context.insert(
        "status".into(),
        json!({
            "state": status.state.label(), "state_code": status.state.code(),
            "actor": status.actor, "at": clock::beijing_time(&status.at),
            "lock": status.state.lock_reason(),
        }),
    );
    context.insert("history".into(), Value::Array(history));
    context.insert("changes".into(), json!(changes));
    context.insert("actions".into(), Value::Array(actions));
    context.insert("elements".into(), Value::Array(elements));
    context.insert(
        "sections".into(),
        json!(
            definitions
                .sections
                .iter()
                .map(|s| json!({ "number": s.number, "title": s.title }))
                .collect::<Vec<_>>()
        ),
    );
    outcome(&mut context, &query);
    Ok(state.render("submission.html", context)?.into_response())
}

/// `POST /schools/{code}/submission`: one action; a return carries one or more items, each
/// a section or a fact with its reason (the fields `target` and `reason`, repeated in order).
pub async fn act(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    session.check_csrf(field("csrf"))?;
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_school(&standing, &tree, &code) {
        return Err(WebError::Forbidden);
    }
    let Some(role) = actor_role(&session, &standing, &tree, &code) else {
        return Err(WebError::Forbidden);
    };
    let year: i64 = field("year")
        .trim()
        .parse()
        .map_err(|_| WebError::BadRequest("年度不是有效的年份".into()))?;
    let year = year_of(Some(year))?;
    let action = Action::from_code(field("action"))
        .ok_or_else(|| WebError::BadRequest("未知的操作".into()))?;
    let items = if action == Action::Return {
        let all = |name: &str| -> Vec<&str> {
            fields
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        return_items(year, &all("target"), &all("reason"))?
    } else {
        Vec::new()
    };
    let actor = Actor {
        role,
        name: session.user.name.clone(),
    };
    let outcome = match state
        .store()
        .act_on_submission(&code, year, action, &actor, &items, state.definitions())
        .await
    {
        Ok(next) => Ok(format!("已{}，现为「{}」", action.label(), next.label())),
        Err(nianbao_store::StoreError::Refused(why)) => {
            Err(format!("未能{}：{why}", action.label()))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&after(
        &format!("/schools/{code}/submission?year={year}"),
        outcome,
    ))
    .into_response())
}

/// The comparison of an area's approved schools for a year, each judged among the approved
/// schools of the area's peer scope at `peers` (which may reach beyond the area), with the
/// datasets of the area's own approved schools (a peer outside the area is read only to be
/// evaluated).
async fn approved_comparison(
    state: &AppState,
    tree: &AreaTree,
    area: &str,
    year: Year,
    peers: PeerLevel,
) -> Result<(Comparison, Vec<Dataset>), WebError> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let nianbao_store::ApprovedSchools { datasets, results } = state
        .store()
        .approved_for_report(tree, area, peers, year, state.definitions(), threads)
        .await?;
    let definitions = state.definitions().clone();
    let tree = tree.clone();
    let area = area.to_string();
    let built = tokio::task::spawn_blocking(move || {
        Comparison::of_area(&definitions, &tree, &area, peers, year, results)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((built, datasets))
}

/// The indicators shown as columns of the comparison: those a standard judges.
fn columns(state: &AppState, comparison: &Comparison) -> Vec<(String, String, u32)> {
    comparison
        .indicators
        .iter()
        .filter(|s| s.judged)
        .map(|s| (s.id.clone(), s.name.clone(), s.decimals))
        .chain(
            state
                .definitions()
                .indicator("further_rate")
                .map(|i| (i.id.clone(), i.name.clone(), i.decimals)),
        )
        .collect()
}

/// `/areas/{area}/compare`: each school's indicators against the standards and its peers.
pub async fn compare(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, &area) {
        return Err(WebError::Forbidden);
    }
    let info = tree.area(&area).ok_or(WebError::NotFound)?.clone();
    let year = year_of(query.year)?;
    let peers = peers_of(&query)?;
    let comparison = cached_comparison(&state, &tree, &area, year, peers).await?;
    let columns = columns(&state, &comparison);
    let sort = query.sort.clone().unwrap_or_default();
    let desc = query.desc.is_some();
    let mut schools: Vec<&SchoolResult> = comparison.schools.iter().collect();
    if let Some((id, _, _)) = columns.iter().find(|(id, _, _)| *id == sort) {
        sort_by_indicator(&mut schools, state.definitions(), id, desc);
    }
    let pages = schools.len().div_ceil(COMPARE_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let shown = &schools
        [((page - 1) * COMPARE_PAGE).min(schools.len())..(page * COMPARE_PAGE).min(schools.len())];
    let rows: Vec<Value> = shown
        .iter()
        .map(|r| {
            let cells: Vec<Value> = columns
                .iter()
                .map(|(id, _, decimals)| {
                    let line = r.indicators.iter().find(|l| l.id == *id);
                    json!({
                        "text": r.value(id).map(|v| nianbao_core::number::grouped(v, *decimals)).unwrap_or_default(),
                        "fails": line.and_then(|l| l.meets) == Some(false),
                    })
                })
                .collect();
            json!({
                "code": r.code, "name": r.name, "errors": r.errors, "cells": cells,
                "outliers": comparison.explain(state.definitions(), &r.code),
            })
        })
        .collect();
    let heads: Vec<Value> = columns
        .iter()
        .map(|(id, name, _)| json!({ "id": id, "name": name, "desc": sort == *id && !desc }))
        .collect();
    let summary: Vec<Value> = comparison
        .indicators
        .iter()
        .filter(|s| s.judged)
        .map(|s| {
            let trend: Vec<String> = s
                .trend
                .iter()
                .map(|(y, m, _)| {
                    format!(
                        "{y}：{}",
                        m.map(|m| nianbao_core::number::grouped(m, s.decimals))
                            .unwrap_or_else(|| "—".into())
                    )
                })
                .collect();
            json!({ "name": s.name, "meets": s.meets, "fails": s.fails, "missing": s.missing, "trend": trend.join("，") })
        })
        .collect();
    let mut context = frame(&session, None);
    context.insert(
        "area".into(),
        json!({ "code": info.code, "name": info.name }),
    );
    context.insert("year".into(), json!(year.get()));
    context.insert("heads".into(), Value::Array(heads));
    context.insert("rows".into(), Value::Array(rows));
    let order = if sort.is_empty() {
        String::new()
    } else {
        format!(
            "&sort={}{}",
            encode(&sort),
            if desc { "&desc=1" } else { "" }
        )
    };
    context.insert(
        "paging".into(),
        json!({
            "page": page, "pages": pages, "schools": schools.len(), "order": order,
            "first": (page - 1) * COMPARE_PAGE + usize::from(!schools.is_empty()),
            "last": (page * COMPARE_PAGE).min(schools.len()),
            "previous": (page > 1).then(|| page - 1),
            "next": (page < pages).then(|| page + 1),
        }),
    );
    context.insert("summary".into(), Value::Array(summary));
    context.insert(
        "peers".into(),
        json!({
            "code": peers.code(), "label": peers.label(),
            "levels": peer_choices(peers),
        }),
    );
    Ok(state.render("compare.html", context)?.into_response())
}

/// The peer levels a form offers, `chosen` marked: each one's code, label and whether chosen.
fn peer_choices(chosen: PeerLevel) -> Value {
    PeerLevel::ALL
        .iter()
        .map(|l| json!({ "code": l.code(), "label": l.label(), "chosen": *l == chosen }))
        .collect()
}

/// The points of a small line chart (`width`×`height`, y downwards) of values over the
/// years; a missing value breaks the line. Each run of points is one polyline.
fn sparkline(values: &[Option<f64>], width: f64, height: f64) -> Vec<String> {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let (Some(low), Some(high)) = (
        known.iter().copied().reduce(f64::min),
        known.iter().copied().reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    // The vertical range spans at least a tenth of the values' size, centred on them, so a
    // change in the last digit (29.54 → 29.46) stays a nearly flat line instead of filling
    // the box.
    let span = (high - low).max(0.1 * high.abs().max(low.abs()));
    let bottom = (high + low) / 2.0 - span / 2.0;
    let y = |v: f64| {
        if span > 0.0 {
            height - (v - bottom) / span * height
        } else {
            height / 2.0
        }
    };
    let mut runs: Vec<Vec<String>> = vec![Vec::new()];
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let x = if values.len() > 1 {
                    step * i as f64
                } else {
                    width / 2.0
                };
                if let Some(run) = runs.last_mut() {
                    run.push(format!("{x:.1},{:.1}", y(*v)));
                }
            }
            None => runs.push(Vec::new()),
        }
    }
    runs.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.join(" "))
        .collect()
}

/// `/areas/{area}/compare/{code}`: one school's indicators over the years in the store,
/// beside the area's median of each year, with its standing and its peer outliers.
pub async fn compare_school(
    State(state): State<AppState>,
    session: Session,
    Path((area, code)): Path<(String, String)>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, &area) {
        return Err(WebError::Forbidden);
    }
    let info = tree.area(&area).ok_or(WebError::NotFound)?.clone();
    if !tree.contains_school(&area, &code) {
        return Err(WebError::NotFound);
    }
    let year = year_of(query.year)?;
    let peers = peers_of(&query)?;
    let comparison = cached_comparison(&state, &tree, &area, year, peers).await?;
    let school = comparison
        .schools
        .iter()
        .find(|s| s.code == code)
        .ok_or(WebError::NotFound)?;
    let years: Vec<Year> = school
        .indicators
        .iter()
        .flat_map(|l| l.values.iter().map(|(y, _)| *y))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let lines: Vec<Value> = comparison
        .indicators
        .iter()
        .filter_map(|summary| {
            let line = school.indicators.iter().find(|l| l.id == summary.id)?;
            let values: Vec<Option<f64>> = years
                .iter()
                .map(|y| {
                    line.values
                        .iter()
                        .find(|(x, _)| x == y)
                        .and_then(|(_, v)| *v)
                })
                .collect();
            if values.iter().all(Option::is_none) {
                return None;
            }
            let show = |v: Option<f64>| {
                v.map(|v| nianbao_core::number::grouped(v, summary.decimals))
                    .unwrap_or_else(|| "—".into())
            };
            let medians: Vec<String> = years
                .iter()
                .map(|y| {
                    show(
                        summary
                            .trend
                            .iter()
                            .find(|(x, _, _)| x == y)
                            .and_then(|(_, m, _)| *m),
                    )
                })
                .collect();
            Some(json!({
                "name": summary.name,
                "unit": summary.unit,
                "values": values.iter().map(|v| show(*v)).collect::<Vec<_>>(),
                "medians": medians,
                "meets": line.meets,
                "spark": sparkline(&values, 80.0, 20.0),
            }))
        })
        .collect();
    let mut context = frame(&session, None);
    context.insert(
        "area".into(),
        json!({ "code": info.code, "name": info.name }),
    );
    // Not "school": that key puts a school's own menu in the page frame.
    context.insert(
        "subject".into(),
        json!({ "code": school.code, "name": school.name, "errors": school.errors, "warnings": school.warnings }),
    );
    context.insert("year".into(), json!(year.get()));
    context.insert(
        "years".into(),
        json!(years.iter().map(|y| y.get()).collect::<Vec<_>>()),
    );
    context.insert("lines".into(), Value::Array(lines));
    context.insert(
        "outliers".into(),
        json!(comparison.explain(state.definitions(), &school.code)),
    );
    context.insert(
        "peers".into(),
        json!({ "code": peers.code(), "label": peers.label() }),
    );
    Ok(state
        .render("compare_school.html", context)?
        .into_response())
}

/// `/areas/{area}/compare.xlsx`: the comparison as an Excel workbook.
pub async fn compare_xlsx(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, &area) {
        return Err(WebError::Forbidden);
    }
    let name = tree.area(&area).ok_or(WebError::NotFound)?.name.clone();
    let year = year_of(query.year)?;
    let peers = peers_of(&query)?;
    let comparison = cached_comparison(&state, &tree, &area, year, peers).await?;
    let columns = columns(&state, &comparison);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let xlsx = |e: rust_xlsxwriter::XlsxError| WebError::Internal(e.to_string());
    sheet.set_name("学校比较").map_err(xlsx)?;
    sheet.write_string(0, 0, "学校代码").map_err(xlsx)?;
    sheet.write_string(0, 1, "学校").map_err(xlsx)?;
    sheet.write_string(0, 2, "错误数").map_err(xlsx)?;
    for (c, (_, name, _)) in columns.iter().enumerate() {
        sheet.write_string(0, (c + 3) as u16, name).map_err(xlsx)?;
    }
    let last = (columns.len() + 3) as u16;
    sheet.write_string(0, last, "同类学校比较").map_err(xlsx)?;
    for (r, school) in comparison.schools.iter().enumerate() {
        let row = (r + 1) as u32;
        sheet.write_string(row, 0, &school.code).map_err(xlsx)?;
        sheet.write_string(row, 1, &school.name).map_err(xlsx)?;
        sheet
            .write_number(row, 2, school.errors as f64)
            .map_err(xlsx)?;
        for (c, (id, _, _)) in columns.iter().enumerate() {
            if let Some(v) = school.value(id) {
                sheet.write_number(row, (c + 3) as u16, v).map_err(xlsx)?;
            }
        }
        let explained = comparison
            .explain(state.definitions(), &school.code)
            .join("；");
        sheet.write_string(row, last, &explained).map_err(xlsx)?;
    }
    let bytes = book.save_to_buffer().map_err(xlsx)?;
    Ok(crate::download::attachment(
        &format!("{name}{year}年度学校比较.xlsx"),
        crate::download::XLSX,
        bytes,
    ))
}

/// The compiled report of an area for a year, its peers taken at `peers`.
async fn area_document(
    state: &AppState,
    session: &Session,
    area: &str,
    year: Year,
    peers: PeerLevel,
) -> Result<nianbao_report::Document, WebError> {
    let standing = standing(state, session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, area) {
        return Err(WebError::Forbidden);
    }
    let stored = state.store().submissions(year).await?;
    let states: BTreeMap<String, SubmissionState> = tree
        .schools_in(area)
        .iter()
        .map(|s| {
            (
                s.code.clone(),
                stored
                    .get(&s.code)
                    .map_or(SubmissionState::Draft, |x| x.state),
            )
        })
        .collect();
    let (comparison, datasets) = approved_comparison(state, &tree, area, year, peers).await?;
    let texts = state.store().area_texts(area, year).await?;
    let date = format_date(today());
    compile(&AreaReportInput {
        definitions: state.definitions(),
        tree: &tree,
        area,
        year,
        states: &states,
        datasets: &datasets,
        comparison: &comparison,
        peers,
        texts: &texts,
        date: &date,
    })
    .map_err(|e| WebError::BadRequest(e.to_string()))
}

/// `/areas/{area}/report`: the bureau's texts to edit and links to the compiled report.
pub async fn report_page(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, &area) {
        return Err(WebError::Forbidden);
    }
    let info = tree.area(&area).ok_or(WebError::NotFound)?;
    let year = year_of(query.year)?;
    let texts = state.store().area_texts(&area, year).await?;
    let parts: Vec<Value> = TEXT_PARTS
        .iter()
        .map(|(code, title)| json!({ "code": code, "title": title, "body": texts.get(*code) }))
        .collect();
    let mut context = frame(&session, None);
    context.insert(
        "area".into(),
        json!({ "code": info.code, "name": info.name }),
    );
    context.insert("year".into(), json!(year.get()));
    context.insert("parts".into(), Value::Array(parts));
    let finals: Vec<Value> = state
        .store()
        .area_finals(&area, i64::from(year.get()))
        .await?
        .into_iter()
        .map(|f| {
            json!({
                "id": f.id, "by": f.made_by, "at": clock::beijing_time(&f.made_at),
                "hash": f.hash.chars().take(12).collect::<String>(),
                "pdf": f.has_pdf,
            })
        })
        .collect();
    context.insert("finals".into(), Value::Array(finals));
    let peers = peers_of(&query)?;
    context.insert("peer_levels".into(), peer_choices(peers));
    context.insert(
        "peers".into(),
        json!({ "code": peers.code(), "label": peers.label() }),
    );
    context.insert(
        "can_write".into(),
        json!(matches!(&standing, Standing::Bureau(own) if *own == area)),
    );
    outcome(&mut context, &query);
    Ok(state.render("area_report.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct TextForm {
    csrf: String,
    year: i64,
    part: String,
    body: String,
}

/// `POST /areas/{area}/report`: saves one of the bureau's texts.
pub async fn save_text(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Form(form): Form<TextForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let standing = standing(&state, &session).await?;
    if !matches!(&standing, Standing::Bureau(own) if *own == area) {
        return Err(WebError::Forbidden);
    }
    if !TEXT_PARTS.iter().any(|(code, _)| *code == form.part) {
        return Err(WebError::BadRequest("未知的报告部分".into()));
    }
    let year = year_of(Some(form.year))?;
    state
        .store()
        .save_area_text(&area, year, &form.part, &form.body, &session.user.name)
        .await?;
    Ok(Redirect::to(&format!(
        "/areas/{area}/report?year={year}&done={}",
        encode("已保存")
    ))
    .into_response())
}

/// `/areas/{area}/report.html`: the compiled report as a web page.
pub async fn report_html(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let year = year_of(query.year)?;
    let document = area_document(&state, &session, &area, year, peers_of(&query)?).await?;
    Ok(Html(nianbao_report::html::render(&document)).into_response())
}

/// `/areas/{area}/report.docx`: the compiled report as a Word file, named a draft (as the
/// PDF is; a final's files are named by their number).
pub async fn report_docx(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let year = year_of(query.year)?;
    let document = area_document(&state, &session, &area, year, peers_of(&query)?).await?;
    let file = format!("{}（草稿）.docx", document.title);
    crate::download::made(&file, crate::download::DOCX, move || {
        nianbao_report::docx::render(&document).map_err(|e| WebError::Internal(e.to_string()))
    })
    .await
}

/// `/areas/{area}/report.pdf`: the compiled report as PDF, by the school report's renderer.
pub async fn report_pdf(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let year = year_of(query.year)?;
    let document = area_document(&state, &session, &area, year, peers_of(&query)?).await?;
    let file = format!("{}（草稿）.pdf", document.title);
    crate::download::made(&file, crate::download::PDF, move || {
        super::report::pdf(&document)
    })
    .await
}

#[derive(Deserialize)]
pub struct FinalForm {
    csrf: String,
    year: i64,
    /// The level of the area peers are taken from; the default when not sent.
    #[serde(default)]
    peers: Option<String>,
}

/// `POST /areas/{area}/report/final`: makes the area's compiled report final, its peers
/// taken at the level the form chose (the city by default) — refused (back on the report
/// page, naming what is missing) while a text part is unwritten or no school is approved —
/// and keeps its web page, Word file and PDF as they were made.
pub async fn make_final(
    State(state): State<AppState>,
    session: Session,
    Path(area): Path<String>,
    Form(form): Form<FinalForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let standing = standing(&state, &session).await?;
    if !matches!(&standing, Standing::Bureau(own) if *own == area) {
        return Err(WebError::Forbidden);
    }
    let year = year_of(Some(form.year))?;
    let peers = peer_level(form.peers.as_deref())?;
    let draft = area_document(&state, &session, &area, year, peers).await?;
    let tree = state.store().area_tree().await?;
    let states = state.store().submissions(year).await?;
    let included = tree
        .schools_in(&area)
        .iter()
        .filter(|s| states.get(&s.code).is_some_and(|x| x.state.approved()))
        .count();
    let blockers = nianbao_report::area_report::final_blockers(&draft, included);
    if !blockers.is_empty() {
        return Ok(Redirect::to(&after(
            &format!("/areas/{area}/report?year={year}"),
            Err(format!("尚不能定稿：{}", blockers.join("；"))),
        ))
        .into_response());
    }
    let hash = nianbao_report::snapshot::hash(nianbao_report::html::render(&draft).as_bytes());
    let (id, made_at) = state
        .store()
        .begin_area_final(&area, i64::from(year.get()), &session.user.name, &hash)
        .await?;
    let mark = nianbao_report::FinalMark {
        snapshot: id,
        hash,
        created_at: made_at,
    };
    let document = nianbao_report::area_report::make_final(draft, mark);
    // The PDF is made by the school report's renderer; a server without the CJK fonts keeps
    // the final without it and says so.
    let rendered = tokio::task::spawn_blocking(move || {
        let html = nianbao_report::html::render(&document);
        let docx = nianbao_report::docx::render(&document)?;
        let pdf = match nianbao_report::pdf::render(&document) {
            Ok((pdf, _pages)) => Ok(pdf),
            Err(e @ nianbao_report::ReportError::FontMissing { .. }) => Err(e.to_string()),
            Err(e) => return Err(e),
        };
        Ok((html, docx, pdf))
    })
    .await;
    let without_pdf = match rendered {
        Ok(Ok((html, docx, pdf))) => {
            let files = nianbao_store::FinalFiles {
                html: html.as_bytes(),
                docx: &docx,
                pdf: pdf.as_deref().ok(),
            };
            state.store().complete_area_final(id, Some(files)).await?;
            pdf.err()
        }
        failed => {
            state.store().complete_area_final(id, None).await?;
            let why = match failed {
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
                Ok(Ok(_)) => String::new(),
            };
            return Err(WebError::Internal(why));
        }
    };
    let notice = match without_pdf {
        None => format!("已定稿：第 {id} 号"),
        Some(why) => format!("已定稿：第 {id} 号（未生成 PDF：{why}）"),
    };
    Ok(Redirect::to(&format!(
        "/areas/{area}/report?year={year}&done={}",
        encode(&notice)
    ))
    .into_response())
}

/// `/areas/{area}/finals/{id}/{file}`: a final's `report.html`, `report.docx` or
/// `report.pdf`, byte for byte as it was made.
pub async fn final_file(
    State(state): State<AppState>,
    session: Session,
    Path((area, id, file)): Path<(String, i64, String)>,
) -> Result<Response, WebError> {
    let standing = standing(&state, &session).await?;
    let tree = state.store().area_tree().await?;
    if !can_see_area(&standing, &tree, &area) {
        return Err(WebError::Forbidden);
    }
    let which = nianbao_store::FinalFile::from_name(&file).ok_or(WebError::NotFound)?;
    let (kept, bytes) = state
        .store()
        .area_final_file(id, which)
        .await?
        .filter(|(f, _)| f.area == area)
        .ok_or(WebError::NotFound)?;
    let name = tree.area(&area).map_or(area.clone(), |a| a.name.clone());
    let stem = format!("{name}{}年度质量年度报告（定稿第{}号）", kept.year, kept.id);
    match which {
        nianbao_store::FinalFile::Html => {
            let html = String::from_utf8(bytes).map_err(|e| WebError::Internal(e.to_string()))?;
            Ok(Html(html).into_response())
        }
        nianbao_store::FinalFile::Docx => Ok(crate::download::attachment(
            &format!("{stem}.docx"),
            crate::download::DOCX,
            bytes,
        )),
        nianbao_store::FinalFile::Pdf => Ok(crate::download::attachment(
            &format!("{stem}.pdf"),
            crate::download::PDF,
            bytes,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year() -> Year {
        Year::new(2025).unwrap()
    }

    #[test]
    fn a_return_keeps_its_rows_in_order_and_skips_empty_ones() {
        let items = return_items(
            year(),
            &["fact:staff.total", "", "section:1.4"],
            &["请核对", "", "请补充"],
        )
        .unwrap();
        assert_eq!(
            items,
            vec![
                ReturnItem {
                    target: ReturnTarget::Fact(FactKey::school(year(), "staff.total")),
                    reason: "请核对".into(),
                },
                ReturnItem {
                    target: ReturnTarget::Section("1.4".into()),
                    reason: "请补充".into(),
                },
            ]
        );
    }

    #[test]
    fn a_sparkline_spans_its_box_and_breaks_at_a_missing_year() {
        let runs = sparkline(&[Some(1.0), Some(3.0), None, Some(2.0)], 90.0, 20.0);
        assert_eq!(
            runs,
            vec!["0.0,20.0 30.0,0.0".to_string(), "90.0,10.0".into()]
        );
        assert_eq!(sparkline(&[Some(5.0)], 80.0, 20.0), vec!["40.0,10.0"]);
        assert!(sparkline(&[None, None], 80.0, 20.0).is_empty());
    }

    #[test]
    fn a_sparkline_of_nearly_equal_values_stays_nearly_flat() {
        let runs = sparkline(&[Some(29.54), Some(29.46), Some(29.5)], 80.0, 20.0);
        assert_eq!(runs.len(), 1);
        for point in runs[0].split(' ') {
            let y: f64 = point.split(',').nth(1).unwrap().parse().unwrap();
            assert!((9.0..=11.0).contains(&y), "{point} in {}", runs[0]);
        }
        let zeros = sparkline(&[Some(0.0), Some(0.0)], 80.0, 20.0);
        assert_eq!(zeros, vec!["0.0,10.0 80.0,10.0"]);
    }

    #[test]
    fn a_reason_without_a_target_or_no_row_at_all_is_refused() {
        let no_target = return_items(year(), &["fact:staff.total", ""], &["请核对", "没有对象"]);
        assert!(matches!(no_target, Err(WebError::BadRequest(m)) if m.contains("第 2 条")));
        let nothing = return_items(year(), &["", ""], &[" ", ""]);
        assert!(matches!(nothing, Err(WebError::BadRequest(m)) if m.contains("至少填写一条")));
    }
}
