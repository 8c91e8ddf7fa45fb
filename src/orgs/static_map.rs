//! The static map source: a TOML file, named by `orgs.static_file`, that maps customer emails
//! and (issuer, subject) pairs to organizations.
//!
//! ```toml
//! [emails]                                  # matched case-insensitively
//! "alice@acme.example" = ["acme"]
//!
//! [subjects."https://login.example.com/"]   # per issuer: a `sub` is unique only per issuer
//! "00u1abcd" = ["globex"]
//! ```
//!
//! Guarantees: the file is parsed once, strictly (unknown keys refused), every problem is
//! reported with its key path, and it is bounded ([`MAX_FILE_BYTES`], [`MAX_ENTRIES`]); lookups
//! are exact (emails lowercased). Deliberately not: reloading while running (restart kbgate to
//! pick up a new file) and checking organization ids against the rest of the configuration
//! (the `config` module does that, since it knows every organization).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::ids::OrgId;

/// Largest static map file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Most entries (emails plus subjects) accepted.
pub const MAX_ENTRIES: usize = 200_000;

/// Emails and subjects → organizations, loaded from `orgs.static_file`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticMap {
    emails: HashMap<String, Vec<OrgId>>,
    /// issuer → subject → organizations.
    subjects: HashMap<String, HashMap<String, Vec<OrgId>>>,
}

/// One problem in a static map file: the key path inside the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticMapProblem {
    /// Key path inside the file, e.g. `emails."alice@acme.example"[0]`.
    pub path: String,
    /// What is wrong and what to change.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStatic {
    #[serde(default)]
    emails: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    subjects: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl StaticMap {
    /// Parses and checks a static map file; every problem is returned at once.
    pub fn from_toml(text: &str) -> Result<StaticMap, Vec<StaticMapProblem>> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: String| {
            problems.push(StaticMapProblem { path, message });
        };
        if text.len() > MAX_FILE_BYTES {
            problem(
                String::new(),
                format!("the file is larger than {MAX_FILE_BYTES} bytes"),
            );
            return Err(problems);
        }
        let file: FileStatic = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                problem(String::new(), format!("not a valid static map: {e}"));
                return Err(problems);
            }
        };
        let entries = file.emails.len() + file.subjects.values().map(BTreeMap::len).sum::<usize>();
        if entries > MAX_ENTRIES {
            problem(
                String::new(),
                format!("{entries} entries; at most {MAX_ENTRIES} are accepted"),
            );
            return Err(problems);
        }
        let mut map = StaticMap::default();
        for (email, orgs) in &file.emails {
            let path = format!("emails.{email:?}");
            let key = email.trim().to_lowercase();
            if key.is_empty() || !key.contains('@') || key.len() > 320 {
                problem(path.clone(), "write an email address".to_owned());
            }
            let orgs = org_ids(&mut problem, &path, orgs);
            if map.emails.insert(key, orgs).is_some() {
                problem(
                    path,
                    "this email is listed twice (emails match case-insensitively): merge the entries"
                        .to_owned(),
                );
            }
        }
        for (issuer, subjects) in &file.subjects {
            if issuer.is_empty() {
                problem(
                    "subjects".to_owned(),
                    "name the issuer exactly as tokens carry it in `iss`".to_owned(),
                );
            }
            let mut by_sub = HashMap::new();
            for (sub, orgs) in subjects {
                let path = format!("subjects.{issuer:?}.{sub:?}");
                if sub.is_empty() {
                    problem(path.clone(), "write the token's `sub` value".to_owned());
                }
                by_sub.insert(sub.clone(), org_ids(&mut problem, &path, orgs));
            }
            map.subjects.insert(issuer.clone(), by_sub);
        }
        if problems.is_empty() {
            Ok(map)
        } else {
            Err(problems)
        }
    }

    /// The organizations of a customer: those of their email (case-insensitive) and of their
    /// (issuer, subject), combined. Empty when the map does not know them.
    pub fn lookup(&self, issuer: &str, subject: &str, email: Option<&str>) -> Vec<OrgId> {
        let mut out = Vec::new();
        if let Some(orgs) = email.and_then(|e| self.emails.get(&e.trim().to_lowercase())) {
            out.extend(orgs.iter().cloned());
        }
        if let Some(orgs) = self.subjects.get(issuer).and_then(|s| s.get(subject)) {
            out.extend(orgs.iter().cloned());
        }
        out
    }

    /// Every organization the map names, for checking against the configuration.
    pub fn orgs(&self) -> impl Iterator<Item = (String, &OrgId)> + '_ {
        let emails = self
            .emails
            .iter()
            .flat_map(|(e, orgs)| orgs.iter().map(move |o| (format!("emails.{e:?}"), o)));
        let subjects = self.subjects.iter().flat_map(|(iss, subs)| {
            subs.iter().flat_map(move |(sub, orgs)| {
                orgs.iter()
                    .map(move |o| (format!("subjects.{iss:?}.{sub:?}"), o))
            })
        });
        emails.chain(subjects)
    }

    /// How many emails and subjects the map holds.
    pub fn len(&self) -> usize {
        self.emails.len() + self.subjects.values().map(HashMap::len).sum::<usize>()
    }

    /// True when the map holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn org_ids(problem: &mut impl FnMut(String, String), path: &str, values: &[String]) -> Vec<OrgId> {
    if values.is_empty() {
        problem(path.to_owned(), "list at least one organization".to_owned());
    }
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match OrgId::new(v) {
            Ok(o) => out.push(o),
            Err(e) => problem(format!("{path}[{i}]"), format!("organization {v:?} {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(s: &str) -> OrgId {
        OrgId::new(s).unwrap()
    }

    const FILE: &str = r#"
[emails]
"Alice@ACME.example" = ["acme"]
"erin@example.com" = ["acme", "globex"]

[subjects."https://idp.example/"]
"00u1" = ["initech"]
"#;

    #[test]
    fn emails_match_case_insensitively_and_subjects_only_under_their_issuer() {
        let map = StaticMap::from_toml(FILE).unwrap();
        assert_eq!(map.len(), 3);
        assert_eq!(
            map.lookup("x", "y", Some("alice@acme.EXAMPLE")),
            vec![org("acme")]
        );
        assert_eq!(
            map.lookup("https://idp.example/", "00u1", None),
            vec![org("initech")]
        );
        assert!(map
            .lookup("https://other.example/", "00u1", None)
            .is_empty());
        assert!(map.lookup("https://idp.example/", "00U1", None).is_empty());
        assert!(map
            .lookup("x", "y", Some("alice@acme.example.evil"))
            .is_empty());
        assert!(map.lookup("x", "y", None).is_empty());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let bad = r#"
[emails]
"not-an-email" = ["acme"]
"bob@globex.example" = ["Globex", "ok"]
"BOB@globex.example" = []
[subjects."https://idp.example/"]
"" = ["acme"]
"#;
        let problems = StaticMap::from_toml(bad).unwrap_err();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for want in [
            "emails.\"not-an-email\"",
            "emails.\"bob@globex.example\"[0]",
            "emails.\"BOB@globex.example\"",
            "subjects.\"https://idp.example/\".\"\"",
        ] {
            assert!(paths.contains(&want), "missing {want} in {paths:?}");
        }
    }

    #[test]
    fn unknown_keys_and_non_toml_are_refused() {
        assert!(StaticMap::from_toml("[email]\n\"a@b\" = [\"acme\"]").is_err());
        assert!(StaticMap::from_toml("emails = 3").is_err());
        assert!(StaticMap::from_toml("").unwrap().is_empty());
    }

    #[test]
    fn the_organizations_named_are_listed_for_the_configuration_check() {
        let map = StaticMap::from_toml(FILE).unwrap();
        let mut named: Vec<&str> = map.orgs().map(|(_, o)| o.as_str()).collect();
        named.sort_unstable();
        assert_eq!(named, vec!["acme", "acme", "globex", "initech"]);
    }
}
