//! Staging a drop: read, validate and pseudonymise it into new data files, in bounded
//! memory; nothing is committed here.

use super::*;

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

struct PersonRow {
    annee: i32,
    sexe: Option<&'static str>,
    departement: Option<String>,
    niveau: Option<&'static str>,
    situation: Option<&'static str>,
    cle_nir: bool,
}

const BATCH: usize = 64 * 1024;

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
        let started = Instant::now();
        // The drop's content is refused; a fault of the machine leaves it for the next run.
        let fail = |report: DropReport, e: Error| {
            Err(if e.is_fault() {
                Stop::Fault(Box::new((report, e)))
            } else {
                Stop::Refuse(Box::new((report, e.to_string())))
            })
        };
        let limits = self.limits;
        let (header, detected, mut records) = match Records::open(path, name.format, &limits) {
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
        let mut ev_writer = open(&EVENEMENTS, &report)?;
        let mut re_writer = open(&REJETS, &report)?;
        let mut events = EventBatch::new();
        let (mut re_depot, mut re_fichier, mut re_ligne, mut re_col, mut re_motif) = (
            StringBuilder::new(),
            StringBuilder::new(),
            Int64Builder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let mut re_len = 0usize;
        let mut seen: std::collections::HashSet<u128> = std::collections::HashSet::new();
        let mut people: HashMap<String, PersonRow> = HashMap::new();
        let mut cache: HashMap<String, (Option<String>, String, bool)> = HashMap::new();
        let mut row = Vec::new();
        let mut unreported = 0u64;
        let flush_rejects = |writer: &mut copil_warehouse::PartWriter,
                             b: (
            &mut StringBuilder,
            &mut StringBuilder,
            &mut Int64Builder,
            &mut StringBuilder,
            &mut StringBuilder,
        )|
         -> Result<()> {
            let cols: Vec<ArrayRef> = vec![
                Arc::new(b.0.finish()),
                Arc::new(b.1.finish()),
                Arc::new(b.2.finish()),
                Arc::new(b.3.finish()),
                Arc::new(b.4.finish()),
            ];
            let batch = RecordBatch::try_new(REJETS.file_schema(), cols).expect("rejects schema");
            writer.write(&batch).map_err(Error::from)
        };
        loop {
            let line = match records.next_row(&mut row) {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => return fail(report, e),
            };
            report.lignes_lues += 1;
            unreported += 1;
            let limit = |limit: Limit| Error::Limit {
                path: path.to_path_buf(),
                limit,
                value: limits.value(limit),
                line: Some(line),
            };
            if report.lignes_lues > limits.max_rows {
                return fail(report, limit(Limit::Rows));
            }
            if unreported == 16_384 {
                progress.rows(unreported);
                unreported = 0;
                if started.elapsed().as_secs() >= limits.max_parse_seconds {
                    return fail(report, limit(Limit::ParseSeconds));
                }
            }
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for f in &row {
                h.update(f.as_bytes());
                h.update(&[0x1f]);
            }
            let outcome = if !seen.insert(h.digest128()) {
                Err((RejectReason::Doublon, None))
            } else {
                validate(&layout, &row, name.extraction, &self.departments)
                    .map_err(|r| (r.reason, r.column))
            };
            match outcome {
                Ok(v) => {
                    let key = match cache.get(&v.id) {
                        Some((nir, key, from_nir)) if *nir == v.nir => (key.clone(), *from_nir),
                        _ => {
                            let (key, from_nir) =
                                self.pseudonymiser
                                    .person(territoire, &v.id, v.nir.as_deref());
                            cache.insert(v.id.clone(), (v.nir.clone(), key.clone(), from_nir));
                            (key, from_nir)
                        }
                    };
                    events.push(&key.0, &v, line);
                    people.entry(key.0).or_insert_with(|| PersonRow {
                        annee: v.annee_naissance,
                        sexe: v.sexe,
                        departement: v.departement.clone(),
                        niveau: v.niveau_formation,
                        situation: v.situation_familiale,
                        cle_nir: key.1,
                    });
                    report.lignes_integrees += 1;
                    if events.len >= BATCH
                        && let Err(e) = ev_writer.write(&events.finish())
                    {
                        return fail(report, e.into());
                    }
                }
                Err((reason, column)) => {
                    *report.rejets.entry(reason).or_default() += 1;
                    re_depot.append_value(&report.depot);
                    re_fichier.append_value(&report.fichier);
                    re_ligne.append_value(line as i64);
                    re_col.append_option(column);
                    re_motif.append_value(reason.code());
                    re_len += 1;
                    if re_len >= BATCH {
                        if let Err(e) = flush_rejects(
                            &mut re_writer,
                            (
                                &mut re_depot,
                                &mut re_fichier,
                                &mut re_ligne,
                                &mut re_col,
                                &mut re_motif,
                            ),
                        ) {
                            return fail(report, e);
                        }
                        re_len = 0;
                    }
                }
            }
        }
        progress.rows(unreported);
        let finish = || -> Result<[Vec<StagedFile>; 3]> {
            if events.len > 0 {
                ev_writer.write(&events.finish())?;
            }
            if re_len > 0 {
                flush_rejects(
                    &mut re_writer,
                    (
                        &mut re_depot,
                        &mut re_fichier,
                        &mut re_ligne,
                        &mut re_col,
                        &mut re_motif,
                    ),
                )?;
            }
            let mut pe_writer = self.warehouse.part_writer(&PERSONNES, Some(territoire))?;
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
                pe_writer.write(
                    &RecordBatch::try_new(PERSONNES.file_schema(), cols).expect("people schema"),
                )?;
            }
            let ev = ev_writer.finish()?.into_iter().collect();
            let pe = pe_writer.finish()?.into_iter().collect();
            let re = re_writer.finish()?.into_iter().collect();
            Ok([ev, pe, re])
        };
        let files = match finish() {
            Ok(f) => f,
            Err(e) => return fail(report, e),
        };
        report.personnes = people.len() as u64;
        Ok(Staged { files, report })
    }
}
