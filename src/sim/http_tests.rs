//! The simulator over a real socket: shapes of search and content answers, authentication,
//! request recording, faults, the identity provider and shutdown.

use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::net::TcpListener;

use super::corpus::*;
use super::*;

async fn sim() -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(listener, SimOptions::default()).await.unwrap()
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Result<Bytes, String>,
}

impl Answer {
    fn bytes(&self) -> &Bytes {
        self.body.as_ref().unwrap()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(self.bytes())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn basic() -> String {
    let o = SimOptions::default();
    let cred = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", o.service_email, o.service_token));
    format!("Basic {cred}")
}

async fn get_with(sim: &SimHandle, path: &str, auth: Option<&str>) -> Answer {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut req = Request::get(format!("{}{path}", sim.base_url()));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = client
        .request(req.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string());
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(sim: &SimHandle, path: &str) -> Answer {
    get_with(sim, path, Some(&basic())).await
}

fn enc(cql: &str) -> String {
    form_urlencoded::byte_serialize(cql.as_bytes()).collect()
}

#[tokio::test]
async fn search_answers_in_the_confluence_shape_and_pages_with_cursors() {
    let sim = sim().await;
    let cql = r#"text ~ "vpn""#;
    let path = format!(
        "/wiki/rest/api/search?cql={}&limit=5&expand=content.metadata.labels,content.ancestors,content.space",
        enc(cql)
    );
    let a = get(&sim, &path).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc = a.json();
    assert_eq!(doc["size"], 5);
    assert_eq!(doc["limit"], 5);
    assert_eq!(doc["start"], 0);
    assert!(doc["totalSize"].as_u64().unwrap() > 5);
    assert_eq!(doc["cqlQuery"], cql);
    assert_eq!(doc["_links"]["base"], format!("{}/wiki", sim.base_url()));
    assert_eq!(doc["_links"]["context"], "/wiki");
    let first = &doc["results"][0];
    let content = &first["content"];
    for key in [
        "id",
        "type",
        "status",
        "title",
        "childTypes",
        "restrictions",
        "_expandable",
        "_links",
    ] {
        assert!(!content[key].is_null(), "content.{key}");
    }
    assert!(content["_links"]["webui"]
        .as_str()
        .unwrap()
        .starts_with("/spaces/KB/"));
    assert_eq!(first["url"], content["_links"]["webui"]);
    assert!(content["metadata"]["labels"]["results"].is_array());
    assert_eq!(content["metadata"]["labels"]["limit"], 200);
    assert_eq!(content["space"]["key"], "KB");
    assert!(content["ancestors"].is_array());
    assert!(content["_expandable"].get("ancestors").is_none());
    assert_eq!(
        first["resultGlobalContainer"]["title"],
        "Customer Knowledge Base"
    );
    assert_eq!(first["entityType"], "content");
    assert!(first["excerpt"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("@@@hl@@@vpn@@@endhl@@@"));
    assert!(first["lastModified"].as_str().unwrap().ends_with(".000Z"));

    let next = doc["_links"]["next"].as_str().unwrap();
    assert!(
        next.starts_with("/rest/api/search?next=true&cursor="),
        "{next}"
    );
    let page2 = get(&sim, &format!("/wiki{next}")).await.json();
    assert_eq!(page2["start"], 5);
    let ids = |d: &Value| -> Vec<String> {
        d["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["content"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids(&page2).iter().all(|id| !ids(&doc).contains(id)));
    let bad_cursor = get(
        &sim,
        &format!("/wiki/rest/api/search?cql=space%3DKB&cursor={}", "bm9wZQ"),
    )
    .await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
    let far = get(
        &sim,
        &format!("/wiki/rest/api/search?cql=space%3DKB&start={}", usize::MAX),
    )
    .await;
    assert_eq!(far.json()["size"], 0);
}

#[tokio::test]
async fn breadcrumbs_and_parent_container_name_restricted_ancestors() {
    let sim = sim().await;
    let doc = get(
        &sim,
        &format!("/wiki/rest/api/search?cql={}", enc("id = 100013")),
    )
    .await
    .json();
    let parent_title = sim.corpus().get(ACME_PARENT_ID).unwrap().title.clone();
    let result = &doc["results"][0];
    assert_eq!(
        result["resultParentContainer"]["title"],
        parent_title.as_str()
    );
    let crumbs: Vec<&str> = result["breadcrumbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["label"].as_str().unwrap())
        .collect();
    assert_eq!(crumbs.last().copied(), Some(parent_title.as_str()));
    assert!(result["breadcrumbs"][0]["url"]
        .as_str()
        .unwrap()
        .starts_with("/spaces/KB/pages/100001/"));
    assert!(doc["_links"].get("next").is_none());
}

#[tokio::test]
async fn bad_cql_answers_400_with_a_body_that_echoes_it() {
    let sim = sim().await;
    let cql = r#"NOT label = "org-acme""#;
    let a = get(&sim, &format!("/wiki/rest/api/search?cql={}", enc(cql))).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let doc = a.json();
    assert_eq!(doc["statusCode"], 400);
    assert_eq!(doc["message"], format!("Could not parse cql : {cql}"));
    assert_eq!(doc["data"]["successful"], false);
}

#[tokio::test]
async fn content_by_id_expands_like_confluence() {
    let sim = sim().await;
    let expand = "body.storage,body.view,ancestors,space,version,metadata.labels,children.page,history,container";
    let doc = get(
        &sim,
        &format!("/wiki/rest/api/content/100012?expand={expand}"),
    )
    .await
    .json();
    assert_eq!(doc["id"], "100012");
    assert_eq!(doc["type"], "page");
    assert_eq!(doc["body"]["storage"]["representation"], "storage");
    let acme_title = sim.corpus().get(ACME_PARENT_ID).unwrap().title.clone();
    let shared_child = sim
        .corpus()
        .get(SHARED_UNDER_ACME_ID)
        .unwrap()
        .title
        .clone();
    assert!(doc["body"]["view"]["value"]
        .as_str()
        .unwrap()
        .contains(&shared_child));
    assert_eq!(doc["title"], acme_title.as_str());
    assert_eq!(doc["ancestors"][0]["id"], KB_HOME_ID);
    assert_eq!(
        doc["space"]["_expandable"]["homepage"],
        "/rest/api/content/100001"
    );
    assert_eq!(doc["container"]["key"], "KB");
    assert!(doc["version"]["number"].as_u64().unwrap() >= 1);
    assert!(doc["history"]["createdDate"].is_string());
    let children: Vec<&str> = doc["children"]["page"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(children, vec!["100013", "100015"]);
    let labels = &doc["metadata"]["labels"]["results"];
    assert_eq!(
        labels[0],
        serde_json::json!({"prefix":"global","name":"org-acme","id":labels[0]["id"],"label":"org-acme"})
    );
    assert!(
        doc["_expandable"].get("body").is_none() && doc["_expandable"].get("children").is_none()
    );
    assert_eq!(doc["_links"]["base"], format!("{}/wiki", sim.base_url()));
    assert!(doc["_links"]["tinyui"].as_str().unwrap().starts_with("/x/"));

    let plain = get(&sim, "/wiki/rest/api/content/300001?expand=bogus")
        .await
        .json();
    assert_eq!(plain["_expandable"]["ancestors"], "");
    assert!(plain.get("body").is_none());
    let labels = get(&sim, "/wiki/rest/api/content/100011/label")
        .await
        .json();
    assert_eq!(
        labels["size"], 4,
        "org-acme, org-globex, invoice and the canary label"
    );
}

#[tokio::test]
async fn child_and_descendant_pages_list_the_corpus_tree() {
    let sim = sim().await;
    for (relation, expected) in [
        ("child", sim.corpus().children("200000")),
        ("descendant", sim.corpus().descendants("200000")),
    ] {
        let v = get(
            &sim,
            &format!("/wiki/rest/api/content/200000/{relation}/page"),
        )
        .await
        .json();
        let ids: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let want: Vec<&str> = expected.iter().map(|i| i.id.as_str()).collect();
        assert!(!want.is_empty(), "200000 has pages below it");
        assert_eq!(ids, want, "{relation}");
    }
    assert!(
        sim.corpus().descendants("200000").len() > sim.corpus().children("200000").len(),
        "the subtree is deeper than one level"
    );
}

#[tokio::test]
async fn unknown_content_and_routes_answer_404_in_confluence_shape() {
    let sim = sim().await;
    let a = get(&sim, "/wiki/rest/api/content/999999").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["message"], "No content found with id: 999999");
    let b = get(&sim, "/wiki/rest/api/space/KB/settings").await;
    assert_eq!(b.status, StatusCode::NOT_FOUND);
    assert_eq!(b.json()["statusCode"], 404);
}

#[tokio::test]
async fn spaces_are_served_in_cloud_shape_and_an_unknown_space_is_404() {
    let sim = sim().await;
    let list = get(&sim, "/wiki/rest/api/space?spaceKey=KB").await;
    assert_eq!(list.status, StatusCode::OK);
    let v = list.json();
    assert_eq!(v["size"], 1);
    assert_eq!(v["results"][0]["key"], "KB");
    assert!(v["results"][0]["_expandable"]["homepage"].is_string());
    let one = get(&sim, "/wiki/rest/api/space/ENG").await;
    assert_eq!(
        (one.status, one.json()["key"].as_str()),
        (StatusCode::OK, Some("ENG"))
    );
    let none = get(&sim, "/wiki/rest/api/space/NOPE").await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wiki_routes_require_the_service_accounts_basic_credentials() {
    let sim = sim().await;
    let none = get_with(&sim, "/wiki/rest/api/content/100001", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.json()["statusCode"], 401);
    let wrong = base64::engine::general_purpose::STANDARD.encode("svc@kbgate.example:nope");
    let bad = get_with(
        &sim,
        "/wiki/rest/api/content/100001",
        Some(&format!("Basic {wrong}")),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let idp = get_with(&sim, "/idp/.well-known/openid-configuration", None).await;
    assert_eq!(idp.status, StatusCode::OK);
    assert_eq!(idp.json()["jwks_uri"], sim.jwks_url());
}

#[tokio::test]
async fn every_request_is_recorded_with_its_headers() {
    let sim = sim().await;
    get(&sim, "/wiki/rest/api/content/100001?expand=space").await;
    let log = sim.requests();
    let last = log.last().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(
        last.path_and_query,
        "/wiki/rest/api/content/100001?expand=space"
    );
    assert!(last
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && *v == basic()));
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn a_minted_token_verifies_against_the_served_jwks() {
    let sim = sim().await;
    let jwks = get_with(&sim, "/idp/.well-known/jwks.json", None)
        .await
        .json();
    let key = &jwks["keys"][0];
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let erin = demo_customers()
        .into_iter()
        .find(|c| c.name == "erin")
        .unwrap();
    let token = sim.mint_token(&erin, "kbgate-demo", Duration::from_secs(60));
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["kbgate-demo"]);
    v.set_issuer(&[sim.issuer()]);
    let data = jsonwebtoken::decode::<Value>(&token, &decoding, &v).unwrap();
    assert_eq!(
        data.claims["kb_orgs"],
        serde_json::json!(["acme", "globex"])
    );
    assert_eq!(data.claims["sub"], "demo|erin");
}

#[tokio::test]
async fn faults_alter_wiki_answers_until_cleared() {
    let sim = sim().await;
    let canary_title = sim.corpus().canary_titles()[0].to_owned();
    let path = format!("/wiki/rest/api/search?cql={}", enc("space = KB"));

    sim.set_fault(Some(Fault::ServerError));
    let a = get(&sim, &path).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(a.text().contains(&canary_title) && a.text().contains("space = KB"));

    sim.set_fault(Some(Fault::InvalidJson));
    let a = get(&sim, &path).await;
    assert!(serde_json::from_slice::<Value>(a.bytes()).is_err() && a.text().contains("CANARY"));

    sim.set_fault(Some(Fault::Gzip));
    let a = get(&sim, &path).await;
    assert_eq!(a.headers["content-encoding"], "gzip");
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&a.bytes()[..]),
        &mut plain,
    )
    .unwrap();
    assert!(serde_json::from_slice::<Value>(&plain).unwrap()["results"].is_array());

    sim.set_fault(Some(Fault::Truncated));
    assert!(get(&sim, &path).await.body.is_err());

    for n in [200_000usize, 10] {
        sim.set_fault(Some(Fault::Oversized(n)));
        let a = get(&sim, &path).await;
        assert_eq!(a.bytes().len(), n);
        serde_json::from_slice::<Value>(a.bytes()).unwrap();
    }

    sim.set_fault(Some(Fault::WrongContentType));
    let a = get(&sim, &path).await;
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    sim.set_fault(Some(Fault::WrongShape));
    assert!(get(&sim, &path).await.json()["results"].is_object());

    sim.set_fault(Some(Fault::DuplicateKeys));
    let a = get(&sim, &path).await;
    let hidden = sim
        .corpus()
        .get(ACME_UNDER_SHARED_ID)
        .unwrap()
        .title
        .clone();
    assert!(a.text().contains(&format!(
        r#""title":"Customer Knowledge Base","title":"{hidden}""#
    )));
    assert!(
        a.text().contains(r#""id":"100001","id":"100005""#),
        "{}",
        a.text()
    );
    assert_eq!(a.json()["results"][0]["content"]["title"], hidden.as_str());

    sim.set_fault(Some(Fault::SetCookie));
    let a = get(&sim, &path).await;
    assert!(a.headers.contains_key("set-cookie") && a.headers.contains_key("etag"));

    sim.set_fault(Some(Fault::Delay(Duration::from_millis(200))));
    let t = Instant::now();
    assert_eq!(get(&sim, &path).await.status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(200));
    let idp = get_with(&sim, "/idp/.well-known/jwks.json", None).await;
    assert_eq!(idp.status, StatusCode::OK);

    sim.set_fault(None);
    let a = get(&sim, &path).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json()["results"].is_array());
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let sim = sim().await;
    assert_eq!(
        get(&sim, "/wiki/rest/api/content/100001").await.status,
        StatusCode::OK
    );
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let req = Request::get(format!("{}/wiki/rest/api/content/100001", sim.base_url()))
        .body(Empty::new())
        .unwrap();
    assert!(client.request(req).await.is_err());
}
