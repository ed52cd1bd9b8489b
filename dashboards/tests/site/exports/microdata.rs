//! Microdata: per-project pseudonyms, counts equal to the warehouse's; the XLSX row limit.

use super::*;

/// The warehouse's pseudonyms and row counts by territory, read directly.
async fn warehouse_table(table: &str) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let w = Warehouse::open(fixture::dir().join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let ctx = SessionContext::new();
    w.register(&ctx).await.unwrap();
    let batches = ctx
        .sql(&format!("SELECT territoire, personne FROM {table}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let (mut counts, mut people) = (BTreeMap::new(), BTreeSet::new());
    for b in &batches {
        for (t, p) in texts(b, "territoire").into_iter().zip(texts(b, "personne")) {
            *counts.entry(t.unwrap()).or_insert(0) += 1;
            people.insert(p.unwrap());
        }
    }
    (counts, people)
}

/// Issue #6: microdata pseudonyms are the project's (HMAC of the warehouse pseudonym under the
/// project key), disjoint between two projects and from the warehouse's; rows are ordered by
/// them within each territory, in register order; the row counts are the warehouse's; the
/// drop's line number is not exported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microdata_pseudonyms_are_per_project_and_counts_match_the_warehouse() {
    let s = serve().await;
    let reg = register();
    let order: Vec<String> = reg.iter().map(|t| t.id.clone()).collect();
    let mut by_project: BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for table in ["personnes", "evenements"] {
        let (counts, warehouse_people) = warehouse_table(table).await;
        for projet in ["alpha", "beta"] {
            let d = data(&s, &format!("/exports/{table}.parquet?projet={projet}")).await;
            let batches = parquet_batches(&d.bytes);
            let schema = batches[0].schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(names[..2], ["territoire", "personne"]);
            assert!(!names.contains(&"ligne"), "{table}: {names:?}");
            let mut rows: Vec<(String, String)> = Vec::new();
            for b in &batches {
                for (t, p) in texts(b, "territoire").into_iter().zip(texts(b, "personne")) {
                    rows.push((t.unwrap(), p.unwrap()));
                }
            }
            // Counts by territory: the warehouse's.
            let mut got: BTreeMap<String, usize> = BTreeMap::new();
            for (t, _) in &rows {
                *got.entry(t.clone()).or_insert(0) += 1;
            }
            assert_eq!(got, counts, "{table} {projet}");
            // Territories in register order, pseudonyms sorted within each.
            let rank = |t: &str| order.iter().position(|x| x == t).unwrap();
            assert!(
                rows.windows(2)
                    .all(|w| (rank(&w[0].0), &w[0].1) <= (rank(&w[1].0), &w[1].1)),
                "{table} {projet}: ordre"
            );
            let people: BTreeSet<String> = rows.into_iter().map(|(_, p)| p).collect();
            assert!(
                people.is_disjoint(&warehouse_people),
                "{table}: pseudonymes de l'entrepôt"
            );
            // Exactly the project's pseudonyms of the warehouse's people.
            let key = project_key(&[7; 32], projet);
            let expected: BTreeSet<String> = warehouse_people
                .iter()
                .map(|p| export_pseudonym(&key, p))
                .collect();
            assert_eq!(people, expected, "{table} {projet}");
            // The manifest names the project and the table's version.
            let m = fetch(
                &s,
                Role::Evaluateur,
                &format!("/exports/{table}.parquet.manifeste.json?projet={projet}"),
            )
            .await
            .json();
            assert_eq!(m["projet"], projet);
            assert_eq!(m["sha256"], d.sha256());
            assert_eq!(m["lignes"], counts.values().sum::<usize>());
            assert!(
                m["versions"][format!("version_table_{table}")].is_u64(),
                "{m}"
            );
            by_project.entry(projet).or_default().insert(table, people);
        }
    }
    let (a, b) = (&by_project["alpha"], &by_project["beta"]);
    assert!(
        a["personnes"].is_disjoint(&b["personnes"]),
        "deux projets, aucun pseudonyme commun"
    );
    assert!(a["evenements"].is_disjoint(&b["evenements"]));
    // Within a project, events and people share pseudonyms.
    assert!(a["evenements"].is_subset(&a["personnes"]));
    // A territory filter keeps that territory's rows.
    let ta = fixture::territories(&reg)[2].clone();
    let (counts, _) = warehouse_table("evenements").await;
    let d = data(
        &s,
        &format!("/api/v1/exports/evenements.parquet?projet=alpha&territoire={ta}"),
    )
    .await;
    let n: usize = parquet_batches(&d.bytes)
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(n, counts[&ta]);
}

/// Issue #6: an XLSX beyond the row limit is refused before anything is written, with a
/// French message giving the count, the limit and what to do; CSV and Parquet have no limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_xlsx_row_limit_answers_a_clear_4xx() {
    let s = serve_with(|settings| settings.xlsx_max_rows = 10).await;
    let d = fetch(&s, Role::Evaluateur, "/api/v1/exports/indicateurs.xlsx")
        .await
        .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = d.json()["erreur"].as_str().unwrap().to_string();
    for word in ["10 lignes", "Filtrez", "CSV", "Parquet"] {
        assert!(message.contains(word), "{word} : {message}");
    }
    let page = fetch(
        &s,
        Role::National,
        "/exports/indicateurs.xlsx?vague=ami2-2021",
    )
    .await
    .expect_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text().contains("limite de 10 lignes"),
        "{}",
        page.text()
    );
    let built: Vec<_> = std::fs::read_dir(&s.state.settings().exports_dir)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(built.is_empty(), "rien d'écrit : {built:?}");
    // A small table passes; CSV and Parquet have no limit.
    let ta = fixture::territories(&register())[0].clone();
    let entrants = read_csv(
        &data(&s, "/exports/indicateurs.csv?indicateur=entrants")
            .await
            .bytes,
    );
    let mois = entrants.get(&entrants.rows[0], "mois").unwrap().to_string();
    let small = data(
        &s,
        &format!("/exports/indicateurs.xlsx?indicateur=entrants&territoire={ta}&mois={mois}"),
    )
    .await;
    assert!(read_xlsx(&small.bytes).rows.len() <= 10);
    data(&s, "/exports/indicateurs.csv").await;
    data(&s, "/exports/indicateurs.parquet").await;
}
