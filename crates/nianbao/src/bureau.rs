//! The education bureau's commands: areas (`area load`), synthetic schools (`synth`),
//! every school at once (`check --all`, `indicators --all`), submission and approval
//! (`submission …`) and the area's compiled report (`compile`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use nianbao_bureau::areas::{AreaTree, MAX_FILE_BYTES};
use nianbao_bureau::compare::{Comparison, Evaluator, SchoolResult};
use nianbao_bureau::peers::PeerLevel;
use nianbao_bureau::synth::{self, SynthConfig};
use nianbao_bureau::{
    Action, Actor, ActorRole, AreaSchool, Level, ReturnItem, ReturnTarget, SubmissionState,
};
use nianbao_core::{Dataset, Definitions, FactKey, Year, clock};
use nianbao_report::area_report::{AreaReportInput, TEXT_PARTS, compile};
use nianbao_store::Store;
use serde::Serialize;

use crate::{Format, ReportFormat, StoreLocation, actor, open_store, write_report};

#[derive(Subcommand)]
pub enum AreaAction {
    /// 导入区域文件（省、市、区县、学校、截止日期）：先逐行检查，有一处错误则全部不导入。
    Load { file: PathBuf },
    /// 列出区域及其学校数。
    List,
    /// 指定教育局用户（只读审阅角色、不属于学校）所在的区域，此后只能查看该区域的学校。
    Assign {
        #[arg(long)]
        user: String,
        #[arg(long)]
        area: String,
    },
}

#[derive(Subcommand)]
pub enum SynthAction {
    /// 生成 N 所合成学校（三年一致的数据、所属区域，部分学校含预置问题）并写入数据库。
    Schools {
        /// How many schools.
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The share of schools given one planted fault (0 to 1).
        #[arg(long, default_value_t = 0.05)]
        faults: f64,
        /// The report year.
        #[arg(long, default_value_t = 2025)]
        year: i64,
    },
}

/// Who acts in a submission command.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum As {
    School,
    District,
    City,
    Province,
}

impl As {
    fn role(self) -> ActorRole {
        match self {
            As::School => ActorRole::School,
            As::District => ActorRole::District,
            As::City => ActorRole::City,
            As::Province => ActorRole::Province,
        }
    }
}

#[derive(Args)]
pub struct Target {
    /// The school.
    #[arg(long)]
    school: String,
    /// The year (default: the school's report year).
    #[arg(long)]
    year: Option<i64>,
}

#[derive(Subcommand)]
pub enum SubmissionAction {
    /// 学校提交年度数据（须无错误，且每条警告都已写明说明）。
    Submit(Target),
    /// 区县教育局审核通过；用 --area 时一次审核区域内所有无问题的已提交学校。
    Approve {
        #[arg(long, required_unless_present = "area", conflicts_with = "area")]
        school: Option<String>,
        #[arg(long)]
        area: Option<String>,
        #[arg(long)]
        year: Option<i64>,
    },
    /// 退回并写明原因：每个 --item 写作「章节=原因」（如 "1.4=…"）或「年份 数据项=原因」（如 "2025 staff.total=…"）。
    Return {
        #[command(flatten)]
        target: Target,
        #[arg(long = "item", required = true)]
        items: Vec<String>,
        /// Who returns it (default: the district).
        #[arg(long = "as", value_enum, default_value_t = As::District)]
        role: As,
    },
    /// 市教育局接收区县已审核的数据。
    Receive(Target),
    /// 审核整个区域：区域内全部学校审核通过后才可进行。
    ApproveArea {
        #[arg(long)]
        area: String,
        #[arg(long)]
        year: i64,
    },
    /// 区域内各校的报送情况：状态、操作人和时间，以及逾期未提交的学校。
    Status {
        #[arg(long)]
        area: String,
        #[arg(long)]
        year: i64,
    },
    /// 学校的报送、退回（含原因）和审核记录，以及审核通过后改动的数据。
    History(Target),
}

pub async fn area(db: &StoreLocation, action: AreaAction) -> Result<ExitCode> {
    match action {
        AreaAction::Load { file } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?
                .len();
            if size > MAX_FILE_BYTES as u64 {
                bail!(
                    "{}: 文件大小 {size} 字节，超过上限 {MAX_FILE_BYTES} 字节",
                    file.display()
                );
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}（应为 UTF-8 文本）", file.display()))?;
            let tree = AreaTree::parse(&file.display().to_string(), &text)?;
            let store = open_store(db).await?;
            store.load_areas(&tree).await?;
            println!(
                "已导入 {} 个区域、{} 所学校、{} 个截止日期",
                tree.areas.len(),
                tree.schools.len(),
                tree.deadlines.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        AreaAction::List => {
            let store = open_store(db).await?;
            let tree = store.area_tree().await?;
            for area in &tree.areas {
                let indent = match area.level {
                    Level::Province => "",
                    Level::City => "  ",
                    Level::District => "    ",
                };
                println!(
                    "{indent}{}\t{}（{}，{} 所学校）",
                    area.code,
                    area.name,
                    area.level.label(),
                    tree.schools_in(&area.code).len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AreaAction::Assign { user, area } => {
            let store = open_store(db).await?;
            store.set_user_area(&user, &area).await?;
            println!("已将用户「{user}」设为区域「{area}」的教育局用户");
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub async fn synth(db: &StoreLocation, action: SynthAction) -> Result<ExitCode> {
    let SynthAction::Schools {
        count,
        seed,
        faults,
        year,
    } = action;
    if count == 0 || count > synth::MAX_SCHOOLS {
        bail!("学校数应在 1 至 {} 之间", synth::MAX_SCHOOLS);
    }
    if !(0.0..=1.0).contains(&faults) {
        bail!("--faults 应在 0 至 1 之间");
    }
    let config = SynthConfig {
        count,
        seed,
        fault_share: faults,
        year: Year::new(year)?,
    };
    let started = Instant::now();
    let area = synth::area(config);
    let store = open_store(db).await?;
    store.load_areas(&area.tree).await?;
    let datasets: Vec<Dataset> = (0..area.tree.schools.len())
        .filter_map(|i| synth::dataset(&area, i))
        .collect();
    let written = store.save_datasets(&datasets, "synth").await?;
    let planted = area.faults.iter().filter(|f| f.is_some()).count();
    println!(
        "已生成 {} 所合成学校（种子 {seed}，{planted} 所含预置问题），{written} 项数据，用时 {:.1} 秒",
        area.tree.schools.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Evaluates every school in the store (or of one area) in one process.
async fn evaluate_all(
    store: &Store,
    definitions: &Definitions,
    area: Option<&str>,
) -> Result<(AreaTree, Vec<SchoolResult>)> {
    let tree = store.area_tree().await?;
    let codes: Option<BTreeSet<String>> = match area {
        Some(code) => {
            if tree.area(code).is_none() {
                bail!("区域代码「{code}」不存在：请先用 nianbao area load 导入区域文件");
            }
            Some(
                tree.schools_in(code)
                    .iter()
                    .map(|s| s.code.clone())
                    .collect(),
            )
        }
        None => None,
    };
    let known: BTreeMap<&str, &AreaSchool> =
        tree.schools.iter().map(|s| (s.code.as_str(), s)).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    // Each school is evaluated as soon as it is read, while the next ones are read.
    let mut evaluator = Evaluator::start(Arc::new(definitions.clone()), threads);
    store
        .each_dataset(codes.as_ref(), definitions, |d| {
            let school = known.get(d.school.code.as_str()).map_or_else(
                || AreaSchool {
                    code: d.school.code.clone(),
                    name: d.school.name.clone(),
                    district: String::new(),
                    kind: nianbao_bureau::SchoolType::Secondary,
                },
                |s| (*s).clone(),
            );
            evaluator.evaluate(school, d);
        })
        .await?;
    let results = evaluator.finish();
    Ok((tree, results))
}

#[derive(Serialize)]
struct CheckLine<'a> {
    school: &'a str,
    name: &'a str,
    errors: usize,
    warnings: usize,
    error_rules: &'a [String],
}

pub async fn check_all(
    db: &StoreLocation,
    definitions: &Definitions,
    area: Option<&str>,
    format: Format,
) -> Result<ExitCode> {
    let store = open_store(db).await?;
    let started = Instant::now();
    let (_, results) = evaluate_all(&store, definitions, area).await?;
    let with_errors = results.iter().filter(|r| r.errors > 0).count();
    match format {
        Format::Json => {
            let lines: Vec<CheckLine> = results
                .iter()
                .map(|r| CheckLine {
                    school: &r.code,
                    name: &r.name,
                    errors: r.errors,
                    warnings: r.warnings,
                    error_rules: &r.error_rules,
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&lines)?);
        }
        Format::Text => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for r in &results {
                let rules = if r.error_rules.is_empty() {
                    String::new()
                } else {
                    format!("\t{}", r.error_rules.join("、"))
                };
                writeln!(
                    out,
                    "{}\t{}\t错误 {}\t警告 {}{rules}",
                    r.code, r.name, r.errors, r.warnings
                )?;
            }
            writeln!(out, "共 {} 所学校，{with_errors} 所有错误", results.len())?;
            out.flush()?;
        }
    }
    eprintln!("核查用时 {:.2} 秒", started.elapsed().as_secs_f64());
    Ok(if with_errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Serialize)]
struct IndicatorOut<'a> {
    id: &'a str,
    name: &'a str,
    values: &'a [(Year, Option<f64>)],
    meets: Option<bool>,
}

#[derive(Serialize)]
struct SchoolIndicators<'a> {
    school: &'a str,
    name: &'a str,
    year: Year,
    indicators: Vec<IndicatorOut<'a>>,
    outliers: Vec<String>,
}

pub async fn indicators_all(
    db: &StoreLocation,
    definitions: &Definitions,
    area: Option<&str>,
    peers: PeerLevel,
    format: Format,
) -> Result<ExitCode> {
    let store = open_store(db).await?;
    let started = Instant::now();
    let (tree, results) = evaluate_all(&store, definitions, area).await?;
    let year = results.iter().map(|r| r.year).max().unwrap_or_default();
    let comparison = Comparison::within(definitions, &tree, peers, year, results);
    match format {
        Format::Json => {
            // Written school by school as one JSON array, not built whole first.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            out.write_all(b"[")?;
            for (i, r) in comparison.schools.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                let school = SchoolIndicators {
                    school: &r.code,
                    name: &r.name,
                    year: r.year,
                    indicators: r
                        .indicators
                        .iter()
                        .map(|l| IndicatorOut {
                            id: &l.id,
                            name: definitions
                                .indicator(&l.id)
                                .map_or(l.id.as_str(), |i| i.name.as_str()),
                            values: &l.values,
                            meets: l.meets,
                        })
                        .collect(),
                    outliers: comparison.explain(definitions, &r.code),
                };
                serde_json::to_writer(&mut out, &school)?;
            }
            out.write_all(b"]\n")?;
            out.flush()?;
        }
        Format::Text => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            writeln!(out, "{year} 年度，共 {} 所学校", comparison.schools.len())?;
            for s in &comparison.indicators {
                writeln!(
                    out,
                    "{}\t达标 {}\t不达标 {}\t无数据 {}",
                    s.name, s.meets, s.fails, s.missing
                )?;
            }
            for r in &comparison.schools {
                for line in comparison.explain(definitions, &r.code) {
                    writeln!(out, "{}\t{}\t{line}", r.code, r.name)?;
                }
            }
            out.flush()?;
        }
    }
    eprintln!("指标用时 {:.2} 秒", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn parse_item(text: &str) -> Result<ReturnItem> {
    let Some((target, reason)) = text.split_once('=') else {
        bail!("退回意见「{text}」应写作「章节=原因」或「年份 数据项=原因」");
    };
    let target = target.trim();
    let target = match target.split_once(' ') {
        Some((year, element)) => {
            let year: i64 = year
                .parse()
                .with_context(|| format!("退回意见的年份「{year}」不是数字"))?;
            ReturnTarget::Fact(FactKey::school(Year::new(year)?, element.trim()))
        }
        None => ReturnTarget::Section(target.to_string()),
    };
    Ok(ReturnItem {
        target,
        reason: reason.trim().to_string(),
    })
}

async fn year_of(store: &Store, school: &str, year: Option<i64>) -> Result<Year> {
    match year {
        Some(y) => Ok(Year::new(y)?),
        None => Ok(store.load_dataset(school).await?.school.report_year),
    }
}

pub async fn submission(
    db: &StoreLocation,
    definitions: &Definitions,
    action: SubmissionAction,
) -> Result<ExitCode> {
    let store = open_store(db).await?;
    let who = |role: ActorRole| Actor {
        role,
        name: actor(),
    };
    let act = |target: Target, action: Action, role: ActorRole, items: Vec<ReturnItem>| {
        let store = &store;
        async move {
            let year = year_of(store, &target.school, target.year).await?;
            let state = store
                .act_on_submission(
                    &target.school,
                    year,
                    action,
                    &who(role),
                    &items,
                    definitions,
                )
                .await?;
            println!(
                "{} {year} 年度：{}，现为「{}」",
                target.school,
                action.label(),
                state.label()
            );
            Ok::<ExitCode, anyhow::Error>(ExitCode::SUCCESS)
        }
    };
    match action {
        SubmissionAction::Submit(target) => {
            act(target, Action::Submit, ActorRole::School, Vec::new()).await
        }
        SubmissionAction::Receive(target) => {
            act(target, Action::Receive, ActorRole::City, Vec::new()).await
        }
        SubmissionAction::Return {
            target,
            items,
            role,
        } => {
            let items = items
                .iter()
                .map(|i| parse_item(i))
                .collect::<Result<Vec<_>>>()?;
            act(target, Action::Return, role.role(), items).await
        }
        SubmissionAction::Approve {
            school: Some(school),
            year,
            ..
        } => {
            act(
                Target { school, year },
                Action::Approve,
                ActorRole::District,
                Vec::new(),
            )
            .await
        }
        SubmissionAction::Approve {
            school: None,
            area,
            year,
        } => {
            let area = area.context("请用 --school 或 --area 指定要审核的学校或区域")?;
            let year = Year::new(year.context("批量审核请用 --year 指定年度")?)?;
            let outcome = store
                .bulk_approve(&area, year, &who(ActorRole::District), definitions)
                .await?;
            println!("已审核通过 {} 所学校", outcome.approved.len());
            for (school, why) in &outcome.skipped {
                println!("未审核 {school}：{why}");
            }
            Ok(ExitCode::SUCCESS)
        }
        SubmissionAction::ApproveArea { area, year } => {
            store
                .approve_area(&area, Year::new(year)?, &actor())
                .await?;
            println!("区域「{area}」{year} 年度已审核通过");
            Ok(ExitCode::SUCCESS)
        }
        SubmissionAction::Status { area, year } => {
            let year = Year::new(year)?;
            let tree = store.area_tree().await?;
            if tree.area(&area).is_none() {
                bail!("区域代码「{area}」不存在");
            }
            let states = store.submissions(year).await?;
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for school in tree.schools_in(&area) {
                let status = states.get(&school.code);
                let state = status.map_or(SubmissionState::Draft, |s| s.state);
                *counts.entry(state.label()).or_default() += 1;
                let who = status
                    .map(|s| format!("{}\t{}", s.actor, clock::beijing_time(&s.at)))
                    .unwrap_or_default();
                println!("{}\t{}\t{}\t{who}", school.code, school.name, state.label());
            }
            let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("合计：{}", summary.join("，"));
            let today = time::OffsetDateTime::now_utc()
                .to_offset(clock::beijing())
                .date();
            let late = store.late_schools(&area, year, today).await?;
            for (school, due) in &late {
                println!(
                    "逾期未提交：{}（{}，截止 {}）",
                    school.name,
                    school.code,
                    nianbao_bureau::areas::format_date(*due)
                );
            }
            if let Some((who, at)) = store.area_approval(&area, year).await? {
                println!("本区域已由 {who} 于 {} 审核通过", clock::beijing_time(&at));
            }
            Ok(ExitCode::SUCCESS)
        }
        SubmissionAction::History(target) => {
            let year = year_of(&store, &target.school, target.year).await?;
            for event in store.submission_history(&target.school, year).await? {
                println!(
                    "{}\t{}\t{}\t{} → {}",
                    clock::beijing_time(&event.at),
                    event.actor,
                    event.action.label(),
                    event.from.label(),
                    event.to.label()
                );
                for item in &event.items {
                    let target = match &item.target {
                        ReturnTarget::Section(s) => format!("第 {s} 节"),
                        ReturnTarget::Fact(key) => {
                            definitions.elements.name(&key.element).to_string()
                        }
                    };
                    println!("\t退回意见：{target}：{}", item.reason);
                }
            }
            match store.changes_since_approval(&target.school, year).await? {
                None => println!("尚未审核通过过"),
                Some(changes) if changes.is_empty() => println!("审核通过后数据未改动"),
                Some(changes) => {
                    println!("审核通过后改动了 {} 项数据：", changes.len());
                    let shown =
                        |v: Option<f64>| v.map_or("（无）".to_string(), |v| v.to_string());
                    for c in changes {
                        println!(
                            "\t{}：{} → {}",
                            definitions.elements.name(&c.key.element),
                            shown(c.approved),
                            shown(c.current)
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What `nianbao compile` is asked for.
pub struct CompileArgs<'a> {
    pub area: &'a str,
    pub year: i64,
    pub out: &'a Path,
    pub format: ReportFormat,
    pub make_final: bool,
    pub peers: PeerLevel,
}

pub async fn compile_area(
    db: &StoreLocation,
    definitions: &Definitions,
    args: CompileArgs<'_>,
) -> Result<ExitCode> {
    let CompileArgs {
        area,
        year,
        out,
        format,
        make_final,
        peers,
    } = args;
    let store = open_store(db).await?;
    let year = Year::new(year)?;
    let tree = store.area_tree().await?;
    if tree.area(area).is_none() {
        bail!("区域代码「{area}」不存在：请先用 nianbao area load 导入区域文件");
    }
    let stored = store.submissions(year).await?;
    let state_of = |code: &str| {
        stored
            .get(code)
            .map_or(SubmissionState::Draft, |st| st.state)
    };
    let states: BTreeMap<String, SubmissionState> = tree
        .schools_in(area)
        .iter()
        .map(|s| (s.code.clone(), state_of(&s.code)))
        .collect();
    let approved: BTreeSet<String> = states
        .iter()
        .filter(|(_, s)| s.approved())
        .map(|(c, _)| c.clone())
        .collect();
    // Peers are the approved schools of the area the level names (the area's city, say),
    // which may reach beyond the area: each is evaluated as it is read, and only the area's
    // own datasets are kept.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let nianbao_store::ApprovedSchools { datasets, results } = store
        .approved_for_report(&tree, area, peers, year, definitions, threads)
        .await?;
    let comparison = Comparison::of_area(definitions, &tree, area, peers, year, results);
    let texts = store.area_texts(area, year).await?;
    let today = time::OffsetDateTime::now_utc()
        .to_offset(clock::beijing())
        .date();
    let date = nianbao_bureau::areas::format_date(today);
    let document = compile(&AreaReportInput {
        definitions,
        tree: &tree,
        area,
        year,
        states: &states,
        datasets: &datasets,
        comparison: &comparison,
        peers,
        texts: &texts,
        date: &date,
    })?;
    println!(
        "{}：已纳入 {} 所已审核学校，共 {} 所",
        document.title,
        approved.len(),
        states.len()
    );
    if make_final {
        return write_final(&store, document, area, year, approved.len(), out).await;
    }
    for path in write_report(&document, out, &format.formats())? {
        println!("已生成 {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Makes the compiled draft final, as the web app's report page does: refused (exit 1) with
/// what is missing; otherwise the final's web page, Word file and PDF (when the CJK fonts
/// are installed) are kept in the store and written to `out`.
async fn write_final(
    store: &Store,
    draft: nianbao_report::Document,
    area: &str,
    year: Year,
    included: usize,
    out: &Path,
) -> Result<ExitCode> {
    let blockers = nianbao_report::area_report::final_blockers(&draft, included);
    if !blockers.is_empty() {
        eprintln!("尚不能定稿：");
        for b in &blockers {
            eprintln!("  {b}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let hash = nianbao_report::snapshot::hash(nianbao_report::html::render(&draft).as_bytes());
    let (id, made_at) = store
        .begin_area_final(area, i64::from(year.get()), &actor(), &hash)
        .await?;
    let document = nianbao_report::area_report::make_final(
        draft,
        nianbao_report::FinalMark {
            snapshot: id,
            hash,
            created_at: made_at,
        },
    );
    let html = nianbao_report::html::render(&document);
    let docx = match nianbao_report::docx::render(&document) {
        Ok(docx) => docx,
        Err(e) => {
            store.complete_area_final(id, None).await?;
            return Err(e.into());
        }
    };
    // The PDF by the school report's renderer; without the CJK fonts the final is kept
    // without it, as `report` skips it when writing every format.
    let pdf = match nianbao_report::pdf::render(&document) {
        Ok((pdf, _pages)) => Some(pdf),
        Err(e @ nianbao_report::ReportError::FontMissing { .. }) => {
            eprintln!("报告：跳过 PDF。{e}");
            None
        }
        Err(e) => {
            store.complete_area_final(id, None).await?;
            return Err(e.into());
        }
    };
    store
        .complete_area_final(
            id,
            Some(nianbao_store::FinalFiles {
                html: html.as_bytes(),
                docx: &docx,
                pdf: pdf.as_deref(),
            }),
        )
        .await?;
    std::fs::create_dir_all(out).with_context(|| format!("无法创建 {}", out.display()))?;
    let mut files = vec![("report.html", html.as_bytes()), ("report.docx", &docx)];
    if let Some(pdf) = &pdf {
        files.push(("report.pdf", pdf));
    }
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("无法写入 {}", path.display()))?;
        println!("已生成 {}", path.display());
    }
    println!("已定稿：第 {id} 号");
    Ok(ExitCode::SUCCESS)
}

/// Saves one of the area report's texts from a file.
pub async fn area_text(
    db: &StoreLocation,
    area: &str,
    year: i64,
    part: &str,
    file: &Path,
) -> Result<ExitCode> {
    if !TEXT_PARTS.iter().any(|(code, _)| *code == part) {
        bail!(
            "区域报告的文字部分应为 preface（前言）、overview（总体情况）或 challenges（面临挑战）"
        );
    }
    let body = std::fs::read_to_string(file)
        .with_context(|| format!("无法读取 {}（应为 UTF-8 文本）", file.display()))?;
    let store = open_store(db).await?;
    store
        .save_area_text(area, Year::new(year)?, part, &body, &actor())
        .await?;
    println!("已保存区域「{area}」{year} 年度报告的 {part}");
    Ok(ExitCode::SUCCESS)
}
