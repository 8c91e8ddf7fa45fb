//! The frame every site page shares (head, skip link, header with search, footer) and small
//! pieces several pages use (breadcrumbs, dates, sizes, URL checks).
//!
//! Guarantees: text is escaped by maud; every `href`/`src` passes [`href`] or [`checked_url`],
//! so even a wrong URL from a handler can never be a `javascript:` or other-scheme link; no
//! `style`, `script` or event-handler attribute is ever written (the CSP forbids them anyway).
//! Deliberately not: deciding what to show (the page functions and their handlers do).

use maud::{html, Markup, DOCTYPE};

use crate::portal::model::{ArticleLink, Chrome};

/// Where the stylesheet is served.
pub(super) const STYLESHEET_URL: &str = "/_kbgate/site.css";
/// What a link whose URL fails [`checked_url`] points to instead: nowhere.
const INERT_HREF: &str = "#";
/// Longest URL written into a page.
const MAX_URL_BYTES: usize = 8 * 1024;

/// A whole page: `<title>{title} · {site title}</title>`, the header (search box filled with
/// `query`), `main` and the footer.
pub(super) fn page(chrome: &Chrome, title: &str, query: &str, main: Markup) -> String {
    let b = &chrome.branding;
    let logo = b.logo_url.as_deref().and_then(checked_url);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (b.title) }
                link rel="stylesheet" href=(STYLESHEET_URL);
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site-header role="banner" {
                    div.header-inner {
                        a.brand href="/" {
                            @if let Some(logo) = logo {
                                img.logo src=(logo) alt="";
                            }
                            span.site-title { (b.title) }
                        }
                        form.search role="search" action="/search" method="get" {
                            label.visually-hidden for="q" { "Search articles" }
                            input #q type="search" name="q" value=(query);
                            button type="submit" { "Search" }
                        }
                        @if let Some(viewer) = &chrome.viewer {
                            div.viewer {
                                span.viewer-name { (viewer.name) }
                                @if let Some(url) = &viewer.logout_url {
                                    a #logout href=(href(url)) { "Sign out" }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (main) }
                footer.site-footer role="contentinfo" {
                    p {
                        @if let Some(url) = &b.support_url {
                            a #support href=(href(url)) { (b.support_label) }
                        } @else {
                            (b.title)
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

/// A breadcrumb of visible ancestors (root first); nothing when there are none.
pub(super) fn breadcrumb(links: &[ArticleLink], id: Option<&str>) -> Markup {
    html! {
        @if !links.is_empty() {
            nav.breadcrumb id=[id] aria-label="Breadcrumb" {
                ol {
                    @for link in links {
                        li { a href=(href(&link.url)) { (link.title) } }
                    }
                }
            }
        }
    }
}

/// A `<ul>` of article links, or `empty` as a sentence when there are none.
pub(super) fn link_list(id: Option<&str>, links: &[ArticleLink], empty: &str) -> Markup {
    html! {
        @if links.is_empty() {
            p.empty { (empty) }
        } @else {
            ul id=[id] {
                @for link in links {
                    li { a href=(href(&link.url)) { (link.title) } }
                }
            }
        }
    }
}

/// A date as `<time>`, machine-readable (`datetime`) when it looks like an ISO 8601 date.
pub(super) fn time(date: &str) -> Markup {
    let iso = date.len() <= 40
        && date.len() >= 10
        && date.bytes().take(4).all(|b| b.is_ascii_digit())
        && date
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-:T.Z+".contains(&b));
    html! { time datetime=[iso.then_some(date)] { (date) } }
}

/// `url` if a page may link to it: a path on this site (`/…`, not `//…`), a query or fragment
/// on this page (`?…`, `#…`), or an absolute `http(s)` URL; never with whitespace, control
/// characters or backslashes (browsers strip or reinterpret them).
pub(super) fn checked_url(url: &str) -> Option<&str> {
    if url.is_empty()
        || url.len() > MAX_URL_BYTES
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return None;
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let fine = (url.starts_with('/') && !url.starts_with("//"))
        || url.starts_with('?')
        || url.starts_with('#')
        || lower.starts_with("https://")
        || lower.starts_with("http://");
    fine.then_some(url)
}

/// `url` for an `href`, or an inert `#` when it fails [`checked_url`].
pub(super) fn href(url: &str) -> &str {
    checked_url(url).unwrap_or(INERT_HREF)
}

/// A size for people: `512 bytes`, `12 KB`, `3.4 MB`, `1.2 GB` (binary multiples).
pub(super) fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;
    let scaled = |unit: u64, name: &str| {
        // Tenths, rounded half up, without floating point.
        let tenths = (u128::from(bytes) * 10 + u128::from(unit) / 2) / u128::from(unit);
        if tenths >= 100 {
            format!("{} {name}", (tenths + 5) / 10)
        } else {
            format!("{}.{} {name}", tenths / 10, tenths % 10)
        }
    };
    match bytes {
        1 => "1 byte".to_owned(),
        b if b < KIB => format!("{b} bytes"),
        b if b < MIB => format!("{} KB", (b + KIB / 2) / KIB),
        b if b < GIB => scaled(MIB, "MB"),
        _ => scaled(GIB, "GB"),
    }
}
