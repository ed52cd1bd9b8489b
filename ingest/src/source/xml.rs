//! The XML of a workbook's parts, read without a general XML parser (issue 16): a forward-only
//! [`Scanner`] over a part's decompressed bytes that holds at most one element at a time, and
//! [`Body`], the tags and text of one element held in memory. Only what SpreadsheetML needs is
//! understood: tags, attributes, text, entities, CDATA; comments, processing instructions and
//! declarations are skipped. Entities are never expanded beyond the five predefined ones and
//! character references, so no document can grow while it is read.

use std::borrow::Cow;
use std::io::{self, Read};

/// Why a part could not be read.
#[derive(Debug)]
pub(super) enum XmlError {
    /// A tag, a text run or an element longer than the bound it is read with.
    TooLong,
    /// Not the XML expected.
    Invalid(&'static str),
    /// The bytes could not be read (a corrupt archive, a decompression limit).
    Io(io::Error),
}

pub(super) type XmlResult<T> = std::result::Result<T, XmlError>;

/// Bytes read from the part at once.
const CHUNK: usize = 256 << 10;

/// A forward-only reader of one XML part.
pub(super) struct Scanner<R> {
    src: R,
    buf: Vec<u8>,
    /// Start of the bytes still held (the current tag, when one was returned).
    pos: usize,
    end: usize,
    eof: bool,
    /// Most bytes held at once: one tag, one text run, one element's body.
    cap: usize,
    /// Length of the tag last returned, consumed by the next call.
    pending: usize,
    /// Qualified name of the tag last returned (for [`Scanner::body`]).
    name: (usize, usize),
}

/// A tag found by [`Scanner::next`] or [`Body::next`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Tag<'a> {
    /// Local name (any `prefix:` removed).
    pub name: &'a [u8],
    /// The attributes, raw (see [`attr`]).
    pub attrs: &'a [u8],
    /// `</name>`.
    pub close: bool,
    /// `<name/>`.
    pub empty: bool,
}

fn local(name: &[u8]) -> &[u8] {
    match memchr::memchr(b':', name) {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Whether a tag's first `>` ends it: no quote before it is left open. Only `"` quotes, an even
/// number of them, is the common case decided at once; any `'` goes the careful way.
fn plain(before: &[u8]) -> bool {
    !before.contains(&b'\'') && before.iter().filter(|&&b| b == b'"').count() % 2 == 0
}

/// Splits the inside of a tag (between `<` and `>`) into a [`Tag`].
fn tag(inner: &[u8]) -> Tag<'_> {
    let close = inner.first() == Some(&b'/');
    let inner = if close { &inner[1..] } else { inner };
    let empty = inner.last() == Some(&b'/');
    let inner = if empty {
        &inner[..inner.len() - 1]
    } else {
        inner
    };
    let n = inner
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(inner.len());
    Tag {
        name: local(&inner[..n]),
        attrs: &inner[n..],
        close,
        empty,
    }
}

/// The attributes of a tag: (local name, raw value) pairs, entities not resolved.
pub(super) struct Attrs<'a> {
    rest: &'a [u8],
}

pub(super) fn attrs(raw: &[u8]) -> Attrs<'_> {
    Attrs { rest: raw }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        let eq = memchr::memchr(b'=', rest)?;
        let key = rest[..eq].trim_ascii();
        let after = rest[eq + 1..].trim_ascii_start();
        let quote = *after.first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let close = memchr::memchr(quote, &after[1..])?;
        self.rest = &after[close + 2..];
        Some((local(key), &after[1..1 + close]))
    }
}

/// The raw value of attribute `name` (local name, any prefix ignored), entities not resolved.
pub(super) fn attr<'a>(raw: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    attrs(raw).find(|(k, _)| *k == name).map(|(_, v)| v)
}

impl<R: Read> Scanner<R> {
    /// A scanner holding at most `cap` bytes of one tag, text run or element.
    pub(super) fn new(src: R, cap: usize) -> Self {
        Scanner {
            src,
            buf: vec![0; CHUNK.min(cap + 16)],
            pos: 0,
            end: 0,
            eof: false,
            cap,
            pending: 0,
            name: (0, 0),
        }
    }

    /// Reads more of the part after what is held (offsets from `pos` stay valid); false at
    /// its end.
    fn more(&mut self) -> XmlResult<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.end - self.pos > self.cap {
            return Err(XmlError::TooLong);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).min(self.cap + CHUNK);
            self.buf.resize(grown.max(self.end + 16), 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(XmlError::Io(e)),
            }
        }
    }

    /// Where `byte` is, at or after `from` (offsets from `pos`), reading on as needed.
    fn find(&mut self, mut from: usize, byte: u8) -> XmlResult<Option<usize>> {
        loop {
            if let Some(i) = memchr::memchr(byte, &self.buf[self.pos + from..self.end]) {
                return Ok(Some(from + i));
            }
            from = self.end - self.pos;
            if !self.more()? {
                return Ok(None);
            }
        }
    }

    /// Holds at least `n` bytes from `pos`, unless the part ends first.
    fn hold(&mut self, n: usize) -> XmlResult<bool> {
        while self.end - self.pos < n {
            if !self.more()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Where `needle` ends, searched from `from`.
    fn find_seq(&mut self, mut from: usize, needle: &[u8]) -> XmlResult<Option<usize>> {
        loop {
            let Some(at) = self.find(from, needle[0])? else {
                return Ok(None);
            };
            if !self.hold(at + needle.len())? {
                return Ok(None);
            }
            if self.buf[self.pos + at..].starts_with(needle) {
                return Ok(Some(at + needle.len()));
            }
            from = at + 1;
        }
    }

    /// The end of the tag opened at `pos` (just past its `>`), quoted attribute values
    /// skipped.
    fn tag_end(&mut self) -> XmlResult<usize> {
        if let Some(gt) = self.find(1, b'>')?
            && plain(&self.buf[self.pos + 1..self.pos + gt])
        {
            return Ok(gt + 1);
        }
        let mut i = 1;
        loop {
            let hay = &self.buf[self.pos + i..self.end];
            match memchr::memchr3(b'>', b'"', b'\'', hay) {
                Some(k) if hay[k] == b'>' => return Ok(i + k + 1),
                Some(k) => {
                    let quote = hay[k];
                    match self.find(i + k + 1, quote)? {
                        Some(q) => i = q + 1,
                        None => return Err(XmlError::Invalid("valeur d'attribut non fermée")),
                    }
                }
                None => {
                    i = self.end - self.pos;
                    if !self.more()? {
                        return Err(XmlError::Invalid("balise non fermée"));
                    }
                }
            }
        }
    }

    /// The bytes held from the current place on (the tag last returned is consumed); at
    /// least one unless the part has ended. Read from them with [`Scanner::advance`].
    pub(super) fn held(&mut self) -> XmlResult<&[u8]> {
        self.pos += std::mem::take(&mut self.pending);
        if self.pos == self.end {
            self.more()?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// Consumes `n` bytes of [`Scanner::held`].
    pub(super) fn advance(&mut self, n: usize) {
        self.pending = n;
    }

    /// The next tag; text between tags is skipped (within the bound), and so are comments,
    /// processing instructions, declarations and CDATA outside an element read whole.
    pub(super) fn next(&mut self) -> XmlResult<Option<Tag<'_>>> {
        loop {
            self.pos += std::mem::take(&mut self.pending);
            let Some(lt) = self.find(0, b'<')? else {
                return Ok(None);
            };
            self.pos += lt;
            if !self.hold(2)? {
                return Err(XmlError::Invalid("balise non fermée"));
            }
            let len = match self.buf[self.pos + 1] {
                b'?' => self.find_seq(2, b"?>")?,
                b'!' => {
                    self.hold(9)?;
                    let rest = &self.buf[self.pos..self.end];
                    if rest.starts_with(b"<!--") {
                        self.find_seq(4, b"-->")?
                    } else if rest.starts_with(b"<![CDATA[") {
                        self.find_seq(9, b"]]>")?
                    } else {
                        Some(self.tag_end()?)
                    }
                }
                _ => {
                    let end = self.tag_end()?;
                    self.pending = end;
                    let inner = &self.buf[self.pos + 1..self.pos + end - 1];
                    let close = inner.first() == Some(&b'/');
                    let skip = usize::from(close);
                    let n = inner[skip..]
                        .iter()
                        .position(|b| b.is_ascii_whitespace() || *b == b'/')
                        .unwrap_or(inner.len() - skip);
                    self.name = (1 + skip, 1 + skip + n);
                    return Ok(Some(tag(inner)));
                }
            };
            match len {
                Some(len) => self.pending = len,
                None => return Err(XmlError::Invalid("commentaire ou déclaration non fermé")),
            }
        }
    }

    /// The body of the element whose opening tag [`Scanner::next`] just returned, up to its
    /// closing tag (the element must not hold one of its own name); the scanner goes on after
    /// it.
    pub(super) fn body(&mut self) -> XmlResult<&[u8]> {
        let (a, b) = self.name;
        let start = self.pending;
        let mut from = start;
        loop {
            let Some(lt) = self.find(from, b'<')? else {
                return Err(XmlError::Invalid("élément non fermé"));
            };
            let name_len = b - a;
            if !self.hold(lt + 3 + name_len)? {
                return Err(XmlError::Invalid("élément non fermé"));
            }
            let p = self.pos;
            let at = &self.buf[p + lt..];
            if at[1] == b'/' && at[2..2 + name_len] == self.buf[p + a..p + b] {
                let next = at[2 + name_len];
                if next == b'>' || next.is_ascii_whitespace() {
                    let end = match self.find(lt + 2 + name_len, b'>')? {
                        Some(gt) => gt + 1,
                        None => return Err(XmlError::Invalid("élément non fermé")),
                    };
                    self.pending = end;
                    return Ok(&self.buf[self.pos + start..self.pos + lt]);
                }
            }
            from = lt + 1;
        }
    }
}

/// What an element's body holds, in order.
#[derive(Debug)]
pub(super) enum Token<'a> {
    /// Text, entities not resolved.
    Text(&'a [u8]),
    /// The inside of a CDATA section, literal.
    CData(&'a [u8]),
    /// A tag.
    Tag(Tag<'a>),
}

/// The tokens of an element's body held in memory.
pub(super) struct Body<'a> {
    rest: &'a [u8],
}

impl<'a> Body<'a> {
    pub(super) fn new(body: &'a [u8]) -> Self {
        Body { rest: body }
    }

    /// Bytes not yet read.
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }
}

impl<'a> Iterator for Body<'a> {
    type Item = XmlResult<Token<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.rest;
            if rest.is_empty() {
                return None;
            }
            if rest[0] != b'<' {
                let n = memchr::memchr(b'<', rest).unwrap_or(rest.len());
                self.rest = &rest[n..];
                return Some(Ok(Token::Text(&rest[..n])));
            }
            let until = |end: &[u8], from: usize| {
                memchr::memmem::find(&rest[from..], end).map(|i| from + i + end.len())
            };
            if rest.starts_with(b"<![CDATA[") {
                let Some(n) = until(b"]]>", 9) else {
                    return Some(Err(XmlError::Invalid("section CDATA non fermée")));
                };
                self.rest = &rest[n..];
                return Some(Ok(Token::CData(&rest[9..n - 3])));
            }
            let skipped = if rest.starts_with(b"<!--") {
                until(b"-->", 4)
            } else if rest.starts_with(b"<?") {
                until(b"?>", 2)
            } else {
                None
            };
            if let Some(n) = skipped {
                self.rest = &rest[n..];
                continue;
            }
            let mut i = 1;
            let first = memchr::memchr(b'>', rest);
            let end = loop {
                if let Some(gt) = first
                    && plain(&rest[1..gt])
                {
                    break gt;
                }
                match memchr::memchr3(b'>', b'"', b'\'', &rest[i..]) {
                    Some(k) if rest[i + k] == b'>' => break i + k,
                    Some(k) => match memchr::memchr(rest[i + k], &rest[i + k + 1..]) {
                        Some(q) => i = i + k + 1 + q + 1,
                        None => return Some(Err(XmlError::Invalid("balise non fermée"))),
                    },
                    None => return Some(Err(XmlError::Invalid("balise non fermée"))),
                }
            };
            self.rest = &rest[end + 1..];
            if rest[1] == b'!' {
                continue;
            }
            return Some(Ok(Token::Tag(tag(&rest[1..end]))));
        }
    }
}

/// Appends XML text to `out`: entities resolved, line ends normalised to LF as an XML
/// parser does.
pub(super) fn push_text(raw: &[u8], out: &mut String) -> XmlResult<()> {
    let text = std::str::from_utf8(raw).map_err(|_| XmlError::Invalid("texte hors UTF-8"))?;
    let mut rest = text;
    while let Some(i) = memchr::memchr2(b'&', b'\r', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        if rest.as_bytes()[i] == b'\r' {
            out.push('\n');
            rest = &rest[i + 1..];
            rest = rest.strip_prefix('\n').unwrap_or(rest);
            continue;
        }
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..semi];
        let c = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix('x') {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(())
}

/// The `_xHHHH_` escapes of Office Open XML strings resolved (UTF-16 units; a lone surrogate
/// becomes U+FFFD).
pub(super) fn unescape_ooxml(text: &str) -> Cow<'_, str> {
    fn unit(s: &[u8]) -> Option<u16> {
        if s.len() >= 7 && s[0] == b'_' && s[1] == b'x' && s[6] == b'_' {
            u16::from_str_radix(std::str::from_utf8(&s[2..6]).ok()?, 16).ok()
        } else {
            None
        }
    }
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr_iter(b'_', bytes).find(|&i| unit(&bytes[i..]).is_some())
    else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut i = first;
    while i < bytes.len() {
        match unit(&bytes[i..]) {
            Some(u @ 0xD800..=0xDBFF) => {
                i += 7;
                match unit(&bytes[i..]) {
                    Some(low @ 0xDC00..=0xDFFF) => {
                        let c =
                            0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                        out.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                        i += 7;
                    }
                    _ => out.push(char::REPLACEMENT_CHARACTER),
                }
            }
            Some(u) => {
                out.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER));
                i += 7;
            }
            None => {
                let next = memchr::memchr(b'_', &bytes[i + 1..]).map_or(bytes.len(), |k| i + 1 + k);
                out.push_str(&text[i..next]);
                i = next;
            }
        }
    }
    Cow::Owned(out)
}

/// A string item (`<si>`, `<is>`): its `<t>` texts in order, phonetic runs (`<rPh>`) left
/// out, each trimmed of ASCII blanks unless `xml:space="preserve"`, escapes resolved; as
/// Excel reads them.
pub(super) fn rich_text(body: &[u8], out: &mut String, scratch: &mut String) -> XmlResult<()> {
    let mut phonetic = false;
    let mut in_t: Option<bool> = None;
    for token in Body::new(body) {
        match token? {
            Token::Tag(t) if t.name == b"rPh" => phonetic = !t.close && !t.empty,
            Token::Tag(t) if t.name == b"t" && !phonetic => {
                if t.close {
                    if let Some(preserve) = in_t.take() {
                        let text = if preserve {
                            scratch.as_str()
                        } else {
                            scratch.trim_matches([' ', '\t', '\r', '\n'])
                        };
                        out.push_str(&unescape_ooxml(text));
                    }
                } else if !t.empty {
                    scratch.clear();
                    in_t = Some(matches!(attr(t.attrs, b"space"), Some(b"preserve")));
                }
            }
            Token::Text(raw) if in_t.is_some() => push_text(raw, scratch)?,
            Token::CData(raw) if in_t.is_some() => scratch.push_str(
                std::str::from_utf8(raw).map_err(|_| XmlError::Invalid("texte hors UTF-8"))?,
            ),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands on at most `step` bytes a read, so that tags are cut anywhere.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn issue_16_the_scanner_finds_tags_and_bodies_wherever_reads_cut_them() {
        let xml = br#"<?xml version="1.0"?><!-- a > comment --><x:root a='1>2' b="q"><x:c r="A1" t="s"><x:v>3</x:v></x:c><c r="B1"/><si><t xml:space="preserve"> a &amp; b </t></si></x:root>"#;
        for step in [1, 2, 3, 7, 1000] {
            let mut s = Scanner::new(Trickle(xml, step), 64);
            let mut seen = Vec::new();
            while let Some(t) = s.next().unwrap() {
                let name = String::from_utf8(t.name.to_vec()).unwrap();
                let (close, empty) = (t.close, t.empty);
                if t.name == b"root" && !t.close {
                    assert_eq!(attr(t.attrs, b"a"), Some(&b"1>2"[..]));
                    assert_eq!(attr(t.attrs, b"b"), Some(&b"q"[..]));
                }
                if t.name == b"c" && !t.empty {
                    assert_eq!(attr(t.attrs, b"t"), Some(&b"s"[..]));
                    assert_eq!(s.body().unwrap(), b"<x:v>3</x:v>");
                } else if t.name == b"si" {
                    let (mut out, mut scratch) = (String::new(), String::new());
                    rich_text(s.body().unwrap(), &mut out, &mut scratch).unwrap();
                    assert_eq!(out, " a & b ");
                }
                seen.push((name, close, empty));
            }
            let names: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
            assert_eq!(names, ["root", "c", "c", "si", "root"], "step {step}");
        }
    }

    #[test]
    fn issue_16_the_scanner_holds_no_more_than_its_bound() {
        let mut long = b"<row><c><v>".to_vec();
        long.extend(std::iter::repeat_n(b'9', 10_000));
        long.extend(b"</v></c></row>");
        let mut s = Scanner::new(Trickle(&long, 333), 1000);
        assert!(s.next().unwrap().is_some());
        assert!(s.next().unwrap().is_some());
        assert!(matches!(s.body(), Err(XmlError::TooLong)));
        let mut s = Scanner::new(Trickle(&long, 333), 20_000);
        s.next().unwrap();
        s.next().unwrap();
        assert_eq!(s.body().unwrap().len(), 10_000 + 7);
    }

    #[test]
    fn issue_16_strings_read_as_excel_reads_them() {
        let mut out = String::new();
        let mut scratch = String::new();
        rich_text(
            b"<r><t>Jean</t></r><r><rPr/><t xml:space=\"preserve\"> _x0041_&#233;</t></r><rPh><t>X</t></rPh><t>\r\n z \n</t>",
            &mut out,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(out, "Jean Aéz");
        assert_eq!(
            unescape_ooxml("a_xD83D__xDE00_b_x00_c"),
            "a\u{1F600}b_x00_c"
        );
        assert_eq!(unescape_ooxml("_xD800_"), "\u{FFFD}");
        let mut t = String::new();
        push_text(b"a &lt; b &#x41;&#66; &bogus; & c\r\nd\re", &mut t).unwrap();
        assert_eq!(t, "a < b AB &bogus; & c\nd\ne");
    }
}
