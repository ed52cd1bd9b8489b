//! Running one of the crate's SQL texts: values bound as parameters, batches collected, a
//! failure named after what was asked.

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::{Error, Result};

/// Runs `sql` in `ctx` with `params` bound to `$1`, `$2`… and collects its batches. A failure
/// is an [`Error::Query`] naming `what` (an indicator id, or the table read).
pub(crate) async fn collect(
    ctx: &SessionContext,
    what: &str,
    sql: &str,
    params: Vec<ScalarValue>,
) -> Result<Vec<RecordBatch>> {
    let q = |e: datafusion::error::DataFusionError| Error::Query {
        indicator: what.to_string(),
        message: e.to_string(),
    };
    let df = ctx.sql(sql).await.map_err(q)?;
    let df = if params.is_empty() {
        df
    } else {
        df.with_param_values(params).map_err(q)?
    };
    df.collect().await.map_err(q)
}
