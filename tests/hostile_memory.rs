//! Issue 13, done when: under `ulimit -v` of 2 GiB, every hostile file is refused (or held)
//! with a clear message naming what is wrong, the data in place is untouched, and the next run
//! proceeds; reading a 1 GiB decompressed bomb costs under 300 MB of memory. The real `copil`
//! binary runs under the limit; its peak resident memory (`VmHWM`) is sampled while it runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const LIMIT_KIB: u64 = 2 << 20;

fn copil(config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copil"));
    cmd.arg("--config").arg(config);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("COPIL_")) {
        cmd.env_remove(k);
    }
    cmd
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("COPIL_")) {
        cmd.env_remove(k);
    }
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

/// A `.csv.gz` of `prefix` then `total` bytes of `block` repeated, as gzip members of one
/// compressed 8 MiB block: a few MB on disk.
fn gz_bomb(path: &Path, prefix: &[u8], block: &[u8], total: u64) {
    let chunk: Vec<u8> = block.iter().copied().cycle().take(8 << 20).collect();
    let member = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    let compressed = member(&chunk);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(&member(prefix)).unwrap();
    for _ in 0..total / chunk.len() as u64 {
        out.write_all(&compressed).unwrap();
    }
    out.flush().unwrap();
}

/// A workbook whose only sheet holds the contract's header then one cell of `cell_bytes`.
fn xlsx_bomb(path: &Path, cell_bytes: u64) {
    let model = path.with_extension("modele.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet()
        .write_string(0, 0, "id_personne")
        .unwrap();
    wb.save(&model).unwrap();
    let mut source = zip::ZipArchive::new(std::fs::File::open(&model).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..source.len() {
        let entry = source.by_index(i).unwrap();
        if entry.name_raw() != b"xl/worksheets/sheet1.xml" {
            out.raw_copy_file(entry).unwrap();
        }
    }
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    out.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    let mut head = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">",
    );
    for (c, h) in
        ["A", "B", "C", "D"]
            .iter()
            .zip(["id_personne", "date_naissance", "date", "evenement"])
    {
        head.push_str(&format!(
            "<c r=\"{c}1\" t=\"inlineStr\"><is><t>{h}</t></is></c>"
        ));
    }
    head.push_str("</row><row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>");
    out.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'a'; 8 << 20];
    for _ in 0..cell_bytes / chunk.len() as u64 {
        out.write_all(&chunk).unwrap();
    }
    out.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .unwrap();
    out.finish().unwrap();
    std::fs::remove_file(&model).unwrap();
}

#[test]
fn issue_13_hostile_files_under_a_2_gib_address_space_are_refused_and_the_next_run_proceeds() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    assert!(
        Command::new(env!("CARGO_BIN_EXE_copil"))
            .arg("init")
            .arg(site)
            .output()
            .unwrap()
            .status
            .success()
    );
    let config = site.join("copil.toml");
    let generate = |to: &str, date: &str| {
        let o = copil(&config)
            .args([
                "generate",
                "--echelle",
                "0.005",
                "--to",
                to,
                "--date-extraction",
                date,
                "--territories",
                "dep-05",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
    };
    generate("2025-06", "2025-06-30");
    let (first, _) = limited(&config, &["ingest"]);
    assert!(first.status.success(), "{}", text(&first));
    let data = site.join("copil-data");
    let inbox = data.join("inbox");
    let dir = inbox.join("dep-05");
    let header = b"id_personne;date_naissance;date;evenement\n";

    // The hostile files: name, and what its message must name.
    gz_bomb(&dir.join("ligne_20250701.csv.gz"), b"", b"a", 1 << 30);
    gz_bomb(&dir.join("zeros_20250702.csv.gz"), header, b"\0", 2 << 30);
    gz_bomb(
        &dir.join("lignes_20250703.csv.gz"),
        header,
        b"1;\n",
        300 << 20,
    );
    xlsx_bomb(&dir.join("cellule_20250704.xlsx"), 1 << 30);
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
    generate("2025-08", "2025-08-31");
    let (next, _) = limited(&config, &["ingest"]);
    let said = text(&next);
    assert!(next.status.success(), "{said}");
    assert!(said.contains("1 intégré(s)"), "{said}");
    assert!(said.contains("0 refusé(s)"), "{said}");
}
