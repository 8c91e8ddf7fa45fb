//! Visibility rules: pure functions from (caller's organizations, item metadata) to a decision.
//!
//! The rules are those of DESIGN.md §1, applied in a fixed order:
//! 1. metadata missing or incomplete → hidden (fail closed);
//! 2. space not one of the KB spaces → hidden;
//! 3. the internal label → hidden from every customer;
//! 4. each restriction that applies (org labels; every configured subtree the item is in; a
//!    space assigned to organizations) must include one of the caller's organizations —
//!    restrictions combine by intersection, so the stricter one wins;
//! 5. no restriction → shared (or hidden when `unmarked = "deny"`).
//!
//! This module does no I/O and never sees titles or bodies. [`cql`] builds the pre-filter that
//! mirrors these rules in CQL; the post-filter in `filter` calls [`Policy::decide`] and is the
//! security boundary.

pub mod cql;

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{ContentId, OrgId, SpaceKey};

/// The set of organizations a customer belongs to (possibly empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OrgSet(BTreeSet<OrgId>);

impl OrgSet {
    /// Builds a set from any organizations.
    pub fn new(orgs: impl IntoIterator<Item = OrgId>) -> Self {
        Self(orgs.into_iter().collect())
    }

    /// True when the customer belongs to no organization (sees shared articles only).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when the customer belongs to `org`.
    pub fn contains(&self, org: &OrgId) -> bool {
        self.0.contains(org)
    }

    /// The organizations, in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &OrgId> {
        self.0.iter()
    }

    /// True when any of `orgs` is one of the customer's.
    pub fn intersects<'a>(&self, mut orgs: impl Iterator<Item = &'a OrgId>) -> bool {
        orgs.any(|o| self.0.contains(o))
    }

    /// Comma-separated list for logs (`acme,globex`).
    pub fn joined(&self) -> String {
        let mut out = String::new();
        for (i, o) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(o.as_str());
        }
        out
    }
}

/// An item's label names. Most items have a few: those are held inline (no allocation per
/// search result).
pub type LabelNames = smallvec::SmallVec<[compact_str::CompactString; 4]>;

/// An item's ancestor ids, root first; inline up to the usual depth of a KB.
pub type AncestorIds = smallvec::SmallVec<[ContentId; 4]>;

/// An item's labels, or the knowledge that kbgate did not see all of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Labels {
    /// Every label of the item (names only, e.g. `org-acme`).
    Complete(LabelNames),
    /// Some labels were not returned (paging, expansion missing): decide nothing from them.
    Incomplete,
}

/// An item's ancestors (root first), or the knowledge that kbgate does not know them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ancestors {
    /// All ancestors, root first. Empty for top-level pages and blog posts.
    Known(AncestorIds),
    /// The ancestor chain was not returned.
    Unknown,
}

/// What the policy needs to know about one content item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemMeta {
    pub id: ContentId,
    /// The item's space, `None` when upstream did not say.
    pub space: Option<SpaceKey>,
    pub labels: Labels,
    pub ancestors: Ancestors,
}

/// Why an item is hidden from a caller. Logged and shown by `kbgate explain`; never sent to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HideReason {
    /// Labels, ancestors or space were not known or not complete.
    MetadataIncomplete,
    /// The item is outside the configured KB spaces.
    SpaceNotInKb,
    /// The item carries the internal label.
    Internal,
    /// The item's organization labels name none of the caller's organizations.
    OtherOrgLabel,
    /// The item is under a subtree assigned to other organizations.
    OtherOrgSubtree,
    /// The item is in a space assigned to other organizations.
    OtherOrgSpace,
    /// The item carries no restriction and `unmarked = "deny"`.
    UnmarkedDenied,
}

impl HideReason {
    /// Stable snake_case name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            HideReason::MetadataIncomplete => "metadata_incomplete",
            HideReason::SpaceNotInKb => "space_not_in_kb",
            HideReason::Internal => "internal",
            HideReason::OtherOrgLabel => "other_org_label",
            HideReason::OtherOrgSubtree => "other_org_subtree",
            HideReason::OtherOrgSpace => "other_org_space",
            HideReason::UnmarkedDenied => "unmarked_denied",
        }
    }
}

/// Why an item is visible: the rule that let it through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisibleBecause {
    /// No restriction applies: a shared article.
    Shared,
    /// Every restriction names one of the caller's organizations.
    OwnOrg,
}

/// The outcome of [`Policy::decide`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Visible(VisibleBecause),
    Hidden(HideReason),
}

impl Visibility {
    /// True for [`Visibility::Visible`].
    pub fn is_visible(self) -> bool {
        matches!(self, Visibility::Visible(_))
    }
}

/// What to do with KB articles that carry no organization restriction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Unmarked {
    /// Visible to every authenticated customer (the default).
    #[default]
    Shared,
    /// Hidden from every customer.
    Deny,
}

/// The validated visibility rules (built by `config`).
#[derive(Clone, Debug)]
pub struct Policy {
    /// The KB spaces; content elsewhere is hidden.
    pub spaces: BTreeSet<SpaceKey>,
    /// Label prefix that marks an organization, e.g. `org-` in `org-acme`.
    pub label_prefix: String,
    /// Label that hides an article from every customer, e.g. `kb-internal`.
    pub internal_label: String,
    pub unmarked: Unmarked,
    /// Subtree root page → organizations that may see the root and everything under it.
    pub subtrees: BTreeMap<ContentId, Vec<OrgId>>,
    /// Space → organizations that may see its content (a space dedicated to customers).
    pub space_orgs: BTreeMap<SpaceKey, Vec<OrgId>>,
    /// Every organization kbgate knows of; the CQL pre-filter excludes the others' labels.
    pub known_orgs: BTreeSet<OrgId>,
}

impl Policy {
    /// Decides whether a caller with `orgs` may see the item described by `meta`.
    pub fn decide(&self, orgs: &OrgSet, meta: &ItemMeta) -> Visibility {
        let (Labels::Complete(labels), Ancestors::Known(ancestors), Some(space)) =
            (&meta.labels, &meta.ancestors, &meta.space)
        else {
            return Visibility::Hidden(HideReason::MetadataIncomplete);
        };
        if !self.spaces.contains(space) {
            return Visibility::Hidden(HideReason::SpaceNotInKb);
        }
        if labels.iter().any(|l| *l == self.internal_label) {
            return Visibility::Hidden(HideReason::Internal);
        }

        let mut label_orgs = labels
            .iter()
            .filter_map(|l| self.org_of_label(l))
            .peekable();
        let subtree_applies = ancestors
            .iter()
            .chain(std::iter::once(&meta.id))
            .any(|node| self.subtrees.contains_key(node));
        if !subtree_applies && !self.space_orgs.contains_key(space) {
            // The common case, without building sets: labels are the only restriction, so the
            // audience is the organizations they name.
            if label_orgs.peek().is_none() {
                return self.unmarked_visibility();
            }
            return if label_orgs.any(|org| orgs.iter().any(|o| o.as_str() == org)) {
                Visibility::Visible(VisibleBecause::OwnOrg)
            } else {
                Visibility::Hidden(HideReason::OtherOrgLabel)
            };
        }

        // Each restriction that applies names organizations; the item's audience is their
        // intersection (DESIGN §1 rule 3: labels and subtrees combine by intersection, the
        // stricter wins), and the caller must be in it. A caller in two organizations does not
        // pass an `org-acme` page under initech's subtree by being in both.
        let mut audience: Option<BTreeSet<&str>> = None;
        let label_orgs: BTreeSet<&str> = label_orgs.collect();
        if !label_orgs.is_empty() && !narrow(&mut audience, label_orgs, orgs) {
            return Visibility::Hidden(HideReason::OtherOrgLabel);
        }
        for node in ancestors.iter().chain(std::iter::once(&meta.id)) {
            if let Some(allowed) = self.subtrees.get(node) {
                let allowed = allowed.iter().map(OrgId::as_str).collect();
                if !narrow(&mut audience, allowed, orgs) {
                    return Visibility::Hidden(HideReason::OtherOrgSubtree);
                }
            }
        }
        if let Some(allowed) = self.space_orgs.get(space) {
            let allowed = allowed.iter().map(OrgId::as_str).collect();
            if !narrow(&mut audience, allowed, orgs) {
                return Visibility::Hidden(HideReason::OtherOrgSpace);
            }
        }
        if audience.is_some() {
            Visibility::Visible(VisibleBecause::OwnOrg)
        } else {
            self.unmarked_visibility()
        }
    }

    /// The visibility of an item no restriction applies to.
    fn unmarked_visibility(&self) -> Visibility {
        match self.unmarked {
            Unmarked::Shared => Visibility::Visible(VisibleBecause::Shared),
            Unmarked::Deny => Visibility::Hidden(HideReason::UnmarkedDenied),
        }
    }

    /// The organization named by an organization label (`org-acme` → `acme`), if it is one.
    ///
    /// Label comparison is ASCII case-insensitive on the prefix because Confluence lowercases
    /// labels; an empty remainder is not an organization.
    pub fn org_of_label<'l>(&self, label: &'l str) -> Option<&'l str> {
        let prefix_len = self.label_prefix.len();
        if label.len() <= prefix_len || !label.is_char_boundary(prefix_len) {
            return None;
        }
        let (head, rest) = label.split_at(prefix_len);
        head.eq_ignore_ascii_case(&self.label_prefix)
            .then_some(rest)
    }

    /// The organization label for `org` (`acme` → `org-acme`).
    pub fn label_of_org(&self, org: &OrgId) -> String {
        format!("{}{}", self.label_prefix, org.as_str())
    }
}

/// Narrows the item's audience by one restriction's organizations; true while the caller is
/// still in it.
fn narrow<'a>(
    audience: &mut Option<BTreeSet<&'a str>>,
    allowed: BTreeSet<&'a str>,
    orgs: &OrgSet,
) -> bool {
    let next = match audience.take() {
        None => allowed,
        Some(prev) => prev.intersection(&allowed).copied().collect(),
    };
    let caller_in = orgs.iter().any(|o| next.contains(o.as_str()));
    *audience = Some(next);
    caller_in
}

#[cfg(test)]
mod tests;
