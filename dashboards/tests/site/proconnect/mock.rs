//! A mock ProConnect (issue 17): an OpenID Connect provider on port 0 with its own RSA key,
//! serving discovery, JWKS, authorize, token, userinfo (as a signed JWT) and end-session, and
//! reproducing ProConnect's quirks: any parameter it does not document is refused, a code is
//! valid 30 s (by the mock's own clock, which a test moves), the user information is a JWT.
//! The authorisation endpoint signs in at once the [`Person`] the test chose.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use copil_accounts::proconnect::ProConnectClaims;
use openidconnect::core::{
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    AccessToken, Audience, AuthorizationCode, EmptyAdditionalClaims, EndUserEmail,
    EndUserGivenName, IssuerUrl, JsonWebKeyId, LocalizedClaim, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier, UserInfoClaims, UserInfoJsonWebToken,
};
use serde_json::json;

/// Copil's client id and secret at the mock.
pub const CLIENT_ID: &str = "copil-tests";
pub const CLIENT_SECRET: &str = "secret-client-de-test";
/// How long a code is valid (ProConnect: 30 s).
pub const CODE_LIFETIME: Duration = Duration::seconds(30);

/// The parameters ProConnect documents for each endpoint; any other is refused.
const AUTHORIZE_PARAMS: [&str; 12] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "acr_values",
    "claims",
    "prompt",
    "login_hint",
    "idp_hint",
    "siret_hint",
];
const TOKEN_PARAMS: [&str; 5] = [
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
];
const END_SESSION_PARAMS: [&str; 3] = ["id_token_hint", "state", "post_logout_redirect_uri"];

/// The parameters of a request (query or form), by name.
pub type Params = HashMap<String, String>;

/// The person the next authorisation signs in.
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub given_name: String,
    pub usual_name: String,
    pub siret: String,
    pub sub: String,
}

impl Person {
    pub fn new(email: &str) -> Person {
        Person {
            email: email.to_string(),
            given_name: "Camille".into(),
            usual_name: "Martin".into(),
            siret: "13002526500013".into(),
            // Differs per service and identity provider: never what Copil matches.
            sub: format!("sub-{}", email.len()),
        }
    }
}

/// How the next tokens are spoilt (each a refusal case of issue 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quirk {
    #[default]
    None,
    /// The id_token carries another nonce.
    WrongNonce,
    /// The id_token is for another client.
    WrongAudience,
    /// The id_token is signed by a key not in the JWKS (same key id).
    BadSignature,
    /// The user information comes as plain JSON.
    UnsignedUserInfo,
}

struct Grant {
    nonce: String,
    person: Person,
    issued: DateTime<Utc>,
    used: bool,
}

pub struct MockState {
    base: String,
    key: CoreRsaPrivateSigningKey,
    rogue: CoreRsaPrivateSigningKey,
    /// The mock's clock (starts at the app's; a test moves it).
    pub now: Mutex<DateTime<Utc>>,
    pub person: Mutex<Person>,
    pub quirk: Mutex<Quirk>,
    codes: Mutex<HashMap<String, Grant>>,
    tokens: Mutex<HashMap<String, Person>>,
    /// The query of every authorisation request.
    pub authorizations: Mutex<Vec<Params>>,
    /// The form of every token request, the secret removed.
    pub token_requests: Mutex<Vec<Params>>,
    /// The query of every end-session request.
    pub logouts: Mutex<Vec<Params>>,
}

/// A running mock provider.
pub struct Mock {
    /// Its issuer: `http://127.0.0.1:PORT`.
    pub base: String,
    pub state: Arc<MockState>,
}

/// Two RSA keys in PKCS#1 PEM, made once per test binary (2048 bits take a moment).
fn pems() -> &'static (String, String) {
    static PEMS: OnceLock<(String, String)> = OnceLock::new();
    PEMS.get_or_init(|| {
        use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
        let make = || {
            rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
                .unwrap()
                .to_pkcs1_pem(LineEnding::LF)
                .unwrap()
                .to_string()
        };
        (make(), make())
    })
}

fn random() -> String {
    copil_accounts::sessions::random_hex(24)
}

impl Mock {
    /// Starts the mock on port 0; its clock starts at `now`.
    pub async fn start(now: DateTime<Utc>) -> Mock {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (good, rogue) = pems();
        let kid = || Some(JsonWebKeyId::new("cle-1".into()));
        let state = Arc::new(MockState {
            base: base.clone(),
            key: CoreRsaPrivateSigningKey::from_pem(good, kid()).unwrap(),
            rogue: CoreRsaPrivateSigningKey::from_pem(rogue, kid()).unwrap(),
            now: Mutex::new(now),
            person: Mutex::new(Person::new("personne@exemple.gouv.fr")),
            quirk: Mutex::new(Quirk::None),
            codes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            authorizations: Mutex::new(Vec::new()),
            token_requests: Mutex::new(Vec::new()),
            logouts: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/session/end", get(end_session))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Mock { base, state }
    }

    /// Signs in `person` at the next authorisation.
    pub fn sign_in_as(&self, person: Person) {
        *self.state.person.lock().unwrap() = person;
    }

    /// Spoils the next tokens.
    pub fn set_quirk(&self, quirk: Quirk) {
        *self.state.quirk.lock().unwrap() = quirk;
    }

    /// Moves the mock's clock.
    pub fn advance(&self, by: Duration) {
        *self.state.now.lock().unwrap() += by;
    }

    /// Copil's settings for this provider, Copil being served at `copil`.
    pub fn settings(&self, copil: &str) -> copil_accounts::proconnect::Settings {
        copil_accounts::proconnect::Settings {
            issuer: self.base.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            redirect_url: format!("{copil}/connexion/proconnect/retour"),
            acr_values: Vec::new(),
        }
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn unknown_parameter(params: &Params, allowed: &[&str]) -> Option<Response> {
    params
        .keys()
        .find(|k| !allowed.contains(&k.as_str()))
        .map(|k| {
            oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("unknown parameter {k}"),
            )
        })
}

async fn discovery(State(s): State<Arc<MockState>>) -> Response {
    let b = &s.base;
    axum::Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/authorize"),
        "token_endpoint": format!("{b}/token"),
        "userinfo_endpoint": format!("{b}/userinfo"),
        "jwks_uri": format!("{b}/jwks"),
        "end_session_endpoint": format!("{b}/session/end"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "userinfo_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": ["authorization_code"],
        "scopes_supported": ["openid", "email", "given_name", "usual_name", "uid", "siret", "idp_id"],
        "claims_supported": ["sub", "email", "given_name", "usual_name", "uid", "siret", "idp_id"],
    }))
    .into_response()
}

async fn jwks(State(s): State<Arc<MockState>>) -> Response {
    axum::Json(CoreJsonWebKeySet::new(vec![s.key.as_verification_key()])).into_response()
}

async fn authorize(State(s): State<Arc<MockState>>, Query(q): Query<Params>) -> Response {
    s.authorizations.lock().unwrap().push(q.clone());
    if let Some(r) = unknown_parameter(&q, &AUTHORIZE_PARAMS) {
        return r;
    }
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let scopes: Vec<&str> = get("scope").split(' ').collect();
    if get("response_type") != "code"
        || get("client_id") != CLIENT_ID
        || !scopes.contains(&"openid")
        || get("state").len() < 32
        || get("nonce").len() < 32
        || !get("redirect_uri").ends_with("/connexion/proconnect/retour")
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "bad request");
    }
    let code = random();
    let grant = Grant {
        nonce: get("nonce").to_string(),
        person: s.person.lock().unwrap().clone(),
        issued: *s.now.lock().unwrap(),
        used: false,
    };
    s.codes.lock().unwrap().insert(code.clone(), grant);
    let mut url = openidconnect::url::Url::parse(get("redirect_uri")).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", get("state"));
    Redirect::to(url.as_str()).into_response()
}

async fn token(State(s): State<Arc<MockState>>, Form(f): Form<Params>) -> Response {
    let mut seen = f.clone();
    seen.remove("client_secret");
    s.token_requests.lock().unwrap().push(seen);
    if let Some(r) = unknown_parameter(&f, &TOKEN_PARAMS) {
        return r;
    }
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_secret_post",
        );
    }
    let now = *s.now.lock().unwrap();
    let (nonce, person) = {
        let mut codes = s.codes.lock().unwrap();
        match codes.get_mut(get("code")) {
            Some(g) if !g.used && now - g.issued <= CODE_LIFETIME => {
                g.used = true;
                (g.nonce.clone(), g.person.clone())
            }
            _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "code expired"),
        }
    };
    let quirk = *s.quirk.lock().unwrap();
    let access = random();
    s.tokens
        .lock()
        .unwrap()
        .insert(access.clone(), person.clone());
    let audience = match quirk {
        Quirk::WrongAudience => "un-autre-service",
        _ => CLIENT_ID,
    };
    let nonce = match quirk {
        Quirk::WrongNonce => "f".repeat(64),
        _ => nonce,
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(s.base.clone()).unwrap(),
        vec![Audience::new(audience.into())],
        now + Duration::seconds(60),
        now,
        StandardClaims::new(SubjectIdentifier::new(person.sub)),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let key = match quirk {
        Quirk::BadSignature => &s.rogue,
        _ => &s.key,
    };
    let id_token = CoreIdToken::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access.clone())),
        Some(&AuthorizationCode::new(get("code").to_string())),
    )
    .unwrap();
    axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 60,
        "id_token": id_token.to_string(),
        "scope": "openid email given_name usual_name uid siret idp_id",
    }))
    .into_response()
}

async fn userinfo(State(s): State<Arc<MockState>>, headers: HeaderMap) -> Response {
    let access = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(person) = s.tokens.lock().unwrap().get(access).cloned() else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "unknown token");
    };
    let extra = ProConnectClaims {
        usual_name: Some(person.usual_name.clone()),
        uid: Some("uid-1".into()),
        siret: Some(person.siret.clone()),
        idp_id: Some("fia1v2".into()),
    };
    let claims = UserInfoClaims::<ProConnectClaims, CoreGenderClaim>::new(
        StandardClaims::new(SubjectIdentifier::new(person.sub.clone()))
            .set_email(Some(EndUserEmail::new(person.email.clone())))
            .set_given_name(Some(LocalizedClaim::from(EndUserGivenName::new(
                person.given_name,
            )))),
        extra,
    )
    .set_issuer(Some(IssuerUrl::new(s.base.clone()).unwrap()))
    .set_audiences(Some(vec![Audience::new(CLIENT_ID.into())]));
    if *s.quirk.lock().unwrap() == Quirk::UnsignedUserInfo {
        return axum::Json(serde_json::to_value(&claims).unwrap()).into_response();
    }
    let jwt = UserInfoJsonWebToken::<
        ProConnectClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(
        claims,
        &s.key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    )
    .unwrap();
    let text = serde_json::to_value(&jwt).unwrap();
    (
        [(header::CONTENT_TYPE, "application/jwt; charset=utf-8")],
        text.as_str().unwrap().to_string(),
    )
        .into_response()
}

async fn end_session(State(s): State<Arc<MockState>>, Query(q): Query<Params>) -> Response {
    s.logouts.lock().unwrap().push(q.clone());
    if let Some(r) = unknown_parameter(&q, &END_SESSION_PARAMS) {
        return r;
    }
    let back = q
        .get("post_logout_redirect_uri")
        .cloned()
        .unwrap_or_default();
    let Ok(mut url) = openidconnect::url::Url::parse(&back) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "post_logout_redirect_uri",
        );
    };
    if let Some(state) = q.get("state") {
        url.query_pairs_mut().append_pair("state", state);
    }
    Redirect::to(url.as_str()).into_response()
}
