//! Times as people read them. The store keeps every time in UTC
//! ("2026-01-05T08:30:00Z"); people in China read Beijing time (UTC+8 all year).

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const SHOWN: &[FormatItem<'static>] = format_description!("[year]-[month]-[day] [hour]:[minute]");

/// Beijing time: UTC+8, no daylight saving.
pub fn beijing() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// A stored UTC time shown in Beijing time ("2026-01-05 16:30"); text that is not a stored
/// time is returned as it is.
pub fn beijing_time(stored: &str) -> String {
    PrimitiveDateTime::parse(stored, STORED)
        .ok()
        .and_then(|t| t.assume_utc().to_offset(beijing()).format(SHOWN).ok())
        .unwrap_or_else(|| stored.to_string())
}

/// A moment as the store writes it (UTC, whole seconds).
pub fn stored_time(moment: OffsetDateTime) -> String {
    moment
        .to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_default()
}

/// The seconds from one stored time to another, negative when `to` is the earlier; `None`
/// when either is not a stored time.
pub fn seconds_between(from: &str, to: &str) -> Option<i64> {
    let from = PrimitiveDateTime::parse(from, STORED).ok()?;
    let to = PrimitiveDateTime::parse(to, STORED).ok()?;
    Some((to - from).whole_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_is_shown_in_beijing_time_across_midnight() {
        assert_eq!(beijing_time("2026-01-05T17:30:09Z"), "2026-01-06 01:30");
        assert_eq!(beijing_time("昨天"), "昨天");
        let moment = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(stored_time(moment), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn seconds_between_stored_times_cross_midnight_and_refuse_other_text() {
        assert_eq!(
            seconds_between("2026-01-05T23:59:30Z", "2026-01-06T00:00:45Z"),
            Some(75)
        );
        assert_eq!(
            seconds_between("2026-01-06T00:00:45Z", "2026-01-05T23:59:30Z"),
            Some(-75)
        );
        assert_eq!(seconds_between("昨天", "2026-01-06T00:00:45Z"), None);
    }
}
