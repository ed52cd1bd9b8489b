//! The indicators on a hand-made fixture (issue #4): every expected value is worked out by hand
//! in the comments. Two territories: dep-44 (wave experimentation-2020, data as of 2024-03-31)
//! and dep-03 (wave ami1-2021, data as of 2024-02-29).
//!
//! dep-44:
//! - a1 enters 2024-01-05, oriented 2024-01-20 (15 days); rdv 2024-01-08 accompagnement honore
//! - a2 enters 2024-01-10, oriented 2024-02-25 (46 days); rdv 2024-01-12 accompagnement absent,
//!   rdv 2024-01-19 orientation excuse
//! - a3 enters 2024-01-31, never oriented
//! - a4 enters 2024-02-01, oriented 2024-02-11 (10 days); rdv 2024-02-05 orientation absent
//! - a5 enters 2024-03-15, oriented 2024-03-16 (1 day)
//! - a6 enters 2023-12-20, oriented 2024-01-05 (16 days), enters again 2024-02-10 (not an entrant
//!   again: only the first right counts)
//!
//! dep-03:
//! - b1 enters 2024-01-03, oriented 2024-01-13 (10 days)
//! - b2 enters 2024-01-20, oriented 2024-01-22 (2 days)

mod common;

use common::{ACCOMPAGNEMENT_ABSENT, ACCOMPAGNEMENT_HONORE, Attrs, Ev, d, ev};
use copil_queries::{Cell, Niveau};

/// Orientation appointments (type, status).
const ORIENTATION_EXCUSE: Attrs = &[("type_rdv", "orientation"), ("statut_rdv", "excuse")];
const ORIENTATION_ABSENT: Attrs = &[("type_rdv", "orientation"), ("statut_rdv", "absent")];

const EVENTS: &[Ev] = &[
    ev("dep-44", "a1", "2024-01-05", "droit_ouvert", &[]),
    ev("dep-44", "a1", "2024-01-08", "rdv", ACCOMPAGNEMENT_HONORE),
    ev("dep-44", "a1", "2024-01-20", "orientation", &[]),
    ev("dep-44", "a2", "2024-01-10", "droit_ouvert", &[]),
    ev("dep-44", "a2", "2024-01-12", "rdv", ACCOMPAGNEMENT_ABSENT),
    ev("dep-44", "a2", "2024-01-19", "rdv", ORIENTATION_EXCUSE),
    ev("dep-44", "a2", "2024-02-25", "orientation", &[]),
    ev("dep-44", "a3", "2024-01-31", "droit_ouvert", &[]),
    ev("dep-44", "a4", "2024-02-01", "droit_ouvert", &[]),
    ev("dep-44", "a4", "2024-02-05", "rdv", ORIENTATION_ABSENT),
    ev("dep-44", "a4", "2024-02-11", "orientation", &[]),
    ev("dep-44", "a5", "2024-03-15", "droit_ouvert", &[]),
    ev("dep-44", "a5", "2024-03-16", "orientation", &[]),
    ev("dep-44", "a6", "2023-12-20", "droit_ouvert", &[]),
    ev("dep-44", "a6", "2024-01-05", "orientation", &[]),
    ev("dep-44", "a6", "2024-02-10", "droit_ouvert", &[]),
    ev("dep-03", "b1", "2024-01-03", "droit_ouvert", &[]),
    ev("dep-03", "b1", "2024-01-13", "orientation", &[]),
    ev("dep-03", "b2", "2024-01-20", "droit_ouvert", &[]),
    ev("dep-03", "b2", "2024-01-22", "orientation", &[]),
];

/// Drops: dep-44 twice (the latest, 2024-03-31, is in place), dep-03 once, plus a refused drop
/// of dep-03 whose date must not count.
const DROPS: &[(&str, &str, &str)] = &[
    ("dep-44", "2024-01-31", "integre"),
    ("dep-44", "2024-03-31", "integre"),
    ("dep-03", "2024-02-29", "integre"),
    ("dep-03", "2024-06-30", "refuse"),
];

async fn cells(threshold: i64) -> Vec<Cell> {
    common::cells(EVENTS, DROPS, threshold).await
}

fn find<'a>(
    cells: &'a [Cell],
    ind: &str,
    niveau: Niveau,
    code: &str,
    mois: &str,
    modalite: &str,
) -> Option<&'a Cell> {
    cells.iter().find(|c| {
        c.indicateur == ind
            && c.niveau == niveau
            && c.code == code
            && c.mois == d(mois)
            && c.modalite == modalite
    })
}

fn value(cells: &[Cell], ind: &str, niveau: Niveau, code: &str, mois: &str) -> Option<f64> {
    find(cells, ind, niveau, code, mois, "").and_then(|c| c.valeur)
}

/// dep-44's cell of `ind` for `mois` and `modalite` (the total when empty), which must exist.
#[track_caller]
fn dep44<'a>(cells: &'a [Cell], ind: &str, mois: &str, modalite: &str) -> &'a Cell {
    find(cells, ind, Niveau::Territoire, "dep-44", mois, modalite)
        .unwrap_or_else(|| panic!("no cell {ind} dep-44 {mois} {modalite:?}"))
}

#[tokio::test]
async fn entrants_count_first_rights_by_month_and_level() {
    let c = cells(1).await;
    use Niveau::*;
    let entrants = |niveau, code, mois| value(&c, "entrants", niveau, code, mois);
    // dep-44: December a6; January a1, a2, a3; February a4 (a6's second right does not count);
    // March a5 (mature: 2024-03-31 ≤ 2024-03-31).
    assert_eq!(entrants(Territoire, "dep-44", "2023-12-01"), Some(1.0));
    assert_eq!(entrants(Territoire, "dep-44", "2024-01-01"), Some(3.0));
    assert_eq!(entrants(Territoire, "dep-44", "2024-02-01"), Some(1.0));
    assert_eq!(entrants(Territoire, "dep-44", "2024-03-01"), Some(1.0));
    // dep-03: b1 and b2 in January; its refused drop's date (June) does not count.
    assert_eq!(entrants(Territoire, "dep-03", "2024-01-01"), Some(2.0));
    // Waves and nation pool the territories: January 3 + 2.
    assert_eq!(
        entrants(Vague, "experimentation-2020", "2024-01-01"),
        Some(3.0)
    );
    assert_eq!(entrants(Vague, "ami1-2021", "2024-01-01"), Some(2.0));
    assert_eq!(entrants(National, "national", "2024-01-01"), Some(5.0));
}

#[tokio::test]
async fn orientation_within_30_and_45_days_respects_maturity() {
    let c = cells(1).await;
    use Niveau::*;
    // 30 days. dep-44: December mature (12-31 + 30 = 01-30 ≤ 03-31): a6 in 16 days → 1/1.
    // January mature (01-31 + 30 = 03-01): a1 (15) yes, a2 (46) no, a3 never → 1/3.
    // February mature (02-29 + 30 = 03-30): a4 (10) → 1/1. March not mature (04-30 > 03-31).
    let orientes_30j = |mois| value(&c, "orientes_30j", Territoire, "dep-44", mois);
    assert_eq!(orientes_30j("2023-12-01"), Some(1.0));
    assert_eq!(orientes_30j("2024-01-01"), Some(1.0 / 3.0));
    assert_eq!(orientes_30j("2024-02-01"), Some(1.0));
    assert!(find(&c, "orientes_30j", Territoire, "dep-44", "2024-03-01", "").is_none());
    // dep-03's January is not mature yet (03-01 > 02-29): the nation's January would be
    // dep-44's alone, half the territories (neither has anyone in droits et devoirs, so each
    // weighs the same): under the 90 % coverage it is not published (issue 12).
    assert!(find(&c, "orientes_30j", Territoire, "dep-03", "2024-01-01", "").is_none());
    assert!(find(&c, "orientes_30j", National, "national", "2024-01-01", "").is_none());
    // Entrants of January (no window): complete for both, the nation adds them up, final.
    let jan = find(&c, "entrants", National, "national", "2024-01-01", "").unwrap();
    assert_eq!(jan.numerateur, Some(5));
    assert_eq!(
        (jan.territoires, jan.territoires_attendus, jan.provisoire),
        (Some(2), Some(2), false)
    );
    // 45 days: January 01-31 + 45 = 03-16 ≤ 03-31, still 1/3 (a2 took 46 days); February is
    // not mature (02-29 + 45 = 04-14).
    assert_eq!(
        value(&c, "orientes_45j", Territoire, "dep-44", "2024-01-01"),
        Some(1.0 / 3.0)
    );
    assert!(find(&c, "orientes_45j", Territoire, "dep-44", "2024-02-01", "").is_none());
    // Wilson 95 % interval of 1/3 ≈ [0.0615, 0.7923].
    let jan = dep44(&c, "orientes_30j", "2024-01-01", "");
    assert!(
        (jan.ic_bas.unwrap() - 0.0615).abs() < 1e-3 && (jan.ic_haut.unwrap() - 0.7923).abs() < 1e-3,
        "{jan:?}"
    );
    assert_eq!((jan.numerateur, jan.denominateur), (Some(1), Some(3)));
}

#[tokio::test]
async fn delay_to_orientation_median_mean_and_quartiles() {
    let c = cells(1).await;
    use Niveau::*;
    // dep-44 January: a1 15, a2 46 (a3 not oriented): median 30.5, mean 30.5,
    // Q1 = 15 + 0.25 × 31 = 22.75, Q3 = 15 + 0.75 × 31 = 38.25.
    let jan = dep44(&c, "delai_orientation", "2024-01-01", "");
    assert_eq!(
        (jan.valeur, jan.moyenne, jan.q1, jan.q3),
        (Some(30.5), Some(30.5), Some(22.75), Some(38.25))
    );
    assert_eq!(jan.personnes, Some(2));
    // The nation's January: 2, 10, 15, 46 → median 12.5, mean 18.25, Q1 = 2 + 0.75 × 8 = 8,
    // Q3 = 15 + 0.25 × 31 = 22.75 (pooled people, not a median of medians).
    let nat = find(
        &c,
        "delai_orientation",
        National,
        "national",
        "2024-01-01",
        "",
    )
    .unwrap();
    assert_eq!(
        (nat.valeur, nat.moyenne, nat.q1, nat.q3),
        (Some(12.5), Some(18.25), Some(8.0), Some(22.75))
    );
    // dep-44 March: a5 in 1 day.
    assert_eq!(
        value(&c, "delai_orientation", Territoire, "dep-44", "2024-03-01"),
        Some(1.0)
    );
}

#[tokio::test]
async fn absenteeism_counts_appointments_with_a_breakdown() {
    let c = cells(1).await;
    use Niveau::*;
    // January: honore, absent, excuse → 1/3, two people (a1, a2). February: absent → 1/1.
    assert_eq!(
        value(&c, "taux_absenteisme", Territoire, "dep-44", "2024-01-01"),
        Some(1.0 / 3.0)
    );
    assert_eq!(
        dep44(&c, "taux_absenteisme", "2024-01-01", "").personnes,
        Some(2)
    );
    assert_eq!(
        value(&c, "taux_absenteisme", Territoire, "dep-44", "2024-02-01"),
        Some(1.0)
    );
    // By type: accompagnement 1/2, orientation 0/1.
    let acc = dep44(&c, "taux_absenteisme", "2024-01-01", "accompagnement");
    assert_eq!(
        (acc.valeur, acc.ventilation.as_str()),
        (Some(0.5), "type_rdv")
    );
    let ori = dep44(&c, "taux_absenteisme", "2024-01-01", "orientation");
    assert_eq!(ori.valeur, Some(0.0));
}

#[tokio::test]
async fn secrecy_hides_small_cells_and_what_would_give_them_away() {
    let c = cells(2).await;
    use Niveau::*;
    // Primary: one entrant in dep-44's December is hidden, shown as secret, never as zero.
    let dec = dep44(&c, "entrants", "2023-12-01", "");
    assert!(
        dec.secret && dec.valeur.is_none() && dec.numerateur.is_none() && dec.personnes.is_none()
    );
    // A share over one person is hidden. Over three, one oriented within 30 days: that
    // numerator (1) is under the threshold, hidden too (issue 12); without the numerator rule
    // the share is published. January's 3 entrants are orientes_30j's denominator: hidden
    // with it (issue 12, twins), published with it.
    assert!(dep44(&c, "orientes_30j", "2023-12-01", "").secret);
    assert!(dep44(&c, "orientes_30j", "2024-01-01", "").secret);
    let rules = copil_queries::Rules {
        threshold: 2,
        numerators: false,
        ..copil_queries::Rules::default()
    };
    assert!(dep44(&c, "entrants", "2024-01-01", "").secret);
    let c = common::cells_with(EVENTS, DROPS, &rules).await;
    assert!(!dep44(&c, "orientes_30j", "2024-01-01", "").secret);
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-44", "2024-01-01"),
        Some(3.0)
    );
    // Secondary (numerators aside): January's absenteeism total (two people) is published; the
    // orientation cell (one person, one appointment) is hidden, so accompagnement must be
    // hidden too, or it would give orientation away by difference from the total.
    assert!(!dep44(&c, "taux_absenteisme", "2024-01-01", "").secret);
    assert!(dep44(&c, "taux_absenteisme", "2024-01-01", "orientation").secret);
    assert!(dep44(&c, "taux_absenteisme", "2024-01-01", "accompagnement").secret);
    // Nothing published covers between 1 and threshold − 1 people (zeros are published).
    for cell in c.iter().filter(|c| !c.secret) {
        assert!(cell.personnes.unwrap() != 1, "{cell:?}");
    }
}

#[tokio::test]
async fn waves_before_and_after_their_spie_start() {
    // Two territories of the second wave (start 2022-01): dep-01 has entrants in December 2021
    // (month -1), January 2022 (month 0), January 2024 (month +24) and February 2024 (+25, out
    // of the window); dep-02 one in January 2022. Data as of 2024-03-31 for both.
    const ROWS: &[Ev] = &[
        ev("dep-01", "x1", "2021-12-10", "droit_ouvert", &[]),
        ev("dep-01", "x2", "2022-01-10", "droit_ouvert", &[]),
        ev("dep-01", "x3", "2024-01-10", "droit_ouvert", &[]),
        ev("dep-01", "x4", "2024-02-10", "droit_ouvert", &[]),
        ev("dep-02", "y1", "2022-01-20", "droit_ouvert", &[]),
    ];
    let c = common::cells(
        ROWS,
        &[
            ("dep-01", "2024-03-31", "integre"),
            ("dep-02", "2024-03-31", "integre"),
        ],
        1,
    )
    .await;
    let relative = |m: &str| {
        c.iter()
            .find(|c| {
                c.indicateur == "entrants"
                    && c.niveau == Niveau::Vague
                    && c.ventilation == copil_queries::RELATIF
                    && c.modalite == m
            })
            .map(|c| (c.mois, c.valeur))
    };
    let start = d("2022-01-01");
    // Month -1: dep-02's data begin in January 2022, so December 2021 covers half the wave's
    // territories (each weighs the same, nobody being in droits et devoirs): not published
    // under the 90 % coverage (issue 12).
    assert_eq!(relative("-01"), None);
    assert_eq!(
        relative("+00"),
        Some((start, Some(2.0))),
        "both territories pooled at their start"
    );
    assert_eq!(relative("+24"), Some((start, Some(1.0))));
    assert_eq!(relative("+25"), None, "beyond 24 months after the start");
}

#[tokio::test]
async fn issue_16_stocks_as_intervals_match_the_expansion() {
    // Nobody enters droits et devoirs here: both formulations give no row.
    let compared = common::assert_stocks_match_expansion(&common::context(EVENTS, DROPS)).await;
    assert_eq!(compared, 0);
}
