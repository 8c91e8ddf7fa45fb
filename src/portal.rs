//! The customer KB site's building blocks. Today: kbgate's own article renderer
//! ([`render_storage`]), which turns a storage-format body into sanitized HTML.
//!
//! Guarantees: every byte of HTML the renderer returns is written by kbgate from a fixed
//! vocabulary (allowlisted elements, kbgate's own class names, URLs from the caller's
//! callbacks or absolute `http:`/`https:`/`mailto:` URLs); all text is escaped; the body's own
//! markup is never copied.
//!
//! Deliberately not done here (yet): routes, templates, sessions and security headers of the
//! site (later pieces of issue 5); deciding visibility (the caller's callbacks do).
//!
//! # Layout
//! - `render`: the storage-format → HTML pass and its types (`render/elements`: what each
//!   start tag becomes).
//! - `render_tests*`: structure and visibility, hostile input, real bodies and bounds.
//! - this file: small text helpers the renderer shares (escaping, entity decoding, URL checks).

mod answers;
mod handlers;
pub mod model;
pub mod pages;
pub mod render;
pub mod respond;
pub mod site;

#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod render_tests_corpus;
#[cfg(test)]
mod render_tests_hostile;

pub use render::{
    render_storage, AttachmentRef, LinkTarget, RenderContext, RenderError, MAX_DEPTH,
    MAX_INPUT_BYTES, MAX_OUTPUT_BYTES,
};

/// Appends `s` escaped for HTML element content and double-quoted attribute values.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // A NUL has no business in a page; browsers replace it anyway.
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// Decodes XML entities, character references and a few common HTML named entities in
/// `raw`. Unknown names and a lone `&` are kept as written (they are escaped on output); a
/// character reference to no valid character (or NUL) becomes U+FFFD.
fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        let semi = from
            .char_indices()
            .take(34)
            .find(|&(_, c)| c == ';')
            .map(|(i, _)| i);
        let decoded = semi.and_then(|s| from.get(1..s).map(|name| (named_or_numeric(name), s)));
        match decoded {
            Some((Some(c), s)) => {
                out.push(c);
                rest = from.get(s + 1..).unwrap_or("");
            }
            _ => {
                out.push('&');
                rest = from.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity name (without `&` and `;`) stands for, if kbgate knows it.
fn named_or_numeric(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.len() <= 8 => u32::from_str_radix(hex, 16).ok(),
            None if !num.is_empty() && num.len() <= 10 => num.parse::<u32>().ok(),
            _ => None,
        };
        return Some(match code.and_then(char::from_u32) {
            Some(c) if c != '\0' => c,
            _ => '\u{FFFD}',
        });
    }
    Some(match name {
        "quot" => '"',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        "nbsp" => '\u{A0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "deg" => '°',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "larr" => '←',
        "rarr" => '→',
        _ => return None,
    })
}

/// Longest absolute URL kbgate copies from a body into an `href`.
const MAX_URL_BYTES: usize = 8 * 1024;

/// `url` (already entity-decoded) if it is an absolute `http:`, `https:` or `mailto:` URL with
/// no whitespace or control characters (which browsers strip inside schemes); else `None`.
fn safe_href(url: &str) -> Option<&str> {
    let url = url.trim_matches(|c: char| c.is_ascii_whitespace());
    if url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:");
    ok.then_some(url)
}

/// kbgate's class for a code block's `language` parameter, from a fixed list.
fn language_class(language: &str) -> Option<&'static str> {
    const LANGUAGES: &[(&str, &str)] = &[
        ("bash", "language-bash"),
        ("c", "language-c"),
        ("cpp", "language-cpp"),
        ("c++", "language-cpp"),
        ("csharp", "language-csharp"),
        ("c#", "language-csharp"),
        ("css", "language-css"),
        ("diff", "language-diff"),
        ("go", "language-go"),
        ("html", "language-html"),
        ("java", "language-java"),
        ("javascript", "language-javascript"),
        ("js", "language-javascript"),
        ("json", "language-json"),
        ("kotlin", "language-kotlin"),
        ("php", "language-php"),
        ("powershell", "language-powershell"),
        ("python", "language-python"),
        ("py", "language-python"),
        ("ruby", "language-ruby"),
        ("rust", "language-rust"),
        ("scala", "language-scala"),
        ("shell", "language-bash"),
        ("sh", "language-bash"),
        ("sql", "language-sql"),
        ("swift", "language-swift"),
        ("text", "language-text"),
        ("typescript", "language-typescript"),
        ("ts", "language-typescript"),
        ("xml", "language-xml"),
        ("yaml", "language-yaml"),
        ("yml", "language-yaml"),
    ];
    let language = language.trim();
    LANGUAGES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(language))
        .map(|&(_, class)| class)
}
