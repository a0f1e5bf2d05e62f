//! Synthetic schools for tests and benchmarks: an area (one province, its cities and
//! districts) holding N schools, and for each school three consistent years of the same
//! facts the sample school reports — majors whose students flow from year to year, staff
//! whose parts add up, outcomes within the graduates — with sizes spread over the size
//! bands, indicators correlated with size, and a share of schools given one known fault.
//!
//! Everything is a function of the seed and the school's index, so one school's data can
//! be made without making the others.

use nianbao_core::{Dataset, FactKey, Major, OrgPath, School, Year};

use crate::areas::{Area, AreaSchool, AreaTree, Level, SchoolType};

/// The most schools generated at once.
pub const MAX_SCHOOLS: usize = 100_000;

/// A small, reproducible generator (SplitMix64); good enough for test data, not for secrets.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        Rng(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5851_f42d_4c95_7f2d)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [low, high).
    fn between(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Majors and their 专业大类 (2021 catalogue) that synthetic schools choose from.
const MAJORS: [(&str, &str); 24] = [
    ("会计事务", "财经商贸大类"),
    ("电子商务", "财经商贸大类"),
    ("物流服务与管理", "财经商贸大类"),
    ("数控技术应用", "装备制造大类"),
    ("工业机器人技术应用", "装备制造大类"),
    ("机电技术应用", "装备制造大类"),
    ("计算机应用", "电子与信息大类"),
    ("数字媒体技术应用", "电子与信息大类"),
    ("电子技术应用", "电子与信息大类"),
    ("汽车运用与维修", "交通运输大类"),
    ("新能源汽车运用与维修", "交通运输大类"),
    ("城市轨道交通运营服务", "交通运输大类"),
    ("护理", "医药卫生大类"),
    ("中医康复技术", "医药卫生大类"),
    ("旅游服务与管理", "旅游大类"),
    ("中餐烹饪", "旅游大类"),
    ("高星级饭店运营与管理", "旅游大类"),
    ("幼儿保育", "教育与体育大类"),
    ("运动训练", "教育与体育大类"),
    ("建筑工程施工", "土木建筑大类"),
    ("工程造价", "土木建筑大类"),
    ("现代农艺技术", "农林牧渔大类"),
    ("畜禽生产技术", "农林牧渔大类"),
    ("民族美术", "文化艺术大类"),
];

const PLACE: &str = "东南西北中新安平和顺兴华江河山湖川云海宁泰康清丰瑞";

/// A fault planted in one school's report year, so tests know what the checks must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 在校生合计 is not the sum of the majors (error `students.enrolled-total`).
    EnrolledTotal,
    /// More graduates went on to further study than graduated (error `further.within-graduates`).
    FurtherExceedsGraduates,
    /// 教职工总数 is not 在编 + 外聘 (error `staff.total-parts`).
    StaffParts,
    /// 折合教师数 far too low: a plausible but extreme 生师比 (a peer outlier, no error).
    RatioOutlier,
}

impl Fault {
    pub const ALL: [Fault; 4] = [
        Fault::EnrolledTotal,
        Fault::FurtherExceedsGraduates,
        Fault::StaffParts,
        Fault::RatioOutlier,
    ];

    /// The error rules that must find it; none for a fault that is only unusual.
    pub fn rules(self) -> &'static [&'static str] {
        match self {
            Fault::EnrolledTotal => &["students.enrolled-total"],
            Fault::FurtherExceedsGraduates => {
                &["further.within-graduates", "outcomes.within-graduates"]
            }
            Fault::StaffParts => &["staff.total-parts"],
            Fault::RatioOutlier => &[],
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    pub count: usize,
    pub seed: u64,
    /// The share of schools with one planted fault, 0 to 1.
    pub fault_share: f64,
    /// The report year; the two years before it are generated too.
    pub year: Year,
}

/// A generated area and what was planted where.
#[derive(Debug, Clone)]
pub struct SynthArea {
    pub config: SynthConfig,
    pub tree: AreaTree,
    /// Per school (in `tree.schools` order), its planted fault.
    pub faults: Vec<Option<Fault>>,
}

/// Schools per district and districts per city in a synthetic area.
const SCHOOLS_PER_DISTRICT: usize = 50;
const DISTRICTS_PER_CITY: usize = 10;

/// The code of the synthetic province.
pub const PROVINCE_CODE: &str = "synth";

fn place_name(rng: &mut Rng) -> String {
    let chars: Vec<char> = PLACE.chars().collect();
    let a = chars[rng.below(chars.len())];
    let b = chars[rng.below(chars.len())];
    format!("{a}{b}")
}

/// Generates the area: one province, a city per ten districts, a district per fifty
/// schools, and the schools' names, types and faults.
pub fn area(config: SynthConfig) -> SynthArea {
    let count = config.count.min(MAX_SCHOOLS);
    let mut rng = Rng::new(config.seed, u64::MAX);
    let mut tree = AreaTree::default();
    tree.areas.push(Area {
        code: PROVINCE_CODE.to_string(),
        name: "合成省".to_string(),
        level: Level::Province,
        parent: None,
    });
    let districts = count.div_ceil(SCHOOLS_PER_DISTRICT).max(1);
    let cities = districts.div_ceil(DISTRICTS_PER_CITY);
    for c in 0..cities {
        tree.areas.push(Area {
            code: format!("synth-c{c:03}"),
            name: format!("{}市", place_name(&mut rng)),
            level: Level::City,
            parent: Some(PROVINCE_CODE.to_string()),
        });
    }
    for d in 0..districts {
        tree.areas.push(Area {
            code: format!("synth-d{d:04}"),
            name: format!("{}区", place_name(&mut rng)),
            level: Level::District,
            parent: Some(format!("synth-c{:03}", d / DISTRICTS_PER_CITY)),
        });
    }
    let mut faults = Vec::with_capacity(count);
    for i in 0..count {
        let kind = if rng.unit() < 0.2 {
            SchoolType::Technician
        } else {
            SchoolType::Secondary
        };
        let district = i / SCHOOLS_PER_DISTRICT;
        let suffix = match kind {
            SchoolType::Technician => "技工学校",
            _ => "职业教育中心",
        };
        tree.schools.push(AreaSchool {
            code: school_code(i),
            name: format!("{}第{}{suffix}", place_name(&mut rng), i + 1),
            district: format!("synth-d{district:04}"),
            kind,
        });
        let fault =
            (rng.unit() < config.fault_share).then(|| Fault::ALL[rng.below(Fault::ALL.len())]);
        faults.push(fault);
    }
    SynthArea {
        config,
        tree,
        faults,
    }
}

/// The code of the i-th synthetic school.
pub fn school_code(index: usize) -> String {
    format!("synth-{index:05}")
}

fn round(x: f64) -> f64 {
    x.round().max(0.0)
}

fn pct(part: f64, whole: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    if whole == 0.0 {
        0.0
    } else {
        (part / whole * 100.0 * f).round() / f
    }
}

/// Enrolment by size band: a third small, two fifths medium, the rest large.
fn enrolment(rng: &mut Rng) -> f64 {
    let u = rng.unit();
    let (low, high) = if u < 0.3 {
        (400.0, 1000.0)
    } else if u < 0.72 {
        (1000.0, 3000.0)
    } else if u < 0.93 {
        (3000.0, 6000.0)
    } else {
        (6000.0, 11000.0)
    };
    rng.between(low, high).round()
}

/// Generates the i-th school's dataset of the area.
pub fn dataset(area: &SynthArea, index: usize) -> Option<Dataset> {
    let entry = area.tree.schools.get(index)?;
    let config = area.config;
    let mut rng = Rng::new(config.seed, index as u64);
    let district = area.tree.area(&entry.district)?;
    let city = district.parent.as_deref().and_then(|c| area.tree.area(c))?;
    let first = config.year.back(2)?;
    let years: Vec<Year> = (0..3).filter_map(|k| config.year.back(2 - k)).collect();

    let school = School {
        code: entry.code.clone(),
        name: entry.name.clone(),
        org_unit: OrgPath {
            province: "合成省".into(),
            city: city.name.clone(),
            district: district.name.clone(),
        },
        sponsor: format!("{}人民政府", district.name),
        report_year: config.year,
        report_date: format!("{}-01-10", config.year.get() + 1),
        summary: format!(
            "{}是一所合成的测试学校，数据由生成器按种子产生。",
            entry.name
        ),
        ..School::default()
    };
    let mut data = Dataset::new(school);

    // Majors and their students, flowing from year to year.
    let target = enrolment(&mut rng);
    let major_count = ((target / 380.0).round() as usize).clamp(3, 18);
    let mut picks: Vec<usize> = (0..MAJORS.len()).collect();
    for i in 0..major_count {
        let j = i + rng.below(MAJORS.len() - i);
        picks.swap(i, j);
    }
    picks.truncate(major_count);
    picks.sort_unstable();
    let weights: Vec<f64> = picks.iter().map(|_| rng.between(0.5, 1.5)).collect();
    let weight_sum: f64 = weights.iter().sum();
    let grad_rate = rng.between(0.29, 0.33);
    let growth = rng.between(-0.01, 0.035);
    for &p in &picks {
        data.majors.push(Major {
            name: MAJORS[p].0.to_string(),
            category: MAJORS[p].1.to_string(),
            department: String::new(),
        });
    }
    let mut enrolled_prev: Vec<f64> = weights
        .iter()
        .map(|w| round(target * w / weight_sum).max(30.0))
        .collect();
    let mut personnel_prev: Option<f64> = None;
    let staffing = rng.between(14.0, 20.5);
    let land_per = rng.between(26.0, 60.0);
    let building_per = rng.between(15.0, 32.0);
    let equipment_per = rng.between(1800.0, 9000.0);
    let books_per = rng.between(22.0, 60.0);
    let further_share = rng.between(0.45, 0.93);
    let senior_share = rng.between(0.12, 0.32);
    let dual_share = rng.between(0.3, 0.75);
    let local = (rng.between(78.0, 98.0) * 10.0).round() / 10.0;

    for (k, &year) in years.iter().enumerate() {
        let set = |data: &mut Dataset, element: &str, value: f64| {
            data.set(FactKey::school(year, element), value);
        };
        let jitter = rng.between(-0.008, 0.008);
        let mut intake_sum = 0.0;
        let mut enrolled_sum = 0.0;
        let mut graduates_sum = 0.0;
        for (m, major) in data.majors.clone().iter().enumerate() {
            let (intake, enrolled, graduates) = if k == 0 {
                let e = enrolled_prev[m];
                (round(e * (grad_rate + growth)), e, round(e * grad_rate))
            } else {
                let prev = enrolled_prev[m];
                let g = round(prev * (grad_rate + jitter));
                let i = round(prev * (grad_rate + growth + jitter));
                (i, prev + i - g, g)
            };
            enrolled_prev[m] = enrolled;
            data.set(FactKey::major(year, "major.intake", &major.name), intake);
            data.set(
                FactKey::major(year, "major.enrolled", &major.name),
                enrolled,
            );
            data.set(
                FactKey::major(year, "major.graduates", &major.name),
                graduates,
            );
            intake_sum += intake;
            enrolled_sum += enrolled;
            graduates_sum += graduates;
        }
        set(&mut data, "students.intake_total", intake_sum);
        set(&mut data, "students.enrolled_total", enrolled_sum);
        set(&mut data, "students.graduates_total", graduates_sum);
        set(&mut data, "students.local_share", local);
        set(
            &mut data,
            "students.other_share",
            ((100.0 - local) * 10.0).round() / 10.0,
        );

        // Staff, sized by the students.
        let equivalent = round(enrolled_sum / staffing).max(20.0);
        let ft_total = round(equivalent * 0.96);
        let intern = round(ft_total * 0.01);
        let ft_est = round(ft_total * 0.72);
        let ft_ext = ft_total - ft_est - intern;
        let extra = round(ft_total * 0.22);
        let total = ft_total + extra;
        let establishment = ft_est + round(extra * 0.5);
        set(&mut data, "staff.equivalent", equivalent);
        set(&mut data, "staff.total", total);
        set(&mut data, "staff.establishment", establishment);
        set(&mut data, "staff.external", total - establishment);
        set(&mut data, "staff.full_time.total", ft_total);
        set(&mut data, "staff.full_time.establishment", ft_est);
        set(&mut data, "staff.full_time.external", ft_ext);
        set(&mut data, "staff.full_time.intern", intern);
        let master = round(ft_total * 0.08);
        let bachelor = round(ft_total * 0.8);
        set(&mut data, "staff.full_time.degree.master", master);
        set(&mut data, "staff.full_time.degree.bachelor", bachelor);
        set(
            &mut data,
            "staff.full_time.degree.below_bachelor",
            ft_total - master - bachelor,
        );
        let a30 = round(ft_total * 0.18);
        let a40 = round(ft_total * 0.4);
        let a50 = round(ft_total * 0.27);
        set(&mut data, "staff.full_time.age.under_30", a30);
        set(&mut data, "staff.full_time.age.from_31_to_40", a40);
        set(&mut data, "staff.full_time.age.from_41_to_50", a50);
        set(
            &mut data,
            "staff.full_time.age.from_51_to_60",
            ft_total - a30 - a40 - a50,
        );
        let senior_all = round(ft_total * senior_share);
        let senior = round(senior_all * 0.08);
        set(
            &mut data,
            "staff.full_time.title.junior",
            round(ft_total * 0.25),
        );
        set(
            &mut data,
            "staff.full_time.title.intermediate",
            round(ft_total * 0.32),
        );
        set(
            &mut data,
            "staff.full_time.title.associate_senior",
            senior_all - senior,
        );
        set(&mut data, "staff.full_time.title.senior", senior);
        let professional = round(ft_total * 0.56);
        set(&mut data, "staff.professional", professional);
        set(&mut data, "staff.general", ft_total - professional);
        let dual = round(professional * dual_share).max(1.0);
        let d_junior = round(dual * 0.55);
        let d_inter = round(dual * 0.33);
        let d_senior = dual - d_junior - d_inter;
        set(&mut data, "staff.dual.total", dual);
        set(&mut data, "staff.dual.junior", d_junior);
        set(&mut data, "staff.dual.intermediate", d_inter);
        set(&mut data, "staff.dual.senior", d_senior);
        set(&mut data, "staff.dual.junior_share", pct(d_junior, dual, 1));
        set(
            &mut data,
            "staff.dual.intermediate_share",
            pct(d_inter, dual, 1),
        );
        set(&mut data, "staff.dual.senior_share", pct(d_senior, dual, 1));

        // Outcomes.
        let further = round(graduates_sum * further_share);
        let undergraduate = round(further * 0.14);
        let exam = round(further * 0.76);
        let through_u = round(further * 0.02);
        set(&mut data, "further.total", further);
        set(&mut data, "further.undergraduate", undergraduate);
        set(&mut data, "further.college", further - undergraduate);
        set(&mut data, "further.exam", exam);
        set(&mut data, "further.through_undergraduate", through_u);
        set(
            &mut data,
            "further.through_college",
            further - exam - through_u,
        );
        set(&mut data, "further.rate", pct(further, graduates_sum, 2));
        set(
            &mut data,
            "employment.matched",
            round((graduates_sum - further) * 0.85),
        );
        let national = round(rng.between(0.0, 4.0));
        let municipal = round(enrolled_sum / 200.0);
        let district_awards = round(enrolled_sum / 300.0);
        set(&mut data, "achievements.national", national);
        set(&mut data, "achievements.municipal", municipal);
        set(&mut data, "achievements.district", district_awards);
        set(
            &mut data,
            "achievements.total",
            national + municipal + district_awards,
        );

        // Conditions, per student.
        let scale = 1.0 + 0.01 * k as f64;
        set(
            &mut data,
            "conditions.land_area",
            (target * land_per * 100.0).round() / 100.0,
        );
        set(
            &mut data,
            "conditions.building_area",
            (target * building_per * scale * 100.0).round() / 100.0,
        );
        set(
            &mut data,
            "conditions.equipment_value",
            (enrolled_sum * equipment_per * scale / 100.0).round() / 100.0,
        );
        set(
            &mut data,
            "conditions.books",
            round(enrolled_sum * books_per),
        );

        // Funding (万元), with its change once there is a year before.
        let personnel = (ft_total * rng.between(14.0, 16.0) * 100.0).round() / 100.0;
        set(&mut data, "funding.personnel", personnel);
        set(
            &mut data,
            "funding.student_aid",
            (personnel * 0.3 * 100.0).round() / 100.0,
        );
        if let Some(prev) = personnel_prev {
            set(
                &mut data,
                "funding.personnel_change",
                ((personnel - prev) / prev * 10000.0).round() / 100.0,
            );
        }
        personnel_prev = Some(personnel);
    }
    debug_assert_eq!(years.first(), Some(&first));

    if let Some(fault) = area.faults.get(index).copied().flatten() {
        plant(&mut data, config.year, fault);
    }
    Some(data)
}

fn plant(data: &mut Dataset, year: Year, fault: Fault) {
    let value = |data: &Dataset, e: &str| data.value(year, e).unwrap_or(0.0);
    match fault {
        Fault::EnrolledTotal => {
            let v = value(data, "students.enrolled_total");
            data.set(FactKey::school(year, "students.enrolled_total"), v + 37.0);
        }
        Fault::FurtherExceedsGraduates => {
            let g = value(data, "students.graduates_total");
            let further = g + 12.0;
            let undergraduate = value(data, "further.undergraduate");
            let exam = value(data, "further.exam");
            let through_u = value(data, "further.through_undergraduate");
            data.set(FactKey::school(year, "further.total"), further);
            data.set(
                FactKey::school(year, "further.college"),
                further - undergraduate,
            );
            data.set(
                FactKey::school(year, "further.through_college"),
                further - exam - through_u,
            );
            data.set(FactKey::school(year, "further.rate"), pct(further, g, 2));
            data.set(FactKey::school(year, "employment.matched"), 0.0);
        }
        Fault::StaffParts => {
            let v = value(data, "staff.external");
            data.set(FactKey::school(year, "staff.external"), v + 9.0);
        }
        Fault::RatioOutlier => {
            let v = value(data, "staff.equivalent");
            data.set(
                FactKey::school(year, "staff.equivalent"),
                (v * 0.45).round().max(1.0),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nianbao_core::{Definitions, Severity, run_checks};

    fn config(count: usize, fault_share: f64) -> SynthConfig {
        SynthConfig {
            count,
            seed: 7,
            fault_share,
            year: Year::new(2025).unwrap(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_schools() {
        let a = area(config(120, 0.1));
        let b = area(config(120, 0.1));
        assert_eq!(a.tree, b.tree);
        assert_eq!(dataset(&a, 77), dataset(&b, 77));
        assert_ne!(dataset(&a, 77), dataset(&a, 78));
        assert_eq!(a.tree.schools.len(), 120);
        // 120 schools: three districts of one city.
        assert_eq!(a.tree.areas.len(), 1 + 1 + 3);
    }

    /// Schools without a planted fault pass every error rule; every planted error is found
    /// by its rule.
    #[test]
    fn clean_schools_have_no_errors_and_planted_faults_are_found() {
        let definitions = Definitions::builtin().unwrap();
        let area = area(config(300, 0.2));
        let mut planted = 0;
        for i in 0..area.tree.schools.len() {
            let data = dataset(&area, i).unwrap();
            assert_eq!(data.years().len(), 3);
            let findings = run_checks(&definitions, &data);
            let errors: Vec<&str> = findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.rule.as_str())
                .collect();
            let expected = area.faults[i].map(Fault::rules).unwrap_or_default();
            if !expected.is_empty() {
                planted += 1;
            }
            assert_eq!(errors, expected, "school {i}: {findings:#?}");
            // Rule warnings (not standards) stay off clean schools.
            if area.faults[i].is_none() {
                let rule_warnings: Vec<&str> = findings
                    .iter()
                    .filter(|f| f.severity == Severity::Warning && !f.rule.starts_with("standard"))
                    .map(|f| f.rule.as_str())
                    .collect();
                assert!(rule_warnings.is_empty(), "school {i}: {rule_warnings:?}");
            }
        }
        assert!(planted > 20, "{planted}");
    }

    #[test]
    fn sizes_spread_over_every_band() {
        use crate::peers::SizeBand;
        let area = area(config(400, 0.0));
        let mut bands = std::collections::BTreeSet::new();
        for i in 0..400 {
            let data = dataset(&area, i).unwrap();
            bands.insert(SizeBand::of(
                data.value(Year::new(2025).unwrap(), "students.enrolled_total")
                    .unwrap(),
            ));
        }
        assert_eq!(bands.len(), SizeBand::ALL.len());
    }
}
