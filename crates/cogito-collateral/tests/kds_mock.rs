//! The KDS client against a local HTTP server (127.0.0.1 only): retries on
//! 429/5xx with bounded backoff, caching so each object is fetched once,
//! clear errors, and an offline mode that never touches the network.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cogito_collateral::{DiskCache, KdsClient, KdsConfig};
use cogito_core::AmdProduct;
use cogito_snp::{SigningKey, TcbParts};

/// Serves the scripted (status, body) answers in order, then 500s.
fn serve(script: Vec<(u16, Vec<u8>)>) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    common::serve(
        script
            .into_iter()
            .map(|(s, b)| (s, Vec::new(), b))
            .collect(),
    )
}

fn client(base: &str, cache: &std::path::Path, offline: bool) -> KdsClient {
    KdsClient::new(
        KdsConfig {
            base_url: base.to_string(),
            offline,
            attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
        },
        DiskCache::new(cache),
    )
}

const TCB: TcbParts = TcbParts {
    fmc: None,
    bootloader: 3,
    tee: 0,
    snp: 8,
    microcode: 115,
};

#[test]
fn retries_busy_answers_then_caches() {
    let (base, count, paths) = serve(vec![
        (429, vec![]),
        (503, vec![]),
        (200, b"vcek-der".to_vec()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let kds = client(&base, dir.path(), false);
    let hw = [0xabu8; 64];
    assert_eq!(kds.vcek(AmdProduct::Milan, &hw, &TCB).unwrap(), b"vcek-der");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let path = paths.lock().unwrap()[0].clone();
    assert_eq!(
        path,
        format!(
            "/vcek/v1/Milan/{}?blSPL=3&teeSPL=0&snpSPL=8&ucodeSPL=115",
            "ab".repeat(64)
        )
    );
    // Second time: from the cache, no request.
    assert_eq!(kds.vcek(AmdProduct::Milan, &hw, &TCB).unwrap(), b"vcek-der");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // A new client on the same cache, offline: still answers.
    let offline = client(&base, dir.path(), true);
    assert_eq!(
        offline.vcek(AmdProduct::Milan, &hw, &TCB).unwrap(),
        b"vcek-der"
    );
}

#[test]
fn gives_up_after_bounded_attempts_with_a_clear_message() {
    let (base, count, _) = serve(vec![(429, vec![]), (429, vec![]), (429, vec![])]);
    let dir = tempfile::tempdir().unwrap();
    let kds = client(&base, dir.path(), false);
    let e = kds
        .cert_chain(AmdProduct::Genoa, SigningKey::Vcek)
        .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let msg = e.to_string();
    assert!(msg.contains("gave up after 3 attempts"), "{msg}");
    assert!(msg.contains("HTTP 429"), "{msg}");
    assert!(msg.contains("/vcek/v1/Genoa/cert_chain"), "{msg}");
    assert_eq!(
        cogito_core::CogitoError::code(&e),
        "collateral.fetch_failed"
    );
}

#[test]
fn not_found_is_not_retried() {
    let (base, count, _) = serve(vec![(404, vec![])]);
    let dir = tempfile::tempdir().unwrap();
    let kds = client(&base, dir.path(), false);
    let e = kds.crl(AmdProduct::Turin, SigningKey::Vlek).unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(e.to_string().contains("/vlek/v1/Turin/crl"), "{e}");
    assert!(e.to_string().contains("404"), "{e}");
}

#[test]
fn offline_mode_never_touches_the_network() {
    let (base, count, _) = serve(vec![(200, b"x".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    let kds = client(&base, dir.path(), true);
    let e = kds.vcek(AmdProduct::Milan, &[0u8; 64], &TCB).unwrap_err();
    assert_eq!(cogito_core::CogitoError::code(&e), "collateral.not_cached");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn turin_urls_carry_fmc_and_short_hwid() {
    let dir = tempfile::tempdir().unwrap();
    let kds = client("https://kds.example", dir.path(), true);
    let tcb = TcbParts {
        fmc: Some(1),
        bootloader: 3,
        tee: 2,
        snp: 5,
        microcode: 97,
    };
    assert_eq!(
        kds.vcek_url(AmdProduct::Turin, &[0x09, 0x10, 0xb4, 0xf8, 0x84, 0xff, 0x4b, 0xa9], &tcb),
        "https://kds.example/vcek/v1/Turin/0910b4f884ff4ba9?blSPL=3&teeSPL=2&snpSPL=5&ucodeSPL=97&fmcSPL=1"
    );
}
