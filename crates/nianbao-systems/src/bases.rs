//! 实训基地与设备台账: the school's training bases (level, majors served, area, stations,
//! hours open a year), its equipment register (asset number, name, value, base, date
//! acquired, state) and the usage of bases and equipment (by a class of the school or an
//! outside group: date, hours, people, purpose). From them: utilisation per base and per
//! item (hours used / hours available), person-times from outside the school, and the
//! figures of report sections 1.2 and 2.6 (equipment value, value per student …).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::register::{Mode, RegisterFact, covered_years, merge, problem};
use crate::table::{Columns, Fields, ImportErrors, Located, MAX_NAME_CHARS, MAX_TEXT_CHARS, Sheet};
use crate::vocab::BasesVocabulary;

/// The largest value of one item, in 元 (a whole production line at most).
pub const MAX_ITEM_VALUE: f64 = 1e9;
/// The most hours a base or an item can be open in a year.
pub const MAX_YEAR_HOURS: f64 = 8784.0;

/// A 实训基地 (or 实训室) of the school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Base {
    pub code: String,
    pub name: String,
    pub level: String,
    /// The majors it serves (names from the school's majors).
    pub majors: Vec<String>,
    /// Floor area, m².
    pub area: Option<f64>,
    pub stations: Option<u32>,
    /// Hours it is open for use in a year: what utilisation is measured against.
    pub available_hours: f64,
    /// The year it was built; counted in every year when empty.
    pub built: Option<i32>,
    pub note: Option<String>,
}

/// One item of the equipment register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equipment {
    pub asset_no: String,
    pub name: String,
    pub model: Option<String>,
    /// Value, 元.
    pub value: f64,
    pub base: String,
    pub acquired: Day,
    pub status: String,
    /// The day it left the register (required when its status is the disposed one).
    pub disposed: Option<Day>,
    /// Hours it can be used in a year; the base's when empty.
    pub available_hours: Option<f64>,
}

/// One use of a base (and, if named, one item of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub record_no: String,
    pub base: String,
    pub asset_no: Option<String>,
    /// 校内班级 or an outside kind of user.
    pub user_kind: String,
    /// The class or the outside group.
    pub user: String,
    pub day: Day,
    pub hours: f64,
    pub people: u32,
    pub purpose: String,
}

/// The register as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BasesRegister {
    pub bases: Vec<Base>,
    pub equipment: Vec<Equipment>,
    pub usage: Vec<Usage>,
}

/// The lists of the register, each imported and exported on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasesKind {
    Bases,
    Equipment,
    Usage,
}

pub const BASE_COLUMNS: Columns = Columns {
    required: &["基地编号", "基地名称", "级别", "年开放学时"],
    optional: &["服务专业", "面积（平方米）", "工位数", "建成年份", "备注"],
};
pub const EQUIPMENT_COLUMNS: Columns = Columns {
    required: &[
        "资产编号",
        "设备名称",
        "价值（元）",
        "所属基地编号",
        "购置日期",
        "状态",
    ],
    optional: &["规格型号", "报废日期", "年可用学时"],
};
pub const USAGE_COLUMNS: Columns = Columns {
    required: &[
        "记录编号",
        "基地编号",
        "使用单位类型",
        "使用单位",
        "使用日期",
        "学时",
        "人数",
        "用途",
    ],
    optional: &["资产编号"],
};

impl BasesKind {
    pub const ALL: [BasesKind; 3] = [BasesKind::Bases, BasesKind::Equipment, BasesKind::Usage];

    pub fn code(self) -> &'static str {
        match self {
            BasesKind::Bases => "bases",
            BasesKind::Equipment => "equipment",
            BasesKind::Usage => "usage",
        }
    }

    /// The sheet name of its workbook, and its name in messages.
    pub fn label(self) -> &'static str {
        match self {
            BasesKind::Bases => "实训基地",
            BasesKind::Equipment => "设备台账",
            BasesKind::Usage => "使用记录",
        }
    }

    pub fn columns(self) -> &'static Columns {
        match self {
            BasesKind::Bases => &BASE_COLUMNS,
            BasesKind::Equipment => &EQUIPMENT_COLUMNS,
            BasesKind::Usage => &USAGE_COLUMNS,
        }
    }

    pub fn from_code(code: &str) -> Option<BasesKind> {
        BasesKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Records read from one import file.
#[derive(Debug, Clone)]
pub enum BasesImport {
    Bases(Vec<Located<Base>>),
    Equipment(Vec<Located<Equipment>>),
    Usage(Vec<Located<Usage>>),
}

/// Reads the rows of a table of one kind.
pub fn read(
    kind: BasesKind,
    table: &crate::table::Table,
    vocabulary: &BasesVocabulary,
) -> Result<BasesImport, ImportErrors> {
    Ok(match kind {
        BasesKind::Bases => BasesImport::Bases(table.records(|f| read_base(f, vocabulary))?),
        BasesKind::Equipment => {
            BasesImport::Equipment(table.records(|f| read_equipment(f, vocabulary))?)
        }
        BasesKind::Usage => BasesImport::Usage(table.records(|f| read_usage(f, vocabulary))?),
    })
}

fn read_base(f: &mut Fields<'_>, vocabulary: &BasesVocabulary) -> Option<Base> {
    let code = f.text("基地编号", MAX_NAME_CHARS, true);
    let name = f.text("基地名称", MAX_NAME_CHARS, true);
    let level = f.choice("级别", &vocabulary.levels, true);
    let majors = f.list("服务专业", 100);
    let area = f.number("面积（平方米）", 0.0, 1e7, false);
    let stations = f.count("工位数", 100_000, false);
    let available_hours = f.number("年开放学时", 1.0, MAX_YEAR_HOURS, true);
    let built = f.count("建成年份", 2100, false);
    if let Some(year) = built
        && year < 1900
    {
        f.error("建成年份", format!("年份「{year}」不合理"));
        return None;
    }
    let note = f.text("备注", MAX_TEXT_CHARS, false);
    Some(Base {
        code: code?,
        name: name?,
        level: level?,
        majors,
        area,
        stations,
        available_hours: available_hours?,
        built: built.map(|y| y as i32),
        note,
    })
}

fn read_equipment(f: &mut Fields<'_>, vocabulary: &BasesVocabulary) -> Option<Equipment> {
    let asset_no = f.text("资产编号", MAX_NAME_CHARS, true);
    let name = f.text("设备名称", MAX_NAME_CHARS, true);
    let model = f.text("规格型号", MAX_NAME_CHARS, false);
    let value = f.number("价值（元）", 0.0, MAX_ITEM_VALUE, true);
    let base = f.text("所属基地编号", MAX_NAME_CHARS, true);
    let acquired = f.day("购置日期", true);
    let status = f.choice("状态", &vocabulary.statuses, true);
    let disposed = f.day("报废日期", false);
    let available_hours = f.number("年可用学时", 1.0, MAX_YEAR_HOURS, false);
    let (acquired, status) = (acquired?, status?);
    match (&disposed, status == vocabulary.disposed) {
        (None, true) => {
            f.error(
                "报废日期",
                format!("状态为「{status}」的设备须填写报废日期"),
            );
            return None;
        }
        (Some(_), false) => {
            f.error(
                "报废日期",
                format!(
                    "只有状态为「{}」的设备才填写报废日期（当前状态「{status}」）",
                    vocabulary.disposed
                ),
            );
            return None;
        }
        (Some(day), true) if *day < acquired => {
            f.error(
                "报废日期",
                format!("报废日期 {day} 早于购置日期 {acquired}"),
            );
            return None;
        }
        _ => {}
    }
    Some(Equipment {
        asset_no: asset_no?,
        name: name?,
        model,
        value: value?,
        base: base?,
        acquired,
        status,
        disposed,
        available_hours,
    })
}

fn read_usage(f: &mut Fields<'_>, vocabulary: &BasesVocabulary) -> Option<Usage> {
    let record_no = f.text("记录编号", MAX_NAME_CHARS, true);
    let base = f.text("基地编号", MAX_NAME_CHARS, true);
    let asset_no = f.text("资产编号", MAX_NAME_CHARS, false);
    let user_kind = f.choice("使用单位类型", &vocabulary.user_kinds, true);
    let user = f.text("使用单位", MAX_NAME_CHARS, true);
    let day = f.day("使用日期", true);
    let hours = f.number("学时", 0.0, 24.0, true);
    let people = f.count("人数", 10_000, true);
    let purpose = f.choice("用途", &vocabulary.purposes, true);
    if hours == Some(0.0) {
        f.error("学时", "应大于 0");
        return None;
    }
    Some(Usage {
        record_no: record_no?,
        base: base?,
        asset_no,
        user_kind: user_kind?,
        user: user?,
        day: day?,
        hours: hours?,
        people: people?,
        purpose: purpose?,
    })
}

impl BasesRegister {
    /// The register with an import merged in, checked as a whole: every item in a known
    /// base, every use of a known base (and of an item of that base, in service that day),
    /// majors served among the school's majors. Problems name the import's rows.
    pub fn apply(
        &self,
        import: BasesImport,
        mode: Mode,
        school_majors: &[String],
    ) -> Result<BasesRegister, ImportErrors> {
        let mut next = self.clone();
        let mut origins = Origins::default();
        match import {
            BasesImport::Bases(rows) => {
                let (merged, origin) =
                    merge(&self.bases, rows, "基地编号", |b| b.code.clone(), mode)?;
                next.bases = merged;
                origins.bases = origin;
            }
            BasesImport::Equipment(rows) => {
                let (merged, origin) = merge(
                    &self.equipment,
                    rows,
                    "资产编号",
                    |e| e.asset_no.clone(),
                    mode,
                )?;
                next.equipment = merged;
                origins.equipment = origin;
            }
            BasesImport::Usage(rows) => {
                let (merged, origin) =
                    merge(&self.usage, rows, "记录编号", |u| u.record_no.clone(), mode)?;
                next.usage = merged;
                origins.usage = origin;
            }
        }
        next.check(&origins, school_majors).or_ok(next)
    }

    fn check(&self, origins: &Origins, school_majors: &[String]) -> ImportErrors {
        let mut errors = ImportErrors::default();
        let bases: BTreeSet<&str> = self.bases.iter().map(|b| b.code.as_str()).collect();
        // Majors are checked for imported bases only: a major the school closes later does
        // not block every other import.
        for base in self
            .bases
            .iter()
            .filter(|b| origins.bases.contains_key(&b.code))
        {
            for major in &base.majors {
                if !school_majors.contains(major) {
                    errors.push(problem(
                        &origins.bases,
                        &base.code,
                        "服务专业",
                        "实训基地",
                        format!("「{major}」不是学校开设的专业"),
                    ));
                }
            }
        }
        let items: BTreeMap<&str, &Equipment> = self
            .equipment
            .iter()
            .map(|e| (e.asset_no.as_str(), e))
            .collect();
        for item in &self.equipment {
            if !bases.contains(item.base.as_str()) {
                errors.push(problem(
                    &origins.equipment,
                    &item.asset_no,
                    "所属基地编号",
                    "设备",
                    format!("没有编号为「{}」的实训基地", item.base),
                ));
            }
        }
        for usage in &self.usage {
            let here = |header: &str, message: String| {
                problem(
                    &origins.usage,
                    &usage.record_no,
                    header,
                    "使用记录",
                    message,
                )
            };
            if !bases.contains(usage.base.as_str()) {
                errors.push(here(
                    "基地编号",
                    format!("没有编号为「{}」的实训基地", usage.base),
                ));
            }
            let Some(asset) = &usage.asset_no else {
                continue;
            };
            match items.get(asset.as_str()) {
                None => errors.push(here("资产编号", format!("设备台账中没有「{asset}」"))),
                Some(item) if item.base != usage.base => errors.push(here(
                    "资产编号",
                    format!(
                        "设备「{asset}」属于基地「{}」，不属于「{}」",
                        item.base, usage.base
                    ),
                )),
                Some(item) if usage.day < item.acquired => errors.push(here(
                    "使用日期",
                    format!("设备「{asset}」{} 才购置", item.acquired),
                )),
                Some(item) if item.disposed.is_some_and(|d| usage.day > d) => errors.push(here(
                    "使用日期",
                    format!(
                        "设备「{asset}」已于 {} 报废",
                        item.disposed.map(|d| d.to_string()).unwrap_or_default()
                    ),
                )),
                Some(_) => {}
            }
        }
        errors
    }

    /// The records of one kind as a sheet to export (or to fill in, when empty).
    pub fn sheet(&self, kind: BasesKind) -> Sheet {
        let mut sheet = Sheet::new(kind.label(), kind.columns());
        match kind {
            BasesKind::Bases => {
                for b in &self.bases {
                    sheet.rows.push(vec![
                        b.code.clone().into(),
                        b.name.clone().into(),
                        b.level.clone().into(),
                        b.available_hours.into(),
                        b.majors.join("、").into(),
                        b.area.into(),
                        b.stations.into(),
                        b.built.map(|y| y as f64).into(),
                        b.note.clone().into(),
                    ]);
                }
            }
            BasesKind::Equipment => {
                for e in &self.equipment {
                    sheet.rows.push(vec![
                        e.asset_no.clone().into(),
                        e.name.clone().into(),
                        e.value.into(),
                        e.base.clone().into(),
                        e.acquired.into(),
                        e.status.clone().into(),
                        e.model.clone().into(),
                        e.disposed.into(),
                        e.available_hours.into(),
                    ]);
                }
            }
            BasesKind::Usage => {
                for u in &self.usage {
                    sheet.rows.push(vec![
                        u.record_no.clone().into(),
                        u.base.clone().into(),
                        u.user_kind.clone().into(),
                        u.user.clone().into(),
                        u.day.into(),
                        u.hours.into(),
                        u.people.into(),
                        u.purpose.clone().into(),
                        u.asset_no.clone().into(),
                    ]);
                }
            }
        }
        sheet
    }

    /// Whether an item counts in the register at the end of `year`: acquired by then and
    /// not disposed of by then.
    fn in_service(item: &Equipment, year: i32) -> bool {
        item.acquired.year() <= year && item.disposed.is_none_or(|d| d.year() > year)
    }

    fn base_exists(base: &Base, year: i32) -> bool {
        base.built.is_none_or(|built| built <= year)
    }

    /// Utilisation of every base and every item in one year.
    pub fn utilisation(&self, year: i32) -> Utilisation {
        let mut base_hours: BTreeMap<&str, f64> = BTreeMap::new();
        let mut item_hours: BTreeMap<&str, f64> = BTreeMap::new();
        for usage in self.usage.iter().filter(|u| u.day.year() == year) {
            *base_hours.entry(usage.base.as_str()).or_default() += usage.hours;
            if let Some(asset) = &usage.asset_no {
                *item_hours.entry(asset.as_str()).or_default() += usage.hours;
            }
        }
        let bases: Vec<Use> = self
            .bases
            .iter()
            .filter(|b| BasesRegister::base_exists(b, year))
            .map(|b| {
                Use::new(
                    &b.code,
                    &b.name,
                    base_hours.get(b.code.as_str()),
                    b.available_hours,
                )
            })
            .collect();
        let base_hours_of = |code: &str| {
            self.bases
                .iter()
                .find(|b| b.code == code)
                .map_or(0.0, |b| b.available_hours)
        };
        let items: Vec<Use> = self
            .equipment
            .iter()
            .filter(|e| BasesRegister::in_service(e, year))
            .map(|e| {
                let available = e.available_hours.unwrap_or_else(|| base_hours_of(&e.base));
                Use::new(
                    &e.asset_no,
                    &e.name,
                    item_hours.get(e.asset_no.as_str()),
                    available,
                )
            })
            .collect();
        Utilisation { bases, items }
    }

    /// The figures of one year: bases, equipment in service and its value, usage.
    pub fn figures(&self, year: i32, vocabulary: &BasesVocabulary) -> Vec<(&'static str, f64)> {
        let bases: Vec<&Base> = self
            .bases
            .iter()
            .filter(|b| BasesRegister::base_exists(b, year))
            .collect();
        let items: Vec<&Equipment> = self
            .equipment
            .iter()
            .filter(|e| BasesRegister::in_service(e, year))
            .collect();
        let acquired: Vec<&Equipment> = self
            .equipment
            .iter()
            .filter(|e| e.acquired.year() == year)
            .collect();
        let usage: Vec<&Usage> = self.usage.iter().filter(|u| u.day.year() == year).collect();
        let used_hours: f64 = usage.iter().map(|u| u.hours).sum();
        let available: f64 = bases.iter().map(|b| b.available_hours).sum();
        let mut figures = vec![
            ("register.bases.total", bases.len() as f64),
            (
                "register.bases.national",
                bases
                    .iter()
                    .filter(|b| vocabulary.national_levels.contains(&b.level))
                    .count() as f64,
            ),
            (
                "register.bases.area",
                bases.iter().filter_map(|b| b.area).sum(),
            ),
            (
                "register.bases.stations",
                bases.iter().filter_map(|b| b.stations).map(f64::from).sum(),
            ),
            ("register.equipment.count", items.len() as f64),
            (
                "register.equipment.value_total",
                items.iter().map(|e| e.value).sum::<f64>() / 10_000.0,
            ),
            ("register.equipment.acquired_count", acquired.len() as f64),
            (
                "register.equipment.acquired_value",
                acquired.iter().map(|e| e.value).sum::<f64>() / 10_000.0,
            ),
        ];
        if !usage.is_empty() {
            figures.extend([
                ("register.usage.hours", used_hours),
                (
                    "register.usage.person_times",
                    usage.iter().map(|u| f64::from(u.people)).sum(),
                ),
                (
                    "register.usage.external_person_times",
                    usage
                        .iter()
                        .filter(|u| u.user_kind != vocabulary.internal_user_kind)
                        .map(|u| f64::from(u.people))
                        .sum(),
                ),
                (
                    "register.usage.competition_sessions",
                    usage
                        .iter()
                        .filter(|u| u.purpose == vocabulary.competition_purpose)
                        .count() as f64,
                ),
            ]);
            if available > 0.0 {
                figures.push(("register.usage.utilisation", used_hours / available * 100.0));
            }
        }
        figures
    }

    /// The figures of every year the register covers, up to `this_year`.
    pub fn facts(&self, vocabulary: &BasesVocabulary, this_year: i32) -> Vec<RegisterFact> {
        if self.bases.is_empty() && self.equipment.is_empty() && self.usage.is_empty() {
            return Vec::new();
        }
        let years = self
            .equipment
            .iter()
            .map(|e| e.acquired.year())
            .chain(self.usage.iter().map(|u| u.day.year()))
            .chain(self.bases.iter().filter_map(|b| b.built));
        covered_years(years, this_year)
            .into_iter()
            .flat_map(|year| {
                self.figures(year, vocabulary)
                    .into_iter()
                    .filter_map(move |(code, value)| RegisterFact::new(year, code, value))
            })
            .collect()
    }
}

#[derive(Default)]
struct Origins {
    bases: BTreeMap<String, crate::table::At>,
    equipment: BTreeMap<String, crate::table::At>,
    usage: BTreeMap<String, crate::table::At>,
}

/// The use of one base or item in a year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Use {
    pub code: String,
    pub name: String,
    pub used_hours: f64,
    pub available_hours: f64,
    /// Used / available, in percent; `None` when no hours are available.
    pub percent: Option<f64>,
}

impl Use {
    fn new(code: &str, name: &str, used: Option<&f64>, available: f64) -> Use {
        let used = used.copied().unwrap_or(0.0);
        Use {
            code: code.to_string(),
            name: name.to_string(),
            used_hours: used,
            available_hours: available,
            percent: (available > 0.0).then(|| used / available * 100.0),
        }
    }
}

/// Utilisation of the bases and items of one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Utilisation {
    pub bases: Vec<Use>,
    pub items: Vec<Use>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_file;
    use crate::vocab::Vocabulary;

    fn vocabulary() -> BasesVocabulary {
        let definitions = nianbao_core::Definitions::builtin().unwrap();
        Vocabulary::builtin(&definitions).unwrap().bases
    }

    fn import(kind: BasesKind, text: &str) -> Result<BasesImport, ImportErrors> {
        let table = read_file(
            "t.csv",
            text.as_bytes(),
            "",
            kind.columns(),
            &nianbao_xlsx::Limits::default(),
        )?;
        read(kind, &table, &vocabulary())
    }

    fn register() -> BasesRegister {
        let majors = vec!["汽车运用与维修".to_string()];
        let register = BasesRegister::default()
            .apply(
                import(
                    BasesKind::Bases,
                    "基地编号,基地名称,级别,年开放学时,服务专业\nB1,汽车实训中心,国家级,1000,汽车运用与维修\nB2,电商实训室,校级,500,\n",
                )
                .unwrap(),
                Mode::Upsert,
                &majors,
            )
            .unwrap();
        let register = register
            .apply(
                import(
                    BasesKind::Equipment,
                    "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态,报废日期\nA1,举升机,50000,B1,2023-05-01,在用,\nA2,诊断仪,30000,B1,2025-03-01,在用,\nA3,旧车床,20000,B1,2010-01-01,报废,2024-06-30\n",
                )
                .unwrap(),
                Mode::Upsert,
                &majors,
            )
            .unwrap();
        register
            .apply(
                import(
                    BasesKind::Usage,
                    "记录编号,基地编号,资产编号,使用单位类型,使用单位,使用日期,学时,人数,用途\nU1,B1,A1,校内班级,汽修2301,2025-04-01,4,40,教学实训\nU2,B1,,外校师生,某中学,2025-05-01,6,30,开放参观\nU3,B2,,企业职工,某公司,2025-06-01,10,20,技能竞赛集训\n",
                )
                .unwrap(),
                Mode::Upsert,
                &majors,
            )
            .unwrap()
    }

    #[test]
    fn figures_follow_the_register() {
        let register = register();
        let figures: BTreeMap<&str, f64> =
            register.figures(2025, &vocabulary()).into_iter().collect();
        assert_eq!(figures["register.bases.total"], 2.0);
        assert_eq!(figures["register.bases.national"], 1.0);
        assert_eq!(figures["register.equipment.count"], 2.0);
        assert_eq!(figures["register.equipment.value_total"], 8.0);
        assert_eq!(figures["register.equipment.acquired_value"], 3.0);
        assert_eq!(figures["register.usage.hours"], 20.0);
        assert_eq!(figures["register.usage.external_person_times"], 50.0);
        assert_eq!(figures["register.usage.competition_sessions"], 1.0);
        assert_eq!(figures["register.usage.utilisation"], 20.0 / 1500.0 * 100.0);
        // At the end of 2023 the lathe was still in service and the analyser not bought.
        let before: BTreeMap<&str, f64> =
            register.figures(2023, &vocabulary()).into_iter().collect();
        assert_eq!(before["register.equipment.value_total"], 7.0);
        assert!(!before.contains_key("register.usage.hours"));
        let use_ = register.utilisation(2025);
        assert_eq!(use_.bases[0].used_hours, 10.0);
        assert_eq!(use_.bases[0].percent, Some(1.0));
        assert_eq!(use_.items[0].used_hours, 4.0);
        assert_eq!(use_.items[0].available_hours, 1000.0);
    }

    #[test]
    fn dangling_references_are_refused_at_their_row() {
        let register = register();
        let error = register
            .apply(
                import(
                    BasesKind::Usage,
                    "记录编号,基地编号,资产编号,使用单位类型,使用单位,使用日期,学时,人数,用途\nU9,B2,A1,校内班级,电商2301,2025-04-01,2,30,教学实训\nU10,B1,A3,校内班级,汽修2301,2025-04-01,2,30,教学实训\n",
                )
                .unwrap(),
                Mode::Upsert,
                &[],
            )
            .unwrap_err();
        let shown: Vec<String> = error.list.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "t.csv 第 2 行 第 3 列（资产编号）：设备「A1」属于基地「B1」，不属于「B2」",
                "t.csv 第 3 行 第 6 列（使用日期）：设备「A3」已于 2024-06-30 报废",
            ]
        );
        // Replacing the bases without B1 would leave its items and uses dangling.
        let error = register
            .apply(
                import(
                    BasesKind::Bases,
                    "基地编号,基地名称,级别,年开放学时\nB2,电商实训室,校级,500\n",
                )
                .unwrap(),
                Mode::Replace,
                &[],
            )
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("已登记的设备「A1」：没有编号为「B1」的实训基地"),
            "{error}"
        );
    }

    #[test]
    fn disposal_needs_its_date_and_the_right_state() {
        let error = import(
            BasesKind::Equipment,
            "资产编号,设备名称,价值（元）,所属基地编号,购置日期,状态,报废日期\nA1,x,1,B1,2023-05-01,报废,\nA2,x,1,B1,2023-05-01,在用,2024-01-01\nA3,x,-5,B1,2023-05-01,在用,\n",
        )
        .unwrap_err();
        let shown = error.to_string();
        assert!(
            shown.contains("第 2 行 第 7 列（报废日期）：状态为「报废」的设备须填写报废日期"),
            "{shown}"
        );
        assert!(
            shown.contains("第 3 行 第 7 列（报废日期）：只有状态为「报废」"),
            "{shown}"
        );
        assert!(
            shown.contains("第 4 行 第 3 列（价值（元））：应在 0 到 1000000000 之间"),
            "{shown}"
        );
    }

    #[test]
    fn an_export_imports_back_as_the_same_register() {
        let register = register();
        let mut again = BasesRegister::default();
        for kind in BasesKind::ALL {
            let bytes = register.sheet(kind).to_xlsx().unwrap();
            let table = read_file(
                "export.xlsx",
                &bytes,
                kind.label(),
                kind.columns(),
                &nianbao_xlsx::Limits::default(),
            )
            .unwrap();
            let majors = ["汽车运用与维修".to_string()];
            again = again
                .apply(
                    read(kind, &table, &vocabulary()).unwrap(),
                    Mode::Upsert,
                    &majors,
                )
                .unwrap();
        }
        assert_eq!(again, register);
    }
}
