//! The FAKE Intel SGX/TDX DCAP PKI: deterministic P-256 keys, ECDSA-SHA256
//! certificates and CRLs, and the PCK certificate's SGX extensions.
//!
//! Shapes are copied from Intel's own certificates (a real PCK chain cut
//! out of a TDX quote, the PCS TCB Signing chain and CRLs): names in the
//! order CN, O, L, ST, C; CA and TCB Signing serials double as their
//! subject key identifiers; keyUsage and basicConstraints critical;
//! authorityKeyIdentifier, cRLDistributionPoints and subjectKeyIdentifier
//! on every certificate; CRLs carry cRLNumber and authorityKeyIdentifier,
//! and every revoked entry a reasonCode. Only the O/OU say `cogito
//! testkit`, so the common names are Intel's (cogito recognises its trust
//! anchor by `CN=Intel SGX Root CA`) while nothing can pass for Intel's.

use p256::ecdsa::signature::Signer;

use crate::der::{self, attr};
use crate::keys::{seeded_rng, sha256};
use crate::x509::{key_usage, Extension};

/// OIDs of the DCAP PKI.
pub mod oids {
    /// id-ecPublicKey.
    pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
    /// prime256v1 (secp256r1).
    pub const PRIME256V1: &str = "1.2.840.10045.3.1.7";
    /// ecdsa-with-SHA256.
    pub const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
    /// authorityKeyIdentifier.
    pub const AUTHORITY_KEY_ID: &str = "2.5.29.35";
    /// subjectKeyIdentifier.
    pub const SUBJECT_KEY_ID: &str = "2.5.29.14";
    /// cRLDistributionPoints.
    pub const CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
    /// cRLNumber.
    pub const CRL_NUMBER: &str = "2.5.29.20";
    /// reasonCode (CRL entry extension).
    pub const CRL_REASON: &str = "2.5.29.21";
    /// Intel's SGX extensions (the PCK certificate).
    pub const SGX_EXTENSIONS: &str = "1.2.840.113741.1.13.1";
    /// PPID.
    pub const SGX_PPID: &str = "1.2.840.113741.1.13.1.1";
    /// TCB (sequence of comp01..16, pcesvn, cpusvn).
    pub const SGX_TCB: &str = "1.2.840.113741.1.13.1.2";
    /// PCE-ID.
    pub const SGX_PCEID: &str = "1.2.840.113741.1.13.1.3";
    /// FMSPC.
    pub const SGX_FMSPC: &str = "1.2.840.113741.1.13.1.4";
    /// SGX Type (ENUMERATED: 0 Standard, 1 Scalable, 2 ScalableWithIntegrity).
    pub const SGX_TYPE: &str = "1.2.840.113741.1.13.1.5";
    /// PlatformInstanceID (Platform CA certificates only).
    pub const SGX_PLATFORM_INSTANCE_ID: &str = "1.2.840.113741.1.13.1.6";
    /// Configuration (Platform CA certificates only).
    pub const SGX_CONFIGURATION: &str = "1.2.840.113741.1.13.1.7";
}

/// The organisation every FAKE DCAP certificate names.
pub const FAKE_ORG: &str = "cogito testkit";
/// The unit every FAKE DCAP certificate names.
pub const FAKE_UNIT: &str = "FAKE test hierarchy - not Intel";

/// Intel's common names.
pub mod cn {
    /// The root.
    pub const ROOT: &str = "Intel SGX Root CA";
    /// PCK CA for multi-package (Xeon Scalable) platforms.
    pub const PLATFORM_CA: &str = "Intel SGX PCK Platform CA";
    /// PCK CA for single-package platforms.
    pub const PROCESSOR_CA: &str = "Intel SGX PCK Processor CA";
    /// The PCK leaf.
    pub const PCK: &str = "Intel SGX PCK Certificate";
    /// Signer of TCB Info and QE Identity.
    pub const TCB_SIGNING: &str = "Intel SGX TCB Signing";
}

/// A Name shaped like Intel's (CN, O, L, ST, C) with the testkit's O and
/// an OU that says FAKE.
pub fn fake_intel_name(common_name: &str) -> Vec<u8> {
    der::name(&[
        (attr::CN, common_name),
        (attr::O, FAKE_ORG),
        (attr::OU, FAKE_UNIT),
        (attr::L, "Santa Clara"),
        (attr::ST, "CA"),
        (attr::C, "US"),
    ])
}

/// A FAKE ECDSA P-256 key.
#[derive(Clone)]
pub struct P256Key {
    signing: p256::ecdsa::SigningKey,
}

impl std::fmt::Debug for P256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P256Key")
    }
}

impl P256Key {
    /// The deterministic key for `label`.
    pub fn derive(label: &str) -> P256Key {
        let mut rng = seeded_rng("p256 key", label.as_bytes());
        P256Key {
            signing: p256::ecdsa::SigningKey::random(&mut rng),
        }
    }

    /// Uncompressed SEC1 point (`04 ‖ X ‖ Y`, 65 bytes).
    pub fn public_sec1(&self) -> Vec<u8> {
        self.signing
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// `X ‖ Y`, 64 bytes big-endian (the quote's attestation key format).
    pub fn public_xy(&self) -> [u8; 64] {
        let sec1 = self.public_sec1();
        let mut out = [0u8; 64];
        out.copy_from_slice(&sec1[1..]);
        out
    }

    /// SubjectPublicKeyInfo: id-ecPublicKey on prime256v1.
    pub fn spki_der(&self) -> Vec<u8> {
        der::seq(&[
            der::seq(&[der::oid(oids::EC_PUBLIC_KEY), der::oid(oids::PRIME256V1)]),
            der::bit_string(&self.public_sec1()),
        ])
    }

    /// The private scalar, big-endian: for handing the key to another ECDSA
    /// implementation (see [`crate::live`]).
    pub fn private_scalar(&self) -> [u8; 32] {
        self.signing.to_bytes().into()
    }

    /// ECDSA P-256 over SHA-256(`message`), RFC 6979: `r ‖ s`, each 32
    /// bytes big-endian (quotes, QE reports, TCB Info, QE Identity).
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        let sig: p256::ecdsa::Signature = self.signing.sign(message);
        let mut out = [0u8; 64];
        out.copy_from_slice(&sig.to_bytes());
        out
    }

    /// The same signature as a DER `Ecdsa-Sig-Value` (certificates, CRLs).
    pub fn sign_der(&self, message: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::Signature = self.signing.sign(message);
        sig.to_der().as_bytes().to_vec()
    }
}

/// The ecdsa-with-SHA256 AlgorithmIdentifier (parameters absent, RFC 5758).
pub fn ecdsa_sha256_alg_id() -> Vec<u8> {
    der::seq(&[der::oid(oids::ECDSA_WITH_SHA256)])
}

/// Encodes one Extension (RFC 5280 §4.1).
pub fn encode_extension(e: &Extension) -> Vec<u8> {
    let mut parts = vec![der::oid(&e.oid)];
    if e.critical {
        parts.push(der::boolean(true));
    }
    parts.push(der::octet_string(&e.value));
    der::seq(&parts)
}

/// authorityKeyIdentifier with a keyIdentifier only.
pub fn authority_key_id(key_id: &[u8]) -> Extension {
    Extension::new(oids::AUTHORITY_KEY_ID, der::seq(&[der::tlv(0x80, key_id)]))
}

/// subjectKeyIdentifier.
pub fn subject_key_id(key_id: &[u8]) -> Extension {
    Extension::new(oids::SUBJECT_KEY_ID, der::octet_string(key_id))
}

/// cRLDistributionPoints with one fullName URI.
pub fn crl_distribution_point(uri: &str) -> Extension {
    let general_name = der::tlv(0x86, uri.as_bytes());
    let full_name = der::tlv(0xa0, &general_name);
    let dp_name = der::tlv(0xa0, &full_name);
    Extension::new(
        oids::CRL_DISTRIBUTION_POINTS,
        der::seq(&[der::seq(&[dp_name])]),
    )
}

/// An X.509 v3 certificate signed with ECDSA-SHA256.
#[derive(Debug, Clone)]
pub struct EcCertTemplate {
    /// serialNumber, big-endian magnitude.
    pub serial: Vec<u8>,
    /// Issuer Name, DER.
    pub issuer: Vec<u8>,
    /// Subject Name, DER.
    pub subject: Vec<u8>,
    /// notBefore, Unix seconds.
    pub not_before: i64,
    /// notAfter, Unix seconds.
    pub not_after: i64,
    /// SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
    /// Extensions, in order.
    pub extensions: Vec<Extension>,
}

impl EcCertTemplate {
    /// The DER TBSCertificate.
    pub fn tbs(&self) -> Vec<u8> {
        let exts: Vec<Vec<u8>> = self.extensions.iter().map(encode_extension).collect();
        der::seq(&[
            der::explicit(0, &der::integer_u64(2)),
            der::integer_unsigned(&self.serial),
            ecdsa_sha256_alg_id(),
            self.issuer.clone(),
            der::seq(&[
                der::x509_time(self.not_before),
                der::x509_time(self.not_after),
            ]),
            self.subject.clone(),
            self.spki.clone(),
            der::explicit(3, &der::seq(&exts)),
        ])
    }

    /// The signed certificate, DER.
    pub fn sign(&self, issuer_key: &P256Key) -> Vec<u8> {
        let tbs = self.tbs();
        let sig = issuer_key.sign_der(&tbs);
        der::seq(&[tbs, ecdsa_sha256_alg_id(), der::bit_string(&sig)])
    }
}

/// A CRL entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial, big-endian magnitude.
    pub serial: Vec<u8>,
    /// revocationDate.
    pub date: i64,
    /// reasonCode (1 = keyCompromise, as on Intel's CRLs).
    pub reason: u8,
}

/// An X.509 v2 CRL signed with ECDSA-SHA256.
#[derive(Debug, Clone)]
pub struct EcCrlTemplate {
    /// Issuer Name, DER.
    pub issuer: Vec<u8>,
    /// The issuer's subjectKeyIdentifier (authorityKeyIdentifier).
    pub issuer_key_id: Vec<u8>,
    /// thisUpdate.
    pub this_update: i64,
    /// nextUpdate.
    pub next_update: i64,
    /// Revoked certificates (`revokedCertificates` is left out when empty).
    pub revoked: Vec<RevokedEntry>,
    /// cRLNumber.
    pub crl_number: u64,
}

impl EcCrlTemplate {
    /// The DER TBSCertList.
    pub fn tbs(&self) -> Vec<u8> {
        let mut parts = vec![
            der::integer_u64(1),
            ecdsa_sha256_alg_id(),
            self.issuer.clone(),
            der::x509_time(self.this_update),
            der::x509_time(self.next_update),
        ];
        if !self.revoked.is_empty() {
            let entries: Vec<Vec<u8>> = self
                .revoked
                .iter()
                .map(|r| {
                    let reason = Extension::new(
                        oids::CRL_REASON,
                        der::tlv(0x0a, &[r.reason]), // ENUMERATED
                    );
                    der::seq(&[
                        der::integer_unsigned(&r.serial),
                        der::x509_time(r.date),
                        der::seq(&[encode_extension(&reason)]),
                    ])
                })
                .collect();
            parts.push(der::seq(&entries));
        }
        let number = Extension::new(oids::CRL_NUMBER, der::integer_u64(self.crl_number));
        let aki = authority_key_id(&self.issuer_key_id);
        parts.push(der::explicit(
            0,
            &der::seq(&[encode_extension(&number), encode_extension(&aki)]),
        ));
        der::seq(&parts)
    }

    /// The signed CRL, DER.
    pub fn sign(&self, issuer_key: &P256Key) -> Vec<u8> {
        let tbs = self.tbs();
        let sig = issuer_key.sign_der(&tbs);
        der::seq(&[tbs, ecdsa_sha256_alg_id(), der::bit_string(&sig)])
    }
}

/// A 20-byte serial number derived from `label` (Intel's serials are 20
/// random bytes; about half of them need DER's leading zero).
pub fn serial_for(label: &str) -> Vec<u8> {
    sha256(format!("tdx serial/{label}").as_bytes())[..20].to_vec()
}

/// A P-256 CA or signer: key, name, serial, key id and certificate.
#[derive(Debug, Clone)]
pub struct EcCa {
    /// The FAKE key.
    pub key: P256Key,
    /// Subject Name, DER.
    pub name: Vec<u8>,
    /// Serial (Intel: also the subjectKeyIdentifier).
    pub serial: Vec<u8>,
    /// subjectKeyIdentifier.
    pub key_id: Vec<u8>,
    /// The certificate, DER.
    pub cert: Vec<u8>,
}

impl EcCa {
    /// A CRL this CA issues, every listed serial revoked on `this_update`
    /// with reason keyCompromise.
    pub fn crl(&self, this_update: i64, next_update: i64, revoked: &[Vec<u8>]) -> Vec<u8> {
        EcCrlTemplate {
            issuer: self.name.clone(),
            issuer_key_id: self.key_id.clone(),
            this_update,
            next_update,
            revoked: revoked
                .iter()
                .map(|s| RevokedEntry {
                    serial: s.clone(),
                    date: this_update,
                    reason: 1,
                })
                .collect(),
            crl_number: 1,
        }
        .sign(&self.key)
    }
}

/// The FAKE root's CRL distribution point.
pub const ROOT_CRL_URI: &str = "https://cogito-testkit.invalid/IntelSGXRootCA.der";

/// The PCK CRL distribution point for `ca` (`platform` or `processor`).
pub fn pck_crl_uri(ca: &str) -> String {
    format!("https://cogito-testkit.invalid/sgx/certification/v4/pckcrl?ca={ca}&encoding=der")
}

/// The FAKE `CN=Intel SGX Root CA`: self-signed, CA with pathLen 1,
/// keyCertSign | cRLSign, validity `not_before .. 2049-12-31T23:59:59Z`.
pub fn make_root(key: P256Key, label: &str, not_before: i64) -> EcCa {
    let name = fake_intel_name(cn::ROOT);
    let serial = serial_for(label);
    let cert = EcCertTemplate {
        serial: serial.clone(),
        issuer: name.clone(),
        subject: name.clone(),
        not_before,
        not_after: der::unix_from_civil(2049, 12, 31, 23, 59, 59),
        spki: key.spki_der(),
        extensions: vec![
            authority_key_id(&serial),
            crl_distribution_point(ROOT_CRL_URI),
            subject_key_id(&serial),
            Extension::key_usage(&[key_usage::KEY_CERT_SIGN, key_usage::CRL_SIGN]),
            Extension::basic_constraints(true, Some(1)),
        ],
    }
    .sign(&key);
    EcCa {
        key,
        name,
        key_id: serial.clone(),
        serial,
        cert,
    }
}

/// A certificate `root` issues: a PCK CA (`ca` true: pathLen 0,
/// keyCertSign | cRLSign) or the TCB Signing certificate (`ca` false:
/// digitalSignature | nonRepudiation).
pub fn make_issued(
    root: &EcCa,
    key: P256Key,
    common_name: &str,
    label: &str,
    ca: bool,
    validity: (i64, i64),
) -> EcCa {
    let name = fake_intel_name(common_name);
    let serial = serial_for(label);
    let (usage, constraints) = if ca {
        (
            Extension::key_usage(&[key_usage::KEY_CERT_SIGN, key_usage::CRL_SIGN]),
            Extension::basic_constraints(true, Some(0)),
        )
    } else {
        (
            Extension::key_usage(&[key_usage::DIGITAL_SIGNATURE, NON_REPUDIATION]),
            Extension::basic_constraints(false, None),
        )
    };
    let cert = EcCertTemplate {
        serial: serial.clone(),
        issuer: root.name.clone(),
        subject: name.clone(),
        not_before: validity.0,
        not_after: validity.1,
        spki: key.spki_der(),
        extensions: vec![
            authority_key_id(&root.key_id),
            crl_distribution_point(ROOT_CRL_URI),
            subject_key_id(&serial),
            usage,
            constraints,
        ],
    }
    .sign(&root.key);
    EcCa {
        key,
        name,
        key_id: serial.clone(),
        serial,
        cert,
    }
}

/// keyUsage bit nonRepudiation (contentCommitment).
pub const NON_REPUDIATION: u8 = 1;

/// The platform TCB a PCK certificate certifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PckTcb {
    /// SGX TCB components comp01..comp16 (also the CPUSVN bytes).
    pub sgx_components: [u8; 16],
    /// PCESVN.
    pub pcesvn: u16,
}

impl PckTcb {
    /// CPUSVN as the certificate carries it: the 16 component SVNs.
    pub fn cpusvn(&self) -> [u8; 16] {
        self.sgx_components
    }
}

/// The Platform CA-only part of the SGX extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformConfig {
    /// PlatformInstanceID, 16 bytes.
    pub instance_id: [u8; 16],
    /// dynamicPlatform.
    pub dynamic_platform: bool,
    /// cachedKeys.
    pub cached_keys: bool,
    /// smtEnabled.
    pub smt_enabled: bool,
}

/// The contents of the SGX extension (1.2.840.113741.1.13.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SgxExtensions {
    /// PPID, 16 bytes.
    pub ppid: [u8; 16],
    /// TCB.
    pub tcb: PckTcb,
    /// PCE-ID, 2 bytes.
    pub pce_id: [u8; 2],
    /// FMSPC, 6 bytes.
    pub fmspc: [u8; 6],
    /// SGX Type: 0 Standard, 1 Scalable, 2 ScalableWithIntegrity.
    pub sgx_type: u8,
    /// PlatformInstanceID and Configuration (Platform CA certificates).
    pub platform: Option<PlatformConfig>,
}

impl SgxExtensions {
    /// The extnValue: a SEQUENCE of (OID, value) pairs, as Intel writes it.
    pub fn encode(&self) -> Vec<u8> {
        let pair = |oid: &str, value: Vec<u8>| der::seq(&[der::oid(oid), value]);
        let mut tcb = Vec::with_capacity(18);
        for (i, svn) in self.tcb.sgx_components.iter().enumerate() {
            tcb.push(pair(
                &format!("{}.{}", oids::SGX_TCB, i + 1),
                der::integer_u64(u64::from(*svn)),
            ));
        }
        tcb.push(pair(
            &format!("{}.17", oids::SGX_TCB),
            der::integer_u64(u64::from(self.tcb.pcesvn)),
        ));
        tcb.push(pair(
            &format!("{}.18", oids::SGX_TCB),
            der::octet_string(&self.tcb.cpusvn()),
        ));
        let mut parts = vec![
            pair(oids::SGX_PPID, der::octet_string(&self.ppid)),
            pair(oids::SGX_TCB, der::seq(&tcb)),
            pair(oids::SGX_PCEID, der::octet_string(&self.pce_id)),
            pair(oids::SGX_FMSPC, der::octet_string(&self.fmspc)),
            pair(oids::SGX_TYPE, der::tlv(0x0a, &[self.sgx_type])),
        ];
        if let Some(p) = &self.platform {
            parts.push(pair(
                oids::SGX_PLATFORM_INSTANCE_ID,
                der::octet_string(&p.instance_id),
            ));
            let flags = [p.dynamic_platform, p.cached_keys, p.smt_enabled];
            let config: Vec<Vec<u8>> = flags
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    pair(
                        &format!("{}.{}", oids::SGX_CONFIGURATION, i + 1),
                        der::boolean(*b),
                    )
                })
                .collect();
            parts.push(pair(oids::SGX_CONFIGURATION, der::seq(&config)));
        }
        der::seq(&parts)
    }
}

/// A PCK leaf certificate.
#[derive(Debug, Clone)]
pub struct PckSpec {
    /// Serial.
    pub serial: Vec<u8>,
    /// notBefore.
    pub not_before: i64,
    /// notAfter.
    pub not_after: i64,
    /// The SGX extensions.
    pub sgx: SgxExtensions,
    /// `platform` or `processor` (the CRL distribution point).
    pub ca_kind: &'static str,
}

impl PckSpec {
    /// Issues the PCK certificate for `key`, signed by `issuer`.
    pub fn issue(&self, key: &P256Key, issuer: &EcCa) -> Vec<u8> {
        let ski = sha256(&key.public_sec1())[..20].to_vec();
        EcCertTemplate {
            serial: self.serial.clone(),
            issuer: issuer.name.clone(),
            subject: fake_intel_name(cn::PCK),
            not_before: self.not_before,
            not_after: self.not_after,
            spki: key.spki_der(),
            extensions: vec![
                authority_key_id(&issuer.key_id),
                crl_distribution_point(&pck_crl_uri(self.ca_kind)),
                subject_key_id(&ski),
                Extension::key_usage(&[key_usage::DIGITAL_SIGNATURE, NON_REPUDIATION]),
                Extension::basic_constraints(false, None),
                Extension::new(oids::SGX_EXTENSIONS, self.sgx.encode()),
            ],
        }
        .sign(&issuer.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_keys_and_signatures_are_deterministic() {
        let a = P256Key::derive("x");
        assert_eq!(a.public_sec1(), P256Key::derive("x").public_sec1());
        assert_ne!(a.public_sec1(), P256Key::derive("y").public_sec1());
        assert_eq!(a.sign_raw(b"m"), a.sign_raw(b"m"));
        assert_eq!(a.public_sec1().len(), 65);
        assert_eq!(a.spki_der().len(), 91); // as in Intel's certificates
    }

    #[test]
    fn extension_encodings_match_intel() {
        // Bytes cut from Intel's PCK certificate and PCK Platform CA.
        assert_eq!(
            encode_extension(&Extension::key_usage(&[
                key_usage::DIGITAL_SIGNATURE,
                NON_REPUDIATION
            ])),
            hex("300e0603551d0f0101ff0404030206c0")
        );
        assert_eq!(
            encode_extension(&Extension::basic_constraints(true, Some(0))),
            hex("30120603551d130101ff040830060101ff020100")
        );
        assert_eq!(
            encode_extension(&Extension::basic_constraints(false, None)),
            hex("300c0603551d130101ff04023000")
        );
        let key_id = hex("956f5dcdbd1be1e94049c9d4f433ce01570bde54");
        assert_eq!(
            encode_extension(&authority_key_id(&key_id)),
            hex("301f0603551d2304183016801495 6f5dcdbd1be1e94049c9d4f433ce01570bde54")
        );
        let uri = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";
        let want = "30520603551d1f044b30493047a045a0438641".to_string()
            + &uri.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(encode_extension(&crl_distribution_point(uri)), hex(&want));
    }

    /// The SGX extension of a real PCK certificate (FMSPC B0C06F000000),
    /// re-encoded from its values, byte for byte.
    #[test]
    fn sgx_extension_matches_a_real_pck_certificate() {
        let real = hex(concat!(
            "30820226301E060A2A864886F84D010D01010410811DCA2A26B952E85BB6448B097BA4FD",
            "30820163060A2A864886F84D010D0102308201533010060B2A864886F84D010D010201020103",
            "3010060B2A864886F84D010D0102020201033010060B2A864886F84D010D0102030201023010",
            "060B2A864886F84D010D0102040201023010060B2A864886F84D010D0102050201043010060B",
            "2A864886F84D010D0102060201013010060B2A864886F84D010D0102070201003010060B2A86",
            "4886F84D010D0102080201053010060B2A864886F84D010D0102090201003010060B2A864886",
            "F84D010D01020A0201003010060B2A864886F84D010D01020B0201003010060B2A864886F84D",
            "010D01020C0201003010060B2A864886F84D010D01020D0201003010060B2A864886F84D010D",
            "01020E0201003010060B2A864886F84D010D01020F0201003010060B2A864886F84D010D0102",
            "100201003010060B2A864886F84D010D01021102010B301F060B2A864886F84D010D01021204",
            "10030302020401000500000000000000003010060A2A864886F84D010D010304020000301406",
            "0A2A864886F84D010D01040406B0C06F000000300F060A2A864886F84D010D01050A0101301E",
            "060A2A864886F84D010D0106041007828474603E7019DC930775FFE8CDD23044060A2A864886",
            "F84D010D010730363010060B2A864886F84D010D0107010101FF3010060B2A864886F84D010D",
            "0107020101FF3010060B2A864886F84D010D0107030101FF"
        ));
        let arr = |s: &str| -> [u8; 16] { hex(s).try_into().unwrap() };
        let ext = SgxExtensions {
            ppid: arr("811dca2a26b952e85bb6448b097ba4fd"),
            tcb: PckTcb {
                sgx_components: [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
                pcesvn: 11,
            },
            pce_id: [0, 0],
            fmspc: [0xb0, 0xc0, 0x6f, 0, 0, 0],
            sgx_type: 1,
            platform: Some(PlatformConfig {
                instance_id: arr("07828474603e7019dc930775ffe8cdd2"),
                dynamic_platform: true,
                cached_keys: true,
                smt_enabled: true,
            }),
        };
        assert_eq!(ext.encode(), real);
    }

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
