//! The browser the login stories drive: a cookie jar for kbgate's origin, redirects followed by
//! hand, the leak oracle on every answer; and a session cookie forged independently of kbgate.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::{send_raw, Customer, Raw, Stack};

pub const HTML: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
pub const SEARCH: &str = "/wiki/rest/api/search?cql=type%3Dpage&limit=100";

/// A browser: a cookie jar for kbgate's origin, and the oracle of its customer.
pub struct Browser<'a> {
    stack: &'a Stack,
    pub jar: BTreeMap<String, String>,
    pub customer: Customer,
    /// Every `Set-Cookie` kbgate sent, in order.
    pub set_cookies: Vec<String>,
}

impl<'a> Browser<'a> {
    pub fn new(stack: &'a Stack, name: &str) -> Browser<'a> {
        Browser {
            stack,
            jar: BTreeMap::new(),
            customer: stack.customer(name),
            set_cookies: Vec::new(),
        }
    }

    /// Sends a GET (or `method`) to an absolute URL or a kbgate path, with the jar's cookies
    /// when it goes to kbgate; remembers kbgate's cookies; scans the answer.
    pub async fn request(&mut self, method: &str, url: &str, accept: &str) -> Raw {
        let (addr, target) = split_url(self.stack.addr(), url);
        let to_kbgate = addr == self.stack.addr();
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: {accept}\r\n"
        );
        if to_kbgate && !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
        }
        if method == "POST" {
            req.push_str("Content-Length: 0\r\n");
        }
        req.push_str("\r\n");
        let raw = send_raw(addr, req.as_bytes()).await;
        self.customer.oracle.assert_clean(
            &raw.bytes,
            &format!("{} {method} {url}", self.customer.name),
        );
        if to_kbgate {
            for line in set_cookie_lines(&raw) {
                self.set_cookies.push(line.clone());
                let (pair, attrs) = line.split_once(';').unwrap_or((&line, ""));
                let (name, value) = pair.split_once('=').unwrap();
                if attrs.contains("Max-Age=0") {
                    self.jar.remove(name.trim());
                } else {
                    self.jar
                        .insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        raw
    }

    pub async fn get(&mut self, url: &str) -> Raw {
        self.request("GET", url, HTML).await
    }

    /// Starts a sign-in for `rd` and returns the provider URL kbgate sent the browser to.
    pub async fn start(&mut self, rd: &str) -> String {
        let rd: String = form_urlencoded::byte_serialize(rd.as_bytes()).collect();
        let raw = self.get(&format!("/_kbgate/login?rd={rd}")).await;
        assert_eq!(raw.status, 302, "{}", raw.head);
        location(&raw)
    }

    /// At the provider: signs in as this customer (plus `extra` query) and returns kbgate's
    /// callback URL the provider sent the browser back to.
    pub async fn at_provider(&mut self, authorize: &str, extra: &str) -> String {
        let url = format!("{authorize}&login_hint={}{extra}", self.customer.name);
        let raw = self.get(&url).await;
        assert_eq!(
            raw.status,
            302,
            "{}\n{}",
            raw.head,
            String::from_utf8_lossy(&raw.body)
        );
        location(&raw)
    }

    /// The whole dance; returns kbgate's last answer (the redirect to `rd`).
    pub async fn sign_in(&mut self, rd: &str) -> Raw {
        let authorize = self.start(rd).await;
        let callback = self.at_provider(&authorize, "").await;
        self.get(&callback).await
    }

    pub fn session(&self) -> Option<&String> {
        self.jar.get("__Host-kbgate")
    }
}

/// GET through kbgate as a browser of `who` would, with the leak oracle of `who`.
pub async fn get_as(stack: &Stack, who: &str, target: &str, headers: &[(&str, &str)]) -> Raw {
    let raw = stack.get(target, headers).await;
    stack
        .customer(who)
        .oracle
        .assert_clean(&raw.bytes, &format!("{who} GET {target}"));
    raw
}

pub fn split_url(kbgate: SocketAddr, url: &str) -> (SocketAddr, String) {
    if url.starts_with('/') {
        return (kbgate, url.to_owned());
    }
    let uri: http::Uri = url.parse().unwrap();
    let addr = uri.authority().unwrap().as_str().parse().unwrap();
    (addr, uri.path_and_query().unwrap().as_str().to_owned())
}

pub fn set_cookie_lines(raw: &Raw) -> Vec<String> {
    raw.head
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().to_owned())
        })
        .collect()
}

pub fn location(raw: &Raw) -> String {
    raw.header("location").expect("a Location header")
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn ids_of(raw: &Raw) -> Vec<String> {
    raw.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"]["id"].as_str().unwrap().to_owned())
        .collect()
}

impl Browser<'_> {
    pub async fn at_provider_raw(&mut self, authorize: &str) -> Raw {
        let url = format!("{authorize}&login_hint={}", self.customer.name);
        self.get(&url).await
    }
}

pub type HmacSha256 = Hmac<Sha256>;

/// A session cookie in kbgate's documented format, signed with `secret` — built here
/// independently of kbgate's code, so the positive control proves the negatives fail for the
/// reason they name.
pub fn forge_session(secret: &str, claims: &serde_json::Value) -> String {
    let mut derive = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
    derive.update(b"kbgate session cookie v1");
    let key = derive.finalize().into_bytes();
    let json = claims.to_string();
    let mut mac = HmacSha256::new_from_slice(&key).unwrap();
    mac.update(json.as_bytes());
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&json),
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
