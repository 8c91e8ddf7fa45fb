//! Step 4: the upstream request, built from the classified [`Route`](crate::route::Route) —
//! never from the client's raw URI — so the decision and the forwarded request are the same.

use super::links::query_string;
use crate::ids::SpaceKey;
use crate::route::{ContentQuery, Excerpt, LabelsQuery, ListExpand, SearchQuery, SpacesQuery};

/// Expansions the post-filter needs on every search result.
const SEARCH_EXPANDS: &[&str] = &[
    "content.metadata.labels",
    "content.ancestors",
    "content.space",
];
/// Expansions the post-filter needs on a single content item.
const CONTENT_EXPANDS: &[&str] = &["space", "ancestors", "metadata.labels"];
/// Expansions the post-filter needs on every item of a content list.
const LIST_EXPANDS: &[&str] = &["metadata.labels", "ancestors", "space"];

/// `/search?…` for an already wrapped CQL query.
pub fn search(wrapped_cql: &str, q: &SearchQuery) -> String {
    let mut expand: Vec<&str> = SEARCH_EXPANDS.to_vec();
    // Excerpts are shown only after the body they were cut from is checked for links.
    if q.excerpt == Excerpt::Highlight {
        expand.push("content.body.storage");
    }
    for e in &q.expand {
        if !expand.contains(&e.wire()) {
            expand.push(e.wire());
        }
    }
    let query = query_string()
        .append_pair("cql", wrapped_cql)
        .append_pair("start", &q.start.to_string())
        .append_pair("limit", &q.limit.to_string())
        .append_pair(
            "excerpt",
            match q.excerpt {
                Excerpt::Highlight => "highlight",
                Excerpt::None => "none",
            },
        )
        .append_pair("expand", &expand.join(","))
        .finish();
    format!("/search?{query}")
}

/// `/content/{id}?expand=…`: the client's expansions plus what the decision needs.
pub fn content(q: &ContentQuery) -> String {
    let mut expand: Vec<&str> = CONTENT_EXPANDS.to_vec();
    for e in q.expand.iter().filter(|e| e.forwarded()) {
        if !expand.contains(&e.wire()) {
            expand.push(e.wire());
        }
    }
    let query = query_string()
        .append_pair("expand", &expand.join(","))
        .finish();
    format!("/content/{}?{query}", q.id)
}

/// `/content/search?…` for an already wrapped CQL query: both content-list routes (CQL content
/// search and the listing, translated to CQL) ask upstream this way, so the pre-filter applies.
pub fn content_list(wrapped_cql: &str, start: u32, limit: u32, client: &[ListExpand]) -> String {
    let mut expand: Vec<&str> = LIST_EXPANDS.to_vec();
    for e in client {
        if !expand.contains(&e.wire()) {
            expand.push(e.wire());
        }
    }
    let query = query_string()
        .append_pair("cql", wrapped_cql)
        .append_pair("start", &start.to_string())
        .append_pair("limit", &limit.to_string())
        .append_pair("expand", &expand.join(","))
        .finish();
    format!("/content/search?{query}")
}

/// `/content/{id}/label?start=…[&limit=…]`: a page's labels (asked only after the page was
/// decided visible).
pub fn labels(q: &LabelsQuery) -> String {
    let mut query = query_string();
    query.append_pair("start", &q.start.to_string());
    if let Some(limit) = q.limit {
        query.append_pair("limit", &limit.to_string());
    }
    format!("/content/{}/label?{}", q.id, query.finish())
}

/// `/space?spaceKey=…&start=…&limit=…`: only the given (KB) spaces are asked for, so paging
/// counts only spaces a customer may see; the post-filter checks every key again.
pub fn spaces<'k>(keys: impl IntoIterator<Item = &'k SpaceKey>, q: &SpacesQuery) -> String {
    let mut query = query_string();
    for key in keys {
        query.append_pair("spaceKey", key.as_str());
    }
    query
        .append_pair("start", &q.start.to_string())
        .append_pair("limit", &q.limit.to_string());
    format!("/space?{}", query.finish())
}

/// `/space/{key}`: one space (asked only for a KB space). The key's characters
/// (`A-Za-z0-9_~`) need no escaping in a path.
pub fn space(key: &SpaceKey) -> String {
    format!("/space/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_ask_only_for_the_given_keys_with_the_clients_paging() {
        let keys = [SpaceKey::new("KB").unwrap(), SpaceKey::new("HELP").unwrap()];
        let q = SpacesQuery { start: 5, limit: 2 };
        assert_eq!(
            spaces(&keys, &q),
            "/space?spaceKey=KB&spaceKey=HELP&start=5&limit=2"
        );
        assert_eq!(space(&keys[0]), "/space/KB");
    }

    #[test]
    fn content_lists_ask_for_the_metadata_the_policy_needs_plus_the_clients_expansions() {
        let path = content_list(
            "space in (\"KB\") AND (x)",
            50,
            10,
            &[ListExpand::Version, ListExpand::Space],
        );
        assert_eq!(
            path,
            "/content/search?cql=space+in+%28%22KB%22%29+AND+%28x%29&start=50&limit=10&expand=metadata.labels%2Cancestors%2Cspace%2Cversion"
        );
    }

    #[test]
    fn label_lists_forward_only_the_typed_id_and_paging() {
        let q = LabelsQuery {
            id: crate::ids::ContentId::new("42").unwrap(),
            start: 3,
            limit: Some(200),
        };
        assert_eq!(labels(&q), "/content/42/label?start=3&limit=200");
        let q = LabelsQuery { limit: None, ..q };
        assert_eq!(labels(&q), "/content/42/label?start=3");
    }
}
