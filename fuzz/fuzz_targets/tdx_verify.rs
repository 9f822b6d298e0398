//! `cogito_tdx::verify_quote` on arbitrary quote bytes, with the real
//! collateral of `tdx-v4-uptodate-dcap-qvl` (TCB Info, QE Identity, CRLs and
//! their issuer chains), the built-in anchors and that vector's
//! `verify_at`, and again in signature-only mode without collateral; one
//! `VerifiedCache` is shared by every run, as a server would share it.
//!
//! The collateral and every real TDX quote are read at startup from the
//! shared vectors folder (`$COGITO_VECTORS`, else `../../shared/vectors`
//! beside the checkout) and never copied into the repository; without them
//! the target runs without collateral and still exercises parsing, the PCK
//! chain and the signature checks.
//!
//! An accepted input is a forgery — a crash — unless everything the
//! signatures protect (header and body, attestation key, quote signature,
//! QE report, its signature, QE auth data) is byte-for-byte that of a real
//! quote: the genuine `tdx-v4-uptodate-dcap-qvl` quote's header and body
//! when verified with its collateral, any real quote's in signature-only
//! mode. What may differ
//! is what the format leaves unprotected and the verifier tolerates by
//! design: zero padding after the signature data, and PEM text around the
//! PCK chain that decodes to the same certificates (the root is pinned by
//! key, so the supplied root's other bytes are not trusted either).
#![no_main]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use cogito_core::VerificationTime;
use cogito_tdx::{builtin_anchors, verify_quote, Collateral, Options, Quote, VerifiedCache};
use libfuzzer_sys::fuzz_target;

const CASE: &str = "tdx/v4-uptodate-dcap-qvl";
const VERIFY_AT: &str = "2025-07-01T00:00:00Z";

/// What the signatures protect, as the pairs that are signed or bound
/// together: (header ‖ body, attestation key, quote signature), (QE report,
/// QE report signature), (attestation key, QE auth data). ECDSA signatures
/// are randomised, so two real quotes of one platform may carry different
/// valid QE report signatures over the same QE report: each pair is judged
/// on its own.
fn protected(q: &Quote<'_>) -> [Vec<u8>; 3] {
    [
        [q.signed, &q.attestation_key, &q.signature].concat(),
        [q.qe_report_raw, &q.qe_report_signature].concat(),
        [&q.attestation_key, q.qe_auth_data].concat(),
    ]
}

struct Fixture {
    collateral: Option<Collateral>,
    /// The signed bytes (header ‖ body) of the genuine quote of CASE.
    genuine: Option<Vec<u8>>,
    /// Every `protected` pair of every real TDX quote in the vectors folder.
    real: HashSet<Vec<u8>>,
    at: VerificationTime,
    cache: VerifiedCache,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = std::env::var_os("COGITO_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
            });
        let dir = root.join(CASE);
        let read = |f: &str| std::fs::read(dir.join(f));
        let collateral = (|| {
            Ok::<_, std::io::Error>(Collateral {
                tcb_info: read("tcb_info.json")?,
                tcb_info_issuer_chain: read("tcb_info_issuer_chain.pem")?,
                qe_identity: read("qe_identity.json")?,
                qe_identity_issuer_chain: read("qe_identity_issuer_chain.pem")?,
                pck_crl: read("pck_crl.der")?,
                pck_crl_issuer_chain: read("pck_crl_issuer_chain.pem")?,
                root_ca_crl: read("root_ca_crl.der")?,
            })
        })();
        let collateral = match collateral {
            Ok(c) => {
                eprintln!("tdx_verify: using the collateral of {}", dir.display());
                Some(c)
            }
            Err(e) => {
                eprintln!(
                    "tdx_verify: collateral in {} not readable ({e}); fuzzing signature-only and collateral-missing paths",
                    dir.display()
                );
                None
            }
        };
        let genuine_bytes = read("quote.bin").ok();
        let genuine = genuine_bytes
            .as_deref()
            .and_then(|b| Quote::parse(b).ok())
            .map(|q| q.signed.to_vec());
        let mut real = HashSet::new();
        let mut quotes = 0;
        if let Ok(entries) = std::fs::read_dir(root.join("tdx")) {
            for e in entries.flatten() {
                if let Ok(b) = std::fs::read(e.path().join("quote.bin")) {
                    if let Ok(q) = Quote::parse(&b) {
                        real.extend(protected(&q));
                        quotes += 1;
                    }
                }
            }
        }
        eprintln!("tdx_verify: {quotes} real quotes known");
        Fixture {
            collateral,
            genuine,
            real,
            at: VerificationTime::parse_rfc3339(VERIFY_AT).expect("constant time"),
            cache: VerifiedCache::default(),
        }
    })
}

/// Is every protected pair of `data` one of a real quote's?
fn real_pairs(f: &Fixture, q: &Quote<'_>) -> bool {
    protected(q).iter().all(|p| f.real.contains(p))
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let anchors = builtin_anchors();
    let full = Options::default();
    if let Ok(v) = verify_quote(data, f.collateral.as_ref(), anchors, f.at, &full, &f.cache) {
        let q = Quote::parse(data).expect("an accepted quote parses");
        assert!(
            f.collateral.is_some() && f.genuine.as_deref() == Some(q.signed) && real_pairs(f, &q),
            "verify_quote accepted fuzzed bytes with collateral (MRTD {:?})",
            v.claims.launch_measurement
        );
    }
    let signature_only = Options {
        signature_only: true,
        ..Options::default()
    };
    if let Ok(v) = verify_quote(data, None, anchors, f.at, &signature_only, &f.cache) {
        let q = Quote::parse(data).expect("an accepted quote parses");
        assert!(
            real_pairs(f, &q),
            "verify_quote accepted fuzzed bytes in signature-only mode (MRTD {:?})",
            v.claims.launch_measurement
        );
    }
});
