//! Which TEE interface this guest has, looked for in a fixed order:
//!
//! 1. configfs-tsm at `<tsm_root>/report` (Linux 6.7 and later; SEV-SNP,
//!    TDX and Arm CCA);
//! 2. `/dev/sev-guest` (SEV-SNP on older kernels);
//! 3. `/dev/tdx_guest` (TDX on older kernels, with the host's quote
//!    service).
//!
//! The first that works is used. When none does, the error names every
//! place looked at and why it was not used; there is no fallback to
//! anything else. The simulated TEE of tests and demos is never detected:
//! it exists only when asked for by name, in builds that have it.

use std::path::PathBuf;

use crate::attester::{Attester, EvidenceError, Tee};
use crate::sev_device::SevDeviceAttester;
use crate::tdx_device::TdxDeviceAttester;
use crate::tsm::TsmAttester;

/// Where to look, and the options of each interface.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The configfs-tsm root (default `/sys/kernel/config/tsm`).
    pub tsm_root: PathBuf,
    /// The SEV-SNP guest device (default `/dev/sev-guest`).
    pub sev_device: PathBuf,
    /// The TDX guest device (default `/dev/tdx_guest`).
    pub tdx_device: PathBuf,
    /// The TDX CC event log (default the ACPI CCEL table's data).
    pub event_log: Option<PathBuf>,
    /// SEV-SNP: the VMPL to ask for.
    pub vmpl: Option<u32>,
    /// TDX over `/dev/tdx_guest`: the host QGS's vsock port.
    pub qgs_port: u32,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths {
            tsm_root: PathBuf::from(crate::tsm::DEFAULT_ROOT),
            sev_device: PathBuf::from(crate::sev_device::DEFAULT_DEVICE),
            tdx_device: PathBuf::from(crate::tdx_device::DEFAULT_DEVICE),
            event_log: Some(PathBuf::from("/sys/firmware/acpi/tables/data/CCEL")),
            vmpl: None,
            qgs_port: crate::qgs::DEFAULT_PORT,
        }
    }
}

/// The interface found, and what became of the others.
pub struct Detection {
    /// The attester to use.
    pub attester: Box<dyn Attester>,
    /// Each interface in the order looked at, with what was found there
    /// (`"used"` for the one chosen).
    pub report: Vec<(String, String)>,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection")
            .field("interface", &self.attester.interface())
            .field("report", &self.report)
            .finish()
    }
}

fn reason(e: &EvidenceError) -> String {
    match e {
        EvidenceError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "absent".into()
        }
        EvidenceError::Io { source, what, .. } => format!("{what}: {source}"),
        other => other.to_string(),
    }
}

/// Finds the first working interface (for `want`'s platform, when given).
pub fn detect(paths: &Paths, want: Option<Tee>) -> Result<Detection, EvidenceError> {
    let mut report: Vec<(String, String)> = Vec::new();
    let mut chosen: Option<Box<dyn Attester>> = None;
    let wrong_tee = |tee: Tee| {
        want.filter(|w| *w != tee)
            .map(|w| format!("a {} TEE, but {} was asked for", tee.as_str(), w.as_str()))
    };

    // 1. configfs-tsm.
    let tsm_name = format!("configfs-tsm {}", paths.tsm_root.join("report").display());
    if !paths.tsm_root.join("report").is_dir() {
        report.push((
            tsm_name,
            "absent (Linux 6.7 or later, with configfs mounted at /sys/kernel/config)".into(),
        ));
    } else {
        match TsmAttester::open(&paths.tsm_root) {
            Ok(a) => match wrong_tee(a.tee()) {
                Some(why) => report.push((tsm_name, format!("provider {}: {why}", a.provider()))),
                None => {
                    report.push((tsm_name, format!("used (provider {})", a.provider())));
                    chosen = Some(Box::new(
                        a.with_privlevel(paths.vmpl)
                            .with_event_log(paths.event_log.clone()),
                    ));
                }
            },
            Err(e) => report.push((tsm_name, reason(&e))),
        }
    }

    // 2. /dev/sev-guest, 3. /dev/tdx_guest.
    let sev_name = paths.sev_device.display().to_string();
    let tdx_name = paths.tdx_device.display().to_string();
    for (name, tee) in [(sev_name, Tee::Snp), (tdx_name, Tee::Tdx)] {
        let path = if tee == Tee::Snp {
            &paths.sev_device
        } else {
            &paths.tdx_device
        };
        if chosen.is_some() {
            let seen = if path.exists() { "present" } else { "absent" };
            report.push((
                name,
                format!(
                    "{seen}; not looked at further (an interface earlier in the order is used)"
                ),
            ));
            continue;
        }
        if let Some(why) = wrong_tee(tee) {
            let seen = if path.exists() { "present" } else { "absent" };
            report.push((name, format!("{seen}; {why}")));
            continue;
        }
        let opened: Result<Box<dyn Attester>, EvidenceError> = if tee == Tee::Snp {
            SevDeviceAttester::open(path)
                .map(|a| -> Box<dyn Attester> { Box::new(a.with_vmpl(paths.vmpl)) })
        } else {
            TdxDeviceAttester::open(path).map(|a| -> Box<dyn Attester> {
                Box::new(
                    a.with_qgs_port(paths.qgs_port)
                        .with_event_log(paths.event_log.clone()),
                )
            })
        };
        match opened {
            Ok(a) => {
                report.push((name, "used".into()));
                chosen = Some(a);
            }
            Err(e) => report.push((name, reason(&e))),
        }
    }

    match chosen {
        Some(attester) => Ok(Detection { attester, report }),
        None => Err(EvidenceError::NoTee {
            looked: report
                .into_iter()
                .map(|(name, why)| format!("{name}: {why}"))
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_found_names_every_place() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths {
            tsm_root: tmp.path().join("tsm"),
            sev_device: tmp.path().join("sev-guest"),
            tdx_device: tmp.path().join("tdx_guest"),
            ..Paths::default()
        };
        let e = detect(&paths, None).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("configfs-tsm"), "{text}");
        assert!(text.contains("sev-guest: absent"), "{text}");
        assert!(text.contains("tdx_guest: absent"), "{text}");
    }
}
