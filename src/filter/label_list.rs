//! A page's label list (`GET /wiki/rest/api/content/{id}/label`): scan the upstream answer,
//! then render it with kbgate's links.
//!
//! The upstream shape is `{"results":[{prefix,name,id,label}…],"start","limit","size","_links"}`
//! (`cloud-v1-content-labels.json`). Kept: in each label only `prefix`, `name`, `id` and
//! `label` (copied as upstream wrote them, after validation), then `start`, `limit`, `size`
//! (the number of labels kept) and kbgate's own `_links` (`base`, `context`, `self`, `next`).
//! Dropped: upstream `_links` and every other member.
//!
//! Guarantees: the whole body is validated (UTF-8, depth, syntax, duplicate keys in the objects
//! read); every label has a string `name`; `prefix` and `label` are strings, `id` a string or
//! a number; the output is valid JSON.
//!
//! Deliberately not done here: deciding whether the page is visible (the proxy decides the
//! page before it asks upstream for its labels) — every label of a visible page is shown, as
//! `content/{id}?expand=metadata.labels` shows them.

use std::ops::Range;

use super::json::Cursor;
use super::labels::links_have_next;
use super::plan::{write_links_and_close, write_paging};
use super::{FilterError, Res, SearchLinks};

/// The scan of one label-list answer.
#[derive(Debug)]
pub struct LabelListScan {
    /// Per label: the byte ranges (`"key":value`) of its kept members.
    labels: Vec<Vec<Range<usize>>>,
    start: u64,
    limit: u64,
    has_next: bool,
    body_len: usize,
}

impl LabelListScan {
    /// How many labels upstream sent.
    pub fn count(&self) -> usize {
        self.labels.len()
    }

    /// Upstream `start`.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Upstream `limit`.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// True when upstream's `_links` had a `next` member (more labels exist).
    pub fn has_next(&self) -> bool {
        self.has_next
    }
}

/// Scans a label-list answer: validates all of it and records the members to keep.
pub fn scan_label_list(body: &[u8]) -> Result<LabelListScan, FilterError> {
    scan_inner(body).map_err(|e| *e)
}

fn scan_inner(body: &[u8]) -> Res<LabelListScan> {
    let mut cur = Cursor::new(body)?;
    cur.expect_object("label list is not an object")?;
    let mut keys = cur.keys_begin("label list");
    let (mut labels, mut start, mut limit, mut has_next) = (None, None, None, false);
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        cur.key_insert(&mut keys, key)?;
        match cur.raw_inner(key) {
            b"results" => labels = Some(scan_results(&mut cur)?),
            b"start" => start = Some(cur.expect_u64("label list start is not a count")?),
            b"limit" => limit = Some(cur.expect_u64("label list limit is not a count")?),
            b"size" => {
                cur.expect_u64("label list size is not a count")?;
            }
            b"_links" => {
                has_next = links_have_next(&mut cur, "label list _links is not an object")?
            }
            _ => {
                cur.skip_value()?;
            }
        }
    }
    cur.keys_end(keys);
    cur.finish()?;
    Ok(LabelListScan {
        labels: labels.ok_or(FilterError::Shape("label list without results"))?,
        start: start.ok_or(FilterError::Shape("label list without start"))?,
        limit: limit.ok_or(FilterError::Shape("label list without limit"))?,
        has_next,
        body_len: body.len(),
    })
}

fn scan_results(cur: &mut Cursor<'_>) -> Res<Vec<Vec<Range<usize>>>> {
    cur.expect_array("label list results is not an array")?;
    let mut labels = Vec::with_capacity((cur.remaining() / 64).clamp(1, 256));
    let mut first = true;
    while cur.next_elem(&mut first)? {
        cur.expect_object("label is not an object")?;
        let mut keys = cur.keys_begin("label");
        let mut kept = Vec::with_capacity(4);
        let mut has_name = false;
        let mut first_key = true;
        while let Some(key) = cur.next_key(&mut first_key)? {
            cur.key_insert(&mut keys, key)?;
            match cur.raw_inner(key) {
                b"name" => {
                    cur.expect_string("label name is not a string")?;
                    has_name = true;
                }
                b"prefix" => {
                    cur.expect_string("label prefix is not a string")?;
                }
                b"label" => {
                    cur.expect_string("label label is not a string")?;
                }
                b"id" => {
                    if cur.peek()? == b'"' {
                        cur.string()?;
                    } else {
                        cur.expect_number("label id is not a string or number")?;
                    }
                }
                _ => {
                    cur.skip_value()?;
                    continue;
                }
            }
            kept.push(key.span.start()..cur.pos());
        }
        cur.keys_end(keys);
        if !has_name {
            return Err(Box::new(FilterError::Shape("label without a name")));
        }
        labels.push(kept);
    }
    Ok(labels)
}

/// Renders a scanned label list: the kept members of every label, upstream `start` and
/// `limit`, `size` = the number of labels, and kbgate's `_links`.
pub fn render_label_list(
    scan: &LabelListScan,
    body: &[u8],
    links: &SearchLinks<'_>,
) -> Result<Vec<u8>, FilterError> {
    if body.len() != scan.body_len {
        return Err(FilterError::Shape("body does not match its scan"));
    }
    let mut out = Vec::with_capacity(body.len() + links.self_link.len() + 128);
    out.extend_from_slice(b"{\"results\":[");
    for (i, label) in scan.labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (j, member) in label.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            let raw = body
                .get(member.clone())
                .ok_or(FilterError::Shape("body does not match its scan"))?;
            out.extend_from_slice(raw);
        }
        out.push(b'}');
    }
    write_paging(&mut out, scan.start, scan.limit, scan.labels.len());
    write_links_and_close(&mut out, links);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINKS: SearchLinks<'static> = SearchLinks {
        base: "https://kb.example.com/wiki",
        self_link: "https://kb.example.com/wiki/rest/api/content/1/label",
        next_link: None,
    };

    fn render(body: &str) -> serde_json::Value {
        let scan = scan_label_list(body.as_bytes()).unwrap();
        let out = render_label_list(&scan, body.as_bytes(), &LINKS).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn the_sample_keeps_its_labels_and_gets_kbgate_links() {
        let body = include_str!("testdata/cloud-v1-content-labels.json");
        let v = render(body);
        assert_eq!(v["size"], 3);
        assert_eq!(v["limit"], 200);
        assert_eq!(v["results"][0]["name"], "meeting-notes");
        assert_eq!(v["results"][0]["prefix"], "global");
        assert_eq!(v["results"][0]["id"], "456789123");
        assert_eq!(v["results"][0]["label"], "meeting-notes");
        assert_eq!(v["results"][2].as_object().unwrap().len(), 2);
        assert_eq!(v["_links"]["self"], LINKS.self_link);
        assert_eq!(v["_links"]["base"], LINKS.base);
        assert!(!body.contains("kb.example.com"));
        assert!(
            !v.to_string().contains("atlassian.net"),
            "no upstream links"
        );
    }

    #[test]
    fn unknown_members_are_dropped_and_size_counts_the_labels() {
        let body = r#"{"results":[{"name":"a","secret":"x","id":7},{"name":"b","_links":{"self":"u"}}],
            "start":0,"limit":2,"size":99,"cqlQuery":"org-x","_links":{"next":"/n","self":"u"}}"#;
        let scan = scan_label_list(body.as_bytes()).unwrap();
        assert!(scan.has_next());
        assert_eq!((scan.count(), scan.start(), scan.limit()), (2, 0, 2));
        let out = render_label_list(&scan, body.as_bytes(), &LINKS).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("secret") && !text.contains("org-x") && !text.contains("\"u\""));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["size"], 2);
        assert_eq!(v["results"][0]["id"], 7);
        assert!(v["_links"].get("next").is_none(), "only kbgate's own next");
    }

    #[test]
    fn malformed_label_lists_are_refused() {
        for body in [
            r#"{"results":[{"prefix":"global"}],"start":0,"limit":1}"#,
            r#"{"results":[{"name":1}],"start":0,"limit":1}"#,
            r#"{"results":[{"name":"a","name":"b"}],"start":0,"limit":1}"#,
            r#"{"results":[{"name":"a","id":{}}],"start":0,"limit":1}"#,
            r#"{"results":{},"start":0,"limit":1}"#,
            r#"{"start":0,"limit":1}"#,
            r#"{"results":[],"limit":1}"#,
            r#"{"results":[],"start":0,"limit":1} x"#,
            r#"[]"#,
        ] {
            assert!(scan_label_list(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn a_body_that_is_not_the_scanned_one_is_refused() {
        let body = br#"{"results":[],"start":0,"limit":1}"#;
        let scan = scan_label_list(body).unwrap();
        assert!(render_label_list(&scan, b"{}", &LINKS).is_err());
    }
}
