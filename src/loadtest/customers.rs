//! The virtual customers of a load test: a name, organizations, a bearer token, and the
//! canaries they must never receive. For `--embedded` they are the demo customers with freshly
//! minted tokens; for `--target` they come from a `--customers` TOML file:
//!
//! ```toml
//! [[customer]]
//! name = "alice"
//! orgs = ["acme"]
//! token_env = "TOKEN_ALICE"      # or: token = "eyJ…"
//!
//! [canaries]                     # per organization: texts only its members may receive
//! acme = ["CANARY-acme-1a2b3c"]
//! globex = ["CANARY-globex-4d5e6f"]
//! ```
//!
//! A customer's forbidden canaries are those of every organization they are not in.
//! Guarantees: tokens never appear in `Debug` output or error messages; every problem of the
//! file is reported with the customer it concerns. Deliberately not: token minting for real
//! identity providers.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use http::HeaderValue;
use serde::Deserialize;

/// One virtual customer.
#[derive(Clone)]
pub struct Customer {
    /// Name used in reports.
    pub name: String,
    /// Organizations the customer belongs to.
    pub orgs: Vec<String>,
    /// `Bearer <token>`, or `None` to send no credentials (then `--header` may add some).
    pub authorization: Option<HeaderValue>,
    /// Canaries this customer must never receive.
    pub forbidden: Vec<String>,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("name", &self.name)
            .field("orgs", &self.orgs)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("forbidden", &self.forbidden.len())
            .finish()
    }
}

/// Why the customers file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum CustomersError {
    /// The file could not be read.
    #[error("cannot read the customers file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("the customers file {path} is not valid")]
    Parse {
        path: String,
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The file parsed but says something impossible (every problem, one per line).
    #[error("the customers file {path}: {}", problems.join("; "))]
    Invalid { path: String, problems: Vec<String> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    customer: Vec<Entry>,
    #[serde(default)]
    canaries: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(default)]
    orgs: Vec<String>,
    token: Option<String>,
    token_env: Option<String>,
}

/// A `Bearer` authorization value for `token`.
pub fn bearer(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// Reads the customers file at `path`; `env` resolves `token_env` names.
pub fn load(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Customer>, CustomersError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CustomersError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text, &shown, env)
}

/// Parses a customers file (`path` only names it in errors).
pub fn parse(
    text: &str,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Customer>, CustomersError> {
    let file: File = toml::from_str(text).map_err(|source| CustomersError::Parse {
        path: path.to_owned(),
        source: Box::new(source),
    })?;
    let mut problems = Vec::new();
    if file.customer.is_empty() {
        problems.push("no [[customer]] entry".to_owned());
    }
    let mut names = BTreeSet::new();
    let mut customers = Vec::new();
    for (i, entry) in file.customer.iter().enumerate() {
        let who = if entry.name.trim().is_empty() {
            problems.push(format!("customer #{} has an empty name", i + 1));
            format!("customer #{}", i + 1)
        } else {
            format!("customer {:?}", entry.name)
        };
        if !names.insert(entry.name.as_str()) {
            problems.push(format!("{who} is listed twice"));
        }
        if entry.orgs.iter().any(|o| o.trim().is_empty()) {
            problems.push(format!("{who} has an empty organization name"));
        }
        let token = match (&entry.token, &entry.token_env) {
            (Some(t), None) => Some(t.clone()),
            (None, Some(var)) => match env(var) {
                Some(t) if !t.trim().is_empty() => Some(t),
                _ => {
                    problems.push(format!("{who}: the environment variable {var} is not set"));
                    None
                }
            },
            _ => {
                problems.push(format!("{who} needs exactly one of token and token_env"));
                None
            }
        };
        let authorization = token.as_deref().and_then(|t| {
            let value = bearer(t.trim());
            if value.is_none() {
                problems.push(format!(
                    "{who}: the token has characters a header cannot carry"
                ));
            }
            value
        });
        let forbidden = file
            .canaries
            .iter()
            .filter(|(org, _)| !entry.orgs.contains(org))
            .flat_map(|(_, list)| list.iter().cloned())
            .collect();
        customers.push(Customer {
            name: entry.name.clone(),
            orgs: entry.orgs.clone(),
            authorization,
            forbidden,
        });
    }
    for (org, list) in &file.canaries {
        if list.iter().any(|c| c.chars().count() < 4) {
            problems.push(format!(
                "a canary of {org} is shorter than 4 characters (it would match by accident)"
            ));
        }
    }
    if problems.is_empty() {
        Ok(customers)
    } else {
        Err(CustomersError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN_BOB").then(|| "bob-token".to_owned())
    }

    #[test]
    fn customers_get_the_canaries_of_every_other_organization() {
        let text = r#"
            [[customer]]
            name = "alice"
            orgs = ["acme"]
            token = "alice-token"

            [[customer]]
            name = "bob"
            orgs = ["globex"]
            token_env = "TOKEN_BOB"

            [[customer]]
            name = "erin"
            orgs = ["acme", "globex"]
            token = "erin-token"

            [canaries]
            acme = ["CANARY-acme-1"]
            globex = ["CANARY-globex-1", "CANARY-globex-2"]
        "#;
        let c = parse(text, "c.toml", &env).unwrap();
        assert_eq!(c[0].forbidden, ["CANARY-globex-1", "CANARY-globex-2"]);
        assert_eq!(c[1].forbidden, ["CANARY-acme-1"]);
        assert!(c[2].forbidden.is_empty());
        assert_eq!(c[1].authorization.as_ref().unwrap(), "Bearer bob-token");
        assert!(!format!("{c:?}").contains("alice-token"));
    }

    #[test]
    fn every_problem_of_the_file_is_reported() {
        let text = r#"
            [[customer]]
            name = "alice"
            token = "a"
            token_env = "X"

            [[customer]]
            name = "alice"
            token_env = "TOKEN_NOBODY"

            [canaries]
            acme = ["abc"]
        "#;
        let err = parse(text, "c.toml", &env).unwrap_err().to_string();
        for needle in [
            "exactly one of token and token_env",
            "listed twice",
            "TOKEN_NOBODY is not set",
            "shorter than 4",
        ] {
            assert!(err.contains(needle), "{needle:?} in {err}");
        }
        assert!(parse("[[customer]]\nname = \"x\"\ncolor = 1\n", "c.toml", &env).is_err());
        assert!(parse("", "c.toml", &env)
            .unwrap_err()
            .to_string()
            .contains("no [[customer]]"));
    }
}
