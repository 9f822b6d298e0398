//! The SEV-SNP launch digest (the report's MEASUREMENT) of an OVMF guest.
//!
//! The digest is the chain of SNP_LAUNCH_UPDATE records (AMD SEV-SNP
//! Firmware ABI, spec 56860, §8.17) that a VMM issues when it launches an
//! OVMF guest:
//!
//! 1. every page of the firmware image, as NORMAL pages, mapped so that the
//!    image ends at 4 GiB;
//! 2. the sections of OVMF's SEV metadata ("ASEV", edk2
//!    `OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm`) in their order:
//!    SNP_SEC_MEMORY as ZERO pages (UNMEASURED on GCE), SNP_SECRETS as a
//!    SECRETS page, CPUID as a CPUID page (on EC2 after all other sections),
//!    SNP_KERNEL_HASHES as the SEV hashes table page (a NORMAL page) when a
//!    kernel is given and ZERO pages otherwise, SVSM_CAA as ZERO pages;
//! 3. one VMSA page per vCPU: the bootstrap processor starts at the reset
//!    vector, the others at the address of OVMF's SEV-ES reset block.
//!
//! This reproduces `sev-snp-measure --mode snp` (0.0.13) byte for byte on
//! the same inputs; only SNP mode is implemented (not SEV, SEV-ES or SVSM).

mod cpu;
mod gctx;
mod hashes;
mod vmsa;

pub use cpu::{cpu_sig, vcpu_type_names, vcpu_type_sig};
pub use hashes::KernelHashesInput;

use crate::ovmf::{guid, metadata_block, read_u32, FooterTable, Guid};
use crate::MeasureError;
use gctx::{LaunchDigest, PageType, PAGE, PAGE_U64};

/// The VMM that launches the guest; they set up the initial vCPU state and
/// some pages differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub enum VmmType {
    /// QEMU/KVM.
    #[default]
    Qemu,
    /// AWS EC2.
    Ec2,
    /// Google Compute Engine.
    Gce,
}

impl VmmType {
    /// Parses sev-snp-measure's names: `QEMU`, `ec2`, `gce` (also accepted
    /// in any case).
    pub fn parse(s: &str) -> Result<Self, MeasureError> {
        match s.to_ascii_lowercase().as_str() {
            "qemu" => Ok(Self::Qemu),
            "ec2" => Ok(Self::Ec2),
            "gce" => Ok(Self::Gce),
            _ => Err(MeasureError::InvalidOption {
                input: "vmm_type",
                reason: format!("unknown VMM type {s:?}; known: QEMU, ec2, gce"),
            }),
        }
    }

    /// sev-snp-measure's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Qemu => "QEMU",
            Self::Ec2 => "ec2",
            Self::Gce => "gce",
        }
    }
}

/// dc886566-984a-4798-a75e-5585a7bf67cc: offset of the SEV metadata from the end.
const SEV_METADATA_GUID: Guid = guid(
    0xdc88_6566,
    0x984a,
    0x4798,
    [0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc],
);
/// 00f771de-1a7e-4fcb-890e-68c77e2fb44e: the SEV-ES AP reset block.
const SEV_ES_RESET_BLOCK_GUID: Guid = guid(
    0x00f7_71de,
    0x1a7e,
    0x4fcb,
    [0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e],
);
/// 7255371f-3a3b-4b04-927b-1da6efa8d454: GPA and size of the SEV hashes table.
const SEV_HASH_TABLE_RV_GUID: Guid = guid(
    0x7255_371f,
    0x3a3b,
    0x4b04,
    [0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54],
);

/// The SEV metadata section types OVMF declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum SevSectionType {
    /// 1: SNP_SEC_MEMORY, memory the firmware pre-validates.
    SecMemory,
    /// 2: SNP_SECRETS, the secrets page.
    Secrets,
    /// 3: CPUID, the CPUID page.
    Cpuid,
    /// 4: SVSM_CAA, the SVSM calling area.
    SvsmCaa,
    /// 0x10: SNP_KERNEL_HASHES, the page of the SEV hashes table.
    KernelHashes,
}

/// One section of the SEV metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SevSection {
    /// Guest-physical address.
    pub gpa: u32,
    /// Size in bytes.
    pub size: u32,
    /// What it is.
    pub kind: SevSectionType,
}

/// What the SNP calculation needs from an OVMF image.
#[derive(Clone, Debug)]
pub struct SevFirmware {
    /// The SEV metadata sections, in image order (empty if the image has no
    /// SEV metadata, as sev-snp-measure treats it).
    pub sections: Vec<SevSection>,
    /// The AP reset address from the SEV-ES reset block.
    pub ap_reset_eip: u32,
    /// GPA of the SEV hashes table, if the image declares one.
    pub hashes_table_gpa: Option<u32>,
}

impl SevFirmware {
    /// Parses the footer table, the SEV-ES reset block and the SEV metadata.
    pub fn parse(image: &[u8]) -> Result<Self, MeasureError> {
        let table = FooterTable::parse(image)?;
        let ap_reset_eip = table.u32_of(
            &SEV_ES_RESET_BLOCK_GUID,
            "SEV-ES reset block",
            "00f771de-1a7e-4fcb-890e-68c77e2fb44e",
        )?;
        let hashes_table_gpa = match table.get(&SEV_HASH_TABLE_RV_GUID) {
            None => None,
            Some(d) => Some(read_u32(d, 0).ok_or(MeasureError::TableEntryTooShort {
                what: "SEV hashes table",
                len: d.len(),
                need: 4,
            })?),
        };
        let sections = match table.get(&SEV_METADATA_GUID) {
            None => Vec::new(),
            Some(d) => {
                let off = read_u32(d, 0).ok_or(MeasureError::TableEntryTooShort {
                    what: "SEV metadata offset",
                    len: d.len(),
                    need: 4,
                })?;
                parse_sev_metadata(image, off)?
            }
        };
        Ok(Self {
            sections,
            ap_reset_eip,
            hashes_table_gpa,
        })
    }

    fn has(&self, kind: SevSectionType) -> bool {
        self.sections.iter().any(|s| s.kind == kind)
    }
}

const META: &str = "SEV metadata";

/// The "ASEV" block: signature, u32 length (header and sections), u32
/// version (1), u32 section count; then (u32 gpa, u32 size, u32 type) each.
fn parse_sev_metadata(image: &[u8], off: u32) -> Result<Vec<SevSection>, MeasureError> {
    let (count, body, too_many) = metadata_block(image, off, META, *b"ASEV")?;
    // A count that does not fit in usize cannot fit in the block either.
    let count = usize::try_from(count).map_err(|_| too_many.clone())?;
    let mut sections = Vec::new();
    for i in 0..count {
        let at = i * 12;
        let (gpa, size, ty) = match (
            read_u32(body, at),
            read_u32(body, at + 4),
            read_u32(body, at + 8),
        ) {
            (Some(g), Some(s), Some(t)) => (g, s, t),
            _ => return Err(too_many),
        };
        let kind = match ty {
            1 => SevSectionType::SecMemory,
            2 => SevSectionType::Secrets,
            3 => SevSectionType::Cpuid,
            4 => SevSectionType::SvsmCaa,
            0x10 => SevSectionType::KernelHashes,
            other => {
                return Err(MeasureError::UnknownSevSectionType {
                    index: i,
                    section_type: other,
                })
            }
        };
        sections.push(SevSection { gpa, size, kind });
    }
    let pages = sections.iter().fold(0u64, |n, s| {
        n.saturating_add(u64::from(s.size).div_ceil(PAGE_U64).max(1))
    });
    if pages > crate::MAX_METADATA_PAGES {
        return Err(MeasureError::TooManyPages {
            what: META,
            pages,
            limit: crate::MAX_METADATA_PAGES,
        });
    }
    Ok(sections)
}

/// Everything that determines an SNP launch digest.
#[derive(Clone, Debug)]
pub struct SnpInput<'a> {
    /// The OVMF image (e.g. OVMF.fd, as passed to QEMU's `-bios`).
    pub ovmf: &'a [u8],
    /// Number of vCPUs (at least 1).
    pub vcpus: u32,
    /// CPUID signature of the vCPUs (required for QEMU; see [`vcpu_type_sig`]).
    pub vcpu_sig: Option<u32>,
    /// The VMM.
    pub vmm: VmmType,
    /// SEV_FEATURES of the VMSAs (sev-snp-measure's `--guest-features`, 0x1
    /// = SNPActive by default).
    pub guest_features: u64,
    /// Kernel, initrd and command line for measured direct boot.
    pub kernel: Option<KernelHashesInput<'a>>,
    /// A precomputed digest of the firmware pages ([`snp_ovmf_hash`]); the
    /// image is then only parsed for its metadata, not hashed.
    pub ovmf_hash: Option<[u8; 48]>,
}

/// The digest of the firmware pages alone (`sev-snp-measure --mode
/// snp:ovmf-hash`), usable as [`SnpInput::ovmf_hash`].
pub fn snp_ovmf_hash(ovmf: &[u8]) -> Result<[u8; 48], MeasureError> {
    let mut ld = LaunchDigest::new([0u8; 48]);
    firmware_pages(&mut ld, ovmf)?;
    Ok(ld.value())
}

/// The firmware image as NORMAL pages, ending at 4 GiB.
fn firmware_pages(ld: &mut LaunchDigest, ovmf: &[u8]) -> Result<(), MeasureError> {
    const FOUR_GIB: u64 = 1 << 32;
    // Saturates on a (hypothetical) length beyond u64, refused as > 4 GiB.
    let len = u64::try_from(ovmf.len()).unwrap_or(u64::MAX);
    if ovmf.is_empty() || !ovmf.len().is_multiple_of(PAGE) || len > FOUR_GIB {
        return Err(MeasureError::FirmwareSize { len: ovmf.len() });
    }
    ld.normal_pages(FOUR_GIB - len, ovmf);
    Ok(())
}

/// The SEV-SNP launch digest (MEASUREMENT) of this launch.
pub fn snp_launch_digest(input: &SnpInput<'_>) -> Result<[u8; 48], MeasureError> {
    if input.vcpus == 0 {
        return Err(MeasureError::NoVcpus);
    }
    let vcpu_sig = match (input.vcpu_sig, input.vmm) {
        (Some(s), _) => s,
        (None, VmmType::Qemu) => return Err(MeasureError::VcpuSigRequired),
        // EC2 and GCE put a fixed 0x600 in RDX; the signature is unused.
        (None, _) => 0,
    };
    let fw = SevFirmware::parse(input.ovmf)?;
    if input.kernel.is_some() && !fw.has(SevSectionType::KernelHashes) {
        return Err(MeasureError::KernelHashesUnsupported);
    }
    if input.vcpus > 1 && fw.ap_reset_eip == 0 {
        return Err(MeasureError::NoApResetAddress);
    }

    let mut ld = match input.ovmf_hash {
        Some(seed) => LaunchDigest::new(seed),
        None => {
            let mut ld = LaunchDigest::new([0u8; 48]);
            firmware_pages(&mut ld, input.ovmf)?;
            ld
        }
    };

    for (index, s) in fw.sections.iter().enumerate() {
        let gpa = u64::from(s.gpa);
        let whole_pages = || {
            if u64::from(s.size) % PAGE_U64 == 0 {
                Ok(u64::from(s.size))
            } else {
                Err(MeasureError::SevSectionSize {
                    index,
                    gpa: s.gpa,
                    size: s.size,
                })
            }
        };
        match s.kind {
            SevSectionType::SecMemory => {
                let ty = if input.vmm == VmmType::Gce {
                    PageType::Unmeasured
                } else {
                    PageType::Zero
                };
                ld.empty_pages(ty, gpa, whole_pages()?);
            }
            // One page each, whatever the declared size.
            SevSectionType::Secrets => ld.empty_pages(PageType::Secrets, gpa, PAGE_U64),
            SevSectionType::Cpuid => {
                if input.vmm != VmmType::Ec2 {
                    ld.empty_pages(PageType::Cpuid, gpa, PAGE_U64);
                }
            }
            SevSectionType::KernelHashes => match &input.kernel {
                Some(k) => ld.normal_pages(gpa, &hashes_page(&fw, k, s.size)?),
                None => ld.empty_pages(PageType::Zero, gpa, whole_pages()?),
            },
            SevSectionType::SvsmCaa => ld.empty_pages(PageType::Zero, gpa, whole_pages()?),
        }
    }
    // EC2 adds the CPUID page(s) after all other metadata pages.
    if input.vmm == VmmType::Ec2 {
        for s in fw
            .sections
            .iter()
            .filter(|s| s.kind == SevSectionType::Cpuid)
        {
            ld.empty_pages(PageType::Cpuid, u64::from(s.gpa), PAGE_U64);
        }
    }

    let bsp = vmsa::save_area(vmsa::BSP_EIP, input.guest_features, vcpu_sig, input.vmm);
    ld.vmsa_page(&bsp);
    if input.vcpus > 1 {
        let ap = vmsa::save_area(fw.ap_reset_eip, input.guest_features, vcpu_sig, input.vmm);
        for _ in 1..input.vcpus {
            ld.vmsa_page(&ap);
        }
    }
    Ok(ld.value())
}

/// The SNP_KERNEL_HASHES page: zeros, with the hashes table at the page
/// offset of the GPA the firmware declares for it.
fn hashes_page(
    fw: &SevFirmware,
    k: &KernelHashesInput<'_>,
    size: u32,
) -> Result<Vec<u8>, MeasureError> {
    let table_gpa = fw.hashes_table_gpa.ok_or(MeasureError::TableEntryMissing {
        what: "SEV hashes table",
        guid: "7255371f-3a3b-4b04-927b-1da6efa8d454",
    })?;
    if u64::from(size) != PAGE_U64 {
        return Err(MeasureError::KernelHashesSectionSize { size });
    }
    let offset = table_gpa & 0xfff;
    let at =
        usize::try_from(offset).map_err(|_| MeasureError::HashesTableCrossesPage { offset })?;
    let mut page = vec![0u8; PAGE];
    let dst = page
        .get_mut(at..at + hashes::PADDED_LEN)
        .ok_or(MeasureError::HashesTableCrossesPage { offset })?;
    dst.copy_from_slice(&k.table());
    Ok(page)
}
