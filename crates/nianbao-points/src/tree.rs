//! The competency tree: competencies → basic points → quantified observation points, read
//! from TOML and validated. Each observation carries its point value (or allowed range),
//! its per-day and per-term limits, the 思政 dimensions it feeds and the roles that may
//! record it. A tree has a version; events keep the version they were recorded under, so a
//! new tree never changes what an old event meant.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The eight 思政 dimensions of a student's comprehensive evaluation (八维).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dimension {
    Patriotism,
    Ecology,
    Digital,
    Safety,
    Law,
    Craftsmanship,
    Labour,
    Professionalism,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Patriotism,
        Dimension::Ecology,
        Dimension::Digital,
        Dimension::Safety,
        Dimension::Law,
        Dimension::Craftsmanship,
        Dimension::Labour,
        Dimension::Professionalism,
    ];

    /// The dimension's name as schools write it.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Patriotism => "爱国主义",
            Dimension::Ecology => "生态文明",
            Dimension::Digital => "数字素养",
            Dimension::Safety => "安全教育",
            Dimension::Law => "法治教育",
            Dimension::Craftsmanship => "工匠精神",
            Dimension::Labour => "劳动精神",
            Dimension::Professionalism => "职业素质",
        }
    }

    /// A stable English code, used in the names of report elements.
    pub fn code(self) -> &'static str {
        match self {
            Dimension::Patriotism => "patriotism",
            Dimension::Ecology => "ecology",
            Dimension::Digital => "digital",
            Dimension::Safety => "safety",
            Dimension::Law => "law",
            Dimension::Craftsmanship => "craftsmanship",
            Dimension::Labour => "labour",
            Dimension::Professionalism => "professionalism",
        }
    }

    pub fn from_name(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name.trim())
    }

    /// Position in [`Dimension::ALL`], also the bit in a dimension mask.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Largest magnitude a single event may carry; keeps values in 16 bits in the columnar cache.
pub const MAX_ABS_VALUE: i32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("积分体系文件 {file} 格式有误：{message}")]
    Syntax { file: String, message: String },
    #[error("积分体系文件 {file}：{at}：{message}")]
    Invalid {
        file: String,
        at: String,
        message: String,
    },
    #[error("无法读取积分体系文件 {file}：{message}")]
    Io { file: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeFile {
    version: u32,
    name: String,
    effective: Option<String>,
    roles: Vec<String>,
    #[serde(rename = "competency", default)]
    competencies: Vec<CompetencyFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompetencyFile {
    code: String,
    name: String,
    #[serde(rename = "point", default)]
    points: Vec<PointFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointFile {
    code: String,
    name: String,
    #[serde(rename = "observation", default)]
    observations: Vec<ObservationFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationFile {
    code: String,
    name: String,
    value: i32,
    min: Option<i32>,
    max: Option<i32>,
    per_day: Option<u32>,
    per_term: Option<i64>,
    #[serde(default)]
    dimensions: Vec<String>,
    roles: Vec<String>,
}

/// A competency or a basic point: a named node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    pub code: String,
    pub name: String,
}

/// A basic point with the competency it belongs to (index into [`Tree::competencies`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    pub code: String,
    pub name: String,
    pub competency: usize,
}

/// A quantified observation point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observation {
    pub code: String,
    pub name: String,
    /// Index into [`Tree::points`].
    pub point: usize,
    /// Index into [`Tree::competencies`].
    pub competency: usize,
    /// The standard value, used when an event gives none.
    pub value: i32,
    pub min: i32,
    pub max: i32,
    /// How many events of this observation one student may receive on one day.
    pub per_day: u32,
    /// The largest net points one student may accumulate from it in one term (absolute).
    pub per_term: i64,
    pub dimensions: Vec<Dimension>,
    pub roles: Vec<String>,
}

impl Observation {
    /// Bit mask of the dimensions this observation feeds.
    pub fn dimension_mask(&self) -> u8 {
        self.dimensions
            .iter()
            .fold(0u8, |m, d| m | (1u8 << d.index()))
    }
}

/// A validated competency tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tree {
    pub version: u32,
    pub name: String,
    /// First day (YYYY-MM-DD) on which the tree applies; `None` means always.
    pub effective: Option<String>,
    pub roles: Vec<String>,
    pub competencies: Vec<Node>,
    pub points: Vec<Point>,
    pub observations: Vec<Observation>,
    /// The TOML it was read from, kept verbatim in the store.
    #[serde(skip)]
    pub source: String,
}

impl Tree {
    /// The sample tree (15 competencies, 46 points, 235 observations).
    pub fn sample() -> Tree {
        // The sample is part of the program and is checked by the tests.
        match Tree::from_toml(SAMPLE_TREE, "data/points/tree.toml") {
            Ok(tree) => tree,
            Err(e) => panic!("内置示例积分体系有误：{e}"),
        }
    }

    /// Reads a tree from a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<Tree, TreeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TreeError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        Tree::from_toml(&text, &file)
    }

    /// Parses and validates a tree; `file` names it in error messages.
    pub fn from_toml(text: &str, file: &str) -> Result<Tree, TreeError> {
        let parsed: TreeFile = toml::from_str(text).map_err(|e| TreeError::Syntax {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let invalid = |at: &str, message: String| TreeError::Invalid {
            file: file.to_string(),
            at: at.to_string(),
            message,
        };
        if parsed.version == 0 {
            return Err(invalid("version", "版本号应为正整数".into()));
        }
        if let Some(day) = &parsed.effective
            && crate::ledger::parse_date(day).is_none()
        {
            return Err(invalid(
                "effective",
                format!("生效日期「{day}」应写成 YYYY-MM-DD"),
            ));
        }
        if parsed.roles.is_empty() {
            return Err(invalid("roles", "至少要列出一个可记录积分的角色".into()));
        }
        let mut codes = HashSet::new();
        let mut tree = Tree {
            version: parsed.version,
            name: parsed.name,
            effective: parsed.effective,
            roles: parsed.roles,
            competencies: Vec::new(),
            points: Vec::new(),
            observations: Vec::new(),
            source: text.to_string(),
        };
        for competency in parsed.competencies {
            if !codes.insert(competency.code.clone()) {
                return Err(invalid(&competency.code, "代码重复".into()));
            }
            let ci = tree.competencies.len();
            tree.competencies.push(Node {
                code: competency.code,
                name: competency.name,
            });
            for point in competency.points {
                if !codes.insert(point.code.clone()) {
                    return Err(invalid(&point.code, "代码重复".into()));
                }
                let pi = tree.points.len();
                tree.points.push(Point {
                    code: point.code,
                    name: point.name,
                    competency: ci,
                });
                for o in point.observations {
                    if !codes.insert(o.code.clone()) {
                        return Err(invalid(&o.code, "代码重复".into()));
                    }
                    let min = o.min.unwrap_or(o.value);
                    let max = o.max.unwrap_or(o.value);
                    if o.value == 0 || min > o.value || o.value > max {
                        return Err(invalid(
                            &o.code,
                            format!("分值 {} 应不为零，且在 {min}～{max} 之间", o.value),
                        ));
                    }
                    if (min < 0) != (max < 0) || min == 0 || max == 0 {
                        return Err(invalid(
                            &o.code,
                            "分值范围不能跨过零：加分项与扣分项分开设观测点".into(),
                        ));
                    }
                    if min.abs() > MAX_ABS_VALUE || max.abs() > MAX_ABS_VALUE {
                        return Err(invalid(
                            &o.code,
                            format!("单次分值不能超过 {MAX_ABS_VALUE}"),
                        ));
                    }
                    let per_day = o.per_day.unwrap_or(1);
                    if per_day == 0 {
                        return Err(invalid(&o.code, "每日次数上限应至少为 1".into()));
                    }
                    let top = i64::from(min.abs().max(max.abs()));
                    let per_term = o.per_term.unwrap_or(top * 20);
                    if per_term < top {
                        return Err(invalid(
                            &o.code,
                            format!("每学期上限 {per_term} 小于单次分值 {top}"),
                        ));
                    }
                    let mut dimensions = Vec::new();
                    for d in &o.dimensions {
                        let dim = Dimension::from_name(d).ok_or_else(|| {
                            invalid(
                                &o.code,
                                format!(
                                    "未知的维度「{d}」，应为：{}",
                                    Dimension::ALL.map(|d| d.name()).join("、")
                                ),
                            )
                        })?;
                        if !dimensions.contains(&dim) {
                            dimensions.push(dim);
                        }
                    }
                    if o.roles.is_empty() {
                        return Err(invalid(&o.code, "至少要有一个可记录的角色".into()));
                    }
                    if let Some(r) = o.roles.iter().find(|r| !tree.roles.contains(r)) {
                        return Err(invalid(&o.code, format!("角色「{r}」不在 roles 列表中")));
                    }
                    tree.observations.push(Observation {
                        code: o.code,
                        name: o.name,
                        point: pi,
                        competency: ci,
                        value: o.value,
                        min,
                        max,
                        per_day,
                        per_term,
                        dimensions,
                        roles: o.roles,
                    });
                }
            }
        }
        if tree.observations.is_empty() {
            return Err(invalid("competency", "积分体系中没有观测点".into()));
        }
        if tree.observations.len() > usize::from(u16::MAX) {
            return Err(invalid("competency", "观测点过多".into()));
        }
        Ok(tree)
    }

    /// The observation with this code.
    pub fn observation(&self, code: &str) -> Option<(usize, &Observation)> {
        self.observations
            .iter()
            .enumerate()
            .find(|(_, o)| o.code == code)
    }

    /// First day of validity as a day number, if any.
    pub fn effective_day(&self) -> Option<i32> {
        self.effective
            .as_deref()
            .and_then(crate::ledger::parse_date)
    }
}

/// The sample tree shipped with the program.
pub const SAMPLE_TREE: &str = include_str!("../../../data/points/tree.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_has_the_schools_shape() {
        let tree = Tree::sample();
        assert_eq!(tree.competencies.len(), 15);
        assert_eq!(tree.points.len(), 46);
        assert_eq!(tree.observations.len(), 235);
        for d in Dimension::ALL {
            assert!(
                tree.observations.iter().any(|o| o.dimensions.contains(&d)),
                "{d}"
            );
        }
    }

    #[test]
    fn unknown_dimension_is_named() {
        let text = SAMPLE_TREE.replacen("\"爱国主义\"", "\"爱国\"", 1);
        let err = Tree::from_toml(&text, "t.toml").unwrap_err().to_string();
        assert!(err.contains("C01.1.1") && err.contains("爱国"), "{err}");
    }
}

/// Every tree version a school has loaded, with one flat numbering of all their
/// observations (the observation key) used by the columnar ledger. Versions only grow, so
/// keys of older versions never move.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Ascending by version.
    pub trees: Vec<Tree>,
    /// Key of the first observation of each tree.
    pub base: Vec<u32>,
    /// Competencies of all versions, merged by code.
    pub competencies: Vec<Node>,
    /// Points of all versions, merged by code.
    pub points: Vec<Node>,
    /// One entry per observation key.
    pub keys: Vec<KeyInfo>,
    /// Per tree, its observations' indexes by code (what checking a row looks up).
    codes: Vec<std::collections::HashMap<String, usize>>,
    /// Per tree, its first day of validity.
    effective: Vec<Option<i32>>,
}

/// What the aggregation needs to know about one observation key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    pub tree: usize,
    pub observation: usize,
    pub mask: u8,
    pub competency: u32,
    pub point: u32,
}

impl Catalog {
    pub fn new(mut trees: Vec<Tree>) -> Catalog {
        trees.sort_by_key(|t| t.version);
        let mut catalog = Catalog::default();
        for tree in trees {
            catalog.push(tree);
        }
        catalog
    }

    /// Adds a newer version.
    pub fn push(&mut self, tree: Tree) {
        let ti = self.trees.len();
        self.base.push(self.keys.len() as u32);
        let mut comp_map = Vec::with_capacity(tree.competencies.len());
        for c in &tree.competencies {
            comp_map.push(merge(&mut self.competencies, c));
        }
        let mut point_map = Vec::with_capacity(tree.points.len());
        for p in &tree.points {
            point_map.push(merge(
                &mut self.points,
                &Node {
                    code: p.code.clone(),
                    name: p.name.clone(),
                },
            ));
        }
        for (oi, o) in tree.observations.iter().enumerate() {
            self.keys.push(KeyInfo {
                tree: ti,
                observation: oi,
                mask: o.dimension_mask(),
                competency: comp_map[o.competency],
                point: point_map[o.point],
            });
        }
        let mut codes = std::collections::HashMap::with_capacity(tree.observations.len());
        for (oi, o) in tree.observations.iter().enumerate() {
            codes.entry(o.code.clone()).or_insert(oi);
        }
        self.codes.push(codes);
        self.effective.push(tree.effective_day());
        self.trees.push(tree);
    }

    pub fn latest(&self) -> Option<&Tree> {
        self.trees.last()
    }

    pub fn tree_index(&self, version: u32) -> Option<usize> {
        self.trees.iter().position(|t| t.version == version)
    }

    /// The observation key of observation `observation` of tree `version`.
    pub fn key(&self, version: u32, observation: usize) -> Option<u32> {
        let ti = self.tree_index(version)?;
        (observation < self.trees[ti].observations.len())
            .then(|| self.base[ti] + observation as u32)
    }

    /// The tree in force on `day`: the newest whose effective date is not after it.
    pub fn tree_for_day(&self, day: i32) -> Option<usize> {
        (0..self.trees.len())
            .rev()
            .find(|&i| self.effective[i].is_none_or(|d| d <= day))
    }

    /// The observation with this code in tree `tree` (an index into `trees`), by its index.
    pub fn observation_by_code(&self, tree: usize, code: &str) -> Option<(usize, &Observation)> {
        let oi = *self.codes.get(tree)?.get(code)?;
        Some((oi, &self.trees[tree].observations[oi]))
    }

    pub fn observation(&self, key: u32) -> Option<(&Tree, &Observation)> {
        let info = self.keys.get(key as usize)?;
        let tree = &self.trees[info.tree];
        Some((tree, &tree.observations[info.observation]))
    }
}

fn merge(nodes: &mut Vec<Node>, node: &Node) -> u32 {
    match nodes.iter().position(|n| n.code == node.code) {
        Some(i) => i as u32,
        None => {
            nodes.push(node.clone());
            (nodes.len() - 1) as u32
        }
    }
}
