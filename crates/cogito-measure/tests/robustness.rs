//! Untrusted images: truncated or corrupted firmware and kernels give
//! errors, never panics.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod common;

use cogito_measure::tdx::{mrtd, qemu_patch_kernel, rtmr1_direct_boot, PageOrder, QemuKernelPatch};
use cogito_measure::{snp_launch_digest, KernelHashesInput, SnpInput, VmmType};

fn snp(img: &[u8]) {
    let input = SnpInput {
        ovmf: img,
        vcpus: 2,
        vcpu_sig: Some(0x00A1_0F10),
        vmm: VmmType::Qemu,
        guest_features: 1,
        kernel: Some(KernelHashesInput {
            kernel: b"k",
            initrd: None,
            cmdline: Some("x"),
        }),
        ovmf_hash: None,
    };
    let _ = snp_launch_digest(&input);
    let _ = mrtd(img, PageOrder::Interleaved);
}

#[test]
fn truncated_and_mutated_images_do_not_panic() {
    let img = common::synthetic_ovmf();
    for cut in (0..img.len()).step_by(509) {
        snp(&img[..cut]);
        snp(&img[cut..]);
    }
    // Mutate the metadata and the footer table, where the parsers look.
    let hot: Vec<usize> = (0x100..0x400).chain(img.len() - 200..img.len()).collect();
    let mut x: u64 = 0x1234_5678_9abc_def1;
    for _ in 0..3000 {
        let mut m = img.clone();
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = hot[(x % hot.len() as u64) as usize];
            m[at] = (x >> 32) as u8;
        }
        snp(&m);
    }
}

#[test]
fn corrupted_kernels_do_not_panic() {
    let k = common::synthetic_kernel();
    let p = QemuKernelPatch {
        memory_size: 1 << 30,
        initrd_size: 100,
        acpi_data_size: 0x28000,
    };
    for cut in (0..k.len()).step_by(97) {
        let _ = rtmr1_direct_boot(&k[..cut]);
        let _ = qemu_patch_kernel(&k[..cut], &p);
    }
    let mut x: u64 = 0x9e37_79b9;
    for _ in 0..3000 {
        let mut m = k.clone();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = (x % 0x200) as usize;
        m[at] = (x >> 40) as u8;
        let _ = rtmr1_direct_boot(&m);
    }
}
