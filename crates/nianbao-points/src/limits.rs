//! The counters behind the per-day and per-term limits of open terms: for each student, how
//! many events of each observation key fell on each day, and the net points of each key in
//! each term. Kept per student in small sorted vectors (a few dozen entries a student) rather
//! than in hash maps with an entry per event, which for a school's two million events took
//! several times the memory and doubled it again while growing.

use crate::ledger::DAY_ZERO_2000;

/// Per student (indexed by roster id), sorted vectors of day counts and term totals.
#[derive(Debug, Clone, Default)]
pub struct LimitCounters {
    /// Observation key, day and events that day, packed into one number ([`day_entry`]) so
    /// that an entry takes eight bytes and entries sort by key, then day.
    days: Vec<Vec<u64>>,
    /// (observation key, term index, net points), the points saturating at the bounds of
    /// `i32` (a per-term limit beyond them never binds).
    terms: Vec<Vec<(u32, u32, i32)>>,
}

/// Bits of a day entry that hold the count (the low ones); counts saturate there, far above
/// any daily limit.
const COUNT_BITS: u32 = 20;
const COUNT_MAX: u64 = (1 << COUNT_BITS) - 1;

/// The part of a day entry that names key and day: the key in the high 28 bits, the day
/// (since 2000-01-01, clamped as the columns clamp it) in the next 16.
fn day_entry(key: u32, day: i32) -> u64 {
    let day = (day - DAY_ZERO_2000).clamp(0, i32::from(u16::MAX)) as u64;
    (u64::from(key) << 36) | (day << COUNT_BITS)
}

impl LimitCounters {
    pub fn clear(&mut self) {
        self.days.clear();
        self.terms.clear();
    }

    /// Events of `key` recorded for `student` on `day`.
    pub fn day_count(&self, student: u32, key: u32, day: i32) -> u32 {
        let Some(list) = self.days.get(student as usize) else {
            return 0;
        };
        let wanted = day_entry(key, day);
        match list.binary_search_by(|&e| (e & !COUNT_MAX).cmp(&wanted)) {
            Ok(i) => (list[i] & COUNT_MAX) as u32,
            Err(_) => 0,
        }
    }

    /// Counts one more event of `key` for `student` on `day`.
    pub fn add_day(&mut self, student: u32, key: u32, day: i32) {
        let list = slot(&mut self.days, student);
        let wanted = day_entry(key, day);
        match list.binary_search_by(|&e| (e & !COUNT_MAX).cmp(&wanted)) {
            Ok(i) => {
                if list[i] & COUNT_MAX < COUNT_MAX {
                    list[i] += 1;
                }
            }
            Err(i) => insert(list, i, wanted | 1),
        }
    }

    /// Net points of `key` for `student` in term `period`.
    pub fn term_net(&self, student: u32, key: u32, period: usize) -> i64 {
        let Some(list) = self.terms.get(student as usize) else {
            return 0;
        };
        let period = period as u32;
        match list.binary_search_by(|&(k, p, _)| (k, p).cmp(&(key, period))) {
            Ok(i) => i64::from(list[i].2),
            Err(_) => 0,
        }
    }

    /// Adds `value` to the net points of `key` for `student` in term `period`.
    pub fn add_term(&mut self, student: u32, key: u32, period: usize, value: i64) {
        let list = slot(&mut self.terms, student);
        let period = period as u32;
        let value = value.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        match list.binary_search_by(|&(k, p, _)| (k, p).cmp(&(key, period))) {
            Ok(i) => list[i].2 = list[i].2.saturating_add(value),
            Err(i) => insert(list, i, (key, period, value)),
        }
    }
}

/// The list of `student`, growing the outer vector as needed.
fn slot<T>(lists: &mut Vec<Vec<T>>, student: u32) -> &mut Vec<T> {
    let i = student as usize;
    if lists.len() <= i {
        lists.resize_with(i + 1, Vec::new);
    }
    &mut lists[i]
}

/// Inserts at `i`, growing a full list by half rather than doubling it: a school has a
/// hundred thousand of these short lists, and doubling leaves a third of them unused.
fn insert<T>(list: &mut Vec<T>, i: usize, value: T) {
    if list.len() == list.capacity() {
        list.reserve_exact((list.len() / 2).max(4));
    }
    list.insert(i, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_student_key_and_day_or_term() {
        let mut c = LimitCounters::default();
        c.add_day(7, 3, 20_000);
        c.add_day(7, 3, 20_000);
        c.add_day(7, 3, 20_001);
        c.add_day(8, 3, 20_000);
        assert_eq!(c.day_count(7, 3, 20_000), 2);
        assert_eq!(c.day_count(7, 3, 20_001), 1);
        assert_eq!(c.day_count(7, 4, 20_000), 0);
        assert_eq!(c.day_count(8, 3, 20_000), 1);
        assert_eq!(c.day_count(9_999, 3, 20_000), 0);
        // Neighbouring keys and days stay apart in the packed entries.
        c.add_day(7, 4, 19_999);
        assert_eq!(c.day_count(7, 4, 19_999), 1);
        assert_eq!(c.day_count(7, 3, 19_999), 0);
        assert_eq!(c.day_count(7, 3, 20_000), 2);
        c.add_term(7, 3, 1, 5);
        c.add_term(7, 3, 1, -2);
        c.add_term(7, 3, 0, 4);
        assert_eq!(c.term_net(7, 3, 1), 3);
        assert_eq!(c.term_net(7, 3, 0), 4);
        assert_eq!(c.term_net(7, 2, 1), 0);
        c.clear();
        assert_eq!(c.day_count(7, 3, 20_000), 0);
        assert_eq!(c.term_net(7, 3, 1), 0);
    }
}
