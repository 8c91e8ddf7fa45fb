//! A test-only HTML check for the site's pages: quick-xml tokenizes the page (HTML attribute
//! mode, so valueless attributes parse) and every element and attribute is checked: doctype,
//! balanced tags, unique ids, no script/style/frames, no event-handler or `style` attributes,
//! and only URLs to kbgate or the web. Pages come back as elements and text for assertions.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Elements that have no end tag.
pub(super) const VOID: &[&str] = &["meta", "link", "img", "input", "br", "hr"];

/// One element of a parsed page: its name and attributes (values unescaped).
#[derive(Debug)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, String)>,
}

impl Element {
    pub(super) fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A page parsed back: its elements in document order and its text.
#[derive(Debug)]
pub(super) struct Parsed {
    pub(super) elements: Vec<Element>,
    pub(super) text: String,
}

impl Parsed {
    pub(super) fn all(&self, name: &str) -> Vec<&Element> {
        self.elements.iter().filter(|e| e.name == name).collect()
    }

    pub(super) fn by_id(&self, id: &str) -> Option<&Element> {
        self.elements.iter().find(|e| e.attr("id") == Some(id))
    }

    pub(super) fn has(&self, name: &str, attrs: &[(&str, &str)]) -> bool {
        self.all(name)
            .iter()
            .any(|e| attrs.iter().all(|(k, v)| e.attr(k) == Some(v)))
    }
}

/// Parses `html` and checks what every page must satisfy: a doctype, balanced tags, unique
/// ids, no script/style/frames, no event-handler or `style` attributes, only safe URLs.
pub(super) fn parse(html: &str) -> Parsed {
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    let lower = html.to_ascii_lowercase();
    for banned in ["<script", "<style", "<iframe", "<object", "<embed", "<base"] {
        assert!(!lower.contains(banned), "{banned} in {html}");
    }
    let mut reader = Reader::from_str(html);
    reader.config_mut().check_end_names = false;
    let mut elements = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut ids = std::collections::BTreeSet::new();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let mut attrs = Vec::new();
                for a in e.html_attributes() {
                    let a = a.unwrap_or_else(|err| panic!("bad attribute ({err}) in {html}"));
                    let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                    let value = unescape(std::str::from_utf8(&a.value).unwrap(), html);
                    check_attribute(&name, &key, &value, html);
                    attrs.push((key, value));
                }
                if let Some((_, id)) = attrs.iter().find(|(k, _)| k == "id") {
                    assert!(ids.insert(id.clone()), "duplicate id {id:?} in {html}");
                }
                if !VOID.contains(&name.as_str()) {
                    stack.push(name.clone());
                }
                elements.push(Element { name, attrs });
            }
            Ok(Event::End(e)) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "in {html}");
            }
            Ok(Event::Text(t)) => text.push_str(&t.decode().unwrap()),
            Ok(Event::GeneralRef(r)) => {
                text.push(entity(&r.decode().unwrap(), html));
            }
            Ok(Event::DocType(_)) => {}
            Ok(other) => panic!("unexpected {other:?} in {html}"),
            Err(e) => panic!("not well-formed ({e}) in {html}"),
        }
    }
    assert!(stack.is_empty(), "unclosed {stack:?} in {html}");
    Parsed { elements, text }
}

/// The character a named reference maud writes stands for.
pub(super) fn entity(name: &str, html: &str) -> char {
    match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        other => panic!("unexpected entity &{other}; in {html}"),
    }
}

/// An attribute value with maud's references resolved.
pub(super) fn unescape(raw: &str, html: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find(';')
            .unwrap_or_else(|| panic!("bare & in {html}"));
        out.push(entity(&rest[i + 1..i + end], html));
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// No handler, style or frame attribute; URLs only to kbgate or the web.
pub(super) fn check_attribute(element: &str, key: &str, value: &str, html: &str) {
    let k = key.to_ascii_lowercase();
    assert!(
        !k.starts_with("on") && !["style", "srcdoc", "formaction"].contains(&k.as_str()),
        "attribute {key:?} on <{element}> in {html}"
    );
    if matches!(k.as_str(), "href" | "src" | "action") {
        let v = value.to_ascii_lowercase();
        let fine = (v.starts_with('/') && !v.starts_with("//") && !v.contains('\\'))
            || v.starts_with('#')
            || v.starts_with('?')
            || v.starts_with("https://")
            || v.starts_with("http://");
        assert!(fine, "{key}={value:?} on <{element}> in {html}");
    }
}
