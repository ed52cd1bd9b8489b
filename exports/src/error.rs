//! The crate's one error type: a mistake of the request says in French what to fix; a failure
//! to write or read an export keeps its cause as its source.

use std::path::PathBuf;

/// A boxed cause of a failed write (I/O, Arrow, Parquet, XLSX, JSON).
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// The files served, as an unknown name's message lists them.
pub(crate) const KNOWN_FILES: &str = "indicateurs.csv, indicateurs.xlsx, indicateurs.parquet, evenements.parquet, personnes.parquet (suivis de « .manifeste.json » pour leur manifeste), indicateurs.dictionnaire.csv, evenements.dictionnaire.csv, personnes.dictionnaire.csv";

/// Everything that can go wrong while naming, checking, building or reading an export.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file name that names no export (not found).
    #[error("Export inconnu : « {0} ». Fichiers disponibles : {known}.", known = KNOWN_FILES)]
    UnknownFile(String),
    /// Microdata asked for in another format than Parquet (not found); holds the table's name.
    #[error("Les microdonnées ne s'exportent qu'au format Parquet : demandez « {0}.parquet ».")]
    MicrodataNotParquet(String),
    /// A parameter that is unknown, missing or invalid (bad request): the message says what
    /// to fix.
    #[error("{0}")]
    Parameter(String),
    /// A territory outside the evaluation project the export is made under (forbidden).
    #[error(
        "Le territoire « {territoire} » n'est pas couvert par le projet « {projet} » (territoires : {}).",
        territoires.join(", ")
    )]
    OutsideProject {
        /// The territory asked for.
        territoire: String,
        /// The project's name.
        projet: String,
        /// The project's territories.
        territoires: Vec<String>,
    },
    /// An XLSX table longer than a workbook allows (unprocessable).
    #[error(
        "Export XLSX impossible : la table compterait {rows} lignes, au-delà de la limite de {limit} lignes d'un classeur Excel. Filtrez-la (indicateur, mois, vague, territoire) ou choisissez le format CSV ou Parquet, sans limite."
    )]
    TooManyRows {
        /// Rows the table would have.
        rows: usize,
        /// Most rows of a workbook.
        limit: usize,
    },
    /// The exports folder cannot be created.
    #[error("dossier des exports {} : {source}", dir.display())]
    Folder {
        /// The folder.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A built export cannot be opened.
    #[error("ouverture de l'export {} : {source}", file.display())]
    Open {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing an export (its data file or its manifest) failed.
    #[error("export {export} : {source}")]
    Write {
        /// What was exported (`indicateurs`, `evenements`, `personnes`).
        export: &'static str,
        /// Why.
        #[source]
        source: Cause,
    },
    /// The microdata could not be read from the warehouse.
    #[error("lecture des microdonnées : {0}")]
    Microdata(#[source] copil_queries::Error),
    /// The task building an export failed.
    #[error("tâche de construction de l'export : {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// A write failure of `export` caused by `e`.
pub(crate) fn write_error<E: Into<Cause>>(export: &'static str, e: E) -> Error {
    Error::Write {
        export,
        source: e.into(),
    }
}

/// A write failure of the indicator table caused by `e` (for `map_err`).
pub(crate) fn indicators_write<E: Into<Cause>>(e: E) -> Error {
    write_error("indicateurs", e)
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Filters as a view checks them ([`copil_queries::filters::check_view`], the same checks and
/// messages as the dashboard's); an unknown breakdown also names [`copil_queries::RELATIF`].
impl From<copil_queries::filters::FilterError> for Error {
    fn from(e: copil_queries::filters::FilterError) -> Error {
        Error::Parameter(if e.parametre == "ventilation" {
            format!(
                "{} La ventilation « {} » (mois depuis le début du SPIE, par vague) se demande aussi explicitement.",
                e.message,
                copil_queries::RELATIF
            )
        } else {
            e.message
        })
    }
}
