//! Issue 6 part 2 (threats.md §3.2 suite D): every upstream fault × every filtered route fails
//! closed. For each fault the simulator can play (plus "connection refused", a kbgate pointed at
//! a closed port), every route kbgate filters — v1, downloads, v2, JSM and the KB site — is asked
//! at once, as alice (acme), of a kbgate whose upstream timeout is 1 s. Each cell must be
//! kbgate's own 502 or 504 (JSON for the API, the error page for the site) holding no upstream
//! byte: no canary of any organization (alice's own included), none of the fault's marker
//! strings, none of upstream's headers; the faults that leave the answer good (`Set-Cookie`,
//! `X-AUSERNAME`…) must give the normal answer without those headers. Cells that differ are in
//! `table::EXCEPTIONS`, each with its reason. After the matrix kbgate still answers 200, and the
//! test process's RSS is back within a bound of its baseline.
//!
//! Figures: printed and written to `target/tmp/fault-matrix.log`.

#[path = "fault_matrix/check.rs"]
mod check;
#[path = "fault_matrix/probe.rs"]
mod probe;
#[path = "fault_matrix/report.rs"]
mod report;
#[path = "fault_matrix/routes.rs"]
mod routes;
#[path = "fault_matrix/table.rs"]
mod table;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use kbgate::demo::{self, DemoStack};
use kbgate::sim::SimOptions;

use crate::support::LeakOracle;
use check::{Context, Verdict};
use probe::Got;
use routes::RouteCase;
use table::FaultCase;

/// kbgate's upstream timeout in the stack under test.
const UPSTREAM_TIMEOUT: &str = "1s";
/// How far the test process's RSS may end above its baseline.
const RSS_BOUND_KIB: u64 = 32 * 1024;

/// The demo configuration with a short upstream timeout.
fn short_timeout(toml: String) -> String {
    let edited = toml.replace(
        "timeout = \"5s\"\nmax_body_bytes",
        &format!("timeout = \"{UPSTREAM_TIMEOUT}\"\nmax_body_bytes"),
    );
    assert_ne!(edited, toml, "the upstream timeout is in the demo config");
    edited
}

async fn start(edit: impl FnOnce(&kbgate::sim::SimHandle, String) -> String) -> DemoStack {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    DemoStack::start_edited(any, any, SimOptions::default(), edit)
        .await
        .expect("the stack starts")
}

async fn ask_all(addr: SocketAddr, routes: &[RouteCase], auth: &str) -> Vec<Got> {
    join_all(routes.iter().map(|r| probe::get(addr, &r.target, auth))).await
}

/// A port nothing listens on.
fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upstream_fault_on_every_filtered_route_fails_closed() {
    let _measuring = crate::support::MEASURING.lock().await;
    let started = Instant::now();
    let stack = start(|_, toml| short_timeout(toml)).await;
    let alice = demo::customers()
        .into_iter()
        .find(|c| c.name == "alice")
        .unwrap();
    let auth = format!("Bearer {}", stack.token(&alice, Duration::from_secs(900)));
    let corpus = stack.sim.corpus();
    let everything = LeakOracle::new(corpus.all_canaries());
    let foreign = LeakOracle::new(corpus.forbidden_canaries_for(&["acme"]));
    let routes = routes::all(&stack.sim).await;
    assert!(
        table::oversized() > stack.config.upstream.max_body_bytes,
        "the oversized body is above kbgate's cap"
    );

    let warm = ask_all(stack.addr, &routes, &auth).await;
    for (r, got) in routes.iter().zip(&warm) {
        assert_eq!(got.status, 200, "{} without a fault: {}", r.name, got.head);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = report::rss_kib();

    let mut rows: Vec<(FaultCase, Vec<Verdict>)> = Vec::new();
    for case in table::faults() {
        let Some(fault) = case.fault.clone() else {
            continue;
        };
        // Without the fault first: every route healthy, the metadata cache warm (so downloads
        // reach their bytes), and the normal answers to compare with.
        let normal = ask_all(stack.addr, &routes, &auth).await;
        stack.sim.set_fault(Some(fault.clone()));
        // Let pooled upstream connections see the close a connection fault causes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stack.sim.clear_requests();
        let got = ask_all(stack.addr, &routes, &auth).await;
        let seen = stack.sim.requests();
        stack.sim.set_fault(None);
        let cx = Context {
            everything: &everything,
            foreign: &foreign,
            markers: fault.markers(),
            upstream: Some(&seen),
        };
        let verdicts = routes
            .iter()
            .zip(got.iter().zip(&normal))
            .map(|(r, (got, normal))| {
                check::cell(r, got, normal, table::expect(&case, r.name), case.rule, &cx)
            })
            .collect();
        rows.push((case, verdicts));
    }

    // Connection refused: a second kbgate whose upstream is a closed port (same corpus).
    let refused_case = table::faults()
        .into_iter()
        .find(|c| c.fault.is_none())
        .unwrap();
    let closed = closed_port();
    let refused = start(|sim, toml| {
        let edited = short_timeout(toml).replace(
            &format!("base_url = \"{}\"", sim.base_url()),
            &format!("base_url = \"http://{closed}\""),
        );
        assert!(edited.contains(&closed.to_string()));
        edited
    })
    .await;
    let auth_refused = format!("Bearer {}", refused.token(&alice, Duration::from_secs(900)));
    let got = ask_all(refused.addr, &routes, &auth_refused).await;
    let cx = Context {
        everything: &everything,
        foreign: &foreign,
        markers: &[],
        upstream: None,
    };
    let verdicts = routes
        .iter()
        .zip(&got)
        .map(|(r, got)| {
            let expect = table::expect(&refused_case, r.name);
            check::cell(r, got, got, expect, refused_case.rule, &cx)
        })
        .collect();
    rows.insert(0, (refused_case, verdicts));
    refused.stop().await;

    // Healthy afterwards, and memory back near the baseline.
    let after = ask_all(stack.addr, &routes, &auth).await;
    let healthy = after.iter().filter(|g| g.status == 200).count();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = report::rss_kib();
    let summary = report::write(
        &rows,
        &routes,
        (rss_before, rss_after),
        (healthy, routes.len()),
        started.elapsed(),
    );
    println!("{summary}");
    stack.stop().await;

    let failures: Vec<String> = rows
        .iter()
        .flat_map(|(case, verdicts)| {
            routes.iter().zip(verdicts).flat_map(move |(r, v)| {
                v.problems
                    .iter()
                    .map(move |p| format!("{} × {}: {p}", case.name, r.name))
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing cells:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        healthy,
        routes.len(),
        "every route answers 200 after the matrix"
    );
    assert!(
        rss_after <= rss_before + RSS_BOUND_KIB,
        "RSS {rss_before} KiB before, {rss_after} KiB after: more than {RSS_BOUND_KIB} KiB above"
    );
}
