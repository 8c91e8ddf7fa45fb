//! The checks of one cell: its answer against what the table says it must show.

use kbgate::sim::RecordedRequest;

use super::probe::Got;
use super::routes::{Kind, RouteCase};
use super::table::Expect;
use crate::support::LeakOracle;

/// Upstream headers that must never reach a customer (sessions, validators, framing, redirects
/// and the simulator's own fault markers).
pub const FORBIDDEN_HEADERS: &[&str] = &[
    "set-cookie",
    "x-ausername",
    "x-auserid",
    "x-asessionid",
    "x-seraph-loginreason",
    "x-sim-fault",
    "x-sim-connection-fault",
    "etag",
    "last-modified",
    "content-encoding",
    "content-range",
    "location",
    "retry-after",
];

/// How soon a timeout must be answered: the stack's 1 s upstream timeout plus slack for a
/// loaded 2-core machine.
const TIMEOUT_ANSWERED_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Everything a cell's checks need besides the answer.
pub struct Context<'a> {
    /// Finds every canary of the corpus (alice's own included): a refused answer has none.
    pub everything: &'a LeakOracle,
    /// Finds the canaries alice must never see: no answer of hers has one.
    pub foreign: &'a LeakOracle,
    /// Strings of the fault's answer a correct proxy never forwards.
    pub markers: &'a [&'a str],
    /// The requests upstream saw while the fault was set (`None`: no upstream at all).
    pub upstream: Option<&'a [RecordedRequest]>,
}

/// The verdict of one cell.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// What the cell had to show.
    pub expect: Expect,
    pub status: u16,
    /// The problems found (empty: the cell passed).
    pub problems: Vec<String>,
    /// Upstream bytes (canaries or markers) found in the answer.
    pub upstream_bytes: bool,
    /// A known-bug cell showed its bug in this run.
    pub bug_shown: bool,
    /// How long the answer took.
    pub elapsed: std::time::Duration,
}

/// The start of a body, for messages.
fn clip(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(240).collect()
}

fn markers_in(got: &Got, markers: &[&str]) -> Vec<String> {
    let text = String::from_utf8_lossy(&got.bytes).to_lowercase();
    markers
        .iter()
        .filter(|m| text.contains(&m.to_lowercase()))
        .map(|m| (*m).to_owned())
        .collect()
}

fn forbidden_headers(got: &Got) -> Vec<String> {
    got.header_names()
        .into_iter()
        .filter(|h| FORBIDDEN_HEADERS.contains(&h.as_str()))
        .collect()
}

/// kbgate's own error answer with `status`: `{"statusCode":…,"message":…}` for the API and
/// downloads, the site's error page (quoting the request id) for pages.
fn own_error(route: &RouteCase, got: &Got, status: u16, problems: &mut Vec<String>) {
    if got.status != status {
        problems.push(format!("status {} (want {status})", got.status));
    }
    if !got.complete {
        problems.push("an incomplete error answer".to_owned());
    }
    let content_type = got.header("content-type").unwrap_or_default();
    match route.kind {
        Kind::Api | Kind::Download => {
            let v: Option<serde_json::Value> = serde_json::from_slice(&got.body).ok();
            let own = v.as_ref().and_then(|v| v.as_object()).is_some_and(|o| {
                o.get("statusCode").and_then(|s| s.as_u64()) == Some(u64::from(status))
                    && o.get("message").is_some_and(|m| m.is_string())
                    && o.len() == 2
            });
            if !own || !content_type.starts_with("application/json") {
                problems.push(format!(
                    "not kbgate's own error body ({content_type}): {}",
                    clip(&got.body)
                ));
            }
        }
        Kind::Site => {
            let html = String::from_utf8_lossy(&got.body);
            let id = got.header("x-request-id").unwrap_or_default();
            let heading = if status == 504 {
                "The knowledge base is slow to answer"
            } else {
                "Something went wrong"
            };
            if !content_type.starts_with("text/html")
                || !html.contains(heading)
                || id.is_empty()
                || !html.contains(&id)
            {
                problems.push(format!("not the site's error page: {}", clip(&got.body)));
            }
        }
    }
}

/// Checks one cell. `normal` is the same route's answer without the fault, just before;
/// `rule` is the fault's rule (what a known-bug cell shows once the bug is fixed).
pub fn cell(
    route: &RouteCase,
    got: &Got,
    normal: &Got,
    expect: Expect,
    rule: Expect,
    cx: &Context<'_>,
) -> Verdict {
    if let Expect::KnownBug { shows, .. } = expect {
        if got.status != shows {
            // Fixed (or not triggered this run): the fault's rule applies in full.
            let verdict = cell(route, got, normal, rule, rule, cx);
            return Verdict { expect, ..verdict };
        }
    }
    let mut verdict = judge(route, got, normal, expect, cx);
    verdict.bug_shown = matches!(expect, Expect::KnownBug { .. });
    verdict
}

fn judge(route: &RouteCase, got: &Got, normal: &Got, expect: Expect, cx: &Context<'_>) -> Verdict {
    let mut problems = Vec::new();
    let canaries = cx.everything.hits(&got.bytes);
    let foreign = cx.foreign.hits(&got.bytes);
    let markers = markers_in(got, cx.markers);
    let headers = forbidden_headers(got);
    if !foreign.is_empty() {
        problems.push(format!(
            "LEAK of other organizations' canaries: {foreign:?}"
        ));
    }
    if got.timed_out {
        problems.push(format!("no end within {:?}", super::probe::DEADLINE));
    }
    let request_id = got.header("x-request-id").unwrap_or_default();
    let asked = cx.upstream.map(|seen| {
        seen.iter().any(|r| {
            r.headers
                .iter()
                .any(|(k, v)| k == "x-request-id" && *v == request_id)
        })
    });
    let mut upstream_bytes = !markers.is_empty();
    match expect {
        Expect::FailClosed(status) => {
            own_error(route, got, status, &mut problems);
            if status == 504 && got.elapsed > TIMEOUT_ANSWERED_WITHIN {
                problems.push(format!(
                    "504 after {:?}, not within the upstream timeout",
                    got.elapsed
                ));
            }
            upstream_bytes |= !canaries.is_empty();
            if !canaries.is_empty() {
                problems.push(format!("upstream canaries forwarded: {canaries:?}"));
            }
            if !markers.is_empty() {
                problems.push(format!("fault markers forwarded: {markers:?}"));
            }
            if !headers.is_empty() {
                problems.push(format!("upstream headers forwarded: {headers:?}"));
            }
            if asked == Some(false) {
                problems.push(
                    "upstream was never asked: the fault cannot apply (list the cell as not \
                     applicable, with the reason)"
                        .to_owned(),
                );
            }
        }
        Expect::GoodAnswer => {
            if got.status != 200 || normal.status != 200 {
                problems.push(format!("status {} (want 200)", got.status));
            }
            if got.normalized_body() != normal.normalized_body() {
                problems.push("the body differs from the answer without the fault".to_owned());
            }
            if !markers.is_empty() || !headers.is_empty() {
                problems.push(format!(
                    "upstream session headers forwarded: {headers:?} {markers:?}"
                ));
            }
            if asked == Some(false) {
                problems.push("upstream was never asked".to_owned());
            }
        }
        Expect::StreamAborted => {
            // What arrived is at most the real file; the declared length says more was due.
            let is_prefix = normal.body.starts_with(&got.body);
            if got.status != 200 || got.complete || !is_prefix {
                problems.push(format!(
                    "want a 200 download visibly cut short, a prefix of the file: status {}, \
                     complete {}, {} of {} bytes, prefix {is_prefix}",
                    got.status,
                    got.complete,
                    got.body.len(),
                    normal.body.len()
                ));
            }
            if !markers.is_empty() || !headers.is_empty() {
                problems.push(format!("upstream bytes forwarded: {headers:?} {markers:?}"));
            }
        }
        Expect::NotApplicable(_) => {
            let refused = matches!(got.status, 502 | 504);
            let sandboxed = got.status == 200
                && got
                    .header("content-disposition")
                    .is_some_and(|v| v.starts_with("attachment"))
                && got.header("x-content-type-options").as_deref() == Some("nosniff")
                && got
                    .header("content-security-policy")
                    .is_some_and(|v| v.contains("sandbox"));
            if !refused && !sandboxed {
                problems.push(format!(
                    "neither kbgate's own error nor a sandboxed download: {}",
                    got.head
                ));
            }
            // Opaque bytes are the file's: what they contain is not kbgate's to judge.
            problems.retain(|p| !p.starts_with("LEAK"));
            upstream_bytes = false;
        }
        Expect::KnownBug { shows, .. } => {
            // The bug's answer: still no marker, no upstream header, and an error carries no
            // canary at all.
            if shows >= 400 && !canaries.is_empty() {
                problems.push(format!("upstream canaries forwarded: {canaries:?}"));
            }
            if !markers.is_empty() || !headers.is_empty() {
                problems.push(format!("upstream bytes forwarded: {headers:?} {markers:?}"));
            }
            upstream_bytes = false;
        }
    }
    Verdict {
        expect,
        status: got.status,
        problems,
        upstream_bytes,
        bug_shown: false,
        elapsed: got.elapsed,
    }
}
