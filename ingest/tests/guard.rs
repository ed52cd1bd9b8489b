//! Issue 13: the landing guard. A drop that follows the contract but would wipe or gut its
//! territory (no valid row, most rows rejected, most people gone) or that claims a future
//! extraction date is held for review: the data in place stays, `depots` says `en_attente`, the
//! file waits in `en_attente/` with a report, and `release` integrates it on request. Also:
//! stray inbox entries and faults of the machine.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use common::{Site, files_under};
use copil_ingest::{DropReport, Ingestor, Silent, Status};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;

const HEADER: &str = "id_personne;date_naissance;date;evenement;motif\n";

/// A drop of `people` people (ids from `first`), two valid rows each, then `broken` rows with
/// an unknown event code.
fn drop_text(first: u32, people: u32, broken: u32) -> String {
    let mut text = HEADER.to_string();
    for p in first..first + people {
        let _ = writeln!(text, "P{p};03/07/1984;01/02/2024;droit_ouvert;");
        let _ = writeln!(text, "P{p};03/07/1984;01/03/2024;droit_suspendu;sanction");
    }
    for b in 0..broken {
        let _ = writeln!(text, "B{b};03/07/1984;01/03/2024;evenement_inconnu;");
    }
    text
}

fn put(site: &Site, file: &str, text: &str) {
    let dir = site.path("inbox/dep-05");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), text).unwrap();
}

async fn count_with_status(site: &Site, statut: &str) -> i64 {
    let b = site
        .query(
            "SELECT count(*) FROM depots WHERE statut = $1",
            vec![statut.into()],
        )
        .await;
    b[0].column(0).as_primitive::<Int64Type>().value(0)
}

/// Releases the file at `file` below the site, as `copil integrer --liberer` does.
async fn release(
    ingestor: &Arc<Ingestor>,
    site: &Site,
    file: &str,
) -> copil_ingest::Result<DropReport> {
    ingestor.release(&site.path(file), Arc::new(Silent)).await
}

fn held_reason(status: &Status) -> &str {
    match status {
        Status::EnAttente(m) => m,
        other => panic!("expected en attente: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_drops_that_would_gut_a_territory_are_held_then_released_on_request() {
    let site = Site::new();
    put(&site, "base_20250101.csv", &drop_text(0, 100, 0));
    let first = site.ingest("inbox").await;
    assert_eq!(first.drops[0].statut, Status::Integre);
    assert_eq!(site.count("evenements", "dep-05").await, 200);

    // Header only; half rejected; 80 % of the people gone; an extraction in 2099.
    put(&site, "entete_20250201.csv", HEADER);
    put(&site, "moitie_20250202.csv", &drop_text(0, 100, 200));
    put(&site, "perte_20250203.csv", &drop_text(0, 20, 0));
    put(&site, "futur_20990101.csv", &drop_text(0, 101, 0));
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops.len(), 4);
    assert_eq!(
        run.held(),
        4,
        "{:#?}",
        run.drops
            .iter()
            .map(|d| (&d.fichier, &d.statut))
            .collect::<Vec<_>>()
    );
    let by_name = |n: &str| {
        let d = run.drops.iter().find(|d| d.fichier == n).unwrap();
        held_reason(&d.statut).to_string()
    };
    assert!(by_name("entete_20250201.csv").contains("aucune ligne valide"));
    let m = by_name("moitie_20250202.csv");
    assert!(
        m.contains("ingest.max_rejets") && m.contains("50,0 %"),
        "{m}"
    );
    let m = by_name("perte_20250203.csv");
    assert!(
        m.contains("ingest.max_perte_personnes") && m.contains("20 personnes contre 100"),
        "{m}"
    );
    let m = by_name("futur_20990101.csv");
    assert!(m.contains("postérieure à aujourd'hui (15/01/2026)"), "{m}");
    // The data in place is untouched; each drop waits with its report; depots knows.
    assert_eq!(site.count("evenements", "dep-05").await, 200);
    assert_eq!(site.count("personnes", "dep-05").await, 100);
    for n in [
        "entete_20250201.csv",
        "moitie_20250202.csv",
        "perte_20250203.csv",
        "futur_20990101.csv",
    ] {
        assert!(site.path("en_attente/dep-05").join(n).is_file(), "{n}");
        let report =
            std::fs::read_to_string(site.path(&format!("en_attente/dep-05/{n}.rapport.txt")))
                .unwrap();
        assert!(report.contains("EN ATTENTE d'examen"), "{report}");
    }
    assert!(files_under(&site.path("inbox")).is_empty());
    assert_eq!(count_with_status(&site, "en_attente").await, 4);
    assert_eq!(count_with_status(&site, "integre").await, 1);
    // No data file of a held drop is left behind in the tables.
    let parquet = files_under(&site.path("entrepot/evenements"))
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "parquet")
                && p.to_string_lossy().contains("territoire=")
        })
        .count();
    assert_eq!(parquet, 1, "only the drop in place");

    // The future date no longer locks the territory out of a real drop.
    put(&site, "reel_20250301.csv", &drop_text(0, 110, 0));
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops[0].statut, Status::Integre);
    assert_eq!(site.count("personnes", "dep-05").await, 110);

    // Released on request: the people lost are accepted by a person (but an extraction older
    // than the data in place is still refused).
    let ingestor = site.ingestor("inbox").await;
    let older = release(&ingestor, &site, "en_attente/dep-05/perte_20250203.csv")
        .await
        .unwrap();
    assert!(
        matches!(&older.statut, Status::Refuse(m) if m.contains("antérieure aux données en place")),
        "{:?}",
        older.statut
    );
    put(&site, "perte_20250401.csv", &drop_text(0, 20, 0));
    let run = site.ingest("inbox").await;
    assert!(held_reason(&run.drops[0].statut).contains("perte"));
    let released = release(&ingestor, &site, "en_attente/dep-05/perte_20250401.csv")
        .await
        .unwrap();
    assert_eq!(released.statut, Status::Integre, "{}", released.render());
    assert_eq!(site.count("personnes", "dep-05").await, 20);
    assert!(!site.path("en_attente/dep-05/perte_20250401.csv").exists());
    assert!(
        !site
            .path("en_attente/dep-05/perte_20250401.csv.rapport.txt")
            .exists()
    );
    assert!(site.path("archive/dep-05/perte_20250401.csv").exists());
    // Outside a territory's folder: told in French.
    let e = release(&ingestor, &site, "ailleurs_20250101.csv")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("territoire inconnu du registre"), "{e}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_stray_inbox_entries_never_stop_the_run_and_sub_folders_are_reported() {
    let site = Site::new();
    let inbox = site.path("inbox");
    put(&site, "bon_20250101.csv", &drop_text(0, 10, 0));
    std::fs::create_dir_all(inbox.join("dep-04/sous-dossier")).unwrap();
    std::fs::write(
        inbox.join("dep-04/sous-dossier/cache_20250101.csv"),
        drop_text(0, 10, 0),
    )
    .unwrap();
    std::os::unix::fs::symlink("/nonexistent/cible", inbox.join("lien_casse")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/cible", inbox.join("dep-05/lien_20250101.csv"))
        .unwrap();
    let fifo = inbox.join("dep-05/tube_20250102.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops.len(), 1, "{:?}", run.drops);
    assert_eq!(run.drops[0].statut, Status::Integre);
    let why = |name: &str| {
        run.ignores
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .map(|(_, w)| w.clone())
            .unwrap_or_else(|| panic!("{name}: {:?}", run.ignores))
    };
    assert!(why("lien_casse").contains("lien cassé"));
    assert!(why("lien_20250101.csv").contains("lien cassé"));
    assert!(why("tube_20250102.csv").contains("FIFO"));
    assert!(why("sous-dossier").contains("sous-dossier ignoré"));
    // Left in place, untouched.
    assert!(
        fifo.exists()
            && inbox
                .join("dep-04/sous-dossier/cache_20250101.csv")
                .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_a_write_fault_never_refuses_a_drop_it_is_retried() {
    let site = Site::new();
    put(&site, "bon_20250101.csv", &drop_text(0, 10, 0));
    // The territory's partition folder cannot be created: a file is in its way.
    let blocker: &Path = &site.path("entrepot/evenements/territoire=dep-05");
    site.warehouse().await;
    std::fs::write(blocker, "").unwrap();
    let run = site.ingest("inbox").await;
    match &run.drops[0].statut {
        Status::Echec(m) => assert!(m.contains("écriture impossible"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(run.failed(), 1);
    assert!(
        site.path("inbox/dep-05/bon_20250101.csv").exists(),
        "left in the inbox"
    );
    assert!(
        files_under(&site.path("refuses")).is_empty(),
        "never refused"
    );
    let depots = site.query("SELECT count(*) FROM depots", vec![]).await;
    assert_eq!(depots[0].column(0).as_primitive::<Int64Type>().value(0), 0);
    // The fault gone, the next run integrates it.
    std::fs::remove_file(blocker).unwrap();
    let run = site.ingest("inbox").await;
    assert_eq!(run.drops[0].statut, Status::Integre);
    assert_eq!(site.count("evenements", "dep-05").await, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_a_drop_refused_midway_leaves_no_data_file_behind() {
    let site = Site::new();
    put(&site, "long_20250101.csv", &drop_text(0, 100, 0));
    let departments = copil_warehouse::Departments::builtin();
    let register = copil_warehouse::Register::builtin(&departments);
    let mut ingestor = copil_ingest::Ingestor::new(
        site.config("inbox"),
        site.warehouse().await,
        register,
        departments,
        Arc::new(copil_warehouse::SystemClock),
    )
    .await
    .unwrap();
    ingestor.set_limits(copil_ingest::Limits {
        max_rows: 150,
        ..copil_ingest::Limits::default()
    });
    let run = Arc::new(ingestor).run_once(Arc::new(Silent)).await.unwrap();
    match &run.drops[0].statut {
        Status::Refuse(m) => assert!(
            m.contains("ingest.max_rows") && m.contains("ligne 152") && m.contains("150 au plus"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    let left: Vec<_> = files_under(&site.path("entrepot"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("territoire="))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
