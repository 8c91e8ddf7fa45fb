//! A page's other children and a space's content: `content/{id}/child/attachment` and
//! `child/comment`, the typed maps `content/{id}/child` and `content/{id}/descendant`, and
//! `space/{key}/content[/{type}]`.
//!
//! Guarantees: the page (or space) is decided **before** anything about its children is asked
//! for — hidden and missing answer with the same 404; attachments and comments are kept only
//! when they provably belong to that page (`filter::scan_file_list`); child and descendant pages
//! and space content go through the same wrapped-CQL list step as `child/page`, so each item is
//! decided on its own and counts are the caller's; the maps are composed by kbgate from those
//! answers, never forwarded.
//!
//! Deliberately not done: descendant attachments and comments (the descendant map offers
//! `page` only), comment bodies.

use crate::app::App;
use crate::filter::{self, FileKind, SearchLinks};
use crate::policy::OrgSet;
use crate::route::{
    ChildFilesQuery, ChildMapQuery, ChildType, ContentListQuery, ListType, PageTreeQuery,
    SpaceContentQuery,
};

use super::lists::{ListRequest, Relation};
use super::{content_list, missing_on_404, require_visible, spaces, Answer, ProxyError};

/// Default page size of each list inside a composed map, as Confluence's.
const MAP_LIMIT: u32 = 25;

/// `content/{id}/child/attachment` or `child/comment`: the page decided, then its files.
pub async fn child_files(
    app: &App,
    orgs: &OrgSet,
    q: &ChildFilesQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    require_visible(app, orgs, &q.id, request_id).await?;
    let body = app
        .upstream
        .get_json(&upstream_path(q), request_id)
        .await
        .map_err(missing_on_404)?;
    let kind = match q.kind {
        ChildType::Comment => FileKind::Comment,
        _ => FileKind::Attachment,
    };
    let scan = filter::scan_file_list(&body, kind, &q.id)?;
    let self_link = app.links.child_files(q, q.start);
    let next_link = super::links::next_start(q.start, scan.upstream_count(), scan.has_next())
        .map(|start| app.links.child_files(q, start));
    let links = SearchLinks {
        base: &app.links.api_base(),
        self_link: &self_link,
        next_link: next_link.as_deref(),
    };
    let download = |file: &str| app.links.download(&q.id, file);
    let body = filter::render_file_list(&scan, &body, &links, &download)?;
    if scan.removed() > 0 {
        tracing::warn!(
            content.id = %q.id,
            removed = scan.removed(),
            "upstream listed children that do not belong to the page; removed"
        );
    }
    Ok(Answer {
        body,
        route: if kind == FileKind::Comment {
            "child_comments"
        } else {
            "child_attachments"
        },
        removed: scan.removed(),
        ..Default::default()
    })
}

/// The upstream path of a child list: typed values only.
fn upstream_path(q: &ChildFilesQuery) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("start", &q.start.to_string())
        .append_pair("limit", &q.limit.to_string());
    if let Some(name) = &q.filename {
        query.append_pair("filename", name);
    }
    format!(
        "/content/{}/child/{}?{}",
        q.id,
        q.kind.wire(),
        query.finish()
    )
}

/// `content/{id}/child` (`descendant` = false) or `content/{id}/descendant`: the page decided,
/// then each expanded type as its own list answer, composed into Confluence's map.
pub async fn child_map(
    app: &App,
    orgs: &OrgSet,
    q: &ChildMapQuery,
    descendant: bool,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    require_visible(app, orgs, &q.id, request_id).await?;
    let segment = if descendant { "descendant" } else { "child" };
    let mut members: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut removed = 0;
    for kind in &q.expand {
        let answer = match kind {
            ChildType::Page => {
                let tree = PageTreeQuery {
                    id: q.id.clone(),
                    start: 0,
                    limit: MAP_LIMIT,
                    expand: Vec::new(),
                };
                let relation = if descendant {
                    Relation::Descendant
                } else {
                    Relation::Child
                };
                let list = ListRequest::page_tree(&tree, relation)?;
                Box::pin(content_list(app, orgs, &list, request_id)).await?
            }
            ChildType::Attachment | ChildType::Comment => {
                let files = ChildFilesQuery {
                    id: q.id.clone(),
                    kind: *kind,
                    start: 0,
                    limit: MAP_LIMIT,
                    filename: None,
                };
                Box::pin(child_files(app, orgs, &files, request_id)).await?
            }
        };
        removed += answer.removed;
        members.push((kind.wire(), answer.body));
    }
    let offered: &[ChildType] = if descendant {
        &[ChildType::Page]
    } else {
        &[ChildType::Page, ChildType::Attachment, ChildType::Comment]
    };
    let expandable: Vec<&str> = offered
        .iter()
        .filter(|t| !q.expand.contains(t))
        .map(ChildType::wire)
        .collect();
    let self_link = app.links.child_map(&q.id, segment);
    let body = compose_map(&members, &expandable, &app.links.api_base(), &self_link);
    Ok(Answer {
        body,
        route: if descendant {
            "descendant_map"
        } else {
            "child_map"
        },
        removed,
        ..Default::default()
    })
}

/// `space/{key}/content[/{type}]`: the space decided first, then its pages (and blog posts) as
/// content lists — one list for a type, the map of both otherwise.
pub async fn space_content(
    app: &App,
    orgs: &OrgSet,
    q: &SpaceContentQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    if !spaces::space_exists_for(&app.policy, orgs, &q.key) {
        return Err(ProxyError::NotFound);
    }
    let list_of = |kind: ListType| ContentListQuery {
        space_key: Some(q.key.clone()),
        kind,
        title: None,
        start: q.start,
        limit: q.limit,
        expand: q.expand.clone(),
    };
    if let Some(kind) = q.kind {
        let list = ListRequest::listing(&list_of(kind))?;
        let mut answer = content_list(app, orgs, &list, request_id).await?;
        answer.route = "space_content";
        return Ok(answer);
    }
    let mut members = Vec::new();
    let mut removed = 0;
    for kind in [ListType::Page, ListType::BlogPost] {
        let list = ListRequest::listing(&list_of(kind))?;
        let answer = content_list(app, orgs, &list, request_id).await?;
        removed += answer.removed;
        members.push((kind.wire(), answer.body));
    }
    let self_link = app.links.space_content(&q.key);
    let body = compose_map(&members, &[], &app.links.api_base(), &self_link);
    Ok(Answer {
        body,
        route: "space_content",
        removed,
        ..Default::default()
    })
}

/// `{"<type>":<list>,…,"_expandable":{"<type>":""…},"_links":{"base","context","self"}}`.
/// Each list is kbgate's own rendered JSON.
fn compose_map(
    members: &[(&str, Vec<u8>)],
    expandable: &[&str],
    base: &str,
    self_link: &str,
) -> Vec<u8> {
    let size: usize = members.iter().map(|(_, b)| b.len() + 16).sum();
    let mut out = Vec::with_capacity(size + 256);
    out.push(b'{');
    for (name, list) in members {
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(list);
        out.push(b',');
    }
    out.extend_from_slice(b"\"_expandable\":{");
    for (i, name) in expandable.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":\"\"");
    }
    out.push(b'}');
    let links = SearchLinks {
        base,
        self_link,
        next_link: None,
    };
    filter::write_links_and_close(&mut out, &links);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_composed_map_is_json_with_each_list_and_kbgate_links() {
        let members = vec![("page", br#"{"results":[],"size":0}"#.to_vec())];
        let out = compose_map(
            &members,
            &["attachment", "comment"],
            "https://kb.example.com/wiki",
            "https://kb.example.com/wiki/rest/api/content/1/child",
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["page"]["size"], 0);
        assert_eq!(v["_expandable"]["attachment"], "");
        assert_eq!(v["_links"]["context"], "/wiki");
        assert_eq!(
            v["_links"]["self"],
            "https://kb.example.com/wiki/rest/api/content/1/child"
        );
        let empty = compose_map(&[], &[], "b", "s");
        assert!(serde_json::from_slice::<serde_json::Value>(&empty).is_ok());
    }

    #[test]
    fn the_upstream_path_is_built_from_typed_values_only() {
        let q = ChildFilesQuery {
            id: crate::ids::ContentId::new("100005").unwrap(),
            kind: ChildType::Attachment,
            start: 2,
            limit: 3,
            filename: Some("a b&c.png".into()),
        };
        assert_eq!(
            upstream_path(&q),
            "/content/100005/child/attachment?start=2&limit=3&filename=a+b%26c.png"
        );
    }
}
