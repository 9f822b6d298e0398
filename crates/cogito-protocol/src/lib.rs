//! What the cogito service and its guests must agree on, defined once:
//!
//! - [`wire`]: the JSON bodies of `/v1/challenge`, `/v1/attest` and
//!   `/v1/secrets/{name}`, and the problem document of a refusal;
//! - [`binding`]: the 64 bytes of report data a guest asks its TEE for, a
//!   labelled SHA-512 over the nonce and the guest's public key;
//! - [`seal`]: HPKE (RFC 9180, base mode) sealing of a secret to the
//!   guest's key, with the secret's name as associated data;
//! - [`token`]: the claims of the attestation-result token the guest gets.
//!
//! No I/O, no clock: the server and the guest client both build on this
//! crate, so the two sides cannot drift. docs/protocol.md describes the
//! same bytes for implementers in other languages.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

mod b64;
pub mod binding;
pub mod seal;
pub mod token;
pub mod wire;

pub use b64::{decode_b64, encode_b64};
pub use binding::{report_data, REPORT_DATA_LABEL};
pub use seal::{check_public_key, open, seal, GuestKey, Kem, SealError, Sealed, HPKE_INFO};
pub use token::{verify_token, TokenError, VerifiedToken};
pub use wire::{
    AttestCollateral, AttestRequest, AttestResponse, ChallengeRequest, ChallengeResponse,
    FailedRule, Problem, PublicKey, SealedSecret, TeeName,
};

/// The version of this protocol, in paths (`/v1/…`) and labels.
pub const VERSION: &str = "v1";
