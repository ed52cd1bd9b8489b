//! What becomes of each row of a drop, whichever thread read it: it is prepared (hashed,
//! validated, pseudonymised) on any thread, then taken in the file's order (duplicates,
//! people, rejects, Arrow batches, Parquet files), so that the output does not depend on the
//! number of threads.

use super::*;

/// The maps met once per row: hashbrown's randomly seeded hasher (SipHash, the standard
/// library's, took a tenth of the ingestion thread).
pub(super) type FastMap<K, V> = datafusion::common::HashMap<K, V>;

/// A row valid under the contract, with its person's pseudonym and whether it comes from a
/// NIR; or why it is refused, and which column.
pub(super) type Outcome =
    std::result::Result<(ValidRow, String, bool), (RejectReason, Option<&'static str>)>;

/// A row ready to be taken.
pub(super) struct Prepared {
    line: u64,
    hash: u128,
    outcome: Outcome,
}

/// Prepares rows; one per thread (the cache of pseudonyms is its own).
pub(super) struct Preparer<'a> {
    pub(super) layout: &'a Layout,
    pub(super) extraction: NaiveDate,
    pub(super) departments: &'a Departments,
    pub(super) pseudonymiser: &'a Pseudonymiser,
    pub(super) territoire: &'a str,
    pub(super) cache: FastMap<String, (Option<String>, String, bool)>,
    /// The row's bytes, hashed at once (kept between rows).
    pub(super) bytes: Vec<u8>,
}

impl Preparer<'_> {
    /// Hashes (for duplicates), validates and pseudonymises one row.
    pub(super) fn prepare<S: AsRef<str>>(&mut self, line: u64, row: &[S]) -> Prepared {
        // One pass over the row's bytes, each field followed by 0x1f: the digest of the same
        // bytes given field by field to a streaming hasher, at a fraction of its cost.
        self.bytes.clear();
        for f in row {
            self.bytes.extend_from_slice(f.as_ref().as_bytes());
            self.bytes.push(0x1f);
        }
        let hash = xxhash_rust::xxh3::xxh3_128(&self.bytes);
        let outcome = match validate(self.layout, row, self.extraction, self.departments) {
            Ok(v) => {
                let (key, from_nir) = match self.cache.get(&v.id) {
                    Some((nir, key, from_nir)) if *nir == v.nir => (key.clone(), *from_nir),
                    _ => {
                        let (key, from_nir) =
                            self.pseudonymiser
                                .person(self.territoire, &v.id, v.nir.as_deref());
                        self.cache
                            .insert(v.id.clone(), (v.nir.clone(), key.clone(), from_nir));
                        (key, from_nir)
                    }
                };
                Ok((v, key, from_nir))
            }
            Err(r) => Err((r.reason, r.column)),
        };
        Prepared {
            line,
            hash,
            outcome,
        }
    }
}

struct EventBatch {
    personne: StringBuilder,
    date: Date32Builder,
    evenement: StringBuilder,
    attrs: Vec<StringBuilder>,
    motif: StringBuilder,
    ligne: Int64Builder,
    len: usize,
}

impl EventBatch {
    fn new() -> Self {
        Self {
            personne: StringBuilder::new(),
            date: Date32Builder::new(),
            evenement: StringBuilder::new(),
            attrs: (0..9).map(|_| StringBuilder::new()).collect(),
            motif: StringBuilder::new(),
            ligne: Int64Builder::new(),
            len: 0,
        }
    }

    fn push(&mut self, personne: &str, v: &ValidRow, line: u64) {
        self.personne.append_value(personne);
        self.date.append_value(days(v.date));
        self.evenement.append_value(v.evenement);
        for (b, a) in self.attrs.iter_mut().zip(v.attrs.iter()) {
            b.append_option(*a);
        }
        self.motif.append_option(v.motif);
        self.ligne.append_value(line as i64);
        self.len += 1;
    }

    fn finish(&mut self) -> RecordBatch {
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.personne.finish()),
            Arc::new(self.date.finish()),
            Arc::new(self.evenement.finish()),
        ];
        cols.extend(
            self.attrs
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        cols.push(Arc::new(self.motif.finish()));
        cols.push(Arc::new(self.ligne.finish()));
        self.len = 0;
        RecordBatch::try_new(EVENEMENTS.file_schema(), cols).expect("events schema")
    }
}

#[derive(Default)]
struct RejectBatch {
    depot: StringBuilder,
    fichier: StringBuilder,
    ligne: Int64Builder,
    colonne: StringBuilder,
    motif: StringBuilder,
    len: usize,
}

impl RejectBatch {
    fn finish(&mut self) -> RecordBatch {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.depot.finish()),
            Arc::new(self.fichier.finish()),
            Arc::new(self.ligne.finish()),
            Arc::new(self.colonne.finish()),
            Arc::new(self.motif.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(REJETS.file_schema(), cols).expect("rejects schema")
    }
}

struct PersonRow {
    annee: i32,
    sexe: Option<&'static str>,
    departement: Option<String>,
    niveau: Option<&'static str>,
    situation: Option<&'static str>,
    cle_nir: bool,
}

/// Rows of an Arrow batch (and so of a Parquet write).
const BATCH: usize = 64 * 1024;

/// Takes the rows of a drop in the file's order, in bounded memory (but the people met).
pub(super) struct Sink<'a> {
    /// The drop's report, counted as rows are taken.
    pub(super) report: DropReport,
    pub(super) path: &'a Path,
    pub(super) limits: Limits,
    pub(super) started: Instant,
    pub(super) progress: &'a dyn Progress,
    pub(super) ev_writer: copil_warehouse::PartWriter,
    pub(super) re_writer: copil_warehouse::PartWriter,
    events: EventBatch,
    rejects: RejectBatch,
    seen: datafusion::common::HashSet<u128>,
    people: FastMap<String, PersonRow>,
    unreported: u64,
}

impl<'a> Sink<'a> {
    /// A sink writing events and rejects to these writers.
    pub(super) fn new(
        report: DropReport,
        path: &'a Path,
        limits: Limits,
        progress: &'a dyn Progress,
        writers: [copil_warehouse::PartWriter; 2],
    ) -> Self {
        let [ev_writer, re_writer] = writers;
        Self {
            report,
            path,
            limits,
            started: Instant::now(),
            progress,
            ev_writer,
            re_writer,
            events: EventBatch::new(),
            rejects: RejectBatch::default(),
            seen: Default::default(),
            people: FastMap::default(),
            unreported: 0,
        }
    }

    /// Takes the next row of the file; `Err` refuses the drop (a limit) or is a fault.
    pub(super) fn take(&mut self, row: Prepared) -> Result<()> {
        let Prepared {
            line,
            hash,
            outcome,
        } = row;
        let report = &mut self.report;
        report.lignes_lues += 1;
        self.unreported += 1;
        let limits = self.limits;
        let limit = |limit: Limit| Error::Limit {
            path: self.path.to_path_buf(),
            limit,
            value: limits.value(limit),
            line: Some(line),
        };
        if report.lignes_lues > limits.max_rows {
            return Err(limit(Limit::Rows));
        }
        if self.unreported == 16_384 {
            self.progress.rows(self.unreported);
            self.unreported = 0;
            if self.started.elapsed().as_secs() >= limits.max_parse_seconds {
                return Err(limit(Limit::ParseSeconds));
            }
        }
        // The first of identical rows stands; the others are duplicates, whatever they hold.
        let outcome = if self.seen.insert(hash) {
            outcome
        } else {
            Err((RejectReason::Doublon, None))
        };
        match outcome {
            Ok((v, key, from_nir)) => {
                self.events.push(&key, &v, line);
                self.people.entry(key).or_insert_with(|| PersonRow {
                    annee: v.annee_naissance,
                    sexe: v.sexe,
                    departement: v.departement,
                    niveau: v.niveau_formation,
                    situation: v.situation_familiale,
                    cle_nir: from_nir,
                });
                report.lignes_integrees += 1;
                if self.events.len >= BATCH {
                    self.ev_writer.write(&self.events.finish())?;
                }
            }
            Err((reason, column)) => {
                *report.rejets.entry(reason).or_default() += 1;
                let r = &mut self.rejects;
                r.depot.append_value(&report.depot);
                r.fichier.append_value(&report.fichier);
                r.ligne.append_value(line as i64);
                r.colonne.append_option(column);
                r.motif.append_value(reason.code());
                r.len += 1;
                if r.len >= BATCH {
                    self.re_writer.write(&r.finish())?;
                }
            }
        }
        Ok(())
    }

    /// Writes what is left and the people: the report (its count of people set on success)
    /// and the files of `evenements`, `personnes` and `rejets`.
    pub(super) fn finish(
        mut self,
        warehouse: &Warehouse,
        territoire: &str,
    ) -> (DropReport, Result<[Vec<StagedFile>; 3]>) {
        self.progress.rows(std::mem::take(&mut self.unreported));
        let last = self.flush();
        let Sink {
            mut report,
            ev_writer,
            re_writer,
            people,
            ..
        } = self;
        let files = last.and_then(|()| {
            let pe = write_people(warehouse, territoire, &people)?;
            let ev = ev_writer.finish()?.into_iter().collect();
            let re = re_writer.finish()?.into_iter().collect();
            Ok([ev, pe, re])
        });
        if files.is_ok() {
            report.personnes = people.len() as u64;
        }
        (report, files)
    }

    fn flush(&mut self) -> Result<()> {
        if self.events.len > 0 {
            self.ev_writer.write(&self.events.finish())?;
        }
        if self.rejects.len > 0 {
            self.re_writer.write(&self.rejects.finish())?;
        }
        Ok(())
    }
}

/// The people of a drop, by pseudonym, into a new data file of `personnes`.
fn write_people(
    warehouse: &Warehouse,
    territoire: &str,
    people: &FastMap<String, PersonRow>,
) -> Result<Vec<StagedFile>> {
    let mut pe_writer = warehouse.part_writer(&PERSONNES, Some(territoire))?;
    let mut keys: Vec<&String> = people.keys().collect();
    keys.sort();
    for chunk in keys.chunks(BATCH) {
        let (mut k, mut a, mut s, mut d, mut n, mut si, mut c) = (
            StringBuilder::new(),
            Int32Builder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
            BooleanBuilder::new(),
        );
        for key in chunk {
            let p = &people[*key];
            k.append_value(key);
            a.append_value(p.annee);
            s.append_option(p.sexe);
            d.append_option(p.departement.as_deref());
            n.append_option(p.niveau);
            si.append_option(p.situation);
            c.append_value(p.cle_nir);
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(k.finish()),
            Arc::new(a.finish()),
            Arc::new(s.finish()),
            Arc::new(d.finish()),
            Arc::new(n.finish()),
            Arc::new(si.finish()),
            Arc::new(c.finish()),
        ];
        pe_writer
            .write(&RecordBatch::try_new(PERSONNES.file_schema(), cols).expect("people schema"))?;
    }
    Ok(pe_writer.finish()?.into_iter().collect())
}
