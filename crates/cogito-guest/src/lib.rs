//! The guest side of cogito: a confidential VM collects evidence from its
//! TEE, proves to `cogito serve` what it booted, and receives the secrets
//! its policies grant, sealed to a key that never leaves it.
//!
//! - [`attester`]: the [`Attester`] trait and [`Evidence`]; the
//!   interfaces that implement it: [`tsm`] (Linux configfs-tsm, the
//!   preferred one), [`sev_device`] (`/dev/sev-guest`) and [`tdx_device`]
//!   (`/dev/tdx_guest` with the host's quote service);
//! - [`detect`]: which of those this machine has, looked for in a fixed
//!   order, with every place looked at named when none is found;
//! - [`client`]: [`Client::fetch_secrets`], the whole round trip
//!   (challenge, key pair, evidence bound to both, attest, token check,
//!   unseal), with retries for transient failures only;
//! - [`tls`]: the server is pinned by CA certificate or by its
//!   certificate's SHA-256 fingerprint, never trusted by the web PKI.
//!
//! The wire types, the report-data binding, HPKE and the token checks come
//! from `cogito-protocol`, the crate the server builds on, so the two sides
//! cannot drift. Nothing here depends on the server or the verifiers.
//!
//! Unsafe code is denied in every module but [`ioctl`] (the two legacy
//! devices' ioctls and the vsock socket), which is small and commented.
#![deny(unsafe_code)]
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

pub mod attester;
pub mod client;
pub mod detect;
pub mod ioctl;
pub mod qgs;
pub mod retry;
pub mod sev_device;
#[cfg(feature = "insecure-simulated-tee")]
pub mod simulated;
pub mod tdx_device;
pub mod tls;
pub mod tsm;

pub use attester::{Attester, Evidence, EvidenceError, Tee};
pub use client::{Client, FetchError, Fetched, Progress, Step};
pub use detect::{detect, Detection, Paths};
pub use tls::Tls;
