//! Server-drawn SVG charts (plotters, SVG backend, DejaVu Sans metrics): deterministic output
//! with `<title>`, `<desc>` and `role="img"`.
//!
//! Each chart takes plain data (already under statistical secrecy) and returns the SVG text.

use chrono::NaiveDate;

mod before_after;
mod format;
mod lines;
mod ranking;
mod scale;
mod scaling;
mod style;
mod svg;
mod tile_map;
mod timeline;

#[cfg(test)]
mod tests;

pub use before_after::before_after;
pub use format::format_value;
pub use ranking::ranking;
pub use scaling::scaling;
pub use tile_map::tile_map;
pub use timeline::timeline;

/// The width a chart is drawn at, in CSS pixels. Pages send both drawings and the stylesheet
/// shows one: a chart is redrawn for a phone, never shrunk until its text is unreadable
/// (issue 15).
pub const WIDE: i32 = 760;
/// The phone drawing (fits a 360 px screen with its margins).
pub const NARROW: i32 = 330;

/// Who a line, a reference or a bar stands for: each keeps one colour (and marker shape) on
/// every chart of the site (issue 15: a wave no longer changes colour between charts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// France.
    France,
    /// A wave, by its index in `Wave::ALL`.
    Wave(usize),
    /// The territory being looked at.
    Territory,
    /// Anything else, by position.
    #[default]
    Other,
}

/// How values are read and written on axes and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share in [0, 1], written as a percentage (« 45,3 % »).
    Share,
    /// A number of days (« 32 j »).
    Days,
    /// A count of people (« 1 234 »).
    Count,
    /// A duration in seconds (« 2,5 s »), for benchmarks.
    Seconds,
    /// A memory size in mebibytes (« 1 222 Mio »), for benchmarks.
    Mebibytes,
}

/// What every chart carries for assistive technology.
#[derive(Debug, Clone, PartialEq)]
pub struct Caption {
    /// The `<title>` (short).
    pub title: String,
    /// The `<desc>` (one or two sentences saying what the chart shows).
    pub desc: String,
}

/// One bar of a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The label (territory name).
    pub label: String,
    /// The value; `None` when secret or missing.
    pub value: Option<f64>,
    /// 95 % interval bounds, when known.
    pub low: Option<f64>,
    /// Upper bound.
    pub high: Option<f64>,
    /// Hidden by statistical secrecy (drawn as a hatched/grey mark labelled « secret »).
    pub secret: bool,
    /// Drawn in the accent colour (the territory being looked at).
    pub highlight: bool,
}

/// A horizontal/vertical reference line (national value, a wave's value).
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Its label (« National », « Vague 2021 A »).
    pub label: String,
    /// Its value.
    pub value: f64,
    /// Whose value it is (its colour).
    pub tone: Tone,
}

/// Territories ranked: one horizontal bar each, in the given order, with intervals and
/// reference lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Title and description.
    pub caption: Caption,
    /// Unit of the values.
    pub unit: Unit,
    /// Bars, drawn top to bottom in this order.
    pub bars: Vec<Bar>,
    /// Reference lines.
    pub references: Vec<Reference>,
    /// What the whiskers show.
    pub interval: Interval,
}

/// What a ranking's whiskers show (issue 12: quartiles are called quartiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interval {
    /// A 95 % confidence interval (shares).
    #[default]
    Confiance95,
    /// The first and third quartiles (delays).
    Quartiles,
}

impl Interval {
    /// The note under the axis.
    pub fn label(self) -> String {
        match self {
            Interval::Confiance95 => "Intervalle de confiance à 95\u{202f}%".to_string(),
            Interval::Quartiles => "Premier et troisième quartiles".to_string(),
        }
    }
}

/// A named series of monthly values (`None`: secret or missing, the line is broken there).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// (first day of the month, value).
    pub points: Vec<(NaiveDate, Option<f64>)>,
    /// Whose series it is (its colour and marker).
    pub tone: Tone,
}

/// Monthly time series (national and per wave).
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Title and description.
    pub caption: Caption,
    /// Unit of the values.
    pub unit: Unit,
    /// One line per series, with a legend.
    pub series: Vec<Series>,
    /// Vertical marks (month, label): where the provisional months begin, a break in the series.
    pub marks: Vec<(NaiveDate, String)>,
}

/// A series by month relative to the SPIE start (x from -12 to +24).
#[derive(Debug, Clone, PartialEq)]
pub struct RelativeSeries {
    /// Legend label (the wave).
    pub label: String,
    /// (months since the SPIE start, value).
    pub points: Vec<(i32, Option<f64>)>,
    /// Whose series it is (its colour and marker).
    pub tone: Tone,
}

/// Before / after the SPIE start, one line per wave, with a vertical mark at month 0.
#[derive(Debug, Clone, PartialEq)]
pub struct BeforeAfter {
    /// Title and description.
    pub caption: Caption,
    /// Unit of the values.
    pub unit: Unit,
    /// One line per wave.
    pub series: Vec<RelativeSeries>,
}

/// Measures against a size: a benchmark's time or memory against the rows it read.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    /// Title and description.
    pub caption: Caption,
    /// Unit of the values.
    pub unit: Unit,
    /// One line per measured step: (thousands of rows, value).
    pub series: Vec<RelativeSeries>,
}

/// The state of one département tile.
#[derive(Debug, Clone, PartialEq)]
pub enum TileState {
    /// The value of the territory covering it.
    Value(f64),
    /// No territory covers it, or no data.
    NoData,
    /// The covering territory's value is secret.
    Secret,
}

/// One département on the tile map.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// Département code (« 01 » … « 2A », « 2B », « 971 » … « 976 »).
    pub code: String,
    /// What to show.
    pub state: TileState,
}

/// A tile map of the 101 départements laid out to read as France (overseas tiles included),
/// coloured by value on a sequential scale, with a legend and distinct marks for « pas de
/// données » and « secret ».
#[derive(Debug, Clone, PartialEq)]
pub struct TileMap {
    /// Title and description.
    pub caption: Caption,
    /// Unit of the values.
    pub unit: Unit,
    /// One tile per département (missing codes are drawn as « pas de données »).
    pub tiles: Vec<Tile>,
}
