//! The inbox rule, written once for the ingestion's scan and the web uploads: a file whose
//! name is hidden (`.` first) or ends in [`PARTIAL_SUFFIX`] is still being written, and is
//! left for a later run.

/// The suffix of a file being uploaded (renamed without it once complete).
pub const PARTIAL_SUFFIX: &str = ".part";

/// Whether an inbox entry named `name` is still being written (hidden, or `.part`).
///
/// ```
/// use copil_core::inbox::in_progress;
/// assert!(in_progress("dep-44_2025-06-30.csv.part") && in_progress(".tmp"));
/// assert!(!in_progress("dep-44_2025-06-30.csv"));
/// ```
pub fn in_progress(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(PARTIAL_SUFFIX)
}
