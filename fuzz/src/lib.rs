//! kbgate's fuzz targets as a library: the logic of each target lives in `targets.rs`, which
//! `tests/fuzz_replay.rs` includes too, so every corpus file is replayed on stable through the
//! very function libFuzzer drives. The binaries in `fuzz_targets/` only call [`targets`].
#![forbid(unsafe_code)]

pub mod targets;
