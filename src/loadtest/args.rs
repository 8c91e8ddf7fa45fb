//! The options of `kbgate loadtest` (clap derive). `main.rs` embeds [`Args`] as its `loadtest`
//! subcommand; tests build one with [`Args::try_from_cli`].
//!
//! Guarantees: every option is checked here or in [`super::run`] before any request is sent;
//! header values (often credentials) never appear in `Debug` output. Deliberately not: reading
//! files or environment variables (see `customers`).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use http::{HeaderName, HeaderValue};

use super::plan::Mix;

/// The default route mix.
pub const DEFAULT_MIX: &str = "search=40,page=25,children=10,attachment=10,site=15";

/// Options of `kbgate loadtest`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(ArgGroup::new("where").required(true).args(["target", "embedded"])))]
pub struct Args {
    /// kbgate's base URL, e.g. http://127.0.0.1:8080 (loopback only unless --allow-remote).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Start the demo (simulator + kbgate on 127.0.0.1, free ports) in this process and drive it.
    #[arg(long)]
    pub embedded: bool,
    /// Allow a --target that is not a loopback address.
    #[arg(long)]
    pub allow_remote: bool,
    /// Connections, each with one request in flight (keep-alive; the cap in --rate mode too).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// Fixed rate in requests per second, all connections together (open loop; latency from
    /// the intended send time). Without it: closed loop.
    #[arg(long, value_name = "RPS", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// How long to measure after the warm-up, e.g. 10s, 500ms, 2m.
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    pub duration: Duration,
    /// Stop after this many recorded requests (or at --duration, whichever comes first).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: Option<u64>,
    /// Warm-up before measuring (requests sent, not recorded); 0s for none.
    #[arg(long, default_value = "1s", value_parser = parse_any_duration)]
    pub warmup: Duration,
    /// Route weights: search, page, children, attachment, site (ids and words from the demo corpus).
    #[arg(long, default_value = DEFAULT_MIX, value_parser = Mix::parse, conflicts_with = "paths")]
    pub mix: Mix,
    /// Prefix of the Confluence REST and download routes ("" for Data Center).
    #[arg(long, default_value = "/wiki", value_parser = parse_prefix)]
    pub api_prefix: String,
    /// Request exactly these paths, round robin, instead of the mix (repeatable).
    #[arg(long = "path", value_name = "PATH", value_parser = parse_path)]
    pub paths: Vec<String>,
    /// A header added to every request, e.g. "Authorization: Bearer …" (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = HeaderArg::parse)]
    pub headers: Vec<HeaderArg>,
    /// Customers of a --target: TOML with customer entries (name, orgs, token or token_env)
    /// and canaries per organization.
    #[arg(long, value_name = "FILE", conflicts_with = "embedded")]
    pub customers: Option<PathBuf>,
    /// Text no customer may ever receive (repeatable).
    #[arg(long = "canary", value_name = "TEXT", value_parser = parse_canary)]
    pub canaries: Vec<String>,
    /// Fraction of responses the leak oracle scans completely (0 = off, 1 = all).
    #[arg(long, default_value_t = 0.05, value_parser = parse_fraction)]
    pub oracle_sample: f64,
    /// Per-request timeout (connect, send and the whole body).
    #[arg(long, default_value = "10s", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Highest fraction of failed requests that still passes (default 0: any error fails).
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    pub max_error_rate: f64,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// No progress line on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// `Args` as a standalone parser, for [`Args::try_from_cli`].
#[derive(Parser)]
#[command(name = "loadtest", no_binary_name = true)]
struct Standalone {
    #[command(flatten)]
    args: Args,
}

impl Args {
    /// Parses the options as written after `kbgate loadtest`, e.g.
    /// `["--embedded", "--duration", "2s"]`.
    pub fn try_from_cli<I, T>(words: I) -> Result<Args, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Standalone::try_parse_from(words).map(|s| s.args)
    }
}

/// A `Name: value` header from `--header`. Its value never prints (it is often a credential).
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderArg {
    /// Header name (lower-case).
    pub name: HeaderName,
    /// Header value.
    pub value: HeaderValue,
}

impl fmt::Debug for HeaderArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: <redacted>", self.name)
    }
}

impl HeaderArg {
    /// Parses `Name: value`.
    pub fn parse(text: &str) -> Result<HeaderArg, String> {
        let (name, value) = text
            .split_once(':')
            .ok_or("a header is written \"Name: value\"")?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("{:?} is not a header name", name.trim()))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("the value of {name} has characters a header cannot carry"))?;
        Ok(HeaderArg { name, value })
    }
}

/// Parses a duration with a unit (`500ms`, `10s`, `2m`, `1h`), zero allowed.
pub fn parse_any_duration(text: &str) -> Result<Duration, String> {
    crate::config::parse_duration(text)
}

/// Like [`parse_any_duration`], refusing zero.
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_any_duration(text)? {
        d if d.is_zero() => Err("must be greater than zero".to_owned()),
        d => Ok(d),
    }
}

/// A rate in requests per second: positive and finite, at most one million.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of requests per second"))?;
    if rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0 {
        Ok(rate)
    } else {
        Err("the rate must be above 0 and at most 1000000 requests per second".to_owned())
    }
}

/// A fraction between 0 and 1 inclusive.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let f: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number between 0 and 1"))?;
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err(format!("{text} is not between 0 and 1"))
    }
}

/// `""` or a path prefix starting with `/`, without a trailing `/`.
fn parse_prefix(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('/');
    if trimmed.is_empty() || (trimmed.starts_with('/') && !trimmed.contains(['?', '#', ' '])) {
        Ok(trimmed.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a path prefix like \"/wiki\" (or \"\")"
        ))
    }
}

/// A request target in origin form: `/path?query`.
fn parse_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!("{text:?} must start with \"/\""));
    }
    text.parse::<http::uri::PathAndQuery>()
        .map(|_| text.to_owned())
        .map_err(|_| format!("{text:?} is not a valid request path (percent-encode it)"))
}

/// A canary: at least 4 characters, so that it cannot match by accident.
fn parse_canary(text: &str) -> Result<String, String> {
    if text.chars().count() >= 4 {
        Ok(text.to_owned())
    } else {
        Err("a canary needs at least 4 characters".to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn durations_take_the_config_units() {
        assert_eq!(
            parse_positive_duration("10s").unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(
            parse_positive_duration("500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            parse_positive_duration("2m").unwrap(),
            Duration::from_secs(120)
        );
        assert_eq!(parse_any_duration("0s").unwrap(), Duration::ZERO);
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_positive_duration("10").is_err(), "a unit is required");
        assert!(parse_positive_duration("ten seconds").is_err());
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let a = Args::try_from_cli(["--embedded"]).unwrap();
        assert!(a.embedded && a.target.is_none());
        assert_eq!(a.connections, 32);
        assert_eq!(a.duration, Duration::from_secs(10));
        assert_eq!(a.warmup, Duration::from_secs(1));
        assert_eq!(a.timeout, Duration::from_secs(10));
        assert_eq!(a.rate, None);
        assert_eq!(a.requests, None);
        assert_eq!(a.oracle_sample, 0.05);
        assert_eq!(a.max_error_rate, 0.0);
        assert_eq!(a.api_prefix, "/wiki");
        assert_eq!(a.mix, Mix::parse(DEFAULT_MIX).unwrap());
    }

    #[test]
    fn exactly_one_of_target_and_embedded() {
        assert!(Args::try_from_cli(Vec::<String>::new()).is_err());
        assert!(Args::try_from_cli(["--embedded", "--target", "http://127.0.0.1:1"]).is_err());
        assert!(Args::try_from_cli(["--target", "http://127.0.0.1:1"]).is_ok());
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            &["--embedded", "--rate", "0"][..],
            &["--embedded", "--rate", "fast"],
            &["--embedded", "--oracle-sample", "1.5"],
            &["--embedded", "--connections", "0"],
            &["--embedded", "--requests", "0"],
            &["--embedded", "--duration", "0s"],
            &["--embedded", "--path", "no-slash"],
            &["--embedded", "--header", "NoColon"],
            &["--embedded", "--canary", "abc"],
            &["--embedded", "--mix", "search=1,frobnicate=2"],
            &["--embedded", "--path", "/x", "--mix", "search=1"],
            &["--embedded", "--customers", "c.toml"],
        ] {
            assert!(Args::try_from_cli(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn headers_parse_and_never_print_their_value() {
        let a = Args::try_from_cli([
            "--target",
            "http://127.0.0.1:9",
            "--header",
            "Authorization: Bearer s3cr3t",
            "--path",
            "/wiki/rest/api/search?cql=x",
            "--path",
            "/",
        ])
        .unwrap();
        assert_eq!(a.headers[0].name, "authorization");
        assert_eq!(a.headers[0].value, "Bearer s3cr3t");
        assert_eq!(a.paths.len(), 2);
        assert!(!format!("{a:?}").contains("s3cr3t"));
    }

    #[test]
    fn the_api_prefix_loses_its_trailing_slash() {
        assert_eq!(parse_prefix("/wiki/").unwrap(), "/wiki");
        assert_eq!(parse_prefix("").unwrap(), "");
        assert!(parse_prefix("wiki").is_err());
    }
}
