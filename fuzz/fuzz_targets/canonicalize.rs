//! Fuzz target `canonicalize`: arbitrary bytes through [`kbgate_fuzz::targets::canonicalize`]; its invariants
//! are documented there. Run with `cargo +nightly fuzz run canonicalize` from `fuzz/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kbgate_fuzz::targets::canonicalize(data));
