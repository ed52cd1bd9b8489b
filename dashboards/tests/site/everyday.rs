//! Issue 15: the dashboard as the comité and a territory team use it, over HTTP: the team's
//! own territory, compression, lists that search and sort in the URL, French labels and
//! numbers, error pages (404, refusals) inside the site's menu.

use copil_dashboards::Role;
use reqwest::StatusCode;

use crate::fixture::{self, serve};
use crate::http::get;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_a_territory_team_sees_its_territory_highlighted_without_choosing_it() {
    let s = serve().await;
    let register = copil_warehouse::Register::builtin(&copil_warehouse::Departments::builtin());
    let own = &fixture::territories(&register)[0];
    let name = &register.get(own).unwrap().nom;
    let team = fixture::client(Role::Territoire);
    for id in ["orientes_30j", "beneficiaires_dd", "delai_orientation"] {
        let r = team
            .get(format!("{}/indicateurs/{id}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        // Its tile (value, rank, wave), its bar in the accent colour, chosen in the form.
        assert!(
            body.contains("tuile-territoire"),
            "{id}: tuile du territoire"
        );
        assert!(body.contains(&format!(">{name}</a></h3>")), "{id}: {name}");
        assert!(body.contains("#8E3A8A"), "{id}: barre mise en avant");
        assert!(body.contains(&format!("value=\"{own}\" selected")), "{id}");
        // The national account sees no territory highlighted by default.
        let (_, _, plain) = get(&format!("{}/indicateurs/{id}", s.base)).await;
        assert!(!plain.contains("tuile-territoire") && !plain.contains("#8E3A8A"));
    }
}

/// `url` fetched asking for gzip as a browser does: the bytes received and their gunzipped text.
async fn gzipped(url: &str) -> (usize, String) {
    let r = fixture::national()
        .get(url)
        .header("Accept-Encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip", "{url}");
    let packed = r.bytes().await.unwrap();
    let mut unpacked = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&packed[..]),
        &mut unpacked,
    )
    .unwrap();
    (packed.len(), unpacked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_pages_are_sent_compressed_to_browsers_that_ask() {
    let s = serve().await;
    // Issue 16: cached pages are gzipped around a body compressed once per version; sent plain,
    // they say their length; both read back as the same page.
    let register = copil_warehouse::Register::builtin(&copil_warehouse::Departments::builtin());
    let territory = format!("/territoires/{}", fixture::territories(&register)[0]);
    for path in [
        "/indicateurs/orientes_30j",
        "/",
        &territory,
        "/indicateurs/beneficiaires_dd",
    ] {
        let url = format!("{}{path}", s.base);
        let r = fixture::national().get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let length: usize = r.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let plain = r.text().await.unwrap();
        assert_eq!(length, plain.len(), "{path}");
        assert!(
            plain.starts_with("<!DOCTYPE html>") && plain.ends_with("</html>"),
            "{path}"
        );
        let (sent, unpacked) = gzipped(&url).await;
        assert_eq!(unpacked, plain, "{path}");
        if path.starts_with("/indicateurs/") {
            assert!(sent * 4 < plain.len(), "{path}: {sent} / {}", plain.len());
        }
    }
}

/// The body of `path` as the first account of `role` sees it.
async fn page_as(base: &str, role: Role, path: &str) -> (StatusCode, String) {
    let r = fixture::client(role)
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The labels of the menu entries marked `aria-current="page"` in `html`.
fn current_tabs(html: &str) -> Vec<&str> {
    html.split("aria-current=\"page\">")
        .skip(1)
        .map(|x| x.split('<').next().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_error_pages_keep_the_menu_and_the_drops_tab_is_marked() {
    let s = serve().await;
    let (status, body) = page_as(&s.base, Role::National, "/indicateurs/inconnu").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Indicateur inconnu"));
    assert!(body.contains("aria-label=\"Menu principal\""), "{body}");
    assert!(
        body.contains("href=\"/qualite\""),
        "the national account's menu"
    );
    // A territory team on another territory's drops: 403, in the site's frame.
    let register = copil_warehouse::Register::builtin(&copil_warehouse::Departments::builtin());
    let ids = fixture::territories(&register);
    let (status, body) = page_as(
        &s.base,
        Role::Territoire,
        &format!("/territoires/{}/depots", ids[1]),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    assert!(body.contains("Nos dépôts"), "{body}");
    // On its own drops page, « Nos dépôts » is the current tab, not « Territoires ».
    let (status, body) = page_as(
        &s.base,
        Role::Territoire,
        &format!("/territoires/{}/depots", ids[0]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(current_tabs(&body), ["Nos dépôts"]);
    // « Mon territoire » leads the team to its own page, marked there.
    assert!(body.contains(&format!("href=\"/territoires/{}\">Mon territoire<", ids[0])));
    let (_, own) = page_as(
        &s.base,
        Role::Territoire,
        &format!("/territoires/{}", ids[0]),
    )
    .await;
    assert_eq!(current_tabs(&own), ["Mon territoire"]);
    // The neutral header: no State brand unless configured.
    assert!(!body.contains("République"));
    let state = serve_with_brand().await;
    let (_, body) = page_as(&state.base, Role::National, "/").await;
    assert!(body.contains("République"));
}

async fn serve_with_brand() -> fixture::Server {
    fixture::serve_with(|settings| settings.state_service = true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_lists_search_and_sort_through_the_url() {
    let s = serve().await;
    let register = copil_warehouse::Register::builtin(&copil_warehouse::Departments::builtin());
    let ids = fixture::territories(&register);
    let all = get(&format!("{}/territoires", s.base)).await.2;
    assert!(
        all.contains(&format!("{} territoires sur {}", ids.len(), ids.len())),
        "{all}"
    );
    // Search by name, case-insensitive.
    let target = register.get(&ids[2]).unwrap();
    let q = target.nom.to_uppercase();
    let (_, _, found) = get(&format!("{}/territoires?q={}", s.base, q.replace(' ', "+"))).await;
    assert!(found.contains(&format!("href=\"/territoires/{}\"", target.id)));
    let others = ids
        .iter()
        .filter(|id| found.contains(&format!("href=\"/territoires/{id}\"")))
        .count();
    assert!(others < ids.len(), "the search narrows the list");
    // Sorted by name: the rows come in alphabetical order.
    let (_, _, by_name) = get(&format!("{}/territoires?tri=nom", s.base)).await;
    let order: Vec<usize> = ids
        .iter()
        .map(|id| {
            by_name
                .find(&format!("<th scope=\"row\"><a href=\"/territoires/{id}\""))
                .unwrap()
        })
        .collect();
    let mut names: Vec<(usize, String)> = ids
        .iter()
        .zip(&order)
        .map(|(id, at)| (*at, register.get(id).unwrap().nom.to_lowercase()))
        .collect();
    names.sort();
    assert!(names.windows(2).all(|w| w[0].1 <= w[1].1), "{names:?}");
    assert!(by_name.contains("aria-sort=\"ascending\""));
    // Freshness and sizes, French style.
    assert!(all.contains("âge (jours)") && all.contains("droits et devoirs"));
    // Indicators: the search keeps the matching ones.
    let (_, _, delays) = get(&format!("{}/indicateurs?q=d%C3%A9lai", s.base)).await;
    assert!(delays.contains("/indicateurs/delai_orientation"));
    assert!(!delays.contains("href=\"/indicateurs/orientes_30j\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_words_and_numbers_are_french_and_figures_carry_notes() {
    let s = serve().await;
    // A breakdown: French labels in their natural order, no raw code, no « affiché » column.
    let (status, _, body) = get(&format!(
        "{}/indicateurs/prevalence_freins?ventilation=intensite",
        s.base
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("intensité du frein"),
        "the breakdown's French name"
    );
    assert!(!body.contains(">affiché<") && !body.contains(">intensite<"));
    let at = |w: &str| {
        body.find(&format!("<th scope=\"row\">{w}</th>"))
            .unwrap_or_else(|| panic!("{w}"))
    };
    assert!(
        at("faible") < at("moyen") && at("moyen") < at("fort"),
        "faible, moyen, fort"
    );
    let (_, _, body) = get(&format!("{}/indicateurs/orientes_30j", s.base)).await;
    assert!(
        body.contains("Lecture : </strong>")
            && body.contains("Champ : </strong>")
            && body.contains("Source : </strong>")
    );
    assert!(!body.contains("+0,0 pt"));
    // The methodology opens with its table of contents.
    let (_, _, body) = get(&format!("{}/methodologie", s.base)).await;
    assert!(body.contains("aria-label=\"Sommaire de la méthodologie\""));
    assert!(body.contains("href=\"#secret\"") && body.contains("id=\"secret\""));
    // Quality: counts with a narrow no-break space as thousands separator.
    let (_, _, body) = get(&format!("{}/qualite", s.base)).await;
    // Every number cell: no run of four digits or more (« 16367 »), and the rows read (in the
    // thousands at this scale) written with their separator (« 16 367 »).
    let cells: Vec<&str> = body
        .split("<td class=\"nombre\">")
        .skip(1)
        .filter_map(|c| c.split('<').next())
        .collect();
    let ungrouped = |c: &&str| {
        c.split(|ch: char| !ch.is_ascii_digit())
            .any(|run| run.len() >= 4)
    };
    assert!(!cells.is_empty());
    assert!(!cells.iter().any(ungrouped), "{cells:?}");
    assert!(
        cells
            .iter()
            .any(|c| c.split('\u{202f}').count() > 1 && !c.ends_with('%')),
        "lignes lues groupées par milliers : {cells:?}"
    );
    // The territory page has its small multiples.
    let (_, _, body) = get(&format!("{}/territoires/dep-44", s.base)).await;
    assert!(
        body.matches("role=\"img\"").count() >= 5,
        "petits multiples"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_users_change_their_password_and_an_admin_reenables_an_account() {
    use crate::access::{assert_answer, form, log_in, post_form, post_login};
    let (s, _own) = fixture::serve_own_accounts().await;
    // The evaluator changes their password: a wrong current one is refused.
    let eval = log_in(&s.base, "evaluation").await;
    let change = |actuel: &'static str, nouveau: &'static str, confirmation: &'static str| {
        let (base, cookie, csrf) = (s.base.clone(), eval.cookie.clone(), eval.csrf.clone());
        async move {
            post_form(
                &base,
                "/compte/mot-de-passe",
                &cookie,
                form(&[
                    ("csrf", &csrf),
                    ("actuel", actuel),
                    ("nouveau", nouveau),
                    ("confirmation", confirmation),
                ]),
            )
            .await
        }
    };
    let r = change(
        "pas le bon mot de passe",
        "un nouveau mot de passe",
        "un nouveau mot de passe",
    )
    .await;
    assert_answer(r, StatusCode::BAD_REQUEST, "Mot de passe actuel faux").await;
    // A huge form is refused before any password is hashed.
    let huge = "x".repeat(200 * 1024);
    let r = eval
        .post(
            "/compte/mot-de-passe",
            &[
                ("actuel", &huge),
                ("nouveau", &huge),
                ("confirmation", &huge),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = change(fixture::PASSWORD, "un nouveau mot de passe", "un autre").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = change(
        fixture::PASSWORD,
        "un nouveau mot de passe",
        "un nouveau mot de passe",
    )
    .await;
    assert_answer(r, StatusCode::OK, "Mot de passe changé").await;
    assert_eq!(
        post_login(&s.base, "evaluation", fixture::PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_login(&s.base, "evaluation", "un nouveau mot de passe")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // The admin disables the account, then re-enables it with a new password, shown once.
    let admin = log_in(&s.base, "administration").await;
    let act = |action: &'static str| {
        let (base, cookie, csrf) = (s.base.clone(), admin.cookie.clone(), admin.csrf.clone());
        async move {
            post_form(
                &base,
                "/admin/comptes",
                &cookie,
                form(&[
                    ("csrf", &csrf),
                    ("action", action),
                    ("identifiant", "evaluation"),
                ]),
            )
            .await
        }
    };
    assert_eq!(act("desactiver").await.status(), StatusCode::OK);
    assert_eq!(
        post_login(&s.base, "evaluation", "un nouveau mot de passe")
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "a disabled account cannot log in"
    );
    let r = act("reinitialiser").await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let at = html.find("<code class=\"jeton\">").unwrap() + 20;
    let password = html[at..at + html[at..].find('<').unwrap()].to_string();
    assert!(password.len() >= 12);
    assert_eq!(
        post_login(&s.base, "evaluation", &password).await.status(),
        StatusCode::SEE_OTHER
    );
    // Every step is in the audit log, no password in it.
    let log = std::fs::read_to_string(&s.state.settings().audit_log).unwrap();
    assert!(
        log.contains("\"mot_de_passe\"")
            && log.contains("reinitialiser")
            && log.contains("desactiver")
    );
    assert!(!log.contains(&password) && !log.contains("un nouveau mot de passe"));
}
