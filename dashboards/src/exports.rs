//! Exports for evaluators and the national team (issue #6): the exports page and the thin
//! handlers of `GET /exports/{file}` (HTML errors) and `GET /api/v1/exports/{file}` (JSON
//! errors). What is exported, how it is checked, written, cached and described lives in
//! [`copil_exports`]:
//!
//! - `indicateurs.csv`, `indicateurs.xlsx`, `indicateurs.parquet` (filters `indicateur`, `mois`,
//!   `vague`, `ventilation`, `territoire`), `evenements.parquet`, `personnes.parquet`
//!   (`projet` required, filters `territoire`, `vague`): the data;
//! - the same name + `.manifeste.json`, with the same query string: the manifest (versions,
//!   filters, project, rows, bytes, SHA-256 of the data file, columns);
//! - `indicateurs.dictionnaire.csv`, `evenements.dictionnaire.csv`,
//!   `personnes.dictionnaire.csv`: the French data dictionary (`colonne;type;description`).
//!
//! Here the account is checked, an evaluator's project resolved (issue 13), every download of
//! a data file and every manifest (which builds the file it describes) written to the audit
//! log before its body is sent, and the file streamed.

use std::collections::{BTreeSet, HashMap};
use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use copil_exports::{Asked, FormKind, Kind, MicroFilters, ProjectScope};
use copil_queries::{Catalogue, MicroTable, RELATIF, Results};
use copil_warehouse::{Register, Warehouse, Wave};
use maud::{Markup, html};
use serde_json::json;

use crate::accounts::Role;
use crate::error::HttpError;
use crate::session::User;
use crate::state::AppState;

impl copil_exports::Context for AppState {
    fn catalogue(&self) -> &Catalogue {
        AppState::catalogue(self)
    }
    fn register(&self) -> &Register {
        AppState::register(self)
    }
    fn results(&self) -> Arc<Results> {
        AppState::results(self)
    }
    fn warehouse(&self) -> &Warehouse {
        AppState::warehouse(self)
    }
    fn exports_dir(&self) -> &FsPath {
        &self.settings().exports_dir
    }
    fn threshold(&self) -> i64 {
        self.settings().threshold
    }
    fn xlsx_max_rows(&self) -> usize {
        self.settings().xlsx_max_rows
    }
    fn export_key(&self) -> &[u8; 32] {
        &self.settings().export_key.0
    }
}

/// Issue 13: an evaluator exports microdata only under a declared project that names it, during
/// its period and within its territories; a national account under any project name.
fn scope_to_project(
    state: &AppState,
    user: &User,
    f: MicroFilters,
) -> Result<MicroFilters, HttpError> {
    if user.role != Role::Evaluateur {
        return Ok(f);
    }
    let project = state.project(&f.projet).ok_or_else(|| {
        HttpError::forbidden(format!(
            "Le projet « {} » n'est pas déclaré. Un évaluateur exporte des microdonnées seulement pour un projet d'évaluation déclaré par un administrateur qui le nomme.",
            f.projet
        ))
    })?;
    if !project.open_to(&user.login, state.clock().today()) {
        return Err(HttpError::forbidden(format!(
            "Le projet « {} » n'est pas ouvert à votre compte : il doit vous nommer parmi ses évaluateurs, être actif, et la date du jour être dans sa période (du {} au {}).",
            project.nom,
            project.debut.format("%d/%m/%Y"),
            project.fin.format("%d/%m/%Y")
        )));
    }
    Ok(f.within(ProjectScope {
        nom: project.nom,
        territoires: project.territoires,
    })?)
}

/// A data dictionary, as a CSV attachment.
fn dictionary(state: &AppState, kind: Kind) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", kind.dictionary_name()),
            ),
        ],
        copil_exports::dictionary(kind, state.settings().threshold),
    )
        .into_response()
}

/// The form of the exports page: checks it, then redirects to the file it describes.
fn form(
    state: &AppState,
    user: &User,
    which: FormKind,
    q: &HashMap<String, String>,
    prefix: &str,
) -> Result<Response, HttpError> {
    let target = match which {
        FormKind::Indicateurs => {
            let results = state.results();
            let (format, f) =
                copil_exports::indicator_form(q, state.catalogue(), state.register(), &results)?;
            let qs = f.query_string();
            format!(
                "{prefix}/indicateurs.{}{}{qs}",
                format.ext(),
                if qs.is_empty() { "" } else { "?" }
            )
        }
        FormKind::Microdonnees => {
            let (table, f) = copil_exports::micro_form(q, state.register())?;
            let f = scope_to_project(state, user, f)?;
            format!("{prefix}/{}.parquet?{}", table.name(), f.query_string())
        }
    };
    Ok(Redirect::to(&target).into_response())
}

/// Builds (or reuses) a microdata table: parameters checked, scoped to the evaluator's project.
async fn build_micro(
    state: &AppState,
    user: &User,
    table: MicroTable,
    q: &HashMap<String, String>,
    file_name: &str,
) -> Result<(copil_exports::Plan, copil_exports::Built), HttpError> {
    let f = scope_to_project(
        state,
        user,
        copil_exports::micro_filters(state, q, file_name)?,
    )?;
    Ok(copil_exports::build_micro(state, table, &f).await?)
}

async fn serve(
    state: &AppState,
    user: &User,
    name: &str,
    q: &HashMap<String, String>,
    prefix: &str,
) -> Result<Response, HttpError> {
    user.require_exports()?;
    let (kind, format, manifest_only) = match copil_exports::parse_name(name)? {
        Asked::Dictionary(kind) => return Ok(dictionary(state, kind)),
        Asked::Form(which) => return form(state, user, which, q, prefix),
        Asked::Data(k, f) => (k, f, false),
        Asked::Manifest(k, f) => (k, f, true),
    };
    let (plan, built) = match kind {
        Kind::Indicateurs => copil_exports::build_indicators(state, format, q, name).await?,
        Kind::Micro(t) => build_micro(state, user, t, q, name).await?,
    };
    let sha = built.manifest["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let size = built.manifest["octets"].as_u64().unwrap_or_default();
    // A manifest builds the export it describes: audited like a download (issue 13).
    user.audit(
        state,
        if manifest_only { "manifeste" } else { "export" },
        json!({
            "export": plan.kind.name(),
            "format": plan.format.ext(),
            "filtres": plan.filtres,
            "projet": plan.projet,
            "versions": plan.versions,
            "lignes": built.manifest["lignes"],
            "sha256": sha,
        }),
    )?;
    if manifest_only {
        let text =
            serde_json::to_string_pretty(&built.manifest).map_err(|e| HttpError::internal(&e))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "private, no-cache"),
            ],
            text + "\n",
        )
            .into_response());
    }
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(built.file));
    let disposition = format!(
        "attachment; filename=\"copil-{}-{}.{}\"",
        plan.kind.name(),
        &sha[..sha.len().min(12)],
        plan.format.ext()
    );
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| HttpError::internal(&e));
    h.insert(header::CONTENT_TYPE, value(plan.format.content_type())?);
    h.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    h.insert(header::CONTENT_LENGTH, value(&size.to_string())?);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert("x-copil-sha256", value(&sha)?);
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The page.

fn page_body(state: &AppState, user: &User) -> Markup {
    let catalogue = state.catalogue();
    let register = state.register();
    let results = state.results();
    let ventilations: BTreeSet<&str> = catalogue
        .iter()
        .flat_map(|i| i.ventilations.iter().map(String::as_str))
        .collect();
    let months: BTreeSet<NaiveDate> = catalogue
        .iter()
        .flat_map(|i| results.months(&i.id))
        .collect();
    let mut territories: Vec<_> = register.iter().collect();
    territories.sort_by(|a, b| a.nom.cmp(&b.nom));
    let threshold = state.settings().threshold;
    let limit = state.settings().xlsx_max_rows;
    let territory_options = html! {
        option value="" { "Tous" }
        @for t in &territories { option value=(t.id) { (t.nom) " (" (t.id) ")" } }
    };
    let wave_options = html! {
        option value="" { "Toutes" }
        @for w in Wave::ALL { option value=(w.code()) { (w.label()) } }
    };
    let first = months.first().map(|m| m.format("%Y-%m").to_string());
    let last = months.last().map(|m| m.format("%Y-%m").to_string());
    let today = state.clock().today();
    let open_projects: Vec<crate::projects::Project> = state
        .projects()
        .into_iter()
        .filter(|p| p.open_to(&user.login, today))
        .collect();
    html! {
        p { "Les exports servent aux évaluations et au pilotage national : tables d'indicateurs (CSV, XLSX, Parquet) et microdonnées pseudonymisées (Parquet). Chaque téléchargement est inscrit au journal d'audit (compte, filtres, versions, empreinte)." }
        h2 { "Table d'indicateurs" }
        form class="formulaire" method="get" action="/exports/indicateurs" {
            label { "Indicateur"
                select name="indicateur" {
                    option value="" { "Tous les indicateurs" }
                    @for i in catalogue.iter() { option value=(i.id) { (i.titre) " (" (i.id) ")" } }
                }
            }
            label { "Mois (AAAA-MM ; vide : tous les mois)"
                input name="mois" type="month" min=[first] max=[last] placeholder="2025-01";
            }
            label { "Vague" select name="vague" { (wave_options) } }
            label { "Ventilation (avec un indicateur ; vide : les totaux)"
                select name="ventilation" {
                    option value="" { "Aucune (totaux)" }
                    @for v in &ventilations { option value=(v) { (v) } }
                    option value=(RELATIF) { (RELATIF) " (par vague, avant / après le début du SPIE)" }
                }
            }
            label { "Territoire" select name="territoire" { (territory_options) } }
            label { "Format"
                select name="format" {
                    option value="csv" { "CSV (séparateur « ; », UTF-8)" }
                    option value="xlsx" { "XLSX (Excel)" }
                    option value="parquet" { "Parquet" }
                }
            }
            button type="submit" { "Télécharger la table" }
        }
        p {
            "Une table donne, pour chaque indicateur, les niveaux national, vague et territoire, mois par mois. Un filtre de vague garde les territoires de cette vague, la vague et la France ; un filtre de territoire garde ce territoire, sa vague et la France. Dictionnaire des colonnes : "
            a href="/exports/indicateurs.dictionnaire.csv" { "indicateurs.dictionnaire.csv" } "."
        }
        h2 { "Microdonnées pseudonymisées" }
        form class="formulaire" method="get" action="/exports/microdonnees" {
            label { "Table"
                select name="table" {
                    option value="evenements" { "evenements : les événements des parcours" }
                    option value="personnes" { "personnes : les personnes (généralisées)" }
                }
            }
            @if user.role == Role::Evaluateur {
                label { "Projet d'évaluation (déclaré par un administrateur)"
                    select name="projet" required {
                        @for p in &open_projects {
                            option value=(p.nom) { (p.nom) " : " (p.objet) " (jusqu'au " (p.fin.format("%d/%m/%Y")) ")" }
                        }
                    }
                }
            } @else {
                label { "Projet (obligatoire ; a-z, 0-9, « - » et « _ », 64 caractères au plus)"
                    input name="projet" type="text" required pattern="[a-z0-9_\\-]{1,64}" maxlength="64" placeholder="evaluation-2025";
                }
            }
            label { "Territoire" select name="territoire" { (territory_options) } }
            label { "Vague" select name="vague" { (wave_options) } }
            button type="submit" { "Télécharger les microdonnées (Parquet)" }
        }
        p {
            "Dictionnaires : "
            a href="/exports/evenements.dictionnaire.csv" { "evenements.dictionnaire.csv" } ", "
            a href="/exports/personnes.dictionnaire.csv" { "personnes.dictionnaire.csv" } "."
        }
        h2 { "Secret statistique" }
        p {
            "Les tables d'indicateurs appliquent le même secret que les pages et l'API : une case couvrant moins de " (threshold) " personnes, ou cachée par secret secondaire pour ne pas être recalculable, a la colonne secret à true et tous ses chiffres vides — jamais 0. Le numérateur et le dénominateur d'un indicateur de délai ne sont jamais publiés."
        }
        h2 { "Pseudonymes propres à chaque projet" }
        p {
            "Dans les microdonnées, la colonne personne n'est pas le pseudonyme de l'entrepôt : c'est un second pseudonyme (HMAC-SHA-256 sous une clé dérivée du nom du projet), stable d'un export à l'autre du même projet, différent d'un projet à l'autre. Les lignes sont triées par ce pseudonyme et le numéro de ligne des dépôts n'est pas exporté. Les microdonnées ne contiennent ni NIR, ni nom, ni adresse, ni date de naissance exacte, ni commune."
        }
        p {
            strong { "Ce que ces pseudonymes protègent : " }
            "deux exports de projets différents n'ont aucun identifiant commun ; on ne peut pas les rapprocher par la colonne personne, ni par l'ordre des lignes, ni retrouver le pseudonyme de l'entrepôt."
        }
        p {
            strong { "Ce qu'ils ne protègent pas : " }
            "la suite des événements d'une personne (dates, types d'événements, territoire, caractéristiques généralisées) est la même dans les exports de deux projets. Qui détient les deux peut souvent reconnaître la même personne à cette suite et rapprocher les exports. C'est pourquoi les projets sont déclarés par un administrateur (objet, évaluateurs, territoires, période) : un compte « evaluateur » n'exporte des microdonnées que pour les projets qui le nomment, sur leurs territoires et pendant leur période, et chaque export est inscrit au journal d'audit."
        }
        @if user.role == Role::Evaluateur && open_projects.is_empty() {
            p class="alerte" role="status" { "Aucun projet d'évaluation ne vous est ouvert : demandez à un administrateur de Copil de déclarer votre projet (objet, territoires, période) en vous nommant." }
        }
        h2 { "Dictionnaire, manifeste et reproductibilité" }
        p {
            "Chaque fichier a son dictionnaire (colonne ; type ; description) et son manifeste : ajoutez « .manifeste.json » au nom du fichier, avec les mêmes paramètres (par exemple "
            code { "/exports/indicateurs.csv.manifeste.json?indicateur=orientes_30j" } "). Le manifeste donne les versions de l'entrepôt, les filtres, le projet, le nombre de lignes, la taille et l'empreinte SHA-256 du fichier, et la liste des colonnes ; l'empreinte est aussi dans l'en-tête "
            code { "X-Copil-Sha256" } " du téléchargement."
        }
        p {
            "Le même export, sur les mêmes versions de l'entrepôt avec les mêmes filtres, redonne exactement les mêmes octets : les nombres s'écrivent avec un point décimal, sans date de fabrication dans les fichiers. Un classeur XLSX s'arrête à " (limit) " lignes : au-delà, filtrez ou choisissez CSV ou Parquet."
        }
        p {
            "Depuis un script, les mêmes fichiers sont servis par l'API avec un jeton : "
            code { "curl -H \"Authorization: Bearer <jeton>\" -o indicateurs.parquet \"/api/v1/exports/indicateurs.parquet?vague=ami1-2021\"" } "."
        }
    }
}

/// `GET /exports`: the export forms.
pub async fn page(State(state): State<AppState>, user: User) -> Result<Response, HttpError> {
    user.require_exports()?;
    let body = page_body(&state, &user);
    Ok(Html(crate::layout::simple(
        state.brand(),
        "Exports",
        "/exports",
        Some(&user),
        &body,
    ))
    .into_response())
}

/// `GET /exports/{file}`: one export file, its manifest or its dictionary.
pub async fn file(
    State(state): State<AppState>,
    user: User,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    serve(&state, &user, &file, &q, "/exports").await
}

/// `GET /api/v1/exports/{file}`: the same, errors in JSON.
pub async fn api_file(
    state: State<AppState>,
    user: User,
    file: Path<String>,
    q: Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    serve(&state, &user, &file, &q, "/api/v1/exports")
        .await
        .map_err(HttpError::json)
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn export_errors_keep_their_status() {
        let status =
            |name: &str| HttpError::from(copil_exports::parse_name(name).unwrap_err()).status;
        assert_eq!(status("evenements.csv"), StatusCode::NOT_FOUND);
        assert_eq!(status("rejets.parquet"), StatusCode::NOT_FOUND);
        assert_eq!(status("indicateurs.json"), StatusCode::NOT_FOUND);
        let e = HttpError::from(copil_exports::Error::TooManyRows { rows: 3, limit: 2 });
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let e = HttpError::from(copil_exports::Error::Parameter("x".into()));
        assert_eq!(
            (e.status, e.message.as_str()),
            (StatusCode::BAD_REQUEST, "x")
        );
        let e = HttpError::from(
            MicroFilters {
                projet: "p".into(),
                territoire: Some("dep-44".into()),
                vague: None,
                perimetre: None,
            }
            .within(ProjectScope {
                nom: "p".into(),
                territoires: vec!["dep-35".into()],
            })
            .unwrap_err(),
        );
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(
            e.message,
            "Le territoire « dep-44 » n'est pas couvert par le projet « p » (territoires : dep-35)."
        );
        let e = HttpError::from(copil_exports::Error::Folder {
            dir: "/srv/copil/exports".into(),
            source: std::io::Error::other("disque plein"),
        });
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.message.contains("/srv"));
    }
}
