//! Misbehaving-upstream faults: while a [`Fault`] is set, every authenticated `/wiki/…` and JSM
//! answer (v1, v2, downloads, JSM knowledge base) is replaced or altered by it. Each fault is
//! built so that a proxy that passes it through leaks (its body carries canary titles, the echoed
//! CQL or the [`MARKER`]), which is what kbgate's tests look for.
//!
//! Three families:
//! - answer faults built here ([`apply`]): invalid JSON, gzip, truncation, oversize, 500, HTML,
//!   wrong shape, delay, duplicate keys, `Set-Cookie`;
//! - more answer faults in `faults_http`: nesting 10,000 deep, 502/503, redirects to another
//!   host, `br` and unknown encodings, 206, 304, Atlassian session headers;
//! - connection faults in `faults_conn` ([`Fault::takes_over_connection`]): the raw socket is
//!   taken over before hyper routes anything — silence, slow headers, slow body, a
//!   `Content-Length` longer than the body, a reset mid-body, an HTTP/1.0 close-delimited body.
//!
//! Guarantees: bounded memory — `Oversized` streams its padding from a static buffer; every
//! fault added for issue 6 (but `Silence`, which sends nothing) carries [`MARKER`] in an
//! `X-Sim-Fault` header, and in its body too unless the answer must stay good
//! (`SessionHeaders`) or has none (304): JSON objects get a leading `"simFault"` member with
//! the marker and every canary title, error and redirect bodies list them; attachment bytes
//! are left as they are. [`Fault::markers`] lists the strings a client of a correct proxy
//! never sees.
//! Deliberately not: faults on the identity-provider routes, on the JSM organizations API, or on
//! 401 answers (a request that fails authentication is answered normally, so credential bugs
//! stay visible).
//! To add a fault: add a variant, its arm in [`apply`] (or in `faults_http` / `faults_conn`), its
//! markers, and a unit test in `faults_tests`.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{stream, StreamExt as _};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::Response;

use super::confluence::{content, error_body, search_result, Ctx, Expand, Shape};
use super::corpus::{ACME_UNDER_SHARED_ID, KB_HOME_ID};
use super::http::{full, response, Body, Reply};
use super::json::J;

/// A way for the simulated Confluence to misbehave (see the module doc of `sim`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 200 `application/json` whose body is broken JSON containing canary titles.
    InvalidJson,
    /// The real answer, gzipped, with `Content-Encoding: gzip` (whatever was asked).
    Gzip,
    /// `Content-Length` of the full answer, half of it sent, then the connection is dropped.
    Truncated,
    /// A valid JSON answer of exactly this many bytes (the real answer padded with spaces when
    /// it fits, else one JSON string).
    Oversized(usize),
    /// 500 whose body echoes every canary title and the CQL.
    ServerError,
    /// 200 `text/html` page listing canary titles.
    WrongContentType,
    /// 200 JSON where `results` is an object (keyed by index) of canary items.
    WrongShape,
    /// Sleep this long, then answer normally.
    Delay(Duration),
    /// An answer whose first object has two `"id"` and two `"title"` keys: a shared item's first,
    /// then an acme item's (carrying its canary).
    DuplicateKeys,
    /// The normal answer plus `Set-Cookie`, `ETag` and `Last-Modified` headers.
    SetCookie,
    /// Connection: accepts and reads the request, then never answers (until the client hangs
    /// up, or at most `faults_conn::SILENCE_CAP`).
    Silence,
    /// Connection: the status line and headers at 1 byte per 100 ms, then the body.
    SlowHeaders,
    /// Connection: the head at once, then the body at 1 byte per 100 ms.
    SlowBody,
    /// Connection: a `Content-Length` larger than the body sent, then a clean close (FIN).
    ShortBody,
    /// Connection: the head and half the body, then a TCP reset (`SO_LINGER` 0).
    ResetMidBody,
    /// Connection: `HTTP/1.0`, no `Content-Length`, `Connection: close` — the body ends when the
    /// connection does.
    Http10CloseDelimited,
    /// 200 JSON nested [`NESTING_DEPTH`] levels deep, the canary titles at the bottom.
    DeepNesting,
    /// 502 whose body echoes every canary title and the CQL.
    BadGateway,
    /// 503 (with `Retry-After`) whose body echoes every canary title and the CQL.
    ServiceUnavailable,
    /// A redirect with this status (301, 302, …) to another host; the body lists canary titles.
    RedirectElsewhere(u16),
    /// The answer labelled `Content-Encoding: br` (not actually compressed: the simulator has
    /// no brotli encoder; a proxy passing it through still leaks).
    Brotli,
    /// The answer labelled with an encoding nobody knows (`x-sim-unknown`).
    UnknownEncoding,
    /// `206 Partial Content` with a `Content-Range` and the first half of the answer.
    PartialContent,
    /// `304 Not Modified` (no body, by definition) with an `ETag` carrying the marker.
    NotModified,
    /// The normal answer plus `Set-Cookie`, `X-AUSERNAME`, `X-AUSERID`, `X-ASESSIONID` and
    /// `X-Seraph-LoginReason`, as Confluence sends them to a logged-in session.
    SessionHeaders,
}

/// A string no real Confluence answer contains: every fault added for issue 6 carries it.
pub const MARKER: &str = "SIM-FAULT-7F3A";

/// How deep [`Fault::DeepNesting`] nests (objects and arrays counted together).
pub const NESTING_DEPTH: usize = 10_000;

impl Fault {
    /// True for the faults that take the raw connection over (`faults_conn`), before hyper
    /// parses or routes anything on it.
    pub fn takes_over_connection(&self) -> bool {
        matches!(
            self,
            Fault::Silence
                | Fault::SlowHeaders
                | Fault::SlowBody
                | Fault::ShortBody
                | Fault::ResetMidBody
                | Fault::Http10CloseDelimited
        )
    }

    /// Strings of this fault's answer (body or headers) that a client of a correct proxy never
    /// sees (compare case-insensitively). Empty for the faults that only rearrange the real
    /// answer (gzip, truncation, oversize, wrong shape, duplicate keys, delay): scan for
    /// canaries instead.
    pub fn markers(&self) -> &'static [&'static str] {
        match self {
            Fault::InvalidJson => &["unterminated, "],
            Fault::ServerError => &["ServiceException", "failed to render results"],
            Fault::WrongContentType => &["Log in - Confluence"],
            Fault::SetCookie => &["SIMSESSION0123456789", "SIM-XSRF-TOKEN"],
            Fault::Gzip
            | Fault::Truncated
            | Fault::Oversized(_)
            | Fault::WrongShape
            | Fault::Delay(_)
            | Fault::DuplicateKeys => &[],
            Fault::BadGateway | Fault::ServiceUnavailable => {
                &[MARKER, "ServiceException", "failed to render results"]
            }
            Fault::Silence
            | Fault::SlowHeaders
            | Fault::SlowBody
            | Fault::ShortBody
            | Fault::ResetMidBody
            | Fault::Http10CloseDelimited
            | Fault::DeepNesting
            | Fault::RedirectElsewhere(_)
            | Fault::Brotli
            | Fault::UnknownEncoding
            | Fault::PartialContent
            | Fault::NotModified
            | Fault::SessionHeaders => &[MARKER],
        }
    }
}

/// Which `/wiki` route a request hit (faults shape their body after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WikiRoute {
    Search,
    Content,
    Other,
}

static SPACES: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// `head`, then `pad` spaces in 64 KiB frames from a static buffer, then `tail`.
fn padding_stream(head: Bytes, pad: usize, tail: Option<Bytes>) -> Body {
    let chunk = SPACES.len();
    let chunks = pad.div_ceil(chunk);
    let spaces = (0..chunks).map(move |i| {
        let len = (pad - i * chunk).min(chunk);
        Ok::<_, io::Error>(Frame::data(Bytes::from_static(
            SPACES.get(..len).unwrap_or(&[]),
        )))
    });
    let frames = std::iter::once(Ok(Frame::data(head)))
        .chain(spaces)
        .chain(tail.map(|t| Ok(Frame::data(t))));
    BodyExt::boxed(StreamBody::new(stream::iter(frames)))
}

fn oversized(reply: Reply, n: usize) -> Response<Body> {
    let headers = [
        ("Content-Type", "application/json;charset=UTF-8".to_owned()),
        ("Content-Length", n.to_string()),
    ];
    let real = reply.body.len();
    let (status, body) = if n >= real {
        (reply.status, padding_stream(reply.body, n - real, None))
    } else if n >= 2 {
        let quote = Bytes::from_static(b"\"");
        (200, padding_stream(quote.clone(), n - 2, Some(quote)))
    } else {
        (
            200,
            full(Bytes::from_static(if n == 1 { b"0" } else { b"" })),
        )
    };
    response(status, &headers, body)
}

fn truncated(reply: Reply) -> Response<Body> {
    let half = reply.body.slice(..reply.body.len() / 2);
    // The pause lets hyper flush the head and the first half before the error drops the
    // connection; erroring at once would drop the unsent head as well.
    let abort = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "simulated truncation",
        ))
    };
    let frames = stream::iter([Ok(Frame::data(half))]).chain(stream::once(abort));
    let headers = [
        ("Content-Type", reply.content_type.to_owned()),
        ("Content-Length", reply.body.len().to_string()),
    ];
    response(
        reply.status,
        &headers,
        BodyExt::boxed(StreamBody::new(frames)),
    )
}

fn gzip(reply: Reply) -> Response<Body> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let zipped = enc.write_all(&reply.body).and_then(|()| enc.finish());
    match zipped {
        Ok(bytes) => {
            let headers = [
                ("Content-Type", reply.content_type.to_owned()),
                ("Content-Encoding", "gzip".to_owned()),
            ];
            response(reply.status, &headers, full(Bytes::from(bytes)))
        }
        Err(_) => Reply::json(500, &error_body(500, "gzip failed")).into_response(),
    }
}

/// Inserts `key: value` right after the first `after` key of an object.
fn insert_after(obj: &mut J, after: &str, key: &str, value: J) {
    if let J::Obj(entries) = obj {
        let at = entries
            .iter()
            .position(|(k, _)| k == after)
            .map_or(entries.len(), |i| i + 1);
        entries.insert(at, (key.to_owned(), value));
    }
}

fn duplicate_keys(ctx: &Ctx<'_>, route: WikiRoute, cql: &str) -> Reply {
    let (Some(shared), Some(hidden)) = (
        ctx.corpus.get(KB_HOME_ID),
        ctx.corpus.get(ACME_UNDER_SHARED_ID),
    ) else {
        return Reply::json(500, &error_body(500, "corpus incomplete"));
    };
    let none = Expand::default();
    let shape = if route == WikiRoute::Search {
        Shape::Search
    } else {
        Shape::ById
    };
    let mut first = content(ctx, shared, &none, shape);
    insert_after(&mut first, "id", "id", J::from(&hidden.id));
    insert_after(&mut first, "title", "title", J::from(&hidden.title));
    if route != WikiRoute::Search {
        return Reply::json(200, &first);
    }
    let mut result = search_result(
        ctx,
        shared,
        &none,
        shared.title.clone(),
        shared.text.clone(),
        1.0,
    );
    result.set("content", first);
    insert_after(&mut result, "title", "title", J::from(&hidden.title));
    let body = J::obj()
        .with("results", J::Arr(vec![result]))
        .with("start", 0u32)
        .with("limit", 25u32)
        .with("size", 1u32)
        .with("totalSize", 1u32)
        .with("cqlQuery", cql)
        .with("searchDuration", 12u32)
        .with(
            "_links",
            J::obj().with("base", ctx.wiki()).with("context", "/wiki"),
        );
    Reply::json(200, &body)
}

fn wrong_shape(ctx: &Ctx<'_>, cql: &str) -> Reply {
    let none = Expand::default();
    let mut results = J::obj();
    let mut n = 0usize;
    for item in ctx.corpus.items().iter().filter(|i| i.canary.is_some()) {
        let r = search_result(ctx, item, &none, item.title.clone(), item.text.clone(), 1.0);
        results.push(&n.to_string(), r);
        n += 1;
    }
    let body = J::obj()
        .with("results", results)
        .with("start", 0u32)
        .with("limit", 25u32)
        .with("size", n)
        .with("totalSize", n)
        .with("cqlQuery", cql)
        .with(
            "_links",
            J::obj().with("base", ctx.wiki()).with("context", "/wiki"),
        );
    Reply::json(200, &body)
}

/// Applies `fault` to the normal answer `reply` of a request on `route` (with `cql`, or "").
/// `Delay` is handled by the caller (it needs to await) and answers `reply` unchanged here.
pub(crate) fn apply(
    fault: &Fault,
    reply: Reply,
    ctx: &Ctx<'_>,
    route: WikiRoute,
    cql: &str,
) -> Response<Body> {
    let titles = ctx.corpus.canary_titles();
    match fault {
        Fault::Delay(_) => reply.into_response(),
        Fault::InvalidJson => {
            let mut s = String::from("{\"results\":[");
            for t in &titles {
                s.push_str("{\"title\":");
                super::json::write_str(t, &mut s);
                s.push_str("},");
            }
            s.push_str("{\"title\":\"unterminated, ");
            Reply {
                status: 200,
                content_type: "application/json",
                body: Bytes::from(s),
                headers: Vec::new(),
            }
            .into_response()
        }
        Fault::Gzip => gzip(reply),
        Fault::Truncated => truncated(reply),
        Fault::Oversized(n) => oversized(reply, *n),
        Fault::ServerError => {
            Reply::json(500, &error_body(500, &server_error_message(&titles, cql))).into_response()
        }
        Fault::WrongContentType => {
            let mut html = String::from(
                "<!DOCTYPE html><html><head><title>Log in - Confluence</title></head><body><ul>",
            );
            for t in &titles {
                html.push_str(&format!("<li>{}</li>", super::body::escape_xml(t)));
            }
            html.push_str("</ul></body></html>");
            Reply {
                status: 200,
                content_type: "text/html;charset=UTF-8",
                body: Bytes::from(html),
                headers: Vec::new(),
            }
            .into_response()
        }
        Fault::WrongShape => wrong_shape(ctx, cql).into_response(),
        Fault::DuplicateKeys => duplicate_keys(ctx, route, cql).into_response(),
        Fault::SetCookie => {
            let mut reply = reply;
            reply.headers.push((
                "Set-Cookie",
                "JSESSIONID=SIMSESSION0123456789; Path=/wiki; Secure; HttpOnly".to_owned(),
            ));
            reply.headers.push((
                "Set-Cookie",
                "atlassian.xsrf.token=SIM-XSRF-TOKEN; Path=/wiki; Secure".to_owned(),
            ));
            reply
                .headers
                .push(("ETag", format!("\"sim-{:x}\"", reply.body.len())));
            reply
                .headers
                .push(("Last-Modified", "Mon, 01 Jan 2024 08:00:00 GMT".to_owned()));
            reply.into_response()
        }
        Fault::Silence
        | Fault::SlowHeaders
        | Fault::SlowBody
        | Fault::ShortBody
        | Fault::ResetMidBody
        | Fault::Http10CloseDelimited => super::faults_conn::mark(reply),
        Fault::DeepNesting
        | Fault::BadGateway
        | Fault::ServiceUnavailable
        | Fault::RedirectElsewhere(_)
        | Fault::Brotli
        | Fault::UnknownEncoding
        | Fault::PartialContent
        | Fault::NotModified
        | Fault::SessionHeaders => super::faults_http::apply(fault, reply, &titles, cql),
    }
}

/// The message of Confluence's 5xx error body: a Java exception echoing the CQL and `titles`.
pub(crate) fn server_error_message(titles: &[&str], cql: &str) -> String {
    format!(
        "com.atlassian.confluence.api.service.exceptions.ServiceException: \
         failed to render results for cql '{cql}': {}",
        titles.join(" | ")
    )
}
