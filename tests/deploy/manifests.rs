//! The plain Kubernetes manifests: deploy/kubernetes/{standalone,sidecar}.

use super::*;

/// What the kbgate container of every plain manifest must say: `path value` per line.
const CONTAINER_FACTS: &str = "
    livenessProbe.httpGet.path /healthz
    livenessProbe.httpGet.port admin
    readinessProbe.httpGet.path /readyz
    readinessProbe.httpGet.port admin
    startupProbe.httpGet.path /healthz
    startupProbe.httpGet.port admin
    securityContext.runAsNonRoot true
    securityContext.readOnlyRootFilesystem true
    securityContext.allowPrivilegeEscalation false
    securityContext.capabilities.drop.0 ALL
    volumeMounts.0.mountPath /etc/kbgate
    volumeMounts.0.readOnly true";

/// A container's environment: literal values, placeholders for required secrets; optional
/// secrets are left out (the Secret may not have them).
fn container_env(container: &Yaml) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for var in list(&container["env"]) {
        let name = s(&var["name"]).to_owned();
        if let Some(value) = var["value"].as_str() {
            env.insert(name, value.to_owned());
        } else if at(var, "valueFrom.secretKeyRef.optional").as_bool() != Some(true) {
            env.insert(name, PLACEHOLDER_SECRET.to_owned());
        }
    }
    env
}

fn of_kind<'a>(docs: &'a [Yaml], kind: &'a str) -> impl Iterator<Item = &'a Yaml> + 'a {
    docs.iter().filter(move |d| s(&d["kind"]) == kind)
}

/// Checks one plain manifest folder and returns its documents; `loopback`: kbgate must listen
/// on 127.0.0.1.
fn check_manifests(folder: &str, loopback: bool) -> Vec<Yaml> {
    let dir = deploy("kubernetes").join(folder);
    let kustomization = &load_yaml(&dir.join("kustomization.yaml"))[0];
    let resources: Vec<&str> = list(&kustomization["resources"]).iter().map(s).collect();
    let mut files = Vec::new();
    yaml_files(&dir, &mut files);
    let mut docs = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        if name != "kustomization.yaml" && !name.ends_with(".example.yaml") {
            assert!(
                resources.contains(&name),
                "{folder}: {name} not in kustomization.yaml"
            );
            docs.extend(load_yaml(file));
        }
    }
    for r in &resources {
        assert!(
            dir.join(r).is_file(),
            "{folder}: kustomization.yaml lists a missing {r}"
        );
    }
    let deployment = of_kind(&docs, "Deployment").next().expect("a Deployment");
    let pod = at(deployment, "spec.template.spec");
    let pod_labels = at(deployment, "spec.template.metadata.labels")
        .as_hash()
        .unwrap();
    let selectors = of_kind(&docs, "Service").map(|d| at(d, "spec.selector"));
    for selector in selectors.chain([at(deployment, "spec.selector.matchLabels")]) {
        for (k, v) in selector.as_hash().unwrap() {
            assert_eq!(pod_labels.get(k), Some(v), "{folder}: selector {k:?}");
        }
    }
    let containers = list(&pod["containers"]);
    let mut kbgates = containers
        .iter()
        .filter(|c| image_name(s(&c["image"])) == "kbgate");
    let c = kbgates.next().expect("a container of image kbgate");
    assert!(kbgates.next().is_none(), "{folder}: two kbgate containers");
    let what = format!("{folder}: kbgate container");
    check_facts(c, CONTAINER_FACTS, &what);

    let argv: Vec<&str> = list(&c["command"])
        .iter()
        .chain(list(&c["args"]))
        .map(s)
        .collect();
    assert!(argv.windows(3).any(|w| w == SERVE), "{what} runs {argv:?}");
    let ports: Vec<(&str, i64)> = list(&c["ports"])
        .iter()
        .map(|p| (s(&p["name"]), int(p, "containerPort")))
        .collect();
    assert!(
        ports.contains(&("http", 8080)) && ports.contains(&("admin", 9090)),
        "{what}"
    );
    let startup = int(c, "startupProbe.periodSeconds") * int(c, "startupProbe.failureThreshold");
    assert!(
        startup >= 60,
        "{what}: the startup probe allows only {startup}s"
    );
    assert!(
        at(c, "lifecycle.preStop.exec").is_badvalue(),
        "{what}: no shell for exec"
    );
    assert!(
        at(c, "volumeMounts.0.subPath").is_badvalue(),
        "{what}: subPath sees no updates"
    );
    let all_ports: Vec<&str> = containers
        .iter()
        .flat_map(|c| list(&c["ports"]).iter().map(|p| s(&p["name"])))
        .collect();
    for svc in of_kind(&docs, "Service") {
        for target in list(at(svc, "spec.ports"))
            .iter()
            .map(|p| s(&p["targetPort"]))
        {
            assert!(
                all_ports.contains(&target),
                "{folder}: Service targets {target:?}"
            );
        }
    }

    let volume_name = at(c, "volumeMounts.0.name");
    let volume = list(&pod["volumes"])
        .iter()
        .find(|v| &v["name"] == volume_name)
        .unwrap();
    let cm_name = s(at(volume, "configMap.name"));
    let cm = of_kind(&docs, "ConfigMap").find(|d| s(at(d, "metadata.name")) == cm_name);
    let toml = s(&cm.expect("the config's ConfigMap")["data"]["kbgate.toml"]);
    assert!(
        toml.contains("admin_listen = \"0.0.0.0:9090\""),
        "{folder}: admin_listen"
    );
    let env = container_env(c);
    assert_eq!(
        env.get("KBGATE_LOG_FORMAT").map(String::as_str),
        Some("json"),
        "{what}"
    );
    let secrets: Vec<&str> = list(&c["env"])
        .iter()
        .map(|v| s(at(v, "valueFrom.secretKeyRef.name")))
        .collect();
    assert!(
        secrets
            .iter()
            .all(|n| n.is_empty() || *n == "kbgate-secrets"),
        "{secrets:?}"
    );
    let config = load_config(toml, &env, folder);
    let grace = int(pod, "terminationGracePeriodSeconds");
    let pre_stop = at(c, "lifecycle.preStop.sleep.seconds")
        .as_i64()
        .unwrap_or(0);
    check_config(&config, loopback, grace, pre_stop, folder);
    docs
}

#[test]
fn standalone_manifests_run_kbgate_as_documented() {
    let docs = check_manifests("standalone", false);
    let example = &load_yaml(&deploy("kubernetes/standalone/secret.example.yaml"))[0];
    let deployment = of_kind(&docs, "Deployment").next().unwrap();
    let c = at(deployment, "spec.template.spec.containers.0");
    for var in list(&c["env"])
        .iter()
        .map(|v| at(v, "valueFrom.secretKeyRef"))
    {
        if !var.is_badvalue() && var["optional"].as_bool() != Some(true) {
            assert_eq!(s(at(example, "metadata.name")), s(&var["name"]));
            assert!(
                !at(example, "stringData")[s(&var["key"])].is_badvalue(),
                "{var:?}"
            );
        }
    }
    let hpa = of_kind(&docs, "HorizontalPodAutoscaler")
        .next()
        .expect("an HPA");
    assert_eq!(s(&hpa["apiVersion"]), "autoscaling/v2");
    assert_eq!(
        at(hpa, "spec.scaleTargetRef.name"),
        at(deployment, "metadata.name")
    );
    for kind in [
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ServiceAccount",
        "Service",
    ] {
        assert!(
            of_kind(&docs, kind).next().is_some(),
            "standalone: no {kind}"
        );
    }
    let netpol = read(&deploy("kubernetes/standalone/networkpolicy.yaml"));
    for port in ["port: 8080", "port: 9090", "port: 53", "port: 443"] {
        assert!(netpol.contains(port), "networkpolicy.yaml: {port}");
    }
}

#[test]
fn sidecar_manifests_keep_kbgate_on_loopback_behind_the_edge() {
    let docs = check_manifests("sidecar", true);
    let deployment = of_kind(&docs, "Deployment").next().unwrap();
    let containers = list(at(deployment, "spec.template.spec.containers"));
    assert!(
        containers.len() >= 2,
        "sidecar: an edge container and kbgate"
    );
    assert_ne!(
        image_name(s(&containers[0]["image"])),
        "kbgate",
        "the edge comes first"
    );
    let edge = read(&deploy("kubernetes/sidecar/configmap.yaml"));
    assert!(
        edge.contains("server 127.0.0.1:8080;"),
        "the edge forwards to kbgate's loopback"
    );
}
