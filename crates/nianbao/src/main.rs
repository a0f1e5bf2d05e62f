//! The `nianbao` command line: the one binary a school or an education commission runs.
//! Every command works on one store (`--db`, a SQLite file by default).

mod batch_audit;
mod bureau;
mod output;
mod points;
mod registers;
mod sample;
mod workbook;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use nianbao_bureau::peers::PeerLevel;
use nianbao_core::{Dataset, Definitions, Severity, Year, evaluate_indicators, run_checks};
use nianbao_store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "nianbao",
    version,
    about = "年报：职业学校质量年度报告的数据、核查与生成"
)]
struct Cli {
    /// 数据库文件（SQLite），各命令共用。
    #[arg(long, global = true, env = "NIANBAO_DB", default_value = "nianbao.db")]
    db: PathBuf,
    /// 改用此数据库（代替 SQLite 文件），例如 postgres://user@host/nianbao。
    #[arg(long, global = true, env = "NIANBAO_DATABASE_URL")]
    database_url: Option<String>,
    /// 写入时最多等待其他用户保存完毕的秒数；超时则放弃，不保存任何内容。
    #[arg(long, global = true, env = "NIANBAO_BUSY_TIMEOUT", default_value_t = 15.0, value_parser = parse_seconds)]
    busy_timeout: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 演示：导入示例学校，核查数据，生成报告（HTML、Word、PDF）。
    Demo {
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// 创建数据库，或把已有数据库升级到当前结构。
    Init,
    /// 导入数据文件夹（school.toml、majors.csv、students.csv、years/*.toml），全部成功或全部不变。
    Import {
        path: PathBuf,
        /// 允许本次导入删除大量已有数据（超过两成，或某一数据项、某一年度的全部数据）。
        #[arg(long)]
        allow_deletions: bool,
    },
    /// 把学校的数据导出为文件夹，可再用 import 导入。
    Export {
        path: PathBuf,
        #[arg(long)]
        school: Option<String>,
    },
    /// 列出数据库中的学校。
    Schools,
    /// 核查学校数据（合计、占比、比率、同比、存量与流量、办学标准），列出问题。
    Check {
        #[arg(long, conflicts_with_all = ["all", "area"])]
        school: Option<String>,
        /// 一次核查数据库中的全部学校，每校一行。
        #[arg(long)]
        all: bool,
        /// 一次处理一个区域的全部学校。
        #[arg(long, conflicts_with = "all")]
        area: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 计算一年的指标（生师比、生均面积、双师比例、升学率等），对照标准判断是否达标。
    Indicators {
        #[arg(long, conflicts_with_all = ["all", "area"])]
        school: Option<String>,
        /// 一次计算全部学校的指标，给出达标/不达标校数和同类学校比较。
        #[arg(long)]
        all: bool,
        /// 一次处理一个区域的全部学校。
        #[arg(long, conflicts_with = "all")]
        area: Option<String>,
        /// 与哪一级区域内的同类学校比较（district 区县、city 市、province 省），默认 city。
        #[arg(long, value_parser = parse_peers, default_value = "city")]
        peers: PeerLevel,
        /// The year (default: the school's report year).
        #[arg(long)]
        year: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 生成质量年度报告（Word、PDF、网页）：未定稿时每页标「草稿」；--final 定稿；--snapshot 按定稿快照重新生成。
    Report {
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        year: Option<i64>,
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Which files to write.
        #[arg(long, value_enum, default_value_t = ReportFormat::All)]
        format: ReportFormat,
        /// A folder of report content (sections/*.md, cases/*.md, images/…) laid over the
        /// texts in the store, for a draft.
        #[arg(long, conflicts_with_all = ["final_report", "snapshot"])]
        content: Option<PathBuf>,
        /// Make the final: refused, with what is missing, while the report has unresolved
        /// check findings, unwritten parts or parts not approved; otherwise stores a snapshot
        /// and writes the report from it, without the 草稿 mark.
        #[arg(long = "final", id = "final_report", conflicts_with = "snapshot")]
        final_report: bool,
        /// Write a stored final again, byte for byte, from its snapshot.
        #[arg(long)]
        snapshot: Option<i64>,
    },
    /// 报告的文字内容：导入、导出内容文件夹，查看各部分的撰写状态和定稿快照。
    Content {
        #[command(subcommand)]
        action: ContentAction,
    },
    /// 对一条警告写明说明后予以接受（说明随核查结果和报告一并显示）。
    Accept {
        /// The finding's key, as `check` prints it, e.g. students.stock-flow:2024:电子商务.
        key: String,
        /// Why the figure is right, or what explains it.
        #[arg(long)]
        because: String,
        #[arg(long)]
        school: Option<String>,
    },
    /// 显示从报告文件（.txt、.md、.html、.docx、.pdf）中读出的文字，带行号。
    Extract { file: PathBuf },
    /// 审核人工撰写的报告：找出其中数字互相矛盾之处；加 --against 则逐一与数据库中学校的数据核对。
    Audit {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// 与数据库中这所学校（学校代码；只有一所学校时可省略）的数据核对报告中的每个数字：
        /// 列出一致、不一致和数据中没有的，有不一致时退出码为 1。
        #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "SCHOOL")]
        against: Option<String>,
        /// 报告所述年度（默认：报告标题中的年份，否则为学校的报告年度）；句中写明其他年份的数字与该年数据核对。
        #[arg(long, requires = "against")]
        year: Option<i64>,
    },
    /// 批量审核：一个 zip 压缩包中各校的报告（.pdf、.docx、.txt），逐份审核，对照数据库中该校报送的数据，按评分规则给出预评等级（须人工确认）。
    AuditBatch {
        zip: PathBuf,
        /// 评分规则文件（默认为内置的 data/audit_rubric.toml）。
        #[arg(long)]
        rubric: Option<PathBuf>,
        /// 另存审核表，留有「确认等级」「审核意见」两列供审核人员填写：文件名以 .xlsx 结尾时写 Excel 工作簿（与网页下载的相同），否则写 CSV。
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 全年数据填报工作簿（Excel）：导出填写，再导入。
    Workbook {
        #[command(subcommand)]
        action: workbook::WorkbookAction,
    },
    /// 管理网页端的登录账号。
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// 启动网页端（登录、数据填报、Excel 模板、核查结果、报告撰写与下载）。
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Mark cookies Secure; use when the app is reached over HTTPS.
        #[arg(long)]
        secure_cookies: bool,
        /// 心理档案密钥文件；也可设置 NIANBAO_PSYCH_KEY。没有密钥时心理档案无法打开。
        #[arg(long, env = "NIANBAO_PSYCH_KEY_FILE")]
        psych_key_file: Option<PathBuf>,
    },
    /// 备份：把正在使用的数据库完整复制到新文件（不会覆盖已有文件）。
    ///
    /// SQLite 与 PostgreSQL（--database-url）都写成同一种备份文件：一个当前结构版本的 SQLite 数据库文件，可用 restore 恢复到任一种数据库。PostgreSQL 的全部表在一个可重复读事务中读出，备份期间其他用户照常写入。
    Backup { file: PathBuf },
    /// 恢复：用 backup 生成的备份文件替换当前数据库的全部内容（先检查备份文件完好）。
    ///
    /// 备份可以来自 SQLite 或 PostgreSQL。恢复在一个事务中完成，失败时不改变任何内容；当前数据库已有学校或账号时须加 --force。
    Restore {
        file: PathBuf,
        /// 当前数据库已有数据时也替换。
        #[arg(long)]
        force: bool,
    },
    /// 教育局的区域（省、市、区县）及其学校：导入区域文件、列出区域、指定教育局用户的区域。
    Area {
        #[command(subcommand)]
        action: bureau::AreaAction,
    },
    /// 生成合成学校（用于试用和性能测试）。
    Synth {
        #[command(subcommand)]
        action: bureau::SynthAction,
    },
    /// 学校年度数据的报送与审核：提交、审核通过、退回、接收、报送情况。
    Submission {
        #[command(subcommand)]
        action: bureau::SubmissionAction,
    },
    /// 用区域内已审核学校的数据编制区域质量年度报告（Word、PDF、网页）。
    Compile {
        #[arg(long)]
        area: String,
        #[arg(long)]
        year: i64,
        #[arg(long, default_value = "out")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = ReportFormat::All)]
        format: ReportFormat,
        /// 定稿：各部分文字齐全且有已审核学校时，保存定稿（网页、Word 与 PDF）并写出；否则列出缺少的内容并以 1 退出。
        #[arg(long = "final")]
        make_final: bool,
        /// 「同类学校比较」的同类学校取自哪一级区域（district 区县、city 市、province 省）的已审核学校，默认 city。
        #[arg(long, value_parser = parse_peers, default_value = "city")]
        peers: PeerLevel,
    },
    /// 从文件保存区域报告的文字（前言、总体情况、面临挑战）。
    AreaText {
        #[arg(long)]
        area: String,
        #[arg(long)]
        year: i64,
        /// preface（前言）、overview（总体情况）或 challenges（面临挑战）。
        #[arg(long)]
        part: String,
        file: PathBuf,
    },
    /// 查看学校数据最近的修改记录。
    History {
        #[arg(long)]
        school: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// 积分制学生发展：积分体系、名册、积分流水、八维画像、评优与推荐。
    Points(points::PointsArgs),
    /// 实训基地与设备台账：基地、设备、使用记录的导入导出与查看，利用率，报告 2.6 节与办学条件的设备数据。
    Bases(registers::BasesArgs),
    /// 社会培训登记：培训班、按培训对象的培训人次、职业技能等级认定的导入导出与查看，报告 3.1、3.2 节的数据。
    Training(registers::TrainingArgs),
    /// 心理健康档案（一人一档）：仅心理辅导员可读，加密保存，每次查阅留痕；报告只用汇总人数。
    Psych(registers::PsychArgs),
    /// 课程质量闭环：课程、选课、监测、评价、反馈与改进措施的导入导出与查看，报告 2.3 节的数据。
    Courses(registers::CoursesArgs),
}

#[derive(Subcommand)]
enum ContentAction {
    /// Import a content folder (front/, sections/, cases/, images/) into the store, every text
    /// checked first; all or nothing.
    Import {
        dir: PathBuf,
        #[arg(long)]
        school: Option<String>,
        /// The report year the content is for (default: the school's report year).
        #[arg(long)]
        year: Option<i64>,
    },
    /// Export the stored texts and pictures to a folder that `content import` reads back.
    Export {
        dir: PathBuf,
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        year: Option<i64>,
    },
    /// Move parts of the report along their review: submit (草稿 → 待审), approve
    /// (待审 → 已定稿) or return (待审 → 草稿, with --reason). PART is a section number
    /// ("2.1"), a front page ("preface"), "back", or "all" for every part that can take the
    /// step.
    State {
        part: String,
        #[arg(value_parser = ["submit", "approve", "return"])]
        action: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        year: Option<i64>,
    },
    /// List the parts of the report with their review state.
    Parts {
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        year: Option<i64>,
    },
    /// List the finals (snapshots) made for a school.
    Snapshots {
        #[arg(long)]
        school: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        name: String,
        /// admin（管理员）, quality（质量办）, department（部门填报）, reviewer（只读审阅）,
        /// counsellor（心理辅导员）, head_teacher（班主任）, teacher（任课教师） or student（学生）.
        #[arg(long)]
        role: nianbao_core::Role,
        /// The department a 部门填报 user edits for.
        #[arg(long)]
        department: Option<String>,
        /// A class a 班主任 or 任课教师 records points for (repeat for several classes).
        #[arg(long = "class")]
        classes: Vec<String>,
        /// The 学号 of a student's own account.
        #[arg(long)]
        student: Option<String>,
        /// The school the user works for (default: the only school in the store; none for a
        /// reviewer or an administrator, who then work across all schools).
        #[arg(long)]
        school: Option<String>,
    },
    /// List the users.
    List,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The report files `report` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Docx,
    Pdf,
    Html,
    All,
}

impl ReportFormat {
    fn formats(self) -> Vec<nianbao_report::Format> {
        use nianbao_report::Format as F;
        match self {
            ReportFormat::Docx => vec![F::Docx],
            ReportFormat::Pdf => vec![F::Pdf],
            ReportFormat::Html => vec![F::Html],
            ReportFormat::All => vec![F::Html, F::Docx, F::Pdf],
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        end_quietly_on_closed_pipe();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nianbao: 无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    runtime.block_on(close_stores());
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A command whose output goes into `head` or a pager that quits early ends quietly when the
/// reader goes away, as other command-line tools do, instead of panicking on the broken pipe.
/// A write in progress is then undone like any interrupted one. The web server keeps Rust's
/// default (the signal ignored), so a client that leaves never stops it.
#[cfg(unix)]
fn end_quietly_on_closed_pipe() {
    // SAFETY: sets a signal's action to the system default before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn end_quietly_on_closed_pipe() {}

/// Every store this process opened. They are closed before it exits, so that SQLite folds
/// its write-ahead log back into the store file and the file alone holds everything.
static OPENED: std::sync::Mutex<Vec<Store>> = std::sync::Mutex::new(Vec::new());

async fn close_stores() {
    let stores = std::mem::take(&mut *OPENED.lock().unwrap_or_else(|e| e.into_inner()));
    for store in stores {
        store.database().close().await;
    }
}

/// Where the store is: a database URL if one was given, else the SQLite file.
struct StoreLocation {
    db: PathBuf,
    url: Option<String>,
    options: nianbao_store::OpenOptions,
}

/// A number of seconds between 0 and one day.
/// A peer level by its code (`district`, `city`, `province`).
fn parse_peers(text: &str) -> Result<PeerLevel, String> {
    PeerLevel::parse(text).ok_or_else(|| {
        format!("「{text}」不是区域级别：应为 district（区县）、city（市）或 province（省）")
    })
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if (0.0..=86_400.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!("「{text}」不是 0 到 86400 之间的秒数")),
    }
}

impl StoreLocation {
    fn describe(&self) -> String {
        match &self.url {
            Some(url) => redact(url),
            None => self.db.display().to_string(),
        }
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn open_store(location: &StoreLocation) -> Result<Store> {
    let opened = match &location.url {
        Some(url) => Store::open_with(url, location.options).await,
        None => match nianbao_store::sqlite_url(&location.db) {
            Ok(url) => Store::open_with(&url, location.options)
                .await
                .map(|mut store| {
                    store.set_points_cache(Some(PathBuf::from(format!(
                        "{}.points-cache",
                        location.db.display()
                    ))));
                    store
                }),
            Err(e) => Err(e),
        },
    };
    let store = opened.with_context(|| format!("无法打开数据库 {}", location.describe()))?;
    OPENED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(store.clone());
    Ok(store)
}

/// The school a command works on: the one named, or the only one in the store.
async fn pick_school(store: &Store, school: Option<String>) -> Result<String> {
    if let Some(code) = school {
        return Ok(code);
    }
    let schools = store.schools().await?;
    match schools.as_slice() {
        [] => bail!("数据库中还没有学校：先运行 `nianbao import 数据文件夹` 或 `nianbao demo`"),
        [only] => Ok(only.code.clone()),
        many => {
            let codes: Vec<String> = many
                .iter()
                .map(|s| format!("{}（{}）", s.code, s.name))
                .collect();
            bail!(
                "数据库中有多所学校，请用 --school 指定其一：{}",
                codes.join("、")
            )
        }
    }
}

fn pick_year(data: &Dataset, year: Option<i64>) -> Result<Year> {
    match year {
        Some(y) => Ok(Year::new(y)?),
        None => Ok(data.school.report_year),
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let definitions = Definitions::builtin().context("内置定义文件有误")?;
    let location = StoreLocation {
        db: cli.db,
        url: cli.database_url,
        options: nianbao_store::OpenOptions {
            busy_timeout: std::time::Duration::from_secs_f64(cli.busy_timeout),
        },
    };
    let db = &location;
    match cli.command {
        Command::Demo { out } => demo(db, &out, &definitions).await,
        Command::Points(args) => points::run(args, &location.db, location.url.as_deref()).await,
        Command::Bases(args) => registers::bases(db, &definitions, args, &actor()).await,
        Command::Training(args) => registers::training(db, &definitions, args, &actor()).await,
        Command::Psych(args) => registers::psych(db, &definitions, args).await,
        Command::Courses(args) => registers::courses(db, &definitions, args, &actor()).await,
        Command::Init => {
            open_store(db).await?;
            println!("数据库已就绪：{}", db.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            path,
            allow_deletions,
        } => {
            let data = nianbao_io::read_dataset(&path, &definitions)?;
            let content_dir = path.join(CONTENT_FOLDER);
            let content = if content_dir.is_dir() {
                Some(nianbao_report::Content::read_folder(&content_dir)?)
            } else {
                None
            };
            let store = open_store(db).await?;
            let guard = (!allow_deletions).then_some(&definitions.elements);
            let summary = store.import_dataset(&data, &actor(), guard).await?;
            println!(
                "已导入 {}（{}）：新增 {} 项，修改 {} 项，删除 {} 项数据",
                data.school.name, data.school.code, summary.added, summary.changed, summary.removed
            );
            if let Some(content) = content {
                let authoring = nianbao_authoring::Authoring::new(&store, &definitions);
                let year = data.school.report_year;
                let imported = authoring
                    .import_folder(&data.school.code, year, &content, &actor())
                    .await?;
                print_content_summary(&content_dir, year, imported.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { path, school } => {
            let store = open_store(db).await?;
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            nianbao_io::write_dataset(&path, &data)?;
            let authoring = nianbao_authoring::Authoring::new(&store, &definitions);
            let written = authoring
                .export_folder(&code, data.school.report_year, &path.join(CONTENT_FOLDER))
                .await?;
            println!(
                "已导出 {} 到 {}（含报告文字与图片 {} 个文件）",
                data.school.name,
                path.display(),
                written.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Content { action } => content(db, &definitions, action).await,
        Command::Schools => {
            let store = open_store(db).await?;
            for school in store.schools().await? {
                println!("{}\t{}", school.code, school.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            all: true, format, ..
        } => bureau::check_all(db, &definitions, None, format).await,
        Command::Check {
            area: Some(area),
            format,
            ..
        } => bureau::check_all(db, &definitions, Some(&area), format).await,
        Command::Indicators {
            all: true,
            peers,
            format,
            ..
        } => bureau::indicators_all(db, &definitions, None, peers, format).await,
        Command::Indicators {
            area: Some(area),
            peers,
            format,
            ..
        } => bureau::indicators_all(db, &definitions, Some(&area), peers, format).await,
        Command::Area { action } => bureau::area(db, action).await,
        Command::Synth { action } => bureau::synth(db, action).await,
        Command::Submission { action } => bureau::submission(db, &definitions, action).await,
        Command::Compile {
            area,
            year,
            out,
            format,
            make_final,
            peers,
        } => {
            let args = bureau::CompileArgs {
                area: &area,
                year,
                out: &out,
                format,
                make_final,
                peers,
            };
            bureau::compile_area(db, &definitions, args).await
        }
        Command::AreaText {
            area,
            year,
            part,
            file,
        } => bureau::area_text(db, &area, year, &part, &file).await,
        Command::Check { school, format, .. } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset_with_registers(&pick_school(&store, school).await?, &definitions)
                .await?;
            let findings = run_checks(&definitions, &data);
            let accepted = store.acceptances(&data.school.code).await?;
            match format {
                Format::Json => println!("{}", output::findings_json(&findings, &accepted)?),
                Format::Text => print!(
                    "{}",
                    output::findings_text(&findings, &accepted, &definitions)
                ),
            }
            let failed = findings.iter().any(|f| f.severity == Severity::Error);
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Indicators {
            school,
            year,
            format,
            ..
        } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset_with_registers(&pick_school(&store, school).await?, &definitions)
                .await?;
            let year = pick_year(&data, year)?;
            let results = evaluate_indicators(&definitions, &data, year);
            match format {
                Format::Json => println!("{}", output::indicators_json(&results)?),
                Format::Text => print!("{}", output::indicators_text(&results, year)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            school,
            year,
            out,
            format,
            content,
            final_report,
            snapshot,
        } => {
            if format.formats().contains(&nianbao_report::Format::Pdf) {
                // The fonts are made ready on the other core while the data is read.
                nianbao_report::pdf::prepare_fonts();
            }
            let store = open_store(db).await?;
            let authoring = nianbao_authoring::Authoring::new(&store, &definitions);
            if let Some(id) = snapshot {
                eprintln!("报告：从定稿快照第 {id} 号重新生成…");
                let (entry, document) = authoring.snapshot_document(id).await?;
                for path in write_report(&document, &out, &format.formats())? {
                    println!("已生成 {}", path.display());
                }
                println!("定稿第 {} 号，SHA-256 {}", entry.id, entry.hash);
                return Ok(ExitCode::SUCCESS);
            }
            let data = store
                .load_dataset(&pick_school(&store, school).await?)
                .await?;
            let year = pick_year(&data, year)?;
            if final_report {
                let now = nianbao_core::clock::stored_time(time::OffsetDateTime::now_utc());
                let made = match authoring
                    .make_final(&data.school.code, year, &actor(), &now)
                    .await
                {
                    Ok(made) => made,
                    Err(nianbao_authoring::AuthoringError::NotReady(blockers)) => {
                        eprintln!("报告还不能定稿，尚有 {} 项未完成：", blockers.len());
                        for blocker in &blockers {
                            eprintln!("  - {blocker}");
                        }
                        return Ok(ExitCode::FAILURE);
                    }
                    Err(other) => return Err(other.into()),
                };
                for path in write_report(&made.document, &out, &format.formats())? {
                    println!("已生成 {}", path.display());
                }
                println!(
                    "已定稿：第 {} 号，SHA-256 {}（用 nianbao report --snapshot {} 可重新生成同样的文件）",
                    made.snapshot.id, made.snapshot.hash, made.snapshot.id
                );
                return Ok(ExitCode::SUCCESS);
            }
            let overlay = match content {
                Some(dir) => Some(nianbao_report::Content::read_folder(&dir)?),
                None => None,
            };
            eprintln!("报告：读取数据、提纲、文字与案例…");
            let draft = authoring.draft(&data.school.code, year, overlay).await?;
            describe_draft(&draft);
            for path in write_report(&draft.generated.document, &out, &format.formats())? {
                println!("已生成 {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Accept {
            key,
            because,
            school,
        } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset_with_registers(&pick_school(&store, school).await?, &definitions)
                .await?;
            let findings = run_checks(&definitions, &data);
            let Some(finding) = findings.iter().find(|f| f.key() == key) else {
                bail!("当前核查结果中没有「{key}」：请用 `nianbao check` 查看各项结果的编号");
            };
            store
                .accept(&data.school.code, finding, &because, &actor())
                .await?;
            println!("已接受「{key}」，说明已保存");
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract { file } => {
            let text = nianbao_audit::extract_text(&file)?;
            let width = text.lines().count().to_string().len();
            for (number, line) in text.lines().enumerate() {
                println!("{:>width$}  {line}", number + 1);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::AuditBatch {
            zip,
            rubric,
            out,
            format,
        } => batch_audit::run(db, &zip, rubric, out, format).await,
        Command::Audit {
            file,
            format,
            against: Some(school),
            year,
        } => {
            let document = nianbao_audit::read_document(&file)?;
            let store = open_store(db).await?;
            let school = (!school.is_empty()).then_some(school);
            let data = store
                .load_dataset_with_registers(&pick_school(&store, school).await?, &definitions)
                .await?;
            let year = year.map(Year::new).transpose()?;
            let model = nianbao_audit::model::Model::build(document);
            let comparison = nianbao_audit::against::compare(&model, &definitions, &data, year);
            match format {
                Format::Json => println!("{}", nianbao_audit::against::render_json(&comparison)),
                Format::Text => print!("{}", nianbao_audit::against::render_human(&comparison)),
            }
            let differs = comparison.count(nianbao_audit::against::Verdict::Differs) > 0;
            Ok(if differs {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Audit { file, format, .. } => {
            let text = nianbao_audit::extract_text(&file)?;
            let findings = nianbao_audit::audit(&text);
            match format {
                Format::Json => println!("{}", nianbao_audit::render_json(&findings)),
                Format::Text => print!("{}", nianbao_audit::render_human(&findings, &text)),
            }
            let failed = findings.iter().any(|f| f.severity == Severity::Error);
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::User { action } => users(db, action).await,
        Command::Workbook { action } => workbook::run(db, &definitions, action).await,
        Command::Serve {
            addr,
            secure_cookies,
            psych_key_file,
        } => {
            let store = open_store(db).await?;
            eprintln!("数据库：{}", db.describe());
            let config = nianbao_web::Config {
                secure_cookies,
                psych_key: registers::server_key(psych_key_file.as_deref())?,
                ..nianbao_web::Config::default()
            };
            let state = nianbao_web::AppState::new(store, definitions, config);
            nianbao_web::serve(state, addr)
                .await
                .with_context(|| format!("无法在 {addr} 上提供网页服务"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { file } => {
            let store = open_store(db).await?;
            store.backup(&file).await?;
            println!(
                "已备份到 {}（数据库结构版本 {}）",
                file.display(),
                store.schema_version().await?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, force } => {
            let store = open_store(db).await?;
            let restored = store.restore(&file, force).await?;
            if db.url.is_none() {
                // The points ledger's cache files describe the replaced data.
                let cache = PathBuf::from(format!("{}.points-cache", db.db.display()));
                if cache.is_dir() {
                    std::fs::remove_dir_all(&cache)
                        .with_context(|| format!("无法删除缓存目录 {}", cache.display()))?;
                }
            }
            println!(
                "已从 {} 恢复：{} 所学校、{} 项数据、{} 个账号（数据库结构版本 {}）",
                file.display(),
                restored.schools,
                restored.facts,
                restored.users,
                restored.schema_version
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::History { school, limit } => {
            let store = open_store(db).await?;
            let code = pick_school(&store, school).await?;
            for change in store.history(&code, limit).await? {
                println!(
                    "{}\t{}\t{} {}\t{} → {}",
                    change.changed_at,
                    change.actor,
                    change.entity,
                    change.record,
                    change.old_value.as_deref().unwrap_or("（无）"),
                    change.new_value.as_deref().unwrap_or("（删除）")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn users(db: &StoreLocation, action: UserAction) -> Result<ExitCode> {
    let store = open_store(db).await?;
    match action {
        UserAction::Add {
            name,
            role,
            department,
            classes,
            student,
            school,
        } => {
            let school = match (school, role) {
                (Some(code), _) => Some(code),
                // A reviewer or an administrator without a school works across all of them.
                (None, nianbao_core::Role::Reviewer | nianbao_core::Role::Admin) => None,
                (None, _) => Some(pick_school(&store, None).await?),
            };
            if let (Some(code), Some(department)) = (&school, &department) {
                let data = store.load_dataset(code).await?;
                if !data.school.departments.contains(department) {
                    bail!(
                        "学校「{}」没有专业部「{department}」（已有：{}）",
                        data.school.name,
                        data.school.departments.join("、")
                    );
                }
            }
            let password = read_password()?;
            let new = nianbao_store::NewUser {
                name: &name,
                role,
                school_code: school.as_deref(),
                department: department.as_deref(),
                password: &password,
            };
            let scope = nianbao_store::Scope { classes, student };
            let user = store.add_scoped_user(&new, &scope).await?;
            println!("已添加用户「{}」（{}）", user.name, user.role.label());
        }
        UserAction::List => {
            for user in store.users().await? {
                let scope = store.user_scope(user.id).await?;
                let classes = scope.classes.join("、");
                let place = [
                    user.school_code.as_deref(),
                    user.department.as_deref(),
                    Some(classes.as_str()).filter(|c| !c.is_empty()),
                    scope.student.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ");
                println!("{}\t{}\t{}", user.name, user.role.label(), place);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The new user's password: asked for without echo on a terminal, else one line of stdin.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("密码：")?;
        let again = rpassword::prompt_password("再次输入密码：")?;
        if first != again {
            bail!("两次输入的密码不一致");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("无法从标准输入读取密码")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Who is making a change from the command line.
fn actor() -> String {
    std::env::var("USER")
        .map(|u| format!("cli:{u}"))
        .unwrap_or_else(|_| "cli".to_string())
}

/// The folder of a dataset folder that holds the report's written content.
const CONTENT_FOLDER: &str = "content";

fn print_content_summary(dir: &Path, year: Year, summary: nianbao_store::ContentSummary) {
    println!(
        "已导入报告内容 {}（{year} 年度）：文字 {} 篇、图片 {} 张有更新，{} 个文件未变",
        dir.display(),
        summary.texts,
        summary.images,
        summary.unchanged
    );
}

/// What a draft still lacks, in one line, on stderr.
fn describe_draft(draft: &nianbao_authoring::Draft) {
    use nianbao_report::model::ListKind;
    let document = &draft.generated.document;
    let count = |kind| document.entries(kind).len();
    eprintln!(
        "报告：已组装 {} 个章节标题、{} 幅图、{} 张表、{} 个典型案例",
        count(ListKind::Contents),
        count(ListKind::Figures),
        count(ListKind::Tables),
        count(ListKind::Cases)
    );
    if draft.blockers.is_empty() {
        eprintln!("报告：各项均已完成，可用 --final 定稿；此次生成的是草稿");
    } else {
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for blocker in &draft.blockers {
            match kinds.iter_mut().find(|(k, _)| *k == blocker.kind_label()) {
                Some((_, n)) => *n += 1,
                None => kinds.push((blocker.kind_label(), 1)),
            }
        }
        let listed: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n} 项")).collect();
        eprintln!("报告：草稿（{}）；定稿前须全部解决", listed.join("、"));
    }
}

/// Writes the requested formats of a report, all or nothing. When every format was asked
/// for and no CJK font is installed, the PDF is skipped with a notice naming the package to
/// install; asked for alone, that is an error.
fn write_report(
    document: &nianbao_report::Document,
    out: &Path,
    formats: &[nianbao_report::Format],
) -> Result<Vec<PathBuf>> {
    use nianbao_report::Format as F;
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for format in formats {
        eprintln!("报告：正在生成{}…", format.label());
        let bytes = match format {
            F::Html => nianbao_report::html::render(document).into_bytes(),
            F::Docx => nianbao_report::docx::render(document)?,
            F::Pdf => match nianbao_report::pdf::render(document) {
                Ok((pdf, pages)) => {
                    eprintln!("报告：PDF 共 {pages} 页");
                    pdf
                }
                Err(e @ nianbao_report::ReportError::FontMissing { .. }) if formats.len() > 1 => {
                    eprintln!("报告：跳过 PDF。{e}");
                    continue;
                }
                Err(e) => return Err(e.into()),
            },
        };
        files.push((format.file_name(), bytes));
    }
    eprintln!("报告：写出文件…");
    Ok(nianbao_report::write_files(out, &files)?)
}

async fn content(
    db: &StoreLocation,
    definitions: &Definitions,
    action: ContentAction,
) -> Result<ExitCode> {
    let store = open_store(db).await?;
    let authoring = nianbao_authoring::Authoring::new(&store, definitions);
    match action {
        ContentAction::Import { dir, school, year } => {
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            let year = pick_year(&data, year)?;
            let folder = nianbao_report::Content::read_folder(&dir)?;
            let imported = authoring
                .import_folder(&code, year, &folder, &actor())
                .await?;
            print_content_summary(&dir, year, imported.summary);
        }
        ContentAction::Export { dir, school, year } => {
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            let year = pick_year(&data, year)?;
            let written = authoring.export_folder(&code, year, &dir).await?;
            println!(
                "已导出 {}（{year} 年度）的报告文字与图片 {} 个文件到 {}",
                data.school.name,
                written.len(),
                dir.display()
            );
        }
        ContentAction::State {
            part,
            action,
            reason,
            school,
            year,
        } => {
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            let year = pick_year(&data, year)?;
            let action = nianbao_authoring::Action::parse(&action)
                .context("操作应为 submit、approve 或 return")?;
            let parts = if part == "all" {
                let content = authoring.texts(&code, year).await?;
                let from = match action {
                    nianbao_authoring::Action::Submit => nianbao_core::WritingState::Draft,
                    _ => nianbao_core::WritingState::Review,
                };
                authoring
                    .part_views(&code, year, &content)
                    .await?
                    .into_iter()
                    .filter(|v| v.state == from && (v.has_text || v.cases > 0))
                    .map(|v| v.part)
                    .collect()
            } else {
                vec![authoring.part(&part)?]
            };
            for part in &parts {
                authoring
                    .move_part(&code, year, part, action, reason.as_deref(), &actor())
                    .await?;
                println!("{}：{}", part.title, action.label());
            }
            if parts.is_empty() {
                println!("没有可以{}的部分", action.label());
            }
        }
        ContentAction::Parts { school, year } => {
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            let year = pick_year(&data, year)?;
            let content = authoring.texts(&code, year).await?;
            for view in authoring.part_views(&code, year, &content).await? {
                let who = view
                    .stored
                    .as_ref()
                    .map(|s| {
                        format!(
                            "{}，{}",
                            s.actor,
                            nianbao_core::clock::beijing_time(&s.changed_at)
                        )
                    })
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}",
                    view.part.key,
                    view.part.title,
                    view.state.label(),
                    who
                );
            }
        }
        ContentAction::Snapshots { school } => {
            let code = pick_school(&store, school).await?;
            let snapshots = store.snapshots(&code).await?;
            if snapshots.is_empty() {
                println!("还没有定稿：用 nianbao report --final 定稿");
            }
            for entry in snapshots {
                println!(
                    "第 {} 号\t{} 年度\t{}\t{}\tSHA-256 {}",
                    entry.id,
                    entry.year,
                    nianbao_core::clock::beijing_time(&entry.created_at),
                    entry.actor,
                    entry.hash
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo(db: &StoreLocation, out: &Path, definitions: &Definitions) -> Result<ExitCode> {
    let started = Instant::now();
    let sample_dir = out.join("sample");
    sample::write_sample(&sample_dir)?;
    println!("示例数据：{}", sample_dir.display());
    let data = nianbao_io::read_dataset(&sample_dir, definitions)?;
    let store = open_store(db).await?;
    let summary = store.save_dataset(&data, "demo").await?;
    println!(
        "数据库：{}（{}：新增 {} 项，修改 {} 项，删除 {} 项）",
        db.describe(),
        data.school.name,
        summary.added,
        summary.changed,
        summary.removed
    );
    let data = store
        .load_dataset_with_registers(&data.school.code, definitions)
        .await?;
    let findings = run_checks(definitions, &data);
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    println!(
        "核查：错误 {} 项，警告 {} 项，提示 {} 项（详见 nianbao check）",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    let year = data.school.report_year;
    let indicators = evaluate_indicators(definitions, &data, year);
    let judged: Vec<_> = indicators
        .iter()
        .filter(|i| !i.verdicts.is_empty())
        .collect();
    let passing = judged.iter().filter(|i| i.passes_all()).count();
    println!(
        "指标：{year} 年度 {} 项受标准约束的指标中 {passing} 项全部达标",
        judged.len()
    );
    let findings_path = out.join("findings.json");
    let accepted = store.acceptances(&data.school.code).await?;
    std::fs::write(&findings_path, output::findings_json(&findings, &accepted)?)
        .with_context(|| format!("无法写入 {}", findings_path.display()))?;
    println!("已写出 {}", findings_path.display());
    let authoring = nianbao_authoring::Authoring::new(&store, definitions);
    let content_dir = sample_dir.join(CONTENT_FOLDER);
    let folder = nianbao_report::Content::read_folder(&content_dir)?;
    let imported = authoring
        .import_folder(&data.school.code, year, &folder, "demo")
        .await?;
    print_content_summary(&content_dir, year, imported.summary);
    let formats = [
        nianbao_report::Format::Html,
        nianbao_report::Format::Docx,
        nianbao_report::Format::Pdf,
    ];
    let draft = authoring.draft(&data.school.code, year, None).await?;
    describe_draft(&draft);
    for report in write_report(&draft.generated.document, out, &formats)? {
        println!("已写出 {}", report.display());
    }
    println!("用时 {:.2} 秒", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
