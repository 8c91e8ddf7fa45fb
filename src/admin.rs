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

/// How long an upstream reachability result is reused by `/readyz` (probes do not hammer
/// Confluence).
const UPSTREAM_CHECK_TTL: Duration = Duration::from_secs(2);
/// A scrape of `/metrics` never waits for Confluence: it reports the last upstream result and,
/// when that is older than this, starts a check in the background for the next scrape.
const SCRAPE_REFRESH_AFTER: Duration = Duration::from_secs(10);

/// One readiness check's result: `Err` holds a short reason (never upstream content).
pub type Check = (&'static str, Result<(), String>);

/// The admin endpoints' state.
pub struct Admin {
    live: Arc<Live>,
    /// The last upstream check's result.
    upstream: std::sync::Mutex<Option<UpstreamCheck>>,
    /// Held while an upstream check runs (one at a time).
    checking: tokio::sync::Mutex<()>,
}

/// An upstream check's result, when it was made and for which application.
#[derive(Clone)]
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
            upstream: std::sync::Mutex::new(None),
            checking: tokio::sync::Mutex::new(()),
        })
    }

    /// Answers one admin request.
    pub async fn handle<B>(self: &Arc<Self>, req: &Request<B>) -> Response<Body> {
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
                let checks = self.scrape_checks(&app);
                let text = self.live.metrics().render(snapshot(&app, &checks).await);
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

    /// The checks for a scrape, without waiting: the upstream check is the last result for
    /// this application (left out before the first), refreshed in the background when old.
    fn scrape_checks(self: &Arc<Self>, app: &Arc<App>) -> Vec<Check> {
        let last = self.last_upstream(app);
        if last
            .as_ref()
            .is_none_or(|c| c.at.elapsed() >= SCRAPE_REFRESH_AFTER)
        {
            let (admin, app) = (self.clone(), app.clone());
            tokio::spawn(async move { admin.upstream_check(&app).await });
        }
        let mut checks = Vec::with_capacity(3);
        if let Some(c) = last {
            checks.push(("upstream", c.result));
        }
        checks.push(("keys", keys_check(app)));
        checks.push(("orgs", orgs_check(app)));
        checks
    }

    fn last_upstream(&self, app: &Arc<App>) -> Option<UpstreamCheck> {
        let last = self.upstream.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref()
            .filter(|c| c.app == Arc::as_ptr(app) as usize)
            .cloned()
    }

    async fn upstream_check(&self, app: &Arc<App>) -> Result<(), String> {
        let fresh = |c: &UpstreamCheck| c.at.elapsed() < UPSTREAM_CHECK_TTL;
        if let Some(c) = self.last_upstream(app).filter(fresh) {
            return c.result;
        }
        let _one_at_a_time = self.checking.lock().await;
        if let Some(c) = self.last_upstream(app).filter(fresh) {
            return c.result;
        }
        let result = app
            .upstream
            .probe()
            .await
            .map_err(|e| format!("Confluence: {e}"));
        *self.upstream.lock().unwrap_or_else(|e| e.into_inner()) = Some(UpstreamCheck {
            at: Instant::now(),
            app: Arc::as_ptr(app) as usize,
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
async fn snapshot(app: &App, checks: &[Check]) -> Snapshot {
    let (keys, tokens) = app.verifier.figures().await;
    let (entries, hits, misses) = app.metadata.figures().await;
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
