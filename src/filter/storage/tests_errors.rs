//! Unit tests of the storage rewriter: every way a body is refused, and attribute decoding.

use super::names::unescape;
use super::*;

fn everything(_: &ContentRef) -> bool {
    true
}

#[test]
fn unbalanced_bodies_are_refused() {
    for body in [
        "<p>",
        "</p>",
        "<p></div>",
        "<p><b></p></b>",
        "a</ac:link>",
        "<ac:link><ri:page ri:content-title=\"Acme\"/>",
    ] {
        assert_eq!(
            rewrite_storage(body, &everything),
            Err(StorageError::Unbalanced),
            "{body}"
        );
        assert_eq!(scan_storage(body), Err(StorageError::Unbalanced), "{body}");
    }
}

#[test]
fn malformed_bodies_are_refused_as_syntax_errors() {
    for body in [
        r#"<p title="x>"#,
        "<!-- never closed",
        "<![CDATA[ never closed",
        r#"<ri:page ri:content-title="a" ri:content-title="Acme"/>"#,
        r#"<ri:page ri:content-title=Acme/>"#,
        r#"<ri:page ri:content-title="&#0;"/>"#,
        r#"<ri:page ri:content-title="&#x110000;"/>"#,
        r#"<ac:structured-macro ac:name="&#xZZ;"/>"#,
        "<p>a<",
    ] {
        assert_eq!(
            rewrite_storage(body, &everything),
            Err(StorageError::Syntax),
            "{body}"
        );
        assert_eq!(scan_storage(body), Err(StorageError::Syntax), "{body}");
    }
}

#[test]
fn nesting_is_limited_to_256_elements() {
    let nest = |n: usize| format!("{}{}", "<div>".repeat(n), "</div>".repeat(n));
    assert!(rewrite_storage(&nest(MAX_DEPTH), &everything).is_ok());
    assert_eq!(
        rewrite_storage(&nest(MAX_DEPTH + 1), &everything),
        Err(StorageError::TooDeep)
    );
    assert_eq!(
        rewrite_storage(&nest(10_000), &everything),
        Err(StorageError::TooDeep)
    );
    assert_eq!(scan_storage(&nest(10_000)), Err(StorageError::TooDeep));
}

#[test]
fn bodies_over_8_mib_are_refused_before_parsing() {
    let big = "a".repeat(MAX_BODY_BYTES + 1);
    assert_eq!(
        rewrite_storage(&big, &everything),
        Err(StorageError::TooLarge)
    );
    assert_eq!(scan_storage(&big), Err(StorageError::TooLarge));
    let limit = "a".repeat(MAX_BODY_BYTES);
    assert_eq!(
        rewrite_storage(&limit, &everything).map(|r| r.body.len()),
        Ok(MAX_BODY_BYTES)
    );
}

#[test]
fn error_messages_quote_nothing_from_the_body() {
    for body in [
        "<Acme>",
        "</Acme>",
        "<Acme></AcmeX>",
        r#"<ri:page ri:content-title="Acme" ri:content-title="Acme"/>"#,
    ] {
        let err = rewrite_storage(body, &everything).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("Acme"), "{body}");
    }
}

#[test]
fn attribute_values_are_decoded_like_xml() {
    assert_eq!(
        unescape("&quot;&amp;&lt;&gt;&apos;&#65;&#x42;&#X43;").unwrap(),
        "\"&<>'ABC"
    );
    assert_eq!(
        unescape("a & b &eacute; &amp").unwrap(),
        "a & b &eacute; &amp"
    );
    assert_eq!(unescape("a\tb\nc\r\nd\re").unwrap(), "a b c d e");
    assert_eq!(
        unescape("\u{1F680}&#128640;").unwrap(),
        "\u{1F680}\u{1F680}"
    );
    assert_eq!(unescape("&#;"), Err(StorageError::Syntax));
    assert_eq!(unescape("&#xD800;"), Err(StorageError::Syntax));
}
