//! The French data dictionary: every exported column's name, type and description
//! (`colonne;type;description`), as the dictionary files and the manifests give them.

use copil_warehouse::tables::ColumnType;

use crate::plan::Kind;
use crate::quoting::csv_field;

/// A column of the indicator table: name, type, description.
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) ty: ColumnType,
    pub(crate) description: String,
}

/// The columns of the indicator table (the secrecy threshold is in a description).
pub(crate) fn indicator_columns(threshold: i64) -> Vec<Column> {
    use ColumnType::{Bool, Double, Long, Text};
    let c = |name, ty, description: &str| Column {
        name,
        ty,
        description: description.to_string(),
    };
    vec![
        c(
            "indicateur",
            Text,
            "Identifiant de l'indicateur dans le catalogue (définitions sur la page Méthodologie et dans /api/v1/indicateurs).",
        ),
        c("titre", Text, "Titre de l'indicateur."),
        c(
            "niveau",
            Text,
            "Niveau de la case : national, vague ou territoire.",
        ),
        c(
            "code",
            Text,
            "national, code de la vague, ou identifiant du territoire (registre).",
        ),
        c(
            "libelle",
            Text,
            "France, nom de la vague, ou nom du territoire.",
        ),
        c(
            "vague",
            Text,
            "Code de la vague (du territoire ou de la case de vague) ; vide au niveau national.",
        ),
        c(
            "mois",
            Text,
            "Mois de la case, AAAA-MM : mois de l'événement déclencheur pour une cohorte, fin du mois pour un stock ; pour la ventilation mois_depuis_debut_spie, mois de début du SPIE des territoires regroupés.",
        ),
        c(
            "ventilation",
            Text,
            "Colonne de ventilation ; vide pour le total de l'indicateur.",
        ),
        c(
            "modalite",
            Text,
            "Modalité de la ventilation (pour mois_depuis_debut_spie : mois depuis le début du SPIE, de -12 à +24) ; vide pour le total.",
        ),
        c(
            "valeur",
            Double,
            "Valeur publiée : effectif (volume), part entre 0 et 1 (taux) ou délai médian en jours (délai). Point décimal (.), sans séparateur de milliers. Vide si la case est secrète.",
        ),
        c(
            "numerateur",
            Long,
            "Numérateur (personnes comptées) ; jamais publié pour un délai. Vide si la case est secrète.",
        ),
        c(
            "denominateur",
            Long,
            "Dénominateur ; jamais publié pour un délai. Vide si la case est secrète.",
        ),
        c(
            "personnes",
            Long,
            "Personnes que la case couvre (ce que compte le secret statistique). Vide si la case est secrète.",
        ),
        c(
            "ic95_bas",
            Double,
            "Borne basse de l'intervalle de confiance à 95 % (Wilson), pour un taux. Point décimal.",
        ),
        c(
            "ic95_haut",
            Double,
            "Borne haute de l'intervalle de confiance à 95 % (Wilson), pour un taux. Point décimal.",
        ),
        c(
            "q1",
            Double,
            "Premier quartile des délais, en jours (indicateur de délai). Point décimal.",
        ),
        c(
            "q3",
            Double,
            "Troisième quartile des délais, en jours (indicateur de délai). Point décimal.",
        ),
        c(
            "moyenne",
            Double,
            "Délai moyen, en jours (indicateur de délai). Point décimal.",
        ),
        c(
            "secret",
            Bool,
            &format!(
                "true si la case relève du secret statistique (entre 1 et {} personnes, ou un numérateur dans ce cas, ou secret secondaire pour qu'aucune case cachée ne se retrouve à moins de {threshold} près à partir des autres) : tous ses chiffres sont alors vides, ce qui ne vaut jamais zéro ; false sinon.",
                threshold - 1
            ),
        ),
        c(
            "provisoire",
            Bool,
            "Vague ou France : true tant que la case ne compte pas encore tous les territoires du niveau (un dépôt manque pour ce mois) ; false sinon.",
        ),
        c(
            "territoires",
            Long,
            "Vague ou France : territoires comptés (mois complet dans leurs données). Vide pour un territoire.",
        ),
        c(
            "territoires_attendus",
            Long,
            "Vague ou France : territoires du niveau en vigueur ce mois-là. Vide pour un territoire.",
        ),
        c(
            "couverture",
            Double,
            "Vague ou France : part des personnes du niveau que couvrent les territoires comptés, entre 0 et 1 (au centième). Vide pour un territoire. Point décimal.",
        ),
    ]
}

/// The French label of a column type.
fn type_label(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "texte",
        ColumnType::Date => "date (AAAA-MM-JJ)",
        ColumnType::Int => "entier",
        ColumnType::Long => "entier",
        ColumnType::Bool => "booléen (true / false)",
        ColumnType::Timestamp => "instant (UTC)",
        ColumnType::Double => "décimal (point décimal)",
    }
}

/// The columns of a kind: name, French type, description.
pub(crate) fn column_list(kind: Kind, threshold: i64) -> Vec<(String, &'static str, String)> {
    match kind {
        Kind::Indicateurs => indicator_columns(threshold)
            .into_iter()
            .map(|c| (c.name.to_string(), type_label(c.ty), c.description))
            .collect(),
        Kind::Micro(t) => t
            .columns()
            .into_iter()
            .map(|c| {
                let description = if c.name == "personne" {
                    PERSON_COLUMN.to_string()
                } else {
                    c.description
                };
                (c.name.to_string(), type_label(c.ty), description)
            })
            .collect(),
    }
}

/// The dictionary's description of the `personne` column: what the project pseudonym protects
/// and what it does not (issue 13).
const PERSON_COLUMN: &str = "Pseudonyme de la personne propre au projet d'export : HMAC-SHA-256, sous une clé dérivée pour ce projet, du pseudonyme de l'entrepôt, tronqué à 128 bits, en hexadécimal. Le même pour une personne dans tout export du même projet, différent d'un projet à l'autre : l'identifiant ne permet pas de rapprocher deux projets. Il ne protège pas de tout : la suite des événements d'une personne (dates, types, territoire) est la même dans les exports de deux projets et peut suffire à les rapprocher.";

/// The data dictionary of `kind` (CSV, UTF-8 with BOM, `;`-separated): one row per column.
pub fn dictionary(kind: Kind, threshold: i64) -> String {
    let mut out = String::from("\u{feff}colonne;type;description\r\n");
    for (name, ty, description) in column_list(kind, threshold) {
        csv_field(&mut out, &name);
        out.push(';');
        csv_field(&mut out, ty);
        out.push(';');
        csv_field(&mut out, &description);
        out.push_str("\r\n");
    }
    out
}
