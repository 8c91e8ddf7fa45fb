//! The application value: everything a request needs, built once from a [`Config`], and the
//! entry point every request goes through ([`App::handle`]), which never fails.
//!
//! `handle` gives each request an id and a span, sends it down the API proxy path and turns any
//! [`ProxyError`] into kbgate's own answer. Tests can build an `App` and call `handle` without a
//! socket; [`serve`] runs it on a listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use http::{Request, Response, StatusCode};
use tracing::Instrument;

use crate::auth::{self, Verifier};
use crate::config::{Config, IssuerKeys};
use crate::confluence::{MetadataIndex, Upstream};
use crate::hooks;
use crate::orgs::OrgResolver;
use crate::policy::Policy;
use crate::portal::site::{self, Claim};
use crate::proxy::{self, Links, ProxyError};
use crate::response::{self, Body};
use crate::server::{self, ConnInfo, ServerOptions};

impl App {
    /// Refuses a `Host` (or HTTP/2 `:authority`) that is not one of the public hosts (threats
    /// H2: a request for another site is not ours to answer, and links kbgate writes must not
    /// follow an attacker's Host). A request with neither (HTTP/1.0) is let through.
    fn check_host<B>(&self, req: &Request<B>) -> Result<(), ProxyError> {
        let host = match req.headers().get(http::header::HOST) {
            Some(v) => v.to_str().ok(),
            None => req.uri().authority().map(|a| a.as_str()),
        };
        match host {
            None if !req.headers().contains_key(http::header::HOST) => Ok(()),
            Some(h) if self.allowed_hosts.iter().any(|a| a.eq_ignore_ascii_case(h)) => Ok(()),
            _ => Err(ProxyError::UnknownHost),
        }
    }
}

/// Why kbgate could not start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("upstream client: {0}")]
    Upstream(#[source] crate::http_client::FetchError),
    #[error("token verification: {0}")]
    Auth(#[source] auth::AuthInitError),
    #[error("TLS: {0}")]
    Tls(#[source] server::TlsError),
    #[error("browser login: {0}")]
    Login(#[source] crate::login::LoginInitError),
    #[error("organizations: {0}")]
    Orgs(#[source] crate::orgs::OrgsInitError),
}

/// Everything the request path needs, shared by all connections.
pub struct App {
    pub verifier: Verifier,
    pub orgs: OrgResolver,
    pub policy: Policy,
    pub upstream: Upstream,
    pub metadata: MetadataIndex,
    pub links: Links,
    /// Which Confluence the routes follow (paths with or without `/wiki`).
    pub site: crate::route::Site,
    /// The webhook's shared secret, when the endpoint is enabled.
    pub webhook_secret: Option<crate::config::Secret>,
    /// The key of kbgate's v2 paging cursors (random per process unless configured).
    pub cursor_key: crate::proxy::v2::CursorKey,
    /// Numeric space id → key, for the v2 space routes (metadata TTL).
    pub v2_space_keys: crate::proxy::v2::SpaceKeyCache,
    /// Browser sign-in and sessions, when `[login]` is configured.
    pub login: Option<crate::login::Login>,
    /// The customer KB site, unless `[site] enabled = false`.
    pub portal: Option<crate::portal::site::Site>,
    /// The `Host` values kbgate answers (lower case); any other is a 400.
    pub allowed_hosts: Vec<String>,
    /// Slots for API requests being answered (`server.max_in_flight`): bounds how many upstream
    /// bodies are held and filtered at once, whatever the number of connections.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Counters and histograms; shared with the admin listener, and kept across reloads.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The runtime canary probe's settings, when `[probe]` is configured.
    pub probe: Option<crate::config::ProbeSettings>,
}

impl App {
    /// Builds the application: upstream client, key sets (fetched once now), caches.
    pub async fn build(config: &Config) -> Result<App, InitError> {
        Self::build_with(config, Arc::default()).await
    }

    /// [`App::build`], counting into `metrics` (a reload passes the running app's).
    pub async fn build_with(
        config: &Config,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Result<App, InitError> {
        let upstream = Upstream::new(&config.upstream)
            .map_err(InitError::Upstream)?
            .with_metrics(metrics.clone());
        let jwks_client =
            crate::http_client::build(&Default::default()).map_err(InitError::Upstream)?;
        let issuers = config
            .auth
            .issuers
            .iter()
            .map(|i| auth::IssuerConfig {
                issuer: i.issuer.clone(),
                audiences: i.audiences.clone(),
                keys: match &i.keys {
                    IssuerKeys::JwksUrl(uri) => auth::KeySource::JwksUrl(uri.clone()),
                    IssuerKeys::Discovery => auth::KeySource::Discovery,
                    IssuerKeys::PublicKeyPem(pem) => {
                        auth::KeySource::StaticPem { pem: pem.clone() }
                    }
                },
                algorithms: i.algorithms.clone(),
                leeway: i.leeway,
                refresh_interval: i.refresh_interval,
                max_key_staleness: i.max_key_staleness,
            })
            .collect();
        let options = auth::AuthOptions {
            org_claim: config.orgs.claim.clone(),
            groups_claim: config.orgs.groups_claim.clone(),
            max_header_bytes: config.auth.max_header_bytes,
            cache_capacity: config.auth.token_cache_capacity,
            jwks_refresh_min_interval: config.auth.jwks_refresh_min_interval,
            fetch_timeout: config.upstream.timeout,
            max_jwks_bytes: 1024 * 1024,
        };
        let verifier = Verifier::new(issuers, options, jwks_client)
            .await
            .map_err(InitError::Auth)?;
        let jsm_client = crate::http_client::build(&crate::http_client::ClientOptions {
            connect_timeout: config.upstream.connect_timeout,
            extra_roots_pem: config.upstream.ca_pem.clone(),
            ..Default::default()
        })
        .map_err(InitError::Upstream)?;
        let orgs = OrgResolver::start(&config.orgs, jsm_client)
            .await
            .map_err(InitError::Orgs)?;
        let login = match &config.login {
            Some(settings) => Some(crate::login::Login::new(settings).map_err(InitError::Login)?),
            None => None,
        };
        Ok(App {
            login,
            portal: crate::portal::site::Site::new(&config.site),
            allowed_hosts: config.server.allowed_hosts.clone(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.server.max_in_flight)),
            links: Links::new(&config.server.public_url, upstream.api_prefix()),
            site: match config.upstream.flavor {
                crate::config::Flavor::Cloud => crate::route::Site::Cloud,
                crate::config::Flavor::DataCenter => crate::route::Site::DataCenter,
            },
            verifier,
            orgs,
            policy: config.policy.clone(),
            metadata: MetadataIndex::new(&config.cache),
            webhook_secret: config.cache.webhook_secret.clone(),
            cursor_key: match &config.server.cursor_secret {
                Some(secret) => {
                    crate::proxy::v2::CursorKey::from_secret(secret.expose().as_bytes())
                }
                None => crate::proxy::v2::CursorKey::random(),
            },
            v2_space_keys: crate::proxy::v2::SpaceKeyCache::new(config.cache.metadata_ttl),
            upstream,
            metrics,
            probe: config.probe.clone(),
        })
    }

    /// Answers one request. Never fails: errors become kbgate's own error answers.
    pub async fn handle<B>(&self, req: Request<B>, conn: ConnInfo) -> Response<Body>
    where
        B: http_body::Body + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let started = Instant::now();
        let _in_flight = self.metrics.in_flight();
        // Boxed, like the steps below: a connection keeps room for its handler's future whether
        // or not a request is being answered, and requests waiting for a slot hold theirs.
        let (resp, route) = Box::pin(self.answer(req, conn)).await;
        self.metrics
            .request(route, resp.status().as_u16(), started.elapsed());
        resp
    }

    /// [`App::handle`]'s answer, and the route name it is counted under.
    async fn answer<B>(&self, req: Request<B>, conn: ConnInfo) -> (Response<Body>, &'static str)
    where
        B: http_body::Body + Send,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let request_id = request_id(&req);
        if let (Some(secret), hooks::PATH) = (&self.webhook_secret, req.uri().path()) {
            let outcome = hooks::handle(self, secret, req).await;
            tracing::info!(id = %request_id, status = outcome.status().as_u16(), ?outcome, "webhook");
            return (response::empty(outcome.status(), &request_id), "webhook");
        }
        let checked = proxy::check_framing(&req).and_then(|()| self.check_host(&req));
        if let Err(err) = checked {
            tracing::info!(id = %request_id, reason = err.reason(), "request refused");
            return (proxy::error::to_response(&err, &request_id), "refused");
        }
        // The login and site futures are built (and boxed) only for their own paths.
        if crate::login::owns(req.uri().path()) {
            let resp = Box::pin(crate::login::route(self, &req, &request_id)).await;
            return (resp, "login");
        }
        match site::claim(self, &req, &request_id) {
            Some(Claim::Ready(resp)) => return (resp, "site"),
            Some(Claim::Page(site, page)) => {
                let resp = Box::pin(site::page(self, site, &req, page, &request_id)).await;
                return (resp, "site");
            }
            None => {}
        }
        self.api(&req, conn, &request_id).await
    }

    /// The API proxy path, in the request's span.
    async fn api<B>(
        &self,
        req: &Request<B>,
        conn: ConnInfo,
        request_id: &str,
    ) -> (Response<Body>, &'static str) {
        let span = tracing::info_span!(
            "request",
            id = %request_id,
            method = %req.method(),
            client.addr = %conn.peer,
            route = tracing::field::Empty,
            orgs = tracing::field::Empty,
            filter.removed = tracing::field::Empty,
        );
        async move {
            let started = Instant::now();
            // Waiting here is bounded by the server's whole-request deadline. The semaphore is
            // never closed; if it were, requests would go on unbounded rather than fail.
            let _slot = self.in_flight.acquire().await.ok();
            let result = Box::pin(proxy::handle(self, req, request_id)).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(answer) => {
                    tracing::info!(
                        status = 200,
                        latency_ms,
                        removed = answer.removed,
                        "answered"
                    );
                    let route = answer.route;
                    (self.ok_response(answer, request_id), route)
                }
                Err(err) => {
                    log_error(&err, latency_ms);
                    let route = self.route_name(req);
                    let resp = crate::login::unauthenticated(self, req, &err, request_id)
                        .unwrap_or_else(|| proxy::error::to_response(&err, request_id));
                    (resp, route)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The route name a refused request is counted under (`unrouted` when it matches none).
    fn route_name<B>(&self, req: &Request<B>) -> &'static str {
        crate::route::classify_for(self.site, req.method(), req.uri())
            .map_or("unrouted", |r| r.name())
    }

    fn ok_response(&self, answer: proxy::Answer, request_id: &str) -> Response<Body> {
        if let Some(streamed) = answer.stream {
            return response::download(&streamed.file_name, streamed.download, request_id);
        }
        self.metrics.filtered(answer.removed);
        let mut resp = response::json(StatusCode::OK, answer.body, request_id);
        if let Some(next) = answer.link_next {
            if let Ok(v) = http::HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
                resp.headers_mut().insert(http::header::LINK, v);
            }
        }
        resp
    }
}

fn log_error(err: &ProxyError, latency_ms: f64) {
    let status = err.status_and_message().0.as_u16();
    if err.is_server_side() {
        tracing::warn!(status, latency_ms, reason = err.reason(), error = %err, "refused");
    } else {
        tracing::info!(status, latency_ms, reason = err.reason(), "denied");
    }
}

/// The client's `X-Request-Id` when it is short and plain, otherwise a fresh random id.
fn request_id<B>(req: &Request<B>) -> String {
    let given = req
        .headers()
        .get(response::X_REQUEST_ID)
        .and_then(|v| v.to_str().ok());
    match given {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            id.to_owned()
        }
        _ => hex_id(rand::random::<u64>()),
    }
}

/// `n` as 16 lower-case hex digits (a request id; `format!` costs more on every request).
fn hex_id(n: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..16)
        .rev()
        .map(|i| char::from(HEX[((n >> (i * 4)) & 0xf) as usize]))
        .collect()
}

/// Server options from the configuration.
pub fn server_options(config: &Config) -> Result<ServerOptions, InitError> {
    let s = &config.server;
    let tls = match &s.tls {
        Some(files) => Some(
            server::tls_config(&files.cert_pem, &files.key_pem, s.http2).map_err(InitError::Tls)?,
        ),
        None => None,
    };
    Ok(ServerOptions {
        header_read_timeout: s.header_read_timeout,
        request_timeout: s.request_timeout,
        idle_timeout: s.idle_timeout,
        max_connections: s.max_connections,
        max_header_bytes: s.max_header_bytes,
        max_headers: 64,
        max_uri_bytes: s.max_uri_bytes,
        drain_timeout: s.drain_timeout,
        tls,
        http2: s.http2,
    })
}

/// Runs kbgate on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_live(crate::reload::Live::fixed(app), listener, options, shutdown).await
}

/// [`serve`] for a reloadable application: each request is answered by the application that
/// is current when it arrives, to its end.
pub async fn serve_live(
    live: Arc<crate::reload::Live>,
    listener: tokio::net::TcpListener,
    options: ServerOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handler = move |req, conn| {
        let app = live.app();
        async move { app.handle(req, conn).await }
    };
    server::run(listener, handler, options, shutdown).await
}
