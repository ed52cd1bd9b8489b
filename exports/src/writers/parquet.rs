//! The Parquet writers: the indicator table, and the fixed writer properties of every Parquet
//! export (microdata included).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use copil_warehouse::tables::ColumnType;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::dictionary::Column;
use crate::error::{Result, indicators_write as io};
use crate::rows::{Row, figures, texts};

/// Rows per Parquet batch of an indicator table.
const BATCH_ROWS: usize = 8192;

/// The Arrow schema of the indicator table.
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
pub(crate) fn parquet_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_created_by(format!("copil {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(128 * 1024))
        .build()
}

/// One batch of the indicator table.
fn indicator_batch(schema: &SchemaRef, rows: &[Row<'_>]) -> Result<RecordBatch> {
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

/// Writes the indicator table as Parquet, [`BATCH_ROWS`] rows a batch.
pub(crate) fn write_indicator_parquet(
    path: &Path,
    rows: &[Row<'_>],
    columns: &[Column],
) -> Result<()> {
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
