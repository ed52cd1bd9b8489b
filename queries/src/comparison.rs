//! Comparisons read from the materialised cells: the spread of territory values (median and
//! quartiles, nationally or within a wave), a territory's rank, its peers (the territories
//! closest in size) and its trend over twelve months. Only published values take part: a
//! secret cell is never ranked nor used in a spread.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use copil_warehouse::{Register, Wave};

use crate::catalogue::Direction;
use crate::model::{Cell, Niveau};

/// Median and quartiles of a set of territory values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Territories with a published value.
    pub territoires: usize,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub mediane: f64,
    /// Third quartile.
    pub q3: f64,
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    let pos = (sorted.len() - 1) as f64 * p;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    if frac == 0.0 {
        sorted[lo]
    } else {
        sorted[lo] + frac * (sorted[lo + 1] - sorted[lo])
    }
}

/// The published territory totals of `cells` for a month (all territories, or one wave's).
fn territory_values<'a>(
    cells: &'a [Cell],
    mois: NaiveDate,
    register: &Register,
    wave: Option<Wave>,
) -> Vec<(&'a str, f64)> {
    cells
        .iter()
        .filter(|c| {
            c.niveau == Niveau::Territoire
                && c.mois == mois
                && c.ventilation.is_empty()
                && !c.secret
        })
        .filter(|c| wave.is_none_or(|w| register.get(&c.code).is_some_and(|t| t.vague == w)))
        .filter_map(|c| c.valeur.map(|v| (c.code.as_str(), v)))
        .collect()
}

/// Median and quartiles of the territories' published values for a month.
pub fn spread(
    cells: &[Cell],
    mois: NaiveDate,
    register: &Register,
    wave: Option<Wave>,
) -> Option<Spread> {
    let mut values: Vec<f64> = territory_values(cells, mois, register, wave)
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(Spread {
        territoires: values.len(),
        q1: quantile(&values, 0.25),
        mediane: quantile(&values, 0.5),
        q3: quantile(&values, 0.75),
    })
}

/// A territory's rank among the territories with a published value (1 = best), and how many
/// were ranked; `None` for a neutral indicator or an unpublished value. Ties share the best rank.
pub fn rank(
    cells: &[Cell],
    mois: NaiveDate,
    register: &Register,
    direction: Direction,
    territoire: &str,
) -> Option<(usize, usize)> {
    let values = territory_values(cells, mois, register, None);
    let own = values.iter().find(|(t, _)| *t == territoire)?.1;
    let better = |v: f64| match direction {
        Direction::Hausse => v > own,
        Direction::Baisse => v < own,
        Direction::Neutre => false,
    };
    if direction == Direction::Neutre {
        return None;
    }
    Some((
        1 + values.iter().filter(|(_, v)| better(*v)).count(),
        values.len(),
    ))
}

/// The `n` territories closest in size to `territoire` (size: people in droits et devoirs, as
/// given), nearest first; ties by id.
pub fn peers(sizes: &BTreeMap<String, f64>, territoire: &str, n: usize) -> Vec<String> {
    let Some(own) = sizes.get(territoire) else {
        return Vec::new();
    };
    let mut others: Vec<(&String, f64)> = sizes
        .iter()
        .filter(|(t, _)| *t != territoire)
        .map(|(t, s)| (t, (s - own).abs()))
        .collect();
    others.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
    others.into_iter().take(n).map(|(t, _)| t.clone()).collect()
}

/// The values of one series (level and code) over the twelve months up to `mois`, oldest
/// first (a month without a published value is `None`), and the change over the period when
/// both ends are published.
pub fn trend(
    cells: &[Cell],
    niveau: Niveau,
    code: &str,
    mois: NaiveDate,
) -> (Vec<(NaiveDate, Option<f64>)>, Option<f64>) {
    let series: Vec<(NaiveDate, Option<f64>)> = (0..12)
        .rev()
        .map(|k| {
            let m = mois
                .checked_sub_months(Months::new(k))
                .expect("valid month");
            let v = cells
                .iter()
                .find(|c| {
                    c.niveau == niveau && c.code == code && c.mois == m && c.ventilation.is_empty()
                })
                .and_then(|c| if c.secret { None } else { c.valeur });
            (m, v)
        })
        .collect();
    let change = match (
        series.first().and_then(|s| s.1),
        series.last().and_then(|s| s.1),
    ) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    (series, change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use copil_warehouse::Departments;

    fn cell(code: &str, mois: &str, valeur: Option<f64>) -> Cell {
        Cell {
            indicateur: "x".into(),
            niveau: Niveau::Territoire,
            code: code.into(),
            mois: NaiveDate::parse_from_str(mois, "%Y-%m-%d").unwrap(),
            ventilation: String::new(),
            modalite: String::new(),
            numerateur: None,
            denominateur: None,
            personnes: valeur.map(|_| 20),
            valeur,
            ic_bas: None,
            ic_haut: None,
            q1: None,
            q3: None,
            moyenne: None,
            secret: valeur.is_none(),
            ..Default::default()
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn spread_and_rank_use_published_values_only() {
        let reg = Register::builtin(&Departments::builtin());
        // dep-44 and dep-59 (experimentation-2020), dep-03 and dep-04 (ami1-2021), dep-01 secret.
        let cells = vec![
            cell("dep-44", "2024-01-01", Some(0.2)),
            cell("dep-59", "2024-01-01", Some(0.6)),
            cell("dep-03", "2024-01-01", Some(0.4)),
            cell("dep-04", "2024-01-01", Some(0.8)),
            cell("dep-01", "2024-01-01", None),
        ];
        // 0.2, 0.4, 0.6, 0.8: median 0.5, Q1 = 0.2 + 0.75 × 0.2 = 0.35, Q3 = 0.6 + 0.25 × 0.2 = 0.65.
        let s = spread(&cells, d("2024-01-01"), &reg, None).unwrap();
        assert_eq!(s.territoires, 4);
        assert!(
            (s.mediane - 0.5).abs() < 1e-12
                && (s.q1 - 0.35).abs() < 1e-12
                && (s.q3 - 0.65).abs() < 1e-12
        );
        let w = spread(&cells, d("2024-01-01"), &reg, Some(Wave::Ami1_2021)).unwrap();
        assert!((w.mediane - 0.6).abs() < 1e-12 && w.territoires == 2);
        assert_eq!(
            rank(&cells, d("2024-01-01"), &reg, Direction::Hausse, "dep-59"),
            Some((2, 4))
        );
        assert_eq!(
            rank(&cells, d("2024-01-01"), &reg, Direction::Baisse, "dep-59"),
            Some((3, 4))
        );
        assert_eq!(
            rank(&cells, d("2024-01-01"), &reg, Direction::Neutre, "dep-59"),
            None
        );
        assert_eq!(
            rank(&cells, d("2024-01-01"), &reg, Direction::Hausse, "dep-01"),
            None,
            "a secret value is not ranked"
        );
    }

    #[test]
    fn peers_are_the_closest_in_size() {
        let sizes: BTreeMap<String, f64> = [
            ("a", 100.0),
            ("b", 120.0),
            ("c", 90.0),
            ("d", 300.0),
            ("e", 80.0),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
        assert_eq!(peers(&sizes, "a", 2), ["c", "b"]);
        assert_eq!(peers(&sizes, "a", 10), ["c", "b", "e", "d"]);
        assert!(peers(&sizes, "z", 3).is_empty());
    }

    #[test]
    fn trend_over_twelve_months() {
        let mut cells: Vec<Cell> = (1..=12)
            .map(|m| cell("dep-44", &format!("2024-{m:02}-01"), Some(m as f64)))
            .collect();
        let (series, change) = trend(&cells, Niveau::Territoire, "dep-44", d("2024-12-01"));
        assert_eq!(series.len(), 12);
        assert_eq!(series[0], (d("2024-01-01"), Some(1.0)));
        assert_eq!(change, Some(11.0));
        cells[0] = cell("dep-44", "2024-01-01", None);
        assert_eq!(
            trend(&cells, Niveau::Territoire, "dep-44", d("2024-12-01")).1,
            None
        );
    }
}
