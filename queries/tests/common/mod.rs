//! Building small warehouses by hand: events and drops as in-memory DataFusion tables with the
//! warehouse's own schemas.

#![allow(dead_code)]

use std::sync::Arc;

use chrono::NaiveDate;
use copil_queries::{Catalogue, Cell, Niveau, compute};
use copil_warehouse::{Departments, EVENEMENTS, Register};
use datafusion::arrow::array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn days(s: &str) -> i32 {
    (d(s) - d("1970-01-01")).num_days() as i32
}

/// One event: territory, person, date, event type and its attributes (column, value).
pub struct Ev {
    pub territoire: &'static str,
    pub personne: &'static str,
    pub date: &'static str,
    pub evenement: &'static str,
    pub attrs: Attrs,
}

pub const fn ev(
    territoire: &'static str,
    personne: &'static str,
    date: &'static str,
    evenement: &'static str,
    attrs: Attrs,
) -> Ev {
    Ev {
        territoire,
        personne,
        date,
        evenement,
        attrs,
    }
}

/// An event's attributes (column, value).
pub type Attrs = &'static [(&'static str, &'static str)];

/// The attributes that recur across the fixtures: an orientation (body, kind), an appointment
/// (type, status), a contract, an obstacle (type, intensity), an exit.
pub const FRANCE_TRAVAIL_PRO: Attrs = &[("organisme", "france_travail"), ("orientation", "pro")];
pub const DEPARTEMENT_SOCIAL: Attrs = &[
    ("organisme", "conseil_departemental"),
    ("orientation", "social"),
];
pub const ACCOMPAGNEMENT_HONORE: Attrs =
    &[("type_rdv", "accompagnement"), ("statut_rdv", "honore")];
pub const ACCOMPAGNEMENT_ABSENT: Attrs =
    &[("type_rdv", "accompagnement"), ("statut_rdv", "absent")];
pub const PPAE: Attrs = &[("type_contrat", "ppae")];
pub const CER: Attrs = &[("type_contrat", "cer")];
pub const MOBILITE_FORTE: Attrs = &[("type_frein", "mobilite"), ("intensite", "fort")];
pub const EMPLOI_DURABLE: Attrs = &[("type_sortie", "emploi_durable")];
pub const EMPLOI_TRANSITION: Attrs = &[("type_sortie", "emploi_transition")];

/// A session with `evenements` and `depots` (territory, extraction date, status) registered.
pub fn context(events: &[Ev], drops: &[(&str, &str, &str)]) -> SessionContext {
    let ctx = SessionContext::new();
    let schema = EVENEMENTS.schema();
    let n = events.len();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            let name = f.name().as_str();
            match name {
                "territoire" => Arc::new(StringArray::from(
                    events.iter().map(|e| e.territoire).collect::<Vec<_>>(),
                )),
                "personne" => Arc::new(StringArray::from(
                    events.iter().map(|e| e.personne).collect::<Vec<_>>(),
                )),
                "date" => Arc::new(Date32Array::from(
                    events.iter().map(|e| days(e.date)).collect::<Vec<_>>(),
                )),
                "evenement" => Arc::new(StringArray::from(
                    events.iter().map(|e| e.evenement).collect::<Vec<_>>(),
                )),
                "ligne" => Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>())),
                _ => Arc::new(StringArray::from(
                    events
                        .iter()
                        .map(|e| e.attrs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
                        .collect::<Vec<_>>(),
                )),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    ctx.register_table(
        "evenements",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap()),
    )
    .unwrap();
    let depots_schema = Arc::new(Schema::new(vec![
        Field::new("territoire", DataType::Utf8, false),
        Field::new("statut", DataType::Utf8, false),
        Field::new("date_extraction", DataType::Date32, true),
    ]));
    let depots = RecordBatch::try_new(
        depots_schema.clone(),
        vec![
            Arc::new(StringArray::from(
                drops.iter().map(|e| e.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                drops.iter().map(|e| e.2).collect::<Vec<_>>(),
            )),
            Arc::new(Date32Array::from(
                drops.iter().map(|e| days(e.1)).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    ctx.register_table(
        "depots",
        Arc::new(MemTable::try_new(depots_schema, vec![vec![depots]]).unwrap()),
    )
    .unwrap();
    ctx
}

/// The cells of a fixture, over a register of the fixture's territories only (a pooled cell
/// is published when its territories cover the level).
pub async fn cells(events: &[Ev], drops: &[(&str, &str, &str)], threshold: i64) -> Vec<Cell> {
    let rules = copil_queries::Rules {
        threshold,
        ..copil_queries::Rules::default()
    };
    cells_with(events, drops, &rules).await
}

/// [`cells`] under other rules.
#[allow(dead_code)]
pub async fn cells_with(
    events: &[Ev],
    drops: &[(&str, &str, &str)],
    rules: &copil_queries::Rules,
) -> Vec<Cell> {
    let ids: Vec<&str> = events.iter().map(|e| e.territoire).collect();
    let register = Register::builtin(&Departments::builtin()).only(&ids);
    compute(
        &context(events, drops),
        &Catalogue::builtin(),
        &register,
        rules,
    )
    .await
    .unwrap()
}

pub fn find<'a>(
    cells: &'a [Cell],
    ind: &str,
    code: &str,
    mois: &str,
    ventilation: &str,
    modalite: &str,
) -> Option<&'a Cell> {
    cells.iter().find(|c| {
        c.indicateur == ind
            && c.niveau
                == if code == "national" {
                    Niveau::National
                } else {
                    Niveau::Territoire
                }
            && c.code == code
            && c.mois == d(mois)
            && c.ventilation == ventilation
            && c.modalite == modalite
    })
}

/// (numerator, denominator) of a cell.
pub fn ratio(
    cells: &[Cell],
    ind: &str,
    code: &str,
    mois: &str,
    ventilation: &str,
    modalite: &str,
) -> Option<(i64, i64)> {
    find(cells, ind, code, mois, ventilation, modalite)
        .map(|c| (c.numerateur.unwrap(), c.denominateur.unwrap()))
}

/// The stock indicators recast as intervals (issue 16), each with its expanding formulation
/// kept as a reference (`queries/tests/reference/`).
pub const STOCKS: &[(&str, &str)] = &[
    (
        "beneficiaires_dd",
        include_str!("../reference/beneficiaires_dd.sql"),
    ),
    (
        "taux_orientation_stock",
        include_str!("../reference/taux_orientation_stock.sql"),
    ),
    (
        "part_france_travail",
        include_str!("../reference/part_france_travail.sql"),
    ),
    (
        "couverture_cer",
        include_str!("../reference/couverture_cer.sql"),
    ),
    (
        "sorties_emploi",
        include_str!("../reference/sorties_emploi.sql"),
    ),
    (
        "prevalence_freins",
        include_str!("../reference/prevalence_freins.sql"),
    ),
];

/// One territory row of an indicator: territory, month (days since 1970), breakdown, modality,
/// numerator, denominator, people.
pub type Row = (String, i32, String, String, i64, i64, i64);

/// The territory rows of `sql`, sorted.
pub async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Row> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{Date32Type, Int64Type};
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in &batches {
        let col = |name: &str, t: &DataType| cast(b.column_by_name(name).unwrap(), t).unwrap();
        let (t, m, v, md) = (
            col("territoire", &DataType::Utf8),
            col("mois", &DataType::Date32),
            col("ventilation", &DataType::Utf8),
            col("modalite", &DataType::Utf8),
        );
        let (n, dn, p) = (
            col("numerateur", &DataType::Int64),
            col("denominateur", &DataType::Int64),
            col("personnes", &DataType::Int64),
        );
        let (t, m, v, md) = (
            t.as_string::<i32>(),
            m.as_primitive::<Date32Type>(),
            v.as_string::<i32>(),
            md.as_string::<i32>(),
        );
        let (n, dn, p) = (
            n.as_primitive::<Int64Type>(),
            dn.as_primitive::<Int64Type>(),
            p.as_primitive::<Int64Type>(),
        );
        for i in 0..b.num_rows() {
            let text = |a: &datafusion::arrow::array::StringArray| {
                if a.is_null(i) {
                    String::new()
                } else {
                    a.value(i).to_string()
                }
            };
            out.push((
                t.value(i).to_string(),
                m.value(i),
                text(v),
                text(md),
                n.value(i),
                dn.value(i),
                p.value(i),
            ));
        }
    }
    out.sort();
    out
}

/// Issue 16: on the tables registered in `ctx` (`evenements`, `depots`), every stock indicator
/// of the catalogue gives exactly the territory rows of its expanding formulation. Returns the
/// rows compared.
pub async fn assert_stocks_match_expansion(ctx: &SessionContext) -> usize {
    copil_queries::create_views(ctx).await.unwrap();
    for statement in include_str!("../reference/vues_expansion.sql").split("\n;\n") {
        let body: Vec<&str> = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect();
        if !body.join("").trim().is_empty() {
            ctx.sql(&body.join("\n")).await.unwrap();
        }
    }
    let catalogue = Catalogue::builtin();
    let mut compared = 0;
    for (id, reference) in STOCKS {
        let new = rows(ctx, catalogue.get(id).unwrap().sql).await;
        let old = rows(ctx, reference).await;
        if new != old {
            let only_new: Vec<_> = new.iter().filter(|r| !old.contains(r)).take(10).collect();
            let only_old: Vec<_> = old.iter().filter(|r| !new.contains(r)).take(10).collect();
            panic!(
                "{id}: {} rows as intervals, {} expanded; only as intervals: {only_new:?}; only expanded: {only_old:?}",
                new.len(),
                old.len()
            );
        }
        compared += new.len();
    }
    compared
}
