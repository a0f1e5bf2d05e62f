//! `nianbao audit-batch ZIP`: every school report in a zip audited at once, each matched to
//! its school in the store (by code or name) and, when it is there, every figure that names
//! a submitted fact compared with the school's data as `nianbao audit FILE --against` does
//! ([`nianbao_audit::against::compare`]); a table of schools × findings and a pre-grade from the rubric
//! (`data/audit_rubric.toml`, or `--rubric FILE`), with a CSV or an Excel workbook for the
//! reviewer to confirm.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use nianbao_audit::batch::{self, Assessment, MAX_ARCHIVE_BYTES, Progress, Report as Line, Rubric};
use nianbao_audit::batch_sheet::{self, Confirmation, Line as TableLine};
use nianbao_core::{Dataset, Severity};
use serde::Serialize;

use crate::{Format, StoreLocation, open_store};

fn read_zip(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("无法读取 {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} 不是普通文件：请给出一个 .zip 文件", path.display());
    }
    if meta.len() > MAX_ARCHIVE_BYTES {
        bail!(
            "{}：文件有 {} 字节，超过上限 {MAX_ARCHIVE_BYTES} 字节（500 MB）",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("无法读取 {}", path.display()))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The table as CSV (UTF-8 with a byte-order mark, which Excel needs to read Chinese), with
/// empty 确认等级 and 审核意见 columns for the reviewer.
fn write_csv(path: &Path, lines: &[Line]) -> Result<()> {
    let mut out = String::from(
        "\u{feff}文件,学校代码,学校,错误,警告,缺少章节,缺少表格,与报送数据不一致,预评等级,确认等级,审核意见\n",
    );
    for line in lines {
        let mut cells = vec![
            line.file.clone(),
            line.school_code.clone().unwrap_or_default(),
            line.school.clone().unwrap_or_default(),
        ];
        match (&line.assessment, &line.unreadable) {
            (Some(a), _) => cells.extend([
                a.errors.to_string(),
                a.warnings.to_string(),
                a.missing_parts.join("、"),
                a.missing_tables.join("、"),
                disagreement_text(a),
                a.grade.clone(),
            ]),
            (None, why) => cells.extend([
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                format!("无法读取：{}", why.clone().unwrap_or_default()),
                String::new(),
            ]),
        }
        cells.extend([String::new(), String::new()]);
        let row: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    std::fs::write(path, out).with_context(|| format!("无法写入 {}", path.display()))
}

fn is_xlsx(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// The table as an Excel workbook, as the web page's download writes it (the 确认等级 and
/// 审核意见 columns empty for the reviewer), with a sheet of the files left out.
fn write_xlsx(path: &Path, lines: &[Line], skipped: &[batch::Skipped]) -> Result<()> {
    let table: Vec<(TableLine, Option<Confirmation>)> =
        lines.iter().map(|l| (TableLine::of(l), None)).collect();
    let bytes = batch_sheet::workbook(&table, skipped)
        .with_context(|| format!("无法生成 {}", path.display()))?;
    std::fs::write(path, bytes).with_context(|| format!("无法写入 {}", path.display()))
}

/// The facts the report states otherwise than submitted, one clause each.
fn disagreement_text(a: &Assessment) -> String {
    a.differing()
        .iter()
        .map(|x| {
            format!(
                "{}：报告 {}（第 {} 行），报送 {}",
                x.subject(),
                x.written,
                x.line,
                x.submitted_text
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

pub async fn run(
    db: &StoreLocation,
    zip: &Path,
    rubric: Option<PathBuf>,
    out: Option<PathBuf>,
    format: Format,
) -> Result<ExitCode> {
    let rubric = match rubric {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("无法读取 {}（应为 UTF-8 文本）", path.display()))?;
            Rubric::parse(&path.display().to_string(), &text)?
        }
        None => Rubric::builtin()?,
    };
    let bytes = read_zip(zip)?;
    let (entries, skipped) =
        batch::read_archive(&bytes).map_err(|e| anyhow::anyhow!("{}：{e}", zip.display()))?;
    drop(bytes);
    let store = open_store(db).await?;
    let schools: Vec<(String, String)> = store
        .schools()
        .await?
        .into_iter()
        .map(|s| (s.code, s.name))
        .collect();
    let progress = Progress::default();
    let read = batch::read_all(&entries, &schools, &progress);
    let found = read.schools();
    let definitions = nianbao_core::Definitions::builtin()?;
    // Each school's data as `audit --against` reads it, registers included.
    let mut datasets: BTreeMap<String, Dataset> = BTreeMap::new();
    for code in &found {
        let data = store
            .load_dataset_with_registers(code, &definitions)
            .await?;
        datasets.insert(code.clone(), data);
    }
    let lines = batch::assess_all(
        &entries,
        &read,
        &schools,
        &datasets,
        &rubric,
        &definitions,
        &progress,
    );
    match format {
        Format::Json => {
            #[derive(Serialize)]
            struct Out<'a> {
                reports: &'a [Line],
                skipped: &'a [batch::Skipped],
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&Out {
                    reports: &lines,
                    skipped: &skipped,
                })?
            );
        }
        Format::Text => print_table(&lines, &skipped),
    }
    if let Some(path) = &out {
        if is_xlsx(path) {
            write_xlsx(path, &lines, &skipped)?;
        } else {
            write_csv(path, &lines)?;
        }
        println!(
            "已写出 {}：请在「确认等级」一列确认或改定每校的等级",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(lines: &[Line], skipped: &[batch::Skipped]) {
    println!("文件\t学校\t错误\t警告\t缺少章节\t缺少表格\t与报送数据不一致\t预评等级");
    let mut grades: BTreeMap<&str, usize> = BTreeMap::new();
    for line in lines {
        let school = match (&line.school, &line.school_code) {
            (Some(name), Some(code)) => format!("{name}（{code}）"),
            _ => "（未能对应到数据库中的学校）".to_string(),
        };
        let Some(a) = &line.assessment else {
            println!(
                "{}\t{school}\t无法读取：{}",
                line.file,
                line.unreadable.clone().unwrap_or_default()
            );
            continue;
        };
        *grades.entry(a.grade.as_str()).or_default() += 1;
        let compared = if line.school_code.is_none() {
            "未比对".to_string()
        } else if a.agreements.is_empty() {
            format!("无可比对的数字（数据中没有 {} 处）", a.not_in_data)
        } else {
            a.disagreements().to_string()
        };
        println!(
            "{}\t{school}\t{}\t{}\t{}\t{}\t{compared}\t{}",
            line.file,
            a.errors,
            a.warnings,
            a.missing_parts.len(),
            a.missing_tables.len(),
            a.grade
        );
        if !a.missing_parts.is_empty() {
            println!("\t缺少章节：{}", a.missing_parts.join("、"));
        }
        if !a.missing_tables.is_empty() {
            println!("\t缺少表格：{}", a.missing_tables.join("、"));
        }
        let differs = disagreement_text(a);
        if !differs.is_empty() {
            println!("\t与报送数据不一致：{differs}");
        }
        for f in a.findings.iter().filter(|f| f.severity == Severity::Error) {
            println!("\t错误：{}", f.message);
        }
    }
    for s in skipped {
        println!("未审核 {}：{}", s.name, s.reason);
    }
    let counts: Vec<String> = grades.iter().map(|(g, n)| format!("{g} {n} 份")).collect();
    println!(
        "共 {} 份报告，预评 {}。预评等级仅供参考，须由审核人员确认。",
        lines.len(),
        counts.join("，")
    );
}
