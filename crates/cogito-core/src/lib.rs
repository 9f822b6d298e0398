//! Shared types for cogito's verifiers.
//!
//! Every platform crate (`cogito-snp`, later `cogito-tdx` and `cogito-cca`)
//! speaks in these types so that the CLI, the service and the policy engine
//! can treat evidence from any TEE alike:
//!
//! - [`evidence`]: recognise what a blob of untrusted bytes is.
//! - [`reader`]: a bounds-checked reader for fixed binary layouts whose
//!   errors name the field and offset.
//! - [`claims`]: the normalized [`Claims`] every platform fills, and
//!   [`Verified`], which carries them next to the platform's typed claims.
//! - [`anchors`]: [`TrustAnchors`], the roots a verification may end in.
//! - [`pem`]: one certificate in strict PEM.
//! - [`time`]: [`VerificationTime`], the "now" a verification is judged at.
//! - [`error`]: [`ErrorClass`] and the [`CogitoError`] trait that gives every
//!   error a stable code and a process exit code.
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

pub mod anchors;
pub mod claims;
pub mod crl;
pub mod der;
pub mod error;
pub mod evidence;
pub mod hexser;
pub mod lru;
pub mod pem;
pub mod reader;
pub mod time;

pub use anchors::{AmdKeyRole, AmdProduct, AnchorError, AnchorRole, TrustAnchor, TrustAnchors};
pub use claims::{Claims, Signer, TcbStatus, Tee, Verified};
pub use error::{CogitoError, ErrorClass};
pub use evidence::{detect, DetectError, Evidence};
pub use reader::{Reader, ReaderError};
pub use time::{TimeError, VerificationTime};
