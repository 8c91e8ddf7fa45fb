//! The query allowlist of JSM's knowledge-base search (`/rest/servicedeskapi/knowledgebase/article`
//! and `/rest/servicedeskapi/servicedesk/{serviceDeskId}/knowledgebase/article`): raw query →
//! typed [`JsmArticlesQuery`], or a typed refusal.
//!
//! Guarantees: `query` is required, not blank, at most [`MAX_JSM_QUERY_BYTES`] decoded bytes;
//! `start` is `0..=MAX_JSM_START` (default 0), `limit` `1..=MAX_JSM_LIMIT` (default
//! [`DEFAULT_JSM_LIMIT`], JSM's own), `highlight` exactly `true` or `false` (default false); a
//! service desk id is 1–20 ASCII digits; unknown and repeated parameters are refused with the
//! same helpers (and errors) as every other route (`query.rs`).
//!
//! Deliberately not done: deciding which service desks exist (upstream answers that; kbgate
//! turns its 404 into the uniform one) or building any upstream URI.

use super::query::{pairs, parse_number, parse_text, set_once, unknown};
use super::QueryError;

/// Largest `start` accepted on the JSM routes (kbgate pages over visible articles itself).
pub const MAX_JSM_START: u32 = 10_000;
/// Largest `limit` accepted on the JSM routes.
pub const MAX_JSM_LIMIT: u32 = 100;
/// `limit` when the client sends none (JSM's default).
pub const DEFAULT_JSM_LIMIT: u32 = 50;
/// Longest decoded `query` accepted, in bytes.
pub const MAX_JSM_QUERY_BYTES: usize = 1024;

/// A service desk id from the path: 1–20 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceDeskId(String);

impl ServiceDeskId {
    /// Checks a path segment: 1–20 ASCII digits, else `None`.
    pub fn new(segment: &str) -> Option<Self> {
        let ok = (1..=20).contains(&segment.len()) && segment.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| ServiceDeskId(segment.to_owned()))
    }

    /// The id as text (digits only, safe in a URL path).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The validated parameters of a JSM knowledge-base article search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsmArticlesQuery {
    /// `None` for `knowledgebase/article` (every desk); the desk of
    /// `servicedesk/{id}/knowledgebase/article` otherwise.
    pub service_desk: Option<ServiceDeskId>,
    /// The customer's search words, decoded, not blank, at most [`MAX_JSM_QUERY_BYTES`].
    pub query: String,
    /// Offset of the first **visible** article, `0..=MAX_JSM_START`; default 0.
    pub start: u32,
    /// Page size, `1..=MAX_JSM_LIMIT`; default [`DEFAULT_JSM_LIMIT`].
    pub limit: u32,
    /// Whether JSM marks matched words (`@@@hl@@@…@@@endhl@@@`); default false.
    pub highlight: bool,
}

/// Parses the query of either JSM article route for the desk `service_desk` (from the path).
pub(super) fn parse_jsm_articles(
    service_desk: Option<ServiceDeskId>,
    raw: Option<&str>,
) -> Result<JsmArticlesQuery, QueryError> {
    let (mut query, mut start, mut limit, mut highlight) = (None, None, None, None);
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "query" => set_once(
                &mut query,
                "query",
                parse_text(
                    "query",
                    value,
                    MAX_JSM_QUERY_BYTES,
                    "is longer than 1024 bytes",
                )?,
            )?,
            "start" => set_once(
                &mut start,
                "start",
                parse_number("start", &value, 0, MAX_JSM_START)?,
            )?,
            "limit" => set_once(
                &mut limit,
                "limit",
                parse_number("limit", &value, 1, MAX_JSM_LIMIT)?,
            )?,
            "highlight" => set_once(&mut highlight, "highlight", parse_bool(&value)?)?,
            _ => return Err(unknown(&name)),
        }
    }
    Ok(JsmArticlesQuery {
        service_desk,
        query: query.ok_or(QueryError::Missing("query"))?,
        start: start.unwrap_or(0),
        limit: limit.unwrap_or(DEFAULT_JSM_LIMIT),
        highlight: highlight.unwrap_or(false),
    })
}

fn parse_bool(value: &str) -> Result<bool, QueryError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(QueryError::BadValue {
            param: "highlight",
            why: "must be 'true' or 'false'",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<JsmArticlesQuery, QueryError> {
        parse_jsm_articles(None, Some(raw))
    }

    #[test]
    fn defaults_are_jsms_own() {
        let q = parse("query=vpn").unwrap();
        assert_eq!(
            q,
            JsmArticlesQuery {
                service_desk: None,
                query: "vpn".into(),
                start: 0,
                limit: 50,
                highlight: false,
            }
        );
    }

    #[test]
    fn every_parameter_is_decoded_once_and_kept_typed() {
        let desk = ServiceDeskId::new("1");
        let q = parse_jsm_articles(
            desk.clone(),
            Some("highlight=true&limit=100&start=10000&query=reset+my%20password%2B"),
        )
        .unwrap();
        assert_eq!(q.service_desk, desk);
        assert_eq!(q.query, "reset my password+");
        assert_eq!((q.start, q.limit, q.highlight), (10_000, 100, true));
        assert!(!parse("query=a&highlight=false").unwrap().highlight);
    }

    #[test]
    fn a_missing_blank_or_too_long_query_is_refused() {
        assert_eq!(parse(""), Err(QueryError::Missing("query")));
        assert_eq!(parse("start=1"), Err(QueryError::Missing("query")));
        for raw in ["query=", "query=+++", "query=%20%09"] {
            assert!(
                matches!(parse(raw), Err(QueryError::BadValue { param: "query", .. })),
                "{raw}"
            );
        }
        let longest = format!("query={}", "a".repeat(1024));
        assert!(parse(&longest).is_ok());
        let too_long = format!("query={}", "a".repeat(1025));
        assert!(matches!(
            parse(&too_long),
            Err(QueryError::BadValue { param: "query", .. })
        ));
    }

    #[test]
    fn paging_and_highlight_outside_their_ranges_are_refused() {
        for raw in [
            "query=a&start=10001",
            "query=a&start=-1",
            "query=a&start=1.0",
            "query=a&limit=0",
            "query=a&limit=101",
            "query=a&limit=",
            "query=a&highlight=TRUE",
            "query=a&highlight=1",
            "query=a&highlight=",
        ] {
            assert!(
                matches!(parse(raw), Err(QueryError::BadValue { .. })),
                "{raw}"
            );
        }
    }

    #[test]
    fn unknown_and_repeated_parameters_are_refused_not_dropped() {
        assert_eq!(
            parse("query=a&expand=x"),
            Err(QueryError::UnknownParameter("expand".into()))
        );
        assert_eq!(
            parse("query=a&cql=space%3DENG"),
            Err(QueryError::UnknownParameter("cql".into()))
        );
        assert_eq!(
            parse("query=a&query=b"),
            Err(QueryError::Duplicate("query".into()))
        );
        assert_eq!(
            parse("query=a&highlight=true&highlight=false"),
            Err(QueryError::Duplicate("highlight".into()))
        );
        assert_eq!(parse("query=%zz"), Err(QueryError::BadEscape));
    }

    #[test]
    fn both_paths_classify_for_get_and_head_only() {
        use crate::route::{classify, Route, RouteError};
        let classify = |method: http::Method, target: &str| {
            classify(&method, &target.parse::<http::Uri>().unwrap())
        };
        let global = "/rest/servicedeskapi/knowledgebase/article?query=vpn";
        let desk = "/rest/servicedeskapi/servicedesk/1/knowledgebase/article?query=vpn&limit=5";
        for method in [http::Method::GET, http::Method::HEAD] {
            let Ok(Route::JsmArticles(q)) = classify(method.clone(), global) else {
                panic!("{method} {global}");
            };
            assert_eq!(q.service_desk, None);
            let route = classify(method.clone(), desk).unwrap();
            assert_eq!(route.name(), "jsm_articles");
            let Route::JsmArticles(q) = route else {
                panic!("{method} {desk}");
            };
            assert_eq!(q.service_desk, ServiceDeskId::new("1"));
            assert_eq!(q.limit, 5);
        }
        assert_eq!(
            classify(http::Method::POST, global),
            Err(RouteError::MethodNotAllowed)
        );
        for target in [
            "/rest/servicedeskapi/servicedesk/x1/knowledgebase/article?query=a",
            "/rest/servicedeskapi/servicedesk/123456789012345678901/knowledgebase/article?query=a",
            "/rest/servicedeskapi/knowledgebase/article/view/1",
            "/rest/servicedeskapi/knowledgebase",
            "/rest/servicedeskapi/Knowledgebase/article?query=a",
        ] {
            assert_eq!(
                classify(http::Method::GET, target),
                Err(RouteError::NotFound),
                "{target}"
            );
        }
        assert!(matches!(
            classify(
                http::Method::GET,
                "/rest/servicedeskapi/knowledgebase/article"
            ),
            Err(RouteError::BadQuery(QueryError::Missing("query")))
        ));
        assert!(matches!(
            classify(
                http::Method::GET,
                "/rest/servicedeskapi/knowledgebase/%2e%2e/article?query=a"
            ),
            Err(RouteError::BadPath(_))
        ));
    }

    #[test]
    fn a_service_desk_id_is_one_to_twenty_digits() {
        assert_eq!(ServiceDeskId::new("1").unwrap().as_str(), "1");
        assert!(ServiceDeskId::new("98765432109876543210").is_some());
        for bad in ["", "123456789012345678901", "1a", "-1", "%31", "１"] {
            assert!(ServiceDeskId::new(bad).is_none(), "{bad}");
        }
    }
}
