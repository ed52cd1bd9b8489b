//! Accounts, sessions and scoping (issue #6): every route with every role and with no session,
//! login, session cookie, CSRF, lockout, logout, API tokens, disabled accounts, and uploads.
//! Here: the helpers of a browser session, and each role's rights on each route.

mod login;
mod uploads;

use copil_dashboards::Role;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::fixture::{self, PASSWORD, serve, serve_copy, serve_with};

/// A client that follows no redirection and sends no credential.
pub(crate) fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of cookie `name` set by a response.
pub(crate) fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub(crate) fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string()
}

/// The first `name="csrf" value="…"` of a page.
pub(crate) fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("champ csrf") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// Posts an urlencoded form `body` to `path` with the session cookie `cookie`.
pub(crate) async fn post_form(
    base: &str,
    path: &str,
    cookie: &str,
    body: String,
) -> reqwest::Response {
    raw()
        .post(format!("{base}{path}"))
        .header(COOKIE, cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// A browser-like session on the server at `base`: its cookie header and its CSRF token.
pub(crate) struct Session {
    pub(crate) base: String,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

impl Session {
    /// A GET of `path` in this session.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        get_with_cookie(format!("{}{path}", self.base), &self.cookie).await
    }

    /// The body of a GET of `path` in this session.
    pub(crate) async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts the form `fields` to `path` in this session, its CSRF token first.
    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        post_form(&self.base, path, &self.cookie, form(&all)).await
    }

    /// Makes an API token named `name` on the account page (the page shows it once).
    pub(crate) async fn create_token(&self, name: &str) -> reqwest::Response {
        self.post("/compte/jetons", &[("action", "creer"), ("nom", name)])
            .await
    }
}

/// A login form fetched in advance: its CSRF cookie and token.
pub(crate) async fn login_form(base: &str) -> (String, String) {
    let page = raw().get(format!("{base}/connexion")).send().await.unwrap();
    let cookie = cookie_value(&set_cookie(&page, "copil_csrf").unwrap());
    (cookie, csrf_of(&page.text().await.unwrap()))
}

/// Posts a login form fetched in advance with `login`, `password` and the `more` fields.
pub(crate) async fn submit_login(
    base: &str,
    (cookie, csrf): &(String, String),
    login: &str,
    password: &str,
    more: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields = vec![
        ("identifiant", login),
        ("mot_de_passe", password),
        ("csrf", csrf.as_str()),
    ];
    fields.extend_from_slice(more);
    post_form(
        base,
        "/connexion",
        &format!("copil_csrf={cookie}"),
        form(&fields),
    )
    .await
}

/// Logs in from a fresh login form, back to `/compte`.
pub(crate) async fn post_login(base: &str, login: &str, password: &str) -> reqwest::Response {
    let f = login_form(base).await;
    submit_login(base, &f, login, password, &[("suite", "/compte")]).await
}

/// Asserts that `r` has the `status` and that its body holds `text`.
pub(crate) async fn assert_answer(r: reqwest::Response, status: StatusCode, text: &str) {
    assert_eq!(r.status(), status);
    let body = r.text().await.unwrap();
    assert!(body.contains(text), "« {text} » absent de {body}");
}

/// A GET of `url` by a browser holding the session `cookie`.
pub(crate) async fn get_with_cookie(url: String, cookie: &str) -> reqwest::Response {
    raw().get(url).header(COOKIE, cookie).send().await.unwrap()
}

pub(crate) async fn log_in(base: &str, login: &str) -> Session {
    let r = post_login(base, login, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "connexion de {login}");
    let cookie = format!(
        "copil_session={}",
        cookie_value(&set_cookie(&r, "copil_session").unwrap())
    );
    let page = get_with_cookie(format!("{base}/compte"), &cookie).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_of(&page.text().await.unwrap());
    let base = base.to_string();
    Session { base, cookie, csrf }
}

/// Expected status per caller: no session, national, territoire-a, evaluateur, admin.
type Expected = [u16; 5];

const ALL_OK: Expected = [303, 200, 200, 200, 200];
const DETAILS: Expected = [303, 200, 200, 403, 403];
const OTHER_DETAILS: Expected = [303, 200, 404, 403, 403];
const EXPORTS: Expected = [303, 200, 403, 200, 403];
const ADMIN: Expected = [303, 403, 403, 403, 200];
const API_ALL: Expected = [401, 200, 200, 200, 200];
const API_DETAILS: Expected = [401, 200, 200, 403, 403];
const API_OTHER: Expected = [401, 200, 404, 403, 403];
const API_EXPORTS: Expected = [401, 200, 403, 200, 403];

/// Every route and export, and who may read it: `{ta}` and `{tb}` stand for the fixture's first
/// two territories.
#[rustfmt::skip]
const ROUTES: [(&str, Expected); 28] = [
    ("/", ALL_OK),
    ("/indicateurs", ALL_OK),
    ("/indicateurs/orientes_30j", ALL_OK),
    ("/indicateurs/orientes_30j/classement.csv", ALL_OK),
    ("/territoires", ALL_OK),
    ("/territoires/{ta}", ALL_OK),
    ("/territoires/{tb}", ALL_OK),
    ("/methodologie", ALL_OK),
    ("/api", ALL_OK),
    ("/compte", ALL_OK),
    ("/qualite", DETAILS),
    ("/territoires/{ta}/depots", DETAILS),
    ("/territoires/{ta}/rejets.csv", DETAILS),
    ("/territoires/{tb}/depots", OTHER_DETAILS),
    ("/territoires/{tb}/rejets.csv", OTHER_DETAILS),
    ("/exports", EXPORTS),
    ("/exports/indicateurs.csv?indicateur=orientes_30j", EXPORTS),
    ("/exports/indicateurs.dictionnaire.csv", EXPORTS),
    ("/admin/comptes", ADMIN),
    ("/api/v1/national", API_ALL),
    ("/api/v1/indicateurs/orientes_30j", API_ALL),
    ("/api/v1/territoires/{tb}", API_ALL),
    ("/api/v1/qualite", API_DETAILS),
    ("/api/v1/territoires/{ta}/depots", API_DETAILS),
    ("/api/v1/territoires/{ta}/rejets", API_DETAILS),
    ("/api/v1/territoires/{tb}/depots", API_OTHER),
    ("/api/v1/territoires/{tb}/rejets", API_OTHER),
    ("/api/v1/exports/indicateurs.csv?indicateur=orientes_30j", API_EXPORTS),
];

/// The "Done when": every route and export, with every role and with no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_its_rights_say() {
    let s = serve().await;
    let ids = fixture::territory_ids();
    let (ta, tb) = (&ids[0], &ids[1]);
    let callers: [Option<Role>; 5] = [
        None,
        Some(Role::National),
        Some(Role::Territoire),
        Some(Role::Evaluateur),
        Some(Role::Admin),
    ];
    let mut failures = Vec::new();
    for (route, expected) in &ROUTES {
        let path = route.replace("{ta}", ta).replace("{tb}", tb);
        for (caller, want) in callers.iter().zip(expected) {
            let mut req = raw().get(format!("{}{path}", s.base));
            if let Some(role) = caller {
                req = req.bearer_auth(fixture::token(*role));
            }
            let r = req.send().await.unwrap();
            if r.status().as_u16() != *want {
                failures.push(format!("{path} {caller:?}: {} ≠ {want}", r.status()));
            }
            if *want == 303 {
                let to = r.headers()[LOCATION].to_str().unwrap();
                assert!(to.starts_with("/connexion?suite="), "{path}: {to}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Public routes answer without a session.
    for path in [
        "/connexion",
        "/sante",
        "/api/openapi.json",
        "/static/copil.css",
    ] {
        let r = raw().get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    // A wrong token is no token.
    let r = raw()
        .get(format!("{}/api/v1/national", s.base))
        .bearer_auth("copil_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

/// Scoping is in the content too: a territory account's quality data holds its own territory
/// only, and another territory's page shows its published indicators but not its drops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_territory_account_reads_only_its_own_details() {
    let s = serve().await;
    let register = fixture::builtin_register();
    let ids = fixture::territories(&register);
    let (ta, tb) = (&ids[0], &ids[1]);
    let t = fixture::client(Role::Territoire);
    let q: Value = fixture::get_json(&t, format!("{}/api/v1/qualite", s.base)).await;
    let rows = q["donnees"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{q}");
    assert_eq!(rows[0]["territoire"], ta.as_str());
    let n: Value =
        fixture::get_json(&fixture::national(), format!("{}/api/v1/qualite", s.base)).await;
    assert_eq!(n["donnees"].as_array().unwrap().len(), register.len());
    let page = fixture::get_text(&t, format!("{}/qualite", s.base)).await;
    assert!(page.contains(&format!("/territoires/{ta}\"")));
    assert!(!page.contains(&format!("/territoires/{tb}\"")));
    let other = fixture::get_text(&t, format!("{}/territoires/{tb}", s.base)).await;
    assert!(other.contains("Indicateurs"));
    assert!(
        !other.contains("Dépôts traités"),
        "no drops of another territory"
    );
    let own = fixture::get_text(&t, format!("{}/territoires/{ta}", s.base)).await;
    assert!(own.contains("Dépôts traités"));
    // Its own rejects: line, column and reason, and the same rows in the CSV.
    let rejects: Value =
        fixture::get_json(&t, format!("{}/api/v1/territoires/{ta}/rejets", s.base)).await;
    let rejects = rejects["rejets"].as_array().unwrap();
    assert!(!rejects.is_empty(), "the generator breaks some rows");
    let csv = t
        .get(format!("{}/territoires/{ta}/rejets.csv", s.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(&csv[3..]);
    let lines: Vec<i64> = reader
        .records()
        .map(|r| r.unwrap()[1].parse().unwrap())
        .collect();
    let api_lines: Vec<i64> = rejects
        .iter()
        .map(|r| r["ligne"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, api_lines);
}
