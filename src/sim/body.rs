//! Page bodies in Confluence's formats: `storage` (XHTML with `ac:`/`ri:` elements, as stored)
//! and `view` (as Confluence renders it, running macros **as the service account**).
//!
//! Guarantees: the view rendering behaves like Confluence's — the `children` macro lists every
//! child's title and `<ac:link>` becomes an anchor with the target's title — so a proxy that
//! passes rendered bodies through leaks other organizations' titles, which is what kbgate's
//! tests must catch. Storage names linked pages by title (`ri:content-title`), as Confluence does.
//! Deliberately not: a general XHTML renderer; only the blocks the corpus uses.

use super::confluence::webui;
use super::corpus::{Block, Corpus, SimItem};

/// Escapes text for XHTML element content and attribute values.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The storage-format body of `item`.
pub(crate) fn storage(corpus: &Corpus, item: &SimItem) -> String {
    let mut out = String::new();
    for (n, block) in item.blocks.iter().enumerate() {
        match block {
            Block::Heading(h) => out.push_str(&format!("<h2>{}</h2>", escape_xml(h))),
            Block::Para(p) => out.push_str(&format!("<p>{}</p>", escape_xml(p))),
            Block::Children => out.push_str(&format!(
                "<p><ac:structured-macro ac:name=\"children\" ac:schema-version=\"2\" \
                 ac:macro-id=\"{}-{n}\"><ac:parameter ac:name=\"all\">true</ac:parameter>\
                 </ac:structured-macro></p>",
                item.id
            )),
            Block::Link(target) => {
                if let Some(t) = corpus.get(target) {
                    out.push_str(&format!(
                        "<p><ac:link><ri:page ri:space-key=\"{}\" ri:content-title=\"{}\" />\
                         </ac:link></p>",
                        escape_xml(&t.space_key),
                        escape_xml(&t.title)
                    ));
                }
            }
            Block::Include(target) => {
                if let Some(t) = corpus.get(target) {
                    out.push_str(&format!(
                        "<ac:structured-macro ac:name=\"include\" ac:schema-version=\"1\" \
                         ac:macro-id=\"{}-{n}\"><ac:parameter ac:name=\"\"><ac:link>\
                         <ri:page ri:space-key=\"{}\" ri:content-title=\"{}\" /></ac:link>\
                         </ac:parameter></ac:structured-macro>",
                        item.id,
                        escape_xml(&t.space_key),
                        escape_xml(&t.title)
                    ));
                }
            }
            Block::ByLabel(label) => out.push_str(&format!(
                "<ac:structured-macro ac:name=\"contentbylabel\" ac:schema-version=\"3\" \
                 ac:macro-id=\"{}-{n}\"><ac:parameter ac:name=\"cql\">label = &quot;{}&quot;\
                 </ac:parameter></ac:structured-macro>",
                item.id,
                escape_xml(label)
            )),
            Block::ImageOf(target) => {
                let first = corpus.attachments(target).into_iter().next();
                if let (Some(t), Some(att)) = (corpus.get(target), first) {
                    out.push_str(&format!(
                        "<p><ac:image ac:alt=\"\"><ri:attachment ri:filename=\"{}\">\
                         <ri:page ri:space-key=\"{}\" ri:content-title=\"{}\" />\
                         </ri:attachment></ac:image></p>",
                        escape_xml(&att.file_name),
                        escape_xml(&t.space_key),
                        escape_xml(&t.title)
                    ));
                }
            }
        }
    }
    out
}

/// The body as Confluence's `view` renderer would produce it for the service account.
pub(crate) fn view(corpus: &Corpus, item: &SimItem) -> String {
    let mut out = String::new();
    for block in &item.blocks {
        match block {
            Block::Heading(h) => {
                let anchor: String = h.chars().filter(|c| c.is_alphanumeric()).collect();
                out.push_str(&format!(
                    "<h2 id=\"{}\">{}</h2>",
                    escape_xml(&anchor),
                    escape_xml(h)
                ));
            }
            Block::Para(p) => out.push_str(&format!("<p>{}</p>", escape_xml(p))),
            Block::Children => {
                out.push_str("<ul class=\"childpages-macro\">");
                for child in corpus.children(&item.id) {
                    out.push_str(&format!("<li>{}</li>", anchor(child)));
                }
                out.push_str("</ul>");
            }
            Block::Link(target) => match corpus.get(target) {
                Some(t) => out.push_str(&format!("<p>{}</p>", anchor(t))),
                None => out.push_str("<p><span class=\"unresolved\">link</span></p>"),
            },
            // As the service account: the included page's whole body.
            Block::Include(target) => {
                if let Some(t) = corpus.get(target) {
                    out.push_str(&format!("<div class=\"include\">{}</div>", view(corpus, t)));
                }
            }
            Block::ByLabel(label) => {
                out.push_str("<ul class=\"content-by-label\">");
                for i in corpus.items().iter().filter(|i| i.labels.contains(label)) {
                    out.push_str(&format!("<li>{}</li>", anchor(i)));
                }
                out.push_str("</ul>");
            }
            Block::ImageOf(target) => {
                if let Some(att) = corpus.attachments(target).into_iter().next() {
                    out.push_str(&format!(
                        "<p><img src=\"/wiki/download/attachments/{target}/{}\" alt=\"{}\"></p>",
                        escape_xml(&att.file_name),
                        escape_xml(&att.file_name)
                    ));
                }
            }
        }
    }
    out
}

fn anchor(item: &SimItem) -> String {
    format!(
        "<a href=\"/wiki{}\" data-linked-resource-id=\"{}\" data-linked-resource-version=\"{}\" \
         data-linked-resource-type=\"{}\">{}</a>",
        escape_xml(&webui(item)),
        item.id,
        item.version,
        item.kind.as_str(),
        escape_xml(&item.title)
    )
}
