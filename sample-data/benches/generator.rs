//! Generator throughput at 1 M people (issue #2): rows per second, bytes written and peak memory.
//!
//! `cargo bench -p copil-sample --bench generator` prints the figures;
//! add `-- --ecrire` to also update the generator's section of `docs/benchmarks.md`.

use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;
use copil_sample::{Destination, FOYERS_NATIONAUX, Options};
use copil_warehouse::{Departments, Register};

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        total += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    total
}

fn main() {
    let write = std::env::args().any(|a| a == "--ecrire");
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let mut options = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
    options.echelle = 1_000_000.0 / FOYERS_NATIONAUX;
    let dir = tempfile::tempdir().unwrap();
    let dest = Destination {
        inbox: dir.path().join("inbox"),
        manifestes: dir.path().join("manifests"),
    };
    let started = Instant::now();
    let manifests =
        copil_sample::generer(&register, &departments, &options, &dest, &|_| {}).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = manifests.iter().map(|m| m.lignes).sum();
    let people: u64 = manifests.iter().map(|m| m.personnes).sum();
    let bytes = dir_size(&dest.inbox);
    let rss = copil_sample::memoire::peak_rss_mib();
    let threads = options.fils;
    let table = format!(
        "| personnes | lignes | octets écrits | fils | durée | lignes/s | personnes/s | mémoire max (RSS) |\n\
         |---|---|---|---|---|---|---|---|\n\
         | {people} | {rows} | {:.0} Mio | {threads} | {seconds:.1} s | {:.0} | {:.0} | {rss:.0} Mio |\n",
        bytes as f64 / 1048576.0,
        rows as f64 / seconds,
        people as f64 / seconds,
    );
    println!("{table}");
    if write {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
        let text = std::fs::read_to_string(&doc).unwrap_or_default();
        let (start, end) = ("<!-- generateur:debut -->", "<!-- generateur:fin -->");
        let section = format!(
            "{start}\nMesuré le {} (release, {} territoires, 68 dépôts dont {} classeurs XLSX) :\n\n{table}{end}",
            chrono::Utc::now().format("%Y-%m-%d"),
            manifests.len(),
            manifests.iter().filter(|m| m.format == "xlsx").count(),
        );
        let updated = match (text.find(start), text.find(end)) {
            (Some(a), Some(b)) => format!("{}{section}{}", &text[..a], &text[b + end.len()..]),
            _ => format!("{text}\n{section}\n"),
        };
        std::fs::write(&doc, updated).unwrap();
        println!("docs/benchmarks.md mis à jour");
    }
}
