//! `GET /wiki/download/attachments/{pageId}/{fileName}`: an attachment's bytes, as the
//! `downloadLink` / `_links.download` of attachment objects point to (v1 and v2).
//!
//! Guarantees: the file name is percent-decoded once (as sent in those links) and matched
//! exactly; the answer carries the attachment's media type, its exact `Content-Length` and
//! `Content-Disposition: attachment; filename*=UTF-8''<encoded name>` (RFC 6266 / RFC 8187);
//! the query (`version`, `modificationDate`, `api`) is ignored; anything unknown answers 404
//! without echoing the name. Deliberately not: older versions, thumbnails, range requests.

use bytes::Bytes;

use super::confluence::{error_body, Ctx};
use super::faults::WikiRoute;
use super::http::Reply;

/// Path prefix of attachment downloads.
pub(crate) const PREFIX: &str = "/wiki/download/attachments/";

/// Percent-encodes `name` for `filename*=` (RFC 8187 `attr-char` kept, everything else `%XX`).
fn ext_value(name: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(name, KEEP).to_string()
}

/// Answers `path` if it is an attachment download (`None` otherwise).
pub(crate) fn route(ctx: &Ctx<'_>, path: &str) -> Option<(WikiRoute, Reply)> {
    let rest = path.strip_prefix(PREFIX)?;
    let not_found = || Reply::json(404, &error_body(404, "Attachment not found"));
    let found = rest.split_once('/').and_then(|(page_id, raw_name)| {
        let name = percent_encoding::percent_decode_str(raw_name)
            .decode_utf8()
            .ok()?;
        ctx.corpus.attachment_named(page_id, &name)
    });
    let reply = match found {
        None => not_found(),
        Some(att) => Reply {
            status: 200,
            content_type: att.media_type,
            body: Bytes::from(att.data.clone()),
            headers: vec![
                ("Content-Length", att.data.len().to_string()),
                (
                    "Content-Disposition",
                    format!("attachment; filename*=UTF-8''{}", ext_value(&att.file_name)),
                ),
            ],
        },
    };
    Some((WikiRoute::Other, reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extended_file_name_keeps_attr_chars_and_encodes_the_rest() {
        assert_eq!(ext_value("notes-1.txt"), "notes-1.txt");
        assert_eq!(ext_value("diagram a é.png"), "diagram%20a%20%C3%A9.png");
        assert_eq!(ext_value("a;b\"c"), "a%3Bb%22c");
    }
}
