//! The materialised results as the pages read them: every published cell of the `indicateurs`
//! table and every processed drop, loaded once per warehouse version and indexed in memory, so
//! a page is assembled in microseconds and never scans events.
//!
//! [`Results`] answers the questions of the four page kinds: [`Results::overview`] (the
//! national steering view), [`Results::indicator`] (one indicator across territories, months
//! and waves), [`Results::territory`] (one territory against the nation, its wave and its peers)
//! and [`Results::quality`] (every territory's data freshness and rejects).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use copil_warehouse::vocabulary::RejectReason;
use copil_warehouse::{DEPOTS, INDICATEURS, Register, Territory, Warehouse, Wave};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type, TimestampMicrosecondType};
use datafusion::prelude::SessionContext;

use crate::catalogue::{Catalogue, Direction, Indicator};
use crate::comparison::{self, Spread};
use crate::model::{Cell, Niveau, RELATIF};
use crate::read::cells_of;
use crate::{Error, Result};

/// How many peers a territory is compared with.
pub const PEERS: usize = 10;

/// The indicator that sizes territories for peers: people in droits et devoirs.
pub const SIZE_INDICATOR: &str = "beneficiaires_dd";

/// One processed drop, as the data-quality pages show it (counts only, never values).
#[derive(Debug, Clone, PartialEq)]
pub struct Depot {
    /// SHA-256 of the file (the drop's identity).
    pub depot: String,
    /// Territory id (or the folder name of a refused drop).
    pub territoire: String,
    /// File name.
    pub fichier: String,
    /// Extraction date read from the file name.
    pub date_extraction: Option<NaiveDate>,
    /// When it was processed.
    pub traite_le: DateTime<Utc>,
    /// `integre` or `refuse`.
    pub statut: String,
    /// Why it was refused.
    pub message: Option<String>,
    /// Data rows read.
    pub lignes_lues: i64,
    /// Rows landed.
    pub lignes_integrees: i64,
    /// Rows rejected.
    pub lignes_rejetees: i64,
    /// Rejected rows by reason, in [`RejectReason::ALL`] order.
    pub rejets: Vec<(RejectReason, i64)>,
}

impl Depot {
    /// Whether the drop was integrated.
    pub fn integre(&self) -> bool {
        self.statut == "integre"
    }

    /// Share of rows rejected (0 when nothing was read).
    pub fn taux_rejet(&self) -> f64 {
        if self.lignes_lues == 0 {
            0.0
        } else {
            self.lignes_rejetees as f64 / self.lignes_lues as f64
        }
    }
}

type Series = HashMap<(Niveau, String), Vec<Cell>>;

/// Monthly values of a series (`None`: secret or missing).
pub type Monthly = Vec<(NaiveDate, Option<f64>)>;

/// Values by month relative to the SPIE start (`None`: secret or missing).
pub type Relative = Vec<(i32, Option<f64>)>;

/// The materialised results of one warehouse version, indexed for the pages.
#[derive(Debug, Default)]
pub struct Results {
    /// Version of the `indicateurs` table read.
    pub version: u64,
    /// Version of `evenements` the cells were computed from.
    pub version_evenements: u64,
    /// Version of the `depots` table read.
    pub version_depots: u64,
    /// When the cells were computed.
    pub calcule_le: Option<DateTime<Utc>>,
    /// Cells by indicator, then by (level, code), sorted by month, breakdown, modality.
    cells: HashMap<String, Series>,
    /// Every processed drop, oldest first.
    pub depots: Vec<Depot>,
}

/// A month's cells for one indicator at every level, with the spread of territory values.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The month.
    pub mois: NaiveDate,
    /// The national total.
    pub national: Option<&'a Cell>,
    /// Each wave's total, in [`Wave::ALL`] order.
    pub vagues: Vec<(Wave, Option<&'a Cell>)>,
    /// Median and quartiles of published territory values.
    pub dispersion: Option<Spread>,
    /// The same within each wave.
    pub dispersion_vagues: Vec<(Wave, Option<Spread>)>,
}

/// One row of the national view: an indicator at its latest mature month.
#[derive(Debug, Clone)]
pub struct OverviewRow<'a> {
    /// The indicator.
    pub indicateur: &'a Indicator,
    /// Its month and levels.
    pub snapshot: Snapshot<'a>,
    /// The national values over the 12 months up to it, and the change when both ends are
    /// published.
    pub tendance: (Vec<(NaiveDate, Option<f64>)>, Option<f64>),
}

/// One territory's line in an indicator's ranking.
#[derive(Debug, Clone)]
pub struct Ranked<'a> {
    /// The territory.
    pub territoire: &'a Territory,
    /// Its total for the month (absent: no data for that month).
    pub cell: Option<&'a Cell>,
    /// Its rank among published values (1 = best), for an indicator with a direction.
    pub rang: Option<usize>,
}

/// Everything the indicator page shows.
#[derive(Debug, Clone)]
pub struct IndicatorReport<'a> {
    /// The indicator.
    pub indicateur: &'a Indicator,
    /// Months with a national total, oldest first.
    pub mois_disponibles: Vec<NaiveDate>,
    /// The month shown and its levels.
    pub snapshot: Snapshot<'a>,
    /// Territories, best first (then secret ones, then those without data, by name); only the wave's when
    /// one is chosen.
    pub classement: Vec<Ranked<'a>>,
    /// Territories ranked (published values).
    pub classes: usize,
    /// National and per-wave monthly values: (label, [(month, value)]).
    pub series: Vec<(String, Monthly)>,
    /// Per wave, values by month relative to the SPIE start (-12 to +24).
    pub avant_apres: Vec<(Wave, Relative)>,
    /// The breakdown chosen, if any: its cells at the national level for the month.
    pub ventilation: Option<(String, Vec<&'a Cell>)>,
    /// The first national month after the last complete one: provisional from there on.
    pub provisoire_depuis: Option<NaiveDate>,
    /// Per series of [`IndicatorReport::series`], its provisional months.
    pub provisoires: Vec<BTreeSet<NaiveDate>>,
}

/// One indicator on a territory's page.
#[derive(Debug, Clone)]
pub struct TerritoryRow<'a> {
    /// The indicator.
    pub indicateur: &'a Indicator,
    /// The month (the indicator's latest mature month).
    pub mois: NaiveDate,
    /// The territory's total.
    pub territoire: Option<&'a Cell>,
    /// The national total.
    pub national: Option<&'a Cell>,
    /// Its wave's total.
    pub vague: Option<&'a Cell>,
    /// Median of its peers' published values.
    pub pairs: Option<Spread>,
    /// Rank and number ranked.
    pub rang: Option<(usize, usize)>,
    /// Its 12-month trend.
    pub tendance: (Vec<(NaiveDate, Option<f64>)>, Option<f64>),
}

/// Everything a territory's page shows.
#[derive(Debug, Clone)]
pub struct TerritoryReport<'a> {
    /// The territory.
    pub territoire: &'a Territory,
    /// Its peers (closest in size), nearest first.
    pub pairs: Vec<&'a Territory>,
    /// One row per indicator.
    pub lignes: Vec<TerritoryRow<'a>>,
    /// Its drops, newest first.
    pub depots: Vec<&'a Depot>,
}

/// One territory's line on the data-quality page.
#[derive(Debug, Clone)]
pub struct QualityRow<'a> {
    /// The territory.
    pub territoire: &'a Territory,
    /// Its last integrated drop.
    pub dernier: Option<&'a Depot>,
    /// Days between its extraction date and `today`.
    pub age_jours: Option<i64>,
    /// Drops refused since its last integrated one.
    pub refuses: usize,
    /// Drops held for review since its last integrated one (issue 13), oldest first.
    pub en_attente: Vec<&'a Depot>,
}

fn query_error(e: impl std::fmt::Display) -> Error {
    Error::Query {
        indicator: "resultats".into(),
        message: e.to_string(),
    }
}

fn depots_of(batches: &[RecordBatch]) -> Result<Vec<Depot>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut out = Vec::new();
    for b in batches {
        let col = |i: usize, t: &DataType| cast(b.column(i), t).map_err(query_error);
        let text: Vec<_> = [0, 1, 4, 5]
            .iter()
            .map(|&i| col(i, &DataType::Utf8))
            .collect::<Result<_>>()?;
        let date = col(2, &DataType::Date32)?;
        let at = b.column(3).as_primitive::<TimestampMicrosecondType>();
        let longs: Vec<_> = (6..16)
            .map(|i| col(i, &DataType::Int64))
            .collect::<Result<_>>()?;
        let s = |k: usize, i: usize| {
            let a = text[k].as_string::<i32>();
            (!a.is_null(i)).then(|| a.value(i).to_string())
        };
        let l = |k: usize, i: usize| {
            let a = longs[k].as_primitive::<Int64Type>();
            if a.is_null(i) { 0 } else { a.value(i) }
        };
        let depot_ids = col(16, &DataType::Utf8)?;
        let depot_ids = depot_ids.as_string::<i32>();
        for i in 0..b.num_rows() {
            let d = date.as_primitive::<Date32Type>();
            out.push(Depot {
                depot: depot_ids.value(i).to_string(),
                territoire: s(0, i).unwrap_or_default(),
                fichier: s(1, i).unwrap_or_default(),
                date_extraction: (!d.is_null(i))
                    .then(|| epoch + chrono::Days::new(d.value(i) as u64)),
                traite_le: DateTime::from_timestamp_micros(at.value(i)).unwrap_or_default(),
                statut: s(2, i).unwrap_or_default(),
                message: s(3, i),
                lignes_lues: l(0, i),
                lignes_integrees: l(1, i),
                lignes_rejetees: l(2, i),
                rejets: RejectReason::ALL
                    .iter()
                    .enumerate()
                    .map(|(k, r)| (*r, l(3 + k, i)))
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// « mois disponibles : de AAAA-MM à AAAA-MM » over `months`, or `None` when there are none:
/// what a refusal naming a month without figures tells (pages, API and exports alike).
pub fn available_months(months: impl IntoIterator<Item = NaiveDate>) -> Option<String> {
    let mut months = months.into_iter();
    let first = months.next()?;
    let (a, b) = months.fold((first, first), |(a, b), m| (a.min(m), b.max(m)));
    Some(format!(
        "mois disponibles : de {} à {}",
        a.format("%Y-%m"),
        b.format("%Y-%m")
    ))
}

impl Results {
    /// Loads the current versions of `indicateurs` and `depots`.
    pub async fn load(warehouse: &Warehouse) -> Result<Results> {
        let ctx = SessionContext::new();
        let indicateurs = warehouse.load(&INDICATEURS).await?;
        warehouse
            .register_table(&ctx, &INDICATEURS, &indicateurs)
            .await?;
        let depots = warehouse.load(&DEPOTS).await?;
        warehouse.register_table(&ctx, &DEPOTS, &depots).await?;
        let run = |sql: &'static str| {
            let ctx = &ctx;
            async move { crate::sql::collect(ctx, "resultats", sql, Vec::new()).await }
        };
        let cells = cells_of(
            &run(include_str!("../../sql/indicateurs_tous.sql")).await?,
            "indicateurs",
        )?;
        let depots_rows = depots_of(&run(include_str!("../../sql/depots_lus.sql")).await?)?;
        let computed = run(include_str!("../../sql/version_calcul.sql")).await?;
        let (version_evenements, calcule_le) = computed
            .first()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                let v = cast(b.column(0), &DataType::Int64).ok();
                let v = v
                    .as_ref()
                    .map(|a| a.as_primitive::<Int64Type>())
                    .filter(|a| !a.is_null(0))
                    .map_or(0, |a| a.value(0) as u64);
                let at = b.column(1).as_primitive_opt::<TimestampMicrosecondType>();
                let at = at
                    .filter(|a| !a.is_null(0))
                    .and_then(|a| DateTime::from_timestamp_micros(a.value(0)));
                (v, at)
            })
            .unwrap_or((0, None));
        let mut results = Results::from_cells(cells, depots_rows);
        results.version = indicateurs.version().unwrap_or(0) as u64;
        results.version_depots = depots.version().unwrap_or(0) as u64;
        results.version_evenements = version_evenements;
        results.calcule_le = calcule_le;
        Ok(results)
    }

    /// Indexes cells (as read or computed) and drops.
    pub fn from_cells(cells: Vec<Cell>, depots: Vec<Depot>) -> Results {
        let mut index: HashMap<String, Series> = HashMap::new();
        for c in cells {
            index
                .entry(c.indicateur.clone())
                .or_default()
                .entry((c.niveau, c.code.clone()))
                .or_default()
                .push(c);
        }
        for series in index.values_mut() {
            for v in series.values_mut() {
                v.sort_by(|a, b| {
                    (a.mois, &a.ventilation, &a.modalite).cmp(&(
                        b.mois,
                        &b.ventilation,
                        &b.modalite,
                    ))
                });
            }
        }
        Results {
            cells: index,
            depots,
            ..Results::default()
        }
    }

    /// Number of cells held.
    pub fn len(&self) -> usize {
        self.cells
            .values()
            .flat_map(|s| s.values())
            .map(Vec::len)
            .sum()
    }

    /// Whether no cell is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cells of one series (level and code of one indicator), sorted by month.
    pub fn series(&self, indicator: &str, niveau: Niveau, code: &str) -> &[Cell] {
        self.cells
            .get(indicator)
            .and_then(|s| s.get(&(niveau, code.to_string())))
            .map_or(&[], Vec::as_slice)
    }

    /// The published monthly totals of a series (`None` where secret), sorted by month.
    pub fn monthly(
        &self,
        indicator: &str,
        niveau: Niveau,
        code: &str,
    ) -> Vec<(NaiveDate, Option<f64>)> {
        self.series(indicator, niveau, code)
            .iter()
            .filter(|c| c.ventilation.is_empty())
            .map(|c| (c.mois, if c.secret { None } else { c.valeur }))
            .collect()
    }

    /// The total (no breakdown) of a series for a month.
    pub fn total(
        &self,
        indicator: &str,
        niveau: Niveau,
        code: &str,
        mois: NaiveDate,
    ) -> Option<&Cell> {
        let s = self.series(indicator, niveau, code);
        let i = s.partition_point(|c| (c.mois, c.ventilation.as_str()) < (mois, ""));
        s.get(i)
            .filter(|c| c.mois == mois && c.ventilation.is_empty() && c.modalite.is_empty())
    }

    /// The cells of one breakdown of a series for a month.
    pub fn breakdown(
        &self,
        indicator: &str,
        niveau: Niveau,
        code: &str,
        mois: NaiveDate,
        ventilation: &str,
    ) -> Vec<&Cell> {
        self.series(indicator, niveau, code)
            .iter()
            .filter(|c| c.mois == mois && c.ventilation == ventilation)
            .collect()
    }

    /// Months with a national total for an indicator, oldest first ([`available_months`]
    /// says them).
    pub fn months(&self, indicator: &str) -> Vec<NaiveDate> {
        let mut m: Vec<NaiveDate> = self
            .series(indicator, Niveau::National, "national")
            .iter()
            .filter(|c| c.ventilation.is_empty())
            .map(|c| c.mois)
            .collect();
        m.dedup();
        m
    }

    /// The latest month whose national total covers every territory in force (not
    /// provisional); the latest national month if none does.
    fn latest_complete(&self, indicator: &str) -> Option<NaiveDate> {
        let national = self.series(indicator, Niveau::National, "national");
        national
            .iter()
            .rev()
            .find(|c| c.ventilation.is_empty() && !c.provisoire)
            .or_else(|| national.iter().rev().find(|c| c.ventilation.is_empty()))
            .map(|c| c.mois)
    }

    /// The headline month of an indicator: the latest month complete for every territory,
    /// the same for every indicator without an observation window (the earliest of their
    /// latest complete months), and for an indicator with a window its own latest complete
    /// month when that is earlier (its window has not elapsed for later months).
    pub fn latest_month(&self, indicator: &str, _register: &Register) -> Option<NaiveDate> {
        let own = self.latest_complete(indicator)?;
        let common = Catalogue::builtin()
            .iter()
            .filter(|i| i.fenetre_jours == 0)
            .filter_map(|i| self.latest_complete(&i.id))
            .min();
        Some(common.map_or(own, |c| c.min(own)))
    }

    /// Why the headline month of an indicator is the one it is, in French.
    pub fn headline_reason(&self, ind: &Indicator, register: &Register) -> Option<String> {
        let m = self.latest_month(&ind.id, register)?;
        let mois = crate::read::month_label(m);
        Some(if ind.fenetre_jours > 0 {
            format!(
                "{mois} : dernier mois dont la fenêtre d'observation ({} jours) est écoulée pour tous les territoires",
                ind.fenetre_jours
            )
        } else {
            format!(
                "{mois} : dernier mois complet dans les données de tous les territoires, le même pour tous les indicateurs sans fenêtre ; les mois suivants sont provisoires"
            )
        })
    }
}

mod views;

#[cfg(test)]
mod tests;
