//! The CSV writer of the indicator table.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::dictionary::Column;
use crate::error::{Result, indicators_write as io};
use crate::quoting::csv_field;
use crate::rows::{Row, figures, num, texts};

/// Writes the indicator table as CSV: UTF-8 with BOM, `;`-separated, CRLF line ends, decimal
/// point.
pub(crate) fn write_csv(path: &Path, rows: &[Row<'_>], columns: &[Column]) -> Result<()> {
    let mut w = BufWriter::new(File::create(path).map_err(io)?);
    let mut line = String::from("\u{feff}");
    line.push_str(&columns.iter().map(|c| c.name).collect::<Vec<_>>().join(";"));
    line.push_str("\r\n");
    w.write_all(line.as_bytes()).map_err(io)?;
    for r in rows {
        line.clear();
        for (i, t) in texts(r).iter().enumerate() {
            if i > 0 {
                line.push(';');
            }
            csv_field(&mut line, t);
        }
        let f = figures(r.ind, r.cell);
        let numbers = [
            num(f.valeur),
            num(f.numerateur),
            num(f.denominateur),
            num(f.personnes),
            num(f.ic_bas),
            num(f.ic_haut),
            num(f.q1),
            num(f.q3),
            num(f.moyenne),
            f.secret.to_string(),
            r.cell.provisoire.to_string(),
            num(r.cell.territoires),
            num(r.cell.territoires_attendus),
            num(r.cell.couverture),
        ];
        for n in numbers {
            line.push(';');
            line.push_str(&n);
        }
        line.push_str("\r\n");
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    w.into_inner().map_err(io)?.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let mut s = String::new();
        csv_field(&mut s, "a;b \"c\"");
        csv_field(&mut s, "simple");
        assert_eq!(s, "\"a;b \"\"c\"\"\"simple");
    }
}
