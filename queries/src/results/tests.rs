use super::*;
use copil_warehouse::Departments;

fn cell(ind: &str, niveau: Niveau, code: &str, mois: &str, v: Option<f64>, secret: bool) -> Cell {
    Cell {
        indicateur: ind.into(),
        niveau,
        code: code.into(),
        mois: NaiveDate::parse_from_str(&format!("{mois}-01"), "%Y-%m-%d").unwrap(),
        ventilation: String::new(),
        modalite: String::new(),
        numerateur: None,
        denominateur: None,
        personnes: v.map(|_| 100),
        valeur: if secret { None } else { v },
        ic_bas: None,
        ic_haut: None,
        q1: None,
        q3: None,
        moyenne: None,
        secret,
        ..Default::default()
    }
}

fn fixture() -> (Results, Register) {
    let register = Register::builtin(&Departments::builtin());
    let ids: Vec<String> = register.iter().take(3).map(|t| t.id.clone()).collect();
    let t = |i: usize| ids[i].as_str();
    let ind = "orientes_30j";
    let cells = vec![
        // Territory 0 and 1 reach 2024-02; territory 2 only 2024-01 (extracted earlier).
        cell(ind, Niveau::Territoire, t(0), "2024-01", Some(0.50), false),
        cell(ind, Niveau::Territoire, t(0), "2024-02", Some(0.40), false),
        cell(ind, Niveau::Territoire, t(1), "2024-01", Some(0.70), false),
        cell(ind, Niveau::Territoire, t(1), "2024-02", Some(0.60), false),
        cell(ind, Niveau::Territoire, t(2), "2024-01", Some(0.10), true),
        cell(
            ind,
            Niveau::National,
            "national",
            "2024-01",
            Some(0.55),
            false,
        ),
        Cell {
            provisoire: true,
            ..cell(
                ind,
                Niveau::National,
                "national",
                "2024-02",
                Some(0.52),
                false,
            )
        },
    ];
    (Results::from_cells(cells, Vec::new()), register)
}

/// Issue 13: a held drop is listed as held, not counted with the refused.
#[test]
fn held_drops_are_listed_apart_from_refused_ones() {
    let register = Register::builtin(&Departments::builtin());
    let t = register.iter().next().unwrap().id.clone();
    let depot = |fichier: &str, statut: &str| Depot {
        depot: fichier.into(),
        territoire: t.clone(),
        fichier: fichier.into(),
        date_extraction: NaiveDate::from_ymd_opt(2025, 6, 30),
        traite_le: DateTime::from_timestamp(0, 0).unwrap(),
        statut: statut.into(),
        message: None,
        lignes_lues: 10,
        lignes_integrees: 10,
        lignes_rejetees: 0,
        rejets: Vec::new(),
    };
    let r = Results::from_cells(
        Vec::new(),
        vec![
            depot("a.csv", "integre"),
            depot("b.csv", "refuse"),
            depot("c.csv", "en_attente"),
        ],
    );
    let today = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let q = r.quality(&register, today);
    let row = q.iter().find(|q| q.territoire.id == t).unwrap();
    assert_eq!(row.refuses, 1);
    assert_eq!(
        row.en_attente
            .iter()
            .map(|d| d.fichier.as_str())
            .collect::<Vec<_>>(),
        ["c.csv"]
    );
}

#[test]
fn the_headline_month_is_the_latest_with_every_territory() {
    let (r, register) = fixture();
    // 2024-02 has a national total but territory 2 stops at 2024-01: it is provisional.
    assert_eq!(
        r.latest_month("orientes_30j", &register),
        NaiveDate::from_ymd_opt(2024, 1, 1)
    );
    assert_eq!(r.months("orientes_30j").len(), 2);
}

#[test]
fn the_ranking_puts_the_best_first_and_secret_cells_last_unranked() {
    let (r, register) = fixture();
    let catalogue = Catalogue::builtin();
    let ind = catalogue.get("orientes_30j").unwrap();
    let report = r.indicator(ind, &register, None, None, None).unwrap();
    let first: Vec<(&str, Option<usize>)> = report
        .classement
        .iter()
        .take(3)
        .map(|x| (x.territoire.id.as_str(), x.rang))
        .collect();
    let ids: Vec<&str> = register.iter().take(3).map(|t| t.id.as_str()).collect();
    // 0.70 (rank 1), 0.50 (rank 2), then the secret one, unranked; a share going up is better.
    assert_eq!(
        first,
        vec![(ids[1], Some(1)), (ids[0], Some(2)), (ids[2], None)]
    );
    assert_eq!(report.classes, 2);
    // The spread only counts published values: median of {0.5, 0.7}.
    let s = report.snapshot.dispersion.unwrap();
    assert_eq!(s.territoires, 2);
    assert!((s.mediane - 0.6).abs() < 1e-12);
    // A month without a national total is not found.
    assert!(
        r.indicator(
            ind,
            &register,
            NaiveDate::from_ymd_opt(2023, 1, 1),
            None,
            None
        )
        .is_none()
    );
}
