//! What the indicator layer computes and publishes: a [`Cell`] per indicator, level
//! ([`Niveau`]), month and breakdown cell. Shared by [`crate::compute`], the pooling,
//! [`crate::secrecy`] and the readers, so that none of them imports another's model (issue 14).

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// The level of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Niveau {
    /// One territory (`code` is its id).
    #[default]
    Territoire,
    /// One wave (`code` is the wave code).
    Vague,
    /// The nation (`code` is `national`).
    National,
}

impl Niveau {
    /// The code stored in tables.
    pub fn code(self) -> &'static str {
        match self {
            Niveau::Territoire => "territoire",
            Niveau::Vague => "vague",
            Niveau::National => "national",
        }
    }
}

/// One published figure: an indicator for a level, a month and a breakdown cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cell {
    /// Indicator id.
    pub indicateur: String,
    /// Level.
    pub niveau: Niveau,
    /// Territory id, wave code or `national`.
    pub code: String,
    /// First day of the month.
    pub mois: NaiveDate,
    /// Breakdown column (empty for the total).
    pub ventilation: String,
    /// Breakdown value (empty for the total).
    pub modalite: String,
    /// Numerator (sum of delays for a delay).
    pub numerateur: Option<i64>,
    /// Denominator (people for a delay).
    pub denominateur: Option<i64>,
    /// People the cell covers (what secrecy counts).
    pub personnes: Option<i64>,
    /// The value: a count, a share in [0, 1], or the median delay in days.
    pub valeur: Option<f64>,
    /// Lower bound of the 95 % Wilson interval (shares).
    pub ic_bas: Option<f64>,
    /// Upper bound of the 95 % Wilson interval (shares).
    pub ic_haut: Option<f64>,
    /// First quartile (delays).
    pub q1: Option<f64>,
    /// Third quartile (delays).
    pub q3: Option<f64>,
    /// Mean (delays).
    pub moyenne: Option<f64>,
    /// Hidden by statistical secrecy: every figure above is then empty.
    pub secret: bool,
    /// Waves and the nation: territories whose month is complete and counted in the cell.
    pub territoires: Option<i64>,
    /// Waves and the nation: territories of the level in force that month.
    pub territoires_attendus: Option<i64>,
    /// Waves and the nation: share of the level's people the counted territories cover.
    pub couverture: Option<f64>,
    /// Waves and the nation: not every territory of the level is counted yet.
    pub provisoire: bool,
}

impl Cell {
    /// What tells two cells of a table apart: indicator, level, code, month, breakdown and
    /// modality.
    pub fn key(&self) -> (&str, Niveau, &str, NaiveDate, &str, &str) {
        (
            &self.indicateur,
            self.niveau,
            &self.code,
            self.mois,
            &self.ventilation,
            &self.modalite,
        )
    }
}

pub(crate) type Key = (Niveau, String, NaiveDate, String, String);

/// One indicator's counts by cell, under a fast hasher: every refresh looks hundreds of
/// thousands of keys up (issue 16).
pub(crate) type Accs = datafusion::common::HashMap<Key, Acc>;

/// The breakdown of a wave's values by month relative to the SPIE start (modalities `-12` to
/// `+24`); its cells are not parts of a total.
pub const RELATIF: &str = "mois_depuis_debut_spie";

pub(crate) fn months_between(start: NaiveDate, m: NaiveDate) -> i32 {
    use chrono::Datelike;
    (m.year() - start.year()) * 12 + m.month() as i32 - start.month() as i32
}

/// A cell's counts before values are derived: numerator, denominator, people, and the delay
/// histogram (days → people) of a delay indicator.
#[derive(Default, Clone, Debug)]
pub(crate) struct Acc {
    pub(crate) num: i64,
    pub(crate) den: i64,
    pub(crate) people: i64,
    pub(crate) histogram: BTreeMap<i64, i64>,
}

impl Acc {
    pub(crate) fn add(&mut self, other: &Acc) {
        self.num += other.num;
        self.den += other.den;
        self.people += other.people;
        for (days, n) in &other.histogram {
            *self.histogram.entry(*days).or_default() += n;
        }
    }
}

/// What a territory's data covers: its drop's extraction date and the first month of its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Extraction date of the drop in force.
    pub extraction: NaiveDate,
    /// First month with an event.
    pub premier_mois: NaiveDate,
}
