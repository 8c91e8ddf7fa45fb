//! `[auth]`: issuers, their keys and algorithms, and how fetched key sets are refreshed.
//!
//! Each issuer names exactly one key source (`jwks_url`, `discovery = true` or
//! `public_key_file`); fetched key sets get `refresh_interval` (1m–24h, default 10m) and
//! `max_key_staleness` (1m–7d, default 24h, longer than the interval). Deliberately not done:
//! fetching anything (the verifier does, at start-up).

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
    let keys = match (&i.jwks_url, i.discovery, &i.public_key_file) {
        (Some(url), false, None) => match url.parse::<http::Uri>() {
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
        (None, true, None) => match i.issuer.parse::<http::Uri>() {
            Ok(u)
                if matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some() =>
            {
                Some(IssuerKeys::Discovery)
            }
            _ => {
                p.add(
                    format!("{path}.discovery"),
                    "discovery needs `issuer` to be the provider's http(s) URL",
                );
                None
            }
        },
        (None, false, Some(file)) => read_file(p, &format!("{path}.public_key_file"), file, base)
            .map(IssuerKeys::PublicKeyPem),
        _ => {
            p.add(
                path,
                "set exactly one of jwks_url, discovery = true or public_key_file",
            );
            None
        }
    };
    let (refresh_interval, max_key_staleness) = refresh(p, path, i);
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
        refresh_interval,
        max_key_staleness,
    })
}

/// `refresh_interval` and `max_key_staleness`, each within its bounds, the interval shorter.
fn refresh(p: &mut Problems, path: &str, i: &FileIssuer) -> (Duration, Duration) {
    const MINUTE: Duration = Duration::from_secs(60);
    let mut bounded = |key: &str, value: &Option<String>, default: Duration, max: Duration| {
        let key = format!("{path}.{key}");
        let d = duration(p, &key, value, default, max);
        if d < MINUTE {
            p.add(key, "must be at least 1m");
            return default;
        }
        d
    };
    let interval = bounded(
        "refresh_interval",
        &i.refresh_interval,
        crate::auth::DEFAULT_REFRESH_INTERVAL,
        Duration::from_secs(24 * 3600),
    );
    let staleness = bounded(
        "max_key_staleness",
        &i.max_key_staleness,
        crate::auth::DEFAULT_MAX_KEY_STALENESS,
        Duration::from_secs(7 * 24 * 3600),
    );
    if i.public_key_file.is_some()
        && (i.refresh_interval.is_some() || i.max_key_staleness.is_some())
    {
        p.add(
            path,
            "refresh_interval and max_key_staleness apply to jwks_url or discovery, not public_key_file",
        );
    }
    if staleness <= interval {
        p.add(
            format!("{path}.max_key_staleness"),
            "must be longer than refresh_interval, or keys go stale between two refreshes",
        );
    }
    (interval, staleness)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_issuer(edit: impl FnOnce(&mut FileIssuer)) -> FileIssuer {
        let mut i = FileIssuer {
            issuer: "https://idp.example/realms/kb".into(),
            audiences: vec!["kbgate".into()],
            jwks_url: None,
            discovery: true,
            public_key_file: None,
            algorithms: None,
            leeway: None,
            refresh_interval: None,
            max_key_staleness: None,
        };
        edit(&mut i);
        i
    }

    fn check(i: &FileIssuer) -> (Option<IssuerSettings>, Vec<String>) {
        let mut p = Problems(Vec::new());
        let settings = issuer(&mut p, "auth.issuers[0]", i, Path::new("."));
        let problems =
            p.0.iter()
                .map(|x| format!("{}: {}", x.path, x.message))
                .collect();
        (settings.filter(|_| p.0.is_empty()), problems)
    }

    #[test]
    fn a_discovery_issuer_gets_the_default_refresh_interval_and_staleness_bound() {
        let (settings, problems) = check(&file_issuer(|_| {}));
        assert!(problems.is_empty(), "{problems:?}");
        let s = settings.unwrap();
        assert!(matches!(s.keys, IssuerKeys::Discovery));
        assert_eq!(s.refresh_interval, Duration::from_secs(600));
        assert_eq!(s.max_key_staleness, Duration::from_secs(86_400));
    }

    #[test]
    fn exactly_one_key_source_is_required() {
        let both = file_issuer(|i| i.jwks_url = Some("https://idp.example/jwks".into()));
        let none = file_issuer(|i| i.discovery = false);
        for i in [both, none] {
            let (settings, problems) = check(&i);
            assert!(settings.is_none());
            assert!(
                problems.iter().any(|p| p.contains("exactly one")),
                "{problems:?}"
            );
        }
        let not_url = file_issuer(|i| i.issuer = "kb-idp".into());
        assert!(check(&not_url).1[0].starts_with("auth.issuers[0].discovery"));
    }

    #[test]
    fn refresh_settings_outside_their_bounds_are_reported_with_their_key_path() {
        let cases: [(&str, &str, &str); 5] = [
            ("30s", "24h", "refresh_interval: must be at least 1m"),
            ("25h", "168h", "refresh_interval: must be at most"),
            ("10m", "59s", "max_key_staleness: must be at least 1m"),
            ("10m", "169h", "max_key_staleness: must be at most"),
            (
                "2h",
                "1h",
                "max_key_staleness: must be longer than refresh_interval",
            ),
        ];
        for (interval, staleness, expected) in cases {
            let i = file_issuer(|i| {
                i.refresh_interval = Some(interval.into());
                i.max_key_staleness = Some(staleness.into());
            });
            let (settings, problems) = check(&i);
            assert!(settings.is_none(), "{interval}/{staleness} accepted");
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "{interval}/{staleness}: {problems:?}"
            );
        }
        let ok = file_issuer(|i| {
            i.refresh_interval = Some("1m".into());
            i.max_key_staleness = Some("168h".into());
        });
        assert!(check(&ok).1.is_empty());
    }
}
