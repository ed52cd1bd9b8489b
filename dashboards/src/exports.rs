//! Exports for evaluators and the national team (issue #6): indicator tables (CSV, XLSX,
//! Parquet) read from the materialised cells with statistical secrecy as on the pages, and
//! pseudonymised microdata (Parquet) whose person pseudonyms are specific to a project.
//!
//! One handler serves every file of `GET /exports/{file}` (HTML errors) and
//! `GET /api/v1/exports/{file}` (JSON errors):
//!
//! - `indicateurs.csv`, `indicateurs.xlsx`, `indicateurs.parquet` (filters `indicateur`, `mois`,
//!   `vague`, `ventilation`, `territoire`), `evenements.parquet`, `personnes.parquet`
//!   (`projet` required, filters `territoire`, `vague`): the data;
//! - the same name + `.manifeste.json`, with the same query string: the manifest (versions,
//!   filters, project, rows, bytes, SHA-256 of the data file, columns);
//! - `indicateurs.dictionnaire.csv`, `evenements.dictionnaire.csv`,
//!   `personnes.dictionnaire.csv`: the French data dictionary (`colonne;type;description`).
//!
//! Each export is built once into `exports_dir`, under the hash of a canonical description
//! (versions, kind, format, filters, project): written to a temporary file, renamed, its
//! manifest kept beside it; then the file is streamed. The same versions and filters give the
//! same bytes (fixed XLSX properties, fixed Parquet writer properties, no timestamp anywhere).
//! Every download of a data file, and every manifest (which builds the file it describes), is
//! written to the audit log before its body is sent.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use copil_queries::{
    Cell, Indicator, MicroTable, Microdata, Niveau, RELATIF, Results, Sorte, key_fingerprint,
    project_key,
};
use copil_warehouse::tables::ColumnType;
use copil_warehouse::{Register, Wave};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use maud::{Markup, html};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::accounts::Role;
use crate::audit::Entry;
use crate::error::HttpError;
use crate::filters;
use crate::session::User;
use crate::state::AppState;

/// Data files kept in the exports folder (each with its manifest: about 50 files).
const KEEP_EXPORTS: usize = 25;

/// Bumped when the bytes of an export change for the same data (format of a file).
const EXPORT_FORMAT: u32 = 2;

/// Rows per Parquet batch of an indicator table.
const BATCH_ROWS: usize = 8192;

// ---------------------------------------------------------------------------------------------
// File names.

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The indicator table.
    Indicateurs,
    /// A microdata table.
    Micro(MicroTable),
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Indicateurs => "indicateurs",
            Kind::Micro(t) => t.name(),
        }
    }
}

/// The format of a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
    Parquet,
}

impl Format {
    fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Parquet => "parquet",
        }
    }

    fn from_ext(ext: &str) -> Option<Format> {
        [Format::Csv, Format::Xlsx, Format::Parquet]
            .into_iter()
            .find(|f| f.ext() == ext)
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// What a file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// The data file.
    Data(Kind, Format),
    /// Its manifest.
    Manifest(Kind, Format),
    /// The data dictionary of a kind.
    Dictionary(Kind),
    /// A form of the exports page: redirects to the file it describes.
    Form(FormKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    /// `indicateurs?format=…`.
    Indicateurs,
    /// `microdonnees?table=…`.
    Microdonnees,
}

const MANIFEST_SUFFIX: &str = ".manifeste.json";
const DICTIONARY_SUFFIX: &str = ".dictionnaire.csv";

fn known_files() -> String {
    "indicateurs.csv, indicateurs.xlsx, indicateurs.parquet, evenements.parquet, personnes.parquet (suivis de « .manifeste.json » pour leur manifeste), indicateurs.dictionnaire.csv, evenements.dictionnaire.csv, personnes.dictionnaire.csv".to_string()
}

fn kind_of(stem: &str) -> Option<Kind> {
    if stem == "indicateurs" {
        Some(Kind::Indicateurs)
    } else {
        MicroTable::from_name(stem).map(Kind::Micro)
    }
}

fn parse_name(name: &str) -> Result<Asked, HttpError> {
    let unknown = || {
        HttpError::not_found(format!(
            "Export inconnu : « {name} ». Fichiers disponibles : {}.",
            known_files()
        ))
    };
    match name {
        "indicateurs" => return Ok(Asked::Form(FormKind::Indicateurs)),
        "microdonnees" => return Ok(Asked::Form(FormKind::Microdonnees)),
        _ => {}
    }
    if let Some(stem) = name.strip_suffix(DICTIONARY_SUFFIX) {
        return kind_of(stem).map(Asked::Dictionary).ok_or_else(unknown);
    }
    let (data, manifest) = match name.strip_suffix(MANIFEST_SUFFIX) {
        Some(d) => (d, true),
        None => (name, false),
    };
    let (stem, ext) = data.rsplit_once('.').ok_or_else(unknown)?;
    let kind = kind_of(stem).ok_or_else(unknown)?;
    let format = Format::from_ext(ext).ok_or_else(unknown)?;
    if matches!(kind, Kind::Micro(_)) && format != Format::Parquet {
        return Err(HttpError::not_found(format!(
            "Les microdonnées ne s'exportent qu'au format Parquet : demandez « {stem}.parquet »."
        )));
    }
    Ok(if manifest {
        Asked::Manifest(kind, format)
    } else {
        Asked::Data(kind, format)
    })
}

// ---------------------------------------------------------------------------------------------
// Parameters.

/// The value of a query parameter, empty values (from forms) being absent.
fn param<'a>(q: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    q.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn refuse_unknown(
    q: &HashMap<String, String>,
    allowed: &[&str],
    file: &str,
) -> Result<(), HttpError> {
    let unknown: BTreeSet<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    match unknown.first() {
        None => Ok(()),
        Some(k) => Err(HttpError::bad_request(format!(
            "Paramètre inconnu : « {k} ». Paramètres acceptés pour {file} : {}.",
            if allowed.is_empty() {
                "aucun".to_string()
            } else {
                allowed.join(", ")
            }
        ))),
    }
}

const INDICATOR_PARAMS: &[&str] = &["indicateur", "mois", "vague", "ventilation", "territoire"];
const MICRO_PARAMS: &[&str] = &["projet", "territoire", "vague"];

/// The checked filters of an indicator table.
#[derive(Debug, Clone, PartialEq)]
struct IndicatorFilters {
    indicateur: Option<String>,
    mois: Option<NaiveDate>,
    vague: Option<Wave>,
    ventilation: Option<String>,
    territoire: Option<String>,
}

impl IndicatorFilters {
    fn json(&self) -> Value {
        json!({
            "indicateur": self.indicateur,
            "mois": self.mois.map(|m| m.format("%Y-%m").to_string()),
            "vague": self.vague.map(Wave::code),
            "ventilation": self.ventilation,
            "territoire": self.territoire,
        })
    }

    fn query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(i) = &self.indicateur {
            parts.push(format!("indicateur={i}"));
        }
        if let Some(m) = self.mois {
            parts.push(format!("mois={}", m.format("%Y-%m")));
        }
        if let Some(w) = self.vague {
            parts.push(format!("vague={}", w.code()));
        }
        if let Some(v) = &self.ventilation {
            parts.push(format!("ventilation={v}"));
        }
        if let Some(t) = &self.territoire {
            parts.push(format!("territoire={t}"));
        }
        parts.join("&")
    }
}

/// Checks the territory and wave filters together: a territory outside the wave is refused.
fn territory_and_wave(
    register: &Register,
    territoire: Option<&str>,
    vague: Option<Wave>,
) -> Result<(), HttpError> {
    if let (Some(t), Some(w)) = (territoire, vague)
        && let Some(territory) = register.get(t)
        && territory.vague != w
    {
        return Err(HttpError::bad_request(format!(
            "Le territoire « {t} » appartient à la vague « {} », pas à « {} » : retirez l'un des deux filtres.",
            territory.vague.code(),
            w.code()
        )));
    }
    Ok(())
}

fn indicator_filters(
    state: &AppState,
    results: &Results,
    q: &HashMap<String, String>,
) -> Result<IndicatorFilters, HttpError> {
    let catalogue = state.catalogue();
    let ind = match param(q, "indicateur") {
        None => None,
        Some(id) => Some(catalogue.get(id).ok_or_else(|| {
            HttpError::bad_request(format!(
                "Indicateur inconnu : « {id} ». Indicateurs : {}.",
                catalogue
                    .iter()
                    .map(|i| i.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?),
    };
    let asked_ventilation = param(q, "ventilation");
    if asked_ventilation.is_some() && ind.is_none() {
        return Err(HttpError::bad_request(
            "Le paramètre « ventilation » demande un indicateur : ajoutez « indicateur=… » (les ventilations de chaque indicateur sont sur /methodologie).",
        ));
    }
    let relatif = asked_ventilation == Some(RELATIF);
    let checked = filters::Query {
        mois: param(q, "mois").map(str::to_string),
        vague: param(q, "vague").map(str::to_string),
        ventilation: asked_ventilation
            .filter(|_| !relatif)
            .map(str::to_string),
        territoire: param(q, "territoire").map(str::to_string),
    }
    .check(ind, state.register())
    .map_err(|e| {
        if e.message.starts_with("Ventilation inconnue") {
            HttpError::bad_request(format!(
                "{} La ventilation « {RELATIF} » (mois depuis le début du SPIE, par vague) se demande aussi explicitement.",
                e.message
            ))
        } else {
            e
        }
    })?;
    territory_and_wave(
        state.register(),
        checked.territoire.as_deref(),
        checked.vague,
    )?;
    if let Some(m) = checked.mois {
        let months: BTreeSet<NaiveDate> = match ind {
            Some(i) => results.months(&i.id).into_iter().collect(),
            None => catalogue
                .iter()
                .flat_map(|i| results.months(&i.id))
                .collect(),
        };
        if !months.contains(&m) {
            let range = match (months.first(), months.last()) {
                (Some(a), Some(b)) => format!(
                    "mois disponibles : de {} à {}",
                    a.format("%Y-%m"),
                    b.format("%Y-%m")
                ),
                _ => "aucun mois n'est encore calculé".to_string(),
            };
            return Err(HttpError::bad_request(format!(
                "Aucune donnée pour le mois « {} » ; {range}.",
                m.format("%Y-%m")
            )));
        }
    }
    Ok(IndicatorFilters {
        indicateur: ind.map(|i| i.id.clone()),
        mois: checked.mois,
        vague: checked.vague,
        ventilation: if relatif {
            Some(RELATIF.to_string())
        } else {
            checked.ventilation
        },
        territoire: checked.territoire,
    })
}

/// The checked parameters of a microdata export.
#[derive(Debug, Clone, PartialEq)]
struct MicroFilters {
    projet: String,
    territoire: Option<String>,
    vague: Option<Wave>,
    /// The territories of the declared project an evaluator exports under (`None`: a
    /// national account, every territory).
    perimetre: Option<Vec<String>>,
}

impl MicroFilters {
    fn json(&self) -> Value {
        let mut v = json!({ "territoire": self.territoire, "vague": self.vague.map(Wave::code) });
        if let Some(p) = &self.perimetre {
            v["perimetre_projet"] = json!(p);
        }
        v
    }

    fn query_string(&self) -> String {
        let mut parts = vec![format!("projet={}", self.projet)];
        if let Some(t) = &self.territoire {
            parts.push(format!("territoire={t}"));
        }
        if let Some(w) = self.vague {
            parts.push(format!("vague={}", w.code()));
        }
        parts.join("&")
    }

    /// The territories exported, in register order.
    fn territories(&self, register: &Register) -> Vec<String> {
        register
            .iter()
            .filter(|t| self.territoire.as_deref().is_none_or(|id| id == t.id))
            .filter(|t| self.vague.is_none_or(|w| w == t.vague))
            .filter(|t| self.perimetre.as_ref().is_none_or(|p| p.contains(&t.id)))
            .map(|t| t.id.clone())
            .collect()
    }
}

fn valid_project(p: &str) -> bool {
    crate::projects::valid_name(p)
}

/// Issue 13: an evaluator exports microdata only under a declared project that names it, during
/// its period and within its territories; a national account under any project name.
fn scope_to_project(
    state: &AppState,
    user: &User,
    mut f: MicroFilters,
) -> Result<MicroFilters, HttpError> {
    if user.role != Role::Evaluateur {
        return Ok(f);
    }
    let project = state.project(&f.projet).ok_or_else(|| {
        HttpError::forbidden(format!(
            "Le projet « {} » n'est pas déclaré. Un évaluateur exporte des microdonnées seulement pour un projet d'évaluation déclaré par un administrateur qui le nomme.",
            f.projet
        ))
    })?;
    if !project.open_to(&user.login, state.clock().today()) {
        return Err(HttpError::forbidden(format!(
            "Le projet « {} » n'est pas ouvert à votre compte : il doit vous nommer parmi ses évaluateurs, être actif, et la date du jour être dans sa période (du {} au {}).",
            project.nom,
            project.debut.format("%d/%m/%Y"),
            project.fin.format("%d/%m/%Y")
        )));
    }
    if let Some(t) = &f.territoire
        && !project.territoires.contains(t)
    {
        return Err(HttpError::forbidden(format!(
            "Le territoire « {t} » n'est pas couvert par le projet « {} » (territoires : {}).",
            project.nom,
            project.territoires.join(", ")
        )));
    }
    f.perimetre = Some(project.territoires);
    Ok(f)
}

fn micro_filters(state: &AppState, q: &HashMap<String, String>) -> Result<MicroFilters, HttpError> {
    let projet = match param(q, "projet") {
        Some(p) if valid_project(p) => p.to_string(),
        Some(p) => {
            return Err(HttpError::bad_request(format!(
                "Nom de projet invalide : « {p} ». Attendu : 1 à 64 caractères parmi a-z, 0-9, « - » et « _ », par exemple projet=evaluation-2025."
            )));
        }
        None => {
            return Err(HttpError::bad_request(
                "Paramètre « projet » requis : le nom du projet d'étude (1 à 64 caractères parmi a-z, 0-9, « - » et « _ »), par exemple projet=evaluation-2025. Les pseudonymes des personnes sont propres à chaque projet.",
            ));
        }
    };
    let checked = filters::Query {
        mois: None,
        vague: param(q, "vague").map(str::to_string),
        ventilation: None,
        territoire: param(q, "territoire").map(str::to_string),
    }
    .check(None, state.register())?;
    territory_and_wave(
        state.register(),
        checked.territoire.as_deref(),
        checked.vague,
    )?;
    Ok(MicroFilters {
        projet,
        territoire: checked.territoire,
        vague: checked.vague,
        perimetre: None,
    })
}

// ---------------------------------------------------------------------------------------------
// The indicator table.

/// A column of the indicator table: name, type, description.
struct Column {
    name: &'static str,
    ty: ColumnType,
    description: String,
}

fn indicator_columns(threshold: i64) -> Vec<Column> {
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

/// The figures of a cell as published: nothing for a secret cell, never the numerator and
/// denominator of a delay (as the pages and the API).
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    valeur: Option<f64>,
    numerateur: Option<i64>,
    denominateur: Option<i64>,
    personnes: Option<i64>,
    ic_bas: Option<f64>,
    ic_haut: Option<f64>,
    q1: Option<f64>,
    q3: Option<f64>,
    moyenne: Option<f64>,
    secret: bool,
}

fn figures(ind: &Indicator, c: &Cell) -> Figures {
    if c.secret {
        return Figures {
            secret: true,
            ..Figures::default()
        };
    }
    let delay = ind.sorte == Sorte::Delai;
    Figures {
        valeur: c.valeur,
        numerateur: if delay { None } else { c.numerateur },
        denominateur: if delay { None } else { c.denominateur },
        personnes: c.personnes,
        ic_bas: c.ic_bas,
        ic_haut: c.ic_haut,
        q1: c.q1,
        q3: c.q3,
        moyenne: c.moyenne,
        secret: false,
    }
}

/// One row of the indicator table.
struct Row<'a> {
    ind: &'a Indicator,
    cell: &'a Cell,
    libelle: &'a str,
    vague: Option<&'static str>,
}

/// The rows of the indicator table, in catalogue order, then national, waves, territories,
/// then code, month, breakdown and modality.
fn rows<'a>(state: &'a AppState, results: &'a Results, f: &IndicatorFilters) -> Vec<Row<'a>> {
    let register = state.register();
    let mut levels: Vec<(Niveau, &'a str, &'a str, Option<&'static str>)> =
        vec![(Niveau::National, "national", "France", None)];
    let focus = f.territoire.as_deref().and_then(|t| register.get(t));
    let mut waves: Vec<Wave> = Wave::ALL
        .into_iter()
        .filter(|w| f.vague.is_none_or(|v| v == *w))
        .filter(|w| focus.is_none_or(|t| t.vague == *w))
        .collect();
    waves.sort_by_key(|w| w.code());
    levels.extend(
        waves
            .iter()
            .map(|w| (Niveau::Vague, w.code(), w.label(), Some(w.code()))),
    );
    let mut territories: Vec<_> = register
        .iter()
        .filter(|t| f.vague.is_none_or(|v| v == t.vague))
        .filter(|t| f.territoire.as_deref().is_none_or(|id| id == t.id))
        .collect();
    territories.sort_by(|a, b| a.id.cmp(&b.id));
    levels.extend(territories.iter().map(|t| {
        (
            Niveau::Territoire,
            t.id.as_str(),
            t.nom.as_str(),
            Some(t.vague.code()),
        )
    }));
    let mut out = Vec::new();
    for ind in state.catalogue().iter() {
        if f.indicateur.as_deref().is_some_and(|i| i != ind.id) {
            continue;
        }
        for (niveau, code, libelle, vague) in &levels {
            for cell in results.series(&ind.id, *niveau, code) {
                if f.mois.is_some_and(|m| m != cell.mois) {
                    continue;
                }
                let keep = match &f.ventilation {
                    Some(v) => cell.ventilation == *v,
                    None => cell.ventilation.is_empty(),
                };
                if keep {
                    out.push(Row {
                        ind,
                        cell,
                        libelle,
                        vague: *vague,
                    });
                }
            }
        }
    }
    out
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([';', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn num<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The text fields of a row (the CSV's and XLSX's first columns).
fn texts(r: &Row<'_>) -> [String; 9] {
    [
        r.ind.id.clone(),
        r.ind.titre.clone(),
        r.cell.niveau.code().to_string(),
        r.cell.code.clone(),
        r.libelle.to_string(),
        r.vague.unwrap_or_default().to_string(),
        r.cell.mois.format("%Y-%m").to_string(),
        r.cell.ventilation.clone(),
        r.cell.modalite.clone(),
    ]
}

fn io(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn write_csv(path: &FsPath, rows: &[Row<'_>], columns: &[Column]) -> Result<(), String> {
    let mut w = BufWriter::new(File::create(path).map_err(io)?);
    let mut line = String::from("\u{feff}");
    line.push_str(&columns.iter().map(|c| c.name).collect::<Vec<_>>().join(";"));
    line.push_str("\r\n");
    w.write_all(line.as_bytes()).map_err(io)?;
    for r in rows {
        line.clear();
        for (i, t) in texts(r).iter().enumerate() {
            if i > 0 {
                line.push(';');
            }
            csv_field(&mut line, t);
        }
        let f = figures(r.ind, r.cell);
        let numbers = [
            num(f.valeur),
            num(f.numerateur),
            num(f.denominateur),
            num(f.personnes),
            num(f.ic_bas),
            num(f.ic_haut),
            num(f.q1),
            num(f.q3),
            num(f.moyenne),
            f.secret.to_string(),
            r.cell.provisoire.to_string(),
            num(r.cell.territoires),
            num(r.cell.territoires_attendus),
            num(r.cell.couverture),
        ];
        for n in numbers {
            line.push(';');
            line.push_str(&n);
        }
        line.push_str("\r\n");
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    w.into_inner().map_err(io)?.sync_all().map_err(io)
}

fn write_xlsx(
    path: &FsPath,
    rows: &[Row<'_>],
    columns: &[Column],
    results: &Results,
) -> Result<(), String> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format as XFormat, Workbook};
    let xe = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut workbook = Workbook::new();
    // Fixed properties: the creation date is the results' computation, never the build's.
    let at = results
        .calcule_le
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let created = ExcelDateTime::parse_from_str(&at)
        .or_else(|_| ExcelDateTime::from_ymd(2020, 1, 1))
        .map_err(xe)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title("Copil : indicateurs du SPIE")
            .set_author("Copil")
            .set_company("Service public de l'insertion et de l'emploi")
            .set_comment(format!(
                "indicateurs v{}, evenements v{}, depots v{} ; secret statistique appliqué",
                results.version, results.version_evenements, results.version_depots
            ))
            .set_creation_datetime(&created),
    );
    let bold = XFormat::new().set_bold();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(xe)?;
    sheet.set_name("indicateurs").map_err(xe)?;
    for (i, c) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, i as u16, c.name, &bold)
            .map_err(xe)?;
    }
    for (k, r) in rows.iter().enumerate() {
        let row = u32::try_from(k + 1).map_err(io)?;
        for (i, t) in texts(r).iter().enumerate() {
            if !t.is_empty() {
                sheet.write_string(row, i as u16, t).map_err(xe)?;
            }
        }
        let f = figures(r.ind, r.cell);
        let numbers = [
            f.valeur,
            f.numerateur.map(|v| v as f64),
            f.denominateur.map(|v| v as f64),
            f.personnes.map(|v| v as f64),
            f.ic_bas,
            f.ic_haut,
            f.q1,
            f.q3,
            f.moyenne,
        ];
        for (i, n) in numbers.iter().enumerate() {
            if let Some(n) = n {
                sheet.write_number(row, (9 + i) as u16, *n).map_err(xe)?;
            }
        }
        sheet.write_boolean(row, 18, f.secret).map_err(xe)?;
        sheet
            .write_boolean(row, 19, r.cell.provisoire)
            .map_err(xe)?;
        for (i, n) in [
            r.cell.territoires.map(|v| v as f64),
            r.cell.territoires_attendus.map(|v| v as f64),
            r.cell.couverture,
        ]
        .iter()
        .enumerate()
        {
            if let Some(n) = n {
                sheet.write_number(row, (20 + i) as u16, *n).map_err(xe)?;
            }
        }
    }
    workbook.save(path).map_err(xe)?;
    File::open(path).and_then(|f| f.sync_all()).map_err(io)
}

fn indicator_schema(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| {
                let (ty, nullable) = match c.ty {
                    ColumnType::Double => (DataType::Float64, true),
                    ColumnType::Long => (DataType::Int64, true),
                    ColumnType::Bool => (DataType::Boolean, false),
                    _ => (DataType::Utf8, c.name == "vague"),
                };
                Field::new(c.name, ty, nullable)
            })
            .collect::<Vec<_>>(),
    ))
}

/// The fixed writer properties of every Parquet export.
fn parquet_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_created_by(format!("copil {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(128 * 1024))
        .build()
}

fn indicator_batch(schema: &SchemaRef, rows: &[Row<'_>]) -> Result<RecordBatch, String> {
    let n = rows.len();
    let mut text: Vec<StringBuilder> = (0..9)
        .map(|_| StringBuilder::with_capacity(n, n * 16))
        .collect();
    let mut floats: Vec<Float64Builder> =
        (0..6).map(|_| Float64Builder::with_capacity(n)).collect();
    let mut longs: Vec<Int64Builder> = (0..3).map(|_| Int64Builder::with_capacity(n)).collect();
    let mut secret = BooleanBuilder::with_capacity(n);
    let mut provisoire = BooleanBuilder::with_capacity(n);
    let mut territoires = Int64Builder::with_capacity(n);
    let mut attendus = Int64Builder::with_capacity(n);
    let mut couverture = Float64Builder::with_capacity(n);
    for r in rows {
        for (i, t) in texts(r).iter().enumerate() {
            if i == 5 && r.vague.is_none() {
                text[i].append_null();
            } else {
                text[i].append_value(t);
            }
        }
        let f = figures(r.ind, r.cell);
        floats[0].append_option(f.valeur);
        longs[0].append_option(f.numerateur);
        longs[1].append_option(f.denominateur);
        longs[2].append_option(f.personnes);
        for (i, v) in [f.ic_bas, f.ic_haut, f.q1, f.q3, f.moyenne]
            .into_iter()
            .enumerate()
        {
            floats[1 + i].append_option(v);
        }
        secret.append_value(f.secret);
        provisoire.append_value(r.cell.provisoire);
        territoires.append_option(r.cell.territoires);
        attendus.append_option(r.cell.territoires_attendus);
        couverture.append_option(r.cell.couverture);
    }
    let mut columns: Vec<ArrayRef> = text
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(floats[0].finish()));
    for l in &mut longs {
        columns.push(Arc::new(l.finish()));
    }
    for f in &mut floats[1..] {
        columns.push(Arc::new(f.finish()));
    }
    columns.push(Arc::new(secret.finish()));
    columns.push(Arc::new(provisoire.finish()));
    columns.push(Arc::new(territoires.finish()));
    columns.push(Arc::new(attendus.finish()));
    columns.push(Arc::new(couverture.finish()));
    RecordBatch::try_new(schema.clone(), columns).map_err(io)
}

fn write_indicator_parquet(
    path: &FsPath,
    rows: &[Row<'_>],
    columns: &[Column],
) -> Result<(), String> {
    let schema = indicator_schema(columns);
    let file = File::create(path).map_err(io)?;
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), Some(parquet_properties())).map_err(io)?;
    for chunk in rows.chunks(BATCH_ROWS) {
        writer
            .write(&indicator_batch(&schema, chunk)?)
            .map_err(io)?;
    }
    writer.close().map_err(io)?;
    File::open(path).and_then(|f| f.sync_all()).map_err(io)
}

// ---------------------------------------------------------------------------------------------
// Building, caching and serving.

/// Everything that determines an export's bytes.
struct Plan {
    kind: Kind,
    format: Format,
    versions: Value,
    filtres: Value,
    projet: Option<String>,
    /// Canonical query string of the filters (for links).
    query: String,
    /// Hash of the canonical description: the file's name in the exports folder.
    key: String,
}

impl Plan {
    /// Sets the key: the hash of the canonical description (with the fingerprint of the
    /// project key, so a new export key never reuses an old export).
    fn keyed(mut self, state: &AppState, key_print: Option<&str>) -> Plan {
        let description = json!({
            "format_export": EXPORT_FORMAT,
            "copil": env!("CARGO_PKG_VERSION"),
            "export": self.kind.name(),
            "format": self.format.ext(),
            "versions": self.versions,
            "filtres": self.filtres,
            "projet": self.projet,
            "cle": key_print,
            "seuil_secret": state.settings().threshold,
        });
        self.key = hex::encode(Sha256::digest(description.to_string().as_bytes()));
        self
    }

    fn file_name(&self) -> String {
        format!("{}.{}", self.kind.name(), self.format.ext())
    }

    fn data_path(&self, dir: &FsPath) -> PathBuf {
        dir.join(format!("{}.{}", self.key, self.format.ext()))
    }

    fn manifest_path(&self, dir: &FsPath) -> PathBuf {
        dir.join(format!(
            "{}.{}{MANIFEST_SUFFIX}",
            self.key,
            self.format.ext()
        ))
    }

    fn temp_path(&self, dir: &FsPath, what: &str) -> PathBuf {
        dir.join(format!(
            ".{}.{what}.tmp-{}",
            self.key,
            crate::session::random_hex(8)
        ))
    }
}

fn versions_of(results: &Results) -> serde_json::Map<String, Value> {
    let mut v = serde_json::Map::new();
    v.insert("version_indicateurs".into(), json!(results.version));
    v.insert(
        "version_evenements".into(),
        json!(results.version_evenements),
    );
    v.insert("version_depots".into(), json!(results.version_depots));
    v
}

/// SHA-256 and size of a file, read in bounded memory.
fn digest_file(path: &FsPath) -> Result<(String, u64), String> {
    let mut f = File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

fn column_list(kind: Kind, threshold: i64) -> Vec<(String, &'static str, String)> {
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

/// What the manifest of a microdata export says of its pseudonyms (issue 13).
const PSEUDONYMS: &str = "Colonne personne : HMAC-SHA-256 du pseudonyme de l'entrepôt sous une clé propre au projet, tronqué à 128 bits ; lignes triées par ce pseudonyme. Aucun identifiant commun entre deux projets ; en revanche la suite des événements d'une personne (dates, types, territoire) est la même d'un projet à l'autre et peut suffire à rapprocher deux exports.";

/// Writes the manifest of a freshly written data file, then moves both in place.
fn finish(
    state: &AppState,
    plan: &Plan,
    results: &Results,
    temp: &FsPath,
    rows: u64,
) -> Result<Value, String> {
    let dir = &state.settings().exports_dir;
    let (sha256, size) = digest_file(temp)?;
    let threshold = state.settings().threshold;
    let mut manifest = json!({
        "fichier": plan.file_name(),
        "export": plan.kind.name(),
        "format": plan.format.ext(),
        "type_contenu": plan.format.content_type(),
        "versions": plan.versions,
        "filtres": plan.filtres,
        "parametres": plan.query,
        "projet": plan.projet,
        "lignes": rows,
        "octets": size,
        "sha256": sha256,
        "colonnes": column_list(plan.kind, threshold).iter().map(|(n, t, _)| json!({ "nom": n, "type": t })).collect::<Vec<_>>(),
        "dictionnaire": format!("{}{DICTIONARY_SUFFIX}", plan.kind.name()),
        "calcule_le": results.calcule_le.map(|d| d.to_rfc3339()),
        "logiciel": format!("copil {}", env!("CARGO_PKG_VERSION")),
    });
    match plan.kind {
        Kind::Indicateurs => {
            manifest["seuil_secret"] = json!(threshold);
            manifest["secret"] = json!(
                "Une case couvrant moins de personnes que le seuil, ou cachée par secret secondaire, a secret = true et tous ses chiffres vides ; le numérateur et le dénominateur d'un délai ne sont jamais publiés."
            );
        }
        Kind::Micro(_) => {
            manifest["pseudonymisation"] = json!(PSEUDONYMS);
        }
    }
    if plan.format == Format::Csv {
        manifest["separateur"] = json!(";");
        manifest["separateur_decimal"] = json!(".");
        manifest["encodage"] = json!("UTF-8 avec BOM");
    }
    let text = serde_json::to_string_pretty(&manifest).map_err(io)? + "\n";
    let manifest_temp = plan.temp_path(dir, "manifeste");
    std::fs::write(&manifest_temp, text.as_bytes()).map_err(io)?;
    std::fs::rename(temp, plan.data_path(dir)).map_err(io)?;
    std::fs::rename(&manifest_temp, plan.manifest_path(dir)).map_err(io)?;
    Ok(manifest)
}

/// Keeps the [`KEEP_EXPORTS`] most recently used exports (data file and manifest), and removes
/// temporary files older than an hour.
fn prune(dir: &FsPath, keep_key: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut data = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let modified = e
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if name.contains(".tmp-") {
            if now.duration_since(modified).unwrap_or_default().as_secs() > 3600 {
                let _ = std::fs::remove_file(e.path());
            }
        } else if name.ends_with(MANIFEST_SUFFIX) {
            let data_name = name.trim_end_matches(MANIFEST_SUFFIX);
            if !dir.join(data_name).exists() {
                let _ = std::fs::remove_file(e.path());
            }
        } else {
            data.push((modified, name));
        }
    }
    data.sort_by(|a, b| b.cmp(a));
    for (_, name) in data.iter().skip(KEEP_EXPORTS) {
        if name.starts_with(keep_key) {
            continue;
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}{MANIFEST_SUFFIX}")));
        let _ = std::fs::remove_file(dir.join(name));
    }
}

/// An export ready to serve: its file (opened) and its manifest.
struct Built {
    file: File,
    manifest: Value,
}

/// The export already built for this plan, if any (marked as just used).
fn existing(state: &AppState, plan: &Plan) -> Option<Built> {
    let dir = &state.settings().exports_dir;
    let file = File::open(plan.data_path(dir)).ok()?;
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(plan.manifest_path(dir)).ok()?).ok()?;
    if let Ok(f) = File::options().write(true).open(plan.data_path(dir)) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
    Some(Built { file, manifest })
}

fn open_built(state: &AppState, plan: &Plan, manifest: Value) -> Result<Built, HttpError> {
    let dir = &state.settings().exports_dir;
    let file = File::open(plan.data_path(dir)).map_err(|e| HttpError::internal(&e))?;
    prune(dir, &plan.key);
    Ok(Built { file, manifest })
}

fn ensure_dir(state: &AppState) -> Result<(), HttpError> {
    std::fs::create_dir_all(&state.settings().exports_dir).map_err(|e| {
        HttpError::internal(&format!(
            "dossier des exports {} : {e}",
            state.settings().exports_dir.display()
        ))
    })
}

/// Builds (or reuses) an indicator table.
async fn build_indicators(
    state: &AppState,
    format: Format,
    q: &HashMap<String, String>,
    file_name: &str,
) -> Result<(Plan, Built), HttpError> {
    refuse_unknown(q, INDICATOR_PARAMS, file_name)?;
    let results = state.results();
    let f = indicator_filters(state, &results, q)?;
    let count = rows(state, &results, &f).len();
    let limit = state.settings().xlsx_max_rows;
    if format == Format::Xlsx && count > limit {
        return Err(HttpError::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Export XLSX impossible : la table compterait {count} lignes, au-delà de la limite de {limit} lignes d'un classeur Excel. Filtrez-la (indicateur, mois, vague, territoire) ou choisissez le format CSV ou Parquet, sans limite."
            ),
        ));
    }
    let plan = Plan {
        kind: Kind::Indicateurs,
        format,
        versions: Value::Object(versions_of(&results)),
        filtres: f.json(),
        projet: None,
        query: f.query_string(),
        key: String::new(),
    }
    .keyed(state, None);
    ensure_dir(state)?;
    if let Some(b) = existing(state, &plan) {
        return Ok((plan, b));
    }
    let st = state.clone();
    let temp = plan.temp_path(&state.settings().exports_dir, "donnees");
    let (plan, manifest) = tokio::task::spawn_blocking(move || {
        let columns = indicator_columns(st.settings().threshold);
        let selected = rows(&st, &results, &f);
        let written = match format {
            Format::Csv => write_csv(&temp, &selected, &columns),
            Format::Xlsx => write_xlsx(&temp, &selected, &columns, &results),
            Format::Parquet => write_indicator_parquet(&temp, &selected, &columns),
        };
        let manifest =
            written.and_then(|()| finish(&st, &plan, &results, &temp, selected.len() as u64));
        if manifest.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        (plan, manifest)
    })
    .await
    .map_err(|e| HttpError::internal(&e))?;
    let manifest =
        manifest.map_err(|e| HttpError::internal(&format!("export des indicateurs : {e}")))?;
    let built = open_built(state, &plan, manifest)?;
    Ok((plan, built))
}

/// Builds (or reuses) a microdata table, one territory at a time.
async fn build_micro(
    state: &AppState,
    user: &User,
    table: MicroTable,
    q: &HashMap<String, String>,
    file_name: &str,
) -> Result<(Plan, Built), HttpError> {
    refuse_unknown(q, MICRO_PARAMS, file_name)?;
    let f = scope_to_project(state, user, micro_filters(state, q)?)?;
    let results = state.results();
    let key = project_key(&state.settings().export_key.0, &f.projet);
    let micro = Microdata::open(state.warehouse(), table, key).await?;
    let mut versions = versions_of(&results);
    versions.insert(
        format!("version_table_{}", table.name()),
        json!(micro.version()),
    );
    let plan = Plan {
        kind: Kind::Micro(table),
        format: Format::Parquet,
        versions: Value::Object(versions),
        filtres: f.json(),
        projet: Some(f.projet.clone()),
        query: f.query_string(),
        key: String::new(),
    }
    .keyed(state, Some(&key_fingerprint(&key)));
    ensure_dir(state)?;
    if let Some(b) = existing(state, &plan) {
        return Ok((plan, b));
    }
    let temp = plan.temp_path(&state.settings().exports_dir, "donnees");
    let written = async {
        let file = File::create(&temp).map_err(io)?;
        let mut writer =
            ArrowWriter::try_new(file, micro.schema(), Some(parquet_properties())).map_err(io)?;
        let mut rows = 0u64;
        for t in f.territories(state.register()) {
            let mut sink = |b: RecordBatch| writer.write(&b).map_err(io);
            rows += micro.write_territory(&t, &mut sink).await.map_err(io)?;
        }
        writer.close().map_err(io)?;
        File::open(&temp).and_then(|f| f.sync_all()).map_err(io)?;
        finish(state, &plan, &results, &temp, rows)
    }
    .await;
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(HttpError::internal(&format!(
                "export {} : {e}",
                table.name()
            )));
        }
    };
    let built = open_built(state, &plan, manifest)?;
    Ok((plan, built))
}

fn dictionary(state: &AppState, kind: Kind) -> Response {
    let mut out = String::from("\u{feff}colonne;type;description\r\n");
    for (name, ty, description) in column_list(kind, state.settings().threshold) {
        csv_field(&mut out, &name);
        out.push(';');
        csv_field(&mut out, ty);
        out.push(';');
        csv_field(&mut out, &description);
        out.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}{DICTIONARY_SUFFIX}\"",
                    kind.name()
                ),
            ),
        ],
        out,
    )
        .into_response()
}

/// The form of the exports page: checks it, then redirects to the file it describes.
fn form(
    state: &AppState,
    user: &User,
    which: FormKind,
    q: &HashMap<String, String>,
    prefix: &str,
) -> Result<Response, HttpError> {
    match which {
        FormKind::Indicateurs => {
            let format = match param(q, "format") {
                None => Format::Csv,
                Some(x) => Format::from_ext(x).ok_or_else(|| {
                    HttpError::bad_request(format!(
                        "Format inconnu : « {x} ». Formats : csv, xlsx, parquet."
                    ))
                })?,
            };
            let mut rest = q.clone();
            rest.remove("format");
            refuse_unknown(&rest, INDICATOR_PARAMS, "indicateurs")?;
            let results = state.results();
            let f = indicator_filters(state, &results, &rest)?;
            let qs = f.query_string();
            Ok(Redirect::to(&format!(
                "{prefix}/indicateurs.{}{}{qs}",
                format.ext(),
                if qs.is_empty() { "" } else { "?" }
            ))
            .into_response())
        }
        FormKind::Microdonnees => {
            let table = match param(q, "table") {
                None => {
                    return Err(HttpError::bad_request(
                        "Paramètre « table » requis : evenements ou personnes.",
                    ));
                }
                Some(t) => MicroTable::from_name(t).ok_or_else(|| {
                    HttpError::bad_request(format!(
                        "Table inconnue : « {t} ». Tables : evenements, personnes."
                    ))
                })?,
            };
            let mut rest = q.clone();
            rest.remove("table");
            refuse_unknown(&rest, MICRO_PARAMS, "microdonnees")?;
            let f = scope_to_project(state, user, micro_filters(state, &rest)?)?;
            Ok(Redirect::to(&format!(
                "{prefix}/{}.parquet?{}",
                table.name(),
                f.query_string()
            ))
            .into_response())
        }
    }
}

async fn serve(
    state: &AppState,
    user: &User,
    name: &str,
    q: &HashMap<String, String>,
    prefix: &str,
) -> Result<Response, HttpError> {
    user.require_exports()?;
    let asked = parse_name(name)?;
    let (kind, format, manifest_only) = match asked {
        Asked::Dictionary(kind) => return Ok(dictionary(state, kind)),
        Asked::Form(which) => return form(state, user, which, q, prefix),
        Asked::Data(k, f) => (k, f, false),
        Asked::Manifest(k, f) => (k, f, true),
    };
    let (plan, built) = match kind {
        Kind::Indicateurs => build_indicators(state, format, q, name).await?,
        Kind::Micro(t) => build_micro(state, user, t, q, name).await?,
    };
    let sha = built.manifest["sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let size = built.manifest["octets"].as_u64().unwrap_or_default();
    // A manifest builds the export it describes: audited like a download (issue 13).
    state.audit().record(&Entry {
        horodatage: state.clock().now().to_rfc3339(),
        compte: user.login.clone(),
        role: user.role.code().into(),
        action: if manifest_only { "manifeste" } else { "export" }.into(),
        details: json!({
            "export": plan.kind.name(),
            "format": plan.format.ext(),
            "filtres": plan.filtres,
            "projet": plan.projet,
            "versions": plan.versions,
            "lignes": built.manifest["lignes"],
            "sha256": sha,
        }),
    })?;
    if manifest_only {
        let text =
            serde_json::to_string_pretty(&built.manifest).map_err(|e| HttpError::internal(&e))?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "private, no-cache"),
            ],
            text + "\n",
        )
            .into_response());
    }
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(built.file));
    let disposition = format!(
        "attachment; filename=\"copil-{}-{}.{}\"",
        plan.kind.name(),
        &sha[..sha.len().min(12)],
        plan.format.ext()
    );
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| HttpError::internal(&e));
    h.insert(header::CONTENT_TYPE, value(plan.format.content_type())?);
    h.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    h.insert(header::CONTENT_LENGTH, value(&size.to_string())?);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert("x-copil-sha256", value(&sha)?);
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The page.

fn page_body(state: &AppState, user: &User) -> Markup {
    let catalogue = state.catalogue();
    let register = state.register();
    let results = state.results();
    let ventilations: BTreeSet<&str> = catalogue
        .iter()
        .flat_map(|i| i.ventilations.iter().map(String::as_str))
        .collect();
    let months: BTreeSet<NaiveDate> = catalogue
        .iter()
        .flat_map(|i| results.months(&i.id))
        .collect();
    let mut territories: Vec<_> = register.iter().collect();
    territories.sort_by(|a, b| a.nom.cmp(&b.nom));
    let threshold = state.settings().threshold;
    let limit = state.settings().xlsx_max_rows;
    let territory_options = html! {
        option value="" { "Tous" }
        @for t in &territories { option value=(t.id) { (t.nom) " (" (t.id) ")" } }
    };
    let wave_options = html! {
        option value="" { "Toutes" }
        @for w in Wave::ALL { option value=(w.code()) { (w.label()) } }
    };
    let first = months.first().map(|m| m.format("%Y-%m").to_string());
    let last = months.last().map(|m| m.format("%Y-%m").to_string());
    let today = state.clock().today();
    let open_projects: Vec<crate::projects::Project> = state
        .projects()
        .into_iter()
        .filter(|p| p.open_to(&user.login, today))
        .collect();
    html! {
        p { "Les exports servent aux évaluations et au pilotage national : tables d'indicateurs (CSV, XLSX, Parquet) et microdonnées pseudonymisées (Parquet). Chaque téléchargement est inscrit au journal d'audit (compte, filtres, versions, empreinte)." }
        h2 { "Table d'indicateurs" }
        form class="formulaire" method="get" action="/exports/indicateurs" {
            label { "Indicateur"
                select name="indicateur" {
                    option value="" { "Tous les indicateurs" }
                    @for i in catalogue.iter() { option value=(i.id) { (i.titre) " (" (i.id) ")" } }
                }
            }
            label { "Mois (AAAA-MM ; vide : tous les mois)"
                input name="mois" type="month" min=[first] max=[last] placeholder="2025-01";
            }
            label { "Vague" select name="vague" { (wave_options) } }
            label { "Ventilation (avec un indicateur ; vide : les totaux)"
                select name="ventilation" {
                    option value="" { "Aucune (totaux)" }
                    @for v in &ventilations { option value=(v) { (v) } }
                    option value=(RELATIF) { (RELATIF) " (par vague, avant / après le début du SPIE)" }
                }
            }
            label { "Territoire" select name="territoire" { (territory_options) } }
            label { "Format"
                select name="format" {
                    option value="csv" { "CSV (séparateur « ; », UTF-8)" }
                    option value="xlsx" { "XLSX (Excel)" }
                    option value="parquet" { "Parquet" }
                }
            }
            button type="submit" { "Télécharger la table" }
        }
        p {
            "Une table donne, pour chaque indicateur, les niveaux national, vague et territoire, mois par mois. Un filtre de vague garde les territoires de cette vague, la vague et la France ; un filtre de territoire garde ce territoire, sa vague et la France. Dictionnaire des colonnes : "
            a href="/exports/indicateurs.dictionnaire.csv" { "indicateurs.dictionnaire.csv" } "."
        }
        h2 { "Microdonnées pseudonymisées" }
        form class="formulaire" method="get" action="/exports/microdonnees" {
            label { "Table"
                select name="table" {
                    option value="evenements" { "evenements : les événements des parcours" }
                    option value="personnes" { "personnes : les personnes (généralisées)" }
                }
            }
            @if user.role == Role::Evaluateur {
                label { "Projet d'évaluation (déclaré par un administrateur)"
                    select name="projet" required {
                        @for p in &open_projects {
                            option value=(p.nom) { (p.nom) " : " (p.objet) " (jusqu'au " (p.fin.format("%d/%m/%Y")) ")" }
                        }
                    }
                }
            } @else {
                label { "Projet (obligatoire ; a-z, 0-9, « - » et « _ », 64 caractères au plus)"
                    input name="projet" type="text" required pattern="[a-z0-9_\\-]{1,64}" maxlength="64" placeholder="evaluation-2025";
                }
            }
            label { "Territoire" select name="territoire" { (territory_options) } }
            label { "Vague" select name="vague" { (wave_options) } }
            button type="submit" { "Télécharger les microdonnées (Parquet)" }
        }
        p {
            "Dictionnaires : "
            a href="/exports/evenements.dictionnaire.csv" { "evenements.dictionnaire.csv" } ", "
            a href="/exports/personnes.dictionnaire.csv" { "personnes.dictionnaire.csv" } "."
        }
        h2 { "Secret statistique" }
        p {
            "Les tables d'indicateurs appliquent le même secret que les pages et l'API : une case couvrant moins de " (threshold) " personnes, ou cachée par secret secondaire pour ne pas être recalculable, a la colonne secret à true et tous ses chiffres vides — jamais 0. Le numérateur et le dénominateur d'un indicateur de délai ne sont jamais publiés."
        }
        h2 { "Pseudonymes propres à chaque projet" }
        p {
            "Dans les microdonnées, la colonne personne n'est pas le pseudonyme de l'entrepôt : c'est un second pseudonyme (HMAC-SHA-256 sous une clé dérivée du nom du projet), stable d'un export à l'autre du même projet, différent d'un projet à l'autre. Les lignes sont triées par ce pseudonyme et le numéro de ligne des dépôts n'est pas exporté. Les microdonnées ne contiennent ni NIR, ni nom, ni adresse, ni date de naissance exacte, ni commune."
        }
        p {
            strong { "Ce que ces pseudonymes protègent : " }
            "deux exports de projets différents n'ont aucun identifiant commun ; on ne peut pas les rapprocher par la colonne personne, ni par l'ordre des lignes, ni retrouver le pseudonyme de l'entrepôt."
        }
        p {
            strong { "Ce qu'ils ne protègent pas : " }
            "la suite des événements d'une personne (dates, types d'événements, territoire, caractéristiques généralisées) est la même dans les exports de deux projets. Qui détient les deux peut souvent reconnaître la même personne à cette suite et rapprocher les exports. C'est pourquoi les projets sont déclarés par un administrateur (objet, évaluateurs, territoires, période) : un compte « evaluateur » n'exporte des microdonnées que pour les projets qui le nomment, sur leurs territoires et pendant leur période, et chaque export est inscrit au journal d'audit."
        }
        @if user.role == Role::Evaluateur && open_projects.is_empty() {
            p class="alerte" role="status" { "Aucun projet d'évaluation ne vous est ouvert : demandez à un administrateur de Copil de déclarer votre projet (objet, territoires, période) en vous nommant." }
        }
        h2 { "Dictionnaire, manifeste et reproductibilité" }
        p {
            "Chaque fichier a son dictionnaire (colonne ; type ; description) et son manifeste : ajoutez « .manifeste.json » au nom du fichier, avec les mêmes paramètres (par exemple "
            code { "/exports/indicateurs.csv.manifeste.json?indicateur=orientes_30j" } "). Le manifeste donne les versions de l'entrepôt, les filtres, le projet, le nombre de lignes, la taille et l'empreinte SHA-256 du fichier, et la liste des colonnes ; l'empreinte est aussi dans l'en-tête "
            code { "X-Copil-Sha256" } " du téléchargement."
        }
        p {
            "Le même export, sur les mêmes versions de l'entrepôt avec les mêmes filtres, redonne exactement les mêmes octets : les nombres s'écrivent avec un point décimal, sans date de fabrication dans les fichiers. Un classeur XLSX s'arrête à " (limit) " lignes : au-delà, filtrez ou choisissez CSV ou Parquet."
        }
        p {
            "Depuis un script, les mêmes fichiers sont servis par l'API avec un jeton : "
            code { "curl -H \"Authorization: Bearer <jeton>\" -o indicateurs.parquet \"/api/v1/exports/indicateurs.parquet?vague=ami1-2021\"" } "."
        }
    }
}

/// `GET /exports`: the export forms.
pub async fn page(
    State(state): State<AppState>,
    user: User,
    _headers: HeaderMap,
) -> Result<Response, HttpError> {
    user.require_exports()?;
    let body = page_body(&state, &user);
    Ok(Html(crate::layout::simple(
        "Exports",
        "/exports",
        Some(&user),
        &body,
    ))
    .into_response())
}

/// `GET /exports/{file}`: one export file, its manifest or its dictionary.
pub async fn file(
    State(state): State<AppState>,
    user: User,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    serve(&state, &user, &file, &q, "/exports").await
}

/// `GET /api/v1/exports/{file}`: the same, errors in JSON.
pub async fn api_file(
    state: State<AppState>,
    user: User,
    file: Path<String>,
    q: Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    file_inner(state, user, file, q)
        .await
        .map_err(HttpError::json)
}

async fn file_inner(
    State(state): State<AppState>,
    user: User,
    Path(file_name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    serve(&state, &user, &file_name, &q, "/api/v1/exports").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_parsed_and_unknown_ones_refused() {
        assert_eq!(
            parse_name("indicateurs.csv").unwrap(),
            Asked::Data(Kind::Indicateurs, Format::Csv)
        );
        assert_eq!(
            parse_name("personnes.parquet.manifeste.json").unwrap(),
            Asked::Manifest(Kind::Micro(MicroTable::Personnes), Format::Parquet)
        );
        assert_eq!(
            parse_name("evenements.dictionnaire.csv").unwrap(),
            Asked::Dictionary(Kind::Micro(MicroTable::Evenements))
        );
        assert_eq!(
            parse_name("evenements.csv").unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            parse_name("rejets.parquet").unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            parse_name("indicateurs.json").unwrap_err().status,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn project_names_are_checked() {
        assert!(valid_project("evaluation-2025_a"));
        assert!(!valid_project(""));
        assert!(!valid_project("Evaluation"));
        assert!(!valid_project("a/b"));
        assert!(!valid_project(&"a".repeat(65)));
    }

    #[test]
    fn pruning_keeps_the_most_recent_exports_and_their_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let start = std::time::SystemTime::now() - std::time::Duration::from_secs(10_000);
        for i in 0..40u64 {
            let data = dir.path().join(format!("{i:02}.csv"));
            std::fs::write(&data, b"x").unwrap();
            std::fs::write(
                dir.path().join(format!("{i:02}.csv{MANIFEST_SUFFIX}")),
                b"{}",
            )
            .unwrap();
            let f = File::options().write(true).open(&data).unwrap();
            f.set_modified(start + std::time::Duration::from_secs(i * 10))
                .unwrap();
        }
        std::fs::write(
            dir.path().join(format!("orphelin.csv{MANIFEST_SUFFIX}")),
            b"{}",
        )
        .unwrap();
        prune(dir.path(), "00");
        let left: BTreeSet<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        // The 25 newest (15 to 39), and 00 being served; each with its manifest.
        assert_eq!(left.len(), 2 * (KEEP_EXPORTS + 1), "{left:?}");
        assert!(left.contains("39.csv") && left.contains("15.csv") && left.contains("00.csv"));
        assert!(!left.contains("14.csv") && !left.contains(&format!("14.csv{MANIFEST_SUFFIX}")));
        assert!(!left.contains(&format!("orphelin.csv{MANIFEST_SUFFIX}")));
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let mut s = String::new();
        csv_field(&mut s, "a;b \"c\"");
        csv_field(&mut s, "simple");
        assert_eq!(s, "\"a;b \"\"c\"\"\"simple");
    }
}
