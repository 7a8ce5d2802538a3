//! What a metric's name says: which way is better, and its unit.
//!
//! Rates (`ops_s`, `req_s`, `mib_s`: every name ending in `_s`) are better
//! higher; everything else (time, lateness, CPU, syscalls, memory) is
//! better lower.

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Time, CPU, syscalls, memory: Corium/peer below 1.00 is better.
    Lower,
    /// Rates: Corium/peer above 1.00 is better.
    Higher,
}

/// Which way `metric` improves.
pub fn better(metric: &str) -> Better {
    if metric.ends_with("_s") {
        Better::Higher
    } else {
        Better::Lower
    }
}

/// The unit a figure of `metric` is printed with.
pub fn unit(metric: &str) -> &'static str {
    match metric {
        "ns" => "ns",
        "ops_s" | "req_s" => "/s",
        "mib_s" => "MiB/s",
        "syscalls" => "syscalls",
        "kb_per_conn" => "KB",
        "rss_after_mb" => "MB",
        m if m.ends_with("_us") => "us",
        _ => "",
    }
}

/// `arrow` for a table: `lower` or `higher` is better.
pub fn better_word(metric: &str) -> &'static str {
    match better(metric) {
        Better::Lower => "lower",
        Better::Higher => "higher",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_better_higher_and_the_rest_lower() {
        for rate in ["ops_s", "req_s", "mib_s"] {
            assert_eq!(better(rate), Better::Higher, "{rate}");
        }
        for cost in [
            "ns",
            "late_p99_us",
            "p50_us",
            "cpu_us",
            "syscalls",
            "kb_per_conn",
        ] {
            assert_eq!(better(cost), Better::Lower, "{cost}");
        }
    }
}
