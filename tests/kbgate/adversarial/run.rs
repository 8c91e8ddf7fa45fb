//! Running one case against the listening stack: build the request bytes, send them on a fresh
//! connection, and check everything the case promises — status, framing, headers, body, what
//! reached the simulator, and every received byte through the leak oracle.
//!
//! Guarantees: a check never stops at the first problem (a case reports all of its problems);
//! the simulator's request log is cleared before each case, so `forwarded` judges exactly
//! this case's requests; a case's `upstream_fault` is set for that case only; error answers
//! (4xx/5xx) must carry no canary of any organization at all, whoever asked. Deliberately not
//! done: deciding whether a failing case is a known bug (the runner in `adversarial.rs` does).

use std::collections::BTreeMap;
use std::time::Duration;

use super::case::Case;
use super::creds::{expand, Creds};
use super::wire::{exchange, Exchange};
use crate::support::{LeakOracle, Stack, SCANNED_BYTES, SCANNED_RESPONSES};

/// How long a case may take to be answered and closed, unless it says otherwise.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// What running one case found.
#[derive(Default)]
pub struct Outcome {
    /// Everything that did not match the case.
    pub problems: Vec<String>,
    /// Answers and bytes the oracle scanned.
    pub responses: u64,
    pub bytes: u64,
    /// Foreign canaries found.
    pub canaries: usize,
    /// The first answer's status (0: none).
    pub status: u16,
}

/// The stack, the credentials and the oracles shared by every case.
pub struct Env<'a> {
    pub stack: &'a Stack,
    pub creds: Creds,
    oracles: BTreeMap<String, LeakOracle>,
    any_canary: LeakOracle,
}

impl<'a> Env<'a> {
    pub fn new(stack: &'a Stack) -> Env<'a> {
        let corpus = stack.inner.sim.corpus();
        let mut oracles = BTreeMap::new();
        for c in kbgate::demo::customers() {
            let orgs: Vec<&str> = c.orgs.iter().map(String::as_str).collect();
            oracles.insert(
                c.name,
                LeakOracle::new(corpus.forbidden_canaries_for(&orgs)),
            );
        }
        // No credential at all: at most what a customer without organization may see.
        oracles.insert(
            "none".to_owned(),
            LeakOracle::new(corpus.forbidden_canaries_for(&[])),
        );
        Env {
            creds: Creds::new(stack),
            stack,
            oracles,
            any_canary: LeakOracle::new(corpus.all_canaries()),
        }
    }

    /// Runs `case` and checks every promise it makes.
    pub async fn run(&self, case: &Case) -> Outcome {
        let mut out = Outcome::default();
        let (request, head_only) = match self.request(case, None) {
            Ok(r) => r,
            Err(e) => {
                out.problems.push(format!("cannot build the request: {e}"));
                return out;
            }
        };
        let deadline = case
            .read_timeout_ms
            .map_or(DEFAULT_DEADLINE, Duration::from_millis);
        let fault = match case.upstream_fault.as_deref().map(fault_named).transpose() {
            Ok(fault) => fault,
            Err(e) => {
                out.problems.push(e);
                return out;
            }
        };
        let sim = &self.stack.inner.sim;
        sim.set_fault(fault);
        sim.clear_requests();
        let ex = exchange(self.stack.addr(), &request, head_only, deadline).await;
        // The IdP's key set may be fetched any time (an unknown kid triggers it); anything
        // else the simulator saw — Confluence, JSM, the IdP's token endpoint — was this case's.
        let upstream: Vec<kbgate::sim::RecordedRequest> = sim
            .requests()
            .into_iter()
            .filter(|r| !r.path_and_query.starts_with("/idp/.well-known/"))
            .collect();
        out.status = ex.status();
        self.scan(case, &ex, &mut out);
        let expected = |text: &str| expand(text, |k| self.lookup(k));
        check_answer(case, &ex, &expected, &mut out.problems);
        check_upstream(case, &upstream, &mut out.problems);
        if let Some(other) = &case.same_answer_as {
            self.compare(case, other, &ex, head_only, deadline, &mut out)
                .await;
        }
        sim.set_fault(None);
        out
    }

    /// The placeholders every text of a case may use (`{token}` and `{session}` are the
    /// request's own, see [`Env::request`]).
    fn lookup(&self, key: &str) -> Option<String> {
        match key {
            "host" => Some(self.stack.addr().to_string()),
            "kbgate" => Some(format!("http://{}", self.stack.addr())),
            "upstream" => Some(self.stack.inner.sim.addr().to_string()),
            _ => {
                if let Some(who) = key.strip_prefix("token:") {
                    return self.creds.token_of(who).ok();
                }
                if let Some(who) = key.strip_prefix("session:") {
                    return self.creds.session_of(who).ok();
                }
                if let Some(spec) = key.strip_prefix("repeat:") {
                    let (n, text) = spec.split_once(':')?;
                    return Some(text.repeat(n.parse().ok()?));
                }
                self.creds.lookup(key)
            }
        }
    }

    /// The request bytes of `case` (with `target` replacing its target), and whether it is a
    /// HEAD request.
    fn request(&self, case: &Case, target: Option<&str>) -> Result<(Vec<u8>, bool), String> {
        let name = case.identity.as_str();
        let token = match (&case.token, name) {
            (Some(recipe), _) => Some(self.creds.token(name, recipe)?),
            (None, "none") => None,
            (None, _) => Some(self.creds.token_of(name)?),
        };
        let session = match (&case.session, name) {
            (Some(recipe), _) => Some(self.creds.session(name, recipe)?),
            (None, "none") => None,
            (None, _) => Some(self.creds.session_of(name)?),
        };
        let addr = self.stack.addr().to_string();
        let lookup = |key: &str| -> Option<String> {
            match key {
                "token" => token.clone(),
                "session" => session.clone(),
                _ => self.lookup(key),
            }
        };
        if let Some(raw) = &case.raw {
            let bytes = super::case::decode_raw(&expand(raw, lookup))?;
            let head_only = bytes.starts_with(b"HEAD ");
            return Ok((bytes, head_only));
        }
        let target = expand(target.or(case.target.as_deref()).unwrap_or("/"), lookup);
        let mut req = format!("{} {target} HTTP/1.1\r\nHost: {addr}\r\n", case.method);
        if case.credential && name != "none" {
            match (&case.session, &token) {
                (Some(_), _) => req.push_str(&format!(
                    "Cookie: __Host-kbgate={}\r\n",
                    session.clone().unwrap_or_default()
                )),
                (None, Some(t)) => req.push_str(&format!("Authorization: Bearer {t}\r\n")),
                (None, None) => {}
            }
        }
        for (k, v) in &case.headers {
            req.push_str(&format!("{}: {}\r\n", expand(k, lookup), expand(v, lookup)));
        }
        req.push_str("Connection: close\r\n\r\n");
        Ok((req.into_bytes(), case.method == "HEAD"))
    }

    /// The leak oracle over every received byte: the identity's, and on an error answer
    /// every canary of the corpus.
    fn scan(&self, case: &Case, ex: &Exchange, out: &mut Outcome) {
        let responses = ex.answers.len().max(usize::from(!ex.bytes.is_empty())) as u64;
        out.responses += responses;
        out.bytes += ex.bytes.len() as u64;
        SCANNED_RESPONSES.fetch_add(responses, std::sync::atomic::Ordering::Relaxed);
        SCANNED_BYTES.fetch_add(ex.bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let oracle = &self.oracles[case.identity.as_str()];
        let hits = oracle.hits(&ex.bytes);
        if !hits.is_empty() {
            out.canaries += hits.len();
            out.problems.push(format!(
                "LEAK: foreign canaries {hits:?} in the answer to {}",
                case.identity
            ));
        }
        for a in ex.answers.iter().filter(|a| a.status >= 400) {
            let mut bytes = a.head.clone().into_bytes();
            bytes.extend_from_slice(&a.body);
            let any = self.any_canary.hits(&bytes);
            if !any.is_empty() {
                out.canaries += any.len();
                out.problems.push(format!(
                    "an error answer ({}) carries canaries {any:?}",
                    a.status
                ));
            }
        }
    }

    /// Sends the same request to `other` and requires the same answer (request ids and
    /// `Date` aside).
    async fn compare(
        &self,
        case: &Case,
        other: &str,
        first: &Exchange,
        head_only: bool,
        deadline: Duration,
        out: &mut Outcome,
    ) {
        let request = match self.request(case, Some(other)) {
            Ok((r, _)) => r,
            Err(e) => {
                out.problems
                    .push(format!("cannot build the comparison: {e}"));
                return;
            }
        };
        let second = exchange(self.stack.addr(), &request, head_only, deadline).await;
        self.scan(case, &second, out);
        let (a, b) = (normalized(first), normalized(&second));
        if a != b {
            out.problems.push(format!(
                "the answer differs from the one to {other}:\n--- this case\n{a}\n--- {other}\n{b}"
            ));
        }
    }
}

/// The first answer with its request id and `Date` taken out.
fn normalized(ex: &Exchange) -> String {
    let Some(a) = ex.answers.first() else {
        return "(no answer)".to_owned();
    };
    let id = a.headers("x-request-id").into_iter().next();
    let strip = |s: &str| match &id {
        Some(id) if !id.is_empty() => s.replace(id.as_str(), "<request-id>"),
        _ => s.to_owned(),
    };
    let head: Vec<String> = a
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .map(strip)
        .collect();
    format!(
        "{}\n\n{}",
        head.join("\n"),
        strip(&String::from_utf8_lossy(&a.body))
    )
}

/// The simulator fault a case names.
fn fault_named(name: &str) -> Result<kbgate::sim::Fault, String> {
    use kbgate::sim::Fault;
    Ok(match name {
        "session-headers" => Fault::SessionHeaders,
        "set-cookie" => Fault::SetCookie,
        "not-modified" => Fault::NotModified,
        "partial-content" => Fault::PartialContent,
        "gzip" => Fault::Gzip,
        other => return Err(format!("unknown upstream fault {other:?}")),
    })
}

/// Status, framing, headers and body of what came back; `expected` fills the placeholders of
/// the case's expected texts.
fn check_answer(
    case: &Case,
    ex: &Exchange,
    expected: &dyn Fn(&str) -> String,
    problems: &mut Vec<String>,
) {
    if ex.timed_out {
        problems.push("kbgate did not finish answering and close in time".to_owned());
    }
    let status = ex.status();
    if !case.expect_status.contains(&status) {
        problems.push(format!(
            "status {status}, expected one of {:?}",
            case.expect_status
        ));
    }
    if let Some(n) = case.expect_responses {
        if ex.answers.len() != n {
            problems.push(format!(
                "{} answers on the connection, expected {n}",
                ex.answers.len()
            ));
        }
    }
    let Some(first) = ex.answers.first() else {
        let wants_headers = !case.expect_header.is_empty()
            || !case.expect_header_prefix.is_empty()
            || !case.expect_header_contains.is_empty()
            || !case.expect_body_contains.is_empty();
        if wants_headers {
            problems.push("no answer to check headers or body on".to_owned());
        }
        return;
    };
    for name in &case.expect_header_absent {
        let values = first.headers(name);
        if !values.is_empty() {
            problems.push(format!("header {name} present: {values:?}"));
        }
    }
    let check = |map: &BTreeMap<String, String>,
                 how: &str,
                 ok: &dyn Fn(&str, &str) -> bool,
                 problems: &mut Vec<String>| {
        for (name, want) in map {
            let want = expected(want);
            let values = first.headers(name);
            if values.is_empty() || !values.iter().all(|v| ok(v, &want)) {
                problems.push(format!(
                    "header {name}: {values:?}, expected {how} {want:?}"
                ));
            }
        }
    };
    for (name, text) in &case.expect_header_lacks {
        let text = expected(text);
        let values = first.headers(name);
        if values.iter().any(|v| v.contains(text.as_str())) {
            problems.push(format!("header {name}: {values:?} contains {text:?}"));
        }
    }
    check(&case.expect_header, "exactly", &|v, w| v == w, problems);
    check(
        &case.expect_header_prefix,
        "to start with",
        &|v, w| v.starts_with(w),
        problems,
    );
    check(
        &case.expect_header_contains,
        "to contain",
        &|v, w| v.contains(w),
        problems,
    );
    let body = String::from_utf8_lossy(&first.body);
    for text in &case.expect_body_contains {
        let text = expected(text);
        if !body.contains(text.as_str()) {
            problems.push(format!("body lacks {text:?}"));
        }
    }
    let all = String::from_utf8_lossy(&ex.bytes).to_lowercase();
    for text in &case.expect_body_lacks {
        let text = expected(text);
        if all.contains(&text.to_lowercase()) {
            problems.push(format!("the answer contains {text:?}"));
        }
    }
}

/// What reached the simulator (anything but the IdP's key and login endpoints).
fn check_upstream(
    case: &Case,
    upstream: &[kbgate::sim::RecordedRequest],
    problems: &mut Vec<String>,
) {
    if !case.forwarded && !upstream.is_empty() {
        let paths: Vec<String> = upstream
            .iter()
            .map(|r| format!("{} {}", r.method, r.path_and_query))
            .collect();
        problems.push(format!("reached upstream: {paths:?}"));
        return;
    }
    if !case.checks_upstream() {
        return;
    }
    if upstream.is_empty() {
        problems.push("nothing reached upstream, so the upstream checks prove nothing".to_owned());
        return;
    }
    for r in upstream {
        let get = |name: &str| -> Vec<&str> {
            r.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let at = &r.path_and_query;
        for name in &case.upstream_header_absent {
            let values = get(name);
            if !values.is_empty() {
                problems.push(format!("upstream {at} got {name}: {values:?}"));
            }
        }
        for (name, want) in &case.upstream_header {
            let values = get(name);
            if values != [want.as_str()] {
                problems.push(format!(
                    "upstream {at} got {name}: {values:?}, expected {want:?}"
                ));
            }
        }
        for (name, want) in &case.upstream_header_prefix {
            let values = get(name);
            if values.len() != 1 || !values[0].starts_with(want.as_str()) {
                problems.push(format!(
                    "upstream {at} got {name}: {values:?}, expected one starting with {want:?}"
                ));
            }
        }
        for text in &case.upstream_target_lacks {
            if at.to_lowercase().contains(&text.to_lowercase()) {
                problems.push(format!("upstream target {at} contains {text:?}"));
            }
        }
        if let Some(m) = &case.upstream_method {
            if &r.method != m {
                problems.push(format!("upstream {at} used {}, expected {m}", r.method));
            }
        }
    }
}
