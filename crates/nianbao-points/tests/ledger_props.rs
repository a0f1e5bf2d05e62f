//! Property tests of the ledger rules: balances derived from the columnar ledger equal a
//! plain recomputation, a reversal of a reversal restores the balance, a closed term
//! refuses events, and checking while applying (the bulk import's way) accepts and refuses
//! exactly what checking then applying does — for random streams of events, reversals and
//! term closes.

use nianbao_points::aggregate::{Span, student_dimensions, student_totals};
use nianbao_points::ledger::{Ledger, NewEvent, Period, Timestamp, days_from_civil};
use nianbao_points::{Catalog, Roster, Student, Tree};
use proptest::prelude::*;

const TREE: &str = r#"
version = 1
name = "测试体系"
roles = ["班主任", "德育处"]

[[competency]]
code = "A"
name = "素养甲"

[[competency.point]]
code = "A.1"
name = "要点甲一"

[[competency.point.observation]]
code = "A.1.1"
name = "加分项"
value = 2
per_day = 1000
per_term = 1000000
dimensions = ["爱国主义", "工匠精神"]
roles = ["班主任"]

[[competency.point.observation]]
code = "A.1.2"
name = "扣分项"
value = -1
per_day = 1000
per_term = 1000000
dimensions = ["法治教育"]
roles = ["班主任", "德育处"]

[[competency.point.observation]]
code = "A.1.3"
name = "竞赛获奖"
value = 1
min = 1
max = 5
per_day = 1000
per_term = 1000000
roles = ["德育处"]
"#;

const STUDENTS: usize = 4;
const OBS: [(&str, i32, &str, u8); 3] = [
    ("A.1.1", 2, "班主任", 0b0010_0001),
    ("A.1.2", -1, "德育处", 0b0001_0000),
    ("A.1.3", 3, "德育处", 0),
];

fn terms() -> Vec<Period> {
    let d = days_from_civil;
    vec![
        Period {
            id: 1,
            code: "2025-2026-1".into(),
            school_year: 2025,
            starts: d(2025, 9, 1),
            ends: d(2026, 1, 20),
            closed: false,
        },
        Period {
            id: 2,
            code: "2025-2026-2".into(),
            school_year: 2025,
            starts: d(2026, 2, 20),
            ends: d(2026, 7, 10),
            closed: false,
        },
        Period {
            id: 3,
            code: "2026-2027-1".into(),
            school_year: 2026,
            starts: d(2026, 9, 1),
            ends: d(2027, 1, 20),
            closed: false,
        },
    ]
}

fn ledger() -> Ledger {
    ledger_of(TREE)
}

fn ledger_of(tree: &str) -> Ledger {
    let tree = Tree::from_toml(tree, "test.toml").expect("tree");
    let students = (1..=STUDENTS as u32)
        .map(|id| Student {
            id,
            number: format!("S{id}"),
            name: format!("学生{id}"),
            class: "一班".into(),
            major: "专业".into(),
            department: "部".into(),
            entry_year: 2025,
        })
        .collect();
    Ledger::new(
        Catalog::new(vec![tree]),
        Roster::new(students),
        terms(),
        Default::default(),
        true,
    )
}

#[derive(Debug, Clone)]
enum Op {
    Record {
        student: usize,
        obs: usize,
        term: usize,
        day: i32,
    },
    Reverse {
        target: usize,
        term: usize,
        day: i32,
    },
    Close {
        term: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..STUDENTS, 0..3usize, 0..3usize, 0..100i32)
            .prop_map(|(student, obs, term, day)| Op::Record { student, obs, term, day }),
        3 => (any::<usize>(), 0..3usize, 0..100i32)
            .prop_map(|(target, term, day)| Op::Reverse { target, term, day }),
        1 => (0..3usize).prop_map(|term| Op::Close { term }),
    ]
}

/// The model: every accepted event as (id, student index, dimension mask, value, reversed?).
#[derive(Default, Clone)]
struct Model {
    events: Vec<(String, usize, u8, i64, bool)>,
    closed: [bool; 3],
}

impl Model {
    fn totals(&self) -> (Vec<i64>, Vec<[i64; 8]>) {
        let mut totals = vec![0; STUDENTS];
        let mut dims = vec![[0i64; 8]; STUDENTS];
        for (_, s, mask, v, _) in &self.events {
            totals[*s] += v;
            for (d, slot) in dims[*s].iter_mut().enumerate() {
                if mask & (1 << d) != 0 {
                    *slot += v;
                }
            }
        }
        (totals, dims)
    }
}

fn row(n: usize, id: String, at: Timestamp) -> NewEvent {
    NewEvent {
        row: n,
        event_id: id,
        student: String::new(),
        observation: String::new(),
        value: None,
        recorder: "T1".into(),
        role: "德育处".into(),
        at,
        reason: "测试".into(),
        evidence: None,
        reverses: None,
    }
}

fn at(term: usize, day: i32) -> Timestamp {
    let p = &terms()[term];
    Timestamp {
        day: p.starts + day.rem_euclid(p.ends - p.starts + 1),
        second: 36_000,
    }
}

/// The batch being built, and the model as it would be if the batch is accepted.
struct Pending {
    rows: Vec<NewEvent>,
    model: Model,
    valid: bool,
}

fn flush(ledger: &mut Ledger, model: &mut Model, p: &mut Pending) -> Result<(), TestCaseError> {
    if p.rows.is_empty() {
        return Ok(());
    }
    let before = ledger.len();
    let result = ledger.record("批次", &p.rows);
    prop_assert_eq!(result.is_ok(), p.valid, "{:?}", result.as_ref().err());
    if result.is_ok() {
        *model = p.model.clone();
    } else {
        // Nothing of a refused batch is recorded.
        prop_assert_eq!(ledger.len(), before);
        p.model = model.clone();
    }
    p.rows.clear();
    p.valid = true;
    Ok(())
}

/// Applies ops in batches of `batch` rows, checking acceptance against the model.
fn run(ops: &[Op], batch: usize) -> Result<(Ledger, Model), TestCaseError> {
    let mut ledger = ledger();
    let mut model = Model::default();
    let mut p = Pending {
        rows: Vec::new(),
        model: Model::default(),
        valid: true,
    };
    for (n, op) in ops.iter().enumerate() {
        let id = format!("E{n}");
        match op {
            Op::Record {
                student,
                obs,
                term,
                day,
            } => {
                let (code, value, role, mask) = OBS[*obs];
                let mut r = row(n + 2, id.clone(), at(*term, *day));
                r.student = format!("S{}", student + 1);
                r.observation = code.into();
                r.role = role.into();
                r.value = Some(value);
                if p.model.closed[*term] {
                    p.valid = false;
                }
                p.model
                    .events
                    .push((id, *student, mask, i64::from(value), false));
                p.rows.push(r);
            }
            Op::Reverse { target, term, day } => {
                if p.model.events.is_empty() {
                    continue;
                }
                let t = target % p.model.events.len();
                let (target_id, s, mask, v, reversed) = p.model.events[t].clone();
                let mut r = row(n + 2, id.clone(), at(*term, *day));
                r.reverses = Some(target_id);
                if reversed || p.model.closed[*term] {
                    p.valid = false;
                }
                p.model.events[t].4 = true;
                p.model.events.push((id, s, mask, -v, false));
                p.rows.push(r);
            }
            Op::Close { term } => {
                flush(&mut ledger, &mut model, &mut p)?;
                ledger.close_period(*term);
                model.closed[*term] = true;
                p.model = model.clone();
            }
        }
        if p.rows.len() >= batch {
            flush(&mut ledger, &mut model, &mut p)?;
        }
    }
    flush(&mut ledger, &mut model, &mut p)?;
    Ok((ledger, model))
}

/// The rows of `ops` (records and reversals; closes are left out), ids `E0`, `E1`, …
fn rows_of(ops: &[Op]) -> Vec<NewEvent> {
    let mut out: Vec<NewEvent> = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        let id = format!("E{n}");
        match op {
            Op::Record {
                student,
                obs,
                term,
                day,
            } => {
                let (code, value, role, _) = OBS[*obs];
                let mut r = row(n + 2, id, at(*term, *day));
                r.student = format!("S{}", student + 1);
                r.observation = code.into();
                r.role = role.into();
                r.value = Some(value);
                out.push(r);
            }
            Op::Reverse { target, term, day } => {
                let mut r = row(n + 2, id, at(*term, *day));
                // Any earlier id: refused when it was refused itself or reversed already.
                r.reverses = Some(format!("E{}", target % (n + 1)));
                out.push(r);
            }
            Op::Close { .. } => {}
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn checking_while_applying_equals_checking_then_applying(
        ops in prop::collection::vec(op(), 0..80),
        batch in 1..6usize,
        closed in prop::option::of(0..3usize),
    ) {
        // Tight limits, so that rows are refused by the daily and termly limits too.
        let tight = TREE.replace("per_day = 1000", "per_day = 2").replace("per_term = 1000000", "per_term = 7");
        let mut reference = ledger_of(&tight);
        let mut fused = ledger_of(&tight);
        if let Some(term) = closed {
            reference.close_period(term);
            fused.close_period(term);
        }
        let none = std::collections::HashMap::new();
        for rows in rows_of(&ops).chunks(batch) {
            let expected = reference.record("批次", rows);
            let got = fused.check_and_apply("批次", rows.to_vec(), &none);
            prop_assert_eq!(&got, &expected);
            prop_assert_eq!(&fused.columns, &reference.columns);
        }
        prop_assert_eq!(student_totals(&fused, &Span::all()), student_totals(&reference, &Span::all()));
    }

    #[test]
    fn balances_equal_recomputation(ops in prop::collection::vec(op(), 0..80), batch in 1..5usize) {
        let (ledger, model) = run(&ops, batch)?;
        let (totals, dims) = model.totals();
        prop_assert_eq!(ledger.len(), model.events.len());
        prop_assert_eq!(student_totals(&ledger, &Span::all()), totals);
        prop_assert_eq!(student_dimensions(&ledger, &Span::all()), dims);
    }

    #[test]
    fn reversal_of_reversal_restores_balance(ops in prop::collection::vec(op(), 1..40), pick in any::<usize>()) {
        let (mut ledger, model) = run(&ops, 1)?;
        let Some(term) = ledger.periods.iter().position(|p| !p.closed) else { return Ok(()) };
        if ledger.is_empty() { return Ok(()) }
        let target = pick % ledger.len();
        if model.events[target].4 { return Ok(()) }
        let before = (student_totals(&ledger, &Span::all()), student_dimensions(&ledger, &Span::all()));
        let day = Timestamp { day: ledger.periods[term].starts, second: 0 };
        let mut r1 = row(1, "R1".into(), day);
        r1.reverses = Some(model.events[target].0.clone());
        let mut r2 = row(2, "R2".into(), day);
        r2.reverses = Some("R1".into());
        ledger.record("冲销", &[r1]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let reversed = student_totals(&ledger, &Span::all());
        let v = model.events[target].3;
        let s = model.events[target].1;
        prop_assert_eq!(reversed[s], before.0[s] - v);
        ledger.record("再冲销", &[r2]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let after = (student_totals(&ledger, &Span::all()), student_dimensions(&ledger, &Span::all()));
        prop_assert_eq!(before, after);
    }

    #[test]
    fn closed_term_refuses_events(ops in prop::collection::vec(op(), 0..30), term in 0..3usize, student in 0..STUDENTS, day in 0..100i32) {
        let (mut ledger, _) = run(&ops, 2)?;
        ledger.close_period(term);
        let before = ledger.len();
        let mut r = row(7, "NEW".into(), at(term, day));
        r.student = format!("S{}", student + 1);
        r.observation = "A.1.1".into();
        r.role = "班主任".into();
        let err = ledger.record("新记录.csv", &[r]).expect_err("closed term must refuse");
        prop_assert_eq!(ledger.len(), before);
        prop_assert_eq!(err.errors.len(), 1);
        prop_assert_eq!(err.errors[0].row, 7);
        let message = err.to_string();
        prop_assert!(message.contains("已结账") && message.contains(&terms()[term].code), "{}", message);
    }
}
