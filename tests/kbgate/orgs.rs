//! Organizations from every source, through a real kbgate in front of the simulator: JSM
//! customer organizations for tokens that carry no organization claim, groups through the
//! group map, the Entra ID groups overage refused before anything is forwarded, the static map
//! file, a JSM refresh that picks up a moved customer, and JSM outages — after warm-up (the last
//! good index until `max_staleness`, then 503) and at start (503 for customers only JSM knows,
//! never another organization's article). Every answer goes through the leak oracle.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kbgate::demo::{self, DemoStack};
use kbgate::sim::{SimHandle, SimOptions};

use crate::support::{send_raw, LeakOracle, Raw};

/// Articles probed for every customer: acme, globex, acme+globex, initech (subtree root and
/// label), the label articles, the shared home page.
const PROBES: [&str; 8] = [
    "100005", "100006", "100011", "200000", "100026", "100027", "100028", "100001",
];
const ACME_PAGE: &str = "100005";
const GLOBEX_PAGE: &str = "100006";
/// The `[orgs]` section of the generated demo configuration, replaced by each story.
const DEMO_ORGS: &str = "[orgs]\nclaim = \"kb_orgs\"\n";

async fn stack(orgs: String, before: impl FnOnce(&SimHandle)) -> DemoStack {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    DemoStack::start_edited(any, any, SimOptions::default(), |sim, toml| {
        before(sim);
        assert!(toml.contains(DEMO_ORGS), "the demo config has changed");
        toml.replace(DEMO_ORGS, &orgs)
    })
    .await
    .expect("stack starts")
}

/// A customer as tokens name them: no `kb_orgs` claim unless `extra` adds one.
struct Who {
    name: &'static str,
    token: String,
    oracle: LeakOracle,
    visible: Vec<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A customer whose token carries `extra` claims on top of iss/aud/sub/email/iat/nbf/exp, and
/// whose oracle is that of `orgs` (what they are entitled to see).
fn who(s: &DemoStack, name: &'static str, orgs: &[&str], extra: serde_json::Value) -> Who {
    let domain = match name {
        "alice" => "acme.example",
        "bob" => "globex.example",
        "carol" => "initech.example",
        "erin" => "acme-globex.example",
        _ => "nowhere.example",
    };
    let mut claims = serde_json::json!({
        "iss": s.sim.issuer(),
        "aud": demo::AUDIENCE,
        "sub": format!("demo|{name}"),
        "email": format!("{name}@{domain}"),
        "iat": now(),
        "nbf": now(),
        "exp": now() + 600,
    });
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let corpus = s.sim.corpus();
    Who {
        name,
        token: s.sim.mint_claims(&claims),
        oracle: LeakOracle::new(corpus.forbidden_canaries_for(orgs)),
        visible: corpus.visible_ids_for(orgs),
    }
}

impl Who {
    async fn get(&self, s: &DemoStack, target: &str) -> Raw {
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            s.addr, self.token
        );
        let raw = send_raw(s.addr, req.as_bytes()).await;
        self.oracle
            .assert_clean(&raw.bytes, &format!("{} GET {target}", self.name));
        raw
    }

    async fn page(&self, s: &DemoStack, id: &str) -> u16 {
        self.get(s, &format!("/wiki/rest/api/content/{id}"))
            .await
            .status
    }

    /// Every probe answers 200 exactly when the page is visible to the customer's orgs.
    async fn sees_exactly_their_articles(&self, s: &DemoStack) {
        for id in PROBES {
            let want = if self.visible.iter().any(|v| v == id) {
                200
            } else {
                404
            };
            assert_eq!(self.page(s, id).await, want, "{} page {id}", self.name);
        }
        let search = "/wiki/rest/api/search?cql=type%3Dpage&limit=100";
        assert_eq!(
            self.get(s, search).await.status,
            200,
            "{} search",
            self.name
        );
    }
}

fn jsm_only(refresh: &str, staleness: &str) -> String {
    format!(
        "[orgs]\nsources = [\"jsm\"]\n\n{}",
        demo::jsm_orgs_toml(refresh, staleness)
    )
}

fn wiki_requests(sim: &SimHandle) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.path_and_query.starts_with("/wiki"))
        .count()
}

#[tokio::test]
async fn customers_whose_tokens_carry_no_org_claim_get_their_jsm_organizations_articles() {
    let s = stack(jsm_only("5m", "1h"), |_| {}).await;
    let fetches = s.sim.jsm_org_fetches();
    assert!(
        fetches >= 4,
        "the index was loaded at start ({fetches} requests)"
    );
    for (name, orgs) in [
        ("alice", &["acme"][..]),
        ("bob", &["globex"]),
        ("carol", &["initech"]),
        ("erin", &["acme", "globex"]),
        ("dave", &[]),
    ] {
        let c = who(&s, name, orgs, serde_json::json!({}));
        c.sees_exactly_their_articles(&s).await;
    }
    assert_eq!(
        s.sim.jsm_org_fetches(),
        fetches,
        "requests are answered from the index, never by asking JSM"
    );
    s.stop().await;
}

#[tokio::test]
async fn groups_map_to_organizations_and_an_overage_is_refused_before_anything_is_forwarded() {
    let orgs = "[orgs]\ngroups_claim = \"groups\"\n\n[orgs.groups]\n\
                \"kb-acme\" = [\"acme\"]\n\"6f1c2a9e-globex-object-id\" = [\"globex\"]\n";
    let s = stack(orgs.to_owned(), |_| {}).await;
    let alice = who(
        &s,
        "alice",
        &["acme"],
        serde_json::json!({"groups": ["kb-acme", "staff"]}),
    );
    alice.sees_exactly_their_articles(&s).await;
    let bob = who(
        &s,
        "bob",
        &["globex"],
        serde_json::json!({"groups": ["6f1c2a9e-globex-object-id"]}),
    );
    bob.sees_exactly_their_articles(&s).await;

    // Entra ID: too many groups → no `groups`, `_claim_names` points at Graph instead.
    let overage = who(
        &s,
        "erin",
        &[],
        serde_json::json!({
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}},
        }),
    );
    s.sim.clear_requests();
    for id in [ACME_PAGE, GLOBEX_PAGE, "100001"] {
        let raw = overage
            .get(&s, &format!("/wiki/rest/api/content/{id}"))
            .await;
        assert_eq!(
            raw.status,
            403,
            "overage: {}",
            String::from_utf8_lossy(&raw.body)
        );
        let body = String::from_utf8_lossy(&raw.body);
        assert!(
            body.contains("too many groups"),
            "the reason is given: {body}"
        );
    }
    assert_eq!(
        wiki_requests(&s.sim),
        0,
        "nothing forwarded for an overage token"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_static_file_maps_emails_and_subjects_to_organizations() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("orgs-static-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kb-orgs.toml");
    let s = stack(
        format!("[orgs]\nstatic_file = {:?}\n", file.display().to_string()),
        |sim| {
            // Written before kbgate starts; alice is deliberately not in her domain's org.
            let text = format!(
                "[emails]\n\"ALICE@acme.example\" = [\"globex\"]\n\n[subjects.{:?}]\n\"demo|carol\" = [\"initech\"]\n",
                sim.issuer()
            );
            std::fs::write(&file, text).unwrap();
        },
    )
    .await;
    who(&s, "alice", &["globex"], serde_json::json!({}))
        .sees_exactly_their_articles(&s)
        .await;
    // carol's email is not listed: her (issuer, sub) is.
    who(&s, "carol", &["initech"], serde_json::json!({}))
        .sees_exactly_their_articles(&s)
        .await;
    who(&s, "bob", &[], serde_json::json!({}))
        .sees_exactly_their_articles(&s)
        .await;
    s.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_jsm_refresh_picks_up_a_moved_customer_after_the_refresh_interval() {
    let s = stack(jsm_only("300ms", "1h"), |_| {}).await;
    let before = who(&s, "alice", &["acme"], serde_json::json!({}));
    before.sees_exactly_their_articles(&s).await;

    assert!(s.sim.move_user_to_org("alice@acme.example", "Globex"));
    let moved = Instant::now();
    // While the change propagates alice sees acme's or globex's view, never anything else.
    let either = who(&s, "alice", &["acme", "globex"], serde_json::json!({}));
    loop {
        if either.page(&s, GLOBEX_PAGE).await == 200 {
            break;
        }
        assert!(
            moved.elapsed() < Duration::from_secs(10),
            "the move was never picked up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = moved.elapsed();
    println!(
        "figure: moved JSM customer picked up after {} ms (refresh 300 ms)",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    who(&s, "alice", &["globex"], serde_json::json!({}))
        .sees_exactly_their_articles(&s)
        .await;
    s.stop().await;
}

#[tokio::test]
async fn jsm_down_after_warm_up_serves_the_last_good_index_until_max_staleness_then_503() {
    let s = stack(jsm_only("200ms", "1500ms"), |_| {}).await;
    let bob = who(&s, "bob", &["globex"], serde_json::json!({}));
    bob.sees_exactly_their_articles(&s).await;

    s.sim.set_jsm_orgs_down(true);
    let down = Instant::now();
    assert_eq!(
        bob.page(&s, GLOBEX_PAGE).await,
        200,
        "the last good index still answers"
    );
    let mut last_ok = Duration::ZERO;
    loop {
        match bob.page(&s, GLOBEX_PAGE).await {
            200 => last_ok = down.elapsed(),
            503 => break,
            other => panic!("unexpected {other}"),
        }
        assert!(down.elapsed() < Duration::from_secs(10), "never went stale");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stale_at = down.elapsed();
    println!(
        "figure: JSM down → last 200 at {} ms, first 503 at {} ms (max_staleness 1500 ms, refresh 200 ms)",
        last_ok.as_millis(),
        stale_at.as_millis()
    );
    assert!(stale_at >= Duration::from_millis(900), "{stale_at:?}");
    assert!(stale_at <= Duration::from_millis(2500), "{stale_at:?}");

    s.sim.clear_requests();
    for id in PROBES {
        let raw = bob.get(&s, &format!("/wiki/rest/api/content/{id}")).await;
        assert_eq!(raw.status, 503, "page {id} while JSM is stale");
        assert!(String::from_utf8_lossy(&raw.body).contains("organization"));
    }
    assert_eq!(wiki_requests(&s.sim), 0, "nothing forwarded while stale");

    s.sim.set_jsm_orgs_down(false);
    let up = Instant::now();
    while bob.page(&s, GLOBEX_PAGE).await != 200 {
        assert!(up.elapsed() < Duration::from_secs(10), "never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "figure: JSM back → 200 again after {} ms",
        up.elapsed().as_millis()
    );
    bob.sees_exactly_their_articles(&s).await;
    s.stop().await;
}

#[tokio::test]
async fn jsm_down_at_start_gives_503_to_customers_only_jsm_knows_and_never_another_orgs_article() {
    let orgs = format!(
        "[orgs]\nclaim = \"kb_orgs\"\nsources = [\"claim\", \"jsm\"]\n\n{}",
        demo::jsm_orgs_toml("300ms", "1h")
    );
    let s = stack(orgs, |sim| sim.set_jsm_orgs_down(true)).await;
    // Known by the claim: JSM is never needed.
    who(
        &s,
        "alice",
        &["acme"],
        serde_json::json!({"kb_orgs": ["acme"]}),
    )
    .sees_exactly_their_articles(&s)
    .await;
    // Known only to JSM: 503 on every article, shared ones included, and nothing forwarded.
    let bob = who(&s, "bob", &["globex"], serde_json::json!({}));
    s.sim.clear_requests();
    for id in PROBES {
        let raw = bob.get(&s, &format!("/wiki/rest/api/content/{id}")).await;
        assert_eq!(
            raw.status,
            503,
            "page {id}: {}",
            String::from_utf8_lossy(&raw.body)
        );
    }
    let search = bob.get(&s, "/wiki/rest/api/search?cql=type%3Dpage").await;
    assert_eq!(search.status, 503);
    assert_eq!(
        wiki_requests(&s.sim),
        0,
        "nothing forwarded for an undecided customer"
    );

    s.sim.set_jsm_orgs_down(false);
    let up = Instant::now();
    while bob.page(&s, GLOBEX_PAGE).await != 200 {
        assert!(up.elapsed() < Duration::from_secs(10), "never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "figure: JSM up after a down start → 200 after {} ms",
        up.elapsed().as_millis()
    );
    bob.sees_exactly_their_articles(&s).await;
    s.stop().await;
}
