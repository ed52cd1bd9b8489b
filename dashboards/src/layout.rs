//! The page frame: header, navigation, the « données au … » banner, footer. No external
//! resource: the stylesheet and icon are served by the app.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The navigation entries: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/", "Vue nationale"),
    ("/indicateurs", "Indicateurs"),
    ("/territoires", "Territoires"),
    ("/qualite", "Qualité des données"),
    ("/methodologie", "Méthodologie"),
    ("/api", "API"),
];

/// What every page states about its data.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// « données au … » text.
    pub donnees_au: String,
    /// Secrecy threshold.
    pub seuil: i64,
    /// Warehouse versions, for the footer.
    pub versions: String,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — Copil" }
            link rel="stylesheet" href="/static/copil.css";
            link rel="icon" type="image/svg+xml" href="/static/favicon.svg";
        }
    }
}

fn header(current: &str) -> Markup {
    html! {
        a class="lien-evitement" href="#contenu" { "Aller au contenu" }
        header class="entete" {
            div class="haut" {
                div class="marianne" { "République" br; "française" }
                a class="service" href="/" {
                    "Copil"
                    small { "Pilotage du Service public de l'insertion et de l'emploi" }
                }
            }
            nav class="principale" aria-label="Menu principal" {
                @for (path, label) in NAV {
                    @let active = if *path == "/" { current == "/" } else { current.starts_with(path) };
                    @if active {
                        a href=(path) aria-current="page" { (label) }
                    } @else {
                        a href=(path) { (label) }
                    }
                }
            }
        }
    }
}

/// A full page.
pub fn page(title: &str, current: &str, provenance: &Provenance, body: &Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="fr" {
            (head(title))
            body {
                (header(current))
                main id="contenu" {
                    h1 { (title) }
                    p class="bandeau" {
                        "Données au " (provenance.donnees_au)
                        " · Secret statistique : aucun chiffre publié sur moins de "
                        strong { (provenance.seuil) } " personnes"
                    }
                    (body)
                }
                footer {
                    div {
                        "Copil · données pseudonymisées, secret statistique appliqué à toute sortie · "
                        (provenance.versions)
                    }
                }
            }
        }
    }
    .into_string()
}

/// A page without data (errors).
pub fn bare(title: &str, message: &str) -> String {
    html! {
        (DOCTYPE)
        html lang="fr" {
            (head(title))
            body {
                (header(""))
                main id="contenu" {
                    h1 { (title) }
                    p { (message) }
                    p { a href="/" { "Retour à la vue nationale" } }
                }
            }
        }
    }
    .into_string()
}

/// An SVG produced by the chart module, embedded as is.
pub fn svg(svg: &str) -> Markup {
    PreEscaped(svg.to_string())
}
