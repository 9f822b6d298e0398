//! cogito's built-in AMD trust anchors.
//!
//! ARK and ASK per product come from the `sev` crate (virtee), which carries
//! the certificates AMD's KDS publishes at `/vcek/v1/{product}/cert_chain`.
//! `sev` does not carry the ASVK (the VLEK issuer); the three `asvk_*.pem`
//! files beside this module are AMD's certificates as published by the KDS
//! at `/vlek/v1/{product}/cert_chain` (first certificate of each), checked
//! by a test against the fingerprints recorded with the real vectors.

use std::sync::OnceLock;

use cogito_core::TrustAnchors;

const ASVK_MILAN: &[u8] = include_bytes!("builtin/asvk_milan.pem");
const ASVK_GENOA: &[u8] = include_bytes!("builtin/asvk_genoa.pem");
const ASVK_TURIN: &[u8] = include_bytes!("builtin/asvk_turin.pem");

/// The PEM sources of the built-in anchors, with names for messages.
fn sources() -> [(&'static str, &'static [u8]); 9] {
    use sev::certs::snp::builtin::{genoa, milan, turin};
    [
        ("builtin Milan ARK", milan::ARK),
        ("builtin Milan ASK", milan::ASK),
        ("builtin Milan ASVK", ASVK_MILAN),
        ("builtin Genoa ARK", genoa::ARK),
        ("builtin Genoa ASK", genoa::ASK),
        ("builtin Genoa ASVK", ASVK_GENOA),
        ("builtin Turin ARK", turin::ARK),
        ("builtin Turin ASK", turin::ASK),
        ("builtin Turin ASVK", ASVK_TURIN),
    ]
}

/// AMD's ARK, ASK and ASVK for Milan, Genoa and Turin, marked built-in.
pub fn builtin_anchors() -> &'static TrustAnchors {
    static ANCHORS: OnceLock<TrustAnchors> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let mut anchors = TrustAnchors::empty();
        for (name, pem) in sources() {
            // The sources are compile-time constants; a failure here is a
            // packaging bug caught by the tests below, never input-driven.
            if let Err(e) = anchors.add_pem_or_der(pem, true, name) {
                debug_assert!(false, "{e}");
            }
        }
        anchors
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cogito_core::{AmdKeyRole, AmdProduct, AnchorRole};

    #[test]
    fn every_product_has_ark_ask_asvk() {
        let a = builtin_anchors();
        assert_eq!(a.len(), 9);
        for product in AmdProduct::ALL {
            for role in [AmdKeyRole::Ark, AmdKeyRole::Ask, AmdKeyRole::Asvk] {
                let n = a.with_role(AnchorRole::Amd { product, role }).count();
                assert_eq!(n, 1, "{product} {role:?}");
            }
        }
        assert!(a.iter().all(|x| x.builtin));
    }

    /// The fingerprints recorded in shared/vectors/README.md ("Pinned roots").
    #[test]
    fn builtin_fingerprints_match_amd() {
        let expected = [
            (
                "ARK-Genoa",
                "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1",
            ),
            (
                "SEV-Genoa",
                "5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521",
            ),
            (
                "SEV-VLEK-Genoa",
                "197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372",
            ),
            (
                "ARK-Milan",
                "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd",
            ),
            (
                "SEV-Milan",
                "67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b",
            ),
            (
                "SEV-VLEK-Milan",
                "c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5",
            ),
            (
                "ARK-Turin",
                "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a",
            ),
            (
                "SEV-Turin",
                "5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185",
            ),
            (
                "SEV-VLEK-Turin",
                "104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c",
            ),
        ];
        let a = builtin_anchors();
        for (cn, fp) in expected {
            let found = a
                .iter()
                .find(|x| {
                    x.subject.contains(&format!("CN={cn},"))
                        || x.subject.ends_with(&format!("CN={cn}"))
                })
                .unwrap_or_else(|| panic!("{cn} missing"));
            assert_eq!(hex::encode(crate::crypto::sha256(&found.der)), fp, "{cn}");
        }
    }
}
