//! The one JSON line every measurement prints, and the latency arithmetic behind it.
//!
//! `{"store", "mode", "tills", "instances", "flows", "flows_per_s", "p50_ms", "p99_ms", "errors", "server_rss_mb"}`:
//! latencies are per request (one API call, or one commit for the limit), not per flow.

use serde::Serialize;
use std::time::Duration;

/// The kinds of request in a cash-out flow, in flow order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Create,
    Reserve,
    Confirm,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Create, Kind::Reserve, Kind::Confirm];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Create => "create",
            Kind::Reserve => "reserve",
            Kind::Confirm => "confirm",
        }
    }

    /// The kind of the `i`-th request of a till that runs flows back to back (0-based).
    pub fn of_request(i: u64) -> Kind {
        Kind::ALL[(i % 3) as usize]
    }
}

/// Request latencies in microseconds, by kind.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    by_kind: [Vec<u64>; 3],
}

impl Latencies {
    pub fn record(&mut self, kind: Kind, latency: Duration) {
        self.record_micros(kind, u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn record_micros(&mut self, kind: Kind, micros: u64) {
        self.by_kind[kind as usize].push(micros);
    }

    pub fn merge(&mut self, other: Latencies) {
        for (mine, theirs) in self.by_kind.iter_mut().zip(other.by_kind) {
            mine.extend(theirs);
        }
    }

    /// Requests recorded of one kind.
    pub fn count(&self, kind: Kind) -> usize {
        self.by_kind[kind as usize].len()
    }

    /// Every request, sorted.
    pub fn all_sorted(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self.by_kind.iter().flatten().copied().collect();
        all.sort_unstable();
        all
    }

    /// One kind's requests, sorted.
    pub fn sorted(&self, kind: Kind) -> Vec<u64> {
        let mut v = self.by_kind[kind as usize].clone();
        v.sort_unstable();
        v
    }

    /// `create p50 1.23 ms p99 4.56 ms (n), reserve …, confirm …`, for the log.
    pub fn breakdown(&self) -> String {
        Kind::ALL
            .iter()
            .map(|&k| {
                let s = self.sorted(k);
                format!(
                    "{} p50 {:.2} ms p99 {:.2} ms max {:.2} ms (n={})",
                    k.name(),
                    percentile_ms(&s, 50.0),
                    percentile_ms(&s, 99.0),
                    s.last().copied().unwrap_or(0) as f64 / 1000.0,
                    s.len()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `p` % of the values
/// at or below it. `None` for no values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// [`percentile`] of microsecond values, in milliseconds (0 for no values).
pub fn percentile_ms(sorted_micros: &[u64], p: f64) -> f64 {
    percentile(sorted_micros, p).map_or(0.0, |us| us as f64 / 1000.0)
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// The JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub store: String,
    /// `spread`, `one-wallet`, `limit` (or `limit-one-wallet`).
    pub mode: String,
    pub tills: usize,
    /// walletd instances the tills were spread over (0 for the limit, which has none).
    pub instances: usize,
    /// Complete flows (create, reserve and confirm all succeeded).
    pub flows: u64,
    pub flows_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Failed requests.
    pub errors: u64,
    /// Peak resident memory of the server (VmHWM), 0 when not measured.
    pub server_rss_mb: f64,
}

impl Report {
    /// A report from raw measurements; rounds for printing (0.1 flow/s, 1 µs, 0.1 MB).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &str,
        mode: &str,
        tills: usize,
        flows: u64,
        elapsed: Duration,
        latencies: &Latencies,
        errors: u64,
        server_rss_mb: f64,
    ) -> Report {
        let all = latencies.all_sorted();
        let secs = elapsed.as_secs_f64();
        Report {
            store: store.to_string(),
            mode: mode.to_string(),
            tills,
            instances: 1,
            flows,
            flows_per_s: if secs > 0.0 {
                round(flows as f64 / secs, 1)
            } else {
                0.0
            },
            p50_ms: round(percentile_ms(&all, 50.0), 3),
            p99_ms: round(percentile_ms(&all, 99.0), 3),
            errors,
            server_rss_mb: round(server_rss_mb, 1),
        }
    }

    /// The same report of a run over `instances` walletd instances.
    pub fn with_instances(mut self, instances: usize) -> Report {
        self.instances = instances;
        self
    }

    /// The report as one line of JSON, fields in the documented order.
    pub fn json_line(&self) -> String {
        serde_json::to_string(self).expect("a report serializes")
    }
}

/// `sqlite` or `postgres`, from a database URL.
pub fn store_of(database_url: &str) -> &'static str {
    if database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 0.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 99.0), Some(990));
        // Two values: the median is the lower one, p99 the higher.
        assert_eq!(percentile(&[1, 9], 50.0), Some(1));
        assert_eq!(percentile(&[1, 9], 99.0), Some(9));
    }

    #[test]
    fn request_kinds_cycle_in_flow_order() {
        let kinds: Vec<&str> = (0..7).map(|i| Kind::of_request(i).name()).collect();
        assert_eq!(
            kinds,
            [
                "create", "reserve", "confirm", "create", "reserve", "confirm", "create"
            ]
        );
    }

    #[test]
    fn json_line_has_the_documented_fields_in_order() {
        let mut lat = Latencies::default();
        for us in [1000, 2000, 3000] {
            lat.record_micros(Kind::Create, us);
        }
        lat.record(Kind::Confirm, Duration::from_micros(40_000));
        let r = Report::new(
            "sqlite",
            "spread",
            32,
            250,
            Duration::from_millis(2500),
            &lat,
            1,
            42.04,
        );
        assert_eq!(
            r.json_line(),
            r#"{"store":"sqlite","mode":"spread","tills":32,"instances":1,"flows":250,"flows_per_s":100.0,"p50_ms":2.0,"p99_ms":40.0,"errors":1,"server_rss_mb":42.0}"#
        );
        let v: serde_json::Value = serde_json::from_str(&r.json_line()).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 10);
        assert!(
            r.clone()
                .with_instances(3)
                .json_line()
                .contains(r#""tills":32,"instances":3,"#)
        );
        assert!(!r.json_line().contains('\n'));
    }

    #[test]
    fn empty_runs_report_zeros() {
        let r = Report::new(
            "postgres",
            "limit",
            1,
            0,
            Duration::ZERO,
            &Latencies::default(),
            0,
            0.0,
        );
        assert_eq!(r.flows_per_s, 0.0);
        assert_eq!(r.p99_ms, 0.0);
        assert_eq!(store_of("postgres://postgres@127.0.0.1/x"), "postgres");
        assert_eq!(store_of("sqlite:///tmp/x.db"), "sqlite");
    }
}
