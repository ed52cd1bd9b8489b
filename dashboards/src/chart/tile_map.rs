//! A tile map of the 101 départements: one square per département, laid out to read as France.

use std::collections::BTreeMap;

use plotters::style::RGBColor;
use plotters::style::text_anchor::{HPos, VPos};

use super::format::format_value;
use super::style::{
    self, AXIS, Area, BACKGROUND, BLEU_FRANCE, BODY, Drawn, Font, NORMAL, SMALL, TEXT, Weight,
};
use super::svg;
use super::{TileMap, TileState};

/// Where each département sits: (code, column, row). Metropolitan France on a 13 × 12 grid,
/// hand-placed so that neighbours stay neighbours and the whole reads as France:
///
/// ```text
///  col: 0  1  2  3  4  5  6  7  8  9  10 11 12
///  0                      62 59
///  1                   76 80 60 02 08
///  2             50 14 27 95 93 51 55 54 57
///  3    29 22 35 53 61 78 92 75 77 10 52 88 67
///  4       56 44 49 72 28 91 94 89 21 70 90 68
///  5          85 79 37 41 45 18 58 71 39 25
///  6          17 16 86 36 23 03 42 69 01 74
///  7          33 24 87 19 63 43 07 38 73
///  8          40 47 46 15 48 30 26 05
///  9          64 32 82 12 34 84 04 06
/// 10             65 31 81 11 13 83       2B
/// 11                09 66                2A
/// ```
///
/// The five overseas départements sit on their own row (13), under the label « Outre-mer ».
#[rustfmt::skip]
pub(super) const DEPARTEMENT_TILES: [(&str, u8, u8); 101] = [
    ("62", 6, 0), ("59", 7, 0),
    ("76", 5, 1), ("80", 6, 1), ("60", 7, 1), ("02", 8, 1), ("08", 9, 1),
    ("50", 3, 2), ("14", 4, 2), ("27", 5, 2), ("95", 6, 2), ("93", 7, 2), ("51", 8, 2),
    ("55", 9, 2), ("54", 10, 2), ("57", 11, 2),
    ("29", 0, 3), ("22", 1, 3), ("35", 2, 3), ("53", 3, 3), ("61", 4, 3), ("78", 5, 3),
    ("92", 6, 3), ("75", 7, 3), ("77", 8, 3), ("10", 9, 3), ("52", 10, 3), ("88", 11, 3),
    ("67", 12, 3),
    ("56", 1, 4), ("44", 2, 4), ("49", 3, 4), ("72", 4, 4), ("28", 5, 4), ("91", 6, 4),
    ("94", 7, 4), ("89", 8, 4), ("21", 9, 4), ("70", 10, 4), ("90", 11, 4), ("68", 12, 4),
    ("85", 2, 5), ("79", 3, 5), ("37", 4, 5), ("41", 5, 5), ("45", 6, 5), ("18", 7, 5),
    ("58", 8, 5), ("71", 9, 5), ("39", 10, 5), ("25", 11, 5),
    ("17", 2, 6), ("16", 3, 6), ("86", 4, 6), ("36", 5, 6), ("23", 6, 6), ("03", 7, 6),
    ("42", 8, 6), ("69", 9, 6), ("01", 10, 6), ("74", 11, 6),
    ("33", 2, 7), ("24", 3, 7), ("87", 4, 7), ("19", 5, 7), ("63", 6, 7), ("43", 7, 7),
    ("07", 8, 7), ("38", 9, 7), ("73", 10, 7),
    ("40", 2, 8), ("47", 3, 8), ("46", 4, 8), ("15", 5, 8), ("48", 6, 8), ("30", 7, 8),
    ("26", 8, 8), ("05", 9, 8),
    ("64", 2, 9), ("32", 3, 9), ("82", 4, 9), ("12", 5, 9), ("34", 6, 9), ("84", 7, 9),
    ("04", 8, 9), ("06", 9, 9),
    ("65", 3, 10), ("31", 4, 10), ("81", 5, 10), ("11", 6, 10), ("13", 7, 10), ("83", 8, 10),
    ("2B", 11, 10),
    ("09", 4, 11), ("66", 5, 11), ("2A", 11, 11),
    // Outre-mer.
    ("971", 0, OVERSEAS_ROW), ("972", 1, OVERSEAS_ROW), ("973", 2, OVERSEAS_ROW),
    ("974", 3, OVERSEAS_ROW), ("976", 4, OVERSEAS_ROW),
];

/// The row of the overseas départements (row 12 holds their label).
const OVERSEAS_ROW: u8 = 13;
/// Columns of the grid.
const COLUMNS: i32 = 13;

/// Where tiles and legend go, for one drawing width.
#[derive(Clone, Copy)]
struct Geometry {
    tile: i32,
    pitch: i32,
    margin: i32,
    /// Top-left corner of the legend.
    legend: (i32, i32),
    width: i32,
    height: i32,
}

impl Geometry {
    /// The wide drawing: the legend on the right of the map.
    fn wide() -> Geometry {
        let (tile, pitch, margin) = (34, 37, 16);
        let grid_bottom = margin + (i32::from(OVERSEAS_ROW) + 1) * pitch - (pitch - tile);
        Geometry {
            tile,
            pitch,
            margin,
            legend: (margin + COLUMNS * pitch + 20, margin + 4),
            width: super::WIDE,
            height: grid_bottom + margin,
        }
    }

    /// The phone drawing: smaller tiles (codes still at 11 px), the legend under the map.
    fn narrow(width: i32) -> Geometry {
        let margin = 8;
        let pitch = ((width - 2 * margin) / COLUMNS).clamp(20, 37);
        let tile = pitch - 2;
        let grid_bottom = margin + (i32::from(OVERSEAS_ROW) + 1) * pitch - (pitch - tile);
        Geometry {
            tile,
            pitch,
            margin,
            legend: (margin, grid_bottom + 14),
            width,
            height: grid_bottom + 14 + LEGEND_HEIGHT + margin,
        }
    }

    fn corners(&self, col: i32, row: i32) -> ((i32, i32), (i32, i32)) {
        let (x, y) = (
            self.margin + col * self.pitch,
            self.margin + row * self.pitch,
        );
        ((x, y), (x + self.tile, y + self.tile))
    }
}

/// Height of the legend (ramp, its bounds, the two marks).
const LEGEND_HEIGHT: i32 = 102;
/// Left edge of the legend.
/// The colour ramp of the legend: steps × step width.
const RAMP_STEPS: i32 = 20;
const RAMP_STEP: i32 = 9;

/// The sequential scale, light to Bleu France (DSFR blue-france 950, 525, Bleu France).
const SCALE_STOPS: [RGBColor; 3] = [
    RGBColor(0xE3, 0xE3, 0xFD),
    RGBColor(0x6A, 0x6A, 0xF4),
    BLEU_FRANCE,
];

/// What one tile shows, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    Value(f64),
    NoData,
    Secret,
}

/// Draws the 101 départements as a tile map: each a square with its code, coloured on a
/// sequential blue scale (light → Bleu France) from the smallest to the largest value shown;
/// « pas de données » tiles are white with a grey border, « secret » tiles grey and hatched.
/// The overseas départements sit on a separate row labelled « Outre-mer »; a legend gives the
/// scale (minimum → maximum, formatted in the chart's unit) and the two special marks.
///
/// Codes not in the input are drawn as « pas de données »; unknown codes are ignored; for a
/// code given twice, the first tile wins. Never panics: non-finite values count as « pas de
/// données ». With no value at all, the legend says « Aucune donnée publiable ».
pub fn tile_map(m: &TileMap, width: i32) -> String {
    let g = if width < super::WIDE {
        Geometry::narrow(width)
    } else {
        Geometry::wide()
    };
    let mut given: BTreeMap<&str, &TileState> = BTreeMap::new();
    for tile in &m.tiles {
        given.entry(tile.code.trim()).or_insert(&tile.state);
    }
    let fills: Vec<(&str, i32, i32, Fill)> = DEPARTEMENT_TILES
        .iter()
        .map(|&(code, col, row)| {
            let fill = match given.get(code) {
                Some(TileState::Value(v)) if v.is_finite() => Fill::Value(*v),
                Some(TileState::Secret) => Fill::Secret,
                _ => Fill::NoData,
            };
            (code, i32::from(col), i32::from(row), fill)
        })
        .collect();
    let values = fills.iter().filter_map(|&(_, _, _, fill)| match fill {
        Fill::Value(v) => Some(v),
        _ => None,
    });
    let range = values.fold(None, |range: Option<(f64, f64)>, v| match range {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    });

    let size = (g.width.unsigned_abs(), g.height.unsigned_abs());
    let hovers: Vec<svg::Hover> = fills
        .iter()
        .map(|&(code, col, row, fill)| {
            let ((x, y), _) = g.corners(col, row);
            let shown = match fill {
                Fill::Value(v) => format_value(v, m.unit),
                Fill::Secret => "secret".to_string(),
                Fill::NoData => "pas de données".to_string(),
            };
            (
                x,
                y,
                g.tile,
                g.tile,
                format!("Département {code} : {shown}"),
            )
        })
        .collect();
    let drawn = svg::render(&m.caption, size, |area| {
        for &(code, col, row, fill) in &fills {
            draw_tile(area, &g, code, (col, row), fill, range)?;
        }
        let overseas_y = g.margin + (i32::from(OVERSEAS_ROW) - 1) * g.pitch + g.pitch / 2;
        Font::new(NORMAL, Weight::Bold, TEXT).draw_left(
            area,
            "Outre-mer",
            (g.margin, overseas_y),
        )?;
        draw_legend(area, g.legend, range, m.unit)
    });
    svg::with_hovers(drawn, &hovers)
}

fn draw_tile(
    area: &Area<'_>,
    g: &Geometry,
    code: &str,
    (col, row): (i32, i32),
    fill: Fill,
    range: Option<(f64, f64)>,
) -> Drawn {
    let (a, b) = g.corners(col, row);
    let text_colour = match fill {
        Fill::Value(v) => {
            let colour = scale_colour(position(v, range));
            style::fill_rect(area, a, b, colour)?;
            // White or dark text, whichever contrasts more (they tie at a luminance of 0.197).
            if style::luminance(colour) < 0.197 {
                BACKGROUND
            } else {
                TEXT
            }
        }
        Fill::NoData => {
            style::no_data_box(area, a, b)?;
            AXIS
        }
        Fill::Secret => {
            style::secret_box(area, a, b)?;
            TEXT
        }
    };
    let centre = ((a.0 + b.0) / 2, (a.1 + b.1) / 2);
    let font = Font::new(SMALL, Weight::Regular, text_colour);
    if fill == Fill::Secret {
        // The code stays readable over the hatching.
        let half = font.width(code) / 2 + 2;
        style::fill_rect(
            area,
            (centre.0 - half, centre.1 - 7),
            (centre.0 + half, centre.1 + 7),
            BACKGROUND,
        )?;
    }
    font.draw(area, code, centre, HPos::Center, VPos::Center)
}

/// Where `v` sits on the scale, in [0, 1] (the middle when all values are equal).
fn position(v: f64, range: Option<(f64, f64)>) -> f64 {
    match range {
        Some((lo, hi)) if hi > lo => ((v - lo) / (hi - lo)).clamp(0.0, 1.0),
        _ => 0.5,
    }
}

/// The colour at `t` in [0, 1] on the sequential scale.
fn scale_colour(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let segments = (SCALE_STOPS.len() - 1) as f64;
    let scaled = t * segments;
    let i = (scaled.floor() as usize).min(SCALE_STOPS.len() - 2);
    let local = scaled - i as f64;
    let (a, b) = (SCALE_STOPS[i], SCALE_STOPS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * local).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

fn draw_legend(
    area: &Area<'_>,
    (x, mut y): (i32, i32),
    range: Option<(f64, f64)>,
    unit: super::Unit,
) -> Drawn {
    match range {
        Some((lo, hi)) => {
            let steps = if hi > lo { RAMP_STEPS } else { 1 };
            let step_width = RAMP_STEPS * RAMP_STEP / steps;
            for i in 0..steps {
                let t = if steps > 1 {
                    f64::from(i) / f64::from(steps - 1)
                } else {
                    0.5
                };
                let x0 = x + i * step_width;
                style::fill_rect(area, (x0, y), (x0 + step_width, y + 14), scale_colour(t))?;
            }
            let ramp_end = x + RAMP_STEPS * RAMP_STEP;
            // A value under the ramp, at `at` across.
            let label = |value: f64, at: i32, anchor: HPos| {
                BODY.draw(
                    area,
                    &format_value(value, unit),
                    (at, y + 18),
                    anchor,
                    VPos::Top,
                )
            };
            if hi > lo {
                label(lo, x, HPos::Left)?;
                label(hi, ramp_end, HPos::Right)?;
            } else {
                label(lo, (x + ramp_end) / 2, HPos::Center)?;
            }
        }
        None => {
            Font::new(NORMAL, Weight::Italic, AXIS).draw_left(
                area,
                "Aucune donnée publiable",
                (x, y + 7),
            )?;
        }
    }
    y += 56;
    style::no_data_box(area, (x, y), (x + 18, y + 18))?;
    BODY.draw_left(area, "pas de données", (x + 26, y + 9))?;
    y += 28;
    style::secret_box(area, (x, y), (x + 18, y + 18))?;
    BODY.draw_left(area, "secret", (x + 26, y + 9))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_grid_holds_the_101_departements_once_each() {
        let codes: BTreeSet<&str> = DEPARTEMENT_TILES.iter().map(|&(code, _, _)| code).collect();
        assert_eq!(codes.len(), 101);
        let cells: BTreeSet<(u8, u8)> = DEPARTEMENT_TILES
            .iter()
            .map(|&(_, col, row)| (col, row))
            .collect();
        assert_eq!(cells.len(), 101, "two départements share a cell");
        let expected: BTreeSet<String> = (1..=95)
            .filter(|&n| n != 20)
            .map(|n| format!("{n:02}"))
            .chain(["2A", "2B", "971", "972", "973", "974", "976"].map(str::to_owned))
            .collect();
        let codes: BTreeSet<String> = codes.into_iter().map(str::to_owned).collect();
        assert_eq!(codes, expected);
        // The same codes as the warehouse's built-in list.
        let builtin: BTreeSet<String> = copil_warehouse::Departments::builtin()
            .iter()
            .map(|d| d.code.clone())
            .collect();
        assert_eq!(codes, builtin);
    }

    #[test]
    fn the_grid_reads_as_france() {
        let at = |code: &str| {
            DEPARTEMENT_TILES
                .iter()
                .find(|&&(c, _, _)| c == code)
                .map(|&(_, col, row)| (col, row))
                .unwrap()
        };
        let metro = DEPARTEMENT_TILES
            .iter()
            .filter(|(c, _, _)| !c.starts_with("97"));
        let min_col = metro.clone().map(|&(_, col, _)| col).min().unwrap();
        let max_row = metro.clone().map(|&(_, _, row)| row).max().unwrap();
        assert_eq!(at("59").1, 0, "Nord on top");
        assert_eq!(at("29").0, min_col, "Finistère far left");
        assert!(at("67").0 >= 11 && at("68").0 >= 11, "Alsace on the right");
        assert_eq!(at("2A").1, max_row, "Corse at the bottom");
        assert!(at("2B").0 > at("06").0 + 1, "Corse off the coast, right");
        assert!(metro.clone().all(|&(_, _, row)| row < OVERSEAS_ROW - 1));
        assert!(
            DEPARTEMENT_TILES
                .iter()
                .filter(|(c, _, _)| c.starts_with("97"))
                .all(|&(_, _, row)| row == OVERSEAS_ROW)
        );
        // Against the centroids: neighbouring tiles keep their compass order.
        let departments = copil_warehouse::Departments::builtin();
        for &(a, ca, ra) in metro.clone() {
            for &(b, cb, rb) in metro.clone() {
                let (da, db) = (departments.get(a).unwrap(), departments.get(b).unwrap());
                let near = (i32::from(ca) - i32::from(cb)).abs()
                    + (i32::from(ra) - i32::from(rb)).abs()
                    <= 2;
                if !near {
                    continue;
                }
                if ca < cb {
                    assert!(da.longitude < db.longitude + 0.5, "{a} left of {b}");
                }
                if ra < rb {
                    assert!(da.latitude > db.latitude - 0.5, "{a} above {b}");
                }
            }
        }
    }

    #[test]
    fn the_scale_goes_from_light_to_bleu_france() {
        assert_eq!(scale_colour(0.0), SCALE_STOPS[0]);
        assert_eq!(scale_colour(1.0), BLEU_FRANCE);
        assert_eq!(scale_colour(f64::NAN), SCALE_STOPS[0]);
        let l = |t| style::luminance(scale_colour(t));
        assert!(l(0.0) > l(0.25) && l(0.25) > l(0.5) && l(0.5) > l(0.75) && l(0.75) > l(1.0));
        assert_eq!(position(5.0, Some((5.0, 5.0))), 0.5);
        assert_eq!(position(7.5, Some((5.0, 10.0))), 0.5);
    }
}
