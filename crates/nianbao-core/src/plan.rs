//! The rules and indicators compiled once for many datasets: every element code they name
//! is resolved to a number, so that evaluating them on a dataset reads its facts from a
//! small table (one ordered walk over the dataset's facts fills it) instead of searching
//! the facts by text for every reference.
//!
//! A [`Plan`] computes exactly what [`crate::expr::Expr::value`] computes (the same
//! operations in the same order, to the bit); the texts of a finding are still built by the
//! rule or indicator itself, only for the few that fail.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::check::{self, Evaluation, Rule};
use crate::dataset::{Dataset, FIRST_YEAR, Year};
use crate::definitions::Definitions;
use crate::expr::{BinOp, CompareOp, Expr, Scope};
use crate::finding::{Finding, Severity};
use crate::indicator::{IndicatorValue, reported_element};
use crate::number;

/// The element codes with their slots, for looking up by code.
fn slots(
    codes: Vec<(String, u32, u32)>,
) -> HashMap<String, (u32, u32), BuildHasherDefault<FxHasher>> {
    codes
        .into_iter()
        .map(|(code, school, major)| (code, (school, major)))
        .collect()
}

/// A fast hash of short texts (the multiply-rotate hash of Firefox and rustc): element
/// codes are the program's own, so no one can choose them to collide.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut add = |word: u64| self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0; 8];
            word[..rest.len()].copy_from_slice(rest);
            add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// No slot: the code is not used in this scope.
const NONE: u32 = u32::MAX;

/// An expression with its facts resolved to slots of a [`Table`]. Which facts are of a major
/// is known from where they stand (inside `sum(…)` or in a per-major rule).
#[derive(Debug, Clone)]
enum Node {
    Number(f64),
    /// A fact of the school in the year evaluated.
    School(u32),
    /// A fact of the major evaluated in the year evaluated.
    Major(u32),
    Neg(Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Prev(Box<Node>),
    /// Summed over the majors; `category` is an index into [`Plan::categories`].
    Sum {
        body: Box<Node>,
        category: Option<u32>,
    },
    Pct(Box<Node>, Box<Node>),
    Change(Box<Node>),
    Abs(Box<Node>),
    Min(Box<Node>, Box<Node>),
    Max(Box<Node>, Box<Node>),
    Round(Box<Node>, u32),
}

/// One indicator, compiled.
#[derive(Debug, Clone)]
struct PlannedIndicator {
    formula: Node,
    decimals: u32,
    /// The slot of the school's printed value (`reported.<id>`).
    reported: u32,
    /// Every threshold of every standard that judges it, in the standards' order.
    thresholds: Vec<(CompareOp, f64)>,
}

/// The rules and indicators of one [`Definitions`], compiled.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every element code named, with its school slot and its major slot.
    slots: HashMap<String, (u32, u32), BuildHasherDefault<FxHasher>>,
    school_slots: usize,
    major_slots: usize,
    /// The 专业大类 named by `sum(…, "类")`.
    categories: Vec<String>,
    /// Each rule's two sides, in the definitions' order.
    rules: Vec<(Node, Node)>,
    indicators: Vec<PlannedIndicator>,
}

/// Builds the slots while compiling.
#[derive(Default)]
struct Builder {
    codes: Vec<(String, u32, u32)>,
    school_slots: u32,
    major_slots: u32,
    categories: Vec<String>,
}

impl Builder {
    fn slot(&mut self, code: &str, in_major: bool) -> u32 {
        let index = match self.codes.iter().position(|(c, _, _)| c == code) {
            Some(i) => i,
            None => {
                self.codes.push((code.to_string(), NONE, NONE));
                self.codes.len() - 1
            }
        };
        let entry = &mut self.codes[index];
        let (slot, next) = if in_major {
            (&mut entry.2, &mut self.major_slots)
        } else {
            (&mut entry.1, &mut self.school_slots)
        };
        if *slot == NONE {
            *slot = *next;
            *next += 1;
        }
        *slot
    }

    fn category(&mut self, name: &str) -> u32 {
        match self.categories.iter().position(|c| c == name) {
            Some(i) => i as u32,
            None => {
                self.categories.push(name.to_string());
                (self.categories.len() - 1) as u32
            }
        }
    }

    fn compile(&mut self, expr: &Expr, in_major: bool) -> Node {
        let one = |b: &mut Builder, e: &Expr| Box::new(b.compile(e, in_major));
        match expr {
            Expr::Number(n) => Node::Number(*n),
            Expr::Fact(code) if in_major => Node::Major(self.slot(code, true)),
            Expr::Fact(code) => Node::School(self.slot(code, false)),
            Expr::Neg(a) => Node::Neg(one(self, a)),
            Expr::Binary(op, a, b) => Node::Binary(*op, one(self, a), one(self, b)),
            Expr::Prev(a) => Node::Prev(one(self, a)),
            Expr::Sum { body, category } => Node::Sum {
                body: Box::new(self.compile(body, true)),
                category: category.as_deref().map(|c| self.category(c)),
            },
            Expr::Pct(a, b) => Node::Pct(one(self, a), one(self, b)),
            Expr::Change(a) => Node::Change(one(self, a)),
            Expr::Abs(a) => Node::Abs(one(self, a)),
            Expr::Min(a, b) => Node::Min(one(self, a), one(self, b)),
            Expr::Max(a, b) => Node::Max(one(self, a), one(self, b)),
            Expr::Round(a, places) => Node::Round(one(self, a), *places),
        }
    }
}

/// A dataset's facts as the plan reads them, in buffers kept from one dataset to the next.
#[derive(Debug, Default)]
pub struct Table {
    /// The years the dataset has facts for, in order.
    years: Vec<Year>,
    /// The first year of the table's span and how many years it spans.
    first: i32,
    span: usize,
    /// `span × school_slots` values of the school.
    school: Vec<Option<f64>>,
    /// `span × majors × major_slots` values of the majors.
    majors: Vec<Option<f64>>,
    /// For each major, the first major of the dataset with its name (whose facts it has).
    same_name: Vec<usize>,
    /// The majors' indexes, ordered by name (of majors with one name, the first first).
    by_name: Vec<usize>,
    /// For each major, the index of its 专业大类 among the plan's categories, or [`NONE`].
    category: Vec<u32>,
    school_slots: usize,
    major_slots: usize,
}

impl Table {
    /// The place of `year` in the table's span.
    fn year_index(&self, year: i32) -> Option<usize> {
        let index = year - self.first;
        (index >= 0 && (index as usize) < self.span).then_some(index as usize)
    }

    fn school_value(&self, year: i32, slot: u32) -> Option<f64> {
        let y = self.year_index(year)?;
        self.school[y * self.school_slots + slot as usize]
    }

    fn major_value(&self, year: i32, major: usize, slot: u32) -> Option<f64> {
        let y = self.year_index(year)?;
        let m = *self.same_name.get(major)?;
        self.majors[(y * self.same_name.len() + m) * self.major_slots + slot as usize]
    }
}

/// The year before `year`, if it is still a valid year (as [`Year::back`] says).
fn before(year: i32) -> Option<i32> {
    (year > FIRST_YEAR as i32).then_some(year - 1)
}

/// Told of each fact an expression reads.
trait Seen {
    /// A fact of `year`, of the school or of the major at that index.
    fn fact(&mut self, year: i32, major: Option<usize>);
}

/// Nothing to tell.
impl Seen for () {
    #[inline(always)]
    fn fact(&mut self, _: i32, _: Option<usize>) {}
}

/// The first fact read: the first of [`Expr::eval`]'s inputs, whose year and major a
/// finding's key names.
impl Seen for Option<(i32, Option<usize>)> {
    fn fact(&mut self, year: i32, major: Option<usize>) {
        if self.is_none() {
            *self = Some((year, major));
        }
    }
}

fn divide(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 { None } else { Some(a / b) }
}

impl Plan {
    /// Compiles every rule and indicator of `definitions`.
    pub fn new(definitions: &Definitions) -> Plan {
        let mut builder = Builder::default();
        let rules = definitions
            .rules
            .rules
            .iter()
            .map(|rule| {
                (
                    builder.compile(&rule.condition.left, rule.per_major),
                    builder.compile(&rule.condition.right, rule.per_major),
                )
            })
            .collect();
        let indicators = definitions
            .indicators
            .iter()
            .map(|indicator| PlannedIndicator {
                formula: builder.compile(&indicator.formula, false),
                decimals: indicator.decimals,
                reported: builder.slot(&reported_element(&indicator.id), false),
                thresholds: definitions
                    .standards
                    .iter()
                    .flat_map(|s| &s.thresholds)
                    .filter(|t| t.indicator == indicator.id)
                    .map(|t| (t.op, t.value))
                    .collect(),
            })
            .collect();
        Plan {
            slots: slots(builder.codes),
            school_slots: builder.school_slots as usize,
            major_slots: builder.major_slots as usize,
            categories: builder.categories,
            rules,
            indicators,
        }
    }

    /// Lays the dataset's facts that the plan names into `table`: one walk over the facts
    /// in their order (year, element, major), each element code found among the plan's
    /// by its hash, each major's name matched against the majors sorted by name as the
    /// facts of one element come in that order.
    pub fn fill(&self, data: &Dataset, table: &mut Table) {
        table.years.clear();
        table.school_slots = self.school_slots;
        table.major_slots = self.major_slots;
        let (first, last) = match (data.facts.first_key_value(), data.facts.last_key_value()) {
            (Some((first, _)), Some((last, _))) => (first.year.get(), last.year.get()),
            _ => (FIRST_YEAR, FIRST_YEAR),
        };
        table.first = i32::from(first);
        table.span = if data.facts.is_empty() {
            0
        } else {
            usize::from(last - first) + 1
        };
        let majors = data.majors.len();
        table.same_name.clear();
        table.category.clear();
        table.by_name.clear();
        for (i, major) in data.majors.iter().enumerate() {
            table.by_name.push(i);
            let category = self
                .categories
                .iter()
                .position(|c| *c == major.category)
                .map_or(NONE, |c| c as u32);
            table.category.push(category);
        }
        // By name, and of majors with one name the first (a stable sort), which is the one
        // whose facts they all read.
        table
            .by_name
            .sort_by(|a, b| data.majors[*a].name.cmp(&data.majors[*b].name));
        table.same_name.resize(majors, 0);
        for (k, &i) in table.by_name.iter().enumerate() {
            let first = match k.checked_sub(1).map(|p| table.by_name[p]) {
                Some(p) if data.majors[p].name == data.majors[i].name => table.same_name[p],
                _ => i,
            };
            table.same_name[i] = first;
        }
        table.school.clear();
        table.school.resize(table.span * self.school_slots, None);
        table.majors.clear();
        table
            .majors
            .resize(table.span * majors * self.major_slots, None);

        let mut last_year = None;
        // The slots of the element of the previous fact, while facts of one element follow.
        let mut last_element: Option<(&str, (u32, u32))> = None;
        // The place in `by_name` reached by the majors of the current element.
        let mut next_major = 0;
        for (key, value) in &data.facts {
            if last_year != Some(key.year) {
                last_year = Some(key.year);
                table.years.push(key.year);
                last_element = None;
            }
            let (school_slot, major_slot) = match last_element {
                Some((element, slots)) if element == key.element => slots,
                _ => {
                    let slots = self
                        .slots
                        .get(key.element.as_str())
                        .copied()
                        .unwrap_or((NONE, NONE));
                    last_element = Some((key.element.as_str(), slots));
                    next_major = 0;
                    slots
                }
            };
            let y = usize::from(key.year.get() - first);
            match &key.major {
                None if school_slot != NONE => {
                    table.school[y * self.school_slots + school_slot as usize] = Some(*value);
                }
                Some(name) if major_slot != NONE => {
                    while next_major < majors && data.majors[table.by_name[next_major]].name < *name
                    {
                        next_major += 1;
                    }
                    if let Some(&m) = table.by_name.get(next_major)
                        && data.majors[m].name == *name
                    {
                        table.majors[(y * majors + m) * self.major_slots + major_slot as usize] =
                            Some(*value);
                    }
                }
                _ => {}
            }
        }
    }

    /// The value of a compiled expression in `year` (and for the major at index `major` of
    /// the dataset), as [`Expr::value`] computes it.
    fn value(&self, node: &Node, table: &Table, year: i32, major: usize) -> Option<f64> {
        self.eval(node, table, year, major, &mut ())
    }

    /// As [`Plan::value`], telling `seen` of each fact read, in the order
    /// [`Expr::eval`] records its inputs.
    fn eval<R: Seen>(
        &self,
        node: &Node,
        table: &Table,
        year: i32,
        major: usize,
        seen: &mut R,
    ) -> Option<f64> {
        let go = |node: &Node, year: i32, seen: &mut R| self.eval(node, table, year, major, seen);
        match node {
            Node::Number(n) => Some(*n),
            Node::School(slot) => {
                let value = table.school_value(year, *slot)?;
                seen.fact(year, None);
                Some(value)
            }
            Node::Major(slot) => {
                let value = table.major_value(year, major, *slot)?;
                seen.fact(year, Some(major));
                Some(value)
            }
            Node::Neg(a) => Some(-go(a, year, seen)?),
            Node::Binary(op, a, b) => {
                let a = go(a, year, seen)?;
                let b = go(b, year, seen)?;
                match op {
                    BinOp::Add => Some(a + b),
                    BinOp::Sub => Some(a - b),
                    BinOp::Mul => Some(a * b),
                    BinOp::Div => divide(a, b),
                }
            }
            Node::Prev(a) => go(a, before(year)?, seen),
            Node::Sum { body, category } => {
                let mut total = None;
                for m in 0..table.same_name.len() {
                    if category.is_some_and(|c| c != table.category[m]) {
                        continue;
                    }
                    if let Some(v) = self.eval(body, table, year, m, seen) {
                        total = Some(total.unwrap_or(0.0) + v);
                    }
                }
                total
            }
            Node::Pct(a, b) => {
                let a = go(a, year, seen)?;
                let b = go(b, year, seen)?;
                divide(100.0 * a, b)
            }
            Node::Change(a) => {
                let now = go(a, year, seen)?;
                let before = go(a, before(year)?, seen)?;
                divide(100.0 * (now - before), before)
            }
            Node::Abs(a) => Some(go(a, year, seen)?.abs()),
            Node::Min(a, b) => {
                let a = go(a, year, seen)?;
                Some(a.min(go(b, year, seen)?))
            }
            Node::Max(a, b) => {
                let a = go(a, year, seen)?;
                Some(a.max(go(b, year, seen)?))
            }
            Node::Round(a, places) => Some(number::round_to(go(a, year, seen)?, *places)),
        }
    }

    /// Whether a rule holds in `year` (for the major at index `major`); `None` when one of
    /// its sides cannot be computed (the rule is then skipped).
    fn rule_holds(
        &self,
        index: usize,
        rule: &Rule,
        table: &Table,
        year: i32,
        major: usize,
    ) -> bool {
        let (left, right) = &self.rules[index];
        let (Some(left), Some(right)) = (
            self.value(left, table, year, major),
            self.value(right, table, year, major),
        ) else {
            return true;
        };
        let allowance = rule.tolerance.allowance(left, right);
        rule.condition.op.holds(left, right, allowance)
    }

    /// Every indicator's value in `year`, as [`crate::indicator_values`] computes them.
    fn indicator_values(&self, table: &Table, year: Year) -> Vec<IndicatorValue> {
        let y = i32::from(year.get());
        self.indicators
            .iter()
            .map(|indicator| {
                let value = self.value(&indicator.formula, table, y, usize::MAX);
                let meets = match value {
                    Some(value) if !indicator.thresholds.is_empty() => {
                        let rounded = number::round_to(value, indicator.decimals);
                        Some(
                            indicator
                                .thresholds
                                .iter()
                                .fold(true, |all, (op, t)| all & op.holds(rounded, *t, 0.0)),
                        )
                    }
                    _ => None,
                };
                IndicatorValue {
                    value,
                    reported: table.school_value(y, indicator.reported),
                    meets,
                }
            })
            .collect()
    }

    /// Fills `table` with `data`'s facts, after making sure `definitions` are those the plan
    /// was compiled from.
    fn fill_for(&self, definitions: &Definitions, data: &Dataset, table: &mut Table) {
        assert!(
            definitions.rules.rules.len() == self.rules.len()
                && definitions.indicators.len() == self.indicators.len(),
            "a plan is evaluated with the definitions it was compiled from"
        );
        self.fill(data, table);
    }

    /// Hands `each` the findings of every rule that does not hold, rule by rule, year by
    /// year and (for a rule per major) major by major; their texts are built only for those.
    fn rule_findings(
        &self,
        definitions: &Definitions,
        data: &Dataset,
        table: &Table,
        mut each: impl FnMut(Finding),
    ) {
        for (index, rule) in definitions.rules.rules.iter().enumerate() {
            for &year in &table.years {
                let y = i32::from(year.get());
                let scope = Scope::new(data, year);
                if rule.per_major {
                    for (m, major) in data.majors.iter().enumerate() {
                        if !self.rule_holds(index, rule, table, y, m) {
                            let scope = Scope {
                                major: Some(&major.name),
                                ..scope
                            };
                            if let Some(found) = rule.check(scope, &definitions.elements) {
                                each(found);
                            }
                        }
                    }
                } else if !self.rule_holds(index, rule, table, y, usize::MAX)
                    && let Some(found) = rule.check(scope, &definitions.elements)
                {
                    each(found);
                }
            }
        }
    }

    /// Runs every check and computes every indicator of every year, as
    /// [`crate::check_and_compute`] does. `definitions` must be those the plan was compiled
    /// from; `table` is any table (its buffers are reused).
    pub fn evaluate(
        &self,
        definitions: &Definitions,
        data: &Dataset,
        table: &mut Table,
    ) -> Evaluation {
        self.fill_for(definitions, data, table);
        let table = &*table;
        let mut findings = Vec::new();
        self.rule_findings(definitions, data, table, |found| findings.push(found));
        crate::check::finish(definitions, data, &table.years, findings, |year| {
            self.indicator_values(table, year)
        })
    }
}

/// A finding as the comparison of many schools needs it: which rule, how serious, and its
/// [`Finding::key`], without the texts that explain it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingKey {
    pub rule: String,
    pub severity: Severity,
    /// As [`Finding::key`] names the finding.
    pub key: String,
}

impl FindingKey {
    fn of(finding: &Finding) -> FindingKey {
        FindingKey {
            rule: finding.rule.clone(),
            severity: finding.severity,
            key: finding.key(),
        }
    }
}

/// What [`Plan::evaluate`] finds, with each finding as its [`FindingKey`] only.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// In the order of [`Evaluation::findings`].
    pub findings: Vec<FindingKey>,
    /// As [`Evaluation::indicators`].
    pub indicators: Vec<(Year, Vec<IndicatorValue>)>,
}

impl Plan {
    /// As [`Plan::evaluate`], with the findings' rules, severities and keys only: the texts
    /// of a finding are built only for a rule that does not hold or mixed catalogue
    /// editions, not for an indicator's misprint or shortfall (the commonest findings).
    pub fn summarize(
        &self,
        definitions: &Definitions,
        data: &Dataset,
        table: &mut Table,
    ) -> Summary {
        self.fill_for(definitions, data, table);
        let table = &*table;
        // Each finding with its section's order, for the sort.
        let mut found: Vec<(Vec<u32>, FindingKey)> = Vec::new();
        let mut keep = |finding: &Finding| {
            found.push((
                check::section_order(&finding.section),
                FindingKey::of(finding),
            ));
        };
        self.rule_findings(definitions, data, table, |found| keep(&found));
        check::catalogue_editions(definitions, data)
            .iter()
            .for_each(&mut keep);
        let mut indicators = Vec::with_capacity(table.years.len());
        for &year in &table.years {
            let y = i32::from(year.get());
            let values = self.indicator_values(table, year);
            let planned = self.indicators.iter().zip(&definitions.indicators);
            for ((_, indicator), v) in planned.clone().zip(&values) {
                if let (Some(reported), Some(value)) = (v.reported, v.value)
                    && check::reported_differs(reported, value)
                {
                    let rule = format!("indicator.reported.{}", indicator.id);
                    let key = format!("{rule}:{year}");
                    found.push((
                        check::section_order(&indicator.section),
                        FindingKey {
                            rule,
                            severity: Severity::Error,
                            key,
                        },
                    ));
                }
            }
            if year == data.school.report_year {
                for ((planned, indicator), v) in planned.zip(&values) {
                    let (Some(value), Some(false)) = (v.value, v.meets) else {
                        continue;
                    };
                    let rounded = number::round_to(value, planned.decimals);
                    let mut first = None;
                    self.eval(&planned.formula, table, y, usize::MAX, &mut first);
                    let suffix = match first {
                        None => String::new(),
                        Some((year, None)) => format!(":{year}"),
                        Some((year, Some(m))) => format!(":{year}:{}", data.majors[m].name),
                    };
                    for standard in &definitions.standards {
                        for t in standard
                            .thresholds
                            .iter()
                            .filter(|t| t.indicator == indicator.id)
                        {
                            if t.op.holds(rounded, t.value, 0.0) {
                                continue;
                            }
                            let rule = format!("standard.{}.{}", standard.id, indicator.id);
                            let key = format!("{rule}{suffix}");
                            found.push((
                                check::section_order(&indicator.section),
                                FindingKey {
                                    rule,
                                    severity: standard.severity,
                                    key,
                                },
                            ));
                        }
                    }
                }
            }
            indicators.push((year, values));
        }
        // Stable, as the findings of one section and severity are in [`Plan::evaluate`].
        if found.len() > 1 {
            found.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.severity.cmp(&y.severity)));
        }
        Summary {
            findings: found.into_iter().map(|(_, f)| f).collect(),
            indicators,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::dataset::{FactKey, Major};

    fn y(n: i64) -> Year {
        Year::new(n).unwrap()
    }

    fn major(name: &str, category: &str) -> Major {
        Major {
            name: name.into(),
            category: category.into(),
            department: String::new(),
        }
    }

    /// A dataset with what a store may hold but a form never writes: two majors of one
    /// name, facts of a major not listed, a major's element without a major, a gap between
    /// years and the first valid year.
    fn odd_dataset() -> Dataset {
        let mut data = Dataset {
            majors: vec![
                major("甲", "A类"),
                major("乙", "B类"),
                major("甲", "B类"),
                major("丙", "A类"),
            ],
            ..Dataset::default()
        };
        for (year, scale) in [(1990, 1.0), (1991, 2.0), (2023, 3.0), (2025, 5.0)] {
            let year = y(year);
            data.set(FactKey::school(year, "staff.total"), 100.0 * scale + 0.3);
            data.set(FactKey::school(year, "staff.external"), 7.0 * scale);
            data.set(FactKey::school(year, "major.intake"), 11.0 * scale);
            for (name, value) in [("甲", 10.0), ("乙", 4.5), ("丁", 1.0)] {
                data.set(FactKey::major(year, "major.intake", name), value * scale);
                data.set(FactKey::major(year, "staff.total", name), value + scale);
            }
        }
        data.set(FactKey::school(y(2024), "staff.external"), 0.0);
        data
    }

    const SOURCES: [&str; 20] = [
        "staff.total",
        "staff.total + staff.external * 2 - 1 / 3",
        "-staff.total / staff.external",
        "prev(staff.total)",
        "prev(prev(staff.total))",
        "prev(5)",
        "change(staff.total)",
        "change(staff.external)",
        "pct(staff.external, staff.total)",
        "round(pct(staff.external, staff.total), 1)",
        "abs(staff.external - staff.total)",
        "min(staff.total, staff.external) + max(staff.total, 3)",
        "sum(major.intake)",
        "sum(major.intake, \"A类\")",
        "sum(major.intake, \"B类\")",
        "sum(major.intake, \"C类\")",
        "sum(prev(major.intake) + staff.total)",
        "sum(change(major.intake))",
        "major.intake",
        "staff.nothing + 1",
    ];

    /// Each expression's value by the plan equals [`Expr::value`]'s, to the bit, in every
    /// year from before the data to after it, for the school and for each major.
    #[test]
    fn compiled_expressions_compute_what_expressions_compute() {
        let data = odd_dataset();
        for source in SOURCES {
            let expr = Expr::parse(source).unwrap();
            for in_major in [false, true] {
                let mut builder = Builder::default();
                let node = builder.compile(&expr, in_major);
                let plan = Plan {
                    slots: slots(builder.codes),
                    school_slots: builder.school_slots as usize,
                    major_slots: builder.major_slots as usize,
                    categories: builder.categories,
                    rules: Vec::new(),
                    indicators: Vec::new(),
                };
                let mut table = Table::default();
                plan.fill(&data, &mut table);
                for year in 1990..=2026 {
                    let scope = Scope::new(&data, y(year));
                    let majors: Vec<(usize, Option<&str>)> = if in_major {
                        data.majors
                            .iter()
                            .enumerate()
                            .map(|(i, m)| (i, Some(m.name.as_str())))
                            .collect()
                    } else {
                        vec![(usize::MAX, None)]
                    };
                    for (index, name) in majors {
                        let expected = expr.value(Scope {
                            major: name,
                            ..scope
                        });
                        let found = plan.value(&node, &table, year as i32, index);
                        assert_eq!(
                            found.map(f64::to_bits),
                            expected.map(f64::to_bits),
                            "{source} in {year} for {name:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn an_empty_dataset_has_no_years_and_no_findings() {
        let definitions = Definitions::builtin().unwrap();
        let plan = Plan::new(&definitions);
        let mut table = Table::default();
        // A table used for a larger dataset first is reset by the next one.
        plan.evaluate(&definitions, &odd_dataset(), &mut table);
        let evaluation = plan.evaluate(&definitions, &Dataset::default(), &mut table);
        assert!(evaluation.indicators.is_empty());
        assert!(evaluation.findings.is_empty(), "{:?}", evaluation.findings);
    }

    /// The summary's findings are the evaluation's, named by rule, severity and key.
    fn summary_agrees(plan: &Plan, definitions: &Definitions, data: &Dataset, table: &mut Table) {
        let evaluation = plan.evaluate(definitions, data, table);
        let summary = plan.summarize(definitions, data, table);
        let expected: Vec<FindingKey> = evaluation.findings.iter().map(FindingKey::of).collect();
        assert_eq!(summary.findings, expected);
        assert_eq!(summary.indicators, evaluation.indicators);
    }

    #[test]
    fn a_summary_names_the_findings_of_misprinted_and_substandard_indicators() {
        let definitions = Definitions::builtin().unwrap();
        let plan = Plan::new(&definitions);
        let mut data = odd_dataset();
        data.school.report_year = y(2025);
        // 生师比 30 (above 20) and printed as 12.3; too little land per student.
        data.set(FactKey::school(y(2025), "students.enrolled_total"), 1500.0);
        data.set(FactKey::school(y(2025), "staff.equivalent"), 50.0);
        data.set(
            FactKey::school(y(2025), "reported.student_teacher_ratio"),
            12.3,
        );
        data.set(FactKey::school(y(2025), "conditions.land_area"), 1000.5);
        data.set(FactKey::school(y(2023), "reported.land_area"), 7.0);
        let mut table = Table::default();
        let evaluation = plan.evaluate(&definitions, &data, &mut table);
        for prefix in ["indicator.reported.", "standard.", "staff."] {
            assert!(
                evaluation
                    .findings
                    .iter()
                    .any(|f| f.rule.starts_with(prefix)),
                "{prefix}: {:?}",
                evaluation.findings
            );
        }
        summary_agrees(&plan, &definitions, &data, &mut table);
    }

    /// An indicator whose first input is a major's fact, or a year before, is keyed by
    /// that fact's year and major, as its finding's first location is.
    #[test]
    fn a_summary_keys_a_shortfall_by_its_first_input() {
        let mut sources = crate::definitions::Sources::builtin();
        sources.indicators.1.push_str(concat!(
            "\n[[indicator]]\nid = \"intake_then_staff\"\nname = \"招生与教职工\"\n",
            "formula = \"sum(major.intake, \\\"B类\\\") + prev(staff.total)\"\n",
            "\n[[indicator]]\nid = \"staff_before\"\nname = \"上年教职工\"\n",
            "formula = \"prev(staff.total) + 0 * staff.total\"\ndecimals = 1\n",
            "\n[[indicator]]\nid = \"constant\"\nname = \"常数\"\nformula = \"3\"\n",
        ));
        sources.standards.push((
            "standards/test.toml".into(),
            concat!(
                "id = \"test\"\nname = \"测试标准\"\nsource = \"测试\"\n",
                "[[threshold]]\nindicator = \"intake_then_staff\"\nop = \">=\"\nvalue = 100000\n",
                "[[threshold]]\nindicator = \"staff_before\"\nop = \"<\"\nvalue = 1\n",
                "[[threshold]]\nindicator = \"constant\"\nop = \"==\"\nvalue = 4\n",
            )
            .into(),
        ));
        let definitions = Definitions::load(&sources).unwrap();
        let plan = Plan::new(&definitions);
        let mut data = odd_dataset();
        data.school.report_year = y(2025);
        data.set(FactKey::school(y(2024), "staff.total"), 90.0);
        let mut table = Table::default();
        let evaluation = plan.evaluate(&definitions, &data, &mut table);
        let keys: Vec<String> = evaluation.findings.iter().map(Finding::key).collect();
        for key in [
            "standard.test.intake_then_staff:2025:乙",
            "standard.test.staff_before:2024",
            "standard.test.constant",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key}: {keys:?}");
        }
        summary_agrees(&plan, &definitions, &data, &mut table);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_summary_names_the_findings_an_evaluation_finds(
            data in crate::arbitrary::dataset(&Definitions::builtin().unwrap())
        ) {
            let definitions = Definitions::builtin().unwrap();
            summary_agrees(&Plan::new(&definitions), &definitions, &data, &mut Table::default());
        }

        /// One plan and one table reused over many datasets give what each dataset gives
        /// alone, and every indicator's value is [`crate::indicator_values`]' to the bit.
        #[test]
        fn a_plan_reused_over_datasets_evaluates_each_as_alone(
            datasets in proptest::collection::vec(
                crate::arbitrary::dataset(&Definitions::builtin().unwrap()),
                1..4,
            )
        ) {
            let definitions = Definitions::builtin().unwrap();
            let plan = Plan::new(&definitions);
            let mut table = Table::default();
            for data in &datasets {
                let reused = plan.evaluate(&definitions, data, &mut table);
                let alone = crate::check_and_compute(&definitions, data);
                prop_assert_eq!(&reused, &alone);
                for (year, values) in &reused.indicators {
                    let direct = crate::indicator_values(&definitions, data, *year);
                    prop_assert_eq!(values.len(), direct.len());
                    for (a, b) in values.iter().zip(&direct) {
                        prop_assert_eq!(a.value.map(f64::to_bits), b.value.map(f64::to_bits));
                        prop_assert_eq!(a.reported.map(f64::to_bits), b.reported.map(f64::to_bits));
                        prop_assert_eq!(a.meets, b.meets);
                    }
                }
            }
        }
    }
}
