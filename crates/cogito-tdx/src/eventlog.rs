//! The CC event log (CCEL) of an Intel TDX guest, and RTMR replay.
//!
//! Two inputs, both untrusted:
//!
//! - the **CCEL ACPI table** (ACPI 6.5 §5.2.34 "CC Event Log ACPI Table"),
//!   which says where the firmware put the log ([`parse_ccel_table`]);
//! - the **log area** itself, a TCG2 crypto-agile event log (TCG PC Client
//!   Platform Firmware Profile (PFP) §10.2 "Crypto Agile Log Entry Format"):
//!   one SHA-1-format `TCG_PCR_EVENT` carrying the "Spec ID Event03"
//!   header, then `TCG_PCR_EVENT2` entries ([`parse_event_log`]).
//!
//! # MR index
//!
//! In a CC event log the `pcrIndex` field holds the CC measurement register
//! index (UEFI 2.10 §38.4 `EFI_CC_EVENT.MrIndex`; TDX Virtual Firmware
//! design guide §4.3.4): 0 = MRTD, 1 = RTMR0, 2 = RTMR1, 3 = RTMR2,
//! 4 = RTMR3. The real logs under `shared/vectors` replay to the quoted
//! RTMRs with exactly this mapping.
//!
//! # Replay
//!
//! Every RTMR starts as 48 zero bytes; an event measured into RTMR *i*
//! extends it: `RTMR[i] = SHA-384(RTMR[i] ‖ digest)` with the event's
//! SHA-384 digest (TPM_ALG_SHA384, 0x000C). `EV_NO_ACTION` events are never
//! extended (PFP §10.4.1), and events for MR index 0 (MRTD, measured by the
//! TDX module at build time) are listed but not replayed.
//!
//! The replay proves only the *digests*. The event data is descriptive
//! unless [`Event::data_measured`] says the digest is the hash of that data;
//! a policy that reads the data (a kernel command line, a variable) must
//! insist on it.
//!
//! # Where the log ends
//!
//! The log area has a fixed size (LAML); after the last entry the firmware
//! leaves it erased. Reading an entry at offset `o`, the log ends there
//! ([`EventLog::end_offset`] = `o`) when:
//!
//! 1. no bytes are left ([`LogEnd::EndOfInput`]);
//! 2. its first 8 bytes (`pcrIndex ‖ eventType`), or all that is left if
//!    fewer, are all `0xFF` or all `0x00` ([`LogEnd::Padding`]): erased
//!    flash / TDVF's 0xFF fill, or a zeroed buffer;
//! 3. its fixed header cannot start an entry: the MR index is above 4, or
//!    the digest count is 0 or more than the Spec ID event declares
//!    ([`LogEnd::InvalidHeader`]).
//!
//! An entry whose header is plausible is parsed strictly: running out of
//! bytes inside it, a digest algorithm the Spec ID event does not declare,
//! or no SHA-384 digest is an error, not an end. Nothing after the end is
//! read; since the replayed RTMRs must still equal the quoted ones, a log
//! cut short fails that comparison rather than passing unnoticed.

use aws_lc_rs::digest;
use cogito_core::hexser::Hex;
use cogito_core::{CogitoError, ErrorClass, Reader, ReaderError};
use serde::Serialize;

/// TPM_ALG_SHA384 (TCG Algorithm Registry), the algorithm RTMRs use.
pub const TPM_ALG_SHA384: u16 = 0x000C;
/// `EV_NO_ACTION` (PFP §10.4.1): logged, never extended.
pub const EV_NO_ACTION: u32 = 0x0000_0003;
/// CCEL `CC Type` of Intel TDX (ACPI 6.5 §5.2.34).
pub const CC_TYPE_TDX: u8 = 2;

/// Signature of `TCG_EfiSpecIDEvent` (PFP §10.4.5.1).
const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";
/// Size of the CCEL table, revision 1 (ACPI 6.5 §5.2.34, Table 5.xx).
const CCEL_LEN: usize = 56;
/// Highest CC MR index of TDX (RTMR3).
const MAX_MR_INDEX: u32 = 4;
/// Register names by MR index.
const MR_NAMES: [&str; 5] = ["MRTD", "RTMR0", "RTMR1", "RTMR2", "RTMR3"];

/// A failure to parse the CCEL table or the event log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventLogError {
    /// The log ended inside a field.
    #[error("CC event log truncated in {field} at offset {offset:#x}: needs {needed} bytes, {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Its offset in the log.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The first event is not a valid Spec ID Event03 header.
    #[error("CC event log: Spec ID event field {field} at offset {offset:#x}: {reason}")]
    BadSpecId {
        /// The field.
        field: &'static str,
        /// Its offset in the log.
        offset: usize,
        /// What was expected and what was found.
        reason: String,
    },
    /// An entry after the header is malformed.
    #[error("CC event log: event {index}, field {field} at offset {offset:#x}: {reason}")]
    BadEvent {
        /// The event's sequence number (the Spec ID header is 0).
        index: usize,
        /// The field.
        field: &'static str,
        /// Its offset in the log.
        offset: usize,
        /// What was expected and what was found.
        reason: String,
    },
    /// The CCEL table ended inside a field.
    #[error("CCEL table truncated in {field} at offset {offset:#x}: needs {needed} bytes, {available} left")]
    CcelTruncated {
        /// The field being read.
        field: &'static str,
        /// Its offset.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// The table's signature is not "CCEL".
    #[error("CCEL table: Signature at offset 0x0 is {found:?}, expected \"CCEL\"")]
    CcelBadSignature {
        /// The four bytes found, lower-case hex.
        found: String,
    },
    /// The Length field disagrees with the input or with revision 1.
    #[error("CCEL table: Length at offset 0x4 is {declared}, the input has {actual} bytes; revision 1 is 56 bytes")]
    CcelBadLength {
        /// The Length field.
        declared: u32,
        /// Bytes supplied.
        actual: usize,
    },
    /// The bytes do not sum to zero.
    #[error("CCEL table: checksum fails: the {len} bytes sum to {sum:#04x} mod 256, expected 0 (Checksum at offset 0x9 is {checksum:#04x})")]
    CcelBadChecksum {
        /// Table length.
        len: usize,
        /// The sum of all bytes mod 256.
        sum: u8,
        /// The Checksum field.
        checksum: u8,
    },
    /// A revision other than 1.
    #[error("CCEL table: Revision at offset 0x8 is {found}; only revision 1 is defined")]
    CcelUnsupportedRevision {
        /// The revision found.
        found: u8,
    },
    /// CC Type is not Intel TDX.
    #[error("CCEL table: CC Type at offset 0x24 is {found}, expected 2 (Intel TDX)")]
    CcelNotTdx {
        /// The CC type found.
        found: u8,
    },
    /// The reserved field is not zero.
    #[error("CCEL table: Reserved field has a non-zero byte at offset {offset:#x}")]
    CcelReservedNotZero {
        /// Offset of the first non-zero byte.
        offset: usize,
    },
}

impl CogitoError for EventLogError {
    fn code(&self) -> &'static str {
        match self {
            EventLogError::Truncated { .. } => "tdx.eventlog.truncated",
            EventLogError::BadSpecId { .. } => "tdx.eventlog.bad_spec_id",
            EventLogError::BadEvent { .. } => "tdx.eventlog.bad_event",
            EventLogError::CcelTruncated { .. } => "tdx.ccel.truncated",
            EventLogError::CcelBadSignature { .. } => "tdx.ccel.bad_signature",
            EventLogError::CcelBadLength { .. } => "tdx.ccel.bad_length",
            EventLogError::CcelBadChecksum { .. } => "tdx.ccel.bad_checksum",
            EventLogError::CcelUnsupportedRevision { .. } => "tdx.ccel.unsupported_revision",
            EventLogError::CcelNotTdx { .. } => "tdx.ccel.not_tdx",
            EventLogError::CcelReservedNotZero { .. } => "tdx.ccel.reserved_not_zero",
        }
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
}

/// A reader error inside the log, `base` bytes into it.
fn log_err(e: ReaderError, base: usize) -> EventLogError {
    match e {
        ReaderError::Truncated {
            field,
            offset,
            needed,
            available,
        } => EventLogError::Truncated {
            field,
            offset: base + offset,
            needed,
            available,
        },
        // The log reader never asks for zeros or calls finish on the log.
        ReaderError::TrailingData { offset, len } => EventLogError::BadSpecId {
            field: "TCG_PCR_EVENT.eventSize",
            offset: base + offset,
            reason: format!("{len} bytes follow vendorInfo inside the event"),
        },
        ReaderError::NotZero { field, offset } => EventLogError::BadSpecId {
            field,
            offset: base + offset,
            reason: "must be zero".into(),
        },
    }
}

fn ccel_err(e: ReaderError) -> EventLogError {
    match e {
        ReaderError::Truncated {
            field,
            offset,
            needed,
            available,
        } => EventLogError::CcelTruncated {
            field,
            offset,
            needed,
            available,
        },
        ReaderError::NotZero { offset, .. } => EventLogError::CcelReservedNotZero { offset },
        // Length was checked against the input before any field is read.
        ReaderError::TrailingData { offset, len } => EventLogError::CcelBadLength {
            declared: u32::try_from(offset).unwrap_or(u32::MAX),
            actual: offset.saturating_add(len),
        },
    }
}

// ---------------------------------------------------------------------------
// CCEL ACPI table
// ---------------------------------------------------------------------------

/// The CCEL ACPI table (ACPI 6.5 §5.2.34), revision 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CcelTable {
    /// Length of the table in bytes (56).
    pub length: u32,
    /// Table revision (1).
    pub revision: u8,
    /// The checksum byte (verified: all bytes sum to 0 mod 256).
    pub checksum: u8,
    /// OEMID (6 ASCII characters; non-printable bytes shown as `.`).
    pub oem_id: String,
    /// OEM Table ID (8 ASCII characters).
    pub oem_table_id: String,
    /// OEM Revision.
    pub oem_revision: u32,
    /// Creator ID (4 ASCII characters).
    pub creator_id: String,
    /// Creator Revision.
    pub creator_revision: u32,
    /// CC Type (2 = Intel TDX).
    pub cc_type: u8,
    /// CC Subtype.
    pub cc_subtype: u8,
    /// Log Area Minimum Length: the size of the log area in bytes.
    pub laml: u64,
    /// Log Area Start Address (a guest-physical address).
    pub lasa: u64,
}

/// An ACPI character field as text.
fn acpi_chars(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

/// Parses and checks the CCEL ACPI table: signature "CCEL", Length equal
/// to the input and to the 56 bytes of revision 1, the checksum, revision
/// 1, CC Type 2 (TDX) and a zero Reserved field.
pub fn parse_ccel_table(bytes: &[u8]) -> Result<CcelTable, EventLogError> {
    let mut r = Reader::new(bytes);
    // ACPI 6.5 §5.2.6 System Description Table Header.
    let signature: [u8; 4] = r.array("Signature").map_err(ccel_err)?;
    if &signature != b"CCEL" {
        return Err(EventLogError::CcelBadSignature {
            found: hex::encode(signature),
        });
    }
    let length = r.u32_le("Length").map_err(ccel_err)?;
    if usize::try_from(length).ok() != Some(bytes.len()) || bytes.len() != CCEL_LEN {
        return Err(EventLogError::CcelBadLength {
            declared: length,
            actual: bytes.len(),
        });
    }
    let revision = r.u8("Revision").map_err(ccel_err)?;
    let checksum = r.u8("Checksum").map_err(ccel_err)?;
    let sum = bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    if sum != 0 {
        return Err(EventLogError::CcelBadChecksum {
            len: bytes.len(),
            sum,
            checksum,
        });
    }
    if revision != 1 {
        return Err(EventLogError::CcelUnsupportedRevision { found: revision });
    }
    let oem_id = acpi_chars(r.bytes("OEMID", 6).map_err(ccel_err)?);
    let oem_table_id = acpi_chars(r.bytes("OEM Table ID", 8).map_err(ccel_err)?);
    let oem_revision = r.u32_le("OEM Revision").map_err(ccel_err)?;
    let creator_id = acpi_chars(r.bytes("Creator ID", 4).map_err(ccel_err)?);
    let creator_revision = r.u32_le("Creator Revision").map_err(ccel_err)?;
    // ACPI 6.5 §5.2.34: CC Type, CC Subtype, Reserved, LAML, LASA.
    let cc_type = r.u8("CC Type").map_err(ccel_err)?;
    if cc_type != CC_TYPE_TDX {
        return Err(EventLogError::CcelNotTdx { found: cc_type });
    }
    let cc_subtype = r.u8("CC Subtype").map_err(ccel_err)?;
    r.zeros("Reserved", 2).map_err(ccel_err)?;
    let laml = r.u64_le("LAML").map_err(ccel_err)?;
    let lasa = r.u64_le("LASA").map_err(ccel_err)?;
    r.finish().map_err(ccel_err)?;
    Ok(CcelTable {
        length,
        revision,
        checksum,
        oem_id,
        oem_table_id,
        oem_revision,
        creator_id,
        creator_revision,
        cc_type,
        cc_subtype,
        laml,
        lasa,
    })
}

// ---------------------------------------------------------------------------
// Event log types
// ---------------------------------------------------------------------------

/// One `(algorithmId, digestSize)` of the Spec ID event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecIdAlgorithm {
    /// TPM_ALG_ID.
    pub alg_id: u16,
    /// Its name, for the algorithms cogito knows.
    pub alg_name: Option<&'static str>,
    /// Digest size in bytes, as declared.
    pub digest_size: u16,
}

/// The Spec ID Event03 header (`TCG_EfiSpecIDEvent`, PFP §10.4.5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecId {
    /// `pcrIndex` of the header event (TDVF writes 1; it is not replayed).
    pub header_mr_index: u32,
    /// `platformClass` (0 = client, 1 = server).
    pub platform_class: u32,
    /// `specVersionMajor` (2).
    pub spec_version_major: u8,
    /// `specVersionMinor` (0).
    pub spec_version_minor: u8,
    /// `specErrata`.
    pub spec_errata: u8,
    /// `uintnSize`: 1 = UINTN is 32 bits, 2 = 64 bits.
    pub uintn_size: u8,
    /// The digest algorithms every event carries.
    pub algorithms: Vec<SpecIdAlgorithm>,
    /// `vendorInfo`.
    pub vendor_info: Hex,
}

impl SpecId {
    /// Bytes of a UEFI `UINTN` in this log's event data.
    fn uintn_bytes(&self) -> usize {
        if self.uintn_size == 1 {
            4
        } else {
            8
        }
    }
}

/// One digest of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventDigest {
    /// TPM_ALG_ID.
    pub alg_id: u16,
    /// Its name, for the algorithms cogito knows.
    pub alg_name: Option<&'static str>,
    /// The digest.
    pub digest: Hex,
}

/// How decoded text was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// UTF-8 (ASCII), trailing NULs removed.
    Utf8,
    /// UTF-16LE (UEFI CHAR16), trailing NULs removed.
    Utf16le,
}

/// Event data that is printable text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodedText {
    /// The encoding found.
    pub encoding: TextEncoding,
    /// The text.
    pub text: String,
}

/// A readable form of an event's data, where cogito knows the layout.
/// Informational: the raw [`Event::data`] is what was logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecodedEvent {
    /// Printable text: EV_IPL (GRUB commands, kernel command line),
    /// EV_EFI_ACTION, EV_ACTION, EV_PLATFORM_CONFIG_FLAGS, …
    Text(DecodedText),
    /// EV_EVENT_TAG: `TCG_PCClientTaggedEvent` (PFP §10.4.2.1).
    Tagged {
        /// `taggedEventID`.
        tag_id: u32,
        /// `taggedEventData` when it is printable text.
        text: Option<DecodedText>,
    },
    /// EV_EFI_VARIABLE_*: `UEFI_VARIABLE_DATA` (PFP §10.4.4).
    Variable {
        /// `VariableName`, the vendor GUID.
        guid: String,
        /// `UnicodeName`.
        name: String,
        /// `VariableDataLength`.
        data_len: u64,
    },
    /// EV_EFI_BOOT_SERVICES_APPLICATION / _DRIVER, EV_EFI_RUNTIME_SERVICES_DRIVER:
    /// `UEFI_IMAGE_LOAD_EVENT` (PFP §10.4.3).
    ImageLoad {
        /// `ImageLocationInMemory`.
        location: u64,
        /// `ImageLengthInMemory`.
        length: u64,
        /// `ImageLinkTimeAddress`.
        link_time_address: u64,
        /// `LengthOfDevicePath`.
        device_path_len: u64,
        /// The media file path nodes of the device path, joined.
        file_path: Option<String>,
    },
    /// EV_EFI_PLATFORM_FIRMWARE_BLOB(2): `UEFI_PLATFORM_FIRMWARE_BLOB(2)`
    /// (PFP §10.4.6).
    FirmwareBlob {
        /// `BlobDescription` (BLOB2 only).
        description: Option<String>,
        /// `BlobBase`.
        base: u64,
        /// `BlobLength`.
        length: u64,
    },
    /// EV_EFI_HANDOFF_TABLES2: `UEFI_HANDOFF_TABLE_POINTERS2` (PFP §10.4.7).
    HandoffTables {
        /// `TableDescription`.
        description: Option<String>,
        /// `NumberOfTables`.
        table_count: u64,
    },
}

/// One `TCG_PCR_EVENT2` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Sequence number in the log; the Spec ID header is 0, so
    /// `events[i].index == i + 1`.
    pub index: usize,
    /// Offset of the entry in the log.
    pub offset: usize,
    /// The CC MR index (`pcrIndex`): 0 = MRTD, 1..=4 = RTMR0..3.
    pub mr_index: u32,
    /// The register's name: "MRTD", "RTMR0" … "RTMR3".
    pub register: &'static str,
    /// The RTMR (0..=3) for MR index 1..=4; `None` for MRTD.
    pub rtmr: Option<u8>,
    /// `eventType`.
    pub event_type: u32,
    /// Its name (PFP §10.4.1) when known.
    pub event_type_name: Option<&'static str>,
    /// The digests, in log order.
    pub digests: Vec<EventDigest>,
    /// The event data.
    pub data: Hex,
    /// Whether the SHA-384 digest is the hash of the event data (or, for
    /// GRUB's `grub_cmd: ` / `kernel_cmdline: ` EV_IPL strings, of the text
    /// after that prefix): then the data itself is bound by the RTMR.
    pub data_measured: bool,
    /// A readable form of the data, where the layout is known.
    pub decoded: Option<DecodedEvent>,
}

impl Event {
    /// The SHA-384 digest, if the event carries one.
    pub fn sha384(&self) -> Option<[u8; 48]> {
        self.digests
            .iter()
            .find(|d| d.alg_id == TPM_ALG_SHA384)
            .and_then(|d| <[u8; 48]>::try_from(d.digest.as_ref()).ok())
    }

    /// The RTMR (0..=3) this event extends: MR index 1..=4, not
    /// EV_NO_ACTION, and a SHA-384 digest present.
    pub fn extends_rtmr(&self) -> Option<usize> {
        if self.event_type == EV_NO_ACTION {
            return None;
        }
        let rtmr = rtmr_of_mr_index(self.mr_index)?;
        self.sha384().map(|_| rtmr)
    }
}

/// Why the parser stopped reading entries (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogEnd {
    /// The input ended right after an entry.
    EndOfInput,
    /// The next bytes are padding (all `byte`).
    Padding {
        /// 0xFF or 0x00.
        byte: u8,
    },
    /// The next header cannot start an entry.
    InvalidHeader {
        /// What is wrong with it.
        reason: String,
    },
}

/// A parsed CC event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventLog {
    /// The Spec ID Event03 header.
    pub spec_id: SpecId,
    /// The `TCG_PCR_EVENT2` entries, in order.
    pub events: Vec<Event>,
    /// Offset of the first byte after the last entry.
    pub end_offset: usize,
    /// Why parsing stopped there.
    pub end: LogEnd,
}

impl EventLog {
    /// Replays the log into RTMR0..3.
    pub fn replay(&self) -> [[u8; 48]; 4] {
        let mut rtmrs = [[0u8; 48]; 4];
        for event in &self.events {
            let (Some(i), Some(d)) = (event.extends_rtmr(), event.sha384()) else {
                continue;
            };
            if let Some(rtmr) = rtmrs.get_mut(i) {
                let mut ctx = digest::Context::new(&digest::SHA384);
                ctx.update(rtmr.as_slice());
                ctx.update(&d);
                rtmr.copy_from_slice(ctx.finish().as_ref());
            }
        }
        rtmrs
    }

    /// How many events the replay extends into each RTMR.
    pub fn events_per_rtmr(&self) -> [usize; 4] {
        let mut counts = [0usize; 4];
        for i in self.events.iter().filter_map(Event::extends_rtmr) {
            if let Some(c) = counts.get_mut(i) {
                *c += 1;
            }
        }
        counts
    }
}

/// Which replayed RTMRs equal the quoted ones.
pub fn compare_rtmrs(replayed: &[[u8; 48]; 4], quoted: &[[u8; 48]; 4]) -> [bool; 4] {
    let mut out = [false; 4];
    for (o, (r, q)) in out.iter_mut().zip(replayed.iter().zip(quoted)) {
        *o = r == q;
    }
    out
}

/// The RTMR (0..=3) of a CC MR index: 1..=4 → RTMR0..3; 0 (MRTD) and
/// anything else → `None`.
pub fn rtmr_of_mr_index(mr_index: u32) -> Option<usize> {
    match mr_index {
        1..=MAX_MR_INDEX => usize::try_from(mr_index - 1).ok(),
        _ => None,
    }
}

/// The name of an event type (PFP §10.4.1, Table 9 and 10).
pub fn event_type_name(event_type: u32) -> Option<&'static str> {
    Some(match event_type {
        0x0000_0000 => "EV_PREBOOT_CERT",
        0x0000_0001 => "EV_POST_CODE",
        0x0000_0002 => "EV_UNUSED",
        0x0000_0003 => "EV_NO_ACTION",
        0x0000_0004 => "EV_SEPARATOR",
        0x0000_0005 => "EV_ACTION",
        0x0000_0006 => "EV_EVENT_TAG",
        0x0000_0007 => "EV_S_CRTM_CONTENTS",
        0x0000_0008 => "EV_S_CRTM_VERSION",
        0x0000_0009 => "EV_CPU_MICROCODE",
        0x0000_000A => "EV_PLATFORM_CONFIG_FLAGS",
        0x0000_000B => "EV_TABLE_OF_DEVICES",
        0x0000_000C => "EV_COMPACT_HASH",
        0x0000_000D => "EV_IPL",
        0x0000_000E => "EV_IPL_PARTITION_DATA",
        0x0000_000F => "EV_NONHOST_CODE",
        0x0000_0010 => "EV_NONHOST_CONFIG",
        0x0000_0011 => "EV_NONHOST_INFO",
        0x0000_0012 => "EV_OMIT_BOOT_DEVICE_EVENTS",
        0x0000_0013 => "EV_POST_CODE2",
        0x8000_0000 => "EV_EFI_EVENT_BASE",
        0x8000_0001 => "EV_EFI_VARIABLE_DRIVER_CONFIG",
        0x8000_0002 => "EV_EFI_VARIABLE_BOOT",
        0x8000_0003 => "EV_EFI_BOOT_SERVICES_APPLICATION",
        0x8000_0004 => "EV_EFI_BOOT_SERVICES_DRIVER",
        0x8000_0005 => "EV_EFI_RUNTIME_SERVICES_DRIVER",
        0x8000_0006 => "EV_EFI_GPT_EVENT",
        0x8000_0007 => "EV_EFI_ACTION",
        0x8000_0008 => "EV_EFI_PLATFORM_FIRMWARE_BLOB",
        0x8000_0009 => "EV_EFI_HANDOFF_TABLES",
        0x8000_000A => "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
        0x8000_000B => "EV_EFI_HANDOFF_TABLES2",
        0x8000_000C => "EV_EFI_VARIABLE_BOOT2",
        0x8000_000D => "EV_EFI_GPT_EVENT2",
        0x8000_0010 => "EV_EFI_HCRTM_EVENT",
        0x8000_00E0 => "EV_EFI_VARIABLE_AUTHORITY",
        0x8000_00E1 => "EV_EFI_SPDM_FIRMWARE_BLOB",
        0x8000_00E2 => "EV_EFI_SPDM_FIRMWARE_CONFIG",
        0x8000_00E3 => "EV_EFI_SPDM_DEVICE_POLICY",
        0x8000_00E4 => "EV_EFI_SPDM_DEVICE_AUTHORITY",
        _ => return None,
    })
}

/// Name and digest size of the TPM_ALG_IDs cogito knows (TCG Algorithm
/// Registry).
fn known_alg(alg_id: u16) -> Option<(&'static str, u16)> {
    Some(match alg_id {
        0x0004 => ("sha1", 20),
        0x000B => ("sha256", 32),
        0x000C => ("sha384", 48),
        0x000D => ("sha512", 64),
        0x0012 => ("sm3_256", 32),
        0x0027 => ("sha3_256", 32),
        0x0028 => ("sha3_384", 48),
        0x0029 => ("sha3_512", 64),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// Event log parsing
// ---------------------------------------------------------------------------

/// Parses a TCG2 crypto-agile CC event log (the whole log area or any
/// prefix of it that ends after an entry), stopping at the end-of-log rule
/// in the module docs.
pub fn parse_event_log(bytes: &[u8]) -> Result<EventLog, EventLogError> {
    let mut r = Reader::new(bytes);
    let spec_id = parse_spec_id(&mut r)?;
    let mut events = Vec::new();
    let (end_offset, end) = loop {
        let offset = r.offset();
        let rest = bytes.get(offset..).unwrap_or_default();
        if rest.is_empty() {
            break (offset, LogEnd::EndOfInput);
        }
        if let Some(byte) = padding_byte(rest.get(..8).unwrap_or(rest)) {
            break (offset, LogEnd::Padding { byte });
        }
        let index = events.len() + 1;
        let err = |e| log_err(e, 0);
        // PFP §10.2.2 TCG_PCR_EVENT2.
        let mr_index = r.u32_le("TCG_PCR_EVENT2.pcrIndex").map_err(err)?;
        let event_type = r.u32_le("TCG_PCR_EVENT2.eventType").map_err(err)?;
        let count = r.u32_le("TCG_PCR_EVENT2.digests.count").map_err(err)?;
        if mr_index > MAX_MR_INDEX {
            let reason = format!("MR index {mr_index} at offset {offset:#x} is above 4 (RTMR3)");
            break (offset, LogEnd::InvalidHeader { reason });
        }
        let declared = spec_id.algorithms.len();
        if count == 0 || usize::try_from(count).map_or(true, |c| c > declared) {
            let reason = format!(
                "digest count {count} at offset {:#x} is not in 1..={declared} (the Spec ID event's algorithms)",
                offset + 8
            );
            break (offset, LogEnd::InvalidHeader { reason });
        }
        let mut digests: Vec<EventDigest> = Vec::new();
        for _ in 0..count {
            let alg_offset = r.offset();
            let alg_id = r.u16_le("TCG_PCR_EVENT2.digests.hashAlg").map_err(err)?;
            let Some(alg) = spec_id.algorithms.iter().find(|a| a.alg_id == alg_id) else {
                return Err(EventLogError::BadEvent {
                    index,
                    field: "TCG_PCR_EVENT2.digests.hashAlg",
                    offset: alg_offset,
                    reason: format!("algorithm {alg_id:#06x} is not declared in the Spec ID event"),
                });
            };
            if digests.iter().any(|d| d.alg_id == alg_id) {
                return Err(EventLogError::BadEvent {
                    index,
                    field: "TCG_PCR_EVENT2.digests.hashAlg",
                    offset: alg_offset,
                    reason: format!("algorithm {alg_id:#06x} appears twice"),
                });
            }
            let digest = r
                .bytes(
                    "TCG_PCR_EVENT2.digests.digest",
                    usize::from(alg.digest_size),
                )
                .map_err(err)?;
            digests.push(EventDigest {
                alg_id,
                alg_name: alg.alg_name,
                digest: Hex::from_slice(digest),
            });
        }
        let sha384 = digests
            .iter()
            .find(|d| d.alg_id == TPM_ALG_SHA384)
            .map(|d| d.digest.as_ref().to_vec());
        let Some(sha384) = sha384 else {
            return Err(EventLogError::BadEvent {
                index,
                field: "TCG_PCR_EVENT2.digests",
                offset: offset + 12,
                reason: "no SHA-384 (0x000c) digest".into(),
            });
        };
        let size = r.u32_le("TCG_PCR_EVENT2.eventSize").map_err(err)?;
        let data = r
            .bytes(
                "TCG_PCR_EVENT2.event",
                usize::try_from(size).unwrap_or(usize::MAX),
            )
            .map_err(err)?;
        events.push(Event {
            index,
            offset,
            mr_index,
            register: MR_NAMES
                .get(usize::try_from(mr_index).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or("?"),
            rtmr: rtmr_of_mr_index(mr_index).and_then(|i| u8::try_from(i).ok()),
            event_type,
            event_type_name: event_type_name(event_type),
            data_measured: data_measured(event_type, data, &sha384),
            decoded: decode(event_type, data, spec_id.uintn_bytes()),
            digests,
            data: Hex::from_slice(data),
        });
    };
    Ok(EventLog {
        spec_id,
        events,
        end_offset,
        end,
    })
}

/// `Some(b)` when `bytes` is non-empty and all `b` ∈ {0xFF, 0x00}.
fn padding_byte(bytes: &[u8]) -> Option<u8> {
    let first = *bytes.first()?;
    (matches!(first, 0x00 | 0xFF) && bytes.iter().all(|b| *b == first)).then_some(first)
}

fn bad_spec_id(field: &'static str, offset: usize, reason: String) -> EventLogError {
    EventLogError::BadSpecId {
        field,
        offset,
        reason,
    }
}

/// The first entry: a SHA-1-format `TCG_PCR_EVENT` (PFP §10.2.1) whose
/// data is `TCG_EfiSpecIDEvent` (PFP §10.4.5.1).
fn parse_spec_id(r: &mut Reader<'_>) -> Result<SpecId, EventLogError> {
    let err = |e| log_err(e, 0);
    let header_mr_index = r.u32_le("TCG_PCR_EVENT.pcrIndex").map_err(err)?;
    let event_type = r.u32_le("TCG_PCR_EVENT.eventType").map_err(err)?;
    if event_type != EV_NO_ACTION {
        return Err(bad_spec_id(
            "TCG_PCR_EVENT.eventType",
            4,
            format!("expected EV_NO_ACTION (0x3), found {event_type:#x}"),
        ));
    }
    let digest = r.bytes("TCG_PCR_EVENT.digest", 20).map_err(err)?;
    if let Some(i) = digest.iter().position(|b| *b != 0) {
        return Err(bad_spec_id(
            "TCG_PCR_EVENT.digest",
            8 + i,
            "the header's SHA-1 digest must be 20 zero bytes".into(),
        ));
    }
    let size = r.u32_le("TCG_PCR_EVENT.eventSize").map_err(err)?;
    let base = r.offset();
    let body = r
        .bytes(
            "TCG_PCR_EVENT.event",
            usize::try_from(size).unwrap_or(usize::MAX),
        )
        .map_err(err)?;
    let err = |e| log_err(e, base);
    let mut s = Reader::new(body);
    let signature: [u8; 16] = s.array("TCG_EfiSpecIDEvent.signature").map_err(err)?;
    if &signature != SPEC_ID_SIGNATURE {
        return Err(bad_spec_id(
            "TCG_EfiSpecIDEvent.signature",
            base,
            format!(
                "expected \"Spec ID Event03\\0\", found {}",
                hex::encode(signature)
            ),
        ));
    }
    let platform_class = s.u32_le("TCG_EfiSpecIDEvent.platformClass").map_err(err)?;
    let version_offset = base + s.offset();
    let spec_version_minor = s.u8("TCG_EfiSpecIDEvent.specVersionMinor").map_err(err)?;
    let spec_version_major = s.u8("TCG_EfiSpecIDEvent.specVersionMajor").map_err(err)?;
    if (spec_version_major, spec_version_minor) != (2, 0) {
        return Err(bad_spec_id(
            "TCG_EfiSpecIDEvent.specVersion",
            version_offset,
            format!("expected 2.0 (crypto agile), found {spec_version_major}.{spec_version_minor}"),
        ));
    }
    let spec_errata = s.u8("TCG_EfiSpecIDEvent.specErrata").map_err(err)?;
    let uintn_offset = base + s.offset();
    let uintn_size = s.u8("TCG_EfiSpecIDEvent.uintnSize").map_err(err)?;
    if !matches!(uintn_size, 1 | 2) {
        return Err(bad_spec_id(
            "TCG_EfiSpecIDEvent.uintnSize",
            uintn_offset,
            format!("expected 1 (UINT32) or 2 (UINT64), found {uintn_size}"),
        ));
    }
    let count_offset = base + s.offset();
    let count = s
        .u32_le("TCG_EfiSpecIDEvent.numberOfAlgorithms")
        .map_err(err)?;
    if count == 0 {
        return Err(bad_spec_id(
            "TCG_EfiSpecIDEvent.numberOfAlgorithms",
            count_offset,
            "at least one algorithm is required".into(),
        ));
    }
    let mut algorithms: Vec<SpecIdAlgorithm> = Vec::new();
    // Each entry takes 4 bytes of the (bounded) body, so this loop ends
    // with a Truncated error long before a huge count matters.
    for _ in 0..count {
        let entry_offset = base + s.offset();
        let alg_id = s
            .u16_le("TCG_EfiSpecIDEvent.digestSizes.algorithmId")
            .map_err(err)?;
        let digest_size = s
            .u16_le("TCG_EfiSpecIDEvent.digestSizes.digestSize")
            .map_err(err)?;
        let known = known_alg(alg_id);
        if let Some((name, size)) = known {
            if size != digest_size {
                return Err(bad_spec_id(
                    "TCG_EfiSpecIDEvent.digestSizes.digestSize",
                    entry_offset + 2,
                    format!("{name} digests are {size} bytes, the header says {digest_size}"),
                ));
            }
        }
        if digest_size == 0 {
            return Err(bad_spec_id(
                "TCG_EfiSpecIDEvent.digestSizes.digestSize",
                entry_offset + 2,
                format!("algorithm {alg_id:#06x} has a zero digest size"),
            ));
        }
        if algorithms.iter().any(|a| a.alg_id == alg_id) {
            return Err(bad_spec_id(
                "TCG_EfiSpecIDEvent.digestSizes.algorithmId",
                entry_offset,
                format!("algorithm {alg_id:#06x} is listed twice"),
            ));
        }
        algorithms.push(SpecIdAlgorithm {
            alg_id,
            alg_name: known.map(|(n, _)| n),
            digest_size,
        });
    }
    if !algorithms.iter().any(|a| a.alg_id == TPM_ALG_SHA384) {
        return Err(bad_spec_id(
            "TCG_EfiSpecIDEvent.digestSizes",
            count_offset + 4,
            "no SHA-384 (0x000c) bank: RTMRs cannot be replayed".into(),
        ));
    }
    let vendor_info_size = s.u8("TCG_EfiSpecIDEvent.vendorInfoSize").map_err(err)?;
    let vendor_info = s
        .bytes(
            "TCG_EfiSpecIDEvent.vendorInfo",
            usize::from(vendor_info_size),
        )
        .map_err(err)?;
    s.finish().map_err(err)?;
    Ok(SpecId {
        header_mr_index,
        platform_class,
        spec_version_major,
        spec_version_minor,
        spec_errata,
        uintn_size,
        algorithms,
        vendor_info: Hex::from_slice(vendor_info),
    })
}

// ---------------------------------------------------------------------------
// Event data
// ---------------------------------------------------------------------------

fn sha384(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA384, data).as_ref().to_vec()
}

/// See [`Event::data_measured`].
fn data_measured(event_type: u32, data: &[u8], sha384_digest: &[u8]) -> bool {
    if sha384(data) == sha384_digest {
        return true;
    }
    // GRUB (grub-core/kern/tpm.c) logs "grub_cmd: <cmd>" and
    // "kernel_cmdline: <cmdline>" but measures only the text after the
    // prefix, without the terminating NUL.
    if event_type == 0x0000_000D {
        let text = strip_trailing(data, 0);
        for prefix in [&b"grub_cmd: "[..], b"kernel_cmdline: "] {
            if let Some(rest) = text.strip_prefix(prefix) {
                return sha384(rest) == sha384_digest;
            }
        }
    }
    false
}

fn strip_trailing(mut bytes: &[u8], byte: u8) -> &[u8] {
    while let Some((last, rest)) = bytes.split_last() {
        if *last != byte {
            break;
        }
        bytes = rest;
    }
    bytes
}

fn printable(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

/// UTF-16LE code units of `bytes` (an odd trailing byte is dropped).
fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .filter_map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_le_bytes))
        .collect()
}

/// `data` as printable UTF-8 or UTF-16LE text, trailing NULs removed.
fn decode_text(data: &[u8]) -> Option<DecodedText> {
    if let Ok(text) = std::str::from_utf8(strip_trailing(data, 0)) {
        if printable(text) {
            return Some(DecodedText {
                encoding: TextEncoding::Utf8,
                text: text.to_owned(),
            });
        }
    }
    if !data.len().is_multiple_of(2) {
        return None;
    }
    let mut units = utf16_units(data);
    while units.last() == Some(&0) {
        units.pop();
    }
    let text = String::from_utf16(&units).ok()?;
    printable(&text).then_some(DecodedText {
        encoding: TextEncoding::Utf16le,
        text,
    })
}

/// An EFI_GUID (UEFI 2.10 Appendix A) in registry format.
fn guid_string(b: [u8; 16]) -> String {
    let [a0, a1, a2, a3, b0, b1, c0, c1, d @ ..] = b;
    format!(
        "{:08x}-{:04x}-{:04x}-{}-{}",
        u32::from_le_bytes([a0, a1, a2, a3]),
        u16::from_le_bytes([b0, b1]),
        u16::from_le_bytes([c0, c1]),
        hex::encode(&d[..2]),
        hex::encode(&d[2..]),
    )
}

/// A UEFI `UINTN` of `size` bytes (4 or 8).
fn read_uintn(r: &mut Reader<'_>, field: &'static str, size: usize) -> Option<u64> {
    if size == 4 {
        r.u32_le(field).ok().map(u64::from)
    } else {
        r.u64_le(field).ok()
    }
}

/// The data's readable form; `None` when the type is not one cogito
/// decodes or the data does not fit its layout.
fn decode(event_type: u32, data: &[u8], uintn: usize) -> Option<DecodedEvent> {
    match event_type {
        // EV_POST_CODE, EV_ACTION, EV_S_CRTM_VERSION, EV_PLATFORM_CONFIG_FLAGS,
        // EV_COMPACT_HASH, EV_IPL, EV_EFI_ACTION.
        0x1 | 0x5 | 0x8 | 0xA | 0xC | 0xD | 0x8000_0007 => {
            decode_text(data).map(DecodedEvent::Text)
        }
        0x6 => decode_tagged(data),
        0x8000_0001 | 0x8000_0002 | 0x8000_000C | 0x8000_00E0 => decode_variable(data),
        0x8000_0003..=0x8000_0005 => decode_image_load(data, uintn),
        0x8000_0008 => {
            let mut r = Reader::new(data);
            let base = r.u64_le("BlobBase").ok()?;
            let length = r.u64_le("BlobLength").ok()?;
            r.finish().ok()?;
            Some(DecodedEvent::FirmwareBlob {
                description: None,
                base,
                length,
            })
        }
        0x8000_000A => {
            let mut r = Reader::new(data);
            let len = r.u8("BlobDescriptionSize").ok()?;
            let description = r.bytes("BlobDescription", usize::from(len)).ok()?;
            let base = r.u64_le("BlobBase").ok()?;
            let length = r.u64_le("BlobLength").ok()?;
            r.finish().ok()?;
            Some(DecodedEvent::FirmwareBlob {
                description: decode_text(description).map(|t| t.text),
                base,
                length,
            })
        }
        0x8000_000B => {
            let mut r = Reader::new(data);
            let len = r.u8("TableDescriptionSize").ok()?;
            let description = r.bytes("TableDescription", usize::from(len)).ok()?;
            let table_count = r.u64_le("NumberOfTables").ok()?;
            // EFI_CONFIGURATION_TABLE: VendorGuid + VendorTable pointer.
            let tables = usize::try_from(table_count).ok()?.checked_mul(16 + uintn)?;
            r.skip("TableEntry", tables).ok()?;
            r.finish().ok()?;
            Some(DecodedEvent::HandoffTables {
                description: decode_text(description).map(|t| t.text),
                table_count,
            })
        }
        _ => None,
    }
}

fn decode_tagged(data: &[u8]) -> Option<DecodedEvent> {
    let mut r = Reader::new(data);
    let tag_id = r.u32_le("taggedEventID").ok()?;
    let size = r.u32_le("taggedEventDataSize").ok()?;
    let inner = r
        .bytes("taggedEventData", usize::try_from(size).ok()?)
        .ok()?;
    r.finish().ok()?;
    Some(DecodedEvent::Tagged {
        tag_id,
        text: decode_text(inner),
    })
}

fn decode_variable(data: &[u8]) -> Option<DecodedEvent> {
    let mut r = Reader::new(data);
    let guid = r.array::<16>("VariableName").ok()?;
    let name_len = r.u64_le("UnicodeNameLength").ok()?;
    let data_len = r.u64_le("VariableDataLength").ok()?;
    let name_bytes = usize::try_from(name_len).ok()?.checked_mul(2)?;
    let name = r.bytes("UnicodeName", name_bytes).ok()?;
    r.skip("VariableData", usize::try_from(data_len).ok()?)
        .ok()?;
    r.finish().ok()?;
    let mut units = utf16_units(name);
    while units.last() == Some(&0) {
        units.pop();
    }
    Some(DecodedEvent::Variable {
        guid: guid_string(guid),
        name: String::from_utf16_lossy(&units),
        data_len,
    })
}

fn decode_image_load(data: &[u8], uintn: usize) -> Option<DecodedEvent> {
    let mut r = Reader::new(data);
    let location = r.u64_le("ImageLocationInMemory").ok()?;
    let length = read_uintn(&mut r, "ImageLengthInMemory", uintn)?;
    let link_time_address = read_uintn(&mut r, "ImageLinkTimeAddress", uintn)?;
    let device_path_len = read_uintn(&mut r, "LengthOfDevicePath", uintn)?;
    let path = r
        .bytes("DevicePath", usize::try_from(device_path_len).ok()?)
        .ok()?;
    r.finish().ok()?;
    Some(DecodedEvent::ImageLoad {
        location,
        length,
        link_time_address,
        device_path_len,
        file_path: device_path_file(path),
    })
}

/// The media file path nodes (type 4, subtype 4; UEFI 2.10 §10.3.5.4) of
/// a device path, joined with `\`. `None` if there are none or the path
/// is malformed.
fn device_path_file(path: &[u8]) -> Option<String> {
    let mut r = Reader::new(path);
    let mut out = String::new();
    while r.remaining() > 0 {
        let node_type = r.u8("Type").ok()?;
        let sub_type = r.u8("SubType").ok()?;
        let len = usize::from(r.u16_le("Length").ok()?);
        let body = r.bytes("Data", len.checked_sub(4)?).ok()?;
        match (node_type, sub_type) {
            (0x7F, 0xFF) => break, // End Entire Device Path
            (0x04, 0x04) => {
                let mut units = utf16_units(body);
                while units.last() == Some(&0) {
                    units.pop();
                }
                let part = String::from_utf16_lossy(&units);
                if !out.is_empty() && !out.ends_with('\\') && !part.starts_with('\\') {
                    out.push('\\');
                }
                out.push_str(&part);
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA384: u16 = TPM_ALG_SHA384;
    const SHA256: u16 = 0x000B;

    fn spec_id_event(algs: &[(u16, u16)], uintn: u8) -> Vec<u8> {
        let mut body = SPEC_ID_SIGNATURE.to_vec();
        body.extend_from_slice(&0u32.to_le_bytes()); // platformClass
        body.extend_from_slice(&[0, 2, 0, uintn]); // minor, major, errata, uintnSize
        body.extend_from_slice(&(algs.len() as u32).to_le_bytes());
        for (alg, size) in algs {
            body.extend_from_slice(&alg.to_le_bytes());
            body.extend_from_slice(&size.to_le_bytes());
        }
        body.push(0); // vendorInfoSize
        let mut out = Vec::new();
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&EV_NO_ACTION.to_le_bytes());
        out.extend_from_slice(&[0u8; 20]);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn event2(mr: u32, ty: u32, digests: &[(u16, Vec<u8>)], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&mr.to_le_bytes());
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&(digests.len() as u32).to_le_bytes());
        for (alg, d) in digests {
            out.extend_from_slice(&alg.to_le_bytes());
            out.extend_from_slice(d);
        }
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    /// An event measuring `data` itself with SHA-384.
    fn measured(mr: u32, ty: u32, data: &[u8]) -> Vec<u8> {
        event2(mr, ty, &[(SHA384, sha384(data))], data)
    }

    fn extend(rtmr: [u8; 48], d: &[u8]) -> [u8; 48] {
        let mut buf = rtmr.to_vec();
        buf.extend_from_slice(d);
        <[u8; 48]>::try_from(sha384(&buf).as_slice()).unwrap()
    }

    fn simple_log() -> Vec<u8> {
        let mut log = spec_id_event(&[(SHA384, 48)], 2);
        log.extend(measured(1, 0x8000_0007, b"Calling EFI Application"));
        log.extend(measured(2, 0x4, &[0, 0, 0, 0]));
        log.extend(measured(0, EV_NO_ACTION, b"not extended"));
        log.extend(measured(4, 0xD, b"grub_cmd: x"));
        log.extend(measured(0, 0x1, b"MRTD event"));
        log
    }

    #[test]
    fn replays_rtmrs_and_skips_no_action_and_mrtd() {
        let mut log = simple_log();
        let end = log.len();
        log.extend([0xFF; 100]);
        let parsed = parse_event_log(&log).unwrap();
        assert_eq!(parsed.events.len(), 5);
        assert_eq!(parsed.end_offset, end);
        assert_eq!(parsed.end, LogEnd::Padding { byte: 0xFF });
        assert_eq!(parsed.events[0].index, 1);
        assert_eq!(parsed.events[0].register, "RTMR0");
        assert_eq!(parsed.events[4].register, "MRTD");
        assert_eq!(parsed.events[4].rtmr, None);
        let mut want = [[0u8; 48]; 4];
        want[0] = extend([0; 48], &sha384(b"Calling EFI Application"));
        want[1] = extend([0; 48], &sha384(&[0, 0, 0, 0]));
        want[3] = extend([0; 48], &sha384(b"grub_cmd: x"));
        assert_eq!(parsed.replay(), want);
        assert_eq!(parsed.events_per_rtmr(), [1, 1, 0, 1]);
        assert_eq!(
            compare_rtmrs(&parsed.replay(), &want),
            [true, true, true, true]
        );
        let mut other = want;
        other[2][0] ^= 1;
        assert_eq!(compare_rtmrs(&want, &other), [true, true, false, true]);
    }

    #[test]
    fn zero_padding_short_tail_and_end_of_input() {
        let mut log = simple_log();
        let end = log.len();
        let exact = parse_event_log(&log).unwrap();
        assert_eq!(exact.end, LogEnd::EndOfInput);
        assert_eq!(exact.end_offset, end);
        log.extend([0u8; 5]);
        let parsed = parse_event_log(&log).unwrap();
        assert_eq!(parsed.end, LogEnd::Padding { byte: 0 });
        assert_eq!(parsed.end_offset, end);
        assert_eq!(parsed.events.len(), 5);
        // A non-padding short tail is a truncated header.
        log.truncate(end);
        log.extend([1u8, 0, 0]);
        let err = parse_event_log(&log).unwrap_err();
        assert_eq!(err.code(), "tdx.eventlog.truncated");
        assert!(err.to_string().contains("TCG_PCR_EVENT2.pcrIndex"));
    }

    #[test]
    fn implausible_header_ends_the_log() {
        let mut log = simple_log();
        let end = log.len();
        log.extend(measured(9, 0xD, b"bad mr"));
        let parsed = parse_event_log(&log).unwrap();
        assert_eq!(parsed.end_offset, end);
        assert!(
            matches!(&parsed.end, LogEnd::InvalidHeader { reason } if reason.contains("MR index 9"))
        );
        log.truncate(end);
        log.extend(event2(1, 0xD, &[], b"no digests"));
        let parsed = parse_event_log(&log).unwrap();
        assert_eq!(parsed.end_offset, end);
        assert!(
            matches!(&parsed.end, LogEnd::InvalidHeader { reason } if reason.contains("digest count 0"))
        );
    }

    #[test]
    fn truncated_event_names_field_and_offset() {
        let log = simple_log();
        let cut = &log[..log.len() - 3];
        let err = parse_event_log(cut).unwrap_err();
        assert_eq!(err.code(), "tdx.eventlog.truncated");
        let EventLogError::Truncated { field, offset, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*field, "TCG_PCR_EVENT2.event");
        assert_eq!(*offset, log.len() - 10);
        assert_eq!(err.class(), ErrorClass::BadInput);
    }

    #[test]
    fn every_truncation_and_mutation_is_handled() {
        let log = simple_log();
        for len in 0..log.len() {
            if let Ok(p) = parse_event_log(&log[..len]) {
                assert!(p.end_offset <= len);
                let _ = p.replay();
            }
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            let mut m = log.clone();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state % m.len() as u64) as usize;
                m[i] = (state >> 32) as u8;
            }
            if let Ok(p) = parse_event_log(&m) {
                let _ = p.replay();
            }
        }
    }

    #[test]
    fn spec_id_is_checked() {
        let good = spec_id_event(&[(SHA384, 48)], 2);
        let code = |bytes: &[u8]| parse_event_log(bytes).unwrap_err().code();

        let mut bad = good.clone();
        bad[4] = 1; // eventType
        assert_eq!(code(&bad), "tdx.eventlog.bad_spec_id");
        let mut bad = good.clone();
        bad[10] = 1; // digest
        assert_eq!(code(&bad), "tdx.eventlog.bad_spec_id");
        let mut bad = good.clone();
        bad[32 + 14] = b'2'; // "Spec ID Event02"
        let err = parse_event_log(&bad).unwrap_err();
        assert!(err.to_string().contains("signature"), "{err}");
        let mut bad = good.clone();
        bad[32 + 21] = 1; // specVersionMajor
        assert_eq!(code(&bad), "tdx.eventlog.bad_spec_id");
        let mut bad = good.clone();
        bad[32 + 23] = 3; // uintnSize
        assert_eq!(code(&bad), "tdx.eventlog.bad_spec_id");
        // No SHA-384 bank.
        assert_eq!(
            code(&spec_id_event(&[(SHA256, 32)], 2)),
            "tdx.eventlog.bad_spec_id"
        );
        // Wrong SHA-384 size, duplicate algorithm.
        assert_eq!(
            code(&spec_id_event(&[(SHA384, 32)], 2)),
            "tdx.eventlog.bad_spec_id"
        );
        assert_eq!(
            code(&spec_id_event(&[(SHA384, 48), (SHA384, 48)], 2)),
            "tdx.eventlog.bad_spec_id"
        );
        // Trailing bytes inside the event.
        let mut bad = good.clone();
        bad[28] += 1; // eventSize
        bad.push(0);
        let err = parse_event_log(&bad).unwrap_err();
        assert_eq!(err.code(), "tdx.eventlog.bad_spec_id");
        assert!(err.to_string().contains("vendorInfo"), "{err}");
        // A huge algorithm count is a truncation of the event, not a hang.
        let mut bad = good.clone();
        bad[32 + 24..32 + 28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(code(&bad), "tdx.eventlog.truncated");
        assert_eq!(code(&[]), "tdx.eventlog.truncated");
        // Header only: an empty log.
        let p = parse_event_log(&good).unwrap();
        assert!(p.events.is_empty());
        assert_eq!(p.end_offset, good.len());
        assert_eq!(p.replay(), [[0; 48]; 4]);
    }

    #[test]
    fn multi_bank_logs_replay_sha384() {
        let mut log = spec_id_event(&[(SHA256, 32), (SHA384, 48)], 2);
        let data = b"Exit Boot Services Invocation";
        let d256 = digest::digest(&digest::SHA256, data).as_ref().to_vec();
        log.extend(event2(
            3,
            0x8000_0007,
            &[(SHA256, d256), (SHA384, sha384(data))],
            data,
        ));
        let p = parse_event_log(&log).unwrap();
        assert_eq!(p.events[0].digests.len(), 2);
        assert_eq!(p.events[0].digests[0].alg_name, Some("sha256"));
        assert_eq!(p.replay()[2], extend([0; 48], &sha384(data)));
        // Only the SHA-256 digest: an error, not a silent skip.
        let mut log = spec_id_event(&[(SHA256, 32), (SHA384, 48)], 2);
        log.extend(event2(1, 0x5, &[(SHA256, vec![0; 32])], b"x"));
        let err = parse_event_log(&log).unwrap_err();
        assert_eq!(err.code(), "tdx.eventlog.bad_event");
        assert!(err.to_string().contains("SHA-384"), "{err}");
        // Undeclared and duplicated algorithms.
        let mut log = spec_id_event(&[(SHA384, 48)], 2);
        log.extend(event2(1, 0x5, &[(SHA256, vec![0; 32])], b"x"));
        assert_eq!(
            parse_event_log(&log).unwrap_err().code(),
            "tdx.eventlog.bad_event"
        );
        let mut log = spec_id_event(&[(SHA256, 32), (SHA384, 48)], 2);
        log.extend(event2(
            1,
            0x5,
            &[(SHA384, vec![0; 48]), (SHA384, vec![0; 48])],
            b"x",
        ));
        let err = parse_event_log(&log).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn decodes_text_variables_images_and_blobs() {
        assert_eq!(
            decode_text(b"kernel_cmdline: ro quiet\0"),
            Some(DecodedText {
                encoding: TextEncoding::Utf8,
                text: "kernel_cmdline: ro quiet".into()
            })
        );
        let utf16: Vec<u8> = ".linux\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            decode_text(&utf16),
            Some(DecodedText {
                encoding: TextEncoding::Utf16le,
                text: ".linux".into()
            })
        );
        assert_eq!(decode_text(&[0, 0, 0, 0]), None);
        assert_eq!(decode_text(&[1, 2, 0xfe]), None);

        // UEFI_VARIABLE_DATA for SecureBoot = 1.
        let mut var = vec![
            0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03,
            0x2b, 0x8c,
        ];
        var.extend_from_slice(&10u64.to_le_bytes());
        var.extend_from_slice(&1u64.to_le_bytes());
        var.extend("SecureBoot".encode_utf16().flat_map(u16::to_le_bytes));
        var.push(1);
        assert_eq!(
            decode(0x8000_0001, &var, 8),
            Some(DecodedEvent::Variable {
                guid: "8be4df61-93ca-11d2-aa0d-00e098032b8c".into(),
                name: "SecureBoot".into(),
                data_len: 1
            })
        );
        var.push(0);
        assert_eq!(decode(0x8000_0001, &var, 8), None);

        // UEFI_IMAGE_LOAD_EVENT with a file path node and the end node.
        let mut dp = vec![0x04, 0x04];
        let name: Vec<u8> = "\\EFI\\BOOT\\BOOTX64.EFI\0"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        dp.extend_from_slice(&((name.len() + 4) as u16).to_le_bytes());
        dp.extend(name);
        dp.extend([0x7f, 0xff, 4, 0]);
        let mut img = Vec::new();
        img.extend_from_slice(&0x1000u64.to_le_bytes());
        img.extend_from_slice(&0x2000u64.to_le_bytes());
        img.extend_from_slice(&0u64.to_le_bytes());
        img.extend_from_slice(&(dp.len() as u64).to_le_bytes());
        img.extend(&dp);
        assert_eq!(
            decode(0x8000_0003, &img, 8),
            Some(DecodedEvent::ImageLoad {
                location: 0x1000,
                length: 0x2000,
                link_time_address: 0,
                device_path_len: dp.len() as u64,
                file_path: Some("\\EFI\\BOOT\\BOOTX64.EFI".into()),
            })
        );
        // A zero-length device path node is malformed, not a loop.
        assert_eq!(device_path_file(&[4, 4, 0, 0, 0x7f, 0xff, 4, 0]), None);

        let mut blob = vec![3];
        blob.extend(b"Fv1");
        blob.extend_from_slice(&0xffc0_0000u64.to_le_bytes());
        blob.extend_from_slice(&0x40_0000u64.to_le_bytes());
        assert_eq!(
            decode(0x8000_000A, &blob, 8),
            Some(DecodedEvent::FirmwareBlob {
                description: Some("Fv1".into()),
                base: 0xffc0_0000,
                length: 0x40_0000
            })
        );

        let mut tag = Vec::new();
        tag.extend_from_slice(&0x8F3B_22ECu32.to_le_bytes());
        tag.extend_from_slice(&13u32.to_le_bytes());
        tag.extend(b"Linux initrd\0");
        assert_eq!(
            decode(0x6, &tag, 8),
            Some(DecodedEvent::Tagged {
                tag_id: 0x8F3B_22EC,
                text: Some(DecodedText {
                    encoding: TextEncoding::Utf8,
                    text: "Linux initrd".into()
                })
            })
        );
    }

    #[test]
    fn data_measured_covers_plain_and_grub_events() {
        let data = b"grub_cmd: set timeout=0\0";
        assert!(data_measured(0xD, data, &sha384(b"set timeout=0")));
        assert!(data_measured(0xD, data, &sha384(data)));
        assert!(!data_measured(0xD, data, &sha384(b"set timeout=1")));
        assert!(!data_measured(0x8000_0007, data, &sha384(b"set timeout=0")));
    }

    #[test]
    fn serializes_bytes_as_lower_case_hex() {
        let p = parse_event_log(&simple_log()).unwrap();
        let json = serde_json::to_value(&p).unwrap();
        let ev = &json["events"][0];
        assert_eq!(ev["event_type_name"], "EV_EFI_ACTION");
        assert_eq!(ev["register"], "RTMR0");
        assert_eq!(ev["data_measured"], true);
        assert_eq!(ev["decoded"]["kind"], "text");
        assert_eq!(ev["decoded"]["text"], "Calling EFI Application");
        assert_eq!(
            ev["digests"][0]["digest"],
            hex::encode(sha384(b"Calling EFI Application"))
        );
        assert_eq!(ev["data"], hex::encode(b"Calling EFI Application"));
        assert_eq!(json["end"]["kind"], "end_of_input");
        assert_eq!(json["spec_id"]["algorithms"][0]["alg_name"], "sha384");
    }

    fn ccel(cc_type: u8) -> Vec<u8> {
        let mut t = b"CCEL".to_vec();
        t.extend_from_slice(&56u32.to_le_bytes());
        t.extend([1, 0]); // revision, checksum
        t.extend(b"INTEL EDK2    ");
        t.extend_from_slice(&2u32.to_le_bytes());
        t.extend(b"    ");
        t.extend_from_slice(&0x0100_0013u32.to_le_bytes());
        t.extend([cc_type, 0, 0, 0]);
        t.extend_from_slice(&0x40000u64.to_le_bytes());
        t.extend_from_slice(&0xbedb_f000u64.to_le_bytes());
        let sum = t.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        t[9] = 0u8.wrapping_sub(sum);
        t
    }

    #[test]
    fn ccel_table_is_parsed_and_checked() {
        let t = ccel(2);
        let p = parse_ccel_table(&t).unwrap();
        assert_eq!(p.laml, 0x40000);
        assert_eq!(p.lasa, 0xbedb_f000);
        assert_eq!(p.oem_id, "INTEL ");
        assert_eq!(p.oem_table_id, "EDK2    ");
        assert_eq!(p.cc_type, 2);

        let code = |b: &[u8]| parse_ccel_table(b).unwrap_err().code();
        let mut bad = t.clone();
        bad[50] ^= 1;
        assert_eq!(code(&bad), "tdx.ccel.bad_checksum");
        let mut bad = t.clone();
        bad[0] = b'X';
        assert_eq!(code(&bad), "tdx.ccel.bad_signature");
        assert_eq!(code(&t[..40]), "tdx.ccel.bad_length");
        assert_eq!(code(&t[..6]), "tdx.ccel.truncated");
        let mut long = t.clone();
        long.push(0);
        assert_eq!(code(&long), "tdx.ccel.bad_length");
        assert_eq!(code(&ccel(1)), "tdx.ccel.not_tdx");
        let mut bad = t.clone();
        bad[8] = 2;
        bad[9] = bad[9].wrapping_sub(1);
        assert_eq!(code(&bad), "tdx.ccel.unsupported_revision");
        let mut bad = t.clone();
        bad[38] = 1;
        bad[9] = bad[9].wrapping_sub(1);
        assert_eq!(code(&bad), "tdx.ccel.reserved_not_zero");
        let err = parse_ccel_table(&ccel(1)).unwrap_err();
        assert_eq!(err.class(), ErrorClass::BadInput);
        assert!(err.to_string().contains("CC Type"));
    }

    #[test]
    fn mr_index_mapping() {
        assert_eq!(rtmr_of_mr_index(0), None);
        assert_eq!(rtmr_of_mr_index(1), Some(0));
        assert_eq!(rtmr_of_mr_index(4), Some(3));
        assert_eq!(rtmr_of_mr_index(5), None);
        assert_eq!(
            event_type_name(0x8000_000A),
            Some("EV_EFI_PLATFORM_FIRMWARE_BLOB2")
        );
        assert_eq!(event_type_name(0x7777), None);
    }
}
