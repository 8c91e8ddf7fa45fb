//! kbgate: an authorizing reverse proxy in front of a Confluence knowledge base.
//!
//! Each customer organization sees the shared articles plus its own, and no byte of any other
//! organization's: not a title, excerpt, body, label, id or count. See `DESIGN.md` in the shared
//! folder for the leak model; this crate follows its module map.
//!
//! # Layout
//! - [`config`]: TOML on disk → validated [`config::Config`]; every problem reported at once.
//! - [`server`]: listeners, connection limits, timeouts, TLS, graceful shutdown.
//! - [`auth`]: bearer JWT verification against per-issuer key sets (JWKS, discovery, refresh).
//! - [`orgs`]: identity → organizations (claim, groups, email domains, static map, JSM
//!   customer organizations; the first source that knows the customer decides).
//! - [`login`]: browser sign-in (OIDC authorization code + PKCE) and signed session cookies.
//! - [`route`]: the one canonicalizer and the allowlisted route table.
//! - [`policy`]: pure visibility rules and the CQL wrapper.
//! - [`confluence`]: the upstream client and the metadata index.
//! - [`filter`]: response rewriting (v1, v2, ADF, JSM shapes) without a JSON DOM.
//! - [`proxy`]: the life of one API request, step by step.
//! - [`app`]: the request entry point: routing between ops, API and errors.
//! - [`sim`]: a simulated Confluence + identity provider for tests and the demo.
//! - [`loadtest`]: `kbgate loadtest`: load, latency and the leak oracle on a sample of answers.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod confluence;
pub mod demo;
pub mod explain;
pub mod filter;
pub mod hooks;
pub mod http_client;
pub mod ids;
pub mod loadtest;
pub mod login;
pub mod metrics;
pub mod orgs;
pub mod policy;
pub mod portal;
pub mod probe;
pub mod proxy;
pub mod reload;
pub mod response;
pub mod route;
pub mod server;
pub mod sim;
pub mod telemetry;
