//! The process's peak resident memory (`VmHWM`, Linux), read by the benches and the memory tests.

/// Peak resident memory of this process, in bytes; `None` where `/proc` is missing.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Peak resident memory in MiB (NaN where unknown), as the benches print it.
pub fn peak_rss_mib() -> f64 {
    peak_rss_bytes().map_or(f64::NAN, |b| b as f64 / (1024.0 * 1024.0))
}
