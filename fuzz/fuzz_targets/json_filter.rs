//! Fuzz target `json_filter`: arbitrary bytes through [`kbgate_fuzz::targets::json_filter`]; its invariants
//! are documented there. Run with `cargo +nightly fuzz run json_filter` from `fuzz/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kbgate_fuzz::targets::json_filter(data));
