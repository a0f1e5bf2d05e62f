//! The commands of the school's registers: `bases` (实训), `training` (培训), `psych` (心理)
//! and `courses` (课程). Each imports a list (CSV or Excel) in one transaction, exports it
//! back in the same layout, and lists what the register holds; the figures the report
//! quotes are computed by the store on every import.
//!
//! The psychological archive asks more: the counsellor's account and password, a reason for
//! every read, and the archive's key from a key file or `NIANBAO_PSYCH_KEY`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use nianbao_core::{Definitions, Role, number};
use nianbao_store::{PsychAccess, Store, User};
use nianbao_systems::bases::BasesKind;
use nianbao_systems::courses::CoursesKind;
use nianbao_systems::psych::{ArchiveEvent, Key, PsychKind, Sealer};
use nianbao_systems::table::{MAX_FILE_BYTES, Sheet, Table, read_file};
use nianbao_systems::training::TrainingKind;
use nianbao_systems::{Day, ImportSummary, Mode, Vocabulary};

use super::{StoreLocation, open_store, pick_school};

/// The lists of 实训基地与设备台账.
#[derive(Clone, Copy, ValueEnum)]
pub enum BasesList {
    /// 实训基地
    Bases,
    /// 设备台账
    Equipment,
    /// 使用记录
    Usage,
}

impl BasesList {
    fn kind(self) -> BasesKind {
        match self {
            BasesList::Bases => BasesKind::Bases,
            BasesList::Equipment => BasesKind::Equipment,
            BasesList::Usage => BasesKind::Usage,
        }
    }
}

/// The lists of 社会培训登记.
#[derive(Clone, Copy, ValueEnum)]
pub enum TrainingList {
    /// 培训班
    Classes,
    /// 职业技能等级认定
    Certifications,
}

impl TrainingList {
    fn kind(self) -> TrainingKind {
        match self {
            TrainingList::Classes => TrainingKind::Classes,
            TrainingList::Certifications => TrainingKind::Certifications,
        }
    }
}

/// The lists of 课程质量闭环.
#[derive(Clone, Copy, ValueEnum)]
pub enum CoursesList {
    /// 课程
    Courses,
    /// 选课人数（每学期）
    Enrolments,
    /// 监测数据
    Measurements,
    /// 课程评价
    Evaluations,
    /// 问题反馈
    Feedback,
    /// 改进措施
    Actions,
}

impl CoursesList {
    fn kind(self) -> CoursesKind {
        match self {
            CoursesList::Courses => CoursesKind::Courses,
            CoursesList::Enrolments => CoursesKind::Enrolments,
            CoursesList::Measurements => CoursesKind::Measurements,
            CoursesList::Evaluations => CoursesKind::Evaluations,
            CoursesList::Feedback => CoursesKind::Feedback,
            CoursesList::Actions => CoursesKind::Actions,
        }
    }
}

/// The lists of 心理健康档案.
#[derive(Clone, Copy, ValueEnum)]
pub enum PsychList {
    /// 心理筛查
    Screenings,
    /// 心理辅导（个体、团体、讲座）
    Sessions,
    /// 跟进回访
    Followups,
}

impl PsychList {
    fn kind(self) -> PsychKind {
        match self {
            PsychList::Screenings => PsychKind::Screenings,
            PsychList::Sessions => PsychKind::Sessions,
            PsychList::Followups => PsychKind::FollowUps,
        }
    }
}

/// Options every register command shares.
#[derive(Args, Clone)]
pub struct SchoolArg {
    /// 学校代码（默认：数据库中唯一的学校）。
    #[arg(long, global = true)]
    school: Option<String>,
}

#[derive(Args)]
pub struct BasesArgs {
    #[command(flatten)]
    school: SchoolArg,
    #[command(subcommand)]
    action: BasesAction,
}

#[derive(Subcommand)]
enum BasesAction {
    /// 导入一张表（CSV 或 .xlsx），一个事务：有错误的行逐一指出，整批不导入。
    Import {
        /// 哪一张表。
        list: BasesList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
        /// 文件即完整清单：文件中没有的记录将被删除（默认只新增和更新）。
        #[arg(long)]
        replace: bool,
    },
    /// 导出一张表为 .csv 或 .xlsx（可修改后再导入；没有记录时即为空白模板）。
    Export {
        /// 哪一张表。
        list: BasesList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
    },
    /// 查看基地及其利用率、设备台账或某年度的使用记录。
    List {
        /// 哪一张表。
        #[arg(default_value = "bases")]
        list: BasesList,
        /// 统计使用和利用率的年度（默认：报告年度）。
        #[arg(long)]
        year: Option<i32>,
    },
}

#[derive(Args)]
pub struct TrainingArgs {
    #[command(flatten)]
    school: SchoolArg,
    #[command(subcommand)]
    action: TrainingAction,
}

#[derive(Subcommand)]
enum TrainingAction {
    /// 导入一张表（CSV 或 .xlsx），一个事务：有错误的行逐一指出，整批不导入。
    Import {
        /// 哪一张表。
        list: TrainingList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
        /// 文件即完整清单：文件中没有的记录将被删除（默认只新增和更新）。
        #[arg(long)]
        replace: bool,
    },
    /// 导出一张表为 .csv 或 .xlsx（可修改后再导入）。
    Export {
        /// 哪一张表。
        list: TrainingList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
    },
    /// 某年度按培训对象的培训人次，以及按职业和等级的技能等级认定人数。
    List {
        /// 统计年度（默认：报告年度）。
        #[arg(long)]
        year: Option<i32>,
    },
}

#[derive(Args)]
pub struct CoursesArgs {
    #[command(flatten)]
    school: SchoolArg,
    #[command(subcommand)]
    action: CoursesAction,
}

#[derive(Subcommand)]
enum CoursesAction {
    /// 导入一张表（CSV 或 .xlsx），一个事务：有错误的行逐一指出，整批不导入。
    Import {
        /// 哪一张表。
        list: CoursesList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
        /// 文件即完整清单：文件中没有的记录将被删除（默认只新增和更新）。
        #[arg(long)]
        replace: bool,
    },
    /// 导出一张表为 .csv 或 .xlsx（可修改后再导入）。
    Export {
        /// 哪一张表。
        list: CoursesList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
    },
    /// 查看课程及其闭环进展；给出课程编号时按时间线显示该课程的「建设—监测—评价—反馈—改进」。
    List {
        /// 课程编号。
        course: Option<String>,
    },
    /// 把改进措施标为已完成：必须写明佐证。
    Close {
        /// 措施编号。
        action: String,
        /// 佐证（材料名称或链接）。
        #[arg(long)]
        evidence: String,
        /// 完成日期（默认：今天）。
        #[arg(long)]
        date: Option<String>,
    },
}

#[derive(Args)]
pub struct PsychArgs {
    #[command(flatten)]
    school: SchoolArg,
    /// 心理档案密钥文件（64 位十六进制数字）；也可设置环境变量 NIANBAO_PSYCH_KEY。
    #[arg(long, global = true, env = "NIANBAO_PSYCH_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    action: PsychAction,
}

/// Who reads the archive and why.
#[derive(Args)]
struct Reader {
    /// 心理辅导员账号（密码从终端或标准输入读取）。
    #[arg(long = "as")]
    user: String,
    /// 查阅事由：日常辅导、危机干预、跟进回访、家校沟通、转介就医、档案整理或统计核对，
    /// 可在其后加「：」写明详情。
    #[arg(long)]
    reason: String,
}

#[derive(Subcommand)]
enum PsychAction {
    /// 生成新的密钥文件（仅所有者可读）。请妥善保管并备份：丢失密钥后档案无法读取。
    Keygen {
        /// 密钥文件（不会覆盖已有文件）。
        file: PathBuf,
    },
    /// 导入筛查、辅导或跟进记录（CSV 或 .xlsx）：加密保存、更新汇总人数、记入查阅日志。
    Import {
        /// 哪一张表。
        list: PsychList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
        /// 文件即完整清单：文件中没有的记录将被删除（默认只新增和更新）。
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        reader: Reader,
    },
    /// 导出记录（含姓名）为 .csv 或 .xlsx；记入查阅日志。
    Export {
        /// 哪一张表。
        list: PsychList,
        /// 文件（.csv 或 .xlsx）。
        file: PathBuf,
        #[command(flatten)]
        reader: Reader,
    },
    /// 查看档案列表，或给出档案号查看一名学生的档案（一人一档）；记入查阅日志。
    List {
        /// 档案号（见档案列表）。
        archive: Option<i64>,
        #[command(flatten)]
        reader: Reader,
    },
    /// 报告可用的汇总人数（人数较少的不公开）；不需要密钥和账号。
    Summary {
        /// 统计年度（默认：报告年度）。
        #[arg(long)]
        year: Option<i64>,
    },
    /// 查阅日志：谁在何时因何事由查看、导出、导入或删除了什么。
    Log {
        /// 心理辅导员账号。
        #[arg(long = "as")]
        user: String,
        /// 显示的条数。
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// 删除保存期满的档案（各年度的汇总人数保留）。
    Purge {
        /// 心理辅导员账号。
        #[arg(long = "as")]
        user: String,
    },
}

fn vocabulary(definitions: &Definitions) -> Result<Vocabulary> {
    Vocabulary::builtin(definitions).context("内置的登记系统词表有误")
}

/// Reads an import file, bounded in size before it is read.
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("无法读取 {}", path.display()))?
        .len();
    if size > MAX_FILE_BYTES as u64 {
        bail!(
            "{} 过大（{} MB）：导入文件不应超过 {} MB，请分成几个文件",
            path.display(),
            size / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        );
    }
    Ok(nianbao_io::read_file(path, MAX_FILE_BYTES as u64)?)
}

fn read_table(
    path: &Path,
    sheet: &str,
    columns: &nianbao_systems::table::Columns,
) -> Result<Table> {
    let bytes = read_bounded(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let limits = nianbao_xlsx::Limits {
        max_upload_bytes: MAX_FILE_BYTES,
        ..nianbao_xlsx::Limits::default()
    };
    Ok(read_file(&name, &bytes, sheet, columns, &limits)?)
}

fn write_sheet(sheet: &Sheet, path: &Path) -> Result<()> {
    let name = path.to_string_lossy();
    let bytes = sheet.write_as(&name)?;
    std::fs::write(path, bytes).with_context(|| format!("无法写入 {}", path.display()))?;
    println!(
        "已导出{} {} 条到 {}",
        sheet.name,
        sheet.rows.len(),
        path.display()
    );
    Ok(())
}

fn mode(replace: bool) -> Mode {
    if replace { Mode::Replace } else { Mode::Upsert }
}

fn imported(what: &str, path: &Path, summary: ImportSummary) {
    println!("已导入{what}（{}）：{summary}", path.display());
}

async fn report_year(store: &Store, code: &str, year: Option<i32>) -> Result<i32> {
    match year {
        Some(year) => Ok(year),
        None => Ok(i32::from(
            store.load_dataset(code).await?.school.report_year.get(),
        )),
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("—".into(), |p| format!("{}%", number::fixed(p, 1)))
}

pub async fn bases(
    location: &StoreLocation,
    definitions: &Definitions,
    args: BasesArgs,
    actor: &str,
) -> Result<ExitCode> {
    let store = open_store(location).await?;
    let code = pick_school(&store, args.school.school).await?;
    let vocabulary = vocabulary(definitions)?;
    match args.action {
        BasesAction::Import {
            list,
            file,
            replace,
        } => {
            let kind = list.kind();
            let table = read_table(&file, kind.label(), kind.columns())?;
            let import = nianbao_systems::bases::read(kind, &table, &vocabulary.bases)?;
            let summary = store
                .import_bases(&code, import, mode(replace), &vocabulary, actor)
                .await?;
            imported(kind.label(), &file, summary);
        }
        BasesAction::Export { list, file } => {
            write_sheet(
                &store.bases_register(&code).await?.sheet(list.kind()),
                &file,
            )?;
        }
        BasesAction::List { list, year } => {
            let register = store.bases_register(&code).await?;
            let year = report_year(&store, &code, year).await?;
            let utilisation = register.utilisation(year);
            match list {
                BasesList::Bases => {
                    println!("基地编号\t名称\t级别\t{year}年使用学时\t年开放学时\t利用率");
                    for (base, used) in register.bases.iter().zip(&utilisation.bases) {
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            base.code,
                            base.name,
                            base.level,
                            number::plain(used.used_hours),
                            number::plain(used.available_hours),
                            percent(used.percent)
                        );
                    }
                }
                BasesList::Equipment => {
                    println!("资产编号\t名称\t价值（元）\t基地\t购置日期\t状态\t{year}年利用率");
                    for item in &register.equipment {
                        let used = utilisation.items.iter().find(|u| u.code == item.asset_no);
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                            item.asset_no,
                            item.name,
                            number::plain(item.value),
                            item.base,
                            item.acquired,
                            item.status,
                            percent(used.and_then(|u| u.percent))
                        );
                    }
                }
                BasesList::Usage => {
                    println!("记录编号\t日期\t基地\t设备\t使用单位\t学时\t人数\t用途");
                    for u in register.usage.iter().filter(|u| u.day.year() == year) {
                        println!(
                            "{}\t{}\t{}\t{}\t{}（{}）\t{}\t{}\t{}",
                            u.record_no,
                            u.day,
                            u.base,
                            u.asset_no.as_deref().unwrap_or("—"),
                            u.user,
                            u.user_kind,
                            number::plain(u.hours),
                            u.people,
                            u.purpose
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn training(
    location: &StoreLocation,
    definitions: &Definitions,
    args: TrainingArgs,
    actor: &str,
) -> Result<ExitCode> {
    let store = open_store(location).await?;
    let code = pick_school(&store, args.school.school).await?;
    let vocabulary = vocabulary(definitions)?;
    match args.action {
        TrainingAction::Import {
            list,
            file,
            replace,
        } => {
            let kind = list.kind();
            let table = read_table(&file, kind.label(), kind.columns())?;
            let import = nianbao_systems::training::read(kind, &table, &vocabulary.training)?;
            let summary = store
                .import_training(&code, import, mode(replace), &vocabulary, actor)
                .await?;
            imported(kind.label(), &file, summary);
        }
        TrainingAction::Export { list, file } => {
            write_sheet(
                &store.training_register(&code).await?.sheet(list.kind()),
                &file,
            )?;
        }
        TrainingAction::List { year } => {
            let register = store.training_register(&code).await?;
            let year = report_year(&store, &code, year).await?;
            println!("{year} 年度社会培训（按培训对象）\n培训对象\t期数\t人次");
            for row in register.by_audience(year, &vocabulary.training) {
                println!(
                    "{}{}\t{}\t{}",
                    row.audience,
                    if row.rural { "（乡村振兴）" } else { "" },
                    row.classes,
                    row.trainees
                );
            }
            println!("\n{year} 年度职业技能等级认定\n职业（工种）\t等级\t认定人数\t取证人数");
            for row in register.by_occupation(year) {
                println!(
                    "{}\t{}\t{}\t{}",
                    row.occupation, row.level, row.assessed, row.certified
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn courses(
    location: &StoreLocation,
    definitions: &Definitions,
    args: CoursesArgs,
    actor: &str,
) -> Result<ExitCode> {
    let store = open_store(location).await?;
    let code = pick_school(&store, args.school.school).await?;
    let vocabulary = vocabulary(definitions)?;
    let today = Day::today();
    match args.action {
        CoursesAction::Import {
            list,
            file,
            replace,
        } => {
            let kind = list.kind();
            let table = read_table(&file, kind.label(), kind.columns())?;
            let import = nianbao_systems::courses::read(kind, &table, &vocabulary.courses)?;
            let summary = store
                .import_courses(&code, import, mode(replace), &vocabulary, actor)
                .await?;
            imported(kind.label(), &file, summary);
        }
        CoursesAction::Export { list, file } => {
            write_sheet(
                &store.courses_register(&code).await?.sheet(list.kind()),
                &file,
            )?;
        }
        CoursesAction::List { course: None } => {
            let register = store.courses_register(&code).await?;
            println!(
                "课程编号\t名称\t级别\t平台\t学时\t最近学期选课\t反馈\t进行中措施（逾期）\t已完成措施"
            );
            for c in register.summaries(&vocabulary.courses, today) {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}（{}）\t{}",
                    c.code,
                    c.name,
                    c.level,
                    c.platform.as_deref().unwrap_or("—"),
                    number::plain(c.hours),
                    match (&c.latest_term, c.latest_students) {
                        (Some(term), Some(n)) => format!("{term}：{n} 人"),
                        _ => "—".into(),
                    },
                    c.feedback,
                    c.open_actions,
                    c.overdue_actions,
                    c.closed_actions
                );
            }
        }
        CoursesAction::List {
            course: Some(course),
        } => {
            let register = store.courses_register(&code).await?;
            let Some(steps) = register.timeline(&course, &vocabulary.courses, today) else {
                bail!("没有编号为「{course}」的课程：用 `nianbao courses list` 查看课程");
            };
            for step in steps {
                println!(
                    "{}\t{}\t{}{}",
                    step.when,
                    step.stage.label(),
                    step.text,
                    step.flag
                        .map(|f| format!("【{}】", f.label()))
                        .unwrap_or_default()
                );
            }
        }
        CoursesAction::Close {
            action,
            evidence,
            date,
        } => {
            let day = match date {
                Some(text) => Day::parse(&text)
                    .with_context(|| format!("日期「{text}」无效，应写作 2025-12-01"))?,
                None => today,
            };
            store
                .close_course_action(&code, &action, &evidence, day, &vocabulary, actor)
                .await?;
            println!("改进措施「{action}」已于 {day} 完成，佐证已记录");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The archive's key: from the key file, or from NIANBAO_PSYCH_KEY.
fn load_key(file: Option<&Path>) -> Result<Key> {
    if let Some(path) = file {
        let size = std::fs::metadata(path)
            .with_context(|| format!("无法读取密钥文件 {}", path.display()))?
            .len();
        if size > 1024 {
            bail!("{} 不像是密钥文件（过大）", path.display());
        }
        let bytes = zeroize::Zeroizing::new(nianbao_io::read_file(path, 1024)?);
        let text = std::str::from_utf8(&bytes)
            .with_context(|| format!("{} 不像是密钥文件（不是文本）", path.display()))?;
        return Ok(Key::parse(text)?);
    }
    match std::env::var("NIANBAO_PSYCH_KEY") {
        Ok(text) => Ok(Key::parse(&zeroize::Zeroizing::new(text))?),
        Err(_) => bail!(
            "没有心理档案密钥：用 --key-file 指定密钥文件，或设置环境变量 NIANBAO_PSYCH_KEY（`nianbao psych keygen 文件` 生成新密钥）"
        ),
    }
}

/// The web app's key: from the key file or NIANBAO_PSYCH_KEY if either is given; without
/// one the app serves everything but the archive itself.
pub fn server_key(file: Option<&Path>) -> Result<Option<std::sync::Arc<Key>>> {
    if file.is_none() && std::env::var_os("NIANBAO_PSYCH_KEY").is_none() {
        eprintln!("心理档案：未配置密钥，档案无法打开（--psych-key-file 或 NIANBAO_PSYCH_KEY）");
        return Ok(None);
    }
    Ok(Some(std::sync::Arc::new(load_key(file)?)))
}

/// Writes a new key to a file only its owner can read; never overwrites.
fn write_key_file(path: &Path) -> Result<()> {
    use std::io::Write;
    let (_, text) = Key::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("无法创建 {}（已存在的密钥文件不会被覆盖）", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// Signs the counsellor in: the password from the terminal, or one line of stdin.
async fn sign_in(store: &Store, name: &str) -> Result<User> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        zeroize::Zeroizing::new(rpassword::prompt_password(format!("{name} 的密码："))?)
    } else {
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .context("无法从标准输入读取密码")?;
        zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string())
    };
    match store.authenticate(name, &password).await? {
        Some(user) if user.role == Role::Counsellor => Ok(user),
        Some(user) => bail!(
            "用户「{}」是{}：只有心理辅导员可以查看或处理心理档案",
            user.name,
            user.role.label()
        ),
        None => bail!("用户名或密码不正确"),
    }
}

pub async fn psych(
    location: &StoreLocation,
    definitions: &Definitions,
    args: PsychArgs,
) -> Result<ExitCode> {
    if let PsychAction::Keygen { file } = &args.action {
        write_key_file(file)?;
        println!(
            "已生成心理档案密钥：{}（仅所有者可读）。请妥善保管并另行备份：丢失密钥后档案将无法读取；密钥不要与数据库放在一起",
            file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(location).await?;
    let code = pick_school(&store, args.school.school).await?;
    let vocabulary = vocabulary(definitions)?;
    match args.action {
        PsychAction::Keygen { .. } => unreachable!("handled above"),
        PsychAction::Import {
            list,
            file,
            replace,
            reader,
        } => {
            let key = load_key(args.key_file.as_deref())?;
            let user = sign_in(&store, &reader.user).await?;
            let kind = list.kind();
            let table = read_table(&file, kind.label(), kind.columns())?;
            let rows = nianbao_systems::psych::records::read(kind, &table, &vocabulary.psych)?;
            let access = PsychAccess {
                user: &user,
                reason: &reader.reason,
            };
            let summary = store
                .import_psych(
                    &code,
                    kind,
                    rows,
                    mode(replace),
                    &Sealer::new(&key, &code),
                    &access,
                    &vocabulary,
                )
                .await?;
            imported(kind.label(), &file, summary);
        }
        PsychAction::Export { list, file, reader } => {
            let key = load_key(args.key_file.as_deref())?;
            let user = sign_in(&store, &reader.user).await?;
            let access = PsychAccess {
                user: &user,
                reason: &reader.reason,
            };
            let sheet = store
                .export_psych(
                    &code,
                    list.kind(),
                    &Sealer::new(&key, &code),
                    &access,
                    &vocabulary,
                )
                .await?;
            write_sheet(&sheet, &file)?;
            eprintln!("注意：导出的文件含学生心理健康信息，未加密，请按学校规定保管并及时删除");
        }
        PsychAction::List { archive, reader } => {
            let key = load_key(args.key_file.as_deref())?;
            let user = sign_in(&store, &reader.user).await?;
            let access = PsychAccess {
                user: &user,
                reason: &reader.reason,
            };
            let sealer = Sealer::new(&key, &code);
            match archive {
                None => {
                    println!("档案号\t学号\t姓名\t班级\t记录数\t最近记录\t最近筛查风险\t保存至");
                    for a in store
                        .psych_archives(&code, &sealer, &access, &vocabulary)
                        .await?
                    {
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                            a.id,
                            a.identity.student_no,
                            a.identity.name,
                            a.identity.class.as_deref().unwrap_or("—"),
                            a.records,
                            a.last_day.map(|d| d.to_string()).unwrap_or_default(),
                            a.latest_risk.as_deref().unwrap_or("—"),
                            a.retain_until
                        );
                    }
                }
                Some(id) => {
                    let Some((archive, retain)) = store
                        .psych_archive(&code, id, &sealer, &access, &vocabulary)
                        .await?
                    else {
                        bail!("没有档案号为 {id} 的档案");
                    };
                    let who = &archive.identity;
                    println!(
                        "{}（{}，{}），档案保存至 {retain}",
                        who.name,
                        who.student_no,
                        who.class.as_deref().unwrap_or("班级未填")
                    );
                    for event in &archive.events {
                        println!("{}", event_line(event));
                    }
                }
            }
        }
        PsychAction::Summary { year } => {
            let data = store
                .load_dataset_with_registers(&code, definitions)
                .await?;
            let year = match year {
                Some(y) => nianbao_core::Year::new(y)?,
                None => data.school.report_year,
            };
            println!(
                "{year} 年度心理健康工作统计（少于 {} 的人数不公开）",
                vocabulary.psych.min_cell
            );
            for element in definitions
                .elements
                .iter()
                .filter(|e| e.register.as_deref() == Some("psych"))
            {
                let shown = data
                    .value(year, &element.code)
                    .map_or("不公开或无记录".to_string(), |v| {
                        format!("{} {}", number::plain(v), element.unit)
                    });
                println!("{}\t{shown}", element.name);
            }
        }
        PsychAction::Log { user, limit } => {
            let user = sign_in(&store, &user).await?;
            for entry in store.psych_access_log(&code, &user, limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t事由：{}",
                    nianbao_core::clock::beijing_time(&entry.at),
                    entry.actor,
                    entry.action,
                    entry.subject,
                    entry.reason
                );
            }
        }
        PsychAction::Purge { user } => {
            let user = sign_in(&store, &user).await?;
            let gone = store.purge_psych(&code, Day::today(), &user).await?;
            println!(
                "已删除保存期满（最后一条记录后 {} 年）的档案 {gone} 份；各年度的汇总人数保留",
                vocabulary.psych.retention_years
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One entry of a student's archive as a line of text.
pub fn event_line(event: &ArchiveEvent) -> String {
    match event {
        ArchiveEvent::Screening(s) => format!(
            "{}\t筛查\t{}，得分 {}，{}{}",
            s.day,
            s.instrument,
            number::plain(s.score),
            s.risk,
            s.note
                .as_ref()
                .map(|n| format!("；{n}"))
                .unwrap_or_default()
        ),
        ArchiveEvent::Session(s) => format!(
            "{}\t{}\t{}{}{}",
            s.day,
            s.form,
            s.topic.as_deref().unwrap_or(""),
            s.counsellor
                .as_ref()
                .map(|c| format!("（{c}）"))
                .unwrap_or_default(),
            s.note
                .as_ref()
                .map(|n| format!("；{n}"))
                .unwrap_or_default()
        ),
        ArchiveEvent::FollowUp(f) => format!(
            "{}\t跟进\t{}{}{}",
            f.day,
            f.method,
            f.note
                .as_ref()
                .map(|n| format!("；{n}"))
                .unwrap_or_default(),
            f.next
                .map(|d| format!("；下次跟进 {d}"))
                .unwrap_or_default()
        ),
    }
}
