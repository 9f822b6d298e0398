//! The SEV hashes table QEMU writes for measured direct boot.
//!
//! With `-kernel` and `kernel-hashes=on`, QEMU places a table of SHA-256
//! digests of the kernel, initrd and command line in the firmware's
//! SNP_KERNEL_HASHES page (QEMU `target/i386/sev.c`, `SevHashTable`); OVMF
//! checks the blobs it loads against it. The page is measured as a NORMAL
//! page, so the launch digest covers the three blobs.

use sha2::{Digest, Sha256};

use crate::ovmf::{guid, Guid};

/// 9438d606-4f22-4cc9-b479-a793d411fd21: the table header.
const TABLE_GUID: Guid = guid(
    0x9438_d606,
    0x4f22,
    0x4cc9,
    [0xb4, 0x79, 0xa7, 0x93, 0xd4, 0x11, 0xfd, 0x21],
);
/// 4de79437-abd2-427f-b835-d5b172d2045b: the kernel entry.
const KERNEL_GUID: Guid = guid(
    0x4de7_9437,
    0xabd2,
    0x427f,
    [0xb8, 0x35, 0xd5, 0xb1, 0x72, 0xd2, 0x04, 0x5b],
);
/// 44baf731-3a2f-4bd7-9af1-41e29169781d: the initrd entry.
const INITRD_GUID: Guid = guid(
    0x44ba_f731,
    0x3a2f,
    0x4bd7,
    [0x9a, 0xf1, 0x41, 0xe2, 0x91, 0x69, 0x78, 0x1d],
);
/// 97d02dd8-bd20-4c94-aa78-e7714d36ab2a: the command-line entry.
const CMDLINE_GUID: Guid = guid(
    0x97d0_2dd8,
    0xbd20,
    0x4c94,
    [0xaa, 0x78, 0xe7, 0x71, 0x4d, 0x36, 0xab, 0x2a],
);

/// One entry: GUID, u16 length, SHA-256.
const ENTRY_LEN: usize = 16 + 2 + 32;
/// Header (GUID, u16 length) and three entries.
pub(crate) const TABLE_LEN: usize = 16 + 2 + 3 * ENTRY_LEN;
/// [`ENTRY_LEN`] and [`TABLE_LEN`] as the `u16` length fields hold them.
const ENTRY_LEN_U16: u16 = 50;
const TABLE_LEN_U16: u16 = 168;
const _: () = assert!(ENTRY_LEN == 50 && TABLE_LEN == 168);
/// QEMU pads the table to a multiple of 16 bytes.
pub(crate) const PADDED_LEN: usize = (TABLE_LEN + 15) & !15;

/// The blobs of a measured direct boot.
#[derive(Clone, Copy, Debug)]
pub struct KernelHashesInput<'a> {
    /// The kernel image exactly as passed to QEMU's `-kernel`.
    pub kernel: &'a [u8],
    /// The initrd (`-initrd`), or `None`: hashed as empty.
    pub initrd: Option<&'a [u8]>,
    /// The command line (`-append`), or `None`: hashed as an empty string.
    /// QEMU hashes it with its terminating NUL.
    pub cmdline: Option<&'a str>,
}

impl KernelHashesInput<'_> {
    /// The padded table as QEMU lays it out: entries in the order command
    /// line, initrd, kernel.
    pub(crate) fn table(&self) -> [u8; PADDED_LEN] {
        let mut cmdline = self.cmdline.unwrap_or("").as_bytes().to_vec();
        cmdline.push(0);
        let entries: [(Guid, [u8; 32]); 3] = [
            (CMDLINE_GUID, Sha256::digest(&cmdline).into()),
            (
                INITRD_GUID,
                Sha256::digest(self.initrd.unwrap_or(&[])).into(),
            ),
            (KERNEL_GUID, Sha256::digest(self.kernel).into()),
        ];
        let mut t = Vec::with_capacity(PADDED_LEN);
        t.extend_from_slice(&TABLE_GUID);
        t.extend_from_slice(&TABLE_LEN_U16.to_le_bytes());
        for (g, h) in &entries {
            t.extend_from_slice(g);
            t.extend_from_slice(&ENTRY_LEN_U16.to_le_bytes());
            t.extend_from_slice(h);
        }
        t.resize(PADDED_LEN, 0);
        let mut out = [0u8; PADDED_LEN];
        out.copy_from_slice(&t);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layout() {
        assert_eq!(TABLE_LEN, 168);
        assert_eq!(PADDED_LEN, 176);
        let t = KernelHashesInput {
            kernel: b"k",
            initrd: None,
            cmdline: None,
        }
        .table();
        assert_eq!(&t[..16], &TABLE_GUID);
        assert_eq!(&t[16..18], &168u16.to_le_bytes());
        assert_eq!(&t[18..34], &CMDLINE_GUID);
        // sha256("\0")
        assert_eq!(
            hex::encode(&t[36..68]),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(&t[168..], &[0u8; 8]);
    }
}
