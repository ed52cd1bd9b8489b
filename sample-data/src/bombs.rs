//! Hostile drops for the tests of the ingestion's limits (issue 13): compression bombs that
//! are a few MB on disk and expand to gigabytes. Behind the `bombs` feature: for tests only.

use std::io::{self, Write};
use std::path::Path;

/// A `.csv.gz` of `prefix` then `total` bytes of `block` repeated, written as many gzip members
/// of one compressed 8 MiB block (a valid `.csv.gz` that `MultiGzDecoder` reads whole): fast to
/// make, a few MB on disk.
pub fn gz_bomb(path: &Path, prefix: &[u8], block: &[u8], total: u64) -> io::Result<()> {
    let chunk: Vec<u8> = block.iter().copied().cycle().take(8 << 20).collect();
    let member = |bytes: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes)?;
        e.finish()
    };
    let compressed = member(&chunk)?;
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(&member(prefix)?)?;
    for _ in 0..total / chunk.len() as u64 {
        out.write_all(&compressed)?;
    }
    out.flush()
}

/// A workbook whose only sheet holds the contract's header then one cell of `cell_bytes`
/// bytes: a real workbook's parts, its sheet rewritten and streamed into the archive (a few
/// MB).
pub fn xlsx_bomb(path: &Path, cell_bytes: u64) -> io::Result<()> {
    let header = ["id_personne", "date_naissance", "date", "evenement"];
    let model = path.with_extension("modele.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(io::Error::other)?;
    }
    wb.save(&model).map_err(io::Error::other)?;
    let mut source = zip::ZipArchive::new(std::fs::File::open(&model)?)?;
    let mut out = zip::ZipWriter::new(std::fs::File::create(path)?);
    for i in 0..source.len() {
        let entry = source.by_index(i)?;
        if entry.name_raw() != b"xl/worksheets/sheet1.xml" {
            out.raw_copy_file(entry)?;
        }
    }
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    out.start_file("xl/worksheets/sheet1.xml", options)?;
    let mut head = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">",
    );
    for (c, h) in ["A", "B", "C", "D"].iter().zip(header) {
        head.push_str(&format!(
            "<c r=\"{c}1\" t=\"inlineStr\"><is><t>{h}</t></is></c>"
        ));
    }
    head.push_str("</row><row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>");
    out.write_all(head.as_bytes())?;
    let chunk = vec![b'a'; 8 << 20];
    for _ in 0..cell_bytes / chunk.len() as u64 {
        out.write_all(&chunk)?;
    }
    out.write_all(b"</t></is></c></row></sheetData></worksheet>")?;
    out.finish()?;
    std::fs::remove_file(&model)
}
