//! A deterministic, synthetic OVMF-like image for the committed vectors.
//!
//! 16 pages of xorshift64* bytes with, at the end, an OVMF footer table
//! (SEV-ES reset block, SEV hashes table, SEV metadata offset, TDX metadata
//! offset) and, inside the image, an "ASEV" SEV metadata block and a "TDVF"
//! TDX metadata block. It is not a bootable firmware; it has exactly the
//! structure the calculators and sev-snp-measure read.
#![allow(dead_code)]
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

pub const LEN: usize = 16 * 4096;
/// Where the SEV metadata and the TDVF descriptor sit in the image.
pub const SEV_META_AT: usize = 0x100;
pub const TDVF_META_AT: usize = 0x200;
/// The AP reset address in the SEV-ES reset block.
pub const AP_RESET_EIP: u32 = 0x0080_B004;
/// GPA of the SEV hashes table (page 0x80B000, offset 0x400).
pub const HASHES_TABLE_GPA: u32 = 0x0080_B400;

const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> [u8; 16] {
    let a = d1.to_le_bytes();
    let b = d2.to_le_bytes();
    let c = d3.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5],
        d4[6], d4[7],
    ]
}

const FOOTER: [u8; 16] = guid(
    0x96b5_82de,
    0x1fb2,
    0x45f7,
    [0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d],
);
const RESET_BLOCK: [u8; 16] = guid(
    0x00f7_71de,
    0x1a7e,
    0x4fcb,
    [0x89, 0x0e, 0x68, 0xc7, 0x7e, 0x2f, 0xb4, 0x4e],
);
const HASH_TABLE_RV: [u8; 16] = guid(
    0x7255_371f,
    0x3a3b,
    0x4b04,
    [0x92, 0x7b, 0x1d, 0xa6, 0xef, 0xa8, 0xd4, 0x54],
);
const SEV_META: [u8; 16] = guid(
    0xdc88_6566,
    0x984a,
    0x4798,
    [0xa7, 0x5e, 0x55, 0x85, 0xa7, 0xbf, 0x67, 0xcc],
);
const TDX_META: [u8; 16] = guid(
    0xe47a_6535,
    0x984a,
    0x4798,
    [0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2],
);

/// SEV metadata sections: (gpa, size, type).
pub const SEV_SECTIONS: &[(u32, u32, u32)] = &[
    (0x0080_0000, 0x9000, 1),    // SNP_SEC_MEMORY
    (0x0080_9000, 0x1000, 2),    // SNP_SECRETS
    (0x0080_A000, 0x1000, 3),    // CPUID
    (0x0080_B000, 0x1000, 0x10), // SNP_KERNEL_HASHES
    (0x0080_C000, 0x4000, 1),    // SNP_SEC_MEMORY
];

/// TDVF sections: (data_offset, raw_size, gpa, mem_size, type, attributes).
pub const TDVF_SECTIONS: &[(u32, u32, u64, u64, u32, u32)] = &[
    (0x2000, 0xE000, 0xFFFF_2000, 0xE000, 0, 1), // BFV, MR.EXTEND
    (0x0000, 0x2000, 0xFFFF_0000, 0x2000, 1, 0), // CFV
    (0, 0, 0x0080_9000, 0x2000, 2, 0),           // TD_HOB
    (0, 0, 0x0080_0000, 0x6000, 3, 0),           // TempMem
    (0, 0, 0x0100_0000, 0x4000, 4, 2),           // PermMem, PAGE.AUG
];

/// The image.
pub fn synthetic_ovmf() -> Vec<u8> {
    let mut img = vec![0u8; LEN];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in img.chunks_mut(8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        b.copy_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    // SEV metadata ("ASEV", length, version 1, count, sections).
    let mut sev = Vec::new();
    sev.extend_from_slice(b"ASEV");
    sev.extend_from_slice(&((16 + 12 * SEV_SECTIONS.len()) as u32).to_le_bytes());
    sev.extend_from_slice(&1u32.to_le_bytes());
    sev.extend_from_slice(&(SEV_SECTIONS.len() as u32).to_le_bytes());
    for (gpa, size, ty) in SEV_SECTIONS {
        for v in [gpa, size, ty] {
            sev.extend_from_slice(&v.to_le_bytes());
        }
    }
    img[SEV_META_AT..SEV_META_AT + sev.len()].copy_from_slice(&sev);
    // TDVF descriptor.
    let mut td = Vec::new();
    td.extend_from_slice(b"TDVF");
    td.extend_from_slice(&((16 + 32 * TDVF_SECTIONS.len()) as u32).to_le_bytes());
    td.extend_from_slice(&1u32.to_le_bytes());
    td.extend_from_slice(&(TDVF_SECTIONS.len() as u32).to_le_bytes());
    for (off, raw, gpa, size, ty, attr) in TDVF_SECTIONS {
        td.extend_from_slice(&off.to_le_bytes());
        td.extend_from_slice(&raw.to_le_bytes());
        td.extend_from_slice(&gpa.to_le_bytes());
        td.extend_from_slice(&size.to_le_bytes());
        td.extend_from_slice(&ty.to_le_bytes());
        td.extend_from_slice(&attr.to_le_bytes());
    }
    img[TDVF_META_AT..TDVF_META_AT + td.len()].copy_from_slice(&td);
    // Footer table, nearest the start first; each entry data ‖ len ‖ GUID.
    let entries: Vec<([u8; 16], Vec<u8>)> = vec![
        (
            TDX_META,
            ((LEN - TDVF_META_AT) as u32).to_le_bytes().to_vec(),
        ),
        (
            SEV_META,
            ((LEN - SEV_META_AT) as u32).to_le_bytes().to_vec(),
        ),
        (
            HASH_TABLE_RV,
            [HASHES_TABLE_GPA.to_le_bytes(), 0x400u32.to_le_bytes()].concat(),
        ),
        (RESET_BLOCK, AP_RESET_EIP.to_le_bytes().to_vec()),
    ];
    let mut table = Vec::new();
    for (g, d) in &entries {
        table.extend_from_slice(d);
        table.extend_from_slice(&((d.len() + 18) as u16).to_le_bytes());
        table.extend_from_slice(g);
    }
    let total = (table.len() + 18) as u16;
    table.extend_from_slice(&total.to_le_bytes());
    table.extend_from_slice(&FOOTER);
    let end = LEN - 32;
    img[end - table.len()..end].copy_from_slice(&table);
    img
}

/// Small deterministic "kernel" and "initrd" blobs.
pub fn blob(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// A minimal PE32+ "bzImage": MZ stub, PE header at 0x40, two sections
/// (.setup at 0x200, .text at 0x400..0x3000), a Linux setup header
/// (HdrS, protocol 2.15, LOADED_HIGH, XLF_CAN_BE_LOADED_ABOVE_4G), then
/// 0x10 bytes of trailing data and a 0x10-byte certificate table.
pub fn synthetic_kernel() -> Vec<u8> {
    let mut k = blob(0x5a, 0x3020);
    let put = |k: &mut Vec<u8>, at: usize, b: &[u8]| k[at..at + b.len()].copy_from_slice(b);
    // Zero the header area, then fill in the fields.
    for b in &mut k[..0x200] {
        *b = 0;
    }
    put(&mut k, 0, b"MZ");
    put(&mut k, 0x3c, &0x40u32.to_le_bytes());
    put(&mut k, 0x40, b"PE\0\0");
    let coff = 0x44;
    put(&mut k, coff, &0x8664u16.to_le_bytes()); // machine
    put(&mut k, coff + 2, &2u16.to_le_bytes()); // sections
    put(&mut k, coff + 16, &0xF0u16.to_le_bytes()); // optional header size
    let opt = coff + 20;
    put(&mut k, opt, &0x20bu16.to_le_bytes()); // PE32+
    put(&mut k, opt + 60, &0x200u32.to_le_bytes()); // SizeOfHeaders
    put(&mut k, opt + 64, &0xdead_beefu32.to_le_bytes()); // CheckSum (excluded)
    put(&mut k, opt + 108, &16u32.to_le_bytes()); // NumberOfRvaAndSizes
    put(&mut k, opt + 112 + 4 * 8, &0x3010u32.to_le_bytes()); // security dir: offset
    put(&mut k, opt + 112 + 4 * 8 + 4, &0x10u32.to_le_bytes()); // size
    let sec = opt + 0xF0;
    // Listed out of file order on purpose: .text first.
    put(&mut k, sec, b".text\0\0\0");
    put(&mut k, sec + 16, &0x2C00u32.to_le_bytes());
    put(&mut k, sec + 20, &0x400u32.to_le_bytes());
    put(&mut k, sec + 40, b".setup\0\0");
    put(&mut k, sec + 40 + 16, &0x200u32.to_le_bytes());
    put(&mut k, sec + 40 + 20, &0x200u32.to_le_bytes());
    // Linux setup header.
    put(&mut k, 0x1f1, &[1]); // setup_sects
    put(&mut k, 0x202, b"HdrS");
    put(&mut k, 0x206, &0x020fu16.to_le_bytes());
    put(&mut k, 0x210, &[0]); // type_of_loader
    put(&mut k, 0x211, &[0x01]); // loadflags: LOADED_HIGH
    put(&mut k, 0x218, &[0; 8]); // ramdisk_image, ramdisk_size
    put(&mut k, 0x224, &[0; 8]); // heap_end_ptr, ext_loader_*, cmd_line_ptr
    put(&mut k, 0x22c, &0x7fff_ffffu32.to_le_bytes()); // initrd_addr_max
    put(&mut k, 0x236, &0x0003u16.to_le_bytes()); // xloadflags
    k
}
