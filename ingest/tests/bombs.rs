//! Issue 13: compression bombs. A 1 MB `.csv.gz` expanding to a 1 GiB line took the process
//! from 1.3 to 6.5 GB; a 2 MB gzip of a header and 2 GiB of zeros peaked at 4.3 GB and wiped
//! its territory; 100 M short lines ran past 90 s; a 1 MB XLSX with one 1 GiB cell took
//! 4.3 GB. Each is now refused with the limit named,
//! quickly, in bounded memory, and moved aside so that it is never retried.
//!
//! One test in this file: the process's peak memory (`VmHWM`) is its own.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Site, files_under, options};
use copil_ingest::Status;

/// A gzip file of `prefix` then `total` bytes of `block` repeated, written as many gzip
/// members of one compressed 8 MiB block (a valid `.csv.gz` that `MultiGzDecoder` reads whole):
/// fast to make, a few MB on disk.
fn bomb(path: &Path, prefix: &[u8], block: &[u8], total: u64) {
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

/// A workbook whose sheet holds the contract's header then one cell of `cell_bytes` bytes:
/// a real workbook's parts, its sheet rewritten and streamed into the archive (a few MB).
fn xlsx_bomb(path: &Path, cell_bytes: u64) {
    let model = path.with_extension("modele.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["id_personne", "date_naissance", "date", "evenement"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
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
    out.write_all(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>\
          <row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>id_personne</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>date_naissance</t></is></c>\
          <c r=\"C1\" t=\"inlineStr\"><is><t>date</t></is></c><c r=\"D1\" t=\"inlineStr\"><is><t>evenement</t></is></c></row>\
          <row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>",
    )
    .unwrap();
    let chunk = vec![b'a'; 8 << 20];
    for _ in 0..cell_bytes / chunk.len() as u64 {
        out.write_all(&chunk).unwrap();
    }
    out.write_all(b"</t></is></c></row></sheetData></worksheet>")
        .unwrap();
    out.finish().unwrap();
    std::fs::remove_file(&model).unwrap();
}

/// The process's peak resident memory, in bytes (Linux).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_compression_bombs_are_refused_with_the_limit_named_in_bounded_memory() {
    let site = Site::new();
    let m = site
        .generate("inbox", &options(&["dep-05"], 0.005))
        .remove(0);
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
        bomb(&dir.join(name), prefix, block, *total);
        let size = std::fs::metadata(dir.join(name)).unwrap().len();
        assert!(size < 4 << 20, "{name}: {size} bytes on disk");
    }
    // A workbook with one 1 GiB cell.
    let cellule = dir.join("cellule_20250704.xlsx");
    xlsx_bomb(&cellule, 1 << 30);
    let size = std::fs::metadata(&cellule).unwrap().len();
    assert!(size < 16 << 20, "cellule: {size} bytes on disk");
    let before = peak_rss();
    let started = Instant::now();
    let run = site.ingest("inbox").await;
    let elapsed = started.elapsed();
    let after = peak_rss();

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
