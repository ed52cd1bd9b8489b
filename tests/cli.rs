//! End-to-end tests of the `copil` command line (issue #2): init, config, generate, demo, and a
//! deployment's own register.

mod support;

use std::path::Path;
use std::process::Output;

fn copil(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = support::command();
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("copil runs")
}

/// The arguments of a command line whose arguments hold no space.
fn words(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

/// Runs `copil LINE` in `dir` ([`words`]) and checks that its error output says `said`.
fn says(dir: &Path, line: &str, said: &str) -> Output {
    let o = copil(dir, &words(line), &[]);
    assert!(stderr(&o).contains(said), "{}", stderr(&o));
    o
}

/// [`says`], and the exit code is 1.
fn fails_saying(dir: &Path, line: &str, said: &str) {
    assert_eq!(says(dir, line, said).status.code(), Some(1));
}

/// `copil init` in `dir`, then a drop of dep-44 extracted on 2024-12-31 in its inbox.
fn site_with_a_drop(dir: &Path) {
    let o = copil(dir, &["init", "."], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let args = words(
        "generate --echelle 0.005 --jusqua 2024-12 --date-extraction 2024-12-31 --territoires dep-44",
    );
    assert!(copil(dir, &args, &[]).status.success());
}

/// Runs `copil ingest` in `dir` and checks that it fails (exit 1), its report saying every
/// part of `report` and its error output saying `said`.
fn ingest_fails(dir: &Path, report: &[&str], said: &str) {
    let o = copil(dir, &["ingest"], &[]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(report.iter().all(|r| out.contains(r)), "{out}");
    assert!(stderr(&o).contains(said), "{}", stderr(&o));
}

/// Writes `text` to `path`, creating its folder.
fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn init_writes_a_config_and_a_private_key_and_never_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = copil(dir.path(), &["init", "site"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let toml = std::fs::read_to_string(dir.path().join("site/copil.toml")).unwrap();
    assert!(
        toml.contains("threshold = 11") && toml.contains("COPIL_DATA_DIR"),
        "{toml}"
    );
    let key_path = dir
        .path()
        .join("site/copil-data/secrets/pseudonymisation.key");
    let key = std::fs::read_to_string(&key_path).unwrap();
    assert_eq!(key.trim().len(), 64);
    assert!(key.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(!stdout(&o).contains(key.trim()), "the key is never printed");

    let again = copil(dir.path(), &["init", "site"], &[]);
    assert!(again.status.success());
    assert!(stdout(&again).contains("existe déjà"), "{}", stdout(&again));
    assert!(
        stdout(&again).contains("existante conservée"),
        "{}",
        stdout(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap(),
        key,
        "the key is never overwritten"
    );
}

#[test]
fn config_shows_effective_values_and_their_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("copil.toml"),
        "[server]\nbind = \"127.0.0.1:9000\"\n",
    )
    .unwrap();
    let o = copil(
        dir.path(),
        &["config", "--definir", "schedule.ingest=0 0 3 * * *"],
        &[("COPIL_SECRECY_THRESHOLD", "15")],
    );
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("# Fichier lu : copil.toml"), "{out}");
    assert!(
        out.contains("bind = \"127.0.0.1:9000\"  # fichier copil.toml"),
        "{out}"
    );
    assert!(
        out.contains("threshold = 15  # variable COPIL_SECRECY_THRESHOLD"),
        "{out}"
    );
    assert!(
        out.contains("ingest = \"0 0 3 * * *\"  # option de la ligne de commande"),
        "{out}"
    );
    assert!(
        out.contains("Registre chargé : registre intégré (68 territoires)"),
        "{out}"
    );

    let bad = copil(dir.path(), &["config"], &[("COPIL_DATADIR", "x")]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("variable d'environnement COPIL_DATADIR inconnue"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn generate_writes_drops_and_manifests_and_refuses_unknown_territories() {
    let dir = tempfile::tempdir().unwrap();
    let args = words(
        "generate --sortie boite --graine 4 --echelle 0.01 --jusqua 2024-12 \
         --date-extraction 2024-12-31 --territoires dep-44,met-lyon",
    );
    let o = copil(dir.path(), &args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("2 dépôts"), "{out}");
    for territory in ["dep-44", "met-lyon"] {
        let drops: Vec<_> = std::fs::read_dir(dir.path().join("boite").join(territory))
            .unwrap()
            .collect();
        assert_eq!(drops.len(), 1, "one drop for {territory}");
        let manifests: Vec<_> = std::fs::read_dir(dir.path().join("manifests").join(territory))
            .unwrap()
            .collect();
        assert_eq!(
            manifests.len(),
            1,
            "its manifest beside the inbox, not inside"
        );
    }

    fails_saying(
        dir.path(),
        "generate --sortie x --territoires dep-44,dep-20",
        "territoires inconnus du registre : dep-20",
    );
    says(
        dir.path(),
        "generate --sortie x --jusqua 2024-13",
        "--jusqua « 2024-13 » : mois attendu sous la forme AAAA-MM",
    );
    // Issue 14: flags are French; the old English spellings stay as aliases.
    says(
        dir.path(),
        "generate --out x --to 2024-13",
        "--jusqua « 2024-13 »",
    );
    says(
        dir.path(),
        "generate --sortie x --format ods",
        "--format « ods » inconnu",
    );
}

#[test]
fn a_deployment_register_replaces_the_builtin_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("territoires.csv"),
        "id,nom,type,departements,vague,debut_spie,source\n\
         dep-44,Loire-Atlantique,departement,44,experimentation-2020,2020-03,officielle\n\
         corse,Corse (fusion des agglomérations),groupement,2A|2B,ami2-2021,2022-01,deploiement\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("copil.toml"),
        "register = \"territoires.csv\"\n",
    )
    .unwrap();
    let o = copil(dir.path(), &["config"], &[]);
    assert!(stdout(&o).contains("(2 territoires)"), "{}", stdout(&o));
    let args = words("generate --sortie boite --jusqua 2023-12 --date-extraction 2023-12-31");
    let o = copil(dir.path(), &args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut folders: Vec<String> = std::fs::read_dir(dir.path().join("boite"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders, ["corse", "dep-44"]);

    std::fs::write(
        dir.path().join("territoires.csv"),
        "id,nom,type,departements,vague,debut_spie,source\ndep-44,Loire-Atlantique,departement,44,vague-4,2020-03,x\n",
    )
    .unwrap();
    fails_saying(
        dir.path(),
        "config",
        "territoires.csv, ligne 2 : vague « vague-4 » inconnue",
    );
}

#[test]
fn demo_generates_and_ingests_every_territory() {
    let dir = tempfile::tempdir().unwrap();
    let args = words("--data-dir donnees demo --sans-serveur --echelle 0.01");
    let o = copil(dir.path(), &args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for said in [
        "échelle 0.01", // the scale given is used
        "68 dépôts",
        "68 dépôt(s) traité(s) : 68 intégré(s)",
    ] {
        assert!(out.contains(said), "{said}: {out}");
    }
    // One account per role, with its password (issue #6).
    for login in ["pilotage", "territoire", "evaluation", "admin"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(login) && l.contains("mot de passe : ")),
            "{login}: {out}"
        );
    }
    assert!(
        dir.path()
            .join("donnees/warehouse/evenements/_delta_log")
            .is_dir()
    );
    let archive = dir.path().join("donnees/archive");
    assert_eq!(
        std::fs::read_dir(&archive).unwrap().count(),
        68,
        "every drop ingested and archived"
    );
    assert!(dir.path().join("donnees/manifests/dep-44").is_dir());
    assert!(
        dir.path()
            .join("donnees/secrets/pseudonymisation.key")
            .is_file()
    );
}

/// Issue #6: `copil comptes` manages accounts; hashes only, nothing secret printed twice.
#[test]
fn users_are_added_listed_given_tokens_and_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let d = ["--data-dir", "donnees", "users"];
    let add = |args: &[&str]| copil(dir.path(), &[&d[..], args].concat(), &[]);
    let o = add(&["add", "pilotage", "--role", "national"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Mot de passe (affiché une seule fois) : "))
        .expect("generated password shown once")
        .to_string();
    assert_eq!(password.len(), 20);
    let o = add(&[
        "add",
        "t44",
        "--role",
        "territoire",
        "--territoire",
        "dep-44",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = add(&[
        "add",
        "t00",
        "--role",
        "territoire",
        "--territoire",
        "dep-00",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("dep-00"), "{}", stderr(&o));
    let o = add(&["add", "x", "--role", "chef"]);
    assert!(stderr(&o).contains("rôle inconnu"), "{}", stderr(&o));
    let o = add(&["token", "pilotage", "--nom", "script"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).lines().last().unwrap().to_string();
    assert!(token.starts_with("copil_"), "{token}");
    let file = std::fs::read_to_string(dir.path().join("donnees/secrets/comptes.json")).unwrap();
    assert!(file.contains("$argon2id$"));
    assert!(!file.contains(&password) && !file.contains(&token));
    let o = add(&["disable", "t44"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = stdout(&add(&["list"]));
    assert!(
        list.contains("pilotage") && list.contains("national"),
        "{list}"
    );
    assert!(
        list.contains("dep-44") && list.contains("désactivé"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "{list}");
}

/// Issue 13: `copil projets` declares, lists and closes evaluation projects, in French, with
/// checked evaluators, territories and period; the file is private.
#[test]
fn projects_are_declared_listed_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        copil(
            dir.path(),
            &[&["--data-dir", "donnees"][..], args].concat(),
            &[],
        )
    };
    let o = run(&["users", "add", "eval", "--role", "evaluateur"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let declare = |nom: &str, evaluateurs: &str, fin: &str| {
        run(&[
            "projets",
            "ajouter",
            nom,
            "--objet",
            "Évaluer les orientations",
            "--evaluateurs",
            evaluateurs,
            "--territoires",
            "dep-54,dep-44",
            "--debut",
            "2025-01-01",
            "--fin",
            fin,
        ])
    };
    let o = declare("orientations", "eval", "2025-12-31");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Projet déclaré : orientations"),
        "{}",
        stdout(&o)
    );
    let o = declare("orientations", "eval", "2025-12-31");
    assert!(stderr(&o).contains("existe déjà"), "{}", stderr(&o));
    let o = declare("autre", "inconnu", "2025-12-31");
    assert!(stderr(&o).contains("compte inconnu"), "{}", stderr(&o));
    let o = declare("autre", "eval", "31/12/2025");
    assert!(stderr(&o).contains("AAAA-MM-JJ"), "{}", stderr(&o));
    let o = run(&["projets", "clore", "orientations"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list = stdout(&run(&["projets", "liste"]));
    assert!(
        list.contains("orientations") && list.contains("clos") && list.contains("dep-44, dep-54"),
        "{list}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("donnees/secrets/projets.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn ingest_prints_a_french_report_per_drop_and_fails_when_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    site_with_a_drop(dir.path());
    let o = copil(dir.path(), &["ingest"], &[]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(
        out.contains("[dep-44]") && out.contains("— intégré"),
        "{out}"
    );
    assert!(
        out.contains("1 dépôt(s) traité(s) : 1 intégré(s), 0 déjà intégré(s), 0 refusé(s)"),
        "{out}"
    );

    write_file(
        &dir.path().join("copil-data/inbox/dep-44/export.csv"),
        "id_personne\n1\n",
    );
    // A refused drop makes the run fail.
    ingest_fails(
        dir.path(),
        &["REFUSÉ", "date d'extraction absente"],
        "1 dépôt(s) refusé(s)",
    );
    assert!(
        dir.path()
            .join("copil-data/refuses/dep-44/export.csv")
            .is_file()
    );
}

#[test]
fn ingest_without_a_key_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    fails_saying(
        dir.path(),
        "--data-dir d ingest",
        "sans clé, rien n'est ingéré (créez-la avec « copil init »)",
    );
}

#[test]
fn indicators_are_listed_and_bad_requests_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let o = copil(dir.path(), &["indicators"], &[]);
    assert!(o.status.success());
    let out = stdout(&o);
    for id in [
        "entrants",
        "delai_orientation",
        "taux_orientation_stock",
        "sorties_emploi",
        "taux_reorientation",
    ] {
        assert!(out.contains(id), "{id} listed: {out}");
    }
    fails_saying(
        dir.path(),
        "indicators show orientes_60j",
        "indicateur « orientes_60j » inconnu",
    );
    says(
        dir.path(),
        "indicators show entrants --territoire dep-20",
        "territoire « dep-20 » inconnu du registre",
    );
    says(
        dir.path(),
        "indicators show entrants --mois 2024-13",
        "--mois « 2024-13 »",
    );
}

/// Issue 13: a header-only CSV replaced a territory with 0 rows (exit 0). Now it is held for
/// review (exit 1, report in French), and `--liberer` integrates it on request.
#[test]
fn issue_13_a_held_drop_fails_the_run_and_is_released_on_request() {
    let dir = tempfile::tempdir().unwrap();
    site_with_a_drop(dir.path());
    assert!(copil(dir.path(), &["ingest"], &[]).status.success());
    let inbox = dir.path().join("copil-data/inbox/dep-44");
    std::fs::write(
        inbox.join("vide_20250115.csv"),
        "id_personne;date_naissance;date;evenement\n",
    )
    .unwrap();
    ingest_fails(
        dir.path(),
        &["EN ATTENTE d'examen", "aucune ligne valide"],
        "1 mis en attente d'examen",
    );
    let held = dir
        .path()
        .join("copil-data/en_attente/dep-44/vide_20250115.csv");
    assert!(held.is_file());
    let o = copil(
        dir.path(),
        &["ingest", "--liberer", held.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("— intégré"), "{}", stdout(&o));
    assert!(!held.exists());
    assert!(
        dir.path()
            .join("copil-data/archive/dep-44/vide_20250115.csv")
            .is_file()
    );
}
