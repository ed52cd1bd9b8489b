//! The stock, contract, diagnostic, obstacle, exit and reorientation indicators on hand-made
//! pathways (issue #4). One territory, dep-44, data as of 2025-12-31; each expected value is
//! worked out in a comment.
//!
//! - p1: right 2024-01-10, droits et devoirs 2024-01-15, oriented 2024-02-05 to france_travail
//!   (pro); accompaniment honoured 2024-02-20 (15 days); PPAE 2024-02-25 (20 days); diagnostic
//!   2024-03-01 (25 days); exit to lasting work 2024-06-10; right closed 2024-06-15.
//! - p2: right 2024-01-20, d&d 2024-01-20, oriented 2024-02-10 to conseil_departemental
//!   (social); accompaniment missed 2024-02-15, honoured 2024-03-20 (39 days); CER 2024-03-01
//!   (20 days); diagnostic 2024-06-01 (112 days) finding mobility (strong), lifted 2024-09-01
//!   (92 days); reoriented 2024-09-15 to france_travail (pro), 218 days after.
//! - p3: right 2024-01-25, d&d 2024-02-05, oriented 2024-02-28 to ccas_cias (social); CER
//!   2024-04-15 (47 days); diagnostic 2024-03-10 (11 days) finding housing (medium) and health
//!   (low); housing lifted 2024-10-01 (205 days).
//! - p4: right 2024-02-01, d&d 2024-02-01, never oriented; right closed 2024-04-10.

mod common;

use common::{
    ACCOMPAGNEMENT_ABSENT, ACCOMPAGNEMENT_HONORE, Attrs, CER, DEPARTEMENT_SOCIAL, EMPLOI_DURABLE,
    Ev, FRANCE_TRAVAIL_PRO, MOBILITE_FORTE, PPAE, cells, ev, find, ratio,
};

const T: &str = "dep-44";

const CCAS_SOCIAL: Attrs = &[("organisme", "ccas_cias"), ("orientation", "social")];
const LOGEMENT_MOYEN: Attrs = &[("type_frein", "logement"), ("intensite", "moyen")];
const SANTE_FAIBLE: Attrs = &[("type_frein", "sante"), ("intensite", "faible")];

const EVENTS: &[Ev] = &[
    ev(T, "p1", "2024-01-10", "droit_ouvert", &[]),
    ev(T, "p1", "2024-01-15", "entree_droits_devoirs", &[]),
    ev(T, "p1", "2024-02-05", "orientation", FRANCE_TRAVAIL_PRO),
    ev(T, "p1", "2024-02-20", "rdv", ACCOMPAGNEMENT_HONORE),
    ev(T, "p1", "2024-02-25", "contrat_signe", PPAE),
    ev(T, "p1", "2024-03-01", "diagnostic", &[]),
    ev(T, "p1", "2024-06-10", "sortie", EMPLOI_DURABLE),
    ev(T, "p1", "2024-06-15", "droit_clos", &[]),
    ev(T, "p2", "2024-01-20", "droit_ouvert", &[]),
    ev(T, "p2", "2024-01-20", "entree_droits_devoirs", &[]),
    ev(T, "p2", "2024-02-10", "orientation", DEPARTEMENT_SOCIAL),
    ev(T, "p2", "2024-02-15", "rdv", ACCOMPAGNEMENT_ABSENT),
    ev(T, "p2", "2024-03-01", "contrat_signe", CER),
    ev(T, "p2", "2024-03-20", "rdv", ACCOMPAGNEMENT_HONORE),
    ev(T, "p2", "2024-06-01", "diagnostic", &[]),
    ev(T, "p2", "2024-06-01", "frein_identifie", MOBILITE_FORTE),
    ev(T, "p2", "2024-09-01", "frein_leve", MOBILITE_FORTE),
    ev(T, "p2", "2024-09-15", "reorientation", FRANCE_TRAVAIL_PRO),
    ev(T, "p3", "2024-01-25", "droit_ouvert", &[]),
    ev(T, "p3", "2024-02-05", "entree_droits_devoirs", &[]),
    ev(T, "p3", "2024-02-28", "orientation", CCAS_SOCIAL),
    ev(T, "p3", "2024-03-10", "diagnostic", &[]),
    ev(T, "p3", "2024-03-10", "frein_identifie", LOGEMENT_MOYEN),
    ev(T, "p3", "2024-03-10", "frein_identifie", SANTE_FAIBLE),
    ev(T, "p3", "2024-04-15", "contrat_signe", CER),
    ev(T, "p3", "2024-10-01", "frein_leve", LOGEMENT_MOYEN),
    ev(T, "p4", "2024-02-01", "droit_ouvert", &[]),
    ev(T, "p4", "2024-02-01", "entree_droits_devoirs", &[]),
    ev(T, "p4", "2024-04-10", "droit_clos", &[]),
];

const EXTRACTION: &[(&str, &str, &str)] = &[(T, "2025-12-31", "integre")];

#[tokio::test]
async fn people_in_droits_et_devoirs_at_the_end_of_each_month() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let n = |m: &str| find(&c, "beneficiaires_dd", T, m, "", "").and_then(|c| c.valeur);
    // January: p1, p2. February and March: p1–p4. April: p4 closed on 04-10 → 3. June: p1
    // closed on 06-15 → 2. December 2025 is mature (12-31 ≤ 12-31): p2, p3.
    assert_eq!(n("2024-01-01"), Some(2.0));
    assert_eq!(n("2024-02-01"), Some(4.0));
    assert_eq!(n("2024-03-01"), Some(4.0));
    assert_eq!(n("2024-04-01"), Some(3.0));
    assert_eq!(n("2024-06-01"), Some(2.0));
    assert_eq!(n("2025-12-01"), Some(2.0));
    assert!(find(&c, "beneficiaires_dd", T, "2026-01-01", "", "").is_none());
}

#[tokio::test]
async fn share_oriented_in_the_stock_by_seniority() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let r = |m: &str, v: &str, k: &str| ratio(&c, "taux_orientation_stock", T, m, v, k);
    // End of January: p1 and p2, neither oriented yet → 0/2.
    assert_eq!(r("2024-01-01", "", ""), Some((0, 2)));
    // End of February: p1, p2, p3 oriented (p3 on 02-28), p4 not → 3/4, all under six months.
    assert_eq!(r("2024-02-01", "", ""), Some((3, 4)));
    assert_eq!(r("2024-02-01", "anciennete", "moins_6_mois"), Some((3, 4)));
    // End of December 2024: p2 and p3, both oriented, with 6 to 12 months of seniority.
    assert_eq!(r("2024-12-01", "anciennete", "6_12_mois"), Some((2, 2)));
    // Nobody under six months: the modality is written as a zero (issue 12).
    assert_eq!(r("2024-12-01", "anciennete", "moins_6_mois"), Some((0, 0)));
}

#[tokio::test]
async fn orientations_in_force_toward_france_travail() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let r = |m: &str, v: &str, k: &str| ratio(&c, "part_france_travail", T, m, v, k);
    // End of February: p1 france_travail, p2 département, p3 CCAS → 1/3; pro 1/3, social 2/3.
    assert_eq!(r("2024-02-01", "", ""), Some((1, 3)));
    assert_eq!(r("2024-02-01", "orientation", "pro"), Some((1, 3)));
    assert_eq!(r("2024-02-01", "orientation", "social"), Some((2, 3)));
    // End of August: p2 (département) and p3 (CCAS) → 0/2; end of September p2 has been
    // reoriented to france_travail → 1/2.
    assert_eq!(r("2024-08-01", "", ""), Some((0, 2)));
    assert_eq!(r("2024-09-01", "", ""), Some((1, 2)));
}

#[tokio::test]
async fn what_follows_an_orientation_in_the_month() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let feb = |ind: &str, v: &str, k: &str| ratio(&c, ind, T, "2024-02-01", v, k);
    // Oriented in February: p1, p2, p3.
    // Accompaniment honoured within 30 days: p1 only (p2's honoured one comes after 39 days).
    assert_eq!(feb("premier_rdv_30j", "", ""), Some((1, 3)));
    // Contract within 28 days: p1 (PPAE, 20 days), p2 (CER, 20 days); p3's CER took 47.
    assert_eq!(feb("contrat_28j", "", ""), Some((2, 3)));
    assert_eq!(feb("contrat_28j", "type_contrat", "ppae"), Some((1, 3)));
    assert_eq!(feb("contrat_28j", "type_contrat", "cer"), Some((1, 3)));
    // Diagnostic within 90 days: p1 (25), p3 (11); p2's came after 112.
    assert_eq!(feb("taux_diagnostic", "", ""), Some((2, 3)));
    // Reoriented within 365 days: p2 (218 days).
    assert_eq!(feb("taux_reorientation", "", ""), Some((1, 3)));
    // Nobody was first oriented in January: a zero denominator, no share (issue 12: the
    // month is complete, so it is written).
    assert_eq!(
        ratio(&c, "contrat_28j", T, "2024-01-01", "", ""),
        Some((0, 0))
    );
    let jan = find(&c, "contrat_28j", T, "2024-01-01", "", "").unwrap();
    assert!(jan.valeur.is_none() && !jan.secret);
}

#[tokio::test]
async fn cer_coverage_outside_france_travail() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let r = |m: &str| ratio(&c, "couverture_cer", T, m, "", "");
    // End of March: p2 (département, CER 03-01) yes, p3 (CCAS, CER not yet) no → 1/2.
    assert_eq!(r("2024-03-01"), Some((1, 2)));
    // End of April: p3's CER of 04-15 counts → 2/2.
    assert_eq!(r("2024-04-01"), Some((2, 2)));
    // End of September: p2 is now oriented to france_travail → only p3 → 1/1.
    assert_eq!(r("2024-09-01"), Some((1, 1)));
    // End of May 2025: p3's CER (2024-04-15) is more than 365 days old → 0/1.
    assert_eq!(r("2025-05-01"), Some((0, 1)));
}

#[tokio::test]
async fn obstacles_found_and_lifted() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let p = |m: &str, v: &str, k: &str| ratio(&c, "prevalence_freins", T, m, v, k);
    // Diagnosed by the end of March: p1, p3; with an obstacle: p3 (housing, health) → 1/2.
    assert_eq!(p("2024-03-01", "", ""), Some((1, 2)));
    assert_eq!(p("2024-03-01", "type_frein", "logement"), Some((1, 2)));
    assert_eq!(p("2024-03-01", "intensite", "faible"), Some((1, 2)));
    // By the end of June p2 is diagnosed too, with mobility (strong) → 2/3; mobility 1/3.
    assert_eq!(p("2024-06-01", "", ""), Some((2, 3)));
    assert_eq!(p("2024-06-01", "type_frein", "mobilite"), Some((1, 3)));
    assert_eq!(p("2024-06-01", "intensite", "fort"), Some((1, 3)));
    let l = |m: &str, v: &str, k: &str| ratio(&c, "taux_levee_freins", T, m, v, k);
    // Found in March: housing (lifted after 205 days: too late) and health (never) → 0/2.
    assert_eq!(l("2024-03-01", "", ""), Some((0, 2)));
    assert_eq!(l("2024-03-01", "type_frein", "logement"), Some((0, 1)));
    // Found in June: mobility, lifted after 92 days → 1/1.
    assert_eq!(l("2024-06-01", "", ""), Some((1, 1)));
}

#[tokio::test]
async fn exits_to_work_over_the_stock_at_the_start_of_the_month() {
    let c = cells(EVENTS, EXTRACTION, 1).await;
    let r = |m: &str, v: &str, k: &str| ratio(&c, "sorties_emploi", T, m, v, k);
    // June: p1 leaves for lasting work; at the end of May p1, p2, p3 were in d&d → 1/3.
    assert_eq!(r("2024-06-01", "", ""), Some((1, 3)));
    assert_eq!(
        r("2024-06-01", "type_sortie", "emploi_durable"),
        Some((1, 3))
    );
    // July: nobody leaves; p2, p3 at the end of June → 0/2.
    assert_eq!(r("2024-07-01", "", ""), Some((0, 2)));
    // A month whose value is a true zero is published as 0, not hidden.
    assert_eq!(
        find(&c, "sorties_emploi", T, "2024-07-01", "", "")
            .unwrap()
            .valeur,
        Some(0.0)
    );
}

#[tokio::test]
async fn issue_16_stocks_as_intervals_match_the_expansion() {
    let compared =
        common::assert_stocks_match_expansion(&common::context(EVENTS, EXTRACTION)).await;
    assert!(compared > 0);
}
