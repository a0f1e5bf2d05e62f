//! A synthetic school for scale tests: a roster of N students in departments, majors and
//! classes, two terms per school year, and M point events over the school days with a
//! realistic skew — activity per student follows a Zipf-like law, most events are small
//! positive points, a few are deductions, and about one in two hundred is a reversal —
//! all within the tree's limits, so every event passes the ledger's checks.

use std::collections::HashSet;

use crate::ledger::{IntMap, NewEvent, Timestamp, days_from_civil};
use crate::roster::Student;
use crate::tree::Tree;

/// A small, fast, reproducible generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const DEPARTMENTS: [(&str, &[&str]); 5] = [
    ("汽车工程部", &["汽车运用与维修", "新能源汽车运用与维修"]),
    (
        "信息技术部",
        &["计算机应用", "数字媒体技术应用", "电子商务"],
    ),
    ("现代服务部", &["旅游服务与管理", "中餐烹饪", "会计事务"]),
    (
        "智能制造部",
        &["数控技术应用", "工业机器人技术应用", "机电技术应用"],
    ),
    ("健康护理部", &["护理", "中医康复技术"]),
];
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢冉向谭";
const GIVEN: &str = "子浩宇轩涵欣怡然梓萱诗雨晨思俊杰嘉文博瑶佳一鑫磊婷雪琪明志伟芳娜静丽强军勇敏燕亮玲鹏飞越凯翔悦彤语桐";

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub students: usize,
    pub events: usize,
    pub seed: u64,
    /// First school year (e.g. 2024 for 2024—2025).
    pub first_year: i32,
    pub years: i32,
    pub class_size: usize,
}

/// A term to define: (code, school year, first day, last day).
pub type TermSpec = (String, i32, i32, i32);

/// The terms: autumn (Sep 1 – Jan 20) and spring (Feb 20 – Jul 10) of each school year.
pub fn terms(cfg: &SynthConfig) -> Vec<TermSpec> {
    let mut out = Vec::new();
    for y in cfg.first_year..cfg.first_year + cfg.years {
        out.push((
            format!("{y}-{}-1", y + 1),
            y,
            days_from_civil(y, 9, 1),
            days_from_civil(y + 1, 1, 20),
        ));
        out.push((
            format!("{y}-{}-2", y + 1),
            y,
            days_from_civil(y + 1, 2, 20),
            days_from_civil(y + 1, 7, 10),
        ));
    }
    out
}

/// The roster: students spread over departments, majors, three entry years and classes.
pub fn roster(cfg: &SynthConfig) -> Vec<Student> {
    let mut rng = Rng::new(cfg.seed.wrapping_add(1));
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let majors: Vec<(&str, &str)> = DEPARTMENTS
        .iter()
        .flat_map(|(d, ms)| ms.iter().map(move |m| (*d, *m)))
        .collect();
    let mut out = Vec::with_capacity(cfg.students);
    let per_cohort_major = (cfg.students / (3 * majors.len())).max(1);
    for i in 0..cfg.students {
        let cohort = (i / per_cohort_major / majors.len()) % 3;
        let m = (i / per_cohort_major) % majors.len();
        let (department, major) = majors[m];
        let entry_year = cfg.first_year + cfg.years - 1 - cohort as i32;
        let within = i % per_cohort_major;
        let class = format!(
            "{entry_year}级{major}{}班",
            within / cfg.class_size.max(1) + 1
        );
        let mut name = String::new();
        name.push(surnames[rng.below(surnames.len())]);
        name.push(given[rng.below(given.len())]);
        if rng.below(3) > 0 {
            name.push(given[rng.below(given.len())]);
        }
        out.push(Student {
            id: 0,
            number: format!("{entry_year}{:06}", i + 1),
            name,
            class,
            major: major.to_string(),
            department: department.to_string(),
            entry_year,
        });
    }
    out
}

/// Generates events in time order, in batches.
pub struct EventGenerator<'a> {
    cfg: SynthConfig,
    tree: &'a Tree,
    rng: Rng,
    numbers: Vec<String>,
    /// Cumulative activity weights of students (Zipf-like over a shuffled order).
    student_cdf: Vec<f64>,
    positive_cdf: Vec<(f64, usize)>,
    negative_cdf: Vec<(f64, usize)>,
    school_days: Vec<(i32, usize)>,
    day_index: usize,
    left_today: usize,
    made: usize,
    day_use: IntMap<u64, u32>,
    term_use: IntMap<u64, i64>,
    term_of_day: usize,
    recent: Vec<(String, u64)>,
    reversed: HashSet<String>,
}

impl<'a> EventGenerator<'a> {
    pub fn new(cfg: &SynthConfig, tree: &'a Tree, students: &[Student]) -> EventGenerator<'a> {
        let mut rng = Rng::new(cfg.seed);
        let n = students.len().max(1);
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut weight = vec![0.0; n];
        for (rank, &s) in order.iter().enumerate() {
            weight[s] = 1.0 / ((rank + 20) as f64).powf(0.8);
        }
        let mut acc = 0.0;
        let student_cdf = weight
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let cdf = |positive: bool| {
            let mut acc = 0.0;
            tree.observations
                .iter()
                .enumerate()
                .filter(|(_, o)| (o.value > 0) == positive)
                .map(|(i, o)| {
                    // Small everyday points are common, big awards rare.
                    acc += 1.0 / f64::from(o.min.abs().max(1)).powf(1.5);
                    (acc, i)
                })
                .collect::<Vec<_>>()
        };
        let mut school_days = Vec::new();
        for (t, (_, _, from, to)) in terms(cfg).iter().enumerate() {
            for day in *from..=*to {
                // 1970-01-01 was a Thursday; keep Monday to Friday.
                if (day + 3).rem_euclid(7) < 5 {
                    school_days.push((day, t));
                }
            }
        }
        EventGenerator {
            cfg: cfg.clone(),
            tree,
            rng,
            numbers: students.iter().map(|s| s.number.clone()).collect(),
            student_cdf,
            positive_cdf: cdf(true),
            negative_cdf: cdf(false),
            school_days,
            day_index: 0,
            left_today: 0,
            made: 0,
            day_use: IntMap::default(),
            term_use: IntMap::default(),
            term_of_day: usize::MAX,
            recent: Vec::new(),
            reversed: HashSet::new(),
        }
    }

    fn pick(cdf: &[(f64, usize)], rng: &mut Rng) -> usize {
        let total = cdf.last().map_or(0.0, |c| c.0);
        let x = rng.unit() * total;
        let i = cdf.partition_point(|c| c.0 <= x).min(cdf.len() - 1);
        cdf[i].1
    }

    /// The next batch of at most `size` events; empty when all have been made.
    pub fn next_batch(&mut self, size: usize) -> Vec<NewEvent> {
        let mut out = Vec::with_capacity(size.min(self.cfg.events - self.made));
        let days = self.school_days.len().max(1);
        while out.len() < size && self.made < self.cfg.events {
            if self.left_today == 0 {
                if self.made > 0 {
                    self.day_index += 1;
                }
                if self.day_index >= days {
                    break;
                }
                let remaining_days = days - self.day_index;
                self.left_today = (self.cfg.events - self.made).div_ceil(remaining_days);
                self.day_use.clear();
                let term = self.school_days[self.day_index].1;
                if term != self.term_of_day {
                    self.term_of_day = term;
                    self.term_use.clear();
                    self.recent.clear();
                }
            }
            let (day, _) = self.school_days[self.day_index];
            if let Some(e) = self.one(day) {
                out.push(e);
                self.made += 1;
                self.left_today -= 1;
            }
        }
        out
    }

    fn one(&mut self, day: i32) -> Option<NewEvent> {
        let id = format!("S{}-{:09}", self.cfg.seed, self.made + 1);
        let second = 7 * 3600 + 30 * 60 + self.rng.below(10 * 3600) as u32;
        let at = Timestamp { day, second };
        // About one event in two hundred corrects a recent one.
        if self.rng.below(200) == 0 && !self.recent.is_empty() {
            let (target, key) = self.recent.swap_remove(self.rng.below(self.recent.len()));
            if self.reversed.insert(target.clone()) {
                let value = -((key & 0xffff) as i64 - 0x8000);
                let tk = key >> 16;
                *self.term_use.entry(tk).or_default() += value;
                return Some(NewEvent {
                    row: self.made + 2,
                    event_id: id,
                    student: String::new(),
                    observation: String::new(),
                    value: None,
                    recorder: "T0001".into(),
                    role: "德育处".into(),
                    at,
                    reason: "录入有误，予以冲销".into(),
                    evidence: None,
                    reverses: Some(target),
                });
            }
        }
        for _ in 0..20 {
            let x = self.rng.unit() * self.student_cdf.last().copied().unwrap_or(0.0);
            let s = self
                .student_cdf
                .partition_point(|&c| c <= x)
                .min(self.numbers.len() - 1);
            let negative = self.rng.below(100) < 7;
            let oi = if negative {
                Self::pick(&self.negative_cdf, &mut self.rng)
            } else {
                Self::pick(&self.positive_cdf, &mut self.rng)
            };
            let o = &self.tree.observations[oi];
            let value = if o.min == o.max {
                o.value
            } else {
                o.min + self.rng.below((o.max - o.min + 1) as usize) as i32
            };
            let dk = ((s as u64) << 16) | oi as u64;
            if self.day_use.get(&dk).copied().unwrap_or(0) >= o.per_day {
                continue;
            }
            let tk = ((s as u64) << 16) | oi as u64;
            let net = self.term_use.get(&tk).copied().unwrap_or(0);
            if (net + i64::from(value)).abs() > o.per_term {
                continue;
            }
            *self.day_use.entry(dk).or_default() += 1;
            *self.term_use.entry(tk).or_default() += i64::from(value);
            if self.recent.len() < 4096 {
                self.recent
                    .push((id.clone(), (tk << 16) | (i64::from(value) + 0x8000) as u64));
            } else {
                let slot = self.rng.below(4096);
                self.recent[slot] = (id.clone(), (tk << 16) | (i64::from(value) + 0x8000) as u64);
            }
            let role = o.roles[self.rng.below(o.roles.len())].clone();
            return Some(NewEvent {
                row: self.made + 2,
                event_id: id,
                student: self.numbers[s].clone(),
                observation: o.code.clone(),
                value: Some(value),
                recorder: format!("T{:04}", self.rng.below(600) + 1),
                role,
                at,
                reason: "日常记录".into(),
                evidence: None,
                reverses: None,
            });
        }
        None
    }
}
