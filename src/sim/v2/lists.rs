//! The v2 top-level lists: `pages`, `blogposts`, `spaces/{id}/pages`, `labels/{id}/pages`,
//! `spaces`, `spaces/{id}` and `labels`, with their filters (`id`, `space-id`, `title`,
//! `status`, `depth`, `ids`, `keys`, `label-id`, `prefix`), `sort` and `body-format`.
//!
//! Guarantees: pages lists hold pages only and blog-post lists blog posts only; every space,
//! internal and ENG item included (the service account sees everything); results are sorted by
//! id unless `sort` says otherwise; an unknown sort, status, depth or body format answers 400, an
//! unknown space or label id 404. Deliberately not: `subtype`, space `labels`/`favorited-by`
//! filters (ignored), archived or trashed content (none exists, so such a `status` lists nothing).

use super::super::corpus::{ContentKind, SimItem, SimSpace};
use super::super::json::J;
use super::paging::{self, DEFAULT_LIMIT};
use super::shapes::{self, json_reply};
use super::{path_id, Req, V2Error, V2Result};

/// Body formats allowed on lists.
const LIST_FORMATS: &[&str] = &["storage", "atlas_doc_format"];

/// Which items a content list starts from.
enum Scope<'a> {
    All,
    /// Pages of one space; `true` keeps only its root pages (`depth=root`).
    Space(&'a SimSpace, bool),
    /// Pages carrying this label.
    Label(&'a str),
}

/// Sorts `items` by a v2 `sort` value (`id`, `title`, `created-date`, `modified-date`,
/// `child-position`, each optionally prefixed by `-`); `None` sorts by `default`.
pub(super) fn sort_items(
    req: &Req<'_>,
    items: &mut [&SimItem],
    default: &str,
) -> Result<(), V2Error> {
    let raw = req
        .params
        .get("sort")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(default);
    let (descending, field) = match raw.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, raw),
    };
    let numeric = |i: &SimItem| i.id.parse::<u64>().unwrap_or(u64::MAX);
    let corpus = req.ctx.corpus;
    match field {
        "id" => items.sort_by_key(|i| numeric(i)),
        "title" => items.sort_by(|a, b| a.title.cmp(&b.title).then(numeric(a).cmp(&numeric(b)))),
        "created-date" => items.sort_by_key(|i| (i.created, numeric(i))),
        "modified-date" => items.sort_by_key(|i| (i.last_modified, numeric(i))),
        "child-position" => items.sort_by_key(|i| (shapes::position(corpus, i), numeric(i))),
        _ => {
            return Err(V2Error::bad(format!(
                "Provided value {raw} for 'sort' is not valid"
            )))
        }
    }
    if descending {
        items.reverse();
    }
    Ok(())
}

fn content_list(req: &Req<'_>, kind: ContentKind, scope: Scope<'_>) -> V2Result {
    let format = req.body_format(LIST_FORMATS)?;
    let ids = req.ids("id")?;
    let space_ids = req.ids("space-id")?;
    let statuses = req.values("status");
    let valid: &[&str] = match kind {
        ContentKind::Page => &["current", "archived", "deleted", "trashed"],
        ContentKind::BlogPost => &["current", "deleted", "trashed"],
    };
    if let Some(bad) = statuses.iter().find(|s| !valid.contains(s)) {
        return Err(V2Error::bad(format!(
            "Provided value {bad} for 'status' is not valid"
        )));
    }
    let title = req.params.get("title");
    let corpus = req.ctx.corpus;
    let mut items: Vec<&SimItem> = corpus
        .items()
        .iter()
        .filter(|i| i.kind == kind)
        .filter(|i| match &scope {
            Scope::All => true,
            Scope::Space(space, roots) => {
                i.space_key == space.key && (!roots || i.parent_id.is_none())
            }
            Scope::Label(name) => i.labels.iter().any(|l| l == name),
        })
        .filter(|i| ids.is_empty() || ids.iter().any(|id| i.id == id.to_string()))
        .filter(|i| {
            space_ids.is_empty() || space_ids.contains(&shapes::space_id(corpus, &i.space_key))
        })
        .filter(|_| statuses.is_empty() || statuses.contains(&"current"))
        .filter(|i| title.is_none_or(|t| i.title == t))
        .collect();
    sort_items(req, &mut items, "id")?;
    paging::list(req, &items, DEFAULT_LIMIT, |i| {
        shapes::content(req.ctx, i, format, true)
    })
}

/// `GET pages`.
pub(super) fn pages(req: &Req<'_>) -> V2Result {
    content_list(req, ContentKind::Page, Scope::All)
}

/// `GET blogposts`.
pub(super) fn blogposts(req: &Req<'_>) -> V2Result {
    content_list(req, ContentKind::BlogPost, Scope::All)
}

fn space_by_id<'c>(req: &Req<'c>, raw: &str) -> Result<&'c SimSpace, V2Error> {
    let id = path_id(raw)?;
    req.ctx
        .corpus
        .spaces()
        .iter()
        .find(|s| s.id.to_string() == id)
        .ok_or(V2Error::NotFound)
}

/// `GET spaces/{id}/pages` (`depth=all` (default) or `root`).
pub(super) fn space_pages(req: &Req<'_>, raw: &str) -> V2Result {
    let space = space_by_id(req, raw)?;
    let roots = match req.params.get("depth").map(str::trim) {
        None | Some("") | Some("all") => false,
        Some("root") => true,
        Some(v) => {
            return Err(V2Error::bad(format!(
                "Provided value {v} for 'depth' is not valid"
            )))
        }
    };
    content_list(req, ContentKind::Page, Scope::Space(space, roots))
}

/// `GET labels/{id}/pages` (404 for an id no label has).
pub(super) fn label_pages(req: &Req<'_>, raw: &str) -> V2Result {
    let id: u64 = path_id(raw)?.parse().map_err(|_| V2Error::NotFound)?;
    let table = shapes::label_table(req.ctx.corpus);
    let name = id
        .checked_sub(shapes::FIRST_LABEL_ID)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| table.get(i))
        .ok_or(V2Error::NotFound)?;
    content_list(req, ContentKind::Page, Scope::Label(name))
}

fn description_format(req: &Req<'_>) -> Result<Option<&'static str>, V2Error> {
    match req.params.get("description-format").map(str::trim) {
        None | Some("") => Ok(None),
        Some("plain") => Ok(Some("plain")),
        Some("view") => Ok(Some("view")),
        Some(v) => Err(V2Error::bad(format!(
            "Provided value {v} for 'description-format' is not valid"
        ))),
    }
}

/// `GET spaces` (`ids`, `keys`, `type`, `status`, `sort`, `description-format`).
pub(super) fn spaces(req: &Req<'_>) -> V2Result {
    let ids = req.ids("ids")?;
    let keys = req.values("keys");
    let format = description_format(req)?;
    let type_ok = req.params.get("type").is_none_or(|t| t == "global");
    let status_ok = req.params.get("status").is_none_or(|s| s == "current");
    let mut spaces: Vec<&SimSpace> = req
        .ctx
        .corpus
        .spaces()
        .iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.id))
        .filter(|s| keys.is_empty() || keys.contains(&s.key.as_str()))
        .filter(|_| type_ok && status_ok)
        .collect();
    match req.params.get("sort").map(str::trim).unwrap_or("id") {
        "" | "id" => spaces.sort_by_key(|s| s.id),
        "-id" => spaces.sort_by_key(|s| std::cmp::Reverse(s.id)),
        "key" => spaces.sort_by(|a, b| a.key.cmp(&b.key)),
        "-key" => spaces.sort_by(|a, b| b.key.cmp(&a.key)),
        "name" => spaces.sort_by(|a, b| a.name.cmp(&b.name)),
        "-name" => spaces.sort_by(|a, b| b.name.cmp(&a.name)),
        v => {
            return Err(V2Error::bad(format!(
                "Provided value {v} for 'sort' is not valid"
            )))
        }
    }
    paging::list(req, &spaces, DEFAULT_LIMIT, |s| shapes::space(s, format))
}

/// `GET spaces/{id}`: a `SpaceSingle` with `_links.base`.
pub(super) fn space(req: &Req<'_>, raw: &str) -> V2Result {
    let space = space_by_id(req, raw)?;
    let mut out = shapes::space(space, description_format(req)?);
    out.set(
        "_links",
        J::obj()
            .with("webui", format!("/spaces/{}", space.key))
            .with("base", req.ctx.wiki()),
    );
    Ok(json_reply(200, &out))
}

/// `GET labels` (`label-id`, `prefix`): every label of the site, by id.
pub(super) fn labels(req: &Req<'_>) -> V2Result {
    let wanted = req.ids("label-id")?;
    let prefixes = req.values("prefix");
    let prefix_ok = prefixes.is_empty() || prefixes.contains(&"global");
    let mut all: Vec<(u64, &str)> = shapes::label_table(req.ctx.corpus)
        .into_iter()
        .zip(shapes::FIRST_LABEL_ID..)
        .map(|(name, id)| (id, name))
        .filter(|(id, _)| prefix_ok && (wanted.is_empty() || wanted.contains(id)))
        .collect();
    sort_labels(req, &mut all, false)?;
    paging::list(req, &all, DEFAULT_LIMIT, |(id, name)| {
        shapes::label(*id, name)
    })
}

/// Sorts `(id, name)` labels by `sort` (`id`, `name`, `created-date`, optionally `-`). Without
/// `sort` they stay as given when `keep_order` (a page's own label order), else go by id.
pub(super) fn sort_labels(
    req: &Req<'_>,
    labels: &mut [(u64, &str)],
    keep_order: bool,
) -> Result<(), V2Error> {
    let raw = req.params.get("sort").map(str::trim).unwrap_or("");
    let (descending, field) = match raw.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, raw),
    };
    match field {
        "" if keep_order => {}
        "" | "id" | "created-date" => labels.sort_by_key(|(id, _)| *id),
        "name" => labels.sort_by(|a, b| a.1.cmp(b.1)),
        _ => {
            return Err(V2Error::bad(format!(
                "Provided value {raw} for 'sort' is not valid"
            )))
        }
    }
    if descending {
        labels.reverse();
    }
    Ok(())
}
