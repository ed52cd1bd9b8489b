//! Every page and API route over real HTTP, with bad parameters answered in French (400 / 404,
//! never 500), version headers and CSV downloads of exactly what the charts show.

use copil_queries::{Catalogue, Niveau};
use copil_warehouse::Departments;
use reqwest::StatusCode;
use serde_json::Value;

use crate::fixture::{self, serve};

pub(crate) async fn get(url: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = fixture::national().get(url).send().await.unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.text().await.unwrap())
}

/// Equal up to JSON's decimal round trip.
fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{what}: {a} ≠ {b}"
        ),
        (a, b) => assert_eq!(a, b, "{what}"),
    }
}

fn pages(catalogue: &Catalogue, territories: &[String]) -> Vec<String> {
    let mut p: Vec<String> = [
        "/",
        "/indicateurs",
        "/territoires",
        "/qualite",
        "/methodologie",
        "/api",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    p.extend(catalogue.iter().map(|i| format!("/indicateurs/{}", i.id)));
    p.extend(territories.iter().map(|t| format!("/territoires/{t}")));
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_in_french_with_its_provenance() {
    let s = serve().await;
    let register = fixture::register(&Departments::builtin());
    let ids = fixture::territories(&register);
    for path in pages(&Catalogue::builtin(), &ids) {
        let (status, headers, body) = get(&format!("{}{path}", s.base)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(body.contains("<html lang=\"fr\">"), "{path}");
        if path != "/api" {
            assert!(
                body.contains("Données au 30/06/2025"),
                "{path}: pas de « données au »"
            );
            assert!(
                body.contains("moins de <strong>11</strong> personnes"),
                "{path}: pas de seuil"
            );
        }
        for attr in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "src=\"//",
            "href=\"//",
        ] {
            assert!(!body.contains(attr), "{path}: ressource externe ({attr})");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indicator_page_has_four_accessible_charts_with_their_data() {
    let s = serve().await;
    let (status, _, body) = get(&format!("{}/indicateurs/orientes_30j", s.base)).await;
    assert_eq!(status, StatusCode::OK);
    // Each chart twice: the wide drawing and the phone's (issue 15), the stylesheet shows one.
    assert_eq!(body.matches("role=\"img\"").count(), 2 * 4);
    assert_eq!(body.matches("class=\"graphique-etroit\"").count(), 4);
    assert_eq!(
        body.matches("<title id=\"graphique-").count(),
        2 * 4,
        "one title per chart drawing"
    );
    // Each mark names its territory (or month) and value on hover (issue 15).
    assert!(body.matches("fill=\"transparent\"><title>").count() > 4 * 12);
    assert_eq!(body.matches("<desc").count(), 2 * 4);
    for csv in [
        "classement.csv",
        "carte.csv",
        "evolution.csv",
        "avant-apres.csv",
    ] {
        assert!(
            body.contains(&format!("/indicateurs/orientes_30j/{csv}")),
            "{csv}"
        );
    }
}

/// Bad paths and parameters: the status and a piece of the French message.
#[rustfmt::skip]
const BAD_PARAMETERS: [(&str, u16, &str); 14] = [
    ("/indicateurs/inconnu", 404, "Indicateur inconnu"),
    ("/territoires/dep-999", 404, "Territoire inconnu"),
    ("/indicateurs/orientes_30j?mois=juin", 400, "AAAA-MM"),
    ("/indicateurs/orientes_30j?mois=2024-13", 400, "AAAA-MM"),
    ("/indicateurs/orientes_30j?mois=1990-01", 404, "mois disponibles"),
    ("/indicateurs/orientes_30j?vague=2030", 400, "Vague inconnue"),
    ("/indicateurs/orientes_30j?ventilation=couleur", 400, "Ventilation inconnue"),
    ("/indicateurs/orientes_30j/inconnu.csv", 404, "Fichier inconnu"),
    ("/indicateurs/orientes_30j/classement.csv?mois=x", 400, "AAAA-MM"),
    ("/nulle-part", 404, "n'existe pas"),
    ("/api/v1/indicateurs/inconnu", 404, "Indicateur inconnu"),
    ("/api/v1/territoires/dep-999", 404, "Territoire inconnu"),
    ("/api/v1/indicateurs/orientes_30j?mois=2024-6x", 400, "AAAA-MM"),
    ("/api/v1/nulle-part", 404, "openapi"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_get_a_french_400_or_404_never_a_500() {
    let s = serve().await;
    for (path, code, text) in BAD_PARAMETERS {
        let (status, headers, body) = get(&format!("{}{path}", s.base)).await;
        assert_eq!(status.as_u16(), code, "{path}: {body}");
        assert!(body.contains(text), "{path}: « {text} » absent de {body}");
        if path.starts_with("/api/") {
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["statut"], code, "{path}");
            assert!(
                headers[reqwest::header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_routes_are_documented_and_cached_by_warehouse_version() {
    let s = serve().await;
    let (status, _, doc) = get(&format!("{}/api/openapi.json", s.base)).await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    let routes = [
        ("/api/v1/national", "/api/v1/national"),
        ("/api/v1/indicateurs", "/api/v1/indicateurs"),
        (
            "/api/v1/indicateurs/{id}",
            "/api/v1/indicateurs/orientes_30j",
        ),
        ("/api/v1/territoires", "/api/v1/territoires"),
        ("/api/v1/territoires/{id}", "/api/v1/territoires/dep-44"),
        ("/api/v1/qualite", "/api/v1/qualite"),
    ];
    // Routes of details, uploads and exports (issue #6) and the document, documented too;
    // tested elsewhere.
    let scoped = [
        "/api/v1/territoires/{id}/depots",
        "/api/v1/territoires/{id}/rejets",
        "/api/v1/territoires/{id}/depots/{fichier}",
        "/api/v1/depots-en-attente/{territoire}/{fichier}/liberer",
        "/api/v1/exports/{fichier}",
        // The document itself, public (issue 14).
        "/api/openapi.json",
    ];
    for r in scoped {
        assert!(paths.iter().any(|p| *p == r), "{r} non documentée");
    }
    assert_eq!(
        paths.len(),
        routes.len() + scoped.len(),
        "documented: {paths:?}"
    );
    let results = s.state.results();
    for (documented, url) in routes {
        assert!(
            paths.iter().any(|p| *p == documented),
            "{documented} non documentée"
        );
        let (status, headers, body) = get(&format!("{}{url}", s.base)).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["version_indicateurs"], results.version, "{url}");
        assert_eq!(v["seuil_secret"], 11);
        let etag = headers[reqwest::header::ETAG].to_str().unwrap().to_string();
        assert!(etag.contains(&format!("i{}", results.version)), "{etag}");
        assert_eq!(headers[reqwest::header::CACHE_CONTROL], "private, no-cache");
        let again = fixture::national()
            .get(format!("{}{url}", s.base))
            .header(reqwest::header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_values_are_the_materialised_cells_and_secret_cells_carry_no_figure() {
    let s = serve().await;
    let results = s.state.results();
    let register = fixture::register(&Departments::builtin());
    let mut secret_seen = 0;
    for ind in Catalogue::builtin().iter() {
        let (status, _, body) = get(&format!("{}/api/v1/indicateurs/{}", s.base, ind.id)).await;
        assert_eq!(status, StatusCode::OK, "{}", ind.id);
        let v: Value = serde_json::from_str(&body).unwrap();
        let d = &v["donnees"];
        let mois = chrono::NaiveDate::parse_from_str(
            &format!("{}-01", d["mois"].as_str().unwrap()),
            "%Y-%m-%d",
        )
        .unwrap();
        let national = results
            .total(&ind.id, Niveau::National, "national", mois)
            .unwrap();
        assert_eq!(d["national"]["secret"], national.secret, "{}", ind.id);
        if !national.secret {
            close(d["national"]["valeur"].as_f64(), national.valeur, &ind.id);
        }
        for t in d["territoires"].as_array().unwrap() {
            let id = t["territoire"].as_str().unwrap();
            assert!(register.get(id).is_some());
            let cell = results.total(&ind.id, Niveau::Territoire, id, mois);
            match cell {
                None => assert!(t["valeur"].is_null(), "{id}"),
                Some(c) if c.secret => {
                    secret_seen += 1;
                    assert_eq!(t["valeur"]["secret"], true);
                    assert!(
                        t["valeur"]["valeur"].is_null(),
                        "{id}: valeur secrète publiée"
                    );
                    assert!(t["valeur"]["personnes"].is_null());
                    assert!(t["valeur"]["numerateur"].is_null());
                    assert_eq!(t["valeur"]["affiche"], "secret");
                    assert!(t["rang"].is_null(), "{id}: un secret est classé");
                }
                Some(c) => close(t["valeur"]["valeur"].as_f64(), c.valeur, id),
            }
        }
    }
    assert!(
        secret_seen > 0,
        "the fixture should hold secret territory cells"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_csv_downloads_hold_exactly_the_chart_rows() {
    let s = serve().await;
    let results = s.state.results();
    let r = fixture::national()
        .get(format!(
            "{}/indicateurs/orientes_30j/classement.csv",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "BOM for Excel");
    let csv = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        headers[reqwest::header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("orientes_30j-classement.csv")
    );
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "territoire");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let register = fixture::register(&Departments::builtin());
    assert_eq!(rows.len(), register.len(), "one row per territory");
    let ind = Catalogue::builtin();
    let ind = ind.get("orientes_30j").unwrap();
    let mois = results.latest_month(&ind.id, &register).unwrap();
    for row in &rows {
        let t = register.iter().find(|t| t.nom == row[0]).unwrap();
        match results.total(&ind.id, Niveau::Territoire, &t.id, mois) {
            None => assert_eq!(&row[2], "pas de données"),
            Some(c) if c.secret => {
                assert_eq!(&row[2], "secret");
                assert!(row[3].is_empty() && row[4].is_empty() && row[5].is_empty());
            }
            // A complete month with nobody in the denominator: written, without a share.
            Some(c) if c.valeur.is_none() => {
                assert!(row[2].replace(',', ".").parse::<f64>().is_err(), "{row:?}");
            }
            Some(c) => {
                let shown: f64 = row[2].replace(',', ".").parse().unwrap();
                assert!(
                    (shown - c.valeur.unwrap() * 100.0).abs() < 0.051,
                    "{}",
                    t.id
                );
            }
        }
    }
    for file in ["carte.csv", "evolution.csv", "avant-apres.csv"] {
        let (status, _, body) = get(&format!(
            "{}/indicateurs/orientes_30j/{file}?vague=ami1-2021",
            s.base
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(body.lines().count() > 1, "{file}");
    }
    let (_, _, map) = get(&format!("{}/indicateurs/orientes_30j/carte.csv", s.base)).await;
    assert_eq!(map.lines().count(), 1 + 101, "one row per département");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_live_in_the_url() {
    let s = serve().await;
    let results = s.state.results();
    let months = results.months("beneficiaires_dd");
    let earlier = months[months.len() - 6];
    let url = format!(
        "{}/indicateurs/beneficiaires_dd?mois={}&vague=experimentation-2020&territoire=dep-44",
        s.base,
        earlier.format("%Y-%m")
    );
    let (status, _, body) = get(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&format!("value=\"{}\" selected", earlier.format("%Y-%m"))));
    assert!(body.contains("value=\"experimentation-2020\" selected"));
    assert!(body.contains("value=\"dep-44\" selected"));
    // The highlighted territory is drawn in the accent colour, and only with the filter.
    let plain = get(&format!(
        "{}/indicateurs/beneficiaires_dd?mois={}&vague=experimentation-2020",
        s.base,
        earlier.format("%Y-%m")
    ))
    .await
    .2;
    assert!(body.contains("#8E3A8A") && !plain.contains("#8E3A8A"));
    assert!(body.contains(&format!(
        "/indicateurs/beneficiaires_dd/classement.csv?mois={}&amp;vague=experimentation-2020&amp;territoire=dep-44",
        earlier.format("%Y-%m")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_warehouse_version_is_served_after_a_reload_with_a_new_etag() {
    let s = serve().await;
    let url = format!("{}/api/v1/national", s.base);
    let (_, before, _) = get(&url).await;
    let old = s.state.results().version;
    assert!(!s.state.reload().await.unwrap(), "nothing changed yet");
    // A refresh commits a new version of `indicateurs` (what a scheduled ingestion does).
    let warehouse =
        copil_warehouse::Warehouse::open(fixture::dir().join("entrepot").to_str().unwrap())
            .await
            .unwrap();
    let register = fixture::register(&Departments::builtin());
    copil_queries::refresh(
        &warehouse,
        &Catalogue::builtin(),
        &register,
        &copil_queries::Rules::default(),
        &copil_warehouse::FixedClock::at_date(fixture::today()),
        copil_queries::Scope::Changed,
    )
    .await
    .unwrap();
    assert!(s.state.reload().await.unwrap());
    assert!(s.state.results().version > old);
    let (status, after, body) = get(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(before[reqwest::header::ETAG], after[reqwest::header::ETAG]);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["version_indicateurs"], s.state.results().version);
}
