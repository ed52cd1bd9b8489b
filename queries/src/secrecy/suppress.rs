//! Secondary suppression in one group.

use super::*;

pub(super) fn suppress(
    ind: &Indicator,
    cells: &[Cell],
    g: &Group,
    rules: &Rules,
    forced: &HashSet<usize>,
    proofs: Proofs,
) -> Result<Suppressed> {
    let fast = proofs == Proofs::Fast;
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
    // A count's range: with the fast proofs, stopped once it is wide and its feasible points
    // kept in `seen`; with the exact ones, its own two programmes.
    let measure = |hidden: &[bool], l: usize, a: Attr, seen: &mut Reach| {
        if fast {
            let truth = Some((known(l, a), t));
            range_or_wide(g, hidden, &known, l, a, truth, Some(seen))
        } else {
            range(g, hidden, &known, l, a)
        }
    };
    // Closure: an equality with exactly one hidden cell gives it away; hide the cheapest other.
    let closure = |hidden: &mut Vec<bool>| loop {
        let mut changed = false;
        // A territory with a hidden modality hides its whole breakdown (its total aside), so
        // that two such territories can trade modalities ([`Hiding::rectangle_bound`]).
        for (members, _) in &g.territories {
            for vent in 1..=ind.details.len() {
                let of_v: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&x| g.vent[x] == vent)
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
        // so that people can move between modalities all the way up ([`Hiding::vertical_bound`]).
        for vent in 1..=ind.details.len() {
            let pooled: Vec<usize> = (0..g.cells.len())
                .filter(|&x| g.vent[x] == vent && cells[g.cells[x]].niveau != Niveau::Territoire)
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
    // Values seen at feasible points: they prove most counts wide without a programme.
    let mut reach = Reach::default();
    loop {
        // The counts of hidden cells still to prove: the cheap proofs first.
        let mut pending: Vec<(usize, Attr)> = Vec::new();
        let hiding = Hiding {
            ind,
            g,
            cells,
            hidden: &hidden,
        };
        for l in (0..n).filter(|&l| hidden[l]) {
            for a in sensitive(ind, &cells[g.cells[l]], rules.numerators) {
                // A true zero discloses nobody: only counts with someone in them are protected.
                if protected.contains(&(l, a)) || known(l, a) < 0.5 {
                    continue;
                }
                if hiding.proves(l, a, t as f64) || (fast && reach.wide(l, a, t)) {
                    protected.insert((l, a));
                    continue;
                }
                pending.push((l, a));
            }
        }
        let probe = if fast && pending.len() >= SPREAD {
            spread(g, &hidden, &known, &pending, &mut reach)
        } else {
            None
        };
        // The first of them that is pinned down.
        let mut narrow = None;
        for &(l, a) in &pending {
            if fast && reach.wide(l, a, t) {
                protected.insert((l, a));
                continue;
            }
            // Warm, from the solved programme: can the count take a value a threshold below
            // the largest value seen, or above the smallest? Then it is wide; if not, its own
            // programmes tell.
            if let Some(p) = &probe {
                let low = reach.low(l, a).unwrap_or(f64::INFINITY).min(known(l, a));
                let high = reach.high(l, a).unwrap_or(0.0).max(known(l, a));
                let down = high >= t as f64
                    && p.takes(l, a, high - t as f64, &known, &mut reach) == Some(true);
                if down || p.takes(l, a, low + t as f64, &known, &mut reach) == Some(true) {
                    protected.insert((l, a));
                    continue;
                }
            }
            let r = measure(&hidden, l, a, &mut reach);
            if r.narrow(t) {
                narrow = Some((l, a, r));
                break;
            }
            protected.insert((l, a));
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
                        .find(|&&x| g.vent[x] == TOTAL)
                        .map(|&x| &cells[g.cells[x]])
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
        let mut best: Option<(usize, f64, Reach)> = None;
        let mut chosen = None;
        let mut territory_tries = 0;
        for &y in &candidates {
            if cost_of(y).0 == 0 {
                territory_tries += 1;
                if territory_tries > CANDIDATES {
                    continue;
                }
            }
            // The points found with `y` hidden stay feasible once it is.
            let mut seen = Reach::default();
            hidden[y] = true;
            let w = width(&measure(&hidden, l, a, &mut seen));
            hidden[y] = false;
            if w >= t as f64 - 1e-6 {
                chosen = Some((y, seen));
                break;
            }
            if w > base + 1e-6 && best.as_ref().is_none_or(|(_, bw, _)| w > *bw) {
                best = Some((y, w, seen));
            }
        }
        let picked = chosen.or(best.map(|(y, _, seen)| (y, seen)));
        if let Some((_, seen)) = &picked {
            reach.merge(seen);
        }
        let y = picked
            .map(|(y, _)| y)
            .or_else(|| candidates.iter().copied().find(|&y| cost_of(y).0 > 0))
            .unwrap_or(candidates[0]);
        hidden[y] = true;
        closure(&mut hidden);
    }
}
