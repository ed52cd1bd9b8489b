//! Linear value scales with « nice » ticks (1, 2, 2.5 or 5 times a power of ten).

/// A linear scale from `lo` to `hi`, with ticks every `step`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
}

/// The most ticks a scale ever returns (a guard against absurd inputs).
const MAX_TICKS: usize = 60;

impl Scale {
    /// A scale covering `[min, max]` with about `target` ticks; `integer` keeps the step at 1
    /// or more (counts). Non-finite or reversed bounds never panic.
    pub fn nice(min: f64, max: f64, target: usize, integer: bool) -> Self {
        let fallback = Self {
            lo: 0.0,
            hi: 1.0,
            step: if integer { 1.0 } else { 0.2 },
        };
        if !min.is_finite() || !max.is_finite() {
            return fallback;
        }
        let (mut min, mut max) = if min <= max { (min, max) } else { (max, min) };
        if max - min <= f64::EPSILON * max.abs().max(min.abs()) {
            if min == 0.0 {
                max = if integer { 1.0 } else { 0.1 };
            } else {
                let pad = min.abs() * 0.1;
                min -= pad;
                max += pad;
            }
        }
        let span = max - min;
        if !span.is_finite() || span <= 0.0 {
            return Self {
                lo: min,
                hi: max,
                step: f64::NAN,
            };
        }
        let raw = span / target.max(1) as f64;
        let magnitude = 10f64.powf(raw.log10().floor());
        let normalised = raw / magnitude;
        let nice = if normalised <= 1.0 {
            1.0
        } else if normalised <= 2.0 {
            2.0
        } else if normalised <= 2.5 {
            2.5
        } else if normalised <= 5.0 {
            5.0
        } else {
            10.0
        };
        let mut step = nice * magnitude;
        if integer && step < 1.0 {
            step = 1.0;
        }
        let lo = (min / step).floor() * step;
        let mut hi = (max / step).ceil() * step;
        if hi <= lo {
            hi = lo + step;
        }
        if !lo.is_finite() || !hi.is_finite() || !step.is_finite() || step <= 0.0 {
            return Self {
                lo: min,
                hi: max,
                step: f64::NAN,
            };
        }
        Self { lo, hi, step }
    }

    /// The tick values, from `lo` to `hi`.
    pub fn ticks(&self) -> Vec<f64> {
        if !self.step.is_finite() || self.step <= 0.0 {
            return vec![self.lo, self.hi];
        }
        let count = ((self.hi - self.lo) / self.step).round();
        if !count.is_finite() || count < 0.0 || count > MAX_TICKS as f64 {
            return vec![self.lo, self.hi];
        }
        let count = count as usize;
        (0..=count)
            .map(|i| {
                let v = self.lo + i as f64 * self.step;
                // Snap float noise (0.30000000000000004) to the step's grid.
                if v.abs() < self.step * 1e-9 { 0.0 } else { v }
            })
            .collect()
    }

    /// The pixel position of `v` between `p0` (at `lo`) and `p1` (at `hi`). Values outside
    /// the scale are clamped a little beyond its ends; non-finite values go to `p0`.
    pub fn map(&self, v: f64, p0: i32, p1: i32) -> i32 {
        let width = self.hi - self.lo;
        let t = if width > 0.0 && width.is_finite() {
            (v - self.lo) / width
        } else {
            0.5
        };
        let t = if t.is_finite() {
            t.clamp(-0.02, 1.02)
        } else {
            0.0
        };
        let p = f64::from(p0) + t * f64::from(p1 - p0);
        // `as` saturates: never panics.
        p.round() as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_scales() {
        let s = Scale::nice(0.0, 0.53, 5, false);
        assert_eq!((s.lo, s.step), (0.0, 0.2));
        assert!((s.hi - 0.6).abs() < 1e-12);
        assert_eq!(s.ticks().len(), 4);

        let s = Scale::nice(12.0, 12.0, 5, false);
        assert!(s.lo < 12.0 && s.hi > 12.0);

        let s = Scale::nice(0.0, 0.0, 5, true);
        assert_eq!((s.lo, s.hi, s.step), (0.0, 1.0, 1.0));

        let s = Scale::nice(0.0, 3.0, 5, true);
        assert_eq!(s.step, 1.0);
    }

    #[test]
    fn absurd_inputs_do_not_panic() {
        for (a, b) in [
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
            (-f64::MAX, f64::MAX),
            (f64::MAX, f64::MAX),
            (1e-300, 2e-300),
        ] {
            let s = Scale::nice(a, b, 5, false);
            assert!(s.ticks().len() <= MAX_TICKS + 1);
            let _ = s.map(f64::NAN, 0, 100);
            let _ = s.map(f64::INFINITY, 0, 100);
            let _ = s.map(a, 0, 100);
        }
    }

    #[test]
    fn map_is_linear_and_clamped() {
        let s = Scale {
            lo: 0.0,
            hi: 1.0,
            step: 0.2,
        };
        assert_eq!(s.map(0.5, 100, 300), 200);
        assert_eq!(s.map(0.0, 100, 300), 100);
        assert_eq!(s.map(1.0, 300, 100), 100);
        assert_eq!(s.map(10.0, 100, 300), 304);
    }
}
