//! An in-process fake Confluence Cloud and identity provider for kbgate's integration tests, the
//! demo (`kbgate demo`) and load tests.
//!
//! The simulator answers with **raw JSON in the real Confluence shapes** (those of
//! `confluence-samples/`), built from its own corpus with its own JSON builder — never from
//! kbgate's types — so it is an independent oracle: a misnamed field or a policy bug in kbgate
//! cannot pass a test by agreeing with itself. It serves HTTP/1.1 on a listener the caller binds
//! (port 0 in tests) and records every request it sees.
//!
//! # Layout
//! - [`corpus`]: the seeded content and the simulator's own audience model; `corpus_data` is the
//!   content table.
//! - `cql` / `cql_eval`: CQL tokenizer, parser (Confluence's refusals included) and evaluator.
//! - `confluence`, `content`, `body`, `json`: JSON builders for content, spaces, labels, search results;
//!   storage and rendered (`view`) bodies; an ordered JSON writer.
//! - `search`: `GET /wiki/rest/api/search` with paging, cursors and highlighting.
//! - `content_list`: `GET /wiki/rest/api/content/search` and the `GET /wiki/rest/api/content`
//!   listing, as content lists.
//! - `http`: the server, authentication, routing, request log.
//! - [`faults`]: misbehaving-upstream modes ([`Fault`]).
//! - [`idp`]: demo keys, JWKS, OpenID discovery, token minting; key rotation, re-keying, IdP
//!   outages (503) and a JWKS fetch counter (`idp::KeyRing`, driven through [`SimHandle`]).
//!
//! # Routes
//! - `GET /wiki/rest/api/search?cql=&start=&limit=&cursor=&expand=&excerpt=`
//! - `GET /wiki/rest/api/content/{id}?expand=` (`body.storage`, `body.view`, `body.export_view`,
//!   `body.styled_view`, `body.anonymous_export_view`, `space`, `space.homepage`, `version`,
//!   `ancestors`, `metadata.labels`, `history`, `container`, `children.page`,
//!   `descendants.page`; nested, e.g. `ancestors.metadata.labels`; unknown ones ignored)
//! - `GET /wiki/rest/api/content/search?cql=&start=&limit=&cursor=&expand=` (content list)
//! - `GET /wiki/rest/api/content?spaceKey=&type=&title=&start=&limit=&expand=` (content list)
//! - `GET /wiki/rest/api/content/{id}/label`, `GET /wiki/rest/api/content/{id}/child/page`,
//!   `GET /wiki/rest/api/content/{id}/descendant/page` (every page below, in corpus order)
//! - [`jsm`]: `GET /rest/servicedeskapi/knowledgebase/article?query=&start=&limit=&highlight=`
//!   and `GET /rest/servicedeskapi/servicedesk/1/knowledgebase/article?…` (JSM KB search; other
//!   desks 404)
//! - `v2` (Cloud REST v2, `GET /wiki/api/v2/…`): `pages?id=&space-id=&title=&status=&body-format=&sort=&limit=&cursor=`,
//!   `pages/{id}?body-format=&include-labels=&include-direct-children=&include-version=`,
//!   `pages/{id}/children`, `…/direct-children`, `…/descendants?depth=`, `…/ancestors`,
//!   `…/labels?prefix=&sort=`, `…/attachments?mediaType=&filename=`,
//!   `…/footer-comments?body-format=`, `blogposts`, `blogposts/{id}`, `spaces?ids=&keys=`,
//!   `spaces/{id}`, `spaces/{id}/pages?depth=root|all`, `labels?label-id=&prefix=`,
//!   `labels/{id}/pages` (cursor paging: `_links.next` + `Link` header; v2 error shape)
//! - `GET /wiki/download/attachments/{pageId}/{fileName}` (attachment bytes)
//! - [`jsm_orgs`]: `GET /rest/servicedeskapi/organization?start=&limit=`, `…/organization/{id}`,
//!   `…/organization/{id}/user?start=&limit=` (JSM customer organizations; the JSM agent's or
//!   the service account's Basic credentials)
//! - `GET /idp/.well-known/openid-configuration`, `GET /idp/.well-known/jwks.json`
//!
//! `/wiki` requires `Authorization: Basic base64(service_email:service_token)` (else 401). The
//! service account sees everything, ENG included. Anything else answers 404 in Confluence's
//! error shape.
//!
//! # Fixed content ids (independent of the seed; constants in [`corpus`])
//! | id | what | audience |
//! |---|---|---|
//! | 100001 | KB home page, sections + `children` macro | shared |
//! | 100002–100004 | "Getting started" and shared children | shared |
//! | 100005 | acme page under the shared "Getting started" | acme |
//! | 100006 | globex page under "Getting started" | globex |
//! | 100007–100010 | "Billing" (shared), shared/acme/globex invoice articles | mixed |
//! | 100011 | labelled `org-acme` and `org-globex` | acme, globex |
//! | 100012 | "Acme onboarding", acme parent | acme |
//! | 100013, 100014 | unlabelled page under 100012 and its child (breadcrumbs name 100012) | shared |
//! | 100015, 100016 | acme pages under 100012 (4 levels deep) | acme |
//! | 100017–100018 | "Security" and a shared child | shared |
//! | 100019 | `kb-internal` article | nobody |
//! | 100020, 100022 | globex pages; 100021 globex + `kb-internal` | globex; nobody |
//! | 100023 | shared page 5 levels deep under globex pages | shared |
//! | 100024 | FAQ | shared |
//! | 100025 | shared page whose **storage body names 100005 by title** (`ri:content-title`) | shared |
//! | 100026–100028 | acme, globex, initech (label) articles | per label |
//! | 100029–100035 | shared articles (100030 has `"`, `&`, `<`, `>` in its title) | shared |
//! | 100040 | shared blog post; 100041 acme blog post; 100042 globex blog post | mixed |
//! | 200000 | initech subtree root, unlabelled | initech (subtree) |
//! | 200001–200003, 200005 | under 200000 (unlabelled or `org-initech`) | initech |
//! | 200004 | under 200000 but labelled `org-acme`: restrictions intersect to nothing | nobody |
//! | 300001–300004 | ENG space pages (300004 even labelled `org-acme`) | nobody |
//! | 300005 | ENG blog post | nobody |
//!
//! Every non-shared item carries a canary `CANARY-<tag>-<6 hex>` (tag: the orgs joined by `-`,
//! `internal`, `eng` or `nobody`) in its title, body, excerpt and, lower-cased, as a label; scan
//! case-insensitively. Rendered bodies (`body.view` …) list children by title as the service
//! account — that they leak is the point.
//!
//! Guarantees: deterministic for a seed; bounded memory (request log capped at
//! [`MAX_RECORDED`], faults stream). Deliberately not: Confluence's write APIs, TLS.

mod body;
mod confluence;
mod content;
mod content_list;
pub mod corpus;
mod corpus_data;
pub mod corpus_files;
mod cql;
mod cql_eval;
mod dates;
mod download;
pub mod faults;
mod faults_conn;
mod faults_http;
mod files_json;
mod http;
pub mod idp;
mod idp_login;
pub mod jsm;
pub mod jsm_orgs;
mod json;
mod search;
mod spaces;
mod v2;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod faults_tests;
#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod v2_tests;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use corpus::{Audience, ContentKind, Corpus, SimItem, SimSpace};
pub use faults::Fault;
pub use idp::{mint_with, mint_with_key, try_mint_with_key, SigningKey, TokenError};

/// Most requests kept by [`SimHandle::requests`] (oldest dropped first).
pub const MAX_RECORDED: usize = 10_000;

/// How to start the simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Service-account email expected in Basic credentials.
    pub service_email: String,
    /// Service-account API token expected in Basic credentials.
    pub service_token: String,
    /// Seed of the corpus (canaries, dates, versions).
    pub seed: u64,
    /// Answer as Confluence Data Center: REST under `/rest/api` and downloads under
    /// `/download` (no `/wiki`), and the service account authenticates with
    /// `Authorization: Bearer <service_token>` (a personal access token).
    pub datacenter: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            service_email: "svc@kbgate.example".to_owned(),
            service_token: "sim-token".to_owned(),
            seed: 7,
            datacenter: false,
        }
    }
}

/// One request the simulator received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query, as sent.
    pub path_and_query: String,
    /// Every header (name lower-case, value lossily decoded), credentials included.
    pub headers: Vec<(String, String)>,
}

/// A demo customer of the simulated identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    /// Short name (`alice`).
    pub name: String,
    /// `sub` claim.
    pub subject: String,
    /// `email` claim.
    pub email: String,
    /// `kb_orgs` claim.
    pub orgs: Vec<String>,
}

/// The demo customers: alice (acme), bob (globex), carol (initech), dave (no org), erin (acme
/// and globex).
pub fn demo_customers() -> Vec<DemoCustomer> {
    let c = |name: &str, domain: &str, orgs: &[&str]| DemoCustomer {
        name: name.to_owned(),
        subject: format!("demo|{name}"),
        email: format!("{name}@{domain}"),
        orgs: orgs.iter().map(|o| (*o).to_owned()).collect(),
    };
    vec![
        c("alice", "acme.example", &["acme"]),
        c("bob", "globex.example", &["globex"]),
        c("carol", "initech.example", &["initech"]),
        c("dave", "nowhere.example", &[]),
        c("erin", "acme-globex.example", &["acme", "globex"]),
    ]
}

/// State shared by the handle and the server task.
pub(crate) struct State {
    pub opts: SimOptions,
    pub corpus: Corpus,
    pub base_url: String,
    pub issuer: String,
    /// The IdP's signing keys, outage switch and JWKS fetch counter.
    pub idp_keys: idp::KeyRing,
    pub fault: Mutex<Option<Fault>>,
    /// Bumped when a connection fault is set or cleared: hyper's keep-alive connections close
    /// (see `faults_conn`).
    pub fault_epoch: watch::Sender<u64>,
    pub requests: Mutex<VecDeque<RecordedRequest>>,
    /// The JSM organizations API's members, outage switch and fetch counter.
    pub jsm_orgs: jsm_orgs::OrgsState,
    /// The IdP's outstanding authorization codes (browser sign-in).
    pub idp_login: idp_login::CodeStore,
}

struct Inner {
    state: Arc<State>,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
}

/// A running simulator. Cheap to clone; the server stops on [`SimHandle::shutdown`] or when the
/// last clone is dropped.
#[derive(Clone)]
pub struct SimHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

/// Starts the simulator on `listener` (serving in a spawned task) and returns its handle.
pub async fn start(listener: TcpListener, opts: SimOptions) -> std::io::Result<SimHandle> {
    let addr = listener.local_addr()?;
    let base_url = format!("http://{addr}");
    let idp_keys =
        idp::KeyRing::new().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let state = Arc::new(State {
        corpus: Corpus::generate(opts.seed),
        opts,
        issuer: format!("{base_url}/idp"),
        base_url,
        idp_keys,
        fault: Mutex::new(None),
        fault_epoch: watch::channel(0).0,
        requests: Mutex::new(VecDeque::new()),
        jsm_orgs: jsm_orgs::OrgsState::new(),
        idp_login: idp_login::CodeStore::new(),
    });
    let (shutdown, rx) = watch::channel(false);
    tokio::spawn(http::serve(listener, Arc::clone(&state), rx));
    Ok(SimHandle {
        inner: Arc::new(Inner {
            state,
            addr,
            shutdown,
        }),
    })
}

impl SimHandle {
    fn state(&self) -> &State {
        &self.inner.state
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: the Confluence base URL (the API lives under `/wiki`).
    pub fn base_url(&self) -> String {
        self.state().base_url.clone()
    }

    /// `http://127.0.0.1:PORT/idp`: the `iss` of minted tokens.
    pub fn issuer(&self) -> String {
        self.state().issuer.clone()
    }

    /// `<issuer>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.state().issuer)
    }

    /// The simulated content.
    /// True when the simulator answers as Data Center.
    pub fn datacenter(&self) -> bool {
        self.state().opts.datacenter
    }

    pub fn corpus(&self) -> &Corpus {
        &self.state().corpus
    }

    /// Sets (or with `None` clears) the fault applied to every `/wiki/…` and JSM answer.
    /// Setting or clearing a connection fault ([`Fault::takes_over_connection`]) also closes
    /// the idle keep-alive connections, so the next request meets the fault on a new one.
    pub fn set_fault(&self, fault: Option<Fault>) {
        let mut slot = self.state().fault.lock().unwrap_or_else(|e| e.into_inner());
        let reconnect = faults_conn::needs_reconnect(slot.as_ref(), fault.as_ref());
        *slot = fault;
        drop(slot);
        if reconnect {
            self.state()
                .fault_epoch
                .send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// The requests seen so far, oldest first (at most [`MAX_RECORDED`]).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        let log = self
            .state()
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        log.iter().cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state()
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// A valid RS256 token for `customer`, signed with the IdP's current key under its kid
    /// (`demo-rsa-1` until a rotation): `iss` = [`Self::issuer`], `aud`, `sub`, `email`, `iat`,
    /// `nbf`, `exp` = now + `ttl`, `kb_orgs`. (Minting cannot fail with the checked-in keys; see
    /// [`mint_with_key`] for what a failure would return.)
    pub fn mint_token(&self, customer: &DemoCustomer, audience: &str, ttl: Duration) -> String {
        let claims = idp::customer_claims(customer, &self.issuer(), audience, ttl);
        self.mint_claims(&claims)
    }

    /// Signs any `claims` with the IdP's current key under its kid (a never-valid marker string
    /// if signing failed).
    pub fn mint_claims(&self, claims: &serde_json::Value) -> String {
        self.state()
            .idp_keys
            .mint(claims)
            .unwrap_or_else(|e| idp::failed(&e))
    }

    /// Rotates the IdP's signing key: publishes the next checked-in key under a new kid (which
    /// signs from now on) and keeps (`keep_old`) or drops the older keys. Returns the new kid.
    pub fn rotate_idp_key(&self, keep_old: bool) -> Result<String, TokenError> {
        self.state().idp_keys.rotate(keep_old)
    }

    /// Replaces the key under the current kid with new key material (same kid). Returns the kid.
    pub fn rekey_idp_key(&self) -> Result<String, TokenError> {
        self.state().idp_keys.rekey()
    }

    /// The kid new tokens are signed under.
    pub fn idp_kid(&self) -> String {
        self.state().idp_keys.current_kid()
    }

    /// Takes the IdP down (`true`: JWKS and discovery answer 503) or brings it back.
    pub fn set_idp_down(&self, down: bool) {
        self.state().idp_keys.set_down(down);
    }

    /// JWKS requests the IdP has answered (while down too).
    pub fn jwks_fetches(&self) -> u64 {
        self.state().idp_keys.jwks_fetches()
    }

    /// Makes the discovery document name another `issuer` (`None`: the real one again).
    pub fn set_idp_discovery_issuer(&self, issuer: Option<String>) {
        self.state().idp_keys.set_discovery_issuer(issuer);
    }

    /// Stops accepting and ends the server task and its connections.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}
