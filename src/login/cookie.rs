//! kbgate's signed cookies: the session (`__Host-kbgate`), the single-use login state
//! (`__Host-kbgate-login`) and the login-loop counter (`__Host-kbgate-loop`).
//!
//! Each value is `base64url(JSON payload) "." base64url(HMAC-SHA256)`, with one key per cookie
//! kind derived from `login.session_secret_env`, so a login cookie can never pass as a session
//! (and the other way round) even though both are signed with the same secret. Every cookie is
//! `Secure; HttpOnly; SameSite=Lax; Path=/` under the `__Host-` prefix (no `Domain`, so a sibling
//! subdomain cannot toss one in). Values are checked in constant time, capped in length before any
//! work, and a request carrying two cookies of one name is refused rather than guessed.
//!
//! Deliberately not: encryption. The payloads hold nothing the customer does not already know
//! (their own issuer, subject, email and organization ids; the login state they are about to send
//! back), so integrity is what matters; expiry and revocation are checked by the caller.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The session cookie.
pub const SESSION_COOKIE: &str = "__Host-kbgate";
/// The single-use login-state cookie.
pub const LOGIN_COOKIE: &str = "__Host-kbgate-login";
/// The login-loop counter cookie.
pub const LOOP_COOKIE: &str = "__Host-kbgate-loop";
/// Longest cookie value read; anything longer is refused before decoding.
pub const MAX_VALUE_BYTES: usize = 3072;

type HmacSha256 = Hmac<Sha256>;

/// Which cookie a value is for; each kind has its own derived key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Login,
    Loop,
}

impl Kind {
    fn label(self) -> &'static [u8] {
        match self {
            Kind::Session => b"kbgate session cookie v1",
            Kind::Login => b"kbgate login cookie v1",
            Kind::Loop => b"kbgate login loop cookie v1",
        }
    }
}

/// Why a cookie value was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CookieError {
    #[error("no such cookie")]
    Missing,
    #[error("more than one cookie of this name")]
    Duplicate,
    #[error("the value is too long")]
    TooLong,
    #[error("the value is not in kbgate's format")]
    Malformed,
    #[error("the signature does not match")]
    BadSignature,
}

/// The per-kind signing keys, derived from the configured secret.
#[derive(Clone)]
pub struct Keys {
    session: [u8; 32],
    login: [u8; 32],
    looping: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    /// Derives one key per cookie kind: `HMAC-SHA256(secret, label)`.
    pub fn derive(secret: &[u8]) -> Keys {
        let derive = |kind: Kind| -> [u8; 32] {
            // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
            match HmacSha256::new_from_slice(secret) {
                Ok(mut mac) => {
                    mac.update(kind.label());
                    mac.finalize().into_bytes().into()
                }
                Err(_) => [0; 32],
            }
        };
        Keys {
            session: derive(Kind::Session),
            login: derive(Kind::Login),
            looping: derive(Kind::Loop),
        }
    }

    fn mac(&self, kind: Kind) -> Option<HmacSha256> {
        let key = match kind {
            Kind::Session => &self.session,
            Kind::Login => &self.login,
            Kind::Loop => &self.looping,
        };
        HmacSha256::new_from_slice(key).ok()
    }

    /// Serializes and signs `payload` as a cookie value of `kind`.
    pub fn seal<T: Serialize>(&self, kind: Kind, payload: &T) -> Option<String> {
        let json = serde_json::to_vec(payload).ok()?;
        let mut mac = self.mac(kind)?;
        mac.update(&json);
        let tag = mac.finalize().into_bytes();
        Some(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    /// Checks the signature of a cookie value of `kind` (constant time) and decodes its payload.
    pub fn open<T: DeserializeOwned>(&self, kind: Kind, value: &str) -> Result<T, CookieError> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(CookieError::TooLong);
        }
        let (payload, tag) = value.split_once('.').ok_or(CookieError::Malformed)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| CookieError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CookieError::Malformed)?;
        let mut mac = self.mac(kind).ok_or(CookieError::Malformed)?;
        mac.update(&json);
        mac.verify_slice(&tag)
            .map_err(|_| CookieError::BadSignature)?;
        serde_json::from_slice(&json).map_err(|_| CookieError::Malformed)
    }
}

/// What a session cookie carries: who, until when, and which session (for revocation). No
/// groups (only the organizations they mapped to), no tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionClaims {
    /// Random session id (16 bytes, base64url).
    pub sid: String,
    /// The issuer the customer signed in with.
    pub iss: String,
    /// `sub` of the ID token.
    pub sub: String,
    /// Verified email, when the ID token had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The organization claim's values (organization ids only, never groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<String>,
    /// The ID token reported a groups overage (the organization resolver must deny).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ovg: bool,
    /// The organizations the ID token's groups mapped to at sign-in (org ids, never groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gorgs: Vec<String>,
    /// Issued at, Unix milliseconds.
    pub iat: u64,
    /// Expires at, Unix seconds.
    pub exp: u64,
}

/// What the login cookie carries between `/_kbgate/login` and the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginClaims {
    /// Random id of this login attempt; remembered once used, so it works once.
    pub id: String,
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// Where to go after signing in (already checked to be a safe relative path).
    pub rd: String,
    /// Expires at, Unix seconds.
    pub exp: u64,
}

/// The login-loop counter: sign-ins started within the window beginning at `since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopClaims {
    /// Sign-ins started in the window.
    pub n: u32,
    /// Start of the window, Unix seconds.
    pub since: u64,
}

/// The one value of cookie `name` in the request, refusing two cookies of that name.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, CookieError> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else { continue };
        for pair in text.split(';') {
            let Some((k, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if k.trim() == name {
                if found.is_some() {
                    return Err(CookieError::Duplicate);
                }
                found = Some(v.trim());
            }
        }
    }
    found.ok_or(CookieError::Missing)
}

/// True when the request carries any cookie named `name` (valid or not).
pub fn present(headers: &HeaderMap, name: &str) -> bool {
    !matches!(read(headers, name), Err(CookieError::Missing))
}

/// `Set-Cookie` for `name=value` living `max_age_secs`, with kbgate's fixed attributes.
pub fn set(name: &str, value: &str, max_age_secs: u64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"
    ))
    .ok()
}

/// `Set-Cookie` that deletes cookie `name`.
pub fn clear(name: &str) -> Option<HeaderValue> {
    set(name, "", 0)
}
