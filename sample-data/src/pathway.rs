//! One person's pathway: the events of their RSA episodes, drawn from their territory's profile.

use chrono::{Datelike, Days, NaiveDate};

use crate::calibration::{Profil, tendance_delai};
use crate::rng::Rng;

/// Index of each event attribute in [`Event::attrs`]: the contract's order.
#[cfg(test)]
pub(crate) const ATTRIBUTS: [&str; 10] = copil_warehouse::vocabulary::EVENT_ATTRIBUTES;
const ORIENTATION: usize = 0;
const ORGANISME: usize = 1;
const TYPE_RDV: usize = 2;
const STATUT_RDV: usize = 3;
const TYPE_FREIN: usize = 4;
const INTENSITE: usize = 5;
const TYPE_CONTRAT: usize = 6;
const TYPE_ACTION: usize = 7;
const TYPE_SORTIE: usize = 8;
const MOTIF: usize = 9;

/// One event of one person.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Event {
    pub(crate) date: NaiveDate,
    pub(crate) evenement: &'static str,
    pub(crate) attrs: [Option<&'static str>; 10],
}

/// What the pathway needs to know of the person.
pub(crate) struct Sujet {
    pub(crate) entree: NaiveDate,
    pub(crate) age: i32,
}

fn plus(date: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        date.checked_add_days(Days::new(days as u64))
            .unwrap_or(date)
    } else {
        date.checked_sub_days(Days::new((-days) as u64))
            .unwrap_or(date)
    }
}

struct Episode<'a> {
    events: &'a mut Vec<Event>,
    fin: NaiveDate,
    horizon: NaiveDate,
}

impl Episode<'_> {
    /// Adds an event if it happens before the episode's end and by the extraction date.
    fn add(&mut self, date: NaiveDate, evenement: &'static str, attrs: &[(usize, &'static str)]) {
        if date < self.fin && date <= self.horizon {
            self.force(date, evenement, attrs);
        }
    }

    fn force(&mut self, date: NaiveDate, evenement: &'static str, attrs: &[(usize, &'static str)]) {
        if date > self.horizon {
            return;
        }
        let mut a = [None; 10];
        for (i, v) in attrs {
            a[*i] = Some(*v);
        }
        self.events.push(Event {
            date,
            evenement,
            attrs: a,
        });
    }
}

/// Chooses where someone is oriented: (organisme, orientation).
fn orienter(p: &Profil, age: i32, r: &mut Rng) -> (&'static str, &'static str) {
    if r.chance(p.part_france_travail) {
        return (
            "france_travail",
            if r.chance(0.9) { "pro" } else { "socio_pro" },
        );
    }
    if r.chance(p.part_departement) {
        return (
            "conseil_departemental",
            if r.chance(0.5) { "social" } else { "socio_pro" },
        );
    }
    let young = if age < 26 { 3.0 } else { 0.3 };
    let others: [((&str, &str), f64); 7] = [
        (("ccas_cias", "social"), 0.25),
        (("mission_locale", "socio_pro"), 0.15 * young),
        (("cap_emploi", "pro"), 0.08),
        (("plie", "socio_pro"), 0.15),
        (("siae", "pro"), 0.10),
        (("delegataire", "socio_pro"), 0.20),
        (("autre", "social"), 0.05),
    ];
    *r.pick(&others)
}

fn statut_rdv(absence: f64, r: &mut Rng) -> &'static str {
    let x = r.f64();
    if x < absence {
        "absent"
    } else if x < absence + 0.05 {
        "excuse"
    } else if x < absence + 0.08 {
        "annule"
    } else {
        "honore"
    }
}

const FREINS: [(&str, f64); 8] = [
    ("mobilite", 0.30),
    ("financier", 0.25),
    ("sante", 0.20),
    ("logement", 0.20),
    ("numerique", 0.15),
    ("famille", 0.15),
    ("administratif", 0.10),
    ("langue", 0.05),
];
const ACTIONS: [(&str, f64); 8] = [
    ("formation", 0.25),
    ("iae", 0.12),
    ("immersion", 0.10),
    ("accompagnement_global", 0.18),
    ("aide_mobilite", 0.12),
    ("aide_logement", 0.06),
    ("soin", 0.07),
    ("autre", 0.10),
];
/// A third of exits to work are to stable jobs (Cour des comptes, 2022).
const SORTIES: [((&str, &str), f64); 7] = [
    (("emploi_durable", "ressources_superieures"), 0.16),
    (("emploi_transition", "ressources_superieures"), 0.32),
    (("formation_qualifiante", "autre"), 0.06),
    (("creation_entreprise", "ressources_superieures"), 0.05),
    (("fin_droit", "fin_de_droit"), 0.25),
    (("demenagement", "demenagement"), 0.08),
    (("autre", "autre"), 0.08),
];

/// Monthly probability of leaving the RSA: about a quarter of beneficiaries leave within a year.
const RISQUE_SORTIE_MENSUEL: f64 = 0.022;
/// Mean delay to orientation (days) of a territory without the SPIE, for 2019 entrants.
const DELAI_ORIENTATION_BASE: f64 = 98.0;

/// Draws the whole pathway of someone entering on `sujet.entree`, up to `horizon` (the
/// extraction date), into `events` (sorted by date, without exact repeats).
pub(crate) fn simuler(
    p: &Profil,
    sujet: &Sujet,
    horizon: NaiveDate,
    r: &mut Rng,
    events: &mut Vec<Event>,
) {
    events.clear();
    let mut debut = sujet.entree;
    let mut deja_oriente = false;
    for episode in 0..3 {
        if debut > horizon {
            break;
        }
        let effet = p.effet_spie(debut);
        let age = sujet.age + (debut.year() - sujet.entree.year());
        // When the episode ends.
        let risque = (RISQUE_SORTIE_MENSUEL * p.facteur_sortie * (1.0 + 0.12 * effet)).min(0.5);
        let mois = ((1.0 - r.f64()).ln() / (1.0 - risque).ln()).floor() as i64;
        let fin = plus(debut, mois * 30 + r.range(1, 29));
        let mut e = Episode {
            events,
            fin,
            horizon,
        };

        e.add(debut, "droit_ouvert", &[]);
        if r.chance(0.97) {
            e.add(plus(debut, r.range(0, 20)), "entree_droits_devoirs", &[]);
        }
        if r.chance(0.05) {
            let motif = if r.chance(0.5) {
                "non_respect_devoirs"
            } else {
                "ressources"
            };
            e.add(
                plus(debut, r.range(60, 900)),
                "droit_suspendu",
                &[(MOTIF, motif)],
            );
        }

        if !r.chance(p.jamais_oriente) {
            let mut moyenne = DELAI_ORIENTATION_BASE
                * tendance_delai(debut.year())
                * p.facteur_delai
                * (1.0 - p.gain_spie * effet);
            if episode > 0 {
                moyenne *= 0.6;
            }
            let delai = r.lognormal_mean(moyenne, 0.7).clamp(1.0, 1100.0) as i64;
            let date_orientation = plus(debut, delai);
            let (organisme, orientation) = orienter(p, age, r);
            let kind = if deja_oriente {
                "reorientation"
            } else {
                "orientation"
            };
            let absence = p.taux_absence * (1.0 - 0.2 * effet);

            // The orientation appointment, sometimes missed once.
            if r.chance(0.7) {
                let jour = plus(date_orientation, -r.range(1, 15)).max(debut);
                let statut = if r.chance(absence) {
                    "absent"
                } else {
                    "honore"
                };
                e.add(
                    jour,
                    "rdv",
                    &[(TYPE_RDV, "orientation"), (STATUT_RDV, statut)],
                );
                if statut == "absent" {
                    e.add(
                        date_orientation,
                        "rdv",
                        &[(TYPE_RDV, "orientation"), (STATUT_RDV, "honore")],
                    );
                }
            }
            e.add(
                date_orientation,
                kind,
                &[(ORIENTATION, orientation), (ORGANISME, organisme)],
            );
            if date_orientation < fin && date_orientation <= horizon {
                deja_oriente = true;
            }
            if r.chance(0.85) {
                e.add(
                    plus(date_orientation, r.range(0, 30)),
                    "referent_designe",
                    &[(ORGANISME, organisme)],
                );
            }

            // Follow-up appointments.
            let mut jour = plus(
                date_orientation,
                r.lognormal_mean(22.0 * (1.0 - 0.3 * effet), 0.7) as i64,
            );
            for _ in 0..r.range(2, 10) {
                let type_rdv = if r.chance(0.9) {
                    "accompagnement"
                } else {
                    "autre"
                };
                let statut = statut_rdv(absence, r);
                e.add(jour, "rdv", &[(TYPE_RDV, type_rdv), (STATUT_RDV, statut)]);
                jour = plus(jour, r.range(30, 90));
            }

            // Diagnostic and obstacles.
            if r.chance((p.taux_diagnostic + 0.15 * effet).min(0.95)) {
                let jour = plus(
                    date_orientation,
                    r.lognormal_mean(35.0 * (1.0 - 0.3 * effet), 0.8) as i64,
                );
                e.add(
                    jour,
                    "rdv",
                    &[(TYPE_RDV, "diagnostic"), (STATUT_RDV, "honore")],
                );
                e.add(jour, "diagnostic", &[]);
                let n = *r.pick(&[(0, 0.2), (1, 0.35), (2, 0.3), (3, 0.15)]);
                let mut vus: Vec<&str> = Vec::new();
                for _ in 0..n {
                    let frein = *r.pick(&FREINS);
                    if vus.contains(&frein) {
                        continue;
                    }
                    vus.push(frein);
                    let intensite = *r.pick(&[("faible", 0.3), ("moyen", 0.45), ("fort", 0.25)]);
                    let attrs = [(TYPE_FREIN, frein), (INTENSITE, intensite)];
                    e.add(jour, "frein_identifie", &attrs);
                    let p_leve = match intensite {
                        "faible" => 0.5,
                        "moyen" => 0.38,
                        _ => 0.22,
                    };
                    if r.chance(p_leve * (1.0 + 0.2 * effet)) {
                        e.add(plus(jour, r.range(20, 360)), "frein_leve", &attrs);
                    }
                }
            }

            // The contract.
            let (type_contrat, delai_contrat) = if organisme == "france_travail" {
                (
                    r.chance(0.85).then_some("ppae"),
                    r.lognormal_mean(18.0, 0.7),
                )
            } else if organisme == "mission_locale" && age < 26 {
                let t = *r.pick(&[(Some("cej"), 0.6), (Some("pacea"), 0.3), (None, 0.1)]);
                (t, r.lognormal_mean(25.0, 0.7))
            } else {
                let p_cer = (p.taux_cer + 0.08 * effet).min(0.95);
                (
                    r.chance(p_cer).then_some("cer"),
                    r.lognormal_mean(57.0 * (1.0 - 0.25 * effet), 0.8),
                )
            };
            if let Some(mut t) = type_contrat {
                let jour = plus(date_orientation, delai_contrat as i64);
                // The 2023 "plein emploi" law brings a single contrat d'engagement from 2025.
                if matches!(t, "cer" | "ppae") && jour.year() >= 2025 && r.chance(0.6) {
                    t = "contrat_engagement";
                }
                e.add(jour, "contrat_signe", &[(TYPE_CONTRAT, t)]);
                if r.chance(0.45) {
                    let action = *r.pick(&ACTIONS);
                    e.add(
                        plus(jour, r.range(10, 150)),
                        "action",
                        &[(TYPE_ACTION, action)],
                    );
                }
                // Contracts run for months and are renewed while the pathway goes on.
                let mut renouvellement = jour;
                for _ in 0..6 {
                    if !r.chance(0.8) {
                        break;
                    }
                    renouvellement = plus(renouvellement, r.range(150, 400));
                    let mut t2 = t;
                    if matches!(t2, "cer" | "ppae")
                        && renouvellement.year() >= 2025
                        && r.chance(0.6)
                    {
                        t2 = "contrat_engagement";
                    }
                    e.add(renouvellement, "contrat_signe", &[(TYPE_CONTRAT, t2)]);
                }
            }

            // A reorientation.
            if r.chance(0.08) {
                let (organisme2, orientation2) = orienter(p, age, r);
                if organisme2 != organisme {
                    e.add(
                        plus(date_orientation, r.range(30, 540)),
                        "reorientation",
                        &[(ORIENTATION, orientation2), (ORGANISME, organisme2)],
                    );
                }
            }
        }

        // The exit, then maybe a return.
        if fin <= horizon {
            let (sortie, motif) = *r.pick(&SORTIES);
            e.force(fin, "sortie", &[(TYPE_SORTIE, sortie)]);
            let clos = plus(fin, r.range(0, 20));
            if r.chance(0.7) {
                e.force(clos, "droit_clos", &[(MOTIF, motif)]);
            } else {
                e.force(clos, "droit_clos", &[]);
            }
            if r.chance(0.35) {
                debut = plus(clos, r.range(90, 1000));
                continue;
            }
        }
        break;
    }
    events.sort();
    events.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pathways_are_ordered_bounded_and_start_with_the_right() {
        let p = Profil::of_builtin(3, "dep-93");
        let horizon = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap();
        let mut r = Rng::new(9);
        let mut events = Vec::new();
        for i in 0..2000 {
            let entree = plus(NaiveDate::from_ymd_opt(2019, 1, 1).unwrap(), i % 2000);
            simuler(&p, &Sujet { entree, age: 35 }, horizon, &mut r, &mut events);
            if entree > horizon {
                assert!(events.is_empty());
                continue;
            }
            assert_eq!(events[0].evenement, "droit_ouvert");
            assert_eq!(events[0].date, entree);
            assert!(events.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
            assert!(events.iter().all(|e| e.date <= horizon && e.date >= entree));
            for e in &events {
                let expected = copil_warehouse::vocabulary::attributes_of(e.evenement);
                for (i, name) in ATTRIBUTS.iter().enumerate() {
                    if let Some(v) = e.attrs[i] {
                        assert!(expected.contains(name), "{} carries {name}", e.evenement);
                        assert!(copil_warehouse::vocabulary::is_code(name, v), "{name}={v}");
                    }
                }
            }
        }
    }
}
