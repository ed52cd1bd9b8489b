//! The French pages: each handler extracts its parameters, makes one call into
//! `copil_queries::Results`, and renders. One module per page family: [`indicator`] (the
//! indicator page and its figures), [`territory`] (the register and one territory),
//! [`quality`] (data quality and methodology); the national view and the shared pieces here.

use axum::extract::{Path, Query};
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
use crate::session::Ctx;
use crate::state::AppState;

mod indicator;
mod quality;
mod territory;

pub use indicator::{figure_csv, indicator};
pub use quality::{methodology, quality};
pub(crate) use territory::depots_table;
pub use territory::{territories, territory};

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
            "version {} des indicateurs, calculée sur la version {} des événements et {} des dépôts",
            results.version, results.version_evenements, results.version_depots
        ),
    }
}

/// A full page, with its provenance and the version headers.
fn html_page(
    c: &Ctx,
    results: &Results,
    title: &str,
    current: &str,
    body: &impl maud::Render,
) -> Result<Response, HttpError> {
    let p = provenance(&c.state, results);
    cache::respond(
        c,
        &Kind::Html,
        layout::page(c.state.brand(), title, current, &c.user, &p, body),
    )
}

/// A full page around a body cached for this version (its gzip segment made once).
fn cached_page(
    c: &Ctx,
    results: &Results,
    title: &str,
    current: &str,
    body: std::sync::Arc<crate::packed::CachedBody>,
) -> Result<Response, HttpError> {
    let p = provenance(&c.state, results);
    let (head, tail) = layout::page_around(c.state.brand(), title, current, &c.user, &p);
    cache::respond(
        c,
        &Kind::Html,
        crate::packed::Payload::Around { head, body, tail },
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

/// `/`: the national view.
pub async fn national(c: Ctx) -> Result<Response, HttpError> {
    let results = c.state.results();
    let body = c.state.cached_body(&results, "nationale", || {
        Ok(national_body(&c.state, &results))
    })?;
    cached_page(&c, &results, "Vue nationale", "/", body)
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
pub async fn indicators(c: Ctx, Query(list): Query<ListQuery>) -> Result<Response, HttpError> {
    let results = c.state.results();
    let search = list.search();
    let shown: Vec<&Indicator> = c
        .state
        .catalogue()
        .iter()
        .filter(|ind| {
            search.is_empty()
                || ind.titre.to_lowercase().contains(&search)
                || ind.definition.to_lowercase().contains(&search)
                || ind.id.contains(&search)
        })
        .collect();
    let body = html! {
        form class="filtres" method="get" action="/indicateurs" role="search" {
            label { "Rechercher un indicateur"
                input type="search" name="q" value=(search) maxlength="80";
            }
            button type="submit" { "Rechercher" }
        }
        p role="status" { (shown.len()) " indicateurs sur " (c.state.catalogue().iter().count()) @if !search.is_empty() { " pour « " (search) " »" } "." }
        div class="defilement" tabindex="0" { table {
            caption { "Les indicateurs du SPIE" }
            thead { tr { th scope="col" { "indicateur" } th scope="col" { "définition" } th scope="col" { "sens" } } }
            tbody {
                @for ind in &shown {
                    tr {
                        th scope="row" { a href=(format!("/indicateurs/{}", ind.id)) { (ind.titre) } }
                        td { (ind.definition) }
                        td { (direction(ind.direction)) }
                    }
                }
            }
        } }
    };
    html_page(&c, &results, "Indicateurs", "/indicateurs", &body)
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
            let available = copil_queries::available_months(results.months(&ind.id))
                .unwrap_or_else(|| "aucun chiffre publié pour l'instant".into());
            HttpError::not_found(format!(
                "Aucun chiffre de « {} » pour {} ; {available}.",
                ind.titre,
                f.mois.map_or("ce mois".into(), month_label)
            ))
        })
}

/// The `?q=…&tri=…` of the lists: a search and a sort, in the URL so that no script is needed
/// (issue 15).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    tri: Option<String>,
}

impl ListQuery {
    /// The search, lower-cased, trimmed and bounded.
    fn search(&self) -> String {
        self.q
            .as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(80)
            .collect::<String>()
            .to_lowercase()
    }
}

/// A column header that sorts the list by `key` (and says which sort is in force).
fn sort_header(label: &str, key: &str, current: &str, search: &str, numeric: bool) -> Markup {
    let href = if search.is_empty() {
        format!("?tri={key}")
    } else {
        format!("?q={}&tri={key}", crate::session::encode_component(search))
    };
    let sorted = if current == key { "ascending" } else { "none" };
    html! {
        th scope="col" class=[numeric.then_some("nombre")] aria-sort=(sorted) {
            a href=(href) { (label) @if current == key { " ▲" } }
        }
    }
}

/// A share as « 1,25 % » (two decimals, narrow no-break space).
pub(crate) fn percent(share: f64) -> String {
    format!(
        "{}\u{202f}%",
        nombres::decimal(share * 100.0, 2).unwrap_or_else(|| "—".into())
    )
}
