//! Issue 12: secret figures must not come back by subtraction. Each fixture holds one of the
//! three shapes an outside check recovered from the demo; the old rule (hide the next smallest
//! cell of the same breakdown, only where its total is published) is shown to fail the audit,
//! and the linked-table suppression to pass it.

use chrono::NaiveDate;
use copil_queries::secrecy::{apply, audit};
use copil_queries::{Catalogue, Cell, Niveau, Rules};
use copil_warehouse::{Departments, Register};

const REGISTER: &str = "id,nom,type,departements,vague,debut_spie,source\n\
dep-31,Haute-Garonne,departement,31,ami2-2021,2022-01,officielle\n\
dep-49,Maine-et-Loire,departement,49,ami2-2021,2022-01,officielle\n\
dep-44,Loire-Atlantique,departement,44,experimentation-2020,2020-03,officielle\n";

fn register() -> Register {
    Register::parse(REGISTER, "test.csv", &Departments::builtin()).unwrap()
}

/// One wave, ami2-2021 from 2022-01: Haute-Garonne, Maine-et-Loire, Loire-Atlantique,
/// Ille-et-Vilaine and Côtes-d'Armor (id, name, kind, départements).
const WAVE: [&str; 5] = [
    "dep-31,Haute-Garonne,departement,31",
    "dep-49,Maine-et-Loire,departement,49",
    "dep-44,Loire-Atlantique,departement,44",
    "dep-35,Ille-et-Vilaine,departement,35",
    "dep-22,Côtes-d'Armor,departement,22",
];

/// A register of the first `n` territories of [`WAVE`].
fn wave_register(n: usize) -> Register {
    let mut csv = String::from("id,nom,type,departements,vague,debut_spie,source\n");
    for territory in &WAVE[..n] {
        csv.push_str(&format!("{territory},ami2-2021,2022-01,officielle\n"));
    }
    Register::parse(&csv, "test.csv", &Departments::builtin()).unwrap()
}

fn month() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
}

/// A cell of `ind` with counts (valeur derived as the catalogue would).
fn cell(ind: &str, niveau: Niveau, code: &str, v: &str, md: &str, num: i64, den: i64) -> Cell {
    Cell {
        indicateur: ind.into(),
        niveau,
        code: code.into(),
        mois: month(),
        ventilation: v.into(),
        modalite: md.into(),
        numerateur: Some(num),
        denominateur: Some(den),
        personnes: Some(if md.is_empty() { den } else { num }),
        valeur: Some(if den > 0 {
            num as f64 / den as f64
        } else {
            0.0
        }),
        ..Cell::default()
    }
}

fn hidden(mut c: Cell) -> Cell {
    c.secret = true;
    c.numerateur = None;
    c.denominateur = None;
    c.personnes = None;
    c.valeur = None;
    c
}

fn rules() -> Rules {
    Rules::default()
}

fn find<'a>(cells: &'a [Cell], niveau: Niveau, code: &str, md: &str) -> &'a Cell {
    cells
        .iter()
        .find(|c| c.niveau == niveau && c.code == code && c.modalite == md)
        .unwrap()
}

/// Shape 1: a wave minus its published territories. `entrants` 2026-11: wave ami2-2021 = 19,
/// Haute-Garonne = 11, so Maine-et-Loire (secret) = 8.
fn wave_fixture() -> Vec<Cell> {
    let v = |niveau, code: &str, n| cell("entrants", niveau, code, "", "", n, n);
    vec![
        v(Niveau::Territoire, "dep-31", 11),
        v(Niveau::Territoire, "dep-49", 8),
        v(Niveau::Territoire, "dep-44", 40),
        v(Niveau::Vague, "ami2-2021", 19),
        v(Niveau::Vague, "experimentation-2020", 40),
        v(Niveau::National, "national", 59),
    ]
}

#[test]
fn issue_12_a_wave_minus_its_published_territories() {
    let (catalogue, register) = (Catalogue::builtin(), register());
    // The old rule: only Maine-et-Loire is hidden (no breakdown, so no secondary cell).
    let mut old = wave_fixture();
    old[1] = hidden(old[1].clone());
    let report = audit(&old, &catalogue, &register, &rules());
    let f = &report.failures[0];
    assert_eq!(
        (f.code.as_str(), f.range.min, f.range.max),
        ("dep-49", 8.0, Some(8.0))
    );

    let mut cells = wave_fixture();
    apply(&mut cells, &catalogue, &register, &rules()).unwrap();
    let report = audit(&cells, &catalogue, &register, &rules());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(find(&cells, Niveau::Territoire, "dep-49", "").secret);
    // The wave has a single other territory, so a territory cannot protect it: the wave is
    // hidden, and then another level too (the nation minus the other wave gives this one).
    let hidden: Vec<(Niveau, &str)> = cells
        .iter()
        .filter(|c| c.secret)
        .map(|c| (c.niveau, c.code.as_str()))
        .collect();
    assert!(
        hidden.contains(&(Niveau::Territoire, "dep-31")),
        "{hidden:?}"
    );
    let entrants = report
        .indicateurs
        .iter()
        .find(|(id, _)| id == "entrants")
        .unwrap();
    assert!(entrants.1.plus_etroite.unwrap() >= 11.0);
}

/// Shapes 2 and 3: a breakdown whose total is published with exactly one secret modality,
/// and a modality with nobody that had no row. `contrat_28j` by first contract type in one
/// territory (its wave and the nation hold only it).
fn breakdown_fixture(cer: i64, ppae: i64, zero_rows: bool) -> Vec<Cell> {
    let mut out = Vec::new();
    for (niveau, code) in [
        (Niveau::Territoire, "dep-44"),
        (Niveau::Vague, "experimentation-2020"),
        (Niveau::National, "national"),
    ] {
        out.push(cell("contrat_28j", niveau, code, "", "", cer + ppae, 120));
        if cer > 0 || zero_rows {
            out.push(cell(
                "contrat_28j",
                niveau,
                code,
                "type_contrat",
                "cer",
                cer,
                120,
            ));
        }
        out.push(cell(
            "contrat_28j",
            niveau,
            code,
            "type_contrat",
            "ppae",
            ppae,
            120,
        ));
        if zero_rows {
            for md in ["contrat_engagement", "cej", "pacea"] {
                out.push(cell(
                    "contrat_28j",
                    niveau,
                    code,
                    "type_contrat",
                    md,
                    0,
                    120,
                ));
            }
        }
    }
    out
}

fn hide_ppae(cells: &mut [Cell]) {
    for c in cells.iter_mut() {
        if c.modalite == "ppae" {
            *c = hidden(c.clone());
        }
    }
}

fn ppae_pinned(cells: &[Cell], catalogue: &Catalogue, register: &Register, value: f64) -> bool {
    audit(cells, catalogue, register, &rules())
        .failures
        .iter()
        .any(|f| f.case.starts_with("type_contrat=ppae") && f.range.max == Some(value))
}

#[test]
fn issue_12_a_lone_secret_modality_is_its_total_minus_the_others() {
    let (catalogue, register) = (Catalogue::builtin(), register());
    // Shape 2: ppae (5 people) hidden, cer (40) and the total (45) published: ppae = 45 − 40.
    let mut old = breakdown_fixture(40, 5, false);
    hide_ppae(&mut old);
    assert!(ppae_pinned(&old, &catalogue, &register, 5.0));
    // Shape 3: nobody signed another type, so no other row: ppae is the total's numerator.
    let mut old = breakdown_fixture(0, 5, false);
    hide_ppae(&mut old);
    assert!(ppae_pinned(&old, &catalogue, &register, 5.0));

    for (cer, ppae) in [(40, 5), (0, 5)] {
        let mut cells = breakdown_fixture(cer, ppae, true);
        apply(&mut cells, &catalogue, &register, &rules()).unwrap();
        let report = audit(&cells, &catalogue, &register, &rules());
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        for niveau in [Niveau::Territoire, Niveau::Vague, Niveau::National] {
            let c = cells
                .iter()
                .find(|c| c.niveau == niveau && c.modalite == "ppae")
                .unwrap();
            assert!(c.secret, "{niveau:?}");
        }
    }
}

#[test]
fn issue_12_numerators_under_the_threshold_are_secret_unless_zero() {
    let (catalogue, register) = (Catalogue::builtin(), register());
    let mut cells = vec![
        cell("orientes_30j", Niveau::Territoire, "dep-44", "", "", 4, 200),
        cell("orientes_30j", Niveau::Territoire, "dep-31", "", "", 0, 150),
        cell(
            "orientes_30j",
            Niveau::Territoire,
            "dep-49",
            "",
            "",
            60,
            180,
        ),
    ];
    apply(&mut cells, &catalogue, &register, &rules()).unwrap();
    assert!(
        cells[0].secret,
        "4 people oriented within 30 days is secret"
    );
    assert!(!cells[1].secret, "zero is published as zero");
    // Without the numerator rule, 4 of 200 is published.
    let mut cells = vec![cell(
        "orientes_30j",
        Niveau::Territoire,
        "dep-44",
        "",
        "",
        4,
        200,
    )];
    let off = Rules {
        numerators: false,
        ..Rules::default()
    };
    apply(&mut cells, &catalogue, &register, &off).unwrap();
    assert!(!cells[0].secret);
}

/// Issue 12, across indicators: `orientes_30j`'s denominator is `entrants` (its `lien:`
/// header). Each indicator alone is safe, but entrants hides Haute-Garonne (20) to protect
/// Maine-et-Loire (5) while orientes_30j hides Loire-Atlantique and Côtes-d'Armor (5 and 6
/// oriented people):
/// Haute-Garonne's 20 entrants are then published as orientes_30j's denominator, and
/// Maine-et-Loire's 5 entrants are the wave minus three published territories. Suppressed
/// together, twins are hidden together and the audit holds.
#[test]
fn issue_12_a_count_shared_by_two_indicators_is_hidden_in_both() {
    let register = wave_register(5);
    let catalogue = Catalogue::builtin();
    let table = || {
        let mut cells = Vec::new();
        for (code, entrants, oriented) in [
            ("dep-49", 5, 1),
            ("dep-31", 20, 12),
            ("dep-44", 30, 5),
            ("dep-35", 40, 30),
            ("dep-22", 50, 6),
        ] {
            cells.push(cell(
                "entrants",
                Niveau::Territoire,
                code,
                "",
                "",
                entrants,
                entrants,
            ));
            cells.push(cell(
                "orientes_30j",
                Niveau::Territoire,
                code,
                "",
                "",
                oriented,
                entrants,
            ));
        }
        for (niveau, code) in [(Niveau::Vague, "ami2-2021"), (Niveau::National, "national")] {
            cells.push(cell("entrants", niveau, code, "", "", 145, 145));
            cells.push(cell("orientes_30j", niveau, code, "", "", 54, 145));
        }
        cells
    };
    let of = |cells: &[Cell], ind: &str, code: &str| -> bool {
        cells
            .iter()
            .find(|c| c.indicateur == ind && c.code == code)
            .unwrap()
            .secret
    };

    // Each indicator suppressed on its own, as before: each passes its own audit, but the
    // pair gives Maine-et-Loire away.
    let mut apart = table();
    for ind in ["entrants", "orientes_30j"] {
        let only = catalogue.only(&[ind]);
        let mut part: Vec<Cell> = apart
            .iter()
            .filter(|c| c.indicateur == ind)
            .cloned()
            .collect();
        apply(&mut part, &only, &register, &rules()).unwrap();
        apart.retain(|c| c.indicateur != ind);
        apart.extend(part);
    }
    assert!(of(&apart, "entrants", "dep-31") && !of(&apart, "orientes_30j", "dep-31"));
    let leak = audit(&apart, &catalogue, &register, &rules());
    assert!(
        leak.failures
            .iter()
            .any(|f| f.indicateur == "entrants" && f.code == "dep-31"),
        "{:?}",
        leak.failures
    );
    let published: i64 = ["dep-44", "dep-35", "dep-22"]
        .iter()
        .map(|code| {
            apart
                .iter()
                .find(|c| c.indicateur == "entrants" && c.code == *code)
                .unwrap()
                .numerateur
                .unwrap()
        })
        .sum();
    let twin = apart
        .iter()
        .find(|c| c.indicateur == "orientes_30j" && c.code == "dep-31")
        .unwrap()
        .denominateur
        .unwrap();
    assert_eq!(145 - published - twin, 5, "Maine-et-Loire by subtraction");

    // Suppressed together: every territory hidden in one is hidden in the other.
    let mut together = table();
    apply(&mut together, &catalogue, &register, &rules()).unwrap();
    for code in ["dep-49", "dep-31", "dep-44", "dep-35", "dep-22"] {
        assert_eq!(
            of(&together, "entrants", code),
            of(&together, "orientes_30j", code),
            "{code}"
        );
    }
    assert!(of(&together, "entrants", "dep-49"));
    assert!(
        audit(&together, &catalogue, &register, &rules())
            .failures
            .is_empty()
    );
}

/// The `taux_levee_freins` cells of one place: its total and the freins of the given types
/// (numerator, denominator), every other type of the catalogue at zero.
fn freins(
    niveau: Niveau,
    code: &str,
    total: (i64, i64),
    types: &[(&str, (i64, i64))],
) -> Vec<Cell> {
    let ind = "taux_levee_freins";
    let catalogue = Catalogue::builtin();
    let every = &catalogue
        .get(ind)
        .unwrap()
        .ventilation("type_frein")
        .unwrap()
        .modalites;
    let mut out = vec![cell(ind, niveau, code, "", "", total.0, total.1)];
    for md in every {
        let (n, d) = types
            .iter()
            .find(|(t, _)| t == md)
            .map_or((0, 0), |(_, counts)| *counts);
        out.push(cell(ind, niveau, code, "type_frein", md, n, d));
    }
    out
}

/// Issue 16: a rate's breakdown with its own denominators (`taux_levee_freins` by type of
/// frein, a partition). Two territories of one wave, their breakdowns hidden (a denominator of
/// 10 in each), totals and pooled cells published. People trade between modalities across the
/// two territories, but a frein levé moves with its numerator: Haute-Garonne's `logement` and
/// `sante` freins are all levés and Maine-et-Loire's `mobilite` none, so Haute-Garonne's
/// `mobilite` denominator (10) cannot rise at all, and falls by 10 at most: the outsider pins
/// it between 0 and 10. Trading denominators alone, as if numerators did not follow, claims it
/// can rise by 20. The published table must survive the outsider's attack.
#[test]
fn issue_16_a_trade_of_denominators_keeps_numerators_under_them() {
    let (catalogue, register) = (Catalogue::builtin(), register());
    let mut cells = Vec::new();
    // (numerator, denominator) of the total, `mobilite`, `logement` and `sante`.
    #[rustfmt::skip]
    let rows = [
        (Niveau::Territoire, "dep-31", (40, 50), [(0, 10), (20, 20), (20, 20)]),
        (Niveau::Territoire, "dep-49", (20, 50), [(0, 20), (0, 10), (20, 20)]),
        (Niveau::Vague, "ami2-2021", (60, 100), [(0, 30), (20, 30), (40, 40)]),
        (Niveau::National, "national", (60, 100), [(0, 30), (20, 30), (40, 40)]),
    ];
    for (niveau, code, total, [mobilite, logement, sante]) in rows {
        let types = [
            ("mobilite", mobilite),
            ("logement", logement),
            ("sante", sante),
        ];
        cells.extend(freins(niveau, code, total, &types));
    }
    apply(&mut cells, &catalogue, &register, &rules()).unwrap();
    assert!(find(&cells, Niveau::Territoire, "dep-31", "mobilite").secret);
    let report = audit(&cells, &catalogue, &register, &rules());
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
}

/// Issue 16: with no cap on a breakdown (a partition), trades with several partners add up.
/// Three territories of one wave, four freins of each of three types each (all hidden: a
/// denominator of 5), totals and pooled cells published. No single trade moves Haute-Garonne's
/// `mobilite` numerator by 11, all of them together do, and the summed proof says so: only the
/// territories' breakdowns are hidden, and the outsider pins nothing. (The linear programmes
/// reach the same table without the summed proof: this checks that the sum claims no more than
/// the exact attack allows, not that it is used.)
#[test]
fn issue_16_trades_with_several_partners_add_up() {
    let register = wave_register(3);
    let catalogue = Catalogue::builtin();
    let mut cells = Vec::new();
    for (niveau, code, k) in [
        (Niveau::Territoire, "dep-31", 1),
        (Niveau::Territoire, "dep-49", 1),
        (Niveau::Territoire, "dep-44", 1),
        (Niveau::Vague, "ami2-2021", 3),
        (Niveau::National, "national", 3),
    ] {
        let four = (4 * k, 5 * k);
        let types = [("mobilite", four), ("logement", four), ("sante", four)];
        cells.extend(freins(niveau, code, (12 * k, 15 * k), &types));
    }
    apply(&mut cells, &catalogue, &register, &rules()).unwrap();
    for c in &cells {
        // A territory's breakdown is hidden whole, its zeros with it.
        let breakdown = c.niveau == Niveau::Territoire && c.ventilation == "type_frein";
        assert_eq!(c.secret, breakdown, "{c:?}");
    }
    let report = audit(&cells, &catalogue, &register, &rules());
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
}
