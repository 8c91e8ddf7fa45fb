//! The query allowlists of the v2 routes: raw query → the typed queries of `route::v2`, or a
//! [`QueryError`]. Every function refuses unknown and repeated parameters; the shared decoding
//! and number parsing come from `route/query.rs`.
//!
//! Deliberately not done: path ids (the parent module checks them) and cursor verification
//! (`proxy::v2` does it; only the cursor's alphabet and length are checked here).

use super::super::query::{pairs, parse_number, parse_text, set_once, unknown, QueryError};
use super::{
    is_number, ContentsQuery, RelatedQuery, Relation, SingleQuery, V2BodyFormat, V2Kind, V2Paging,
    V2Sort, V2SpacesQuery, DEFAULT_V2_LIMIT, MAX_CURSOR_BYTES, MAX_DEPTH, MAX_LIST_IDS,
    MAX_V2_LIMIT,
};
use crate::ids::{ContentId, SpaceKey};

/// Longest `title` accepted, in bytes.
const MAX_TITLE_BYTES: usize = 1024;

/// `limit` and `cursor`, the parameters every list accepts.
#[derive(Default)]
struct PagingParams {
    limit: Option<u32>,
    cursor: Option<String>,
}

impl PagingParams {
    /// Takes the parameter if it is `limit` or `cursor`; `Ok(false)` when it is neither.
    fn take(&mut self, name: &str, value: &str) -> Result<bool, QueryError> {
        match name {
            "limit" => set_once(
                &mut self.limit,
                "limit",
                parse_number("limit", value, 1, MAX_V2_LIMIT)?,
            )?,
            "cursor" => set_once(&mut self.cursor, "cursor", parse_cursor(value)?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn finish(self) -> V2Paging {
        V2Paging {
            limit: self.limit.unwrap_or(DEFAULT_V2_LIMIT),
            cursor: self.cursor,
        }
    }
}

fn parse_cursor(value: &str) -> Result<String, QueryError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_CURSOR_BYTES
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(QueryError::BadValue {
            param: "cursor",
            why: "is not a kbgate cursor",
        })
    }
}

/// The query of `pages`, `blogposts` (`with_space_ids`) and `spaces/{id}/pages` (without).
pub(super) fn contents(
    kind: V2Kind,
    raw: Option<&str>,
    with_space_ids: bool,
) -> Result<ContentsQuery, QueryError> {
    let (mut space_ids, mut title, mut status, mut sort) = (None, None, None, None);
    let mut paging = PagingParams::default();
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "space-id" if with_space_ids => {
                set_once(&mut space_ids, "space-id", number_list("space-id", &value)?)?
            }
            "title" => set_once(
                &mut title,
                "title",
                parse_text("title", value, MAX_TITLE_BYTES, "is longer than 1024 bytes")?,
            )?,
            "status" => {
                if value != "current" {
                    return Err(QueryError::BadValue {
                        param: "status",
                        why: "only 'current' is allowed",
                    });
                }
                set_once(&mut status, "status", ())?;
            }
            "sort" => set_once(&mut sort, "sort", parse_sort(&value)?)?,
            "body-format" => return Err(list_body_format(&value)),
            _ if paging.take(&name, &value)? => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(ContentsQuery {
        kind,
        space_ids: space_ids.unwrap_or_default(),
        title,
        status_current: status.is_some(),
        sort,
        paging: paging.finish(),
    })
}

/// A list route was asked for bodies: refused (rendered formats with their own error).
fn list_body_format(value: &str) -> QueryError {
    rendered(value).unwrap_or(QueryError::BadValue {
        param: "body-format",
        why: "bodies are not served in lists",
    })
}

/// The rendered-format error for `value`, if it names one.
fn rendered(value: &str) -> Option<QueryError> {
    let name = match value {
        "view" => "body.view",
        "export_view" => "body.export_view",
        "styled_view" => "body.styled_view",
        "anonymous_export_view" => "body.anonymous_export_view",
        "editor" => "body.editor",
        _ => return None,
    };
    Some(QueryError::RenderedFormat(name))
}

fn parse_sort(value: &str) -> Result<V2Sort, QueryError> {
    [
        V2Sort::Id,
        V2Sort::IdDesc,
        V2Sort::Title,
        V2Sort::TitleDesc,
        V2Sort::Created,
        V2Sort::CreatedDesc,
        V2Sort::Modified,
        V2Sort::ModifiedDesc,
    ]
    .into_iter()
    .find(|s| s.wire() == value)
    .ok_or(QueryError::BadValue {
        param: "sort",
        why: "is not an allowed sort order",
    })
}

/// A comma-separated list of numeric ids: 1..=MAX_LIST_IDS of them, no empty item.
fn number_list(param: &'static str, value: &str) -> Result<Vec<String>, QueryError> {
    let items: Vec<&str> = value.split(',').collect();
    if items.len() > MAX_LIST_IDS {
        return Err(QueryError::BadValue {
            param,
            why: "names too many ids",
        });
    }
    items
        .into_iter()
        .map(|id| {
            if is_number(id) {
                Ok(id.to_owned())
            } else {
                Err(QueryError::BadValue {
                    param,
                    why: "must be numeric ids separated by commas",
                })
            }
        })
        .collect()
}

fn parse_bool(param: &'static str, value: &str) -> Result<bool, QueryError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(QueryError::BadValue {
            param,
            why: "must be 'true' or 'false'",
        }),
    }
}

/// The query of `pages/{id}` and `blogposts/{id}`.
pub(super) fn single(
    kind: V2Kind,
    id: ContentId,
    raw: Option<&str>,
) -> Result<SingleQuery, QueryError> {
    let (mut body_format, mut labels, mut children, mut version) = (None, None, None, None);
    for (name, value) in pairs(raw)? {
        match (name.as_str(), kind) {
            ("body-format", _) => {
                let format = match value.as_str() {
                    "storage" => V2BodyFormat::Storage,
                    "atlas_doc_format" => V2BodyFormat::AtlasDocFormat,
                    other => {
                        return Err(rendered(other).unwrap_or(QueryError::BadValue {
                            param: "body-format",
                            why: "only 'storage' and 'atlas_doc_format' are served",
                        }))
                    }
                };
                set_once(&mut body_format, "body-format", format)?;
            }
            ("include-labels", V2Kind::Page) => set_once(
                &mut labels,
                "include-labels",
                parse_bool("include-labels", &value)?,
            )?,
            ("include-direct-children", V2Kind::Page) => set_once(
                &mut children,
                "include-direct-children",
                parse_bool("include-direct-children", &value)?,
            )?,
            ("include-version", _) => set_once(
                &mut version,
                "include-version",
                parse_bool("include-version", &value)?,
            )?,
            _ => return Err(unknown(&name)),
        }
    }
    Ok(SingleQuery {
        kind,
        id,
        body_format,
        include_labels: labels.unwrap_or(false),
        include_direct_children: children.unwrap_or(false),
        include_version: version.unwrap_or(true),
    })
}

/// The query of `pages/{id}/{relation}`: paging, plus `depth` for descendants.
pub(super) fn related(
    id: ContentId,
    relation: Relation,
    raw: Option<&str>,
) -> Result<RelatedQuery, QueryError> {
    let mut depth = None;
    let mut paging = PagingParams::default();
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "depth" if relation == Relation::Descendants => {
                let d = parse_number("depth", &value, 1, u32::from(MAX_DEPTH))?;
                set_once(&mut depth, "depth", u8::try_from(d).unwrap_or(MAX_DEPTH))?;
            }
            "body-format" if relation == Relation::FooterComments => {
                return Err(list_body_format(&value))
            }
            _ if paging.take(&name, &value)? => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(RelatedQuery {
        id,
        relation,
        depth,
        paging: paging.finish(),
    })
}

/// The query of `spaces`: `ids`, `keys` and paging.
pub(super) fn spaces(raw: Option<&str>) -> Result<V2SpacesQuery, QueryError> {
    let (mut ids, mut keys) = (None, None);
    let mut paging = PagingParams::default();
    for (name, value) in pairs(raw)? {
        match name.as_str() {
            "ids" => set_once(&mut ids, "ids", number_list("ids", &value)?)?,
            "keys" => set_once(&mut keys, "keys", key_list(&value)?)?,
            _ if paging.take(&name, &value)? => {}
            _ => return Err(unknown(&name)),
        }
    }
    Ok(V2SpacesQuery {
        ids: ids.unwrap_or_default(),
        keys: keys.unwrap_or_default(),
        paging: paging.finish(),
    })
}

fn key_list(value: &str) -> Result<Vec<SpaceKey>, QueryError> {
    let items: Vec<&str> = value.split(',').collect();
    if items.len() > MAX_LIST_IDS {
        return Err(QueryError::BadValue {
            param: "keys",
            why: "names too many keys",
        });
    }
    items
        .into_iter()
        .map(|k| {
            SpaceKey::new(k).map_err(|_| QueryError::BadValue {
                param: "keys",
                why: "must be space keys separated by commas",
            })
        })
        .collect()
}

/// `limit` and `cursor` only.
pub(super) fn paging_only(raw: Option<&str>) -> Result<V2Paging, QueryError> {
    let mut paging = PagingParams::default();
    for (name, value) in pairs(raw)? {
        if !paging.take(&name, &value)? {
            return Err(unknown(&name));
        }
    }
    Ok(paging.finish())
}
