//! Monthly time series (national and per wave).

use chrono::Datelike;

use super::Timeline;
use super::lines::{self, Line, XAxis};
use super::style::{Font, SMALL, TEXT, Weight};

/// French abbreviated month names, as the Imprimerie nationale writes them.
const MONTHS: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// Steps between labelled months, smallest first.
const MONTH_STEPS: [i32; 10] = [1, 2, 3, 4, 6, 12, 24, 36, 60, 120];

/// Draws monthly series as lines (x = months, labelled « janv. 2024 »), one colour and marker
/// shape per series, with a legend.
///
/// The month of each point is taken from its date (the day is ignored). A line is broken at
/// `None` (secret or missing) and at months absent from its series; isolated values show as
/// markers. Never panics: non-finite values are treated as missing. With no value at all,
/// the chart only says « Aucune donnée publiable ».
pub fn timeline(t: &Timeline, width: i32) -> String {
    let lines: Vec<Line<'_>> = t
        .series
        .iter()
        .map(|series| Line {
            label: &series.label,
            points: series
                .points
                .iter()
                .map(|&(date, v)| (month_index(date), v))
                .collect(),
            tone: series.tone,
        })
        .collect();
    let months = lines
        .iter()
        .flat_map(|line| line.points.iter().map(|&(m, _)| m));
    let x_min = months.clone().min().unwrap_or(0);
    let x_max = months.max().unwrap_or(0);
    let ticks = move |width: i32| month_ticks(x_min, x_max, width);
    let axis = XAxis {
        range: (x_min, x_max),
        ticks: &ticks,
        title: None,
        name: &month_label,
        marks: t
            .marks
            .iter()
            .map(|(m, label)| (month_index(*m), label.as_str()))
            .collect(),
        continuous: false,
    };
    lines::draw(&t.caption, t.unit, width, &axis, &lines)
}

/// Months since year 0 (January of year 0 is 0).
fn month_index(date: chrono::NaiveDate) -> i32 {
    date.year() * 12 + i32::try_from(date.month0()).unwrap_or(0)
}

/// « janv. 2024 » for a month index.
fn month_label(index: i32) -> String {
    let month = usize::try_from(index.rem_euclid(12)).unwrap_or(0);
    format!("{} {}", MONTHS[month], index.div_euclid(12))
}

/// Labelled months: every `k` months (aligned on January), with `k` the smallest step whose
/// labels do not overlap in `width` pixels.
fn month_ticks(x_min: i32, x_max: i32, width: i32) -> Vec<(i32, String)> {
    let font = Font::new(SMALL, Weight::Regular, TEXT);
    let span = (x_max - x_min).max(1);
    let per_month = f64::from(width.max(1)) / f64::from(span);
    let label_width = (x_min..=x_max.min(x_min + 11))
        .map(|m| font.width(&month_label(m)))
        .max()
        .unwrap_or(60);
    let step = MONTH_STEPS
        .into_iter()
        .find(|&k| f64::from(k) * per_month >= f64::from(label_width + 20))
        .unwrap_or(x_max - x_min + 1);
    let mut ticks: Vec<(i32, String)> = (x_min..=x_max)
        .filter(|m| m.rem_euclid(step.max(1)) == 0)
        .map(|m| (m, month_label(m)))
        .collect();
    if ticks.is_empty() {
        ticks.push((x_min, month_label(x_min)));
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(y: i32, m: u32) -> i32 {
        month_index(chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap())
    }

    #[test]
    fn months_are_written_in_french() {
        assert_eq!(month_label(month(2024, 1)), "janv. 2024");
        assert_eq!(month_label(month(2023, 8)), "août 2023");
        assert_eq!(month_label(month(2025, 12)), "déc. 2025");
    }

    #[test]
    fn month_ticks_do_not_crowd() {
        // Three years on 700 px: not every month.
        let ticks = month_ticks(month(2022, 1), month(2024, 12), 700);
        assert!(ticks.len() >= 3 && ticks.len() <= 12, "{ticks:?}");
        assert_eq!(ticks[0].1, "janv. 2022");
        // A single month still gets its label.
        let ticks = month_ticks(month(2024, 5), month(2024, 5), 700);
        assert_eq!(ticks, vec![(month(2024, 5), "mai 2024".to_owned())]);
        // Six months: each labelled.
        assert_eq!(month_ticks(month(2024, 1), month(2024, 6), 700).len(), 6);
    }
}
