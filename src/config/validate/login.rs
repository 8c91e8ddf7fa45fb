//! `[login]`: browser sign-in settings, checked against `[auth]` and `[server]`.
//!
//! Guarantees: the login issuer is a configured token issuer and the client id is one of its
//! audiences (so the same verifier accepts the ID tokens); `openid` is always requested; the
//! session secret is at least 32 characters; endpoints are `https` (plain `http` only on
//! loopback, for tests and local providers). Deliberately not: any network check (discovery is
//! fetched at run time by the verifier).

use std::time::Duration;

use super::super::file::{FileConfig, FileLogin};
use super::super::{LoginSettings, Secret};
use super::{duration, secret_env, Problems};

/// Default scopes when `login.scopes` is absent.
const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];
/// Shortest session secret accepted.
const MIN_SECRET_CHARS: usize = 32;

/// Validates `[login]`; `public_url` is `server.public_url` without its trailing slash.
pub(super) fn login(
    p: &mut Problems,
    l: &FileLogin,
    file: &FileConfig,
    public_url: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<LoginSettings> {
    match file.auth.issuers.iter().find(|i| i.issuer == l.issuer) {
        None => p.add(
            "login.issuer",
            format!(
                "{:?} is not one of auth.issuers: add it there (its keys verify the ID tokens)",
                l.issuer
            ),
        ),
        Some(issuer) if !issuer.audiences.contains(&l.client_id) => p.add(
            "login.client_id",
            format!(
                "add {:?} to the audiences of issuer {:?}: ID tokens carry the client id in `aud`",
                l.client_id, l.issuer
            ),
        ),
        Some(_) => {}
    }
    if l.client_id.is_empty()
        || l.client_id.len() > 256
        || l.client_id.chars().any(char::is_control)
    {
        p.add(
            "login.client_id",
            "write the client id registered at the provider",
        );
    }
    let scopes = match &l.scopes {
        None => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        Some(list) => list.clone(),
    };
    if !scopes.iter().any(|s| s == "openid") {
        p.add(
            "login.scopes",
            "include \"openid\": kbgate signs in with OpenID Connect",
        );
    }
    for (i, scope) in scopes.iter().enumerate() {
        let fine = !scope.is_empty()
            && scope.len() <= 128
            && scope
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !fine {
            p.add(
                format!("login.scopes[{i}]"),
                "a scope is one word of printable ASCII, e.g. \"email\"",
            );
        }
    }
    let client_secret = l
        .client_secret_env
        .as_ref()
        .and_then(|var| secret_env(p, "login.client_secret_env", var, env))
        .map(Secret::new);
    let session_secret = secret_env(p, "login.session_secret_env", &l.session_secret_env, env);
    if let Some(secret) = &session_secret {
        if secret.chars().count() < MIN_SECRET_CHARS {
            p.add(
                "login.session_secret_env",
                format!(
                    "the secret in {} is shorter than {MIN_SECRET_CHARS} characters",
                    l.session_secret_env
                ),
            );
        }
    }
    let session_ttl = duration(
        p,
        "login.session_ttl",
        &l.session_ttl,
        Duration::from_secs(8 * 3600),
        Duration::from_secs(7 * 24 * 3600),
    );
    if session_ttl < Duration::from_secs(60) {
        p.add("login.session_ttl", "must be at least 1m");
    }
    let authorization_endpoint =
        endpoint(p, "login.authorization_endpoint", &l.authorization_endpoint);
    let token_endpoint = endpoint(p, "login.token_endpoint", &l.token_endpoint);
    let end_session_endpoint = endpoint(p, "login.end_session_endpoint", &l.end_session_endpoint);
    let redirect_uri = match &l.redirect_uri {
        None => format!("{public_url}/_kbgate/callback"),
        Some(uri) => {
            let fine = uri.parse::<http::Uri>().ok().is_some_and(|u| {
                allowed_url(&u) && u.query().is_none() && u.path().ends_with("/_kbgate/callback")
            });
            if !fine {
                p.add(
                    "login.redirect_uri",
                    "write kbgate's callback URL as registered at the provider, e.g. \
                     \"https://kb.example.com/_kbgate/callback\"",
                );
            }
            uri.clone()
        }
    };
    Some(LoginSettings {
        issuer: l.issuer.clone(),
        client_id: l.client_id.clone(),
        client_secret,
        scopes,
        session_secret: Secret::new(session_secret?),
        session_ttl,
        authorization_endpoint,
        token_endpoint,
        end_session_endpoint,
        redirect_uri,
        public_url: public_url.to_owned(),
    })
}

/// An endpoint override: `https`, or `http` on loopback.
fn endpoint(p: &mut Problems, path: &str, value: &Option<String>) -> Option<http::Uri> {
    let text = value.as_ref()?;
    match text.parse::<http::Uri>() {
        Ok(u) if allowed_url(&u) => Some(u),
        _ => {
            p.add(
                path,
                format!("{text:?} is not an https URL (plain http only on 127.0.0.1/localhost)"),
            );
            None
        }
    }
}

/// `https` with a host, or `http` to a loopback host (tests and local providers).
fn allowed_url(u: &http::Uri) -> bool {
    match u.scheme_str() {
        Some("https") => u.host().is_some_and(|h| !h.is_empty()),
        Some("http") => matches!(u.host(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};

    const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_url = "https://kb.example.com/"

[upstream]
base_url = "https://example.atlassian.net"
auth = { kind = "basic", email = "svc@example.com", token_env = "TOKEN" }

[[auth.issuers]]
issuer = "https://idp.example.com"
audiences = ["kbgate-api", "kbgate-web"]
jwks_url = "https://idp.example.com/jwks"

[orgs]
claim = "kb_orgs"

[policy]
spaces = ["KB"]
orgs = ["acme"]
"#;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t".into()),
            "SESSION" => Some("0123456789abcdef0123456789abcdef".into()),
            "SHORT" => Some("too-short".into()),
            "CLIENT" => Some("client-secret".into()),
            _ => None,
        }
    }

    fn load(login: &str) -> Result<Config, ConfigError> {
        Config::from_toml(
            &format!("{BASE}\n[login]\n{login}"),
            Path::new("t.toml"),
            &env,
        )
    }

    fn problems(login: &str) -> Vec<String> {
        match load(login) {
            Err(ConfigError::Invalid { problems, .. }) => {
                problems.into_iter().map(|p| p.path).collect()
            }
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_login_section_gets_the_documented_defaults() {
        let config = load(
            r#"issuer = "https://idp.example.com"
client_id = "kbgate-web"
session_secret_env = "SESSION""#,
        )
        .unwrap();
        let l = config.login.unwrap();
        assert_eq!(l.scopes, ["openid", "email", "profile"]);
        assert_eq!(l.session_ttl.as_secs(), 8 * 3600);
        assert_eq!(l.redirect_uri, "https://kb.example.com/_kbgate/callback");
        assert!(l.client_secret.is_none());
        assert!(l.authorization_endpoint.is_none());
        assert_eq!(l.public_url, "https://kb.example.com");
    }

    #[test]
    fn no_login_section_means_no_login() {
        let config = Config::from_toml(BASE, Path::new("t.toml"), &env).unwrap();
        assert!(config.login.is_none());
    }

    #[test]
    fn every_login_mistake_is_reported_with_its_key() {
        let found = problems(
            r#"issuer = "https://other.example.com"
client_id = "kbgate-web"
client_secret_env = "MISSING"
scopes = ["email", "two words"]
session_secret_env = "SHORT"
session_ttl = "10s"
authorization_endpoint = "http://idp.example.com/authorize"
token_endpoint = "ftp://idp.example.com/token"
redirect_uri = "https://kb.example.com/elsewhere""#,
        );
        for key in [
            "login.issuer",
            "login.client_secret_env",
            "login.scopes",
            "login.scopes[1]",
            "login.session_secret_env",
            "login.session_ttl",
            "login.authorization_endpoint",
            "login.token_endpoint",
            "login.redirect_uri",
        ] {
            assert!(
                found.iter().any(|p| p == key),
                "{key} not reported: {found:?}"
            );
        }
    }

    #[test]
    fn the_client_id_must_be_an_audience_of_the_login_issuer() {
        let found = problems(
            r#"issuer = "https://idp.example.com"
client_id = "someone-else"
session_secret_env = "SESSION""#,
        );
        assert_eq!(found, ["login.client_id"]);
    }

    #[test]
    fn loopback_http_endpoints_and_a_confidential_client_are_accepted() {
        let config = load(
            r#"issuer = "https://idp.example.com"
client_id = "kbgate-web"
client_secret_env = "CLIENT"
session_secret_env = "SESSION"
token_endpoint = "http://127.0.0.1:9000/token"
end_session_endpoint = "https://idp.example.com/logout""#,
        )
        .unwrap();
        let l = config.login.unwrap();
        assert_eq!(l.client_secret.unwrap().expose(), "client-secret");
        assert_eq!(l.token_endpoint.unwrap().port_u16(), Some(9000));
        assert!(l.end_session_endpoint.is_some());
    }
}
