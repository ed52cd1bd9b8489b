//! Data files written into a table's folder before a commit adds them.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use super::Warehouse;
use crate::tables::TableDef;
use crate::{Error, Result};

/// A data file written into a table's folder, not yet part of the table.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Path relative to the table root.
    pub path: String,
    /// Partition values (`territoire`).
    pub partition_values: HashMap<String, Option<String>>,
    /// Size in bytes.
    pub size: i64,
    /// Rows.
    pub rows: u64,
}

/// Streams record batches into one Parquet data file of a table (bounded memory: row groups of
/// 128 Ki rows). Dropped without [`PartWriter::finish`] (a drop refused or held midway), it
/// deletes its file: nothing uncommitted is left behind in the table's folder.
pub struct PartWriter {
    /// `None` once finished.
    writer: Option<ArrowWriter<File>>,
    absolute: PathBuf,
    staged: StagedFile,
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.absolute);
        }
    }
}

impl PartWriter {
    /// Appends a batch (it must have the table's file schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.staged.rows += batch.num_rows() as u64;
        let path = &self.absolute;
        self.writer
            .as_mut()
            .expect("a writer is used until finished")
            .write(batch)
            .map_err(|e| Error::Parquet {
                path: path.clone(),
                message: e.to_string(),
            })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.staged.rows
    }

    /// Closes the file; `None` (and no file) if no row was written.
    pub fn finish(mut self) -> Result<Option<StagedFile>> {
        let writer = self.writer.take().expect("finished once");
        let absolute = self.absolute.clone();
        let closed = writer.close().map_err(|e| Error::Parquet {
            path: absolute.clone(),
            message: e.to_string(),
        });
        if closed.is_err() || self.staged.rows == 0 {
            let _ = std::fs::remove_file(&absolute);
            closed?;
            return Ok(None);
        }
        let mut staged = self.staged.clone();
        staged.size = std::fs::metadata(&absolute)
            .map_err(|source| Error::Write {
                path: absolute.clone(),
                source,
            })?
            .len() as i64;
        Ok(Some(staged))
    }
}

impl Warehouse {
    /// A writer for a new data file of `def`, in the partition of `territoire` if the table is
    /// partitioned. The file is not part of the table until a commit adds it.
    pub fn part_writer(&self, def: &TableDef, territoire: Option<&str>) -> Result<PartWriter> {
        let mut relative = String::new();
        let mut partition_values = HashMap::new();
        if let (Some(col), Some(value)) = (def.partition, territoire) {
            relative.push_str(&format!("{col}={value}/"));
            partition_values.insert(col.to_string(), Some(value.to_string()));
        }
        relative.push_str(&format!(
            "part-00000-{}-c000.snappy.parquet",
            uuid::Uuid::new_v4()
        ));
        let absolute = self.table_dir(def).join(&relative);
        if let Some(dir) = absolute.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(&absolute).map_err(|source| Error::Write {
            path: absolute.clone(),
            source,
        })?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(128 * 1024))
            // A line number is unique in its file: a dictionary of it would only be built (every
            // value interned) to be as large as the column.
            .set_column_dictionary_enabled(ColumnPath::from("ligne"), false)
            .set_created_by("copil".into())
            .build();
        let writer = ArrowWriter::try_new(file, def.file_schema(), Some(props)).map_err(|e| {
            Error::Parquet {
                path: absolute.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(PartWriter {
            writer: Some(writer),
            absolute,
            staged: StagedFile {
                path: relative,
                partition_values,
                size: 0,
                rows: 0,
            },
        })
    }

    /// Deletes staged files that will never be committed (a drop held for review).
    pub fn discard(&self, def: &TableDef, files: &[StagedFile]) {
        for f in files {
            let _ = std::fs::remove_file(self.table_dir(def).join(&f.path));
        }
    }
}
