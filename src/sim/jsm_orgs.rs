//! Jira Service Management customer organizations, as a JSM agent sees them:
//! `GET /rest/servicedeskapi/organization`, `GET /rest/servicedeskapi/organization/{id}` and
//! `GET /rest/servicedeskapi/organization/{id}/user`, in the shapes of `jsm-organizations.json`,
//! `jsm-organization.json` and `jsm-organization-users.json` (keys in the samples' order).
//!
//! Organizations: "Acme Corp" (1), "Globex" (2), "Initech" (3) and "Hooli Partners" (4). Globex
//! and Initech lowercase to the demo's `globex`/`initech`; "Acme Corp" and "Hooli Partners" do
//! not ([`ORG_MAP_TOML`] maps "Acme Corp" to `acme`; Hooli stays unmapped). Members: the demo
//! customers by email (alice → Acme Corp, bob → Globex, carol → Initech, erin → Acme Corp and
//! Globex, dave → none), each with a stable accountId ([`account_id`]); 55 more Acme Corp
//! customers (so Acme's users span two pages of 50); a deactivated Globex customer
//! (`former@globex.example`, `active: false`); one Hooli customer.
//!
//! Guarantees: `start`/`limit` paging (limit default and maximum 50, like JSM) with `isLastPage`
//! and absolute `next`/`prev` links; the agent account ([`AGENT_EMAIL`]/[`AGENT_TOKEN`], Basic)
//! or the service account may read, anyone else gets JSM's 401; every request to these routes
//! is counted; "down" answers 503 in JSM's error shape. Memberships can be changed while
//! running (`SimHandle::move_user_to_org`). Deliberately not: the write APIs, organization
//! properties, service-desk organization lists.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::jsm::error_body;
use super::json::J;
use super::search::Params;

/// The agent account allowed to read organizations (Basic `email:token`).
pub const AGENT_EMAIL: &str = "jsm-agent@kbgate.example";
/// The agent account's API token.
pub const AGENT_TOKEN: &str = "sim-agent-token";
/// `[orgs.jsm.org_map]` entries mapping the simulator's organizations onto the demo's.
pub const ORG_MAP_TOML: &str = "\"Acme Corp\" = \"acme\"";
/// The organizations: (id, name).
pub const ORGANIZATIONS: [(&str, &str); 4] = [
    ("1", "Acme Corp"),
    ("2", "Globex"),
    ("3", "Initech"),
    ("4", "Hooli Partners"),
];
/// JSM's default and largest `limit`.
pub const MAX_LIMIT: usize = 50;
/// Extra Acme Corp customers (beyond the demo customers), to make Acme's users page.
pub const ACME_FILLER_USERS: usize = 55;

/// The stable accountId of a simulated customer, derived from their email.
pub fn account_id(email: &str) -> String {
    let digest = Sha256::digest(format!("sim-account:{}", email.to_lowercase()).as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("5b10{hex}")
}

struct Member {
    org_id: &'static str,
    email: String,
    active: bool,
}

/// Mutable state of the organizations API.
pub(crate) struct OrgsState {
    down: AtomicBool,
    fetches: AtomicU64,
    members: Mutex<Vec<Member>>,
}

impl OrgsState {
    /// The seeded organizations and members.
    pub(crate) fn new() -> OrgsState {
        let m = |org_id, email: &str, active| Member {
            org_id,
            email: email.to_owned(),
            active,
        };
        let mut members = vec![
            m("1", "alice@acme.example", true),
            m("2", "bob@globex.example", true),
            m("3", "carol@initech.example", true),
            m("1", "erin@acme-globex.example", true),
            m("2", "erin@acme-globex.example", true),
            m("2", "former@globex.example", false),
            m("4", "hooli@hooli.example", true),
        ];
        for i in 0..ACME_FILLER_USERS {
            members.push(m("1", &format!("customer-{i:03}@acme.example"), true));
        }
        OrgsState {
            down: AtomicBool::new(false),
            fetches: AtomicU64::new(0),
            members: Mutex::new(members),
        }
    }

    /// Makes every organizations request answer 503 (or serve again).
    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Requests to the organizations API so far (refused ones included).
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Makes `email` a member of the organization named `org_name` only; false when no such
    /// organization exists.
    pub(crate) fn move_user(&self, email: &str, org_name: &str) -> bool {
        let Some((org_id, _)) = ORGANIZATIONS.iter().find(|(_, n)| *n == org_name) else {
            return false;
        };
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        let email = email.to_lowercase();
        members.retain(|m| m.email != email);
        members.push(Member {
            org_id,
            email,
            active: true,
        });
        true
    }
}

/// The agent's `Authorization: Basic …` credential.
fn agent_basic() -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{AGENT_EMAIL}:{AGENT_TOKEN}"))
}

/// Answers the organizations routes; `None` for any other path. `service_ok`: the request
/// carried the service account's credentials.
pub(crate) fn route(
    state: &OrgsState,
    base_url: &str,
    path: &str,
    query: Option<&str>,
    authorization: Option<&str>,
    service_ok: bool,
) -> Option<(u16, J)> {
    let rest = path.strip_prefix("/rest/servicedeskapi/organization")?;
    let segments: Vec<&str> = rest.split('/').skip(1).collect();
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let agent_ok = authorization
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, cred)| {
            scheme.eq_ignore_ascii_case("basic") && cred.trim() == agent_basic()
        });
    if !agent_ok && !service_ok {
        return Some((401, super::jsm::unauthorized()));
    }
    if state.down.load(Ordering::SeqCst) {
        return Some((
            503,
            error_body(
                "Jira Service Management is temporarily unavailable.",
                "sd.public.api.error.unavailable",
                &[],
            ),
        ));
    }
    let params = Params::parse(query);
    let api = format!("{base_url}/rest/servicedeskapi");
    let answer = match segments.as_slice() {
        [] => {
            let all: Vec<J> = ORGANIZATIONS
                .iter()
                .map(|(id, name)| organization(&api, id, name))
                .collect();
            paged(&api, "/organization", all, &params)
        }
        [id] => match ORGANIZATIONS.iter().find(|(i, _)| i == id) {
            Some((id, name)) => (200, organization(&api, id, name)),
            None => not_found(id),
        },
        [id, "user"] => match ORGANIZATIONS.iter().find(|(i, _)| i == id) {
            Some((id, _)) => {
                let members = state.members.lock().unwrap_or_else(|e| e.into_inner());
                let users: Vec<J> = members
                    .iter()
                    .filter(|m| m.org_id == *id)
                    .map(|m| user(base_url, &m.email, m.active))
                    .collect();
                drop(members);
                paged(&api, &format!("/organization/{id}/user"), users, &params)
            }
            None => not_found(id),
        },
        _ => not_found(""),
    };
    Some(answer)
}

fn not_found(id: &str) -> (u16, J) {
    (
        404,
        error_body(
            &format!("The organization with id {id} does not exist."),
            "sd.admin.organization.error.notfound",
            &[id],
        ),
    )
}

fn organization(api: &str, id: &str, name: &str) -> J {
    J::obj().with("id", id).with("name", name).with(
        "_links",
        J::obj().with("self", format!("{api}/organization/{id}")),
    )
}

fn user(base_url: &str, email: &str, active: bool) -> J {
    let account = account_id(email);
    let name = email.split('@').next().unwrap_or(email);
    let avatar = |size: u32| format!("https://avatar-cdn.atlassian.com/{account}?s={size}&d=mm");
    let user_url = format!("{base_url}/rest/api/2/user?accountId={account}");
    J::obj()
        .with("accountId", account.as_str())
        .with("name", account.as_str())
        .with("key", account.as_str())
        .with("emailAddress", email)
        .with("displayName", name)
        .with("active", active)
        .with("timeZone", "Europe/Berlin")
        .with(
            "_links",
            J::obj()
                .with("jiraRest", user_url.as_str())
                .with(
                    "avatarUrls",
                    J::obj()
                        .with("16x16", avatar(16))
                        .with("24x24", avatar(24))
                        .with("32x32", avatar(32))
                        .with("48x48", avatar(48)),
                )
                .with("self", user_url.as_str()),
        )
}

/// A JSM page of `all` per `start`/`limit`, with absolute `next`/`prev` links.
fn paged(api: &str, path: &str, all: Vec<J>, params: &Params) -> (u16, J) {
    let start: usize = match params.get("start").map(str::parse).transpose() {
        Ok(s) => s.unwrap_or(0),
        Err(_) => {
            return (
                400,
                error_body(
                    "start must be a number",
                    "sd.public.api.error.bad.request",
                    &[],
                ),
            )
        }
    };
    let limit: usize = match params.get("limit").map(str::parse).transpose() {
        Ok(l) => l.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT),
        Err(_) => {
            return (
                400,
                error_body(
                    "limit must be a number",
                    "sd.public.api.error.bad.request",
                    &[],
                ),
            )
        }
    };
    let total = all.len();
    let values: Vec<J> = all.into_iter().skip(start).take(limit).collect();
    let last = start.saturating_add(values.len()) >= total;
    let mut links = J::obj().with("base", api).with("context", "");
    if !last {
        links.push(
            "next",
            format!("{api}{path}?start={}&limit={limit}", start + limit),
        );
    }
    if start > 0 {
        links.push(
            "prev",
            format!(
                "{api}{path}?start={}&limit={limit}",
                start.saturating_sub(limit)
            ),
        );
    }
    let body = J::obj()
        .with("_expands", J::Arr(Vec::new()))
        .with("size", values.len())
        .with("start", start)
        .with("limit", limit)
        .with("isLastPage", last)
        .with("_links", links)
        .with("values", J::Arr(values));
    (200, body)
}

impl super::SimHandle {
    /// Takes the JSM organizations API down (`true`: every request answers 503) or back up.
    pub fn set_jsm_orgs_down(&self, down: bool) {
        self.state().jsm_orgs.set_down(down);
    }

    /// Requests the JSM organizations API has received (refused and failed ones included).
    pub fn jsm_org_fetches(&self) -> u64 {
        self.state().jsm_orgs.fetches()
    }

    /// Makes `email` a member of the organization named `org_name` (e.g. "Globex") only;
    /// false when no organization has that name.
    pub fn move_user_to_org(&self, email: &str, org_name: &str) -> bool {
        self.state().jsm_orgs.move_user(email, org_name)
    }
}
