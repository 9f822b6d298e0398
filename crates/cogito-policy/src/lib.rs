//! cogito policies: the file format, loading with precise errors, and an
//! explainable appraisal of verified claims.
//!
//! ```text
//! load(file, text, includes) ─▶ Policy
//! verify_*(evidence, …)      ─▶ Verified<P>
//! appraise(&Policy, Input)   ─▶ Appraisal { accepted, status, trust_vector, rules }
//! ```
//!
//! Loading is all or nothing: unknown keys, wrong hex lengths, impossible
//! values and contradictory rules are errors naming the file and line.
//! Appraisal is a pure function; it runs every rule and reports each one.
//! docs/policy.md is the reference for the format.
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

pub mod appraise;
pub mod ear;
pub mod init;
pub mod load;
pub mod model;
pub mod values;

pub use appraise::{appraise, Appraisal, Input, RuleOutcome};
pub use ear::{EarStatus, TrustClaim, TrustVector};
pub use load::{load, Policy, PolicyError, PolicyErrorKind};
