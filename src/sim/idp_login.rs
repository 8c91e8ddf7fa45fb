//! The simulated identity provider's browser sign-in: `GET {issuer}/authorize`,
//! `POST {issuer}/token` (authorization code with PKCE S256) and `GET {issuer}/logout`
//! (RP-initiated logout).
//!
//! Guarantees: authorize refuses a request without a PKCE challenge or with any method other than
//! `S256`, and without `openid` in the scope; a code works once, for the `client_id` and
//! `redirect_uri` it was issued to, within 10 minutes, and only with the verifier whose SHA-256
//! is the challenge; the ID token echoes the `nonce`, names the client in `aud` and is signed
//! like every other simulator token (the key ring's current key). The customer is picked with
//! `login_hint=<demo name>` (`alice`, `bob`, …); without it authorize answers a small page that
//! links each demo customer. The redirect carries `iss` (RFC 9207).
//!
//! For attack tests, `sim_fault=<name>` on authorize makes that sign-in misbehave:
//! `no_nonce`, `wrong_nonce`, `wrong_aud` (ID token), `wrong_iss`, `no_iss` (redirect).
//! Deliberately not: passwords, consent, refresh tokens, or client registration (any client id
//! is accepted and bound to its codes). Demo and tests only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use super::http::Reply;
use super::json::J;
use super::search::Params;
use super::{demo_customers, idp, State};

/// Most codes outstanding at once (the oldest are dropped past this).
const MAX_CODES: usize = 10_000;
/// How long a code can be redeemed.
const CODE_TTL: Duration = Duration::from_secs(600);
/// Largest token request body read.
const MAX_TOKEN_BODY: usize = 16 * 1024;
/// Lifetime of issued ID tokens.
const ID_TOKEN_TTL: u64 = 300;

/// What a code was issued for.
struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    customer: String,
    fault: Option<String>,
    issued: Instant,
}

/// Outstanding authorization codes (bounded, single use).
#[derive(Default)]
pub(crate) struct CodeStore {
    codes: Mutex<HashMap<String, Grant>>,
}

impl CodeStore {
    /// An empty store.
    pub(crate) fn new() -> CodeStore {
        CodeStore::default()
    }

    fn insert(&self, code: String, grant: Grant) {
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, g| g.issued.elapsed() < CODE_TTL);
        if codes.len() >= MAX_CODES {
            if let Some(oldest) = codes
                .iter()
                .min_by_key(|(_, g)| g.issued)
                .map(|(k, _)| k.clone())
            {
                codes.remove(&oldest);
            }
        }
        codes.insert(code, grant);
    }

    fn take(&self, code: &str) -> Option<Grant> {
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.remove(code).filter(|g| g.issued.elapsed() < CODE_TTL)
    }
}

/// Answers `authorize`, `token` and `logout` under the issuer path (404 for anything else).
pub(crate) async fn route(state: &State, rest: &str, req: Request<Incoming>) -> Reply {
    match (rest, req.method()) {
        ("authorize", &Method::GET) => authorize(state, &Params::parse(req.uri().query())),
        ("token", &Method::POST) => token(state, req).await,
        ("logout", &Method::GET) => logout(&Params::parse(req.uri().query())),
        ("authorize" | "token" | "logout", _) => oauth_error(405, "invalid_request", "method"),
        _ => oauth_error(404, "invalid_request", "no such endpoint"),
    }
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &J::obj()
            .with("error", error)
            .with("error_description", description),
    )
}

fn random_code() -> String {
    let mut buf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn redirect(location: String) -> Reply {
    Reply {
        status: 302,
        content_type: "text/plain",
        body: Bytes::new(),
        headers: vec![("Location", location), ("Cache-Control", "no-store".into())],
    }
}

/// The refusal of an authorize request, if any (checked before a customer is chosen).
fn authorize_refusal(params: &Params) -> Option<Reply> {
    let get = |name: &str| params.get(name).filter(|v| !v.is_empty());
    if get("response_type") != Some("code") {
        return Some(oauth_error(
            400,
            "unsupported_response_type",
            "response_type must be code",
        ));
    }
    let (Some(_), Some(redirect_uri)) = (get("client_id"), get("redirect_uri")) else {
        return Some(oauth_error(
            400,
            "invalid_request",
            "client_id and redirect_uri are required",
        ));
    };
    if !(redirect_uri.starts_with("http://") || redirect_uri.starts_with("https://")) {
        return Some(oauth_error(
            400,
            "invalid_request",
            "redirect_uri must be an http(s) URL",
        ));
    }
    if !get("scope").is_some_and(|s| s.split(' ').any(|w| w == "openid")) {
        return Some(oauth_error(
            400,
            "invalid_scope",
            "scope must include openid",
        ));
    }
    let Some(challenge) = get("code_challenge") else {
        return Some(oauth_error(
            400,
            "invalid_request",
            "PKCE code_challenge is required",
        ));
    };
    if get("code_challenge_method") != Some("S256") {
        return Some(oauth_error(
            400,
            "invalid_request",
            "only code_challenge_method=S256",
        ));
    }
    if challenge.len() != 43 {
        return Some(oauth_error(
            400,
            "invalid_request",
            "code_challenge is not a SHA-256",
        ));
    }
    None
}

fn authorize(state: &State, params: &Params) -> Reply {
    if let Some(refused) = authorize_refusal(params) {
        return refused;
    }
    let get = |name: &str| params.get(name).filter(|v| !v.is_empty());
    let (Some(client_id), Some(redirect_uri), Some(challenge)) =
        (get("client_id"), get("redirect_uri"), get("code_challenge"))
    else {
        return oauth_error(400, "invalid_request", "missing parameters");
    };
    let Some(hint) = get("login_hint") else {
        return chooser(state, params);
    };
    let Some(customer) = demo_customers().into_iter().find(|c| c.name == hint) else {
        return oauth_error(400, "invalid_request", "unknown login_hint");
    };
    let fault = get("sim_fault").map(str::to_owned);
    let code = random_code();
    state.idp_login.insert(
        code.clone(),
        Grant {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.to_owned(),
            nonce: get("nonce").map(str::to_owned),
            customer: customer.name,
            fault: fault.clone(),
            issued: Instant::now(),
        },
    );
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", &code);
    if let Some(s) = params.get("state") {
        query.append_pair("state", s);
    }
    match fault.as_deref() {
        Some("no_iss") => {}
        Some("wrong_iss") => {
            query.append_pair("iss", "https://attacker.example/idp");
        }
        _ => {
            query.append_pair("iss", &state.issuer);
        }
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    redirect(format!("{redirect_uri}{sep}{}", query.finish()))
}

/// The page shown when authorize has no `login_hint`: the demo's sign-in page. One list per
/// organization (in the order the demo customers name them; "No organization" for a customer in
/// none, "Acme and Globex" for one in both), each customer a link `id="login-<name>"` to this
/// same authorize request plus `login_hint=<name>`. Plain HTML, no script.
fn chooser(state: &State, params: &Params) -> Reply {
    /// The chooser's heading for a customer in `orgs`: "No organization", "Acme", or
    /// "Acme and Globex" (names capitalized, the last two joined by "and").
    fn org_group_name(orgs: &[String]) -> String {
        let names: Vec<String> = orgs
            .iter()
            .map(|o| {
                let mut chars = o.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            })
            .collect();
        match names.split_last() {
            None => "No organization".to_owned(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        }
    }
    let mut groups: Vec<(String, String)> = Vec::new();
    for c in demo_customers() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params.0 {
            if k != "login_hint" {
                query.append_pair(k, v);
            }
        }
        query.append_pair("login_hint", &c.name);
        let href = format!("{}/authorize?{}", state.issuer, query.finish());
        let item = format!(
            "<li><a id=\"login-{}\" href=\"{}\">{}</a></li>",
            html_escape(&c.name),
            html_escape(&href),
            html_escape(&c.email)
        );
        let group = org_group_name(&c.orgs);
        match groups.iter_mut().find(|(name, _)| *name == group) {
            Some((_, items)) => items.push_str(&item),
            None => groups.push((group, item)),
        }
    }
    let mut lists = String::new();
    for (name, items) in &groups {
        lists.push_str(&format!(
            "<section><h2>{}</h2><ul>{items}</ul></section>",
            html_escape(name)
        ));
    }
    Reply {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: Bytes::from(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Demo sign-in</title><style>body{{font-family:system-ui,sans-serif;\
             max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}}\
             h2{{font-size:1.1rem;margin:1.5rem 0 .25rem}}a{{color:#0b57d0}}\
             .note{{background:#fff4e5;border-left:4px solid #f29900;padding:.5rem .75rem}}\
             </style></head><body><main><h1>Demo sign-in</h1><p class=\"note\">This page \
             exists only in the kbgate demo: the simulated identity provider lets you pick a \
             demo customer instead of signing in with a password.</p><p>Choose a customer; \
             each organization sees its own knowledge base.</p>{lists}</main></body></html>"
        )),
        headers: vec![("Cache-Control", "no-store".into())],
    }
}

/// The client id and secret of HTTP Basic client authentication, when sent.
fn basic_client(req: &Request<Incoming>) -> Option<String> {
    let value = req
        .headers()
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, cred) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(cred.trim()).ok()?).ok()?;
    let (id, _secret) = decoded.split_once(':')?;
    let id = percent_encoding::percent_decode_str(&id.replace('+', " "))
        .decode_utf8()
        .ok()?
        .into_owned();
    Some(id)
}

async fn token(state: &State, req: Request<Incoming>) -> Reply {
    let basic = basic_client(&req);
    let body = match Limited::new(req.into_body(), MAX_TOKEN_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return oauth_error(400, "invalid_request", "body too large or unreadable"),
    };
    let form = Params(
        form_urlencoded::parse(&body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    );
    if form.get("grant_type") != Some("authorization_code") {
        return oauth_error(400, "unsupported_grant_type", "authorization_code only");
    }
    let Some(grant) = form.get("code").and_then(|c| state.idp_login.take(c)) else {
        return oauth_error(400, "invalid_grant", "unknown, used or expired code");
    };
    let client_id = basic.as_deref().or(form.get("client_id"));
    if client_id != Some(grant.client_id.as_str()) {
        return oauth_error(400, "invalid_grant", "code issued to another client");
    }
    if form.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return oauth_error(400, "invalid_grant", "redirect_uri differs");
    }
    let Some(verifier) = form.get("code_verifier") else {
        return oauth_error(400, "invalid_grant", "code_verifier is required");
    };
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return oauth_error(400, "invalid_grant", "PKCE verification failed");
    }
    let Some(customer) = demo_customers()
        .into_iter()
        .find(|c| c.name == grant.customer)
    else {
        return oauth_error(400, "invalid_grant", "customer gone");
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aud = match grant.fault.as_deref() {
        Some("wrong_aud") => "another-client".to_owned(),
        _ => grant.client_id.clone(),
    };
    let mut claims = serde_json::json!({
        "iss": state.issuer,
        "aud": aud,
        "sub": customer.subject,
        "email": customer.email,
        "email_verified": true,
        "iat": now,
        "nbf": now,
        "exp": now + ID_TOKEN_TTL,
        idp::ORGS_CLAIM: customer.orgs,
    });
    let nonce = match grant.fault.as_deref() {
        Some("no_nonce") => None,
        Some("wrong_nonce") => Some("a-nonce-from-another-sign-in".to_owned()),
        _ => grant.nonce,
    };
    if let (Some(nonce), Some(obj)) = (nonce, claims.as_object_mut()) {
        obj.insert("nonce".into(), serde_json::Value::String(nonce));
    }
    let id_token = match state.idp_keys.mint(&claims) {
        Ok(t) => t,
        Err(_) => return oauth_error(500, "server_error", "signing failed"),
    };
    let mut reply = Reply::json(
        200,
        &J::obj()
            .with("access_token", random_code())
            .with("token_type", "Bearer")
            .with("expires_in", ID_TOKEN_TTL)
            .with("id_token", id_token),
    );
    reply.headers.push(("Cache-Control", "no-store".into()));
    reply
}

/// RP-initiated logout: back to `post_logout_redirect_uri` (http(s) only), else a page.
fn logout(params: &Params) -> Reply {
    match params.get("post_logout_redirect_uri") {
        Some(uri) if uri.starts_with("http://") || uri.starts_with("https://") => {
            redirect(uri.to_owned())
        }
        _ => Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: Bytes::from_static(b"<!doctype html><title>Signed out</title><p>Signed out.</p>"),
            headers: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(issued: Instant) -> Grant {
        Grant {
            client_id: "kb".into(),
            redirect_uri: "http://127.0.0.1:1/_kbgate/callback".into(),
            challenge: "c".repeat(43),
            nonce: None,
            customer: "alice".into(),
            fault: None,
            issued,
        }
    }

    #[test]
    fn a_code_is_redeemed_once_only() {
        let store = CodeStore::new();
        store.insert("code-1".into(), grant(Instant::now()));
        assert!(store.take("code-1").is_some());
        assert!(store.take("code-1").is_none());
        assert!(store.take("never-issued").is_none());
    }

    #[test]
    fn an_expired_code_is_not_redeemed() {
        let store = CodeStore::new();
        let Some(old) = Instant::now().checked_sub(CODE_TTL + Duration::from_secs(1)) else {
            return; // a clock this young cannot hold an expired code
        };
        store.insert("old".into(), grant(old));
        assert!(store.take("old").is_none());
    }

    #[test]
    fn authorize_refuses_missing_or_plain_pkce_and_missing_openid() {
        let params = |q: &str| Params::parse(Some(q));
        let base = "response_type=code&client_id=kb&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb\
                    &scope=openid&login_hint=alice";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let check = |q: String| -> u16 {
            // `authorize` needs a State only to store the code; a refusal never reaches it.
            let refused = authorize_refusal(&params(&q));
            refused.map_or(302, |r| r.status)
        };
        assert_eq!(check(base.to_owned()), 400, "no challenge");
        assert_eq!(
            check(format!(
                "{base}&code_challenge={challenge}&code_challenge_method=plain"
            )),
            400
        );
        assert_eq!(
            check(format!("{base}&code_challenge={challenge}")),
            400,
            "no method means plain"
        );
        assert_eq!(
            check(
                format!("{base}&code_challenge={challenge}&code_challenge_method=S256")
                    .replace("scope=openid", "scope=email")
            ),
            400
        );
        assert_eq!(
            check(format!(
                "{base}&code_challenge={challenge}&code_challenge_method=S256"
            )),
            302
        );
    }
}
