//! Error classes and stable error codes.
//!
//! Every error type in cogito implements [`CogitoError`]: a stable,
//! machine-readable `code()` (e.g. `snp.report.unknown_version`) that logs,
//! API responses and tests can match on, and a coarse [`ErrorClass`] that
//! decides the CLI's exit code and the service's HTTP status. Codes are part
//! of the public interface: never rename one, only add.

use serde::Serialize;

/// The coarse kind of a failure; fixes the process exit code.
///
/// The CLI's exit codes are documented in `cogito verify --help` and
/// `docs/cli.md`; keep the three in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The evidence or an input file is malformed, truncated, of an unknown
    /// version, or the invocation is inconsistent.
    BadInput,
    /// A signature does not verify, a certificate chain is broken, does not
    /// end in a pinned anchor, is outside its validity window, or the signed
    /// evidence contradicts its certificate (TCB, chip id).
    Authenticity,
    /// Verification needs collateral (a VCEK, a CRL, …) that was not supplied
    /// and could not be fetched.
    CollateralUnavailable,
    /// A certificate in the chain is revoked by a valid CRL.
    Revoked,
    /// The evidence is authentic but refused by the verification policy
    /// (provisional firmware, report data mismatch, a policy rule).
    Policy,
    /// A bug or an environment failure (I/O on a cache, …).
    Internal,
    /// The invocation itself is wrong (options that contradict each other).
    Usage,
}

impl ErrorClass {
    /// The process exit code the CLI uses for this class.
    ///
    /// 0 is success; 2 is a usage error, from the argument parser or from
    /// [`ErrorClass::Usage`].
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorClass::BadInput => 3,
            ErrorClass::Authenticity => 4,
            ErrorClass::CollateralUnavailable => 5,
            ErrorClass::Revoked => 6,
            ErrorClass::Policy => 7,
            ErrorClass::Internal => 1,
            ErrorClass::Usage => 2,
        }
    }

    /// A short name, as used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::BadInput => "bad_input",
            ErrorClass::Authenticity => "authenticity",
            ErrorClass::CollateralUnavailable => "collateral_unavailable",
            ErrorClass::Revoked => "revoked",
            ErrorClass::Policy => "policy",
            ErrorClass::Internal => "internal",
            ErrorClass::Usage => "usage",
        }
    }
}

/// Implemented by every cogito error type.
pub trait CogitoError: std::error::Error {
    /// A stable, dotted, lower-case identifier of this failure.
    fn code(&self) -> &'static str;
    /// The coarse class of this failure.
    fn class(&self) -> ErrorClass;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_distinct_and_avoid_usage_code() {
        let all = [
            ErrorClass::BadInput,
            ErrorClass::Authenticity,
            ErrorClass::CollateralUnavailable,
            ErrorClass::Revoked,
            ErrorClass::Policy,
            ErrorClass::Internal,
        ];
        let mut codes: Vec<i32> = all.iter().map(|c| c.exit_code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(!codes.contains(&0));
        assert!(!codes.contains(&2));
    }
}
