//! Intel TDX collateral as files (`--certs DIR`); the layout is documented
//! in `docs/bundle.md`.
//!
//! The files are the objects exactly as Intel's PCS v4 (or a PCCS) serves
//! them:
//!
//! | file | content |
//! |------|---------|
//! | `tcb_info.json` | `{"tcbInfo":{…},"signature":"<hex>"}`, byte for byte |
//! | `tcb_info_issuer_chain.pem` | TCB Signing certificate, then Intel SGX Root CA |
//! | `qe_identity.json` | `{"enclaveIdentity":{…},"signature":"<hex>"}`, byte for byte |
//! | `qe_identity_issuer_chain.pem` | TCB Signing certificate, then Intel SGX Root CA |
//! | `pck_crl.der` | the PCK CRL of the Platform or Processor CA (DER, or PEM `X509 CRL`) |
//! | `pck_crl_issuer_chain.pem` | PCK Platform/Processor CA, then Intel SGX Root CA |
//! | `root_ca_crl.der` | the Intel SGX Root CA's CRL (DER, or PEM `X509 CRL`) |
//! | `pck_cert_chain.pem` | optional: PCK leaf, PCK CA, root — only for quotes without an embedded chain |
//!
//! The JSON documents are kept byte for byte: Intel's signature covers the
//! exact bytes of the inner `tcbInfo` / `enclaveIdentity` value, so they
//! must never be re-serialised. Only their shape is checked here; signatures,
//! chains and validity windows are the verifier's business.
//!
//! Other files (the quote, an event log) are ignored, so a folder holding a
//! quote and its collateral works as it is.

use std::path::Path;

use crate::error::CollateralError;

/// `tcb_info.json`.
pub const TCB_INFO: &str = "tcb_info.json";
/// `tcb_info_issuer_chain.pem`.
pub const TCB_INFO_ISSUER_CHAIN: &str = "tcb_info_issuer_chain.pem";
/// `qe_identity.json`.
pub const QE_IDENTITY: &str = "qe_identity.json";
/// `qe_identity_issuer_chain.pem`.
pub const QE_IDENTITY_ISSUER_CHAIN: &str = "qe_identity_issuer_chain.pem";
/// `pck_crl.der`.
pub const PCK_CRL: &str = "pck_crl.der";
/// `pck_crl_issuer_chain.pem`.
pub const PCK_CRL_ISSUER_CHAIN: &str = "pck_crl_issuer_chain.pem";
/// `root_ca_crl.der`.
pub const ROOT_CA_CRL: &str = "root_ca_crl.der";
/// `pck_cert_chain.pem` (optional).
pub const PCK_CERT_CHAIN: &str = "pck_cert_chain.pem";

/// The files a bundle with TDX collateral must have, all together.
pub const REQUIRED_FILES: [&str; 7] = [
    TCB_INFO,
    TCB_INFO_ISSUER_CHAIN,
    QE_IDENTITY,
    QE_IDENTITY_ISSUER_CHAIN,
    PCK_CRL,
    PCK_CRL_ISSUER_CHAIN,
    ROOT_CA_CRL,
];

/// Intel TDX collateral as raw objects, in the form Intel PCS v4 serves
/// them: the verifier's [`cogito_tdx::Collateral`] (nothing here is
/// verified) and, for quotes that do not embed one, a PCK chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdxCollateralFiles {
    /// TCB Info, QE Identity, the CRLs and their issuer chains.
    pub collateral: cogito_tdx::Collateral,
    /// PEM: PCK leaf, PCK CA, root; only needed when a quote does not
    /// embed its PCK chain (certification data type 5).
    pub pck_cert_chain: Option<Vec<u8>>,
}

impl std::ops::Deref for TdxCollateralFiles {
    type Target = cogito_tdx::Collateral;
    fn deref(&self) -> &cogito_tdx::Collateral {
        &self.collateral
    }
}

fn read_optional(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, CollateralError> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CollateralError::Io { path, source }),
    }
}

/// Reads the Intel TDX collateral in `dir`.
///
/// `Ok(None)` when none of the collateral files is there (a signature-only
/// verification); an [`CollateralError::IncompleteBundle`] naming the
/// missing files when only some are; otherwise the files, each checked for
/// its shape (JSON documents with their signature, PEM certificate chains,
/// CRLs in DER or PEM — the latter decoded to DER). Any other file in `dir`
/// is ignored.
pub fn load_tdx_bundle(dir: &Path) -> Result<Option<TdxCollateralFiles>, CollateralError> {
    if !dir.is_dir() {
        return Err(CollateralError::BadFile {
            path: dir.to_path_buf(),
            reason: "is not a directory".into(),
        });
    }
    let mut found: Vec<Option<Vec<u8>>> = Vec::with_capacity(REQUIRED_FILES.len());
    for name in REQUIRED_FILES {
        found.push(read_optional(dir, name)?);
    }
    let pck_cert_chain = read_optional(dir, PCK_CERT_CHAIN)?;
    let missing: Vec<String> = REQUIRED_FILES
        .iter()
        .zip(&found)
        .filter(|(_, f)| f.is_none())
        .map(|(name, _)| name.to_string())
        .collect();
    if missing.len() == REQUIRED_FILES.len() && pck_cert_chain.is_none() {
        return Ok(None);
    }
    if !missing.is_empty() {
        return Err(CollateralError::IncompleteBundle {
            path: dir.to_path_buf(),
            missing,
        });
    }
    let mut it = found.into_iter().flatten();
    let mut next = || it.next().unwrap_or_default();
    let mut files = TdxCollateralFiles {
        collateral: cogito_tdx::Collateral {
            tcb_info: next(),
            tcb_info_issuer_chain: next(),
            qe_identity: next(),
            qe_identity_issuer_chain: next(),
            pck_crl: next(),
            pck_crl_issuer_chain: next(),
            root_ca_crl: next(),
        },
        pck_cert_chain,
    };
    let bad = |name: &str| {
        let path = dir.join(name);
        move |reason: String| CollateralError::BadFile { path, reason }
    };
    check_signed_json(&files.tcb_info, "tcbInfo").map_err(bad(TCB_INFO))?;
    check_signed_json(&files.qe_identity, "enclaveIdentity").map_err(bad(QE_IDENTITY))?;
    check_pem_chain(&files.tcb_info_issuer_chain).map_err(bad(TCB_INFO_ISSUER_CHAIN))?;
    check_pem_chain(&files.qe_identity_issuer_chain).map_err(bad(QE_IDENTITY_ISSUER_CHAIN))?;
    check_pem_chain(&files.pck_crl_issuer_chain).map_err(bad(PCK_CRL_ISSUER_CHAIN))?;
    if let Some(chain) = &files.pck_cert_chain {
        check_pem_chain(chain).map_err(bad(PCK_CERT_CHAIN))?;
    }
    files.collateral.pck_crl = crl_to_der(&files.pck_crl).map_err(bad(PCK_CRL))?;
    files.collateral.root_ca_crl = crl_to_der(&files.root_ca_crl).map_err(bad(ROOT_CA_CRL))?;
    Ok(Some(files))
}

/// Checks that `bytes` is a PCS signed JSON document:
/// `{"<key>":{…},"signature":"<hex>"}`. The bytes themselves are kept as
/// they are by the callers.
pub(crate) fn check_signed_json(bytes: &[u8], key: &str) -> Result<(), String> {
    let expected = format!("expected a JSON object {{\"{key}\":{{…}},\"signature\":\"<hex>\"}}");
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{expected}: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err(format!("{expected}, found no object"));
    };
    if !obj.get(key).is_some_and(serde_json::Value::is_object) {
        return Err(format!("{expected}: no \"{key}\" object"));
    }
    match obj.get("signature").and_then(serde_json::Value::as_str) {
        Some(s)
            if !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(())
        }
        _ => Err(format!("{expected}: \"signature\" is not a hex string")),
    }
}

/// The `nextUpdate` of a PCS signed JSON document (`key` = `tcbInfo` or
/// `enclaveIdentity`), in Unix seconds; `None` when absent or unreadable.
pub(crate) fn json_next_update(bytes: &[u8], key: &str) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let next = value.get(key)?.get("nextUpdate")?.as_str()?;
    let t =
        time::OffsetDateTime::parse(next, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp())
}

/// Checks that `bytes` is PEM holding at least one well-formed
/// certificate and nothing but certificates.
pub(crate) fn check_pem_chain(bytes: &[u8]) -> Result<(), String> {
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err("expected PEM CERTIFICATE blocks, found no PEM".into());
    }
    let certs = cogito_core::anchors::certificates_from_pem_or_der(bytes)
        .map_err(|e| format!("expected PEM CERTIFICATE blocks: {e}"))?;
    for (i, der) in certs.iter().enumerate() {
        cogito_core::der::check_signed_envelope(der)
            .map_err(|e| format!("certificate {} of {}: {e}", i + 1, certs.len()))?;
    }
    Ok(())
}

/// A CRL as DER, from DER, PEM `X509 CRL` or hex text (which a PCCS may
/// serve), checked to parse as an X.509 CRL.
pub(crate) fn crl_to_der(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let der = if bytes.first() == Some(&0x30) {
        bytes.to_vec()
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            "expected an X.509 CRL (DER, PEM or hex), found binary data that is not DER"
        })?;
        if let Some(body) = pem_block(text, "X509 CRL") {
            crate::bundle::base64_decode(body).ok_or("bad base64 in the PEM X509 CRL block")?
        } else {
            let hex_text: String = text.split_ascii_whitespace().collect();
            if hex_text.is_empty() || !hex_text.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err("expected an X.509 CRL (DER, PEM `X509 CRL` or hex)".into());
            }
            hex::decode(&hex_text).map_err(|e| format!("bad hex CRL: {e}"))?
        }
    };
    cogito_core::crl::Crl::parse(&der).map_err(|e| format!("expected an X.509 CRL: {e}"))?;
    Ok(der)
}

/// The base64 between `-----BEGIN <label>-----` and `-----END <label>-----`.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let rest = text.get(start..)?;
    rest.get(..rest.find(&end)?)
}

/// The `nextUpdate` of a DER CRL in Unix seconds; `None` when absent or
/// unreadable.
pub(crate) fn crl_next_update(der: &[u8]) -> Option<i64> {
    cogito_core::crl::Crl::parse(der)
        .ok()?
        .next_update
        .map(|t| t.unix())
}

#[cfg(test)]
#[allow(clippy::as_conversions)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// The shared real vectors: `$COGITO_VECTORS`, else `../shared/vectors`
    /// beside the checkout. `None` (with a notice) when absent, unless
    /// `CI=true`, where their absence fails the test.
    fn vectors() -> Option<PathBuf> {
        let dir = std::env::var_os("COGITO_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
            });
        if dir.join("MANIFEST.toml").is_file() {
            return Some(dir);
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "real vectors not found at {} (set COGITO_VECTORS)",
            dir.display()
        );
        eprintln!("skipping: real vectors not found at {}", dir.display());
        None
    }

    const FULL_CASES: [&str; 3] = [
        "v4-uptodate-dcap-qvl",
        "v5-no-tcb-level-dcap-qvl",
        "v5-td15-uptodate-go-tdx-guest",
    ];

    fn copy_dir(from: &Path, to: &Path) {
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::write(to.join(e.file_name()), std::fs::read(e.path()).unwrap()).unwrap();
            }
        }
    }

    #[test]
    fn every_real_tdx_folder_loads_as_it_is() {
        let Some(v) = vectors() else { return };
        let mut full = Vec::new();
        for e in std::fs::read_dir(v.join("tdx")).unwrap() {
            let dir = e.unwrap().path();
            let loaded = load_tdx_bundle(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            let Some(files) = loaded else {
                assert!(!dir.join(TCB_INFO).exists(), "{name}");
                continue;
            };
            // Byte for byte, DER as it is on disk.
            let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
            assert_eq!(files.tcb_info, read(TCB_INFO), "{name}");
            assert_eq!(files.qe_identity, read(QE_IDENTITY), "{name}");
            assert_eq!(files.tcb_info_issuer_chain, read(TCB_INFO_ISSUER_CHAIN));
            assert_eq!(
                files.qe_identity_issuer_chain,
                read(QE_IDENTITY_ISSUER_CHAIN)
            );
            assert_eq!(files.pck_crl_issuer_chain, read(PCK_CRL_ISSUER_CHAIN));
            assert_eq!(files.pck_crl, read(PCK_CRL), "{name}");
            assert_eq!(files.root_ca_crl, read(ROOT_CA_CRL), "{name}");
            assert_eq!(
                files.pck_cert_chain.is_some(),
                dir.join(PCK_CERT_CHAIN).exists()
            );
            assert!(
                json_next_update(&files.tcb_info, "tcbInfo").is_some(),
                "{name}"
            );
            assert!(json_next_update(&files.qe_identity, "enclaveIdentity").is_some());
            assert!(crl_next_update(&files.pck_crl).is_some(), "{name}");
            assert!(crl_next_update(&files.root_ca_crl).is_some(), "{name}");
            full.push(name);
        }
        full.sort();
        assert_eq!(full, FULL_CASES, "the full-collateral TDX cases");
    }

    #[test]
    fn real_next_updates() {
        let Some(v) = vectors() else { return };
        let files = load_tdx_bundle(&v.join("tdx/v4-uptodate-dcap-qvl"))
            .unwrap()
            .unwrap();
        // 2025-07-19T10:16:03Z, 2025-07-19T10:32:27Z, 2025-07-19T10:00:35Z.
        assert_eq!(
            json_next_update(&files.tcb_info, "tcbInfo"),
            Some(1752920163)
        );
        assert_eq!(
            json_next_update(&files.qe_identity, "enclaveIdentity"),
            Some(1752921147)
        );
        assert_eq!(crl_next_update(&files.pck_crl), Some(1752919235));
    }

    #[test]
    fn pem_and_hex_crls_decode_to_the_same_der() {
        let Some(v) = vectors() else { return };
        let src = v.join("tdx/v4-uptodate-dcap-qvl");
        let d = tempfile::tempdir().unwrap();
        copy_dir(&src, d.path());
        let der = std::fs::read(src.join(ROOT_CA_CRL)).unwrap();
        let b64 = base64_encode(&der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            lines.join("\n")
        );
        std::fs::write(d.path().join(ROOT_CA_CRL), pem).unwrap();
        let files = load_tdx_bundle(d.path()).unwrap().unwrap();
        assert_eq!(files.root_ca_crl, der);
        assert_eq!(
            crl_to_der(format!("{}\n", hex::encode(&der)).as_bytes()).unwrap(),
            der
        );
    }

    #[test]
    fn partial_bundle_names_the_missing_files() {
        let Some(v) = vectors() else { return };
        let d = tempfile::tempdir().unwrap();
        copy_dir(&v.join("tdx/v5-td15-uptodate-go-tdx-guest"), d.path());
        std::fs::remove_file(d.path().join(QE_IDENTITY)).unwrap();
        std::fs::remove_file(d.path().join(ROOT_CA_CRL)).unwrap();
        let e = load_tdx_bundle(d.path()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("qe_identity.json, root_ca_crl.der"), "{msg}");
        assert!(!msg.contains("tcb_info.json"), "{msg}");
        assert_eq!(
            cogito_core::CogitoError::code(&e),
            "collateral.incomplete_bundle"
        );
    }

    #[test]
    fn bad_files_are_named() {
        let Some(v) = vectors() else { return };
        let src = v.join("tdx/v4-uptodate-dcap-qvl");
        for (name, content, says) in [
            (TCB_INFO, &b"{\"tcbInfo\":{}}"[..], "signature"),
            (TCB_INFO, b"<html>", "expected a JSON object"),
            (
                QE_IDENTITY,
                b"{\"tcbInfo\":{},\"signature\":\"00\"}",
                "enclaveIdentity",
            ),
            (PCK_CRL, b"\x00\x01", "expected an X.509 CRL"),
            (
                ROOT_CA_CRL,
                b"\x30\x03\x02\x01\x01",
                "expected an X.509 CRL",
            ),
            (PCK_CRL_ISSUER_CHAIN, b"not pem", "expected PEM CERTIFICATE"),
            (
                PCK_CERT_CHAIN,
                b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "certificate 1 of 1",
            ),
        ] {
            let d = tempfile::tempdir().unwrap();
            copy_dir(&src, d.path());
            std::fs::write(d.path().join(name), content).unwrap();
            let e = load_tdx_bundle(d.path()).unwrap_err().to_string();
            assert!(e.contains(name) && e.contains(says), "{name}: {e}");
        }
    }

    #[test]
    fn no_collateral_is_none_and_a_lone_pck_chain_is_incomplete() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("quote.bin"), b"q").unwrap();
        assert_eq!(load_tdx_bundle(d.path()).unwrap(), None);
        std::fs::write(d.path().join(PCK_CERT_CHAIN), b"x").unwrap();
        let e = load_tdx_bundle(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("tcb_info.json") && e.contains("root_ca_crl.der"),
            "{e}"
        );
    }

    #[test]
    fn missing_dir_is_an_error() {
        assert!(load_tdx_bundle(Path::new("/nonexistent/cogito-tdx")).is_err());
    }

    #[test]
    fn signed_json_shape() {
        assert!(
            check_signed_json(b"{\"tcbInfo\":{\"a\":1},\"signature\":\"abCD\"}", "tcbInfo").is_ok()
        );
        assert!(check_signed_json(b"[]", "tcbInfo").is_err());
        assert!(check_signed_json(b"{\"tcbInfo\":{},\"signature\":\"abc\"}", "tcbInfo").is_err());
        assert!(check_signed_json(b"{\"tcbInfo\":\"x\",\"signature\":\"ab\"}", "tcbInfo").is_err());
        assert_eq!(
            json_next_update(
                b"{\"tcbInfo\":{\"nextUpdate\":\"1970-01-02T00:00:00Z\"}}",
                "tcbInfo"
            ),
            Some(86400)
        );
        assert_eq!(
            json_next_update(b"{\"tcbInfo\":{\"nextUpdate\":\"soon\"}}", "tcbInfo"),
            None
        );
    }

    fn base64_encode(data: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
