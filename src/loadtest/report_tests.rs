//! Unit tests of the report: its verdicts, JSON shape and text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use super::report::*;
use super::stats::{ErrorKind, Figures, Outcome as Exchange, Stats};

fn rate() -> RateReport {
    RateReport {
        target_rps: 100.0,
        achieved_rps: 100.0,
        late_sends: 3,
        max_late_us: 4_200,
    }
}

fn setup(rate: Option<f64>) -> Setup {
    Setup {
        mode: if rate.is_some() {
            Mode::FixedRate
        } else {
            Mode::ClosedLoop
        },
        target: "http://127.0.0.1:8080".into(),
        embedded: false,
        connections: 4,
        customers: vec!["alice".into(), "bob".into()],
        routes: vec!["search".into(), "page".into()],
        warmup_s: 1.0,
        max_error_rate: 0.0,
        oracle_sample: 0.05,
        canaries: 12,
    }
}

fn figures(failures: usize, leak: bool) -> Figures {
    let s = Stats::new(2, 4).unwrap();
    for i in 0..200u64 {
        let status = if i % 10 == 0 { 404 } else { 200 };
        s.record(
            i as usize,
            (i % 2) as usize,
            &Exchange::Response {
                status,
                expected: true,
                latency: Duration::from_micros(1000 + i),
                bytes: 100,
            },
        );
    }
    for _ in 0..failures {
        s.record(0, 1, &Exchange::Failed(ErrorKind::Io));
    }
    s.scanned(0, 0, 1, 1000, if leak { &["CANARY-acme-1"] } else { &[] });
    s.snapshot().unwrap()
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let r = Report::build(&setup(Some(100.0)), &figures(0, false), 2.0, Some(rate()));
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["outcome"], "ok");
    assert_eq!(v["mode"], "fixed-rate");
    assert_eq!(v["requests"], 200);
    assert_eq!(v["throughput_rps"], 100.0);
    assert_eq!(v["rate"]["target_rps"], 100.0);
    assert_eq!(v["rate"]["achieved_rps"], 100.0);
    assert_eq!(v["rate"]["late_sends"], 3);
    assert_eq!(v["rate"]["max_late_us"], 4200);
    for key in ["min", "mean", "p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_us"][key].is_number(), "latency_us.{key}");
    }
    let p50 = v["latency_us"]["p50"].as_u64().unwrap();
    assert!((1090..=1110).contains(&p50), "{p50}");
    assert_eq!(v["routes"][0]["route"], "search");
    assert_eq!(v["routes"][1]["requests"], 100);
    assert_eq!(v["statuses"]["2xx"], 180);
    assert_eq!(v["statuses"]["4xx"], 20);
    assert!(v["statuses"].get("5xx").is_none());
    for key in [
        "connect", "timeout", "io", "status", "leak", "failed", "rate",
    ] {
        assert!(v["errors"][key].is_number(), "errors.{key}");
    }
    assert_eq!(v["oracle"]["responses"], 1);
    assert_eq!(v["oracle"]["bytes"], 1000);
    assert_eq!(v["oracle"]["canaries"], 12);
    assert_eq!(v["oracle"]["leaks"], serde_json::json!([]));
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn a_leak_fails_whatever_the_speed_and_names_route_and_customer() {
    let r = Report::build(&setup(None), &figures(0, true), 2.0, None);
    assert_eq!(r.outcome, Outcome::Leak);
    assert_eq!(r.exit_code(), 3);
    assert_eq!(
        r.oracle.leaks,
        vec![LeakReport {
            route: "search".into(),
            customer: "bob".into(),
            responses: 1,
            canaries: 1,
            examples: vec!["CANARY-acme-1".into()],
        }]
    );
    let text = r.to_text();
    assert!(
        text.contains("LEAK        route search, customer bob"),
        "{text}"
    );
    assert!(r.rate.is_none() && !text.contains("achieved"));
}

#[test]
fn errors_above_the_allowed_rate_fail() {
    let r = Report::build(&setup(None), &figures(2, false), 2.0, None);
    assert_eq!((r.errors.io, r.errors.failed), (2, 2));
    assert_eq!(r.outcome, Outcome::Errors);
    assert_eq!(r.exit_code(), 4);
    let mut lenient = setup(None);
    lenient.max_error_rate = 0.05;
    assert_eq!(
        Report::build(&lenient, &figures(2, false), 2.0, None).outcome,
        Outcome::Ok
    );
    let empty = Figures::new(2).unwrap();
    let r = Report::build(&lenient, &empty, 0.0, None);
    assert_eq!(r.outcome, Outcome::Errors, "nothing measured");
    assert_eq!(r.throughput_rps, 0.0);
    assert!(r.to_json().starts_with('{'));
}

#[test]
fn the_text_report_shows_every_figure() {
    let text = Report::build(&setup(Some(100.0)), &figures(0, false), 2.0, Some(rate())).to_text();
    for needle in [
        "fixed rate 100 rps, 4 connections, 2 customers, http://127.0.0.1:8080\n",
        "requests    200 (100 rps)",
        "achieved 100 of 100 rps (+0.0%), 3 sent > 2 ms late (max 4.20 ms)",
        "p99.9",
        "search",
        "2xx 180  4xx 20",
        "connect 0  timeout 0  io 0  status 0  leak 0",
        "1 responses scanned",
        "outcome     ok",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
    assert_eq!(fmt_us(850), "850 µs");
    assert_eq!(fmt_us(5_123), "5.12 ms");
    assert_eq!(fmt_us(1_200_000), "1.20 s");
    assert_eq!(fmt_bytes(950), "950 B");
    assert_eq!(fmt_bytes(6_195_900), "6.2 MB");
}
