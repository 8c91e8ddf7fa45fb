//! Key sets that survive rotation and IdP outages (issue 4): a real listening kbgate in front
//! of the simulator, whose IdP rotates keys, re-keys a kid, goes down and comes back, and
//! counts every JWKS fetch. Every 200 is scanned by the leak oracle for other orgs' canaries.
//!
//! The figures (fetches per rotation, storm fetches) are printed; run with `--nocapture`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kbgate::app::App;
use kbgate::config::Config;
use kbgate::sim::{DemoCustomer, SimHandle, SimOptions};
use tokio::sync::watch;

use crate::support::{send_raw, LeakOracle};

/// How the stack under test is configured.
struct Setup {
    discovery: bool,
    min_interval: &'static str,
    idp_down_at_start: bool,
    discovery_issuer: Option<&'static str>,
    /// Overrides the validated value (the config file refuses less than a minute).
    max_key_staleness: Option<Duration>,
    refresh_interval: Option<Duration>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            discovery: false,
            min_interval: "1s",
            idp_down_at_start: false,
            discovery_issuer: None,
            max_key_staleness: None,
            refresh_interval: None,
        }
    }
}

/// The simulator and kbgate, built from the demo configuration edited by a [`Setup`].
struct KeyStack {
    sim: SimHandle,
    app: Arc<App>,
    addr: SocketAddr,
    alice: DemoCustomer,
    oracle: LeakOracle,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl KeyStack {
    async fn start(setup: Setup) -> KeyStack {
        let bind = || tokio::net::TcpListener::bind("127.0.0.1:0");
        let sim = kbgate::sim::start(bind().await.unwrap(), SimOptions::default())
            .await
            .unwrap();
        sim.set_idp_down(setup.idp_down_at_start);
        sim.set_idp_discovery_issuer(setup.discovery_issuer.map(str::to_owned));
        let listener = bind().await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut toml = kbgate::demo::config_toml(&sim, addr, &format!("http://{addr}"));
        toml = toml.replace(
            r#"jwks_refresh_min_interval = "1s""#,
            &format!(r#"jwks_refresh_min_interval = "{}""#, setup.min_interval),
        );
        if setup.discovery {
            let by_url = format!(r#"jwks_url = "{}""#, sim.jwks_url());
            assert!(toml.contains(&by_url), "{toml}");
            toml = toml.replace(&by_url, "discovery = true");
        }
        let token = SimOptions::default().service_token;
        let env = move |name: &str| match name {
            "KBGATE_DEMO_SERVICE_TOKEN" => Some(token.clone()),
            "KBGATE_DEMO_WEBHOOK_SECRET" => Some(kbgate::demo::WEBHOOK_SECRET.to_owned()),
            // Any other demo secret (session signing, …): a long test value.
            other if other.starts_with("KBGATE_DEMO_") => {
                Some("keys-test-secret-0123456789-abcdefghij".to_owned())
            }
            _ => None,
        };
        let mut config = Config::from_toml(&toml, Path::new("keys.toml"), &env).unwrap();
        let issuer = &mut config.auth.issuers[0];
        if let Some(bound) = setup.max_key_staleness {
            issuer.max_key_staleness = bound;
        }
        if let Some(interval) = setup.refresh_interval {
            issuer.refresh_interval = interval;
        }
        let app = Arc::new(App::build(&config).await.unwrap());
        let options = kbgate::app::server_options(&config).unwrap();
        let (stop, mut stopped) = watch::channel(false);
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let server = tokio::spawn(kbgate::app::serve(app.clone(), listener, options, shutdown));
        let alice = kbgate::demo::customers()
            .into_iter()
            .find(|c| c.name == "alice")
            .unwrap();
        let oracle = LeakOracle::new(sim.corpus().forbidden_canaries_for(&["acme"]));
        KeyStack {
            sim,
            app,
            addr,
            alice,
            oracle,
            stop,
            server,
        }
    }

    /// A fresh token for alice, signed with the IdP's current key.
    fn token(&self) -> String {
        self.sim.mint_token(
            &self.alice,
            kbgate::demo::AUDIENCE,
            Duration::from_secs(600),
        )
    }

    /// alice's claims, for tokens minted by hand.
    fn claims(&self) -> serde_json::Value {
        kbgate::sim::idp::customer_claims(
            &self.alice,
            &self.sim.issuer(),
            kbgate::demo::AUDIENCE,
            Duration::from_secs(600),
        )
    }

    /// GET a shared page with `token`; the status (every answer scanned by the oracle).
    async fn status(&self, token: &str) -> u16 {
        let request = format!(
            "GET /wiki/rest/api/content/100001 HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        let raw = send_raw(self.addr, request.as_bytes()).await;
        self.oracle
            .assert_clean(&raw.bytes, "alice GET /wiki/rest/api/content/100001");
        raw.status
    }

    fn fetches(&self) -> u64 {
        self.sim.jwks_fetches()
    }

    /// The age of the one issuer's keys, as kbgate reports it for readiness.
    fn key_age(&self) -> Option<Duration> {
        let status = self.app.verifier.key_status();
        assert_eq!(status.len(), 1);
        status[0].1
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        self.sim.shutdown();
    }
}

/// Waits past the on-demand rate limit of the default [`Setup`] (1 s).
async fn past_rate_limit() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rotation_costs_one_refetch_and_a_dropped_key_stops_working() {
    let s = KeyStack::start(Setup::default()).await;
    let old = s.token();
    assert_eq!(s.status(&old).await, 200);
    assert_eq!(s.fetches(), 1, "one fetch at start-up");

    // A new kid, old key kept: one refetch, then 200 without further fetches.
    past_rate_limit().await;
    let new_kid = s.sim.rotate_idp_key(true).unwrap();
    let new = s.token();
    assert_eq!(s.status(&new).await, 200);
    assert_eq!(s.status(&new).await, 200);
    assert_eq!(s.status(&old).await, 200, "the old key is still published");
    let new_kid_fetches = s.fetches() - 1;
    assert_eq!(new_kid_fetches, 1, "new kid {new_kid}");

    // The same kid, new key material: the signature fails on the known kid, one refetch, 200.
    past_rate_limit().await;
    let before = s.fetches();
    let same_kid = s.sim.rekey_idp_key().unwrap();
    assert_eq!(same_kid, new_kid);
    let rekeyed = s.token();
    assert_ne!(rekeyed, new);
    assert_eq!(s.status(&rekeyed).await, 200);
    assert_eq!(s.status(&rekeyed).await, 200);
    let rekey_fetches = s.fetches() - before;
    assert_eq!(rekey_fetches, 1);
    // A token signed with the replaced key no longer verifies, cached or not.
    assert_eq!(s.status(&new).await, 401);

    // The old key dropped: its tokens (verified and cached earlier) now get 401.
    past_rate_limit().await;
    let before = s.fetches();
    s.sim.rotate_idp_key(false).unwrap();
    let newest = s.token();
    assert_eq!(s.status(&newest).await, 200);
    assert_eq!(s.fetches() - before, 1);
    assert_eq!(s.status(&old).await, 401);
    assert_eq!(s.status(&rekeyed).await, 401);
    println!(
        "rotation figures: new kid → {new_kid_fetches} refetch then 200; same kid with a new key → \
         {rekey_fetches} refetch then 200; dropped keys → 401 (cached tokens included)"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_random_kids_is_rate_limited_refused_and_does_not_disturb_real_tokens() {
    let s = KeyStack::start(Setup {
        min_interval: "2s",
        ..Setup::default()
    })
    .await;
    let legit = s.token();
    assert_eq!(s.status(&legit).await, 200);
    // Tokens correctly signed by the IdP's own key, under kids it never published.
    let claims = s.claims();
    let forged: Vec<String> = tokio::task::spawn_blocking(move || {
        (0..1000)
            .map(|_| {
                let kid = format!("storm-{:016x}", rand::random::<u64>());
                kbgate::sim::mint_with(&claims, &kid)
            })
            .collect()
    })
    .await
    .unwrap();

    // Paced over ~8 s, so the storm spans several rate-limit windows.
    let requests: Vec<(bool, &str)> = forged
        .iter()
        .enumerate()
        .flat_map(|(i, token)| {
            let real = (i % 25 == 0).then_some((true, legit.as_str()));
            real.into_iter().chain([(false, token.as_str())])
        })
        .collect();
    let before = s.fetches();
    let started = Instant::now();
    let mut answers: Vec<(bool, u16)> = Vec::new();
    for (n, wave) in requests.chunks(104).enumerate() {
        tokio::time::sleep_until((started + Duration::from_millis(800) * n as u32).into()).await;
        let sent = wave.iter().map(|&(is_real, token)| {
            let s = &s;
            async move { (is_real, s.status(token).await) }
        });
        answers.extend(
            futures_util::stream::iter(sent)
                .buffer_unordered(16)
                .collect::<Vec<_>>()
                .await,
        );
    }
    let elapsed = started.elapsed();
    let fetches = s.fetches() - before;

    let forged_statuses: Vec<u16> = answers.iter().filter(|a| !a.0).map(|a| a.1).collect();
    let real_statuses: Vec<u16> = answers.iter().filter(|a| a.0).map(|a| a.1).collect();
    assert_eq!(forged_statuses.len(), 1000);
    assert!(
        forged_statuses.iter().all(|s| *s == 401),
        "a forged kid was not refused"
    );
    assert_eq!(real_statuses.len(), 40);
    assert!(real_statuses.iter().all(|s| *s == 200), "{real_statuses:?}");
    assert!(elapsed < Duration::from_secs(10), "storm took {elapsed:?}");
    // At most one fetch per started 2 s rate-limit window.
    let bound = elapsed.as_secs() / 2 + 1;
    assert!(fetches <= bound, "{fetches} JWKS fetches in {elapsed:?}");
    println!(
        "kid storm: 1000 random-kid tokens + 40 real ones in {:.1} s → {fetches} upstream JWKS \
         fetch(es) (rate limit: 1 per 2 s), 0 forged accepted, 40/40 real answered 200",
        elapsed.as_secs_f64()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_idp_down_at_start_tokens_get_503_until_keys_arrive() {
    let s = KeyStack::start(Setup {
        idp_down_at_start: true,
        ..Setup::default()
    })
    .await;
    let token = s.token();
    for _ in 0..5 {
        assert_eq!(s.status(&token).await, 503, "never 200 without keys");
    }
    assert_eq!(s.key_age(), None);
    s.sim.set_idp_down(false);
    past_rate_limit().await;
    assert_eq!(s.status(&token).await, 200);
    assert!(s.key_age().is_some());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_keys_outlive_an_outage_only_up_to_the_staleness_bound() {
    let bound = Duration::from_secs(2);
    let s = KeyStack::start(Setup {
        max_key_staleness: Some(bound),
        ..Setup::default()
    })
    .await;
    let token = s.token();
    assert_eq!(s.status(&token).await, 200);
    s.sim.set_idp_down(true);
    let fresh_token = s.token();
    let mut served_after_down = 0;
    let mut first_503 = None;
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        let age_before = s.key_age();
        let status = s
            .status(if served_after_down % 2 == 0 {
                &token
            } else {
                &fresh_token
            })
            .await;
        match (status, first_503) {
            (200, None) => {
                let age = age_before.expect("keys while 200");
                assert!(age <= bound, "200 with keys {age:?} old");
                served_after_down += 1;
            }
            (503, None) => first_503 = Some(age_before),
            (503, Some(_)) => {}
            (other, _) => panic!("{other} while the IdP is down (after a 503: never 200)"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(served_after_down >= 3, "the last good keys kept working");
    assert!(first_503.is_some(), "stale keys were dropped");
    assert_eq!(s.key_age(), None);
    s.sim.set_idp_down(false);
    past_rate_limit().await;
    assert_eq!(s.status(&token).await, 200);
    assert_eq!(s.status(&fresh_token).await, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_refresh_picks_up_a_rotation_before_any_token_needs_it() {
    let s = KeyStack::start(Setup {
        refresh_interval: Some(Duration::from_secs(1)),
        min_interval: "60s",
        ..Setup::default()
    })
    .await;
    assert_eq!(s.status(&s.token()).await, 200);
    s.sim.rotate_idp_key(false).unwrap();
    let before = s.fetches();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(s.fetches() > before, "no background fetch");
    // The on-demand refetch is rate-limited to once a minute: only the background fetch can
    // have brought the new key.
    let before = s.fetches();
    assert_eq!(s.status(&s.token()).await, 200);
    assert!(s.fetches() - before <= 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_configured_by_discovery_works_end_to_end() {
    let s = KeyStack::start(Setup {
        discovery: true,
        ..Setup::default()
    })
    .await;
    assert_eq!(s.status(&s.token()).await, 200);
    let iss = s.sim.issuer();
    let meta = s.app.verifier.discovery(&iss).expect("provider metadata");
    assert_eq!(meta.issuer, iss);
    assert_eq!(meta.jwks_uri.to_string(), s.sim.jwks_url());
    assert_eq!(
        meta.authorization_endpoint.to_string(),
        format!("{iss}/authorize")
    );
    assert_eq!(
        meta.token_endpoint.as_ref().map(ToString::to_string),
        Some(format!("{iss}/token"))
    );
    // Rotation works the same through discovery.
    past_rate_limit().await;
    s.sim.rotate_idp_key(false).unwrap();
    assert_eq!(s.status(&s.token()).await, 200);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let s = KeyStack::start(Setup {
        discovery: true,
        discovery_issuer: Some("https://evil.example"),
        ..Setup::default()
    })
    .await;
    let token = s.token();
    assert_eq!(s.status(&token).await, 503);
    assert_eq!(
        s.fetches(),
        0,
        "the JWKS named by a foreign document is never fetched"
    );
    assert!(s.app.verifier.discovery(&s.sim.issuer()).is_none());
    assert_eq!(s.key_age(), None);
    // Fixed at the provider: the next fetch succeeds.
    s.sim.set_idp_discovery_issuer(None);
    past_rate_limit().await;
    assert_eq!(s.status(&token).await, 200);
    s.stop().await;
}
