//! Manifests, dictionaries, the audit log; the roles allowed and bad parameters.

use super::*;

/// Issue #6: the manifest's checksum is the downloaded file's, with the versions, filters,
/// rows, size and columns; the dictionaries describe every column; each data download writes
/// one `export` audit entry, each manifest (which builds the file, issue 13) one `manifeste`
/// entry, a dictionary none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_dictionaries_and_the_audit_log() {
    let s = serve().await;
    let ta = fixture::territories(&register())[0].clone();
    let audit = || {
        s.state
            .audit()
            .entries()
            .into_iter()
            .filter(|e| e["action"] == "export")
            .collect::<Vec<_>>()
    };
    let before = audit().len();
    let q = "?indicateur=taux_absenteisme&vague=experimentation-2020";
    let d = data(&s, &format!("/exports/indicateurs.csv{q}")).await;
    let m = fetch(
        &s,
        Role::Evaluateur,
        &format!("/exports/indicateurs.csv.manifeste.json{q}"),
    )
    .await
    .expect_status(StatusCode::OK)
    .json();
    let table = read_csv(&d.bytes);
    assert_eq!(m["sha256"], d.sha256());
    assert_eq!(m["octets"], d.bytes.len());
    assert_eq!(m["lignes"], table.rows.len());
    assert_eq!(m["fichier"], "indicateurs.csv");
    assert_eq!(m["filtres"]["indicateur"], "taux_absenteisme");
    assert_eq!(m["filtres"]["vague"], "experimentation-2020");
    assert_eq!(m["filtres"]["mois"], Value::Null);
    let results = s.state.results();
    assert_eq!(m["versions"]["version_indicateurs"], results.version);
    assert_eq!(
        m["versions"]["version_evenements"],
        results.version_evenements
    );
    assert_eq!(m["versions"]["version_depots"], results.version_depots);
    let columns: Vec<&str> = m["colonnes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["nom"].as_str().unwrap())
        .collect();
    assert_eq!(columns, table.header);
    let text = serde_json::to_string(&m).unwrap();
    assert!(
        !text.contains("horodatage")
            && !text.contains(&chrono::Utc::now().format("%Y-%m-%dT%H").to_string())
    );
    // The API serves the same manifest.
    let api = fetch(
        &s,
        Role::National,
        &format!("/api/v1/exports/indicateurs.csv.manifeste.json{q}"),
    )
    .await;
    assert_eq!(api.json(), m);

    // Dictionaries: one line per column, in French.
    for (name, header) in [
        ("indicateurs", table.header.clone()),
        (
            "evenements",
            read_parquet(
                &data(
                    &s,
                    &format!("/exports/evenements.parquet?projet=dico&territoire={ta}"),
                )
                .await
                .bytes,
            )
            .header,
        ),
        (
            "personnes",
            read_parquet(
                &data(&s, "/exports/personnes.parquet?projet=dico&vague=ami1-2021")
                    .await
                    .bytes,
            )
            .header,
        ),
    ] {
        let d = fetch(
            &s,
            Role::Evaluateur,
            &format!("/exports/{name}.dictionnaire.csv"),
        )
        .await
        .expect_status(StatusCode::OK);
        let dict = read_csv(&d.bytes);
        assert_eq!(dict.header, ["colonne", "type", "description"]);
        let listed: Vec<String> = dict.rows.iter().map(|r| r[0].clone().unwrap()).collect();
        assert_eq!(listed, header, "{name}");
        assert!(
            dict.rows
                .iter()
                .all(|r| r[2].as_ref().is_some_and(|d| d.len() > 10))
        );
        let text = d
            .text()
            .trim_start_matches('\u{feff}')
            .replace("\r\n", "\n");
        insta::assert_snapshot!(format!("dictionnaire_{name}"), text);
    }

    // One entry per data download: the CSV and the two microdata files.
    let entries = audit();
    assert_eq!(entries.len(), before + 3, "{entries:?}");
    let e = &entries[before];
    assert_eq!(e["compte"], fixture::login_of(Role::Evaluateur));
    assert_eq!(e["role"], "evaluateur");
    assert_eq!(e["details"]["export"], "indicateurs");
    assert_eq!(e["details"]["format"], "csv");
    assert_eq!(e["details"]["sha256"], d.sha256());
    assert_eq!(e["details"]["lignes"], table.rows.len());
    assert_eq!(e["details"]["filtres"]["indicateur"], "taux_absenteisme");
    assert_eq!(
        e["details"]["versions"]["version_indicateurs"],
        results.version
    );
    assert_eq!(entries[before + 1]["details"]["projet"], "dico");
    // The page explains secrecy, pseudonyms, dictionaries and manifests.
    let page = fetch(&s, Role::Evaluateur, "/exports")
        .await
        .expect_status(StatusCode::OK);
    let html = page.text();
    for word in [
        "secret",
        "Pseudonymes propres à chaque projet",
        "manifeste",
        "dictionnaire",
        "mêmes octets",
    ] {
        assert!(html.contains(word), "{word}");
    }
    assert_eq!(
        audit().len(),
        before + 3,
        "ni la page, ni un manifeste, ni un dictionnaire"
    );
    // Issue 13: the two manifests asked are audited, with the file they describe.
    let manifests: Vec<Value> = s
        .state
        .audit()
        .entries()
        .into_iter()
        .filter(|e| e["action"] == "manifeste")
        .collect();
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    assert_eq!(manifests[0]["compte"], fixture::login_of(Role::Evaluateur));
    assert_eq!(manifests[1]["compte"], fixture::login_of(Role::National));
    assert_eq!(manifests[0]["details"]["sha256"], d.sha256());
}

/// Issue #6: only `national` and `evaluateur` accounts export; bad parameters answer a French
/// 400 or 404 saying what to fix (JSON on the API), never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_bad_parameters() {
    let s = serve().await;
    for role in [Role::Territoire, Role::Admin] {
        for path in [
            "/exports",
            "/exports/indicateurs.csv",
            "/exports/indicateurs.csv.manifeste.json",
            "/exports/indicateurs.dictionnaire.csv",
            "/exports/evenements.parquet?projet=p",
            "/api/v1/exports/personnes.parquet?projet=p",
            "/api/v1/exports/indicateurs.parquet",
        ] {
            let d = fetch(&s, role, path).await;
            assert_eq!(d.status, StatusCode::FORBIDDEN, "{role:?} {path}");
        }
    }
    assert_eq!(
        fetch(&s, Role::Evaluateur, "/exports").await.status,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&s, Role::National, "/exports").await.status,
        StatusCode::OK
    );
    let cases: [(&str, StatusCode, &str); 11] = [
        ("inconnu.csv", StatusCode::NOT_FOUND, "Export inconnu"),
        ("evenements.csv?projet=p", StatusCode::NOT_FOUND, "Parquet"),
        (
            "evenements.parquet",
            StatusCode::BAD_REQUEST,
            "« projet » requis",
        ),
        (
            "personnes.parquet?projet=Mon%20Projet",
            StatusCode::BAD_REQUEST,
            "Nom de projet invalide",
        ),
        (
            "personnes.parquet?projet=p&territoire=nulle-part",
            StatusCode::BAD_REQUEST,
            "Territoire inconnu",
        ),
        (
            "indicateurs.csv?mois=2024-13",
            StatusCode::BAD_REQUEST,
            "AAAA-MM",
        ),
        (
            "indicateurs.csv?mois=1990-01",
            StatusCode::BAD_REQUEST,
            "mois disponibles",
        ),
        (
            "indicateurs.csv?indicateur=inconnu",
            StatusCode::BAD_REQUEST,
            "Indicateur inconnu",
        ),
        (
            "indicateurs.csv?ventilation=orientation",
            StatusCode::BAD_REQUEST,
            "demande un indicateur",
        ),
        (
            "indicateurs.csv?indicateur=entrants&ventilation=orientation",
            StatusCode::BAD_REQUEST,
            "Ventilation inconnue",
        ),
        (
            "indicateurs.parquet?pays=fr",
            StatusCode::BAD_REQUEST,
            "Paramètre inconnu : « pays »",
        ),
    ];
    for (path, status, words) in cases {
        let api = fetch(&s, Role::Evaluateur, &format!("/api/v1/exports/{path}")).await;
        assert_eq!(api.status, status, "{path}: {}", api.text());
        let message = api.json()["erreur"].as_str().unwrap().to_string();
        assert!(message.contains(words), "{path}: {message}");
        let page = fetch(&s, Role::Evaluateur, &format!("/exports/{path}")).await;
        assert_eq!(page.status, status, "{path}");
        assert!(page.text().contains("<html"), "{path}: page HTML");
    }
    // A territory outside the wave asked for.
    let reg = register();
    let ta = fixture::territories(&reg)[0].clone();
    let other = Wave::ALL
        .into_iter()
        .find(|w| *w != reg.get(&ta).unwrap().vague)
        .unwrap();
    let d = fetch(
        &s,
        Role::Evaluateur,
        &format!(
            "/api/v1/exports/indicateurs.csv?territoire={ta}&vague={}",
            other.code()
        ),
    )
    .await;
    assert_eq!(d.status, StatusCode::BAD_REQUEST);
    assert!(
        d.json()["erreur"]
            .as_str()
            .unwrap()
            .contains("appartient à la vague")
    );
}
