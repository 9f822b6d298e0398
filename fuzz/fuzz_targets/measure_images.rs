//! `cogito-measure` on arbitrary firmware and kernel images: the OVMF
//! footer table and SEV metadata, the TDVF metadata and MRTD, the PE
//! Authenticode hash, and a whole SNP launch digest. Images come from build
//! pipelines and downloads; a malformed one must be refused, never panic or
//! loop (the metadata is capped at `MAX_METADATA_PAGES`).
#![no_main]

use cogito_measure::tdx::PageOrder;
use cogito_measure::{snp_launch_digest, SnpInput, VmmType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cogito_measure::ovmf::FooterTable::parse(data);
    let _ = cogito_measure::snp::SevFirmware::parse(data);
    let _ = cogito_measure::tdx::tdvf_sections(data);
    let _ = cogito_measure::tdx::mrtd(data, PageOrder::Interleaved);
    let _ = cogito_measure::pe::authenticode_sha384(data);
    let _ = cogito_measure::tdx::rtmr1_direct_boot(data);
    let input = SnpInput {
        ovmf: data,
        vcpus: 2,
        vcpu_sig: Some(0x00a0_0f11),
        vmm: VmmType::Qemu,
        guest_features: 1,
        kernel: None,
        ovmf_hash: None,
    };
    let _ = snp_launch_digest(&input);
});
