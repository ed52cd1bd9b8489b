//! Before / after the SPIE start: one line per wave, by month relative to the start.

use super::BeforeAfter;
use super::format::decimal;
use super::lines::{self, Line, XAxis};

/// First month shown (12 months before the start).
const FIRST: i32 = -12;
/// Last month shown (24 months after the start).
const LAST: i32 = 24;

/// Draws one line per wave by month relative to the SPIE start, x from −12 to +24, with a
/// vertical dashed mark at 0 labelled « début SPIE » and a legend.
///
/// Points outside [−12, +24] are left out. A line is broken at `None` (secret or missing) and
/// at months absent from its series. Never panics: non-finite values are treated as missing.
/// With no value at all, the chart only says « Aucune donnée publiable ».
pub fn before_after(b: &BeforeAfter, width: i32) -> String {
    let lines = Line::of(&b.series);
    let ticks = |plot: i32| -> Vec<(i32, String)> {
        (FIRST..=LAST)
            .step_by(if plot < 400 { 12 } else { 6 })
            .map(|m| (m, relative_label(m)))
            .collect()
    };
    let axis = XAxis {
        range: (FIRST, LAST),
        ticks: &ticks,
        title: Some("Mois depuis le début du SPIE"),
        name: &|m| format!("{} mois", relative_label(m)),
        marks: vec![(0, "début SPIE")],
        continuous: false,
    };
    lines::draw(&b.caption, b.unit, width, &axis, &lines)
}

/// « −12 », « 0 », « +6 ».
fn relative_label(month: i32) -> String {
    let number = decimal(f64::from(month), 0).unwrap_or_default();
    if month > 0 {
        format!("+{number}")
    } else {
        number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_months_are_signed() {
        assert_eq!(relative_label(-12), "\u{2212}12");
        assert_eq!(relative_label(0), "0");
        assert_eq!(relative_label(24), "+24");
    }
}
