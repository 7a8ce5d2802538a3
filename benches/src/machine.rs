//! The machine a run happened on: date, CPUs, CPU model, kernel and load,
//! for the header of every report.

use std::process::Command;

/// `date -u`, or `unknown` if it cannot run.
pub fn date_utc() -> String {
    Command::new("date")
        .arg("-u")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// CPUs this process may run on (what `nproc` prints).
pub fn nproc() -> String {
    std::thread::available_parallelism()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

/// The first `model name` of /proc/cpuinfo.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// The kernel release (what `uname -r` prints).
pub fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// The 1, 5 and 15 minute load averages (from /proc/loadavg), to show how
/// busy the shared machine was when a run started.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}

/// One line describing this machine: `2 CPUs (nproc), <model>, kernel <release>`.
pub fn describe() -> String {
    format!(
        "{} CPUs (nproc), {}, kernel {}",
        nproc(),
        cpu_model(),
        kernel()
    )
}
