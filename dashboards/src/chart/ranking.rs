//! Territories ranked: one horizontal bar each, with 95 % intervals and reference lines.

use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::{format_tick, format_value};
use super::scale::Scale;
use super::style::{
    self, ACCENT, AXIS, Area, BACKGROUND, BLEU_FRANCE, Drawn, Font, GRID, NORMAL, ROUGE_MARIANNE,
    SMALL, TEXT, Weight,
};
use super::svg;
use super::{Bar, Ranking, Unit};

const WIDTH: i32 = 760;
/// Height of one bar's row.
const ROW: i32 = 22;
/// Thickness of a bar.
const BAR: i32 = 14;
/// Height of one reference label row, above the plot.
const REFERENCE_ROW: i32 = 18;
/// Widest territory label before it is shortened with « … ».
const LABEL_MAX: i32 = 230;
/// Length of the « secret » box.
const SECRET_WIDTH: i32 = 40;
const MARGIN: i32 = 12;

const LABEL: Font = Font::new(NORMAL, Weight::Regular, TEXT);
const LABEL_HIGHLIGHT: Font = Font::new(NORMAL, Weight::Bold, ACCENT);
const VALUE: Font = Font::new(NORMAL, Weight::Regular, TEXT);
const VALUE_HIGHLIGHT: Font = Font::new(NORMAL, Weight::Bold, TEXT);
const MISSING: Font = Font::new(SMALL, Weight::Italic, AXIS);
const TICK: Font = Font::new(SMALL, Weight::Regular, AXIS);

/// What is written at the end of a bar.
enum BarText {
    Value(String),
    Secret,
    Missing,
}

/// A reference line, ready to draw.
struct RefLine {
    text: String,
    value: f64,
    colour: RGBColor,
    national: bool,
}

/// Draws a ranking as horizontal bars, top to bottom in the given order.
///
/// Each bar carries its value at its end and, when both bounds are known, its 95 % interval
/// as a whisker. Secret bars are a grey hatched box labelled « secret »; bars without a value
/// say « pas de données ». The highlighted bar is drawn in the accent colour with a bold
/// label. Reference lines cross the plot vertically, labelled with their value (« National
/// 45,2 % »): a reference whose label starts with « National » is drawn in red Marianne, the
/// others as dark dashed lines. The height grows with the number of bars.
///
/// Never panics: non-finite values are treated as missing. With no bar at all, the chart only
/// says « Aucune donnée publiable ».
pub fn ranking(r: &Ranking) -> String {
    if r.bars.is_empty() {
        return svg::empty(&r.caption, (WIDTH as u32, 120));
    }
    let unit = r.unit;
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());

    // The value domain: bars, intervals and references, always with zero (bars start there).
    let mut domain: Vec<f64> = Vec::new();
    for bar in r.bars.iter().filter(|b| !b.secret) {
        domain.extend(finite(bar.value));
        if let (Some(low), Some(high)) = (finite(bar.low), finite(bar.high)) {
            domain.extend([low, high]);
        }
    }
    let references: Vec<RefLine> = r
        .references
        .iter()
        .filter(|reference| reference.value.is_finite())
        .map(|reference| {
            let label = style::clean(&reference.label);
            let national = label.to_lowercase().starts_with("national");
            RefLine {
                text: format!("{label} {}", format_value(reference.value, unit)),
                value: reference.value,
                colour: if national { ROUGE_MARIANNE } else { TEXT },
                national,
            }
        })
        .collect();
    domain.extend(references.iter().map(|reference| reference.value));
    let has_data = !domain.is_empty();
    let min = domain.iter().copied().fold(0.0, f64::min);
    let max = domain.iter().copied().fold(0.0, f64::max);
    let scale = Scale::nice(min, max, 5, unit == Unit::Count);

    // Horizontal layout: labels on the left, values on the right of the bars.
    let labels: Vec<(String, Font)> = r
        .bars
        .iter()
        .map(|bar| {
            let font = if bar.highlight {
                LABEL_HIGHLIGHT
            } else {
                LABEL
            };
            (font.fit(&style::clean(&bar.label), LABEL_MAX), font)
        })
        .collect();
    let label_width = labels
        .iter()
        .map(|(text, font)| font.width(text))
        .max()
        .unwrap_or(0);
    let texts: Vec<BarText> = r.bars.iter().map(|bar| bar_text(bar, unit)).collect();
    let value_width = texts
        .iter()
        .zip(&r.bars)
        .map(|(text, bar)| match text {
            BarText::Value(v) => value_font(bar).width(v),
            BarText::Secret | BarText::Missing => 0,
        })
        .max()
        .unwrap_or(0);
    let x0 = MARGIN + label_width + 10;
    let x1 = (WIDTH - MARGIN - value_width - 8).max(x0 + 120);

    // Vertical layout: reference labels, bars, axis, interval note.
    let n = i32::try_from(r.bars.len()).unwrap_or(i32::MAX / ROW / 2);
    let n_refs = i32::try_from(references.len()).unwrap_or(0);
    let top = MARGIN + n_refs * REFERENCE_ROW + if n_refs > 0 { 6 } else { 0 };
    let bottom = top + n * ROW;
    let any_interval = r.bars.iter().any(has_interval);
    let mut height = bottom + MARGIN;
    if has_data {
        height += 20;
    }
    if any_interval {
        height += 24;
    }

    let x = |v: f64| scale.map(v, x0, x1);
    let size = (WIDTH as u32, u32::try_from(height).unwrap_or(120));
    svg::render(&r.caption, size, |area| {
        if has_data {
            draw_axis(area, &scale, unit, (x0, x1), (top, bottom))?;
        }
        let row_y = |i: usize| top + i32::try_from(i).unwrap_or(0) * ROW + ROW / 2;
        for (i, ((bar, text), (label, font))) in r.bars.iter().zip(&texts).zip(&labels).enumerate()
        {
            font.draw(area, label, (x0 - 10, row_y(i)), HPos::Right, VPos::Center)?;
            draw_bar(area, bar, text, &x, row_y(i))?;
        }
        for (i, reference) in references.iter().enumerate() {
            let label_row = MARGIN + i32::try_from(i).unwrap_or(0) * REFERENCE_ROW;
            draw_reference(area, reference, x(reference.value), label_row, bottom)?;
        }
        // Whiskers and values last, over the reference lines.
        for (i, (bar, text)) in r.bars.iter().zip(&texts).enumerate() {
            if let BarText::Value(label) = text {
                draw_value(area, bar, label, &x, row_y(i))?;
            }
        }
        if any_interval {
            interval_note(
                area,
                (x0, bottom + if has_data { 24 } else { 4 }),
                r.interval,
            )?;
        }
        Ok(())
    })
}

fn value_font(bar: &Bar) -> Font {
    if bar.highlight {
        VALUE_HIGHLIGHT
    } else {
        VALUE
    }
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

fn draw_axis(
    area: &Area<'_>,
    scale: &Scale,
    unit: Unit,
    (x0, x1): (i32, i32),
    (top, bottom): (i32, i32),
) -> Drawn {
    for tick in scale.ticks() {
        let tx = scale.map(tick, x0, x1);
        style::polyline(area, vec![(tx, top), (tx, bottom)], GRID, 1)?;
        TICK.draw(
            area,
            &format_tick(tick, unit, scale.step),
            (tx, bottom + 5),
            HPos::Center,
            VPos::Top,
        )?;
    }
    let zero = scale.map(0.0, x0, x1);
    style::polyline(area, vec![(zero, top), (zero, bottom)], AXIS, 1)
}

fn draw_bar(area: &Area<'_>, bar: &Bar, text: &BarText, x: &impl Fn(f64) -> i32, cy: i32) -> Drawn {
    let zero = x(0.0);
    let (y0, y1) = (cy - BAR / 2, cy + BAR / 2);
    match text {
        BarText::Secret => {
            style::secret_box(area, (zero, y0), (zero + SECRET_WIDTH, y1))?;
            MISSING.draw(
                area,
                "secret",
                (zero + SECRET_WIDTH + 6, cy),
                HPos::Left,
                VPos::Center,
            )
        }
        BarText::Missing => MISSING.draw(
            area,
            "pas de données",
            (zero + 6, cy),
            HPos::Left,
            VPos::Center,
        ),
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

/// The interval whisker and the value written at the end of a bar, on a white background so
/// that reference lines do not cross it.
fn draw_value(area: &Area<'_>, bar: &Bar, label: &str, x: &impl Fn(f64) -> i32, cy: i32) -> Drawn {
    let value = bar.value.unwrap_or(0.0);
    let mut label_x = x(value).max(x(0.0));
    if has_interval(bar) {
        let (low, high) = (x(bar.low.unwrap_or(value)), x(bar.high.unwrap_or(value)));
        whisker(area, low.min(high), low.max(high), cy)?;
        label_x = label_x.max(high).max(low);
    }
    let font = value_font(bar);
    let (left, right) = (label_x + 4, label_x + 6 + font.width(label) + 2);
    style::fill_rect(area, (left, cy - 8), (right, cy + 8), BACKGROUND)?;
    font.draw(area, label, (label_x + 6, cy), HPos::Left, VPos::Center)
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

fn draw_reference(area: &Area<'_>, reference: &RefLine, rx: i32, row_y: i32, bottom: i32) -> Drawn {
    let font = Font::new(NORMAL, Weight::Regular, reference.colour);
    let label_y = row_y + REFERENCE_ROW / 2;
    let text_width = font.width(&reference.text);
    if rx + 4 + text_width <= WIDTH - 4 {
        font.draw(
            area,
            &reference.text,
            (rx + 4, label_y),
            HPos::Left,
            VPos::Center,
        )?;
    } else {
        font.draw(
            area,
            &reference.text,
            (rx - 4, label_y),
            HPos::Right,
            VPos::Center,
        )?;
    }
    let from = (rx, row_y + 3);
    let to = (rx, bottom);
    if reference.national {
        style::polyline(area, vec![from, to], reference.colour, 2)
    } else {
        style::dashed_line(area, from, to, reference.colour, (5, 3))
    }
}

/// « ⊢⊣ Intervalle de confiance à 95 % » (or « quartiles ») under the axis.
fn interval_note(area: &Area<'_>, (x, y): (i32, i32), interval: super::Interval) -> Drawn {
    whisker(area, x, x + 24, y)?;
    Font::new(SMALL, Weight::Regular, AXIS).draw(
        area,
        &interval.label(),
        (x + 32, y),
        HPos::Left,
        VPos::Center,
    )
}
