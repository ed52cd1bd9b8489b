//! Issue 16: one CSV drop read on every core gives what one thread gives: the same rows, the
//! same rejects with the same line numbers, the same Parquet bytes.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use common::{Site, files_under};
use copil_ingest::{Silent, Status};

/// A drop of about 4 MB (several chunks): BOM, CRLF (some LF), blank lines, quoted line
/// breaks of every kind in an extra column, doubled quotes, rejected rows and duplicates all
/// along. Returns the text and the line of each rejected row with its reason.
fn drop_text() -> (String, BTreeMap<u64, &'static str>) {
    let mut text =
        String::from("\u{feff}id_personne;date_naissance;date;evenement;motif;commentaire\r\n");
    let mut line = 2u64;
    let mut rejected = BTreeMap::new();
    let notes = [
        "\"deux\r\nlignes\"",
        "\"un \"\"mot\"\"\nsur deux lignes\"",
        "\"trois\r\r\nlignes\"",
        "\"a;b\"",
        "",
    ];
    for i in 0..52_000u64 {
        let p = i / 4;
        let (evenement, motif) = if i % 97 == 13 {
            rejected.insert(line, "code_inconnu");
            ("evenement_inconnu", "")
        } else if i % 2 == 0 {
            ("droit_ouvert", "")
        } else {
            ("droit_suspendu", "sanction")
        };
        let note = notes[(i % 11) as usize % notes.len()];
        let row = format!(
            "P{p};03/07/19{:02};{:02}/{:02}/2024;{evenement};{motif};{note}",
            50 + p % 40,
            1 + i % 28,
            1 + i % 12
        );
        let end = if i % 5 == 0 { "\n" } else { "\r\n" };
        let _ = write!(text, "{row}{end}");
        line += 1 + note.matches('\n').count() as u64 + note.matches("\r\r").count() as u64;
        if i % 131 == 7 {
            rejected.insert(line, "doublon");
            let _ = write!(text, "{row}{end}");
            line += 1 + note.matches('\n').count() as u64 + note.matches("\r\r").count() as u64;
        }
        if i % 1009 == 0 {
            text.push_str("\r\n");
            line += 1;
        }
    }
    (text, rejected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_a_drop_read_on_every_core_gives_the_rows_rejects_lines_and_bytes_of_one_thread() {
    let (text, expected) = drop_text();
    assert!(text.len() > 3 << 20, "several chunks: {} bytes", text.len());
    let one = Site::new();
    let many = Site::new();
    std::fs::copy(one.path("cle.key"), many.path("cle.key")).unwrap();
    let mut outputs = Vec::new();
    for (site, threads) in [(&one, 1), (&many, 3)] {
        let dir = site.path("inbox/dep-05");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("base_20250101.csv"), &text).unwrap();
        let ingestor = site
            .ingestor_with("inbox", |i| i.set_threads_per_drop(threads))
            .await;
        let run = ingestor
            .run_once(std::sync::Arc::new(Silent))
            .await
            .unwrap();
        let d = run.drops.into_iter().next().unwrap();
        assert_eq!(d.statut, Status::Integre, "{threads} thread(s): {d:?}");
        let rejects: BTreeMap<u64, String> = site
            .rows("rejets", "ligne, motif", "dep-05")
            .await
            .into_iter()
            .map(|r| (r[0].parse().unwrap(), r[1].clone()))
            .collect();
        // The Parquet files of each table, byte for byte (their names are random).
        let mut parquet: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for f in files_under(&site.path("entrepot")) {
            let table = f.strip_prefix(site.path("entrepot")).unwrap();
            let table = table.parent().unwrap().to_string_lossy().into_owned();
            // `depots` says when and how long: not the staged data.
            let staged = ["evenements", "personnes", "rejets"]
                .iter()
                .any(|t| table.starts_with(t));
            if staged && f.extension().is_some_and(|e| e == "parquet") {
                assert!(parquet.insert(table, std::fs::read(&f).unwrap()).is_none());
            }
        }
        outputs.push((
            (
                d.lignes_lues,
                d.lignes_integrees,
                d.rejets.clone(),
                d.personnes,
            ),
            (d.encodage.clone(), d.separateur),
            rejects,
            parquet,
        ));
    }
    let (counts, detected, rejects, parquet) = &outputs[0];
    assert_eq!(
        counts.0,
        52_000 + expected.values().filter(|m| **m == "doublon").count() as u64
    );
    assert_eq!(detected, &(Some("UTF-8 (BOM)".to_string()), Some(';')));
    let expected: BTreeMap<u64, String> = expected
        .into_iter()
        .map(|(l, m)| (l, m.to_string()))
        .collect();
    assert_eq!(
        rejects, &expected,
        "rejected rows named by their line in the file"
    );
    assert!(
        parquet.len() >= 3,
        "evenements, personnes, rejets: {:?}",
        parquet.keys()
    );
    assert_eq!(outputs[1].0, outputs[0].0, "counts");
    assert_eq!(outputs[1].1, outputs[0].1, "encoding and separator");
    assert_eq!(outputs[1].2, outputs[0].2, "rejects and their lines");
    assert_eq!(
        outputs[1].3.keys().collect::<Vec<_>>(),
        parquet.keys().collect::<Vec<_>>()
    );
    for (table, bytes) in parquet {
        assert!(
            outputs[1].3[table] == *bytes,
            "{table}: the same Parquet bytes"
        );
    }
}
