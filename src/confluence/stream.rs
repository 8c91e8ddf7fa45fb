//! Attachment downloads: the one upstream answer kbgate streams instead of filtering.
//!
//! Guarantees: the caller has decided the page before calling [`Upstream::download`]; only a
//! `200`, identity-encoded answer is streamed; at most one redirect is followed, and only to
//! `https` on the Confluence host itself or on Atlassian's media host (Cloud serves file bytes
//! from there), without the service account's credentials when the host differs; the body is
//! capped at [`MAX_DOWNLOAD_BYTES`] and aborted when upstream stalls for longer than the
//! upstream timeout between chunks, or when, after that long, it has averaged less than
//! [`MIN_DOWNLOAD_RATE`] (a trickle would otherwise hold a connection and an upstream slot for
//! as long as it lasts); the in-flight permit is held until the body ends. The media
//! type is reduced to a plain `type/subtype` token (else `application/octet-stream`).
//!
//! Deliberately not done: range requests, resuming, caching.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    LOCATION, USER_AGENT,
};
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt, Limited};
use tokio::sync::OwnedSemaphorePermit;

use super::{Upstream, UpstreamError};
use crate::http_client::{self, FetchError};
use crate::response::{Body, BodyError};

/// The largest attachment kbgate streams (256 MiB); larger ones are refused or cut.
pub const MAX_DOWNLOAD_BYTES: usize = 256 * 1024 * 1024;

/// The slowest average a download may keep once it has run for the upstream timeout, in
/// bytes per second (16 KiB/s: 256 MiB still gets 4.5 hours).
pub const MIN_DOWNLOAD_RATE: u64 = 16 * 1024;

/// Hosts besides the Confluence host a download may be redirected to.
const MEDIA_HOSTS: &[&str] = &["api.media.atlassian.com"];

/// An attachment answer ready to stream to the client.
pub struct Download {
    /// The sanitized media type.
    pub content_type: HeaderValue,
    /// Upstream's `Content-Length`, when it sent a valid one.
    pub content_length: Option<u64>,
    /// The bytes, streamed, capped and watched for stalls.
    pub body: Body,
}

impl Upstream {
    /// GETs `site_path_and_query` (from the site root, e.g. `/wiki/download/attachments/1/a.png`)
    /// and returns the answer to stream.
    pub async fn download(
        &self,
        site_path_and_query: &str,
        request_id: &str,
    ) -> Result<Download, UpstreamError> {
        let started = std::time::Instant::now();
        let result = self.open_download(site_path_and_query, request_id).await;
        self.record("download", started, &result);
        result
    }

    async fn open_download(
        &self,
        site_path_and_query: &str,
        request_id: &str,
    ) -> Result<Download, UpstreamError> {
        let started = tokio::time::Instant::now();
        let permit = tokio::time::timeout(self.timeout, self.in_flight.clone().acquire_owned())
            .await
            .map_err(|_| UpstreamError::Timeout)?
            .map_err(|_| UpstreamError::Timeout)?;
        // From a String, the URI keeps its bytes (`parse` on a `&str` would copy them).
        let full = [self.base_url.as_str(), site_path_and_query].concat();
        let mut uri = Uri::try_from(full).map_err(|_| UpstreamError::BadUri)?;
        let own_host = uri.host().map(str::to_owned);
        let mut with_credentials = true;
        for hop in 0..2 {
            let headers = self.download_headers(request_id, with_credentials);
            let remaining = self.timeout.saturating_sub(started.elapsed());
            let resp = http_client::open(&self.client, uri.clone(), headers, remaining)
                .await
                .map_err(map_fetch)?;
            let status = resp.status();
            if status.is_redirection() && hop == 0 {
                let next = redirect_target(resp.headers(), &uri)?;
                with_credentials = next.host().map(str::to_owned) == own_host;
                if !with_credentials && !next.host().is_some_and(|h| MEDIA_HOSTS.contains(&h)) {
                    return Err(UpstreamError::Status(status));
                }
                uri = next;
                continue;
            }
            if status != StatusCode::OK {
                return Err(UpstreamError::Status(status));
            }
            return open_body(resp, permit, self.timeout);
        }
        Err(UpstreamError::Status(StatusCode::LOOP_DETECTED))
    }

    fn download_headers(&self, request_id: &str, with_credentials: bool) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(5);
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("kbgate/", env!("CARGO_PKG_VERSION"))),
        );
        crate::response::set_request_id(&mut headers, request_id);
        if with_credentials {
            headers.insert(AUTHORIZATION, self.credentials.clone());
        }
        headers
    }
}

fn map_fetch(e: FetchError) -> UpstreamError {
    match e {
        FetchError::Timeout(_) => UpstreamError::Timeout,
        FetchError::TooLarge(_) => UpstreamError::TooLarge,
        FetchError::Body(_) => UpstreamError::Body(e),
        FetchError::BadRequest(_) => UpstreamError::BadUri,
        FetchError::Connect(_) | FetchError::Roots(_) => UpstreamError::Connect(e),
    }
}

/// The redirect's absolute `https` target (a relative `Location` resolves against `from`).
fn redirect_target(headers: &HeaderMap, from: &Uri) -> Result<Uri, UpstreamError> {
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(UpstreamError::BadUri)?;
    let target: Uri = if location.starts_with('/') && !location.starts_with("//") {
        let scheme = from.scheme_str().unwrap_or("https");
        let authority = from.authority().ok_or(UpstreamError::BadUri)?;
        format!("{scheme}://{authority}{location}")
            .parse()
            .map_err(|_| UpstreamError::BadUri)?
    } else {
        location.parse().map_err(|_| UpstreamError::BadUri)?
    };
    let same_origin = target.scheme() == from.scheme() && target.authority() == from.authority();
    if target.scheme_str() != Some("https") && !same_origin {
        return Err(UpstreamError::BadUri);
    }
    Ok(target)
}

fn open_body(
    resp: http::Response<hyper::body::Incoming>,
    permit: OwnedSemaphorePermit,
    idle: Duration,
) -> Result<Download, UpstreamError> {
    let headers = resp.headers();
    for value in headers.get_all(CONTENT_ENCODING) {
        let v = value.to_str().unwrap_or("unreadable").trim();
        if !v.is_empty() && !v.eq_ignore_ascii_case("identity") {
            return Err(UpstreamError::Encoded(v.chars().take(32).collect()));
        }
    }
    super::check_framing(headers)?;
    let content_length = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if content_length.is_some_and(|len| len > MAX_DOWNLOAD_BYTES as u64) {
        return Err(UpstreamError::TooLarge);
    }
    let content_type = sanitize_media_type(headers.get(CONTENT_TYPE));
    let limited = Limited::new(resp.into_body(), MAX_DOWNLOAD_BYTES);
    let body = Watched {
        inner: limited,
        idle,
        sleep: Box::pin(tokio::time::sleep(idle)),
        started: tokio::time::Instant::now(),
        bytes: 0,
        _permit: permit,
    };
    Ok(Download {
        content_type,
        content_length,
        body: body.boxed_unsync(),
    })
}

/// `type/subtype` in lower case when both are plain tokens; parameters dropped.
fn sanitize_media_type(value: Option<&HeaderValue>) -> HeaderValue {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let plain = |v: &str| v.split_once('/').is_some_and(|(t, s)| token(t) && token(s));
    // Already plain and lower case (the usual answer): the same value, not a rebuilt one.
    if let Some(v) = value {
        if v.to_str()
            .is_ok_and(|s| plain(s) && !s.bytes().any(|b| b.is_ascii_uppercase()))
        {
            return v.clone();
        }
    }
    value
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| plain(v))
        .and_then(|v| HeaderValue::from_str(&v).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// A body that fails when no chunk arrives within `idle`, or when after `idle` it has averaged
/// less than [`MIN_DOWNLOAD_RATE`]; it holds the upstream permit.
struct Watched<B> {
    inner: B,
    idle: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    started: tokio::time::Instant,
    bytes: u64,
    _permit: OwnedSemaphorePermit,
}

impl<B> Watched<B> {
    fn too_slow(&self) -> bool {
        let elapsed = self.started.elapsed();
        elapsed > self.idle
            && (self.bytes as f64) < MIN_DOWNLOAD_RATE as f64 * elapsed.as_secs_f64()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("upstream download stalled")]
struct Stalled;

#[derive(Debug, thiserror::Error)]
#[error("upstream download slower than the minimum rate")]
struct TooSlow;

impl<B> HttpBody for Watched<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BodyError>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                this.bytes = this.bytes.saturating_add(len as u64);
                if this.too_slow() {
                    return Poll::Ready(Some(Err(Box::new(TooSlow))));
                }
                let deadline = tokio::time::Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(Stalled)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_reduced_to_plain_tokens() {
        let v = |s: &'static str| sanitize_media_type(Some(&HeaderValue::from_static(s)));
        assert_eq!(v("Image/PNG; name=x"), "image/png");
        assert_eq!(v("text/html"), "text/html");
        assert_eq!(v("text/<script>"), "application/octet-stream");
        assert_eq!(v("nonsense"), "application/octet-stream");
        assert_eq!(sanitize_media_type(None), "application/octet-stream");
    }

    #[test]
    fn redirects_resolve_relative_targets_and_refuse_plain_http_elsewhere() {
        let from: Uri = "https://x.atlassian.net/wiki/download/attachments/1/a"
            .parse()
            .unwrap();
        let mut h = HeaderMap::new();
        h.insert(LOCATION, HeaderValue::from_static("/wiki/files/a"));
        assert_eq!(
            redirect_target(&h, &from).unwrap(),
            "https://x.atlassian.net/wiki/files/a"
        );
        h.insert(
            LOCATION,
            HeaderValue::from_static("https://api.media.atlassian.com/file/1/binary?token=t"),
        );
        assert_eq!(
            redirect_target(&h, &from).unwrap().host(),
            Some("api.media.atlassian.com")
        );
        h.insert(LOCATION, HeaderValue::from_static("http://evil.example/a"));
        assert!(redirect_target(&h, &from).is_err());
        h.remove(LOCATION);
        assert!(redirect_target(&h, &from).is_err());
    }
}
