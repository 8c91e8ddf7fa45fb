//! Tests for key sets over time: the staleness bound, cached tokens bound to their key,
//! discovery, background refresh and readiness status — against the counting fake IdP of
//! `tests_jwks.rs` on 127.0.0.1:0.

use jsonwebtoken::EncodingKey;

use super::tests::*;
use super::tests_jwks::{jwks, rsa_jwk, token, Idp, OTHER_RSA_PUBLIC};
use super::*;

/// A verifier for `idp` with the given key source and intervals; no rate limit.
async fn verifier(
    keys: KeySource,
    name: &str,
    refresh_interval: Duration,
    max_key_staleness: Duration,
) -> Verifier {
    let issuer = IssuerConfig {
        refresh_interval,
        max_key_staleness,
        ..issuer(name, keys, vec![Algorithm::RS256])
    };
    let opts = AuthOptions {
        jwks_refresh_min_interval: Duration::ZERO,
        ..options()
    };
    Verifier::new(vec![issuer], opts, client()).await.unwrap()
}

fn set_status(idp: &Idp, status: http::StatusCode) {
    *idp.state.status.lock().unwrap() = status;
}

#[tokio::test]
async fn keys_older_than_the_staleness_bound_are_dropped_and_return_with_the_idp() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier(
        KeySource::JwksUrl(idp.uri()),
        ISS,
        DEFAULT_REFRESH_INTERVAL,
        Duration::from_millis(600),
    )
    .await;
    let signed = token("k1", &rsa_key());
    assert!(v.authenticate(&bearer(&signed)).await.is_ok());
    assert!(v.key_status()[0].1.is_some());
    set_status(&idp, http::StatusCode::SERVICE_UNAVAILABLE);
    // Within the bound the cached token and a fresh verification both work.
    assert!(v.authenticate(&bearer(&signed)).await.is_ok());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        v.authenticate(&bearer(&signed)).await,
        Err(AuthError::KeysUnavailable),
        "stale keys, cached token included"
    );
    assert_eq!(v.key_status(), vec![(ISS.to_owned(), None)]);
    set_status(&idp, http::StatusCode::OK);
    assert!(v.authenticate(&bearer(&signed)).await.is_ok());
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_leaves_the_set() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier(
        KeySource::JwksUrl(idp.uri()),
        ISS,
        DEFAULT_REFRESH_INTERVAL,
        DEFAULT_MAX_KEY_STALENESS,
    )
    .await;
    let old = token("k1", &rsa_key());
    assert!(v.authenticate(&bearer(&old)).await.is_ok());
    let checks = v.signature_checks();
    assert!(v.authenticate(&bearer(&old)).await.is_ok());
    assert_eq!(v.signature_checks(), checks, "served from the cache");
    // The IdP rotates k1 out; a token for the new kid brings the new set in.
    idp.serve(jwks(&[rsa_jwk("k2", OTHER_RSA_PUBLIC)]));
    let other = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    assert!(v.authenticate(&bearer(&token("k2", &other))).await.is_ok());
    assert_eq!(
        v.authenticate(&bearer(&old)).await,
        Err(AuthError::Rejected(R::UnknownKid))
    );
}

fn discovery_doc(issuer: &str, jwks_uri: &str) -> String {
    format!(
        r#"{{"issuer":"{issuer}","jwks_uri":"{jwks_uri}","authorization_endpoint":"{issuer}/authorize","token_endpoint":"{issuer}/token"}}"#
    )
}

#[tokio::test]
async fn discovery_finds_the_key_set_and_exposes_the_provider_metadata() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let iss = format!("http://{}", idp.addr);
    *idp.state.discovery.lock().unwrap() = discovery_doc(&iss, &idp.uri().to_string());
    let v = verifier(
        KeySource::Discovery,
        &iss,
        DEFAULT_REFRESH_INTERVAL,
        DEFAULT_MAX_KEY_STALENESS,
    )
    .await;
    let meta = v.discovery(&iss).expect("metadata");
    assert_eq!(meta.jwks_uri, idp.uri());
    assert_eq!(
        meta.authorization_endpoint.to_string(),
        format!("{iss}/authorize")
    );
    assert_eq!(idp.hits(), 1);
    let claims = claims_with(|c| {
        c.insert("iss".into(), iss.clone().into());
    });
    let signed = sign_raw(
        r#"{"alg":"RS256","kid":"k1"}"#,
        &claims.to_string(),
        &rsa_key(),
        Algorithm::RS256,
    );
    assert_eq!(v.authenticate(&bearer(&signed)).await.unwrap().issuer, iss);
    assert!(v.discovery("https://other.example").is_none());
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_yields_no_keys() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let iss = format!("http://{}", idp.addr);
    *idp.state.discovery.lock().unwrap() =
        discovery_doc("https://evil.example", &idp.uri().to_string());
    let v = verifier(
        KeySource::Discovery,
        &iss,
        DEFAULT_REFRESH_INTERVAL,
        DEFAULT_MAX_KEY_STALENESS,
    )
    .await;
    assert_eq!(
        idp.hits(),
        0,
        "the foreign document's jwks_uri is never fetched"
    );
    assert!(v.discovery(&iss).is_none());
    assert!(v.discovery_or_fetch(&iss).await.is_none());
    let claims = claims_with(|c| {
        c.insert("iss".into(), iss.clone().into());
    });
    let signed = sign_raw(
        r#"{"alg":"RS256","kid":"k1"}"#,
        &claims.to_string(),
        &rsa_key(),
        Algorithm::RS256,
    );
    assert_eq!(
        v.authenticate(&bearer(&signed)).await,
        Err(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn the_background_task_refetches_every_interval_and_stops_with_the_verifier() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier(
        KeySource::JwksUrl(idp.uri()),
        ISS,
        Duration::from_millis(200),
        DEFAULT_MAX_KEY_STALENESS,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let while_running = idp.hits();
    assert!(
        (3..=5).contains(&while_running),
        "{while_running} fetches in 0.7 s"
    );
    assert_eq!(v.jwks_fetches(ISS), Some(while_running as u64));
    drop(v);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        idp.hits(),
        while_running,
        "the task stopped with the verifier"
    );
}

#[tokio::test]
async fn invalid_refresh_settings_are_refused_at_start_up() {
    let zero = IssuerConfig {
        max_key_staleness: Duration::ZERO,
        ..issuer(
            ISS,
            KeySource::JwksUrl("https://idp.example/jwks".parse().unwrap()),
            vec![Algorithm::RS256],
        )
    };
    assert!(matches!(
        Verifier::new(vec![zero], options(), client()).await,
        Err(AuthInitError::Refresh { .. })
    ));
    let plain = issuer(
        "http://idp.example",
        KeySource::Discovery,
        vec![Algorithm::RS256],
    );
    assert!(matches!(
        Verifier::new(vec![plain], options(), client()).await,
        Err(AuthInitError::DiscoveryUrl { .. })
    ));
}

#[tokio::test]
async fn with_the_idp_down_at_start_the_background_task_retries_until_keys_arrive() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    set_status(&idp, http::StatusCode::BAD_GATEWAY);
    let v = verifier(
        KeySource::JwksUrl(idp.uri()),
        ISS,
        DEFAULT_REFRESH_INTERVAL,
        DEFAULT_MAX_KEY_STALENESS,
    )
    .await;
    assert_eq!(v.key_status(), vec![(ISS.to_owned(), None)]);
    set_status(&idp, http::StatusCode::OK);
    // No request at all: the first retry comes 1 s after the failed start-up fetch.
    tokio::time::sleep(Duration::from_millis(1400)).await;
    assert_eq!(idp.hits(), 2);
    assert!(v.key_status()[0].1.is_some());
}
