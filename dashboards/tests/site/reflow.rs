//! Issue 15: every page, for every role, at a phone's width (390×844) and a desktop's
//! (1440×900), in Debian's Chromium: no sideways page scroll, chart text at least 11 px on
//! screen, and no axe-core violation. axe-core comes from the npm registry, installed once into
//! the target directory.

use std::path::PathBuf;
use std::process::Command;

use copil_dashboards::Role;
use serde_json::json;

use crate::browser::{Driver, log_in, wait_for_path};
use crate::fixture::{self, serve};

/// The axe-core release the test runs (pinned: a new rule must not turn CI red by itself).
const AXE_VERSION: &str = "4.14.1";

/// `axe.min.js`, installed with npm under the target directory on first use.
fn axe_source() -> String {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("axe-core-{AXE_VERSION}"));
    let file = root.join("node_modules/axe-core/axe.min.js");
    if !file.is_file() {
        std::fs::create_dir_all(&root).unwrap();
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&root)
            .arg(format!("axe-core@{AXE_VERSION}"))
            .status()
            .expect("npm introuvable : installer Node.js et npm pour le test d'accessibilité");
        assert!(status.success(), "npm install axe-core a échoué");
    }
    std::fs::read_to_string(&file).unwrap()
}

/// The pages each account reaches from its menu, plus the error pages.
fn pages(role: Role, own: &str) -> Vec<String> {
    let mut p: Vec<String> = [
        "/",
        "/indicateurs",
        "/indicateurs/orientes_30j",
        "/indicateurs/beneficiaires_dd",
        "/indicateurs/delai_orientation?vague=ami1-2021",
        "/territoires",
        "/territoires/dep-44",
        "/methodologie",
        "/api",
        "/compte",
        "/indicateurs/inconnu",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    match role {
        Role::Territoire => p.push(format!("/territoires/{own}/depots")),
        Role::National => p.push("/qualite".into()),
        Role::Evaluateur => p.push("/exports".into()),
        Role::Admin => {
            p.push("/qualite".into());
            p.push("/exports".into());
            p.push("/admin/comptes".into());
            p.push(format!("/territoires/{own}/depots"));
        }
    }
    p
}

/// Sets the viewport as a device would (CSS pixels, not a window size).
async fn viewport(driver: &Driver, width: u32, height: u32) {
    driver
        .call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": { "width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": width < 600 },
            })),
        )
        .await;
}

/// What a page does wrong at the current width: elements that stick out of the viewport
/// outside a scroll box, chart text under 11 px, and axe-core's violations.
async fn faults(driver: &Driver, axe: &str) -> Vec<String> {
    let mut out = Vec::new();
    let wide = driver
        .script(
            "const w = document.documentElement.clientWidth;
             if (document.documentElement.scrollWidth <= w) return [];
             const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
                 const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
             return Array.from(document.body.querySelectorAll('*'))
               .filter(e => e.getBoundingClientRect().right > w + 1 && !scrolls(e))
               .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                 + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')",
        )
        .await;
    for e in wide.as_array().unwrap() {
        out.push(format!("défilement horizontal : {}", e.as_str().unwrap()));
    }
    let small = driver
        .script(
            "return Array.from(document.querySelectorAll('svg[role=img] text')).map(t => {
               const m = t.getScreenCTM(); const size = parseFloat(getComputedStyle(t).fontSize) * (m ? m.a : 1);
               return [t.textContent, Math.round(size * 10) / 10]; }).filter(x => x[1] < 11).slice(0, 5)",
        )
        .await;
    for t in small.as_array().unwrap() {
        out.push(format!("texte de graphique trop petit : {t}"));
    }
    driver.script(&format!("{axe}; return true")).await;
    let violations = driver
        .call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({
                "script": "const done = arguments[arguments.length - 1];
                  axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v =>
                    v.id + ' (' + v.impact + ') : ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))
                  .catch(e => done(['axe : ' + e]));",
                "args": [],
            })),
        )
        .await;
    for v in violations.as_array().unwrap() {
        out.push(format!("axe : {}", v.as_str().unwrap_or(&v.to_string())));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_every_page_for_every_role_reflows_at_390px_and_passes_axe() {
    let s = serve().await;
    let axe = axe_source();
    let register = copil_warehouse::Register::builtin(&copil_warehouse::Departments::builtin());
    let territories = fixture::territories(&register);
    let driver = Driver::start().await;
    let captures = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("copil-captures");
    std::fs::create_dir_all(&captures).unwrap();
    let mut failures: Vec<String> = Vec::new();
    // Logged out: the login page.
    for (w, h) in [(390, 844), (1440, 900)] {
        viewport(&driver, w, h).await;
        driver.goto(&format!("{}/connexion", s.base)).await;
        for f in faults(&driver, &axe).await {
            failures.push(format!("{w}px /connexion : {f}"));
        }
    }
    for (login, role, territory) in fixture::ACCOUNTS {
        if login == "territoire-b" {
            continue;
        }
        let own = territory.map_or_else(|| territories[0].clone(), |i| territories[i].clone());
        driver.goto(&format!("{}/connexion", s.base)).await;
        log_in(&driver, login).await;
        for path in pages(role, &own) {
            for (w, h) in [(390, 844), (1440, 900)] {
                viewport(&driver, w, h).await;
                driver.goto(&format!("{}{path}", s.base)).await;
                for f in faults(&driver, &axe).await {
                    failures.push(format!("{login} {w}px {path} : {f}"));
                }
                if w == 390 && role == Role::National {
                    let name = path.trim_matches('/').replace(['/', '?', '=', '&'], "_");
                    let name = if name.is_empty() {
                        "nationale".into()
                    } else {
                        name
                    };
                    driver
                        .screenshot(&captures.join(format!("telephone-{name}.png")))
                        .await;
                }
            }
        }
        driver
            .script("document.querySelector('.compte form').submit(); return true")
            .await;
        wait_for_path(&driver, "/connexion").await;
    }
    // Printed (A4, print media): no menu nor form, the wide charts, the data tables open.
    driver.goto(&format!("{}/connexion", s.base)).await;
    log_in(&driver, "pilotage").await;
    viewport(&driver, 794, 1123).await;
    driver
        .call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": "Emulation.setEmulatedMedia", "params": { "media": "print" } })),
        )
        .await;
    driver
        .goto(&format!("{}/indicateurs/orientes_30j", s.base))
        .await;
    let printed = driver
        .script(
            "const shown = s => s && getComputedStyle(s).display !== 'none';
             return [shown(document.querySelector('nav.principale')), shown(document.querySelector('form.filtres')),
                     document.querySelectorAll('.graphique-large svg').length,
                     Array.from(document.querySelectorAll('.graphique-large')).every(shown),
                     Array.from(document.querySelectorAll('.graphique-etroit')).some(shown),
                     document.documentElement.scrollWidth <= document.documentElement.clientWidth]",
        )
        .await;
    assert_eq!(
        printed,
        json!([false, false, 4, true, false, true]),
        "impression"
    );
    assert!(
        failures.is_empty(),
        "{} défauts :\n{}",
        failures.len(),
        failures.join("\n")
    );
}
