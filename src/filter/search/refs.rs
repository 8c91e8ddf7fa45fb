//! The other content a search answer's results mention (ancestors, breadcrumb targets, parent
//! containers): listed once each, sorted, without cloning an id, so the render can ask the
//! caller's predicate about each exactly once.

use crate::ids::ContentId;
use crate::policy::Ancestors;

use super::ResultScan;

/// Where a referenced id is stored, so listing them clones nothing.
#[derive(Clone, Copy, Debug)]
pub(super) enum RefAt {
    /// Ancestor `.1` of result `.0`.
    Ancestor(usize, usize),
    /// Entry `.0` of the scan's link targets ([`super::SearchScan`]).
    Target(usize),
}

/// The id `at` names, borrowed from the scan.
pub(super) fn ref_id<'s>(
    results: &'s [ResultScan],
    targets: &'s [ContentId],
    at: RefAt,
) -> Option<&'s ContentId> {
    match at {
        RefAt::Ancestor(r, a) => match &results.get(r)?.meta.as_ref()?.ancestors {
            Ancestors::Known(ids) => ids.get(a),
            Ancestors::Unknown => None,
        },
        RefAt::Target(t) => targets.get(t),
    }
}

/// How many distinct ids [`referenced`] remembers to drop repeats before sorting.
const RECENT: usize = 8;

/// The ancestors and targets of every candidate result, deduplicated by id and sorted.
pub(super) fn referenced(results: &[ResultScan], targets: &[ContentId]) -> Vec<RefAt> {
    let id = |at: &RefAt| ref_id(results, targets, *at);
    // Sorted by a word holding each id's first 16 bytes (ids hold no NUL, so zero padding keeps
    // the ids' own order): equal words are equal ids unless the ids are longer, and only then
    // are the ids themselves compared.
    let word = |at: &RefAt| id(at).map_or((0, false), |i| sort_word(i.as_str()));
    let same = |(ka, a): &((u128, bool), RefAt), (kb, b): &((u128, bool), RefAt)| {
        ka == kb && (!ka.1 || id(a) == id(b))
    };
    // An answer names the same root and category pages in result after result: a repeat of
    // one of the last few distinct ids is dropped here, so only a few entries are sorted.
    let mut recent: [Option<((u128, bool), RefAt)>; RECENT] = [None; RECENT];
    let mut next = 0;
    let mut keyed: Vec<((u128, bool), RefAt)> = Vec::new();
    let mut add = |at: RefAt| {
        let entry = (word(&at), at);
        if recent.iter().flatten().any(|seen| same(seen, &entry)) {
            return;
        }
        if let Some(slot) = recent.get_mut(next % RECENT) {
            *slot = Some(entry);
        }
        next += 1;
        keyed.push(entry);
    };
    for (r, result) in results.iter().enumerate() {
        let Some(meta) = &result.meta else { continue };
        if let Ancestors::Known(ids) = &meta.ancestors {
            (0..ids.len()).for_each(|a| add(RefAt::Ancestor(r, a)));
        }
        result.targets.clone().for_each(|t| add(RefAt::Target(t)));
    }
    keyed.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb).then_with(|| match ka.1 {
            true => id(a).cmp(&id(b)),
            false => std::cmp::Ordering::Equal,
        })
    });
    keyed.dedup_by(|a, b| same(a, b));
    keyed.into_iter().map(|(_, at)| at).collect()
}

/// The first 16 bytes of `s`, big-endian and zero-padded, and whether `s` is longer: ordering
/// the words orders the strings (strings without NUL), and equal words of strings that are not
/// longer are equal strings.
fn sort_word(s: &str) -> (u128, bool) {
    let mut word = [0u8; 16];
    let n = s.len().min(16);
    if let (Some(dst), Some(src)) = (word.get_mut(..n), s.as_bytes().get(..n)) {
        dst.copy_from_slice(src);
    }
    (u128::from_be_bytes(word), s.len() > 16)
}

#[cfg(test)]
mod tests {
    use crate::filter::search::scan_search;
    use crate::filter::test_fixtures::{search_body, Item, Ref};
    use crate::ids::ContentId;

    const LEAK: &str = "SECRETLEAK";

    #[test]
    fn referenced_ids_are_deduplicated_and_sorted_whatever_their_length() {
        let r = |id: &str| Ref {
            id: id.into(),
            title: format!("Ancestor {id}"),
        };
        // Three ids share their first 16 bytes; one is exactly that prefix; "9" sorts after "10…".
        let (long_a, long_b) = ("1234567890123456A", "1234567890123456B");
        let prefix = "1234567890123456";
        let mut a = Item::page("1", "First");
        a.ancestors = vec![r(long_b), r("9"), r(long_a), r(prefix)];
        let mut b = Item::page("2", "Second");
        b.ancestors = vec![r(long_a), r(prefix), r("9"), r(long_b), r("10")];
        b.parent = Some(r(long_b));
        let body = search_body(&[a, b], None, false, LEAK);
        let scan = scan_search(&body).unwrap();
        let refs: Vec<&str> = scan.referenced_ids().map(ContentId::as_str).collect();
        assert_eq!(refs, ["10", prefix, long_a, long_b, "9"]);
    }

    #[test]
    fn referenced_ids_repeated_far_apart_are_listed_once() {
        let r = |id: String| Ref {
            title: format!("Ancestor {id}"),
            id,
        };
        // Twelve distinct ancestors, then the same twelve again: more than the few recent ids
        // whose repeats are dropped before sorting, so some repeats are found only after it.
        let ids: Vec<String> = (100..112).map(|i| i.to_string()).collect();
        let mut a = Item::page("1", "First");
        a.ancestors = ids.iter().cloned().map(r).collect();
        let mut b = Item::page("2", "Second");
        b.ancestors = ids.iter().rev().cloned().map(r).collect();
        let body = search_body(&[a, b], None, false, LEAK);
        let scan = scan_search(&body).unwrap();
        let refs: Vec<&str> = scan.referenced_ids().map(ContentId::as_str).collect();
        assert_eq!(refs, ids.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
