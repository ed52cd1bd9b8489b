//! Sign-in with ProConnect, the State's OpenID Connect federation (issue 17), without HTTP
//! serving: the web crate turns these calls into routes and cookies. The one module that
//! speaks OpenID Connect (the `openidconnect` crate, over the `reqwest` 0.12 already in the
//! tree).
//!
//! ProConnect's rules, as followed here:
//! - the endpoints come from discovery (`<issuer>/.well-known/openid-configuration`), kept an
//!   hour;
//! - `state` and `nonce` are 64 random hexadecimal characters, bound to the browser by a
//!   short-lived cookie signed with a key of this process ([`FLOW_LIFETIME`]);
//! - the authorisation request carries the documented parameters only (`response_type`,
//!   `client_id`, `redirect_uri`, `scope`, `state`, `nonce`, and `acr_values` when configured):
//!   no PKCE, which ProConnect refuses;
//! - the code is exchanged with `client_secret` in the request body (`client_secret_post`);
//! - the id_token is verified: signature (RS256 or ES256) against the provider's JWKS, issuer,
//!   audience, expiry (by the caller's clock) and nonce;
//! - the user information must come as a signed JWT (`application/jwt`), verified against the
//!   same keys, issuer and audience (RS256, the algorithm the library verifies for it), for the
//!   id_token's subject;
//! - logout goes to the end-session endpoint with `id_token_hint`, `state` and
//!   `post_logout_redirect_uri`.
//!
//! An identity is matched to an account by its normalised e-mail ([`admit`]). Nothing here
//! logs a token, a code or the client secret.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use copil_core::empreinte::Empreinte;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthenticationContextClass, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse, UserInfoError,
};
use serde::{Deserialize, Serialize};

use crate::accounts::{Account, Accounts, normalise_email};
use crate::error::{Error, Motif, Result};
use crate::sessions::{constant_eq, random_hex};

/// The scopes asked for, besides `openid` (which the library adds).
pub const SCOPES: [&str; 6] = [
    "email",
    "given_name",
    "usual_name",
    "uid",
    "siret",
    "idp_id",
];
/// How long a sign-in may take, from Copil's redirection to the provider to its return.
pub const FLOW_LIFETIME: Duration = Duration::minutes(10);
/// How long a person whose e-mail matches no account may take to ask for access.
pub const IDENTITY_LIFETIME: Duration = Duration::minutes(30);
/// How long the provider's metadata and keys are kept before discovery is done again.
pub const DISCOVERY_LIFETIME: Duration = Duration::hours(1);
/// The path `post_logout_redirect_uri` names on Copil's origin.
pub const POST_LOGOUT_PATH: &str = "/connexion";

/// How Copil is registered with ProConnect (from the configuration's `proconnect.*` keys).
#[derive(Clone)]
pub struct Settings {
    /// The issuer (`https://auth.agentconnect.gouv.fr/api/v2`); discovery is read below it.
    pub issuer: String,
    /// Copil's client id.
    pub client_id: String,
    /// Copil's client secret (read from `proconnect.client_secret_file`); never printed.
    pub client_secret: String,
    /// Copil's redirect URL (`https://copil.example.gouv.fr/connexion/proconnect/retour`).
    pub redirect_url: String,
    /// The `acr_values` asked for (none when empty).
    pub acr_values: Vec<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_url", &self.redirect_url)
            .field("acr_values", &self.acr_values)
            .finish()
    }
}

impl Settings {
    /// The issuer, without the discovery suffix should the configuration name the discovery
    /// document itself.
    fn issuer_url(&self) -> Result<IssuerUrl> {
        let issuer = self
            .issuer
            .trim()
            .trim_end_matches("/.well-known/openid-configuration");
        IssuerUrl::new(issuer.to_string()).map_err(|e| config_error("proconnect.issuer", e))
    }

    /// `post_logout_redirect_uri`: [`POST_LOGOUT_PATH`] on the redirect URL's origin.
    pub fn post_logout_redirect_url(&self) -> Result<String> {
        let url = openidconnect::url::Url::parse(self.redirect_url.trim())
            .map_err(|e| config_error("proconnect.redirect_url", e))?;
        url.join(POST_LOGOUT_PATH)
            .map(|u| u.to_string())
            .map_err(|e| config_error("proconnect.redirect_url", e))
    }

    /// Checks every URL of the settings.
    pub fn check(&self) -> Result<()> {
        self.issuer_url()?;
        RedirectUrl::new(self.redirect_url.trim().to_string())
            .map_err(|e| config_error("proconnect.redirect_url", e))?;
        self.post_logout_redirect_url()?;
        if self.client_id.trim().is_empty() || self.client_secret.trim().is_empty() {
            return Err(Error::ProConnect {
                motif: Motif::Unavailable,
                detail:
                    "proconnect.client_id ou le secret (proconnect.client_secret_file) est vide"
                        .into(),
            });
        }
        Ok(())
    }
}

fn config_error(key: &str, e: impl std::fmt::Display) -> Error {
    Error::ProConnect {
        motif: Motif::Unavailable,
        detail: format!("{key} invalide : {e}"),
    }
}

fn refused(motif: Motif, detail: impl std::fmt::Display) -> Error {
    Error::ProConnect {
        motif,
        detail: detail.to_string(),
    }
}

/// ProConnect's claims beyond the standard ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProConnectClaims {
    /// Usual (family) name.
    #[serde(default)]
    pub usual_name: Option<String>,
    /// The identifier at the identity provider.
    #[serde(default)]
    pub uid: Option<String>,
    /// The SIRET of the person's organisation.
    #[serde(default)]
    pub siret: Option<String>,
    /// The identity provider used.
    #[serde(default)]
    pub idp_id: Option<String>,
}

impl AdditionalClaims for ProConnectClaims {}

/// A verified ProConnect identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The e-mail, normalised: what matches an account.
    pub email: String,
    /// Given name.
    pub given_name: String,
    /// Usual name.
    pub usual_name: String,
    /// SIRET of the organisation.
    pub siret: String,
    /// The identity provider used.
    pub idp_id: String,
    /// The subject (differs per service and identity provider: never used to match).
    pub sub: String,
}

/// A finished sign-in (no `Debug`: it holds the id_token).
pub struct SignedIn {
    /// Who.
    pub identity: Identity,
    /// The id_token, kept with the session for the logout's `id_token_hint`.
    pub id_token: String,
    /// The local path to go to.
    pub next: String,
}

/// A sign-in begun: where to send the browser, and the cookie binding it to the browser (no
/// `Debug`: it holds the cookie).
pub struct Start {
    /// The provider's authorisation URL.
    pub url: String,
    /// The signed cookie value (`state`, `nonce`, the local path to go to, expiry).
    pub cookie: String,
}

/// The query of the redirection back from the provider.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    /// The authorisation code.
    pub code: Option<String>,
    /// The `state` sent.
    pub state: Option<String>,
    /// An error (`access_denied`…).
    pub error: Option<String>,
    /// Its description.
    pub error_description: Option<String>,
}

/// What the flow cookie holds.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    next: String,
}

/// Who may come in with a verified identity.
#[derive(Debug)]
pub enum Admission {
    /// The active account of this e-mail.
    Admitted(Account),
    /// The account of this e-mail is disabled: it cannot come in.
    Disabled(Account),
    /// No account has this e-mail: the person may ask for access.
    Unknown,
}

/// Matches `identity` to an account by its normalised e-mail (issue 17).
pub fn admit(accounts: &Accounts, identity: &Identity) -> Admission {
    match accounts.by_email(&identity.email) {
        Some(a) if a.actif => Admission::Admitted(a.clone()),
        Some(a) => Admission::Disabled(a.clone()),
        None => Admission::Unknown,
    }
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider's metadata (endpoints and keys), and when it was read.
type Discovered = (DateTime<Utc>, Arc<ProviderMetadataWithLogout>);

/// Copil as a ProConnect client.
pub struct ProConnect {
    settings: Settings,
    http: openidconnect::reqwest::Client,
    key: [u8; 32],
    provider: Mutex<Option<Discovered>>,
}

impl std::fmt::Debug for ProConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProConnect")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ProConnect {
    /// A client with these settings (checked) and a fresh cookie-signing key; the provider is
    /// discovered at the first sign-in.
    pub fn new(settings: Settings) -> Result<ProConnect> {
        settings.check()?;
        let http = openidconnect::reqwest::Client::builder()
            // Never follow a redirection: a token request must not be sent elsewhere.
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .map_err(|e| refused(Motif::Unavailable, e))?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| Error::Hash(e.to_string()))?;
        Ok(ProConnect {
            settings,
            http,
            key,
            provider: Mutex::new(None),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn sign(&self, body: &str) -> String {
        copil_core::empreinte::hex(&Empreinte::new(&self.key).digest(&[body.as_bytes()]))
    }

    /// `value` serialised with its expiry and signed: a cookie value.
    fn seal<T: Serialize>(&self, value: &T, expires: DateTime<Utc>) -> Result<String> {
        let json = serde_json::to_vec(&(expires.timestamp(), value))
            .map_err(|e| refused(Motif::Token, e))?;
        let body = hex::encode(json);
        Ok(format!("{body}.{}", self.sign(&body)))
    }

    /// The value of a cookie made by [`ProConnect::seal`], if its signature is right and it
    /// has not expired.
    fn unseal<T: serde::de::DeserializeOwned>(
        &self,
        cookie: &str,
        now: DateTime<Utc>,
    ) -> Option<T> {
        let (body, sig) = cookie.split_once('.')?;
        if !constant_eq(sig, &self.sign(body)) {
            return None;
        }
        let (expires, value): (i64, T) = serde_json::from_slice(&hex::decode(body).ok()?).ok()?;
        (now.timestamp() < expires).then_some(value)
    }

    /// A cookie value carrying `identity` for [`IDENTITY_LIFETIME`] (the request for access).
    pub fn seal_identity(&self, identity: &Identity, now: DateTime<Utc>) -> Result<String> {
        self.seal(identity, now + IDENTITY_LIFETIME)
    }

    /// The identity of a cookie made by [`ProConnect::seal_identity`], while it is valid.
    pub fn unseal_identity(&self, cookie: &str, now: DateTime<Utc>) -> Option<Identity> {
        self.unseal(cookie, now)
    }

    /// The provider's metadata and keys: discovered, then kept [`DISCOVERY_LIFETIME`].
    async fn provider(&self, now: DateTime<Utc>) -> Result<Arc<ProviderMetadataWithLogout>> {
        if let Some((at, p)) = self
            .provider
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && now - *at < DISCOVERY_LIFETIME
            && now >= *at
        {
            return Ok(Arc::clone(p));
        }
        let issuer = self.settings.issuer_url()?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| refused(Motif::Unavailable, format!("découverte : {e}")))?;
        let metadata = Arc::new(metadata);
        *self.provider.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((now, Arc::clone(&metadata)));
        Ok(metadata)
    }

    fn client(&self, provider: &ProviderMetadataWithLogout) -> Result<Client> {
        let redirect = RedirectUrl::new(self.settings.redirect_url.trim().to_string())
            .map_err(|e| config_error("proconnect.redirect_url", e))?;
        Ok(CoreClient::from_provider_metadata(
            provider.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(AuthType::RequestBody))
    }

    /// Begins a sign-in that will lead to the local path `next`.
    pub async fn start(&self, next: &str, now: DateTime<Utc>) -> Result<Start> {
        let provider = self.provider(now).await?;
        let client = self.client(&provider)?;
        let flow = Flow {
            state: random_hex(32),
            nonce: random_hex(32),
            next: next.to_string(),
        };
        let (state, nonce) = (flow.state.clone(), flow.nonce.clone());
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(state),
            move || Nonce::new(nonce),
        );
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_string()));
        }
        for acr in &self.settings.acr_values {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        let (url, _, _) = request.url();
        Ok(Start {
            url: url.to_string(),
            cookie: self.seal(&flow, now + FLOW_LIFETIME)?,
        })
    }

    /// Finishes a sign-in: checks the return against the browser's flow cookie, exchanges the
    /// code, verifies the id_token and the signed user information. Any failure is an
    /// [`Error::ProConnect`] naming its [`Motif`].
    pub async fn finish(
        &self,
        flow_cookie: Option<&str>,
        callback: &Callback,
        now: DateTime<Utc>,
    ) -> Result<SignedIn> {
        let flow: Flow = flow_cookie
            .and_then(|c| self.unseal(c, now))
            .ok_or_else(|| refused(Motif::State, "aucune connexion en cours dans ce navigateur"))?;
        let returned = callback.state.as_deref().unwrap_or_default();
        if !constant_eq(returned, &flow.state) {
            return Err(refused(Motif::State, "state différent de celui envoyé"));
        }
        if let Some(error) = &callback.error {
            let description = callback.error_description.as_deref().unwrap_or_default();
            return Err(refused(
                Motif::Provider,
                format!("{error} {description}").trim(),
            ));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| refused(Motif::Code, "retour sans code"))?;
        let provider = self.provider(now).await?;
        let client = self.client(&provider)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| refused(Motif::Unavailable, e))?
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    let motif = match r.error() {
                        openidconnect::core::CoreErrorResponseType::InvalidGrant => Motif::Code,
                        _ => Motif::Token,
                    };
                    refused(motif, format!("jeton refusé : {r}"))
                }
                RequestTokenError::Request(e) => refused(Motif::Unavailable, e),
                other => refused(Motif::Token, other),
            })?;
        let id_token = token
            .id_token()
            .ok_or_else(|| refused(Motif::Token, "réponse sans id_token"))?;
        let acr_values = self.settings.acr_values.clone();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            ])
            .set_time_fn(move || now)
            .set_auth_context_verifier_fn(move |acr| match acr {
                _ if acr_values.is_empty() => Ok(()),
                Some(acr) if acr_values.iter().any(|a| a == acr.as_str()) => Ok(()),
                other => Err(format!("acr inattendu : {other:?}")),
            });
        let claims = id_token
            .claims(&verifier, &Nonce::new(flow.nonce))
            .map_err(|e| claims_error(&e))?;
        let subject = claims.subject().clone();
        let info = client
            .user_info(token.access_token().clone(), Some(subject.clone()))
            .map_err(|e| refused(Motif::Unavailable, e))?
            .require_signed_response(true)
            .request_async::<ProConnectClaims, _, CoreGenderClaim>(&self.http)
            .await
            .map_err(|e| match e {
                UserInfoError::ClaimsVerification(
                    ClaimsVerificationError::SignatureVerification(
                        SignatureVerificationError::NoSignature,
                    ),
                ) => refused(Motif::UserInfo, "informations non signées"),
                UserInfoError::ClaimsVerification(e) => claims_error(&e),
                UserInfoError::Request(e) => refused(Motif::Unavailable, e),
                other => refused(Motif::UserInfo, other),
            })?;
        let email = info
            .email()
            .and_then(|e| normalise_email(e.as_str()))
            .ok_or_else(|| refused(Motif::NoEmail, "pas d'adresse électronique"))?;
        let extra = info.additional_claims();
        let given_name = info
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.to_string())
            .unwrap_or_default();
        Ok(SignedIn {
            identity: Identity {
                email,
                given_name,
                usual_name: extra.usual_name.clone().unwrap_or_default(),
                siret: extra.siret.clone().unwrap_or_default(),
                idp_id: extra.idp_id.clone().unwrap_or_default(),
                sub: subject.to_string(),
            },
            id_token: id_token.to_string(),
            next: flow.next,
        })
    }

    /// The provider's end-session URL for a session opened with `id_token`, with
    /// `id_token_hint`, a fresh `state` and `post_logout_redirect_uri`; `None` when the
    /// provider has no end-session endpoint.
    pub async fn logout_url(&self, id_token: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let provider = self.provider(now).await?;
        let Some(end) = provider.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let id_token: CoreIdToken = id_token
            .parse()
            .map_err(|e| refused(Motif::Token, format!("id_token illisible : {e}")))?;
        let back = PostLogoutRedirectUrl::new(self.settings.post_logout_redirect_url()?)
            .map_err(|e| config_error("proconnect.redirect_url", e))?;
        let url = LogoutRequest::from(end)
            .set_id_token_hint(&id_token)
            .set_post_logout_redirect_uri(back)
            .set_state(CsrfToken::new(random_hex(32)))
            .http_get_url();
        Ok(Some(url.to_string()))
    }
}

/// The motif of a claims verification failure.
fn claims_error(e: &ClaimsVerificationError) -> Error {
    let motif = match e {
        ClaimsVerificationError::InvalidNonce(_) => Motif::Nonce,
        ClaimsVerificationError::InvalidAudience(_) => Motif::Audience,
        ClaimsVerificationError::InvalidIssuer(_) => Motif::Issuer,
        ClaimsVerificationError::Expired(_) => Motif::Expired,
        ClaimsVerificationError::SignatureVerification(_) => Motif::Signature,
        _ => Motif::Token,
    };
    refused(motif, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            issuer: "https://auth.exemple.gouv.fr/api/v2/.well-known/openid-configuration".into(),
            client_id: "copil".into(),
            client_secret: "secret-de-test".into(),
            redirect_url: "https://copil.exemple.gouv.fr/connexion/proconnect/retour".into(),
            acr_values: Vec::new(),
        }
    }

    /// Issue 17: the flow and identity cookies are signed and short-lived, and the secret is
    /// never printed.
    #[test]
    fn issue_17_cookies_are_signed_and_expire() {
        let pc = ProConnect::new(settings()).unwrap();
        assert!(!format!("{pc:?}").contains("secret-de-test"));
        assert_eq!(
            pc.settings.issuer_url().unwrap().as_str(),
            "https://auth.exemple.gouv.fr/api/v2"
        );
        assert_eq!(
            pc.settings.post_logout_redirect_url().unwrap(),
            "https://copil.exemple.gouv.fr/connexion"
        );
        let now = Utc::now();
        let identity = Identity {
            email: "camille.martin@exemple.gouv.fr".into(),
            given_name: "Camille".into(),
            usual_name: "Martin".into(),
            siret: String::new(),
            idp_id: String::new(),
            sub: "abc".into(),
        };
        let cookie = pc.seal_identity(&identity, now).unwrap();
        assert_eq!(pc.unseal_identity(&cookie, now), Some(identity));
        assert_eq!(pc.unseal_identity(&cookie, now + IDENTITY_LIFETIME), None);
        let forged = format!("{cookie}0");
        assert_eq!(pc.unseal_identity(&forged, now), None);
        let other = ProConnect::new(settings()).unwrap();
        assert_eq!(other.unseal_identity(&cookie, now), None, "another key");
        let mut bad = settings();
        bad.redirect_url = "pas une url".into();
        assert!(ProConnect::new(bad).is_err());
    }
}
