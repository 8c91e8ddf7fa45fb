//! One browser story's world: the demo stack (simulator + kbgate) with kbgate reached only
//! through the recording tee, a headless Chromium under WebDriver, and the leak oracle of the
//! story's customer over everything the browser got.
//!
//! Guarantees: kbgate's `public_url` is the tee's URL, so every redirect and absolute link kbgate
//! writes brings the browser back through the tee, and a page that names kbgate's own address
//! fails the story; after every step the oracle scans (1) each response kbgate sent since the
//! last step, as sent on the wire and de-chunked/decoded (see `wire`), (2) the page source
//! Chromium shows (`client.source()`, the simulator's sign-in page included) and (3) every
//! downloaded file, name and content; no page may carry a `<script`; every check is counted.
//! Deliberately not: recording the browser's traffic to the simulator's identity provider (its
//! pages are scanned through their source), nor judging layout (screenshots are for people).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use kbgate::demo::DemoStack;
use kbgate::sim::{Corpus, DemoCustomer, SimOptions};

use crate::driver::Driver;
use crate::oracle::LeakOracle;
use crate::rules::{files_in, replace_public_url, strict_csp};
use crate::tee::Tee;

/// The longest wait for a navigation or a download.
const WAIT: Duration = Duration::from_secs(15);

/// Where screenshots go: `target/browser-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map(|t| t.join("browser-artifacts"))
        .unwrap_or_else(|| tmp.join("browser-artifacts"))
}

/// A running story: stack, tee, browser, oracle and counters.
pub struct Story {
    /// The story's name (for the closing line).
    pub name: &'static str,
    /// The demo customer signed in (or about to be).
    pub customer: DemoCustomer,
    stack: Option<DemoStack>,
    tee: Tee,
    driver: Option<Driver>,
    oracle: LeakOracle,
    /// The canaries of the customer's own organizations' items (lowercase), and whether the
    /// tee has shown one in a decoded body: proof the oracle reads what the browser reads.
    own: Vec<String>,
    own_seen: bool,
    /// kbgate's own `host:port`; the browser must never be sent there directly.
    direct: String,
    /// Checks passed.
    pub checks: u32,
    /// Pages looked at.
    pub pages: u32,
    /// Bytes the oracle scanned (responses as sent, decoded bodies, sources, downloads).
    pub scanned: u64,
    /// Responses kbgate sent, in order (the first [`MAX_LOG`]).
    pub log: Vec<Answer>,
}

/// Most answers kept in [`Story::log`].
const MAX_LOG: usize = 2000;

/// One response kbgate sent the browser, summarized.
pub struct Answer {
    /// `METHOD target` it answered (empty for interim or unframed bytes).
    pub request: String,
    /// Status code.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// One line for messages.
    pub line: String,
}

impl Story {
    /// Starts the demo stack behind a fresh tee and a fresh browser, for `customer`.
    pub async fn start(name: &'static str, customer: &str) -> Story {
        let mut tee = Tee::bind().await.expect("bind the tee");
        let any = "127.0.0.1:0".parse().expect("an address");
        let public = tee.url.clone();
        let stack = DemoStack::start_edited(any, any, SimOptions::default(), |_, toml| {
            replace_public_url(&toml, &public)
        })
        .await
        .expect("the demo stack starts");
        assert_eq!(
            stack
                .config
                .server
                .public_url
                .as_str()
                .trim_end_matches('/'),
            tee.url,
            "kbgate's public_url is the tee"
        );
        tee.forward_to(stack.addr);
        let customer = kbgate::demo::customers()
            .into_iter()
            .find(|c| c.name == customer)
            .expect("a demo customer");
        let orgs: Vec<&str> = customer.orgs.iter().map(String::as_str).collect();
        let oracle = LeakOracle::for_orgs(stack.sim.corpus(), &orgs);
        let own = stack
            .sim
            .corpus()
            .items()
            .iter()
            .filter(|i| i.space_key == "KB" && i.audience.admits(&orgs))
            .filter_map(|i| i.canary.as_ref().map(|c| c.to_lowercase()))
            .collect();
        let driver = Driver::start().await;
        Story {
            name,
            customer,
            direct: stack.addr.to_string(),
            stack: Some(stack),
            tee,
            driver: Some(driver),
            oracle,
            own,
            own_seen: false,
            checks: 0,
            pages: 0,
            scanned: 0,
            log: Vec::new(),
        }
    }

    /// The browser session.
    pub fn client(&self) -> &Client {
        &self.driver.as_ref().expect("the browser runs").client
    }

    /// The simulator's corpus (the truth the stories compare pages with).
    pub fn corpus(&self) -> &Corpus {
        self.stack.as_ref().expect("the stack runs").sim.corpus()
    }

    /// The simulated identity provider's issuer URL.
    pub fn issuer(&self) -> String {
        self.stack.as_ref().expect("the stack runs").sim.issuer()
    }

    /// The customer's organizations.
    pub fn orgs(&self) -> Vec<&str> {
        self.customer.orgs.iter().map(String::as_str).collect()
    }

    /// The site URL of `path` (through the tee).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.tee.url)
    }

    /// Counts a check; fails the story with `what` and where the browser is when `ok` is false.
    pub fn check(&mut self, ok: bool, what: impl std::fmt::Display) {
        assert!(
            ok,
            "{} ({}): check failed: {what}\nkbgate answered so far:\n  {}",
            self.name,
            self.customer.name,
            self.log
                .iter()
                .map(|a| a.line.as_str())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
        self.checks += 1;
    }

    /// The oracle over `bytes`; a foreign canary fails the story.
    fn scan(&mut self, bytes: &[u8], what: &str) {
        let hits = self.oracle.hits(bytes);
        self.scanned += bytes.len() as u64;
        assert!(
            hits.is_empty(),
            "LEAK to {} in {what}: {hits:?}\n{}",
            self.customer.name,
            String::from_utf8_lossy(bytes)
        );
        self.checks += 1;
    }

    /// Scans every response kbgate sent since the last call (`last`: unfinished ones too).
    pub fn scan_wire(&mut self, last: bool) {
        let responses = self
            .tee
            .take_responses(last)
            .unwrap_or_else(|e| panic!("{}: the tee recording is not usable: {e}", self.name));
        for r in responses {
            let what = format!("kbgate answer {}", r.describe());
            if r.header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
            {
                let csp = r.header("content-security-policy").unwrap_or_default();
                self.check(
                    strict_csp(csp),
                    format!("{what}: a strict Content-Security-Policy, got {csp:?}"),
                );
                self.check(
                    r.header("x-content-type-options") == Some("nosniff"),
                    format!("{what}: X-Content-Type-Options: nosniff"),
                );
            }
            self.scan(&r.raw, &what);
            if r.body != r.raw {
                self.scan(&r.body, &what);
            }
            if !self.own_seen {
                let body = String::from_utf8_lossy(&r.body).to_lowercase();
                self.own_seen = self.own.iter().any(|c| body.contains(c.as_str()));
            }
            if self.log.len() < MAX_LOG {
                self.log.push(Answer {
                    request: r.request.clone().unwrap_or_default(),
                    status: r.status,
                    location: r.header("location").map(str::to_owned),
                    line: r.describe(),
                });
            }
        }
    }

    /// Checks the page the browser shows now and returns its source: on the tee or the IdP
    /// (never kbgate directly), no `<script`, no kbgate address, and clean by the oracle (the
    /// source and everything kbgate sent since the last step).
    pub async fn page(&mut self, label: &str) -> String {
        let url = self.current_url().await;
        let source = self.client().source().await.expect("page source");
        let idp = self
            .stack
            .as_ref()
            .map(|s| s.sim.base_url())
            .unwrap_or_default();
        self.check(
            url.starts_with(&self.tee.url) || url.starts_with(&idp),
            format!("{label}: the browser is at {url}, neither kbgate (via the tee) nor the IdP"),
        );
        self.check(
            !source.to_ascii_lowercase().contains("<script"),
            format!("{label}: {url} has a <script> element"),
        );
        self.check(
            !source.contains(&self.direct),
            format!("{label}: {url} names kbgate's own address {}", self.direct),
        );
        self.scan(
            source.as_bytes(),
            &format!("page source of {label} ({url})"),
        );
        self.scan_wire(false);
        self.pages += 1;
        self.save_source(label, &source);
        source
    }

    /// kbgate's last answer to `GET <target>`, if the browser asked.
    pub fn answer_to(&self, target: &str) -> Option<&Answer> {
        let request = format!("GET {target}");
        self.log.iter().rev().find(|a| a.request == request)
    }

    /// Keeps the page source as `target/browser-artifacts/pages/<customer>-<n>-<label>.html`
    /// (for people reading a failure).
    fn save_source(&self, label: &str, source: &str) {
        let dir = artifacts_dir().join("pages");
        let slug: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let name = format!("{}-{:02}-{slug}.html", self.customer.name, self.pages);
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join(name), source);
        }
    }

    /// The browser's current URL.
    pub async fn current_url(&self) -> String {
        self.client()
            .current_url()
            .await
            .expect("current URL")
            .as_str()
            .to_owned()
    }

    /// Navigates to a site path (or an absolute URL) and checks the page.
    pub async fn goto(&mut self, path: &str, label: &str) -> String {
        let url = if path.starts_with('/') {
            self.url(path)
        } else {
            path.to_owned()
        };
        self.client().goto(&url).await.expect("navigate");
        self.page(label).await
    }

    /// The element matching `css` (fails the story when there is none).
    pub async fn find(&mut self, css: &str) -> Element {
        let found = self.client().find(Locator::Css(css)).await;
        let url = self.current_url().await;
        match found {
            Ok(e) => {
                self.checks += 1;
                e
            }
            Err(e) => {
                let source = self.client().source().await.unwrap_or_default();
                let cut: String = source.chars().take(3000).collect();
                panic!(
                    "{} ({}): no element {css} at {url}: {e}\npage:\n{cut}",
                    self.name, self.customer.name
                )
            }
        }
    }

    /// Every element matching `css` (possibly none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client()
            .find_all(Locator::Css(css))
            .await
            .expect("find elements")
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(e.text().await.expect("element text"));
        }
        out
    }

    /// Clicks `element` and waits until the browser has left `from` (bounded), then checks the
    /// new page.
    pub async fn click_to(&mut self, element: Element, label: &str) -> String {
        let from = self.current_url().await;
        element.click().await.expect("click");
        let started = Instant::now();
        while self.current_url().await == from {
            self.check(
                started.elapsed() < WAIT,
                format!("{label}: the click did not leave {from} within {WAIT:?}"),
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.page(label).await
    }

    /// Saves a screenshot as `target/browser-artifacts/<customer>-<page>.png` and prints the
    /// path.
    pub async fn screenshot(&mut self, page: &str) -> PathBuf {
        let png = self.client().screenshot().await.expect("screenshot");
        self.check(
            png.starts_with(b"\x89PNG"),
            format!("screenshot of {page} is a PNG"),
        );
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).expect("artifacts directory");
        let path = dir.join(format!("{}-{page}.png", self.customer.name));
        std::fs::write(&path, png).expect("write the screenshot");
        println!("browser: screenshot {}", path.display());
        path
    }

    /// Clicks a download link and returns the downloaded file's name and bytes, both scanned.
    pub async fn download(&mut self, link: Element) -> (String, Vec<u8>) {
        let dir = self
            .driver
            .as_ref()
            .expect("the browser runs")
            .downloads
            .0
            .clone();
        let before = files_in(&dir);
        link.click().await.expect("click the download link");
        let started = Instant::now();
        let (name, bytes) = loop {
            let done: Vec<_> = files_in(&dir)
                .into_iter()
                .filter(|n| !before.contains(n))
                // Chromium writes into `.crdownload` / hidden `.org.chromium.*` files first,
                // then renames; only the final name is a finished download.
                .filter(|n| {
                    !n.ends_with(".crdownload") && !n.ends_with(".tmp") && !n.starts_with('.')
                })
                .collect();
            if let Some(name) = done.first() {
                let path = dir.join(name);
                let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                assert!(
                    len <= crate::tee::MAX_RECORDED,
                    "download {name} is {len} bytes"
                );
                let bytes = std::fs::read(&path).expect("read the download");
                break (name.clone(), bytes);
            }
            self.check(
                started.elapsed() < WAIT,
                format!("no download appeared in {} within {WAIT:?}", dir.display()),
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.scan(name.as_bytes(), "a downloaded file's name");
        self.scan(&bytes, &format!("downloaded file {name}"));
        self.scan_wire(false);
        (name, bytes)
    }

    /// Ends the story: the last bytes scanned, browser and stack stopped, the closing line.
    pub async fn finish(mut self) {
        if let Some(driver) = self.driver.take() {
            driver.close().await;
        }
        self.scan_wire(true);
        let (own_empty, own_seen) = (self.own.is_empty(), self.own_seen);
        self.check(
            own_empty || own_seen,
            "the tee showed the oracle at least one of the customer's own canaries (it reads \
             what the browser reads)",
        );
        if let Some(stack) = self.stack.take() {
            stack.stop().await;
        }
        if std::env::var_os("KBGATE_BROWSER_LOG").is_some() {
            for a in &self.log {
                println!("browser: {} kbgate: {}", self.name, a.line);
            }
        }
        println!(
            "browser: {} ok, {} pages, {} bytes scanned, 0 foreign canaries ({} checks, {} canaries \
             watched, {} bytes through the tee)",
            self.name,
            self.pages,
            self.scanned,
            self.checks,
            self.oracle.len(),
            self.tee.recorded_bytes()
        );
    }
}
