//! The upstream: Confluence called as the service account, and the metadata index.
//!
//! [`Upstream::get_json`] builds every upstream request from scratch: a fixed set of headers
//! (`Accept: application/json`, `Accept-Encoding: identity`, the service account's
//! `Authorization`, kbgate's `User-Agent`, the request id) — nothing of the client's request is
//! copied. An answer is returned only when it is complete, within the size cap, `200`,
//! JSON, and not encoded; anything else is an [`UpstreamError`] that never carries upstream bytes.

pub mod metadata;
mod stream;

use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use http::{HeaderMap, HeaderValue, StatusCode, Uri};

use crate::config::{Flavor, UpstreamSettings};
use crate::http_client::{self, FetchError, HttpClient};

pub use metadata::MetadataIndex;
pub use stream::{Download, MAX_DOWNLOAD_BYTES};

/// Why upstream gave no usable answer. Messages name the kind of failure only.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("upstream request could not be built")]
    BadUri,
    #[error("upstream unreachable")]
    Connect(#[source] FetchError),
    #[error("upstream did not answer in time")]
    Timeout,
    #[error("upstream answer larger than the configured cap")]
    TooLarge,
    #[error("upstream answer truncated or unreadable")]
    Body(#[source] FetchError),
    #[error("upstream answered status {0}")]
    Status(StatusCode),
    #[error("upstream answer is encoded ({0}); kbgate filters identity-encoded JSON only")]
    Encoded(String),
    #[error("upstream answer is not JSON")]
    NotJson,
    #[error(
        "upstream answer has no length and is not chunked (its end cannot be told from a cut)"
    )]
    Unframed,
}

impl UpstreamError {
    /// True for a 404 or 403: the content (or space) does not exist for the service account —
    /// which sees every KB page, so 403 means "not for customers" too. Routes answer these with
    /// the uniform 404.
    pub fn is_missing(&self) -> bool {
        matches!(
            self,
            UpstreamError::Status(s) if *s == StatusCode::NOT_FOUND || *s == StatusCode::FORBIDDEN
        )
    }

    /// Stable snake_case kind for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            UpstreamError::BadUri => "bad_uri",
            UpstreamError::Connect(_) => "connect",
            UpstreamError::Timeout => "timeout",
            UpstreamError::TooLarge => "too_large",
            UpstreamError::Body(_) => "body",
            UpstreamError::Status(_) => "status",
            UpstreamError::Encoded(_) => "encoded",
            UpstreamError::NotJson => "not_json",
            UpstreamError::Unframed => "unframed",
        }
    }
}

/// Confluence, as kbgate's service account sees it.
pub struct Upstream {
    client: HttpClient,
    base_url: String,
    api_prefix: &'static str,
    credentials: HeaderValue,
    timeout: Duration,
    max_body: usize,
    /// Caps requests in flight, so load never opens an unbounded number of connections.
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Upstream {
    /// Builds the upstream client from validated settings.
    pub fn new(settings: &UpstreamSettings) -> Result<Self, FetchError> {
        let client = http_client::build(&http_client::ClientOptions {
            connect_timeout: settings.connect_timeout,
            max_idle_per_host: settings.max_idle_connections,
            extra_roots_pem: settings.ca_pem.clone(),
            ..Default::default()
        })?;
        let mut credentials =
            HeaderValue::from_str(settings.credentials.expose()).map_err(|_| {
                FetchError::Roots("service credentials are not a valid header value".into())
            })?;
        credentials.set_sensitive(true);
        Ok(Self {
            client,
            base_url: settings.base_url.clone(),
            api_prefix: match settings.flavor {
                Flavor::Cloud => "/wiki/rest/api",
                Flavor::DataCenter => "/rest/api",
            },
            credentials,
            timeout: settings.timeout,
            max_body: settings.max_body_bytes,
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(settings.max_connections)),
            metrics: Default::default(),
        })
    }

    /// Counts this client's requests, latencies and errors in `metrics`.
    pub fn with_metrics(mut self, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Records one finished upstream call: its latency, or its error's kind. A 404/403 is an
    /// answer (the item is missing), not an upstream failure.
    fn record<T>(
        &self,
        call: &'static str,
        started: std::time::Instant,
        result: &Result<T, UpstreamError>,
    ) {
        match result {
            Err(e) if !e.is_missing() => self.metrics.upstream_error(e.kind()),
            _ => self.metrics.upstream(call, started.elapsed()),
        }
    }

    /// The REST prefix, `/wiki/rest/api` on Cloud.
    pub fn api_prefix(&self) -> &'static str {
        self.api_prefix
    }

    /// GETs `api_path_and_query` (below the REST prefix, starting with `/`) and returns the body
    /// of a complete `200` JSON answer.
    pub async fn get_json(
        &self,
        api_path_and_query: &str,
        request_id: &str,
    ) -> Result<Bytes, UpstreamError> {
        let uri = [self.base_url.as_str(), self.api_prefix, api_path_and_query].concat();
        self.get_json_uri(&uri, request_id).await
    }

    /// Asks Confluence for one space with the service account: `Ok` when it answers 200 with
    /// JSON (reachable, credentials accepted). For readiness checks.
    pub async fn probe(&self) -> Result<(), UpstreamError> {
        self.get_json("/space?limit=1", "readyz").await.map(drop)
    }

    /// GETs `site_path_and_query` (from the site root, e.g. `/wiki/api/v2/pages?limit=25` or
    /// `/rest/servicedeskapi/knowledgebase/article?query=vpn`) with the same credentials, limits
    /// and answer checks as [`Upstream::get_json`].
    pub async fn get_site_json(
        &self,
        site_path_and_query: &str,
        request_id: &str,
    ) -> Result<Bytes, UpstreamError> {
        let uri = format!("{}{}", self.base_url, site_path_and_query);
        self.get_json_uri(&uri, request_id).await
    }

    async fn get_json_uri(&self, uri: &str, request_id: &str) -> Result<Bytes, UpstreamError> {
        let started = std::time::Instant::now();
        let result = self.fetch_json(uri, request_id).await;
        self.record("json", started, &result);
        result
    }

    async fn fetch_json(&self, uri: &str, request_id: &str) -> Result<Bytes, UpstreamError> {
        let uri: Uri = uri.parse().map_err(|_| UpstreamError::BadUri)?;
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("kbgate/", env!("CARGO_PKG_VERSION"))),
        );
        crate::response::set_request_id(&mut headers, request_id);
        headers.insert(AUTHORIZATION, self.credentials.clone());
        let started = tokio::time::Instant::now();
        let _permit = tokio::time::timeout(self.timeout, self.in_flight.acquire())
            .await
            .map_err(|_| UpstreamError::Timeout)?
            .map_err(|_| UpstreamError::Timeout)?;
        let remaining = self.timeout.saturating_sub(started.elapsed());
        let fetched = http_client::fetch(&self.client, uri, headers, self.max_body, remaining)
            .await
            .map_err(|e| match e {
                FetchError::Timeout(_) => UpstreamError::Timeout,
                FetchError::TooLarge(_) => UpstreamError::TooLarge,
                FetchError::Body(_) => UpstreamError::Body(e),
                FetchError::BadRequest(_) => UpstreamError::BadUri,
                FetchError::Connect(_) | FetchError::Roots(_) => UpstreamError::Connect(e),
            })?;
        check_answer(fetched.status, &fetched.headers)?;
        check_framing(&fetched.headers)?;
        Ok(fetched.body)
    }
}

/// Refuses a body delimited only by the connection closing (HTTP/1.0 style: neither
/// `Content-Length` nor chunked): a cut connection would look like a complete answer.
fn check_framing(headers: &HeaderMap) -> Result<(), UpstreamError> {
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
        });
    if chunked || headers.contains_key(http::header::CONTENT_LENGTH) {
        Ok(())
    } else {
        Err(UpstreamError::Unframed)
    }
}

/// Accepts only `200`, identity-encoded, `application/json` answers.
fn check_answer(status: StatusCode, headers: &HeaderMap) -> Result<(), UpstreamError> {
    if status != StatusCode::OK {
        return Err(UpstreamError::Status(status));
    }
    for value in headers.get_all(CONTENT_ENCODING) {
        let v = value
            .to_str()
            .unwrap_or("unreadable")
            .trim()
            .to_ascii_lowercase();
        if v != "identity" && !v.is_empty() {
            return Err(UpstreamError::Encoded(v.chars().take(32).collect()));
        }
    }
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !json {
        return Err(UpstreamError::NotJson);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_delimited_only_by_the_connection_closing_is_refused() {
        assert!(check_framing(&headers(&[("content-length", "12")])).is_ok());
        assert!(check_framing(&headers(&[("transfer-encoding", "chunked")])).is_ok());
        assert!(matches!(
            check_framing(&headers(&[("content-type", "application/json")])),
            Err(UpstreamError::Unframed)
        ));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_plain_json_200_answers_are_accepted() {
        let json = [("content-type", "application/json; charset=utf-8")];
        assert!(check_answer(StatusCode::OK, &headers(&json)).is_ok());
        assert!(matches!(
            check_answer(StatusCode::NOT_FOUND, &headers(&json)),
            Err(UpstreamError::Status(_))
        ));
        assert!(matches!(
            check_answer(StatusCode::PARTIAL_CONTENT, &headers(&json)),
            Err(UpstreamError::Status(_))
        ));
        assert!(matches!(
            check_answer(
                StatusCode::OK,
                &headers(&[
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip")
                ])
            ),
            Err(UpstreamError::Encoded(_))
        ));
        assert!(matches!(
            check_answer(
                StatusCode::OK,
                &headers(&[
                    ("content-type", "application/json"),
                    ("content-encoding", "identity"),
                    ("content-encoding", "br")
                ])
            ),
            Err(UpstreamError::Encoded(_))
        ));
        assert!(matches!(
            check_answer(StatusCode::OK, &headers(&[("content-type", "text/html")])),
            Err(UpstreamError::NotJson)
        ));
        assert!(matches!(
            check_answer(StatusCode::OK, &headers(&[])),
            Err(UpstreamError::NotJson)
        ));
    }
}
