//! The points ledger's pages (积分制): a 班主任 or 任课教师 records points for students of
//! their classes (pick a class, tick students, pick an observation by search or from the
//! competency tree), sees the events they recorded and reverses one with a reason; a
//! student reads their own profile (total, points by competency, 八维 radar against the
//! class average, history); a 班主任 reads the profiles and the ranking of their class; the
//! quality office reads every class. Every read of a student's records by staff is logged.
//!
//! The checks (limits per day and per term, roles, closed terms, reversals) are the
//! ledger's own (`nianbao_points::ledger`); a batch is recorded whole or not at all.

use std::collections::BTreeSet;

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::Role;
use nianbao_core::clock::beijing;
use nianbao_points::aggregate::{self, Group, Measure, Span};
use nianbao_points::awards::{self, RulesFile};
use nianbao_points::ledger::{Ledger, NewEvent, Timestamp, days_from_civil, format_date};
use nianbao_points::tree::Tree;
use nianbao_store::Scope;
use nianbao_store::points::{PointsError, PointsStore, SchoolLedger};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::frame;
use crate::auth::{Session, random_token};
use crate::download::percent_encode;
use crate::{AppState, WebError, access};

/// Events shown in a teacher's own list and in a student's history.
const SHOWN: i64 = 100;
/// The longest note (事由) or reversal reason accepted.
const MAX_NOTE_CHARS: usize = 200;

/// A ledger error as a page: what the user can fix is theirs, the rest the server's.
fn failed(error: PointsError) -> WebError {
    match error {
        PointsError::Store(e) => WebError::Store(e),
        PointsError::Database(e) => WebError::Store(e.into()),
        PointsError::UnknownSchool(_) | PointsError::UnknownStudent(_) => WebError::NotFound,
        PointsError::Rejected(r) => WebError::BadRequest(
            r.errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("；"),
        ),
        PointsError::Invalid(m) => WebError::BadRequest(m),
        other => WebError::Internal(other.to_string()),
    }
}

/// A school's ledger opened for a user who works in it, with what their account reaches.
struct Opened {
    store: PointsStore,
    sl: SchoolLedger,
    scope: Scope,
}

/// Opens the school's ledger if the user works in its points ledger at all; 403 before
/// anything is read otherwise.
async fn open(state: &AppState, session: &Session, code: &str) -> Result<Opened, WebError> {
    if !access::in_points(&session.user, code) {
        return Err(WebError::Forbidden);
    }
    let scope = state.store().user_scope(session.user.id).await?;
    let cache = state
        .store()
        .points_cache()
        .map(std::path::Path::to_path_buf);
    let store = PointsStore::new(state.store(), cache)
        .await
        .map_err(failed)?;
    let sl = store.open_ledger(code).await.map_err(failed)?;
    Ok(Opened { store, sl, scope })
}

/// Now, in the school's local (Beijing) time, as the ledger counts days and seconds.
fn now_local() -> Timestamp {
    let now = time::OffsetDateTime::now_utc().to_offset(beijing());
    Timestamp {
        day: days_from_civil(
            now.year(),
            u32::from(u8::from(now.month())),
            u32::from(now.day()),
        ),
        second: u32::from(now.hour()) * 3600
            + u32::from(now.minute()) * 60
            + u32::from(now.second()),
    }
}

/// The terms of the school year in progress (or of the latest school year), and its name.
fn year_span(ledger: &Ledger, today: i32) -> (Span, String) {
    let (span, name, _) = school_year_span(ledger, today);
    (span, name)
}

/// As [`year_span`], with the school year (2026 for 2026—2027) when there is one.
fn school_year_span(ledger: &Ledger, today: i32) -> (Span, String, Option<i32>) {
    let year = ledger
        .period_of(today)
        .map(|p| ledger.periods[p].school_year)
        .or_else(|| ledger.periods.iter().map(|p| p.school_year).max());
    match year {
        Some(y) => {
            let terms = ledger
                .periods
                .iter()
                .enumerate()
                .filter(|(_, p)| p.school_year == y)
                .map(|(i, _)| i)
                .collect();
            (Span::terms(terms), format!("{y}—{} 学年", y + 1), Some(y))
        }
        None => (Span::all(), "全部记录".to_string(), None),
    }
}

/// The page frame of a points page: the school's name, and the links the user may follow.
fn points_frame(session: &Session, opened: &Opened, code: &str) -> Map<String, Value> {
    let mut context = frame(session, None);
    context.insert(
        "school".into(),
        json!({ "code": code, "name": opened.sl.name }),
    );
    let user = &session.user;
    context.insert(
        "points_nav".into(),
        json!({
            "record": user.role.needs_classes(),
            "mine": user.role.needs_classes(),
            "classes": user.role == Role::HeadTeacher || access::can_run_points(user),
            "own": opened.scope.student,
        }),
    );
    context
}

/// The value of an observation as shown: "+2", "-1", "+1～+3".
fn value_text(min: i32, max: i32, value: i32) -> String {
    let signed = |v: i32| {
        if v > 0 {
            format!("+{v}")
        } else {
            v.to_string()
        }
    };
    if min == max {
        signed(value)
    } else {
        format!("{}～{}", signed(min), signed(max))
    }
}

/// The tree in force today, if the school has loaded one.
fn tree_today(ledger: &Ledger, today: i32) -> Option<&Tree> {
    ledger
        .catalog
        .tree_for_day(today)
        .map(|i| &ledger.catalog.trees[i])
        .or(ledger.catalog.latest())
}

/// The tree's competencies → points → observations a role may record, for the picker.
fn picker(tree: &Tree, role: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (ci, c) in tree.competencies.iter().enumerate() {
        let mut points = Vec::new();
        for (pi, p) in tree.points.iter().enumerate() {
            if p.competency != ci {
                continue;
            }
            let observations: Vec<Value> = tree
                .observations
                .iter()
                .filter(|o| o.point == pi && o.roles.iter().any(|r| r == role))
                .map(|o| {
                    json!({
                        "code": o.code,
                        "name": o.name,
                        "value": value_text(o.min, o.max, o.value),
                        "per_day": o.per_day,
                        "per_term": o.per_term,
                        "dimensions": o.dimensions.iter().map(|d| d.name()).collect::<Vec<_>>().join("、"),
                    })
                })
                .collect();
            if !observations.is_empty() {
                points
                    .push(json!({ "code": p.code, "name": p.name, "observations": observations }));
            }
        }
        if !points.is_empty() {
            out.push(json!({ "code": c.code, "name": c.name, "points": points }));
        }
    }
    out
}

#[derive(Deserialize, Default)]
pub struct HomeQuery {
    added: Option<usize>,
    updated: Option<usize>,
    closed: Option<String>,
}

/// `/schools/{code}/points`: a student goes to their profile; a teacher sees their classes;
/// the quality office every class, and imports the roster.
pub async fn home(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<HomeQuery>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    let notice = match (query.added, query.updated, query.closed) {
        (Some(a), Some(u), _) => Some(format!("名册已导入：新增 {a} 名学生，更新 {u} 名")),
        (_, _, Some(term)) => Some(format!(
            "学期「{term}」已结账：此后不能再记录或冲销该学期的积分"
        )),
        _ => None,
    };
    home_page(&state, &session, &opened, &code, notice, Vec::new())
}

fn home_page(
    state: &AppState,
    session: &Session,
    opened: &Opened,
    code: &str,
    notice: Option<String>,
    problems: Vec<String>,
) -> Result<Response, WebError> {
    if session.user.role == Role::Student {
        let Some(own) = &opened.scope.student else {
            return Err(WebError::Forbidden);
        };
        return Ok(Redirect::to(&format!(
            "/schools/{code}/points/students/{}",
            percent_encode(own)
        ))
        .into_response());
    }
    let ledger = &opened.sl.ledger;
    let classes: BTreeSet<&str> = if access::can_run_points(&session.user) {
        ledger
            .roster
            .students()
            .iter()
            .map(|s| s.class.as_str())
            .collect()
    } else {
        opened.scope.classes.iter().map(String::as_str).collect()
    };
    let counts: Vec<Value> = classes
        .iter()
        .map(|class| {
            let n = ledger
                .roster
                .students()
                .iter()
                .filter(|s| s.class == *class)
                .count();
            json!({
                "name": class,
                "students": n,
                "ranking": access::can_read_class(&session.user, &opened.scope.classes, class),
                "record": access::can_record(&session.user, &opened.scope.classes, class),
            })
        })
        .collect();
    let mut context = points_frame(session, opened, code);
    context.insert("classes".into(), Value::Array(counts));
    context.insert("has_tree".into(), json!(!ledger.catalog.trees.is_empty()));
    context.insert(
        "can_run".into(),
        json!(access::can_run_points(&session.user)),
    );
    if access::can_run_points(&session.user) {
        let terms: Vec<Value> = ledger
            .periods
            .iter()
            .map(|p| {
                json!({
                    "code": p.code,
                    "starts": format_date(p.starts),
                    "ends": format_date(p.ends),
                    "closed": p.closed,
                })
            })
            .collect();
        context.insert("terms".into(), Value::Array(terms));
    }
    context.insert("notice".into(), json!(notice));
    context.insert("problems".into(), json!(problems));
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, state.render("points_home.html", context)?).into_response())
}

/// `POST /schools/{code}/points/roster`: the quality office imports a roster CSV (学号, 姓名,
/// 班级, 专业, 专业部, 入学年份) in one transaction; a refused file names its rows and columns
/// and changes nothing.
pub async fn import_roster(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let upload = super::registers::read_upload(&state, multipart).await?;
    session.check_csrf(&upload.csrf)?;
    let opened = open(&state, &session, &code).await?;
    if !access::can_run_points(&session.user) {
        return Err(WebError::Forbidden);
    }
    let name = if upload.file_name.is_empty() {
        "名册".to_string()
    } else {
        upload.file_name.clone()
    };
    let refuse =
        |problems: Vec<String>| home_page(&state, &session, &opened, &code, None, problems);
    if upload.bytes.is_empty() {
        return refuse(vec!["请选择名册文件（CSV 或 Excel .xlsx）".into()]);
    }
    let read = if upload.bytes.starts_with(b"PK") {
        let limits = nianbao_xlsx::Limits {
            max_upload_bytes: state.max_upload_bytes(),
            ..nianbao_xlsx::Limits::default()
        };
        match nianbao_xlsx::read_sheet_rows(&upload.bytes, ROSTER_SHEET, &limits) {
            Ok(sheet) => roster_from_sheet(&name, &sheet),
            Err(e) => return refuse(vec![format!("{name}：{e}，名册未导入")]),
        }
    } else if std::str::from_utf8(&upload.bytes).is_err() {
        return refuse(vec![format!(
            "{name} 不是 UTF-8 编码的 CSV，也不是 Excel 工作簿（.xlsx）：请在 Excel 中「另存为」选择「CSV UTF-8（逗号分隔）」或「Excel 工作簿」后再上传"
        )]);
    } else {
        nianbao_points::roster::read_roster(upload.bytes.as_slice(), &name)
    };
    let students = match read {
        Ok(students) => students,
        Err(rejected) => {
            let mut problems = vec![format!(
                "{}：{} 处错误，名册未导入，数据库未作任何修改",
                rejected.file,
                rejected.errors.len()
            )];
            problems.extend(rejected.errors.iter().map(ToString::to_string));
            return refuse(problems);
        }
    };
    if students.is_empty() {
        return refuse(vec![format!("{name} 中没有学生")]);
    }
    let (added, updated) = opened
        .store
        .import_roster(&code, &students)
        .await
        .map_err(failed)?;
    Ok(Redirect::to(&format!(
        "/schools/{code}/points?added={added}&updated={updated}"
    ))
    .into_response())
}

/// The worksheet a roster workbook is read from (its first sheet when it has none of this name).
const ROSTER_SHEET: &str = "名册";

/// A roster read from a worksheet: the first row that names a roster column is the header
/// (the first non-empty row when none does), each later row a student; numbers are written as Excel shows a whole number (学号 2025001, 入学年份 2025).
/// Errors name the file and sheet, the row as Excel numbers it and the column's header.
fn roster_from_sheet(
    file: &str,
    sheet: &nianbao_xlsx::SheetRows,
) -> Result<Vec<nianbao_points::Student>, nianbao_points::ledger::Rejected> {
    use nianbao_xlsx::SheetCell;
    let place = format!("{file}「{}」工作表", sheet.sheet);
    let text = |cell: &SheetCell| match cell {
        SheetCell::Text(t) => t.clone(),
        SheetCell::Number(n) | SheetCell::Date(n) => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                n.to_string()
            }
        }
        SheetCell::Bool(b) => b.to_string(),
        SheetCell::Error(e) => e.clone(),
    };
    let mut rows: Vec<(u32, Vec<String>)> = Vec::new();
    for (&(row, column), cell) in &sheet.cells {
        if rows.last().is_none_or(|(r, _)| *r != row) {
            rows.push((row, Vec::new()));
        }
        if let Some((_, cells)) = rows.last_mut() {
            // A sheet's columns are bounded by its cells; a roster has six.
            let column = column.min(255) as usize;
            if cells.len() <= column {
                cells.resize(column + 1, String::new());
            }
            cells[column] = text(cell);
        }
    }
    // The header is the first row that names a roster column (a title may stand above
    // it), else the first row.
    let start = rows
        .iter()
        .position(|(_, cells)| {
            cells
                .iter()
                .any(|c| nianbao_points::roster::ROSTER_COLUMNS.contains(&c.trim()))
        })
        .unwrap_or(0);
    let mut rows = rows.into_iter().skip(start);
    let (header_row, header) = rows.next().unwrap_or_default();
    nianbao_points::roster::read_roster_table(
        &place,
        header_row as usize + 1,
        &header,
        rows.map(|(row, cells)| Ok((row as usize + 1, cells))),
    )
}

#[derive(Deserialize, Default)]
pub struct RecordQuery {
    class: Option<String>,
    done: Option<usize>,
}

/// What the record form shows again after a refusal.
#[derive(Default)]
struct Entered {
    class: String,
    students: Vec<String>,
    observation: String,
    note: String,
    problems: Vec<String>,
}

fn record_page(
    state: &AppState,
    session: &Session,
    opened: &Opened,
    code: &str,
    entered: &Entered,
    notice: Option<String>,
) -> Result<Response, WebError> {
    let ledger = &opened.sl.ledger;
    let today = now_local().day;
    let mut students: Vec<_> = ledger
        .roster
        .students()
        .iter()
        .filter(|s| s.class == entered.class)
        .collect();
    students.sort_by(|a, b| a.number.cmp(&b.number));
    let students: Vec<Value> = students
        .iter()
        .map(|s| {
            json!({
                "number": s.number,
                "name": s.name,
                "checked": entered.students.contains(&s.number),
            })
        })
        .collect();
    let tree = tree_today(ledger, today);
    let term = ledger.period_of(today).map(|p| &ledger.periods[p]);
    let mut context = points_frame(session, opened, code);
    context.insert("classes".into(), json!(opened.scope.classes));
    context.insert("class".into(), json!(entered.class));
    context.insert("students".into(), Value::Array(students));
    context.insert(
        "tree".into(),
        json!(tree.map(|t| picker(t, session.user.role.label()))),
    );
    context.insert("tree_name".into(), json!(tree.map(|t| &t.name)));
    context.insert("observation".into(), json!(entered.observation));
    context.insert("note".into(), json!(entered.note));
    context.insert("problems".into(), json!(entered.problems));
    context.insert("notice".into(), json!(notice));
    context.insert("today".into(), json!(format_date(today)));
    context.insert(
        "term".into(),
        json!(term.map(|t| json!({ "code": t.code, "closed": t.closed }))),
    );
    let status = if entered.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, state.render("points_record.html", context)?).into_response())
}

/// `GET /schools/{code}/points/record`: the form, for one of the teacher's classes.
pub async fn record_form(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<RecordQuery>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    if !session.user.role.needs_classes() {
        return Err(WebError::Forbidden);
    }
    let class = match query.class {
        Some(c) => c,
        None => opened.scope.classes.first().cloned().unwrap_or_default(),
    };
    if !access::can_record(&session.user, &opened.scope.classes, &class) {
        return Err(WebError::Forbidden);
    }
    let notice = query
        .done
        .map(|n| format!("已为 {n} 名学生记录积分，可在「我记录的积分」中查看或冲销"));
    let entered = Entered {
        class,
        ..Entered::default()
    };
    record_page(&state, &session, &opened, &code, &entered, notice)
}

/// `POST /schools/{code}/points/record`: one event per ticked student, all recorded or none.
pub async fn record(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    session.check_csrf(&field("csrf"))?;
    let mut opened = open(&state, &session, &code).await?;
    let class = field("class");
    if !access::can_record(&session.user, &opened.scope.classes, &class) {
        return Err(WebError::Forbidden);
    }
    let mut entered = Entered {
        class: class.clone(),
        students: fields
            .iter()
            .filter(|(k, _)| k == "student")
            .map(|(_, v)| v.trim().to_string())
            .collect(),
        observation: field("observation"),
        note: field("note"),
        problems: Vec::new(),
    };
    entered.students.dedup();
    // Only students of the class: a forged number of another class is refused outright.
    for number in &entered.students {
        let student = opened
            .sl
            .ledger
            .roster
            .id_of(number)
            .and_then(|id| opened.sl.ledger.roster.student(id));
        if student.is_none_or(|s| s.class != class) {
            return Err(WebError::Forbidden);
        }
    }
    if entered.students.is_empty() {
        entered.problems.push("请至少勾选一名学生".into());
    }
    if entered.observation.is_empty() {
        entered.problems.push("请选择一个观测点".into());
    }
    if entered.note.chars().count() > MAX_NOTE_CHARS {
        entered
            .problems
            .push(format!("备注最多 {MAX_NOTE_CHARS} 个字"));
    }
    if !entered.problems.is_empty() {
        return record_page(&state, &session, &opened, &code, &entered, None);
    }
    let at = now_local();
    let rows: Vec<NewEvent> = entered
        .students
        .iter()
        .enumerate()
        .map(|(i, number)| NewEvent {
            row: i + 1,
            event_id: format!("web-{}", &random_token()[..20]),
            student: number.clone(),
            observation: entered.observation.clone(),
            value: None,
            recorder: session.user.name.clone(),
            role: session.user.role.label().to_string(),
            at,
            reason: entered.note.clone(),
            evidence: None,
            reverses: None,
        })
        .collect();
    let Opened { store, sl, .. } = &mut opened;
    match store
        .append(sl, "网页记录", &rows, &session.user.name)
        .await
    {
        Ok(summary) => Ok(Redirect::to(&format!(
            "/schools/{code}/points/record?class={}&done={}",
            percent_encode(&class),
            summary.events
        ))
        .into_response()),
        Err(PointsError::Rejected(rejected)) => {
            let roster = &opened.sl.ledger.roster;
            entered.problems = rejected
                .errors
                .iter()
                .map(|e| {
                    let who = e
                        .row
                        .checked_sub(1)
                        .and_then(|i| entered.students.get(i))
                        .and_then(|n| roster.id_of(n).and_then(|id| roster.student(id)))
                        .map(|s| format!("{}（{}）：", s.name, s.number))
                        .unwrap_or_default();
                    format!("{who}{}", e.message)
                })
                .collect();
            entered.problems.push(
                "以上原因，本次没有记录任何积分；请取消勾选超出上限的学生或换一个观测点后重试"
                    .into(),
            );
            record_page(&state, &session, &opened, &code, &entered, None)
        }
        Err(e) => Err(failed(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct MineQuery {
    done: Option<String>,
    problem: Option<String>,
}

/// `GET /schools/{code}/points/mine`: the events the user recorded, newest first, each
/// reversible (with a reason) while its term is the current, open one.
pub async fn mine(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<MineQuery>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    if !session.user.role.needs_classes() {
        return Err(WebError::Forbidden);
    }
    mine_page(
        &state,
        &session,
        &opened,
        &code,
        query.done.is_some(),
        query.problem,
    )
    .await
}

async fn mine_page(
    state: &AppState,
    session: &Session,
    opened: &Opened,
    code: &str,
    done: bool,
    problem: Option<String>,
) -> Result<Response, WebError> {
    let ledger = &opened.sl.ledger;
    let today = ledger.period_of(now_local().day);
    let events: Vec<Value> = opened
        .store
        .recorded_by(&opened.sl, &session.user.name, SHOWN)
        .await
        .map_err(failed)?
        .into_iter()
        .map(|e| {
            let name = ledger
                .roster
                .id_of(&e.student)
                .and_then(|id| ledger.roster.student(id))
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let reversal = e.event.reverses.is_some();
            json!({
                "id": e.event.event_id,
                "at": e.event.at.get(..16).unwrap_or(&e.event.at),
                "student": e.student,
                "name": name,
                "observation": e.event.observation_name,
                "value": e.event.value,
                "reason": e.event.reason,
                "reversal": reversal,
                "reversed": e.reversed,
                "reversible": !reversal && !e.reversed && e.period.is_some() && e.period == today,
            })
        })
        .collect();
    let mut context = points_frame(session, opened, code);
    context.insert("events".into(), Value::Array(events));
    context.insert(
        "notice".into(),
        json!(done.then_some("已冲销；冲销记录与原记录都保留在流水中")),
    );
    context.insert("problem".into(), json!(problem));
    Ok(state.render("points_mine.html", context)?.into_response())
}

/// `GET /schools/{code}/points/students/{number}`: one student's profile.
pub async fn student(
    State(state): State<AppState>,
    session: Session,
    Path((code, number)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    let ledger = &opened.sl.ledger;
    let Some(id) = ledger.roster.id_of(&number) else {
        // Only those who may read some student learn that a number is unknown.
        return Err(if session.user.role == Role::Student {
            WebError::Forbidden
        } else {
            WebError::NotFound
        });
    };
    let Some(me) = ledger.roster.student(id).cloned() else {
        return Err(WebError::NotFound);
    };
    if !access::can_read_student(
        &session.user,
        &opened.scope.classes,
        opened.scope.student.as_deref(),
        &me.number,
        &me.class,
    ) {
        return Err(WebError::Forbidden);
    }
    if session.user.role != Role::Student {
        opened
            .store
            .log_read(
                &opened.sl,
                id,
                &session.user.name,
                "八维画像与积分流水（网页）",
            )
            .await
            .map_err(failed)?;
    }
    let today = now_local().day;
    let (span, span_name) = year_span(ledger, today);
    let profile = aggregate::profile(ledger, id, &span).ok_or(WebError::NotFound)?;
    let (width, values, _) = aggregate::student_matrix(ledger, Measure::Competency, &span);
    let row = &values[(id as usize - 1) * width..id as usize * width];
    let competencies: Vec<Value> = ledger
        .catalog
        .competencies
        .iter()
        .zip(row)
        .filter(|(_, v)| **v != 0)
        .map(|(c, v)| json!({ "name": c.name, "points": v }))
        .collect();
    let totals = aggregate::student_totals(ledger, &span);
    let class_rank = aggregate::rank(ledger, Group::Class, &totals)
        .into_iter()
        .find(|r| r.student == id);
    let history: Vec<Value> = opened
        .store
        .history(&opened.sl, id, SHOWN)
        .await
        .map_err(failed)?
        .into_iter()
        .map(|e| {
            json!({
                "at": e.at.get(..16).unwrap_or(&e.at),
                "observation": e.observation_name,
                "value": e.value,
                "recorder": e.recorder,
                "role": e.role,
                "reason": e.reason,
                "reversal": e.reverses.is_some(),
            })
        })
        .collect();
    let mut context = points_frame(&session, &opened, &code);
    context.insert(
        "student".into(),
        json!({ "number": me.number, "name": me.name, "class": me.class, "major": me.major }),
    );
    context.insert("span".into(), json!(span_name));
    context.insert("total".into(), json!(profile.total));
    context.insert("events".into(), json!(profile.events));
    context.insert(
        "rank".into(),
        json!(class_rank.map(
            |r| json!({ "rank": r.rank, "of": r.of, "percentile": format!("{:.0}", r.percentile) })
        )),
    );
    context.insert(
        "dimensions".into(),
        json!(
            profile
                .dimensions
                .iter()
                .map(|d| json!({ "name": d.dimension, "score": d.score, "class_average": format!("{:.1}", d.class_average) }))
                .collect::<Vec<_>>()
        ),
    );
    context.insert("competencies".into(), Value::Array(competencies));
    context.insert("radar".into(), json!(aggregate::radar_svg(&profile)));
    context.insert("history".into(), Value::Array(history));
    context.insert("logged".into(), json!(session.user.role != Role::Student));
    Ok(state
        .render("points_student.html", context)?
        .into_response())
}

/// `GET /schools/{code}/points/classes/{class}`: the class ranked by this school year's
/// total, with percentiles.
pub async fn class(
    State(state): State<AppState>,
    session: Session,
    Path((code, class)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    if !access::can_read_class(&session.user, &opened.scope.classes, &class) {
        return Err(WebError::Forbidden);
    }
    let ledger = &opened.sl.ledger;
    let (span, span_name) = year_span(ledger, now_local().day);
    let totals = aggregate::student_totals(ledger, &span);
    let mut ranked: Vec<_> = aggregate::rank(ledger, Group::Class, &totals)
        .into_iter()
        .filter(|r| r.scope == class)
        .collect();
    if ranked.is_empty() {
        return Err(WebError::NotFound);
    }
    ranked.sort_by_key(|r| (r.rank, r.student));
    let rows: Vec<Value> = ranked
        .iter()
        .filter_map(|r| {
            let s = ledger.roster.student(r.student)?;
            Some(json!({
                "number": s.number,
                "name": s.name,
                "score": r.score,
                "rank": r.rank,
                "percentile": format!("{:.0}", r.percentile),
            }))
        })
        .collect();
    let mut context = points_frame(&session, &opened, &code);
    context.insert("class".into(), json!(class));
    context.insert("span".into(), json!(span_name));
    context.insert("rows".into(), Value::Array(rows));
    Ok(state.render("points_class.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct ReverseForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /schools/{code}/points/events/{id}/reverse`: reverses one of the user's own events
/// of the current term, with a reason.
pub async fn reverse(
    State(state): State<AppState>,
    session: Session,
    Path((code, event_id)): Path<(String, String)>,
    Form(form): Form<ReverseForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let mut opened = open(&state, &session, &code).await?;
    if !session.user.role.needs_classes() {
        return Err(WebError::Forbidden);
    }
    let own = opened
        .store
        .recorded_by(&opened.sl, &session.user.name, i64::MAX)
        .await
        .map_err(failed)?;
    // Only one's own events: another's id is refused as if it did not exist for the user.
    let Some(target) = own.into_iter().find(|e| e.event.event_id == event_id) else {
        return Err(WebError::Forbidden);
    };
    let back = |problem: &str| -> Result<Response, WebError> {
        Ok(Redirect::to(&format!(
            "/schools/{code}/points/mine?problem={}",
            percent_encode(problem)
        ))
        .into_response())
    };
    let reason = form.reason.trim();
    if reason.is_empty() {
        return back("冲销须填写原因");
    }
    if reason.chars().count() > MAX_NOTE_CHARS {
        return back(&format!("冲销原因最多 {MAX_NOTE_CHARS} 个字"));
    }
    if target.event.reverses.is_some() {
        return back("这是一条冲销记录，不能再冲销");
    }
    if target.reversed {
        return back("这条记录已经冲销过");
    }
    let at = now_local();
    let ledger = &opened.sl.ledger;
    if target.period.is_none() || target.period != ledger.period_of(at.day) {
        return back("只能冲销本学期内记录的积分；往期记录请联系质量办");
    }
    let row = NewEvent {
        row: 1,
        event_id: format!("web-{}", &random_token()[..20]),
        student: target.student.clone(),
        observation: String::new(),
        value: None,
        recorder: session.user.name.clone(),
        role: session.user.role.label().to_string(),
        at,
        reason: reason.to_string(),
        evidence: None,
        reverses: Some(event_id.clone()),
    };
    let Opened { store, sl, .. } = &mut opened;
    match store
        .append(sl, "网页冲销", &[row], &session.user.name)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/schools/{code}/points/mine?done=1")).into_response()),
        Err(PointsError::Rejected(r)) => back(
            &r.errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("；"),
        ),
        Err(e) => Err(failed(e)),
    }
}

#[derive(Deserialize, Default)]
pub struct RankingQuery {
    by: Option<String>,
    /// `csv` downloads the table instead of showing it.
    format: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    /// `csv` downloads the lists instead of showing them.
    format: Option<String>,
}

/// A CSV download of a list of the ledger, opening with who exported it and when (Beijing
/// time), the school and the span; the export is logged with the same person and time.
/// The file starts with a byte-order mark so that Excel reads it as UTF-8.
async fn csv_export(
    opened: &Opened,
    session: &Session,
    what: &str,
    span: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Response, WebError> {
    let at = opened
        .store
        .log_export(&opened.sl, &session.user.name, what, rows.len())
        .await
        .map_err(failed)?;
    let shown = nianbao_core::clock::beijing_time(&at);
    let mut out = String::from("\u{feff}");
    let mut line = |cells: &[&str]| {
        let cells: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(&["导出人", &session.user.name, "导出时间（北京时间）", &shown]);
    line(&["学校", &opened.sl.name, "时段", span]);
    line(&[]);
    line(header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&cells);
    }
    let file = format!(
        "{}-{what}-{}.csv",
        opened.sl.code,
        shown.replace([' ', ':'], "")
    );
    Ok(crate::download::attachment(
        &file,
        "text/csv; charset=utf-8",
        out.into_bytes(),
    ))
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `=`, `+`,
/// `-` or `@` is kept from being read as a formula by a leading apostrophe.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '@'])
        || (text.starts_with('-') && text.parse::<f64>().is_err())
    {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// `GET /schools/{code}/points/rankings`: the quality office's ranking of classes, majors
/// or departments by points per student this school year, each with its percentile among
/// its peers.
pub async fn rankings(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<RankingQuery>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    if !access::can_run_points(&session.user) {
        return Err(WebError::Forbidden);
    }
    let group = match query.by.as_deref().unwrap_or("class") {
        "class" => Group::Class,
        "major" => Group::Major,
        "department" => Group::Department,
        other => {
            return Err(WebError::BadRequest(format!(
                "没有「{other}」这种排名方式，应为 class（班级）、major（专业）或 department（专业部）"
            )));
        }
    };
    let ledger = &opened.sl.ledger;
    let (span, span_name) = year_span(ledger, now_local().day);
    let table = aggregate::breakdown(ledger, group, Measure::Total, &span);
    let mut rows: Vec<_> = table
        .rows
        .iter()
        .map(|r| (r, r.total as f64 / r.students.max(1) as f64))
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.group.cmp(&b.0.group)));
    let n = rows.len();
    let mut rank = 0;
    let shown: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (r, average))| {
            if i == 0 || rows[i - 1].1 != *average {
                rank = i + 1;
            }
            let below = rows.iter().filter(|(_, a)| a < average).count();
            json!({
                "group": r.group,
                "students": r.students,
                "events": r.events,
                "total": r.total,
                "average": format!("{average:.1}"),
                "rank": rank,
                "percentile": format!("{:.0}", 100.0 * below as f64 / n.max(1) as f64),
                "link": group == Group::Class,
            })
        })
        .collect();
    if query.format.as_deref() == Some("csv") {
        let rows = shown
            .iter()
            .map(|r| {
                [
                    "rank",
                    "group",
                    "students",
                    "events",
                    "total",
                    "average",
                    "percentile",
                ]
                .iter()
                .map(|k| match &r[*k] {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect()
            })
            .collect();
        let what = format!("{}排名", group.label());
        let group_label = group.label();
        return csv_export(
            &opened,
            &session,
            &what,
            &span_name,
            &[
                "名次",
                group_label,
                "人数",
                "记录",
                "总分",
                "人均",
                "百分位（%）",
            ],
            rows,
        )
        .await;
    }
    let mut context = points_frame(&session, &opened, &code);
    context.insert("by".into(), json!(query.by.as_deref().unwrap_or("class")));
    context.insert("group".into(), json!(group.label()));
    context.insert("span".into(), json!(span_name));
    context.insert("rows".into(), Value::Array(shown));
    Ok(state
        .render("points_rankings.html", context)?
        .into_response())
}

/// Students shown per award list; the command line gives the whole list.
const LISTED: usize = 200;

/// `GET /schools/{code}/points/awards`: the award and recommendation lists of this school
/// year by the school's rules, each student with the reasons they qualify.
pub async fn award_lists(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let opened = open(&state, &session, &code).await?;
    if !access::can_run_points(&session.user) {
        return Err(WebError::Forbidden);
    }
    let ledger = &opened.sl.ledger;
    let (span, span_name, year) = school_year_span(ledger, now_local().day);
    if query.format.as_deref() == Some("csv") {
        let mut rows = Vec::new();
        if let Some(year) = year {
            for rule in &RulesFile::sample().rules {
                let list = awards::evaluate(ledger, rule, &span, year, &span_name);
                if list.listed.is_empty() {
                    rows.push(vec![
                        list.name.clone(),
                        list.kind.clone(),
                        String::new(),
                        list.considered.to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        "无人入选".into(),
                    ]);
                }
                for l in &list.listed {
                    rows.push(vec![
                        list.name.clone(),
                        list.kind.clone(),
                        l.rank.to_string(),
                        l.of.to_string(),
                        l.number.clone(),
                        l.name.clone(),
                        l.class.clone(),
                        l.score.to_string(),
                        l.reasons.join("；"),
                    ]);
                }
            }
        }
        return csv_export(
            &opened,
            &session,
            "评优与推荐名单",
            &span_name,
            &[
                "名单",
                "类别",
                "名次",
                "参评人数",
                "学号",
                "姓名",
                "班级",
                "积分",
                "理由",
            ],
            rows,
        )
        .await;
    }
    let lists: Vec<Value> = match year {
        None => Vec::new(),
        Some(year) => RulesFile::sample()
            .rules
            .iter()
            .map(|rule| {
                let list = awards::evaluate(ledger, rule, &span, year, &span_name);
                json!({
                    "name": list.name,
                    "kind": list.kind,
                    "considered": list.considered,
                    "count": list.listed.len(),
                    "more": list.listed.len().saturating_sub(LISTED),
                    "listed": list.listed.iter().take(LISTED).map(|l| json!({
                        "number": l.number,
                        "name": l.name,
                        "class": l.class,
                        "score": l.score,
                        "rank": l.rank,
                        "of": l.of,
                        "reasons": l.reasons,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    };
    let mut context = points_frame(&session, &opened, &code);
    context.insert("span".into(), json!(span_name));
    context.insert("lists".into(), Value::Array(lists));
    Ok(state.render("points_awards.html", context)?.into_response())
}

#[derive(Deserialize)]
pub struct CloseForm {
    csrf: String,
}

/// `POST /schools/{code}/points/terms/{term}/close`: the quality office closes a term; no
/// event can be recorded or reversed in it afterwards.
pub async fn close_term(
    State(state): State<AppState>,
    session: Session,
    Path((code, term)): Path<(String, String)>,
    Form(form): Form<CloseForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let opened = open(&state, &session, &code).await?;
    if !access::can_run_points(&session.user) {
        return Err(WebError::Forbidden);
    }
    if !opened.sl.ledger.periods.iter().any(|p| p.code == term) {
        return Err(WebError::NotFound);
    }
    match opened
        .store
        .close(&code, Some(&term), None, &session.user.name)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!(
            "/schools/{code}/points?closed={}",
            percent_encode(&term)
        ))
        .into_response()),
        Err(PointsError::Invalid(message)) => {
            home_page(&state, &session, &opened, &code, None, vec![message])
        }
        Err(e) => Err(failed(e)),
    }
}
