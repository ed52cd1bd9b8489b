//! The indicator page: tiles, ranking, map, trend and before / after, each figure with its notes,
//! its data table and its CSV.

use super::*;

/// The notes under a figure, as statistical publications write them (issue 15).
struct Notes {
    lecture: String,
    champ: String,
    source: String,
}

/// The notes of an indicator's figures: who is counted (filters included), where from, and how
/// to read the headline value.
fn notes(
    state: &AppState,
    results: &Results,
    ind: &Indicator,
    f: &Filters,
    lecture: String,
) -> Notes {
    let territories = match f.vague {
        Some(w) => format!("territoires de la vague « {} »", w.label()),
        None => "territoires du SPIE".to_string(),
    };
    Notes {
        lecture,
        champ: format!("{} ; {}.", ind.denominateur, territories),
        source: format!(
            "extractions des parcours déposées par les territoires (données au {}), calcul Copil, secret statistique appliqué (seuil de {} personnes).",
            provenance(state, results).donnees_au,
            state.settings().threshold
        ),
    }
}

/// A chart drawn at both widths (the stylesheet shows one), its CSV and its data table.
fn figure(draw: impl Fn(i32) -> String, table: &Table, csv: &str, notes: &Notes) -> Markup {
    html! {
        figure {
            div class="graphique-large" { (layout::svg(&draw(chart::WIDE))) }
            div class="graphique-etroit" { (layout::svg(&draw(chart::NARROW))) }
            p class="notes-figure" {
                strong { "Lecture : " } (notes.lecture) br;
                strong { "Champ : " } (notes.champ) br;
                strong { "Source : " } (notes.source)
            }
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

/// « En mars 2025, la valeur de la France est de 45,2 % ; … »
fn ranking_reading(ind: &Indicator, r: &copil_queries::IndicatorReport<'_>) -> String {
    let mois = month_label(r.snapshot.mois);
    match r.snapshot.national.filter(|c| !c.secret) {
        Some(c) => format!(
            "en {mois}, « {} » vaut {} pour la France ; chaque barre donne la valeur d'un territoire, le trait son intervalle ; ▲ et ▼ marquent les territoires nettement au-dessus ou au-dessous de la France.",
            ind.titre,
            format_value(ind.sorte, c)
        ),
        None => format!("en {mois}, chaque barre donne la valeur d'un territoire."),
    }
}

/// The highlighted territory's name and monthly values, for its curve on the trend chart.
fn highlighted<'a>(
    state: &'a AppState,
    results: &Results,
    ind: &Indicator,
    f: &Filters,
) -> Option<(&'a str, figures::Monthly)> {
    let t = state.register().get(f.territoire.as_deref()?)?;
    let points = results.monthly(&ind.id, copil_queries::Niveau::Territoire, &t.id);
    Some((t.nom.as_str(), points))
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
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<filters::Query>,
) -> Result<Response, HttpError> {
    let ind = indicator_of(&c.state, &id)?;
    let mut f = q.check(Some(ind), c.state.register())?;
    // A territory team sees its own territory highlighted without choosing it (issue 15).
    if f.territoire.is_none() && c.user.role == copil_accounts::Role::Territoire {
        f.territoire.clone_from(&c.user.territoire);
    }
    let results = c.state.results();
    // The body is the same for every user with the same filters: drawn once per version.
    let key = format!("indicateur:{}{}", ind.id, f.query_string());
    let body = c.state.cached_body(&results, &key, || {
        indicator_body(&c.state, &results, ind, &f)
    })?;
    cached_page(&c, &results, &ind.titre, "/indicateurs", body)
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
    let own = highlighted(state, results, ind, f);
    let (series_chart, series_table) = figures::timeline(&r, own);
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
        (figure(|w| chart::ranking(&rank_chart, w), &rank_table, &format!("{base}/classement.csv{qs}"), &notes(state, results, ind, f, ranking_reading(ind, &r))))
        h2 { "Carte" }
        (figure(|w| chart::tile_map(&map_chart, w), &map_table, &format!("{base}/carte.csv{qs}"), &notes(state, results, ind, f, "chaque département prend la couleur du territoire qui le couvre ; plus la couleur est foncée, plus la valeur est élevée.".into())))
        h2 { "Évolution" }
        (figure(|w| chart::timeline(&series_chart, w), &series_table, &format!("{base}/evolution.csv{qs}"), &notes(state, results, ind, f, "chaque point est la valeur d'un mois ; « (p) » et la marque « provisoire » signalent les mois où tous les territoires n'ont pas encore transmis.".into())))
        h2 { "Avant / après l'entrée dans le SPIE" }
        (figure(|w| chart::before_after(&ba_chart, w), &ba_table, &format!("{base}/avant-apres.csv{qs}"), &notes(state, results, ind, f, "le mois 0 est le début du SPIE dans les territoires de la vague ; la courbe compare l'avant et l'après.".into())))
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
    c: Ctx,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<filters::Query>,
) -> Result<Response, HttpError> {
    let ind = indicator_of(&c.state, &id)?;
    let f = q.check(Some(ind), c.state.register())?;
    let results = c.state.results();
    let r = report(&c.state, &results, ind, &f)?;
    let table = match file.as_str() {
        "classement.csv" => figures::ranking(&r, f.territoire.as_deref()).1,
        "carte.csv" => figures::map(&r, c.state.departments()).1,
        "evolution.csv" => figures::timeline(&r, highlighted(&c.state, &results, ind, &f)).1,
        "avant-apres.csv" => figures::before_after(&r).1,
        other => {
            return Err(HttpError::not_found(format!(
                "Fichier inconnu : « {other} ». Fichiers : classement.csv, carte.csv, evolution.csv, avant-apres.csv."
            )));
        }
    };
    cache::respond(
        &c,
        &Kind::Csv(format!("{}-{}", ind.id, file)),
        table.to_csv(),
    )
}
