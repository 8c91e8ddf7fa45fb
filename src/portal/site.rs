//! The KB site's request path: which paths are pages, who is asking, and how every failure
//! becomes one of kbgate's own pages.
//!
//! Paths (GET/HEAD; others answer 405): `/` home, `/search?q=&start=` results,
//! `/articles/{id}` an article, `/articles/by-title?space=&title=` a link by title (302 to the
//! article), `/_kbgate/site.css` the stylesheet, `/favicon.ico` (204: no icon). A browser without a session is sent to sign
//! in; an API client gets a 401 page.
//!
//! Guarantees: pages are built only from filtered API answers ([`crate::proxy::site`]); a
//! hidden article and a missing one get the same 404 page byte for byte except the request id;
//! error pages are fixed text chosen by status and never carry upstream content; every answer
//! carries the site's security headers (`respond`).
//!
//! Deliberately not: caching pages (every page is per customer and `no-store`).

use http::{Method, Request, Response, StatusCode};

use super::handlers::{self, Page};
use super::model::{Branding, Chrome, MessagePage, Viewer};
use super::{pages, respond};
use crate::app::App;
use crate::config::SiteSettings;
use crate::proxy::{self, ProxyError};
use crate::response::Body;

/// Path of the stylesheet.
pub const STYLESHEET_PATH: &str = "/_kbgate/site.css";

/// The site's settings and prebuilt stylesheet, shared by all requests.
#[derive(Debug)]
pub struct Site {
    pub(super) branding: Branding,
    pub(super) recent_count: u32,
    stylesheet: String,
    /// The Content-Security-Policy of every page (allows an absolute logo's origin).
    csp: String,
}

impl Site {
    /// The site for `settings`, or `None` when it is disabled.
    pub fn new(settings: &SiteSettings) -> Option<Site> {
        settings.enabled.then(|| Site {
            stylesheet: pages::stylesheet(&settings.branding),
            csp: respond::csp_for(&settings.branding),
            branding: settings.branding.clone(),
            recent_count: settings.recent_count,
        })
    }
}

/// What the site does with a request, decided before anything is awaited.
pub enum Claim<'s> {
    /// An answer that needs no work: the stylesheet, the favicon.
    Ready(Response<Body>),
    /// A page to build with [`page`].
    Page(&'s Site, Page),
}

/// Whether the site answers `req`; `None` for every other path (the API proxy's). Deciding it
/// without a future keeps the API path from building (and boxing) the site's page future.
pub fn claim<'a, B>(app: &'a App, req: &Request<B>, request_id: &str) -> Option<Claim<'a>> {
    let site = app.portal.as_ref()?;
    let path = req.uri().path();
    if path == STYLESHEET_PATH {
        return Some(Claim::Ready(respond::css(
            site.stylesheet.clone(),
            request_id,
        )));
    }
    if path == "/favicon.ico" {
        // Every browser asks; the site has no icon, and says so without a body.
        let empty = respond::html(StatusCode::NO_CONTENT, String::new(), request_id, &site.csp);
        return Some(Claim::Ready(empty));
    }
    Page::of(path, req.uri().query()).map(|page| Claim::Page(site, page))
}

/// Builds a page [`claim`] matched, in its own span, and logs the answer.
pub async fn page<B>(
    app: &App,
    site: &Site,
    req: &Request<B>,
    page: Page,
    request_id: &str,
) -> Response<Body> {
    let path = req.uri().path();
    let span = tracing::info_span!(
        "page",
        id = %request_id,
        path,
        route = tracing::field::Empty,
        orgs = tracing::field::Empty,
        filter.removed = tracing::field::Empty,
    );
    let served = serve(app, site, req, page, request_id);
    let resp = tracing::Instrument::instrument(served, span).await;
    tracing::info!(id = %request_id, path, status = resp.status().as_u16(), "site page");
    resp
}

async fn serve<B>(
    app: &App,
    site: &Site,
    req: &Request<B>,
    page: Page,
    request_id: &str,
) -> Response<Body> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let chrome = chrome(site, None);
        return message(
            &chrome,
            &site.csp,
            StatusCode::METHOD_NOT_ALLOWED,
            request_id,
        );
    }
    let (identity, orgs) = match proxy::site::caller(app, req.headers()).await {
        Ok(caller) => caller,
        Err(err) => {
            if let Some(resp) = crate::login::unauthenticated(app, req, &err, request_id) {
                return resp;
            }
            return error_page(&chrome(site, None), &site.csp, &err, request_id);
        }
    };
    let viewer = Viewer {
        name: identity
            .email
            .clone()
            .unwrap_or_else(|| identity.subject.clone()),
        logout_url: (!req.headers().contains_key(http::header::AUTHORIZATION)
            && app.login.is_some())
        .then(|| crate::login::LOGOUT_PATH.to_owned()),
    };
    let chrome = chrome(site, Some(viewer));
    match handlers::answer(app, site, &orgs, &chrome, page, request_id).await {
        Ok(handlers::Answer::Html(html)) => {
            respond::html(StatusCode::OK, html, request_id, &site.csp)
        }
        Ok(handlers::Answer::Redirect(location)) => redirect(&location, &site.csp, request_id),
        Err(err) => {
            if err.is_server_side() {
                tracing::warn!(id = %request_id, reason = err.reason(), error = %err, "site page failed");
            } else {
                tracing::info!(id = %request_id, reason = err.reason(), "site page refused");
            }
            error_page(&chrome, &site.csp, &err, request_id)
        }
    }
}

/// A 302 to one of the site's own paths (built by kbgate, never from the request).
fn redirect(location: &str, csp: &str, request_id: &str) -> Response<Body> {
    let mut resp = respond::html(StatusCode::FOUND, String::new(), request_id, csp);
    if let Ok(v) = http::HeaderValue::from_str(location) {
        resp.headers_mut().insert(http::header::LOCATION, v);
    }
    resp
}

fn chrome(site: &Site, viewer: Option<Viewer>) -> Chrome {
    Chrome {
        branding: site.branding.clone(),
        viewer,
    }
}

/// kbgate's page for a failure: the API's status for the error, and fixed text by status
/// (never the error's own text).
fn error_page(chrome: &Chrome, csp: &str, err: &ProxyError, request_id: &str) -> Response<Body> {
    message(chrome, csp, err.status_and_message().0, request_id)
}

/// The message page for `status`.
fn message(chrome: &Chrome, csp: &str, status: StatusCode, request_id: &str) -> Response<Body> {
    let (heading, detail) = match status {
        StatusCode::NOT_FOUND => (
            "Article not found",
            "There is no article at this address. It may have moved, or it is not part of your \
             knowledge base.",
        ),
        StatusCode::UNAUTHORIZED => (
            "Sign in required",
            "Sign in with your company account to read the knowledge base.",
        ),
        StatusCode::FORBIDDEN => (
            "Access could not be determined",
            "Your account lists too many groups for kbgate to find your organization. Ask your \
             administrator to assign the application fewer groups.",
        ),
        StatusCode::BAD_REQUEST => (
            "That request could not be run",
            "Try a simpler search, with plain words.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "Not allowed",
            "The knowledge base only answers page requests.",
        ),
        StatusCode::GATEWAY_TIMEOUT => (
            "The knowledge base is slow to answer",
            "Please try again in a moment.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "The knowledge base is temporarily unavailable",
            "Please try again in a moment.",
        ),
        _ => (
            "Something went wrong",
            "The knowledge base could not show this page. Please try again later.",
        ),
    };
    let page = MessagePage {
        status: status.as_u16(),
        heading,
        detail,
        request_id: Some(request_id.to_owned()),
    };
    let mut resp = respond::html(status, pages::message(chrome, &page), request_id, csp);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut().insert(
            http::header::ALLOW,
            http::HeaderValue::from_static("GET, HEAD"),
        );
    }
    resp
}
