//! Reading the materialised indicators back, and writing figures the French way.

use chrono::NaiveDate;
use copil_warehouse::{INDICATEURS, Warehouse};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::catalogue::Sorte;
use crate::model::{Cell, Niveau};
use crate::{Error, Result};

/// The published cells of one indicator, optionally for one territory (waves and the nation
/// are always kept) and one month.
pub async fn read(
    warehouse: &Warehouse,
    indicator: &str,
    territoire: Option<&str>,
    mois: Option<NaiveDate>,
) -> Result<Vec<Cell>> {
    let ctx = SessionContext::new();
    let table = warehouse.load(&INDICATEURS).await?;
    warehouse.register_table(&ctx, &INDICATEURS, &table).await?;
    let params = vec![
        ScalarValue::from(indicator),
        ScalarValue::from(territoire.unwrap_or("")),
        ScalarValue::from(mois.map(|m| m.to_string()).unwrap_or_default()),
    ];
    let batches = crate::sql::collect(
        &ctx,
        indicator,
        include_str!("../sql/indicateur.sql"),
        params,
    )
    .await?;
    cells_of(&batches, indicator)
}

/// Every published cell of the materialised table, attacked by [`crate::secrecy::audit`].
pub async fn audit_published(
    warehouse: &Warehouse,
    catalogue: &crate::Catalogue,
    register: &copil_warehouse::Register,
    rules: &crate::secrecy::Rules,
) -> Result<crate::secrecy::Audit> {
    let ctx = SessionContext::new();
    let table = warehouse.load(&INDICATEURS).await?;
    warehouse.register_table(&ctx, &INDICATEURS, &table).await?;
    let batches = crate::sql::collect(
        &ctx,
        "indicateurs",
        include_str!("../sql/indicateurs_tous.sql"),
        Vec::new(),
    )
    .await?;
    let cells = cells_of(&batches, "indicateurs")?;
    Ok(crate::secrecy::audit(&cells, catalogue, register, rules))
}

/// Cells from batches with the columns of `sql/indicateur.sql`, in that order.
pub(crate) fn cells_of(
    batches: &[datafusion::arrow::array::RecordBatch],
    indicator: &str,
) -> Result<Vec<Cell>> {
    let mut out = Vec::new();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    for b in batches {
        let col = |i: usize, t: &DataType| {
            cast(b.column(i), t).map_err(|e| Error::Query {
                indicator: indicator.to_string(),
                message: e.to_string(),
            })
        };
        let texts: Vec<_> = [0, 1, 2, 4, 5]
            .iter()
            .map(|&i| col(i, &DataType::Utf8))
            .collect::<Result<_>>()?;
        let mois = col(3, &DataType::Date32)?;
        let longs: Vec<_> = (6..9)
            .map(|i| col(i, &DataType::Int64))
            .collect::<Result<_>>()?;
        let doubles: Vec<_> = (9..15)
            .map(|i| col(i, &DataType::Float64))
            .collect::<Result<_>>()?;
        let secret = b.column(15).as_boolean();
        let counts: Vec<_> = (16..18)
            .map(|i| col(i, &DataType::Int64))
            .collect::<Result<_>>()?;
        let couverture = col(18, &DataType::Float64)?;
        let provisoire = b.column(19).as_boolean();
        let s = |k: usize, i: usize| texts[k].as_string::<i32>().value(i).to_string();
        let l = |k: usize, i: usize| {
            let a = longs[k].as_primitive::<Int64Type>();
            (!a.is_null(i)).then(|| a.value(i))
        };
        let d = |k: usize, i: usize| {
            let a = doubles[k].as_primitive::<Float64Type>();
            (!a.is_null(i)).then(|| a.value(i))
        };
        for i in 0..b.num_rows() {
            let niveau = match s(1, i).as_str() {
                "territoire" => Niveau::Territoire,
                "vague" => Niveau::Vague,
                _ => Niveau::National,
            };
            out.push(Cell {
                indicateur: s(0, i),
                niveau,
                code: s(2, i),
                mois: epoch + chrono::Days::new(mois.as_primitive::<Date32Type>().value(i) as u64),
                ventilation: s(3, i),
                modalite: s(4, i),
                numerateur: l(0, i),
                denominateur: l(1, i),
                personnes: l(2, i),
                valeur: d(0, i),
                ic_bas: d(1, i),
                ic_haut: d(2, i),
                q1: d(3, i),
                q3: d(4, i),
                moyenne: d(5, i),
                secret: secret.value(i),
                territoires: {
                    let a = counts[0].as_primitive::<Int64Type>();
                    (!a.is_null(i)).then(|| a.value(i))
                },
                territoires_attendus: {
                    let a = counts[1].as_primitive::<Int64Type>();
                    (!a.is_null(i)).then(|| a.value(i))
                },
                couverture: {
                    let a = couverture.as_primitive::<Float64Type>();
                    (!a.is_null(i)).then(|| a.value(i))
                },
                provisoire: provisoire.value(i),
            });
        }
    }
    Ok(out)
}

pub use copil_core::nombres::month_label;

/// Thousands separated by narrow no-break spaces, decimal comma.
fn french(x: f64, decimals: usize) -> String {
    copil_core::nombres::decimal(x, decimals).unwrap_or_else(|| "n.d.".into())
}

/// Days, with a decimal only when there is one (a median of an even count).
fn days(v: f64) -> String {
    french(v, if v.fract() == 0.0 { 0 } else { 1 })
}

/// A cell's value as users read it: « secret », « 1 234 », « 45,2 % », « 51 j ».
pub fn format_value(sorte: Sorte, cell: &Cell) -> String {
    if cell.secret {
        return "secret".into();
    }
    match (sorte, cell.valeur) {
        (_, None) => "—".into(),
        (Sorte::Volume, Some(v)) => french(v, 0),
        (Sorte::Taux, Some(v)) => format!("{} %", french(v * 100.0, 1)),
        (Sorte::Delai, Some(v)) => format!("{} j", days(v)),
    }
}

/// A share's 95 % interval, « [40,1 % ; 47,9 %] », or a delay's quartiles, « Q1 20 j – Q3 90 j ».
pub fn format_spread(sorte: Sorte, cell: &Cell) -> String {
    match (sorte, cell.ic_bas, cell.ic_haut, cell.q1, cell.q3) {
        (Sorte::Taux, Some(lo), Some(hi), _, _) => format!(
            "[{} % ; {} %]",
            french(lo * 100.0, 1),
            french(hi * 100.0, 1)
        ),
        (Sorte::Delai, _, _, Some(q1), Some(q3)) => {
            format!("Q1 {} j – Q3 {} j", days(q1), days(q3))
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers() {
        assert_eq!(french(1234567.0, 0), "1\u{202f}234\u{202f}567");
        assert_eq!(french(45.25, 1), "45,2");
        assert_eq!(french(-3.5, 1), "\u{2212}3,5");
        assert_eq!(french(999.0, 0), "999");
    }
}
