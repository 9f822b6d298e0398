//! The generated TDX vectors (test-vectors/tdx) through the library:
//! every case gives its manifest outcome and code, with a fresh cache and
//! again with one cache shared by all cases (a cached chain or collateral
//! set must never change an outcome). An accepted case's claims must equal
//! the manifest's key claims: header and body fields, TEE_TCB_SVN2 and
//! MRSERVICETD of TD 1.5 bodies, each of the ten TD 1.5 extended fields,
//! and the TCB evaluation (launch and current statuses, advisories).

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};

use cogito_core::hexser::Hex;
use cogito_core::{CogitoError, TcbStatus, TrustAnchors, VerificationTime, Verified};
use cogito_tdx::{builtin_anchors, verify_quote, Collateral, Options, TdxClaims, VerifiedCache};

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

fn text<'a>(table: &'a toml::Value, key: &str, id: &str) -> &'a str {
    table
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{id}: key claim {key} missing"))
}

fn hex_is(got: &Hex, table: &toml::Value, key: &str, id: &str) {
    assert_eq!(got.to_hex(), text(table, key, id), "{id}: {key}");
}

/// The verified claims of an accepted case against its key claims.
fn check_claims(id: &str, case: &toml::Value, v: &Verified<TdxClaims>) -> usize {
    let k = &case["key_claims"];
    let p = &v.platform;
    assert_eq!(
        hex::encode(&v.claims.launch_measurement),
        text(k, "mrtd", id),
        "{id}"
    );
    assert_eq!(
        i64::from(p.quote_version),
        k["quote_version"].as_integer().unwrap(),
        "{id}"
    );
    let b = &p.body;
    assert_eq!(
        i64::from(b.body_type),
        k["body_type"].as_integer().unwrap(),
        "{id}"
    );
    hex_is(&b.mrtd, k, "mrtd", id);
    hex_is(&b.tee_tcb_svn, k, "tee_tcb_svn", id);
    hex_is(&b.report_data, k, "report_data", id);
    assert!(
        p.pck.fmspc.eq_ignore_ascii_case(text(k, "fmspc", id)),
        "{id}"
    );
    assert_eq!(
        i64::from(p.qe.isvsvn),
        k["qe_isvsvn"].as_integer().unwrap(),
        "{id}"
    );
    for (key, got) in [
        ("tee_tcb_svn2", &b.tee_tcb_svn2),
        ("mrservicetd", &b.mrservicetd),
    ] {
        match (k.get(key), got) {
            (Some(_), Some(got)) => hex_is(got, k, key, id),
            (None, None) => {}
            (want, got) => panic!("{id}: {key}: manifest {want:?}, claims {got:?}"),
        }
    }

    // The TD 1.5 extended fields, one by one.
    let mut extended = 0;
    match (k.get("td15ex"), &b.td15ex) {
        (Some(want), Some(x)) => {
            assert_eq!(want.as_table().unwrap().len(), 10, "{id}: ten fields");
            assert_eq!(
                i64::from(x.vmid),
                want["vmid"].as_integer().unwrap(),
                "{id}: vmid"
            );
            hex_is(&x.td_id, want, "td_id", id);
            hex_is(&x.dev_info, want, "dev_info", id);
            hex_is(&x.init_servicetd_hash, want, "init_servicetd_hash", id);
            hex_is(
                &x.init_servicetd_attributes,
                want,
                "init_servicetd_attributes",
                id,
            );
            hex_is(&x.init_cpusvn, want, "init_cpusvn", id);
            hex_is(&x.init_tee_tcb_svn, want, "init_tee_tcb_svn", id);
            hex_is(&x.init_tee_fmspc, want, "init_tee_fmspc", id);
            hex_is(&x.cur_servicetd_hash, want, "cur_servicetd_hash", id);
            hex_is(
                &x.cur_servicetd_attributes,
                want,
                "cur_servicetd_attributes",
                id,
            );
            assert_eq!(b.body_type, 4, "{id}");
            extended = 1;
        }
        (None, None) => assert_ne!(b.body_type, 4, "{id}"),
        (want, got) => panic!("{id}: td15ex: manifest {want:?}, claims {got:?}"),
    }

    // The TCB evaluation.
    match &p.tcb {
        None => {
            assert!(case["signature_only"].as_bool().unwrap(), "{id}");
            assert_eq!(v.claims.tcb_status, TcbStatus::NotEvaluated, "{id}");
        }
        Some(t) => {
            let e = &t.evaluation;
            assert_eq!(e.status.as_str(), text(k, "tcb_status", id), "{id}");
            assert_eq!(v.claims.tcb_status, e.status, "{id}");
            assert_eq!(
                e.platform_status.as_str(),
                text(k, "platform_tcb_status", id),
                "{id}"
            );
            assert_eq!(e.qe_status.as_str(), text(k, "qe_tcb_status", id), "{id}");
            assert_eq!(
                e.module_status.map(|s| s.as_str()),
                k.get("tdx_module_tcb_status").and_then(|s| s.as_str()),
                "{id}: module status"
            );
            assert_eq!(
                e.status_current_svn2.map(|s| s.as_str()),
                k.get("current_tcb_status").and_then(|s| s.as_str()),
                "{id}: current (TEE_TCB_SVN2) status"
            );
            let mut want: Vec<&str> = k["advisory_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            want.sort_unstable();
            assert_eq!(e.advisory_ids, want, "{id}: advisory ids");
        }
    }
    extended
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
    let mut extended_accepts = 0;
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
                extended_accepts += check_claims(id, case, &v);
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
    // v5-td15ex, v5-td15ex-vmid-2 and v5-td15ex-relaunch-advised-allowed.
    assert!(extended_accepts >= 3, "{extended_accepts} type-4 accepts");
    cases.len()
}

#[test]
fn every_case_with_a_fresh_cache() {
    assert!(run_all(None) >= 85);
}

/// The type-4 cases the manifest must hold, with their outcomes: if the
/// generator dropped one, the loop above would silently run fewer.
#[test]
fn the_td15_extended_cases_are_there() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir().join("MANIFEST.toml")).unwrap()).unwrap();
    let cases = manifest["case"].as_array().unwrap();
    let outcome = |id: &str| {
        let c = cases
            .iter()
            .find(|c| c["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no case {id}"));
        match c["expected"].as_str().unwrap() {
            "accept" => format!("accept {}", c["key_claims"]["tcb_status"].as_str().unwrap()),
            _ => c["expected_code"].as_str().unwrap().to_string(),
        }
    };
    assert_eq!(outcome("v5-td15ex"), "accept UpToDate");
    assert_eq!(outcome("v5-td15ex-vmid-2"), "accept UpToDate");
    for field in [
        "vmid",
        "td-id",
        "dev-info",
        "init-servtd-hash",
        "init-servtd-attr",
        "init-cpusvn",
        "init-tee-tcb-svn",
        "init-tee-fmspc",
        "cur-servtd-hash",
        "cur-servtd-attr",
    ] {
        assert_eq!(
            outcome(&format!("v5-td15ex-tampered-{field}")),
            "tdx.quote.bad_signature",
            "{field}"
        );
    }
    for size in [884, 886, 648] {
        assert_eq!(
            outcome(&format!("v5-td15ex-body-size-{size}")),
            "tdx.quote.bad_field"
        );
    }
    assert_eq!(
        outcome("v5-td15-relaunch-advised-configuration-needed"),
        "tdx.tcb.status_not_allowed"
    );
    assert_eq!(
        outcome("v5-td15-relaunch-advised-configuration-needed-allowed"),
        "accept TDRelaunchAdvisedConfigurationNeeded"
    );
    assert_eq!(
        outcome("v5-td15-current-no-matching-level"),
        "tdx.tcb.no_matching_level"
    );
}

#[test]
fn outcomes_do_not_depend_on_a_shared_cache() {
    let cache = VerifiedCache::default();
    for _ in 0..2 {
        run_all(Some(&cache));
    }
}
