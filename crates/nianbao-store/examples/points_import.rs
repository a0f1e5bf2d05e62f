//! What `nianbao points import FILE` does, without the report stack, so the import benchmark
//! (benches/points-import.sh) builds in release in minutes: the same library calls — open
//! the ledger, stream the file into it in one transaction, write the columnar cache.
//!
//! Usage: `points_import STORE SCHOOL FILE` (STORE: a SQLite file, or a postgres:// URL
//! whose cache then goes to FILE.points-cache).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use nianbao_points::ledger::EventReader;
use nianbao_store::points::{PointsError, PointsStore};

// The allocator of the `nianbao` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn run(store: &str, school: &str, file: &Path) -> Result<(), PointsError> {
    let store = if store.starts_with("postgres://") || store.starts_with("postgresql://") {
        let cache = PathBuf::from(format!("{}.points-cache", file.display()));
        PointsStore::open(store, Some(cache)).await?
    } else {
        PointsStore::open_sqlite(Path::new(store)).await?
    };
    let started = Instant::now();
    let reader = EventReader::open(file)?;
    let mut sl = store.open_ledger(school).await?;
    let summary = store
        .import_events(&mut sl, reader, 10_000, "bench")
        .await?;
    store.save_cache(&sl).await?;
    store.database().close().await;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "已导入第 {} 批：{} 条积分事件（其中冲销 {} 条），{seconds:.2} 秒，{:.0} 条/秒",
        summary.batch,
        summary.events,
        summary.reversals,
        summary.events as f64 / seconds.max(1e-9)
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, store, school, file] = args.as_slice() else {
        eprintln!("用法：points_import 数据库文件或地址 学校代码 事件文件.csv");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("points_import: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(store, school, Path::new(file))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("points_import: {e}");
            ExitCode::FAILURE
        }
    }
}
