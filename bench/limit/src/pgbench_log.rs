//! pgbench's per-transaction log (`-l`), where one pgbench transaction is one API call of
//! `flow.sql`: `client_id transaction_no time script_no time_epoch time_us [extra…]`, `time` being
//! the latency in µs, or `failed` / `skipped`. Transaction numbers count from 1 per client, so
//! the kind of call is `(transaction_no - 1) % 3` in flow order.

use walletd_load::report::{Kind, Latencies};

/// What the log lines of one run add up to.
#[derive(Debug, Default)]
pub struct Tally {
    pub latencies: Latencies,
    /// Successful confirms: complete flows.
    pub flows: u64,
    /// Lines pgbench marked `failed` (serialization or deadlock failures it did not retry).
    pub failed: u64,
    /// Earliest start and latest end, µs since the epoch.
    pub first_start_us: Option<i64>,
    pub last_end_us: Option<i64>,
}

impl Tally {
    /// Adds one log file's lines; unreadable lines are an error (the format is pgbench's, not ours).
    pub fn add(&mut self, text: &str) -> anyhow::Result<()> {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&str> = line.split_whitespace().collect();
            anyhow::ensure!(f.len() >= 6, "unexpected pgbench log line {line:?}");
            let tx_no: u64 = f[1].parse()?;
            let kind = Kind::of_request(tx_no.saturating_sub(1));
            let end = f[4].parse::<i64>()? * 1_000_000 + f[5].parse::<i64>()?;
            match f[2] {
                "failed" => self.failed += 1,
                "skipped" => {}
                latency => {
                    let latency: u64 = latency.parse()?;
                    self.latencies.record_micros(kind, latency);
                    if kind == Kind::Confirm {
                        self.flows += 1;
                    }
                    let start = end - latency as i64;
                    self.first_start_us = Some(self.first_start_us.map_or(start, |s| s.min(start)));
                }
            }
            self.last_end_us = Some(self.last_end_us.map_or(end, |e| e.max(end)));
        }
        Ok(())
    }

    /// From the first request's start to the last one's end.
    pub fn elapsed(&self) -> std::time::Duration {
        match (self.first_start_us, self.last_end_us) {
            (Some(s), Some(e)) if e > s => std::time::Duration::from_micros((e - s) as u64),
            _ => std::time::Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_flows_kinds_failures_and_the_span() {
        let mut t = Tally::default();
        t.add(
            "0 1 1000 0 1700000000 100000\n\
             0 2 2000 0 1700000000 102000\n\
             0 3 3000 0 1700000000 105000\n\
             0 4 500 0 1700000000 105500\n",
        )
        .unwrap();
        t.add("1 1 1500 0 1700000000 101500\n1 2 failed 0 1700000000 200000\n")
            .unwrap();
        assert_eq!(t.flows, 1);
        assert_eq!(t.failed, 1);
        assert_eq!(t.latencies.count(Kind::Create), 3);
        assert_eq!(t.latencies.count(Kind::Reserve), 1);
        assert_eq!(t.latencies.count(Kind::Confirm), 1);
        // From 1700000000.099000 (the first create's start) to 1700000000.200000.
        assert_eq!(t.elapsed(), std::time::Duration::from_micros(101_000));
        assert!(t.add("garbage\n").is_err());
    }
}
