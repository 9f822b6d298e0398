//! [`Verifier::verify`]: the pipeline itself.

use cogito_cca::CcaTrustAnchors;
use cogito_core::claims::Check;
use cogito_core::hexser::Hex;
use cogito_core::{detect, Evidence, TrustAnchors};
use cogito_snp::{CollateralRequest, HclReport, Report};

use crate::error::AttestError;
use crate::outcome::{EventLogReplay, EvidenceKind, Outcome, Verification};
use crate::request::{Request, SuppliedCollateral};
use crate::source::CollateralSource;

/// The keys a verification may end in.
#[derive(Debug, Clone)]
pub struct Anchors {
    /// X.509 anchors: AMD ARK/ASK/ASVK and the Intel SGX Root CA.
    pub x509: TrustAnchors,
    /// Arm CCA platform attestation keys (CPAKs); CCA tokens are refused
    /// without them.
    pub cca: Option<CcaTrustAnchors>,
}

impl Anchors {
    /// The built-in AMD and Intel roots and no CCA keys.
    pub fn builtin() -> Self {
        let mut x509 = cogito_snp::builtin_anchors().clone();
        x509.extend(cogito_tdx::builtin_anchors().clone());
        Anchors { x509, cca: None }
    }
}

impl Default for Anchors {
    fn default() -> Self {
        Anchors::builtin()
    }
}

/// Trust anchors and the caches of what was verified before. Create one
/// and keep it: a second report from the same SNP chip, or a second quote
/// from the same TDX platform, then costs its own signature plus
/// comparisons. `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct Verifier {
    anchors: Anchors,
    snp_cache: cogito_snp::VerifiedCache,
    tdx_cache: cogito_tdx::VerifiedCache,
}

impl Verifier {
    /// A verifier that remembers verified chains and collateral.
    pub fn new(anchors: Anchors) -> Self {
        Verifier {
            anchors,
            snp_cache: cogito_snp::VerifiedCache::default(),
            tdx_cache: cogito_tdx::VerifiedCache::default(),
        }
    }

    /// A verifier that remembers nothing: every call verifies everything
    /// (a one-shot command has nothing to reuse).
    pub fn without_cache(anchors: Anchors) -> Self {
        Verifier {
            anchors,
            snp_cache: cogito_snp::VerifiedCache::disabled(),
            tdx_cache: cogito_tdx::VerifiedCache::disabled(),
        }
    }

    /// Its anchors.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// The SEV-SNP chain cache (for its hit and miss counters).
    pub fn snp_cache(&self) -> &cogito_snp::VerifiedCache {
        &self.snp_cache
    }

    /// Verifies one piece of evidence. In order — a caller must not skip
    /// any, which is why this is one function:
    ///
    /// 1. Detect the evidence from its bytes; refuse supplied collateral
    ///    that belongs to another platform.
    /// 2. Complete the collateral: the request's own first (bundle, SNP
    ///    certificate table), then `source` for what is still missing.
    /// 3. Verify with the platform crate, which documents its own steps
    ///    ([`cogito_snp::verify_parsed`], [`cogito_tdx::verify_quote`],
    ///    [`cogito_cca::verify_token`]), against the anchors, at
    ///    `request.at`, with `request.options`.
    /// 4. Azure HCL: REPORT_DATA must bind the HCL runtime data.
    /// 5. TDX with an event log: parse and replay it; whether the replay
    ///    reproduces the quote's RTMRs is reported, and a policy's event
    ///    rules require it.
    pub fn verify(
        &self,
        request: &Request<'_>,
        source: &dyn CollateralSource,
    ) -> Result<Verification, AttestError> {
        let evidence = detect(request.evidence)?;
        let kind = EvidenceKind::of(&evidence);
        refuse_foreign_collateral(kind, request.collateral)?;
        let options = request.options;
        let outcome = match evidence {
            Evidence::SnpReport(report) => self.verify_snp(report, None, request, source)?,
            Evidence::AzureHclSnp { report, hcl } => {
                let hcl = HclReport::parse(hcl)?;
                self.verify_snp(report, Some(hcl), request, source)?
            }
            Evidence::TdxQuote(quote) => self.verify_tdx(quote, request, source)?,
            Evidence::CcaToken(token) => {
                let anchors = self
                    .anchors
                    .cca
                    .as_ref()
                    .ok_or(AttestError::CcaAnchorsMissing)?;
                let cca_options = cogito_cca::Options {
                    allow_test_keys: options.cca.allow_test_keys,
                    allowed_lifecycles: options.cca.allowed_lifecycles.clone(),
                    expected_realm_challenge: options.expected_report_data,
                    at: request.at,
                };
                Outcome::Cca(cogito_cca::verify_token(token, anchors, &cca_options)?)
            }
        };
        Ok(Verification { kind, outcome })
    }

    fn verify_snp(
        &self,
        report_bytes: &[u8],
        hcl: Option<HclReport<'_>>,
        request: &Request<'_>,
        source: &dyn CollateralSource,
    ) -> Result<Outcome, AttestError> {
        let report = Report::parse(report_bytes)?;
        let supplied = request.collateral;
        let mut collateral = supplied.snp.clone();
        if let Some(table) = &supplied.snp_cert_table {
            collateral.add_certificate_table(table)?;
        }
        let product = request.options.snp.product;
        resolve_snp(&report, product, &mut collateral, source)?;
        let options = cogito_snp::Options {
            product,
            permit_provisional_firmware: request.options.snp.permit_provisional_firmware,
            expected_report_data: request.options.expected_report_data,
        };
        let mut verified = cogito_snp::verify_parsed(
            &report,
            &collateral,
            &self.anchors.x509,
            request.at,
            &options,
            &self.snp_cache,
        )?;
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

    fn verify_tdx(
        &self,
        quote: &[u8],
        request: &Request<'_>,
        source: &dyn CollateralSource,
    ) -> Result<Outcome, AttestError> {
        let options = &request.options.tdx;
        let supplied = request.collateral;
        let pck_cert_chain = supplied.tdx_pck_chain.clone();
        let fetched;
        let collateral = match (&supplied.tdx, options.signature_only) {
            (_, true) => None,
            (Some(c), false) => Some(c),
            (None, false) => {
                let (fmspc, ca) = cogito_tdx::collateral_request(quote, pck_cert_chain.as_deref())?;
                fetched = source.tdx_collateral(&fmspc, ca)?;
                fetched.as_ref()
            }
        };
        let tdx_options = cogito_tdx::Options {
            signature_only: options.signature_only,
            allowed_statuses: options.allowed_statuses.clone(),
            expected_report_data: request.options.expected_report_data,
            pck_cert_chain,
        };
        let verified = cogito_tdx::verify_quote(
            quote,
            collateral,
            &self.anchors.x509,
            request.at,
            &tdx_options,
            &self.tdx_cache,
        )?;
        let event_log = match &supplied.event_log {
            None => None,
            Some(bytes) => {
                let log = cogito_tdx::eventlog::parse_event_log(bytes)?;
                let replayed = log.replay();
                let quoted = &verified.platform.body.rtmr;
                let matches_quote =
                    std::array::from_fn(|i| match (replayed.get(i), quoted.get(i)) {
                        (Some(r), Some(q)) => r.as_slice() == q.0.as_slice(),
                        _ => false,
                    });
                Some(EventLogReplay {
                    events: log.events.len(),
                    replayed: replayed.iter().map(|r| Hex::from_slice(r)).collect(),
                    matches_quote,
                    log,
                })
            }
        };
        Ok(Outcome::Tdx {
            verified,
            event_log,
        })
    }
}

/// Collateral that only one platform uses, supplied with evidence of
/// another, is refused: ignoring it would hide the caller's mistake.
fn refuse_foreign_collateral(
    kind: EvidenceKind,
    c: &SuppliedCollateral,
) -> Result<(), AttestError> {
    let snp = matches!(kind, EvidenceKind::SnpReport | EvidenceKind::AzureHclSnp);
    let tdx = kind == EvidenceKind::TdxQuote;
    let foreign = [
        (
            !snp && c.snp_cert_table.is_some(),
            "an SNP certificate table",
        ),
        (!tdx && c.event_log.is_some(), "a TDX CC event log"),
        (
            !tdx && c.tdx_pck_chain.is_some(),
            "a TDX PCK certificate chain",
        ),
    ];
    match foreign.into_iter().find(|(bad, _)| *bad) {
        Some((_, what)) => Err(AttestError::CollateralForOtherPlatform {
            what,
            evidence: kind.description(),
        }),
        None => Ok(()),
    }
}

/// Completes `collateral` with what `report` still needs, from `source`.
/// A VCEK/VLEK already present is kept; a CRL is asked for only when none
/// was supplied. What the source does not have stays missing, and the
/// verifier then names it.
fn resolve_snp(
    report: &Report,
    product: Option<cogito_core::AmdProduct>,
    collateral: &mut cogito_snp::Collateral,
    source: &dyn CollateralSource,
) -> Result<(), AttestError> {
    let has_leaf = collateral.vcek.is_some() || collateral.vlek.is_some();
    if has_leaf && !collateral.crls.is_empty() {
        return Ok(());
    }
    // The product may also come from a supplied certificate; then the VCEK
    // is here already and only the CRL could still be wanted, which needs
    // the product: the verifier will say so if it cannot be told.
    let needs = match report.collateral_needed(product) {
        Ok(n) => n,
        Err(e) if source.provides() && !has_leaf => return Err(e.into()),
        Err(e) => {
            tracing::debug!("not resolving SNP collateral: {e}");
            return Ok(());
        }
    };
    for need in needs {
        match need {
            CollateralRequest::Vcek {
                product,
                hw_id,
                tcb,
            } if !has_leaf => {
                collateral.vcek = source.snp_vcek(product, &hw_id, &tcb)?;
            }
            CollateralRequest::Crl { product, kind } if collateral.crls.is_empty() => {
                if let Some(crl) = source.snp_crl(product, kind)? {
                    collateral.crls.push(crl);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;
    use cogito_core::VerificationTime;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn verifier_can_be_shared_between_threads() {
        assert_send_sync::<Verifier>();
    }

    #[test]
    fn foreign_collateral_is_refused_with_its_name() {
        let c = SuppliedCollateral {
            event_log: Some(vec![1]),
            ..SuppliedCollateral::default()
        };
        let e = refuse_foreign_collateral(EvidenceKind::SnpReport, &c).unwrap_err();
        assert!(e.to_string().contains("event log"), "{e}");
        refuse_foreign_collateral(EvidenceKind::TdxQuote, &c).unwrap();
        let c = SuppliedCollateral {
            snp_cert_table: Some(vec![1]),
            ..SuppliedCollateral::default()
        };
        refuse_foreign_collateral(EvidenceKind::AzureHclSnp, &c).unwrap();
        assert!(refuse_foreign_collateral(EvidenceKind::CcaToken, &c).is_err());
    }

    #[test]
    fn verification_time_is_the_requests() {
        // A sanity check that the time flows through: an unrecognised
        // input fails at detection regardless of the time.
        let options = Options::default();
        let collateral = SuppliedCollateral::default();
        let request = Request {
            evidence: &[0u8; 3],
            collateral: &collateral,
            at: VerificationTime::from_unix(0),
            options: &options,
        };
        let v = Verifier::without_cache(Anchors::builtin());
        let e = v.verify(&request, &crate::NoFetch).unwrap_err();
        assert!(matches!(e, AttestError::Detect(_)));
    }
}
