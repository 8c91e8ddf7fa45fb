//! Tests of TLS and HTTP/2 serving, over real listeners on 127.0.0.1:0.
//!
//! Certificates are made fresh with `rcgen`; clients are tokio-rustls with only that certificate
//! trusted, plus hand-written bytes for clients rustls cannot be (TLS 1.1, plain HTTP).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::testkit::{closed_within, counting, get, read_response, within, TestServer};
use super::{tls_config, ServerOptions, TlsError};

/// A self-signed certificate for `localhost`, as (certificate DER, certificate PEM, key PEM).
fn self_signed() -> (CertificateDer<'static>, String, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (
        certified.cert.der().clone(),
        certified.cert.pem(),
        certified.key_pair.serialize_pem(),
    )
}

/// Server options serving TLS with a fresh certificate; returns the certificate to trust.
fn tls_options(http2: bool) -> (ServerOptions, CertificateDer<'static>) {
    let (der, cert_pem, key_pem) = self_signed();
    let opts = ServerOptions {
        tls: Some(tls_config(cert_pem.as_bytes(), key_pem.as_bytes(), http2).unwrap()),
        http2,
        header_read_timeout: Duration::from_millis(500),
        ..ServerOptions::default()
    };
    (opts, der)
}

/// Connects with a rustls client that trusts only `trusted` and offers `alpn`.
async fn tls_connect(
    addr: std::net::SocketAddr,
    trusted: &CertificateDer<'static>,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}

/// Sends one GET over a fresh TLS connection and returns (status, body).
async fn tls_get(addr: std::net::SocketAddr, trusted: &CertificateDer<'static>) -> (u16, String) {
    let mut stream = BufReader::new(tls_connect(addr, trusted, &[b"http/1.1"]).await.unwrap());
    stream.get_mut().write_all(&get("/secure")).await.unwrap();
    let response = read_response(&mut stream).await.unwrap();
    (response.status, response.body_text())
}

/// A ClientHello offering only TLS 1.1 (legacy_version 0x0302, no supported_versions).
fn tls11_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x02];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // empty session id
    body.extend_from_slice(&[0x00, 0x04, 0x00, 0x2f, 0x00, 0x35]); // two AES-CBC-SHA suites
    body.extend_from_slice(&[0x01, 0x00]); // null compression only
    let mut handshake = vec![0x01, 0x00, 0x00, u8::try_from(body.len()).unwrap()];
    handshake.extend_from_slice(&body);
    let mut record = vec![
        0x16,
        0x03,
        0x01,
        0x00,
        u8::try_from(handshake.len()).unwrap(),
    ];
    record.extend_from_slice(&handshake);
    record
}

/// Sends one request over an HTTP/2 connection already set up on `io`; returns (version, body).
async fn h2_get<T>(io: T, uri: &str) -> hyper::Result<(Version, String)>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(io)).await?;
    tokio::spawn(connection);
    let request = Request::get(uri).body(Full::new(Bytes::new())).unwrap();
    let response = sender.send_request(request).await?;
    let version = response.version();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((version, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test]
async fn a_get_over_tls_is_served_and_the_handler_knows_it_is_tls() {
    within(async {
        let (calls, handler) = counting();
        let (opts, trusted) = tls_options(false);
        let server = TestServer::start(opts, handler).await;
        let (status, body) = tls_get(server.addr, &trusted).await;
        assert_eq!(status, 200);
        assert!(
            body.starts_with("/secure ") && body.ends_with("tls=true"),
            "{body}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn a_tls_1_1_client_and_a_plain_http_client_fail_and_the_server_keeps_serving() {
    within(async {
        let (calls, handler) = counting();
        let (opts, trusted) = tls_options(false);
        let server = TestServer::start(opts, handler).await;

        let mut old = TcpStream::connect(server.addr).await.unwrap();
        old.write_all(&tls11_client_hello()).await.unwrap();
        let mut first = [0u8; 1];
        let answered = old.read(&mut first).await.unwrap_or(0);
        assert!(
            answered == 0 || first[0] == 0x15,
            "expected an alert or EOF, got {first:?}"
        );
        assert!(closed_within(&mut old, Duration::from_secs(2))
            .await
            .is_some());

        let mut plain = TcpStream::connect(server.addr).await.unwrap();
        plain.write_all(&get("/plain")).await.unwrap();
        assert!(closed_within(&mut plain, Duration::from_secs(2))
            .await
            .is_some());
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        assert_eq!(tls_get(server.addr, &trusted).await.0, 200);
    })
    .await;
}

#[tokio::test]
async fn a_client_that_never_finishes_the_tls_handshake_is_dropped() {
    within(async {
        let (_calls, handler) = counting();
        let (opts, _trusted) = tls_options(false);
        let server = TestServer::start(opts, handler).await;
        let mut silent = TcpStream::connect(server.addr).await.unwrap();
        let closed = closed_within(&mut silent, Duration::from_secs(3)).await;
        let closed = closed.expect("a silent TLS client is still connected after 3 s");
        assert!(
            closed < Duration::from_millis(1500),
            "closed only after {closed:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_h2_client_gets_http2_over_tls_when_enabled() {
    within(async {
        let (_calls, handler) = counting();
        let (opts, trusted) = tls_options(true);
        let server = TestServer::start(opts, handler).await;
        let stream = tls_connect(server.addr, &trusted, &[b"h2", b"http/1.1"])
            .await
            .unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (version, body) = h2_get(stream, "https://localhost/two").await.unwrap();
        assert_eq!(version, Version::HTTP_2);
        assert!(
            body.starts_with("/two ") && body.ends_with("tls=true"),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn without_http2_tls_offers_only_http11() {
    within(async {
        let (_calls, handler) = counting();
        let (opts, trusted) = tls_options(false);
        let server = TestServer::start(opts, handler).await;
        let stream = tls_connect(server.addr, &trusted, &[b"h2", b"http/1.1"])
            .await
            .unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    })
    .await;
}

#[tokio::test]
async fn plain_http2_with_prior_knowledge_is_served_only_when_enabled() {
    within(async {
        let (_calls, handler) = counting();
        let opts = ServerOptions {
            http2: true,
            ..ServerOptions::default()
        };
        let server = TestServer::start(opts, handler.clone()).await;
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let (version, body) = h2_get(tcp, "http://kb.example/h2c").await.unwrap();
        assert_eq!(version, Version::HTTP_2);
        assert!(body.starts_with("/h2c "), "{body}");

        let http1_only = TestServer::start(ServerOptions::default(), handler).await;
        let tcp = TcpStream::connect(http1_only.addr).await.unwrap();
        assert!(h2_get(tcp, "http://kb.example/h2c").await.is_err());
    })
    .await;
}

#[test]
fn tls_config_says_what_is_wrong_with_bad_pem() {
    let (_der, cert_pem, key_pem) = self_signed();
    let (_other_der, _other_cert, other_key) = self_signed();

    let no_cert = tls_config(b"not a certificate", key_pem.as_bytes(), false);
    assert!(
        matches!(no_cert, Err(TlsError::NoCertificate)),
        "{no_cert:?}"
    );
    let no_key = tls_config(cert_pem.as_bytes(), b"no key here", false);
    assert!(matches!(no_key, Err(TlsError::PrivateKey(_))), "{no_key:?}");
    let mismatched = tls_config(cert_pem.as_bytes(), other_key.as_bytes(), false);
    assert!(
        matches!(mismatched, Err(TlsError::Rustls(_))),
        "{mismatched:?}"
    );
    assert!(tls_config(cert_pem.as_bytes(), key_pem.as_bytes(), true).is_ok());
}
