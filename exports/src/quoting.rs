//! CSV quoting, shared by the data files and the dictionaries.

/// Appends `s` to `out` as a `;`-separated CSV field, quoted only when needed.
pub(crate) fn csv_field(out: &mut String, s: &str) {
    if s.contains([';', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}
