//! Tests for token extraction, the token cache, static keys and start-up checks, plus the
//! helpers shared by the other auth test files. Tokens are minted with jsonwebtoken and the
//! checked-in test keys; hostile ones are built by hand and signed properly, so the rule under
//! test is the only reason to refuse.

use base64::Engine;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

use super::*;

macro_rules! key_file {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/keys/",
            $name
        ))
    };
}
pub(super) const RSA_PRIVATE: &[u8] = key_file!("demo-rsa.pem");
pub(super) const RSA_PUBLIC: &[u8] = key_file!("demo-rsa.pub.pem");
pub(super) const OTHER_RSA_PRIVATE: &[u8] = key_file!("other-rsa.pem");
pub(super) const EC_PRIVATE: &[u8] = key_file!("demo-ec.pem");
pub(super) const EC_PUBLIC: &[u8] = key_file!("demo-ec.pub.pem");

pub(super) const ISS: &str = "https://idp.test/realms/kb";
pub(super) const EC_ISS: &str = "https://ec-idp.test";
pub(super) const AUD: &str = "kbgate";

pub(super) fn now() -> u64 {
    cache::unix_now()
}

pub(super) fn client() -> crate::http_client::HttpClient {
    crate::http_client::build(&Default::default()).unwrap()
}

pub(super) fn options() -> AuthOptions {
    AuthOptions {
        org_claim: Some("kb_orgs".into()),
        ..AuthOptions::default()
    }
}

pub(super) fn issuer(iss: &str, keys: KeySource, algorithms: Vec<Algorithm>) -> IssuerConfig {
    IssuerConfig {
        issuer: iss.into(),
        audiences: vec![AUD.into()],
        keys,
        algorithms,
        leeway: Duration::from_secs(30),
        refresh_interval: DEFAULT_REFRESH_INTERVAL,
        max_key_staleness: DEFAULT_MAX_KEY_STALENESS,
    }
}

pub(super) fn rsa_issuer() -> IssuerConfig {
    issuer(
        ISS,
        KeySource::StaticPem {
            pem: RSA_PUBLIC.to_vec(),
        },
        vec![Algorithm::RS256],
    )
}

pub(super) async fn verifier() -> Verifier {
    let ec = issuer(
        EC_ISS,
        KeySource::StaticPem {
            pem: EC_PUBLIC.to_vec(),
        },
        vec![Algorithm::ES256],
    );
    Verifier::new(vec![rsa_issuer(), ec], options(), client())
        .await
        .unwrap()
}

pub(super) fn good_claims() -> Value {
    json!({
        "iss": ISS, "aud": AUD, "sub": "alice", "exp": now() + 600, "iat": now(),
        "email": "alice@acme.test", "kb_orgs": ["acme"],
    })
}

pub(super) fn b64(text: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// Signs `header.payload` exactly as written, so hostile JSON reaches the verifier intact.
pub(super) fn sign_raw(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(payload));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

pub(super) fn rsa_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap()
}

/// An RS256 token over `claims` with the demo RSA key.
pub(super) fn rs256(claims: &Value) -> String {
    sign_raw(
        r#"{"alg":"RS256","typ":"JWT"}"#,
        &claims.to_string(),
        &rsa_key(),
        Algorithm::RS256,
    )
}

/// A change to a claims set.
pub(super) type Edit = fn(&mut serde_json::Map<String, Value>);

/// Good claims with `edit` applied.
pub(super) fn claims_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut claims = good_claims();
    edit(claims.as_object_mut().unwrap());
    claims
}

pub(super) fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

pub(super) fn raw_header(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
    headers
}

pub(super) fn malformed(reason: MalformedReason) -> Result<Arc<Identity>, AuthError> {
    Err(AuthError::Malformed(reason))
}

pub(super) fn rejected(reason: RejectReason) -> Result<Arc<Identity>, AuthError> {
    Err(AuthError::Rejected(reason))
}

#[tokio::test]
async fn a_valid_rs256_token_from_a_static_pem_yields_its_identity() {
    let v = verifier().await;
    let identity = v
        .authenticate(&bearer(&rs256(&good_claims())))
        .await
        .unwrap();
    assert_eq!(identity.issuer, ISS);
    assert_eq!(identity.subject, "alice");
    assert_eq!(identity.email.as_deref(), Some("alice@acme.test"));
    assert_eq!(identity.org_claim, vec!["acme".to_owned()]);
}

#[tokio::test]
async fn a_valid_es256_token_is_accepted_for_the_ec_issuer() {
    let v = verifier().await;
    let claims = claims_with(|c| {
        c.insert("iss".into(), json!(EC_ISS));
    });
    let key = EncodingKey::from_ec_pem(EC_PRIVATE).unwrap();
    let token = sign_raw(
        r#"{"alg":"ES256"}"#,
        &claims.to_string(),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        v.authenticate(&bearer(&token)).await.unwrap().issuer,
        EC_ISS
    );
    // The same claims under the RSA issuer's name must not verify with the EC key.
    let token = sign_raw(
        r#"{"alg":"ES256"}"#,
        &good_claims().to_string(),
        &key,
        Algorithm::ES256,
    );
    assert_eq!(
        v.authenticate(&bearer(&token)).await,
        rejected(R::AlgNotAllowed)
    );
}

#[tokio::test]
async fn missing_duplicate_and_oversized_authorization_headers_are_refused() {
    let v = verifier().await;
    assert_eq!(
        v.authenticate(&HeaderMap::new()).await,
        Err(AuthError::Missing)
    );
    let token = rs256(&good_claims());
    let mut two = bearer(&token);
    two.append(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    assert_eq!(
        v.authenticate(&two).await,
        malformed(MalformedReason::MultipleHeaders)
    );
    let huge = format!("Bearer {}", "a".repeat(9000));
    assert_eq!(
        v.authenticate(&raw_header(&huge)).await,
        malformed(MalformedReason::HeaderTooLong)
    );
}

#[tokio::test]
async fn the_bearer_scheme_is_matched_case_insensitively_and_nothing_else_is_a_bearer() {
    let v = verifier().await;
    let token = rs256(&good_claims());
    assert!(v
        .authenticate(&raw_header(&format!("bearer {token}")))
        .await
        .is_ok());
    assert!(v
        .authenticate(&raw_header(&format!("BEARER {token}")))
        .await
        .is_ok());
    assert_eq!(
        v.authenticate(&raw_header("Basic YTpi")).await,
        malformed(MalformedReason::NotBearer)
    );
    assert_eq!(
        v.authenticate(&raw_header(&format!("Bearer  {token}")))
            .await,
        malformed(MalformedReason::BadShape)
    );
    assert_eq!(
        v.authenticate(&raw_header(&format!("Bearer {token} x")))
            .await,
        malformed(MalformedReason::BadShape)
    );
    assert_eq!(
        v.authenticate(&raw_header("Bearer")).await,
        malformed(MalformedReason::BadShape)
    );
}

#[tokio::test]
async fn tokens_that_are_not_three_base64url_parts_are_malformed() {
    let v = verifier().await;
    let token = rs256(&good_claims());
    let cases = [
        (format!("{token}.e30.e30"), MalformedReason::Encrypted),
        (format!("{token}="), MalformedReason::BadShape),
        (format!("{token}."), MalformedReason::BadShape),
        (token.replacen('.', "..", 1), MalformedReason::BadShape),
        (
            token
                .rsplit_once('.')
                .map(|(m, _)| format!("{m}."))
                .unwrap(),
            MalformedReason::BadShape,
        ),
        // Standard base64's `+` (a random token need not contain a `-` to replace).
        (format!("{token}+"), MalformedReason::BadShape),
        ("a.b".to_owned(), MalformedReason::BadShape),
        ("!!!.e30.e30".to_owned(), MalformedReason::BadShape),
        ("e30.e30.e30".to_owned(), MalformedReason::BadHeader),
        (
            format!("{}.bm90IGpzb24.c2ln", b64(r#"{"alg":"RS256"}"#)),
            MalformedReason::BadClaims,
        ),
    ];
    for (token, reason) in cases {
        assert_eq!(
            v.authenticate(&bearer(&token)).await,
            malformed(reason),
            "{token}"
        );
    }
    let spaced = format!("Bearer {}", token.replacen('.', " .", 1));
    assert_eq!(
        v.authenticate(&raw_header(&spaced)).await,
        malformed(MalformedReason::BadShape)
    );
}

#[tokio::test]
async fn a_cached_token_is_not_verified_again() {
    let v = verifier().await;
    let token = rs256(&good_claims());
    let first = v.authenticate(&bearer(&token)).await.unwrap();
    assert_eq!(v.signature_checks(), 1);
    let second = v.authenticate(&bearer(&token)).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        v.signature_checks(),
        1,
        "the second call must be a cache hit"
    );
    assert_eq!(v.cache.len().await, 1);
    // The cached token is found by its bytes, but the header rules still hold around it.
    let mut two = bearer(&token);
    two.append(AUTHORIZATION, bearer(&token)[AUTHORIZATION].clone());
    assert_eq!(
        v.authenticate(&two).await,
        malformed(MalformedReason::MultipleHeaders)
    );
    assert_eq!(
        v.authenticate(&raw_header(&format!("Basic {token}"))).await,
        malformed(MalformedReason::NotBearer)
    );
    assert_eq!(
        v.authenticate(&raw_header(&format!("Bearer {token}.")))
            .await,
        malformed(MalformedReason::BadShape)
    );
    assert_eq!(v.signature_checks(), 1);
    // A refused token is never cached.
    let expired = rs256(&claims_with(|c| {
        drop(c.insert("exp".into(), json!(now() - 3600)))
    }));
    assert!(v.authenticate(&bearer(&expired)).await.is_err());
    assert_eq!(v.cache.len().await, 1);
}

#[tokio::test]
async fn a_shared_secret_issuer_accepts_hs256_and_nothing_else() {
    let secret = b"demo-secret-demo-secret-demo-secret!".to_vec();
    let config = issuer(
        ISS,
        KeySource::SharedSecret(secret.clone()),
        vec![Algorithm::HS256],
    );
    let v = Verifier::new(vec![config], options(), client())
        .await
        .unwrap();
    let key = EncodingKey::from_secret(&secret);
    let token = sign_raw(
        r#"{"alg":"HS256"}"#,
        &good_claims().to_string(),
        &key,
        Algorithm::HS256,
    );
    assert_eq!(
        v.authenticate(&bearer(&token)).await.unwrap().subject,
        "alice"
    );
    assert_eq!(
        v.authenticate(&bearer(&rs256(&good_claims()))).await,
        rejected(R::AlgNotAllowed)
    );
    assert!(format!("{:?}", KeySource::SharedSecret(secret)).contains("redacted"));
}

#[tokio::test]
async fn unsafe_configurations_are_refused_at_start_up() {
    let init = |issuers: Vec<IssuerConfig>, opts: AuthOptions| async move {
        Verifier::new(issuers, opts, client())
            .await
            .err()
            .map(|e| e.to_string())
    };
    assert!(init(vec![], options()).await.is_some());
    assert!(init(vec![rsa_issuer(), rsa_issuer()], options())
        .await
        .is_some_and(|e| e.contains("twice")));
    let mut c = rsa_issuer();
    c.algorithms = vec![Algorithm::ES256];
    assert!(init(vec![c], options()).await.is_some());
    let mut c = rsa_issuer();
    c.leeway = Duration::from_secs(301);
    assert!(init(vec![c], options()).await.is_some());
    let mut c = rsa_issuer();
    c.audiences.clear();
    assert!(init(vec![c], options()).await.is_some());
    let mut c = rsa_issuer();
    c.keys = KeySource::StaticPem {
        pem: RSA_PRIVATE.to_vec(),
    };
    assert!(init(vec![c], options()).await.is_some());
    let mut c = rsa_issuer();
    c.keys = KeySource::SharedSecret(b"short".to_vec());
    c.algorithms = vec![Algorithm::HS256];
    assert!(init(vec![c], options()).await.is_some());
    let mut c = rsa_issuer();
    c.keys = KeySource::JwksUrl("http://idp.example/jwks".parse().unwrap());
    assert!(init(vec![c], options())
        .await
        .is_some_and(|e| e.contains("https")));
    let mut c = rsa_issuer();
    c.keys = KeySource::JwksUrl("https://idp.example/jwks".parse().unwrap());
    c.algorithms = vec![Algorithm::HS256];
    assert!(init(vec![c], options()).await.is_some());
    let opts = AuthOptions {
        org_claim: Some("sub".into()),
        ..options()
    };
    assert!(init(vec![rsa_issuer()], opts).await.is_some());
    assert!(init(vec![rsa_issuer()], options()).await.is_none());
}

#[test]
fn every_reason_has_a_stable_snake_case_name() {
    let all = [
        AuthError::Missing,
        AuthError::KeysUnavailable,
        AuthError::Malformed(MalformedReason::Encrypted),
        AuthError::Rejected(R::AlgNone),
        AuthError::Rejected(R::OrgClaimType),
    ];
    let names: Vec<_> = all.iter().map(AuthError::reason).collect();
    assert_eq!(
        names,
        [
            "missing",
            "keys_unavailable",
            "encrypted_token",
            "alg_none",
            "org_claim_type"
        ]
    );
}
