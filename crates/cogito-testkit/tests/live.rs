//! Evidence the live platforms make now verifies now, with cogito's real
//! verifiers, and carries the caller's report data and measurement.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::time::{Duration, Instant};

use cogito_core::{AmdProduct, TcbStatus, TrustAnchors, VerificationTime};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};

fn nonce(seed: u8) -> [u8; 64] {
    std::array::from_fn(|i| seed ^ (i as u8).wrapping_mul(37))
}

fn snp_anchors(live: &LiveSnp) -> TrustAnchors {
    let mut anchors = TrustAnchors::empty();
    for (name, pem) in live.anchors_pem() {
        anchors
            .add_pem_or_der(pem.as_bytes(), false, &name)
            .unwrap();
    }
    anchors
}

fn verify_snp(
    live: &LiveSnp,
    anchors: &TrustAnchors,
    report: &[u8],
    table: &[u8],
    report_data: [u8; 64],
) -> cogito_core::Verified<cogito_snp::SnpClaims> {
    let mut collateral = cogito_snp::Collateral::default();
    collateral.add_certificate_table(table).unwrap();
    let options = cogito_snp::Options {
        expected_report_data: Some(report_data),
        ..Default::default()
    };
    cogito_snp::verify_report(
        report,
        &collateral,
        anchors,
        VerificationTime::now(),
        &options,
        &cogito_snp::VerifiedCache::default(),
    )
    .unwrap_or_else(|e| panic!("{:?}: {e}", live.product()))
}

#[test]
fn snp_evidence_made_now_verifies_now() {
    let now = VerificationTime::now().unix();
    for product in AmdProduct::ALL {
        let live = LiveSnp::new(product, now);
        let anchors = snp_anchors(&live);
        assert_eq!(anchors.len(), 2);
        let measurement = [0x5a; 48];
        let (report, table) = live.evidence(nonce(1), measurement);
        assert_eq!(report.len(), 1184);
        let v = verify_snp(&live, &anchors, &report, &table, nonce(1));
        assert_eq!(v.claims.report_data.0, nonce(1));
        assert_eq!(v.claims.launch_measurement.0, measurement);
        assert!(!v.claims.debug);
        assert_eq!(v.claims.tcb_status, TcbStatus::Committed);
        assert_eq!(v.platform.product, product);
        assert_eq!(v.platform.report.vmpl, 0);
        assert!(v.platform.report.cpuid.is_some());

        // Other report data: other bytes, and it verifies too.
        let (other, table2) = live.evidence(nonce(2), LiveSnp::measurement_default());
        assert_ne!(other, report);
        assert_eq!(table2, table);
        let v = verify_snp(&live, &anchors, &other, &table2, nonce(2));
        assert_eq!(v.claims.report_data.0, nonce(2));
        assert_eq!(
            v.claims.launch_measurement.0,
            LiveSnp::measurement_default()
        );

        // The verifier does check: a report for other report data fails.
        let mut collateral = cogito_snp::Collateral::default();
        collateral.add_certificate_table(&table).unwrap();
        let options = cogito_snp::Options {
            expected_report_data: Some(nonce(3)),
            ..Default::default()
        };
        assert!(cogito_snp::verify_report(
            &report,
            &collateral,
            &anchors,
            VerificationTime::now(),
            &options,
            &cogito_snp::VerifiedCache::default(),
        )
        .is_err());
    }
}

#[test]
fn snp_certificates_are_valid_around_now_only() {
    // Built a year ago: the VCEK was then valid from a year and a day ago
    // for seven years, so it is still valid now; built a year from now it
    // is not valid yet.
    let now = VerificationTime::now().unix();
    let year = 365 * 24 * 60 * 60;
    let past = LiveSnp::new(AmdProduct::Genoa, now - year);
    let (report, table) = past.evidence(nonce(4), LiveSnp::measurement_default());
    verify_snp(&past, &snp_anchors(&past), &report, &table, nonce(4));
    let future = LiveSnp::new(AmdProduct::Genoa, now + year);
    let (report, table) = future.evidence(nonce(4), LiveSnp::measurement_default());
    let mut collateral = cogito_snp::Collateral::default();
    collateral.add_certificate_table(&table).unwrap();
    let err = cogito_snp::verify_report(
        &report,
        &collateral,
        &snp_anchors(&future),
        VerificationTime::now(),
        &cogito_snp::Options::default(),
        &cogito_snp::VerifiedCache::default(),
    )
    .unwrap_err();
    assert_eq!(
        cogito_core::CogitoError::code(&err),
        "snp.chain.outside_validity"
    );
}

fn tdx_anchors(live: &LiveTdx) -> TrustAnchors {
    let mut anchors = TrustAnchors::empty();
    let pems = live.anchors_pem();
    assert_eq!(pems.len(), 1);
    for (name, pem) in pems {
        anchors
            .add_pem_or_der(pem.as_bytes(), false, &name)
            .unwrap();
    }
    anchors
}

/// The collateral as `cogito verify --certs DIR` reads it.
fn tdx_collateral(live: &LiveTdx) -> cogito_tdx::Collateral {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in live.collateral_files() {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let files = cogito_collateral::load_tdx_bundle(dir.path())
        .unwrap()
        .expect("a full bundle");
    assert!(files.pck_cert_chain.is_none());
    files.collateral
}

#[test]
fn tdx_quote_made_now_verifies_now_up_to_date() {
    let live = LiveTdx::new(VerificationTime::now().unix());
    let anchors = tdx_anchors(&live);
    let collateral = tdx_collateral(&live);
    let cache = cogito_tdx::VerifiedCache::default();
    let verify = |quote: &[u8], report_data: [u8; 64]| {
        let options = cogito_tdx::Options {
            expected_report_data: Some(report_data),
            ..Default::default()
        };
        cogito_tdx::verify_quote(
            quote,
            Some(&collateral),
            &anchors,
            VerificationTime::now(),
            &options,
            &cache,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };

    let mrtd = [0xa7; 48];
    let quote = live.quote(nonce(1), mrtd);
    let v = verify(&quote, nonce(1));
    assert_eq!(v.platform.quote_version, 4);
    assert_eq!(v.claims.tcb_status, TcbStatus::UpToDate);
    assert_eq!(v.claims.report_data.0, nonce(1));
    assert_eq!(v.claims.launch_measurement.0, mrtd);
    assert!(!v.claims.debug);
    assert!(v.platform.tcb.is_some());

    let other = live.quote(nonce(2), LiveTdx::mrtd_default());
    assert_ne!(other, quote);
    assert_eq!(other.len(), quote.len());
    let v = verify(&other, nonce(2));
    assert_eq!(v.claims.report_data.0, nonce(2));
    assert_eq!(v.claims.launch_measurement.0, LiveTdx::mrtd_default());
    assert_eq!(v.claims.tcb_status, TcbStatus::UpToDate);
}

#[test]
fn tdx_collateral_built_60_days_ago_is_stale_now() {
    // Its TCB Info, QE Identity and CRLs said nextUpdate 30 days after.
    let now = VerificationTime::now().unix();
    let live = LiveTdx::new(now - 60 * 24 * 60 * 60);
    let collateral = tdx_collateral(&live);
    let err = cogito_tdx::verify_quote(
        &live.quote(nonce(1), LiveTdx::mrtd_default()),
        Some(&collateral),
        &tdx_anchors(&live),
        VerificationTime::now(),
        &cogito_tdx::Options::default(),
        &cogito_tdx::VerifiedCache::default(),
    )
    .unwrap_err();
    assert_eq!(
        cogito_core::CogitoError::code(&err),
        "tdx.chain.outside_validity",
        "{err}"
    );
}

#[test]
fn cca_token_verifies_with_its_cpak() {
    let live = LiveCca::new();
    let anchors = cogito_cca::CcaTrustAnchors::load(live.cpak_jwk().as_bytes(), "cpak.jwk")
        .unwrap_or_else(|e| panic!("{e}"));
    let verify = |token: &[u8], challenge: [u8; 64]| {
        let options = cogito_cca::Options {
            expected_realm_challenge: Some(challenge),
            at: VerificationTime::now(),
            ..Default::default()
        };
        cogito_cca::verify_token(token, &anchors, &options).unwrap_or_else(|e| panic!("{e}"))
    };

    let rim = [0x3c; 48];
    let token = live.token(nonce(1), rim);
    assert_eq!(&token[..3], &[0xd9, 0x01, 0x8f], "tag 399");
    let v = verify(&token, nonce(1));
    assert_eq!(v.claims.report_data.0, nonce(1));
    assert_eq!(v.claims.launch_measurement.0, rim);
    assert_eq!(v.platform.realm.challenge.0, nonce(1));
    assert_eq!(v.platform.realm.initial_measurement.0, rim);
    assert_eq!(v.platform.envelope_tag, 399);

    let other = live.token(nonce(2), LiveCca::rim_default());
    assert_ne!(other, token);
    let v = verify(&other, nonce(2));
    assert_eq!(v.claims.report_data.0, nonce(2));
    assert_eq!(v.claims.launch_measurement.0, LiveCca::rim_default());

    // Another platform's CPAK does not verify it.
    let stranger = cogito_cca::CcaTrustAnchors::load(
        &cogito_testkit::cca::vectors::cpak_jwk(&cogito_testkit::cca::CcaWorld::new().other_p384),
        "other.jwk",
    )
    .unwrap();
    assert!(cogito_cca::verify_token(&token, &stranger, &cogito_cca::Options::default()).is_err());
}

#[test]
fn platforms_can_be_shared_between_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<LiveSnp>();
    send_sync::<LiveTdx>();
    send_sync::<LiveCca>();
}

/// Time per call (printed, not asserted: run with `--nocapture`).
#[test]
fn time_per_call() {
    fn per_call(mut f: impl FnMut(u8)) -> Duration {
        f(0); // warm up
        let n = 200u32;
        let started = Instant::now();
        for i in 0..n {
            f(i as u8);
        }
        started.elapsed() / n
    }
    let now = VerificationTime::now().unix();

    let started = Instant::now();
    let snp = LiveSnp::new(AmdProduct::Milan, now);
    let snp_new = started.elapsed();
    let started = Instant::now();
    let tdx = LiveTdx::new(now);
    let tdx_new = started.elapsed();
    let started = Instant::now();
    let cca = LiveCca::new();
    let cca_new = started.elapsed();

    let snp_call = per_call(|i| {
        std::hint::black_box(snp.evidence(nonce(i), LiveSnp::measurement_default()));
    });
    let tdx_call = per_call(|i| {
        std::hint::black_box(tdx.quote(nonce(i), LiveTdx::mrtd_default()));
    });
    let cca_call = per_call(|i| {
        std::hint::black_box(cca.token(nonce(i), LiveCca::rim_default()));
    });
    // For comparison: the testkit's RustCrypto keys signing as much.
    let p384 = cogito_testkit::EcKey::derive("live timing");
    let p256 = cogito_testkit::tdx::pki::P256Key::derive("live timing");
    let p384_call = per_call(|i| {
        std::hint::black_box(p384.sign(&[i; 0x2a0]));
    });
    let p256_call = per_call(|i| {
        std::hint::black_box(p256.sign_raw(&[i; 632]));
    });
    let rate = |d: Duration| 1.0 / d.as_secs_f64();
    eprintln!(
        "live evidence: SNP new {snp_new:.1?}, evidence() {snp_call:.1?}/call ({:.0}/s); \
         TDX new {tdx_new:.1?}, quote() {tdx_call:.1?}/call ({:.0}/s); \
         CCA new {cca_new:.1?}, token() {cca_call:.1?}/call ({:.0}/s); \
         RustCrypto for comparison: P-384 sign {p384_call:.1?}, P-256 sign {p256_call:.1?}",
        rate(snp_call),
        rate(tdx_call),
        rate(cca_call),
    );
}
