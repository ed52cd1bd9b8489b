//! Every configuration key, declared once: its field, type, default, kind and French
//! documentation ([`section!`] for the `[sections]`, [`config!`] for the top-level paths and
//! the struct [`Config`] that holds them beside the sections).

use std::path::PathBuf;

use copil_ingest::{Limits, Safeguards};
use serde::{Deserialize, Serialize};

/// Declares a `[section]` of the configuration once: each key's field, type, default, kind
/// and French documentation. From it come the struct (with serde and its `Default`), the keys
/// (environment variables, `--set`, `copil config`, the template of `copil init`) and the
/// values as text.
macro_rules! section {
    (
        $(#[$meta:meta])*
        $name:ident = $prefix:literal {
            $( $field:ident : $ty:ty = $default:expr, $kind:ident, $doc:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $( #[doc = $doc] pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// The keys of the section, in declaration order.
            pub(super) const KEYS: &'static [Key] = &[
                $( Key {
                    name: concat!($prefix, ".", stringify!($field)),
                    kind: Kind::$kind,
                    doc: $doc,
                }, )*
            ];

            /// Every value as text, by key.
            pub(super) fn values(&self) -> Vec<(&'static str, String)> {
                vec![ $( (concat!($prefix, ".", stringify!($field)), Text::text(&self.$field)), )* ]
            }
        }
    };
}

/// A value as `copil config` and the template write it.
trait Text {
    fn text(&self) -> String;
}

impl Text for String {
    fn text(&self) -> String {
        self.clone()
    }
}

impl Text for f64 {
    fn text(&self) -> String {
        format!("{self:?}")
    }
}

macro_rules! text_by_display {
    ($($t:ty),*) => { $( impl Text for $t { fn text(&self) -> String { self.to_string() } } )* };
}
text_by_display!(u32, u64, bool);

section! {
    /// `[publication]`: pooled cells.
    Publication = "publication" {
        coverage: u32 = 90, Integer, "Couverture minimale, en pour cent des personnes du niveau, pour publier une case de vague ou de la France (en dessous de 100 : provisoire).";
    }
}

section! {
    /// `[schedule]`: scheduled jobs.
    Schedule = "schedule" {
        ingest: String = "0 */15 * * * *".into(), Text, "Planification de l'ingestion (cron à 6 champs, secondes en tête).";
    }
}

section! {
    /// `[secrecy]`: statistical secrecy.
    Secrecy = "secrecy" {
        threshold: u32 = 11, Integer, "Seuil du secret statistique : aucune case ne concerne moins de personnes.";
        numerators: bool = true, Boolean, "Secret aussi pour un numérateur entre 1 et le seuil (personnes partageant une caractéristique).";
    }
}

section! {
    /// `[server]`: the web server.
    Server = "server" {
        bind: String = "127.0.0.1:8080".into(), Text, "Adresse d'écoute du tableau de bord.";
        secure_cookies: bool = true, Boolean, "Cookies de session marqués Secure (vrai par défaut : servir derrière HTTPS) ; « copil demo » le désactive, en HTTP local, sauf réglage explicite.";
        max_password_checks: u32 = 4, Integer, "Vérifications de mot de passe simultanées au plus (argon2id, 19 Mio de mémoire chacune) ; au-delà, une connexion attend 2 s puis reçoit une réponse 503.";
        service_de_l_etat: bool = false, Boolean, "Le déploiement est un service de l'État : l'en-tête porte le bloc « République française » (marque de l'État) ; faux par défaut, en-tête neutre Copil.";
    }
}

section! {
    /// `[upload]`: drops sent over HTTP.
    Upload = "upload" {
        max_bytes: u64 = 512 * 1024 * 1024, Integer, "Taille maximale d'un dépôt envoyé par le tableau de bord ou l'API, en octets.";
    }
}

section! {
    /// `[ingest]` (issue 13): the bounds of [`copil_ingest::Limits`] and the safeguards of
    /// [`copil_ingest::Safeguards`]; their defaults are those of the ingestion crate.
    Ingest = "ingest" {
        max_decompressed_bytes: u64 = Limits::default().max_decompressed_bytes, Integer, "Taille maximale d'un dépôt une fois décompressé (.csv.gz, parties d'un .xlsx), en octets ; au-delà il est refusé.";
        max_compression_ratio: u64 = Limits::default().max_compression_ratio, Integer, "Taux de compression maximal d'un dépôt compressé (taille décompressée sur taille du fichier, vérifié au-delà de 64 Mio) ; au-delà il est refusé.";
        max_line_bytes: u64 = Limits::default().max_line_bytes, Integer, "Taille maximale d'une ligne (avec les retours à la ligne de ses champs entre guillemets), en octets.";
        max_field_bytes: u64 = Limits::default().max_field_bytes, Integer, "Taille maximale d'un champ CSV ou d'une cellule de classeur, en octets.";
        max_rows: u64 = Limits::default().max_rows, Integer, "Nombre maximal de lignes de données d'un dépôt.";
        max_columns: u64 = Limits::default().max_columns, Integer, "Nombre maximal de colonnes d'un dépôt.";
        max_xlsx_shared_strings_bytes: u64 = Limits::default().max_xlsx_shared_strings_bytes, Integer, "Taille maximale des textes partagés d'un classeur (chargés en mémoire), en octets.";
        max_parse_seconds: u64 = Limits::default().max_parse_seconds, Integer, "Durée maximale de lecture d'un dépôt, en secondes.";
        max_rejets: f64 = Safeguards::default().max_rejets, Decimal, "Part maximale de lignes écartées (entre 0 et 1) : au-delà, le dépôt est mis en attente d'examen au lieu de remplacer les données du territoire.";
        max_perte_personnes: f64 = Safeguards::default().max_perte_personnes, Decimal, "Part maximale des personnes en place qu'un dépôt peut perdre (entre 0 et 1) : au-delà, il est mis en attente d'examen.";
    }
}

section! {
    /// `[proconnect]` (issue 17): sign-in with ProConnect, the State's OpenID Connect
    /// federation; off while `issuer` is empty.
    Proconnect = "proconnect" {
        issuer: String = String::new(), Text, "Émetteur ProConnect (URL de découverte OpenID Connect, par exemple https://auth.agentconnect.gouv.fr/api/v2) ; vide : pas de bouton « S'identifier avec ProConnect ».";
        client_id: String = String::new(), Text, "Identifiant client de Copil auprès de ProConnect.";
        client_secret_file: String = String::new(), Text, "Fichier du secret client de Copil auprès de ProConnect (mode 0600, hors de l'entrepôt) ; le secret n'est jamais affiché ni journalisé.";
        redirect_url: String = String::new(), Text, "URL de retour déclarée à ProConnect : https://<adresse de Copil>/connexion/proconnect/retour ; l'URL de déconnexion déclarée est https://<adresse de Copil>/connexion.";
        acr_values: String = String::new(), Text, "Niveaux d'authentification demandés (acr_values, séparés par des espaces) ; vide : aucun.";
        passwords: bool = true, Boolean, "Connexion par mot de passe des comptes locaux ; faux : ProConnect seulement (exige proconnect.issuer).";
    }
}

/// Declares [`Config`] once: each top-level key (an optional path or text whose default is
/// derived from `data_dir`, or absent) with its type, default, kind, template line and French
/// documentation, then the sections. From it come the struct (with serde and its `Default`),
/// the keys in order and the template lines of the top-level keys.
macro_rules! config {
    (
        $( $field:ident : $ty:ty = $default:expr, $kind:ident, $line:literal, $doc:literal; )*
        [sections]
        $( $section:ident : $type:ident, $about:literal; )*
    ) => {
        /// The effective configuration; a key the file leaves out keeps its default.
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Config {
            $( #[doc = $doc] pub $field: $ty, )*
            $( #[doc = $about] pub $section: $type, )*
        }

        impl Default for Config {
            fn default() -> Self {
                Config { $( $field: $default, )* $( $section: $type::default(), )* }
            }
        }

        impl Config {
            /// Every value of the sections' keys as text, by key.
            pub(super) fn section_values(&self) -> Vec<(&'static str, String)> {
                [ $( self.$section.values(), )* ].concat()
            }
        }

        /// The top-level keys, in declaration order.
        const ROOT_KEYS: &[Key] = &[
            $( Key { name: stringify!($field), kind: Kind::$kind, doc: $doc }, )*
        ];

        /// Every key: the top-level ones, then each section's (the single list that drives
        /// env, flags, `copil config` and the template of `copil init`).
        pub fn keys() -> impl Iterator<Item = &'static Key> {
            ROOT_KEYS.iter() $( .chain($type::KEYS) )*
        }

        /// The template line of a top-level key: its default, commented out when derived.
        pub(super) fn root_default(name: &str) -> Option<&'static str> {
            match name {
                $( stringify!($field) => Some($line), )*
                _ => None,
            }
        }
    };
}

config! {
    data_dir: PathBuf = "copil-data".into(), Path, "data_dir = \"copil-data\"", "Dossier des données ; tout le reste s'y trouve sauf indication contraire.";
    inbox: Option<PathBuf> = None, Path, "# inbox = \"copil-data/inbox\"", "Boîte de dépôt : un sous-dossier par identifiant de territoire (défaut : <data_dir>/inbox).";
    warehouse: Option<String> = None, Text, "# warehouse = \"copil-data/warehouse\"", "Entrepôt Delta Lake : un chemin ou une URL (défaut : <data_dir>/warehouse).";
    key_file: Option<PathBuf> = None, Path, "# key_file = \"copil-data/secrets/pseudonymisation.key\"", "Fichier de la clé secrète de pseudonymisation, hors de l'entrepôt (défaut : <data_dir>/secrets/pseudonymisation.key).";
    accounts: Option<PathBuf> = None, Path, "# accounts = \"copil-data/secrets/comptes.json\"", "Fichier des comptes du tableau de bord, mots de passe hachés en argon2id (défaut : <data_dir>/secrets/comptes.json).";
    projects: Option<PathBuf> = None, Path, "# projects = \"copil-data/secrets/projets.json\"", "Fichier des projets d'évaluation (objet, évaluateurs, territoires, période), déclarés par « copil projets » ou la page Comptes (défaut : <data_dir>/secrets/projets.json).";
    export_key_file: Option<PathBuf> = None, Path, "# export_key_file = \"copil-data/secrets/exports.key\"", "Clé secrète des pseudonymes d'export (une clé par projet en est dérivée), hors de l'entrepôt (défaut : <data_dir>/secrets/exports.key).";
    register: Option<PathBuf> = None, Path, "# register = \"territoires.csv\"", "Registre des territoires (CSV) propre au déploiement ; vide : le registre intégré (68 territoires).";
    [sections]
    publication: Publication, "Publication of pooled cells.";
    schedule: Schedule, "Schedules.";
    secrecy: Secrecy, "Statistical secrecy.";
    server: Server, "Web server.";
    upload: Upload, "Uploads.";
    ingest: Ingest, "Ingestion: limits on every input and the safeguards of the landing.";
    proconnect: Proconnect, "Sign-in with ProConnect (issue 17).";
}

/// A configuration key.
#[derive(Debug)]
pub struct Key {
    /// Dotted name (`secrecy.threshold`).
    pub name: &'static str,
    pub(super) kind: Kind,
    /// French documentation.
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Path,
    Text,
    Integer,
    Decimal,
    Boolean,
}

impl Key {
    /// The environment variable that sets this key (`COPIL_SECRECY_THRESHOLD`).
    pub fn env_var(&self) -> String {
        format!("COPIL_{}", self.name.replace('.', "_").to_ascii_uppercase())
    }
}
