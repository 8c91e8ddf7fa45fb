//! The renderer on real bodies (Confluence's samples and the simulator's storage bodies,
//! fetched over HTTP the way kbgate receives them) and its bounds (size, depth, output).

use super::render::*;
use super::render_tests::{article_url, assert_safe, attachment_url, render, render_err};

#[test]
fn confluence_sample_bodies_render_as_expected() {
    // Storage values copied from /work/shared/confluence-samples/.
    let by_id = "<h2><ac:emoticon ac:name=\"blue-star\" />&nbsp;Date</h2><p><time datetime=\"2024-01-01\" /></p><h2><ac:emoticon ac:name=\"blue-star\" />&nbsp;Participants</h2><ul><li><p><ac:link><ri:user ri:account-id=\"user123\" /></ac:link></p></li></ul><h2><ac:emoticon ac:name=\"blue-star\" />&nbsp;Goals</h2><ul><li><p>Example goal</p></li></ul><p><ac:structured-macro ac:name=\"profile\"><ac:parameter ac:name=\"user\"><ri:user ri:account-id=\"user123\" /></ac:parameter></ac:structured-macro></p>";
    assert_eq!(
        render(by_id),
        "<h2>\u{a0}Date</h2><p></p><h2>\u{a0}Participants</h2><ul><li><p></p></li></ul>\
         <h2>\u{a0}Goals</h2><ul><li><p>Example goal</p></li></ul><p></p>"
    );
    let space_pages = "<h3>[Date]</h3><p><em>Result</em>: Sample Result</p><p><em>Reviews</em>: </p><p>Sample content with various formatting</p>";
    assert_eq!(render(space_pages), space_pages);
    let v2 = "<p>Steps...</p><ac:structured-macro ac:name=\"children\"/>";
    assert!(render(v2).starts_with("<p>Steps...</p><ul class=\"kb-children\"><li>"));
}

#[test]
fn oversized_input_is_refused() {
    let big = format!("<p>{}</p>", "a".repeat(MAX_INPUT_BYTES));
    assert_eq!(render_err(&big), RenderError::TooLarge);
}

#[test]
fn nesting_deeper_than_the_cap_is_refused_and_just_under_it_renders() {
    let deep = format!(
        "{}{}",
        "<div>".repeat(MAX_DEPTH + 1),
        "</div>".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(render_err(&deep), RenderError::TooDeep);
    let ok = format!(
        "{}x{}",
        "<div>".repeat(MAX_DEPTH),
        "</div>".repeat(MAX_DEPTH)
    );
    assert_eq!(render(&ok), ok);
}

#[test]
fn output_grows_linearly_with_input() {
    let unit = "<p>a &amp; <strong>b</strong> <ac:link><ri:page ri:content-title=\"Visible x\"/></ac:link></p>";
    let small = render(&unit.repeat(100)).len();
    let large = render(&unit.repeat(1000)).len();
    assert_eq!(large, small * 10);
}

#[test]
fn output_beyond_the_cap_is_refused_rather_than_truncated() {
    let kids = vec![("t".repeat(1024 * 1024), "/kb/articles/1".to_owned())];
    let ctx = RenderContext {
        article_url: &article_url,
        attachment_url: &attachment_url,
        children: &kids,
        listings: &[],
    };
    let body = "<ac:structured-macro ac:name=\"children\"/>".repeat(40);
    assert_eq!(
        render_storage(&body, &ctx),
        Err(RenderError::OutputTooLarge)
    );
    assert!(render_storage(&body[..body.len() / 2], &ctx).is_ok());
}

mod simulator {
    use std::collections::HashMap;

    use bytes::Bytes;
    use http_body_util::{BodyExt as _, Empty};
    use hyper::Request;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    use tokio::net::TcpListener;

    use super::*;
    use crate::sim::{self, SimOptions};

    /// Each item's storage body, as the simulator serves it to the service account.
    async fn storage_bodies(sim: &sim::SimHandle) -> Vec<(String, String)> {
        use base64::Engine as _;
        let o = SimOptions::default();
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", o.service_email, o.service_token));
        let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
        let mut out = Vec::new();
        for item in sim.corpus().items() {
            let req = Request::get(format!(
                "{}/wiki/rest/api/content/{}?expand=body.storage",
                sim.base_url(),
                item.id
            ))
            .header("authorization", format!("Basic {basic}"))
            .body(Empty::new())
            .unwrap();
            let resp = client.request(req).await.unwrap();
            assert!(resp.status().is_success(), "{}", item.id);
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let body = doc["body"]["storage"]["value"].as_str().unwrap().to_owned();
            out.push((item.id.clone(), body));
        }
        out
    }

    #[tokio::test]
    async fn simulator_bodies_render_without_any_hidden_pages_title() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = sim::start(listener, SimOptions::default()).await.unwrap();
        let corpus = sim.corpus();
        let bodies = storage_bodies(&sim).await;
        let shared_by_title: HashMap<&str, &str> = corpus
            .items()
            .iter()
            .filter(|i| i.canary.is_none())
            .map(|i| (i.title.as_str(), i.id.as_str()))
            .collect();
        // The caller sees exactly the shared items.
        let article_url = |t: &LinkTarget| match t {
            LinkTarget::ByTitle { title, .. } => shared_by_title
                .get(title.as_str())
                .map(|id| format!("/kb/articles/{id}")),
            LinkTarget::ById(id) => corpus
                .get(id.as_str())
                .filter(|i| i.canary.is_none())
                .map(|i| format!("/kb/articles/{}", i.id)),
        };
        let attachment_url = |a: &AttachmentRef| {
            let page_ok = a.page.as_ref().is_none_or(|p| article_url(p).is_some());
            page_ok.then(|| format!("/kb/files/{}", a.file_name))
        };
        let hidden = |_: &LinkTarget| None;
        let hidden_att = |_: &AttachmentRef| None;
        let mut links_to_hidden = 0;
        let (mut visible_links, mut children_lists, mut images) = (0, 0, 0);
        for (id, body) in &bodies {
            let item = corpus.get(id).unwrap();
            let kids: Vec<(String, String)> = corpus
                .children(id)
                .into_iter()
                .filter(|c| c.canary.is_none())
                .map(|c| (c.title.clone(), format!("/kb/articles/{}", c.id)))
                .collect();
            let shared_view = RenderContext {
                article_url: &article_url,
                attachment_url: &attachment_url,
                children: &kids,
                listings: &[],
            };
            let all_hidden = RenderContext {
                article_url: &hidden,
                attachment_url: &hidden_att,
                children: &[],
                listings: &[],
            };
            for ctx in [&shared_view, &all_hidden] {
                let html = render_storage(body, ctx).unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_safe(&html);
                if std::ptr::eq(ctx, &shared_view) {
                    visible_links += html.matches("<a href=\"/kb/articles/").count();
                    children_lists += html.matches("kb-children").count();
                    images += html.matches("<img src=\"/kb/files/").count();
                }
                let lower = html.to_ascii_lowercase();
                for other in corpus.items() {
                    let Some(canary) = &other.canary else {
                        continue;
                    };
                    if item.canary.as_ref() == Some(canary) {
                        continue;
                    }
                    assert!(
                        !lower.contains(&canary.to_ascii_lowercase()),
                        "{id} shows {canary}: {html}"
                    );
                    assert!(
                        !html.contains(&other.title),
                        "{id} shows {}: {html}",
                        other.title
                    );
                }
            }
            if corpus
                .items()
                .iter()
                .any(|o| o.canary.is_some() && o.canary != item.canary && body.contains(&o.title))
            {
                links_to_hidden += 1;
            }
        }
        // The check is not vacuous: some bodies name hidden pages, and visible links render.
        assert!(links_to_hidden > 0);
        assert!(
            visible_links > 0 && children_lists > 0,
            "{visible_links} {children_lists}"
        );
        // The corpus's only image is of a hidden page's attachment: it must render nothing.
        assert!(bodies.iter().any(|(_, b)| b.contains("<ac:image")));
        assert_eq!(images, 0);
        let links = corpus.get(sim::corpus::LINKS_TO_HIDDEN_ID).unwrap();
        assert!(bodies.iter().any(|(id, _)| id == &links.id));
    }
}
