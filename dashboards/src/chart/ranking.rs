//! Territories ranked: one horizontal bar each, with 95 % intervals and reference lines.

use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{format_tick, format_value};
use super::scale::Scale;
use super::style::{
    self, ACCENT, AXIS, Area, BACKGROUND, BLEU_FRANCE, BODY, Drawn, Font, GRID, MARGIN, NORMAL,
    SMALL, TEXT, TICK, Weight,
};
use super::svg;
use super::{Bar, Ranking, Tone, Unit};

/// Height of one bar's row.
const ROW: i32 = 22;
/// On a phone, the label's line above each bar.
const LABEL_ROW: i32 = 15;
/// Height of one reference label row, above the plot.
const REFERENCE_ROW: i32 = 18;
/// Widest territory label before it is shortened with « … ».
const LABEL_MAX: i32 = 230;

const LABEL_HIGHLIGHT: Font = Font::new(NORMAL, Weight::Bold, ACCENT);
const VALUE_HIGHLIGHT: Font = Font::new(NORMAL, Weight::Bold, TEXT);
const MISSING: Font = Font::new(SMALL, Weight::Italic, AXIS);

/// What is written in the value column.
enum BarText {
    Value(String),
    Secret,
    Missing,
}

/// A reference, ready to draw.
struct RefLine {
    text: String,
    value: f64,
    colour: RGBColor,
    dash: Option<(i32, i32)>,
}

/// Where the bars are drawn: the value scale across `x0..x1`, rows from `top` to `bottom`.
struct Plot<'a> {
    scale: &'a Scale,
    x0: i32,
    x1: i32,
    top: i32,
    bottom: i32,
}

impl Plot<'_> {
    /// Where value `v` lies across.
    fn x(&self, v: f64) -> i32 {
        self.scale.map(v, self.x0, self.x1)
    }
}

/// Where a territory's interval lies against France's value (issue 15).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Against {
    Above,
    Below,
    Overlaps,
}

/// Draws a ranking as horizontal bars, top to bottom in the given order, `width` pixels wide
/// ([`super::WIDE`], or [`super::NARROW`] where each label sits on its own line above its bar).
///
/// The scale is set by the territories (bars and their intervals) and zero, never by the
/// references: a national total would squeeze every bar. References (France, the waves) are
/// listed above the plot with their value, each in its own colour and dash, and drawn as lines
/// when inside the scale; outside it, the list says « hors échelle » and an arrow marks the
/// edge. Values stand in a column on the right; a territory whose interval lies wholly above
/// or below France's value is marked ▲ or ▼. Secret bars are a grey hatched box labelled
/// « secret »; bars without a value say « pas de données ». The highlighted bar is drawn in
/// the accent colour with a bold label. The height grows with the number of bars.
///
/// Never panics: non-finite values are treated as missing. With no bar at all, the chart only
/// says « Aucune donnée publiable ».
pub fn ranking(r: &Ranking, width: i32) -> String {
    if r.bars.is_empty() {
        return svg::empty(&r.caption, (width.unsigned_abs(), 120));
    }
    let narrow = width < super::WIDE;
    let unit = r.unit;
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());

    // The value domain: bars and intervals, always with zero (bars start there).
    let mut domain: Vec<f64> = Vec::new();
    for bar in r.bars.iter().filter(|b| !b.secret) {
        domain.extend(finite(bar.value));
        if let (Some(low), Some(high)) = (finite(bar.low), finite(bar.high)) {
            domain.extend([low, high]);
        }
    }
    let has_data = !domain.is_empty();
    let min = domain.iter().copied().fold(0.0, f64::min);
    let max = domain.iter().copied().fold(0.0, f64::max);
    let scale = Scale::nice(min, max, if narrow { 4 } else { 5 }, unit == Unit::Count);
    let france = r
        .references
        .iter()
        .find(|reference| reference.tone == Tone::France && reference.value.is_finite())
        .map(|reference| reference.value);
    let references: Vec<RefLine> = r
        .references
        .iter()
        .filter(|reference| reference.value.is_finite())
        .map(|reference| {
            let label = style::clean(&reference.label);
            let side = if reference.value > scale.hi {
                " (hors échelle →)"
            } else if reference.value < scale.lo {
                " (← hors échelle)"
            } else {
                ""
            };
            let (colour, dash) = match reference.tone {
                Tone::France => (style::FRANCE, None),
                Tone::Wave(w) => (
                    style::WAVES[w % style::WAVES.len()],
                    Some(DASHES[w % DASHES.len()]),
                ),
                Tone::Territory => (ACCENT, Some((2, 2))),
                Tone::Other => (TEXT, Some((5, 3))),
            };
            RefLine {
                text: format!("{label} {}{side}", format_value(reference.value, unit)),
                value: reference.value,
                colour,
                dash,
            }
        })
        .collect();

    // Horizontal layout: labels on the left (above each bar on a phone), bars, values.
    let label_max = if narrow {
        width - 2 * MARGIN
    } else {
        LABEL_MAX
    };
    let labels: Vec<(String, Font)> = r
        .bars
        .iter()
        .map(|bar| {
            let font = if bar.highlight { LABEL_HIGHLIGHT } else { BODY };
            (font.fit(&style::clean(&bar.label), label_max), font)
        })
        .collect();
    let label_width = if narrow {
        0
    } else {
        labels
            .iter()
            .map(|(text, font)| font.width(text))
            .max()
            .unwrap_or(0)
    };
    let against: Vec<Against> = r.bars.iter().map(|bar| against(bar, france)).collect();
    let texts: Vec<BarText> = r.bars.iter().map(|bar| bar_text(bar, unit)).collect();
    let value_width = texts
        .iter()
        .zip(&r.bars)
        .map(|(text, bar)| match text {
            BarText::Value(v) => value_font(bar).width(&format!("▲ {v}")),
            BarText::Secret | BarText::Missing => 0,
        })
        .max()
        .unwrap_or(0);
    let x0 = if narrow {
        MARGIN
    } else {
        MARGIN + label_width + 10
    };
    let x1 = (width - MARGIN - value_width - 10).max(x0 + 80);

    // Vertical layout: reference list, bars, axis, notes.
    let row = if narrow { ROW + LABEL_ROW } else { ROW };
    let n = i32::try_from(r.bars.len()).unwrap_or(i32::MAX / row / 2);
    let n_refs = i32::try_from(references.len()).unwrap_or(0);
    let top = MARGIN + n_refs * REFERENCE_ROW + if n_refs > 0 { 8 } else { 0 };
    let bottom = top + n * row;
    let any_interval = r.bars.iter().any(has_interval);
    let any_marked = against.iter().any(|a| *a != Against::Overlaps);
    let mut height = bottom + MARGIN;
    if has_data {
        height += 20;
    }
    if any_interval {
        height += 24;
    }
    if any_marked {
        height += if narrow { 36 } else { 20 };
    }

    let plot = Plot {
        scale: &scale,
        x0,
        x1,
        top,
        bottom,
    };
    let x = |v: f64| plot.x(v);
    let size = (width.unsigned_abs(), u32::try_from(height).unwrap_or(120));
    let hovers: Vec<svg::Hover> = r
        .bars
        .iter()
        .zip(&texts)
        .enumerate()
        .map(|(i, (bar, text))| {
            let shown = match text {
                BarText::Value(v) => v.clone(),
                BarText::Secret => "secret".to_string(),
                BarText::Missing => "pas de données".to_string(),
            };
            let y = top + i32::try_from(i).unwrap_or(0) * row;
            (
                0,
                y,
                width,
                row,
                format!("{} : {shown}", style::clean(&bar.label)),
            )
        })
        .collect();
    let drawn = svg::render(&r.caption, size, |area| {
        if has_data {
            draw_axis(area, &plot, unit)?;
        }
        let row_top = |i: usize| top + i32::try_from(i).unwrap_or(0) * row;
        let bar_y = |i: usize| row_top(i) + row - ROW / 2;
        for (i, (bar, text)) in r.bars.iter().zip(&texts).enumerate() {
            let (label, font) = &labels[i];
            if narrow {
                font.draw_left(area, label, (x0, row_top(i) + LABEL_ROW / 2 + 1))?;
            } else {
                font.draw(area, label, (x0 - 10, bar_y(i)), HPos::Right, VPos::Center)?;
            }
            draw_bar(area, bar, text, &x, bar_y(i))?;
        }
        for (i, reference) in references.iter().enumerate() {
            let label_row = MARGIN + i32::try_from(i).unwrap_or(0) * REFERENCE_ROW;
            draw_reference(area, reference, &plot, label_row)?;
        }
        // Whiskers over the reference lines; values in their column.
        for (i, (bar, text)) in r.bars.iter().zip(&texts).enumerate() {
            if has_interval(bar) {
                let value = bar.value.unwrap_or(0.0);
                let (low, high) = (x(bar.low.unwrap_or(value)), x(bar.high.unwrap_or(value)));
                whisker(area, low.min(high), low.max(high), bar_y(i))?;
            }
            if let BarText::Value(label) = text {
                let mark = match against[i] {
                    Against::Above => "▲ ",
                    Against::Below => "▼ ",
                    Against::Overlaps => "",
                };
                value_font(bar).draw(
                    area,
                    &format!("{mark}{label}"),
                    (width - MARGIN, bar_y(i)),
                    HPos::Right,
                    VPos::Center,
                )?;
            }
        }
        let mut note_y = bottom + if has_data { 24 } else { 4 };
        if any_interval {
            interval_note(area, (x0, note_y), r.interval)?;
            note_y += 22;
        }
        if any_marked {
            let lines: &[&str] = if narrow {
                &[
                    "▲ ▼ : intervalle entièrement au-dessus",
                    "ou au-dessous de la France",
                ]
            } else {
                &["▲ ▼ : intervalle entièrement au-dessus / au-dessous de la France"]
            };
            for (i, line) in lines.iter().enumerate() {
                let y = note_y + 16 * i32::try_from(i).unwrap_or(0);
                TICK.draw_left(area, line, (MARGIN, y))?;
            }
        }
        Ok(())
    });
    svg::with_hovers(drawn, &hovers)
}

/// The dashes of the waves' references, so that they differ without colour too.
const DASHES: [(i32, i32); 3] = [(6, 3), (2, 3), (10, 3)];

/// Whether a bar's interval lies wholly above or below France's value.
fn against(bar: &Bar, france: Option<f64>) -> Against {
    match (france, has_interval(bar)) {
        (Some(f), true) if bar.low.is_some_and(|l| l > f) => Against::Above,
        (Some(f), true) if bar.high.is_some_and(|h| h < f) => Against::Below,
        _ => Against::Overlaps,
    }
}

fn value_font(bar: &Bar) -> Font {
    if bar.highlight { VALUE_HIGHLIGHT } else { BODY }
}

fn has_interval(bar: &Bar) -> bool {
    !bar.secret
        && bar.value.is_some_and(f64::is_finite)
        && bar.low.is_some_and(f64::is_finite)
        && bar.high.is_some_and(f64::is_finite)
}

fn bar_text(bar: &Bar, unit: Unit) -> BarText {
    if bar.secret {
        return BarText::Secret;
    }
    match bar.value.filter(|v| v.is_finite()) {
        Some(v) => BarText::Value(format_value(v, unit)),
        None => BarText::Missing,
    }
}

fn draw_axis(area: &Area<'_>, plot: &Plot<'_>, unit: Unit) -> Drawn {
    let (top, bottom) = (plot.top, plot.bottom);
    for tick in plot.scale.ticks() {
        let tx = plot.x(tick);
        style::polyline(area, vec![(tx, top), (tx, bottom)], GRID, 1)?;
        TICK.draw(
            area,
            &format_tick(tick, unit, plot.scale.step),
            (tx, bottom + 5),
            HPos::Center,
            VPos::Top,
        )?;
    }
    let zero = plot.x(0.0);
    style::polyline(area, vec![(zero, top), (zero, bottom)], AXIS, 1)
}

fn draw_bar(area: &Area<'_>, bar: &Bar, text: &BarText, x: &impl Fn(f64) -> i32, cy: i32) -> Drawn {
    /// Thickness of a bar.
    const BAR: i32 = 14;
    /// Length of the « secret » box.
    const SECRET_WIDTH: i32 = 40;
    let zero = x(0.0);
    let (y0, y1) = (cy - BAR / 2, cy + BAR / 2);
    match text {
        BarText::Secret => {
            style::secret_box(area, (zero, y0), (zero + SECRET_WIDTH, y1))?;
            MISSING.draw_left(area, "secret", (zero + SECRET_WIDTH + 6, cy))
        }
        BarText::Missing => MISSING.draw_left(area, "pas de données", (zero + 6, cy)),
        BarText::Value(_) => {
            let end = x(bar.value.unwrap_or(0.0));
            let colour = if bar.highlight { ACCENT } else { BLEU_FRANCE };
            if end == zero {
                // A zero value still shows a hairline.
                style::polyline(area, vec![(zero, y0), (zero, y1)], colour, 2)
            } else {
                style::fill_rect(area, (zero, y0), (end, y1), colour)
            }
        }
    }
}

/// A 95 % interval whisker, dark with a white halo so that it shows over the bar too.
fn whisker(area: &Area<'_>, low: i32, high: i32, cy: i32) -> Drawn {
    for (colour, width) in [(BACKGROUND, 3), (TEXT, 1)] {
        style::polyline(area, vec![(low, cy), (high, cy)], colour, width)?;
        for end in [low, high] {
            style::polyline(area, vec![(end, cy - 4), (end, cy + 4)], colour, width)?;
        }
    }
    Ok(())
}

/// A reference: its entry in the list above the plot (a line sample in its colour and dash,
/// then « France 45,2 % »), and its line across the plot when inside the scale, or an arrow
/// at the edge it lies beyond.
fn draw_reference(area: &Area<'_>, reference: &RefLine, plot: &Plot<'_>, row_y: i32) -> Drawn {
    let (top, bottom) = (plot.top, plot.bottom);
    let label_y = row_y + REFERENCE_ROW / 2;
    let line = |area: &Area<'_>, from: (i32, i32), to: (i32, i32)| match reference.dash {
        None => style::polyline(area, vec![from, to], reference.colour, 2),
        Some(dash) => style::dashed_line(area, from, to, reference.colour, dash),
    };
    line(area, (MARGIN, label_y), (MARGIN + 24, label_y))?;
    BODY.draw_left(area, &reference.text, (MARGIN + 30, label_y))?;
    if reference.value > plot.scale.hi || reference.value < plot.scale.lo {
        let (edge, dir) = if reference.value > plot.scale.hi {
            (plot.x1, 1)
        } else {
            (plot.x0, -1)
        };
        return area.draw(&plotters::element::Polygon::new(
            vec![(edge, top - 7), (edge + 7 * dir, top - 3), (edge, top + 1)],
            plotters::style::ShapeStyle::from(&reference.colour).filled(),
        ));
    }
    let rx = plot.x(reference.value);
    line(area, (rx, top - 4), (rx, bottom))
}

/// « ⊢⊣ Intervalle de confiance à 95 % » (or « quartiles ») under the axis.
fn interval_note(area: &Area<'_>, (x, y): (i32, i32), interval: super::Interval) -> Drawn {
    whisker(area, x, x + 24, y)?;
    TICK.draw_left(area, &interval.label(), (x + 32, y))
}
