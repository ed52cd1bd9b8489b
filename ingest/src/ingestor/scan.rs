//! Scanning the inbox: what is there, what the warehouse already holds, and the order in
//! which drops land (one territory at a time, extractions in order); held drops released and
//! lost drops put back in the inbox.

use datafusion::arrow::compute;
use datafusion::arrow::datatypes::{DataType, Int64Type};

use super::*;

impl Ingestor {
    /// What the `depots` table knows: drops integrated (by hash) and each territory's latest
    /// extraction date.
    pub(super) async fn known_drops(&self) -> Result<Known> {
        let ctx = SessionContext::new();
        self.warehouse.register(&ctx).await?;
        let batches = ctx
            .sql(include_str!("../../sql/depots.sql"))
            .await
            .map_err(query_error)?
            .collect()
            .await
            .map_err(query_error)?;
        let mut known = Known::default();
        // The drop in place: the latest extraction, then the latest processed.
        let mut in_place: HashMap<String, ((i32, i64), u64)> = HashMap::new();
        for b in &batches {
            let cast =
                |i: usize, to: &DataType| compute::cast(b.column(i), to).map_err(query_error);
            let (depot, territoire, statut) = (
                cast(0, &DataType::Utf8)?,
                cast(1, &DataType::Utf8)?,
                cast(2, &DataType::Utf8)?,
            );
            let (depot, territoire, statut) = (
                depot.as_string::<i32>(),
                territoire.as_string::<i32>(),
                statut.as_string::<i32>(),
            );
            let dates = b.column(3).as_primitive::<Date32Type>();
            let (people, when) = (cast(4, &DataType::Int64)?, cast(5, &DataType::Int64)?);
            let (people, when) = (
                people.as_primitive::<Int64Type>(),
                when.as_primitive::<Int64Type>(),
            );
            for i in 0..b.num_rows() {
                if statut.value(i) != "integre" {
                    continue;
                }
                let t = territoire.value(i).to_string();
                known
                    .integrated
                    .entry(depot.value(i).to_string())
                    .or_default()
                    .push(t.clone());
                if !dates.is_null(i) {
                    let d = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
                        + chrono::Days::new(dates.value(i) as u64);
                    let e = known.latest.entry(t.clone()).or_insert(d);
                    *e = (*e).max(d);
                }
                let order = (
                    if dates.is_null(i) {
                        i32::MIN
                    } else {
                        dates.value(i)
                    },
                    if when.is_null(i) {
                        i64::MIN
                    } else {
                        when.value(i)
                    },
                );
                let n = if people.is_null(i) {
                    0
                } else {
                    people.value(i).max(0) as u64
                };
                let e = in_place.entry(t).or_insert((order, n));
                if order >= e.0 {
                    *e = (order, n);
                }
            }
        }
        known.people = in_place.into_iter().map(|(t, (_, n))| (t, n)).collect();
        Ok(known)
    }

    /// Processes the inbox once.
    pub async fn run_once(self: &Arc<Self>, progress: Arc<dyn Progress>) -> Result<RunReport> {
        let mut run = RunReport::default();
        let mut groups: BTreeMap<String, Vec<(DropName, PathBuf)>> = BTreeMap::new();
        let mut refusals: Vec<(String, PathBuf, String)> = Vec::new();
        let inbox = &self.config.inbox;
        std::fs::create_dir_all(inbox).map_err(io(inbox))?;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(inbox)
            .map_err(io(inbox))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let name = file_name(&entry);
            // One stray entry (a broken link, a pipe, a socket) never stops the others: it is
            // reported and left in place.
            let kind = std::fs::metadata(&entry).map(|m| m.file_type());
            if !kind.as_ref().is_ok_and(|k| k.is_dir()) {
                if kind.as_ref().is_ok_and(|k| k.is_file()) {
                    if copil_core::inbox::in_progress(&name) {
                        run.en_cours.push(entry);
                    } else {
                        refusals.push(("(racine)".into(), entry, "fichier déposé à la racine de la boîte : placez-le dans le dossier de son territoire".into()));
                    }
                } else {
                    run.ignores.push((entry, stray(kind.as_ref().ok())));
                }
                continue;
            }
            let known = self.register.get(&name).is_some();
            let listing = match std::fs::read_dir(&entry) {
                Ok(l) => l,
                Err(e) => {
                    run.ignores.push((
                        entry.clone(),
                        format!("dossier illisible ({})", describe_io(&e)),
                    ));
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = Vec::new();
            for path in listing.filter_map(|e| e.ok().map(|e| e.path())) {
                match std::fs::metadata(&path).map(|m| m.file_type()) {
                    Ok(k) if k.is_file() => files.push(path),
                    Ok(k) if k.is_dir() => run.ignores.push((
                        path,
                        "sous-dossier ignoré : déposez les fichiers directement dans le dossier du territoire".into(),
                    )),
                    other => {
                        let message = stray(other.as_ref().ok());
                        run.ignores.push((path, message));
                    }
                }
            }
            files.sort();
            for file in files {
                let fname = file_name(&file);
                if copil_core::inbox::in_progress(&fname) {
                    run.en_cours.push(file);
                    continue;
                }
                if !known {
                    refusals.push((
                        name.clone(),
                        file,
                        format!("dossier « {name} » : territoire inconnu du registre"),
                    ));
                    continue;
                }
                match DropName::parse(&fname) {
                    Ok(n) => groups.entry(name.clone()).or_default().push((n, file)),
                    Err(e) => refusals.push((name.clone(), file, e.to_string())),
                }
            }
        }
        for drops in groups.values_mut() {
            drops.sort_by(|a, b| (a.0.extraction, &a.1).cmp(&(b.0.extraction, &b.1)));
        }
        progress.start(groups.values().map(Vec::len).sum::<usize>() + refusals.len());

        let known = self.known_drops().await?;
        let integrated = Arc::new(known.integrated);
        let latest = known.latest;
        let people = known.people;
        for (territoire, path, message) in refusals {
            let fname = file_name(&path);
            let mut report = DropReport::new(&territoire, &fname);
            report.depot = file_hash(&path).unwrap_or_default();
            report.date_extraction = DropName::parse(&fname).ok().map(|n| n.extraction);
            let report = self
                .set_aside(report, &path, Status::Refuse(message))
                .await?;
            progress.drop_done(&report);
            run.drops.push(report);
        }

        let parallelism = self.config.parallelism.max(1);
        // The largest territories first, so that the parallel run does not end with one big
        // drop processed alone on one core (longest processing time first).
        let mut groups: Vec<(String, Vec<(DropName, PathBuf)>)> = groups.into_iter().collect();
        let size = |drops: &[(DropName, PathBuf)]| -> u64 {
            drops
                .iter()
                .filter_map(|(_, p)| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum()
        };
        groups.sort_by_cached_key(|(t, drops)| (std::cmp::Reverse(size(drops)), t.clone()));
        self.spare_threads.store(
            (parallelism / groups.len().clamp(1, parallelism)).max(1),
            std::sync::atomic::Ordering::Relaxed,
        );
        let results: Vec<Result<Vec<DropReport>>> =
            futures::stream::iter(groups.into_iter().map(|(territoire, drops)| {
                let this = Arc::clone(self);
                let progress = Arc::clone(&progress);
                let integrated = Arc::clone(&integrated);
                let mut current = latest.get(&territoire).copied();
                let mut in_place = people.get(&territoire).copied();
                async move {
                    let mut reports = Vec::new();
                    for (name, path) in drops {
                        let report = this
                            .process(
                                &territoire,
                                name,
                                &path,
                                &integrated,
                                (&mut current, &mut in_place),
                                &progress,
                                false,
                            )
                            .await?;
                        progress.drop_done(&report);
                        reports.push(report);
                    }
                    Ok(reports)
                }
            }))
            .buffer_unordered(parallelism)
            .collect()
            .await;
        for r in results {
            run.drops.extend(r?);
        }
        run.drops.sort_by(|a, b| {
            (&a.territoire, a.date_extraction, &a.fichier).cmp(&(
                &b.territoire,
                b.date_extraction,
                &b.fichier,
            ))
        });
        Ok(run)
    }

    /// Puts back in the inbox the drops a warehouse repair took out
    /// ([`Warehouse::repair`](copil_warehouse::Warehouse::repair)), found in the archive (or,
    /// for a held drop, in the held folder) by name and SHA-256, so that the next run
    /// integrates them again in the order of their extractions. Returns, per drop, where it
    /// went or why it could not be found (then it must be dropped again).
    pub fn requeue(
        &self,
        lost: &[LostDrop],
    ) -> Vec<(LostDrop, std::result::Result<PathBuf, String>)> {
        lost.iter()
            .map(|d| (d.clone(), self.requeue_one(d)))
            .collect()
    }

    fn requeue_one(&self, d: &LostDrop) -> std::result::Result<PathBuf, String> {
        if d.statut.as_deref() == Some("refuse") {
            return Err("dépôt refusé : rien à réintégrer".into());
        }
        let safe = |s: &str| {
            !s.is_empty()
                && !s.contains(['/', '\\'])
                && s != "."
                && s != ".."
                && !s.starts_with('.')
        };
        if !safe(&d.territoire) || !safe(&d.fichier) {
            return Err("nom de territoire ou de fichier inattendu".into());
        }
        let dest_dir = self.config.inbox.join(&d.territoire);
        let dest = dest_dir.join(&d.fichier);
        if dest.exists() {
            return match file_hash(&dest) {
                Ok(h) if h == d.depot => Ok(dest),
                _ => Err(format!(
                    "un autre fichier {} attend déjà dans la boîte de dépôt",
                    d.fichier
                )),
            };
        }
        let prefix = d.depot.get(..12).unwrap_or_default();
        for dir in [&self.config.archive, &self.held] {
            let dir = dir.join(&d.territoire);
            for name in [d.fichier.clone(), format!("{prefix}_{}", d.fichier)] {
                let candidate = dir.join(name);
                if candidate.is_file() && file_hash(&candidate).is_ok_and(|h| h == d.depot) {
                    std::fs::create_dir_all(&dest_dir).map_err(|e| describe_io(&e))?;
                    std::fs::rename(&candidate, &dest).map_err(|e| describe_io(&e))?;
                    let mut rapport = candidate.into_os_string();
                    rapport.push(".rapport.txt");
                    let _ = std::fs::remove_file(rapport);
                    return Ok(dest);
                }
            }
        }
        Err("fichier introuvable dans l'archive : à déposer de nouveau".into())
    }

    /// Integrates a drop held for review (`copil integrer --liberer`): the safeguards of
    /// [`Safeguards`] and the extraction date's check against today are waived; the contract,
    /// the limits and the order of extractions still apply. The drop's territory is the name
    /// of its folder.
    pub async fn release(
        self: &Arc<Self>,
        file: &Path,
        progress: Arc<dyn Progress>,
    ) -> Result<DropReport> {
        let fname = file_name(file);
        let territoire = file.parent().map(file_name).unwrap_or_default();
        if self.register.get(&territoire).is_none() {
            return Err(Error::DropName {
                file: fname,
                message: format!(
                    "dossier « {territoire} » : territoire inconnu du registre (le fichier à libérer doit rester dans le dossier de son territoire)"
                ),
            });
        }
        if !file.is_file() {
            return Err(Error::DropName {
                file: file.display().to_string(),
                message: "fichier introuvable".into(),
            });
        }
        // A held drop may carry the hash of the file in its name: the date is at its end.
        let name = DropName::parse(&fname)?;
        let known = self.known_drops().await?;
        let mut current = known.latest.get(&territoire).copied();
        let mut in_place = known.people.get(&territoire).copied();
        let report = self
            .process(
                &territoire,
                name,
                file,
                &known.integrated,
                (&mut current, &mut in_place),
                &progress,
                true,
            )
            .await?;
        let mut rapport = file.as_os_str().to_owned();
        rapport.push(".rapport.txt");
        if !file.exists() {
            let _ = std::fs::remove_file(&rapport);
        }
        progress.drop_done(&report);
        Ok(report)
    }
}
