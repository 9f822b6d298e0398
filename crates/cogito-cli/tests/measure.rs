//! `cogito measure`: output formats, exit codes, and agreement with
//! sev-snp-measure on Debian's OVMF image.
//! Tests that need Debian's OVMF.fd skip with a notice without it; the
//! committed sev-snp-measure values for a synthetic image always run, in
//! cogito-measure's own tests.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;
use std::process::{Command, Output};

const DEBIAN_OVMF: &str = "/usr/share/ovmf/OVMF.fd";
/// `sev-snp-measure --mode snp --ovmf /usr/share/ovmf/OVMF.fd --vcpus 4
/// --vcpu-type EPYC-Genoa` (sev-snp-measure 0.0.13, ovmf 2022.11-6+deb12u2).
const DEBIAN_GENOA_4: &str =
    "a509186122f6e4e095ebab39abf4aea568d9949b9e929d0759f45a3983dfc2df71404de97367aba26c08ddeebc3d7ba0";
/// MRTD of the same image, interleaved page order (see docs/measure.md).
const DEBIAN_MRTD: &str =
    "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb231c47";

fn cogito(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(args)
        .output()
        .expect("run cogito")
}

/// Debian's OVMF.fd, only in the version the committed values are for.
fn debian_ovmf() -> bool {
    match std::fs::metadata(DEBIAN_OVMF) {
        Ok(m) if m.len() == 0x20_0000 => true,
        _ => {
            eprintln!("notice: {DEBIAN_OVMF} (ovmf 2022.11-6+deb12u2) not found; skipped");
            false
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn snp_hex_policy_and_json() {
    if !debian_ovmf() {
        return;
    }
    let base = [
        "measure",
        "snp",
        "--ovmf",
        DEBIAN_OVMF,
        "--vcpus",
        "4",
        "--vcpu-type",
        "EPYC-Genoa",
    ];
    let o = cogito(&base);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), format!("{DEBIAN_GENOA_4}\n"));

    // The friendly alias gives the same digest.
    let o = cogito(&[
        "measure",
        "snp",
        "--ovmf",
        DEBIAN_OVMF,
        "--vcpus",
        "4",
        "--vcpu-type",
        "genoa",
    ]);
    assert_eq!(stdout(&o).trim(), DEBIAN_GENOA_4);

    let o = cogito(&[&base[..], &["--format", "policy"]].concat());
    let text = stdout(&o);
    assert!(text.starts_with(
        "# cogito measure snp --ovmf /usr/share/ovmf/OVMF.fd --vcpus 4 --vcpu-type EPYC-Genoa\n"
    ));
    let v: toml::Value = toml::from_str(&text).expect("policy output is TOML");
    assert_eq!(v["snp"]["measurements"][0].as_str(), Some(DEBIAN_GENOA_4));
    // The output is a reference-value file a policy includes as it is.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ovmf.toml"), &text).unwrap();
    let policy = tmp.path().join("p.toml");
    std::fs::write(
        &policy,
        "[policy]\nname = \"p\"\ninclude = [\"ovmf.toml\"]\n[snp]\n",
    )
    .unwrap();
    let o = cogito(&["policy", "check", policy.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let o = cogito(&[&base[..], &["--format", "json"]].concat());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["measurement"], DEBIAN_GENOA_4);
    assert_eq!(v["inputs"]["vcpu_sig"], "0xa10f10");
}

#[test]
fn snp_equals_sev_snp_measure_where_installed() {
    if !debian_ovmf() {
        return;
    }
    for args in [
        &["--vcpus", "1", "--vcpu-type", "EPYC-Milan"][..],
        &[
            "--vcpus",
            "16",
            "--vcpu-type",
            "EPYC-Turin",
            "--guest-features",
            "0x21",
        ],
        &[
            "--vcpus",
            "2",
            "--vcpu-sig",
            "0xa10f11",
            "--vmm-type",
            "gce",
        ],
        &[
            "--vcpus",
            "8",
            "--vcpu-type",
            "EPYC-v4",
            "--vmm-type",
            "ec2",
        ],
    ] {
        let Ok(theirs) = Command::new("sev-snp-measure")
            .args(["--mode", "snp", "--ovmf", DEBIAN_OVMF])
            .args(args)
            .output()
        else {
            eprintln!("notice: sev-snp-measure not installed; comparison skipped");
            return;
        };
        let ours = cogito(&[&["measure", "snp", "--ovmf", DEBIAN_OVMF][..], args].concat());
        assert_eq!(ours.status.code(), Some(0), "{ours:?}");
        assert_eq!(
            stdout(&ours),
            String::from_utf8_lossy(&theirs.stdout),
            "{args:?}"
        );
    }
}

#[test]
fn snp_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.fd");
    std::fs::write(&junk, vec![0u8; 8192]).unwrap();
    let junk = junk.to_str().unwrap();
    // Unreadable and invalid firmware: bad input.
    let o = cogito(&[
        "measure",
        "snp",
        "--ovmf",
        "/nonexistent/OVMF.fd",
        "--vcpus",
        "1",
        "--vcpu-type",
        "milan",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let o = cogito(&[
        "measure",
        "snp",
        "--ovmf",
        junk,
        "--vcpus",
        "1",
        "--vcpu-type",
        "milan",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("footer"),
        "{o:?}"
    );
    // Usage: unknown type, no type for QEMU, conflicting options, no vCPUs.
    for args in [
        &["--vcpus", "1", "--vcpu-type", "EPYC-Bergamo"][..],
        &["--vcpus", "1"],
        &["--vcpus", "1", "--vcpu-type", "milan", "--vcpu-sig", "1"],
        &["--vcpus", "0", "--vcpu-type", "milan"],
        &["--vcpus", "1", "--vcpu-type", "milan", "--vmm-type", "xen"],
        &["--vcpus", "1", "--vcpu-type", "milan", "--append", "x"],
    ] {
        let o = cogito(&[&["measure", "snp", "--ovmf", junk][..], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {o:?}");
    }
}

#[test]
fn tdx_mrtd_and_policy() {
    let o = cogito(&["measure", "tdx"]);
    assert_eq!(o.status.code(), Some(2), "no input is a usage error");
    if !debian_ovmf() {
        return;
    }
    let o = cogito(&["measure", "tdx", "--ovmf", DEBIAN_OVMF]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), format!("mrtd {DEBIAN_MRTD}\n"));
    let o = cogito(&[
        "measure",
        "tdx",
        "--ovmf",
        DEBIAN_OVMF,
        "--format",
        "policy",
    ]);
    let v: toml::Value = toml::from_str(&stdout(&o)).expect("policy output is TOML");
    assert_eq!(v["tdx"]["mrtd"][0].as_str(), Some(DEBIAN_MRTD));
    assert!(v["tdx"].get("rtmr1").is_none());
    // The code-only image has no TDX metadata: bad input.
    if Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").exists() {
        let o = cogito(&[
            "measure",
            "tdx",
            "--ovmf",
            "/usr/share/OVMF/OVMF_CODE_4M.fd",
        ]);
        assert_eq!(o.status.code(), Some(3));
    }
}
