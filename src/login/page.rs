//! The answers of the login routes: redirects carrying cookies, and small static HTML pages.
//!
//! Guarantees: every answer has `Cache-Control: private, no-store`, `nosniff`,
//! `Referrer-Policy: no-referrer` (a callback URL holds a code) and the request id; pages carry a
//! CSP that allows no script, no frames and no framing; page text is fixed by kbgate and
//! HTML-escaped, never taken from the provider. Deliberately not: branding or templates (the KB
//! site of issue 5 owns the look of pages).

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};

use crate::response::{self, Body};

/// The CSP of login pages: the KB site's stylesheet and nothing else (no inline anything).
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; \
                            base-uri 'none'; form-action 'self'";

fn hygiene(resp: &mut Response<Body>, request_id: &str, cookies: Vec<HeaderValue>) {
    let h = resp.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    crate::response::set_request_id(h, request_id);
    for cookie in cookies {
        h.append(SET_COOKIE, cookie);
    }
}

/// `302 Found` to `location` (kbgate's own path or the provider's URL), setting `cookies`.
pub fn redirect(location: &str, cookies: Vec<HeaderValue>, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(response::full(""));
    *resp.status_mut() = StatusCode::FOUND;
    match HeaderValue::from_str(location) {
        Ok(v) => {
            resp.headers_mut().insert(LOCATION, v);
        }
        Err(_) => {
            resp.headers_mut()
                .insert(LOCATION, HeaderValue::from_static("/"));
        }
    }
    hygiene(&mut resp, request_id, cookies);
    resp
}

/// A small HTML page: a title, one paragraph, and optionally one link (kbgate's own path).
pub fn html(
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
    cookies: Vec<HeaderValue>,
    request_id: &str,
) -> Response<Body> {
    let link = link
        .map(|(href, text)| format!("<p><a href=\"{}\">{}</a></p>", escape(href), escape(text)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/_kbgate/site.css\"></head>\
         <body><main id=\"main\"><h1>{title}</h1><p>{message}</p>{link}\
         <p><small>Request id: {id}</small></p></main></body></html>\n",
        title = escape(title),
        message = escape(message),
        id = escape(request_id),
    );
    let mut resp = Response::new(response::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp.headers_mut()
        .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    hygiene(&mut resp, request_id, cookies);
    resp
}

/// Escapes text for HTML content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
