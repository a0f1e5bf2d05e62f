//! From what an upload holds to the edits it asks for: a cell is an edit only where it
//! differs from the value the file was made with, and the edit expects the store to still
//! hold that value. Also the message that names a cell someone else changed in between.

use nianbao_core::clock::beijing_time;
use nianbao_core::number::plain;
use nianbao_core::{Dataset, Definitions, FactKey};

use crate::error::UploadError;
use crate::{CellValue, Upload};

/// The edits of one upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// Cells that differ from the value the file was made with, in the order read.
    pub edits: Vec<CellChange>,
    /// Cells left as they were made whose fact someone has changed since: the store's newer
    /// value is kept.
    pub kept: usize,
    /// Whether the file carried the values it was made from; without them every cell was
    /// compared with the store's value at upload time.
    pub with_base: bool,
}

/// One cell to apply: set `value` where the store still holds `expected`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellChange {
    pub key: FactKey,
    /// The value the file was made with (or, without a base, the store's value when read).
    pub expected: Option<f64>,
    pub value: Option<f64>,
    pub sheet: String,
    pub cell: String,
}

impl Changes {
    /// What applying these changes did, in a sentence: see [`summary`].
    pub fn summary(&self) -> String {
        summary(self.edits.len(), self.kept, self.with_base)
    }
}

/// What an applied upload did, for the person who uploaded it: "共修改 3 项数据", what was
/// kept because someone changed it since the file was made, and whether the file lacked the
/// values it was made from.
pub fn summary(changed: usize, kept: usize, with_base: bool) -> String {
    let mut text = format!("共修改 {changed} 项数据");
    if kept > 0 {
        text.push_str(&format!(
            "；另有 {kept} 项在文件生成后已被他人修改、文件中未改动，保留了数据库中的新值"
        ));
    }
    if !with_base {
        text.push_str(
            "。这个文件没有记录生成时的原值（不是本系统生成的，或复制到了新的工作簿），已逐项与导入时数据库中的数值比较",
        );
    }
    text
}

impl CellChange {
    /// Whether the store no longer holds the value this edit expects.
    pub fn is_stale(&self, current: &Dataset) -> bool {
        !identical(current.facts.get(&self.key).copied(), self.expected)
    }
}

/// The same stored value, bit for bit.
fn identical(a: Option<f64>, b: Option<f64>) -> bool {
    a.map(f64::to_bits) == b.map(f64::to_bits)
}

/// Whether a cell shows the value it was made with. Excel keeps 15 significant digits when
/// it saves a file, so a value written with more (0.1 + 0.2) comes back shortened: that is
/// still the same value, not an edit.
fn same_as_made(cell: Option<f64>, base: Option<f64>) -> bool {
    match (cell, base) {
        (Some(a), Some(b)) => a == b || format!("{a:.14e}") == format!("{b:.14e}"),
        (None, None) => true,
        _ => false,
    }
}

impl Upload {
    /// The edits this upload asks of the store holding `current`. Refused when the file was
    /// made for another school.
    pub fn changes(&self, current: &Dataset) -> Result<Changes, UploadError> {
        if let Some(base) = &self.base
            && base.school_code != current.school.code
        {
            return Err(UploadError::OtherSchool {
                made_for: base.school_name.clone(),
                school: current.school.name.clone(),
            });
        }
        let mut changes = Changes {
            edits: Vec::new(),
            kept: 0,
            with_base: self.base.is_some(),
        };
        for CellValue {
            key,
            value,
            sheet,
            cell,
        } in &self.cells
        {
            let stored = current.facts.get(key).copied();
            // A cell the file was made without (a row added by hand) was blank to its author.
            let base = match &self.base {
                Some(base) => base.value(key).unwrap_or(None),
                None => stored,
            };
            if same_as_made(*value, base) {
                changes.kept += usize::from(!identical(stored, base));
                continue;
            }
            if same_as_made(*value, stored) {
                // Someone already entered the same value: nothing to do, nothing to refuse.
                continue;
            }
            changes.edits.push(CellChange {
                key: key.clone(),
                expected: base,
                value: *value,
                sheet: sheet.clone(),
                cell: cell.clone(),
            });
        }
        Ok(changes)
    }
}

/// The message refusing an upload because a cell it changes was changed by someone else
/// after the file was made: the cell, the element in Chinese, who changed it and when (in
/// Beijing time), and the three values involved.
pub fn stale_message(
    definitions: &Definitions,
    change: &CellChange,
    found: Option<f64>,
    changed_by: Option<&str>,
    changed_at: Option<&str>,
) -> String {
    let key = &change.key;
    let major = key
        .major
        .as_deref()
        .map(|m| format!("，{m}"))
        .unwrap_or_default();
    let shown = |v: Option<f64>| v.map_or_else(|| "空".to_string(), plain);
    let who = match (changed_by, changed_at) {
        (Some(by), Some(at)) => format!("已由 {by} 于 {} ", beijing_time(at)),
        (Some(by), None) => format!("已由 {by} "),
        _ => "已被他人".to_string(),
    };
    format!(
        "「{}」工作表 {} 单元格（{}{major}，{}年）：文件生成后{who}改为 {}（文件中原为 {}，上传的是 {}）",
        change.sheet,
        change.cell,
        definitions.elements.name(&key.element),
        key.year,
        shown(found),
        shown(change.expected),
        shown(change.value),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_rounding_to_fifteen_digits_is_not_an_edit() {
        assert!(same_as_made(Some(0.30000000000000004), Some(0.3)));
        assert!(same_as_made(Some(65.0), Some(65.0)));
        assert!(same_as_made(None, None));
        assert!(!same_as_made(Some(65.0), Some(75.0)));
        assert!(!same_as_made(Some(65.0), None));
        assert!(!same_as_made(None, Some(0.0)));
        assert!(!same_as_made(Some(4181.3), Some(4181.31)));
    }
}
