//! Issue 17: sign-in with ProConnect against a mock provider ([`mock`]): the rules followed
//! (parameters, `client_secret_post`, signed user information), every refusal with its French
//! message and audit entry, the request for access, the logout at the provider, passwords
//! off; and with ProConnect not configured, nothing changed. The Chromium path is in
//! [`browser`].

mod browser;
pub mod mock;

use std::collections::BTreeSet;

use copil_dashboards::{Accounts, Role};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::access::{assert_answer, csrf_of, form, get_with_cookie, post_form, raw};
use crate::fixture::{self, Server};
use mock::{Mock, Person, Quirk};

/// The value of cookie `name` set by `response`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

/// The e-mail given to fixture accounts: `<login>@exemple.gouv.fr`.
pub fn email_of(login: &str) -> String {
    format!("{login}@exemple.gouv.fr")
}

/// A server with ProConnect configured against a fresh mock, its own copy of the accounts
/// (each fixture account with the e-mail [`email_of`]), and `passwords` as given.
pub async fn serve_proconnect(passwords: bool) -> (Server, Mock, tempfile::TempDir) {
    let own = tempfile::tempdir().unwrap();
    let accounts_file = own.path().join("comptes.json");
    std::fs::copy(
        fixture::dir().join("secrets").join("comptes.json"),
        &accounts_file,
    )
    .unwrap();
    let mut accounts = Accounts::open(&accounts_file).unwrap();
    for (login, _, _) in fixture::ACCOUNTS {
        accounts
            .set_email(login, Some(&email_of(login).to_uppercase()))
            .unwrap();
    }
    let now = chrono::NaiveDate::from_ymd_opt(2025, 7, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let mock = Mock::start(now).await;
    let settings_of = |base: &str| mock.settings(base);
    let s = fixture::serve_at(|settings, base| {
        settings.accounts_file = accounts_file;
        settings.proconnect = Some(settings_of(base));
        settings.passwords = passwords;
    })
    .await;
    *mock.state.now.lock().unwrap() = s.state.clock().now();
    (s, mock, own)
}

/// One sign-in over HTTP, step by step.
pub struct SignIn {
    /// The flow cookie Copil set (`copil_proconnect=…`).
    pub flow_cookie: String,
    /// Copil's redirection URL, as the provider sent the browser back.
    pub callback: String,
    /// The answer to the callback.
    pub response: reqwest::Response,
}

/// Button → provider → back to Copil; `meddle` may change the clock or the callback URL
/// between the provider's answer and the return.
pub async fn sign_in(
    s: &Server,
    mock: &Mock,
    meddle: impl FnOnce(&Mock, String) -> String,
) -> SignIn {
    let http = raw();
    let start = http
        .get(format!(
            "{}/connexion/proconnect?suite=/territoires",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303, "the button leads to the provider");
    let flow = set_cookie(&start, "copil_proconnect").expect("flow cookie");
    let lax = start
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap().contains("SameSite=Lax"));
    assert!(lax, "the flow cookie follows the provider's return");
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&format!("{}/authorize?", mock.base)));
    let back = http.get(authorize.as_str()).send().await.unwrap();
    assert_eq!(back.status(), 303, "{}", back.text().await.unwrap());
    let callback = back.headers()[LOCATION].to_str().unwrap().to_string();
    let callback = meddle(mock, callback);
    let response = http
        .get(callback.as_str())
        .header(COOKIE, format!("copil_proconnect={flow}"))
        .send()
        .await
        .unwrap();
    SignIn {
        flow_cookie: flow,
        callback,
        response,
    }
}

fn untouched(_: &Mock, callback: String) -> String {
    callback
}

/// The last audit entry of the server.
fn last_audit(s: &Server) -> Value {
    s.state
        .audit()
        .entries()
        .last()
        .cloned()
        .expect("an audit entry")
}

/// Checks a refused sign-in: status, the French sentence on the page, no session cookie, and
/// an `echec_proconnect` audit entry with `motif`.
async fn assert_refused(s: &Server, sign_in: SignIn, status: u16, sentence: &str, motif: &str) {
    let r = sign_in.response;
    assert_eq!(r.status(), status);
    assert!(set_cookie(&r, "copil_session").is_none(), "no session");
    let body = r.text().await.unwrap();
    assert!(body.contains(sentence), "{body}");
    assert!(body.contains("lang=\"fr\""));
    let entry = last_audit(s);
    assert_eq!(entry["action"], "echec_proconnect", "{entry}");
    assert_eq!(entry["details"]["motif"], motif, "{entry}");
}

#[tokio::test]
async fn issue_17_without_proconnect_nothing_changes_for_local_accounts() {
    let s = fixture::serve().await;
    let page = fixture::get_text(&raw(), format!("{}/connexion", s.base)).await;
    assert!(!page.contains("ProConnect"), "no button: {page}");
    assert!(page.contains("name=\"mot_de_passe\""));
    let r = raw()
        .get(format!("{}/connexion/proconnect", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = raw()
        .get(format!(
            "{}/connexion/proconnect/retour?code=x&state=y",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn issue_17_sign_in_follows_proconnect_rules() {
    let (s, mock, _own) = serve_proconnect(true).await;
    let page = fixture::get_text(&raw(), format!("{}/connexion", s.base)).await;
    assert!(page.contains("S'identifier avec ProConnect"), "{page}");
    assert!(
        page.contains("href=\"/connexion/proconnect?suite=/\""),
        "{page}"
    );
    assert!(page.contains("name=\"mot_de_passe\""), "passwords still on");
    mock.sign_in_as(Person::new("  Pilotage@EXEMPLE.gouv.fr "));
    let done = sign_in(&s, &mock, untouched).await;
    let r = done.response;
    assert_eq!(r.status(), 200);
    let refresh = r.headers()["refresh"].to_str().unwrap().to_string();
    assert_eq!(
        refresh, "0; url=/territoires",
        "back where the person was going"
    );
    let session = set_cookie(&r, "copil_session").expect("a session");
    assert!(
        set_cookie(&r, "copil_proconnect").is_some_and(|v| v.is_empty()),
        "flow over"
    );
    // The documented parameters only; state and nonce of at least 32 characters; no PKCE.
    let query = mock.state.authorizations.lock().unwrap()[0].clone();
    let keys: BTreeSet<&str> = query.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "client_id",
            "nonce",
            "redirect_uri",
            "response_type",
            "scope",
            "state"
        ])
    );
    assert!(query["state"].len() >= 32 && query["nonce"].len() >= 32);
    let scopes: BTreeSet<&str> = query["scope"].split(' ').collect();
    assert_eq!(
        scopes,
        BTreeSet::from([
            "openid",
            "email",
            "given_name",
            "usual_name",
            "uid",
            "siret",
            "idp_id"
        ])
    );
    // client_secret in the body (the mock refuses the request otherwise), nothing else.
    let form = mock.state.token_requests.lock().unwrap()[0].clone();
    let keys: BTreeSet<&str> = form.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["client_id", "code", "grant_type", "redirect_uri"])
    );
    // Signed in as the account of that e-mail, with its role.
    let home = raw()
        .get(format!("{}/compte", s.base))
        .header(COOKIE, format!("copil_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let home = home.text().await.unwrap();
    assert!(
        home.contains("pilotage") && home.contains("équipe nationale"),
        "{home}"
    );
    let entry = last_audit(&s);
    assert_eq!(entry["action"], "connexion");
    assert_eq!(entry["compte"], "pilotage");
    assert_eq!(entry["details"]["methode"], "proconnect");
    // The flow cookie is spent: the same return again is refused.
    let again = raw()
        .get(done.callback.as_str())
        .header(COOKIE, format!("copil_proconnect={}", done.flow_cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403, "a code serves once");
}

#[tokio::test]
async fn issue_17_wrong_state_is_refused() {
    let (s, mock, _own) = serve_proconnect(true).await;
    mock.sign_in_as(Person::new(&email_of("pilotage")));
    let done = sign_in(&s, &mock, |_, callback| {
        let (before, state) = callback.split_once("state=").unwrap();
        let forged: String = state.chars().rev().collect();
        format!("{before}state={forged}")
    })
    .await;
    assert_refused(&s, done, 403, "paramètre state", "state").await;
    // No flow cookie at all (another browser) is refused the same way.
    let done = sign_in(&s, &mock, untouched).await;
    let r = raw().get(done.callback.as_str()).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(last_audit(&s)["details"]["motif"], "state");
}

/// `pilotage` signs in while the provider errs as `quirk`: refused with `sentence`, audited
/// with `motif` (see [`assert_refused`]).
async fn assert_quirk_refused(quirk: Quirk, sentence: &str, motif: &str) {
    let (s, mock, _own) = serve_proconnect(true).await;
    mock.sign_in_as(Person::new(&email_of("pilotage")));
    mock.set_quirk(quirk);
    let done = sign_in(&s, &mock, untouched).await;
    assert_refused(&s, done, 403, sentence, motif).await;
}

#[tokio::test]
async fn issue_17_wrong_nonce_is_refused() {
    assert_quirk_refused(Quirk::WrongNonce, "(nonce)", "nonce").await;
}

#[tokio::test]
async fn issue_17_expired_code_is_refused() {
    let (s, mock, _own) = serve_proconnect(true).await;
    mock.sign_in_as(Person::new(&email_of("pilotage")));
    let done = sign_in(&s, &mock, |mock, callback| {
        // The browser comes back 31 s after the provider issued the code.
        mock.advance(chrono::Duration::seconds(31));
        callback
    })
    .await;
    assert_refused(&s, done, 403, "a expiré ou a déjà servi", "code_expire").await;
}

#[tokio::test]
async fn issue_17_bad_signature_is_refused() {
    assert_quirk_refused(Quirk::BadSignature, "signature", "signature").await;
}

#[tokio::test]
async fn issue_17_wrong_audience_is_refused() {
    assert_quirk_refused(
        Quirk::WrongAudience,
        "destinée à un autre service",
        "audience",
    )
    .await;
}

#[tokio::test]
async fn issue_17_unsigned_userinfo_is_refused() {
    assert_quirk_refused(
        Quirk::UnsignedUserInfo,
        "pas arrivées signées",
        "infos_utilisateur",
    )
    .await;
}

#[tokio::test]
async fn issue_17_disabled_account_is_refused() {
    let (s, mock, _own) = serve_proconnect(true).await;
    s.state
        .update_accounts(|a| a.disable("evaluation"))
        .unwrap();
    mock.sign_in_as(Person::new(&email_of("evaluation")));
    let done = sign_in(&s, &mock, untouched).await;
    assert_refused(&s, done, 403, "est désactivé", "compte_desactive").await;
    assert_eq!(last_audit(&s)["compte"], "evaluation");
}

#[tokio::test]
async fn issue_17_unknown_email_may_ask_for_access() {
    let (s, mock, _own) = serve_proconnect(true).await;
    mock.sign_in_as(Person::new("nouvelle.personne@exemple.gouv.fr"));
    let done = sign_in(&s, &mock, untouched).await;
    let identity = set_cookie(&done.response, "copil_proconnect_identite").expect("identity");
    assert_refused(
        &s,
        done,
        403,
        "aucun compte Copil n'est associé à l'adresse",
        "adresse_inconnue",
    )
    .await;
    // Without the identity cookie, no request.
    let r = raw()
        .post(format!("{}/connexion/proconnect/demande", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("motif", "Chargée de mission")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post_form(
        &s.base,
        "/connexion/proconnect/demande",
        &format!("copil_proconnect_identite={identity}"),
        form(&[("motif", "Chargée de mission, suivi du territoire")]),
    )
    .await;
    assert_answer(r, StatusCode::OK, "Votre demande d'accès est transmise").await;
    let pending = s.state.pending_requests();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].email, "nouvelle.personne@exemple.gouv.fr");
    assert_eq!(pending[0].siret, "13002526500013");
    let entry = last_audit(&s);
    assert_eq!(entry["action"], "demande_acces");
    assert_eq!(entry["details"]["action"], "demander");
    // The admin refuses it: gone, and audited.
    let admin = fixture::client(Role::Admin);
    let r = admin
        .post(format!("{}/admin/demandes", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("action", "refuser"),
            ("email", "nouvelle.personne@exemple.gouv.fr"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(s.state.pending_requests().is_empty());
    let entry = last_audit(&s);
    assert_eq!(entry["action"], "demande_acces");
    assert_eq!(entry["details"]["action"], "refuser");
    assert_eq!(entry["compte"], "administration");
}

#[tokio::test]
async fn issue_17_logout_ends_copil_then_the_provider_session() {
    let (s, mock, _own) = serve_proconnect(true).await;
    mock.sign_in_as(Person::new(&email_of("territoire-a")));
    let done = sign_in(&s, &mock, untouched).await;
    let session = set_cookie(&done.response, "copil_session").unwrap();
    let cookie = format!("copil_session={session}");
    let account = get_with_cookie(format!("{}/compte", s.base), &cookie).await;
    let csrf = csrf_of(&account.text().await.unwrap());
    let r = post_form(&s.base, "/deconnexion", &cookie, form(&[("csrf", &csrf)])).await;
    assert_eq!(r.status(), 200);
    assert!(set_cookie(&r, "copil_session").is_some_and(|v| v.is_empty()));
    let refresh = r.headers()["refresh"].to_str().unwrap().to_string();
    let url = refresh.strip_prefix("0; url=").unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/session/end?", mock.base)),
        "{url}"
    );
    assert_eq!(last_audit(&s)["action"], "deconnexion");
    // Copil's session is over before the provider is asked.
    let after = get_with_cookie(format!("{}/compte", s.base), &cookie).await;
    assert_eq!(after.status(), 303);
    let r = raw().get(url.as_str()).send().await.unwrap();
    assert_eq!(
        r.status(),
        303,
        "the provider accepts exactly its parameters"
    );
    let back = r.headers()[LOCATION].to_str().unwrap();
    assert!(
        back.starts_with(&format!("{}/connexion?state=", s.base)),
        "{back}"
    );
    let logout = mock.state.logouts.lock().unwrap()[0].clone();
    let keys: BTreeSet<&str> = logout.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["id_token_hint", "post_logout_redirect_uri", "state"])
    );
    assert!(logout["state"].len() >= 32);
    assert_eq!(
        logout["post_logout_redirect_uri"],
        format!("{}/connexion", s.base)
    );
}

#[tokio::test]
async fn issue_17_passwords_off_leaves_proconnect_only() {
    let (s, _mock, _own) = serve_proconnect(false).await;
    let page = fixture::get_text(&raw(), format!("{}/connexion", s.base)).await;
    assert!(page.contains("S'identifier avec ProConnect"));
    assert!(!page.contains("name=\"mot_de_passe\""), "{page}");
    let r = post_form(
        &s.base,
        "/connexion",
        "copil_csrf=x",
        form(&[
            ("identifiant", "pilotage"),
            ("mot_de_passe", fixture::PASSWORD),
            ("csrf", "x"),
        ]),
    )
    .await;
    assert_answer(
        r,
        StatusCode::FORBIDDEN,
        "connexion par mot de passe est désactivée",
    )
    .await;
}
