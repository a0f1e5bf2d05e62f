//! `nianbao points` without the report stack, for benchmark runs:
//! `cargo run --release -p nianbao-points --example points -- --db FILE synth …`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(name = "points", about = "积分制学生发展（独立运行）")]
struct Cli {
    #[arg(long, global = true, env = "NIANBAO_DB", default_value = "nianbao.db")]
    db: PathBuf,
    #[arg(long, global = true, env = "NIANBAO_DATABASE_URL")]
    database_url: Option<String>,
    #[command(flatten)]
    points: nianbao_points::cli::PointsArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("points: 无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(nianbao_points::cli::run(
        cli.points,
        &cli.db,
        cli.database_url.as_deref(),
    )) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("points: {e:#}");
            ExitCode::from(2)
        }
    }
}
