//! Fuzz target `token`: arbitrary bytes through [`kbgate_fuzz::targets::token`]; its invariants
//! are documented there. Run with `cargo +nightly fuzz run token` from `fuzz/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kbgate_fuzz::targets::token(data));
