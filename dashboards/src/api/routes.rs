//! The JSON API's routes, declared once (issue 14): path, method, handler, French summary,
//! parameters, request body, answers and who may call. The axum routers ([`v1`], [`public`]),
//! the OpenAPI document (`super::openapi`) and the route list of the `/api` page are all built
//! from [`ROUTES`]; nothing else names an API route.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::state::AppState;
use crate::{drops, exports};

/// Where the account-only routes are nested.
pub(crate) const V1: &str = "/api/v1";

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Method {
    Get,
    Put,
    Post,
}

impl Method {
    /// As written in a request line: `GET`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Put => MethodFilter::PUT,
            Method::Post => MethodFilter::POST,
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Anyone, without a session or a token.
    Public,
    /// A session or an API token (401 otherwise); the handler then checks the role.
    Account,
}

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
    Header,
}

/// A parameter's type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Schema {
    Text,
    /// `AAAA-MM`.
    Month,
    /// A wave code of the register (`copil_warehouse::Wave::ALL`).
    Wave,
    /// One of these words.
    OneOf(&'static [&'static str]),
}

/// A path, query or header parameter.
#[derive(Debug)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    pub(crate) at: In,
    pub(crate) schema: Schema,
    pub(crate) description: Option<&'static str>,
}

const fn path(name: &'static str, description: Option<&'static str>) -> Param {
    Param {
        name,
        at: In::Path,
        schema: Schema::Text,
        description,
    }
}

const fn query(name: &'static str, schema: Schema, description: Option<&'static str>) -> Param {
    Param {
        name,
        at: In::Query,
        schema,
        description,
    }
}

/// The CSRF header of the routes that change something.
const CSRF: Param = Param {
    name: "X-CSRF-Token",
    at: In::Header,
    schema: Schema::Text,
    description: Some("Requis avec une session (cookie) ; inutile avec un jeton d'API."),
};

const TERRITORY: Option<&str> = Some("Identifiant du territoire (registre).");

/// A request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    None,
    /// The file itself (`application/octet-stream`), bounded by `upload.max_bytes`.
    File,
}

/// What an answer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// Nothing described.
    None,
    /// The `Enveloppe` (provenance and `donnees`), with `ETag` and `Cache-Control`.
    Envelope,
    /// A JSON object.
    Object,
    /// The `Erreur` object, message in French.
    Error,
    /// The OpenAPI document.
    Document,
}

/// One documented answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) description: &'static str,
    pub(crate) content: Content,
}

const fn reply(status: u16, description: &'static str) -> Reply {
    Reply {
        status,
        description,
        content: Content::None,
    }
}

const fn envelope(description: &'static str) -> Reply {
    Reply {
        status: 200,
        description,
        content: Content::Envelope,
    }
}

const fn object(description: &'static str) -> Reply {
    Reply {
        status: 200,
        description,
        content: Content::Object,
    }
}

const fn error(status: u16) -> Reply {
    Reply {
        status,
        description: "Erreur, message en français.",
        content: Content::Error,
    }
}

const NOT_MODIFIED: Reply = reply(304, "Inchangé depuis l'ETag envoyé (If-None-Match).");

/// The answer documented for every [`Auth::Account`] route.
pub(crate) const UNAUTHORIZED: Reply = reply(401, "Ni session ni jeton d'API valide.");

/// One API route.
pub(crate) struct Route {
    pub(crate) method: Method,
    /// The full path, `{name}` for a path parameter.
    pub(crate) path: &'static str,
    /// The handler, routed for `method`.
    handler: fn(MethodFilter) -> MethodRouter<AppState>,
    pub(crate) auth: Auth,
    pub(crate) summary: &'static str,
    pub(crate) description: Option<&'static str>,
    pub(crate) params: &'static [Param],
    pub(crate) body: Body,
    /// The answers, but 401 (implied by [`Auth::Account`]).
    pub(crate) replies: &'static [Reply],
}

/// `handler!(f)`: routes `f` for the route's method.
macro_rules! handler {
    ($f:path) => {
        |m| on(m, $f)
    };
}

/// Every API route.
pub(crate) static ROUTES: &[Route] = &[
    Route {
        method: Method::Get,
        path: "/api/v1/national",
        handler: handler!(super::national),
        auth: Auth::Account,
        summary: "Vue nationale : chaque indicateur au dernier mois observable",
        description: None,
        params: &[],
        body: Body::None,
        replies: &[envelope("Indicateurs clés"), NOT_MODIFIED],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/indicateurs",
        handler: handler!(super::indicators),
        auth: Auth::Account,
        summary: "Le catalogue des indicateurs",
        description: None,
        params: &[],
        body: Body::None,
        replies: &[envelope("Catalogue"), NOT_MODIFIED],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/indicateurs/{id}",
        handler: handler!(super::indicator),
        auth: Auth::Account,
        summary: "Un indicateur : France, vagues, territoires classés, séries, avant / après",
        description: None,
        params: &[
            path(
                "id",
                Some("Identifiant de l'indicateur (voir /api/v1/indicateurs)."),
            ),
            query(
                "mois",
                Schema::Month,
                Some("Mois AAAA-MM (défaut : dernier mois observable pour tous les territoires)."),
            ),
            query(
                "vague",
                Schema::Wave,
                Some("Ne classer que les territoires d'une vague."),
            ),
            query(
                "ventilation",
                Schema::Text,
                Some("Une ventilation de l'indicateur (voir /api/v1/indicateurs)."),
            ),
        ],
        body: Body::None,
        replies: &[envelope("Indicateur"), NOT_MODIFIED, error(400), error(404)],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/territoires",
        handler: handler!(super::territories),
        auth: Auth::Account,
        summary: "Le registre des territoires",
        description: None,
        params: &[],
        body: Body::None,
        replies: &[envelope("Territoires"), NOT_MODIFIED],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/territoires/{id}",
        handler: handler!(super::territory),
        auth: Auth::Account,
        summary: "Un territoire face à la France, à sa vague et à ses pairs ; ses dépôts",
        description: None,
        params: &[path("id", TERRITORY)],
        body: Body::None,
        replies: &[envelope("Territoire"), NOT_MODIFIED, error(404)],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/territoires/{id}/depots",
        handler: handler!(drops::api_list),
        auth: Auth::Account,
        summary: "Dépôts traités du territoire (rapports d'ingestion) et fichiers en attente",
        description: Some("Réservé à l'équipe du territoire et à l'équipe nationale."),
        params: &[path("id", TERRITORY)],
        body: Body::None,
        replies: &[
            object("Dépôts du territoire"),
            reply(403, "Le rôle du compte ne le permet pas."),
            reply(
                404,
                "Territoire inconnu, ou d'un autre territoire pour un compte « territoire ».",
            ),
        ],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/territoires/{id}/rejets",
        handler: handler!(drops::api_rejects),
        auth: Auth::Account,
        summary: "Lignes rejetées du dépôt en vigueur : ligne, colonne, motif (jamais de valeur)",
        description: Some("Réservé à l'équipe du territoire et à l'équipe nationale."),
        params: &[path("id", TERRITORY)],
        body: Body::None,
        replies: &[
            object("Lignes rejetées"),
            reply(403, "Le rôle du compte ne le permet pas."),
            reply(
                404,
                "Territoire inconnu, ou d'un autre territoire pour un compte « territoire ».",
            ),
        ],
    },
    Route {
        method: Method::Put,
        path: "/api/v1/territoires/{id}/depots/{fichier}",
        handler: handler!(drops::api_upload),
        auth: Auth::Account,
        summary: "Dépose une extraction (compte « territoire » de ce territoire)",
        description: Some(
            "Le corps est le fichier. Avec traiter=maintenant, l'ingestion est lancée et son rapport renvoyé ; sinon le fichier est traité à la prochaine ingestion planifiée.",
        ),
        params: &[
            path("id", TERRITORY),
            path(
                "fichier",
                Some("Nom du fichier, avec la date d'extraction (dep-44_2025-06-30.csv)."),
            ),
            query(
                "traiter",
                Schema::OneOf(&["maintenant"]),
                Some("Lancer l'ingestion tout de suite et renvoyer le rapport du dépôt."),
            ),
            CSRF,
        ],
        body: Body::File,
        replies: &[
            reply(201, "Fichier reçu (et rapport, s'il a été traité)."),
            reply(400, "Nom de fichier refusé ou fichier vide."),
            reply(
                403,
                "Seul un compte « territoire » dépose, et pour son territoire.",
            ),
            reply(404, "Territoire inconnu ou d'un autre territoire."),
            reply(409, "Un fichier de ce nom attend déjà d'être traité."),
            reply(
                413,
                "Fichier au-delà de la limite de taille (clé upload.max_bytes).",
            ),
        ],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/qualite",
        handler: handler!(super::quality),
        auth: Auth::Account,
        summary: "Dernier dépôt de chaque territoire, âge et taux de rejet",
        description: Some(
            "Comptes « national » (tous les territoires) et « territoire » (le sien) ; les dépôts en attente d'examen sont dans en_attente.",
        ),
        params: &[],
        body: Body::None,
        replies: &[
            envelope("Qualité des données"),
            NOT_MODIFIED,
            reply(403, "Le rôle du compte ne le permet pas."),
        ],
    },
    Route {
        method: Method::Post,
        path: "/api/v1/depots-en-attente/{territoire}/{fichier}/liberer",
        handler: handler!(drops::api_release),
        auth: Auth::Account,
        summary: "Intègre un dépôt mis en attente d'examen (comptes « national » et « admin », issue 13)",
        description: Some(
            "Comme « copil integrer --liberer » : les garde-fous sont levés ; le contrat, les limites et l'ordre des extractions s'appliquent toujours. Renvoie le rapport du dépôt (intégré ou refusé).",
        ),
        params: &[
            path("territoire", TERRITORY),
            path(
                "fichier",
                Some("Nom du fichier en attente, tel que /api/v1/qualite le donne (en_attente)."),
            ),
            CSRF,
        ],
        body: Body::None,
        replies: &[
            reply(
                200,
                "Dépôt traité : rapport (statut integre, ou refuse si le contrat n'est pas respecté).",
            ),
            reply(400, "Nom de fichier refusé."),
            reply(
                403,
                "Réservé aux comptes « national » et « admin » ; ou jeton CSRF absent.",
            ),
            reply(
                404,
                "Territoire inconnu, ou aucun dépôt de ce nom en attente d'examen.",
            ),
            reply(
                503,
                "Intégration indisponible sur ce serveur : utiliser « copil integrer --liberer ».",
            ),
        ],
    },
    Route {
        method: Method::Get,
        path: "/api/v1/exports/{fichier}",
        handler: handler!(exports::api_file),
        auth: Auth::Account,
        summary: "Exports (comptes « national » et « evaluateur »)",
        description: Some(
            "indicateurs.{csv,xlsx,parquet}, evenements.parquet, personnes.parquet ; suffixe .manifeste.json pour le manifeste ; *.dictionnaire.csv pour le dictionnaire des données. Mêmes filtres que les pages.",
        ),
        params: &[
            path(
                "fichier",
                Some("Nom du fichier d'export (indicateurs.csv, personnes.parquet…)."),
            ),
            query("indicateur", Schema::Text, None),
            query("mois", Schema::Text, None),
            query("vague", Schema::Text, None),
            query("ventilation", Schema::Text, None),
            query("territoire", Schema::Text, None),
            query(
                "projet",
                Schema::Text,
                Some(
                    "Projet d'export (microdonnées) : les pseudonymes sont propres à chaque projet.",
                ),
            ),
        ],
        body: Body::None,
        replies: &[
            reply(200, "Le fichier (en-tête X-Copil-Sha256 : son empreinte)."),
            reply(400, "Paramètre invalide."),
            reply(403, "Réservé aux comptes « national » et « evaluateur »."),
            reply(404, "Fichier d'export inconnu."),
            reply(
                413,
                "Trop de lignes pour un fichier XLSX (1 048 575 au plus).",
            ),
        ],
    },
    Route {
        method: Method::Get,
        path: "/api/openapi.json",
        handler: handler!(super::openapi),
        auth: Auth::Public,
        summary: "Cette description OpenAPI de l'API, tirée de la table des routes",
        description: None,
        params: &[],
        body: Body::None,
        replies: &[Reply {
            status: 200,
            description: "Le document OpenAPI 3.1.",
            content: Content::Document,
        }],
    },
];

impl Route {
    fn method_router(&self, upload_limit: usize) -> MethodRouter<AppState> {
        let r = (self.handler)(self.method.filter());
        match self.body {
            Body::None => r,
            Body::File => r.layer(DefaultBodyLimit::max(upload_limit)),
        }
    }
}

/// The account-only routes, to nest at [`V1`] (behind the login layer); unknown routes answer
/// a JSON 404. `upload_limit` bounds the bodies of [`Body::File`] routes.
pub(crate) fn v1(upload_limit: usize) -> Router<AppState> {
    ROUTES
        .iter()
        .filter(|r| r.auth == Auth::Account)
        .fold(Router::new(), |router, r| {
            let at = r
                .path
                .strip_prefix(V1)
                .unwrap_or_else(|| panic!("{} : une route à compte est sous {V1}", r.path));
            router.route(at, r.method_router(upload_limit))
        })
        .fallback(super::not_found)
}

/// The public routes, to merge outside the login layer.
pub(crate) fn public() -> Router<AppState> {
    ROUTES
        .iter()
        .filter(|r| r.auth == Auth::Public)
        .fold(Router::new(), |router, r| {
            router.route(r.path, r.method_router(0))
        })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn issue_14_each_route_is_declared_once_with_its_path_parameters() {
        let mut seen = BTreeSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.path, r.method)),
                "{} déclarée deux fois",
                r.path
            );
            let declared: Vec<&str> = r
                .params
                .iter()
                .filter(|p| p.at == In::Path)
                .map(|p| p.name)
                .collect();
            let in_path: Vec<&str> = r
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            assert_eq!(declared, in_path, "{}", r.path);
            assert!(
                r.replies.iter().any(|a| (200..300).contains(&a.status)),
                "{}: pas de réponse de succès",
                r.path
            );
            assert!(
                r.replies.windows(2).all(|w| w[0].status < w[1].status),
                "{}: réponses en ordre de statut, sans doublon",
                r.path
            );
            assert!(r.replies.iter().all(|a| a.status != 401), "{}", r.path);
            assert_eq!(
                r.auth == Auth::Account,
                r.path.starts_with(&format!("{V1}/")),
                "{}: les routes sous {V1} demandent un compte, les autres non",
                r.path
            );
            assert!(r.path.starts_with("/api/"), "{}", r.path);
        }
    }

    #[test]
    fn issue_14_the_routers_build_from_the_table() {
        // axum panics on a malformed or overlapping route.
        let _ = v1(1024);
        let _ = public();
    }
}
