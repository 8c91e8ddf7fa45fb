//! Fuzz target `storage_rewrite`: arbitrary bytes through [`kbgate_fuzz::targets::storage_rewrite`]; its invariants
//! are documented there. Run with `cargo +nightly fuzz run storage_rewrite` from `fuzz/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kbgate_fuzz::targets::storage_rewrite(data));
