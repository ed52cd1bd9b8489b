use std::path::PathBuf;

/// Errors of the generator, each naming the file or option at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written.
    #[error("écriture impossible de {path} : {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A workbook could not be written.
    #[error("classeur {path} : {message}")]
    Xlsx {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An option is out of range or names an unknown territory.
    #[error("option {option} : {message}")]
    Option {
        /// The option (`--echelle`, `--territories`…).
        option: &'static str,
        /// What is wrong, in French.
        message: String,
    },
}

/// Result alias of the generator.
pub type Result<T, E = Error> = std::result::Result<T, E>;
