//! Arm CCA attestation token verification — without I/O.
//!
//! A CCA token (draft-ffm-rats-cca-token) is a platform token signed by the
//! CCA Platform Attestation Key (CPAK) and a realm token signed by the Realm
//! Attestation Key (RAK) that the realm token itself carries; the platform
//! token's challenge binds the two (it is the hash of the RAK claim).
//!
//! - [`cbor`]: a strict CBOR decoder that keeps every item's byte span.
//! - [`cose`]: COSE_Sign1 and its `Sig_structure` (RFC 9052).
//! - [`token`]: the tag 399 / tag 907 envelopes and [`CcaToken::parse`].
//! - [`claims`]: typed platform and realm claims, and the normalized mapping.
//! - [`keys`]: EC keys, [`CcaTrustAnchors`] (JWK, PEM, TA store) and the
//!   published test keys that are refused by default.
//! - [`verify`]: the verification, [`verify_token`].
//! - [`refvalues`]: reference-value comparison for software components and
//!   realm measurements.
#![forbid(unsafe_code)]
// Test code may panic (a panic is a failed test); shipped code may not.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]
#![deny(missing_docs)]

pub mod cbor;
pub mod claims;
pub mod cose;
pub mod error;
pub mod keys;
pub mod refvalues;
pub mod token;
pub mod verify;

pub use claims::{CcaClaims, LifecycleState, MecPolicy, PlatformClaims, RealmClaims, SwComponent};
pub use error::CcaError;
pub use keys::{CcaTrustAnchors, CpakEntry, EcPublicKey, MatchedBy};
pub use refvalues::{match_sw_components, ReferenceValues, SwComponentRef};
pub use token::CcaToken;
pub use verify::{verify_token, Options};
