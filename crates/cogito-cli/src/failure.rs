//! A failed command: the library error's stable code and class, its
//! message, and — added here, never by a library — a hint that names the
//! command-line flag that would change the outcome.

use cogito_core::{CogitoError, ErrorClass};

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

impl Failure {
    /// A failure of the command's own (an unreadable file, a bad flag value).
    pub fn new(code: &'static str, class: ErrorClass, message: impl Into<String>) -> Self {
        Failure {
            code,
            class,
            message: message.into(),
        }
    }

    /// Bad input the command itself found.
    pub fn bad_input(code: &'static str, message: impl Into<String>) -> Self {
        Failure::new(code, ErrorClass::BadInput, message)
    }

    /// The flag that would change this outcome, if there is one.
    pub fn hint(&self) -> Option<&'static str> {
        flag_hint(self.code)
    }
}

/// Maps an error code to the command-line flags that address it. The
/// libraries' messages say what is wrong; only the CLI knows its flags.
pub fn flag_hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "snp.product.unknown" => "pass --product milan|genoa|turin",
        "snp.collateral.missing" => {
            "supply the certificates with --certs DIR or --cert-table FILE, or fetch them with --online"
        }
        "snp.chain.not_pinned" => {
            "a root you really trust (a test root, say) can be added with --trust-anchors DIR"
        }
        "snp.tcb.provisional_firmware" => {
            "--permit-provisional-firmware accepts it (with a policy: snp.allow_provisional_firmware)"
        }
        "tdx.collateral.missing" => {
            "supply Intel's collateral with --certs DIR, fetch it with --online [--pccs-url URL], or check signatures only with --signature-only"
        }
        "tdx.tcb.status_not_allowed" => {
            "--allow-tcb-status STATUS accepts it (with a policy: tdx.tcb_statuses)"
        }
        "cca.lifecycle" => "--allow-lifecycle STATE accepts it (with a policy: cca.lifecycles)",
        "cca.key.test_key" => {
            "--allow-test-keys accepts published test keys, for development platforms only"
        }
        "cca.key.none_configured" | "cca.key.unknown" => {
            "pass the platform's CPAK with --cca-trust-anchors FILE (a JWK, a PEM key or a trust-anchor store)"
        }
        "collateral.not_cached" => {
            "run once with --online, or supply the collateral with --certs DIR"
        }
        "collateral.fetch_failed" => "wait and retry, or verify offline with --certs DIR",
        "attest.collateral_for_other_platform" => {
            "--cert-table is for SEV-SNP reports; --event-log and a PCK chain are for TDX quotes"
        }
        "snp.report_data.mismatch" | "tdx.report_data.mismatch"
        | "cca.challenge.mismatch" => "check the value given with --report-data",
        _ => return None,
    })
}
