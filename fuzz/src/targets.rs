//! The fuzz targets' logic, one function per target, shared by the libFuzzer binaries
//! (`fuzz/fuzz_targets/*.rs`, nightly, `cargo fuzz`) and by `tests/fuzz_replay.rs`, which
//! replays every corpus and artifact file through the same functions on stable.
//!
//! Each function takes arbitrary bytes, drives kbgate's public entry points with them and
//! **panics** when an invariant breaks (a panic inside kbgate is a finding too):
//! - [`token`]: the bytes as a bearer token (and as a whole `Authorization` value) against a
//!   verifier with fixed static keys: never panics, never verifies (no input is signed by a
//!   key the fuzzer has).
//! - [`canonicalize`]: the bytes as a request target: classification never panics; an accepted
//!   route's canonical path holds no dot segment, `//`, `\`, `%2F`, `%5C`, `%00` or `%25`, is
//!   a fixed point, and re-classifies (with the same query) to the identical route; `HEAD`
//!   decides like `GET`.
//! - [`json_filter`]: the bytes as an upstream answer to every filtered route shape (search,
//!   content list, content, labels, attachments, spaces, v2 lists and pages, JSM) with a fixed
//!   predicate: never panics; every output is valid JSON; an id the predicate rejected never
//!   appears in any output string (checked for ids of 4+ characters that occur exactly once in
//!   an input without `\u` escapes, so the only source is the rejected item itself).
//! - [`storage_rewrite`]: the bytes as a storage body through the API and site rewriters and
//!   kbgate's renderer: never panics; the scanner fails exactly when the rewriter does; the
//!   rewritten body names no reference the predicate rejected; rendered HTML has no `<script`,
//!   no `on…` attribute and no attribute value that is a `javascript:` URL.
//!
//! Deliberately not done: the session-cookie decoder and the proxy as a whole (the
//! adversarial suite drives those through a listening kbgate).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::BTreeSet;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, Uri};
use kbgate::auth::{AuthOptions, IssuerConfig, KeySource, Verifier};
use kbgate::filter::storage::{self, ContentRef};
use kbgate::filter::{self, FileKind, ItemShape, RenderContext, SearchLinks, V2ListWriter};
use kbgate::ids::ContentId;
use kbgate::portal::{self, AttachmentRef, LinkTarget};
use kbgate::route::{self, Route, Site};

/// The names of the targets, as the corpus directories are named.
pub const TARGETS: [&str; 4] = ["token", "canonicalize", "json_filter", "storage_rewrite"];

/// Runs the target named `name` on `data`; `false` when no target has that name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "token" => token(data),
        "canonicalize" => canonicalize(data),
        "json_filter" => json_filter(data),
        "storage_rewrite" => storage_rewrite(data),
        _ => return false,
    }
    true
}

// ---------------------------------------------------------------------------------------------
// token

const RSA_PUBLIC: &[u8] = include_bytes!("../../testdata/keys/demo-rsa.pub.pem");
const EC_PUBLIC: &[u8] = include_bytes!("../../testdata/keys/demo-ec.pub.pem");
/// The issuers the fuzz verifier trusts (the seed tokens name them).
pub const RSA_ISSUER: &str = "https://idp.test/realms/kb";
/// The EC issuer.
pub const EC_ISSUER: &str = "https://ec-idp.test";

fn issuer(iss: &str, pem: &[u8], alg: jsonwebtoken::Algorithm) -> IssuerConfig {
    IssuerConfig {
        issuer: iss.to_owned(),
        audiences: vec!["kbgate".to_owned()],
        keys: KeySource::StaticPem { pem: pem.to_vec() },
        algorithms: vec![alg],
        leeway: std::time::Duration::from_secs(30),
        refresh_interval: kbgate::auth::DEFAULT_REFRESH_INTERVAL,
        max_key_staleness: kbgate::auth::DEFAULT_MAX_KEY_STALENESS,
    }
}

thread_local! {
    /// A runtime and a verifier with static keys and no token cache (every input is checked).
    static VERIFIER: (tokio::runtime::Runtime, Verifier) = {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let opts = AuthOptions {
            org_claim: Some("kb_orgs".to_owned()),
            groups_claim: Some("groups".to_owned()),
            cache_capacity: 0,
            ..AuthOptions::default()
        };
        let issuers = vec![
            issuer(RSA_ISSUER, RSA_PUBLIC, jsonwebtoken::Algorithm::RS256),
            issuer(EC_ISSUER, EC_PUBLIC, jsonwebtoken::Algorithm::ES256),
        ];
        let client = kbgate::http_client::build(&Default::default()).unwrap();
        let verifier = rt.block_on(Verifier::new(issuers, opts, client)).unwrap();
        (rt, verifier)
    };
}

/// The bytes as `Bearer <bytes>` and as the whole header value: never verified.
pub fn token(data: &[u8]) {
    let mut bearer = b"Bearer ".to_vec();
    bearer.extend_from_slice(data);
    for value in [bearer.as_slice(), data] {
        let Ok(value) = HeaderValue::from_bytes(value) else {
            continue;
        };
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value);
        let outcome = VERIFIER.with(|(rt, v)| rt.block_on(v.authenticate(&headers)));
        if let Ok(identity) = outcome {
            panic!("a token no key signed verified: {identity:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// canonicalize

/// Panics when a path kbgate would forward holds an ambiguous form.
pub fn assert_forwardable(path: &str) {
    assert!(path.starts_with('/'), "not absolute: {path}");
    assert!(!path.contains("//"), "'//' in {path}");
    assert!(!path.contains('\\'), "'\\' in {path}");
    for segment in path.split('/').skip(1) {
        assert!(segment != "." && segment != "..", "dot segment in {path}");
    }
    let upper = path.to_ascii_uppercase();
    for bad in ["%2F", "%5C", "%00", "%25"] {
        assert!(!upper.contains(bad), "{bad} in {path}");
    }
}

/// The bytes as a request target, on both sites.
pub fn canonicalize(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = route::canonicalize(text);
    }
    let Ok(uri) = Uri::try_from(data) else {
        return;
    };
    for site in [Site::Cloud, Site::DataCenter] {
        let by_get = route::classify_for(site, &Method::GET, &uri);
        let by_head = route::classify_for(site, &Method::HEAD, &uri);
        assert_eq!(by_get, by_head, "HEAD and GET differ");
        let Ok(route) = by_get else {
            continue;
        };
        let canonical = route::canonicalize(uri.path()).expect("an accepted path canonicalizes");
        let path = canonical.to_string();
        assert_forwardable(&path);
        assert_eq!(
            route::canonicalize(&path).as_ref(),
            Ok(&canonical),
            "not a fixed point"
        );
        let again = match uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let again: Uri = again.parse().expect("the canonical target parses");
        let second: Route = route::classify_for(site, &Method::GET, &again)
            .unwrap_or_else(|e| panic!("{again} refused: {e}"));
        assert_eq!(second, route, "{again} classifies differently");
    }
}

// ---------------------------------------------------------------------------------------------
// json_filter

const BASE: &str = "https://kb.example.test/wiki";
const SELF: &str = "https://kb.example.test/wiki/rest/api/search?cql=x";

/// The fixed predicate: an id is visible when it ends with an even digit.
fn shown(id: &str) -> bool {
    id.ends_with(['0', '2', '4', '6', '8'])
}

/// Records every id the predicate rejected.
struct Predicate {
    rejected: RefCell<BTreeSet<String>>,
}

impl Predicate {
    fn ask(&self, id: &str) -> bool {
        let ok = shown(id);
        if !ok {
            self.rejected.borrow_mut().insert(id.to_owned());
        }
        ok
    }
}

fn strings_of(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings_of(x, out)),
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                strings_of(x, out);
            }
        }
        _ => {}
    }
}

/// Panics unless `output` is JSON with no string naming an id that [`json_filter`]'s predicate
/// rejects (ids ending in an odd digit or a non-digit), under the module doc's conditions.
pub fn check_json_output(what: &str, input: &[u8], output: &[u8], rejected: &[&str]) {
    let p = Predicate {
        rejected: RefCell::new(rejected.iter().map(|s| (*s).to_owned()).collect()),
    };
    check_output(what, input, output, &p);
}

/// Panics unless `output` is JSON with no string naming a rejected id (see the module doc).
fn check_output(what: &str, input: &[u8], output: &[u8], p: &Predicate) {
    let value: serde_json::Value = serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("{what}: output is not JSON ({e})"));
    if input.windows(2).any(|w| w == b"\\u") {
        return;
    }
    let mut strings = Vec::new();
    strings_of(&value, &mut strings);
    for id in p.rejected.borrow().iter().filter(|id| id.len() >= 4) {
        let occurrences = input
            .windows(id.len())
            .filter(|w| *w == id.as_bytes())
            .count();
        if occurrences == 1 {
            let leaked = strings.iter().find(|s| s.contains(id.as_str()));
            assert!(
                leaked.is_none(),
                "{what}: rejected id {id} in output {leaked:?}"
            );
        }
    }
}

/// The bytes as an upstream answer to every filtered shape.
pub fn json_filter(data: &[u8]) {
    let p = Predicate {
        rejected: RefCell::new(BTreeSet::new()),
    };
    let v1 = |id: &ContentId| p.ask(id.as_str());
    let v2 = |id: &str| p.ask(id);
    let links = SearchLinks {
        base: BASE,
        self_link: SELF,
        next_link: Some(SELF),
    };
    if let Ok(scan) = filter::scan_search(data) {
        if let Ok(out) = filter::render_search(&scan, data, &v1, &links) {
            check_output("search", data, &out.body, &p);
        }
    }
    if let Ok(scan) = filter::scan_list(data) {
        if let Ok(out) = filter::render_list(&scan, data, &v1, &links) {
            check_output("list", data, &out.body, &p);
        }
    }
    if let Ok(scan) = filter::scan_content(data) {
        let content_links = filter::ContentLinks {
            base: BASE,
            self_link: SELF,
        };
        if let Ok(out) = filter::render_content(&scan, data, &v1, &content_links, Some("<p/>")) {
            check_output("content", data, &out, &p);
        }
    }
    if let Ok(scan) = filter::scan_label_list(data) {
        if let Ok(out) = filter::render_label_list(&scan, data, &links) {
            check_output("labels", data, &out, &p);
        }
    }
    let page = ContentId::new("4242").unwrap();
    for kind in [FileKind::Attachment, FileKind::Comment] {
        if let Ok(scan) = filter::scan_file_list(data, kind, &page) {
            let download = |file: &str| format!("/download/attachments/4242/{file}");
            if let Ok(out) = filter::render_file_list(&scan, data, &links, &download) {
                check_output("files", data, &out, &p);
            }
        }
    }
    if let Ok(scan) = filter::scan_space_list(data) {
        let space_link = |key: &str| format!("{BASE}/rest/api/space/{key}");
        let keep = |key: &str| key == "KB";
        if let Ok(out) = filter::render_space_list(&scan, data, &keep, &space_link, &links) {
            check_output("spaces", data, &out.body, &p);
        }
    }
    let download = |page: &str, file: &str| format!("/download/attachments/{page}/{file}");
    let ctx = RenderContext::list(&v2, &download, BASE);
    for shape in [
        ItemShape::Page,
        ItemShape::Descendant,
        ItemShape::Attachment,
        ItemShape::Space,
    ] {
        let Ok(scan) = filter::scan_v2_list(data, shape) else {
            continue;
        };
        let mut writer = V2ListWriter::new();
        for (n, item) in scan.items().iter().enumerate() {
            // The proxy's rule: the item, and the page it belongs to, are visible.
            if v2(item.id()) && item.page_id().is_none_or(v2) {
                let _ = writer.push(&scan, data, n, &ctx);
            }
        }
        let out = writer.finish(Some(SELF), BASE);
        check_output("v2 list", data, &out, &p);
    }
    if let Ok(scan) = filter::scan_v2_single(data, ItemShape::SinglePage) {
        if v2(scan.item().id()) {
            let ctx = RenderContext {
                storage: Some("<p/>"),
                ..RenderContext::list(&v2, &download, BASE)
            };
            if let Ok(out) = filter::render_v2_single(&scan, data, &ctx) {
                check_output("v2 page", data, &out, &p);
            }
        }
    }
    if let Ok(scan) = filter::scan_jsm_articles(data) {
        let kept: Vec<filter::JsmArticleOut<'_>> = scan
            .articles()
            .iter()
            .filter(|a| p.ask(a.page_id.as_str()))
            .map(|a| filter::JsmArticleOut {
                title: &a.title,
                excerpt: &a.excerpt,
                page_id: &a.page_id,
                space_key: &a.space_key,
                iframe_src: "https://kb.example.test/articles",
            })
            .collect();
        let out = filter::render_jsm_articles(&filter::JsmPageOut {
            values: &kept,
            start: 0,
            limit: 50,
            is_last_page: scan.is_last_page(),
            base: "https://kb.example.test/rest/servicedeskapi",
            next: None,
            prev: None,
        });
        check_output("jsm", data, &out, &p);
    }
}

// ---------------------------------------------------------------------------------------------
// storage_rewrite

/// The fixed reference predicate: ids as for JSON; titles visible when of even length.
fn ref_shown(r: &ContentRef) -> bool {
    match r {
        ContentRef::Id(id) => shown(id),
        ContentRef::Page { title, .. } | ContentRef::BlogPost { title, .. } => {
            title.chars().count() % 2 == 0
        }
    }
}

fn target_shown(t: &LinkTarget) -> bool {
    match t {
        LinkTarget::ById(id) => shown(id.as_str()),
        LinkTarget::ByTitle { title, .. } => title.chars().count() % 2 == 0,
    }
}

/// Panics if `html` has a script element, an event-handler attribute or a `javascript:` URL.
pub fn assert_safe_html(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "<script in {html}");
    // Text and attribute values are escaped, so every raw '<' opens one of kbgate's tags.
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let end = after.find('>').unwrap_or(after.len());
        check_tag(&after[..end], html);
        rest = &after[end..];
    }
}

/// Checks the attributes of one tag (the text between `<` and `>`, lower-cased). Positions
/// only ever stop at ASCII bytes, so every slice is on a character boundary.
fn check_tag(tag: &str, html: &str) {
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() && !b[i].is_ascii_whitespace() {
        i += 1;
    }
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = &tag[start..i];
        assert!(
            !name.starts_with("on"),
            "event handler attribute {name} in {html}"
        );
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
            let quote = char::from(b[i]);
            let from = i + 1;
            let to = tag[from..].find(quote).map_or(b.len(), |n| from + n);
            i = (to + 1).min(b.len());
            &tag[from..to]
        } else {
            let from = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            &tag[from..i]
        };
        let decoded: String = value
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
            .chars()
            .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
            .collect();
        // Browsers drop tabs and newlines anywhere in a URL and spaces around it; only the
        // scheme matters (`https://x/javascript:y` is a harmless path).
        assert!(
            !decoded.starts_with("javascript:"),
            "javascript: URL in {name} of {html}"
        );
    }
}

/// The bytes as a storage body: rewritten for the API and for the site, and rendered.
pub fn storage_rewrite(data: &[u8]) {
    let Ok(xhtml) = std::str::from_utf8(data) else {
        return;
    };
    let scanned = storage::scan_storage(xhtml);
    let api = storage::rewrite_storage(xhtml, &ref_shown);
    assert_eq!(scanned.is_ok(), api.is_ok(), "scan and rewrite disagree");
    let site = storage::rewrite_storage_for_site(xhtml, &ref_shown);
    assert_eq!(api.is_ok(), site.is_ok(), "API and site rewrites disagree");
    if let Ok(api) = &api {
        let again = storage::scan_storage(&api.body).expect("a rewritten body scans");
        for r in &again.refs {
            assert!(ref_shown(r), "the rewritten body still names {r:?}");
        }
    }
    let article_url = |t: &LinkTarget| target_shown(t).then(|| "/kb/articles/1".to_owned());
    let attachment_url = |a: &AttachmentRef| {
        let ok = a.page.as_ref().is_none_or(target_shown);
        ok.then(|| format!("/kb/files/{}", a.file_name.len()))
    };
    let children = [("Child <b>".to_owned(), "/kb/articles/2".to_owned())];
    let plain = portal::RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &children,
        listings: &[],
    };
    if let Ok(html) = portal::render_storage(xhtml, &plain) {
        assert_safe_html(&html);
    }
    if let Ok(site) = site {
        let listings: Vec<Vec<(String, String)>> = site
            .listings
            .iter()
            .map(|_| vec![("Listed".to_owned(), "/kb/articles/3".to_owned())])
            .collect();
        let ctx = portal::RenderContext {
            listings: &listings,
            ..plain
        };
        if let Ok(html) = portal::render_storage(&site.body, &ctx) {
            assert_safe_html(&html);
        }
    }
}
