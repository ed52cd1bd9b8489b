//! Issue 13: compression bombs. A 1 MB `.csv.gz` expanding to a 1 GiB line took the process
//! from 1.3 to 6.5 GB; a 2 MB gzip of a header and 2 GiB of zeros peaked at 4.3 GB and wiped
//! its territory; 100 M short lines ran past 90 s; a 1 MB XLSX with one 1 GiB cell took
//! 4.3 GB. Each is now refused with the limit named,
//! quickly, in bounded memory, and moved aside so that it is never retried.
//!
//! One test in this file: the process's peak memory (`VmHWM`) is its own.

mod common;

use std::time::{Duration, Instant};

use common::{Site, files_under};
use copil_ingest::Status;
use copil_sample::bombs::{gz_bomb, xlsx_bomb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_compression_bombs_are_refused_with_the_limit_named_in_bounded_memory() {
    let site = Site::new();
    let m = site.generate_one("inbox", "dep-05", 0.005);
    site.ingest("inbox").await;
    assert!(m.lignes_valides > 100);
    let header = b"id_personne;date_naissance;date;evenement\n";
    let dir = site.path("inbox/dep-05");
    let cases = [
        // One 1 GiB line.
        (
            "ligne_20250701.csv.gz",
            &b""[..],
            &b"a"[..],
            1u64 << 30,
            "ingest.max_line_bytes",
        ),
        // A header, then 2 GiB of zeros (one endless line 2).
        (
            "zeros_20250702.csv.gz",
            &header[..],
            &b"\0"[..],
            2 << 30,
            "ingest.max_line_bytes",
        ),
        // A header, then 100 M short lines.
        (
            "lignes_20250703.csv.gz",
            &header[..],
            &b"1;\n"[..],
            300 << 20,
            "ingest.max_compression_ratio",
        ),
    ];
    for (name, prefix, block, total, _) in &cases {
        gz_bomb(&dir.join(name), prefix, block, *total).unwrap();
        let size = std::fs::metadata(dir.join(name)).unwrap().len();
        assert!(size < 4 << 20, "{name}: {size} bytes on disk");
    }
    // A workbook with one 1 GiB cell.
    let cellule = dir.join("cellule_20250704.xlsx");
    xlsx_bomb(&cellule, 1 << 30).unwrap();
    let size = std::fs::metadata(&cellule).unwrap().len();
    assert!(size < 16 << 20, "cellule: {size} bytes on disk");
    let before = copil_sample::memoire::peak_rss_bytes().expect("VmHWM");
    let started = Instant::now();
    let run = site.ingest("inbox").await;
    let elapsed = started.elapsed();
    let after = copil_sample::memoire::peak_rss_bytes().expect("VmHWM");

    assert_eq!(run.drops.len(), 4);
    let xlsx = [(
        "cellule_20250704.xlsx",
        &b""[..],
        &b""[..],
        0u64,
        "ingest.max_field_bytes",
    )];
    for (name, _, _, _, key) in cases.iter().chain(&xlsx) {
        let d = run.drops.iter().find(|d| d.fichier == *name).unwrap();
        match &d.statut {
            Status::Refuse(m) => {
                assert!(
                    m.contains(key) && m.contains("limite dépassée"),
                    "{name}: {m}"
                )
            }
            other => panic!("{name}: {other:?}"),
        }
        // Moved aside with its report: never retried in a loop.
        assert!(site.path("refuses/dep-05").join(name).exists(), "{name}");
    }
    assert!(
        files_under(&site.path("inbox")).is_empty(),
        "nothing left to retry"
    );
    // The data in place is untouched.
    assert_eq!(
        site.count("evenements", "dep-05").await as u64,
        m.lignes_valides
    );
    assert!(elapsed < Duration::from_secs(60), "refused in {elapsed:?}");
    // Bounded memory: reading 4.3 GiB of hostile text adds almost nothing to the peak.
    assert!(
        after < before + (96 << 20),
        "peak memory grew from {} to {} MiB",
        before >> 20,
        after >> 20
    );
    assert!(after < 1 << 30, "peak memory {} MiB", after >> 20);
    // A second run has nothing to do.
    assert!(site.ingest("inbox").await.drops.is_empty());
}
