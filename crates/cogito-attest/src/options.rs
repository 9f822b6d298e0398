//! What the verifiers require beyond authenticity, per platform.
//!
//! Two shapes exist, and this module is the one place that builds them:
//!
//! - [`Options::default`]: the verifiers decide, strictly — TDX accepts
//!   UpToDate only, SNP refuses provisional firmware, CCA accepts the
//!   `secured` lifecycle only. `cogito verify` without a policy starts here
//!   and widens single knobs on request.
//! - [`Options::for_appraisal`]: a policy decides. The knobs a policy has
//!   rules for (TDX statuses, provisional firmware, CCA lifecycles) are
//!   opened so that the verifier reports the value and the policy's rule
//!   accepts or refuses it, with its name in the outcome. Revoked TCBs and
//!   everything that concerns authenticity stay refused by the verifier.

use cogito_cca::LifecycleState;
use cogito_core::{AmdProduct, TcbStatus};

/// SEV-SNP options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnpOptions {
    /// The product line, when known (needed for version 2 reports whose
    /// certificate names none); must agree with the report and certificate.
    pub product: Option<AmdProduct>,
    /// Accept provisional firmware (CURRENT_TCB ≠ COMMITTED_TCB).
    pub permit_provisional_firmware: bool,
}

/// Intel TDX options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdxOptions {
    /// Check the quote and QE report signatures and the PCK chain only; the
    /// TCB status is not evaluated and no collateral is needed.
    pub signature_only: bool,
    /// TCB statuses to accept. Revoked is never accepted, whatever is listed.
    pub allowed_statuses: Vec<TcbStatus>,
}

impl Default for TdxOptions {
    fn default() -> Self {
        TdxOptions {
            signature_only: false,
            allowed_statuses: vec![TcbStatus::UpToDate],
        }
    }
}

/// Arm CCA options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcaOptions {
    /// Accept a CPAK that is a published test key. A policy must consent
    /// too (`cca.allow_test_keys`); such a token is never affirming.
    pub allow_test_keys: bool,
    /// Platform lifecycle states to accept.
    pub allowed_lifecycles: Vec<LifecycleState>,
}

impl Default for CcaOptions {
    fn default() -> Self {
        CcaOptions {
            allow_test_keys: false,
            allowed_lifecycles: vec![LifecycleState::Secured],
        }
    }
}

/// Options for one verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The exact 64 bytes of report data the evidence must carry (SNP
    /// REPORT_DATA, TDX REPORTDATA, CCA realm challenge), e.g. a nonce
    /// binding.
    pub expected_report_data: Option<[u8; 64]>,
    /// SEV-SNP.
    pub snp: SnpOptions,
    /// Intel TDX.
    pub tdx: TdxOptions,
    /// Arm CCA.
    pub cca: CcaOptions,
}

impl Options {
    /// Options for evidence whose acceptance a policy decides (see the
    /// module docs): every TDX status but Revoked, provisional SNP firmware
    /// and every CCA lifecycle pass the verifier, so the policy's
    /// `tdx.tcb_statuses`, `snp.allow_provisional_firmware` and
    /// `cca.lifecycles` rules are what accepts or refuses them.
    pub fn for_appraisal() -> Self {
        Options {
            expected_report_data: None,
            snp: SnpOptions {
                product: None,
                permit_provisional_firmware: true,
            },
            tdx: TdxOptions {
                signature_only: false,
                allowed_statuses: TcbStatus::ALL
                    .into_iter()
                    .filter(|s| s.is_intel() && *s != TcbStatus::Revoked)
                    .collect(),
            },
            cca: CcaOptions {
                allow_test_keys: false,
                allowed_lifecycles: LifecycleState::ALL.to_vec(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appraisal_options_open_what_policies_decide_and_nothing_else() {
        let o = Options::for_appraisal();
        assert!(o.snp.permit_provisional_firmware);
        assert!(!o.tdx.allowed_statuses.contains(&TcbStatus::Revoked));
        assert!(o.tdx.allowed_statuses.contains(&TcbStatus::OutOfDate));
        assert!(o.tdx.allowed_statuses.iter().all(|s| s.is_intel()));
        assert_eq!(o.cca.allowed_lifecycles.len(), LifecycleState::ALL.len());
        // Test keys are the operator's decision, not opened by a policy.
        assert!(!o.cca.allow_test_keys);
        assert!(!o.tdx.signature_only);
    }

    #[test]
    fn defaults_are_strict() {
        let o = Options::default();
        assert!(!o.snp.permit_provisional_firmware);
        assert_eq!(o.tdx.allowed_statuses, vec![TcbStatus::UpToDate]);
        assert_eq!(o.cca.allowed_lifecycles, vec![LifecycleState::Secured]);
    }
}
