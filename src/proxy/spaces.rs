//! The space routes (`space` and `space/{key}`): for a customer, only the configured KB spaces
//! exist — and of those, a space dedicated to organizations (`policy.space_orgs`) only for
//! its own organizations' customers.
//!
//! Guarantees: upstream is asked only for spaces that exist for the caller (the list with one
//! `spaceKey` per such space, one space only after the decision), and every space upstream
//! returns is decided again by its key; `space/{key}` of a non-KB, foreign or unknown space is
//! [`ProxyError::NotFound`] before anything is forwarded, so they answer byte for byte alike;
//! kept spaces carry only their plain fields and kbgate's links (`filter::render_space*`).
//!
//! Deliberately not done: `expand` (the route refuses it), space content (`space/{key}/content`
//! is not a route yet).

use crate::app::App;
use crate::filter::{self, SearchLinks};
use crate::ids::SpaceKey;
use crate::policy::{OrgSet, Policy};
use crate::route::{SpaceQuery, SpacesQuery};

use super::{links, upstream_request, Answer, ProxyError};

/// True when the space with `key` exists for a caller with `orgs`: a KB space, not dedicated to
/// organizations or dedicated to one of the caller's.
pub fn space_exists_for(policy: &Policy, orgs: &OrgSet, key: &SpaceKey) -> bool {
    policy.spaces.contains(key)
        && policy
            .space_orgs
            .get(key)
            .is_none_or(|allowed| orgs.intersects(allowed.iter()))
}

/// `GET /wiki/rest/api/space`: the spaces that exist for the caller.
pub async fn spaces(
    app: &App,
    orgs: &OrgSet,
    q: &SpacesQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    let self_link = app.links.spaces(q.start, q.limit);
    let keys: Vec<&SpaceKey> = app
        .policy
        .spaces
        .iter()
        .filter(|key| space_exists_for(&app.policy, orgs, key))
        .collect();
    if keys.is_empty() {
        let body = links::empty_list(q.start, q.limit, &app.links.api_base(), &self_link);
        return Ok(Answer {
            body,
            route: "spaces",
            removed: 0,
            ..Default::default()
        });
    }
    let body = app
        .upstream
        .get_json(&upstream_request::spaces(keys, q), request_id)
        .await?;
    let scan = filter::scan_space_list(&body)?;
    let next_link = links::next_start(q.start, scan.upstream_count(), scan.has_next())
        .map(|start| app.links.spaces(start, q.limit));
    let links = SearchLinks {
        base: &app.links.api_base(),
        self_link: &self_link,
        next_link: next_link.as_deref(),
    };
    let keep =
        |key: &str| SpaceKey::new(key).is_ok_and(|key| space_exists_for(&app.policy, orgs, &key));
    let space_link = |key: &str| app.links.space(key);
    let rendered = filter::render_space_list(&scan, &body, &keep, &space_link, &links)?;
    tracing::Span::current().record("filter.removed", rendered.removed);
    Ok(Answer {
        body: rendered.body,
        route: "spaces",
        removed: rendered.removed,
        ..Default::default()
    })
}

/// `GET /wiki/rest/api/space/{key}`: decided first (uniform 404), then fetched and reduced.
pub async fn space(
    app: &App,
    orgs: &OrgSet,
    q: &SpaceQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    if !space_exists_for(&app.policy, orgs, &q.key) {
        return Err(ProxyError::NotFound);
    }
    let body = app
        .upstream
        .get_json(&upstream_request::space(&q.key), request_id)
        .await
        // A configured space that upstream does not know (or hides) looks like any other.
        .map_err(super::missing_on_404)?;
    let scan = filter::scan_space(&body)?;
    if scan.key() != q.key.as_str() {
        return Err(ProxyError::UpstreamMismatch);
    }
    let body = filter::render_space(&scan, &body, &app.links.space(q.key.as_str()))?;
    Ok(Answer {
        body,
        route: "space",
        removed: 0,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::ids::OrgId;
    use crate::policy::Unmarked;

    fn key(k: &str) -> SpaceKey {
        SpaceKey::new(k).unwrap()
    }

    #[test]
    fn only_kb_spaces_exist_and_a_dedicated_one_only_for_its_organizations() {
        let acme = OrgId::new("acme").unwrap();
        let policy = Policy {
            spaces: BTreeSet::from([key("KB"), key("ACME")]),
            label_prefix: "org-".into(),
            internal_label: "kb-internal".into(),
            unmarked: Unmarked::Shared,
            subtrees: BTreeMap::new(),
            space_orgs: BTreeMap::from([(key("ACME"), vec![acme.clone()])]),
            known_orgs: BTreeSet::from([acme.clone()]),
        };
        let alice = OrgSet::new([acme]);
        let nobody = OrgSet::new([]);
        assert!(space_exists_for(&policy, &alice, &key("KB")));
        assert!(space_exists_for(&policy, &nobody, &key("KB")));
        assert!(space_exists_for(&policy, &alice, &key("ACME")));
        assert!(!space_exists_for(&policy, &nobody, &key("ACME")));
        assert!(!space_exists_for(&policy, &alice, &key("ENG")));
        assert!(
            !space_exists_for(&policy, &alice, &key("kb")),
            "keys are exact"
        );
    }
}
