//! kbgate's behaviour, told as stories over a real listening kbgate (port 0) in front of the
//! simulator. Every response of every test goes through the leak oracle.
//!
//! - `support`: the stack, a raw HTTP client, and the leak oracle.
//! - `search`: site search shows exactly the caller's articles, page after page.
//! - `content`: pages by id; hidden and missing look the same.
//! - `content_lists`: content search and the listing show exactly the caller's articles.
//! - `children`: a page's children, descendants and labels; hidden pages look missing.
//! - `datacenter`: the v1 routes without `/wiki`, with a bearer personal access token.
//! - `files`: attachments, comments, downloads, child maps, composed expansions, space content.
//! - `spaces`: only the KB space exists for a customer, reduced to its plain fields.
//! - `jsm`: JSM knowledge-base search shows exactly the caller's matching articles, in kbgate's paging.
//! - `cql_injection`: no customer query widens what they see.
//! - `tokens`: every bad token is a 401, and none reaches upstream.
//! - `paths`: ambiguous paths and methods are refused and never forwarded.
//! - `upstream_faults`: whatever upstream answers, the customer gets a checked answer or 502/504.
//! - `hygiene`: what kbgate sends upstream, and what it sends back.
//! - `explain`: `kbgate explain` gives the rule behind a decision.
//! - `webhook`: a signed webhook makes kbgate forget changed pages.
//! - `v2`: the Cloud REST v2 routes show exactly the caller's items through kbgate's cursors.
//! - `orgs`: organizations from JSM, groups (and their overage), a static file; JSM refresh and outages.
//! - `site`: the customer KB site's pages show exactly the caller's articles, with security headers.
//! - `site_articles`: links, images, attachments and listing macros of articles, per reader.
//! - `login`: browser sign-in (code + PKCE), sessions, logout, and every way to cheat them.
//! - `adversarial`: the corpus of `tests/adversarial/` (tokens, sessions, HTTP, filter), one file per case.
//! - `fault_matrix`: every upstream fault × every filtered route fails closed.
//! - `abuse`: slow and idle clients leave customers served; shutdown completes 200 in-flight requests.
//! - `in_flight`: `server.max_in_flight` bounds the API requests answered at once.
//! - `loadtest`: `kbgate loadtest` measures real figures, honours its limits, and fails a leaky run.
//! - `ops`: `/metrics` after a scripted run, `/readyz` following upstream, the canary probe.
//! - `ops_process`: a `kbgate serve` process: reload under load, SIGTERM, audit logs.

// Test helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "kbgate/support.rs"]
mod support;

#[path = "kbgate/in_flight.rs"]
mod in_flight;

#[path = "kbgate/ops.rs"]
mod ops;

#[path = "kbgate/ops_process.rs"]
mod ops_process;

#[path = "kbgate/search.rs"]
mod search;

#[path = "kbgate/content.rs"]
mod content;

#[path = "kbgate/content_lists.rs"]
mod content_lists;

#[path = "kbgate/children.rs"]
mod children;

#[path = "kbgate/files.rs"]
mod files;

#[path = "kbgate/datacenter.rs"]
mod datacenter;

#[path = "kbgate/spaces.rs"]
mod spaces;

#[path = "kbgate/jsm.rs"]
mod jsm;

#[path = "kbgate/cql_injection.rs"]
mod cql_injection;

#[path = "kbgate/tokens.rs"]
mod tokens;

#[path = "kbgate/paths.rs"]
mod paths;

#[path = "kbgate/upstream_faults.rs"]
mod upstream_faults;

#[path = "kbgate/hygiene.rs"]
mod hygiene;

#[path = "kbgate/explain.rs"]
mod explain;

#[path = "kbgate/webhook.rs"]
mod webhook;

#[path = "kbgate/v2.rs"]
mod v2;

#[path = "kbgate/keys.rs"]
mod keys;

#[path = "kbgate/login.rs"]
mod login;

#[path = "kbgate/orgs.rs"]
mod orgs;

#[path = "kbgate/site.rs"]
mod site;

#[path = "kbgate/site_articles.rs"]
mod site_articles;

#[path = "kbgate/adversarial.rs"]
mod adversarial;

#[path = "kbgate/fault_matrix.rs"]
mod fault_matrix;

#[path = "kbgate/abuse.rs"]
mod abuse;

#[path = "kbgate/loadtest.rs"]
mod loadtest;
