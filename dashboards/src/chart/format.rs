//! French number formatting for labels and axes.

use super::Unit;

pub(super) use copil_core::nombres::NNBSP;

/// Text shown for a value that cannot be written (not finite).
const NOT_AVAILABLE: &str = "n.d.";

/// Writes `v` the French way for its unit.
///
/// - [`Unit::Share`] (a share in [0, 1]): one decimal, comma, percent sign: `0.4534` →
///   « 45,3 % ».
/// - [`Unit::Days`]: rounded to the day: `31.6` → « 32 j ».
/// - [`Unit::Count`]: rounded, thousands grouped: `1234.0` → « 1 234 ».
/// - [`Unit::Seconds`]: one decimal: `2.45` → « 2,5 s » (benchmarks).
/// - [`Unit::Mebibytes`]: rounded: `1222.4` → « 1 222 Mio » (benchmarks).
///
/// Spaces are narrow no-break spaces (U+202F), negative numbers take the minus sign (U+2212),
/// and a value that is not finite is written « n.d. ».
///
/// ```
/// use copil_dashboards::chart::{format_value, Unit};
/// assert_eq!(format_value(0.4534, Unit::Share), "45,3\u{202F}%");
/// assert_eq!(format_value(31.6, Unit::Days), "32\u{202F}j");
/// assert_eq!(format_value(1234.0, Unit::Count), "1\u{202F}234");
/// ```
pub fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Share => with_suffix(decimal(v * 100.0, 1), "%"),
        Unit::Days => with_suffix(decimal(v, 0), "j"),
        Unit::Count => decimal(v, 0).unwrap_or_else(|| NOT_AVAILABLE.to_owned()),
        Unit::Seconds => with_suffix(decimal(v, 1), "s"),
        Unit::Mebibytes => with_suffix(decimal(v, 0), "Mio"),
    }
}

/// Writes an axis tick: like [`format_value`], but with only as many decimals as the step
/// between ticks needs (« 45 % », « 2,5 % »).
pub(super) fn format_tick(v: f64, unit: Unit, step: f64) -> String {
    let scaled_step = match unit {
        Unit::Share => step * 100.0,
        Unit::Days | Unit::Count | Unit::Seconds | Unit::Mebibytes => step,
    };
    let decimals = decimals_for(scaled_step);
    match unit {
        Unit::Share => with_suffix(decimal(v * 100.0, decimals), "%"),
        Unit::Days => with_suffix(decimal(v, decimals), "j"),
        Unit::Count => decimal(v, decimals).unwrap_or_else(|| NOT_AVAILABLE.to_owned()),
        Unit::Seconds => with_suffix(decimal(v, decimals), "s"),
        Unit::Mebibytes => with_suffix(decimal(v, decimals), "Mio"),
    }
}

/// How many decimals (0 to 3) write every multiple of `step` exactly.
fn decimals_for(step: f64) -> usize {
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    (0..=3)
        .find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .map_or(3, |d| d as usize)
}

fn with_suffix(number: Option<String>, suffix: &str) -> String {
    match number {
        Some(n) => format!("{n}{NNBSP}{suffix}"),
        None => NOT_AVAILABLE.to_owned(),
    }
}

/// `v` with `decimals` decimals, a decimal comma and grouped thousands; `None` if not finite
/// (the one French formatter, [`copil_core::nombres::decimal`]).
pub(super) fn decimal(v: f64, decimals: usize) -> Option<String> {
    copil_core::nombres::decimal(v, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks how each value is written in `unit`, narrow no-break spaces shown as spaces.
    fn assert_written(unit: Unit, cases: &[(f64, &str)]) {
        for &(v, written) in cases {
            assert_eq!(format_value(v, unit).replace(NNBSP, " "), written, "{v}");
        }
    }

    #[test]
    fn share_has_one_decimal_and_a_comma() {
        #[rustfmt::skip]
        let cases = [
            (0.4534, "45,3 %"), (0.452, "45,2 %"), (0.0, "0,0 %"), (1.0, "100,0 %"),
            (12.345, "1 234,5 %"), (-0.0123, "\u{2212}1,2 %"), (-0.0001, "0,0 %"),
        ];
        assert_written(Unit::Share, &cases);
    }

    #[test]
    fn days_are_rounded() {
        #[rustfmt::skip]
        let cases = [(31.6, "32 j"), (32.0, "32 j"), (0.2, "0 j"), (1500.0, "1 500 j")];
        assert_written(Unit::Days, &cases);
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(format_value(1234.0, Unit::Count), "1\u{202F}234");
        #[rustfmt::skip]
        let cases = [
            (0.0, "0"), (999.0, "999"), (1000.0, "1 000"), (1234567.4, "1 234 567"),
            (-12345.0, "\u{2212}12 345"),
        ];
        assert_written(Unit::Count, &cases);
    }

    #[test]
    fn non_finite_values_are_not_available() {
        for unit in [Unit::Share, Unit::Days, Unit::Count] {
            assert_eq!(format_value(f64::NAN, unit), "n.d.");
            assert_eq!(format_value(f64::INFINITY, unit), "n.d.");
            assert_eq!(format_value(f64::NEG_INFINITY, unit), "n.d.");
        }
        // Finite but huge: written in full, no panic.
        assert!(format_value(f64::MAX, Unit::Count).len() > 300);
        assert_eq!(format_value(f64::MAX, Unit::Share), "n.d.");
    }

    #[test]
    fn ticks_take_the_decimals_of_their_step() {
        // (value, unit, step between ticks, tick label)
        let cases = [
            (0.45, Unit::Share, 0.05, "45 %"),
            (0.025, Unit::Share, 0.025, "2,5 %"),
            (0.3000000000000001, Unit::Share, 0.1, "30 %"),
            (2000.0, Unit::Count, 500.0, "2 000"),
            (1.5, Unit::Days, 0.5, "1,5 j"),
            (-1e-17, Unit::Count, 1.0, "0"),
        ];
        for (v, unit, step, label) in cases {
            assert_eq!(format_tick(v, unit, step).replace(NNBSP, " "), label, "{v}");
        }
    }
}
