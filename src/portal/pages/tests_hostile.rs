//! The site's pages with hostile strings in every field and hostile URLs in every URL field:
//! text stays text, and links that carried a bad URL point nowhere.

use super::html_check::parse;
use super::tests::BODY;
use super::*;
use crate::portal::model::*;

/// A string that breaks out of text, attributes and URLs if anything is left unescaped.
const HOSTILE: &str =
    "<script>alert(1)</script>\"><img src=x onerror=alert(1)><b style=\"x\">'javascript:alert(1)&amp;";
/// Hostile URLs for every URL field.
pub(super) const HOSTILE_URLS: &[&str] = &[
    "javascript:alert(1)",
    "\"><img src=x onerror=alert(1)>",
    "//evil.example/x",
    "/\\evil.example/x",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
];

#[test]
fn hostile_strings_in_every_field_are_escaped_and_hostile_urls_made_inert() {
    for url in HOSTILE_URLS {
        let chrome = Chrome {
            branding: Branding {
                title: HOSTILE.into(),
                logo_url: Some((*url).into()),
                primary_color: HOSTILE.into(),
                support_url: Some((*url).into()),
                support_label: HOSTILE.into(),
            },
            viewer: Some(Viewer {
                name: HOSTILE.into(),
                logout_url: Some((*url).into()),
            }),
        };
        let bad_link = ArticleLink {
            title: HOSTILE.into(),
            url: (*url).into(),
        };
        let pages = [
            home(
                &chrome,
                &HomePage {
                    recent: vec![(bad_link.clone(), Some(HOSTILE.into()))],
                    sections: vec![bad_link.clone()],
                },
            ),
            search(
                &chrome,
                &SearchPage {
                    query: HOSTILE.into(),
                    hits: vec![SearchHit {
                        link: bad_link.clone(),
                        excerpt: vec![
                            Fragment {
                                text: HOSTILE.into(),
                                highlight: true,
                            },
                            Fragment {
                                text: HOSTILE.into(),
                                highlight: false,
                            },
                        ],
                        breadcrumb: vec![bad_link.clone()],
                    }],
                    first: 1,
                    prev_url: Some((*url).into()),
                    next_url: Some((*url).into()),
                },
            ),
            search(
                &chrome,
                &SearchPage {
                    query: HOSTILE.into(),
                    hits: vec![],
                    first: 1,
                    prev_url: None,
                    next_url: None,
                },
            ),
            article(
                &chrome,
                &ArticlePage {
                    title: HOSTILE.into(),
                    breadcrumb: vec![bad_link.clone()],
                    body_html: BODY.into(),
                    attachments: vec![AttachmentLink {
                        file_name: HOSTILE.into(),
                        url: (*url).into(),
                        size: Some(1),
                    }],
                    children: vec![bad_link.clone()],
                    updated: Some(HOSTILE.into()),
                },
            ),
            message(
                &chrome,
                &MessagePage {
                    status: 500,
                    heading: "Something went wrong",
                    detail: "Try again.",
                    request_id: Some(HOSTILE.into()),
                },
            ),
        ];
        for html in &pages {
            let doc = parse(html);
            // The hostile text survives as text, never as markup.
            assert!(doc.text.contains(HOSTILE), "{html}");
            assert!(html.contains("&lt;script&gt;"), "{html}");
            // Only kbgate's own image (none here: the logo URL was refused).
            assert!(doc.all("img").is_empty(), "{html}");
            assert!(doc.all("b").is_empty(), "{html}");
            // Every link that carried a hostile URL now points nowhere.
            for e in &doc.elements {
                if let Some(href) = e.attr("href") {
                    let lower = href.to_ascii_lowercase();
                    assert!(
                        !lower.contains("evil") && !lower.contains("script"),
                        "{href:?} in {html}"
                    );
                }
            }
            assert!(doc.has("a", &[("id", "logout"), ("href", "#")]), "{html}");
            assert!(doc.has("a", &[("id", "support"), ("href", "#")]), "{html}");
        }
    }
}
