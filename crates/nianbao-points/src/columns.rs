//! The columnar copy of one school's ledger: one array per field (student, observation
//! key, value, day, term, flags), the event's sequence number being its position. It is
//! what aggregation scans and what the checks count limits from. Because events are only
//! appended, the copy is kept in a cache file and brought up to date by reading the events
//! numbered after it.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ledger::{DAY_ZERO_2000, Event};

/// Set on reversal events.
pub const FLAG_REVERSAL: u8 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub student: Vec<u32>,
    pub key: Vec<u32>,
    pub value: Vec<i16>,
    /// Days since 2000-01-01.
    pub day: Vec<u16>,
    /// Index into the school's terms.
    pub period: Vec<u16>,
    pub flags: Vec<u8>,
    /// (reversal's sequence number, reversed event's sequence number).
    pub reverses: Vec<(u32, u32)>,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.student.len()
    }

    pub fn is_empty(&self) -> bool {
        self.student.is_empty()
    }

    pub fn reserve(&mut self, n: usize) {
        self.student.reserve(n);
        self.key.reserve(n);
        self.value.reserve(n);
        self.day.reserve(n);
        self.period.reserve(n);
        self.flags.reserve(n);
    }

    /// Appends one event; its sequence number must be `len() + 1`.
    pub fn push(&mut self, e: &Event) {
        self.push_raw(
            e.student,
            e.key,
            e.value,
            e.at.day,
            e.period,
            e.reverses.map(|t| (e.seq, t)),
        );
    }

    pub fn push_raw(
        &mut self,
        student: u32,
        key: u32,
        value: i32,
        day: i32,
        period: usize,
        reverses: Option<(u32, u32)>,
    ) {
        self.student.push(student);
        self.key.push(key);
        self.value
            .push(value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16);
        self.day
            .push((day - DAY_ZERO_2000).clamp(0, i32::from(u16::MAX)) as u16);
        self.period.push(period.min(usize::from(u16::MAX)) as u16);
        self.flags
            .push(if reverses.is_some() { FLAG_REVERSAL } else { 0 });
        if let Some(r) = reverses {
            self.reverses.push(r);
        }
    }

    /// Drops the events numbered after `len` (those of a transaction that was rolled back).
    pub fn truncate(&mut self, len: usize) {
        self.student.truncate(len);
        self.key.truncate(len);
        self.value.truncate(len);
        self.day.truncate(len);
        self.period.truncate(len);
        self.flags.truncate(len);
        self.reverses.retain(|&(seq, _)| (seq as usize) <= len);
    }

    /// Day number (since 1970-01-01) of event `i`.
    pub fn day_of(&self, i: usize) -> i32 {
        i32::from(self.day[i]) + DAY_ZERO_2000
    }
}

/// What a cache file was built from; it is used only when all of it still holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheHeader {
    /// Identity of the database the events came from.
    pub store: String,
    pub school_id: i64,
    pub rows: u64,
    /// Event id of the last row, to recognise the same ledger.
    pub last_event_id: String,
    /// (tree version, number of observations), in key order.
    pub trees: Vec<(u32, u32)>,
    /// Term ids, in index order.
    pub periods: Vec<i64>,
    pub reverses: u64,
}

const MAGIC: &[u8; 8] = b"NBPTS01\n";

/// Writes the cache file atomically (a temporary file renamed over the old one).
pub fn write_cache(path: &Path, header: &CacheHeader, c: &Columns) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // One name per write, so that two writers of one process never share a file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        let head = serde_json::to_vec(header).map_err(std::io::Error::other)?;
        w.write_all(MAGIC)?;
        w.write_all(&(head.len() as u64).to_le_bytes())?;
        w.write_all(&head)?;
        for v in &c.student {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &c.key {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &c.value {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &c.day {
            w.write_all(&v.to_le_bytes())?;
        }
        for v in &c.period {
            w.write_all(&v.to_le_bytes())?;
        }
        w.write_all(&c.flags)?;
        for (a, b) in &c.reverses {
            w.write_all(&a.to_le_bytes())?;
            w.write_all(&b.to_le_bytes())?;
        }
        w.flush()?;
    }
    std::fs::rename(&tmp, path)
}

/// Reads a cache file; `None` if it is missing, truncated or of another format.
pub fn read_cache(path: &Path) -> Option<(CacheHeader, Columns)> {
    let bytes = std::fs::read(path).ok()?;
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (len, rest) = rest.split_at_checked(8)?;
    let len = usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok()?;
    let (head, mut rest) = rest.split_at_checked(len)?;
    let header: CacheHeader = serde_json::from_slice(head).ok()?;
    let n = usize::try_from(header.rows).ok()?;
    let r = usize::try_from(header.reverses).ok()?;
    if rest.len() != n * (4 + 4 + 2 + 2 + 2 + 1) + r * 8 {
        return None;
    }
    let mut take = |size: usize| {
        let (a, b) = rest.split_at(size);
        rest = b;
        a
    };
    let u32s = |b: &[u8]| -> Vec<u32> {
        b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let u16s = |b: &[u8]| -> Vec<u16> {
        b.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    };
    let student = u32s(take(n * 4));
    let key = u32s(take(n * 4));
    let value = take(n * 2)
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let day = u16s(take(n * 2));
    let period = u16s(take(n * 2));
    let flags = take(n).to_vec();
    let pairs = u32s(take(r * 8));
    let reverses = pairs.chunks_exact(2).map(|p| (p[0], p[1])).collect();
    Some((
        header,
        Columns {
            student,
            key,
            value,
            day,
            period,
            flags,
            reverses,
        },
    ))
}
