//! Calendar days as the registers record them (a purchase, a class, a screening), read from
//! the ways people write them in spreadsheets and shown as `2025-03-01`.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

/// One calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(Date);

/// The earliest and latest years a register accepts.
pub const FIRST_YEAR: i32 = 1950;
pub const LAST_YEAR: i32 = 2100;

impl Day {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Day> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return None;
        }
        let month = Month::try_from(month).ok()?;
        Date::from_calendar_date(year, month, day).ok().map(Day)
    }

    /// Reads `2025-03-01`, `2025/3/1`, `2025.3.1` or `2025年3月1日`.
    pub fn parse(text: &str) -> Option<Day> {
        let text = text.trim().trim_end_matches('日');
        let parts: Vec<&str> = text
            .split(['-', '/', '.', '年', '月'])
            .map(str::trim)
            .collect();
        let [year, month, day] = parts.as_slice() else {
            return None;
        };
        let digits = |s: &str, max: usize| {
            (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i32>().ok())
                .flatten()
        };
        let year = digits(year, 4)?;
        let month = u8::try_from(digits(month, 2)?).ok()?;
        let day = u8::try_from(digits(day, 2)?).ok()?;
        Day::new(year, month, day)
    }

    /// A day from Excel's serial number (1900 date system; the time of day is dropped).
    pub fn from_excel_serial(serial: f64) -> Option<Day> {
        if !serial.is_finite() || serial < 1.0 {
            return None;
        }
        // Day 0 is 1899-12-30 once Excel's phantom 1900-02-29 is accounted for.
        let base = Date::from_calendar_date(1899, Month::December, 30).ok()?;
        let date = base.checked_add(time::Duration::days(serial.floor() as i64))?;
        Day::new(date.year(), u8::from(date.month()), date.day())
    }

    /// Today's date in Beijing.
    pub fn today() -> Day {
        let now = time::OffsetDateTime::now_utc().to_offset(nianbao_core::clock::beijing());
        Day(now.date())
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The same day `years` years later (28 February for a 29 February that does not recur).
    pub fn plus_years(self, years: i32) -> Day {
        let year = (self.0.year() + years).min(LAST_YEAR);
        let day = self.0.day();
        Day::new(year, u8::from(self.0.month()), day)
            .or_else(|| Day::new(year, u8::from(self.0.month()), day - 1))
            .unwrap_or(self)
    }

    /// The last day of a year.
    pub fn end_of_year(year: i32) -> Option<Day> {
        Day::new(year, 12, 31)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(text: String) -> Result<Day, String> {
        Day::parse(&text).ok_or_else(|| format!("日期「{text}」无效"))
    }
}

impl From<Day> for String {
    fn from(day: Day) -> String {
        day.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_as_people_write_them() {
        let day = Day::new(2025, 3, 1).unwrap();
        for text in [
            "2025-03-01",
            "2025/3/1",
            "2025.3.1",
            "2025年3月1日",
            " 2025-3-01 ",
        ] {
            assert_eq!(Day::parse(text), Some(day), "{text}");
        }
        for text in [
            "2025-02-30",
            "2025-13-01",
            "25-3-1",
            "2025-03",
            "三月",
            "",
            "20250301",
        ] {
            assert_eq!(Day::parse(text), None, "{text}");
        }
        assert_eq!(day.to_string(), "2025-03-01");
        assert_eq!(Day::from_excel_serial(45717.0), Some(day));
        assert_eq!(Day::from_excel_serial(45717.75), Some(day));
        assert_eq!(Day::from_excel_serial(-3.0), None);
        assert_eq!(Day::from_excel_serial(1e12), None);
    }

    #[test]
    fn leap_days_move_to_the_last_of_february() {
        let leap = Day::new(2024, 2, 29).unwrap();
        assert_eq!(leap.plus_years(3), Day::new(2027, 2, 28).unwrap());
        assert_eq!(leap.plus_years(4), Day::new(2028, 2, 29).unwrap());
    }
}
