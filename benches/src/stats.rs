//! Order statistics over the rounds of one measurement: median, min, max,
//! and percentiles of timer lateness.

/// Median, min and max of one metric over all rounds of one runtime.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Median of the rounds (mean of the two middle ones for an even count).
    pub median: f64,
    /// Smallest round.
    pub min: f64,
    /// Largest round.
    pub max: f64,
}

impl Summary {
    /// Summarizes `values` (one per round); `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// The `p`-th percentile (0..=100, nearest rank) of `values`, which this
/// sorts in place; `values` must not be empty.
pub fn percentile(values: &mut [i64], p: f64) -> i64 {
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}
