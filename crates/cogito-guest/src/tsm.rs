//! Linux configfs-tsm (Linux 6.7 and later), as the kernel's ABI document
//! `Documentation/ABI/testing/configfs-tsm-report` describes it:
//!
//! 1. `mkdir <root>/report/<name>`: a report directory of our own;
//! 2. read `provider` (`sev_guest`, `tdx_guest`, `arm_cca_guest`) and
//!    `generation`;
//! 3. SEV-SNP: check the wanted VMPL against `privlevel_floor` and write it
//!    to `privlevel`;
//! 4. write the 64 bytes of report data to `inblob`;
//! 5. read `outblob` (the kernel asks the TEE now) and, for SEV-SNP,
//!    `auxblob` (the host's certificate table);
//! 6. read `generation` again: every write to `inblob` or an option bumps
//!    it once, so anything but our own count means another writer used the
//!    directory between our write and our read, and the blob may be
//!    theirs. That is an error, retried once in a fresh directory;
//! 7. `rmdir` the report directory.
//!
//! The root is configurable so that tests can drive this very code against
//! a directory that plays the kernel's part. Such a directory cannot make
//! the attributes appear inside `mkdir` as configfs does, so a new
//! directory's `provider` is waited for (briefly; on configfs it is there
//! at once).

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::attester::{check_evidence, Attester, Evidence, EvidenceError, Tee};

/// The default configfs-tsm root.
pub const DEFAULT_ROOT: &str = "/sys/kernel/config/tsm";

/// The largest blob read from an attribute (configfs-tsm caps `outblob` at
/// 32 KiB and `auxblob` at the firmware's 16 KiB certificate area; this
/// leaves room for both).
const MAX_BLOB: u64 = 1 << 20;

/// How long a new report directory's attributes are waited for.
const ATTRIBUTES_WAIT: Duration = Duration::from_secs(2);

/// The platform a configfs-tsm `provider` names.
pub fn tee_of_provider(provider: &str) -> Option<Tee> {
    match provider {
        "sev_guest" => Some(Tee::Snp),
        "tdx_guest" => Some(Tee::Tdx),
        "arm_cca_guest" => Some(Tee::Cca),
        _ => None,
    }
}

/// The configfs-tsm attester.
#[derive(Debug, Clone)]
pub struct TsmAttester {
    root: PathBuf,
    provider: String,
    tee: Tee,
    /// SEV-SNP: the VMPL to ask for (`privlevel`); `None` leaves the
    /// kernel's default (the floor).
    privlevel: Option<u32>,
    /// TDX: where the CC event log is read from, if anywhere.
    event_log: Option<PathBuf>,
}

fn io<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> EvidenceError + 'a {
    move |source| EvidenceError::Io {
        path: path.display().to_string(),
        what,
        source,
    }
}

fn read_attr(dir: &Path, name: &'static str) -> Result<Vec<u8>, EvidenceError> {
    let path = dir.join(name);
    let mut out = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_BLOB).read_to_end(&mut out))
        .map_err(io(&path, "reading"))?;
    Ok(out)
}

fn read_text(dir: &Path, name: &'static str) -> Result<String, EvidenceError> {
    let bytes = read_attr(dir, name)?;
    String::from_utf8(bytes)
        .map(|s| s.trim().to_string())
        .map_err(|_| EvidenceError::Interface {
            interface: "configfs-tsm".into(),
            problem: format!("{}: not text", dir.join(name).display()),
        })
}

fn read_number(dir: &Path, name: &'static str) -> Result<u64, EvidenceError> {
    let text = read_text(dir, name)?;
    text.parse().map_err(|_| EvidenceError::Interface {
        interface: "configfs-tsm".into(),
        problem: format!("{}: {text:?} is not a number", dir.join(name).display()),
    })
}

/// Writes an attribute in one `write` (configfs takes an attribute's value
/// from a single write), without creating it.
fn write_attr(dir: &Path, name: &'static str, value: &[u8]) -> Result<(), EvidenceError> {
    let path = dir.join(name);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(io(&path, "opening for writing"))?;
    let n = f.write(value).map_err(io(&path, "writing"))?;
    if n != value.len() {
        return Err(EvidenceError::Interface {
            interface: "configfs-tsm".into(),
            problem: format!(
                "{}: took {n} of {} bytes in one write",
                path.display(),
                value.len()
            ),
        });
    }
    Ok(())
}

/// A report directory, removed when dropped.
struct ReportDir {
    path: PathBuf,
}

impl ReportDir {
    fn create(root: &Path) -> Result<ReportDir, EvidenceError> {
        let report = root.join("report");
        let mut random = [0u8; 8];
        aws_lc_rs::rand::fill(&mut random).map_err(|_| EvidenceError::Interface {
            interface: "configfs-tsm".into(),
            problem: "no random bytes for a report directory's name".into(),
        })?;
        let path = report.join(format!(
            "cogito-{}-{}",
            std::process::id(),
            hex::encode(random)
        ));
        std::fs::create_dir(&path).map_err(io(&path, "creating a report directory"))?;
        let dir = ReportDir { path };
        let provider = dir.path.join("provider");
        let deadline = Instant::now() + ATTRIBUTES_WAIT;
        while !provider.exists() {
            if Instant::now() >= deadline {
                return Err(EvidenceError::Interface {
                    interface: "configfs-tsm".into(),
                    problem: format!(
                        "{}: the report directory has no provider attribute",
                        dir.path.display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(dir)
    }
}

impl Drop for ReportDir {
    fn drop(&mut self) {
        // configfs removes the attributes with the directory. A failure
        // leaves a directory behind but does not make the evidence wrong.
        let _ = std::fs::remove_dir(&self.path);
    }
}

impl TsmAttester {
    /// Opens configfs-tsm at `root` (normally [`DEFAULT_ROOT`]): makes a
    /// report directory to read its `provider`, and removes it.
    pub fn open(root: &Path) -> Result<TsmAttester, EvidenceError> {
        let dir = ReportDir::create(root)?;
        let provider = read_text(&dir.path, "provider")?;
        drop(dir);
        let tee = tee_of_provider(&provider).ok_or_else(|| EvidenceError::Interface {
            interface: "configfs-tsm".into(),
            problem: format!(
                "provider {provider:?} is none of sev_guest, tdx_guest, arm_cca_guest"
            ),
        })?;
        Ok(TsmAttester {
            root: root.to_path_buf(),
            provider,
            tee,
            privlevel: None,
            event_log: None,
        })
    }

    /// The kernel's provider name.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// SEV-SNP: asks for reports at this VMPL (written to `privlevel`;
    /// refused when below `privlevel_floor`).
    pub fn with_privlevel(mut self, vmpl: Option<u32>) -> TsmAttester {
        self.privlevel = vmpl;
        self
    }

    /// TDX: reads the CC event log from this file (normally
    /// `/sys/firmware/acpi/tables/data/CCEL`) when it is readable.
    pub fn with_event_log(mut self, path: Option<PathBuf>) -> TsmAttester {
        self.event_log = path;
        self
    }

    fn attempt(&self, report_data: &[u8; 64]) -> Result<Evidence, EvidenceError> {
        let dir = ReportDir::create(&self.root)?;
        let d = dir.path.as_path();
        let provider = read_text(d, "provider")?;
        if provider != self.provider {
            return Err(EvidenceError::Interface {
                interface: "configfs-tsm".into(),
                problem: format!(
                    "{}: provider is {provider:?}, was {:?}",
                    d.display(),
                    self.provider
                ),
            });
        }
        let before = read_number(d, "generation")?;
        let mut writes = 0u64;
        if let Some(level) = self.privlevel {
            if self.tee != Tee::Snp {
                return Err(EvidenceError::Unsupported(format!(
                    "a privilege level (VMPL) applies to SEV-SNP only, not to {}",
                    self.provider
                )));
            }
            let floor = read_number(d, "privlevel_floor")?;
            if u64::from(level) < floor {
                return Err(EvidenceError::Unsupported(format!(
                    "VMPL {level} is below this guest's privlevel_floor {floor}: the kernel runs at VMPL {floor} and cannot ask for a more privileged report"
                )));
            }
            write_attr(d, "privlevel", level.to_string().as_bytes())?;
            writes += 1;
        }
        write_attr(d, "inblob", report_data)?;
        writes += 1;
        let outblob = read_attr(d, "outblob")?;
        let auxblob = if self.tee == Tee::Snp {
            // No certificate table is not an error: the host may not
            // provide one (the server then uses its cache or the KDS).
            match read_attr(d, "auxblob") {
                Ok(b) if b.iter().any(|&x| x != 0) => Some(b),
                Ok(_) => None,
                Err(EvidenceError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    None
                }
                Err(e) => return Err(e),
            }
        } else {
            None
        };
        let after = read_number(d, "generation")?;
        let expected = before.saturating_add(writes);
        if after != expected {
            return Err(EvidenceError::ConcurrentWriter {
                path: d.display().to_string(),
                before,
                after,
                expected,
            });
        }
        let interface = self.interface();
        check_evidence(self.tee, &interface, &outblob, report_data)?;
        let event_log = match (&self.event_log, self.tee) {
            (Some(path), Tee::Tdx) => std::fs::read(path).ok().filter(|b| !b.is_empty()),
            _ => None,
        };
        Ok(Evidence {
            tee: self.tee,
            interface,
            evidence: outblob,
            cert_table: auxblob,
            event_log,
        })
    }
}

impl Attester for TsmAttester {
    fn tee(&self) -> Tee {
        self.tee
    }

    fn interface(&self) -> String {
        format!("configfs-tsm ({})", self.provider)
    }

    fn evidence(&self, report_data: &[u8; 64]) -> Result<Evidence, EvidenceError> {
        match self.attempt(report_data) {
            // Another writer raced us: once more, in a fresh directory.
            Err(EvidenceError::ConcurrentWriter { .. }) => self.attempt(report_data),
            other => other,
        }
    }
}
