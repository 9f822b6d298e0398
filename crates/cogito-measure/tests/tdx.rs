//! TDX MRTD and RTMR1/RTMR2 on synthetic images, against values computed
//! independently.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod common;

use cogito_measure::tdx::{
    mrtd, qemu_patch_kernel, replay, rtmr1_direct_boot, rtmr2_direct_boot, tdvf_sections,
    PageOrder, QemuKernelPatch, QEMU_ACPI_DATA_SIZE,
};
use cogito_measure::MeasureError;

// The expected values below were computed with a separate, short Python
// script (hashlib/struct only, written for this purpose, not derived from
// this crate's code): it reads the footer table and the "TDVF" descriptor
// of the image written by `snp::write_synthetic_inputs`
// (/tmp/s/synthetic.fd), and hashes 128-byte "MEM.PAGE.ADD"/"MR.EXTEND"
// blocks (name, zero pad to 16, GPA u64 LE, zeros) plus the 256-byte chunks,
// skipping PAGE.AUG sections, per section either page by page or all ADDs
// first. Run on Debian's OVMF.fd (ovmf 2022.11-6+deb12u2) it gives the
// values in `debian_ovmf_mrtd`. The RTMR values come from a second such
// script: Authenticode per Microsoft's PE hashing rules (headers without
// CheckSum and the security directory entry, sections by file offset,
// trailing data without the certificate table), QEMU's setup-header patches
// for a 4 GiB q35 guest, and RTMR := SHA-384(RTMR || digest) from zero.

#[test]
fn synthetic_mrtd_both_page_orders() {
    let img = common::synthetic_ovmf();
    let s = tdvf_sections(&img).unwrap();
    assert_eq!(s.len(), 5);
    assert_eq!(
        hex::encode(mrtd(&img, PageOrder::Interleaved).unwrap()),
        "f4bb7caad00938e1655b450084f7d014bdef0d0feaaf2252306b59b09aac318cd8684b98ce50bddea975936dbd4e05bf"
    );
    assert_eq!(
        hex::encode(mrtd(&img, PageOrder::AllPagesFirst).unwrap()),
        "30c87c2ac971683d1361816a1390de8900587a7a0003b4d1976f52e62faec3e6eb9bcbf621b28a8dd15c837d265ffde5"
    );
}

#[test]
fn debian_ovmf_mrtd() {
    const PATH: &str = "/usr/share/ovmf/OVMF.fd";
    let Ok(img) = std::fs::read(PATH) else {
        eprintln!("notice: {PATH} not found; Debian OVMF MRTD check skipped");
        return;
    };
    // Only the exact package version the values were computed for.
    let il = hex::encode(mrtd(&img, PageOrder::Interleaved).unwrap());
    if img.len() != 0x20_0000 || !il.starts_with("4c7206f0") {
        eprintln!("notice: {PATH} is not the ovmf 2022.11-6+deb12u2 image; skipped");
        return;
    }
    assert_eq!(
        il,
        "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47"
    );
    assert_eq!(
        hex::encode(mrtd(&img, PageOrder::AllPagesFirst).unwrap()),
        "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed443f7e1"
    );
}

#[test]
fn tdvf_errors_are_typed() {
    let img = common::synthetic_ovmf();
    // Bad signature.
    let mut bad = img.clone();
    bad[common::TDVF_META_AT] = b'X';
    assert!(matches!(
        tdvf_sections(&bad),
        Err(MeasureError::MetadataSignature { .. })
    ));
    // A section count far beyond the declared length.
    let mut bad = img.clone();
    bad[common::TDVF_META_AT + 12..common::TDVF_META_AT + 16]
        .copy_from_slice(&1000u32.to_le_bytes());
    assert!(matches!(
        tdvf_sections(&bad),
        Err(MeasureError::MetadataSectionsOutOfRange { .. })
    ));
    // BFV measured data running past the end of the image.
    let mut bad = img.clone();
    let bfv = common::TDVF_META_AT + 16;
    bad[bfv..bfv + 4].copy_from_slice(&0x8000u32.to_le_bytes());
    assert!(matches!(
        mrtd(&bad, PageOrder::Interleaved),
        Err(MeasureError::TdvfSection { index: 0, .. })
    ));
    // Unaligned GPA.
    let mut bad = img;
    bad[bfv + 8..bfv + 16].copy_from_slice(&0xFFFF_2001u64.to_le_bytes());
    assert!(matches!(
        tdvf_sections(&bad),
        Err(MeasureError::TdvfSection { index: 0, .. })
    ));
    // No TDX entry at all.
    assert!(matches!(
        tdvf_sections(&[0u8; 8192]),
        Err(MeasureError::FooterTableMissing)
    ));
}

#[test]
fn rtmr1_and_rtmr2_of_a_synthetic_direct_boot() {
    let kernel = common::synthetic_kernel();
    let initrd = common::blob(3, 5000);
    let cmdline = "console=hvc0 root=/dev/vda1 initrd=initrd";

    // Unpatched kernel: Authenticode digest and RTMR1.
    let ev = rtmr1_direct_boot(&kernel).unwrap();
    assert_eq!(ev.len(), 5);
    assert_eq!(hex::encode(ev[0].digest), "c279f1b8ecf8166780fba7c7f97edf79a02b5962b7d80c414cc7edf0c793d70447c6af52d3a197c32473ef3b3dfcd6d8");
    assert_eq!(hex::encode(replay(&ev)), "159cf9d621f3029cab46be6310080f654543aa560860e227511176e4eea4ccaadb02e9571f675bbccc45ca33e4e2a574");

    // QEMU-patched kernel, 4 GiB guest.
    let patched = qemu_patch_kernel(
        &kernel,
        &QemuKernelPatch {
            memory_size: 4 << 30,
            initrd_size: 5000,
            acpi_data_size: QEMU_ACPI_DATA_SIZE,
        },
    )
    .unwrap();
    assert_eq!(
        &patched[0x218..0x220],
        &[0x00, 0x60, 0xfd, 0x7f, 0x88, 0x13, 0, 0]
    );
    let ev = rtmr1_direct_boot(&patched).unwrap();
    assert_eq!(hex::encode(replay(&ev)), "dffc2e9d673316cbaa8051ba0eda664264f47d6d855331aa0e687cb8534b0ea40a782558faded0fb57b074a49a2a02b8");

    let ev2 = rtmr2_direct_boot(Some(cmdline), Some(&initrd));
    assert_eq!(hex::encode(replay(&ev2)), "fc9986de06ae4041cb7f2c392d6ad75b16c979308ef62f35aa4cb065c2cb7148c959dfce57130808532ee56c67395597");

    // Not a PE image.
    assert!(matches!(
        rtmr1_direct_boot(b"not a kernel"),
        Err(MeasureError::KernelNotPe { .. })
    ));
    let mut truncated = kernel.clone();
    truncated.truncate(0x1000);
    assert!(matches!(
        rtmr1_direct_boot(&truncated),
        Err(MeasureError::KernelNotPe { .. })
    ));
}

/// Writes the synthetic kernel and initrd for recomputing the RTMR values.
#[test]
fn write_synthetic_kernel() {
    let Some(dir) = std::env::var_os("COGITO_MEASURE_WRITE_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("tdx-kernel.bin"), common::synthetic_kernel()).unwrap();
    std::fs::write(dir.join("tdx-initrd.bin"), common::blob(3, 5000)).unwrap();
}

#[test]
fn absurd_section_sizes_are_refused_quickly() {
    let mut img = common::synthetic_ovmf();
    // TempMem of 2^50 bytes: refused by the page limit, not looped over.
    let temp_mem = common::TDVF_META_AT + 16 + 3 * 32;
    img[temp_mem + 16..temp_mem + 24].copy_from_slice(&(1u64 << 50).to_le_bytes());
    assert!(matches!(
        tdvf_sections(&img),
        Err(MeasureError::TooManyPages { .. })
    ));
}
