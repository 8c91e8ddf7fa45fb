//! Where kbgate may send a browser after sign-in (`rd`), and which requests are browser
//! navigations that should be sent to sign in rather than answered 401.
//!
//! Guarantees ([`safe_target`], threats.md S1): the result is always a relative path on kbgate's
//! own origin — one leading `/` not followed by `/` or `\`, no backslash, no control or
//! whitespace characters, no non-ASCII, no fragment — and the same holds after percent-decoding
//! it up to three times, so `/%2F%2Fevil.com`, `/%09/evil.com` and `/%5Cevil.com` are refused;
//! the accepted path is re-serialized from its parsed form. Anything else becomes `/`.
//! Deliberately not: any allow-list of hosts (kbgate never redirects off its origin after
//! sign-in).

use http::{HeaderMap, Method};

/// Longest `rd` accepted.
pub const MAX_TARGET_BYTES: usize = 2048;

/// `raw` (already query-decoded once) if it is a safe relative path on this origin, else `/`.
pub fn safe_target(raw: Option<&str>) -> String {
    raw.and_then(checked).unwrap_or_else(|| "/".to_owned())
}

fn checked(raw: &str) -> Option<String> {
    if raw.len() > MAX_TARGET_BYTES || !plain_path(raw) {
        return None;
    }
    let mut current = raw.to_owned();
    for _ in 0..3 {
        let decoded = percent_encoding::percent_decode_str(&current)
            .decode_utf8()
            .ok()?
            .into_owned();
        if decoded == current {
            break;
        }
        if !decoded_path(&decoded) {
            return None;
        }
        current = decoded;
    }
    let parsed: http::uri::PathAndQuery = raw.parse().ok()?;
    let out = parsed.as_str().to_owned();
    plain_path(&out).then_some(out)
}

/// One leading `/`, not followed by `/` or `\`; visible ASCII only; no `\` or `#` anywhere.
fn plain_path(s: &str) -> bool {
    let b = s.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && b.iter()
            .all(|&c| c.is_ascii_graphic() && c != b'\\' && c != b'#')
}

/// A percent-decoded form: still one leading `/` not followed by `/` or `\`, and no backslash,
/// control or whitespace character (non-ASCII is fine: it was encoded in the raw form).
fn decoded_path(s: &str) -> bool {
    let b = s.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        && !s
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

/// True for a browser's top-level navigation: `GET`/`HEAD`, no `Authorization`, an `Accept`
/// that prefers `text/html` to JSON, and (when the browser says) `Sec-Fetch-Mode: navigate`.
pub fn is_browser_navigation(method: &Method, headers: &HeaderMap) -> bool {
    if !matches!(*method, Method::GET | Method::HEAD)
        || headers.contains_key(http::header::AUTHORIZATION)
    {
        return false;
    }
    if let Some(mode) = headers.get("sec-fetch-mode") {
        if mode.as_bytes() != b"navigate" {
            return false;
        }
    }
    let Some(accept) = headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let html = quality(accept, "text/html");
    html > 0 && html >= quality(accept, "application/json")
}

/// The `q` (in thousandths) `accept` gives `media` exactly (wildcards do not count).
fn quality(accept: &str, media: &str) -> u32 {
    accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let name = parts.next()?.trim();
            if !name.eq_ignore_ascii_case(media) {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map_or(1000, parse_q);
            Some(q)
        })
        .max()
        .unwrap_or(0)
}

fn parse_q(text: &str) -> u32 {
    let text = text.trim();
    match text.split_once('.') {
        None => text.parse::<u32>().map_or(0, |n| n.min(1) * 1000),
        Some((int, frac)) => {
            let int: u32 = int.parse().unwrap_or(0);
            let digits: String = frac.chars().take(3).collect();
            let scale = 10u32.pow(3u32.saturating_sub(digits.len() as u32));
            let frac: u32 = digits.parse().unwrap_or(0);
            (int.min(1) * 1000 + frac * scale).min(1000)
        }
    }
}
