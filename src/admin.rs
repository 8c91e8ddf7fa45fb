//! The admin listener: `/healthz` (the process answers), `/readyz` (upstream reachable, key
//! sets loaded, organization index loaded; 503 naming what is not) and `/metrics` (Prometheus
//! text). It binds to loopback by default (`server.admin_listen`), apart from customer traffic.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Request, Response, StatusCode};

use crate::app::App;
use crate::metrics::{CacheFigures, Snapshot};
use crate::reload::Live;
use crate::response::{self, Body};
use crate::server::{self, ConnInfo, ServerOptions};

/// How long an upstream reachability result is reused (probes and scrapes do not hammer
/// Confluence).
const UPSTREAM_CHECK_TTL: Duration = Duration::from_secs(2);

/// One readiness check's result: `Err` holds a short reason (never upstream content).
pub type Check = (&'static str, Result<(), String>);

/// The admin endpoints' state.
pub struct Admin {
    live: Arc<Live>,
    /// The last upstream check.
    upstream: tokio::sync::Mutex<Option<UpstreamCheck>>,
}

/// An upstream check's result, when it was made and for which application.
struct UpstreamCheck {
    at: Instant,
    app: usize,
    result: Result<(), String>,
}

impl Admin {
    /// Admin endpoints for the running application.
    pub fn new(live: Arc<Live>) -> Arc<Self> {
        Arc::new(Self {
            live,
            upstream: tokio::sync::Mutex::new(None),
        })
    }

    /// Answers one admin request.
    pub async fn handle<B>(&self, req: &Request<B>) -> Response<Body> {
        if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
            return response::json(
                StatusCode::METHOD_NOT_ALLOWED,
                "{\"error\":\"GET only\"}",
                "admin",
            );
        }
        match req.uri().path() {
            "/healthz" => response::json(StatusCode::OK, "{\"status\":\"ok\"}", "admin"),
            "/readyz" => {
                let checks = self.checks().await;
                let ready = checks.iter().all(|(_, r)| r.is_ok());
                let status = if ready {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                response::json(status, readiness_json(ready, &checks), "admin")
            }
            "/metrics" => {
                let app = self.live.app();
                let checks = self.checks().await;
                let text = self.live.metrics().render(snapshot(&app, &checks));
                let mut resp = response::json(StatusCode::OK, text, "admin");
                resp.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
                );
                resp
            }
            _ => response::not_found("admin"),
        }
    }

    /// Every readiness check against the running application.
    pub async fn checks(&self) -> Vec<Check> {
        let app = self.live.app();
        vec![
            ("upstream", self.upstream_check(&app).await),
            ("keys", keys_check(&app)),
            ("orgs", orgs_check(&app)),
        ]
    }

    async fn upstream_check(&self, app: &Arc<App>) -> Result<(), String> {
        let id = Arc::as_ptr(app) as usize;
        let mut last = self.upstream.lock().await;
        if let Some(check) = last.as_ref() {
            if check.app == id && check.at.elapsed() < UPSTREAM_CHECK_TTL {
                return check.result.clone();
            }
        }
        let result = app
            .upstream
            .probe()
            .await
            .map_err(|e| format!("Confluence: {e}"));
        *last = Some(UpstreamCheck {
            at: Instant::now(),
            app: id,
            result: result.clone(),
        });
        result
    }
}

fn keys_check(app: &App) -> Result<(), String> {
    let missing: Vec<String> = app
        .verifier
        .key_status()
        .into_iter()
        .filter(|(_, age)| age.is_none())
        .map(|(issuer, _)| issuer)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no usable signing keys for {}", missing.join(", ")))
    }
}

fn orgs_check(app: &App) -> Result<(), String> {
    match app.orgs.jsm() {
        Some(jsm) if !jsm.is_usable() => {
            Err("the JSM organization index is not loaded (or older than max_staleness)".into())
        }
        _ => Ok(()),
    }
}

fn readiness_json(ready: bool, checks: &[Check]) -> String {
    let fields: serde_json::Map<String, serde_json::Value> = checks
        .iter()
        .map(|(name, result)| {
            let value = match result {
                Ok(()) => "ok".to_owned(),
                Err(reason) => reason.clone(),
            };
            ((*name).to_owned(), value.into())
        })
        .collect();
    serde_json::json!({ "ready": ready, "checks": fields }).to_string()
}

/// The application's figures for a scrape.
fn snapshot(app: &App, checks: &[Check]) -> Snapshot {
    let (keys, tokens) = app.verifier.figures();
    let (entries, hits, misses) = app.metadata.figures();
    let mut caches = vec![
        tokens,
        CacheFigures {
            name: "metadata",
            entries,
            hits,
            misses,
        },
    ];
    if let Some(jsm) = app.orgs.jsm() {
        let (entries, hits, misses) = jsm.figures();
        caches.push(CacheFigures {
            name: "orgs",
            entries,
            hits,
            misses,
        });
    }
    Snapshot {
        caches,
        keys,
        checks: checks.iter().map(|(n, r)| (*n, r.is_ok())).collect(),
    }
}

/// Runs the admin endpoints on `listener` until `shutdown` resolves.
pub async fn serve(
    admin: Arc<Admin>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handler = move |req: Request<hyper::body::Incoming>, _conn: ConnInfo| {
        let admin = admin.clone();
        async move { admin.handle(&req).await }
    };
    server::run(listener, handler, ServerOptions::default(), shutdown).await
}
