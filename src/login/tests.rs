//! Unit tests of the login parts that need no network: redirect targets, cookies, browser
//! detection, PKCE and the ID-token claim checks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method};

use super::cookie::{self, CookieError, Keys, Kind, LoopClaims, SessionClaims};
use super::flow::{self, pkce_challenge};
use super::redirect::{is_browser_navigation, safe_target};

/// The open-redirect corpus (threats.md S1; the shapes of oauth2-proxy's `openredirects.txt`):
/// every one must become `/`.
pub const OPEN_REDIRECTS: &[&str] = &[
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
    "JaVaScRiPt:alert(1)",
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
    "//evil.com:443@kb.example",
    "/\\/evil.com",
    "/.//evil.com#",
    "/#//evil.com",
    "",
    "evil.com",
    "//%09evil.com",
    "/%09%09/evil.com",
    "/%00/evil.com",
    "\u{0}/evil.com",
];

#[test]
fn every_open_redirect_in_the_corpus_becomes_the_root() {
    for case in OPEN_REDIRECTS {
        assert_eq!(safe_target(Some(case)), "/", "{case:?} was let through");
    }
    assert!(OPEN_REDIRECTS.len() >= 20);
}

#[test]
fn plain_relative_paths_are_kept_as_they_are() {
    for case in [
        "/",
        "/wiki/rest/api/search?cql=type%3Dpage",
        "/articles/100001",
        "/search?q=billing&start=10",
        "/a:b/c",
        "/%E2%82%AC",
    ] {
        assert_eq!(safe_target(Some(case)), case);
    }
    assert_eq!(safe_target(None), "/");
}

fn keys() -> Keys {
    Keys::derive(b"0123456789abcdef0123456789abcdef")
}

fn session() -> SessionClaims {
    SessionClaims {
        sid: "c2lk".into(),
        iss: "https://idp.example".into(),
        sub: "demo|alice".into(),
        email: Some("alice@acme.example".into()),
        orgs: vec!["acme".into()],
        ovg: false,
        gorgs: vec!["globex".into()],
        iat: 1_700_000_000_000,
        exp: 1_700_028_800,
    }
}

#[test]
fn a_sealed_session_opens_with_the_same_secret_only() {
    let value = keys().seal(Kind::Session, &session()).unwrap();
    let opened: SessionClaims = keys().open(Kind::Session, &value).unwrap();
    assert_eq!(opened, session());
    let other = Keys::derive(b"another secret of thirty-two chars!!");
    assert_eq!(
        other.open::<SessionClaims>(Kind::Session, &value),
        Err(CookieError::BadSignature)
    );
}

#[test]
fn a_cookie_of_one_kind_never_opens_as_another() {
    let counter = LoopClaims { n: 1, since: 5 };
    let value = keys().seal(Kind::Loop, &counter).unwrap();
    assert_eq!(
        keys().open::<LoopClaims>(Kind::Session, &value),
        Err(CookieError::BadSignature)
    );
    assert_eq!(
        keys().open::<LoopClaims>(Kind::Login, &value),
        Err(CookieError::BadSignature)
    );
    assert_eq!(keys().open::<LoopClaims>(Kind::Loop, &value), Ok(counter));
}

#[test]
fn a_flipped_byte_anywhere_in_the_cookie_is_refused() {
    let value = keys().seal(Kind::Session, &session()).unwrap();
    for i in 0..value.len() {
        let mut bytes = value.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let Ok(tampered) = String::from_utf8(bytes) else {
            continue;
        };
        if tampered == value {
            continue;
        }
        assert!(
            keys()
                .open::<SessionClaims>(Kind::Session, &tampered)
                .is_err(),
            "byte {i} flipped and still accepted"
        );
    }
}

#[test]
fn oversized_and_truncated_cookies_are_refused_before_decoding() {
    let long = "a".repeat(cookie::MAX_VALUE_BYTES + 1);
    assert_eq!(
        keys().open::<SessionClaims>(Kind::Session, &long),
        Err(CookieError::TooLong)
    );
    let value = keys().seal(Kind::Session, &session()).unwrap();
    let cut = &value[..value.len() - 3];
    assert!(keys().open::<SessionClaims>(Kind::Session, cut).is_err());
    assert!(keys()
        .open::<SessionClaims>(Kind::Session, "no-dot")
        .is_err());
}

#[test]
fn a_session_cookie_for_a_demo_customer_is_well_under_one_kilobyte() {
    let value = keys().seal(Kind::Session, &session()).unwrap();
    let header = cookie::set(cookie::SESSION_COOKIE, &value, 28_800).unwrap();
    assert!(header.len() < 1024, "{} bytes", header.len());
}

#[test]
fn two_cookies_of_our_name_are_refused() {
    let mut h = HeaderMap::new();
    h.append(
        "cookie",
        HeaderValue::from_static("__Host-kbgate=a; other=1"),
    );
    assert_eq!(cookie::read(&h, cookie::SESSION_COOKIE), Ok("a"));
    h.append("cookie", HeaderValue::from_static("__Host-kbgate=b"));
    assert_eq!(
        cookie::read(&h, cookie::SESSION_COOKIE),
        Err(CookieError::Duplicate)
    );
    let mut h = HeaderMap::new();
    h.insert("cookie", HeaderValue::from_static("__Host-kbgate-login=x"));
    assert_eq!(
        cookie::read(&h, cookie::SESSION_COOKIE),
        Err(CookieError::Missing)
    );
}

#[test]
fn set_cookie_carries_every_required_attribute() {
    let v = cookie::set(cookie::SESSION_COOKIE, "v", 60).unwrap();
    let v = v.to_str().unwrap();
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=60"] {
        assert!(v.contains(attr), "{v} lacks {attr}");
    }
    assert!(!v.contains("Domain"));
    assert!(cookie::clear(cookie::LOGIN_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_static(v));
    }
    h
}

#[test]
fn browsers_navigating_are_told_apart_from_api_clients() {
    let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    assert!(is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", chrome)])
    ));
    assert!(is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", chrome), ("sec-fetch-mode", "navigate")])
    ));
    assert!(!is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", chrome), ("sec-fetch-mode", "cors")])
    ));
    assert!(!is_browser_navigation(
        &Method::POST,
        &headers(&[("accept", chrome)])
    ));
    assert!(!is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", chrome), ("authorization", "Bearer x")])
    ));
    assert!(!is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", "application/json")])
    ));
    assert!(!is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", "*/*")])
    ));
    assert!(!is_browser_navigation(&Method::GET, &headers(&[])));
    assert!(!is_browser_navigation(
        &Method::GET,
        &headers(&[("accept", "application/json, text/html;q=0.5")])
    ));
}

#[test]
fn the_pkce_challenge_is_the_rfc_7636_example() {
    // RFC 7636 Appendix B.
    assert_eq!(
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
}

fn id_token(claims: &str) -> String {
    format!(
        "{}.{}.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

#[test]
fn the_id_token_must_carry_our_nonce_and_name_our_client() {
    let check = |claims: &str| flow::check_id_claims(&id_token(claims), "n1", "kb");
    assert!(check(r#"{"nonce":"n1","aud":"kb"}"#).is_ok());
    assert!(check(r#"{"nonce":"n1","aud":["kb","api"],"azp":"kb"}"#).is_ok());
    assert_eq!(
        check(r#"{"aud":"kb"}"#).unwrap_err().reason(),
        "nonce_mismatch"
    );
    assert_eq!(
        check(r#"{"nonce":"n2","aud":"kb"}"#).unwrap_err().reason(),
        "nonce_mismatch"
    );
    assert_eq!(
        check(r#"{"nonce":"n1","aud":"other"}"#)
            .unwrap_err()
            .reason(),
        "id_token_audience"
    );
    assert_eq!(
        check(r#"{"nonce":"n1","aud":["kb","api"]}"#)
            .unwrap_err()
            .reason(),
        "id_token_audience"
    );
    assert_eq!(
        check(r#"{"nonce":"n1","aud":"kb","azp":"other"}"#)
            .unwrap_err()
            .reason(),
        "id_token_audience"
    );
    assert_eq!(
        check(r#"{"nonce":"n1","nonce":"n1","aud":"kb"}"#)
            .unwrap_err()
            .reason(),
        "id_token_claims"
    );
}

fn settings(overrides: bool) -> crate::config::LoginSettings {
    let uri = |s: &str| Some(s.parse::<http::Uri>().unwrap());
    crate::config::LoginSettings {
        issuer: "https://idp.example".into(),
        client_id: "kb".into(),
        client_secret: None,
        scopes: vec!["openid".into()],
        session_secret: crate::config::Secret::new("0123456789abcdef0123456789abcdef".into()),
        session_ttl: std::time::Duration::from_secs(3600),
        authorization_endpoint: if overrides {
            uri("https://idp.example/a")
        } else {
            None
        },
        token_endpoint: if overrides {
            uri("https://idp.example/t")
        } else {
            None
        },
        end_session_endpoint: None,
        redirect_uri: "https://kb.example/_kbgate/callback".into(),
        public_url: "https://kb.example".into(),
    }
}

#[test]
fn endpoints_come_from_overrides_first_then_discovery() {
    use super::provider::{Discovered, Endpoints, ProviderError};
    let found = Discovered {
        authorization: Some("https://idp.example/auth".parse().unwrap()),
        token: Some("https://idp.example/token".parse().unwrap()),
        end_session: Some("https://idp.example/logout".parse().unwrap()),
        pkce_methods: vec!["plain".into(), "S256".into()],
        iss_parameter: true,
    };
    let e = Endpoints::resolve(&settings(true), &found).unwrap();
    assert_eq!(e.authorization.path(), "/a");
    assert_eq!(e.token.path(), "/t");
    assert_eq!(e.end_session.unwrap().path(), "/logout");
    assert!(
        e.iss_required,
        "RFC 9207 promised: a callback without iss is refused"
    );
    let e = Endpoints::resolve(&settings(false), &found).unwrap();
    assert_eq!(e.authorization.path(), "/auth");
    assert!(matches!(
        Endpoints::resolve(&settings(false), &Discovered::default()),
        Err(ProviderError::NoEndpoint("authorization_endpoint"))
    ));
}

#[test]
fn a_provider_that_offers_pkce_without_s256_is_refused() {
    use super::provider::{Discovered, Endpoints, ProviderError};
    let plain_only = Discovered {
        pkce_methods: vec!["plain".into()],
        ..Default::default()
    };
    assert!(matches!(
        Endpoints::resolve(&settings(true), &plain_only),
        Err(ProviderError::NoPkceS256)
    ));
    // A provider that does not say (Entra ID) is used with S256 anyway.
    assert!(Endpoints::resolve(&settings(true), &Discovered::default()).is_ok());
}
