//! JSON builders for Confluence Cloud REST v1 objects, in the shapes of
//! `/work/shared/confluence-samples/` (`cloud-v1-content-by-id*.json`, `cloud-v1-search*.json`,
//! `cloud-v1-content-labels.json`): URL slugs, spaces, labels, users, versions, history, search
//! results and error bodies (content objects themselves are built in `content`).
//!
//! Guarantees: field names, nesting and key order follow the samples; every title-bearing place a
//! real server fills (`title`, `_links.webui`/`tinyui` slugs, `ancestors`, `children`,
//! `container`, `space.homepage`, `breadcrumbs`, `resultParentContainer`) is filled from the
//! corpus, so leaks through any of them are observable. Deliberately not: kbgate's types — these
//! builders know only the corpus and raw JSON, so they are an independent oracle.

use base64::Engine as _;

use super::corpus::{ContentKind, Corpus, SimItem, SimSpace};
use super::dates;
use super::json::J;

pub(crate) use super::content::{content, content_page};

/// What a builder needs to know about the running site.
pub(crate) struct Ctx<'a> {
    pub corpus: &'a Corpus,
    /// `http://127.0.0.1:PORT` (no `/wiki`).
    pub base_url: &'a str,
}

impl Ctx<'_> {
    /// `http://127.0.0.1:PORT/wiki`, the `_links.base` of every answer.
    pub(crate) fn wiki(&self) -> String {
        format!("{}/wiki", self.base_url)
    }
}

/// Which content object shape to build: the default of `GET /content/{id}` or the reduced one
/// that search results carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    ById,
    Search,
}

/// A parsed `expand=` parameter: dotted paths, matched by prefix.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expand {
    paths: Vec<String>,
}

impl Expand {
    /// Parses a comma-separated `expand` value (empty parts ignored).
    pub(crate) fn parse(value: &str) -> Self {
        let paths = value
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned);
        Expand {
            paths: paths.collect(),
        }
    }

    /// Whether `path` or anything below it is expanded.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.paths.iter().any(|p| {
            p == path || (p.starts_with(path) && p.as_bytes().get(path.len()) == Some(&b'.'))
        })
    }

    /// The expansions below `path` (`ancestors.space` → `space` for `sub("ancestors")`).
    pub(crate) fn sub(&self, path: &str) -> Expand {
        let prefix = format!("{path}.");
        let paths = self
            .paths
            .iter()
            .filter_map(|p| p.strip_prefix(&prefix))
            .map(str::to_owned);
        Expand {
            paths: paths.collect(),
        }
    }
}

/// Confluence's URL slug for a title: spaces → `+`, URL-unsafe punctuation dropped, non-ASCII
/// percent-encoded (`2024-01-01: Team Meeting` → `2024-01-01+Team+Meeting`).
pub(crate) fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
            out.push(c);
        } else if c.is_whitespace() {
            if !out.ends_with('+') {
                out.push('+');
            }
        } else if !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out.trim_matches('+').to_owned()
}

/// `_links.webui` of an item: `/spaces/KB/pages/ID/Slug` or `/spaces/KB/blog/Y/M/D/ID/Slug`.
pub(crate) fn webui(item: &SimItem) -> String {
    match item.kind {
        ContentKind::Page => {
            format!(
                "/spaces/{}/pages/{}/{}",
                item.space_key,
                item.id,
                slug(&item.title)
            )
        }
        ContentKind::BlogPost => {
            let (y, m, d) = dates::ymd(item.created);
            let s = slug(&item.title);
            format!(
                "/spaces/{}/blog/{y:04}/{m:02}/{d:02}/{}/{s}",
                item.space_key, item.id
            )
        }
    }
}

/// `_links.tinyui`: the id's little-endian bytes in URL-safe base64, as Confluence encodes it
/// (`64290828` → `/x/DADVAw`).
pub(crate) fn tinyui(id: &str) -> String {
    let n: u64 = id.parse().unwrap_or(0);
    let bytes = n.to_le_bytes();
    let used = bytes.iter().rposition(|b| *b != 0).map_or(1, |i| i + 1);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(bytes.get(..used).unwrap_or(&bytes));
    format!("/x/{encoded}")
}

/// Confluence's error body: `{"statusCode":…,"data":{…},"message":…}`.
pub(crate) fn error_body(status: u16, message: &str) -> J {
    J::obj()
        .with("statusCode", u32::from(status))
        .with(
            "data",
            J::obj()
                .with("authorized", false)
                .with("valid", true)
                .with("errors", J::Arr(Vec::new()))
                .with("successful", false),
        )
        .with("message", message)
}

fn user(ctx: &Ctx<'_>) -> J {
    J::obj()
        .with("type", "known")
        .with("accountId", "557058:sim-writer")
        .with("accountType", "atlassian")
        .with("email", "")
        .with("publicName", "Support Writer")
        .with(
            "profilePicture",
            J::obj()
                .with("path", "/wiki/aa-avatar/557058:sim-writer")
                .with("width", 48u32)
                .with("height", 48u32)
                .with("isDefault", false),
        )
        .with("displayName", "Support Writer")
        .with("isExternalCollaborator", false)
        .with("isGuest", false)
        .with("locale", "en_US")
        .with("accountStatus", "active")
        .with(
            "_expandable",
            J::obj().with("operations", "").with("personalSpace", ""),
        )
        .with(
            "_links",
            J::obj().with(
                "self",
                format!("{}/rest/api/user?accountId=557058:sim-writer", ctx.wiki()),
            ),
        )
}

/// A space object (`content.space`, `container`), with `homepage` expandable below it.
pub(crate) fn space(ctx: &Ctx<'_>, space: &SimSpace, expand: &Expand) -> J {
    let key = &space.key;
    let mut out = J::obj()
        .with("id", space.id)
        .with("key", key)
        .with("alias", key)
        .with("name", &space.name)
        .with("type", "global")
        .with("status", "current");
    let mut exp = J::obj()
        .with("settings", format!("/rest/api/space/{key}/settings"))
        .with("metadata", "")
        .with("operations", "")
        .with(
            "lookAndFeel",
            format!("/rest/api/settings/lookandfeel?spaceKey={key}"),
        )
        .with("identifiers", "")
        .with("permissions", "")
        .with("roles", "")
        .with("icon", "")
        .with("description", "")
        .with("theme", format!("/rest/api/space/{key}/theme"))
        .with("history", "")
        .with(
            "homepage",
            format!("/rest/api/content/{}", space.homepage_id),
        );
    if expand.has("homepage") {
        if let Some(home) = ctx.corpus.get(&space.homepage_id) {
            out.push(
                "homepage",
                content(ctx, home, &expand.sub("homepage"), Shape::ById),
            );
            exp.remove("homepage");
        }
    }
    out.with("_expandable", exp).with(
        "_links",
        J::obj()
            .with("webui", format!("/spaces/{key}"))
            .with("self", format!("{}/rest/api/space/{key}", ctx.wiki())),
    )
}

fn label_id(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (4_000_000 + h % 1_000_000).to_string()
}

/// The label list of an item (`metadata.labels` and `GET /content/{id}/label`).
pub(crate) fn labels(ctx: &Ctx<'_>, item: &SimItem, with_base: bool) -> J {
    let results: Vec<J> = item
        .labels
        .iter()
        .map(|l| {
            J::obj()
                .with("prefix", "global")
                .with("name", l)
                .with("id", label_id(l))
                .with("label", l)
        })
        .collect();
    let mut links = J::obj().with(
        "self",
        format!("{}/rest/api/content/{}/label", ctx.wiki(), item.id),
    );
    if with_base {
        links.push("base", ctx.wiki());
        links.push("context", "/wiki");
    }
    J::obj()
        .with("results", J::Arr(results.clone()))
        .with("start", 0u32)
        .with("limit", 200u32)
        .with("size", results.len())
        .with("_links", links)
}

pub(super) fn version(ctx: &Ctx<'_>, item: &SimItem) -> J {
    J::obj()
        .with("by", user(ctx))
        .with("when", dates::iso8601(item.last_modified))
        .with("friendlyWhen", dates::friendly(item.last_modified))
        .with("message", "")
        .with("number", item.version)
        .with("minorEdit", false)
        .with("ncsStepVersion", "1")
        .with("ncsStepVersionSource", "ncs-ack")
        .with(
            "confRev",
            format!("confluence$content${}.{}", item.id, item.version),
        )
        .with("contentTypeModified", false)
        .with(
            "_expandable",
            J::obj()
                .with("collaborators", "")
                .with("content", format!("/rest/api/content/{}", item.id)),
        )
        .with(
            "_links",
            J::obj().with(
                "self",
                format!(
                    "{}/rest/api/content/{}/version/{}",
                    ctx.wiki(),
                    item.id,
                    item.version
                ),
            ),
        )
}

pub(super) fn history(ctx: &Ctx<'_>, item: &SimItem) -> J {
    J::obj()
        .with("latest", true)
        .with("createdBy", user(ctx))
        .with("createdDate", dates::iso8601(item.created))
        .with(
            "_expandable",
            J::obj()
                .with("lastUpdated", "")
                .with("previousVersion", "")
                .with("contributors", "")
                .with("nextVersion", ""),
        )
        .with(
            "_links",
            J::obj().with(
                "self",
                format!("{}/rest/api/content/{}/history", ctx.wiki(), item.id),
            ),
        )
}

/// One entry of a search answer's `results[]`.
pub(crate) fn search_result(
    ctx: &Ctx<'_>,
    item: &SimItem,
    content_expand: &Expand,
    title: String,
    excerpt: String,
    score: f64,
) -> J {
    let ancestors = ctx.corpus.ancestors(&item.id);
    let mut out = J::obj()
        .with("content", content(ctx, item, content_expand, Shape::Search))
        .with("title", title)
        .with("excerpt", excerpt)
        .with("url", webui(item));
    if let Some(parent) = ancestors.last() {
        out.push(
            "resultParentContainer",
            J::obj()
                .with("title", &parent.title)
                .with("displayUrl", webui(parent)),
        );
    }
    let space_name = ctx
        .corpus
        .space(&item.space_key)
        .map_or(item.space_key.as_str(), |s| s.name.as_str());
    let crumbs: Vec<J> = ancestors
        .iter()
        .map(|a| {
            J::obj()
                .with("label", &a.title)
                .with("url", webui(a))
                .with("separator", ">")
        })
        .collect();
    out.with(
        "resultGlobalContainer",
        J::obj()
            .with("title", space_name)
            .with("displayUrl", format!("/spaces/{}", item.space_key)),
    )
    .with("breadcrumbs", J::Arr(crumbs))
    .with("entityType", "content")
    .with(
        "iconCssClass",
        format!("aui-icon content-type-{}", item.kind.as_str()),
    )
    .with("lastModified", dates::iso8601(item.last_modified))
    .with("friendlyLastModified", dates::friendly(item.last_modified))
    .with("score", score)
}
