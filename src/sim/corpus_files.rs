//! Attachments and comments of the simulated site, derived from the content table.
//!
//! Every page and blog post gets a text attachment; every fourth one also an image; every
//! second one a comment titled `Re: <page title>`, as Confluence titles replies. An attachment
//! or comment of an item that is not shared carries that item's canary in its file name (or
//! title), its content and its body, so a leak of any of them is caught by the same oracle as
//! the page itself.
//!
//! Guarantees: ids are fixed by the page ids (`att<page id><n>` for attachments, `5<page id>`
//! for comments) and never collide with page ids (they are longer). Deliberately not: versions
//! of attachments, nested comment replies, inline comments.

use super::corpus::SimItem;

/// A file attached to a page or blog post.
#[derive(Debug, Clone)]
pub struct SimAttachment {
    /// Confluence's attachment id, `att` followed by digits.
    pub id: String,
    /// The page (or blog post) the file is attached to.
    pub page_id: String,
    /// The file name: the attachment's `title`. Carries the page's canary when not shared.
    pub file_name: String,
    /// The media type, e.g. `text/plain`.
    pub media_type: &'static str,
    /// The file's bytes (carry the page's canary when not shared).
    pub data: Vec<u8>,
}

/// A footer comment on a page or blog post.
#[derive(Debug, Clone)]
pub struct SimComment {
    /// Numeric content id.
    pub id: String,
    /// The page (or blog post) commented on.
    pub page_id: String,
    /// `Re: <page title>`.
    pub title: String,
    /// Plain text of the comment (carries the page's canary when not shared).
    pub text: String,
}

/// A tiny valid PNG (1×1, transparent), followed by nothing: enough for `image/png` clients.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The attachments and comments of `items`.
pub(super) fn generate(items: &[SimItem]) -> (Vec<SimAttachment>, Vec<SimComment>) {
    let mut attachments = Vec::new();
    let mut comments = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let tag = item.canary.clone().unwrap_or_else(|| item.id.clone());
        attachments.push(SimAttachment {
            id: format!("att{}1", item.id),
            page_id: item.id.clone(),
            file_name: format!("notes-{tag}.txt"),
            media_type: "text/plain",
            // The item's own text only: the index text also holds linked pages' titles.
            data: format!(
                "Notes for {}\n{}\n",
                item.title,
                item.text.lines().next().unwrap_or_default()
            )
            .into_bytes(),
        });
        if n % 4 == 0 {
            let mut data = PNG_1X1.to_vec();
            // Trailing bytes after IEND are ignored by image decoders; they carry the canary.
            data.extend_from_slice(tag.as_bytes());
            attachments.push(SimAttachment {
                id: format!("att{}2", item.id),
                page_id: item.id.clone(),
                file_name: format!("diagram {tag}.png"),
                media_type: "image/png",
                data,
            });
        }
        if n % 2 == 0 {
            comments.push(SimComment {
                id: format!("5{}", item.id),
                page_id: item.id.clone(),
                title: format!("Re: {}", item.title),
                text: format!("Thanks, this answered my question about {}.", item.title),
            });
        }
    }
    (attachments, comments)
}
