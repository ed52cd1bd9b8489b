//! The linked cells of one indicator and one month, and the relations between them.

use super::*;

/// Builds the linked groups of one indicator's cells (indices into `cells`).
pub(super) fn groups(
    ind: &Indicator,
    cells: &[Cell],
    indices: &[usize],
    register: &Register,
) -> Vec<Group> {
    let mut by_month: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for &i in indices {
        if let Some(m) = target_month(&cells[i]) {
            by_month.entry(m).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (m, members) in by_month {
        let mut g = Group::default();
        let mut local: FastMap<CellKey, usize> = FastMap::default();
        let mut slots: FastMap<(&str, &str), usize> = FastMap::default();
        for &i in &members {
            let c = &cells[i];
            g.vent.push(if c.ventilation.is_empty() {
                TOTAL
            } else {
                ind.details
                    .iter()
                    .position(|v| v.nom == c.ventilation)
                    .map_or(OTHER, |k| k + 1)
            });
            let next = slots.len();
            g.slot.push(
                *slots
                    .entry((c.ventilation.as_str(), c.modalite.as_str()))
                    .or_insert(next),
            );
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
        let mut pooled: FastMap<(Niveau, &str), Vec<usize>> = FastMap::default();
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
        let mut by_geo: FastMap<(Niveau, &str, &str), Vec<usize>> = FastMap::default();
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
