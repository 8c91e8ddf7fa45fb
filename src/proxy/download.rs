//! `GET /wiki/download/attachments/{pageId}/{file}`: an attachment's bytes, streamed after the
//! decision on its page.
//!
//! Guarantees: the page is decided first — a hidden page's file and a missing one answer with
//! the same 404, and nothing is asked upstream for a hidden page; the upstream path is built
//! from the typed page id and the re-encoded file name (plus `version` when asked); the answer
//! is always a download (`Content-Disposition: attachment`, `nosniff`, a sandboxing CSP), so an
//! HTML or SVG attachment can never run script on kbgate's origin.
//!
//! Deliberately not done: thumbnails and previews, range requests.

use std::fmt::Write as _;

use crate::app::App;
use crate::confluence::Download;
use crate::filter::{self, FileKind};
use crate::policy::OrgSet;
use crate::route::{AttachmentDownloadQuery, DownloadQuery};

use super::{missing_on_404, require_visible, Answer, ProxyError};

/// A streamed answer: the file name (for `Content-Disposition`) and the upstream stream.
pub struct Streamed {
    /// The decoded file name the client asked for.
    pub file_name: String,
    /// The bytes and their type.
    pub download: Download,
}

/// Decides the page, then streams the file.
pub async fn download(
    app: &App,
    orgs: &OrgSet,
    q: &DownloadQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    require_visible(app, orgs, &q.page, request_id).await?;
    let path = upstream_path(app.upstream.api_prefix(), q);
    let download = app
        .upstream
        .download(&path, request_id)
        .await
        .map_err(missing_on_404)?;
    Ok(Answer {
        route: "download",
        stream: Some(Streamed {
            file_name: q.file_name.clone(),
            download,
        }),
        ..Default::default()
    })
}

/// Pages of the attachment list read to find an attachment by id (100 each).
const MAX_LIST_CALLS: u32 = 10;

/// `content/{page}/child/attachment/{id}/download`: the page decided, the attachment found in
/// the page's own list (so an id of another page's file is a 404), then streamed.
pub async fn by_id(
    app: &App,
    orgs: &OrgSet,
    q: &AttachmentDownloadQuery,
    request_id: &str,
) -> Result<Answer, ProxyError> {
    require_visible(app, orgs, &q.page, request_id).await?;
    let mut file_name = None;
    let mut start = 0u32;
    for _ in 0..MAX_LIST_CALLS {
        let path = format!(
            "/content/{}/child/attachment?start={start}&limit=100",
            q.page
        );
        let body = app
            .upstream
            .get_json(&path, request_id)
            .await
            .map_err(missing_on_404)?;
        let scan = filter::scan_file_list(&body, FileKind::Attachment, &q.page)?;
        file_name = scan
            .items()
            .find(|(id, _)| *id == q.attachment)
            .map(|(_, title)| title.to_owned());
        let sent = u32::try_from(scan.upstream_count()).unwrap_or(0);
        if file_name.is_some() || !scan.has_next() || sent == 0 {
            break;
        }
        start = start.saturating_add(sent);
    }
    let file_name = file_name.ok_or(ProxyError::NotFound)?;
    let path = format!(
        "{}/content/{}/child/attachment/{}/download",
        app.upstream.api_prefix(),
        q.page,
        q.attachment
    );
    let download = app
        .upstream
        .download(&path, request_id)
        .await
        .map_err(missing_on_404)?;
    Ok(Answer {
        route: "attachment_download",
        stream: Some(Streamed {
            file_name,
            download,
        }),
        ..Default::default()
    })
}

/// `{context}/download/attachments/{page}/{file}[?version=N]` — the context is `/wiki` on Cloud
/// and empty on Data Center.
fn upstream_path(api_prefix: &str, q: &DownloadQuery) -> String {
    let mut path = super::links::site_download_path(api_prefix, &q.page, &q.file_name);
    if let Some(version) = q.version {
        // Writing to a String cannot fail.
        let _ = write!(path, "?version={version}");
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ContentId;

    #[test]
    fn the_upstream_path_re_encodes_the_file_name() {
        let mut q = DownloadQuery {
            page: ContentId::new("100005").unwrap(),
            file_name: "diagram ?#%.png".into(),
            version: None,
        };
        assert_eq!(
            upstream_path("/wiki/rest/api", &q),
            "/wiki/download/attachments/100005/diagram%20%3F%23%25.png"
        );
        q.version = Some(3);
        assert_eq!(
            upstream_path("/rest/api", &q),
            "/download/attachments/100005/diagram%20%3F%23%25.png?version=3"
        );
    }
}
