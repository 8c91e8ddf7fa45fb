//! TLS server configuration for kbgate's listeners.
//!
//! Builds a rustls [`ServerConfig`] from PEM text: the `ring` provider, TLS 1.2 and 1.3 only
//! (threats.md H11), no client certificates, and ALPN `h2` (when asked) then `http/1.1`.
//! It deliberately does not read files, reload certificates or pick a certificate by SNI: the
//! caller reads the PEM bytes and restarts to rotate them.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// Why a TLS server configuration could not be built. Every variant names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate PEM could not be parsed.
    #[error("the TLS certificate file is not valid PEM")]
    CertificatePem(#[source] rustls::pki_types::pem::Error),
    /// The certificate PEM held no `CERTIFICATE` section.
    #[error("the TLS certificate file holds no CERTIFICATE section")]
    NoCertificate,
    /// The key PEM held no usable private key (PKCS#8, PKCS#1 or SEC1), or was not valid PEM.
    #[error("the TLS key file holds no usable PRIVATE KEY section (PKCS#8, RSA or EC)")]
    PrivateKey(#[source] rustls::pki_types::pem::Error),
    /// rustls refused the protocol versions, or the key does not match the certificate.
    #[error("rustls rejected the certificate and key (do they belong together?)")]
    Rustls(#[source] rustls::Error),
}

/// The ALPN identifier of HTTP/2 (RFC 9113 §3.2).
pub(super) const ALPN_H2: &[u8] = b"h2";
/// The ALPN identifier of HTTP/1.1 (RFC 7301 §6).
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Builds a TLS server configuration from a PEM certificate chain (leaf first) and a PEM private key.
///
/// Uses the `ring` provider and allows only TLS 1.2 and TLS 1.3. ALPN offers `h2` first when
/// `http2` is true, then `http/1.1`; pass the same `http2` as [`super::ServerOptions::http2`],
/// otherwise an `h2` client is served by an HTTP/1.1-only connection and fails.
pub fn tls_config(
    cert_pem: &[u8],
    key_pem: &[u8],
    http2: bool,
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(TlsError::CertificatePem)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(TlsError::PrivateKey)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    config.alpn_protocols = if http2 {
        vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()]
    } else {
        vec![ALPN_HTTP11.to_vec()]
    };
    Ok(Arc::new(config))
}
