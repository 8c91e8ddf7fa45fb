//! The raw socket side of the corpus: write exact request bytes, read until kbgate closes (or a
//! deadline passes), and split what came back into HTTP/1.1 answers.
//!
//! Guarantees: every byte received is kept (the leak oracle scans all of them, whatever the
//! parse says); a write kbgate cut short (it may answer and close before reading a huge
//! request) is not an error; the number of answers is counted by framing (`Content-Length`,
//! `chunked`, or close), so a smuggled second answer is seen.
//! Deliberately not done: TLS, HTTP/2, decompression (kbgate must not compress).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One answer on the connection.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// Every value of the header `name` (any case).
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
            .collect()
    }
}

/// Everything one connection carried back.
pub struct Exchange {
    pub bytes: Vec<u8>,
    pub answers: Vec<Answer>,
    /// True when kbgate neither closed nor stopped sending before the deadline.
    pub timed_out: bool,
}

impl Exchange {
    /// The first answer's status, or 0 when there was none.
    pub fn status(&self) -> u16 {
        self.answers.first().map_or(0, |a| a.status)
    }
}

/// Sends `request` on a new connection and reads until kbgate closes or `deadline` passes.
/// `head_only`: answers carry no body (the request was a HEAD).
pub async fn exchange(
    addr: SocketAddr,
    request: &[u8],
    head_only: bool,
    deadline: Duration,
) -> Exchange {
    let mut bytes = Vec::new();
    let mut timed_out = false;
    let work = async {
        let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
            return;
        };
        // kbgate may answer (431, 414, 400) and close before it read everything we send.
        let _ = s.write_all(request).await;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
            }
        }
    };
    if tokio::time::timeout(deadline, work).await.is_err() {
        timed_out = true;
    }
    let answers = split_answers(&bytes, head_only);
    Exchange {
        bytes,
        answers,
        timed_out,
    }
}

/// Splits a byte stream into answers by HTTP/1.1 framing.
pub fn split_answers(mut rest: &[u8], head_only: bool) -> Vec<Answer> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut answer = Answer {
            status,
            head,
            body: Vec::new(),
        };
        let after = &rest[end + 4..];
        let no_body = head_only || status < 200 || status == 204 || status == 304;
        let length = answer
            .headers("content-length")
            .first()
            .and_then(|v| v.parse::<usize>().ok());
        let chunked = answer
            .headers("transfer-encoding")
            .iter()
            .any(|v| v.eq_ignore_ascii_case("chunked"));
        let used = if no_body {
            0
        } else if chunked {
            let (body, used) = dechunk(after);
            answer.body = body;
            used
        } else if let Some(n) = length {
            let n = n.min(after.len());
            answer.body = after[..n].to_vec();
            n
        } else {
            answer.body = after.to_vec();
            after.len()
        };
        out.push(answer);
        rest = &after[used..];
    }
    out
}

/// A chunked body and the bytes it used (all of `data` when it is cut short).
fn dechunk(data: &[u8]) -> (Vec<u8>, usize) {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = data[at..].windows(2).position(|w| w == b"\r\n") else {
            return (body, data.len());
        };
        let line = String::from_utf8_lossy(&data[at..at + eol]);
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16);
        at += eol + 2;
        match size {
            Ok(0) => {
                // Trailers end with an empty line.
                let end = data[at..]
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .map_or(data.len(), |p| at + p + 2);
                return (body, end);
            }
            Ok(n) if at + n + 2 <= data.len() => {
                body.extend_from_slice(&data[at..at + n]);
                at += n + 2;
            }
            _ => return (body, data.len()),
        }
    }
}

#[test]
fn pipelined_answers_are_split_by_their_framing() {
    let stream = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhiHTTP/1.1 404 Not Found\r\n\
transfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\ntail";
    let answers = split_answers(stream, false);
    assert_eq!(
        answers.iter().map(|a| a.status).collect::<Vec<_>>(),
        [200, 404, 400]
    );
    assert_eq!(answers[0].body, b"hi");
    assert_eq!(answers[1].body, b"abc");
    assert_eq!(answers[2].body, b"tail");
    let head = split_answers(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n", true);
    assert_eq!(head.len(), 1);
    assert!(head[0].body.is_empty());
}
