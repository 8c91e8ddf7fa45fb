//! Every bad token gets 401 with `WWW-Authenticate: Bearer …`, no detail, and nothing upstream.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::json;

use crate::support::Stack;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_is_refused_without_detail_and_never_forwarded() {
    let stack = Stack::start().await;
    let iss = stack.inner.sim.issuer();
    let aud = kbgate::demo::AUDIENCE;
    let good = json!({"iss": iss, "aud": aud, "sub": "alice", "email": "alice@acme.example", "kb_orgs": ["acme"], "iat": now(), "nbf": now() - 5, "exp": now() + 600});
    let with = |key: &str, value: serde_json::Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let mint = |claims: &serde_json::Value| kbgate::sim::mint_with(claims, "demo-rsa-1");
    let rsa_public_pem = include_bytes!("../../testdata/keys/demo-rsa.pub.pem");
    let hs256_with_public_key = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            alg: jsonwebtoken::Algorithm::HS256,
            kid: Some("demo-rsa-1".into()),
            ..Default::default()
        },
        &good,
        &jsonwebtoken::EncodingKey::from_secret(rsa_public_pem),
    )
    .unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good)
    );
    let valid = mint(&good);
    let (head, rest) = valid.split_once('.').unwrap();
    let tampered_payload = format!(
        "{head}.{}.{}",
        b64(&with("kb_orgs", json!(["globex"]))),
        rest.split_once('.').unwrap().1
    );

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        (
            "not bearer",
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("alice:pw")
            )),
        ),
        ("malformed", Some("Bearer not-a-jwt".into())),
        ("empty", Some("Bearer ".into())),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                mint(&with("exp", json!(now() - 3600)))
            )),
        ),
        (
            "future nbf",
            Some(format!(
                "Bearer {}",
                mint(&with("nbf", json!(now() + 3600)))
            )),
        ),
        (
            "wrong iss",
            Some(format!(
                "Bearer {}",
                mint(&with("iss", json!("https://evil.example/idp")))
            )),
        ),
        (
            "missing iss",
            Some(format!("Bearer {}", mint(&without("iss")))),
        ),
        (
            "wrong aud",
            Some(format!(
                "Bearer {}",
                mint(&with("aud", json!("another-app")))
            )),
        ),
        (
            "missing aud",
            Some(format!("Bearer {}", mint(&without("aud")))),
        ),
        (
            "missing sub",
            Some(format!("Bearer {}", mint(&without("sub")))),
        ),
        (
            "missing exp",
            Some(format!("Bearer {}", mint(&without("exp")))),
        ),
        (
            "unknown kid",
            Some(format!(
                "Bearer {}",
                kbgate::sim::mint_with(&good, "no-such-kid")
            )),
        ),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        (
            "HS256 signed with the RSA public key",
            Some(format!("Bearer {hs256_with_public_key}")),
        ),
        (
            "payload swapped after signing",
            Some(format!("Bearer {tampered_payload}")),
        ),
        ("oversized", Some(format!("Bearer {}", "a".repeat(9000)))),
    ];
    stack.inner.sim.clear_requests();
    for (name, authorization) in cases {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|a| ("Authorization", a.as_str()))
            .collect();
        let raw = stack
            .get("/wiki/rest/api/search?cql=type%3Dpage", &headers)
            .await;
        assert_eq!(
            raw.status,
            401,
            "{name}: {}",
            String::from_utf8_lossy(&raw.bytes)
        );
        let challenge = raw.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "{name}: {challenge}");
        if name != "missing" {
            assert!(
                challenge.contains("error=\"invalid_token\""),
                "{name}: {challenge}"
            );
        }
        assert!(
            !String::from_utf8_lossy(&raw.body)
                .to_lowercase()
                .contains("kid"),
            "{name}: no detail"
        );
    }
    let forwarded = stack.forwarded();
    assert!(
        forwarded.is_empty(),
        "nothing forwarded: {:?}",
        forwarded
            .iter()
            .map(|r| &r.path_and_query)
            .collect::<Vec<_>>()
    );

    // The same claims, properly signed, are accepted: the cases above failed for their flaw.
    let ok = stack
        .get(
            "/wiki/rest/api/search?cql=type%3Dpage",
            &[("Authorization", &format!("Bearer {valid}"))],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.bytes));
    stack.stop().await;
}
