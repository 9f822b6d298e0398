//! The Intel PCS / PCCS client against a local HTTP server (127.0.0.1
//! only): paths and query strings, issuer chains from URL-encoded headers,
//! caching until nextUpdate, retries on 429/5xx, clear errors, an offline
//! mode that never touches the network, and a PCCS serving TLS with a
//! certificate from a private CA.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{serve, serve_tls, Answer};

use cogito_collateral::{DiskCache, PckCa, PcsClient, PcsConfig};

fn client(base: &str, cache: &std::path::Path, offline: bool) -> PcsClient {
    client_trusting(base, cache, offline, None)
}

fn client_trusting(
    base: &str,
    cache: &std::path::Path,
    offline: bool,
    tls_roots: Option<Vec<Vec<u8>>>,
) -> PcsClient {
    PcsClient::new(
        PcsConfig {
            base_url: base.to_string(),
            root_ca_crl_url: None,
            offline,
            attempts: 3,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(5),
            tls_roots,
        },
        DiskCache::new(cache),
    )
}

// --- Synthetic collateral: right shape, nothing signed. ---

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn ecdsa_sha256() -> Vec<u8> {
    der(
        0x30,
        &der(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    )
}

fn name(cn: &str) -> Vec<u8> {
    let atv = [der(0x06, &[0x55, 0x04, 0x03]), der(0x0c, cn.as_bytes())].concat();
    der(0x30, &der(0x31, &der(0x30, &atv)))
}

/// A CRL (v2, no entries) whose nextUpdate is the UTCTime `next`.
fn crl(next: &str) -> Vec<u8> {
    let tbs = [
        der(0x02, &[1]),
        ecdsa_sha256(),
        name("Test PCK CA"),
        der(0x17, b"200101000000Z"),
        der(0x17, next.as_bytes()),
    ]
    .concat();
    der(
        0x30,
        &[der(0x30, &tbs), ecdsa_sha256(), der(0x03, &[0, 1, 2, 3])].concat(),
    )
}

/// A certificate-shaped DER object (envelope only).
fn cert(cn: &str) -> Vec<u8> {
    let tbs = [
        der(0xa0, &der(0x02, &[2])),
        der(0x02, &[7]),
        ecdsa_sha256(),
        name(cn),
    ]
    .concat();
    der(
        0x30,
        &[der(0x30, &tbs), ecdsa_sha256(), der(0x03, &[0, 1, 2, 3])].concat(),
    )
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A two-certificate PEM chain.
fn chain(leaf: &str) -> Vec<u8> {
    [cert(leaf), cert("Intel SGX Root CA")]
        .iter()
        .map(|d| {
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                base64(d)
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// URL-encodes everything but RFC 3986 unreserved characters, as the PCS
/// does for its issuer-chain headers.
fn url_encode(data: &[u8]) -> String {
    data.iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn tcb_info(next: &str) -> Vec<u8> {
    format!(
        "{{\"tcbInfo\":{{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"2020-01-01T00:00:00Z\",\"nextUpdate\":\"{next}\",\"fmspc\":\"B0C06F000000\"}},\"signature\":\"00ff\"}}"
    )
    .into_bytes()
}

fn qe_identity(next: &str) -> Vec<u8> {
    format!(
        "{{\"enclaveIdentity\":{{\"id\":\"TD_QE\",\"version\":2,\"nextUpdate\":\"{next}\"}},\"signature\":\"abcd\"}}"
    )
    .into_bytes()
}

const FUTURE: &str = "2049-12-31T23:59:59Z";
const PAST: &str = "2020-01-02T00:00:00Z";
const FMSPC: [u8; 6] = [0xb0, 0xc0, 0x6f, 0, 0, 0];

fn ok(header: &'static str, chain: &[u8], body: Vec<u8>) -> Answer {
    (200, vec![(header, url_encode(chain))], body)
}

#[test]
fn fetches_everything_once_then_serves_from_the_cache() {
    let pck_crl = crl("491231235959Z");
    let root_crl = crl("491231235959Z");
    let (base, count, paths) = serve(vec![
        ok(
            "TCB-Info-Issuer-Chain",
            &chain("Intel SGX TCB Signing"),
            tcb_info(FUTURE),
        ),
        ok(
            "SGX-Enclave-Identity-Issuer-Chain",
            &chain("Intel SGX TCB Signing"),
            qe_identity(FUTURE),
        ),
        ok(
            "SGX-PCK-CRL-Issuer-Chain",
            &chain("Intel SGX PCK Platform CA"),
            pck_crl.clone(),
        ),
        // A PCCS answers the root CA CRL in hex.
        (200, vec![], hex::encode(&root_crl).into_bytes()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    let files = pcs.fetch_all(&FMSPC, PckCa::Platform).unwrap();
    assert_eq!(
        *paths.lock().unwrap(),
        [
            "/tdx/certification/v4/tcb?fmspc=B0C06F000000",
            "/tdx/certification/v4/qe/identity",
            "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
            "/sgx/certification/v4/rootcacrl",
        ]
    );
    assert_eq!(files.tcb_info, tcb_info(FUTURE));
    assert_eq!(files.tcb_info_issuer_chain, chain("Intel SGX TCB Signing"));
    assert_eq!(files.qe_identity, qe_identity(FUTURE));
    assert_eq!(
        files.qe_identity_issuer_chain,
        chain("Intel SGX TCB Signing")
    );
    assert_eq!(files.pck_crl, pck_crl);
    assert_eq!(
        files.pck_crl_issuer_chain,
        chain("Intel SGX PCK Platform CA")
    );
    assert_eq!(files.root_ca_crl, root_crl);
    assert_eq!(files.pck_cert_chain, None);
    assert_eq!(count.load(Ordering::SeqCst), 4);

    // Again: every object is fresh, so no request.
    assert_eq!(pcs.fetch_all(&FMSPC, PckCa::Platform).unwrap(), files);
    assert_eq!(count.load(Ordering::SeqCst), 4);
    // A new offline client on the same cache answers the same.
    let offline = client(&base, dir.path(), true);
    assert_eq!(offline.fetch_all(&FMSPC, PckCa::Platform).unwrap(), files);
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn pccs_header_name_and_pem_crl_are_accepted() {
    let pck_crl = crl("491231235959Z");
    let pem = format!(
        "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
        base64(&pck_crl)
    );
    let (base, _, paths) = serve(vec![
        ok(
            "SGX-TCB-Info-Issuer-Chain",
            &chain("Intel SGX TCB Signing"),
            tcb_info(FUTURE),
        ),
        ok(
            "SGX-PCK-CRL-Issuer-Chain",
            &chain("Intel SGX PCK Processor CA"),
            pem.into_bytes(),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    let t = pcs.tcb_info(&FMSPC).unwrap();
    assert_eq!(t.issuer_chain, chain("Intel SGX TCB Signing"));
    let c = pcs.pck_crl(PckCa::Processor).unwrap();
    assert_eq!(c.body, pck_crl, "cached and returned as DER");
    assert_eq!(
        paths.lock().unwrap()[1],
        "/sgx/certification/v4/pckcrl?ca=processor&encoding=der"
    );
}

#[test]
fn refetches_once_past_next_update() {
    let chain_tcb = chain("Intel SGX TCB Signing");
    let chain_pck = chain("Intel SGX PCK Platform CA");
    let (base, count, _) = serve(vec![
        ok("TCB-Info-Issuer-Chain", &chain_tcb, tcb_info(PAST)),
        ok("SGX-PCK-CRL-Issuer-Chain", &chain_pck, crl("200102000000Z")),
        // The refetches bring fresh objects.
        ok("TCB-Info-Issuer-Chain", &chain_tcb, tcb_info(FUTURE)),
        ok("SGX-PCK-CRL-Issuer-Chain", &chain_pck, crl("491231235959Z")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    assert_eq!(pcs.tcb_info(&FMSPC).unwrap().body, tcb_info(PAST));
    assert_eq!(
        pcs.pck_crl(PckCa::Platform).unwrap().body,
        crl("200102000000Z")
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // Offline, the stale ones are used as they are: the verifier judges.
    let offline = client(&base, dir.path(), true);
    assert_eq!(offline.tcb_info(&FMSPC).unwrap().body, tcb_info(PAST));
    assert_eq!(
        offline.pck_crl(PckCa::Platform).unwrap().body,
        crl("200102000000Z")
    );
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // Online, past nextUpdate: fetched again, then fresh from the cache.
    assert_eq!(pcs.tcb_info(&FMSPC).unwrap().body, tcb_info(FUTURE));
    assert_eq!(
        pcs.pck_crl(PckCa::Platform).unwrap().body,
        crl("491231235959Z")
    );
    assert_eq!(count.load(Ordering::SeqCst), 4);
    assert_eq!(pcs.tcb_info(&FMSPC).unwrap().body, tcb_info(FUTURE));
    assert_eq!(
        pcs.pck_crl(PckCa::Platform).unwrap().body,
        crl("491231235959Z")
    );
    assert_eq!(count.load(Ordering::SeqCst), 4);
}

#[test]
fn offline_mode_never_touches_the_network() {
    let (base, count, _) = serve(vec![(200, vec![], b"x".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), true);
    let e = pcs.fetch_all(&FMSPC, PckCa::Platform).unwrap_err();
    assert_eq!(cogito_core::CogitoError::code(&e), "collateral.not_cached");
    assert!(e.to_string().contains("fmspc=B0C06F000000"), "{e}");
    assert!(pcs.root_ca_crl().is_err());
    assert!(pcs.qe_identity().is_err());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn retries_busy_answers_then_succeeds() {
    let (base, count, _) = serve(vec![
        (429, vec![], vec![]),
        (503, vec![], vec![]),
        ok(
            "SGX-Enclave-Identity-Issuer-Chain",
            &chain("Intel SGX TCB Signing"),
            qe_identity(FUTURE),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    assert_eq!(pcs.qe_identity().unwrap().body, qe_identity(FUTURE));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn gives_up_after_bounded_attempts() {
    let (base, count, _) = serve(vec![(429, vec![], vec![]); 3]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    let e = pcs.root_ca_crl().unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let msg = e.to_string();
    assert!(msg.contains("gave up after 3 attempts"), "{msg}");
    assert!(msg.contains("HTTP 429"), "{msg}");
    assert!(msg.contains("/sgx/certification/v4/rootcacrl"), "{msg}");
    assert_eq!(
        cogito_core::CogitoError::code(&e),
        "collateral.fetch_failed"
    );
}

#[test]
fn not_found_names_the_url_and_is_not_retried() {
    let (base, count, _) = serve(vec![(404, vec![], vec![])]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    let e = pcs.tcb_info(&[1, 2, 3, 4, 5, 6]).unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "{base}/tdx/certification/v4/tcb?fmspc=010203040506"
        )),
        "{msg}"
    );
    assert!(msg.contains("HTTP 404"), "{msg}");
    assert!(msg.contains("FMSPC"), "{msg}");
}

#[test]
fn bad_answers_are_refused_and_not_cached() {
    let (base, count, _) = serve(vec![
        // An error page with status 200.
        (200, vec![], b"<html>maintenance</html>".to_vec()),
        // The right body but no issuer chain.
        (200, vec![], tcb_info(FUTURE)),
        // A chain header that is not a PEM chain.
        (
            200,
            vec![("TCB-Info-Issuer-Chain", "hello%20world".into())],
            tcb_info(FUTURE),
        ),
        // A bad escape.
        (
            200,
            vec![("TCB-Info-Issuer-Chain", "%zz".into())],
            tcb_info(FUTURE),
        ),
        ok(
            "TCB-Info-Issuer-Chain",
            &chain("Intel SGX TCB Signing"),
            tcb_info(FUTURE),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client(&base, dir.path(), false);
    for says in [
        "expected a JSON object {\"tcbInfo\"",
        "no TCB-Info-Issuer-Chain or SGX-TCB-Info-Issuer-Chain header",
        "header TCB-Info-Issuer-Chain: expected PEM CERTIFICATE",
        "header TCB-Info-Issuer-Chain: bad percent-encoding",
    ] {
        let e = pcs.tcb_info(&FMSPC).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
        assert!(
            e.contains("/tdx/certification/v4/tcb?fmspc=B0C06F000000"),
            "{e}"
        );
    }
    assert!(pcs.tcb_info(&FMSPC).is_ok());
    assert_eq!(count.load(Ordering::SeqCst), 5);
}

/// A private CA, made fresh, and a TLS server configuration whose
/// certificate it issued for 127.0.0.1 — what most PCCS deployments run.
fn private_pccs_tls() -> (std::sync::Arc<rustls::ServerConfig>, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cogito test PCCS CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![server_cert.der().clone()], key)
    .unwrap();
    (std::sync::Arc::new(config), ca_cert.der().to_vec())
}

#[test]
fn a_pccs_behind_a_private_ca_is_refused_by_default_and_trusted_with_its_ca() {
    let (tls, ca_der) = private_pccs_tls();
    let answer = || {
        ok(
            "TCB-Info-Issuer-Chain",
            &chain("Intel SGX TCB Signing"),
            tcb_info(FUTURE),
        )
    };

    // The public WebPKI roots do not know the private CA: the handshake
    // fails and nothing is fetched (every attempt is a handshake failure).
    let (base, count, _) = serve_tls(vec![answer(), answer(), answer()], tls.clone());
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let dir = tempfile::tempdir().unwrap();
    let e = client(&base, dir.path(), false)
        .tcb_info(&FMSPC)
        .unwrap_err();
    assert_eq!(
        cogito_core::CogitoError::code(&e),
        "collateral.fetch_failed"
    );
    assert!(
        e.to_string().to_lowercase().contains("certificate")
            || e.to_string().to_lowercase().contains("issuer"),
        "{e}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 0, "no request got through");

    // Trusting the CA (what --pccs-ca FILE does), the same server answers.
    let (base, count, paths) = serve_tls(vec![answer()], tls);
    let dir = tempfile::tempdir().unwrap();
    let pcs = client_trusting(&base, dir.path(), false, Some(vec![ca_der.clone()]));
    let got = pcs.tcb_info(&FMSPC).unwrap();
    assert_eq!(got.body, tcb_info(FUTURE));
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(
        *paths.lock().unwrap(),
        ["/tdx/certification/v4/tcb?fmspc=B0C06F000000"]
    );

    // Trusting another CA does not help: the roots are exactly the ones given.
    let (other_tls, other_ca) = private_pccs_tls();
    drop(other_tls);
    let (base, _, _) = serve_tls(vec![answer(), answer(), answer()], private_pccs_tls().0);
    let dir = tempfile::tempdir().unwrap();
    assert!(
        client_trusting(&base, dir.path(), false, Some(vec![other_ca]))
            .tcb_info(&FMSPC)
            .is_err()
    );
}
