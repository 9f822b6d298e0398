//! The ATTESTATION_REPORT structure (AMD SEV-SNP Firmware ABI
//! Specification, publication 56860, Table "ATTESTATION_REPORT Structure").
//!
//! [`Report::parse`] reads every field at its named offset through
//! [`cogito_core::Reader`], checks every must-be-zero range and rejects
//! versions it does not know. It does not verify anything; see
//! [`crate::verify_report`].

use cogito_core::{AmdProduct, Reader};
use serde::Serialize;

use crate::error::SnpError;
use crate::tcb::TcbVersion;

/// Length of an attestation report.
pub const REPORT_LEN: usize = 0x4A0;
/// The signature covers bytes `0x000..0x2A0` of the report.
pub const SIGNED_LEN: usize = 0x2A0;

/// Which key signed the report (KEY_INFO bits 4:2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningKey {
    /// Versioned Chip Endorsement Key (per chip and TCB; from AMD's KDS).
    Vcek,
    /// Versioned Loaded Endorsement Key (per cloud provider; loaded by the host).
    Vlek,
    /// No key: the report is unsigned.
    None,
}

impl SigningKey {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningKey::Vcek => "VCEK",
            SigningKey::Vlek => "VLEK",
            SigningKey::None => "none",
        }
    }
}

/// The guest policy (POLICY, offset 0x08; ABI spec "Guest Policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GuestPolicy(pub u64);

impl GuestPolicy {
    fn bit(self, n: u32) -> bool {
        self.0 >> n & 1 == 1
    }
    /// Minimum ABI minor version (bits 7:0).
    pub fn abi_minor(self) -> u8 {
        let [minor, ..] = self.0.to_le_bytes();
        minor
    }
    /// Minimum ABI major version (bits 15:8).
    pub fn abi_major(self) -> u8 {
        let [_, major, ..] = self.0.to_le_bytes();
        major
    }
    /// Bit 16: SMT may be enabled on the host.
    pub fn smt_allowed(self) -> bool {
        self.bit(16)
    }
    /// Bit 17: reserved, must be one.
    pub fn reserved_bit17(self) -> bool {
        self.bit(17)
    }
    /// Bit 18: association with a migration agent is allowed.
    pub fn migrate_ma_allowed(self) -> bool {
        self.bit(18)
    }
    /// Bit 19: debugging is allowed (the guest's memory is not confidential).
    pub fn debug_allowed(self) -> bool {
        self.bit(19)
    }
    /// Bit 20: the guest may only be activated on one socket.
    pub fn single_socket_required(self) -> bool {
        self.bit(20)
    }
    /// Bit 21: CXL may be populated with devices or memory.
    pub fn cxl_allowed(self) -> bool {
        self.bit(21)
    }
    /// Bit 22: AES-256-XTS memory encryption is required.
    pub fn mem_aes_256_xts_required(self) -> bool {
        self.bit(22)
    }
    /// Bit 23: RAPL must be disabled.
    pub fn rapl_disabled_required(self) -> bool {
        self.bit(23)
    }
    /// Bit 24: ciphertext hiding must be enabled.
    pub fn ciphertext_hiding_required(self) -> bool {
        self.bit(24)
    }
    /// Bit 25: page swap commands are disabled.
    pub fn page_swap_disabled(self) -> bool {
        self.bit(25)
    }
}

/// PLATFORM_INFO (offset 0x40): platform state when the report was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlatformInfo(pub u64);

impl PlatformInfo {
    fn bit(self, n: u32) -> bool {
        self.0 >> n & 1 == 1
    }
    /// Bit 0: SMT is enabled.
    pub fn smt_enabled(self) -> bool {
        self.bit(0)
    }
    /// Bit 1: TSME is enabled.
    pub fn tsme_enabled(self) -> bool {
        self.bit(1)
    }
    /// Bit 2: the platform uses ECC memory.
    pub fn ecc_enabled(self) -> bool {
        self.bit(2)
    }
    /// Bit 3: RAPL is disabled.
    pub fn rapl_disabled(self) -> bool {
        self.bit(3)
    }
    /// Bit 4: ciphertext hiding is enabled for DRAM.
    pub fn ciphertext_hiding_enabled(self) -> bool {
        self.bit(4)
    }
    /// Bit 5: alias check completed since the last reset, no aliasing found.
    pub fn alias_check_complete(self) -> bool {
        self.bit(5)
    }
    /// Bit 6: set by Turin firmware; not yet named in the public ABI
    /// revision cogito follows. Reported as is, never rejected.
    pub fn bit6(self) -> bool {
        self.bit(6)
    }
    /// Bit 7: SEV-TIO is enabled.
    pub fn tio_enabled(self) -> bool {
        self.bit(7)
    }
}

/// A firmware version (major.minor.build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FirmwareVersion {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Build.
    pub build: u8,
}

impl std::fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.build)
    }
}

/// CPUID family, model and stepping of the chip (report version 3 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cpuid {
    /// CPUID_FAM_ID (offset 0x188): combined extended and base family.
    pub family: u8,
    /// CPUID_MOD_ID (offset 0x189): combined extended and base model.
    pub model: u8,
    /// CPUID_STEP (offset 0x18A).
    pub stepping: u8,
}

impl Cpuid {
    /// The product line of this family and model, if it is a known SEV-SNP
    /// part. Zen 4c parts (Bergamo, Siena: family 0x19, models 0xA0–0xAF)
    /// are Genoa-family and use Genoa's keys.
    pub fn product(&self) -> Option<AmdProduct> {
        match (self.family, self.model) {
            (0x19, 0x00..=0x0f) => Some(AmdProduct::Milan),
            (0x19, 0x10..=0x1f) | (0x19, 0xa0..=0xaf) => Some(AmdProduct::Genoa),
            (0x1a, 0x00..=0x11) => Some(AmdProduct::Turin),
            _ => None,
        }
    }
}

/// A parsed attestation report. Byte arrays are in report byte order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// VERSION (0x000): 2, 3 or 5.
    pub version: u32,
    /// GUEST_SVN (0x004).
    pub guest_svn: u32,
    /// POLICY (0x008).
    pub policy: GuestPolicy,
    /// FAMILY_ID (0x010).
    pub family_id: [u8; 16],
    /// IMAGE_ID (0x020).
    pub image_id: [u8; 16],
    /// VMPL (0x030).
    pub vmpl: u32,
    /// SIGNATURE_ALGO (0x034): 1 = ECDSA P-384 with SHA-384.
    pub signature_algo: u32,
    /// CURRENT_TCB (0x038).
    pub current_tcb: TcbVersion,
    /// PLATFORM_INFO (0x040).
    pub platform_info: PlatformInfo,
    /// KEY_INFO bit 0: AUTHOR_KEY_EN.
    pub author_key_en: bool,
    /// KEY_INFO bit 1: MASK_CHIP_ID (CHIP_ID is zeroed).
    pub mask_chip_id: bool,
    /// KEY_INFO bits 4:2: SIGNING_KEY.
    pub signing_key: SigningKey,
    /// REPORT_DATA (0x050).
    pub report_data: [u8; 64],
    /// MEASUREMENT (0x090).
    pub measurement: [u8; 48],
    /// HOST_DATA (0x0C0).
    pub host_data: [u8; 32],
    /// ID_KEY_DIGEST (0x0E0).
    pub id_key_digest: [u8; 48],
    /// AUTHOR_KEY_DIGEST (0x110).
    pub author_key_digest: [u8; 48],
    /// REPORT_ID (0x140).
    pub report_id: [u8; 32],
    /// REPORT_ID_MA (0x160).
    pub report_id_ma: [u8; 32],
    /// REPORTED_TCB (0x180).
    pub reported_tcb: TcbVersion,
    /// CPUID_FAM_ID/MOD_ID/STEP (0x188–0x18A), version 3 and later.
    pub cpuid: Option<Cpuid>,
    /// CHIP_ID (0x1A0).
    pub chip_id: [u8; 64],
    /// COMMITTED_TCB (0x1E0).
    pub committed_tcb: TcbVersion,
    /// CURRENT_BUILD/MINOR/MAJOR (0x1E8–0x1EA).
    pub current_version: FirmwareVersion,
    /// COMMITTED_BUILD/MINOR/MAJOR (0x1EC–0x1EE).
    pub committed_version: FirmwareVersion,
    /// LAUNCH_TCB (0x1F0).
    pub launch_tcb: TcbVersion,
    /// LAUNCH_MIT_VECTOR (0x1F8), version 5 and later.
    pub launch_mit_vector: Option<u64>,
    /// CURRENT_MIT_VECTOR (0x200), version 5 and later.
    pub current_mit_vector: Option<u64>,
    /// SIGNATURE R and S as a fixed-width big-endian `r ‖ s` (converted
    /// from the report's 72-byte little-endian fields).
    pub signature: [u8; 96],
    /// The raw report.
    pub raw: Box<[u8; REPORT_LEN]>,
}

/// Converts a 72-byte little-endian signature component at `offset` into
/// 48 big-endian bytes; bytes 48..72 must be zero (ABI spec, "ECDSA P-384
/// with SHA-384 Signature": R and S are zero-extended little-endian).
fn le72_to_be48(
    component: &'static str,
    offset: usize,
    le: &[u8],
    out: &mut [u8],
) -> Result<(), SnpError> {
    let (low, high) = le.split_at(48);
    if let Some(i) = high.iter().position(|b| *b != 0) {
        return Err(SnpError::SignatureComponentTooWide {
            component,
            offset: offset + 48 + i,
        });
    }
    for (o, b) in out.iter_mut().zip(low.iter().rev()) {
        *o = *b;
    }
    Ok(())
}

impl Report {
    /// Parses a report of version 2, 3 or 5 from exactly [`REPORT_LEN`] bytes.
    pub fn parse(bytes: &[u8]) -> Result<Report, SnpError> {
        let mut r = Reader::new(bytes);
        let version = r.u32_le("VERSION")?;
        if !matches!(version, 2 | 3 | 5) {
            return Err(SnpError::UnknownVersion { found: version });
        }
        let guest_svn = r.u32_le("GUEST_SVN")?;
        let policy = GuestPolicy(r.u64_le("POLICY")?);
        let family_id = r.array("FAMILY_ID")?;
        let image_id = r.array("IMAGE_ID")?;
        let vmpl = r.u32_le("VMPL")?;
        let signature_algo = r.u32_le("SIGNATURE_ALGO")?;
        if signature_algo != 1 {
            return Err(SnpError::UnknownSignatureAlgo {
                found: signature_algo,
            });
        }
        let current_tcb = TcbVersion(r.array("CURRENT_TCB")?);
        let platform_info = PlatformInfo(r.u64_le("PLATFORM_INFO")?);
        let key_info = r.u32_le("KEY_INFO")?;
        if key_info >> 5 != 0 {
            return Err(SnpError::ReservedBits {
                field: "KEY_INFO",
                offset: 0x48,
                value: u64::from(key_info & !0x1f),
            });
        }
        let signing_key = match key_info >> 2 & 0b111 {
            0 => SigningKey::Vcek,
            1 => SigningKey::Vlek,
            7 => SigningKey::None,
            found => return Err(SnpError::ReservedSigningKey { found }),
        };
        r.zeros("RESERVED (0x04C)", 4)?;
        let report_data = r.array("REPORT_DATA")?;
        let measurement = r.array("MEASUREMENT")?;
        let host_data = r.array("HOST_DATA")?;
        let id_key_digest = r.array("ID_KEY_DIGEST")?;
        let author_key_digest = r.array("AUTHOR_KEY_DIGEST")?;
        let report_id = r.array("REPORT_ID")?;
        let report_id_ma = r.array("REPORT_ID_MA")?;
        let reported_tcb = TcbVersion(r.array("REPORTED_TCB")?);
        let cpuid = if version >= 3 {
            let family = r.u8("CPUID_FAM_ID")?;
            let model = r.u8("CPUID_MOD_ID")?;
            let stepping = r.u8("CPUID_STEP")?;
            r.zeros("RESERVED (0x18B)", 0x1A0 - 0x18B)?;
            Some(Cpuid {
                family,
                model,
                stepping,
            })
        } else {
            r.zeros("RESERVED (0x188)", 0x1A0 - 0x188)?;
            None
        };
        let chip_id = r.array("CHIP_ID")?;
        let committed_tcb = TcbVersion(r.array("COMMITTED_TCB")?);
        let current_build = r.u8("CURRENT_BUILD")?;
        let current_minor = r.u8("CURRENT_MINOR")?;
        let current_major = r.u8("CURRENT_MAJOR")?;
        r.zeros("RESERVED (0x1EB)", 1)?;
        let committed_build = r.u8("COMMITTED_BUILD")?;
        let committed_minor = r.u8("COMMITTED_MINOR")?;
        let committed_major = r.u8("COMMITTED_MAJOR")?;
        r.zeros("RESERVED (0x1EF)", 1)?;
        let launch_tcb = TcbVersion(r.array("LAUNCH_TCB")?);
        let (launch_mit_vector, current_mit_vector) = if version >= 5 {
            let l = r.u64_le("LAUNCH_MIT_VECTOR")?;
            let c = r.u64_le("CURRENT_MIT_VECTOR")?;
            r.zeros("RESERVED (0x208)", SIGNED_LEN - 0x208)?;
            (Some(l), Some(c))
        } else {
            r.zeros("RESERVED (0x1F8)", SIGNED_LEN - 0x1F8)?;
            (None, None)
        };
        let r_le = r.bytes("SIGNATURE.R", 72)?;
        let s_le = r.bytes("SIGNATURE.S", 72)?;
        r.zeros("SIGNATURE reserved (0x330)", REPORT_LEN - 0x330)?;
        r.finish()?;

        let mut signature = [0u8; 96];
        let (sig_r, sig_s) = signature.split_at_mut(48);
        le72_to_be48("R", 0x2A0, r_le, sig_r)?;
        le72_to_be48("S", 0x2E8, s_le, sig_s)?;

        let mut raw = Box::new([0u8; REPORT_LEN]);
        raw.copy_from_slice(bytes);
        Ok(Report {
            version,
            guest_svn,
            policy,
            family_id,
            image_id,
            vmpl,
            signature_algo,
            current_tcb,
            platform_info,
            author_key_en: key_info & 1 == 1,
            mask_chip_id: key_info >> 1 & 1 == 1,
            signing_key,
            report_data,
            measurement,
            host_data,
            id_key_digest,
            author_key_digest,
            report_id,
            report_id_ma,
            reported_tcb,
            cpuid,
            chip_id,
            committed_tcb,
            current_version: FirmwareVersion {
                major: current_major,
                minor: current_minor,
                build: current_build,
            },
            committed_version: FirmwareVersion {
                major: committed_major,
                minor: committed_minor,
                build: committed_build,
            },
            launch_tcb,
            launch_mit_vector,
            current_mit_vector,
            signature,
            raw,
        })
    }

    /// The bytes the signature covers (`0x000..0x2A0`).
    pub fn signed_bytes(&self) -> &[u8] {
        self.raw.get(..SIGNED_LEN).unwrap_or_default()
    }

    /// Whether CHIP_ID carries no chip identity: MASK_CHIP_ID is set, or
    /// the firmware zeroed CHIP_ID anyway (seen in VLEK-signed reports).
    pub fn chip_id_masked(&self) -> bool {
        self.mask_chip_id || self.chip_id.iter().all(|b| *b == 0)
    }

    /// The product line the report itself names (version 3+ CPUID), if any.
    /// A version 3+ report with all-zero CPUID fields names none.
    pub fn product_from_cpuid(&self) -> Result<Option<AmdProduct>, SnpError> {
        match self.cpuid {
            None => Ok(None),
            Some(c) if c.family == 0 && c.model == 0 => Ok(None),
            Some(c) => c.product().map(Some).ok_or(SnpError::UnknownCpuid {
                family: c.family,
                model: c.model,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cogito_core::ReaderError;

    /// A structurally valid, unsigned-content report of `version`.
    fn blank(version: u32) -> Vec<u8> {
        let mut b = vec![0u8; REPORT_LEN];
        b[0..4].copy_from_slice(&version.to_le_bytes());
        b[0x34] = 1;
        b
    }

    #[test]
    fn parses_each_supported_version() {
        for v in [2, 3, 5] {
            let r = Report::parse(&blank(v)).unwrap();
            assert_eq!(r.version, v);
            assert_eq!(r.cpuid.is_some(), v >= 3);
            assert_eq!(r.launch_mit_vector.is_some(), v >= 5);
        }
    }

    #[test]
    fn rejects_unknown_versions() {
        for v in [0, 1, 4, 6, 0xffff_ffff] {
            assert_eq!(
                Report::parse(&blank(v)),
                Err(SnpError::UnknownVersion { found: v })
            );
        }
    }

    #[test]
    fn rejects_other_signature_algorithms() {
        let mut b = blank(2);
        b[0x34] = 2;
        assert_eq!(
            Report::parse(&b),
            Err(SnpError::UnknownSignatureAlgo { found: 2 })
        );
    }

    #[test]
    fn rejects_reserved_signing_keys() {
        for k in 2..7u8 {
            let mut b = blank(3);
            b[0x48] = k << 2;
            assert_eq!(
                Report::parse(&b),
                Err(SnpError::ReservedSigningKey {
                    found: u32::from(k)
                })
            );
        }
        let mut b = blank(3);
        b[0x48] = 7 << 2;
        assert_eq!(Report::parse(&b).unwrap().signing_key, SigningKey::None);
    }

    #[test]
    fn mbz_ranges_are_checked_with_offsets() {
        // (version, offset) pairs inside reserved ranges.
        for (v, off) in [
            (2, 0x4c),
            (2, 0x188),
            (3, 0x18b),
            (3, 0x19f),
            (2, 0x1eb),
            (2, 0x1ef),
            (2, 0x1f8),
            (3, 0x200),
            (5, 0x208),
            (5, 0x29f),
            (5, 0x330),
            (5, 0x49f),
        ] {
            let mut b = blank(v);
            b[off] = 1;
            match Report::parse(&b) {
                Err(SnpError::Malformed(ReaderError::NotZero { offset, .. })) => {
                    assert_eq!(offset, off, "version {v}")
                }
                other => panic!("version {v} offset {off:#x}: {other:?}"),
            }
        }
        // The same bytes are fields in later versions.
        let mut b = blank(5);
        b[0x1f8] = 0x3f;
        assert_eq!(Report::parse(&b).unwrap().launch_mit_vector, Some(0x3f));
        let mut b = blank(3);
        b[0x188] = 0x19;
        assert_eq!(Report::parse(&b).unwrap().cpuid.unwrap().family, 0x19);
    }

    #[test]
    fn key_info_reserved_bits() {
        let mut b = blank(2);
        b[0x48] = 0x20;
        assert!(matches!(
            Report::parse(&b),
            Err(SnpError::ReservedBits { offset: 0x48, .. })
        ));
    }

    #[test]
    fn signature_high_bytes_must_be_zero() {
        let mut b = blank(2);
        b[0x2A0 + 50] = 1;
        assert_eq!(
            Report::parse(&b),
            Err(SnpError::SignatureComponentTooWide {
                component: "R",
                offset: 0x2A0 + 50
            })
        );
        let mut b = blank(2);
        b[0x2E8 + 71] = 1;
        assert_eq!(
            Report::parse(&b),
            Err(SnpError::SignatureComponentTooWide {
                component: "S",
                offset: 0x2E8 + 71
            })
        );
    }

    #[test]
    fn signature_is_converted_to_big_endian() {
        let mut b = blank(2);
        b[0x2A0] = 0xaa; // least significant byte of R
        b[0x2A0 + 47] = 0x11; // most significant byte of R
        b[0x2E8] = 0xbb;
        let r = Report::parse(&b).unwrap();
        assert_eq!(r.signature[0], 0x11);
        assert_eq!(r.signature[47], 0xaa);
        assert_eq!(r.signature[95], 0xbb);
    }

    #[test]
    fn truncation_and_trailing_data() {
        let b = blank(2);
        assert!(matches!(
            Report::parse(&b[..REPORT_LEN - 1]),
            Err(SnpError::Malformed(ReaderError::Truncated { .. }))
        ));
        let mut long = b.clone();
        long.push(0);
        assert!(matches!(
            Report::parse(&long),
            Err(SnpError::Malformed(ReaderError::TrailingData {
                offset: REPORT_LEN,
                len: 1
            }))
        ));
    }

    #[test]
    fn cpuid_product_mapping() {
        let p = |family, model| {
            Cpuid {
                family,
                model,
                stepping: 0,
            }
            .product()
        };
        assert_eq!(p(0x19, 0x01), Some(AmdProduct::Milan));
        assert_eq!(p(0x19, 0x11), Some(AmdProduct::Genoa));
        assert_eq!(p(0x19, 0xa0), Some(AmdProduct::Genoa)); // Bergamo (Zen 4c)
        assert_eq!(p(0x19, 0xaf), Some(AmdProduct::Genoa)); // Siena (Zen 4c)
        assert_eq!(p(0x1a, 0x02), Some(AmdProduct::Turin));
        assert_eq!(p(0x1a, 0x11), Some(AmdProduct::Turin));
        assert_eq!(p(0x17, 0x31), None); // Rome: no SEV-SNP attestation
        assert_eq!(p(0x19, 0x21), None);
    }
}
