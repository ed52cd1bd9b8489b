//! From territory counts to published cells: every territory's complete months written out
//! (zeros included, every modality of every breakdown), then waves, the nation and the
//! before / after cells pooled from the territories whose month is complete, each pooled cell
//! saying what it covers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use chrono::{Months, NaiveDate};
use copil_warehouse::{Register, Wave};

use crate::catalogue::{Catalogue, Indicator, Sorte};
use crate::model::{Acc, Accs, Cell, Extent, Key, Niveau, RELATIF, months_between};
use crate::par::par_map;
use crate::stats::{summarise, wilson};

/// The indicator that sizes territories (people in droits et devoirs) for the coverage of
/// pooled cells.
const SIZE_INDICATOR: &str = "beneficiaires_dd";

/// One territory's counts of one indicator, by (territory, month, breakdown, modality).
type TerritoryCounts = BTreeMap<(String, NaiveDate, String, String), Acc>;

/// For each month, each territory's (breakdown, modality, counts).
type ByMonth<'a> = BTreeMap<NaiveDate, BTreeMap<&'a str, Vec<(&'a str, &'a str, &'a Acc)>>>;

/// Months from `first` to `last`, both included.
pub(crate) fn month_range(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = first;
    while m <= last {
        out.push(m);
        m = m.checked_add_months(Months::new(1)).expect("valid month");
    }
    out
}

/// The months of a territory's data that are complete for `ind`: from its first month of
/// events to its last mature month.
pub(crate) fn complete_months(ind: &Indicator, extent: &Extent) -> (NaiveDate, NaiveDate) {
    (
        extent.premier_mois,
        ind.last_mature_month(extent.extraction),
    )
}

/// One territory's counts of one indicator: rows outside its complete months are dropped (a
/// pooled cell could not say it counts them), and every complete month gets its total and every
/// modality of every breakdown, zeros included, so that an absent row never stands for an
/// unknown and pooled shares divide by every territory's denominator.
fn complete(ind: &Indicator, acc: Accs, extents: &BTreeMap<String, Extent>) -> TerritoryCounts {
    let mut out = TerritoryCounts::new();
    for ((_, t, m, v, md), a) in acc {
        let Some(extent) = extents.get(&t) else {
            continue;
        };
        let (first, last) = complete_months(ind, extent);
        if m < first || m > last {
            continue;
        }
        out.insert((t, m, v, md), a);
    }
    for (t, extent) in extents {
        let (first, last) = complete_months(ind, extent);
        for m in month_range(first, last) {
            let total = out
                .entry((t.clone(), m, String::new(), String::new()))
                .or_default()
                .clone();
            for v in &ind.details {
                for md in &v.modalites {
                    out.entry((t.clone(), m, v.nom.clone(), md.clone()))
                        .or_insert_with(|| Acc {
                            den: if v.relation.own_denominator() {
                                0
                            } else {
                                total.den
                            },
                            ..Acc::default()
                        });
                }
            }
        }
    }
    out
}

/// Each territory's size for coverage: its people in droits et devoirs at its last complete
/// month; a territory without data counts as the mean of the others (at least 1).
fn sizes(
    catalogue: &Catalogue,
    register: &Register,
    territory: &[TerritoryCounts],
) -> BTreeMap<String, f64> {
    let mut known: BTreeMap<String, f64> = BTreeMap::new();
    if let Some(k) = catalogue.iter().position(|i| i.id == SIZE_INDICATOR) {
        for ((t, _, v, md), a) in &territory[k] {
            if v.is_empty() && md.is_empty() {
                // Later months overwrite earlier ones (keys are sorted by month).
                known.insert(t.clone(), a.num.max(1) as f64);
            }
        }
    }
    let mean = if known.is_empty() {
        1.0
    } else {
        known.values().sum::<f64>() / known.len() as f64
    };
    register
        .iter()
        .map(|t| (t.id.clone(), known.get(&t.id).copied().unwrap_or(mean)))
        .collect()
}

/// A cell with its figures derived from its counts.
fn cell(ind: &Indicator, key: Key, a: &Acc) -> Cell {
    let (niveau, code, mois, ventilation, modalite) = key;
    let mut cell = Cell {
        indicateur: ind.id.clone(),
        niveau,
        code,
        mois,
        ventilation,
        modalite,
        numerateur: Some(a.num),
        denominateur: Some(a.den),
        personnes: Some(a.people),
        ..Cell::default()
    };
    match ind.sorte {
        Sorte::Volume => cell.valeur = Some(a.num as f64),
        Sorte::Taux => {
            cell.valeur = (a.den > 0).then(|| a.num as f64 / a.den as f64);
            if let Some((lo, hi)) = wilson(a.num, a.den) {
                cell.ic_bas = Some(lo);
                cell.ic_haut = Some(hi);
            }
        }
        Sorte::Delai => {
            cell.numerateur = Some(0);
            cell.denominateur = Some(0);
            cell.personnes = Some(0);
            if let Some(s) = summarise(&a.histogram) {
                cell.numerateur = Some(s.sum);
                cell.denominateur = Some(s.n);
                cell.personnes = Some(s.n);
                cell.valeur = Some(s.median);
                cell.q1 = Some(s.q1);
                cell.q3 = Some(s.q3);
                cell.moyenne = Some(s.mean);
            }
        }
    }
    cell
}

/// One pooled level at one month: which territories it should hold and which it counts.
pub(crate) struct Pool<'a> {
    /// Level.
    pub niveau: Niveau,
    /// Wave code or `national`.
    pub code: String,
    /// The cell's month (the SPIE start for a before / after cell).
    pub mois: NaiveDate,
    /// Breakdown (empty, or [`RELATIF`]).
    pub ventilation: String,
    /// Modality (empty, or the offset of a before / after cell).
    pub modalite: String,
    /// Territories of the level in force that month.
    pub membres: Vec<&'a str>,
}

/// The pooled cells that month `m` can have: each wave, the nation, and each wave's before /
/// after cells whose target month is `m`.
pub(crate) fn pools_at<'a>(register: &'a Register, m: NaiveDate) -> Vec<Pool<'a>> {
    let mut out = Vec::new();
    let in_force: Vec<&copil_warehouse::Territory> =
        register.iter().filter(|t| t.en_vigueur(m)).collect();
    out.push(Pool {
        niveau: Niveau::National,
        code: "national".into(),
        mois: m,
        ventilation: String::new(),
        modalite: String::new(),
        membres: in_force.iter().map(|t| t.id.as_str()).collect(),
    });
    for w in Wave::ALL {
        let members: Vec<&copil_warehouse::Territory> =
            in_force.iter().copied().filter(|t| t.vague == w).collect();
        if members.is_empty() {
            continue;
        }
        out.push(Pool {
            niveau: Niveau::Vague,
            code: w.code().into(),
            mois: m,
            ventilation: String::new(),
            modalite: String::new(),
            membres: members.iter().map(|t| t.id.as_str()).collect(),
        });
        let starts: BTreeSet<NaiveDate> = members.iter().map(|t| t.debut_spie).collect();
        for s in starts {
            let offset = months_between(s, m);
            if !(-12..=24).contains(&offset) {
                continue;
            }
            out.push(Pool {
                niveau: Niveau::Vague,
                code: w.code().into(),
                mois: s,
                ventilation: RELATIF.into(),
                modalite: format!("{offset:+03}"),
                membres: members
                    .iter()
                    .filter(|t| t.debut_spie == s)
                    .map(|t| t.id.as_str())
                    .collect(),
            });
        }
    }
    out
}

/// Territory counts of every indicator (as the catalogue's queries gave them) to published
/// cells at every level, before secrecy. A pooled cell is written when the territories it
/// counts cover at least `coverage` of its level's people; below full coverage it is
/// provisional.
pub(crate) fn assemble(
    catalogue: &Catalogue,
    register: &Register,
    accs: Vec<Accs>,
    extents: &BTreeMap<String, Extent>,
    coverage: f64,
) -> Vec<Cell> {
    // Each indicator on its own, on every core (issue 16); cells in catalogue order.
    let slots: Vec<(&Indicator, Mutex<Option<Accs>>)> = catalogue
        .iter()
        .zip(accs)
        .map(|(ind, acc)| (ind, Mutex::new(Some(acc))))
        .collect();
    let territory: Vec<TerritoryCounts> = par_map(&slots, |(ind, acc)| {
        let acc = acc.lock().expect("one worker per indicator").take();
        complete(ind, acc.unwrap_or_default(), extents)
    });
    let sizes = sizes(catalogue, register, &territory);
    let inds: Vec<(&Indicator, &TerritoryCounts)> = catalogue.iter().zip(&territory).collect();
    par_map(&inds, |(ind, rows)| {
        indicator_cells(ind, rows, register, &sizes, coverage)
    })
    .into_iter()
    .flatten()
    .collect()
}

/// One indicator's cells: its territories' `rows`, then the pooled cells of every month.
fn indicator_cells(
    ind: &Indicator,
    rows: &TerritoryCounts,
    register: &Register,
    sizes: &BTreeMap<String, f64>,
    coverage: f64,
) -> Vec<Cell> {
    let mut cells = Vec::new();
    // Territory cells, and an index by month for pooling.
    let mut by_month = ByMonth::new();
    for ((t, m, v, md), a) in rows {
        cells.push(cell(
            ind,
            (Niveau::Territoire, t.clone(), *m, v.clone(), md.clone()),
            a,
        ));
        by_month
            .entry(*m)
            .or_default()
            .entry(t.as_str())
            .or_default()
            .push((v.as_str(), md.as_str(), a));
    }
    for (m, present) in &by_month {
        for pool in pools_at(register, *m) {
            let counted: Vec<&str> = pool
                .membres
                .iter()
                .copied()
                .filter(|t| present.contains_key(t))
                .collect();
            if counted.is_empty() {
                continue;
            }
            let share = |ids: &[&str]| ids.iter().map(|t| sizes[*t]).sum::<f64>();
            let covered = share(&counted) / share(&pool.membres);
            if covered + 1e-9 < coverage {
                continue;
            }
            let mut sums: BTreeMap<(&str, &str), Acc> = BTreeMap::new();
            for t in &counted {
                for (v, md, a) in &present[t] {
                    // A before / after cell adds up totals only.
                    let total = v.is_empty() && md.is_empty();
                    if !(pool.ventilation.is_empty() || total) {
                        continue;
                    }
                    sums.entry((v, md)).or_default().add(a);
                }
            }
            let total_den = sums.get(&("", "")).map_or(0, |a| a.den);
            for ((v, md), mut a) in sums {
                // A modality sharing the total's denominator divides by the level's whole
                // denominator, whichever territories have people in it.
                if let Some(detail) = ind.ventilation(v)
                    && !detail.relation.own_denominator()
                {
                    a.den = total_den;
                }
                let (ventilation, modalite) = if pool.ventilation.is_empty() {
                    (v.to_string(), md.to_string())
                } else {
                    (pool.ventilation.clone(), pool.modalite.clone())
                };
                let mut c = cell(
                    ind,
                    (
                        pool.niveau,
                        pool.code.clone(),
                        pool.mois,
                        ventilation,
                        modalite,
                    ),
                    &a,
                );
                c.territoires = Some(counted.len() as i64);
                c.territoires_attendus = Some(pool.membres.len() as i64);
                c.couverture = Some((covered * 100.0).round() / 100.0);
                c.provisoire = counted.len() < pool.membres.len();
                cells.push(c);
            }
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;
    use copil_warehouse::Departments;

    const REGISTER: &str = "id,nom,type,departements,vague,debut_spie,source,fin,successeur\n\
a,A,departement,44,experimentation-2020,2020-03,officielle,,\n\
b,B,departement,59,experimentation-2020,2020-03,officielle,,\n\
c,C,departement,31,ami1-2021,2021-04,officielle,,\n";

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn key(t: &str, m: &str, v: &str, md: &str) -> Key {
        (Niveau::Territoire, t.into(), d(m), v.into(), md.into())
    }

    /// The test register, the built-in catalogue, the position of indicator `id` in it, and
    /// empty accumulators for every indicator.
    fn setup(id: &str) -> (Register, Catalogue, usize, Vec<Accs>) {
        let register = Register::parse(REGISTER, "t.csv", &Departments::builtin()).unwrap();
        let catalogue = Catalogue::builtin();
        let k = catalogue.iter().position(|i| i.id == id).unwrap();
        let accs = catalogue.iter().map(|_| Accs::default()).collect();
        (register, catalogue, k, accs)
    }

    fn acc(num: i64, den: i64) -> Acc {
        Acc {
            num,
            den,
            people: den,
            ..Acc::default()
        }
    }

    /// Issue 12: a pooled share divides by every territory's denominator, whether or not the
    /// territory has someone in the modality; shares of a breakdown add up to 1 at every level;
    /// a modality with nobody is written as a zero.
    #[test]
    fn issue_12_pooled_shares_divide_by_every_territory() {
        let (register, catalogue, k, mut accs) = setup("part_france_travail");
        let m = "2024-03-01";
        // a: 50 oriented, all "pro"; b: 36 oriented, 20 social and 16 socio_pro; c: 14, all pro.
        for (t, total_ft, den, mods) in [
            ("a", 30, 50, vec![("pro", 50)]),
            ("b", 6, 36, vec![("social", 20), ("socio_pro", 16)]),
            ("c", 10, 14, vec![("pro", 14)]),
        ] {
            accs[k].insert(key(t, m, "", ""), acc(total_ft, den));
            for (md, n) in mods {
                accs[k].insert(
                    key(t, m, "orientation", md),
                    Acc {
                        num: n,
                        den,
                        people: n,
                        ..Acc::default()
                    },
                );
            }
        }
        let extents: BTreeMap<String, Extent> = ["a", "b", "c"]
            .iter()
            .map(|t| {
                (
                    t.to_string(),
                    Extent {
                        extraction: d("2024-03-31"),
                        premier_mois: d("2024-03-01"),
                    },
                )
            })
            .collect();
        let cells = assemble(&catalogue, &register, accs, &extents, 0.9);
        let get = |niveau: Niveau, code: &str, md: &str| {
            cells
                .iter()
                .find(|c| {
                    c.indicateur == "part_france_travail"
                        && c.niveau == niveau
                        && c.code == code
                        && c.mois == d(m)
                        && c.modalite == md
                })
                .unwrap_or_else(|| panic!("{niveau:?} {code} {md}"))
        };
        // National: 100 oriented; pro = 64, social = 20, socio_pro = 16.
        let pro = get(Niveau::National, "national", "pro");
        assert_eq!((pro.numerateur, pro.denominateur), (Some(64), Some(100)));
        let social = get(Niveau::National, "national", "social");
        assert_eq!(
            (social.numerateur, social.denominateur),
            (Some(20), Some(100))
        );
        let sum: f64 = ["pro", "social", "socio_pro"]
            .iter()
            .map(|md| get(Niveau::National, "national", md).valeur.unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-12);
        // Wave experimentation-2020 (a and b): 86 oriented, social 20/86.
        let w = get(Niveau::Vague, "experimentation-2020", "social");
        assert_eq!((w.numerateur, w.denominateur), (Some(20), Some(86)));
        // Territory a has a zero row for social.
        let a = get(Niveau::Territoire, "a", "social");
        assert_eq!((a.numerateur, a.denominateur), (Some(0), Some(50)));
        // The national total: 46 / 100, every territory counted, final.
        let n = get(Niveau::National, "national", "");
        assert_eq!((n.numerateur, n.denominateur), (Some(46), Some(100)));
        assert_eq!(
            (n.territoires, n.territoires_attendus, n.provisoire),
            (Some(3), Some(3), false)
        );
    }

    /// Issue 12: a pooled month counts only the territories whose month is complete, says what
    /// it covers, is provisional below full coverage and is not written below the threshold.
    #[test]
    fn issue_12_pooled_cells_say_their_coverage() {
        let (register, catalogue, k, mut accs) = setup("beneficiaires_dd");
        // a and b extracted end of March, c only end of February; c is small.
        for (t, n) in [("a", 1000), ("b", 900), ("c", 100)] {
            for m in ["2024-02-01", "2024-03-01"] {
                accs[k].insert(key(t, m, "", ""), acc(n, n));
            }
        }
        let extent = |x: &str| Extent {
            extraction: d(x),
            premier_mois: d("2024-02-01"),
        };
        let extents: BTreeMap<String, Extent> = [
            ("a".to_string(), extent("2024-03-31")),
            ("b".to_string(), extent("2024-04-02")),
            ("c".to_string(), extent("2024-02-29")),
        ]
        .into();
        let national = |coverage: f64, m: &str| {
            assemble(&catalogue, &register, accs.clone(), &extents, coverage)
                .into_iter()
                .find(|c| {
                    c.indicateur == "beneficiaires_dd"
                        && c.niveau == Niveau::National
                        && c.mois == d(m)
                        && c.ventilation.is_empty()
                })
        };
        let feb = national(0.9, "2024-02-01").unwrap();
        assert_eq!(
            (feb.numerateur, feb.provisoire, feb.couverture),
            (Some(2000), false, Some(1.0))
        );
        // March: c's data stop in February; a and b hold 1,900 of 2,000 people (95 %).
        let mar = national(0.9, "2024-03-01").unwrap();
        assert_eq!(mar.numerateur, Some(1900));
        assert_eq!(
            (mar.territoires, mar.territoires_attendus),
            (Some(2), Some(3))
        );
        assert_eq!((mar.provisoire, mar.couverture), (true, Some(0.95)));
        // c's rows past its extraction are not counted, nor written.
        assert!(
            national(0.96, "2024-03-01").is_none(),
            "under the coverage threshold"
        );
    }
}
