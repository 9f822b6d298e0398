//! cogito's built-in Intel trust anchor: the Intel SGX Root CA (the root of
//! PCK certificates, TCB Signing certificates and their CRLs). cogito pins
//! its public key; a look-alike root with the same name (Intel's QVL sample
//! data ships one) does not verify.

use std::sync::OnceLock;

use cogito_core::TrustAnchors;

const INTEL_SGX_ROOT_CA: &[u8] = include_bytes!("builtin/intel_sgx_root_ca.der");

/// The Intel SGX Root CA, marked built-in.
pub fn builtin_anchors() -> &'static TrustAnchors {
    static ANCHORS: OnceLock<TrustAnchors> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let mut anchors = TrustAnchors::empty();
        if let Err(e) = anchors.add_der(INTEL_SGX_ROOT_CA, true, "builtin Intel SGX Root CA") {
            debug_assert!(false, "{e}");
        }
        anchors
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cogito_core::AnchorRole;

    /// The fingerprint recorded in shared/vectors/README.md.
    #[test]
    fn builtin_root_is_intels() {
        let a = builtin_anchors();
        let root: Vec<_> = a.with_role(AnchorRole::IntelSgxRoot).collect();
        assert_eq!(root.len(), 1);
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &root[0].der);
        assert_eq!(
            hex::encode(d.as_ref()),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
        );
        let cert = crate::x509::parse_certificate(&root[0].der, "root").unwrap();
        crate::x509::verify_issued_by(
            &cert,
            "root",
            &cert,
            "itself",
            &crate::x509::SigMemo::default(),
        )
        .unwrap();
        crate::x509::check_ca(&cert, "root").unwrap();
    }
}
