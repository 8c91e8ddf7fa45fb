//! Benchmarks of the one canonicalizer and route table (`route::classify_for`): every request
//! passes through it before anything else is decided. Targets are typical customer requests,
//! plus a percent-encoded one that takes the slow path. Run with `cargo bench --bench route`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark setup, not request-path code

use divan::{black_box, Bencher};
use http::{Method, Uri};
use kbgate::route::{classify_for, Site};

fn main() {
    divan::main();
}

const TARGETS: &[(&str, &str)] = &[
    (
        "search",
        "/wiki/rest/api/search?cql=type%20%3D%20page%20and%20text%20~%20%22vpn%22&limit=25&start=0",
    ),
    (
        "content",
        "/wiki/rest/api/content/100012?expand=body.storage,ancestors,metadata.labels,version",
    ),
    (
        "children",
        "/wiki/rest/api/content/100012/child/page?limit=50",
    ),
    (
        "download",
        "/wiki/download/attachments/100012/vpn%20setup%20guide.pdf",
    ),
    (
        "v2_page",
        "/wiki/api/v2/pages/100012?body-format=storage&include-labels=true",
    ),
];

#[divan::bench(args = ["search", "content", "children", "download", "v2_page"])]
fn classify(bencher: Bencher, name: &str) {
    let target = TARGETS.iter().find(|(n, _)| *n == name).unwrap().1;
    let uri: Uri = target.parse().unwrap();
    classify_for(Site::Cloud, &Method::GET, &uri).unwrap();
    bencher.bench(|| classify_for(Site::Cloud, &Method::GET, black_box(&uri)).unwrap());
}
