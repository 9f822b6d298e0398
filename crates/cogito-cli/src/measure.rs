//! `cogito measure snp|tdx`: the measurements a guest built from these
//! images will report, ready for a policy file.
//!
//! `snp` takes sev-snp-measure's options under the same names and prints
//! the same lower-case hex; the computation is in `cogito-measure`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use cogito_core::CogitoError;
use cogito_measure::snp::{cpu_sig, vcpu_type_sig};
use cogito_measure::tdx::{self, PageOrder, QemuKernelPatch, RtmrEvent};
use cogito_measure::{KernelHashesInput, MeasureError, SnpInput, VmmType};
use serde_json::json;

/// Exit code for bad arguments.
const EXIT_USAGE: i32 = 2;
/// Exit code for unreadable or invalid input files.
const EXIT_BAD_INPUT: i32 = 3;

/// `cogito measure`.
#[derive(Args, Debug)]
pub struct MeasureArgs {
    /// The platform.
    #[command(subcommand)]
    pub platform: MeasurePlatform,
}

/// The platforms `cogito measure` computes for.
#[derive(Subcommand, Debug)]
pub enum MeasurePlatform {
    /// AMD SEV-SNP launch digest (MEASUREMENT) of an OVMF guest; the same
    /// options and output as `sev-snp-measure --mode snp`.
    Snp(SnpArgs),
    /// Intel TDX MRTD of a TDVF image, and RTMR1/RTMR2 of a direct boot.
    Tdx(TdxArgs),
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MeasureFormat {
    /// Lower-case hex (for SNP exactly sev-snp-measure's output).
    Hex,
    /// A JSON object with the inputs and values.
    Json,
    /// A TOML snippet for a cogito policy or reference-value file.
    Policy,
}

/// `cogito measure snp`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("cpu").args(["vcpu_type", "vcpu_sig", "vcpu_family"])))]
pub struct SnpArgs {
    /// OVMF firmware image (as given to QEMU's -bios).
    #[arg(long, value_name = "PATH")]
    pub ovmf: PathBuf,
    /// Number of guest vCPUs.
    #[arg(long, value_name = "N")]
    pub vcpus: u32,
    /// vCPU type: QEMU's names (EPYC, EPYC-v1..v4, EPYC-Rome*, EPYC-Milan*,
    /// EPYC-Genoa*, EPYC-Turin) or rome, milan, genoa, turin.
    #[arg(long, value_name = "CPUTYPE")]
    pub vcpu_type: Option<String>,
    /// vCPU signature (CPUID 1 EAX), decimal or 0x-hex.
    #[arg(long, value_name = "VALUE", value_parser = parse_u32)]
    pub vcpu_sig: Option<u32>,
    /// vCPU family (with --vcpu-model and --vcpu-stepping).
    #[arg(long, value_name = "FAMILY", requires_all = ["vcpu_model", "vcpu_stepping"])]
    pub vcpu_family: Option<u32>,
    /// vCPU model.
    #[arg(long, value_name = "MODEL", requires = "vcpu_family")]
    pub vcpu_model: Option<u32>,
    /// vCPU stepping.
    #[arg(long, value_name = "STEPPING", requires = "vcpu_family")]
    pub vcpu_stepping: Option<u32>,
    /// VMM: QEMU, ec2 or gce.
    #[arg(long, value_name = "VMMTYPE", default_value = "QEMU")]
    pub vmm_type: String,
    /// Kernel for measured direct boot (SEV hashes table).
    #[arg(long, value_name = "PATH")]
    pub kernel: Option<PathBuf>,
    /// Initrd (with --kernel).
    #[arg(long, value_name = "PATH", requires = "kernel")]
    pub initrd: Option<PathBuf>,
    /// Kernel command line (with --kernel).
    #[arg(
        long,
        value_name = "CMDLINE",
        requires = "kernel",
        allow_hyphen_values = true
    )]
    pub append: Option<String>,
    /// SEV_FEATURES of the guest's VMSAs, decimal or 0x-hex.
    #[arg(long, value_name = "VALUE", default_value = "0x1", value_parser = parse_u64)]
    pub guest_features: u64,
    /// Precomputed digest of the OVMF pages (96 hex characters); the image
    /// is then only parsed, not hashed.
    #[arg(long, value_name = "HASH")]
    pub snp_ovmf_hash: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MeasureFormat::Hex)]
    pub format: MeasureFormat,
}

/// Page-add order of the VMM (see `cogito_measure::tdx::PageOrder`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PageOrderArg {
    /// Per page: TDH.MEM.PAGE.ADD then its TDH.MR.EXTENDs (QEMU ≥ 9, upstream KVM).
    Interleaved,
    /// Per section: all TDH.MEM.PAGE.ADDs, then the extends (QEMU 8.x era stacks).
    AllPagesFirst,
}

/// `cogito measure tdx`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("inputs").required(true).multiple(true).args(["ovmf", "kernel", "initrd", "append"])))]
pub struct TdxArgs {
    /// TDVF/OVMF image with TDX metadata: gives MRTD.
    #[arg(long, value_name = "PATH")]
    pub ovmf: Option<PathBuf>,
    /// VMM page-add order for MRTD.
    #[arg(long, value_enum, default_value_t = PageOrderArg::Interleaved)]
    pub page_order: PageOrderArg,
    /// Direct-boot kernel (PE/COFF bzImage): gives RTMR1.
    #[arg(long, value_name = "PATH")]
    pub kernel: Option<PathBuf>,
    /// Initrd: part of RTMR2 (and of QEMU's kernel patches).
    #[arg(long, value_name = "PATH")]
    pub initrd: Option<PathBuf>,
    /// Kernel command line exactly as the guest sees it (/proc/cmdline,
    /// including OVMF's `initrd=initrd`): part of RTMR2.
    #[arg(long, value_name = "CMDLINE", allow_hyphen_values = true)]
    pub append: Option<String>,
    /// Apply QEMU's `-kernel` setup-header patches for a q35 guest with
    /// this much RAM (as QEMU's -m: a number in MiB, or with a K/M/G/T
    /// suffix) before hashing the kernel.
    #[arg(long, value_name = "SIZE", value_parser = parse_qemu_size, requires = "kernel")]
    pub qemu_memory: Option<u64>,
    /// ACPI area QEMU reserves below 4 GiB (with --qemu-memory).
    #[arg(long, value_name = "BYTES", default_value = "0x28000", value_parser = parse_u32, requires = "qemu_memory")]
    pub qemu_acpi_size: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MeasureFormat::Hex)]
    pub format: MeasureFormat,
}

/// Parses decimal or 0x-hex (also 0o, 0b), like Python's `int(s, 0)`.
fn parse_u64(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let (digits, radix) = match t.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0x") => (&t[2..], 16),
        Some("0o") => (&t[2..], 8),
        Some("0b") => (&t[2..], 2),
        _ => (t.as_str(), 10),
    };
    u64::from_str_radix(digits, radix).map_err(|e| format!("{s:?}: {e}"))
}

fn parse_u32(s: &str) -> Result<u32, String> {
    u32::try_from(parse_u64(s)?).map_err(|_| format!("{s:?} does not fit in 32 bits"))
}

/// QEMU `-m` syntax: a plain number is MiB; K, M, G, T suffixes.
fn parse_qemu_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        Some('T') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1 << 20),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a memory size (e.g. 4096, 4G, 512M)"))
}

/// A failure: message on stderr, exit code returned.
struct Failure(i32, String);

fn usage(msg: impl Into<String>) -> Failure {
    Failure(EXIT_USAGE, msg.into())
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure(EXIT_BAD_INPUT, format!("{}: {e}", path.display())))
}

fn measure_err(what: &Path, e: MeasureError) -> Failure {
    let code = match e {
        MeasureError::InvalidOption { .. }
        | MeasureError::VcpuSigRequired
        | MeasureError::NoVcpus => EXIT_USAGE,
        _ => EXIT_BAD_INPUT,
    };
    let mut message = format!("{}: {e} [{}]", what.display(), e.code());
    // The library names its inputs; the command line names flags.
    match &e {
        MeasureError::InvalidOption { input, .. } => {
            message.push_str(&format!(" (--{})", input.replace('_', "-")));
        }
        MeasureError::VcpuSigRequired => {
            message.push_str(
                " (--vcpu-type, --vcpu-sig or --vcpu-family/--vcpu-model/--vcpu-stepping)",
            );
        }
        _ => {}
    }
    Failure(code, message)
}

/// Runs `cogito measure`; returns the exit code (0 ok, 2 usage, 3 bad input).
pub fn run(args: &MeasureArgs) -> i32 {
    let result = match &args.platform {
        MeasurePlatform::Snp(a) => run_snp(a),
        MeasurePlatform::Tdx(a) => run_tdx(a),
    };
    match result {
        Ok(text) => {
            crate::out::stdout(&text);
            0
        }
        Err(Failure(code, msg)) => {
            crate::out::errln!("error: {msg}");
            code
        }
    }
}

/// Quotes a value for the reproducing command line in comments.
fn sh(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn snp_command_line(a: &SnpArgs) -> String {
    let mut c = format!(
        "cogito measure snp --ovmf {} --vcpus {}",
        sh(&a.ovmf.display().to_string()),
        a.vcpus
    );
    if let Some(t) = &a.vcpu_type {
        let _ = write!(c, " --vcpu-type {}", sh(t));
    }
    if let Some(s) = a.vcpu_sig {
        let _ = write!(c, " --vcpu-sig {s:#x}");
    }
    if let (Some(f), Some(m), Some(s)) = (a.vcpu_family, a.vcpu_model, a.vcpu_stepping) {
        let _ = write!(c, " --vcpu-family {f} --vcpu-model {m} --vcpu-stepping {s}");
    }
    if a.vmm_type != "QEMU" {
        let _ = write!(c, " --vmm-type {}", sh(&a.vmm_type));
    }
    for (flag, p) in [("--kernel", &a.kernel), ("--initrd", &a.initrd)] {
        if let Some(p) = p {
            let _ = write!(c, " {flag} {}", sh(&p.display().to_string()));
        }
    }
    if let Some(s) = &a.append {
        let _ = write!(c, " --append {}", sh(s));
    }
    if a.guest_features != 1 {
        let _ = write!(c, " --guest-features {:#x}", a.guest_features);
    }
    if let Some(h) = &a.snp_ovmf_hash {
        let _ = write!(c, " --snp-ovmf-hash {h}");
    }
    c
}

fn run_snp(a: &SnpArgs) -> Result<String, Failure> {
    let vmm = VmmType::parse(&a.vmm_type).map_err(|e| usage(e.to_string()))?;
    let vcpu_sig = match (&a.vcpu_type, a.vcpu_sig, a.vcpu_family) {
        (_, _, Some(f)) => Some(cpu_sig(
            f,
            a.vcpu_model.unwrap_or(0),
            a.vcpu_stepping.unwrap_or(0),
        )),
        (_, Some(s), None) => Some(s),
        (Some(t), None, None) => Some(vcpu_type_sig(t).map_err(|e| usage(e.to_string()))?),
        (None, None, None) => None,
    };
    if vcpu_sig.is_none() && vmm == VmmType::Qemu {
        return Err(usage(
            "missing --vcpu-type, --vcpu-sig or --vcpu-family for VMM type QEMU",
        ));
    }
    if a.vcpus == 0 {
        return Err(usage("--vcpus must be at least 1"));
    }
    let ovmf_hash = match &a.snp_ovmf_hash {
        None => None,
        Some(h) => {
            let mut seed = [0u8; 48];
            hex::decode_to_slice(h.trim(), &mut seed)
                .map_err(|e| usage(format!("--snp-ovmf-hash: not 96 hex characters: {e}")))?;
            Some(seed)
        }
    };
    let ovmf = read(&a.ovmf)?;
    let kernel = a.kernel.as_deref().map(read).transpose()?;
    let initrd = a.initrd.as_deref().map(read).transpose()?;
    let input = SnpInput {
        ovmf: &ovmf,
        vcpus: a.vcpus,
        vcpu_sig,
        vmm,
        guest_features: a.guest_features,
        kernel: kernel.as_deref().map(|k| KernelHashesInput {
            kernel: k,
            initrd: initrd.as_deref(),
            cmdline: a.append.as_deref(),
        }),
        ovmf_hash,
    };
    let digest = cogito_measure::snp_launch_digest(&input).map_err(|e| measure_err(&a.ovmf, e))?;
    let hex_digest = hex::encode(digest);
    Ok(match a.format {
        MeasureFormat::Hex => format!("{hex_digest}\n"),
        MeasureFormat::Json => {
            let v = json!({
                "platform": "snp",
                "measurement": hex_digest,
                "inputs": {
                    "ovmf": a.ovmf.display().to_string(),
                    "vcpus": a.vcpus,
                    "vcpu_sig": vcpu_sig.map(|s| format!("{s:#x}")),
                    "vmm_type": vmm.as_str(),
                    "guest_features": format!("{:#x}", a.guest_features),
                    "kernel": a.kernel.as_ref().map(|p| p.display().to_string()),
                    "initrd": a.initrd.as_ref().map(|p| p.display().to_string()),
                    "append": a.append,
                    "snp_ovmf_hash": a.snp_ovmf_hash,
                },
            });
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        MeasureFormat::Policy => format!(
            "# {}\n[snp]\nmeasurements = [\n    \"{hex_digest}\",\n]\n",
            snp_command_line(a)
        ),
    })
}

fn tdx_command_line(a: &TdxArgs) -> String {
    let mut c = String::from("cogito measure tdx");
    if let Some(p) = &a.ovmf {
        let _ = write!(c, " --ovmf {}", sh(&p.display().to_string()));
        if a.page_order == PageOrderArg::AllPagesFirst {
            c.push_str(" --page-order all-pages-first");
        }
    }
    for (flag, p) in [("--kernel", &a.kernel), ("--initrd", &a.initrd)] {
        if let Some(p) = p {
            let _ = write!(c, " {flag} {}", sh(&p.display().to_string()));
        }
    }
    if let Some(s) = &a.append {
        let _ = write!(c, " --append {}", sh(s));
    }
    if let Some(m) = a.qemu_memory {
        let _ = write!(c, " --qemu-memory {}M", m >> 20);
        if a.qemu_acpi_size != tdx::QEMU_ACPI_DATA_SIZE {
            let _ = write!(c, " --qemu-acpi-size {:#x}", a.qemu_acpi_size);
        }
    }
    c
}

fn events_json(events: &[RtmrEvent]) -> serde_json::Value {
    serde_json::to_value(events).unwrap_or_default()
}

fn run_tdx(a: &TdxArgs) -> Result<String, Failure> {
    if let Some(m) = a.qemu_memory {
        if m % (1 << 20) != 0 {
            return Err(usage("--qemu-memory must be a whole number of MiB"));
        }
    }
    let order = match a.page_order {
        PageOrderArg::Interleaved => PageOrder::Interleaved,
        PageOrderArg::AllPagesFirst => PageOrder::AllPagesFirst,
    };
    let mrtd = match &a.ovmf {
        None => None,
        Some(p) => Some(tdx::mrtd(&read(p)?, order).map_err(|e| measure_err(p, e))?),
    };
    let initrd = a.initrd.as_deref().map(read).transpose()?;
    let rtmr1_events = match &a.kernel {
        None => None,
        Some(p) => {
            let raw = read(p)?;
            let kernel = match a.qemu_memory {
                None => raw,
                Some(memory_size) => {
                    let initrd_size = match &initrd {
                        None => 0,
                        Some(i) => u32::try_from(i.len())
                            .map_err(|_| usage("--initrd larger than 4 GiB"))?,
                    };
                    let patch = QemuKernelPatch {
                        memory_size,
                        initrd_size,
                        acpi_data_size: a.qemu_acpi_size,
                    };
                    tdx::qemu_patch_kernel(&raw, &patch).map_err(|e| measure_err(p, e))?
                }
            };
            Some(tdx::rtmr1_direct_boot(&kernel).map_err(|e| measure_err(p, e))?)
        }
    };
    let rtmr2_events = (a.append.is_some() || initrd.is_some())
        .then(|| tdx::rtmr2_direct_boot(a.append.as_deref(), initrd.as_deref()));
    let rtmr1 = rtmr1_events.as_deref().map(tdx::replay).map(hex::encode);
    let rtmr2 = rtmr2_events.as_deref().map(tdx::replay).map(hex::encode);
    let mrtd = mrtd.map(hex::encode);
    let values = [("mrtd", &mrtd), ("rtmr1", &rtmr1), ("rtmr2", &rtmr2)];
    Ok(match a.format {
        MeasureFormat::Hex => {
            let mut o = String::new();
            for (name, v) in values {
                if let Some(v) = v {
                    let _ = writeln!(o, "{name} {v}");
                }
            }
            o
        }
        MeasureFormat::Json => {
            let v = json!({
                "platform": "tdx",
                "mrtd": mrtd,
                "rtmr1": rtmr1,
                "rtmr2": rtmr2,
                "rtmr1_events": rtmr1_events.as_deref().map(events_json),
                "rtmr2_events": rtmr2_events.as_deref().map(events_json),
                "inputs": {
                    "ovmf": a.ovmf.as_ref().map(|p| p.display().to_string()),
                    "page_order": a.ovmf.as_ref().map(|_| match a.page_order {
                        PageOrderArg::Interleaved => "interleaved",
                        PageOrderArg::AllPagesFirst => "all-pages-first",
                    }),
                    "kernel": a.kernel.as_ref().map(|p| p.display().to_string()),
                    "kernel_qemu_patched": a.kernel.is_some() && a.qemu_memory.is_some(),
                    "qemu_memory": a.qemu_memory,
                    "initrd": a.initrd.as_ref().map(|p| p.display().to_string()),
                    "append": a.append,
                },
            });
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        MeasureFormat::Policy => {
            let mut o = format!("# {}\n[tdx]\n", tdx_command_line(a));
            for (name, v) in values {
                if let Some(v) = v {
                    let _ = writeln!(o, "{name} = [\"{v}\"]");
                }
            }
            o
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_parsers() {
        assert_eq!(parse_u64("0x21"), Ok(0x21));
        assert_eq!(parse_u64("33"), Ok(33));
        assert_eq!(parse_u64("0b101"), Ok(5));
        assert!(parse_u64("zz").is_err());
        assert!(parse_u32("0x1_0000_0000").is_err());
        assert_eq!(parse_qemu_size("4G"), Ok(4 << 30));
        assert_eq!(parse_qemu_size("4096"), Ok(4 << 30));
        assert_eq!(parse_qemu_size("512m"), Ok(512 << 20));
        assert!(parse_qemu_size("lots").is_err());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sh("OVMF.fd"), "OVMF.fd");
        assert_eq!(sh("console=ttyS0 ro"), "'console=ttyS0 ro'");
        assert_eq!(sh("it's"), r"'it'\''s'");
    }
}
