//! Fixtures shared by the filter benchmarks and `examples/filter_ir.rs`: Confluence answers
//! built by string building in the shape of `confluence-samples/` (`cloud-v1-search.json` with
//! `expand=content.space,content.metadata.labels,content.ancestors,content.version`): ~1.4 KB per
//! search result, half of them another organization's (their own label and a foreign ancestor),
//! and a content-by-id answer with a large storage body. The predicate is an `IdMap` lookup, as
//! the proxy's decisions map is.
#![allow(dead_code)] // each user of the fixtures takes a different part

use std::fmt::Write as _;

use kbgate::filter::{
    render_content, render_search, scan_content, scan_search, ContentLinks, SearchLinks,
};
use kbgate::ids::{ContentId, IdMap};

pub const ROOT: u64 = 65537;
pub const OWN_CATEGORY: u64 = 70001;
const FOREIGN_CATEGORY: u64 = 70002;

pub fn page_id(i: usize) -> u64 {
    1_000_000 + i as u64
}

/// Odd results belong to another organization.
pub fn is_foreign(i: usize) -> bool {
    i % 2 == 1
}

fn ancestor(out: &mut String, id: u64, title: &str) {
    let slug = title.replace(' ', "+");
    write!(
        out,
        r#"{{"id":"{id}","type":"page","status":"current","title":"{title}","_links":{{"webui":"/spaces/KB/pages/{id}/{slug}","tinyui":"/x/AbCd","self":"https://acme.atlassian.net/wiki/rest/api/content/{id}"}}}}"#
    )
    .unwrap();
}

/// One search result. `distinct` gives it sub-objects no other result repeats (its own root
/// and category ancestors, space id and label id), so the scan memo never finds a repeat.
fn search_result(out: &mut String, i: usize, distinct: bool) {
    let id = page_id(i);
    let (org, category, cat_title) = if is_foreign(i) {
        ("org-globex", FOREIGN_CATEGORY, "Globex articles")
    } else {
        ("org-acme", OWN_CATEGORY, "Acme articles")
    };
    let title = format!("Widget r\u{e9}glage {i}");
    let (root, category, space_id, label_id) = if distinct {
        (
            distinct_root(i),
            distinct_category(i),
            98304 + i,
            10_000 + i,
        )
    } else {
        (ROOT, category, 98304, 8001)
    };
    let slug = title.replace(' ', "+");
    write!(
        out,
        r#"{{"content":{{"id":"{id}","type":"page","status":"current","title":"{title}","space":{{"id":{space_id},"key":"KB","name":"Knowledge Base","type":"global","_expandable":{{"homepage":"/rest/api/content/{root}"}}}},"metadata":{{"labels":{{"results":[{{"prefix":"global","name":"{org}","id":"{label_id}"}},{{"prefix":"global","name":"how-to","id":"8002"}}],"start":0,"limit":200,"size":2}}}},"ancestors":["#
    )
    .unwrap();
    ancestor(out, root, "Knowledge Base Home");
    out.push(',');
    ancestor(out, category, cat_title);
    write!(
        out,
        r#"],"version":{{"when":"2024-03-01T10:00:00.000Z","number":7}},"_expandable":{{"children":"/rest/api/content/{id}/child","history":""}},"_links":{{"webui":"/spaces/KB/pages/{id}/{slug}","tinyui":"/x/QrSt"}}}},"title":"@@@hl@@@Widget@@@endhl@@@ réglage {i}","excerpt":"Open \"Settings\" → Widgets, choose the @@@hl@@@widget@@@endhl@@@.\nSave…","url":"/spaces/KB/pages/{id}/{slug}","resultGlobalContainer":{{"title":"Knowledge Base","displayUrl":"/spaces/KB"}},"breadcrumbs":[{{"label":"{cat_title}","url":"/spaces/KB/pages/{category}","separator":"sep"}}],"entityType":"content","iconCssClass":"aui-icon content-type-page","lastModified":"2024-03-01T10:00:00.000Z","score":{}.25}}"#,
        100 - i % 100
    )
    .unwrap();
}

pub fn search_body(n: usize) -> Vec<u8> {
    search_body_with(n, false)
}

/// [`search_body`] where no result repeats another's space, ancestors or labels.
pub fn search_body_distinct(n: usize) -> Vec<u8> {
    search_body_with(n, true)
}

fn search_body_with(n: usize, distinct: bool) -> Vec<u8> {
    let mut out = String::with_capacity(n * 1500 + 512);
    out.push_str(r#"{"results":["#);
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        search_result(&mut out, i, distinct);
    }
    write!(
        out,
        r#"],"start":0,"limit":{n},"size":{n},"totalSize":{},"cqlQuery":"(type = page and text ~ \"widget\") and (space in (\"KB\") and label not in (\"org-globex\",\"org-initech\"))","searchDuration":37,"archivedResultCount":0,"_links":{{"base":"https://example.atlassian.net/wiki","context":"/wiki","next":"/rest/api/search?next=true&cursor=abc&limit={n}","self":"https://example.atlassian.net/wiki/rest/api/search?cql=text~widget"}}}}"#,
        n * 3
    )
    .unwrap();
    out.into_bytes()
}

/// Ids the caller may see: its own pages, the KB root and its own category.
pub fn visible(n: usize) -> IdMap<()> {
    (0..n)
        .filter(|&i| !is_foreign(i))
        .map(page_id)
        .chain([ROOT, OWN_CATEGORY])
        .map(|id| (ContentId::new(&id.to_string()).unwrap(), ()))
        .collect()
}

fn distinct_root(i: usize) -> u64 {
    200_000 + i as u64
}

fn distinct_category(i: usize) -> u64 {
    300_000 + i as u64
}

/// [`visible`] for [`search_body_distinct`]: also each own result's root and category.
pub fn visible_distinct(n: usize) -> IdMap<()> {
    let mut vis = visible(n);
    for i in (0..n).filter(|&i| !is_foreign(i)) {
        for id in [distinct_root(i), distinct_category(i)] {
            vis.insert(ContentId::new(&id.to_string()).unwrap(), ());
        }
    }
    vis
}

pub const SEARCH_LINKS: SearchLinks<'static> = SearchLinks {
    base: "https://kb.example.com/wiki",
    self_link: "https://kb.example.com/wiki/rest/api/search?cql=text~widget",
    next_link: Some(
        "https://kb.example.com/wiki/rest/api/search?cql=text~widget&start=25&limit=25",
    ),
};

pub fn filter_search(body: &[u8], vis: &IdMap<()>) -> usize {
    let scan = scan_search(body).unwrap();
    render_search(&scan, body, &|id| vis.contains_key(id), &SEARCH_LINKS)
        .unwrap()
        .body
        .len()
}

/// Filters a content answer as the proxy does: scan, decode the storage body (which the proxy
/// decodes before rewriting it), render; returns the output length.
pub fn filter_content(body: &[u8], vis: &IdMap<()>) -> usize {
    let self_link = format!(
        "https://kb.example.com/wiki/rest/api/content/{}",
        page_id(0)
    );
    let links = ContentLinks {
        base: "https://kb.example.com/wiki",
        self_link: &self_link,
    };
    let scan = scan_content(body).unwrap();
    let storage = scan.storage_body(body).unwrap();
    render_content(
        &scan,
        body,
        &|id| vis.contains_key(id),
        &links,
        storage.as_deref(),
    )
    .unwrap()
    .len()
}

pub fn content_body(storage_bytes: usize) -> Vec<u8> {
    let mut storage = String::with_capacity(storage_bytes + 256);
    let mut k = 0;
    while storage.len() < storage_bytes {
        write!(
            storage,
            r#"<h2>Step {k}</h2><p>Open <strong>Settings</strong> and choose \"Widgets\" — café.</p><ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>Note {k}: see <ac:link><ri:page ri:content-title=\"Widget basics\" /></ac:link>.</p></ac:rich-text-body></ac:structured-macro>\n"#
        )
        .unwrap();
        k += 1;
    }
    let mut out = String::with_capacity(storage.len() + 4096);
    let id = page_id(0);
    write!(
        out,
        r#"{{"id":"{id}","type":"page","status":"current","title":"Widget guide","space":{{"id":98304,"key":"KB","name":"Knowledge Base","type":"global","_expandable":{{"homepage":"/rest/api/content/{ROOT}"}}}},"metadata":{{"labels":{{"results":[{{"prefix":"global","name":"org-acme","id":"8001","label":"org-acme"}}],"start":0,"limit":200,"size":1}}}},"ancestors":["#
    )
    .unwrap();
    ancestor(&mut out, ROOT, "Knowledge Base Home");
    out.push(',');
    ancestor(&mut out, OWN_CATEGORY, "Acme articles");
    write!(
        out,
        r#"],"version":{{"when":"2024-03-01T10:00:00.000Z","number":7,"minorEdit":false,"_expandable":{{"content":"/rest/api/content/{id}"}}}},"body":{{"storage":{{"value":"{storage}","representation":"storage","embeddedContent":[],"_expandable":{{"content":"/rest/api/content/{id}"}}}},"_expandable":{{"editor":"","view":"","export_view":"","styled_view":"","dynamic":"","editor2":"","anonymous_export_view":"","atlas_doc_format":""}}}},"children":{{"attachment":{{"results":[{{"id":"att1","title":"secret.pdf"}}]}}}},"extensions":{{"position":1196}},"_expandable":{{"children":"/rest/api/content/{id}/child","descendants":"/rest/api/content/{id}/descendant"}},"_links":{{"editui":"/pages/resumedraft.action?draftId={id}","webui":"/spaces/KB/pages/{id}/Widget+guide","context":"/wiki","self":"https://example.atlassian.net/wiki/rest/api/content/{id}","tinyui":"/x/DADVAw","collection":"/rest/api/content","base":"https://example.atlassian.net/wiki"}}}}"#
    )
    .unwrap();
    out.into_bytes()
}
