//! kbgate's own URLs, written into responses in place of upstream links.
//!
//! Paging links carry the customer's own CQL (re-serialized from tokens) and offsets, never the
//! wrapped query or an upstream cursor: every page request is wrapped again.

use crate::route::ContentQuery;

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
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("cql", user_cql)
            .append_pair("start", &start.to_string())
            .append_pair("limit", &limit.to_string())
            .finish();
        format!("{}{}/search?{query}", self.public_url, self.api_prefix)
    }

    /// A content URL.
    pub fn content(&self, q: &ContentQuery) -> String {
        format!("{}{}/content/{}", self.public_url, self.api_prefix, q.id)
    }
}

/// The answer to a search no article can match (kbgate does not ask upstream).
pub fn empty_search(start: u32, limit: u32, base: &str, self_link: &str) -> Vec<u8> {
    use crate::response::json_string;
    format!(
        "{{\"results\":[],\"start\":{start},\"limit\":{limit},\"size\":0,\"totalSize\":0,\"_links\":{{\"base\":{},\"context\":\"/wiki\",\"self\":{}}}}}",
        json_string(base),
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
}
