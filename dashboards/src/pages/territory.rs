//! The register (searchable, sortable) and one territory against the nation, its wave and its
//! peers, with its small multiples.

use super::*;

/// `/territoires`: the register, searchable and sortable, with each territory's size and the
/// freshness of its data.
pub async fn territories(c: Ctx, Query(list): Query<ListQuery>) -> Result<Response, HttpError> {
    let results = c.state.results();
    let search = list.search();
    let tri = list
        .tri
        .as_deref()
        .filter(|t| ["nom", "vague", "taille", "age"].contains(t))
        .unwrap_or("vague");
    let sizes = results.sizes(c.state.register());
    let quality = results.quality(c.state.register(), c.state.clock().today());
    let mut rows: Vec<_> = quality
        .iter()
        .filter(|q| {
            search.is_empty()
                || q.territoire.nom.to_lowercase().contains(&search)
                || q.territoire.id.contains(&search)
                || q.territoire
                    .departements
                    .iter()
                    .any(|d| d.to_lowercase() == search)
        })
        .map(|q| (q, sizes.get(&q.territoire.id).copied()))
        .collect();
    let wave_rank = |w: Wave| Wave::ALL.iter().position(|x| *x == w).unwrap_or(0);
    match tri {
        "nom" => rows.sort_by_key(|(q, _)| q.territoire.nom.to_lowercase()),
        "taille" => rows.sort_by(|a, b| b.1.unwrap_or(-1.0).total_cmp(&a.1.unwrap_or(-1.0))),
        "age" => rows.sort_by_key(|(q, _)| q.age_jours.unwrap_or(i64::MAX)),
        _ => rows.sort_by_key(|(q, _)| {
            (
                wave_rank(q.territoire.vague),
                q.territoire.nom.to_lowercase(),
            )
        }),
    }
    let body = html! {
        form class="filtres" method="get" action="/territoires" role="search" {
            label { "Rechercher un territoire (nom ou numéro de département)"
                input type="search" name="q" value=(search) maxlength="80";
            }
            input type="hidden" name="tri" value=(tri);
            button type="submit" { "Rechercher" }
        }
        p role="status" { (rows.len()) " territoires sur " (quality.len()) @if !search.is_empty() { " pour « " (search) " »" } "." }
        div class="defilement" tabindex="0" { table {
            caption { "Territoires du SPIE : vague, personnes soumises aux droits et devoirs (dernier mois publié) et fraîcheur des données" }
            thead { tr {
                (sort_header("territoire", "nom", tri, &search, false))
                th scope="col" { "départements" }
                (sort_header("vague", "vague", tri, &search, false))
                (sort_header("droits et devoirs", "taille", tri, &search, true))
                th scope="col" { "extraction" }
                (sort_header("âge (jours)", "age", tri, &search, true))
            } }
            tbody {
                @for (q, size) in &rows {
                    tr {
                        th scope="row" { a href=(format!("/territoires/{}", q.territoire.id)) { (q.territoire.nom) } }
                        td { (q.territoire.departements.join(", ")) }
                        td { (q.territoire.vague.label()) }
                        td class="nombre" { (size.map_or_else(|| "secret ou sans données".to_string(), |v| nombres::entier(v.round() as i64))) }
                        td { (q.dernier.and_then(|d| d.date_extraction).map(|e| e.format("%d/%m/%Y").to_string()).unwrap_or_else(|| "aucun dépôt".into())) }
                        td class="nombre" { (q.age_jours.map(nombres::entier).unwrap_or_default()) }
                    }
                }
            }
        } }
    };
    html_page(&c, &results, "Territoires", "/territoires", &body)
}

/// `/territoires/{id}`: one territory against the nation, its wave and its peers.
pub async fn territory(c: Ctx, Path(id): Path<String>) -> Result<Response, HttpError> {
    let t = territory_of(&c.state, &id)?;
    let results = c.state.results();
    // The body depends on the user only through whether they see the territory's drops: drawn
    // once per version for each (issue 16: p99 under 20 ms at 32 clients).
    let details = c.user.sees_details_of(&t.id);
    let key = format!("territoire:{}:{details}", t.id);
    let body = c.state.cached_body(&results, &key, || {
        Ok(territory_body(&c.state, &results, t, details))
    })?;
    cached_page(
        &c,
        &results,
        &t.nom,
        &format!("/territoires/{}", t.id),
        body,
    )
}

fn territory_body(state: &AppState, results: &Results, t: &Territory, details: bool) -> String {
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
        h2 { "En graphiques" }
        p { "Chaque indicateur sur 24 mois : " (t.nom) ", la France et " (t.vague.label()) ". Les valeurs sont dans le tableau ci-dessus et sur la page de chaque indicateur." }
        div class="multiples" {
            @for l in &r.lignes {
                figure {
                    (layout::svg(&chart::timeline(&small_multiple(results, t, l.indicateur, l.mois), chart::NARROW)))
                    figcaption { a href=(format!("/indicateurs/{}?territoire={}", l.indicateur.id, t.id)) { (l.indicateur.titre) " : page de l'indicateur" } }
                }
            }
        }
        h2 { "Pairs" }
        p { "Les " (r.pairs.len()) " territoires les plus proches par le nombre de personnes soumises aux droits et devoirs : "
            @for (i, p) in r.pairs.iter().enumerate() {
                @if i > 0 { ", " }
                a href=(format!("/territoires/{}", p.id)) { (p.nom) }
            }
        }
        h2 { "Qualité des données" }
        @if details {
            (depots_table(&r.depots))
            p { a href=(format!("/territoires/{}/depots", t.id)) { "Dépôts, rejets ligne à ligne et dépôt d'une nouvelle extraction" } }
        } @else {
            p class="secret" { "Les dépôts et rejets de ce territoire sont réservés à son équipe et à l'équipe nationale." }
        }
    };
    body.into_string()
}

/// One indicator over the 24 months up to `mois`: the territory, France and its wave.
fn small_multiple(
    results: &Results,
    t: &Territory,
    ind: &Indicator,
    mois: chrono::NaiveDate,
) -> chart::Timeline {
    use copil_queries::Niveau;
    let from = mois - chrono::Months::new(23);
    let window = |points: Vec<(chrono::NaiveDate, Option<f64>)>| -> Vec<_> {
        points
            .into_iter()
            .filter(|(m, _)| *m >= from && *m <= mois)
            .collect()
    };
    let wave = Wave::ALL.iter().position(|w| *w == t.vague).unwrap_or(0);
    let line = |label: &str, niveau: Niveau, code: &str, tone: chart::Tone| chart::Series {
        label: label.to_string(),
        points: window(results.monthly(&ind.id, niveau, code)),
        tone,
    };
    chart::Timeline {
        caption: chart::Caption {
            title: format!("{} — {}, France et {}", ind.titre, t.nom, t.vague.label()),
            desc: format!(
                "Courbes mensuelles de {} à {} : {}, la France et sa vague ; une courbe interrompue signale un mois secret ou sans données.",
                month_label(from),
                month_label(mois),
                t.nom
            ),
        },
        unit: figures::unit(ind.sorte),
        series: vec![
            line(&t.nom, Niveau::Territoire, &t.id, chart::Tone::Territory),
            line("France", Niveau::National, "national", chart::Tone::France),
            line(
                t.vague.label(),
                Niveau::Vague,
                t.vague.code(),
                chart::Tone::Wave(wave),
            ),
        ],
        marks: Vec::new(),
    }
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
