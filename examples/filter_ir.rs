//! Runs the response filter on one benchmark fixture a given number of times, for instruction
//! counting under valgrind (`scripts/bench-ir.sh`): Ir per response is the difference between a
//! run of N+k and a run of N iterations, divided by k, so fixture building cancels out.
//!
//! Usage: `filter_ir <search25|search200|search25-distinct|content200k> <iterations>`;
//! `search25-distinct` repeats no sub-object between results (the scan memo's worst case).
#![allow(clippy::unwrap_used, clippy::expect_used)] // measurement tool, not request-path code

use std::hint::black_box;
use std::process::ExitCode;

#[path = "../benches/support/fixtures.rs"]
mod fixtures;
use fixtures::{
    content_body, filter_content, filter_search, search_body, search_body_distinct, visible,
    visible_distinct,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(fixture), Some(Ok(iterations))) =
        (args.get(1), args.get(2).map(|n| n.parse::<u32>()))
    else {
        eprintln!(
            "usage: filter_ir <search25|search200|search25-distinct|content200k> <iterations>"
        );
        return ExitCode::from(2);
    };
    let out = match fixture.as_str() {
        "search25" | "search200" | "search25-distinct" => {
            let n = if fixture == "search200" { 200 } else { 25 };
            let body = if fixture == "search25-distinct" {
                search_body_distinct(n)
            } else {
                search_body(n)
            };
            let vis = if fixture == "search25-distinct" {
                visible_distinct(n)
            } else {
                visible(n)
            };
            let mut out = 0;
            for _ in 0..iterations {
                out = filter_search(black_box(&body), &vis);
            }
            println!("bytes {}", body.len());
            out
        }
        "content200k" => {
            let body = content_body(200 * 1024);
            let vis = visible(1);
            let mut out = 0;
            for _ in 0..iterations {
                out = filter_content(black_box(&body), &vis);
            }
            println!("bytes {}", body.len());
            out
        }
        other => {
            eprintln!("filter_ir: unknown fixture {other}");
            return ExitCode::from(2);
        }
    };
    println!("output {out}");
    ExitCode::SUCCESS
}
