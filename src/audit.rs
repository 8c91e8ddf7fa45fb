//! Audit events and counts of item decisions.
//!
//! Every decision that hides an item from a customer emits one `kbgate::audit` event at `info`
//! (in the request's span, so it carries the request id, route and organizations) with the item's
//! id and the reason, and counts it in `kbgate_filter_hidden_items_total`. Titles, excerpts and
//! bodies of hidden items are never logged: the id is enough to look the item up with
//! `kbgate explain`. Turn the events off with the log filter `kbgate::audit=off`.

use crate::app::App;
use crate::ids::ContentId;
use crate::policy::{ItemMeta, OrgSet, Visibility};

/// The `tracing` target of audit events.
pub const TARGET: &str = "kbgate::audit";

impl App {
    /// The policy's decision for `meta` and `orgs`, audited when it hides the item.
    pub fn decide(&self, orgs: &OrgSet, meta: &ItemMeta) -> Visibility {
        let visibility = self.policy.decide(orgs, meta);
        if let Visibility::Hidden(reason) = visibility {
            self.hidden(&meta.id, reason.as_str());
        }
        visibility
    }

    /// Records that item `id` was hidden from the customer, and why.
    pub fn hidden(&self, id: &ContentId, reason: &'static str) {
        self.metrics.hidden(reason);
        tracing::info!(target: TARGET, { content.id = %id, reason = reason }, "hidden");
    }
}
