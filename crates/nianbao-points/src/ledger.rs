//! The ledger's rules: what a point event is, how a batch of new events is checked
//! (student, observation, value range, recorder's role, per-day and per-term limits,
//! duplicate ids, closed periods, reversals), and the running state those checks need.
//! Events are only ever appended; a correction is a reversal event that carries the
//! negated value of the event it cancels, and a reversal may itself be reversed.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use crate::columns::{Columns, FLAG_REVERSAL};
use crate::limits::LimitCounters;
use crate::roster::Roster;
use crate::tree::Catalog;

/// Day numbers count from 1970-01-01. Days stored in the columnar cache count from this one.
pub const DAY_ZERO_2000: i32 = 10_957;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` (also `YYYY/MM/DD`) into a day number; years 2000–2150.
pub fn parse_date(s: &str) -> Option<i32> {
    let s = s.trim();
    let mut parts = s.split(['-', '/']);
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(2000..=2150).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let day = days_from_civil(y, m, d);
    (civil_from_days(day) == (y, m, d)).then_some(day)
}

pub fn format_date(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// When an event happened, to the second, in the school's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Timestamp {
    pub day: i32,
    pub second: u32,
}

impl Timestamp {
    /// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` (`T` also accepted).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let (date, time) = match s.split_once([' ', 'T']) {
            Some((d, t)) => (d, Some(t.trim())),
            None => (s, None),
        };
        let day = parse_date(date)?;
        let second = match time {
            None => 0,
            Some(t) => {
                let mut parts = t.split(':');
                let h: u32 = parts.next()?.parse().ok()?;
                let m: u32 = parts.next()?.parse().ok()?;
                let sec: u32 = match parts.next() {
                    Some(p) => p.parse().ok()?,
                    None => 0,
                };
                if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
                    return None;
                }
                h * 3600 + m * 60 + sec
            }
        };
        Some(Timestamp { day, second })
    }
}

impl Timestamp {
    /// `YYYY-MM-DD HH:MM:SS`, as [`fmt::Display`] writes it, built without the formatting
    /// machinery (the bulk import writes one per event).
    pub fn to_text(&self) -> String {
        let (y, m, d) = civil_from_days(self.day);
        let (h, min, sec) = (self.second / 3600, self.second / 60 % 60, self.second % 60);
        if !(0..=9999).contains(&y) || h > 99 {
            return format!("{} {h:02}:{min:02}:{sec:02}", format_date(self.day));
        }
        let y = y as u32;
        let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
        let mut out = String::with_capacity(19);
        for n in [y / 1000, y / 100, y / 10, y] {
            out.push(digit(n));
        }
        for (sep, n) in [('-', m), ('-', d), (' ', h), (':', min), (':', sec)] {
            out.push(sep);
            out.push(digit(n / 10));
            out.push(digit(n));
        }
        out
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A term (学期) of a school year. Events fall into the term that contains their day; once
/// closed, a term accepts no more events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub id: i64,
    pub code: String,
    /// The school year the term belongs to, e.g. 2025 for 2025—2026.
    pub school_year: i32,
    pub starts: i32,
    pub ends: i32,
    pub closed: bool,
}

impl Period {
    pub fn contains(&self, day: i32) -> bool {
        self.starts <= day && day <= self.ends
    }
}

/// One event as submitted (a CSV row or an API call), before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Where it came from (line number in its file), for messages.
    pub row: usize,
    pub event_id: String,
    /// Student number (学号).
    pub student: String,
    /// Observation code; may be empty for a reversal.
    pub observation: String,
    /// `None` takes the observation's standard value (or, for a reversal, the negation).
    pub value: Option<i32>,
    pub recorder: String,
    pub role: String,
    pub at: Timestamp,
    pub reason: String,
    pub evidence: Option<String>,
    /// The id of the event this one reverses.
    pub reverses: Option<String>,
}

/// An event that passed every check, ready to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub seq: u32,
    pub event_id: String,
    pub student: u32,
    pub tree_version: u32,
    pub observation: u16,
    pub key: u32,
    pub value: i32,
    pub at: Timestamp,
    /// Index into the school's periods.
    pub period: usize,
    pub recorder: String,
    pub role: String,
    pub reason: String,
    pub evidence: Option<String>,
    pub reverses: Option<u32>,
}

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "第 {} 行「{c}」列：{}", self.row, self.message),
            None => write!(f, "第 {} 行：{}", self.row, self.message),
        }
    }
}

/// A batch that was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub file: String,
    pub errors: Vec<RowError>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}：{} 处错误，整批未导入", self.file, self.errors.len())?;
        for e in self.errors.iter().take(20) {
            write!(f, "\n  {e}")?;
        }
        if self.errors.len() > 20 {
            write!(f, "\n  ……另有 {} 处", self.errors.len() - 20)?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

/// Most errors listed for one batch; checking stops after this many.
pub const MAX_ERRORS: usize = 200;

/// A multiplicative hasher for the integer keys of the limit counters.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        // Fold the high half of a full product into the low bits, which pick the bucket.
        let m = u128::from(self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
}

pub type IntMap<K, V> = HashMap<K, V, BuildHasherDefault<IntHasher>>;

fn term_key(student: u32, key: u32, period: usize) -> u64 {
    (u64::from(student) << 32) ^ (u64::from(key) << 12) ^ period as u64
}

fn day_key(student: u32, key: u32, day: i32) -> u64 {
    (u64::from(student) << 32) ^ (u64::from(key) << 15) ^ (day as u64 & 0x7fff)
}

/// What an existing event looks like to a reversal that names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub seq: u32,
}

/// The state the checks run against: the school's tree versions, roster, terms and ledger
/// (as columns), plus the counters behind the limits for open terms.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub catalog: Catalog,
    pub roster: Roster,
    pub periods: Vec<Period>,
    pub columns: Columns,
    /// Sequence numbers of events that have been reversed.
    reversed: HashSet<u32>,
    limits: LimitCounters,
    /// Every event id, when the ledger is kept wholly in memory; the store checks ids itself.
    ids: Option<HashMap<String, u32>>,
    /// Whether the counters above are built; reading needs none of them.
    counters_ready: bool,
}

/// Pending counters of a batch being checked.
#[derive(Default)]
struct Pending<'r> {
    ids: HashMap<&'r str, (u32, usize)>,
    reversed: HashSet<u32>,
    term_use: IntMap<u64, i64>,
    day_use: IntMap<u64, u32>,
}

impl Ledger {
    /// A ledger over existing columns. With `keep_ids`, event ids are tracked in memory
    /// (tests and tools); otherwise the store resolves and de-duplicates them.
    pub fn new(
        catalog: Catalog,
        roster: Roster,
        periods: Vec<Period>,
        columns: Columns,
        keep_ids: bool,
    ) -> Ledger {
        Ledger {
            catalog,
            roster,
            periods,
            columns,
            ids: keep_ids.then(HashMap::new),
            ..Ledger::default()
        }
    }

    /// Builds the counters the checks need, if they are not built yet.
    pub fn prepare(&mut self) {
        if !self.counters_ready {
            self.rebuild_counters();
        }
    }

    /// Marks the counters stale (after the terms or the columns changed underneath).
    pub fn invalidate(&mut self) {
        self.counters_ready = false;
    }

    /// Recomputes the limit counters of open terms and the set of reversed events.
    pub fn rebuild_counters(&mut self) {
        self.counters_ready = true;
        self.reversed = self.columns.reverses.iter().map(|&(_, t)| t).collect();
        self.limits.clear();
        let open: Vec<bool> = self.periods.iter().map(|p| !p.closed).collect();
        let c = &self.columns;
        for i in 0..c.len() {
            let period = usize::from(c.period[i]);
            if !open.get(period).copied().unwrap_or(false) {
                continue;
            }
            let (student, key, value) = (c.student[i], c.key[i], i64::from(c.value[i]));
            self.limits.add_term(student, key, period, value);
            if c.flags[i] & FLAG_REVERSAL == 0 {
                let day = i32::from(c.day[i]) + DAY_ZERO_2000;
                self.limits.add_day(student, key, day);
            }
        }
    }

    /// Number of events in the ledger.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.columns.len() == 0
    }

    /// Whether the event with this sequence number has been reversed.
    pub fn is_reversed(&self, seq: u32) -> bool {
        if self.counters_ready {
            self.reversed.contains(&seq)
        } else {
            self.columns.reverses.iter().any(|&(_, t)| t == seq)
        }
    }

    /// The term containing `day`.
    pub fn period_of(&self, day: i32) -> Option<usize> {
        self.periods.iter().position(|p| p.contains(day))
    }

    /// Checks a batch. `existing` resolves event ids of earlier batches (reversal targets)
    /// when ids are not kept in memory. Returns the events to append, numbered after the
    /// current ledger, or every row error found (up to [`MAX_ERRORS`]).
    pub fn check(
        &mut self,
        file: &str,
        rows: &[NewEvent],
        existing: &HashMap<String, Target>,
    ) -> Result<Vec<Event>, Rejected> {
        self.prepare();
        let mut errors = Vec::new();
        let mut out: Vec<Event> = Vec::with_capacity(rows.len());
        let mut pending = Pending::default();
        let first_seq = self.columns.len() as u32 + 1;
        for row in rows {
            if errors.len() >= MAX_ERRORS {
                break;
            }
            let seq = first_seq + out.len() as u32;
            match self.check_row(row, seq, &out, &pending, existing) {
                Ok(mut event) => {
                    event.event_id = row.event_id.trim().to_string();
                    event.recorder = row.recorder.trim().to_string();
                    event.role = row.role.trim().to_string();
                    event.reason = row.reason.trim().to_string();
                    event.evidence = row.evidence.clone();
                    pending
                        .ids
                        .insert(row.event_id.trim(), (event.seq, out.len()));
                    if let Some(t) = event.reverses {
                        pending.reversed.insert(t);
                    }
                    *pending
                        .term_use
                        .entry(term_key(event.student, event.key, event.period))
                        .or_default() += i64::from(event.value);
                    if event.reverses.is_none() {
                        *pending
                            .day_use
                            .entry(day_key(event.student, event.key, event.at.day))
                            .or_default() += 1;
                    }
                    out.push(event);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(Rejected {
                file: file.to_string(),
                errors,
            })
        }
    }

    /// Checks and appends a batch row by row, taking the rows' texts instead of copying
    /// them: each event that passes is applied to the ledger at once, so the next row is
    /// checked against it (limits, reversals) without a second set of counters. Returns the
    /// events, numbered after the ledger as it was; when any row is refused, the ledger is
    /// put back as it was and every row error found (up to [`MAX_ERRORS`]) is returned.
    /// The outcome is the one of [`Ledger::check`] followed by [`Ledger::apply`].
    pub fn check_and_apply(
        &mut self,
        file: &str,
        mut rows: Vec<NewEvent>,
        existing: &HashMap<String, Target>,
    ) -> Result<Vec<Event>, Rejected> {
        self.prepare();
        let before = self.columns.len();
        let mut errors = Vec::new();
        let mut out: Vec<Event> = Vec::with_capacity(rows.len());
        {
            let mut pending = Pending::default();
            for row in rows.iter_mut() {
                if errors.len() >= MAX_ERRORS {
                    break;
                }
                let seq = self.columns.len() as u32 + 1;
                match self.check_row(row, seq, &[], &pending, existing) {
                    Ok(mut event) => {
                        let NewEvent {
                            event_id,
                            recorder,
                            role,
                            reason,
                            evidence,
                            ..
                        } = row;
                        event.recorder = take_trimmed(recorder);
                        event.role = take_trimmed(role);
                        event.reason = take_trimmed(reason);
                        event.evidence = evidence.take();
                        let event_id: &String = event_id;
                        pending.ids.insert(event_id.trim(), (event.seq, out.len()));
                        self.apply_one(&event, Some(event_id.trim()));
                        out.push(event);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            self.rollback_to(before);
            return Err(Rejected {
                file: file.to_string(),
                errors,
            });
        }
        // Every row made one event. The ids were lent to the batch's own checks until now.
        for (event, row) in out.iter_mut().zip(rows.iter_mut()) {
            event.event_id = take_trimmed(&mut row.event_id);
        }
        Ok(out)
    }

    /// The event's texts are left empty; the caller fills them from the row.
    fn check_row(
        &self,
        row: &NewEvent,
        seq: u32,
        batch: &[Event],
        pending: &Pending<'_>,
        existing: &HashMap<String, Target>,
    ) -> Result<Event, RowError> {
        let err = |column: &str, message: String| RowError {
            row: row.row,
            column: Some(column.to_string()),
            message,
        };
        let event_id = row.event_id.trim();
        if event_id.is_empty() {
            return Err(err("事件编号", "不能为空".into()));
        }
        if pending.ids.contains_key(event_id) {
            return Err(err("事件编号", format!("「{event_id}」在本批中重复出现")));
        }
        if self
            .ids
            .as_ref()
            .is_some_and(|ids| ids.contains_key(event_id))
        {
            return Err(err("事件编号", format!("「{event_id}」已经记录过")));
        }
        let period = self
            .period_of(row.at.day)
            .ok_or_else(|| err("时间", format!("{} 不在任何已设置的学期内", row.at)))?;
        let term = &self.periods[period];
        if term.closed {
            return Err(err(
                "时间",
                format!("学期「{}」已结账，不能再记录或冲销积分", term.code),
            ));
        }
        if row.recorder.trim().is_empty() {
            return Err(err("记录人", "不能为空".into()));
        }

        if let Some(target_id) = &row.reverses {
            let target_id = target_id.trim();
            let target_seq = match pending.ids.get(target_id) {
                Some(&(s, _)) => Some(s),
                None => match &self.ids {
                    Some(ids) => ids.get(target_id).copied(),
                    None => existing.get(target_id).map(|t| t.seq),
                },
            }
            .ok_or_else(|| err("冲销事件", format!("找不到事件「{target_id}」")))?;
            if self.reversed.contains(&target_seq) || pending.reversed.contains(&target_seq) {
                return Err(err(
                    "冲销事件",
                    format!("事件「{target_id}」已被冲销过，不能重复冲销"),
                ));
            }
            let (student, key, value) = self
                .event_facts(target_seq, batch)
                .ok_or_else(|| err("冲销事件", format!("事件「{target_id}」无法读取")))?;
            let student_no = self
                .roster
                .student(student)
                .map(|s| s.number.as_str())
                .unwrap_or("");
            if !row.student.trim().is_empty() && row.student.trim() != student_no {
                return Err(err(
                    "学号",
                    format!(
                        "被冲销的事件属于学生 {student_no}，不是 {}",
                        row.student.trim()
                    ),
                ));
            }
            let (tree, obs) = self
                .catalog
                .observation(key)
                .ok_or_else(|| err("冲销事件", "被冲销事件的观测点无法解读".into()))?;
            if !row.observation.trim().is_empty() && row.observation.trim() != obs.code {
                return Err(err(
                    "观测点",
                    format!(
                        "被冲销的事件记录的是 {}，不是 {}",
                        obs.code,
                        row.observation.trim()
                    ),
                ));
            }
            if let Some(v) = row.value
                && v != -value
            {
                return Err(err(
                    "分值",
                    format!("冲销的分值应为 {}（原事件 {value} 的相反数）", -value),
                ));
            }
            if !tree.roles.contains(&row.role) {
                return Err(err(
                    "记录角色",
                    format!("「{}」不是积分体系中的角色", row.role),
                ));
            }
            let observation = self.catalog.keys[key as usize].observation as u16;
            return Ok(Event {
                seq,
                event_id: String::new(),
                student,
                tree_version: tree.version,
                observation,
                key,
                value: -value,
                at: row.at,
                period,
                recorder: String::new(),
                role: String::new(),
                reason: String::new(),
                evidence: None,
                reverses: Some(target_seq),
            });
        }

        let student_no = row.student.trim();
        let student = self
            .roster
            .id_of(student_no)
            .ok_or_else(|| err("学号", format!("名册中没有学号为「{student_no}」的学生")))?;
        let ti = self
            .catalog
            .tree_for_day(row.at.day)
            .ok_or_else(|| err("时间", format!("{} 时还没有生效的积分体系", row.at)))?;
        let tree = &self.catalog.trees[ti];
        let code = row.observation.trim();
        let (oi, obs) = self.catalog.observation_by_code(ti, code).ok_or_else(|| {
            err(
                "观测点",
                format!("第 {} 版积分体系中没有观测点「{code}」", tree.version),
            )
        })?;
        let value = row.value.unwrap_or(obs.value);
        if value < obs.min || value > obs.max {
            let range = if obs.min == obs.max {
                format!("{}", obs.min)
            } else {
                format!("{}～{}", obs.min, obs.max)
            };
            return Err(err(
                "分值",
                format!(
                    "{value} 超出观测点 {}「{}」的分值 {range}",
                    obs.code, obs.name
                ),
            ));
        }
        let role = row.role.trim();
        if !obs.roles.iter().any(|r| r == role) {
            return Err(err(
                "记录角色",
                format!(
                    "「{role}」不能记录观测点 {}（可记录：{}）",
                    obs.code,
                    obs.roles.join("、")
                ),
            ));
        }
        let key = self.catalog.base[ti] + oi as u32;
        let dk = day_key(student, key, row.at.day);
        let today = self.limits.day_count(student, key, row.at.day)
            + pending.day_use.get(&dk).copied().unwrap_or(0);
        if today + 1 > obs.per_day {
            return Err(err(
                "观测点",
                format!(
                    "学生 {student_no} 在 {} 已有 {today} 次「{}」，超出每日 {} 次的上限",
                    format_date(row.at.day),
                    obs.name,
                    obs.per_day
                ),
            ));
        }
        let tk = term_key(student, key, period);
        let net = self.limits.term_net(student, key, period)
            + pending.term_use.get(&tk).copied().unwrap_or(0);
        if (net + i64::from(value)).abs() > obs.per_term {
            return Err(err(
                "分值",
                format!(
                    "学生 {student_no} 本学期「{}」已累计 {net} 分，再记 {value} 分将超出每学期 {} 分的上限",
                    obs.name, obs.per_term
                ),
            ));
        }
        Ok(Event {
            seq,
            event_id: String::new(),
            student,
            tree_version: tree.version,
            observation: oi as u16,
            key,
            value,
            at: row.at,
            period,
            recorder: String::new(),
            role: String::new(),
            reason: String::new(),
            evidence: None,
            reverses: None,
        })
    }

    /// Student, observation key and value of an event already in the ledger or in the batch.
    fn event_facts(&self, seq: u32, batch: &[Event]) -> Option<(u32, u32, i32)> {
        let i = (seq as usize).checked_sub(1)?;
        if i < self.columns.len() {
            let c = &self.columns;
            return Some((c.student[i], c.key[i], i32::from(c.value[i])));
        }
        let e = batch.get(i - self.columns.len())?;
        Some((e.student, e.key, e.value))
    }

    /// Applies one checked event: its columns, its reversal and the limit counters.
    /// `id` is its event id (for a ledger that keeps ids).
    fn apply_one(&mut self, e: &Event, id: Option<&str>) {
        self.columns.push(e);
        if let Some(t) = e.reverses {
            self.reversed.insert(t);
        }
        if let (Some(ids), Some(id)) = (&mut self.ids, id) {
            ids.insert(id.to_string(), e.seq);
        }
        if !self.periods[e.period].closed {
            self.limits
                .add_term(e.student, e.key, e.period, i64::from(e.value));
            if e.reverses.is_none() {
                self.limits.add_day(e.student, e.key, e.at.day);
            }
        }
    }

    /// Appends checked events (after the store has committed them).
    pub fn apply(&mut self, events: &[Event]) {
        if !self.counters_ready {
            for e in events {
                self.columns.push(e);
                if let Some(ids) = &mut self.ids {
                    ids.insert(e.event_id.clone(), e.seq);
                }
            }
            return;
        }
        for e in events {
            self.columns.push(e);
            if let Some(t) = e.reverses {
                self.reversed.insert(t);
            }
            if let Some(ids) = &mut self.ids {
                ids.insert(e.event_id.clone(), e.seq);
            }
            if !self.periods[e.period].closed {
                self.limits
                    .add_term(e.student, e.key, e.period, i64::from(e.value));
                if e.reverses.is_none() {
                    self.limits.add_day(e.student, e.key, e.at.day);
                }
            }
        }
    }

    /// Checks and appends in one step (in-memory use).
    pub fn record(&mut self, file: &str, rows: &[NewEvent]) -> Result<Vec<Event>, Rejected> {
        let events = self.check(file, rows, &HashMap::new())?;
        self.apply(&events);
        Ok(events)
    }

    /// Forgets the events numbered after `len`, applied from a transaction that was then
    /// rolled back.
    pub fn rollback_to(&mut self, len: usize) {
        if self.columns.len() <= len {
            return;
        }
        self.columns.truncate(len);
        if let Some(ids) = &mut self.ids {
            ids.retain(|_, seq| (*seq as usize) <= len);
        }
        self.invalidate();
    }

    /// Closes a term: no event may be recorded in it afterwards.
    pub fn close_period(&mut self, index: usize) {
        if let Some(p) = self.periods.get_mut(index) {
            p.closed = true;
        }
        self.invalidate();
    }
}

/// The text without its surrounding white space, taken out of `s` (no copy when there is
/// none to cut).
fn take_trimmed(s: &mut String) -> String {
    if s.trim().len() == s.len() {
        std::mem::take(s)
    } else {
        s.trim().to_string()
    }
}

/// The columns of an events CSV file, in order.
pub const EVENT_COLUMNS: [&str; 10] = [
    "事件编号",
    "学号",
    "观测点",
    "分值",
    "记录人",
    "记录角色",
    "时间",
    "事由",
    "佐证",
    "冲销事件",
];

/// Reads an events CSV (UTF-8, header row with [`EVENT_COLUMNS`]; 分值, 佐证 and 冲销事件 may be
/// empty) whole. Every malformed cell is reported with its row and column.
pub fn read_events_csv(path: &std::path::Path) -> Result<Vec<NewEvent>, Rejected> {
    let mut reader = EventReader::open(path)?;
    let mut rows = Vec::new();
    while let Some(batch) = reader.next_batch(100_000)? {
        rows.extend(batch);
    }
    Ok(rows)
}

/// Reads an events CSV a batch of rows at a time, so that a file of any length is held in
/// memory one batch at a time.
pub struct EventReader {
    file: String,
    path: std::path::PathBuf,
    reader: csv::Reader<std::fs::File>,
    columns: usize,
    index: [usize; 10],
    record: csv::StringRecord,
    line: usize,
    /// The file's length in bytes, for [`EventReader::estimated_rows`].
    length: u64,
}

impl EventReader {
    /// Opens the file and checks its header row.
    pub fn open(path: &std::path::Path) -> Result<EventReader, Rejected> {
        let file = path.display().to_string();
        let fail = |row: usize, column: Option<&str>, message: String| Rejected {
            file: file.clone(),
            errors: vec![RowError {
                row,
                column: column.map(str::to_string),
                message,
            }],
        };
        let opened =
            std::fs::File::open(path).map_err(|e| fail(0, None, format!("无法打开：{e}")))?;
        let length = opened.metadata().map(|m| m.len()).unwrap_or(0);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(opened);
        let headers = reader
            .headers()
            .map_err(|e| fail(1, None, format!("表头无法读取：{e}")))?
            .clone();
        let mut index = [usize::MAX; 10];
        for (i, name) in EVENT_COLUMNS.iter().enumerate() {
            match headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == *name)
            {
                Some(p) => index[i] = p,
                None if i >= 8 || i == 3 => {}
                None => {
                    return Err(fail(
                        1,
                        Some(name),
                        format!("表头缺少此列；应有：{}", EVENT_COLUMNS.join(",")),
                    ));
                }
            }
        }
        Ok(EventReader {
            file,
            path: path.to_path_buf(),
            reader,
            columns: headers.len(),
            index,
            record: csv::StringRecord::new(),
            line: 1,
            length,
        })
    }

    /// The file's name as errors show it.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The file's path, to read it again.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The number of data rows the whole file holds, estimated from its length and the
    /// length of the rows read so far (0 before any row is read).
    pub fn estimated_rows(&self) -> usize {
        let read = self.line.saturating_sub(1) as u64;
        let consumed = self.reader.position().byte();
        if read == 0 || consumed == 0 {
            return 0;
        }
        (self.length as f64 * read as f64 / consumed as f64).round() as usize
    }

    /// The next `max` rows at most; `None` at the end of the file. A batch with malformed
    /// cells is refused with every error found in it (up to [`MAX_ERRORS`]).
    pub fn next_batch(&mut self, max: usize) -> Result<Option<Vec<NewEvent>>, Rejected> {
        let mut rows = Vec::with_capacity(max.min(100_000));
        let mut errors = Vec::new();
        while rows.len() + errors.len() < max.max(1) && errors.len() < MAX_ERRORS {
            let more = match self.reader.read_record(&mut self.record) {
                Ok(more) => more,
                Err(e) => {
                    self.line += 1;
                    errors.push(RowError {
                        row: self.line,
                        column: None,
                        message: format!("无法解析：{e}"),
                    });
                    continue;
                }
            };
            if !more {
                break;
            }
            self.line += 1;
            match parse_event(&self.record, self.line, self.columns, &self.index) {
                Ok(row) => rows.push(row),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(Rejected {
                file: self.file.clone(),
                errors,
            });
        }
        Ok((!rows.is_empty()).then_some(rows))
    }
}

/// Writes events as CSV in the columns of [`EVENT_COLUMNS`], what [`EventReader`] reads back.
pub struct EventWriter<W: std::io::Write> {
    writer: csv::Writer<W>,
}

impl<W: std::io::Write> EventWriter<W> {
    /// Starts the file with its header row.
    pub fn new(out: W) -> std::io::Result<EventWriter<W>> {
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 20)
            .from_writer(out);
        writer
            .write_record(EVENT_COLUMNS)
            .map_err(std::io::Error::other)?;
        Ok(EventWriter { writer })
    }

    pub fn write(&mut self, rows: &[NewEvent]) -> std::io::Result<()> {
        for r in rows {
            let value = r.value.map(|v| v.to_string()).unwrap_or_default();
            let at = r.at.to_string();
            self.writer
                .write_record([
                    r.event_id.as_str(),
                    r.student.as_str(),
                    r.observation.as_str(),
                    value.as_str(),
                    r.recorder.as_str(),
                    r.role.as_str(),
                    at.as_str(),
                    r.reason.as_str(),
                    r.evidence.as_deref().unwrap_or(""),
                    r.reverses.as_deref().unwrap_or(""),
                ])
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// One data row of an events CSV.
fn parse_event(
    record: &csv::StringRecord,
    line: usize,
    columns: usize,
    index: &[usize; 10],
) -> Result<NewEvent, RowError> {
    let cell = |i: usize| -> &str {
        if index[i] == usize::MAX {
            ""
        } else {
            record.get(index[i]).unwrap_or("").trim()
        }
    };
    let err = |i: usize, message: String| RowError {
        row: line,
        column: Some(EVENT_COLUMNS[i].to_string()),
        message,
    };
    if record.len() < columns {
        return Err(RowError {
            row: line,
            column: None,
            message: format!("应有 {columns} 列，只有 {} 列", record.len()),
        });
    }
    let value = match cell(3) {
        "" => None,
        v => match v.trim_start_matches('+').parse::<i32>() {
            Ok(v) => Some(v),
            Err(_) => return Err(err(3, format!("「{v}」应为整数分值，如 2 或 -1"))),
        },
    };
    let Some(at) = Timestamp::parse(cell(6)) else {
        return Err(err(6, format!("「{}」应写成 YYYY-MM-DD HH:MM", cell(6))));
    };
    let reverses = Some(cell(9).to_string()).filter(|s| !s.is_empty());
    if reverses.is_none() && cell(2).is_empty() {
        return Err(err(2, "不能为空（只有冲销事件可以省略）".into()));
    }
    if reverses.is_none() && cell(1).is_empty() {
        return Err(err(1, "不能为空".into()));
    }
    Ok(NewEvent {
        row: line,
        event_id: cell(0).to_string(),
        student: cell(1).to_string(),
        observation: cell(2).to_string(),
        value,
        recorder: cell(4).to_string(),
        role: cell(5).to_string(),
        at,
        reason: cell(7).to_string(),
        evidence: Some(cell(8).to_string()).filter(|s| !s.is_empty()),
        reverses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for day in [0, 10_957, 20_000, 25_000, 60_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(parse_date("2000-01-01"), Some(DAY_ZERO_2000));
        assert_eq!(parse_date("2025-02-29"), None);
        let t = Timestamp::parse("2025-09-01 08:05").unwrap();
        assert_eq!(t.to_string(), "2025-09-01 08:05:00");
        for (day, second) in [(DAY_ZERO_2000, 0), (20_000, 86_399), (60_000, 3_661)] {
            let t = Timestamp { day, second };
            let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
            assert_eq!(
                t.to_text(),
                format!("{} {h:02}:{m:02}:{s:02}", format_date(day))
            );
            assert_eq!(Timestamp::parse(&t.to_text()), Some(t));
        }
    }
}
