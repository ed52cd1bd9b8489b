//! The attack on a published table, as an outsider (or an insider with the proofs) would run it.

use super::*;

/// What an insider adds to an attack: the true figures, and the counts the suppression
/// proved protected (by a certificate or a linear programme) for a subset of the final
/// hidden cells.
pub(super) type Insider<'a> = (&'a [Cell], &'a HashSet<(usize, Attr)>);

/// [`audit`]; with the true figures (`truth`, the same cells before hiding), a range proven
/// wide enough by exchanging two hidden territories ([`Hiding::exchange_bound`]) needs no linear
/// programme.
pub(super) fn attack(
    cells: &[Cell],
    insider: Option<Insider<'_>>,
    catalogue: &Catalogue,
    rules: &Rules,
    linked: &Linked<'_>,
) -> Audit {
    let threshold = rules.threshold;
    let mut out = Audit::default();
    let (inds, all, of_indicator, pairs) = (
        &linked.inds,
        &linked.all,
        &linked.of_indicator,
        &linked.pairs,
    );
    for (ind, indices) in inds.iter().zip(of_indicator) {
        out.indicateurs.push((
            ind.id.clone(),
            IndicatorAudit {
                cases: indices.len(),
                secretes: indices.iter().filter(|&&i| cells[i].secret).count(),
                plus_etroite: None,
            },
        ));
    }
    // Each group is attacked on its own, on every core; results in the sequential order.
    let attacked = par_map(all, |(k, g)| {
        attack_group(inds[*k], g, cells, insider, threshold, rules.numerators)
    });
    for ((k, _), (narrowest, failures)) in all.iter().zip(attacked) {
        let stats = &mut out.indicateurs[*k].1;
        if let Some(w) = narrowest {
            stats.plus_etroite = Some(stats.plus_etroite.map_or(w, |p| p.min(w)));
        }
        out.failures.extend(failures);
    }
    out.failures
        .extend(twin_attack(cells, pairs, catalogue, threshold));
    out
}

/// The attack on one linked group: the narrowest range found over its secret counts, and the
/// counts pinned down.
fn attack_group(
    ind: &Indicator,
    g: &Group,
    cells: &[Cell],
    insider: Option<Insider<'_>>,
    threshold: i64,
    numerators: bool,
) -> (Option<f64>, Vec<Failure>) {
    let mut narrowest: Option<f64> = None;
    let mut failures = Vec::new();
    let mut narrow_to = |w: f64| narrowest = Some(narrowest.map_or(w, |p: f64| p.min(w)));
    let hidden: Vec<bool> = g.cells.iter().map(|&i| cells[i].secret).collect();
    let known = |l: usize, a: Attr| value(&cells[g.cells[l]], a).unwrap_or(0) as f64;
    for l in 0..g.cells.len() {
        if !hidden[l] {
            continue;
        }
        for a in sensitive(ind, &cells[g.cells[l]], numerators) {
            if let Some((truth, proofs)) = insider {
                if value(&truth[g.cells[l]], a).unwrap_or(0) == 0
                    || proofs.contains(&(g.cells[l], a))
                {
                    continue;
                }
                let hiding = Hiding {
                    ind,
                    g,
                    cells: truth,
                    hidden: &hidden,
                };
                let bound = hiding.bound(l, a);
                if bound >= threshold as f64 {
                    narrow_to(bound);
                    continue;
                }
            }
            let r = range(g, &hidden, &known, l, a);
            if let Some(max) = r.max
                && max > 0.5
            {
                narrow_to(max - r.min);
            }
            if r.narrow(threshold) {
                let c = &cells[g.cells[l]];
                failures.push(Failure {
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
    (narrowest, failures)
}

pub(super) fn attr_of(k: Compte) -> Attr {
    match k {
        Compte::Numerateur => Attr::Num,
        Compte::Denominateur => Attr::Den,
    }
}

/// What twins give away to an outsider (issue 12): a hidden cell whose twin is published
/// counting the same territories; and two published pooled twins whose territories differ by
/// exactly one hidden cell (the difference of the two is that cell's count).
pub(super) fn twin_attack(
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
