//! Data quality (drops by territory) and the methodology.

use super::*;

/// `/qualite`: every territory's last drop, its age and its rejection rate.
pub async fn quality(
    c: Ctx,
    Query(released): Query<crate::held::Released>,
) -> Result<Response, HttpError> {
    c.user.require_quality()?;
    let results = c.state.results();
    let mut rows = results.quality(c.state.register(), c.state.clock().today());
    rows.retain(|q| c.user.sees_details_of(&q.territoire.id));
    let body = html! {
        @if let Some(m) = crate::held::release_outcome(&c.state, &c.user, &released) { (m) }
        p { "Pour chaque territoire : son dernier dépôt intégré, l'âge de son extraction au " (c.state.clock().today().format("%d/%m/%Y")) ", et la part de lignes rejetées. Un dépôt « en attente d'examen » (sans ligne valide, trop de rejets, trop de personnes perdues, ou daté dans le futur) n'est pas intégré : les données précédentes restent en vigueur. Après examen, un compte « national » ou « admin » l'intègre par le bouton « Intégrer ce dépôt » ci-dessous (ou l'API), ou un administrateur du serveur par « copil integrer --liberer FICHIER »." }
        @if c.user.may_release() {
            p { "Intégrer un dépôt en attente lève les garde-fous (part de lignes rejetées, personnes perdues, date d'extraction future) : il remplace les données de son territoire. Le contrat du fichier, les limites et l'ordre des extractions s'appliquent toujours ; l'opération est journalisée." }
        }
        div class="defilement" tabindex="0" { table {
            caption { "Dernier dépôt intégré par territoire" }
            thead { tr {
                th scope="col" { "territoire" } th scope="col" { "vague" } th scope="col" { "fichier" }
                th scope="col" { "extraction" } th scope="col" class="nombre" { "âge (jours)" }
                th scope="col" class="nombre" { "lignes lues" } th scope="col" class="nombre" { "taux de rejet" }
                th scope="col" class="nombre" { "refus depuis" }
                th scope="col" { "en attente d'examen" }
            } }
            tbody {
                @for q in &rows {
                    tr {
                        th scope="row" { a href=(format!("/territoires/{}", q.territoire.id)) { (q.territoire.nom) } }
                        td { (q.territoire.vague.label()) }
                        @if let Some(d) = q.dernier {
                            td { (d.fichier) }
                            td { (d.date_extraction.map(|e| e.format("%d/%m/%Y").to_string()).unwrap_or_default()) }
                            td class="nombre" { (q.age_jours.map(nombres::entier).unwrap_or_default()) }
                            td class="nombre" { (nombres::entier(d.lignes_lues)) }
                            td class="nombre" { (percent(d.taux_rejet())) }
                        } @else {
                            td colspan="5" class="secret" { "aucun dépôt intégré" }
                        }
                        td class="nombre" { (nombres::entier(q.refuses as i128)) }
                        td { @for (i, d) in q.en_attente.iter().enumerate() {
                            @if i > 0 { ", " }
                            (d.fichier) " : " (crate::error::without_paths(d.message.as_deref().unwrap_or_default()))
                            @if let Some(n) = crate::held::held_name(&c.state, d) { (crate::held::release_form(&c.user, &d.territoire, &n)) }
                        } }
                    }
                }
            }
        } }
    };
    html_page(&c, &results, "Qualité des données", "/qualite", &body)
}

/// `/methodologie`: definitions, secrecy rules, sources.
pub async fn methodology(c: Ctx) -> Result<Response, HttpError> {
    let results = c.state.results();
    let seuil = c.state.settings().threshold;
    let body = html! {
        nav class="sommaire" aria-label="Sommaire de la méthodologie" {
            h2 { "Sommaire" }
            ol {
                li { a href="#sources" { "Sources" } }
                li { a href="#secret" { "Secret statistique" } }
                li { a href="#couverture" { "Couverture et cases provisoires" } }
                li { a href="#comparaisons" { "Comparaisons" } }
                li { a href="#definitions" { "Définitions des indicateurs" }
                    ol { @for ind in c.state.catalogue().iter() { li { a href=(format!("#{}", ind.id)) { (ind.titre) } } } }
                }
            }
        }
        h2 id="sources" { "Sources" }
        p { "Chaque territoire dépose un extrait de ses parcours (CSV ou XLSX). Copil le valide ligne à ligne, le pseudonymise (HMAC-SHA-256 du NIR, ou de l'identifiant local, avec une clé secrète) et l'intègre dans des tables Delta Lake. Seuls l'année de naissance et le département sont conservés : ni NIR, ni nom, ni adresse, ni téléphone, ni courriel, ni date de naissance exacte, ni commune." }
        p { "Chaque dépôt remplace entièrement les données précédentes de son territoire. Un territoire n'est observé que jusqu'à sa date d'extraction : un mois n'est publié que lorsqu'il est complet (et, pour les indicateurs de cohorte, lorsque la fenêtre d'observation est écoulée)." }
        h2 id="secret" { "Secret statistique" }
        p { "Aucun chiffre publié ne doit permettre de connaître la situation d'un petit groupe de personnes, ni directement, ni par calcul à partir d'autres chiffres publiés. Les règles suivantes s'appliquent à toute sortie : pages, graphiques, tableaux de données, API JSON, fichiers CSV, XLSX et Parquet." }
        ul {
            li { strong { "Secret primaire. " } "Une case est masquée lorsqu'elle compte entre 1 et " (seuil - 1) " personnes, lorsque le dénominateur d'un taux est dans ce cas, ou lorsqu'un délai (médiane, moyenne, quartiles) porte sur moins de " (seuil) " personnes." }
            li { strong { "Numérateurs. " } "Un numérateur entre 1 et " (seuil - 1) " est masqué lui aussi, même si le dénominateur est grand : compter 4 personnes ayant un frein de santé parmi 200 révèle une caractéristique de 4 personnes, aussi sensible qu'une petite population. Un zéro, lui, est publié comme zéro." }
            li { strong { "Zéros et modalités. " } "Chaque modalité d'une ventilation est écrite pour chaque territoire et chaque mois, même vide : une ligne absente ne vaut jamais zéro, et une case secrète ne peut pas se déduire de l'absence des autres." }
            li { strong { "Tableaux liés et secret secondaire. " } "Les chiffres publiés s'emboîtent : les territoires s'additionnent en vagues et en France, les modalités en total, les cases « avant / après » reprennent les vagues. Retrancher d'une vague ses territoires publiés redonnerait un territoire masqué. D'autres cases sont donc masquées, les petits territoires de préférence à une vague ou à la France, jusqu'à ce que, pour chaque case secrète, les valeurs compatibles avec tout ce qui est publié (les sommes, et des effectifs positifs) s'étendent sur au moins " (seuil) " personnes : la valeur exacte reste inconnue à " (seuil) " près." }
            li { strong { "Indicateurs jumeaux. " } "Certains indicateurs publient le même effectif : les entrants du mois sont le dénominateur des orientations en 30 et 45 jours ; les personnes en droits et devoirs, celui de la part d'orientés (et, le mois suivant, des sorties vers l'emploi) ; les orientés du mois, celui des indicateurs de contrat, de rendez-vous, de diagnostic et de réorientation ; les orientés hors France Travail se déduisent de la part des orientations vers France Travail. Un tel effectif est masqué dans tous ses indicateurs ou publié dans tous ; et deux chiffres de vague ou de la France qui ne comptent pas les mêmes territoires (une fenêtre d'observation plus longue en écarte les plus récents) ne sont publiés ensemble que si chaque territoire de la différence est publié." }
            li { strong { "Audit. " } "À chaque calcul, Copil attaque lui-même la table publiée comme le ferait un extérieur : pour chaque case secrète, il calcule la plus petite et la plus grande valeur compatibles avec les chiffres publiés (un petit programme linéaire par indicateur et par mois). Une table qui ne passe pas l'audit n'est pas publiée ; la précédente reste en place. La commande « copil indicateurs audit » imprime ce contrôle." }
            li { strong { "Ce que cela coûte. " } "Des cases non sensibles sont masquées pour protéger les autres, surtout pour les petits territoires et les ventilations fines ; la valeur nationale reste publiée dès qu'une protection par des territoires suffit." }
            li { "Une case masquée est affichée « secret », jamais zéro ; elle n'entre ni dans les classements, ni dans les médianes de territoires, ni dans les courbes." }
        }
        h2 id="couverture" { "Couverture et cases provisoires" }
        p { "Chaque territoire n'est observé que jusqu'à la date d'extraction de son dernier dépôt, et les territoires déposent à des dates différentes. Une case de vague ou de la France n'additionne que les territoires dont le mois est complet ; elle indique combien de territoires elle compte sur combien sont en vigueur ce mois-là, et quelle part des personnes du niveau ils représentent. Elle n'est publiée qu'à partir de " (c.state.settings().coverage_percent) " % de ces personnes, et reste marquée « provisoire » (p) tant qu'un territoire manque : une série ne chute donc jamais parce qu'un dépôt est en retard." }
        p { "Le mois de référence des pages est le dernier mois complet pour tous les territoires en vigueur ; il est le même pour tous les indicateurs sans fenêtre d'observation. Un indicateur de cohorte avec une fenêtre (par exemple une réorientation dans les 365 jours) a un mois de référence plus ancien, le dernier dont la fenêtre est écoulée partout." }
        p { "Un territoire qui cède ses départements à un autre (le Bas-Rhin à la Collectivité européenne d'Alsace en janvier 2021) compte jusqu'à sa fin, son successeur ensuite : chaque département n'est compté qu'une fois dans les chiffres de la France." }
        h2 id="comparaisons" { "Comparaisons" }
        p { "France et vagues : somme des numérateurs et dénominateurs des territoires (les délais fusionnent leurs distributions, médianes et quartiles exacts). Dispersion : médiane et quartiles des valeurs publiées des territoires. Pairs : les " (copil_queries::PEERS) " territoires les plus proches par le nombre de personnes soumises aux droits et devoirs. Rang : parmi les valeurs publiées, pour les indicateurs qui ont un sens. Intervalle de confiance à 95 % des taux : méthode de Wilson." }
        h2 id="definitions" { "Définitions des indicateurs" }
        @for ind in c.state.catalogue().iter() {
            h3 id=(ind.id) { (ind.titre) }
            dl class="definition" {
                dt { "Définition" } dd { (ind.definition) }
                dt { "Numérateur" } dd { (ind.numerateur) }
                dt { "Dénominateur" } dd { (ind.denominateur) }
                dt { "Fenêtre" } dd { (ind.fenetre) }
                dt { "Maturité" } dd { (ind.maturite) }
                dt { "Sens" } dd { (direction(ind.direction)) }
                dt { "Ventilations" } dd { (if ind.ventilations.is_empty() { "aucune".to_string() } else { ind.ventilations.join(", ") }) }
                @if let Some(l) = &ind.lecture {
                    dt { "Lecture retenue" } dd { (l) }
                }
                @if let Some((m, why)) = &ind.rupture {
                    dt { "Rupture de série" } dd { (month_label(*m)) " : " (why) }
                }
            }
        }
    };
    html_page(&c, &results, "Méthodologie", "/methodologie", &body)
}
