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
    accessible(&body, caption)
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
    fn fallback_is_accessible_too() {
        let out = accessible(&fallback(100, 50), &caption("T", "D"));
        assert!(out.contains("role=\"img\"") && out.contains("Graphique indisponible"));
    }
}
