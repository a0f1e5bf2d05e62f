//! Robust peer outliers: a school's indicator against the median of its peer group (same
//! area, same type of school, same size band of enrolment), measured in median absolute
//! deviations (MAD). The modified z-score 0.6745·(x − median)/MAD flags a value beyond
//! the threshold (3.5 by default, after Iglewicz and Hoaglin); groups smaller than the
//! minimum size never flag anyone, because a median of a handful of schools says little.
//!
//! When more than half of a group share the same value the MAD is 0; then the mean
//! absolute deviation stands in (scaled by 1.2533 so both estimate the same spread for
//! normal data), and if that is 0 too every school equals the median and nothing flags.

use std::collections::BTreeMap;
use std::fmt;

use nianbao_core::number;
use serde::Serialize;

use crate::areas::{Level, SchoolType};

/// The size band of a school by its students in full-time education.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SizeBand {
    /// Fewer than 1,000 students.
    Small,
    /// 1,000 to 2,999.
    Medium,
    /// 3,000 to 5,999.
    Large,
    /// 6,000 or more.
    VeryLarge,
}

impl SizeBand {
    pub const ALL: [SizeBand; 4] = [
        SizeBand::Small,
        SizeBand::Medium,
        SizeBand::Large,
        SizeBand::VeryLarge,
    ];

    pub fn of(enrolled: f64) -> SizeBand {
        if enrolled < 1000.0 {
            SizeBand::Small
        } else if enrolled < 3000.0 {
            SizeBand::Medium
        } else if enrolled < 6000.0 {
            SizeBand::Large
        } else {
            SizeBand::VeryLarge
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SizeBand::Small => "在校生 1000 人以下",
            SizeBand::Medium => "在校生 1000–2999 人",
            SizeBand::Large => "在校生 3000–5999 人",
            SizeBand::VeryLarge => "在校生 6000 人及以上",
        }
    }
}

/// The level of the area a school's peers are taken from: the schools of its district, of
/// its city, or of its province (as the area tree places the school's district).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
pub enum PeerLevel {
    District,
    /// The default: a district has too few schools of a type and size for a median.
    #[default]
    City,
    Province,
}

impl PeerLevel {
    pub const ALL: [PeerLevel; 3] = [PeerLevel::District, PeerLevel::City, PeerLevel::Province];

    /// The code used in addresses and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            PeerLevel::District => "district",
            PeerLevel::City => "city",
            PeerLevel::Province => "province",
        }
    }

    /// How the group is named: 「同区县」.
    pub fn label(self) -> &'static str {
        match self {
            PeerLevel::District => "同区县",
            PeerLevel::City => "同市",
            PeerLevel::Province => "同省",
        }
    }

    /// The level by its code; `None` for anything else.
    pub fn parse(code: &str) -> Option<PeerLevel> {
        PeerLevel::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The area level it names.
    pub fn level(self) -> Level {
        match self {
            PeerLevel::District => Level::District,
            PeerLevel::City => Level::City,
            PeerLevel::Province => Level::Province,
        }
    }
}

/// The peer group a school is compared within.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PeerKey {
    /// The area the comparison is made in (e.g. the city's code).
    pub area: String,
    pub kind: SchoolType,
    pub band: SizeBand,
}

/// How outliers are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeerRule {
    /// |modified z| above this flags.
    pub threshold: f64,
    /// Groups with fewer schools than this never flag.
    pub min_group: usize,
}

impl Default for PeerRule {
    fn default() -> Self {
        PeerRule {
            threshold: 3.5,
            min_group: 8,
        }
    }
}

/// One school's value of one indicator, with its group.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation<'a> {
    pub school: &'a str,
    pub key: PeerKey,
    pub value: f64,
}

/// Whether the value lies above or below its peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Direction {
    High,
    Low,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::High => "偏高",
            Direction::Low => "偏低",
        }
    }
}

/// A value far from its peer group's median.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    pub school: String,
    pub indicator: String,
    pub value: f64,
    pub median: f64,
    /// The spread used: the MAD, or 1.2533·mean absolute deviation when the MAD is 0.
    pub spread: f64,
    /// Whether `spread` is the MAD itself.
    pub spread_is_mad: bool,
    /// |x − median| / spread.
    pub deviations: f64,
    /// 0.6745·(x − median) / spread.
    pub score: f64,
    pub group_size: usize,
    pub direction: Direction,
}

impl Outlier {
    /// The explanation shown on the school's line, e.g.
    /// 「生师比 31.2，同类 48 校中位数 17.5，偏离 7.6 倍 MAD（修正 z 值 5.1，偏高）」.
    pub fn explain(&self, indicator_name: &str, decimals: u32) -> String {
        let spread = if self.spread_is_mad {
            "MAD"
        } else {
            "平均绝对偏差"
        };
        format!(
            "{indicator_name} {}，同类 {} 校中位数 {}，偏离 {} 倍 {spread}（修正 z 值 {}，{}）",
            number::grouped(self.value, decimals),
            self.group_size,
            number::grouped(self.median, decimals),
            number::fixed(self.deviations, 1),
            number::fixed(self.score.abs(), 1),
            self.direction.label()
        )
    }
}

impl fmt::Display for Outlier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain(&self.indicator, 2))
    }
}

/// The median of values (sorted in place). `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The outliers of one indicator among all observations, each judged within its group.
/// Values that are not finite are left out of every group.
pub fn outliers(indicator: &str, observations: &[Observation<'_>], rule: PeerRule) -> Vec<Outlier> {
    let mut groups: BTreeMap<&PeerKey, Vec<&Observation<'_>>> = BTreeMap::new();
    for o in observations.iter().filter(|o| o.value.is_finite()) {
        groups.entry(&o.key).or_default().push(o);
    }
    let mut found = Vec::new();
    for members in groups.values() {
        if members.len() < rule.min_group.max(1) {
            continue;
        }
        let mut values: Vec<f64> = members.iter().map(|o| o.value).collect();
        let Some(med) = median(&mut values) else {
            continue;
        };
        let mut deviations: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
        let mad = median(&mut deviations).unwrap_or(0.0);
        let (spread, spread_is_mad) = if mad > 0.0 {
            (mad, true)
        } else {
            let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
            (1.253_314 * mean_ad, false)
        };
        if spread.is_nan() || spread <= 0.0 {
            continue;
        }
        for o in members {
            let score = 0.6745 * (o.value - med) / spread;
            if score.abs() > rule.threshold {
                found.push(Outlier {
                    school: o.school.to_string(),
                    indicator: indicator.to_string(),
                    value: o.value,
                    median: med,
                    spread,
                    spread_is_mad,
                    deviations: (o.value - med).abs() / spread,
                    score,
                    group_size: members.len(),
                    direction: if score > 0.0 {
                        Direction::High
                    } else {
                        Direction::Low
                    },
                });
            }
        }
    }
    found.sort_by(|a, b| a.school.cmp(&b.school));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(band: SizeBand) -> PeerKey {
        PeerKey {
            area: "5001".into(),
            kind: SchoolType::Secondary,
            band,
        }
    }

    fn observe<'a>(names: &'a [String], values: &[f64]) -> Vec<Observation<'a>> {
        names
            .iter()
            .zip(values)
            .map(|(n, v)| Observation {
                school: n,
                key: key(SizeBand::Medium),
                value: *v,
            })
            .collect()
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i:02}")).collect()
    }

    #[test]
    fn a_far_value_in_a_large_enough_group_is_flagged_and_explained() {
        let values = [16.0, 17.0, 17.5, 18.0, 17.2, 16.8, 18.3, 17.9, 16.5, 31.2];
        let names = names(values.len());
        let found = outliers(
            "student_teacher_ratio",
            &observe(&names, &values),
            PeerRule::default(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        let o = &found[0];
        assert_eq!(o.school, "s09");
        assert_eq!(o.direction, Direction::High);
        // median of the ten: (17.2 + 17.5) / 2 = 17.35; deviations' median is 0.6.
        assert!((o.median - 17.35).abs() < 1e-9);
        assert!((o.spread - 0.6).abs() < 1e-9);
        let text = o.explain("生师比", 1);
        assert!(
            text.starts_with("生师比 31.2，同类 10 校中位数 17.4，偏离 23.1 倍 MAD"),
            "{text}"
        );
        assert!(text.ends_with("偏高）"), "{text}");
    }

    #[test]
    fn the_same_values_in_a_small_group_flag_nothing() {
        let values = [16.0, 17.0, 17.5, 18.0, 17.2, 31.2];
        let names = names(values.len());
        assert!(outliers("x", &observe(&names, &values), PeerRule::default()).is_empty());
    }

    #[test]
    fn a_zero_mad_falls_back_to_the_mean_deviation() {
        let mut values = vec![20.0; 9];
        values.push(40.0);
        let names = names(values.len());
        let found = outliers("x", &observe(&names, &values), PeerRule::default());
        assert_eq!(found.len(), 1);
        assert!(!found[0].spread_is_mad);
        assert!(found[0].explain("生师比", 1).contains("平均绝对偏差"));
        // All equal: nothing to say.
        let same = vec![20.0; 12];
        let names = self::names(12);
        assert!(outliers("x", &observe(&names, &same), PeerRule::default()).is_empty());
    }

    #[test]
    fn groups_are_kept_apart() {
        let names = names(20);
        let mut obs = observe(
            &names[..10],
            &[10.0, 10.5, 11.0, 9.5, 10.2, 9.8, 10.1, 10.3, 9.9, 10.0],
        );
        // The second group's values would be outliers in the first group.
        for (i, n) in names[10..].iter().enumerate() {
            obs.push(Observation {
                school: n,
                key: key(SizeBand::Large),
                value: 30.0 + i as f64 * 0.3,
            });
        }
        assert!(outliers("x", &obs, PeerRule::default()).is_empty());
    }

    proptest! {
        /// Whatever the values, a group below the minimum size never flags anyone.
        #[test]
        fn small_groups_never_flag(
            values in proptest::collection::vec(-1.0e9f64..1.0e9, 0..8),
            min_group in 1usize..20,
        ) {
            let names = names(values.len());
            let rule = PeerRule { threshold: 3.5, min_group: min_group.max(values.len() + 1) };
            prop_assert!(outliers("x", &observe(&names, &values), rule).is_empty());
            prop_assert!(outliers("x", &observe(&names, &values), PeerRule::default()).is_empty());
        }

        /// In any group, the flagged schools are exactly those whose score exceeds the
        /// threshold, and no more than half the group is ever flagged.
        #[test]
        fn at_most_half_a_group_is_flagged(values in proptest::collection::vec(0.0f64..100.0, 8..60)) {
            let names = names(values.len());
            let found = outliers("x", &observe(&names, &values), PeerRule::default());
            prop_assert!(found.len() * 2 <= values.len());
            for o in &found {
                prop_assert!(o.score.abs() > 3.5);
            }
        }
    }
}
