//! `cogito verify`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use cogito_collateral::{
    load_snp_bundle, load_tdx_bundle, resolve_snp, DiskCache, KdsClient, KdsConfig, PckCa,
    PcsClient, PcsConfig,
};
use cogito_core::claims::Check;
use cogito_core::hexser::Hex;
use cogito_core::TcbStatus;
use cogito_core::{
    detect, AmdProduct, CogitoError, ErrorClass, Evidence, TrustAnchors, VerificationTime, Verified,
};
use cogito_snp::{Collateral, HclReport, Options, Report, SnpClaims, VerifiedCache};
use cogito_tdx::TdxClaims;
use serde::Serialize;

use crate::output;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people: verdict first.
    Text,
    /// Every claim, machine-readable; byte strings as lower-case hex.
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = crate::EXIT_CODES_HELP)]
pub struct VerifyArgs {
    /// The evidence: a raw SEV-SNP report (1184 bytes), an Azure HCL report,
    /// an Intel TDX quote (v4/v5), or an Arm CCA token (CBOR tag 399 or 907).
    pub file: PathBuf,
    /// Appraise the verified claims against this policy file and print every
    /// rule's outcome; a refusal exits 7. The policy then decides the TCB
    /// status, provisional firmware and CCA lifecycle, so
    /// --allow-tcb-status, --permit-provisional-firmware and --allow-lifecycle
    /// are refused alongside it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// How to verify.
    #[command(flatten)]
    pub opts: VerifyOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How to verify: collateral, trust anchors, time and the verifier's own
/// acceptance knobs. Shared by `verify`, `policy test` and `policy init`.
#[derive(Args, Debug, Clone)]
pub struct VerifyOpts {
    /// Offline collateral directory. SNP: vcek.der or vlek.der, optionally
    /// cert_chain.pem or ask.pem + ark.pem, crl.der, auxblob. TDX: the Intel
    /// PCS files tcb_info.json, tcb_info_issuer_chain.pem, qe_identity.json,
    /// qe_identity_issuer_chain.pem, pck_crl.der, pck_crl_issuer_chain.pem,
    /// root_ca_crl.der. See docs/bundle.md.
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,
    /// A host certificate table (extended report / configfs-tsm auxblob).
    #[arg(long, value_name = "FILE")]
    pub cert_table: Option<PathBuf>,
    /// Fetch missing collateral from the vendor (AMD KDS: VCEK, CRL; Intel
    /// PCS or --pccs-url: TCB Info, QE Identity, CRLs), through the cache.
    #[arg(long, conflicts_with = "offline")]
    pub online: bool,
    /// Use cached KDS collateral but never the network.
    #[arg(long)]
    pub offline: bool,
    /// Do not fetch the CRL when --online (by default it is fetched and checked).
    #[arg(long)]
    pub no_crl: bool,
    /// Cache directory for fetched collateral [default: $COGITO_CACHE_DIR,
    /// $XDG_CACHE_HOME/cogito or ~/.cache/cogito].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// KDS base URL (a mirror or caching proxy).
    #[arg(long, value_name = "URL", default_value = cogito_collateral::kds::AMD_KDS)]
    pub kds_url: String,
    /// TDX: an Intel PCCS base URL to fetch collateral from instead of Intel's PCS.
    #[arg(long, value_name = "URL")]
    pub pccs_url: Option<String>,
    /// TDX: verify only the quote signature, the QE report and its binding,
    /// and the PCK chain to the pinned root; the TCB status is NOT evaluated.
    #[arg(long)]
    pub signature_only: bool,
    /// TDX: TCB statuses to accept besides UpToDate (comma-separated, e.g.
    /// SWHardeningNeeded,ConfigurationNeeded). Revoked is never accepted.
    #[arg(long, value_name = "STATUS,…", value_delimiter = ',')]
    pub allow_tcb_status: Vec<String>,
    /// TDX: a CC event log (CCEL data) to replay; reports which RTMRs it reproduces.
    #[arg(long, value_name = "FILE")]
    pub event_log: Option<PathBuf>,
    /// CCA: the platform attestation key(s): a CPAK as JWK or PEM, or a
    /// trust-anchor store (JSON) listing several by instance id.
    #[arg(long, value_name = "FILE")]
    pub cca_trust_anchors: Option<PathBuf>,
    /// CCA: accept CPAKs that are published test keys (TF-A/TF-M, Veraison
    /// samples); never in production.
    #[arg(long)]
    pub allow_test_keys: bool,
    /// CCA: platform lifecycle states to accept besides `secured`
    /// (e.g. non_cca_platform_debug).
    #[arg(long, value_name = "STATE,…", value_delimiter = ',')]
    pub allow_lifecycle: Vec<String>,
    /// Verification time, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// The REPORT_DATA the evidence must carry, hex (at most 64 bytes;
    /// shorter values are padded with zeros).
    #[arg(long, value_name = "HEX")]
    pub report_data: Option<String>,
    /// Product line (milan, genoa, turin); needed for v2 reports whose
    /// certificate names none. Must agree with the report and certificate.
    #[arg(long, value_name = "NAME")]
    pub product: Option<String>,
    /// Accept provisional firmware (CURRENT_TCB differs from COMMITTED_TCB).
    #[arg(long)]
    pub permit_provisional_firmware: bool,
    /// Extra trusted certificates: a directory of PEM/DER files, each
    /// recognised by its subject (AMD ARK/ASK/ASVK). Added to the built-in
    /// AMD roots; use only for roots you really trust (e.g. test roots).
    #[arg(long, value_name = "DIR")]
    pub trust_anchors: Option<PathBuf>,
    /// Verify for a policy: open the verifier's own acceptance knobs (TDX
    /// statuses, SNP provisional firmware, CCA lifecycles) so the policy
    /// decides them. Set by the commands, never a flag.
    #[arg(skip)]
    pub for_policy: bool,
}

/// A failure with its stable code and class.
#[derive(Debug, Clone)]
pub struct Failure {
    pub code: &'static str,
    pub class: ErrorClass,
    pub message: String,
}

impl<E: CogitoError> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: e.code(),
            class: e.class(),
            message: e.to_string(),
        }
    }
}

pub fn bad_input(code: &'static str, message: String) -> Failure {
    Failure {
        code,
        class: ErrorClass::BadInput,
        message,
    }
}

/// What an event log replay reproduced.
#[derive(Debug, Clone, Serialize)]
pub struct EventLogReplay {
    /// Events in the log.
    pub events: usize,
    /// RTMR0–3 as replayed.
    pub replayed: Vec<Hex>,
    /// Whether each replayed RTMR equals the quote's.
    pub matches_quote: [bool; 4],
    /// The parsed log, for a policy's event rules.
    #[serde(skip)]
    pub log: cogito_tdx::eventlog::EventLog,
}

/// A successful verification of one platform.
pub enum Outcome {
    Snp(Verified<SnpClaims>),
    Cca(Verified<cogito_cca::CcaClaims>),
    Tdx {
        verified: Verified<TdxClaims>,
        event_log: Option<EventLogReplay>,
    },
}

/// A successful verification, ready for output.
pub struct Success {
    pub evidence_kind: &'static str,
    pub outcome: Outcome,
}

pub fn run(args: &VerifyArgs) -> i32 {
    if let Some(policy) = &args.policy {
        return crate::policy::run_verify_with_policy(policy, &args.file, &args.opts, args.format);
    }
    let result = verify(&args.file, &args.opts);
    match args.format {
        Format::Text => output::print_text(&result),
        Format::Json => output::print_json(&result),
    }
    match result {
        Ok(_) => 0,
        Err(f) => f.class.exit_code(),
    }
}

pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| bad_input("input.unreadable", format!("{}: {e}", path.display())))
}

/// Loads every certificate in `dir` as a trust anchor.
pub fn load_anchors_dir(dir: &Path, anchors: &mut TrustAnchors) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| bad_input("input.unreadable", format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(bad_input(
            "anchors.empty",
            format!("{}: no certificate files", dir.display()),
        ));
    }
    for p in paths {
        let bytes = read(&p)?;
        anchors
            .add_pem_or_der(&bytes, false, &p.display().to_string())
            .map_err(|e| bad_input("anchors.invalid", e.to_string()))?;
    }
    Ok(())
}

fn parse_report_data(hex_str: &str) -> Result<[u8; 64], Failure> {
    let s = hex_str.trim().trim_start_matches("0x");
    let bytes = hex::decode(s).map_err(|e| {
        bad_input(
            "input.bad_report_data",
            format!("--report-data: not hex ({e})"),
        )
    })?;
    if bytes.len() > 64 {
        return Err(bad_input(
            "input.bad_report_data",
            format!(
                "--report-data: {} bytes given, REPORT_DATA holds 64",
                bytes.len()
            ),
        ));
    }
    let mut out = [0u8; 64];
    out[..bytes.len()].copy_from_slice(&bytes);
    Ok(out)
}

pub fn verify(file: &Path, args: &VerifyOpts) -> Result<Success, Failure> {
    let bytes = read(file)?;
    let at = match &args.at {
        Some(s) => VerificationTime::parse_rfc3339(s)
            .map_err(|e| bad_input("input.bad_time", e.to_string()))?,
        None => VerificationTime::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        ),
    };
    let product = match &args.product {
        Some(p) => Some(AmdProduct::from_name(p).ok_or_else(|| {
            bad_input(
                "input.bad_product",
                format!("--product {p}: expected milan, genoa or turin"),
            )
        })?),
        None => None,
    };
    let mut anchors = cogito_snp::builtin_anchors().clone();
    anchors.extend(cogito_tdx::builtin_anchors().clone());
    if let Some(dir) = &args.trust_anchors {
        load_anchors_dir(dir, &mut anchors)?;
    }
    let options = Options {
        product,
        permit_provisional_firmware: args.permit_provisional_firmware || args.for_policy,
        expected_report_data: args
            .report_data
            .as_deref()
            .map(parse_report_data)
            .transpose()?,
    };

    let evidence = detect(&bytes)?;
    let outcome = match evidence {
        Evidence::SnpReport(r) => verify_snp(args, r, None, product, &anchors, at, options)?,
        Evidence::AzureHclSnp { report, hcl } => verify_snp(
            args,
            report,
            Some(HclReport::parse(hcl)?),
            product,
            &anchors,
            at,
            options,
        )?,
        Evidence::TdxQuote(q) => verify_tdx(args, q, &anchors, at, options.expected_report_data)?,
        Evidence::CcaToken(t) => verify_cca(args, t, at, options.expected_report_data)?,
    };
    Ok(Success {
        evidence_kind: evidence.kind(),
        outcome,
    })
}

fn cache_dir(args: &VerifyOpts) -> PathBuf {
    args.cache_dir
        .clone()
        .unwrap_or_else(DiskCache::default_location)
}

fn verify_snp(
    args: &VerifyOpts,
    report_bytes: &[u8],
    hcl: Option<HclReport<'_>>,
    product: Option<AmdProduct>,
    anchors: &TrustAnchors,
    at: VerificationTime,
    options: Options,
) -> Result<Outcome, Failure> {
    let report = Report::parse(report_bytes)?;
    let mut collateral = match &args.certs {
        Some(dir) => load_snp_bundle(dir)?,
        None => Collateral::default(),
    };
    if let Some(table) = &args.cert_table {
        collateral.add_certificate_table(&read(table)?)?;
    }
    let kds = (args.online || args.offline).then(|| {
        KdsClient::new(
            KdsConfig {
                base_url: args.kds_url.trim_end_matches('/').to_string(),
                offline: args.offline,
                ..KdsConfig::default()
            },
            DiskCache::new(cache_dir(args)),
        )
    });
    let collateral = resolve_snp(&report, product, collateral, kds.as_ref(), !args.no_crl)?;
    let cache = VerifiedCache::disabled();
    let mut verified =
        cogito_snp::verify_parsed(&report, &collateral, anchors, at, &options, &cache)?;
    if let Some(hcl) = hcl {
        hcl.check_binding(&report.report_data)?;
        verified.checks.push(Check {
            name: "hcl_runtime_data",
            detail: format!(
                "REPORT_DATA binds the {}-byte HCL runtime data (hash type {})",
                hcl.var_data.len(),
                hcl.hash_type
            ),
        });
    }
    Ok(Outcome::Snp(verified))
}

fn verify_cca(
    args: &VerifyOpts,
    token: &[u8],
    at: VerificationTime,
    expected_realm_challenge: Option<[u8; 64]>,
) -> Result<Outcome, Failure> {
    let path = args.cca_trust_anchors.as_ref().ok_or_else(|| Failure {
        code: "cca.key.unknown",
        class: ErrorClass::CollateralUnavailable,
        message: "a CCA token needs the platform's CPAK: pass --cca-trust-anchors FILE (JWK, PEM or a trust-anchor store)".into(),
    })?;
    let anchors = cogito_cca::CcaTrustAnchors::load(&read(path)?, &path.display().to_string())?;
    let mut allowed = if args.for_policy {
        cogito_cca::LifecycleState::ALL.to_vec()
    } else {
        vec![cogito_cca::LifecycleState::Secured]
    };
    for name in &args.allow_lifecycle {
        let s = cogito_cca::LifecycleState::from_name(name.trim()).ok_or_else(|| {
            bad_input(
                "input.bad_lifecycle",
                format!(
                    "--allow-lifecycle: unknown state {name:?} (one of: {})",
                    cogito_cca::LifecycleState::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if !allowed.contains(&s) {
            allowed.push(s);
        }
    }
    let options = cogito_cca::Options {
        allow_test_keys: args.allow_test_keys,
        allowed_lifecycles: allowed,
        expected_realm_challenge,
        at,
    };
    Ok(Outcome::Cca(cogito_cca::verify_token(
        token, &anchors, &options,
    )?))
}

fn parse_status(s: &str) -> Result<TcbStatus, Failure> {
    use TcbStatus::*;
    Ok(match s.trim() {
        "UpToDate" => UpToDate,
        "SWHardeningNeeded" => SWHardeningNeeded,
        "ConfigurationNeeded" => ConfigurationNeeded,
        "ConfigurationAndSWHardeningNeeded" => ConfigurationAndSWHardeningNeeded,
        "OutOfDate" => OutOfDate,
        "OutOfDateConfigurationNeeded" => OutOfDateConfigurationNeeded,
        "TDRelaunchAdvised" => TDRelaunchAdvised,
        "TDRelaunchAdvisedConfigurationNeeded" => TDRelaunchAdvisedConfigurationNeeded,
        "Revoked" => {
            return Err(bad_input(
                "input.bad_tcb_status",
                "--allow-tcb-status: Revoked can never be allowed".into(),
            ))
        }
        other => {
            return Err(bad_input(
                "input.bad_tcb_status",
                format!("--allow-tcb-status: unknown status {other:?} (UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, TDRelaunchAdvised, TDRelaunchAdvisedConfigurationNeeded)"),
            ))
        }
    })
}

fn verify_tdx(
    args: &VerifyOpts,
    quote: &[u8],
    anchors: &TrustAnchors,
    at: VerificationTime,
    expected_report_data: Option<[u8; 64]>,
) -> Result<Outcome, Failure> {
    let mut allowed = if args.for_policy {
        // Every status but Revoked: the policy's tdx.tcb_statuses decides.
        TcbStatus::ALL
            .into_iter()
            .filter(|s| s.is_intel() && *s != TcbStatus::Revoked)
            .collect()
    } else {
        vec![TcbStatus::UpToDate]
    };
    for s in &args.allow_tcb_status {
        let s = parse_status(s)?;
        if !allowed.contains(&s) {
            allowed.push(s);
        }
    }
    let bundle = match &args.certs {
        Some(dir) => load_tdx_bundle(dir)?,
        None => None,
    };
    let pck_cert_chain = bundle.as_ref().and_then(|b| b.pck_cert_chain.clone());
    let files = match bundle {
        Some(b) => Some(b),
        None if (args.online || args.offline) && !args.signature_only => {
            let (fmspc, kind) = cogito_tdx::collateral_request(quote, pck_cert_chain.as_deref())?;
            let base = args
                .pccs_url
                .clone()
                .unwrap_or_else(|| cogito_collateral::pcs::INTEL_PCS.to_string());
            let pcs = PcsClient::new(
                PcsConfig {
                    base_url: base.trim_end_matches('/').to_string(),
                    offline: args.offline,
                    ..PcsConfig::default()
                },
                DiskCache::new(cache_dir(args)),
            );
            let ca = match kind {
                cogito_tdx::PckCaKind::Platform => PckCa::Platform,
                cogito_tdx::PckCaKind::Processor => PckCa::Processor,
            };
            Some(pcs.fetch_all(&fmspc, ca)?)
        }
        None => None,
    };
    let collateral = if args.signature_only {
        None
    } else {
        files.map(|f| f.collateral)
    };
    let options = cogito_tdx::Options {
        signature_only: args.signature_only,
        allowed_statuses: allowed,
        expected_report_data,
        pck_cert_chain,
    };
    let cache = cogito_tdx::VerifiedCache::disabled();
    let verified =
        cogito_tdx::verify_quote(quote, collateral.as_ref(), anchors, at, &options, &cache)?;
    let event_log = match &args.event_log {
        None => None,
        Some(path) => {
            let log = cogito_tdx::eventlog::parse_event_log(&read(path)?)?;
            let replayed = log.replay();
            let quoted = cogito_tdx::Quote::parse(quote)?.body.rtmr;
            Some(EventLogReplay {
                events: log.events.len(),
                replayed: replayed.iter().map(|r| Hex::from_slice(r)).collect(),
                matches_quote: cogito_tdx::eventlog::compare_rtmrs(&replayed, &quoted),
                log,
            })
        }
    };
    Ok(Outcome::Tdx {
        verified,
        event_log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_data_is_padded_and_bounded() {
        let r = parse_report_data("0102").unwrap();
        assert_eq!(&r[..3], &[1, 2, 0]);
        assert!(parse_report_data(&"00".repeat(65)).is_err());
        assert!(parse_report_data("zz").is_err());
        assert_eq!(
            parse_report_data(&format!("0x{}", "ff".repeat(64))).unwrap(),
            [0xff; 64]
        );
    }
}
