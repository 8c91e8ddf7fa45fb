//! Browser sign-in, told as a browser would live it: kbgate sends the browser to the simulated
//! provider, the provider sends it back with a code, kbgate sets a session, and the session
//! reads the KB like a bearer token — then every way to cheat that dance fails. Redirects are
//! followed by hand with the raw client; the leak oracle scans every answer.

#[path = "login_browser.rs"]
mod browser;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::Sha256;

use crate::support::{send_raw, Stack};
use browser::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_customers_sign_in_and_their_sessions_read_their_own_kb() {
    let stack = Stack::start().await;
    let mut seen = Vec::new();
    for name in ["alice", "bob"] {
        let mut b = Browser::new(&stack, name);
        let done = b.sign_in(SEARCH).await;
        assert_eq!(done.status, 302);
        assert_eq!(location(&done), SEARCH, "back where the customer started");
        let session = set_cookie_lines(&done)
            .into_iter()
            .find(|c| c.starts_with("__Host-kbgate="))
            .expect("a session cookie");
        for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(session.contains(attr), "{session} lacks {attr}");
        }
        assert!(
            !session.contains("Domain="),
            "__Host- cookies have no Domain"
        );
        assert!(
            session.len() < 1024,
            "session cookie is {} bytes",
            session.len()
        );
        assert!(
            !b.jar.contains_key("__Host-kbgate-login"),
            "login cookie cleared"
        );

        let raw = b.request("GET", SEARCH, "application/json").await;
        assert_eq!(raw.status, 200, "{}", String::from_utf8_lossy(&raw.body));
        let ids = ids_of(&raw);
        assert!(!ids.is_empty());
        for id in &ids {
            assert!(b.customer.visible.contains(id), "{name} sees hidden {id}");
        }
        // The same answer as with the customer's bearer token.
        let bearer = b.customer.get(&stack, SEARCH).await;
        assert_eq!(
            ids_of(&bearer),
            ids,
            "{name}: session and token see the same KB"
        );
        seen.push(ids);
    }
    assert_ne!(
        seen[0], seen[1],
        "alice and bob see different knowledge bases"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_clients_get_401_and_browsers_are_sent_to_sign_in() {
    let stack = Stack::start().await;
    let mut b = Browser::new(&stack, "alice");
    let api = b.request("GET", SEARCH, "application/json").await;
    assert_eq!(api.status, 401);
    assert!(api.header("www-authenticate").is_some());
    let any = b.request("GET", SEARCH, "*/*").await;
    assert_eq!(any.status, 401, "curl's default Accept is not a browser");

    let nav = b.get(SEARCH).await;
    assert_eq!(nav.status, 302);
    let to = location(&nav);
    assert!(to.starts_with("/_kbgate/login?rd="), "{to}");
    assert_eq!(query_param(&to, "rd").as_deref(), Some(SEARCH));

    // A bearer token always wins, even from a browser.
    let c = stack.customer("alice");
    let raw = get_as(
        &stack,
        "alice",
        SEARCH,
        &[("Authorization", &c.auth()), ("Accept", HTML)],
    )
    .await;
    assert_eq!(raw.status, 200);
    // A broken bearer token from a browser is a 401, never a detour through sign-in.
    let raw = get_as(
        &stack,
        "alice",
        SEARCH,
        &[("Authorization", "Bearer x.y.z"), ("Accept", HTML)],
    )
    .await;
    assert_eq!(raw.status, 401);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kbgate_always_asks_for_pkce_s256_and_the_provider_refuses_a_downgrade() {
    let stack = Stack::start().await;
    let mut b = Browser::new(&stack, "alice");
    let authorize = b.start("/").await;
    let challenge = query_param(&authorize, "code_challenge").unwrap();
    assert_eq!(challenge.len(), 43, "BASE64URL(SHA-256) of the verifier");
    assert_eq!(
        query_param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&authorize, "response_type").as_deref(),
        Some("code")
    );
    let state = query_param(&authorize, "state").unwrap();
    let nonce = query_param(&authorize, "nonce").unwrap();
    assert!(state.len() >= 43 && nonce.len() >= 43 && state != nonce);

    // No challenge, or `plain`: the provider refuses (and kbgate never sends either).
    let without = authorize.replace(&format!("code_challenge={challenge}"), "x=1");
    let raw = b.at_provider_raw(&without).await;
    assert_eq!(raw.status, 400);
    let plain = authorize.replace("code_challenge_method=S256", "code_challenge_method=plain");
    let raw = b.at_provider_raw(&plain).await;
    assert_eq!(raw.status, 400);

    // An attacker swaps in a challenge of their own: kbgate's verifier no longer fits, the
    // code is not redeemed, and no session is set.
    let mine = URL_SAFE_NO_PAD.encode(<Sha256 as sha2::Digest>::digest(b"attacker verifier"));
    let swapped = authorize.replace(&challenge, &mine);
    let callback = b.at_provider(&swapped, "").await;
    let raw = b.get(&callback).await;
    assert_eq!(raw.status, 502, "{}", String::from_utf8_lossy(&raw.body));
    assert!(b.session().is_none());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_another_state_or_replayed_is_refused() {
    let stack = Stack::start().await;
    // State mismatch.
    let mut b = Browser::new(&stack, "alice");
    let authorize = b.start("/").await;
    let callback = b.at_provider(&authorize, "").await;
    let state = query_param(&callback, "state").unwrap();
    let forged = callback.replace(
        &format!("state={state}"),
        "state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    let raw = b.get(&forged).await;
    assert_eq!(raw.status, 400);
    assert!(b.session().is_none());
    assert!(
        !b.jar.contains_key("__Host-kbgate-login"),
        "a failed callback clears the login cookie"
    );

    // Replay: the same callback twice with the same login cookie.
    let mut b = Browser::new(&stack, "alice");
    let authorize = b.start("/").await;
    let login_cookie = b.jar.get("__Host-kbgate-login").unwrap().clone();
    let callback = b.at_provider(&authorize, "").await;
    assert_eq!(b.get(&callback).await.status, 302);
    assert!(b.session().is_some());
    let mut replay = Browser::new(&stack, "alice");
    replay
        .jar
        .insert("__Host-kbgate-login".into(), login_cookie);
    let raw = replay.get(&callback).await;
    assert_eq!(raw.status, 400, "a login cookie works once");
    assert!(replay.session().is_none());
    // Replay without any cookie (another browser, or the cookie cleared).
    let mut other = Browser::new(&stack, "bob");
    let raw = other.get(&callback).await;
    assert_eq!(raw.status, 400);
    assert!(other.session().is_none());
    // A callback with no state at all.
    let mut b = Browser::new(&stack, "alice");
    let authorize = b.start("/").await;
    let callback = b.at_provider(&authorize, "").await;
    let no_state = callback.replace(
        &format!("state={}", query_param(&callback, "state").unwrap()),
        "",
    );
    assert_eq!(b.get(&no_state).await.status, 400);
    assert!(b.session().is_none());
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_tokens_without_our_nonce_or_audience_and_foreign_iss_are_refused() {
    let stack = Stack::start().await;
    for (fault, status) in [
        ("no_nonce", 401),
        ("wrong_nonce", 401),
        ("wrong_aud", 401),
        ("wrong_iss", 400),
    ] {
        let mut b = Browser::new(&stack, "alice");
        let authorize = b.start("/").await;
        let callback = b
            .at_provider(&authorize, &format!("&sim_fault={fault}"))
            .await;
        let raw = b.get(&callback).await;
        assert_eq!(
            raw.status,
            status,
            "{fault}: {}",
            String::from_utf8_lossy(&raw.body)
        );
        assert!(b.session().is_none(), "{fault} set a session");
    }
    // Without `iss` in the response (the provider does not promise RFC 9207), sign-in works.
    let mut b = Browser::new(&stack, "alice");
    let authorize = b.start("/").await;
    let callback = b.at_provider(&authorize, "&sim_fault=no_iss").await;
    assert_eq!(b.get(&callback).await.status, 302);
    assert!(b.session().is_some());
    stack.stop().await;
}

/// threats.md S1, through the real stack: each `rd` ends at `/` after signing in.
const OPEN_REDIRECTS: &[&str] = &[
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\/evil.com",
    "/%09/evil.com",
    "/%5cevil.com",
    "/%5Cevil.com",
    "/%2f%2fevil.com",
    "/%2F/evil.com",
    "/%252f%252fevil.com",
    "https:evil.com",
    "https://evil.com",
    "http://kbgate@evil.com",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%0a/evil.com",
    "/%0a/evil.com",
    "/%0d%0aLocation:%20https://evil.com",
    "\t//evil.com",
    " /evil.com",
    "/ /evil.com",
    "evil%E3%80%82com",
    "//evil%E3%80%82com",
    "/\u{3002}evil.com",
    "/\\/evil.com",
    "/#//evil.com",
    "//%09evil.com",
    "/%00/evil.com",
    "evil.com",
    "",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_open_redirect_of_the_corpus_lands_on_the_root_after_sign_in() {
    let stack = Stack::start().await;
    assert!(OPEN_REDIRECTS.len() >= 20);
    for case in OPEN_REDIRECTS {
        let mut b = Browser::new(&stack, "alice");
        let done = b.sign_in(case).await;
        assert_eq!(done.status, 302, "{case:?}");
        assert_eq!(location(&done), "/", "{case:?} was let through");
    }
    // And a plain relative path is kept.
    let mut b = Browser::new(&stack, "alice");
    let done = b.sign_in("/wiki/rest/api/content/100001").await;
    assert_eq!(location(&done), "/wiki/rest/api/content/100001");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_foreign_expired_and_doubled_session_cookies_are_not_accepted() {
    let stack = Stack::start().await;
    let issuer = stack.inner.sim.issuer();
    let secret = kbgate::demo::SESSION_SECRET;
    let claims = |iss: &str, iat_ms: u64, exp: u64| {
        serde_json::json!({"sid": "dGVzdHNlc3Npb24", "iss": iss, "sub": "demo|alice",
            "email": "alice@acme.example", "orgs": ["acme"], "iat": iat_ms, "exp": exp})
    };
    let good = forge_session(secret, &claims(&issuer, now() * 1000, now() + 600));
    let try_cookie = |cookie: String| {
        let stack = &stack;
        async move {
            let header = format!("__Host-kbgate={cookie}");
            get_as(
                stack,
                "alice",
                SEARCH,
                &[("Cookie", &header), ("Accept", "application/json")],
            )
            .await
            .status
        }
    };
    assert_eq!(try_cookie(good.clone()).await, 200, "positive control");

    let mut flipped = good.clone().into_bytes();
    let i = flipped.len() / 3;
    flipped[i] = if flipped[i] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        try_cookie(String::from_utf8(flipped).unwrap()).await,
        401,
        "flipped byte"
    );
    assert_eq!(
        try_cookie(good[..good.len() - 2].to_owned()).await,
        401,
        "truncated"
    );
    let other_secret = forge_session(
        "another-deployment-secret-0123456789",
        &claims(&issuer, now() * 1000, now() + 600),
    );
    assert_eq!(try_cookie(other_secret).await, 401, "other secret");
    let expired = forge_session(secret, &claims(&issuer, (now() - 7200) * 1000, now() - 60));
    assert_eq!(try_cookie(expired).await, 401, "expired");
    let foreign = forge_session(
        secret,
        &claims("https://other-idp.example", now() * 1000, now() + 600),
    );
    assert_eq!(try_cookie(foreign).await, 401, "another issuer");
    let too_long = forge_session(
        secret,
        &claims(&issuer, now() * 1000, now() + 30 * 24 * 3600),
    );
    assert_eq!(
        try_cookie(too_long).await,
        401,
        "a life longer than session_ttl"
    );
    let wider = forge_session(secret, &{
        let mut c = claims(&issuer, now() * 1000, now() + 600);
        c["groups"] = serde_json::json!(["admins"]);
        c
    });
    assert_eq!(try_cookie(wider).await, 401, "unknown members");

    // Two session cookies (cookie tossing): refused, not guessed.
    let header = format!("__Host-kbgate={good}; __Host-kbgate={good}");
    let raw = get_as(
        &stack,
        "alice",
        SEARCH,
        &[("Cookie", &header), ("Accept", "application/json")],
    )
    .await;
    assert_eq!(raw.status, 401);
    // A refused cookie from a browser: sent to sign in, and the cookie is cleared.
    let header = format!("__Host-kbgate={}", &good[..good.len() - 2]);
    let raw = get_as(
        &stack,
        "alice",
        SEARCH,
        &[("Cookie", &header), ("Accept", HTML)],
    )
    .await;
    assert_eq!(raw.status, 302);
    assert!(set_cookie_lines(&raw)
        .iter()
        .any(|c| c.starts_with("__Host-kbgate=;") && c.contains("Max-Age=0")));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_clears_the_cookie_and_the_old_cookie_is_refused_afterwards() {
    let stack = Stack::start().await;
    let mut b = Browser::new(&stack, "alice");
    b.sign_in("/").await;
    let old = b.session().unwrap().clone();
    assert_eq!(
        b.request("GET", SEARCH, "application/json").await.status,
        200
    );

    let out = b.request("POST", "/_kbgate/logout", HTML).await;
    assert_eq!(out.status, 302);
    let to = location(&out);
    assert!(
        to.starts_with(&format!("{}/logout?", stack.inner.sim.issuer())),
        "{to}"
    );
    assert_eq!(
        query_param(&to, "post_logout_redirect_uri"),
        Some(format!("{}/_kbgate/logout", stack.inner.url()))
    );
    assert!(b.session().is_none(), "the session cookie is cleared");
    // The provider sends the browser back; kbgate shows that it is signed out.
    let back = b.get(&to).await;
    assert_eq!(back.status, 302);
    let page = b.get(&location(&back)).await;
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("signed out"));

    // Someone who kept the old cookie gets nothing.
    let header = format!("__Host-kbgate={old}");
    let raw = get_as(
        &stack,
        "alice",
        SEARCH,
        &[("Cookie", &header), ("Accept", "application/json")],
    )
    .await;
    assert_eq!(raw.status, 401, "a logged-out session is refused");
    // Signing in again works.
    b.sign_in("/").await;
    assert_ne!(b.session(), Some(&old));
    assert_eq!(
        b.request("GET", SEARCH, "application/json").await.status,
        200
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_loop_stops_at_an_error_page_after_three_round_trips() {
    let stack = Stack::start().await;
    let mut b = Browser::new(&stack, "alice");
    for _ in 0..3 {
        let done = b.sign_in(SEARCH).await;
        assert_eq!(done.status, 302);
        // The browser "loses" its session (e.g. it refuses Secure cookies), so kbgate sends it
        // to sign in again.
        b.jar.remove("__Host-kbgate");
        let nav = b.get(SEARCH).await;
        assert_eq!(nav.status, 302);
        assert!(location(&nav).starts_with("/_kbgate/login"));
    }
    let raw = b.get("/_kbgate/login?rd=%2F").await;
    assert_eq!(raw.status, 508, "{}", raw.head);
    assert!(raw.header("location").is_none());
    assert!(String::from_utf8_lossy(&raw.body).contains("Sign-in keeps repeating"));
    assert!(raw
        .header("content-security-policy")
        .is_some_and(|c| c.contains("default-src 'none'")));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_browser_visiting_login_goes_straight_back() {
    let stack = Stack::start().await;
    let mut b = Browser::new(&stack, "bob");
    b.sign_in("/").await;
    let raw = b
        .get("/_kbgate/login?rd=%2Fwiki%2Frest%2Fapi%2Fspace")
        .await;
    assert_eq!(raw.status, 302);
    assert_eq!(location(&raw), "/wiki/rest/api/space");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_login_section_the_login_routes_are_404_and_browsers_get_401() {
    use std::sync::Arc;
    let any = || tokio::net::TcpListener::bind("127.0.0.1:0");
    let sim = kbgate::sim::start(any().await.unwrap(), Default::default())
        .await
        .unwrap();
    let listener = any().await.unwrap();
    let addr = listener.local_addr().unwrap();
    let toml = kbgate::demo::config_toml(&sim, addr, &format!("http://{addr}"));
    let (without_login, _) = toml.split_once("[login]").unwrap();
    let env = |name: &str| match name {
        "KBGATE_DEMO_SERVICE_TOKEN" => Some("sim-token".to_owned()),
        "KBGATE_DEMO_WEBHOOK_SECRET" => Some(kbgate::demo::WEBHOOK_SECRET.to_owned()),
        _ => None,
    };
    let config = kbgate::config::Config::from_toml(
        without_login,
        std::path::Path::new("no-login.toml"),
        &env,
    )
    .unwrap();
    assert!(config.login.is_none());
    let app = Arc::new(kbgate::app::App::build(&config).await.unwrap());
    let options = kbgate::app::server_options(&config).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kbgate::app::serve(app, listener, options, async {
        let _ = stopped.await;
    }));
    for path in [
        "/_kbgate/login?rd=%2F",
        "/_kbgate/callback?code=a&state=b",
        "/_kbgate/logout",
    ] {
        let raw = send_raw(
            addr,
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: {HTML}\r\n\r\n")
                .as_bytes(),
        )
        .await;
        assert_eq!(raw.status, 404, "{path}");
    }
    let raw = send_raw(
        addr,
        format!(
            "GET {SEARCH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: {HTML}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(raw.status, 401, "no sign-in to send a browser to");
    let _ = stop.send(());
    let _ = server.await;
    sim.shutdown();
}

/// Another kbgate replica with `config` (its own caches) on a free port.
async fn start_replica(config: &kbgate::config::Config) -> std::net::SocketAddr {
    let app = std::sync::Arc::new(kbgate::app::App::build(config).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = kbgate::app::server_options(config).unwrap();
    tokio::spawn(kbgate::app::serve(
        app,
        listener,
        options,
        std::future::pending(),
    ));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_one_replica_is_accepted_by_every_replica_with_the_same_secret() {
    let stack = Stack::start().await;
    let mut b = Browser::new(&stack, "alice");
    assert_eq!(b.sign_in(SEARCH).await.status, 302);
    let cookie = format!("__Host-kbgate={}", b.session().expect("a session"));
    let first = b.request("GET", SEARCH, "application/json").await;
    assert_eq!(first.status, 200);

    // Behind a load balancer every replica answers the public host; no sticky sessions.
    let on = |replica: std::net::SocketAddr| {
        let req = format!(
            "GET {SEARCH} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\nCookie: {cookie}\r\n\r\n",
            stack.addr()
        );
        async move { send_raw(replica, req.as_bytes()).await }
    };
    let second = on(start_replica(&stack.inner.config).await).await;
    b.customer
        .oracle
        .assert_clean(&second.bytes, "alice's session on a second replica");
    assert_eq!(
        second.status,
        200,
        "{}",
        String::from_utf8_lossy(&second.body)
    );
    assert_eq!(
        ids_of(&second),
        ids_of(&first),
        "the same KB on every replica"
    );

    // A replica with another session secret does not know the cookie.
    let mut other = stack.inner.config.clone();
    if let Some(login) = other.login.as_mut() {
        login.session_secret =
            kbgate::config::Secret::new("another-session-secret-0123456789abcdef".into());
    }
    let stranger = on(start_replica(&other).await).await;
    assert_eq!(stranger.status, 401);
    stack.stop().await;
}
