//! kbgate's URLs of a page's other children, of space content and of attachment downloads.

use std::fmt::Write as _;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::ids::{ContentId, SpaceKey};
use crate::route::ChildFilesQuery;

use super::Links;

/// Everything but RFC 3986 unreserved characters is escaped in a file-name path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/download/attachments/{page}/{file}` with the file name escaped as one path segment: the
/// same path below kbgate's base and below Confluence's context.
fn download_path(page: &ContentId, file_name: &str) -> String {
    let mut path = String::with_capacity(64);
    write_download_path(&mut path, page, file_name);
    path
}

/// [`download_path`] below the site's context (`/wiki` on Cloud, empty on Data Center), which
/// `api_prefix` (`/wiki/rest/api` or `/rest/api`) starts with.
pub(in crate::proxy) fn site_download_path(
    api_prefix: &str,
    page: &ContentId,
    file_name: &str,
) -> String {
    let context = api_prefix.strip_suffix("/rest/api").unwrap_or("");
    let mut path = String::with_capacity(96);
    path.push_str(context);
    write_download_path(&mut path, page, file_name);
    path
}

fn write_download_path(out: &mut String, page: &ContentId, file_name: &str) {
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "/download/attachments/{page}/{}",
        utf8_percent_encode(file_name, SEGMENT)
    );
}

impl Links {
    /// `content/{id}/child/{attachment|comment}` with paging (and `filename` when given).
    pub fn child_files(&self, q: &ChildFilesQuery, start: u32) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("start", &start.to_string())
            .append_pair("limit", &q.limit.to_string());
        if let Some(name) = &q.filename {
            query.append_pair("filename", name);
        }
        format!(
            "{}{}/content/{}/child/{}?{}",
            self.public_url,
            self.api_prefix,
            q.id,
            q.kind.wire(),
            query.finish()
        )
    }

    /// `content/{id}/child` or `content/{id}/descendant` (`segment`).
    pub fn child_map(&self, id: &ContentId, segment: &str) -> String {
        format!(
            "{}{}/content/{id}/{segment}",
            self.public_url, self.api_prefix
        )
    }

    /// `space/{key}/content`.
    pub fn space_content(&self, key: &SpaceKey) -> String {
        format!("{}{}/space/{key}/content", self.public_url, self.api_prefix)
    }

    /// kbgate's download link of the attachment `file_name` of page `page`, relative to
    /// `_links.base` as Confluence writes it (`/download/attachments/{page}/{file}`), so clients
    /// that join it to the base reach kbgate.
    pub fn download(&self, page: &ContentId, file_name: &str) -> String {
        download_path(page, file_name)
    }

    /// The absolute URL of [`Links::download`].
    pub fn download_url(&self, page: &ContentId, file_name: &str) -> String {
        format!("{}{}", self.api_base(), self.download(page, file_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_links_escape_the_file_name_as_one_segment() {
        let links = Links::new("https://kb.example.com/", "/wiki/rest/api");
        let page = ContentId::new("100005").unwrap();
        assert_eq!(
            links.download(&page, "diagram CANARY/x?.png"),
            "/download/attachments/100005/diagram%20CANARY%2Fx%3F.png"
        );
        assert_eq!(
            links.download_url(&page, "a b"),
            "https://kb.example.com/wiki/download/attachments/100005/a%20b"
        );
        let dc = Links::new("https://kb.example.com", "/rest/api");
        assert_eq!(
            dc.download_url(&page, "a.txt"),
            "https://kb.example.com/download/attachments/100005/a.txt"
        );
        assert_eq!(
            links.space_content(&SpaceKey::new("KB").unwrap()),
            "https://kb.example.com/wiki/rest/api/space/KB/content"
        );
    }
}
