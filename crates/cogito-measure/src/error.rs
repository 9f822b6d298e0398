//! The one error type of this crate.

use cogito_core::{CogitoError, ErrorClass};

/// Why a measurement could not be computed.
///
/// Every variant names what is wrong with which input; none of them is a
/// bug in the caller's use of the API except where said so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MeasureError {
    /// The firmware image is empty, not a whole number of 4 KiB pages, or
    /// larger than the 4 GiB it is mapped below.
    #[error(
        "firmware image: {len} bytes is not a whole number of 4 KiB pages between 4 KiB and 4 GiB"
    )]
    FirmwareSize {
        /// The image length in bytes.
        len: usize,
    },
    /// The OVMF GUIDed footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d,
    /// 32 bytes before the end of the image) is not there.
    #[error("firmware image: no OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d 32 bytes before the end)")]
    FooterTableMissing,
    /// The footer table's declared length runs outside the image.
    #[error("firmware image: OVMF footer table length {len} runs outside the image")]
    FooterTableOutOfRange {
        /// The declared table length, footer entry included.
        len: usize,
    },
    /// An entry of the footer table has a length shorter than its own
    /// 18-byte header or longer than what is left of the table.
    #[error("firmware image: OVMF footer table entry {guid} has invalid length {len}")]
    FooterEntryInvalid {
        /// The entry's GUID.
        guid: String,
        /// Its declared length.
        len: usize,
    },
    /// The same GUID occurs twice in the footer table (ambiguous; refused).
    #[error("firmware image: OVMF footer table entry {guid} occurs twice")]
    FooterEntryDuplicate {
        /// The GUID.
        guid: String,
    },
    /// A footer table entry that this measurement needs is missing.
    #[error("firmware image: no {what} entry ({guid}) in the OVMF footer table")]
    TableEntryMissing {
        /// What the entry is.
        what: &'static str,
        /// Its GUID.
        guid: &'static str,
    },
    /// A footer table entry is too short for the value it must hold.
    #[error("firmware image: {what} entry is {len} bytes, needs at least {need}")]
    TableEntryTooShort {
        /// What the entry is.
        what: &'static str,
        /// Its data length.
        len: usize,
        /// The length needed.
        need: usize,
    },
    /// A metadata block (SEV "ASEV" or TDX "TDVF") lies outside the image.
    #[error("firmware image: {what} at offset-from-end {offset_from_end} lies outside the image")]
    MetadataOutOfRange {
        /// Which metadata.
        what: &'static str,
        /// The offset from the end of the image given by the footer table.
        offset_from_end: u64,
    },
    /// A metadata block has the wrong signature.
    #[error("firmware image: {what} signature is {found:?}, expected {expected:?}")]
    MetadataSignature {
        /// Which metadata.
        what: &'static str,
        /// The four bytes found.
        found: [u8; 4],
        /// The four bytes expected.
        expected: [u8; 4],
    },
    /// A metadata block has a version this crate does not know.
    #[error("firmware image: {what} version {version} is not supported (only 1)")]
    MetadataVersion {
        /// Which metadata.
        what: &'static str,
        /// The version found.
        version: u32,
    },
    /// The metadata's section descriptors do not fit in its declared length
    /// or in the image.
    #[error("firmware image: {what} declares {count} sections that do not fit in {len} bytes")]
    MetadataSectionsOutOfRange {
        /// Which metadata.
        what: &'static str,
        /// The declared number of sections.
        count: u32,
        /// The room available for them.
        len: u64,
    },
    /// An SEV metadata section has a type this crate does not know.
    #[error("firmware image: SEV metadata section {index} has unknown type {section_type:#x}")]
    UnknownSevSectionType {
        /// The section's index.
        index: usize,
        /// Its type.
        section_type: u32,
    },
    /// An SEV metadata section's size is not a whole number of pages.
    #[error("firmware image: SEV metadata section {index} (gpa {gpa:#x}) size {size:#x} is not a whole number of 4 KiB pages")]
    SevSectionSize {
        /// The section's index.
        index: usize,
        /// Its guest-physical address.
        gpa: u32,
        /// Its size.
        size: u32,
    },
    /// The metadata asks for more pages than any real firmware does (a
    /// sanity limit, [`crate::MAX_METADATA_PAGES`], so that a hostile image
    /// cannot make the calculation run for hours).
    #[error("firmware image: {what} declares {pages} pages, more than the limit of {limit}")]
    TooManyPages {
        /// Which metadata.
        what: &'static str,
        /// Pages declared.
        pages: u64,
        /// The limit.
        limit: u64,
    },
    /// A kernel was given, but the firmware has no SNP_KERNEL_HASHES section.
    #[error("a kernel was given but the firmware's SEV metadata has no SNP_KERNEL_HASHES section (not built for measured direct boot)")]
    KernelHashesUnsupported,
    /// The SEV hashes table (168 bytes, padded to 176) would cross the end of
    /// its page at the offset the firmware gives.
    #[error("firmware image: SEV hashes table at page offset {offset:#x} does not fit in the 4 KiB SNP_KERNEL_HASHES page")]
    HashesTableCrossesPage {
        /// The table's offset within its page.
        offset: u32,
    },
    /// The SNP_KERNEL_HASHES section is not exactly one page when a kernel is given.
    #[error("firmware image: SNP_KERNEL_HASHES section is {size:#x} bytes; a kernel hashes table needs exactly one 4 KiB page")]
    KernelHashesSectionSize {
        /// The section's size.
        size: u32,
    },
    /// More than one vCPU, but the firmware's AP reset address is 0.
    #[error("firmware image: the SEV-ES reset block gives AP reset address 0, so only 1 vCPU can be measured")]
    NoApResetAddress,
    /// The number of vCPUs is 0.
    #[error("the number of vCPUs must be at least 1")]
    NoVcpus,
    /// QEMU puts the CPUID signature into the VMSA; it must be given.
    #[error("the vCPU signature (a vCPU type, a signature, or family, model and stepping) is required for VMM type QEMU")]
    VcpuSigRequired,
    /// An input value is malformed (names the input and why).
    #[error("{input}: {reason}")]
    InvalidOption {
        /// The input, as the input structs name it (`vmm_type`, `initrd`, …).
        input: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A TDVF metadata section is inconsistent.
    #[error("firmware image: TDVF section {index}: {reason}")]
    TdvfSection {
        /// The section's index.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The kernel is not a PE/COFF image that can be Authenticode-hashed.
    #[error("kernel: not a valid PE/COFF image: {reason}")]
    KernelNotPe {
        /// What is wrong.
        reason: &'static str,
    },
}

impl CogitoError for MeasureError {
    fn code(&self) -> &'static str {
        match self {
            Self::FirmwareSize { .. } => "measure.firmware.size",
            Self::FooterTableMissing => "measure.firmware.footer_missing",
            Self::FooterTableOutOfRange { .. } => "measure.firmware.footer_out_of_range",
            Self::FooterEntryInvalid { .. } => "measure.firmware.footer_entry_invalid",
            Self::FooterEntryDuplicate { .. } => "measure.firmware.footer_entry_duplicate",
            Self::TableEntryMissing { .. } => "measure.firmware.table_entry_missing",
            Self::TableEntryTooShort { .. } => "measure.firmware.table_entry_short",
            Self::MetadataOutOfRange { .. } => "measure.firmware.metadata_out_of_range",
            Self::MetadataSignature { .. } => "measure.firmware.metadata_signature",
            Self::MetadataVersion { .. } => "measure.firmware.metadata_version",
            Self::MetadataSectionsOutOfRange { .. } => "measure.firmware.metadata_sections",
            Self::UnknownSevSectionType { .. } => "measure.firmware.sev_section_type",
            Self::SevSectionSize { .. } => "measure.firmware.sev_section_size",
            Self::TooManyPages { .. } => "measure.firmware.too_many_pages",
            Self::KernelHashesUnsupported => "measure.snp.kernel_hashes_unsupported",
            Self::HashesTableCrossesPage { .. } => "measure.firmware.hashes_table_offset",
            Self::KernelHashesSectionSize { .. } => "measure.firmware.kernel_hashes_size",
            Self::NoApResetAddress => "measure.firmware.no_ap_reset",
            Self::NoVcpus => "measure.snp.no_vcpus",
            Self::VcpuSigRequired => "measure.snp.vcpu_sig_required",
            Self::InvalidOption { .. } => "measure.option.invalid",
            Self::TdvfSection { .. } => "measure.firmware.tdvf_section",
            Self::KernelNotPe { .. } => "measure.kernel.not_pe",
        }
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
}
