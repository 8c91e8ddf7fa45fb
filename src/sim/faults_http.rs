//! Answer-level faults added for issue 6 (suite D of `threats.md`): JSON nested 10,000 deep,
//! 502 and 503 echoing titles and the CQL, a redirect to another host, `br` and unknown
//! `Content-Encoding`s, an unexpected `206 Partial Content` or `304 Not Modified`, and
//! Confluence's session headers on an otherwise good answer.
//!
//! Guarantees: every answer built here carries [`MARKER`] — in an `X-Sim-Fault` header always,
//! and in the body whenever the answer has one and is not meant to be good — together with every
//! canary title, so a proxy that forwards any of it is caught by the leak oracle;
//! [`Fault::SessionHeaders`] leaves the body byte for byte as the normal answer (a correct proxy
//! answers normally and drops the headers). Memory is bounded by the normal answer plus the
//! canary titles (the nested document is about 20 KB).
//! Deliberately not: real brotli compression (no encoder among the dependencies: the body is
//! labelled `br` but sent as is), or redirects that lead anywhere reachable (`.invalid` never
//! resolves).

use bytes::Bytes;
use hyper::Response;

use super::confluence::error_body;
use super::faults::{server_error_message, Fault, MARKER, NESTING_DEPTH};
use super::http::{Body, Reply};
use super::json::write_str;

/// The host [`Fault::RedirectElsewhere`] points at (RFC 6761: never resolves).
pub(crate) const ELSEWHERE: &str = "https://sim-elsewhere.invalid";

/// The `X-Sim-Fault` header every issue-6 fault adds to its answer.
pub(crate) fn fault_header(name: &str) -> (&'static str, String) {
    ("X-Sim-Fault", format!("{MARKER} {name}"))
}

/// `body` with a leading `"simFault"` member carrying [`MARKER`], `name` and every canary title
/// when it is a JSON object; any other body (attachment bytes, HTML) unchanged.
pub(crate) fn with_canaries(body: &[u8], titles: &[&str], name: &str) -> Bytes {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(rest) = start
        .filter(|&i| body.get(i) == Some(&b'{'))
        .and_then(|i| body.get(i + 1..))
    else {
        return Bytes::copy_from_slice(body);
    };
    let mut head = String::from("{\"simFault\":");
    write_str(
        &format!("{MARKER} {name}: {}", titles.join(" | ")),
        &mut head,
    );
    let empty = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    if !empty {
        head.push(',');
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(rest);
    Bytes::from(out)
}

/// A JSON document nested exactly `depth` levels (an object, arrays, an object at the bottom
/// holding `leaf` as its title).
pub(crate) fn nested_document(depth: usize, leaf: &str) -> String {
    let arrays = depth.saturating_sub(2);
    let mut s = String::with_capacity(arrays * 2 + leaf.len() + 64);
    s.push_str("{\"results\":");
    s.push_str(&"[".repeat(arrays));
    s.push_str("{\"title\":");
    write_str(leaf, &mut s);
    s.push('}');
    s.push_str(&"]".repeat(arrays));
    s.push_str(",\"size\":1}");
    s
}

/// Applies one of this module's faults to the normal answer `reply` (`titles`: every canary
/// title; `cql`: the echoed query or ""). Any other fault answers `reply` unchanged.
pub(crate) fn apply(fault: &Fault, reply: Reply, titles: &[&str], cql: &str) -> Response<Body> {
    let name = format!("{fault:?}");
    let listed = format!("{MARKER} {name}: {}", titles.join(" | "));
    match fault {
        Fault::DeepNesting => Reply {
            status: 200,
            content_type: "application/json",
            body: Bytes::from(nested_document(NESTING_DEPTH, &listed)),
            headers: vec![fault_header(&name)],
        }
        .into_response(),
        Fault::BadGateway | Fault::ServiceUnavailable => {
            let status = if *fault == Fault::BadGateway {
                502
            } else {
                503
            };
            let msg = format!("{MARKER} {}", server_error_message(titles, cql));
            let mut answer = Reply::json(status, &error_body(status, &msg));
            answer.headers.push(fault_header(&name));
            if status == 503 {
                answer.headers.push(("Retry-After", "1".to_owned()));
            }
            answer.into_response()
        }
        Fault::RedirectElsewhere(code) => {
            let status = if (300..400).contains(code) {
                *code
            } else {
                302
            };
            let mut html = String::from("<html><body><p>Moved to ");
            html.push_str(&super::body::escape_xml(&listed));
            html.push_str("</p></body></html>");
            Reply {
                status,
                content_type: "text/html;charset=UTF-8",
                body: Bytes::from(html),
                headers: vec![
                    ("Location", format!("{ELSEWHERE}/wiki/rest/api/{MARKER}")),
                    fault_header(&name),
                ],
            }
            .into_response()
        }
        Fault::Brotli | Fault::UnknownEncoding => {
            let encoding = if *fault == Fault::Brotli {
                "br"
            } else {
                "x-sim-unknown"
            };
            Reply {
                status: reply.status,
                content_type: reply.content_type,
                body: with_canaries(&reply.body, titles, &name),
                headers: vec![
                    ("Content-Encoding", encoding.to_owned()),
                    fault_header(&name),
                ],
            }
            .into_response()
        }
        Fault::PartialContent => {
            let whole = with_canaries(&reply.body, titles, &name);
            let half = whole.len().div_ceil(2);
            let range = format!("bytes 0-{}/{}", half.saturating_sub(1), whole.len());
            Reply {
                status: 206,
                content_type: reply.content_type,
                body: whole.slice(..half),
                headers: vec![("Content-Range", range), fault_header(&name)],
            }
            .into_response()
        }
        Fault::NotModified => Reply {
            status: 304,
            content_type: reply.content_type,
            body: Bytes::new(),
            headers: vec![
                ("ETag", format!("\"{MARKER}-{}\"", reply.body.len())),
                fault_header(&name),
            ],
        }
        .into_response(),
        Fault::SessionHeaders => {
            let mut reply = reply;
            let session = format!("{MARKER}-0123456789ABCDEF");
            reply.headers.extend([
                (
                    "Set-Cookie",
                    format!("JSESSIONID={session}; Path=/wiki; Secure; HttpOnly"),
                ),
                ("X-AUSERNAME", format!("svc-{MARKER}")),
                ("X-AUSERID", format!("557058:{MARKER}")),
                ("X-ASESSIONID", session),
                ("X-Seraph-LoginReason", "OK".to_owned()),
                fault_header(&name),
            ]);
            reply.into_response()
        }
        _ => reply.into_response(),
    }
}
