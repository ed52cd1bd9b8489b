//! How a cost grows with the size of the data: benchmark measures (time, memory) against the
//! rows read, one line per measured step (issue 16's scenario at several scales).

use super::Scaling;
use super::format::decimal;
use super::lines::{self, Line, XAxis};

/// Steps between labelled x ticks, in thousands of rows.
const STEPS: [i32; 9] = [
    1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
];

/// Draws one line per step against the rows read (x in thousands of rows, labelled in
/// millions), from 0 to the largest size measured, with a legend; a line joins the sizes
/// measured.
///
/// A line is broken at `None` (a step not measured at that size). Never panics: non-finite
/// values are treated as missing. With no value at all, the chart only says « Aucune donnée
/// publiable ».
pub fn scaling(s: &Scaling, width: i32) -> String {
    let lines = Line::of(&s.series);
    let x_max = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|&(x, _)| x))
        .max()
        .unwrap_or(0)
        .max(1);
    let ticks = move |plot: i32| -> Vec<(i32, String)> {
        // About one label per 90 pixels.
        let wanted = (plot / 90).max(2);
        let step = STEPS
            .iter()
            .copied()
            .find(|s| x_max / s <= wanted)
            .unwrap_or(STEPS[STEPS.len() - 1]);
        (0..=x_max / step)
            .map(|i| (i * step, millions(i * step)))
            .collect()
    };
    let axis = XAxis {
        range: (0, x_max),
        ticks: &ticks,
        title: Some("Lignes lues (millions)"),
        name: &|x| format!("{} millions de lignes", millions(x)),
        marks: Vec::new(),
        continuous: true,
    };
    lines::draw(&s.caption, s.unit, width, &axis, &lines)
}

/// Thousands of rows written as millions: 26_500 → « 26,5 ».
fn millions(thousands: i32) -> String {
    let m = f64::from(thousands) / 1000.0;
    let decimals = if (m - m.round()).abs() < 1e-9 { 0 } else { 1 };
    decimal(m, decimals).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{Caption, RelativeSeries, Tone, Unit, WIDE};

    fn chart() -> Scaling {
        Scaling {
            caption: Caption {
                title: "Temps par étape".into(),
                desc: "Temps de chaque étape selon le nombre de lignes lues.".into(),
            },
            unit: Unit::Seconds,
            series: vec![
                RelativeSeries {
                    label: "Copil".into(),
                    points: vec![
                        (2_650, Some(2.4)),
                        (13_250, Some(9.8)),
                        (26_500, Some(19.5)),
                    ],
                    tone: Tone::Territory,
                },
                RelativeSeries {
                    label: "DuckDB".into(),
                    points: vec![(2_650, Some(3.0)), (13_250, None), (26_500, Some(30.1))],
                    tone: Tone::France,
                },
            ],
        }
    }

    #[test]
    fn millions_are_written_the_french_way() {
        assert_eq!(millions(26_500), "26,5");
        assert_eq!(millions(10_000), "10");
        assert_eq!(millions(0), "0");
    }

    #[test]
    fn a_scaling_chart_names_its_steps_sizes_and_values() {
        let svg = scaling(&chart(), WIDE);
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in [
            "Copil",
            "DuckDB",
            "Lignes lues (millions)",
            "Temps par étape",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        // The hover text of a point names its size and its value.
        assert!(svg.contains("26,5 millions de lignes"), "{svg}");
        assert!(svg.contains("19,5\u{202F}s"), "{svg}");
        // Deterministic.
        assert_eq!(svg, scaling(&chart(), WIDE));
        insta::assert_snapshot!("scaling", svg);
    }
}
