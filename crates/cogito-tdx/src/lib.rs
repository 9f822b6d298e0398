//! Intel TDX quote verification with DCAP collateral, and replay of the
//! CC event log (CCEL) into RTMRs — without I/O.
//!
//! - [`quote`]: parse quote v4/v5 (TD 1.0, 1.5 and 1.5 extended bodies) and its
//!   certification data (QE report, QE auth data, PCK chain).
//! - [`verify`]: verify a quote against collateral, anchors and time.
//! - [`eventlog`]: parse the CCEL ACPI table and the TCG2 crypto-agile event
//!   log, replay RTMR0–3.
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

// One concept per module; the types callers use are re-exported below and
// the other modules stay private, so no x509-parser type is part of this
// crate's interface.
mod builtin;
pub mod claims;
mod collateral;
mod error;
pub mod eventlog;
mod pck;
mod quote;
mod tcb;
mod verify;
mod x509;

pub use builtin::builtin_anchors;
pub use claims::{BodyClaims, CollateralClaims, QeClaims, Td15ExClaims, TdAttributes, TdxClaims};
pub use collateral::Collateral;
pub use error::{MissingCollateral, TdxError};
pub use pck::{PlatformConfiguration, SgxExtensions, SgxType};
pub use quote::{
    body_name, body_type, QeReport, Quote, Td15Ext, TdReport, HEADER_LEN, INTEL_QE_VENDOR_ID,
    QE_REPORT_LEN, TD10_LEN, TD15EX_LEN, TD15_LEN,
};
pub use tcb::TcbEvaluation;
pub use verify::{collateral_request, verify_quote, Options, PckCaKind, VerifiedCache};
