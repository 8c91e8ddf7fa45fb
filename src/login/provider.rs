//! Talking to the OpenID provider: its endpoints (configured overrides, else discovery) and the
//! authorization-code exchange at the token endpoint.
//!
//! Guarantees: the exchange always sends the PKCE `code_verifier` and the exact `redirect_uri`;
//! a confidential client authenticates with HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1),
//! a public client sends only its `client_id`; the answer is read within a deadline and a byte
//! cap, parsed into a typed struct, and only `id_token` is kept (access and refresh tokens are
//! dropped unread). Deliberately not: refresh tokens, userinfo, or any other grant.

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use serde::Deserialize;

use crate::config::LoginSettings;

/// Deadline of one token exchange, body included.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest token-endpoint answer read.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// A client that can POST a form (the shared upstream client sends bodiless GETs only).
pub type TokenClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Why the provider could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider's {0} is neither configured nor discovered")]
    NoEndpoint(&'static str),
    #[error("the token request could not be built")]
    BadRequest(#[source] http::Error),
    #[error("the token endpoint could not be reached")]
    Connect(#[source] hyper_util::client::legacy::Error),
    #[error("the token endpoint did not answer within {0:?}")]
    Timeout(Duration),
    #[error("reading the token answer failed or it was over the size cap")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the token endpoint refused the code (HTTP {status}, error {error:?})")]
    Refused { status: u16, error: String },
    #[error("the token answer is not the expected JSON")]
    Json(#[source] serde_json::Error),
    #[error("the token answer has no id_token")]
    NoIdToken,
    #[error("the provider's discovery document lists PKCE methods without S256")]
    NoPkceS256,
    #[error("the TLS roots could not be set up: {0}")]
    Tls(String),
}

/// The provider endpoints used for one sign-in.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Where the browser is sent to sign in.
    pub authorization: Uri,
    /// Where the code is exchanged.
    pub token: Uri,
    /// Where the browser is sent to end the provider's session, if the provider has one.
    pub end_session: Option<Uri>,
    /// The provider promises the `iss` parameter on every authorization response (RFC 9207
    /// §3): a callback without it is then refused.
    pub iss_required: bool,
}

/// What the provider discovery document said, as far as login needs it.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    /// `authorization_endpoint`.
    pub authorization: Option<Uri>,
    /// `token_endpoint`.
    pub token: Option<Uri>,
    /// `end_session_endpoint`.
    pub end_session: Option<Uri>,
    /// `code_challenge_methods_supported` (empty when the provider does not say).
    pub pkce_methods: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    pub iss_parameter: bool,
}

impl Discovered {
    /// From the verifier's discovery document.
    pub fn from_metadata(m: &crate::auth::ProviderMetadata) -> Discovered {
        Discovered {
            authorization: Some(m.authorization_endpoint.clone()),
            token: m.token_endpoint.clone(),
            end_session: m.end_session_endpoint.clone(),
            pkce_methods: m.code_challenge_methods_supported.clone(),
            iss_parameter: m.authorization_response_iss_parameter_supported,
        }
    }
}

impl Endpoints {
    /// The configured overrides, else the discovered endpoints.
    pub fn resolve(
        settings: &LoginSettings,
        discovered: &Discovered,
    ) -> Result<Self, ProviderError> {
        if !discovered.pkce_methods.is_empty()
            && !discovered.pkce_methods.iter().any(|m| m == "S256")
        {
            return Err(ProviderError::NoPkceS256);
        }
        let pick = |over: &Option<Uri>, found: &Option<Uri>| over.clone().or_else(|| found.clone());
        Ok(Endpoints {
            authorization: pick(&settings.authorization_endpoint, &discovered.authorization)
                .ok_or(ProviderError::NoEndpoint("authorization_endpoint"))?,
            token: pick(&settings.token_endpoint, &discovered.token)
                .ok_or(ProviderError::NoEndpoint("token_endpoint"))?,
            end_session: pick(&settings.end_session_endpoint, &discovered.end_session),
            iss_required: discovered.iss_parameter,
        })
    }
}

/// Builds the token client: the shared outbound client setup (`crate::http_client`: rustls
/// with the Mozilla roots, HTTP/1.1) with a small pool and a short connect timeout.
pub fn client() -> Result<TokenClient, ProviderError> {
    crate::http_client::build_with_body(&crate::http_client::ClientOptions {
        connect_timeout: Duration::from_secs(5),
        max_idle_per_host: 4,
        idle_timeout: Duration::from_secs(30),
        extra_roots_pem: None,
    })
    .map_err(|e| ProviderError::Tls(e.to_string()))
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    #[serde(default)]
    error: Option<String>,
}

/// Exchanges `code` (with the PKCE `verifier`) for an ID token.
pub async fn exchange(
    client: &TokenClient,
    endpoint: &Uri,
    settings: &LoginSettings,
    code: &str,
    verifier: &str,
) -> Result<String, ProviderError> {
    let body = {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &settings.redirect_uri)
            .append_pair("code_verifier", verifier);
        if settings.client_secret.is_none() {
            // A public client names itself in the body (RFC 6749 §4.1.3); a confidential one
            // authenticates with Basic below.
            form.append_pair("client_id", &settings.client_id);
        }
        form.finish()
    };
    let mut builder = Request::post(endpoint.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json");
    if let Some(secret) = &settings.client_secret {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            enc(&settings.client_id),
            enc(secret.expose())
        ));
        if let Ok(v) = HeaderValue::from_str(&format!("Basic {basic}")) {
            builder = builder.header(AUTHORIZATION, v);
        }
    }
    let req = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(ProviderError::BadRequest)?;
    let work = async {
        let resp = client.request(req).await.map_err(ProviderError::Connect)?;
        let status = resp.status();
        let body = Limited::new(resp.into_body(), MAX_TOKEN_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(ProviderError::Body)?
            .to_bytes();
        Ok::<_, ProviderError>((status, body))
    };
    let (status, body) = tokio::time::timeout(EXCHANGE_TIMEOUT, work)
        .await
        .map_err(|_| ProviderError::Timeout(EXCHANGE_TIMEOUT))??;
    if !status.is_success() {
        let error = serde_json::from_slice::<TokenRefusal>(&body)
            .ok()
            .and_then(|r| r.error)
            .map(|e| {
                e.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect()
            })
            .unwrap_or_default();
        return Err(ProviderError::Refused {
            status: status.as_u16(),
            error,
        });
    }
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(ProviderError::Json)?;
    answer.id_token.ok_or(ProviderError::NoIdToken)
}
