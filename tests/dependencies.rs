//! Dependency hygiene, offline: every package locked in `Cargo.lock` is checked against our
//! advisory snapshot (`tests/data/advisories.toml`, built from the RustSec advisory database)
//! and against the version floors issue 6 asks for.
//!
//! Guarantees: the test fails, listing every offender, when a locked version is affected by a
//! RustSec vulnerability that is not explicitly ignored with a reason, when a floor is not met
//! (jsonwebtoken ≥ 10.3.0, h2 ≥ 0.4.18 and its newest patched release, rustls ≥ the patched
//! release of each of its advisories, hyper ≥ 1.12.0), or when an ignore is no longer needed.
//! Informational advisories (unsound, unmaintained) that affect a locked version are printed
//! as warnings, as `cargo audit` does.
//!
//! Deliberately not: fetching anything (the build machines cannot reach GitHub or RustSec),
//! checking crates the snapshot did not look up, or reasoning about which affected functions
//! we call; keeping the snapshot fresh is a manual step described in the data file.

// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use semver::{Op, Version, VersionReq};
use serde::Deserialize;

/// The advisory snapshot file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Snapshot {
    snapshot: Meta,
    #[serde(default)]
    ignore: Vec<Ignore>,
    advisory: Vec<Advisory>,
}

/// Where the snapshot came from and what it looked at.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    source: String,
    taken: String,
    newest_advisory: String,
    crates_checked: usize,
    checked: Vec<String>,
}

/// One RustSec advisory, reduced to the facts the check needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advisory {
    id: String,
    #[serde(rename = "crate")]
    krate: String,
    title: String,
    informational: Option<String>,
    #[serde(default)]
    withdrawn: bool,
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// An advisory accepted on purpose, with the reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ignore {
    id: String,
    #[serde(rename = "crate")]
    krate: String,
    reason: String,
}

/// The part of `Cargo.lock` we read.
#[derive(Debug, Deserialize)]
struct Lock {
    package: Vec<Locked>,
}

/// One locked package.
#[derive(Debug, Deserialize)]
struct Locked {
    name: String,
    version: String,
    source: Option<String>,
}

/// How an advisory that affects a locked version is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    /// A vulnerability: fails the test.
    Vulnerable,
    /// Unsound or unmaintained: printed as a warning.
    Informational,
    /// Listed under `[[ignore]]` with a reason: printed.
    Ignored,
}

/// One locked package affected by one advisory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    krate: String,
    version: String,
    id: String,
    title: String,
    severity: Severity,
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot() -> Snapshot {
    let path = manifest_dir().join("tests/data/advisories.toml");
    let text = std::fs::read_to_string(&path).expect("tests/data/advisories.toml is readable");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The registry packages of `Cargo.lock` (the workspace's own crate has no source).
fn locked() -> Vec<Locked> {
    let path = manifest_dir().join("Cargo.lock");
    let text = std::fs::read_to_string(&path).expect("Cargo.lock is readable");
    let lock: Lock = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    lock.package
        .into_iter()
        .filter(|p| p.source.is_some())
        .collect()
}

fn req(text: &str, id: &str) -> VersionReq {
    VersionReq::parse(text).unwrap_or_else(|e| panic!("{id}: bad requirement {text:?}: {e}"))
}

/// RustSec semantics: affected unless the version matches a `patched` or `unaffected` entry.
/// Withdrawn advisories affect nothing.
fn affects(advisory: &Advisory, version: &Version) -> bool {
    if advisory.withdrawn {
        return false;
    }
    let spared = advisory
        .patched
        .iter()
        .chain(&advisory.unaffected)
        .any(|r| req(r, &advisory.id).matches(version));
    !spared
}

/// Every locked package the snapshot knows an advisory for, with its treatment.
fn audit(snapshot: &Snapshot, packages: &[(String, Version)]) -> Vec<Finding> {
    let ignored: BTreeSet<&str> = snapshot.ignore.iter().map(|i| i.id.as_str()).collect();
    let mut findings = Vec::new();
    for (name, version) in packages {
        for advisory in snapshot.advisory.iter().filter(|a| &a.krate == name) {
            if !affects(advisory, version) {
                continue;
            }
            let severity = if ignored.contains(advisory.id.as_str()) {
                Severity::Ignored
            } else if advisory.informational.is_some() {
                Severity::Informational
            } else {
                Severity::Vulnerable
            };
            findings.push(Finding {
                krate: name.clone(),
                version: version.to_string(),
                id: advisory.id.clone(),
                title: advisory.title.clone(),
                severity,
            });
        }
    }
    findings
}

/// `(name, version)` of every registry package in `Cargo.lock`.
fn locked_versions() -> Vec<(String, Version)> {
    locked()
        .into_iter()
        .map(|p| {
            let v = Version::parse(&p.version)
                .unwrap_or_else(|e| panic!("Cargo.lock: {} {}: {e}", p.name, p.version));
            (p.name, v)
        })
        .collect()
}

/// Whether `v` is in the same compatible release line as `line` (same major, and same minor
/// for 0.x), which is how patched ranges are laid out per maintained branch.
fn same_line(v: &Version, line: &Version) -> bool {
    v.major == line.major && (line.major != 0 || v.minor == line.minor)
}

/// The lowest patched release of `advisory` in the release line of `locked`: the smallest lower
/// bound (`>=`, `>`, `^`, `~`, `=`) of its `patched` requirements in that line. `None` when the
/// advisory names no patched release in that line (e.g. it only concerns an older branch).
fn patched_floor(advisory: &Advisory, locked: &Version) -> Option<Version> {
    let mut bounds = Vec::new();
    for text in &advisory.patched {
        for c in req(text, &advisory.id).comparators {
            if !matches!(
                c.op,
                Op::GreaterEq | Op::Greater | Op::Caret | Op::Tilde | Op::Exact
            ) {
                continue;
            }
            let mut v = Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
            v.pre = c.pre.clone();
            if c.op == Op::Greater {
                v.patch += 1;
            }
            if same_line(&v, locked) {
                bounds.push(v);
            }
        }
    }
    bounds.into_iter().min()
}

/// The highest [`patched_floor`] over every advisory of `krate`.
fn newest_patched_floor(snapshot: &Snapshot, krate: &str, locked: &Version) -> Option<Version> {
    snapshot
        .advisory
        .iter()
        .filter(|a| a.krate == krate && !a.withdrawn)
        .filter_map(|a| patched_floor(a, locked))
        .max()
}

/// The locked versions of `krate` (a crate can be locked at several versions).
fn versions_of<'a>(packages: &'a [(String, Version)], krate: &str) -> Vec<&'a Version> {
    packages
        .iter()
        .filter(|(n, _)| n == krate)
        .map(|(_, v)| v)
        .collect()
}

fn write_figure(line: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let _ = std::fs::write(dir.join("dependencies.log"), format!("{line}\n"));
}

#[test]
fn every_locked_package_is_clear_of_known_advisories() {
    let snapshot = snapshot();
    let packages = locked_versions();
    let checked: BTreeSet<&str> = snapshot
        .snapshot
        .checked
        .iter()
        .map(String::as_str)
        .collect();
    let covered = packages
        .iter()
        .filter(|(n, _)| checked.contains(n.as_str()))
        .count();
    let findings = audit(&snapshot, &packages);
    let of =
        |s: Severity| -> Vec<&Finding> { findings.iter().filter(|f| f.severity == s).collect() };
    for f in of(Severity::Informational) {
        println!(
            "warning: {} {} is affected by {} ({}, {})",
            f.krate,
            f.version,
            f.id,
            f.title,
            snapshot
                .advisory
                .iter()
                .find(|a| a.id == f.id)
                .and_then(|a| a.informational.as_deref())
                .unwrap_or("informational")
        );
    }
    for f in of(Severity::Ignored) {
        let reason = snapshot
            .ignore
            .iter()
            .find(|i| i.id == f.id)
            .map_or("", |i| i.reason.as_str());
        println!(
            "ignored: {} {} is affected by {} ({}): {reason}",
            f.krate, f.version, f.id, f.title
        );
    }
    let vulnerable = of(Severity::Vulnerable);
    let line = format!(
        "dependencies: {} locked packages, {covered} covered by the advisory snapshot \
         ({} advisories, taken {}), {} vulnerable ({} ignored with a reason, {} informational)",
        packages.len(),
        snapshot.advisory.len(),
        snapshot.snapshot.taken,
        vulnerable.len(),
        of(Severity::Ignored).len(),
        of(Severity::Informational).len(),
    );
    println!("{line}");
    write_figure(&line);
    assert!(
        vulnerable.is_empty(),
        "vulnerable locked packages:\n{}",
        vulnerable
            .iter()
            .map(|f| format!("  {} {}: {} {}", f.krate, f.version, f.id, f.title))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_version_floors_of_issue_6_hold() {
    let snapshot = snapshot();
    let packages = locked_versions();
    let h2_floor = Version::new(0, 4, 18);
    // (crate, explicit floor from the issue, whether the snapshot's patched floors also apply)
    let floors: [(&str, Option<Version>, bool); 4] = [
        ("jsonwebtoken", Some(Version::new(10, 3, 0)), false),
        ("h2", Some(h2_floor), true),
        ("rustls", None, true),
        ("hyper", Some(Version::new(1, 12, 0)), false),
    ];
    let mut failures = Vec::new();
    for (krate, explicit, from_snapshot) in floors {
        let versions = versions_of(&packages, krate);
        assert!(!versions.is_empty(), "{krate} is not in Cargo.lock");
        for version in versions {
            let snap = if from_snapshot {
                newest_patched_floor(&snapshot, krate, version)
            } else {
                None
            };
            if from_snapshot && explicit.is_none() {
                assert!(
                    snap.is_some(),
                    "{krate}: the snapshot names no patched release in the {version} line"
                );
            }
            let floor = explicit.clone().into_iter().chain(snap).max();
            let Some(floor) = floor else { continue };
            println!("floor: {krate} {version} >= {floor}");
            if *version < floor {
                failures.push(format!("{krate} {version} is below {floor}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_snapshot_covers_every_crate_the_issue_names_and_is_well_formed() {
    let snapshot = snapshot();
    let meta = &snapshot.snapshot;
    assert!(!meta.source.is_empty() && !meta.newest_advisory.is_empty());
    let checked: BTreeSet<&str> = meta.checked.iter().map(String::as_str).collect();
    assert_eq!(checked.len(), meta.checked.len(), "a crate is listed twice");
    assert_eq!(
        meta.crates_checked,
        checked.len(),
        "crates_checked is stale"
    );
    let named = "hyper hyper-util h2 http httparse rustls rustls-webpki ring tokio tokio-rustls \
                 hyper-rustls jsonwebtoken quick-xml serde_json base64 moka aes-gcm-siv hmac sha2 \
                 rand flate2 idna url percent-encoding form_urlencoded tracing-subscriber regex \
                 smallvec bytes time chrono crossbeam-channel webpki-roots zeroize simple_asn1 \
                 num-bigint fantoccini maud askama";
    let missing: Vec<&str> = named
        .split_whitespace()
        .filter(|c| !checked.contains(c))
        .collect();
    assert!(missing.is_empty(), "not looked up: {missing:?}");

    let mut ids = BTreeMap::new();
    for a in &snapshot.advisory {
        assert!(
            a.id.starts_with("RUSTSEC-") && a.id.len() == "RUSTSEC-2024-0000".len(),
            "{}: not a RustSec id",
            a.id
        );
        assert!(ids.insert(a.id.as_str(), ()).is_none(), "{} twice", a.id);
        assert!(
            checked.contains(a.krate.as_str()),
            "{}: {} is not in `checked`",
            a.id,
            a.krate
        );
        assert!(!a.title.is_empty() && !a.title.contains('\n'), "{}", a.id);
        for r in a.patched.iter().chain(&a.unaffected) {
            req(r, &a.id);
        }
        if let Some(kind) = &a.informational {
            assert!(
                ["unsound", "unmaintained", "notice"].contains(&kind.as_str()),
                "{}: informational = {kind:?}",
                a.id
            );
        }
    }
}

#[test]
fn every_ignore_has_a_reason_and_is_still_needed() {
    let snapshot = snapshot();
    let packages = locked_versions();
    for ignore in &snapshot.ignore {
        assert!(
            ignore.reason.len() >= 80,
            "{}: the reason must explain why it does not apply to kbgate",
            ignore.id
        );
        let advisory = snapshot
            .advisory
            .iter()
            .find(|a| a.id == ignore.id)
            .unwrap_or_else(|| panic!("{}: ignored but not in the snapshot", ignore.id));
        assert_eq!(advisory.krate, ignore.krate, "{}", ignore.id);
        let still_affected = versions_of(&packages, &ignore.krate)
            .into_iter()
            .any(|v| affects(advisory, v));
        assert!(
            still_affected,
            "{} no longer affects any locked {}: remove the ignore",
            ignore.id, ignore.krate
        );
    }
}

/// The check itself must be able to fail: versions just below a patched release are flagged,
/// versions in an `unaffected` range are not.
#[test]
fn the_audit_flags_versions_below_a_patched_release_and_spares_unaffected_ones() {
    let snapshot = snapshot();
    let ids = |name: &str, version: &str| -> Vec<(String, Severity)> {
        let packages = vec![(name.to_owned(), Version::parse(version).unwrap())];
        audit(&snapshot, &packages)
            .into_iter()
            .map(|f| (f.id, f.severity))
            .collect()
    };
    use Severity::{Ignored, Informational, Vulnerable};
    assert_eq!(
        ids("h2", "0.4.15"),
        [("RUSTSEC-2026-0258".to_owned(), Vulnerable)]
    );
    assert!(ids("h2", "0.4.16").is_empty());
    assert_eq!(
        ids("rustls", "0.23.44"),
        [("RUSTSEC-2026-0285".to_owned(), Vulnerable)]
    );
    assert!(
        ids("rustls", "0.23.10").is_empty(),
        "0.23.10 predates both 0.23.13 bugs and has the complete_io fix"
    );
    assert_eq!(
        ids("rustls", "0.23.4")
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        ["RUSTSEC-2024-0336"]
    );
    assert_eq!(
        ids("rand", "0.8.5"),
        [("RUSTSEC-2026-0097".to_owned(), Informational)]
    );
    assert!(ids("rand", "0.8.6").is_empty());
    assert_eq!(
        ids("rsa", "0.9.10"),
        [("RUSTSEC-2023-0071".to_owned(), Ignored)]
    );
    assert_eq!(
        ids("time", "0.3.46"),
        [("RUSTSEC-2026-0009".to_owned(), Vulnerable)]
    );
    assert!(
        ids("ring", "0.17.14").is_empty(),
        "withdrawn advisories affect nothing"
    );
    assert!(!ids("hyper", "0.14.9").is_empty());

    let h2 = Version::new(0, 4, 20);
    assert_eq!(
        newest_patched_floor(&snapshot, "h2", &h2),
        Some(Version::new(0, 4, 16))
    );
    let rustls = Version::new(0, 23, 46);
    assert_eq!(
        newest_patched_floor(&snapshot, "rustls", &rustls),
        Some(Version::new(0, 23, 45))
    );
}
