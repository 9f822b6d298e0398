//! Errors of CCA token verification, each with a stable code.

use cogito_core::{CogitoError, ErrorClass};

use crate::cbor::{CborError, CborErrorKind};

/// Why a CCA attestation token was not verified, or an input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CcaError {
    /// Bytes that should be strict CBOR are not.
    #[error("CCA token: {context}: CBOR {error}")]
    Cbor {
        /// What was being decoded (`token`, `platform COSE_Sign1`, …).
        context: &'static str,
        /// The violation; offsets are into the whole token.
        error: CborError,
    },
    /// The outer envelope (tag 399 collection or tag 907 CMW collection) is
    /// not what the CCA token format allows.
    #[error("CCA token: envelope at offset {offset:#x}: {detail}")]
    Envelope {
        /// Offset of the offending item.
        offset: usize,
        /// What was found and what was expected.
        detail: String,
    },
    /// A COSE_Sign1 structure is malformed (RFC 9052 §4.2).
    #[error("CCA token: {part} COSE_Sign1 at offset {offset:#x}: {detail}")]
    Cose {
        /// `platform` or `realm`.
        part: &'static str,
        /// Offset of the offending item.
        offset: usize,
        /// What was found and what was expected.
        detail: String,
    },
    /// A COSE_Sign1 names no signature algorithm: its protected header is
    /// empty (RFC 9052 §3: a zero-length bstr stands for an empty map) or
    /// lacks label 1. Development platforms emit such unsigned tokens.
    #[error("CCA token: the {part} COSE_Sign1 names no signature algorithm: {detail}; the token is unsigned, or not signed in a way this verifier can check")]
    NoAlgorithm {
        /// `platform` or `realm`.
        part: &'static str,
        /// `its protected header is empty` or `its protected header has no alg (label 1)`.
        detail: &'static str,
    },
    /// A COSE algorithm this verifier does not support.
    #[error("CCA token: {part} COSE_Sign1 algorithm {alg} is not supported (expected -7 ES256, -35 ES384 or -36 ES512)")]
    UnsupportedAlgorithm {
        /// `platform` or `realm`.
        part: &'static str,
        /// The COSE algorithm identifier found.
        alg: i64,
    },
    /// A mandatory claim is absent.
    #[error("CCA {part} token: mandatory claim {key} ({name}) is missing")]
    MissingClaim {
        /// `platform` or `realm`.
        part: &'static str,
        /// The claim key.
        key: i64,
        /// The claim name.
        name: &'static str,
    },
    /// A claim has the wrong type, size or value.
    #[error("CCA {part} token: claim {key} ({name}) at offset {offset:#x} is {found}; expected {expected}")]
    BadClaim {
        /// `platform` or `realm`.
        part: &'static str,
        /// The claim key.
        key: i64,
        /// The claim name (with a path inside it, e.g. `sw-components[2].signer-id`).
        name: String,
        /// Offset of the claim value in the token.
        offset: usize,
        /// What was found.
        found: String,
        /// What the format requires.
        expected: String,
    },
    /// A profile this verifier does not know.
    #[error(
        "CCA {part} token: profile (claim 265) {found:?} is not supported (supported: {supported})"
    )]
    UnknownProfile {
        /// `platform` or `realm`.
        part: &'static str,
        /// The profile found.
        found: String,
        /// The profiles supported.
        supported: &'static str,
    },
    /// The token's signature algorithm does not fit the key's curve.
    #[error("CCA token: {part} COSE_Sign1 uses {alg} but the {key} is a {curve} key")]
    AlgorithmKeyMismatch {
        /// `platform` or `realm`.
        part: &'static str,
        /// The algorithm in the protected header.
        alg: &'static str,
        /// `CPAK` or `RAK`.
        key: &'static str,
        /// The key's curve.
        curve: &'static str,
    },
    /// The platform token signature does not verify with the CPAK.
    #[error("CCA platform token: {alg} signature does not verify with the CPAK (SHA-256 fingerprint {cpak_fingerprint})")]
    PlatformSignature {
        /// The algorithm.
        alg: &'static str,
        /// The CPAK's fingerprint (SHA-256 of its uncompressed point).
        cpak_fingerprint: String,
    },
    /// The realm token signature does not verify with the RAK it carries.
    #[error("CCA realm token: {alg} signature does not verify with the RAK in claim 44237")]
    RealmSignature {
        /// The algorithm.
        alg: &'static str,
    },
    /// The platform challenge is not the hash of the RAK claim.
    #[error("CCA token binding: platform challenge (claim 10) is {challenge} but {alg}(realm public key claim 44237) is {expected}")]
    Binding {
        /// The RAK hash algorithm (claim 44240).
        alg: &'static str,
        /// The platform challenge, hex.
        challenge: String,
        /// The hash of the RAK claim bytes, hex.
        expected: String,
    },
    /// No CPAK in the trust anchors matches the token.
    #[error("CCA platform: no CPAK in the trust anchors for instance id {instance_id} (implementation id {implementation_id}); {detail}")]
    UnknownKey {
        /// Instance id (claim 256), hex.
        instance_id: String,
        /// Implementation id (claim 2396), hex.
        implementation_id: String,
        /// What the store holds.
        detail: String,
    },
    /// The CPAK entry for this instance id names another implementation id.
    #[error("CCA platform: the CPAK for instance id {instance_id} is endorsed for implementation id {endorsed}, but the token claims {found}")]
    ImplementationMismatch {
        /// Instance id, hex.
        instance_id: String,
        /// The implementation id in the trust anchors, hex.
        endorsed: String,
        /// The implementation id in the token, hex.
        found: String,
    },
    /// The CPAK is a published test key.
    #[error("CCA platform: the CPAK (SHA-256 fingerprint {fingerprint}) is a published test key ({name}); anyone can sign tokens with it (allow it only for tests)")]
    TestKey {
        /// Fingerprint, hex.
        fingerprint: String,
        /// Where it is published.
        name: &'static str,
    },
    /// The platform lifecycle state is not allowed.
    #[error("CCA platform: lifecycle {value:#06x} ({state}) is not allowed (allowed: {allowed})")]
    Lifecycle {
        /// The raw lifecycle claim.
        value: u16,
        /// Its state name.
        state: &'static str,
        /// The allowed states.
        allowed: String,
    },
    /// The realm challenge differs from the expected one.
    #[error("CCA realm challenge (claim 10) is {found} but {expected} was expected")]
    ChallengeMismatch {
        /// Expected, hex.
        expected: String,
        /// Found, hex.
        found: String,
    },
    /// A trust-anchor input (JWK, PEM, TA store) is unusable.
    #[error("CCA trust anchors: {source_name}: {detail}")]
    Anchors {
        /// File name or description.
        source_name: String,
        /// What is wrong.
        detail: String,
    },
    /// A reference-value input is unusable.
    #[error("CCA reference values: {source_name}: {detail}")]
    ReferenceValues {
        /// File name or description.
        source_name: String,
        /// What is wrong.
        detail: String,
    },
}

impl CogitoError for CcaError {
    fn code(&self) -> &'static str {
        use CcaError::*;
        match self {
            Cbor { error, .. } => match error.kind {
                CborErrorKind::Truncated { .. } => "cca.cbor.truncated",
                CborErrorKind::NonMinimal { .. } => "cca.cbor.non_minimal",
                CborErrorKind::IndefiniteLength { .. } => "cca.cbor.indefinite_length",
                CborErrorKind::NotWellFormed { .. } => "cca.cbor.malformed",
                CborErrorKind::Float => "cca.cbor.float",
                CborErrorKind::InvalidUtf8 => "cca.cbor.invalid_utf8",
                CborErrorKind::DuplicateKey { .. } => "cca.cbor.duplicate_key",
                CborErrorKind::TooDeep { .. } => "cca.cbor.too_deep",
                CborErrorKind::TrailingData { .. } => "cca.cbor.trailing_data",
            },
            Envelope { .. } => "cca.token.envelope",
            Cose { .. } => "cca.token.cose",
            UnsupportedAlgorithm { .. } => "cca.token.unsupported_algorithm",
            NoAlgorithm { .. } => "cca.token.no_algorithm",
            MissingClaim { .. } => "cca.claim.missing",
            BadClaim { .. } => "cca.claim.invalid",
            UnknownProfile { .. } => "cca.claim.unknown_profile",
            AlgorithmKeyMismatch { .. } => "cca.key.algorithm_mismatch",
            PlatformSignature { .. } => "cca.signature.platform",
            RealmSignature { .. } => "cca.signature.realm",
            Binding { .. } => "cca.binding",
            UnknownKey { .. } => "cca.key.unknown",
            ImplementationMismatch { .. } => "cca.key.implementation_mismatch",
            TestKey { .. } => "cca.key.test_key",
            Lifecycle { .. } => "cca.lifecycle",
            ChallengeMismatch { .. } => "cca.challenge.mismatch",
            Anchors { .. } => "cca.anchors.invalid",
            ReferenceValues { .. } => "cca.reference_values.invalid",
        }
    }

    fn class(&self) -> ErrorClass {
        use CcaError::*;
        match self {
            Cbor { .. }
            | Envelope { .. }
            | Cose { .. }
            | UnsupportedAlgorithm { .. }
            | NoAlgorithm { .. }
            | MissingClaim { .. }
            | BadClaim { .. }
            | UnknownProfile { .. }
            | Anchors { .. }
            | ReferenceValues { .. } => ErrorClass::BadInput,
            AlgorithmKeyMismatch { .. }
            | PlatformSignature { .. }
            | RealmSignature { .. }
            | Binding { .. }
            | ImplementationMismatch { .. } => ErrorClass::Authenticity,
            UnknownKey { .. } => ErrorClass::CollateralUnavailable,
            TestKey { .. } | Lifecycle { .. } | ChallengeMismatch { .. } => ErrorClass::Policy,
        }
    }
}
