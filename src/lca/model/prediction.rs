//! What the neighbours say of a device (embodied footprint, use phase and the rule that gave
//! it), and the small numeric helpers the fit and the categories share.

/// What the neighbours say of a device: embodied footprint and use phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    pub embodied_kg: f64,
    /// The neighbours' (weighted) use share of their published totals.
    pub use_share: f64,
    /// The neighbours' use phase per year of lifetime (kg CO2e), where most of their weight
    /// states one.
    pub use_per_year_kg: Option<f64>,
}

/// Which rule gave a use phase the caller did not state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UseBasis {
    /// The neighbours' use phase per year (kg CO2e) times the lifetime given.
    PerYear(f64),
    /// The neighbours' use share of their totals.
    Share(f64),
}

impl Prediction {
    /// The use phase when the yearly energy is unknown, and the rule that gave it: the
    /// neighbours' use per year times the lifetime the caller gives (a 5-year laptop uses more
    /// than its 3-year twin), else the neighbours' use share of the total.
    pub fn use_phase(&self, lifetime_years: Option<f64>) -> (f64, UseBasis) {
        match (self.use_per_year_kg, lifetime_years) {
            (Some(upy), Some(life)) => (upy * life, UseBasis::PerYear(upy)),
            _ => (
                self.embodied_kg * self.use_share / (1.0 - self.use_share),
                UseBasis::Share(self.use_share),
            ),
        }
    }
}

pub(super) fn ln(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0).map(f64::ln)
}

pub(super) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}
