//! `nianbao audit-batch ZIP`: every school report in a zip audited at once, each matched to
//! its school in the store (by code or name) and checked against the school's submitted
//! data when it is there; a table of schools × findings and a pre-grade from the rubric
//! (`data/audit_rubric.toml`, or `--rubric FILE`), with a CSV for the reviewer to confirm.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use nianbao_audit::batch::{self, Assessment, Entry, MAX_ARCHIVE_BYTES, Rubric};
use nianbao_core::{Dataset, Severity};
use serde::Serialize;

use crate::{Format, StoreLocation, open_store};

/// One report of the batch, as the table shows it.
#[derive(Serialize)]
struct Line {
    file: String,
    school_code: Option<String>,
    school: Option<String>,
    /// Why the report could not be read, when it could not.
    unreadable: Option<String>,
    assessment: Option<Assessment>,
}

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

/// `f` applied to every item on every core; results in the items' order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| {
                let mut mine = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    mine.push((i, f(item)));
                }
                if let Ok(mut all) = results.lock() {
                    all.extend(mine);
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
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

fn number(v: f64) -> String {
    nianbao_core::number::grouped(v, if v.fract() == 0.0 { 0 } else { 2 })
}

fn disagreement_text(a: &Assessment) -> String {
    a.agreements
        .iter()
        .filter(|x| !x.agrees)
        .map(|x| {
            format!(
                "{}：报告 {}（第 {} 行），报送 {}",
                x.label,
                number(x.stated),
                x.line,
                number(x.submitted)
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
    let texts = parallel(&entries, batch::entry_text);
    let codes: Vec<Option<String>> = entries
        .iter()
        .zip(&texts)
        .map(|(entry, text)| {
            let text = text.as_deref().unwrap_or("");
            batch::identify(&entry.name, text, &schools).map(str::to_string)
        })
        .collect();
    let found: BTreeSet<String> = codes.iter().flatten().cloned().collect();
    let definitions = nianbao_core::Definitions::builtin()?;
    let datasets: BTreeMap<String, Dataset> = if found.is_empty() {
        BTreeMap::new()
    } else {
        store
            .load_datasets(Some(&found), &definitions)
            .await?
            .into_iter()
            .map(|d| (d.school.code.clone(), d))
            .collect()
    };
    let work: Vec<(usize, &Entry)> = entries.iter().enumerate().collect();
    let lines = parallel(&work, |(i, entry)| {
        let code = codes[*i].clone();
        let school = code
            .as_ref()
            .and_then(|c| schools.iter().find(|(k, _)| k == c).map(|(_, n)| n.clone()));
        match &texts[*i] {
            Err(reason) => Line {
                file: entry.name.clone(),
                school_code: code,
                school,
                unreadable: Some(reason.clone()),
                assessment: None,
            },
            Ok(text) => {
                let data = code.as_ref().and_then(|c| datasets.get(c));
                Line {
                    file: entry.name.clone(),
                    assessment: Some(batch::assess(text, &rubric, data)),
                    school_code: code,
                    school,
                    unreadable: None,
                }
            }
        }
    });
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
        write_csv(path, &lines)?;
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
            "无可比对的数字".to_string()
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
