//! One adversarial case as written in `tests/adversarial/<group>/<row>-<slug>.toml`, and loading
//! every case of the corpus (sorted by group, then file name).
//!
//! The format is described in `tests/adversarial/README.md`. Loading is strict: unknown keys,
//! a row that does not belong to its group, a file name that does not start with its row, a
//! request given twice or not at all, and upstream checks on a case that may not reach upstream
//! are all errors — a typo must not turn a case into one that cannot fail.
//!
//! Deliberately not done here: sending anything (`run.rs`) or minting credentials (`creds.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The corpus groups, in report order, with the catalogue row letter each one holds.
pub const GROUPS: [(&str, char); 4] = [
    ("token", 'J'),
    ("session", 'S'),
    ("http", 'H'),
    ("filter", 'R'),
];

/// The identities a case may name (`none`: no credential at all).
pub const IDENTITIES: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "none"];

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// `<group>/<file stem>`, set by the loader.
    #[serde(skip)]
    pub id: String,
    /// The group (directory), set by the loader.
    #[serde(skip)]
    pub group: String,
    /// The catalogue row, e.g. `J3`.
    pub row: String,
    /// One line: what the case sends and why it matters.
    pub title: String,
    /// Exact request bytes (runner escapes; real line breaks are ignored).
    pub raw: Option<String>,
    /// Method of a spec request.
    #[serde(default = "default_method")]
    pub method: String,
    /// Request target of a spec request, sent byte for byte.
    pub target: Option<String>,
    /// Extra header lines of a spec request, in order (duplicates allowed).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Whose credential the case carries and whose oracle scans the answer.
    #[serde(default = "default_identity")]
    pub identity: String,
    /// Whether a spec request gets the credential header added by the runner.
    #[serde(default = "yes")]
    pub credential: bool,
    /// A crafted bearer token instead of the identity's valid one.
    pub token: Option<TokenRecipe>,
    /// A session cookie (forged with the demo secret unless the recipe says otherwise)
    /// instead of a bearer token.
    pub session: Option<SessionRecipe>,
    /// A misbehaviour of the simulated Confluence for this case only (see the README).
    pub upstream_fault: Option<String>,
    /// Statuses accepted for the first answer (0: the connection closed without one).
    pub expect_status: Vec<u16>,
    /// Whether kbgate may contact the simulator for this request: Confluence, JSM or the IdP's
    /// token endpoint (key-set fetches do not count; an unknown `kid` may trigger one).
    pub forwarded: bool,
    /// How many answers the connection must carry (pipelining cases).
    pub expect_responses: Option<usize>,
    /// Response headers that must be absent (names, any case).
    #[serde(default)]
    pub expect_header_absent: Vec<String>,
    /// Response headers that must have exactly this value.
    #[serde(default)]
    pub expect_header: BTreeMap<String, String>,
    /// Response headers whose value must start with this text.
    #[serde(default)]
    pub expect_header_prefix: BTreeMap<String, String>,
    /// Response headers whose value must contain this text.
    #[serde(default)]
    pub expect_header_contains: BTreeMap<String, String>,
    /// Response headers whose value must not contain this text.
    #[serde(default)]
    pub expect_header_lacks: BTreeMap<String, String>,
    /// Texts the first answer's body must contain.
    #[serde(default)]
    pub expect_body_contains: Vec<String>,
    /// Texts no byte of the answer may contain (case-insensitive).
    #[serde(default)]
    pub expect_body_lacks: Vec<String>,
    /// Headers no upstream request may carry.
    #[serde(default)]
    pub upstream_header_absent: Vec<String>,
    /// Headers every upstream request must carry with exactly this value.
    #[serde(default)]
    pub upstream_header: BTreeMap<String, String>,
    /// Headers every upstream request must carry with a value starting with this text.
    #[serde(default)]
    pub upstream_header_prefix: BTreeMap<String, String>,
    /// Texts no upstream path-and-query may contain (case-insensitive).
    #[serde(default)]
    pub upstream_target_lacks: Vec<String>,
    /// The method every upstream request must use.
    pub upstream_method: Option<String>,
    /// Another target whose answer to the same request must be the same, byte for byte
    /// (request ids and `Date` aside).
    pub same_answer_as: Option<String>,
    /// How long to wait for the server to answer and close, in milliseconds.
    pub read_timeout_ms: Option<u64>,
    /// A kbgate bug this case shows: reported apart, and not a failure while it fails.
    pub known_bug: Option<String>,
}

/// A crafted token: header and claims as JSON, a signing key, and a signature edit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRecipe {
    /// Members merged over `{"alg":"RS256","typ":"JWT","kid":"demo-rsa-1"}` (`"@remove"`
    /// removes one).
    #[serde(default)]
    pub header: toml::Table,
    /// The exact header text, instead of `header`.
    pub header_json: Option<String>,
    /// Claims merged over the identity's valid claims (`"@remove"` removes one).
    #[serde(default)]
    pub claims: toml::Table,
    /// The exact payload text, instead of `claims`.
    pub claims_json: Option<String>,
    /// The signing key (see the README).
    #[serde(default = "default_key")]
    pub key: String,
    /// The signing algorithm when it is not the key's usual one.
    pub sign_alg: Option<String>,
    /// An edit of the signature (see the README).
    #[serde(default = "default_keep")]
    pub signature: String,
    /// How header and payload are base64-encoded: `url` (the standard), `url-padded`,
    /// `standard`.
    #[serde(default = "default_segments")]
    pub segments: String,
    /// The whole token text, instead of all of the above.
    pub raw: Option<String>,
}

/// A session cookie in kbgate's documented format (`base64url(JSON).base64url(HMAC)`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRecipe {
    /// Claims merged over the identity's valid session claims (`"@remove"` removes one).
    #[serde(default)]
    pub claims: toml::Table,
    /// `demo` (the demo deployment's secret) or `other` (another deployment's).
    #[serde(default = "default_demo")]
    pub secret: String,
    /// `keep`, `flip` (one character of the MAC changed), `truncate` (two characters cut) or
    /// `login-kind` (signed with the login-state cookie's key instead of the session's).
    #[serde(default = "default_keep")]
    pub mutate: String,
}

impl Default for SessionRecipe {
    /// A valid session of the case's identity.
    fn default() -> Self {
        SessionRecipe {
            claims: toml::Table::new(),
            secret: default_demo(),
            mutate: default_keep(),
        }
    }
}

fn default_method() -> String {
    "GET".to_owned()
}
fn default_identity() -> String {
    "alice".to_owned()
}
fn yes() -> bool {
    true
}
fn default_key() -> String {
    "demo".to_owned()
}
fn default_keep() -> String {
    "keep".to_owned()
}
fn default_segments() -> String {
    "url".to_owned()
}
fn default_demo() -> String {
    "demo".to_owned()
}

impl Case {
    /// True when the case checks anything about the requests kbgate sent upstream.
    pub fn checks_upstream(&self) -> bool {
        !self.upstream_header_absent.is_empty()
            || !self.upstream_header.is_empty()
            || !self.upstream_header_prefix.is_empty()
            || !self.upstream_target_lacks.is_empty()
            || self.upstream_method.is_some()
    }

    /// The problems that make this file an invalid case.
    fn problems(&self, stem: &str, letter: char) -> Vec<String> {
        let mut out = Vec::new();
        let mut bad = |ok: bool, what: &str| {
            if !ok {
                out.push(what.to_owned());
            }
        };
        bad(
            self.row.starts_with(letter)
                && self.row.len() > 1
                && self.row[1..].bytes().all(|b| b.is_ascii_digit()),
            "the row does not belong to this group",
        );
        bad(
            stem.starts_with(&format!("{}-", self.row)),
            "the file name does not start with `<row>-`",
        );
        bad(
            !self.title.trim().is_empty() && !self.title.contains('\n'),
            "the title is not one line",
        );
        bad(
            self.raw.is_some() != self.target.is_some(),
            "give exactly one of `raw` and `target`",
        );
        bad(
            self.raw.is_none() || (self.headers.is_empty() && self.method == "GET"),
            "`method` and `headers` belong to spec requests",
        );
        bad(
            IDENTITIES.contains(&self.identity.as_str()),
            "unknown identity",
        );
        bad(
            !(self.token.is_some() && self.session.is_some()),
            "a case carries a token or a session, not both",
        );
        bad(
            self.identity != "none" || (self.token.is_none() && self.session.is_none()),
            "a crafted credential needs a customer identity",
        );
        bad(!self.expect_status.is_empty(), "`expect_status` is empty");
        bad(
            self.forwarded || !self.checks_upstream(),
            "upstream checks on a case that may not reach upstream prove nothing",
        );
        bad(
            self.upstream_fault.is_none() || self.forwarded,
            "an upstream fault on a case that may not reach upstream proves nothing",
        );
        bad(
            self.same_answer_as.is_none() || self.target.is_some(),
            "`same_answer_as` needs a spec request",
        );
        bad(
            self.known_bug
                .as_deref()
                .is_none_or(|b| !b.trim().is_empty()),
            "`known_bug` is empty",
        );
        out
    }
}

/// The corpus directory.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adversarial")
}

/// Loads every case, sorted by group then file name; every invalid file is reported at once.
pub fn load_all(dir: &Path) -> Result<Vec<Case>, Vec<String>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut groups_seen = Vec::new();
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => return Err(vec![format!("{}: {e}", dir.display())]),
    };
    entries.sort();
    for path in entries.iter().filter(|p| p.is_dir()) {
        let group = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(&(_, letter)) = GROUPS.iter().find(|(g, _)| *g == group) else {
            errors.push(format!("{}: not a corpus group", path.display()));
            continue;
        };
        groups_seen.push(group.clone());
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for file in files {
            if file.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let id = format!("{group}/{stem}");
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(format!("{id}: {e}"));
                    continue;
                }
            };
            match toml::from_str::<Case>(&text) {
                Ok(mut case) => {
                    let problems = case.problems(&stem, letter);
                    if problems.is_empty() {
                        case.id = id;
                        case.group = group.clone();
                        cases.push(case);
                    } else {
                        errors.push(format!("{id}: {}", problems.join("; ")));
                    }
                }
                Err(e) => errors.push(format!("{id}: {e}")),
            }
        }
    }
    for (group, _) in GROUPS {
        if !groups_seen.iter().any(|g| g == group) {
            errors.push(format!("group `{group}` is missing"));
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// `raw` as bytes: real line breaks dropped, then `\r \n \t \0 \\ \xHH` decoded.
pub fn decode_raw(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != b'\n').collect();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied();
        let (byte, used) = match next {
            Some(b'r') => (b'\r', 2),
            Some(b'n') => (b'\n', 2),
            Some(b't') => (b'\t', 2),
            Some(b'0') => (0, 2),
            Some(b'\\') => (b'\\', 2),
            Some(b'x') => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad \\x escape at byte {i}"))?;
                (hex, 4)
            }
            _ => return Err(format!("unknown escape at byte {i}")),
        };
        out.push(byte);
        i += used;
    }
    Ok(out)
}

#[test]
fn raw_escapes_decode_and_real_line_breaks_are_ignored() {
    let raw = "GET / HTTP/1.1\\r\\n\nX: a\\tb\\x00\\xff\\\\\\r\\n";
    assert_eq!(
        decode_raw(raw).unwrap(),
        b"GET / HTTP/1.1\r\nX: a\tb\x00\xff\\\r\n".to_vec()
    );
    assert!(decode_raw("\\q").is_err());
    assert!(decode_raw("\\xZZ").is_err());
}
