//! What kbgate sends upstream is built from an allowlist; what it sends back carries its own
//! cache and request-id headers.

use crate::support::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_headers_never_reach_confluence() {
    let stack = Stack::start().await;
    let alice = stack.customer("alice");
    stack.inner.sim.clear_requests();
    let raw = stack
        .get(
            "/wiki/rest/api/search?cql=text~vpn",
            &[
                ("Authorization", &alice.auth()),
                ("Cookie", "JSESSIONID=stolen; cloud.session.token=x"),
                ("X-Forwarded-For", "10.0.0.1"),
                ("X-Forwarded-Host", "evil.example"),
                ("X_Forwarded_Email", "admin@example.com"),
                ("X-Atlassian-Token", "no-check"),
                ("Connection", "close, X-Request-Id"),
                ("X-Request-Id", "test-req-42"),
                ("Accept-Encoding", "gzip, br"),
            ],
        )
        .await;
    alice.oracle.assert_clean(&raw.bytes, "hygiene");
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("x-request-id").as_deref(), Some("test-req-42"));
    let upstream = stack.forwarded();
    assert!(!upstream.is_empty());
    for r in upstream {
        let names: Vec<String> = r.headers.iter().map(|(k, _)| k.to_lowercase()).collect();
        for banned in [
            "cookie",
            "x-forwarded-for",
            "x-forwarded-host",
            "x_forwarded_email",
            "x-atlassian-token",
        ] {
            assert!(
                !names.contains(&banned.to_owned()),
                "{banned} forwarded: {names:?}"
            );
        }
        let get = |n: &str| {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        assert!(
            get("authorization").is_some_and(|a| a.starts_with("Basic ")),
            "service account credentials"
        );
        assert_eq!(get("accept-encoding").as_deref(), Some("identity"));
        assert_eq!(get("x-request-id").as_deref(), Some("test-req-42"));
    }
    stack.stop().await;
}
