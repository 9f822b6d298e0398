//! A successful verification.

use cogito_cca::CcaClaims;
use cogito_core::claims::Check;
use cogito_core::hexser::Hex;
use cogito_core::{Claims, Evidence, Tee, VerificationTime, Verified};
use cogito_policy::{appraise, Appraisal, Input, Policy};
use cogito_snp::SnpClaims;
use cogito_tdx::eventlog::EventLog;
use cogito_tdx::TdxClaims;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// What the evidence was, as recognised from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A raw AMD SEV-SNP attestation report.
    SnpReport,
    /// An Azure confidential VM HCL report wrapping an SEV-SNP report.
    AzureHclSnp,
    /// An Intel TDX quote.
    TdxQuote,
    /// An Arm CCA attestation token.
    CcaToken,
}

impl EvidenceKind {
    pub(crate) fn of(e: &Evidence<'_>) -> Self {
        match e {
            Evidence::SnpReport(_) => EvidenceKind::SnpReport,
            Evidence::AzureHclSnp { .. } => EvidenceKind::AzureHclSnp,
            Evidence::TdxQuote(_) => EvidenceKind::TdxQuote,
            Evidence::CcaToken(_) => EvidenceKind::CcaToken,
        }
    }

    /// The platform.
    pub fn tee(self) -> Tee {
        match self {
            EvidenceKind::SnpReport | EvidenceKind::AzureHclSnp => Tee::Snp,
            EvidenceKind::TdxQuote => Tee::Tdx,
            EvidenceKind::CcaToken => Tee::Cca,
        }
    }

    /// A description for people.
    pub fn description(self) -> &'static str {
        match self {
            EvidenceKind::SnpReport => "AMD SEV-SNP attestation report",
            EvidenceKind::AzureHclSnp => "Azure HCL report with an AMD SEV-SNP report",
            EvidenceKind::TdxQuote => "Intel TDX quote",
            EvidenceKind::CcaToken => "Arm CCA attestation token",
        }
    }
}

/// What a CC event log replay reproduced.
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
    pub log: EventLog,
}

/// The verified claims of one platform.
// Every variant is large (the claims of a whole report); there is one value
// per verification, so boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Outcome {
    /// AMD SEV-SNP (a raw report or one inside an Azure HCL report).
    Snp(Verified<SnpClaims>),
    /// Intel TDX, with the event log replay when a log was supplied.
    Tdx {
        /// The verified quote.
        verified: Verified<TdxClaims>,
        /// The replay of the CC event log.
        event_log: Option<EventLogReplay>,
    },
    /// Arm CCA.
    Cca(Verified<CcaClaims>),
}

/// A successful verification.
///
/// It serializes as the document `cogito verify --format json` prints
/// (less its verdict): `evidence`, `verified_at`, `claims`, the platform's
/// claims under `snp`, `tdx` or `cca`, `event_log` (TDX), and `checks`.
#[derive(Debug, Clone)]
pub struct Verification {
    /// What the evidence was.
    pub kind: EvidenceKind,
    /// The verified claims.
    pub outcome: Outcome,
}

impl Verification {
    /// The normalized claims, whatever the platform.
    pub fn claims(&self) -> &Claims {
        match &self.outcome {
            Outcome::Snp(v) => &v.claims,
            Outcome::Tdx { verified, .. } => &verified.claims,
            Outcome::Cca(v) => &v.claims,
        }
    }

    /// The checks that passed, in order.
    pub fn checks(&self) -> &[Check] {
        match &self.outcome {
            Outcome::Snp(v) => &v.checks,
            Outcome::Tdx { verified, .. } => &verified.checks,
            Outcome::Cca(v) => &v.checks,
        }
    }

    /// The time the verification was judged at.
    pub fn verified_at(&self) -> VerificationTime {
        match &self.outcome {
            Outcome::Snp(v) => v.verified_at,
            Outcome::Tdx { verified, .. } => verified.verified_at,
            Outcome::Cca(v) => v.verified_at,
        }
    }

    /// The platform.
    pub fn tee(&self) -> Tee {
        self.kind.tee()
    }

    /// The verification as a policy reads it.
    pub fn policy_input(&self) -> Input<'_> {
        match &self.outcome {
            Outcome::Snp(v) => Input::Snp(v),
            Outcome::Tdx {
                verified,
                event_log,
            } => Input::Tdx {
                verified,
                event_log: event_log.as_ref().map(|e| &e.log),
            },
            Outcome::Cca(v) => Input::Cca(v),
        }
    }

    /// Appraises the verified claims against `policy`. For the policy to
    /// decide TCB statuses, provisional firmware and lifecycles, the
    /// verification must have used [`Options::for_appraisal`].
    ///
    /// [`Options::for_appraisal`]: crate::Options::for_appraisal
    pub fn appraise(&self, policy: &Policy) -> Appraisal {
        appraise(policy, self.policy_input())
    }
}

impl Serialize for Verification {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("evidence", self.kind.description())?;
        m.serialize_entry("evidence_kind", &self.kind)?;
        m.serialize_entry("verified_at", &self.verified_at())?;
        m.serialize_entry("claims", self.claims())?;
        match &self.outcome {
            Outcome::Snp(v) => m.serialize_entry("snp", &v.platform)?,
            Outcome::Tdx {
                verified,
                event_log,
            } => {
                m.serialize_entry("tdx", &verified.platform)?;
                m.serialize_entry("event_log", event_log)?;
            }
            Outcome::Cca(v) => m.serialize_entry("cca", &v.platform)?,
        }
        m.serialize_entry("checks", self.checks())?;
        m.end()
    }
}
