//! The simulated TEE (feature `insecure-simulated-tee`, off by default):
//! its FAKE evidence is refused by a server that trusts only the vendors'
//! roots, and accepted only by one that was told to trust the testkit's.
#![cfg(feature = "insecure-simulated-tee")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use support::*;

#[test]
fn simulated_evidence_is_accepted_only_where_the_testkit_is_trusted() {
    let world = World::new();
    for (trust, expected) in [(false, 5), (true, 0)] {
        let tmp = tempfile::tempdir().unwrap();
        let svc = Service::start(&world, tmp.path(), trust);
        svc.put_secret("disk-key", "fleet", b"k");
        for tee in ["snp", "tdx", "cca"] {
            let (code, stdout, err) = run_guest(&[
                "fetch",
                "--insecure-simulated-tee",
                tee,
                "--server",
                &svc.url,
                "--fingerprint",
                &svc.fingerprint,
                "--secret",
                "disk-key",
                "--stdout",
            ]);
            assert_eq!(code, expected, "{tee}, testkit trusted: {trust}: {err}");
            assert!(err.contains("WARNING: --insecure-simulated-tee"), "{err}");
            if trust {
                assert_eq!(stdout, b"k");
            } else {
                assert!(err.contains("422"), "{err}");
            }
        }
    }
}
