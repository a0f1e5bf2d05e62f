//! Rounding and printing numbers the way a Chinese report prints them.

/// Rounds half away from zero to `decimals` places, as printed figures are rounded.
pub fn round_to(value: f64, decimals: u32) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    let scaled = value * factor;
    // Nudge by a relative epsilon so 2.675 (stored as 2.67499…) rounds as written.
    let nudged = scaled + scaled.signum() * scaled.abs() * 1e-12;
    nudged.round() / factor
}

/// How many decimals a value shows when printed in its shortest form (35.41 → 2, 50 → 0).
pub fn printed_decimals(value: f64) -> u32 {
    let text = format!("{value}");
    match text.split_once('.') {
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
    let text = fixed(value, decimals);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
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
    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_to(2.675, 2), 2.68);
        assert_eq!(round_to(18.738, 1), 18.7);
        assert_eq!(round_to(-0.05, 1), -0.1);
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
    }
}
