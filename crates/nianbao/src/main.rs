//! The `nianbao` command line: the one binary a school or an education commission runs.
//! Every command works on one store (`--db`, a SQLite file by default).

mod output;
mod sample;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use nianbao_core::{Dataset, Definitions, Severity, Year, evaluate_indicators, run_checks};
use nianbao_store::Store;

#[derive(Parser)]
#[command(
    name = "nianbao",
    version,
    about = "年报：职业学校质量年度报告的数据、核查与生成"
)]
struct Cli {
    /// The SQLite store file shared by every command.
    #[arg(long, global = true, env = "NIANBAO_DB", default_value = "nianbao.db")]
    db: PathBuf,
    /// Use this database instead of the SQLite file, e.g. postgres://user@host/nianbao.
    #[arg(long, global = true, env = "NIANBAO_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load the sample school into the store, check it and write out/report.html.
    Demo {
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Create the store (or bring its schema up to date).
    Init,
    /// Import a dataset folder (school.toml, majors.csv, students.csv, years/*.toml) in one transaction.
    Import { path: PathBuf },
    /// Export a school's dataset to a folder that `import` reads back.
    Export {
        path: PathBuf,
        #[arg(long)]
        school: Option<String>,
    },
    /// List the schools in the store.
    Schools,
    /// Run every check on a school's data and print the findings.
    Check {
        #[arg(long)]
        school: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compute the indicators of one year and judge them against the standards.
    Indicators {
        #[arg(long)]
        school: Option<String>,
        /// The year (default: the school's report year).
        #[arg(long)]
        year: Option<i64>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Generate the annual report.
    Report {
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        year: Option<i64>,
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Accept a warning with a written explanation (shown with the finding and in the report).
    Accept {
        /// The finding's key, as `check` prints it, e.g. students.stock-flow:2024:电子商务.
        key: String,
        /// Why the figure is right, or what explains it.
        #[arg(long)]
        because: String,
        #[arg(long)]
        school: Option<String>,
    },
    /// Show the newest changes to a school's data.
    History {
        #[arg(long)]
        school: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nianbao: 无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Where the store is: a database URL if one was given, else the SQLite file.
struct StoreLocation {
    db: PathBuf,
    url: Option<String>,
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
        Some(url) => Store::open(url).await,
        None => Store::open_sqlite(&location.db).await,
    };
    opened.with_context(|| format!("无法打开数据库 {}", location.describe()))
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
    };
    let db = &location;
    match cli.command {
        Command::Demo { out } => demo(db, &out, &definitions).await,
        Command::Init => {
            open_store(db).await?;
            println!("数据库已就绪：{}", db.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { path } => {
            let data = nianbao_io::read_dataset(&path, &definitions)?;
            let store = open_store(db).await?;
            let summary = store.save_dataset(&data, &actor()).await?;
            println!(
                "已导入 {}（{}）：新增 {} 项，修改 {} 项，删除 {} 项数据",
                data.school.name, data.school.code, summary.added, summary.changed, summary.removed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { path, school } => {
            let store = open_store(db).await?;
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            nianbao_io::write_dataset(&path, &data)?;
            println!("已导出 {} 到 {}", data.school.name, path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schools => {
            let store = open_store(db).await?;
            for school in store.schools().await? {
                println!("{}\t{}", school.code, school.name);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { school, format } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset(&pick_school(&store, school).await?)
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
        } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset(&pick_school(&store, school).await?)
                .await?;
            let year = pick_year(&data, year)?;
            let results = evaluate_indicators(&definitions, &data, year);
            match format {
                Format::Json => println!("{}", output::indicators_json(&results)?),
                Format::Text => print!("{}", output::indicators_text(&results, year)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { school, year, out } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset(&pick_school(&store, school).await?)
                .await?;
            let year = pick_year(&data, year)?;
            let path = write_report(&definitions, &data, year, &out)?;
            println!("已生成 {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Accept {
            key,
            because,
            school,
        } => {
            let store = open_store(db).await?;
            let data = store
                .load_dataset(&pick_school(&store, school).await?)
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

/// Who is making a change from the command line.
fn actor() -> String {
    std::env::var("USER")
        .map(|u| format!("cli:{u}"))
        .unwrap_or_else(|_| "cli".to_string())
}

fn write_report(
    definitions: &Definitions,
    data: &Dataset,
    year: Year,
    out: &Path,
) -> Result<PathBuf> {
    let findings = run_checks(definitions, data);
    let indicators = evaluate_indicators(definitions, data, year);
    let input = nianbao_report::ReportInput {
        definitions,
        data,
        year,
        findings: &findings,
        indicators: &indicators,
    };
    let html = nianbao_report::render_html(&input)?;
    std::fs::create_dir_all(out)
        .with_context(|| format!("无法创建输出文件夹 {}", out.display()))?;
    let path = out.join("report.html");
    std::fs::write(&path, html).with_context(|| format!("无法写入 {}", path.display()))?;
    Ok(path)
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
    let data = store.load_dataset(&data.school.code).await?;
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
    let report = write_report(definitions, &data, year, out)?;
    println!("已写出 {}", report.display());
    println!("用时 {:.2} 秒", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
