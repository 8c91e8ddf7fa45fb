//! Configuration loading: good files load, bad ones report every problem with its path.

use super::*;

fn env(name: &str) -> Option<String> {
    match name {
        "KBGATE_CONFLUENCE_TOKEN" | "SIM_TOKEN" => Some("secret-token".into()),
        _ => None,
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    Config::from_toml(text, &dir.join("test.toml"), &env)
}

const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1:8080/"
[upstream]
base_url = "http://127.0.0.1:9"
auth = { kind = "basic", email = "svc@example.com", token_env = "KBGATE_CONFLUENCE_TOKEN" }
[auth]
[[auth.issuers]]
issuer = "http://idp"
audiences = ["kbgate"]
jwks_url = "http://127.0.0.1:9/jwks.json"
[orgs]
claim = "kb_orgs"
[policy]
spaces = ["KB"]
"#;

#[test]
fn every_file_in_the_config_folder_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            Config::from_toml(&text, &path, &env)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen += 1;
        }
    }
    assert!(seen >= 1);
}

#[test]
fn a_minimal_file_gets_the_documented_defaults() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(c.server.public_url, "http://127.0.0.1:8080");
    assert_eq!(c.server.request_timeout, Duration::from_secs(30));
    assert_eq!(c.upstream.max_body_bytes, 16 * 1024 * 1024);
    assert_eq!(
        c.upstream.credentials.expose(),
        "Basic c3ZjQGV4YW1wbGUuY29tOnNlY3JldC10b2tlbg=="
    );
    assert_eq!(format!("{:?}", c.upstream.credentials), "<redacted>");
    assert_eq!(c.policy.label_prefix, "org-");
    assert_eq!(
        c.auth.issuers[0].algorithms,
        vec![jsonwebtoken::Algorithm::RS256]
    );
    assert_eq!(c.auth.issuers[0].leeway, Duration::from_secs(60));
}

#[test]
fn unknown_keys_are_refused_with_their_name() {
    let err = load(&MINIMAL.replace("[policy]", "[policy]\nspacez = [\"KB\"]")).unwrap_err();
    assert!(err.to_string().contains("spacez"), "{err}");
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let text = MINIMAL
        .replace("127.0.0.1:0", "localhost")
        .replace("KBGATE_CONFLUENCE_TOKEN", "MISSING_TOKEN")
        .replace("audiences = [\"kbgate\"]", "audiences = []\nalgorithms = [\"HS256\"]\nleeway = \"10\"")
        .replace("spaces = [\"KB\"]", "spaces = [\"K B\"]\nunmarked = \"maybe\"\nsubtrees = [{ root = \"x1\", orgs = [\"Acme\"] }]");
    let err = load(&text).unwrap_err();
    let ConfigError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for want in [
        "server.listen",
        "upstream.auth.token_env",
        "auth.issuers[0].audiences",
        "auth.issuers[0].algorithms[0]",
        "auth.issuers[0].leeway",
        "policy.spaces[0]",
        "policy.unmarked",
        "policy.subtrees[0].orgs[0]",
        "policy.subtrees[0].root",
    ] {
        assert!(paths.contains(&want), "missing {want} in {paths:?}");
    }
    let text = err.to_string();
    assert!(text.contains("MISSING_TOKEN is not set"), "{text}");
    assert!(text.contains("HS256"), "{text}");
}

#[test]
fn environment_overrides_win_over_the_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let env = |name: &str| match name {
        "KBGATE_LISTEN" => Some("127.0.0.1:7777".to_owned()),
        "KBGATE_LOG_FORMAT" => Some("json".to_owned()),
        other => env(other),
    };
    let c = Config::from_toml(MINIMAL, &dir.join("t.toml"), &env).unwrap();
    assert_eq!(c.server.listen.port(), 7777);
    assert_eq!(c.log.format, LogFormat::Json);
}

#[test]
fn known_orgs_include_every_org_named_anywhere() {
    let text = MINIMAL.replace(
        "spaces = [\"KB\"]",
        "spaces = [\"KB\"]\norgs = [\"acme\"]\n[[policy.subtrees]]\nroot = \"200000\"\norgs = [\"initech\"]\n[orgs.email_domains]\n\"globex.example\" = [\"globex\"]",
    );
    let c = load(&text).unwrap();
    let known: Vec<&str> = c.policy.known_orgs.iter().map(|o| o.as_str()).collect();
    assert_eq!(known, vec!["acme", "globex", "initech"]);
}

#[test]
fn durations_need_units() {
    assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
    assert!(parse_duration("30").is_err());
    assert!(parse_duration("s").is_err());
    assert!(parse_duration("-1s").is_err());
}

#[test]
fn the_cursor_secret_comes_from_the_environment_and_must_be_long() {
    assert!(load(MINIMAL).unwrap().server.cursor_secret.is_none());
    let with = MINIMAL.replace(
        "public_url = \"http://127.0.0.1:8080/\"",
        "public_url = \"http://127.0.0.1:8080/\"\ncursor_secret_env = \"KBGATE_CONFLUENCE_TOKEN\"",
    );
    let err = load(&with).unwrap_err().to_string();
    assert!(err.contains("server.cursor_secret_env"), "{err}");
    let long = |name: &str| match name {
        "LONG" => Some("x".repeat(40)),
        other => env(other),
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let text = with.replace(
        "cursor_secret_env = \"KBGATE_CONFLUENCE_TOKEN\"",
        "cursor_secret_env = \"LONG\"",
    );
    let config = Config::from_toml(&text, &dir.join("test.toml"), &long).unwrap();
    assert_eq!(
        config.server.cursor_secret.map(|s| s.expose().len()),
        Some(40)
    );
}

#[test]
fn admin_listener_and_reload_watch_have_defaults_and_can_be_switched_off() {
    let c = load(MINIMAL).unwrap();
    assert_eq!(
        c.server.admin_listen,
        Some("127.0.0.1:9090".parse().unwrap())
    );
    assert_eq!(c.server.reload_watch_interval, Some(Duration::from_secs(5)));
    assert_eq!(c.probe, None);
    let off = MINIMAL.replace(
        "[upstream]",
        "admin_listen = \"off\"\nreload_watch_interval = \"off\"\n[upstream]",
    );
    let c = load(&off).unwrap();
    assert_eq!(c.server.admin_listen, None);
    assert_eq!(c.server.reload_watch_interval, None);
}

#[test]
fn the_canary_probe_needs_two_known_organizations_and_plain_canaries() {
    let with = |probe: &str| format!("{}orgs = [\"acme\", \"globex\"]\n{probe}", MINIMAL);
    let good = with(
        "[probe]\ninterval = \"1m\"\n[[probe.canaries]]\norg = \"acme\"\ntext = [\"CANARY-acme-1\"]\n\
         [[probe.canaries]]\norg = \"globex\"\ntext = [\"CANARY-globex-1\", \"globex_only_2\"]\n",
    );
    let probe = load(&good).unwrap().probe.unwrap();
    assert_eq!(probe.interval, Duration::from_secs(60));
    assert_eq!(probe.canaries.len(), 2);
    assert_eq!(probe.canaries[1].1.len(), 2);

    let bad = with(
        "[probe]\n[[probe.canaries]]\norg = \"initech\"\ntext = [\"CANARY-initech-1\"]\n\
         [[probe.canaries]]\norg = \"acme\"\ntext = [\"short\", \"has \\\"quote\\\" in it\"]\n",
    );
    let err = load(&bad).unwrap_err().to_string();
    assert!(err.contains("probe.canaries[0].org"), "{err}");
    assert!(err.contains("probe.canaries[1].text"), "{err}");
    assert!(err.contains("at least two organizations"), "{err}");
}
