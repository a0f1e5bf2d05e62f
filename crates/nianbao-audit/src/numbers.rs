//! Numbers as a report writes them: digits (also full-width) with thousands separators and
//! decimals, units and the 万/亿 multipliers, approximate amounts (约, 余, 超, 以上 …),
//! ranges ("1800元-2000元", "4-6门"), years used as labels ("2024年度"), Chinese numerals
//! before a classifier ("六种") and fractions ("九分之一").

use std::ops::Range;

/// How a written amount relates to the true one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approx {
    /// Written as the exact amount.
    Exact,
    /// At least the amount ("9300余人", "超40人次", "10场次以上").
    AtLeast,
    /// At most the amount ("不足100人").
    AtMost,
    /// Roughly the amount ("约19万平方米").
    About,
}

/// An amount with its unit, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The number as written, before any 万/亿 multiplier.
    pub written: f64,
    /// The amount in the unit's base (万 and 亿 applied: "19万平方米" → 190000).
    pub value: f64,
    /// The upper bound of a range ("4-6门" → Some(6.0)), in the same base.
    pub upper: Option<f64>,
    /// The unit without multiplier: "人", "元", "m²", "%", "" when none is written.
    pub unit: String,
    /// Whether the unit was written with 万 (or 亿): "万元", "万平方米".
    pub multiplier: f64,
    pub approx: Approx,
    /// Decimals printed ("35.41" → 2).
    pub decimals: u32,
    /// Bytes of the whole expression (approximation words, number and unit).
    pub span: Range<usize>,
    /// Bytes of the digits alone.
    pub digits: Range<usize>,
}

impl Quantity {
    pub fn is_percent(&self) -> bool {
        self.unit == "%"
    }

    /// Whether `actual` is consistent with this amount, given how it is written.
    pub fn holds(&self, actual: f64) -> bool {
        let step = approx_step(self.written) * self.multiplier;
        let tolerance = 0.5 * 10f64.powi(-(self.decimals as i32)) * self.multiplier;
        if let Some(upper) = self.upper {
            return actual >= self.value - tolerance && actual <= upper + tolerance;
        }
        match self.approx {
            Approx::Exact => (actual - self.value).abs() <= tolerance + 1e-9,
            Approx::AtLeast => actual >= self.value - tolerance,
            Approx::AtMost => actual <= self.value + tolerance,
            Approx::About => (actual - self.value).abs() <= (0.1 * self.value.abs()).max(step),
        }
    }

    /// The amount shown as in the text, e.g. "9300余人", "约19万平方米".
    pub fn describe(&self) -> String {
        let number = nianbao_core::number::fixed(self.written, self.decimals);
        let multiplier = if self.multiplier == 1e4 {
            "万"
        } else if self.multiplier == 1e8 {
            "亿"
        } else {
            ""
        };
        let upper = self
            .upper
            .map(|u| format!("-{}", nianbao_core::number::plain(u / self.multiplier)))
            .unwrap_or_default();
        match self.approx {
            Approx::Exact => format!("{number}{upper}{multiplier}{}", self.unit),
            Approx::AtLeast => format!("{number}{multiplier}余{}", self.unit),
            Approx::AtMost => format!("不足{number}{multiplier}{}", self.unit),
            Approx::About => format!("约{number}{multiplier}{}", self.unit),
        }
    }
}

/// The granularity of a round number: 9300 → 100, 630 → 10, 40 → 10, 7 → 1.
fn approx_step(value: f64) -> f64 {
    if value.fract() != 0.0 || value <= 0.0 {
        return 1.0;
    }
    let mut step = 1.0;
    let mut v = value as u64;
    while v >= 10 && v.is_multiple_of(10) {
        v /= 10;
        step *= 10.0;
    }
    step
}

/// A year used as a label ("2024年度", "2025年").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearLabel {
    pub year: i32,
    pub span: Range<usize>,
}

/// A fraction written in words ("九分之一" → 1/9).
#[derive(Debug, Clone, PartialEq)]
pub struct Fraction {
    pub numerator: f64,
    pub denominator: f64,
    pub span: Range<usize>,
}

/// A count written in Chinese numerals before a classifier ("六种", "七个").
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub value: u64,
    pub span: Range<usize>,
}

/// One number-like expression of a text.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Quantity(Quantity),
    Year(YearLabel),
    Fraction(Fraction),
    Counted(Counted),
}

impl Token {
    pub fn span(&self) -> Range<usize> {
        match self {
            Token::Quantity(q) => q.span.clone(),
            Token::Year(y) => y.span.clone(),
            Token::Fraction(f) => f.span.clone(),
            Token::Counted(c) => c.span.clone(),
        }
    }
}

/// Units, longest first so that "人次" wins over "人".
const UNITS: &[&str] = &[
    "个百分点",
    "平方公里",
    "平方米",
    "台套",
    "人次",
    "场次",
    "学时",
    "课时",
    "公顷",
    "百分点",
    "m²",
    "m2",
    "㎡",
    "GB",
    "TB",
    "人",
    "名",
    "项",
    "个",
    "所",
    "家",
    "门",
    "本",
    "册",
    "场",
    "次",
    "期",
    "篇",
    "件",
    "套",
    "台",
    "元",
    "天",
    "年",
    "岁",
    "%",
    "％",
    "‰",
    "亩",
    "间",
    "座",
    "张",
    "部",
    "条",
    "批",
    "支",
    "位",
    "届",
    "种",
    "类",
    "节",
    "周",
    "h",
];

/// Words after a number that make it something other than an amount (dates, addresses).
const NOT_AMOUNT_AFTER: &[char] = &['月', '日', '号', '时', '点', '·', '×', '/', '／', ':', '：'];

/// Words before a number that make it a label ("图3", "表 1", "第9届").
const LABEL_BEFORE: &[&str] = &[
    "第", "图", "表", "案例", "挑战", "附件", "No", "NO", "Top", "TOP",
];

/// Words that end in a label character but are not labels ("发表20篇", "代表3人").
const NOT_LABEL: &[&str] = &[
    "发表", "代表", "报表", "列表", "仪表", "外表", "地图", "意图", "蓝图", "版图", "试图", "绘图",
    "构图",
];

const PREFIX_APPROX: &[(&str, Approx)] = &[
    ("大约", Approx::About),
    ("将近", Approx::About),
    ("超过", Approx::AtLeast),
    ("多于", Approx::AtLeast),
    ("不足", Approx::AtMost),
    ("不到", Approx::AtMost),
    ("少于", Approx::AtMost),
    ("约", Approx::About),
    ("近", Approx::About),
    ("超", Approx::AtLeast),
    ("逾", Approx::AtLeast),
];

const SUFFIX_APPROX: &[(&str, Approx)] = &[
    ("以上", Approx::AtLeast),
    ("以下", Approx::AtMost),
    ("以内", Approx::AtMost),
    ("左右", Approx::About),
    ("多", Approx::AtLeast),
];

const RANGE_DASHES: &[char] = &['-', '－', '—', '–', '~', '～', '至', '到'];

/// Quote-like brackets whose content is a name, not a claim ("“33618”", "《榜样8》").
const QUOTES: &[(char, char)] = &[
    ('“', '”'),
    ('《', '》'),
    ('〔', '〕'),
    ('【', '】'),
    ('「', '」'),
    ('〈', '〉'),
];

const CHINESE_DIGITS: &str = "零〇一二两三四五六七八九十百千万";

/// Classifiers after which a Chinese numeral counts something.
const CLASSIFIERS: &[&str] = &[
    "个", "种", "类", "项", "名", "所", "家", "门", "大", "步", "维", "支", "条", "方面", "部分",
    "位", "层", "级", "阶", "化", "型",
];

fn digit_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{3000}' || c == '\u{a0}'
}

/// The value of a run of Chinese numerals ("二十三" → 23, "两" → 2), if it is one.
pub fn parse_chinese_int(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut section: u64 = 0;
    let mut digit: Option<u64> = None;
    for c in text.chars() {
        let d = match c {
            '零' | '〇' => Some(0),
            '一' => Some(1),
            '二' | '两' => Some(2),
            '三' => Some(3),
            '四' => Some(4),
            '五' => Some(5),
            '六' => Some(6),
            '七' => Some(7),
            '八' => Some(8),
            '九' => Some(9),
            _ => None,
        };
        if let Some(d) = d {
            digit = Some(d);
            continue;
        }
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            '万' => 10_000,
            _ => return None,
        };
        if unit == 10_000 {
            section = (section + digit.take().unwrap_or(0)).max(1);
            total = total.checked_add(section.checked_mul(unit)?)?;
            section = 0;
        } else {
            section = section.checked_add(digit.take().unwrap_or(1).checked_mul(unit)?)?;
        }
    }
    Some(total + section + digit.unwrap_or(0))
}

/// Scans a text for numbers, years, fractions and counted Chinese numerals.
pub fn scan(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map(|&(b, _)| b).unwrap_or(text.len());
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut quote_end: Option<usize> = None;
    while i < chars.len() {
        let (_, c) = chars[i];
        if quote_end.is_some_and(|end| i >= end) {
            quote_end = None;
        }
        if quote_end.is_none()
            && let Some(&(_, close)) = QUOTES.iter().find(|(open, _)| *open == c)
        {
            // Only a short quotation hides its numbers; a lone quote mark hides nothing.
            if let Some(offset) = chars[i + 1..]
                .iter()
                .take(24)
                .position(|&(_, d)| d == close)
            {
                quote_end = Some(i + 1 + offset);
            }
        }
        if quote_end.is_some() {
            i += 1;
            continue;
        }
        if digit_value(c).is_some() {
            let (token, next) = scan_number(text, &chars, i);
            if let Some(token) = token {
                tokens.push(token);
            }
            i = next.max(i + 1);
            continue;
        }
        if CHINESE_DIGITS.contains(c) && (i == 0 || !CHINESE_DIGITS.contains(chars[i - 1].1)) {
            let mut j = i;
            while j < chars.len() && CHINESE_DIGITS.contains(chars[j].1) {
                j += 1;
            }
            let run = &text[byte_at(i)..byte_at(j)];
            let rest = &text[byte_at(j)..];
            let before = &text[..byte_at(i)];
            if let Some(after) = rest.strip_prefix("分之") {
                let k = after
                    .chars()
                    .take_while(|c| CHINESE_DIGITS.contains(*c))
                    .count();
                let numerator_text: String = after.chars().take(k).collect();
                if let (Some(den), Some(num)) =
                    (parse_chinese_int(run), parse_chinese_int(&numerator_text))
                    && den > 0
                {
                    let end = byte_at(j) + "分之".len() + numerator_text.len();
                    tokens.push(Token::Fraction(Fraction {
                        numerator: num as f64,
                        denominator: den as f64,
                        span: byte_at(i)..end,
                    }));
                    i = j + 2 + k;
                    continue;
                }
            } else if !before.ends_with('第')
                && !before.ends_with("百分之")
                && CLASSIFIERS.iter().any(|c| rest.starts_with(c))
                && let Some(value) = parse_chinese_int(run)
            {
                tokens.push(Token::Counted(Counted {
                    value,
                    span: byte_at(i)..byte_at(j),
                }));
            }
            i = j;
            continue;
        }
        i += 1;
    }
    tokens
}

/// Reads the number starting at char `i`, with what surrounds it; returns the token (if the
/// number is an amount or a year) and the char index after it.
fn scan_number(text: &str, chars: &[(usize, char)], start: usize) -> (Option<Token>, usize) {
    let byte_at = |i: usize| chars.get(i).map(|&(b, _)| b).unwrap_or(text.len());
    let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let (mut value, mut decimals, i) = read_digits(chars, start);
    let digits = byte_at(start)..byte_at(i);
    let before = &text[..byte_at(start)];
    let before_trim = before.trim_end_matches(is_space);
    let prev = before_trim.chars().next_back();

    // Words glued to letters, formulas ("3+2"), labels and ordinals are not amounts.
    let glued_letter = before
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let formula = prev.is_some_and(|c| matches!(c, '+' | '＋' | '*' | '=' | '.' | '#' | '@'))
        || char_at(i).is_some_and(|c| matches!(c, '+' | '＋' | '*' | '='));
    let rank = before_trim.ends_with('前') && text[byte_at(i)..].starts_with('名');
    let label = rank
        || (LABEL_BEFORE.iter().any(|w| before_trim.ends_with(w))
            && !NOT_LABEL.iter().any(|w| before_trim.ends_with(w)));
    if glued_letter || formula || label {
        let mut j = i;
        while char_at(j).is_some_and(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '＋' | '.' | '-' | '*' | '=')
        }) {
            j += 1;
        }
        return (None, j.max(i));
    }

    // Years as labels: "2024年", "2024 年度", "2024—2025年", "2026届".
    let after = text[byte_at(i)..].trim_start_matches(is_space);
    let is_year_value = decimals == 0 && (1949.0..=2100.0).contains(&value) && digits.len() == 4;
    if is_year_value {
        let year = value as i32;
        if ["年", "届", "级", "学年"]
            .iter()
            .any(|w| after.starts_with(w))
        {
            let suffix = ["学年", "年度", "年", "届", "级"]
                .iter()
                .find(|w| after.starts_with(**w))
                .map_or(0, |w| w.len());
            let end = text.len() - after.len() + suffix;
            let next = chars.partition_point(|&(b, _)| b < end);
            return (
                Some(Token::Year(YearLabel {
                    year,
                    span: digits.start..end,
                })),
                next,
            );
        }
        let mut rest = after.chars();
        if rest.next().is_some_and(|c| RANGE_DASHES.contains(&c)) {
            let tail: String = rest.clone().take(4).collect();
            if tail.len() == 4
                && tail.chars().all(|c| c.is_ascii_digit())
                && rest.as_str()[4..]
                    .trim_start_matches(is_space)
                    .starts_with('年')
            {
                return (
                    Some(Token::Year(YearLabel {
                        year,
                        span: digits.clone(),
                    })),
                    i,
                );
            }
        }
    }
    if after.starts_with(|c: char| NOT_AMOUNT_AFTER.contains(&c)) && !after.starts_with("时间") {
        return (None, i);
    }

    // Approximation before the number.
    let mut approx = Approx::Exact;
    let mut span_start = digits.start;
    for (word, kind) in PREFIX_APPROX {
        if before_trim.ends_with(word) {
            approx = *kind;
            span_start = before_trim.len() - word.len();
            break;
        }
    }

    let mut k = i;
    let skip_spaces = |k: &mut usize| {
        while char_at(*k).is_some_and(is_space) {
            *k += 1;
        }
    };
    skip_spaces(&mut k);
    // "9300余人", "30多名"
    if let Some(c) = char_at(k)
        && (c == '余' || c == '多')
    {
        approx = Approx::AtLeast;
        k += 1;
    }
    let mut multiplier = 1.0;
    if let Some(c) = char_at(k)
        && (c == '万' || c == '亿')
    {
        multiplier = if c == '万' { 1e4 } else { 1e8 };
        k += 1;
        if char_at(k) == Some('余') || char_at(k) == Some('多') {
            approx = Approx::AtLeast;
            k += 1;
        }
    }
    skip_spaces(&mut k);
    let rest = &text[byte_at(k)..];
    let mut unit = String::new();
    if let Some(u) = UNITS.iter().find(|u| rest.starts_with(**u)) {
        unit = normalize_unit(u).to_string();
        k += u.chars().count();
    }
    // "20余人次" style already handled; "30人以上", "10场次以上"
    let rest = &text[byte_at(k)..];
    // "多" before another number compares ("5480万元多482万元"), it does not approximate.
    let compares = |word: &str| {
        word == "多"
            && rest[word.len()..]
                .trim_start_matches(is_space)
                .starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some((word, kind)) = SUFFIX_APPROX.iter().find(|(w, _)| rest.starts_with(w))
        && (*word != "多" || !unit.is_empty())
        && !compares(word)
    {
        approx = *kind;
        k += word.chars().count();
    }

    // Ranges: "1800元-2000元", "4-6门", "21-30岁".
    let mut upper = None;
    if let Some(c) = char_at(k)
        && RANGE_DASHES.contains(&c)
        && char_at(k + 1).and_then(digit_value).is_some()
    {
        let (second, second_decimals, after_second) = read_digits(chars, k + 1);
        let mut m = after_second;
        let mut second_multiplier = multiplier;
        if char_at(m) == Some('万') {
            second_multiplier = 1e4;
            m += 1;
        }
        let rest = &text[byte_at(m)..];
        let second_unit = UNITS.iter().find(|u| rest.starts_with(**u));
        if unit.is_empty()
            && let Some(u) = second_unit
        {
            unit = normalize_unit(u).to_string();
        }
        if let Some(u) = second_unit {
            m += u.chars().count();
        }
        if second >= value {
            upper = Some(second * second_multiplier);
            decimals = decimals.max(second_decimals);
            k = m;
        }
    }
    if unit == "年" && is_year_value {
        return (None, i);
    }
    if upper.is_none() && !value.is_finite() {
        value = 0.0;
    }
    let quantity = Quantity {
        written: value,
        value: value * multiplier,
        upper,
        unit,
        multiplier,
        approx,
        decimals,
        span: span_start..byte_at(k),
        digits,
    };
    (Some(Token::Quantity(quantity)), k)
}

/// Reads digits with thousands separators and decimals; returns value, decimals and the
/// char index after the number.
fn read_digits(chars: &[(usize, char)], start: usize) -> (f64, u32, usize) {
    let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let mut whole = String::new();
    let mut i = start;
    loop {
        match char_at(i).and_then(digit_value) {
            Some(d) => {
                whole.push(char::from_digit(d, 10).unwrap_or('0'));
                i += 1;
            }
            None => {
                // "12,345": a comma followed by exactly three digits groups thousands.
                let grouped = char_at(i) == Some(',')
                    && (1..=3).all(|k| char_at(i + k).and_then(digit_value).is_some())
                    && char_at(i + 4).and_then(digit_value).is_none();
                if grouped && !whole.is_empty() {
                    i += 1;
                    continue;
                }
                break;
            }
        }
    }
    let mut fraction = String::new();
    if matches!(char_at(i), Some('.') | Some('．'))
        && char_at(i + 1).and_then(digit_value).is_some()
    {
        i += 1;
        while let Some(d) = char_at(i).and_then(digit_value) {
            fraction.push(char::from_digit(d, 10).unwrap_or('0'));
            i += 1;
        }
    }
    let literal = if fraction.is_empty() {
        whole.clone()
    } else {
        format!("{whole}.{fraction}")
    };
    let value = literal.parse::<f64>().unwrap_or(0.0);
    (value, fraction.len() as u32, i)
}

fn normalize_unit(unit: &str) -> &str {
    match unit {
        "％" => "%",
        "平方米" | "m2" | "㎡" => "m²",
        "个百分点" => "百分点",
        other => other,
    }
}

/// Whether two units measure the same kind of thing and can be compared.
pub fn same_unit_family(a: &str, b: &str) -> bool {
    fn family(u: &str) -> &str {
        match u {
            "人" | "名" => "人",
            other => other,
        }
    }
    let (a, b) = (family(a), family(b));
    a == b || a.is_empty() || b.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantities(text: &str) -> Vec<Quantity> {
        scan(text)
            .into_iter()
            .filter_map(|t| match t {
                Token::Quantity(q) => Some(q),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn amounts_with_units_and_approximations() {
        let q = quantities(
            "在籍学生9300余人，约19万平方米，超40人次，生均用地面积35.41m²，8382.74万元",
        );
        assert_eq!(q.len(), 5);
        assert_eq!(
            (q[0].value, q[0].unit.as_str(), q[0].approx),
            (9300.0, "人", Approx::AtLeast)
        );
        assert!(q[0].holds(9313.0));
        assert!(!q[0].holds(9200.0));
        assert_eq!(
            (q[1].value, q[1].unit.as_str(), q[1].approx),
            (190000.0, "m²", Approx::About)
        );
        assert_eq!(
            (q[2].value, q[2].unit.as_str(), q[2].approx),
            (40.0, "人次", Approx::AtLeast)
        );
        assert_eq!((q[3].value, q[3].decimals), (35.41, 2));
        assert_eq!((q[4].value, q[4].unit.as_str()), (83827400.0, "元"));
    }

    #[test]
    fn ranges_years_and_labels() {
        let tokens = scan(
            "2025年学校生均公用经费为1800元-2000元，新增4-6门；图3：金课；第9届；“3+2”；3+4本科；2026 年 1 月 5 日",
        );
        let years: Vec<i32> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Year(y) => Some(y.year),
                _ => None,
            })
            .collect();
        assert_eq!(years, vec![2025, 2026]);
        let q = quantities("1800元-2000元，新增4-6门");
        assert_eq!(q[0].upper, Some(2000.0));
        assert_eq!(
            (q[1].value, q[1].upper, q[1].unit.as_str()),
            (4.0, Some(6.0), "门")
        );
        assert!(quantities("图3：金课；第9届；“3+2”；3+4本科；1 月 5 日").is_empty());
    }

    #[test]
    fn chinese_numerals_and_fractions() {
        assert_eq!(parse_chinese_int("二十三"), Some(23));
        assert_eq!(parse_chinese_int("十一"), Some(11));
        assert_eq!(parse_chinese_int("两"), Some(2));
        assert_eq!(parse_chinese_int("一万二千"), Some(12000));
        let tokens = scan("占总数的九分之一，开设六种办学层次，第三届");
        assert!(
            matches!(&tokens[0], Token::Fraction(f) if f.numerator == 1.0 && f.denominator == 9.0)
        );
        assert!(matches!(&tokens[1], Token::Counted(c) if c.value == 6));
        assert_eq!(tokens.len(), 2);
    }

    #[test]
    fn thousands_and_full_width() {
        let q = quantities("共１２人，合计12,345人，占比６０％");
        assert_eq!(q[0].value, 12.0);
        assert_eq!(q[1].value, 12345.0);
        assert_eq!((q[2].value, q[2].unit.as_str()), (60.0, "%"));
    }
}
