//! Counts two indicators publish ([`Twins`]) and what they require of a table ([`align`]).

use super::*;

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

pub(super) fn shift_months(m: NaiveDate, by: i32) -> Option<NaiveDate> {
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
        index.insert(c.key(), i);
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
pub(super) fn align(pairs: &[Twins], hidden: &[bool]) -> Vec<usize> {
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
