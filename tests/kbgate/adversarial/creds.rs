//! The credentials a case carries: valid bearer tokens and session cookies of the demo
//! customers, and crafted ones built from a case's recipe — JOSE header and payload written as
//! JSON by hand, signed over exactly those bytes with the simulated IdP's real key, another RSA
//! key, the demo EC key, an HMAC keyed with public material, or nothing, then the signature
//! edited. Sessions are forged in kbgate's documented cookie format, independently of its code.
//!
//! Guarantees: a recipe with no changes yields a credential kbgate accepts (the corpus holds
//! such positive controls), so a refusal of an edited one is a refusal of that edit.
//! Deliberately not done: any check of the result — kbgate is the one judging it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::case::{SessionRecipe, TokenRecipe};

const OTHER_RSA_PEM: &[u8] = include_bytes!("../../../testdata/keys/other-rsa.pem");
const DEMO_EC_PEM: &[u8] = include_bytes!("../../../testdata/keys/demo-ec.pem");
/// Another deployment's session secret: its cookies must not pass here.
const OTHER_SESSION_SECRET: &str = "another-deployment-secret-0123456789";
/// The order of the P-256 group, for high-S signatures.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The demo customers' claims and valid credentials, and the clock of one run.
pub struct Creds {
    pub issuer: String,
    pub now: i64,
    customers: BTreeMap<String, kbgate::sim::DemoCustomer>,
    tokens: BTreeMap<String, String>,
}

impl Creds {
    pub fn new(stack: &crate::support::Stack) -> Creds {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let customers: BTreeMap<_, _> = kbgate::demo::customers()
            .into_iter()
            .map(|c| (c.name.clone(), c))
            .collect();
        let tokens = customers
            .values()
            .map(|c| {
                let token = stack.inner.token(c, Duration::from_secs(600));
                (c.name.clone(), token)
            })
            .collect();
        Creds {
            issuer: stack.inner.sim.issuer(),
            now,
            customers,
            tokens,
        }
    }

    fn customer(&self, name: &str) -> Result<&kbgate::sim::DemoCustomer, String> {
        self.customers
            .get(name)
            .ok_or_else(|| format!("no demo customer {name:?}"))
    }

    /// A valid bearer token of `name`.
    pub fn token_of(&self, name: &str) -> Result<String, String> {
        self.tokens
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no demo customer {name:?}"))
    }

    /// A valid session cookie value of `name`.
    pub fn session_of(&self, name: &str) -> Result<String, String> {
        self.session(name, &SessionRecipe::default())
    }

    /// Values of `{issuer}`, `{aud}`, `{now}`, `{now+N}`, `{now-N}` in recipe texts.
    pub fn lookup(&self, key: &str) -> Option<String> {
        match key {
            "issuer" => Some(self.issuer.clone()),
            "aud" => Some(kbgate::demo::AUDIENCE.to_owned()),
            _ => self.now_expr(key).map(|n| n.to_string()),
        }
    }

    /// `now`, `now+N`, `now-N` as a number of seconds.
    fn now_expr(&self, key: &str) -> Option<i64> {
        let rest = key.strip_prefix("now")?;
        if rest.is_empty() {
            return Some(self.now);
        }
        let (sign, digits) = rest.split_at(1);
        let n: i64 = digits.parse().ok()?;
        match sign {
            "+" => Some(self.now + n),
            "-" => Some(self.now - n),
            _ => None,
        }
    }

    /// A TOML value of a recipe as JSON, with `@now±N[.F]`, `@text:…` and `@repeat:N:…`.
    fn json_of(&self, v: &toml::Value) -> Result<Value, String> {
        Ok(match v {
            toml::Value::String(s) => self.template(s)?,
            toml::Value::Integer(i) => Value::from(*i),
            toml::Value::Float(f) => Value::from(*f),
            toml::Value::Boolean(b) => Value::from(*b),
            toml::Value::Datetime(d) => Value::from(d.to_string()),
            toml::Value::Array(a) => Value::Array(
                a.iter()
                    .map(|v| self.json_of(v))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(t) => Value::Object(
                t.iter()
                    .map(|(k, v)| Ok((k.clone(), self.json_of(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    fn template(&self, s: &str) -> Result<Value, String> {
        if let Some(expr) = s.strip_prefix("@text:") {
            let v = self.template(expr)?;
            return Ok(Value::from(match v {
                Value::String(s) => s,
                other => other.to_string(),
            }));
        }
        if let Some(spec) = s.strip_prefix("@repeat:") {
            let (n, text) = spec.split_once(':').ok_or("bad @repeat")?;
            let n: usize = n.parse().map_err(|_| "bad @repeat count")?;
            return Ok(Value::from(text.repeat(n)));
        }
        if let Some(expr) = s.strip_prefix('@').filter(|e| e.starts_with("now")) {
            let (int_part, frac) = expr.split_once('.').unwrap_or((expr, ""));
            let n = self
                .now_expr(int_part)
                .ok_or_else(|| format!("bad time expression {s:?}"))?;
            if frac.is_empty() {
                return Ok(Value::from(n));
            }
            let f: f64 = format!("{n}.{frac}")
                .parse()
                .map_err(|_| format!("bad time expression {s:?}"))?;
            return Ok(Value::from(f));
        }
        Ok(Value::from(expand(s, |k| self.lookup(k))))
    }

    /// `base` with `changes` merged in (`"@remove"` removes a member).
    fn merged(
        &self,
        mut base: Map<String, Value>,
        changes: &toml::Table,
    ) -> Result<String, String> {
        for (k, v) in changes {
            if v.as_str() == Some("@remove") {
                base.remove(k);
            } else {
                base.insert(k.clone(), self.json_of(v)?);
            }
        }
        Ok(Value::Object(base).to_string())
    }

    /// The token a recipe describes, for customer `name`.
    pub fn token(&self, name: &str, r: &TokenRecipe) -> Result<String, String> {
        if let Some(raw) = &r.raw {
            return match self.template(raw)? {
                Value::String(s) => Ok(s),
                other => Ok(other.to_string()),
            };
        }
        let c = self.customer(name)?;
        let header = match &r.header_json {
            Some(text) => expand(text, |k| self.lookup(k)),
            None => {
                let base = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kbgate::sim::idp::DEMO_KID});
                self.merged(base.as_object().cloned().unwrap_or_default(), &r.header)?
            }
        };
        let claims = match &r.claims_json {
            Some(text) => expand(text, |k| self.lookup(k)),
            None => {
                let good = kbgate::sim::idp::customer_claims(
                    c,
                    &self.issuer,
                    kbgate::demo::AUDIENCE,
                    Duration::from_secs(600),
                );
                self.merged(good.as_object().cloned().unwrap_or_default(), &r.claims)?
            }
        };
        let segment = |bytes: &[u8]| match r.segments.as_str() {
            "url" => Ok(URL_SAFE_NO_PAD.encode(bytes)),
            "url-padded" => Ok(URL_SAFE.encode(bytes)),
            "standard" => Ok(STANDARD.encode(bytes)),
            other => Err(format!("unknown segments {other:?}")),
        };
        let input = format!(
            "{}.{}",
            segment(header.as_bytes())?,
            segment(claims.as_bytes())?
        );
        let signature = sign(&r.key, r.sign_alg.as_deref(), input.as_bytes())?;
        let signature = self.edit_signature(&r.signature, signature)?;
        Ok(format!("{input}.{signature}"))
    }

    fn edit_signature(&self, edit: &str, mut sig: Vec<u8>) -> Result<String, String> {
        let last = sig.len().checked_sub(1);
        match edit {
            "keep" => {}
            "empty" => sig.clear(),
            "flip" => {
                let i = last.ok_or("nothing to flip")? / 2;
                sig[i] ^= 0x01;
            }
            "truncate" => {
                sig.pop();
            }
            "zero" => sig.iter_mut().for_each(|b| *b = 0),
            "extra" => sig.push(0),
            "standard" => return Ok(STANDARD.encode(&sig)),
            "padded" => return Ok(URL_SAFE.encode(&sig)),
            "der" => sig = ecdsa_der(&sig)?,
            "high-s" => {
                let s = sig.get(32..64).ok_or("not an ES256 signature")?;
                let high = p256_negate(s);
                sig.truncate(32);
                sig.extend_from_slice(&high);
            }
            other => {
                if let Some(name) = other.strip_prefix("from:") {
                    let token = self.token_of(name)?;
                    return Ok(token.rsplit('.').next().unwrap_or_default().to_owned());
                }
                if let Some(text) = other.strip_prefix("text:") {
                    return Ok(text.to_owned());
                }
                return Err(format!("unknown signature edit {other:?}"));
            }
        }
        Ok(URL_SAFE_NO_PAD.encode(&sig))
    }

    /// The session cookie a recipe describes, for customer `name`.
    pub fn session(&self, name: &str, r: &SessionRecipe) -> Result<String, String> {
        let c = self.customer(name)?;
        let base = serde_json::json!({
            "sid": URL_SAFE_NO_PAD.encode(format!("adversarial-{name}")),
            "iss": self.issuer,
            "sub": c.subject,
            "email": c.email,
            "orgs": c.orgs,
            "iat": self.now * 1000,
            "exp": self.now + 600,
        });
        let claims = self.merged(base.as_object().cloned().unwrap_or_default(), &r.claims)?;
        let secret = match r.secret.as_str() {
            "demo" => kbgate::demo::SESSION_SECRET,
            "other" => OTHER_SESSION_SECRET,
            other => return Err(format!("unknown session secret {other:?}")),
        };
        let label: &[u8] = if r.mutate == "login-kind" {
            b"kbgate login cookie v1"
        } else {
            b"kbgate session cookie v1"
        };
        let mut value = forge_session(secret, label, &claims);
        match r.mutate.as_str() {
            "keep" | "login-kind" => {}
            "flip" => {
                let i = value.len() - 10;
                let swapped = if &value[i..=i] == "A" { "B" } else { "A" };
                value.replace_range(i..=i, swapped);
            }
            "truncate" => value.truncate(value.len() - 2),
            other => return Err(format!("unknown session mutation {other:?}")),
        }
        Ok(value)
    }
}

/// Replaces every `{key}` whose key `lookup` knows; other braces stay as written.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, lookup(&after[..close])?)))
        {
            Some((close, value)) => {
                out.push_str(&value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Signs `input` with a named key; the raw signature bytes (empty for `none`).
fn sign(key: &str, alg: Option<&str>, input: &[u8]) -> Result<Vec<u8>, String> {
    let err = |e: jsonwebtoken::errors::Error| format!("{key}: {e}");
    let (encoding, default_alg) = match key {
        "none" => return Ok(Vec::new()),
        "demo" => (
            EncodingKey::from_rsa_pem(kbgate::sim::idp::DEMO_RSA_PRIVATE_PEM).map_err(err)?,
            Algorithm::RS256,
        ),
        "other-rsa" => (
            EncodingKey::from_rsa_pem(OTHER_RSA_PEM).map_err(err)?,
            Algorithm::RS256,
        ),
        "ec" => (
            EncodingKey::from_ec_pem(DEMO_EC_PEM).map_err(err)?,
            Algorithm::ES256,
        ),
        hmac => {
            let secret = hmac_secret(hmac.strip_prefix("hmac:").ok_or("unknown key")?)?;
            (EncodingKey::from_secret(&secret), Algorithm::HS256)
        }
    };
    let alg = match alg {
        Some(name) => name
            .parse::<Algorithm>()
            .map_err(|e| format!("{name}: {e}"))?,
        None => default_alg,
    };
    let b64 = jsonwebtoken::crypto::sign(input, &encoding, alg).map_err(err)?;
    URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|e| format!("signature: {e}"))
}

/// Public material an attacker would use as an HMAC secret (threats.md J2).
fn hmac_secret(kind: &str) -> Result<Vec<u8>, String> {
    let pem = kbgate::sim::idp::DEMO_RSA_PUBLIC_PEM;
    Ok(match kind {
        "public-pem" => pem.to_vec(),
        "public-pem-trimmed" => String::from_utf8_lossy(pem).trim().as_bytes().to_vec(),
        "public-der" => {
            let body: String = String::from_utf8_lossy(pem)
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect();
            STANDARD.decode(body).map_err(|e| format!("der: {e}"))?
        }
        "jwk-n" => kbgate::sim::idp::demo_rsa_components()
            .map_err(|e| e.to_string())?
            .0
            .into_bytes(),
        "jwks" => kbgate::sim::idp::jwks_json()
            .map_err(|e| e.to_string())?
            .into_bytes(),
        "empty" => Vec::new(),
        other => match other.strip_prefix("text:") {
            Some(text) => text.as_bytes().to_vec(),
            None => return Err(format!("unknown hmac secret {other:?}")),
        },
    })
}

/// A JWS ECDSA signature (`r‖s`, 32 bytes each) re-encoded as ASN.1 DER.
fn ecdsa_der(sig: &[u8]) -> Result<Vec<u8>, String> {
    if sig.len() != 64 {
        return Err("not an ES256 signature".to_owned());
    }
    let int = |half: &[u8]| {
        let trimmed: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
        let mut v = Vec::new();
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            v.push(0);
        }
        v.extend(trimmed);
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let mut body = int(&sig[..32]);
    body.extend(int(&sig[32..]));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    Ok(out)
}

/// `n − s` for the P-256 order `n` (the high-S twin of a signature's `s`).
fn p256_negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = P256_ORDER[i] as i16 - s[i] as i16 - borrow;
        borrow = if d < 0 { 1 } else { 0 };
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

/// A signed cookie: `base64url(JSON).base64url(HMAC-SHA256(key, JSON))`, the key derived
/// from the secret and the cookie kind's `label` (`login/cookie.rs` documents the format).
fn forge_session(secret: &str, label: &[u8], json: &str) -> String {
    let mut derive = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    derive.update(label);
    let key = derive.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(json.as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json),
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

#[test]
fn placeholders_expand_only_when_known_and_signatures_re_encode_as_der() {
    let lookup = |k: &str| (k == "x").then(|| "1".to_owned());
    assert_eq!(expand("{x}-{y}-{}", lookup), "1-{y}-{}");
    let mut sig = vec![0u8; 64];
    sig[0] = 0x80;
    sig[63] = 1;
    let der = ecdsa_der(&sig).unwrap();
    assert_eq!(&der[..4], &[0x30, 38, 0x02, 33]);
    assert_eq!(&der[der.len() - 3..], &[0x02, 1, 1]);
    let mut one = [0u8; 32];
    one[31] = 1;
    let neg = p256_negate(&one);
    assert_eq!(neg[31], 0x50);
    assert_eq!(neg[..31], P256_ORDER[..31]);
}
