//! Logging in and out: the session cookie, CSRF, lockout, disabled accounts, API tokens.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_strict_session_cookie_and_logout_ends_it() {
    let s = serve().await;
    // The form needs its CSRF cookie.
    let r = raw()
        .post(format!("{}/connexion", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("identifiant", "pilotage"),
            ("mot_de_passe", PASSWORD),
            ("csrf", "forge"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&r, "copil_session").is_none());
    // A wrong password: 401, no session.
    let r = post_login(&s.base, "pilotage", "pas le bon mot de passe").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&r, "copil_session").is_none());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Identifiant ou mot de passe incorrect")
    );
    // The right one: a signed, HttpOnly, SameSite=Strict cookie, and back to `suite`.
    let r = post_login(&s.base, "pilotage", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/compte");
    let set = set_cookie(&r, "copil_session").unwrap();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP when turned off: {set}");
    let session = log_in(&s.base, "pilotage").await;
    let page = session.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("pilotage"));
    // A tampered cookie is no session.
    let mut forged = session.cookie.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    let r = get_with_cookie(format!("{}/", s.base), &forged).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Logout needs the CSRF token…
    let r = post_form(
        &s.base,
        "/deconnexion",
        &session.cookie,
        "csrf=mauvais".into(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // …and then ends the session for good.
    let r = session.post("/deconnexion", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookie(&r, "copil_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    let r = session.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Never sent elsewhere after login.
    let f = login_form(&s.base).await;
    let elsewhere = [("suite", "//ailleurs.example/piege")];
    let r = submit_login(&s.base, &f, "pilotage", PASSWORD, &elsewhere).await;
    assert_eq!(r.headers()[LOCATION], "/");
    // Behind HTTPS the cookie is Secure.
    let secure = serve_with(|s| s.secure_cookies = true).await;
    let r = post_login(&secure.base, "pilotage", PASSWORD).await;
    assert!(
        set_cookie(&r, "copil_session")
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_lock_the_login_and_no_password_is_logged() {
    let s = serve().await;
    for i in 1..=5 {
        let r = post_login(&s.base, "evaluation", "mauvais mot de passe").await;
        let want = if i < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status(), want, "attempt {i}");
    }
    // Locked: even the right password is refused, with the wait said in French.
    let r = post_login(&s.base, "evaluation", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&r, "copil_session").is_none());
    assert!(r.text().await.unwrap().contains("réessayez dans"));
    // Another login is not affected.
    let r = post_login(&s.base, "pilotage", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The audit log holds the attempts, never a password or a hash.
    let log = std::fs::read_to_string(&s.state.settings().audit_log).unwrap();
    assert!(log.contains("\"verrouillage\""));
    assert!(log.contains("\"echec_connexion\""));
    assert!(log.contains("\"connexion\""));
    for secret in [PASSWORD, "mauvais mot de passe", "$argon2"] {
        assert!(!log.contains(secret), "{secret} in the audit log");
    }
}

/// An administrator disables an account: its sessions and tokens stop at once. Tokens made on
/// the account page work and can be revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_accounts_and_revoked_tokens_lose_access() {
    let (s, own) = fixture::serve_own_accounts().await;
    let accounts = own.path().join("comptes.json");
    let eval = log_in(&s.base, "evaluation").await;
    // A token made on the account page, shown once.
    let r = eval.create_token("script").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let at = html.find("copil_").unwrap();
    let token = html[at..at + html[at..].find('<').unwrap()].to_string();
    let stored = std::fs::read_to_string(&accounts).unwrap();
    assert!(!stored.contains(&token), "only the token's digest is kept");
    // The status of a national API call with token `t`.
    let national = |t: &str| {
        let sent = raw()
            .get(format!("{}/api/v1/national", s.base))
            .bearer_auth(t)
            .send();
        async move { sent.await.unwrap().status() }
    };
    assert_eq!(national(&token).await, StatusCode::OK);
    // Without CSRF token, nothing is revoked.
    let revoke = [("action", "revoquer"), ("nom", "script")];
    let r = post_form(&s.base, "/compte/jetons", &eval.cookie, form(&revoke)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(national(&token).await, StatusCode::OK);
    let r = eval.post("/compte/jetons", &revoke).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(national(&token).await, StatusCode::UNAUTHORIZED);
    // The administrator disables the evaluator: session and fixture token both stop.
    let disable = |login| [("action", "desactiver"), ("identifiant", login)];
    let admin = log_in(&s.base, "administration").await;
    let r = admin.post("/admin/comptes", &disable("evaluation")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = eval.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        national(&fixture::token(Role::Evaluateur)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_login(&s.base, "evaluation", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A national account cannot administer.
    let nat = log_in(&s.base, "pilotage").await;
    let r = nat.post("/admin/comptes", &disable("administration")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// Issue 14: every form that changes something goes through one extractor that checks the
/// CSRF token first. Posted without a token or with a forged one, each is refused (403, the
/// French message) and changes nothing: the administrator's accounts stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_14_every_form_refuses_a_post_without_its_csrf_token() {
    let (s, own) = fixture::serve_own_accounts().await;
    let accounts = own.path().join("comptes.json");
    let before = std::fs::read_to_string(&accounts).unwrap();
    let admin = log_in(&s.base, "administration").await;
    let forms: [(&str, &[(&str, &str)]); 7] = [
        ("/compte/jetons", &[("action", "creer"), ("nom", "x")]),
        (
            "/compte/mot-de-passe",
            &[
                ("actuel", PASSWORD),
                ("nouveau", "n"),
                ("confirmation", "n"),
            ],
        ),
        (
            "/admin/comptes",
            &[("action", "desactiver"), ("identifiant", "pilotage")],
        ),
        ("/admin/projets", &[("action", "clore"), ("nom", "p")]),
        (
            "/admin/demandes",
            &[("action", "refuser"), ("email", "a@b.fr")],
        ),
        (
            "/qualite/depots-en-attente/liberer",
            &[("territoire", "dep-44"), ("fichier", "f.csv")],
        ),
        ("/deconnexion", &[]),
    ];
    for (path, fields) in forms {
        for csrf in [None, Some("forge")] {
            let mut all = fields.to_vec();
            all.extend(csrf.map(|c| ("csrf", c)));
            let r = post_form(&s.base, path, &admin.cookie, form(&all)).await;
            assert_answer(r, StatusCode::FORBIDDEN, "Jeton de formulaire (CSRF)").await;
        }
    }
    assert_eq!(std::fs::read_to_string(&accounts).unwrap(), before);
    // The session still works: the refused logout did not end it.
    assert_eq!(admin.get("/compte").await.status(), StatusCode::OK);
}
