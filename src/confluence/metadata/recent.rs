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

    /// The slot of `meta.id` and the fingerprint of `meta`, looked up once for a check and the
    /// write that may follow it.
    pub fn entry(&self, meta: &ItemMeta) -> Entry<'_> {
        Entry {
            slot: self.slot(&meta.id),
            // Never 0, which marks an empty slot.
            print: self.hasher.hash_one(meta) | 1,
        }
    }

    /// Forgets what was written for `id`.
    pub fn forget(&self, id: &ContentId) {
        if let Some(s) = self.slot(id) {
            s.store(0, Ordering::Relaxed);
        }
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

/// One item's slot and the fingerprint of its metadata.
pub(super) struct Entry<'a> {
    slot: Option<&'a AtomicU64>,
    print: u64,
}

impl Entry<'_> {
    /// True when this metadata is what the slot says was written last.
    pub fn is_current(&self) -> bool {
        self.slot
            .is_some_and(|s| s.load(Ordering::Relaxed) == self.print)
    }

    /// Records that this metadata is now what the cache holds for the item.
    pub fn record(&self) {
        if let Some(s) = self.slot {
            s.store(self.print, Ordering::Relaxed);
        }
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
            labels: Labels::Complete(smallvec::smallvec![label.into()]),
            ancestors: Ancestors::Known(smallvec::smallvec![]),
        }
    }

    #[test]
    fn a_write_is_recognised_until_the_metadata_changes_or_is_forgotten() {
        let recent = Recent::new();
        let (a, b) = (meta("1", "org-acme"), meta("1", "org-globex"));
        assert_ne!(recent.entry(&a).print, recent.entry(&b).print);
        assert!(!recent.entry(&a).is_current(), "nothing written yet");
        recent.entry(&a).record();
        assert!(recent.entry(&a).is_current());
        assert!(
            !recent.entry(&b).is_current(),
            "changed metadata is not skipped"
        );
        recent.entry(&b).record();
        assert!(
            !recent.entry(&a).is_current(),
            "the old metadata no longer matches"
        );
        recent.forget(&b.id);
        assert!(!recent.entry(&b).is_current());
        recent.entry(&b).record();
        recent.forget_all();
        assert!(!recent.entry(&b).is_current());
    }

    #[test]
    fn the_fingerprint_covers_the_id_too() {
        let recent = Recent::new();
        let (one, two) = (meta("1", "org-acme"), meta("2", "org-acme"));
        assert_ne!(recent.entry(&one).print, recent.entry(&two).print);
        assert_ne!(recent.entry(&one).print, 0);
    }
}
