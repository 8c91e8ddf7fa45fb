//! Property tests of the whole classifier (threats.md §3.2 suite B), beyond the canonicalizer
//! properties in `tests.rs` (idempotence and safe segments of `canonicalize` alone).
//!
//! 1. Classification never panics on hostile request targets (biased: `%2e`, `%2f`, `%5c`,
//!    `..`, `//`, `;`, `\`, unicode, double encoding) and on arbitrary bytes, for both sites,
//!    `GET` and `HEAD`, and `HEAD` always decides like `GET`.
//! 2. The decision on the canonical path equals the decision on the URI kbgate re-serializes
//!    from it: a route-shaped target (every character possibly percent-encoded, hostile pieces
//!    possibly spliced in) that classifies re-classifies to the *identical* [`Route`] from
//!    `CanonicalPath`'s display form plus the same query, and that form never holds a dot
//!    segment, `//`, `\`, `%2F`, `%5C`, `%00` or `%25`.
//! 3. The URI kbgate writes for a classified route leads back to it: [`Links`] builds the path
//!    from the route's typed values with the same helpers the upstream request uses
//!    (`links::download_path` for downloads; `/content/{id}`, `/space/{key}`, … from the typed
//!    ids), so the link's path is checked for the same forbidden forms and re-classifies to the
//!    same route with every value the link carries (cql, title, file name, paging, expand).
//!
//! Deliberately not covered: the upstream request builders themselves (`proxy::upstream_request`,
//! `children::upstream_path`, `v2::single::upstream_path`, `jsm::upstream_path` are private to
//! `proxy`, so property 3 uses [`Links`], which shares their id formatting and, for downloads,
//! their very helper), and v2 and attachment-by-id links (kbgate writes none from a route).

use http::{Method, Uri};
use proptest::prelude::*;

use super::*;
use crate::proxy::Links;

/// Pieces that make request targets interesting for the canonicalizer and the router.
#[rustfmt::skip]
const HOSTILE: &[&str] = &[
    "/", "//", ".", "..", "%2e", "%2E%2e", "%2f", "%2F", "%5c", "%5C", "%25", "%252e", "%252F",
    "%00", "%3b", ";", ";jsessionid=x", "\\", "%c0%af", "%c0%ae", "%ef%bc%8f", "%e9", "%C3%A9",
    "\u{e9}", "\u{ff0f}", "?", "#", "%3F", "%23", "%", "%2", "%zz", "+", "~", "..;", "\t", " ",
    "%20", "&", "=", "%0a", "%7f", "%ff", "A", "0",
];

/// A route template: `{id}` digits, `{key}` a space key, `{file}` a file name, `{att}` an
/// attachment id, `{desk}` a service desk id; and the parameters worth trying on it.
#[rustfmt::skip]
const TEMPLATES: &[(&str, &[&str])] = &[
    ("/wiki/rest/api/search", &["cql", "start", "limit", "excerpt", "expand"]),
    ("/wiki/rest/api/content", &["spaceKey", "type", "title", "start", "limit", "expand"]),
    ("/wiki/rest/api/content/search", &["cql", "start", "limit", "expand"]),
    ("/wiki/rest/api/content/{id}", &["expand"]),
    ("/wiki/rest/api/content/{id}/child/page", &["start", "limit", "expand"]),
    ("/wiki/rest/api/content/{id}/descendant/page", &["start", "limit", "expand"]),
    ("/wiki/rest/api/content/{id}/label", &["start", "limit"]),
    ("/wiki/rest/api/content/{id}/child", &["expand"]),
    ("/wiki/rest/api/content/{id}/descendant", &["expand"]),
    ("/wiki/rest/api/content/{id}/child/attachment", &["start", "limit", "filename"]),
    ("/wiki/rest/api/content/{id}/child/comment", &["start", "limit"]),
    ("/wiki/rest/api/content/{id}/child/attachment/{att}/download", &[]),
    ("/wiki/rest/api/space", &["start", "limit"]),
    ("/wiki/rest/api/space/{key}", &[]),
    ("/wiki/rest/api/space/{key}/content", &["start", "limit", "expand"]),
    ("/wiki/rest/api/space/{key}/content/page", &["start", "limit", "expand"]),
    ("/wiki/download/attachments/{id}/{file}", &["version", "api", "cacheVersion"]),
    ("/wiki/api/v2/pages", &["limit", "sort", "title", "space-id", "body-format"]),
    ("/wiki/api/v2/pages/{id}", &["body-format", "include-labels", "include-version"]),
    ("/wiki/api/v2/pages/{id}/children", &["limit", "sort"]),
    ("/wiki/api/v2/spaces/{id}/pages", &["limit", "sort"]),
    ("/rest/servicedeskapi/knowledgebase/article", &["query", "start", "limit", "highlight"]),
    ("/rest/servicedeskapi/servicedesk/{desk}/knowledgebase/article", &["query", "highlight"]),
];

/// Values tried for a parameter (decoded; encoded by the generator).
fn values_of(name: &str) -> &'static [&'static str] {
    match name {
        "cql" => &[
            "type=page",
            "text ~ \"vpn\"",
            "title = \"a&b=c+d%20\"",
            "space = KB ORDER BY title",
            "text ~ \"caf\u{e9} \u{1F680}\"",
            "",
        ],
        "start" | "version" | "cacheVersion" => &["0", "5", "25", "100001", "-1", "x"],
        "limit" => &["1", "10", "25", "100", "0", "101"],
        "excerpt" => &["highlight", "none", "indexed"],
        "expand" => &[
            "space",
            "version,ancestors",
            "metadata.labels",
            "content.space",
            "content.version,content.ancestors",
            "page,attachment",
            "comment",
            "body.storage,history",
            "body.view",
        ],
        "spaceKey" => &["KB", "ENG", "a~b_C", "K B"],
        "type" => &["page", "blogpost", "comment"],
        "title" | "query" | "filename" => &[
            "Getting started",
            "a/b",
            "50% & more",
            "\u{e9}t\u{e9}",
            "..",
        ],
        "highlight" | "include-labels" | "include-version" => &["true", "false", "yes"],
        "api" => &["v2", "v1"],
        "sort" => &["id", "-title", "modified-date", "bogus"],
        "space-id" => &["1", "2,3", "x"],
        "body-format" => &["storage", "atlas_doc_format", "view"],
        _ => &["x"],
    }
}

/// File names tried in download paths (decoded).
const FILES: &[&str] = &[
    "a.png",
    "diagram v2.pdf",
    "caf\u{e9}.txt",
    "..",
    ".",
    "a/b",
    "a\\b",
    "50%.txt",
    "x;y",
    "q?.png",
    "h#1",
    "~tilde",
];

/// Everything a generated request target is built from.
#[derive(Clone, Debug)]
struct Spec {
    template: usize,
    id: String,
    key: String,
    file: usize,
    att_prefix: bool,
    /// Drives which characters are percent-encoded, and in which case.
    bits: Vec<u8>,
    params: Vec<(usize, usize, bool)>,
    /// A hostile piece spliced into the path at a position (as a fraction of its length).
    noise: Option<(usize, u8)>,
    site: Site,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0..TEMPLATES.len(),
        "[0-9]{1,21}",
        "[A-Za-z0-9_~]{1,6}",
        0..FILES.len(),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 16),
        prop::collection::vec((0..8usize, 0..16usize, any::<bool>()), 0..4),
        prop::option::weighted(0.3, (0..HOSTILE.len(), any::<u8>())),
        prop_oneof![4 => Just(Site::Cloud), 1 => Just(Site::DataCenter)],
    )
        .prop_map(
            |(template, id, key, file, att_prefix, bits, params, noise, site)| Spec {
                template,
                id,
                key,
                file,
                att_prefix,
                bits,
                params,
                noise,
                site,
            },
        )
}

/// Percent-encodes `text` for a path segment: bytes outside `unreserved` always, the others
/// when the generator's bit says so, in upper or lower case hex.
fn encode_segment(text: &str, bits: &[u8], salt: usize) -> String {
    let mut out = String::new();
    for (i, b) in text.bytes().enumerate() {
        let bit = bits[(i + salt) % bits.len()];
        let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        if !unreserved || bit % 5 == 0 {
            if bit % 2 == 0 {
                out.push_str(&format!("%{b:02X}"));
            } else {
                out.push_str(&format!("%{b:02x}"));
            }
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Encodes a query component: form-urlencoded, or with `%20` for spaces.
fn encode_component(text: &str, plus: bool) -> String {
    let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
    if plus {
        encoded
    } else {
        encoded.replace('+', "%20")
    }
}

/// The request target a spec describes (before any URI parsing).
fn target(s: &Spec) -> String {
    let (template, names) = TEMPLATES[s.template];
    let template = match s.site {
        Site::DataCenter => template.strip_prefix("/wiki").unwrap_or(template),
        Site::Cloud => template,
    };
    let att = if s.att_prefix {
        format!("att{}", s.id)
    } else {
        s.id.clone()
    };
    let mut path = String::new();
    for (i, segment) in template.split('/').skip(1).enumerate() {
        let text = match segment {
            "{id}" | "{desk}" => s.id.as_str(),
            "{key}" => s.key.as_str(),
            "{att}" => att.as_str(),
            "{file}" => FILES[s.file],
            literal => literal,
        };
        path.push('/');
        path.push_str(&encode_segment(text, &s.bits, i * 3));
    }
    if let Some((piece, at)) = s.noise {
        let mut at = usize::from(at) * path.len() / 256;
        while !path.is_char_boundary(at) {
            at += 1;
        }
        path.insert_str(at, HOSTILE[piece]);
    }
    let query: Vec<String> = s
        .params
        .iter()
        .filter_map(|&(name, value, plus)| {
            let name = names.get(name % names.len().max(1))?;
            let values = values_of(name);
            let value = values[value % values.len()];
            Some(format!("{name}={}", encode_component(value, plus)))
        })
        .collect();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Checks that a path kbgate would send holds none of the ambiguous forms.
fn assert_forwardable(path: &str) -> Result<(), TestCaseError> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    prop_assert!(path.starts_with('/'), "not absolute: {}", path);
    prop_assert!(!path.contains("//"), "'//' in {}", path);
    prop_assert!(!path.contains('\\'), "'\\' in {}", path);
    for segment in path.split('/').skip(1) {
        prop_assert!(segment != "." && segment != "..", "dot segment in {}", path);
    }
    let upper = path.to_ascii_uppercase();
    for bad in ["%2F", "%5C", "%00", "%25"] {
        prop_assert!(!upper.contains(bad), "{} in {}", bad, path);
    }
    Ok(())
}

fn get(site: Site, target: &str) -> Option<Result<Route, RouteError>> {
    let uri: Uri = target.parse().ok()?;
    Some(classify_for(site, &Method::GET, &uri))
}

/// Whether `again` (the route kbgate's link for `route` classifies to) carries every value
/// that link writes: the whole query where the link writes all of it, else the ids and paging.
fn carries_the_same_values(route: &Route, again: &Route) -> bool {
    match (route, again) {
        (Route::Search(q), Route::Search(r)) => {
            (&q.cql, q.start, q.limit) == (&r.cql, r.start, r.limit)
        }
        (Route::ContentSearch(q), Route::ContentSearch(r)) => q == r,
        (Route::ContentList(q), Route::ContentList(r)) => q == r,
        (Route::ChildPages(q), Route::ChildPages(r)) => q == r,
        (Route::DescendantPages(q), Route::DescendantPages(r)) => q == r,
        (Route::Labels(q), Route::Labels(r)) => q == r,
        (Route::Spaces(q), Route::Spaces(r)) => q == r,
        (Route::Space(q), Route::Space(r)) => q == r,
        (Route::Content(q), Route::Content(r)) => q.id == r.id,
        (Route::ChildFiles(q), Route::ChildFiles(r)) => q == r,
        (Route::ChildMap(q), Route::ChildMap(r)) => q.id == r.id,
        (Route::DescendantMap(q), Route::DescendantMap(r)) => q.id == r.id,
        (Route::SpaceContent(q), Route::SpaceContent(r)) => q.key == r.key,
        (Route::Download(q), Route::Download(r)) => q == r,
        (Route::JsmArticles(q), Route::JsmArticles(r)) => q == r,
        _ => false,
    }
}

/// kbgate's own URI for `route`, built by [`Links`] from its typed values.
fn link_for(route: &Route, links: &Links) -> Option<String> {
    Some(match route {
        Route::Search(q) => links.search(&q.cql, q.start, q.limit),
        Route::ContentSearch(q) => links.content_search(&q.cql, q.start, q.limit, &q.expand),
        Route::ContentList(q) => links.content_list(q, q.start, q.limit, true),
        Route::ChildPages(q) => links.page_tree(&q.id, "child", q.start, q.limit, &q.expand),
        Route::DescendantPages(q) => {
            links.page_tree(&q.id, "descendant", q.start, q.limit, &q.expand)
        }
        Route::Labels(q) => links.labels(q, q.start),
        Route::Spaces(q) => links.spaces(q.start, q.limit),
        Route::Space(q) => links.space(q.key.as_str()),
        Route::Content(q) => links.content(q),
        Route::ChildFiles(q) => links.child_files(q, q.start),
        Route::ChildMap(q) => links.child_map(&q.id, "child"),
        Route::DescendantMap(q) => links.child_map(&q.id, "descendant"),
        Route::SpaceContent(q) => links.space_content(&q.key),
        Route::Download(q) => {
            let mut url = links.download_url(&q.page, &q.file_name);
            if let Some(v) = q.version {
                url.push_str(&format!("?version={v}"));
            }
            url
        }
        Route::JsmArticles(q) => links.jsm_articles(q, q.start),
        Route::AttachmentDownload(_) | Route::V2(_) => return None,
    })
}

fn links_for(site: Site) -> Links {
    match site {
        Site::Cloud => Links::new("", "/wiki/rest/api"),
        Site::DataCenter => Links::new("", "/rest/api"),
    }
}

proptest! {
    #[test]
    fn classification_never_panics_and_head_decides_like_get(
        pieces in prop::collection::vec(prop::sample::select(HOSTILE), 0..24),
        prefix in prop::sample::select(vec!["", "/wiki/rest/api", "/rest/api", "/wiki/api/v2", "/wiki/download/attachments/1"]),
        query in prop::option::of(prop::collection::vec(prop::sample::select(HOSTILE), 0..8)),
        dc in any::<bool>(),
    ) {
        let site = if dc { Site::DataCenter } else { Site::Cloud };
        let raw_path = format!("{prefix}{}", pieces.concat());
        // The canonicalizer sees raw text the URI parser would refuse, too.
        let _ = canonicalize(&raw_path);
        let target = match &query {
            Some(q) => format!("{raw_path}?{}", q.concat()),
            None => raw_path,
        };
        if let Ok(uri) = target.parse::<Uri>() {
            let by_get = classify_for(site, &Method::GET, &uri);
            let by_head = classify_for(site, &Method::HEAD, &uri);
            prop_assert_eq!(&by_get, &by_head, "{}", target);
            if by_get.is_ok() {
                let path = canonicalize(uri.path()).unwrap().to_string();
                assert_forwardable(&path)?;
            }
        }
    }

    #[test]
    fn classification_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = canonicalize(text);
        }
        if let Ok(uri) = Uri::try_from(bytes.as_slice()) {
            for site in [Site::Cloud, Site::DataCenter] {
                let _ = classify_for(site, &Method::GET, &uri);
            }
        }
    }

    #[test]
    fn the_canonical_uri_classifies_to_the_identical_route(s in spec()) {
        let target = target(&s);
        let Some(first) = get(s.site, &target) else { return Ok(()) };
        let Ok(route) = first else { return Ok(()) };
        let uri: Uri = target.parse().unwrap();
        let canonical = canonicalize(uri.path()).unwrap();
        let path = canonical.to_string();
        assert_forwardable(&path)?;
        prop_assert_eq!(canonicalize(&path), Ok(canonical.clone()), "not idempotent: {}", target);
        let again = match uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let second = get(s.site, &again).expect("the canonical URI parses");
        prop_assert_eq!(second, Ok(route), "{} → {}", target, again);
    }

    #[test]
    fn the_uri_kbgate_writes_for_a_route_leads_back_to_it(s in spec()) {
        let target = target(&s);
        let Some(Ok(route)) = get(s.site, &target) else { return Ok(()) };
        let links = links_for(s.site);
        let Some(link) = link_for(&route, &links) else { return Ok(()) };
        assert_forwardable(&link)?;
        let again = get(s.site, &link);
        let Some(Ok(again)) = again else {
            return Err(TestCaseError::fail(format!("{target} → {link}: {again:?}")));
        };
        prop_assert!(carries_the_same_values(&route, &again), "{} → {}: {:?} vs {:?}", target, link, route, again);
    }
}

/// The generator reaches every route kind often enough for the properties above to mean
/// something: this fails if a template stops classifying (say, after a route is renamed).
#[test]
fn every_route_template_classifies_in_its_plain_form() {
    for (i, (template, _)) in TEMPLATES.iter().enumerate() {
        for site in [Site::Cloud, Site::DataCenter] {
            if site == Site::DataCenter && template.starts_with("/wiki/api/v2") {
                continue;
            }
            let s = Spec {
                template: i,
                id: "42".into(),
                key: "KB".into(),
                file: 0,
                att_prefix: true,
                bits: vec![1],
                params: Vec::new(),
                noise: None,
                site,
            };
            let t = target(&s);
            let outcome = get(site, &t).expect("parses");
            // JSM search needs its query; the rest classify bare.
            let needs_query = t.contains("servicedeskapi") || t.ends_with("/search");
            assert!(
                outcome.is_ok() || needs_query,
                "{t} on {site:?}: {outcome:?}"
            );
        }
    }
}

/// The generated targets are not vacuous: a good share classify, over every route kind, so the
/// two re-classification properties above check real routes.
#[test]
fn the_route_generator_reaches_many_routes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut names = std::collections::BTreeSet::new();
    let mut ok = 0;
    for _ in 0..2000 {
        let s = spec().new_tree(&mut runner).unwrap().current();
        if let Some(Ok(route)) = get(s.site, &target(&s)) {
            ok += 1;
            names.insert(route.name());
        }
    }
    eprintln!(
        "{ok}/2000 classified, {} route kinds: {names:?}",
        names.len()
    );
    assert!(ok >= 400, "only {ok} of 2000 generated targets classified");
    assert!(names.len() >= 20, "only {names:?}");
}
