//! `cogito verify`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use cogito_collateral::{load_snp_bundle, resolve_snp, DiskCache, KdsClient, KdsConfig};
use cogito_core::claims::Check;
use cogito_core::{
    detect, AmdProduct, CogitoError, ErrorClass, Evidence, TrustAnchors, VerificationTime, Verified,
};
use cogito_snp::{Collateral, HclReport, Options, Report, SnpClaims, VerifiedCache};

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
    /// The evidence: a raw SEV-SNP report (1184 bytes) or an Azure HCL report.
    pub file: PathBuf,
    /// Offline collateral directory (vcek.der or vlek.der, optionally
    /// cert_chain.pem or ask.pem + ark.pem, crl.der, auxblob); see docs/bundle.md.
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,
    /// A host certificate table (extended report / configfs-tsm auxblob).
    #[arg(long, value_name = "FILE")]
    pub cert_table: Option<PathBuf>,
    /// Fetch missing collateral (VCEK, CRL) from AMD's KDS, through the cache.
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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

fn bad_input(code: &'static str, message: String) -> Failure {
    Failure {
        code,
        class: ErrorClass::BadInput,
        message,
    }
}

/// A successful verification, ready for output.
pub struct Success {
    pub evidence_kind: &'static str,
    pub verified: Verified<SnpClaims>,
}

pub fn run(args: &VerifyArgs) -> i32 {
    let result = verify(args);
    match args.format {
        Format::Text => output::print_text(&result),
        Format::Json => output::print_json(&result),
    }
    match result {
        Ok(_) => 0,
        Err(f) => f.class.exit_code(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
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

pub fn verify(args: &VerifyArgs) -> Result<Success, Failure> {
    let bytes = read(&args.file)?;
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
    if let Some(dir) = &args.trust_anchors {
        load_anchors_dir(dir, &mut anchors)?;
    }
    let options = Options {
        product,
        permit_provisional_firmware: args.permit_provisional_firmware,
        expected_report_data: args
            .report_data
            .as_deref()
            .map(parse_report_data)
            .transpose()?,
    };

    let evidence = detect(&bytes)?;
    let (report_bytes, hcl) = match evidence {
        Evidence::SnpReport(r) => (r, None),
        Evidence::AzureHclSnp { report, hcl } => (report, Some(HclReport::parse(hcl)?)),
        Evidence::TdxQuote(_) | Evidence::CcaToken(_) => {
            return Err(bad_input(
                "evidence.unsupported",
                format!(
                    "{} detected; this build verifies AMD SEV-SNP reports only",
                    evidence.kind()
                ),
            ))
        }
    };
    let report = Report::parse(report_bytes)?;

    let mut collateral = match &args.certs {
        Some(dir) => load_snp_bundle(dir)?,
        None => Collateral::default(),
    };
    if let Some(table) = &args.cert_table {
        collateral.add_certificate_table(&read(table)?)?;
    }
    let kds = (args.online || args.offline).then(|| {
        let cache = DiskCache::new(
            args.cache_dir
                .clone()
                .unwrap_or_else(DiskCache::default_location),
        );
        KdsClient::new(
            KdsConfig {
                base_url: args.kds_url.trim_end_matches('/').to_string(),
                offline: args.offline,
                ..KdsConfig::default()
            },
            cache,
        )
    });
    let collateral = resolve_snp(&report, product, collateral, kds.as_ref(), !args.no_crl)?;

    let cache = VerifiedCache::disabled();
    let mut verified =
        cogito_snp::verify_parsed(&report, &collateral, &anchors, at, &options, &cache)?;
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
    Ok(Success {
        evidence_kind: evidence.kind(),
        verified,
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
