//! The customer KB site in a real headless Chromium, driven over WebDriver (fantoccini +
//! chromedriver): customers of different organizations sign in at the demo identity provider,
//! browse, search, read, download and sign out, and the leak oracle scans every byte the browser
//! got from kbgate.
//!
//! The stories are `#[ignore]`d (they need Chromium); `scripts/browser-tests.sh` installs
//! Chromium and chromedriver when missing and runs them with
//! `cargo test --test browser -- --ignored --test-threads=1`. The plain unit tests of the
//! harness (framing, decoding, oracle) always run.
//!
//! - `driver`: chromedriver + Chromium (fresh profile, download directory), killed on drop.
//! - `tee`: the recording TCP tee in front of kbgate; `wire`: its HTTP/1.1 framing and decoding.
//! - `oracle`: the foreign canaries of a customer, found in every disguise.
//! - `harness`: one story's world (stack, tee, browser, oracle) and its checked steps; `rules`:
//!   its small pure helpers (strict CSP, the `public_url` edit, plain titles).
//! - `stories`: sign-in, home, search, articles, links, downloads, sign-out; paging; keyboard.

// Test helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "browser/driver.rs"]
mod driver;
#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/oracle.rs"]
mod oracle;
#[path = "browser/rules.rs"]
mod rules;
#[path = "browser/stories.rs"]
mod stories;
#[path = "browser/tee.rs"]
mod tee;
#[path = "browser/wire.rs"]
mod wire;
