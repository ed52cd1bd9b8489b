//! The page frame: header, navigation, the « données au … » banner, footer. No external
//! resource: the stylesheet and icon are served by the app.

use copil_accounts::Role;
use maud::{DOCTYPE, Markup, PreEscaped, Render, html};

use crate::user::User;

/// The navigation entries of a user: (path, label). Links are a convenience only: every
/// handler checks the role itself.
fn nav(user: Option<&User>) -> Vec<(String, &'static str)> {
    let Some(user) = user else {
        return Vec::new();
    };
    let mut entries = vec![
        ("/".to_string(), "Vue nationale"),
        ("/indicateurs".to_string(), "Indicateurs"),
        ("/territoires".to_string(), "Territoires"),
    ];
    if let (Role::Territoire, Some(t)) = (user.role, &user.territoire) {
        // The team's own path (issue 15): its territory page, then its drops.
        entries.insert(1, (format!("/territoires/{t}"), "Mon territoire"));
        entries.push((format!("/territoires/{t}/depots"), "Nos dépôts"));
    }
    if user.sees_quality() {
        entries.push(("/qualite".to_string(), "Qualité des données"));
    }
    if user.may_export() {
        entries.push(("/exports".to_string(), "Exports"));
    }
    if user.role == Role::Admin {
        entries.push(("/admin/comptes".to_string(), "Comptes"));
    }
    entries.push(("/methodologie".to_string(), "Méthodologie"));
    entries.push(("/api".to_string(), "API"));
    entries
}

/// The hidden CSRF field of a form.
pub fn csrf_field(user: &User) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf); }
}

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

/// The menu entry of `current`: the longest matching path, so that « Nos dépôts »
/// (`/territoires/X/depots`) wins over « Territoires » (issue 15).
fn active<'a>(entries: &'a [(String, &'static str)], current: &str) -> Option<&'a str> {
    entries
        .iter()
        .map(|(path, _)| path.as_str())
        .filter(|path| {
            if *path == "/" {
                current == "/"
            } else {
                current == *path
                    || current
                        .strip_prefix(*path)
                        .is_some_and(|rest| rest.starts_with(['/', '?']))
            }
        })
        .max_by_key(|path| path.len())
}

fn header(brand: Brand, current: &str, user: Option<&User>) -> Markup {
    let entries = nav(user);
    let current = active(&entries, current);
    html! {
        a class="lien-evitement" href="#contenu" { "Aller au contenu" }
        header class="entete" {
            div class="haut" {
                @if brand == Brand::State {
                    div class="marianne" { "République" br; "française" }
                }
                a class="service" href="/" {
                    "Copil"
                    small { "Pilotage du Service public de l'insertion et de l'emploi" }
                }
                @if let Some(u) = user {
                    div class="compte" {
                        a href="/compte" { (u.login) } " · " (u.role.label())
                        @if let Some(t) = &u.territoire { " (" (t) ")" }
                        form method="post" action="/deconnexion" {
                            (csrf_field(u))
                            button type="submit" class="discret" { "Se déconnecter" }
                        }
                    }
                }
            }
            nav class="principale" aria-label="Menu principal" {
                @for (path, label) in &entries {
                    @if current == Some(path.as_str()) {
                        a href=(path) aria-current="page" { (label) }
                    } @else {
                        a href=(path) { (label) }
                    }
                }
            }
        }
    }
}

/// Whose header a page wears: the State's « République française » block only when the
/// deployment says it is a State service (`server.service_de_l_etat`), a neutral Copil one
/// otherwise (issue 15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brand {
    /// A service of the French State.
    State,
    /// Any other deployment.
    Neutral,
}

impl Brand {
    /// The brand of a deployment.
    pub fn of(state_service: bool) -> Brand {
        if state_service {
            Brand::State
        } else {
            Brand::Neutral
        }
    }
}

/// The document around every page: head, header with the user's menu, `main` with the title
/// then `content`, and `footer` when given.
fn document(
    brand: Brand,
    title: &str,
    current: &str,
    user: Option<&User>,
    content: &impl Render,
    footer: Option<&Markup>,
) -> String {
    html! {
        (DOCTYPE)
        html lang="fr" {
            (head(title))
            body {
                (header(brand, current, user))
                main id="contenu" {
                    h1 { (title) }
                    (content)
                }
                @if let Some(footer) = footer { footer { (footer) } }
            }
        }
    }
    .into_string()
}

/// A full page.
pub fn page(
    brand: Brand,
    title: &str,
    current: &str,
    user: &User,
    provenance: &Provenance,
    body: &impl Render,
) -> String {
    let banner = html! {
        span id="impression" {}
        p class="bandeau" {
            "Données au " (provenance.donnees_au)
            " · Secret statistique : aucun chiffre publié sur moins de "
            strong { (provenance.seuil) } " personnes"
        }
        p class="imprimer" {
            a href="#impression" { "Version imprimable" }
            span class="consigne-impression" { " : la page telle qu'elle s'imprime (A4) ; imprimez-la avec Ctrl+P. " a href="#contenu" { "Revenir à la page" } }
        }
    };
    // The body (a cached page weighs hundreds of kilobytes) is copied once, into the page.
    let content = Then(&banner, body);
    let footer = html! {
        div {
            "Copil · données pseudonymisées, secret statistique appliqué à toute sortie · "
            (provenance.versions)
        }
    };
    document(brand, title, current, Some(user), &content, Some(&footer))
}

/// A full page around a body given later: the text before the body, and the text after it
/// (the cached body goes between them: its gzip segment is made once per version, issue 16).
pub fn page_around(
    brand: Brand,
    title: &str,
    current: &str,
    user: &User,
    provenance: &Provenance,
) -> (String, String) {
    let slot = Slot(std::cell::Cell::new(0));
    let mut head = page(brand, title, current, user, provenance, &slot);
    let tail = head.split_off(slot.0.get());
    (head, tail)
}

/// Renders nothing and notes where it stood.
struct Slot(std::cell::Cell<usize>);

impl Render for Slot {
    fn render_to(&self, out: &mut String) {
        self.0.set(out.len());
    }
}

/// Two pieces of markup, one after the other, rendered straight into the page.
struct Then<'a, A: ?Sized, B: ?Sized>(&'a A, &'a B);

impl<A: Render + ?Sized, B: Render + ?Sized> Render for Then<'_, A, B> {
    fn render_to(&self, out: &mut String) {
        self.0.render_to(out);
        self.1.render_to(out);
    }
}

/// A page without data (errors); with the user's menu when the user is known (issue 15).
pub fn bare(brand: Brand, user: Option<&User>, title: &str, message: &str) -> String {
    let content = html! {
        p { (message) }
        p { a href="/" { "Retour à la vue nationale" } }
    };
    document(brand, title, "", user, &content, None)
}

/// A page without the data banner (login, account, admin, upload forms).
pub fn simple(
    brand: Brand,
    title: &str,
    current: &str,
    user: Option<&User>,
    body: &Markup,
) -> String {
    document(brand, title, current, user, body, None)
}

/// An SVG produced by the chart module, embedded as is.
pub fn svg(svg: &str) -> Markup {
    PreEscaped(svg.to_string())
}
