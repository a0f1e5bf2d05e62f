//! Phrases a Chinese report writes around numbers, and each element's values printed in
//! the style of its kind ([`nianbao_core::number::Style`]), for tables and text alike.

use std::collections::BTreeMap;

use nianbao_core::number::{self, Decimals, Style};
use nianbao_core::{Definitions, ValueKind};

/// Element code → kind: how each element's values print.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kinds(BTreeMap<String, ValueKind>);

impl Kinds {
    pub fn new(definitions: &Definitions) -> Kinds {
        Kinds(
            definitions
                .elements
                .iter()
                .map(|e| (e.code.clone(), e.kind))
                .collect(),
        )
    }

    /// The style of an element's values; an element not in the catalogue prints as a
    /// number of unknown kind.
    pub fn style(&self, code: &str) -> Style {
        self.0
            .get(code)
            .map_or(Style::NUMBER, |kind| Style::of(*kind))
    }

    /// A value of an element as the report prints it: "2,887", "4,181.30", "96.8".
    pub fn print(&self, code: &str, value: f64) -> String {
        self.style(code).format(value)
    }
}

/// "同比增加 12 人" / "同比减少 224 人" / "与上年持平", choosing the word from the sign.
pub fn year_change(now: f64, before: f64, unit: &str) -> String {
    let difference = now - before;
    if difference == 0.0 {
        "与上年持平".to_string()
    } else {
        let word = if difference > 0.0 { "增加" } else { "减少" };
        // The difference is exact at the precision of its operands; anything past it is float noise.
        let decimals = number::printed_decimals(now).max(number::printed_decimals(before));
        let style = Style::new(Decimals::Exactly(decimals));
        format!("同比{word}{}{unit}", style.format(difference.abs()))
    }
}

/// "2026-01-05" → "2026 年 1 月 5 日"; text that is not such a date is returned as it is.
pub fn chinese_date(date: &str) -> String {
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => match (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) {
            (Ok(y), Ok(m), Ok(d)) => format!("{y} 年 {m} 月 {d} 日"),
            _ => date.to_string(),
        },
        _ => date.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_words_follow_the_sign() {
        assert_eq!(year_change(3211.0, 3435.0, "人"), "同比减少224人");
        assert_eq!(year_change(10.0, 8.0, "项"), "同比增加2项");
        assert_eq!(year_change(5.0, 5.0, "人"), "与上年持平");
        assert_eq!(year_change(8382.74, 7000.0, "万元"), "同比增加1,382.74万元");
    }

    #[test]
    fn dates() {
        assert_eq!(chinese_date("2026-01-05"), "2026 年 1 月 5 日");
        assert_eq!(chinese_date("2026年1月"), "2026年1月");
    }
}
