//! Tests for the header and claim rules (threats.md J1–J9): time claims, issuer and audience,
//! `alg`, key confusion, forbidden header parameters, duplicate members, the org claim.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

use super::tests::*;
use super::*;

#[tokio::test]
async fn time_claims_are_enforced_with_the_configured_leeway() {
    let v = verifier().await;
    let check = |edit: fn(&mut serde_json::Map<String, Value>, u64)| {
        let claims = claims_with(|c| edit(c, now()));
        rs256(&claims)
    };
    let t = check(|c, _| {
        c.remove("exp");
    });
    assert_eq!(v.authenticate(&bearer(&t)).await, rejected(R::MissingExp));
    let t = check(|c, n| {
        c.insert("exp".into(), json!(n - 120));
    });
    assert_eq!(v.authenticate(&bearer(&t)).await, rejected(R::Expired));
    let t = check(|c, n| {
        c.insert("exp".into(), json!(n - 5));
    });
    assert!(
        v.authenticate(&bearer(&t)).await.is_ok(),
        "within the 30 s leeway"
    );
    let t = check(|c, n| {
        c.insert("nbf".into(), json!(n + 120));
    });
    assert_eq!(v.authenticate(&bearer(&t)).await, rejected(R::NotYetValid));
    let t = check(|c, n| {
        c.insert("iat".into(), json!(n + 120));
    });
    assert_eq!(
        v.authenticate(&bearer(&t)).await,
        rejected(R::IssuedInFuture)
    );
    for bad in [json!("never"), json!(1.5e12), json!(-1), json!(null)] {
        let t = rs256(&claims_with(|c| {
            c.insert("exp".into(), bad.clone());
        }));
        assert_eq!(
            v.authenticate(&bearer(&t)).await,
            rejected(R::ClaimType),
            "exp = {bad}"
        );
    }
    let t = check(|c, n| {
        c.insert("nbf".into(), json!((n - 10).to_string()));
    });
    assert_eq!(v.authenticate(&bearer(&t)).await, rejected(R::ClaimType));
}

#[tokio::test]
async fn issuer_audience_and_subject_are_required_and_checked() {
    let v = verifier().await;
    let cases: [(Edit, RejectReason); 8] = [
        (
            |c| drop(c.insert("iss".into(), json!("https://evil.test"))),
            R::UnknownIssuer,
        ),
        (
            |c| drop(c.insert("iss".into(), json!(format!("{ISS}/")))),
            R::UnknownIssuer,
        ),
        (|c| drop(c.insert("iss".into(), json!([ISS]))), R::ClaimType),
        (|c| drop(c.remove("iss")), R::MissingIss),
        (
            |c| drop(c.insert("aud".into(), json!("other"))),
            R::WrongAudience,
        ),
        (|c| drop(c.remove("aud")), R::MissingAud),
        (|c| drop(c.remove("sub")), R::MissingSub),
        (|c| drop(c.insert("sub".into(), json!(""))), R::MissingSub),
    ];
    for (edit, reason) in cases {
        let claims = claims_with(edit);
        assert_eq!(
            v.authenticate(&bearer(&rs256(&claims))).await,
            rejected(reason),
            "{claims}"
        );
    }
    let several = claims_with(|c| drop(c.insert("aud".into(), json!(["other", AUD]))));
    assert!(v.authenticate(&bearer(&rs256(&several))).await.is_ok());
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_rejected() {
    let v = verifier().await;
    let other = EncodingKey::from_rsa_pem(OTHER_RSA_PRIVATE).unwrap();
    let token = sign_raw(
        r#"{"alg":"RS256"}"#,
        &good_claims().to_string(),
        &other,
        Algorithm::RS256,
    );
    assert_eq!(
        v.authenticate(&bearer(&token)).await,
        rejected(R::BadSignature)
    );
    let good = rs256(&good_claims());
    let (message, _) = good.rsplit_once('.').unwrap();
    let tampered = format!("{message}.{}", b64("forged signature"));
    assert_eq!(
        v.authenticate(&bearer(&tampered)).await,
        rejected(R::BadSignature)
    );
}

#[tokio::test]
async fn alg_none_is_rejected_in_every_spelling() {
    let v = verifier().await;
    let payload = b64(&good_claims().to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = format!(
            "{}.{payload}.{}",
            b64(&format!(r#"{{"alg":"{alg}"}}"#)),
            b64("x")
        );
        assert_eq!(
            v.authenticate(&bearer(&token)).await,
            rejected(R::AlgNone),
            "{alg}"
        );
    }
    let unsigned = format!("{}.{payload}.", b64(r#"{"alg":"none"}"#));
    assert_eq!(
        v.authenticate(&bearer(&unsigned)).await,
        malformed(MalformedReason::BadShape)
    );
    let token = format!("{}.{payload}.{}", b64(r#"{"alg":"RS1"}"#), b64("x"));
    assert_eq!(
        v.authenticate(&bearer(&token)).await,
        rejected(R::AlgNotAllowed)
    );
}

#[tokio::test]
async fn hs256_signed_with_the_rsa_public_key_is_rejected() {
    let v = verifier().await;
    let confused = EncodingKey::from_secret(RSA_PUBLIC);
    let token = sign_raw(
        r#"{"alg":"HS256"}"#,
        &good_claims().to_string(),
        &confused,
        Algorithm::HS256,
    );
    assert_eq!(
        v.authenticate(&bearer(&token)).await,
        rejected(R::AlgNotAllowed)
    );
    // Even an issuer configured to allow HS256 next to an RSA PEM is refused at start-up.
    let mut config = rsa_issuer();
    config.algorithms.push(Algorithm::HS256);
    let err = Verifier::new(vec![config], options(), client())
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            AuthInitError::Algorithm {
                alg: Algorithm::HS256,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn headers_that_name_keys_or_demand_extensions_are_rejected() {
    let v = verifier().await;
    let payload = good_claims().to_string();
    let headers = [
        r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"RS256","crit":["b64"]}"#,
        r#"{"alg":"RS256","jku":"https://evil.test/jwks.json"}"#,
        r#"{"alg":"RS256","x5u":"https://evil.test/cert.pem"}"#,
        r#"{"alg":"RS256","jwk":{"kty":"oct","k":"c2VjcmV0"}}"#,
        r#"{"alg":"RS256","x5c":["MIIB"]}"#,
        r#"{"alg":"RS256","jku":null}"#,
    ];
    for header in headers {
        let token = sign_raw(header, &payload, &rsa_key(), Algorithm::RS256);
        assert_eq!(
            v.authenticate(&bearer(&token)).await,
            rejected(R::ForbiddenHeader),
            "{header}"
        );
    }
}

#[tokio::test]
async fn duplicate_members_and_odd_header_values_are_refused() {
    let v = verifier().await;
    let claims = good_claims().to_string();
    let dup_sub = claims.replacen(r#""sub":"alice""#, r#""sub":"alice","sub":"mallory""#, 1);
    assert!(dup_sub.contains("mallory"));
    let dup_org = claims.replacen(
        r#""kb_orgs":["acme"]"#,
        r#""kb_orgs":["acme"],"kb_orgs":["globex"]"#,
        1,
    );
    assert!(dup_org.contains("globex"));
    for payload in [dup_sub, dup_org] {
        let token = sign_raw(r#"{"alg":"RS256"}"#, &payload, &rsa_key(), Algorithm::RS256);
        assert_eq!(
            v.authenticate(&bearer(&token)).await,
            malformed(MalformedReason::DuplicateMember)
        );
    }
    let cases = [
        (
            r#"{"alg":"RS256","alg":"HS256"}"#,
            malformed(MalformedReason::DuplicateMember),
        ),
        (
            r#"{"alg":"RS256","kid":123}"#,
            malformed(MalformedReason::BadHeader),
        ),
        (
            r#"{"alg":"RS256","kid":null}"#,
            malformed(MalformedReason::BadHeader),
        ),
        (r#"{"typ":"JWT"}"#, malformed(MalformedReason::BadHeader)),
        (
            r#"{"alg":"RS256","typ":"dpop+jwt"}"#,
            rejected(R::TypNotAllowed),
        ),
        (
            r#"{"alg":"RS256","typ":"logout+jwt"}"#,
            rejected(R::TypNotAllowed),
        ),
    ];
    for (header, expected) in cases {
        let token = sign_raw(header, &claims, &rsa_key(), Algorithm::RS256);
        assert_eq!(v.authenticate(&bearer(&token)).await, expected, "{header}");
    }
    let long_kid = format!(r#"{{"alg":"RS256","kid":"{}"}}"#, "k".repeat(257));
    let token = sign_raw(&long_kid, &claims, &rsa_key(), Algorithm::RS256);
    assert_eq!(
        v.authenticate(&bearer(&token)).await,
        rejected(R::KidTooLong)
    );
    for typ in ["at+jwt", "JWT", "jwt", "application/at+jwt"] {
        let token = sign_raw(
            &format!(r#"{{"alg":"RS256","typ":"{typ}"}}"#),
            &claims,
            &rsa_key(),
            Algorithm::RS256,
        );
        assert!(v.authenticate(&bearer(&token)).await.is_ok(), "{typ}");
    }
}

#[tokio::test]
async fn the_org_claim_is_a_string_or_an_array_of_strings_and_nothing_else() {
    let v = verifier().await;
    let with_orgs = |orgs: Value| {
        rs256(&claims_with(|c| {
            c.insert("kb_orgs".into(), orgs);
        }))
    };
    let id = v
        .authenticate(&bearer(&with_orgs(json!("acme"))))
        .await
        .unwrap();
    assert_eq!(id.org_claim, vec!["acme".to_owned()]);
    let id = v
        .authenticate(&bearer(&with_orgs(json!(["acme", "globex"]))))
        .await
        .unwrap();
    assert_eq!(id.org_claim, vec!["acme".to_owned(), "globex".to_owned()]);
    for bad in [
        json!(42),
        json!(true),
        json!({"acme": true}),
        json!(["acme", 1]),
        json!(null),
    ] {
        assert_eq!(
            v.authenticate(&bearer(&with_orgs(bad.clone()))).await,
            rejected(R::OrgClaimType),
            "{bad}"
        );
    }
    let none = rs256(&claims_with(|c| drop(c.remove("kb_orgs"))));
    assert!(v
        .authenticate(&bearer(&none))
        .await
        .unwrap()
        .org_claim
        .is_empty());
}

#[tokio::test]
async fn an_email_marked_unverified_is_not_passed_on() {
    let v = verifier().await;
    let token = rs256(&claims_with(|c| {
        drop(c.insert("email_verified".into(), json!(false)))
    }));
    assert_eq!(v.authenticate(&bearer(&token)).await.unwrap().email, None);
    let token = rs256(&claims_with(|c| {
        drop(c.insert("email_verified".into(), json!(true)))
    }));
    assert!(v
        .authenticate(&bearer(&token))
        .await
        .unwrap()
        .email
        .is_some());
}
