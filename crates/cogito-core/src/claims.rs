//! The normalized claim set every platform fills (DESIGN.md, "Normalized
//! claims"), and [`Verified`], which carries it next to the platform's full
//! typed claims.

use serde::Serialize;

use crate::hexser::Hex;
use crate::time::VerificationTime;

/// The kind of trusted execution environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tee {
    /// AMD SEV-SNP.
    Snp,
    /// Intel TDX.
    Tdx,
    /// Arm CCA.
    Cca,
}

impl Tee {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tee::Snp => "snp",
            Tee::Tdx => "tdx",
            Tee::Cca => "cca",
        }
    }
}

/// The state of the platform's trusted computing base, normalized.
///
/// Intel's statuses are listed as Intel names them (TDX TCB Info
/// `tcbStatus`); AMD SEV-SNP has no vendor-published status, so cogito
/// derives one from its own TCB comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TcbStatus {
    /// SNP: the reported TCB is certified by the VCEK/VLEK, is not above the
    /// current TCB, and the running firmware is committed
    /// (COMMITTED_TCB == CURRENT_TCB and the versions agree).
    Committed,
    /// SNP: as `Committed`, but the running firmware is provisional
    /// (CURRENT_TCB differs from COMMITTED_TCB): it may be rolled back.
    Provisional,
    /// Intel: the TCB level is the latest.
    UpToDate,
    /// Intel: software hardening needed.
    SWHardeningNeeded,
    /// Intel: platform configuration needed.
    ConfigurationNeeded,
    /// Intel: configuration and software hardening needed.
    ConfigurationAndSWHardeningNeeded,
    /// Intel: out of date.
    OutOfDate,
    /// Intel: out of date and configuration needed.
    OutOfDateConfigurationNeeded,
    /// Intel: revoked.
    Revoked,
    /// Intel: the TD should be relaunched.
    TDRelaunchAdvised,
    /// Intel: relaunch advised and configuration needed.
    TDRelaunchAdvisedConfigurationNeeded,
    /// The TCB was not evaluated (e.g. signature-only verification).
    NotEvaluated,
}

impl TcbStatus {
    /// Every status, in declaration order.
    pub const ALL: [TcbStatus; 12] = [
        TcbStatus::Committed,
        TcbStatus::Provisional,
        TcbStatus::UpToDate,
        TcbStatus::SWHardeningNeeded,
        TcbStatus::ConfigurationNeeded,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
        TcbStatus::OutOfDate,
        TcbStatus::OutOfDateConfigurationNeeded,
        TcbStatus::Revoked,
        TcbStatus::TDRelaunchAdvised,
        TcbStatus::TDRelaunchAdvisedConfigurationNeeded,
        TcbStatus::NotEvaluated,
    ];

    /// The name, as serialized and as Intel's collateral spells it
    /// (`UpToDate`, `OutOfDateConfigurationNeeded`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TcbStatus::Committed => "Committed",
            TcbStatus::Provisional => "Provisional",
            TcbStatus::UpToDate => "UpToDate",
            TcbStatus::SWHardeningNeeded => "SWHardeningNeeded",
            TcbStatus::ConfigurationNeeded => "ConfigurationNeeded",
            TcbStatus::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            TcbStatus::OutOfDate => "OutOfDate",
            TcbStatus::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            TcbStatus::Revoked => "Revoked",
            TcbStatus::TDRelaunchAdvised => "TDRelaunchAdvised",
            TcbStatus::TDRelaunchAdvisedConfigurationNeeded => {
                "TDRelaunchAdvisedConfigurationNeeded"
            }
            TcbStatus::NotEvaluated => "NotEvaluated",
        }
    }

    /// Parses [`Self::as_str`] names (exact spelling).
    pub fn from_name(name: &str) -> Option<TcbStatus> {
        TcbStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether Intel's TCB evaluation produces this status.
    pub fn is_intel(self) -> bool {
        !matches!(
            self,
            TcbStatus::Committed | TcbStatus::Provisional | TcbStatus::NotEvaluated
        )
    }
}

/// One signer identity a platform reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// What the value is (`id_key_digest`, `author_key_digest`, `mrsignerseam`, …).
    pub kind: &'static str,
    /// The identity, as the platform reports it.
    pub value: Hex,
}

/// The claims every platform maps its evidence into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// Which TEE produced the evidence.
    pub tee: Tee,
    /// The launch measurement (SNP MEASUREMENT, TDX MRTD, CCA realm RIM).
    pub launch_measurement: Hex,
    /// Runtime-extendable measurements (TDX RTMR0–3, CCA REM0–3); empty for SNP.
    pub runtime_measurements: Vec<Hex>,
    /// The 64 bytes the guest bound into the evidence.
    pub report_data: Hex,
    /// Data the host/launcher bound at launch (SNP HOST_DATA, TDX MRCONFIGID, CCA personalization value).
    pub init_data: Hex,
    /// Whether the guest may be debugged (its memory is then not confidential).
    pub debug: bool,
    /// The TCB status.
    pub tcb_status: TcbStatus,
    /// An identifier of the physical platform, when the evidence carries one
    /// (SNP CHIP_ID unless masked).
    pub platform_instance: Option<Hex>,
    /// Signer identities (e.g. SNP ID and author key digests when present).
    pub signer: Vec<Signer>,
}

/// One check a verifier performed, for the "what was checked" summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// A stable short name (`report_signature`, `vcek_chain`, …).
    pub name: &'static str,
    /// What exactly was established.
    pub detail: String,
}

/// The result of a successful verification: normalized claims plus the
/// platform's full typed claims `P`.
#[derive(Debug, Clone, Serialize)]
pub struct Verified<P> {
    /// The normalized claims.
    pub claims: Claims,
    /// The platform's own, complete claims.
    pub platform: P,
    /// Every check that passed, in the order performed.
    pub checks: Vec<Check>,
    /// The time the verification was judged at.
    pub verified_at: VerificationTime,
}

#[cfg(test)]
mod tests {
    #[test]
    fn tcb_status_names_round_trip_and_match_serde() {
        for s in super::TcbStatus::ALL {
            assert_eq!(super::TcbStatus::from_name(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(super::TcbStatus::from_name("uptodate"), None);
    }
}
