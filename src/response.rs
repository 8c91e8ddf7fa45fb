//! kbgate's own HTTP answers: the success envelope for filtered JSON and every error body.
//!
//! Every answer kbgate sends is built here, so every answer carries the same hygiene headers
//! (`Cache-Control: private, no-store`, `Vary`, `X-Content-Type-Options`, the request id) and no
//! error body ever contains upstream bytes: error messages are fixed strings chosen by status.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};

/// Why a streamed body stopped early (an upstream download cut or timed out).
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// The body type of every kbgate response: a whole buffer, or a stream (downloads).
pub type Body = UnsyncBoxBody<Bytes, BodyError>;

/// The header that carries kbgate's request id, on every answer and every upstream request.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Sets `x-request-id` (ids come from kbgate or passed its charset check, so they are valid
/// header values; one that is not is left out).
pub fn set_request_id(h: &mut HeaderMap, request_id: &str) {
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert(X_REQUEST_ID, id);
    }
}

/// A body of these bytes.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A JSON answer with kbgate's hygiene headers.
pub fn json(status: StatusCode, body: impl Into<Bytes>, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    // One allocation for all of kbgate's headers (an empty map grows twice on the way).
    h.reserve(8);
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(VARY, HeaderValue::from_static("Authorization, Cookie"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    set_request_id(h, request_id);
    resp
}

/// A kbgate error answer: `{"statusCode":N,"message":"…"}` (Confluence's error shape, so clients
/// parse it), with `WWW-Authenticate` on 401.
pub fn error(status: StatusCode, message: &str, request_id: &str) -> Response<Body> {
    let body = format!(
        "{{\"statusCode\":{},\"message\":{}}}",
        status.as_u16(),
        json_string(message)
    );
    let mut resp = json(status, body, request_id);
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if message == MISSING_TOKEN {
            "Bearer realm=\"kbgate\""
        } else {
            "Bearer realm=\"kbgate\", error=\"invalid_token\""
        };
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        resp.headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    resp
}

/// A streamed attachment: always a download (`Content-Disposition: attachment` with the
/// RFC 5987-encoded name), `nosniff`, and a CSP that sandboxes the file if a browser renders it
/// anyway, so an uploaded HTML or SVG file never runs on kbgate's origin.
pub fn download(
    file_name: &str,
    download: crate::confluence::Download,
    request_id: &str,
) -> Response<Body> {
    let mut resp = Response::new(download.body);
    let h = resp.headers_mut();
    // One allocation for all of kbgate's headers (an empty map grows twice on the way).
    h.reserve(8);
    h.insert(CONTENT_TYPE, download.content_type);
    if let Some(len) = download.content_length {
        h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    let prefix = "attachment; filename*=UTF-8''";
    let mut disposition = String::with_capacity(prefix.len() + file_name.len() * 3);
    disposition.push_str(prefix);
    disposition.extend(percent_encoding::utf8_percent_encode(
        file_name,
        percent_encoding::NON_ALPHANUMERIC,
    ));
    if let Ok(v) = HeaderValue::from_maybe_shared(Bytes::from(disposition)) {
        h.insert(http::header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(VARY, HeaderValue::from_static("Authorization, Cookie"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    set_request_id(h, request_id);
    resp
}

/// The 401 message when no credentials were sent (the challenge then carries no error code).
pub const MISSING_TOKEN: &str = "Authentication required";

/// An answer with no body (webhooks), with the hygiene headers.
pub fn empty(status: StatusCode, request_id: &str) -> Response<Body> {
    let mut resp = json(status, Bytes::new(), request_id);
    resp.headers_mut().remove(CONTENT_TYPE);
    resp
}

/// The one not-found answer, for missing and hidden content and unknown routes alike.
pub fn not_found(request_id: &str) -> Response<Body> {
    error(StatusCode::NOT_FOUND, "Not found", request_id)
}

/// Encodes `s` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_json_with_hygiene_headers() {
        let r = error(StatusCode::UNAUTHORIZED, "Invalid token", "rid-1");
        assert_eq!(r.headers()[CACHE_CONTROL], "private, no-store");
        assert_eq!(r.headers()["x-request-id"], "rid-1");
        assert!(r.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\""));
        let r = error(StatusCode::UNAUTHORIZED, MISSING_TOKEN, "rid-1");
        assert!(!r.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("error="));
    }

    #[test]
    fn json_strings_escape_everything_that_could_break_out() {
        assert_eq!(
            json_string("a\"b\\c\n<x>"),
            "\"a\\\"b\\\\c\\n\\u003cx\\u003e\""
        );
    }
}
