//! HTTP answers for the KB site's pages and stylesheet, with the site's security headers.
//!
//! Guarantees: every answer carries a Content-Security-Policy that allows no script at all,
//! styles and images only from kbgate (plus the configured logo's origin, see [`csp_for`]),
//! forms only to kbgate, no `<base>` and no framing; `X-Content-Type-Options: nosniff`;
//! `Referrer-Policy: same-origin`; `X-Frame-Options: DENY`; `Vary: Cookie, Authorization`;
//! the request id. Pages are `Cache-Control: private, no-store` (they show one customer's
//! view). The stylesheet is `private, max-age=300`: it carries no customer data (only the
//! configured branding), so a browser may reuse it for five minutes, but no shared cache
//! keeps it.
//!
//! `Referrer-Policy` is `same-origin` rather than `no-referrer`: other sites (the support link)
//! learn nothing, while kbgate's own form posts keep a real `Origin` header (browsers send
//! `Origin: null` under `no-referrer`, which would defeat an origin check on sign-out).
//!
//! Deliberately not: choosing the status or the body (the handlers and `pages` do), API
//! answers (`crate::response`).

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, VARY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderValue, Response, StatusCode};

use super::model::Branding;
use crate::response::{full, Body};

/// The site's Content-Security-Policy when the logo (if any) is served by kbgate itself.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The site's CSP for `branding`, computed once at startup: [`CSP`], with the logo's origin
/// (`https://host[:port]`) added to `img-src` when `logo_url` is an absolute `https` URL.
/// A logo URL that is not a clean https URL adds nothing (the page then shows no logo
/// anyway, or the browser blocks it).
pub fn csp_for(branding: &Branding) -> String {
    match branding.logo_url.as_deref().and_then(logo_origin) {
        Some(origin) => CSP.replacen("img-src 'self'", &format!("img-src 'self' {origin}"), 1),
        None => CSP.to_owned(),
    }
}

/// `https://host[:port]` of an absolute https URL whose host is a plain DNS name or address.
fn logo_origin(url: &str) -> Option<String> {
    let uri = url.parse::<http::Uri>().ok()?;
    if uri.scheme_str() != Some("https") {
        return None;
    }
    let authority = uri.authority()?;
    let host = authority.host();
    let clean = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b));
    if !clean {
        return None;
    }
    Some(match authority.port_u16() {
        Some(port) => format!("https://{host}:{port}"),
        None => format!("https://{host}"),
    })
}

/// An HTML page with the site's headers and `csp` (from [`csp_for`]; a value that is not a
/// valid header falls back to [`CSP`]).
pub fn html(status: StatusCode, body: String, request_id: &str, csp: &str) -> Response<Body> {
    let mut resp = with_headers(body, "text/html; charset=utf-8", request_id, csp);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    resp
}

/// The stylesheet with the site's headers; cacheable by the browser for five minutes.
pub fn css(body: String, request_id: &str) -> Response<Body> {
    let mut resp = with_headers(body, "text/css; charset=utf-8", request_id, CSP);
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    resp
}

/// A 200 answer with every header the site's answers share.
fn with_headers(
    body: String,
    content_type: &'static str,
    request_id: &str,
    csp: &str,
) -> Response<Body> {
    let mut resp = Response::new(full(body));
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let csp = HeaderValue::from_str(csp).unwrap_or_else(|_| HeaderValue::from_static(CSP));
    h.insert(CONTENT_SECURITY_POLICY, csp);
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(VARY, HeaderValue::from_static("Cookie, Authorization"));
    crate::response::set_request_id(h, request_id);
    resp
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    fn shared_headers(resp: &Response<Body>, csp: &str) {
        let h = resp.headers();
        assert_eq!(h[CONTENT_SECURITY_POLICY], csp);
        assert_eq!(h[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[REFERRER_POLICY], "same-origin");
        assert_eq!(h[X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[VARY], "Cookie, Authorization");
        assert_eq!(h["x-request-id"], "rid-7");
    }

    #[tokio::test]
    async fn html_pages_carry_every_security_header_and_are_never_stored() {
        let resp = html(StatusCode::NOT_FOUND, "<p>x</p>".to_owned(), "rid-7", CSP);
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        shared_headers(&resp, CSP);
        assert_eq!(resp.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(resp.headers()[CACHE_CONTROL], "private, no-store");
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"<p>x</p>");
    }

    #[test]
    fn the_stylesheet_carries_every_security_header_and_a_short_private_cache() {
        let resp = css("body{}".to_owned(), "rid-7");
        assert_eq!(resp.status(), StatusCode::OK);
        shared_headers(&resp, CSP);
        assert_eq!(resp.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(resp.headers()[CACHE_CONTROL], "private, max-age=300");
    }

    #[test]
    fn the_policy_allows_no_script_no_framing_and_only_kbgates_styles() {
        for directive in [
            "default-src 'none'",
            "style-src 'self'",
            "img-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(CSP.split("; ").any(|d| d == directive), "{directive}");
        }
        assert!(!CSP.contains("script-src") && !CSP.contains("unsafe"));
    }

    #[test]
    fn an_absolute_https_logo_adds_only_its_origin_to_img_src() {
        let branding = |logo: Option<&str>| Branding {
            logo_url: logo.map(str::to_owned),
            ..Branding::default()
        };
        assert_eq!(csp_for(&branding(None)), CSP);
        assert_eq!(csp_for(&branding(Some("/logo.png"))), CSP);
        let csp = csp_for(&branding(Some(
            "https://cdn.example.com:8443/a/logo.png?v=1",
        )));
        assert!(
            csp.contains("img-src 'self' https://cdn.example.com:8443;"),
            "{csp}"
        );
        assert!(!csp.contains("logo.png"));
        for bad in [
            "http://cdn.example.com/logo.png",
            "https://cdn.example.com;x/logo.png",
        ] {
            assert_eq!(csp_for(&branding(Some(bad))), CSP, "{bad}");
        }
    }

    #[test]
    fn a_policy_that_is_not_a_header_value_falls_back_to_the_strict_one() {
        let resp = html(StatusCode::OK, String::new(), "rid-7", "bad\nvalue");
        assert_eq!(resp.headers()[CONTENT_SECURITY_POLICY], CSP);
    }
}
