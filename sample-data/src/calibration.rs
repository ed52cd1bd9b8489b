//! Calibration: territory sizes and profiles from the brief's figures (section 6).

use chrono::{Datelike, NaiveDate};
use copil_warehouse::{Department, Departments, Register, Territory, TerritoryKind};

use crate::rng::{Rng, stable_hash};

/// RSA foyers nationally at the end of 2024 (DREES): the size of the register at `--echelle 1`.
pub const FOYERS_NATIONAUX: f64 = 1_840_000.0;
/// Share of the 15–69 population receiving the RSA, end 2022 (DREES).
pub const TAUX_RSA_NATIONAL: f64 = 0.041;
/// Approximate share of the 15–69 year-olds in the population.
const PART_15_69: f64 = 0.65;

/// The RSA rate among the 15–69 of a département: the brief's named extremes, three times the
/// national rate overseas, and a fixed ±25 % spread (from the code, not the seed) elsewhere.
pub fn taux_rsa(d: &Department) -> f64 {
    match d.code.as_str() {
        "66" => 0.079,
        "93" => 0.073,
        "11" | "09" => 0.066,
        "30" => 0.062,
        "85" => 0.014,
        "74" => 0.015,
        "01" => 0.017,
        _ if d.is_overseas() => 3.0 * TAUX_RSA_NATIONAL,
        code => {
            let h = stable_hash(&[b"taux-rsa", code.as_bytes()]);
            let spread = (h % 1000) as f64 / 1000.0; // [0, 1)
            TAUX_RSA_NATIONAL * (0.75 + 0.5 * spread)
        }
    }
}

/// The estimated RSA foyers of a département.
pub fn foyers_departement(d: &Department) -> f64 {
    d.population as f64 * PART_15_69 * taux_rsa(d)
}

/// Part of its départements' population a territory covers, by kind (a métropole or an
/// agglomeration is only part of its département; several territories may share one).
fn part_couverte(kind: TerritoryKind) -> f64 {
    match kind {
        TerritoryKind::Metropole => 0.75,
        TerritoryKind::Agglomeration => 0.3,
        _ => 1.0,
    }
}

/// The unscaled weight of a territory: the RSA foyers of the part of France it covers.
pub fn poids_territoire(t: &Territory, departments: &Departments) -> f64 {
    let foyers: f64 = t
        .departements
        .iter()
        .filter_map(|c| departments.get(c))
        .map(foyers_departement)
        .sum();
    foyers * part_couverte(t.kind)
}

/// How many people a territory's drop holds at a scale: the register as a whole holds
/// [`FOYERS_NATIONAUX`] × `echelle` people, shared by weight.
pub fn personnes_par_territoire(
    register: &Register,
    departments: &Departments,
    echelle: f64,
) -> Vec<(String, u64)> {
    let total: f64 = register
        .iter()
        .map(|t| poids_territoire(t, departments))
        .sum();
    register
        .iter()
        .map(|t| {
            let n = (FOYERS_NATIONAUX * echelle * poids_territoire(t, departments) / total).round();
            (t.id.clone(), (n as u64).max(1))
        })
        .collect()
}

/// A territory's own way of working, drawn once per (seed, territory), and how it improves
/// after its SPIE start.
#[derive(Debug, Clone)]
pub struct Profil {
    /// Multiplies the national delay to orientation.
    pub facteur_delai: f64,
    /// Share by which the delay falls once the SPIE is in place.
    pub gain_spie: f64,
    /// Share of orientations to France Travail.
    pub part_france_travail: f64,
    /// Share of the others oriented to the département's own services.
    pub part_departement: f64,
    /// Probability never to be oriented.
    pub jamais_oriente: f64,
    /// CER signed by people oriented outside France Travail (before the SPIE).
    pub taux_cer: f64,
    /// Share of appointments missed (before the SPIE).
    pub taux_absence: f64,
    /// Share of oriented people with a diagnostic (before the SPIE).
    pub taux_diagnostic: f64,
    /// Multiplies the monthly exit hazard.
    pub facteur_sortie: f64,
    /// Days between the end of the period and this territory's extraction.
    pub retard_extraction: i64,
    /// First month of the SPIE.
    pub debut_spie: NaiveDate,
}

impl Profil {
    /// The profile of territory `id` of the built-in register for a seed (tests).
    #[cfg(test)]
    pub(crate) fn of_builtin(seed: u64, id: &str) -> Self {
        let departments = Departments::builtin();
        let register = Register::builtin(&departments);
        Self::tirer(seed, register.get(id).unwrap())
    }

    /// The profile of a territory for a seed.
    pub fn tirer(seed: u64, t: &Territory) -> Self {
        let mut r = Rng::derive(seed, &[&t.id, "profil"]);
        let part_france_travail = r.normal_clamped(0.40, 0.08, 0.22, 0.58);
        Self {
            facteur_delai: (0.25 * r.normal()).exp().clamp(0.55, 1.8),
            gain_spie: r.uniform(0.05, 0.28),
            part_france_travail,
            part_departement: r.normal_clamped(0.53, 0.10, 0.25, 0.8),
            jamais_oriente: r.normal_clamped(0.10, 0.025, 0.03, 0.18),
            taux_cer: r.normal_clamped(0.70, 0.10, 0.35, 0.92),
            taux_absence: r.normal_clamped(0.17, 0.04, 0.06, 0.32),
            taux_diagnostic: r.normal_clamped(0.50, 0.10, 0.2, 0.8),
            facteur_sortie: (0.15 * r.normal()).exp(),
            retard_extraction: match r.f64() {
                x if x < 0.70 => r.range(0, 7),
                x if x < 0.90 => r.range(8, 35),
                _ => r.range(60, 120),
            },
            debut_spie: t.debut_spie,
        }
    }

    /// How far the SPIE is in place for someone entering on `date`: 0 before its start, rising
    /// to 1 over its first six months.
    pub fn effet_spie(&self, date: NaiveDate) -> f64 {
        let months = (date.year() - self.debut_spie.year()) * 12 + date.month() as i32
            - self.debut_spie.month() as i32;
        (f64::from(months) / 6.0).clamp(0.0, 1.0)
    }
}

/// The national trend of the delay to orientation, by year of entry (DREES: mean 95 days for
/// 2018 entrants, 79 for 2023 entrants; the 2020 lockdowns slowed everything).
pub fn tendance_delai(year: i32) -> f64 {
    match year {
        ..=2019 => 1.0,
        2020 => 1.08,
        2021 => 1.0,
        2022 => 0.97,
        2023 => 0.95,
        _ => 0.93,
    }
}

/// Relative volume of entries by year (DREES: +7.4 % of foyers in 2020, then a decline).
pub fn volume_entrees(year: i32, month: u32) -> f64 {
    let base = match year {
        ..=2019 => 1.0,
        2020 if (4..=12).contains(&month) => 1.25,
        2020 => 1.0,
        2021 => 0.92,
        2022 => 0.94,
        2023 => 0.96,
        _ => 0.98,
    };
    // A mild seasonality: more entries after the summer and in January.
    let season = match month {
        1 | 9 | 10 => 1.08,
        7 | 8 => 0.9,
        _ => 1.0,
    };
    base * season
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_register_holds_the_national_total_at_scale_1() {
        let d = Departments::builtin();
        let r = Register::builtin(&d);
        let sizes = personnes_par_territoire(&r, &d, 1.0);
        let total: u64 = sizes.iter().map(|(_, n)| n).sum();
        assert!((total as f64 - FOYERS_NATIONAUX).abs() < 100.0, "{total}");
        let nord = sizes.iter().find(|(id, _)| id == "dep-59").unwrap().1;
        let creuse = sizes.iter().find(|(id, _)| id == "dep-23").unwrap().1;
        assert!(nord > 20 * creuse, "Nord {nord} vs Creuse {creuse}");
        let all_departements: f64 = d.iter().map(foyers_departement).sum();
        // The same rates put France as a whole near the brief's 1.84 M foyers.
        assert!(
            (1.6e6..2.3e6).contains(&all_departements),
            "{all_departements}"
        );
    }

    #[test]
    fn spie_effect_ramps_over_six_months() {
        let p = Profil::of_builtin(1, "dep-44");
        let at = |y, m| p.effet_spie(NaiveDate::from_ymd_opt(y, m, 15).unwrap());
        assert_eq!(at(2019, 6), 0.0);
        assert_eq!(at(2020, 3), 0.0);
        assert!((at(2020, 6) - 0.5).abs() < 1e-9);
        assert_eq!(at(2021, 1), 1.0);
    }
}
