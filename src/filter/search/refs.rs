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

/// The ancestors and targets of every candidate result, deduplicated by id.
pub(super) fn referenced(results: &[ResultScan], targets: &[ContentId]) -> Vec<RefAt> {
    let ancestors: usize = results
        .iter()
        .filter_map(|r| match &r.meta.as_ref()?.ancestors {
            Ancestors::Known(ids) => Some(ids.len()),
            Ancestors::Unknown => None,
        })
        .sum();
    let mut refs: Vec<RefAt> = Vec::with_capacity(ancestors + targets.len());
    for (r, result) in results.iter().enumerate() {
        let Some(meta) = &result.meta else { continue };
        if let Ancestors::Known(ids) = &meta.ancestors {
            refs.extend((0..ids.len()).map(|a| RefAt::Ancestor(r, a)));
        }
        refs.extend(result.targets.clone().map(RefAt::Target));
    }
    let id = |at: &RefAt| ref_id(results, targets, *at);
    // Sorted by a word holding each id's first 16 bytes (ids hold no NUL, so zero padding keeps
    // the ids' own order): equal words are equal ids unless the ids are longer, and only then
    // are the ids themselves compared.
    let word = |at: &RefAt| id(at).map_or((0, false), |i| sort_word(i.as_str()));
    let mut keyed: Vec<((u128, bool), RefAt)> =
        refs.into_iter().map(|at| (word(&at), at)).collect();
    keyed.sort_unstable_by(|(ka, a), (kb, b)| {
        ka.cmp(kb).then_with(|| match ka.1 {
            true => id(a).cmp(&id(b)),
            false => std::cmp::Ordering::Equal,
        })
    });
    keyed.dedup_by(|(ka, a), (kb, b)| ka == kb && (!ka.1 || id(a) == id(b)));
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
