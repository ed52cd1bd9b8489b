//! The manifest of an export: versions, filters, project, rows, bytes, SHA-256 of the data
//! file and its columns, written beside the data file when it is moved in place.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use copil_queries::Results;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::dictionary::column_list;
use crate::error::{Result, write_error};
use crate::plan::{DICTIONARY_SUFFIX, Format, Kind, Plan};

/// SHA-256 and size of a file, read in bounded memory.
fn digest_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

/// What the manifest of a microdata export says of its pseudonyms (issue 13).
const PSEUDONYMS: &str = "Colonne personne : HMAC-SHA-256 du pseudonyme de l'entrepôt sous une clé propre au projet, tronqué à 128 bits ; lignes triées par ce pseudonyme. Aucun identifiant commun entre deux projets ; en revanche la suite des événements d'une personne (dates, types, territoire) est la même d'un projet à l'autre et peut suffire à rapprocher deux exports.";

/// Writes the manifest of a freshly written data file, then moves both in place.
pub(crate) fn finish(
    dir: &Path,
    threshold: i64,
    plan: &Plan,
    results: &Results,
    temp: &Path,
    rows: u64,
) -> Result<Value> {
    let io = |e| write_error(plan.kind.name(), e);
    let (sha256, size) = digest_file(temp).map_err(io)?;
    let mut manifest = json!({
        "fichier": plan.file_name(),
        "export": plan.kind.name(),
        "format": plan.format.ext(),
        "type_contenu": plan.format.content_type(),
        "versions": plan.versions,
        "filtres": plan.filtres,
        "parametres": plan.query,
        "projet": plan.projet,
        "lignes": rows,
        "octets": size,
        "sha256": sha256,
        "colonnes": column_list(plan.kind, threshold).iter().map(|(n, t, _)| json!({ "nom": n, "type": t })).collect::<Vec<_>>(),
        "dictionnaire": format!("{}{DICTIONARY_SUFFIX}", plan.kind.name()),
        "calcule_le": results.calcule_le.map(|d| d.to_rfc3339()),
        "logiciel": format!("copil {}", env!("CARGO_PKG_VERSION")),
    });
    match plan.kind {
        Kind::Indicateurs => {
            manifest["seuil_secret"] = json!(threshold);
            manifest["secret"] = json!(
                "Une case couvrant moins de personnes que le seuil, ou cachée par secret secondaire, a secret = true et tous ses chiffres vides ; le numérateur et le dénominateur d'un délai ne sont jamais publiés."
            );
        }
        Kind::Micro(_) => {
            manifest["pseudonymisation"] = json!(PSEUDONYMS);
        }
    }
    if plan.format == Format::Csv {
        manifest["separateur"] = json!(";");
        manifest["separateur_decimal"] = json!(".");
        manifest["encodage"] = json!("UTF-8 avec BOM");
    }
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| write_error(plan.kind.name(), e))?
        + "\n";
    let manifest_temp = plan.temp_path(dir, "manifeste");
    std::fs::write(&manifest_temp, text.as_bytes()).map_err(io)?;
    std::fs::rename(temp, plan.data_path(dir)).map_err(io)?;
    std::fs::rename(&manifest_temp, plan.manifest_path(dir)).map_err(io)?;
    Ok(manifest)
}
