//! The leak oracle of the load test: finds canaries a customer must never receive in a whole
//! response (head and body), the way the integration tests' oracle does.
//!
//! One Aho-Corasick automaton holds every canary of every customer, lower-cased; each customer
//! has the set of canaries forbidden to them, so a customer's own canaries are never flagged.
//! A response is searched, lower-cased, in these forms (see `decode`): the raw bytes; with
//! highlight markers removed and JSON string escapes undone (`\u00e9`, `\"`, …); that with HTML
//! entities decoded (`&amp;`, `&#45;`, …); that, and the raw bytes, with tags removed and then
//! entities decoded; that percent-decoded (`+` as a space). A form is only made when the bytes
//! it undoes occur. Case folding is ASCII unless a canary (or the response, with `K` or `İ`
//! that lower-case to ASCII) needs Unicode rules. Deliberately not: decompression (the load
//! test asks for identity encoding) or fuzzy matching.

use std::borrow::Cow;
use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::decode::{self, Finders};

/// Why the oracle could not be built.
#[derive(Debug, thiserror::Error)]
#[error("building the leak oracle's automaton over {count} canaries")]
pub struct OracleError {
    count: usize,
    #[source]
    source: aho_corasick::BuildError,
}

/// Canaries and who may not see them.
#[derive(Debug)]
pub struct Oracle {
    /// The lower-cased canaries (case-sensitive search over lower-cased forms).
    automaton: AhoCorasick,
    /// Non-ASCII characters that lower-case to ASCII: a response holding one is folded with
    /// Unicode rules.
    ascii_lookalikes: AhoCorasick,
    /// Some canary is not ASCII: every response is folded with Unicode rules.
    unicode: bool,
    /// Searchers of the bytes each form undoes.
    finders: Finders,
    /// Canary text by pattern id (as given).
    canaries: Vec<String>,
    /// `forbidden[customer][pattern]`.
    forbidden: Vec<Vec<bool>>,
}

impl Oracle {
    /// An oracle for customers whose forbidden canaries are `per_customer` (indexed like the
    /// customers), plus `everyone`: canaries forbidden to every customer.
    pub fn new(per_customer: &[Vec<String>], everyone: &[String]) -> Result<Oracle, OracleError> {
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut canaries = Vec::new();
        let mut id_of = |canary: &str| -> usize {
            let key = canary.to_lowercase();
            let next = canaries.len();
            let id = *ids.entry(key).or_insert(next);
            if id == next {
                canaries.push(canary.to_owned());
            }
            id
        };
        let forbidden_ids: Vec<Vec<usize>> = per_customer
            .iter()
            .map(|list| {
                list.iter()
                    .chain(everyone)
                    .map(|c| id_of(c.as_str()))
                    .collect()
            })
            .collect();
        let patterns: Vec<String> = canaries.iter().map(|c| c.to_lowercase()).collect();
        let error = |source| OracleError {
            count: patterns.len(),
            source,
        };
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(error)?;
        let ascii_lookalikes = AhoCorasick::new(["\u{212A}", "\u{0130}"]).map_err(error)?;
        let forbidden = forbidden_ids
            .into_iter()
            .map(|list| {
                let mut row = vec![false; canaries.len()];
                for id in list {
                    if let Some(slot) = row.get_mut(id) {
                        *slot = true;
                    }
                }
                row
            })
            .collect();
        Ok(Oracle {
            automaton,
            ascii_lookalikes,
            unicode: !patterns.iter().all(|p| p.is_ascii()),
            finders: Finders::new().map_err(error)?,
            canaries,
            forbidden,
        })
    }

    /// How many distinct canaries the oracle knows.
    pub fn canary_count(&self) -> usize {
        self.canaries.len()
    }

    /// The text of canary `id` (an id from [`Oracle::hits`]).
    pub fn canary(&self, id: usize) -> &str {
        self.canaries.get(id).map(String::as_str).unwrap_or("")
    }

    /// The ids of the canaries forbidden to `customer` found in `bytes`, ascending.
    pub fn hits(&self, customer: usize, bytes: &[u8]) -> Vec<usize> {
        let Some(row) = self.forbidden.get(customer) else {
            return Vec::new();
        };
        if !row.contains(&true) {
            return Vec::new();
        }
        let mut found = vec![false; self.canaries.len()];
        self.scan_all_forms(bytes, &mut found);
        found
            .iter()
            .zip(row)
            .enumerate()
            .filter(|(_, (f, r))| **f && **r)
            .map(|(id, _)| id)
            .collect()
    }

    fn scan_all_forms(&self, bytes: &[u8], found: &mut [bool]) {
        let f = &self.finders;
        let unicode = self.unicode || (!bytes.is_ascii() && self.ascii_lookalikes.is_match(bytes));
        // Forms are lower-cased ASCII as they are made; Unicode folding, when needed, after.
        let fold = |form: Cow<'_, [u8]>| -> Vec<u8> {
            if unicode {
                String::from_utf8_lossy(&form).to_lowercase().into_bytes()
            } else {
                form.into_owned()
            }
        };
        let raw = fold(Cow::Owned(decode::lower(bytes)));
        self.scan_bytes(&raw, found);
        let unescaped = decode::unescape_json(f, &raw);
        let base: Cow<'_, [u8]> = match unescaped {
            Cow::Borrowed(_) => Cow::Borrowed(&raw),
            Cow::Owned(_) => {
                let form = fold(unescaped);
                self.scan_bytes(&form, found);
                Cow::Owned(form)
            }
        };
        self.scan_changed(decode::decode_entities(f, &base), unicode, found);
        if f.has_tag(&base) {
            let text = decode::decode_entities(f, &decode::strip_tags(f, &base)).into_owned();
            self.scan_changed(Cow::Owned(text), unicode, found);
        }
        if matches!(base, Cow::Owned(_)) && f.has_tag(&raw) {
            let text = decode::decode_entities(f, &decode::strip_tags(f, &raw)).into_owned();
            self.scan_changed(Cow::Owned(text), unicode, found);
        }
        self.scan_changed(decode::percent_decode(f, &base), unicode, found);
    }

    /// Searches a form unless it is its input unchanged (already searched).
    fn scan_changed(&self, form: Cow<'_, [u8]>, unicode: bool, found: &mut [bool]) {
        match form {
            Cow::Borrowed(_) => {}
            Cow::Owned(form) if unicode => {
                let folded = String::from_utf8_lossy(&form).to_lowercase();
                self.scan_bytes(folded.as_bytes(), found);
            }
            Cow::Owned(form) => self.scan_bytes(&form, found),
        }
    }

    fn scan_bytes(&self, haystack: &[u8], found: &mut [bool]) {
        // The automaton is built with `MatchKind::Standard`, the kind overlapping search needs.
        let Ok(matches) = self.automaton.try_find_overlapping_iter(haystack) else {
            return;
        };
        for m in matches {
            if let Some(slot) = found.get_mut(m.pattern().as_usize()) {
                *slot = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Customer 0 belongs to acme (its own canary is `CANARY-acme-abc123`); customer 1 to none.
    fn oracle() -> Oracle {
        let acme = "CANARY-acme-abc123".to_owned();
        let globex = "CANARY-globex-def456".to_owned();
        let accent = "Café Noir-77".to_owned();
        let amp = "R&D budget 2024".to_owned();
        Oracle::new(
            &[
                vec![globex.clone(), accent.clone(), amp.clone()],
                vec![acme, globex, accent, amp],
            ],
            &["EVERYONE-secret".to_owned()],
        )
        .unwrap()
    }

    fn names(o: &Oracle, customer: usize, body: &[u8]) -> Vec<String> {
        o.hits(customer, body)
            .into_iter()
            .map(|id| o.canary(id).to_owned())
            .collect()
    }

    #[test]
    fn raw_canaries_are_found_in_any_case() {
        let o = oracle();
        assert_eq!(
            names(&o, 0, b"{\"title\":\"x CANARY-globex-def456\"}"),
            ["CANARY-globex-def456"]
        );
        assert_eq!(
            names(&o, 0, b"label canary-globex-def456"),
            ["CANARY-globex-def456"]
        );
        assert_eq!(names(&o, 1, b"EVERYONE-SECRET"), ["EVERYONE-secret"]);
    }

    #[test]
    fn escaped_canaries_are_found() {
        let o = oracle();
        assert_eq!(
            names(&o, 0, br#"{"t":"Caf\u00e9 Noir-77"}"#),
            ["Café Noir-77"]
        );
        assert_eq!(
            names(&o, 0, "CAFÉ NOIR-77".as_bytes()),
            ["Café Noir-77"],
            "non-ASCII case folding"
        );
        assert_eq!(
            names(&o, 0, b"<p>R&amp;D budget 2024</p>"),
            ["R&D budget 2024"]
        );
        assert_eq!(
            names(&o, 0, b"\"\\u0043ANARY-globex-def456\""),
            ["CANARY-globex-def456"]
        );
        assert_eq!(
            names(&o, 0, b"@@@hl@@@CANARY@@@endhl@@@-globex-def456"),
            ["CANARY-globex-def456"]
        );
        assert_eq!(
            names(&o, 0, b"/pages/1/CANARY%2Dglobex%2Ddef456"),
            ["CANARY-globex-def456"]
        );
        assert_eq!(
            names(&o, 0, b"<p>CANARY-<mark>globex</mark>-def456</p>"),
            ["CANARY-globex-def456"]
        );
    }

    #[test]
    fn disguises_that_need_an_order_are_found() {
        let o = oracle();
        // Entities decoded after the tags are gone: `&lt;` must not open a "tag".
        assert_eq!(
            names(&o, 0, b"a &lt; b CANARY-<b>globex</b>-def456 &gt; c"),
            ["CANARY-globex-def456"]
        );
        // In a JSON string: escaped quotes inside the markup, a highlight inside the canary.
        assert_eq!(
            names(
                &o,
                0,
                br#"{"value":"<p class=\"x\">CANARY-@@@hl@@@glo@@@endhl@@@bex-<em>def456</em>"}"#
            ),
            ["CANARY-globex-def456"]
        );
        assert_eq!(names(&o, 0, b"R%26D+budget+2024"), ["R&D budget 2024"]);
        // The Kelvin sign lower-cases to an ASCII `k`.
        let k = Oracle::new(&[vec!["CANARY-k1".to_owned()]], &[]).unwrap();
        assert_eq!(k.hits(0, "CANARY-\u{212A}1".as_bytes()), [0]);
        assert!(k.hits(0, "CANARY-\u{212B}1".as_bytes()).is_empty());
    }

    #[test]
    fn own_canaries_and_near_misses_are_not_flagged() {
        let o = oracle();
        assert!(names(&o, 0, b"title CANARY-acme-abc123").is_empty());
        assert_eq!(
            names(&o, 1, b"title CANARY-acme-abc123"),
            ["CANARY-acme-abc123"]
        );
        assert!(names(&o, 0, b"CANARY-globex-def457 R&D budget 2025 Cafe Noir-77").is_empty());
        assert!(
            names(&o, 7, b"CANARY-globex-def456").is_empty(),
            "unknown customer"
        );
    }

    #[test]
    fn several_canaries_in_one_body_are_each_reported_once() {
        let o = oracle();
        let body = b"CANARY-globex-def456 CANARY-globex-def456 R&amp;D budget 2024";
        assert_eq!(
            names(&o, 0, body),
            ["CANARY-globex-def456", "R&D budget 2024"]
        );
        assert_eq!(o.canary_count(), 5);
    }

    #[test]
    fn an_oracle_without_canaries_finds_nothing() {
        let o = Oracle::new(&[vec![]], &[]).unwrap();
        assert_eq!(o.canary_count(), 0);
        assert!(o.hits(0, b"anything").is_empty());
    }
}
