//! A small Atlassian Document Format (ADF) builder: an item's body as
//! `{"type":"doc","version":1,"content":[…]}`, for `body-format=atlas_doc_format`.
//!
//! Guarantees: mirrors `sim::body::storage` block by block — headings (`heading`, level 2),
//! paragraphs (`paragraph` of one `text`), the children macro as an `extension` node
//! (`extensionKey: "children"`), and a link to another item as a paragraph holding an
//! `inlineCard` (`attrs.url` = `{base}/wiki/spaces/KB/pages/{id}/{slug}`) and a `text` node named
//! by the linked item's **title** with a `link` mark to the same URL — so ADF bodies name linked
//! pages exactly where storage bodies do (`ri:content-title`). Deliberately not: marks other than
//! `link`, tables, media, or a general ADF validator.

use super::super::confluence::{webui, Ctx};
use super::super::corpus::{Block, SimItem};
use super::super::json::J;

fn text(value: &str) -> J {
    J::obj().with("type", "text").with("text", value)
}

fn paragraph(content: Vec<J>) -> J {
    J::obj()
        .with("type", "paragraph")
        .with("content", J::Arr(content))
}

fn doc(content: Vec<J>) -> J {
    J::obj()
        .with("type", "doc")
        .with("version", 1u32)
        .with("content", J::Arr(content))
}

fn children_macro(item_id: &str, n: usize) -> J {
    let macro_id = format!("{item_id}-{n}");
    let parameters = J::obj()
        .with(
            "macroParams",
            J::obj().with("all", J::obj().with("value", "true")),
        )
        .with(
            "macroMetadata",
            J::obj()
                .with("macroId", J::obj().with("value", macro_id.clone()))
                .with("schemaVersion", J::obj().with("value", "2"))
                .with("title", "Children Display"),
        );
    J::obj().with("type", "extension").with(
        "attrs",
        J::obj()
            .with("layout", "default")
            .with("extensionType", "com.atlassian.confluence.macro.core")
            .with("extensionKey", "children")
            .with("parameters", parameters)
            .with("localId", macro_id),
    )
}

/// An ADF `extension` node for the macro `key` with `parameters`.
fn extension(key: &str, parameters: J, macro_id: &str) -> J {
    J::obj().with("type", "extension").with(
        "attrs",
        J::obj()
            .with("layout", "default")
            .with("extensionType", "com.atlassian.confluence.macro.core")
            .with("extensionKey", key)
            .with("parameters", J::obj().with("macroParams", parameters))
            .with("localId", macro_id),
    )
}

/// The ADF document of `item`'s body (links resolved against the corpus, as the service account).
pub(crate) fn document(ctx: &Ctx<'_>, item: &SimItem) -> J {
    let mut content = Vec::with_capacity(item.blocks.len());
    for (n, block) in item.blocks.iter().enumerate() {
        match block {
            Block::Heading(h) => content.push(
                J::obj()
                    .with("type", "heading")
                    .with("attrs", J::obj().with("level", 2u32))
                    .with("content", J::Arr(vec![text(h)])),
            ),
            Block::Para(p) => content.push(paragraph(vec![text(p)])),
            Block::Children => content.push(children_macro(&item.id, n)),
            Block::Include(target) => {
                if let Some(t) = ctx.corpus.get(target) {
                    content.push(extension(
                        "include",
                        J::obj().with("", J::obj().with("value", t.title.clone())),
                        &format!("{}-{n}", item.id),
                    ));
                }
            }
            Block::ByLabel(label) => content.push(extension(
                "contentbylabel",
                J::obj().with(
                    "cql",
                    J::obj().with("value", format!("label = \"{label}\"")),
                ),
                &format!("{}-{n}", item.id),
            )),
            Block::ImageOf(target) => {
                if let Some(att) = ctx.corpus.attachments(target).into_iter().next() {
                    let media = J::obj().with("type", "media").with(
                        "attrs",
                        J::obj()
                            .with("type", "file")
                            .with(
                                "id",
                                format!("sim-file-{}", att.id.trim_start_matches("att")),
                            )
                            .with("collection", format!("contentId-{target}"))
                            .with("alt", att.file_name.clone()),
                    );
                    content.push(
                        J::obj()
                            .with("type", "mediaSingle")
                            .with("content", J::Arr(vec![media])),
                    );
                }
            }
            Block::Link(target) => {
                if let Some(t) = ctx.corpus.get(target) {
                    let url = format!("{}{}", ctx.wiki(), webui(t));
                    let card = J::obj()
                        .with("type", "inlineCard")
                        .with("attrs", J::obj().with("url", url.clone()));
                    let named = text(&t.title).with(
                        "marks",
                        J::Arr(vec![J::obj()
                            .with("type", "link")
                            .with("attrs", J::obj().with("href", url))]),
                    );
                    content.push(paragraph(vec![card, text(" "), named]));
                }
            }
        }
    }
    doc(content)
}

/// A one-paragraph ADF document of plain `value` (comment bodies).
pub(crate) fn plain_document(value: &str) -> J {
    doc(vec![paragraph(vec![text(value)])])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::corpus::{Corpus, ACME_UNDER_SHARED_ID, KB_HOME_ID, LINKS_TO_HIDDEN_ID};

    fn parsed(j: &J) -> serde_json::Value {
        serde_json::from_str(&j.to_json()).unwrap()
    }

    #[test]
    fn a_link_becomes_an_inline_card_and_a_linked_text_naming_the_target_title() {
        let corpus = Corpus::generate(7);
        let ctx = Ctx {
            corpus: &corpus,
            base_url: "http://127.0.0.1:9",
        };
        let item = corpus.get(LINKS_TO_HIDDEN_ID).unwrap();
        let target = corpus.get(ACME_UNDER_SHARED_ID).unwrap();
        let doc = parsed(&document(&ctx, item));
        assert_eq!(
            (doc["type"].as_str(), doc["version"].as_u64()),
            (Some("doc"), Some(1))
        );
        let url = format!("http://127.0.0.1:9/wiki{}", webui(target));
        assert!(url.starts_with("http://127.0.0.1:9/wiki/spaces/KB/pages/100005/"));
        let para = doc["content"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["content"][0]["attrs"]["url"] == url.as_str())
            .expect("an inlineCard to the acme page");
        assert_eq!(para["content"][0]["type"], "inlineCard");
        let named = &para["content"][2];
        assert_eq!(named["text"], target.title.as_str());
        assert_eq!(named["marks"][0]["type"], "link");
        assert_eq!(named["marks"][0]["attrs"]["href"], url.as_str());
    }

    #[test]
    fn headings_paragraphs_and_the_children_macro_are_adf_nodes() {
        let corpus = Corpus::generate(7);
        let ctx = Ctx {
            corpus: &corpus,
            base_url: "http://127.0.0.1:9",
        };
        let doc = parsed(&document(&ctx, corpus.get(KB_HOME_ID).unwrap()));
        let types: Vec<&str> = doc["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert!(types.contains(&"heading") && types.contains(&"paragraph"));
        let ext = doc["content"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["type"] == "extension")
            .expect("the children macro");
        assert_eq!(ext["attrs"]["extensionKey"], "children");
        assert_eq!(doc["content"][1]["attrs"]["level"], 2);
        assert_eq!(
            parsed(&plain_document("hi"))["content"][0]["content"][0]["text"],
            "hi"
        );
    }
}
