//! Tests of the four charts: snapshots on small hand-written inputs, determinism,
//! accessibility, empty and absurd inputs.

use chrono::NaiveDate;

use super::*;

fn caption(title: &str, desc: &str) -> Caption {
    Caption {
        title: title.to_owned(),
        desc: desc.to_owned(),
    }
}

fn bar(label: &str, value: Option<f64>, interval: Option<(f64, f64)>) -> Bar {
    Bar {
        label: label.to_owned(),
        value,
        low: interval.map(|(low, _)| low),
        high: interval.map(|(_, high)| high),
        secret: false,
        highlight: false,
    }
}

fn sample_ranking() -> Ranking {
    Ranking {
        caption: caption(
            "Taux d'accès à un accompagnement, par territoire",
            "Part des nouveaux inscrits accompagnés dans les 30 jours, par territoire SPIE, \
             avec l'intervalle de confiance à 95 % et la valeur nationale.",
        ),
        unit: Unit::Share,
        bars: vec![
            bar("Paris", Some(0.513), Some((0.49, 0.536))),
            Bar {
                highlight: true,
                ..bar("Loire-Atlantique", Some(0.478), Some((0.455, 0.501)))
            },
            bar("Nord", Some(0.452), Some((0.44, 0.464))),
            Bar {
                secret: true,
                ..bar("Lozère", None, None)
            },
            bar("Creuse", None, None),
            bar("Vallée de l'Ariège & <Couserans>", Some(0.387), None),
        ],
        references: vec![
            Reference {
                label: "National".to_owned(),
                value: 0.452,
            },
            Reference {
                label: "Vague 2021 A".to_owned(),
                value: 0.401,
            },
        ],
        interval: Interval::Confiance95,
    }
}

fn month(y: i32, m: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, 1).expect("valid month")
}

fn sample_timeline() -> Timeline {
    let national = [
        0.41, 0.42, 0.43, 0.425, 0.44, 0.45, 0.452, 0.46, 0.455, 0.47,
    ];
    Timeline {
        caption: caption(
            "Délai médian d'orientation",
            "Évolution mensuelle du délai médian d'orientation, national et par vague.",
        ),
        unit: Unit::Share,
        series: vec![
            Series {
                label: "National".to_owned(),
                points: national
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (month(2024, 1 + i as u32), Some(v)))
                    .collect(),
            },
            Series {
                label: "Vague 2021 A".to_owned(),
                points: vec![
                    (month(2024, 1), Some(0.38)),
                    (month(2024, 2), Some(0.39)),
                    (month(2024, 3), None),
                    (month(2024, 4), Some(0.41)),
                    (month(2024, 5), None),
                    (month(2024, 6), Some(0.43)),
                    (month(2024, 7), Some(0.44)),
                ],
            },
            Series {
                label: "Vague 2023".to_owned(),
                points: vec![(month(2024, 8), Some(0.40)), (month(2024, 10), Some(0.42))],
            },
        ],
        marks: Vec::new(),
    }
}

fn sample_before_after() -> BeforeAfter {
    BeforeAfter {
        caption: caption(
            "Avant / après l'entrée dans le SPIE",
            "Taux d'accès par mois relatif au début du SPIE, une ligne par vague.",
        ),
        unit: Unit::Days,
        series: vec![
            RelativeSeries {
                label: "Vague 2021 A".to_owned(),
                points: (-12..=24)
                    .map(|m| {
                        let v = if m == 3 {
                            None
                        } else {
                            Some(40.0 - f64::from(m) * 0.5)
                        };
                        (m, v)
                    })
                    .collect(),
            },
            RelativeSeries {
                label: "Vague 2023".to_owned(),
                points: (-12..=6)
                    .map(|m| (m, Some(45.0 - f64::from(m.max(0)) * 0.8)))
                    .chain([(30, Some(1.0))])
                    .collect(),
            },
        ],
    }
}

fn sample_tile_map() -> TileMap {
    let mut tiles: Vec<Tile> = ["75", "92", "93", "94", "59", "62", "13", "2A", "971", "974"]
        .iter()
        .enumerate()
        .map(|(i, code)| Tile {
            code: (*code).to_owned(),
            state: TileState::Value(0.30 + 0.03 * i as f64),
        })
        .collect();
    tiles.push(Tile {
        code: "48".to_owned(),
        state: TileState::Secret,
    });
    tiles.push(Tile {
        code: "23".to_owned(),
        state: TileState::NoData,
    });
    tiles.push(Tile {
        code: "99".to_owned(),
        state: TileState::Value(0.99),
    });
    TileMap {
        caption: caption(
            "Taux d'accès par département",
            "Carte en tuiles des départements, colorées selon le taux d'accès.",
        ),
        unit: Unit::Share,
        tiles,
    }
}

/// Every chart kind, rendered from its sample.
fn all_samples() -> Vec<(&'static str, String)> {
    vec![
        ("ranking", ranking(&sample_ranking())),
        ("timeline", timeline(&sample_timeline())),
        ("before_after", before_after(&sample_before_after())),
        ("tile_map", tile_map(&sample_tile_map())),
    ]
}

/// A minimal well-formedness check: tags balance, attributes are quoted, no raw `&`.
fn assert_well_formed(name: &str, svg: &str) {
    assert!(svg.starts_with("<svg "), "{name}: starts with <svg");
    assert!(svg.ends_with("</svg>\n"), "{name}: ends with </svg>");
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "{name}: raw & in {text:?}"
            );
        }
        let end = rest[start..].find('>').expect("tag closes") + start;
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "{name}: < inside a tag: {tag}");
        assert_eq!(tag.matches('"').count() % 2, 0, "{name}: quotes in {tag}");
        if let Some(closing) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(closing),
                "{name}: </{closing}>"
            );
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or_default();
            stack.push(name.to_owned());
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
}

/// The `<title>`, `<desc>`, `role` and `aria-labelledby` every chart must carry.
fn assert_accessible(name: &str, svg: &str, caption: &Caption) {
    let root = svg.split_once('>').expect("root tag").0;
    assert!(root.contains(" role=\"img\""), "{name}: role");
    assert!(root.contains(" viewBox=\"0 0 "), "{name}: viewBox");
    let ids = root
        .split("aria-labelledby=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("aria-labelledby");
    let ids: Vec<&str> = ids.split(' ').collect();
    assert_eq!(ids.len(), 2, "{name}: two ids");
    let after_root = &svg[root.len() + 1..];
    let title = format!(
        "\n<title id=\"{}\">{}</title>\n<desc id=\"{}\">{}</desc>\n",
        ids[0],
        svg::escape_xml(&caption.title),
        ids[1],
        svg::escape_xml(&caption.desc)
    );
    assert!(
        after_root.starts_with(&title),
        "{name}: title and desc first"
    );
}

#[test]
fn snapshot_ranking() {
    insta::assert_snapshot!("ranking", ranking(&sample_ranking()));
}

#[test]
fn snapshot_timeline() {
    insta::assert_snapshot!("timeline", timeline(&sample_timeline()));
}

#[test]
fn snapshot_before_after() {
    insta::assert_snapshot!("before_after", before_after(&sample_before_after()));
}

#[test]
fn snapshot_tile_map() {
    insta::assert_snapshot!("tile_map", tile_map(&sample_tile_map()));
}

#[test]
fn snapshot_empty_ranking() {
    let empty = Ranking {
        bars: Vec::new(),
        references: Vec::new(),
        ..sample_ranking()
    };
    insta::assert_snapshot!("ranking_empty", ranking(&empty));
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(all_samples(), all_samples());
}

#[test]
fn every_chart_is_accessible_and_well_formed() {
    let captions = [
        sample_ranking().caption,
        sample_timeline().caption,
        sample_before_after().caption,
        sample_tile_map().caption,
    ];
    for ((name, svg), caption) in all_samples().iter().zip(&captions) {
        assert_well_formed(name, svg);
        assert_accessible(name, svg, caption);
        assert!(
            svg.contains("font-family=\"DejaVu Sans, sans-serif\""),
            "{name}: font"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{name}: NaN");
    }
}

#[test]
fn ids_differ_between_charts_of_one_page() {
    let ids: std::collections::BTreeSet<String> = all_samples()
        .iter()
        .map(|(_, svg)| svg.split("<title id=\"").nth(1).unwrap()[..30].to_owned())
        .collect();
    assert_eq!(ids.len(), 4);
}

#[test]
fn captions_are_escaped() {
    let mut r = sample_ranking();
    r.caption = caption("Taux <accès> & \"délai\" d'orientation", "a < b & c > d");
    let svg = ranking(&r);
    assert!(svg.contains(">Taux &lt;accès&gt; &amp; &quot;délai&quot; d&apos;orientation</title>"));
    assert!(svg.contains(">a &lt; b &amp; c &gt; d</desc>"));
    assert_well_formed("escaped", &svg);
    // Labels drawn by plotters are escaped as well.
    assert!(svg.contains("Vallée de l&apos;Ariège &amp; &lt;Couserans&gt;"));
}

#[test]
fn ranking_shows_values_secret_references_and_intervals() {
    let svg = ranking(&sample_ranking());
    let nnbsp = '\u{202F}';
    assert!(svg.contains(&format!(">\n51,3{nnbsp}%\n</text>")));
    assert!(svg.contains(">\nsecret\n</text>"));
    assert!(svg.contains(">\npas de données\n</text>"));
    assert!(svg.contains(&format!(">\nNational 45,2{nnbsp}%\n</text>")));
    assert!(svg.contains(&format!(">\nVague 2021 A 40,1{nnbsp}%\n</text>")));
    assert!(svg.contains("Intervalle de confiance"));
    // Issue 12: a delay's whiskers are quartiles, and are called so.
    let quartiles = ranking(&Ranking {
        interval: Interval::Quartiles,
        ..sample_ranking()
    });
    assert!(quartiles.contains("Premier et troisième quartiles"));
    assert!(!quartiles.contains("Intervalle de confiance"));
    assert!(
        svg.contains("#E1000F"),
        "national reference in red Marianne"
    );
    assert!(svg.contains("#000091"), "bars in Bleu France");
    assert!(
        svg.contains("#B34000"),
        "highlighted bar in the accent colour"
    );
}

#[test]
fn ranking_height_grows_with_the_bars() {
    let height = |n: usize| {
        let r = Ranking {
            bars: (0..n)
                .map(|i| bar(&format!("Territoire {i}"), Some(i as f64 / 100.0), None))
                .collect(),
            ..sample_ranking()
        };
        let svg = ranking(&r);
        let h: i32 = svg
            .split("height=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        h
    };
    assert!(height(80) > height(10) + 60 * 20);
    assert!(
        ranking(&Ranking {
            bars: (0..80)
                .map(|i| bar(&format!("T{i}"), Some(0.5), None))
                .collect(),
            ..sample_ranking()
        })
        .contains(">\nT79\n</text>")
    );
}

#[test]
fn lines_have_legends_and_french_axes() {
    let svg = timeline(&sample_timeline());
    assert!(svg.contains(">\njanv. 2024\n</text>"));
    assert!(svg.contains(">\nNational\n</text>") && svg.contains(">\nVague 2023\n</text>"));
    let svg = before_after(&sample_before_after());
    assert!(svg.contains(">\ndébut SPIE\n</text>"));
    assert!(svg.contains(">\n\u{2212}12\n</text>") && svg.contains(">\n+24\n</text>"));
    assert!(svg.contains(">\nVague 2021 A\n</text>"));
}

#[test]
fn the_tile_map_draws_the_101_codes() {
    let svg = tile_map(&sample_tile_map());
    let codes: Vec<&str> = tile_map::DEPARTEMENT_TILES
        .iter()
        .map(|&(c, _, _)| c)
        .collect();
    assert_eq!(codes.len(), 101);
    for code in codes {
        assert_eq!(
            svg.matches(&format!(">\n{code}\n</text>")).count(),
            1,
            "{code}"
        );
    }
    assert!(!svg.contains(">\n99\n</text>"), "unknown codes are ignored");
    assert!(svg.contains(">\nOutre-mer\n</text>"));
    assert!(svg.contains(">\npas de données\n</text>") && svg.contains(">\nsecret\n</text>"));
    assert!(svg.contains("#000091"), "the largest value in Bleu France");
}

#[test]
fn empty_inputs_say_so() {
    let empty_ranking = Ranking {
        bars: Vec::new(),
        ..sample_ranking()
    };
    let all_none = Timeline {
        series: vec![Series {
            label: "National".to_owned(),
            points: vec![(month(2024, 1), None), (month(2024, 2), None)],
        }],
        ..sample_timeline()
    };
    let no_series = BeforeAfter {
        series: Vec::new(),
        ..sample_before_after()
    };
    let no_tiles = TileMap {
        tiles: Vec::new(),
        ..sample_tile_map()
    };
    let no_timeline = Timeline {
        series: Vec::new(),
        ..sample_timeline()
    };
    for (name, svg) in [
        ("ranking", ranking(&empty_ranking)),
        ("timeline", timeline(&all_none)),
        ("timeline without series", timeline(&no_timeline)),
        ("before_after", before_after(&no_series)),
        ("tile_map", tile_map(&no_tiles)),
    ] {
        assert_well_formed(name, &svg);
        assert!(svg.contains("Aucune donnée publiable"), "{name}");
        assert!(svg.contains("role=\"img\""), "{name}");
    }
}

#[test]
fn non_finite_values_never_panic() {
    let weird = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        -f64::MAX,
        0.0,
    ];
    let r = Ranking {
        bars: weird
            .iter()
            .map(|&v| Bar {
                highlight: v == 0.0,
                ..bar("x", Some(v), Some((v, f64::NAN)))
            })
            .chain(std::iter::once(bar(
                "y",
                Some(f64::MIN_POSITIVE),
                Some((-1.0, f64::INFINITY)),
            )))
            .collect(),
        references: weird
            .iter()
            .map(|&v| Reference {
                label: "National".to_owned(),
                value: v,
            })
            .collect(),
        ..sample_ranking()
    };
    assert_well_formed("weird ranking", &ranking(&r));
    let t = Timeline {
        series: vec![Series {
            label: "x".to_owned(),
            points: weird
                .iter()
                .enumerate()
                .map(|(i, &v)| (month(2024, 1 + i as u32), Some(v)))
                .collect(),
        }],
        ..sample_timeline()
    };
    assert_well_formed("weird timeline", &timeline(&t));
    let b = BeforeAfter {
        series: vec![RelativeSeries {
            label: "x".to_owned(),
            points: weird
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as i32, Some(v)))
                .chain([(i32::MIN, Some(1.0)), (i32::MAX, Some(2.0))])
                .collect(),
        }],
        ..sample_before_after()
    };
    assert_well_formed("weird before_after", &before_after(&b));
    let m = TileMap {
        tiles: weird
            .iter()
            .zip(["01", "02", "03", "04", "05", "06"])
            .map(|(&v, code)| Tile {
                code: code.to_owned(),
                state: TileState::Value(v),
            })
            .collect(),
        ..sample_tile_map()
    };
    assert_well_formed("weird tile map", &tile_map(&m));
    // Only NaN and infinities, nothing finite.
    let t = Timeline {
        series: vec![Series {
            label: "x".to_owned(),
            points: vec![(month(2024, 1), Some(f64::NAN))],
        }],
        ..sample_timeline()
    };
    assert!(timeline(&t).contains("Aucune donnée publiable"));
}
