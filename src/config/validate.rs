//! [`FileConfig`] → [`Config`]: every check, every problem collected with its key path.

mod auth;
mod login;
mod orgs;
mod policy;
mod site;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine;

use super::file::{FileConfig, FileServer, FileUpstream, FileUpstreamAuth};
use super::*;
use crate::ids::OrgId;

/// Collects problems; every check records and goes on.
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Parses `500ms`, `30s`, `5m`, `1h` (a bare number is refused: units are required).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like \"30s\""))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => {
            return Err(format!(
                "{text:?} needs a unit: ms, s, m or h (e.g. \"30s\")"
            ))
        }
    };
    Ok(d)
}

fn duration(
    p: &mut Problems,
    path: &str,
    value: &Option<String>,
    default: Duration,
    max: Duration,
) -> Duration {
    let Some(text) = value else { return default };
    match parse_duration(text) {
        Ok(d) if d.is_zero() => {
            p.add(path, "must be greater than zero");
            default
        }
        Ok(d) if d > max => {
            p.add(path, format!("must be at most {}s", max.as_secs()));
            default
        }
        Ok(d) => d,
        Err(e) => {
            p.add(path, e);
            default
        }
    }
}

fn read_file(p: &mut Problems, path: &str, file: &str, base: &Path) -> Option<Vec<u8>> {
    let full = base.join(file);
    match std::fs::read(&full) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            p.add(path, format!("cannot read {}: {e}", full.display()));
            None
        }
    }
}

fn org_list(
    p: &mut Problems,
    path: &str,
    values: &[String],
    known: &mut BTreeSet<OrgId>,
) -> Vec<OrgId> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match OrgId::new(v) {
            Ok(o) => {
                known.insert(o.clone());
                out.push(o);
            }
            Err(e) => p.add(format!("{path}[{i}]"), format!("organization {v:?} {e}")),
        }
    }
    if values.is_empty() {
        p.add(path, "list at least one organization");
    }
    out
}

/// Validates a parsed file; `base` resolves relative paths; `env` reads secrets.
pub(super) fn validate(
    file: FileConfig,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<Problem>> {
    let mut p = Problems(Vec::new());
    let mut server = server(&mut p, &file.server, base);
    if let (Some(s), Some(var)) = (server.as_mut(), file.server.cursor_secret_env.as_ref()) {
        s.cursor_secret = secret_env(&mut p, "server.cursor_secret_env", var, env).map(|secret| {
            if secret.len() < 32 {
                p.add(
                    "server.cursor_secret_env",
                    format!("the secret in {var} is shorter than 32 characters"),
                );
            }
            Secret::new(secret)
        });
    }
    let upstream = upstream(&mut p, &file.upstream, base, env);
    let auth = auth::auth(&mut p, &file.auth, base);

    let mut known = BTreeSet::new();
    for (i, org) in file.policy.orgs.iter().enumerate() {
        match OrgId::new(org) {
            Ok(o) => {
                known.insert(o);
            }
            Err(e) => p.add(
                format!("policy.orgs[{i}]"),
                format!("organization {org:?} {e}"),
            ),
        }
    }

    let orgs = orgs::orgs(
        &mut p,
        &file.orgs,
        file.upstream.base_url.trim_end_matches('/'),
        base,
        env,
        &mut known,
    );

    let policy = policy::policy(&mut p, &file, &mut known);
    orgs::check_known(&mut p, &orgs, &known);
    let cache = CacheSettings {
        metadata_ttl: duration(
            &mut p,
            "cache.metadata_ttl",
            &file.cache.metadata_ttl,
            Duration::from_secs(60),
            Duration::from_secs(3600),
        ),
        metadata_capacity: file.cache.metadata_capacity.unwrap_or(10_000),
        webhook_secret: file.cache.webhook_secret_env.as_ref().and_then(|var| {
            let secret = secret_env(&mut p, "cache.webhook_secret_env", var, env)?;
            if secret.len() < 16 {
                p.add(
                    "cache.webhook_secret_env",
                    format!("the secret in {var} is shorter than 16 characters"),
                );
            }
            Some(Secret::new(secret))
        }),
    };
    let log = LogSettings {
        format: match file.log.format.as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                p.add(
                    "log.format",
                    format!("{other:?} is not a format: use \"pretty\" or \"json\""),
                );
                LogFormat::Pretty
            }
        },
        level: file.log.level.clone().unwrap_or_else(|| "info".to_owned()),
    };

    let public_url = file.server.public_url.trim_end_matches('/').to_owned();
    let login = file
        .login
        .as_ref()
        .and_then(|l| login::login(&mut p, l, &file, &public_url, env));
    let site = site::site(&mut p, &file.site);
    let probe = file.probe.as_ref().map(|f| probe(&mut p, f, &known));

    match (server, upstream, auth, policy) {
        (Some(server), Some(upstream), Some(auth), Some(policy)) if p.0.is_empty() => Ok(Config {
            server,
            upstream,
            auth,
            orgs,
            policy,
            cache,
            log,
            login,
            site,
            probe,
        }),
        _ => Err(p.0),
    }
}

/// `[probe]`: known organizations, canaries of 8–100 letters, digits, `-` and `_` (matched byte
/// for byte in answers, so they must not need escaping), at least two organizations.
fn probe(p: &mut Problems, f: &file::FileProbe, known: &BTreeSet<OrgId>) -> ProbeSettings {
    let mut canaries = Vec::new();
    for (i, entry) in f.canaries.iter().enumerate() {
        let path = format!("probe.canaries[{i}]");
        let org = match OrgId::new(&entry.org) {
            Ok(org) if known.contains(&org) => org,
            _ => {
                p.add(
                    format!("{path}.org"),
                    format!("{:?} is not a known organization", entry.org),
                );
                continue;
            }
        };
        let plain = |t: &String| {
            (8..=100).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if entry.text.is_empty() || !entry.text.iter().all(plain) {
            p.add(
                format!("{path}.text"),
                "give one or more canaries of 8 to 100 letters, digits, '-' or '_'",
            );
        }
        canaries.push((org, entry.text.clone()));
    }
    if canaries.len() < 2 {
        p.add(
            "probe.canaries",
            "name at least two organizations: a leak is one organization seeing another's canary",
        );
    }
    ProbeSettings {
        interval: duration(
            p,
            "probe.interval",
            &f.interval,
            Duration::from_secs(300),
            Duration::from_secs(24 * 3600),
        ),
        canaries,
    }
}

fn socket_addr(p: &mut Problems, path: &str, text: &str) -> Option<SocketAddr> {
    match text.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            p.add(
                path,
                format!("{text:?} is not an address like \"127.0.0.1:8080\""),
            );
            None
        }
    }
}

fn server(p: &mut Problems, s: &FileServer, base: &Path) -> Option<ServerSettings> {
    let listen = socket_addr(p, "server.listen", &s.listen);
    let admin_listen = match s.admin_listen.as_deref() {
        None => Some(SocketAddr::from(([127, 0, 0, 1], 9090))),
        Some("off") => None,
        Some(a) => socket_addr(p, "server.admin_listen", a),
    };
    let reload_watch_interval = match s.reload_watch_interval.as_deref() {
        Some("off") => None,
        _ => Some(duration(
            p,
            "server.reload_watch_interval",
            &s.reload_watch_interval,
            Duration::from_secs(5),
            Duration::from_secs(3600),
        )),
    };
    let public_url = s.public_url.trim_end_matches('/').to_owned();
    let mut allowed_hosts = Vec::new();
    match public_url.parse::<http::Uri>() {
        Ok(u)
            if matches!(u.scheme_str(), Some("http" | "https"))
                && u.authority().is_some_and(|a| !a.as_str().contains('@'))
                && u.query().is_none() =>
        {
            if let Some(a) = u.authority() {
                allowed_hosts.push(a.as_str().to_ascii_lowercase());
            }
        }
        _ => p.add(
            "server.public_url",
            "write the URL customers use, e.g. \"https://kb.example.com\"",
        ),
    }
    for (i, host) in s.allowed_hosts.iter().flatten().enumerate() {
        let valid = !host.is_empty()
            && host.len() <= 255
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
        if valid {
            allowed_hosts.push(host.to_ascii_lowercase());
        } else {
            p.add(
                format!("server.allowed_hosts[{i}]"),
                "write a host as clients send it in Host, e.g. \"kb.example.com\" or \"localhost:8080\"",
            );
        }
    }
    let tls = match (&s.tls_cert, &s.tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            let cert = read_file(p, "server.tls_cert", cert, base);
            let key = read_file(p, "server.tls_key", key, base);
            cert.zip(key)
                .map(|(cert_pem, key_pem)| TlsFiles { cert_pem, key_pem })
        }
        _ => {
            p.add(
                "server.tls_cert",
                "set both tls_cert and tls_key, or neither",
            );
            None
        }
    };
    let max_connections = s.max_connections.unwrap_or(1024);
    if max_connections == 0 {
        p.add("server.max_connections", "must be at least 1");
    }
    let max_in_flight = s.max_in_flight.unwrap_or(64);
    if !(1..=4096).contains(&max_in_flight) {
        p.add("server.max_in_flight", "must be between 1 and 4096");
    }
    let max = Duration::from_secs(3600);
    Some(ServerSettings {
        listen: listen?,
        admin_listen,
        reload_watch_interval,
        public_url,
        allowed_hosts,
        tls,
        http2: s.http2,
        max_connections,
        max_in_flight,
        header_read_timeout: duration(
            p,
            "server.header_read_timeout",
            &s.header_read_timeout,
            Duration::from_secs(10),
            max,
        ),
        request_timeout: duration(
            p,
            "server.request_timeout",
            &s.request_timeout,
            Duration::from_secs(30),
            max,
        ),
        idle_timeout: duration(
            p,
            "server.idle_timeout",
            &s.idle_timeout,
            Duration::from_secs(60),
            max,
        ),
        drain_timeout: duration(
            p,
            "server.drain_timeout",
            &s.drain_timeout,
            Duration::from_secs(30),
            max,
        ),
        max_header_bytes: s.max_header_bytes.unwrap_or(16 * 1024),
        max_uri_bytes: s.max_uri_bytes.unwrap_or(8 * 1024),
        cursor_secret: None,
    })
}

fn secret_env(
    p: &mut Problems,
    path: &str,
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    match env(var) {
        Some(v) if !v.is_empty() => Some(v),
        _ => {
            p.add(
                path,
                format!("environment variable {var} is not set: export it with the secret"),
            );
            None
        }
    }
}

fn upstream(
    p: &mut Problems,
    u: &FileUpstream,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<UpstreamSettings> {
    let base_url = u.base_url.trim_end_matches('/').to_owned();
    match base_url.parse::<http::Uri>() {
        Ok(uri)
            if matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.authority().is_some()
                && uri.query().is_none() => {}
        _ => p.add(
            "upstream.base_url",
            "write the Confluence site URL, e.g. \"https://example.atlassian.net\"",
        ),
    }
    let flavor = match u.flavor.as_deref() {
        None | Some("cloud") => Flavor::Cloud,
        Some("datacenter") => Flavor::DataCenter,
        Some(other) => {
            p.add(
                "upstream.flavor",
                format!("{other:?} is not a flavor: use \"cloud\" or \"datacenter\""),
            );
            Flavor::Cloud
        }
    };
    let credentials = match &u.auth {
        FileUpstreamAuth::Basic { email, token_env } => {
            if !email.contains('@') {
                p.add(
                    "upstream.auth.email",
                    "write the service account's email address",
                );
            }
            secret_env(p, "upstream.auth.token_env", token_env, env).map(|token| {
                let raw = format!("{email}:{token}");
                Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            })
        }
        FileUpstreamAuth::Bearer { token_env } => {
            secret_env(p, "upstream.auth.token_env", token_env, env)
                .map(|t| Secret::new(format!("Bearer {t}")))
        }
    };
    if let Some(c) = &credentials {
        if http::HeaderValue::from_str(c.expose()).is_err() {
            p.add(
                "upstream.auth.token_env",
                "the secret holds characters not allowed in an HTTP header",
            );
        }
    }
    let max_body_bytes = u.max_body_bytes.unwrap_or(16 * 1024 * 1024);
    if !(1024..=256 * 1024 * 1024).contains(&max_body_bytes) {
        p.add(
            "upstream.max_body_bytes",
            "must be between 1024 and 268435456 bytes",
        );
    }
    let max_connections = u.max_connections.unwrap_or(64);
    if !(1..=4096).contains(&max_connections) {
        p.add("upstream.max_connections", "must be between 1 and 4096");
    }
    let ca_pem = u
        .ca_file
        .as_ref()
        .and_then(|f| read_file(p, "upstream.ca_file", f, base));
    let max = Duration::from_secs(600);
    Some(UpstreamSettings {
        base_url,
        flavor,
        credentials: credentials?,
        timeout: duration(
            p,
            "upstream.timeout",
            &u.timeout,
            Duration::from_secs(15),
            max,
        ),
        connect_timeout: duration(
            p,
            "upstream.connect_timeout",
            &u.connect_timeout,
            Duration::from_secs(5),
            max,
        ),
        max_body_bytes,
        max_idle_connections: u.max_idle_connections.unwrap_or(64),
        max_connections,
        ca_pem,
    })
}
