//! The `nianbao points` subcommands: set up a school's points system (tree, roster,
//! terms), record events from CSV, read totals, rankings, profiles and histories, draw up
//! award and recommendation lists, print the annual report's figures, generate a
//! synthetic school and time aggregation against the database's own GROUP BY.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

use nianbao_points::aggregate::{self, Span};
use nianbao_points::awards::{self, RulesFile};
use nianbao_points::ledger::{self, parse_date};
use nianbao_points::roster;
use nianbao_points::synth::{self, SynthConfig};
use nianbao_points::tree::{Dimension, Tree};
use nianbao_store::points::{PointsStore, SchoolLedger};

/// 积分制学生发展：积分体系、名册、积分流水、八维画像、评优与推荐。
#[derive(Debug, Args)]
pub struct PointsArgs {
    /// 学校代码（数据库中只有一所学校时可省略）。
    #[arg(long, global = true)]
    pub school: Option<String>,
    /// 列式缓存文件夹（SQLite 默认在数据库文件旁）。
    #[arg(long, global = true)]
    pub cache: Option<PathBuf>,
    #[command(subcommand)]
    pub command: PointsCommand,
}

#[derive(Debug, Subcommand)]
pub enum PointsCommand {
    /// 建立学校的积分账本。
    Init {
        #[arg(long)]
        name: String,
    },
    /// 积分体系：载入新版本或查看。
    Tree {
        #[command(subcommand)]
        command: TreeCommand,
    },
    /// 从 CSV 导入名册（学号,姓名,班级,专业,专业部,入学年份）。
    Roster { file: PathBuf },
    /// 学期：设置、结账、列出。
    Period {
        #[command(subcommand)]
        command: PeriodCommand,
    },
    /// 从 CSV 批量记录积分（一个事务：任何一行有误则整批不导入）。
    Import { file: PathBuf },
    /// 按学生、班级、专业、专业部或全校汇总。
    Summary {
        #[arg(long, value_enum, default_value_t = Group::Department)]
        group: Group,
        #[arg(long, value_enum, default_value_t = Measure::Dimension)]
        by: Measure,
        #[command(flatten)]
        span: SpanArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 排名与百分位。
    Rank {
        #[arg(long, value_enum, default_value_t = Group::Department)]
        scope: Group,
        /// 「总分」或维度名称。
        #[arg(long, default_value = "总分")]
        by: String,
        #[arg(long, default_value_t = 10)]
        top: usize,
        #[command(flatten)]
        span: SpanArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 学生的八维画像（雷达图数据；--svg 写出雷达图）。
    Profile {
        student: String,
        #[arg(long)]
        svg: Option<PathBuf>,
        #[command(flatten)]
        span: SpanArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 学生的积分流水，最新在前。
    History {
        student: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// 学生画像与积分流水的查阅记录（谁、何时、查阅了谁的什么），最新在前。
    Reads {
        /// 只列这名学生（学号）的查阅记录。
        student: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// 排名与评优名单的导出记录（谁、何时、导出了什么、多少行），最新在前。
    Exports {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// 按规则评出奖项与推荐名单，并写明每人的理由。
    Awards {
        #[arg(long)]
        rules: Option<PathBuf>,
        /// 只评这一条规则（代码）。
        #[arg(long)]
        rule: Option<String>,
        #[command(flatten)]
        span: SpanArgs,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// 年报 2.1 节所需的数字。
    Figures {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// 生成一所模拟学校（名册、学期与积分事件）并导入。
    Synth {
        #[arg(long)]
        students: usize,
        #[arg(long)]
        events: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 2025)]
        first_year: i32,
        #[arg(long, default_value_t = 2)]
        years: i32,
        #[arg(long, default_value_t = 100_000)]
        batch: usize,
        /// 不导入积分事件，而是写成 CSV 文件（供 `points import` 导入）；名册、积分体系与学期照常建立。
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// 计时：学生×维度汇总，列式缓存对比数据库 GROUP BY。
    Bench {
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum TreeCommand {
    /// 载入积分体系文件（TOML）；不给文件则载入内置示例。
    Load { file: Option<PathBuf> },
    /// 列出当前积分体系的素养、要点与观测点。
    Show,
}

#[derive(Debug, Subcommand)]
pub enum PeriodCommand {
    /// 设置学期：代码、学年与起止日期。
    Add {
        code: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// 结账：一个学期，或用 --year 结整个学年。结账后不能再记录或冲销。
    Close {
        code: Option<String>,
        #[arg(long)]
        year: Option<i32>,
    },
    /// 列出学期。
    List,
}

#[derive(Debug, Clone, Args)]
pub struct SpanArgs {
    /// 学期代码（可重复）。
    #[arg(long = "term")]
    pub terms: Vec<String>,
    /// 学年（如 2025 表示 2025—2026 学年）。
    #[arg(long)]
    pub year: Option<i32>,
    /// 起始日期 YYYY-MM-DD。
    #[arg(long)]
    pub from: Option<String>,
    /// 截止日期 YYYY-MM-DD。
    #[arg(long)]
    pub to: Option<String>,
}

/// How students are grouped (`--group`, `--scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Group {
    Student,
    Class,
    Major,
    Department,
    School,
}

impl From<Group> for aggregate::Group {
    fn from(g: Group) -> aggregate::Group {
        match g {
            Group::Student => aggregate::Group::Student,
            Group::Class => aggregate::Group::Class,
            Group::Major => aggregate::Group::Major,
            Group::Department => aggregate::Group::Department,
            Group::School => aggregate::Group::School,
        }
    }
}

/// What totals are broken down by (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Measure {
    Total,
    Competency,
    Point,
    Dimension,
}

impl From<Measure> for aggregate::Measure {
    fn from(m: Measure) -> aggregate::Measure {
        match m {
            Measure::Total => aggregate::Measure::Total,
            Measure::Competency => aggregate::Measure::Competency,
            Measure::Point => aggregate::Measure::Point,
            Measure::Dimension => aggregate::Measure::Dimension,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The report year of a school created by `points init`: last year, in Beijing time.
fn report_year() -> Result<nianbao_core::Year> {
    let now = time::OffsetDateTime::now_utc().to_offset(nianbao_core::clock::beijing());
    Ok(nianbao_core::Year::new(i64::from(now.year()) - 1)?)
}

fn actor() -> String {
    std::env::var("USER")
        .map(|u| format!("cli:{u}"))
        .unwrap_or_else(|_| "cli".to_string())
}

async fn open(db: &Path, url: Option<&str>, cache: Option<PathBuf>) -> Result<PointsStore> {
    let store = match (url, cache) {
        (Some(url), cache) => PointsStore::open(url, cache).await,
        (None, None) => PointsStore::open_sqlite(db).await,
        (None, Some(cache)) => {
            PointsStore::open(&nianbao_store::sqlite_url(db)?, Some(cache)).await
        }
    };
    store.with_context(|| "无法打开积分数据库".to_string())
}

async fn school(store: &PointsStore, school: &Option<String>) -> Result<String> {
    if let Some(code) = school {
        return Ok(code.clone());
    }
    let schools = store.schools().await?;
    match schools.as_slice() {
        [] => bail!("还没有学校：先运行 `nianbao points init --school 代码 --name 名称`"),
        [(code, _)] => Ok(code.clone()),
        many => bail!(
            "有多所学校，请用 --school 指定：{}",
            many.iter()
                .map(|(c, n)| format!("{c}（{n}）"))
                .collect::<Vec<_>>()
                .join("、")
        ),
    }
}

fn span_of(sl: &SchoolLedger, args: &SpanArgs) -> Result<(Span, String)> {
    let mut span = Span::all();
    let mut label = Vec::new();
    let mut terms = Vec::new();
    for code in &args.terms {
        let i = sl
            .ledger
            .periods
            .iter()
            .position(|p| &p.code == code)
            .with_context(|| format!("没有「{code}」这个学期"))?;
        terms.push(i);
        label.push(format!("{code}学期"));
    }
    if let Some(y) = args.year {
        terms.extend(
            sl.ledger
                .periods
                .iter()
                .enumerate()
                .filter(|(_, p)| p.school_year == y)
                .map(|(i, _)| i),
        );
        label.push(format!("{y} 学年"));
    }
    if !args.terms.is_empty() || args.year.is_some() {
        span.periods = Some(terms);
    }
    let day = |s: &Option<String>, what: &str| -> Result<Option<i32>> {
        s.as_deref()
            .map(|d| parse_date(d).with_context(|| format!("{what}「{d}」应写成 YYYY-MM-DD")))
            .transpose()
    };
    span.from_day = day(&args.from, "起始日期")?;
    span.to_day = day(&args.to, "截止日期")?;
    if let Some(f) = &args.from {
        label.push(format!("自 {f}"));
    }
    if let Some(t) = &args.to {
        label.push(format!("至 {t}"));
    }
    Ok((span, label.join("、")))
}

fn student_id(sl: &SchoolLedger, number: &str) -> Result<u32> {
    sl.ledger
        .roster
        .id_of(number.trim())
        .with_context(|| format!("名册中没有学号为「{number}」的学生"))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs one `nianbao points` command on the store at `db` (or `url`, when given).
pub async fn run(args: PointsArgs, db: &Path, url: Option<&str>) -> Result<ExitCode> {
    let store = open(db, url, args.cache.clone()).await?;
    let result = command(&store, args).await;
    // SQLite folds its write-ahead log back into the file: the file alone holds every write.
    store.database().close().await;
    result
}

async fn command(store: &PointsStore, args: PointsArgs) -> Result<ExitCode> {
    match args.command {
        PointsCommand::Init { name } => {
            let Some(code) = &args.school else {
                bail!("请用 --school 给出学校代码");
            };
            store
                .ensure_school(code, &name, report_year()?, &actor())
                .await?;
            println!("已建立 {name}（{code}）的积分账本");
        }
        PointsCommand::Tree { command } => {
            let code = school(store, &args.school).await?;
            match command {
                TreeCommand::Load { file } => {
                    let tree = match file {
                        Some(f) => Tree::from_file(&f)?,
                        None => Tree::sample(),
                    };
                    store.load_tree(&code, &tree, &actor()).await?;
                    println!(
                        "已载入第 {} 版「{}」：{} 项核心素养、{} 个基本要点、{} 个观测点",
                        tree.version,
                        tree.name,
                        tree.competencies.len(),
                        tree.points.len(),
                        tree.observations.len()
                    );
                }
                TreeCommand::Show => {
                    let sl = store.open_ledger(&code).await?;
                    let Some(tree) = sl.ledger.catalog.latest() else {
                        bail!("学校 {code} 还没有积分体系");
                    };
                    println!("第 {} 版「{}」", tree.version, tree.name);
                    for (ci, c) in tree.competencies.iter().enumerate() {
                        println!("{} {}", c.code, c.name);
                        for (pi, p) in tree
                            .points
                            .iter()
                            .enumerate()
                            .filter(|(_, p)| p.competency == ci)
                        {
                            println!("  {} {}", p.code, p.name);
                            for o in tree.observations.iter().filter(|o| o.point == pi) {
                                let value = if o.min == o.max {
                                    format!("{:+}", o.value)
                                } else {
                                    format!("{:+}～{:+}", o.min, o.max)
                                };
                                println!(
                                    "    {} {}\t{value}\t每日≤{}次 每学期≤{}分\t{}\t{}",
                                    o.code,
                                    o.name,
                                    o.per_day,
                                    o.per_term,
                                    o.dimensions
                                        .iter()
                                        .map(|d| d.name())
                                        .collect::<Vec<_>>()
                                        .join("、"),
                                    o.roles.join("、")
                                );
                            }
                        }
                    }
                }
            }
        }
        PointsCommand::Roster { file } => {
            let code = school(store, &args.school).await?;
            let rows = roster::read_roster_csv(&file)?;
            let (added, updated) = store.import_roster(&code, &rows).await?;
            println!("名册已导入：新增 {added} 人，更新 {updated} 人");
        }
        PointsCommand::Period { command } => {
            let code = school(store, &args.school).await?;
            match command {
                PeriodCommand::Add {
                    code: term,
                    year,
                    from,
                    to,
                } => {
                    let f = parse_date(&from)
                        .with_context(|| format!("起始日期「{from}」应写成 YYYY-MM-DD"))?;
                    let t = parse_date(&to)
                        .with_context(|| format!("结束日期「{to}」应写成 YYYY-MM-DD"))?;
                    store.define_period(&code, &term, year, f, t).await?;
                    println!("已设置学期 {term}（{from} 至 {to}）");
                }
                PeriodCommand::Close { code: term, year } => {
                    if term.is_none() && year.is_none() {
                        bail!("请给出学期代码，或用 --year 结整个学年");
                    }
                    let closed = store.close(&code, term.as_deref(), year, &actor()).await?;
                    if closed.is_empty() {
                        println!("没有需要结账的学期");
                    } else {
                        println!("已结账：{}", closed.join("、"));
                    }
                }
                PeriodCommand::List => {
                    for p in store.periods(&code).await? {
                        println!(
                            "{}\t{} 学年\t{} 至 {}\t{}",
                            p.code,
                            p.school_year,
                            ledger::format_date(p.starts),
                            ledger::format_date(p.ends),
                            if p.closed { "已结账" } else { "进行中" }
                        );
                    }
                }
            }
        }
        PointsCommand::Import { file } => {
            let code = school(store, &args.school).await?;
            // Read and checked 10,000 rows at a time, all in one transaction.
            let reader = ledger::EventReader::open(&file)?;
            let mut sl = store.open_ledger(&code).await?;
            let summary = store
                .import_events(&mut sl, reader, 10_000, &actor())
                .await?;
            store.save_cache(&sl).await?;
            println!(
                "已导入第 {} 批：{} 条积分事件（其中冲销 {} 条）",
                summary.batch, summary.events, summary.reversals
            );
        }
        PointsCommand::Summary {
            group,
            by,
            span,
            format,
        } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let (span, label) = span_of(&sl, &span)?;
            let table = aggregate::breakdown(&sl.ledger, group.into(), by.into(), &span);
            match format {
                Format::Json => print_json(&table)?,
                Format::Text => {
                    if !label.is_empty() {
                        println!("时段：{label}");
                    }
                    println!(
                        "{}\t人数\t事件数\t总分\t{}",
                        table.group_by,
                        table.columns.join("\t")
                    );
                    for r in &table.rows {
                        let v: Vec<String> = r.values.iter().map(i64::to_string).collect();
                        println!(
                            "{}\t{}\t{}\t{}\t{}",
                            r.group,
                            r.students,
                            r.events,
                            r.total,
                            v.join("\t")
                        );
                    }
                }
            }
        }
        PointsCommand::Rank {
            scope,
            by,
            top,
            span,
            format,
        } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let (span, _) = span_of(&sl, &span)?;
            let scores: Vec<i64> = match Dimension::from_name(&by) {
                Some(d) => aggregate::student_dimensions(&sl.ledger, &span)
                    .iter()
                    .map(|r| r[d.index()])
                    .collect(),
                None if by == "总分" => aggregate::student_totals(&sl.ledger, &span),
                None => bail!(
                    "--by 应为「总分」或维度名称：{}",
                    Dimension::ALL.map(|d| d.name()).join("、")
                ),
            };
            let group: aggregate::Group = scope.into();
            let mut ranked = aggregate::rank(&sl.ledger, group, &scores);
            ranked.retain(|r| r.rank <= top);
            // Printed lists leave the system as the web's downloads do: logged with who.
            let what = format!("学生排名（{}，{by}）", group.label());
            store.log_export(&sl, &actor(), &what, ranked.len()).await?;
            match format {
                Format::Json => print_json(&ranked)?,
                Format::Text => {
                    for r in &ranked {
                        let s = sl.ledger.roster.student(r.student);
                        println!(
                            "{}\t第 {} 名/{}\t{}\t{}\t{by} {}\t超过 {:.1}%",
                            r.scope,
                            r.rank,
                            r.of,
                            s.map_or("", |s| s.number.as_str()),
                            s.map_or("", |s| s.name.as_str()),
                            r.score,
                            r.percentile
                        );
                    }
                }
            }
        }
        PointsCommand::Profile {
            student,
            svg,
            span,
            format,
        } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let (span, _) = span_of(&sl, &span)?;
            let id = student_id(&sl, &student)?;
            let profile = aggregate::profile(&sl.ledger, id, &span)
                .with_context(|| format!("名册中没有学号为「{student}」的学生"))?;
            store.log_read(&sl, id, &actor(), "八维画像").await?;
            if let Some(path) = &svg {
                std::fs::write(path, aggregate::radar_svg(&profile))
                    .with_context(|| format!("无法写入 {}", path.display()))?;
            }
            match format {
                Format::Json => print_json(&profile)?,
                Format::Text => {
                    let s = &profile.student;
                    println!(
                        "{} {}（{}，{}，{}）总分 {}，事件 {} 条（冲销 {} 条）",
                        s.number,
                        s.name,
                        s.class,
                        s.major,
                        s.department,
                        profile.total,
                        profile.events,
                        profile.reversals
                    );
                    for d in &profile.dimensions {
                        println!(
                            "  {}\t{}\t班级平均 {:.1}\t全校平均 {:.1}\t超过全校 {:.1}%",
                            d.dimension, d.score, d.class_average, d.school_average, d.percentile
                        );
                    }
                    if let Some(path) = &svg {
                        println!("雷达图：{}", path.display());
                    }
                }
            }
        }
        PointsCommand::History { student, limit } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let id = student_id(&sl, &student)?;
            store.log_read(&sl, id, &actor(), "积分流水").await?;
            for e in store.history(&sl, id, limit).await? {
                println!(
                    "{}\t{}\t{} {}\t{:+}\t{}（{}）\t{}{}{}",
                    e.at,
                    e.event_id,
                    e.observation,
                    e.observation_name,
                    e.value,
                    e.recorder,
                    e.role,
                    e.reason,
                    e.evidence
                        .map(|v| format!("\t佐证：{v}"))
                        .unwrap_or_default(),
                    e.reverses
                        .map(|s| format!("\t冲销第 {s} 号事件"))
                        .unwrap_or_default()
                );
            }
        }
        PointsCommand::Awards {
            rules,
            rule,
            span,
            format,
        } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let rules = match rules {
                Some(f) => RulesFile::from_file(&f)?,
                None => RulesFile::sample(),
            };
            let year = span.year.or_else(|| {
                span.terms.first().and_then(|t| {
                    sl.ledger
                        .periods
                        .iter()
                        .find(|p| &p.code == t)
                        .map(|p| p.school_year)
                })
            });
            let Some(year) = year else {
                bail!("请用 --term 或 --year 指定评定的时段");
            };
            let (span, label) = span_of(&sl, &span)?;
            let lists: Vec<_> = rules
                .rules
                .iter()
                .filter(|r| rule.as_ref().is_none_or(|c| &r.code == c))
                .map(|r| awards::evaluate(&sl.ledger, r, &span, year, &label))
                .collect();
            let rows = lists.iter().map(|l| l.listed.len()).sum();
            store
                .log_export(&sl, &actor(), "评优与推荐名单", rows)
                .await?;
            match format {
                Format::Json => print_json(&lists)?,
                Format::Text => {
                    for list in &lists {
                        println!(
                            "【{}】{}（{}）：{} 人",
                            list.kind,
                            list.name,
                            list.span,
                            list.listed.len()
                        );
                        for l in &list.listed {
                            println!(
                                "  {} {}\t{}\t{}",
                                l.number,
                                l.name,
                                l.class,
                                l.reasons.join("；")
                            );
                        }
                    }
                }
            }
        }
        PointsCommand::Figures { year, rules } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let rules = match rules {
                Some(f) => RulesFile::from_file(&f)?,
                None => RulesFile::sample(),
            };
            print_json(&awards::annual_figures(&sl.ledger, &sl.name, year, &rules))?;
        }
        PointsCommand::Synth {
            students,
            events,
            seed,
            first_year,
            years,
            batch,
            csv,
        } => {
            let code = args.school.clone().unwrap_or_else(|| format!("SYN{seed}"));
            synthesize(
                store,
                &code,
                students,
                events,
                seed,
                first_year,
                years,
                batch,
                csv.as_deref(),
            )
            .await?;
        }
        PointsCommand::Reads { student, limit } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let id = match &student {
                Some(number) => Some(student_id(&sl, number)?),
                None => None,
            };
            let reads = store.reads(&sl, id, limit.clamp(1, 10_000)).await?;
            if reads.is_empty() {
                println!("没有查阅记录");
            }
            for r in reads {
                let name = sl
                    .ledger
                    .roster
                    .id_of(&r.student)
                    .and_then(|id| sl.ledger.roster.student(id))
                    .map(|s| s.name.as_str())
                    .unwrap_or("");
                println!(
                    "{}\t{}\t{} {}\t{}",
                    nianbao_core::clock::beijing_time(&r.read_at),
                    r.reader,
                    r.student,
                    name,
                    r.what
                );
            }
        }
        PointsCommand::Exports { limit } => {
            let code = school(store, &args.school).await?;
            let sl = store.open_ledger(&code).await?;
            let exports = store.exports(&sl, limit.clamp(1, 10_000)).await?;
            if exports.is_empty() {
                println!("没有导出记录");
            }
            for e in exports {
                println!(
                    "{}\t{}\t{}\t{} 行",
                    nianbao_core::clock::beijing_time(&e.exported_at),
                    e.exported_by,
                    e.what,
                    e.rows
                );
            }
        }
        PointsCommand::Bench { repeat } => {
            let code = school(store, &args.school).await?;
            bench(store, &code, repeat.max(1)).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
async fn synthesize(
    store: &PointsStore,
    code: &str,
    students: usize,
    events: usize,
    seed: u64,
    first_year: i32,
    years: i32,
    batch: usize,
    csv: Option<&Path>,
) -> Result<()> {
    if students == 0 {
        bail!("--students 至少为 1");
    }
    let cfg = SynthConfig {
        students,
        events,
        seed,
        first_year,
        years: years.max(1),
        class_size: 45,
    };
    let started = Instant::now();
    store
        .ensure_school(code, &format!("模拟学校 {seed}"), report_year()?, "synth")
        .await?;
    let mut sl = store.open_ledger(code).await?;
    if sl.ledger.catalog.trees.is_empty() {
        store.load_tree(code, &Tree::sample(), "synth").await?;
    }
    let tree = Tree::sample();
    let roster = synth::roster(&cfg);
    store.import_roster(code, &roster).await?;
    let existing: Vec<String> = sl.ledger.periods.iter().map(|p| p.code.clone()).collect();
    for (term, year, from, to) in synth::terms(&cfg) {
        if !existing.contains(&term) {
            store.define_period(code, &term, year, from, to).await?;
        }
    }
    sl = store.open_ledger(code).await?;
    println!(
        "学校 {code}：名册 {} 人，学期 {} 个",
        sl.ledger.roster.len(),
        sl.ledger.periods.len()
    );
    let mut generator = synth::EventGenerator::new(&cfg, &tree, &roster);
    if let Some(path) = csv {
        let file =
            std::fs::File::create(path).with_context(|| format!("无法写入 {}", path.display()))?;
        let mut writer = ledger::EventWriter::new(file)?;
        let mut written = 0usize;
        loop {
            let rows = generator.next_batch(batch.max(1));
            if rows.is_empty() {
                break;
            }
            writer.write(&rows)?;
            written += rows.len();
        }
        writer.finish()?;
        println!("已写出 {written} 条积分事件到 {}", path.display());
        return Ok(());
    }
    let mut appended = 0usize;
    let mut append_time = 0.0f64;
    loop {
        let rows = generator.next_batch(batch.max(1));
        if rows.is_empty() {
            break;
        }
        let t = Instant::now();
        let summary = store
            .append(&mut sl, &format!("synth:{seed}"), &rows, "synth")
            .await?;
        append_time += t.elapsed().as_secs_f64();
        appended += summary.events;
        eprint!("\r已导入 {appended} 条");
    }
    eprintln!();
    let t = Instant::now();
    store.save_cache(&sl).await?;
    let cache_time = t.elapsed().as_secs_f64();
    println!(
        "共导入 {appended} 条积分事件；导入（核查+写库）{append_time:.1} 秒，{:.0} 条/秒；写缓存 {cache_time:.1} 秒；总用时 {:.1} 秒",
        appended as f64 / append_time.max(1e-9),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn bench(store: &PointsStore, code: &str, repeat: usize) -> Result<()> {
    // Make sure the cache is current before timing.
    let sl = store.open_ledger(code).await?;
    let n = sl.ledger.columns.len();
    drop(sl);
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut sql = Vec::new();
    for _ in 0..repeat {
        let t = Instant::now();
        let sl = store.open_ledger(code).await?;
        let dims = aggregate::student_dimensions(&sl.ledger, &Span::all());
        cold.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let dims2 = aggregate::student_dimensions(&sl.ledger, &Span::all());
        warm.push(t.elapsed().as_secs_f64());
        let check: i64 = dims.iter().flatten().sum();
        if dims2 != dims {
            bail!("两次列式汇总结果不同");
        }
        let t = Instant::now();
        let rows = store.sql_student_dimensions(sl.school_id).await?;
        sql.push(t.elapsed().as_secs_f64());
        let sum: i64 = rows.iter().map(|r| r.2).sum();
        if sum != check {
            bail!("列式汇总 {check} 与数据库 GROUP BY {sum} 不一致");
        }
    }
    let (c, w, s) = (median(cold), median(warm), median(sql));
    println!("事件 {n} 条，学生×维度汇总，{repeat} 次取中位数：");
    println!("  列式（读缓存+汇总）{:.3} 秒", c);
    println!("  列式（内存中汇总）  {:.3} 秒", w);
    println!("  数据库 GROUP BY      {:.3} 秒", s);
    println!(
        "  倍数：读缓存+汇总快 {:.1} 倍；内存中快 {:.1} 倍",
        s / c,
        s / w
    );
    Ok(())
}
