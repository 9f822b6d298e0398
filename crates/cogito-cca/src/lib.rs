//! Arm CCA attestation token verification — without I/O.
//!
//! - [`cbor`]: a strict CBOR decoder that keeps every item's byte span.
//! - [`cose`]: COSE_Sign1 and its `Sig_structure` (RFC 9052).
//! - [`keys`]: EC keys, [`CcaTrustAnchors`] (JWK, PEM, TA store) and the
//!   published test keys that are refused by default.
//! - [`error`]: [`CcaError`], every failure with a stable code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cbor;
pub mod cose;
pub mod error;
pub mod keys;

pub use error::CcaError;
pub use keys::{CcaTrustAnchors, CpakEntry, EcPublicKey, MatchedBy};
