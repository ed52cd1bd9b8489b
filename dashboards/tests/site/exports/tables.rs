//! Indicator tables: three formats alike, filters, the same bytes again.

use super::*;

/// Issue #6: the indicator table in CSV, XLSX and Parquet reads back identically with three
/// independent readers, holds what the results hold (secret cells secret, delays without
/// numerator and denominator) and equals the API's values for published cells.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicator_tables_read_back_alike_in_three_formats_and_match_the_api() {
    let s = serve().await;
    let csv = read_csv(&data(&s, "/exports/indicateurs.csv").await.bytes);
    let xlsx = read_xlsx(&data(&s, "/api/v1/exports/indicateurs.xlsx").await.bytes);
    let parquet = read_parquet(&data(&s, "/exports/indicateurs.parquet").await.bytes);
    assert_eq!(csv.header, COLUMNS.map(str::to_string).to_vec());
    assert_eq!(csv, xlsx, "CSV et XLSX");
    assert_eq!(csv, parquet, "CSV et Parquet");

    // Everything the results hold: every total of every level, none of the before / after
    // breakdown, secret where the results are secret.
    let results = s.state.results();
    let catalogue = s.state.catalogue();
    let reg = register();
    let mut levels = vec![(Niveau::National, "national".to_string())];
    levels.extend(
        Wave::ALL
            .iter()
            .map(|w| (Niveau::Vague, w.code().to_string())),
    );
    levels.extend(reg.iter().map(|t| (Niveau::Territoire, t.id.clone())));
    let (mut totals, mut secret_totals) = (0, 0);
    for ind in catalogue.iter() {
        for (niveau, code) in &levels {
            for c in results.series(&ind.id, *niveau, code) {
                if c.ventilation.is_empty() {
                    totals += 1;
                    secret_totals += usize::from(c.secret);
                }
            }
        }
    }
    assert_eq!(csv.rows.len(), totals);
    let secret = check_secrecy(&csv, "csv");
    assert_eq!(secret, secret_totals);
    assert!(secret > 0, "le jeu de test a des cases secrètes");
    assert!(
        csv.rows.iter().all(|r| csv.get(r, "ventilation").is_none()),
        "sans ventilation demandée : les totaux seulement ({RELATIF} exclu)"
    );
    // Delays never publish their numerator and denominator.
    for r in csv
        .rows
        .iter()
        .filter(|r| csv.get(r, "indicateur") == Some("delai_orientation"))
    {
        assert_eq!(csv.get(r, "numerateur"), None);
        assert_eq!(csv.get(r, "denominateur"), None);
    }

    // The API's values, cell by cell.
    let api = fixture::national();
    let mut compared = 0;
    for id in ["orientes_30j", "delai_orientation", "entrants"] {
        let body: Value =
            fixture::get_json(&api, format!("{}/api/v1/indicateurs/{id}", s.base)).await;
        let d = &body["donnees"];
        let mois = d["mois"].as_str().unwrap();
        let mut cells: Vec<(&str, String, &Value)> =
            vec![("national", "national".into(), &d["national"])];
        for v in d["vagues"].as_array().unwrap() {
            cells.push(("vague", v["vague"].as_str().unwrap().into(), &v["valeur"]));
        }
        for t in d["territoires"].as_array().unwrap() {
            cells.push((
                "territoire",
                t["territoire"].as_str().unwrap().into(),
                &t["valeur"],
            ));
        }
        for (niveau, code, cell) in cells {
            if cell.is_null() {
                assert!(csv.total(id, niveau, &code, mois).is_none(), "{id} {code}");
                continue;
            }
            let row = csv
                .total(id, niveau, &code, mois)
                .unwrap_or_else(|| panic!("{id} {niveau} {code} {mois} absent de l'export"));
            let secret = cell["secret"].as_bool().unwrap();
            assert_eq!(
                csv.get(row, "secret"),
                Some(if secret { "true" } else { "false" })
            );
            for (api_key, column) in [
                ("valeur", "valeur"),
                ("numerateur", "numerateur"),
                ("denominateur", "denominateur"),
                ("personnes", "personnes"),
                ("ic95_bas", "ic95_bas"),
                ("ic95_haut", "ic95_haut"),
                ("q1", "q1"),
                ("q3", "q3"),
                ("moyenne", "moyenne"),
            ] {
                let a = cell[api_key].as_f64();
                let e = csv.number(row, column);
                match (a, e) {
                    (Some(a), Some(e)) => assert!(
                        (a - e).abs() <= 1e-12 * a.abs().max(1.0),
                        "{id} {code} {column}: API {a} ≠ export {e}"
                    ),
                    (a, e) => assert_eq!(a, e, "{id} {code} {column}"),
                }
            }
            compared += 1;
        }
    }
    assert!(compared > 30, "{compared} cases comparées");
}

/// The (level, code) of each row of `t`, in the table's order.
fn places(t: &Table) -> Vec<(String, String)> {
    t.rows
        .iter()
        .map(|r| {
            (
                t.get(r, "niveau").unwrap().to_string(),
                t.get(r, "code").unwrap().to_string(),
            )
        })
        .collect()
}

/// Issue #6: the filters keep what the pages keep; secrecy holds in every format of a filtered
/// table too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_levels_months_and_breakdowns() {
    let s = serve().await;
    let reg = register();
    let ids = fixture::territories(&reg);
    // A wave: its territories, the wave and the nation.
    let t = read_csv(
        &data(&s, "/exports/indicateurs.csv?vague=ami1-2021")
            .await
            .bytes,
    );
    let mut want: BTreeSet<(String, String)> = BTreeSet::from([
        ("national".into(), "national".into()),
        ("vague".into(), "ami1-2021".into()),
    ]);
    for id in ids
        .iter()
        .filter(|id| reg.get(id).unwrap().vague == Wave::Ami1_2021)
    {
        want.insert(("territoire".into(), id.clone()));
    }
    let got: BTreeSet<(String, String)> = places(&t).into_iter().collect();
    assert_eq!(got, want);
    // A territory: itself, its wave and the nation, in this order.
    let ta = &ids[0];
    let wave = reg.get(ta).unwrap().vague.code();
    let one = read_csv(
        &data(
            &s,
            &format!("/exports/indicateurs.csv?territoire={ta}&indicateur=entrants"),
        )
        .await
        .bytes,
    );
    let mut order = places(&one);
    order.dedup();
    assert_eq!(
        order,
        vec![
            ("national".into(), "national".into()),
            ("vague".into(), wave.to_string()),
            ("territoire".into(), ta.clone()),
        ]
    );
    // A month.
    let mois = one
        .get(&one.rows[one.rows.len() / 2], "mois")
        .unwrap()
        .to_string();
    let m = read_csv(
        &data(&s, &format!("/exports/indicateurs.csv?mois={mois}"))
            .await
            .bytes,
    );
    assert!(!m.rows.is_empty());
    assert!(
        m.rows
            .iter()
            .all(|r| m.get(r, "mois") == Some(mois.as_str()))
    );
    // A breakdown, in every format: its cells only, secret ones empty.
    let path = "indicateurs.{}?indicateur=part_france_travail&ventilation=orientation";
    for ext in ["csv", "xlsx", "parquet"] {
        let bytes = data(&s, &format!("/exports/{}", path.replace("{}", ext)))
            .await
            .bytes;
        let b = match ext {
            "csv" => read_csv(&bytes),
            "xlsx" => read_xlsx(&bytes),
            _ => read_parquet(&bytes),
        };
        assert!(!b.rows.is_empty());
        assert!(
            b.rows
                .iter()
                .all(|r| b.get(r, "ventilation") == Some("orientation"))
        );
        check_secrecy(&b, ext);
    }
    // The before / after breakdown only when asked, at the wave level.
    let r = read_csv(
        &data(
            &s,
            &format!("/exports/indicateurs.csv?indicateur=orientes_30j&ventilation={RELATIF}"),
        )
        .await
        .bytes,
    );
    assert!(!r.rows.is_empty());
    assert!(r.rows.iter().all(|x| r.get(x, "niveau") == Some("vague")));
    // The forms of the page redirect to the file, empty fields left out.
    for (form, file) in [
        (
            "/exports/indicateurs?indicateur=entrants&mois=&vague=&ventilation=&territoire=&format=xlsx".to_string(),
            "/exports/indicateurs.xlsx?indicateur=entrants".to_string(),
        ),
        (
            format!("/exports/microdonnees?table=personnes&projet=p1&territoire={ta}&vague="),
            format!("/exports/personnes.parquet?projet=p1&territoire={ta}"),
        ),
    ] {
        let d = fetch(&s, Role::National, &form).await;
        assert_eq!(d.status, StatusCode::SEE_OTHER, "{form}");
        assert_eq!(d.headers["location"].to_str().unwrap(), file, "{form}");
    }
}

/// Issue #6: the same export again gives the same bytes, also when rebuilt from scratch (the
/// exports folder emptied in between), in every format and for microdata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_export_gives_the_same_bytes_even_rebuilt() {
    let s = serve().await;
    let ta = fixture::territories(&register())[4].clone();
    let paths = [
        "/exports/indicateurs.csv?indicateur=orientes_30j".to_string(),
        "/exports/indicateurs.xlsx?vague=ami1-2021".to_string(),
        "/api/v1/exports/indicateurs.parquet".to_string(),
        format!("/exports/evenements.parquet?projet=reproductible&territoire={ta}"),
        "/exports/personnes.parquet?projet=reproductible".to_string(),
    ];
    let mut first = Vec::new();
    for p in &paths {
        first.push(data(&s, p).await);
    }
    let dir = s.state.settings().exports_dir.clone();
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 2 * paths.len());
    // Reused: the same file.
    for (p, f) in paths.iter().zip(&first) {
        assert_eq!(data(&s, p).await.bytes, f.bytes, "{p} réutilisé");
    }
    // Rebuilt: the same bytes.
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    for (p, f) in paths.iter().zip(&first) {
        let again = data(&s, p).await;
        assert_eq!(again.sha256(), f.sha256(), "{p} reconstruit");
        assert_eq!(again.bytes, f.bytes, "{p} reconstruit");
    }
    // Another server, another exports folder: the same bytes.
    let other = serve().await;
    assert_ne!(other.state.settings().exports_dir, dir);
    for (p, f) in paths.iter().zip(&first) {
        assert_eq!(data(&other, p).await.sha256(), f.sha256(), "{p} ailleurs");
    }
}
