//! Landing a staged drop: the safeguards, then ONE commit per table and the `depots` row;
//! or the drop is held for review or refused, with its report.

use super::*;

impl Ingestor {
    /// Why a valid drop should not replace its territory's data, if it should not.
    pub(super) fn hold_reason(&self, r: &DropReport, in_place: Option<u64>) -> Option<String> {
        if r.lignes_integrees == 0 {
            return Some(format!(
                "aucune ligne valide ({} ligne(s) lue(s)) : intégré, ce dépôt viderait les données du territoire",
                r.lignes_lues
            ));
        }
        let rejected = r.lignes_rejetees() as f64 / r.lignes_lues.max(1) as f64;
        if rejected > self.safeguards.max_rejets {
            return Some(format!(
                "{} des lignes écartées ({} sur {}), au-delà du seuil de {} (clé ingest.max_rejets)",
                percent(rejected),
                r.lignes_rejetees(),
                r.lignes_lues,
                percent(self.safeguards.max_rejets)
            ));
        }
        if let Some(before) = in_place.filter(|b| *b > 0) {
            let lost = before.saturating_sub(r.personnes) as f64 / before as f64;
            if lost > self.safeguards.max_perte_personnes {
                return Some(format!(
                    "{} personnes contre {} dans les données en place : perte de {}, au-delà du seuil de {} (clé ingest.max_perte_personnes)",
                    r.personnes,
                    before,
                    percent(lost),
                    percent(self.safeguards.max_perte_personnes)
                ));
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn process(
        self: &Arc<Self>,
        territoire: &str,
        name: DropName,
        path: &Path,
        integrated: &HashMap<String, Vec<String>>,
        (current, in_place): (&mut Option<NaiveDate>, &mut Option<u64>),
        progress: &Arc<dyn Progress>,
        force: bool,
    ) -> Result<DropReport> {
        let started = Instant::now();
        let fname = file_name(path);
        let mut report = DropReport::new(territoire, &fname);
        report.date_extraction = Some(name.extraction);
        report.depot = match file_hash(path) {
            Ok(h) => h,
            Err(e) => return Ok(failed(report, &e)),
        };
        if integrated
            .get(&report.depot)
            .is_some_and(|ts| ts.iter().any(|t| t == territoire))
        {
            report.statut = Status::DejaIntegre;
            move_into(
                path,
                &self.config.archive.join(territoire),
                &report.depot[..12],
            )?;
            return Ok(report);
        }
        if let Some(c) = *current
            && name.extraction < c
        {
            let message = format!(
                "extraction du {} antérieure aux données en place (au {}) : déposez une extraction plus récente",
                name.extraction.format("%d/%m/%Y"),
                c.format("%d/%m/%Y")
            );
            return self.set_aside(report, path, Status::Refuse(message)).await;
        }
        let today = self.clock.today();
        if !force && name.extraction > today {
            let message = format!(
                "date d'extraction du {} postérieure à aujourd'hui ({}) : vérifiez le nom du fichier ; intégré, ce dépôt bloquerait toute extraction réelle plus ancienne",
                name.extraction.format("%d/%m/%Y"),
                today.format("%d/%m/%Y")
            );
            return self
                .set_aside(report, path, Status::EnAttente(message))
                .await;
        }

        let this = Arc::clone(self);
        let (t, p, progress2) = (
            territoire.to_string(),
            path.to_path_buf(),
            Arc::clone(progress),
        );
        let extraction = name.extraction;
        let staged = tokio::task::spawn_blocking(move || {
            this.stage(&t, &name, &p, report, progress2.as_ref())
        })
        .await
        .map_err(query_error)?;
        let mut staged = match staged {
            Ok(s) => s,
            Err(Stop::Refuse(refusal)) => {
                let (report, message) = *refusal;
                return self.set_aside(report, path, Status::Refuse(message)).await;
            }
            Err(Stop::Fault(fault)) => {
                let (report, e) = *fault;
                return Ok(failed(report, &e));
            }
        };
        if !force && let Some(reason) = self.hold_reason(&staged.report, *in_place) {
            let [ev, pe, re] = &staged.files;
            self.warehouse.discard(&EVENEMENTS, ev);
            self.warehouse.discard(&PERSONNES, pe);
            self.warehouse.discard(&REJETS, re);
            let mut report = staged.report;
            report.duree = started.elapsed();
            return self
                .set_aside(report, path, Status::EnAttente(reason))
                .await;
        }
        self.checkpoint(Checkpoint::Fichiers).await;

        let meta: HashMap<String, serde_json::Value> = [
            (
                "copil.depot".to_string(),
                staged.report.depot.clone().into(),
            ),
            ("copil.territoire".to_string(), territoire.into()),
            (
                "copil.fichier".to_string(),
                staged.report.fichier.clone().into(),
            ),
        ]
        .into();
        let guard = self.warehouse.lock().await?;
        let [ev, pe, re] = std::mem::take(&mut staged.files);
        let v_ev = self
            .warehouse
            .commit(&guard, &EVENEMENTS, Some(territoire), ev, meta.clone())
            .await?;
        self.checkpoint(Checkpoint::Evenements).await;
        let v_pe = self
            .warehouse
            .commit(&guard, &PERSONNES, Some(territoire), pe, meta.clone())
            .await?;
        self.checkpoint(Checkpoint::Personnes).await;
        let v_re = self
            .warehouse
            .commit(&guard, &REJETS, Some(territoire), re, meta.clone())
            .await?;
        self.checkpoint(Checkpoint::Rejets).await;
        let mut report = staged.report;
        report.versions = Some([v_ev, v_pe, v_re]);
        report.duree = started.elapsed();
        self.append_depot(&guard, &report, meta).await?;
        drop(guard);
        self.checkpoint(Checkpoint::Depots).await;
        move_into(
            path,
            &self.config.archive.join(territoire),
            &report.depot[..12],
        )?;
        *current = Some(extraction);
        *in_place = Some(report.personnes);
        tracing::info!(territoire, fichier = %report.fichier, lignes = report.lignes_lues, "dépôt intégré");
        for hook in &self.on_commit {
            hook(&report);
        }
        Ok(report)
    }

    pub(super) async fn append_depot(
        &self,
        guard: &copil_warehouse::CommitGuard<'_>,
        r: &DropReport,
        meta: HashMap<String, serde_json::Value>,
    ) -> Result<()> {
        let (statut, message) = match &r.statut {
            Status::Refuse(m) => ("refuse", Some(m.as_str())),
            Status::EnAttente(m) => ("en_attente", Some(m.as_str())),
            _ => ("integre", None),
        };
        let text = |v: Option<&str>| -> ArrayRef {
            let mut b = StringBuilder::new();
            b.append_option(v);
            Arc::new(b.finish())
        };
        let long = |v: Option<i64>| -> ArrayRef {
            let mut b = Int64Builder::new();
            b.append_option(v);
            Arc::new(b.finish())
        };
        let mut date = Date32Builder::new();
        date.append_option(r.date_extraction.map(days));
        let mut ts = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        ts.append_value(self.clock.now().timestamp_micros());
        let sep = r.separateur.map(|c| c.to_string());
        let ignored = (!r.colonnes_ignorees.is_empty()).then(|| r.colonnes_ignorees.join(", "));
        let mut cols: Vec<ArrayRef> = vec![
            text(Some(&r.depot)),
            text(Some(&r.territoire)),
            text(Some(&r.fichier)),
            Arc::new(date.finish()),
            Arc::new(ts.finish()),
            text(Some(statut)),
            text(message),
            long(Some(r.lignes_lues as i64)),
            long(Some(r.lignes_integrees as i64)),
            long(Some(r.lignes_rejetees() as i64)),
        ];
        for reason in RejectReason::ALL {
            cols.push(long(Some(r.rejets_pour(reason) as i64)));
        }
        cols.extend([
            long(Some(r.personnes as i64)),
            text(r.encodage.as_deref()),
            text(sep.as_deref()),
            text(ignored.as_deref()),
            long(Some(r.duree.as_millis() as i64)),
        ]);
        let v = r.versions;
        cols.extend([
            long(v.map(|v| v[0] as i64)),
            long(v.map(|v| v[1] as i64)),
            long(v.map(|v| v[2] as i64)),
        ]);
        let batch = RecordBatch::try_new(DEPOTS.file_schema(), cols).expect("depots schema");
        let mut writer = self.warehouse.part_writer(&DEPOTS, None)?;
        writer.write(&batch)?;
        let staged = writer.finish()?.into_iter().collect();
        self.warehouse
            .commit(guard, &DEPOTS, None, staged, meta)
            .await?;
        Ok(())
    }

    /// Sets aside a drop that does not land, with its `status`: held for review
    /// ([`Status::EnAttente`]; the territory's data in place is untouched) or refused. It is
    /// recorded in `depots` (as `en_attente` or `refuse`), then moved into its territory's
    /// folder under the held or refused folder, prefixed with the start of its digest, its
    /// report written beside it.
    pub(super) async fn set_aside(
        &self,
        mut report: DropReport,
        path: &Path,
        status: Status,
    ) -> Result<DropReport> {
        let held = matches!(status, Status::EnAttente(_));
        // The code in `depots`, the folder, and the prefix of a drop without a digest.
        let (statut, folder, fallback) = if held {
            ("en_attente", &self.held, "attente")
        } else {
            ("refuse", &self.config.refused, "refuse")
        };
        report.statut = status;
        let meta: HashMap<String, serde_json::Value> = [
            ("copil.depot".to_string(), report.depot.clone().into()),
            ("copil.statut".to_string(), statut.into()),
        ]
        .into();
        {
            let guard = self.warehouse.lock().await?;
            self.append_depot(&guard, &report, meta).await?;
        }
        let prefix = report.depot.get(..12).unwrap_or(fallback);
        let dest = move_into(path, &folder.join(&report.territoire), prefix)?;
        let mut rapport = dest.into_os_string();
        rapport.push(".rapport.txt");
        std::fs::write(&rapport, report.render()).map_err(io(Path::new(&rapport)))?;
        if held {
            tracing::warn!(territoire = %report.territoire, fichier = %report.fichier, "dépôt mis en attente");
        } else {
            tracing::warn!(territoire = %report.territoire, fichier = %report.fichier, "dépôt refusé");
        }
        Ok(report)
    }
}
