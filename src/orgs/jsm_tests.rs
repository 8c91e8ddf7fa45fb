//! The JSM index against the simulator's organizations API: paging, name mapping, caps,
//! refresh, outage within and past the staleness bound, single-flight, refused credentials.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use super::jsm::{JsmOrgs, Unavailable};
use crate::config::{JsmOrgSettings, Secret};
use crate::ids::OrgId;
use crate::sim::{self, jsm_orgs, SimHandle};

fn org(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

async fn start_sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::start(listener, sim::SimOptions::default())
        .await
        .unwrap()
}

fn settings(sim: &SimHandle) -> JsmOrgSettings {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        jsm_orgs::AGENT_EMAIL,
        jsm_orgs::AGENT_TOKEN
    ));
    JsmOrgSettings {
        base_url: sim.base_url(),
        credentials: Secret::new(format!("Basic {basic}")),
        refresh_interval: Duration::from_secs(60),
        max_staleness: Duration::from_secs(600),
        timeout: Duration::from_secs(5),
        org_map: BTreeMap::from([("Acme Corp".to_owned(), org("acme"))]),
        max_organizations: 10_000,
        max_users: 200_000,
    }
}

fn source(settings: &JsmOrgSettings, page_size: usize) -> Arc<JsmOrgs> {
    let client = crate::http_client::build(&Default::default()).unwrap();
    JsmOrgs::with_page_size(settings, client, page_size).unwrap()
}

async fn orgs_of(jsm: &Arc<JsmOrgs>, email: &str) -> Vec<&'static str> {
    let mut got: Vec<&'static str> = jsm
        .lookup(Some(email), "no-such-account")
        .await
        .unwrap()
        .iter()
        .map(|o| match o.as_str() {
            "acme" => "acme",
            "globex" => "globex",
            "initech" => "initech",
            _ => "other",
        })
        .collect();
    got.sort_unstable();
    got
}

#[tokio::test]
async fn the_index_pages_through_organizations_and_users_and_maps_names() {
    let sim = start_sim().await;
    let jsm = source(&settings(&sim), 3);
    assert!(jsm.refresh_now().await.ok);
    assert_eq!(orgs_of(&jsm, "alice@acme.example").await, vec!["acme"]);
    assert_eq!(
        orgs_of(&jsm, "Erin@Acme-Globex.example").await,
        vec!["acme", "globex"]
    );
    assert_eq!(orgs_of(&jsm, "bob@globex.example").await, vec!["globex"]);
    assert_eq!(
        orgs_of(&jsm, "carol@initech.example").await,
        vec!["initech"]
    );
    assert_eq!(
        orgs_of(&jsm, "customer-054@acme.example").await,
        vec!["acme"],
        "last page"
    );
    // Unmapped organization ("Hooli Partners"), deactivated member, unknown customer.
    assert!(orgs_of(&jsm, "hooli@hooli.example").await.is_empty());
    assert!(orgs_of(&jsm, "former@globex.example").await.is_empty());
    assert!(orgs_of(&jsm, "dave@nowhere.example").await.is_empty());
    // The accountId alone finds the customer too.
    let by_account = jsm
        .lookup(None, &jsm_orgs::account_id("bob@globex.example"))
        .await
        .unwrap();
    assert_eq!(by_account, vec![org("globex")]);

    let (stats, _) = jsm.stats().unwrap();
    assert_eq!(stats.organizations, 4);
    assert_eq!(stats.mapped, 3);
    assert_eq!(stats.users, 1 + jsm_orgs::ACME_FILLER_USERS + 3);
    // 2 organization pages; Acme's 57 users in pages of 3 = 19; Globex 3 → 1; Initech 1.
    assert_eq!(stats.requests, 2 + 19 + 1 + 1);
    assert_eq!(sim.jsm_org_fetches(), 23);
    assert!(!stats.truncated);
}

#[tokio::test]
async fn caps_truncate_the_index_and_say_so() {
    let sim = start_sim().await;
    let mut s = settings(&sim);
    s.max_organizations = 2;
    let jsm = source(&s, 50);
    assert!(jsm.refresh_now().await.ok);
    let (stats, _) = jsm.stats().unwrap();
    assert!(stats.truncated);
    assert_eq!(stats.organizations, 2);
    assert!(orgs_of(&jsm, "carol@initech.example").await.is_empty());
    assert_eq!(orgs_of(&jsm, "bob@globex.example").await, vec!["globex"]);

    let mut s = settings(&sim);
    s.max_users = 5;
    let jsm = source(&s, 50);
    assert!(jsm.refresh_now().await.ok);
    let (stats, _) = jsm.stats().unwrap();
    assert!(stats.truncated);
    assert_eq!(stats.users, 5);
}

#[tokio::test]
async fn a_refresh_picks_up_a_moved_customer() {
    let sim = start_sim().await;
    let jsm = source(&settings(&sim), 50);
    assert!(jsm.refresh_now().await.ok);
    assert_eq!(orgs_of(&jsm, "alice@acme.example").await, vec!["acme"]);
    assert!(sim.move_user_to_org("alice@acme.example", "Initech"));
    assert!(!sim.move_user_to_org("alice@acme.example", "Nope Inc"));
    // Lookups answer from the index, not JSM, until the next refresh.
    assert_eq!(orgs_of(&jsm, "alice@acme.example").await, vec!["acme"]);
    assert!(jsm.refresh_now().await.ok);
    assert_eq!(orgs_of(&jsm, "alice@acme.example").await, vec!["initech"]);
}

#[tokio::test]
async fn an_outage_keeps_the_last_good_index_until_max_staleness_then_denies() {
    let sim = start_sim().await;
    let mut s = settings(&sim);
    s.refresh_interval = Duration::from_millis(200);
    s.max_staleness = Duration::from_millis(600);
    let jsm = source(&s, 50);
    assert!(jsm.refresh_now().await.ok);
    sim.set_jsm_orgs_down(true);
    assert!(!jsm.refresh_now().await.ok);
    assert_eq!(orgs_of(&jsm, "bob@globex.example").await, vec!["globex"]);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let err = jsm
        .lookup(Some("bob@globex.example"), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Unavailable::Stale { .. }), "{err}");
    sim.set_jsm_orgs_down(false);
    // The next allowed attempt (here: explicit) brings it back.
    assert!(jsm.refresh_now().await.ok);
    assert_eq!(orgs_of(&jsm, "bob@globex.example").await, vec!["globex"]);
}

#[tokio::test]
async fn concurrent_lookups_on_an_empty_index_share_one_rebuild() {
    let sim = start_sim().await;
    let jsm = source(&settings(&sim), 50);
    let lookups = (0..20).map(|_| {
        let jsm = jsm.clone();
        async move { jsm.lookup(Some("carol@initech.example"), "x").await }
    });
    let results = futures_util::future::join_all(lookups).await;
    for r in results {
        assert_eq!(r.unwrap(), vec![org("initech")]);
    }
    assert_eq!(
        jsm.last_attempt().count,
        1,
        "one rebuild for twenty lookups"
    );
    // 1 organization page + 2 Acme pages + Globex + Initech.
    assert_eq!(sim.jsm_org_fetches(), 5);
}

#[tokio::test]
async fn refused_credentials_fail_the_rebuild_and_nothing_is_indexed() {
    let sim = start_sim().await;
    let mut s = settings(&sim);
    s.credentials = Secret::new("Basic d3Jvbmc6d3Jvbmc=".into());
    let jsm = source(&s, 50);
    assert!(!jsm.refresh_now().await.ok);
    assert!(jsm.stats().is_none());
    let err = jsm
        .lookup(Some("alice@acme.example"), "x")
        .await
        .unwrap_err();
    assert_eq!(err, Unavailable::NeverLoaded);
}

#[tokio::test]
async fn the_background_task_refreshes_and_ends_with_the_source() {
    let sim = start_sim().await;
    let mut s = settings(&sim);
    s.refresh_interval = Duration::from_millis(100);
    let jsm = source(&s, 50);
    jsm.start(Duration::from_secs(5)).await;
    assert!(jsm.last_attempt().ok);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let attempts = jsm.last_attempt().count;
    assert!(attempts >= 3, "{attempts} rebuilds in 450 ms at 100 ms");
    drop(jsm);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let fetches = sim.jsm_org_fetches();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        sim.jsm_org_fetches(),
        fetches,
        "no refresh after the source is gone"
    );
}

/// A JSM stand-in answering every request with `body` (status 200), until the test ends.
async fn fake_jsm(body: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn odd_jsm_answers_fail_the_rebuild_instead_of_looping_or_guessing() {
    for body in [
        // An empty page that claims more would page forever.
        r#"{"isLastPage":false,"values":[]}"#,
        // An organization id that would escape the path.
        r#"{"isLastPage":true,"values":[{"id":"1/../../admin","name":"Globex"}]}"#,
        // Not the documented shape.
        r#"{"isLastPage":true,"values":[{"id":1,"name":"Globex"}]}"#,
        "<html>maintenance</html>",
    ] {
        let sim_less = JsmOrgSettings {
            base_url: fake_jsm(body).await,
            ..settings_for("http://unused")
        };
        let jsm = source(&sim_less, 50);
        assert!(!jsm.refresh_now().await.ok, "{body}");
        assert!(jsm.stats().is_none(), "{body}");
    }
    // Without `isLastPage`, an empty page ends the list.
    let base_url = fake_jsm(r#"{"values":[]}"#).await;
    let jsm = source(
        &JsmOrgSettings {
            base_url,
            ..settings_for("http://unused")
        },
        50,
    );
    assert!(jsm.refresh_now().await.ok);
    assert_eq!(jsm.stats().unwrap().0.organizations, 0);
}

fn settings_for(base_url: &str) -> JsmOrgSettings {
    JsmOrgSettings {
        base_url: base_url.to_owned(),
        credentials: Secret::new("Basic eDp5".into()),
        refresh_interval: Duration::from_secs(60),
        max_staleness: Duration::from_secs(600),
        timeout: Duration::from_secs(5),
        org_map: BTreeMap::new(),
        max_organizations: 100,
        max_users: 100,
    }
}
