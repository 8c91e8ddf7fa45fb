//! HTTP/1.1 framing of the bytes the tee recorded: which requests the browser sent, and the
//! responses kbgate answered, cut at their real boundaries, bodies de-chunked and decoded.
//!
//! Guarantees: every recorded byte of a response is in its `raw` (the oracle scans it as sent,
//! chunk-size lines and all) and its decoded bytes are in `body` (de-chunked, and gunzipped or
//! inflated when `Content-Encoding` says so); an encoding this module cannot decode (`br`,
//! `zstd`, …) is an error, never silently skipped; decoding is bounded. Deliberately not: a
//! general HTTP parser (no pipelining, no trailers kept, no HTTP/2).

use std::io::Read as _;

use crate::tee::MAX_RECORDED;

/// One response kbgate sent the browser.
#[derive(Debug, Clone)]
pub struct Response {
    /// The tee connection it came on.
    pub conn: usize,
    /// `METHOD target` of the request it answers (`None` for interim or unframed bytes).
    pub request: Option<String>,
    /// Status code (0 when the head could not be read).
    pub status: u16,
    /// Status line and headers.
    pub head: String,
    /// The bytes as sent.
    pub raw: Vec<u8>,
    /// The body, de-chunked and decoded.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.head, name)
    }

    /// What the response is, for messages: `GET /x → 200 text/html (1234 bytes)`.
    pub fn describe(&self) -> String {
        format!(
            "{} → {} {} ({} bytes)",
            self.request.as_deref().unwrap_or("(no request)"),
            self.status,
            self.header("content-type").unwrap_or("-"),
            self.raw.len()
        )
    }
}

fn header_in<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `METHOD target` of every complete request head in `up`, in order.
pub fn request_lines(up: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(h) = find(&up[pos..], b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&up[pos..pos + h]).into_owned();
        let mut words = head.lines().next().unwrap_or("").split(' ');
        let line = format!(
            "{} {}",
            words.next().unwrap_or(""),
            words.next().unwrap_or("")
        );
        let mut next = pos + h + 4;
        if header_in(&head, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            match dechunk(&up[next..]) {
                Ok(Some((_, used))) => next += used,
                _ => {
                    out.push(line);
                    return out;
                }
            }
        } else if let Some(n) =
            header_in(&head, "content-length").and_then(|n| n.parse::<usize>().ok())
        {
            next += n;
        }
        out.push(line);
        if next > up.len() {
            break;
        }
        pos = next;
    }
    out
}

/// The complete responses at the start of `down` (all of it when `closed`: an unfinished tail
/// becomes one unframed response), paired in order with `requests`; and how many bytes they
/// used.
pub fn split_responses(
    down: &[u8],
    closed: bool,
    requests: &[String],
) -> Result<(Vec<Response>, usize), String> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut next_request = 0;
    while pos < down.len() {
        let rest = &down[pos..];
        let unframed = || Response {
            conn: 0,
            request: None,
            status: 0,
            head: String::new(),
            raw: rest.to_vec(),
            body: rest.to_vec(),
        };
        let Some(h) = find(rest, b"\r\n\r\n") else {
            if closed {
                out.push(unframed());
                pos = down.len();
            }
            break;
        };
        let head = String::from_utf8_lossy(&rest[..h]).into_owned();
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("not a status line: {:?}", head.lines().next()))?;
        let interim = (100..200).contains(&status) && status != 101;
        let request = if interim {
            None
        } else {
            next_request += 1;
            requests.get(next_request - 1).cloned()
        };
        let body_start = h + 4;
        let no_body = interim
            || status == 204
            || status == 304
            || request.as_deref().is_some_and(|r| r.starts_with("HEAD "));
        let framed: Option<(Vec<u8>, usize)> = if no_body {
            Some((Vec::new(), body_start))
        } else if header_in(&head, "transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            dechunk(&rest[body_start..])?.map(|(b, used)| (b, body_start + used))
        } else if let Some(n) = header_in(&head, "content-length") {
            let n: usize = n.parse().map_err(|_| format!("bad content-length {n:?}"))?;
            rest.get(body_start..body_start + n)
                .map(|b| (b.to_vec(), body_start + n))
        } else if closed {
            Some((rest[body_start..].to_vec(), rest.len()))
        } else {
            None
        };
        let Some((body, used)) = framed else {
            if closed {
                let mut r = unframed();
                r.status = status;
                r.head = head;
                r.request = request;
                out.push(r);
                pos = down.len();
            }
            break;
        };
        let body = decode(header_in(&head, "content-encoding"), body)?;
        out.push(Response {
            conn: 0,
            request,
            status,
            head,
            raw: rest[..used].to_vec(),
            body,
        });
        pos += used;
    }
    Ok((out, pos))
}

/// The de-chunked body at the start of `buf` and the bytes it used (trailers included), or
/// `None` when it is not complete yet.
fn dechunk(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let Some(eol) = find(&buf[pos..], b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&buf[pos..pos + eol]).into_owned();
        let size_hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size line {line:?}"))?;
        pos += eol + 2;
        if size == 0 {
            // Trailers (usually none), then the blank line.
            loop {
                let Some(eol) = find(&buf[pos..], b"\r\n") else {
                    return Ok(None);
                };
                pos += eol + 2;
                if eol == 0 {
                    return Ok(Some((body, pos)));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[pos..pos + size]);
        pos += size + 2;
    }
}

/// `body` decoded per `Content-Encoding` (bounded by [`MAX_RECORDED`]).
fn decode(encoding: Option<&str>, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let encoding = encoding.unwrap_or("identity").trim().to_ascii_lowercase();
    let mut out = Vec::new();
    let read = match encoding.as_str() {
        "" | "identity" => return Ok(body),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&body[..])
            .take(MAX_RECORDED)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(&body[..])
            .take(MAX_RECORDED)
            .read_to_end(&mut out)
            .or_else(|_| {
                out.clear();
                flate2::read::DeflateDecoder::new(&body[..])
                    .take(MAX_RECORDED)
                    .read_to_end(&mut out)
            }),
        other => {
            return Err(format!(
                "Content-Encoding {other:?} cannot be decoded here; the oracle would be blind"
            ))
        }
    };
    read.map_err(|e| format!("{encoding} body does not decode: {e}"))?;
    Ok(out)
}

#[test]
fn responses_are_cut_at_their_real_boundaries_and_dechunked() {
    let down = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nCANA\r\n2;x=y\r\nRY\r\n0\r\n\r\n\
HTTP/1.1 304 Not Modified\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    let reqs = vec![
        "GET /a".to_owned(),
        "GET /b".into(),
        "GET /c".into(),
        "GET /d".into(),
    ];
    let (rs, used) = split_responses(down, false, &reqs).unwrap();
    assert_eq!(rs.len(), 3, "the unfinished fourth waits");
    assert_eq!(rs[0].body, b"abc");
    assert_eq!(rs[1].body, b"CANARY");
    assert_eq!(rs[1].request.as_deref(), Some("GET /b"));
    assert_eq!(rs[2].status, 304);
    assert!(rs[2].body.is_empty());
    assert_eq!(
        &down[used..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    );
    let (rest, _) = split_responses(&down[used..], true, &reqs[3..]).unwrap();
    assert_eq!(rest.len(), 1, "a closed connection hands over its tail");
    assert_eq!(rest[0].raw, &down[used..]);
}

#[test]
fn gzip_bodies_are_decoded_and_brotli_is_refused() {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"CANARY-acme-abc123").unwrap();
    let body = gz.finish().unwrap();
    let mut down = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    down.extend_from_slice(&body);
    let (rs, _) = split_responses(&down, false, &[]).unwrap();
    assert_eq!(rs[0].body, b"CANARY-acme-abc123");
    let br = b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx";
    assert!(split_responses(br, false, &[]).is_err());
}

#[test]
fn request_lines_skip_request_bodies() {
    let up = b"POST /x HTTP/1.1\r\nContent-Length: 6\r\n\r\nGET /yGET /z HTTP/1.1\r\n\r\n";
    assert_eq!(request_lines(up), vec!["POST /x", "GET /z"]);
}
