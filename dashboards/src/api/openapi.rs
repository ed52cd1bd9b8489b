//! The OpenAPI 3.1 document served at `/api/openapi.json`, built from the route table
//! ([`super::routes::ROUTES`]) and the schemas below (issue 14): no path is written by hand.

use std::sync::LazyLock;

use copil_warehouse::Wave;
use serde_json::{Map, Value, json};

use super::routes::{Auth, Body, Content, In, Param, ROUTES, Reply, Route, Schema, UNAUTHORIZED};

/// The document, serialised once.
pub static OPENAPI: LazyLock<String> = LazyLock::new(|| document().to_string());

/// The document: `info`, one path per route of the table, the components and the default
/// security (an API token or a session).
pub(crate) fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let item = paths
            .entry(r.path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[r.method.name().to_lowercase()] = operation(r);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "API Copil",
            "version": "1",
            "description": "Les indicateurs du SPIE publiés par Copil, secret statistique appliqué : les mêmes données que les pages. Une case secrète a `secret: true` et aucune valeur. Réponses en JSON, avec ETag et Cache-Control liés à la version de l'entrepôt.",
        },
        "paths": paths,
        "components": components(),
        "security": [{ "jeton": [] }, { "session": [] }],
    })
}

fn operation(r: &Route) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(r.summary));
    if let Some(d) = r.description {
        op.insert("description".into(), json!(d));
    }
    if !r.params.is_empty() {
        op.insert(
            "parameters".into(),
            r.params.iter().map(parameter).collect(),
        );
    }
    if r.body == Body::File {
        op.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "content": {
                    "application/octet-stream": {
                        "schema": { "type": "string", "format": "binary" },
                    },
                },
            }),
        );
    }
    let mut replies: Vec<&Reply> = r.replies.iter().collect();
    match r.auth {
        Auth::Account => replies.push(&UNAUTHORIZED),
        // No session nor token needed.
        Auth::Public => {
            op.insert("security".into(), json!([]));
        }
    }
    replies.sort_by_key(|a| a.status);
    let responses: Map<String, Value> = replies
        .into_iter()
        .map(|a| (a.status.to_string(), response(a)))
        .collect();
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

fn parameter(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": match p.at {
            In::Path => "path",
            In::Query => "query",
            In::Header => "header",
        },
        "required": p.at == In::Path,
        "schema": schema(p.schema),
    });
    if let Some(d) = p.description {
        v["description"] = json!(d);
    }
    v
}

fn schema(s: Schema) -> Value {
    match s {
        Schema::Text => json!({ "type": "string" }),
        Schema::Month => json!({ "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" }),
        Schema::Wave => json!({
            "type": "string",
            "enum": Wave::ALL.iter().map(|w| w.code()).collect::<Vec<_>>(),
        }),
        Schema::OneOf(words) => json!({ "type": "string", "enum": words }),
    }
}

fn response(a: &Reply) -> Value {
    let json_of = |schema: Value| json!({ "application/json": { "schema": schema } });
    let mut v = json!({ "description": a.description });
    match a.content {
        Content::None => {}
        Content::Envelope => {
            v["headers"] = json!({
                "ETag": {
                    "description": "Versions des tables indicateurs et depots, et jour.",
                    "schema": { "type": "string" },
                },
                "Cache-Control": { "schema": { "type": "string" } },
            });
            v["content"] = json_of(json!({ "$ref": "#/components/schemas/Enveloppe" }));
        }
        Content::Object => v["content"] = json_of(json!({ "type": "object" })),
        Content::Error => v["content"] = json_of(json!({ "$ref": "#/components/schemas/Erreur" })),
        Content::Document => v["content"] = json_of(json!({ "type": "object" })),
    }
    v
}

fn components() -> Value {
    let nullable = |t: &str| json!({ "type": [t, "null"] });
    json!({
        "schemas": {
            "Enveloppe": {
                "type": "object",
                "required": ["donnees_au", "seuil_secret", "version_indicateurs", "donnees"],
                "properties": {
                    "donnees_au": { "type": "string" },
                    "seuil_secret": { "type": "integer" },
                    "version_indicateurs": { "type": "integer" },
                    "version_evenements": { "type": "integer" },
                    "version_depots": { "type": "integer" },
                    "donnees": {},
                },
            },
            "Case": {
                "type": ["object", "null"],
                "properties": {
                    "mois": { "type": "string" },
                    "secret": { "type": "boolean" },
                    "valeur": nullable("number"),
                    "affiche": { "type": "string" },
                    "numerateur": nullable("integer"),
                    "denominateur": nullable("integer"),
                    "personnes": nullable("integer"),
                    "ic95_bas": nullable("number"),
                    "ic95_haut": nullable("number"),
                    "q1": nullable("number"),
                    "q3": nullable("number"),
                    "moyenne": nullable("number"),
                },
            },
            "Erreur": {
                "type": "object",
                "required": ["erreur", "statut"],
                "properties": {
                    "erreur": { "type": "string" },
                    "statut": { "type": "integer" },
                },
            },
        },
        "securitySchemes": {
            "jeton": {
                "type": "http",
                "scheme": "bearer",
                "description": "Jeton d'API créé sur la page Mon compte ou par « copil comptes jeton ».",
            },
            "session": { "type": "apiKey", "in": "cookie", "name": "copil_session" },
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every `$ref` of `v`.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("$ref", Value::String(s)) => out.push(s.clone()),
                        _ => refs(x, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }

    #[test]
    fn issue_14_the_document_holds_exactly_the_route_table() {
        let doc: Value = serde_json::from_str(&OPENAPI).unwrap();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(p, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |m| (p.clone(), m.to_uppercase()))
            })
            .collect();
        let declared: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.path.to_string(), r.method.name().to_string()))
            .collect();
        assert_eq!(documented, declared);
        for r in ROUTES {
            let op = &doc["paths"][r.path][r.method.name().to_lowercase()];
            assert_eq!(op["summary"], r.summary);
            let names: Vec<&str> = op["parameters"]
                .as_array()
                .map(|a| a.iter().map(|p| p["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            assert_eq!(names, r.params.iter().map(|p| p.name).collect::<Vec<_>>());
            let public = op["security"] == json!([]);
            assert_eq!(public, r.auth == Auth::Public, "{}", r.path);
            assert_eq!(op["responses"].get("401").is_some(), !public, "{}", r.path);
        }
    }

    #[test]
    fn issue_14_every_reference_of_the_document_resolves() {
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 5, "{all:?}");
        for r in all {
            let pointer = r.strip_prefix('#').expect("référence locale");
            assert!(doc.pointer(pointer).is_some(), "{r} ne pointe sur rien");
        }
        for w in Wave::ALL {
            assert!(
                doc.to_string().contains(w.code()),
                "vague {} absente",
                w.code()
            );
        }
    }
}
