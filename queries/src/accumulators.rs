//! The `accumulateurs` table (issue 16): each territory's counts (numerators, denominators,
//! people and delay histograms) per indicator, month and breakdown cell, stored with the
//! stamp of the data they come from. An incremental refresh reads back the territories whose
//! stamp has not changed and recomputes only the others; pooling and secrecy then run on the
//! whole, exactly as in a full refresh.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use copil_core::empreinte::Empreinte;
use copil_warehouse::{ACCUMULATEURS, EVENEMENTS, PERSONNES, Warehouse};
use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, AsArray, Date32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::prelude::SessionContext;

use crate::catalogue::{Catalogue, Sorte};
use crate::model::{Accs, Key, Niveau};
use crate::{Error, Result};

/// Each indicator's territory accumulators, in catalogue order.
pub(crate) type PerIndicator = Vec<Accs>;

/// What a territory's accumulators depend on besides its own rows: the views and every
/// indicator's query. A new catalogue changes every stamp, so everything is recomputed.
fn catalogue_fingerprint(catalogue: &Catalogue) -> Vec<u8> {
    let mut out = include_str!("../sql/vues.sql").as_bytes().to_vec();
    for i in catalogue.iter() {
        out.extend_from_slice(format!("\n--{}--{:?}--\n", i.id, i.sorte).as_bytes());
        out.extend_from_slice(i.sql.as_bytes());
    }
    out
}

/// The stamp of each territory's current data: its `evenements` and `personnes` files, the
/// extraction date of its drop in force, and the catalogue. Equal stamps, equal accumulators.
pub(crate) async fn stamps(
    warehouse: &Warehouse,
    catalogue: &Catalogue,
    territories: &[&str],
    extractions: &BTreeMap<String, NaiveDate>,
) -> Result<BTreeMap<String, String>> {
    let hash = Empreinte::new(b"copil-accumulateurs");
    let fingerprint = catalogue_fingerprint(catalogue);
    let mut out = BTreeMap::new();
    let events = warehouse.partition_files(&EVENEMENTS, territories).await?;
    let people = warehouse.partition_files(&PERSONNES, territories).await?;
    for t in territories {
        let events = events.get(*t).map(|p| p.join("\n")).unwrap_or_default();
        let people = people.get(*t).map(|p| p.join("\n")).unwrap_or_default();
        // The first month with an event follows from the files: not part of the stamp, so that
        // an unchanged territory's is read back rather than computed from every event.
        let extent = extractions
            .get(*t)
            .map(|x| format!("{x}"))
            .unwrap_or_default();
        let stamp = hash.hex128(&[
            &fingerprint,
            b"\0",
            t.as_bytes(),
            b"\0",
            events.as_bytes(),
            b"\0",
            people.as_bytes(),
            b"\0",
            extent.as_bytes(),
        ]);
        out.insert(t.to_string(), stamp);
    }
    Ok(out)
}

/// Each territory's stamp as its stored accumulators carry it (on their stamp-only row),
/// registered in `ctx` as `accumulateurs`: a few rows, so the territories to recompute are
/// known before the accumulators are read (and both run at once; issue 16).
pub(crate) async fn stored_stamps(ctx: &SessionContext) -> Result<HashMap<String, String>> {
    let batches = query(ctx, include_str!("../sql/empreintes_stockees.sql")).await?;
    let mut out = HashMap::new();
    for b in &batches {
        let texts = texts(b, &[0, 1])?;
        let (territoire, empreinte) = (texts[0].as_string::<i32>(), texts[1].as_string::<i32>());
        for i in 0..b.num_rows() {
            out.insert(
                territoire.value(i).to_string(),
                empreinte.value(i).to_string(),
            );
        }
    }
    Ok(out)
}

/// The batches of `sql` over the table.
async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    crate::sql::collect(ctx, "accumulateurs", sql, Vec::new()).await
}

/// The text `columns` of `b` as plain strings: the scan may give them as views or dictionaries
/// (the partition column).
fn texts(b: &RecordBatch, columns: &[usize]) -> Result<Vec<ArrayRef>> {
    columns
        .iter()
        .map(|&k| cast(b.column(k), &DataType::Utf8).map_err(|e| arrow_error(&e)))
        .collect()
}

fn arrow_error(e: &datafusion::arrow::error::ArrowError) -> Error {
    Error::Query {
        indicator: "accumulateurs".into(),
        message: e.to_string(),
    }
}

/// What the table holds for the territories kept: their accumulators.
#[derive(Default)]
pub(crate) struct Stored {
    /// Each territory's first month with an event, stored on its stamp-only row (`None`: no
    /// event).
    pub(crate) first_months: HashMap<String, Option<NaiveDate>>,
    pub(crate) accs: PerIndicator,
}

/// Reads the stored accumulators of the territories in `keep` (by territory, the stamp they
/// must carry), registered in `ctx` as `accumulateurs`. The rows are decoded on a blocking
/// thread, so that the caller's other queries go on meanwhile.
pub(crate) async fn read(
    ctx: &SessionContext,
    catalogue: &Catalogue,
    keep: HashMap<String, String>,
) -> Result<Stored> {
    let index: HashMap<String, (usize, Sorte)> = catalogue
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id.clone(), (k, i.sorte)))
        .collect();
    let indicators = catalogue.len();
    let batches = query(ctx, include_str!("../sql/accumulateurs.sql")).await?;
    tokio::task::spawn_blocking(move || decode(&batches, &index, indicators, &keep))
        .await
        .map_err(|e| Error::Query {
            indicator: "accumulateurs".into(),
            message: e.to_string(),
        })?
}

/// The rows of [`read`] (in `batches`) into accumulators.
fn decode(
    batches: &[RecordBatch],
    index: &HashMap<String, (usize, Sorte)>,
    indicators: usize,
    keep: &HashMap<String, String>,
) -> Result<Stored> {
    let mut out = Stored {
        first_months: HashMap::new(),
        accs: (0..indicators).map(|_| Accs::default()).collect(),
    };
    let q = |e: datafusion::arrow::error::ArrowError| arrow_error(&e);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    for b in batches {
        let texts = texts(b, &[0, 1, 2, 4, 5])?;
        let text = |k: usize| texts[k].as_string::<i32>();
        let (territoire, empreinte, indicateur) = (text(0), text(1), text(2));
        let mois = cast(b.column(3), &DataType::Date32).map_err(q)?;
        let mois = mois.as_primitive::<Date32Type>();
        let (ventilation, modalite) = (text(3), text(4));
        let long = |k: usize| b.column(k).as_primitive::<Int64Type>();
        let (num, den, people, days) = (long(6), long(7), long(8), long(9));
        let value = |a: &datafusion::arrow::array::Int64Array, i: usize| {
            if a.is_null(i) { 0 } else { a.value(i) }
        };
        for i in 0..b.num_rows() {
            let (t, stamp) = (territoire.value(i), empreinte.value(i));
            if keep.get(t).is_none_or(|s| s != stamp) {
                continue;
            }
            if indicateur.value(i).is_empty() {
                let first =
                    (!mois.is_null(i)).then(|| epoch + chrono::Days::new(mois.value(i) as u64));
                out.first_months.insert(t.to_string(), first);
                continue;
            }
            let Some((k, sorte)) = index.get(indicateur.value(i)) else {
                // The stamp-only row (or an indicator since removed: its stamp differs then).
                continue;
            };
            if mois.is_null(i) {
                continue;
            }
            let key: Key = (
                Niveau::Territoire,
                t.to_string(),
                epoch + chrono::Days::new(mois.value(i) as u64),
                ventilation.value(i).to_string(),
                modalite.value(i).to_string(),
            );
            let acc = out.accs[*k].entry(key).or_default();
            match sorte {
                Sorte::Delai => {
                    *acc.histogram.entry(value(days, i)).or_default() += value(people, i);
                }
                _ => {
                    acc.num += value(num, i);
                    acc.den += value(den, i);
                    acc.people += value(people, i);
                }
            }
        }
    }
    Ok(out)
}

/// Each indicator's keys by territory, sorted: grouped in one pass (looking for one territory's
/// keys among all of them, territory after territory, was quadratic: issue 16).
pub(crate) type ByTerritory<'a> = Vec<HashMap<&'a str, Vec<&'a Key>>>;

/// Groups the keys of `accs` by territory (see [`ByTerritory`]).
pub(crate) fn by_territory(accs: &PerIndicator) -> ByTerritory<'_> {
    accs.iter()
        .map(|a| {
            let mut m: HashMap<&str, Vec<&Key>> = HashMap::new();
            for k in a.keys() {
                m.entry(k.1.as_str()).or_default().push(k);
            }
            for keys in m.values_mut() {
                keys.sort();
            }
            m
        })
        .collect()
}

/// The rows of `territoire`'s accumulators (the file schema: without `territoire`), its
/// stamp-only row first, so that a territory without any cell keeps its stamp; `keys` is
/// [`by_territory`] of `accs`.
pub(crate) fn batch(
    territoire: &str,
    stamp: &str,
    first_month: Option<NaiveDate>,
    catalogue: &Catalogue,
    accs: &PerIndicator,
    keys: &ByTerritory<'_>,
) -> Result<RecordBatch> {
    let mut text: Vec<StringBuilder> = (0..4).map(|_| StringBuilder::new()).collect();
    let mut mois = Date32Builder::new();
    let mut longs: Vec<Int64Builder> = (0..4).map(|_| Int64Builder::new()).collect();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut row = |indicateur: &str,
                   key: Option<&Key>,
                   values: [Option<i64>; 4],
                   text: &mut Vec<StringBuilder>| {
        text[0].append_value(stamp);
        text[1].append_value(indicateur);
        match key {
            Some((_, _, m, v, md)) => {
                mois.append_value((*m - epoch).num_days() as i32);
                text[2].append_value(v);
                text[3].append_value(md);
            }
            None => {
                mois.append_null();
                text[2].append_value("");
                text[3].append_value("");
            }
        }
        for (b, v) in longs.iter_mut().zip(values) {
            b.append_option(v);
        }
    };
    // The stamp-only row carries the territory's first month with an event in `mois`.
    let first = first_month.map(|m| {
        (
            Niveau::Territoire,
            String::new(),
            m,
            String::new(),
            String::new(),
        )
    });
    row("", first.as_ref(), [None; 4], &mut text);
    for ((ind, accs), keys) in catalogue.iter().zip(accs).zip(keys) {
        for key in keys.get(territoire).into_iter().flatten().copied() {
            let acc = &accs[key];
            match ind.sorte {
                Sorte::Delai => {
                    for (days, n) in &acc.histogram {
                        row(
                            &ind.id,
                            Some(key),
                            [None, None, Some(*n), Some(*days)],
                            &mut text,
                        );
                    }
                }
                _ => row(
                    &ind.id,
                    Some(key),
                    [Some(acc.num), Some(acc.den), Some(acc.people), None],
                    &mut text,
                ),
            }
        }
    }
    let (mut t, mut l) = (arrays(text), arrays(longs));
    let next = |it: &mut dyn Iterator<Item = ArrayRef>| it.next().expect("built above");
    let (empreinte, indicateur) = (next(&mut t), next(&mut t));
    let columns: Vec<ArrayRef> = vec![
        empreinte,
        indicateur,
        Arc::new(mois.finish()),
        next(&mut t),
        next(&mut t),
        next(&mut l),
        next(&mut l),
        next(&mut l),
        next(&mut l),
    ];
    RecordBatch::try_new(ACCUMULATEURS.file_schema(), columns).map_err(|e| Error::Query {
        indicator: "accumulateurs".into(),
        message: e.to_string(),
    })
}

/// The arrays `builders` hold, in order.
pub(crate) fn arrays<B: ArrayBuilder>(builders: Vec<B>) -> impl Iterator<Item = ArrayRef> {
    builders.into_iter().map(|mut b| b.finish())
}
