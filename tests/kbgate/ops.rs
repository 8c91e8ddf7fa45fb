//! Operations, in process: the admin listener's `/metrics` after a scripted run, `/readyz`
//! following upstream down and up, and the runtime canary probe (clean, and catching a leak).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kbgate::admin::{self, Admin};
use kbgate::config::ProbeSettings;
use kbgate::ids::OrgId;
use kbgate::reload::Live;
use kbgate::sim::Fault;

use crate::support::{send_raw, Raw, Stack};

/// The admin listener for `stack`'s application, on a free loopback port.
async fn admin_for(stack: &Stack) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = Admin::new(Live::fixed(stack.inner.app.clone()));
    let task = tokio::spawn(async move {
        let _ = admin::serve(admin, listener, std::future::pending()).await;
    });
    (addr, task)
}

async fn admin_get(addr: SocketAddr, path: &str) -> Raw {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    send_raw(addr, req.as_bytes()).await
}

/// The value of the sample whose line starts with `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn metrics_text(raw: &Raw) -> String {
    assert_eq!(raw.status, 200);
    assert!(
        raw.header("content-type")
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        raw.header("content-type")
    );
    String::from_utf8(raw.body.clone()).unwrap()
}

#[tokio::test]
async fn metrics_count_what_a_scripted_run_did() {
    let stack = Stack::start().await;
    let (admin, task) = admin_for(&stack).await;
    let before = metrics_text(&admin_get(admin, "/metrics").await);
    assert_eq!(
        sample(
            &before,
            "kbgate_requests_total{route=\"search\",status=\"200\"}"
        ),
        None
    );
    assert_eq!(sample(&before, "kbgate_in_flight_requests"), Some(0.0));
    assert!(before.contains("kbgate_build_info{version=\""), "{before}");

    // The script: bob searches three times (the corpus holds other organizations' articles,
    // which the filter hides), reads one missing page, and an anonymous caller is refused.
    let bob = stack.customer("bob");
    for _ in 0..3 {
        let r = bob
            .get(&stack, "/wiki/rest/api/search?cql=type%3Dpage&limit=50")
            .await;
        assert_eq!(r.status, 200);
    }
    let missing = bob.get(&stack, "/wiki/rest/api/content/999999999").await;
    assert_eq!(missing.status, 404);
    let anonymous = stack
        .get("/wiki/rest/api/search?cql=type%3Dpage", &[])
        .await;
    assert_eq!(anonymous.status, 401);

    let after = metrics_text(&admin_get(admin, "/metrics").await);
    let v = |series: &str| sample(&after, series).unwrap_or(0.0);
    assert_eq!(
        v("kbgate_requests_total{route=\"search\",status=\"200\"}"),
        3.0,
        "{}",
        after
    );
    assert_eq!(
        v("kbgate_requests_total{route=\"content\",status=\"404\"}"),
        1.0
    );
    assert_eq!(
        v("kbgate_requests_total{route=\"search\",status=\"401\"}"),
        1.0
    );
    assert_eq!(
        v("kbgate_request_duration_seconds_count{route=\"search\"}"),
        4.0
    );
    assert!(v("kbgate_upstream_request_duration_seconds_count{call=\"json\"}") >= 3.0);
    assert!(
        v("kbgate_filter_hidden_items_total{reason=\"other_org_label\"}") >= 3.0,
        "every search hides another organization's articles:\n{after}"
    );
    // The wrapped CQL keeps most foreign articles upstream; the filter counts each answer.
    assert_eq!(
        v("kbgate_filter_responses_total{outcome=\"filtered\"}")
            + v("kbgate_filter_responses_total{outcome=\"unchanged\"}"),
        3.0
    );
    // One token, verified once and then served from the cache.
    assert!(v("kbgate_cache_lookups_total{cache=\"tokens\",result=\"hit\"}") >= 3.0);
    assert!(v("kbgate_cache_lookups_total{cache=\"tokens\",result=\"miss\"}") >= 1.0);
    assert_eq!(v("kbgate_cache_entries{cache=\"tokens\"}"), 1.0);
    let issuer = stack.inner.sim.issuer();
    assert!(
        v(&format!(
            "kbgate_jwks_refreshes_total{{issuer=\"{issuer}\",outcome=\"ok\"}}"
        )) >= 1.0,
        "{after}"
    );
    assert_eq!(v("kbgate_in_flight_requests"), 0.0);
    assert_eq!(v("kbgate_ready"), 1.0);
    assert_eq!(v("kbgate_upstream_errors_total{kind=\"status\"}"), 0.0);

    // An upstream failure is counted by kind.
    stack.inner.sim.set_fault(Some(Fault::ServerError));
    let failed = bob
        .get(&stack, "/wiki/rest/api/search?cql=type%3Dpage&limit=5")
        .await;
    assert_eq!(failed.status, 502);
    stack.inner.sim.set_fault(None);
    let last = metrics_text(&admin_get(admin, "/metrics").await);
    assert_eq!(
        sample(&last, "kbgate_upstream_errors_total{kind=\"status\"}"),
        Some(1.0),
        "{last}"
    );
    assert_eq!(
        sample(
            &last,
            "kbgate_requests_total{route=\"search\",status=\"502\"}"
        ),
        Some(1.0)
    );
    task.abort();
    stack.stop().await;
}

#[tokio::test]
async fn readiness_follows_upstream_down_and_up() {
    let stack = Stack::start().await;
    let (admin, task) = admin_for(&stack).await;
    let health = admin_get(admin, "/healthz").await;
    assert_eq!(health.status, 200);

    let ready = admin_get(admin, "/readyz").await;
    assert_eq!(
        ready.status,
        200,
        "{}",
        String::from_utf8_lossy(&ready.body)
    );
    let body = ready.json();
    assert_eq!(body["ready"], true);
    assert_eq!(body["checks"]["upstream"], "ok");
    assert_eq!(body["checks"]["keys"], "ok");
    assert_eq!(body["checks"]["orgs"], "ok");

    // Confluence in maintenance: not ready, and the answer says why without upstream's words.
    stack.inner.sim.set_fault(Some(Fault::ServiceUnavailable));
    let down = wait_for_status(admin, 503).await;
    let body = down.json();
    assert_eq!(body["ready"], false);
    assert_eq!(body["checks"]["keys"], "ok");
    let reason = body["checks"]["upstream"].as_str().unwrap();
    assert!(reason.contains("503"), "{reason}");
    assert!(!String::from_utf8_lossy(&down.body).contains("CANARY"));
    let metrics = metrics_text(&admin_get(admin, "/metrics").await);
    assert_eq!(sample(&metrics, "kbgate_ready"), Some(0.0));
    assert_eq!(
        sample(&metrics, "kbgate_ready_check{check=\"upstream\"}"),
        Some(0.0)
    );

    stack.inner.sim.set_fault(None);
    let up = wait_for_status(admin, 200).await;
    assert_eq!(up.json()["ready"], true);

    // Only GET and HEAD; unknown paths are 404.
    let post = send_raw(
        admin,
        format!("POST /readyz HTTP/1.1\r\nHost: {admin}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(post.status, 405);
    assert_eq!(admin_get(admin, "/debug").await.status, 404);
    task.abort();
    stack.stop().await;
}

/// Polls `/readyz` until it answers `status` (the upstream check is cached for 2 s).
async fn wait_for_status(admin: SocketAddr, status: u16) -> Raw {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = admin_get(admin, "/readyz").await;
        if r.status == status || tokio::time::Instant::now() > deadline {
            assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Canaries of the articles only `org` may see.
fn own_canaries(stack: &Stack, org: &str) -> Vec<String> {
    let found = stack.inner.sim.corpus().canaries_only_for(org);
    assert!(!found.is_empty(), "the corpus has {org}-only articles");
    found
}

#[tokio::test]
async fn the_canary_probe_is_clean_on_a_correct_gate_and_catches_a_leak() {
    let stack = Stack::start().await;
    let app = stack.inner.app.clone();
    let acme = own_canaries(&stack, "acme");
    let globex = own_canaries(&stack, "globex");
    let settings = ProbeSettings {
        interval: Duration::from_secs(60),
        canaries: vec![
            (OrgId::new("acme").unwrap(), acme.clone()),
            (OrgId::new("globex").unwrap(), globex.clone()),
        ],
    };
    let round = kbgate::probe::round(&app, &settings).await;
    assert_eq!(round.outcome, "clean", "{round:?}");
    assert!(round.leaks.is_empty());
    assert_eq!(round.searches, 2 * (acme.len() + globex.len()));

    // A canary acme may see, declared as globex's: acme's answers now hold a "foreign"
    // canary, which is exactly what a leak looks like to the probe.
    let mut globex_with_acme = globex.clone();
    globex_with_acme.push(acme[0].clone());
    let leaky = ProbeSettings {
        interval: Duration::from_secs(60),
        canaries: vec![
            (OrgId::new("acme").unwrap(), acme.clone()),
            (OrgId::new("globex").unwrap(), globex_with_acme),
        ],
    };
    let round = kbgate::probe::round(&app, &leaky).await;
    assert_eq!(round.outcome, "leak", "{round:?}");
    assert_eq!(round.leaks.len(), 1);
    assert_eq!(round.leaks[0].0, "acme");

    // A canary nobody has: the probe says it is blind rather than clean.
    let blind = ProbeSettings {
        interval: Duration::from_secs(60),
        canaries: vec![
            (OrgId::new("acme").unwrap(), acme),
            (
                OrgId::new("globex").unwrap(),
                vec!["CANARY-nowhere-000000".to_owned()],
            ),
        ],
    };
    assert_eq!(kbgate::probe::round(&app, &blind).await.outcome, "blind");

    // Upstream failing: an error round, never a clean one.
    stack.inner.sim.set_fault(Some(Fault::ServerError));
    assert_eq!(kbgate::probe::round(&app, &settings).await.outcome, "error");
    stack.inner.sim.set_fault(None);

    // The rounds are counted on the running app's metrics.
    let (admin, task) = admin_for(&stack).await;
    app.metrics.probe_round("clean", &[]);
    let text = metrics_text(&admin_get(admin, "/metrics").await);
    assert_eq!(
        sample(&text, "kbgate_canary_probe_runs_total{outcome=\"clean\"}"),
        Some(1.0)
    );
    let _ = Arc::clone(&app);
    task.abort();
    stack.stop().await;
}
