//! The data each KB site page shows: plain values the site's handlers build from *filtered*
//! API answers and the templates (`pages`) turn into HTML.
//!
//! Guarantees: every string here is plain text (titles, excerpts, names) or a URL kbgate built
//! itself, except [`ArticlePage::body_html`], which is the sanitized output of
//! [`render_storage`](super::render_storage). Templates escape everything else.
//!
//! Deliberately not here: fetching, deciding visibility (the handlers get only what the filter
//! let through) and markup.

/// The site's look, from `[site]` in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branding {
    /// The site title, shown in the header and `<title>`.
    pub title: String,
    /// URL of a logo image (https or a path on kbgate), if configured.
    pub logo_url: Option<String>,
    /// The primary color, validated `#rrggbb`.
    pub primary_color: String,
    /// Where customers get help (e.g. the JSM portal), if configured.
    pub support_url: Option<String>,
    /// The support link's text.
    pub support_label: String,
}

impl Default for Branding {
    fn default() -> Branding {
        Branding {
            title: "Knowledge base".to_owned(),
            logo_url: None,
            primary_color: "#0b5cad".to_owned(),
            support_url: None,
            support_label: "Contact support".to_owned(),
        }
    }
}

/// Who is signed in, for the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    /// A name to show (the email, else the subject).
    pub name: String,
    /// Where "Sign out" goes; `None` when the caller used a bearer token (nothing to end).
    pub logout_url: Option<String>,
}

/// What every page shares: branding and the signed-in customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chrome {
    /// The site's look.
    pub branding: Branding,
    /// The signed-in customer; `None` on the signed-out and error pages.
    pub viewer: Option<Viewer>,
}

/// A visible article: its title and kbgate's URL of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleLink {
    /// The title (plain text).
    pub title: String,
    /// kbgate's article URL, `/articles/{id}`.
    pub url: String,
}

/// The home page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HomePage {
    /// Recently updated visible articles, newest first, with a human date if known
    /// (`2026-11-20`).
    pub recent: Vec<(ArticleLink, Option<String>)>,
    /// The KB's top-level sections (visible pages directly under each KB space's home page).
    pub sections: Vec<ArticleLink>,
}

/// One piece of an excerpt or title: plain text, highlighted (the search match) or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// The text (plain; escaped by the template).
    pub text: String,
    /// Whether it is part of the match (`<mark>`).
    pub highlight: bool,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    /// The article.
    pub link: ArticleLink,
    /// The excerpt with the match marked; empty when kbgate withheld the excerpt.
    pub excerpt: Vec<Fragment>,
    /// The visible ancestors, root first.
    pub breadcrumb: Vec<ArticleLink>,
}

/// The search results page (also shown with an empty query: just the search box).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    /// What the customer typed (plain text, shown back in the box).
    pub query: String,
    /// This page of results.
    pub hits: Vec<SearchHit>,
    /// 1-based position of the first hit, for "Results 11–20".
    pub first: u32,
    /// URL of the previous page of results, if any.
    pub prev_url: Option<String>,
    /// URL of the next page of results, if any.
    pub next_url: Option<String>,
}

/// An attachment listed under an article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentLink {
    /// The file name (plain text).
    pub file_name: String,
    /// kbgate's download URL.
    pub url: String,
    /// Size in bytes, if known.
    pub size: Option<u64>,
}

/// The article view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticlePage {
    /// The title.
    pub title: String,
    /// The visible ancestors, root first.
    pub breadcrumb: Vec<ArticleLink>,
    /// Sanitized HTML from `render_storage` (the only pre-built HTML a template writes raw).
    pub body_html: String,
    /// The article's attachments.
    pub attachments: Vec<AttachmentLink>,
    /// The visible child articles.
    pub children: Vec<ArticleLink>,
    /// When it was last updated (`2026-11-20`), if known.
    pub updated: Option<String>,
}

/// A page kbgate shows instead of content: not found, signed out, an error. Its text is fixed
/// by kbgate (never upstream content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessagePage {
    /// The HTTP status it is sent with.
    pub status: u16,
    /// The heading.
    pub heading: &'static str,
    /// One sentence of explanation.
    pub detail: &'static str,
    /// A request id the customer can quote to support, if any.
    pub request_id: Option<String>,
}
