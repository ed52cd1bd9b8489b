//! The file writers of the indicator table (CSV, XLSX, Parquet). Each writes to a path and
//! syncs it; the same rows give the same bytes (no timestamp anywhere).

pub(crate) mod csv;
pub(crate) mod parquet;
pub(crate) mod xlsx;
