//! Staging a drop: read, validate and pseudonymise it into new data files, in bounded
//! memory; nothing is committed here. A CSV is cut at record boundaries and its chunks are
//! prepared on every core (`parallel`); a workbook, or one thread, reads row by row. Both
//! give the same rows, rejects, line numbers and files.

use super::parallel;
use super::rows::{Preparer, Sink};
use super::*;
use crate::DropFormat;
use crate::source::Chunks;

impl Ingestor {
    /// Reads, validates and pseudonymises a drop into new data files. `Err` carries the
    /// reason to refuse the drop whole.
    pub(super) fn stage(
        &self,
        territoire: &str,
        name: &DropName,
        path: &Path,
        mut report: DropReport,
        progress: &dyn Progress,
    ) -> std::result::Result<Staged, Stop> {
        // The drop's content is refused; a fault of the machine leaves it for the next run.
        let fail = |report: DropReport, e: Error| {
            Err(if e.is_fault() {
                Stop::Fault(Box::new((report, e)))
            } else {
                Stop::Refuse(Box::new((report, e.to_string())))
            })
        };
        let limits = self.limits;
        let threads = self.drop_threads();
        let chunked = threads > 1 && name.format != DropFormat::Xlsx;
        let opened = if chunked {
            Chunks::open(path, name.format, &limits)
                .map(|(h, d, c)| (h, d, Source::Chunks(Box::new(c))))
        } else {
            Records::open(path, name.format, &limits).map(|(h, d, r)| (h, d, Source::Rows(r)))
        };
        let (header, detected, source) = match opened {
            Ok(x) => x,
            Err(e) => return fail(report, e),
        };
        report.encodage = Some(detected.encodage.to_string());
        report.separateur = detected.separateur;
        let layout = match Layout::from_header(&header) {
            Ok(l) => l,
            Err(missing) => {
                let msg = format!(
                    "colonnes obligatoires absentes de l'en-tête : {}",
                    missing.join(", ")
                );
                return Err(Stop::Refuse(Box::new((report, msg))));
            }
        };
        report.colonnes_ignorees = layout.ignored.clone();
        report.identifiants_ignores = layout.identifiers.clone();

        let wh = &self.warehouse;
        let open = |def, report: &DropReport| {
            wh.part_writer(def, Some(territoire))
                .map_err(|e| Stop::Fault(Box::new((report.clone(), e.into()))))
        };
        let writers = [open(&EVENEMENTS, &report)?, open(&REJETS, &report)?];
        let mut sink = Sink::new(report, path, limits, progress, writers);
        let preparer = || Preparer {
            layout: &layout,
            extraction: name.extraction,
            departments: &self.departments,
            pseudonymiser: &self.pseudonymiser,
            territoire,
            cache: rows::FastMap::default(),
            bytes: Vec::new(),
        };
        let read = match source {
            Source::Chunks(chunks) => parallel::run(*chunks, threads, &mut sink, preparer),
            Source::Rows(mut records) => {
                let mut preparer = preparer();
                records.each_row(|line, row| sink.take(preparer.prepare(line, row)))
            }
        };
        if let Err(e) = read {
            return fail(sink.report, e);
        }
        match sink.finish(&self.warehouse, territoire) {
            (report, Ok(files)) => Ok(Staged { files, report }),
            (report, Err(e)) => fail(report, e),
        }
    }
}

/// Where a drop's rows come from.
enum Source {
    /// A CSV's chunks, prepared on every core.
    Chunks(Box<Chunks>),
    /// Row by row, on this thread.
    Rows(Records),
}
