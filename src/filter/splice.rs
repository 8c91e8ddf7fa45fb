//! Adds members to JSON that kbgate itself rendered: the composed expansions of content by id
//! (`children`, `descendants`, `container`, `space.homepage`).
//!
//! Guarantees: the target is re-validated with the scanner before anything is inserted (a
//! malformed target is an error, never patched blindly); inserted values are kbgate's own
//! rendered answers, inserted as whole members. Deliberately not done: replacing or removing
//! members, and any use on upstream bytes.

use super::json::Cursor;
use super::plan::write_json_str;
use super::{FilterError, Res};

/// Appends `"name":value` members to the top-level object `json`.
pub fn append_members(json: &[u8], members: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, FilterError> {
    let close = top_close(json).map_err(|e| *e)?;
    Ok(insert_at(json, close, members))
}

/// Appends `"name":value` members to the object that is the value of the top-level member
/// `member` of `json`. Fails when there is no such object member.
pub fn append_to_member(
    json: &[u8],
    member: &str,
    members: &[(&str, Vec<u8>)],
) -> Result<Vec<u8>, FilterError> {
    let close = member_close(json, member.as_bytes())
        .map_err(|e| *e)?
        .ok_or(FilterError::Shape("composed member target is missing"))?;
    Ok(insert_at(json, close, members))
}

/// Writes `json` with the members inserted before the `}` at `close`.
fn insert_at(json: &[u8], close: usize, members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let extra: usize = members.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    let mut out = Vec::with_capacity(json.len() + extra);
    let (head, tail) = json.split_at(close.min(json.len()));
    out.extend_from_slice(head);
    let mut empty = head.trim_ascii_end().ends_with(b"{");
    for (name, value) in members {
        if !std::mem::take(&mut empty) {
            out.push(b',');
        }
        write_json_str(&mut out, name);
        out.push(b':');
        out.extend_from_slice(value);
    }
    out.extend_from_slice(tail);
    out
}

/// The offset of the closing `}` of the top-level object.
fn top_close(json: &[u8]) -> Res<usize> {
    let mut cur = Cursor::new(json)?;
    cur.expect_object("composed target is not an object")?;
    let mut first = true;
    while cur.next_key(&mut first)?.is_some() {
        cur.skip_value()?;
    }
    // The loop consumed the closing brace.
    let close = cur.pos().saturating_sub(1);
    cur.finish()?;
    Ok(close)
}

/// The offset of the closing `}` of the object value of top-level member `name`.
fn member_close(json: &[u8], name: &[u8]) -> Res<Option<usize>> {
    let mut cur = Cursor::new(json)?;
    cur.expect_object("composed target is not an object")?;
    let mut found = None;
    let mut first = true;
    while let Some(key) = cur.next_key(&mut first)? {
        let is_target = cur.raw_inner(key) == name && cur.peek()? == b'{';
        let span = cur.skip_value()?;
        if is_target {
            found = Some(span.end() - 1);
        }
    }
    cur.finish()?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> serde_json::Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn members_are_appended_to_the_top_object_or_to_a_member_object() {
        let json = br#"{"id":"1","space":{"key":"KB"},"_links":{}}"#;
        let out = append_members(json, &[("children", br#"{"page":1}"#.to_vec())]).unwrap();
        assert_eq!(parse(&out)["children"]["page"], 1);
        let out =
            append_to_member(json, "space", &[("homepage", br#"{"id":"9"}"#.to_vec())]).unwrap();
        let v = parse(&out);
        assert_eq!(v["space"]["homepage"]["id"], "9");
        assert_eq!(v["space"]["key"], "KB");
        let empty = append_to_member(br#"{"space":{}}"#, "space", &[("a", b"1".to_vec())]).unwrap();
        assert_eq!(parse(&empty)["space"]["a"], 1);
        let none = append_members(b"{ }", &[("a", b"1".to_vec()), ("b", b"2".to_vec())]).unwrap();
        assert_eq!(parse(&none)["b"], 2);
    }

    #[test]
    fn malformed_targets_and_missing_members_are_errors() {
        assert!(append_members(b"[1]", &[]).is_err());
        assert!(append_members(br#"{"a":1} x"#, &[]).is_err());
        assert!(append_to_member(br#"{"space":"KB"}"#, "space", &[]).is_err());
        assert!(append_to_member(br#"{"id":"1"}"#, "space", &[]).is_err());
    }
}
