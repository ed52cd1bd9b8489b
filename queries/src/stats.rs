//! Small statistics: Wilson intervals and exact quantiles of a delay histogram.

use std::collections::BTreeMap;

/// The 95 % Wilson score interval of `x` successes out of `n`.
pub fn wilson(x: i64, n: i64) -> Option<(f64, f64)> {
    if n <= 0 {
        return None;
    }
    let (x, n) = (x as f64, n as f64);
    let z = 1.959_963_984_540_054_f64;
    let p = x / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Summary of a distribution of whole days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// People.
    pub n: i64,
    /// Sum of the values.
    pub sum: i64,
    /// Mean.
    pub mean: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
}

/// The quantile `p` of a histogram (value → count), linear interpolation between order
/// statistics (the usual "type 7" definition: the median of an even count is the mean of the
/// two middle values).
fn quantile(h: &BTreeMap<i64, i64>, n: i64, p: f64) -> f64 {
    let position = (n - 1) as f64 * p;
    let lo = position.floor() as i64;
    let frac = position - lo as f64;
    let at = |k: i64| -> f64 {
        let mut seen = 0;
        for (v, c) in h {
            seen += c;
            if k < seen {
                return *v as f64;
            }
        }
        h.keys().next_back().copied().unwrap_or(0) as f64
    };
    let a = at(lo);
    if frac == 0.0 {
        a
    } else {
        a + frac * (at(lo + 1) - a)
    }
}

/// Summarises a histogram; `None` if empty.
pub fn summarise(h: &BTreeMap<i64, i64>) -> Option<Summary> {
    let n: i64 = h.values().sum();
    if n == 0 {
        return None;
    }
    let sum: i64 = h.iter().map(|(v, c)| v * c).sum();
    Some(Summary {
        n,
        sum,
        mean: sum as f64 / n as f64,
        q1: quantile(h, n, 0.25),
        median: quantile(h, n, 0.5),
        q3: quantile(h, n, 0.75),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_the_textbook() {
        // 81 successes out of 263: Wilson 95 % interval ≈ [0.2553, 0.3662].
        let (lo, hi) = wilson(81, 263).unwrap();
        assert!(
            (lo - 0.2553).abs() < 1e-3 && (hi - 0.3662).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(0, 10).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-3, "{hi}");
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn quantiles_of_a_histogram() {
        // 1, 2, 3, 4, 10
        let h: BTreeMap<i64, i64> = [(1, 1), (2, 1), (3, 1), (4, 1), (10, 1)].into();
        let s = summarise(&h).unwrap();
        assert_eq!(
            (s.n, s.sum, s.mean, s.q1, s.median, s.q3),
            (5, 20, 4.0, 2.0, 3.0, 4.0)
        );
        // 10, 20, 20, 40: median 20, Q1 = 10 + 0.75 × 10 = 17.5, Q3 = 20 + 0.25 × 20 = 25.
        let h: BTreeMap<i64, i64> = [(10, 1), (20, 2), (40, 1)].into();
        let s = summarise(&h).unwrap();
        assert_eq!((s.q1, s.median, s.q3, s.mean), (17.5, 20.0, 25.0, 22.5));
        assert!(summarise(&BTreeMap::new()).is_none());
    }
}
