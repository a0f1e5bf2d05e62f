//! `nianbao workbook export|import`: a school's whole year as one Excel workbook (one sheet
//! per data section, as the web app's section templates), written for the quality office to
//! fill in and read back in one transaction. An import applies only the cells that differ
//! from the values the workbook was made from, each only if the store still holds that value;
//! otherwise nothing is imported and every such cell is named with who changed it and when.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use nianbao_core::{Dataset, Definitions, Year};
use nianbao_store::{FactEdit, Store, StoreError, fact_record};
use nianbao_xlsx::{CellChange, Limits, SectionScope, UploadError, WorkbookScope};

use crate::{StoreLocation, actor, open_store, pick_school, pick_year};

#[derive(Subcommand)]
pub enum WorkbookAction {
    /// Write the workbook of one year: every data section, the year and the two before it,
    /// filled with the stored values.
    Export {
        file: PathBuf,
        #[arg(long)]
        school: Option<String>,
        /// The report year (default: the school's report year).
        #[arg(long)]
        year: Option<i64>,
    },
    /// Import a filled-in workbook in one transaction: only edited cells are applied, and
    /// none if someone changed one of those facts after the workbook was made.
    Import {
        file: PathBuf,
        #[arg(long)]
        school: Option<String>,
    },
}

/// The most refused cells printed.
const MAX_LISTED: usize = 50;

pub async fn run(
    db: &StoreLocation,
    definitions: &Definitions,
    action: WorkbookAction,
) -> Result<ExitCode> {
    let store = open_store(db).await?;
    match action {
        WorkbookAction::Export { file, school, year } => {
            let code = pick_school(&store, school).await?;
            let data = store.load_dataset(&code).await?;
            let year = pick_year(&data, year)?;
            let scope = scope(definitions, &data, year);
            let bytes = nianbao_xlsx::write_workbook(definitions, &data, &scope)?;
            write_atomically(&file, &bytes)?;
            println!(
                "已导出 {}（{}）{year} 年度的全年数据工作簿：{}（{} 个部分）",
                data.school.name,
                data.school.code,
                file.display(),
                scope.sections.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        WorkbookAction::Import { file, school } => {
            import(&store, definitions, &file, school, &actor()).await
        }
    }
}

/// Every data section with every major, for `years` ending with `year`.
fn scope<'a>(definitions: &'a Definitions, data: &'a Dataset, year: Year) -> WorkbookScope<'a> {
    let last = i64::from(year);
    WorkbookScope {
        years: (last - 2..=last)
            .filter_map(|y| Year::new(y).ok())
            .collect(),
        sections: definitions
            .sections
            .iter()
            .filter(|s| definitions.elements.iter().any(|e| e.section == s.number))
            .map(|s| SectionScope {
                section: s.number.as_str(),
                school_level: true,
                majors: data.majors.iter().collect(),
            })
            .collect(),
    }
}

/// Writes the whole file next to its destination, then renames it into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("「{}」不是文件路径", path.display()))?;
    let mut partial = name.to_os_string();
    partial.push(".partial");
    let partial = path.with_file_name(partial);
    std::fs::write(&partial, bytes).with_context(|| format!("无法写入 {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("无法写入 {}", path.display()))?;
    Ok(())
}

async fn import(
    store: &Store,
    definitions: &Definitions,
    file: &Path,
    school: Option<String>,
    actor: &str,
) -> Result<ExitCode> {
    let limits = Limits::default();
    let size = std::fs::metadata(file)
        .with_context(|| format!("无法读取 {}", file.display()))?
        .len();
    if size > limits.max_upload_bytes as u64 {
        bail!(
            "{}：{}",
            file.display(),
            UploadError::TooLarge {
                size: size as usize,
                max: limits.max_upload_bytes
            }
        );
    }
    let bytes = nianbao_io::read_file(file, limits.max_upload_bytes as u64)?;
    let code = pick_school(store, school).await?;
    let data = store.load_dataset(&code).await?;
    // The years the workbook was made for; without its base values, the report year's.
    let base = nianbao_xlsx::read_base(&bytes, &limits)
        .with_context(|| format!("无法导入 {}", file.display()))?;
    let year = match base.as_ref().and_then(|b| b.years.last()) {
        Some(year) => *year,
        None => data.school.report_year,
    };
    let scope = scope(definitions, &data, year);
    let upload = match nianbao_xlsx::read_workbook(&bytes, definitions, &scope, &limits) {
        Ok(upload) => upload,
        Err(UploadError::Cells(cells)) => {
            eprintln!(
                "{} 有 {} 处错误，数据库未作任何修改：",
                file.display(),
                cells.len()
            );
            for cell in cells {
                eprintln!("  - {cell}");
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(other) => bail!("无法导入 {}：{other}", file.display()),
    };
    let changes = upload
        .changes(&data)
        .with_context(|| format!("无法导入 {}", file.display()))?;
    let stale: Vec<&CellChange> = changes.edits.iter().filter(|c| c.is_stale(&data)).collect();
    if !stale.is_empty() {
        refuse(file, stale.len());
        for change in stale.iter().take(MAX_LISTED) {
            let last = store
                .record_history(&code, "fact", &fact_record(&change.key), 1)
                .await?;
            let last = last.first();
            eprintln!(
                "  - {}",
                nianbao_xlsx::stale_message(
                    definitions,
                    change,
                    data.facts.get(&change.key).copied(),
                    last.map(|c| c.actor.as_str()),
                    last.map(|c| c.changed_at.as_str()),
                )
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    let edits: Vec<FactEdit> = changes
        .edits
        .iter()
        .map(|c| FactEdit {
            key: c.key.clone(),
            expected: c.expected,
            value: c.value,
        })
        .collect();
    match store.edit_facts(&code, &edits, actor).await {
        Ok(_) => {}
        Err(StoreError::Conflict(conflict)) => {
            let Some(change) = changes.edits.iter().find(|c| c.key == conflict.key) else {
                return Err(StoreError::Conflict(conflict).into());
            };
            refuse(file, 1);
            eprintln!(
                "  - {}",
                nianbao_xlsx::stale_message(
                    definitions,
                    change,
                    conflict.found,
                    conflict.changed_by.as_deref(),
                    conflict.changed_at.as_deref(),
                )
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(other) => return Err(other.into()),
    }
    println!(
        "已导入 {}（{}）：{}",
        file.display(),
        data.school.name,
        changes.summary()
    );
    Ok(ExitCode::SUCCESS)
}

fn refuse(file: &Path, count: usize) {
    eprintln!(
        "{} 中有 {count} 处修改的数据在工作簿生成后已被他人改过，为免覆盖，数据库未作任何修改。请重新导出工作簿，填入您的修改后再导入：",
        file.display()
    );
}
