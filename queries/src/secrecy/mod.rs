//! Statistical secrecy over the whole published structure (brief, section 5; issue 12).
//!
//! The cells of one indicator and one month form linked tables: each wave adds up its counted
//! territories, the nation adds up every counted territory, each before / after cell adds up
//! its wave's territories of one SPIE start, and within every territory, wave or the nation a
//! breakdown's modalities relate to its total ([`Relation`]). Secrecy works on those relations:
//!
//! - **primary**: a cell whose people, denominator, median or mean covers between 1 and
//!   `threshold − 1` people is secret; with [`Rules::numerators`], so is a cell whose numerator
//!   (people sharing an attribute) is between 1 and `threshold − 1`. Zeros are published.
//! - **secondary**: more cells are hidden, territories before waves and waves before the
//!   nation, until no secret count can be pinned down: for every count of people of every
//!   secret cell (its denominator or count, and its numerator under the numerator rule),
//!   the smallest and largest values consistent with every published figure, the relations and
//!   counts ≥ 0 (a linear programme over the secret cells linked to it) are at least
//!   `threshold` apart (or the count is known to be 0).
//!
//! - **twins**: a count two indicators publish (the catalogue's `lien:` headers, [`Twins`]) is
//!   hidden in both or published in both; published pooled twins that count different
//!   territories need every territory of the difference published ([`align`]). Each
//!   indicator's suppression runs again with what its twins force, until nothing changes.
//!
//! [`audit`] attacks a published table the same way, from the published cells alone (plus a
//! twin's published value and the difference of pooled twins), and [`apply`] refuses to
//! return a table its own audit breaks (fail closed).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use copil_warehouse::Register;

use crate::catalogue::{Catalogue, Compte, Indicator, Relation, Sorte, Ventilation};
use crate::model::{Cell, Niveau, RELATIF};
use crate::par::par_map;
use crate::pooling::pools_at;
use crate::{Error, Result};

mod audit;
mod bounds;
mod groups;
mod suppress;
mod twins;

use audit::*;
pub use bounds::Range;
use bounds::*;
use groups::*;
use suppress::*;
use twins::*;
pub use twins::{Twins, twins};

/// A hash map with a fast hasher: the proofs look counts up millions of times, the groups are
/// built from every cell on each refresh (issue 16).
type FastMap<K, V> = datafusion::common::HashMap<K, V>;
type FastSet<T> = datafusion::common::HashSet<T>;

/// The secrecy and publication rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// No published count covers between 1 and `threshold − 1` people.
    pub threshold: i64,
    /// A numerator between 1 and `threshold − 1` is secret too.
    pub numerators: bool,
    /// A wave or national cell is published only when its territories cover at least this
    /// share of the level's people.
    pub coverage: f64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            threshold: 11,
            numerators: true,
            coverage: 0.9,
        }
    }
}

/// A count of a cell: its numerator or its denominator (people for a delay, the count itself
/// for a volume).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Attr {
    Num,
    Den,
}

/// `Σ coef × count (= | ≤) 0` over cells of one group.
#[derive(Debug, Clone)]
struct Constraint {
    terms: Vec<(usize, Attr, f64)>,
    equality: bool,
}

/// The linked cells of one indicator and one month (local indices into `cells`).
#[derive(Debug, Default)]
struct Group {
    /// Global indices of the cells.
    cells: Vec<usize>,
    /// The counts each cell carries.
    attrs: Vec<Vec<Attr>>,
    constraints: Vec<Constraint>,
    /// For each cell, the constraints it appears in.
    by_cell: Vec<Vec<usize>>,
    /// For each cell, its territory (index into `territories`) if it is a territory's.
    territory_of: Vec<Option<usize>>,
    /// Each territory's cells, and the pooled cells it adds into (wave and SPIE start).
    territories: Vec<(Vec<usize>, (String, NaiveDate))>,
    /// For each cell, its breakdown: [`TOTAL`], `1 + i` for the indicator's `details[i]`,
    /// [`OTHER`] otherwise (before / after). The bounds compare these, not names (issue 16).
    vent: Vec<usize>,
    /// For each cell, its breakdown and modality as one number, the same for two cells of
    /// the group with the same pair.
    slot: Vec<usize>,
}

/// [`Group::vent`] of a total.
const TOTAL: usize = 0;
/// [`Group::vent`] of a cell outside the indicator's breakdowns.
const OTHER: usize = usize::MAX;

fn hide(cell: &mut Cell) {
    cell.secret = true;
    cell.numerateur = None;
    cell.denominateur = None;
    cell.personnes = None;
    cell.valeur = None;
    cell.ic_bas = None;
    cell.ic_haut = None;
    cell.q1 = None;
    cell.q3 = None;
    cell.moyenne = None;
}

/// Whether a modality of this breakdown shares the total's denominator.
fn shared_den(ind: &Indicator, cell: &Cell) -> bool {
    !cell.ventilation.is_empty()
        && cell.ventilation != RELATIF
        && ind
            .ventilation(&cell.ventilation)
            .is_none_or(|v| !v.relation.own_denominator())
}

/// The counts a cell carries: a volume its count, a delay its people, a share its numerator
/// and (unless a modality sharing the total's) its denominator.
fn attrs_of(ind: &Indicator, cell: &Cell) -> Vec<Attr> {
    match ind.sorte {
        Sorte::Volume => vec![Attr::Num],
        Sorte::Delai => vec![Attr::Den],
        Sorte::Taux if shared_den(ind, cell) => vec![Attr::Num],
        Sorte::Taux => vec![Attr::Num, Attr::Den],
    }
}

/// The counts of a hidden cell that must not be pinned down: the people or units it covers (a
/// share's denominator, a volume's count, a modality's people) and, under the numerator rule,
/// a share's numerator.
fn sensitive(ind: &Indicator, cell: &Cell, numerators: bool) -> Vec<Attr> {
    match ind.sorte {
        Sorte::Volume => vec![Attr::Num],
        Sorte::Delai => vec![Attr::Den],
        Sorte::Taux if shared_den(ind, cell) => vec![Attr::Num],
        Sorte::Taux if numerators => vec![Attr::Num, Attr::Den],
        Sorte::Taux => vec![Attr::Den],
    }
}

fn value(cell: &Cell, attr: Attr) -> Option<i64> {
    match attr {
        Attr::Num => cell.numerateur,
        Attr::Den => cell.denominateur,
    }
}

/// The month whose territory cells a cell relates to: its own, or for a before / after cell
/// its start plus its offset.
fn target_month(cell: &Cell) -> Option<NaiveDate> {
    if cell.ventilation == RELATIF {
        let k: i32 = cell.modalite.parse().ok()?;
        if k >= 0 {
            cell.mois.checked_add_months(chrono::Months::new(k as u32))
        } else {
            cell.mois
                .checked_sub_months(chrono::Months::new(k.unsigned_abs()))
        }
    } else {
        Some(cell.mois)
    }
}

type CellKey<'a> = (Niveau, &'a str, NaiveDate, &'a str, &'a str);

fn small(x: Option<i64>, threshold: i64) -> bool {
    x.is_some_and(|x| x >= 1 && x < threshold)
}

/// Whether a cell must be hidden for itself.
fn primary(ind: &Indicator, cell: &Cell, rules: &Rules) -> bool {
    let t = rules.threshold;
    match ind.sorte {
        Sorte::Volume => small(cell.numerateur, t),
        Sorte::Delai => small(cell.denominateur, t),
        Sorte::Taux if shared_den(ind, cell) => {
            small(cell.numerateur, t) || small(cell.denominateur, t)
        }
        Sorte::Taux => {
            small(cell.denominateur, t)
                || small(cell.personnes, t)
                || (rules.numerators && small(cell.numerateur, t))
        }
    }
}

/// How much hiding a cell costs: territories before before / after cells, before waves, before
/// the nation; then small counts first (a zero protects nothing, so last).
fn cost(ind: &Indicator, cell: &Cell) -> (u8, bool, i64) {
    let level = match (cell.niveau, cell.ventilation == RELATIF) {
        (Niveau::Territoire, _) => 0,
        (_, true) => 1,
        (Niveau::Vague, _) => 2,
        (Niveau::National, _) => 3,
    };
    let main = match ind.sorte {
        Sorte::Volume => cell.numerateur,
        Sorte::Delai => cell.denominateur,
        Sorte::Taux if shared_den(ind, cell) => cell.numerateur,
        Sorte::Taux => cell.denominateur,
    }
    .unwrap_or(0);
    (level, main == 0, main)
}

/// Evaluations of candidate complements per repair at the territory level.
const CANDIDATES: usize = 12;

/// Counts still to prove in a group from which two programmes over all of them ([`spread`])
/// are worth solving first.
const SPREAD: usize = 4;

/// Secondary suppression in one group: returns the local cells to hide.
/// The hidden cells of a group, and the counts proven protected by a linear programme along
/// the way (still protected once more cells are hidden: hiding only widens what is possible).
type Suppressed = (Vec<bool>, HashSet<(usize, Attr)>);

/// Applies primary then linked secondary suppression to `cells` (one refresh's cells, every
/// indicator), then audits the result: an error if any secret count can still be pinned down.
///
/// Counts shared by two indicators ([`Twins`], from the catalogue's `lien:` headers) are
/// suppressed together: both hidden or both published, and two published pooled twins that
/// count different territories only when every territory in the difference is published.
/// Each indicator's suppression is run again with the cells its twins force hidden, until no
/// twin is left to align.
pub fn apply(
    cells: &mut [Cell],
    catalogue: &Catalogue,
    register: &Register,
    rules: &Rules,
) -> Result<()> {
    apply_with(cells, catalogue, register, rules, Proofs::Fast)
}

/// How a hidden count is proven wide enough during the suppression ([`apply_with`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proofs {
    /// Feasible points already seen, warm probes, and a count's own programmes last (issue 16).
    Fast,
    /// Every count still to prove by its own two programmes: the original algorithm, the
    /// reference the fast proofs must agree with.
    Exact,
}

/// [`apply`] with the proofs of `proofs`: with [`Proofs::Exact`], every count proven by its own
/// linear programmes, without the feasible points and warm probes that make [`apply`] fast.
/// Both must hide the same cells; the exact proofs exist for the test that checks it (issue
/// 16), and are too slow for a refresh.
#[doc(hidden)]
pub fn apply_with(
    cells: &mut [Cell],
    catalogue: &Catalogue,
    register: &Register,
    rules: &Rules,
    proofs: Proofs,
) -> Result<()> {
    let truth = cells.to_vec();
    let linked = Linked::new(cells, catalogue, register);
    let (inds, all, pairs) = (&linked.inds, &linked.all, &linked.pairs);
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (gi, (_, g)) in all.iter().enumerate() {
        for &i in &g.cells {
            group_of.insert(i, gi);
        }
    }
    let mut forced: Vec<HashSet<usize>> = vec![HashSet::new(); all.len()];
    let mut results: Vec<Option<Suppressed>> = vec![None; all.len()];
    let mut dirty: Vec<usize> = (0..all.len()).collect();
    let mut hidden_now = vec![false; cells.len()];
    // Each round hides more (forced cells only grow), so the rounds end.
    while !dirty.is_empty() {
        let cells_now: &[Cell] = cells;
        let done = par_map(&dirty, |&gi| {
            let (k, g) = &all[gi];
            suppress(inds[*k], cells_now, g, rules, &forced[gi], proofs)
        });
        for (&gi, r) in dirty.iter().zip(done) {
            let r = r?;
            for (&i, &h) in all[gi].1.cells.iter().zip(&r.0) {
                hidden_now[i] = h;
            }
            results[gi] = Some(r);
        }
        let mut next: Vec<usize> = Vec::new();
        for i in align(pairs, &hidden_now) {
            if let Some(&gi) = group_of.get(&i)
                && forced[gi].insert(i)
            {
                next.push(gi);
            }
        }
        next.sort_unstable();
        next.dedup();
        dirty = next;
    }
    let mut proven: HashSet<(usize, Attr)> = HashSet::new();
    for ((_, g), r) in all.iter().zip(results) {
        let (_, protected) = r.expect("every group suppressed");
        proven.extend(protected.into_iter().map(|(l, a)| (g.cells[l], a)));
    }
    for (i, h) in hidden_now.iter().enumerate() {
        if *h {
            hide(&mut cells[i]);
        }
    }
    // The published cells have the same structure as the true ones (hiding changes values
    // only), so the attack reuses the linked groups and twins.
    let report = attack(cells, Some((&truth, &proven)), catalogue, rules, &linked);
    if let Some(f) = report.failures.first() {
        return Err(Error::Secrecy {
            indicator: f.indicateur.clone(),
            message: format!(
                "l'audit du secret retrouve une case secrète à moins de {} près ({} {} {} {}) : table non publiée",
                rules.threshold,
                f.niveau.code(),
                f.code,
                f.mois.format("%Y-%m"),
                f.case
            ),
        });
    }
    Ok(())
}

/// The structure secrecy works on, which depends on which cells exist, never on their values.
struct Linked<'a> {
    /// The catalogue's indicators, in order.
    inds: Vec<&'a Indicator>,
    /// Every linked group, with its indicator's index in `inds`.
    all: Vec<(usize, Group)>,
    /// Each indicator's cells.
    of_indicator: Vec<Vec<usize>>,
    /// The counts two indicators publish.
    pairs: Vec<Twins>,
}

impl<'a> Linked<'a> {
    fn new(cells: &[Cell], catalogue: &'a Catalogue, register: &Register) -> Self {
        let inds: Vec<&Indicator> = catalogue.iter().collect();
        let (all, of_indicator) = all_groups(cells, &inds, register);
        let pairs = twins(cells, catalogue, register);
        Linked {
            inds,
            all,
            of_indicator,
            pairs,
        }
    }
}

/// Every linked group of every indicator (with the indicator's index in `inds`), and each
/// indicator's cells (indices into `cells`).
fn all_groups(
    cells: &[Cell],
    inds: &[&Indicator],
    register: &Register,
) -> (Vec<(usize, Group)>, Vec<Vec<usize>>) {
    let mut of_indicator: Vec<Vec<usize>> = vec![Vec::new(); inds.len()];
    let position: HashMap<&str, usize> = inds
        .iter()
        .enumerate()
        .map(|(k, ind)| (ind.id.as_str(), k))
        .collect();
    for (i, c) in cells.iter().enumerate() {
        if let Some(&k) = position.get(c.indicateur.as_str()) {
            of_indicator[k].push(i);
        }
    }
    // Each indicator's groups on their own, on every core (in the indicators' order).
    let ks: Vec<usize> = (0..inds.len()).collect();
    let built = par_map(&ks, |&k| groups(inds[k], cells, &of_indicator[k], register));
    let all = built
        .into_iter()
        .enumerate()
        .flat_map(|(k, gs)| gs.into_iter().map(move |g| (k, g)))
        .collect();
    (all, of_indicator)
}

/// A secret count that the published figures pin down.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Indicator.
    pub indicateur: String,
    /// Level of the cell.
    pub niveau: Niveau,
    /// Its territory, wave or `national`.
    pub code: String,
    /// Its month.
    pub mois: NaiveDate,
    /// Its breakdown and modality, and which count (`numérateur`, `dénominateur`).
    pub case: String,
    /// What an outsider can tell.
    pub range: Range,
}

/// One indicator's audit figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndicatorAudit {
    /// Cells written.
    pub cases: usize,
    /// Secret cells.
    pub secretes: usize,
    /// The narrowest range found over its secret counts (`None`: no bounded one).
    pub plus_etroite: Option<f64>,
}

/// What the audit found.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    /// Per indicator, in catalogue order.
    pub indicateurs: Vec<(String, IndicatorAudit)>,
    /// Secret counts pinned down (empty: the table holds).
    pub failures: Vec<Failure>,
}

/// Attacks a published table as an outsider would: for every secret cell, the smallest and
/// largest value of each of its counts consistent with the published cells, the relations
/// between them (pooled levels, breakdowns, before / after) and counts ≥ 0.
pub fn audit(cells: &[Cell], catalogue: &Catalogue, register: &Register, rules: &Rules) -> Audit {
    let linked = Linked::new(cells, catalogue, register);
    attack(cells, None, catalogue, rules, &linked)
}
