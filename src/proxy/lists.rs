//! The content-list routes as one request shape: `content/search` (the customer's CQL), the
//! `content` listing (space, type and title translated to CQL) and a page's `child/page` and
//! `descendant/page` (`parent = ID` / `ancestor = ID`), so the proxy's list step wraps, forwards
//! and filters them all the same way.
//!
//! Guarantees: the listing's CQL is built from typed, validated values only, each string value
//! quoted with [`cql::quote`], and then goes through the same tokenizer and wrapper as any
//! customer CQL; kbgate's `self` link of a listing never echoes the `title` (a lookup of a
//! hidden title and of a missing one answer alike); `next` links page by what upstream actually
//! returned.
//!
//! Deliberately not done: deciding visibility or filtering (the proxy's `decide` and
//! `filter::render_list` do) — the page-tree routes' parent is decided by the proxy before a
//! [`ListRequest`] is built.

use crate::confluence::UpstreamError;
use crate::filter::ListScan;
use crate::policy::cql::{self, UserCql};
use crate::route::{ContentListQuery, ContentSearchQuery, ListExpand, PageTreeQuery};

use super::{Links, ProxyError};

/// A content-list request, from either route.
pub struct ListRequest {
    /// The customer's CQL (for the listing: the CQL it stands for), checked, not yet wrapped.
    pub cql: UserCql,
    /// Offset of the first item.
    pub start: u32,
    /// Page size.
    pub limit: u32,
    /// The client's expansions.
    pub expand: Vec<ListExpand>,
    origin: Origin,
}

enum Origin {
    Search,
    Listing(ContentListQuery),
    Tree(PageTreeQuery, Relation),
}

/// Which pages below a page a page-tree route lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// `child/page`: the direct children (`parent = ID`).
    Child,
    /// `descendant/page`: every page below (`ancestor = ID`).
    Descendant,
}

impl Relation {
    /// The CQL field that selects these pages.
    fn cql_field(self) -> &'static str {
        match self {
            Relation::Child => "parent",
            Relation::Descendant => "ancestor",
        }
    }

    /// The path segment of the route (`child` or `descendant`).
    fn segment(self) -> &'static str {
        match self {
            Relation::Child => "child",
            Relation::Descendant => "descendant",
        }
    }
}

impl ListRequest {
    /// `GET /wiki/rest/api/content/search`: the customer's CQL, checked.
    pub fn search(q: &ContentSearchQuery) -> Result<Self, ProxyError> {
        Ok(ListRequest {
            cql: UserCql::parse(&q.cql)?,
            start: q.start,
            limit: q.limit,
            expand: q.expand.clone(),
            origin: Origin::Search,
        })
    }

    /// `GET /wiki/rest/api/content`: the listing as CQL (see [`listing_cql`]).
    pub fn listing(q: &ContentListQuery) -> Result<Self, ProxyError> {
        Ok(ListRequest {
            cql: UserCql::parse(&listing_cql(q))?,
            start: q.start,
            limit: q.limit,
            expand: q.expand.clone(),
            origin: Origin::Listing(q.clone()),
        })
    }

    /// `content/{id}/child/page` or `content/{id}/descendant/page`: the pages below the
    /// (already decided) page as CQL, `type = page AND parent|ancestor = ID`.
    pub fn page_tree(q: &PageTreeQuery, relation: Relation) -> Result<Self, ProxyError> {
        // The id is 1–20 digits (the route checked it): a bare CQL number, nothing to quote.
        let cql = format!("type = page AND {} = {}", relation.cql_field(), q.id);
        Ok(ListRequest {
            cql: UserCql::parse(&cql)?,
            start: q.start,
            limit: q.limit,
            expand: q.expand.clone(),
            origin: Origin::Tree(q.clone(), relation),
        })
    }

    /// The route name for logs and metrics.
    pub fn route(&self) -> &'static str {
        match self.origin {
            Origin::Search => "content_search",
            Origin::Listing(_) => "content_list",
            Origin::Tree(_, Relation::Child) => "child_pages",
            Origin::Tree(_, Relation::Descendant) => "descendant_pages",
        }
    }

    /// kbgate's `self` link for this page.
    pub fn self_link(&self, links: &Links) -> String {
        self.link(links, self.start, false)
    }

    /// kbgate's `next` link: present when upstream has more and sent at least one item; the
    /// next page starts after every item upstream sent (kept or removed).
    pub fn next_link(&self, links: &Links, scan: &ListScan) -> Option<String> {
        super::links::next_start(self.start, scan.upstream_count(), scan.has_next())
            .map(|start| self.link(links, start, true))
    }

    fn link(&self, links: &Links, start: u32, with_title: bool) -> String {
        match &self.origin {
            Origin::Search => {
                links.content_search(&self.cql.to_cql(), start, self.limit, &self.expand)
            }
            Origin::Listing(q) => links.content_list(q, start, self.limit, with_title),
            Origin::Tree(q, relation) => {
                links.page_tree(&q.id, relation.segment(), start, self.limit, &self.expand)
            }
        }
    }
}

/// The CQL a listing stands for: `type = page [AND space = "KEY"] [AND title = "…"]`.
pub fn listing_cql(q: &ContentListQuery) -> String {
    let mut cql = format!("type = {}", q.kind.wire());
    if let Some(key) = &q.space_key {
        cql.push_str(" AND space = ");
        cql.push_str(&cql::quote(key.as_str()));
    }
    if let Some(title) = &q.title {
        cql.push_str(" AND title = ");
        cql.push_str(&cql::quote(title));
    }
    cql
}

/// Upstream failures of a CQL search: a 400 means Confluence could not run the wrapped query.
pub fn search_error(e: UpstreamError) -> ProxyError {
    match e {
        UpstreamError::Status(s) if s == http::StatusCode::BAD_REQUEST => {
            ProxyError::QueryRefusedUpstream
        }
        other => ProxyError::Upstream(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SpaceKey;
    use crate::route::ListType;

    fn listing(title: Option<&str>) -> ContentListQuery {
        ContentListQuery {
            space_key: Some(SpaceKey::new("KB").unwrap()),
            kind: ListType::Page,
            title: title.map(str::to_owned),
            start: 0,
            limit: 25,
            expand: Vec::new(),
        }
    }

    #[test]
    fn a_listing_becomes_quoted_cql_that_the_wrapper_accepts() {
        assert_eq!(
            listing_cql(&listing(None)),
            "type = page AND space = \"KB\""
        );
        let hostile = listing(Some("a\" OR space = \"ENG\\"));
        let cql = listing_cql(&hostile);
        assert_eq!(
            cql,
            "type = page AND space = \"KB\" AND title = \"a\\\" OR space = \\\"ENG\\\\\""
        );
        // Re-serialized from tokens, the quotes inside are still escaped: one string literal.
        let parsed = ListRequest::listing(&hostile).unwrap().cql.to_cql();
        assert_eq!(parsed, cql);
        let mut any_space = listing(None);
        any_space.space_key = None;
        any_space.kind = ListType::BlogPost;
        assert_eq!(listing_cql(&any_space), "type = blogpost");
    }

    #[test]
    fn a_listing_self_link_names_no_title_but_its_next_link_does() {
        let links = Links::new("https://kb.example.com", "/wiki/rest/api");
        let req = ListRequest::listing(&listing(Some("Secret title"))).unwrap();
        assert!(!req.self_link(&links).contains("title"));
        let body = br#"{"results":[{"id":"1","type":"page"}],"start":0,"limit":25,"_links":{"next":"/x"}}"#;
        let scan = crate::filter::scan_list(body).unwrap();
        let next = req.next_link(&links, &scan).unwrap();
        assert!(next.contains("title=Secret+title&start=1&"), "{next}");
    }

    #[test]
    fn page_trees_become_parent_or_ancestor_cql_and_link_back_to_their_route() {
        let links = Links::new("https://kb.example.com", "/wiki/rest/api");
        let q = PageTreeQuery {
            id: crate::ids::ContentId::new("200000").unwrap(),
            start: 0,
            limit: 1,
            expand: vec![ListExpand::Space],
        };
        let child = ListRequest::page_tree(&q, Relation::Child).unwrap();
        assert_eq!(child.cql.to_cql(), "type = page AND parent = 200000");
        assert_eq!(child.route(), "child_pages");
        assert_eq!(
            child.self_link(&links),
            "https://kb.example.com/wiki/rest/api/content/200000/child/page?start=0&limit=1&expand=space"
        );
        let all = ListRequest::page_tree(&q, Relation::Descendant).unwrap();
        assert_eq!(all.cql.to_cql(), "type = page AND ancestor = 200000");
        assert_eq!(all.route(), "descendant_pages");
        let body =
            br#"{"results":[{"id":"1","type":"page"}],"start":0,"limit":1,"_links":{"next":"/x"}}"#;
        let scan = crate::filter::scan_list(body).unwrap();
        assert_eq!(
            all.next_link(&links, &scan).as_deref(),
            Some("https://kb.example.com/wiki/rest/api/content/200000/descendant/page?start=1&limit=1&expand=space")
        );
    }

    #[test]
    fn no_next_link_without_upstream_next_or_without_items() {
        let links = Links::new("https://kb.example.com", "/wiki/rest/api");
        let q = ContentSearchQuery {
            cql: "space = KB".into(),
            start: 0,
            limit: 2,
            expand: Vec::new(),
        };
        let req = ListRequest::search(&q).unwrap();
        assert_eq!(req.route(), "content_search");
        for body in [
            &br#"{"results":[{"id":"1","type":"page"}],"start":0,"limit":2,"_links":{}}"#[..],
            br#"{"results":[],"start":0,"limit":2,"_links":{"next":"/x"}}"#,
        ] {
            let scan = crate::filter::scan_list(body).unwrap();
            assert_eq!(req.next_link(&links, &scan), None);
        }
        assert!(matches!(
            search_error(UpstreamError::Status(http::StatusCode::BAD_REQUEST)),
            ProxyError::QueryRefusedUpstream
        ));
    }
}
