//! The vocabulary of school reports: which words name the same measured fact (教职工,
//! 专任教师, 在校生, 招生, 毕业生, 升学 …), and the level words that qualify a count (初级,
//! 国家级, 在编 …). Prose subjects and table headers are both mapped through it.

/// What kind of number a concept holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// A count of people or things.
    Count,
    /// A percentage rate.
    Rate,
    /// A ratio such as students per teacher.
    Ratio,
    /// An area or an amount of money.
    Amount,
}

/// A fact that reports state under several names.
#[derive(Debug)]
pub struct Concept {
    pub key: &'static str,
    /// The name used in messages.
    pub label: &'static str,
    /// Words that name it; `true` marks the concept's own name, `false` a looser synonym.
    pub names: &'static [(&'static str, bool)],
    /// Words that, when present, mean something else ("升学率" is not a count of 升学).
    pub excludes: &'static [&'static str],
    pub measure: Measure,
}

macro_rules! concept {
    ($key:literal, $label:literal, $measure:ident, [$($name:literal : $exact:literal),*], [$($ex:literal),*]) => {
        Concept { key: $key, label: $label, names: &[$(($name, $exact)),*], excludes: &[$($ex),*], measure: Measure::$measure }
    };
}

/// Concepts, the more specific first.
pub static CONCEPTS: &[Concept] = &[
    concept!("中高贯通", "中高贯通升学人数", Count, ["中高贯通": true, "中高职贯通": true, "3+2": false], ["率", "班"]),
    concept!("中本贯通", "中本贯通升学人数", Count, ["中本贯通": true, "3+4": false], ["率", "班"]),
    concept!("统招升学", "统招升学人数", Count, ["统招": true], ["率"]),
    concept!("本科升学", "升入本科人数", Count, ["升入本科": true, "本科录取": false], ["率"]),
    concept!("本科上线", "本科上线人数", Count, ["本科上线": true], ["率"]),
    concept!("高职升学", "升入高职人数", Count, ["升入高职": true], ["率"]),
    concept!("升学率", "升学率", Rate, ["升学率": true], []),
    concept!("就业率", "就业率", Rate, ["就业率": true], []),
    concept!("就业", "就业人数", Count, ["就业人数": true, "就业": false], ["率", "满意", "就业班", "服务", "质量", "指导"]),
    concept!("升学", "升学人数", Count, ["升学总人数": true, "升学人数": true, "升学": false], ["率", "升学班", "满意"]),
    concept!("毕业生", "毕业生人数", Count, ["毕业生人数": true, "毕业生": true, "毕业": false], ["率", "满意", "毕业班", "就业", "升学", "典礼"]),
    concept!("招生", "招生人数", Count, ["招生人数": true, "招生": true], ["率", "计划", "困难", "比例"]),
    concept!("生师比", "生师比", Ratio, ["生师比": true], []),
    concept!("在校生", "在校生人数", Count, ["在校生": true, "在校学生": true, "在籍学生": false, "学生总数": false, "在籍生": false], ["生均", "满意", "比例", "占"]),
    concept!("教职工", "教职工人数", Count, ["教职工": true], ["代表", "大会", "满意"]),
    concept!("折合教师", "折合教师数", Count, ["折合教师": true, "折合专任教师": false], []),
    concept!("专任教师", "专任教师数", Count, ["专任教师": true], ["比例", "学历", "结构", "占"]),
    concept!("双师型教师", "双师型教师数", Count, ["双师": true], ["比例", "工作室", "名师", "培养", "成长", "率", "占", "提升"]),
    concept!("专业课教师", "专业课教师数", Count, ["专业课教师": true], ["比例"]),
    concept!("文化课教师", "文化课教师数", Count, ["文化课教师": true, "公共基础课教师": false], ["比例"]),
    concept!("占地面积", "占地面积", Amount, ["占地面积": true, "用地面积": true], []),
    concept!("校舍建筑面积", "校舍建筑面积", Amount, ["校舍建筑面积": true, "校舍面积": false], []),
    concept!("仪器设备值", "教学仪器设备值", Amount, ["仪器设备": true, "设备总值": false], []),
    concept!("图书", "图书册数", Count, ["图书": true, "藏书": false], ["馆", "室"]),
    concept!("公用经费", "公用经费", Amount, ["公用经费": true], ["财政拨款"]),
];

/// A concept found in a text, and whether it was named by a looser synonym.
#[derive(Debug, Clone, Copy)]
pub struct Match {
    pub concept: &'static Concept,
    pub loose: bool,
}

/// The concept a subject or header names, if any. A concept named as the population a
/// count is within ("专任教师中专业课教师") gives way to the concept named after it.
pub fn concept_of(text: &str) -> Option<Match> {
    let text = compact(text);
    for concept in CONCEPTS {
        if concept.excludes.iter().any(|e| text.contains(e)) {
            continue;
        }
        if let Some((name, exact)) = concept.names.iter().find(|(name, _)| text.contains(name)) {
            let within = text
                .find(name)
                .map(|at| &text[at + name.len()..])
                .and_then(|rest| rest.strip_prefix('中'))
                .filter(|rest| !rest.is_empty());
            if let Some(inner) = within.and_then(concept_of) {
                return Some(inner);
            }
            return Some(Match {
                concept,
                loose: !exact,
            });
        }
    }
    None
}

/// The concepts of subjects already seen: a report names the same few subjects many times.
#[derive(Debug, Default)]
pub struct ConceptCache {
    seen: std::collections::HashMap<String, Option<Match>>,
}

impl ConceptCache {
    /// As [`concept_of`], remembered.
    pub fn of(&mut self, text: &str) -> Option<Match> {
        if let Some(found) = self.seen.get(text) {
            return *found;
        }
        let found = concept_of(text);
        if self.seen.len() >= 100_000 {
            self.seen.clear();
        }
        self.seen.insert(text.to_string(), found);
        found
    }
}

/// The concept a rate is taken of (升学率 and 就业率 of 毕业生), if known.
pub fn rate_base(key: &str) -> Option<&'static str> {
    match key {
        "升学率" | "就业率" => Some("毕业生"),
        _ => None,
    }
}

/// The concept with that key.
pub fn concept(key: &str) -> Option<&'static Concept> {
    CONCEPTS.iter().find(|c| c.key == key)
}

/// Level and status words that split a count into parts, most specific first.
const QUALIFIERS: &[&str] = &[
    "正高级",
    "副高级",
    "初级",
    "中级",
    "高级",
    "国家级",
    "省市级",
    "省级",
    "市级",
    "区级",
    "县级",
    "校级",
    "在编",
    "编外",
    "外聘",
    "兼职",
    "专职",
    "实习",
];

/// The level word of a subject ("具有初级双师素质" → "初级").
pub fn qualifier_of(text: &str) -> Option<&'static str> {
    QUALIFIERS.iter().copied().find(|q| text.contains(q))
}

/// Text without spaces and quotation marks, for matching.
pub fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '“' | '”' | '‘' | '’' | '"' | '\'' | '「' | '」' | '\u{3000}'
                )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_concepts() {
        let key = |t: &str| concept_of(t).map(|m| m.concept.key);
        assert_eq!(key("全校教职工总数"), Some("教职工"));
        assert_eq!(key("具有初级“双师素质”"), Some("双师型教师"));
        assert_eq!(key("双师型教师数(人)/初级"), Some("双师型教师"));
        assert_eq!(key("通过中高贯通升学人数"), Some("中高贯通"));
        assert_eq!(key("3+2中职直升"), Some("中高贯通"));
        assert_eq!(key("升学率"), Some("升学率"));
        assert_eq!(key("升学总人数"), Some("升学"));
        assert_eq!(key("专任教师中专业课教师"), Some("专业课教师"));
        assert_eq!(key("毕业生专业对口就业人数"), Some("就业"));
        assert_eq!(key("毕业生人数/2024"), Some("毕业生"));
        assert_eq!(key("副高级职称"), None);
        assert!(concept_of("3+2中职直升").is_some_and(|m| m.loose));
        assert_eq!(qualifier_of("具有初级“双师素质”"), Some("初级"));
    }
}
