//! The verified-chain cache on real evidence: a second report costs no
//! chain verification, and a cached chain is never used outside its
//! validity window or after its anchors stop being trusted.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};

use cogito_core::{TrustAnchors, VerificationTime};
use cogito_snp::{builtin_anchors, verify_report, Collateral, Options, SnpError, VerifiedCache};

fn vectors_dir() -> Option<PathBuf> {
    cogito_testkit::real_vectors::dir()
}

fn milan(dir: &Path) -> (Vec<u8>, Collateral) {
    let case = dir.join("snp/milan-v2-virtee");
    let report = std::fs::read(case.join("report.bin")).unwrap();
    let collateral = Collateral {
        vcek: Some(std::fs::read(case.join("vcek.der")).unwrap()),
        ..Collateral::default()
    };
    (report, collateral)
}

/// Verifies with default options.
fn verify(
    report: &[u8],
    collateral: &Collateral,
    anchors: &TrustAnchors,
    t: VerificationTime,
    cache: &VerifiedCache,
) -> Result<cogito_core::Verified<cogito_snp::SnpClaims>, SnpError> {
    verify_report(report, collateral, anchors, t, &Options::default(), cache)
}

fn at(s: &str) -> VerificationTime {
    VerificationTime::parse_rfc3339(s).unwrap()
}

#[test]
fn second_verification_hits_the_cache() {
    let Some(dir) = vectors_dir() else { return };
    let (report, collateral) = milan(&dir);
    let cache = VerifiedCache::default();
    let t = at("2023-04-05T00:00:00Z");
    let a = verify(&report, &collateral, builtin_anchors(), t, &cache).unwrap();
    let b = verify(&report, &collateral, builtin_anchors(), t, &cache).unwrap();
    assert_eq!(cache.stats(), (1, 1));
    assert_eq!(cache.len(), 1);
    assert_eq!(a.platform, b.platform);
    assert_eq!(a.claims, b.claims);
}

#[test]
fn cached_chain_is_not_used_after_it_expires() {
    let Some(dir) = vectors_dir() else { return };
    let (report, collateral) = milan(&dir);
    let cache = VerifiedCache::default();
    verify(
        &report,
        &collateral,
        builtin_anchors(),
        at("2023-04-05T00:00:00Z"),
        &cache,
    )
    .unwrap();
    // The VCEK expires 2030-04-03T19:23:43Z.
    let e = verify(
        &report,
        &collateral,
        builtin_anchors(),
        at("2030-04-04T00:00:00Z"),
        &cache,
    )
    .unwrap_err();
    assert!(matches!(e, SnpError::OutsideValidity { .. }), "{e}");
    let e = verify(
        &report,
        &collateral,
        builtin_anchors(),
        at("2023-04-01T00:00:00Z"),
        &cache,
    )
    .unwrap_err();
    assert!(matches!(e, SnpError::OutsideValidity { .. }), "{e}");
}

#[test]
fn cached_chain_is_not_used_without_its_anchors() {
    let Some(dir) = vectors_dir() else { return };
    let (report, collateral) = milan(&dir);
    let cache = VerifiedCache::default();
    let t = at("2023-04-05T00:00:00Z");
    verify(&report, &collateral, builtin_anchors(), t, &cache).unwrap();
    let e = verify(&report, &collateral, &TrustAnchors::empty(), t, &cache).unwrap_err();
    assert!(matches!(e, SnpError::UntrustedIssuer { .. }), "{e}");
}

#[test]
fn a_tampered_report_with_a_cached_chain_is_still_rejected() {
    let Some(dir) = vectors_dir() else { return };
    let (mut report, collateral) = milan(&dir);
    let cache = VerifiedCache::default();
    let t = at("2023-04-05T00:00:00Z");
    verify(&report, &collateral, builtin_anchors(), t, &cache).unwrap();
    report[0x90] ^= 1; // MEASUREMENT
    let e = verify(&report, &collateral, builtin_anchors(), t, &cache).unwrap_err();
    assert_eq!(e, SnpError::BadReportSignature { key: "VCEK" });
    assert_eq!(cache.stats().0, 1);
}
