//! Issue 17 in Debian's Chromium: a person unknown to Copil signs in with the mock ProConnect
//! and asks for access; an admin approves it with a role and a territory; the person signs in
//! again through ProConnect (button → provider → back) and sees exactly what a territory
//! team sees; logging out ends the provider's session too.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::mock::Person;
use super::serve_proconnect;
use crate::browser::{Driver, log_in, wait_for_path};
use crate::fixture;

async fn title(driver: &Driver) -> String {
    driver
        .script("return document.title")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits for a page whose title is `expected` (the return from the provider takes a few hops).
async fn wait_for_title(driver: &Driver, expected: &str) {
    for _ in 0..100 {
        if title(driver).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "la page « {expected} » n'est pas venue (page : {})",
        title(driver).await
    );
}

async fn click_proconnect(driver: &Driver) {
    let path = driver.script("return location.pathname").await;
    assert_eq!(path, json!("/connexion"));
    driver
        .script("document.querySelector('a.bouton-proconnect').click(); return true")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_17_an_approved_person_signs_in_with_proconnect_in_chromium() {
    let (s, mock, _own) = serve_proconnect(true).await;
    let driver = Driver::start().await;
    let captures = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("copil-captures");
    std::fs::create_dir_all(&captures).unwrap();
    let territories = fixture::territories(&copil_warehouse::Register::builtin(
        &copil_warehouse::Departments::builtin(),
    ));
    let (ta, tb) = (territories[0].clone(), territories[1].clone());
    mock.sign_in_as(Person::new("dominique.durand@exemple.gouv.fr"));

    // Unknown to Copil: the button, the provider, then the request for access.
    driver.goto(&format!("{}/connexion", s.base)).await;
    driver
        .screenshot(&captures.join("connexion-proconnect.png"))
        .await;
    click_proconnect(&driver).await;
    wait_for_title(&driver, "Demander l'accès à Copil — Copil").await;
    driver
        .screenshot(&captures.join("proconnect-demande.png"))
        .await;
    driver
        .script(
            "document.querySelector('textarea[name=motif]').value = 'Chargée de mission insertion';
             document.querySelector('form.formulaire').submit(); return true",
        )
        .await;
    wait_for_title(&driver, "Demande d'accès envoyée — Copil").await;
    assert_eq!(s.state.pending_requests().len(), 1);

    // The admin approves it: a territory team account.
    driver.goto(&format!("{}/connexion", s.base)).await;
    log_in(&driver, "administration").await;
    driver.goto(&format!("{}/admin/comptes", s.base)).await;
    driver
        .screenshot(&captures.join("proconnect-demandes-admin.png"))
        .await;
    driver
        .script(&format!(
            "const f = document.querySelector('form[action=\"/admin/demandes\"]');
             f.querySelector('select[name=role]').value = 'territoire';
             f.querySelector('select[name=territoire]').value = {};
             f.querySelector('button[value=approuver]').click(); return true",
            json!(ta)
        ))
        .await;
    for _ in 0..100 {
        let ok = driver
            .script("const m = document.querySelector('.succes'); return m ? m.textContent : ''")
            .await;
        if ok.as_str().is_some_and(|t| t.contains("acceptée")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(s.state.pending_requests().is_empty());
    let entry = s.state.audit().entries().last().cloned().unwrap();
    assert_eq!(entry["action"], "demande_acces");
    assert_eq!(entry["details"]["action"], "approuver");
    driver
        .script("document.querySelector('.compte form').submit(); return true")
        .await;
    wait_for_path(&driver, "/connexion").await;

    // The person signs in through ProConnect: button → provider → back, signed in.
    click_proconnect(&driver).await;
    wait_for_title(&driver, "Vue nationale — Copil").await;
    assert_eq!(driver.script("return location.pathname").await, json!("/"));
    let who = driver
        .script("return document.querySelector('.compte').textContent")
        .await;
    let who = who.as_str().unwrap();
    assert!(
        who.contains("dominique.durand")
            && who.contains("équipe territoriale")
            && who.contains(&ta),
        "{who}"
    );
    driver
        .screenshot(&captures.join("proconnect-connecte.png"))
        .await;
    // Exactly what a territory team sees: its menu, its own drops, nobody else's.
    let menu = driver
        .script("return Array.from(document.querySelectorAll('nav.principale a')).map(a => a.getAttribute('href'))")
        .await;
    let expected: Vec<String> = vec![
        "/".into(),
        format!("/territoires/{ta}"),
        "/indicateurs".into(),
        "/territoires".into(),
        format!("/territoires/{ta}/depots"),
        "/qualite".into(),
        "/methodologie".into(),
        "/api".into(),
    ];
    assert_eq!(menu, json!(expected));
    for (path, expected) in [
        (format!("/territoires/{ta}/depots"), None),
        ("/qualite".to_string(), None),
        ("/exports".to_string(), Some("Accès refusé — Copil")),
        ("/admin/comptes".to_string(), Some("Accès refusé — Copil")),
        (
            format!("/territoires/{tb}/depots"),
            Some("Page introuvable — Copil"),
        ),
    ] {
        driver.goto(&format!("{}{path}", s.base)).await;
        let t = title(&driver).await;
        match expected {
            Some(e) => assert_eq!(t, e, "{path}"),
            None => assert!(
                !t.starts_with("Accès refusé") && !t.starts_with("Page introuvable"),
                "{path}: {t}"
            ),
        }
    }
    let entry: Value = s.state.audit().entries().last().cloned().unwrap();
    assert_eq!(entry["compte"], "dominique.durand");

    // Logging out ends Copil's session, then ProConnect's, and comes back to the login page.
    driver.goto(&format!("{}/", s.base)).await;
    driver
        .script("document.querySelector('.compte form').submit(); return true")
        .await;
    wait_for_path(&driver, "/connexion").await;
    assert_eq!(mock.state.logouts.lock().unwrap().len(), 1);
    driver.goto(&format!("{}/", s.base)).await;
    assert_eq!(
        driver.script("return location.pathname").await,
        json!("/connexion")
    );
    eprintln!("captures : {}", captures.display());
}
