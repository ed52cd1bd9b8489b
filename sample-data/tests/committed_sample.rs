//! The committed sample (`sample-data/echantillon`) is what the generator writes today, and it
//! holds every format variant with its manifest. When the generator changes on purpose,
//! regenerate it with the command of `sample-data/README.md`.

mod reader;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use copil_sample::Variante;
use reader::{drop_path, read_drop, read_manifests};

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("echantillon")
}

#[test]
fn the_committed_sample_is_reproducible_and_honest() {
    let committed = sample_dir();
    let manifests = read_manifests(&committed.join("manifests"));
    let variants: BTreeSet<&str> = manifests.iter().map(|m| m.variante.as_str()).collect();
    assert_eq!(
        variants.len(),
        Variante::ALL.len(),
        "every variant is in the sample"
    );
    for m in &manifests {
        reader::assert_counts(&read_drop(&drop_path(&committed, m), m), m);
    }

    // Regenerate with the documented options: the same bytes.
    let first = &manifests[0].generateur;
    let mut o = copil_sample::Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
    o.graine = first.graine;
    o.echelle = first.echelle;
    o.territoires = Some(manifests.iter().map(|m| m.territoire.clone()).collect());
    let dir = tempfile::tempdir().unwrap();
    let fresh = reader::generate(dir.path(), &o);
    assert_eq!(fresh, manifests, "manifests regenerate identically");
    for m in &fresh {
        let a = std::fs::read(drop_path(dir.path(), m)).unwrap();
        let b = std::fs::read(drop_path(&committed, m)).unwrap();
        assert!(a == b, "{} regenerates to the same bytes", m.fichier);
    }
}
