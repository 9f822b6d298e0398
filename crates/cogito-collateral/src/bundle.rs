//! Offline bundle directories (`--certs DIR`); the format is documented in
//! `docs/bundle.md`.
//!
//! A bundle is a directory of files with fixed names, each optional:
//!
//! | file | content |
//! |------|---------|
//! | `vcek.der`, `vcek.pem`, `vcek.crt` | the VCEK (DER or PEM) |
//! | `vlek.der`, `vlek.pem`, `vlek.crt` | the VLEK |
//! | `cert_chain.pem` | ASK or ASVK, then ARK (as KDS `/cert_chain` serves it) |
//! | `ask.pem`, `asvk.pem`, `ark.pem` (or `.der`) | the same, one per file |
//! | `crl.der`, `crl.pem`, `vcek_crl.der`, `vlek_crl.der` | AMD CRLs |
//! | `auxblob`, `cert_table.bin` | a host certificate table (GUID table) |
//!
//! Other files (the report itself, notes) are ignored, so a folder holding
//! a report and its certificates works as it is.

use std::path::Path;

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_snp::Collateral;

use crate::error::CollateralError;

const LEAF_VCEK: [&str; 3] = ["vcek.der", "vcek.pem", "vcek.crt"];
const LEAF_VLEK: [&str; 3] = ["vlek.der", "vlek.pem", "vlek.crt"];
const CHAIN: [&str; 7] = [
    "cert_chain.pem",
    "ask.pem",
    "asvk.pem",
    "ark.pem",
    "ask.der",
    "asvk.der",
    "ark.der",
];
const CRLS: [&str; 5] = ["crl.der", "crl.pem", "vcek_crl.der", "vlek_crl.der", "crl"];
const TABLES: [&str; 2] = ["auxblob", "cert_table.bin"];

fn read_optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, CollateralError> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CollateralError::Io { path, source }),
    }
}

fn one_certificate(dir: &Path, name: &str, bytes: &[u8]) -> Result<Vec<u8>, CollateralError> {
    let mut certs =
        certificates_from_pem_or_der(bytes).map_err(|reason| CollateralError::BadFile {
            path: dir.join(name),
            reason,
        })?;
    if certs.len() != 1 {
        return Err(CollateralError::BadFile {
            path: dir.join(name),
            reason: format!("expected one certificate, found {}", certs.len()),
        });
    }
    Ok(certs.remove(0))
}

/// Decodes a CRL file: DER, or PEM `X509 CRL`.
fn crl_der(dir: &Path, name: &str, bytes: &[u8]) -> Result<Vec<u8>, CollateralError> {
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CollateralError::BadFile {
        path: dir.join(name),
        reason: "neither DER nor PEM".into(),
    })?;
    let begin = "-----BEGIN X509 CRL-----";
    let end = "-----END X509 CRL-----";
    let body = text
        .find(begin)
        .and_then(|s| {
            text[s + begin.len()..]
                .find(end)
                .map(|e| &text[s + begin.len()..s + begin.len() + e])
        })
        .ok_or_else(|| CollateralError::BadFile {
            path: dir.join(name),
            reason: "no PEM X509 CRL block".into(),
        })?;
    base64_decode(body).ok_or_else(|| CollateralError::BadFile {
        path: dir.join(name),
        reason: "bad base64 in the PEM X509 CRL block".into(),
    })
}

/// Standard base64 with its line breaks and other whitespace removed;
/// canonical otherwise (padding required, no stray bits).
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let compact: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// Reads an SEV-SNP bundle directory into [`Collateral`].
pub fn load_snp_bundle(dir: &Path) -> Result<Collateral, CollateralError> {
    if !dir.is_dir() {
        return Err(CollateralError::BadFile {
            path: dir.to_path_buf(),
            reason: "is not a directory".into(),
        });
    }
    let mut c = Collateral::default();
    for name in TABLES {
        if let Some(b) = read_optional(dir, name)? {
            c.add_certificate_table(&b)
                .map_err(|e| CollateralError::BadFile {
                    path: dir.join(name),
                    reason: e.to_string(),
                })?;
        }
    }
    for name in LEAF_VCEK {
        if let Some(b) = read_optional(dir, name)? {
            c.vcek = Some(one_certificate(dir, name, &b)?);
            break;
        }
    }
    for name in LEAF_VLEK {
        if let Some(b) = read_optional(dir, name)? {
            c.vlek = Some(one_certificate(dir, name, &b)?);
            break;
        }
    }
    for name in CHAIN {
        if let Some(b) = read_optional(dir, name)? {
            let certs =
                certificates_from_pem_or_der(&b).map_err(|reason| CollateralError::BadFile {
                    path: dir.join(name),
                    reason,
                })?;
            for der in certs {
                if !c.chain.contains(&der) {
                    c.chain.push(der);
                }
            }
        }
    }
    for name in CRLS {
        if let Some(b) = read_optional(dir, name)? {
            c.crls.push(crl_der(dir, name, &b)?);
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_answers() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8h").unwrap(), b"hello!");
        assert!(base64_decode("a$").is_none());
    }

    #[test]
    fn empty_dir_gives_empty_collateral() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(load_snp_bundle(d.path()).unwrap(), Collateral::default());
    }

    #[test]
    fn garbage_vcek_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("vcek.der"), b"nope").unwrap();
        let e = load_snp_bundle(d.path()).unwrap_err();
        assert!(e.to_string().contains("vcek.der"), "{e}");
    }

    #[test]
    fn missing_dir_is_an_error() {
        assert!(load_snp_bundle(Path::new("/nonexistent/cogito")).is_err());
    }
}
