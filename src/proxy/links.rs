//! kbgate's own URLs, written into responses in place of upstream links.
//!
//! Paging links carry the customer's own CQL (re-serialized from tokens) and offsets, never the
//! wrapped query or an upstream cursor: every page request is wrapped again.

mod tree;

pub(super) use tree::site_download_path;

use crate::ids::{ContentId, SpaceKey};
use crate::route::{ContentListQuery, ContentQuery, LabelsQuery, ListExpand};

/// Builds public kbgate URLs.
#[derive(Clone, Debug)]
pub struct Links {
    public_url: String,
    api_prefix: &'static str,
}

impl Links {
    /// `public_url` without trailing slash; `api_prefix` such as `/wiki/rest/api`.
    pub fn new(public_url: &str, api_prefix: &'static str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            api_prefix,
        }
    }

    /// `_links.base`: the public URL plus the context path (`/wiki` on Cloud).
    pub fn api_base(&self) -> String {
        let context = self.api_prefix.strip_suffix("/rest/api").unwrap_or("");
        format!("{}{}", self.public_url, context)
    }

    /// A search page URL.
    pub fn search(&self, user_cql: &str, start: u32, limit: u32) -> String {
        let query = query_string()
            .append_pair("cql", user_cql)
            .append_pair("start", &start.to_string())
            .append_pair("limit", &limit.to_string())
            .finish();
        format!("{}{}/search?{query}", self.public_url, self.api_prefix)
    }

    /// A `content/search` page URL: the customer's CQL, paging and expansions.
    pub fn content_search(
        &self,
        user_cql: &str,
        start: u32,
        limit: u32,
        expand: &[ListExpand],
    ) -> String {
        let mut query = query_string();
        query.append_pair("cql", user_cql);
        paging(&mut query, start, limit, expand);
        format!(
            "{}{}/content/search?{}",
            self.public_url,
            self.api_prefix,
            query.finish()
        )
    }

    /// A content-listing page URL. The `title` is written only when `with_title`: kbgate's
    /// `self` link leaves it out, so that a lookup of a hidden title and one of a missing
    /// title answer byte for byte alike.
    pub fn content_list(
        &self,
        q: &ContentListQuery,
        start: u32,
        limit: u32,
        with_title: bool,
    ) -> String {
        let mut query = query_string();
        if let Some(key) = &q.space_key {
            query.append_pair("spaceKey", key.as_str());
        }
        query.append_pair("type", q.kind.wire());
        if let (Some(title), true) = (&q.title, with_title) {
            query.append_pair("title", title);
        }
        paging(&mut query, start, limit, &q.expand);
        format!(
            "{}{}/content?{}",
            self.public_url,
            self.api_prefix,
            query.finish()
        )
    }

    /// A page-tree URL: `content/{id}/{relation}/page` (`relation` is `child` or
    /// `descendant`) with paging and expansions.
    pub fn page_tree(
        &self,
        id: &ContentId,
        relation: &str,
        start: u32,
        limit: u32,
        expand: &[ListExpand],
    ) -> String {
        let mut query = query_string();
        paging(&mut query, start, limit, expand);
        format!(
            "{}{}/content/{id}/{relation}/page?{}",
            self.public_url,
            self.api_prefix,
            query.finish()
        )
    }

    /// A label-list URL: `content/{id}/label` with the client's `start` (and `limit` when
    /// given).
    pub fn labels(&self, q: &LabelsQuery, start: u32) -> String {
        let mut query = query_string();
        query.append_pair("start", &start.to_string());
        if let Some(limit) = q.limit {
            query.append_pair("limit", &limit.to_string());
        }
        format!(
            "{}{}/content/{}/label?{}",
            self.public_url,
            self.api_prefix,
            q.id,
            query.finish()
        )
    }

    /// A space-list URL: `space?start=…&limit=…`.
    pub fn spaces(&self, start: u32, limit: u32) -> String {
        format!(
            "{}{}/space?start={start}&limit={limit}",
            self.public_url, self.api_prefix
        )
    }

    /// A space URL: `space/{key}` (a valid key needs no escaping).
    pub fn space(&self, key: &str) -> String {
        match SpaceKey::new(key) {
            Ok(key) => format!("{}{}/space/{key}", self.public_url, self.api_prefix),
            // Not reachable for a kept space (kept keys are configured keys); never echo it.
            Err(_) => format!("{}{}/space", self.public_url, self.api_prefix),
        }
    }

    /// A content URL.
    pub fn content(&self, q: &ContentQuery) -> String {
        format!("{}{}/content/{}", self.public_url, self.api_prefix, q.id)
    }

    /// `_links.base` of a JSM answer: `{public_url}/rest/servicedeskapi`.
    pub fn jsm_base(&self) -> String {
        format!("{}/rest/servicedeskapi", self.public_url)
    }

    /// A JSM article-search page URL at visible offset `start`: the same route (and desk) with
    /// the customer's typed `query`, `highlight` and `limit`, form-urlencoded.
    pub fn jsm_articles(&self, q: &crate::route::JsmArticlesQuery, start: u32) -> String {
        let query = query_string()
            .append_pair("query", &q.query)
            .append_pair("highlight", if q.highlight { "true" } else { "false" })
            .append_pair("start", &start.to_string())
            .append_pair("limit", &q.limit.to_string())
            .finish();
        match &q.service_desk {
            Some(desk) => format!(
                "{}/servicedesk/{}/knowledgebase/article?{query}",
                self.jsm_base(),
                desk.as_str()
            ),
            None => format!("{}/knowledgebase/article?{query}", self.jsm_base()),
        }
    }

    /// kbgate's own view of an article on the KB site: `{public_url}/articles/{id}`.
    pub fn kb_article(&self, id: &ContentId) -> String {
        format!("{}/articles/{id}", self.public_url)
    }

    /// `_links.base` of a v2 answer: `{public_url}/wiki`.
    pub fn v2_base(&self) -> String {
        format!("{}/wiki", self.public_url)
    }

    /// kbgate's v2 URL for `path_and_query` below `/wiki/api/v2/`, relative to the host as
    /// Confluence Cloud writes `_links.next` (`/wiki/api/v2/pages?…`), after the path of
    /// `public_url` if it has one.
    pub fn v2_path(&self, path_and_query: &str) -> String {
        let after_scheme = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, rest)| rest);
        let prefix = after_scheme
            .find('/')
            .and_then(|at| after_scheme.get(at..))
            .unwrap_or("");
        format!("{prefix}/wiki/api/v2/{path_and_query}")
    }

    /// An attachment's download link, relative to [`Links::v2_base`] as Confluence writes
    /// `downloadLink`: `/download/attachments/{page id}/{file name, percent-encoded}`. Built
    /// from the page id and file name, never copied from upstream.
    pub fn v2_download(&self, page_id: &str, file_name: &str) -> String {
        const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        format!(
            "/download/attachments/{}/{}",
            percent_encoding::utf8_percent_encode(page_id, KEEP),
            percent_encoding::utf8_percent_encode(file_name, KEEP)
        )
    }
}

/// A query-string builder with room for a typical query (a wrapped CQL query and paging), so it
/// does not regrow while it is written.
pub(super) fn query_string() -> form_urlencoded::Serializer<'static, String> {
    form_urlencoded::Serializer::new(String::with_capacity(256))
}

fn paging(
    query: &mut form_urlencoded::Serializer<'_, String>,
    start: u32,
    limit: u32,
    expand: &[ListExpand],
) {
    query
        .append_pair("start", &start.to_string())
        .append_pair("limit", &limit.to_string());
    if !expand.is_empty() {
        let names: Vec<&str> = expand.iter().map(ListExpand::wire).collect();
        query.append_pair("expand", &names.join(","));
    }
}

/// The answer to a content list no article can match (kbgate does not ask upstream); the same
/// shape as a filtered list.
pub fn empty_list(start: u32, limit: u32, base: &str, self_link: &str) -> Vec<u8> {
    use crate::response::json_string;
    format!(
        "{{\"results\":[],\"start\":{start},\"limit\":{limit},\"size\":0,\"_links\":{{\"base\":{},\"context\":\"{}\",\"self\":{}}}}}",
        json_string(base),
        crate::filter::context_of(base),
        json_string(self_link)
    )
    .into_bytes()
}

/// Where the next page of a v1 list starts: after every item upstream sent (kept or removed),
/// when upstream says there is more and sent at least one item; `None` otherwise.
pub fn next_start(start: u32, sent: usize, upstream_has_next: bool) -> Option<u32> {
    let sent = u32::try_from(sent).ok()?;
    (upstream_has_next && sent > 0).then(|| start.saturating_add(sent))
}

/// The answer to a search no article can match (kbgate does not ask upstream).
pub fn empty_search(start: u32, limit: u32, base: &str, self_link: &str) -> Vec<u8> {
    use crate::response::json_string;
    format!(
        "{{\"results\":[],\"start\":{start},\"limit\":{limit},\"size\":0,\"totalSize\":0,\"_links\":{{\"base\":{},\"context\":\"{}\",\"self\":{}}}}}",
        json_string(base),
        crate::filter::context_of(base),
        json_string(self_link)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_kbgate_and_carry_only_the_customer_query() {
        let l = Links::new("https://kb.example.com/", "/wiki/rest/api");
        assert_eq!(l.api_base(), "https://kb.example.com/wiki");
        assert_eq!(
            l.search("text ~ \"vpn\"", 25, 25),
            "https://kb.example.com/wiki/rest/api/search?cql=text+%7E+%22vpn%22&start=25&limit=25"
        );
        let empty = empty_search(0, 25, &l.api_base(), "x");
        let v: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["size"], 0);
    }

    #[test]
    fn list_links_carry_paging_and_expansions_and_self_never_echoes_the_title() {
        let l = Links::new("https://kb.example.com", "/wiki/rest/api");
        assert_eq!(
            l.content_search("space = \"KB\"", 10, 5, &[ListExpand::Space, ListExpand::Version]),
            "https://kb.example.com/wiki/rest/api/content/search?cql=space+%3D+%22KB%22&start=10&limit=5&expand=space%2Cversion"
        );
        let q = ContentListQuery {
            space_key: Some(crate::ids::SpaceKey::new("KB").unwrap()),
            kind: crate::route::ListType::BlogPost,
            title: Some("Secret & title".into()),
            start: 0,
            limit: 25,
            expand: Vec::new(),
        };
        assert_eq!(
            l.content_list(&q, 0, 25, false),
            "https://kb.example.com/wiki/rest/api/content?spaceKey=KB&type=blogpost&start=0&limit=25"
        );
        assert_eq!(
            l.content_list(&q, 25, 25, true),
            "https://kb.example.com/wiki/rest/api/content?spaceKey=KB&type=blogpost&title=Secret+%26+title&start=25&limit=25"
        );
        let empty = empty_list(0, 25, &l.api_base(), "x");
        let v: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["size"], 0);
        assert!(v.get("totalSize").is_none());
    }

    #[test]
    fn space_links_name_the_paging_or_the_key_and_never_an_invalid_key() {
        let l = Links::new("https://kb.example.com", "/wiki/rest/api");
        assert_eq!(
            l.spaces(25, 5),
            "https://kb.example.com/wiki/rest/api/space?start=25&limit=5"
        );
        assert_eq!(
            l.space("KB"),
            "https://kb.example.com/wiki/rest/api/space/KB"
        );
        assert_eq!(
            l.space("K\"/x"),
            "https://kb.example.com/wiki/rest/api/space"
        );
    }

    #[test]
    fn page_tree_and_label_links_name_the_page_and_the_paging() {
        let l = Links::new("https://kb.example.com", "/wiki/rest/api");
        let id = ContentId::new("4711").unwrap();
        assert_eq!(
            l.page_tree(&id, "descendant", 25, 5, &[ListExpand::Version]),
            "https://kb.example.com/wiki/rest/api/content/4711/descendant/page?start=25&limit=5&expand=version"
        );
        let q = LabelsQuery {
            id,
            start: 0,
            limit: None,
        };
        assert_eq!(
            l.labels(&q, 0),
            "https://kb.example.com/wiki/rest/api/content/4711/label?start=0"
        );
        let q = LabelsQuery {
            limit: Some(2),
            ..q
        };
        assert_eq!(
            l.labels(&q, 2),
            "https://kb.example.com/wiki/rest/api/content/4711/label?start=2&limit=2"
        );
    }
}
