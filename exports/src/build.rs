//! Building (or reusing) an export: its plan, then its data file written to a temporary file,
//! its manifest beside it, both moved in place, and the folder pruned.

use std::collections::HashMap;
use std::fs::File;

use copil_queries::{MicroTable, Microdata, key_fingerprint, project_key};
use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use serde_json::{Value, json};

use crate::Context;
use crate::cache::{Built, ensure_dir, existing, open_built};
use crate::dictionary::indicator_columns;
use crate::error::{Error, Result, write_error};
use crate::filters::{
    INDICATOR_PARAMS, IndicatorFilters, MICRO_PARAMS, MicroFilters, refuse_unknown,
};
use crate::manifest::finish;
use crate::plan::{Format, Kind, Plan, versions_of};
use crate::rows::rows;
use crate::writers::{csv, parquet, xlsx};

/// Builds (or reuses) the indicator table in `format` with the filters of the query `q`
/// (`file_name` is the file asked for, named in messages). Refuses unknown parameters, bad
/// filters, and an XLSX table longer than [`Context::xlsx_max_rows`].
pub async fn build_indicators<C: Context>(
    ctx: &C,
    format: Format,
    q: &HashMap<String, String>,
    file_name: &str,
) -> Result<(Plan, Built)> {
    refuse_unknown(q, INDICATOR_PARAMS, file_name)?;
    let results = ctx.results();
    let f = IndicatorFilters::check(q, ctx.catalogue(), ctx.register(), &results)?;
    let count = rows(ctx.catalogue(), ctx.register(), &results, &f).len();
    let limit = ctx.xlsx_max_rows();
    if format == Format::Xlsx && count > limit {
        return Err(Error::TooManyRows { rows: count, limit });
    }
    let threshold = ctx.threshold();
    let plan = Plan {
        kind: Kind::Indicateurs,
        format,
        versions: Value::Object(versions_of(&results)),
        filtres: f.json(),
        projet: None,
        query: f.query_string(),
        key: String::new(),
    }
    .keyed(threshold, None);
    let dir = ctx.exports_dir().to_path_buf();
    ensure_dir(&dir)?;
    if let Some(b) = existing(&dir, &plan) {
        return Ok((plan, b));
    }
    let c = ctx.clone();
    let temp = plan.temp_path(&dir, "donnees");
    let folder = dir.clone();
    let (plan, manifest) = tokio::task::spawn_blocking(move || {
        let columns = indicator_columns(threshold);
        let selected = rows(c.catalogue(), c.register(), &results, &f);
        let written = match format {
            Format::Csv => csv::write_csv(&temp, &selected, &columns),
            Format::Xlsx => xlsx::write_xlsx(&temp, &selected, &columns, &results),
            Format::Parquet => parquet::write_indicator_parquet(&temp, &selected, &columns),
        };
        let manifest = written.and_then(|()| {
            finish(
                &folder,
                threshold,
                &plan,
                &results,
                &temp,
                selected.len() as u64,
            )
        });
        if manifest.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        (plan, manifest)
    })
    .await
    .map_err(Error::Task)?;
    let built = open_built(&dir, &plan, manifest?)?;
    Ok((plan, built))
}

/// Builds (or reuses) a microdata table for the checked (and, for an evaluator, scoped)
/// filters `f`, one territory at a time, with the pseudonyms of `f.projet`.
pub async fn build_micro<C: Context>(
    ctx: &C,
    table: MicroTable,
    f: &MicroFilters,
) -> Result<(Plan, Built)> {
    let results = ctx.results();
    let key = project_key(ctx.export_key(), &f.projet);
    let micro = Microdata::open(ctx.warehouse(), table, key)
        .await
        .map_err(Error::Microdata)?;
    let mut versions = versions_of(&results);
    versions.insert(
        format!("version_table_{}", table.name()),
        json!(micro.version()),
    );
    let threshold = ctx.threshold();
    let plan = Plan {
        kind: Kind::Micro(table),
        format: Format::Parquet,
        versions: Value::Object(versions),
        filtres: f.json(),
        projet: Some(f.projet.clone()),
        query: f.query_string(),
        key: String::new(),
    }
    .keyed(threshold, Some(&key_fingerprint(&key)));
    let dir = ctx.exports_dir().to_path_buf();
    ensure_dir(&dir)?;
    if let Some(b) = existing(&dir, &plan) {
        return Ok((plan, b));
    }
    let temp = plan.temp_path(&dir, "donnees");
    let export = table.name();
    let written = async {
        let io = |e| write_error(export, e);
        let file = File::create(&temp).map_err(io)?;
        let mut writer =
            ArrowWriter::try_new(file, micro.schema(), Some(parquet::parquet_properties()))
                .map_err(|e| write_error(export, e))?;
        let mut rows = 0u64;
        for t in f.territories(ctx.register()) {
            let mut sink = |b: RecordBatch| writer.write(&b).map_err(|e| e.to_string());
            rows += micro
                .write_territory(&t, &mut sink)
                .await
                .map_err(|e| write_error(export, e))?;
        }
        writer.close().map_err(|e| write_error(export, e))?;
        File::open(&temp).and_then(|f| f.sync_all()).map_err(io)?;
        finish(&dir, threshold, &plan, &results, &temp, rows)
    }
    .await;
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    let built = open_built(&dir, &plan, manifest)?;
    Ok((plan, built))
}

/// Checks the parameters of a microdata export (unknown ones refused, then the project's name
/// and filters), before the caller scopes them to a declared project.
pub fn micro_filters<C: Context>(
    ctx: &C,
    q: &HashMap<String, String>,
    file_name: &str,
) -> Result<MicroFilters> {
    refuse_unknown(q, MICRO_PARAMS, file_name)?;
    MicroFilters::check(q, ctx.register())
}
