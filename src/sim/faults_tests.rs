//! The faults added for issue 6, over a real socket: what each one puts on the wire, that the
//! identity provider stays healthy meanwhile, and that a keep-alive connection opened before a
//! connection fault still meets it.

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::faults::{Fault, MARKER, NESTING_DEPTH};
use super::faults_http::{nested_document, with_canaries};
use super::*;

async fn sim() -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(listener, SimOptions::default()).await.unwrap()
}

fn request(sim: &SimHandle, path: &str, keep_alive: bool) -> String {
    let o = SimOptions::default();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", o.service_email, o.service_token));
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {basic}\r\nConnection: {connection}\r\n\r\n",
        sim.addr()
    )
}

/// What a raw client saw within `wait`: the bytes, and how the stream ended (`None`: still open).
struct Seen {
    bytes: Vec<u8>,
    end: Option<Result<(), std::io::ErrorKind>>,
}

impl Seen {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn head(&self) -> String {
        let text = self.text();
        text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
    }
    fn body(&self) -> &[u8] {
        let at = self
            .bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head");
        &self.bytes[at + 4..]
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head().lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

async fn read_for(stream: &mut TcpStream, wait: Duration) -> Seen {
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Seen { bytes, end: None },
            Ok(Ok(0)) => {
                return Seen {
                    bytes,
                    end: Some(Ok(())),
                }
            }
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
            Ok(Err(e)) => {
                return Seen {
                    bytes,
                    end: Some(Err(e.kind())),
                }
            }
        }
    }
}

async fn get_raw(sim: &SimHandle, path: &str, wait: Duration) -> Seen {
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(request(sim, path, false).as_bytes())
        .await
        .unwrap();
    read_for(&mut s, wait).await
}

const SEARCH: &str = "/wiki/rest/api/search?cql=space%3DKB";

#[test]
fn json_objects_get_the_marker_and_every_canary_title_and_other_bodies_stay_as_they_are() {
    let titles = ["CANARY-acme-1 title", "CANARY-globex-2 \"quoted\""];
    let out = with_canaries(b" {\"results\":[]}", &titles, "X");
    let v: Value = serde_json::from_slice(&out).unwrap();
    let note = v["simFault"].as_str().unwrap();
    assert!(note.contains(MARKER) && note.contains(titles[0]) && note.contains(titles[1]));
    assert!(v["results"].is_array());
    let empty: Value = serde_json::from_slice(&with_canaries(b"{}", &titles, "X")).unwrap();
    assert!(empty["simFault"].is_string());
    assert_eq!(&with_canaries(b"Notes\n", &titles, "X")[..], b"Notes\n");
    assert_eq!(&with_canaries(b"[1]", &titles, "X")[..], b"[1]");
}

#[test]
fn the_nested_document_is_exactly_ten_thousand_levels_deep_and_balanced() {
    let doc = nested_document(NESTING_DEPTH, "leaf");
    let (mut depth, mut deepest) = (0i64, 0i64);
    for b in doc.bytes() {
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    assert_eq!((depth, deepest), (0, NESTING_DEPTH as i64));
    // serde_json's default recursion limit refuses it: a parser without one would overflow.
    assert!(serde_json::from_str::<Value>(&doc).is_err());
}

#[test]
fn every_new_fault_names_the_marker_and_only_connection_faults_take_the_socket_over() {
    let conn = [
        Fault::Silence,
        Fault::SlowHeaders,
        Fault::SlowBody,
        Fault::ShortBody,
        Fault::ResetMidBody,
        Fault::Http10CloseDelimited,
    ];
    let answer = [
        Fault::DeepNesting,
        Fault::BadGateway,
        Fault::ServiceUnavailable,
        Fault::RedirectElsewhere(302),
        Fault::Brotli,
        Fault::UnknownEncoding,
        Fault::PartialContent,
        Fault::NotModified,
        Fault::SessionHeaders,
    ];
    for f in conn.iter().chain(&answer) {
        assert!(f.markers().contains(&MARKER), "{f:?}");
    }
    assert!(conn.iter().all(Fault::takes_over_connection));
    assert!(!answer.iter().any(Fault::takes_over_connection));
    assert!(!Fault::Truncated.takes_over_connection());
}

#[tokio::test]
async fn answer_faults_put_the_marker_and_canaries_on_the_wire() {
    let sim = sim().await;
    let title = sim.corpus().canary_titles()[0].to_owned();
    let wait = Duration::from_secs(3);

    sim.set_fault(Some(Fault::DeepNesting));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert!(a.head().starts_with("HTTP/1.1 200"), "{}", a.head());
    assert!(a.text().contains(MARKER) && a.text().contains(&title));
    assert!(serde_json::from_slice::<Value>(a.body()).is_err());

    for (fault, status) in [
        (Fault::BadGateway, "502"),
        (Fault::ServiceUnavailable, "503"),
    ] {
        sim.set_fault(Some(fault));
        let a = get_raw(&sim, SEARCH, wait).await;
        assert!(a.head().starts_with(&format!("HTTP/1.1 {status}")));
        assert!(a.text().contains(&title) && a.text().contains("space=KB"));
    }
    assert_eq!(
        get_raw(&sim, SEARCH, wait).await.header("retry-after"),
        Some("1".into())
    );

    sim.set_fault(Some(Fault::RedirectElsewhere(301)));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert!(a.head().starts_with("HTTP/1.1 301"));
    let location = a.header("location").unwrap();
    assert!(location.starts_with("https://sim-elsewhere.invalid/"));
    assert!(!location.contains(&sim.addr().to_string()));

    for (fault, encoding) in [
        (Fault::Brotli, "br"),
        (Fault::UnknownEncoding, "x-sim-unknown"),
    ] {
        sim.set_fault(Some(fault));
        let a = get_raw(&sim, SEARCH, wait).await;
        assert_eq!(a.header("content-encoding").as_deref(), Some(encoding));
        let v: Value = serde_json::from_slice(a.body()).unwrap();
        assert!(v["simFault"].as_str().unwrap().contains(&title));
    }

    sim.set_fault(Some(Fault::PartialContent));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert!(a.head().starts_with("HTTP/1.1 206"));
    let range = a.header("content-range").unwrap();
    let total: usize = range.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(a.body().len(), total.div_ceil(2), "{range}");

    sim.set_fault(Some(Fault::NotModified));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert!(a.head().starts_with("HTTP/1.1 304"));
    assert!(a.body().is_empty() && a.header("etag").unwrap().contains(MARKER));

    sim.set_fault(None);
    let normal = get_raw(&sim, SEARCH, wait).await;
    sim.set_fault(Some(Fault::SessionHeaders));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert!(a.head().starts_with("HTTP/1.1 200"));
    assert_eq!(a.body(), normal.body(), "the body stays the normal answer");
    for name in ["set-cookie", "x-ausername", "x-auserid", "x-asessionid"] {
        assert!(a.header(name).is_some(), "{name}: {}", a.head());
    }
    assert!(!String::from_utf8_lossy(a.body()).contains(MARKER));
}

#[tokio::test]
async fn silence_answers_nothing_and_slow_faults_trickle_a_byte_at_a_time() {
    let sim = sim().await;
    sim.set_fault(Some(Fault::Silence));
    let a = get_raw(&sim, SEARCH, Duration::from_millis(400)).await;
    assert!(a.bytes.is_empty() && a.end.is_none(), "open and silent");

    sim.set_fault(Some(Fault::SlowHeaders));
    let a = get_raw(&sim, SEARCH, Duration::from_millis(450)).await;
    assert!("HTTP/1.1 200".starts_with(&a.text()), "{}", a.text());
    assert!((2..=8).contains(&a.bytes.len()), "{} bytes", a.bytes.len());

    sim.set_fault(Some(Fault::SlowBody));
    let a = get_raw(&sim, SEARCH, Duration::from_millis(450)).await;
    let len: usize = a.header("content-length").unwrap().parse().unwrap();
    assert!(
        (1..=6).contains(&a.body().len()) && len > 100,
        "{}",
        a.text()
    );
}

#[tokio::test]
async fn short_reset_and_close_delimited_bodies_end_the_connection_their_way() {
    let sim = sim().await;
    let wait = Duration::from_secs(3);

    sim.set_fault(Some(Fault::ShortBody));
    let a = get_raw(&sim, SEARCH, wait).await;
    let claimed: usize = a.header("content-length").unwrap().parse().unwrap();
    assert_eq!(a.end, Some(Ok(())), "a clean close");
    assert!(a.body().len() < claimed && a.text().contains(MARKER));

    sim.set_fault(Some(Fault::ResetMidBody));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert_eq!(
        a.end,
        Some(Err(std::io::ErrorKind::ConnectionReset)),
        "{}",
        a.text()
    );

    sim.set_fault(Some(Fault::Http10CloseDelimited));
    let a = get_raw(&sim, SEARCH, wait).await;
    assert!(a.head().starts_with("HTTP/1.0 200"), "{}", a.head());
    assert!(a.header("content-length").is_none() && a.header("transfer-encoding").is_none());
    assert_eq!(a.end, Some(Ok(())));
    let v: Value = serde_json::from_slice(a.body()).unwrap();
    assert!(v["simFault"].as_str().unwrap().contains(MARKER));
    assert!(v["results"].is_array());
}

#[tokio::test]
async fn the_identity_provider_answers_normally_during_a_connection_fault() {
    let sim = sim().await;
    sim.set_fault(Some(Fault::ResetMidBody));
    let a = get_raw(&sim, "/idp/.well-known/jwks.json", Duration::from_secs(3)).await;
    assert!(a.head().starts_with("HTTP/1.1 200"), "{}", a.head());
    assert!(serde_json::from_slice::<Value>(a.body()).unwrap()["keys"].is_array());
    assert!(!a.text().contains(MARKER));
    let unauthorized = {
        let mut s = TcpStream::connect(sim.addr()).await.unwrap();
        let req = format!("GET {SEARCH} HTTP/1.1\r\nHost: x\r\n\r\n");
        s.write_all(req.as_bytes()).await.unwrap();
        read_for(&mut s, Duration::from_secs(3)).await
    };
    assert!(unauthorized.head().starts_with("HTTP/1.1 401"));
    assert!(sim
        .requests()
        .iter()
        .any(|r| r.path_and_query == "/idp/.well-known/jwks.json"));
}

#[tokio::test]
async fn a_keep_alive_connection_opened_before_a_connection_fault_is_closed_and_cannot_bypass_it() {
    let sim = sim().await;
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    s.write_all(request(&sim, SEARCH, true).as_bytes())
        .await
        .unwrap();
    let first = read_for(&mut s, Duration::from_millis(500)).await;
    assert!(first.head().starts_with("HTTP/1.1 200") && first.end.is_none());
    let started = Instant::now();
    sim.set_fault(Some(Fault::Silence));
    let closed = read_for(&mut s, Duration::from_secs(3)).await;
    assert!(closed.bytes.is_empty() && closed.end.is_some(), "closed");
    assert!(started.elapsed() < Duration::from_secs(1));
    let a = get_raw(&sim, SEARCH, Duration::from_millis(300)).await;
    assert!(
        a.bytes.is_empty() && a.end.is_none(),
        "the new connection meets the fault"
    );
    sim.set_fault(None);
    let a = get_raw(&sim, SEARCH, Duration::from_secs(3)).await;
    assert!(a.head().starts_with("HTTP/1.1 200"));
}
