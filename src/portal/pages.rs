//! The KB site's pages: home, search results, article, message (not found, error, signed out)
//! and the stylesheet, as HTML strings built with maud templates (checked at compile time).
//!
//! Guarantees: every page has the same frame (`layout`): `lang`, charset, viewport, a skip
//! link, `header`/`main`/`footer` landmarks, a labelled search box, the stylesheet at
//! `/_kbgate/site.css`, and nothing the CSP (`style-src 'self'`, no scripts) would refuse: no
//! `<script>`, `<style>`, `style=` or event-handler attributes. Every string of the model is
//! escaped except [`ArticlePage::body_html`] (the renderer's sanitized output), written raw
//! exactly once. URLs pass a scheme check even though handlers build them (`layout::href`).
//! The markup (ids, classes, `rel`, `aria-*`) is a contract the browser tests rely on.
//!
//! Deliberately not here: fetching or filtering data (the handlers pass only what the filter
//! let through), HTTP headers (`respond`), choosing a message page's words (the caller picks
//! kbgate's fixed strings).
//!
//! # Layout
//! - `pages/layout`: the shared frame and small pieces (breadcrumb, `<time>`, sizes, URLs).
//! - `pages/style`: the stylesheet with colors computed from the configured primary color.
//! - `pages/tests`, `pages/tests_hostile`: the markup contract, and every field hostile; each
//!   page checked by `pages/html_check` (an HTML tokenizer pass).

#[cfg(test)]
mod html_check;
mod layout;
mod style;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;

use maud::{html, PreEscaped};

use super::model::{ArticlePage, Chrome, HomePage, MessagePage, SearchPage};
use layout::{breadcrumb, href, human_size, link_list, page, time};

pub use style::stylesheet;

/// The sentence an empty list of articles shows.
const NO_ARTICLES: &str = "No articles yet.";

/// The home page: the site title, the KB's top-level sections and recently updated articles.
pub fn home(chrome: &Chrome, page_data: &HomePage) -> String {
    let main = html! {
        h1 { (chrome.branding.title) }
        section aria-labelledby="sections-heading" {
            h2 #sections-heading { "Browse by topic" }
            (link_list(Some("sections"), &page_data.sections, NO_ARTICLES))
        }
        section aria-labelledby="recent-heading" {
            h2 #recent-heading { "Recently updated" }
            @if page_data.recent.is_empty() {
                p.empty { (NO_ARTICLES) }
            } @else {
                ul #recent {
                    @for (link, date) in &page_data.recent {
                        li {
                            a href=(href(&link.url)) { (link.title) }
                            @if let Some(date) = date {
                                " " (time(date))
                            }
                        }
                    }
                }
            }
        }
    };
    page(chrome, "Home", "", main)
}

/// The search page: results with breadcrumb, highlighted excerpt and paging; with an empty
/// query only a hint (the search box is in the header).
///
/// `#result-count` is present whenever the query is not empty ("Results 1–10 for “q”", or
/// "No results for “q”"); `#no-results` adds a sentence when there are no hits.
pub fn search(chrome: &Chrome, page_data: &SearchPage) -> String {
    let query = page_data.query.as_str();
    let first = page_data.first.max(1);
    let count = u32::try_from(page_data.hits.len()).unwrap_or(u32::MAX);
    let last = first.saturating_add(count.saturating_sub(1));
    let heading = if query.is_empty() {
        "Search"
    } else {
        "Search results"
    };
    let main = html! {
        h1 { (heading) }
        @if query.is_empty() {
            p #search-hint { "Type a few words in the search box to find articles." }
        } @else {
            p #result-count {
                @if count == 0 {
                    "No results for “" (query) "”"
                } @else if count == 1 {
                    "Result " (first) " for “" (query) "”"
                } @else {
                    "Results " (first) "–" (last) " for “" (query) "”"
                }
            }
            @if page_data.hits.is_empty() {
                p #no-results {
                    "No articles match “" (query) "”. Try fewer or different words."
                }
            } @else {
                ol #results start=(first) {
                    @for hit in &page_data.hits {
                        li.result {
                            (breadcrumb(&hit.breadcrumb, None))
                            h2 {
                                a.result-title href=(href(&hit.link.url)) { (hit.link.title) }
                            }
                            @if !hit.excerpt.is_empty() {
                                p.excerpt {
                                    @for fragment in &hit.excerpt {
                                        @if fragment.highlight {
                                            mark { (fragment.text) }
                                        } @else {
                                            (fragment.text)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if page_data.prev_url.is_some() || page_data.next_url.is_some() {
            nav.pagination aria-label="Pagination" {
                @if let Some(url) = &page_data.prev_url {
                    a rel="prev" href=(href(url)) { "Previous page" }
                }
                @if let Some(url) = &page_data.next_url {
                    a rel="next" href=(href(url)) { "Next page" }
                }
            }
        }
    };
    page(chrome, heading, query, main)
}

/// The article view: breadcrumb, title, date, the rendered body (raw: it is the renderer's
/// sanitized HTML), attachments and child articles.
pub fn article(chrome: &Chrome, page_data: &ArticlePage) -> String {
    let main = html! {
        (breadcrumb(&page_data.breadcrumb, Some("breadcrumb")))
        article {
            h1 #article-title { (page_data.title) }
            @if let Some(date) = &page_data.updated {
                p.updated { "Updated " (time(date)) }
            }
            div.article-body { (PreEscaped(&page_data.body_html)) }
            @if !page_data.attachments.is_empty() {
                section #attachments aria-labelledby="attachments-heading" {
                    h2 #attachments-heading { "Attachments" }
                    ul {
                        @for file in &page_data.attachments {
                            li {
                                a href=(href(&file.url)) download { (file.file_name) }
                                @if let Some(size) = file.size {
                                    " " span.size { (human_size(size)) }
                                }
                            }
                        }
                    }
                }
            }
            @if !page_data.children.is_empty() {
                section #children aria-labelledby="children-heading" {
                    h2 #children-heading { "In this section" }
                    (link_list(None, &page_data.children, NO_ARTICLES))
                }
            }
        }
    };
    page(chrome, &page_data.title, "", main)
}

/// A page kbgate shows instead of content (not found, error, signed out): kbgate's fixed
/// heading and sentence, the request id to quote, and a link home.
pub fn message(chrome: &Chrome, page_data: &MessagePage) -> String {
    let main = html! {
        h1 { (page_data.heading) }
        p.detail { (page_data.detail) }
        @if let Some(id) = &page_data.request_id {
            p.reference { "Reference: " code { (id) } }
        }
        p { a href="/" { "Go to the knowledge base home" } }
    };
    page(chrome, page_data.heading, "", main)
}
