//! Every way an API request can fail, and the one exhaustive mapping to an answer.
//!
//! Classification follows who caused it (pingora's rule): the client → 4xx, upstream → 502/504,
//! kbgate's key source → 503. Public messages are fixed strings; the typed reason goes to the
//! log only. Hidden content and missing content share one 404.

use http::{Response, StatusCode};

use crate::auth::AuthError;
use crate::confluence::UpstreamError;
use crate::filter::storage::StorageError;
use crate::filter::FilterError;
use crate::orgs::OrgsError;
use crate::policy::cql::CqlError;
use crate::response::{self, Body};
use crate::route::RouteError;

/// Why an API request was not answered with filtered content.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("authentication failed: {}", .0.reason())]
    Auth(#[from] AuthError),
    #[error("organizations refused: {0}")]
    Orgs(#[source] OrgsError),
    #[error("route refused: {0}")]
    Route(#[from] RouteError),
    #[error("cql refused: {0}")]
    Cql(#[from] CqlError),
    #[error("request carried a body")]
    RequestBody,
    #[error("ambiguous Host or absolute-form target")]
    AmbiguousHost,
    #[error("Host is not one of kbgate's public hosts")]
    UnknownHost,
    #[error("content not found or not visible")]
    NotFound,
    #[error("Confluence refused the wrapped query")]
    QueryRefusedUpstream,
    #[error("upstream failed: {0}")]
    Upstream(#[from] UpstreamError),
    #[error("upstream answered for another item")]
    UpstreamMismatch,
    #[error("upstream answer refused by the filter: {0}")]
    Filter(#[from] FilterError),
    #[error("storage body refused by the rewriter: {0}")]
    Storage(#[from] StorageError),
}

impl ProxyError {
    /// Stable snake_case reason for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ProxyError::Auth(e) => e.reason(),
            ProxyError::Orgs(e) => e.reason(),
            ProxyError::Route(RouteError::MethodNotAllowed) => "method_not_allowed",
            ProxyError::Route(RouteError::NotFound) => "unknown_route",
            ProxyError::Route(RouteError::BadPath(_)) => "bad_path",
            ProxyError::Route(RouteError::BadQuery(_)) => "bad_query",
            ProxyError::Cql(_) => "bad_cql",
            ProxyError::RequestBody => "request_body",
            ProxyError::AmbiguousHost => "ambiguous_host",
            ProxyError::UnknownHost => "unknown_host",
            ProxyError::NotFound => "not_found_or_hidden",
            ProxyError::QueryRefusedUpstream => "query_refused_upstream",
            ProxyError::Upstream(e) => e.kind(),
            ProxyError::UpstreamMismatch => "upstream_mismatch",
            ProxyError::Filter(FilterError::Hidden) => "not_found_or_hidden",
            ProxyError::Filter(_) => "filter_refused_upstream_answer",
            ProxyError::Storage(_) => "storage_body_refused",
        }
    }

    /// The status and public message. `Route` and `Cql` messages describe the client's own
    /// input and never content.
    pub fn status_and_message(&self) -> (StatusCode, String) {
        use StatusCode as S;
        match self {
            ProxyError::Auth(AuthError::Missing) => {
                (S::UNAUTHORIZED, response::MISSING_TOKEN.to_owned())
            }
            ProxyError::Auth(AuthError::Malformed(_) | AuthError::Rejected(_)) => {
                (S::UNAUTHORIZED, "Invalid token".to_owned())
            }
            ProxyError::Auth(AuthError::KeysUnavailable) => (
                S::SERVICE_UNAVAILABLE,
                "Token keys are unavailable; try again shortly".to_owned(),
            ),
            ProxyError::Orgs(OrgsError::GroupsOverage) => (
                S::FORBIDDEN,
                "Your token does not list your groups (too many groups); ask your administrator to \
                 assign the application fewer groups"
                    .to_owned(),
            ),
            ProxyError::Orgs(OrgsError::JsmUnavailable(_)) => (
                S::SERVICE_UNAVAILABLE,
                "Your organization cannot be looked up right now; try again shortly".to_owned(),
            ),
            ProxyError::Route(RouteError::MethodNotAllowed) => {
                (S::METHOD_NOT_ALLOWED, "Method not allowed".to_owned())
            }
            ProxyError::Route(RouteError::NotFound)
            | ProxyError::NotFound
            | ProxyError::Filter(FilterError::Hidden) => (S::NOT_FOUND, "Not found".to_owned()),
            ProxyError::Route(e @ (RouteError::BadPath(_) | RouteError::BadQuery(_))) => {
                (S::BAD_REQUEST, e.to_string())
            }
            ProxyError::Cql(e) => (S::BAD_REQUEST, e.to_string()),
            ProxyError::RequestBody => (
                S::BAD_REQUEST,
                "Requests to kbgate carry no body".to_owned(),
            ),
            ProxyError::AmbiguousHost => (S::BAD_REQUEST, "Ambiguous request target".to_owned()),
            ProxyError::UnknownHost => (S::BAD_REQUEST, "Unknown host".to_owned()),
            ProxyError::QueryRefusedUpstream => (
                S::BAD_REQUEST,
                "Confluence could not run this search".to_owned(),
            ),
            ProxyError::Upstream(UpstreamError::Timeout) => (
                S::GATEWAY_TIMEOUT,
                "Confluence did not answer in time".to_owned(),
            ),
            ProxyError::Upstream(_)
            | ProxyError::UpstreamMismatch
            | ProxyError::Filter(_)
            | ProxyError::Storage(_) => (
                S::BAD_GATEWAY,
                "Confluence gave an answer kbgate cannot check".to_owned(),
            ),
        }
    }

    /// True for failures worth a warning (upstream trouble); client mistakes log at debug.
    pub fn is_server_side(&self) -> bool {
        self.status_and_message().0.is_server_error()
    }
}

/// The answer for an error.
pub fn to_response(err: &ProxyError, request_id: &str) -> Response<Body> {
    let (status, message) = err.status_and_message();
    if status == StatusCode::NOT_FOUND {
        return response::not_found(request_id);
    }
    response::error(status, &message, request_id)
}
