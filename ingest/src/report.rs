//! What happened to a drop, told in French.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use chrono::NaiveDate;
use copil_warehouse::vocabulary::RejectReason;

/// The outcome of a drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Landed: the territory's data is replaced.
    Integre,
    /// The same bytes were already landed: nothing changed.
    DejaIntegre,
    /// Refused whole, with the reason.
    Refuse(String),
    /// Valid but held for review (no valid row, too many rejects, too many people lost, an
    /// extraction date in the future), with the reason: the data in place stays.
    EnAttente(String),
    /// Not processed because of a fault of the machine (disk, warehouse): left in the inbox,
    /// retried at the next run.
    Echec(String),
}

/// One drop's report.
#[derive(Debug, Clone)]
pub struct DropReport {
    /// Territory id (or the folder's name when unknown).
    pub territoire: String,
    /// File name.
    pub fichier: String,
    /// SHA-256 of the file (empty if it could not be read).
    pub depot: String,
    /// Outcome.
    pub statut: Status,
    /// Extraction date from the name.
    pub date_extraction: Option<NaiveDate>,
    /// Data rows read.
    pub lignes_lues: u64,
    /// Rows landed.
    pub lignes_integrees: u64,
    /// Rows rejected, by reason.
    pub rejets: BTreeMap<RejectReason, u64>,
    /// Distinct people landed.
    pub personnes: u64,
    /// Encoding found.
    pub encodage: Option<String>,
    /// Separator found.
    pub separateur: Option<char>,
    /// Columns outside the contract (names only).
    pub colonnes_ignorees: Vec<String>,
    /// Direct identifiers the file carried, never read (names only).
    pub identifiants_ignores: Vec<String>,
    /// Processing time.
    pub duree: Duration,
    /// Versions of `evenements`, `personnes`, `rejets` after the commit.
    pub versions: Option<[u64; 3]>,
}

impl DropReport {
    pub(crate) fn new(territoire: &str, fichier: &str) -> Self {
        Self {
            territoire: territoire.to_string(),
            fichier: fichier.to_string(),
            depot: String::new(),
            statut: Status::Integre,
            date_extraction: None,
            lignes_lues: 0,
            lignes_integrees: 0,
            rejets: BTreeMap::new(),
            personnes: 0,
            encodage: None,
            separateur: None,
            colonnes_ignorees: Vec::new(),
            identifiants_ignores: Vec::new(),
            duree: Duration::ZERO,
            versions: None,
        }
    }

    /// Rows rejected, all reasons.
    pub fn lignes_rejetees(&self) -> u64 {
        self.rejets.values().sum()
    }

    /// Rows rejected for one reason.
    pub fn rejets_pour(&self, reason: RejectReason) -> u64 {
        self.rejets.get(&reason).copied().unwrap_or(0)
    }

    /// The report in French, a few lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let title = match &self.statut {
            Status::Integre => "intégré",
            Status::DejaIntegre => "déjà intégré (mêmes octets) : rien ne change",
            Status::Refuse(_) => "REFUSÉ",
            Status::EnAttente(_) => {
                "EN ATTENTE d'examen : les données en place restent en vigueur (copil integrer --liberer pour l'intégrer)"
            }
            Status::Echec(_) => {
                "NON TRAITÉ (incident technique) : laissé dans la boîte, nouvel essai au prochain passage"
            }
        };
        let _ = writeln!(out, "[{}] {} — {}", self.territoire, self.fichier, title);
        match &self.statut {
            Status::Refuse(reason) | Status::EnAttente(reason) => {
                let _ = writeln!(out, "  motif : {reason}");
            }
            Status::Echec(reason) => {
                let _ = writeln!(out, "  cause : {reason}");
            }
            _ => {}
        }
        if let Some(d) = self.date_extraction {
            let _ = writeln!(out, "  données au {}", d.format("%d/%m/%Y"));
        }
        if self.statut == Status::Integre
            || (matches!(self.statut, Status::EnAttente(_)) && self.lignes_lues > 0)
        {
            let _ = writeln!(
                out,
                "  {} lignes lues : {} intégrées, {} écartées ; {} personnes",
                self.lignes_lues,
                self.lignes_integrees,
                self.lignes_rejetees(),
                self.personnes
            );
            for (reason, n) in self.rejets.iter().filter(|(_, n)| **n > 0) {
                let _ = writeln!(out, "    {n} × {}", reason.label());
            }
            if let (Some(e), Some(s)) = (&self.encodage, self.separateur) {
                let sep = match s {
                    '\t' => "tabulation".to_string(),
                    c => format!("« {c} »"),
                };
                let _ = writeln!(out, "  fichier {e}, séparateur {sep}");
            } else if let Some(e) = &self.encodage {
                let _ = writeln!(out, "  fichier {e}");
            }
            if !self.identifiants_ignores.is_empty() {
                let _ = writeln!(
                    out,
                    "  identifiants directs ignorés (jamais lus) : {}",
                    self.identifiants_ignores.join(", ")
                );
            }
            if !self.colonnes_ignorees.is_empty() {
                let _ = writeln!(
                    out,
                    "  colonnes hors contrat ignorées : {}",
                    self.colonnes_ignorees.join(", ")
                );
            }
            let _ = writeln!(out, "  traité en {:.1} s", self.duree.as_secs_f64());
        }
        out
    }
}
