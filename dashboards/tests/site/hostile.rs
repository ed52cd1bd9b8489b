//! Hostile input, faults and races (issue 13), on a real server: concurrent logins against the
//! lockout and the bound on password checks, long identifiers, accounts changed by the command
//! line while the server runs, redirections after login, security headers, exports.

use std::time::Duration;

use copil_dashboards::{Accounts, Role};
use reqwest::StatusCode;

use crate::access::{
    assert_answer, form, log_in, login_form, post_form, post_login, raw, set_cookie, submit_login,
};
use crate::fixture::{self, PASSWORD, serve, serve_with};

/// Fires `attempts` (password per attempt) at `login` all at once; returns each status.
async fn storm(base: &str, login: &str, passwords: &[&str]) -> Vec<StatusCode> {
    let mut forms = Vec::new();
    for _ in passwords {
        forms.push(login_form(base).await);
    }
    let posts = passwords
        .iter()
        .zip(&forms)
        .map(|(p, f)| submit_login(base, f, login, p, &[]));
    futures::future::join_all(posts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect()
}

/// Issue 13: 40 parallel attempts, the right password among them, once the login is locked:
/// none gets in. And from an unlocked start, the attempts are checked one at a time, so no
/// more than the allowed failures are ever answered before the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_parallel_logins_never_slip_past_the_lockout() {
    let s = serve().await;
    for _ in 0..5 {
        post_login(&s.base, "evaluation", "mauvais mot de passe").await;
    }
    let mut passwords = vec!["mauvais mot de passe"; 40];
    passwords[7] = PASSWORD;
    passwords[33] = PASSWORD;
    let statuses = storm(&s.base, "evaluation", &passwords).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert_eq!(s.state.sessions().len(), 0, "no session opened");

    // Unlocked start: 38 wrong and 2 right at once.
    let s = serve().await;
    let statuses = storm(&s.base, "evaluation", &passwords).await;
    let count = |code| statuses.iter().filter(|s| **s == code).count();
    let (opened, refused) = (
        count(StatusCode::SEE_OTHER),
        count(StatusCode::UNAUTHORIZED),
    );
    assert_eq!(
        opened + refused + count(StatusCode::TOO_MANY_REQUESTS),
        40,
        "{statuses:?}"
    );
    // Each success resets the count: at most 4 refusals before each lock or success.
    assert!(refused <= 4 * (opened + 1), "{statuses:?}");
    assert!(s.state.password_checks_peak() <= copil_dashboards::MAX_PASSWORD_CHECKS);
}

/// Issue 13: password checks beyond the bound wait, then get a 503 in French; the server
/// stays up and logs in afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_logins_beyond_the_bound_get_503() {
    let s = serve_with(|settings| {
        settings.max_password_checks = 1;
        settings.password_check_wait = Duration::ZERO;
    })
    .await;
    let mut forms = Vec::new();
    for _ in 0..24 {
        forms.push(login_form(&s.base).await);
    }
    // Distinct logins: no per-login wait, only the global bound.
    let logins: Vec<String> = (0..24).map(|i| format!("inconnu-{i}")).collect();
    let posts = forms
        .iter()
        .zip(&logins)
        .map(|(f, l)| submit_login(&s.base, f, l, "un mot de passe quelconque", &[]));
    let responses = futures::future::join_all(posts).await;
    let mut unavailable = 0;
    for r in responses {
        match r.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                unavailable += 1;
                assert_eq!(r.headers()["retry-after"], "5");
                let body = r.text().await.unwrap();
                assert!(body.contains("Trop de connexions en cours"), "{body}");
            }
            other => panic!("statut inattendu {other}"),
        }
    }
    assert!(unavailable > 0, "24 checks at once with one permit");
    assert_eq!(s.state.password_checks_peak(), 1);
    assert_eq!(
        post_login(&s.base, "pilotage", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

/// Issue 13: a typed identifier of any length is cut to 64 characters in the audit log, is
/// not remembered, and a login form larger than 16 KiB is refused before parsing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_long_identifiers_are_truncated_and_not_tracked() {
    let s = serve().await;
    let long = "a".repeat(12_000);
    let r = post_login(&s.base, &long, "peu importe").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(s.state.sessions().tracked_logins(), 0);
    let log = std::fs::read_to_string(&s.state.settings().audit_log).unwrap();
    assert!(log.len() < 1024, "{} octets", log.len());
    assert!(log.contains(&format!("{}…", "a".repeat(64))), "{log}");
    let huge = "a".repeat(64 * 1024);
    let f = login_form(&s.base).await;
    let r = submit_login(&s.base, &f, &huge, "x", &[]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let log = std::fs::read_to_string(&s.state.settings().audit_log).unwrap();
    assert!(log.len() < 1024, "{} octets", log.len());
}

/// Issue 13: `copil comptes desactiver` (the same library call) made while the server runs stays
/// in force: the server picks it up at once, and its next write (a token made on the account
/// page) keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_a_disable_from_the_command_line_is_not_undone() {
    let (s, own) = fixture::serve_own_accounts().await;
    let path = own.path().join("comptes.json");
    let eval = log_in(&s.base, "evaluation").await;
    let nat = log_in(&s.base, "pilotage").await;
    // The command line disables the evaluator.
    Accounts::open(&path)
        .unwrap()
        .disable("evaluation")
        .unwrap();
    // The server writes the file: a token for the national account.
    let r = nat.create_token("apres").await;
    assert_eq!(r.status(), StatusCode::OK);
    let on_disk = Accounts::open(&path).unwrap();
    assert!(!on_disk.get("evaluation").unwrap().actif, "still disabled");
    assert_eq!(on_disk.get("pilotage").unwrap().jetons.len(), 2);
    // And the server enforces it: session, token and password all refused.
    let r = eval.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = raw()
        .get(format!("{}/api/v1/national", s.base))
        .bearer_auth(fixture::token(Role::Evaluateur))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = post_login(&s.base, "evaluation", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r, "copil_session").is_none());
}

/// Issue 13: `suite` never leads to another site, and a newline in it is a normal answer, not
/// a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_hostile_suites_lead_home() {
    let s = serve().await;
    for suite in [
        "/%0A",
        "/%09/evil.example",
        "%2F%2Fevil.example",
        "/%0d%0aX:1",
    ] {
        let r = raw()
            .get(format!("{}/connexion?suite={suite}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{suite}");
        let html = r.text().await.unwrap();
        assert!(html.contains("name=\"suite\" value=\"/\""), "{suite}");
    }
    for suite in [
        "/\n",
        "/\t/evil.example",
        "/%09/evil.example",
        "/\\evil.example",
    ] {
        let f = login_form(&s.base).await;
        let r = submit_login(&s.base, &f, "pilotage", PASSWORD, &[("suite", suite)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{suite:?}");
        assert_eq!(r.headers()["location"], "/", "{suite:?}");
    }
    // Logged in, the login page redirects at once: still home.
    let nat = log_in(&s.base, "pilotage").await;
    let r = nat.get("/connexion?suite=/%0A").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
}

/// Issue 13: every response carries the security headers, and no page needs inline script
/// or style (the policy forbids both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_security_headers_on_every_response() {
    let s = serve().await;
    let nat = fixture::national();
    let id = copil_queries::Catalogue::builtin()
        .iter()
        .next()
        .unwrap()
        .id
        .clone();
    let ta = fixture::territories(&copil_warehouse::Register::builtin(
        &copil_warehouse::Departments::builtin(),
    ))[0]
        .clone();
    let anonymous = raw();
    let requests = [
        ("/connexion", &anonymous, "/connexion".to_string()),
        ("/ sans session", &anonymous, "/".to_string()),
        (
            "/api/v1/national sans jeton",
            &anonymous,
            "/api/v1/national".to_string(),
        ),
        (
            "/static/copil.css",
            &anonymous,
            "/static/copil.css".to_string(),
        ),
        ("/sante", &anonymous, "/sante".to_string()),
        ("/inexistant", &nat, "/inexistant".to_string()),
        ("/api/v1/national", &nat, "/api/v1/national".to_string()),
        (
            "/exports/indicateurs.csv",
            &nat,
            format!("/exports/indicateurs.csv?indicateur={id}"),
        ),
    ];
    for (what, client, path) in requests {
        let r = client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "script-src 'self'",
            "style-src 'self'",
        ] {
            assert!(csp.contains(part), "{what}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["x-frame-options"], "DENY", "{what}");
        assert_eq!(h["referrer-policy"], "same-origin", "{what}");
    }
    for path in [
        "/".to_string(),
        format!("/indicateurs/{id}"),
        format!("/territoires/{ta}"),
        format!("/territoires/{ta}/depots"),
        "/qualite".to_string(),
        "/exports".to_string(),
        "/methodologie".to_string(),
    ] {
        let html = fixture::get_text(&nat, format!("{}{path}", s.base)).await;
        assert!(
            html.contains("<svg") || !path.starts_with("/indicateurs"),
            "{path}"
        );
        for inline in [
            "<script",
            " style=\"",
            "<style",
            " onclick=",
            " onload=",
            "javascript:",
        ] {
            assert!(!html.contains(inline), "{path} contains {inline}");
        }
    }
}

/// Issue 13: cookies are `Secure` unless a deployment turns it off (the fixture does, on
/// plain HTTP).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_cookies_are_secure_by_default() {
    let settings = copil_dashboards::Settings::under(
        std::path::Path::new("donnees"),
        11,
        copil_dashboards::ExportKey([0; 32]),
    );
    assert!(settings.secure_cookies);
    assert_eq!(
        settings.max_password_checks,
        copil_dashboards::MAX_PASSWORD_CHECKS
    );
    let s = serve_with(|settings| settings.secure_cookies = true).await;
    let page = raw()
        .get(format!("{}/connexion", s.base))
        .send()
        .await
        .unwrap();
    assert!(
        set_cookie(&page, "copil_csrf")
            .unwrap()
            .contains("; Secure")
    );
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    // Plain HTTP (the fixture): no HSTS.
    let plain = serve().await;
    let page = raw()
        .get(format!("{}/connexion", plain.base))
        .send()
        .await
        .unwrap();
    assert!(page.headers().get("strict-transport-security").is_none());
}

/// A GET with `role`'s API token: status and body.
async fn get_as(base: &str, role: Role, path: &str) -> (StatusCode, String) {
    let r = raw()
        .get(format!("{base}{path}"))
        .bearer_auth(fixture::token(role))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Asserts that the evaluator's GET of `path` is refused (403) with `why` in the French text.
async fn refused_to_evaluator(base: &str, path: &str, why: &str) {
    let (status, body) = get_as(base, Role::Evaluateur, path).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    assert!(body.contains(why), "{path}: {body}");
}

/// Issue 13: an evaluator exports microdata only under a declared project naming it, during
/// its period and within its territories (403 in French otherwise); a national account is
/// not bound to projects. Projects are declared and closed on the admin page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_evaluators_export_only_for_their_projects() {
    let (s, own) =
        fixture::serve_own_secret("projets.json", |s, path| s.projects_file = path).await;
    let path = own.path().join("projets.json");
    let ids = fixture::territories(&copil_warehouse::Register::builtin(
        &copil_warehouse::Departments::builtin(),
    ));
    let (ta, tb) = (&ids[0], &ids[1]);
    // Undeclared: refused to the evaluator, with what to do; the national team may.
    for p in [
        format!("/exports/personnes.parquet?projet=clandestin&territoire={ta}"),
        format!("/api/v1/exports/evenements.parquet?projet=clandestin&territoire={ta}"),
        format!("/exports/personnes.parquet.manifeste.json?projet=clandestin&territoire={ta}"),
        format!("/exports/microdonnees?table=personnes&projet=clandestin&territoire={ta}"),
    ] {
        refused_to_evaluator(&s.base, &p, "pas déclaré").await;
    }
    let (status, _) = get_as(
        &s.base,
        Role::National,
        &format!("/exports/personnes.parquet?projet=clandestin&territoire={ta}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The administrator declares a project on one territory.
    let admin = log_in(&s.base, "administration").await;
    let declare = |nom: &'static str, evaluateurs: &'static str, fin: &'static str| {
        let body = form(&[
            ("csrf", &admin.csrf),
            ("action", "ajouter"),
            ("nom", nom),
            ("objet", "Évaluer les orientations"),
            ("evaluateurs", evaluateurs),
            ("territoires", ta),
            ("debut", "2025-01-01"),
            ("fin", fin),
        ]);
        post_form(&s.base, "/admin/projets", &admin.cookie, body)
    };
    let r = declare("orientations", "evaluation", "2025-12-31").await;
    assert_answer(r, StatusCode::OK, "orientations").await;
    let r = declare("orientations", "evaluation", "2025-12-31").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a name serves once");
    let r = declare("mauvais-role", "pilotage", "2025-12-31").await;
    assert_answer(r, StatusCode::BAD_REQUEST, "evaluateur").await;
    let r = declare("passe", "evaluation", "2025-03-31").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Its territory: yes; another, or its period over: no.
    let ok = format!("/exports/personnes.parquet?projet=orientations&territoire={ta}");
    let (status, body) = get_as(&s.base, Role::Evaluateur, &ok).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    refused_to_evaluator(
        &s.base,
        &format!("/exports/personnes.parquet?projet=orientations&territoire={tb}"),
        "n'est pas couvert",
    )
    .await;
    refused_to_evaluator(
        &s.base,
        &format!("/exports/personnes.parquet?projet=passe&territoire={ta}"),
        "pas ouvert",
    )
    .await;
    // Without a territory filter, the export covers the project's territories only.
    let (status, manifest) = get_as(
        &s.base,
        Role::Evaluateur,
        "/exports/evenements.parquet.manifeste.json?projet=orientations",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["filtres"]["perimetre_projet"], serde_json::json!([ta]));
    // Closed (by the command line's library call): refused at once.
    copil_dashboards::Projects::open(&path)
        .unwrap()
        .close("orientations")
        .unwrap();
    let (status, _) = get_as(&s.base, Role::Evaluateur, &ok).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Only an administrator declares.
    let nat = log_in(&s.base, "pilotage").await;
    let r = nat
        .post("/admin/projets", &[("action", "clore"), ("nom", "p")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let entries = s.state.audit().entries();
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "projet" && e["details"]["nom"] == "orientations")
    );
}

/// Issue 13: the exports page, the data dictionary and the manifest say what per-project
/// pseudonyms protect and what they do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_the_limits_of_project_pseudonyms_are_said() {
    let s = serve().await;
    let (status, page) = get_as(&s.base, Role::Evaluateur, "/exports").await;
    assert_eq!(status, StatusCode::OK);
    for said in [
        "Ce que ces pseudonymes protègent",
        "Ce qu'ils ne protègent pas",
        "suite des événements",
    ] {
        assert!(page.contains(said), "{said}");
    }
    assert!(!page.contains("ne permettent de rapprocher deux projets"));
    // The evaluator picks among its declared projects.
    assert!(
        page.contains("<select name=\"projet\""),
        "a list of projects"
    );
    for p in fixture::PROJECTS {
        assert!(page.contains(&format!("<option value=\"{p}\"")), "{p}");
    }
    let (_, dictionary) = get_as(
        &s.base,
        Role::Evaluateur,
        "/exports/evenements.dictionnaire.csv",
    )
    .await;
    let person = dictionary
        .lines()
        .find(|l| l.starts_with("personne;"))
        .unwrap();
    assert!(person.contains("suite des événements"), "{person}");
    assert!(
        !person.contains("ne peuvent pas être rapprochés"),
        "{person}"
    );
    let (_, manifest) = get_as(
        &s.base,
        Role::Evaluateur,
        "/exports/personnes.parquet.manifeste.json?projet=dico&vague=ami1-2021",
    )
    .await;
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert!(
        m["pseudonymisation"]
            .as_str()
            .unwrap()
            .contains("suite des événements")
    );
}
