//! TLS policy of kbgate's listener (threats.md H11, suite J): TLS 1.2 and 1.3 only, and only
//! forward-secret AEAD suites.
//!
//! Two independent views: the suites and key-exchange groups the server configuration holds
//! (checked against an allow-list), and handshakes against a real listener on 127.0.0.1:0 —
//! rustls clients pinned to one suite each for what must work, and hand-made ClientHellos for
//! what rustls clients cannot offer (TLS 1.0/1.1, CBC, static RSA, 3DES, RC4, NULL). The
//! hand-made hello is proven well-formed by a positive control that gets a ServerHello, so a
//! refusal is the policy and not a malformed probe. Certificates are fresh rcgen ECDSA P-256
//! ones, so TLS 1.2 handshakes use the ECDHE-ECDSA suites.

use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CipherSuite, ProtocolVersion, SupportedCipherSuite, SupportedProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::testkit::{counting, within, TestServer};
use super::{tls_config, ServerOptions};

/// A listener serving TLS with a fresh self-signed certificate; returns it and the certificate.
async fn tls_server() -> (TestServer, CertificateDer<'static>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let config = tls_config(
        certified.cert.pem().as_bytes(),
        certified.key_pair.serialize_pem().as_bytes(),
        false,
    )
    .unwrap();
    let opts = ServerOptions {
        tls: Some(config),
        header_read_timeout: Duration::from_secs(2),
        ..ServerOptions::default()
    };
    let (_calls, handler) = counting();
    (
        TestServer::start(opts, handler).await,
        certified.cert.der().clone(),
    )
}

/// Whether a suite name is on kbgate's allow-list: the three TLS 1.3 suites, and TLS 1.2 only
/// with ECDHE key exchange and an AEAD (AES-GCM or ChaCha20-Poly1305).
fn allowed(name: &str) -> bool {
    const TLS13: [&str; 3] = [
        "TLS13_AES_128_GCM_SHA256",
        "TLS13_AES_256_GCM_SHA384",
        "TLS13_CHACHA20_POLY1305_SHA256",
    ];
    if TLS13.contains(&name) {
        return true;
    }
    let Some(rest) = name
        .strip_prefix("TLS_ECDHE_ECDSA_WITH_")
        .or_else(|| name.strip_prefix("TLS_ECDHE_RSA_WITH_"))
    else {
        return false;
    };
    (rest.starts_with("AES_") && rest.contains("_GCM_")) || rest == "CHACHA20_POLY1305_SHA256"
}

#[test]
fn the_suite_allow_list_rejects_what_it_must() {
    for good in [
        "TLS13_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ] {
        assert!(allowed(good), "{good}");
    }
    for bad in [
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "TLS_RSA_WITH_RC4_128_SHA",
        "TLS13_AES_128_CCM_8_SHA256",
    ] {
        assert!(!allowed(bad), "{bad}");
    }
}

#[test]
fn the_listener_config_holds_only_forward_secret_aead_suites_and_strong_groups() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let config = tls_config(
        certified.cert.pem().as_bytes(),
        certified.key_pair.serialize_pem().as_bytes(),
        false,
    )
    .unwrap();
    let provider = config.crypto_provider();
    let names: Vec<String> = provider
        .cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect();
    println!("TLS suites offered by the listener: {}", names.join(", "));
    assert!(!names.is_empty());
    let refused: Vec<&String> = names.iter().filter(|n| !allowed(n)).collect();
    assert!(
        refused.is_empty(),
        "suites outside the allow-list: {refused:?}"
    );
    assert!(
        names.iter().any(|n| n.starts_with("TLS13_")),
        "TLS 1.3 is offered"
    );

    let groups: Vec<String> = provider
        .kx_groups
        .iter()
        .map(|g| format!("{:?}", g.name()))
        .collect();
    println!("TLS key-exchange groups: {}", groups.join(", "));
    let strong = ["X25519", "secp256r1", "secp384r1", "X25519MLKEM768"];
    assert!(
        groups.iter().all(|g| strong.contains(&g.as_str())),
        "{groups:?}"
    );
}

/// Connects with a rustls client that offers only `suite` at `version`; returns the
/// negotiated (protocol version, suite).
async fn handshake_with(
    addr: std::net::SocketAddr,
    trusted: &CertificateDer<'static>,
    suite: SupportedCipherSuite,
    version: &'static SupportedProtocolVersion,
) -> std::io::Result<(Option<ProtocolVersion>, Option<CipherSuite>)> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted.clone()).unwrap();
    let provider = CryptoProvider {
        cipher_suites: vec![suite],
        ..rustls::crypto::ring::default_provider()
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let stream = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let conn = stream.get_ref().1;
    Ok((
        conn.protocol_version(),
        conn.negotiated_cipher_suite().map(|s| s.suite()),
    ))
}

#[tokio::test]
async fn each_tls13_suite_and_each_ecdhe_ecdsa_aead_tls12_suite_completes_a_handshake() {
    within(async {
        let (server, trusted) = tls_server().await;
        let provider = rustls::crypto::ring::default_provider();
        let mut negotiated = 0;
        for suite in provider.cipher_suites.iter().copied() {
            let name = format!("{:?}", suite.suite());
            let version = match suite {
                SupportedCipherSuite::Tls13(_) => &rustls::version::TLS13,
                SupportedCipherSuite::Tls12(_) if name.starts_with("TLS_ECDHE_ECDSA_") => {
                    &rustls::version::TLS12
                }
                // ECDHE-RSA needs an RSA certificate; the config test covers those names.
                SupportedCipherSuite::Tls12(_) => continue,
            };
            let (got_version, got_suite) = handshake_with(server.addr, &trusted, suite, version)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got_version, Some(version.version), "{name}");
            assert_eq!(got_suite, Some(suite.suite()), "{name}");
            negotiated += 1;
        }
        assert_eq!(negotiated, 6, "3 TLS 1.3 + 3 ECDHE-ECDSA TLS 1.2 suites");
    })
    .await;
}

/// What the server answered to a ClientHello.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    /// A ServerHello choosing this (version, suite).
    ServerHello(u16, u16),
    /// A fatal alert with this description (40 handshake_failure, 70 protocol_version, …).
    Alert(u8),
    /// The connection closed without a record.
    Closed,
}

fn push_u16(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16(out, data.len());
    out.extend_from_slice(data);
}

/// A u16-length-prefixed list of u16 values.
fn list16(values: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    push_u16(&mut out, values.len() * 2);
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out
}

/// A ClientHello record with `legacy_version` = `version`, no supported_versions extension (so
/// the version offered is exactly `version`), the given suites, and the extensions an ECDHE
/// handshake needs: groups x25519/P-256/P-384, uncompressed points, ECDSA/RSA signature
/// schemes, extended master secret and secure renegotiation.
fn client_hello(version: u16, suites: &[u16]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&list16(suites));
    body.extend_from_slice(&[0x01, 0x00]);
    let mut ext = Vec::new();
    extension(&mut ext, 0x000a, &list16(&[0x001d, 0x0017, 0x0018]));
    extension(&mut ext, 0x000b, &[0x01, 0x00]);
    extension(
        &mut ext,
        0x000d,
        &list16(&[0x0403, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0201]),
    );
    extension(&mut ext, 0x0017, &[]);
    extension(&mut ext, 0xff01, &[0x00]);
    push_u16(&mut body, ext.len());
    body.extend_from_slice(&ext);

    let len = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut handshake = vec![0x01, len[1], len[2], len[3]];
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    push_u16(&mut record, handshake.len());
    record.extend_from_slice(&handshake);
    record
}

/// Sends `hello` on a fresh connection and reads the first record of the answer.
async fn probe(addr: std::net::SocketAddr, hello: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(hello).await.unwrap();
    let read = async {
        let mut head = [0u8; 5];
        if stream.read_exact(&mut head).await.is_err() {
            return Reply::Closed;
        }
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        let mut record = vec![0u8; len];
        if stream.read_exact(&mut record).await.is_err() {
            return Reply::Closed;
        }
        match (head[0], record.as_slice()) {
            (0x15, [_level, description, ..]) => Reply::Alert(*description),
            // ServerHello: type 2, 3-byte length, version, 32-byte random, session id, suite.
            (0x16, [0x02, _, _, _, v0, v1, rest @ ..]) => {
                let sid_len = usize::from(rest[32]);
                let at = 33 + sid_len;
                let suite = u16::from_be_bytes([rest[at], rest[at + 1]]);
                Reply::ServerHello(u16::from_be_bytes([*v0, *v1]), suite)
            }
            other => panic!("unexpected first record: {other:?}"),
        }
    };
    tokio::time::timeout(Duration::from_secs(3), read)
        .await
        .expect("the server answered a ClientHello within 3 s")
}

const TLS10: u16 = 0x0301;
const TLS11: u16 = 0x0302;
const TLS12: u16 = 0x0303;
/// ECDHE-ECDSA and ECDHE-RSA with AES-GCM and ChaCha20-Poly1305: the allowed TLS 1.2 suites.
const MODERN: [u16; 6] = [0xc02b, 0xc02c, 0xcca9, 0xc02f, 0xc030, 0xcca8];

#[tokio::test]
async fn a_hand_made_tls12_hello_with_an_ecdhe_aead_suite_gets_a_server_hello() {
    within(async {
        let (server, _trusted) = tls_server().await;
        for suite in [0xc02b, 0xc02c, 0xcca9] {
            let reply = probe(server.addr, &client_hello(TLS12, &[suite])).await;
            assert_eq!(reply, Reply::ServerHello(TLS12, suite), "{suite:#06x}");
        }
        let reply = probe(server.addr, &client_hello(TLS12, &MODERN)).await;
        assert!(
            matches!(reply, Reply::ServerHello(TLS12, s) if MODERN.contains(&s)),
            "{reply:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn tls_1_0_and_1_1_are_refused_with_a_protocol_version_alert_even_with_modern_suites() {
    within(async {
        let (server, _trusted) = tls_server().await;
        for version in [TLS10, TLS11] {
            let reply = probe(server.addr, &client_hello(version, &MODERN)).await;
            assert_eq!(reply, Reply::Alert(70), "version {version:#06x}");
        }
    })
    .await;
}

#[tokio::test]
async fn tls12_hellos_offering_only_weak_suites_are_refused_with_a_handshake_failure() {
    within(async {
        let (server, _trusted) = tls_server().await;
        let weak: [(&str, &[u16]); 5] = [
            (
                "ECDHE with CBC",
                &[
                    0xc009, 0xc00a, 0xc013, 0xc014, 0xc023, 0xc024, 0xc027, 0xc028,
                ],
            ),
            (
                "static RSA (no forward secrecy)",
                &[0x002f, 0x0035, 0x003c, 0x003d, 0x009c, 0x009d],
            ),
            ("DHE with AES-GCM", &[0x009e, 0x009f]),
            ("3DES and RC4", &[0x000a, 0xc012, 0xc008, 0x0005, 0xc011]),
            ("NULL and export", &[0x0001, 0x0002, 0x003b, 0xc006, 0x0003]),
        ];
        for (what, suites) in weak {
            let reply = probe(server.addr, &client_hello(TLS12, suites)).await;
            assert_eq!(reply, Reply::Alert(40), "{what}");
        }
    })
    .await;
}
