//! `POST /_kbgate/hooks/confluence`: Confluence tells kbgate that content changed, and kbgate
//! forgets what it cached about it, so decisions use fresh labels and ancestors before the
//! `cache.metadata_ttl` bound runs out.
//!
//! The endpoint exists only when `cache.webhook_secret_env` is set. A request is accepted when
//! it carries either `X-Hub-Signature: sha256=<HMAC-SHA256 of the body>` (Confluence Data
//! Center webhooks) or `X-Kbgate-Webhook-Token: <secret>` (automation rules that can only add a
//! header); both are compared in constant time. Every content id in the payload is forgotten;
//! a move, or a payload kbgate cannot read, forgets everything (a move changes the ancestors of
//! a whole subtree). The answer never says more than accepted or refused.

use hmac::{Hmac, Mac};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::config::Secret;
use crate::ids::ContentId;

/// The webhook path.
pub const PATH: &str = "/_kbgate/hooks/confluence";
/// Largest webhook body read.
const MAX_BODY: usize = 64 * 1024;

/// What the webhook did, for the caller's status and the log.
#[derive(Debug, PartialEq, Eq)]
pub enum HookOutcome {
    /// Accepted: this many ids forgotten, or everything.
    Invalidated(Invalidation),
    /// Not POST.
    MethodNotAllowed,
    /// Missing or wrong signature or token.
    Unauthorized,
    /// Body over the limit or unreadable.
    BadBody,
}

/// What was forgotten.
#[derive(Debug, PartialEq, Eq)]
pub enum Invalidation {
    Ids(usize),
    Everything,
}

impl HookOutcome {
    /// The status answered.
    pub fn status(&self) -> StatusCode {
        match self {
            HookOutcome::Invalidated(_) => StatusCode::NO_CONTENT,
            HookOutcome::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HookOutcome::Unauthorized => StatusCode::UNAUTHORIZED,
            HookOutcome::BadBody => StatusCode::BAD_REQUEST,
        }
    }
}

/// Handles one webhook request.
pub async fn handle<B>(app: &App, secret: &Secret, req: Request<B>) -> HookOutcome
where
    B: http_body::Body + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if req.method() != http::Method::POST {
        return HookOutcome::MethodNotAllowed;
    }
    let (parts, body) = req.into_parts();
    let Ok(collected) = Limited::new(body, MAX_BODY).collect().await else {
        return HookOutcome::BadBody;
    };
    let body = collected.to_bytes();
    if !authorized(secret, &parts.headers, &body) {
        return HookOutcome::Unauthorized;
    }
    let invalidation = match changed_ids(&body) {
        Some(ids) => {
            for id in &ids {
                app.metadata.forget(id).await;
            }
            Invalidation::Ids(ids.len())
        }
        None => {
            app.metadata.forget_all();
            Invalidation::Everything
        }
    };
    HookOutcome::Invalidated(invalidation)
}

/// True when the request carries a valid signature or token.
fn authorized(secret: &Secret, headers: &http::HeaderMap, body: &[u8]) -> bool {
    let key = secret.expose().as_bytes();
    if let Some(token) = headers.get("x-kbgate-webhook-token") {
        return bool::from(token.as_bytes().ct_eq(key));
    }
    let Some(signature) = headers.get("x-hub-signature").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    bool::from(
        expected
            .as_bytes()
            .ct_eq(hex.to_ascii_lowercase().as_bytes()),
    )
}

/// The content ids a payload names (every `id` member anywhere, string or number), or `None`
/// when everything must be forgotten: unreadable payloads and moves.
fn changed_ids(body: &[u8]) -> Option<Vec<ContentId>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let event = value.get("event").and_then(|e| e.as_str()).unwrap_or("");
    if event.to_ascii_lowercase().contains("move") {
        return None;
    }
    let mut ids = Vec::new();
    collect_ids(&value, &mut ids, 0);
    Some(ids)
}

fn collect_ids(v: &serde_json::Value, out: &mut Vec<ContentId>, depth: usize) {
    if depth > 16 || out.len() > 1000 {
        return;
    }
    match v {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let id = match value {
                    serde_json::Value::String(s) if key == "id" => ContentId::new(s).ok(),
                    serde_json::Value::Number(n) if key == "id" => {
                        ContentId::new(&n.to_string()).ok()
                    }
                    _ => None,
                };
                match id {
                    Some(id) if !out.contains(&id) => out.push(id),
                    Some(_) => {}
                    None => collect_ids(value, out, depth + 1),
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|i| collect_ids(i, out, depth + 1))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("sha256={hex}")
    }

    #[test]
    fn only_the_right_signature_or_token_is_accepted() {
        let secret = Secret::new("s3cret".into());
        let body = br#"{"page":{"id":123}}"#;
        let mut h = http::HeaderMap::new();
        assert!(!authorized(&secret, &h, body));
        h.insert("x-hub-signature", sign("s3cret", body).parse().unwrap());
        assert!(authorized(&secret, &h, body));
        assert!(
            !authorized(&secret, &h, br#"{"page":{"id":124}}"#),
            "signature covers the body"
        );
        h.insert("x-hub-signature", sign("other", body).parse().unwrap());
        assert!(!authorized(&secret, &h, body));
        let mut h = http::HeaderMap::new();
        h.insert("x-kbgate-webhook-token", "s3cret".parse().unwrap());
        assert!(authorized(&secret, &h, body));
        h.insert("x-kbgate-webhook-token", "s3cre".parse().unwrap());
        assert!(!authorized(&secret, &h, body));
    }

    #[test]
    fn payload_ids_are_found_anywhere_and_moves_forget_everything() {
        let ids = changed_ids(br#"{"event":"page_updated","page":{"id":"100005","ancestors":[{"id":100001}]},"label":{"name":"org-acme"}}"#).unwrap();
        let mut ids: Vec<&str> = ids.iter().map(ContentId::as_str).collect();
        ids.sort_unstable();
        assert_eq!(ids, vec!["100001", "100005"]);
        assert_eq!(
            changed_ids(br#"{"event":"page_moved","page":{"id":"1"}}"#),
            None
        );
        assert_eq!(changed_ids(b"not json"), None);
    }
}
