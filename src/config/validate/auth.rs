//! `[auth]`: issuers, their keys and algorithms.

use std::path::Path;
use std::time::Duration;

use super::super::file::{FileAuth, FileIssuer};
use super::super::{AuthSettings, IssuerKeys, IssuerSettings};
use super::{duration, read_file, Problems};

pub(super) fn auth(p: &mut Problems, a: &FileAuth, base: &Path) -> Option<AuthSettings> {
    if a.issuers.is_empty() {
        p.add("auth.issuers", "configure at least one [[auth.issuers]]");
    }
    let issuers: Vec<IssuerSettings> = a
        .issuers
        .iter()
        .enumerate()
        .filter_map(|(i, iss)| issuer(p, &format!("auth.issuers[{i}]"), iss, base))
        .collect();
    let max_header_bytes = a.max_header_bytes.unwrap_or(8192);
    if !(512..=65536).contains(&max_header_bytes) {
        p.add("auth.max_header_bytes", "must be between 512 and 65536");
    }
    Some(AuthSettings {
        issuers,
        token_cache_capacity: a.token_cache_capacity.unwrap_or(100_000),
        max_header_bytes,
        jwks_refresh_min_interval: duration(
            p,
            "auth.jwks_refresh_min_interval",
            &a.jwks_refresh_min_interval,
            Duration::from_secs(10),
            Duration::from_secs(3600),
        ),
    })
}

fn issuer(p: &mut Problems, path: &str, i: &FileIssuer, base: &Path) -> Option<IssuerSettings> {
    if i.issuer.is_empty() {
        p.add(
            format!("{path}.issuer"),
            "write the issuer exactly as tokens carry it in `iss`",
        );
    }
    if i.audiences.is_empty() || i.audiences.iter().any(String::is_empty) {
        p.add(
            format!("{path}.audiences"),
            "list the audience(s) tokens must carry in `aud`",
        );
    }
    let keys = match (&i.jwks_url, &i.public_key_file) {
        (Some(url), None) => match url.parse::<http::Uri>() {
            Ok(u)
                if matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some() =>
            {
                Some(IssuerKeys::JwksUrl(u))
            }
            _ => {
                p.add(
                    format!("{path}.jwks_url"),
                    format!("{url:?} is not an http(s) URL"),
                );
                None
            }
        },
        (None, Some(file)) => read_file(p, &format!("{path}.public_key_file"), file, base)
            .map(IssuerKeys::PublicKeyPem),
        _ => {
            p.add(path, "set exactly one of jwks_url or public_key_file");
            None
        }
    };
    let mut algorithms = Vec::new();
    for (n, name) in i
        .algorithms
        .clone()
        .unwrap_or_else(|| vec!["RS256".into()])
        .iter()
        .enumerate()
    {
        use jsonwebtoken::Algorithm::*;
        match name.as_str() {
            "RS256" => algorithms.push(RS256),
            "RS384" => algorithms.push(RS384),
            "RS512" => algorithms.push(RS512),
            "PS256" => algorithms.push(PS256),
            "PS384" => algorithms.push(PS384),
            "PS512" => algorithms.push(PS512),
            "ES256" => algorithms.push(ES256),
            "ES384" => algorithms.push(ES384),
            "EdDSA" => algorithms.push(EdDSA),
            other => p.add(
                format!("{path}.algorithms[{n}]"),
                format!("{other:?} is not accepted: use asymmetric algorithms (RS256, PS256, ES256, EdDSA, …)"),
            ),
        }
    }
    let leeway = duration(
        p,
        &format!("{path}.leeway"),
        &i.leeway,
        Duration::from_secs(60),
        Duration::from_secs(300),
    );
    Some(IssuerSettings {
        issuer: i.issuer.clone(),
        audiences: i.audiences.clone(),
        keys: keys?,
        algorithms,
        leeway,
    })
}
