//! Random datasets for property tests (enabled by the `arbitrary` feature): any school,
//! any majors from the catalogue, any facts of the right kind, with notes.

use proptest::prelude::*;

use crate::catalogue::{Dimension, ValueKind};
use crate::{Dataset, Definitions, FactKey, Major, OrgPath, School, Year};

/// A value acceptable for the element's kind, with at most two decimals.
pub fn value_for(kind: ValueKind, raw: u32) -> f64 {
    match kind {
        ValueKind::Count => (raw % 100_000) as f64,
        ValueKind::Percent => (raw % 10_001) as f64 / 100.0,
        ValueKind::Change => (raw % 20_001) as f64 / 100.0 - 100.0,
        ValueKind::Amount | ValueKind::Ratio => raw as f64 / 100.0,
    }
}

/// Any dataset the definitions allow; its folder form and its stored form must both round-trip.
pub fn dataset(defs: &Definitions) -> impl Strategy<Value = Dataset> + use<> {
    let school_elements: Vec<(String, ValueKind)> = defs
        .elements
        .iter()
        .filter(|e| e.dimension == Dimension::School && !e.is_computed())
        .map(|e| (e.code.clone(), e.kind))
        .collect();
    let categories: Vec<String> = defs
        .majors
        .all_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let facts = proptest::collection::vec(
        (
            0..school_elements.len(),
            2020i64..=2025,
            any::<u32>(),
            any::<bool>(),
        ),
        0..60,
    );
    let majors = proptest::collection::btree_map(
        "[一-龥]{2,6}",
        (0..categories.len(), "[A-Za-z一-龥]{0,4}"),
        0..8,
    );
    let student_rows = proptest::collection::vec(
        (
            any::<prop::sample::Index>(),
            2020i64..=2025,
            any::<[Option<u16>; 3]>(),
        ),
        0..30,
    );
    (facts, majors, student_rows, "[一-龥A-Za-z“”（）]{1,20}").prop_map(
        move |(facts, majors, rows, name)| {
            let school = School {
                code: "s1".into(),
                name,
                name_en: "SAMPLE".into(),
                designations: vec!["示范学校".into()],
                org_unit: OrgPath {
                    province: "某省".into(),
                    city: "某市".into(),
                    district: "某区".into(),
                },
                sponsor: "某区人民政府".into(),
                address: String::new(),
                website: String::new(),
                phone: String::new(),
                departments: vec!["信息技术部".into()],
                report_year: Year::new(2025).unwrap(),
                report_date: "2026-01-05".into(),
                summary: "一段简介，含“引号”和 \"quotes\"。".into(),
                retired_majors: Vec::new(),
            };
            let mut data = Dataset::new(school);
            data.majors = majors
                .into_iter()
                .map(|(name, (c, department))| Major {
                    name,
                    category: categories[c].clone(),
                    department,
                })
                .collect();
            for (index, year, raw, with_note) in facts {
                let (code, kind) = &school_elements[index];
                let key = FactKey::school(Year::new(year).unwrap(), code.clone());
                data.set(key.clone(), value_for(*kind, raw));
                if with_note {
                    data.notes.insert(key, format!("说明 {raw}"));
                }
            }
            if !data.majors.is_empty() {
                for (major, year, values) in rows {
                    let name = data.majors[major.index(data.majors.len())].name.clone();
                    let year = Year::new(year).unwrap();
                    for (code, value) in ["major.intake", "major.enrolled", "major.graduates"]
                        .iter()
                        .zip(values)
                    {
                        if let Some(v) = value {
                            data.set(FactKey::major(year, *code, name.clone()), v as f64);
                        }
                    }
                }
            }
            data
        },
    )
}
