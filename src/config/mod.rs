//! Copil's configuration: one typed struct, read from `copil.toml`, then the environment
//! (`COPIL_` + the key in capitals, dots as `_`), then command-line flags.
//!
//! Relative paths written in the file are relative to the file's folder; those given by the
//! environment or flags, and the defaults when no file is read, to the working directory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

mod keys;

pub use keys::{
    Config, Ingest, Key, Proconnect, Publication, Schedule, Secrecy, Server, Upload, keys,
};
use keys::{Kind, root_default};

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
    keys().find(|k| k.name == name).with_context(|| {
        let known: Vec<&str> = keys().map(|k| k.name).collect();
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
            for k in keys() {
                if has_key(&table, k.name) {
                    sources.insert(k.name, Source::File(file.clone()));
                }
            }
            let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
            for k in keys().filter(|k| k.kind == Kind::Path) {
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
            let Some(k) = keys().find(|k| k.env_var() == *var) else {
                let known: Vec<String> = keys().map(Key::env_var).collect();
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
            set_value(&mut table, k, value, &format!("option --definir {name}"))?;
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
        let pc = &self.proconnect;
        if pc.issuer.trim().is_empty() {
            if !pc.passwords {
                bail!(
                    "proconnect.passwords = false sans proconnect.issuer : personne ne pourrait se connecter ; configurez ProConnect ou gardez les mots de passe"
                );
            }
        } else {
            for (name, value) in [
                ("proconnect.client_id", &pc.client_id),
                ("proconnect.client_secret_file", &pc.client_secret_file),
                ("proconnect.redirect_url", &pc.redirect_url),
            ] {
                if value.trim().is_empty() {
                    bail!("{name} est requis quand proconnect.issuer est renseigné");
                }
            }
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

    /// `file` if set, else `name` in `<data_dir>/secrets`.
    fn secrets_file(&self, file: Option<&Path>, name: &str) -> PathBuf {
        file.map_or_else(
            || self.data_dir.join("secrets").join(name),
            Path::to_path_buf,
        )
    }

    /// The accounts file.
    pub fn accounts_path(&self) -> PathBuf {
        self.secrets_file(self.accounts.as_deref(), "comptes.json")
    }

    /// The evaluation projects file.
    pub fn projects_path(&self) -> PathBuf {
        self.secrets_file(self.projects.as_deref(), "projets.json")
    }

    /// The export pseudonym key file.
    pub fn export_key_path(&self) -> PathBuf {
        self.secrets_file(self.export_key_file.as_deref(), "exports.key")
    }

    /// The pseudonymisation key file.
    pub fn key_path(&self) -> PathBuf {
        self.secrets_file(self.key_file.as_deref(), "pseudonymisation.key")
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
        ]
        .into_iter()
        .chain(self.section_values().into_iter().map(|(k, v)| (k, Some(v))))
        .collect()
    }
}

/// `manifests` beside a folder (the default of `copil generer --manifests`).
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
            let key = keys().find(|k| k.name == name);
            let _ = writeln!(out, "# {}", key.map_or("", |k| k.doc));
            let textual = key.is_none_or(|k| matches!(k.kind, Kind::Path | Kind::Text));
            match value {
                // A secret's file is shown, never a secret (issue 17: `proconnect.passwords`
                // is a switch, `proconnect.client_secret_file` a path).
                Some(_) if is_secret(name) && textual && !name.ends_with("_file") => {
                    let _ = writeln!(out, "{leaf} = \"<masqué>\"  # {}", source.label());
                }
                Some(v) if key.is_some_and(|k| !matches!(k.kind, Kind::Path | Kind::Text)) => {
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
         # (--dossier-donnees, --definir clé=valeur). Les chemins relatifs de ce fichier partent de son dossier.\n",
    );
    let mut section = "";
    let defaults = Config::default().values();
    for k in keys() {
        let (table, leaf) = k.name.split_once('.').unwrap_or(("", k.name));
        if table != section {
            let _ = writeln!(out, "\n[{table}]");
            section = table;
        }
        let _ = writeln!(out, "\n# {}\n# Variable : {}", k.doc, k.env_var());
        let line = match root_default(k.name) {
            Some(line) => line.to_string(),
            None => {
                let value = defaults
                    .iter()
                    .find(|(name, _)| *name == k.name)
                    .and_then(|(_, v)| v.clone())
                    .unwrap_or_default();
                match k.kind {
                    Kind::Path | Kind::Text => {
                        format!("{leaf} = {}", toml::Value::String(value))
                    }
                    _ => format!("{leaf} = {value}"),
                }
            }
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
mod tests;
