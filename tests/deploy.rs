//! The deployment files under `deploy/` stay true to the binary, offline and fast.
//!
//! - every YAML file (Helm templates aside) parses, every document of it;
//! - the plain Kubernetes manifests (standalone, sidecar) run `kbgate serve --config
//!   /etc/kbgate/kbgate.toml` with the documented ports, probes, security context and grace
//!   period, and their ConfigMap's kbgate.toml is a configuration kbgate accepts, loaded with the
//!   environment the container gets (secrets as placeholders, optional ones absent);
//! - the Helm chart's values hold the same facts and a valid default config, its templates use
//!   only values that exist and have balanced blocks, and it embeds the alerts file verbatim;
//! - every alert rule is complete and names only metrics kbgate exposes;
//! - the systemd unit serves, reloads on SIGHUP and keeps its hardening; the Dockerfile builds
//!   and runs kbgate the documented way.
//!
//! Deliberately not: rendering the chart (helm is not installed here), talking to a cluster, or
//! building the image.

// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "deploy/chart.rs"]
mod chart;
#[path = "deploy/manifests.rs"]
mod manifests;
#[path = "deploy/ops.rs"]
mod ops;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kbgate::config::Config;
use yaml_rust2::{Yaml, YamlLoader};

const CONFIG_PATH: &str = "/etc/kbgate/kbgate.toml";
const SERVE: [&str; 3] = ["serve", "--config", CONFIG_PATH];
/// Stands in for every required secret (long enough for each length rule).
const PLACEHOLDER_SECRET: &str = "placeholder-secret-placeholder-secret-0123456789";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn deploy(rel: &str) -> PathBuf {
    repo().join("deploy").join(rel)
}

/// `text`'s lines, trimmed, after checking that it has every non-blank line of `expected`.
fn has_lines<'a>(text: &'a str, expected: &str, what: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for line in expected.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(lines.contains(&line), "{what} lacks {line}");
    }
    lines
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every document of a YAML file; a parse error fails with the file's name.
fn load_yaml(path: &Path) -> Vec<Yaml> {
    let docs = YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
    assert!(!docs.is_empty(), "{} has no YAML document", path.display());
    docs
}

/// YAML files under `dir`, recursively, except in Helm `templates/` folders.
fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() && path.file_name().is_some_and(|n| n != "templates") {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
}

/// The node at a dotted path (`a.b.0.c`; numbers index lists), or `BadValue`.
fn at<'a>(y: &'a Yaml, path: &str) -> &'a Yaml {
    path.split('.')
        .fold(y, |node, key| match key.parse::<usize>() {
            Ok(i) if node.is_array() => &node[i],
            _ => &node[key],
        })
}

/// A scalar as text (`""` for anything else).
fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

fn s(y: &Yaml) -> &str {
    y.as_str().unwrap_or("")
}

fn list(y: &Yaml) -> &[Yaml] {
    y.as_vec().map(Vec::as_slice).unwrap_or(&[])
}

fn int(y: &Yaml, path: &str) -> i64 {
    at(y, path)
        .as_i64()
        .unwrap_or_else(|| panic!("{path} is not a number"))
}

/// Checks `path value` lines against a node.
fn check_facts(y: &Yaml, facts: &str, what: &str) {
    for line in facts.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (path, want) = line.split_once(' ').unwrap();
        assert_eq!(text(at(y, path)), want, "{what}: {path}");
    }
}

/// The last path segment of an image reference, without tag or digest.
fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split(':').next().unwrap_or(last)
}

/// Loads kbgate.toml text as kbgate would with exactly these environment variables.
fn load_config(toml: &str, env: &BTreeMap<String, String>, what: &str) -> Config {
    Config::from_toml(toml, Path::new(CONFIG_PATH), &|name| env.get(name).cloned())
        .unwrap_or_else(|e| panic!("{what}: kbgate refuses its kbgate.toml:\n{e}"))
}

/// Checks the loaded config's listeners and drain against the pod's grace period.
fn check_config(config: &Config, loopback: bool, grace: i64, pre_stop: i64, what: &str) {
    assert_eq!(
        config.server.admin_listen,
        Some("0.0.0.0:9090".parse().unwrap()),
        "{what}"
    );
    assert_eq!(config.server.listen.port(), 8080, "{what}: listener port");
    assert_eq!(
        config.server.listen.ip().is_loopback(),
        loopback,
        "{what}: listen address"
    );
    let drain = i64::try_from(config.server.drain_timeout.as_secs()).unwrap();
    assert!(
        grace >= 35 && grace >= pre_stop + drain,
        "{what}: grace period {grace}s"
    );
}

#[test]
fn every_yaml_file_parses() {
    let mut files = Vec::new();
    yaml_files(&repo().join("deploy"), &mut files);
    assert!(
        files.len() >= 15,
        "only {} YAML files under deploy/",
        files.len()
    );
    for file in &files {
        load_yaml(file);
    }
}
