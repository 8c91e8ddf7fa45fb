//! Test fixtures: search and content answers in Confluence's v1 shape (as in
//! `confluence-samples/`), with a leak marker planted in every member the filter must drop.
//!
//! Built with `serde_json::json!` so the fixtures are valid JSON by construction; tests only.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::ids::ContentId;

/// A reference to another content item: its id and title.
#[derive(Clone, Debug)]
pub struct Ref {
    pub id: String,
    pub title: String,
}

/// A breadcrumb of a search result.
#[derive(Clone, Debug)]
pub enum Crumb {
    /// `/spaces/KB/pages/ID/slug`, labelled with the page title.
    Page(Ref),
    /// `/spaces/KB`.
    SpaceRoot,
    /// `/display/KB/Title`: cannot be identified, always dropped.
    ByTitle(String),
}

/// One content item of a generated answer.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub labels: Vec<String>,
    pub labels_complete: bool,
    pub ancestors: Vec<Ref>,
    pub crumbs: Vec<Crumb>,
    pub parent: Option<Ref>,
}

impl Item {
    /// A page with no labels, ancestors, breadcrumbs or parent.
    pub fn page(id: &str, title: &str) -> Self {
        Item {
            id: id.to_owned(),
            title: title.to_owned(),
            labels: Vec::new(),
            labels_complete: true,
            ancestors: Vec::new(),
            crumbs: Vec::new(),
            parent: None,
        }
    }
}

/// `Title With Spaces` → `Title+With+Spaces`, as Confluence writes URL slugs.
pub fn slug(title: &str) -> String {
    title.replace(' ', "+")
}

/// A predicate that shows exactly `ids`.
pub fn visible_set(ids: &[&str]) -> HashSet<ContentId> {
    ids.iter().map(|i| ContentId::new(i).unwrap()).collect()
}

/// A Content object with every expansion kbgate meets, `leak` planted in the dropped members.
pub fn content_value(item: &Item, leak: &str) -> Value {
    let labels: Vec<Value> = item
        .labels
        .iter()
        .map(|l| json!({"prefix": "global", "name": l, "id": "77", "label": l}))
        .collect();
    let mut label_links =
        json!({"self": "https://site.atlassian.net/wiki/rest/api/content/1/label"});
    if !item.labels_complete {
        label_links["next"] = json!("/rest/api/content/1/label?start=200");
    }
    let ancestors: Vec<Value> = item
        .ancestors
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "type": "page", "status": "current", "title": a.title,
                "extensions": {"position": leak}, "_expandable": {"container": leak},
                "space": {"key": "KB", "name": leak},
                "_links": {
                    "webui": format!("/spaces/KB/pages/{}/{}", a.id, slug(&a.title)),
                    "tinyui": "/x/AB",
                    "self": format!("https://site.atlassian.net/wiki/rest/api/content/{}", a.id),
                    "editui": leak,
                }
            })
        })
        .collect();
    json!({
        "id": item.id, "type": "page", "status": "current", "title": item.title,
        "space": {
            "id": 98, "key": "KB", "name": "Knowledge base", "type": "global", "status": "current",
            "homepage": {"id": "1", "title": leak},
            "_expandable": {"homepage": format!("/rest/api/content/{leak}")},
            "_links": {"webui": "/spaces/KB", "self": "https://site.atlassian.net/wiki/rest/api/space/KB"}
        },
        "metadata": {
            "labels": {"results": labels, "start": 0, "limit": 200, "size": item.labels.len(), "_links": label_links},
            "currentuser": {"favourited": {"isFavourite": false}},
            "_expandable": {"properties": leak}
        },
        "ancestors": ancestors,
        "version": {
            "by": {"type": "known", "accountId": "u1", "displayName": "Writer"},
            "when": "2024-01-01T00:00:00.000Z", "number": 3, "minorEdit": false,
            "content": {"id": "5", "title": leak},
            "_expandable": {"content": leak},
            "collaborators": {"users": [leak]}
        },
        "children": {"page": {"results": [{"id": "9", "title": leak}]}},
        "descendants": {"page": {"results": [{"id": "9", "title": leak}]}},
        "container": {"id": "9", "title": leak},
        "history": {"latest": true, "previousVersion": {"title": leak}},
        "restrictions": {"read": {"restrictions": {"group": {"results": [{"name": leak}]}}}},
        "macroRenderedOutput": {"x": leak},
        "operations": [{"operation": leak}],
        "extensions": {"position": 12},
        "childTypes": {"attachment": {"value": false}},
        "body": {
            "storage": {
                "value": format!("<p>{}</p>", item.title), "representation": "storage",
                "embeddedContent": [leak], "_expandable": {"content": leak}
            },
            "view": {}, "atlas_doc_format": {"value": leak},
            "_expandable": {"view": leak}
        },
        "_expandable": {"children": format!("/rest/api/content/{leak}/child"), "container": leak},
        "_links": {
            "webui": format!("/spaces/KB/pages/{}/{}", item.id, slug(&item.title)),
            "tinyui": "/x/Q",
            "self": format!("https://site.atlassian.net/wiki/rest/api/content/{}", item.id),
            "editui": leak, "edituiv2": leak, "base": leak
        }
    })
}

/// A site-search result for `item`.
pub fn result_value(item: &Item, leak: &str) -> Value {
    let crumbs: Vec<Value> = item
        .crumbs
        .iter()
        .map(|c| {
            let (url, label) = match c {
                Crumb::Page(r) => (
                    format!("/spaces/KB/pages/{}/{}", r.id, slug(&r.title)),
                    r.title.clone(),
                ),
                Crumb::SpaceRoot => ("/spaces/KB".to_owned(), "Knowledge base".to_owned()),
                Crumb::ByTitle(t) => (format!("/display/KB/{}", slug(t)), t.clone()),
            };
            json!({"label": label, "url": url, "separator": ">", "extra": leak})
        })
        .collect();
    let mut v = json!({
        "content": content_value(item, leak),
        "title": item.title,
        "excerpt": format!("About {}: \"quoted\" caf\u{e9} \u{1F600}\n", item.title),
        "url": format!("/spaces/KB/pages/{}/{}", item.id, slug(&item.title)),
        "resultGlobalContainer": {"title": "Knowledge base", "displayUrl": "/spaces/KB"},
        "breadcrumbs": crumbs,
        "entityType": "content",
        "iconCssClass": "aui-icon content-type-page",
        "lastModified": "2024-01-01T08:00:00.000Z",
        "friendlyLastModified": "Jan 01, 2024",
        "score": 1.5,
        "space": {"key": "KB", "name": leak},
        "user": {"displayName": leak},
        "somethingNew": leak
    });
    if let Some(p) = &item.parent {
        v["resultParentContainer"] = json!({
            "title": p.title,
            "displayUrl": format!("/spaces/KB/pages/{}/{}", p.id, slug(&p.title)),
            "extra": leak
        });
    }
    v
}

/// A whole search answer.
pub fn search_value(results: Vec<Value>, total: Option<u64>, next: bool, leak: &str) -> Value {
    let mut links = json!({
        "base": "https://site.atlassian.net/wiki", "context": "/wiki",
        "self": format!("https://site.atlassian.net/wiki/rest/api/search?cql={leak}")
    });
    if next {
        links["next"] = json!(format!("/rest/api/search?cql={leak}&cursor=abc"));
    }
    let size = results.len();
    let mut v = json!({
        "results": results, "start": 0, "limit": 25, "size": size,
        "cqlQuery": format!("type = page and label not in (\"{leak}\")"),
        "searchDuration": 42, "archivedResultCount": 3, "_links": links
    });
    if let Some(t) = total {
        v["totalSize"] = json!(t);
    }
    v
}

/// A search answer as bytes.
pub fn search_body(items: &[Item], total: Option<u64>, next: bool, leak: &str) -> Vec<u8> {
    let results = items.iter().map(|i| result_value(i, leak)).collect();
    serde_json::to_vec(&search_value(results, total, next, leak)).unwrap()
}

/// The links the tests render with.
pub const BASE: &str = "https://kb.example.com/wiki";
/// The `self` link the tests render with.
pub const SELF: &str = "https://kb.example.com/wiki/rest/api/search?cql=type%3Dpage";
