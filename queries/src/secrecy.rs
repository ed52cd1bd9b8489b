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

use crate::catalogue::{Catalogue, Compte, Indicator, Relation, Sorte};
use crate::model::{Cell, Niveau, RELATIF};
use crate::pooling::pools_at;
use crate::{Error, Result};

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
}

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

/// Builds the linked groups of one indicator's cells (indices into `cells`).
fn groups(ind: &Indicator, cells: &[Cell], indices: &[usize], register: &Register) -> Vec<Group> {
    let mut by_month: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for &i in indices {
        if let Some(m) = target_month(&cells[i]) {
            by_month.entry(m).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (m, members) in by_month {
        let mut g = Group::default();
        let mut local: HashMap<CellKey, usize> = HashMap::new();
        for &i in &members {
            let c = &cells[i];
            local.insert(
                (
                    c.niveau,
                    c.code.as_str(),
                    c.mois,
                    c.ventilation.as_str(),
                    c.modalite.as_str(),
                ),
                g.cells.len(),
            );
            g.cells.push(i);
            g.attrs.push(attrs_of(ind, c));
        }
        let get = |k: CellKey| local.get(&k).copied();
        let mut constraints = Vec::new();
        let mut pooled: HashMap<(Niveau, &str), Vec<usize>> = HashMap::new();
        for (l, &i) in g.cells.iter().enumerate() {
            let c = &cells[i];
            if c.niveau != Niveau::Territoire && c.mois == m && c.ventilation != RELATIF {
                pooled
                    .entry((c.niveau, c.code.as_str()))
                    .or_default()
                    .push(l);
            }
        }
        // Pooled cells add up their counted territories. Two rewrites keep each linear
        // programme small without changing what it allows: the nation is written as the sum of
        // its waves when every wave holding one of its territories has its cell (the waves add
        // up their territories), and a before / after cell counting exactly its wave's
        // territories as equal to its wave's cell.
        let pools = pools_at(register, m);
        let counted_of = |membres: &[&str]| -> Vec<String> {
            membres
                .iter()
                .filter(|t| get((Niveau::Territoire, t, m, "", "")).is_some())
                .map(|t| t.to_string())
                .collect()
        };
        let wave_counted: HashMap<String, Vec<String>> = pools
            .iter()
            .filter(|p| p.niveau == Niveau::Vague && p.ventilation.is_empty())
            .map(|p| (p.code.clone(), counted_of(&p.membres)))
            .collect();
        let wave_of: HashMap<&str, &str> = register
            .iter()
            .map(|t| (t.id.as_str(), t.vague.code()))
            .collect();
        for pool in &pools {
            let counted = counted_of(&pool.membres);
            let counted: Vec<&str> = counted.iter().map(String::as_str).collect();
            let mut waves_in: Vec<&str> = counted
                .iter()
                .filter_map(|t| wave_of.get(t).copied())
                .collect();
            waves_in.sort_unstable();
            waves_in.dedup();
            let keys: Vec<(String, String)> = if pool.ventilation.is_empty() {
                pooled
                    .get(&(pool.niveau, pool.code.as_str()))
                    .map(|ls| {
                        ls.iter()
                            .map(|&l| &cells[g.cells[l]])
                            .map(|c| (c.ventilation.clone(), c.modalite.clone()))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                vec![(pool.ventilation.clone(), pool.modalite.clone())]
            };
            for (v, md) in keys {
                let Some(p) = get((pool.niveau, &pool.code, pool.mois, &v, &md)) else {
                    continue;
                };
                let (tv, tm) = if pool.ventilation.is_empty() {
                    (v.as_str(), md.as_str())
                } else {
                    ("", "")
                };
                // The cells this pooled cell can be written over instead of its territories.
                let by_waves: Option<Vec<usize>> = match pool.niveau {
                    Niveau::National => waves_in
                        .iter()
                        .map(|w| get((Niveau::Vague, w, m, tv, tm)))
                        .collect(),
                    _ if !pool.ventilation.is_empty() => {
                        let same = wave_counted
                            .get(&pool.code)
                            .is_some_and(|c| c.len() == counted.len());
                        if same {
                            get((Niveau::Vague, &pool.code, m, "", "")).map(|w| vec![w])
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                for &attr in &g.attrs[p] {
                    let mut terms = vec![(p, attr, 1.0)];
                    match &by_waves {
                        Some(ws) if ws.iter().all(|&w| g.attrs[w].contains(&attr)) => {
                            terms.extend(ws.iter().map(|&w| (w, attr, -1.0)));
                        }
                        _ => {
                            for t in &counted {
                                if let Some(l) = get((Niveau::Territoire, t, m, tv, tm)) {
                                    terms.push((l, attr, -1.0));
                                }
                            }
                        }
                    }
                    constraints.push(Constraint {
                        terms,
                        equality: true,
                    });
                }
            }
        }
        // Breakdowns relate to their total, at every territory, wave and the nation.
        let mut geo: BTreeMap<(Niveau, &str), ()> = BTreeMap::new();
        for &i in &g.cells {
            let c = &cells[i];
            if c.mois == m && c.ventilation != RELATIF {
                geo.insert((c.niveau, c.code.as_str()), ());
            }
        }
        let mut by_geo: HashMap<(Niveau, &str, &str), Vec<usize>> = HashMap::new();
        for (l, &i) in g.cells.iter().enumerate() {
            let c = &cells[i];
            if c.mois == m && c.ventilation != RELATIF {
                by_geo
                    .entry((c.niveau, c.code.as_str(), c.ventilation.as_str()))
                    .or_default()
                    .push(l);
            }
        }
        for (niveau, code) in geo.keys().copied() {
            let Some(total) = get((niveau, code, m, "", "")) else {
                continue;
            };
            for v in &ind.details {
                let mods: Vec<usize> = by_geo
                    .get(&(niveau, code, v.nom.as_str()))
                    .cloned()
                    .unwrap_or_default();
                if mods.is_empty() {
                    continue;
                }
                let sum = |attr: Attr, against: Attr| Constraint {
                    terms: mods
                        .iter()
                        .map(|&l| (l, attr, 1.0))
                        .chain([(total, against, -1.0)])
                        .collect(),
                    equality: true,
                };
                match v.relation {
                    Relation::Numerateurs => constraints.push(sum(Attr::Num, Attr::Num)),
                    Relation::Denominateur => constraints.push(sum(Attr::Num, Attr::Den)),
                    Relation::Partition => {
                        constraints.push(sum(Attr::Num, Attr::Num));
                        constraints.push(sum(Attr::Den, Attr::Den));
                    }
                    Relation::Chevauchement => {
                        for &l in &mods {
                            constraints.push(Constraint {
                                terms: vec![(l, Attr::Num, 1.0), (total, Attr::Num, -1.0)],
                                equality: false,
                            });
                        }
                        let mut at_least = sum(Attr::Num, Attr::Num);
                        for t in &mut at_least.terms {
                            t.2 = -t.2;
                        }
                        at_least.equality = false;
                        constraints.push(at_least);
                    }
                }
                if ind.sorte == Sorte::Taux && !v.relation.own_denominator() {
                    for &l in &mods {
                        constraints.push(Constraint {
                            terms: vec![(l, Attr::Num, 1.0), (total, Attr::Den, -1.0)],
                            equality: false,
                        });
                    }
                }
            }
        }
        // A share's numerator is at most its denominator.
        if ind.sorte == Sorte::Taux {
            for (l, attrs) in g.attrs.iter().enumerate() {
                if attrs.len() == 2 {
                    constraints.push(Constraint {
                        terms: vec![(l, Attr::Num, 1.0), (l, Attr::Den, -1.0)],
                        equality: false,
                    });
                }
            }
        }
        g.territory_of = vec![None; g.cells.len()];
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (l, &i) in g.cells.iter().enumerate() {
            let c = &cells[i];
            if c.niveau != Niveau::Territoire {
                continue;
            }
            let signature = register
                .get(&c.code)
                .filter(|t| t.en_vigueur(m))
                .map_or_else(
                    || (String::new(), NaiveDate::MIN),
                    |t| (t.vague.code().to_string(), t.debut_spie),
                );
            let k = *index.entry(c.code.as_str()).or_insert_with(|| {
                g.territories.push((Vec::new(), signature));
                g.territories.len() - 1
            });
            g.territories[k].0.push(l);
            g.territory_of[l] = Some(k);
        }
        g.by_cell = vec![Vec::new(); g.cells.len()];
        for (ci, c) in constraints.iter().enumerate() {
            for &(l, _, _) in &c.terms {
                if g.by_cell[l].last() != Some(&ci) {
                    g.by_cell[l].push(ci);
                }
            }
        }
        g.constraints = constraints;
        out.push(g);
    }
    out
}

/// The values an outsider can give a count: smallest and largest (`None`: unbounded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Smallest value consistent with everything published.
    pub min: f64,
    /// Largest (`None`: no upper bound).
    pub max: Option<f64>,
}

impl Range {
    /// Whether the count is pinned down: known to less than `threshold` apart, and not known
    /// to be zero.
    pub fn narrow(&self, threshold: i64) -> bool {
        match self.max {
            None => false,
            Some(max) => max > 0.5 && max - self.min < threshold as f64 - 1e-6,
        }
    }
}

/// The range of `(cell, attr)` given which cells are hidden and the known values of the others.
fn range(
    g: &Group,
    hidden: &[bool],
    known: &dyn Fn(usize, Attr) -> f64,
    cell: usize,
    attr: Attr,
) -> Range {
    use microlp::{ComparisonOp, OptimizationDirection, Problem};
    // The constraints linked to the count through hidden counts.
    let mut vars: Vec<(usize, Attr)> = vec![(cell, attr)];
    let mut seen: HashSet<(usize, Attr)> = vars.iter().copied().collect();
    let mut used = vec![false; g.constraints.len()];
    let mut k = 0;
    while k < vars.len() {
        let v = vars[k];
        k += 1;
        for &ci in &g.by_cell[v.0] {
            let c = &g.constraints[ci];
            if used[ci] || !c.terms.iter().any(|&(l, a, _)| (l, a) == v) {
                continue;
            }
            used[ci] = true;
            for &(l, a, _) in &c.terms {
                if hidden[l] && seen.insert((l, a)) {
                    vars.push((l, a));
                }
            }
        }
    }
    let solve = |direction: OptimizationDirection| -> Option<Option<f64>> {
        let mut p = Problem::new(direction);
        let ids: HashMap<(usize, Attr), microlp::Variable> = vars
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                (
                    v,
                    p.add_var(if i == 0 { 1.0 } else { 0.0 }, (0.0, f64::INFINITY)),
                )
            })
            .collect();
        for (ci, c) in g.constraints.iter().enumerate() {
            if !used[ci] {
                continue;
            }
            let mut expr = Vec::new();
            let mut rhs = 0.0;
            for &(l, a, coef) in &c.terms {
                match ids.get(&(l, a)) {
                    Some(v) if hidden[l] => expr.push((*v, coef)),
                    _ => rhs -= coef * known(l, a),
                }
            }
            let op = if c.equality {
                ComparisonOp::Eq
            } else {
                ComparisonOp::Le
            };
            if expr.is_empty() {
                continue;
            }
            p.add_constraint(expr.as_slice(), op, rhs);
        }
        match p.solve() {
            Ok(microlp::SolveOutcome::Solution(s)) => Some(Some(s.objective())),
            Ok(_) => None,
            Err(microlp::Error::Unbounded) => Some(None),
            Err(_) => None,
        }
    };
    let min = solve(OptimizationDirection::Minimize).flatten();
    let max = solve(OptimizationDirection::Maximize);
    match (min, max) {
        (Some(min), Some(max)) => Range { min, max },
        // Infeasible or failed: count it as pinned (fail closed).
        _ => Range {
            min: 0.0,
            max: Some(1.0),
        },
    }
}

/// A lower bound of a hidden count's range, proven from the true figures: when every cell of
/// its territory is hidden, the territory can trade its whole profile with another territory
/// whose cells are all hidden and that adds into the same pooled cells (all relations inside a
/// territory are homogeneous, so the sum of two consistent profiles, or zero, is consistent):
/// the count can fall to 0 and rise by the partner's. 0 when no such partner exists.
fn exchange_bound(g: &Group, cells: &[Cell], hidden: &[bool], l: usize, attr: Attr) -> f64 {
    let Some(k) = g.territory_of[l] else {
        return 0.0;
    };
    let all_hidden = |k: usize| g.territories[k].0.iter().all(|&x| hidden[x]);
    if !all_hidden(k) {
        return 0.0;
    }
    let cell = &cells[g.cells[l]];
    let own = value(cell, attr).unwrap_or(0) as f64;
    // Two territories of different waves can trade too when every wave cell (and before /
    // after cell) of both waves is hidden or absent: the nation's sums stay the same.
    let waves_hidden = |wave: &str| {
        g.cells.iter().enumerate().all(|(x, &i)| {
            let c = &cells[i];
            c.niveau != Niveau::Vague || c.code != wave || hidden[x]
        })
    };
    let own_signature = &g.territories[k].1;
    if own_signature.0.is_empty() {
        return 0.0;
    }
    let own_free = waves_hidden(&own_signature.0);
    let mut partners = 0.0;
    for (j, (members, signature)) in g.territories.iter().enumerate() {
        if j == k || signature.0.is_empty() || !all_hidden(j) {
            continue;
        }
        if signature != own_signature && !(own_free && waves_hidden(&signature.0)) {
            continue;
        }
        partners += members
            .iter()
            .map(|&x| &cells[g.cells[x]])
            .find(|c| c.ventilation == cell.ventilation && c.modalite == cell.modalite)
            .and_then(|c| value(c, attr))
            .unwrap_or(0) as f64;
    }
    if partners > 0.0 { own + partners } else { 0.0 }
}

/// A lower bound of a hidden modality count's range, proven from the true figures: two
/// territories adding into the same pooled cells, whose breakdowns are hidden, trade `s` people
/// between two modalities in opposite directions (every sum, pooled or within a territory,
/// stays the same); the count can rise by such trades and fall by the reverse ones, within
/// what each cell holds and the caps of the relation (a modality at most its total, a
/// numerator at most its denominator). 0 when no trade exists.
fn rectangle_bound(
    ind: &Indicator,
    g: &Group,
    cells: &[Cell],
    hidden: &[bool],
    l: usize,
    attr: Attr,
) -> f64 {
    let Some(k) = g.territory_of[l] else {
        return 0.0;
    };
    let cell = &cells[g.cells[l]];
    let Some(detail) = ind.ventilation(&cell.ventilation) else {
        return 0.0;
    };
    // The cells of territory `j` in this breakdown, all hidden, by modality; and its total.
    let profile = |j: usize| -> Option<(BTreeMap<&str, &Cell>, Option<&Cell>)> {
        let mut mods = BTreeMap::new();
        let mut total = None;
        for &x in &g.territories[j].0 {
            let c = &cells[g.cells[x]];
            if c.ventilation == detail.nom {
                if !hidden[x] {
                    return None;
                }
                mods.insert(c.modalite.as_str(), c);
            } else if c.ventilation.is_empty() {
                total = Some(c);
            }
        }
        Some((mods, total))
    };
    let Some((own, own_total)) = profile(k) else {
        return 0.0;
    };
    let v = |c: Option<&&Cell>| c.and_then(|c| value(c, attr)).unwrap_or(0) as f64;
    // How far a modality of a territory may rise (its total's cap, for overlapping modalities
    // and shared denominators); unbounded otherwise.
    let cap = |total: Option<&Cell>, c: Option<&&Cell>| -> f64 {
        let x = v(c);
        match detail.relation {
            Relation::Chevauchement => total
                .and_then(|t| t.numerateur)
                .map_or(f64::INFINITY, |n| n as f64 - x),
            Relation::Numerateurs | Relation::Denominateur if ind.sorte == Sorte::Taux => total
                .and_then(|t| t.denominateur)
                .map_or(f64::INFINITY, |n| n as f64 - x),
            _ => f64::INFINITY,
        }
    };
    let me = cell.modalite.as_str();
    let (mut up, mut down) = (0.0f64, 0.0f64);
    for (j, (_, signature)) in g.territories.iter().enumerate() {
        if j == k || *signature != g.territories[k].1 {
            continue;
        }
        let Some((other, other_total)) = profile(j) else {
            continue;
        };
        for (m2, c2) in &own {
            if *m2 == me {
                continue;
            }
            let (o1, o2) = (other.get(me), other.get(m2));
            // Up: me +s, m2 −s here; me −s, m2 +s there.
            let u = v(Some(c2))
                .min(v(o1))
                .min(cap(own_total, own.get(me)))
                .min(cap(other_total, o2));
            // Down: the reverse.
            let d = v(own.get(me))
                .min(v(o2))
                .min(cap(own_total, Some(c2)))
                .min(cap(other_total, o1));
            up = up.max(u);
            down = down.max(d);
        }
    }
    up.max(0.0) + down.max(0.0)
}

/// A lower bound of a hidden wave or national modality count's range, proven from the true
/// figures when the breakdown is hidden at every pooled level: people of a territory whose
/// breakdown is hidden move from one modality to another in that territory, its wave and the
/// nation at once (every total and every pooled sum stays the same). 0 otherwise.
fn vertical_bound(
    ind: &Indicator,
    g: &Group,
    cells: &[Cell],
    hidden: &[bool],
    l: usize,
    attr: Attr,
) -> f64 {
    let cell = &cells[g.cells[l]];
    if cell.niveau == Niveau::Territoire {
        return 0.0;
    }
    let Some(detail) = ind.ventilation(&cell.ventilation) else {
        return 0.0;
    };
    let at = |niveau: Niveau, code: &str, md: &str| -> Option<(usize, &Cell)> {
        (0..g.cells.len())
            .map(|x| (x, &cells[g.cells[x]]))
            .find(|(_, c)| {
                c.niveau == niveau
                    && c.code == code
                    && c.ventilation == detail.nom
                    && c.modalite == md
            })
    };
    let v = |c: Option<(usize, &Cell)>| c.and_then(|c| value(c.1, attr)).unwrap_or(0) as f64;
    let total_of = |niveau: Niveau, code: &str| -> Option<&Cell> {
        (0..g.cells.len())
            .map(|x| &cells[g.cells[x]])
            .find(|c| c.niveau == niveau && c.code == code && c.ventilation.is_empty())
    };
    // Room for a modality to rise: the cap of its relation.
    let slack = |niveau: Niveau, code: &str, c: Option<(usize, &Cell)>| -> f64 {
        let x = v(c);
        let total = total_of(niveau, code);
        match detail.relation {
            Relation::Chevauchement => total
                .and_then(|t| t.numerateur)
                .map_or(f64::INFINITY, |n| n as f64 - x),
            Relation::Numerateurs | Relation::Denominateur if ind.sorte == Sorte::Taux => total
                .and_then(|t| t.denominateur)
                .map_or(f64::INFINITY, |n| n as f64 - x),
            _ => f64::INFINITY,
        }
    };
    // Every pooled modality of the breakdown must be hidden.
    let pooled_hidden = (0..g.cells.len()).all(|x| {
        let c = &cells[g.cells[x]];
        c.niveau == Niveau::Territoire || c.ventilation != detail.nom || hidden[x]
    });
    if !pooled_hidden {
        return 0.0;
    }
    let me = cell.modalite.as_str();
    // Per wave, what its territories' moves add up to (before the pooled caps).
    let mut by_wave: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for (members, (wave, _)) in &g.territories {
        if wave.is_empty() || (cell.niveau == Niveau::Vague && *wave != cell.code) {
            continue;
        }
        let profile: Vec<&Cell> = members
            .iter()
            .filter(|&&x| cells[g.cells[x]].ventilation == detail.nom)
            .map(|&x| &cells[g.cells[x]])
            .collect();
        if profile.is_empty()
            || members
                .iter()
                .any(|&x| cells[g.cells[x]].ventilation == detail.nom && !hidden[x])
        {
            continue;
        }
        let territory = profile[0].code.as_str();
        let path = |md: &str| {
            [
                (Niveau::Territoire, territory),
                (Niveau::Vague, wave.as_str()),
                (Niveau::National, "national"),
            ]
            .map(|(n, c)| {
                let cell = if n == Niveau::Territoire {
                    profile
                        .iter()
                        .position(|p| p.modalite == md)
                        .map(|i| (0usize, profile[i]))
                } else {
                    at(n, c, md)
                };
                (n, c, cell)
            })
        };
        let mine = path(me);
        let mut best_up = 0.0f64;
        let mut best_down = 0.0f64;
        for other in detail
            .modalites
            .iter()
            .map(String::as_str)
            .filter(|m| *m != me)
        {
            let theirs = path(other);
            let u = theirs
                .iter()
                .map(|(_, _, c)| v(*c))
                .chain(mine.iter().map(|(n, code, c)| slack(*n, code, *c)))
                .fold(f64::INFINITY, f64::min);
            let d = mine
                .iter()
                .map(|(_, _, c)| v(*c))
                .chain(theirs.iter().map(|(n, code, c)| slack(*n, code, *c)))
                .fold(f64::INFINITY, f64::min);
            best_up = best_up.max(u);
            best_down = best_down.max(d);
        }
        let sums = by_wave.entry(wave.as_str()).or_default();
        sums.0 += best_up;
        sums.1 += best_down;
    }
    // Moves through one pooled cell share its cap: a rise of `me` at most its slack there, a
    // rise of the other modalities at most the smallest of their slacks there.
    let others_slack = |niveau: Niveau, code: &str| {
        detail
            .modalites
            .iter()
            .map(String::as_str)
            .filter(|m| *m != me)
            .map(|m| slack(niveau, code, at(niveau, code, m)))
            .fold(f64::INFINITY, f64::min)
    };
    let (mut up, mut down) = (0.0f64, 0.0f64);
    for (wave, (u, d)) in by_wave {
        up += u.min(slack(Niveau::Vague, wave, at(Niveau::Vague, wave, me)));
        down += d.min(others_slack(Niveau::Vague, wave));
    }
    let up = up.min(slack(
        Niveau::National,
        "national",
        at(Niveau::National, "national", me),
    ));
    let down = down.min(others_slack(Niveau::National, "national"));
    // What the cell holds bounds the fall.
    let own = v(Some((l, cell)));
    up.max(0.0) + down.min(own).max(0.0)
}

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

/// Secondary suppression in one group: returns the local cells to hide.
/// The hidden cells of a group, and the counts proven protected by a linear programme along
/// the way (still protected once more cells are hidden: hiding only widens what is possible).
type Suppressed = (Vec<bool>, HashSet<(usize, Attr)>);

fn suppress(
    ind: &Indicator,
    cells: &[Cell],
    g: &Group,
    rules: &Rules,
    forced: &HashSet<usize>,
) -> Result<Suppressed> {
    let t = rules.threshold;
    let n = g.cells.len();
    let mut hidden: Vec<bool> = g
        .cells
        .iter()
        .map(|&i| primary(ind, &cells[i], rules) || forced.contains(&i))
        .collect();
    if !hidden.iter().any(|h| *h) {
        return Ok((hidden, HashSet::new()));
    }
    let known = |l: usize, a: Attr| value(&cells[g.cells[l]], a).unwrap_or(0) as f64;
    let cost_of = |l: usize| cost(ind, &cells[g.cells[l]]);
    // Closure: an equality with exactly one hidden cell gives it away; hide the cheapest other.
    let closure = |hidden: &mut Vec<bool>| loop {
        let mut changed = false;
        // A territory with a hidden modality hides its whole breakdown (its total aside), so
        // that two such territories can trade modalities ([`rectangle_bound`]).
        for (members, _) in &g.territories {
            for v in &ind.details {
                let of_v: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&x| cells[g.cells[x]].ventilation == v.nom)
                    .collect();
                if of_v.iter().any(|&x| hidden[x]) && of_v.iter().any(|&x| !hidden[x]) {
                    for x in of_v {
                        hidden[x] = true;
                    }
                    changed = true;
                }
            }
        }
        // A hidden modality of a wave or the nation hides that breakdown at every pooled level,
        // so that people can move between modalities all the way up ([`vertical_bound`]).
        for v in &ind.details {
            let pooled: Vec<usize> = (0..g.cells.len())
                .filter(|&x| {
                    let c = &cells[g.cells[x]];
                    c.niveau != Niveau::Territoire && c.ventilation == v.nom
                })
                .collect();
            if pooled.iter().any(|&x| hidden[x]) && pooled.iter().any(|&x| !hidden[x]) {
                for x in pooled {
                    hidden[x] = true;
                }
                changed = true;
            }
        }
        for c in g.constraints.iter().filter(|c| c.equality) {
            let mut in_c: Vec<usize> = c.terms.iter().map(|t| t.0).collect();
            in_c.sort_unstable();
            in_c.dedup();
            if in_c.iter().filter(|&&l| hidden[l]).count() != 1 {
                continue;
            }
            if let Some(&l) = in_c
                .iter()
                .filter(|&&l| !hidden[l])
                .min_by_key(|&&l| cost_of(l))
            {
                hidden[l] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    };
    closure(&mut hidden);
    let mut rounds = 0;
    // Counts found protected stay protected: hiding more only widens what is possible.
    let mut protected: HashSet<(usize, Attr)> = HashSet::new();
    loop {
        // The first count of a hidden cell that is pinned down.
        let mut narrow = None;
        'search: for l in (0..n).filter(|&l| hidden[l]) {
            for a in sensitive(ind, &cells[g.cells[l]], rules.numerators) {
                // A true zero discloses nobody: only counts with someone in them are protected.
                if protected.contains(&(l, a)) || known(l, a) < 0.5 {
                    continue;
                }
                if exchange_bound(g, cells, &hidden, l, a) >= t as f64
                    || rectangle_bound(ind, g, cells, &hidden, l, a) >= t as f64
                    || vertical_bound(ind, g, cells, &hidden, l, a) >= t as f64
                {
                    protected.insert((l, a));
                    continue;
                }
                let r = range(g, &hidden, &known, l, a);
                if r.narrow(t) {
                    narrow = Some((l, a, r));
                    break 'search;
                }
                protected.insert((l, a));
            }
        }
        let Some((l, a, r)) = narrow else {
            return Ok((hidden, protected));
        };
        rounds += 1;
        if rounds > 4 * n + 16 {
            return Err(Error::Secrecy {
                indicator: ind.id.clone(),
                message: format!(
                    "la suppression secondaire ne converge pas pour le mois {}",
                    cells[g.cells[l]].mois.format("%Y-%m")
                ),
            });
        }
        // Fast repairs for a territory's cell, proven afterwards by the exchange of whole
        // territories: hide the rest of its territory; then, if no other territory adding into
        // the same pooled cells is wholly hidden, the smallest such territory with someone in it.
        if let Some(k) = g.territory_of[l] {
            let (members, signature) = &g.territories[k];
            if members.iter().any(|&x| !hidden[x]) {
                for &x in members {
                    hidden[x] = true;
                }
                closure(&mut hidden);
                continue;
            }
            let whole = |j: usize| g.territories[j].0.iter().all(|&x| hidden[x]);
            let partnered = (0..g.territories.len())
                .any(|j| j != k && g.territories[j].1 == *signature && whole(j));
            if !partnered {
                let size = |j: usize| {
                    g.territories[j]
                        .0
                        .iter()
                        .map(|&x| &cells[g.cells[x]])
                        .find(|c| c.ventilation.is_empty())
                        .map_or(0, |c| cost(ind, c).2)
                };
                let partner = (0..g.territories.len())
                    .filter(|&j| j != k && g.territories[j].1 == *signature && size(j) > 0)
                    .min_by_key(|&j| (size(j), j));
                if let Some(j) = partner {
                    for &x in &g.territories[j].0 {
                        hidden[x] = true;
                    }
                    closure(&mut hidden);
                    continue;
                }
            }
        }
        // Candidates: published cells of the constraints linked to the pinned count.
        let mut linked: HashSet<usize> = HashSet::new();
        let mut frontier = vec![l];
        let mut seen_cells: HashSet<usize> = [l].into();
        while let Some(x) = frontier.pop() {
            for &ci in &g.by_cell[x] {
                let c = &g.constraints[ci];
                for &(y, _, _) in &c.terms {
                    if hidden[y] {
                        if seen_cells.insert(y) {
                            frontier.push(y);
                        }
                    } else {
                        linked.insert(y);
                    }
                }
            }
        }
        let mut candidates: Vec<usize> = linked.into_iter().collect();
        candidates.sort_by_key(|&y| (cost_of(y), y));
        if candidates.is_empty() {
            return Err(Error::Secrecy {
                indicator: ind.id.clone(),
                message: format!(
                    "aucune case ne peut protéger une case secrète du mois {}",
                    cells[g.cells[l]].mois.format("%Y-%m")
                ),
            });
        }
        let width = |r: &Range| r.max.map_or(f64::INFINITY, |m| m - r.min);
        let base = width(&r);
        let mut best: Option<(usize, f64)> = None;
        let mut chosen = None;
        let mut territory_tries = 0;
        for &y in &candidates {
            if cost_of(y).0 == 0 {
                territory_tries += 1;
                if territory_tries > CANDIDATES {
                    continue;
                }
            }
            hidden[y] = true;
            let w = width(&range(g, &hidden, &known, l, a));
            hidden[y] = false;
            if w >= t as f64 - 1e-6 {
                chosen = Some(y);
                break;
            }
            if w > base + 1e-6 && best.is_none_or(|(_, bw)| w > bw) {
                best = Some((y, w));
            }
        }
        let y = chosen
            .or(best.map(|b| b.0))
            .or_else(|| candidates.iter().copied().find(|&y| cost_of(y).0 > 0))
            .unwrap_or(candidates[0]);
        hidden[y] = true;
        closure(&mut hidden);
    }
}

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
    let truth = cells.to_vec();
    let inds: Vec<&Indicator> = catalogue.iter().collect();
    let mut all: Vec<(usize, Group)> = Vec::new();
    for (k, ind) in inds.iter().enumerate() {
        let indices: Vec<usize> = (0..cells.len())
            .filter(|&i| cells[i].indicateur == ind.id)
            .collect();
        all.extend(
            groups(ind, cells, &indices, register)
                .into_iter()
                .map(|g| (k, g)),
        );
    }
    let mut group_of: HashMap<usize, usize> = HashMap::new();
    for (gi, (_, g)) in all.iter().enumerate() {
        for &i in &g.cells {
            group_of.insert(i, gi);
        }
    }
    let pairs = twins(cells, catalogue, register);
    let mut forced: Vec<HashSet<usize>> = vec![HashSet::new(); all.len()];
    let mut results: Vec<Option<Suppressed>> = vec![None; all.len()];
    let mut dirty: Vec<usize> = (0..all.len()).collect();
    let mut hidden_now = vec![false; cells.len()];
    // Each round hides more (forced cells only grow), so the rounds end.
    while !dirty.is_empty() {
        for &gi in &dirty {
            let (k, g) = &all[gi];
            let r = suppress(inds[*k], cells, g, rules, &forced[gi])?;
            for (&i, &h) in g.cells.iter().zip(&r.0) {
                hidden_now[i] = h;
            }
            results[gi] = Some(r);
        }
        let mut next: Vec<usize> = Vec::new();
        for i in align(&pairs, &hidden_now) {
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
    let mut proofs: HashSet<(usize, Attr)> = HashSet::new();
    for ((_, g), r) in all.iter().zip(results) {
        let (_, protected) = r.expect("every group suppressed");
        proofs.extend(protected.into_iter().map(|(l, a)| (g.cells[l], a)));
    }
    for (i, h) in hidden_now.iter().enumerate() {
        if *h {
            hide(&mut cells[i]);
        }
    }
    let report = attack(cells, Some((&truth, &proofs)), catalogue, register, rules);
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

/// A total (or before / after) cell of an indicator with a `lien:` header and the cell of the
/// other indicator holding the same count on the same level (issue 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Twins {
    /// The linking indicator's cell (index into the cells).
    pub cell: usize,
    /// The other indicator's cell.
    pub twin: usize,
    /// Territory cells counted in `cell` and not in `twin` (of `cell`'s indicator).
    pub only_cell: Vec<usize>,
    /// Territory cells counted in `twin` and not in `cell` (of `twin`'s indicator).
    pub only_twin: Vec<usize>,
}

fn shift_months(m: NaiveDate, by: i32) -> Option<NaiveDate> {
    if by >= 0 {
        m.checked_add_months(chrono::Months::new(by as u32))
    } else {
        m.checked_sub_months(chrono::Months::new(by.unsigned_abs()))
    }
}

/// Every pair of twin cells of a table: the cells of each linked indicator standing for a
/// count of another, with the territories one counts and the other does not (pooled cells).
pub fn twins(cells: &[Cell], catalogue: &Catalogue, register: &Register) -> Vec<Twins> {
    type Key<'a> = (&'a str, Niveau, &'a str, NaiveDate, &'a str, &'a str);
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    let mut present: HashMap<(&str, NaiveDate), HashMap<&str, usize>> = HashMap::new();
    for (i, c) in cells.iter().enumerate() {
        if !(c.ventilation.is_empty() || c.ventilation == RELATIF) {
            continue;
        }
        index.insert(
            (
                c.indicateur.as_str(),
                c.niveau,
                c.code.as_str(),
                c.mois,
                c.ventilation.as_str(),
                c.modalite.as_str(),
            ),
            i,
        );
        if c.niveau == Niveau::Territoire && c.ventilation.is_empty() {
            present
                .entry((c.indicateur.as_str(), c.mois))
                .or_default()
                .insert(c.code.as_str(), i);
        }
    }
    // The territories a pooled cell adds up: its pool's members that have a cell that month.
    let counted = |ind: &str, c: &Cell, m: NaiveDate| -> BTreeMap<String, usize> {
        let Some(here) = present.get(&(ind, m)) else {
            return BTreeMap::new();
        };
        register
            .iter()
            .filter(|t| t.en_vigueur(m))
            .filter(|t| c.niveau == Niveau::National || t.vague.code() == c.code)
            .filter(|t| c.ventilation != RELATIF || t.debut_spie == c.mois)
            .filter_map(|t| here.get(t.id.as_str()).map(|&i| (t.id.clone(), i)))
            .collect()
    };
    let mut out = Vec::new();
    for ind in catalogue.iter() {
        let Some(lien) = &ind.lien else { continue };
        let Some(other) = catalogue.get(&lien.autre) else {
            continue;
        };
        for (i, c) in cells.iter().enumerate() {
            if c.indicateur != ind.id || !(c.ventilation.is_empty() || c.ventilation == RELATIF) {
                continue;
            }
            let key_month;
            let key_modalite;
            if c.ventilation == RELATIF {
                let Ok(k) = c.modalite.parse::<i32>() else {
                    continue;
                };
                key_month = c.mois;
                key_modalite = format!("{:+03}", k + lien.decalage);
            } else {
                let Some(m) = shift_months(c.mois, lien.decalage) else {
                    continue;
                };
                key_month = m;
                key_modalite = String::new();
            }
            let Some(&j) = index.get(&(
                other.id.as_str(),
                c.niveau,
                c.code.as_str(),
                key_month,
                c.ventilation.as_str(),
                key_modalite.as_str(),
            )) else {
                continue;
            };
            let (mut only_cell, mut only_twin) = (Vec::new(), Vec::new());
            if c.niveau != Niveau::Territoire
                && let (Some(m), Some(n)) = (target_month(c), target_month(&cells[j]))
            {
                let mine = counted(&ind.id, c, m);
                let theirs = counted(&other.id, &cells[j], n);
                only_cell = mine
                    .iter()
                    .filter(|(t, _)| !theirs.contains_key(*t))
                    .map(|(_, &x)| x)
                    .collect();
                only_twin = theirs
                    .iter()
                    .filter(|(t, _)| !mine.contains_key(*t))
                    .map(|(_, &x)| x)
                    .collect();
            }
            out.push(Twins {
                cell: i,
                twin: j,
                only_cell,
                only_twin,
            });
        }
    }
    out
}

/// The cells to hide so that twins never give each other away: twins are both hidden or both
/// published, and two published pooled twins counting different territories only when every
/// territory of the difference is published (else the linking cell is hidden, then its twin).
///
/// Publishing a hidden cell's count through its twin when that count is not small (and
/// protecting the others knowing it) was tried: on the demo it hid slightly more cells, and
/// took twice as long, than hiding twins together.
fn align(pairs: &[Twins], hidden: &[bool]) -> Vec<usize> {
    let mut out = Vec::new();
    for p in pairs {
        match (hidden[p.cell], hidden[p.twin]) {
            (true, false) => out.push(p.twin),
            (false, true) => out.push(p.cell),
            (false, false) => {
                if p.only_cell.iter().chain(&p.only_twin).any(|&x| hidden[x]) {
                    out.push(p.cell);
                }
            }
            (true, true) => {}
        }
    }
    out
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
    attack(cells, None, catalogue, register, rules)
}

/// What an insider adds to an attack: the true figures, and the counts the suppression
/// proved protected (by a certificate or a linear programme) for a subset of the final
/// hidden cells.
type Insider<'a> = (&'a [Cell], &'a HashSet<(usize, Attr)>);

/// [`audit`]; with the true figures (`truth`, the same cells before hiding), a range proven
/// wide enough by exchanging two hidden territories ([`exchange_bound`]) needs no linear
/// programme.
fn attack(
    cells: &[Cell],
    insider: Option<Insider<'_>>,
    catalogue: &Catalogue,
    register: &Register,
    rules: &Rules,
) -> Audit {
    let threshold = rules.threshold;
    let mut out = Audit::default();
    let pairs = twins(cells, catalogue, register);
    for ind in catalogue.iter() {
        let indices: Vec<usize> = (0..cells.len())
            .filter(|&i| cells[i].indicateur == ind.id)
            .collect();
        let mut stats = IndicatorAudit {
            cases: indices.len(),
            secretes: indices.iter().filter(|&&i| cells[i].secret).count(),
            plus_etroite: None,
        };
        for g in groups(ind, cells, &indices, register) {
            let hidden: Vec<bool> = g.cells.iter().map(|&i| cells[i].secret).collect();
            let known = |l: usize, a: Attr| value(&cells[g.cells[l]], a).unwrap_or(0) as f64;
            for l in 0..g.cells.len() {
                if !hidden[l] {
                    continue;
                }
                for a in sensitive(ind, &cells[g.cells[l]], rules.numerators) {
                    if let Some((truth, proofs)) = insider {
                        if value(&truth[g.cells[l]], a).unwrap_or(0) == 0
                            || proofs.contains(&(g.cells[l], a))
                        {
                            continue;
                        }
                        let bound = exchange_bound(&g, truth, &hidden, l, a)
                            .max(rectangle_bound(ind, &g, truth, &hidden, l, a))
                            .max(vertical_bound(ind, &g, truth, &hidden, l, a));
                        if bound >= threshold as f64 {
                            stats.plus_etroite =
                                Some(stats.plus_etroite.map_or(bound, |p| p.min(bound)));
                            continue;
                        }
                    }
                    let r = range(&g, &hidden, &known, l, a);
                    if let Some(max) = r.max
                        && max > 0.5
                    {
                        let w = max - r.min;
                        stats.plus_etroite = Some(stats.plus_etroite.map_or(w, |p| p.min(w)));
                    }
                    if r.narrow(threshold) {
                        let c = &cells[g.cells[l]];
                        out.failures.push(Failure {
                            indicateur: ind.id.clone(),
                            niveau: c.niveau,
                            code: c.code.clone(),
                            mois: c.mois,
                            case: format!(
                                "{}{}{} ({})",
                                c.ventilation,
                                if c.ventilation.is_empty() { "" } else { "=" },
                                c.modalite,
                                match a {
                                    Attr::Num => "numérateur",
                                    Attr::Den => "dénominateur",
                                }
                            ),
                            range: r,
                        });
                    }
                }
            }
        }
        out.indicateurs.push((ind.id.clone(), stats));
    }
    out.failures
        .extend(twin_attack(cells, &pairs, catalogue, threshold));
    out
}

fn attr_of(k: Compte) -> Attr {
    match k {
        Compte::Numerateur => Attr::Num,
        Compte::Denominateur => Attr::Den,
    }
}

/// What twins give away to an outsider (issue 12): a hidden cell whose twin is published
/// counting the same territories; and two published pooled twins whose territories differ by
/// exactly one hidden cell (the difference of the two is that cell's count).
fn twin_attack(
    cells: &[Cell],
    pairs: &[Twins],
    catalogue: &Catalogue,
    threshold: i64,
) -> Vec<Failure> {
    let mut out = Vec::new();
    for p in pairs {
        let (c, t) = (&cells[p.cell], &cells[p.twin]);
        let Some(lien) = catalogue.get(&c.indicateur).and_then(|i| i.lien.as_ref()) else {
            continue;
        };
        let count = |cell: &Cell, k: Compte| match k {
            Compte::Numerateur => cell.numerateur,
            Compte::Denominateur => cell.denominateur,
        };
        let twin_value = |cell: &Cell| -> Option<f64> {
            lien.termes
                .iter()
                .map(|(coef, k)| count(cell, *k).map(|v| coef * v as f64))
                .sum()
        };
        let single = lien.termes.len() == 1;
        let same = p.only_cell.is_empty() && p.only_twin.is_empty();
        let exposed: Option<(usize, Attr, f64)> = match (c.secret, t.secret) {
            (true, false) if same => twin_value(t).map(|v| (p.cell, attr_of(lien.compte), v)),
            (false, true) if same && single => count(c, lien.compte).map(|v| {
                (
                    p.twin,
                    attr_of(lien.termes[0].1),
                    v as f64 * lien.termes[0].0,
                )
            }),
            (false, false) if single => {
                let hidden: Vec<usize> = p
                    .only_cell
                    .iter()
                    .chain(&p.only_twin)
                    .copied()
                    .filter(|&x| cells[x].secret)
                    .collect();
                match (hidden.as_slice(), count(c, lien.compte), twin_value(t)) {
                    ([x], Some(pc), Some(pt)) => {
                        let sum = |xs: &[usize], k: Compte| -> f64 {
                            xs.iter()
                                .filter(|&&y| y != *x)
                                .map(|&y| count(&cells[y], k).unwrap_or(0) as f64)
                                .sum()
                        };
                        let (cell_side, twin_side) = (
                            sum(&p.only_cell, lien.compte),
                            sum(&p.only_twin, lien.termes[0].1) * lien.termes[0].0,
                        );
                        // pc − Σ only_cell = pt − Σ only_twin (the territories both count).
                        if p.only_cell.contains(x) {
                            Some((
                                *x,
                                attr_of(lien.compte),
                                pc as f64 - cell_side - pt + twin_side,
                            ))
                        } else {
                            Some((
                                *x,
                                attr_of(lien.termes[0].1),
                                (pt - twin_side - pc as f64 + cell_side) * lien.termes[0].0,
                            ))
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((x, attr, v)) = exposed else {
            continue;
        };
        let range = Range {
            min: v,
            max: Some(v),
        };
        if !range.narrow(threshold) {
            continue;
        }
        let h = &cells[x];
        out.push(Failure {
            indicateur: h.indicateur.clone(),
            niveau: h.niveau,
            code: h.code.clone(),
            mois: h.mois,
            case: format!(
                "{}{}{} ({}, par son jumeau {} {})",
                h.ventilation,
                if h.ventilation.is_empty() { "" } else { "=" },
                h.modalite,
                match attr {
                    Attr::Num => "numérateur",
                    Attr::Den => "dénominateur",
                },
                if x == p.twin {
                    &c.indicateur
                } else {
                    &t.indicateur
                },
                if x == p.twin { &c.code } else { &t.code },
            ),
            range,
        });
    }
    out
}
