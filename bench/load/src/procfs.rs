//! What `/proc` says about a process: peak memory and CPU time (Linux only; zeros elsewhere).

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every Linux build we run on).
const TICKS_PER_SECOND: f64 = 100.0;

/// Peak resident set (`VmHWM`) of `pid` in MB, or the current one (`VmRSS`) if the peak is not
/// shown; `None` when the process cannot be read.
pub fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kb(&status, "VmHWM:")
        .or_else(|| parse_status_kb(&status, "VmRSS:"))
        .map(|kb| kb as f64 / 1024.0)
}

fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// User plus system CPU seconds used so far by `pid` (`"self"` for this process).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu(&stat)
}

fn parse_stat_cpu(stat: &str) -> Option<f64> {
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 (utime) and 15 (stime) of proc(5); `rest` starts at field 3 (state).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_before_the_current_size() {
        let status =
            "Name:\twalletd\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n";
        assert_eq!(parse_status_kb(status, "VmHWM:"), Some(51200));
        assert_eq!(parse_status_kb(status, "VmRSS:"), Some(40960));
        assert_eq!(parse_status_kb("Name: x\n", "VmHWM:"), None);
    }

    #[test]
    fn cpu_time_survives_odd_process_names() {
        let stat = "1234 (tokio (x) y) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3 0 1000 1000 100";
        assert_eq!(parse_stat_cpu(stat), Some(3.0));
    }

    #[test]
    fn this_process_is_readable_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(cpu_seconds("self").is_some());
            assert!(rss_mb(std::process::id()).unwrap() > 0.0);
        }
    }
}
