//! A raw HTTP/1.1 client for the matrix that, unlike `support::send_raw`, also tells how the
//! answer ended: complete (by `Content-Length` or the last chunk), cut short, or still running at
//! the deadline — a streamed download that fails after its `200` head can only fail that way.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Longest the matrix waits for one answer.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// One answer, every byte kept.
#[derive(Debug, Clone)]
pub struct Got {
    /// Every byte received, head included.
    pub bytes: Vec<u8>,
    pub status: u16,
    pub head: String,
    /// The body with any chunked framing removed.
    pub body: Vec<u8>,
    /// The framing said the body was complete.
    pub complete: bool,
    /// The connection was still open at [`DEADLINE`].
    pub timed_out: bool,
    pub elapsed: Duration,
}

impl Got {
    /// The value of header `name` (first one), if any.
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// Every header name, lower case.
    pub fn header_names(&self) -> Vec<String> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, _)| k.trim().to_ascii_lowercase())
            })
            .collect()
    }

    /// The body as text with this answer's request id replaced (ids differ per request).
    pub fn normalized_body(&self) -> String {
        let body = String::from_utf8_lossy(&self.body).into_owned();
        match self.header("x-request-id") {
            Some(id) if !id.is_empty() => body.replace(&id, "RID"),
            _ => body,
        }
    }
}

/// GETs `target` from `addr` with `authorization`, reading until the server closes.
pub async fn get(addr: SocketAddr, target: &str, authorization: &str) -> Got {
    let started = Instant::now();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\nConnection: close\r\n\r\n"
    );
    let mut bytes = Vec::new();
    let mut timed_out = false;
    match tokio::net::TcpStream::connect(addr).await {
        Ok(mut s) => {
            if s.write_all(request.as_bytes()).await.is_ok() {
                let read = async {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n @ 1..) = s.read(&mut buf).await {
                        bytes.extend_from_slice(&buf[..n]);
                    }
                };
                timed_out = tokio::time::timeout(DEADLINE, read).await.is_err();
            }
        }
        Err(e) => panic!("kbgate refused a connection: {e}"),
    }
    parse(bytes, timed_out, started.elapsed())
}

fn parse(bytes: Vec<u8>, timed_out: bool, elapsed: Duration) -> Got {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let head_end = split.unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let wire_body = split.map(|i| bytes[i + 4..].to_vec()).unwrap_or_default();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut got = Got {
        bytes: Vec::new(),
        status,
        head,
        body: Vec::new(),
        complete: false,
        timed_out,
        elapsed,
    };
    let chunked = got
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length = got
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok());
    (got.body, got.complete) = if split.is_none() {
        (Vec::new(), false)
    } else if chunked {
        dechunk(&wire_body)
    } else if let Some(n) = length {
        (wire_body.clone(), wire_body.len() == n)
    } else {
        // Close-delimited: complete when the server closed (not at the deadline).
        (wire_body.clone(), !timed_out)
    };
    got.bytes = bytes;
    got
}

/// The data of a chunked body, and whether its last (zero-size) chunk arrived.
fn dechunk(mut wire: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(eol) = wire.windows(2).position(|w| w == b"\r\n") else {
            return (out, false);
        };
        let size_text = String::from_utf8_lossy(&wire[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_hex, 16) else {
            return (out, false);
        };
        wire = &wire[eol + 2..];
        if size == 0 {
            return (out, true);
        }
        if wire.len() < size + 2 {
            out.extend_from_slice(&wire[..wire.len().min(size)]);
            return (out, false);
        }
        out.extend_from_slice(&wire[..size]);
        wire = &wire[size + 2..];
    }
}

#[test]
fn the_probe_tells_complete_answers_from_cut_ones() {
    let ok = parse(
        b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc".to_vec(),
        false,
        Duration::ZERO,
    );
    assert!(ok.complete && ok.body == b"abc");
    let cut = parse(
        b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc".to_vec(),
        false,
        Duration::ZERO,
    );
    assert!(!cut.complete);
    let chunks = parse(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            .to_vec(),
        false,
        Duration::ZERO,
    );
    assert!(chunks.complete && chunks.body == b"abcde");
    let open = parse(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n".to_vec(),
        false,
        Duration::ZERO,
    );
    assert!(!open.complete && open.body == b"abc");
}
