//! `[policy]`: KB spaces, labels, subtrees and organization spaces.

use std::collections::{BTreeMap, BTreeSet};

use super::super::file::FileConfig;
use super::{org_list, Problems};
use crate::ids::{ContentId, OrgId, SpaceKey};
use crate::policy::{Policy, Unmarked};

pub(super) fn policy(
    p: &mut Problems,
    file: &FileConfig,
    known: &mut BTreeSet<OrgId>,
) -> Option<Policy> {
    let fp = &file.policy;
    let mut spaces = BTreeSet::new();
    for (i, s) in fp.spaces.iter().enumerate() {
        match SpaceKey::new(s) {
            Ok(k) => {
                spaces.insert(k);
            }
            Err(e) => p.add(
                format!("policy.spaces[{i}]"),
                format!("space key {s:?} {e}"),
            ),
        }
    }
    if fp.spaces.is_empty() {
        p.add(
            "policy.spaces",
            "list the knowledge-base space keys, e.g. [\"KB\"]",
        );
    }
    let label_prefix = fp.label_prefix.clone().unwrap_or_else(|| "org-".to_owned());
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 200
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_:.".contains(c))
    };
    if !label_ok(&label_prefix) {
        p.add(
            "policy.label_prefix",
            "use lowercase letters, digits and - _ : . (Confluence labels are lowercase)",
        );
    }
    let internal_label = fp
        .internal_label
        .clone()
        .unwrap_or_else(|| "kb-internal".to_owned());
    if !label_ok(&internal_label) {
        p.add(
            "policy.internal_label",
            "use lowercase letters, digits and - _ : .",
        );
    }
    let unmarked = match fp.unmarked.as_deref() {
        None | Some("shared") => Unmarked::Shared,
        Some("deny") => Unmarked::Deny,
        Some(other) => {
            p.add(
                "policy.unmarked",
                format!("{other:?} is not accepted: use \"shared\" or \"deny\""),
            );
            Unmarked::Shared
        }
    };
    let mut subtrees = BTreeMap::new();
    for (i, st) in fp.subtrees.iter().enumerate() {
        let path = format!("policy.subtrees[{i}]");
        let orgs = org_list(p, &format!("{path}.orgs"), &st.orgs, known);
        match ContentId::new(&st.root) {
            Ok(root) if root.is_numeric() => {
                if subtrees.insert(root, orgs).is_some() {
                    p.add(
                        format!("{path}.root"),
                        "this root is configured twice: merge the entries",
                    );
                }
            }
            _ => p.add(
                format!("{path}.root"),
                format!("{:?} is not a page id (digits)", st.root),
            ),
        }
    }
    let mut space_orgs = BTreeMap::new();
    for (key, orgs) in &fp.space_orgs {
        let path = format!("policy.space_orgs.{key}");
        let orgs = org_list(p, &path, orgs, known);
        match SpaceKey::new(key) {
            Ok(k) if spaces.contains(&k) => {
                space_orgs.insert(k, orgs);
            }
            Ok(_) => p.add(path, "this space is not in policy.spaces: add it there too"),
            Err(e) => p.add(path, format!("space key {e}")),
        }
    }
    Some(Policy {
        spaces,
        label_prefix,
        internal_label,
        unmarked,
        subtrees,
        space_orgs,
        known_orgs: known.clone(),
    })
}
