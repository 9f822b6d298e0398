//! How to verify: the flags `verify`, `policy test` and `policy init`
//! share, and the one place they become a typed request for the pipeline
//! (`cogito-attest`). Raw flags in, [`Prepared`] out; nothing after this
//! point looks at a flag.

use std::path::{Path, PathBuf};

use clap::Args;
use cogito_attest::{
    Anchors, EvidenceKind, Options, Request, SuppliedCollateral, VendorSource, Verification,
    Verifier,
};
use cogito_collateral::{
    load_snp_bundle, load_tdx_bundle, DiskCache, KdsClient, KdsConfig, PcsClient, PcsConfig,
};
use cogito_core::{AmdProduct, ErrorClass, TcbStatus, VerificationTime};

use crate::failure::Failure;
use crate::files::{load_anchors_dir, read};

/// How to verify: collateral, trust anchors, time and the verifier's own
/// acceptance knobs.
#[derive(Args, Debug, Clone)]
pub struct VerifyOpts {
    /// Offline collateral directory. SNP: vcek.der or vlek.der, optionally
    /// cert_chain.pem or ask.pem + ark.pem, crl.der, auxblob. TDX: the Intel
    /// PCS files tcb_info.json, tcb_info_issuer_chain.pem, qe_identity.json,
    /// qe_identity_issuer_chain.pem, pck_crl.der, pck_crl_issuer_chain.pem,
    /// root_ca_crl.der. See docs/bundle.md.
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,
    /// SNP: a host certificate table (extended report / configfs-tsm
    /// auxblob); entries may be DER or PEM.
    #[arg(long, value_name = "FILE")]
    pub cert_table: Option<PathBuf>,
    /// Fetch missing collateral from the vendor (AMD KDS: VCEK, CRL; Intel
    /// PCS or --pccs-url: TCB Info, QE Identity, CRLs), through the cache.
    #[arg(long, conflicts_with = "offline")]
    pub online: bool,
    /// Use cached collateral but never the network.
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
    /// TDX: the CA certificate(s) (PEM) that issued the PCCS's TLS
    /// certificate, for a PCCS behind a private or self-signed CA. They
    /// replace the public WebPKI roots for PCCS connections.
    #[arg(long, value_name = "FILE", requires = "pccs_url")]
    pub pccs_ca: Option<PathBuf>,
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
    /// recognised by its subject (AMD ARK/ASK/ASVK, Intel SGX Root CA).
    /// Added to the built-in roots; use only for roots you really trust
    /// (e.g. test roots).
    #[arg(long, value_name = "DIR")]
    pub trust_anchors: Option<PathBuf>,
}

/// Who decides what the verifiers' acceptance knobs would: the verifier
/// (with the flags), or a policy (the flags are then refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    Verifier,
    Policy,
}

/// A request ready to run: everything the flags named, read and typed.
pub struct Prepared {
    evidence: Vec<u8>,
    collateral: SuppliedCollateral,
    options: Options,
    at: VerificationTime,
    verifier: Verifier,
    source: VendorSource,
}

impl Prepared {
    /// Runs the pipeline.
    pub fn verify(&self) -> Result<Verification, Failure> {
        let request = Request {
            evidence: &self.evidence,
            collateral: &self.collateral,
            at: self.at,
            options: &self.options,
        };
        Ok(self.verifier.verify(&request, &self.source)?)
    }
}

impl VerifyOpts {
    /// Reads the evidence and every file the flags name, and turns the
    /// flags into the pipeline's typed request.
    pub fn prepare(&self, evidence_path: &Path, decider: Decider) -> Result<Prepared, Failure> {
        if decider == Decider::Policy {
            self.refuse_knobs()?;
        }
        let evidence = read(evidence_path)?;
        let at = match &self.at {
            Some(s) => VerificationTime::parse_rfc3339(s)
                .map_err(|e| Failure::bad_input("input.bad_time", e.to_string()))?,
            None => VerificationTime::now(),
        };
        // Which collateral files to read depends on the platform; evidence
        // that is not recognised fails in the pipeline with its own error.
        let kind = cogito_attest::evidence_kind(&evidence).ok();
        let collateral = self.collateral(kind)?;
        Ok(Prepared {
            evidence,
            collateral,
            options: self.options(decider)?,
            at,
            verifier: Verifier::without_cache(self.anchors()?),
            source: self.source()?,
        })
    }

    /// With a policy, the verifier's acceptance knobs are refused: the
    /// policy decides those claims, so there is one place to look.
    pub fn refuse_knobs(&self) -> Result<(), Failure> {
        let mut knobs = Vec::new();
        if !self.allow_tcb_status.is_empty() {
            knobs.push("--allow-tcb-status (use tdx.tcb_statuses)");
        }
        if self.permit_provisional_firmware {
            knobs.push("--permit-provisional-firmware (use snp.allow_provisional_firmware)");
        }
        if !self.allow_lifecycle.is_empty() {
            knobs.push("--allow-lifecycle (use cca.lifecycles)");
        }
        if knobs.is_empty() {
            return Ok(());
        }
        Err(Failure::new(
            "usage.policy_knob",
            ErrorClass::Usage,
            format!(
                "with a policy, the policy decides: drop {}",
                knobs.join(", ")
            ),
        ))
    }

    fn options(&self, decider: Decider) -> Result<Options, Failure> {
        let mut o = match decider {
            Decider::Verifier => Options::default(),
            Decider::Policy => Options::for_appraisal(),
        };
        o.expected_report_data = self
            .report_data
            .as_deref()
            .map(parse_report_data)
            .transpose()?;
        o.snp.product = self.product.as_deref().map(parse_product).transpose()?;
        o.snp.permit_provisional_firmware |= self.permit_provisional_firmware;
        o.tdx.signature_only = self.signature_only;
        for name in &self.allow_tcb_status {
            let s = parse_tcb_status(name)?;
            if !o.tdx.allowed_statuses.contains(&s) {
                o.tdx.allowed_statuses.push(s);
            }
        }
        o.cca.allow_test_keys = self.allow_test_keys;
        for name in &self.allow_lifecycle {
            let s = cogito_cca::LifecycleState::from_name(name.trim()).ok_or_else(|| {
                Failure::bad_input(
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
            if !o.cca.allowed_lifecycles.contains(&s) {
                o.cca.allowed_lifecycles.push(s);
            }
        }
        Ok(o)
    }

    fn anchors(&self) -> Result<Anchors, Failure> {
        let mut anchors = Anchors::builtin();
        if let Some(dir) = &self.trust_anchors {
            load_anchors_dir(dir, &mut anchors.x509)?;
        }
        if let Some(path) = &self.cca_trust_anchors {
            anchors.cca = Some(cogito_cca::CcaTrustAnchors::load(
                &read(path)?,
                &path.display().to_string(),
            )?);
        }
        Ok(anchors)
    }

    fn collateral(&self, kind: Option<EvidenceKind>) -> Result<SuppliedCollateral, Failure> {
        let mut c = SuppliedCollateral::default();
        if let Some(table) = &self.cert_table {
            c.snp_cert_table = Some(read(table)?);
        }
        if let Some(log) = &self.event_log {
            c.event_log = Some(read(log)?);
        }
        match (&self.certs, kind.map(EvidenceKind::tee)) {
            (None, _) | (Some(_), None) => {}
            (Some(dir), Some(cogito_core::Tee::Snp)) => c.snp = load_snp_bundle(dir)?,
            (Some(dir), Some(cogito_core::Tee::Tdx)) => {
                if let Some(files) = load_tdx_bundle(dir)? {
                    c.tdx = Some(files.collateral);
                    c.tdx_pck_chain = files.pck_cert_chain;
                }
            }
            (Some(_), Some(cogito_core::Tee::Cca)) => return Err(Failure::new(
                "usage.certs_for_cca",
                ErrorClass::Usage,
                "--certs is for SEV-SNP and TDX collateral; a CCA token needs --cca-trust-anchors",
            )),
        }
        Ok(c)
    }

    fn source(&self) -> Result<VendorSource, Failure> {
        if !(self.online || self.offline) {
            return Ok(VendorSource::default());
        }
        let cache = || {
            DiskCache::new(
                self.cache_dir
                    .clone()
                    .unwrap_or_else(DiskCache::default_location),
            )
        };
        let kds = KdsClient::new(
            KdsConfig {
                base_url: self.kds_url.trim_end_matches('/').to_string(),
                offline: self.offline,
                ..KdsConfig::default()
            },
            cache(),
        );
        let base = self
            .pccs_url
            .clone()
            .unwrap_or_else(|| cogito_collateral::pcs::INTEL_PCS.to_string());
        let tls_roots = match &self.pccs_ca {
            Some(path) => Some(
                cogito_core::anchors::certificates_from_pem_or_der(&read(path)?).map_err(|e| {
                    Failure::bad_input("input.bad_pccs_ca", format!("{}: {e}", path.display()))
                })?,
            ),
            None => None,
        };
        let pcs = PcsClient::new(
            PcsConfig {
                base_url: base.trim_end_matches('/').to_string(),
                offline: self.offline,
                tls_roots,
                ..PcsConfig::default()
            },
            cache(),
        );
        Ok(VendorSource {
            kds: Some(kds),
            snp_crl: !self.no_crl,
            pcs: Some(pcs),
        })
    }
}

fn parse_product(name: &str) -> Result<AmdProduct, Failure> {
    AmdProduct::from_name(name).ok_or_else(|| {
        Failure::bad_input(
            "input.bad_product",
            format!("--product {name}: expected milan, genoa or turin"),
        )
    })
}

fn parse_tcb_status(name: &str) -> Result<TcbStatus, Failure> {
    let accepted: Vec<&str> = TcbStatus::ALL
        .iter()
        .filter(|s| s.is_intel() && **s != TcbStatus::Revoked)
        .map(|s| s.as_str())
        .collect();
    match TcbStatus::from_name(name.trim()) {
        Some(TcbStatus::Revoked) => Err(Failure::bad_input(
            "input.bad_tcb_status",
            "--allow-tcb-status: Revoked can never be allowed",
        )),
        Some(s) if s.is_intel() => Ok(s),
        _ => Err(Failure::bad_input(
            "input.bad_tcb_status",
            format!(
                "--allow-tcb-status: unknown status {name:?} ({})",
                accepted.join(", ")
            ),
        )),
    }
}

fn parse_report_data(hex_str: &str) -> Result<[u8; 64], Failure> {
    let s = hex_str.trim().trim_start_matches("0x");
    let bytes = hex::decode(s).map_err(|e| {
        Failure::bad_input(
            "input.bad_report_data",
            format!("--report-data: not hex ({e})"),
        )
    })?;
    let mut out = [0u8; 64];
    match out.get_mut(..bytes.len()) {
        Some(head) => head.copy_from_slice(&bytes),
        None => {
            return Err(Failure::bad_input(
                "input.bad_report_data",
                format!(
                    "--report-data: {} bytes given, REPORT_DATA holds 64",
                    bytes.len()
                ),
            ))
        }
    }
    Ok(out)
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

    #[test]
    fn tcb_status_names_are_intels_and_never_revoked() {
        assert_eq!(
            parse_tcb_status(" SWHardeningNeeded").unwrap(),
            TcbStatus::SWHardeningNeeded
        );
        assert!(parse_tcb_status("Revoked").is_err());
        assert!(parse_tcb_status("Provisional").is_err());
        assert!(parse_tcb_status("uptodate").is_err());
    }
}
