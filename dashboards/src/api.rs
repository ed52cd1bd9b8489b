//! The JSON API: the same data as the pages (secrecy applied), described by the OpenAPI
//! document at `/api/openapi.json`. Errors are JSON too. Its routes are declared once, in
//! [`routes::ROUTES`], from which the routers, the OpenAPI document and the `/api` page's list
//! are built (issue 14).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use copil_queries::{Cell, Indicator, Sorte, format_value};
use copil_warehouse::Territory;
use serde_json::{Value, json};

use crate::cache::{self, Kind};
use crate::error::HttpError;
use crate::filters;
use crate::pages::{indicator_of, provenance, report, territory_of};
use crate::session::{Ctx, User};
use crate::state::AppState;

mod openapi;
pub(crate) mod routes;

pub use openapi::OPENAPI;

fn cell(ind: &Indicator, c: Option<&Cell>) -> Value {
    match c {
        None => Value::Null,
        Some(c) => json!({
            "mois": c.mois.format("%Y-%m").to_string(),
            "secret": c.secret,
            "valeur": c.valeur,
            "affiche": format_value(ind.sorte, c),
            "numerateur": if ind.sorte == Sorte::Delai { None } else { c.numerateur },
            "denominateur": if ind.sorte == Sorte::Delai { None } else { c.denominateur },
            "personnes": c.personnes,
            "ic95_bas": c.ic_bas,
            "ic95_haut": c.ic_haut,
            "q1": c.q1,
            "q3": c.q3,
            "moyenne": c.moyenne,
            "provisoire": c.provisoire,
            "couverture": c.couverture,
            "territoires": c.territoires,
            "territoires_attendus": c.territoires_attendus,
        }),
    }
}

fn indicator_json(ind: &Indicator) -> Value {
    json!({
        "id": ind.id,
        "titre": ind.titre,
        "sorte": match ind.sorte { Sorte::Volume => "volume", Sorte::Taux => "taux", Sorte::Delai => "delai" },
        "definition": ind.definition,
        "numerateur": ind.numerateur,
        "denominateur": ind.denominateur,
        "fenetre": ind.fenetre,
        "maturite": ind.maturite,
        "direction": format!("{:?}", ind.direction).to_lowercase(),
        "unite": ind.unite,
        "ventilations": ind.ventilations,
    })
}

fn territory_json(t: &Territory) -> Value {
    json!({
        "id": t.id,
        "nom": t.nom,
        "vague": t.vague.code(),
        "debut_spie": t.debut_spie.format("%Y-%m").to_string(),
        "departements": t.departements,
    })
}

fn spread(s: Option<copil_queries::comparison::Spread>) -> Value {
    s.map_or(
        Value::Null,
        |s| json!({ "territoires": s.territoires, "q1": s.q1, "mediane": s.mediane, "q3": s.q3 }),
    )
}

fn envelope(state: &AppState, data: &Value) -> String {
    let results = state.results();
    let p = provenance(state, &results);
    json!({
        "donnees_au": p.donnees_au,
        "seuil_secret": p.seuil,
        "version_indicateurs": results.version,
        "version_evenements": results.version_evenements,
        "version_depots": results.version_depots,
        "donnees": data,
    })
    .to_string()
}

/// The enveloped JSON answer, cached and compressed like every page.
fn respond(c: &Ctx, data: &Value) -> Result<Response, HttpError> {
    cache::respond(c, &Kind::Json, envelope(&c.state, data))
}

/// `GET /api/v1/indicateurs`.
pub async fn indicators(c: Ctx) -> Result<Response, HttpError> {
    let data: Vec<Value> = c.state.catalogue().iter().map(indicator_json).collect();
    respond(&c, &json!(data))
}

/// `GET /api/v1/national`.
pub async fn national(c: Ctx) -> Result<Response, HttpError> {
    let results = c.state.results();
    let rows: Vec<Value> = results
        .overview(c.state.catalogue(), c.state.register())
        .iter()
        .map(|r| {
            let ind = r.indicateur;
            json!({
                "indicateur": ind.id,
                "titre": ind.titre,
                "mois": r.snapshot.mois.format("%Y-%m").to_string(),
                "national": cell(ind, r.snapshot.national),
                "evolution_12_mois": r.tendance.1,
                "dispersion_territoires": spread(r.snapshot.dispersion),
                "vagues": r.snapshot.vagues.iter().map(|(w, c)| json!({ "vague": w.code(), "valeur": cell(ind, *c) })).collect::<Vec<_>>(),
            })
        })
        .collect();
    respond(&c, &json!(rows))
}

/// `GET /api/v1/indicateurs/{id}`.
pub async fn indicator(
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<filters::Query>,
) -> Result<Response, HttpError> {
    let ind = indicator_of(&c.state, &id).map_err(HttpError::json)?;
    let f = q
        .check(Some(ind), c.state.register())
        .map_err(HttpError::json)?;
    let results = c.state.results();
    let r = report(&c.state, &results, ind, &f).map_err(HttpError::json)?;
    let data = json!({
        "indicateur": indicator_json(ind),
        "mois": r.snapshot.mois.format("%Y-%m").to_string(),
        "mois_disponibles": r.mois_disponibles.iter().map(|m| m.format("%Y-%m").to_string()).collect::<Vec<_>>(),
        "national": cell(ind, r.snapshot.national),
        "dispersion_territoires": spread(r.snapshot.dispersion),
        "vagues": r.snapshot.vagues.iter().zip(&r.snapshot.dispersion_vagues).map(|((w, c), (_, s))| json!({
            "vague": w.code(), "valeur": cell(ind, *c), "dispersion_territoires": spread(*s),
        })).collect::<Vec<_>>(),
        "territoires": r.classement.iter().map(|t| json!({
            "territoire": t.territoire.id, "nom": t.territoire.nom, "vague": t.territoire.vague.code(),
            "rang": t.rang, "valeur": cell(ind, t.cell),
        })).collect::<Vec<_>>(),
        "series": r.series.iter().map(|(label, points)| json!({
            "serie": label,
            "points": points.iter().map(|(m, v)| json!({ "mois": m.format("%Y-%m").to_string(), "valeur": v })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "avant_apres": r.avant_apres.iter().map(|(w, points)| json!({
            "vague": w.code(),
            "points": points.iter().map(|(k, v)| json!({ "mois_depuis_debut": k, "valeur": v })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "ventilation": r.ventilation.as_ref().map(|(v, cells)| json!({
            "colonne": v,
            "cases": cells.iter().map(|c| json!({ "modalite": c.modalite, "valeur": cell(ind, Some(c)) })).collect::<Vec<_>>(),
        })),
    });
    respond(&c, &data)
}

/// `GET /api/v1/territoires`.
pub async fn territories(c: Ctx) -> Result<Response, HttpError> {
    let data: Vec<Value> = c.state.register().iter().map(territory_json).collect();
    respond(&c, &json!(data))
}

/// `GET /api/v1/territoires/{id}`.
pub async fn territory(c: Ctx, Path(id): Path<String>) -> Result<Response, HttpError> {
    let t = territory_of(&c.state, &id).map_err(HttpError::json)?;
    let results = c.state.results();
    let r = results.territory(c.state.catalogue(), c.state.register(), t);
    let data = json!({
        "territoire": territory_json(t),
        "pairs": r.pairs.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        "indicateurs": r.lignes.iter().map(|l| json!({
            "indicateur": l.indicateur.id,
            "mois": l.mois.format("%Y-%m").to_string(),
            "territoire": cell(l.indicateur, l.territoire),
            "national": cell(l.indicateur, l.national),
            "vague": cell(l.indicateur, l.vague),
            "pairs": spread(l.pairs),
            "rang": l.rang.map(|(a, b)| json!({ "rang": a, "classes": b })),
            "evolution_12_mois": l.tendance.1,
        })).collect::<Vec<_>>(),
    });
    respond(&c, &data)
}

pub(crate) fn depot_json(d: &copil_queries::Depot) -> Value {
    json!({
        "fichier": d.fichier,
        "date_extraction": d.date_extraction.map(|e| e.to_string()),
        "traite_le": d.traite_le.to_rfc3339(),
        "statut": d.statut,
        "message": d.message.as_deref().map(crate::error::without_paths),
        "lignes_lues": d.lignes_lues,
        "lignes_integrees": d.lignes_integrees,
        "lignes_rejetees": d.lignes_rejetees,
        "rejets_par_motif": d.rejets.iter().map(|(r, n)| (r.code().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
    })
}

/// `GET /api/v1/qualite`.
pub async fn quality(c: Ctx) -> Result<Response, HttpError> {
    c.user.require_quality().map_err(HttpError::json)?;
    let results = c.state.results();
    let data: Vec<Value> = results
        .quality(c.state.register(), c.state.clock().today())
        .iter()
        .filter(|q| c.user.sees_details_of(&q.territoire.id))
        .map(|q| {
            json!({
                "territoire": q.territoire.id,
                "dernier_depot": q.dernier.map(depot_json),
                "age_jours": q.age_jours,
                "refus_depuis": q.refuses,
                "en_attente": q.en_attente.iter().map(|d| depot_json(d)).collect::<Vec<_>>(),
            })
        })
        .collect();
    respond(&c, &json!(data))
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> impl axum::response::IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        OPENAPI.as_str(),
    )
}

/// `GET /api`: how to call the API, and its routes from the route table.
pub async fn page(State(state): State<AppState>, user: User) -> impl axum::response::IntoResponse {
    let body = maud::html! {
        p { "L'API JSON publie les mêmes données que les pages, secret statistique appliqué, avec les mêmes droits que votre compte. Sa description OpenAPI est à " a href="/api/openapi.json" { "/api/openapi.json" } "." }
        p { "Un script s'authentifie avec un jeton d'API, envoyé dans l'en-tête " code { "Authorization: Bearer <jeton>" } " ; les jetons se créent sur la page " a href="/compte" { "Mon compte" } " ou avec " code { "copil comptes jeton" } "." }
        ul {
            @for r in routes::ROUTES.iter().filter(|r| r.auth == routes::Auth::Account) {
                li { code { (r.method.name()) " " (r.path) } " : " (r.summary) }
            }
        }
    };
    axum::response::Html(crate::layout::simple(
        state.brand(),
        "API",
        "/api",
        Some(&user),
        &body,
    ))
}

/// Unknown API route: JSON 404.
pub async fn not_found() -> HttpError {
    HttpError::not_found("Route d'API inconnue ; voir /api/openapi.json.").json()
}
