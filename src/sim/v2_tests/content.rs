//! v2 over a real socket, part two: the page tree (children, descendants, ancestors),
//! attachments and downloads, footer comments, spaces, label pages, blog posts, authentication
//! and faults.

use hyper::StatusCode;
use serde_json::json;

use super::*;

#[tokio::test]
async fn children_descendants_and_ancestors_follow_the_corpus_tree() {
    let sim = sim().await;
    let c = sim.corpus();
    let page = ok(
        &sim,
        "/wiki/api/v2/pages/100012?include-direct-children=true&include-version=false",
    )
    .await;
    assert!(page.get("version").is_none());
    let direct = &page["directChildren"];
    assert_eq!(
        ids(direct["results"].as_array().unwrap()),
        ["100013", "100015"]
    );
    assert_eq!(
        direct["results"][1]["title"],
        c.get("100015").unwrap().title.as_str()
    );
    assert_eq!(direct["meta"]["hasMore"], false);
    assert_eq!(
        direct["_links"]["self"],
        "/wiki/api/v2/pages/100012/direct-children"
    );

    let kids = walk(&sim, "/wiki/api/v2/pages/100001/direct-children?limit=5").await;
    let want: Vec<String> = c
        .children(KB_HOME_ID)
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(ids(&kids), want);
    assert_keys(
        &kids[0],
        &["id", "status", "title", "type", "spaceId", "childPosition"],
    );
    assert!(kids
        .iter()
        .enumerate()
        .all(|(n, k)| k["childPosition"] == n));
    let old = ok(&sim, "/wiki/api/v2/pages/100012/children").await;
    assert!(old["results"][0]["_links"]["webui"]
        .as_str()
        .unwrap()
        .starts_with("/spaces/KB/pages/100013/"));

    let two = ok(&sim, "/wiki/api/v2/pages/200000/descendants").await;
    let got = two["results"].as_array().unwrap();
    assert_eq!(sorted_ids(c.descendants(INITECH_ROOT_ID).into_iter()), {
        let mut v = ids(got);
        v.sort();
        v
    });
    assert_keys(
        &got[0],
        &[
            "id",
            "status",
            "title",
            "type",
            "parentId",
            "depth",
            "childPosition",
        ],
    );
    assert!(
        got.windows(2)
            .all(|w| w[0]["depth"].as_u64() <= w[1]["depth"].as_u64()),
        "top to bottom"
    );
    assert_eq!(got.last().unwrap()["depth"], 2);
    let one = ok(&sim, "/wiki/api/v2/pages/200000/descendants?depth=1").await;
    assert_eq!(
        one["results"].as_array().unwrap().len(),
        c.children(INITECH_ROOT_ID).len()
    );
    let deep = walk(
        &sim,
        "/wiki/api/v2/pages/100001/descendants?depth=5&limit=10",
    )
    .await;
    assert!(ids(&deep).contains(&"100023".to_owned()), "4 levels down");
    assert_eq!(
        get(&sim, "/wiki/api/v2/pages/100001/descendants?depth=6")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    let anc = ok(&sim, "/wiki/api/v2/pages/100016/ancestors").await;
    assert_eq!(
        anc["results"],
        json!([{"id":"100001","type":"page"},{"id":"100012","type":"page"},{"id":"100015","type":"page"}])
    );
    assert!(anc["_links"].get("next").is_none());
    let near = ok(&sim, "/wiki/api/v2/pages/100016/ancestors?limit=1").await;
    assert_eq!(near["results"], json!([{"id":"100015","type":"page"}]));
}

#[tokio::test]
async fn attachments_carry_canary_file_names_and_download_their_bytes() {
    let sim = sim().await;
    let c = sim.corpus();
    let page = c.get(ACME_UNDER_SHARED_ID).unwrap();
    let canary = page.canary.clone().unwrap();
    let list = ok(&sim, "/wiki/api/v2/pages/100005/attachments").await;
    let atts = list["results"].as_array().unwrap();
    assert_eq!(atts.len(), c.attachments("100005").len());
    for a in atts {
        assert!(a["title"].as_str().unwrap().contains(&canary));
        assert_eq!(a["pageId"], "100005");
        assert_eq!(a["downloadLink"], a["_links"]["download"]);
        assert!(a["webuiLink"]
            .as_str()
            .unwrap()
            .contains("?preview=%2F100005%2F"));
    }
    assert_keys(
        &atts[0],
        &[
            "id",
            "status",
            "title",
            "createdAt",
            "pageId",
            "mediaType",
            "mediaTypeDescription",
            "comment",
            "fileId",
            "fileSize",
            "webuiLink",
            "downloadLink",
            "version",
            "_links",
        ],
    );

    let with_png = c
        .items()
        .iter()
        .find(|i| {
            i.canary.is_some() && c.attachments(&i.id).len() == 2 && i.kind == ContentKind::Page
        })
        .unwrap();
    let pngs = ok(
        &sim,
        &format!(
            "/wiki/api/v2/pages/{}/attachments?mediaType=image/png",
            with_png.id
        ),
    )
    .await;
    let png = &pngs["results"].as_array().unwrap()[..];
    assert_eq!(png.len(), 1);
    let link = png[0]["downloadLink"].as_str().unwrap();
    assert!(link.contains("%20") && link.ends_with("&api=v2"), "{link}");
    let file = c
        .attachments(&with_png.id)
        .into_iter()
        .find(|a| a.media_type == "image/png")
        .unwrap();
    let got = get(&sim, &format!("/wiki{link}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_ref(), file.data.as_slice());
    assert_eq!(got.header("content-type").as_deref(), Some("image/png"));
    assert_eq!(
        got.header("content-length"),
        Some(file.data.len().to_string())
    );
    let disposition = got.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename*=UTF-8''diagram%20CANARY-"),
        "{disposition}"
    );
    assert_eq!(png[0]["fileSize"], file.data.len());

    for missing in ["100005/nope.txt", "999999/notes-x.txt", "100005"] {
        let a = get(&sim, &format!("/wiki/download/attachments/{missing}")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{missing}");
    }
    assert_eq!(
        get(&sim, "/wiki/api/v2/pages/100040/attachments")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn footer_comments_are_titled_re_page_title_with_storage_bodies() {
    let sim = sim().await;
    let c = sim.corpus();
    let page = c
        .items()
        .iter()
        .find(|i| {
            i.canary.is_some() && i.kind == ContentKind::Page && !c.comments(&i.id).is_empty()
        })
        .unwrap();
    let doc = ok(
        &sim,
        &format!(
            "/wiki/api/v2/pages/{}/footer-comments?body-format=storage",
            page.id
        ),
    )
    .await;
    let first = &doc["results"][0];
    assert_keys(
        first,
        &[
            "id", "status", "title", "pageId", "version", "body", "_links",
        ],
    );
    assert_eq!(first["title"], format!("Re: {}", page.title));
    assert_eq!(first["pageId"], page.id.as_str());
    assert!(first["body"]["storage"]["value"]
        .as_str()
        .unwrap()
        .contains(page.canary.as_deref().unwrap()));
    assert!(first["_links"]["webui"]
        .as_str()
        .unwrap()
        .contains("focusedCommentId="));
    let bare = ok(
        &sim,
        &format!("/wiki/api/v2/pages/{}/footer-comments", page.id),
    )
    .await;
    assert_eq!(bare["results"][0]["body"], json!({}));
}

#[tokio::test]
async fn spaces_list_one_space_and_space_pages_answer_in_space_bulk_shape() {
    let sim = sim().await;
    let all = ok(&sim, "/wiki/api/v2/spaces").await;
    let spaces = all["results"].as_array().unwrap();
    assert_eq!(
        spaces
            .iter()
            .map(|s| s["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["KB", "ENG"]
    );
    let kb = &spaces[0];
    assert_keys(
        kb,
        &[
            "id",
            "key",
            "name",
            "type",
            "status",
            "authorId",
            "createdAt",
            "homepageId",
            "description",
            "icon",
            "_links",
        ],
    );
    assert_eq!(
        (kb["id"].as_str(), kb["homepageId"].as_str()),
        (Some("196609"), Some(KB_HOME_ID))
    );
    assert!(kb["description"].is_null() && kb["icon"].is_null());
    assert_eq!(kb["_links"], json!({"webui": "/spaces/KB"}));
    let eng = ok(
        &sim,
        "/wiki/api/v2/spaces?keys=ENG&description-format=plain",
    )
    .await;
    assert_eq!(eng["results"][0]["key"], "ENG");
    assert_eq!(
        eng["results"][0]["description"]["plain"]["representation"],
        "plain"
    );
    let by_id = ok(&sim, "/wiki/api/v2/spaces?ids=196609").await;
    assert_eq!(by_id["results"][0]["key"], "KB");
    let one = ok(&sim, "/wiki/api/v2/spaces/196610").await;
    assert_eq!(one["_links"]["base"], format!("{}/wiki", sim.base_url()));
    let roots = ok(&sim, "/wiki/api/v2/spaces/196610/pages?depth=root").await;
    assert_eq!(ids(roots["results"].as_array().unwrap()), [ENG_HOME_ID]);
    let kb_pages = walk(&sim, "/wiki/api/v2/spaces/196609/pages?limit=50").await;
    assert!(kb_pages.iter().all(|p| p["spaceId"] == "196609") && !kb_pages.is_empty());
}

#[tokio::test]
async fn a_label_id_lists_the_pages_carrying_that_label_and_names_it() {
    let sim = sim().await;
    let labels = ok(&sim, "/wiki/api/v2/pages/100005/labels").await;
    let acme = labels["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "org-acme")
        .unwrap()
        .clone();
    let id = acme["id"].as_str().unwrap();
    let pages = walk(&sim, &format!("/wiki/api/v2/labels/{id}/pages?limit=4")).await;
    let want = sorted_ids(
        sim.corpus()
            .items()
            .iter()
            .filter(|i| i.kind == ContentKind::Page && i.labels.iter().any(|l| l == "org-acme")),
    );
    assert_eq!(ids(&pages), want);
    assert!(want.contains(&"300004".to_owned()) && want.contains(&MANY_LABELS_ID.to_owned()));
    let named = ok(&sim, &format!("/wiki/api/v2/labels?label-id={id}")).await;
    assert_eq!(named["results"], json!([acme]));
}

#[tokio::test]
async fn blog_posts_list_and_answer_by_id_in_blog_post_shape() {
    let sim = sim().await;
    let all = ok(&sim, "/wiki/api/v2/blogposts").await;
    let posts = all["results"].as_array().unwrap();
    assert_eq!(ids(posts), ["100040", "100041", "100042", "300005"]);
    assert_keys(
        &posts[0],
        &[
            "id",
            "status",
            "title",
            "spaceId",
            "authorId",
            "createdAt",
            "version",
            "body",
            "_links",
        ],
    );
    assert!(posts[0]["_links"]["webui"]
        .as_str()
        .unwrap()
        .starts_with("/spaces/KB/blog/"));
    let one = ok(&sim, "/wiki/api/v2/blogposts/100041?include-labels=true").await;
    assert!(one["labels"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["name"] == "org-acme"));
    assert_eq!(
        one["labels"]["_links"]["self"],
        "/wiki/api/v2/blogposts/100041/labels"
    );
}

#[tokio::test]
async fn v2_and_downloads_require_credentials_and_obey_faults() {
    let sim = sim().await;
    for path in [
        "/wiki/api/v2/pages",
        "/wiki/download/attachments/100001/notes-100001.txt",
    ] {
        assert_eq!(
            get_with(&sim, path, None).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        assert_eq!(get(&sim, path).await.status, StatusCode::OK, "{path}");
    }
    sim.set_fault(Some(Fault::ServerError));
    assert_eq!(
        get(&sim, "/wiki/api/v2/pages").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    sim.set_fault(None);
    assert_eq!(get(&sim, "/wiki/api/v2/pages").await.status, StatusCode::OK);
}
