//! The sub-resources of a page: `pages/{id}/children` (deprecated), `direct-children`,
//! `descendants`, `ancestors`, `labels`, `attachments` and `footer-comments`.
//!
//! Guarantees: children come in child-position order and descendants top to bottom (every depth-1
//! page, then every depth-2 page, …) down to `depth` (1–5, default 2 as in the spec); ancestors
//! are root first, ids and types only, the `limit` nearest ones; a page's labels come in its own
//! label order unless `sort` says otherwise; attachments carry their file names (with the page's
//! canary when it is not shared) and download links. Only page ids are accepted (a blog post id
//! answers 404). Deliberately not: folders, whiteboards or other hierarchical types, inline
//! comments, comment replies.

use super::super::corpus::{ContentKind, SimItem};
use super::lists::{sort_items, sort_labels};
use super::paging::{self, DEFAULT_LIMIT};
use super::shapes;
use super::{item_of, Req, V2Error, V2Result};

/// Most levels `descendants` goes down.
const MAX_DEPTH: usize = 5;
/// `depth` of `descendants` when the request names none (the spec's default).
const DEFAULT_DEPTH: usize = 2;
/// Default `limit` of `attachments` (the spec's default).
const ATTACHMENTS_LIMIT: usize = 50;

/// `GET pages/{id}/{sub}`.
pub(super) fn sub_resource(req: &Req<'_>, raw: &str, sub: &str) -> V2Result {
    let page = item_of(req.ctx, raw, ContentKind::Page)?;
    match sub {
        "children" => children(req, page, false),
        "direct-children" => children(req, page, true),
        "descendants" => descendants(req, page),
        "ancestors" => ancestors(req, page),
        "labels" => labels(req, page),
        "attachments" => attachments(req, page),
        "footer-comments" => footer_comments(req, page),
        _ => Err(V2Error::NotFound),
    }
}

fn children(req: &Req<'_>, page: &SimItem, direct: bool) -> V2Result {
    let corpus = req.ctx.corpus;
    let mut items = corpus.children(&page.id);
    sort_items(req, &mut items, "child-position")?;
    paging::list(req, &items, DEFAULT_LIMIT, |c| {
        if direct {
            shapes::child(corpus, c)
        } else {
            shapes::child_page(req.ctx, c)
        }
    })
}

fn descendants(req: &Req<'_>, page: &SimItem) -> V2Result {
    let depth = match req.params.get("depth").map(str::trim) {
        None | Some("") => DEFAULT_DEPTH,
        Some(v) => match v.parse::<usize>() {
            Ok(d) if (1..=MAX_DEPTH).contains(&d) => d,
            _ => {
                return Err(V2Error::bad(format!(
                    "Provided value {v} for 'depth' is not valid: it must be between 1 and 5"
                )))
            }
        },
    };
    let corpus = req.ctx.corpus;
    let mut found: Vec<(&SimItem, usize)> = Vec::new();
    let mut level = vec![page];
    for d in 1..=depth {
        let mut next = Vec::new();
        for parent in &level {
            for child in corpus.children(&parent.id) {
                found.push((child, d));
                next.push(child);
            }
        }
        if next.is_empty() || found.len() > corpus.items().len() {
            break;
        }
        level = next;
    }
    paging::list(req, &found, DEFAULT_LIMIT, |(item, d)| {
        shapes::descendant(corpus, item, *d)
    })
}

fn ancestors(req: &Req<'_>, page: &SimItem) -> V2Result {
    let limit = paging::limit(req, DEFAULT_LIMIT)?;
    let all = req.ctx.corpus.ancestors(&page.id);
    let skip = all.len().saturating_sub(limit);
    let results = all.iter().skip(skip).map(|a| shapes::ancestor(a)).collect();
    paging::unpaged(req, results)
}

fn labels(req: &Req<'_>, page: &SimItem) -> V2Result {
    let prefix_ok = match req.params.get("prefix").map(str::trim) {
        None | Some("") | Some("global") => true,
        Some("my" | "team" | "system") => false,
        Some(v) => {
            return Err(V2Error::bad(format!(
                "Provided value {v} for 'prefix' is not valid"
            )))
        }
    };
    let ids = shapes::label_ids(req.ctx.corpus);
    let mut labels: Vec<(u64, &str)> = page
        .labels
        .iter()
        .filter(|_| prefix_ok)
        .map(|l| (ids.get(l.as_str()).copied().unwrap_or(0), l.as_str()))
        .collect();
    sort_labels(req, &mut labels, true)?;
    paging::list(req, &labels, DEFAULT_LIMIT, |(id, name)| {
        shapes::label(*id, name)
    })
}

fn current_only(req: &Req<'_>, valid: &[&str]) -> Result<bool, V2Error> {
    let statuses = req.values("status");
    if let Some(bad) = statuses.iter().find(|s| !valid.contains(s)) {
        return Err(V2Error::bad(format!(
            "Provided value {bad} for 'status' is not valid"
        )));
    }
    Ok(statuses.is_empty() || statuses.contains(&"current"))
}

fn attachments(req: &Req<'_>, page: &SimItem) -> V2Result {
    let listed = current_only(req, &["current", "archived", "trashed"])?;
    let media_type = req.params.get("mediaType");
    let file_name = req.params.get("filename");
    let all: Vec<_> = req
        .ctx
        .corpus
        .attachments(&page.id)
        .into_iter()
        .filter(|_| listed)
        .filter(|a| media_type.is_none_or(|m| a.media_type == m))
        .filter(|a| file_name.is_none_or(|f| a.file_name == f))
        .collect();
    paging::list(req, &all, ATTACHMENTS_LIMIT, |a| {
        shapes::attachment(page, a)
    })
}

fn footer_comments(req: &Req<'_>, page: &SimItem) -> V2Result {
    let format = req.body_format(&["storage", "atlas_doc_format"])?;
    let listed = current_only(
        req,
        &[
            "current",
            "archived",
            "trashed",
            "deleted",
            "historical",
            "draft",
        ],
    )?;
    let all: Vec<_> = req
        .ctx
        .corpus
        .comments(&page.id)
        .into_iter()
        .filter(|_| listed)
        .collect();
    paging::list(req, &all, DEFAULT_LIMIT, |c| {
        shapes::comment(page, c, format)
    })
}
