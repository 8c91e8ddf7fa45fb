//! The outbound HTTP client shared by the Confluence upstream and the JWKS fetcher.
//!
//! One pooled hyper client over rustls (HTTP/1.1), with a capped idle pool, connect timeout,
//! whole-response deadline and a hard cap on body bytes. [`fetch`] never returns a partial body:
//! an oversized, truncated or timed-out answer is an error, so no caller can filter half a body.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The pooled client type.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// How the client connects.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Idle connections kept per host.
    pub max_idle_per_host: usize,
    /// How long an idle pooled connection is kept.
    pub idle_timeout: Duration,
    /// Extra trusted roots (PEM), on top of the Mozilla roots; `None` for the defaults only.
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            max_idle_per_host: 64,
            idle_timeout: Duration::from_secs(60),
            extra_roots_pem: None,
        }
    }
}

/// Why an outbound request produced no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the trusted roots could not be loaded: {0}")]
    Roots(String),
    #[error("the request could not be built")]
    BadRequest(#[source] http::Error),
    #[error("connecting or sending failed")]
    Connect(#[source] hyper_util::client::legacy::Error),
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("reading the body failed")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends a GET and returns the answer with its body unread, once the headers arrived within
/// `deadline`. The caller reads (and bounds) the body.
pub async fn open(
    client: &HttpClient,
    uri: Uri,
    headers: HeaderMap,
    deadline: Duration,
) -> Result<http::Response<hyper::body::Incoming>, FetchError> {
    let mut req = Request::get(uri)
        .body(Empty::<Bytes>::new())
        .map_err(FetchError::BadRequest)?;
    *req.headers_mut() = headers;
    match tokio::time::timeout(deadline, client.request(req)).await {
        Ok(result) => result.map_err(FetchError::Connect),
        Err(_) => Err(FetchError::Timeout(deadline)),
    }
}

/// A complete upstream answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Builds the pooled client. Fails only when `extra_roots_pem` holds no usable certificate.
pub fn build(opts: &ClientOptions) -> Result<HttpClient, FetchError> {
    build_with_body(opts)
}

/// Builds a pooled client sending request bodies of type `B` (e.g. `Full<Bytes>` for a form
/// POST), with the same TLS roots, protocols and timeouts as [`build`].
pub fn build_with_body<B>(
    opts: &ClientOptions,
) -> Result<Client<HttpsConnector<HttpConnector>, B>, FetchError>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots_iter());
    if let Some(pem) = &opts.extra_roots_pem {
        use rustls_pki_types::pem::PemObject;
        let mut added = 0;
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| FetchError::Roots(e.to_string()))?;
            roots
                .add(cert)
                .map_err(|e| FetchError::Roots(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(FetchError::Roots("no certificate in the CA file".into()));
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Roots(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(opts.connect_timeout));
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(opts.max_idle_per_host)
        .pool_idle_timeout(opts.idle_timeout)
        .build(https))
}

fn webpki_roots_iter() -> impl Iterator<Item = rustls_pki_types::TrustAnchor<'static>> {
    webpki_roots::TLS_SERVER_ROOTS.iter().cloned()
}

/// GETs `uri` with exactly `headers`, and reads the whole body within `deadline`, refusing
/// bodies over `max_body` bytes.
pub async fn fetch(
    client: &HttpClient,
    uri: Uri,
    headers: HeaderMap,
    max_body: usize,
    deadline: Duration,
) -> Result<Fetched, FetchError> {
    let mut req = Request::get(uri)
        .body(Empty::<Bytes>::new())
        .map_err(FetchError::BadRequest)?;
    *req.headers_mut() = headers;
    let work = async {
        let resp = client.request(req).await.map_err(FetchError::Connect)?;
        let (parts, body) = resp.into_parts();
        let collected = Limited::new(body, max_body).collect().await.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                FetchError::TooLarge(max_body)
            } else {
                FetchError::Body(e)
            }
        })?;
        Ok(Fetched {
            status: parts.status,
            headers: parts.headers,
            body: collected.to_bytes(),
        })
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout(deadline)),
    }
}
