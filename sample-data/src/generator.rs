//! The generator: one drop per territory, streamed person by person.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Datelike, Days, Months, NaiveDate};
use copil_warehouse::{Departments, Register, Territory};

use crate::calibration::{Profil, foyers_departement, personnes_par_territoire, volume_entrees};
use crate::identity;
use crate::manifest::{ComptesNir, Manifeste, Provenance};
use crate::pathway::{Event, Sujet, simuler};
use crate::rng::Rng;
use crate::sink::{Cell, Sink};
use crate::variant::{ORDRE, Variante};
use crate::{Error, Result};

/// Above this many people a territory's drop is never a workbook (Excel stops at 1,048,576 rows).
pub const MAX_PERSONNES_XLSX: u64 = 40_000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed: the same seed and options give the same bytes.
    pub graine: u64,
    /// Scale: at 1, the register holds about 1.84 M people.
    pub echelle: f64,
    /// First month of entries (its first day).
    pub debut: NaiveDate,
    /// Last month of entries (its first day).
    pub fin: NaiveDate,
    /// Reference extraction date; each territory extracts a few days (sometimes weeks) before.
    pub date_extraction: NaiveDate,
    /// Only these territories (ids), or all of the register.
    pub territoires: Option<Vec<String>>,
    /// Share of broken rows (added beside valid ones), 0.005 by default.
    pub taux_defauts: f64,
    /// Share of rows repeated exactly, 0.003 by default.
    pub taux_doublons: f64,
    /// Force one variant for every drop.
    pub variante: Option<Variante>,
    /// Write without defects: no broken rows, no repeats, no line breaks in fields.
    pub propre: bool,
    /// Worker threads (territories are generated in parallel).
    pub fils: usize,
}

impl Options {
    /// The defaults for a given day: seed 1, scale 0.005, entries from January 2019 to the
    /// current month, extracted that day.
    pub fn par_defaut(aujourdhui: NaiveDate) -> Self {
        Self {
            graine: 1,
            echelle: 0.005,
            debut: NaiveDate::from_ymd_opt(2019, 1, 1).expect("valid"),
            fin: aujourdhui.with_day(1).expect("valid"),
            date_extraction: aujourdhui,
            territoires: None,
            taux_defauts: 0.005,
            taux_doublons: 0.003,
            variante: None,
            propre: false,
            fils: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    fn verifier(&self, register: &Register) -> Result<()> {
        let err = |option, message: String| Err(Error::Option { option, message });
        if !(self.echelle > 0.0 && self.echelle <= 10.0) {
            return err("--echelle", format!("{} hors de ]0 ; 10]", self.echelle));
        }
        if self.fin < self.debut {
            return err("--to", "le dernier mois précède le premier (--from)".into());
        }
        if self.date_extraction < self.debut {
            return err(
                "--date-extraction",
                "la date d'extraction précède le premier mois".into(),
            );
        }
        if !(0.0..=0.5).contains(&self.taux_defauts) || !(0.0..=0.5).contains(&self.taux_doublons) {
            return err("--taux-defauts", "un taux doit être entre 0 et 0,5".into());
        }
        if let Some(ids) = &self.territoires {
            let inconnus: Vec<&str> = ids
                .iter()
                .map(String::as_str)
                .filter(|id| register.get(id).is_none())
                .collect();
            if !inconnus.is_empty() {
                return err(
                    "--territories",
                    format!("territoires inconnus du registre : {}", inconnus.join(", ")),
                );
            }
        }
        Ok(())
    }
}

/// Where drops and manifests go.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The inbox: one folder per territory id.
    pub inbox: PathBuf,
    /// The manifests: one folder per territory id, one `<file>.json` per drop.
    pub manifestes: PathBuf,
}

/// Generates one drop (and its manifest) per selected territory; calls `apres` after each.
/// Returns the manifests in register order.
pub fn generer(
    register: &Register,
    departments: &Departments,
    options: &Options,
    destination: &Destination,
    apres: &(dyn Fn(&Manifeste) + Sync),
) -> Result<Vec<Manifeste>> {
    options.verifier(register)?;
    let tailles = personnes_par_territoire(register, departments, options.echelle);
    let rotation = (options.graine % Variante::ALL.len() as u64) as usize;
    let plan: Vec<(&Territory, u64, Variante)> = register
        .iter()
        .zip(tailles)
        .filter(|(t, _)| {
            options
                .territoires
                .as_ref()
                .is_none_or(|ids| ids.contains(&t.id))
        })
        .enumerate()
        .map(|(i, (t, (_, n)))| {
            let mut v = options
                .variante
                .unwrap_or(Variante::ALL[(i + rotation) % Variante::ALL.len()]);
            if v == Variante::Xlsx && n > MAX_PERSONNES_XLSX {
                v = Variante::Utf8Virgule;
            }
            (t, n, v)
        })
        .collect();

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Manifeste>>>> =
        Mutex::new((0..plan.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..options.fils.clamp(1, 64) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((t, n, v)) = plan.get(i) else { break };
                    let result = generer_territoire(t, *n, *v, options, destination, departments);
                    if let Ok(m) = &result {
                        apres(m);
                    }
                    results.lock().expect("no panic while locked")[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no panic while locked")
        .into_iter()
        .map(|r| r.expect("every territory was generated"))
        .collect()
}

const TYPOS: [&str; 6] = [
    "orientaton",
    "rendez_vous",
    "entree",
    "sortie_emploi",
    "contrat",
    "RDV honoré",
];
const DEFAUTS: [&str; 5] = [
    "identifiant_manquant",
    "code_inconnu",
    "date_impossible",
    "date_future",
    "evenement_avant_naissance",
];

fn plus_jours(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64)).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new((-n) as u64)).unwrap_or(d)
    }
}

fn jours_du_mois(m: NaiveDate) -> u32 {
    let next = m.checked_add_months(Months::new(1)).expect("valid");
    (next - m).num_days() as u32
}

fn generer_territoire(
    t: &Territory,
    personnes: u64,
    variante: Variante,
    options: &Options,
    destination: &Destination,
    departments: &Departments,
) -> Result<Manifeste> {
    let graine = options.graine;
    let profil = Profil::tirer(graine, t);
    let mut extraction =
        plus_jours(options.date_extraction, -profil.retard_extraction).max(options.debut);
    // A territory that ended (its départements handed to a successor) sent its last drop at
    // its end; a successor's people enter from the month it takes over.
    if let Some(fin) = t.fin {
        let dernier_jour = fin.checked_add_months(Months::new(1)).expect("valid") - Days::new(1);
        extraction = extraction.min(dernier_jour).max(options.debut);
    }
    let premier_mois = t.depuis.map_or(options.debut, |d| d.max(options.debut));
    let mut r = Rng::derive(graine, &[&t.id, "parcours"]);
    let mut r_id = Rng::derive(graine, &[&t.id, "identite"]);
    let mut r_def = Rng::derive(graine, &[&t.id, "defauts"]);
    let mut r_mois = Rng::derive(graine, &[&t.id, "mois"]);

    // Months of entry and their weights.
    let dernier_mois = options.fin.min(extraction.with_day(1).expect("valid"));
    let mut mois = Vec::new();
    let mut cumul = Vec::new();
    let mut total = 0.0;
    let mut m = premier_mois.min(dernier_mois);
    while m <= dernier_mois {
        let mut w = volume_entrees(m.year(), m.month()) * r_mois.uniform(0.9, 1.1);
        if m == extraction.with_day(1).expect("valid") {
            w *= f64::from(extraction.day()) / f64::from(jours_du_mois(m));
        }
        total += w;
        mois.push(m);
        cumul.push(total);
        m = m.checked_add_months(Months::new(1)).expect("valid");
    }

    // Départements of residence, by weight.
    let deps: Vec<(&str, f64)> = t
        .departements
        .iter()
        .filter_map(|c| departments.get(c))
        .map(|d| (d.code.as_str(), foyers_departement(d)))
        .collect();
    // How the territory's software spells person ids: the same whatever the file's variant,
    // so that a clean twin holds the same people.
    let hash_id = crate::rng::stable_hash(&[t.id.as_bytes(), b"identifiants"]);
    let (style_id, prefixe_id) = (hash_id % 4, 10 + (hash_id >> 8) % 89);

    let fichier = variante.nom_fichier(&t.id, extraction);
    let dossier = destination.inbox.join(&t.id);
    std::fs::create_dir_all(&dossier).map_err(|source| Error::Io {
        path: dossier.clone(),
        source,
    })?;
    let chemin = dossier.join(&fichier);
    let mut sink = Sink::create(&chemin, variante)?;

    let colonnes = variante.colonnes();
    let index: Vec<usize> = colonnes
        .iter()
        .map(|c| ORDRE.iter().position(|o| o == c).expect("known column"))
        .collect();
    let entetes: Vec<String> = colonnes.iter().map(|c| variante.entete(c)).collect();
    let cells: Vec<Cell<'_>> = entetes.iter().map(|h| Cell::Texte(h)).collect();
    sink.write_row(&cells, &chemin)?;

    let mut compte = Compte::default();
    let mut events: Vec<Event> = Vec::with_capacity(64);
    for numero in 1..=personnes {
        // The person.
        let x = r.f64() * total;
        let k = cumul.partition_point(|c| *c <= x).min(mois.len() - 1);
        let m = mois[k];
        let dernier_jour = if m == extraction.with_day(1).expect("valid") {
            extraction.day()
        } else {
            jours_du_mois(m)
        };
        let entree = m
            .with_day(r.range(1, i64::from(dernier_jour)) as u32)
            .expect("valid day");
        let age = if r.chance(0.08) {
            r.range(18, 24) as i32
        } else {
            25 + (r.f64().powf(1.3) * 40.0) as i32
        };
        let naissance = plus_jours(
            entree
                .checked_sub_months(Months::new(12 * age as u32))
                .expect("valid"),
            -r.range(0, 364),
        );
        let sexe = *r.pick(&[("F", 0.53), ("M", 0.468), ("X", 0.002)]);
        let dep = *r.pick(&deps);
        let commune = if r.chance(0.03) {
            String::new()
        } else if dep.len() == 3 {
            format!("{dep}{:02}", r.range(1, 34))
        } else {
            format!("{dep}{:03}", r.range(1, 390))
        };
        let niveau = *r.pick(&[
            ("infra_cap", 0.34),
            ("cap_bep", 0.30),
            ("bac", 0.21),
            ("bac_plus", 0.12),
            ("", 0.03),
        ]);
        let situation = *r.pick(&[
            ("seul", 0.44),
            ("seul_enfants", 0.25),
            ("couple", 0.10),
            ("couple_enfants", 0.19),
            ("", 0.02),
        ]);
        simuler(
            &profil,
            &Sujet { entree, age },
            extraction,
            &mut r,
            &mut events,
        );
        if events.is_empty() {
            continue;
        }
        let multiligne = r_id.chance(0.04) && !options.propre;
        let ident = identity::tirer(&mut r_id, sexe, naissance, dep, multiligne);
        match (&ident.nir, ident.nir_valide) {
            (Some(_), true) => compte.nir.valides += 1,
            (Some(_), false) => compte.nir.invalides += 1,
            (None, _) => compte.nir.absents += 1,
        }
        compte.personnes += 1;
        let id = match style_id {
            0 => format!("P{numero:07}"),
            1 => format!("{prefixe_id}{numero:06}"),
            2 => format!("SOL-{numero:06}"),
            _ => format!("{}", 100_000 + numero),
        };

        let texte = |s: &'static str| {
            if s.is_empty() {
                Cell::Vide
            } else {
                Cell::Texte(s)
            }
        };
        let mut ligne: Vec<Cell<'_>> = Vec::with_capacity(25);
        let mut base: [Cell<'_>; 25] = [Cell::Vide; 25];
        base[0] = if variante == Variante::Xlsx {
            Cell::Nombre(&id)
        } else {
            Cell::Texte(&id)
        };
        base[1] = opt(&ident.nir);
        base[2] = Cell::Texte(&ident.nom);
        base[3] = Cell::Texte(&ident.prenom);
        base[4] = opt(&ident.nom_naissance);
        base[5] = Cell::Date(naissance);
        base[6] = Cell::Texte(sexe);
        base[7] = Cell::Texte(&ident.adresse);
        base[8] = if commune.is_empty() {
            Cell::Vide
        } else {
            Cell::Texte(&commune)
        };
        base[9] = Cell::Texte(&ident.telephone);
        base[10] = opt(&ident.courriel);
        base[11] = texte(niveau);
        base[12] = texte(situation);

        for (k, e) in events.iter().enumerate() {
            let mut full = base;
            full[13] = Cell::Date(e.date);
            full[14] = Cell::Texte(e.evenement);
            for (i, a) in e.attrs.iter().enumerate() {
                full[15 + i] = a.map_or(Cell::Vide, Cell::Texte);
            }
            ligne.clear();
            ligne.extend(index.iter().map(|&i| full[i]));
            sink.write_row(&ligne, &chemin)?;
            compte.lignes += 1;
            compte.valides += 1;
            if multiligne {
                compte.multilignes += 1;
            }
            *compte.evenements.entry(e.evenement).or_default() += 1;
            if options.propre {
                continue;
            }
            if r_def.chance(options.taux_doublons) {
                sink.write_row(&ligne, &chemin)?;
                compte.lignes += 1;
                compte.doublons += 1;
                if multiligne {
                    compte.multilignes += 1;
                }
            }
            if r_def.chance(options.taux_defauts) {
                let kind = r_def.range(0, DEFAUTS.len() as i64 - 1) as usize;
                let step = 1 + k as i64 * 37 + r_def.range(0, 36);
                match kind {
                    0 => full[0] = Cell::Vide,
                    1 => {
                        full[14] =
                            Cell::Texte(TYPOS[r_def.range(0, TYPOS.len() as i64 - 1) as usize])
                    }
                    2 => full[13] = Cell::DateImpossible(e.date),
                    3 => full[13] = Cell::Date(plus_jours(extraction, step)),
                    _ => full[13] = Cell::Date(plus_jours(naissance, -step)),
                }
                ligne.clear();
                ligne.extend(index.iter().map(|&i| full[i]));
                sink.write_row(&ligne, &chemin)?;
                compte.lignes += 1;
                *compte.rejets.entry(DEFAUTS[kind]).or_default() += 1;
                if multiligne {
                    compte.multilignes += 1;
                }
            }
        }
    }
    sink.finish(&chemin)?;

    let manifeste = Manifeste {
        territoire: t.id.clone(),
        fichier,
        variante: variante.code().to_string(),
        format: variante.extension().to_string(),
        encodage: variante.encodage().to_string(),
        bom: variante.bom(),
        separateur: variante.separateur().map(|s| (s as char).to_string()),
        format_date: variante.format_date().code().to_string(),
        entetes: variante.style_entetes().to_string(),
        colonnes: entetes,
        date_extraction: extraction.to_string(),
        lignes: compte.lignes,
        personnes: compte.personnes,
        lignes_valides: compte.valides,
        doublons: compte.doublons,
        lignes_multilignes: compte.multilignes,
        rejets: DEFAUTS
            .iter()
            .map(|d| (d.to_string(), compte.rejets.get(d).copied().unwrap_or(0)))
            .collect(),
        evenements: compte
            .evenements
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        nir: compte.nir,
        generateur: Provenance {
            version: env!("CARGO_PKG_VERSION").to_string(),
            graine,
            echelle: options.echelle,
            debut: options.debut.format("%Y-%m").to_string(),
            fin: options.fin.format("%Y-%m").to_string(),
            taux_defauts: options.taux_defauts,
            propre: options.propre,
        },
    };
    ecrire_manifeste(&destination.manifestes, &manifeste)?;
    Ok(manifeste)
}

fn opt(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Vide, Cell::Texte)
}

#[derive(Default)]
struct Compte {
    lignes: u64,
    personnes: u64,
    valides: u64,
    doublons: u64,
    multilignes: u64,
    rejets: BTreeMap<&'static str, u64>,
    evenements: BTreeMap<&'static str, u64>,
    nir: ComptesNir,
}

/// The manifest's path: `<manifests>/<territory>/<file>.json`.
pub fn chemin_manifeste(manifestes: &Path, territoire: &str, fichier: &str) -> PathBuf {
    manifestes.join(territoire).join(format!("{fichier}.json"))
}

fn ecrire_manifeste(manifestes: &Path, m: &Manifeste) -> Result<()> {
    let path = chemin_manifeste(manifestes, &m.territoire, &m.fichier);
    let dir = path.parent().expect("has a parent");
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut json = serde_json::to_string_pretty(m).expect("manifest serialises");
    json.push('\n');
    std::fs::write(&path, json).map_err(|source| Error::Io { path, source })
}
