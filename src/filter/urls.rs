//! What a Confluence display URL in a search result points at: a content item, a space root, or
//! something kbgate cannot identify.
//!
//! Guarantees: only the exact forms below are recognised; everything else is
//! [`Target::Unknown`], which the filter drops (fail closed). A content URL's trailing title
//! slug must be one path segment, so the URL cannot smuggle a second target.
//! - `/spaces/KEY/pages/ID` and `/spaces/KEY/pages/ID/Title+Slug` → content `ID`
//! - `/pages/viewpage.action?pageId=ID` (no other parameter) → content `ID`
//! - `/spaces/KEY` and `/display/KEY` → space root
//!
//! Deliberately not recognised: `/display/KEY/Title` (names a page by title only), blog post
//! URLs, absolute URLs, anything with a fragment or extra query parameters.

use crate::ids::{ContentId, SpaceKey};

/// What a display URL identifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// A content item (page) by id.
    Content(ContentId),
    /// The root of a space.
    SpaceRoot,
    /// Not identifiable: drop whatever carries it.
    Unknown,
}

fn numeric_id(s: &str) -> Option<ContentId> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ContentId::new(s).ok()
}

fn is_space_key(s: &str) -> bool {
    SpaceKey::new(s).is_ok()
}

/// Classifies a display URL (already JSON-decoded).
pub(super) fn classify(url: &str) -> Target {
    if let Some(rest) = url.strip_prefix("/spaces/") {
        let (key, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if !is_space_key(key) {
            return Target::Unknown;
        }
        if tail.is_empty() && !rest.ends_with('/') {
            return Target::SpaceRoot;
        }
        let Some(after) = tail.strip_prefix("pages/") else {
            return Target::Unknown;
        };
        let (id, slug) = match after.split_once('/') {
            Some((id, slug)) => (id, Some(slug)),
            None => (after, None),
        };
        let slug_ok = slug.is_none_or(|s| !s.is_empty() && !s.contains(['/', '\\', '?', '#']));
        return match numeric_id(id) {
            Some(id) if slug_ok => Target::Content(id),
            _ => Target::Unknown,
        };
    }
    if let Some(key) = url.strip_prefix("/display/") {
        return if is_space_key(key) {
            Target::SpaceRoot
        } else {
            Target::Unknown
        };
    }
    if let Some(id) = url.strip_prefix("/pages/viewpage.action?pageId=") {
        return numeric_id(id).map_or(Target::Unknown, Target::Content);
    }
    Target::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(id: &str) -> Target {
        Target::Content(ContentId::new(id).unwrap())
    }

    #[test]
    fn page_urls_with_and_without_slug_name_their_page() {
        assert_eq!(classify("/spaces/KB/pages/123"), content("123"));
        assert_eq!(
            classify("/spaces/KB/pages/123/How+to+reset"),
            content("123")
        );
        assert_eq!(classify("/pages/viewpage.action?pageId=77"), content("77"));
    }

    #[test]
    fn space_roots_are_recognised_exactly() {
        assert_eq!(classify("/spaces/KB"), Target::SpaceRoot);
        assert_eq!(classify("/display/KB"), Target::SpaceRoot);
        assert_eq!(classify("/spaces/KB/"), Target::Unknown);
        assert_eq!(classify("/spaces/KB/overview"), Target::Unknown);
    }

    #[test]
    fn anything_ambiguous_is_unknown() {
        for url in [
            "/display/KB/Some+Title",
            "/spaces/KB/pages/12/slug/../../pages/99",
            "/spaces/KB/pages/12/slug?x=1",
            "/spaces/KB/pages/12/",
            "/spaces/KB/pages/abc/slug",
            "/spaces/K B/pages/12",
            "/pages/viewpage.action?pageId=12&title=x",
            "/pages/viewpage.action?pageId=",
            "https://site.atlassian.net/wiki/spaces/KB/pages/12",
            "/spaces/KB/blog/2024/01/01/12/Post",
            "",
        ] {
            assert_eq!(classify(url), Target::Unknown, "{url}");
        }
    }
}
