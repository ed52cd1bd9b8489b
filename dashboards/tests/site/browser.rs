//! Every page kind in Debian's headless Chromium, driven through chromedriver (W3C WebDriver):
//! no console error, no broken link or image, and a screenshot of each page kept as an artefact
//! under the target directory (`copil-captures/`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::fixture::{self, serve};

pub(crate) struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The session ends first: chromedriver then quits the browser it started, which
        // killing chromedriver alone left running after every test run.
        let _ = end_session(&self.base, &self.session);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DELETE /session/{id}` (W3C WebDriver), blocking, as a drop cannot wait for a future.
fn end_session(base: &str, session: &str) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE /session/{session} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )?;
    stream.read_to_end(&mut Vec::new())?;
    Ok(())
}

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

impl Driver {
    pub(crate) async fn start() -> Driver {
        let driver = which(&["chromedriver"]).expect(
            "chromedriver introuvable : installer les paquets Debian chromium et chromium-driver (.ci/run le fait)",
        );
        let browser = which(&["chromium", "chromium-browser"]).expect("chromium introuvable");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,1800", "--lang=fr-FR"],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("session WebDriver refusée : {r}"))
            .to_string();
        Driver {
            child,
            base,
            session,
            http,
        }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        v["value"].clone()
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub(crate) async fn script(&self, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": js, "args": [] })),
        )
        .await
    }

    pub(crate) async fn console(&self) -> Vec<Value> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({ "type": "browser" })),
            )
            .await;
        v.as_array().cloned().unwrap_or_default()
    }

    pub(crate) async fn screenshot(&self, file: &std::path::Path) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "capture invalide");
        std::fs::write(file, png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_kind_renders_in_chromium_without_error() {
    let s = serve().await;
    let driver = Driver::start().await;
    let captures = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("copil-captures");
    std::fs::create_dir_all(&captures).unwrap();
    let ta = fixture::territories(&copil_warehouse::Register::builtin(
        &copil_warehouse::Departments::builtin(),
    ))[0]
        .clone();
    // Unauthenticated: the login page (issue #6).
    driver.goto(&format!("{}/indicateurs", s.base)).await;
    let path = driver.script("return location.pathname").await;
    assert_eq!(path, json!("/connexion"), "redirected to the login page");
    driver.screenshot(&captures.join("connexion.png")).await;
    log_in(&driver, "pilotage").await;
    let path = driver
        .script("return location.pathname + location.search")
        .await;
    assert_eq!(path, json!("/indicateurs"), "back where the user was going");
    let depots = format!("/territoires/{ta}/depots");
    let pages = [
        ("nationale", "/"),
        ("depots", depots.as_str()),
        ("exports", "/exports"),
        ("compte", "/compte"),
        ("indicateurs", "/indicateurs"),
        ("indicateur", "/indicateurs/orientes_30j"),
        (
            "indicateur-filtre",
            "/indicateurs/delai_orientation?vague=ami1-2021",
        ),
        ("territoires", "/territoires"),
        ("territoire", "/territoires/dep-44"),
        ("qualite", "/qualite"),
        ("methodologie", "/methodologie"),
        ("api", "/api"),
        ("introuvable", "/indicateurs/inconnu"),
    ];
    let mut checked_links = std::collections::BTreeSet::new();
    for (name, path) in pages {
        driver.goto(&format!("{}{path}", s.base)).await;
        let title = driver.script("return document.title").await;
        assert!(
            title.as_str().unwrap().ends_with("— Copil"),
            "{path}: {title}"
        );
        let errors: Vec<Value> = driver
            .console()
            .await
            .into_iter()
            .filter(|e| e["level"] == "SEVERE")
            .filter(|e| {
                !(name == "introuvable" && e["message"].as_str().is_some_and(|m| m.contains("404")))
            })
            .collect();
        assert!(errors.is_empty(), "{path}: erreurs de console {errors:?}");
        let broken = driver
            .script(
                "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)
                   .concat(Array.from(document.querySelectorAll('link[rel=stylesheet]')).filter(l => !l.sheet).map(l => l.href))",
            )
            .await;
        assert_eq!(broken, json!([]), "{path}: images ou styles cassés");
        let svgs = driver
            .script("return Array.from(document.querySelectorAll('svg[role=img]')).filter(s => s.getBoundingClientRect().width > 0).length")
            .await;
        if name.starts_with("indicateur-") || name == "indicateur" {
            assert_eq!(svgs, json!(4), "{path}: graphiques");
        }
        let links = driver
            .script("return Array.from(document.querySelectorAll('a[href]')).filter(a => !a.getAttribute('href').startsWith('#')).map(a => a.href)")
            .await;
        for link in links.as_array().unwrap() {
            let link = link
                .as_str()
                .unwrap()
                .split('#')
                .next()
                .unwrap()
                .to_string();
            assert!(link.starts_with(&s.base), "{path}: lien externe {link}");
            if checked_links.insert(link.clone()) {
                let status = fixture::national()
                    .get(&link)
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert!(status.is_success(), "{path}: lien cassé {link} ({status})");
            }
        }
        driver
            .screenshot(&captures.join(format!("{name}.png")))
            .await;
    }
    // Logging out ends the session: the next page asks to log in again.
    driver.goto(&format!("{}/", s.base)).await;
    driver
        .script("document.querySelector('.compte form').submit(); return true")
        .await;
    wait_for_path(&driver, "/connexion").await;
    driver.goto(&format!("{}/", s.base)).await;
    assert_eq!(
        driver.script("return location.pathname").await,
        json!("/connexion")
    );
    // The administrator's page.
    log_in(&driver, "administration").await;
    driver.goto(&format!("{}/admin/comptes", s.base)).await;
    let rows = driver
        .script("return Array.from(document.querySelectorAll('main table')).map(t => t.querySelectorAll('tbody tr').length)")
        .await;
    // The accounts, then the evaluation projects (issue 13).
    assert_eq!(
        rows,
        json!([fixture::ACCOUNTS.len(), fixture::PROJECTS.len()])
    );
    driver.screenshot(&captures.join("comptes.png")).await;
    eprintln!("captures : {}", captures.display());
}

pub(crate) async fn wait_for_path(driver: &Driver, expected: &str) {
    for _ in 0..100 {
        if driver.script("return location.pathname").await == json!(expected) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("la page {expected} n'est pas venue");
}

/// Fills and sends the login form in the browser.
pub(crate) async fn log_in(driver: &Driver, login: &str) {
    let path = driver.script("return location.pathname").await;
    assert_eq!(path, json!("/connexion"));
    driver
        .script(&format!(
            "document.querySelector('input[name=identifiant]').value = {};
             document.querySelector('input[name=mot_de_passe]').value = {};
             document.querySelector('form.formulaire').submit(); return true",
            json!(login),
            json!(fixture::PASSWORD)
        ))
        .await;
    for _ in 0..100 {
        if driver.script("return location.pathname").await != json!("/connexion") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("connexion de {login} sans effet");
}
