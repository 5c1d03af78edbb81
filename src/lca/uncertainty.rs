//! A fleet's range from its devices' ranges. Adding the devices' lows and highs (what reports
//! did) treats every error as the same error, perfectly correlated, and so overstates a
//! fleet's uncertainty roughly by the square root of its size. The assumption here instead:
//!
//! - each device's range is a central interval at its stated confidence (0.9 for published
//!   PCFs' margins, the model's own level otherwise) of an error that is normal on each side
//!   (σ_low = (total − low) / z, σ_high = (high − total) / z, z the normal quantile);
//! - a share [`SHARED`] of each device's error variance is common to the whole fleet (the
//!   methodology, the factor set: if the grid factors are off, they are off for every
//!   device), the rest independent from device to device.
//!
//! So, per side, σ_fleet² = (1 − ρ) Σ σᵢ² + ρ (Σ σᵢ)², and the fleet's 90% range is
//! total ∓ 1.645 σ_fleet (never below zero). ρ = 1 gives back the plain sum; ρ = 0 fully
//! independent errors. A Monte Carlo test checks the formula.

/// Share of a device's error variance common to all devices of a fleet.
pub const SHARED: f64 = 0.25;
/// Confidence of the fleet range.
pub const FLEET_CONFIDENCE: f64 = 0.9;

/// The two-sided normal quantile for a central interval of `confidence` (0 < c < 1).
pub fn z_for(confidence: f64) -> f64 {
    // Acklam's rational approximation of the inverse normal CDF (|error| < 1.2e-9).
    let p = 0.5 + confidence.clamp(0.01, 0.9999) / 2.0;
    let (a, b, c, d) = (
        [
            -3.969683028665376e1,
            2.209460984245205e2,
            -2.759285104469687e2,
            1.38357751867269e2,
            -3.066479806614716e1,
            2.506628277459239,
        ],
        [
            -5.447609879822406e1,
            1.615858368580409e2,
            -1.556989798598866e2,
            6.680131188771972e1,
            -1.328068155288572e1,
        ],
        [
            -7.784894002430293e-3,
            -3.223964580411365e-1,
            -2.400758277161838,
            -2.549732539343734,
            4.374664141464968,
            2.938163982698783,
        ],
        [
            7.784695709041462e-3,
            3.224671290700398e-1,
            2.445134137142996,
            3.754408661907416,
        ],
    );
    if p > 0.97575 {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    }
}

/// One device: its total, its range, and the range's confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceRange {
    pub total: f64,
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
}

/// The fleet's total and its [`FLEET_CONFIDENCE`] range, with a shared share `rho`.
pub fn combine(devices: &[DeviceRange], rho: f64) -> (f64, f64, f64) {
    let (mut total, mut sum_lo, mut sum_hi, mut sq_lo, mut sq_hi) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for d in devices {
        let z = z_for(d.confidence);
        let (lo, hi) = (
            (d.total - d.low).max(0.0) / z,
            (d.high - d.total).max(0.0) / z,
        );
        total += d.total;
        sum_lo += lo;
        sum_hi += hi;
        sq_lo += lo * lo;
        sq_hi += hi * hi;
    }
    let sigma = |sq: f64, sum: f64| ((1.0 - rho) * sq + rho * sum * sum).sqrt();
    let z = z_for(FLEET_CONFIDENCE);
    (
        total,
        (total - z * sigma(sq_lo, sum_lo)).max(0.0),
        total + z * sigma(sq_hi, sum_hi),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    #[test]
    fn quantiles() {
        assert!((z_for(0.9) - 1.6449).abs() < 1e-3);
        assert!((z_for(0.8) - 1.2816).abs() < 1e-3);
        assert!((z_for(0.95) - 1.9600).abs() < 1e-3);
    }

    #[test]
    fn the_extremes_are_the_plain_sum_and_the_root_sum_of_squares() {
        let d = vec![
            DeviceRange {
                total: 100.0,
                low: 100.0 - 16.449,
                high: 100.0 + 16.449,
                confidence: 0.9
            };
            100
        ];
        let (_, lo1, hi1) = combine(&d, 1.0);
        assert!((hi1 - (10_000.0 + 1644.9)).abs() < 1.0 && (lo1 - (10_000.0 - 1644.9)).abs() < 1.0);
        let (_, _, hi0) = combine(&d, 0.0);
        assert!(
            (hi0 - (10_000.0 + 164.49)).abs() < 0.5,
            "independent: √100 = 10× narrower"
        );
        let (_, lo, hi) = combine(&d, SHARED);
        assert!(
            hi - lo < hi1 - lo1,
            "narrower than the sum of device ranges"
        );
    }

    /// Draw each device's error as √ρ·Z₀ + √(1−ρ)·Zᵢ in units of its own σ (the side's σ by
    /// the sign of the draw), sum, and compare the empirical 5th and 95th percentiles with the
    /// formula's range.
    #[test]
    fn matches_a_monte_carlo_estimate() {
        let mut rng = Rng::new(0x5EED);
        let mut normal = move || {
            // Box–Muller from two uniforms.
            let u1 = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            let u2 = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
            (-2.0 * u1.max(1e-300).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let devices: Vec<DeviceRange> = (0..60)
            .map(|i| {
                let total = 50.0 + 10.0 * (i % 7) as f64;
                let (c, width) = if i % 3 == 0 { (0.9, 0.2) } else { (0.8, 0.35) };
                DeviceRange {
                    total,
                    low: total * (1.0 - width),
                    high: total * (1.0 + width),
                    confidence: c,
                }
            })
            .collect();
        let (total, lo, hi) = combine(&devices, SHARED);
        let mut sums: Vec<f64> = (0..20_000)
            .map(|_| {
                let shared = normal();
                devices
                    .iter()
                    .map(|d| {
                        let x = SHARED.sqrt() * shared + (1.0 - SHARED).sqrt() * normal();
                        let z = z_for(d.confidence);
                        let sigma = if x < 0.0 {
                            (d.total - d.low) / z
                        } else {
                            (d.high - d.total) / z
                        };
                        d.total + x * sigma
                    })
                    .sum()
            })
            .collect();
        sums.sort_by(f64::total_cmp);
        let (p5, p95) = (sums[sums.len() / 20], sums[sums.len() * 19 / 20]);
        assert!(
            ((total - lo) - (total - p5)).abs() / (total - p5) < 0.05,
            "low {lo} vs Monte Carlo {p5}"
        );
        assert!(
            ((hi - total) - (p95 - total)).abs() / (p95 - total) < 0.05,
            "high {hi} vs Monte Carlo {p95}"
        );
    }
}
