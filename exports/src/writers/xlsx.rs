//! The XLSX writer of the indicator table.

use std::fs::File;
use std::path::Path;

use copil_queries::Results;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format as XFormat, Workbook};

use crate::dictionary::Column;
use crate::error::{Result, indicators_write as io};
use crate::rows::{Row, figures, texts};

/// Writes the indicator table as an XLSX workbook (one sheet, constant memory) whose
/// properties are fixed: the creation date is the results' computation.
pub(crate) fn write_xlsx(
    path: &Path,
    rows: &[Row<'_>],
    columns: &[Column],
    results: &Results,
) -> Result<()> {
    let mut workbook = Workbook::new();
    // Fixed properties: the creation date is the results' computation, never the build's.
    let at = results
        .calcule_le
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let created = ExcelDateTime::parse_from_str(&at)
        .or_else(|_| ExcelDateTime::from_ymd(2020, 1, 1))
        .map_err(io)?;
    workbook.set_properties(
        &DocProperties::new()
            .set_title("Copil : indicateurs du SPIE")
            .set_author("Copil")
            .set_company("Service public de l'insertion et de l'emploi")
            .set_comment(format!(
                "indicateurs v{}, evenements v{}, depots v{} ; secret statistique appliqué",
                results.version, results.version_evenements, results.version_depots
            ))
            .set_creation_datetime(&created),
    );
    let bold = XFormat::new().set_bold();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(io)?;
    sheet.set_name("indicateurs").map_err(io)?;
    for (i, c) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(0, i as u16, c.name, &bold)
            .map_err(io)?;
    }
    for (k, r) in rows.iter().enumerate() {
        let row = u32::try_from(k + 1).map_err(io)?;
        for (i, t) in texts(r).iter().enumerate() {
            if !t.is_empty() {
                sheet.write_string(row, i as u16, t).map_err(io)?;
            }
        }
        let f = figures(r.ind, r.cell);
        let numbers = [
            f.valeur,
            f.numerateur.map(|v| v as f64),
            f.denominateur.map(|v| v as f64),
            f.personnes.map(|v| v as f64),
            f.ic_bas,
            f.ic_haut,
            f.q1,
            f.q3,
            f.moyenne,
        ];
        for (i, n) in numbers.iter().enumerate() {
            if let Some(n) = n {
                sheet.write_number(row, (9 + i) as u16, *n).map_err(io)?;
            }
        }
        sheet.write_boolean(row, 18, f.secret).map_err(io)?;
        sheet
            .write_boolean(row, 19, r.cell.provisoire)
            .map_err(io)?;
        for (i, n) in [
            r.cell.territoires.map(|v| v as f64),
            r.cell.territoires_attendus.map(|v| v as f64),
            r.cell.couverture,
        ]
        .iter()
        .enumerate()
        {
            if let Some(n) = n {
                sheet.write_number(row, (20 + i) as u16, *n).map_err(io)?;
            }
        }
    }
    workbook.save(path).map_err(io)?;
    File::open(path).and_then(|f| f.sync_all()).map_err(io)
}
