//! A report against the data: every number of a report whose words name a fact the store
//! holds (an element of elements.toml or an indicator of indicators.toml) is compared with
//! the stored value for the year it speaks of, honouring how the report writes it (its
//! decimals, 余/约/超 and 万), and listed as agreeing, differing or not in the data.
//!
//! Names are matched by their words, not by a list of phrasings: an element's name is
//! reduced to its core ("教职工总数" → "教职工"), a name that holds another's core is that
//! fact with modifiers ("在编教职工" = 教职工 + 在编), and a number matches the fact whose core
//! its words hold, or whose base and every modifier they hold — its own words, or those of
//! the total it is a part of ("教职工639人，其中在编376人"), or of the sentence's head
//! ("专任教师学历结构：硕士32人"). data/report-words.toml says which other words mean the
//! same, which add nothing, and which make a number a part of a fact (男, 新进 …). A number
//! that matches two facts equally is left out rather than guessed.

use std::collections::HashMap;
use std::ops::Range;

use nianbao_core::expr::Expr;
use nianbao_core::number::{fixed, plain};
use nianbao_core::{Dataset, Definitions, Dimension, IndicatorResult, ValueKind, Year};
use serde::{Deserialize, Serialize};

use crate::claims::{Claim, ClaimKind};
use crate::model::Model;
use crate::numbers::{Quantity, Token, scan};
use crate::tables::{Table, TotalKind};

const WORDS: &str = include_str!("../../../data/report-words.toml");

#[derive(Deserialize)]
struct WordsFile {
    same: HashMap<String, String>,
    filler: WordList,
    part: WordList,
}

#[derive(Deserialize)]
struct WordList {
    words: Vec<String>,
}

/// The words of data/report-words.toml, ready to normalise texts.
#[derive(Debug)]
pub struct Words {
    /// Replacements, longest word first.
    same: Vec<(Vec<char>, String)>,
    part: Vec<String>,
}

impl Words {
    /// The built-in words.
    pub fn builtin() -> Words {
        let file: WordsFile = toml::from_str(WORDS).expect("data/report-words.toml is valid");
        let mut same: Vec<(Vec<char>, String)> = file
            .same
            .into_iter()
            .map(|(from, to)| (from.chars().collect(), to))
            .chain(
                file.filler
                    .words
                    .into_iter()
                    .map(|w| (w.chars().collect(), String::new())),
            )
            .collect();
        same.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Words {
            same,
            part: file.part.words,
        }
    }

    /// A text as names are compared: without spaces, quotation marks, bracketed asides and
    /// filler words, each synonym replaced by the word the names use.
    pub fn normal(&self, text: &str) -> String {
        let mut chars: Vec<char> = Vec::with_capacity(text.len());
        let mut depth = 0usize;
        for c in text.chars() {
            match c {
                '(' | '（' | '[' | '【' => depth += 1,
                ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
                _ if depth > 0 => {}
                c if c.is_whitespace()
                    || matches!(
                        c,
                        '“' | '”' | '‘' | '’' | '"' | '\'' | '「' | '」' | '《' | '》' | '/'
                    ) => {}
                c => chars.push(c),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        'outer: while i < chars.len() {
            if chars[i].is_alphabetic() && !chars[i].is_ascii() {
                for (from, to) in &self.same {
                    if chars[i..].starts_with(from) {
                        out.push_str(to);
                        i += from.len();
                        continue 'outer;
                    }
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        out
    }
}

/// What a target's stored value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An element's fact for the year.
    Element(String),
    /// An indicator computed from the year's facts.
    Indicator(String),
}

/// A fact of the store a number may name.
#[derive(Debug, Clone)]
pub struct Target {
    pub source: Source,
    pub name: String,
    pub unit: String,
    pub dimension: Dimension,
    /// A change on the previous year (a percentage that may be negative).
    pub change: bool,
    /// Entered by the school (not computed from a register).
    pub entered: bool,
    /// The name reduced to the words that say which fact it is.
    pub core: String,
    /// The target whose core this one's holds, and the words it adds.
    pub base: Option<usize>,
    pub modifiers: Vec<String>,
}

/// Generic words a name ends with that say nothing of which fact it is.
const NAME_ENDS: &[&str] = &[
    "人数合计",
    "合计",
    "总计",
    "总人数",
    "总数",
    "人数",
    "数量",
    "总量",
    "数",
];

/// Words left of a modifier that only say which dimension it belongs to.
const DIMENSION_WORDS: &[&str] = &["学历", "职称", "结构", "素质", "专任", "层次"];

/// The facts of the store, with the words that name them.
#[derive(Debug)]
pub struct Vocabulary {
    pub words: Words,
    pub targets: Vec<Target>,
}

fn core_of(words: &Words, name: &str, unit: &str) -> String {
    let mut core = words.normal(name);
    loop {
        let before = core.len();
        for end in NAME_ENDS {
            if let Some(rest) = core.strip_suffix(end)
                && rest.chars().count() >= 2
            {
                core = rest.to_string();
            }
        }
        if !unit.is_empty()
            && let Some(rest) = core.strip_suffix(unit)
            && rest.chars().count() >= 2
        {
            core = rest.to_string();
        }
        if core.len() == before {
            return core;
        }
    }
}

impl Vocabulary {
    /// Every element that holds a school's own figure (the printed copies of indicators
    /// excepted), and every indicator computed from more than one element.
    pub fn new(definitions: &Definitions) -> Vocabulary {
        let words = Words::builtin();
        let mut targets = Vec::new();
        for element in definitions.elements.iter() {
            if element.code.starts_with("reported.") {
                continue;
            }
            targets.push(Target {
                source: Source::Element(element.code.clone()),
                name: element.name.clone(),
                unit: element.unit.clone(),
                dimension: element.dimension,
                change: element.kind == ValueKind::Change,
                entered: !element.is_computed(),
                core: core_of(&words, &element.name, &element.unit),
                base: None,
                modifiers: Vec::new(),
            });
        }
        for indicator in &definitions.indicators {
            if matches!(indicator.formula, Expr::Fact(_)) {
                continue;
            }
            targets.push(Target {
                source: Source::Indicator(indicator.id.clone()),
                name: indicator.name.clone(),
                unit: indicator.unit.clone(),
                dimension: Dimension::School,
                change: matches!(indicator.formula, Expr::Change(_)),
                entered: true,
                core: core_of(&words, &indicator.name, &indicator.unit),
                base: None,
                modifiers: Vec::new(),
            });
        }
        // A target whose core holds another's is that one with modifiers.
        for i in 0..targets.len() {
            let core = targets[i].core.clone();
            let base = (0..targets.len())
                .filter(|&j| {
                    j != i
                        && targets[j].dimension == targets[i].dimension
                        && targets[j].core.len() < core.len()
                        && core.contains(&targets[j].core)
                })
                .max_by_key(|&j| targets[j].core.len());
            if let Some(j) = base {
                let mut modifiers = Vec::new();
                for piece in core.splitn(2, &targets[j].core) {
                    let mut piece = piece.to_string();
                    for word in DIMENSION_WORDS {
                        piece = piece.replace(word, "");
                    }
                    if !piece.is_empty() {
                        modifiers.push(piece);
                    }
                }
                if !modifiers.is_empty() {
                    targets[i].base = Some(j);
                    targets[i].modifiers = modifiers;
                }
            }
        }
        Vocabulary { words, targets }
    }

    /// How well a normalised text names a target: the length of the words matched.
    fn score(&self, text: &str, target: &Target) -> Option<usize> {
        self.spans(text, target)
            .map(|spans| spans.iter().map(|r| text[r.clone()].chars().count()).sum())
    }

    /// Where a normalised text holds a target's words: its core, or its base's words and
    /// each of its modifiers — whole, or the larger half of a modifier of three characters
    /// or more ("高考统招" for "通过职教高考统招").
    fn spans(&self, text: &str, target: &Target) -> Option<Vec<Range<usize>>> {
        if let Some(at) = text.find(&target.core) {
            let span: Range<usize> = at..at + target.core.len();
            return Some(std::iter::once(span).collect());
        }
        let base = &self.targets[target.base?];
        let mut spans = self.spans(text, base)?;
        for modifier in &target.modifiers {
            if let Some(at) = text.find(modifier.as_str()) {
                spans.push(at..at + modifier.len());
                continue;
            }
            let least = modifier.chars().count().div_ceil(2).max(2);
            match common(text, modifier) {
                Some(range)
                    if modifier.chars().count() >= 3
                        && text[range.clone()].chars().count() >= least =>
                {
                    spans.push(range)
                }
                _ => return None,
            }
        }
        spans.sort_by_key(|r| r.start);
        Some(spans)
    }

    /// Whether a text holds a word that makes a number a part of a fact the target's name
    /// does not hold.
    fn names_a_part(&self, text: &str, target: &Target) -> bool {
        let name = self.words.normal(&target.name);
        self.words
            .part
            .iter()
            .any(|w| text.contains(w.as_str()) && !name.contains(w.as_str()))
    }

    /// The targets a normalised text names, best first, with their scores.
    fn candidates(&self, text: &str, dimension: Dimension) -> Vec<(usize, usize)> {
        let mut found: Vec<(usize, usize)> = self
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.dimension == dimension)
            .filter_map(|(i, t)| self.score(text, t).map(|s| (i, s)))
            .filter(|&(i, _)| !self.names_a_part(text, &self.targets[i]))
            .collect();
        found.sort_by_key(|&(_, score)| std::cmp::Reverse(score));
        if let Some(&(_, best)) = found.first() {
            found.retain(|&(_, s)| s == best);
        }
        found
    }
}

/// The longest run of characters two texts share (in `text`'s bytes).
fn common(text: &str, other: &str) -> Option<Range<usize>> {
    let a: Vec<(usize, char)> = text.char_indices().collect();
    let b: Vec<char> = other.chars().collect();
    let mut best: Option<(usize, usize)> = None;
    let mut previous = vec![0usize; b.len() + 1];
    for (i, &(_, ca)) in a.iter().enumerate() {
        let mut current = vec![0usize; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            if ca == cb {
                current[j + 1] = previous[j] + 1;
                if best.is_none_or(|(_, n)| current[j + 1] > n) {
                    best = Some((i + 1 - current[j + 1], current[j + 1]));
                }
            }
        }
        previous = current;
    }
    let (start, n) = best?;
    let from = a[start].0;
    let to = a.get(start + n).map(|&(at, _)| at).unwrap_or(text.len());
    Some(from..to)
}

/// Words that may stand between or after the words that name a fact without changing
/// which fact it is ("教职工总数共计", "副高级职称专任教师").
const LOOSE_WORDS: &[&str] = &[
    "人数合计",
    "总人数",
    "合计",
    "总计",
    "累计",
    "共计",
    "总数",
    "人数",
    "数量",
    "总量",
    "总额",
    "规模",
    "学历",
    "职称",
    "结构",
    "层次",
    "人员",
    "达到",
    "分别",
    "约为",
    "数",
    "共",
    "计",
    "达",
    "为",
    "有",
    "约",
    "是",
    "人",
    "名",
    "中",
    "其",
    "均",
];

/// Whether the words of a text outside the spans that name a fact (between them and after
/// the last) are only [`LOOSE_WORDS`]: "课程接入国家平台" names no count of 课程.
fn tidy(text: &str, spans: &[Range<usize>], from: usize, between: bool) -> bool {
    let mut gaps = Vec::new();
    let mut end = None;
    for span in spans {
        if let Some(end) = end
            && span.start > end
            && between
        {
            gaps.push(&text[end..span.start]);
        }
        end = Some(end.map_or(span.end, |e: usize| e.max(span.end)));
    }
    if let Some(end) = end {
        gaps.push(&text[end.max(from).min(text.len())..]);
    }
    gaps.iter().all(|gap| {
        let mut rest: &str = gap;
        'strip: while !rest.is_empty() {
            for word in LOOSE_WORDS {
                if let Some(r) = rest.strip_prefix(word) {
                    rest = r;
                    continue 'strip;
                }
            }
            return false;
        }
        true
    })
}

/// The unit family a unit belongs to and its factor to the family's base unit.
fn unit_base(unit: &str) -> Option<(&'static str, f64)> {
    Some(match unit {
        "人" | "名" | "位" => ("人", 1.0),
        "元" => ("元", 1.0),
        "万元" => ("元", 1e4),
        "亿元" => ("元", 1e8),
        "m²" | "m2" | "㎡" | "平方米" => ("m²", 1.0),
        "万平方米" | "万m²" | "万㎡" => ("m²", 1e4),
        "公顷" => ("m²", 1e4),
        "亩" => ("m²", 10_000.0 / 15.0),
        "%" | "％" => ("%", 1.0),
        "人次" => ("人次", 1.0),
        "册" => ("册", 1.0),
        "个" => ("个", 1.0),
        "项" => ("项", 1.0),
        "门" => ("门", 1.0),
        "期" => ("期", 1.0),
        "条" => ("条", 1.0),
        "场" | "场次" => ("场", 1.0),
        "次" => ("次", 1.0),
        "学时" | "课时" => ("学时", 1.0),
        "台套" | "台" | "套" => ("台套", 1.0),
        "分" => ("分", 1.0),
        "人日" => ("人日", 1.0),
        "人学时" => ("人学时", 1.0),
        _ => return None,
    })
}

/// The unit a table header states in brackets ("在校生数（人）", "经费(万元)").
fn header_unit(label: &str) -> Option<String> {
    let open = label.rfind(['(', '（'])?;
    let rest = &label[open..];
    let inner = rest
        .trim_start_matches(['(', '（'])
        .split([')', '）'])
        .next()?
        .trim();
    unit_base(inner).map(|_| inner.to_string())
}

/// How one number stands against the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Agrees,
    Differs,
    /// The number names a fact the store has no value of for that year.
    Missing,
}

/// One number of the report and the stored fact it names.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub verdict: Verdict,
    pub line: usize,
    /// Where it is: "1.4节", "表1 2025年度行“教职工总数(人)”".
    pub place: String,
    /// The element code or the indicator id.
    pub code: String,
    pub indicator: bool,
    pub name: String,
    pub major: Option<String>,
    pub year: i32,
    /// The number as the report writes it ("639人", "约33万平方米").
    pub written: String,
    /// Its value as written (万 and 亿 applied), in the unit the report writes.
    pub value: f64,
    /// The stored value in the fact's unit, when there is one.
    pub stored: Option<f64>,
    /// The stored value as shown ("639人", "19.0").
    pub stored_text: Option<String>,
    /// For an indicator that differs: what the school printed for it, if it agrees with
    /// the report.
    pub note: Option<String>,
    /// The line of the report.
    pub quote: String,
}

/// The report against the data.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub school: String,
    pub school_name: String,
    pub year: i32,
    pub items: Vec<Item>,
    /// Numbers read whose words name no stored fact.
    pub unmatched: usize,
}

impl Comparison {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.items.iter().filter(|i| i.verdict == verdict).count()
    }
}

/// What one number is, for matching: its quantity, kind, the texts that may name it (best
/// first), the part of them that must take part in a match, its year, where it is.
struct Number<'a> {
    quantity: &'a Quantity,
    /// The unit a table header gives a bare number.
    header_unit: Option<String>,
    kind: ClaimKind,
    /// Texts that may name it, each with the words of its own that a match must use (for a
    /// text that joins a part to its total: the part's).
    texts: Vec<(String, Option<String>)>,
    major: Option<String>,
    year: i32,
    line: usize,
    place: String,
    /// Read from prose (not a table cell).
    prose: bool,
}

/// The stored values the comparison reads, indicators computed once per year.
struct Store<'a> {
    definitions: &'a Definitions,
    data: &'a Dataset,
    indicators: HashMap<i32, Vec<IndicatorResult>>,
}

impl Store<'_> {
    fn value(&mut self, target: &Target, year: i32, major: Option<&str>) -> Option<f64> {
        let year = Year::new(i64::from(year)).ok()?;
        match (&target.source, major) {
            (Source::Element(code), None) => self.data.value(year, code),
            (Source::Element(code), Some(major)) => {
                if self.data.major(major).is_some() {
                    return self.data.major_value(year, code, major);
                }
                // A 专业大类: the sum of its majors, when every one of them has the figure.
                let majors: Vec<&str> = self
                    .data
                    .majors_in(major)
                    .map(|m| m.name.as_str())
                    .collect();
                if majors.is_empty() {
                    return None;
                }
                majors
                    .iter()
                    .map(|m| self.data.major_value(year, code, m))
                    .sum()
            }
            (Source::Indicator(id), _) => {
                let (definitions, data) = (self.definitions, self.data);
                let results = self
                    .indicators
                    .entry(i32::from(year.get()))
                    .or_insert_with(|| nianbao_core::evaluate_indicators(definitions, data, year));
                results.iter().find(|r| &r.id == id).and_then(|r| r.value)
            }
        }
    }

    fn reported(&self, target: &Target, year: i32) -> Option<f64> {
        let Source::Indicator(id) = &target.source else {
            return None;
        };
        let year = Year::new(i64::from(year)).ok()?;
        self.data
            .value(year, &nianbao_core::indicator::reported_element(id))
    }

    fn decimals(&self, target: &Target) -> Option<u32> {
        match &target.source {
            Source::Indicator(id) => self.definitions.indicator(id).map(|i| i.decimals),
            Source::Element(_) => None,
        }
    }
}

/// Compares a report with a school's data. `year` is the year the report is about (by
/// default the year its title names, else the school's report year); a number whose
/// sentence names another year is compared with that year's data.
pub fn compare(
    model: &Model,
    definitions: &Definitions,
    data: &Dataset,
    year: Option<Year>,
) -> Comparison {
    let vocabulary = Vocabulary::new(definitions);
    let report_year = year
        .map(|y| i32::from(y.get()))
        .or(model.report_year)
        .unwrap_or(i32::from(data.school.report_year.get()));
    let mut numbers = Vec::new();
    prose_numbers(model, &vocabulary, report_year, &mut numbers);
    table_numbers(model, &vocabulary, data, report_year, &mut numbers);
    let mut store = Store {
        definitions,
        data,
        indicators: HashMap::new(),
    };
    let mut items = Vec::new();
    let mut unmatched = 0;
    for number in &numbers {
        match judge(number, &vocabulary, &mut store, model) {
            Some(item) => items.push(item),
            None => unmatched += 1,
        }
    }
    items.sort_by_key(|i| i.line);
    Comparison {
        school: data.school.code.clone(),
        school_name: data.school.name.clone(),
        year: report_year,
        items,
        unmatched,
    }
}

/// How many numbers back a number's antecedent is looked for.
const ANTECEDENTS: usize = 12;

/// The head of a sentence: the words before its first amount, up to the clause that holds
/// that amount ("校内专任教师学历结构：硕士32人" → "校内专任教师学历结构").
fn sentence_head(text: &str) -> Option<&str> {
    let first = scan(text).into_iter().find_map(|t| match t {
        Token::Quantity(q) => Some(q.span.start),
        _ => None,
    })?;
    let before = &text[..first];
    let pieces: Vec<&str> = before
        .split(['，', ',', '：', ':', '；', ';'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    match pieces.as_slice() {
        [] => None,
        [only] => Some(only),
        [.., last, _] => Some(last),
    }
}

/// The sentence of a paragraph that holds a byte offset.
fn sentence_at(text: &str, offset: usize) -> &str {
    const ENDS: &[char] = &['。', '！', '？', '!', '?'];
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .find(|(_, c)| ENDS.contains(c))
        .map(|(i, c)| i + c.len_utf8())
        .unwrap_or(0);
    let end = text[offset..]
        .find(ENDS)
        .map(|i| offset + i)
        .unwrap_or(text.len());
    &text[start..end]
}

fn prose_numbers<'a>(
    model: &'a Model,
    vocabulary: &Vocabulary,
    report_year: i32,
    out: &mut Vec<Number<'a>>,
) {
    let words = &vocabulary.words;
    let claims = &model.claims.claims;
    let normal: Vec<String> = claims.iter().map(|c| words.normal(&c.subject)).collect();
    // Whether a claim's own words name a fact (of any kind).
    let mut names: HashMap<&str, bool> = HashMap::new();
    let mut alone = Vec::with_capacity(claims.len());
    for text in &normal {
        let named = *names.entry(text.as_str()).or_insert_with(|| {
            !text.is_empty() && !vocabulary.candidates(text, Dimension::School).is_empty()
        });
        alone.push(named);
    }
    for (k, claim) in claims.iter().enumerate() {
        if matches!(claim.kind, ClaimKind::Fraction) || claim.quantity.upper.is_some() {
            continue;
        }
        let own = normal[k].clone();
        let mut texts: Vec<(String, Option<String>)> = Vec::new();
        match claim.kind {
            ClaimKind::Share => {
                let part = claim
                    .part
                    .clone()
                    .or_else(|| claim.owner.map(|o| claims[o].subject.clone()))
                    .unwrap_or_else(|| claim.owner_text.clone());
                let part = words.normal(&part);
                let base = claim
                    .base_text
                    .as_deref()
                    .map(|b| words.normal(b))
                    .unwrap_or_default();
                if !part.is_empty() {
                    if !base.is_empty() {
                        texts.push((format!("{part}占{base}占比"), None));
                    }
                    texts.push((format!("{part}占比"), None));
                }
                texts.push((own.clone(), None));
            }
            ClaimKind::Change(_) => {
                let subject = claim
                    .owner
                    .map(|o| claims[o].subject.as_str())
                    .unwrap_or(&claim.subject);
                texts.push((format!("{}同比变化", words.normal(subject)), None));
            }
            _ => {
                texts.push((own.clone(), None));
                if let Some(parent) = claim.parent {
                    let parent = &normal[parent];
                    texts.push((format!("{parent}{own}"), Some(own.clone())));
                }
                // The nearest number before it in the sentence whose words name a fact
                // ("校舍建筑面积199,100.59平方米，生均21.38平方米").
                let antecedent = (k.saturating_sub(ANTECEDENTS)..k).rev().find(|&j| {
                    claims[j].paragraph == claim.paragraph
                        && claims[j].sentence == claim.sentence
                        && alone[j]
                });
                if let Some(j) = antecedent
                    && !alone[k]
                {
                    texts.push((format!("{}{own}", normal[j]), Some(own.clone())));
                }
                let paragraph = &model.paragraphs[claim.paragraph].text;
                if let Some(head) = sentence_head(sentence_at(paragraph, claim.quantity.span.start))
                {
                    let head = words.normal(head);
                    if head != own {
                        texts.push((format!("{head}{own}"), Some(own.clone())));
                    }
                }
            }
        }
        let year = claim_year(model, claim, report_year);
        let line = claim.lines.last().copied().unwrap_or(0);
        let section = model.layout.section_of(line);
        out.push(Number {
            quantity: &claim.quantity,
            header_unit: None,
            kind: claim.kind,
            texts,
            major: None,
            year,
            line,
            place: if section.is_empty() {
                "正文".to_string()
            } else {
                format!("{section}节")
            },
            prose: true,
        });
    }
}

/// The year a claim speaks of: the one its sentence or paragraph names, else the report's
/// (moved with "上年").
fn claim_year(model: &Model, claim: &Claim, report_year: i32) -> i32 {
    match (claim.year_explicit, claim.year, model.report_year) {
        (true, Some(year), _) => year,
        (false, Some(year), Some(model_year)) => report_year + (year - model_year),
        _ => report_year,
    }
}

fn table_numbers<'a>(
    model: &'a Model,
    vocabulary: &Vocabulary,
    data: &Dataset,
    report_year: i32,
    out: &mut Vec<Number<'a>>,
) {
    let words = &vocabulary.words;
    for table in &model.tables {
        for (r, row) in table.rows.iter().enumerate() {
            let row_label = row_words(words, table, r);
            let named = row
                .labels
                .iter()
                .rev()
                .map(|l| l.trim())
                .find(|l| data.major(l).is_some() || data.categories().contains(l))
                .map(str::to_string);
            for (c, column) in table.columns.iter().enumerate().skip(table.label_columns) {
                let Some(quantity) = table.value(r, c) else {
                    continue;
                };
                if quantity.upper.is_some() {
                    continue;
                }
                let label = column.label();
                let column_words = words.normal(&label);
                let whole_row = row.year.is_some() || row.total != TotalKind::Detail;
                let texts = if whole_row || named.is_some() {
                    vec![(format!("{row_label}{column_words}"), None)]
                } else {
                    // A detail row counts only when its own words take part in the match.
                    vec![(
                        format!("{row_label}{column_words}"),
                        Some(row_label.clone()),
                    )]
                };
                let unit = header_unit(&label).or_else(|| {
                    row.labels
                        .iter()
                        .find_map(|l| {
                            header_unit(l).or_else(|| {
                                let l = l.trim();
                                unit_base(l).map(|_| l.to_string())
                            })
                        })
                        .or_else(|| table.columns.first().and_then(|c| header_unit(&c.label())))
                });
                let year = column.year.or(row.year).unwrap_or(report_year);
                let row_name = if row.label().is_empty() {
                    "合计".to_string()
                } else {
                    row.label()
                };
                out.push(Number {
                    quantity,
                    header_unit: unit,
                    kind: if quantity.is_percent() {
                        ClaimKind::Rate
                    } else {
                        ClaimKind::Amount
                    },
                    texts,
                    major: named.clone(),
                    year,
                    line: row.line,
                    place: format!("{} {}行“{}”", table.name, row_name, label),
                    prose: false,
                });
            }
        }
    }
}

/// A row's label words for matching: its labels without years and total words.
fn row_words(words: &Words, table: &Table, row: usize) -> String {
    let row = &table.rows[row];
    let mut text = String::new();
    for label in &row.labels {
        if crate::tables::cell_year(label).is_some() {
            continue;
        }
        let mut label = label.clone();
        for word in ["合计", "总计", "小计"] {
            label = label.replace(word, "");
        }
        text.push_str(&label);
    }
    words.normal(&text)
}

/// Whether a number's unit fits a target's, and the factor that turns the stored value
/// (in the target's unit) into the number's own unit.
fn conversion(number: &Number, target: &Target) -> Option<f64> {
    let (target_family, target_factor) = if target.unit.is_empty() {
        ("", 1.0)
    } else {
        unit_base(&target.unit)?
    };
    let written_unit = number.quantity.unit.as_str();
    let (family, factor) = if written_unit.is_empty() {
        match &number.header_unit {
            Some(unit) => unit_base(unit)?,
            // A bare number in prose is a count, or a ratio of a target without a unit.
            None if target_family.is_empty() => ("", 1.0),
            // Money, areas and shares need their unit written.
            None if !matches!(target_family, "元" | "m²" | "%") => (target_family, 1.0),
            None => return None,
        }
    } else {
        // The quantity's value already holds its 万/亿.
        let (family, factor) = unit_base(written_unit)?;
        (family, factor)
    };
    (family == target_family).then_some(target_factor / factor)
}

fn kind_fits(kind: ClaimKind, target: &Target) -> bool {
    let percent = target.unit == "%";
    match kind {
        ClaimKind::Change(_) => target.change,
        ClaimKind::Share | ClaimKind::Rate => percent && !target.change,
        ClaimKind::Ratio | ClaimKind::PerCapita => !percent && !target.change,
        ClaimKind::Amount => !percent && !target.change,
        ClaimKind::Fraction => false,
    }
}

fn judge(
    number: &Number,
    vocabulary: &Vocabulary,
    store: &mut Store,
    model: &Model,
) -> Option<Item> {
    let dimension = if number.major.is_some() {
        Dimension::Major
    } else {
        Dimension::School
    };
    for (text, own) in &number.texts {
        if text.is_empty() {
            continue;
        }
        let mut candidates: Vec<usize> = vocabulary
            .candidates(text, dimension)
            .into_iter()
            .map(|(i, _)| i)
            .filter(|&i| kind_fits(number.kind, &vocabulary.targets[i]))
            .filter(|&i| conversion(number, &vocabulary.targets[i]).is_some())
            .collect();
        // Where the number's own words begin (a text that joins a part to its total
        // ends with the part's words).
        let own_start = own.as_ref().map_or(0, |own| text.len() - own.len());
        candidates.retain(|&i| {
            let Some(spans) = vocabulary.spans(text, &vocabulary.targets[i]) else {
                return false;
            };
            // The part's own words must add to what its total or the head names, and in
            // prose nothing but loose words may follow (or, in its own words, come between)
            // the words that name the fact.
            (own.is_none() || spans.iter().any(|r| r.end > own_start))
                && (!number.prose || tidy(text, &spans, own_start, own.is_none()))
        });
        if candidates.is_empty() {
            continue;
        }
        let major = number.major.as_deref();
        let values: Vec<(usize, Option<f64>)> = candidates
            .iter()
            .map(|&i| (i, store.value(&vocabulary.targets[i], number.year, major)))
            .collect();
        // Equal names: the one with a value; entered facts before register ones; and
        // two facts with different values are a guess, not a match.
        let with_value: Vec<&(usize, Option<f64>)> =
            values.iter().filter(|(_, v)| v.is_some()).collect();
        let chosen = match with_value.as_slice() {
            [] => values[0],
            [only] => **only,
            many => {
                let first = many[0].1;
                if many.iter().all(|(_, v)| *v == first) {
                    **many
                        .iter()
                        .find(|(i, _)| vocabulary.targets[*i].entered)
                        .unwrap_or(&many[0])
                } else {
                    let entered: Vec<_> = many
                        .iter()
                        .filter(|(i, _)| vocabulary.targets[*i].entered)
                        .collect();
                    match entered.as_slice() {
                        [only] => ***only,
                        _ => return None,
                    }
                }
            }
        };
        let (index, stored) = chosen;
        let target = &vocabulary.targets[index];
        let factor = conversion(number, target)?;
        let sign = match number.kind {
            ClaimKind::Change(false) => -1.0,
            _ => 1.0,
        };
        let verdict = match stored {
            None => Verdict::Missing,
            Some(value) if number.quantity.holds(sign * value * factor) => Verdict::Agrees,
            Some(_) => Verdict::Differs,
        };
        let decimals = store.decimals(target);
        let show = |value: f64| {
            let number = match decimals {
                Some(d) => fixed(value, d),
                None => plain(value),
            };
            format!("{number}{}", target.unit)
        };
        let note = match (verdict, store.reported(target, number.year)) {
            (Verdict::Differs, Some(printed)) if number.quantity.holds(sign * printed) => {
                Some(format!(
                    "与学校填报的 {} 一致，但按数据计算为 {}",
                    show(printed),
                    show(stored.unwrap_or_default())
                ))
            }
            _ => None,
        };
        let (code, indicator) = match &target.source {
            Source::Element(code) => (code.clone(), false),
            Source::Indicator(id) => (id.clone(), true),
        };
        return Some(Item {
            verdict,
            line: number.line,
            place: number.place.clone(),
            code,
            indicator,
            name: target.name.clone(),
            major: number.major.clone(),
            year: number.year,
            written: number.quantity.describe(),
            value: number.quantity.value,
            stored,
            stored_text: stored.map(show),
            note,
            quote: model.line_text(number.line),
        });
    }
    None
}

/// The comparison for people, in Chinese.
pub fn render_human(comparison: &Comparison) -> String {
    let mut out = format!(
        "核对报告与{}（{}）的数据（{}年度）：一致 {} 处，不一致 {} 处，数据中没有 {} 处；其余 {} 个数字未对应数据中的数据项。\n",
        comparison.school_name,
        comparison.school,
        comparison.year,
        comparison.count(Verdict::Agrees),
        comparison.count(Verdict::Differs),
        comparison.count(Verdict::Missing),
        comparison.unmatched,
    );
    for (verdict, title) in [
        (Verdict::Differs, "不一致"),
        (Verdict::Missing, "数据中没有"),
        (Verdict::Agrees, "一致"),
    ] {
        let items: Vec<&Item> = comparison
            .items
            .iter()
            .filter(|i| i.verdict == verdict)
            .collect();
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{title}（{} 处）：\n", items.len()));
        for item in items {
            let what = match &item.major {
                Some(major) => format!("{}{}年{}", major, item.year, item.name),
                None => format!("{}年{}", item.year, item.name),
            };
            let stored = match &item.stored_text {
                Some(text) => format!("数据为 {text}"),
                None => "数据中没有该年的值".to_string(),
            };
            out.push_str(&format!(
                "  第 {} 行（{}）{what}：报告写 {}，{stored}",
                item.line, item.place, item.written
            ));
            if let Some(note) = &item.note {
                out.push_str(&format!("（{note}）"));
            }
            out.push('\n');
            if verdict != Verdict::Agrees {
                out.push_str(&format!("      {}\n", clip(&item.quote, 80)));
            }
        }
    }
    out
}

fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        let mut clipped: String = text.chars().take(chars).collect();
        clipped.push('…');
        clipped
    }
}

/// The comparison as JSON.
pub fn render_json(comparison: &Comparison) -> String {
    let value = serde_json::json!({
        "school": comparison.school,
        "school_name": comparison.school_name,
        "year": comparison.year,
        "summary": {
            "agrees": comparison.count(Verdict::Agrees),
            "differs": comparison.count(Verdict::Differs),
            "missing": comparison.count(Verdict::Missing),
            "unmatched": comparison.unmatched,
        },
        "items": comparison.items,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(&Definitions::builtin().unwrap())
    }

    fn named(vocabulary: &Vocabulary, text: &str) -> Vec<String> {
        let text = vocabulary.words.normal(text);
        vocabulary
            .candidates(&text, Dimension::School)
            .into_iter()
            .map(|(i, _)| vocabulary.targets[i].name.clone())
            .collect()
    }

    #[test]
    fn names_are_matched_by_their_words() {
        let v = vocabulary();
        assert_eq!(named(&v, "全校教职工总数"), ["教职工总数"]);
        assert_eq!(named(&v, "教职员工"), ["教职工总数"]);
        assert_eq!(named(&v, "专任教师数"), ["专任教师数"]);
        assert_eq!(named(&v, "专任教师数正式在编"), ["在编专任教师"]);
        assert_eq!(named(&v, "教职工总数正式在编"), ["在编教职工"]);
        assert_eq!(named(&v, "校内专任教师学历结构硕士"), ["硕士学历专任教师"]);
        assert_eq!(named(&v, "本科以下学历"), Vec::<String>::new());
        assert_eq!(
            named(&v, "专任教师中本科以下学历"),
            ["本科以下学历专任教师"]
        );
        assert_eq!(named(&v, "具有初级“双师素质”"), ["初级双师型教师"]);
        assert_eq!(named(&v, "生均用地面积"), ["生均占地面积"]);
        assert_eq!(named(&v, "现有占地面积"), ["校园占地面积"]);
        assert_eq!(named(&v, "在校学生"), ["在校生人数合计"]);
        // The register's figure of the same name is a candidate too; the value decides.
        assert_eq!(
            named(&v, "生均仪器设备值"),
            ["生均教学仪器设备值（设备台账）", "生均教学仪器设备值"]
        );
        // A part of a fact is not the fact.
        assert!(named(&v, "女教职工").is_empty());
        assert!(named(&v, "新进专任教师").is_empty());
    }

    #[test]
    fn a_header_states_a_unit_in_brackets() {
        assert_eq!(header_unit("教职工总数(人)").as_deref(), Some("人"));
        assert_eq!(header_unit("经费（万元）").as_deref(), Some("万元"));
        assert_eq!(header_unit("专业（方向）"), None);
    }
}
