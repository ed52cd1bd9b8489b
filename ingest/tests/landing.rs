//! Ingestion of generated drops (issue #3): exact counts against the generator's manifests,
//! clean twins, privacy, idempotency, replacement, concurrency and refusals.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{FIVE, Site, by_territory, files_under, options};
use copil_ingest::{Silent, Status};
use copil_sample::Variante;
use copil_warehouse::vocabulary::RejectReason;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drop_lands_exactly_what_its_manifest_says() {
    let site = Site::new();
    let manifests = by_territory(&site.generate("inbox", &options(&FIVE, 0.01)));
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops.len(), 5);
    assert_eq!(run.refused(), 0);
    let variants: BTreeSet<&str> = manifests.values().map(|m| m.variante.as_str()).collect();
    assert_eq!(variants.len(), 5, "all five variants are exercised");
    for d in &run.drops {
        let m = &manifests[&d.territoire];
        let ctx = format!("{} ({})", m.fichier, m.variante);
        assert_eq!(d.statut, Status::Integre, "{ctx}");
        assert_eq!(d.lignes_lues, m.lignes, "{ctx}: rows read");
        assert_eq!(d.lignes_integrees, m.lignes_valides, "{ctx}: rows landed");
        assert_eq!(
            d.rejets_pour(RejectReason::Doublon),
            m.doublons,
            "{ctx}: duplicates"
        );
        for (code, n) in &m.rejets {
            let reason = RejectReason::from_code(code).unwrap();
            assert_eq!(d.rejets_pour(reason), *n, "{ctx}: {code}");
        }
        assert_eq!(
            d.lignes_lues,
            d.lignes_integrees + d.lignes_rejetees(),
            "{ctx}: nothing lost"
        );
        assert_eq!(d.personnes, m.personnes, "{ctx}: people");
        let expected_encoding = match (m.encodage.as_str(), m.bom, m.format.as_str()) {
            (_, _, "xlsx") => "xlsx",
            ("Windows-1252", _, _) => "Windows-1252",
            (_, true, _) => "UTF-8 (BOM)",
            _ => "UTF-8",
        };
        assert_eq!(
            d.encodage.as_deref(),
            Some(expected_encoding),
            "{ctx}: encoding found"
        );
        assert_eq!(
            d.separateur.map(|c| c.to_string()),
            m.separateur,
            "{ctx}: separator found"
        );
        assert!(
            d.identifiants_ignores.contains(&"nom".to_string()),
            "{ctx}: identifiers named"
        );

        // The tables say the same.
        assert_eq!(
            site.count("evenements", &d.territoire).await as u64,
            m.lignes_valides,
            "{ctx}: evenements"
        );
        assert_eq!(
            site.count("personnes", &d.territoire).await as u64,
            m.personnes,
            "{ctx}: personnes"
        );
        assert_eq!(
            site.count("rejets", &d.territoire).await as u64,
            m.lignes_rejetees(),
            "{ctx}: rejets"
        );
    }
    // Every drop was archived, none left in the inbox.
    assert!(files_under(&site.path("inbox")).is_empty());
    assert_eq!(files_under(&site.path("archive")).len(), 5);
    // One `depots` row per drop, each with the versions it produced.
    let rows = site.query("SELECT count(*) FROM depots WHERE statut = 'integre' AND version_evenements IS NOT NULL", vec![]).await;
    assert_eq!(
        datafusion::arrow::array::AsArray::as_primitive::<datafusion::arrow::datatypes::Int64Type>(
            rows[0].column(0)
        )
        .value(0),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_variant_lands_the_same_events_as_its_clean_twin() {
    let site = Site::new();
    let columns = "personne, date, evenement, orientation, organisme, type_rdv, statut_rdv, type_frein, intensite, type_contrat, type_action, type_sortie, motif";
    let person_columns = "personne, annee_naissance, sexe, departement, niveau_formation, situation_familiale, cle_nir";
    // The clean twin: UTF-8, commas, ISO dates, no defects.
    let mut clean = options(&["dep-23"], 0.02);
    clean.variante = Some(Variante::Utf8Virgule);
    clean.propre = true;
    site.generate("propre", &clean);
    site.ingest("propre").await;
    let twin_events = site.rows("evenements", columns, "dep-23").await;
    let twin_people = site.rows("personnes", person_columns, "dep-23").await;
    assert!(twin_events.len() > 1000);
    for v in Variante::ALL {
        let mut o = options(&["dep-23"], 0.02);
        o.variante = Some(v);
        let inbox = format!("inbox-{}", v.code());
        let m = site.generate(&inbox, &o).remove(0);
        let run = site.ingest(&inbox).await;
        // The same day's extraction is a replacement: allowed.
        assert_eq!(
            run.drops[0].statut,
            Status::Integre,
            "{v:?}: {:?}",
            run.drops[0].statut
        );
        assert_eq!(run.drops[0].lignes_integrees, m.lignes_valides);
        assert!(
            site.rows("evenements", columns, "dep-23").await == twin_events,
            "{v:?}: same events as the clean twin"
        );
        assert!(
            site.rows("personnes", person_columns, "dep-23").await == twin_people,
            "{v:?}: same people"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_direct_identifier_lands_anywhere_in_the_warehouse() {
    let site = Site::new();
    let manifests = site.generate("inbox", &options(&FIVE, 0.01));
    // What the drops carry, read back from the clean twins of the same drops.
    let mut twin = options(&FIVE, 0.01);
    twin.variante = Some(Variante::Utf8Virgule);
    twin.propre = true;
    let twins = site.generate("twins", &twin);
    let mut forbidden: BTreeSet<String> = BTreeSet::new();
    let mut birth_dates: BTreeSet<String> = BTreeSet::new();
    for m in &twins {
        let path = site.path("twins").join(&m.territoire).join(&m.fichier);
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let headers = reader.headers().unwrap().clone();
        let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
        let (nom, prenom, adresse, tel, mail, nir, naissance, commune, id) = (
            col("nom"),
            col("prenom"),
            col("adresse"),
            col("telephone"),
            col("courriel"),
            col("nir"),
            col("date_naissance"),
            col("code_commune"),
            col("id_personne"),
        );
        for r in reader.records() {
            let r = r.unwrap();
            for i in [nom, prenom, adresse, tel, mail, nir, commune, id] {
                if r[i].len() >= 4 {
                    forbidden.insert(r[i].to_string());
                }
            }
            if let Some(n) = copil_ingest::nir::normalise(&r[nir]) {
                forbidden.insert(n);
            }
            let d = chrono::NaiveDate::parse_from_str(&r[naissance], "%Y-%m-%d").unwrap();
            birth_dates.insert(d.format("%Y-%m-%d").to_string());
            birth_dates.insert(d.format("%d/%m/%Y").to_string());
            birth_dates.insert(d.format("%Y%m%d").to_string());
        }
    }
    assert!(forbidden.len() > 1000 && birth_dates.len() > 1000);
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops.len(), manifests.len());

    // Every string of every Parquet file, read with the parquet crate's own reader.
    let mut strings = 0usize;
    let mut parquet_files = 0usize;
    for path in files_under(&site.path("entrepot")) {
        let name = path.to_string_lossy().into_owned();
        if name.ends_with(".parquet") {
            parquet_files += 1;
            let file = std::fs::File::open(&path).unwrap();
            let reader =
                datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                    file,
                )
                .unwrap()
                .build()
                .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                for column in batch.columns() {
                    if let Some(s) = column
                        .as_any()
                        .downcast_ref::<datafusion::arrow::array::StringArray>()
                    {
                        for v in s.iter().flatten() {
                            strings += 1;
                            assert!(!forbidden.contains(v), "{name}: an identifier landed");
                            assert!(!birth_dates.contains(v), "{name}: a birth date landed");
                        }
                    }
                }
            }
        } else if path
            .file_name()
            .is_some_and(|f| f == "_versions_connues.json")
        {
            // The warehouse's record of each table's latest commit (issue 13): table names,
            // versions, sizes and SHA-256 digests only. A digest's hex digits can hold a
            // number-like identifier by chance, so the file is checked by its shape instead.
            let known: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            for (table, v) in &known {
                assert!(
                    copil_warehouse::tables::TABLES
                        .iter()
                        .any(|t| t.name == table)
                );
                let v = v.as_object().unwrap();
                let keys: Vec<&str> = v.keys().map(String::as_str).collect();
                assert_eq!(keys, ["octets", "sha256", "version"], "{name}");
                let digest = v["sha256"].as_str().unwrap();
                assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        } else {
            // The Delta log (JSON) and everything else: no identifier as a substring either.
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            for f in forbidden.iter().filter(|f| f.len() >= 6) {
                assert!(!text.contains(f.as_str()), "{name} holds an identifier");
            }
        }
    }
    assert!(
        parquet_files >= 16 && strings > 50_000,
        "{parquet_files} files, {strings} strings scanned"
    );
    // And no column of personnes can hold an exact date.
    let people = copil_warehouse::PERSONNES.schema();
    assert!(people.fields().iter().all(|f| !matches!(
        f.data_type(),
        datafusion::arrow::datatypes::DataType::Date32
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_twice_change_nothing() {
    let site = Site::new();
    let m = site.generate_one("inbox", "dep-05", 0.01);
    let drop = site.path("inbox/dep-05").join(&m.fichier);
    let bytes = std::fs::read(&drop).unwrap();
    site.ingest("inbox").await;
    let before = site.warehouse().await.versions().await.unwrap();
    std::fs::write(&drop, &bytes).unwrap();
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops[0].statut, Status::DejaIntegre);
    assert_eq!(
        site.warehouse().await.versions().await.unwrap(),
        before,
        "no new version of any table"
    );
    assert!(
        files_under(&site.path("inbox")).is_empty(),
        "archived again"
    );
    assert!(run.drops[0].render().contains("déjà intégré"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_drop_replaces_the_territory_and_an_older_one_is_refused() {
    let site = Site::new();
    let mut first = options(&["dep-05"], 0.01);
    first.date_extraction = chrono::NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
    first.fin = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap();
    let m1 = site.generate("inbox", &first).remove(0);
    let r1 = site.ingest("inbox").await;
    let v1 = r1.drops[0].versions.unwrap()[0];
    let mut second = options(&["dep-05"], 0.01);
    second.graine = 7;
    let m2 = site.generate("inbox", &second).remove(0);
    // dep-04 lands in the same run and must be untouched by dep-05's replacement.
    site.generate("inbox", &options(&["dep-04"], 0.01));
    let r2 = site.ingest("inbox").await;
    assert_eq!(r2.drops.len(), 2);
    assert_eq!(
        site.count("evenements", "dep-05").await as u64,
        m2.lignes_valides,
        "the new drop replaced the old one"
    );
    assert!(site.count("evenements", "dep-04").await > 0);
    // The old version is still readable.
    let w = site.warehouse().await;
    let old = w
        .load_version(&copil_warehouse::EVENEMENTS, v1)
        .await
        .unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    w.register_table(&ctx, &copil_warehouse::EVENEMENTS, &old)
        .await
        .unwrap();
    let b = ctx
        .sql("SELECT count(*) FROM evenements")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let n = datafusion::arrow::array::AsArray::as_primitive::<
        datafusion::arrow::datatypes::Int64Type,
    >(b[0].column(0))
    .value(0);
    assert_eq!(n as u64, m1.lignes_valides);

    // The very same first drop again: already integrated, nothing changes.
    site.generate("inbox", &first);
    assert_eq!(
        site.ingest("inbox").await.drops[0].statut,
        Status::DejaIntegre
    );
    // Another extraction as old as the first one, now older than the data in place: refused.
    first.graine = 3;
    site.generate("inbox", &first);
    let r3 = site.ingest("inbox").await;
    match &r3.drops[0].statut {
        Status::Refuse(m) => assert!(m.contains("antérieure aux données en place"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        site.count("evenements", "dep-05").await as u64,
        m2.lignes_valides
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ingestors_sharing_the_warehouse_commit_without_mixing() {
    let site = Site::new();
    let a = site.generate("boite-a", &options(&["dep-04", "dep-05"], 0.01));
    let b = site.generate("boite-b", &options(&["dep-15", "dep-23"], 0.01));
    let (ia, ib) = (
        site.ingestor("boite-a").await,
        site.ingestor("boite-b").await,
    );
    let (ra, rb) = tokio::join!(ia.run_once(Arc::new(Silent)), ib.run_once(Arc::new(Silent)));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.drops.len() + rb.drops.len(), 4);
    for m in a.iter().chain(&b) {
        assert_eq!(
            site.count("evenements", &m.territoire).await as u64,
            m.lignes_valides,
            "{}",
            m.territoire
        );
    }
    // Commits were serialised: each drop's three versions are consecutive, never interleaved.
    let mut versions: Vec<[u64; 3]> = ra
        .drops
        .iter()
        .chain(&rb.drops)
        .map(|d| d.versions.unwrap())
        .collect();
    versions.sort();
    for w in versions.windows(2) {
        assert!(w[0].iter().zip(&w[1]).all(|(x, y)| x < y), "{versions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_drops_are_kept_aside_with_a_report_that_says_why() {
    let site = Site::new();
    let inbox = site.path("inbox");
    for d in ["dep-44", "dep-99"] {
        std::fs::create_dir_all(inbox.join(d)).unwrap();
    }
    let header =
        "id_personne,date_naissance,date,evenement\n1,1980-01-01,2024-01-01,droit_ouvert\n";
    std::fs::write(inbox.join("dep-99/parcours_20250101.csv"), header).unwrap();
    std::fs::write(inbox.join("dep-44/parcours_20250101.ods"), "x").unwrap();
    std::fs::write(inbox.join("dep-44/parcours.csv"), header).unwrap();
    std::fs::write(
        inbox.join("dep-44/sans_colonnes_20250101.csv"),
        "id_personne;nom\n1;Martin\n",
    )
    .unwrap();
    std::fs::write(inbox.join("dep-44/vide_20250102.csv"), "").unwrap();
    std::fs::write(inbox.join("racine_20250101.csv"), header).unwrap();
    std::fs::write(inbox.join("dep-44/envoi_20250103.csv.part"), header).unwrap();
    let run = site.ingest("inbox").await;
    let reasons: Vec<(String, String)> = run
        .drops
        .iter()
        .map(|d| match &d.statut {
            Status::Refuse(m) => (d.fichier.clone(), m.clone()),
            other => panic!("{}: {other:?}", d.fichier),
        })
        .collect();
    let find = |f: &str| {
        reasons
            .iter()
            .find(|(n, _)| n == f)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("{f}: {reasons:?}"))
    };
    assert!(
        find("parcours_20250101.csv")
            .contains("dossier « dep-99 » : territoire inconnu du registre")
    );
    assert!(find("parcours_20250101.ods").contains("seuls .csv, .csv.gz et .xlsx"));
    assert!(find("parcours.csv").contains("date d'extraction absente"));
    assert_eq!(
        find("sans_colonnes_20250101.csv"),
        "colonnes obligatoires absentes de l'en-tête : date_naissance, date, evenement"
    );
    assert!(find("vide_20250102.csv").contains("fichier vide"));
    assert!(find("racine_20250101.csv").contains("placez-le dans le dossier de son territoire"));
    assert_eq!(run.refused(), 6);
    assert_eq!(
        run.en_cours.len(),
        1,
        "an upload in progress is left for later"
    );
    // Each refused file is kept aside with its report; nothing is lost.
    let aside = files_under(&site.path("refuses"));
    assert_eq!(
        aside
            .iter()
            .filter(|p| !p.to_string_lossy().ends_with(".rapport.txt"))
            .count(),
        6
    );
    let report =
        std::fs::read_to_string(site.path("refuses/dep-44/sans_colonnes_20250101.csv.rapport.txt"))
            .unwrap();
    assert!(
        report.contains("REFUSÉ") && report.contains("date_naissance"),
        "{report}"
    );
    assert!(
        !report.contains("Martin"),
        "a report never repeats the file's content"
    );
    let rows = site
        .query(
            "SELECT count(*) FROM depots WHERE statut = 'refuse'",
            vec![],
        )
        .await;
    assert_eq!(
        datafusion::arrow::array::AsArray::as_primitive::<datafusion::arrow::datatypes::Int64Type>(
            rows[0].column(0)
        )
        .value(0),
        6
    );
}

#[tokio::test]
async fn without_the_key_nothing_is_ingested() {
    let site = Site::new();
    let mut config = site.config("inbox");
    config.key_file = site.path("absente.key");
    let warehouse = copil_warehouse::Warehouse::open(site.path("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let d = copil_warehouse::Departments::builtin();
    let r = copil_warehouse::Register::builtin(&d);
    let clock = Arc::new(copil_warehouse::SystemClock);
    let e = copil_ingest::Ingestor::new(config, warehouse, r, d, clock)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("absente.key") && e.contains("sans clé, rien n'est ingéré"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_hook_is_told_of_each_landed_drop() {
    let site = Site::new();
    site.generate("inbox", &options(&["dep-04", "dep-05"], 0.005));
    let d = copil_warehouse::Departments::builtin();
    let r = copil_warehouse::Register::builtin(&d);
    let mut ingestor = copil_ingest::Ingestor::new(
        site.config("inbox"),
        site.warehouse().await,
        r,
        d,
        Arc::new(copil_warehouse::SystemClock),
    )
    .await
    .unwrap();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let told = Arc::clone(&log);
    ingestor.on_commit(move |report| {
        told.lock()
            .unwrap()
            .push((report.territoire.clone(), report.versions.is_some()))
    });
    let ingestor = Arc::new(ingestor);
    ingestor.run_once(Arc::new(Silent)).await.unwrap();
    let mut seen = log.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [("dep-04".to_string(), true), ("dep-05".to_string(), true)],
        "once per commit, after it"
    );
    // A run that lands nothing tells nothing.
    site.generate("inbox", &options(&["dep-04"], 0.005));
    ingestor.run_once(Arc::new(Silent)).await.unwrap();
    assert_eq!(
        log.lock().unwrap().len(),
        2,
        "the same bytes again: already integrated, no commit"
    );
}
