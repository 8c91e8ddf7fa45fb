//! Where the load goes: `--target URL` parsed, resolved, and refused when it is not a loopback
//! address (unless `--allow-remote`), so that nobody load-tests a machine by a typo.
//!
//! Guarantees: plain `http://` only, one resolved address used for every connection, the
//! target's path kept as a prefix of every request. Deliberately not: TLS (point the load
//! test at kbgate's plain listener or a local TLS terminator) or proxies.

use std::net::SocketAddr;

use http::{HeaderValue, Uri};

/// A resolved target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The address every connection opens.
    pub addr: SocketAddr,
    /// The `Host` header (`host:port` as written).
    pub host: HeaderValue,
    /// The URL's path without a trailing `/` (`""` for `http://host:port`).
    pub base_path: String,
    /// The URL as shown in reports.
    pub url: String,
}

/// Why `--target` is unusable.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("--target {0:?} is not a URL like http://127.0.0.1:8080")]
    NotUrl(String),
    #[error("--target {0:?}: only http:// is supported (point it at kbgate's plain listener)")]
    Scheme(String),
    #[error("--target {0:?} has a query or fragment; give the base URL only")]
    Query(String),
    #[error("cannot resolve the target host {host}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the target host {host} ({addr}) is not a loopback address; \
         pass --allow-remote to load-test another machine"
    )]
    NotLoopback { host: String, addr: SocketAddr },
}

/// Parses and resolves `url`; refuses non-loopback addresses unless `allow_remote`.
pub async fn resolve(url: &str, allow_remote: bool) -> Result<Target, TargetError> {
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|_| TargetError::NotUrl(url.to_owned()))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(TargetError::Scheme(url.to_owned())),
        None => return Err(TargetError::NotUrl(url.to_owned())),
    }
    if url.contains(['?', '#']) {
        return Err(TargetError::Query(url.to_owned()));
    }
    let authority = uri
        .authority()
        .ok_or_else(|| TargetError::NotUrl(url.to_owned()))?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| TargetError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .next()
        .ok_or_else(|| TargetError::Resolve {
            host: host.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
        })?;
    if !allow_remote && !addr.ip().is_loopback() {
        return Err(TargetError::NotLoopback {
            host: host.to_owned(),
            addr,
        });
    }
    let host_header = HeaderValue::from_str(authority.as_str())
        .map_err(|_| TargetError::NotUrl(url.to_owned()))?;
    Ok(Target {
        addr,
        host: host_header,
        base_path: uri.path().trim_end_matches('/').to_owned(),
        url: url.trim().trim_end_matches('/').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn loopback_targets_resolve_with_their_base_path() {
        let t = resolve("http://127.0.0.1:8080", false).await.unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.host, "127.0.0.1:8080");
        assert_eq!(t.base_path, "");
        let t = resolve("http://[::1]:9/kb/", false).await.unwrap();
        assert!(t.addr.ip().is_loopback());
        assert_eq!(t.base_path, "/kb");
        assert_eq!(
            resolve("http://localhost", false)
                .await
                .unwrap()
                .addr
                .port(),
            80
        );
    }

    #[tokio::test]
    async fn other_targets_are_refused_with_a_reason() {
        let err = resolve("http://192.0.2.1:8080", false).await.unwrap_err();
        assert!(matches!(err, TargetError::NotLoopback { .. }));
        assert!(err.to_string().contains("--allow-remote"));
        assert!(resolve("http://192.0.2.1:8080", true).await.is_ok());
        assert!(matches!(
            resolve("https://127.0.0.1", false).await.unwrap_err(),
            TargetError::Scheme(_)
        ));
        assert!(matches!(
            resolve("127.0.0.1:8080", false).await.unwrap_err(),
            TargetError::NotUrl(_) | TargetError::Scheme(_)
        ));
        assert!(matches!(
            resolve("http://127.0.0.1/?x=1", false).await.unwrap_err(),
            TargetError::Query(_)
        ));
    }
}
