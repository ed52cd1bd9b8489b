//! The figures of the indicator page: each one's chart data and the table of exactly what it
//! shows (the same table is rendered beside the chart and downloaded as CSV).

use chrono::NaiveDate;
use copil_core::libelles;
use copil_queries::{Cell, IndicatorReport, Sorte};

/// Monthly values: (first day of the month, published value or `None`).
pub type Monthly = Vec<(NaiveDate, Option<f64>)>;
use copil_warehouse::{Departments, Wave};
use maud::{Markup, html};

use crate::chart::{
    Bar, BeforeAfter, Caption, Ranking, Reference, RelativeSeries, Series, Tile, TileMap,
    TileState, Timeline, Tone, Unit,
};

/// A table: caption, headers and rows of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// What it holds.
    pub caption: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows, as shown.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// CSV for Excel in French: `;`, UTF-8 with a byte-order mark, CRLF.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let line = |cells: &[String]| -> String {
            cells
                .iter()
                .map(|c| {
                    if c.contains([';', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(";")
        };
        out.push_str(&line(&self.headers));
        out.push_str("\r\n");
        for r in &self.rows {
            out.push_str(&line(r));
            out.push_str("\r\n");
        }
        out
    }

    /// The table in HTML, numbers right-aligned.
    pub fn html(&self) -> Markup {
        html! {
            div class="defilement" tabindex="0" { table {
                caption { (self.caption) }
                thead { tr { @for h in &self.headers { th scope="col" { (h) } } } }
                tbody {
                    @for r in &self.rows {
                        tr {
                            @for (i, c) in r.iter().enumerate() {
                                @if i == 0 { th scope="row" { (c) } }
                                @else if c == "secret" { td class="nombre secret" { (c) } }
                                @else { td class="nombre" { (french(c)) } }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// The colour of a wave on every chart.
fn wave_tone(w: Wave) -> Tone {
    Tone::Wave(Wave::ALL.iter().position(|x| *x == w).unwrap_or(0))
}

/// The colour of a series by its label: France, a wave, or another line.
fn tone_of(label: &str) -> Tone {
    if label == "France" {
        return Tone::France;
    }
    Wave::ALL
        .iter()
        .find(|w| w.label() == label)
        .map_or(Tone::Other, |w| wave_tone(*w))
}

/// A raw number of a CSV cell (« 16367 », « -3,5 ») written the French way for a page
/// (« 16 367 », « −3,5 »); any other text as it is (issue 15).
pub fn french(cell: &str) -> String {
    let (negative, digits) = match cell.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cell),
    };
    let (int, frac) = digits.split_once(',').unwrap_or((digits, ""));
    let numeric = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    let Some(n) = numeric.then(|| int.parse::<i128>().ok()).flatten() else {
        return cell.to_string();
    };
    let mut out = copil_core::nombres::entier(n);
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    let zero = n == 0 && frac.bytes().all(|b| b == b'0');
    if negative && !zero {
        out.insert(0, copil_core::nombres::MINUS);
    }
    out
}

/// The chart unit of an indicator kind.
pub fn unit(sorte: Sorte) -> Unit {
    match sorte {
        Sorte::Taux => Unit::Share,
        Sorte::Delai => Unit::Days,
        Sorte::Volume => Unit::Count,
    }
}

pub use copil_queries::month_label;

/// A published value (secret and missing cells give `None`).
fn published(c: Option<&Cell>) -> Option<f64> {
    c.filter(|c| !c.secret).and_then(|c| c.valeur)
}

/// A raw number for CSV and tables: decimal comma, no thousands separator.
fn raw(v: Option<f64>, sorte: Sorte) -> String {
    match v {
        None => String::new(),
        Some(v) => {
            let s = match sorte {
                Sorte::Volume => format!("{v:.0}"),
                Sorte::Taux => format!("{:.1}", v * 100.0),
                Sorte::Delai => format!("{v:.1}"),
            };
            s.replace('.', ",")
        }
    }
}

fn shown(c: Option<&Cell>, sorte: Sorte) -> String {
    match c {
        None => "pas de données".into(),
        Some(c) if c.secret => "secret".into(),
        Some(c) => raw(c.valeur, sorte),
    }
}

fn value_header(sorte: Sorte) -> String {
    match sorte {
        Sorte::Taux => "valeur (%)".into(),
        Sorte::Delai => "délai médian (jours)".into(),
        Sorte::Volume => "personnes".into(),
    }
}

/// The ranking of territories, with national and wave references (`highlight`: a territory
/// drawn in the accent colour).
pub fn ranking(r: &IndicatorReport<'_>, highlight: Option<&str>) -> (Ranking, Table) {
    let ind = r.indicateur;
    let mut references = Vec::new();
    if let Some(v) = published(r.snapshot.national) {
        references.push(Reference {
            label: "France".into(),
            value: v,
            tone: Tone::France,
        });
    }
    for (w, c) in &r.snapshot.vagues {
        if let Some(v) = published(*c) {
            references.push(Reference {
                label: w.label().into(),
                value: v,
                tone: wave_tone(*w),
            });
        }
    }
    let bars = r
        .classement
        .iter()
        .map(|t| Bar {
            label: t.territoire.nom.clone(),
            value: published(t.cell),
            low: t.cell.filter(|c| !c.secret).and_then(|c| c.ic_bas.or(c.q1)),
            high: t
                .cell
                .filter(|c| !c.secret)
                .and_then(|c| c.ic_haut.or(c.q3)),
            secret: t.cell.is_some_and(|c| c.secret),
            highlight: highlight == Some(t.territoire.id.as_str()),
        })
        .collect();
    let mois = month_label(r.snapshot.mois);
    let chart = Ranking {
        caption: Caption {
            title: format!("{} — classement des territoires, {mois}", ind.titre),
            desc: format!(
                "Barres horizontales : valeur de chaque territoire en {mois}, {}, avec {} ; lignes de référence : France et vagues. {} territoires classés.",
                match ind.direction {
                    copil_queries::Direction::Neutre => "de la plus grande à la plus petite",
                    _ => "du meilleur au moins bon",
                },
                if ind.sorte == Sorte::Delai {
                    "le premier et le troisième quartiles"
                } else {
                    "l'intervalle de confiance à 95 %"
                },
                r.classes
            ),
        },
        unit: unit(ind.sorte),
        bars,
        references,
        interval: if ind.sorte == Sorte::Delai {
            crate::chart::Interval::Quartiles
        } else {
            crate::chart::Interval::Confiance95
        },
    };
    let (lo, hi) = if ind.sorte == Sorte::Delai {
        ("premier quartile", "troisième quartile")
    } else {
        ("IC 95 % bas", "IC 95 % haut")
    };
    let table = Table {
        caption: format!("{} par territoire, {mois}", ind.titre),
        headers: vec![
            "territoire".into(),
            "rang".into(),
            value_header(ind.sorte),
            lo.into(),
            hi.into(),
            "personnes".into(),
        ],
        rows: r
            .classement
            .iter()
            .map(|t| {
                let open = t.cell.filter(|c| !c.secret);
                vec![
                    t.territoire.nom.clone(),
                    t.rang.map(|x| x.to_string()).unwrap_or_default(),
                    shown(t.cell, ind.sorte),
                    raw(open.and_then(|c| c.ic_bas.or(c.q1)), ind.sorte),
                    raw(open.and_then(|c| c.ic_haut.or(c.q3)), ind.sorte),
                    open.and_then(|c| c.personnes)
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                ]
            })
            .collect(),
    };
    (chart, table)
}

/// The tile map: each département coloured by the territory covering it.
pub fn map(r: &IndicatorReport<'_>, departments: &Departments) -> (TileMap, Table) {
    let ind = r.indicateur;
    let mut rows = Vec::new();
    let mut tiles = Vec::new();
    for d in departments.iter() {
        let covering = r
            .classement
            .iter()
            .find(|t| t.territoire.departements.contains(&d.code));
        let state = match covering.and_then(|t| t.cell) {
            None => TileState::NoData,
            Some(c) if c.secret => TileState::Secret,
            Some(c) => c.valeur.map_or(TileState::NoData, TileState::Value),
        };
        rows.push(vec![
            format!("{} {}", d.code, d.nom),
            covering
                .map(|t| t.territoire.nom.clone())
                .unwrap_or_default(),
            covering.map_or("pas de données".into(), |t| shown(t.cell, ind.sorte)),
        ]);
        tiles.push(Tile {
            code: d.code.clone(),
            state,
        });
    }
    let mois = month_label(r.snapshot.mois);
    (
        TileMap {
            caption: Caption {
                title: format!("{} — carte des départements, {mois}", ind.titre),
                desc: format!(
                    "Carte en tuiles des 101 départements, chacun coloré selon la valeur du territoire qui le couvre en {mois} ; gris hachuré : secret statistique ; blanc : pas de données."
                ),
            },
            unit: unit(ind.sorte),
            tiles,
        },
        Table {
            caption: format!("{} par département, {mois}", ind.titre),
            headers: vec![
                "département".into(),
                "territoire".into(),
                value_header(ind.sorte),
            ],
            rows,
        },
    )
}

/// The monthly series, nationally and per wave.
pub fn timeline(r: &IndicatorReport<'_>, territory: Option<(&str, Monthly)>) -> (Timeline, Table) {
    let ind = r.indicateur;
    // France and the waves, then the highlighted territory's own curve (issue 15).
    let mut lines: Vec<(String, Monthly, Tone)> = r
        .series
        .iter()
        .map(|(label, points)| (label.clone(), points.clone(), tone_of(label)))
        .collect();
    if let Some((name, points)) = territory {
        let months: std::collections::BTreeSet<NaiveDate> = r
            .series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|x| x.0))
            .collect();
        let points = points
            .into_iter()
            .filter(|(m, _)| months.contains(m))
            .collect();
        lines.push((name.to_string(), points, Tone::Territory));
    }
    let series: Vec<Series> = lines
        .iter()
        .map(|(label, points, tone)| Series {
            label: label.clone(),
            points: points.clone(),
            tone: *tone,
        })
        .collect();
    let months: std::collections::BTreeSet<NaiveDate> = lines
        .iter()
        .flat_map(|(_, p, _)| p.iter().map(|x| x.0))
        .collect();
    let rows = months
        .iter()
        .map(|m| {
            let mut row = vec![m.format("%Y-%m").to_string()];
            for (_, points, _) in &lines {
                row.push(match points.iter().find(|p| p.0 == *m) {
                    None => "pas de données".into(),
                    Some((_, None)) => "secret".into(),
                    Some((_, v)) => raw(*v, ind.sorte),
                });
            }
            let provisional: Vec<&str> = r
                .series
                .iter()
                .zip(&r.provisoires)
                .filter(|(_, p)| p.contains(m))
                .map(|((label, _), _)| label.as_str())
                .collect();
            row.push(provisional.join(", "));
            row
        })
        .collect();
    let mut headers = vec!["mois".to_string()];
    headers.extend(lines.iter().map(|(l, _, _)| l.clone()));
    headers.push("provisoire".to_string());
    let mut marks = Vec::new();
    if let Some(m) = r.provisoire_depuis {
        marks.push((m, "provisoire".to_string()));
    }
    if let Some((m, _)) = &ind.rupture {
        marks.push((*m, "rupture de série".to_string()));
    }
    let mut desc = if lines.len() > r.series.len() {
        format!(
            "Courbes mensuelles : France, chacune des trois vagues et {} ; une courbe interrompue signale un mois secret ou sans données.",
            lines.last().map_or("", |l| l.0.as_str())
        )
    } else {
        "Courbes mensuelles : France et chacune des trois vagues ; une courbe interrompue signale un mois secret ou sans données.".to_string()
    };
    if let Some(m) = r.provisoire_depuis {
        desc.push_str(&format!(
            " À partir de {}, les valeurs sont provisoires : tous les territoires n'ont pas encore transmis ce mois.",
            month_label(m)
        ));
    }
    if let Some((m, why)) = &ind.rupture {
        desc.push_str(&format!(
            " Rupture de série en {} : {why}.",
            month_label(*m)
        ));
    }
    (
        Timeline {
            caption: Caption {
                title: format!("{} — évolution mensuelle", ind.titre),
                desc,
            },
            unit: unit(ind.sorte),
            series,
            marks,
        },
        Table {
            caption: format!("{} par mois", ind.titre),
            headers,
            rows,
        },
    )
}

/// Per wave, values by month relative to the SPIE start.
pub fn before_after(r: &IndicatorReport<'_>) -> (BeforeAfter, Table) {
    let ind = r.indicateur;
    let series: Vec<RelativeSeries> = r
        .avant_apres
        .iter()
        .map(|(w, points)| RelativeSeries {
            label: w.label().into(),
            points: points.clone(),
            tone: wave_tone(*w),
        })
        .collect();
    let rows = (-12..=24)
        .map(|k: i32| {
            let mut row = vec![format!("{k:+}")];
            for (_, points) in &r.avant_apres {
                row.push(match points.iter().find(|p| p.0 == k) {
                    None => "pas de données".into(),
                    Some((_, None)) => "secret".into(),
                    Some((_, v)) => raw(*v, ind.sorte),
                });
            }
            row
        })
        .collect();
    let mut headers = vec!["mois depuis le début du SPIE".to_string()];
    headers.extend(r.avant_apres.iter().map(|(w, _)| w.label().to_string()));
    (
        BeforeAfter {
            caption: Caption {
                title: format!("{} — avant / après l'entrée dans le SPIE", ind.titre),
                desc: "Pour chaque vague, valeur selon le nombre de mois écoulés depuis le début du SPIE de ses territoires, de 12 mois avant à 24 mois après.".into(),
            },
            unit: unit(ind.sorte),
            series,
        },
        Table {
            caption: format!("{} avant / après le début du SPIE", ind.titre),
            headers,
            rows,
        },
    )
}

/// The national cells of the chosen breakdown, modalities in their natural order and named in
/// French (issue 15).
pub fn breakdown(r: &IndicatorReport<'_>) -> Option<Table> {
    let (v, cells) = r.ventilation.as_ref()?;
    let ind = r.indicateur;
    let mut cells: Vec<&Cell> = cells.clone();
    cells.sort_by_key(|c| libelles::rang(v, &c.modalite));
    Some(Table {
        caption: format!(
            "{} par {}, France, {}",
            ind.titre,
            libelles::colonne(v),
            month_label(r.snapshot.mois)
        ),
        headers: vec![libelles::colonne(v).to_string(), value_header(ind.sorte)],
        rows: cells
            .iter()
            .map(|c| {
                vec![
                    libelles::modalite(&c.modalite).to_string(),
                    shown(Some(c), ind.sorte),
                ]
            })
            .collect(),
    })
}
