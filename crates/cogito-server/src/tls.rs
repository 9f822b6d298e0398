//! TLS for the listener: the operator's certificate and key files, or a
//! self-signed certificate kept in the data directory whose SHA-256
//! fingerprint guests pin.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls_pki_types::pem::PemObject as _;
use sha2::Digest as _;

use crate::config::Config;
use crate::error::StartError;

/// The TLS configuration and what to tell the operator about it.
pub struct Tls {
    /// The rustls server configuration (HTTP/1.1 by ALPN).
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate's DER, lowercase hex.
    pub fingerprint: String,
    /// Whether the certificate was generated here.
    pub self_signed: bool,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("fingerprint", &self.fingerprint)
            .field("self_signed", &self.self_signed)
            .finish_non_exhaustive()
    }
}

fn cfg(what: impl Into<String>) -> StartError {
    StartError::Config { what: what.into() }
}

/// SHA-256 of a certificate's DER, lowercase hex: what guests pin.
pub fn fingerprint(cert_der: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(cert_der))
}

/// Loads the configured certificate and key, or creates (once) and loads
/// the self-signed pair in `DATA_DIR/tls/`.
pub fn load(config: &Config) -> Result<Tls, StartError> {
    let (cert_path, key_path, self_signed) = match (&config.tls_cert, &config.tls_key) {
        (Some(c), Some(k)) => (c.clone(), k.clone(), false),
        (None, None) => {
            let dir = config.data_dir.join("tls");
            let cert = dir.join("cert.pem");
            let key = dir.join("key.pem");
            if !cert.exists() || !key.exists() {
                generate(&dir, &cert, &key, config)?;
            }
            (cert, key, true)
        }
        _ => {
            return Err(cfg(
                "tls_cert and tls_key go together: give both or neither",
            ))
        }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| cfg(format!("tls_cert {}: {e}", cert_path.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| cfg(format!("tls_cert {}: {e}", cert_path.display())))?;
    let Some(leaf) = certs.first() else {
        return Err(cfg(format!(
            "tls_cert {}: no CERTIFICATE block",
            cert_path.display()
        )));
    };
    let fingerprint = fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| cfg(format!("tls_key {}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cfg(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            cfg(format!(
                "tls_cert {} with tls_key {}: {e}",
                cert_path.display(),
                key_path.display()
            ))
        })?;
    // HTTP/1.1 only. Under HTTP/2 a request refused before its body is
    // read (413 for an oversized upload) ends with RST_STREAM, and common
    // clients (curl 7.x among them) then report a framing error instead of
    // the 413. Guests make one request at a time; HTTP/2 buys them nothing.
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        config: Arc::new(server),
        fingerprint,
        self_signed,
    })
}

fn generate(dir: &Path, cert: &Path, key: &Path, config: &Config) -> Result<(), StartError> {
    std::fs::create_dir_all(dir).map_err(|source| StartError::Io {
        what: format!("creating {}", dir.display()),
        source,
    })?;
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let ip = config.listen.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            names.push(h.to_string());
        }
    }
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|e| cfg(format!("generating a self-signed certificate: {e}")))?;
    crate::keys::write_private(key, generated.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(cert, generated.cert.pem()).map_err(|source| StartError::Io {
        what: format!("writing {}", cert.display()),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let first = load(&config).unwrap();
        assert!(first.self_signed);
        assert_eq!(first.fingerprint.len(), 64);
        let second = load(&config).unwrap();
        assert_eq!(first.fingerprint, second.fingerprint);
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_certificate_without_its_key_is_refused() {
        let config = Config {
            tls_cert: Some("/nonexistent.pem".into()),
            ..Config::default()
        };
        let e = load(&config).unwrap_err().to_string();
        assert!(e.contains("tls_cert and tls_key go together"), "{e}");
    }
}
