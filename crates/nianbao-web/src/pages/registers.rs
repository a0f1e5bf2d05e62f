//! The pages of the school's registers: an overview of the four, and for training bases
//! (实训), social training (培训) and courses (课程) a page each with the year's figures,
//! their lists, an import form and exports; a course's quality loop as a timeline, where
//! an improvement action is closed with its evidence. Everyone who reads the school reads
//! these; the quality office, and a department assigned the register's report section,
//! import. (The psychological archive has its own module.)

use std::collections::BTreeMap;

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use nianbao_core::number::grouped;
use nianbao_core::{Dataset, Role, Year, run_checks};
use nianbao_store::{StoreError, User};
use nianbao_systems::bases::BasesKind;
use nianbao_systems::courses::CoursesKind;
use nianbao_systems::table::{Sheet, read_file};
use nianbao_systems::training::TrainingKind;
use nianbao_systems::{Day, ImportErrors, Mode, System, Vocabulary};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{frame, readable_school};
use crate::auth::Session;
use crate::{AppState, WebError};

/// The report section whose owner (a department) may import a register besides the
/// quality office.
fn section_of(system: System) -> &'static str {
    match system {
        System::Bases => "2.6",
        System::Training => "3.1",
        System::Courses => "2.3",
        System::Psych => "2.1",
    }
}

fn page_path(system: System) -> &'static str {
    match system {
        System::Bases => "bases",
        System::Training => "training",
        System::Courses => "courses",
        System::Psych => "psych",
    }
}

/// Importing into a register: the quality office, or the department its section is
/// assigned to. Never the archive, which only a counsellor keeps.
pub fn can_import(user: &User, system: System, owner: Option<&str>) -> bool {
    match (user.role, system) {
        (_, System::Psych) => false,
        (Role::Quality, _) => true,
        (Role::Department, _) => user.department.is_some() && user.department.as_deref() == owner,
        _ => false,
    }
}

async fn may_import(
    state: &AppState,
    session: &Session,
    code: &str,
    system: System,
) -> Result<bool, WebError> {
    let owners = state.store().section_owners(code).await?;
    Ok(can_import(
        &session.user,
        system,
        owners.get(section_of(system)).map(String::as_str),
    ))
}

/// A figure as shown: grouped digits, `decimals` places; "—" when there is none.
fn shown(data: &Dataset, year: Year, code: &str, decimals: u32) -> String {
    data.value(year, code)
        .map_or("—".into(), |v| grouped(v, decimals))
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    year: Option<i64>,
    /// What the last import did, shown once after the redirect.
    imported: Option<String>,
}

fn pick_year(data: &Dataset, asked: Option<i64>) -> Year {
    asked
        .and_then(|y| Year::new(y).ok())
        .unwrap_or(data.school.report_year)
}

/// The years a register page offers: the dataset's, newest first.
fn years(data: &Dataset) -> Vec<u16> {
    let mut years: Vec<u16> = data.years().iter().map(|y| y.get()).collect();
    years.reverse();
    years
}

/// The findings of the checks that compare a typed figure with this register's.
fn register_findings(data: &Dataset, state: &AppState, system: System) -> Vec<Value> {
    let definitions = state.definitions();
    run_checks(definitions, data)
        .into_iter()
        .filter(|f| {
            definitions
                .rules
                .rules
                .iter()
                .find(|r| r.id == f.rule)
                .is_some_and(|r| {
                    let left = r.condition.left.elements();
                    let right = r.condition.right.elements();
                    left.iter().chain(right.iter()).any(|code| {
                        definitions
                            .elements
                            .get(code)
                            .and_then(|e| e.register.as_deref())
                            == Some(system.code())
                    })
                })
        })
        .map(|f| json!({ "label": f.severity.label(), "severity": format!("{:?}", f.severity).to_lowercase(), "message": f.message }))
        .collect()
}

/// A headline figure of a register page: label, element code, decimals shown, unit.
type Figure = (&'static str, &'static str, u32, &'static str);

/// The part every register page shares: the frame, the year and its neighbours, the
/// register's name and kinds of upload, whether this user may import, and its figures.
async fn register_context(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    year: Year,
    system: System,
    kinds: impl Iterator<Item = (&'static str, &'static str)>,
    figures: &[Figure],
) -> Result<Map<String, Value>, WebError> {
    let can_import = may_import(state, session, &data.school.code, system).await?;
    let mut context = frame(session, Some(data));
    context.insert("year".into(), json!(year.get()));
    context.insert("years".into(), json!(years(data)));
    context.insert("system".into(), json!(system.label()));
    context.insert("path".into(), json!(page_path(system)));
    context.insert("can_import".into(), json!(can_import));
    let kinds: Vec<Value> = kinds
        .map(|(code, label)| json!({"code": code, "label": label}))
        .collect();
    context.insert("kinds".into(), json!(kinds));
    let figures: Vec<Value> = figures
        .iter()
        .map(|(label, element, decimals, unit)| {
            json!({"label": label, "value": shown(data, year, element, *decimals), "unit": unit})
        })
        .collect();
    context.insert("figures".into(), json!(figures));
    Ok(context)
}

/// `/schools/{code}/registers`: the four registers and their headline figures.
pub async fn overview(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let year = data.school.report_year;
    let card = |system: System, figures: &[(&str, &str, u32)]| {
        json!({
            "title": system.label(),
            "path": page_path(system),
            "section": section_of(system),
            "figures": figures.iter().map(|(label, element, decimals)| json!({
                "label": label,
                "value": shown(&data, year, element, *decimals),
            })).collect::<Vec<_>>(),
        })
    };
    let cards = vec![
        card(
            System::Bases,
            &[
                ("实训基地（个）", "register.bases.total", 0),
                ("设备总值（万元）", "register.equipment.value_total", 2),
                ("平均利用率（%）", "register.usage.utilisation", 1),
                (
                    "校外人员（人次）",
                    "register.usage.external_person_times",
                    0,
                ),
            ],
        ),
        card(
            System::Training,
            &[
                ("培训班（期）", "register.training.classes", 0),
                ("培训（人次）", "register.training.trainees", 0),
                ("技能等级认定（人次）", "register.training.assessed", 0),
            ],
        ),
        card(
            System::Psych,
            &[
                ("心理筛查（人次）", "register.psych.screenings", 0),
                (
                    "一对一辅导（人次）",
                    "register.psych.individual_sessions",
                    0,
                ),
                ("心理讲座（场）", "register.psych.lectures", 0),
            ],
        ),
        card(
            System::Courses,
            &[
                ("课程（门）", "register.courses.total", 0),
                ("在线课程（门）", "register.courses.online", 0),
                ("门均选课（人）", "register.courses.students_per_course", 0),
                ("已完成改进措施（项）", "register.courses.actions_closed", 0),
            ],
        ),
    ];
    let mut context = frame(&session, Some(&data));
    context.insert("year".into(), json!(year.get()));
    context.insert("cards".into(), json!(cards));
    Ok(state.render("registers.html", context)?.into_response())
}

/// `/schools/{code}/bases`: bases with their use, equipment, usage of the year.
pub async fn bases(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let page = bases_page(&state, &session, &data, &query, None).await?;
    Ok(page.into_response())
}

const SHOWN_ROWS: usize = 300;

async fn bases_page(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    query: &YearQuery,
    problem: Option<(String, Vec<String>)>,
) -> Result<Response, WebError> {
    let code = &data.school.code;
    let year = pick_year(data, query.year);
    let register = state.store().bases_register(code).await?;
    let use_ = register.utilisation(i32::from(year.get()));
    let figures: &[Figure] = &[
        ("实训基地", "register.bases.total", 0, "个"),
        ("在用设备", "register.equipment.count", 0, "台套"),
        ("设备总值", "register.equipment.value_total", 2, "万元"),
        ("生均设备值", "register.equipment.per_student", 2, "元"),
        (
            "本年新增设备",
            "register.equipment.acquired_value",
            2,
            "万元",
        ),
        ("实训使用", "register.usage.hours", 1, "学时"),
        ("平均利用率", "register.usage.utilisation", 1, "%"),
        (
            "校外人员",
            "register.usage.external_person_times",
            0,
            "人次",
        ),
    ];
    let kinds = BasesKind::ALL.iter().map(|k| (k.code(), k.label()));
    let mut context =
        register_context(state, session, data, year, System::Bases, kinds, figures).await?;
    let bases: Vec<Value> = register
        .bases
        .iter()
        .map(|b| {
            let used = use_.bases.iter().find(|u| u.code == b.code);
            json!({
                "code": b.code, "name": b.name, "level": b.level,
                "majors": b.majors.join("、"),
                "area": b.area.map(|a| grouped(a, 0)),
                "stations": b.stations,
                "available": grouped(b.available_hours, 0),
                "used": used.map(|u| grouped(u.used_hours, 1)),
                "percent": used.and_then(|u| u.percent).map(|p| grouped(p, 1)),
                "bar": used.and_then(|u| u.percent).map(|p| p.clamp(0.0, 100.0).round()),
            })
        })
        .collect();
    context.insert("bases".into(), json!(bases));
    let mut by_status: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for item in &register.equipment {
        let entry = by_status.entry(item.status.as_str()).or_default();
        entry.0 += 1;
        entry.1 += item.value;
    }
    context.insert(
        "statuses".into(),
        json!(
            by_status
                .iter()
                .map(|(status, (n, value))| json!({"status": status, "count": n, "value": grouped(value / 10_000.0, 2)}))
                .collect::<Vec<_>>()
        ),
    );
    let items: Vec<Value> = register
        .equipment
        .iter()
        .take(SHOWN_ROWS)
        .map(|e| {
            let used = use_.items.iter().find(|u| u.code == e.asset_no);
            json!({
                "asset_no": e.asset_no, "name": e.name, "value": grouped(e.value, 2),
                "base": e.base, "acquired": e.acquired.to_string(), "status": e.status,
                "percent": used.and_then(|u| u.percent).map(|p| grouped(p, 1)),
            })
        })
        .collect();
    context.insert("equipment".into(), json!(items));
    context.insert("equipment_total".into(), json!(register.equipment.len()));
    let usage: Vec<Value> = register
        .usage
        .iter()
        .filter(|u| u.day.year() == i32::from(year.get()))
        .rev()
        .take(SHOWN_ROWS)
        .map(|u| {
            json!({
                "record_no": u.record_no, "day": u.day.to_string(), "base": u.base,
                "asset_no": u.asset_no, "user": u.user, "user_kind": u.user_kind,
                "hours": grouped(u.hours, 1), "people": u.people, "purpose": u.purpose,
            })
        })
        .collect();
    context.insert("usage".into(), json!(usage));
    context.insert(
        "findings".into(),
        json!(register_findings(data, state, System::Bases)),
    );
    finish(state, context, "bases.html", query, problem)
}

fn finish(
    state: &AppState,
    mut context: Map<String, Value>,
    template: &str,
    query: &YearQuery,
    problem: Option<(String, Vec<String>)>,
) -> Result<Response, WebError> {
    if let Some(imported) = &query.imported {
        context.insert("notice".into(), json!(format!("已导入：{imported}")));
    }
    let status = match problem {
        Some((message, rows)) => {
            context.insert("problem".into(), json!(message));
            context.insert("problem_rows".into(), json!(rows));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    };
    Ok((status, state.render(template, context)?).into_response())
}

/// `/schools/{code}/training`: classes and certification of the year.
pub async fn training(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    training_page(&state, &session, &data, &query, None).await
}

async fn training_page(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    query: &YearQuery,
    problem: Option<(String, Vec<String>)>,
) -> Result<Response, WebError> {
    let code = &data.school.code;
    let vocabulary = state.vocabulary()?;
    let year = pick_year(data, query.year);
    let y = i32::from(year.get());
    let register = state.store().training_register(code).await?;
    let figures: &[Figure] = &[
        ("培训班", "register.training.classes", 0, "期"),
        ("培训", "register.training.trainees", 0, "人次"),
        ("人学时", "register.training.trainee_hours", 0, "人学时"),
        ("乡村振兴培训", "register.training.rural_trainees", 0, "人"),
        ("技能等级认定", "register.training.assessed", 0, "人次"),
        ("取得证书", "register.training.certified", 0, "人"),
    ];
    let kinds = TrainingKind::ALL.iter().map(|k| (k.code(), k.label()));
    let mut context =
        register_context(state, session, data, year, System::Training, kinds, figures).await?;
    context.insert(
        "audiences".into(),
        json!(register.by_audience(y, &vocabulary.training)),
    );
    context.insert("occupations".into(), json!(register.by_occupation(y)));
    let classes: Vec<Value> = register
        .classes
        .iter()
        .filter(|c| c.end.year() == y)
        .map(|c| {
            json!({
                "code": c.code, "title": c.title, "audience": c.audience,
                "start": c.start.to_string(), "end": c.end.to_string(),
                "hours": grouped(c.hours, 1), "trainees": c.trainees,
                "place": c.place, "funder": c.funder,
            })
        })
        .collect();
    context.insert("classes".into(), json!(classes));
    context.insert(
        "findings".into(),
        json!(register_findings(data, state, System::Training)),
    );
    finish(state, context, "training.html", query, problem)
}

/// `/schools/{code}/courses`: the courses and where their loops stand.
pub async fn courses(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    Query(query): Query<YearQuery>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    courses_page(&state, &session, &data, &query, None).await
}

async fn courses_page(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    query: &YearQuery,
    problem: Option<(String, Vec<String>)>,
) -> Result<Response, WebError> {
    let code = &data.school.code;
    let vocabulary = state.vocabulary()?;
    let year = pick_year(data, query.year);
    let register = state.store().courses_register(code).await?;
    let figures: &[Figure] = &[
        ("课程", "register.courses.total", 0, "门"),
        ("在线课程", "register.courses.online", 0, "门"),
        (
            "国家平台上线",
            "register.courses.national_platform",
            0,
            "门",
        ),
        ("课程总学时", "register.courses.hours", 0, "学时"),
        ("门均选课", "register.courses.students_per_course", 0, "人"),
        ("学生评教", "register.courses.score.student", 1, "分"),
        ("应完成改进措施", "register.courses.actions_due", 0, "项"),
        ("已完成改进措施", "register.courses.actions_closed", 0, "项"),
    ];
    let kinds = CoursesKind::ALL.iter().map(|k| (k.code(), k.label()));
    let mut context =
        register_context(state, session, data, year, System::Courses, kinds, figures).await?;
    context.insert(
        "courses".into(),
        json!(register.summaries(&vocabulary.courses, Day::today())),
    );
    finish(state, context, "courses.html", query, problem)
}

/// `/schools/{code}/courses/{course}`: one course's loop as a timeline.
pub async fn course(
    State(state): State<AppState>,
    session: Session,
    Path((code, course)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    course_page(&state, &session, &data, &course, None).await
}

async fn course_page(
    state: &AppState,
    session: &Session,
    data: &Dataset,
    course: &str,
    problem: Option<String>,
) -> Result<Response, WebError> {
    let code = &data.school.code;
    let vocabulary = state.vocabulary()?;
    let register = state.store().courses_register(code).await?;
    let today = Day::today();
    let Some(steps) = register.timeline(course, &vocabulary.courses, today) else {
        return Err(WebError::NotFound);
    };
    let Some(info) = register.courses.iter().find(|c| c.code == course) else {
        return Err(WebError::NotFound);
    };
    let mut context = frame(session, Some(data));
    context.insert(
        "course".into(),
        json!({
            "code": info.code, "name": info.name, "level": info.level,
            "platform": info.platform, "hours": grouped(info.hours, 0),
            "owner": info.owner, "major": info.major,
        }),
    );
    context.insert(
        "steps".into(),
        json!(
            steps
                .iter()
                .map(|s| json!({
                    "when": s.when, "stage": s.stage.label(), "stage_code": s.stage.code(),
                    "text": s.text,
                    "flag": s.flag.map(|f| json!({"label": f.label(), "code": f.code()})),
                }))
                .collect::<Vec<_>>()
        ),
    );
    let open: Vec<Value> = register
        .actions
        .iter()
        .filter(|a| a.course == course && a.status != vocabulary.courses.closed_status)
        .map(|a| {
            json!({
                "code": a.code, "text": a.text, "owner": a.owner,
                "due": a.due.to_string(), "status": a.status, "overdue": a.due < today,
            })
        })
        .collect();
    context.insert("open_actions".into(), json!(open));
    context.insert("today".into(), json!(today.to_string()));
    context.insert(
        "can_import".into(),
        json!(may_import(state, session, code, System::Courses).await?),
    );
    let status = match problem {
        Some(problem) => {
            context.insert("problem".into(), json!(problem));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    };
    Ok((status, state.render("course.html", context)?).into_response())
}

#[derive(Deserialize)]
pub struct CloseForm {
    csrf: String,
    evidence: String,
    #[serde(default)]
    date: String,
}

/// Closes an improvement action with its evidence (refused without).
pub async fn close_action(
    State(state): State<AppState>,
    session: Session,
    Path((code, action)): Path<(String, String)>,
    Form(form): Form<CloseForm>,
) -> Result<Response, WebError> {
    session.check_csrf(&form.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !may_import(&state, &session, &code, System::Courses).await? {
        return Err(WebError::Forbidden);
    }
    let vocabulary = state.vocabulary()?;
    let register = state.store().courses_register(&code).await?;
    let Some(course) = register
        .actions
        .iter()
        .find(|a| a.code == action)
        .map(|a| a.course.clone())
    else {
        return Err(WebError::NotFound);
    };
    let day = if form.date.trim().is_empty() {
        Day::today()
    } else {
        match Day::parse(&form.date) {
            Some(day) => day,
            None => {
                let problem = format!("完成日期「{}」无效，应写作 2025-12-01", form.date.trim());
                return course_page(&state, &session, &data, &course, Some(problem)).await;
            }
        }
    };
    match state
        .store()
        .close_course_action(
            &code,
            &action,
            &form.evidence,
            day,
            vocabulary,
            &session.user.name,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/schools/{code}/courses/{}",
            path_segment(&course)
        ))
        .into_response()),
        Err(StoreError::Refused(problem)) => {
            course_page(&state, &session, &data, &course, Some(problem)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A value put into one URL path segment.
fn path_segment(text: &str) -> String {
    crate::download::percent_encode(text)
}

/// The fields of an import form.
pub(crate) struct Upload {
    pub csrf: String,
    pub kind: String,
    pub replace: bool,
    pub reason: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Reads an import form: its fields and one file.
pub(crate) async fn read_upload(
    state: &AppState,
    mut multipart: Multipart,
) -> Result<Upload, WebError> {
    let too_big = |_| {
        WebError::BadRequest(format!(
            "上传的文件过大或不完整：不应超过 {} MB",
            state.max_upload_bytes() / (1024 * 1024)
        ))
    };
    let mut upload = Upload {
        csrf: String::new(),
        kind: String::new(),
        replace: false,
        reason: String::new(),
        file_name: String::new(),
        bytes: Vec::new(),
    };
    while let Some(field) = multipart.next_field().await.map_err(too_big)? {
        match field.name() {
            Some("csrf") => upload.csrf = field.text().await.map_err(too_big)?,
            Some("kind") => upload.kind = field.text().await.map_err(too_big)?,
            Some("replace") => upload.replace = field.text().await.map_err(too_big)? == "on",
            Some("reason") => upload.reason = field.text().await.map_err(too_big)?,
            Some("detail") => {
                let detail = field.text().await.map_err(too_big)?;
                if !detail.trim().is_empty() {
                    upload.reason = format!("{}：{}", upload.reason.trim(), detail.trim());
                }
            }
            Some("file") => {
                upload.file_name = field.file_name().unwrap_or("").to_string();
                upload.bytes = field.bytes().await.map_err(too_big)?.to_vec();
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// Reads the uploaded file as a table of one kind, or says why not.
pub(crate) fn upload_table(
    state: &AppState,
    upload: &Upload,
    sheet: &str,
    columns: &nianbao_systems::table::Columns,
) -> Result<nianbao_systems::table::Table, ImportErrors> {
    let name = if upload.file_name.is_empty() {
        "上传的文件".to_string()
    } else {
        upload.file_name.clone()
    };
    if upload.bytes.is_empty() {
        return Err(ImportErrors::one(nianbao_systems::ImportError::file(
            name,
            "请选择要导入的文件（.csv 或 .xlsx）",
        )));
    }
    let limits = nianbao_xlsx::Limits {
        max_upload_bytes: state.max_upload_bytes(),
        ..nianbao_xlsx::Limits::default()
    };
    read_file(&name, &upload.bytes, sheet, columns, &limits)
}

/// The message and rows of a refused import.
pub(crate) fn refusal(errors: &ImportErrors) -> (String, Vec<String>) {
    let mut rows: Vec<String> = errors.list.iter().map(ToString::to_string).collect();
    if errors.more > 0 {
        rows.push(format!("……另有 {} 处未列出", errors.more));
    }
    (
        format!(
            "导入未完成，数据库未作任何修改。共 {} 处问题：",
            errors.len()
        ),
        rows,
    )
}

/// What a store error means for an import: the refused rows, or a failure.
fn import_outcome(
    result: Result<nianbao_systems::ImportSummary, StoreError>,
) -> Result<Result<String, (String, Vec<String>)>, WebError> {
    match result {
        Ok(summary) => Ok(Ok(summary.to_string())),
        Err(StoreError::Import(errors)) => Ok(Err(refusal(&errors))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /schools/{code}/bases/import`.
pub async fn import_bases(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    import(state, session, code, System::Bases, multipart).await
}

/// `POST /schools/{code}/training/import`.
pub async fn import_training(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    import(state, session, code, System::Training, multipart).await
}

/// `POST /schools/{code}/courses/import`.
pub async fn import_courses(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, WebError> {
    import(state, session, code, System::Courses, multipart).await
}

/// Imports one list into one of the three registers of this module.
async fn import(
    state: AppState,
    session: Session,
    code: String,
    system: System,
    multipart: Multipart,
) -> Result<Response, WebError> {
    let upload = read_upload(&state, multipart).await?;
    session.check_csrf(&upload.csrf)?;
    let data = readable_school(&state, &session, &code).await?;
    if !may_import(&state, &session, &code, system).await? {
        return Err(WebError::Forbidden);
    }
    let vocabulary: &Vocabulary = state.vocabulary()?;
    let mode = if upload.replace {
        Mode::Replace
    } else {
        Mode::Upsert
    };
    let actor = session.user.name.as_str();
    let store = state.store();
    let unknown = || WebError::BadRequest(format!("「{}」不是本系统的表", upload.kind));
    let outcome = match system {
        System::Bases => {
            let kind = BasesKind::from_code(&upload.kind).ok_or_else(unknown)?;
            match upload_table(&state, &upload, kind.label(), kind.columns())
                .and_then(|t| nianbao_systems::bases::read(kind, &t, &vocabulary.bases))
            {
                Ok(import) => import_outcome(
                    store
                        .import_bases(&code, import, mode, vocabulary, actor)
                        .await,
                )?,
                Err(errors) => Err(refusal(&errors)),
            }
        }
        System::Training => {
            let kind = TrainingKind::from_code(&upload.kind).ok_or_else(unknown)?;
            match upload_table(&state, &upload, kind.label(), kind.columns())
                .and_then(|t| nianbao_systems::training::read(kind, &t, &vocabulary.training))
            {
                Ok(import) => import_outcome(
                    store
                        .import_training(&code, import, mode, vocabulary, actor)
                        .await,
                )?,
                Err(errors) => Err(refusal(&errors)),
            }
        }
        System::Courses => {
            let kind = CoursesKind::from_code(&upload.kind).ok_or_else(unknown)?;
            match upload_table(&state, &upload, kind.label(), kind.columns())
                .and_then(|t| nianbao_systems::courses::read(kind, &t, &vocabulary.courses))
            {
                Ok(import) => import_outcome(
                    store
                        .import_courses(&code, import, mode, vocabulary, actor)
                        .await,
                )?,
                Err(errors) => Err(refusal(&errors)),
            }
        }
        System::Psych => return Err(WebError::NotFound),
    };
    match outcome {
        Ok(summary) => Ok(Redirect::to(&format!(
            "/schools/{code}/{}?imported={}",
            page_path(system),
            path_segment(&summary)
        ))
        .into_response()),
        Err(problem) => {
            let query = YearQuery::default();
            match system {
                System::Bases => bases_page(&state, &session, &data, &query, Some(problem)).await,
                System::Training => {
                    training_page(&state, &session, &data, &query, Some(problem)).await
                }
                _ => courses_page(&state, &session, &data, &query, Some(problem)).await,
            }
        }
    }
}

/// A sheet as an Excel download, named after the school (its Chinese name) and the sheet.
pub(crate) fn download(school: &str, sheet: &Sheet) -> Result<Response, WebError> {
    let bytes = sheet
        .to_xlsx()
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let file = format!("{school}-{}.xlsx", sheet.name);
    Ok(crate::download::attachment(
        &file,
        crate::download::XLSX,
        bytes,
    ))
}

/// `GET /schools/{code}/bases/export/{kind}`: one list as Excel, also the template to fill
/// in when the register is empty.
pub async fn export_bases(
    State(state): State<AppState>,
    session: Session,
    Path((code, kind)): Path<(String, String)>,
) -> Result<Response, WebError> {
    export(state, session, code, System::Bases, kind).await
}

/// `GET /schools/{code}/training/export/{kind}`.
pub async fn export_training(
    State(state): State<AppState>,
    session: Session,
    Path((code, kind)): Path<(String, String)>,
) -> Result<Response, WebError> {
    export(state, session, code, System::Training, kind).await
}

/// `GET /schools/{code}/courses/export/{kind}`.
pub async fn export_courses(
    State(state): State<AppState>,
    session: Session,
    Path((code, kind)): Path<(String, String)>,
) -> Result<Response, WebError> {
    export(state, session, code, System::Courses, kind).await
}

async fn export(
    state: AppState,
    session: Session,
    code: String,
    system: System,
    kind: String,
) -> Result<Response, WebError> {
    let data = readable_school(&state, &session, &code).await?;
    let store = state.store();
    let sheet = match system {
        System::Bases => {
            let kind = BasesKind::from_code(&kind).ok_or(WebError::NotFound)?;
            store.bases_register(&code).await?.sheet(kind)
        }
        System::Training => {
            let kind = TrainingKind::from_code(&kind).ok_or(WebError::NotFound)?;
            store.training_register(&code).await?.sheet(kind)
        }
        System::Courses => {
            let kind = CoursesKind::from_code(&kind).ok_or(WebError::NotFound)?;
            store.courses_register(&code).await?.sheet(kind)
        }
        System::Psych => return Err(WebError::NotFound),
    };
    download(&data.school.name, &sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, department: Option<&str>) -> User {
        User {
            id: 1,
            name: "u".into(),
            role,
            school_code: Some("s".into()),
            department: department.map(str::to_string),
        }
    }

    #[test]
    fn the_quality_office_and_the_assigned_department_import() {
        assert!(can_import(&user(Role::Quality, None), System::Bases, None));
        let editor = user(Role::Department, Some("汽车技术部"));
        assert!(can_import(&editor, System::Courses, Some("汽车技术部")));
        assert!(!can_import(&editor, System::Courses, Some("信息技术部")));
        assert!(!can_import(&editor, System::Courses, None));
        for role in [Role::Admin, Role::Reviewer, Role::Counsellor] {
            assert!(!can_import(&user(role, None), System::Training, None));
        }
        assert!(!can_import(&user(Role::Quality, None), System::Psych, None));
    }
}
