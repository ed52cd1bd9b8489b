use super::*;

/// Loads without looking at a `copil.toml` of the working directory.
fn load(o: &Overrides, e: &[(String, String)]) -> Result<Loaded> {
    Config::load_with_default(Path::new("/nonexistent-copil-test/copil.toml"), o, e)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The overrides of one `--definir key=value` flag, and nothing else.
fn flag(key: &str, value: &str) -> Overrides {
    Overrides {
        config_file: None,
        sets: vec![(key.into(), value.into())],
    }
}

/// Why loading fails, with its causes (`{:#}`).
fn refusal(o: &Overrides, e: &[(String, String)]) -> String {
    format!("{:#}", load(o, e).unwrap_err())
}

fn with_file(text: &str) -> (tempfile::TempDir, Overrides) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copil.toml");
    std::fs::write(&path, text).unwrap();
    (
        dir,
        Overrides {
            config_file: Some(path),
            sets: vec![],
        },
    )
}

#[test]
fn defaults_are_documented_values() {
    let l = load(&Overrides::default(), &[]).unwrap();
    let c = l.config;
    assert_eq!(c.data_dir, PathBuf::from("copil-data"));
    assert_eq!(c.inbox_dir(), PathBuf::from("copil-data/inbox"));
    assert_eq!(c.warehouse_location(), "copil-data/warehouse");
    assert_eq!(
        c.key_path(),
        PathBuf::from("copil-data/secrets/pseudonymisation.key")
    );
    assert_eq!(c.manifests_dir(), PathBuf::from("copil-data/manifests"));
    assert_eq!(c.schedule.ingest, "0 */15 * * * *");
    assert_eq!(c.secrecy.threshold, 11);
    assert_eq!(c.server.bind, "127.0.0.1:8080");
    assert!(
        c.server.secure_cookies,
        "Secure cookies unless turned off (issue 13)"
    );
    assert_eq!(c.server.max_password_checks, 4);
    assert!(c.register.is_none());
}

#[test]
fn file_then_environment_then_flags() {
    let (dir, mut o) = with_file(
        "data_dir = \"d\"\n[secrecy]\nthreshold = 5\n[server]\nbind = \"0.0.0.0:9000\"\n",
    );
    let l = load(&o, &[]).unwrap();
    assert_eq!(
        l.config.data_dir,
        dir.path().join("d"),
        "relative to the file's folder"
    );
    assert_eq!(l.config.secrecy.threshold, 5);
    assert_eq!(l.config.server.bind, "0.0.0.0:9000");

    let e = env(&[
        ("COPIL_SECRECY_THRESHOLD", "7"),
        ("COPIL_DATA_DIR", "/srv/copil"),
        ("PATH", "/bin"),
    ]);
    let l = load(&o, &e).unwrap();
    assert_eq!(l.config.secrecy.threshold, 7);
    assert_eq!(l.config.data_dir, PathBuf::from("/srv/copil"));
    assert_eq!(
        l.sources["secrecy.threshold"],
        Source::Env("COPIL_SECRECY_THRESHOLD".into())
    );
    assert_eq!(
        l.sources["server.bind"],
        Source::File(o.config_file.clone().unwrap())
    );

    o.sets = vec![
        ("secrecy.threshold".into(), "3".into()),
        ("schedule.ingest".into(), "0 0 * * * *".into()),
    ];
    let l = load(&o, &e).unwrap();
    assert_eq!(l.config.secrecy.threshold, 3);
    assert_eq!(l.config.schedule.ingest, "0 0 * * * *");
    assert_eq!(l.sources["secrecy.threshold"], Source::Flag);
    assert_eq!(l.config.inbox_dir(), PathBuf::from("/srv/copil/inbox"));
}

#[test]
fn mistakes_are_named() {
    let (_d, o) = with_file("data_dirr = \"x\"\n");
    let m = refusal(&o, &[]);
    assert!(m.contains("data_dirr"), "{m}");

    let m = refusal(
        &Overrides::default(),
        &env(&[("COPIL_SECRECY_TRESHOLD", "5")]),
    );
    assert!(
        m.contains("COPIL_SECRECY_TRESHOLD") && m.contains("COPIL_SECRECY_THRESHOLD"),
        "{m}"
    );

    let m = refusal(
        &Overrides::default(),
        &env(&[("COPIL_SECRECY_THRESHOLD", "onze")]),
    );
    assert!(m.contains("« onze » n'est pas un entier"), "{m}");

    let m = refusal(&flag("server.bind", "localhost"), &[]);
    assert!(m.contains("server.bind"), "{m}");

    let o = Overrides {
        config_file: Some(PathBuf::from("/nonexistent/copil.toml")),
        sets: vec![],
    };
    let m = refusal(&o, &[]);
    assert!(m.contains("/nonexistent/copil.toml"), "{m}");

    let m = refusal(&flag("schedule.ingest", "*/15 * * * *"), &[]);
    assert!(m.contains("6 champs"), "{m}");

    let m = refusal(&flag("server.max_password_checks", "0"), &[]);
    assert!(m.contains("server.max_password_checks"), "{m}");
}

#[test]
fn the_template_parses_to_the_defaults() {
    let (_d, o) = with_file(&template());
    let from_template = load(&o, &[]).unwrap().config;
    let defaults = load(&Overrides::default(), &[]).unwrap().config;
    assert_eq!(from_template.secrecy, defaults.secrecy);
    assert_eq!(from_template.schedule, defaults.schedule);
    assert_eq!(from_template.server, defaults.server);
    assert_eq!(from_template.ingest, defaults.ingest);
    assert!(from_template.data_dir.ends_with("copil-data"));
    for k in keys() {
        assert!(template().contains(&k.env_var()), "{} documented", k.name);
    }
    let mut same = from_template;
    same.data_dir = defaults.data_dir.clone();
    assert_eq!(same, defaults, "every key of the template is its default");
}

/// Issue 13: the limits on inputs and the landing safeguards are configuration keys.
#[test]
fn issue_13_ingest_limits_and_safeguards_are_settable() {
    let d = load(&Overrides::default(), &[]).unwrap().config.ingest;
    assert_eq!(d.limits(), copil_ingest::Limits::default());
    assert_eq!(d.max_rejets, 0.2);
    assert_eq!(d.max_perte_personnes, 0.5);
    let (_d, mut o) = with_file("[ingest]\nmax_line_bytes = 4096\nmax_rejets = 0.05\n");
    o.sets = vec![("ingest.max_perte_personnes".into(), "0,3".into())];
    let e = env(&[("COPIL_INGEST_MAX_DECOMPRESSED_BYTES", "1000000")]);
    let c = load(&o, &e).unwrap().config.ingest;
    assert_eq!(c.limits().max_line_bytes, 4096);
    assert_eq!(c.limits().max_decompressed_bytes, 1_000_000);
    assert_eq!(c.safeguards().max_rejets, 0.05);
    assert_eq!(c.safeguards().max_perte_personnes, 0.3);
    for (key, value, expected) in [
        ("ingest.max_rejets", "1.5", "entre 0 et 1"),
        ("ingest.max_rows", "0", "au moins 1"),
        (
            "ingest.max_rejets",
            "beaucoup",
            "n'est pas un nombre décimal",
        ),
    ] {
        let m = refusal(&flag(key, value), &[]);
        assert!(m.contains(expected) && m.contains(key), "{m}");
    }
    let text = load(&Overrides::default(), &[]).unwrap().render();
    assert!(text.contains("max_rejets = 0.2  # défaut"), "{text}");
    assert!(template().contains("COPIL_INGEST_MAX_LINE_BYTES"));
}

#[test]
fn rendering_names_sources() {
    let o = flag("secrecy.threshold", "4");
    let text = load(&o, &[]).unwrap().render();
    assert!(
        text.contains("threshold = 4  # option de la ligne de commande"),
        "{text}"
    );
    assert!(
        text.contains("bind = \"127.0.0.1:8080\"  # défaut"),
        "{text}"
    );
    assert!(
        text.contains("inbox = \"copil-data/inbox\"  # déduit de data_dir"),
        "{text}"
    );
    assert!(text.contains("registre intégré"), "{text}");
    // What `copil config` prints is itself a valid configuration file.
    assert!(text.parse::<toml::Table>().is_ok());
    assert!(is_secret("session_secret") && !is_secret("key_file"));
}

/// Issue 17: the `[proconnect]` keys come from the one declaration (file, environment,
/// template); passwords off needs ProConnect, ProConnect needs its client; `copil config`
/// shows the secret's file and the switch, never a secret.
#[test]
fn issue_17_proconnect_keys_are_declared_once_and_checked() {
    let l = load(&Overrides::default(), &[]).unwrap();
    assert!(l.config.proconnect.issuer.is_empty());
    assert!(l.config.proconnect.passwords);
    let t = template();
    for var in [
        "COPIL_PROCONNECT_ISSUER",
        "COPIL_PROCONNECT_CLIENT_ID",
        "COPIL_PROCONNECT_CLIENT_SECRET_FILE",
        "COPIL_PROCONNECT_REDIRECT_URL",
        "COPIL_PROCONNECT_ACR_VALUES",
        "COPIL_PROCONNECT_PASSWORDS",
    ] {
        assert!(t.contains(var), "{var}");
    }
    assert!(t.parse::<toml::Table>().is_ok());
    let e = load(
        &Overrides::default(),
        &env(&[("COPIL_PROCONNECT_PASSWORDS", "false")]),
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("proconnect.passwords"), "{e:#}");
    let e = load(
        &Overrides::default(),
        &env(&[(
            "COPIL_PROCONNECT_ISSUER",
            "https://auth.exemple.gouv.fr/api/v2",
        )]),
    )
    .unwrap_err();
    assert!(format!("{e:#}").contains("proconnect.client_id"), "{e:#}");
    let (_dir, o) = with_file(
        "[proconnect]\n\
         issuer = \"https://auth.exemple.gouv.fr/api/v2\"\n\
         client_id = \"copil\"\n\
         client_secret_file = \"/etc/copil/proconnect.secret\"\n\
         redirect_url = \"https://copil.exemple.gouv.fr/connexion/proconnect/retour\"\n\
         passwords = false\n",
    );
    let l = load(&o, &[]).unwrap();
    assert!(!l.config.proconnect.passwords);
    let text = l.render();
    assert!(text.contains("passwords = false"), "{text}");
    assert!(
        text.contains("client_secret_file = \"/etc/copil/proconnect.secret\""),
        "{text}"
    );
}
