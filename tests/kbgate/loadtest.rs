//! `kbgate loadtest` against a real listening kbgate (the embedded demo, or the tests' stack
//! with a customers file), and against a tiny leaky server: the figures are real, the limits
//! hold, and a fast run that leaks fails.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use kbgate::loadtest::{self, Args, LoadtestError, Outcome, Report};

use crate::support::Stack;

fn args(words: &[&str]) -> Args {
    Args::try_from_cli(words).unwrap_or_else(|e| panic!("{words:?}: {e}"))
}

async fn run(words: &[&str]) -> Report {
    loadtest::run(args(words))
        .await
        .expect("the load test runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_run_covers_every_route_without_errors_or_leaks() {
    let _measuring = crate::support::MEASURING.lock().await;
    let r = run(&[
        "--embedded",
        "--duration",
        "2s",
        "--warmup",
        "200ms",
        "--connections",
        "10",
        "--oracle-sample",
        "0.25",
        "--quiet",
    ])
    .await;
    assert!(r.requests > 50, "{}", r.to_text());
    assert_eq!(r.errors.failed, 0, "{}", r.to_text());
    assert_eq!(r.outcome, Outcome::Ok);
    assert_eq!(r.customers, 5);
    assert!((1.9..4.0).contains(&r.duration_s), "{}", r.duration_s);
    let routes: Vec<&str> = r.routes.iter().map(|x| x.route.as_str()).collect();
    assert_eq!(routes, ["search", "page", "children", "attachment", "site"]);
    for route in &r.routes {
        assert!(route.requests > 0, "{} seen", route.route);
        assert!(route.p50_us > 0 && route.p99_us >= route.p50_us);
    }
    assert_eq!(r.routes.iter().map(|x| x.requests).sum::<u64>(), r.requests);
    assert!(r.statuses["2xx"] > 0);
    assert!(
        r.statuses.get("4xx").copied().unwrap_or(0) > 0,
        "hidden items answered 404"
    );
    assert!(r.oracle.responses > 0 && r.oracle.bytes > 0);
    assert!(r.oracle.canaries > 10, "the corpus's canaries are known");
    assert_eq!(r.oracle.hits, 0);
    let l = r.latency_us;
    assert!(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max);
    assert!(r.throughput_rps > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_rate_run_achieves_its_rate() {
    let _measuring = crate::support::MEASURING.lock().await;
    let r = run(&[
        "--embedded",
        "--rate",
        "200",
        "--duration",
        "2s",
        "--warmup",
        "200ms",
        "--connections",
        "32",
        "--quiet",
    ])
    .await;
    let rate = r.rate.expect("a fixed-rate report");
    assert_eq!(rate.target_rps, 200.0);
    assert!(
        (180.0..=220.0).contains(&rate.achieved_rps),
        "{}",
        r.to_text()
    );
    assert!((360..=440).contains(&r.requests), "{}", r.requests);
    assert_eq!(r.errors.failed, 0, "{}", r.to_text());
    assert_eq!(r.outcome, Outcome::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_limit_stops_at_exactly_that_many() {
    let _measuring = crate::support::MEASURING.lock().await;
    let r = run(&[
        "--embedded",
        "--requests",
        "50",
        "--duration",
        "60s",
        "--warmup",
        "0s",
        "--connections",
        "7",
        "--quiet",
    ])
    .await;
    assert_eq!(r.requests, 50);
    assert_eq!(r.routes.iter().map(|x| x.requests).sum::<u64>(), 50);
    assert!(
        r.duration_s < 30.0,
        "stopped by the limit: {}",
        r.duration_s
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.to_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mix_against_a_target_takes_customers_from_a_file() {
    let _measuring = crate::support::MEASURING.lock().await;
    let stack = Stack::start().await;
    let mut toml = String::new();
    for c in stack.customers() {
        let orgs: Vec<String> = c.orgs.iter().map(|o| format!("{o:?}")).collect();
        toml.push_str(&format!(
            "[[customer]]\nname = {:?}\norgs = [{}]\ntoken = {:?}\n\n",
            c.name,
            orgs.join(", "),
            c.token
        ));
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("loadtest-customers-{}.toml", std::process::id()));
    std::fs::write(&path, toml).unwrap();
    let url = format!("http://{}", stack.addr());
    let r = run(&[
        "--target",
        &url,
        "--customers",
        path.to_str().unwrap(),
        "--requests",
        "150",
        "--warmup",
        "0s",
        "--connections",
        "5",
        "--oracle-sample",
        "1",
        "--quiet",
    ])
    .await;
    let _ = std::fs::remove_file(&path);
    assert_eq!(r.requests, 150);
    assert_eq!(r.customers, 5);
    assert!(!r.embedded);
    assert_eq!(r.errors.failed, 0, "{}", r.to_text());
    assert_eq!(r.oracle.responses, 150, "every answer scanned");
    assert_eq!(r.outcome, Outcome::Ok);
    stack.stop().await;
}

/// A server that answers every request with 200 and `body`; stops when the handle is dropped.
async fn tiny_server(body: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(move |_req| async move {
                    Ok::<_, Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(body.as_bytes())))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_run_that_leaks_fails() {
    let _measuring = crate::support::MEASURING.lock().await;
    // The canary hides behind a JSON escape: only the unescaped view shows it.
    let (leaky, leaky_task) =
        tiny_server(r#"{"results":[{"title":"Roadmap CANARY-\u0061cme-5eed01"}],"size":1}"#).await;
    let (clean, clean_task) = tiny_server(r#"{"results":[{"title":"Roadmap"}],"size":1}"#).await;
    let path = "/wiki/rest/api/search?cql=type%3Dpage";
    let words = |url: &str| {
        args(&[
            "--target",
            url,
            "--path",
            path,
            "--header",
            "Authorization: Bearer not-a-real-token",
            "--canary",
            "CANARY-acme-5eed01",
            "--oracle-sample",
            "1",
            "--requests",
            "40",
            "--warmup",
            "0s",
            "--connections",
            "4",
            "--quiet",
        ])
    };
    let r = loadtest::run(words(&leaky)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Leak, "{}", r.to_text());
    assert_eq!(r.exit_code(), 3);
    assert_eq!(r.errors.failed, 0, "fast and otherwise flawless");
    assert_eq!(r.oracle.hits, 40);
    assert_eq!(r.oracle.leaks.len(), 1);
    let leak = &r.oracle.leaks[0];
    assert_eq!(
        (leak.route.as_str(), leak.customer.as_str(), leak.canaries),
        (path, "anonymous", 1)
    );
    assert_eq!(leak.examples, ["CANARY-acme-5eed01"]);
    assert!(r.to_text().contains("LEAK"));
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["outcome"], "leak");

    let r = loadtest::run(words(&clean)).await.unwrap();
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.to_text());
    assert_eq!((r.oracle.responses, r.oracle.hits), (40, 0));
    leaky_task.abort();
    clean_task.abort();
}

#[tokio::test]
async fn bad_usage_is_refused_before_any_request() {
    let remote = loadtest::run(args(&["--target", "http://192.0.2.1:8080", "--path", "/"])).await;
    let err = remote.expect_err("a remote target is refused");
    assert!(matches!(err, LoadtestError::Target(_)), "{err:?}");
    assert!(err.to_string().contains("--allow-remote"));
    assert_eq!(err.exit_code(), 2);
    let no_customers = loadtest::run(args(&["--target", "http://127.0.0.1:9"])).await;
    let err = no_customers.expect_err("the mix needs customers");
    assert!(err.to_string().contains("--customers"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_target_fails_with_connect_errors() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let r = run(&[
        "--target",
        &url,
        "--path",
        "/",
        "--duration",
        "300ms",
        "--warmup",
        "0s",
        "--connections",
        "2",
        "--quiet",
    ])
    .await;
    assert!(r.errors.connect > 0);
    assert_eq!(r.errors.failed, r.requests);
    assert_eq!(r.outcome, Outcome::Errors);
    assert_eq!(r.exit_code(), 4);
}
