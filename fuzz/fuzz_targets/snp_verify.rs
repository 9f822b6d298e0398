//! `cogito_snp::verify_report` on arbitrary report bytes, with a fixed real
//! VCEK (snp-milan-v2-virtee) and the built-in anchors, at that vector's
//! `verify_at`. The VCEK is read at startup from the shared vectors folder
//! (`$COGITO_VECTORS`, else `../../shared/vectors` beside the checkout) and
//! never copied into the repository; without it the collateral is empty and
//! the target still exercises parsing and the collateral-missing paths.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::VerificationTime;
use cogito_snp::{builtin_anchors, verify_report, Collateral, Options, VerifiedCache};
use libfuzzer_sys::fuzz_target;

const CASE: &str = "snp/milan-v2-virtee";
const VERIFY_AT: &str = "2023-04-05T00:00:00Z";

struct Fixture {
    collateral: Collateral,
    /// The genuine report of the case: the only input that may verify.
    genuine: Option<Vec<u8>>,
    at: VerificationTime,
    cache: VerifiedCache,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = std::env::var_os("COGITO_VECTORS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors"))
            })
            .join(CASE);
        let mut collateral = Collateral::default();
        let genuine = std::fs::read(dir.join("report.bin")).ok();
        match std::fs::read(dir.join("vcek.der")) {
            Ok(vcek) => {
                collateral.vcek = Some(vcek);
                if let Ok(pem) = std::fs::read(dir.join("cert_chain.pem")) {
                    collateral.chain = certificates_from_pem_or_der(&pem).unwrap_or_default();
                }
                eprintln!("snp_verify: using the VCEK of {}", dir.display());
            }
            Err(e) => eprintln!(
                "snp_verify: {} not readable ({e}); fuzzing with empty collateral",
                dir.join("vcek.der").display()
            ),
        }
        Fixture {
            collateral,
            genuine,
            at: VerificationTime::parse_rfc3339(VERIFY_AT).expect("constant time"),
            cache: VerifiedCache::default(),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let anchors = builtin_anchors();
    for options in [
        Options::default(),
        Options {
            permit_provisional_firmware: true,
            ..Options::default()
        },
    ] {
        let result = verify_report(data, &f.collateral, anchors, f.at, &options, &f.cache);
        if let Ok(v) = result {
            // Accepting anything but the genuine report would be a forgery:
            // leave the input for a human to look at.
            assert!(
                f.genuine.as_deref() == Some(data),
                "verify_report accepted fuzzed bytes (measurement {:?})",
                v.claims.launch_measurement
            );
        }
    }
});
