//! The input contract's vocabulary: the columns a drop may carry, how exports label them, and
//! the codes each coded column accepts (brief, section 2).
//!
//! ```
//! use copil_core::vocabulary::{self, ColumnRole};
//!
//! let col = vocabulary::resolve_header("Date de naissance").unwrap();
//! assert_eq!(col.name, "date_naissance");
//! assert_eq!(col.role, ColumnRole::Person);
//! assert!(vocabulary::resolve_header("COURRIEL").unwrap().role == ColumnRole::DirectIdentifier);
//! assert!(vocabulary::is_code("statut_rdv", "honore"));
//! assert_eq!(vocabulary::attributes_of("rdv"), &["type_rdv", "statut_rdv"]);
//! ```

/// What a column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnRole {
    /// Describes the person; repeated on each of their rows.
    Person,
    /// Describes the event of the row.
    Event,
    /// A direct identifier that exports often carry: never stored, never logged.
    DirectIdentifier,
}

/// One column of the input contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Canonical name (snake_case, as in the brief).
    pub name: &'static str,
    /// What the column is for.
    pub role: ColumnRole,
    /// Whether every row must carry a value.
    pub required: bool,
    /// Header labels seen in real exports, the French display label first.
    pub labels: &'static [&'static str],
    /// The accepted codes, for a coded column.
    pub codes: Option<&'static [&'static str]>,
}

impl Column {
    /// The French label exports use most (e.g. « Date de naissance »).
    pub fn label(&self) -> &'static str {
        self.labels.first().copied().unwrap_or(self.name)
    }
}

/// Sexes.
pub const SEXES: &[&str] = &["F", "M", "X"];
/// Levels of education.
pub const NIVEAUX_FORMATION: &[&str] = &["infra_cap", "cap_bep", "bac", "bac_plus"];
/// Family situations.
pub const SITUATIONS_FAMILIALES: &[&str] = &["seul", "seul_enfants", "couple", "couple_enfants"];
/// Event types.
pub const EVENEMENTS: &[&str] = &[
    "droit_ouvert",
    "entree_droits_devoirs",
    "orientation",
    "reorientation",
    "referent_designe",
    "rdv",
    "diagnostic",
    "frein_identifie",
    "frein_leve",
    "contrat_signe",
    "action",
    "sortie",
    "droit_suspendu",
    "droit_clos",
];
/// Orientation categories.
pub const ORIENTATIONS: &[&str] = &["pro", "socio_pro", "social"];
/// Bodies that orient or accompany.
pub const ORGANISMES: &[&str] = &[
    "france_travail",
    "conseil_departemental",
    "ccas_cias",
    "mission_locale",
    "cap_emploi",
    "plie",
    "siae",
    "delegataire",
    "autre",
];
/// Appointment types.
pub const TYPES_RDV: &[&str] = &["orientation", "accompagnement", "diagnostic", "autre"];
/// Appointment statuses.
pub const STATUTS_RDV: &[&str] = &["honore", "absent", "excuse", "annule"];
/// Obstacle ("frein") types.
pub const TYPES_FREIN: &[&str] = &[
    "mobilite",
    "logement",
    "sante",
    "famille",
    "numerique",
    "financier",
    "administratif",
    "langue",
];
/// Obstacle intensities.
pub const INTENSITES: &[&str] = &["faible", "moyen", "fort"];
/// Contract types.
pub const TYPES_CONTRAT: &[&str] = &["cer", "ppae", "contrat_engagement", "cej", "pacea"];
/// Action types.
pub const TYPES_ACTION: &[&str] = &[
    "formation",
    "iae",
    "immersion",
    "accompagnement_global",
    "aide_mobilite",
    "aide_logement",
    "soin",
    "autre",
];
/// Exit types.
pub const TYPES_SORTIE: &[&str] = &[
    "emploi_durable",
    "emploi_transition",
    "formation_qualifiante",
    "creation_entreprise",
    "fin_droit",
    "demenagement",
    "autre",
];

/// Reasons a right is suspended or closed (`motif` of `droit_suspendu` and `droit_clos`): short
/// codes only, so that no free text (a comment, a name, a phone number, a NIR) can land. Issue 13.
///
/// - `sanction`: sanction decided by the département (suspension or radiation);
/// - `non_respect_devoirs`: duties of the « droits et devoirs » not met;
/// - `non_respect_engagements`: commitments of the contract not met;
/// - `ressources`: resources at or above the ceiling (or not declared);
/// - `ressources_superieures`: exit because the household's resources rose above the ceiling;
/// - `fin_de_droit`: the right ended (end of entitlement);
/// - `demenagement`: the person moved out of the département;
/// - `deces`: death;
/// - `autre`: any other reason.
pub const MOTIFS: &[&str] = &[
    "sanction",
    "non_respect_devoirs",
    "non_respect_engagements",
    "ressources",
    "ressources_superieures",
    "fin_de_droit",
    "demenagement",
    "deces",
    "autre",
];

use ColumnRole::{DirectIdentifier, Event, Person};

const fn col(
    name: &'static str,
    role: ColumnRole,
    required: bool,
    labels: &'static [&'static str],
    codes: Option<&'static [&'static str]>,
) -> Column {
    Column {
        name,
        role,
        required,
        labels,
        codes,
    }
}

/// Every column of the contract, in the brief's order, then the direct identifiers.
pub const COLUMNS: &[Column] = &[
    col(
        "id_personne",
        Person,
        true,
        &[
            "Identifiant personne",
            "Identifiant",
            "Id",
            "Id personne",
            "Numéro de dossier",
            "Matricule",
        ],
        None,
    ),
    col(
        "nir",
        Person,
        false,
        &[
            "NIR",
            "N° sécurité sociale",
            "Numéro de sécurité sociale",
            "Numéro INSEE",
        ],
        None,
    ),
    col(
        "date_naissance",
        Person,
        true,
        &["Date de naissance", "Né(e) le", "Naissance"],
        None,
    ),
    col("sexe", Person, false, &["Sexe", "Genre"], Some(SEXES)),
    col(
        "code_commune",
        Person,
        false,
        &[
            "Code commune",
            "Code INSEE commune",
            "Commune de résidence (code INSEE)",
            "Code INSEE",
        ],
        None,
    ),
    col(
        "niveau_formation",
        Person,
        false,
        &["Niveau de formation", "Niveau d'études", "Niveau scolaire"],
        Some(NIVEAUX_FORMATION),
    ),
    col(
        "situation_familiale",
        Person,
        false,
        &["Situation familiale", "Composition du foyer"],
        Some(SITUATIONS_FAMILIALES),
    ),
    col(
        "date",
        Event,
        true,
        &["Date", "Date de l'événement", "Date événement", "Date evt"],
        None,
    ),
    col(
        "evenement",
        Event,
        true,
        &["Événement", "Type d'événement", "Évènement", "Type evt"],
        Some(EVENEMENTS),
    ),
    col(
        "orientation",
        Event,
        false,
        &["Orientation", "Type d'orientation"],
        Some(ORIENTATIONS),
    ),
    col(
        "organisme",
        Event,
        false,
        &["Organisme", "Structure", "Organisme référent"],
        Some(ORGANISMES),
    ),
    col(
        "type_rdv",
        Event,
        false,
        &["Type de RDV", "Type de rendez-vous", "Type rdv"],
        Some(TYPES_RDV),
    ),
    col(
        "statut_rdv",
        Event,
        false,
        &["Statut RDV", "Statut du rendez-vous", "Présence"],
        Some(STATUTS_RDV),
    ),
    col(
        "type_frein",
        Event,
        false,
        &["Type de frein", "Frein", "Frein périphérique"],
        Some(TYPES_FREIN),
    ),
    col(
        "intensite",
        Event,
        false,
        &["Intensité", "Intensité du frein"],
        Some(INTENSITES),
    ),
    col(
        "type_contrat",
        Event,
        false,
        &["Type de contrat", "Contrat"],
        Some(TYPES_CONTRAT),
    ),
    col(
        "type_action",
        Event,
        false,
        &["Type d'action", "Action"],
        Some(TYPES_ACTION),
    ),
    col(
        "type_sortie",
        Event,
        false,
        &["Type de sortie", "Motif de sortie", "Sortie"],
        Some(TYPES_SORTIE),
    ),
    col(
        "motif",
        Event,
        false,
        &["Motif", "Code motif"],
        Some(MOTIFS),
    ),
    col(
        "nom",
        DirectIdentifier,
        false,
        &["Nom", "Nom d'usage", "Nom de famille"],
        None,
    ),
    col(
        "prenom",
        DirectIdentifier,
        false,
        &["Prénom", "Prénoms"],
        None,
    ),
    col(
        "nom_naissance",
        DirectIdentifier,
        false,
        &["Nom de naissance", "Nom de jeune fille"],
        None,
    ),
    col(
        "adresse",
        DirectIdentifier,
        false,
        &["Adresse", "Adresse postale", "Adresse complète"],
        None,
    ),
    col(
        "telephone",
        DirectIdentifier,
        false,
        &["Téléphone", "Tél.", "Portable", "Tel"],
        None,
    ),
    col(
        "courriel",
        DirectIdentifier,
        false,
        &["Courriel", "E-mail", "Email", "Mél", "Adresse électronique"],
        None,
    ),
];

/// How many columns of [`COLUMNS`] describe the event (`date`, `evenement`, its attributes).
const EVENT_COLUMN_COUNT: usize = {
    let (mut n, mut i) = (0, 0);
    while i < COLUMNS.len() {
        if matches!(COLUMNS[i].role, Event) {
            n += 1;
        }
        i += 1;
    }
    n
};

/// The event columns of the contract, in [`COLUMNS`] order: `date`, `evenement`, then the
/// event's coded attributes (`motif` last).
pub const EVENT_COLUMNS: [&str; EVENT_COLUMN_COUNT] = {
    let mut out = [""; EVENT_COLUMN_COUNT];
    let (mut n, mut i) = (0, 0);
    while i < COLUMNS.len() {
        if matches!(COLUMNS[i].role, Event) {
            out[n] = COLUMNS[i].name;
            n += 1;
        }
        i += 1;
    }
    out
};

/// The coded attributes of an event, in [`COLUMNS`] order (`motif` last): the event columns
/// after `date` and `evenement`.
pub const EVENT_ATTRIBUTES: [&str; EVENT_COLUMN_COUNT - 2] = {
    let [_date, _evenement, attributes @ ..] = EVENT_COLUMNS;
    attributes
};

/// Why a row of a drop is rejected: the `rejets` table's reason codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// `id_personne` is empty.
    IdentifiantManquant,
    /// Another required value (`date`, `evenement`, `date_naissance`) is empty.
    ValeurManquante,
    /// A coded column holds a code outside its list.
    CodeInconnu,
    /// A date that does not exist or cannot be read.
    DateImpossible,
    /// An event dated after the drop's extraction date.
    DateFuture,
    /// An event dated before the person's birth.
    EvenementAvantNaissance,
    /// An exact repeat of a row already read in the same drop.
    Doublon,
}

impl RejectReason {
    /// Every reason, in a stable order.
    pub const ALL: [RejectReason; 7] = [
        RejectReason::IdentifiantManquant,
        RejectReason::ValeurManquante,
        RejectReason::CodeInconnu,
        RejectReason::DateImpossible,
        RejectReason::DateFuture,
        RejectReason::EvenementAvantNaissance,
        RejectReason::Doublon,
    ];

    /// The code stored in tables and manifests.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::IdentifiantManquant => "identifiant_manquant",
            RejectReason::ValeurManquante => "valeur_manquante",
            RejectReason::CodeInconnu => "code_inconnu",
            RejectReason::DateImpossible => "date_impossible",
            RejectReason::DateFuture => "date_future",
            RejectReason::EvenementAvantNaissance => "evenement_avant_naissance",
            RejectReason::Doublon => "doublon",
        }
    }

    /// The French label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            RejectReason::IdentifiantManquant => "identifiant manquant",
            RejectReason::ValeurManquante => "valeur obligatoire manquante",
            RejectReason::CodeInconnu => "code inconnu",
            RejectReason::DateImpossible => "date impossible",
            RejectReason::DateFuture => "date postérieure à l'extraction",
            RejectReason::EvenementAvantNaissance => "événement antérieur à la naissance",
            RejectReason::Doublon => "doublon exact d'une ligne du même dépôt",
        }
    }

    /// Parses a reason code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The column of that canonical name.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// Normalises a header label: lower case, accents removed, every run of other characters
/// turned into one `_`, trimmed (`« Date de l'Événement »` → `date_de_l_evenement`).
pub fn normalise_header(label: &str) -> String {
    normalised(label).collect()
}

/// The characters of [`normalise_header`], without building the string (a raw value is
/// compared with each code of a column this way, once per row).
fn normalised(label: &str) -> impl Iterator<Item = char> + '_ {
    let (mut pending_sep, mut started) = (false, false);
    label
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .flat_map(move |ch| {
            let folded = fold_accent(ch).to_ascii_lowercase();
            if folded.is_ascii_alphanumeric() {
                let sep = pending_sep && started;
                (pending_sep, started) = (false, true);
                [sep.then_some('_'), Some(folded)]
            } else {
                pending_sep = true;
                [None, None]
            }
        })
        .flatten()
}

fn fold_accent(ch: char) -> char {
    match ch {
        'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' | 'Á' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'e',
        'î' | 'ï' | 'í' | 'Î' | 'Ï' => 'i',
        'ô' | 'ö' | 'ó' | 'Ô' | 'Ö' => 'o',
        'ù' | 'û' | 'ü' | 'ú' | 'Ù' | 'Û' | 'Ü' => 'u',
        'ç' | 'Ç' => 'c',
        'ÿ' | 'Ÿ' => 'y',
        '°' => 'o',
        other => other,
    }
}

/// The contract column a header label stands for, whatever its case, accents or spacing.
pub fn resolve_header(label: &str) -> Option<&'static Column> {
    let key = normalise_header(label);
    if key.is_empty() {
        return None;
    }
    COLUMNS
        .iter()
        .find(|c| c.name == key || c.labels.iter().any(|l| normalise_header(l) == key))
}

/// Whether `value` is an accepted code of the coded column `column`. A column without a code
/// list accepts anything.
pub fn is_code(column: &str, value: &str) -> bool {
    match self::column(column).and_then(|c| c.codes) {
        Some(codes) => codes.contains(&value),
        None => true,
    }
}

/// The accepted code a raw value stands for, in the column's code list: case, accents, spaces
/// and dashes do not matter (« Socio-pro » → `socio_pro`, « f » → `F`). `None` if the value is
/// not a code of that column (or the column has no list).
pub fn code_of(column: &str, raw: &str) -> Option<&'static str> {
    code_in(self::column(column)?, raw)
}

/// [`code_of`] for a column already found (a row's cells are checked without a search by
/// name).
pub fn code_in(column: &'static Column, raw: &str) -> Option<&'static str> {
    let codes = column.codes?;
    let raw = raw.trim();
    if let Some(c) = codes.iter().find(|c| **c == raw) {
        return Some(c);
    }
    codes
        .iter()
        .copied()
        .find(|c| normalised(c).eq(normalised(raw)))
}

/// The attribute columns an event type carries (brief, section 2).
pub fn attributes_of(evenement: &str) -> &'static [&'static str] {
    match evenement {
        "orientation" | "reorientation" => &["orientation", "organisme"],
        "referent_designe" => &["organisme"],
        "rdv" => &["type_rdv", "statut_rdv"],
        "frein_identifie" | "frein_leve" => &["type_frein", "intensite"],
        "contrat_signe" => &["type_contrat"],
        "action" => &["type_action"],
        "sortie" => &["type_sortie"],
        "droit_suspendu" | "droit_clos" => &["motif"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_columns_follow_the_contract() {
        assert_eq!(EVENT_COLUMNS[..2], ["date", "evenement"]);
        assert_eq!(EVENT_ATTRIBUTES[0], "orientation");
        assert_eq!(EVENT_ATTRIBUTES.last(), Some(&"motif"));
        for e in EVENEMENTS {
            for a in attributes_of(e) {
                assert!(EVENT_ATTRIBUTES.contains(a), "{a}");
            }
        }
    }

    #[test]
    fn headers_resolve_whatever_their_spelling() {
        for (label, name) in [
            ("id_personne", "id_personne"),
            ("ID_PERSONNE", "id_personne"),
            ("Identifiant personne", "id_personne"),
            ("\u{feff}Identifiant", "id_personne"),
            ("Date de naissance", "date_naissance"),
            ("DATE DE NAISSANCE", "date_naissance"),
            ("date  de   naissance ", "date_naissance"),
            ("Évènement", "evenement"),
            ("EVENEMENT", "evenement"),
            ("Date de l'événement", "date"),
            ("N° sécurité sociale", "nir"),
            ("E-mail", "courriel"),
            ("Tél.", "telephone"),
            ("Intensité", "intensite"),
        ] {
            assert_eq!(resolve_header(label).map(|c| c.name), Some(name), "{label}");
        }
        assert_eq!(resolve_header("Commentaire libre"), None);
        assert_eq!(resolve_header("  "), None);
    }

    #[test]
    fn labels_never_collide_between_columns() {
        let mut seen = std::collections::HashMap::new();
        for c in COLUMNS {
            for key in std::iter::once(c.name.to_string())
                .chain(c.labels.iter().map(|l| normalise_header(l)))
            {
                if let Some(other) = seen.insert(key.clone(), c.name) {
                    assert_eq!(other, c.name, "label {key} names two columns");
                }
            }
        }
    }

    #[test]
    fn every_event_attribute_is_a_contract_column() {
        for e in EVENEMENTS {
            for a in attributes_of(e) {
                assert_eq!(
                    column(a).map(|c| c.role),
                    Some(ColumnRole::Event),
                    "{e}.{a}"
                );
            }
        }
        assert!(is_code("evenement", "frein_leve"));
        assert!(!is_code("evenement", "orientaton"));
        assert!(!is_code("motif", "n_importe_quoi"));
        assert!(is_code("motif", "sanction"));
        assert!(
            is_code("id_personne", "n_importe_quoi"),
            "a column without a list"
        );
        assert_eq!(code_of("orientation", "Socio-pro"), Some("socio_pro"));
        assert_eq!(code_of("sexe", "f"), Some("F"));
        assert_eq!(code_of("statut_rdv", "HONORÉ"), Some("honore"));
        assert_eq!(code_of("evenement", "orientaton"), None);
        assert_eq!(code_of("evenement", "RDV honoré"), None);
        assert_eq!(code_of("motif", "x"), None);
        assert_eq!(
            code_of("motif", "Non-respect des engagements"),
            None,
            "a word more is free text"
        );
        assert_eq!(
            code_of("motif", "Non respect engagements"),
            Some("non_respect_engagements")
        );
        // Issue 13: free text typed in the motif column never passes as a code.
        for hostile in [
            "DUPONT-Jean-0612345678",
            "184127645108946",
            "1 84 12 76 451 089 46",
            "voir courrier du 12/03",
            "",
        ] {
            assert_eq!(code_of("motif", hostile), None, "{hostile}");
        }
    }

    #[test]
    fn every_coded_column_has_a_list_and_every_event_attribute_is_coded() {
        // Issue 13: an attribute that lands must be a code, never free text.
        for e in EVENEMENTS {
            for a in attributes_of(e) {
                assert!(
                    column(a).and_then(|c| c.codes).is_some(),
                    "{e}.{a} has no code list"
                );
            }
        }
        for c in COLUMNS.iter().filter(|c| c.codes.is_some()) {
            for code in c.codes.unwrap() {
                assert_eq!(code_of(c.name, code), Some(*code), "{}: {code}", c.name);
            }
        }
    }
}
