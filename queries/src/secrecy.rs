//! Statistical secrecy (brief, section 5): no published cell covers fewer people than the
//! threshold; a rate whose denominator is under it, or a median or mean over fewer people, is
//! not published; and where a breakdown's total is published, a hidden cell cannot be recomputed
//! from the others (the next smallest cell is hidden too).

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, Sorte};
use crate::compute::Cell;

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

/// Applies primary then secondary suppression to `cells`.
pub fn apply(cells: &mut [Cell], catalogue: &Catalogue, threshold: i64) {
    // Primary.
    for cell in cells.iter_mut() {
        let sorte = catalogue.get(&cell.indicateur).map(|i| i.sorte);
        let people = cell.personnes.unwrap_or(0);
        let small_denominator =
            sorte == Some(Sorte::Taux) && cell.denominateur.unwrap_or(0) < threshold;
        if people < threshold || small_denominator || cell.valeur.is_none() {
            hide(cell);
        }
    }
    // Secondary, in each breakdown whose total is published.
    let mut groups: BTreeMap<(String, String, String, chrono::NaiveDate, String), Vec<usize>> =
        BTreeMap::new();
    let mut totals: BTreeMap<(String, String, String, chrono::NaiveDate), bool> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        let base = (
            c.indicateur.clone(),
            c.niveau.code().to_string(),
            c.code.clone(),
            c.mois,
        );
        if c.ventilation.is_empty() {
            totals.insert(base, !c.secret);
        } else if c.ventilation != crate::compute::RELATIF {
            groups
                .entry((base.0, base.1, base.2, base.3, c.ventilation.clone()))
                .or_default()
                .push(i);
        }
    }
    for ((ind, niveau, code, mois, _), members) in groups {
        if !totals
            .get(&(ind, niveau, code, mois))
            .copied()
            .unwrap_or(false)
        {
            continue;
        }
        loop {
            let hidden = members.iter().filter(|&&i| cells[i].secret).count();
            if hidden != 1 {
                break;
            }
            let next = members
                .iter()
                .copied()
                .filter(|&i| !cells[i].secret)
                .min_by_key(|&i| (cells[i].personnes.unwrap_or(0), cells[i].modalite.clone()));
            match next {
                Some(i) => hide(&mut cells[i]),
                None => break,
            }
        }
    }
}
