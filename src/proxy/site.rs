//! What the KB site (`crate::portal`) asks of the proxy: the caller's organizations, filtered
//! API answers for kbgate's own internal requests, and a few facts only the proxy can decide.
//!
//! Guarantees: every answer goes through the same classification, decision and filter as a
//! customer's API request ([`super::dispatch`]); the site never talks to upstream itself. The
//! internal targets are written by the site (never the customer's raw URL) and are classified
//! like any other request, so a target the router refuses is an error, not a bypass.
//!
//! Deliberately not here: HTML, sessions, or parsing the filtered JSON (the portal does).

use std::sync::Arc;

use http::{HeaderMap, Method, Uri};

use super::body_rewrite::BodyMode;
use super::{dispatch, require_visible, resolve_orgs, Answer, ProxyError};
use crate::app::App;
use crate::auth::Identity;
use crate::filter;
use crate::filter::storage::SiteListing;
use crate::ids::{ContentId, SpaceKey};
use crate::policy::OrgSet;
use crate::route::{self, Route, RouteError};

/// Steps 1–2 for a site page: who is asking (bearer token or session) and their organizations.
pub async fn caller(app: &App, headers: &HeaderMap) -> Result<(Arc<Identity>, OrgSet), ProxyError> {
    let identity = crate::login::authenticate(app, headers).await?;
    let orgs = resolve_orgs(app, &identity).await?;
    Ok((identity, orgs))
}

/// The filtered answer to kbgate's own GET of `target` (a path and query under the site's API
/// prefix, e.g. `/wiki/rest/api/search?cql=…`) for a caller with `orgs`.
pub async fn get(
    app: &App,
    orgs: &OrgSet,
    target: &str,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    dispatch(app, orgs, classify(app, target)?, request_id).await
}

/// The route of one of the site's own GET targets, classified like a customer's request.
fn classify(app: &App, target: &str) -> Result<Route, ProxyError> {
    let uri: Uri = target
        .parse()
        .map_err(|_| ProxyError::Route(RouteError::NotFound))?;
    Ok(route::classify_for(app.site, &Method::GET, &uri)?)
}

/// An article for the site: the filtered `content/{id}` answer for `target` (which must be a
/// content route), its body rewritten in site mode, and what each listing stub in it lists.
pub async fn article(
    app: &App,
    orgs: &OrgSet,
    target: &str,
    request_id: &str,
) -> Result<(Answer, Vec<SiteListing>), ProxyError> {
    match classify(app, target)? {
        Route::Content(q) => {
            tracing::Span::current().record("route", "content");
            super::content_for(app, orgs, &q, BodyMode::Site, request_id).await
        }
        _ => Err(ProxyError::Route(RouteError::NotFound)),
    }
}

/// The REST prefix internal targets start with (`/wiki/rest/api`, or `/rest/api` on Data
/// Center).
pub fn api_prefix(app: &App) -> &'static str {
    app.upstream.api_prefix()
}

/// kbgate's path of an attachment download (served by the download route, which decides the
/// page first), relative to the site's origin.
pub fn download_url(app: &App, page: &ContentId, file_name: &str) -> String {
    super::links::site_download_path(api_prefix(app), page, file_name)
}

/// The home page of the KB space `key` if the caller may see the space and its home page;
/// `None` when the space has no home page or it is hidden.
pub async fn space_home(
    app: &App,
    orgs: &OrgSet,
    key: &SpaceKey,
    request_id: &str,
) -> Result<Option<ContentId>, ProxyError> {
    if !super::spaces::space_exists_for(&app.policy, orgs, key) {
        return Ok(None);
    }
    let body = app
        .upstream
        .get_json(&super::upstream_request::space(key), request_id)
        .await
        .map_err(super::missing_on_404)?;
    let scan = filter::scan_space(&body)?;
    if scan.key() != key.as_str() {
        return Err(ProxyError::UpstreamMismatch);
    }
    let Some(home) = scan.homepage_id().cloned() else {
        return Ok(None);
    };
    match require_visible(app, orgs, &home, request_id).await {
        Ok(()) => Ok(Some(home)),
        Err(ProxyError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
