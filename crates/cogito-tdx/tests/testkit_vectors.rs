//! The generated TDX vectors (test-vectors/tdx) through the library:
//! every case gives its manifest outcome and code, with a fresh cache and
//! again with one cache shared by all cases (a cached chain or collateral
//! set must never change an outcome).

use std::path::{Path, PathBuf};

use cogito_core::{CogitoError, TcbStatus, TrustAnchors, VerificationTime};
use cogito_tdx::{builtin_anchors, verify_quote, Collateral, Options, VerifiedCache};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/tdx")
}

fn status(s: &str) -> TcbStatus {
    match s {
        "UpToDate" => TcbStatus::UpToDate,
        "SWHardeningNeeded" => TcbStatus::SWHardeningNeeded,
        "ConfigurationNeeded" => TcbStatus::ConfigurationNeeded,
        "ConfigurationAndSWHardeningNeeded" => TcbStatus::ConfigurationAndSWHardeningNeeded,
        "OutOfDate" => TcbStatus::OutOfDate,
        "OutOfDateConfigurationNeeded" => TcbStatus::OutOfDateConfigurationNeeded,
        "TDRelaunchAdvised" => TcbStatus::TDRelaunchAdvised,
        "TDRelaunchAdvisedConfigurationNeeded" => TcbStatus::TDRelaunchAdvisedConfigurationNeeded,
        other => panic!("status {other}"),
    }
}

fn run_all(shared: Option<&VerifiedCache>) -> usize {
    let dir = dir();
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap()).unwrap();
    let mut with_test_root: TrustAnchors = builtin_anchors().clone();
    with_test_root
        .add_pem_or_der(
            &std::fs::read(dir.join("anchors/root.pem")).unwrap(),
            false,
            "testkit root",
        )
        .unwrap();
    let cases = manifest["case"].as_array().unwrap();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let folder = dir.join(case["dir"].as_str().unwrap());
        let read = |n: &str| std::fs::read(folder.join(n)).unwrap();
        let quote = read("quote.bin");
        let signature_only = case["signature_only"].as_bool().unwrap();
        let collateral = (!signature_only).then(|| Collateral {
            tcb_info: read("tcb_info.json"),
            tcb_info_issuer_chain: read("tcb_info_issuer_chain.pem"),
            qe_identity: read("qe_identity.json"),
            qe_identity_issuer_chain: read("qe_identity_issuer_chain.pem"),
            pck_crl: read("pck_crl.der"),
            pck_crl_issuer_chain: read("pck_crl_issuer_chain.pem"),
            root_ca_crl: read("root_ca_crl.der"),
        });
        let anchors = if case["trust_testkit_anchors"].as_bool().unwrap() {
            &with_test_root
        } else {
            builtin_anchors()
        };
        let options = Options {
            signature_only,
            allowed_statuses: case["allow_tcb_status"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| status(s.as_str().unwrap()))
                .collect(),
            ..Options::default()
        };
        let at = VerificationTime::parse_rfc3339(case["verify_at"].as_str().unwrap()).unwrap();
        let own = VerifiedCache::default();
        let cache = shared.unwrap_or(&own);
        let r = verify_quote(&quote, collateral.as_ref(), anchors, at, &options, cache);
        match case["expected"].as_str().unwrap() {
            "accept" => {
                let v = r.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(
                    hex::encode(&v.claims.launch_measurement),
                    case["key_claims"]["mrtd"].as_str().unwrap(),
                    "{id}"
                );
            }
            "reject" => {
                let e = r.err().unwrap_or_else(|| panic!("{id}: accepted"));
                assert_eq!(
                    e.code(),
                    case["expected_code"].as_str().unwrap(),
                    "{id}: {e}"
                );
                assert_eq!(
                    e.class().as_str(),
                    case["expected_class"].as_str().unwrap(),
                    "{id}"
                );
            }
            other => panic!("{other}"),
        }
    }
    cases.len()
}

#[test]
fn every_case_with_a_fresh_cache() {
    assert!(run_all(None) >= 60);
}

#[test]
fn outcomes_do_not_depend_on_a_shared_cache() {
    let cache = VerifiedCache::default();
    for _ in 0..2 {
        run_all(Some(&cache));
    }
}
