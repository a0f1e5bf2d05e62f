//! Facts: every number that names a known concept (教职工, 在校生, 升学率 …) for a year, from
//! prose and from tables alike, so that the same fact stated twice can be compared.

use std::collections::HashMap;

use crate::claims::ClaimKind;
use crate::concepts::{Concept, Measure, concept, concept_of, qualifier_of};
use crate::model::Model;
use crate::numbers::{Approx, Quantity};

/// Where a fact is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A prose claim (index into the model's claims).
    Prose(usize),
    /// A table cell.
    Table {
        table: usize,
        row: usize,
        column: usize,
    },
}

/// A number stated for a concept and year.
#[derive(Debug, Clone)]
pub struct Fact {
    pub concept: &'static Concept,
    /// Named by a looser synonym, or inferred from a share's wording.
    pub loose: bool,
    pub qualifier: Option<String>,
    /// The qualifier names a part of the concept (a subset: never more than the whole).
    pub restricted: bool,
    pub year: Option<i32>,
    pub year_explicit: bool,
    pub quantity: Quantity,
    pub lines: Vec<usize>,
    pub origin: Origin,
    /// Where it is, for messages ("1.4节", "表1 2024年度行“双师型教师数(人)/初级”").
    pub place: String,
    /// The paragraph of a prose fact.
    pub paragraph: Option<usize>,
}

impl Fact {
    pub fn is_exact(&self) -> bool {
        self.quantity.approx == Approx::Exact && self.quantity.upper.is_none()
    }

    pub fn from_table(&self) -> bool {
        matches!(self.origin, Origin::Table { .. })
    }
}

/// Whether a unit suits a concept ("8年" is not a count of 升学).
fn unit_fits(concept: &Concept, unit: &str) -> bool {
    match concept.measure {
        Measure::Count if concept.key == "图书" => matches!(unit, "册" | ""),
        Measure::Count => matches!(unit, "人" | "名" | ""),
        Measure::Rate => unit == "%",
        Measure::Ratio => unit.is_empty() || unit == ":",
        Measure::Amount => unit != "%" && unit != "年" && unit != "个",
    }
}

/// Collects the facts of a model.
pub fn collect(model: &Model) -> Vec<Fact> {
    let mut facts = Vec::new();
    for (index, claim) in model.claims.claims.iter().enumerate() {
        let (matched, loose) = match (claim.kind, claim.concept) {
            (ClaimKind::Amount | ClaimKind::Rate | ClaimKind::Ratio, Some(m)) => {
                (m.concept, m.loose)
            }
            // "毕业学生以直接升学为主，占88.95%": a share of graduates that names a rate.
            (ClaimKind::Share, None) if claim.owner.is_none() && claim.base_text.is_none() => {
                let key = match concept_of(&claim.owner_text).map(|m| m.concept.key) {
                    Some("升学") => "升学率",
                    Some("就业") => "就业率",
                    _ => continue,
                };
                match concept(key) {
                    Some(c) => (c, true),
                    None => continue,
                }
            }
            _ => continue,
        };
        if !unit_fits(matched, &claim.quantity.unit) {
            continue;
        }
        let section = model
            .layout
            .section_of(claim.lines.first().copied().unwrap_or(0));
        let place = if section.is_empty() {
            "正文".to_string()
        } else {
            format!("{section}节")
        };
        facts.push(Fact {
            concept: matched,
            loose,
            qualifier: claim.qualifier.clone(),
            restricted: claim.restricted,
            year: claim.year,
            year_explicit: claim.year_explicit,
            quantity: claim.quantity.clone(),
            lines: claim.lines.clone(),
            origin: Origin::Prose(index),
            place,
            paragraph: Some(claim.paragraph),
        });
    }
    for (t, table) in model.tables.iter().enumerate() {
        for (c, column) in table.columns.iter().enumerate().skip(table.label_columns) {
            let label = column.label();
            let Some(m) = concept_of(&label) else {
                continue;
            };
            let level = qualifier_of(&label);
            for (r, row) in table.rows.iter().enumerate() {
                let Some(quantity) = table.value(r, c) else {
                    continue;
                };
                if !unit_fits(m.concept, &quantity.unit) {
                    continue;
                }
                let year = column.year.or(row.year);
                let detail = row.total == crate::tables::TotalKind::Detail && row.year.is_none();
                let qualifier = match (detail, level) {
                    (true, Some(level)) => Some(format!("{}/{level}", row.name())),
                    (true, None) => Some(row.name().to_string()),
                    (false, level) => level.map(str::to_string),
                };
                if detail && row.name().is_empty() {
                    continue;
                }
                let row_label = if row.label().is_empty() {
                    "合计".to_string()
                } else {
                    row.label()
                };
                facts.push(Fact {
                    concept: m.concept,
                    loose: m.loose,
                    qualifier,
                    restricted: false,
                    year: year.or(model.report_year),
                    year_explicit: year.is_some(),
                    quantity: quantity.clone(),
                    lines: vec![row.line],
                    origin: Origin::Table {
                        table: t,
                        row: r,
                        column: c,
                    },
                    place: format!("{} {}行“{}”", table.name, row_label, label),
                    paragraph: None,
                });
            }
        }
    }
    facts
}

/// The facts looked up by what they name, so that each lookup costs the same however many
/// facts a report states.
#[derive(Debug, Default)]
pub struct Index<'a> {
    /// Exact facts without a qualifier, by (concept, year): the first in each paragraph, the
    /// first from a table, and the first of all.
    in_paragraph: HashMap<(&'static str, Option<i32>, usize), &'a Fact>,
    from_table: HashMap<(&'static str, Option<i32>), &'a Fact>,
    first: HashMap<(&'static str, Option<i32>), &'a Fact>,
    /// The fact of each prose claim.
    prose: HashMap<usize, &'a Fact>,
    /// Exact facts without a qualifier in a table row, by (concept, table, row).
    in_row: HashMap<(&'static str, usize, usize), &'a Fact>,
}

impl<'a> Index<'a> {
    pub fn new(facts: &'a [Fact]) -> Index<'a> {
        let mut index = Index::default();
        for fact in facts {
            if let Origin::Prose(claim) = fact.origin {
                index.prose.entry(claim).or_insert(fact);
            }
            if fact.qualifier.is_some() || !fact.is_exact() {
                continue;
            }
            let key = (fact.concept.key, fact.year);
            index.first.entry(key).or_insert(fact);
            if let Some(paragraph) = fact.paragraph {
                index
                    .in_paragraph
                    .entry((key.0, key.1, paragraph))
                    .or_insert(fact);
            }
            if let Origin::Table { table, row, .. } = fact.origin {
                index.from_table.entry(key).or_insert(fact);
                index
                    .in_row
                    .entry((fact.concept.key, table, row))
                    .or_insert(fact);
            }
        }
        index
    }

    /// An exact, unqualified fact of a concept and year: the one stated in the given paragraph,
    /// else a table's, else the first; and whether it was the paragraph's.
    pub fn find(
        &self,
        key: &'static str,
        year: Option<i32>,
        paragraph: Option<usize>,
    ) -> Option<(&'a Fact, bool)> {
        if let Some(fact) = paragraph.and_then(|p| self.in_paragraph.get(&(key, year, p))) {
            return Some((fact, true));
        }
        self.from_table
            .get(&(key, year))
            .or_else(|| self.first.get(&(key, year)))
            .map(|fact| (*fact, false))
    }

    /// As [`Index::find`], for a year that is known.
    pub fn pick(
        &self,
        key: &'static str,
        year: Option<i32>,
        paragraph: Option<usize>,
    ) -> Option<&'a Fact> {
        year?;
        self.find(key, year, paragraph).map(|(fact, _)| fact)
    }

    /// The fact of a prose claim.
    pub fn of_claim(&self, claim: usize) -> Option<&'a Fact> {
        self.prose.get(&claim).copied()
    }

    /// An exact, unqualified fact of a concept in a table's row.
    pub fn in_row(&self, key: &'static str, table: usize, row: usize) -> Option<&'a Fact> {
        self.in_row.get(&(key, table, row)).copied()
    }
}
