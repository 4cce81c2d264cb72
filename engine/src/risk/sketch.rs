//! Per-day equity distribution for the fan chart without keeping every path's equity (100,000
//! paths × 2,520 days would be 2 GB).
//!
//! The fan is drawn at most [`FAN_POINTS`] evenly spaced days (day 0 and day H included). At
//! each, every path's equity / E0 is counted into a log-linear histogram read straight from the
//! f64 bits: 128 bins per octave (each at most 0.78 % wide) from 2⁻¹⁶ to 2¹⁶, one bin for
//! everything below (a liquidated-to-nothing path) and one above. Counts are integers, so
//! partial sketches merged in any order give the same sketch: the fan does not depend on the
//! thread count. A percentile is read as the midpoint of its bin (within 0.4 % of the exact
//! nearest-rank value); the headline terminal percentiles are exact, from every path's final
//! equity, and replace the sketch's at day H.

/// Most days the fan chart is drawn at.
pub const FAN_POINTS: usize = 64;

const SUB_BITS: u32 = 7;
const MIN_EXP: i32 = -16;
const MAX_EXP: i32 = 16;
const OCTAVES: usize = (MAX_EXP - MIN_EXP) as usize;
/// Below-range bin, the octaves, above-range bin.
pub(crate) const BINS: usize = 1 + (OCTAVES << SUB_BITS) + 1;

fn lo_bits() -> u64 {
    2f64.powi(MIN_EXP).to_bits()
}

/// Histogram bin of a non-negative ratio.
#[inline]
pub(crate) fn bin(x: f64) -> usize {
    let lo = 2f64.powi(MIN_EXP);
    let hi = 2f64.powi(MAX_EXP);
    // NaN cannot occur; sending it to the bottom bin keeps it harmless anyway.
    if x.is_nan() || x < lo {
        return 0;
    }
    if x >= hi {
        return BINS - 1;
    }
    1 + ((x.to_bits() - lo_bits()) >> (52 - SUB_BITS)) as usize
}

/// A representative value of a bin: its midpoint (0 for the bottom bin, 2¹⁶ for the top).
pub(crate) fn bin_value(b: usize) -> f64 {
    if b == 0 {
        return 0.0;
    }
    if b >= BINS - 1 {
        return 2f64.powi(MAX_EXP);
    }
    let step = 1u64 << (52 - SUB_BITS);
    let lo = f64::from_bits(lo_bits() + (b as u64 - 1) * step);
    let hi = f64::from_bits(lo_bits() + b as u64 * step);
    0.5 * (lo + hi)
}

/// The days the fan is drawn at and, per day 0..=H, its slot (or none).
#[derive(Debug, Clone)]
pub(crate) struct FanDays {
    pub days: Vec<u32>,
    pub slot_of_day: Vec<Option<u16>>,
}

impl FanDays {
    pub fn new(h: u32) -> FanDays {
        let h_us = h as usize;
        let days: Vec<u32> = if h_us < FAN_POINTS {
            (0..=h).collect()
        } else {
            let last = (FAN_POINTS - 1) as u64;
            let mut v: Vec<u32> = (0..=last)
                .map(|j| ((j * u64::from(h) + last / 2) / last) as u32)
                .collect();
            v.dedup();
            v
        };
        let mut slot_of_day = vec![None; h_us + 1];
        for (s, &d) in days.iter().enumerate() {
            slot_of_day[d as usize] = Some(s as u16);
        }
        FanDays { days, slot_of_day }
    }
}

/// Counts per (fan slot, bin), flattened slot-major.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sketch {
    pub counts: Vec<u32>,
}

impl Sketch {
    pub fn new(slots: usize) -> Sketch {
        Sketch {
            counts: vec![0; slots * BINS],
        }
    }

    #[inline]
    pub fn add(&mut self, slot: usize, ratio: f64) {
        if let Some(c) = self.counts.get_mut(slot * BINS + bin(ratio)) {
            *c += 1;
        }
    }

    pub fn merge(mut self, other: Sketch) -> Sketch {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self
    }

    /// Nearest-rank percentile `p` of slot `slot` as a ratio (bin midpoint).
    pub fn percentile(&self, slot: usize, p: u32) -> f64 {
        let row = &self.counts[slot * BINS..(slot + 1) * BINS];
        let total: u64 = row.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return 0.0;
        }
        let rank = (u64::from(p) * total).div_ceil(100).max(1);
        let mut seen = 0u64;
        for (b, &c) in row.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return bin_value(b);
            }
        }
        bin_value(BINS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_monotone_and_narrow() {
        let mut prev = 0;
        for k in 0..10_000 {
            let x = 1e-6 * 1.002f64.powi(k);
            let b = bin(x);
            assert!(b >= prev);
            prev = b;
            if (1..BINS - 1).contains(&b) {
                let v = bin_value(b);
                assert!((v / x - 1.0).abs() < 0.0040, "x {x} bin {b} value {v}");
            }
        }
        assert_eq!(bin(0.0), 0);
        assert_eq!(bin(f64::NAN), 0);
        assert_eq!(bin(1e9), BINS - 1);
    }

    #[test]
    fn fan_days_cover_both_ends() {
        let f = FanDays::new(252);
        assert_eq!(f.days.len(), FAN_POINTS);
        assert_eq!(f.days[0], 0);
        assert_eq!(*f.days.last().unwrap(), 252);
        assert!(f.days.windows(2).all(|w| w[0] < w[1]));
        let short = FanDays::new(10);
        assert_eq!(short.days, (0..=10).collect::<Vec<_>>());
        assert_eq!(short.slot_of_day[10], Some(10));
    }
}
