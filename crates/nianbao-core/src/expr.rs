//! The small expression language in which rules and indicators are written.
//!
//! An expression names facts by element code and combines them:
//!
//! ```text
//! staff.total                              a fact of the year being checked
//! staff.establishment + staff.external     arithmetic: + - * / and parentheses
//! prev(students.enrolled_total)            the same expression one year earlier
//! sum(major.intake)                        summed over every major
//! sum(major.enrolled, "信息技术类")         summed over the majors of one 专业大类
//! pct(a, b)  change(x)  abs(x)  min(a, b)  max(a, b)  round(x, 1)
//! ```
//!
//! A condition compares two expressions with `==`, `<=`, `>=`, `<` or `>`.
//! A fact that was not reported makes the whole expression undefined, so a rule
//! about a year without data is skipped instead of failing.

use std::fmt;

use crate::catalogue::{Dimension, ElementCatalogue};
use crate::dataset::{Dataset, FactKey, Year};
use crate::number;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    Fact(String),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Prev(Box<Expr>),
    Sum {
        body: Box<Expr>,
        category: Option<String>,
    },
    Pct(Box<Expr>, Box<Expr>),
    Change(Box<Expr>),
    Abs(Box<Expr>),
    Min(Box<Expr>, Box<Expr>),
    Max(Box<Expr>, Box<Expr>),
    Round(Box<Expr>, u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "−",
            BinOp::Mul => "×",
            BinOp::Div => "÷",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
        }
    }
}

/// How the two sides of a condition must relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    AtMost,
    AtLeast,
    Less,
    Greater,
}

impl CompareOp {
    /// The Chinese phrase for "found should be … expected".
    pub fn phrase(self) -> &'static str {
        match self {
            CompareOp::Equal => "应等于",
            CompareOp::AtMost => "应不超过",
            CompareOp::AtLeast => "应不少于",
            CompareOp::Less => "应小于",
            CompareOp::Greater => "应大于",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Equal => "=",
            CompareOp::AtMost => "≤",
            CompareOp::AtLeast => "≥",
            CompareOp::Less => "<",
            CompareOp::Greater => ">",
        }
    }

    /// Whether `left op right` holds, allowing `tolerance` of slack.
    pub fn holds(self, left: f64, right: f64, tolerance: f64) -> bool {
        // A hair of slack absorbs binary floating-point noise in sums of decimals.
        let slack = tolerance + 1e-9 * left.abs().max(right.abs()).max(1.0);
        match self {
            CompareOp::Equal => (left - right).abs() <= slack,
            CompareOp::AtMost => left <= right + slack,
            CompareOp::AtLeast => left + slack >= right,
            CompareOp::Less => left < right + tolerance,
            CompareOp::Greater => left + tolerance > right,
        }
    }
}

/// A comparison of two expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub left: Expr,
    pub op: CompareOp,
    pub right: Expr,
}

/// A syntax error, with the character position where it was noticed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("表达式第 {position} 个字符处：{message}")]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

/// An expression that parses but does not fit the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("未知的数据项 `{0}`")]
    UnknownElement(String),
    #[error("数据项 `{0}` 按专业填报，只能在 sum(…) 中或逐专业规则里使用")]
    MajorElementOutsideMajor(String),
    #[error("sum(…) 不能嵌套使用")]
    NestedSum,
}

/// Where an expression is evaluated: which dataset, which year, and optionally which major.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub data: &'a Dataset,
    pub year: Year,
    pub major: Option<&'a str>,
}

impl<'a> Scope<'a> {
    pub fn new(data: &'a Dataset, year: Year) -> Scope<'a> {
        Scope {
            data,
            year,
            major: None,
        }
    }

    fn with_year(self, year: Year) -> Scope<'a> {
        Scope { year, ..self }
    }

    fn with_major(self, major: &'a str) -> Scope<'a> {
        Scope {
            major: Some(major),
            ..self
        }
    }
}

/// The value of an expression and the facts it was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub value: f64,
    pub inputs: Vec<FactKey>,
}

impl Expr {
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        let mut parser = Parser::new(source);
        let expr = parser.sum()?;
        parser.expect_end()?;
        Ok(expr)
    }

    /// Checks every fact the expression names against the catalogue.
    /// `in_major` says whether it is evaluated once per major.
    pub fn validate(&self, catalogue: &ElementCatalogue, in_major: bool) -> Result<(), EvalError> {
        match self {
            Expr::Number(_) => Ok(()),
            Expr::Fact(code) => match catalogue.get(code) {
                None => Err(EvalError::UnknownElement(code.clone())),
                Some(e) if e.dimension == Dimension::Major && !in_major => {
                    Err(EvalError::MajorElementOutsideMajor(code.clone()))
                }
                Some(_) => Ok(()),
            },
            Expr::Sum { body, .. } => {
                if in_major {
                    return Err(EvalError::NestedSum);
                }
                body.validate(catalogue, true)
            }
            other => other
                .children()
                .try_for_each(|c| c.validate(catalogue, in_major)),
        }
    }

    /// Every element code the expression names.
    pub fn elements(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_elements(&mut out);
        out
    }

    fn collect_elements<'a>(&'a self, out: &mut Vec<&'a str>) {
        if let Expr::Fact(code) = self
            && !out.contains(&code.as_str())
        {
            out.push(code);
        }
        for child in self.children() {
            child.collect_elements(out);
        }
    }

    fn children(&self) -> Box<dyn Iterator<Item = &Expr> + '_> {
        match self {
            Expr::Number(_) | Expr::Fact(_) => Box::new(std::iter::empty()),
            Expr::Neg(a) | Expr::Prev(a) | Expr::Change(a) | Expr::Abs(a) | Expr::Round(a, _) => {
                Box::new(std::iter::once(a.as_ref()))
            }
            Expr::Sum { body, .. } => Box::new(std::iter::once(body.as_ref())),
            Expr::Binary(_, a, b) | Expr::Pct(a, b) | Expr::Min(a, b) | Expr::Max(a, b) => {
                Box::new([a.as_ref(), b.as_ref()].into_iter())
            }
        }
    }

    /// Evaluates the expression; `None` when a fact it needs was not reported or a
    /// denominator is zero.
    pub fn eval(&self, scope: Scope<'_>) -> Option<Value> {
        let mut inputs = Vec::new();
        let value = self.eval_into(scope, Some(&mut inputs))?;
        Some(Value { value, inputs })
    }

    /// The value alone, as [`Expr::eval`] computes it, without recording the facts it was
    /// computed from (no allocation: what the checks of many schools need first).
    pub fn value(&self, scope: Scope<'_>) -> Option<f64> {
        self.eval_into(scope, None)
    }

    fn eval_into(&self, scope: Scope<'_>, mut inputs: Option<&mut Vec<FactKey>>) -> Option<f64> {
        match self {
            Expr::Number(n) => Some(*n),
            Expr::Fact(code) => {
                let value = scope.data.lookup(scope.year, code, scope.major)?;
                if let Some(inputs) = inputs
                    && !inputs.iter().any(|k| {
                        k.year == scope.year
                            && k.element == *code
                            && k.major.as_deref() == scope.major
                    })
                {
                    inputs.push(FactKey {
                        year: scope.year,
                        element: code.clone(),
                        major: scope.major.map(str::to_string),
                    });
                }
                Some(value)
            }
            Expr::Neg(a) => Some(-a.eval_into(scope, inputs)?),
            Expr::Binary(op, a, b) => {
                let a = a.eval_into(scope, inputs.as_deref_mut())?;
                let b = b.eval_into(scope, inputs)?;
                match op {
                    BinOp::Add => Some(a + b),
                    BinOp::Sub => Some(a - b),
                    BinOp::Mul => Some(a * b),
                    BinOp::Div => divide(a, b),
                }
            }
            Expr::Prev(a) => a.eval_into(scope.with_year(scope.year.back(1)?), inputs),
            Expr::Sum { body, category } => {
                let mut total = None;
                for major in &scope.data.majors {
                    if category.as_deref().is_some_and(|c| c != major.category) {
                        continue;
                    }
                    if let Some(v) =
                        body.eval_into(scope.with_major(&major.name), inputs.as_deref_mut())
                    {
                        total = Some(total.unwrap_or(0.0) + v);
                    }
                }
                total
            }
            Expr::Pct(a, b) => {
                let a = a.eval_into(scope, inputs.as_deref_mut())?;
                let b = b.eval_into(scope, inputs)?;
                divide(100.0 * a, b)
            }
            Expr::Change(a) => {
                let now = a.eval_into(scope, inputs.as_deref_mut())?;
                let before = a.eval_into(scope.with_year(scope.year.back(1)?), inputs)?;
                divide(100.0 * (now - before), before)
            }
            Expr::Abs(a) => Some(a.eval_into(scope, inputs)?.abs()),
            Expr::Min(a, b) => {
                let a = a.eval_into(scope, inputs.as_deref_mut())?;
                Some(a.min(b.eval_into(scope, inputs)?))
            }
            Expr::Max(a, b) => {
                let a = a.eval_into(scope, inputs.as_deref_mut())?;
                Some(a.max(b.eval_into(scope, inputs)?))
            }
            Expr::Round(a, places) => Some(number::round_to(a.eval_into(scope, inputs)?, *places)),
        }
    }

    /// The expression with element codes replaced by their Chinese names.
    pub fn describe(&self, catalogue: &ElementCatalogue) -> String {
        self.render(&|code| catalogue.name(code).to_string())
    }

    /// The expression with each fact replaced by its value in `scope` ("380 + 188").
    pub fn substitute(&self, scope: Scope<'_>) -> String {
        self.render_in(Some(scope), &|code| code.to_string())
    }

    fn render(&self, leaf: &dyn Fn(&str) -> String) -> String {
        self.render_in(None, leaf)
    }

    fn render_in(&self, scope: Option<Scope<'_>>, leaf: &dyn Fn(&str) -> String) -> String {
        let r = |e: &Expr| e.render_in(scope, leaf);
        match self {
            Expr::Number(n) => number::plain(*n),
            Expr::Fact(code) => match scope {
                Some(s) => s
                    .data
                    .lookup(s.year, code, s.major)
                    .map(number::plain)
                    .unwrap_or_else(|| "？".into()),
                None => leaf(code),
            },
            Expr::Neg(a) => format!("−{}", wrap(a, 3, &r)),
            Expr::Binary(op, a, b) => {
                let p = op.precedence();
                let right_needs = if matches!(op, BinOp::Sub | BinOp::Div) {
                    p + 1
                } else {
                    p
                };
                format!(
                    "{} {} {}",
                    wrap(a, p, &r),
                    op.symbol(),
                    wrap(b, right_needs, &r)
                )
            }
            Expr::Prev(a) => match scope {
                Some(s) => match s.year.back(1) {
                    Some(y) => a.render_in(Some(s.with_year(y)), leaf),
                    None => "？".into(),
                },
                None => format!("上一年度{}", r(a)),
            },
            Expr::Sum { body, category } => match scope {
                Some(s) => {
                    let values: Vec<f64> = s
                        .data
                        .majors
                        .iter()
                        .filter(|m| category.as_deref().is_none_or(|c| c == m.category))
                        .filter_map(|m| body.eval(s.with_major(&m.name)).map(|v| v.value))
                        .collect();
                    if values.len() > 6 {
                        let total: f64 = values.iter().sum();
                        format!("{}个专业合计 {}", values.len(), number::plain(total))
                    } else {
                        values
                            .iter()
                            .map(|v| number::plain(*v))
                            .collect::<Vec<_>>()
                            .join(" + ")
                    }
                }
                None => match category {
                    Some(c) => format!("{c}各专业{}之和", r(body)),
                    None => format!("各专业{}之和", r(body)),
                },
            },
            Expr::Pct(a, b) => format!("{} ÷ {} × 100%", wrap(a, 2, &r), wrap(b, 3, &r)),
            Expr::Change(a) => match scope {
                Some(s) => match s.year.back(1) {
                    Some(y) => {
                        let before = a.render_in(Some(s.with_year(y)), leaf);
                        format!("({} − {}) ÷ {} × 100%", r(a), before, before)
                    }
                    None => "？".into(),
                },
                None => format!("{}同比变化率", r(a)),
            },
            Expr::Abs(a) => format!("|{}|", r(a)),
            Expr::Min(a, b) => format!("min({}, {})", r(a), r(b)),
            Expr::Max(a, b) => format!("max({}, {})", r(a), r(b)),
            Expr::Round(a, places) => format!("round({}, {places})", r(a)),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Binary(op, ..) => op.precedence(),
            Expr::Pct(..) => 2,
            _ => 4,
        }
    }
}

fn wrap(e: &Expr, min: u8, render: &dyn Fn(&Expr) -> String) -> String {
    if e.precedence() < min {
        format!("({})", render(e))
    } else {
        render(e)
    }
}

fn divide(a: f64, b: f64) -> Option<f64> {
    if b == 0.0 { None } else { Some(a / b) }
}

impl Condition {
    pub fn parse(source: &str) -> Result<Condition, ParseError> {
        let mut parser = Parser::new(source);
        let left = parser.sum()?;
        parser.skip_space();
        let position = parser.pos;
        let op = parser.compare_op().ok_or_else(|| ParseError {
            position,
            message: "此处应为比较运算符 ==、<=、>=、< 或 >".into(),
        })?;
        let right = parser.sum()?;
        parser.expect_end()?;
        Ok(Condition { left, op, right })
    }

    pub fn validate(&self, catalogue: &ElementCatalogue, in_major: bool) -> Result<(), EvalError> {
        self.left.validate(catalogue, in_major)?;
        self.right.validate(catalogue, in_major)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&|code| code.to_string()))
    }
}

struct Parser<'s> {
    chars: Vec<char>,
    pos: usize,
    _source: &'s str,
}

impl<'s> Parser<'s> {
    fn new(source: &'s str) -> Parser<'s> {
        Parser {
            chars: source.chars().collect(),
            pos: 0,
            _source: source,
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            position: self.pos + 1,
            message: message.into(),
        })
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, expected: char) -> Result<(), ParseError> {
        if self.eat(expected) {
            Ok(())
        } else {
            self.error(format!("此处应为 `{expected}`"))
        }
    }

    fn expect_end(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(c) => self.error(format!("多余的字符 `{c}`")),
        }
    }

    fn compare_op(&mut self) -> Option<CompareOp> {
        let two: String = self.chars.iter().skip(self.pos).take(2).collect();
        let (op, len) = match two.as_str() {
            "==" => (CompareOp::Equal, 2),
            "<=" => (CompareOp::AtMost, 2),
            ">=" => (CompareOp::AtLeast, 2),
            _ if two.starts_with('<') => (CompareOp::Less, 1),
            _ if two.starts_with('>') => (CompareOp::Greater, 1),
            _ => return None,
        };
        self.pos += len;
        Some(op)
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Some('+') => BinOp::Add,
                Some('-') => BinOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.product()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some('*') => BinOp::Mul,
                Some('/') => BinOp::Div,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat('-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                let inner = self.sum()?;
                self.expect(')')?;
                Ok(inner)
            }
            Some(c) if c.is_ascii_digit() => self.number(),
            Some(c) if c.is_ascii_lowercase() || c == '_' => {
                let name = self.identifier();
                if self.peek() == Some('(') {
                    self.pos += 1;
                    self.call(&name)
                } else {
                    Ok(Expr::Fact(name))
                }
            }
            Some(c) => self.error(format!("此处不应出现 `{c}`")),
            None => self.error("表达式不完整"),
        }
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || *c == '.')
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.parse::<f64>() {
            Ok(n) => Ok(Expr::Number(n)),
            Err(_) => Err(ParseError {
                position: start + 1,
                message: format!("`{text}` 不是数字"),
            }),
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '.')
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.expect('"')?;
        let start = self.pos;
        while self.chars.get(self.pos).is_some_and(|c| *c != '"') {
            self.pos += 1;
        }
        if self.pos >= self.chars.len() {
            return self.error("字符串缺少结尾的引号");
        }
        let text = self.chars[start..self.pos].iter().collect();
        self.pos += 1;
        Ok(text)
    }

    fn call(&mut self, name: &str) -> Result<Expr, ParseError> {
        let one = |p: &mut Self| -> Result<Box<Expr>, ParseError> { Ok(Box::new(p.sum()?)) };
        let expr = match name {
            "prev" => Expr::Prev(one(self)?),
            "abs" => Expr::Abs(one(self)?),
            "change" => Expr::Change(one(self)?),
            "sum" => {
                let body = one(self)?;
                let category = if self.eat(',') {
                    Some(self.string()?)
                } else {
                    None
                };
                Expr::Sum { body, category }
            }
            "pct" | "min" | "max" => {
                let a = one(self)?;
                self.expect(',')?;
                let b = one(self)?;
                match name {
                    "pct" => Expr::Pct(a, b),
                    "min" => Expr::Min(a, b),
                    _ => Expr::Max(a, b),
                }
            }
            "round" => {
                let a = one(self)?;
                self.expect(',')?;
                self.skip_space();
                let start = self.pos;
                match self.number()? {
                    Expr::Number(n) if n.fract() == 0.0 && (0.0..=10.0).contains(&n) => {
                        Expr::Round(a, n as u32)
                    }
                    _ => {
                        return Err(ParseError {
                            position: start + 1,
                            message: "小数位数应为 0 到 10 的整数".into(),
                        });
                    }
                }
            }
            other => return self.error(format!("未知的函数 `{other}`")),
        };
        self.expect(')')?;
        Ok(expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Element, ValueKind};
    use crate::dataset::{Major, School};

    fn catalogue() -> ElementCatalogue {
        let e = |code: &str, name: &str, dimension| Element {
            code: code.into(),
            name: name.into(),
            unit: "人".into(),
            kind: ValueKind::Count,
            dimension,
            section: String::new(),
            register: None,
            max: None,
        };
        ElementCatalogue::new(vec![
            e("staff.total", "教职工总数", Dimension::School),
            e("staff.establishment", "在编", Dimension::School),
            e("staff.external", "外聘", Dimension::School),
            e("major.intake", "招生人数", Dimension::Major),
        ])
        .unwrap()
    }

    fn data() -> Dataset {
        let y = |n| Year::new(n).unwrap();
        let mut d = Dataset::new(School::default());
        d.majors.push(Major {
            name: "甲".into(),
            category: "A类".into(),
            department: String::new(),
        });
        d.majors.push(Major {
            name: "乙".into(),
            category: "B类".into(),
            department: String::new(),
        });
        d.set(FactKey::school(y(2024), "staff.total"), 576.0);
        d.set(FactKey::school(y(2024), "staff.establishment"), 380.0);
        d.set(FactKey::school(y(2024), "staff.external"), 188.0);
        d.set(FactKey::school(y(2023), "staff.total"), 585.0);
        d.set(FactKey::major(y(2024), "major.intake", "甲"), 10.0);
        d.set(FactKey::major(y(2024), "major.intake", "乙"), 5.0);
        d
    }

    /// The value of an expression in 2024, checking that the value alone (without inputs)
    /// is the same number, to the bit.
    fn eval(src: &str) -> Option<f64> {
        let d = data();
        let expr = Expr::parse(src).unwrap();
        let scope = Scope::new(&d, Year::new(2024).unwrap());
        let full = expr.eval(scope).map(|v| v.value);
        assert_eq!(
            full.map(f64::to_bits),
            expr.value(scope).map(f64::to_bits),
            "{src}"
        );
        full
    }

    #[test]
    fn arithmetic_follows_precedence() {
        assert_eq!(eval("1 + 2 * 3"), Some(7.0));
        assert_eq!(eval("(1 + 2) * 3"), Some(9.0));
        assert_eq!(eval("10 - 4 - 3"), Some(3.0));
        assert_eq!(eval("-2 * 3"), Some(-6.0));
        assert_eq!(eval("1 / 0"), None);
    }

    #[test]
    fn facts_years_and_sums() {
        assert_eq!(eval("staff.establishment + staff.external"), Some(568.0));
        assert_eq!(eval("prev(staff.total)"), Some(585.0));
        assert_eq!(eval("prev(prev(staff.total))"), None);
        assert_eq!(eval("sum(major.intake)"), Some(15.0));
        assert_eq!(eval("sum(major.intake, \"B类\")"), Some(5.0));
        assert_eq!(eval("round(change(staff.total), 2)"), Some(-1.54));
        assert_eq!(
            eval("pct(staff.external, staff.total)").map(|v| number::round_to(v, 1)),
            Some(32.6)
        );
    }

    #[test]
    fn inputs_are_recorded() {
        let d = data();
        let v = Expr::parse("staff.establishment + staff.external")
            .unwrap()
            .eval(Scope::new(&d, Year::new(2024).unwrap()))
            .unwrap();
        assert_eq!(v.inputs.len(), 2);
        assert_eq!(v.inputs[0].element, "staff.establishment");
    }

    #[test]
    fn describe_and_substitute() {
        let d = data();
        let e = Expr::parse("staff.establishment + staff.external").unwrap();
        assert_eq!(e.describe(&catalogue()), "在编 + 外聘");
        assert_eq!(
            e.substitute(Scope::new(&d, Year::new(2024).unwrap())),
            "380 + 188"
        );
        let e = Expr::parse("(staff.total - staff.external) / 2").unwrap();
        assert_eq!(e.describe(&catalogue()), "(教职工总数 − 外聘) ÷ 2");
    }

    #[test]
    fn validation_knows_the_catalogue() {
        let c = catalogue();
        assert_eq!(
            Expr::parse("staff.nothing").unwrap().validate(&c, false),
            Err(EvalError::UnknownElement("staff.nothing".into()))
        );
        assert!(matches!(
            Expr::parse("major.intake").unwrap().validate(&c, false),
            Err(EvalError::MajorElementOutsideMajor(_))
        ));
        assert!(
            Expr::parse("sum(major.intake)")
                .unwrap()
                .validate(&c, false)
                .is_ok()
        );
    }

    #[test]
    fn syntax_errors_point_at_the_problem() {
        let err = Expr::parse("1 + * 2").unwrap_err();
        assert_eq!(err.position, 5);
        assert!(Expr::parse("foo(1)").unwrap_err().message.contains("foo"));
        assert!(Condition::parse("a + b").is_err());
        let c = Condition::parse("staff.total == staff.establishment + staff.external").unwrap();
        assert_eq!(c.op, CompareOp::Equal);
    }
}
