//! How the guest knows it talks to its server: TLS over rustls (AWS-LC),
//! with the server pinned, either
//!
//! - by a CA certificate (`--ca`): the usual path validation and name
//!   check, against that one anchor (a self-signed server certificate can
//!   be its own anchor); or
//! - by the SHA-256 fingerprint of the server's certificate
//!   (`--fingerprint`, what `cogito serve` prints at start): the
//!   certificate the server presents must be exactly that one; the
//!   handshake signature is still verified with its key.
//!
//! The public web PKI is not trusted: a guest that releases a disk key on
//! the word of any CA in a browser's list would be only as safe as the
//! weakest of them. Plain `http://` exists for tests and for a TLS proxy on
//! the same host only, by its own explicit name.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest as _, Sha256};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

/// How the server is trusted.
#[derive(Clone, PartialEq, Eq)]
pub enum Tls {
    /// Anchored at these CA certificates (DER).
    Ca(Vec<Vec<u8>>),
    /// The server's certificate has this SHA-256 fingerprint.
    Fingerprint([u8; 32]),
    /// No TLS (`http://` only): for tests, or a TLS-terminating proxy on
    /// the same host. The token is still verified, but against a key set
    /// fetched without TLS, so this proves nothing about the server.
    InsecurePlainHttp,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tls::Ca(c) => write!(f, "Ca({} certificates)", c.len()),
            Tls::Fingerprint(p) => write!(f, "Fingerprint({})", hex::encode(p)),
            Tls::InsecurePlainHttp => f.write_str("InsecurePlainHttp"),
        }
    }
}

/// A problem with the TLS settings themselves.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The fingerprint is not 64 hex digits.
    #[error("fingerprint {0:?}: expected the 64 hex digits of a SHA-256 (colons allowed), as cogito serve prints it")]
    BadFingerprint(String),
    /// The CA file has no certificate.
    #[error("{0}: no certificate (PEM \"CERTIFICATE\" blocks or one DER certificate expected)")]
    NoCertificate(String),
    /// The CA certificate is not usable as an anchor.
    #[error("CA certificate: {0}")]
    BadCa(String),
    /// rustls refused the settings.
    #[error("TLS settings: {0}")]
    Rustls(#[from] rustls::Error),
}

impl Tls {
    /// Parses a fingerprint: 64 hex digits, upper or lower case, with or
    /// without colons between the bytes.
    pub fn fingerprint(text: &str) -> Result<Tls, TlsError> {
        let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
        let mut pin = [0u8; 32];
        hex::decode_to_slice(&digits, &mut pin)
            .map_err(|_| TlsError::BadFingerprint(text.to_string()))?;
        Ok(Tls::Fingerprint(pin))
    }

    /// Reads CA certificates from PEM (`CERTIFICATE` blocks) or one DER
    /// certificate.
    pub fn ca_from_bytes(name: &str, bytes: &[u8]) -> Result<Tls, TlsError> {
        use rustls_pki_types::pem::PemObject as _;
        let ders: Vec<Vec<u8>> = if bytes.windows(10).any(|w| w == b"-----BEGIN") {
            CertificateDer::pem_slice_iter(bytes)
                .filter_map(Result::ok)
                .map(|c| c.to_vec())
                .collect()
        } else {
            vec![bytes.to_vec()]
        };
        if ders.is_empty() || ders.iter().any(Vec::is_empty) {
            return Err(TlsError::NoCertificate(name.to_string()));
        }
        Ok(Tls::Ca(ders))
    }

    /// The rustls client configuration (HTTP/1.1 only); `None` for plain
    /// HTTP.
    pub fn client_config(&self) -> Result<Option<Arc<ClientConfig>>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let mut config = match self {
            Tls::InsecurePlainHttp => return Ok(None),
            Tls::Ca(ders) => {
                let mut roots = rustls::RootCertStore::empty();
                for der in ders {
                    roots
                        .add(CertificateDer::from(der.clone()))
                        .map_err(|e| TlsError::BadCa(e.to_string()))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Tls::Fingerprint(pin) => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedCertificate {
                    pin: *pin,
                    provider,
                }))
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Arc::new(config)))
    }
}

/// Accepts exactly the certificate whose SHA-256 is `pin`.
#[derive(Debug)]
struct PinnedCertificate {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The pin names the certificate itself, so its names, issuer and
        // dates say nothing the pin does not: the operator pinned this
        // exact certificate.
        let seen: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if aws_lc_rs::constant_time::verify_slices_are_equal(&seen, &self.pin).is_ok() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate has fingerprint {}, not the pinned {}",
                hex::encode(seen),
                hex::encode(self.pin)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// ureq's TLS layer with our configuration: ureq's own takes only root
/// certificates, and a pin needs its own verifier.
pub(crate) struct PinnedTlsConnector {
    pub(crate) config: Option<Arc<ClientConfig>>,
}

impl fmt::Debug for PinnedTlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedTlsConnector").finish_non_exhaustive()
    }
}

impl<In: Transport> Connector<In> for PinnedTlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::Tls("no connection to wrap in TLS"));
        };
        if !details.needs_tls() {
            return match self.config {
                // Plain HTTP only where the caller chose it by name.
                None => Ok(Some(Either::A(transport))),
                Some(_) => Err(ureq::Error::Tls(
                    "refusing http:// with TLS settings: use https://",
                )),
            };
        }
        let Some(config) = self.config.clone() else {
            return Err(ureq::Error::Tls("https:// without TLS settings"));
        };
        let host = details
            .uri
            .host()
            .ok_or(ureq::Error::Tls("a URL without a host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| ureq::Error::Tls("the URL's host is not a valid server name"))?;
        let mut conn = ClientConnection::new(config, name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        // A refused handshake (a pin or CA mismatch) comes back as rustls's
        // own error, so the client can tell it from a connection failure
        // and not retry it.
        conn.complete_io(&mut sock).map_err(|e| {
            match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(r) => ureq::Error::Rustls(r.clone()),
                None => ureq::Error::Io(e),
            }
        })?;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned { conn, sock },
        })))
    }
}

/// A TLS connection for ureq.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        use std::io::Write as _;
        self.stream.get_mut().set_timeout(timeout);
        let output = self
            .buffers
            .output()
            .get(..amount)
            .ok_or(ureq::Error::Tls("output beyond the buffer"))?;
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        use std::io::Read as _;
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_or_without_colons() {
        let hexs = "ab".repeat(32);
        assert_eq!(
            Tls::fingerprint(&hexs).unwrap(),
            Tls::Fingerprint([0xab; 32])
        );
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(
            Tls::fingerprint(&colons).unwrap(),
            Tls::Fingerprint([0xab; 32])
        );
        assert!(Tls::fingerprint("abcd").is_err());
        assert!(Tls::fingerprint(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        assert!(Tls::ca_from_bytes("x", b"-----BEGIN NOTHING-----\n").is_err());
        assert!(Tls::ca_from_bytes("x", b"").is_err());
    }
}
