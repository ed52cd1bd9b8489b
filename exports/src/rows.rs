//! The rows of the indicator table: the materialised cells selected by the filters, with
//! their figures as the pages publish them (nothing for a secret cell).

use copil_queries::{Catalogue, Cell, Indicator, Niveau, Results, Sorte};
use copil_warehouse::{Register, Wave};

use crate::filters::IndicatorFilters;

/// The figures of a cell as published: nothing for a secret cell, never the numerator and
/// denominator of a delay (as the pages and the API).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Figures {
    pub(crate) valeur: Option<f64>,
    pub(crate) numerateur: Option<i64>,
    pub(crate) denominateur: Option<i64>,
    pub(crate) personnes: Option<i64>,
    pub(crate) ic_bas: Option<f64>,
    pub(crate) ic_haut: Option<f64>,
    pub(crate) q1: Option<f64>,
    pub(crate) q3: Option<f64>,
    pub(crate) moyenne: Option<f64>,
    pub(crate) secret: bool,
}

pub(crate) fn figures(ind: &Indicator, c: &Cell) -> Figures {
    if c.secret {
        return Figures {
            secret: true,
            ..Figures::default()
        };
    }
    let delay = ind.sorte == Sorte::Delai;
    Figures {
        valeur: c.valeur,
        numerateur: if delay { None } else { c.numerateur },
        denominateur: if delay { None } else { c.denominateur },
        personnes: c.personnes,
        ic_bas: c.ic_bas,
        ic_haut: c.ic_haut,
        q1: c.q1,
        q3: c.q3,
        moyenne: c.moyenne,
        secret: false,
    }
}

/// One row of the indicator table.
pub(crate) struct Row<'a> {
    pub(crate) ind: &'a Indicator,
    pub(crate) cell: &'a Cell,
    pub(crate) libelle: &'a str,
    pub(crate) vague: Option<&'static str>,
}

/// The rows of the indicator table, in catalogue order, then national, waves, territories,
/// then code, month, breakdown and modality.
pub(crate) fn rows<'a>(
    catalogue: &'a Catalogue,
    register: &'a Register,
    results: &'a Results,
    f: &IndicatorFilters,
) -> Vec<Row<'a>> {
    let mut levels: Vec<(Niveau, &'a str, &'a str, Option<&'static str>)> =
        vec![(Niveau::National, "national", "France", None)];
    let focus = f.view.territoire.as_deref().and_then(|t| register.get(t));
    let mut waves: Vec<Wave> = Wave::ALL
        .into_iter()
        .filter(|w| f.view.vague.is_none_or(|v| v == *w))
        .filter(|w| focus.is_none_or(|t| t.vague == *w))
        .collect();
    waves.sort_by_key(|w| w.code());
    levels.extend(
        waves
            .iter()
            .map(|w| (Niveau::Vague, w.code(), w.label(), Some(w.code()))),
    );
    let mut territories: Vec<_> = register
        .iter()
        .filter(|t| f.view.vague.is_none_or(|v| v == t.vague))
        .filter(|t| f.view.territoire.as_deref().is_none_or(|id| id == t.id))
        .collect();
    territories.sort_by(|a, b| a.id.cmp(&b.id));
    levels.extend(territories.iter().map(|t| {
        (
            Niveau::Territoire,
            t.id.as_str(),
            t.nom.as_str(),
            Some(t.vague.code()),
        )
    }));
    let mut out = Vec::new();
    for ind in catalogue.iter() {
        if f.indicateur.as_deref().is_some_and(|i| i != ind.id) {
            continue;
        }
        for (niveau, code, libelle, vague) in &levels {
            for cell in results.series(&ind.id, *niveau, code) {
                if f.view.mois.is_some_and(|m| m != cell.mois) {
                    continue;
                }
                let keep = match &f.view.ventilation {
                    Some(v) => cell.ventilation == *v,
                    None => cell.ventilation.is_empty(),
                };
                if keep {
                    out.push(Row {
                        ind,
                        cell,
                        libelle,
                        vague: *vague,
                    });
                }
            }
        }
    }
    out
}

/// A number as text, empty when absent.
pub(crate) fn num<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The text fields of a row (the CSV's and XLSX's first columns).
pub(crate) fn texts(r: &Row<'_>) -> [String; 9] {
    [
        r.ind.id.clone(),
        r.ind.titre.clone(),
        r.cell.niveau.code().to_string(),
        r.cell.code.clone(),
        r.libelle.to_string(),
        r.vague.unwrap_or_default().to_string(),
        r.cell.mois.format("%Y-%m").to_string(),
        r.cell.ventilation.clone(),
        r.cell.modalite.clone(),
    ]
}
