//! Pseudonymised microdata for evaluators' exports (issue #6): the `evenements` and `personnes`
//! tables, read one territory at a time, each person's warehouse pseudonym replaced by a
//! pseudonym of the export project, rows ordered by it, in batches of a fixed size so the same
//! data always reach a writer the same way.
//!
//! The project pseudonym is HMAC-SHA-256, under a key derived for the project from the export
//! key, of the warehouse pseudonym, truncated to 128 bits in hexadecimal: two projects' exports
//! cannot be linked through it, nor through the row order (sorted by it), nor through the
//! `ligne` column of the events (the row's place in its drop), which is left out.
//!
//! ```
//! use copil_queries::{export_pseudonym, project_key};
//! let master = [7u8; 32];
//! let (a, b) = (project_key(&master, "projet-a"), project_key(&master, "projet-b"));
//! let p = "0123456789abcdef0123456789abcdef";
//! assert_eq!(export_pseudonym(&a, p).len(), 32);
//! assert_ne!(export_pseudonym(&a, p), export_pseudonym(&b, p));
//! assert_eq!(export_pseudonym(&a, p), export_pseudonym(&a, p));
//! ```

use std::sync::Arc;

use copil_core::empreinte::Empreinte;
use copil_warehouse::tables::{ColumnDef, ColumnType};
use copil_warehouse::{EVENEMENTS, PERSONNES, TableDef, Warehouse};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::scalar::ScalarValue;

use crate::error::{Error, Result};

/// Rows of every batch handed to a writer (the last of a territory may be shorter).
const BATCH_ROWS: usize = 8192;

/// Memory the engine may hold for one export before its sort spills to disk.
const MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// The name of the project-pseudonym function in the export queries.
const PSEUDONYM_FUNCTION: &str = "pseudonyme_export";

/// Columns of the warehouse never exported: the row's place in its drop would link exports.
const LEFT_OUT: &[&str] = &["ligne"];

/// A warehouse table an evaluator can export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MicroTable {
    /// Events (`evenements`).
    Evenements,
    /// People (`personnes`).
    Personnes,
}

/// One column of an export, for its schema and its data dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportColumn {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub ty: ColumnType,
    /// Whether it may be empty.
    pub nullable: bool,
    /// What it holds, in French.
    pub description: String,
}

impl MicroTable {
    /// Both tables.
    pub const ALL: [MicroTable; 2] = [MicroTable::Evenements, MicroTable::Personnes];

    /// The table's name (`evenements`, `personnes`).
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The table of that name.
    pub fn from_name(name: &str) -> Option<MicroTable> {
        MicroTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The warehouse table.
    pub fn def(self) -> &'static TableDef {
        match self {
            MicroTable::Evenements => &EVENEMENTS,
            MicroTable::Personnes => &PERSONNES,
        }
    }

    /// What a row is, in French.
    pub fn description(self) -> &'static str {
        self.def().description
    }

    fn sql(self) -> &'static str {
        match self {
            MicroTable::Evenements => include_str!("../sql/export_evenements.sql"),
            MicroTable::Personnes => include_str!("../sql/export_personnes.sql"),
        }
    }

    /// The exported columns, in order: the table's, but `ligne`, with the project pseudonym
    /// in place of the warehouse's.
    pub fn columns(self) -> Vec<ExportColumn> {
        self.def()
            .columns
            .iter()
            .filter(|c| !LEFT_OUT.contains(&c.name))
            .map(|c: &ColumnDef| ExportColumn {
                name: c.name,
                ty: c.ty,
                nullable: c.nullable,
                description: if c.name == "personne" {
                    "Pseudonyme de la personne propre au projet d'export : HMAC-SHA-256, sous une clé dérivée pour ce projet, du pseudonyme de l'entrepôt, tronqué à 128 bits, en hexadécimal. Le même pour une personne dans tout export du même projet, différent d'un projet à l'autre : deux projets ne peuvent pas être rapprochés.".to_string()
                } else {
                    c.description.to_string()
                },
            })
            .collect()
    }

    /// The Arrow schema of the export (the warehouse's types).
    pub fn schema(self) -> SchemaRef {
        let full = self.def().schema();
        Arc::new(Schema::new(
            full.fields()
                .iter()
                .filter(|f| !LEFT_OUT.contains(&f.name().as_str()))
                .map(|f| Field::new(f.name(), f.data_type().clone(), f.is_nullable()))
                .collect::<Vec<_>>(),
        ))
    }
}

/// The key of a project's pseudonyms: HMAC-SHA-256 of `copil-export:` + the project name under
/// the export key.
pub fn project_key(export_key: &[u8; 32], projet: &str) -> [u8; 32] {
    Empreinte::new(export_key).digest(&[b"copil-export:", projet.as_bytes()])
}

/// A person's pseudonym in a project's exports: HMAC-SHA-256 of the warehouse pseudonym under
/// the project key, first 128 bits in hexadecimal.
pub fn export_pseudonym(project_key: &[u8; 32], personne: &str) -> String {
    Empreinte::new(project_key).hex128(&[personne.as_bytes()])
}

/// A short fingerprint of a project key (never the key): tells apart exports built under
/// different keys, e.g. in a cache.
pub fn key_fingerprint(project_key: &[u8; 32]) -> String {
    copil_core::empreinte::hex(
        &Empreinte::new(project_key).digest(&[b"copil-export:empreinte"])[..8],
    )
}

/// The project-pseudonym function, registered in each export's own session.
#[derive(PartialEq, Eq, Hash)]
struct ExportPseudonym {
    key: [u8; 32],
    signature: Signature,
}

impl std::fmt::Debug for ExportPseudonym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportPseudonym(<clé masquée>)")
    }
}

impl ScalarUDFImpl for ExportPseudonym {
    fn name(&self) -> &str {
        PSEUDONYM_FUNCTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return Err(datafusion::error::DataFusionError::Execution(format!(
                "{PSEUDONYM_FUNCTION} attend un argument"
            )));
        };
        let input = cast(&arg.to_array(args.number_rows)?, &DataType::Utf8)?;
        let input = input.as_string::<i32>();
        let keyed = Empreinte::new(&self.key);
        let mut out = StringBuilder::with_capacity(input.len(), input.len() * 32);
        for v in input.iter() {
            match v {
                Some(p) => out.append_value(keyed.hex128(&[p.as_bytes()])),
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

fn error(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
    Error::Query {
        indicator: format!("export {what}"),
        message: e.to_string(),
    }
}

/// One table of the warehouse at one version, ready to be exported for one project.
pub struct Microdata {
    ctx: SessionContext,
    table: MicroTable,
    version: u64,
    schema: SchemaRef,
}

impl std::fmt::Debug for Microdata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microdata")
            .field("table", &self.table)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl Microdata {
    /// Loads `table` at its latest version for the project of `project_key` (see
    /// [`project_key`]). Every territory written afterwards is read from that version.
    pub async fn open(
        warehouse: &Warehouse,
        table: MicroTable,
        project_key: [u8; 32],
    ) -> Result<Microdata> {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(MEMORY_LIMIT, 1.0)
            .build_arc()
            .map_err(|e| error(table.name(), e))?;
        let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
        let def = table.def();
        let delta = warehouse.load(def).await?;
        warehouse.register_table(&ctx, def, &delta).await?;
        ctx.register_udf(ScalarUDF::from(ExportPseudonym {
            key: project_key,
            signature: Signature::string(1, Volatility::Immutable),
        }));
        Ok(Microdata {
            ctx,
            table,
            version: delta.version().unwrap_or(0) as u64,
            schema: table.schema(),
        })
    }

    /// The table.
    pub fn table(&self) -> MicroTable {
        self.table
    }

    /// The version of the table read.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The schema of the batches handed to the sink.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn conform(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let columns = self
            .schema
            .fields()
            .iter()
            .map(|f| {
                let c = batch.column_by_name(f.name()).ok_or_else(|| {
                    error(self.table.name(), format!("colonne {} absente", f.name()))
                })?;
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    cast(c, f.data_type()).map_err(|e| error(self.table.name(), e))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| error(self.table.name(), e))
    }

    /// Streams the rows of `territoire` to `sink`, ordered by project pseudonym then every
    /// column, in batches of 8192 rows (the last one shorter); returns the rows
    /// written. Only one sorted territory is held at a time (spilling to disk past a bound).
    pub async fn write_territory(
        &self,
        territoire: &str,
        sink: &mut (dyn FnMut(RecordBatch) -> std::result::Result<(), String> + Send),
    ) -> Result<u64> {
        let what = format!("{} de {territoire}", self.table.name());
        let mut stream = self
            .ctx
            .sql(self.table.sql())
            .await
            .and_then(|df| df.with_param_values(vec![ScalarValue::from(territoire)]))
            .map_err(|e| error(&what, e))?
            .execute_stream()
            .await
            .map_err(|e| error(&what, e))?;
        let mut pending: Vec<RecordBatch> = Vec::new();
        let mut pending_rows = 0usize;
        let mut written = 0u64;
        loop {
            let next = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await;
            let last = next.is_none();
            if let Some(batch) = next {
                let batch = batch.map_err(|e| error(&what, e))?;
                if batch.num_rows() > 0 {
                    pending_rows += batch.num_rows();
                    pending.push(self.conform(&batch)?);
                }
            }
            if pending_rows >= BATCH_ROWS || (last && pending_rows > 0) {
                let merged = concat_batches(&self.schema, &pending).map_err(|e| error(&what, e))?;
                pending.clear();
                let mut offset = 0;
                while merged.num_rows() - offset >= BATCH_ROWS {
                    sink(merged.slice(offset, BATCH_ROWS)).map_err(|e| error(&what, e))?;
                    offset += BATCH_ROWS;
                }
                let rest = merged.num_rows() - offset;
                if rest > 0 {
                    if last {
                        sink(merged.slice(offset, rest)).map_err(|e| error(&what, e))?;
                    } else {
                        pending.push(merged.slice(offset, rest));
                    }
                }
                written += (merged.num_rows() - if last { 0 } else { rest }) as u64;
                pending_rows = if last { 0 } else { rest };
            }
            if last {
                return Ok(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_pseudonym_is_keyed_by_project_and_truncated() {
        let master = [1u8; 32];
        let a = project_key(&master, "projet-a");
        assert_ne!(a, project_key(&master, "projet-b"));
        assert_ne!(a, project_key(&[2u8; 32], "projet-a"));
        let p = export_pseudonym(&a, "00112233445566778899aabbccddeeff");
        assert_eq!(p.len(), 32);
        assert!(p.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(
            key_fingerprint(&a),
            key_fingerprint(&project_key(&master, "x"))
        );
    }

    #[test]
    fn the_export_leaves_the_drop_line_out() {
        let cols: Vec<&str> = MicroTable::Evenements
            .columns()
            .iter()
            .map(|c| c.name)
            .collect();
        assert!(!cols.contains(&"ligne"));
        assert_eq!(cols[..2], ["territoire", "personne"]);
        assert_eq!(MicroTable::Evenements.schema().fields().len(), cols.len());
        assert_eq!(
            MicroTable::from_name("personnes"),
            Some(MicroTable::Personnes)
        );
        assert_eq!(MicroTable::from_name("rejets"), None);
    }
}
