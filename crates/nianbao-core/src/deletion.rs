//! The guard against an import that would wipe out data by accident: a students.csv with
//! only its header, an empty year file. Replacing a school's facts with a new set deletes
//! every fact the new set lacks; when that is more than a stated share of what is stored,
//! or every fact of one element or of one year's school-level figures, the import is
//! refused unless the user says the deletions are meant.

use std::collections::BTreeMap;

use crate::catalogue::ElementCatalogue;
use crate::dataset::FactKey;

/// More than this share of a school's stored facts deleted at once needs confirming.
pub const MAX_DELETED_SHARE: f64 = 0.2;
/// Deleting fewer facts than this is never held up.
pub const MIN_GUARDED: usize = 10;

/// Why replacing `old` by `new` is a mass deletion, in Chinese; `None` when it is not.
pub fn mass_deletion(
    old: &BTreeMap<FactKey, f64>,
    new: &BTreeMap<FactKey, f64>,
    elements: &ElementCatalogue,
) -> Option<String> {
    let removed: Vec<&FactKey> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    if removed.len() < MIN_GUARDED {
        return None;
    }
    let share = removed.len() as f64 / old.len() as f64;
    let mut reasons = Vec::new();
    if share > MAX_DELETED_SHARE {
        reasons.push(format!(
            "占已有 {} 项的 {:.0}%，超过 {:.0}%",
            old.len(),
            share * 100.0,
            MAX_DELETED_SHARE * 100.0
        ));
    }
    // Groups that would be emptied: one element across years and majors, or the
    // school-level facts of one year.
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for key in old.keys() {
        let gone = usize::from(!new.contains_key(key));
        let mut count = |group: String| {
            let entry = groups.entry(group).or_default();
            entry.0 += 1;
            entry.1 += gone;
        };
        count(format!("「{}」的全部数据", elements.name(&key.element)));
        if key.major.is_none() {
            count(format!("{}年度的全校数据", key.year));
        }
    }
    let emptied: Vec<String> = groups
        .into_iter()
        .filter(|(_, (total, gone))| *total >= MIN_GUARDED && gone == total)
        .map(|(group, (total, _))| format!("{group}（{total} 项）"))
        .take(5)
        .collect();
    if !emptied.is_empty() {
        reasons.push(format!("将清空{}", emptied.join("、")));
    }
    (!reasons.is_empty()).then(|| {
        format!(
            "这次导入将删除 {} 项已有数据（{}）。若确属有意删除，请加 --allow-deletions 重新导入；否则请检查数据文件是否缺行或为空。数据库未做任何改动",
            removed.len(),
            reasons.join("；")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Year;

    fn facts(n: usize, year: i64) -> BTreeMap<FactKey, f64> {
        (0..n)
            .map(|i| {
                (
                    FactKey::school(Year::new(year).unwrap(), format!("e{i}")),
                    1.0,
                )
            })
            .collect()
    }

    #[test]
    fn small_or_partial_deletions_pass() {
        let old = facts(100, 2025);
        let mut new = old.clone();
        for i in 0..9 {
            new.remove(&FactKey::school(Year::new(2025).unwrap(), format!("e{i}")));
        }
        assert_eq!(
            mass_deletion(&old, &new, &ElementCatalogue::default()),
            None
        );
        let mut new = old.clone();
        for i in 0..20 {
            new.remove(&FactKey::school(Year::new(2025).unwrap(), format!("e{i}")));
        }
        assert_eq!(
            mass_deletion(&old, &new, &ElementCatalogue::default()),
            None,
            "20% is allowed"
        );
    }

    #[test]
    fn an_emptied_year_is_held_up_with_the_count() {
        let mut old = facts(100, 2024);
        let year = facts(30, 2025);
        old.extend(year.clone());
        let new: BTreeMap<_, _> = old
            .iter()
            .filter(|(k, _)| !year.contains_key(*k))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let reason = mass_deletion(&old, &new, &ElementCatalogue::default()).unwrap();
        assert!(reason.contains("删除 30 项"), "{reason}");
        assert!(reason.contains("2025年度的全校数据"), "{reason}");
    }

    #[test]
    fn deleting_everything_is_held_up() {
        let old = facts(40, 2025);
        let reason = mass_deletion(&old, &BTreeMap::new(), &ElementCatalogue::default()).unwrap();
        assert!(
            reason.contains("删除 40 项") && reason.contains("100%"),
            "{reason}"
        );
    }
}
