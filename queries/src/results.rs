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
            async move {
                ctx.sql(sql)
                    .await
                    .map_err(query_error)?
                    .collect()
                    .await
                    .map_err(query_error)
            }
        };
        let cells = cells_of(
            &run(include_str!("../sql/indicateurs_tous.sql")).await?,
            "indicateurs",
        )?;
        let depots_rows = depots_of(&run(include_str!("../sql/depots_lus.sql")).await?)?;
        let computed = run(include_str!("../sql/version_calcul.sql")).await?;
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

    /// Months with a national total for an indicator, oldest first.
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

    /// Territory totals of an indicator for a month (all territories, secret ones included).
    fn territory_totals(&self, indicator: &str, mois: NaiveDate, register: &Register) -> Vec<Cell> {
        register
            .iter()
            .filter_map(|t| self.total(indicator, Niveau::Territoire, &t.id, mois))
            .cloned()
            .collect()
    }

    /// An indicator's levels for a month.
    pub fn snapshot<'a>(
        &'a self,
        indicator: &str,
        mois: NaiveDate,
        register: &Register,
    ) -> Snapshot<'a> {
        let totals = self.territory_totals(indicator, mois, register);
        Snapshot {
            mois,
            national: self.total(indicator, Niveau::National, "national", mois),
            vagues: Wave::ALL
                .iter()
                .map(|w| (*w, self.total(indicator, Niveau::Vague, w.code(), mois)))
                .collect(),
            dispersion: comparison::spread(&totals, mois, register, None),
            dispersion_vagues: Wave::ALL
                .iter()
                .map(|w| (*w, comparison::spread(&totals, mois, register, Some(*w))))
                .collect(),
        }
    }

    fn trend(
        &self,
        indicator: &str,
        niveau: Niveau,
        code: &str,
        mois: NaiveDate,
    ) -> (Vec<(NaiveDate, Option<f64>)>, Option<f64>) {
        comparison::trend(self.series(indicator, niveau, code), niveau, code, mois)
    }

    /// The national view: every indicator at its latest mature month.
    pub fn overview<'a>(
        &'a self,
        catalogue: &'a Catalogue,
        register: &Register,
    ) -> Vec<OverviewRow<'a>> {
        catalogue
            .iter()
            .filter_map(|ind| {
                let mois = self.latest_month(&ind.id, register)?;
                Some(OverviewRow {
                    indicateur: ind,
                    snapshot: self.snapshot(&ind.id, mois, register),
                    tendance: self.trend(&ind.id, Niveau::National, "national", mois),
                })
            })
            .collect()
    }

    /// One indicator's page for a month (default: its latest mature month), optionally one
    /// wave's territories and one breakdown. `None` when the month has no national total.
    pub fn indicator<'a>(
        &'a self,
        ind: &'a Indicator,
        register: &'a Register,
        mois: Option<NaiveDate>,
        vague: Option<Wave>,
        ventilation: Option<&str>,
    ) -> Option<IndicatorReport<'a>> {
        let disponibles = self.months(&ind.id);
        let mois = match mois {
            Some(m) => disponibles.contains(&m).then_some(m)?,
            None => self.latest_month(&ind.id, register)?,
        };
        let totals = self.territory_totals(&ind.id, mois, register);
        let mut classement: Vec<Ranked<'a>> = register
            .iter()
            .filter(|t| vague.is_none_or(|w| t.vague == w))
            .map(|t| Ranked {
                territoire: t,
                cell: self.total(&ind.id, Niveau::Territoire, &t.id, mois),
                rang: comparison::rank(&totals, mois, register, ind.direction, &t.id).map(|r| r.0),
            })
            .collect();
        let published = |r: &Ranked| r.cell.filter(|c| !c.secret).and_then(|c| c.valeur);
        // Published values best first, then secret cells, then territories without data.
        let class = |r: &Ranked| match r.cell {
            Some(c) if !c.secret && c.valeur.is_some() => 0,
            Some(c) if c.secret => 1,
            _ => 2,
        };
        classement.sort_by(|a, b| {
            class(a)
                .cmp(&class(b))
                .then_with(|| match (published(a), published(b)) {
                    (Some(x), Some(y)) if ind.direction == Direction::Baisse => x.total_cmp(&y),
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    _ => std::cmp::Ordering::Equal,
                })
                .then(a.territoire.nom.cmp(&b.territoire.nom))
        });
        let classes = classement.iter().filter(|r| published(r).is_some()).count();
        let values = |niveau: Niveau, code: &str| -> Vec<(NaiveDate, Option<f64>)> {
            self.series(&ind.id, niveau, code)
                .iter()
                .filter(|c| c.ventilation.is_empty())
                .map(|c| (c.mois, if c.secret { None } else { c.valeur }))
                .collect()
        };
        let provisional = |niveau: Niveau, code: &str| -> BTreeSet<NaiveDate> {
            self.series(&ind.id, niveau, code)
                .iter()
                .filter(|c| c.ventilation.is_empty() && c.provisoire)
                .map(|c| c.mois)
                .collect()
        };
        let mut series = vec![("France".to_string(), values(Niveau::National, "national"))];
        let mut provisoires = vec![provisional(Niveau::National, "national")];
        for w in Wave::ALL {
            series.push((w.label().to_string(), values(Niveau::Vague, w.code())));
            provisoires.push(provisional(Niveau::Vague, w.code()));
        }
        let last_complete = self.latest_complete(&ind.id);
        let provisoire_depuis = provisoires[0]
            .iter()
            .copied()
            .find(|m| last_complete.is_none_or(|c| *m > c));
        let avant_apres = Wave::ALL
            .iter()
            .map(|w| {
                let points = self
                    .series(&ind.id, Niveau::Vague, w.code())
                    .iter()
                    .filter(|c| c.ventilation == RELATIF)
                    .filter_map(|c| {
                        let k: i32 = c.modalite.parse().ok()?;
                        Some((k, if c.secret { None } else { c.valeur }))
                    })
                    .collect::<BTreeMap<i32, Option<f64>>>()
                    .into_iter()
                    .collect();
                (*w, points)
            })
            .collect();
        let ventilation = ventilation
            .filter(|v| ind.ventilations.iter().any(|x| x == v))
            .map(|v| {
                (
                    v.to_string(),
                    self.breakdown(&ind.id, Niveau::National, "national", mois, v),
                )
            });
        Some(IndicatorReport {
            indicateur: ind,
            mois_disponibles: disponibles,
            snapshot: self.snapshot(&ind.id, mois, register),
            classement,
            classes,
            series,
            avant_apres,
            ventilation,
            provisoire_depuis,
            provisoires,
        })
    }

    /// The sizes used for peers: each territory's published people in droits et devoirs at
    /// the latest mature month.
    pub fn sizes(&self, register: &Register) -> BTreeMap<String, f64> {
        let Some(mois) = self.latest_month(SIZE_INDICATOR, register) else {
            return BTreeMap::new();
        };
        register
            .iter()
            .filter_map(|t| {
                let c = self.total(SIZE_INDICATOR, Niveau::Territoire, &t.id, mois)?;
                Some((t.id.clone(), c.valeur.filter(|_| !c.secret)?))
            })
            .collect()
    }

    /// A territory's page: every indicator against the nation, its wave and its peers.
    pub fn territory<'a>(
        &'a self,
        catalogue: &'a Catalogue,
        register: &'a Register,
        territoire: &'a Territory,
    ) -> TerritoryReport<'a> {
        let peer_ids = comparison::peers(&self.sizes(register), &territoire.id, PEERS);
        let pairs: Vec<&Territory> = peer_ids.iter().filter_map(|id| register.get(id)).collect();
        let lignes = catalogue
            .iter()
            .filter_map(|ind| {
                let mois = self.latest_month(&ind.id, register)?;
                let totals = self.territory_totals(&ind.id, mois, register);
                let peer_cells: Vec<Cell> = totals
                    .iter()
                    .filter(|c| peer_ids.contains(&c.code))
                    .cloned()
                    .collect();
                Some(TerritoryRow {
                    indicateur: ind,
                    mois,
                    territoire: self.total(&ind.id, Niveau::Territoire, &territoire.id, mois),
                    national: self.total(&ind.id, Niveau::National, "national", mois),
                    vague: self.total(&ind.id, Niveau::Vague, territoire.vague.code(), mois),
                    pairs: comparison::spread(&peer_cells, mois, register, None),
                    rang: comparison::rank(&totals, mois, register, ind.direction, &territoire.id),
                    tendance: self.trend(&ind.id, Niveau::Territoire, &territoire.id, mois),
                })
            })
            .collect();
        let mut depots: Vec<&Depot> = self
            .depots
            .iter()
            .filter(|d| d.territoire == territoire.id)
            .collect();
        depots.reverse();
        TerritoryReport {
            territoire,
            pairs,
            lignes,
            depots,
        }
    }

    /// Every territory's data freshness on `today`.
    pub fn quality<'a>(&'a self, register: &'a Register, today: NaiveDate) -> Vec<QualityRow<'a>> {
        register
            .iter()
            .map(|t| {
                let own: Vec<&Depot> = self
                    .depots
                    .iter()
                    .filter(|d| d.territoire == t.id)
                    .collect();
                let last = own.iter().rposition(|d| d.integre());
                let dernier = last.map(|i| own[i]);
                QualityRow {
                    territoire: t,
                    dernier,
                    age_jours: dernier
                        .and_then(|d| d.date_extraction)
                        .map(|e| (today - e).num_days()),
                    refuses: own[last.map_or(0, |i| i + 1)..]
                        .iter()
                        .filter(|d| d.statut == "refuse")
                        .count(),
                    en_attente: own[last.map_or(0, |i| i + 1)..]
                        .iter()
                        .copied()
                        .filter(|d| d.statut == "en_attente")
                        .collect(),
                }
            })
            .collect()
    }

    /// The extraction dates of the data in place: the oldest and the newest.
    pub fn extraction_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let mut latest: BTreeMap<&str, NaiveDate> = BTreeMap::new();
        for d in self.depots.iter().filter(|d| d.integre()) {
            if let Some(e) = d.date_extraction {
                latest.insert(&d.territoire, e);
            }
        }
        let dates: BTreeSet<NaiveDate> = latest.values().copied().collect();
        Some((*dates.first()?, *dates.last()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use copil_warehouse::Departments;

    fn cell(
        ind: &str,
        niveau: Niveau,
        code: &str,
        mois: &str,
        v: Option<f64>,
        secret: bool,
    ) -> Cell {
        Cell {
            indicateur: ind.into(),
            niveau,
            code: code.into(),
            mois: NaiveDate::parse_from_str(&format!("{mois}-01"), "%Y-%m-%d").unwrap(),
            ventilation: String::new(),
            modalite: String::new(),
            numerateur: None,
            denominateur: None,
            personnes: v.map(|_| 100),
            valeur: if secret { None } else { v },
            ic_bas: None,
            ic_haut: None,
            q1: None,
            q3: None,
            moyenne: None,
            secret,
            ..Default::default()
        }
    }

    fn fixture() -> (Results, Register) {
        let register = Register::builtin(&Departments::builtin());
        let ids: Vec<String> = register.iter().take(3).map(|t| t.id.clone()).collect();
        let t = |i: usize| ids[i].as_str();
        let ind = "orientes_30j";
        let cells = vec![
            // Territory 0 and 1 reach 2024-02; territory 2 only 2024-01 (extracted earlier).
            cell(ind, Niveau::Territoire, t(0), "2024-01", Some(0.50), false),
            cell(ind, Niveau::Territoire, t(0), "2024-02", Some(0.40), false),
            cell(ind, Niveau::Territoire, t(1), "2024-01", Some(0.70), false),
            cell(ind, Niveau::Territoire, t(1), "2024-02", Some(0.60), false),
            cell(ind, Niveau::Territoire, t(2), "2024-01", Some(0.10), true),
            cell(
                ind,
                Niveau::National,
                "national",
                "2024-01",
                Some(0.55),
                false,
            ),
            Cell {
                provisoire: true,
                ..cell(
                    ind,
                    Niveau::National,
                    "national",
                    "2024-02",
                    Some(0.52),
                    false,
                )
            },
        ];
        (Results::from_cells(cells, Vec::new()), register)
    }

    /// Issue 13: a held drop is listed as held, not counted with the refused.
    #[test]
    fn held_drops_are_listed_apart_from_refused_ones() {
        let register = Register::builtin(&Departments::builtin());
        let t = register.iter().next().unwrap().id.clone();
        let depot = |fichier: &str, statut: &str| Depot {
            depot: fichier.into(),
            territoire: t.clone(),
            fichier: fichier.into(),
            date_extraction: NaiveDate::from_ymd_opt(2025, 6, 30),
            traite_le: DateTime::from_timestamp(0, 0).unwrap(),
            statut: statut.into(),
            message: None,
            lignes_lues: 10,
            lignes_integrees: 10,
            lignes_rejetees: 0,
            rejets: Vec::new(),
        };
        let r = Results::from_cells(
            Vec::new(),
            vec![
                depot("a.csv", "integre"),
                depot("b.csv", "refuse"),
                depot("c.csv", "en_attente"),
            ],
        );
        let today = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let q = r.quality(&register, today);
        let row = q.iter().find(|q| q.territoire.id == t).unwrap();
        assert_eq!(row.refuses, 1);
        assert_eq!(
            row.en_attente
                .iter()
                .map(|d| d.fichier.as_str())
                .collect::<Vec<_>>(),
            ["c.csv"]
        );
    }

    #[test]
    fn the_headline_month_is_the_latest_with_every_territory() {
        let (r, register) = fixture();
        // 2024-02 has a national total but territory 2 stops at 2024-01: it is provisional.
        assert_eq!(
            r.latest_month("orientes_30j", &register),
            NaiveDate::from_ymd_opt(2024, 1, 1)
        );
        assert_eq!(r.months("orientes_30j").len(), 2);
    }

    #[test]
    fn the_ranking_puts_the_best_first_and_secret_cells_last_unranked() {
        let (r, register) = fixture();
        let catalogue = Catalogue::builtin();
        let ind = catalogue.get("orientes_30j").unwrap();
        let report = r.indicator(ind, &register, None, None, None).unwrap();
        let first: Vec<(&str, Option<usize>)> = report
            .classement
            .iter()
            .take(3)
            .map(|x| (x.territoire.id.as_str(), x.rang))
            .collect();
        let ids: Vec<&str> = register.iter().take(3).map(|t| t.id.as_str()).collect();
        // 0.70 (rank 1), 0.50 (rank 2), then the secret one, unranked; a share going up is better.
        assert_eq!(
            first,
            vec![(ids[1], Some(1)), (ids[0], Some(2)), (ids[2], None)]
        );
        assert_eq!(report.classes, 2);
        // The spread only counts published values: median of {0.5, 0.7}.
        let s = report.snapshot.dispersion.unwrap();
        assert_eq!(s.territoires, 2);
        assert!((s.mediane - 0.6).abs() < 1e-12);
        // A month without a national total is not found.
        assert!(
            r.indicator(
                ind,
                &register,
                NaiveDate::from_ymd_opt(2023, 1, 1),
                None,
                None
            )
            .is_none()
        );
    }
}
