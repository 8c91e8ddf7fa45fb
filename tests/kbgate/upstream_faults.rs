//! Whatever Confluence answers, the customer gets a checked answer or kbgate's own 502/504:
//! never an upstream byte.

use std::time::Duration;

use kbgate::sim::Fault;

use crate::support::{LeakOracle, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_upstream_answers_become_kbgates_own_502() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    // Own-org canaries count too: a refused answer must carry no upstream byte at all.
    let everything = LeakOracle::new(stack.inner.sim.corpus().all_canaries());
    let faults = [
        Fault::InvalidJson,
        Fault::Gzip,
        Fault::Truncated,
        Fault::Oversized(6 * 1024 * 1024),
        Fault::ServerError,
        Fault::WrongContentType,
        Fault::WrongShape,
        Fault::DuplicateKeys,
    ];
    let visible_acme = stack
        .inner
        .sim
        .corpus()
        .items()
        .iter()
        .find(|i| i.canary.is_some() && alice.visible.contains(&i.id))
        .map(|i| i.id.clone())
        .expect("an acme article");
    for fault in faults {
        let name = format!("{fault:?}");
        stack.inner.sim.set_fault(Some(fault));
        for target in [
            "/wiki/rest/api/search?cql=text~vpn".to_owned(),
            format!("/wiki/rest/api/content/{visible_acme}?expand=body.storage"),
        ] {
            let raw = alice.get(&stack, &target).await;
            everything.assert_clean(&raw.bytes, &format!("{name} {target}"));
            if name == "WrongShape" && target.contains("/content/") {
                assert!(
                    raw.status == 502 || raw.status == 200,
                    "{name} {target}: {}",
                    raw.status
                );
                continue;
            }
            assert_eq!(
                raw.status,
                502,
                "{name} {target}: {}",
                String::from_utf8_lossy(&raw.bytes)
            );
            assert_eq!(raw.json()["statusCode"], 502, "kbgate's own body");
        }
    }
    stack.inner.sim.set_fault(None);
    let raw = alice
        .get(&stack, "/wiki/rest/api/search?cql=text~vpn")
        .await;
    assert_eq!(raw.status, 200, "kbgate recovers when upstream does");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_cookies_and_validators_never_reach_the_customer() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.set_fault(Some(Fault::SetCookie));
    let raw = alice
        .get(&stack, "/wiki/rest/api/search?cql=text~vpn")
        .await;
    assert_eq!(raw.status, 200);
    assert!(
        raw.header("set-cookie").is_none() && raw.header("etag").is_none(),
        "{}",
        raw.head
    );
    assert_eq!(
        raw.header("cache-control").as_deref(),
        Some("private, no-store")
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_upstream_becomes_504_within_the_timeout() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack
        .inner
        .sim
        .set_fault(Some(Fault::Delay(Duration::from_secs(8))));
    let started = std::time::Instant::now();
    let raw = alice
        .get(&stack, "/wiki/rest/api/search?cql=text~vpn")
        .await;
    assert_eq!(raw.status, 504, "{}", String::from_utf8_lossy(&raw.bytes));
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "answered at the 5 s upstream timeout"
    );
    stack.inner.sim.set_fault(None);
    stack.stop().await;
}
