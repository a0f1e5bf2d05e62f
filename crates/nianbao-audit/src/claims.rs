//! Numeric claims in prose: each number with its subject, year, unit and kind (an amount,
//! a share of a base, a rate, a per-student figure, a ratio, a change on last year, a
//! fraction), and the breakdowns "总数 N，其中 A a，B b" that split a total into parts.

use std::ops::Range;

use crate::concepts::{ConceptCache, Match, compact, concept_of, qualifier_of};
use crate::lines::Joined;
use crate::numbers::{Quantity, Token, same_unit_family, scan};

/// What a number in prose says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// A count or amount ("教职工总数639人").
    Amount,
    /// A share of a whole ("占比60%", "占生源总量的91.6%").
    Share,
    /// A rate named by its subject ("合格率达94.2%").
    Rate,
    /// A ratio ("生师比18.7").
    Ratio,
    /// A per-student figure ("生均用地面积35.41m²").
    PerCapita,
    /// A change on the previous year; `true` for an increase.
    Change(bool),
    /// A fraction of a whole ("九分之一").
    Fraction,
}

/// A number stated in prose.
#[derive(Debug, Clone)]
pub struct Claim {
    pub paragraph: usize,
    pub sentence: usize,
    pub clause: usize,
    /// The words the number is about, cleaned of connectives ("教职工总数").
    pub subject: String,
    pub quantity: Quantity,
    pub kind: ClaimKind,
    pub year: Option<i32>,
    /// Whether the year is written in the sentence or at the head of the paragraph.
    pub year_explicit: bool,
    pub lines: Vec<usize>,
    /// For shares, fractions and changes: the amount claim they describe.
    pub owner: Option<usize>,
    /// For a share or a fraction without an amount: the clause it describes.
    pub owner_text: String,
    /// For a share that names its part before 占 ("本地生源占91.6%"): that part.
    pub part: Option<String>,
    /// "占X的": the whole named.
    pub base_text: Option<String>,
    /// "其余9.4%": the rest of a whole.
    pub remainder: bool,
    /// For a part of a breakdown: the total.
    pub parent: Option<usize>,
    pub concept: Option<Match>,
    pub qualifier: Option<String>,
    /// The qualifier restricts the concept to a part of it by a relative clause, a modifier
    /// or the population the sentence counts within (not by a level word).
    pub restricted: bool,
    /// A fraction's numerator and denominator.
    pub fraction: Option<(f64, f64)>,
}

/// A total and the parts "其中" splits it into.
#[derive(Debug, Clone)]
pub struct Breakdown {
    pub total: usize,
    pub parts: Vec<usize>,
    /// The wording says the parts make up the whole ("由 … 组成", "从学历结构看", levels of
    /// one dimension).
    pub exhaustive: bool,
    /// The total is the population the sentence names ("就业学生中，…").
    pub scoped: bool,
}

/// The claims of a document's prose.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub claims: Vec<Claim>,
    pub breakdowns: Vec<Breakdown>,
    /// The line from which no claim was read, when the report holds more than
    /// [`MAX_CLAIMS`] numbers (0 when every number was read).
    pub truncated_at: usize,
}

/// A sentence or a clause of a paragraph, by bytes.
#[derive(Debug, Clone)]
struct Span {
    range: Range<usize>,
}

/// The most numbers of a report read as claims (a real report states a few thousand).
pub const MAX_CLAIMS: usize = 400_000;

/// The most characters of a clause before its number read for the words that describe it.
const CLAUSE_QUOTE_CHARS: usize = 120;

/// The most items of an enumeration ("甲、乙、丙") read back from a share.
const MAX_ENUMERATION: usize = 24;

/// The last `n` characters of a text.
pub fn tail_chars(text: &str, n: usize) -> &str {
    tail(text, n)
}

/// The last `n` characters of a text.
fn tail(text: &str, n: usize) -> &str {
    match text.char_indices().rev().nth(n.saturating_sub(1)) {
        Some((at, _)) if n > 0 => &text[at..],
        _ if n == 0 => "",
        _ => text,
    }
}

const SENTENCE_ENDS: &[char] = &['。', '！', '？', '!', '?'];
const CLAUSE_ENDS: &[char] = &[
    '。', '！', '？', '!', '?', '，', ',', '；', ';', '：', ':', '、', '（', '）', '(', ')',
];

const LEADING_WORDS: &[&str] = &[
    "其中",
    "其余",
    "另有",
    "此外",
    "包括",
    "共计",
    "合计",
    "总计",
    "累计",
    "共",
    "全年",
    "本年度",
    "本年",
    "当年",
    "年内",
    "目前",
    "现有",
    "学校",
    "我校",
    "全校",
    "该校",
    "本校",
    "均",
    "为",
    "达",
    "有",
    "，",
    "、",
    "和",
    "及",
    "与",
    "并",
];
const TRAILING_WORDS: &[&str] = &[
    "分别为",
    "分别是",
    "达到",
    "高达",
    "仅为",
    "增至",
    "提升至",
    "提高至",
    "提升到",
    "共计",
    "合计",
    "累计",
    "总计",
    "约为",
    "为",
    "达",
    "是",
    "有",
    "约",
    "共",
    "计",
    "了",
    "：",
    ":",
];
const CLASSIFIER_UNITS: &[&str] = &[
    "个", "名", "所", "家", "门", "项", "本", "类", "种", "支", "场", "期", "位", "套", "台", "件",
    "篇", "册", "间", "部", "条", "批",
];
const CHANGE_MARKERS: &[&str] = &[
    "同比",
    "较上年",
    "比上年",
    "上一年",
    "上年",
    "较去年",
    "比去年",
    "上一年度",
];
const INCREASE: &[&str] = &["增加", "增长", "提高", "上升", "提升", "增多", "多"];
const DECREASE: &[&str] = &["减少", "下降", "降低", "减", "少", "回落"];

/// Extracts the claims of every paragraph. `report_year` is the year of the report, used
/// when a paragraph names no year.
pub fn extract(paragraphs: &[Joined], report_year: Option<i32>) -> Claims {
    let mut claims = Claims::default();
    let mut sentence_base = 0;
    let mut clause_base = 0;
    let mut concepts = ConceptCache::default();
    for (p, paragraph) in paragraphs.iter().enumerate() {
        if claims.claims.len() >= MAX_CLAIMS {
            claims.truncated_at = paragraph.first_line();
            break;
        }
        let (sentences, clauses) = extract_paragraph(
            p,
            paragraph,
            report_year,
            sentence_base,
            clause_base,
            &mut concepts,
            &mut claims,
        );
        sentence_base += sentences;
        clause_base += clauses;
    }
    claims
}

fn spans(text: &str, ends: &[char]) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if ends.contains(&c) {
            spans.push(Span {
                range: start..i + c.len_utf8(),
            });
            start = i + c.len_utf8();
        }
    }
    if start < text.len() {
        spans.push(Span {
            range: start..text.len(),
        });
    }
    spans
}

fn index_of(spans: &[Span], offset: usize) -> usize {
    // Spans are in order and touch: the first whose end is past the offset holds it.
    spans
        .partition_point(|s| s.range.end <= offset)
        .min(spans.len().saturating_sub(1))
}

fn strip_words(mut text: &str) -> &str {
    loop {
        let before = text.len();
        text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        for word in LEADING_WORDS {
            if let Some(rest) = text.strip_prefix(word)
                && !rest.is_empty()
            {
                text = rest;
            }
        }
        for word in TRAILING_WORDS {
            if let Some(rest) = text.strip_suffix(word) {
                text = rest;
            }
        }
        if text.len() == before {
            return text;
        }
    }
}

fn extract_paragraph(
    p: usize,
    paragraph: &Joined,
    report_year: Option<i32>,
    sentence_base: usize,
    clause_base: usize,
    concepts: &mut ConceptCache,
    out: &mut Claims,
) -> (usize, usize) {
    let text = paragraph.text.as_str();
    // Numbers inside quotation marks are quoted (what another text says), not claimed.
    let quoted = disjoint(quotations(text));
    let tokens: Vec<Token> = scan(text)
        .into_iter()
        .filter(|t| !inside(&quoted, t.span().start))
        .collect();
    let sentences = spans(text, SENTENCE_ENDS);
    let clauses = spans(text, CLAUSE_ENDS);
    let first_clause_end = clauses.first().map(|c| c.range.end).unwrap_or(0);
    let leading_year = tokens.iter().find_map(|t| match t {
        Token::Year(y) if y.span.end <= first_clause_end => Some(y.year),
        _ => None,
    });
    let first_claim = out.claims.len();

    // Sentences that say "this year" (本年, 今年) name the report's year.
    let this_year: Vec<bool> = sentences
        .iter()
        .map(|s| text[s.range.clone()].contains("本年") || text[s.range.clone()].contains("今年"))
        .collect();
    let mut previous_end = 0;
    let mut scopes = ScopeScan::default();
    let mut last_year: Option<(usize, i32)> = None;
    for token in &tokens {
        let (quantity, fraction) = match token {
            Token::Quantity(q) => (q.clone(), None),
            Token::Fraction(f) => {
                let value = f.numerator / f.denominator;
                let q = Quantity {
                    written: value,
                    value,
                    upper: None,
                    unit: String::new(),
                    multiplier: 1.0,
                    approx: crate::numbers::Approx::Exact,
                    decimals: 6,
                    span: f.span.clone(),
                    digits: f.span.clone(),
                };
                (q, Some((f.numerator, f.denominator)))
            }
            Token::Year(y) => {
                last_year = Some((y.span.start, y.year));
                previous_end = token.span().end;
                continue;
            }
            _ => {
                previous_end = token.span().end;
                continue;
            }
        };
        let start = quantity.span.start;
        let sentence = index_of(&sentences, start);
        let clause = index_of(&clauses, start);
        let clause_range = clauses
            .get(clause)
            .map(|c| c.range.clone())
            .unwrap_or(0..text.len());
        let sentence_range = sentences
            .get(sentence)
            .map(|s| s.range.clone())
            .unwrap_or(0..text.len());
        let subject_start = clause_range.start.max(previous_end).min(start);
        previous_end = quantity.span.end;
        let raw_before = &text[subject_start..start];
        let before = strip_words(raw_before);

        // The noun after a classifier ("22个专业") names what is counted.
        let after_text = &text[quantity.span.end.min(text.len())
            ..clause_range.end.max(quantity.span.end).min(text.len())];
        let after: String = after_text
            .chars()
            .take_while(|c| {
                !c.is_ascii_digit()
                    && !"、，。；：,;:（）()和与及或等的为“”《》".contains(*c)
                    && !c.is_whitespace()
            })
            .take(12)
            .collect();
        let classifier = CLASSIFIER_UNITS.contains(&quantity.unit.as_str());
        let weak_before = before.is_empty()
            || before.ends_with('等')
            || (before.chars().count() <= 4 && concept_of(before).is_none());
        let subject = if classifier && !after.is_empty() && weak_before {
            after.clone()
        } else {
            compact(before)
        };

        // Year: in the sentence before the number, else at the head of the paragraph.
        let sentence_year = last_year
            .filter(|(start, _)| *start >= sentence_range.start)
            .map(|(_, year)| year);
        let last_year_word = ["上一年", "上年", "去年", "上学年"]
            .iter()
            .any(|w| raw_before.contains(w));
        let (mut year, year_explicit) = match (sentence_year, leading_year) {
            (Some(y), _) => (Some(y), true),
            (None, Some(y)) => (Some(y), true),
            (None, None) => (
                report_year,
                this_year.get(sentence).copied().unwrap_or(false),
            ),
        };

        // The words of the clause before the number that can describe it (a clause runs on
        // without bound only in broken text).
        let clause_before = tail(&text[clause_range.start..start], CLAUSE_QUOTE_CHARS);
        let kind = if fraction.is_some() {
            ClaimKind::Fraction
        } else if let Some(increase) =
            change_direction(text, &sentence_range, clause_before, &quantity)
        {
            ClaimKind::Change(increase)
        } else if subject.contains("生均") {
            ClaimKind::PerCapita
        } else if subject.contains("生师比") {
            ClaimKind::Ratio
        } else if quantity.is_percent() {
            let share_words = subject.is_empty()
                || subject.starts_with('占')
                || subject.contains("占比")
                || subject.ends_with("比例")
                || subject.contains("其余")
                || subject.contains("其他");
            if share_words || clause_before.contains("其余") || clause_before.contains('占') {
                ClaimKind::Share
            } else {
                ClaimKind::Rate
            }
        } else {
            ClaimKind::Amount
        };
        if kind == ClaimKind::Amount && last_year_word {
            year = year.map(|y| y - 1);
        }
        let base_text = share_base(clause_before);
        let remainder = clause_before.contains("其余")
            || clause_before.contains("剩余")
            || clause_before.contains("其他");
        let concept = if matches!(kind, ClaimKind::Amount | ClaimKind::Rate | ClaimKind::Ratio) {
            concepts.of(&subject)
        } else {
            None
        };
        // A part of the concept's whole: restricted by a relative clause or a modifier
        // ("落实去向的毕业生", "对口就业率"), or counted within a population the sentence
        // names ("就业学生中，…") that is the concept itself or, for a rate, not its base.
        let scope = scopes.scope(text, sentence, &sentence_range, start);
        let scoped = scope.and_then(|scope| {
            let matched = concept?;
            let scope_key = concepts.of(scope).map(|m| m.concept.key);
            let own = scope_key == Some(matched.concept.key);
            let rate_base = crate::concepts::rate_base(matched.concept.key);
            let other_base =
                kind == ClaimKind::Rate && rate_base.is_some() && scope_key != rate_base;
            (own || other_base).then(|| scope.to_string())
        });
        let level = qualifier_of(&subject).map(str::to_string);
        let restricted = concept
            .and_then(|m| restriction(&subject, m.concept))
            .or(scoped);
        let qualifier = level.clone().or(restricted.clone());
        let restricted = level.is_none() && restricted.is_some();
        let span = quantity.span.start.min(subject_start)..quantity.span.end;
        let lines = paragraph.lines_of(span.clone());
        out.claims.push(Claim {
            paragraph: p,
            sentence: sentence_base + sentence,
            clause: clause_base + clause,
            subject,
            quantity,
            kind,
            year,
            year_explicit,
            lines,
            owner: None,
            owner_text: String::new(),
            part: None,
            base_text,
            remainder,
            parent: None,
            concept,
            qualifier,
            restricted,
            fraction,
        });
    }

    attach_owners(text, &clauses, clause_base, first_claim, out);
    find_breakdowns(text, &sentences, &clauses, clause_base, first_claim, out);
    (sentences.len(), clauses.len())
}

/// The population a sentence counts within, named before the first number: "就业学生中，…",
/// "在协议和合同就业的毕业生中…" → "就业学生", "协议和合同就业的毕业生".
fn sentence_scope(before: &str) -> Option<&str> {
    before.match_indices('中').find_map(|(at, _)| {
        let next = before[at + '中'.len_utf8()..].chars().next();
        scope_before(&before[..at], next)
    })
}

/// The scope a sentence names, read on from where the last number of the same sentence left
/// off: each 中 is looked at once, so a long sentence costs time in proportion to its length.
#[derive(Debug, Default)]
struct ScopeScan {
    sentence: Option<usize>,
    scanned: usize,
    found: Option<Range<usize>>,
}

impl ScopeScan {
    /// As [`sentence_scope`] of `text[sentence.start..start]`.
    fn scope<'t>(
        &mut self,
        text: &'t str,
        index: usize,
        sentence: &Range<usize>,
        start: usize,
    ) -> Option<&'t str> {
        if self.sentence != Some(index) {
            *self = ScopeScan {
                sentence: Some(index),
                scanned: sentence.start,
                found: None,
            };
        }
        if self.found.is_none() && start > self.scanned {
            let from = self.scanned;
            for (offset, _) in text[from..start].match_indices('中') {
                let at = from + offset;
                let next = text[at + '中'.len_utf8()..start].chars().next();
                if let Some(scope) = scope_before(&text[sentence.start..at], next) {
                    let begin = scope.as_ptr() as usize - text.as_ptr() as usize;
                    self.found = Some(begin..begin + scope.len());
                    break;
                }
            }
            self.scanned = start;
        }
        self.found.clone().map(|r| &text[r])
    }
}

/// The population named before a 中 (`before` ends just before it; `next` is the character
/// after it), if those words name one.
fn scope_before(before: &str, next: Option<char>) -> Option<&str> {
    // A population is named in a few words: only the last of them are read.
    let scope = tail(before, CLAUSE_QUOTE_CHARS).trim_start_matches(['在', '从', '于']);
    let scope = scope
        .rsplit(['，', ',', '；', '：', '即', '在'])
        .next()
        .unwrap_or(scope);
    // "在297名就业学生中": the population after its count.
    let scope = scope
        .rsplit(|c: char| c.is_ascii_digit() || c == ',')
        .next()
        .unwrap_or(scope);
    let scope = scope.trim_start_matches(['名', '位', '个', '人', ' ']);
    let population = ["生", "员", "师", "者", "人", "工"]
        .iter()
        .any(|w| scope.ends_with(w));
    let word_goes_on = next.is_some_and(|c| "级职高等专心国华小文式型层".contains(c));
    (population && !word_goes_on && scope.chars().count() >= 2).then_some(scope)
}

/// Words that make a count or a rate a part of the concept they precede ("对口就业",
/// "本地就业率"), or a relative clause before it ("落实去向的毕业生").
const RESTRICTING: &[&str] = &[
    "对口",
    "本地",
    "省内",
    "省外",
    "市内",
    "市外",
    "区内",
    "区外",
    "县内",
    "县外",
    "专业相关",
    "相关",
    "签约",
    "协议",
    "合同",
    "单位",
    "灵活",
    "自主",
];

/// The words that restrict a subject to a part of the concept it names, if any.
fn restriction(subject: &str, concept: &crate::concepts::Concept) -> Option<String> {
    let subject = compact(subject);
    let at = concept
        .names
        .iter()
        .filter_map(|(name, _)| subject.find(name))
        .min()?;
    let before = &subject[..at];
    if let Some(relative) = before.rfind('的') {
        let clause = &before[..relative];
        return (!clause.is_empty()).then(|| clause.to_string());
    }
    RESTRICTING
        .iter()
        .find(|w| before.ends_with(*w))
        .map(|w| w.to_string())
}

/// The byte ranges of a paragraph inside quotation marks (“…”, 「…」, 『…』), each pair
/// closed in the paragraph; an opening mark never closed quotes nothing.
pub fn quotations(text: &str) -> Vec<Range<usize>> {
    const PAIRS: &[(char, char)] = &[('“', '”'), ('「', '」'), ('『', '』')];
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut ranges = Vec::new();
    for (i, c) in text.char_indices() {
        if let Some(&(_, close)) = PAIRS.iter().find(|(o, _)| *o == c) {
            // Marks nest a few levels deep; an opening mark never closed is forgotten.
            if open.len() >= 32 {
                open.remove(0);
            }
            open.push((close, i));
        } else if let Some(depth) = open.iter().rposition(|(close, _)| *close == c) {
            ranges.push(open[depth].1..i + c.len_utf8());
            open.truncate(depth);
        }
    }
    ranges
}

/// Ranges sorted and merged where they overlap (quotations nest).
fn disjoint(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if range.start < last.end => last.end = last.end.max(range.end),
            _ => out.push(range),
        }
    }
    out
}

/// Whether an offset is inside one of disjoint sorted ranges.
fn inside(ranges: &[Range<usize>], offset: usize) -> bool {
    let index = ranges.partition_point(|r| r.end <= offset);
    ranges.get(index).is_some_and(|r| r.contains(&offset))
}

/// "…同比上一年减少224人" → Some(false).
fn change_direction(
    text: &str,
    sentence: &Range<usize>,
    clause_before: &str,
    quantity: &Quantity,
) -> Option<bool> {
    let window_start = sentence.start.max(quantity.span.start.saturating_sub(60));
    let window_start = (window_start..quantity.span.start)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(quantity.span.start);
    let window = &text[window_start..quantity.span.start];
    if !CHANGE_MARKERS.iter().any(|m| window.contains(m)) {
        return None;
    }
    let clause_before = clause_before.trim_end_matches(['约', '了', '达', ' ']);
    if INCREASE.iter().any(|w| clause_before.ends_with(w)) {
        Some(true)
    } else if DECREASE.iter().any(|w| clause_before.ends_with(w)) {
        Some(false)
    } else {
        None
    }
}

/// "占生源总量的" → "生源总量"; "占了全校总人数的" → "全校总人数".
fn share_base(clause_before: &str) -> Option<String> {
    let at = clause_before.rfind('占')?;
    let rest = &clause_before[at + '占'.len_utf8()..];
    let rest = rest.trim_start_matches(['了', '据', '到']);
    let end = rest.rfind('的')?;
    let base = compact(&rest[..end]);
    (!base.is_empty()).then_some(base)
}

/// Shares, fractions and changes describe the amount just before them, in their clause or
/// the one before.
fn attach_owners(text: &str, clauses: &[Span], clause_base: usize, first: usize, out: &mut Claims) {
    for i in first..out.claims.len() {
        let kind = out.claims[i].kind;
        if !matches!(
            kind,
            ClaimKind::Share | ClaimKind::Fraction | ClaimKind::Change(_)
        ) {
            continue;
        }
        let clause = out.claims[i].clause;
        let sentence = out.claims[i].sentence;
        // "专业课教师占专任教师的55.1%": the share names its part; it describes the amount of
        // that name in the sentence, or, when none is stated, no amount at all.
        if kind == ClaimKind::Share
            && let Some(part) = named_part(text, clauses, clause - clause_base, &out.claims[i])
        {
            let owner = (first..i)
                .rev()
                .take_while(|&j| out.claims[j].sentence == sentence)
                .find(|&j| {
                    let c = &out.claims[j];
                    c.kind == ClaimKind::Amount && names_match(&c.subject, &part)
                });
            out.claims[i].owner = owner;
            if owner.is_none() {
                out.claims[i].owner_text = part.clone();
            }
            out.claims[i].part = Some(part);
            continue;
        }
        let owner = (first..i)
            .rev()
            .take_while(|&j| out.claims[j].clause + 3 >= clause)
            .find(|&j| {
                let c = &out.claims[j];
                c.kind == ClaimKind::Amount
                    && c.sentence == sentence
                    && (c.clause == clause
                        || c.clause + 1 == clause
                        || (matches!(kind, ClaimKind::Change(_)) && c.clause + 3 >= clause))
            });
        // A share whose clause before holds no amount describes that clause's words.
        let owner = owner.filter(|&j| {
            let between = (j + 1..i).all(|k| out.claims[k].kind != ClaimKind::Amount);
            let last_in_clause = (j..out.claims.len())
                .take_while(|&k| out.claims[k].clause == out.claims[j].clause)
                .filter(|&k| out.claims[k].kind == ClaimKind::Amount)
                .last();
            between && (out.claims[j].clause == clause || last_in_clause == Some(j))
        });
        out.claims[i].owner = owner;
        if owner.is_none() && clause > clause_base {
            // The clause before, with the items of an enumeration ("甲、乙和丙") before it.
            let last = clause - clause_base - 1;
            let mut first_clause = last;
            while first_clause > 0
                && last - first_clause < MAX_ENUMERATION
                && clauses
                    .get(first_clause - 1)
                    .is_some_and(|c| text[c.range.clone()].ends_with('、'))
            {
                first_clause -= 1;
            }
            // …and the words of its own clause before the number.
            let own_start = clauses.get(last + 1).map(|c| c.range.start);
            let number_start = out.claims[i].quantity.span.start;
            if let (Some(start), Some(_), Some(own)) =
                (clauses.get(first_clause), clauses.get(last), own_start)
                && own <= number_start
            {
                out.claims[i].owner_text = text[start.range.start..number_start]
                    .trim_end_matches(CLAUSE_ENDS)
                    .to_string();
            }
        }
    }
}

/// The part a share names in its own clause before 占 ("专业课教师占专任教师的55.1%" →
/// "专业课教师"), if any.
fn named_part(text: &str, clauses: &[Span], local: usize, share: &Claim) -> Option<String> {
    let clause = clauses.get(local)?;
    let number = share.quantity.span.start;
    if number < clause.range.start || number > text.len() {
        return None;
    }
    let at = text[clause.range.start..number].find('占')? + clause.range.start;
    // With the items of an enumeration before it ("甲类、乙类学生占…").
    let mut first = local;
    while first > 0
        && local - first < MAX_ENUMERATION
        && clauses
            .get(first - 1)
            .is_some_and(|c| text[c.range.clone()].ends_with('、'))
    {
        first -= 1;
    }
    let part = compact(strip_words(&text[clauses[first].range.start..at]));
    (part.chars().count() >= 2).then_some(part)
}

/// Whether an amount's subject and a share's named part are the same words.
fn names_match(subject: &str, part: &str) -> bool {
    let subject = compact(subject);
    subject.chars().count() >= 2 && (subject.ends_with(part) || part.ends_with(subject.as_str()))
}

/// How a list of parts is introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    /// "其中 A a、B b", "包括 …", "由 A a 和 B b 组成".
    Inline { exhaustive: bool },
    /// "X中，A a，B b": within the population X of an earlier total.
    Scope,
    /// "从学历结构看，…", "按职称分，…": the whole by one dimension.
    Structure,
}

/// Words that open a breakdown of a whole by one dimension.
const STRUCTURE_OPENERS: &[&str] = &["从", "按", "分"];
const STRUCTURE_CLOSERS: &[&str] = &[
    "看",
    "分",
    "划分",
    "来看",
    "统计",
    "结构为",
    "分布为",
    "构成为",
];

/// Levels of one dimension: three parts or more naming levels of the same one cover it.
const DIMENSIONS: &[&[&str]] = &[
    &[
        "博士",
        "硕士",
        "研究生",
        "本科",
        "学士",
        "专科",
        "大专",
        "高中",
        "中专",
    ],
    &[
        "正高",
        "副高",
        "高级",
        "中级",
        "初级",
        "未定级",
        "无职称",
        "员级",
    ],
    &["国家级", "省级", "市级", "区级", "县级", "校级"],
    &[
        "一等奖",
        "二等奖",
        "三等奖",
        "优秀奖",
        "金奖",
        "银奖",
        "铜奖",
    ],
    &["一年级", "二年级", "三年级", "四年级", "五年级"],
];

/// Words that may follow a level without narrowing it ("本科学历", "高级职称").
const LEVEL_SUFFIXES: &[&str] = &[
    "学历",
    "学位",
    "职称",
    "研究生",
    "教师",
    "人员",
    "学生",
    "及以上",
    "及以下",
];

/// Whether parts name levels of one dimension, three or more, and nothing else: "研究生学历、
/// 本科学历、专科学历" covers its whole; "国家级示范专业、市级重点专业" does not.
fn one_dimension(subjects: &[&str]) -> bool {
    subjects.len() >= 3
        && DIMENSIONS.iter().any(|levels| {
            subjects.iter().all(|s| {
                let s = compact(s);
                levels.iter().any(|level| {
                    s.find(level).is_some_and(|at| {
                        let rest = &s[at + level.len()..];
                        let rest = LEVEL_SUFFIXES
                            .iter()
                            .fold(rest.to_string(), |r, w| r.replacen(w, "", 1));
                        rest.chars().all(|c| c == '的' || c == '及')
                    })
                })
            })
        })
}

/// "总数639人，其中在编376人，外聘263人": the total is the last amount before 其中 in the
/// sentence (or, when 其中 opens a sentence, in the sentence before); the parts are the
/// amounts after it in the same sentence, until another 其中 or a change of unit. Also
/// "由 A a 和 B b 组成" (all the parts), "X中，A a，B b" (the parts of an earlier total
/// named X, or of "在 N 名 X 中") and "从学历结构看，…" (the whole by one dimension).
fn find_breakdowns(
    text: &str,
    sentences: &[Span],
    clauses: &[Span],
    clause_base: usize,
    first: usize,
    out: &mut Claims,
) {
    let sentence_base = out
        .claims
        .get(first)
        .map(|c| c.sentence - index_of(sentences, c.quantity.span.start))
        .unwrap_or(0);
    let clause_text = |claim: &Claim| -> (&str, usize) {
        let local = claim.clause - clause_base;
        clauses
            .get(local)
            .map(|c| (&text[c.range.clone()], c.range.start))
            .unwrap_or(("", 0))
    };
    let previous_clause = |claim: &Claim| -> &str {
        let local = claim.clause - clause_base;
        local
            .checked_sub(1)
            .and_then(|l| clauses.get(l))
            .map(|c| text[c.range.clone()].trim_end_matches(CLAUSE_ENDS))
            .unwrap_or("")
    };
    let sentence_of = |claim: &Claim| -> Range<usize> {
        sentences
            .get(claim.sentence - sentence_base)
            .map(|s| s.range.clone())
            .unwrap_or(0..0)
    };
    let opener = |claims: &[Claim], i: usize| -> Option<Opener> {
        let claim = &claims[i];
        // Only the first amount of a clause opens a list.
        if i > 0 && claims[i - 1].clause == claim.clause && claims[i - 1].kind == ClaimKind::Amount
        {
            return None;
        }
        let (clause, start) = clause_text(claim);
        let number = claim.quantity.span.start.saturating_sub(start);
        let head: String = clause.chars().take(6).collect();
        let inline = (head.contains("其中") || head.contains("包括"))
            && clause.find(['其', '包']).is_some_and(|at| at <= number);
        let alone = matches!(previous_clause(claim).trim(), "其中" | "包括" | "其中有");
        if inline || alone {
            return Some(Opener::Inline { exhaustive: false });
        }
        let sentence = sentence_of(claim);
        let before =
            &text[sentence.start.min(claim.quantity.span.start)..claim.quantity.span.start];
        let first_in_sentence = i == 0 || claims[i - 1].sentence != claim.sentence;
        if clause.trim_start_matches(is_blank_char).starts_with('由')
            && !first_in_sentence
            && ["组成", "构成"]
                .iter()
                .any(|w| text[sentence.clone()].contains(w))
        {
            return Some(Opener::Inline { exhaustive: true });
        }
        // The population is named before the first amount of the sentence, or between the
        // total it counts ("在 240 名专任教师中") and this amount; only that text is read.
        let scope_text = if first_in_sentence {
            before
        } else {
            &text[claims[i - 1]
                .quantity
                .span
                .end
                .min(claim.quantity.span.start)..claim.quantity.span.start]
        };
        if let Some(scope) = sentence_scope(scope_text) {
            let scoped_total = !first_in_sentence;
            if (first_in_sentence || scoped_total) && scope.chars().count() >= 2 {
                return Some(Opener::Scope);
            }
        }
        if first_in_sentence {
            let lead = before.trim_start_matches(is_blank_char);
            let lead = lead.split(['，', ',', '：', ':']).next().unwrap_or("");
            if lead.len() < before.len()
                && STRUCTURE_OPENERS.iter().any(|w| lead.starts_with(w))
                && STRUCTURE_CLOSERS.iter().any(|w| lead.ends_with(w))
            {
                return Some(Opener::Structure);
            }
        } else {
            // "专任教师165人，按职称划分，正高级2人，…": the dimension named between the
            // sentence's one total and its first part.
            let clauses: Vec<&str> = scope_text
                .split(['，', ','])
                .map(|c| c.trim_matches(is_blank_char))
                .filter(|c| !c.is_empty())
                .collect();
            let named = clauses.len() >= 2
                && clauses[..clauses.len() - 1].iter().any(|c| {
                    STRUCTURE_OPENERS.iter().any(|w| c.starts_with(w))
                        && STRUCTURE_CLOSERS.iter().any(|w| c.ends_with(w))
                });
            let one_before = (0..i)
                .rev()
                .take_while(|&j| claims[j].sentence == claim.sentence)
                .filter(|&j| claims[j].kind == ClaimKind::Amount)
                .count()
                == 1;
            if named && one_before {
                return Some(Opener::Structure);
            }
        }
        None
    };
    let mut i = first;
    while i < out.claims.len() {
        let Some(kind) = (out.claims[i].kind == ClaimKind::Amount)
            .then(|| opener(&out.claims, i))
            .flatten()
        else {
            i += 1;
            continue;
        };
        let sentence = out.claims[i].sentence;
        // A total is counted in the parts' unit (a bare number of a ratio "17.9:1" is not one).
        let unit = out.claims[i].quantity.unit.clone();
        let strict = |j: usize| {
            let other = &out.claims[j].quantity.unit;
            unit.is_empty() || (!other.is_empty() && same_unit_family(other, &unit))
        };
        let previous_amount = |from: usize, sentences_back: usize| {
            (0..from)
                .rev()
                .take_while(|&j| out.claims[j].sentence + sentences_back >= sentence)
                .take(200)
                .find(|&j| out.claims[j].kind == ClaimKind::Amount)
                .filter(|&j| strict(j))
        };
        let total = match kind {
            Opener::Inline { .. } => {
                let total = previous_amount(i, 1);
                // When 其中 is inside the sentence, the total must be in it too.
                let opens_sentence = i == 0 || out.claims[i - 1].sentence != sentence;
                total.filter(|&t| out.claims[t].sentence == sentence || opens_sentence)
            }
            // The one amount of the sentence before (with more, which one is the whole?).
            // The one amount before it in the sentence.
            Opener::Structure if i > 0 && out.claims[i - 1].sentence == sentence => {
                previous_amount(i, 0).filter(|&t| out.claims[t].sentence == sentence)
            }
            Opener::Structure => previous_amount(i, 1).filter(|&t| {
                (0..i)
                    .rev()
                    .take_while(|&j| out.claims[j].sentence + 1 >= sentence)
                    .filter(|&j| {
                        out.claims[j].sentence + 1 == sentence
                            && out.claims[j].kind == ClaimKind::Amount
                    })
                    .count()
                    == 1
                    && out.claims[t].sentence + 1 == sentence
            }),
            Opener::Scope => {
                let range = sentence_of(&out.claims[i]);
                let before = &text[range.start.min(out.claims[i].quantity.span.start)
                    ..out.claims[i].quantity.span.start];
                let scope = sentence_scope(before).unwrap_or("");
                let in_scope = i > 0 && out.claims[i - 1].sentence == sentence;
                if in_scope {
                    Some(i - 1)
                } else {
                    // "单位就业的毕业生": those of the total named before 的.
                    let named = compact(scope.split('的').next().unwrap_or(scope));
                    let scope_concept = concept_of(&named).map(|m| m.concept.key);
                    (0..i)
                        .rev()
                        .take_while(|&j| out.claims[j].paragraph + 3 >= out.claims[i].paragraph)
                        .take(200)
                        .find(|&j| {
                            let c = &out.claims[j];
                            // A part of another total may be this one's whole when its
                            // words are the population's ("其中专任教师 240 人" …
                            // "专任教师中研究生学历 36 人").
                            c.kind == ClaimKind::Amount
                                && (c.parent.is_none() || compact(&c.subject) == named)
                                && (names_match(&c.subject, &named)
                                    || (scope_concept.is_some()
                                        && c.concept.map(|m| m.concept.key) == scope_concept
                                        && c.qualifier.is_none()))
                        })
                }
            }
        };
        let Some(total) = total else {
            i += 1;
            continue;
        };
        let total_unit = out.claims[total].quantity.unit.clone();
        let mut parts = vec![i];
        let mut j = i + 1;
        while j < out.claims.len() && out.claims[j].sentence == sentence {
            let c = &out.claims[j];
            // A semicolon ends a list: what follows lists something else.
            let gap = &text[out.claims[j - 1]
                .quantity
                .span
                .end
                .min(c.quantity.span.start)..c.quantity.span.start];
            if gap.contains(['；', ';']) && !matches!(kind, Opener::Inline { .. }) {
                break;
            }
            if c.kind == ClaimKind::Amount {
                if matches!(opener(&out.claims, j), Some(Opener::Inline { .. }))
                    || !same_unit_family(&c.quantity.unit, &total_unit)
                    || c.quantity.upper.is_some()
                {
                    break;
                }
                parts.push(j);
            } else if !matches!(c.kind, ClaimKind::Share | ClaimKind::Fraction) {
                break;
            }
            j += 1;
        }
        let total_claim = &out.claims[total];
        if !same_unit_family(&out.claims[i].quantity.unit, &total_unit)
            || total_claim.quantity.upper.is_some()
            || total_claim.quantity.is_percent()
        {
            i = j;
            continue;
        }
        let subjects: Vec<&str> = parts
            .iter()
            .map(|&p| out.claims[p].subject.as_str())
            .collect();
        let exhaustive = match kind {
            Opener::Inline { exhaustive } => exhaustive,
            Opener::Structure => true,
            Opener::Scope => false,
        } || one_dimension(&subjects);
        let parent_concept = total_claim.concept;
        let parent_year = total_claim.year;
        for &part in &parts {
            let claim = &mut out.claims[part];
            claim.parent = Some(total);
            if claim.concept.is_none() {
                claim.concept = parent_concept;
                claim.qualifier = Some(
                    qualifier_of(&claim.subject)
                        .map(str::to_string)
                        .unwrap_or_else(|| claim.subject.clone()),
                );
            }
            if claim.year.is_none() {
                claim.year = parent_year;
            }
        }
        out.breakdowns.push(Breakdown {
            total,
            parts,
            exhaustive,
            scoped: kind == Opener::Scope,
        });
        i = j;
    }
}

fn is_blank_char(c: char) -> bool {
    c.is_whitespace() || c == '\u{3000}'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims_of(text: &str) -> Claims {
        let mut joined = Joined::default();
        for (i, line) in text.lines().enumerate() {
            joined.push_line(i + 1, line);
        }
        extract(&[joined], Some(2025))
    }

    #[test]
    fn subjects_years_and_breakdowns() {
        let claims = claims_of(
            "2024年度，全校教职工总数576人，其中正式在编380人，外聘188人。专任教师数488。",
        );
        let c = &claims.claims;
        assert_eq!(c[0].subject, "教职工总数");
        assert_eq!(c[0].year, Some(2024));
        assert_eq!(c[0].concept.map(|m| m.concept.key), Some("教职工"));
        assert_eq!(claims.breakdowns.len(), 1);
        assert_eq!(claims.breakdowns[0].parts, vec![1, 2]);
        assert_eq!(c[1].qualifier.as_deref(), Some("在编"));
        assert_eq!(c[3].subject, "专任教师数");
        assert_eq!(c[3].year, Some(2024));
    }

    #[test]
    fn shares_owners_and_bases() {
        let claims = claims_of(
            "具有双师素质225人，其中初级135人，占比60%；中级69人，占比30.7%。生源主要来自本区，占生源总量的91.6%。其余9.4%来自外地。",
        );
        let c = &claims.claims;
        assert_eq!(c[2].kind, ClaimKind::Share);
        assert_eq!(c[2].owner, Some(1));
        assert_eq!(c[4].owner, Some(3));
        assert_eq!(claims.breakdowns[0].parts, vec![1, 3]);
        assert_eq!(c[5].base_text.as_deref(), Some("生源总量"));
        assert_eq!(c[5].owner, None);
        assert!(c[6].remainder);
    }

    #[test]
    fn changes_and_fractions() {
        let claims = claims_of(
            "2025年学校共计招生3211人，同比上一年减少224人。升学2887人，其中本科413人，占据总数的九分之一。",
        );
        let c = &claims.claims;
        assert_eq!(c[0].subject, "招生");
        assert_eq!(c[1].kind, ClaimKind::Change(false));
        assert_eq!(c[1].owner, Some(0));
        assert_eq!(c[4].kind, ClaimKind::Fraction);
        assert_eq!(c[4].owner, Some(3));
        assert_eq!(c[4].base_text.as_deref(), Some("总数"));
    }

    #[test]
    fn quoted_numbers_are_not_claims() {
        let claims = claims_of(
            "学校说明：「2024年度【电子商务】在校生人数 301 人，“上年 + 招生”为 216 人」（质量办）。教职工 639 人。",
        );
        assert_eq!(claims.claims.len(), 1);
        assert_eq!(claims.claims[0].quantity.value, 639.0);
        assert_eq!(
            quotations("“a「b」").len(),
            1,
            "an unclosed mark quotes nothing"
        );
    }

    #[test]
    fn a_share_that_names_its_part() {
        let claims = claims_of(
            "专任教师 488 人，其中专业课教师 269 人、文化课教师 219 人，专业课教师占专任教师的 55.1%。具有正高级职称 5 人、中级职称 139 人，高级职称教师占专任教师的 17.8%。",
        );
        let c = &claims.claims;
        assert_eq!(c[3].kind, ClaimKind::Share);
        assert_eq!(c[3].owner, Some(1));
        assert_eq!(c[6].owner, None);
        assert_eq!(c[6].owner_text, "高级职称教师");
    }

    #[test]
    fn counted_nouns_after_the_number() {
        let claims = claims_of("开设有会计、数控等22个专业，共开设专业22个。");
        assert_eq!(claims.claims[0].subject, "专业");
        assert_eq!(claims.claims[1].subject, "开设专业");
    }
}
