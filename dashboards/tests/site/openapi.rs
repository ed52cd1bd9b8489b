//! The OpenAPI document against the live server (issue 14): every documented operation is
//! routed, for its documented methods only, with the documented authentication; known API
//! routes are documented; the `/api` page lists the documented routes.

use std::collections::BTreeSet;

use copil_dashboards::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::access::raw;
use crate::fixture::{self, serve};

/// The body of the JSON 404 of an unrouted `/api/v1/…` path.
const UNROUTED: &str = "Route d'API inconnue";

/// `template` with each `{name}` replaced by a value that names nothing, so that handlers
/// answer (404, 403…) without changing anything.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "zz-inconnu.csv"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn document(base: &str) -> Value {
    let r = raw()
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Every documented (path, method), methods in lower case as in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert((path.clone(), method.clone()));
        }
    }
    operations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_the_openapi_document_and_the_served_api_routes_are_the_same() {
    let s = serve().await;
    let doc = document(&s.base).await;
    let documented = operations(&doc);
    // A handful of routes known to be served (the document cannot lose them).
    for (path, method) in [
        ("/api/v1/national", "get"),
        ("/api/v1/indicateurs/{id}", "get"),
        ("/api/v1/qualite", "get"),
        ("/api/v1/territoires/{id}/depots/{fichier}", "put"),
        (
            "/api/v1/depots-en-attente/{territoire}/{fichier}/liberer",
            "post",
        ),
        ("/api/v1/exports/{fichier}", "get"),
        ("/api/openapi.json", "get"),
    ] {
        assert!(
            documented.contains(&(path.to_string(), method.to_string())),
            "{method} {path} servie mais absente de /api/openapi.json"
        );
    }
    let token = fixture::token(Role::National);
    let mut failures = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let url = format!("{}{}", s.base, concrete(path));
        for method in [
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::PATCH,
        ] {
            let op = item.get(method.as_str().to_lowercase());
            let r = raw()
                .request(method.clone(), &url)
                .bearer_auth(&token)
                .body("x")
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body.contains(UNROUTED));
            let Some(op) = op else {
                // Served for a method the document does not give?
                if !unrouted {
                    failures.push(format!("{method} {path}: {status}, non documentée"));
                }
                continue;
            };
            if unrouted {
                failures.push(format!(
                    "{method} {path}: documentée, non servie ({status})"
                ));
            }
            // The documented authentication is the served one.
            let anonymous = raw()
                .request(method.clone(), &url)
                .body("x")
                .send()
                .await
                .unwrap()
                .status();
            let public = op["security"] == json!([]);
            if public == (anonymous == StatusCode::UNAUTHORIZED) {
                failures.push(format!(
                    "{method} {path}: sans compte {anonymous}, documentée publique : {public}"
                ));
            }
            if !public && op["responses"].get("401").is_none() {
                failures.push(format!("{method} {path}: 401 non documentée"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // An undocumented path under /api/v1 is not served.
    let r = raw()
        .get(format!("{}/api/v1/nulle-part", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains(UNROUTED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_the_api_page_lists_the_documented_routes() {
    let s = serve().await;
    let doc = document(&s.base).await;
    let page = fixture::get_text(&fixture::national(), format!("{}/api", s.base)).await;
    for (path, method) in operations(&doc) {
        if path.starts_with("/api/v1/") {
            let line = format!("{} {path}", method.to_uppercase());
            assert!(page.contains(&line), "{line} absente de /api");
            let summary = doc["paths"][&path][&method]["summary"].as_str().unwrap();
            let escaped = summary.replace('\'', "&#39;");
            assert!(
                page.contains(summary) || page.contains(&escaped),
                "{path}: résumé absent de /api"
            );
        }
    }
}
