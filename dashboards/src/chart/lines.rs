//! Line charts over an integer x axis (months), shared by the timeline and the before / after
//! chart: y grid and ticks, lines broken at missing values, markers, legend, an optional
//! vertical mark.

use plotters::style::text_anchor::{HPos, VPos};

use super::format::{format_tick, format_value};
use super::scale::Scale;
use super::style::{
    self, AXIS, Area, BODY, Drawn, Font, GRID, MARGIN, SMALL, Shape, TEXT, TICK, Weight,
};
use super::svg;
use super::{Caption, Unit};

const HEIGHT: i32 = 380;
/// The plot's height on a phone.
const NARROW_HEIGHT: i32 = 300;
const LEGEND_ROW: i32 = 20;
/// Length of the line sample in the legend.
const LEGEND_SAMPLE: i32 = 26;

/// Points of a line: (x, value).
type Points = Vec<(i32, Option<f64>)>;

/// One line: its legend label and its points (x, value), in any order.
pub(super) struct Line<'a> {
    pub label: &'a str,
    pub points: Points,
    pub tone: super::Tone,
}

impl<'a> Line<'a> {
    /// The lines of series over an integer x axis, as given.
    pub fn of(series: &'a [super::RelativeSeries]) -> Vec<Line<'a>> {
        series
            .iter()
            .map(|s| Line {
                label: &s.label,
                points: s.points.clone(),
                tone: s.tone,
            })
            .collect()
    }
}

/// The x axis of a line chart.
pub(super) struct XAxis<'a> {
    /// The x range shown; points outside it are left out.
    pub range: (i32, i32),
    /// The labelled ticks, given the plot's width in pixels.
    pub ticks: &'a dyn Fn(i32) -> Vec<(i32, String)>,
    /// The axis title, under the tick labels.
    pub title: Option<&'a str>,
    /// How an x value is named in a point's hover text (« mars 2024 », « +6 »).
    pub name: &'a dyn Fn(i32) -> String,
    /// Vertical marks: their x and their label.
    pub marks: Vec<(i32, &'a str)>,
    /// Whether a line joins points whatever the gap between their x (measures at a few sizes);
    /// otherwise it is broken where an x is absent (a month without value).
    pub continuous: bool,
}

/// A legend entry laid out: where it starts and its text.
struct LegendItem {
    at: (i32, i32),
    text: String,
    index: usize,
    tone: super::Tone,
}

/// Draws a line chart `width` pixels wide ([`super::WIDE`] or [`super::NARROW`]); with no
/// finite value in range, only « Aucune donnée publiable ».
pub(super) fn draw(
    caption: &Caption,
    unit: Unit,
    width: i32,
    axis: &XAxis<'_>,
    lines: &[Line<'_>],
) -> String {
    let (x_min, x_max) = axis.range;
    // Each line: points in range, sorted by x, one per x (the first given wins).
    let lines: Vec<(String, Points, super::Tone)> = lines
        .iter()
        .map(|line| {
            let mut points: Points = line
                .points
                .iter()
                .filter(|(x, _)| (x_min..=x_max).contains(x))
                .map(|&(x, v)| (x, v.filter(|v| v.is_finite())))
                .collect();
            points.sort_by_key(|&(x, _)| x);
            points.dedup_by_key(|&mut (x, _)| x);
            (style::clean(line.label), points, line.tone)
        })
        .collect();
    let values: Vec<f64> = lines
        .iter()
        .flat_map(|(_, points, _)| points.iter().filter_map(|&(_, v)| v))
        .collect();
    if values.is_empty() {
        return svg::empty(caption, (width.unsigned_abs(), 160));
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A little room above and below, so that no point sits on the axis.
    let pad = (max - min) * 0.04;
    // Counts, shares and delays are never negative: the axis stops at zero (issue 15).
    let low = if min >= 0.0 {
        (min - pad).max(0.0)
    } else {
        min - pad
    };
    let scale = Scale::nice(low, max + pad, 5, unit == Unit::Count);
    let ticks: Vec<(f64, String)> = scale
        .ticks()
        .into_iter()
        .map(|t| (t, format_tick(t, unit, scale.step)))
        .collect();

    // Legend rows on top.
    let legend_max = width - MARGIN;
    let mut legend = Vec::with_capacity(lines.len());
    let (mut lx, mut ly) = (MARGIN, MARGIN + LEGEND_ROW / 2);
    for (index, (label, _, tone)) in lines.iter().enumerate() {
        let text = BODY.fit(label, width - 2 * MARGIN - LEGEND_SAMPLE - 8);
        let item_width = LEGEND_SAMPLE + 6 + BODY.width(&text);
        if lx > MARGIN && lx + item_width > legend_max {
            lx = MARGIN;
            ly += LEGEND_ROW;
        }
        legend.push(LegendItem {
            at: (lx, ly),
            text,
            index,
            tone: *tone,
        });
        lx += item_width + 20;
    }
    let legend_bottom = ly + LEGEND_ROW / 2;

    let label_width = ticks.iter().map(|(_, t)| TICK.width(t)).max().unwrap_or(0);
    // Room on the right for half of the last x label.
    let (x0, x1) = (
        MARGIN + label_width + 8,
        width - MARGIN - if width < super::WIDE { 20 } else { 32 },
    );
    let top = legend_bottom + 14;
    let plot_height = if width < super::WIDE {
        NARROW_HEIGHT
    } else {
        HEIGHT
    };
    let height = plot_height + legend_bottom - MARGIN - LEGEND_ROW;
    let bottom = height - MARGIN - 20 - if axis.title.is_some() { 20 } else { 0 };
    let x = |v: i32| {
        if x_max > x_min {
            let t = f64::from(v - x_min) / f64::from(x_max - x_min);
            (f64::from(x0) + t * f64::from(x1 - x0)).round() as i32
        } else {
            (x0 + x1) / 2
        }
    };
    let y = |v: f64| scale.map(v, bottom, top);
    let x_ticks = (axis.ticks)(x1 - x0);

    let size = (width.unsigned_abs(), u32::try_from(height).unwrap_or(400));
    let hovers: Vec<svg::Hover> = lines
        .iter()
        .flat_map(|(label, points, _)| {
            points.iter().filter_map(move |&(px, v)| {
                let v = v?;
                let text = format!("{label}, {} : {}", (axis.name)(px), format_value(v, unit));
                Some((x(px) - 5, y(v) - 5, 10, 10, text))
            })
        })
        .collect();
    let drawn = svg::render(caption, size, |area| {
        // Grid and y ticks.
        for (t, text) in &ticks {
            let ty = y(*t);
            style::polyline(area, vec![(x0, ty), (x1, ty)], GRID, 1)?;
            TICK.draw(area, text, (x0 - 6, ty), HPos::Right, VPos::Center)?;
        }
        // X axis, ticks and labels.
        style::polyline(area, vec![(x0, bottom), (x1, bottom)], AXIS, 1)?;
        if x_max - x_min <= 72 {
            // A small mark for every month.
            for m in x_min..=x_max {
                let px = x(m);
                style::polyline(area, vec![(px, bottom), (px, bottom + 2)], AXIS, 1)?;
            }
        }
        for (tx, text) in &x_ticks {
            let px = x(*tx);
            style::polyline(area, vec![(px, bottom), (px, bottom + 4)], AXIS, 1)?;
            let half = TICK.width(text) / 2;
            let h = if px - half < MARGIN / 2 {
                HPos::Left
            } else if px + half > width - MARGIN / 2 {
                HPos::Right
            } else {
                HPos::Center
            };
            TICK.draw(area, text, (px, bottom + 7), h, VPos::Top)?;
        }
        if let Some(title) = axis.title {
            TICK.draw(
                area,
                title,
                ((x0 + x1) / 2, bottom + 28),
                HPos::Center,
                VPos::Top,
            )?;
        }
        for &(mx, label) in &axis.marks {
            if mx < x_min || mx > x_max {
                continue;
            }
            let px = x(mx);
            style::dashed_line(area, (px, top - 4), (px, bottom), AXIS, (4, 3))?;
            Font::new(SMALL, Weight::Italic, TEXT).draw(
                area,
                label,
                (px + 4, top - 2),
                HPos::Left,
                VPos::Top,
            )?;
        }
        // Lines, broken at missing values and at gaps, then markers on every value.
        for (i, (_, points, tone)) in lines.iter().enumerate() {
            let (colour, shape) = style::tone_style(*tone, i);
            let mut run: Vec<(i32, i32)> = Vec::new();
            let mut previous: Option<i32> = None;
            for &(px, v) in points {
                match v {
                    Some(v) if previous.is_some_and(|p| axis.continuous || p + 1 == px) => {
                        run.push((x(px), y(v)));
                    }
                    Some(v) => {
                        flush(area, &mut run, colour)?;
                        run.push((x(px), y(v)));
                    }
                    None => flush(area, &mut run, colour)?,
                }
                previous = v.map(|_| px);
            }
            flush(area, &mut run, colour)?;
            for &(px, v) in points {
                if let Some(v) = v {
                    style::marker(area, (x(px), y(v)), shape, colour)?;
                }
            }
        }
        for item in &legend {
            legend_item(area, item)?;
        }
        Ok(())
    });
    svg::with_hovers(drawn, &hovers)
}

fn flush(area: &Area<'_>, run: &mut Vec<(i32, i32)>, colour: plotters::style::RGBColor) -> Drawn {
    if run.len() >= 2 {
        style::polyline(area, std::mem::take(run), colour, 2)
    } else {
        run.clear();
        Ok(())
    }
}

fn legend_item(area: &Area<'_>, item: &LegendItem) -> Drawn {
    let (colour, shape): (_, Shape) = style::tone_style(item.tone, item.index);
    let (x, y) = item.at;
    style::polyline(area, vec![(x, y), (x + LEGEND_SAMPLE, y)], colour, 2)?;
    style::marker(area, (x + LEGEND_SAMPLE / 2, y), shape, colour)?;
    BODY.draw_left(area, &item.text, (x + LEGEND_SAMPLE + 6, y))
}
