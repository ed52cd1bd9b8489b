//! Drops held for review, as the pages show them: their name in the held folder, the form
//! releasing one, and what a release gave.

use maud::{Markup, html};
use serde::Deserialize;

use crate::layout;
use crate::state::AppState;
use crate::user::User;

/// A plain file name: letters, digits, « . », « - », « _ », not hidden (so never `..`), no
/// path separator, not a `.part` file being written.
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !copil_core::inbox::in_progress(name)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The name in the held folder of `d`, a drop held for review, while it is there: its own
/// name, or the one prefixed with its hash when a file of that name was already held.
pub(crate) fn held_name(state: &AppState, d: &copil_queries::Depot) -> Option<String> {
    let dir = state.settings().held_dir.join(&d.territoire);
    let prefixed = format!("{}_{}", d.depot.get(..12).unwrap_or("attente"), d.fichier);
    [d.fichier.clone(), prefixed]
        .into_iter()
        .find(|n| plain_name(n) && dir.join(n).is_file())
}

/// The form releasing the held file `name` of `territoire`, for accounts that may.
pub(crate) fn release_form(user: &User, territoire: &str, name: &str) -> Markup {
    html! {
        @if user.may_release() {
            form class="liberation" method="post" action="/qualite/depots-en-attente/liberer" {
                (layout::csrf_field(user))
                input type="hidden" name="territoire" value=(territoire);
                input type="hidden" name="fichier" value=(name);
                button type="submit" { "Intégrer ce dépôt" }
            }
        }
    }
}

/// What a release gave, shown after the redirection to accounts that may release: the last
/// report of `fichier`.
pub(crate) fn release_outcome(state: &AppState, user: &User, q: &Released) -> Option<Markup> {
    let (Some(t), Some(f)) = (&q.territoire, &q.fichier) else {
        return None;
    };
    if !user.may_release() {
        return None;
    }
    let results = state.results();
    let d = results
        .depots
        .iter()
        .rev()
        .find(|d| &d.territoire == t && &d.fichier == f && d.statut != "en_attente")?;
    Some(html! {
        div class=(if d.integre() { "succes" } else { "alerte" }) role="status" {
            @if d.integre() {
                p { "Dépôt « " (f) " » intégré après examen : " (d.lignes_lues) " lignes lues, "
                    (d.lignes_integrees) " intégrées, " (d.lignes_rejetees) " rejetées. Les indicateurs ont été recalculés." }
            } @else {
                p { "Dépôt « " (f) " » non intégré (" (d.statut) ") : " (crate::error::without_paths(d.message.as_deref().unwrap_or_default())) }
            }
        }
    })
}

/// The drops held for review, each with its release form (the admin page: `admin` accounts
/// do not see the quality page).
pub(crate) fn held_drops(state: &AppState, user: &User) -> Markup {
    let results = state.results();
    let rows = results.quality(state.register(), state.clock().today());
    let held: Vec<&copil_queries::Depot> = rows
        .iter()
        .flat_map(|q| q.en_attente.iter().copied())
        .collect();
    html! {
        @if held.is_empty() {
            p { "Aucun dépôt en attente d'examen." }
        } @else {
            ul {
                @for d in &held {
                    li {
                        (d.territoire) " : " (d.fichier) " — " (crate::error::without_paths(d.message.as_deref().unwrap_or_default()))
                        @if let Some(n) = held_name(state, d) { (release_form(user, &d.territoire, &n)) }
                    }
                }
            }
        }
    }
}

/// The territory and file of a release, in its form and after its redirection.
#[derive(Debug, Default, Deserialize)]
pub struct Released {
    pub(crate) territoire: Option<String>,
    pub(crate) fichier: Option<String>,
}
