//! Browser sign-in for the KB site: OpenID Connect authorization code with PKCE S256, and the
//! stateless signed session cookie that lets a browser use the same routes as a bearer token.
//!
//! Routes (customer listener; all answer 404 when `[login]` is not configured):
//! - `GET /_kbgate/login?rd=<relative path>` → 302 to the provider with `state`, `nonce` and a
//!   PKCE S256 challenge; they and the verifier travel in a 10-minute single-use signed cookie.
//! - `GET /_kbgate/callback?code&state[&iss]` → checks the cookie, `state` (constant time) and
//!   `iss` (RFC 9207), exchanges the code, verifies the ID token with the **same** [`Verifier`]
//!   as bearer tokens (plus `nonce`, `aud`/`azp`), sets the session and goes to `rd`.
//! - `GET|POST /_kbgate/logout` → clears the cookies, refuses the session from then on (on this
//!   replica) and goes to the provider's end-session endpoint when it has one.
//!
//! Request path: [`authenticate`] (step 1 of the proxy) takes a bearer token when one is sent,
//! else a valid session; [`unauthenticated`] turns the 401 of a browser navigation into a 302 to
//! sign in. The session holds issuer, subject, email, organization-claim values, a session id and
//! issue/expiry times — no groups, no tokens — so every replica with the same secret accepts it.
//!
//! Deliberately not: server-side sessions, refresh tokens, or revocation shared across replicas
//! (a logged-out cookie stays valid on *other* replicas until it expires: keep `session_ttl`
//! short, or rotate `session_secret_env` to end every session at once).
//!
//! [`Verifier`]: crate::auth::Verifier

mod cookie;
mod flow;
mod page;
mod provider;
mod redirect;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Request, Response};
use moka::future::Cache;

use crate::app::App;
use crate::auth::{AuthError, Identity};
use crate::config::LoginSettings;
use crate::proxy::ProxyError;
use crate::response::{self, Body};

pub use cookie::{CookieError, LOGIN_COOKIE, LOOP_COOKIE, SESSION_COOKIE};
pub use provider::ProviderError;
pub use redirect::{is_browser_navigation, safe_target};

/// Starts a sign-in.
pub const LOGIN_PATH: &str = "/_kbgate/login";
/// The provider sends the browser back here.
pub const CALLBACK_PATH: &str = "/_kbgate/callback";
/// Ends the session.
pub const LOGOUT_PATH: &str = "/_kbgate/logout";
/// Lifetime of the login cookie (one sign-in round trip).
pub const LOGIN_TTL: Duration = Duration::from_secs(600);
/// More sign-ins than this within [`LOOP_WINDOW`] answer an error page instead of redirecting.
pub const MAX_LOGINS_PER_WINDOW: u32 = 3;
/// The window of the redirect-loop counter.
pub const LOOP_WINDOW: Duration = Duration::from_secs(60);
/// Most revoked sessions and logged-out subjects remembered (each for one session lifetime).
const REVOCATION_CAPACITY: u64 = 100_000;
/// Clock skew tolerated on a session's issue time.
const SKEW_MS: u64 = 60_000;

/// Why kbgate could not set up sign-in.
#[derive(Debug, thiserror::Error)]
pub enum LoginInitError {
    #[error("token endpoint client: {0}")]
    Client(#[source] ProviderError),
}

/// Why a session cookie was not accepted (logged at debug; the caller sees "no credentials").
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("session cookie refused: {0}")]
    Cookie(#[source] CookieError),
    #[error("the session is from another issuer")]
    WrongIssuer,
    #[error("the session expired")]
    Expired,
    #[error("the session claims a time in the future or a life longer than session_ttl")]
    BadTimes,
    #[error("the session was logged out")]
    Revoked,
}

/// Sign-in state shared by all requests: settings, cookie keys, the token client and the
/// bounded memory of used login attempts and logged-out sessions.
pub struct Login {
    settings: LoginSettings,
    keys: cookie::Keys,
    client: provider::TokenClient,
    /// Login-attempt ids already used at the callback (single use).
    used_logins: Cache<String, ()>,
    /// Session ids logged out.
    revoked: Cache<String, ()>,
    /// (issuer, subject) → Unix ms of their last logout: sessions issued before are refused.
    logged_out: Cache<(String, String), u64>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("issuer", &self.settings.issuer)
            .field("client_id", &self.settings.client_id)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// Sets up sign-in from validated settings.
    pub fn new(settings: &LoginSettings) -> Result<Login, LoginInitError> {
        let life = settings.session_ttl + Duration::from_secs(60);
        Ok(Login {
            keys: cookie::Keys::derive(settings.session_secret.expose().as_bytes()),
            client: provider::client().map_err(LoginInitError::Client)?,
            used_logins: Cache::builder()
                .max_capacity(REVOCATION_CAPACITY)
                .time_to_live(LOGIN_TTL + Duration::from_secs(60))
                .build(),
            revoked: Cache::builder()
                .max_capacity(REVOCATION_CAPACITY)
                .time_to_live(life)
                .build(),
            logged_out: Cache::builder()
                .max_capacity(REVOCATION_CAPACITY)
                .time_to_live(life)
                .build(),
            settings: settings.clone(),
        })
    }

    /// The settings this login runs with.
    pub fn settings(&self) -> &LoginSettings {
        &self.settings
    }

    /// The identity of a valid session cookie in `headers`.
    pub async fn session(&self, headers: &HeaderMap) -> Result<Identity, SessionError> {
        let claims = self.session_claims(headers).await?;
        Ok(Identity {
            issuer: claims.iss,
            subject: claims.sub,
            email: claims.email,
            org_claim: claims.orgs,
            // Sessions carry no groups (cookie size, anchors.md §2 #2) but the organizations
            // they mapped to at sign-in, and the overage flag so the resolver still denies.
            groups: Vec::new(),
            groups_overage: claims.ovg,
            group_orgs: Some(claims.gorgs),
        })
    }

    async fn session_claims(
        &self,
        headers: &HeaderMap,
    ) -> Result<cookie::SessionClaims, SessionError> {
        let value = cookie::read(headers, SESSION_COOKIE).map_err(SessionError::Cookie)?;
        let claims: cookie::SessionClaims = self
            .keys
            .open(cookie::Kind::Session, value)
            .map_err(SessionError::Cookie)?;
        if claims.iss != self.settings.issuer {
            return Err(SessionError::WrongIssuer);
        }
        let now_ms = unix_ms();
        if claims.exp <= now_ms / 1000 {
            return Err(SessionError::Expired);
        }
        let longest = claims.iat / 1000 + self.settings.session_ttl.as_secs() + 60;
        if claims.iat > now_ms + SKEW_MS || claims.exp > longest {
            return Err(SessionError::BadTimes);
        }
        if self.revoked.contains_key(&claims.sid) {
            return Err(SessionError::Revoked);
        }
        let who = (claims.iss.clone(), claims.sub.clone());
        if self
            .logged_out
            .get(&who)
            .await
            .is_some_and(|at| claims.iat <= at)
        {
            return Err(SessionError::Revoked);
        }
        Ok(claims)
    }

    /// Refuses the session `claims` and every earlier session of its subject (this replica).
    async fn revoke(&self, claims: &cookie::SessionClaims) {
        self.revoked.insert(claims.sid.clone(), ()).await;
        let who = (claims.iss.clone(), claims.sub.clone());
        let at = unix_ms().max(claims.iat);
        self.logged_out.insert(who, at).await;
    }
}

/// Step 1 of the proxy: the bearer token when an `Authorization` header is sent, else a valid
/// session cookie, else [`AuthError::Missing`] (an invalid session counts as none).
pub async fn authenticate(app: &App, headers: &HeaderMap) -> Result<Arc<Identity>, AuthError> {
    if !headers.contains_key(http::header::AUTHORIZATION) {
        if let Some(login) = &app.login {
            match login.session(headers).await {
                Ok(identity) => return Ok(Arc::new(identity)),
                Err(SessionError::Cookie(CookieError::Missing)) => {}
                Err(e) => tracing::debug!(reason = %e, "session refused"),
            }
        }
    }
    app.verifier.authenticate(headers).await
}

/// For a browser navigation that came without credentials, the 302 to sign in (clearing a
/// refused session cookie); `None` for API clients and every other error.
pub fn unauthenticated<B>(
    app: &App,
    req: &Request<B>,
    err: &ProxyError,
    request_id: &str,
) -> Option<Response<Body>> {
    app.login.as_ref()?;
    if !matches!(err, ProxyError::Auth(AuthError::Missing))
        || !is_browser_navigation(req.method(), req.headers())
    {
        return None;
    }
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = login_location(&safe_target(Some(target)));
    let mut cookies = Vec::new();
    if cookie::present(req.headers(), SESSION_COOKIE) {
        cookies.extend(cookie::clear(SESSION_COOKIE));
    }
    Some(page::redirect(&location, cookies, request_id))
}

/// `/_kbgate/login?rd=<target>`.
pub fn login_location(target: &str) -> String {
    let rd: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
    format!("{LOGIN_PATH}?rd={rd}")
}

/// Whether `path` is one of the login flow's (the caller builds [`route`]'s future only for
/// those).
pub fn owns(path: &str) -> bool {
    matches!(path, LOGIN_PATH | CALLBACK_PATH | LOGOUT_PATH)
}

/// Answers a login route ([`owns`]); any other path is not found.
pub async fn route<B>(app: &App, req: &Request<B>, request_id: &str) -> Response<Body> {
    let path = req.uri().path();
    let Some(login) = app.login.as_ref().filter(|_| owns(path)) else {
        return response::not_found(request_id);
    };
    let result = match path {
        LOGIN_PATH => flow::start(app, login, req, request_id).await,
        CALLBACK_PATH => flow::callback(app, login, req, request_id).await,
        _ => flow::logout(app, login, req, request_id).await,
    };
    match result {
        Ok(resp) => {
            tracing::info!(
                id = %request_id,
                path,
                status = resp.status().as_u16(),
                "login route"
            );
            resp
        }
        Err(err) => {
            let status = err.status();
            if status.is_server_error() {
                tracing::warn!(id = %request_id, path, reason = err.reason(), error = %err, "login refused");
            } else {
                tracing::info!(id = %request_id, path, reason = err.reason(), "login refused");
            }
            err.page(request_id)
        }
    }
}

pub use flow::LoginError;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
