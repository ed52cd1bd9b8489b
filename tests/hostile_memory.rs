//! Issue 13, done when: under `ulimit -v` of 2 GiB, every hostile file is refused (or held)
//! with a clear message naming what is wrong, the data in place is untouched, and the next run
//! proceeds; reading a 1 GiB decompressed bomb costs under 300 MB of memory. The real `copil`
//! binary runs under the limit; its peak resident memory (`VmHWM`) is sampled while it runs.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use copil_sample::bombs::{gz_bomb, xlsx_bomb};
use support::text;

const LIMIT_KIB: u64 = 2 << 20;

/// Runs `copil ARGS` under `ulimit -v`; returns its output and peak resident memory.
fn limited(config: &Path, args: &[&str]) -> (Output, u64) {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {LIMIT_KIB} && exec \"$@\""))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_copil"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    support::without_copil_env(&mut cmd);
    let child = cmd.spawn().unwrap();
    let status = PathBuf::from(format!("/proc/{}/status", child.id()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0u64;
        while rx.try_recv().is_err() {
            if let Ok(s) = std::fs::read_to_string(&status)
                && let Some(kb) = s
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse::<u64>().ok())
            {
                peak = peak.max(kb * 1024);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    });
    let output = child.wait_with_output().unwrap();
    tx.send(()).unwrap();
    (output, sampler.join().unwrap())
}

#[test]
fn issue_13_hostile_files_under_a_2_gib_address_space_are_refused_and_the_next_run_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    let config = support::init(site);
    let generate =
        |extraction: &str| support::generate(&config, "0.005", extraction, "dep-05", &[]);
    generate("2025-06-30");
    let (first, _) = limited(&config, &["ingest"]);
    assert!(first.status.success(), "{}", text(&first));
    let data = site.join("copil-data");
    let inbox = data.join("inbox");
    let dir = inbox.join("dep-05");
    let header = b"id_personne;date_naissance;date;evenement\n";

    // The hostile files: name, and what its message must name.
    gz_bomb(&dir.join("ligne_20250701.csv.gz"), b"", b"a", 1 << 30).unwrap();
    gz_bomb(&dir.join("zeros_20250702.csv.gz"), header, b"\0", 2 << 30).unwrap();
    gz_bomb(
        &dir.join("lignes_20250703.csv.gz"),
        header,
        b"1;\n",
        300 << 20,
    )
    .unwrap();
    xlsx_bomb(&dir.join("cellule_20250704.xlsx"), 1 << 30).unwrap();
    std::fs::write(dir.join("entete_20250705.csv"), header).unwrap();
    std::fs::write(
        dir.join("futur_20990101.csv"),
        [&header[..], b"x1;1980-01-01;2099-01-01;entree_rsa\n"].concat(),
    )
    .unwrap();
    std::os::unix::fs::symlink("/nulle/part", inbox.join("lien_casse")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(inbox.join("tube"))
            .status()
            .unwrap()
            .success()
    );
    let expected = [
        ("ligne_20250701.csv.gz", "ingest.max_line_bytes"),
        ("zeros_20250702.csv.gz", "ingest.max_line_bytes"),
        ("lignes_20250703.csv.gz", "ingest.max_compression_ratio"),
        ("cellule_20250704.xlsx", "ingest.max_field_bytes"),
        ("entete_20250705.csv", "aucune ligne valide"),
        ("futur_20990101.csv", "postérieure à aujourd'hui"),
    ];

    let (hostile, peak) = limited(&config, &["ingest"]);
    let said = text(&hostile);
    assert!(!hostile.status.success(), "refusals make a non-zero exit");
    assert!(!said.contains("panicked"), "{said}");
    for (name, why) in expected {
        let line = said
            .lines()
            .skip_while(|l| !l.contains(name))
            .take(12)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(line.contains(why), "{name}: {why} not in\n{said}");
    }
    assert!(
        said.contains("lien_casse") && said.contains("tube"),
        "{said}"
    );
    eprintln!("peak resident memory: {} MiB", peak >> 20);
    assert!(
        peak < 300 << 20,
        "peak resident memory {} MiB while reading 4 GiB of bombs",
        peak >> 20
    );

    // Nothing hostile is left to retry; the next run, still limited, integrates a real drop.
    generate("2025-08-31");
    let (next, _) = limited(&config, &["ingest"]);
    let said = text(&next);
    assert!(next.status.success(), "{said}");
    assert!(said.contains("1 intégré(s)"), "{said}");
    assert!(said.contains("0 refusé(s)"), "{said}");
}
