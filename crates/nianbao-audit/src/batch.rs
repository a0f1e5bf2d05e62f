//! Batch audit: a zip of many schools' hand-written reports (pdf, docx, txt), each read with
//! the bounds of a single report, audited, checked against the rubric kept as data
//! (`data/audit_rubric.toml`: the chapters and tables a report must have, the figures that
//! must agree with the school's submitted data, the maxima of each grade) and given a
//! pre-grade A/B/C that a reviewer confirms.
//!
//! The archive itself is bounded like the other zip uploads: its size, its number of
//! entries, each entry's inflated size, their total, and the compression ratio are checked
//! from the central directory before anything is inflated, and each entry is inflated with
//! a cap at the size it declared.

use std::io::Read;
use std::path::Path;

use nianbao_core::{Dataset, Finding, Severity, Year};
use serde::{Deserialize, Serialize};

use crate::concepts::compact;
use crate::limits::MAX_INPUT_BYTES;
use crate::model::Model;
use crate::read::Document;

/// The largest archive read (500 MiB).
pub const MAX_ARCHIVE_BYTES: u64 = 500 * 1024 * 1024;
/// The most entries an archive may have (a province has a few hundred schools).
pub const MAX_ENTRIES: usize = 2_000;
/// The most bytes all entries may inflate to (2 GiB).
pub const MAX_TOTAL_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// The highest compression ratio accepted for an entry over 1 MiB.
pub const MAX_RATIO: u64 = 100;
const RATIO_EXEMPT_BYTES: u64 = 1024 * 1024;

/// The report files a batch reads, by extension.
pub const EXTENSIONS: &[&str] = &["pdf", "docx", "txt", "md"];

/// Why an archive cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("压缩包为空")]
    Empty,
    #[error("压缩包有 {size} 字节，超过上限 {max} 字节（500 MB）")]
    TooLarge { size: u64, max: u64 },
    #[error("不是 zip 压缩包：请把各校的报告文件（.pdf、.docx、.txt）压缩成一个 .zip 文件")]
    NotZip,
    #[error("压缩包有 {count} 个文件，超过上限 {max} 个")]
    TooManyEntries { count: usize, max: usize },
    #[error("压缩包解压后超过 {max} 字节（2 GB），不予读取")]
    TooLargeUncompressed { max: u64 },
    #[error("压缩包中的「{entry}」压缩比超过 {max}:1，疑为压缩炸弹，不予读取")]
    SuspiciousRatio { entry: String, max: u64 },
    #[error("压缩包中的「{entry}」无法读取：{reason}")]
    Damaged { entry: String, reason: String },
    #[error("压缩包中没有报告文件（.pdf、.docx、.txt、.md）")]
    NoReports,
    #[error("审核规则文件 {file} 有误：{reason}")]
    Rubric { file: String, reason: String },
    #[error("无法写入临时文件：{0}")]
    Io(#[from] std::io::Error),
}

/// One report taken from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's path in the archive.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// An entry left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// The name of an entry: UTF-8 when the archive says so or the bytes are valid UTF-8, else
/// GB 18030 (what Chinese Windows archivers write), else the zip library's reading.
fn entry_name(raw: &[u8], fallback: &str) -> String {
    if let Ok(text) = std::str::from_utf8(raw) {
        return text.to_string();
    }
    let (text, _, bad) = encoding_rs::GB18030.decode(raw);
    if bad {
        fallback.to_string()
    } else {
        text.into_owned()
    }
}

fn extension(name: &str) -> String {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Reads the reports of an archive held in memory: the entries with a report extension,
/// and those left out (folders' own entries are not listed).
pub fn read_archive(bytes: &[u8]) -> Result<(Vec<Entry>, Vec<Skipped>), BatchError> {
    if bytes.is_empty() {
        return Err(BatchError::Empty);
    }
    if bytes.len() as u64 > MAX_ARCHIVE_BYTES {
        return Err(BatchError::TooLarge {
            size: bytes.len() as u64,
            max: MAX_ARCHIVE_BYTES,
        });
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(BatchError::NotZip);
    }
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| BatchError::NotZip)?;
    if archive.len() > MAX_ENTRIES {
        return Err(BatchError::TooManyEntries {
            count: archive.len(),
            max: MAX_ENTRIES,
        });
    }
    // The central directory first: nothing is inflated until every entry passes.
    let mut total: u64 = 0;
    let mut names = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive
            .by_index_raw(index)
            .map_err(|e| BatchError::Damaged {
                entry: format!("第 {} 个文件", index + 1),
                reason: e.to_string(),
            })?;
        let name = entry_name(entry.name_raw(), entry.name());
        total = total.saturating_add(entry.size());
        if total > MAX_TOTAL_BYTES {
            return Err(BatchError::TooLargeUncompressed {
                max: MAX_TOTAL_BYTES,
            });
        }
        if entry.size() > RATIO_EXEMPT_BYTES
            && entry.size() > entry.compressed_size().saturating_mul(MAX_RATIO)
        {
            return Err(BatchError::SuspiciousRatio {
                entry: name,
                max: MAX_RATIO,
            });
        }
        names.push((name, entry.is_dir(), entry.size()));
    }
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for (index, (name, is_dir, declared)) in names.into_iter().enumerate() {
        let base = name.rsplit('/').next().unwrap_or(&name);
        if is_dir || base.is_empty() {
            continue;
        }
        if base.starts_with('.') || name.starts_with("__MACOSX/") {
            skipped.push(Skipped {
                name,
                reason: "系统生成的隐藏文件".into(),
            });
            continue;
        }
        if !EXTENSIONS.contains(&extension(&name).as_str()) {
            skipped.push(Skipped {
                name,
                reason: "不是报告文件：只审核 .pdf、.docx、.txt、.md".into(),
            });
            continue;
        }
        if declared > MAX_INPUT_BYTES {
            skipped.push(Skipped {
                name,
                reason: format!("文件有 {declared} 字节，超过单份报告的上限 50 MB"),
            });
            continue;
        }
        let damaged = |reason: String| BatchError::Damaged {
            entry: name.clone(),
            reason,
        };
        let mut file = archive
            .by_index(index)
            .map_err(|e| damaged(e.to_string()))?;
        let mut content = Vec::with_capacity(declared as usize);
        (&mut file)
            .take(declared + 1)
            .read_to_end(&mut content)
            .map_err(|e| damaged(e.to_string()))?;
        if content.len() as u64 != declared {
            return Err(damaged("实际大小与压缩包目录不符".into()));
        }
        drop(file);
        entries.push(Entry {
            name,
            bytes: content,
        });
    }
    if entries.is_empty() {
        return Err(BatchError::NoReports);
    }
    Ok((entries, skipped))
}

/// The text of one report from the archive, read as a file of its own would be (every bound
/// of [`crate::read`] applies); an error names the entry, not the temporary file.
pub fn entry_text(entry: &Entry) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("无法创建临时目录：{e}"))?;
    let path = dir
        .path()
        .join(format!("report.{}", extension(&entry.name)));
    std::fs::write(&path, &entry.bytes).map_err(|e| format!("无法写入临时文件：{e}"))?;
    crate::read::extract_text(&path).map_err(|e| {
        e.to_string()
            .replace(&path.display().to_string(), &entry.name)
    })
}

/// A chapter or table the rubric requires.
#[derive(Debug, Clone, Deserialize)]
pub struct Required {
    pub name: String,
    pub any: Vec<String>,
}

/// A figure the report must state as the school submitted it.
#[derive(Debug, Clone, Deserialize)]
pub struct AgreementRule {
    pub concept: String,
    pub element: String,
    #[serde(default)]
    pub tolerance: f64,
}

/// The maxima of one grade.
#[derive(Debug, Clone, Deserialize)]
pub struct GradeRule {
    pub grade: String,
    pub max_missing_parts: usize,
    pub max_missing_tables: usize,
    pub max_errors: usize,
    pub max_disagreements: usize,
}

/// The rubric of a batch audit.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    pub fallback: String,
    #[serde(default, rename = "part")]
    pub parts: Vec<Required>,
    #[serde(default, rename = "table")]
    pub tables: Vec<Required>,
    #[serde(default, rename = "agreement")]
    pub agreements: Vec<AgreementRule>,
    #[serde(rename = "grade")]
    pub grades: Vec<GradeRule>,
}

impl Rubric {
    /// The rubric shipped with Nianbao (`data/audit_rubric.toml`).
    pub fn builtin() -> Result<Rubric, BatchError> {
        Rubric::parse(
            "audit_rubric.toml",
            include_str!("../../../data/audit_rubric.toml"),
        )
    }

    /// Reads a rubric; every concept it compares must be one the auditor knows.
    pub fn parse(file: &str, text: &str) -> Result<Rubric, BatchError> {
        let bad = |reason: String| BatchError::Rubric {
            file: file.to_string(),
            reason,
        };
        let rubric: Rubric = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for a in &rubric.agreements {
            if crate::concepts::concept(&a.concept).is_none() {
                return Err(bad(format!(
                    "[[agreement]] 的 concept「{}」不是已知的数据项",
                    a.concept
                )));
            }
        }
        for r in rubric.parts.iter().chain(&rubric.tables) {
            if r.any.is_empty() {
                return Err(bad(format!("「{}」的 any 不能为空", r.name)));
            }
        }
        if rubric.grades.is_empty() {
            return Err(bad("至少需要一个 [[grade]]".into()));
        }
        Ok(rubric)
    }
}

/// A figure of the report set beside the school's submitted one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// The figure's name ("在校生人数").
    pub label: String,
    pub element: String,
    pub stated: f64,
    pub submitted: f64,
    /// The line of the report that states it.
    pub line: usize,
    pub agrees: bool,
}

/// What the batch audit says of one report.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// The year the report is about, when its title says.
    pub report_year: Option<i32>,
    pub findings: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
    pub missing_parts: Vec<String>,
    pub missing_tables: Vec<String>,
    /// Empty when the school's data is not in the store.
    pub agreements: Vec<Agreement>,
    /// The suggested grade; a reviewer confirms it.
    pub grade: String,
}

impl Assessment {
    pub fn disagreements(&self) -> usize {
        self.agreements.iter().filter(|a| !a.agrees).count()
    }
}

fn found(required: &Required, texts: &[String]) -> bool {
    required
        .any
        .iter()
        .any(|word| texts.iter().any(|t| t.contains(&compact(word))))
}

/// Audits one report's text against the rubric and, when given, the school's submitted data.
pub fn assess(text: &str, rubric: &Rubric, data: Option<&Dataset>) -> Assessment {
    let model = Model::build(Document::from_text(text));
    let findings = crate::checks::run(&model);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let headings: Vec<String> = model.headings.iter().map(|h| compact(&h.title)).collect();
    let tables: Vec<String> = model
        .tables
        .iter()
        .flat_map(|t| {
            std::iter::once(compact(&t.title)).chain(t.columns.iter().map(|c| compact(&c.label())))
        })
        .chain(model.captions.iter().map(|c| compact(&c.title)))
        .collect();
    let missing_parts = rubric
        .parts
        .iter()
        .filter(|p| !found(p, &headings))
        .map(|p| p.name.clone())
        .collect();
    let missing_tables = rubric
        .tables
        .iter()
        .filter(|t| !found(t, &tables))
        .map(|t| t.name.clone())
        .collect();
    let mut agreements = Vec::new();
    if let Some(data) = data {
        let year = model
            .report_year
            .and_then(|y| Year::new(i64::from(y)).ok())
            .unwrap_or(data.school.report_year);
        let facts = crate::facts::collect(&model);
        for rule in &rubric.agreements {
            let Some(submitted) = data.value(year, &rule.element) else {
                continue;
            };
            let stated = facts.iter().find(|f| {
                f.concept.key == rule.concept
                    && f.year.is_none_or(|y| i64::from(y) == i64::from(year))
                    && f.qualifier.is_none()
                    && !f.restricted
                    && !f.loose
                    && f.is_exact()
            });
            if let Some(fact) = stated {
                agreements.push(Agreement {
                    label: fact.concept.label.to_string(),
                    element: rule.element.clone(),
                    stated: fact.quantity.value,
                    submitted,
                    line: fact.lines.first().copied().unwrap_or(0),
                    agrees: (fact.quantity.value - submitted).abs() <= rule.tolerance + 1e-9,
                });
            }
        }
    }
    let mut assessment = Assessment {
        report_year: model.report_year,
        findings,
        errors,
        warnings,
        missing_parts,
        missing_tables,
        agreements,
        grade: rubric.fallback.clone(),
    };
    assessment.grade = rubric
        .grades
        .iter()
        .find(|g| {
            assessment.missing_parts.len() <= g.max_missing_parts
                && assessment.missing_tables.len() <= g.max_missing_tables
                && assessment.errors <= g.max_errors
                && assessment.disagreements() <= g.max_disagreements
        })
        .map_or_else(|| rubric.fallback.clone(), |g| g.grade.clone());
    assessment
}

/// The school a report belongs to, among (code, name) pairs: the longest code its file name
/// contains, else the longest name its file name contains, else the longest name its first
/// lines (the title page) contain.
pub fn identify<'a>(file: &str, text: &str, schools: &'a [(String, String)]) -> Option<&'a str> {
    let base = file.rsplit('/').next().unwrap_or(file);
    let longest = |hay: &str, by_code: bool| {
        schools
            .iter()
            .filter(|(code, name)| {
                let needle = if by_code { code } else { name };
                !needle.is_empty() && hay.contains(needle.as_str())
            })
            .max_by_key(|(code, name)| if by_code { code.len() } else { name.len() })
            .map(|(code, _)| code.as_str())
    };
    let head: String = text.lines().take(30).collect::<Vec<_>>().join("\n");
    longest(base, true)
        .or_else(|| longest(base, false))
        .or_else(|| longest(&compact(&head), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rubric_reads_and_grades_from_best_down() {
        let rubric = Rubric::builtin().unwrap();
        assert_eq!(rubric.grades[0].grade, "A");
        assert!(rubric.parts.iter().any(|p| p.name == "面临挑战"));
        let empty = assess("无关的文字。", &rubric, None);
        assert_eq!(empty.missing_parts.len(), rubric.parts.len());
        assert_eq!(empty.grade, "C");
    }

    #[test]
    fn a_rubric_naming_an_unknown_concept_is_refused() {
        let text = "fallback = \"C\"\n[[agreement]]\nconcept = \"没有这个\"\nelement = \"x\"\n\
                    [[grade]]\ngrade = \"A\"\nmax_missing_parts = 0\nmax_missing_tables = 0\n\
                    max_errors = 0\nmax_disagreements = 0\n";
        let error = Rubric::parse("r.toml", text).unwrap_err().to_string();
        assert!(
            error.contains("r.toml") && error.contains("没有这个"),
            "{error}"
        );
    }

    #[test]
    fn a_file_name_from_a_chinese_windows_archiver_is_read_as_gb18030() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("东城职校2025年报.pdf");
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(entry_name(&gbk, "garbled"), "东城职校2025年报.pdf");
        assert_eq!(entry_name("报告/a.txt".as_bytes(), "garbled"), "报告/a.txt");
    }

    #[test]
    fn a_school_is_known_by_code_then_name() {
        let schools = vec![
            ("S1".to_string(), "东城职校".to_string()),
            ("S12".to_string(), "西城职校".to_string()),
        ];
        assert_eq!(identify("报告/S12-年报.pdf", "", &schools), Some("S12"));
        assert_eq!(identify("东城职校2025年报.docx", "", &schools), Some("S1"));
        assert_eq!(
            identify(
                "a.txt",
                "西城职业学校\n西城职校2025年质量年度报告",
                &schools
            ),
            Some("S12")
        );
        assert_eq!(identify("a.txt", "别的学校", &schools), None);
    }
}
