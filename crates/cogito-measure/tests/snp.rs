//! SEV-SNP launch digests: committed expected values on a synthetic image,
//! and a live comparison with `sev-snp-measure` where it is installed.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod common;

use std::path::Path;
use std::process::Command;

use cogito_measure::snp::{cpu_sig, vcpu_type_sig};
use cogito_measure::{
    snp_launch_digest, snp_ovmf_hash, KernelHashesInput, MeasureError, SnpInput, VmmType,
};

/// One launch configuration, described as sev-snp-measure's arguments.
#[derive(Clone, Copy, Debug)]
struct Config {
    vcpus: u32,
    /// `--vcpu-type NAME` or, if it starts with "0x", `--vcpu-sig VALUE`.
    cpu: &'static str,
    vmm: &'static str,
    /// 0: no kernel; 1: kernel only; 2: kernel + initrd; 3: + append.
    boot: u8,
    guest_features: u64,
}

const APPEND: &str = "console=ttyS0 root=/dev/vda1 ro";

fn kernel_blob() -> Vec<u8> {
    common::blob(7, 10_000)
}
fn initrd_blob() -> Vec<u8> {
    common::blob(99, 5_000)
}

fn cogito(ovmf: &[u8], c: Config, kernel: &[u8], initrd: &[u8]) -> Result<String, MeasureError> {
    let sig = if let Some(hex) = c.cpu.strip_prefix("0x") {
        u32::from_str_radix(hex, 16).unwrap()
    } else {
        vcpu_type_sig(c.cpu)?
    };
    let k = (c.boot > 0).then(|| KernelHashesInput {
        kernel,
        initrd: (c.boot >= 2).then_some(initrd),
        cmdline: (c.boot >= 3).then_some(APPEND),
    });
    let input = SnpInput {
        ovmf,
        vcpus: c.vcpus,
        vcpu_sig: Some(sig),
        vmm: VmmType::parse(c.vmm)?,
        guest_features: c.guest_features,
        kernel: k,
        ovmf_hash: None,
    };
    Ok(hex::encode(snp_launch_digest(&input)?))
}

const fn cfg(
    vcpus: u32,
    cpu: &'static str,
    vmm: &'static str,
    boot: u8,
    guest_features: u64,
) -> Config {
    Config {
        vcpus,
        cpu,
        vmm,
        boot,
        guest_features,
    }
}

/// Expected digests on the synthetic image, computed once with
/// sev-snp-measure 0.0.13 (`COGITO_MEASURE_WRITE_DIR=/tmp/s cargo test -p
/// cogito-measure --test snp write_synthetic_inputs -- --ignored`, then
/// `sev-snp-measure --mode snp --ovmf /tmp/s/synthetic.fd --vcpus N
/// --vcpu-type T --vmm-type V [--kernel /tmp/s/kernel.bin [--initrd
/// /tmp/s/initrd.bin] [--append "console=ttyS0 root=/dev/vda1 ro"]]
/// [--guest-features 0x21]`).
const SYNTHETIC_VECTORS: &[(Config, &str)] = &[
    (cfg(1, "EPYC-v4", "QEMU", 0, 0x1), 
        "d58f279a1a3e516fa634b7a6a81222df75b450fc8e101ca34d4a53b1dd256bcaf2725c7c568011dbb02377e91e4e2833",
    ),
    (cfg(4, "EPYC-Milan", "QEMU", 0, 0x1), 
        "a484fa80b92acc6c6f55b976bfd35c4a8153995cd3022c10500d06b9411568684ee24ecc380ff685d0efaac11a83ddc1",
    ),
    (cfg(2, "EPYC-Genoa", "QEMU", 3, 0x1), 
        "1cd8bae14d491ef9cfc22f8bad87d5ccf9c6e7bc6316acf004e0e7e2c2a855b0c8c8b9b7a5728f98dbf601a375cb5b1a",
    ),
    (cfg(16, "EPYC-Turin", "QEMU", 2, 0x21), 
        "ac75ca0850aaff998c97d13fec6483ecfc54526d3a85e75e6af28af15ca8631adb2ebb788cb2e098d2d40812dbe3f01a",
    ),
    (cfg(4, "EPYC-Genoa", "ec2", 1, 0x1), 
        "551899f4c67e22222de27992da4795551ba4587a3bcf9f51b80d30f9bba84975808acd67dfe53831734b4b5c23fd20b2",
    ),
    (cfg(8, "EPYC-Milan", "gce", 3, 0x1), 
        "749f1f3421ff47bf640b09f49c10e0125151ded2ae759398380547d7ca914a20eebf6002a73b132b9c0048a2b176985b",
    ),
    (cfg(3, "0xa10f11", "QEMU", 0, 0x21), 
        "23f3b797fa32d2f6ab509612539f6f60ee887e7ca16e7b5f1a894dec07752e0d19f0280a0f6df730be894c96c2eac19a",
    ),
];

#[test]
fn synthetic_image_matches_committed_sev_snp_measure_values() {
    let img = common::synthetic_ovmf();
    let (k, i) = (kernel_blob(), initrd_blob());
    for (c, want) in SYNTHETIC_VECTORS {
        assert_eq!(cogito(&img, *c, &k, &i).unwrap(), *want, "{c:?}");
    }
}

/// Writes the synthetic inputs for regenerating [`SYNTHETIC_VECTORS`]. A
/// tool, not a check: ignored unless asked for by name with `--ignored`.
#[test]
#[ignore = "writes the synthetic inputs to $COGITO_MEASURE_WRITE_DIR for regenerating SYNTHETIC_VECTORS"]
fn write_synthetic_inputs() {
    let dir = std::env::var_os("COGITO_MEASURE_WRITE_DIR")
        .expect("set COGITO_MEASURE_WRITE_DIR to the folder to write the synthetic inputs to");
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("synthetic.fd"), common::synthetic_ovmf()).unwrap();
    std::fs::write(dir.join("kernel.bin"), kernel_blob()).unwrap();
    std::fs::write(dir.join("initrd.bin"), initrd_blob()).unwrap();
}

fn sev_snp_measure(ovmf: &Path, c: Config, dir: &Path) -> Result<String, String> {
    let mut cmd = Command::new("sev-snp-measure");
    cmd.args([
        "--mode",
        "snp",
        "--vcpus",
        &c.vcpus.to_string(),
        "--vmm-type",
        c.vmm,
    ]);
    cmd.arg("--ovmf").arg(ovmf);
    if c.cpu.starts_with("0x") {
        cmd.args(["--vcpu-sig", c.cpu]);
    } else {
        cmd.args(["--vcpu-type", c.cpu]);
    }
    if c.boot >= 1 {
        cmd.arg("--kernel").arg(dir.join("kernel.bin"));
    }
    if c.boot >= 2 {
        cmd.arg("--initrd").arg(dir.join("initrd.bin"));
    }
    if c.boot >= 3 {
        cmd.args(["--append", APPEND]);
    }
    cmd.args(["--guest-features", &format!("{:#x}", c.guest_features)]);
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn have_sev_snp_measure() -> bool {
    Command::new("sev-snp-measure")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The configurations compared live: vCPU counts, types, an explicit
/// signature, every VMM type, guest features 0x1 and 0x21; with kernel
/// hashes only on the synthetic image (Debian's OVMF.fd is not built for
/// measured direct boot).
fn live_configs(with_kernel: bool) -> Vec<Config> {
    let mut v = Vec::new();
    for &vcpus in &[1, 2, 4, 16, 64] {
        for &cpu in &[
            "EPYC-v4",
            "EPYC-Milan",
            "EPYC-Genoa",
            "EPYC-Turin",
            "0xa10f11",
        ] {
            for &vmm in &["QEMU", "ec2", "gce"] {
                for &gf in &[0x1, 0x21] {
                    // Keep the run short: every type and VMM at 1 and 4
                    // vCPUs, a sample at the other counts.
                    if ![1, 4].contains(&vcpus) && (vmm != "QEMU" || gf != 0x1) {
                        continue;
                    }
                    v.push(cfg(vcpus, cpu, vmm, 0, gf));
                }
            }
        }
    }
    if with_kernel {
        for boot in 1..=3 {
            for &vmm in &["QEMU", "ec2", "gce"] {
                v.push(cfg(2, "EPYC-Genoa", vmm, boot, 0x1));
                v.push(cfg(4, "EPYC-Milan", vmm, boot, 0x21));
            }
        }
    }
    v
}

#[test]
fn equals_sev_snp_measure_where_installed() {
    const DEBIAN_OVMF: &str = "/usr/share/ovmf/OVMF.fd";
    if !have_sev_snp_measure() || !Path::new(DEBIAN_OVMF).exists() {
        eprintln!("notice: sev-snp-measure or {DEBIAN_OVMF} not found; live comparison skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let synthetic = dir.path().join("synthetic.fd");
    std::fs::write(&synthetic, common::synthetic_ovmf()).unwrap();
    std::fs::write(dir.path().join("kernel.bin"), kernel_blob()).unwrap();
    std::fs::write(dir.path().join("initrd.bin"), initrd_blob()).unwrap();
    let (k, i) = (kernel_blob(), initrd_blob());

    let mut compared = 0;
    for (path, with_kernel) in [(Path::new(DEBIAN_OVMF), false), (synthetic.as_path(), true)] {
        let image = std::fs::read(path).unwrap();
        for c in live_configs(with_kernel) {
            let theirs =
                sev_snp_measure(path, c, dir.path()).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            assert_eq!(
                cogito(&image, c, &k, &i).unwrap(),
                theirs,
                "{} {c:?}",
                path.display()
            );
            compared += 1;
        }
    }
    // The precomputed firmware hash path (--snp-ovmf-hash) gives the same digest.
    let image = std::fs::read(DEBIAN_OVMF).unwrap();
    let seed = snp_ovmf_hash(&image).unwrap();
    let base = SnpInput {
        ovmf: &image,
        vcpus: 4,
        vcpu_sig: Some(cpu_sig(25, 17, 0)),
        vmm: VmmType::Qemu,
        guest_features: 1,
        kernel: None,
        ovmf_hash: None,
    };
    let with_seed = SnpInput {
        ovmf_hash: Some(seed),
        ..base.clone()
    };
    assert_eq!(
        snp_launch_digest(&base).unwrap(),
        snp_launch_digest(&with_seed).unwrap()
    );
    eprintln!("compared {compared} configurations with sev-snp-measure: all equal");
}

#[test]
fn snp_errors_are_typed() {
    let img = common::synthetic_ovmf();
    let base = SnpInput {
        ovmf: &img,
        vcpus: 2,
        vcpu_sig: Some(cpu_sig(25, 1, 1)),
        vmm: VmmType::Qemu,
        guest_features: 1,
        kernel: None,
        ovmf_hash: None,
    };
    assert!(snp_launch_digest(&base).is_ok());
    let err = |i: &SnpInput<'_>| snp_launch_digest(i).unwrap_err();

    assert_eq!(
        err(&SnpInput {
            vcpu_sig: None,
            ..base.clone()
        }),
        MeasureError::VcpuSigRequired
    );
    assert_eq!(
        err(&SnpInput {
            vcpus: 0,
            ..base.clone()
        }),
        MeasureError::NoVcpus
    );
    // EC2 and GCE need no signature.
    assert!(snp_launch_digest(&SnpInput {
        vcpu_sig: None,
        vmm: VmmType::Gce,
        ..base.clone()
    })
    .is_ok());

    let sev = common::SEV_META_AT;
    let mut bad = img.clone();
    bad[sev..sev + 4].copy_from_slice(b"XSEV");
    assert!(matches!(
        err(&SnpInput {
            ovmf: &bad,
            ..base.clone()
        }),
        MeasureError::MetadataSignature { .. }
    ));

    let mut bad = img.clone();
    bad[sev + 8..sev + 12].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        err(&SnpInput {
            ovmf: &bad,
            ..base.clone()
        }),
        MeasureError::MetadataVersion { version: 2, .. }
    ));

    // Section type 7 is unknown.
    let mut bad = img.clone();
    bad[sev + 16 + 8..sev + 16 + 12].copy_from_slice(&7u32.to_le_bytes());
    assert!(matches!(
        err(&SnpInput {
            ovmf: &bad,
            ..base.clone()
        }),
        MeasureError::UnknownSevSectionType {
            index: 0,
            section_type: 7
        }
    ));

    // A SEC_MEMORY size that is not whole pages.
    let mut bad = img.clone();
    bad[sev + 16 + 4..sev + 16 + 8].copy_from_slice(&0x1234u32.to_le_bytes());
    assert!(matches!(
        err(&SnpInput {
            ovmf: &bad,
            ..base.clone()
        }),
        MeasureError::SevSectionSize { index: 0, .. }
    ));

    // Many huge sections: refused by the page limit.
    let mut bad = img.clone();
    for i in 0..5 {
        let at = sev + 16 + 12 * i + 4;
        bad[at..at + 4].copy_from_slice(&0xFFFF_F000u32.to_le_bytes());
    }
    assert!(matches!(
        err(&SnpInput {
            ovmf: &bad,
            ..base.clone()
        }),
        MeasureError::TooManyPages { .. }
    ));

    // The image must be whole pages (unless its hash is given).
    let short = &img[..img.len() - 16];
    assert!(matches!(
        err(&SnpInput {
            ovmf: short,
            ..base.clone()
        }),
        MeasureError::FooterTableMissing
    ));

    // Kernel hashes need the SNP_KERNEL_HASHES section.
    let mut bad = img.clone();
    bad[sev + 16 + 36 + 8..sev + 16 + 36 + 12].copy_from_slice(&1u32.to_le_bytes());
    let k = KernelHashesInput {
        kernel: b"k",
        initrd: None,
        cmdline: None,
    };
    assert_eq!(
        err(&SnpInput {
            ovmf: &bad,
            kernel: Some(k),
            ..base.clone()
        }),
        MeasureError::KernelHashesUnsupported
    );

    // No AP reset address: only one vCPU can be measured.
    let mut bad = img.clone();
    let eip = bad.len() - 32 - 18 - 18 - 4;
    bad[eip..eip + 4].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(
        err(&SnpInput {
            ovmf: &bad,
            ..base.clone()
        }),
        MeasureError::NoApResetAddress
    );
    assert!(snp_launch_digest(&SnpInput {
        ovmf: &bad,
        vcpus: 1,
        ..base
    })
    .is_ok());
}
