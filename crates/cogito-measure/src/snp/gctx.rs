//! The launch digest chain of SNP_LAUNCH_UPDATE.
//!
//! AMD SEV-SNP Firmware ABI (spec 56860), §8.17 SNP_LAUNCH_UPDATE: for each
//! page the PSP computes `LD := SHA-384(PAGE_INFO)`, where PAGE_INFO
//! (§8.17.2, Table 67) is the previous digest, the page's contents digest,
//! its length, type, IMI flag, VMPL permissions and GPA. The PSP never sees
//! the host's intent, only these records, so replaying them reproduces the
//! MEASUREMENT field of the attestation report.

use sha2::{Digest, Sha384};

/// A page is 4 KiB.
pub(crate) const PAGE: usize = 4096;
/// [`PAGE`] as a `u64`, for guest-physical addresses and section sizes.
pub(crate) const PAGE_U64: u64 = 4096;

/// PAGE_TYPE values (§8.17, Table 66).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum PageType {
    /// PAGE_TYPE_NORMAL: contents measured.
    Normal = 0x01,
    /// PAGE_TYPE_VMSA: a vCPU's save area.
    Vmsa = 0x02,
    /// PAGE_TYPE_ZERO: measured as zero contents.
    Zero = 0x03,
    /// PAGE_TYPE_UNMEASURED: GPA recorded, contents not.
    Unmeasured = 0x04,
    /// PAGE_TYPE_SECRETS: the PSP fills it.
    Secrets = 0x05,
    /// PAGE_TYPE_CPUID: checked by the PSP, not measured.
    Cpuid = 0x06,
}

/// The VMSA's GPA as the PSP records it: (u64)-1, page aligned, bits 63:52
/// cleared (§8.17.2 note on VMSA pages).
const VMSA_GPA: u64 = 0x0000_FFFF_FFFF_F000;

/// The running launch digest.
#[derive(Clone, Debug)]
pub(crate) struct LaunchDigest {
    ld: [u8; 48],
}

impl LaunchDigest {
    /// Starts from `seed` (all zero at SNP_LAUNCH_START, or a precomputed
    /// digest of the firmware pages).
    pub(crate) fn new(seed: [u8; 48]) -> Self {
        Self { ld: seed }
    }

    /// The digest so far.
    pub(crate) fn value(&self) -> [u8; 48] {
        self.ld
    }

    /// One PAGE_INFO record (Table 67): CONTENTS is the SHA-384 of the page
    /// for NORMAL and VMSA pages and zero otherwise; IMI_PAGE and the VMPL
    /// permissions are 0 for a plain (non-migration) launch.
    fn update(&mut self, page_type: PageType, gpa: u64, contents: &[u8; 48]) {
        // The discriminant of a #[repr(u8)] enum whose discriminants are the
        // spec's PAGE_TYPE values: the cast is lossless.
        #[allow(clippy::as_conversions)]
        let page_type = page_type as u8;
        let mut info = [0u8; 0x70];
        info[0x00..0x30].copy_from_slice(&self.ld); // DIGEST_CUR
        info[0x30..0x60].copy_from_slice(contents); // CONTENTS
        info[0x60..0x62].copy_from_slice(&0x70u16.to_le_bytes()); // LENGTH
        info[0x62] = page_type; // PAGE_TYPE
                                // 0x63 IMI_PAGE, 0x64..0x67 VMPL3/2/1_PERMS, 0x67 reserved: all 0.
        info[0x68..0x70].copy_from_slice(&gpa.to_le_bytes()); // GPA
        self.ld = Sha384::digest(info).into();
    }

    /// NORMAL pages holding `data` (a whole number of pages) from `gpa` on.
    pub(crate) fn normal_pages(&mut self, gpa: u64, data: &[u8]) {
        let mut at = gpa;
        for page in data.chunks(PAGE) {
            let d: [u8; 48] = Sha384::digest(page).into();
            self.update(PageType::Normal, at, &d);
            at = at.wrapping_add(PAGE_U64);
        }
    }

    /// `len / 4096` pages of a contents-less type from `gpa` on.
    pub(crate) fn empty_pages(&mut self, page_type: PageType, gpa: u64, len: u64) {
        let mut off = 0u64;
        while off < len {
            self.update(page_type, gpa.wrapping_add(off), &[0u8; 48]);
            off += PAGE_U64;
        }
    }

    /// One VMSA page.
    pub(crate) fn vmsa_page(&mut self, page: &[u8; PAGE]) {
        let d: [u8; 48] = Sha384::digest(page).into();
        self.update(PageType::Vmsa, VMSA_GPA, &d);
    }
}
