//! Raw SEV-SNP ATTESTATION_REPORTs (1184 bytes) with every field settable,
//! signed by a FAKE VCEK/VLEK.
//!
//! Offsets follow the AMD SEV-SNP Firmware ABI specification (56860),
//! "ATTESTATION_REPORT Structure", as `cogito_snp::report` reads them.

use cogito_core::AmdProduct;

use crate::keys::EcKey;

/// Length of a report.
pub const REPORT_LEN: usize = 0x4A0;
/// The signature covers `0x000..0x2A0`.
pub const SIGNED_LEN: usize = 0x2A0;
/// SIGNATURE.R (72 bytes, little-endian).
pub const SIG_R: usize = 0x2A0;
/// SIGNATURE.S (72 bytes, little-endian).
pub const SIG_S: usize = 0x2E8;

/// Field offsets.
pub mod offset {
    /// VERSION.
    pub const VERSION: usize = 0x000;
    /// GUEST_SVN.
    pub const GUEST_SVN: usize = 0x004;
    /// POLICY.
    pub const POLICY: usize = 0x008;
    /// FAMILY_ID.
    pub const FAMILY_ID: usize = 0x010;
    /// IMAGE_ID.
    pub const IMAGE_ID: usize = 0x020;
    /// VMPL.
    pub const VMPL: usize = 0x030;
    /// SIGNATURE_ALGO.
    pub const SIGNATURE_ALGO: usize = 0x034;
    /// CURRENT_TCB.
    pub const CURRENT_TCB: usize = 0x038;
    /// PLATFORM_INFO.
    pub const PLATFORM_INFO: usize = 0x040;
    /// KEY_INFO (AUTHOR_KEY_EN, MASK_CHIP_ID, SIGNING_KEY).
    pub const KEY_INFO: usize = 0x048;
    /// REPORT_DATA.
    pub const REPORT_DATA: usize = 0x050;
    /// MEASUREMENT.
    pub const MEASUREMENT: usize = 0x090;
    /// HOST_DATA.
    pub const HOST_DATA: usize = 0x0C0;
    /// ID_KEY_DIGEST.
    pub const ID_KEY_DIGEST: usize = 0x0E0;
    /// AUTHOR_KEY_DIGEST.
    pub const AUTHOR_KEY_DIGEST: usize = 0x110;
    /// REPORT_ID.
    pub const REPORT_ID: usize = 0x140;
    /// REPORT_ID_MA.
    pub const REPORT_ID_MA: usize = 0x160;
    /// REPORTED_TCB.
    pub const REPORTED_TCB: usize = 0x180;
    /// CPUID_FAM_ID (v3+), then CPUID_MOD_ID and CPUID_STEP.
    pub const CPUID: usize = 0x188;
    /// CHIP_ID.
    pub const CHIP_ID: usize = 0x1A0;
    /// COMMITTED_TCB.
    pub const COMMITTED_TCB: usize = 0x1E0;
    /// CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR.
    pub const CURRENT_VERSION: usize = 0x1E8;
    /// COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR.
    pub const COMMITTED_VERSION: usize = 0x1EC;
    /// LAUNCH_TCB.
    pub const LAUNCH_TCB: usize = 0x1F0;
    /// LAUNCH_MIT_VECTOR (v5+).
    pub const LAUNCH_MIT_VECTOR: usize = 0x1F8;
    /// CURRENT_MIT_VECTOR (v5+).
    pub const CURRENT_MIT_VECTOR: usize = 0x200;
}

/// A TCB_VERSION by component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tcb {
    /// FMC SPL (Turin only; ignored on Milan/Genoa).
    pub fmc: u8,
    /// PSP boot loader SPL.
    pub bootloader: u8,
    /// PSP OS (TEE) SPL.
    pub tee: u8,
    /// SNP firmware SPL.
    pub snp: u8,
    /// Microcode patch level.
    pub microcode: u8,
}

impl Tcb {
    /// The 8 raw bytes in `product`'s layout (see `cogito_snp::tcb`):
    /// Milan/Genoa `BL TEE 0 0 0 0 SNP UCODE`, Turin `FMC BL TEE SNP 0 0 0 UCODE`.
    pub fn to_bytes(&self, product: AmdProduct) -> [u8; 8] {
        match product {
            AmdProduct::Milan | AmdProduct::Genoa => [
                self.bootloader,
                self.tee,
                0,
                0,
                0,
                0,
                self.snp,
                self.microcode,
            ],
            AmdProduct::Turin => [
                self.fmc,
                self.bootloader,
                self.tee,
                self.snp,
                0,
                0,
                0,
                self.microcode,
            ],
        }
    }
}

/// A firmware version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FwVersion {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Build.
    pub build: u8,
}

impl FwVersion {
    fn bytes(self) -> [u8; 3] {
        [self.build, self.minor, self.major]
    }
}

/// SIGNING_KEY values (KEY_INFO bits 4:2).
pub mod signing_key {
    /// VCEK.
    pub const VCEK: u32 = 0;
    /// VLEK.
    pub const VLEK: u32 = 1;
    /// No signature.
    pub const NONE: u32 = 7;
}

/// CPUID family/model/stepping of each product's FAKE chips.
pub fn cpuid_of(product: AmdProduct) -> (u8, u8, u8) {
    match product {
        AmdProduct::Milan => (0x19, 0x01, 0x01),
        AmdProduct::Genoa => (0x19, 0x11, 0x01),
        AmdProduct::Turin => (0x1A, 0x02, 0x01),
    }
}

/// Every field of a report. Fields that a version does not have (CPUID
/// before v3, mitigation vectors before v5) are written anyway when set,
/// which is how must-be-zero tests are made; [`ReportFields::new`] leaves
/// them unset for such versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFields {
    /// VERSION.
    pub version: u32,
    /// GUEST_SVN.
    pub guest_svn: u32,
    /// POLICY.
    pub policy: u64,
    /// FAMILY_ID.
    pub family_id: [u8; 16],
    /// IMAGE_ID.
    pub image_id: [u8; 16],
    /// VMPL.
    pub vmpl: u32,
    /// SIGNATURE_ALGO (1 = ECDSA P-384 with SHA-384).
    pub signature_algo: u32,
    /// CURRENT_TCB, raw.
    pub current_tcb: [u8; 8],
    /// PLATFORM_INFO.
    pub platform_info: u64,
    /// KEY_INFO bit 0.
    pub author_key_en: bool,
    /// KEY_INFO bit 1.
    pub mask_chip_id: bool,
    /// KEY_INFO bits 4:2 (see [`signing_key`]).
    pub signing_key: u32,
    /// KEY_INFO bits 31:5 (reserved; must be zero).
    pub key_info_reserved: u32,
    /// REPORT_DATA.
    pub report_data: [u8; 64],
    /// MEASUREMENT.
    pub measurement: [u8; 48],
    /// HOST_DATA.
    pub host_data: [u8; 32],
    /// ID_KEY_DIGEST.
    pub id_key_digest: [u8; 48],
    /// AUTHOR_KEY_DIGEST.
    pub author_key_digest: [u8; 48],
    /// REPORT_ID.
    pub report_id: [u8; 32],
    /// REPORT_ID_MA.
    pub report_id_ma: [u8; 32],
    /// REPORTED_TCB, raw.
    pub reported_tcb: [u8; 8],
    /// CPUID family, model, stepping (v3+).
    pub cpuid: Option<(u8, u8, u8)>,
    /// CHIP_ID.
    pub chip_id: [u8; 64],
    /// COMMITTED_TCB, raw.
    pub committed_tcb: [u8; 8],
    /// CURRENT_MAJOR/MINOR/BUILD.
    pub current_version: FwVersion,
    /// COMMITTED_MAJOR/MINOR/BUILD.
    pub committed_version: FwVersion,
    /// LAUNCH_TCB, raw.
    pub launch_tcb: [u8; 8],
    /// LAUNCH_MIT_VECTOR (v5+).
    pub launch_mit_vector: Option<u64>,
    /// CURRENT_MIT_VECTOR (v5+).
    pub current_mit_vector: Option<u64>,
}

impl ReportFields {
    /// A plausible report of `version` for `product`, with every TCB
    /// equal to `tcb`, committed firmware equal to current, `chip_id`
    /// (already laid out: 64 bytes, or 8 then zeros on Turin), signed by
    /// `signing_key` and everything else zero but for POLICY's reserved
    /// bit 17 and SMT.
    pub fn new(
        product: AmdProduct,
        version: u32,
        tcb: Tcb,
        chip_id: [u8; 64],
        signing_key: u32,
    ) -> ReportFields {
        let tcb = tcb.to_bytes(product);
        let fw = match product {
            AmdProduct::Milan => FwVersion {
                major: 1,
                minor: 55,
                build: 22,
            },
            AmdProduct::Genoa => FwVersion {
                major: 1,
                minor: 55,
                build: 40,
            },
            AmdProduct::Turin => FwVersion {
                major: 1,
                minor: 58,
                build: 3,
            },
        };
        ReportFields {
            version,
            guest_svn: 0,
            policy: 0x3_0000, // SMT allowed, reserved bit 17 set
            family_id: [0; 16],
            image_id: [0; 16],
            vmpl: 0,
            signature_algo: 1,
            current_tcb: tcb,
            platform_info: 0x3, // SMT and TSME enabled
            author_key_en: false,
            mask_chip_id: false,
            signing_key,
            key_info_reserved: 0,
            report_data: [0; 64],
            measurement: [0; 48],
            host_data: [0; 32],
            id_key_digest: [0; 48],
            author_key_digest: [0; 48],
            report_id: [0; 32],
            report_id_ma: [0xff; 32],
            reported_tcb: tcb,
            cpuid: (version >= 3).then(|| cpuid_of(product)),
            chip_id,
            committed_tcb: tcb,
            current_version: fw,
            committed_version: fw,
            launch_tcb: tcb,
            launch_mit_vector: (version >= 5).then_some(0),
            current_mit_vector: (version >= 5).then_some(0),
        }
    }

    /// The report with an all-zero signature.
    pub fn to_unsigned_bytes(&self) -> Vec<u8> {
        use offset::*;
        let mut b = vec![0u8; REPORT_LEN];
        let mut put = |at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
        put(VERSION, &self.version.to_le_bytes());
        put(GUEST_SVN, &self.guest_svn.to_le_bytes());
        put(POLICY, &self.policy.to_le_bytes());
        put(FAMILY_ID, &self.family_id);
        put(IMAGE_ID, &self.image_id);
        put(VMPL, &self.vmpl.to_le_bytes());
        put(SIGNATURE_ALGO, &self.signature_algo.to_le_bytes());
        put(CURRENT_TCB, &self.current_tcb);
        put(PLATFORM_INFO, &self.platform_info.to_le_bytes());
        let key_info = u32::from(self.author_key_en)
            | u32::from(self.mask_chip_id) << 1
            | (self.signing_key & 0b111) << 2
            | self.key_info_reserved << 5;
        put(KEY_INFO, &key_info.to_le_bytes());
        put(REPORT_DATA, &self.report_data);
        put(MEASUREMENT, &self.measurement);
        put(HOST_DATA, &self.host_data);
        put(ID_KEY_DIGEST, &self.id_key_digest);
        put(AUTHOR_KEY_DIGEST, &self.author_key_digest);
        put(REPORT_ID, &self.report_id);
        put(REPORT_ID_MA, &self.report_id_ma);
        put(REPORTED_TCB, &self.reported_tcb);
        if let Some((f, m, s)) = self.cpuid {
            put(CPUID, &[f, m, s]);
        }
        put(CHIP_ID, &self.chip_id);
        put(COMMITTED_TCB, &self.committed_tcb);
        put(CURRENT_VERSION, &self.current_version.bytes());
        put(COMMITTED_VERSION, &self.committed_version.bytes());
        put(LAUNCH_TCB, &self.launch_tcb);
        if let Some(v) = self.launch_mit_vector {
            put(LAUNCH_MIT_VECTOR, &v.to_le_bytes());
        }
        if let Some(v) = self.current_mit_vector {
            put(CURRENT_MIT_VECTOR, &v.to_le_bytes());
        }
        b
    }

    /// The report signed by `key`.
    pub fn sign(&self, key: &EcKey) -> Vec<u8> {
        let mut b = self.to_unsigned_bytes();
        sign_in_place(&mut b, key);
        b
    }
}

/// (Re)signs `report` in place: ECDSA P-384/SHA-384 over bytes
/// `0x000..0x2A0`, R at 0x2A0 and S at 0x2E8, each 72 bytes little-endian
/// (48 significant bytes, then zeros). Bytes after the signature are left
/// as they are.
pub fn sign_in_place(report: &mut [u8], key: &EcKey) {
    assert!(report.len() >= SIG_S + 72, "report too short to sign");
    let sig = key.sign(&report[..SIGNED_LEN]);
    put_signature(report, &sig);
}

/// Writes a P-384 signature `r ‖ s` (each 48 bytes big-endian) into
/// SIGNATURE.R and SIGNATURE.S of `report` as the firmware lays them out:
/// 72 bytes each, little-endian, zero-padded.
pub fn put_signature(report: &mut [u8], sig: &[u8; 96]) {
    let (r, s) = sig.split_at(48);
    for (component, at) in [(r, SIG_R), (s, SIG_S)] {
        let field = &mut report[at..at + 72];
        field.fill(0);
        for (dst, src) in field.iter_mut().zip(component.iter().rev()) {
            *dst = *src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcb_layouts() {
        let t = Tcb {
            fmc: 1,
            bootloader: 3,
            tee: 2,
            snp: 5,
            microcode: 0x61,
        };
        assert_eq!(t.to_bytes(AmdProduct::Turin), [1, 3, 2, 5, 0, 0, 0, 0x61]);
        assert_eq!(t.to_bytes(AmdProduct::Milan), [3, 2, 0, 0, 0, 0, 5, 0x61]);
    }

    #[test]
    fn parses_with_cogito_and_signature_is_little_endian() {
        let key = EcKey::derive("report test");
        for product in AmdProduct::ALL {
            for version in [2, 3, 5] {
                let tcb = Tcb {
                    fmc: 1,
                    bootloader: 2,
                    tee: 3,
                    snp: 4,
                    microcode: 0x99,
                };
                let mut f = ReportFields::new(product, version, tcb, [7; 64], signing_key::VCEK);
                f.measurement = [0xab; 48];
                let bytes = f.sign(&key);
                assert_eq!(bytes.len(), REPORT_LEN);
                let r = cogito_snp::Report::parse(&bytes).unwrap();
                assert_eq!(r.version, version);
                assert_eq!(r.measurement, [0xab; 48]);
                assert_eq!(r.reported_tcb.decode(product).microcode, 0x99);
                assert_eq!(
                    r.cpuid.and_then(|c| c.product()),
                    (version >= 3).then_some(product)
                );
                let sig = key.sign(&bytes[..SIGNED_LEN]);
                assert_eq!(r.signature, sig);
            }
        }
    }
}
