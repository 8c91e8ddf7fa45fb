//! The leak oracle of the browser stories: the canaries of every item a customer must not see
//! (the simulator's own audience model, like `tests/kbgate/support.rs`), searched for in every
//! byte the browser got, in every disguise a page can give them.
//!
//! Guarantees: a foreign canary is found raw, case-insensitively, JSON-unescaped,
//! percent-decoded, with Confluence's highlight markers removed, HTML-entity-decoded and with
//! markup tags removed (so `CANARY-<mark>acme</mark>-…` is found too). Deliberately not: any
//! decoding of compressed bytes (the tee decodes bodies before they get here).

use kbgate::sim::Corpus;

/// Finds foreign canaries in any byte a customer receives.
pub struct LeakOracle {
    forbidden: Vec<String>,
}

impl LeakOracle {
    /// The oracle of a customer in `orgs` over `corpus`.
    pub fn for_orgs(corpus: &Corpus, orgs: &[&str]) -> LeakOracle {
        LeakOracle::new(corpus.forbidden_canaries_for(orgs))
    }

    /// An oracle that finds exactly `forbidden` (never empty: it would prove nothing).
    pub fn new(forbidden: Vec<String>) -> LeakOracle {
        assert!(
            !forbidden.is_empty(),
            "an oracle with nothing to find proves nothing"
        );
        LeakOracle {
            forbidden: forbidden.into_iter().map(|c| c.to_lowercase()).collect(),
        }
    }

    /// How many canaries the oracle looks for.
    pub fn len(&self) -> usize {
        self.forbidden.len()
    }

    /// The foreign canaries found in `bytes`.
    pub fn hits(&self, bytes: &[u8]) -> Vec<String> {
        let views = views(bytes);
        self.forbidden
            .iter()
            .filter(|c| views.iter().any(|v| v.contains(c.as_str())))
            .cloned()
            .collect()
    }
}

/// Every form of `bytes` the oracle searches, lowercased.
fn views(bytes: &[u8]) -> Vec<String> {
    let raw = String::from_utf8_lossy(bytes).into_owned();
    let unhl = raw.replace("@@@hl@@@", "").replace("@@@endhl@@@", "");
    let unescaped = json_unescape(&unhl);
    let decoded = percent_encoding::percent_decode_str(&unescaped.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned();
    let entities = html_unescape(&decoded);
    let untagged = strip_tags(&entities);
    [raw, unhl, unescaped, decoded, entities, untagged]
        .into_iter()
        .map(|v| v.to_lowercase())
        .collect()
}

/// Undoes JSON string escapes anywhere in the text (`\uXXXX`, `\"`, `\/`, …).
fn json_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&hex),
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Decodes numeric character references and the named entities HTML writers use for text.
fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let from = &rest[i..];
        let end = from.char_indices().take(12).find(|(_, c)| *c == ';');
        let decoded = end.and_then(|(j, _)| {
            let name = &from[1..j];
            let ch = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "hyphen" | "dash" => Some('-'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|c| (c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &from[len..];
            }
            None => {
                out.push('&');
                rest = &from[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text with every `<…>` tag removed.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match (in_tag, c) {
            (false, '<') => in_tag = true,
            (true, '>') => in_tag = false,
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    out
}

#[test]
fn the_browser_oracle_finds_canaries_in_every_disguise() {
    let o = LeakOracle::new(vec!["CANARY-acme-abc123".into()]);
    assert_eq!(o.hits(b"title: CANARY-acme-abc123").len(), 1);
    assert_eq!(o.hits(b"\"\\u0043ANARY-acme-abc123\"").len(), 1);
    assert_eq!(o.hits(b"@@@hl@@@CANARY@@@endhl@@@-acme-abc123").len(), 1);
    assert_eq!(o.hits(b"/pages/1/CANARY%2Dacme%2Dabc123").len(), 1);
    assert_eq!(o.hits(b"label canary-acme-abc123").len(), 1);
    assert_eq!(o.hits(b"CANARY&#45;acme&#x2d;abc123").len(), 1);
    assert_eq!(o.hits(b"<mark>CANARY</mark>-acme-<b>abc123</b>").len(), 1);
    assert!(o
        .hits(b"CANARY-globex-abc123 CANARY-acme-abc124 &amp; <p>")
        .is_empty());
}

#[test]
fn html_unescape_keeps_text_that_is_not_an_entity() {
    assert_eq!(html_unescape("a & b &bogus; &#65;&lt;"), "a & b &bogus; A<");
    assert_eq!(strip_tags("x<a href=\"y\">z</a>"), "xz");
}
