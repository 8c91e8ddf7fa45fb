//! The simulator's HTTP/1.1 server: accept loop, request recording, service-account
//! authentication, routing of the Confluence (`/wiki/…`), JSM (`/rest/servicedeskapi/…`, see
//! `jsm`; organizations, see `jsm_orgs`, served with the agent's or the service account's
//! credentials) and identity-provider (`/idp/…`) routes, and fault injection (on `/wiki` and JSM).
//!
//! Guarantees: every request is recorded (bounded ring); `/wiki` answers 401 without the
//! service account's Basic credentials; unknown routes and ids answer 404 in Confluence's error
//! shape (which, like Confluence, echoes the URI); the server task and every connection end when
//! the handle shuts down or is dropped. Deliberately not: TLS, HTTP/2, keep-alive tuning or
//! request-body handling (every route is a GET or HEAD).

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::confluence::{content, content_page, error_body, labels, Ctx, Expand, Shape};
use super::content_list;
use super::faults::{self, Fault, WikiRoute};
use super::idp;
use super::jsm;
use super::json::J;
use super::search::{search, Params};
use super::spaces;
use super::{RecordedRequest, State, MAX_RECORDED};

/// Response body type of every simulator answer.
pub(crate) type Body = BoxBody<Bytes, io::Error>;

/// A complete, in-memory answer before faults are applied.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON answer.
    pub(crate) fn json(status: u16, body: &J) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=UTF-8",
            body: Bytes::from(body.to_json()),
            headers: Vec::new(),
        }
    }

    /// The HTTP response for this answer.
    pub(crate) fn into_response(self) -> Response<Body> {
        let mut headers = vec![("Content-Type", self.content_type.to_owned())];
        headers.extend(self.headers);
        response(self.status, &headers, full(self.body))
    }
}

/// A body holding `bytes`.
pub(crate) fn full(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// Builds a response; invalid header values are skipped rather than panicking.
pub(crate) fn response(status: u16, headers: &[(&str, String)], body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(*name), HeaderValue::from_str(value)) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// Accepts connections until `shutdown` flips (or its sender is dropped), then drops every
/// connection.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                let state = Arc::clone(&state);
                let state_for_conn = Arc::clone(&state);
                conns.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(handle(&state, req).await) }
                    });
                    // Connection faults (issue 6) take the raw socket over here, before hyper
                    // parses or routes anything; otherwise hyper serves it (faults_conn::serve).
                    super::faults_conn::serve(stream, state_for_conn, service).await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

fn record(state: &State, req: &Request<Incoming>) {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let entry = RecordedRequest {
        method: req.method().as_str().to_owned(),
        path_and_query: req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        headers,
    };
    let mut log = state.requests.lock().unwrap_or_else(|e| e.into_inner());
    if log.len() >= MAX_RECORDED {
        log.pop_front();
    }
    log.push_back(entry);
}

fn authorized(state: &State, req: &Request<Incoming>) -> bool {
    if state.opts.datacenter {
        return req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, cred)| {
                scheme.eq_ignore_ascii_case("bearer") && cred.trim() == state.opts.service_token
            });
    }
    let expected = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        state.opts.service_email, state.opts.service_token
    ));
    req.headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, cred)| {
            scheme.eq_ignore_ascii_case("basic") && cred.trim() == expected
        })
}

fn not_found_uri(state: &State, req: &Request<Incoming>) -> Reply {
    let pq = req.uri().path_and_query().map_or("/", |p| p.as_str());
    Reply::json(
        404,
        &error_body(404, &format!("null for uri: {}{pq}", state.base_url)),
    )
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    record(state, &req);
    let mut path = req.uri().path().to_owned();
    if let Some(rest) = path.strip_prefix("/idp/") {
        if matches!(rest, "authorize" | "token" | "logout") {
            return super::idp_login::route(state, rest, req)
                .await
                .into_response();
        }
        return idp_route(state, rest, &req).into_response();
    }
    if state.opts.datacenter {
        // Data Center has no `/wiki` context: serve its paths with the Cloud routes.
        if path == "/wiki" || path.starts_with("/wiki/") {
            return not_found_uri(state, &req).into_response();
        }
        if path.starts_with("/rest/api/") || path.starts_with("/download/") {
            path = format!("/wiki{path}");
        }
    }
    let jsm = path.starts_with("/rest/servicedeskapi/");
    if !jsm && path != "/wiki" && !path.starts_with("/wiki/") {
        return not_found_uri(state, &req).into_response();
    }
    if jsm && matches!(*req.method(), Method::GET | Method::HEAD) {
        let authorization = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let service_ok = authorized(state, &req);
        if let Some((status, body)) = super::jsm_orgs::route(
            &state.jsm_orgs,
            &state.base_url,
            &path,
            req.uri().query(),
            authorization,
            service_ok,
        ) {
            return Reply::json(status, &body).into_response();
        }
    }
    if jsm && !authorized(state, &req) {
        return Reply::json(401, &jsm::unauthorized()).into_response();
    }
    if !authorized(state, &req) {
        let body = error_body(401, "Current user not permitted to use Confluence");
        return Reply::json(401, &body).into_response();
    }
    let params = Params::parse(req.uri().query());
    let ctx = Ctx {
        corpus: &state.corpus,
        base_url: &state.base_url,
    };
    let (route, reply) = if matches!(*req.method(), Method::GET | Method::HEAD) {
        if jsm {
            let (status, body) = jsm::route(&ctx, &path, &params);
            (WikiRoute::Other, Reply::json(status, &body))
        } else {
            wiki_route(state, &ctx, &path, &params, &req)
        }
    } else {
        let msg = format!("Method {} is not supported by this route", req.method());
        (WikiRoute::Other, Reply::json(405, &error_body(405, &msg)))
    };
    let fault = state
        .fault
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match fault {
        None => reply.into_response(),
        Some(fault) => {
            if let Fault::Delay(d) = fault {
                tokio::time::sleep(d).await;
            }
            let echoed = params.get("cql").or_else(|| params.get("query"));
            faults::apply(&fault, reply, &ctx, route, echoed.unwrap_or(""))
        }
    }
}

/// `start` and `limit` of a v1 list request (limit clamped to `1..=max`).
fn start_limit(params: &Params, default_limit: usize, max: usize) -> (usize, usize) {
    let start = params
        .get("start")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let limit = params
        .get("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_limit)
        .clamp(1, max);
    (start, limit)
}

fn idp_route(state: &State, rest: &str, req: &Request<Incoming>) -> Reply {
    let keys = &state.idp_keys;
    let doc = match rest {
        ".well-known/openid-configuration" if keys.is_down() => Err(true),
        ".well-known/openid-configuration" => Ok(idp::openid_configuration(
            &state.issuer,
            keys.discovery_issuer().as_deref(),
        )),
        ".well-known/jwks.json" => keys.serve_jwks().ok_or(true),
        _ => Err(false),
    };
    if doc == Err(true) {
        return Reply {
            status: 503,
            content_type: "application/json",
            body: Bytes::from_static(br#"{"error":"temporarily_unavailable"}"#),
            headers: Vec::new(),
        };
    }
    match (matches!(*req.method(), Method::GET | Method::HEAD), doc) {
        (true, Ok(doc)) => Reply {
            status: 200,
            content_type: "application/json",
            body: Bytes::from(doc),
            headers: vec![("Cache-Control", "public, max-age=300".to_owned())],
        },
        _ => not_found_uri(state, req),
    }
}

fn wiki_route(
    state: &State,
    ctx: &Ctx<'_>,
    path: &str,
    params: &Params,
    req: &Request<Incoming>,
) -> (WikiRoute, Reply) {
    if let Some(answer) = super::v2::route(ctx, path, params) {
        return answer;
    }
    if let Some(answer) = super::download::route(ctx, path) {
        return answer;
    }
    if path == "/wiki/rest/api/search" {
        let (status, body) = search(ctx, params);
        return (WikiRoute::Search, Reply::json(status, &body));
    }
    if path == "/wiki/rest/api/content/search" {
        let (status, body) = content_list::content_search(ctx, params);
        return (WikiRoute::Content, Reply::json(status, &body));
    }
    if path == "/wiki/rest/api/content" {
        let (status, body) = content_list::content_listing(ctx, params);
        return (WikiRoute::Content, Reply::json(status, &body));
    }
    if path == "/wiki/rest/api/space" {
        let (status, body) = spaces::space_list(ctx, params);
        return (WikiRoute::Other, Reply::json(status, &body));
    }
    if let Some(key) = path
        .strip_prefix("/wiki/rest/api/space/")
        .filter(|key| !key.is_empty() && !key.contains('/'))
    {
        let (status, body) = spaces::space_by_key(ctx, key, params);
        return (WikiRoute::Other, Reply::json(status, &body));
    }
    let Some(rest) = path.strip_prefix("/wiki/rest/api/content/") else {
        return (WikiRoute::Other, not_found_uri(state, req));
    };
    let mut parts = rest.split('/');
    let id = parts.next().unwrap_or("");
    let tail: Vec<&str> = parts.collect();
    let Some(item) = ctx.corpus.get(id) else {
        let body = error_body(404, &format!("No content found with id: {id}"));
        return (WikiRoute::Content, Reply::json(404, &body));
    };
    let expand = Expand::parse(params.get("expand").unwrap_or(""));
    let reply = match tail.as_slice() {
        [] | [""] => Reply::json(200, &content(ctx, item, &expand, Shape::ById)),
        ["label"] => Reply::json(200, &labels(ctx, item, true)),
        ["child", "page"] => {
            let self_path = format!("/rest/api/content/{id}/child/page");
            Reply::json(
                200,
                &content_page(ctx, &ctx.corpus.children(id), &expand, &self_path),
            )
        }
        ["child"] => Reply::json(
            200,
            &super::content::tree(ctx, item, "child", &ctx.corpus.children(id), &expand),
        ),
        ["descendant"] => Reply::json(
            200,
            &super::content::tree(
                ctx,
                item,
                "descendant",
                &ctx.corpus.descendants(id),
                &expand,
            ),
        ),
        ["child", "attachment"] => {
            let all = ctx
                .corpus
                .attachments(id)
                .into_iter()
                .filter(|a| params.get("filename").is_none_or(|f| f == a.file_name))
                .map(|a| super::files_json::attachment(ctx, item, a))
                .collect();
            let (start, limit) = start_limit(params, 25, 200);
            let path = format!("/rest/api/content/{id}/child/attachment");
            Reply::json(
                200,
                &super::files_json::paged(ctx, all, start, limit, &path),
            )
        }
        // As Cloud does, the REST download answers with a redirect to the file's bytes.
        ["child", "attachment", att, "download"] => match ctx.corpus.attachment(att) {
            Some(a) if a.page_id == *id => Reply {
                status: 302,
                content_type: "text/plain",
                body: Bytes::new(),
                headers: vec![(
                    "Location",
                    format!(
                        "{}{}/{}",
                        super::download::PREFIX,
                        a.page_id,
                        super::files_json::encode_file_name(&a.file_name)
                    ),
                )],
            },
            _ => Reply::json(404, &error_body(404, "Attachment not found")),
        },
        ["child", "comment"] => {
            let all = ctx
                .corpus
                .comments(id)
                .into_iter()
                .map(|c| super::files_json::comment(ctx, item, c, &expand))
                .collect();
            let (start, limit) = start_limit(params, 25, 100);
            let path = format!("/rest/api/content/{id}/child/comment");
            Reply::json(
                200,
                &super::files_json::paged(ctx, all, start, limit, &path),
            )
        }
        ["descendant", "page"] => {
            let self_path = format!("/rest/api/content/{id}/descendant/page");
            Reply::json(
                200,
                &content_page(ctx, &ctx.corpus.descendants(id), &expand, &self_path),
            )
        }
        _ => not_found_uri(state, req),
    };
    (WikiRoute::Content, reply)
}
