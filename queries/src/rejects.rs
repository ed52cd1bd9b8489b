//! The rejected rows of a territory's drop in force, as its team reads them to fix its
//! extraction: file, line, column and reason (never a value).

use copil_warehouse::vocabulary::RejectReason;
use copil_warehouse::{REJETS, Warehouse};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::error::{Error, Result};

/// One rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// SHA-256 of the drop.
    pub depot: String,
    /// File name.
    pub fichier: String,
    /// Line in the file (the header is line 1).
    pub ligne: i64,
    /// Column at fault (contract name), if one.
    pub colonne: Option<String>,
    /// Reason code.
    pub motif: String,
}

impl Reject {
    /// The reason's French label (the code itself if unknown).
    pub fn motif_label(&self) -> &str {
        RejectReason::ALL
            .iter()
            .find(|r| r.code() == self.motif)
            .map_or(self.motif.as_str(), |r| r.label())
    }
}

fn error(territoire: &str, e: impl std::fmt::Display) -> Error {
    Error::Query {
        indicator: format!("rejets de {territoire}"),
        message: e.to_string(),
    }
}

/// The rejected rows of `territoire`'s drop in force, in file order. The territory is bound as
/// a parameter, and the filter reaches the partitioned scan.
pub async fn rejects(warehouse: &Warehouse, territoire: &str) -> Result<Vec<Reject>> {
    let ctx = SessionContext::new();
    let table = warehouse.load(&REJETS).await?;
    warehouse.register_table(&ctx, &REJETS, &table).await?;
    let batches = crate::sql::collect(
        &ctx,
        &format!("rejets de {territoire}"),
        include_str!("../sql/rejets_territoire.sql"),
        vec![ScalarValue::from(territoire)],
    )
    .await?;
    let mut out = Vec::new();
    for b in &batches {
        let text = |i: usize| cast(b.column(i), &DataType::Utf8).map_err(|e| error(territoire, e));
        let (depot, fichier, colonne, motif) = (text(0)?, text(1)?, text(3)?, text(4)?);
        let ligne = cast(b.column(2), &DataType::Int64).map_err(|e| error(territoire, e))?;
        let ligne = ligne.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        let (depot, fichier, colonne, motif) = (
            depot.as_string::<i32>(),
            fichier.as_string::<i32>(),
            colonne.as_string::<i32>(),
            motif.as_string::<i32>(),
        );
        for i in 0..b.num_rows() {
            out.push(Reject {
                depot: depot.value(i).to_string(),
                fichier: fichier.value(i).to_string(),
                ligne: ligne.value(i),
                colonne: (!colonne.is_null(i)).then(|| colonne.value(i).to_string()),
                motif: motif.value(i).to_string(),
            });
        }
    }
    Ok(out)
}
