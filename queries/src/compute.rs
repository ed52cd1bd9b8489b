//! Computing the catalogue: each indicator's query gives territory cells; they are pooled into
//! waves and the nation (sums of numerators and denominators, merged delay distributions), then
//! statistical secrecy is applied.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use copil_warehouse::Register;
use datafusion::arrow::array::{Array, AsArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use futures::StreamExt;

use crate::catalogue::{Catalogue, Indicator, Sorte};
use crate::secrecy::{self, Rules};
use crate::sql::collect as query;
use crate::{Error, Result};

use crate::model::Accs;
pub use crate::model::{Cell, Extent, Niveau, RELATIF};

/// Each territory's extent, from `depots` and `evenements`.
pub(crate) async fn extents(ctx: &SessionContext) -> Result<BTreeMap<String, Extent>> {
    let batches = query(
        ctx,
        "etendue",
        include_str!("../sql/etendue.sql"),
        Vec::new(),
    )
    .await?;
    let extractions = territory_dates(&batches, "etendue", "date_extraction")?;
    let firsts = territory_dates(&batches, "etendue", "premier_mois")?;
    Ok(extractions
        .into_iter()
        .filter_map(|(t, extraction)| {
            let premier_mois = *firsts.get(&t)?;
            Some((
                t,
                Extent {
                    extraction,
                    premier_mois,
                },
            ))
        })
        .collect())
}

/// Above this many territories, their first months are read in one scan of every event rather
/// than one query per territory's partition.
const FIRST_MONTHS_ONE_BY_ONE: usize = 8;

/// Each territory's extraction date of its drop in force (the small `depots` table only).
pub(crate) async fn extractions(ctx: &SessionContext) -> Result<BTreeMap<String, NaiveDate>> {
    let sql = include_str!("../sql/extractions.sql");
    let batches = query(ctx, "extractions", sql, Vec::new()).await?;
    territory_dates(&batches, "extractions", "date_extraction")
}

/// The first month with an event of each of `territories` that has one: a few territories
/// read only their own partitions (an incremental refresh, issue 16), many read every event
/// once ([`extents`]).
pub(crate) async fn first_months(
    ctx: &SessionContext,
    territories: &[&str],
) -> Result<BTreeMap<String, NaiveDate>> {
    if territories.len() > FIRST_MONTHS_ONE_BY_ONE {
        let wanted: std::collections::BTreeSet<&str> = territories.iter().copied().collect();
        return Ok(extents(ctx)
            .await?
            .into_iter()
            .filter(|(t, _)| wanted.contains(t.as_str()))
            .map(|(t, e)| (t, e.premier_mois))
            .collect());
    }
    let mut out = BTreeMap::new();
    for t in territories {
        let sql = include_str!("../sql/premier_mois.sql");
        let param = vec![ScalarValue::Utf8(Some(t.to_string()))];
        let batches = query(ctx, "premier_mois", sql, param).await?;
        out.extend(territory_dates(&batches, "premier_mois", "premier_mois")?);
    }
    Ok(out)
}

/// The date in column `col` of each territory (column `territoire`) of `batches`, rows with a
/// null left out.
fn territory_dates(
    batches: &[RecordBatch],
    what: &str,
    col: &str,
) -> Result<BTreeMap<String, NaiveDate>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let mut out = BTreeMap::new();
    for b in batches {
        let t = as_type(column(b, "territoire", what)?, &DataType::Utf8, what)?;
        let d = as_type(column(b, col, what)?, &DataType::Date32, what)?;
        let (t, d) = (t.as_string::<i32>(), d.as_primitive::<Date32Type>());
        for i in 0..b.num_rows() {
            if !t.is_null(i) && !d.is_null(i) {
                out.insert(
                    t.value(i).to_string(),
                    epoch + chrono::Days::new(d.value(i) as u64),
                );
            }
        }
    }
    Ok(out)
}

fn column<'a>(
    b: &'a RecordBatch,
    name: &str,
    indicator: &str,
) -> Result<&'a std::sync::Arc<dyn Array>> {
    b.column_by_name(name).ok_or_else(|| Error::Query {
        indicator: indicator.to_string(),
        message: format!("colonne « {name} » absente du résultat"),
    })
}

fn as_type(
    a: &std::sync::Arc<dyn Array>,
    t: &DataType,
    indicator: &str,
) -> Result<std::sync::Arc<dyn Array>> {
    cast(a, t).map_err(|e| Error::Query {
        indicator: indicator.to_string(),
        message: e.to_string(),
    })
}

/// Creates the shared views the catalogue's queries use.
pub async fn create_views(ctx: &SessionContext) -> Result<()> {
    views(ctx, None).await
}

/// Replaces table or view `name` of `ctx` by its rows in memory, so the queries that read it
/// afterwards do not compute it again.
async fn materialise(ctx: &SessionContext, name: &str) -> Result<()> {
    materialise_with(ctx, name, None).await
}

/// Pseudonyms recoded as integers, by a fast hash (the pseudonyms are already keyed hashes).
type People = datafusion::common::HashMap<String, i64>;

/// [`materialise`]; with `people`, the `personne` column (a 32-character pseudonym) is recoded
/// as an integer, the same for a person in every table recoded with the same map. The
/// queries only compare, group and count people, which integers do several times faster and
/// in a fraction of the memory; no figure changes.
async fn materialise_with(
    ctx: &SessionContext,
    name: &str,
    people: Option<&mut People>,
) -> Result<()> {
    let q = |e: datafusion::error::DataFusionError| Error::Query {
        indicator: format!("vue {name}"),
        message: e.to_string(),
    };
    let df = ctx.table(name).await.map_err(q)?;
    let mut schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let mut batches = df.collect().await.map_err(q)?;
    if let (Some(map), Ok(i)) = (people, schema.index_of("personne")) {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[i] = Field::new("personne", DataType::Int64, fields[i].is_nullable());
        let recoded =
            std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let mut out = Vec::with_capacity(batches.len());
        for b in &batches {
            let text = cast(b.column(i), &DataType::Utf8).map_err(|e| q(e.into()))?;
            let text = text.as_string::<i32>();
            let ids: Int64Array = (0..text.len())
                .map(|r| {
                    (!text.is_null(r)).then(|| {
                        let next = map.len() as i64;
                        *map.entry_ref(text.value(r)).or_insert(next)
                    })
                })
                .collect();
            let mut columns = b.columns().to_vec();
            columns[i] = std::sync::Arc::new(ids);
            out.push(RecordBatch::try_new(recoded.clone(), columns).map_err(|e| q(e.into()))?);
        }
        schema = recoded;
        batches = out;
    }
    // Dictionary columns (the Delta scan gives the partition column `territoire` so) become
    // plain ones: the joins and groupings on them then take DataFusion's column-wise paths
    // instead of its row-encoded ones (issue 16).
    if schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
    {
        let plain = |t: &DataType| match t {
            DataType::Dictionary(_, value) => value.as_ref().clone(),
            other => other.clone(),
        };
        let fields: Vec<Field> = schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_data_type(plain(f.data_type())))
            .collect();
        let flat =
            std::sync::Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        let mut out = Vec::with_capacity(batches.len());
        for b in &batches {
            let columns = b
                .columns()
                .iter()
                .map(|c| cast(c, &plain(c.data_type())))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| q(e.into()))?;
            out.push(RecordBatch::try_new(flat.clone(), columns).map_err(|e| q(e.into()))?);
        }
        schema = flat;
        batches = out;
    }
    // As many partitions as the session runs in parallel, so reading it stays parallel.
    let n = ctx.copied_config().target_partitions().max(1);
    let mut partitions = vec![Vec::new(); n];
    for (i, b) in batches.into_iter().enumerate() {
        partitions[i % n].push(b);
    }
    let table = MemTable::try_new(schema, partitions).map_err(q)?;
    ctx.deregister_table(name).map_err(q)?;
    ctx.register_table(name, std::sync::Arc::new(table))
        .map_err(q)?;
    Ok(())
}

/// How many times `text` names `name` as a whole word.
fn names(text: &str, name: &str) -> usize {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(name)
        .filter(|(i, _)| {
            !word(text[..*i].chars().next_back()) && !word(text[i + name.len()..].chars().next())
        })
        .count()
}

/// The statements of `vues.sql`, comments removed.
fn view_statements() -> Vec<String> {
    include_str!("../sql/vues.sql")
        .split("\n;\n")
        .map(|statement| {
            statement
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|body| !body.trim().is_empty())
        .collect()
}

/// The name a `CREATE OR REPLACE VIEW name AS` statement defines.
fn view_name(body: &str) -> Option<&str> {
    body.split_whitespace()
        .skip_while(|w| !w.eq_ignore_ascii_case("VIEW"))
        .nth(1)
}

/// Runs `vues.sql`. With a catalogue, each view read at least twice by the later statements
/// and queries (two references in one statement count twice) is computed once, right after its creation, and kept in memory, so what follows
/// reads its rows instead of computing it again (the file lists the views in dependency
/// order); a view read once stays a view, computed where it is read.
async fn views(ctx: &SessionContext, catalogue: Option<&Catalogue>) -> Result<()> {
    let statements = view_statements();
    for (k, body) in statements.iter().enumerate() {
        ctx.sql(body).await.map_err(|e| Error::Query {
            indicator: "vues".into(),
            message: e.to_string(),
        })?;
        let Some(catalogue) = catalogue else {
            continue;
        };
        let name = view_name(body).ok_or_else(|| Error::Query {
            indicator: "vues".into(),
            message: format!("instruction sans vue nommée : {body}"),
        })?;
        // References, not statements: a statement reading a view twice (a join of it with
        // itself, a union) would compute it twice (issue 16).
        let readers: usize = statements[k + 1..]
            .iter()
            .map(String::as_str)
            .chain(catalogue.iter().map(|i| i.sql))
            .map(|text| names(text, name))
            .sum();
        if readers >= 2 {
            materialise(ctx, name).await?;
        }
    }
    Ok(())
}

async fn territory_rows(ctx: &SessionContext, ind: &Indicator, out: &mut Accs) -> Result<()> {
    let batches = crate::sql::collect(ctx, &ind.id, ind.sql, Vec::new()).await?;
    for b in &batches {
        let territoire = as_type(column(b, "territoire", &ind.id)?, &DataType::Utf8, &ind.id)?;
        let mois = as_type(column(b, "mois", &ind.id)?, &DataType::Date32, &ind.id)?;
        let ventilation = as_type(column(b, "ventilation", &ind.id)?, &DataType::Utf8, &ind.id)?;
        let modalite = as_type(column(b, "modalite", &ind.id)?, &DataType::Utf8, &ind.id)?;
        let (territoire, mois) = (
            territoire.as_string::<i32>(),
            mois.as_primitive::<Date32Type>(),
        );
        let (ventilation, modalite) = (ventilation.as_string::<i32>(), modalite.as_string::<i32>());
        let long = |name: &str| -> Result<std::sync::Arc<dyn Array>> {
            as_type(column(b, name, &ind.id)?, &DataType::Int64, &ind.id)
        };
        let (a, c, p) = match ind.sorte {
            Sorte::Delai => (long("jours")?, long("personnes")?, long("personnes")?),
            _ => (
                long("numerateur")?,
                long("denominateur")?,
                long("personnes")?,
            ),
        };
        let (a, c, p) = (
            a.as_primitive::<Int64Type>(),
            c.as_primitive::<Int64Type>(),
            p.as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            let t = territoire.value(i);
            let m = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
                + chrono::Days::new(mois.value(i) as u64);
            let (v, md) = (
                ventilation.value(i).to_string(),
                if modalite.is_null(i) {
                    String::new()
                } else {
                    modalite.value(i).to_string()
                },
            );
            // Territory rows only: waves and the nation are pooled afterwards, from the
            // territories whose month is complete (see `assemble`).
            let keys = [(Niveau::Territoire, t.to_string(), m, v, md)];
            for key in keys {
                let acc = out.entry(key).or_default();
                match ind.sorte {
                    Sorte::Delai => {
                        *acc.histogram.entry(a.value(i)).or_default() += c.value(i);
                    }
                    _ => {
                        acc.num += a.value(i);
                        acc.den += c.value(i);
                        acc.people += p.value(i);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Rows of events computed together at most (a territory larger than this is computed alone):
/// each group's events are read into memory, its shared views computed once and kept, and its
/// queries run on them, so memory is bounded by the groups in flight, not the nation.
///
/// Each group also pays a fixed cost (its views created and planned, its sixteen queries
/// planned: about 0.2 s). Measured at scale 1 (`calculer --complet`, 2 cores): 1 M rows,
/// 26.3 to 27.9 s and 1 525 MiB at most; 1.5 M, 25.0 to 25.3 s and 1 605 MiB; 2 M, 23.9 s but
/// up to 1 926 MiB, too near the 2 GiB budget (issue 16).
const GROUP_ROWS: i64 = 1_500_000;

/// Groups computed at the same time.
const GROUPS_AT_ONCE: usize = 2;

/// Rows landed per territory by its drop in force (empty if `depots` cannot tell).
async fn volumes(ctx: &SessionContext) -> HashMap<String, i64> {
    let Ok(df) = ctx.sql(include_str!("../sql/volumes.sql")).await else {
        return HashMap::new();
    };
    let Ok(batches) = df.collect().await else {
        return HashMap::new();
    };
    let mut out = HashMap::new();
    for b in &batches {
        let (Ok(t), Ok(n)) = (
            cast(b.column(0), &DataType::Utf8),
            cast(b.column(1), &DataType::Int64),
        ) else {
            continue;
        };
        let (t, n) = (t.as_string::<i32>(), n.as_primitive::<Int64Type>());
        for i in 0..b.num_rows() {
            if !t.is_null(i) && !n.is_null(i) {
                out.insert(t.value(i).to_string(), n.value(i));
            }
        }
    }
    out
}

/// Consecutive territories of the register, grouped up to [`GROUP_ROWS`] rows.
fn groups<'a>(all: &[&'a str], sizes: &HashMap<String, i64>) -> Vec<Vec<&'a str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut rows = 0;
    for t in all {
        let n = sizes.get(*t).copied().unwrap_or(0);
        match out.last_mut() {
            Some(g) if rows + n <= GROUP_ROWS => {
                g.push(t);
                rows += n;
            }
            _ => {
                out.push(vec![t]);
                rows = n;
            }
        }
    }
    out
}

/// A context where every table of `ctx` with a `territoire` column holds only `group`'s
/// territories (`None`: the territories outside the register). The filter reaches the Delta
/// scan, which then reads only those partitions.
async fn restricted(
    ctx: &SessionContext,
    group: Option<&[&str]>,
    all: &[&str],
) -> Result<SessionContext> {
    use datafusion::prelude::{Expr, col, lit};
    let q = |e: datafusion::error::DataFusionError| Error::Query {
        indicator: "vues".into(),
        message: e.to_string(),
    };
    let sub = SessionContext::new_with_config(ctx.copied_config());
    let names = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    for name in names {
        let Some(provider) = ctx.table_provider(name.as_str()).await.ok() else {
            continue;
        };
        if provider.schema().column_with_name("territoire").is_none() {
            sub.register_table(name.as_str(), provider).map_err(q)?;
            continue;
        }
        let list = |ids: &[&str]| -> Vec<Expr> { ids.iter().map(|t| lit(*t)).collect() };
        let filter = match group {
            Some(ids) => col("territoire").in_list(list(ids), false),
            None => col("territoire").in_list(list(all), true),
        };
        let view = sub
            .read_table(provider)
            .map_err(q)?
            .filter(filter)
            .map_err(q)?
            .into_view();
        sub.register_table(name.as_str(), view).map_err(q)?;
    }
    Ok(sub)
}

/// One group's territory rows of every indicator: the group's events are read once from
/// Parquet, then every shared view is computed once, and the queries read memory, bounded by
/// the group's size.
async fn group_rows(
    ctx: &SessionContext,
    group: Option<&[&str]>,
    all: &[&str],
    catalogue: &Catalogue,
) -> Result<Vec<Accs>> {
    let sub = restricted(ctx, group, all).await?;
    let mut people = People::default();
    materialise_with(&sub, "evenements", Some(&mut people)).await?;
    if sub.table_exist("personnes").unwrap_or(false) {
        materialise_with(&sub, "personnes", Some(&mut people)).await?;
    }
    views(&sub, Some(catalogue)).await?;
    let mut partial: Vec<Accs> = catalogue.iter().map(|_| Accs::default()).collect();
    for (ind, acc) in catalogue.iter().zip(partial.iter_mut()) {
        territory_rows(&sub, ind, acc).await?;
    }
    Ok(partial)
}

/// Computes every indicator of the catalogue from the tables registered in `ctx` (the
/// warehouse's tables; the views are created here), at every level, with secrecy applied
/// (threshold: no published cell covers fewer people).
///
/// Territories are computed by groups of up to `GROUP_ROWS` event rows, two groups at a time
/// (every indicator is a per-territory figure, pooled afterwards), which bounds memory at
/// national scale.
pub async fn compute(
    ctx: &SessionContext,
    catalogue: &Catalogue,
    register: &Register,
    rules: &Rules,
) -> Result<Vec<Cell>> {
    let all: Vec<&str> = register.iter().map(|t| t.id.as_str()).collect();
    let accs = territory_accs(ctx, catalogue, register, &all).await?;
    let extents = extents(ctx).await?;
    publish(catalogue, register, rules, accs, &extents)
}

/// The territory accumulators of every indicator, for the register's territories in `only`
/// and for every territory outside the register.
pub(crate) async fn territory_accs(
    ctx: &SessionContext,
    catalogue: &Catalogue,
    register: &Register,
    only: &[&str],
) -> Result<Vec<Accs>> {
    let all: Vec<&str> = register.iter().map(|t| t.id.as_str()).collect();
    // `depots` (a few rows per drop, one small file per commit) is read by every group: read
    // once here rather than its files opened again by each group (issue 16).
    if ctx.table_exist("depots").unwrap_or(false) {
        materialise(ctx, "depots").await?;
    }
    let grouped = groups(only, &volumes(ctx).await);
    let mut parts: Vec<Option<&[&str]>> = grouped.iter().map(|g| Some(g.as_slice())).collect();
    parts.push(None);
    let all = &all;
    // Two groups at a time: one group alone leaves a core idle a third of the time (single
    // partition steps, small joins), and two half-size groups hold the same memory.
    let mut accs: Vec<Accs> = catalogue.iter().map(|_| Accs::default()).collect();
    let pending: Vec<_> = parts
        .into_iter()
        .map(|group| group_rows(ctx, group, all, catalogue))
        .collect();
    let mut running = futures::stream::iter(pending).buffer_unordered(GROUPS_AT_ONCE);
    while let Some(partial) = running.next().await {
        for (acc, part) in accs.iter_mut().zip(partial?) {
            for (key, p) in part {
                acc.entry(key).or_default().add(&p);
            }
        }
    }
    Ok(accs)
}

/// The published cells from every territory's accumulators: pooled into waves and the
/// nation, then secrecy applied.
pub(crate) fn publish(
    catalogue: &Catalogue,
    register: &Register,
    rules: &Rules,
    accs: Vec<Accs>,
    extents: &BTreeMap<String, Extent>,
) -> Result<Vec<Cell>> {
    let mut cells = crate::pooling::assemble(catalogue, register, accs, extents, rules.coverage);
    secrecy::apply(&mut cells, catalogue, register, rules)?;
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_read_twice_or_more_are_found_by_whole_words() {
        assert_eq!(names("FROM dd_mois d", "dd_mois"), 1);
        assert_eq!(names("JOIN dd_mois", "dd_mois"), 1);
        assert_eq!(names("FROM dd_mois_bis", "dd_mois"), 0);
        assert_eq!(names("FROM vieux_dd_mois", "dd_mois"), 0);
        // A statement reading a view twice counts twice (issue 16).
        assert_eq!(
            names(
                "FROM dd_mois a JOIN dd_mois b ON a.x = b.x, dd_mois_bis",
                "dd_mois"
            ),
            2
        );
        let statements = view_statements();
        let defined: Vec<&str> = statements.iter().filter_map(|s| view_name(s)).collect();
        assert_eq!(
            defined.len(),
            statements.len(),
            "every statement defines a view"
        );
        assert!(defined.contains(&"orientations_dd"));
    }

    #[test]
    fn territories_are_grouped_up_to_the_row_budget() {
        let share = |percent: i64| GROUP_ROWS * percent / 100;
        let sizes: HashMap<String, i64> = [
            ("a", share(35)),
            ("b", share(50)),
            ("c", share(20)),
            ("d", share(200)),
            ("e", 10),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        // a + b = 85 % of the budget; adding c would pass it; d alone exceeds it; e (and f, of
        // unknown size) follow it in a new group.
        assert_eq!(
            groups(&["a", "b", "c", "d", "e", "f"], &sizes),
            vec![vec!["a", "b"], vec!["c"], vec!["d"], vec!["e", "f"]]
        );
        // Without sizes, everything is one group.
        assert_eq!(groups(&["a", "b"], &HashMap::new()), vec![vec!["a", "b"]]);
    }
}
