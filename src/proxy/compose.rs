//! The expansions of content by id that kbgate composes itself instead of asking upstream:
//! `children.{page,attachment,comment}`, `descendants.page`, `container` and `space.homepage`.
//!
//! Guarantees: each composed member is one of kbgate's own, separately decided answers (the
//! child and descendant lists, the space route, content by id of the home page), so it carries
//! exactly what those routes would show the caller; a home page hidden from the caller is left
//! out, never named. Deliberately not done: nested expansions inside the composed members
//! (`children.page.space`, …) — the route refuses them.

use crate::app::App;
use crate::filter;
use crate::ids::SpaceKey;
use crate::policy::OrgSet;
use crate::route::{ChildMapQuery, ChildType, ContentExpand, ContentQuery, SpaceQuery};

use super::{children, spaces, upstream_request, ProxyError};

/// Adds the composed expansions `q` asks for to the rendered content `rendered`.
pub async fn expansions(
    app: &App,
    orgs: &OrgSet,
    q: &ContentQuery,
    space: Option<&SpaceKey>,
    rendered: Vec<u8>,
    request_id: &str,
) -> Result<Vec<u8>, ProxyError> {
    let wants = |e: ContentExpand| q.expand.contains(&e);
    let mut members: Vec<(&str, Vec<u8>)> = Vec::new();
    let child_types: Vec<ChildType> = [
        (ContentExpand::ChildrenPage, ChildType::Page),
        (ContentExpand::ChildrenAttachment, ChildType::Attachment),
        (ContentExpand::ChildrenComment, ChildType::Comment),
    ]
    .into_iter()
    .filter(|(e, _)| wants(*e))
    .map(|(_, t)| t)
    .collect();
    if !child_types.is_empty() {
        let map = ChildMapQuery {
            id: q.id.clone(),
            expand: child_types,
        };
        let answer = children::child_map(app, orgs, &map, false, request_id).await?;
        members.push(("children", answer.body));
    }
    if wants(ContentExpand::DescendantsPage) {
        let map = ChildMapQuery {
            id: q.id.clone(),
            expand: vec![ChildType::Page],
        };
        let answer = children::child_map(app, orgs, &map, true, request_id).await?;
        members.push(("descendants", answer.body));
    }
    if let (true, Some(key)) = (wants(ContentExpand::Container), space) {
        let query = SpaceQuery { key: key.clone() };
        match spaces::space(app, orgs, &query, request_id).await {
            Ok(answer) => members.push(("container", answer.body)),
            Err(ProxyError::NotFound) => {}
            Err(other) => return Err(other),
        }
    }
    let mut out = if members.is_empty() {
        rendered
    } else {
        filter::append_members(&rendered, &members)?
    };
    if let (true, Some(key)) = (wants(ContentExpand::SpaceHomepage), space) {
        if let Some(home) = homepage(app, orgs, key, request_id).await? {
            out = filter::append_to_member(&out, "space", &[("homepage", home)])?;
        }
    }
    Ok(out)
}

/// The space's home page as content by id, when it exists and the caller may see it.
async fn homepage(
    app: &App,
    orgs: &OrgSet,
    key: &SpaceKey,
    request_id: &str,
) -> Result<Option<Vec<u8>>, ProxyError> {
    if !spaces::space_exists_for(&app.policy, orgs, key) {
        return Ok(None);
    }
    let body = app
        .upstream
        .get_json(&upstream_request::space(key), request_id)
        .await
        .map_err(super::missing_on_404)?;
    let scan = filter::scan_space(&body)?;
    let Some(id) = scan.homepage_id().cloned() else {
        return Ok(None);
    };
    let query = ContentQuery {
        id,
        expand: Vec::new(),
    };
    match Box::pin(super::content(app, orgs, &query, request_id)).await {
        Ok(answer) => Ok(Some(answer.body)),
        Err(ProxyError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}
