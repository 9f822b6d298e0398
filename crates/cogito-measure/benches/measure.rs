//! What computing expected measurements costs on a real firmware image:
//! Debian's OVMF.fd (package `ovmf`, /usr/share/ovmf/OVMF.fd), which holds
//! both SEV and TDX metadata.
//!
//! - `snp_launch_digest_4vcpu`: the full SEV-SNP launch digest, 4 vCPUs,
//!   EPYC-Genoa, QEMU (the same computation as
//!   `sev-snp-measure --mode snp --vcpus 4 --vcpu-type EPYC-Genoa`);
//! - `snp_launch_digest_precomputed_ovmf_hash`: the same with the firmware
//!   pages' digest supplied (`--snp-ovmf-hash`), i.e. only the metadata and
//!   VMSAs;
//! - `tdx_mrtd`: MRTD of the same image.
//!
//! Run with `cargo bench -p cogito-measure --bench measure`. Without the
//! image it prints a notice and does nothing.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::hint::black_box;

use cogito_measure::tdx::{mrtd, PageOrder};
use cogito_measure::{snp_launch_digest, snp_ovmf_hash, SnpInput, VmmType};
use criterion::Criterion;

const OVMF: &str = "/usr/share/ovmf/OVMF.fd";

fn main() {
    let Ok(ovmf) = std::fs::read(OVMF) else {
        eprintln!("notice: {OVMF} is absent (apt-get install ovmf); nothing to measure");
        return;
    };
    let sig = cogito_measure::snp::vcpu_type_sig("EPYC-Genoa").expect("known type");
    let input = SnpInput {
        ovmf: &ovmf,
        vcpus: 4,
        vcpu_sig: Some(sig),
        vmm: VmmType::Qemu,
        guest_features: 1,
        kernel: None,
        ovmf_hash: None,
    };
    let pre = SnpInput {
        ovmf_hash: Some(snp_ovmf_hash(&ovmf).expect("hash")),
        ..input.clone()
    };
    assert_eq!(
        snp_launch_digest(&input).expect("digest"),
        snp_launch_digest(&pre).expect("digest")
    );
    let mut c = Criterion::default().configure_from_args().sample_size(20);
    let mut g = c.benchmark_group("measure");
    g.bench_function("snp_launch_digest_4vcpu", |b| {
        b.iter(|| snp_launch_digest(black_box(&input)).expect("digest"))
    });
    g.bench_function("snp_launch_digest_precomputed_ovmf_hash", |b| {
        b.iter(|| snp_launch_digest(black_box(&pre)).expect("digest"))
    });
    g.bench_function("tdx_mrtd", |b| {
        b.iter(|| mrtd(black_box(&ovmf), PageOrder::Interleaved).expect("mrtd"))
    });
    g.finish();
    c.final_summary();
}
