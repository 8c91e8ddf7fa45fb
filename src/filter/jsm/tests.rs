//! Tests of the JSM article filter against the spec's example and hostile variants.

use super::*;

/// `jsm-kb-articles.json` (the example of op `getArticles` in the JSM spec), verbatim.
const SAMPLE: &str = r#"{
  "_expands": [],
  "size": 2,
  "start": 2,
  "limit": 2,
  "isLastPage": false,
  "_links": {
    "base": "https://your-domain.atlassian.net/rest/servicedeskapi",
    "context": "context",
    "next": "https://your-domain.atlassian.net/rest/servicedeskapi/knowledgebase/article?start=4&limit=2",
    "prev": "https://your-domain.atlassian.net/rest/servicedeskapi/knowledgebase/article?start=0&limit=2"
  },
  "values": [
    {
      "title": "Stolen computer",
      "excerpt": "assuming your computer was stolen",
      "source": {
        "type": "confluence",
        "pageId": "8786177",
        "spaceKey": "IT"
      },
      "content": {
        "iframeSrc": "https://your-domain.atlassian.net/rest/servicedeskapi/knowledgebase/article/view/8786177"
      }
    },
    {
      "title": "Upgrading computer",
      "excerpt": "each computer older then 3 years can be upgraded",
      "source": {
        "type": "confluence",
        "pageId": "8785228",
        "spaceKey": "IT"
      },
      "content": {
        "iframeSrc": "https://your-domain.atlassian.net/rest/servicedeskapi/knowledgebase/article/view/8785228"
      }
    }
  ]
}"#;

fn id(s: &str) -> ContentId {
    ContentId::new(s).unwrap()
}

fn key(s: &str) -> SpaceKey {
    SpaceKey::new(s).unwrap()
}

/// A page with one value whose members are `article` (a JSON object's inside).
fn page_with(article: &str) -> String {
    format!(r#"{{"isLastPage":true,"values":[{{{article}}}]}}"#)
}

#[test]
fn the_sample_scans_into_two_decoded_candidates() {
    let scan = scan_jsm_articles(SAMPLE.as_bytes()).unwrap();
    assert_eq!(scan.upstream_count(), 2);
    assert_eq!(scan.dropped(), 0);
    assert!(!scan.is_last_page());
    assert_eq!(
        scan.articles()[0],
        JsmArticle {
            page_id: id("8786177"),
            space_key: key("IT"),
            title: "Stolen computer".into(),
            excerpt: "assuming your computer was stolen".into(),
        }
    );
    assert_eq!(scan.into_articles()[1].page_id, id("8785228"));
}

#[test]
fn escapes_are_decoded_and_highlight_markers_kept() {
    let body = page_with(
        r#""title":"@@@hl@@@VPN@@@endhl@@@ \"quotes\" \u0026 caf\u00e9","excerpt":null,
           "source":{"type":"confluence","pageId":"100004","spaceKey":"K\u0042"}"#,
    );
    let scan = scan_jsm_articles(body.as_bytes()).unwrap();
    let a = &scan.articles()[0];
    assert_eq!(a.title, "@@@hl@@@VPN@@@endhl@@@ \"quotes\" & café");
    assert_eq!(a.excerpt, "", "null excerpt");
    assert_eq!(a.space_key, key("KB"));
    assert!(scan.is_last_page());
}

#[test]
fn values_that_cannot_be_decided_are_dropped_not_refused() {
    for article in [
        r#""title":"no source""#,
        r#""title":"t","source":{"type":"confluence","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","pageId":"1"}"#,
        r#""title":"t","source":{"pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"jira","pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"Confluence","pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","pageId":"1a","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","pageId":"","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","pageId":"123456789012345678901","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","pageId":"1","spaceKey":"K B"}"#,
        r#""source":{"type":"confluence","pageId":"1","spaceKey":"KB"}"#,
    ] {
        let body = page_with(article);
        let scan = scan_jsm_articles(body.as_bytes()).unwrap_or_else(|e| panic!("{article}: {e}"));
        assert_eq!((scan.upstream_count(), scan.dropped()), (1, 1), "{article}");
        assert!(scan.articles().is_empty());
    }
}

#[test]
fn malformed_pages_are_refused() {
    for body in [
        r#"{"values":[]}"#,
        r#"{"isLastPage":true}"#,
        r#"{"isLastPage":"true","values":[]}"#,
        r#"{"isLastPage":true,"values":{}}"#,
        r#"{"isLastPage":true,"values":[],"values":[]}"#,
        r#"{"isLastPage":true,"isLastPage":false,"values":[]}"#,
        r#"{"isLastPage":true,"values":[],"size":-1}"#,
        r#"{"isLastPage":true,"values":[],"start":"0"}"#,
        r#"{"isLastPage":true,"values":[],"_links":[]}"#,
        r#"{"isLastPage":true,"values":[],"_links":{"next":"a","next":"b"}}"#,
        r#"{"isLastPage":true,"values":[]} trailing"#,
        r#"{"isLastPage":true,"values":[1]}"#,
        r#"{"isLastPage":true,"values":[{"title":"a""#,
        r#"[]"#,
    ] {
        assert!(scan_jsm_articles(body.as_bytes()).is_err(), "{body}");
    }
    for article in [
        r#""title":7,"source":{"type":"confluence","pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","excerpt":{},"source":{"type":"confluence","pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","pageId":1,"spaceKey":"KB"}"#,
        r#""title":"t","source":"confluence""#,
        r#""title":"t","content":"x","source":{"type":"confluence","pageId":"1","spaceKey":"KB"}"#,
        // Two parsers that disagree about duplicates are a way past a filter.
        r#""title":"t","source":{"type":"confluence","pageId":"1","pageId":"2","spaceKey":"KB"}"#,
        r#""title":"t","title":"u","source":{"type":"confluence","pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","source":{"type":"confluence","page\u0049d":"2","pageId":"1","spaceKey":"KB"}"#,
        r#""title":"t","content":{"iframeSrc":"a","iframeSrc":"b"},"source":{"type":"confluence","pageId":"1","spaceKey":"KB"}"#,
    ] {
        let body = page_with(article);
        assert!(scan_jsm_articles(body.as_bytes()).is_err(), "{article}");
    }
    assert!(scan_jsm_articles(b"{\"isLastPage\":true,\"values\":[],\"x\":\"\xff\"}").is_err());
    let deep = format!("{}{}", "[".repeat(80), "]".repeat(80));
    let body = format!(r#"{{"isLastPage":true,"values":[],"x":{deep}}}"#);
    assert!(matches!(
        scan_jsm_articles(body.as_bytes()),
        Err(FilterError::TooDeep)
    ));
}

#[test]
fn unknown_members_are_validated_and_skipped() {
    let body = page_with(
        r#""title":"t","secret":"CANARY-acme-000001","source":{"type":"confluence","pageId":"5",
           "spaceKey":"KB","extra":{"n":[1,2]}},"content":{"iframeSrc":"u","html":"<b>"}"#,
    );
    let scan = scan_jsm_articles(body.as_bytes()).unwrap();
    assert_eq!(scan.articles().len(), 1);
    assert!(!format!("{:?}", scan.articles()).contains("CANARY"));
}

#[test]
fn the_render_writes_only_the_allowlisted_members_and_kbgates_links() {
    let (p1, p2) = (id("100004"), id("100030"));
    let kb = key("KB");
    let values = [
        JsmArticleOut {
            title: "Connecting to the @@@hl@@@VPN@@@endhl@@@",
            excerpt: "Install the VPN client",
            page_id: &p1,
            space_key: &kb,
            iframe_src: "https://kb.example.com/articles/100004",
        },
        JsmArticleOut {
            title: "Using \"quotes\" & <brackets>\n",
            excerpt: "",
            page_id: &p2,
            space_key: &kb,
            iframe_src: "https://kb.example.com/articles/100030",
        },
    ];
    let page = JsmPageOut {
        values: &values,
        start: 4,
        limit: 2,
        is_last_page: false,
        base: "https://kb.example.com/rest/servicedeskapi",
        next: Some("https://kb.example.com/rest/servicedeskapi/knowledgebase/article?query=vpn&start=6&limit=2"),
        prev: Some("https://kb.example.com/rest/servicedeskapi/knowledgebase/article?query=vpn&start=2&limit=2"),
    };
    let out = render_jsm_articles(&page);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"_expands":[],"size":2,"start":4,"limit":2,"isLastPage":false,"_links":{"base":"https://kb.example.com/rest/servicedeskapi","context":"","next":"#),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["values"][1]["title"], "Using \"quotes\" & <brackets>\n");
    assert_eq!(
        v["values"][0],
        serde_json::json!({
            "title": "Connecting to the @@@hl@@@VPN@@@endhl@@@",
            "excerpt": "Install the VPN client",
            "source": {"type": "confluence", "pageId": "100004", "spaceKey": "KB"},
            "content": {"iframeSrc": "https://kb.example.com/articles/100004"}
        })
    );
    assert_eq!(v["_links"]["prev"], page.prev.unwrap());
    // The same answer, re-scanned, is a valid JSM page of the same candidates.
    let again = scan_jsm_articles(&out).unwrap();
    assert_eq!(again.articles().len(), 2);
}

#[test]
fn an_empty_last_page_has_no_paging_links() {
    let page = JsmPageOut {
        values: &[],
        start: 0,
        limit: 50,
        is_last_page: true,
        base: "b",
        next: None,
        prev: None,
    };
    let text = String::from_utf8(render_jsm_articles(&page)).unwrap();
    assert_eq!(
        text,
        r#"{"_expands":[],"size":0,"start":0,"limit":50,"isLastPage":true,"_links":{"base":"b","context":""},"values":[]}"#
    );
}
