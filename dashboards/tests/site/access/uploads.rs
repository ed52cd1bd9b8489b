//! Drops sent from the web: uploads checked, stored and reported; held drops released.

use super::*;

async fn put(
    base: &str,
    role: Role,
    territory: &str,
    name: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    raw()
        .put(format!(
            "{base}/api/v1/territoires/{territory}/depots/{name}?traiter=maintenant"
        ))
        .bearer_auth(fixture::token(role))
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads (issue #6): size limit, unknown territory, wrong role, a refused drop and its
/// report, and a valid drop sent from the page's form, ingested at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_checked_stored_and_reported() {
    let s = serve_copy(|settings| settings.upload_max_bytes = 4 * 1024 * 1024).await;
    let register = fixture::register(&copil_warehouse::Departments::builtin());
    let ids = fixture::territories(&register);
    let (ta, tb) = (&ids[0], &ids[1]);
    let inbox = s.state.settings().inbox.join(ta);
    // An upload by the territory's own account.
    let upload = |name: &'static str, body| put(&s.base, Role::Territoire, ta, name, body);
    // Too large: 413, nothing left in the inbox.
    let big = vec![b'x'; 4 * 1024 * 1024 + 1];
    let r = upload("gros_2025-06-30.csv", big).await;
    assert_answer(r, StatusCode::PAYLOAD_TOO_LARGE, "limite").await;
    assert_eq!(std::fs::read_dir(&inbox).map(|d| d.count()).unwrap_or(0), 0);
    // Issue 13: one upload of a name at a time. While one is being written (its `.part` file
    // exists), another of the same name is refused, and the first's bytes are left alone.
    std::fs::create_dir_all(&inbox).unwrap();
    let part = inbox.join("meme_2025-06-30.csv.part");
    std::fs::write(&part, b"premier envoi en cours").unwrap();
    let r = upload("meme_2025-06-30.csv", b"a;b\n1;2\n".to_vec()).await;
    assert_answer(r, StatusCode::CONFLICT, "déjà en cours").await;
    assert_eq!(std::fs::read(&part).unwrap(), b"premier envoi en cours");
    assert!(!inbox.join("meme_2025-06-30.csv").exists());
    std::fs::remove_file(&part).unwrap();
    // Unknown territory, another territory, wrong roles, bad names.
    let small = b"a;b\n1;2\n".to_vec();
    for (role, t, name, want) in [
        (Role::Territoire, "dep-999", "x_2025-06-30.csv", 404),
        (Role::Territoire, tb.as_str(), "x_2025-06-30.csv", 404),
        (Role::National, ta.as_str(), "x_2025-06-30.csv", 403),
        (Role::Evaluateur, ta.as_str(), "x_2025-06-30.csv", 403),
        (Role::Admin, ta.as_str(), "x_2025-06-30.csv", 403),
        (Role::Territoire, ta.as_str(), ".cache", 400),
    ] {
        let r = put(&s.base, role, t, name, small.clone()).await;
        assert_eq!(r.status().as_u16(), want, "{role:?} {t} {name}");
        let v: Value = r.json().await.unwrap();
        assert!(v["erreur"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // A drop without the contract's columns: stored, ingested at once, refused, reported.
    let r = upload("sans-colonnes_2025-06-30.csv", small.clone()).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["traite"], true, "{v}");
    assert_eq!(v["rapport"]["statut"], "refuse", "{v}");
    assert!(
        v["rapport"]["message"]
            .as_str()
            .unwrap()
            .contains("colonne"),
        "{v}"
    );
    // Issue 13: a refusal naming the file shows its name, never where the server keeps it.
    let xlsx = b"ceci n'est pas un classeur".to_vec();
    let r = upload("pas-un-classeur_2025-06-30.xlsx", xlsx).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["rapport"]["statut"], "refuse", "{v}");
    let message = v["rapport"]["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("pas-un-classeur_2025-06-30.xlsx"),
        "{message}"
    );
    let server_dir = s.state.settings().inbox.display().to_string();
    assert!(!message.contains('/'), "{message}");
    let page = fixture::get_text(
        &fixture::client(Role::National),
        format!("{}/territoires/{ta}/depots", s.base),
    )
    .await;
    assert!(page.contains("pas-un-classeur_2025-06-30.xlsx"));
    assert!(!page.contains(&server_dir), "{server_dir} on the page");
    let list: Value = fixture::get_json(
        &fixture::client(Role::Territoire),
        format!("{}/api/v1/territoires/{ta}/depots", s.base),
    )
    .await;
    // Both processed at the same (fixed) instant: in either order.
    let mut first_two = [
        list["depots"][0]["fichier"].as_str().unwrap(),
        list["depots"][1]["fichier"].as_str().unwrap(),
    ];
    first_two.sort_unstable();
    assert_eq!(
        first_two,
        [
            "pas-un-classeur_2025-06-30.xlsx",
            "sans-colonnes_2025-06-30.csv"
        ]
    );
    assert!(!list.to_string().contains(&server_dir));
    // A valid drop (freshly generated for this territory) through the page's form.
    let fresh = tempfile::tempdir().unwrap();
    let mut o = copil_sample::Options::par_defaut(fixture::today() - chrono::Days::new(1));
    o.echelle = 0.02;
    o.graine = 4242;
    o.territoires = Some(vec![ta.clone()]);
    let dest = copil_sample::Destination {
        inbox: fresh.path().join("inbox"),
        manifestes: fresh.path().join("manifests"),
    };
    copil_sample::generer(
        &copil_warehouse::Register::builtin(&copil_warehouse::Departments::builtin()),
        &copil_warehouse::Departments::builtin(),
        &o,
        &dest,
        &|_| {},
    )
    .unwrap();
    let file = std::fs::read_dir(dest.inbox.join(ta))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let original = file.file_name().unwrap().to_str().unwrap().to_string();
    // The latest extraction date, so it replaces the drop in place.
    let ext = original.split_once('.').map_or("", |(_, e)| e);
    let name = format!("nouveau_2025-06-30.{ext}");
    let bytes = std::fs::read(&file).unwrap();
    let session = log_in(&s.base, "territoire-a").await;
    let boundary = "----copil-test-frontiere";
    let mut body = Vec::new();
    for (field, value) in [("csrf", session.csrf.as_str()), ("traiter", "maintenant")] {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend(&bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let multipart = |body: Vec<u8>, cookie: &str| {
        raw()
            .post(format!("{}/territoires/{ta}/depots", s.base))
            .header(COOKIE, cookie)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
    };
    // Without the session's CSRF token: refused before the file is read, nothing stored.
    let forged = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nfaux\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{name}\"\r\n\r\nabc\r\n--{boundary}--\r\n"
    );
    let r = multipart(forged.into_bytes(), &session.cookie)
        .await
        .unwrap();
    assert!(!inbox.join(&name).exists());
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = multipart(body, &session.cookie).await.unwrap();
    let status = r.status();
    if status != StatusCode::SEE_OTHER {
        panic!("{status}: {}", r.text().await.unwrap());
    }
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(to, format!("/territoires/{ta}/depots?fichier={name}"));
    let page = session.text(&to).await;
    assert!(
        page.contains(&format!("Rapport du dépôt « {name} »")),
        "{page}"
    );
    assert!(page.contains("Intégré le"), "{page}");
    let results = s.state.results();
    let d = results
        .depots
        .iter()
        .rev()
        .find(|d| d.territoire == *ta && d.fichier == name)
        .expect("the drop's report");
    assert!(d.integre());
    assert!(d.lignes_integrees > 0);
    // The audit log names each upload.
    let log = std::fs::read_to_string(&s.state.settings().audit_log).unwrap();
    assert_eq!(log.matches("\"action\":\"depot\"").count(), 3, "{log}");
}

/// Releases a held drop through the API with `role`'s token.
async fn release_api(base: &str, role: Role, territory: &str, name: &str) -> reqwest::Response {
    raw()
        .post(format!(
            "{base}/api/v1/depots-en-attente/{territory}/{}/liberer",
            encode(name)
        ))
        .bearer_auth(fixture::token(role))
        .send()
        .await
        .unwrap()
}

/// Issue 13: a drop held for review is released from the web by a national or admin account,
/// through the same pipeline as `copil integrer --liberer` (the safeguards waived); territory
/// and evaluator accounts get 403, and bad or unknown names never reach the pipeline. Once
/// released, the drop is integrated, no longer listed as held, and the audit log names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_admin_releases_held_drop_from_the_web() {
    const FORM: &str = "/qualite/depots-en-attente/liberer";
    const BUTTON: &str = "Intégrer ce dépôt</button>";
    let s = serve_copy(|_| {}).await;
    let register = fixture::register(&copil_warehouse::Departments::builtin());
    let ids = fixture::territories(&register);
    let (ta, tb) = (&ids[0], &ids[1]);
    let held_dir = s.state.settings().held_dir.join(ta);
    // A header-only drop has no valid row: held for review, the data in place kept.
    let hold = |name: &'static str, header: &'static str| {
        put(
            &s.base,
            Role::Territoire,
            ta,
            name,
            format!("{header}\n").into_bytes(),
        )
    };
    let (first, second) = ("vide_2025-06-30.csv", "vide-encore_2025-06-30.csv");
    for (name, header) in [
        (first, "id_personne;date_naissance;date;evenement"),
        (second, "date;evenement;id_personne;date_naissance"),
    ] {
        let r = hold(name, header).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["rapport"]["statut"], "en_attente", "{v}");
        assert!(held_dir.join(name).is_file(), "{name}");
    }
    // The quality page lists both, with the button for the national account only; the admin
    // page (admin accounts do not see the quality page) lists them with the button too.
    let nat = log_in(&s.base, "pilotage").await;
    let ter = log_in(&s.base, "territoire-a").await;
    let adm = log_in(&s.base, "administration").await;
    let html = nat.text("/qualite").await;
    assert!(html.contains(first) && html.contains(second), "{html}");
    assert_eq!(html.matches(BUTTON).count(), 2, "{html}");
    assert!(html.contains("lève les garde-fous"), "{html}");
    let html = ter.text("/qualite").await;
    assert!(html.contains(first), "{html}");
    assert!(!html.contains(BUTTON), "{html}");
    let html = adm.text("/admin/comptes").await;
    assert!(html.contains(first) && html.contains(second), "{html}");
    assert_eq!(html.matches(BUTTON).count(), 2, "{html}");
    // Territory and evaluator accounts may not release, from the form or the API.
    let fields = |session: &Session, territory: &str, name: &str| {
        form(&[
            ("csrf", &session.csrf),
            ("territoire", territory),
            ("fichier", name),
        ])
    };
    let r = post_form(&s.base, FORM, &ter.cookie, fields(&ter, ta, first)).await;
    assert_answer(
        r,
        StatusCode::FORBIDDEN,
        "réservée aux comptes « national » et « admin »",
    )
    .await;
    for role in [Role::Territoire, Role::Evaluateur] {
        let r = release_api(&s.base, role, ta, first).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role:?}");
        let v: Value = r.json().await.unwrap();
        assert!(v["erreur"].as_str().unwrap().contains("national"), "{v}");
    }
    // Without the session's CSRF token: refused.
    let forged = form(&[("csrf", "faux"), ("territoire", ta), ("fichier", first)]);
    let r = post_form(&s.base, FORM, &nat.cookie, forged).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Names that are not a held file of a known territory: 400 or 404, in French.
    let report = format!("{first}.rapport.txt");
    for (territory, name, want) in [
        (ta.as_str(), "../../cle", 400),
        (ta.as_str(), "x/../../cle", 400),
        (ta.as_str(), report.as_str(), 400),
        (ta.as_str(), "absent_2025-06-30.csv", 404),
        (tb.as_str(), first, 404),
        ("dep-999", first, 404),
    ] {
        let r = release_api(&s.base, Role::National, territory, name).await;
        assert_eq!(r.status().as_u16(), want, "{territory} {name}");
        let v: Value = r.json().await.unwrap();
        assert!(v["erreur"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
    for name in ["../cle", "..", "/etc/passwd"] {
        let r = post_form(&s.base, FORM, &nat.cookie, fields(&nat, ta, name)).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{name}");
    }
    assert!(held_dir.join(first).is_file() && held_dir.join(second).is_file());
    // The national account releases the first through the API: integrated at once.
    let r = release_api(&s.base, Role::National, ta, first).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["integre"], true, "{v}");
    assert_eq!(v["rapport"]["statut"], "integre", "{v}");
    assert!(!held_dir.join(first).exists());
    // Released, it is no longer held: a second release finds nothing.
    let r = release_api(&s.base, Role::National, ta, first).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The admin account releases the second from its page's form.
    let r = post_form(&s.base, FORM, &adm.cookie, fields(&adm, ta, second)).await;
    let status = r.status();
    if status != StatusCode::SEE_OTHER {
        panic!("{status}: {}", r.text().await.unwrap());
    }
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        to,
        format!("/admin/comptes?territoire={ta}&fichier={}", encode(second))
    );
    let html = adm.text(&to).await;
    assert!(
        html.contains(&format!("Dépôt « {second} » intégré après examen")),
        "{html}"
    );
    assert!(html.contains("Aucun dépôt en attente d'examen."), "{html}");
    assert!(!held_dir.join(second).exists());
    // Both are integrated in `depots`; neither is held any more, on the page or in the API.
    let results = s.state.results();
    for name in [first, second] {
        let d = results
            .depots
            .iter()
            .rev()
            .find(|d| d.territoire == *ta && d.fichier == name)
            .unwrap();
        assert!(d.integre(), "{name}: {}", d.statut);
    }
    let html = nat.text("/qualite").await;
    assert!(!html.contains(BUTTON), "{html}");
    let quality: Value =
        fixture::get_json(&fixture::national(), format!("{}/api/v1/qualite", s.base)).await;
    let row = quality["donnees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["territoire"] == ta.as_str())
        .unwrap();
    assert_eq!(row["en_attente"], serde_json::json!([]), "{row}");
    // Both were released at the same (fixed) instant: either is the last one in place.
    let last = row["dernier_depot"]["fichier"].as_str().unwrap();
    assert!([first, second].contains(&last), "{row}");
    assert_eq!(row["dernier_depot"]["lignes_lues"], 0, "{row}");
    // The audit log names each release, its account and its outcome.
    let log = std::fs::read_to_string(&s.state.settings().audit_log).unwrap();
    let releases: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["action"] == "liberation")
        .collect();
    assert_eq!(releases.len(), 2, "{log}");
    for (entry, (login, name)) in releases
        .iter()
        .zip([("pilotage", first), ("administration", second)])
    {
        assert_eq!(entry["compte"], login, "{entry}");
        assert_eq!(entry["details"]["territoire"], ta.as_str(), "{entry}");
        assert_eq!(entry["details"]["fichier"], name, "{entry}");
        assert_eq!(entry["details"]["statut"], "integre", "{entry}");
    }
}

/// Issue 13: without the binary's pipeline, a release is refused with a French 503, and the
/// held file is left where it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_13_a_release_without_the_pipeline_is_a_503() {
    let held = tempfile::tempdir().unwrap();
    let dir = held.path().to_path_buf();
    let s = serve_with(move |settings| settings.held_dir = dir).await;
    let register = fixture::register(&copil_warehouse::Departments::builtin());
    let ta = &fixture::territories(&register)[0];
    let file = held.path().join(ta).join("x_2025-06-30.csv");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "id_personne;date_naissance;date;evenement\n").unwrap();
    let r = release_api(&s.base, Role::Admin, ta, "x_2025-06-30.csv").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = r.json().await.unwrap();
    assert!(v["erreur"].as_str().unwrap().contains("--liberer"), "{v}");
    assert!(file.is_file());
}
