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

use std::sync::Arc;

use chrono::NaiveDate;
use copil_queries::{Catalogue, Cell, Niveau, compute};
use copil_warehouse::{Departments, EVENEMENTS, Register};
use datafusion::arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn days(s: &str) -> i32 {
    (d(s) - d("1970-01-01")).num_days() as i32
}

/// (territoire, personne, date, evenement, type_rdv, statut_rdv)
type Event = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const EVENTS: &[Event] = &[
    ("dep-44", "a1", "2024-01-05", "droit_ouvert", "", ""),
    (
        "dep-44",
        "a1",
        "2024-01-08",
        "rdv",
        "accompagnement",
        "honore",
    ),
    ("dep-44", "a1", "2024-01-20", "orientation", "", ""),
    ("dep-44", "a2", "2024-01-10", "droit_ouvert", "", ""),
    (
        "dep-44",
        "a2",
        "2024-01-12",
        "rdv",
        "accompagnement",
        "absent",
    ),
    ("dep-44", "a2", "2024-01-19", "rdv", "orientation", "excuse"),
    ("dep-44", "a2", "2024-02-25", "orientation", "", ""),
    ("dep-44", "a3", "2024-01-31", "droit_ouvert", "", ""),
    ("dep-44", "a4", "2024-02-01", "droit_ouvert", "", ""),
    ("dep-44", "a4", "2024-02-05", "rdv", "orientation", "absent"),
    ("dep-44", "a4", "2024-02-11", "orientation", "", ""),
    ("dep-44", "a5", "2024-03-15", "droit_ouvert", "", ""),
    ("dep-44", "a5", "2024-03-16", "orientation", "", ""),
    ("dep-44", "a6", "2023-12-20", "droit_ouvert", "", ""),
    ("dep-44", "a6", "2024-01-05", "orientation", "", ""),
    ("dep-44", "a6", "2024-02-10", "droit_ouvert", "", ""),
    ("dep-03", "b1", "2024-01-03", "droit_ouvert", "", ""),
    ("dep-03", "b1", "2024-01-13", "orientation", "", ""),
    ("dep-03", "b2", "2024-01-20", "droit_ouvert", "", ""),
    ("dep-03", "b2", "2024-01-22", "orientation", "", ""),
];

fn context() -> SessionContext {
    let ctx = SessionContext::new();
    let schema = EVENEMENTS.schema();
    let n = EVENTS.len();
    let text = |f: fn(&Event) -> &'static str| -> ArrayRef {
        Arc::new(StringArray::from(
            EVENTS
                .iter()
                .map(|e| Some(f(e)).filter(|s| !s.is_empty()))
                .collect::<Vec<_>>(),
        ))
    };
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match f.name().as_str() {
            "territoire" => text(|e| e.0),
            "personne" => text(|e| e.1),
            "date" => Arc::new(Date32Array::from(
                EVENTS.iter().map(|e| days(e.2)).collect::<Vec<_>>(),
            )) as ArrayRef,
            "evenement" => text(|e| e.3),
            "type_rdv" => text(|e| e.4),
            "statut_rdv" => text(|e| e.5),
            "ligne" => Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
            _ => Arc::new(StringArray::from(vec![None::<&str>; n])),
        })
        .collect();
    let events = RecordBatch::try_new(schema.clone(), columns).unwrap();
    ctx.register_table(
        "evenements",
        Arc::new(MemTable::try_new(schema, vec![vec![events]]).unwrap()),
    )
    .unwrap();
    let depots_schema = Arc::new(Schema::new(vec![
        Field::new("territoire", DataType::Utf8, false),
        Field::new("statut", DataType::Utf8, false),
        Field::new("date_extraction", DataType::Date32, true),
    ]));
    let depots = RecordBatch::try_new(
        depots_schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![
                "dep-44", "dep-44", "dep-03", "dep-03",
            ])),
            Arc::new(StringArray::from(vec![
                "integre", "integre", "integre", "refuse",
            ])),
            Arc::new(Date32Array::from(vec![
                days("2024-01-31"),
                days("2024-03-31"),
                days("2024-02-29"),
                days("2024-06-30"),
            ])),
        ],
    )
    .unwrap();
    ctx.register_table(
        "depots",
        Arc::new(MemTable::try_new(depots_schema, vec![vec![depots]]).unwrap()),
    )
    .unwrap();
    ctx
}

async fn cells(threshold: i64) -> Vec<Cell> {
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    compute(&context(), &Catalogue::builtin(), &register, threshold)
        .await
        .unwrap()
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

#[tokio::test]
async fn entrants_count_first_rights_by_month_and_level() {
    let c = cells(1).await;
    use Niveau::*;
    // dep-44: December a6; January a1, a2, a3; February a4 (a6's second right does not count);
    // March a5 (mature: 2024-03-31 ≤ 2024-03-31).
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-44", "2023-12-01"),
        Some(1.0)
    );
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-44", "2024-01-01"),
        Some(3.0)
    );
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-44", "2024-02-01"),
        Some(1.0)
    );
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-44", "2024-03-01"),
        Some(1.0)
    );
    // dep-03: b1 and b2 in January; its refused drop's date (June) does not count.
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-03", "2024-01-01"),
        Some(2.0)
    );
    // Waves and nation pool the territories: January 3 + 2.
    assert_eq!(
        value(&c, "entrants", Vague, "experimentation-2020", "2024-01-01"),
        Some(3.0)
    );
    assert_eq!(
        value(&c, "entrants", Vague, "ami1-2021", "2024-01-01"),
        Some(2.0)
    );
    assert_eq!(
        value(&c, "entrants", National, "national", "2024-01-01"),
        Some(5.0)
    );
}

#[tokio::test]
async fn orientation_within_30_and_45_days_respects_maturity() {
    let c = cells(1).await;
    use Niveau::*;
    // 30 days. dep-44: December mature (12-31 + 30 = 01-30 ≤ 03-31): a6 in 16 days → 1/1.
    // January mature (01-31 + 30 = 03-01): a1 (15) yes, a2 (46) no, a3 never → 1/3.
    // February mature (02-29 + 30 = 03-30): a4 (10) → 1/1. March not mature (04-30 > 03-31).
    assert_eq!(
        value(&c, "orientes_30j", Territoire, "dep-44", "2023-12-01"),
        Some(1.0)
    );
    assert_eq!(
        value(&c, "orientes_30j", Territoire, "dep-44", "2024-01-01"),
        Some(1.0 / 3.0)
    );
    assert_eq!(
        value(&c, "orientes_30j", Territoire, "dep-44", "2024-02-01"),
        Some(1.0)
    );
    assert!(find(&c, "orientes_30j", Territoire, "dep-44", "2024-03-01", "").is_none());
    // dep-03's January is not mature yet (03-01 > 02-29): the nation's January is dep-44's alone.
    assert!(find(&c, "orientes_30j", Territoire, "dep-03", "2024-01-01", "").is_none());
    assert_eq!(
        value(&c, "orientes_30j", National, "national", "2024-01-01"),
        Some(1.0 / 3.0)
    );
    // 45 days: January 01-31 + 45 = 03-16 ≤ 03-31, still 1/3 (a2 took 46 days); February is
    // not mature (02-29 + 45 = 04-14).
    assert_eq!(
        value(&c, "orientes_45j", Territoire, "dep-44", "2024-01-01"),
        Some(1.0 / 3.0)
    );
    assert!(find(&c, "orientes_45j", Territoire, "dep-44", "2024-02-01", "").is_none());
    // Wilson 95 % interval of 1/3 ≈ [0.0615, 0.7923].
    let jan = find(&c, "orientes_30j", Territoire, "dep-44", "2024-01-01", "").unwrap();
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
    let jan = find(
        &c,
        "delai_orientation",
        Territoire,
        "dep-44",
        "2024-01-01",
        "",
    )
    .unwrap();
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
        find(
            &c,
            "taux_absenteisme",
            Territoire,
            "dep-44",
            "2024-01-01",
            ""
        )
        .unwrap()
        .personnes,
        Some(2)
    );
    assert_eq!(
        value(&c, "taux_absenteisme", Territoire, "dep-44", "2024-02-01"),
        Some(1.0)
    );
    // By type: accompagnement 1/2, orientation 0/1.
    let acc = find(
        &c,
        "taux_absenteisme",
        Territoire,
        "dep-44",
        "2024-01-01",
        "accompagnement",
    )
    .unwrap();
    assert_eq!(
        (acc.valeur, acc.ventilation.as_str()),
        (Some(0.5), "type_rdv")
    );
    let ori = find(
        &c,
        "taux_absenteisme",
        Territoire,
        "dep-44",
        "2024-01-01",
        "orientation",
    )
    .unwrap();
    assert_eq!(ori.valeur, Some(0.0));
}

#[tokio::test]
async fn secrecy_hides_small_cells_and_what_would_give_them_away() {
    let c = cells(2).await;
    use Niveau::*;
    // Primary: one entrant in dep-44's December is hidden, shown as secret, never as zero.
    let dec = find(&c, "entrants", Territoire, "dep-44", "2023-12-01", "").unwrap();
    assert!(
        dec.secret && dec.valeur.is_none() && dec.numerateur.is_none() && dec.personnes.is_none()
    );
    assert_eq!(
        value(&c, "entrants", Territoire, "dep-44", "2024-01-01"),
        Some(3.0)
    );
    // A share over one person is hidden; over three it is published.
    assert!(
        find(&c, "orientes_30j", Territoire, "dep-44", "2023-12-01", "")
            .unwrap()
            .secret
    );
    assert!(
        !find(&c, "orientes_30j", Territoire, "dep-44", "2024-01-01", "")
            .unwrap()
            .secret
    );
    // Secondary: January's absenteeism total (two people) is published; the orientation cell
    // (one person, one appointment) is hidden, so accompagnement must be hidden too, or it
    // would give orientation away by difference from the total.
    assert!(
        !find(
            &c,
            "taux_absenteisme",
            Territoire,
            "dep-44",
            "2024-01-01",
            ""
        )
        .unwrap()
        .secret
    );
    assert!(
        find(
            &c,
            "taux_absenteisme",
            Territoire,
            "dep-44",
            "2024-01-01",
            "orientation"
        )
        .unwrap()
        .secret
    );
    assert!(
        find(
            &c,
            "taux_absenteisme",
            Territoire,
            "dep-44",
            "2024-01-01",
            "accompagnement"
        )
        .unwrap()
        .secret
    );
    // Nothing published covers fewer than two people.
    for cell in c.iter().filter(|c| !c.secret) {
        assert!(cell.personnes.unwrap() >= 2, "{cell:?}");
    }
}

#[tokio::test]
async fn waves_before_and_after_their_spie_start() {
    // Two territories of the second wave (start 2022-01): dep-01 has entrants in December 2021
    // (month -1), January 2022 (month 0), January 2024 (month +24) and February 2024 (+25, out
    // of the window); dep-02 one in January 2022. Data as of 2024-03-31 for both.
    let ctx = {
        use copil_warehouse::EVENEMENTS;
        let rows = [
            ("dep-01", "x1", "2021-12-10"),
            ("dep-01", "x2", "2022-01-10"),
            ("dep-01", "x3", "2024-01-10"),
            ("dep-01", "x4", "2024-02-10"),
            ("dep-02", "y1", "2022-01-20"),
        ];
        let ctx = SessionContext::new();
        let schema = EVENEMENTS.schema();
        let n = rows.len();
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .map(|f| -> ArrayRef {
                match f.name().as_str() {
                    "territoire" => Arc::new(StringArray::from(
                        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                    )),
                    "personne" => Arc::new(StringArray::from(
                        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                    )),
                    "date" => Arc::new(Date32Array::from(
                        rows.iter().map(|r| days(r.2)).collect::<Vec<_>>(),
                    )),
                    "evenement" => Arc::new(StringArray::from(vec!["droit_ouvert"; n])),
                    "ligne" => Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
                    _ => Arc::new(StringArray::from(vec![None::<&str>; n])),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        ctx.register_table(
            "evenements",
            Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap()),
        )
        .unwrap();
        let ds = Arc::new(Schema::new(vec![
            Field::new("territoire", DataType::Utf8, false),
            Field::new("statut", DataType::Utf8, false),
            Field::new("date_extraction", DataType::Date32, true),
        ]));
        let depots = RecordBatch::try_new(
            ds.clone(),
            vec![
                Arc::new(StringArray::from(vec!["dep-01", "dep-02"])),
                Arc::new(StringArray::from(vec!["integre", "integre"])),
                Arc::new(Date32Array::from(vec![
                    days("2024-03-31"),
                    days("2024-03-31"),
                ])),
            ],
        )
        .unwrap();
        ctx.register_table(
            "depots",
            Arc::new(MemTable::try_new(ds, vec![vec![depots]]).unwrap()),
        )
        .unwrap();
        ctx
    };
    let register = Register::builtin(&Departments::builtin());
    let c = compute(&ctx, &Catalogue::builtin(), &register, 1)
        .await
        .unwrap();
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
    assert_eq!(relative("-01"), Some((start, Some(1.0))));
    assert_eq!(
        relative("+00"),
        Some((start, Some(2.0))),
        "both territories pooled at their start"
    );
    assert_eq!(relative("+24"), Some((start, Some(1.0))));
    assert_eq!(relative("+25"), None, "beyond 24 months after the start");
}
