//! The site's pages against the markup contract the browser tests rely on: landmarks, ids,
//! labels, paging, empty states; each page parsed back by `html_check`.

use super::html_check::parse;
use super::layout::{checked_url, human_size};
use super::tests_hostile::HOSTILE_URLS;
use super::*;
use crate::portal::model::*;

pub(super) fn chrome() -> Chrome {
    Chrome {
        branding: Branding {
            title: "Acme KB".into(),
            logo_url: Some("/logo.png".into()),
            primary_color: "#0b5cad".into(),
            support_url: Some("https://example.atlassian.net/servicedesk".into()),
            support_label: "Contact support".into(),
        },
        viewer: Some(Viewer {
            name: "alice@acme.example".into(),
            logout_url: Some("/_kbgate/logout".into()),
        }),
    }
}

pub(super) fn link(title: &str, id: u32) -> ArticleLink {
    ArticleLink {
        title: title.into(),
        url: format!("/articles/{id}"),
    }
}

pub(super) fn home_page() -> HomePage {
    HomePage {
        recent: vec![
            (link("Reset a password", 1), Some("2026-11-20".into())),
            (link("VPN setup", 2), None),
        ],
        sections: vec![link("Accounts", 10), link("Networking", 11)],
    }
}

pub(super) fn search_page() -> SearchPage {
    SearchPage {
        query: "vpn".into(),
        hits: vec![
            SearchHit {
                link: link("VPN setup", 2),
                excerpt: vec![
                    Fragment {
                        text: "Connect to the ".into(),
                        highlight: false,
                    },
                    Fragment {
                        text: "VPN".into(),
                        highlight: true,
                    },
                ],
                breadcrumb: vec![link("Networking", 11)],
            },
            SearchHit {
                link: link("VPN on phones", 3),
                excerpt: vec![],
                breadcrumb: vec![],
            },
        ],
        first: 11,
        prev_url: Some("/search?q=vpn&start=0".into()),
        next_url: None,
    }
}

/// A marker body: the renderer's (trusted) HTML, which must appear exactly once, verbatim.
pub(super) const BODY: &str = "<p>Body <strong>text</strong> &amp; more</p><div class=\"kb-panel kb-panel-info\"><p>note</p></div>";

pub(super) fn article_page() -> ArticlePage {
    ArticlePage {
        title: "VPN setup".into(),
        breadcrumb: vec![link("Networking", 11)],
        body_html: BODY.into(),
        attachments: vec![AttachmentLink {
            file_name: "client.conf".into(),
            url: "/articles/2/attachments/client.conf".into(),
            size: Some(12 * 1024),
        }],
        children: vec![link("VPN on phones", 3)],
        updated: Some("2026-11-20".into()),
    }
}

pub(super) fn message_page() -> MessagePage {
    MessagePage {
        status: 404,
        heading: "Page not found",
        detail: "This article does not exist or you cannot see it.",
        request_id: Some("req-123".into()),
    }
}

pub(super) fn every_page(chrome: &Chrome) -> Vec<String> {
    vec![
        home(chrome, &home_page()),
        search(chrome, &search_page()),
        article(chrome, &article_page()),
        message(chrome, &message_page()),
    ]
}

#[test]
fn every_page_has_the_frame_landmarks_and_a_labelled_search_box() {
    for html in every_page(&chrome()) {
        let doc = parse(&html);
        assert!(doc.has("html", &[("lang", "en")]));
        assert!(doc.has("meta", &[("charset", "utf-8")]));
        assert!(doc.has(
            "meta",
            &[
                ("name", "viewport"),
                ("content", "width=device-width, initial-scale=1")
            ]
        ));
        assert!(doc.has(
            "link",
            &[("rel", "stylesheet"), ("href", "/_kbgate/site.css")]
        ));
        let body_at = doc.elements.iter().position(|e| e.name == "body").unwrap();
        let first = &doc.elements[body_at + 1];
        assert_eq!(
            (first.name.as_str(), first.attr("class"), first.attr("href")),
            ("a", Some("skip"), Some("#main"))
        );
        assert!(doc.text.contains("Skip to content"));
        assert!(doc.has("header", &[("role", "banner")]));
        assert!(doc.has("main", &[("id", "main")]));
        assert!(doc.has("footer", &[("role", "contentinfo")]));
        assert!(doc.has(
            "form",
            &[("role", "search"), ("action", "/search"), ("method", "get")]
        ));
        assert!(doc.has("label", &[("for", "q")]));
        assert!(doc.text.contains("Search articles"));
        assert!(doc.has("input", &[("type", "search"), ("id", "q"), ("name", "q")]));
        assert!(doc.has("button", &[("type", "submit")]));
        assert!(doc.has("img", &[("src", "/logo.png"), ("alt", "")]));
        assert!(doc.has("a", &[("href", "/")]));
        assert!(doc.has("a", &[("id", "logout"), ("href", "/_kbgate/logout")]));
        assert!(doc.text.contains("alice@acme.example"));
        assert!(doc.has(
            "a",
            &[
                ("id", "support"),
                ("href", "https://example.atlassian.net/servicedesk")
            ]
        ));
        assert_eq!(doc.all("h1").len(), 1, "{html}");
    }
}

#[test]
fn titles_name_the_page_then_the_site() {
    let c = chrome();
    let titles = [
        (home(&c, &home_page()), "Home · Acme KB"),
        (search(&c, &search_page()), "Search results · Acme KB"),
        (article(&c, &article_page()), "VPN setup · Acme KB"),
        (message(&c, &message_page()), "Page not found · Acme KB"),
    ];
    for (html, title) in titles {
        assert!(
            html.contains(&format!("<title>{title}</title>")),
            "{title}: {html}"
        );
    }
}

#[test]
fn the_article_body_is_written_raw_exactly_once_and_nothing_else_is() {
    let html = article(&chrome(), &article_page());
    assert_eq!(html.matches(BODY).count(), 1, "{html}");
    let doc = parse(&html);
    assert!(doc.has("div", &[("class", "article-body")]));
    assert!(doc.has("div", &[("class", "kb-panel kb-panel-info")]));
    // The same HTML in any other field is escaped.
    let mut page = article_page();
    page.title = BODY.into();
    page.children = vec![ArticleLink {
        title: BODY.into(),
        url: "/articles/3".into(),
    }];
    let html = article(&chrome(), &page);
    assert_eq!(html.matches(BODY).count(), 1, "{html}");
}

#[test]
fn the_home_page_lists_sections_and_recent_articles_with_dates() {
    let html = home(&chrome(), &home_page());
    let doc = parse(&html);
    assert_eq!(doc.elements.iter().filter(|e| e.name == "h1").count(), 1);
    assert!(html.contains("<h1>Acme KB</h1>"), "{html}");
    assert!(doc.by_id("sections").is_some_and(|e| e.name == "ul"));
    assert!(doc.by_id("recent").is_some_and(|e| e.name == "ul"));
    assert!(doc.has("a", &[("href", "/articles/10")]));
    assert!(doc.has("a", &[("href", "/articles/1")]));
    assert!(doc.has("time", &[("datetime", "2026-11-20")]));
    assert_eq!(doc.all("time").len(), 1);
    assert!(doc.text.contains("Browse by topic") && doc.text.contains("Recently updated"));
    for heading in ["sections-heading", "recent-heading"] {
        assert!(doc.has("section", &[("aria-labelledby", heading)]));
        assert!(doc.by_id(heading).is_some_and(|e| e.name == "h2"));
    }
}

#[test]
fn an_empty_home_page_says_there_are_no_articles_yet() {
    let html = home(
        &chrome(),
        &HomePage {
            recent: vec![],
            sections: vec![],
        },
    );
    let doc = parse(&html);
    assert!(doc.by_id("sections").is_none() && doc.by_id("recent").is_none());
    assert_eq!(html.matches("No articles yet.").count(), 2, "{html}");
}

#[test]
fn search_results_show_breadcrumbs_highlighted_excerpts_and_their_position() {
    let html = search(&chrome(), &search_page());
    let doc = parse(&html);
    assert!(html.contains("<h1>Search results</h1>"), "{html}");
    assert!(doc.has("input", &[("id", "q"), ("value", "vpn")]));
    assert!(doc.has("ol", &[("id", "results"), ("start", "11")]));
    assert_eq!(
        doc.all("li")
            .iter()
            .filter(|e| e.attr("class") == Some("result"))
            .count(),
        2
    );
    assert!(html.contains("Results 11–12 for “vpn”"), "{html}");
    assert!(doc.by_id("result-count").is_some_and(|e| e.name == "p"));
    assert!(doc.has("a", &[("class", "result-title"), ("href", "/articles/2")]));
    // Only the first hit has ancestors and an excerpt.
    assert_eq!(
        doc.all("nav")
            .iter()
            .filter(|e| e.attr("aria-label") == Some("Breadcrumb"))
            .count(),
        1
    );
    assert!(doc.has(
        "nav",
        &[("class", "breadcrumb"), ("aria-label", "Breadcrumb")]
    ));
    assert!(doc.has("a", &[("href", "/articles/11")]));
    assert!(
        html.contains("<p class=\"excerpt\">Connect to the <mark>VPN</mark></p>"),
        "{html}"
    );
    assert_eq!(
        doc.all("p")
            .iter()
            .filter(|e| e.attr("class") == Some("excerpt"))
            .count(),
        1
    );
    assert!(doc.by_id("no-results").is_none());
}

#[test]
fn paging_links_appear_only_for_the_urls_given() {
    let html = search(&chrome(), &search_page());
    let doc = parse(&html);
    assert!(doc.has("nav", &[("aria-label", "Pagination")]));
    assert!(doc.has("a", &[("rel", "prev"), ("href", "/search?q=vpn&start=0")]));
    assert!(!doc.all("a").iter().any(|a| a.attr("rel") == Some("next")));

    let mut page = search_page();
    page.prev_url = None;
    page.next_url = Some("/search?q=vpn&start=20".into());
    let doc = parse(&search(&chrome(), &page));
    assert!(doc.has("a", &[("rel", "next"), ("href", "/search?q=vpn&start=20")]));
    assert!(!doc.all("a").iter().any(|a| a.attr("rel") == Some("prev")));

    page.next_url = None;
    let doc = parse(&search(&chrome(), &page));
    assert!(!doc.has("nav", &[("aria-label", "Pagination")]));
}

#[test]
fn a_search_without_hits_says_so_and_an_empty_query_shows_only_the_box() {
    let mut page = search_page();
    page.hits.clear();
    page.prev_url = None;
    let html = search(&chrome(), &page);
    let doc = parse(&html);
    assert!(doc.by_id("results").is_none());
    assert!(doc.by_id("no-results").is_some_and(|e| e.name == "p"));
    assert!(doc.text.contains("No articles match “vpn”"), "{html}");
    assert!(doc.text.contains("No results for “vpn”"), "{html}");

    page.query.clear();
    let html = search(&chrome(), &page);
    let doc = parse(&html);
    assert!(html.contains("<h1>Search</h1>"), "{html}");
    assert!(html.contains("<title>Search · Acme KB</title>"), "{html}");
    assert!(doc.by_id("result-count").is_none() && doc.by_id("no-results").is_none());
    assert!(doc.has("input", &[("id", "q"), ("value", "")]));
}

#[test]
fn an_article_shows_its_breadcrumb_date_attachments_and_children() {
    let html = article(&chrome(), &article_page());
    let doc = parse(&html);
    assert!(doc.has("nav", &[("id", "breadcrumb"), ("aria-label", "Breadcrumb")]));
    assert!(doc.all("article").len() == 1);
    assert!(doc.by_id("article-title").is_some_and(|e| e.name == "h1"));
    assert!(doc.text.contains("Updated 2026-11-20"), "{html}");
    assert!(doc
        .by_id("attachments")
        .is_some_and(|e| e.name == "section"));
    let download = doc
        .all("a")
        .into_iter()
        .find(|a| a.attr("download").is_some())
        .unwrap();
    assert_eq!(
        download.attr("href"),
        Some("/articles/2/attachments/client.conf")
    );
    assert!(doc.text.contains("client.conf") && doc.text.contains("12 KB"));
    assert!(doc.by_id("children").is_some_and(|e| e.name == "section"));
    assert!(doc.text.contains("In this section") && doc.text.contains("Attachments"));
    assert!(doc.has("a", &[("href", "/articles/3")]));
}

#[test]
fn an_article_without_extras_has_no_empty_sections() {
    let page = ArticlePage {
        breadcrumb: vec![],
        attachments: vec![],
        children: vec![],
        updated: None,
        ..article_page()
    };
    let html = article(&chrome(), &page);
    let doc = parse(&html);
    for id in ["breadcrumb", "attachments", "children"] {
        assert!(doc.by_id(id).is_none(), "{id}: {html}");
    }
    assert!(!doc.text.contains("Updated"));
    assert!(doc.all("nav").is_empty());
}

#[test]
fn a_message_page_shows_the_fixed_words_the_reference_and_a_way_home() {
    let html = message(&chrome(), &message_page());
    let doc = parse(&html);
    assert!(html.contains("<h1>Page not found</h1>"), "{html}");
    assert!(doc
        .text
        .contains("This article does not exist or you cannot see it."));
    assert!(doc.text.contains("Reference: req-123"), "{html}");
    assert!(
        doc.elements
            .iter()
            .filter(|e| e.name == "a" && e.attr("href") == Some("/"))
            .count()
            >= 2
    );

    let page = MessagePage {
        request_id: None,
        ..message_page()
    };
    assert!(!message(&chrome(), &page).contains("Reference"));
}

#[test]
fn a_signed_out_page_has_no_viewer_and_unconfigured_branding_adds_nothing() {
    let chrome = Chrome {
        branding: Branding::default(),
        viewer: None,
    };
    let html = message(&chrome, &message_page());
    let doc = parse(&html);
    assert!(doc.by_id("logout").is_none() && doc.by_id("support").is_none());
    assert!(doc.all("img").is_empty());
    assert!(html.contains("<title>Page not found · Knowledge base</title>"));

    let bearer = Chrome {
        viewer: Some(Viewer {
            name: "api-user".into(),
            logout_url: None,
        }),
        ..chrome
    };
    let doc = parse(&message(&bearer, &message_page()));
    assert!(doc.text.contains("api-user") && doc.by_id("logout").is_none());
}

#[test]
fn urls_are_checked_even_though_kbgate_builds_them() {
    for fine in [
        "/articles/1",
        "?q=x",
        "#main",
        "https://a.example/x",
        "HTTP://a.example",
    ] {
        assert_eq!(checked_url(fine), Some(fine));
    }
    for bad in HOSTILE_URLS
        .iter()
        .chain(&["", "mailto:x@example.com", "/a b", "/a\tb"])
    {
        assert_eq!(checked_url(bad), None, "{bad:?}");
    }
}

#[test]
fn sizes_read_like_people_write_them() {
    assert_eq!(human_size(0), "0 bytes");
    assert_eq!(human_size(1), "1 byte");
    assert_eq!(human_size(1023), "1023 bytes");
    assert_eq!(human_size(1024), "1 KB");
    assert_eq!(human_size(12 * 1024 + 100), "12 KB");
    assert_eq!(human_size(3 * 1024 * 1024 + 400 * 1024), "3.4 MB");
    assert_eq!(human_size(150 * 1024 * 1024), "150 MB");
    assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GB");
    assert_eq!(human_size(u64::MAX), "17179869184 GB");
}
