//! The only figures that leave the archive: counts per year (screenings, students screened,
//! students at each risk level, counselling, lectures, follow-ups), and the rule that keeps
//! small counts out of every report and dashboard.
//!
//! A count below the minimum cell size is withheld. Among the risk levels, whose counts add
//! up to the students screened, withholding one count alone would let it be worked out from
//! the others, so further counts are withheld, smallest first, until the withheld counts
//! together reach the minimum cell size (or all are withheld).

use std::collections::BTreeSet;

use crate::register::{RegisterFact, covered_years};
use crate::vocab::PsychVocabulary;

use super::records::PsychRecords;

/// The archive's counts for every year it has records in.
pub fn tallies(records: &PsychRecords, vocabulary: &PsychVocabulary) -> Vec<RegisterFact> {
    let years: BTreeSet<i32> = records
        .screenings
        .iter()
        .map(|s| s.day.year())
        .chain(records.sessions.iter().map(|s| s.day.year()))
        .chain(records.followups.iter().map(|f| f.day.year()))
        .collect();
    let mut out = Vec::new();
    for year in covered_years(years.iter().copied(), 0) {
        if !years.contains(&year) {
            continue;
        }
        let mut push = |code: &str, value: usize| {
            out.extend(RegisterFact::new(year, code, value as f64));
        };
        let screenings: Vec<_> = records
            .screenings
            .iter()
            .filter(|s| s.day.year() == year)
            .collect();
        let highest = records.highest_risk(year, vocabulary);
        push("register.psych.screenings", screenings.len());
        push("register.psych.screened_students", highest.len());
        for (rank, level) in vocabulary.risk.iter().enumerate() {
            push(
                &level.element,
                highest.values().filter(|r| **r == rank).count(),
            );
        }
        let sessions: Vec<_> = records
            .sessions
            .iter()
            .filter(|s| s.day.year() == year)
            .collect();
        let individual: Vec<_> = sessions
            .iter()
            .filter(|s| s.form == vocabulary.individual_form)
            .collect();
        push("register.psych.individual_sessions", individual.len());
        push(
            "register.psych.counselled_students",
            individual
                .iter()
                .filter_map(|s| s.student_no.as_deref())
                .collect::<BTreeSet<_>>()
                .len(),
        );
        push(
            "register.psych.group_sessions",
            sessions
                .iter()
                .filter(|s| s.form == vocabulary.group_form)
                .count(),
        );
        let lectures: Vec<_> = sessions
            .iter()
            .filter(|s| s.form == vocabulary.lecture_form)
            .collect();
        push("register.psych.lectures", lectures.len());
        push(
            "register.psych.lecture_attendance",
            lectures
                .iter()
                .filter_map(|s| s.participants)
                .map(|p| p as usize)
                .sum(),
        );
        let followups: Vec<_> = records
            .followups
            .iter()
            .filter(|f| f.day.year() == year)
            .collect();
        push("register.psych.followups", followups.len());
        push(
            "register.psych.followed_students",
            followups
                .iter()
                .map(|f| f.student_no.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
        );
    }
    out
}

/// The counts of one year that may be published: those below the minimum cell size
/// withheld, and risk-level counts withheld further so none can be worked out.
pub fn suppress(facts: &[RegisterFact], vocabulary: &PsychVocabulary) -> Vec<RegisterFact> {
    let min = f64::from(vocabulary.min_cell);
    let exempt = |code: &str| vocabulary.unsuppressed.iter().any(|u| u == code);
    let mut withheld: BTreeSet<&str> = facts
        .iter()
        .filter(|f| !exempt(&f.element) && f.value < min)
        .map(|f| f.element.as_str())
        .collect();
    let mut group: Vec<&RegisterFact> = facts
        .iter()
        .filter(|f| vocabulary.risk.iter().any(|r| r.element == f.element))
        .collect();
    group.sort_by(|a, b| a.value.total_cmp(&b.value));
    loop {
        let hidden: Vec<&&RegisterFact> = group
            .iter()
            .filter(|f| withheld.contains(f.element.as_str()))
            .collect();
        let hidden_sum: f64 = hidden.iter().map(|f| f.value).sum();
        let exposed = hidden.len() == 1 || (!hidden.is_empty() && hidden_sum < min);
        let next = group
            .iter()
            .find(|f| !withheld.contains(f.element.as_str()));
        match (exposed, next) {
            (true, Some(next)) => {
                withheld.insert(next.element.as_str());
            }
            _ => break,
        }
    }
    facts
        .iter()
        .filter(|f| !withheld.contains(f.element.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Vocabulary;

    fn vocabulary() -> PsychVocabulary {
        let definitions = nianbao_core::Definitions::builtin().unwrap();
        Vocabulary::builtin(&definitions).unwrap().psych
    }

    fn facts(values: &[(&str, f64)]) -> Vec<RegisterFact> {
        values
            .iter()
            .map(|(code, value)| RegisterFact::new(2025, code, *value).unwrap())
            .collect()
    }

    fn published(values: &[(&str, f64)]) -> Vec<String> {
        suppress(&facts(values), &vocabulary())
            .into_iter()
            .map(|f| f.element.trim_start_matches("register.psych.").to_string())
            .collect()
    }

    #[test]
    fn small_counts_are_withheld_and_cannot_be_worked_out() {
        let shown = published(&[
            ("register.psych.screened_students", 100.0),
            ("register.psych.risk.none", 80.0),
            ("register.psych.risk.low", 12.0),
            ("register.psych.risk.medium", 6.0),
            ("register.psych.risk.high", 2.0),
            ("register.psych.followups", 4.0),
            ("register.psych.group_sessions", 3.0),
        ]);
        // high (2) is withheld; alone it could be worked out, so medium (6) goes too.
        assert_eq!(
            shown,
            [
                "screened_students",
                "risk.none",
                "risk.low",
                "group_sessions"
            ]
        );
        let shown = published(&[
            ("register.psych.screened_students", 100.0),
            ("register.psych.risk.none", 80.0),
            ("register.psych.risk.low", 10.0),
            ("register.psych.risk.medium", 7.0),
            ("register.psych.risk.high", 3.0),
        ]);
        assert_eq!(
            shown,
            ["screened_students", "risk.none", "risk.low"],
            "withheld counts together reach the minimum"
        );
        let shown = published(&[
            ("register.psych.risk.none", 80.0),
            ("register.psych.risk.low", 10.0),
            ("register.psych.risk.medium", 7.0),
            ("register.psych.risk.high", 5.0),
        ]);
        assert_eq!(shown.len(), 4, "nothing small, nothing withheld");
    }
}
