//! The test stack (simulator + kbgate on port 0), a raw HTTP/1.1 client that keeps every byte
//! of the answer, and the leak oracle.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kbgate::demo::{self, DemoStack};
use kbgate::sim::DemoCustomer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Responses and bytes the oracle has scanned in this test binary, for the closing figures.
pub static SCANNED_RESPONSES: AtomicU64 = AtomicU64::new(0);
pub static SCANNED_BYTES: AtomicU64 = AtomicU64::new(0);
/// The same per kbgate route (the route name, or `refused` for targets no route serves).
static SCANNED_BY_ROUTE: std::sync::Mutex<std::collections::BTreeMap<&'static str, (u64, u64)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// kbgate's route name for a request target, as the proxy classifies it.
fn route_of(target: &str) -> &'static str {
    use kbgate::route::{classify_for, Site};
    let path = target.split('?').next().unwrap_or(target);
    match path {
        "/" => return "site_home",
        "/search" => return "site_search",
        "/_kbgate/site.css" => return "site_css",
        p if p.starts_with("/articles/") => return "site_article",
        _ => {}
    }
    let Ok(uri) = target.parse::<http::Uri>() else {
        return "refused";
    };
    classify_for(Site::Cloud, &http::Method::GET, &uri)
        .or_else(|_| classify_for(Site::DataCenter, &http::Method::GET, &uri))
        .map(|r| r.name())
        .unwrap_or("refused")
}

/// Writes the per-route totals to `target/tmp/leak-oracle-routes.log` (replaced each time, so
/// the last stack dropped leaves the totals of the whole binary).
fn write_route_totals() {
    let lines: String = {
        let map = SCANNED_BY_ROUTE.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(route, (n, bytes))| format!("{route} {n} {bytes}\n"))
            .collect()
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let tmp = dir.join(format!("leak-oracle-routes.{}.tmp", std::process::id()));
    if std::fs::write(&tmp, lines).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join("leak-oracle-routes.log"));
    }
}

/// Writes the per-route totals when a stack goes away, however its test ends.
#[derive(Default)]
pub struct RouteTotalsOnDrop;

impl Drop for RouteTotalsOnDrop {
    fn drop(&mut self) {
        write_route_totals();
    }
}

/// A running simulator + kbgate.
pub struct Stack {
    pub inner: DemoStack,
    _totals: RouteTotalsOnDrop,
}

impl Stack {
    pub async fn start() -> Stack {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Stack {
            inner: DemoStack::start(any, any).await.expect("demo stack starts"),
            _totals: RouteTotalsOnDrop,
        }
    }

    /// The stack with the simulator answering as Confluence Data Center.
    pub async fn start_datacenter() -> Stack {
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let opts = kbgate::sim::SimOptions {
            datacenter: true,
            ..Default::default()
        };
        Stack {
            inner: DemoStack::start_with(any, any, opts)
                .await
                .expect("demo stack starts"),
            _totals: RouteTotalsOnDrop,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn customer(&self, name: &str) -> Customer {
        let c = demo::customers()
            .into_iter()
            .find(|c| c.name == name)
            .expect("demo customer");
        let token = self.inner.token(&c, Duration::from_secs(600));
        Customer::new(c, token, self)
    }

    pub fn customers(&self) -> Vec<Customer> {
        demo::customers()
            .into_iter()
            .map(|c| {
                let token = self.inner.token(&c, Duration::from_secs(600));
                Customer::new(c, token, self)
            })
            .collect()
    }

    /// GET `target` (sent byte for byte) with `headers`, through the oracle for `oracle`.
    pub async fn get(&self, target: &str, headers: &[(&str, &str)]) -> Raw {
        let mut req = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        send_raw(self.addr(), req.as_bytes()).await
    }

    /// The requests kbgate sent to Confluence (`/wiki/…`) since the last `clear_requests`;
    /// identity-provider fetches are left out.
    pub fn forwarded(&self) -> Vec<kbgate::sim::RecordedRequest> {
        self.inner
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.path_and_query.starts_with("/wiki"))
            .collect()
    }

    /// The paths of [`Stack::forwarded`].
    pub fn forwarded_paths(&self) -> Vec<String> {
        self.forwarded()
            .into_iter()
            .map(|r| r.path_and_query)
            .collect()
    }

    /// Stops the stack and appends the oracle's running totals to
    /// `target/tmp/leak-oracle.log` (the test script reports the largest line).
    pub async fn stop(self) {
        self.inner.stop().await;
        let line = format!(
            "{} {}\n",
            SCANNED_RESPONSES.load(Ordering::Relaxed),
            SCANNED_BYTES.load(Ordering::Relaxed)
        );
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("leak-oracle.log");
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = std::io::Write::write_all(&mut f, line.as_bytes());
        }
    }
}

/// A demo customer with a token, and the oracle of what they must never see.
pub struct Customer {
    pub name: String,
    pub orgs: Vec<String>,
    pub token: String,
    pub oracle: LeakOracle,
    pub visible: BTreeSet<String>,
}

impl Customer {
    fn new(c: DemoCustomer, token: String, stack: &Stack) -> Customer {
        let orgs: Vec<&str> = c.orgs.iter().map(String::as_str).collect();
        let corpus = stack.inner.sim.corpus();
        Customer {
            oracle: LeakOracle::new(corpus.forbidden_canaries_for(&orgs)),
            visible: corpus.visible_ids_for(&orgs).into_iter().collect(),
            name: c.name.clone(),
            orgs: c.orgs.clone(),
            token,
        }
    }

    pub fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// GET as this customer; the oracle scans every byte of the answer.
    pub async fn get(&self, stack: &Stack, target: &str) -> Raw {
        let raw = stack.get(target, &[("Authorization", &self.auth())]).await;
        self.oracle
            .assert_clean(&raw.bytes, &format!("{} GET {target}", self.name));
        raw
    }
}

/// Follows kbgate's own `_links.next` from `first` through every page and returns the item ids
/// in order. On every page: status 200, `size` equal to the kept count, no `cqlQuery`, `next`
/// pointing at kbgate, and no hidden ancestor in any item. `content_of` picks the content
/// object out of an item (a search result wraps it; a list item is it); `check_page` adds the
/// checks of one answer shape.
pub async fn all_pages_from(
    stack: &Stack,
    c: &Customer,
    first: &str,
    content_of: fn(&serde_json::Value) -> &serde_json::Value,
    check_page: &dyn Fn(&serde_json::Value),
) -> Vec<String> {
    let mut target = first.to_owned();
    let mut ids = Vec::new();
    let base = format!("http://{}", stack.addr());
    for _page in 0..100 {
        let raw = c.get(stack, &target).await;
        assert_eq!(
            raw.status,
            200,
            "{} {target}: {}",
            c.name,
            String::from_utf8_lossy(&raw.body)
        );
        let v = raw.json();
        let items = v["results"].as_array().expect("results array");
        assert_eq!(
            v["size"].as_u64(),
            Some(items.len() as u64),
            "size is the kept count"
        );
        assert!(v.get("cqlQuery").is_none(), "the wrapper never echoes back");
        check_page(&v);
        for item in items {
            let content = content_of(item);
            let id = content["id"].as_str().expect("content id").to_owned();
            for a in content["ancestors"].as_array().into_iter().flatten() {
                let aid = a["id"].as_str().unwrap_or_default();
                assert!(
                    c.visible.contains(aid),
                    "{}: hidden ancestor {aid} kept in {id}",
                    c.name
                );
            }
            ids.push(id);
        }
        match v["_links"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&base), "next points at kbgate: {next}");
                target = next[base.len()..].to_owned();
            }
            None => return ids,
        }
    }
    panic!("more than 100 pages");
}

/// A complete HTTP/1.1 answer, every byte kept.
pub struct Raw {
    pub bytes: Vec<u8>,
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Held by the stories that measure the process's memory or latency (abuse, fault matrix) and
/// by the load-test stories, which would otherwise show up in those measurements.
pub static MEASURING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A 10-minute token for the demo customer `name` (`alice`, `bob`, …) of a demo stack.
pub fn token_of(stack: &DemoStack, name: &str) -> String {
    let c = demo::customers()
        .into_iter()
        .find(|c| c.name == name)
        .expect("demo customer");
    stack.token(&c, Duration::from_secs(600))
}

/// Sends raw request bytes and reads the answer until the server closes.
pub async fn send_raw(addr: SocketAddr, request: &[u8]) -> Raw {
    let work = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        s.write_all(request).await.expect("write");
        let mut bytes = Vec::new();
        let _ = s.read_to_end(&mut bytes).await;
        bytes
    };
    let bytes = tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .expect("answer within 30 s");
    parse_raw(bytes)
}

fn parse_raw(bytes: Vec<u8>) -> Raw {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let body = bytes.get(split + 4..).unwrap_or(&[]).to_vec();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Raw {
        bytes,
        status,
        head,
        body,
    }
}

/// Finds foreign canaries in any byte a customer receives: raw, JSON-unescaped,
/// percent-decoded, with highlight markers removed, case-insensitively.
pub struct LeakOracle {
    forbidden: Vec<String>,
}

impl LeakOracle {
    pub fn new(forbidden: Vec<String>) -> Self {
        assert!(
            !forbidden.is_empty(),
            "an oracle with nothing to find proves nothing"
        );
        LeakOracle {
            forbidden: forbidden.into_iter().map(|c| c.to_lowercase()).collect(),
        }
    }

    /// Every form of `bytes` the oracle searches.
    fn views(bytes: &[u8]) -> Vec<String> {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        let unhl = raw.replace("@@@hl@@@", "").replace("@@@endhl@@@", "");
        let unescaped = json_unescape(&unhl);
        let decoded = percent_encoding::percent_decode_str(&unescaped.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        let text = html_text(&raw);
        vec![
            raw.to_lowercase(),
            unhl.to_lowercase(),
            unescaped.to_lowercase(),
            decoded.to_lowercase(),
            text.to_lowercase(),
        ]
    }

    /// The foreign canaries found in `bytes`.
    pub fn hits(&self, bytes: &[u8]) -> Vec<String> {
        let views = Self::views(bytes);
        self.forbidden
            .iter()
            .filter(|c| views.iter().any(|v| v.contains(c.as_str())))
            .cloned()
            .collect()
    }

    pub fn assert_clean(&self, bytes: &[u8], what: &str) {
        SCANNED_RESPONSES.fetch_add(1, Ordering::Relaxed);
        SCANNED_BYTES.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if let Some((_, target)) = what.split_once(" GET ") {
            let mut map = SCANNED_BY_ROUTE.lock().unwrap_or_else(|e| e.into_inner());
            let entry = map.entry(route_of(target)).or_default();
            entry.0 += 1;
            entry.1 += bytes.len() as u64;
        }
        let hits = self.hits(bytes);
        assert!(
            hits.is_empty(),
            "LEAK in {what}: {hits:?}\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// The text of an HTML page as a reader sees it: tags removed (a `<mark>` may split a
/// canary), the few entities kbgate writes decoded.
fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#45;", "-")
        .replace("&amp;", "&")
}

/// Undoes JSON string escapes anywhere in the text (`\uXXXX`, `\"`, `\/`, …).
fn json_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&hex),
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[test]
fn the_oracle_finds_canaries_in_every_disguise() {
    let o = LeakOracle::new(vec!["CANARY-acme-abc123".into()]);
    assert_eq!(o.hits(b"title: CANARY-acme-abc123").len(), 1);
    assert_eq!(o.hits(b"\"\\u0043ANARY-acme-abc123\"").len(), 1);
    assert_eq!(o.hits(b"@@@hl@@@CANARY@@@endhl@@@-acme-abc123").len(), 1);
    assert_eq!(o.hits(b"/pages/1/CANARY%2Dacme%2Dabc123").len(), 1);
    assert_eq!(o.hits(b"label canary-acme-abc123").len(), 1);
    assert_eq!(o.hits(b"<p>CANARY-<mark>acme</mark>-abc123</p>").len(), 1);
    assert!(o
        .hits(b"CANARY-globex-abc123 CANARY-acme-abc124")
        .is_empty());
}

impl Stack {
    /// The requests kbgate sent to JSM (`/rest/servicedeskapi/…`) since the last
    /// `clear_requests` ([`Stack::forwarded`] keeps only `/wiki`).
    pub fn forwarded_jsm(&self) -> Vec<kbgate::sim::RecordedRequest> {
        self.inner
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.path_and_query.starts_with("/rest/servicedeskapi/"))
            .collect()
    }
}
