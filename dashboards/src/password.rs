//! A user changes their own password on `/compte` (issue 15; the form is drawn by the account
//! page, [`crate::login`]): the current password is checked
//! (argon2id, under the same limit of checks at once as the login), the new one twice, and the
//! change is written to the audit log.

use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::json;

use crate::error::HttpError;
use crate::session::{Ctx, Posted};

/// The form's fields.
#[derive(Deserialize)]
pub struct ChangeForm {
    actuel: String,
    nouveau: String,
    confirmation: String,
}

/// `POST /compte/mot-de-passe`.
pub async fn change(
    Posted(Ctx { state, user, .. }, f): Posted<ChangeForm>,
) -> Result<Response, HttpError> {
    if !state.settings().passwords {
        return Err(HttpError::forbidden(
            "La connexion par mot de passe est désactivée sur ce Copil (ProConnect seulement) : aucun mot de passe à changer.",
        ));
    }
    if f.nouveau != f.confirmation {
        return Err(HttpError::bad_request(
            "Les deux saisies du nouveau mot de passe diffèrent : recommencez.",
        ));
    }
    let wait = state.settings().password_check_wait;
    let Ok(Ok(permit)) = tokio::time::timeout(wait, state.password_checks().acquire_owned()).await
    else {
        return Err(HttpError::client(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "Trop de vérifications de mot de passe en cours : réessayez dans quelques secondes.",
        ));
    };
    let checked = {
        let (state, login) = (state.clone(), user.login.clone());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            state
                .accounts_authenticate(&login, &f.actuel)
                .then(|| state.update_accounts(|a| a.set_password(&login, &f.nouveau)))
        })
        .await
        .map_err(|e| HttpError::internal(&e))?
    };
    let outcome = match checked {
        None => "refusé : mot de passe actuel faux",
        Some(Err(e)) => return Err(HttpError::from(e)),
        Some(Ok(())) => "changé",
    };
    user.audit(&state, "mot_de_passe", json!({ "resultat": outcome }))?;
    if checked.is_none() {
        return Err(HttpError::bad_request(
            "Mot de passe actuel faux : le mot de passe n'a pas changé.",
        ));
    }
    crate::login::account_page(
        &state,
        &user,
        Some(html! { p class="succes" role="status" { "Mot de passe changé." } }),
    )
}
