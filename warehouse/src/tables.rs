//! The warehouse's tables and their columns: one definition drives the Delta schema, the
//! Parquet files' Arrow schema and the data dictionary.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::kernel::{DataType as DeltaType, StructField};

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// A calendar day.
    Date,
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer (counts, versions, durations).
    Long,
    /// True or false.
    Bool,
    /// An instant (UTC, microseconds).
    Timestamp,
    /// A floating-point number.
    Double,
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    /// Name (French, snake_case).
    pub name: &'static str,
    /// Type.
    pub ty: ColumnType,
    /// Whether it may be empty.
    pub nullable: bool,
    /// What it holds, in French (the data dictionary).
    pub description: &'static str,
}

/// One table of the warehouse.
#[derive(Debug)]
pub struct TableDef {
    /// Table name (its folder under the warehouse root).
    pub name: &'static str,
    /// What a row is, in French.
    pub description: &'static str,
    /// Columns, in order.
    pub columns: &'static [ColumnDef],
    /// The partition column, if any (always `territoire` here).
    pub partition: Option<&'static str>,
}

const fn col(
    name: &'static str,
    ty: ColumnType,
    nullable: bool,
    description: &'static str,
) -> ColumnDef {
    ColumnDef {
        name,
        ty,
        nullable,
        description,
    }
}

use ColumnType::{Bool, Date, Double, Int, Long, Text, Timestamp};

/// The partition column of the tables of a territory's rows.
const TERRITOIRE: ColumnDef = col(
    "territoire",
    Text,
    false,
    "Identifiant du territoire (registre).",
);

/// Events: one row per landed event.
pub const EVENEMENTS: TableDef = TableDef {
    name: "evenements",
    description: "Un événement du parcours d'une personne, tel que déposé par son territoire (lignes valides seulement).",
    partition: Some("territoire"),
    columns: &[
        TERRITOIRE,
        col(
            "personne",
            Text,
            false,
            "Pseudonyme de la personne : HMAC-SHA-256 (clé secrète) du NIR valide, sinon du couple territoire:identifiant, tronqué à 128 bits, en hexadécimal.",
        ),
        col("date", Date, false, "Date de l'événement."),
        col(
            "evenement",
            Text,
            false,
            "Type d'événement (droit_ouvert, orientation, rdv…).",
        ),
        col(
            "orientation",
            Text,
            true,
            "Orientation décidée (pro, socio_pro, social), pour orientation et reorientation.",
        ),
        col(
            "organisme",
            Text,
            true,
            "Organisme d'orientation ou du référent.",
        ),
        col("type_rdv", Text, true, "Type de rendez-vous."),
        col(
            "statut_rdv",
            Text,
            true,
            "Statut du rendez-vous (honore, absent, excuse, annule).",
        ),
        col("type_frein", Text, true, "Type de frein périphérique."),
        col(
            "intensite",
            Text,
            true,
            "Intensité du frein (faible, moyen, fort).",
        ),
        col(
            "type_contrat",
            Text,
            true,
            "Type de contrat signé (cer, ppae, contrat_engagement, cej, pacea).",
        ),
        col("type_action", Text, true, "Type d'action engagée."),
        col("type_sortie", Text, true, "Type de sortie."),
        col(
            "motif",
            Text,
            true,
            // Kept as is: the export dictionary's snapshot (dashboards) quotes it; the codes are
            // listed in vocabulary::MOTIFS, README.md and docs/entrepot.md.
            "Code motif (suspension ou clôture du droit).",
        ),
        col(
            "ligne",
            Long,
            false,
            "Numéro de ligne dans le fichier déposé (l'en-tête est la ligne 1).",
        ),
    ],
};

/// People: one row per person and territory.
pub const PERSONNES: TableDef = TableDef {
    name: "personnes",
    description: "Une personne d'un territoire, généralisée : ni NIR, ni nom, ni date de naissance exacte, ni commune.",
    partition: Some("territoire"),
    columns: &[
        TERRITOIRE,
        col(
            "personne",
            Text,
            false,
            "Pseudonyme de la personne (voir evenements.personne).",
        ),
        col("annee_naissance", Int, false, "Année de naissance."),
        col("sexe", Text, true, "Sexe (F, M, X)."),
        col(
            "departement",
            Text,
            true,
            "Département de résidence (code INSEE), déduit de la commune.",
        ),
        col(
            "niveau_formation",
            Text,
            true,
            "Niveau de formation (infra_cap, cap_bep, bac, bac_plus).",
        ),
        col(
            "situation_familiale",
            Text,
            true,
            "Situation familiale (seul, seul_enfants, couple, couple_enfants).",
        ),
        col(
            "cle_nir",
            Bool,
            false,
            "Vrai si le pseudonyme vient d'un NIR valide (la personne est alors reconnue d'un territoire à l'autre).",
        ),
    ],
};

/// Rejects: the rows of each territory's current drop that were kept aside.
pub const REJETS: TableDef = TableDef {
    name: "rejets",
    description: "Une ligne écartée du dépôt en vigueur d'un territoire, avec la colonne et le motif ; jamais de valeur ni d'identifiant direct.",
    partition: Some("territoire"),
    columns: &[
        TERRITOIRE,
        col("depot", Text, false, "Empreinte SHA-256 du fichier déposé."),
        col("fichier", Text, false, "Nom du fichier déposé."),
        col(
            "ligne",
            Long,
            false,
            "Numéro de ligne dans le fichier (l'en-tête est la ligne 1).",
        ),
        col("colonne", Text, true, "Colonne en cause (nom du contrat)."),
        col(
            "motif",
            Text,
            false,
            "Motif du rejet (identifiant_manquant, valeur_manquante, code_inconnu, date_impossible, date_future, evenement_avant_naissance, doublon).",
        ),
    ],
};

/// Drops: one row per drop processed (integrated or refused).
pub const DEPOTS: TableDef = TableDef {
    name: "depots",
    description: "Un dépôt traité : intégré ou refusé, avec ses comptes et les versions des tables qu'il a produites.",
    partition: None,
    columns: &[
        col("depot", Text, false, "Empreinte SHA-256 du fichier."),
        col(
            "territoire",
            Text,
            false,
            "Identifiant du territoire (ou nom du dossier, s'il est inconnu).",
        ),
        col("fichier", Text, false, "Nom du fichier."),
        col(
            "date_extraction",
            Date,
            true,
            "Date d'extraction lue dans le nom du fichier.",
        ),
        col(
            "traite_le",
            Timestamp,
            false,
            "Instant du traitement (UTC).",
        ),
        col(
            "statut",
            Text,
            false,
            "integre, refuse (contenu contraire au contrat ou au-delà d'une limite) ou en_attente (retenu pour examen : données en place conservées, libérable par copil integrer --liberer).",
        ),
        col(
            "message",
            Text,
            true,
            "Raison d'un refus ou d'une mise en attente.",
        ),
        col(
            "lignes_lues",
            Long,
            false,
            "Lignes de données lues (hors en-tête).",
        ),
        col(
            "lignes_integrees",
            Long,
            false,
            "Lignes intégrées à evenements.",
        ),
        col(
            "lignes_rejetees",
            Long,
            false,
            "Lignes écartées (somme des motifs).",
        ),
        col(
            "rejets_identifiant_manquant",
            Long,
            false,
            "Lignes sans identifiant.",
        ),
        col(
            "rejets_valeur_manquante",
            Long,
            false,
            "Lignes sans date, événement ou date de naissance.",
        ),
        col(
            "rejets_code_inconnu",
            Long,
            false,
            "Lignes avec un code hors vocabulaire.",
        ),
        col(
            "rejets_date_impossible",
            Long,
            false,
            "Lignes avec une date illisible ou inexistante.",
        ),
        col(
            "rejets_date_future",
            Long,
            false,
            "Lignes datées après l'extraction.",
        ),
        col(
            "rejets_evenement_avant_naissance",
            Long,
            false,
            "Lignes datées avant la naissance.",
        ),
        col(
            "rejets_doublon",
            Long,
            false,
            "Lignes répétées à l'identique.",
        ),
        col("personnes", Long, false, "Personnes distinctes intégrées."),
        col(
            "encodage",
            Text,
            true,
            "Encodage détecté (UTF-8, Windows-1252, xlsx).",
        ),
        col("separateur", Text, true, "Séparateur détecté."),
        col(
            "colonnes_ignorees",
            Text,
            true,
            "Colonnes hors contrat, ignorées (noms seulement, jamais les valeurs).",
        ),
        col(
            "duree_ms",
            Long,
            false,
            "Durée du traitement, en millisecondes.",
        ),
        col(
            "version_evenements",
            Long,
            true,
            "Version de evenements produite par ce dépôt.",
        ),
        col(
            "version_personnes",
            Long,
            true,
            "Version de personnes produite par ce dépôt.",
        ),
        col(
            "version_rejets",
            Long,
            true,
            "Version de rejets produite par ce dépôt.",
        ),
    ],
};

/// Indicators: the materialised results of the catalogue, secrecy applied.
pub const INDICATEURS: TableDef = TableDef {
    name: "indicateurs",
    description: "Un chiffre publié : un indicateur, pour un territoire, une vague ou la France, un mois et une case de ventilation, secret statistique appliqué.",
    partition: None,
    columns: &[
        col(
            "indicateur",
            Text,
            false,
            "Identifiant de l'indicateur (catalogue).",
        ),
        col("niveau", Text, false, "territoire, vague ou national."),
        col(
            "code",
            Text,
            false,
            "Identifiant du territoire, code de la vague, ou national.",
        ),
        col("mois", Date, false, "Premier jour du mois."),
        col(
            "ventilation",
            Text,
            false,
            "Colonne de ventilation (vide pour l'ensemble).",
        ),
        col(
            "modalite",
            Text,
            false,
            "Valeur de la ventilation (vide pour l'ensemble).",
        ),
        col(
            "valeur",
            Double,
            true,
            "Valeur : effectif, part entre 0 et 1, ou délai médian en jours ; vide si secret.",
        ),
        col(
            "numerateur",
            Long,
            true,
            "Numérateur (somme des délais pour un délai) ; vide si secret.",
        ),
        col(
            "denominateur",
            Long,
            true,
            "Dénominateur (personnes pour un délai) ; vide si secret.",
        ),
        col(
            "personnes",
            Long,
            true,
            "Personnes couvertes par la case ; vide si secret.",
        ),
        col(
            "ic_bas",
            Double,
            true,
            "Borne basse de l'intervalle de confiance à 95 % (Wilson), pour une part.",
        ),
        col(
            "ic_haut",
            Double,
            true,
            "Borne haute de l'intervalle de confiance à 95 % (Wilson), pour une part.",
        ),
        col("q1", Double, true, "Premier quartile, pour un délai."),
        col("q3", Double, true, "Troisième quartile, pour un délai."),
        col("moyenne", Double, true, "Moyenne, pour un délai."),
        col(
            "secret",
            Bool,
            false,
            "Vrai si la case est couverte par le secret statistique (aucun chiffre n'est alors publié).",
        ),
        col(
            "territoires",
            Long,
            true,
            "Vague ou France : territoires dont le mois est complet et qui entrent dans la case.",
        ),
        col(
            "territoires_attendus",
            Long,
            true,
            "Vague ou France : territoires du niveau en vigueur ce mois-là.",
        ),
        col(
            "couverture",
            Double,
            true,
            "Vague ou France : part des personnes du niveau que couvrent les territoires comptés (arrondie au centième).",
        ),
        col(
            "provisoire",
            Bool,
            false,
            "Vrai pour une case de vague ou de la France qui ne couvre pas encore tous les territoires du niveau.",
        ),
        col(
            "version_evenements",
            Long,
            false,
            "Version de la table evenements à partir de laquelle la case a été calculée.",
        ),
        col("calcule_le", Timestamp, false, "Instant du calcul (UTC)."),
    ],
};

/// Accumulators: each territory's counts per indicator, month and breakdown cell, before
/// pooling and secrecy (issue 16). Internal: never published, exported or described to users;
/// an incremental refresh recomputes only the territories whose data changed and pools the
/// others from here.
pub const ACCUMULATEURS: TableDef = TableDef {
    name: "accumulateurs",
    description: "Interne : les comptes d'un territoire pour un indicateur, un mois et une case de ventilation, avant agrégation et secret statistique ; jamais publiée ni exportée.",
    partition: Some("territoire"),
    columns: &[
        TERRITOIRE,
        col(
            "empreinte",
            Text,
            false,
            "Empreinte des données du territoire dont les comptes viennent (fichiers, date d'extraction, catalogue).",
        ),
        col(
            "indicateur",
            Text,
            false,
            "Identifiant de l'indicateur ; vide pour la ligne qui ne porte que l'empreinte.",
        ),
        col(
            "mois",
            Date,
            true,
            "Premier jour du mois ; sur la ligne qui ne porte que l'empreinte, premier mois avec un événement du territoire (vide : aucun).",
        ),
        col("ventilation", Text, false, "Colonne de ventilation."),
        col("modalite", Text, false, "Valeur de la ventilation."),
        col("numerateur", Long, true, "Numérateur."),
        col("denominateur", Long, true, "Dénominateur."),
        col(
            "personnes",
            Long,
            true,
            "Personnes (pour un délai : personnes à ce délai).",
        ),
        col(
            "jours",
            Long,
            true,
            "Délai en jours (indicateurs de délai).",
        ),
    ],
};

/// Every table.
pub const TABLES: [&TableDef; 6] = [
    &EVENEMENTS,
    &PERSONNES,
    &REJETS,
    &DEPOTS,
    &INDICATEURS,
    &ACCUMULATEURS,
];

impl ColumnType {
    fn arrow(self) -> ArrowType {
        match self {
            Text => ArrowType::Utf8,
            Date => ArrowType::Date32,
            Int => ArrowType::Int32,
            Long => ArrowType::Int64,
            Bool => ArrowType::Boolean,
            Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            Double => ArrowType::Float64,
        }
    }

    fn delta(self) -> DeltaType {
        match self {
            Text => DeltaType::STRING,
            Date => DeltaType::DATE,
            Int => DeltaType::INTEGER,
            Long => DeltaType::LONG,
            Bool => DeltaType::BOOLEAN,
            Timestamp => DeltaType::TIMESTAMP,
            Double => DeltaType::DOUBLE,
        }
    }
}

impl TableDef {
    /// The table's full Arrow schema (as readers see it).
    pub fn schema(&self) -> SchemaRef {
        self.arrow_schema(|_| true)
    }

    /// The Arrow schema of its data files: without the partition column.
    pub fn file_schema(&self) -> SchemaRef {
        self.arrow_schema(|c| Some(c.name) != self.partition)
    }

    /// The Arrow schema of the columns that `keep` accepts, in order.
    fn arrow_schema(&self, keep: impl Fn(&ColumnDef) -> bool) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .filter(|c| keep(c))
                .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
                .collect::<Vec<_>>(),
        ))
    }

    pub(crate) fn delta_columns(&self) -> Vec<StructField> {
        self.columns
            .iter()
            .map(|c| StructField::new(c.name, c.ty.delta(), c.nullable))
            .collect()
    }

    /// The column of that name.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}
