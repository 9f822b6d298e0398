//! Intel TDX: MRTD of a TDVF image, and RTMR1/RTMR2 of a direct boot.
//!
//! # MRTD
//!
//! TDVF (OVMF built with TDX support) describes how the VMM must lay it
//! into TD memory in its TDX metadata ("TDVF" descriptor, TDVF Design Guide
//! §11, located through the OVMF footer-table entry
//! e47a6535-984a-4798-865e-4685a7bf8ec2, an offset from the end of the
//! image). Each section gives a file range, a GPA range, a type (BFV, CFV,
//! TD_HOB, TempMem, PermMem, Payload, PayloadParam) and attributes (bit 0
//! MR.EXTEND, bit 1 PAGE.AUG).
//!
//! The TDX module measures the build into MRTD (Intel TDX Module Base
//! Architecture Specification, "TD Measurement", TDH.MEM.PAGE.ADD and
//! TDH.MR.EXTEND): MRTD is one SHA-384 over
//! * per added page, a 128-byte block: "MEM.PAGE.ADD" ‖ 0 pad to 16 ‖ GPA
//!   (u64 LE) ‖ zeros;
//! * per 256-byte chunk of a page to measure, a 128-byte block "MR.EXTEND"
//!   ‖ 0 pad to 16 ‖ GPA of the chunk ‖ zeros, then the 256 bytes.
//!
//! Sections with PAGE.AUG are not added at build time (the guest accepts
//! them later) and so are not in MRTD. Sections with MR.EXTEND have their
//! contents measured. VMMs differ in the order: current QEMU/KVM add and
//! extend each page in turn ([`PageOrder::Interleaved`]); older TDX stacks
//! (QEMU 8.x with the pre-upstream KVM TDX patches) added all pages of a
//! section, then extended them ([`PageOrder::AllPagesFirst`]).
//!
//! # RTMR1 and RTMR2
//!
//! See [`rtmr1_direct_boot`] and [`rtmr2_direct_boot`]; they depend on
//! the firmware and kernel versions, which docs/measure.md lists.

use sha2::{Digest, Sha384};

use crate::ovmf::{guid, metadata_block, read_u32, read_u64, FooterTable, Guid};
use crate::{Digest48, MeasureError};

/// e47a6535-984a-4798-865e-4685a7bf8ec2: offset of the TDVF metadata from the end.
const TDX_METADATA_GUID: Guid = guid(
    0xe47a_6535,
    0x984a,
    0x4798,
    [0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2],
);
const META: &str = "TDVF metadata";
const PAGE: u64 = 4096;
/// [`PAGE`] as a length in bytes.
const PAGE_LEN: usize = 4096;
/// TDH.MR.EXTEND measures 256 bytes at a time.
const CHUNK: usize = 256;
/// [`CHUNK`] as a GPA increment.
const CHUNK_U64: u64 = 256;

/// Attribute bit 0: the VMM must TDH.MR.EXTEND the section's pages.
pub const ATTR_MR_EXTEND: u32 = 1 << 0;
/// Attribute bit 1: the pages are added by TDH.MEM.PAGE.AUG at run time.
pub const ATTR_PAGE_AUG: u32 = 1 << 1;

/// TDVF section types (TDVF Design Guide, Table "TDVF_SECTION type").
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum TdvfSectionType {
    /// 0: boot firmware volume (code).
    Bfv,
    /// 1: configuration firmware volume (variables).
    Cfv,
    /// 2: the TD HOB the VMM fills.
    TdHob,
    /// 3: temporary memory for the firmware.
    TempMem,
    /// 4: permanent memory.
    PermMem,
    /// 5: a payload image.
    Payload,
    /// 6: the payload's parameters.
    PayloadParam,
}

/// One section of the TDVF metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TdvfSection {
    /// Offset of the section's data in the image.
    pub data_offset: u32,
    /// Bytes of data in the image.
    pub raw_data_size: u32,
    /// GPA of the section.
    pub memory_address: u64,
    /// Bytes of TD memory.
    pub memory_data_size: u64,
    /// The type.
    pub kind: TdvfSectionType,
    /// The attributes ([`ATTR_MR_EXTEND`], [`ATTR_PAGE_AUG`]).
    pub attributes: u32,
}

/// The order in which the VMM adds and measures a section's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub enum PageOrder {
    /// For each page: TDH.MEM.PAGE.ADD, then its 16 TDH.MR.EXTENDs
    /// (QEMU ≥ 9 with upstream KVM; Linux 6.16+ `tdx_gmem_post_populate`).
    #[default]
    Interleaved,
    /// For each section: every page's TDH.MEM.PAGE.ADD, then every page's
    /// TDH.MR.EXTENDs (QEMU 8.x era TDX stacks).
    AllPagesFirst,
}

/// Parses the TDVF metadata of a firmware image.
pub fn tdvf_sections(image: &[u8]) -> Result<Vec<TdvfSection>, MeasureError> {
    let table = FooterTable::parse(image)?;
    let off = table.u32_of(
        &TDX_METADATA_GUID,
        "TDX metadata offset",
        "e47a6535-984a-4798-865e-4685a7bf8ec2",
    )?;
    let (count, body, too_many) = metadata_block(image, off, META, *b"TDVF")?;
    // A count that does not fit in usize cannot fit in the block either.
    let count = usize::try_from(count).map_err(|_| too_many.clone())?;
    let mut out = Vec::new();
    for index in 0..count {
        let at = index * 32;
        let fields = (
            read_u32(body, at),
            read_u32(body, at + 4),
            read_u64(body, at + 8),
            read_u64(body, at + 16),
            read_u32(body, at + 24),
            read_u32(body, at + 28),
        );
        let (
            Some(data_offset),
            Some(raw_data_size),
            Some(memory_address),
            Some(memory_data_size),
            Some(ty),
            Some(attributes),
        ) = fields
        else {
            return Err(too_many);
        };
        let bad = |reason| MeasureError::TdvfSection { index, reason };
        let kind = match ty {
            0 => TdvfSectionType::Bfv,
            1 => TdvfSectionType::Cfv,
            2 => TdvfSectionType::TdHob,
            3 => TdvfSectionType::TempMem,
            4 => TdvfSectionType::PermMem,
            5 => TdvfSectionType::Payload,
            6 => TdvfSectionType::PayloadParam,
            _ => return Err(bad("unknown section type")),
        };
        // The checks QEMU's TDVF loader (hw/i386/tdvf.c) makes.
        if memory_address % PAGE != 0 || memory_data_size % PAGE != 0 {
            return Err(bad("memory address or size is not 4 KiB aligned"));
        }
        if memory_data_size < u64::from(raw_data_size) {
            return Err(bad("memory size is smaller than the raw data size"));
        }
        if memory_address.checked_add(memory_data_size).is_none() {
            return Err(bad("memory range wraps around"));
        }
        if attributes & ATTR_MR_EXTEND != 0 && raw_data_size == 0 {
            return Err(bad("MR.EXTEND on a section without data"));
        }
        out.push(TdvfSection {
            data_offset,
            raw_data_size,
            memory_address,
            memory_data_size,
            kind,
            attributes,
        });
    }
    let pages = out
        .iter()
        .filter(|s| s.attributes & ATTR_PAGE_AUG == 0)
        .fold(0u64, |n, s| n.saturating_add(s.memory_data_size / PAGE));
    if pages > crate::MAX_METADATA_PAGES {
        return Err(MeasureError::TooManyPages {
            what: META,
            pages,
            limit: crate::MAX_METADATA_PAGES,
        });
    }
    Ok(out)
}

/// A 128-byte measurement block: the operation's name, then the GPA at 16.
fn op_block(name: &[u8], gpa: u64) -> [u8; 128] {
    let mut b = [0u8; 128];
    if let Some(dst) = b.get_mut(..name.len()) {
        dst.copy_from_slice(name);
    }
    if let Some(dst) = b.get_mut(16..24) {
        dst.copy_from_slice(&gpa.to_le_bytes());
    }
    b
}

/// MRTD of a TDVF image built by a VMM that follows the TDVF metadata.
///
/// The contents measured for an MR.EXTEND section are the image bytes from
/// its data offset for its whole memory size, as QEMU maps them (the
/// section must lie inside the image).
pub fn mrtd(image: &[u8], order: PageOrder) -> Result<Digest48, MeasureError> {
    let sections = tdvf_sections(image)?;
    let mut h = Sha384::new();
    for (index, s) in sections.iter().enumerate() {
        let pages = s.memory_data_size / PAGE;
        let add = s.attributes & ATTR_PAGE_AUG == 0;
        let contents = if s.attributes & ATTR_MR_EXTEND != 0 {
            let outside = || MeasureError::TdvfSection {
                index,
                reason: "measured data lies outside the image",
            };
            // An offset that does not fit in usize lies outside any image.
            let start = usize::try_from(s.data_offset).map_err(|_| outside())?;
            let len =
                usize::try_from(s.memory_data_size).map_err(|_| MeasureError::TdvfSection {
                    index,
                    reason: "section too large",
                })?;
            Some(
                start
                    .checked_add(len)
                    .and_then(|end| image.get(start..end))
                    .ok_or_else(outside)?,
            )
        } else {
            None
        };
        if !add && contents.is_none() {
            // PAGE.AUG memory without MR.EXTEND: nothing at build time.
            continue;
        }
        let page_add = |h: &mut Sha384, p: u64| {
            if add {
                h.update(op_block(b"MEM.PAGE.ADD", s.memory_address + p * PAGE));
            }
        };
        let extend = |h: &mut Sha384, p: u64| {
            if let Some(data) = contents {
                // p * PAGE < memory_data_size = data.len(), so it fits in usize.
                let page = usize::try_from(p * PAGE)
                    .ok()
                    .and_then(|start| data.get(start..start.checked_add(PAGE_LEN)?))
                    .unwrap_or_default();
                let mut gpa = s.memory_address + p * PAGE;
                for chunk in page.chunks(CHUNK) {
                    h.update(op_block(b"MR.EXTEND", gpa));
                    h.update(chunk);
                    gpa += CHUNK_U64;
                }
            }
        };
        match order {
            PageOrder::Interleaved => {
                for p in 0..pages {
                    page_add(&mut h, p);
                    extend(&mut h, p);
                }
            }
            PageOrder::AllPagesFirst => {
                for p in 0..pages {
                    page_add(&mut h, p);
                }
                for p in 0..pages {
                    extend(&mut h, p);
                }
            }
        }
    }
    Ok(h.finalize().into())
}

/// One event extended into an RTMR: what it is and its SHA-384 digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RtmrEvent {
    /// A short description (the TCG event type and what it measures).
    pub description: &'static str,
    /// The digest extended.
    #[serde(with = "hex_digest")]
    pub digest: Digest48,
}

mod hex_digest {
    pub fn serialize<S: serde::Serializer>(d: &[u8; 48], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(d))
    }
}

/// Replays events into a register that starts at zero:
/// `RTMR := SHA-384(RTMR ‖ digest)` (TDG.MR.RTMR.EXTEND).
pub fn replay(events: &[RtmrEvent]) -> Digest48 {
    events.iter().fold([0u8; 48], |r, e| {
        let mut h = Sha384::new();
        h.update(r);
        h.update(e.digest);
        h.finalize().into()
    })
}

fn sha384(data: &[u8]) -> Digest48 {
    Sha384::digest(data).into()
}

/// The RTMR1 events of a TDVF direct boot of `kernel_as_loaded`, in order:
///
/// 1. EV_EFI_BOOT_SERVICES_APPLICATION: the Authenticode SHA-384 of the
///    kernel image OVMF loads (for QEMU `-kernel`, the image *after* QEMU's
///    setup-header patches: see [`qemu_patch_kernel`]);
/// 2. EV_EFI_ACTION "Calling EFI Application from Boot Option" (ReadyToBoot);
/// 3. EV_SEPARATOR 0x00000000 (PCR 4 → RTMR1);
/// 4. EV_EFI_ACTION "Exit Boot Services Invocation";
/// 5. EV_EFI_ACTION "Exit Boot Services Returned with Success".
///
/// This is the sequence edk2's TDVF emits for `-kernel` boot (PCR 2–6 map
/// to RTMR1, TDVF Design Guide "TD Measurement"), as the event logs of real
/// TDs show and as Phala's dstack-mr models it. A boot through a boot
/// loader (shim, GRUB, systemd-boot) measures other things and is not
/// covered.
pub fn rtmr1_direct_boot(kernel_as_loaded: &[u8]) -> Result<Vec<RtmrEvent>, MeasureError> {
    Ok(vec![
        RtmrEvent {
            description: "EV_EFI_BOOT_SERVICES_APPLICATION: kernel Authenticode SHA-384",
            digest: crate::pe::authenticode_sha384(kernel_as_loaded)?,
        },
        RtmrEvent {
            description: "EV_EFI_ACTION: Calling EFI Application from Boot Option",
            digest: sha384(b"Calling EFI Application from Boot Option"),
        },
        RtmrEvent {
            description: "EV_SEPARATOR: 00000000",
            digest: sha384(&[0, 0, 0, 0]),
        },
        RtmrEvent {
            description: "EV_EFI_ACTION: Exit Boot Services Invocation",
            digest: sha384(b"Exit Boot Services Invocation"),
        },
        RtmrEvent {
            description: "EV_EFI_ACTION: Exit Boot Services Returned with Success",
            digest: sha384(b"Exit Boot Services Returned with Success"),
        },
    ])
}

/// The RTMR2 events of a direct boot, measured by the Linux EFI stub
/// (Linux ≥ 6.8 measures through the CC measurement protocol; PCR 8–15 map
/// to RTMR2), in order:
///
/// 1. EV_EVENT_TAG "LOADED_IMAGE::LoadOptions": SHA-384 of the command line
///    as UTF-16LE with its terminating NUL — exactly the string the stub
///    receives, which includes `initrd=initrd` when OVMF passes an initrd
///    (edk2 appends or prepends it depending on its version, so give the
///    command line as the guest sees it in /proc/cmdline);
/// 2. EV_EVENT_TAG "Linux initrd": SHA-384 of the initrd.
///
/// Either is left out when not given.
pub fn rtmr2_direct_boot(cmdline: Option<&str>, initrd: Option<&[u8]>) -> Vec<RtmrEvent> {
    let mut v = Vec::new();
    if let Some(c) = cmdline {
        let mut utf16: Vec<u8> = c.encode_utf16().flat_map(u16::to_le_bytes).collect();
        utf16.extend_from_slice(&[0, 0]);
        v.push(RtmrEvent {
            description: "EV_EVENT_TAG: LOADED_IMAGE::LoadOptions (UTF-16LE command line)",
            digest: sha384(&utf16),
        });
    }
    if let Some(i) = initrd {
        v.push(RtmrEvent {
            description: "EV_EVENT_TAG: Linux initrd",
            digest: sha384(i),
        });
    }
    v
}

/// What QEMU's `-kernel` loader writes into a bzImage's setup header before
/// handing it to the firmware through fw_cfg (QEMU `hw/i386/x86.c`,
/// `x86_load_linux`), for a q35 machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QemuKernelPatch {
    /// Guest RAM (`-m`), in bytes: determines the RAM below 4 GiB (q35 puts
    /// 2 GiB there when RAM ≥ 2.75 GiB, else all of it), and so where QEMU
    /// places the initrd.
    pub memory_size: u64,
    /// Size of the initrd in bytes (0: none).
    pub initrd_size: u32,
    /// Space QEMU reserves for ACPI tables at the top of low RAM (0x28000
    /// for current machine types).
    pub acpi_data_size: u32,
}

/// Default [`QemuKernelPatch::acpi_data_size`].
pub const QEMU_ACPI_DATA_SIZE: u32 = 0x28000;

/// Applies QEMU's setup-header patches to a bzImage (boot protocol ≥ 2.02):
/// type_of_loader 0xB0, CAN_USE_HEAP with heap_end_ptr, cmd_line_ptr
/// 0x20000, and the initrd's address and size. Assumes QEMU adds no
/// setup_data (no RNG seed), as for TDX guests.
pub fn qemu_patch_kernel(kernel: &[u8], p: &QemuKernelPatch) -> Result<Vec<u8>, MeasureError> {
    let bad = |reason| MeasureError::KernelNotPe { reason };
    if kernel.get(0x202..0x206) != Some(b"HdrS") {
        return Err(bad("no Linux setup header (HdrS) for QEMU's patches"));
    }
    let protocol = crate::ovmf::read_u16(kernel, 0x206).ok_or(bad("truncated setup header"))?;
    if protocol < 0x202 {
        return Err(bad("Linux boot protocol older than 2.02 is not supported"));
    }
    let mut k = kernel.to_vec();
    let mut put = |at: usize, bytes: &[u8]| -> Result<(), MeasureError> {
        k.get_mut(at..at + bytes.len())
            .ok_or(bad("truncated setup header"))?
            .copy_from_slice(bytes);
        Ok(())
    };
    // Protocol ≥ 2.02 and LOADED_HIGH: real-mode code at 0x10000, command line at 0x20000.
    const REAL_ADDR: u32 = 0x10000;
    const CMDLINE_ADDR: u32 = 0x20000;
    // heap_end_ptr: the end of the heap relative to the real-mode code.
    const HEAP_END_PTR: u16 = 0xfe00;
    const _: () = assert!(CMDLINE_ADDR - REAL_ADDR - 0x200 == 0xfe00);
    put(0x210, &[0xB0])?; // type_of_loader: QEMU
    let loadflags = kernel
        .get(0x211)
        .copied()
        .ok_or(bad("truncated setup header"))?;
    put(0x211, &[loadflags | 0x80])?; // CAN_USE_HEAP
    put(0x224, &HEAP_END_PTR.to_le_bytes())?; // heap_end_ptr
    put(0x228, &CMDLINE_ADDR.to_le_bytes())?; // cmd_line_ptr
    if p.initrd_size > 0 {
        let xloadflags = crate::ovmf::read_u16(kernel, 0x236).unwrap_or(0);
        let mut initrd_max = if protocol >= 0x20c && xloadflags & (1 << 1) != 0 {
            u32::MAX // XLF_CAN_BE_LOADED_ABOVE_4G: QEMU still stays below 4 GiB
        } else if protocol >= 0x203 {
            crate::ovmf::read_u32(kernel, 0x22c).ok_or(bad("truncated setup header"))?
        } else {
            0x37ff_ffff
        };
        let below_4g: u64 = if p.memory_size >= 0xB000_0000 {
            0x8000_0000
        } else {
            p.memory_size
        };
        let room = below_4g
            .checked_sub(u64::from(p.acpi_data_size))
            .filter(|r| *r > 0)
            .ok_or(MeasureError::InvalidOption {
                input: "qemu_memory",
                reason: "smaller than the ACPI area".into(),
            })?;
        if u64::from(initrd_max) >= room {
            initrd_max = u32::try_from(room - 1).unwrap_or(u32::MAX);
        }
        if p.initrd_size >= initrd_max {
            return Err(MeasureError::InvalidOption {
                input: "initrd",
                reason: format!("{} bytes do not fit below {initrd_max:#x}", p.initrd_size),
            });
        }
        let addr = (initrd_max - p.initrd_size) & !4095;
        put(0x218, &addr.to_le_bytes())?; // ramdisk_image
        put(0x21c, &p.initrd_size.to_le_bytes())?; // ramdisk_size
    }
    Ok(k)
}
