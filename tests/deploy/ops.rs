//! The alert rules, the systemd unit and the Dockerfile.

use super::*;

/// Every series name kbgate's `/metrics` exposes (histograms with their `_bucket`, `_sum` and
/// `_count`), read from the real registry with one sample of every kind.
fn exposed() -> std::collections::BTreeSet<String> {
    use kbgate::metrics::{CacheFigures, KeyFigures, Metrics, Snapshot};
    let m = std::sync::Arc::new(Metrics::new());
    m.request("search", 200, std::time::Duration::from_millis(1));
    m.upstream("json", std::time::Duration::from_millis(1));
    m.upstream_error("timeout");
    m.hidden("other_org_label");
    m.filtered(1);
    m.probe_orgs(["acme"]);
    let text = m.render(Snapshot {
        caches: vec![CacheFigures {
            name: "tokens",
            entries: 1,
            hits: 1,
            misses: 1,
        }],
        keys: vec![KeyFigures {
            issuer: "https://idp".into(),
            refreshed: 1,
            failed: 0,
        }],
        checks: vec![("upstream", true)],
    });
    // Samples' names, and families' names from their `# TYPE` lines (a histogram's family
    // name has no sample of its own).
    text.lines()
        .filter_map(|l| match l.strip_prefix("# TYPE ") {
            Some(family) => family.split(' ').next(),
            None if l.starts_with('#') => None,
            None => l.split(['{', ' ']).next(),
        })
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Lines the systemd unit must have.
const UNIT_LINES: &str = "
    ExecStart=/usr/local/bin/kbgate serve --config /etc/kbgate/kbgate.toml
    ExecReload=/bin/kill -HUP $MAINPID
    ConfigurationDirectory=kbgate
    DynamicUser=yes
    PrivateUsers=yes
    NoNewPrivileges=yes
    CapabilityBoundingSet=
    AmbientCapabilities=
    RestrictSUIDSGID=yes
    UMask=0077
    RemoveIPC=yes
    ProtectSystem=strict
    ProtectHome=yes
    PrivateTmp=yes
    PrivateDevices=yes
    ProtectProc=invisible
    ProcSubset=pid
    ProtectKernelTunables=yes
    ProtectKernelModules=yes
    ProtectKernelLogs=yes
    ProtectControlGroups=yes
    ProtectClock=yes
    ProtectHostname=yes
    RestrictAddressFamilies=AF_INET AF_INET6
    RestrictNamespaces=yes
    RestrictRealtime=yes
    LockPersonality=yes
    MemoryDenyWriteExecute=yes
    SystemCallArchitectures=native
    SystemCallFilter=@system-service
    SystemCallErrorNumber=EPERM";

/// Lines the Dockerfile must have.
const DOCKERFILE_LINES: &str = r#"
    FROM gcr.io/distroless/cc-debian12:nonroot
    USER 65532:65532
    EXPOSE 8080 9090
    ENV KBGATE_LOG_FORMAT=json
    ENTRYPOINT ["/usr/local/bin/kbgate"]
    CMD ["serve", "--config", "/etc/kbgate/kbgate.toml"]"#;

/// `kbgate_*` names in a PromQL expression or an annotation, outside quoted strings.
fn metric_names(promql: &str) -> Vec<String> {
    let (mut names, mut word, mut quoted) = (Vec::new(), String::new(), false);
    for c in promql.chars().chain([' ']) {
        quoted ^= c == '"';
        if !quoted && (c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            word.push(c);
            continue;
        }
        if word.starts_with("kbgate_") {
            // A colon may end a sentence in an annotation.
            names.push(word.trim_end_matches(':').to_owned());
        }
        word.clear();
    }
    names
}

#[test]
fn alert_rules_are_complete_and_name_real_metrics() {
    let path = deploy("prometheus/kbgate-alerts.yaml");
    let doc = &load_yaml(&path)[0];
    let (mut alerts, mut used) = (Vec::new(), Vec::new());
    let exposed = exposed();
    assert!(
        exposed.contains("kbgate_request_duration_seconds_bucket"),
        "{exposed:?}"
    );
    for rule in list(&doc["groups"]).iter().flat_map(|g| list(&g["rules"])) {
        let name = s(&rule["alert"]);
        assert!(
            !name.is_empty() && !alerts.contains(&name),
            "alert {name:?}: missing or twice"
        );
        alerts.push(name);
        let expr = s(&rule["expr"]);
        assert!(
            !expr.trim().is_empty() && !s(&rule["for"]).is_empty(),
            "{name}: expr, for"
        );
        let severity = s(at(rule, "labels.severity"));
        assert!(
            ["critical", "warning", "info"].contains(&severity),
            "{name}: {severity:?}"
        );
        for key in ["summary", "description", "runbook"] {
            assert!(
                !s(&rule["annotations"][key]).is_empty(),
                "{name}: no {key} annotation"
            );
        }
        let annotations = rule["annotations"].as_hash().unwrap().values().map(s);
        for metric in [expr].into_iter().chain(annotations).flat_map(metric_names) {
            assert!(
                exposed.contains(&metric),
                "{name}: {metric} is not in kbgate's /metrics: {exposed:?}"
            );
            used.push(metric);
        }
        if expr.contains("kbgate_canary_probe_leaks_total") {
            assert_eq!(severity, "critical", "{name}: a leak is critical");
        }
    }
    for metric in [
        "kbgate_upstream_errors_total",
        "kbgate_requests_total",
        "kbgate_jwks_refreshes_total",
        "kbgate_canary_probe_leaks_total",
        "kbgate_canary_probe_last_clean_timestamp_seconds",
        "kbgate_ready",
        "kbgate_config_reloads_total",
        "kbgate_request_duration_seconds_bucket",
    ] {
        assert!(used.iter().any(|u| u == metric), "no alert on {metric}");
    }
    assert!(
        read(&path).contains("expr: up{job=\"kbgate\"} == 0"),
        "no instance-down alert"
    );
}

#[test]
fn systemd_unit_serves_reloads_and_is_hardened() {
    assert!(
        !deploy("kbgate.service").exists(),
        "the unit moved to deploy/systemd/"
    );
    let unit = read(&deploy("systemd/kbgate.service"));
    let lines = has_lines(&unit, UNIT_LINES, "kbgate.service");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("ExecStart=")).count(),
        1
    );
    let stop = lines
        .iter()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .unwrap();
    assert!(
        stop.parse::<i64>().unwrap() >= 35,
        "TimeoutStopSec={stop} must cover the drain"
    );
}

#[test]
fn dockerfile_builds_and_runs_kbgate_the_documented_way() {
    let dockerfile = read(&deploy("Dockerfile"));
    let lines = has_lines(&dockerfile, DOCKERFILE_LINES, "Dockerfile");
    assert!(dockerfile.contains("cargo build --release --locked --bin kbgate"));
    assert!(
        !lines.iter().any(|l| l.starts_with("HEALTHCHECK")),
        "distroless has no shell for a HEALTHCHECK"
    );
    let ignore = read(&repo().join(".dockerignore"));
    for kept in [
        "!Cargo.toml",
        "!Cargo.lock",
        "!src/",
        "!benches/",
        "!testdata/",
    ] {
        assert!(
            ignore.lines().any(|l| l.trim() == kept),
            ".dockerignore must keep {kept}"
        );
    }
}
