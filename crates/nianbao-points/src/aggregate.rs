//! Aggregates over the columnar ledger: totals per student, class, major, department or
//! school, broken down by competency, basic point or dimension, over any span of terms or
//! days; rankings with percentiles; a student's 八维 profile and its SVG radar chart.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::columns::FLAG_REVERSAL;
use crate::ledger::{DAY_ZERO_2000, Ledger};
use crate::roster::Student;
use crate::tree::Dimension;

/// Which events count: some terms and/or a day range (both inclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Span {
    /// Term indexes; `None` means every term.
    pub periods: Option<Vec<usize>>,
    pub from_day: Option<i32>,
    pub to_day: Option<i32>,
}

impl Span {
    pub fn all() -> Span {
        Span::default()
    }

    pub fn terms(periods: Vec<usize>) -> Span {
        Span {
            periods: Some(periods),
            ..Span::default()
        }
    }

    fn compile(&self, ledger: &Ledger) -> Compiled {
        let mut periods = vec![self.periods.is_none(); ledger.periods.len().max(1)];
        if let Some(list) = &self.periods {
            for &p in list {
                if let Some(slot) = periods.get_mut(p) {
                    *slot = true;
                }
            }
        }
        let to16 = |d: i32| (d - DAY_ZERO_2000).clamp(0, i32::from(u16::MAX)) as u16;
        Compiled {
            all: self.periods.is_none() && self.from_day.is_none() && self.to_day.is_none(),
            periods,
            from: self.from_day.map_or(0, to16),
            to: self.to_day.map_or(u16::MAX, to16),
        }
    }
}

struct Compiled {
    all: bool,
    periods: Vec<bool>,
    from: u16,
    to: u16,
}

impl Compiled {
    #[inline]
    fn matches(&self, ledger: &Ledger, i: usize) -> bool {
        if self.all {
            return true;
        }
        let c = &ledger.columns;
        let d = c.day[i];
        d >= self.from
            && d <= self.to
            && self
                .periods
                .get(usize::from(c.period[i]))
                .copied()
                .unwrap_or(false)
    }
}

/// A predicate telling whether event `i` (0-based) falls in `span`.
pub fn event_filter<'a>(ledger: &'a Ledger, span: &Span) -> impl Fn(usize) -> bool + 'a {
    let compiled = span.compile(ledger);
    move |i| compiled.matches(ledger, i)
}

/// Per-student totals by dimension (index = student id − 1).
pub fn student_dimensions(ledger: &Ledger, span: &Span) -> Vec<[i64; 8]> {
    let n = ledger.roster.len();
    let mut out = vec![[0i64; 8]; n];
    let masks: Vec<u8> = ledger.catalog.keys.iter().map(|k| k.mask).collect();
    let span = span.compile(ledger);
    let c = &ledger.columns;
    for i in 0..c.len() {
        if !span.matches(ledger, i) {
            continue;
        }
        let mut m = masks.get(c.key[i] as usize).copied().unwrap_or(0);
        if m == 0 {
            continue;
        }
        let Some(row) = out.get_mut((c.student[i] as usize).wrapping_sub(1)) else {
            continue;
        };
        let v = i64::from(c.value[i]);
        while m != 0 {
            let d = m.trailing_zeros() as usize;
            row[d] += v;
            m &= m - 1;
        }
    }
    out
}

/// Per-student totals of all points (index = student id − 1).
pub fn student_totals(ledger: &Ledger, span: &Span) -> Vec<i64> {
    let mut out = vec![0i64; ledger.roster.len()];
    let span = span.compile(ledger);
    let c = &ledger.columns;
    for i in 0..c.len() {
        if span.matches(ledger, i)
            && let Some(t) = out.get_mut((c.student[i] as usize).wrapping_sub(1))
        {
            *t += i64::from(c.value[i]);
        }
    }
    out
}

/// How students are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Group {
    Student,
    Class,
    Major,
    Department,
    School,
}

impl Group {
    pub fn label(self) -> &'static str {
        match self {
            Group::Student => "学生",
            Group::Class => "班级",
            Group::Major => "专业",
            Group::Department => "专业部",
            Group::School => "全校",
        }
    }

    pub fn of(self, s: &Student) -> String {
        match self {
            Group::Student => format!("{} {}", s.number, s.name),
            Group::Class => s.class.clone(),
            Group::Major => s.major.clone(),
            Group::Department => s.department.clone(),
            Group::School => "全校".to_string(),
        }
    }
}

/// What the totals are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Measure {
    Total,
    Competency,
    Point,
    Dimension,
}

/// A breakdown table: one row per group, one column per competency/point/dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub group_by: String,
    pub columns: Vec<String>,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRow {
    pub group: String,
    pub students: usize,
    pub events: u64,
    pub total: i64,
    pub values: Vec<i64>,
    /// Per-student averages of `values`.
    pub averages: Vec<f64>,
}

/// Column names of a measure.
pub fn measure_columns(ledger: &Ledger, measure: Measure) -> Vec<String> {
    match measure {
        Measure::Total => vec!["总分".to_string()],
        Measure::Competency => ledger
            .catalog
            .competencies
            .iter()
            .map(|c| format!("{} {}", c.code, c.name))
            .collect(),
        Measure::Point => ledger
            .catalog
            .points
            .iter()
            .map(|p| format!("{} {}", p.code, p.name))
            .collect(),
        Measure::Dimension => Dimension::ALL
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
    }
}

/// Per-student matrix (students × measure columns), plus per-student event counts.
pub fn student_matrix(
    ledger: &Ledger,
    measure: Measure,
    span: &Span,
) -> (usize, Vec<i64>, Vec<u64>) {
    let n = ledger.roster.len();
    let width = measure_columns(ledger, measure).len();
    let mut values = vec![0i64; n * width];
    let mut events = vec![0u64; n];
    if measure == Measure::Dimension {
        for (s, row) in student_dimensions(ledger, span).iter().enumerate() {
            values[s * 8..s * 8 + 8].copy_from_slice(row);
        }
    }
    let column: Vec<u32> = ledger
        .catalog
        .keys
        .iter()
        .map(|k| match measure {
            Measure::Total | Measure::Dimension => 0,
            Measure::Competency => k.competency,
            Measure::Point => k.point,
        })
        .collect();
    let compiled = span.compile(ledger);
    let c = &ledger.columns;
    for i in 0..c.len() {
        if !compiled.matches(ledger, i) {
            continue;
        }
        let s = (c.student[i] as usize).wrapping_sub(1);
        if s >= n {
            continue;
        }
        events[s] += 1;
        if measure != Measure::Dimension {
            let col = column.get(c.key[i] as usize).copied().unwrap_or(0) as usize;
            values[s * width + col] += i64::from(c.value[i]);
        }
    }
    (width, values, events)
}

/// Totals and averages per group. Groups are listed by name; every student of the roster
/// counts in the averages, recorded or not.
pub fn breakdown(ledger: &Ledger, group: Group, measure: Measure, span: &Span) -> Table {
    let columns = measure_columns(ledger, measure);
    let (width, values, events) = student_matrix(ledger, measure, span);
    let totals = student_totals(ledger, span);
    let mut groups: BTreeMap<String, TableRow> = BTreeMap::new();
    for (s, student) in ledger.roster.students().iter().enumerate() {
        let row = groups.entry(group.of(student)).or_insert_with(|| TableRow {
            group: group.of(student),
            students: 0,
            events: 0,
            total: 0,
            values: vec![0; width],
            averages: Vec::new(),
        });
        row.students += 1;
        row.events += events[s];
        row.total += totals[s];
        for (acc, v) in row
            .values
            .iter_mut()
            .zip(&values[s * width..s * width + width])
        {
            *acc += v;
        }
    }
    let rows = groups
        .into_values()
        .map(|mut r| {
            r.averages = r
                .values
                .iter()
                .map(|&v| v as f64 / r.students.max(1) as f64)
                .collect();
            r
        })
        .collect();
    Table {
        group_by: group.label().to_string(),
        columns,
        rows,
    }
}

/// One student's place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub student: u32,
    pub scope: String,
    pub score: i64,
    /// 1 for the best; equal scores share a rank.
    pub rank: usize,
    /// Students in the scope.
    pub of: usize,
    /// Share of the scope scoring strictly below, in percent (0–100).
    pub percentile: f64,
}

/// Ranks every student of the roster within its scope by `scores` (index = id − 1).
pub fn rank(ledger: &Ledger, scope: Group, scores: &[i64]) -> Vec<Ranked> {
    let mut by_scope: BTreeMap<String, Vec<(u32, i64)>> = BTreeMap::new();
    for s in ledger.roster.students() {
        let score = scores.get(s.id as usize - 1).copied().unwrap_or(0);
        by_scope.entry(scope.of(s)).or_default().push((s.id, score));
    }
    let mut out = Vec::with_capacity(ledger.roster.len());
    for (name, mut members) in by_scope {
        members.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let of = members.len();
        let mut rank = 0;
        for (i, &(student, score)) in members.iter().enumerate() {
            if i == 0 || members[i - 1].1 != score {
                rank = i + 1;
            }
            let below = members[i..].iter().filter(|m| m.1 < score).count();
            out.push(Ranked {
                student,
                scope: name.clone(),
                score,
                rank,
                of,
                percentile: 100.0 * below as f64 / of as f64,
            });
        }
    }
    out
}

/// A student's score on one dimension, beside the averages it is read against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionScore {
    pub dimension: String,
    pub score: i64,
    pub class_average: f64,
    pub school_average: f64,
    /// Share of the school's students scoring strictly below, in percent.
    pub percentile: f64,
}

/// A student's 八维 profile: the data of a radar chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub student: Student,
    pub total: i64,
    pub events: u64,
    pub reversals: u64,
    pub dimensions: Vec<DimensionScore>,
}

/// The profile of one student over `span`; `None` if the id is not on the roster.
pub fn profile(ledger: &Ledger, student: u32, span: &Span) -> Option<Profile> {
    let me = ledger.roster.student(student)?.clone();
    let dims = student_dimensions(ledger, span);
    let totals = student_totals(ledger, span);
    let idx = student as usize - 1;
    let mut class_sum = [0i64; 8];
    let mut class_n = 0usize;
    for s in ledger.roster.students() {
        if s.class == me.class {
            class_n += 1;
            for (acc, v) in class_sum.iter_mut().zip(&dims[s.id as usize - 1]) {
                *acc += v;
            }
        }
    }
    let n = dims.len().max(1);
    let compiled = span.compile(ledger);
    let c = &ledger.columns;
    let (mut events, mut reversals) = (0u64, 0u64);
    for i in 0..c.len() {
        if c.student[i] == student && compiled.matches(ledger, i) {
            events += 1;
            if c.flags[i] & FLAG_REVERSAL != 0 {
                reversals += 1;
            }
        }
    }
    let dimensions = Dimension::ALL
        .iter()
        .enumerate()
        .map(|(d, dim)| {
            let score = dims[idx][d];
            let school: i64 = dims.iter().map(|r| r[d]).sum();
            let below = dims.iter().filter(|r| r[d] < score).count();
            DimensionScore {
                dimension: dim.name().to_string(),
                score,
                class_average: class_sum[d] as f64 / class_n.max(1) as f64,
                school_average: school as f64 / n as f64,
                percentile: 100.0 * below as f64 / n as f64,
            }
        })
        .collect();
    Some(Profile {
        student: me,
        total: totals[idx],
        events,
        reversals,
        dimensions,
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG radar chart of a profile: the student's scores against the class average.
pub fn radar_svg(p: &Profile) -> String {
    let (cx, cy, r) = (260.0f64, 250.0f64, 170.0f64);
    let top = p
        .dimensions
        .iter()
        .flat_map(|d| [d.score as f64, d.class_average])
        .fold(1.0f64, f64::max);
    let point = |i: usize, v: f64| {
        let a = -std::f64::consts::FRAC_PI_2 + i as f64 * std::f64::consts::TAU / 8.0;
        let k = (v.max(0.0) / top) * r;
        (cx + k * a.cos(), cy + k * a.sin())
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="520" height="540" viewBox="0 0 520 540" font-family="Noto Sans CJK SC, sans-serif">
<title>{} 八维画像</title>
<rect width="520" height="540" fill="#ffffff"/>
<text x="260" y="30" text-anchor="middle" font-size="18">{} {}（{}）八维画像</text>
"##,
        escape(&p.student.name),
        escape(&p.student.number),
        escape(&p.student.name),
        escape(&p.student.class)
    );
    for ring in 1..=4 {
        let pts: Vec<String> = (0..8)
            .map(|i| {
                let (x, y) = point(i, top * ring as f64 / 4.0);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            svg,
            r##"<polygon points="{}" fill="none" stroke="#cccccc"/>"##,
            pts.join(" ")
        );
    }
    for (i, d) in p.dimensions.iter().enumerate() {
        let (x, y) = point(i, top);
        let _ = writeln!(
            svg,
            r##"<line x1="{cx}" y1="{cy}" x2="{x:.1}" y2="{y:.1}" stroke="#cccccc"/>"##
        );
        let (lx, ly) = point(i, top * 1.16);
        let _ = writeln!(
            svg,
            r##"<text x="{lx:.1}" y="{:.1}" text-anchor="middle" font-size="14">{} {}</text>"##,
            ly + 5.0,
            escape(&d.dimension),
            d.score
        );
    }
    let polygon = |values: Vec<f64>| -> String {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let (x, y) = point(i, v);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        svg,
        r##"<polygon points="{}" fill="#999999" fill-opacity="0.15" stroke="#777777" stroke-dasharray="4 3"/>"##,
        polygon(p.dimensions.iter().map(|d| d.class_average).collect())
    );
    let _ = writeln!(
        svg,
        r##"<polygon points="{}" fill="#c0392b" fill-opacity="0.25" stroke="#c0392b" stroke-width="2"/>"##,
        polygon(p.dimensions.iter().map(|d| d.score as f64).collect())
    );
    let _ = write!(
        svg,
        r##"<rect x="150" y="505" width="14" height="14" fill="#c0392b" fill-opacity="0.5"/><text x="170" y="517" font-size="13">本人（总分 {}）</text>
<rect x="300" y="505" width="14" height="14" fill="#999999" fill-opacity="0.4"/><text x="320" y="517" font-size="13">班级平均</text>
</svg>
"##,
        p.total
    );
    svg
}
