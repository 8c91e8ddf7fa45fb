//! What [`super::MetadataIndex::remember`] wrote last, per slot: lets a search skip the cache
//! read for an item whose metadata it wrote moments ago, unchanged.
//!
//! Every search remembers every result it describes, and a cache read (hash, lookup, expiry
//! check, access record) cost more than a tenth of a filtered 200-result search. A slot holds a
//! fingerprint of one item's id *and* metadata; the slot is chosen by the id alone, so new
//! metadata for an id replaces what its slot said.
//!
//! Why skipping is safe: a skip never writes, so the cache only ever holds metadata some upstream
//! answer gave; an entry still expires `metadata_ttl` after it was written (a skip does not
//! extend it); and a slot that lost its entry (expired, evicted, forgotten) only costs a later
//! lookup upstream. Two items sharing a slot overwrite each other: a missed skip, never a wrong
//! one (a fingerprint match is checked, and 64-bit fingerprints collide about once in 2^64).
//! Bounded: [`SLOTS`] words.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ids::ContentId;
use crate::policy::ItemMeta;

/// Slots in the table (32 KiB).
pub(super) const SLOTS: usize = 4096;

/// A lossy, fixed-size record of recent writes.
pub(super) struct Recent {
    slots: Box<[AtomicU64]>,
    hasher: foldhash::fast::RandomState,
}

impl Recent {
    /// An empty record.
    pub fn new() -> Self {
        Recent {
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// The fingerprint of `meta` (never 0, which marks an empty slot).
    pub fn print(&self, meta: &ItemMeta) -> u64 {
        self.hasher.hash_one(meta) | 1
    }

    /// True when the slot of `meta.id` says `print` was written last.
    pub fn wrote(&self, id: &ContentId, print: u64) -> bool {
        self.slot(id)
            .is_some_and(|s| s.load(Ordering::Relaxed) == print)
    }

    /// Records that the metadata with `print` is now what the cache holds for `id`.
    pub fn record(&self, id: &ContentId, print: u64) {
        if let Some(s) = self.slot(id) {
            s.store(print, Ordering::Relaxed);
        }
    }

    /// Forgets what was written for `id`.
    pub fn forget(&self, id: &ContentId) {
        self.record(id, 0);
    }

    /// Forgets everything.
    pub fn forget_all(&self) {
        for s in self.slots.iter() {
            s.store(0, Ordering::Relaxed);
        }
    }

    fn slot(&self, id: &ContentId) -> Option<&AtomicU64> {
        let index = self.hasher.hash_one(id) as usize % SLOTS;
        self.slots.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Ancestors, Labels};

    fn meta(id: &str, label: &str) -> ItemMeta {
        ItemMeta {
            id: ContentId::new(id).unwrap(),
            space: None,
            labels: Labels::Complete(vec![label.into()]),
            ancestors: Ancestors::Known(vec![]),
        }
    }

    #[test]
    fn a_write_is_recognised_until_the_metadata_changes_or_is_forgotten() {
        let recent = Recent::new();
        let (a, b) = (meta("1", "org-acme"), meta("1", "org-globex"));
        let (pa, pb) = (recent.print(&a), recent.print(&b));
        assert_ne!(pa, pb);
        assert!(!recent.wrote(&a.id, pa), "nothing written yet");
        recent.record(&a.id, pa);
        assert!(recent.wrote(&a.id, pa));
        assert!(!recent.wrote(&b.id, pb), "changed metadata is not skipped");
        recent.record(&b.id, pb);
        assert!(
            !recent.wrote(&a.id, pa),
            "the old metadata no longer matches"
        );
        recent.forget(&b.id);
        assert!(!recent.wrote(&b.id, pb));
        recent.record(&b.id, pb);
        recent.forget_all();
        assert!(!recent.wrote(&b.id, pb));
    }

    #[test]
    fn the_fingerprint_covers_the_id_too() {
        let recent = Recent::new();
        let (one, two) = (meta("1", "org-acme"), meta("2", "org-acme"));
        assert_ne!(recent.print(&one), recent.print(&two));
        assert_ne!(recent.print(&one), 0);
    }
}
