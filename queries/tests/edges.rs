//! Issue 12: the edges where two readings of a definition differ, each with the reading chosen
//! (written in the catalogue header of the indicator) and its value worked out by hand. One
//! territory, dep-44, data as of 2025-12-31; threshold 1 so that every value is published.
//!
//! - e1 is oriented (2024-01-10) before entering (droit_ouvert 2024-02-01): a first orientation
//!   counts only on or after the entry, so e1 is an entrant of 2024-02 not oriented.
//! - e2 enters 2024-03-01, is *reoriented* 2024-03-05 then *oriented* 2024-03-20: the delay runs
//!   to the first orientation (19 days); the earlier reorientation is not a reorientation of it.
//! - e3 opens and closes the right the same day (2024-04-10), entering droits et devoirs that day:
//!   never in the stock at the end of a month.
//! - e4 enters droits et devoirs 2024-05-02 and gets two orientations on 2024-05-31
//!   (conseil_departemental/social and france_travail/pro): one orientation is in force, the last
//!   in the order (kind, body, category), france_travail/pro.
//! - e5 is oriented 2024-06-05 and signs a ppae 2024-06-10 and a cer 2024-06-10: the first
//!   contract is the earliest, ties by type: cer.
//! - e6 has a frein (mobilite) found 2024-07-05, before the diagnostic 2024-08-10: counted from
//!   the month of the diagnostic.
//! - e7 (in droits et devoirs since 2024-01-05) leaves for a transition job 2024-09-03 and a
//!   durable job 2024-09-20: one exit to work in the month, the more durable one.

mod common;

use common::{
    CER, DEPARTEMENT_SOCIAL, EMPLOI_DURABLE, EMPLOI_TRANSITION, Ev, FRANCE_TRAVAIL_PRO,
    MOBILITE_FORTE, PPAE, d, ev, ratio,
};
use copil_queries::Cell;

/// The one territory.
const T: &str = "dep-44";

const EVENTS: &[Ev] = &[
    ev(T, "e1", "2024-01-10", "orientation", FRANCE_TRAVAIL_PRO),
    ev(T, "e1", "2024-02-01", "droit_ouvert", &[]),
    ev(T, "e2", "2024-03-01", "droit_ouvert", &[]),
    ev(T, "e2", "2024-03-05", "reorientation", DEPARTEMENT_SOCIAL),
    ev(T, "e2", "2024-03-20", "orientation", FRANCE_TRAVAIL_PRO),
    ev(T, "e3", "2024-04-10", "droit_ouvert", &[]),
    ev(T, "e3", "2024-04-10", "entree_droits_devoirs", &[]),
    ev(T, "e3", "2024-04-10", "droit_clos", &[]),
    ev(T, "e4", "2024-05-02", "droit_ouvert", &[]),
    ev(T, "e4", "2024-05-02", "entree_droits_devoirs", &[]),
    ev(T, "e4", "2024-05-31", "orientation", DEPARTEMENT_SOCIAL),
    ev(T, "e4", "2024-05-31", "orientation", FRANCE_TRAVAIL_PRO),
    ev(T, "e5", "2024-06-01", "droit_ouvert", &[]),
    ev(T, "e5", "2024-06-05", "orientation", DEPARTEMENT_SOCIAL),
    ev(T, "e5", "2024-06-10", "contrat_signe", PPAE),
    ev(T, "e5", "2024-06-10", "contrat_signe", CER),
    ev(T, "e6", "2024-07-01", "droit_ouvert", &[]),
    ev(T, "e6", "2024-07-05", "frein_identifie", MOBILITE_FORTE),
    ev(T, "e6", "2024-08-10", "diagnostic", &[]),
    ev(T, "e7", "2024-01-05", "droit_ouvert", &[]),
    ev(T, "e7", "2024-01-05", "entree_droits_devoirs", &[]),
    ev(T, "e7", "2024-09-03", "sortie", EMPLOI_TRANSITION),
    ev(T, "e7", "2024-09-20", "sortie", EMPLOI_DURABLE),
];

const DROPS: &[(&str, &str, &str)] = &[(T, "2025-12-31", "integre")];

async fn cells() -> Vec<Cell> {
    common::cells(EVENTS, DROPS, 1).await
}

fn r(cells: &[Cell], ind: &str, mois: &str, v: &str, md: &str) -> Option<(i64, i64)> {
    ratio(cells, ind, T, mois, v, md)
}

#[tokio::test]
async fn issue_12_an_orientation_before_entry_does_not_orient_the_entrant() {
    let c = cells().await;
    // 2024-02 entrants: e1 only; not oriented within 30 days (its orientation precedes entry).
    assert_eq!(r(&c, "entrants", "2024-02-01", "", ""), Some((1, 1)));
    assert_eq!(r(&c, "orientes_30j", "2024-02-01", "", ""), Some((0, 1)));
    // No delay for 2024-02: nobody entering then was oriented after entering.
    let delay = common::find(&c, "delai_orientation", T, "2024-02-01", "", "");
    assert!(delay.is_none_or(|c| c.valeur.is_none()));
}

#[tokio::test]
async fn issue_12_a_reorientation_before_the_first_orientation() {
    let c = cells().await;
    // e2: 19 days to its first orientation.
    let delay = common::find(&c, "delai_orientation", T, "2024-03-01", "", "").unwrap();
    assert_eq!(delay.valeur, Some(19.0));
    assert_eq!(r(&c, "orientes_30j", "2024-03-01", "", ""), Some((1, 1)));
    // Oriented in 2024-03 (first orientation 2024-03-20), not reoriented afterwards.
    assert_eq!(
        r(&c, "taux_reorientation", "2024-03-01", "", ""),
        Some((0, 1))
    );
}

#[tokio::test]
async fn issue_12_a_right_closed_the_day_it_opened_never_enters_the_stock() {
    let c = cells().await;
    // End of 2024-04: e7 only (e3 closed the day it entered).
    assert_eq!(
        r(&c, "beneficiaires_dd", "2024-04-01", "", ""),
        Some((1, 1))
    );
    assert_eq!(r(&c, "entrants", "2024-04-01", "", ""), Some((1, 1)));
}

#[tokio::test]
async fn issue_12_two_orientations_on_the_same_last_day_leave_one_in_force() {
    let c = cells().await;
    let may = |v: &str, md: &str| r(&c, "part_france_travail", "2024-05-01", v, md);
    // End of 2024-05, in droits et devoirs and oriented: e4 only, toward France Travail (pro).
    assert_eq!(may("", ""), Some((1, 1)));
    assert_eq!(may("orientation", "pro"), Some((1, 1)));
    assert_eq!(
        may("orientation", "social"),
        Some((0, 1)),
        "the other modality is written as a zero"
    );
}

#[tokio::test]
async fn issue_12_two_contracts_within_28_days_count_once_under_the_first() {
    let c = cells().await;
    let june = |v: &str, md: &str| r(&c, "contrat_28j", "2024-06-01", v, md);
    assert_eq!(june("", ""), Some((1, 1)));
    assert_eq!(june("type_contrat", "cer"), Some((1, 1)));
    assert_eq!(june("type_contrat", "ppae"), Some((0, 1)));
}

#[tokio::test]
async fn issue_12_a_frein_found_before_the_diagnostic_counts_from_the_diagnostic() {
    let c = cells().await;
    // Diagnosed by the end of 2024-07: nobody, so no share (a zero denominator).
    let july = common::find(&c, "prevalence_freins", T, "2024-07-01", "", "");
    assert!(july.is_none_or(|c| c.denominateur == Some(0)));
    let august = |v: &str, md: &str| r(&c, "prevalence_freins", "2024-08-01", v, md);
    assert_eq!(august("", ""), Some((1, 1)));
    assert_eq!(august("type_frein", "mobilite"), Some((1, 1)));
}

#[tokio::test]
async fn issue_12_two_exits_to_work_in_one_month_count_once_as_the_more_durable() {
    let c = cells().await;
    let september = |v: &str, md: &str| r(&c, "sorties_emploi", "2024-09-01", v, md);
    // In droits et devoirs at the end of 2024-08: e4 and e7.
    assert_eq!(september("", ""), Some((1, 2)));
    assert_eq!(september("type_sortie", "emploi_durable"), Some((1, 2)));
    assert_eq!(september("type_sortie", "emploi_transition"), Some((0, 2)));
    let _ = d("2024-09-01");
}

#[tokio::test]
async fn issue_16_stocks_as_intervals_match_the_expansion() {
    let compared = common::assert_stocks_match_expansion(&common::context(EVENTS, DROPS)).await;
    assert!(compared > 0);
}
