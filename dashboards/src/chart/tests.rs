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
                tone: Tone::France,
            },
            Reference {
                label: "Vague 2021 A".to_owned(),
                value: 0.401,
                tone: Tone::Wave(1),
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
                tone: Tone::France,
                points: national
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (month(2024, 1 + i as u32), Some(v)))
                    .collect(),
            },
            Series {
                label: "Vague 2021 A".to_owned(),
                tone: Tone::Wave(1),
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
                tone: Tone::Wave(2),
                points: vec![(month(2024, 8), Some(0.40)), (month(2024, 10), Some(0.42))],
            },
        ],
        marks: Vec::new(),
    }
}

/// The sample timeline with one line only.
fn timeline_with(label: &str, tone: Tone, points: Vec<(NaiveDate, Option<f64>)>) -> Timeline {
    Timeline {
        series: vec![Series {
            label: label.to_owned(),
            tone,
            points,
        }],
        ..sample_timeline()
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
                tone: Tone::Wave(1),
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
                tone: Tone::Wave(2),
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
        ("ranking", ranking(&sample_ranking(), WIDE)),
        ("timeline", timeline(&sample_timeline(), WIDE)),
        ("before_after", before_after(&sample_before_after(), WIDE)),
        ("tile_map", tile_map(&sample_tile_map(), WIDE)),
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

/// One test per chart kind: its sample, drawn wide, against its snapshot.
macro_rules! snapshot_tests {
    ($($test:ident: $snapshot:literal => $svg:expr;)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!($snapshot, $svg);
        }
    )*};
}

snapshot_tests! {
    snapshot_ranking: "ranking" => ranking(&sample_ranking(), WIDE);
    snapshot_timeline: "timeline" => timeline(&sample_timeline(), WIDE);
    snapshot_before_after: "before_after" => before_after(&sample_before_after(), WIDE);
    snapshot_tile_map: "tile_map" => tile_map(&sample_tile_map(), WIDE);
}

#[test]
fn snapshot_empty_ranking() {
    let empty = Ranking {
        bars: Vec::new(),
        references: Vec::new(),
        ..sample_ranking()
    };
    insta::assert_snapshot!("ranking_empty", ranking(&empty, WIDE));
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
    let svg = ranking(&r, WIDE);
    assert!(svg.contains(">Taux &lt;accès&gt; &amp; &quot;délai&quot; d&apos;orientation</title>"));
    assert!(svg.contains(">a &lt; b &amp; c &gt; d</desc>"));
    assert_well_formed("escaped", &svg);
    // Labels drawn by plotters are escaped as well.
    assert!(svg.contains("Vallée de l&apos;Ariège &amp; &lt;Couserans&gt;"));
}

#[test]
fn ranking_shows_values_secret_references_and_intervals() {
    let svg = ranking(&sample_ranking(), WIDE);
    let nnbsp = '\u{202F}';
    // Paris's interval (49,0-53,6 %) lies wholly above France (45,2 %): marked ▲ (issue 15).
    assert!(
        svg.contains(&format!(">\n▲ 51,3{nnbsp}%\n</text>")),
        "{svg}"
    );
    assert!(
        svg.contains(&format!(">\n45,2{nnbsp}%\n</text>")),
        "Nord overlaps France"
    );
    assert!(svg.contains("intervalle entièrement au-dessus / au-dessous de la France"));
    assert!(svg.contains(">\nsecret\n</text>"));
    assert!(svg.contains(">\npas de données\n</text>"));
    assert!(svg.contains(&format!(">\nNational 45,2{nnbsp}%\n</text>")));
    assert!(svg.contains(&format!(">\nVague 2021 A 40,1{nnbsp}%\n</text>")));
    assert!(svg.contains("Intervalle de confiance"));
    // Issue 12: a delay's whiskers are quartiles, and are called so.
    let quartiles = ranking(
        &Ranking {
            interval: Interval::Quartiles,
            ..sample_ranking()
        },
        WIDE,
    );
    assert!(quartiles.contains("Premier et troisième quartiles"));
    assert!(!quartiles.contains("Intervalle de confiance"));
    assert!(svg.contains("#161616"), "France's reference in near black");
    assert!(
        svg.contains("#D55E00"),
        "the wave's reference in its colour"
    );
    assert!(svg.contains("#000091"), "bars in Bleu France");
    assert!(
        svg.contains("#8E3A8A"),
        "highlighted bar in the accent colour"
    );
}

/// The x positions of the bars' rectangles, from plotters' `<rect x=".." width="..">`.
fn bar_ends(svg: &str) -> Vec<i32> {
    svg.split("<rect ")
        .skip(1)
        .filter(|r| r.contains("fill=\"#000091\""))
        .map(|r| {
            let attr = |name: &str| -> i32 {
                r.split(&format!(" {name}=\""))
                    .nth(1)
                    .or_else(|| r.strip_prefix(&format!("{name}=\"")))
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            attr("x") + attr("width")
        })
        .collect()
}

#[test]
fn issue_15_a_ranking_is_scaled_by_its_territories_not_by_a_national_total() {
    // Volumes: territories of 100 to 300 people, France 16,447.
    let r = Ranking {
        unit: Unit::Count,
        bars: vec![
            bar("A", Some(300.0), None),
            bar("B", Some(200.0), None),
            bar("C", Some(100.0), None),
        ],
        references: vec![Reference {
            label: "France".to_owned(),
            value: 16_447.0,
            tone: Tone::France,
        }],
        ..sample_ranking()
    };
    let svg = ranking(&r, WIDE);
    let ends = bar_ends(&svg);
    assert_eq!(ends.len(), 3, "{svg}");
    // The longest bar takes most of the plot, not 2 % of it.
    assert!(ends[0] > 500, "{ends:?}");
    assert!(ends[0] > ends[1] && ends[1] > ends[2]);
    // The reference is listed, said to be off the scale, and not drawn across the plot.
    assert!(svg.contains("France 16"), "{svg}");
    assert!(svg.contains("(hors échelle →)"));
    // A pointer over a bar shows its territory and value.
    assert!(svg.contains("<title>A : 300</title>"), "{svg}");
    let map = tile_map(&sample_tile_map(), WIDE);
    assert!(map.contains("<title>Département 2A : "), "tile hover");
    let line = timeline(&sample_timeline(), WIDE);
    assert!(
        line.contains("<title>National, janv. 2024 : "),
        "point hover"
    );
}

#[test]
fn issue_15_charts_are_redrawn_for_a_phone_with_text_of_11_px_at_least() {
    for (name, svg) in [
        ("ranking", ranking(&sample_ranking(), NARROW)),
        ("timeline", timeline(&sample_timeline(), NARROW)),
        ("before_after", before_after(&sample_before_after(), NARROW)),
        ("tile_map", tile_map(&sample_tile_map(), NARROW)),
    ] {
        assert!(
            svg.contains(&format!("width=\"{NARROW}\"")),
            "{name}: drawn {NARROW} px wide"
        );
        assert_well_formed(name, &svg);
        // plotters writes font-size as the size divided by 1.24: 11 px is written 8.87.
        for size in svg.split("font-size=\"").skip(1) {
            let size: f64 = size.split('"').next().unwrap().parse().unwrap();
            assert!(size * 1.24 >= 10.99, "{name}: text of {} px", size * 1.24);
        }
        // Nothing drawn past the right edge.
        for x in svg.split(" x=\"").skip(1) {
            let x: i32 = x.split('"').next().unwrap().parse().unwrap_or(0);
            assert!(x <= NARROW, "{name}: x = {x}");
        }
    }
    insta::assert_snapshot!("ranking_narrow", ranking(&sample_ranking(), NARROW));
}

#[test]
fn issue_15_a_wave_keeps_its_colour_on_every_chart() {
    // « Vague 2021 A » is the second line of the timeline but the first of the before / after
    // chart: the same colour on both.
    let wave = style::WAVES[1];
    let hex = format!("#{:02X}{:02X}{:02X}", wave.0, wave.1, wave.2);
    let timeline = timeline(&sample_timeline(), WIDE);
    let before_after = before_after(&sample_before_after(), WIDE);
    assert!(
        timeline.contains(&hex) && before_after.contains(&hex),
        "{hex}"
    );
    let first = style::series_style(0).0;
    let first = format!("#{:02X}{:02X}{:02X}", first.0, first.1, first.2);
    assert!(!before_after.contains(&first), "no colour by position");
}

#[test]
fn issue_15_axes_of_counts_and_shares_stop_at_zero() {
    let t = Timeline {
        unit: Unit::Count,
        ..timeline_with(
            "France",
            Tone::France,
            vec![(month(2024, 1), Some(0.0)), (month(2024, 2), Some(5_000.0))],
        )
    };
    let svg = timeline(&t, WIDE);
    assert!(!svg.contains('−') && !svg.contains(">\n-"), "{svg}");
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
        let svg = ranking(&r, WIDE);
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
        ranking(
            &Ranking {
                bars: (0..80)
                    .map(|i| bar(&format!("T{i}"), Some(0.5), None))
                    .collect(),
                ..sample_ranking()
            },
            WIDE
        )
        .contains(">\nT79\n</text>")
    );
}

#[test]
fn lines_have_legends_and_french_axes() {
    let svg = timeline(&sample_timeline(), WIDE);
    assert!(svg.contains(">\njanv. 2024\n</text>"));
    assert!(svg.contains(">\nNational\n</text>") && svg.contains(">\nVague 2023\n</text>"));
    let svg = before_after(&sample_before_after(), WIDE);
    assert!(svg.contains(">\ndébut SPIE\n</text>"));
    assert!(svg.contains(">\n\u{2212}12\n</text>") && svg.contains(">\n+24\n</text>"));
    assert!(svg.contains(">\nVague 2021 A\n</text>"));
}

#[test]
fn the_tile_map_draws_the_101_codes() {
    let svg = tile_map(&sample_tile_map(), WIDE);
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
    let all_none = timeline_with(
        "National",
        Tone::France,
        vec![(month(2024, 1), None), (month(2024, 2), None)],
    );
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
        ("ranking", ranking(&empty_ranking, WIDE)),
        ("timeline", timeline(&all_none, WIDE)),
        ("timeline without series", timeline(&no_timeline, WIDE)),
        ("before_after", before_after(&no_series, WIDE)),
        ("tile_map", tile_map(&no_tiles, WIDE)),
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
                tone: Tone::France,
            })
            .collect(),
        ..sample_ranking()
    };
    assert_well_formed("weird ranking", &ranking(&r, WIDE));
    let t = timeline_with(
        "x",
        Tone::Other,
        weird
            .iter()
            .enumerate()
            .map(|(i, &v)| (month(2024, 1 + i as u32), Some(v)))
            .collect(),
    );
    assert_well_formed("weird timeline", &timeline(&t, WIDE));
    let b = BeforeAfter {
        series: vec![RelativeSeries {
            label: "x".to_owned(),
            tone: Tone::Other,
            points: weird
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as i32, Some(v)))
                .chain([(i32::MIN, Some(1.0)), (i32::MAX, Some(2.0))])
                .collect(),
        }],
        ..sample_before_after()
    };
    assert_well_formed("weird before_after", &before_after(&b, WIDE));
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
    assert_well_formed("weird tile map", &tile_map(&m, WIDE));
    // Only NaN and infinities, nothing finite.
    let t = timeline_with("x", Tone::Other, vec![(month(2024, 1), Some(f64::NAN))]);
    assert!(timeline(&t, WIDE).contains("Aucune donnée publiable"));
}
