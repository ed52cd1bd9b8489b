//! The look shared by every chart: colours of the French State design system, the bundled
//! DejaVu Sans font (registered once, so text metrics are the same on every machine) and small
//! drawing helpers over a plotters SVG drawing area.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle, TextStyle};

/// The font family written in the SVG and registered with plotters: browsers resolve the CSS
/// list (DejaVu Sans where installed, else their sans-serif); layout uses DejaVu Sans metrics.
pub(super) const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

/// plotters writes `font-size` as the text size divided by this factor.
const PLOTTERS_FONT_FACTOR: f64 = 1.24;

/// Bleu France: main bars and lines, darkest end of the tile scale.
pub(super) const BLEU_FRANCE: RGBColor = RGBColor(0x00, 0x00, 0x91);
/// Rouge Marianne: the national reference.
pub(super) const ROUGE_MARIANNE: RGBColor = RGBColor(0xE1, 0x00, 0x0F);
/// Body text.
pub(super) const TEXT: RGBColor = RGBColor(0x16, 0x16, 0x16);
/// Axes, ticks and secondary text.
pub(super) const AXIS: RGBColor = RGBColor(0x66, 0x66, 0x66);
/// Grid lines.
pub(super) const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
/// Border of « secret » and « pas de données » marks.
pub(super) const MARK_BORDER: RGBColor = RGBColor(0x92, 0x92, 0x92);
/// Fill of « secret » marks (under the hatching).
pub(super) const SECRET_FILL: RGBColor = RGBColor(0xEE, 0xEE, 0xEE);
/// Hatching of « secret » marks.
pub(super) const SECRET_HATCH: RGBColor = RGBColor(0x92, 0x92, 0x92);
/// The highlighted bar and curve (the territory being looked at): a reddish purple, apart
/// from the waves' colours.
pub(super) const ACCENT: RGBColor = RGBColor(0x8E, 0x3A, 0x8A);
/// France's lines and references: near black, solid.
pub(super) const FRANCE: RGBColor = TEXT;
/// The waves' colours, in `Wave::ALL` order: Okabe and Ito's blue, vermilion and bluish green
/// (told apart with the common colour-vision deficiencies, each at least 3:1 on white), each
/// with its own marker shape as well.
pub(super) const WAVES: [RGBColor; 3] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x85, 0x60),
];
/// Background.
pub(super) const BACKGROUND: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);

/// Colours of lines that are neither France, a wave nor the territory, in order.
pub(super) const SERIES_COLOURS: [RGBColor; 5] = [
    BLEU_FRANCE,
    ROUGE_MARIANNE,
    RGBColor(0x18, 0x75, 0x3C),
    RGBColor(0xA5, 0x58, 0xA0),
    ACCENT,
];

/// Text sizes (CSS pixels).
pub(super) const SMALL: f64 = 11.0;
/// Normal text.
pub(super) const NORMAL: f64 = 12.0;
/// The « no data » message.
pub(super) const LARGE: f64 = 14.0;

/// Blank space around a chart's content (pixels).
pub(super) const MARGIN: i32 = 12;

/// The drawing surface of a chart.
pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// The result of a drawing step.
pub(super) type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

static FONTS: Once = Once::new();

/// Registers the bundled DejaVu Sans with plotters (once per process).
pub(super) fn ensure_font() {
    FONTS.call_once(|| {
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
            (FontStyle::Italic, dejavu::sans::oblique()),
            (FontStyle::Oblique, dejavu::sans::oblique()),
        ] {
            // The font is bundled and valid; were it not, drawing text would fail and the
            // chart would fall back to a plain message.
            let _ = plotters::style::register_font(FONT_FAMILY, style, bytes);
        }
    });
}

/// Weight or slant of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
    Italic,
}

/// How a text is drawn: size (CSS pixels), weight, colour.
#[derive(Debug, Clone, Copy)]
pub(super) struct Font {
    pub size: f64,
    pub weight: Weight,
    pub colour: RGBColor,
}

impl Font {
    pub const fn new(size: f64, weight: Weight, colour: RGBColor) -> Self {
        Self {
            size,
            weight,
            colour,
        }
    }

    fn desc(&self) -> FontDesc<'static> {
        let style = match self.weight {
            Weight::Regular => FontStyle::Normal,
            Weight::Bold => FontStyle::Bold,
            Weight::Italic => FontStyle::Italic,
        };
        FontDesc::new(
            FontFamily::Name(FONT_FAMILY),
            self.size * PLOTTERS_FONT_FACTOR,
            style,
        )
    }

    /// The width of `text` in this font, in pixels (DejaVu Sans metrics; slightly generous).
    pub fn width(&self, text: &str) -> i32 {
        ensure_font();
        match self.desc().box_size(text) {
            Ok((w, _)) => i32::try_from(w).unwrap_or(i32::MAX / 4),
            // Never expected (the font is bundled): a rough estimate.
            Err(_) => (text.chars().count() as f64 * self.size * 0.62).round() as i32,
        }
    }

    /// `text` shortened with « … » so that it is at most `max` pixels wide.
    pub fn fit(&self, text: &str, max: i32) -> String {
        if self.width(text) <= max {
            return text.to_owned();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let candidate: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
            if self.width(&candidate) <= max {
                return candidate;
            }
        }
        "…".to_owned()
    }

    /// Draws `text` at `at`, anchored by `h` and `v`.
    pub fn draw(&self, area: &Area<'_>, text: &str, at: (i32, i32), h: HPos, v: VPos) -> Drawn {
        let style = TextStyle::from(self.desc())
            .color(&self.colour)
            .pos(Pos::new(h, v));
        area.draw_text(text, &style, at)
    }

    /// Draws `text` from `at`, centred vertically on it: labels, legends and notes.
    pub fn draw_left(&self, area: &Area<'_>, text: &str, at: (i32, i32)) -> Drawn {
        self.draw(area, text, at, HPos::Left, VPos::Center)
    }
}

/// Body text: labels, legends, values.
pub(super) const BODY: Font = Font::new(NORMAL, Weight::Regular, TEXT);
/// Tick labels and the notes under an axis.
pub(super) const TICK: Font = Font::new(SMALL, Weight::Regular, AXIS);

/// A plain stroke style.
pub(super) fn stroke(colour: RGBColor, width: u32) -> ShapeStyle {
    ShapeStyle {
        color: colour.to_rgba(),
        filled: false,
        stroke_width: width,
    }
}

/// A filled rectangle between two corners.
pub(super) fn fill_rect(area: &Area<'_>, a: (i32, i32), b: (i32, i32), colour: RGBColor) -> Drawn {
    let (a, b) = corners(a, b);
    area.draw(&Rectangle::new([a, b], colour.filled()))
}

/// The outline (1 px) of a rectangle between two corners.
pub(super) fn outline_rect(
    area: &Area<'_>,
    a: (i32, i32),
    b: (i32, i32),
    colour: RGBColor,
) -> Drawn {
    let (a, b) = corners(a, b);
    area.draw(&Rectangle::new([a, b], stroke(colour, 1)))
}

fn corners(a: (i32, i32), b: (i32, i32)) -> ((i32, i32), (i32, i32)) {
    ((a.0.min(b.0), a.1.min(b.1)), (a.0.max(b.0), a.1.max(b.1)))
}

/// A polyline.
pub(super) fn polyline(
    area: &Area<'_>,
    points: Vec<(i32, i32)>,
    colour: RGBColor,
    width: u32,
) -> Drawn {
    area.draw(&PathElement::new(points, stroke(colour, width)))
}

/// A dashed straight line from `a` to `b` (`dash` pixels drawn, `gap` pixels skipped).
pub(super) fn dashed_line(
    area: &Area<'_>,
    a: (i32, i32),
    b: (i32, i32),
    colour: RGBColor,
    (dash, gap): (i32, i32),
) -> Drawn {
    let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    let length = dx.hypot(dy);
    if length < 1.0 || dash <= 0 {
        return polyline(area, vec![a, b], colour, 1);
    }
    let period = f64::from(dash + gap.max(0));
    let at = |d: f64| {
        let t = (d / length).min(1.0);
        (
            (f64::from(a.0) + dx * t).round() as i32,
            (f64::from(a.1) + dy * t).round() as i32,
        )
    };
    let mut start = 0.0;
    while start < length {
        polyline(
            area,
            vec![at(start), at(start + f64::from(dash))],
            colour,
            1,
        )?;
        start += period;
    }
    Ok(())
}

/// Diagonal hatching (lines going up to the right, `spacing` pixels apart) inside a rectangle.
pub(super) fn hatch(
    area: &Area<'_>,
    a: (i32, i32),
    b: (i32, i32),
    spacing: i32,
    colour: RGBColor,
) -> Drawn {
    let ((x0, y0), (x1, y1)) = corners(a, b);
    let spacing = spacing.max(2);
    // Lines x + y = c, clipped to the rectangle.
    let mut c = x0 + y0 + spacing;
    while c < x1 + y1 {
        let start_x = x0.max(c - y1);
        let end_x = x1.min(c - y0);
        if end_x > start_x {
            polyline(
                area,
                vec![(start_x, c - start_x), (end_x, c - end_x)],
                colour,
                1,
            )?;
        }
        c += spacing;
    }
    Ok(())
}

/// The « secret » mark: a grey hatched box with a grey border.
pub(super) fn secret_box(area: &Area<'_>, a: (i32, i32), b: (i32, i32)) -> Drawn {
    fill_rect(area, a, b, SECRET_FILL)?;
    hatch(area, a, b, 5, SECRET_HATCH)?;
    outline_rect(area, a, b, MARK_BORDER)
}

/// The « pas de données » mark: a white box with a grey border.
pub(super) fn no_data_box(area: &Area<'_>, a: (i32, i32), b: (i32, i32)) -> Drawn {
    fill_rect(area, a, b, BACKGROUND)?;
    outline_rect(area, a, b, MARK_BORDER)
}

/// The marker shapes of line series, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
    Bar,
}

const SHAPES: [Shape; 5] = [
    Shape::Circle,
    Shape::Square,
    Shape::Triangle,
    Shape::Diamond,
    Shape::Bar,
];

/// Colour and marker of the `i`-th series.
pub(super) fn series_style(i: usize) -> (RGBColor, Shape) {
    (
        SERIES_COLOURS[i % SERIES_COLOURS.len()],
        SHAPES[(i + i / SHAPES.len()) % SHAPES.len()],
    )
}

/// Colour and marker of a series by whom it stands for (the same on every chart), or by its
/// position for [`Tone::Other`].
pub(super) fn tone_style(tone: super::Tone, i: usize) -> (RGBColor, Shape) {
    use super::Tone;
    match tone {
        Tone::France => (FRANCE, Shape::Circle),
        Tone::Wave(w) => (WAVES[w % WAVES.len()], SHAPES[1 + w % (SHAPES.len() - 1)]),
        Tone::Territory => (ACCENT, Shape::Bar),
        Tone::Other => series_style(i),
    }
}

/// Draws a marker centred on `c`.
pub(super) fn marker(area: &Area<'_>, c: (i32, i32), shape: Shape, colour: RGBColor) -> Drawn {
    let (x, y) = c;
    match shape {
        Shape::Circle => area.draw(&Circle::new(c, 3, colour.filled())),
        Shape::Square => fill_rect(area, (x - 3, y - 3), (x + 3, y + 3), colour),
        Shape::Triangle => area.draw(&Polygon::new(
            vec![(x, y - 4), (x + 4, y + 3), (x - 4, y + 3)],
            colour.filled(),
        )),
        Shape::Diamond => area.draw(&Polygon::new(
            vec![(x, y - 4), (x + 4, y), (x, y + 4), (x - 4, y)],
            colour.filled(),
        )),
        Shape::Bar => fill_rect(area, (x - 4, y - 2), (x + 4, y + 2), colour),
    }
}

/// Removes control characters (not allowed in XML) from a label and trims it.
pub(super) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The centred « Aucune donnée publiable » message.
pub(super) fn no_data_message(area: &Area<'_>, width: i32, height: i32) -> Drawn {
    Font::new(LARGE, Weight::Regular, AXIS).draw(
        area,
        "Aucune donnée publiable",
        (width / 2, height / 2),
        HPos::Center,
        VPos::Center,
    )
}

/// The relative luminance of a colour (WCAG), to pick a readable text colour over it.
pub(super) fn luminance(c: RGBColor) -> f64 {
    let channel = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contrast(c: RGBColor) -> f64 {
        1.05 / (luminance(c) + 0.05)
    }

    #[test]
    fn marks_and_lines_contrast_with_white() {
        for c in SERIES_COLOURS
            .into_iter()
            .chain(WAVES)
            .chain([ACCENT, FRANCE])
        {
            assert!(contrast(c) >= 3.0, "{c:?}: {}", contrast(c));
        }
        assert!(contrast(AXIS) >= 4.5);
        assert!(contrast(TEXT) >= 4.5);
        assert!(contrast(ROUGE_MARIANNE) >= 4.5);
    }

    #[test]
    fn text_is_measured_with_dejavu() {
        let font = BODY;
        let short = font.width("Ain");
        let long = font.width("Alpes-de-Haute-Provence");
        assert!(short > 10 && long > 4 * short, "{short} {long}");
        assert!(font.width("WWW") > font.width("iii"));
        let fitted = font.fit("Alpes-de-Haute-Provence", 80);
        assert!(
            fitted.ends_with('…') && font.width(&fitted) <= 80,
            "{fitted}"
        );
        assert_eq!(font.fit("Ain", 80), "Ain");
    }

    #[test]
    fn clean_removes_control_characters() {
        assert_eq!(clean(" a\u{0}b\nc "), "a b c");
    }
}
