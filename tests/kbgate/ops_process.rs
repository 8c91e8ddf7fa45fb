//! Operations, as a real `kbgate serve` process in front of the simulator: configuration reload
//! (invalid and valid, by SIGHUP and by the file watcher) under load with no failed request,
//! SIGTERM letting in-flight requests finish, and JSON logs with audit events that name ids,
//! never titles.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kbgate::sim::{self, Fault, SimHandle, SimOptions};

use crate::support::{send_raw, LeakOracle, Raw};

/// A `kbgate serve` child process and where it listens.
struct Served {
    child: Child,
    addr: SocketAddr,
    admin: SocketAddr,
    config: PathBuf,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

async fn start_sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::start(listener, SimOptions::default()).await.unwrap()
}

/// The demo configuration with an admin listener, a fast file watcher and JSON logs at info;
/// `site_enabled` is the setting the reload stories change; `extra` is appended.
fn config_text(
    sim: &SimHandle,
    addr: SocketAddr,
    admin: SocketAddr,
    site_enabled: bool,
    extra: &str,
) -> String {
    let base = kbgate::demo::config_toml(sim, addr, &format!("http://{addr}"));
    let base = base.replacen(
        "[server]\n",
        &format!(
            "[server]\nadmin_listen = \"{admin}\"\nreload_watch_interval = \"200ms\"\ndrain_timeout = \"10s\"\n"
        ),
        1,
    );
    format!(
        "{base}\n[log]\nformat = \"json\"\nlevel = \"info\"\n\n[site]\nenabled = {site_enabled}\n\n{extra}"
    )
}

async fn serve(sim: &SimHandle, name: &str, extra: &str) -> Served {
    serve_on(sim, name, extra, Cpus::All).await
}

/// Which CPUs the `kbgate serve` process may use.
#[derive(Clone, Copy, PartialEq)]
enum Cpus {
    All,
    /// Pinned to CPU 0 with `taskset`: kbgate then runs its single-threaded runtime.
    One,
}

async fn serve_on(sim: &SimHandle, name: &str, extra: &str, cpus: Cpus) -> Served {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ops-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (addr, admin) = (free_port(), free_port());
    let config = dir.join("kbgate.toml");
    std::fs::write(&config, config_text(sim, addr, admin, true, extra)).unwrap();
    let log = dir.join("kbgate.log");
    let mut command = match cpus {
        Cpus::All => Command::new(env!("CARGO_BIN_EXE_kbgate")),
        Cpus::One => {
            let mut c = Command::new("taskset");
            c.args(["-c", "0", env!("CARGO_BIN_EXE_kbgate")]);
            c
        }
    };
    let child = command
        .args(["serve", "--config"])
        .arg(&config)
        .envs(kbgate::demo::process_env(
            &SimOptions::default().service_token,
        ))
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let served = Served {
        child,
        addr,
        admin,
        config,
        log,
    };
    for _ in 0..100 {
        if let Ok(s) = tokio::net::TcpStream::connect(served.admin).await {
            drop(s);
            if get(served.admin, "/readyz", &[]).await.status == 200 {
                return served;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "kbgate did not become ready: {}",
        std::fs::read_to_string(&served.log).unwrap_or_default()
    );
}

async fn get(addr: SocketAddr, target: &str, headers: &[(&str, &str)]) -> Raw {
    let mut req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    send_raw(addr, req.as_bytes()).await
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// The value of the series `series` in the process's `/metrics` (0 when absent).
async fn metric(served: &Served, series: &str) -> f64 {
    let text = String::from_utf8(get(served.admin, "/metrics", &[]).await.body).unwrap();
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn wait_for_metric(served: &Served, series: &str, at_least: f64) {
    for _ in 0..100 {
        if metric(served, series).await >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{series} never reached {at_least}; log:\n{}",
        std::fs::read_to_string(&served.log).unwrap_or_default()
    );
}

fn token(sim: &SimHandle, name: &str) -> String {
    let customer = kbgate::demo::customers()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap();
    sim.mint_token(&customer, kbgate::demo::AUDIENCE, Duration::from_secs(600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_valid_and_invalid_configurations_under_load_without_failing_a_request() {
    // The load would show up in the stories that measure latency.
    let _measuring = crate::support::MEASURING.lock().await;
    let sim = start_sim().await;
    let served = serve(&sim, "reload", "").await;
    let addr = served.addr;
    // The KB site's home page, for a signed-in customer: 200 while the site is on, 404 off.
    let erin = format!("Bearer {}", token(&sim, "erin"));
    let erin = [("Authorization", erin.as_str())];
    let home = || get(addr, "/", &erin);
    assert_eq!(home().await.status, 200, "the site is on");

    // Load: four customers' searches, back to back, for the whole story.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let auth = format!("Bearer {}", token(&sim, name));
        let (stop, answered) = (stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = get(
                    addr,
                    "/wiki/rest/api/search?cql=type%3Dpage&limit=10",
                    &[("Authorization", &auth)],
                )
                .await;
                if r.status != 200 {
                    failures.push(r.status);
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // An invalid file: the watcher rejects it, and so does SIGHUP; the old configuration stays.
    let valid = std::fs::read_to_string(&served.config).unwrap();
    std::fs::write(&served.config, valid.replace("[policy]", "[policy")).unwrap();
    wait_for_metric(
        &served,
        "kbgate_config_reloads_total{outcome=\"rejected\"}",
        1.0,
    )
    .await;
    let rejected = metric(&served, "kbgate_config_reloads_total{outcome=\"rejected\"}").await;
    signal(&served.child, "HUP");
    wait_for_metric(
        &served,
        "kbgate_config_reloads_total{outcome=\"rejected\"}",
        rejected + 1.0,
    )
    .await;
    assert_eq!(home().await.status, 200, "the old configuration stays");
    assert_eq!(get(served.admin, "/readyz", &[]).await.status, 200);

    // A valid change (the KB site switched off), picked up by the watcher.
    let off = config_text(&sim, served.addr, served.admin, false, "");
    std::fs::write(&served.config, off).unwrap();
    wait_for_metric(&served, "kbgate_config_reloads_total{outcome=\"ok\"}", 1.0).await;
    assert_eq!(home().await.status, 404, "the new configuration is live");
    // And SIGHUP reloads the same valid file again.
    signal(&served.child, "HUP");
    wait_for_metric(&served, "kbgate_config_reloads_total{outcome=\"ok\"}", 2.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for c in clients {
        failures.extend(c.await.unwrap());
    }
    let total = answered.load(Ordering::Relaxed);
    let log = std::fs::read_to_string(&served.log).unwrap();
    assert!(total >= 20, "the load ran: {total} requests");
    assert!(
        failures.is_empty(),
        "{} of {total} failed: {failures:?}",
        failures.len()
    );
    assert!(log.contains("configuration reload rejected"), "{log}");
    assert!(log.contains("configuration reloaded"), "{log}");
    eprintln!("reload under load: {total} requests, 0 failed, 2 rejected + 2 applied reloads");
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_every_in_flight_request_finish() {
    sigterm_story("sigterm", Cpus::All).await;
}

/// The same story for a process that may use one CPU: it serves on its single-threaded runtime
/// (and says so when it starts), and SIGTERM still lets every request finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_one_cpu_kbgate_runs_one_thread_and_sigterm_still_drains() {
    let served = sigterm_story("sigterm-one-cpu", Cpus::One).await;
    let log = std::fs::read_to_string(&served.log).unwrap();
    assert!(
        log.contains("one thread (one CPU available)"),
        "the startup line names the runtime:\n{log}"
    );
}

/// Twenty requests in flight when SIGTERM comes all finish with 200, then kbgate exits 0 and
/// accepts no new connection. Returns the exited process (its log stays readable).
async fn sigterm_story(name: &str, cpus: Cpus) -> Served {
    let sim = start_sim().await;
    let served = serve_on(&sim, name, "", cpus).await;
    let auth = format!("Bearer {}", token(&sim, "alice"));
    // Every upstream answer takes 1.5 s, so the requests are in flight when SIGTERM comes.
    sim.set_fault(Some(Fault::Delay(Duration::from_millis(1500))));
    let mut requests = Vec::new();
    for _ in 0..20 {
        let (addr, auth) = (served.addr, auth.clone());
        requests.push(tokio::spawn(async move {
            get(
                addr,
                "/wiki/rest/api/search?cql=type%3Dpage&limit=5",
                &[("Authorization", &auth)],
            )
            .await
            .status
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut served = served;
    signal(&served.child, "TERM");
    let mut statuses = Vec::new();
    for r in requests {
        statuses.push(r.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let exited = tokio::task::spawn_blocking(move || {
        let status = served.child.wait().unwrap();
        (status, served)
    })
    .await
    .unwrap();
    assert!(exited.0.success(), "exit status {:?}", exited.0);
    assert!(
        tokio::net::TcpStream::connect(exited.1.addr).await.is_err(),
        "no new connections after shutdown"
    );
    eprintln!("SIGTERM: 20/20 in-flight requests completed, exit 0");
    sim.shutdown();
    exited.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_audit_events_with_ids_and_never_titles() {
    let sim = start_sim().await;
    // The canary probe runs every second as acme and as globex.
    let canaries = |org: &str| {
        let own: Vec<String> = sim
            .corpus()
            .canaries_only_for(org)
            .iter()
            .map(|c| format!("{c:?}"))
            .collect();
        format!(
            "[[probe.canaries]]\norg = \"{org}\"\ntext = [{}]\n",
            own.join(", ")
        )
    };
    let probe = format!(
        "[probe]\ninterval = \"1s\"\n{}{}",
        canaries("acme"),
        canaries("globex")
    );
    let served = serve(&sim, "audit", &probe).await;
    let auth = format!("Bearer {}", token(&sim, "bob"));
    // Bob reads a page tree and searches: the answers hide other organizations' items.
    for target in [
        "/wiki/rest/api/search?cql=type%3Dpage&limit=50&expand=content.ancestors",
        "/wiki/rest/api/content/search?cql=type%3Dpage&limit=50&expand=ancestors",
    ] {
        let r = get(
            served.addr,
            target,
            &[("Authorization", &auth), ("X-Request-Id", "ops-audit-1")],
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-request-id").as_deref(), Some("ops-audit-1"));
    }
    let forwarded: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path_and_query.starts_with("/wiki/rest/api/search"))
        .collect();
    assert!(
        forwarded.iter().any(|r| r
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("x-request-id") && v == "ops-audit-1")),
        "X-Request-Id reaches Confluence"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = std::fs::read_to_string(&served.log).unwrap();
    let audits: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "kbgate::audit")
        .collect();
    assert!(!audits.is_empty(), "hidden items are audited:\n{log}");
    for a in &audits {
        assert_eq!(a["message"], "hidden", "{a}");
        assert!(
            a["content.id"].as_str().is_some_and(|id| !id.is_empty()),
            "{a}"
        );
        assert!(a["reason"].as_str().is_some(), "{a}");
        // Bob's requests' events carry his request id; the canary probe's carry its own.
        let id = a["span"]["id"].as_str().unwrap_or_default();
        assert!(id == "ops-audit-1" || id.starts_with("probe-"), "{a}");
    }
    assert!(
        audits.iter().any(|a| a["span"]["id"] == "ops-audit-1"),
        "bob's hidden items are audited under his request id"
    );
    // No title, body or canary of any item, and no token, anywhere in the logs.
    let oracle = LeakOracle::new(sim.corpus().all_canaries());
    oracle.assert_clean(log.as_bytes(), "kbgate's logs");
    let token = auth.trim_start_matches("Bearer ");
    assert!(!log.contains(token), "the token is never logged");
    assert!(!log.contains(&SimOptions::default().service_token));
    // The probe's rounds: clean, none leaking.
    wait_for_metric(
        &served,
        "kbgate_canary_probe_runs_total{outcome=\"clean\"}",
        2.0,
    )
    .await;
    for outcome in ["leak", "error", "blind"] {
        let series = format!("kbgate_canary_probe_runs_total{{outcome=\"{outcome}\"}}");
        assert_eq!(metric(&served, &series).await, 0.0, "{series}");
    }
    assert_eq!(
        metric(&served, "kbgate_canary_probe_leaks_total{org=\"acme\"}").await,
        0.0
    );
    eprintln!(
        "audit: {} hidden-item events, no canary in {} log bytes",
        audits.len(),
        log.len()
    );
    sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_during_a_reload_finishes_on_the_configuration_it_started_with() {
    let sim = start_sim().await;
    let served = serve(&sim, "inflight-reload", "").await;
    let erin = format!("Bearer {}", token(&sim, "erin"));
    let search = "/wiki/rest/api/search?cql=type%3Dpage&limit=50";
    let size = |r: &Raw| r.json()["size"].as_u64().unwrap();
    let before = get(served.addr, search, &[("Authorization", &erin)]).await;
    assert_eq!(before.status, 200);

    // Confluence answers take 2 s: a search is in flight through the reload.
    sim.set_fault(Some(Fault::Delay(Duration::from_secs(2))));
    let (addr, auth) = (served.addr, erin.clone());
    let in_flight =
        tokio::spawn(async move { get(addr, search, &[("Authorization", &auth)]).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The new configuration hides unmarked (shared) articles.
    let text = config_text(&sim, served.addr, served.admin, true, "")
        .replace("unmarked = \"shared\"", "unmarked = \"deny\"");
    assert!(text.contains("unmarked = \"deny\""));
    std::fs::write(&served.config, text).unwrap();
    signal(&served.child, "HUP");
    wait_for_metric(&served, "kbgate_config_reloads_total{outcome=\"ok\"}", 1.0).await;
    assert!(
        !in_flight.is_finished(),
        "the reload came while the request was in flight"
    );
    sim.set_fault(None);
    let after = get(served.addr, search, &[("Authorization", &erin)]).await;
    assert_eq!(after.status, 200);
    let old = in_flight.await.unwrap();
    assert_eq!(old.status, 200);
    assert!(
        size(&after) < size(&before),
        "a new request gets the new configuration: {} < {}",
        size(&after),
        size(&before)
    );
    assert_eq!(
        size(&old),
        size(&before),
        "the in-flight request finishes on the configuration it started with"
    );
    sim.shutdown();
}
