//! Laying the registers' figures into a school's dataset: the one step between the stored
//! figures and every reader of the dataset (checks, indicators, the report, dashboards).
//!
//! Computed elements always come from their register: a stored fact of such an element is
//! dropped. Figures are laid for the years the dataset has, so a register never makes a
//! year appear that the school has not reported. Counts of the psychological archive are
//! suppressed below the minimum cell size first; the value of equipment per student is
//! derived here from the register's total and the dataset's enrolment.

use std::collections::{BTreeMap, BTreeSet};

use nianbao_core::{Dataset, Definitions, FactKey, Year};

use crate::psych::suppress;
use crate::register::{RegisterFact, System};
use crate::vocab::Vocabulary;

/// Lays the stored figures of the registers into `data`.
pub fn lay_in(
    data: &mut Dataset,
    definitions: &Definitions,
    vocabulary: &Vocabulary,
    figures: &[(System, RegisterFact)],
) {
    let years: BTreeSet<Year> = data.years().into_iter().collect();
    data.facts.retain(|key, _| {
        definitions
            .elements
            .get(&key.element)
            .is_none_or(|e| !e.is_computed())
    });
    let mut psych: BTreeMap<Year, Vec<RegisterFact>> = BTreeMap::new();
    for (system, fact) in figures {
        if !years.contains(&fact.year) || definitions.elements.get(&fact.element).is_none() {
            continue;
        }
        if *system == System::Psych {
            psych.entry(fact.year).or_default().push(fact.clone());
        } else {
            data.set(FactKey::school(fact.year, fact.element.clone()), fact.value);
        }
    }
    for facts in psych.values() {
        for fact in suppress(facts, &vocabulary.psych) {
            data.set(FactKey::school(fact.year, fact.element), fact.value);
        }
    }
    for year in years {
        let total = data.value(year, "register.equipment.value_total");
        let enrolled = data.value(year, "students.enrolled_total");
        if let (Some(total), Some(enrolled)) = (total, enrolled)
            && enrolled > 0.0
        {
            data.set(
                FactKey::school(year, "register.equipment.per_student"),
                total * 10_000.0 / enrolled,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_replace_typed_ones_only_for_reported_years() {
        let definitions = Definitions::builtin().unwrap();
        let vocabulary = Vocabulary::builtin(&definitions).unwrap();
        let y = |n| Year::new(n).unwrap();
        let mut data = Dataset::default();
        data.set(FactKey::school(y(2025), "students.enrolled_total"), 1000.0);
        data.set(
            FactKey::school(y(2025), "register.equipment.value_total"),
            1.0,
        );
        let figures = vec![
            (
                System::Bases,
                RegisterFact::new(2025, "register.equipment.value_total", 500.0).unwrap(),
            ),
            (
                System::Bases,
                RegisterFact::new(2026, "register.equipment.value_total", 600.0).unwrap(),
            ),
            (
                System::Psych,
                RegisterFact::new(2025, "register.psych.screenings", 3.0).unwrap(),
            ),
        ];
        lay_in(&mut data, &definitions, &vocabulary, &figures);
        assert_eq!(
            data.value(y(2025), "register.equipment.value_total"),
            Some(500.0)
        );
        assert_eq!(
            data.value(y(2025), "register.equipment.per_student"),
            Some(5000.0)
        );
        assert_eq!(data.years(), vec![y(2025)], "no year is added");
        assert_eq!(
            data.value(y(2025), "register.psych.screenings"),
            None,
            "suppressed"
        );
    }
}
