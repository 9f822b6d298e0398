//! The FAKE AMD key hierarchy: per product an ARK (self-signed), an ASK and
//! an ASVK (issued by the ARK), and the VCEKs/VLEKs they issue.
//!
//! Subjects carry AMD's common names (`ARK-Milan`, `SEV-Milan`,
//! `SEV-VLEK-Milan`, `SEV-VCEK`, `SEV-VLEK`) so cogito's trust-anchor
//! loader recognises them, and `O=cogito testkit` so no one mistakes them
//! for AMD's. Certificates follow AMD's shape (X.509 v3, RSASSA-PSS
//! SHA-384 salt 48, rsaEncryption keys, the 1.3.6.1.4.1.3704.1 extensions).

use cogito_core::AmdProduct;

use crate::der::{self, attr};
use crate::keys::{EcKey, RsaKey};
use crate::report::Tcb;
use crate::x509::{key_usage, CertificateTemplate, CrlTemplate, Extension, PssParams, Revoked};

/// AMD's VCEK/VLEK extension OIDs (VCEK spec, publication 57230, §3.1).
pub mod amd_oids {
    /// structVersion.
    pub const STRUCT_VERSION: &str = "1.3.6.1.4.1.3704.1.1";
    /// productName.
    pub const PRODUCT_NAME: &str = "1.3.6.1.4.1.3704.1.2";
    /// blSPL.
    pub const BL_SPL: &str = "1.3.6.1.4.1.3704.1.3.1";
    /// teeSPL.
    pub const TEE_SPL: &str = "1.3.6.1.4.1.3704.1.3.2";
    /// snpSPL.
    pub const SNP_SPL: &str = "1.3.6.1.4.1.3704.1.3.3";
    /// spl_4 … spl_7: reserved SPLs AMD writes as 0.
    pub const SPL_4: &str = "1.3.6.1.4.1.3704.1.3.4";
    /// spl_5.
    pub const SPL_5: &str = "1.3.6.1.4.1.3704.1.3.5";
    /// spl_6.
    pub const SPL_6: &str = "1.3.6.1.4.1.3704.1.3.6";
    /// spl_7.
    pub const SPL_7: &str = "1.3.6.1.4.1.3704.1.3.7";
    /// ucodeSPL.
    pub const UCODE_SPL: &str = "1.3.6.1.4.1.3704.1.3.8";
    /// fmcSPL (Turin).
    pub const FMC_SPL: &str = "1.3.6.1.4.1.3704.1.3.9";
    /// hwID (VCEK).
    pub const HW_ID: &str = "1.3.6.1.4.1.3704.1.4";
    /// cspID (VLEK).
    pub const CSP_ID: &str = "1.3.6.1.4.1.3704.1.5";
}

/// The organisation every FAKE certificate names.
pub const FAKE_ORG: &str = "cogito testkit";
/// The unit every FAKE certificate names.
pub const FAKE_UNIT: &str = "FAKE test hierarchy - not AMD";

/// A Name with the testkit's O/OU and the given common name.
pub fn fake_name(cn: &str) -> Vec<u8> {
    der::name(&[(attr::OU, FAKE_UNIT), (attr::O, FAKE_ORG), (attr::CN, cn)])
}

/// Unix seconds of midnight UTC on a date.
pub fn date(year: i64, month: u32, day: u32) -> i64 {
    der::unix_from_civil(year, month, day, 0, 0, 0)
}

/// The lower-case name used in key labels and folder names.
pub fn slug(product: AmdProduct) -> &'static str {
    match product {
        AmdProduct::Milan => "milan",
        AmdProduct::Genoa => "genoa",
        AmdProduct::Turin => "turin",
    }
}

fn product_index(product: AmdProduct) -> u64 {
    match product {
        AmdProduct::Milan => 1,
        AmdProduct::Genoa => 2,
        AmdProduct::Turin => 3,
    }
}

/// An RSA CA: its key, subject and certificate.
#[derive(Debug, Clone)]
pub struct Ca {
    /// The FAKE key.
    pub key: RsaKey,
    /// Subject Name, DER.
    pub name: Vec<u8>,
    /// Serial, big-endian.
    pub serial: Vec<u8>,
    /// The certificate, DER.
    pub cert: Vec<u8>,
}

impl Ca {
    /// A CRL this CA signs, with AMD's signature parameters.
    pub fn crl(&self, this_update: i64, next_update: Option<i64>, revoked: &[Vec<u8>]) -> Vec<u8> {
        CrlTemplate {
            issuer: self.name.clone(),
            this_update,
            next_update,
            revoked: revoked
                .iter()
                .map(|s| Revoked {
                    serial: s.clone(),
                    date: this_update,
                })
                .collect(),
            crl_number: 1,
            pss: PssParams::AMD_CA,
        }
        .sign(&self.key)
    }
}

/// Validity of the FAKE ARKs: 2024-01-01 .. 2054-01-01 (30 years; the
/// notAfter is a GeneralizedTime).
pub fn ark_validity() -> (i64, i64) {
    (date(2024, 1, 1), date(2054, 1, 1))
}

/// Validity of the FAKE ASKs/ASVKs: 2024-01-01 .. 2049-01-01 (UTCTime).
pub fn ask_validity() -> (i64, i64) {
    (date(2024, 1, 1), date(2049, 1, 1))
}

/// Default VCEK/VLEK validity: 2025-01-01 .. 2032-01-01 (AMD: 7 years).
pub fn leaf_validity() -> (i64, i64) {
    (date(2025, 1, 1), date(2032, 1, 1))
}

/// Makes an ARK: self-signed, CA, keyCertSign | cRLSign.
pub fn make_ark(key: RsaKey, cn: &str, serial: u64) -> Ca {
    let name = fake_name(cn);
    let serial = serial.to_be_bytes().to_vec();
    let cert = CertificateTemplate {
        serial: serial.clone(),
        issuer: name.clone(),
        subject: name.clone(),
        not_before: ark_validity().0,
        not_after: ark_validity().1,
        spki: key.spki_der(),
        extensions: vec![
            Extension::key_usage(&[key_usage::KEY_CERT_SIGN, key_usage::CRL_SIGN]),
            Extension::basic_constraints(true, None),
        ],
        pss: PssParams::AMD_CA,
    }
    .sign(&key);
    Ca {
        key,
        name,
        serial,
        cert,
    }
}

/// Makes an intermediate (ASK or ASVK) issued by `ark`.
pub fn make_intermediate(ark: &Ca, key: RsaKey, cn: &str, serial: u64) -> Ca {
    let name = fake_name(cn);
    let serial = serial.to_be_bytes().to_vec();
    let cert = CertificateTemplate {
        serial: serial.clone(),
        issuer: ark.name.clone(),
        subject: name.clone(),
        not_before: ask_validity().0,
        not_after: ask_validity().1,
        spki: key.spki_der(),
        extensions: vec![
            Extension::basic_constraints(true, Some(0)),
            Extension::key_usage(&[key_usage::KEY_CERT_SIGN, key_usage::CRL_SIGN]),
        ],
        pss: PssParams::AMD_CA,
    }
    .sign(&ark.key);
    Ca {
        key,
        name,
        serial,
        cert,
    }
}

/// One product line's FAKE ARK, ASK and ASVK.
#[derive(Debug, Clone)]
pub struct ProductCa {
    /// The product line.
    pub product: AmdProduct,
    /// `CN=ARK-<product>`.
    pub ark: Ca,
    /// `CN=SEV-<product>`, issuer of VCEKs.
    pub ask: Ca,
    /// `CN=SEV-VLEK-<product>`, issuer of VLEKs.
    pub asvk: Ca,
}

impl ProductCa {
    /// The deterministic FAKE hierarchy of `product`.
    pub fn new(product: AmdProduct) -> ProductCa {
        let s = slug(product);
        let p = product.as_str();
        let i = product_index(product);
        let ark = make_ark(
            RsaKey::derive(&format!("{s}/ark")),
            &format!("ARK-{p}"),
            0x1_0000 + i,
        );
        let ask = make_intermediate(
            &ark,
            RsaKey::derive(&format!("{s}/ask")),
            &format!("SEV-{p}"),
            0x1_0100 + i,
        );
        let asvk = make_intermediate(
            &ark,
            RsaKey::derive(&format!("{s}/asvk")),
            &format!("SEV-VLEK-{p}"),
            0x1_0200 + i,
        );
        ProductCa {
            product,
            ark,
            ask,
            asvk,
        }
    }
}

/// VCEK or VLEK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// Versioned Chip Endorsement Key (issued by the ASK).
    Vcek,
    /// Versioned Loaded Endorsement Key (issued by the ASVK).
    Vlek,
}

impl LeafKind {
    /// `vcek` / `vlek`.
    pub fn slug(self) -> &'static str {
        match self {
            LeafKind::Vcek => "vcek",
            LeafKind::Vlek => "vlek",
        }
    }

    /// The subject common name AMD uses.
    pub fn common_name(self) -> &'static str {
        match self {
            LeafKind::Vcek => "SEV-VCEK",
            LeafKind::Vlek => "SEV-VLEK",
        }
    }
}

/// The content of a VCEK/VLEK. Start from [`LeafSpec::amd`] and change
/// what a test needs.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    /// VCEK or VLEK (subject CN).
    pub kind: LeafKind,
    /// Serial (AMD uses 0).
    pub serial: Vec<u8>,
    /// notBefore.
    pub not_before: i64,
    /// notAfter.
    pub not_after: i64,
    /// structVersion; `None` leaves it out.
    pub struct_version: Option<u64>,
    /// productName; `None` leaves it out.
    pub product_name: Option<String>,
    /// The TCB the key was derived for.
    pub tcb: Tcb,
    /// Whether fmcSPL is written (AMD writes it on Turin).
    pub fmc_spl: bool,
    /// hwID (VCEK), raw bytes.
    pub hw_id: Option<Vec<u8>>,
    /// cspID (VLEK).
    pub csp_id: Option<String>,
    /// Signature parameters.
    pub pss: PssParams,
    /// When set, exactly these extensions are written instead of
    /// [`LeafSpec::extensions`] (for malformed-certificate tests).
    pub raw_extensions: Option<Vec<Extension>>,
}

/// The cspID of every FAKE VLEK.
pub const FAKE_CSP_ID: &str = "cogito-testkit.invalid";

impl LeafSpec {
    /// What AMD's KDS would issue for `product`, `tcb` and (VCEK) `hw_id`.
    pub fn amd(product: AmdProduct, kind: LeafKind, tcb: Tcb, hw_id: &[u8]) -> LeafSpec {
        let product_name = match (product, kind) {
            (AmdProduct::Milan, LeafKind::Vcek) => "Milan-B0",
            (p, _) => p.as_str(),
        };
        LeafSpec {
            kind,
            serial: vec![0],
            not_before: leaf_validity().0,
            not_after: leaf_validity().1,
            struct_version: Some(if product == AmdProduct::Turin { 1 } else { 0 }),
            product_name: Some(product_name.to_string()),
            tcb,
            fmc_spl: product == AmdProduct::Turin,
            hw_id: (kind == LeafKind::Vcek).then(|| hw_id.to_vec()),
            csp_id: (kind == LeafKind::Vlek).then(|| FAKE_CSP_ID.to_string()),
            pss: PssParams::AMD_LEAF,
            raw_extensions: None,
        }
    }

    /// The extensions, in the order AMD's KDS writes them.
    pub fn extensions(&self) -> Vec<Extension> {
        let int = |v: u64| der::integer_u64(v);
        let mut e = Vec::new();
        if let Some(v) = self.struct_version {
            e.push(Extension::new(amd_oids::STRUCT_VERSION, int(v)));
        }
        if let Some(name) = &self.product_name {
            e.push(Extension::new(
                amd_oids::PRODUCT_NAME,
                der::ia5_string(name),
            ));
        }
        if self.fmc_spl {
            e.push(Extension::new(amd_oids::FMC_SPL, int(self.tcb.fmc.into())));
        }
        e.push(Extension::new(
            amd_oids::BL_SPL,
            int(self.tcb.bootloader.into()),
        ));
        e.push(Extension::new(amd_oids::TEE_SPL, int(self.tcb.tee.into())));
        e.push(Extension::new(amd_oids::SNP_SPL, int(self.tcb.snp.into())));
        let reserved: &[&str] = if self.fmc_spl {
            &[amd_oids::SPL_5, amd_oids::SPL_6, amd_oids::SPL_7]
        } else {
            &[
                amd_oids::SPL_4,
                amd_oids::SPL_5,
                amd_oids::SPL_6,
                amd_oids::SPL_7,
            ]
        };
        for oid in reserved {
            e.push(Extension::new(oid, int(0)));
        }
        e.push(Extension::new(
            amd_oids::UCODE_SPL,
            int(self.tcb.microcode.into()),
        ));
        if let Some(hw) = &self.hw_id {
            // Raw chip id in the OCTET STRING, not DER-wrapped (as AMD does).
            e.push(Extension::new(amd_oids::HW_ID, hw.clone()));
        }
        if let Some(csp) = &self.csp_id {
            e.push(Extension::new(amd_oids::CSP_ID, der::ia5_string(csp)));
        }
        e
    }

    /// Issues the certificate for `key`, signed by `issuer`.
    pub fn issue(&self, key: &EcKey, issuer: &Ca) -> Vec<u8> {
        CertificateTemplate {
            serial: self.serial.clone(),
            issuer: issuer.name.clone(),
            subject: fake_name(self.kind.common_name()),
            not_before: self.not_before,
            not_after: self.not_after,
            spki: key.spki_der(),
            extensions: self
                .raw_extensions
                .clone()
                .unwrap_or_else(|| self.extensions()),
            pss: self.pss,
        }
        .sign(&issuer.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors::{hw_id, leaf_key, standard_tcb};

    /// The cheap half of the determinism guarantee: one RSA key, one CA
    /// certificate, one VCEK and one report come out byte-identical twice.
    #[test]
    fn certificates_and_reports_are_deterministic() {
        let make = || {
            let ark = make_ark(RsaKey::derive("determinism/ark"), "ARK-Milan", 1);
            let tcb = standard_tcb(AmdProduct::Milan);
            let hw = hw_id(AmdProduct::Milan, "a");
            let key = leaf_key(AmdProduct::Milan, LeafKind::Vcek);
            let vcek = LeafSpec::amd(AmdProduct::Milan, LeafKind::Vcek, tcb, &hw).issue(&key, &ark);
            let report = crate::report::ReportFields::new(
                AmdProduct::Milan,
                3,
                tcb,
                crate::vectors::chip_id_field(&hw),
                crate::report::signing_key::VCEK,
            )
            .sign(&key);
            (ark.cert, vcek, report)
        };
        assert_eq!(make(), make());
    }

    #[test]
    fn validity_windows() {
        assert_eq!(der::civil(ark_validity().1).0, 2054);
        assert_eq!(der::civil(ask_validity().1).0, 2049);
        assert_eq!(der::civil(leaf_validity().0).0, 2025);
    }
}
