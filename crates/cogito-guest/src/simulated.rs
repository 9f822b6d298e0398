//! A SIMULATED TEE for tests and demos: evidence made by cogito-testkit
//! with its FAKE vendor keys (AMD ARK/ASK, Intel PCK chain, CCA CPAK that
//! are not AMD's, Intel's or Arm's). Only in builds with the
//! `insecure-simulated-tee` feature, only when asked for by name, never
//! detected. A server that trusts only the vendors' roots refuses its
//! evidence at the certificate chain.

use cogito_core::{AmdProduct, VerificationTime};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};

use crate::attester::{Attester, Evidence, EvidenceError, Tee};

/// The simulated attester.
pub struct SimulatedAttester {
    tee: Tee,
    snp: Option<LiveSnp>,
    tdx: Option<LiveTdx>,
    cca: Option<LiveCca>,
}

impl std::fmt::Debug for SimulatedAttester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedAttester")
            .field("tee", &self.tee)
            .finish_non_exhaustive()
    }
}

impl SimulatedAttester {
    /// A simulated `tee` (SEV-SNP as a Genoa), with the testkit's default
    /// launch measurement, MRTD or RIM.
    pub fn new(tee: Tee) -> SimulatedAttester {
        let now = VerificationTime::now().unix();
        SimulatedAttester {
            tee,
            snp: (tee == Tee::Snp).then(|| LiveSnp::new(AmdProduct::Genoa, now)),
            tdx: (tee == Tee::Tdx).then(|| LiveTdx::new(now)),
            cca: (tee == Tee::Cca).then(LiveCca::new),
        }
    }
}

impl Attester for SimulatedAttester {
    fn tee(&self) -> Tee {
        self.tee
    }

    fn interface(&self) -> String {
        "SIMULATED (cogito-testkit, FAKE vendor keys)".into()
    }

    fn evidence(&self, report_data: &[u8; 64]) -> Result<Evidence, EvidenceError> {
        let missing = || EvidenceError::Unsupported("the simulated platform was not made".into());
        let (evidence, cert_table) = match self.tee {
            Tee::Snp => {
                let (r, t) = self
                    .snp
                    .as_ref()
                    .ok_or_else(missing)?
                    .evidence(*report_data, LiveSnp::measurement_default());
                (r, Some(t))
            }
            Tee::Tdx => (
                self.tdx
                    .as_ref()
                    .ok_or_else(missing)?
                    .quote(*report_data, LiveTdx::mrtd_default()),
                None,
            ),
            Tee::Cca => (
                self.cca
                    .as_ref()
                    .ok_or_else(missing)?
                    .token(*report_data, LiveCca::rim_default()),
                None,
            ),
        };
        Ok(Evidence {
            tee: self.tee,
            interface: self.interface(),
            evidence,
            cert_table,
            event_log: None,
        })
    }
}
