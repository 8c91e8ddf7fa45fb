//! OpenID Connect discovery (OpenID Connect Discovery 1.0 §4): the provider metadata document
//! at `{issuer}/.well-known/openid-configuration`, read strictly.
//!
//! Guarantees: a document is accepted only when its `issuer` equals the configured issuer
//! byte for byte (§4.3: otherwise an attacker-controlled document could redirect kbgate to
//! foreign keys); every endpoint kbgate may call or send a browser to — `jwks_uri`,
//! `authorization_endpoint`, `token_endpoint`, `end_session_endpoint` — is `https`, or plain
//! `http` to a loopback host only; a member named twice refuses the document. The body size
//! and the fetch deadline are the key-set fetch's (`jwks.rs` / `store.rs`).
//!
//! Deliberately not done: no RFC 8414 (`oauth-authorization-server`) fallback, no dynamic
//! client registration, no signed metadata; members kbgate does not use are ignored.

use serde::Deserialize;

/// The subset of a provider's metadata kbgate uses: keys for bearer tokens, endpoints for the
/// browser login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    /// `issuer`, equal to the configured issuer.
    pub issuer: String,
    /// `authorization_endpoint`: where browsers are sent to log in.
    pub authorization_endpoint: http::Uri,
    /// `token_endpoint`: where an authorization code is redeemed (absent for implicit-only
    /// providers, which kbgate's login cannot use).
    pub token_endpoint: Option<http::Uri>,
    /// `end_session_endpoint` (RP-initiated logout), when the provider has one.
    pub end_session_endpoint: Option<http::Uri>,
    /// `jwks_uri`: the key set, fetched with the document.
    pub jwks_uri: http::Uri,
    /// `code_challenge_methods_supported` (empty when the provider does not say).
    pub code_challenge_methods_supported: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207; false when absent).
    pub authorization_response_iss_parameter_supported: bool,
}

/// Why a discovery document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error("the discovery document is not a JSON object with string `issuer` and `jwks_uri`")]
    NotMetadata,
    #[error("the discovery document names issuer {found:?}, not the configured one")]
    IssuerMismatch {
        /// The `issuer` the document names (truncated to 200 characters).
        found: String,
    },
    #[error("`{member}` in the discovery document must be https (plain http only to loopback)")]
    Endpoint {
        /// The offending member's name.
        member: &'static str,
    },
}

/// The members read from the document; unknown ones are ignored, duplicates refused by serde.
#[derive(Deserialize)]
struct RawMetadata {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// Most entries kept from `code_challenge_methods_supported`.
const MAX_METHODS: usize = 16;

/// `{issuer}/.well-known/openid-configuration`, a trailing `/` of the issuer removed first
/// (Discovery §4); `None` when the result is not an allowed URL.
pub(super) fn discovery_url(issuer: &str) -> Option<http::Uri> {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    let uri: http::Uri = format!("{base}/.well-known/openid-configuration")
        .parse()
        .ok()?;
    (url_allowed(&uri) && uri.query().is_none()).then_some(uri)
}

/// Parses a discovery document fetched for `expected_issuer`.
pub(super) fn parse(
    body: &[u8],
    expected_issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    let raw: RawMetadata = serde_json::from_slice(body).map_err(|_| DiscoveryError::NotMetadata)?;
    if raw.issuer != expected_issuer {
        return Err(DiscoveryError::IssuerMismatch {
            found: raw.issuer.chars().take(200).collect(),
        });
    }
    let endpoint = |member: &'static str, value: &str| {
        value
            .parse::<http::Uri>()
            .ok()
            .filter(url_allowed)
            .ok_or(DiscoveryError::Endpoint { member })
    };
    let optional = |member: &'static str, value: Option<String>| {
        value.map(|v| endpoint(member, &v)).transpose()
    };
    let authorization = raw
        .authorization_endpoint
        .ok_or(DiscoveryError::NotMetadata)?;
    let mut methods = raw.code_challenge_methods_supported;
    methods.truncate(MAX_METHODS);
    Ok(ProviderMetadata {
        jwks_uri: endpoint("jwks_uri", &raw.jwks_uri)?,
        authorization_endpoint: endpoint("authorization_endpoint", &authorization)?,
        token_endpoint: optional("token_endpoint", raw.token_endpoint)?,
        end_session_endpoint: optional("end_session_endpoint", raw.end_session_endpoint)?,
        issuer: raw.issuer,
        code_challenge_methods_supported: methods,
        authorization_response_iss_parameter_supported: raw
            .authorization_response_iss_parameter_supported,
    })
}

/// `https` with a host, or plain `http` to a loopback host only (tests and local IdPs).
pub(super) fn url_allowed(uri: &http::Uri) -> bool {
    match uri.scheme_str() {
        Some("https") => uri.host().is_some_and(|h| !h.is_empty()),
        Some("http") => matches!(
            uri.host(),
            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://idp.example/realms/kb";

    fn doc(issuer: &str, jwks: &str) -> String {
        format!(
            r#"{{"issuer":"{issuer}","jwks_uri":"{jwks}","authorization_endpoint":"{issuer}/auth",
            "token_endpoint":"{issuer}/token","code_challenge_methods_supported":["S256"],
            "grant_types_supported":["authorization_code"],"extra":{{"nested":[1,2]}}}}"#
        )
    }

    #[test]
    fn a_document_for_the_configured_issuer_yields_its_endpoints() {
        let meta = parse(doc(ISS, "https://idp.example/certs").as_bytes(), ISS).unwrap();
        assert_eq!(meta.issuer, ISS);
        assert_eq!(meta.jwks_uri, "https://idp.example/certs");
        assert_eq!(
            meta.authorization_endpoint,
            "https://idp.example/realms/kb/auth"
        );
        assert_eq!(
            meta.token_endpoint.unwrap(),
            "https://idp.example/realms/kb/token"
        );
        assert_eq!(meta.end_session_endpoint, None);
        assert_eq!(meta.code_challenge_methods_supported, ["S256"]);
        assert!(!meta.authorization_response_iss_parameter_supported);
    }

    #[test]
    fn a_document_naming_another_issuer_is_refused_even_by_a_trailing_slash() {
        for other in [
            "https://evil.example/realms/kb",
            "https://idp.example/realms/kb/",
            "https://IDP.example/realms/kb",
        ] {
            assert!(matches!(
                parse(doc(other, "https://idp.example/certs").as_bytes(), ISS),
                Err(DiscoveryError::IssuerMismatch { .. })
            ));
        }
    }

    #[test]
    fn insecure_or_malformed_endpoints_and_documents_are_refused() {
        let plain = doc(ISS, "http://idp.example/certs");
        assert_eq!(
            parse(plain.as_bytes(), ISS),
            Err(DiscoveryError::Endpoint { member: "jwks_uri" })
        );
        let loopback = doc(ISS, "http://127.0.0.1:9/certs");
        assert!(parse(loopback.as_bytes(), ISS).is_ok());
        let js = doc(ISS, "https://idp.example/certs")
            .replace("https://idp.example/realms/kb/auth", "javascript:alert(1)");
        assert_eq!(
            parse(js.as_bytes(), ISS),
            Err(DiscoveryError::Endpoint {
                member: "authorization_endpoint"
            })
        );
        let twice = format!(r#"{{"issuer":"{ISS}","issuer":"{ISS}","jwks_uri":"https://a/b"}}"#);
        assert_eq!(
            parse(twice.as_bytes(), ISS),
            Err(DiscoveryError::NotMetadata)
        );
        let no_auth = format!(r#"{{"issuer":"{ISS}","jwks_uri":"https://a/b"}}"#);
        assert_eq!(
            parse(no_auth.as_bytes(), ISS),
            Err(DiscoveryError::NotMetadata)
        );
        assert_eq!(parse(b"<html>", ISS), Err(DiscoveryError::NotMetadata));
    }

    #[test]
    fn the_discovery_url_drops_a_trailing_slash_and_needs_https_or_loopback() {
        assert_eq!(
            discovery_url("https://idp.example/realms/kb/").unwrap(),
            "https://idp.example/realms/kb/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("http://127.0.0.1:8080/idp").unwrap(),
            "http://127.0.0.1:8080/idp/.well-known/openid-configuration"
        );
        assert!(discovery_url("http://idp.example").is_none());
        assert!(discovery_url("not a url").is_none());
    }
}
