//! The runtime canary probe (`[probe]`): production proof that no organization sees another's
//! articles.
//!
//! Every `interval`, for each configured organization, kbgate acts as a synthetic customer of
//! that organization only and runs, through the same route, policy and filter as a customer's
//! request (but without a socket or a token), a search for every configured canary. Each
//! filtered answer is scanned, case-insensitively, for the canaries of the *other*
//! organizations. A round is `leak` if any is found (logged at `error` with the organizations,
//! never the answer), `error` if a search failed, `blind` if an organization never saw one of its
//! own canaries (the probe would miss a leak: the canary pages are gone or not indexed), else
//! `clean`. `kbgate_canary_probe_runs_total{outcome}` and `kbgate_canary_probe_leaks_total{org}`
//! count rounds and leaks.

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use tracing::Instrument;

use crate::app::App;
use crate::config::ProbeSettings;
use crate::policy::OrgSet;
use crate::reload::Live;

/// What one round found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// `clean`, `leak`, `error` or `blind`.
    pub outcome: &'static str,
    /// For each organization that saw foreign canaries: how many answers held one.
    pub leaks: Vec<(String, u64)>,
    /// Searches made.
    pub searches: usize,
}

/// Runs a round every `interval` of the current configuration's `[probe]`, until the task is
/// dropped. Does nothing while no probe is configured (a reload may add one).
pub async fn run(live: Arc<Live>) {
    loop {
        let app = live.app();
        let interval = match &app.probe {
            Some(settings) => {
                live.metrics()
                    .probe_orgs(settings.canaries.iter().map(|(org, _)| org.as_str()));
                let round = round(&app, settings).await;
                live.metrics().probe_round(round.outcome, &round.leaks);
                settings.interval
            }
            None => std::time::Duration::from_secs(30),
        };
        drop(app);
        tokio::time::sleep(interval).await;
    }
}

/// One probe round against `app`.
pub async fn round(app: &App, settings: &ProbeSettings) -> Round {
    let mut leaks = Vec::new();
    let mut failed = false;
    let mut blind = false;
    let mut searches = 0;
    let all: Vec<&str> = settings
        .canaries
        .iter()
        .flat_map(|(_, texts)| texts.iter().map(String::as_str))
        .collect();
    for (org, own) in &settings.canaries {
        let foreign: Vec<&str> = settings
            .canaries
            .iter()
            .filter(|(other, _)| other != org)
            .flat_map(|(_, texts)| texts.iter().map(String::as_str))
            .collect();
        let (Ok(foreign), Ok(own)) = (matcher(&foreign), matcher(own)) else {
            failed = true;
            continue;
        };
        let orgs = OrgSet::new([org.clone()]);
        let mut leaked = 0;
        let mut saw_own = false;
        for canary in &all {
            searches += 1;
            match search(app, &orgs, canary).await {
                Ok(body) => {
                    if foreign.is_match(&body) {
                        leaked += 1;
                        tracing::error!(
                            probe.org = %org,
                            "canary probe: another organization's canary reached this organization"
                        );
                    }
                    saw_own |= own.is_match(&body);
                }
                Err(reason) => {
                    failed = true;
                    tracing::warn!(probe.org = %org, reason, "canary probe: search failed");
                }
            }
        }
        if leaked > 0 {
            leaks.push((org.to_string(), leaked));
        }
        if !saw_own {
            blind = true;
            tracing::warn!(
                probe.org = %org,
                "canary probe: this organization saw none of its own canaries; the probe cannot see a leak of them"
            );
        }
    }
    let outcome = if !leaks.is_empty() {
        "leak"
    } else if failed {
        "error"
    } else if blind {
        "blind"
    } else {
        "clean"
    };
    tracing::info!(outcome, searches, "canary probe round");
    Round {
        outcome,
        leaks,
        searches,
    }
}

fn matcher(canaries: &[impl AsRef<[u8]>]) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(canaries)
}

/// The results of a customer's search for `canary` (CQL `text ~ "canary"`, with titles,
/// excerpts and ancestors), filtered as `orgs` would receive them.
async fn search(app: &App, orgs: &OrgSet, canary: &str) -> Result<Vec<u8>, &'static str> {
    let target = format!(
        "{}/search?cql=text~%22{canary}%22&limit=50&expand=content.ancestors",
        app.upstream.api_prefix()
    );
    let uri: http::Uri = target.parse().map_err(|_| "bad_uri")?;
    let route =
        crate::route::classify_for(app.site, &http::Method::GET, &uri).map_err(|_| "unrouted")?;
    let request_id = format!("probe-{:08x}", rand::random::<u32>());
    // Its own span, so the audit events of the probe's answers carry its request id.
    let span = tracing::info_span!("probe", id = %request_id, orgs = %orgs.joined());
    let answer = crate::proxy::dispatch(app, orgs, route, &request_id)
        .instrument(span)
        .await
        .map_err(|e| e.reason())?;
    results_of(&answer.body)
}

/// The `results` of a search answer, as bytes: what came from Confluence. The rest is kbgate's
/// own paging and links, which echo the probe's query (and so its canary).
fn results_of(body: &[u8]) -> Result<Vec<u8>, &'static str> {
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        results: &'a serde_json::value::RawValue,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|_| "unexpected_answer")?;
    Ok(answer.results.get().as_bytes().to_vec())
}
