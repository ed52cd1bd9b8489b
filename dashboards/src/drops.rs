//! A territory's drops: the ingestion report of each, the rejected rows of the drop in force,
//! and the upload of a new extraction (streamed to the territory's inbox folder, then taken by
//! the scheduled run or an immediate one). Only the territory's own team and the national team
//! see these details; a territory account asking for another territory gets 404. And the
//! release of a drop held for review by a `national` or `admin` account (issue 13).

use std::path::{Path as FsPath, PathBuf};

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use copil_accounts::Role;
use futures::{Stream, StreamExt};
use maud::html;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::api::depot_json;
use crate::error::HttpError;
use crate::figures::Table;
use crate::held::plain_name;
use crate::layout;
use crate::pages::depots_table;
use crate::session::{CSRF_HEADER, Ctx, Posted, User};
use crate::state::AppState;

/// Rejected rows shown on the page (the CSV has them all).
const REJECTS_SHOWN: usize = 200;

fn territory_id(state: &AppState, id: &str) -> Result<String, HttpError> {
    state
        .register()
        .get(id)
        .map(|t| t.id.clone())
        .ok_or_else(|| {
            HttpError::not_found(format!(
                "Territoire inconnu : « {id} ». La liste des territoires est sur /territoires."
            ))
        })
}

/// The territory of `id` when `user` may read its details (issue 15: a territory account asking
/// for another territory gets 404, as if it did not exist).
fn detailed(state: &AppState, user: &User, id: &str) -> Result<String, HttpError> {
    let id = territory_id(state, id)?;
    user.require_details_of(&id)?;
    Ok(id)
}

/// Files of `territoire` waiting in the inbox (uploads not yet processed).
fn waiting(state: &AppState, territoire: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(state.settings().inbox.join(territoire))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !copil_core::inbox::in_progress(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The `?fichier=` of the drops page (set after an upload).
#[derive(Debug, Deserialize)]
pub struct Uploaded {
    fichier: Option<String>,
}

/// `GET /territoires/{id}/depots`.
pub async fn page(
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<Uploaded>,
) -> Result<Response, HttpError> {
    let id = detailed(&c.state, &c.user, &id)?;
    let t = c.state.register().get(&id).expect("checked");
    let results = c.state.results();
    let mut depots: Vec<&copil_queries::Depot> = results
        .depots
        .iter()
        .filter(|d| d.territoire == id)
        .collect();
    depots.reverse();
    let rejects = copil_queries::rejects(c.state.warehouse(), &id).await?;
    let pending = waiting(&c.state, &id);
    let may_upload = c.user.role == Role::Territoire;
    let max_mio = c.state.settings().upload_max_bytes / (1024 * 1024);
    let body = html! {
        p { a href=(format!("/territoires/{id}")) { "← " (t.nom) " : indicateurs et comparaisons" } }
        @if let Some(f) = &q.fichier {
            @if let Some(d) = depots.iter().find(|d| &d.fichier == f) {
                div class=(if d.integre() { "succes" } else { "alerte" }) role="status" {
                    h2 { "Rapport du dépôt « " (f) " »" }
                    @if d.integre() {
                        p { "Intégré le " (d.traite_le.format("%d/%m/%Y à %H:%M")) " : " (copil_core::nombres::entier(d.lignes_lues)) " lignes lues, "
                            (copil_core::nombres::entier(d.lignes_integrees)) " intégrées, " (copil_core::nombres::entier(d.lignes_rejetees)) " rejetées." }
                    } @else if d.statut == "en_attente" {
                        p { "Mis en attente d'examen le " (d.traite_le.format("%d/%m/%Y à %H:%M")) " : " (d.message.clone().unwrap_or_default())
                            ". Les données en place restent en vigueur ; l'équipe nationale peut l'intégrer après examen." }
                    } @else {
                        p { "Refusé le " (d.traite_le.format("%d/%m/%Y à %H:%M")) " : " (crate::error::without_paths(d.message.as_deref().unwrap_or_default())) }
                    }
                }
            } @else if pending.contains(f) {
                p class="succes" role="status" { "Fichier « " (f) " » reçu : il sera traité par la prochaine ingestion planifiée ; son rapport apparaîtra ici." }
            }
        }
        @if may_upload {
            h2 { "Déposer une extraction" }
            form class="formulaire" method="post" enctype="multipart/form-data" action=(format!("/territoires/{id}/depots")) {
                (layout::csrf_field(&c.user))
                label { "Fichier (CSV, CSV compressé .gz ou XLSX, " (max_mio) " Mio au plus ; nom avec la date d'extraction, par exemple " code { (id) "_2025-06-30.csv" } ")"
                    input type="file" name="fichier" required; }
                label class="case" { input type="checkbox" name="traiter" value="maintenant" checked; " Traiter tout de suite (sinon : à la prochaine ingestion planifiée)" }
                button type="submit" { "Déposer" }
            }
        }
        @if !pending.is_empty() {
            h2 { "En attente de traitement" }
            ul { @for p in &pending { li { (p) } } }
        }
        h2 { "Dépôts traités" }
        (depots_table(&depots))
        h2 { "Lignes rejetées du dépôt en vigueur" }
        @if rejects.is_empty() {
            p { "Aucune ligne rejetée." }
        } @else {
            p { (copil_core::nombres::entier(rejects.len() as i128)) " lignes rejetées (fichier « " (rejects[0].fichier) " »). "
                a class="telecharger" href=(format!("/territoires/{id}/rejets.csv")) { "Télécharger toutes les lignes rejetées (CSV)" } }
            div class="defilement" tabindex="0" { table {
                caption { "Les " (rejects.len().min(REJECTS_SHOWN)) " premières lignes rejetées : ligne du fichier, colonne et motif (jamais la valeur)" }
                thead { tr { th scope="col" class="nombre" { "ligne" } th scope="col" { "colonne" } th scope="col" { "motif" } } }
                tbody {
                    @for r in rejects.iter().take(REJECTS_SHOWN) {
                        tr {
                            td class="nombre" { (copil_core::nombres::entier(r.ligne as i128)) }
                            td { (r.colonne.as_deref().unwrap_or("—")) }
                            td { (r.motif_label()) }
                        }
                    }
                }
            } }
        }
    };
    Ok((
        [
            (header::CACHE_CONTROL, "private, no-store"),
            (header::VARY, "Cookie, Authorization"),
        ],
        Html(layout::simple(
            c.state.brand(),
            &format!("Dépôts — {}", t.nom),
            &format!("/territoires/{}/depots", t.id),
            Some(&c.user),
            &body,
        )),
    )
        .into_response())
}

fn rejects_table(rejects: &[copil_queries::Reject]) -> Table {
    Table {
        caption: "Lignes rejetées du dépôt en vigueur".to_string(),
        headers: ["fichier", "ligne", "colonne", "motif", "libelle"]
            .map(String::from)
            .to_vec(),
        rows: rejects
            .iter()
            .map(|r| {
                vec![
                    r.fichier.clone(),
                    r.ligne.to_string(),
                    r.colonne.clone().unwrap_or_default(),
                    r.motif.clone(),
                    r.motif_label().to_string(),
                ]
            })
            .collect(),
    }
}

/// `GET /territoires/{id}/rejets.csv`.
pub async fn rejects_csv(c: Ctx, Path(id): Path<String>) -> Result<Response, HttpError> {
    let id = detailed(&c.state, &c.user, &id)?;
    let rejects = copil_queries::rejects(c.state.warehouse(), &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"rejets-{id}.csv\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        rejects_table(&rejects).to_csv(),
    )
        .into_response())
}

/// `GET /api/v1/territoires/{id}/depots`.
pub async fn api_list(c: Ctx, Path(id): Path<String>) -> Result<Response, HttpError> {
    let id = detailed(&c.state, &c.user, &id).map_err(HttpError::json)?;
    let results = c.state.results();
    let depots: Vec<Value> = results
        .depots
        .iter()
        .rev()
        .filter(|d| d.territoire == id)
        .map(depot_json)
        .collect();
    Ok(private_json(&json!({
        "territoire": id,
        "en_attente": waiting(&c.state, &id),
        "depots": depots,
    })))
}

/// `GET /api/v1/territoires/{id}/rejets`.
pub async fn api_rejects(c: Ctx, Path(id): Path<String>) -> Result<Response, HttpError> {
    let id = detailed(&c.state, &c.user, &id).map_err(HttpError::json)?;
    let rejects = copil_queries::rejects(c.state.warehouse(), &id)
        .await
        .map_err(|e| HttpError::from(e).json())?;
    Ok(private_json(&json!({
        "territoire": id,
        "rejets": rejects.iter().map(|r| json!({
            "depot": r.depot, "fichier": r.fichier, "ligne": r.ligne,
            "colonne": r.colonne, "motif": r.motif,
        })).collect::<Vec<_>>(),
    })))
}

fn private_json(v: &Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        v.to_string(),
    )
        .into_response()
}

/// Checks an uploaded file name: a plain name, that the inbox scan will then judge (extension,
/// date); a name already waiting is refused so nothing is overwritten.
fn check_name(state: &AppState, territoire: &str, name: &str) -> Result<PathBuf, HttpError> {
    if !plain_name(name) {
        return Err(HttpError::bad_request(format!(
            "Nom de fichier refusé : « {name} ». Lettres, chiffres, « . », « - » et « _ » seulement, avec la date d'extraction, par exemple {territoire}_2025-06-30.csv."
        )));
    }
    let path = state.settings().inbox.join(territoire).join(name);
    if path.exists() {
        return Err(HttpError::client(
            StatusCode::CONFLICT,
            format!(
                "Un fichier « {name} » attend déjà d'être traité : attendez son rapport, ou changez de nom."
            ),
        ));
    }
    Ok(path)
}

/// Streams `body` to `dest` through a `.part` file, stopping past `limit` bytes; returns the
/// size. Nothing is left behind on failure.
async fn save<S, E>(dest: &FsPath, mut body: S, limit: u64) -> Result<u64, HttpError>
where
    S: Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let part = dest.with_file_name(format!(
        "{}{}",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("depot"),
        copil_core::inbox::PARTIAL_SUFFIX
    ));
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| HttpError::internal(&e))?;
    }
    // One upload of a name at a time (issue 13): the `.part` file is created exclusively, so a
    // second upload of the same name while the first is written is refused, not interleaved.
    // A `.part` left over by a crash (older than an hour) is replaced.
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let exclusive = || options.open(&part);
    let mut file = match exclusive().await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let stale = tokio::fs::metadata(&part)
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600));
            if !stale {
                return Err(HttpError::client(
                    axum::http::StatusCode::CONFLICT,
                    "Un envoi du même fichier est déjà en cours : réessayez quand il sera terminé.",
                ));
            }
            let _ = tokio::fs::remove_file(&part).await;
            exclusive().await.map_err(|e| HttpError::internal(&e))?
        }
        Err(e) => return Err(HttpError::internal(&e)),
    };
    let result = async {
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                let text = e.to_string();
                if text.contains("length limit") || text.contains("too large") {
                    too_large(limit)
                } else {
                    HttpError::bad_request(format!("Envoi interrompu : {text}"))
                }
            })?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| HttpError::internal(&e))?;
        }
        file.sync_all().await.map_err(|e| HttpError::internal(&e))?;
        if size == 0 {
            return Err(HttpError::bad_request("Fichier vide : rien à déposer."));
        }
        Ok(size)
    }
    .await;
    match result {
        Ok(size) => {
            tokio::fs::rename(&part, dest)
                .await
                .map_err(|e| HttpError::internal(&e))?;
            Ok(size)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(e)
        }
    }
}

fn too_large(limit: u64) -> HttpError {
    HttpError::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "Fichier trop volumineux : la limite est de {} octets ({} Mio, clé upload.max_bytes). Compressez-le en .csv.gz ou découpez l'extraction.",
            limit,
            limit / (1024 * 1024)
        ),
    )
}

/// Records the upload, then runs ingestion at once when asked and possible.
async fn after_upload(
    state: &AppState,
    user: &User,
    territoire: &str,
    name: &str,
    size: u64,
    now_asked: bool,
) -> Result<bool, HttpError> {
    user.audit(
        state,
        "depot",
        json!({ "territoire": territoire, "fichier": name, "octets": size }),
    )?;
    tracing::info!(territoire, fichier = name, octets = size, "dépôt reçu");
    let Some(run) = state.ingest_now().filter(|_| now_asked) else {
        return Ok(false);
    };
    if let Err(e) = run(None).await {
        tracing::error!("ingestion immédiate en échec : {e}");
        return Ok(false);
    }
    state.reload().await?;
    Ok(true)
}

/// `POST /territoires/{id}/depots` (multipart: `csrf`, `traiter`, then `fichier`).
pub async fn upload(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, HttpError> {
    let id = territory_id(&state, &id)?;
    user.require_upload_for(&id)?;
    let mut csrf = None;
    let mut now_asked = false;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| HttpError::bad_request(format!("Formulaire illisible : {e}")))?
    {
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            Some("traiter") => now_asked = field.text().await.is_ok_and(|v| v == "maintenant"),
            Some("fichier") => {
                user.check_csrf(csrf.as_deref())?;
                let name = field.file_name().unwrap_or_default().to_string();
                let name = name
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let dest = check_name(&state, &id, &name)?;
                let size = save(&dest, field, state.settings().upload_max_bytes).await?;
                // The checkbox comes before the file in the form.
                after_upload(&state, &user, &id, &name, size, now_asked).await?;
                return Ok(Redirect::to(&format!(
                    "/territoires/{id}/depots?fichier={}",
                    crate::session::encode_component(&name)
                ))
                .into_response());
            }
            _ => {}
        }
    }
    Err(HttpError::bad_request(
        "Aucun fichier reçu : choisissez un fichier dans le champ « Fichier ».",
    ))
}

/// The `?traiter=` of an API upload.
#[derive(Debug, Deserialize)]
pub struct Process {
    traiter: Option<String>,
}

/// `PUT /api/v1/territoires/{id}/depots/{fichier}`: the body is the file. With
/// `?traiter=maintenant`, answers the drop's report once ingestion ran.
pub async fn api_upload(
    c: Ctx,
    Path((id, name)): Path<(String, String)>,
    Query(p): Query<Process>,
    body: Body,
) -> Result<Response, HttpError> {
    let inner = async {
        let id = territory_id(&c.state, &id)?;
        c.user.require_upload_for(&id)?;
        c.user
            .check_csrf(c.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))?;
        let dest = check_name(&c.state, &id, &name)?;
        let size = save(
            &dest,
            body.into_data_stream(),
            c.state.settings().upload_max_bytes,
        )
        .await?;
        let asked = p.traiter.as_deref() == Some("maintenant");
        let ran = after_upload(&c.state, &c.user, &id, &name, size, asked).await?;
        let results = c.state.results();
        let report = results
            .depots
            .iter()
            .rev()
            .find(|d| d.territoire == id && d.fichier == name);
        let body = json!({
            "territoire": id,
            "fichier": name,
            "octets": size,
            "traite": ran && report.is_some(),
            "rapport": if ran { report.map(depot_json) } else { None },
        });
        Ok::<_, HttpError>(
            (
                StatusCode::CREATED,
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (header::LOCATION, format!("/api/v1/territoires/{id}/depots")),
                ],
                body.to_string(),
            )
                .into_response(),
        )
    };
    inner.await.map_err(HttpError::json)
}

/// The release form's fields.
#[derive(Debug, Deserialize)]
pub struct ReleaseForm {
    territoire: String,
    fichier: String,
}

/// The held file `name` of `territoire`: a territory of the register, a plain name, in the
/// held folder (404 otherwise).
fn held_file(
    state: &AppState,
    territoire: &str,
    name: &str,
) -> Result<(String, PathBuf), HttpError> {
    let id = territory_id(state, territoire)?;
    if !plain_name(name) || name.ends_with(".rapport.txt") {
        return Err(HttpError::bad_request(format!(
            "Nom de fichier refusé : « {name} ». Donnez le nom d'un dépôt en attente d'examen, tel que la page Qualité des données l'affiche."
        )));
    }
    let path = state.settings().held_dir.join(&id).join(name);
    if !path.is_file() {
        return Err(HttpError::not_found(format!(
            "Aucun dépôt « {name} » en attente d'examen pour le territoire « {id} » : il a peut-être déjà été traité ; voir la page Qualité des données."
        )));
    }
    Ok((id, path))
}

/// Releases the held drop `name` of `territoire` through the binary's pipeline (the
/// safeguards are waived; the contract, the limits and the order of extractions still apply),
/// records it in the audit log and reloads the results; returns the drop's new report.
async fn release(
    state: &AppState,
    user: &User,
    territoire: &str,
    name: &str,
) -> Result<copil_queries::Depot, HttpError> {
    user.require_release()?;
    let (territoire, path) = held_file(state, territoire, name)?;
    let territoire = territoire.as_str();
    let Some(run) = state.ingest_now() else {
        return Err(HttpError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            "L'intégration depuis le tableau de bord n'est pas disponible sur ce serveur : utilisez « copil integrer --liberer FICHIER ».",
        ));
    };
    let outcome = run(Some(path)).await;
    let reloaded = state.reload().await;
    let results = state.results();
    // A release never holds: its report is the last one of the file that is not a hold. The
    // same bytes already integrated, or an incident, leave no new report: the pipeline's
    // summary says which.
    let report = results
        .depots
        .iter()
        .rev()
        .find(|d| d.territoire == territoire && d.fichier == name && d.statut != "en_attente")
        .filter(|_| outcome.is_ok() && reloaded.is_ok())
        .cloned();
    let said = match (&outcome, &report) {
        (Ok(_), Some(d)) => d.statut.clone(),
        (Ok(summary), None) => crate::error::without_paths(summary),
        (Err(_), _) => "echec".to_string(),
    };
    user.audit(
        state,
        "liberation",
        json!({ "territoire": territoire, "fichier": name, "statut": said }),
    )?;
    reloaded?;
    match (outcome, report) {
        (Ok(_), Some(d)) => {
            tracing::info!(territoire, fichier = name, statut = %d.statut, compte = %user.login, "dépôt libéré");
            Ok(d)
        }
        (Ok(_), None) => Err(HttpError::client(
            StatusCode::CONFLICT,
            format!("Dépôt « {name} » non intégré : {said}"),
        )),
        (Err(e), _) => Err(HttpError::internal(&format!(
            "libération de {territoire}/{name} : {e}"
        ))),
    }
}

/// `POST /qualite/depots-en-attente/liberer` (form: `csrf`, `territoire`, `fichier`):
/// redirects to the quality page (the admin page for `admin`) with the outcome.
pub async fn release_from_form(
    Posted(Ctx { state, user, .. }, f): Posted<ReleaseForm>,
) -> Result<Response, HttpError> {
    let d = release(&state, &user, &f.territoire, &f.fichier).await?;
    let back = if user.role == Role::Admin {
        "/admin/comptes"
    } else {
        "/qualite"
    };
    Ok(Redirect::to(&format!(
        "{back}?territoire={}&fichier={}",
        crate::session::encode_component(&d.territoire),
        crate::session::encode_component(&d.fichier)
    ))
    .into_response())
}

/// `POST /api/v1/depots-en-attente/{territoire}/{fichier}/liberer`: the drop's new report.
pub async fn api_release(
    c: Ctx,
    Path((territoire, name)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let inner = async {
        c.user
            .check_csrf(c.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))?;
        let d = release(&c.state, &c.user, &territoire, &name).await?;
        Ok::<_, HttpError>(private_json(&json!({
            "territoire": d.territoire,
            "fichier": d.fichier,
            "integre": d.integre(),
            "rapport": depot_json(&d),
        })))
    };
    inner.await.map_err(HttpError::json)
}
