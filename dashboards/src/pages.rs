//! The French pages: each handler extracts its parameters, makes one call into
//! `copil_queries::Results`, and renders.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use copil_queries::{Cell, Direction, Indicator, Results, Sorte, format_spread, format_value};
use copil_warehouse::{Territory, Wave};
use maud::{Markup, html};

use copil_core::nombres;

use crate::cache::{self, Kind};
use crate::chart;
use crate::error::HttpError;
use crate::figures::{self, Table, month_label};
use crate::filters::{self, Filters};
use crate::layout::{self, Provenance};
use crate::session::User;
use crate::state::AppState;

/// What every page states: extraction dates, threshold, versions.
pub fn provenance(state: &AppState, results: &Results) -> Provenance {
    let donnees_au = match results.extraction_range() {
        None => "— (aucun dépôt intégré)".to_string(),
        Some((a, b)) if a == b => a.format("%d/%m/%Y").to_string(),
        Some((a, b)) => format!(
            "{} (extractions du {} au {})",
            b.format("%d/%m/%Y"),
            a.format("%d/%m/%Y"),
            b.format("%d/%m/%Y")
        ),
    };
    Provenance {
        donnees_au,
        seuil: state.settings().threshold,
        versions: format!(
            "indicateurs v{} calculés sur evenements v{}, depots v{}",
            results.version, results.version_evenements, results.version_depots
        ),
    }
}

/// A full page, with its provenance and the version headers.
fn html_page(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    results: &Results,
    title: &str,
    current: &str,
    body: &Markup,
) -> Result<Response, HttpError> {
    let p = provenance(state, results);
    cache::respond(
        state,
        user,
        headers,
        &Kind::Html,
        layout::page(state.brand(), title, current, user, &p, body),
    )
}

fn value(ind: &Indicator, c: Option<&Cell>) -> Markup {
    match c {
        None => html! { span class="secret" { "pas de données" } },
        Some(c) if c.secret => {
            html! { span class="secret" title="secret statistique" { "secret" } }
        }
        Some(c) if c.provisoire => {
            let couverture = c.couverture.map_or(String::new(), |x| {
                format!(", {} % des personnes", (x * 100.0).round())
            });
            let title = format!(
                "provisoire : {} territoires sur {}{couverture}",
                c.territoires.unwrap_or(0),
                c.territoires_attendus.unwrap_or(0)
            );
            html! { (format_value(ind.sorte, c)) " " abbr class="provisoire" title=(title) { "(p)" } }
        }
        Some(c) => html! { (format_value(ind.sorte, c)) },
    }
}

/// A change over 12 months, French style (« +1,5 pt », « −3 j », « +1 204 »), green or red
/// by the indicator's direction, neutral when it rounds to zero (issue 15).
fn change(ind: &Indicator, delta: Option<f64>) -> Markup {
    let Some(d) = delta.filter(|d| d.is_finite()) else {
        return html! { span class="secret" { "—" } };
    };
    let (shown, decimals, unit) = match ind.sorte {
        Sorte::Taux => (d * 100.0, 1, "\u{202f}pt"),
        Sorte::Delai => (d, 0, "\u{202f}j"),
        Sorte::Volume => (d, 0, ""),
    };
    let digits = nombres::decimal(shown, decimals).unwrap_or_default();
    let zero = !digits.bytes().any(|b| matches!(b, b'1'..=b'9'));
    let d = if zero { 0.0 } else { d };
    let sign = if d > 0.0 { "+" } else { "" };
    let text = format!("{sign}{digits}{unit}");
    let good = match ind.direction {
        Direction::Hausse => Some(d > 0.0),
        Direction::Baisse => Some(d < 0.0),
        Direction::Neutre => None,
    };
    let class = match good {
        Some(true) if d != 0.0 => "hausse",
        Some(false) if d != 0.0 => "baisse",
        _ => "neutre",
    };
    html! { span class=(class) { (text) " sur 12 mois" } }
}

fn spread_text(ind: &Indicator, s: Option<copil_queries::comparison::Spread>) -> String {
    let Some(s) = s else {
        return "—".into();
    };
    let f = |v: f64| chart::format_value(v, figures::unit(ind.sorte));
    format!(
        "médiane {} (Q1 {} – Q3 {}, {} territoires)",
        f(s.mediane),
        f(s.q1),
        f(s.q3),
        s.territoires
    )
}

/// A chart drawn at both widths (the stylesheet shows one), its CSV and its data table.
fn figure(draw: impl Fn(i32) -> String, table: &Table, csv: &str) -> Markup {
    html! {
        figure {
            div class="graphique-large" { (layout::svg(&draw(chart::WIDE))) }
            div class="graphique-etroit" { (layout::svg(&draw(chart::NARROW))) }
            figcaption {
                a class="telecharger" href=(csv) download { "Télécharger les données (CSV)" }
            }
            details {
                summary { "Voir les données du graphique" }
                (table.html())
            }
        }
    }
}

/// `/`: the national view.
pub async fn national(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let results = state.results();
    let body = state.cached_body(&results, "nationale", || {
        Ok(national_body(&state, &results))
    })?;
    html_page(
        &state,
        &user,
        &headers,
        &results,
        "Vue nationale",
        "/",
        &maud::PreEscaped(body.to_string()),
    )
}

fn national_body(state: &AppState, results: &Results) -> String {
    let rows = results.overview(state.catalogue(), state.register());
    let body = html! {
        p { "Les indicateurs du SPIE au dernier mois observable pour tous les territoires : valeur nationale, évolution sur 12 mois, dispersion entre territoires et comparaison des trois vagues." }
        h2 { "Indicateurs clés" }
        div class="tuiles" {
            @for r in &rows {
                div class="tuile" {
                    h3 { a href=(format!("/indicateurs/{}", r.indicateur.id)) { (r.indicateur.titre) } }
                    div class="valeur" { (value(r.indicateur, r.snapshot.national)) }
                    div class="detail" { (month_label(r.snapshot.mois)) " · " (change(r.indicateur, r.tendance.1)) }
                    div class="detail" { "Territoires : " (spread_text(r.indicateur, r.snapshot.dispersion)) }
                }
            }
        }
        h2 { "Comparaison des trois vagues" }
        div class="defilement" tabindex="0" { table {
            caption { "Valeur de chaque vague au dernier mois observable" }
            thead { tr {
                th scope="col" { "indicateur" }
                th scope="col" { "mois" }
                th scope="col" class="nombre" { "France" }
                @for w in Wave::ALL { th scope="col" class="nombre" { (w.label()) } }
            } }
            tbody {
                @for r in &rows {
                    tr {
                        th scope="row" { a href=(format!("/indicateurs/{}", r.indicateur.id)) { (r.indicateur.titre) } }
                        td { (month_label(r.snapshot.mois)) }
                        td class="nombre" { (value(r.indicateur, r.snapshot.national)) }
                        @for (_, c) in &r.snapshot.vagues { td class="nombre" { (value(r.indicateur, *c)) } }
                    }
                }
            }
        } }
        h2 { "Fraîcheur des données" }
        @let quality = results.quality(state.register(), state.clock().today());
        @let with_data = quality.iter().filter(|q| q.dernier.is_some()).count();
        @let stale = quality.iter().filter(|q| q.age_jours.is_some_and(|a| a > 45)).count();
        p {
            (with_data) " territoires sur " (quality.len()) " ont un dépôt intégré ; "
            (stale) " ont des données extraites il y a plus de 45 jours. "
            a href="/qualite" { "Voir la qualité des données par territoire" }
        }
    };
    body.into_string()
}

/// `/indicateurs`: the catalogue.
pub async fn indicators(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let results = state.results();
    let body = html! {
        div class="defilement" tabindex="0" { table {
            caption { "Les indicateurs du SPIE" }
            thead { tr { th scope="col" { "indicateur" } th scope="col" { "définition" } th scope="col" { "sens" } } }
            tbody {
                @for ind in state.catalogue().iter() {
                    tr {
                        th scope="row" { a href=(format!("/indicateurs/{}", ind.id)) { (ind.titre) } }
                        td { (ind.definition) }
                        td { (direction(ind.direction)) }
                    }
                }
            }
        } }
    };
    html_page(
        &state,
        &user,
        &headers,
        &results,
        "Indicateurs",
        "/indicateurs",
        &body,
    )
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Hausse => "plus haut, mieux c'est",
        Direction::Baisse => "plus bas, mieux c'est",
        Direction::Neutre => "ni l'un ni l'autre",
    }
}

/// The indicator of a path, or a French 404.
pub fn indicator_of<'a>(state: &'a AppState, id: &str) -> Result<&'a Indicator, HttpError> {
    state.catalogue().get(id).ok_or_else(|| {
        HttpError::not_found(format!(
            "Indicateur inconnu : « {id} ». La liste des indicateurs est sur /indicateurs."
        ))
    })
}

/// The territory of a path, or a French 404.
pub fn territory_of<'a>(state: &'a AppState, id: &str) -> Result<&'a Territory, HttpError> {
    state.register().get(id).ok_or_else(|| {
        HttpError::not_found(format!(
            "Territoire inconnu : « {id} ». La liste des territoires est sur /territoires."
        ))
    })
}

/// The report of an indicator page, or a 404 naming the months available.
pub fn report<'a>(
    state: &'a AppState,
    results: &'a Results,
    ind: &'a Indicator,
    f: &Filters,
) -> Result<copil_queries::IndicatorReport<'a>, HttpError> {
    results
        .indicator(
            ind,
            state.register(),
            f.mois,
            f.vague,
            f.ventilation.as_deref(),
        )
        .ok_or_else(|| {
            let months = results.months(&ind.id);
            let available = match (months.first(), months.last()) {
                (Some(a), Some(b)) => format!(
                    "mois disponibles : de {} à {}",
                    a.format("%Y-%m"),
                    b.format("%Y-%m")
                ),
                _ => "aucun chiffre publié pour l'instant".into(),
            };
            HttpError::not_found(format!(
                "Aucun chiffre de « {} » pour {} ; {available}.",
                ind.titre,
                f.mois.map_or("ce mois".into(), month_label)
            ))
        })
}

fn filter_form(ind: &Indicator, r: &copil_queries::IndicatorReport<'_>, f: &Filters) -> Markup {
    html! {
        form class="filtres" method="get" action=(format!("/indicateurs/{}", ind.id)) {
            label { "Mois"
                select name="mois" {
                    @for m in r.mois_disponibles.iter().rev() {
                        option value=(m.format("%Y-%m")) selected[*m == r.snapshot.mois] { (month_label(*m)) }
                    }
                }
            }
            label { "Vague"
                select name="vague" {
                    option value="" selected[f.vague.is_none()] { "Toutes" }
                    @for w in Wave::ALL {
                        option value=(w.code()) selected[f.vague == Some(w)] { (w.label()) }
                    }
                }
            }
            @if !ind.ventilations.is_empty() {
                label { "Ventilation"
                    select name="ventilation" {
                        option value="" selected[f.ventilation.is_none()] { "Aucune" }
                        @for v in &ind.ventilations {
                            option value=(v) selected[f.ventilation.as_deref() == Some(v.as_str())] { (copil_core::libelles::colonne(v)) }
                        }
                    }
                }
            }
            label { "Territoire mis en avant"
                select name="territoire" {
                    option value="" selected[f.territoire.is_none()] { "Aucun" }
                    @for t in by_name(&r.classement) {
                        option value=(t.territoire.id) selected[f.territoire.as_deref() == Some(t.territoire.id.as_str())] { (t.territoire.nom) }
                    }
                }
            }
            button type="submit" { "Afficher" }
        }
    }
}

/// The territories in alphabetical order (French collation is close enough with lower case).
fn by_name<'a>(ranked: &'a [copil_queries::Ranked<'a>]) -> Vec<&'a copil_queries::Ranked<'a>> {
    let mut v: Vec<_> = ranked.iter().collect();
    v.sort_by_key(|t| t.territoire.nom.to_lowercase());
    v
}

/// The highlighted territory's tile: its value, rank and wave (issue 15).
fn territory_tile(
    ind: &Indicator,
    r: &copil_queries::IndicatorReport<'_>,
    id: Option<&str>,
) -> Markup {
    let Some(t) = id.and_then(|id| r.classement.iter().find(|t| t.territoire.id == id)) else {
        return html! {};
    };
    html! {
        div class="tuile tuile-territoire" {
            h3 { a href=(format!("/territoires/{}", t.territoire.id)) { (t.territoire.nom) } }
            div class="valeur" { (value(ind, t.cell)) }
            div class="detail" {
                @if let Some(rang) = t.rang { "Rang " (rang) " sur " (r.classes) " territoires classés" }
                @else { "Non classé ce mois-ci" }
            }
            div class="detail" { (t.territoire.vague.label()) }
        }
    }
}

/// `/indicateurs/{id}`: ranking, map, series, before / after.
pub async fn indicator(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    Query(q): Query<filters::Query>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let ind = indicator_of(&state, &id)?;
    let mut f = q.check(Some(ind), state.register())?;
    // A territory team sees its own territory highlighted without choosing it (issue 15).
    if f.territoire.is_none() && user.role == copil_accounts::Role::Territoire {
        f.territoire.clone_from(&user.territoire);
    }
    let results = state.results();
    // The body is the same for every user with the same filters: drawn once per version.
    let key = format!("indicateur:{}{}", ind.id, f.query_string());
    let body = state.cached_body(&results, &key, || indicator_body(&state, &results, ind, &f))?;
    html_page(
        &state,
        &user,
        &headers,
        &results,
        &ind.titre,
        "/indicateurs",
        &maud::PreEscaped(body.to_string()),
    )
}

fn indicator_body(
    state: &AppState,
    results: &Results,
    ind: &Indicator,
    f: &Filters,
) -> Result<String, HttpError> {
    let r = report(state, results, ind, f)?;
    let qs = f.query_string();
    let base = format!("/indicateurs/{}", ind.id);
    let (rank_chart, rank_table) = figures::ranking(&r, f.territoire.as_deref());
    let (map_chart, map_table) = figures::map(&r, state.departments());
    let (series_chart, series_table) = figures::timeline(&r);
    let (ba_chart, ba_table) = figures::before_after(&r);
    let body = html! {
        p { (ind.definition) }
        (filter_form(ind, &r, f))
        h2 { "En " (month_label(r.snapshot.mois)) }
        @if let Some(why) = results.headline_reason(ind, state.register()) {
            p class="note" { "Mois de référence : " (why) "." }
        }
        @if let Some((m, why)) = &ind.rupture {
            p class="note" { "Rupture de série en " (month_label(*m)) " : " (why) "." }
        }
        div class="tuiles" {
            (territory_tile(ind, &r, f.territoire.as_deref()))
            div class="tuile" {
                h3 { "France" }
                div class="valeur" { (value(ind, r.snapshot.national)) }
                @if let Some(c) = r.snapshot.national { div class="detail" { (format_spread(ind.sorte, c)) } }
                div class="detail" { "Territoires : " (spread_text(ind, r.snapshot.dispersion)) }
            }
            @for ((w, c), (_, s)) in r.snapshot.vagues.iter().zip(&r.snapshot.dispersion_vagues) {
                div class="tuile" {
                    h3 { (w.label()) }
                    div class="valeur" { (value(ind, *c)) }
                    div class="detail" { "Territoires : " (spread_text(ind, *s)) }
                }
            }
        }
        @if let Some(t) = figures::breakdown(&r) {
            h2 { "Ventilation" }
            (t.html())
        }
        h2 { "Classement des territoires" }
        (figure(|w| chart::ranking(&rank_chart, w), &rank_table, &format!("{base}/classement.csv{qs}")))
        h2 { "Carte" }
        (figure(|w| chart::tile_map(&map_chart, w), &map_table, &format!("{base}/carte.csv{qs}")))
        h2 { "Évolution" }
        (figure(|w| chart::timeline(&series_chart, w), &series_table, &format!("{base}/evolution.csv{qs}")))
        h2 { "Avant / après l'entrée dans le SPIE" }
        (figure(|w| chart::before_after(&ba_chart, w), &ba_table, &format!("{base}/avant-apres.csv{qs}")))
        h2 { "Définition" }
        dl class="definition" {
            dt { "Numérateur" } dd { (ind.numerateur) }
            dt { "Dénominateur" } dd { (ind.denominateur) }
            dt { "Fenêtre" } dd { (ind.fenetre) }
            dt { "Maturité" } dd { (ind.maturite) }
            dt { "Sens" } dd { (direction(ind.direction)) }
        }
    };
    Ok(body.into_string())
}

/// `/indicateurs/{id}/{figure}.csv`: exactly what a chart shows.
pub async fn figure_csv(
    State(state): State<AppState>,
    user: User,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<filters::Query>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let ind = indicator_of(&state, &id)?;
    let f = q.check(Some(ind), state.register())?;
    let results = state.results();
    let r = report(&state, &results, ind, &f)?;
    let table = match file.as_str() {
        "classement.csv" => figures::ranking(&r, f.territoire.as_deref()).1,
        "carte.csv" => figures::map(&r, state.departments()).1,
        "evolution.csv" => figures::timeline(&r).1,
        "avant-apres.csv" => figures::before_after(&r).1,
        other => {
            return Err(HttpError::not_found(format!(
                "Fichier inconnu : « {other} ». Fichiers : classement.csv, carte.csv, evolution.csv, avant-apres.csv."
            )));
        }
    };
    cache::respond(
        &state,
        &user,
        &headers,
        &Kind::Csv(format!("{}-{}", ind.id, file)),
        table.to_csv(),
    )
}

/// `/territoires`: the register.
pub async fn territories(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let results = state.results();
    let body = html! {
        @for w in Wave::ALL {
            h2 { (w.label()) }
            ul {
                @for t in state.register().iter().filter(|t| t.vague == w) {
                    li { a href=(format!("/territoires/{}", t.id)) { (t.nom) } " (" (t.departements.join(", ")) ")" }
                }
            }
        }
    };
    html_page(
        &state,
        &user,
        &headers,
        &results,
        "Territoires",
        "/territoires",
        &body,
    )
}

/// `/territoires/{id}`: one territory against the nation, its wave and its peers.
pub async fn territory(
    State(state): State<AppState>,
    user: User,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let t = territory_of(&state, &id)?;
    let results = state.results();
    let r = results.territory(state.catalogue(), state.register(), t);
    let body = html! {
        p {
            (t.nom) " · " (t.vague.label()) " · début du SPIE : " (month_label(t.debut_spie))
            " · départements : " (t.departements.join(", "))
        }
        h2 { "Indicateurs" }
        div class="defilement" tabindex="0" { table {
            caption { "Chaque indicateur au dernier mois observable, comparé à la France, à la vague et aux pairs" }
            thead { tr {
                th scope="col" { "indicateur" } th scope="col" { "mois" }
                th scope="col" class="nombre" { (t.nom) } th scope="col" class="nombre" { "France" }
                th scope="col" class="nombre" { (t.vague.label()) } th scope="col" class="nombre" { "pairs (médiane)" }
                th scope="col" class="nombre" { "rang" } th scope="col" { "évolution" }
            } }
            tbody {
                @for l in &r.lignes {
                    tr {
                        th scope="row" { a href=(format!("/indicateurs/{}", l.indicateur.id)) { (l.indicateur.titre) } }
                        td { (month_label(l.mois)) }
                        td class="nombre" { (value(l.indicateur, l.territoire)) }
                        td class="nombre" { (value(l.indicateur, l.national)) }
                        td class="nombre" { (value(l.indicateur, l.vague)) }
                        td class="nombre" { (l.pairs.map_or("—".into(), |s| chart::format_value(s.mediane, figures::unit(l.indicateur.sorte)))) }
                        td class="nombre" { (l.rang.map_or("—".into(), |(a, b)| format!("{a} / {b}"))) }
                        td { (change(l.indicateur, l.tendance.1)) }
                    }
                }
            }
        } }
        h2 { "Pairs" }
        p { "Les " (r.pairs.len()) " territoires les plus proches par le nombre de personnes soumises aux droits et devoirs : "
            @for (i, p) in r.pairs.iter().enumerate() {
                @if i > 0 { ", " }
                a href=(format!("/territoires/{}", p.id)) { (p.nom) }
            }
        }
        h2 { "Qualité des données" }
        @if user.sees_details_of(&t.id) {
            (depots_table(&r.depots))
            p { a href=(format!("/territoires/{}/depots", t.id)) { "Dépôts, rejets ligne à ligne et dépôt d'une nouvelle extraction" } }
        } @else {
            p class="secret" { "Les dépôts et rejets de ce territoire sont réservés à son équipe et à l'équipe nationale." }
        }
    };
    html_page(
        &state,
        &user,
        &headers,
        &results,
        &t.nom,
        "/territoires",
        &body,
    )
}

/// A share as « 1,25 % » (two decimals, narrow no-break space).
pub(crate) fn percent(share: f64) -> String {
    format!(
        "{}\u{202f}%",
        nombres::decimal(share * 100.0, 2).unwrap_or_else(|| "—".into())
    )
}

pub(crate) fn depots_table(depots: &[&copil_queries::Depot]) -> Markup {
    use copil_warehouse::vocabulary::RejectReason;
    html! {
        @if depots.is_empty() {
            p { "Aucun dépôt traité." }
        } @else {
            div class="defilement" tabindex="0" { table {
                caption { "Dépôts traités, du plus récent au plus ancien, et lignes rejetées par motif" }
                thead { tr {
                    th scope="col" { "fichier" } th scope="col" { "extraction" } th scope="col" { "traité le" }
                    th scope="col" { "statut" } th scope="col" class="nombre" { "lignes lues" }
                    th scope="col" class="nombre" { "rejetées" }
                    @for reason in RejectReason::ALL { th scope="col" class="nombre" { (reason.label()) } }
                } }
                tbody {
                    @for d in depots {
                        tr {
                            th scope="row" { (d.fichier) }
                            td { (d.date_extraction.map(|e| e.format("%d/%m/%Y").to_string()).unwrap_or_default()) }
                            td { (d.traite_le.format("%d/%m/%Y %H:%M")) }
                            td { @if d.integre() { "intégré" } @else if d.statut == "en_attente" { "en attente d'examen : " (crate::error::without_paths(d.message.as_deref().unwrap_or_default())) } @else { "refusé : " (crate::error::without_paths(d.message.as_deref().unwrap_or_default())) } }
                            td class="nombre" { (nombres::entier(d.lignes_lues)) }
                            td class="nombre" { (nombres::entier(d.lignes_rejetees)) " (" (percent(d.taux_rejet())) ")" }
                            @for (_, n) in &d.rejets { td class="nombre" { (nombres::entier(*n)) } }
                        }
                    }
                }
            } }
        }
    }
}

/// `/qualite`: every territory's last drop, its age and its rejection rate.
pub async fn quality(
    State(state): State<AppState>,
    user: User,
    Query(released): Query<crate::held::Released>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    user.require_quality()?;
    let results = state.results();
    let mut rows = results.quality(state.register(), state.clock().today());
    rows.retain(|q| user.sees_details_of(&q.territoire.id));
    let body = html! {
        @if let Some(m) = crate::held::release_outcome(&state, &user, &released) { (m) }
        p { "Pour chaque territoire : son dernier dépôt intégré, l'âge de son extraction au " (state.clock().today().format("%d/%m/%Y")) ", et la part de lignes rejetées. Un dépôt « en attente d'examen » (sans ligne valide, trop de rejets, trop de personnes perdues, ou daté dans le futur) n'est pas intégré : les données précédentes restent en vigueur. Après examen, un compte « national » ou « admin » l'intègre par le bouton « Intégrer ce dépôt » ci-dessous (ou l'API), ou un administrateur du serveur par « copil ingest --liberer FICHIER »." }
        @if user.may_release() {
            p { "Intégrer un dépôt en attente lève les garde-fous (part de lignes rejetées, personnes perdues, date d'extraction future) : il remplace les données de son territoire. Le contrat du fichier, les limites et l'ordre des extractions s'appliquent toujours ; l'opération est journalisée." }
        }
        div class="defilement" tabindex="0" { table {
            caption { "Dernier dépôt intégré par territoire" }
            thead { tr {
                th scope="col" { "territoire" } th scope="col" { "vague" } th scope="col" { "fichier" }
                th scope="col" { "extraction" } th scope="col" class="nombre" { "âge (jours)" }
                th scope="col" class="nombre" { "lignes lues" } th scope="col" class="nombre" { "taux de rejet" }
                th scope="col" class="nombre" { "refus depuis" }
                th scope="col" { "en attente d'examen" }
            } }
            tbody {
                @for q in &rows {
                    tr {
                        th scope="row" { a href=(format!("/territoires/{}", q.territoire.id)) { (q.territoire.nom) } }
                        td { (q.territoire.vague.label()) }
                        @if let Some(d) = q.dernier {
                            td { (d.fichier) }
                            td { (d.date_extraction.map(|e| e.format("%d/%m/%Y").to_string()).unwrap_or_default()) }
                            td class="nombre" { (q.age_jours.map(nombres::entier).unwrap_or_default()) }
                            td class="nombre" { (nombres::entier(d.lignes_lues)) }
                            td class="nombre" { (percent(d.taux_rejet())) }
                        } @else {
                            td colspan="5" class="secret" { "aucun dépôt intégré" }
                        }
                        td class="nombre" { (nombres::entier(q.refuses as i128)) }
                        td { @for (i, d) in q.en_attente.iter().enumerate() {
                            @if i > 0 { ", " }
                            (d.fichier) " : " (crate::error::without_paths(d.message.as_deref().unwrap_or_default()))
                            @if let Some(n) = crate::held::held_name(&state, d) { (crate::held::release_form(&user, &d.territoire, &n)) }
                        } }
                    }
                }
            }
        } }
    };
    html_page(
        &state,
        &user,
        &headers,
        &results,
        "Qualité des données",
        "/qualite",
        &body,
    )
}

/// `/methodologie`: definitions, secrecy rules, sources.
pub async fn methodology(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    let results = state.results();
    let seuil = state.settings().threshold;
    let body = html! {
        h2 { "Sources" }
        p { "Chaque territoire dépose un extrait de ses parcours (CSV ou XLSX). Copil le valide ligne à ligne, le pseudonymise (HMAC-SHA-256 du NIR, ou de l'identifiant local, avec une clé secrète) et l'intègre dans des tables Delta Lake. Seuls l'année de naissance et le département sont conservés : ni NIR, ni nom, ni adresse, ni téléphone, ni courriel, ni date de naissance exacte, ni commune." }
        p { "Chaque dépôt remplace entièrement les données précédentes de son territoire. Un territoire n'est observé que jusqu'à sa date d'extraction : un mois n'est publié que lorsqu'il est complet (et, pour les indicateurs de cohorte, lorsque la fenêtre d'observation est écoulée)." }
        h2 { "Secret statistique" }
        p { "Aucun chiffre publié ne doit permettre de connaître la situation d'un petit groupe de personnes, ni directement, ni par calcul à partir d'autres chiffres publiés. Les règles suivantes s'appliquent à toute sortie : pages, graphiques, tableaux de données, API JSON, fichiers CSV, XLSX et Parquet." }
        ul {
            li { strong { "Secret primaire. " } "Une case est masquée lorsqu'elle compte entre 1 et " (seuil - 1) " personnes, lorsque le dénominateur d'un taux est dans ce cas, ou lorsqu'un délai (médiane, moyenne, quartiles) porte sur moins de " (seuil) " personnes." }
            li { strong { "Numérateurs. " } "Un numérateur entre 1 et " (seuil - 1) " est masqué lui aussi, même si le dénominateur est grand : compter 4 personnes ayant un frein de santé parmi 200 révèle une caractéristique de 4 personnes, aussi sensible qu'une petite population. Un zéro, lui, est publié comme zéro." }
            li { strong { "Zéros et modalités. " } "Chaque modalité d'une ventilation est écrite pour chaque territoire et chaque mois, même vide : une ligne absente ne vaut jamais zéro, et une case secrète ne peut pas se déduire de l'absence des autres." }
            li { strong { "Tableaux liés et secret secondaire. " } "Les chiffres publiés s'emboîtent : les territoires s'additionnent en vagues et en France, les modalités en total, les cases « avant / après » reprennent les vagues. Retrancher d'une vague ses territoires publiés redonnerait un territoire masqué. D'autres cases sont donc masquées, les petits territoires de préférence à une vague ou à la France, jusqu'à ce que, pour chaque case secrète, les valeurs compatibles avec tout ce qui est publié (les sommes, et des effectifs positifs) s'étendent sur au moins " (seuil) " personnes : la valeur exacte reste inconnue à " (seuil) " près." }
            li { strong { "Indicateurs jumeaux. " } "Certains indicateurs publient le même effectif : les entrants du mois sont le dénominateur des orientations en 30 et 45 jours ; les personnes en droits et devoirs, celui de la part d'orientés (et, le mois suivant, des sorties vers l'emploi) ; les orientés du mois, celui des indicateurs de contrat, de rendez-vous, de diagnostic et de réorientation ; les orientés hors France Travail se déduisent de la part des orientations vers France Travail. Un tel effectif est masqué dans tous ses indicateurs ou publié dans tous ; et deux chiffres de vague ou de la France qui ne comptent pas les mêmes territoires (une fenêtre d'observation plus longue en écarte les plus récents) ne sont publiés ensemble que si chaque territoire de la différence est publié." }
            li { strong { "Audit. " } "À chaque calcul, Copil attaque lui-même la table publiée comme le ferait un extérieur : pour chaque case secrète, il calcule la plus petite et la plus grande valeur compatibles avec les chiffres publiés (un petit programme linéaire par indicateur et par mois). Une table qui ne passe pas l'audit n'est pas publiée ; la précédente reste en place. La commande « copil indicators audit » imprime ce contrôle." }
            li { strong { "Ce que cela coûte. " } "Des cases non sensibles sont masquées pour protéger les autres, surtout pour les petits territoires et les ventilations fines ; la valeur nationale reste publiée dès qu'une protection par des territoires suffit." }
            li { "Une case masquée est affichée « secret », jamais zéro ; elle n'entre ni dans les classements, ni dans les médianes de territoires, ni dans les courbes." }
        }
        h2 { "Couverture et cases provisoires" }
        p { "Chaque territoire n'est observé que jusqu'à la date d'extraction de son dernier dépôt, et les territoires déposent à des dates différentes. Une case de vague ou de la France n'additionne que les territoires dont le mois est complet ; elle indique combien de territoires elle compte sur combien sont en vigueur ce mois-là, et quelle part des personnes du niveau ils représentent. Elle n'est publiée qu'à partir de " (state.settings().coverage_percent) " % de ces personnes, et reste marquée « provisoire » (p) tant qu'un territoire manque : une série ne chute donc jamais parce qu'un dépôt est en retard." }
        p { "Le mois de référence des pages est le dernier mois complet pour tous les territoires en vigueur ; il est le même pour tous les indicateurs sans fenêtre d'observation. Un indicateur de cohorte avec une fenêtre (par exemple une réorientation dans les 365 jours) a un mois de référence plus ancien, le dernier dont la fenêtre est écoulée partout." }
        p { "Un territoire qui cède ses départements à un autre (le Bas-Rhin à la Collectivité européenne d'Alsace en janvier 2021) compte jusqu'à sa fin, son successeur ensuite : chaque département n'est compté qu'une fois dans les chiffres de la France." }
        h2 { "Comparaisons" }
        p { "France et vagues : somme des numérateurs et dénominateurs des territoires (les délais fusionnent leurs distributions, médianes et quartiles exacts). Dispersion : médiane et quartiles des valeurs publiées des territoires. Pairs : les " (copil_queries::PEERS) " territoires les plus proches par le nombre de personnes soumises aux droits et devoirs. Rang : parmi les valeurs publiées, pour les indicateurs qui ont un sens. Intervalle de confiance à 95 % des taux : méthode de Wilson." }
        h2 { "Définitions des indicateurs" }
        @for ind in state.catalogue().iter() {
            h3 id=(ind.id) { (ind.titre) }
            dl class="definition" {
                dt { "Définition" } dd { (ind.definition) }
                dt { "Numérateur" } dd { (ind.numerateur) }
                dt { "Dénominateur" } dd { (ind.denominateur) }
                dt { "Fenêtre" } dd { (ind.fenetre) }
                dt { "Maturité" } dd { (ind.maturite) }
                dt { "Sens" } dd { (direction(ind.direction)) }
                dt { "Ventilations" } dd { (if ind.ventilations.is_empty() { "aucune".to_string() } else { ind.ventilations.join(", ") }) }
                @if let Some(l) = &ind.lecture {
                    dt { "Lecture retenue" } dd { (l) }
                }
                @if let Some((m, why)) = &ind.rupture {
                    dt { "Rupture de série" } dd { (month_label(*m)) " : " (why) }
                }
            }
        }
    };
    html_page(
        &state,
        &user,
        &headers,
        &results,
        "Méthodologie",
        "/methodologie",
        &body,
    )
}
