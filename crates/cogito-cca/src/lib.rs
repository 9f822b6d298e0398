//! Arm CCA attestation token verification — without I/O.
//!
//! - [`cbor`]: a strict CBOR decoder that keeps every item's byte span.
//! - [`error`]: [`CcaError`], every failure with a stable code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cbor;
pub mod error;

pub use error::CcaError;
