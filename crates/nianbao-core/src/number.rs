//! Rounding and printing numbers the way a Chinese report prints them.
//!
//! [`Style`] is the one place that decides how a printed number looks — thousands separators
//! and decimals — per kind of element ([`Style::of`]); the report's tables and its text both
//! print through it, so a figure reads the same wherever it appears ("2,887", "4,181.30").

use crate::catalogue::ValueKind;

/// Whether printed numbers separate thousands with commas ("9,313"): one setting for every
/// number the report prints, in tables and in text alike.
pub const THOUSANDS_SEPARATOR: bool = true;

/// How many decimals a printed number shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimals {
    /// Always this many: 2 → "4,181.30", "12.00".
    Exactly(u32),
    /// As many as the value has, up to this many, without trailing zeros: 2 → "96.8", "100".
    UpTo(u32),
    /// None for a whole value, else exactly this many: 2 → "1,927", "4,181.30".
    WholeOrExactly(u32),
}

/// How a number is printed: its decimals, and whether thousands are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub decimals: Decimals,
    pub thousands: bool,
}

impl Style {
    /// Counts (人, 个, 项, 册 …): whole numbers, "2,887".
    pub const COUNT: Style = Style::new(Decimals::Exactly(0));
    /// Amounts (万元, m²): none for a whole value, else two decimals, "4,181.30".
    pub const AMOUNT: Style = Style::new(Decimals::WholeOrExactly(2));
    /// Percentages, changes and ratios as entered, up to two decimals: "96.8", "98.62", "100".
    pub const PERCENT: Style = Style::new(Decimals::UpTo(2));
    /// Shares and growth rates the report computes itself: one decimal, "31.7".
    pub const COMPUTED_PERCENT: Style = Style::new(Decimals::Exactly(1));
    /// A number of unknown kind in the text (`num` without decimals): printed as an amount,
    /// which prints a count (always whole) exactly as [`Style::COUNT`] does.
    pub const NUMBER: Style = Style::AMOUNT;

    pub const fn new(decimals: Decimals) -> Style {
        Style {
            decimals,
            thousands: THOUSANDS_SEPARATOR,
        }
    }

    /// A fixed number of decimals, asked for explicitly (`num(2)`, an indicator's decimals).
    pub const fn exactly(decimals: u32) -> Style {
        Style::new(Decimals::Exactly(decimals))
    }

    /// The style of an element's values.
    pub fn of(kind: ValueKind) -> Style {
        match kind {
            ValueKind::Count => Style::COUNT,
            ValueKind::Amount => Style::AMOUNT,
            ValueKind::Percent | ValueKind::Change | ValueKind::Ratio => Style::PERCENT,
        }
    }

    /// Prints a value in this style.
    pub fn format(self, value: f64) -> String {
        let text = match self.decimals {
            Decimals::Exactly(d) => fixed(value, d),
            Decimals::UpTo(d) => {
                let text = fixed(value, d);
                if text.contains('.') {
                    text.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    text
                }
            }
            Decimals::WholeOrExactly(d) => {
                if round_to(value, d).fract() == 0.0 {
                    fixed(value, 0)
                } else {
                    fixed(value, d)
                }
            }
        };
        // A value that rounds to zero prints as "0", never "-0".
        let text = match text.strip_prefix('-') {
            Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
            _ => text,
        };
        if self.thousands {
            group_thousands(&text)
        } else {
            text
        }
    }
}

/// A number printed on the stack: long enough for any `f64` in its shortest form, which
/// never uses an exponent (the smallest subnormal prints 326 characters), so that rounding
/// and counting decimals allocate nothing.
struct Printed {
    bytes: [u8; 400],
    len: usize,
}

impl Printed {
    fn new() -> Printed {
        Printed {
            bytes: [0; 400],
            len: 0,
        }
    }

    /// `value` in its shortest form ("2.675", "50").
    fn of(value: f64) -> Printed {
        use std::fmt::Write;
        let mut printed = Printed::new();
        // Cannot fail: every finite or infinite f64 fits.
        let _ = write!(printed, "{value}");
        printed
    }

    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl std::fmt::Write for Printed {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Rounds half away from zero to `decimals` places, as printed figures are rounded.
pub fn round_to(value: f64, decimals: u32) -> f64 {
    // A whole value prints without decimals: nothing to round.
    if !value.is_finite() || value.fract() == 0.0 {
        return value;
    }
    // Round the shortest decimal form that prints this value, so 2.675 (stored as
    // 2.67499…) rounds as written and large values never gain digits they did not have.
    let written = Printed::of(value.abs());
    let written = written.as_bytes();
    let Some(dot) = written.iter().position(|b| *b == b'.') else {
        return value;
    };
    let (whole, fraction) = (&written[..dot], &written[dot + 1..]);
    let keep = decimals as usize;
    if fraction.len() <= keep {
        return value;
    }
    // The kept digits, after one spare place for a carry out of the first digit.
    let mut digits = Printed::new();
    digits.push(b'0');
    for &digit in whole.iter().chain(&fraction[..keep]) {
        digits.push(digit);
    }
    let mut first = 1;
    if fraction[keep] >= b'5' {
        let len = digits.len;
        if carry_one(&mut digits.bytes[1..len]) {
            digits.bytes[0] = b'1';
            first = 0;
        }
    }
    let digits = &digits.as_bytes()[first..];
    let split = digits.len() - keep;
    let mut text = Printed::new();
    if value < 0.0 {
        text.push(b'-');
    }
    for &digit in &digits[..split] {
        text.push(digit);
    }
    if keep > 0 {
        text.push(b'.');
        for &digit in &digits[split..] {
            text.push(digit);
        }
    }
    text.as_str().parse().unwrap_or(value)
}

/// Adds one in the last place of a string of ASCII decimal digits; true when it carries
/// out of the first digit (every digit was 9 and is now 0).
fn carry_one(digits: &mut [u8]) -> bool {
    for digit in digits.iter_mut().rev() {
        if *digit == b'9' {
            *digit = b'0';
        } else {
            *digit += 1;
            return false;
        }
    }
    true
}

/// How many decimals a value shows when printed in its shortest form (35.41 → 2, 50 → 0).
pub fn printed_decimals(value: f64) -> u32 {
    if value.fract() == 0.0 {
        return 0;
    }
    let text = Printed::of(value);
    match text.as_str().split_once('.') {
        Some((_, fraction)) => fraction.len() as u32,
        None => 0,
    }
}

/// Half a unit in the last printed place: the largest error rounding can explain.
pub fn rounding_tolerance(value: f64) -> f64 {
    0.5 * 10f64.powi(-(printed_decimals(value) as i32))
}

/// Prints a value at a fixed number of decimals, without a thousands separator.
pub fn fixed(value: f64, decimals: u32) -> String {
    format!("{:.*}", decimals as usize, round_to(value, decimals))
}

/// Prints a value in its shortest exact form, trimming a float's noise (0.1 + 0.2 → 0.3).
pub fn plain(value: f64) -> String {
    let rounded = round_to(value, 6);
    let text = format!("{rounded}");
    if text == "-0" { "0".to_string() } else { text }
}

/// Prints a value with thousands separators and `decimals` places (9313 → "9,313").
pub fn grouped(value: f64, decimals: u32) -> String {
    group_thousands(&fixed(value, decimals))
}

/// Inserts commas between groups of three digits of a printed number's whole part.
fn group_thousands(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Rounding as first written, with a `String` for each step: the reference that
    /// [`round_to`] must equal to the bit.
    fn round_to_by_strings(value: f64, decimals: u32) -> f64 {
        if !value.is_finite() {
            return value;
        }
        let written = format!("{}", value.abs());
        let Some((whole, fraction)) = written.split_once('.') else {
            return value;
        };
        let keep = decimals as usize;
        if fraction.len() <= keep {
            return value;
        }
        let mut digits: Vec<u8> = whole.bytes().chain(fraction.bytes().take(keep)).collect();
        if fraction.as_bytes()[keep] >= b'5' && carry_one(&mut digits) {
            digits.insert(0, b'1');
        }
        let split = digits.len() - keep;
        let mut text = String::new();
        if value < 0.0 {
            text.push('-');
        }
        text.push_str(std::str::from_utf8(&digits[..split]).unwrap());
        if keep > 0 {
            text.push('.');
            text.push_str(std::str::from_utf8(&digits[split..]).unwrap());
        }
        text.parse().unwrap_or(value)
    }

    proptest! {
        #[test]
        fn rounding_on_the_stack_equals_rounding_by_strings(
            bits in any::<u64>(),
            scaled in -1_000_000_000i64..1_000_000_000,
            places in 0u32..12,
            decimals in 0u32..11,
        ) {
            let exact = scaled as f64 / 10f64.powi(places as i32);
            for value in [f64::from_bits(bits), exact, exact * 1e-300, exact * 1e290] {
                prop_assert_eq!(
                    round_to(value, decimals).to_bits(),
                    round_to_by_strings(value, decimals).to_bits(),
                    "{} to {} places", value, decimals
                );
                prop_assert_eq!(
                    printed_decimals(value) as usize,
                    format!("{value}").split_once('.').map_or(0, |(_, f)| f.len())
                );
            }
        }
    }

    #[test]
    fn the_longest_numbers_round_and_count() {
        let tiny = f64::from_bits(1);
        assert_eq!(printed_decimals(tiny), 324);
        assert_eq!(printed_decimals(-tiny), 324);
        assert_eq!(
            round_to(-tiny, 2).to_bits(),
            round_to_by_strings(-tiny, 2).to_bits()
        );
        assert_eq!(round_to(f64::MAX, 2), f64::MAX);
        assert_eq!(round_to(-f64::MAX, 0), -f64::MAX);
        assert_eq!(round_to(999.996, 2), 1000.0);
        assert_eq!(round_to(-9.5, 0), -10.0);
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_to(2.675, 2), 2.68);
        assert_eq!(round_to(18.738, 1), 18.7);
        assert_eq!(round_to(-0.05, 1), -0.1);
        assert_eq!(round_to(9.995, 2), 10.0);
        assert_eq!(round_to(-99.96, 1), -100.0);
        assert_eq!(round_to(0.4, 0), 0.0);
        assert_eq!(round_to(f64::INFINITY, 2), f64::INFINITY);
    }

    #[test]
    fn printed_precision() {
        assert_eq!(printed_decimals(35.41), 2);
        assert_eq!(printed_decimals(50.0), 0);
        assert_eq!(rounding_tolerance(18.7), 0.05);
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(9313.0, 0), "9,313");
        assert_eq!(grouped(329800.11, 2), "329,800.11");
        assert_eq!(grouped(-1234567.0, 0), "-1,234,567");
        assert_eq!(grouped(12.0, 1), "12.0");
        assert_eq!(plain(0.1 + 0.2), "0.3");
        assert_eq!(plain(1e8), "100000000");
        assert_eq!(plain(123_456_789_012.0), "123456789012");
        assert_eq!(plain(-2.5e9), "-2500000000");
        assert_eq!(round_to(1.005, 2), 1.01);
        assert_eq!(round_to(0.145, 2), 0.15);
        assert_eq!(round_to(1e12 + 0.25, 1), 1e12 + 0.3);
    }

    #[test]
    fn each_kind_prints_in_its_style() {
        let count = Style::of(ValueKind::Count);
        assert_eq!(count.format(2887.0), "2,887");
        assert_eq!(count.format(12.0), "12");
        let amount = Style::of(ValueKind::Amount);
        assert_eq!(amount.format(4181.3), "4,181.30");
        assert_eq!(amount.format(1927.0), "1,927");
        assert_eq!(amount.format(329800.11), "329,800.11");
        assert_eq!(amount.format(7571.999), "7,572");
        let percent = Style::of(ValueKind::Percent);
        assert_eq!(percent.format(96.8), "96.8");
        assert_eq!(percent.format(98.62), "98.62");
        assert_eq!(percent.format(100.0), "100");
        assert_eq!(percent.format(5.0649), "5.06");
        assert_eq!(Style::of(ValueKind::Change).format(-16.87), "-16.87");
        assert_eq!(Style::COMPUTED_PERCENT.format(31.66), "31.7");
        assert_eq!(Style::exactly(2).format(8130.25), "8,130.25");
        assert_eq!(Style::exactly(1).format(-0.04), "0.0");
        assert_eq!(Style::NUMBER.format(-1234567.0), "-1,234,567");
    }

    #[test]
    fn a_count_prints_the_same_in_the_count_and_the_number_style() {
        for value in [0.0, 7.0, 999.0, 1000.0, 2887.0, 1_234_567.0] {
            assert_eq!(Style::COUNT.format(value), Style::NUMBER.format(value));
        }
    }
}
