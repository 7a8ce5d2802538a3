//! How figures and ratios are printed in every report.

/// A measured value with as many decimals as are worth reading.
pub fn number(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A figure of the suite report: no decimals from 100 up, one from 10,
/// two below (CPU microseconds and syscalls per request live there).
pub fn measured(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A ratio, `0.37x`; with a third decimal when two would print the
/// `threshold` it is judged against while falling on the other side of it
/// (so `0.503x` never reads as a met `<= 0.50x`).
pub fn ratio_against(value: f64, threshold: f64) -> String {
    let two = format!("{value:.2}");
    if two == format!("{threshold:.2}") && value != threshold {
        format!("{value:.3}x")
    } else {
        format!("{two}x")
    }
}

/// A ratio with two decimals, `0.37x`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}x")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_near_its_threshold_gets_a_third_decimal() {
        assert_eq!(ratio_against(0.503, 0.5), "0.503x");
        assert_eq!(ratio_against(0.5, 0.5), "0.50x");
        assert_eq!(ratio_against(0.37, 0.5), "0.37x");
    }

    #[test]
    fn numbers_keep_readable_decimals() {
        assert_eq!(number(101.4), "101");
        assert_eq!(number(20.34), "20.3");
    }
}
