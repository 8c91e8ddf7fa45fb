//! Duplicate keys, member by member: every member of every object in real Confluence answers is
//! repeated in turn, and the scan must refuse the answer wherever kbgate reads that object key by
//! key. Only the objects it drops or copies whole as one value may hold a repeat (nothing kbgate
//! decides can depend on which copy a client picks there).

use super::json::Cursor;
use super::*;

const SEARCH: &[u8] = include_bytes!("testdata/cloud-v1-search.json");
const SEARCH_PLACEHOLDERS: &[u8] =
    include_bytes!("testdata/cloud-v1-search-full-shape-placeholders.json");
const CONTENT: &[u8] = include_bytes!("testdata/cloud-v1-content-by-id.json");
const CONTENT_EXPANDED: &[u8] = include_bytes!("testdata/cloud-v1-content-by-id-expanded.json");

/// One object member: its path (keys, `[]` for array elements) and its `"key": value` span.
struct Member {
    path: String,
    start: usize,
    end: usize,
}

/// Every object member of the value at the cursor, depth first.
fn members(cur: &mut Cursor<'_>, path: &str, out: &mut Vec<Member>) {
    match cur.peek().unwrap() {
        b'{' => {
            cur.begin_object().unwrap();
            let mut first = true;
            while let Some(key) = cur.next_key(&mut first).unwrap() {
                let name = String::from_utf8(cur.raw_inner(key).to_vec()).unwrap();
                let inner = format!("{path}.{name}");
                members(cur, &inner, out);
                out.push(Member {
                    path: inner,
                    start: key.span.start(),
                    end: cur.pos(),
                });
            }
        }
        b'[' => {
            cur.begin_array().unwrap();
            let mut first = true;
            while cur.next_elem(&mut first).unwrap() {
                members(cur, &format!("{path}[]"), out);
            }
        }
        _ => {
            cur.skip_value().unwrap();
        }
    }
}

/// The paths whose repeated member `scan` accepts (deduplicated, in document order).
fn accepted_repeats(doc: &[u8], scan: impl Fn(&[u8]) -> Result<(), FilterError>) -> Vec<String> {
    scan(doc).unwrap();
    let mut all = Vec::new();
    members(&mut Cursor::new(doc).unwrap(), "", &mut all);
    let mut accepted: Vec<String> = Vec::new();
    for m in all {
        let mut repeated = doc[..m.end].to_vec();
        repeated.push(b',');
        repeated.extend_from_slice(&doc[m.start..m.end]);
        repeated.extend_from_slice(&doc[m.end..]);
        match scan(&repeated) {
            Err(FilterError::DuplicateKey(_)) => {}
            Ok(()) => {
                if !accepted.contains(&m.path) {
                    accepted.push(m.path);
                }
            }
            Err(other) => panic!("{}: {other:?}", m.path),
        }
    }
    accepted
}

fn search(doc: &[u8]) -> Result<(), FilterError> {
    scan_search(doc).map(drop)
}

fn content(doc: &[u8]) -> Result<(), FilterError> {
    scan_content(doc).map(drop)
}

/// Whether a repeat at `path` may be accepted: it lies in an object kbgate drops or copies whole
/// (`prefix`), and not in the part of it that kbgate does read (`except`, when given).
fn may_repeat(path: &str, allowed: &[(&str, Option<&str>)]) -> bool {
    allowed.iter().any(|(prefix, except)| {
        path.starts_with(prefix) && !except.is_some_and(|e| path.starts_with(e))
    })
}

/// Fails on any repeat `scan` accepts outside the `allowed` objects.
fn assert_repeats_refused(
    doc: &[u8],
    scan: impl Fn(&[u8]) -> Result<(), FilterError>,
    allowed: &[(&str, Option<&str>)],
) {
    for path in accepted_repeats(doc, scan) {
        assert!(may_repeat(&path, allowed), "a repeated {path} was accepted");
    }
}

#[test]
fn every_repeated_member_of_a_search_answer_is_refused_where_kbgate_reads_keys() {
    let allowed = [
        // Copied whole as one value.
        (".results[].resultGlobalContainer.", None),
        // Dropped unread from a search result's content (only the storage value is read).
        (".results[].content.history.", None),
        (".results[].content.operations", None),
        (".results[].content.restrictions.", None),
        (
            ".results[].content.body.",
            Some(".results[].content.body.storage."),
        ),
        // Results that are not pages or blog posts: always removed whole.
        (".results[].user.", None),
        (".results[].space.", None),
    ];
    for doc in [SEARCH, SEARCH_PLACEHOLDERS] {
        assert_repeats_refused(doc, search, &allowed);
    }
}

#[test]
fn every_repeated_member_of_a_content_answer_is_refused_where_kbgate_reads_keys() {
    let allowed = [
        // Copied whole as one value.
        (".extensions.", None),
        (".version.by.profilePicture.", None),
        // Dropped unread.
        (".version.by._expandable.", None),
        (".version.by._links.", None),
        (".space._expandable.", None),
        (".version._expandable.", None),
        (".version._links.", None),
        (".children.", None),
        (".body._expandable.", None),
        (".body.storage._expandable.", None),
    ];
    for doc in [CONTENT, CONTENT_EXPANDED] {
        assert_repeats_refused(doc, content, &allowed);
    }
}
