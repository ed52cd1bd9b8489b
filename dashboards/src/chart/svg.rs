//! The SVG document around a chart: plotters' string backend, then the accessibility
//! post-processing (`role="img"`, `<title>`, `<desc>`, `aria-labelledby`).

use plotters::prelude::*;

use super::Caption;
use super::style::{self, Area, BACKGROUND, Drawn};

/// Draws a chart of `size` pixels with `draw` and returns the accessible SVG text.
///
/// If drawing fails (never expected with the string backend and the bundled font), the SVG
/// still comes back, with a plain « Graphique indisponible » message.
pub(super) fn render(
    caption: &Caption,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Drawn,
) -> String {
    style::ensure_font();
    let mut body = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut body, (width, height)).into_drawing_area();
        root.fill(&BACKGROUND)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
    };
    if drawn.is_err() {
        body = fallback(width, height);
    }
    accessible(&compact(&body), caption)
}

/// plotters' drawing without what it repeats on every element (issue 16: an indicator page
/// carries eight charts, and its weight is what 32 clients wait on): `opacity="1"` (the
/// default) goes, the font family is said once on the root element (it is inherited), and a
/// filled rectangle followed by its outline becomes one opaque rectangle with both (the outline
/// is painted over the fill either way). What is drawn does not change.
pub(super) fn compact(svg: &str) -> String {
    let family = format!(" font-family=\"{}\"", style::FONT_FAMILY);
    let mut out = String::with_capacity(svg.len());
    // A filled rectangle without outline, waiting to see whether its outline follows.
    let mut filled: Option<String> = None;
    // Whether the root element carries the font family (then the elements need not).
    let mut rooted = false;
    for (i, line) in svg.split_inclusive('\n').enumerate() {
        // Only elements: a label's text is left as it is.
        if !line.starts_with('<') {
            if let Some(held) = filled.take() {
                out.push_str(&held);
            }
            out.push_str(line);
            continue;
        }
        let mut line = line.replace(" opacity=\"1\"", "");
        if i == 0 && line.starts_with("<svg") {
            if let Some(end) = line.find('>') {
                line.insert_str(end, &family);
                rooted = true;
            }
        } else if rooted {
            // Inherited from the root: said there once.
            line = line.replace(&family, "");
        }
        if let Some(held) = filled.take() {
            if let Some(merged) = merge_rects(&held, &line) {
                out.push_str(&merged);
                continue;
            }
            out.push_str(&held);
        }
        if rect_paint(&line).is_some_and(|(_, _, stroke)| stroke == "none") {
            filled = Some(line);
        } else {
            out.push_str(&line);
        }
    }
    if let Some(held) = filled {
        out.push_str(&held);
    }
    out
}

/// A one-line `<rect …/>` as plotters writes it: its geometry, its fill and its stroke.
fn rect_paint(line: &str) -> Option<(&str, &str, &str)> {
    let body = line.strip_prefix("<rect ")?.trim_end().strip_suffix("/>")?;
    let at = body.rfind(" fill=\"")?;
    let (geometry, paint) = body.split_at(at);
    let rest = paint.strip_prefix(" fill=\"")?;
    let (fill, rest) = rest.split_once('"')?;
    let stroke = rest.strip_prefix(" stroke=\"")?.strip_suffix('"')?;
    (!stroke.contains('"')).then_some((geometry, fill, stroke))
}

/// A filled rectangle and the outline of the same rectangle, as one element.
fn merge_rects(filled: &str, outline: &str) -> Option<String> {
    let (geometry, fill, _) = rect_paint(filled)?;
    let (same, none, stroke) = rect_paint(outline)?;
    // Translucent, the outline over the fill would blend differently as one element.
    (same == geometry && none == "none" && stroke != "none" && !geometry.contains("opacity="))
        .then(|| format!("<rect {geometry} fill=\"{fill}\" stroke=\"{stroke}\"/>\n"))
}

/// A chart that only says « Aucune donnée publiable ».
pub(super) fn empty(caption: &Caption, (width, height): (u32, u32)) -> String {
    let (w, h) = (
        i32::try_from(width).unwrap_or(0),
        i32::try_from(height).unwrap_or(0),
    );
    render(caption, (width, height), |area| {
        style::no_data_message(area, w, h)
    })
}

fn fallback(width: u32, height: u32) -> String {
    format!(
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"{x}\" y=\"{y}\" \
         text-anchor=\"middle\" font-family=\"{family}\" font-size=\"14\" fill=\"#666666\">\
         Graphique indisponible</text>\n</svg>\n",
        x = width / 2,
        y = height / 2,
        family = style::FONT_FAMILY,
    )
}

/// Adds `role="img"` and `aria-labelledby` to the root `<svg>` element and inserts `<title>`
/// and `<desc>` as its first children. Their ids come from a stable hash of the caption and the
/// drawing, so that two different charts on one page never share ids.
pub(super) fn accessible(svg: &str, caption: &Caption) -> String {
    let id = format!(
        "graphique-{:012x}",
        stable_hash(caption, svg) & 0xFFFF_FFFF_FFFF
    );
    let Some(end) = svg.starts_with("<svg").then(|| svg.find('>')).flatten() else {
        return svg.to_owned();
    };
    let (open, rest) = svg.split_at(end);
    let rest = &rest[1..];
    let title = escape_xml(&caption.title);
    let desc = escape_xml(&caption.desc);
    let mut out = String::with_capacity(svg.len() + title.len() + desc.len() + 200);
    out.push_str(open.trim_end_matches('/'));
    out.push_str(&format!(
        " role=\"img\" aria-labelledby=\"{id}-titre {id}-desc\">\n\
         <title id=\"{id}-titre\">{title}</title>\n<desc id=\"{id}-desc\">{desc}</desc>"
    ));
    if !rest.starts_with('\n') {
        out.push('\n');
    }
    out.push_str(rest);
    out
}

/// Escapes text for XML content and attributes (`&`, `<`, `>`, `"`, `'`) and drops the
/// control characters XML does not allow.
pub(super) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An invisible zone over a mark whose `<title>` a pointer shows (the territory and its
/// value): (x, y, width, height, text).
pub(super) type Hover = (i32, i32, i32, i32, String);

/// Adds the hover zones at the end of the drawing, over everything (issue 15).
pub(super) fn with_hovers(svg: String, hovers: &[Hover]) -> String {
    let Some(end) = svg.rfind("</svg>") else {
        return svg;
    };
    let mut out = String::with_capacity(svg.len() + hovers.len() * 90);
    out.push_str(&svg[..end]);
    for (x, y, w, h, text) in hovers {
        out.push_str(&format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"transparent\"><title>{}</title></rect>\n",
            escape_xml(text)
        ));
    }
    out.push_str(&svg[end..]);
    out
}

/// FNV-1a (64 bits) over the caption and the drawing: stable across runs and machines.
fn stable_hash(caption: &Caption, svg: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in [caption.title.as_str(), caption.desc.as_str(), svg] {
        for byte in part.bytes().chain(std::iter::once(0xFF)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caption(title: &str, desc: &str) -> Caption {
        Caption {
            title: title.to_owned(),
            desc: desc.to_owned(),
        }
    }

    #[test]
    fn escaping_covers_the_five_xml_characters() {
        assert_eq!(
            escape_xml(r#"Taux d'accès <1 an> & "plus""#),
            "Taux d&apos;accès &lt;1 an&gt; &amp; &quot;plus&quot;"
        );
        assert_eq!(escape_xml("a\u{1}b"), "a b");
    }

    #[test]
    fn title_and_desc_are_the_first_children() {
        let svg = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" \
                   xmlns=\"http://www.w3.org/2000/svg\">\n<rect/>\n</svg>\n";
        let out = accessible(svg, &caption("T & t", "D < d"));
        let (open, rest) = out.split_once('>').unwrap();
        assert!(open.starts_with("<svg ") && open.contains(" role=\"img\""));
        let id = open.split("aria-labelledby=\"").nth(1).unwrap();
        let id = id.split('-').take(2).collect::<Vec<_>>().join("-");
        assert!(rest.starts_with(&format!("\n<title id=\"{id}-titre\">T &amp; t</title>")));
        assert!(out.contains(&format!("<desc id=\"{id}-desc\">D &lt; d</desc>\n<rect/>")));
        assert!(out.ends_with("</svg>\n"));
    }

    #[test]
    fn ids_differ_between_charts() {
        let svg = "<svg viewBox=\"0 0 1 1\">\n</svg>\n";
        let a = accessible(svg, &caption("A", "x"));
        let b = accessible(svg, &caption("B", "x"));
        let id = |s: &str| s.split("<title id=\"").nth(1).unwrap()[..30].to_owned();
        assert_ne!(id(&a), id(&b));
        assert_eq!(a, accessible(svg, &caption("A", "x")));
    }

    #[test]
    fn issue_16_compacting_keeps_the_drawing() {
        let family = style::FONT_FAMILY;
        let svg = format!(
            "<svg width=\"10\" height=\"10\">\n\
             <rect x=\"1\" y=\"2\" width=\"3\" height=\"4\" opacity=\"1\" fill=\"#FFFFFF\" stroke=\"none\"/>\n\
             <rect x=\"1\" y=\"2\" width=\"3\" height=\"4\" opacity=\"1\" fill=\"none\" stroke=\"#929292\"/>\n\
             <rect x=\"5\" y=\"2\" width=\"3\" height=\"4\" opacity=\"0.5\" fill=\"#000000\" stroke=\"none\"/>\n\
             <rect x=\"6\" y=\"2\" width=\"3\" height=\"4\" opacity=\"1\" fill=\"none\" stroke=\"#929292\"/>\n\
             <rect x=\"8\" y=\"2\" width=\"3\" height=\"4\" opacity=\"0.5\" fill=\"#000000\" stroke=\"none\"/>\n\
             <rect x=\"8\" y=\"2\" width=\"3\" height=\"4\" opacity=\"0.5\" fill=\"none\" stroke=\"#929292\"/>\n\
             <text x=\"1\" font-family=\"{family}\" font-size=\"11\" opacity=\"1\" fill-opacity=\"1\">\n80 opacity=\"1\"\n</text>\n\
             <rect x=\"7\" y=\"2\" width=\"3\" height=\"4\" opacity=\"1\" fill=\"#111111\" stroke=\"none\"/>\n\
             </svg>\n"
        );
        let out = compact(&svg);
        assert_eq!(
            out,
            format!(
                "<svg width=\"10\" height=\"10\" font-family=\"{family}\">\n\
                 <rect x=\"1\" y=\"2\" width=\"3\" height=\"4\" fill=\"#FFFFFF\" stroke=\"#929292\"/>\n\
                 <rect x=\"5\" y=\"2\" width=\"3\" height=\"4\" opacity=\"0.5\" fill=\"#000000\" stroke=\"none\"/>\n\
                 <rect x=\"6\" y=\"2\" width=\"3\" height=\"4\" fill=\"none\" stroke=\"#929292\"/>\n\
                 <rect x=\"8\" y=\"2\" width=\"3\" height=\"4\" opacity=\"0.5\" fill=\"#000000\" stroke=\"none\"/>\n\
                 <rect x=\"8\" y=\"2\" width=\"3\" height=\"4\" opacity=\"0.5\" fill=\"none\" stroke=\"#929292\"/>\n\
                 <text x=\"1\" font-size=\"11\" fill-opacity=\"1\">\n80 opacity=\"1\"\n</text>\n\
                 <rect x=\"7\" y=\"2\" width=\"3\" height=\"4\" fill=\"#111111\" stroke=\"none\"/>\n\
                 </svg>\n"
            )
        );
        // What plotters draws in a chart comes out lighter, never heavier.
        let drawn = render(&caption("T", "D"), (200, 100), |area| {
            style::no_data_message(area, 200, 100)
        });
        assert!(!drawn.contains("opacity=\"1\""), "{drawn}");
        // A drawing without a root element on its first line keeps every element's family.
        let headless = format!("<g>\n<text font-family=\"{family}\">\nx\n</text>\n</g>\n");
        assert_eq!(compact(&headless), headless);
        assert_eq!(drawn.matches(family).count(), 1, "{drawn}");
    }

    #[test]
    fn fallback_is_accessible_too() {
        let out = accessible(&fallback(100, 50), &caption("T", "D"));
        assert!(out.contains("role=\"img\"") && out.contains("Graphique indisponible"));
    }
}
