//! Intel TDX quote verification with DCAP collateral, and replay of the
//! CC event log (CCEL) into RTMRs — without I/O.
//!
//! - [`quote`]: parse quote v4/v5 (TD 1.0, 1.5 and 1.5 extended bodies) and its
//!   certification data (QE report, QE auth data, PCK chain).
//! - [`verify`]: verify a quote against collateral, anchors and time.
//! - [`eventlog`]: parse the CCEL ACPI table and the TCG2 crypto-agile event
//!   log, replay RTMR0–3.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod builtin;
pub mod claims;
pub mod collateral;
pub mod error;
pub mod eventlog;
pub mod pck;
pub mod quote;
pub mod tcb;
pub mod verify;
pub mod x509;

pub use builtin::builtin_anchors;
pub use claims::{BodyClaims, Td15ExClaims, TdxClaims};
pub use collateral::Collateral;
pub use error::{MissingCollateral, TdxError};
pub use quote::{QeReport, Quote, Td15Ext, TdReport};
pub use verify::{collateral_request, verify_quote, Options, PckCaKind, VerifiedCache};
