//! Copil's configuration: one typed struct, read from `copil.toml`, then the environment
//! (`COPIL_` + the key in capitals, dots as `_`), then command-line flags.
//!
//! Relative paths written in the file are relative to the file's folder; those given by the
//! environment or flags, and the defaults when no file is read, to the working directory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Every key, with its type and documentation (the single list that drives env, flags,
/// `copil config` and the template of `copil init`).
pub const KEYS: &[Key] = &[
    Key {
        name: "data_dir",
        kind: Kind::Path,
        doc: "Dossier des données ; tout le reste s'y trouve sauf indication contraire.",
    },
    Key {
        name: "inbox",
        kind: Kind::Path,
        doc: "Boîte de dépôt : un sous-dossier par identifiant de territoire (défaut : <data_dir>/inbox).",
    },
    Key {
        name: "warehouse",
        kind: Kind::Text,
        doc: "Entrepôt Delta Lake : un chemin ou une URL (défaut : <data_dir>/warehouse).",
    },
    Key {
        name: "key_file",
        kind: Kind::Path,
        doc: "Fichier de la clé secrète de pseudonymisation, hors de l'entrepôt (défaut : <data_dir>/secrets/pseudonymisation.key).",
    },
    Key {
        name: "accounts",
        kind: Kind::Path,
        doc: "Fichier des comptes du tableau de bord, mots de passe hachés en argon2id (défaut : <data_dir>/secrets/comptes.json).",
    },
    Key {
        name: "projects",
        kind: Kind::Path,
        doc: "Fichier des projets d'évaluation (objet, évaluateurs, territoires, période), déclarés par « copil projets » ou la page Comptes (défaut : <data_dir>/secrets/projets.json).",
    },
    Key {
        name: "export_key_file",
        kind: Kind::Path,
        doc: "Clé secrète des pseudonymes d'export (une clé par projet en est dérivée), hors de l'entrepôt (défaut : <data_dir>/secrets/exports.key).",
    },
    Key {
        name: "register",
        kind: Kind::Path,
        doc: "Registre des territoires (CSV) propre au déploiement ; vide : le registre intégré (68 territoires).",
    },
    Key {
        name: "publication.coverage",
        kind: Kind::Integer,
        doc: "Couverture minimale, en pour cent des personnes du niveau, pour publier une case de vague ou de la France (en dessous de 100 : provisoire).",
    },
    Key {
        name: "schedule.ingest",
        kind: Kind::Text,
        doc: "Planification de l'ingestion (cron à 6 champs, secondes en tête).",
    },
    Key {
        name: "secrecy.threshold",
        kind: Kind::Integer,
        doc: "Seuil du secret statistique : aucune case ne concerne moins de personnes.",
    },
    Key {
        name: "secrecy.numerators",
        kind: Kind::Boolean,
        doc: "Secret aussi pour un numérateur entre 1 et le seuil (personnes partageant une caractéristique).",
    },
    Key {
        name: "server.bind",
        kind: Kind::Text,
        doc: "Adresse d'écoute du tableau de bord.",
    },
    Key {
        name: "server.secure_cookies",
        kind: Kind::Boolean,
        doc: "Cookies de session marqués Secure (vrai par défaut : servir derrière HTTPS) ; « copil demo » le désactive, en HTTP local, sauf réglage explicite.",
    },
    Key {
        name: "server.max_password_checks",
        kind: Kind::Integer,
        doc: "Vérifications de mot de passe simultanées au plus (argon2id, 19 Mio de mémoire chacune) ; au-delà, une connexion attend 2 s puis reçoit une réponse 503.",
    },
    Key {
        name: "upload.max_bytes",
        kind: Kind::Integer,
        doc: "Taille maximale d'un dépôt envoyé par le tableau de bord ou l'API, en octets.",
    },
    Key {
        name: "ingest.max_decompressed_bytes",
        kind: Kind::Integer,
        doc: "Taille maximale d'un dépôt une fois décompressé (.csv.gz, parties d'un .xlsx), en octets ; au-delà il est refusé.",
    },
    Key {
        name: "ingest.max_compression_ratio",
        kind: Kind::Integer,
        doc: "Taux de compression maximal d'un dépôt compressé (taille décompressée sur taille du fichier, vérifié au-delà de 64 Mio) ; au-delà il est refusé.",
    },
    Key {
        name: "ingest.max_line_bytes",
        kind: Kind::Integer,
        doc: "Taille maximale d'une ligne (avec les retours à la ligne de ses champs entre guillemets), en octets.",
    },
    Key {
        name: "ingest.max_field_bytes",
        kind: Kind::Integer,
        doc: "Taille maximale d'un champ CSV ou d'une cellule de classeur, en octets.",
    },
    Key {
        name: "ingest.max_rows",
        kind: Kind::Integer,
        doc: "Nombre maximal de lignes de données d'un dépôt.",
    },
    Key {
        name: "ingest.max_columns",
        kind: Kind::Integer,
        doc: "Nombre maximal de colonnes d'un dépôt.",
    },
    Key {
        name: "ingest.max_xlsx_shared_strings_bytes",
        kind: Kind::Integer,
        doc: "Taille maximale des textes partagés d'un classeur (chargés en mémoire), en octets.",
    },
    Key {
        name: "ingest.max_parse_seconds",
        kind: Kind::Integer,
        doc: "Durée maximale de lecture d'un dépôt, en secondes.",
    },
    Key {
        name: "ingest.max_rejets",
        kind: Kind::Decimal,
        doc: "Part maximale de lignes écartées (entre 0 et 1) : au-delà, le dépôt est mis en attente d'examen au lieu de remplacer les données du territoire.",
    },
    Key {
        name: "ingest.max_perte_personnes",
        kind: Kind::Decimal,
        doc: "Part maximale des personnes en place qu'un dépôt peut perdre (entre 0 et 1) : au-delà, il est mis en attente d'examen.",
    },
];

/// A configuration key.
#[derive(Debug)]
pub struct Key {
    /// Dotted name (`secrecy.threshold`).
    pub name: &'static str,
    kind: Kind,
    /// French documentation.
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
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

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data folder.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Inbox, if not `<data_dir>/inbox`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<PathBuf>,
    /// Warehouse location (path or URL), if not `<data_dir>/warehouse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
    /// Key file, if not `<data_dir>/secrets/pseudonymisation.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Accounts file, if not `<data_dir>/secrets/comptes.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<PathBuf>,
    /// Evaluation projects file, if not `<data_dir>/secrets/projets.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<PathBuf>,
    /// Export pseudonym key file, if not `<data_dir>/secrets/exports.key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_key_file: Option<PathBuf>,
    /// A deployment's register file; the built-in register if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<PathBuf>,
    /// Publication of pooled cells.
    #[serde(default)]
    pub publication: Publication,
    /// Schedules.
    #[serde(default)]
    pub schedule: Schedule,
    /// Statistical secrecy.
    #[serde(default)]
    pub secrecy: Secrecy,
    /// Web server.
    #[serde(default)]
    pub server: Server,
    /// Uploads.
    #[serde(default)]
    pub upload: Upload,
    /// Ingestion: limits on every input and the safeguards of the landing.
    #[serde(default)]
    pub ingest: Ingest,
}

/// `[ingest]` (issue 13): the bounds of [`copil_ingest::Limits`] and the safeguards of
/// [`copil_ingest::Safeguards`]; their defaults are those of the ingestion crate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ingest {
    /// See [`copil_ingest::Limits::max_decompressed_bytes`].
    pub max_decompressed_bytes: u64,
    /// See [`copil_ingest::Limits::max_compression_ratio`].
    pub max_compression_ratio: u64,
    /// See [`copil_ingest::Limits::max_line_bytes`].
    pub max_line_bytes: u64,
    /// See [`copil_ingest::Limits::max_field_bytes`].
    pub max_field_bytes: u64,
    /// See [`copil_ingest::Limits::max_rows`].
    pub max_rows: u64,
    /// See [`copil_ingest::Limits::max_columns`].
    pub max_columns: u64,
    /// See [`copil_ingest::Limits::max_xlsx_shared_strings_bytes`].
    pub max_xlsx_shared_strings_bytes: u64,
    /// See [`copil_ingest::Limits::max_parse_seconds`].
    pub max_parse_seconds: u64,
    /// See [`copil_ingest::Safeguards::max_rejets`].
    pub max_rejets: f64,
    /// See [`copil_ingest::Safeguards::max_perte_personnes`].
    pub max_perte_personnes: f64,
}

impl Default for Ingest {
    fn default() -> Self {
        let l = copil_ingest::Limits::default();
        let s = copil_ingest::Safeguards::default();
        Self {
            max_decompressed_bytes: l.max_decompressed_bytes,
            max_compression_ratio: l.max_compression_ratio,
            max_line_bytes: l.max_line_bytes,
            max_field_bytes: l.max_field_bytes,
            max_rows: l.max_rows,
            max_columns: l.max_columns,
            max_xlsx_shared_strings_bytes: l.max_xlsx_shared_strings_bytes,
            max_parse_seconds: l.max_parse_seconds,
            max_rejets: s.max_rejets,
            max_perte_personnes: s.max_perte_personnes,
        }
    }
}

impl Ingest {
    /// The limits for the ingestion crate.
    pub fn limits(&self) -> copil_ingest::Limits {
        copil_ingest::Limits {
            max_decompressed_bytes: self.max_decompressed_bytes,
            max_compression_ratio: self.max_compression_ratio,
            max_line_bytes: self.max_line_bytes,
            max_field_bytes: self.max_field_bytes,
            max_rows: self.max_rows,
            max_columns: self.max_columns,
            max_xlsx_shared_strings_bytes: self.max_xlsx_shared_strings_bytes,
            max_parse_seconds: self.max_parse_seconds,
        }
    }

    /// The safeguards for the ingestion crate.
    pub fn safeguards(&self) -> copil_ingest::Safeguards {
        copil_ingest::Safeguards {
            max_rejets: self.max_rejets,
            max_perte_personnes: self.max_perte_personnes,
        }
    }

    /// Every value as a string, by key (for `copil config` and the template).
    fn values(&self) -> [(&'static str, String); 10] {
        [
            (
                "ingest.max_decompressed_bytes",
                self.max_decompressed_bytes.to_string(),
            ),
            (
                "ingest.max_compression_ratio",
                self.max_compression_ratio.to_string(),
            ),
            ("ingest.max_line_bytes", self.max_line_bytes.to_string()),
            ("ingest.max_field_bytes", self.max_field_bytes.to_string()),
            ("ingest.max_rows", self.max_rows.to_string()),
            ("ingest.max_columns", self.max_columns.to_string()),
            (
                "ingest.max_xlsx_shared_strings_bytes",
                self.max_xlsx_shared_strings_bytes.to_string(),
            ),
            (
                "ingest.max_parse_seconds",
                self.max_parse_seconds.to_string(),
            ),
            ("ingest.max_rejets", format!("{:?}", self.max_rejets)),
            (
                "ingest.max_perte_personnes",
                format!("{:?}", self.max_perte_personnes),
            ),
        ]
    }
}

/// `[upload]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// Largest drop accepted over HTTP, in bytes (512 MiB by default).
    #[serde(default = "default_upload_max")]
    pub max_bytes: u64,
}

fn default_upload_max() -> u64 {
    512 * 1024 * 1024
}

impl Default for Upload {
    fn default() -> Self {
        Self {
            max_bytes: default_upload_max(),
        }
    }
}

/// `[schedule]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Cron expression of the ingestion job (seconds first): every 15 minutes by default.
    #[serde(default = "default_ingest_schedule")]
    pub ingest: String,
}

/// `[secrecy]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrecy {
    /// No published cell covers fewer people (11 by default).
    #[serde(default = "default_threshold")]
    pub threshold: u32,
    /// A numerator between 1 and the threshold is secret too (on by default).
    #[serde(default = "default_true")]
    pub numerators: bool,
}

/// `[publication]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// A wave or national cell is published when its territories cover at least this share
    /// of the level's people, in per cent (90 by default).
    #[serde(default = "default_coverage")]
    pub coverage: u32,
}

impl Default for Publication {
    fn default() -> Self {
        Self {
            coverage: default_coverage(),
        }
    }
}

fn default_coverage() -> u32 {
    90
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Listening address.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// `Secure` cookies (behind HTTPS): true unless turned off (`copil demo` does, locally).
    #[serde(default = "default_true")]
    pub secure_cookies: bool,
    /// Most password checks at once (issue 13).
    #[serde(default = "default_password_checks")]
    pub max_password_checks: u32,
}

fn default_true() -> bool {
    true
}
fn default_password_checks() -> u32 {
    4
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("copil-data")
}
fn default_ingest_schedule() -> String {
    "0 */15 * * * *".into()
}
fn default_threshold() -> u32 {
    11
}
fn default_bind() -> String {
    "127.0.0.1:8080".into()
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            ingest: default_ingest_schedule(),
        }
    }
}
impl Default for Secrecy {
    fn default() -> Self {
        Self {
            threshold: default_threshold(),
            numerators: true,
        }
    }
}
impl Default for Server {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            secure_cookies: true,
            max_password_checks: default_password_checks(),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The documented default.
    Default,
    /// Derived from `data_dir`.
    Derived,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag,
}

impl Source {
    fn label(&self) -> String {
        match self {
            Source::Default => "défaut".into(),
            Source::Derived => "déduit de data_dir".into(),
            Source::File(p) => format!("fichier {}", p.display()),
            Source::Env(v) => format!("variable {v}"),
            Source::Flag => "option de la ligne de commande".into(),
        }
    }
}

/// A loaded configuration and where each key came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// Source of each key set by something other than its default.
    pub sources: BTreeMap<&'static str, Source>,
}

/// What the command line asks for.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`: must exist when given.
    pub config_file: Option<PathBuf>,
    /// `KEY=VALUE` pairs from flags (`--data-dir` becomes `data_dir=…`).
    pub sets: Vec<(String, String)>,
}

fn key(name: &str) -> Result<&'static Key> {
    KEYS.iter().find(|k| k.name == name).with_context(|| {
        let known: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        format!(
            "clé de configuration « {name} » inconnue (clés : {})",
            known.join(", ")
        )
    })
}

fn set_value(table: &mut toml::Table, key: &Key, raw: &str, origin: &str) -> Result<()> {
    let value = match key.kind {
        Kind::Integer => toml::Value::Integer(raw.trim().parse::<i64>().with_context(|| {
            format!(
                "{origin} : « {raw} » n'est pas un entier (clé {})",
                key.name
            )
        })?),
        Kind::Decimal => toml::Value::Float(
            raw.trim()
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .with_context(|| {
                    format!(
                        "{origin} : « {raw} » n'est pas un nombre décimal (clé {})",
                        key.name
                    )
                })?,
        ),
        Kind::Boolean => toml::Value::Boolean(match raw.trim() {
            "true" | "oui" | "1" => true,
            "false" | "non" | "0" => false,
            _ => bail!(
                "{origin} : « {raw} » n'est pas un booléen (true ou false, clé {})",
                key.name
            ),
        }),
        Kind::Path | Kind::Text => toml::Value::String(raw.to_string()),
    };
    let mut parts = key.name.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_string(), value);
            break;
        }
        current = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .with_context(|| format!("{origin} : « {part} » doit être une table"))?;
    }
    Ok(())
}

fn has_key(table: &toml::Table, name: &str) -> bool {
    let mut current = table;
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        match current.get(part) {
            Some(toml::Value::Table(t)) if parts.peek().is_some() => current = t,
            Some(_) if parts.peek().is_none() => return true,
            _ => return false,
        }
    }
    false
}

impl Config {
    /// Loads the configuration: the file (`--config`, else `./copil.toml` if present), then
    /// the `COPIL_*` variables of `env`, then the flags.
    pub fn load(overrides: &Overrides, env: &[(String, String)]) -> Result<Loaded> {
        Self::load_with_default(Path::new("copil.toml"), overrides, env)
    }

    /// [`Config::load`] with another default file than `./copil.toml`.
    pub fn load_with_default(
        default_file: &Path,
        overrides: &Overrides,
        env: &[(String, String)],
    ) -> Result<Loaded> {
        let (file, required) = match &overrides.config_file {
            Some(p) => (p.clone(), true),
            None => (default_file.to_path_buf(), false),
        };
        let mut table = toml::Table::new();
        let mut sources = BTreeMap::new();
        let mut file_read = None;
        if file.exists() || required {
            let text = std::fs::read_to_string(&file).with_context(|| {
                format!(
                    "lecture impossible du fichier de configuration {}",
                    file.display()
                )
            })?;
            table = text
                .parse::<toml::Table>()
                .with_context(|| format!("fichier de configuration {} invalide", file.display()))?;
            for k in KEYS {
                if has_key(&table, k.name) {
                    sources.insert(k.name, Source::File(file.clone()));
                }
            }
            let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
            for k in KEYS.iter().filter(|k| k.kind == Kind::Path) {
                if let Some(toml::Value::String(s)) = table.get_mut(k.name)
                    && Path::new(s.as_str()).is_relative()
                    && !base.as_os_str().is_empty()
                {
                    *s = base.join(&*s).display().to_string();
                }
            }
            file_read = Some(file);
        }
        for (var, value) in env {
            if !var.starts_with("COPIL_") {
                continue;
            }
            let Some(k) = KEYS.iter().find(|k| k.env_var() == *var) else {
                let known: Vec<String> = KEYS.iter().map(Key::env_var).collect();
                bail!(
                    "variable d'environnement {var} inconnue (variables : {})",
                    known.join(", ")
                );
            };
            set_value(&mut table, k, value, &format!("variable {var}"))?;
            sources.insert(k.name, Source::Env(var.clone()));
        }
        for (name, value) in &overrides.sets {
            let k = key(name)?;
            set_value(&mut table, k, value, &format!("option --set {name}"))?;
            sources.insert(k.name, Source::Flag);
        }
        let origin = file_read
            .as_ref()
            .map_or("valeurs par défaut".to_string(), |f| {
                f.display().to_string()
            });
        let config: Config = table
            .try_into()
            .with_context(|| format!("configuration invalide ({origin})"))?;
        config.check()?;
        Ok(Loaded {
            config,
            file: file_read,
            sources,
        })
    }

    fn check(&self) -> Result<()> {
        if !(1..=100).contains(&self.publication.coverage) {
            bail!(
                "publication.coverage = {} : la couverture minimale est un pourcentage entre 1 et 100",
                self.publication.coverage
            );
        }
        if self.secrecy.threshold < 2 {
            bail!(
                "secrecy.threshold = {} : le seuil du secret doit être au moins 2",
                self.secrecy.threshold
            );
        }
        let fields = self.schedule.ingest.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            bail!(
                "schedule.ingest = « {} » : expression cron à 6 champs attendue (secondes minutes heures jour mois jour-de-semaine), par exemple « 0 */15 * * * * »",
                self.schedule.ingest
            );
        }
        for (name, value) in [
            ("ingest.max_rejets", self.ingest.max_rejets),
            (
                "ingest.max_perte_personnes",
                self.ingest.max_perte_personnes,
            ),
        ] {
            if !(0.0..=1.0).contains(&value) {
                bail!("{name} = {value} : une part entre 0 et 1 est attendue, par exemple 0.2");
            }
        }
        for (name, value) in self.ingest.values() {
            if name.starts_with("ingest.max_")
                && !matches!(name, "ingest.max_rejets" | "ingest.max_perte_personnes")
                && value == "0"
            {
                bail!("{name} = 0 : une limite doit être au moins 1");
            }
        }
        if !(1..=256).contains(&self.server.max_password_checks) {
            bail!(
                "server.max_password_checks = {} : attendu un entier de 1 à 256 (chaque vérification prend 19 Mio de mémoire)",
                self.server.max_password_checks
            );
        }
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            bail!(
                "server.bind = « {} » : adresse attendue sous la forme IP:port, par exemple 127.0.0.1:8080",
                self.server.bind
            );
        }
        Ok(())
    }

    /// The inbox folder.
    pub fn inbox_dir(&self) -> PathBuf {
        self.inbox
            .clone()
            .unwrap_or_else(|| self.data_dir.join("inbox"))
    }

    /// The manifests folder of generated drops: `manifests` beside the inbox.
    pub fn manifests_dir(&self) -> PathBuf {
        manifests_beside(&self.inbox_dir())
    }

    /// The warehouse location (a path or a URL).
    pub fn warehouse_location(&self) -> String {
        self.warehouse
            .clone()
            .unwrap_or_else(|| self.data_dir.join("warehouse").display().to_string())
    }

    /// The accounts file.
    pub fn accounts_path(&self) -> PathBuf {
        self.accounts
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secrets").join("comptes.json"))
    }

    /// The evaluation projects file.
    pub fn projects_path(&self) -> PathBuf {
        self.projects
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secrets").join("projets.json"))
    }

    /// The export pseudonym key file.
    pub fn export_key_path(&self) -> PathBuf {
        self.export_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secrets").join("exports.key"))
    }

    /// The pseudonymisation key file.
    pub fn key_path(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secrets").join("pseudonymisation.key"))
    }

    /// The effective values of every key, as strings (`None`: built-in register).
    fn values(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("data_dir", Some(self.data_dir.display().to_string())),
            ("inbox", Some(self.inbox_dir().display().to_string())),
            ("warehouse", Some(self.warehouse_location())),
            ("key_file", Some(self.key_path().display().to_string())),
            ("accounts", Some(self.accounts_path().display().to_string())),
            ("projects", Some(self.projects_path().display().to_string())),
            (
                "export_key_file",
                Some(self.export_key_path().display().to_string()),
            ),
            (
                "register",
                self.register.as_ref().map(|p| p.display().to_string()),
            ),
            (
                "publication.coverage",
                Some(self.publication.coverage.to_string()),
            ),
            ("schedule.ingest", Some(self.schedule.ingest.clone())),
            (
                "secrecy.threshold",
                Some(self.secrecy.threshold.to_string()),
            ),
            (
                "secrecy.numerators",
                Some(self.secrecy.numerators.to_string()),
            ),
            ("server.bind", Some(self.server.bind.clone())),
            (
                "server.secure_cookies",
                Some(self.server.secure_cookies.to_string()),
            ),
            (
                "server.max_password_checks",
                Some(self.server.max_password_checks.to_string()),
            ),
            ("upload.max_bytes", Some(self.upload.max_bytes.to_string())),
        ]
        .into_iter()
        .chain(self.ingest.values().map(|(k, v)| (k, Some(v))))
        .collect()
    }
}

/// `manifests` beside a folder (the default of `copil generate --manifests`).
pub fn manifests_beside(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join("manifests"),
        _ => PathBuf::from("manifests"),
    }
}

/// Whether a key's value must never be printed.
fn is_secret(name: &str) -> bool {
    ["secret", "password", "token", "mot_de_passe"]
        .iter()
        .any(|s| name.contains(s))
}

impl Loaded {
    /// The effective configuration as commented TOML, each value with its source; secrets
    /// are redacted (the key file's path is shown, never its content).
    pub fn render(&self) -> String {
        let mut out = String::from("# Configuration effective de Copil\n");
        let _ = writeln!(
            out,
            "# Fichier lu : {}\n",
            self.file
                .as_ref()
                .map_or("aucun (valeurs par défaut)".into(), |f| f
                    .display()
                    .to_string())
        );
        let mut section = "";
        for (name, value) in self.config.values() {
            let (table, leaf) = name.split_once('.').unwrap_or(("", name));
            if table != section {
                let _ = writeln!(out, "\n[{table}]");
                section = table;
            }
            let source = self.sources.get(name).cloned().unwrap_or(match name {
                "inbox" | "warehouse" | "key_file" | "accounts" | "projects"
                | "export_key_file" => Source::Derived,
                _ => Source::Default,
            });
            let doc = KEYS.iter().find(|k| k.name == name).map_or("", |k| k.doc);
            let _ = writeln!(out, "# {doc}");
            match value {
                Some(_) if is_secret(name) => {
                    let _ = writeln!(out, "{leaf} = \"<masqué>\"  # {}", source.label());
                }
                Some(v)
                    if matches!(
                        name,
                        "secrecy.threshold"
                            | "secrecy.numerators"
                            | "publication.coverage"
                            | "server.secure_cookies"
                            | "server.max_password_checks"
                            | "upload.max_bytes"
                    ) || name.starts_with("ingest.") =>
                {
                    let _ = writeln!(out, "{leaf} = {v}  # {}", source.label());
                }
                Some(v) => {
                    let _ = writeln!(
                        out,
                        "{leaf} = {}  # {}",
                        toml::Value::String(v),
                        source.label()
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "# {leaf} = \"…\"  # absent : registre intégré (68 territoires)"
                    );
                }
            }
        }
        out
    }
}

/// The commented `copil.toml` written by `copil init`: every key with its default.
pub fn template() -> String {
    let mut out = String::from(
        "# Configuration de Copil.\n\
         # Ordre de lecture : ce fichier, puis les variables d'environnement COPIL_* (par exemple\n\
         # COPIL_DATA_DIR, COPIL_SECRECY_THRESHOLD), puis les options de la ligne de commande\n\
         # (--data-dir, --set clé=valeur). Les chemins relatifs de ce fichier partent de son dossier.\n",
    );
    let mut section = "";
    for k in KEYS {
        let (table, leaf) = k.name.split_once('.').unwrap_or(("", k.name));
        if table != section {
            let _ = writeln!(out, "\n[{table}]");
            section = table;
        }
        let _ = writeln!(out, "\n# {}\n# Variable : {}", k.doc, k.env_var());
        let line = match k.name {
            "data_dir" => "data_dir = \"copil-data\"".to_string(),
            "inbox" => "# inbox = \"copil-data/inbox\"".into(),
            "warehouse" => "# warehouse = \"copil-data/warehouse\"".into(),
            "key_file" => "# key_file = \"copil-data/secrets/pseudonymisation.key\"".into(),
            "accounts" => "# accounts = \"copil-data/secrets/comptes.json\"".into(),
            "projects" => "# projects = \"copil-data/secrets/projets.json\"".into(),
            "export_key_file" => "# export_key_file = \"copil-data/secrets/exports.key\"".into(),
            "server.secure_cookies" => format!("{leaf} = true"),
            "server.max_password_checks" => format!("{leaf} = {}", default_password_checks()),
            "upload.max_bytes" => format!("{leaf} = {}", default_upload_max()),
            "register" => "# register = \"territoires.csv\"".into(),
            "schedule.ingest" => format!("{leaf} = \"{}\"", default_ingest_schedule()),
            "secrecy.threshold" => format!("{leaf} = {}", default_threshold()),
            "secrecy.numerators" => format!("{leaf} = true"),
            "publication.coverage" => format!("{leaf} = {}", default_coverage()),
            "server.bind" => format!("{leaf} = \"{}\"", default_bind()),
            name if name.starts_with("ingest.") => Ingest::default()
                .values()
                .into_iter()
                .find(|(k, _)| *k == name)
                .map_or(format!("# {leaf} ="), |(_, v)| format!("{leaf} = {v}")),
            _ => format!("# {leaf} ="),
        };
        let _ = writeln!(out, "{line}");
    }
    out
}

impl Config {
    /// The secrecy and publication rules of the indicator refresh.
    pub fn rules(&self) -> copil_queries::Rules {
        copil_queries::Rules {
            threshold: i64::from(self.secrecy.threshold),
            numerators: self.secrecy.numerators,
            coverage: f64::from(self.publication.coverage) / 100.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads without looking at a `copil.toml` of the working directory.
    fn load(o: &Overrides, e: &[(String, String)]) -> Result<Loaded> {
        Config::load_with_default(Path::new("/nonexistent-copil-test/copil.toml"), o, e)
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn with_file(text: &str) -> (tempfile::TempDir, Overrides) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copil.toml");
        std::fs::write(&path, text).unwrap();
        (
            dir,
            Overrides {
                config_file: Some(path),
                sets: vec![],
            },
        )
    }

    #[test]
    fn defaults_are_documented_values() {
        let l = load(&Overrides::default(), &[]).unwrap();
        let c = l.config;
        assert_eq!(c.data_dir, PathBuf::from("copil-data"));
        assert_eq!(c.inbox_dir(), PathBuf::from("copil-data/inbox"));
        assert_eq!(c.warehouse_location(), "copil-data/warehouse");
        assert_eq!(
            c.key_path(),
            PathBuf::from("copil-data/secrets/pseudonymisation.key")
        );
        assert_eq!(c.manifests_dir(), PathBuf::from("copil-data/manifests"));
        assert_eq!(c.schedule.ingest, "0 */15 * * * *");
        assert_eq!(c.secrecy.threshold, 11);
        assert_eq!(c.server.bind, "127.0.0.1:8080");
        assert!(
            c.server.secure_cookies,
            "Secure cookies unless turned off (issue 13)"
        );
        assert_eq!(c.server.max_password_checks, 4);
        assert!(c.register.is_none());
    }

    #[test]
    fn file_then_environment_then_flags() {
        let (dir, mut o) = with_file(
            "data_dir = \"d\"\n[secrecy]\nthreshold = 5\n[server]\nbind = \"0.0.0.0:9000\"\n",
        );
        let l = load(&o, &[]).unwrap();
        assert_eq!(
            l.config.data_dir,
            dir.path().join("d"),
            "relative to the file's folder"
        );
        assert_eq!(l.config.secrecy.threshold, 5);
        assert_eq!(l.config.server.bind, "0.0.0.0:9000");

        let e = env(&[
            ("COPIL_SECRECY_THRESHOLD", "7"),
            ("COPIL_DATA_DIR", "/srv/copil"),
            ("PATH", "/bin"),
        ]);
        let l = load(&o, &e).unwrap();
        assert_eq!(l.config.secrecy.threshold, 7);
        assert_eq!(l.config.data_dir, PathBuf::from("/srv/copil"));
        assert_eq!(
            l.sources["secrecy.threshold"],
            Source::Env("COPIL_SECRECY_THRESHOLD".into())
        );
        assert_eq!(
            l.sources["server.bind"],
            Source::File(o.config_file.clone().unwrap())
        );

        o.sets = vec![
            ("secrecy.threshold".into(), "3".into()),
            ("schedule.ingest".into(), "0 0 * * * *".into()),
        ];
        let l = load(&o, &e).unwrap();
        assert_eq!(l.config.secrecy.threshold, 3);
        assert_eq!(l.config.schedule.ingest, "0 0 * * * *");
        assert_eq!(l.sources["secrecy.threshold"], Source::Flag);
        assert_eq!(l.config.inbox_dir(), PathBuf::from("/srv/copil/inbox"));
    }

    #[test]
    fn mistakes_are_named() {
        let (_d, o) = with_file("data_dirr = \"x\"\n");
        let m = format!("{:#}", load(&o, &[]).unwrap_err());
        assert!(m.contains("data_dirr"), "{m}");

        let m = format!(
            "{:#}",
            load(
                &Overrides::default(),
                &env(&[("COPIL_SECRECY_TRESHOLD", "5")])
            )
            .unwrap_err()
        );
        assert!(
            m.contains("COPIL_SECRECY_TRESHOLD") && m.contains("COPIL_SECRECY_THRESHOLD"),
            "{m}"
        );

        let m = format!(
            "{:#}",
            load(
                &Overrides::default(),
                &env(&[("COPIL_SECRECY_THRESHOLD", "onze")])
            )
            .unwrap_err()
        );
        assert!(m.contains("« onze » n'est pas un entier"), "{m}");

        let o = Overrides {
            config_file: None,
            sets: vec![("server.bind".into(), "localhost".into())],
        };
        let m = format!("{:#}", load(&o, &[]).unwrap_err());
        assert!(m.contains("server.bind"), "{m}");

        let o = Overrides {
            config_file: Some(PathBuf::from("/nonexistent/copil.toml")),
            sets: vec![],
        };
        let m = format!("{:#}", load(&o, &[]).unwrap_err());
        assert!(m.contains("/nonexistent/copil.toml"), "{m}");

        let o = Overrides {
            config_file: None,
            sets: vec![("schedule.ingest".into(), "*/15 * * * *".into())],
        };
        let m = format!("{:#}", load(&o, &[]).unwrap_err());
        assert!(m.contains("6 champs"), "{m}");

        let o = Overrides {
            config_file: None,
            sets: vec![("server.max_password_checks".into(), "0".into())],
        };
        let m = format!("{:#}", load(&o, &[]).unwrap_err());
        assert!(m.contains("server.max_password_checks"), "{m}");
    }

    #[test]
    fn the_template_parses_to_the_defaults() {
        let (_d, o) = with_file(&template());
        let from_template = load(&o, &[]).unwrap().config;
        let defaults = load(&Overrides::default(), &[]).unwrap().config;
        assert_eq!(from_template.secrecy, defaults.secrecy);
        assert_eq!(from_template.schedule, defaults.schedule);
        assert_eq!(from_template.server, defaults.server);
        assert_eq!(from_template.ingest, defaults.ingest);
        assert!(from_template.data_dir.ends_with("copil-data"));
        for k in KEYS {
            assert!(template().contains(&k.env_var()), "{} documented", k.name);
        }
    }

    /// Issue 13: the limits on inputs and the landing safeguards are configuration keys.
    #[test]
    fn issue_13_ingest_limits_and_safeguards_are_settable() {
        let d = load(&Overrides::default(), &[]).unwrap().config.ingest;
        assert_eq!(d.limits(), copil_ingest::Limits::default());
        assert_eq!(d.max_rejets, 0.2);
        assert_eq!(d.max_perte_personnes, 0.5);
        let (_d, mut o) = with_file("[ingest]\nmax_line_bytes = 4096\nmax_rejets = 0.05\n");
        o.sets = vec![("ingest.max_perte_personnes".into(), "0,3".into())];
        let e = env(&[("COPIL_INGEST_MAX_DECOMPRESSED_BYTES", "1000000")]);
        let c = load(&o, &e).unwrap().config.ingest;
        assert_eq!(c.limits().max_line_bytes, 4096);
        assert_eq!(c.limits().max_decompressed_bytes, 1_000_000);
        assert_eq!(c.safeguards().max_rejets, 0.05);
        assert_eq!(c.safeguards().max_perte_personnes, 0.3);
        for (key, value, expected) in [
            ("ingest.max_rejets", "1.5", "entre 0 et 1"),
            ("ingest.max_rows", "0", "au moins 1"),
            (
                "ingest.max_rejets",
                "beaucoup",
                "n'est pas un nombre décimal",
            ),
        ] {
            let o = Overrides {
                config_file: None,
                sets: vec![(key.into(), value.into())],
            };
            let m = format!("{:#}", load(&o, &[]).unwrap_err());
            assert!(m.contains(expected) && m.contains(key), "{m}");
        }
        let text = load(&Overrides::default(), &[]).unwrap().render();
        assert!(text.contains("max_rejets = 0.2  # défaut"), "{text}");
        assert!(template().contains("COPIL_INGEST_MAX_LINE_BYTES"));
    }

    #[test]
    fn rendering_names_sources() {
        let o = Overrides {
            config_file: None,
            sets: vec![("secrecy.threshold".into(), "4".into())],
        };
        let text = load(&o, &[]).unwrap().render();
        assert!(
            text.contains("threshold = 4  # option de la ligne de commande"),
            "{text}"
        );
        assert!(
            text.contains("bind = \"127.0.0.1:8080\"  # défaut"),
            "{text}"
        );
        assert!(
            text.contains("inbox = \"copil-data/inbox\"  # déduit de data_dir"),
            "{text}"
        );
        assert!(text.contains("registre intégré"), "{text}");
        // What `copil config` prints is itself a valid configuration file.
        assert!(text.parse::<toml::Table>().is_ok());
        assert!(is_secret("session_secret") && !is_secret("key_file"));
    }
}
