//! How far a hidden count can move: its range by a linear programme ([`range`]), and three
//! proofs from the true figures that need none (exchanging territories, trading people
//! between modalities, and the same all the way up).

use super::*;

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
pub(super) fn range(
    g: &Group,
    hidden: &[bool],
    known: &dyn Fn(usize, Attr) -> f64,
    cell: usize,
    attr: Attr,
) -> Range {
    range_or_wide(g, hidden, known, cell, attr, None, None)
}

/// The values hidden counts of one group were seen to take at feasible points: the true
/// figures, and the optima of the linear programmes solved so far (each, completed by the true
/// values of the counts outside its programme, satisfies every relation). A count seen at least
/// `threshold` apart has a range at least that wide, with no programme of its own (issue 16).
///
/// Valid while cells are only added to the hidden ones: a feasible point stays feasible when
/// more cells are hidden (they keep their true values).
#[derive(Debug, Default)]
pub(super) struct Reach(FastMap<(usize, Attr), (f64, f64)>);

impl Reach {
    /// Whether `(cell, attr)` was seen at least `threshold` apart.
    pub(super) fn wide(&self, cell: usize, attr: Attr, threshold: i64) -> bool {
        self.0
            .get(&(cell, attr))
            .is_some_and(|(lo, hi)| hi - lo >= threshold as f64 - 1e-6)
    }

    /// The largest value `(cell, attr)` was seen at, if it was.
    pub(super) fn high(&self, cell: usize, attr: Attr) -> Option<f64> {
        self.0.get(&(cell, attr)).map(|(_, hi)| *hi)
    }

    /// Adds what `other` saw.
    pub(super) fn merge(&mut self, other: &Reach) {
        for (key, (lo, hi)) in &other.0 {
            let (l, h) = self.0.entry(*key).or_insert((*lo, *hi));
            *l = l.min(*lo);
            *h = h.max(*hi);
        }
    }

    /// The smallest value `(cell, attr)` was seen at, if it was.
    pub(super) fn low(&self, cell: usize, attr: Attr) -> Option<f64> {
        self.0.get(&(cell, attr)).map(|(lo, _)| *lo)
    }

    fn record_all(
        &mut self,
        ids: &FastMap<(usize, Attr), microlp::Variable>,
        solution: &microlp::Solution,
        known: &dyn Fn(usize, Attr) -> f64,
    ) {
        for (v, id) in ids {
            self.record(*v, known(v.0, v.1), solution.var_value(*id));
        }
    }

    fn record(&mut self, key: (usize, Attr), truth: f64, value: f64) {
        let (lo, hi) = self.0.entry(key).or_insert((truth, truth));
        *lo = lo.min(value);
        *hi = hi.max(value);
    }
}

/// [`range`], or as soon as the count is proven wide: with `truth = Some((value, threshold))`
/// (`known` gives the true figures, a feasible point, so `min ≤ value ≤ max`), a largest value
/// at least `threshold` above the true one settles it without the second linear programme, and
/// the range returned is `[value, max]`, narrower than the real one but as wide as the
/// threshold. The optima found are added to `reach` when given.
pub(super) fn range_or_wide(
    g: &Group,
    hidden: &[bool],
    known: &dyn Fn(usize, Attr) -> f64,
    cell: usize,
    attr: Attr,
    truth: Option<(f64, i64)>,
    mut reach: Option<&mut Reach>,
) -> Range {
    use microlp::OptimizationDirection::{Maximize, Minimize};
    let lp = Component::of(g, hidden, &[(cell, attr)]);
    let objective = |v: (usize, Attr)| if v == (cell, attr) { 1.0 } else { 0.0 };
    let max = lp.solve(known, &objective, Maximize, reach.as_deref_mut());
    if let (Some((value, threshold)), Some(max)) = (truth, max) {
        match max {
            None => {
                return Range {
                    min: 0.0,
                    max: None,
                };
            }
            Some(m) if m - value >= threshold as f64 - 1e-6 => {
                return Range {
                    min: value,
                    max: Some(m),
                };
            }
            Some(_) => {}
        }
    }
    let min = lp.solve(known, &objective, Minimize, reach).flatten();
    match (min, max) {
        (Some(min), Some(max)) => Range { min, max },
        // Infeasible or failed: count it as pinned (fail closed).
        _ => Range {
            min: 0.0,
            max: Some(1.0),
        },
    }
}

/// Fills `reach` from one programme over every count linked to `targets` (the hidden counts
/// still to prove): their sum pushed up. The optimum moves most of them at once, so most need
/// no programme of their own (issue 16); it is returned, solved, to probe each of the others
/// from ([`Probe`]), down from the highest value seen or up from the lowest. A second
/// programme pushing the sum down cost more than the probes it spared (measured at scale 1).
pub(super) fn spread(
    g: &Group,
    hidden: &[bool],
    known: &dyn Fn(usize, Attr) -> f64,
    targets: &[(usize, Attr)],
    reach: &mut Reach,
) -> Option<Probe> {
    use microlp::OptimizationDirection::Maximize;
    let lp = Component::of(g, hidden, targets);
    let wanted: FastSet<(usize, Attr)> = targets.iter().copied().collect();
    let objective = |v: (usize, Attr)| if wanted.contains(&v) { 1.0 } else { 0.0 };
    let (problem, ids) = lp.problem(known, &objective, Maximize);
    match problem.solve() {
        Ok(microlp::SolveOutcome::Solution(solution)) => {
            reach.record_all(&ids, &solution, known);
            Some(Probe { solution, ids })
        }
        _ => None,
    }
}

/// A solved programme over hidden counts, from which one asks, warm, whether a count can take
/// a value: the count fixed there, a bound change that the dual simplex repairs from the
/// optimum's basis in a few pivots with no new row to factorise (issue 16), instead of a
/// programme of its own.
pub(super) struct Probe {
    solution: microlp::Solution,
    ids: FastMap<(usize, Attr), microlp::Variable>,
}

impl Probe {
    /// Whether `(cell, attr)` can take `value` under the same relations (the point found goes
    /// to `reach`); `None` when the count is not in the programme. Its values form an interval,
    /// so a value `threshold` away from one already seen, when it can be taken, proves the
    /// range that wide; `Some(false)` proves nothing about the width.
    pub(super) fn takes(
        &self,
        cell: usize,
        attr: Attr,
        value: f64,
        known: &dyn Fn(usize, Attr) -> f64,
        reach: &mut Reach,
    ) -> Option<bool> {
        let id = *self.ids.get(&(cell, attr))?;
        let probed = self.solution.clone().fix_var(id, value);
        Some(match probed {
            Ok(microlp::SolveOutcome::Solution(s)) => {
                reach.record_all(&self.ids, &s, known);
                true
            }
            _ => false,
        })
    }
}

/// The hidden counts linked to some counts through the relations of a group, and those
/// relations.
struct Component<'g> {
    g: &'g Group,
    vars: Vec<(usize, Attr)>,
    used: Vec<bool>,
}

impl<'g> Component<'g> {
    fn of(g: &'g Group, hidden: &[bool], starts: &[(usize, Attr)]) -> Self {
        let mut vars: Vec<(usize, Attr)> = starts.to_vec();
        let mut seen: FastSet<(usize, Attr)> = vars.iter().copied().collect();
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
        Component { g, vars, used }
    }

    /// The programme of `objective` over the counts ≥ 0 and the relations, the others at their
    /// `known` values, and the variable of each count.
    fn problem(
        &self,
        known: &dyn Fn(usize, Attr) -> f64,
        objective: &dyn Fn((usize, Attr)) -> f64,
        direction: microlp::OptimizationDirection,
    ) -> (microlp::Problem, FastMap<(usize, Attr), microlp::Variable>) {
        use microlp::{ComparisonOp, Problem};
        let mut p = Problem::new(direction);
        let ids: FastMap<(usize, Attr), microlp::Variable> = self
            .vars
            .iter()
            .map(|&v| (v, p.add_var(objective(v), (0.0, f64::INFINITY))))
            .collect();
        for (ci, c) in self.g.constraints.iter().enumerate() {
            if !self.used[ci] {
                continue;
            }
            let mut expr = Vec::new();
            let mut rhs = 0.0;
            for &(l, a, coef) in &c.terms {
                match ids.get(&(l, a)) {
                    Some(v) => expr.push((*v, coef)),
                    None => rhs -= coef * known(l, a),
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
        (p, ids)
    }

    /// The optimum of [`Component::problem`]: `Some(None)` when unbounded, `None` when
    /// infeasible or failed. The optimum's values go to `reach`.
    fn solve(
        &self,
        known: &dyn Fn(usize, Attr) -> f64,
        objective: &dyn Fn((usize, Attr)) -> f64,
        direction: microlp::OptimizationDirection,
        reach: Option<&mut Reach>,
    ) -> Option<Option<f64>> {
        let (p, ids) = self.problem(known, objective, direction);
        match p.solve() {
            Ok(microlp::SolveOutcome::Solution(s)) => {
                if let Some(reach) = reach {
                    reach.record_all(&ids, &s, known);
                }
                Some(Some(s.objective()))
            }
            Ok(_) => None,
            Err(microlp::Error::Unbounded) => Some(None),
            Err(_) => None,
        }
    }
}

/// One group's cells, which of them are hidden, and the true figures: what the proofs that a
/// hidden count is wide need when they need no linear programme.
#[derive(Clone, Copy)]
pub(super) struct Hiding<'a> {
    pub(super) ind: &'a Indicator,
    pub(super) g: &'a Group,
    pub(super) cells: &'a [Cell],
    pub(super) hidden: &'a [bool],
}

impl Hiding<'_> {
    /// The widest of the lower bounds of `(l, attr)`'s range proven from the true figures.
    pub(super) fn bound(&self, l: usize, attr: Attr) -> f64 {
        self.exchange_bound(l, attr)
            .max(self.rectangle_bound(l, attr))
            .max(self.vertical_bound(l, attr))
    }

    /// Whether one of those bounds reaches `threshold` (the cheapest proof first).
    pub(super) fn proves(&self, l: usize, attr: Attr, threshold: f64) -> bool {
        self.exchange_bound(l, attr) >= threshold
            || self.rectangle_bound(l, attr) >= threshold
            || self.vertical_bound(l, attr) >= threshold
    }

    /// A lower bound of a hidden count's range, proven from the true figures: when every cell of
    /// its territory is hidden, the territory can trade its whole profile with another territory
    /// whose cells are all hidden and that adds into the same pooled cells (all relations inside a
    /// territory are homogeneous, so the sum of two consistent profiles, or zero, is consistent):
    /// the count can fall to 0 and rise by the partner's. 0 when no such partner exists.
    pub(super) fn exchange_bound(&self, l: usize, attr: Attr) -> f64 {
        let (g, cells, hidden) = (self.g, self.cells, self.hidden);
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
        // after cell) of both waves is hidden or absent: the nation's sums stay the same. The
        // waves with a published cell, found once.
        let mut published_waves: Vec<&str> = g
            .cells
            .iter()
            .enumerate()
            .filter(|&(x, &i)| !hidden[x] && cells[i].niveau == Niveau::Vague)
            .map(|(_, &i)| cells[i].code.as_str())
            .collect();
        published_waves.sort_unstable();
        published_waves.dedup();
        let waves_hidden = |wave: &str| published_waves.binary_search(&wave).is_err();
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
                .find(|&&x| g.slot[x] == g.slot[l])
                .and_then(|&x| value(&cells[g.cells[x]], attr))
                .unwrap_or(0) as f64;
        }
        if partners > 0.0 { own + partners } else { 0.0 }
    }

    /// A lower bound of a hidden modality count's range, proven from the true figures: two
    /// territories adding into the same pooled cells, whose breakdowns are hidden, trade `s` people
    /// between two modalities in opposite directions (every sum, pooled or within a territory,
    /// stays the same); the count can rise by such trades and fall by the reverse ones, within
    /// what each cell holds and the caps of the relation (a modality at most its total, a
    /// numerator at most its denominator). Without caps, the trades with every partner and every
    /// other modality add up. 0 when no trade exists.
    pub(super) fn rectangle_bound(&self, l: usize, attr: Attr) -> f64 {
        let (ind, g, cells, hidden) = (self.ind, self.g, self.cells, self.hidden);
        let Some(k) = g.territory_of[l] else {
            return 0.0;
        };
        let cell = &cells[g.cells[l]];
        let Some(detail) = ind.ventilation(&cell.ventilation) else {
            return 0.0;
        };
        let vent = g.vent[l];
        // The cells of territory `j` in this breakdown, all hidden, by modality; and its total.
        let profile = |j: usize| -> Option<(Modalities<'_>, Option<&Cell>)> {
            let mut mods = Modalities::default();
            let mut total = None;
            for &x in &g.territories[j].0 {
                let c = &cells[g.cells[x]];
                if g.vent[x] == vent {
                    if !hidden[x] {
                        return None;
                    }
                    mods.insert(g.slot[x], c);
                } else if g.vent[x] == TOTAL {
                    total = Some(c);
                }
            }
            Some((mods, total))
        };
        let Some((own, own_total)) = profile(k) else {
            return 0.0;
        };
        let v = |c: Option<&&Cell>| c.and_then(|c| value(c, attr)).unwrap_or(0) as f64;
        // How far a modality of a territory may rise.
        let cap = |total: Option<&Cell>, c: Option<&&Cell>| room(ind, detail, total, v(c));
        // How many people two cells can each give up in one trade. A rate whose modalities have
        // their own denominators keeps each numerator at most its denominator: a person moves with
        // their place in the numerator, so a trade of denominators pairs the numerator's people of
        // both cells, and the others apart (issue 16). Numerators move with their denominators.
        let split =
            ind.sorte == Sorte::Taux && detail.relation.own_denominator() && attr == Attr::Den;
        let count = |c: Option<&&Cell>, a: Attr| c.and_then(|c| value(c, a)).unwrap_or(0) as f64;
        let givable = |x: Option<&&Cell>, y: Option<&&Cell>| {
            if split {
                let (nx, ny) = (count(x, Attr::Num), count(y, Attr::Num));
                nx.min(ny) + (v(x) - nx).max(0.0).min((v(y) - ny).max(0.0))
            } else {
                v(x).min(v(y))
            }
        };
        let me = g.slot[l];
        let partners = g
            .territories
            .iter()
            .enumerate()
            .filter(|&(j, (_, signature))| j != k && *signature == g.territories[k].1)
            .filter_map(|(j, _)| profile(j));
        if !capped(ind, detail) {
            // No modality capped: trades add up. This territory gives its other modalities to
            // `me` while every partner gives `me` and takes them back, or the reverse; each
            // modality's pooled sums and each territory's total stay the same (issue 16). With
            // `split`, the numerator's people and the others are traded apart.
            let parts = |c: Option<&&Cell>| -> [f64; 2] {
                if split {
                    let n = count(c, Attr::Num);
                    [n, (v(c) - n).max(0.0)]
                } else {
                    [v(c), 0.0]
                }
            };
            let add = |a: [f64; 2], b: [f64; 2]| [a[0] + b[0], a[1] + b[1]];
            let others = |mods: &Modalities<'_>| {
                mods.0
                    .iter()
                    .filter(|(m, _)| *m != me)
                    .fold([0.0; 2], |sum, (_, c)| add(sum, parts(Some(c))))
            };
            let (own_me, own_others) = (parts(own.get(me)), others(&own));
            let (mut their_me, mut their_others) = ([0.0; 2], [0.0; 2]);
            for (other, _) in partners {
                their_me = add(their_me, parts(other.get(me)));
                their_others = add(their_others, others(&other));
            }
            return (0..2)
                .map(|i| own_others[i].min(their_me[i]) + own_me[i].min(their_others[i]))
                .sum();
        }
        let (mut up, mut down) = (0.0f64, 0.0f64);
        for (other, other_total) in partners {
            for (m2, c2) in &own.0 {
                if *m2 == me {
                    continue;
                }
                let (o1, o2) = (other.get(me), other.get(*m2));
                // Up: me +s, m2 −s here; me −s, m2 +s there.
                let u = givable(Some(c2), o1)
                    .min(cap(own_total, own.get(me)))
                    .min(cap(other_total, o2));
                // Down: the reverse.
                let d = givable(own.get(me), o2)
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
    pub(super) fn vertical_bound(&self, l: usize, attr: Attr) -> f64 {
        let (ind, g, cells, hidden) = (self.ind, self.g, self.cells, self.hidden);
        let cell = &cells[g.cells[l]];
        if cell.niveau == Niveau::Territoire {
            return 0.0;
        }
        let Some(detail) = ind.ventilation(&cell.ventilation) else {
            return 0.0;
        };
        let vent = g.vent[l];
        // Every pooled modality of the breakdown must be hidden.
        let pooled_hidden = (0..g.cells.len()).all(|x| {
            g.vent[x] != vent || hidden[x] || cells[g.cells[x]].niveau == Niveau::Territoire
        });
        if !pooled_hidden {
            return 0.0;
        }
        // The group's cells of this breakdown and its totals, by place (the first of each).
        let mut modalities: FastMap<(Niveau, &str, &str), usize> = FastMap::default();
        let mut totals: FastMap<(Niveau, &str), &Cell> = FastMap::default();
        for x in 0..g.cells.len() {
            let c = &cells[g.cells[x]];
            if g.vent[x] == vent {
                modalities
                    .entry((c.niveau, c.code.as_str(), c.modalite.as_str()))
                    .or_insert(x);
            } else if g.vent[x] == TOTAL {
                totals.entry((c.niveau, c.code.as_str())).or_insert(c);
            }
        }
        let at = |niveau: Niveau, code: &str, md: &str| -> Option<(usize, &Cell)> {
            modalities
                .get(&(niveau, code, md))
                .map(|&x| (x, &cells[g.cells[x]]))
        };
        let v = |c: Option<(usize, &Cell)>| c.and_then(|c| value(c.1, attr)).unwrap_or(0) as f64;
        let total_of =
            |niveau: Niveau, code: &str| -> Option<&Cell> { totals.get(&(niveau, code)).copied() };
        // Room for a modality to rise: the cap of its relation.
        let slack = |niveau: Niveau, code: &str, c: Option<(usize, &Cell)>| {
            room(ind, detail, total_of(niveau, code), v(c))
        };
        let me = cell.modalite.as_str();
        // Per wave, what its territories' moves add up to (before the pooled caps).
        let mut by_wave: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for (members, (wave, _)) in &g.territories {
            if wave.is_empty() || (cell.niveau == Niveau::Vague && *wave != cell.code) {
                continue;
            }
            let profile: Vec<&Cell> = members
                .iter()
                .filter(|&&x| g.vent[x] == vent)
                .map(|&x| &cells[g.cells[x]])
                .collect();
            if profile.is_empty() || members.iter().any(|&x| g.vent[x] == vent && !hidden[x]) {
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
}

/// Whether a modality of `detail` may rise only up to a cap ([`room`]).
fn capped(ind: &Indicator, detail: &Ventilation) -> bool {
    match detail.relation {
        Relation::Chevauchement => true,
        Relation::Numerateurs | Relation::Denominateur => ind.sorte == Sorte::Taux,
        Relation::Partition => false,
    }
}

/// How far a modality holding `x` may rise under its total: to the total's numerator for
/// overlapping modalities, to its denominator for a rate's shared denominator; unbounded
/// otherwise.
fn room(ind: &Indicator, detail: &Ventilation, total: Option<&Cell>, x: f64) -> f64 {
    if !capped(ind, detail) {
        return f64::INFINITY;
    }
    let cap = match detail.relation {
        Relation::Chevauchement => total.and_then(|t| t.numerateur),
        _ => total.and_then(|t| t.denominateur),
    };
    cap.map_or(f64::INFINITY, |n| n as f64 - x)
}

/// One territory's cells of a breakdown, by [`Group::slot`]: a handful, looked up by scanning
/// (a map keyed by the modality's name cost more than the trades it served; issue 16).
#[derive(Default)]
struct Modalities<'a>(Vec<(usize, &'a Cell)>);

impl<'a> Modalities<'a> {
    fn insert(&mut self, slot: usize, cell: &'a Cell) {
        match self.0.iter_mut().find(|(s, _)| *s == slot) {
            Some(entry) => entry.1 = cell,
            None => self.0.push((slot, cell)),
        }
    }

    fn get(&self, slot: usize) -> Option<&&'a Cell> {
        self.0.iter().find(|(s, _)| *s == slot).map(|(_, c)| c)
    }
}
