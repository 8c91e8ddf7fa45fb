//! Every filtered route kbgate serves, as one request each, aimed at items of alice's own
//! organization (acme) where the route names an item, so the upstream answer behind each one
//! carries canaries: an upstream byte forwarded on a refused answer is then always caught.

use base64::Engine as _;
use kbgate::sim::{Corpus, SimHandle, SimOptions};

use crate::support::send_raw;

/// How kbgate answers a route, and so what a refusal looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Filtered JSON; a refusal is `{"statusCode":…}`.
    Api,
    /// Attachment bytes streamed after the decision on their page; a refusal before the stream
    /// starts is `{"statusCode":…}`.
    Download,
    /// A page of the KB site; a refusal is the site's error page.
    Site,
}

/// One request of the matrix.
#[derive(Debug, Clone)]
pub struct RouteCase {
    /// Short stable name (the matrix's column).
    pub name: &'static str,
    /// The request target, sent byte for byte.
    pub target: String,
    pub kind: Kind,
}

/// The KB space's v2 id in the simulator.
const KB_SPACE_ID: &str = "196609";
/// "Acme onboarding": an acme page with shared and acme pages below it.
const ACME_PARENT: &str = "100012";
/// An acme page four levels deep (its ancestors mix shared and acme pages).
const ACME_DEEP: &str = "100016";

/// An acme page with an attachment and a footer comment.
fn acme_page_with_files(corpus: &Corpus) -> String {
    corpus
        .items()
        .iter()
        .filter(|i| i.space_key == "KB" && i.labels.iter().any(|l| l == "org-acme"))
        .filter(|i| i.labels.len() <= 3 && i.parent_id.is_some())
        .find(|i| !corpus.attachments(&i.id).is_empty() && !corpus.comments(&i.id).is_empty())
        .map(|i| i.id.clone())
        .expect("an acme page with an attachment and a comment")
}

/// The simulator's v2 id of the label `name`, asked as the service account.
async fn label_id(sim: &SimHandle, name: &str) -> String {
    let opts = SimOptions::default();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", opts.service_email, opts.service_token));
    let request = format!(
        "GET /wiki/api/v2/labels?limit=250 HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\r\n",
        sim.addr()
    );
    let raw = send_raw(sim.addr(), request.as_bytes()).await;
    assert_eq!(raw.status, 200, "the simulator lists its labels");
    raw.json()["results"]
        .as_array()
        .expect("labels")
        .iter()
        .find(|l| l["name"] == name)
        .and_then(|l| l["id"].as_str())
        .expect("the label exists")
        .to_owned()
}

/// The matrix's routes: v1, downloads, v2, JSM and the KB site.
pub async fn all(sim: &SimHandle) -> Vec<RouteCase> {
    let corpus = sim.corpus();
    let page = acme_page_with_files(corpus);
    let attachment = corpus.attachments(&page)[0].clone();
    let file: String = percent_encoding::utf8_percent_encode(
        &attachment.file_name,
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let org_acme = label_id(sim, "org-acme").await;
    let v1 = "/wiki/rest/api";
    let v2 = "/wiki/api/v2";
    let api = |name, target: String| RouteCase {
        name,
        target,
        kind: Kind::Api,
    };
    vec![
        api("search", format!("{v1}/search?cql=text~vpn")),
        api(
            "content_body",
            format!("{v1}/content/{page}?expand=body.storage"),
        ),
        api(
            "content_list",
            format!("{v1}/content?spaceKey=KB&type=page"),
        ),
        api(
            "content_search",
            format!("{v1}/content/search?cql=type%3Dpage"),
        ),
        api(
            "child_page",
            format!("{v1}/content/{ACME_PARENT}/child/page"),
        ),
        api(
            "descendant_page",
            format!("{v1}/content/{ACME_PARENT}/descendant/page"),
        ),
        api(
            "child_map",
            format!("{v1}/content/{ACME_PARENT}/child?expand=page,attachment,comment"),
        ),
        api(
            "child_attachment",
            format!("{v1}/content/{page}/child/attachment"),
        ),
        api(
            "child_comment",
            format!("{v1}/content/{page}/child/comment"),
        ),
        api("labels", format!("{v1}/content/{page}/label")),
        api("space", format!("{v1}/space/KB")),
        api("spaces", format!("{v1}/space")),
        api("space_content", format!("{v1}/space/KB/content/page")),
        RouteCase {
            name: "download",
            target: format!("/wiki/download/attachments/{page}/{file}"),
            kind: Kind::Download,
        },
        RouteCase {
            name: "attachment_by_id",
            target: format!(
                "{v1}/content/{page}/child/attachment/{}/download",
                attachment.id
            ),
            kind: Kind::Download,
        },
        api("v2_pages", format!("{v2}/pages")),
        api("v2_page", format!("{v2}/pages/{page}?body-format=storage")),
        api("v2_children", format!("{v2}/pages/{ACME_PARENT}/children")),
        api(
            "v2_direct_children",
            format!("{v2}/pages/{ACME_PARENT}/direct-children"),
        ),
        api(
            "v2_descendants",
            format!("{v2}/pages/{ACME_PARENT}/descendants"),
        ),
        api("v2_ancestors", format!("{v2}/pages/{ACME_DEEP}/ancestors")),
        api("v2_labels", format!("{v2}/pages/{page}/labels")),
        api("v2_attachments", format!("{v2}/pages/{page}/attachments")),
        api(
            "v2_footer_comments",
            format!("{v2}/pages/{page}/footer-comments"),
        ),
        api("v2_blogposts", format!("{v2}/blogposts")),
        api("v2_spaces", format!("{v2}/spaces")),
        api("v2_space_pages", format!("{v2}/spaces/{KB_SPACE_ID}/pages")),
        api("v2_label_pages", format!("{v2}/labels/{org_acme}/pages")),
        api(
            "jsm_articles",
            "/rest/servicedeskapi/knowledgebase/article?query=vpn".to_owned(),
        ),
        RouteCase {
            name: "site_home",
            target: "/".to_owned(),
            kind: Kind::Site,
        },
        RouteCase {
            name: "site_search",
            target: "/search?q=vpn".to_owned(),
            kind: Kind::Site,
        },
        RouteCase {
            name: "site_article",
            target: format!("/articles/{page}"),
            kind: Kind::Site,
        },
    ]
}
