//! The Helm chart: deploy/helm/kbgate.

use super::*;

/// What the chart's values.yaml must say.
const VALUES_FACTS: &str = "
    containerPorts.http 8080
    containerPorts.admin 9090
    probes.liveness.path /healthz
    probes.startup.path /healthz
    probes.readiness.path /readyz
    securityContext.runAsNonRoot true
    securityContext.readOnlyRootFilesystem true
    securityContext.allowPrivilegeEscalation false
    securityContext.capabilities.drop.0 ALL
    log.format json
    serviceMonitor.enabled false
    prometheusRule.enabled false";

/// Lines the chart's deployment template must contain.
const DEPLOYMENT_TEMPLATE_LINES: &str = r#"
    path: {{ .Values.probes.liveness.path }}
    path: {{ .Values.probes.readiness.path }}
    path: {{ .Values.probes.startup.path }}
    containerPort: {{ .Values.containerPorts.http }}
    containerPort: {{ .Values.containerPorts.admin }}
    args: ["serve", "--config", "/etc/kbgate/kbgate.toml"]
    mountPath: /etc/kbgate"#;

/// The chart's templates.
const TEMPLATES: &str = "_helpers.tpl deployment.yaml service.yaml configmap.yaml pdb.yaml \
    hpa.yaml networkpolicy.yaml serviceaccount.yaml servicemonitor.yaml prometheusrule.yaml \
    NOTES.txt";

/// Every `.Values.a.b` path referenced in a template.
fn values_refs(template: &str) -> Vec<&str> {
    let refs = template
        .match_indices(".Values.")
        .map(|(i, m)| &template[i + m.len()..]);
    refs.map(|rest| {
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        rest[..end.unwrap_or(rest.len())].trim_end_matches('.')
    })
    .collect()
}

/// Opened blocks (`if`, `with`, `range`, `define`, `block`) minus `end`s: 0 when balanced.
fn unbalanced_blocks(template: &str, file: &str) -> i64 {
    let mut depth = 0i64;
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .unwrap_or_else(|| panic!("{file}: an unclosed action"));
        let action = after[..close].trim_start_matches('-').trim();
        match action.split_whitespace().next().unwrap_or("") {
            "if" | "with" | "range" | "define" | "block" => depth += 1,
            "end" => depth -= 1,
            _ => {}
        }
        assert!(depth >= 0, "{file}: an end without a block");
        rest = &after[close + 2..];
    }
    depth
}

#[test]
fn helm_chart_matches_the_binary() {
    let chart = &load_yaml(&deploy("helm/kbgate/Chart.yaml"))[0];
    check_facts(chart, "apiVersion v2\nname kbgate", "Chart.yaml");
    assert!(!text(&chart["version"]).is_empty() && !text(&chart["appVersion"]).is_empty());
    let values = &load_yaml(&deploy("helm/kbgate/values.yaml"))[0];
    check_facts(values, VALUES_FACTS, "values.yaml");
    assert_eq!(image_name(s(at(values, "image.repository"))), "kbgate");

    // The default config, with the environment deployment.yaml gives the container.
    let listen = |port: &str| format!("{}:{}", s(&values["bindAddress"]), int(values, port));
    let mut env = BTreeMap::from([
        ("KBGATE_LISTEN".to_owned(), listen("containerPorts.http")),
        (
            "KBGATE_ADMIN_LISTEN".to_owned(),
            listen("containerPorts.admin"),
        ),
        (
            "KBGATE_LOG_FORMAT".to_owned(),
            text(at(values, "log.format")),
        ),
        ("KBGATE_LOG_LEVEL".to_owned(), text(at(values, "log.level"))),
    ]);
    for var in list(&values["secretEnv"]) {
        if var["optional"].as_bool() != Some(true) {
            env.insert(s(&var["name"]).to_owned(), PLACEHOLDER_SECRET.to_owned());
        }
    }
    let toml = s(&values["config"]);
    assert!(
        toml.contains("admin_listen = \"0.0.0.0:9090\""),
        "values.yaml config: admin_listen"
    );
    let config = load_config(toml, &env, "values.yaml");
    let grace = int(values, "terminationGracePeriodSeconds");
    check_config(
        &config,
        false,
        grace,
        int(values, "preStopSleepSeconds"),
        "values.yaml",
    );

    for name in TEMPLATES.split_whitespace() {
        let template = read(&deploy("helm/kbgate/templates").join(name));
        assert_eq!(
            unbalanced_blocks(&template, name),
            0,
            "{name}: unbalanced blocks"
        );
        for path in values_refs(&template) {
            assert!(
                !at(values, path).is_badvalue(),
                "{name}: .Values.{path} not in values.yaml"
            );
        }
    }
    let deployment = read(&deploy("helm/kbgate/templates/deployment.yaml"));
    let lines = has_lines(
        &deployment,
        DEPLOYMENT_TEMPLATE_LINES,
        "templates/deployment.yaml",
    );
    assert_eq!(
        lines.iter().filter(|l| **l == "port: admin").count(),
        3,
        "probes on admin"
    );
    assert_eq!(
        read(&deploy("helm/kbgate/files/kbgate-alerts.yaml")),
        read(&deploy("prometheus/kbgate-alerts.yaml")),
        "the chart's copy of the alerts differs from deploy/prometheus/kbgate-alerts.yaml"
    );
}
