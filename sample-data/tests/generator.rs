//! The generator's promises, checked by reading its files back (issue #2).

mod reader;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use copil_sample::Variante;
use copil_warehouse::vocabulary::{COLUMNS, ColumnRole};
use reader::{FIVE, classify, drop_path, generate, options, parse_date, read_drop, read_manifests};
use sha2::{Digest, Sha256};

/// Every file under `dir`, with the SHA-256 of its bytes.
fn digest_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, hex::encode(Sha256::digest(std::fs::read(&p).unwrap())));
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let o = options(&FIVE);
    generate(a.path(), &o);
    let mut single_thread = o.clone();
    single_thread.fils = 1;
    generate(b.path(), &single_thread);
    let mut other = o;
    other.graine = 2;
    generate(c.path(), &other);
    let (da, db, dc) = (
        digest_tree(a.path()),
        digest_tree(b.path()),
        digest_tree(c.path()),
    );
    assert_eq!(da.len(), 10, "5 drops and 5 manifests: {da:?}");
    assert_eq!(
        da, db,
        "same seed and options, same bytes (whatever the threads)"
    );
    let drops_a: BTreeSet<&String> = da
        .iter()
        .filter(|(k, _)| k.starts_with("inbox"))
        .map(|(_, v)| v)
        .collect();
    let drops_c: BTreeSet<&String> = dc
        .iter()
        .filter(|(k, _)| k.starts_with("inbox"))
        .map(|(_, v)| v)
        .collect();
    assert!(
        drops_a.is_disjoint(&drops_c),
        "another seed changes every drop"
    );
}

#[test]
fn every_messy_variant_is_present_and_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = generate(dir.path(), &options(&FIVE));
    assert_eq!(
        read_manifests(&dir.path().join("manifests")).len(),
        5,
        "one manifest per drop, beside the inbox"
    );
    let variants: BTreeSet<&str> = manifests.iter().map(|m| m.variante.as_str()).collect();
    let all: BTreeSet<&str> = Variante::ALL.iter().map(|v| v.code()).collect();
    assert_eq!(
        variants, all,
        "the five territories cover the five variants"
    );

    for m in &manifests {
        let path = drop_path(dir.path(), m);
        let drop = read_drop(&path, m);
        let extraction = NaiveDate::parse_from_str(&m.date_extraction, "%Y-%m-%d").unwrap();
        reader::assert_counts(&drop, m);
        let ctx = &m.fichier;

        // The mess is really there, in the proportions asked for.
        assert!(m.doublons > 0, "{ctx}: has duplicates");
        assert!(m.lignes_multilignes > 0, "{ctx}: has quoted line breaks");
        let broken: u64 = m.rejets.values().sum();
        let share = broken as f64 / m.lignes as f64;
        assert!(
            (0.002..0.01).contains(&share),
            "{ctx}: broken share {share}"
        );
        assert!(
            m.nir.valides > 3 * (m.nir.invalides + m.nir.absents),
            "{ctx}: most NIRs are valid"
        );
        for identifier in ["nom", "prenom", "adresse", "telephone", "courriel"] {
            let i = drop.col(identifier);
            assert!(
                drop.rows.iter().filter(|r| !r[i].is_empty()).count() > drop.rows.len() / 2,
                "{ctx}: fake {identifier}"
            );
        }
        // The file's own name carries the extraction date, as the contract asks.
        let name = copil_ingest::DropName::parse(&m.fichier).unwrap();
        assert_eq!(name.extraction, extraction);

        match m.variante.as_str() {
            "windows1252-point-virgule" => {
                assert!(drop.raw_bytes.windows(2).any(|w| w == b"\r\n"), "CRLF");
                assert!(m.colonnes.iter().any(|c| c == "Date de naissance"));
                assert!(drop.rows.iter().any(|r| r[drop.col("date")].contains('/')));
            }
            "utf8-bom-point-virgule" => {
                assert!(drop.raw_bytes.starts_with(b"\xEF\xBB\xBF\"ID_PERSONNE\";"))
            }
            "utf8-virgule" => assert!(drop.raw_bytes.starts_with(b"id_personne,nir,")),
            "utf8-tabulation-gz" => assert_eq!(drop.columns[0], "date", "event columns first"),
            "xlsx" => assert!(m.colonnes.iter().any(|c| c == "Événement")),
            other => panic!("variant {other}"),
        }
    }
}

#[test]
fn each_variant_holds_the_same_valid_rows_as_its_clean_twin() {
    // The contract's columns, direct identifiers aside.
    let person_and_event: Vec<&str> = COLUMNS
        .iter()
        .filter(|c| c.role != ColumnRole::DirectIdentifier)
        .map(|c| c.name)
        .collect();
    for v in Variante::ALL {
        let (messy_dir, clean_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut o = options(&["dep-23"]);
        o.variante = Some(v);
        let messy = generate(messy_dir.path(), &o).remove(0);
        o.variante = Some(Variante::Utf8Virgule);
        o.propre = true;
        let clean = generate(clean_dir.path(), &o).remove(0);
        assert_eq!(
            clean.doublons + clean.rejets.values().sum::<u64>() + clean.lignes_multilignes,
            0
        );

        let extraction = NaiveDate::parse_from_str(&messy.date_extraction, "%Y-%m-%d").unwrap();
        let canonical = |dir: &Path, m: &copil_sample::Manifeste| -> BTreeSet<Vec<String>> {
            let d = read_drop(&drop_path(dir, m), m);
            d.rows
                .iter()
                .filter(|r| classify(&d, r, extraction).is_none())
                .map(|r| {
                    person_and_event
                        .iter()
                        .map(|c| {
                            let s = &r[d.col(c)];
                            if c.starts_with("date") {
                                parse_date(s).unwrap().to_string()
                            } else {
                                s.clone()
                            }
                        })
                        .collect()
                })
                .collect()
        };
        let a = canonical(messy_dir.path(), &messy);
        let b = canonical(clean_dir.path(), &clean);
        assert_eq!(a.len() as u64, messy.lignes_valides, "{v:?}");
        assert!(
            a == b,
            "{v:?}: the messy drop's valid rows are its clean twin's rows"
        );
    }
}

#[test]
fn options_out_of_range_are_refused_with_the_option_named() {
    let dir = tempfile::tempdir().unwrap();
    let departments = copil_warehouse::Departments::builtin();
    let register = copil_warehouse::Register::builtin(&departments);
    let dest = copil_sample::Destination {
        inbox: dir.path().join("i"),
        manifestes: dir.path().join("m"),
    };
    let mut o = options(&["dep-99"]);
    let e = copil_sample::generer(&register, &departments, &o, &dest, &|_| {})
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "option --territories : territoires inconnus du registre : dep-99"
    );
    o.territoires = None;
    o.echelle = 0.0;
    let e = copil_sample::generer(&register, &departments, &o, &dest, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("option --echelle"), "{e}");
    assert!(
        !dir.path().join("i").exists(),
        "nothing written when refused"
    );
}
