//! Benchmarks of bearer-token verification: a cache hit (the steady state: one SHA-256 of the
//! token and a cache read) and a miss (signature verification with RS256 or ES256 and the claim
//! checks, the cost of a customer's first request per token).
//!
//! Tokens are signed with the repository's test keys (`testdata/keys/`); the verifier reads the
//! public keys from PEM, as `kind = "pem"` issuers do. A miss is forced with a verifier whose
//! token cache is disabled. Run with `cargo bench --bench auth`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark setup, not request-path code

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use divan::{black_box, Bencher};
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kbgate::auth::{
    AuthOptions, IssuerConfig, KeySource, Verifier, DEFAULT_MAX_KEY_STALENESS,
    DEFAULT_REFRESH_INTERVAL,
};

fn main() {
    divan::main();
}

const ISS: &str = "https://idp.bench/realms/kb";
const AUD: &str = "kbgate";

fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/testdata/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A verifier for one issuer with the given algorithm's public key; `cache` 0 disables caching.
fn verifier(rt: &tokio::runtime::Runtime, alg: Algorithm, cache: u64) -> Verifier {
    let public = match alg {
        Algorithm::ES256 => key("demo-ec.pub.pem"),
        _ => key("demo-rsa.pub.pem"),
    };
    let issuer = IssuerConfig {
        issuer: ISS.into(),
        audiences: vec![AUD.into()],
        keys: KeySource::StaticPem { pem: public },
        algorithms: vec![alg],
        leeway: Duration::from_secs(30),
        refresh_interval: DEFAULT_REFRESH_INTERVAL,
        max_key_staleness: DEFAULT_MAX_KEY_STALENESS,
    };
    let options = AuthOptions {
        org_claim: Some("kb_orgs".into()),
        cache_capacity: cache,
        ..AuthOptions::default()
    };
    let client = kbgate::http_client::build(&Default::default()).unwrap();
    rt.block_on(Verifier::new(vec![issuer], options, client))
        .unwrap()
}

/// Request headers carrying a fresh token for `alg`, valid for an hour.
fn headers(alg: Algorithm) -> HeaderMap {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": ISS, "aud": AUD, "sub": "alice", "email": "alice@acme.example",
        "kb_orgs": ["acme"], "iat": now, "nbf": now, "exp": now + 3600,
    });
    let signing = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&key("demo-ec.pem")).unwrap(),
        _ => EncodingKey::from_rsa_pem(&key("demo-rsa.pem")).unwrap(),
    };
    let token = jsonwebtoken::encode(&Header::new(alg), &claims, &signing).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

fn algorithm(name: &str) -> Algorithm {
    match name {
        "ES256" => Algorithm::ES256,
        _ => Algorithm::RS256,
    }
}

/// The steady state: the token was verified before and is served from the cache.
#[divan::bench(args = ["RS256", "ES256"])]
fn cache_hit(bencher: Bencher, alg: &str) {
    let rt = runtime();
    let alg = algorithm(alg);
    let verifier = verifier(&rt, alg, 10_000);
    let headers = headers(alg);
    rt.block_on(verifier.authenticate(&headers)).unwrap();
    bencher.bench_local(|| {
        rt.block_on(verifier.authenticate(black_box(&headers)))
            .unwrap()
    });
}

/// A customer's first request: full signature and claim verification.
#[divan::bench(args = ["RS256", "ES256"])]
fn cache_miss(bencher: Bencher, alg: &str) {
    let rt = runtime();
    let alg = algorithm(alg);
    let verifier = verifier(&rt, alg, 0);
    let headers = headers(alg);
    bencher.bench_local(|| {
        rt.block_on(verifier.authenticate(black_box(&headers)))
            .unwrap()
    });
}
