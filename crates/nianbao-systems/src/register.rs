//! What every register shares: the systems themselves, how an import is merged into what
//! is stored (records keyed by their number or code), what changed, and the figures a
//! register computes for the report.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use nianbao_core::Year;

use crate::table::{At, ImportError, ImportErrors, Located};

/// The registers Nianbao keeps beside the yearly facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum System {
    /// 实训基地、设备台账与使用记录.
    Bases,
    /// 社会培训与职业技能等级认定.
    Training,
    /// 心理健康档案（一人一档）.
    Psych,
    /// 课程质量闭环.
    Courses,
}

impl System {
    pub const ALL: [System; 4] = [
        System::Bases,
        System::Training,
        System::Psych,
        System::Courses,
    ];

    /// The code stored in the database and in `register = …` of data/elements.toml.
    pub fn code(self) -> &'static str {
        match self {
            System::Bases => "bases",
            System::Training => "training",
            System::Psych => "psych",
            System::Courses => "courses",
        }
    }

    /// The Chinese name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            System::Bases => "实训基地与设备台账",
            System::Training => "社会培训登记",
            System::Psych => "心理健康档案",
            System::Courses => "课程质量闭环",
        }
    }

    pub fn from_code(code: &str) -> Option<System> {
        System::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How an import meets the records already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Records with a new key are added, records with a known key replaced; the rest stay.
    #[default]
    Upsert,
    /// The file is the whole list: records not in it are removed.
    Replace,
}

/// One figure a register computes: an element's value for a year.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterFact {
    pub year: Year,
    pub element: String,
    pub value: f64,
}

impl RegisterFact {
    pub fn new(year: i32, element: &str, value: f64) -> Option<RegisterFact> {
        Some(RegisterFact {
            year: Year::new(i64::from(year)).ok()?,
            element: element.to_string(),
            value,
        })
    }
}

/// The years a register's figures cover: from its first record's year to the later of its
/// last record's year and `this_year`, at most 40 years back from the end.
pub fn covered_years(record_years: impl IntoIterator<Item = i32>, this_year: i32) -> Vec<i32> {
    let years: BTreeSet<i32> = record_years.into_iter().collect();
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return Vec::new();
    };
    let end = (*last).max(this_year);
    ((*first).max(end - 40)..=end).collect()
}

/// Merges imported records into the stored ones by key. Two imported records with the same
/// key are refused at the second's row. Returns the merged list and where each imported
/// record came from.
pub fn merge<T: Clone>(
    stored: &[T],
    imported: Vec<Located<T>>,
    key_header: &str,
    key: impl Fn(&T) -> String,
    mode: Mode,
) -> Result<(Vec<T>, BTreeMap<String, At>), ImportErrors> {
    let mut errors = ImportErrors::default();
    let mut origin: BTreeMap<String, At> = BTreeMap::new();
    let mut records: Vec<T> = Vec::with_capacity(imported.len());
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for Located { at, record } in imported {
        let k = key(&record);
        if origin.contains_key(&k) {
            errors.push(at.error(key_header, format!("「{k}」在文件中重复出现")));
            continue;
        }
        index.insert(k.clone(), records.len());
        origin.insert(k, at);
        records.push(record);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let merged = match mode {
        Mode::Replace => records,
        Mode::Upsert => {
            let mut merged: Vec<T> = Vec::with_capacity(stored.len() + records.len());
            let mut used = vec![false; records.len()];
            for old in stored {
                match index.get(&key(old)) {
                    Some(&i) => {
                        merged.push(records[i].clone());
                        used[i] = true;
                    }
                    None => merged.push(old.clone()),
                }
            }
            merged.extend(
                records
                    .into_iter()
                    .zip(used)
                    .filter(|(_, used)| !used)
                    .map(|(r, _)| r),
            );
            merged
        }
    };
    Ok((merged, origin))
}

/// Reports a problem of a merged record: at its import row if it was imported, else as a
/// problem of the stored register naming the record.
pub fn problem(
    origin: &BTreeMap<String, At>,
    key: &str,
    header: &str,
    what: &str,
    message: impl Into<String>,
) -> ImportError {
    let message = message.into();
    match origin.get(key) {
        Some(at) => at.error(header, message),
        None => ImportError::register(format!("已登记的{what}「{key}」：{message}")),
    }
}

/// What an import changed in one list of records.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diff<T> {
    pub added: Vec<T>,
    pub changed: Vec<(T, T)>,
    pub removed: Vec<T>,
}

impl<T> Diff<T> {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// The records added, changed (old, new) and removed between two lists, by key.
pub fn diff<T: Clone + PartialEq>(old: &[T], new: &[T], key: impl Fn(&T) -> String) -> Diff<T> {
    let old_by_key: BTreeMap<String, &T> = old.iter().map(|r| (key(r), r)).collect();
    let new_keys: BTreeSet<String> = new.iter().map(&key).collect();
    let mut out = Diff {
        added: Vec::new(),
        changed: Vec::new(),
        removed: Vec::new(),
    };
    for record in new {
        match old_by_key.get(&key(record)) {
            None => out.added.push(record.clone()),
            Some(old) if *old != record => out.changed.push(((*old).clone(), record.clone())),
            Some(_) => {}
        }
    }
    out.removed = old
        .iter()
        .filter(|r| !new_keys.contains(&key(r)))
        .cloned()
        .collect();
    out
}

/// How many records an import added, changed and removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "新增 {} 条，修改 {} 条，删除 {} 条，{} 条未变",
            self.added, self.changed, self.removed, self.unchanged
        )
    }
}

impl<T> From<&Diff<T>> for ImportSummary {
    fn from(diff: &Diff<T>) -> ImportSummary {
        ImportSummary {
            added: diff.added.len(),
            changed: diff.changed.len(),
            removed: diff.removed.len(),
            unchanged: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Columns, read_file};

    const COLUMNS: Columns = Columns {
        required: &["编号", "值"],
        optional: &[],
    };

    fn imported(text: &str) -> Vec<Located<(String, u32)>> {
        let table = read_file(
            "x.csv",
            text.as_bytes(),
            "",
            &COLUMNS,
            &nianbao_xlsx::Limits::default(),
        )
        .unwrap();
        table
            .records(|f| Some((f.text("编号", 10, true)?, f.count("值", 100, true)?)))
            .unwrap()
    }

    #[test]
    fn upsert_keeps_others_and_replace_keeps_only_the_file() {
        let stored = vec![("a".to_string(), 1), ("b".to_string(), 2)];
        let key = |r: &(String, u32)| r.0.clone();
        let (merged, origin) = merge(
            &stored,
            imported("编号,值\nb,5\nc,3\n"),
            "编号",
            key,
            Mode::Upsert,
        )
        .unwrap();
        assert_eq!(
            merged,
            vec![("a".into(), 1), ("b".into(), 5), ("c".into(), 3)]
        );
        assert!(origin.contains_key("c") && !origin.contains_key("a"));
        let (merged, _) = merge(
            &stored,
            imported("编号,值\nc,3\n"),
            "编号",
            key,
            Mode::Replace,
        )
        .unwrap();
        assert_eq!(merged, vec![("c".into(), 3)]);
        let diff = diff(&stored, &merged, key);
        assert_eq!((diff.added.len(), diff.removed.len()), (1, 2));
        let error = merge(
            &stored,
            imported("编号,值\nc,3\nc,4\n"),
            "编号",
            key,
            Mode::Upsert,
        )
        .unwrap_err();
        assert_eq!(
            error.list[0].to_string(),
            "x.csv 第 3 行 第 1 列（编号）：「c」在文件中重复出现"
        );
    }

    #[test]
    fn covered_years_run_from_the_first_record_to_this_year() {
        assert_eq!(
            covered_years([2023, 2021], 2025),
            vec![2021, 2022, 2023, 2024, 2025]
        );
        assert_eq!(covered_years([2027], 2025), vec![2027]);
        assert!(covered_years([], 2025).is_empty());
        assert_eq!(covered_years([1960], 2025).len(), 41);
    }
}
