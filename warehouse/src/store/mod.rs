//! The Delta Lake warehouse on disk: tables, data files, atomic commits, versions, and their
//! registration in a DataFusion session.

mod commit;
mod repair;
mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;
use url::Url;

use crate::tables::{TABLES, TableDef};
use crate::{Error, Result};

pub use commit::{CommitGuard, RunGuard};
pub use write::{PartWriter, StagedFile};

/// The warehouse: a folder of Delta tables (`evenements`, `personnes`, `rejets`, `depots`).
#[derive(Debug)]
pub struct Warehouse {
    root: PathBuf,
    commit_lock: tokio::sync::Mutex<()>,
    /// Tables loaded once and brought up to date before each commit.
    cache: tokio::sync::Mutex<HashMap<&'static str, DeltaTable>>,
}

/// Maps a Delta error to the warehouse's, naming the table.
fn delta_err(table: &str) -> impl Fn(deltalake::DeltaTableError) -> Error + '_ {
    move |e| Error::Delta {
        table: table.to_string(),
        message: e.to_string(),
    }
}

impl Warehouse {
    /// Opens the warehouse at `location` (a path or a `file://` URL), creating its folder and
    /// tables when missing.
    pub async fn open(location: &str) -> Result<Self> {
        let root = if let Some(rest) = location.strip_prefix("file://") {
            PathBuf::from(rest)
        } else if location.contains("://") {
            return Err(Error::Location {
                location: location.to_string(),
                message:
                    "seul le système de fichiers local (chemin ou URL file://) est pris en charge"
                        .into(),
            });
        } else {
            PathBuf::from(location)
        };
        std::fs::create_dir_all(&root).map_err(|source| Error::Write {
            path: root.clone(),
            source,
        })?;
        let root = root.canonicalize().map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        let warehouse = Self {
            root,
            commit_lock: tokio::sync::Mutex::new(()),
            cache: tokio::sync::Mutex::new(HashMap::new()),
        };
        for def in TABLES {
            warehouse.create_if_missing(def).await?;
        }
        Ok(warehouse)
    }

    /// The warehouse's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a table.
    pub fn table_dir(&self, def: &TableDef) -> PathBuf {
        self.root.join(def.name)
    }

    fn log_dir(&self, def: &TableDef) -> PathBuf {
        self.table_dir(def).join("_delta_log")
    }

    fn table_url(&self, def: &TableDef) -> Result<Url> {
        let dir = self.table_dir(def);
        Url::from_directory_path(&dir).map_err(|()| Error::Location {
            location: dir.display().to_string(),
            message: "chemin impossible à convertir en URL".into(),
        })
    }

    async fn create_if_missing(&self, def: &TableDef) -> Result<()> {
        if self.table_dir(def).join("_delta_log").is_dir() {
            return Ok(());
        }
        let dir = self.table_dir(def);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        let table = DeltaTable::try_from_url(self.table_url(def)?)
            .await
            .map_err(delta_err(def.name))?;
        let mut create = table
            .create()
            .with_table_name(def.name)
            .with_comment(def.description)
            .with_columns(def.delta_columns())
            .with_save_mode(SaveMode::Ignore);
        if let Some(p) = def.partition {
            create = create.with_partition_columns([p]);
        }
        create.await.map_err(delta_err(def.name))?;
        Ok(())
    }

    /// The table at its latest version.
    pub async fn load(&self, def: &TableDef) -> Result<DeltaTable> {
        deltalake::open_table(self.table_url(def)?)
            .await
            .map_err(delta_err(def.name))
    }

    /// The table at a given version.
    pub async fn load_version(&self, def: &TableDef, version: u64) -> Result<DeltaTable> {
        deltalake::open_table_with_version(self.table_url(def)?, version as _)
            .await
            .map_err(delta_err(def.name))
    }

    /// The data files of each of `territoires`' partitions of `def` at its latest version,
    /// sorted: two equal lists mean the territory's rows did not change.
    pub async fn partition_files(
        &self,
        def: &TableDef,
        territoires: &[&str],
    ) -> Result<BTreeMap<String, Vec<String>>> {
        use futures::TryStreamExt;
        let Some(col) = def.partition else {
            return Ok(BTreeMap::new());
        };
        let mut out: BTreeMap<String, Vec<String>> = territoires
            .iter()
            .map(|t| (t.to_string(), Vec::new()))
            .collect();
        let table = self.load(def).await?;
        if table.version().is_some() {
            // One pass over the active files, not one per territory: each pass replays the
            // file actions (issue 16: 0.4 s of an incremental refresh for 68 territories).
            let files: Vec<_> = table
                .get_active_add_actions_by_partitions(&[])
                .try_collect()
                .await
                .map_err(delta_err(def.name))?;
            for f in &files {
                let values = f.partition_values_map();
                if let Some(Some(t)) = values.get(col)
                    && let Some(paths) = out.get_mut(t.as_str())
                {
                    paths.push(f.path().into_owned());
                }
            }
            for paths in out.values_mut() {
                paths.sort();
            }
        }
        Ok(out)
    }

    /// The latest version of every table.
    pub async fn versions(&self) -> Result<BTreeMap<&'static str, u64>> {
        let mut out = BTreeMap::new();
        for def in TABLES {
            let t = self.load(def).await?;
            out.insert(def.name, t.version().unwrap_or(0) as u64);
        }
        Ok(out)
    }

    /// Whether the `indicateurs` table was built from another version of `evenements` than
    /// the latest (a run landed drops, then stopped before its refresh; or a repair took
    /// `evenements` back): then a refresh is due. False while nothing has landed.
    pub async fn indicators_behind(&self) -> Result<bool> {
        use datafusion::arrow::array::{Array, AsArray};
        let events = self
            .load(&crate::tables::EVENEMENTS)
            .await?
            .version()
            .unwrap_or(0) as u64;
        if events == 0 {
            return Ok(false);
        }
        let def = &crate::tables::INDICATEURS;
        let table = self.load(def).await?;
        let ctx = SessionContext::new();
        self.register_table(&ctx, def, &table).await?;
        let err = |e: datafusion::error::DataFusionError| Error::Delta {
            table: def.name.into(),
            message: e.to_string(),
        };
        let batches = ctx
            .sql("SELECT CAST(max(version_evenements) AS BIGINT) FROM indicateurs")
            .await
            .map_err(err)?
            .collect()
            .await
            .map_err(err)?;
        let built = batches
            .first()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                b.column(0)
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            })
            .filter(|a| !a.is_null(0))
            .map(|a| a.value(0) as u64);
        Ok(built.is_none_or(|v| v != events))
    }

    /// Registers every table in `ctx` at its latest version, through fresh versioned providers
    /// (never a cached file listing); call again after each commit.
    pub async fn register(&self, ctx: &SessionContext) -> Result<BTreeMap<&'static str, u64>> {
        let mut versions = BTreeMap::new();
        for def in TABLES {
            let table = self.load(def).await?;
            versions.insert(def.name, table.version().unwrap_or(0) as u64);
            self.register_table(ctx, def, &table).await?;
        }
        Ok(versions)
    }

    /// Registers `table` under the name of `def` (replacing an earlier registration).
    pub async fn register_table(
        &self,
        ctx: &SessionContext,
        def: &TableDef,
        table: &DeltaTable,
    ) -> Result<()> {
        let provider: Arc<dyn datafusion::catalog::TableProvider> =
            table.table_provider().await.map_err(|e| Error::Delta {
                table: def.name.into(),
                message: e.to_string(),
            })?;
        let _ = ctx.deregister_table(def.name);
        ctx.register_table(def.name, provider)
            .map_err(|e| Error::Delta {
                table: def.name.into(),
                message: e.to_string(),
            })?;
        Ok(())
    }
}
