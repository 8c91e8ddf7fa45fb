//! Tests for key sets: JWKS parsing rules, and refetching against a tiny IdP on 127.0.0.1:0
//! that counts its hits (threats.md J11; the jwt-authorizer pattern from STYLE.md).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{DecodingKey, EncodingKey};

use super::jwks::{parse_jwks, JwksError, MAX_KEYS};
use super::tests::*;
use super::*;

/// What the fake IdP serves, and how often it was asked.
pub(super) struct IdpState {
    pub body: Mutex<String>,
    pub status: Mutex<StatusCode>,
    pub delay: Mutex<Duration>,
    /// Served at `/.well-known/openid-configuration` (not counted in `hits`).
    pub discovery: Mutex<String>,
    pub hits: AtomicUsize,
}

/// A JWKS endpoint on 127.0.0.1:0; the accept loop stops when this is dropped.
pub(super) struct Idp {
    pub addr: SocketAddr,
    pub state: Arc<IdpState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Idp {
    pub async fn start(body: String) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(IdpState {
            body: Mutex::new(body),
            status: Mutex::new(StatusCode::OK),
            delay: Mutex::new(Duration::ZERO),
            discovery: Mutex::new(String::new()),
            hits: AtomicUsize::new(0),
        });
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<_>| {
                        let state = Arc::clone(&state);
                        async move {
                            if req.uri().path().ends_with("/openid-configuration") {
                                let doc = state.discovery.lock().unwrap().clone();
                                let mut response = Response::new(Full::new(Bytes::from(doc)));
                                *response.status_mut() = *state.status.lock().unwrap();
                                return Ok::<_, Infallible>(response);
                            }
                            state.hits.fetch_add(1, Ordering::SeqCst);
                            let delay = *state.delay.lock().unwrap();
                            tokio::time::sleep(delay).await;
                            let body = state.body.lock().unwrap().clone();
                            let mut response = Response::new(Full::new(Bytes::from(body)));
                            *response.status_mut() = *state.status.lock().unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Idp { addr, state, task }
    }

    pub fn uri(&self) -> http::Uri {
        format!("http://{}/jwks.json", self.addr).parse().unwrap()
    }

    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn serve(&self, body: String) {
        *self.state.body.lock().unwrap() = body;
    }
}

pub(super) const OTHER_RSA_PUBLIC: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/keys/other-rsa.pub.pem"
));

/// A JWK for an RSA public key PEM, with n and e computed by jsonwebtoken.
pub(super) fn rsa_jwk(kid: &str, public_pem: &[u8]) -> String {
    let jwk =
        Jwk::from_decoding_key(&DecodingKey::from_rsa_pem(public_pem).unwrap(), None).unwrap();
    let AlgorithmParameters::RSA(p) = jwk.algorithm else {
        panic!("not RSA")
    };
    format!(
        r#"{{"kty":"RSA","kid":"{kid}","use":"sig","alg":"RS256","n":"{}","e":"{}"}}"#,
        p.n, p.e
    )
}

fn ec_jwk(kid: &str) -> String {
    let jwk = Jwk::from_decoding_key(&DecodingKey::from_ec_pem(EC_PUBLIC).unwrap(), None).unwrap();
    let AlgorithmParameters::EllipticCurve(p) = jwk.algorithm else {
        panic!("not EC")
    };
    format!(
        r#"{{"kty":"EC","kid":"{kid}","crv":"P-256","alg":"ES256","x":"{}","y":"{}"}}"#,
        p.x, p.y
    )
}

pub(super) fn jwks(keys: &[String]) -> String {
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

/// An RS256 token with `kid`, signed by `key`.
pub(super) fn token(kid: &str, key: &EncodingKey) -> String {
    let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#);
    sign_raw(&header, &good_claims().to_string(), key, Algorithm::RS256)
}

async fn verifier_for(idp: &Idp, min_interval: Duration, algorithms: Vec<Algorithm>) -> Verifier {
    let issuer = IssuerConfig {
        issuer: ISS.into(),
        audiences: vec![AUD.into()],
        keys: KeySource::JwksUrl(idp.uri()),
        algorithms,
        leeway: Duration::from_secs(30),
        refresh_interval: DEFAULT_REFRESH_INTERVAL,
        max_key_staleness: DEFAULT_MAX_KEY_STALENESS,
    };
    let opts = AuthOptions {
        jwks_refresh_min_interval: min_interval,
        fetch_timeout: Duration::from_secs(5),
        ..options()
    };
    Verifier::new(vec![issuer], opts, client()).await.unwrap()
}

#[tokio::test]
async fn a_token_is_verified_with_the_key_set_fetched_at_start_up() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier_for(&idp, Duration::from_secs(10), vec![Algorithm::RS256]).await;
    assert_eq!(idp.hits(), 1);
    assert_eq!(
        v.authenticate(&bearer(&token("k1", &rsa_key())))
            .await
            .unwrap()
            .subject,
        "alice"
    );
    let no_kid = sign_raw(
        r#"{"alg":"RS256"}"#,
        &good_claims().to_string(),
        &rsa_key(),
        Algorithm::RS256,
    );
    assert_eq!(
        v.authenticate(&bearer(&no_kid)).await,
        Err(AuthError::Rejected(R::KidMissing))
    );
    assert_eq!(idp.hits(), 1);
}

#[tokio::test]
async fn key_rotation_costs_one_refetch_then_succeeds() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier_for(&idp, Duration::ZERO, vec![Algorithm::RS256]).await;
    idp.serve(jwks(&[rsa_jwk("k2", OTHER_RSA_PUBLIC)]));
    let other = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    assert!(v.authenticate(&bearer(&token("k2", &other))).await.is_ok());
    assert_eq!(
        idp.hits(),
        2,
        "one start-up fetch, one refetch for the new kid"
    );
    // The retired kid is gone after the rotation: one more refetch, then a refusal.
    let old = v.authenticate(&bearer(&token("k1", &rsa_key()))).await;
    assert_eq!(old, Err(AuthError::Rejected(R::UnknownKid)));
    assert_eq!(idp.hits(), 3);
}

#[tokio::test]
async fn a_key_replaced_under_the_same_kid_is_refetched_once_on_a_bad_signature() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier_for(&idp, Duration::ZERO, vec![Algorithm::RS256]).await;
    idp.serve(jwks(&[rsa_jwk("k1", OTHER_RSA_PUBLIC)]));
    let other = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    assert!(v.authenticate(&bearer(&token("k1", &other))).await.is_ok());
    assert_eq!(idp.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_storm_is_rate_limited_to_at_most_one_fetch() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = Arc::new(verifier_for(&idp, Duration::from_secs(10), vec![Algorithm::RS256]).await);
    let before = idp.hits();
    let forged = token("no-such-kid", &rsa_key());
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (v, forged) = (Arc::clone(&v), forged.clone());
            tokio::spawn(async move { v.authenticate(&bearer(&forged)).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(AuthError::Rejected(R::UnknownKid)));
    }
    assert!(
        idp.hits() - before <= 1,
        "{} fetches for 100 unknown-kid tokens",
        idp.hits() - before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_wait_for_a_single_fetch() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    // No rate limit here: only the single flight can keep the fetch count at one.
    let v = Arc::new(verifier_for(&idp, Duration::ZERO, vec![Algorithm::RS256]).await);
    *idp.state.delay.lock().unwrap() = Duration::from_millis(300);
    idp.serve(jwks(&[rsa_jwk("k2", OTHER_RSA_PUBLIC)]));
    let signed = token("k2", &EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap());
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (v, signed) = (Arc::clone(&v), signed.clone());
            tokio::spawn(async move { v.authenticate(&bearer(&signed)).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(
        idp.hits(),
        2,
        "start-up fetch plus exactly one shared refetch"
    );
}

#[tokio::test]
async fn an_issuer_without_any_keys_is_unavailable_not_open() {
    let idp = Idp::start("<html>oops</html>".into()).await;
    *idp.state.status.lock().unwrap() = StatusCode::INTERNAL_SERVER_ERROR;
    let v = verifier_for(&idp, Duration::ZERO, vec![Algorithm::RS256]).await;
    assert_eq!(
        v.authenticate(&bearer(&token("k1", &rsa_key()))).await,
        Err(AuthError::KeysUnavailable)
    );
    // Once the IdP recovers, the next request fetches and succeeds.
    *idp.state.status.lock().unwrap() = StatusCode::OK;
    idp.serve(jwks(&[rsa_jwk("k1", RSA_PUBLIC)]));
    assert!(v
        .authenticate(&bearer(&token("k1", &rsa_key())))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_failed_refetch_keeps_the_last_good_keys() {
    let idp = Idp::start(jwks(&[rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier_for(&idp, Duration::ZERO, vec![Algorithm::RS256]).await;
    idp.serve("{}".into());
    let unknown = v.authenticate(&bearer(&token("k9", &rsa_key()))).await;
    assert_eq!(unknown, Err(AuthError::Rejected(R::UnknownKid)));
    assert_eq!(idp.hits(), 2);
    assert!(v
        .authenticate(&bearer(&token("k1", &rsa_key())))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_key_pinned_to_es256_never_verifies_an_rs256_token() {
    let idp = Idp::start(jwks(&[ec_jwk("e1"), rsa_jwk("k1", RSA_PUBLIC)])).await;
    let v = verifier_for(
        &idp,
        Duration::from_secs(10),
        vec![Algorithm::RS256, Algorithm::ES256],
    )
    .await;
    let wrong = v.authenticate(&bearer(&token("e1", &rsa_key()))).await;
    assert_eq!(wrong, Err(AuthError::Rejected(R::KeyAlgMismatch)));
    let ec = EncodingKey::from_ec_pem(EC_PRIVATE).unwrap();
    let es = sign_raw(
        r#"{"alg":"ES256","kid":"e1"}"#,
        &good_claims().to_string(),
        &ec,
        Algorithm::ES256,
    );
    assert!(v.authenticate(&bearer(&es)).await.is_ok());
    // HS256 with the RSA key's JWK as the secret is not even an allowed algorithm here.
    let confused = sign_raw(
        r#"{"alg":"HS256","kid":"k1"}"#,
        &good_claims().to_string(),
        &EncodingKey::from_secret(rsa_jwk("k1", RSA_PUBLIC).as_bytes()),
        Algorithm::HS256,
    );
    assert_eq!(
        v.authenticate(&bearer(&confused)).await,
        Err(AuthError::Rejected(R::AlgNotAllowed))
    );
}

#[test]
fn unusable_keys_are_dropped_from_a_key_set() {
    let good = rsa_jwk("good", RSA_PUBLIC);
    let small_n = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        [0xc5u8; 128],
    );
    let body = jwks(&[
        good.clone(),
        r#"{"kty":"oct","kid":"sym","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}"#.into(),
        rsa_jwk("enc", RSA_PUBLIC).replace(r#""use":"sig""#, r#""use":"enc""#),
        rsa_jwk("ops", RSA_PUBLIC).replace(r#""use":"sig""#, r#""key_ops":["encrypt"]"#),
        format!(r#"{{"kty":"RSA","kid":"small","n":"{small_n}","e":"AQAB"}}"#),
        ec_jwk("p384").replace("P-256", "P-384"),
        rsa_jwk("pinned-hs", RSA_PUBLIC).replace("RS256", "HS256"),
        rsa_jwk("twice", RSA_PUBLIC),
        rsa_jwk("twice", OTHER_RSA_PUBLIC),
        rsa_jwk("dup-member", RSA_PUBLIC).replace(
            r#""kid":"dup-member""#,
            r#""kid":"dup-member","kid":"good""#,
        ),
        rsa_jwk("", RSA_PUBLIC),
        r#"{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AAAA"}"#.into(),
    ]);
    let (set, dropped) = parse_jwks(body.as_bytes()).unwrap();
    assert_eq!(set.len(), 1);
    assert!(set.get("good").is_some());
    let mut kids: Vec<_> = dropped
        .iter()
        .map(|d| d.kid.clone().unwrap_or_default())
        .collect();
    kids.sort();
    // Both keys sharing "twice" go, reported once.
    let expected = [
        "",
        "dup-member",
        "ed",
        "enc",
        "ops",
        "p384",
        "pinned-hs",
        "small",
        "sym",
        "twice",
    ];
    assert_eq!(kids, expected, "{dropped:?}");
}

#[test]
fn whole_key_sets_that_are_unusable_are_refused() {
    let many: Vec<String> = (0..=MAX_KEYS)
        .map(|i| rsa_jwk(&format!("k{i}"), RSA_PUBLIC))
        .collect();
    assert!(matches!(
        parse_jwks(jwks(&many).as_bytes()),
        Err(JwksError::TooManyKeys)
    ));
    assert!(matches!(parse_jwks(b"<html>"), Err(JwksError::NotJwks)));
    assert!(matches!(
        parse_jwks(br#"{"keys":{}}"#),
        Err(JwksError::NotJwks)
    ));
    assert!(matches!(
        parse_jwks(br#"{"keys":[],"keys":[]}"#),
        Err(JwksError::NotJwks)
    ));
    assert!(matches!(
        parse_jwks(br#"{"keys":[]}"#),
        Err(JwksError::NoUsableKeys)
    ));
    assert!(parse_jwks(jwks(&many[..MAX_KEYS]).as_bytes()).is_ok());
}
