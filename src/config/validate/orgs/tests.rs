//! `[orgs]` validation: defaults, every problem with its path, the static file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{Config, ConfigError};
use crate::orgs::Source;

const BASE: &str = r#"
[server]
listen = "127.0.0.1:0"
public_url = "http://127.0.0.1:8080"
[upstream]
base_url = "https://example.atlassian.net/"
auth = { kind = "basic", email = "svc@example.com", token_env = "TOKEN" }
[auth]
[[auth.issuers]]
issuer = "http://idp"
audiences = ["kbgate"]
jwks_url = "http://127.0.0.1:9/jwks.json"
[policy]
spaces = ["KB"]
orgs = ["acme", "globex", "initech"]
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "TOKEN" | "JSM_TOKEN" => Some("secret-token".into()),
        "JSM_EMAIL" => Some("agent@example.com".into()),
        _ => None,
    }
}

fn load_in(dir: &Path, orgs: &str) -> Result<Config, ConfigError> {
    let text = format!("{BASE}{orgs}");
    Config::from_toml(&text, &dir.join("kbgate.toml"), &env)
}

fn load(orgs: &str) -> Result<Config, ConfigError> {
    load_in(Path::new("/nonexistent"), orgs)
}

fn problem_paths(err: ConfigError) -> Vec<String> {
    match err {
        ConfigError::Invalid { problems, .. } => problems
            .into_iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect(),
        other => panic!("{other}"),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kbgate-orgs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn jsm_gets_the_documented_defaults_and_the_default_order() {
    let c = load(
        "[orgs]\nclaim = \"kb_orgs\"\n[orgs.jsm]\nemail_env = \"JSM_EMAIL\"\ntoken_env = \"JSM_TOKEN\"\n",
    )
    .unwrap();
    let jsm = c.orgs.jsm.unwrap();
    assert_eq!(jsm.base_url, "https://example.atlassian.net");
    assert_eq!(jsm.refresh_interval, Duration::from_secs(300));
    assert_eq!(jsm.max_staleness, Duration::from_secs(3600));
    assert_eq!((jsm.max_organizations, jsm.max_users), (10_000, 200_000));
    assert_eq!(
        jsm.credentials.expose(),
        "Basic YWdlbnRAZXhhbXBsZS5jb206c2VjcmV0LXRva2Vu"
    );
    assert_eq!(c.orgs.sources, vec![Source::Claim, Source::Jsm]);
    // Without email_env, the token is a bearer token (Data Center personal access token).
    let c = load("[orgs.jsm]\ntoken_env = \"JSM_TOKEN\"\nbase_url = \"https://jira.example\"\n")
        .unwrap();
    assert_eq!(
        c.orgs.jsm.unwrap().credentials.expose(),
        "Bearer secret-token"
    );
}

#[test]
fn every_orgs_problem_is_reported_with_its_path() {
    let text = r#"
[orgs]
claim = "email"
groups_claim = "groups"
sources = ["claim", "jsm", "claim", "ldap", "static"]
[orgs.email_domains]
"acme.example" = ["acme"]
[orgs.jsm]
token_env = "MISSING"
refresh_interval = "10m"
max_staleness = "5m"
max_users = 0
[orgs.jsm.org_map]
"Acme Corp" = "Acme"
"#;
    let problems = problem_paths(load(text).unwrap_err());
    let all = problems.join("\n");
    for want in [
        "orgs.claim: name the token claim",
        "orgs.groups: map at least one group",
        "orgs.sources[2]: \"claim\" is listed twice",
        "orgs.sources[3]: \"ldap\" is not a source",
        "orgs.sources[4]: the \"static\" source is not configured",
        "orgs.sources: the \"groups\" source is configured but not listed",
        "orgs.sources: the \"email_domains\" source is configured but not listed",
        "orgs.jsm.token_env: environment variable MISSING is not set",
        "orgs.jsm.max_staleness: must be at least orgs.jsm.refresh_interval",
        "orgs.jsm.max_users: must be between",
        "orgs.jsm.org_map.\"Acme Corp\": organization \"Acme\"",
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
    let problems = problem_paths(load("[orgs]\n[orgs.groups]\n\"g\" = [\"acme\"]\n").unwrap_err());
    assert!(
        problems.iter().any(|p| p.starts_with("orgs.groups_claim:")),
        "{problems:?}"
    );
    let problems = problem_paths(load("").unwrap_err());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("orgs: configure a source")),
        "{problems:?}"
    );
}

#[test]
fn the_static_file_is_read_relative_to_the_config_and_must_name_known_orgs() {
    let dir = temp_dir("static");
    std::fs::write(
        dir.join("orgs.toml"),
        "[emails]\n\"pat@example.com\" = [\"initech\"]\n",
    )
    .unwrap();
    let c = load_in(&dir, "[orgs]\nstatic_file = \"orgs.toml\"\n").unwrap();
    let map = c.orgs.static_map.unwrap();
    assert_eq!(map.lookup("i", "s", Some("PAT@example.com")).len(), 1);
    assert_eq!(c.orgs.sources, vec![Source::Static]);

    let with = |file: &str, text: &str| {
        std::fs::write(dir.join(file), text).unwrap();
        let orgs = format!("[orgs]\nstatic_file = \"{file}\"\n");
        problem_paths(load_in(&dir, &orgs).unwrap_err()).join("\n")
    };
    let all = with("bad.toml", "[emails]\n\"x@example.com\" = [\"Bad Id\"]\n");
    assert!(
        all.contains("orgs.static_file: bad.toml at emails.\"x@example.com\"[0]"),
        "{all}"
    );
    let all = with(
        "typo.toml",
        "[emails]\n\"pat@example.com\" = [\"initehc\"]\n",
    );
    assert!(
        all.contains("names organization \"initehc\", which the configuration does not know"),
        "{all}"
    );
    let problems =
        problem_paths(load_in(&dir, "[orgs]\nstatic_file = \"missing.toml\"\n").unwrap_err());
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("orgs.static_file: cannot read")),
        "{problems:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
