//! The three login routes: start a sign-in, finish it at the callback, log out.
//!
//! Guarantees: PKCE S256 always (the challenge is `BASE64URL(SHA-256(verifier))` of a 32-byte
//! random verifier); `state`, `nonce` and the login id are 32/32/16 random bytes from the OS; a
//! login cookie works once (its id is remembered, and the cookie is cleared by every callback
//! answer); `state` and `nonce` compare in constant time; an `iss` response parameter must name
//! the configured issuer; the ID token must come from that issuer, verify with the shared
//! verifier, name the client in `aud` (and `azp` when several audiences) and carry the nonce.
//! Every failure answers a fixed page and clears the login cookie. Deliberately not: several
//! sign-ins in parallel in one browser (a second `/login` replaces the first one's cookie).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use rand::RngCore as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::cookie::{self, Kind, LoginClaims, LoopClaims, SessionClaims};
use super::provider::{self, Discovered, Endpoints, ProviderError};
use super::{page, redirect, unix_ms, Login, LOGIN_TTL, LOGOUT_PATH, LOOP_WINDOW};
use super::{MAX_LOGINS_PER_WINDOW, SESSION_COOKIE};
use crate::app::App;
use crate::auth::AuthError;
use crate::response::Body;

/// Why a login route answered an error page.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("method not allowed")]
    Method {
        /// The `Allow` header value of the route.
        allow: &'static str,
    },
    #[error("sign-in looped {0} times within a minute")]
    Looping(u32),
    #[error("the provider is not usable")]
    Provider(#[source] ProviderError),
    #[error("the provider answered the sign-in with error {0:?}")]
    ProviderSaidNo(String),
    #[error("the callback parameters are missing or repeated")]
    BadCallback,
    #[error("no usable login cookie")]
    NoLoginCookie(#[source] cookie::CookieError),
    #[error("the login cookie expired")]
    LoginExpired,
    #[error("the login cookie was already used")]
    Replayed,
    #[error("state does not match the login cookie")]
    StateMismatch,
    #[error("the iss response parameter names another issuer")]
    IssMismatch,
    #[error("the ID token was refused: {}", .0.reason())]
    IdToken(#[source] AuthError),
    #[error("the ID token is from another issuer")]
    WrongIssuer,
    #[error("the ID token payload could not be read")]
    IdTokenClaims,
    #[error("the ID token has no nonce or another one")]
    Nonce,
    #[error("the ID token is not for this client")]
    Audience,
    #[error("the session would not fit in a cookie")]
    SessionTooLarge,
    #[error("no randomness or cookie could be produced")]
    Internal,
}

impl LoginError {
    /// Stable snake_case reason for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            LoginError::Method { .. } => "method_not_allowed",
            LoginError::Looping(_) => "login_loop",
            LoginError::Provider(_) => "provider_unusable",
            LoginError::ProviderSaidNo(_) => "provider_error",
            LoginError::BadCallback => "bad_callback",
            LoginError::NoLoginCookie(_) => "no_login_cookie",
            LoginError::LoginExpired => "login_expired",
            LoginError::Replayed => "login_replayed",
            LoginError::StateMismatch => "state_mismatch",
            LoginError::IssMismatch => "iss_mismatch",
            LoginError::IdToken(_) => "id_token_refused",
            LoginError::WrongIssuer => "id_token_wrong_issuer",
            LoginError::IdTokenClaims => "id_token_claims",
            LoginError::Nonce => "nonce_mismatch",
            LoginError::Audience => "id_token_audience",
            LoginError::SessionTooLarge => "session_too_large",
            LoginError::Internal => "internal",
        }
    }

    /// The answer's status: the browser's or attacker's input → 4xx, the provider → 502,
    /// kbgate's setup → 500, a loop → 508.
    pub fn status(&self) -> StatusCode {
        match self {
            LoginError::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
            LoginError::Looping(_) => StatusCode::LOOP_DETECTED,
            LoginError::Provider(
                ProviderError::NoEndpoint(_) | ProviderError::Tls(_) | ProviderError::NoPkceS256,
            )
            | LoginError::SessionTooLarge
            | LoginError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            LoginError::Provider(_) => StatusCode::BAD_GATEWAY,
            LoginError::IdToken(AuthError::KeysUnavailable) => StatusCode::SERVICE_UNAVAILABLE,
            LoginError::ProviderSaidNo(_)
            | LoginError::BadCallback
            | LoginError::NoLoginCookie(_)
            | LoginError::LoginExpired
            | LoginError::Replayed
            | LoginError::StateMismatch
            | LoginError::IssMismatch => StatusCode::BAD_REQUEST,
            LoginError::IdToken(_)
            | LoginError::WrongIssuer
            | LoginError::IdTokenClaims
            | LoginError::Nonce
            | LoginError::Audience => StatusCode::UNAUTHORIZED,
        }
    }

    /// The error page; always clears the login cookie.
    pub fn page(&self, request_id: &str) -> Response<Body> {
        let status = self.status();
        let again = Some(("/_kbgate/login?rd=%2F", "Sign in again"));
        let (title, message, link) = match self {
            LoginError::Method { .. } => (
                "Not allowed",
                "This address does not accept this method.",
                None,
            ),
            LoginError::Looping(_) => (
                "Sign-in keeps repeating",
                "You were sent to sign in several times within a minute, so kbgate stopped to \
                 avoid a loop. Your browser may be refusing kbgate's cookies (they need HTTPS), \
                 or the site is misconfigured. Wait a minute and try again, or contact support.",
                None,
            ),
            LoginError::NoLoginCookie(_) | LoginError::LoginExpired | LoginError::Replayed => (
                "Sign-in expired",
                "This sign-in expired, was already used, or was started in another browser. \
                 Start again.",
                again,
            ),
            LoginError::ProviderSaidNo(_) => (
                "Sign-in was not completed",
                "Your identity provider did not complete the sign-in.",
                again,
            ),
            _ if status.is_server_error() => (
                "Sign-in is unavailable",
                "kbgate could not complete the sign-in with the identity provider. Try again \
                 later.",
                again,
            ),
            _ => (
                "Sign-in failed",
                "kbgate could not verify this sign-in.",
                again,
            ),
        };
        let mut clear = Vec::new();
        clear.extend(cookie::clear(cookie::LOGIN_COOKIE));
        let mut resp = page::html(status, title, message, link, clear, request_id);
        if let LoginError::Method { allow } = self {
            resp.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static(allow));
        }
        resp
    }
}

/// Query parameters of a login route, refusing repeated names.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse<B>(req: &Request<B>) -> Params {
        let query = req.uri().query().unwrap_or("");
        Params(
            form_urlencoded::parse(query.as_bytes())
                .take(32)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The one value of `name`; `Err` when repeated.
    fn one(&self, name: &str) -> Result<Option<&str>, LoginError> {
        let mut found = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = found.next();
        if found.next().is_some() {
            return Err(LoginError::BadCallback);
        }
        Ok(first.map(String::as_str))
    }
}

fn random_b64(bytes: usize) -> Result<String, LoginError> {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng
        .try_fill_bytes(&mut buf)
        .map_err(|_| LoginError::Internal)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// PKCE S256 (RFC 7636 §4.2): `BASE64URL(SHA256(ASCII(verifier)))`.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The provider's endpoints: the configured overrides, else the verifier's discovery document
/// (fetched now, single-flight and rate-limited, when none was accepted yet).
async fn endpoints(app: &App, login: &Login) -> Result<Endpoints, LoginError> {
    let s = &login.settings;
    let discovered = if s.authorization_endpoint.is_some() && s.token_endpoint.is_some() {
        app.verifier.discovery(&s.issuer)
    } else {
        app.verifier.discovery_or_fetch(&s.issuer).await
    };
    let discovered = discovered
        .map(|m| Discovered::from_metadata(&m))
        .unwrap_or_default();
    Endpoints::resolve(s, &discovered).map_err(LoginError::Provider)
}

/// `GET /_kbgate/login?rd=…[&login_hint=…]`.
pub async fn start<B>(
    app: &App,
    login: &Login,
    req: &Request<B>,
    request_id: &str,
) -> Result<Response<Body>, LoginError> {
    if req.method() != Method::GET {
        return Err(LoginError::Method { allow: "GET" });
    }
    let params = Params::parse(req);
    let rd = redirect::safe_target(params.one("rd").ok().flatten());
    if login.session(req.headers()).await.is_ok() {
        return Ok(page::redirect(&rd, Vec::new(), request_id));
    }
    let now = unix_ms() / 1000;
    let previous = cookie::read(req.headers(), cookie::LOOP_COOKIE)
        .ok()
        .and_then(|v| login.keys.open::<LoopClaims>(Kind::Loop, v).ok())
        .filter(|c| c.since <= now && now - c.since < LOOP_WINDOW.as_secs());
    let counter = match previous {
        Some(c) => LoopClaims {
            n: c.n.saturating_add(1),
            since: c.since,
        },
        None => LoopClaims { n: 1, since: now },
    };
    if counter.n > MAX_LOGINS_PER_WINDOW {
        return Err(LoginError::Looping(counter.n));
    }
    let endpoints = endpoints(app, login).await?;
    let verifier = random_b64(32)?;
    let claims = LoginClaims {
        id: random_b64(16)?,
        state: random_b64(32)?,
        nonce: random_b64(32)?,
        verifier,
        rd,
        exp: now + LOGIN_TTL.as_secs(),
    };
    let s = &login.settings;
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &s.client_id)
        .append_pair("redirect_uri", &s.redirect_uri)
        .append_pair("scope", &s.scopes.join(" "))
        .append_pair("state", &claims.state)
        .append_pair("nonce", &claims.nonce)
        .append_pair("code_challenge", &pkce_challenge(&claims.verifier))
        .append_pair("code_challenge_method", "S256");
    if let Ok(Some(hint)) = params.one("login_hint") {
        if !hint.is_empty() && hint.len() <= 128 && !hint.chars().any(char::is_control) {
            query.append_pair("login_hint", hint);
        }
    }
    let base = endpoints.authorization.to_string();
    let sep = if base.contains('?') { '&' } else { '?' };
    let location = format!("{base}{sep}{}", query.finish());
    let login_cookie = login
        .keys
        .seal(Kind::Login, &claims)
        .and_then(|v| cookie::set(cookie::LOGIN_COOKIE, &v, LOGIN_TTL.as_secs()))
        .ok_or(LoginError::Internal)?;
    let loop_cookie = login
        .keys
        .seal(Kind::Loop, &counter)
        .and_then(|v| cookie::set(cookie::LOOP_COOKIE, &v, LOOP_WINDOW.as_secs()))
        .ok_or(LoginError::Internal)?;
    Ok(page::redirect(
        &location,
        vec![login_cookie, loop_cookie],
        request_id,
    ))
}

/// The ID-token claims login checks beyond the verifier's.
#[derive(Deserialize)]
struct IdClaims {
    #[serde(default)]
    nonce: Option<String>,
    aud: Audience,
    #[serde(default)]
    azp: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Checks `nonce`, `aud` and `azp` of an ID token the verifier has already accepted.
pub(super) fn check_id_claims(
    id_token: &str,
    nonce: &str,
    client_id: &str,
) -> Result<(), LoginError> {
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or(LoginError::IdTokenClaims)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| LoginError::IdTokenClaims)?;
    let claims: IdClaims = serde_json::from_slice(&json).map_err(|_| LoginError::IdTokenClaims)?;
    let sent = claims.nonce.ok_or(LoginError::Nonce)?;
    if !bool::from(sent.as_bytes().ct_eq(nonce.as_bytes())) {
        return Err(LoginError::Nonce);
    }
    let ours = match &claims.aud {
        Audience::One(a) => a == client_id,
        Audience::Many(list) => {
            list.iter().any(|a| a == client_id)
                && (list.len() == 1 || claims.azp.as_deref() == Some(client_id))
        }
    };
    if !ours || claims.azp.as_deref().is_some_and(|azp| azp != client_id) {
        return Err(LoginError::Audience);
    }
    Ok(())
}

/// `GET /_kbgate/callback?code&state[&iss]`.
pub async fn callback<B>(
    app: &App,
    login: &Login,
    req: &Request<B>,
    request_id: &str,
) -> Result<Response<Body>, LoginError> {
    if req.method() != Method::GET {
        return Err(LoginError::Method { allow: "GET" });
    }
    let params = Params::parse(req);
    if let Some(error) = params.one("error")? {
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(LoginError::ProviderSaidNo(code));
    }
    let value =
        cookie::read(req.headers(), cookie::LOGIN_COOKIE).map_err(LoginError::NoLoginCookie)?;
    let claims: LoginClaims = login
        .keys
        .open(Kind::Login, value)
        .map_err(LoginError::NoLoginCookie)?;
    if claims.exp <= unix_ms() / 1000 {
        return Err(LoginError::LoginExpired);
    }
    let first_use = login
        .used_logins
        .entry(claims.id.clone())
        .or_insert(())
        .await
        .is_fresh();
    if !first_use {
        return Err(LoginError::Replayed);
    }
    let state = params.one("state")?.ok_or(LoginError::BadCallback)?;
    if !bool::from(state.as_bytes().ct_eq(claims.state.as_bytes())) {
        return Err(LoginError::StateMismatch);
    }
    let s = &login.settings;
    let endpoints = endpoints(app, login).await?;
    match params.one("iss")? {
        Some(iss) if iss != s.issuer => return Err(LoginError::IssMismatch),
        None if endpoints.iss_required => return Err(LoginError::IssMismatch),
        _ => {}
    }
    let code = params
        .one("code")?
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or(LoginError::BadCallback)?;
    let id_token = provider::exchange(&login.client, &endpoints.token, s, code, &claims.verifier)
        .await
        .map_err(LoginError::Provider)?;

    let mut headers = HeaderMap::new();
    let bearer = HeaderValue::from_str(&format!("Bearer {id_token}"))
        .map_err(|_| LoginError::IdToken(AuthError::Missing))?;
    headers.insert(AUTHORIZATION, bearer);
    let identity = app
        .verifier
        .authenticate(&headers)
        .await
        .map_err(LoginError::IdToken)?;
    let identity = std::sync::Arc::unwrap_or_clone(identity);
    if identity.issuer != s.issuer {
        return Err(LoginError::WrongIssuer);
    }
    check_id_claims(&id_token, &claims.nonce, &s.client_id)?;

    let now_ms = unix_ms();
    let group_orgs = app
        .orgs
        .orgs_of_groups(&identity.groups)
        .into_iter()
        .map(|o| o.as_str().to_owned())
        .collect();
    let session = SessionClaims {
        sid: random_b64(16)?,
        iss: identity.issuer,
        sub: identity.subject,
        email: identity.email,
        orgs: identity.org_claim,
        ovg: identity.groups_overage,
        gorgs: group_orgs,
        iat: now_ms,
        exp: now_ms / 1000 + s.session_ttl.as_secs(),
    };
    let value = login
        .keys
        .seal(Kind::Session, &session)
        .ok_or(LoginError::Internal)?;
    if value.len() > cookie::MAX_VALUE_BYTES {
        return Err(LoginError::SessionTooLarge);
    }
    let mut cookies = Vec::new();
    cookies.extend(cookie::set(SESSION_COOKIE, &value, s.session_ttl.as_secs()));
    cookies.extend(cookie::clear(cookie::LOGIN_COOKIE));
    tracing::info!(id = %request_id, issuer = %session.iss, "signed in");
    Ok(page::redirect(&claims.rd, cookies, request_id))
}

/// `GET|POST /_kbgate/logout`.
pub async fn logout<B>(
    app: &App,
    login: &Login,
    req: &Request<B>,
    request_id: &str,
) -> Result<Response<Body>, LoginError> {
    if !matches!(*req.method(), Method::GET | Method::POST) {
        return Err(LoginError::Method { allow: "GET, POST" });
    }
    let session = login.session_claims(req.headers()).await.ok();
    let mut cookies = Vec::new();
    for name in [SESSION_COOKIE, cookie::LOGIN_COOKIE, cookie::LOOP_COOKIE] {
        cookies.extend(cookie::clear(name));
    }
    let Some(session) = session else {
        return Ok(page::html(
            StatusCode::OK,
            "Signed out",
            "You are signed out of the knowledge base.",
            Some(("/_kbgate/login?rd=%2F", "Sign in again")),
            cookies,
            request_id,
        ));
    };
    login.revoke(&session).await;
    tracing::info!(id = %request_id, issuer = %session.iss, "signed out");
    let s = &login.settings;
    let end_session = endpoints(app, login).await.ok().and_then(|e| e.end_session);
    let location = match end_session {
        Some(end) => {
            let base = end.to_string();
            let sep = if base.contains('?') { '&' } else { '?' };
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("client_id", &s.client_id)
                .append_pair(
                    "post_logout_redirect_uri",
                    &format!("{}{LOGOUT_PATH}", s.public_url),
                )
                .finish();
            format!("{base}{sep}{query}")
        }
        None => LOGOUT_PATH.to_owned(),
    };
    Ok(page::redirect(&location, cookies, request_id))
}
