//! Batch audit: a zip of many schools' hand-written reports (pdf, docx, txt), each read with
//! the bounds of a single report, audited, checked against the rubric kept as data
//! (`data/audit_rubric.toml`: the chapters and tables a report must have and the maxima of
//! each grade), compared with the school's submitted data when the school is known
//! ([`crate::against::compare`], as `nianbao audit FILE --against` does) and given a
//! pre-grade A/B/C that a reviewer confirms.
//!
//! The archive itself is bounded like the other zip uploads: its size, its number of
//! entries, each entry's inflated size, their total, and the compression ratio are checked
//! from the central directory before anything is inflated, and each entry is inflated with
//! a cap at the size it declared.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use nianbao_core::{Dataset, Definitions, Finding, Severity};

use crate::against::Verdict;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    read_archive_from(std::io::Cursor::new(bytes), bytes.len() as u64)
}

/// Reads the reports of an archive in a file (an upload written to disk), with the same
/// bounds as [`read_archive`].
pub fn read_archive_file(path: &Path) -> Result<(Vec<Entry>, Vec<Skipped>), BatchError> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    read_archive_from(std::io::BufReader::new(file), size)
}

fn read_archive_from<R: Read + std::io::Seek>(
    mut reader: R,
    size: u64,
) -> Result<(Vec<Entry>, Vec<Skipped>), BatchError> {
    if size == 0 {
        return Err(BatchError::Empty);
    }
    if size > MAX_ARCHIVE_BYTES {
        return Err(BatchError::TooLarge {
            size,
            max: MAX_ARCHIVE_BYTES,
        });
    }
    let mut magic = [0u8; 4];
    if reader.read_exact(&mut magic).is_err() || &magic != b"PK\x03\x04" {
        return Err(BatchError::NotZip);
    }
    reader.seek(std::io::SeekFrom::Start(0))?;
    let mut archive = zip::ZipArchive::new(reader).map_err(|_| BatchError::NotZip)?;
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

/// A figure of the report set beside the school's submitted one, as
/// [`crate::against::compare`] found it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// The figure's name ("在校生人数合计").
    pub label: String,
    /// The element code or indicator id.
    pub element: String,
    pub major: Option<String>,
    pub year: i32,
    pub stated: f64,
    /// The number as the report writes it ("1,230人").
    pub written: String,
    pub submitted: f64,
    /// The submitted value as shown.
    pub submitted_text: String,
    /// The line of the report that states it.
    pub line: usize,
    pub agrees: bool,
}

impl Agreement {
    /// The figure named for a reader: its major if any, its year and its name
    /// ("汽车运用与维修2025年在校生人数合计").
    pub fn subject(&self) -> String {
        format!(
            "{}{}年{}",
            self.major.as_deref().unwrap_or(""),
            self.year,
            self.label
        )
    }
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
    /// Whether the report was compared with the school's submitted data.
    pub compared: bool,
    /// The figures of the report that name a submitted fact (empty when not compared).
    pub agreements: Vec<Agreement>,
    /// Figures the report states that the submitted data has no value for.
    pub not_in_data: usize,
    /// The suggested grade; a reviewer confirms it.
    pub grade: String,
}

impl Assessment {
    /// The facts the report states otherwise than submitted, each counted once however
    /// often the report repeats it.
    pub fn disagreements(&self) -> usize {
        self.differing().len()
    }

    /// The first statement of each fact the report states otherwise than submitted.
    pub fn differing(&self) -> Vec<&Agreement> {
        let mut seen = std::collections::BTreeSet::new();
        self.agreements
            .iter()
            .filter(|a| !a.agrees)
            .filter(|a| seen.insert((a.element.as_str(), a.major.as_deref(), a.year)))
            .collect()
    }
}

fn found(required: &Required, texts: &[String]) -> bool {
    required
        .any
        .iter()
        .any(|word| texts.iter().any(|t| t.contains(&compact(word))))
}

/// Audits one report's text against the rubric and, when given, the school's submitted data
/// (every figure that names a submitted fact compared by [`crate::against::compare`], for the
/// year the report's title names, else the school's report year).
pub fn assess(text: &str, rubric: &Rubric, data: Option<(&Dataset, &Definitions)>) -> Assessment {
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
    let mut not_in_data = 0;
    if let Some((data, definitions)) = data {
        let comparison = crate::against::compare(&model, definitions, data, None);
        for item in &comparison.items {
            match (item.verdict, item.stored) {
                (Verdict::Missing, _) => not_in_data += 1,
                (verdict, Some(stored)) => agreements.push(Agreement {
                    label: item.name.clone(),
                    element: item.code.clone(),
                    major: item.major.clone(),
                    year: item.year,
                    stated: item.value,
                    written: item.written.clone(),
                    submitted: stored,
                    submitted_text: item.stored_text.clone().unwrap_or_default(),
                    line: item.line,
                    agrees: verdict == Verdict::Agrees,
                }),
                (_, None) => not_in_data += 1,
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
        compared: data.is_some(),
        agreements,
        not_in_data,
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

/// One report of a batch as its table shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The entry's path in the archive.
    pub file: String,
    pub school_code: Option<String>,
    pub school: Option<String>,
    /// Why the report could not be read, when it could not.
    pub unreadable: Option<String>,
    pub assessment: Option<Assessment>,
}

/// How far a batch has got: reports read, reports audited (each counts up to the number of
/// reports).
#[derive(Debug, Default)]
pub struct Progress {
    pub read: AtomicUsize,
    pub audited: AtomicUsize,
}

/// `f` applied to every item on every core; results in the items' order.
pub fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
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

/// What was read of a batch's entries, in their order.
#[derive(Debug, Clone)]
pub struct Texts {
    /// Each entry's text, or why it could not be read.
    pub texts: Vec<Result<String, String>>,
    /// The school each entry belongs to, if known.
    pub codes: Vec<Option<String>>,
}

impl Texts {
    /// The schools the entries belong to.
    pub fn schools(&self) -> std::collections::BTreeSet<String> {
        self.codes.iter().flatten().cloned().collect()
    }
}

/// The texts of every entry (on every core), and the school each belongs to among the
/// (code, name) pairs given ([`identify`]).
pub fn read_all(entries: &[Entry], schools: &[(String, String)], progress: &Progress) -> Texts {
    let texts = parallel(entries, |entry| {
        let text = entry_text(entry);
        progress.read.fetch_add(1, Ordering::Relaxed);
        text
    });
    let codes = entries
        .iter()
        .zip(&texts)
        .map(|(entry, text)| {
            let text = text.as_deref().unwrap_or("");
            identify(&entry.name, text, schools).map(str::to_string)
        })
        .collect();
    Texts { texts, codes }
}

/// Every entry assessed (on every core): against the data of its school when `datasets`
/// holds it.
pub fn assess_all(
    entries: &[Entry],
    read: &Texts,
    schools: &[(String, String)],
    datasets: &BTreeMap<String, Dataset>,
    rubric: &Rubric,
    definitions: &Definitions,
    progress: &Progress,
) -> Vec<Report> {
    let work: Vec<usize> = (0..entries.len()).collect();
    parallel(&work, |&i| {
        let code = read.codes.get(i).cloned().flatten();
        let school = code
            .as_ref()
            .and_then(|c| schools.iter().find(|(k, _)| k == c).map(|(_, n)| n.clone()));
        let report = match read.texts.get(i) {
            Some(Ok(text)) => {
                let data = code.as_ref().and_then(|c| datasets.get(c));
                Report {
                    file: entries[i].name.clone(),
                    assessment: Some(assess(text, rubric, data.map(|d| (d, definitions)))),
                    school_code: code,
                    school,
                    unreadable: None,
                }
            }
            other => Report {
                file: entries[i].name.clone(),
                school_code: code,
                school,
                unreadable: Some(match other {
                    Some(Err(reason)) => reason.clone(),
                    _ => "未读取".to_string(),
                }),
                assessment: None,
            },
        };
        progress.audited.fetch_add(1, Ordering::Relaxed);
        report
    })
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
    fn a_rubric_with_an_unknown_key_is_refused_naming_the_file() {
        let text = "fallback = \"C\"\n[[agreement]]\nconcept = \"在校生\"\nelement = \"x\"\n\
                    [[grade]]\ngrade = \"A\"\nmax_missing_parts = 0\nmax_missing_tables = 0\n\
                    max_errors = 0\nmax_disagreements = 0\n";
        let error = Rubric::parse("r.toml", text).unwrap_err().to_string();
        assert!(
            error.contains("r.toml") && error.contains("agreement"),
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
