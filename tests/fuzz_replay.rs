//! Replays every fuzz corpus and artifact file through its target's function on stable, so the
//! seed corpora (and any crasher ever committed) are ordinary CI tests (threats.md §3.2 suite
//! C). The functions are the very ones libFuzzer drives: `fuzz/src/targets.rs`, included here
//! by path.
//!
//! Layout read: `fuzz/corpus/<target>/*` and `fuzz/artifacts/<target>/*` (crashers, if any);
//! a directory that names no target fails the test. Each file runs in isolation: a panic is
//! reported with the file's path, and every failing file is listed before the test fails.
//!
//! Deliberately not done: fuzzing itself (`scripts/fuzz.sh`, nightly only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};

/// Fewest seed files a target's corpus must keep (the seeds are the point of the replay).
const MIN_SEEDS: usize = 20;

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files
}

/// Runs `target` on every file of `dir`; returns (files run, failures as "path: message").
fn replay(target: &str, dir: &Path) -> (usize, Vec<String>) {
    let files = files_in(dir);
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| targets::run(target, &data));
        match outcome {
            Ok(true) => {}
            Ok(false) => failures.push(format!("{}: no target named {target}", file.display())),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", file.display()));
            }
        }
    }
    (files.len(), failures)
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn every_corpus_and_artifact_file_passes_its_target() {
    let mut failures = Vec::new();
    let mut counts = Vec::new();
    for kind in ["corpus", "artifacts"] {
        let Ok(dirs) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for dir in dirs.map(|d| d.unwrap().path()).filter(|d| d.is_dir()) {
            let target = dir.file_name().unwrap().to_string_lossy().into_owned();
            if !targets::TARGETS.contains(&target.as_str()) {
                failures.push(format!("{}: no target named {target}", dir.display()));
                continue;
            }
            let (n, failed) = replay(&target, &dir);
            counts.push(format!("{kind}/{target}: {n}"));
            failures.extend(failed);
        }
    }
    counts.sort();
    eprintln!("replayed {}", counts.join(", "));
    assert!(
        failures.is_empty(),
        "{} failing files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_seed_corpus() {
    for target in targets::TARGETS {
        let n = files_in(&fuzz_dir().join("corpus").join(target)).len();
        assert!(
            n >= MIN_SEEDS,
            "fuzz/corpus/{target} has {n} seeds, want ≥ {MIN_SEEDS}"
        );
    }
}

/// The invariant checkers themselves can fail: a replay that passes means something.
#[test]
#[should_panic(expected = "javascript: URL")]
fn the_html_checker_catches_a_javascript_url() {
    targets::assert_safe_html(
        r#"<p><a href="java&#9;script:x()">x</a></p>"#.replace("&#9;", "\t").as_str(),
    );
}

#[test]
#[should_panic(expected = "event handler attribute")]
fn the_html_checker_catches_an_event_handler() {
    targets::assert_safe_html(r#"<p title="a onclick=x" onclick="x()">x</p>"#);
}

#[test]
fn the_html_checker_accepts_kbgates_escaped_output() {
    targets::assert_safe_html(
        r#"<p title="onclick=&quot;x&quot; javascript&#39;">javascript: is text &lt;script&gt;</p><a href="https://ok.example/">ok</a>"#,
    );
}

#[test]
#[should_panic(expected = "%2F")]
fn the_path_checker_catches_an_encoded_slash() {
    targets::assert_forwardable("/wiki/rest/api/a%2fb");
}

#[test]
#[should_panic(expected = "rejected id 77771")]
fn the_json_checker_catches_a_rejected_id() {
    let input = br#"{"results":[{"id":"77771"}]}"#;
    targets::check_json_output("test", input, br#"{"x":["/pages/77771/t"]}"#, &["77771"]);
}

/// The harness's verifier really accepts a good token, so its refusals are the verifier's.
#[test]
#[should_panic(expected = "a token no key signed verified")]
fn the_token_target_notices_a_token_that_verifies() {
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(include_bytes!("../testdata/keys/demo-rsa.pem"))
            .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": targets::RSA_ISSUER, "aud": "kbgate", "sub": "alice", "exp": now + 600, "iat": now,
    });
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    targets::token(token.as_bytes());
}

/// Found by the first 60 s run: an `https:` URL whose path spells `javascript:` is no script
/// URL; the checker looks at the scheme only (the input stays in the storage corpus).
#[test]
fn the_html_checker_accepts_an_https_url_with_javascript_in_its_path() {
    targets::assert_safe_html(r#"<a href="https://x&lt;div&gt;&gt;javascript:N">x</a>"#);
}
