//! Benchmarks of the response filter (scan + render) on realistic Confluence answers.
//!
//! Fixtures are built here by string building, in the shape of `confluence-samples/`
//! (`cloud-v1-search.json` with `expand=content.space,content.metadata.labels,content.ancestors,
//! content.version`): ~1.4 KB per search result, half of them another organization's (their own
//! label and a foreign ancestor), and a content-by-id answer with a ~200 KB storage body.
//! The predicate is an `IdMap` lookup, as the proxy's decisions map is.
//!
//! Run with `cargo bench --bench filter`. The goal (research/performance.md, G4) is ≤ 30 µs for
//! the 25-result answer; `serde_ignored_any` is the "validate once" yardstick it is compared to.
//!
//! Not measured here: the proxy's metadata lookups and policy decisions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark setup, not request-path code

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use kbgate::filter::{render_search, scan_search};

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{content_body, filter_content, filter_search, search_body, visible, SEARCH_LINKS};

fn main() {
    divan::main();
}

#[divan::bench(args = [25, 200])]
fn search_scan_and_render(bencher: Bencher, n: usize) {
    let body = search_body(n);
    let vis = visible(n);
    let scan = scan_search(&body).unwrap();
    let rendered = render_search(&scan, &body, &|id| vis.contains_key(id), &SEARCH_LINKS).unwrap();
    assert_eq!((rendered.kept, rendered.removed), (n.div_ceil(2), n / 2));
    bencher
        .counter(BytesCount::of_slice(&body))
        .bench(|| filter_search(black_box(&body), &vis));
}

#[divan::bench(args = [25, 200])]
fn search_scan_only(bencher: Bencher, n: usize) {
    let body = search_body(n);
    bencher
        .counter(BytesCount::of_slice(&body))
        .bench(|| scan_search(black_box(&body)).unwrap().results().len());
}

/// The yardstick: validating the same bytes with serde_json and nothing else.
#[divan::bench(args = [25, 200])]
fn serde_ignored_any(bencher: Bencher, n: usize) {
    let body = search_body(n);
    bencher.counter(BytesCount::of_slice(&body)).bench(|| {
        let text = std::str::from_utf8(black_box(&body)).unwrap();
        serde_json::from_str::<serde::de::IgnoredAny>(text).unwrap()
    });
}

#[divan::bench]
fn content_200kb_scan_and_render(bencher: Bencher) {
    let body = content_body(200 * 1024);
    let vis = visible(1);
    filter_content(&body, &vis);
    bencher
        .counter(BytesCount::of_slice(&body))
        .bench(|| filter_content(black_box(&body), &vis));
}
