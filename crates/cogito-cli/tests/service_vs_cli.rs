//! A verdict online and offline never differ: every real vector of
//! ../shared/vectors goes through the service's verification step (called
//! as a library, at the vector's verification time, since real evidence
//! carries no nonce of ours) and through `cogito verify --policy`, with the
//! same permissive policy, and the two must agree on the verdict, the error
//! code, every claim and the appraisal.
//!
//! Skips with a notice when the vectors are absent, except under CI=true.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;
use std::process::Command;

use cogito_attest::{SuppliedCollateral, Verifier};
use cogito_core::VerificationTime;
use serde_json::Value;

/// Accepts every platform and every state the knobs govern, so that the
/// comparison covers all of the verification, not the first refusal.
const OPEN_POLICY: &str = r#"
[policy]
name = "open"
[common]
debug_allowed = true
[snp]
allow_provisional_firmware = true
[tdx]
tcb_statuses = ["UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate", "OutOfDateConfigurationNeeded", "NotEvaluated"]
vmids = [0, 1, 2, 3]
[cca]
lifecycles = ["unknown", "assembly_and_test", "cca_platform_rot_provisioning", "secured", "non_cca_platform_debug", "recoverable_cca_platform_rot_debug", "decommissioned"]
"#;

/// The service's verification and appraisal of one piece of evidence, as
/// a JSON document shaped like `cogito verify --policy --format json`.
fn service(
    evidence: &Path,
    case: &Path,
    at: &str,
    cca_anchors: Option<&Path>,
    event_log: Option<&Path>,
    policy: &cogito_policy::Policy,
) -> Value {
    let config = cogito_server::Config {
        anchors: cogito_server::config::AnchorsConfig {
            dir: None,
            cca: cca_anchors.map(Path::to_path_buf),
            cca_allow_test_keys: true,
        },
        ..cogito_server::Config::default()
    };
    let verifier = Verifier::new(cogito_server::state::anchors(&config).unwrap());
    let options = cogito_server::attest::service_options(true);
    let bytes = std::fs::read(evidence).unwrap();
    // What a guest or the operator's bundle would supply.
    let mut collateral = SuppliedCollateral {
        snp: cogito_collateral::load_snp_bundle(case).unwrap(),
        ..SuppliedCollateral::default()
    };
    if let Some(files) = cogito_collateral::load_tdx_bundle(case).unwrap() {
        collateral.tdx = Some(files.collateral);
        collateral.tdx_pck_chain = files.pck_cert_chain;
    }
    collateral.event_log = event_log.map(|p| std::fs::read(p).unwrap());
    let at = VerificationTime::parse_rfc3339(at).unwrap();
    let result = cogito_server::attest::verify_evidence(
        &verifier,
        &cogito_attest::NoFetch,
        &options,
        &bytes,
        &collateral,
        at,
    );
    match result {
        Ok(v) => {
            let mut doc = serde_json::to_value(&v).unwrap();
            doc["verdict"] = "verified".into();
            let a = v.appraise(policy);
            serde_json::json!({ "verification": doc, "appraisal": serde_json::to_value(&a).unwrap() })
        }
        Err(e) => {
            use cogito_core::CogitoError as _;
            serde_json::json!({ "verification": { "verdict": "rejected", "error": { "code": e.code() } } })
        }
    }
}

fn cli(args: &[String]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn the_service_and_cogito_verify_agree_on_every_real_vector() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let policy_file = tmp.path().join("open.toml");
    std::fs::write(&policy_file, OPEN_POLICY).unwrap();
    let policy =
        cogito_policy::load("open.toml", OPEN_POLICY, &mut |_| Err("no includes".into())).unwrap();
    let mut compared = 0;
    for v in &cogito_testkit::real_vectors::manifest_vectors(&dir) {
        let platform = v["platform"].as_str().unwrap();
        if v.get("mode").and_then(|m| m.as_str()) == Some("eventlog-only") {
            continue;
        }
        let id = v["id"].as_str().unwrap();
        let case = dir.join(v["dir"].as_str().unwrap());
        let at = v["verify_at"].as_str().unwrap();
        let files: Vec<&str> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let evidence: Vec<&str> = match platform {
            "snp" => ["report.bin", "hcl_report.bin"]
                .into_iter()
                .filter(|f| files.contains(f))
                .collect(),
            "tdx" => vec!["quote.bin"],
            "cca" => vec!["token.cbor"],
            other => panic!("{id}: platform {other}"),
        };
        let cca_anchors = (platform == "cca").then(|| {
            let f = ["ta_store.json", "cpak.jwk", "cpak.pem"]
                .into_iter()
                .find(|f| files.contains(f))
                .unwrap_or_else(|| panic!("{id}: no CPAK"));
            case.join(f)
        });
        let event_log = case.join("ccel/event_log.bin");
        let event_log = event_log.is_file().then_some(event_log);
        for ev in evidence {
            let path = case.join(ev);
            let mut args: Vec<String> = vec![
                "verify".into(),
                path.display().to_string(),
                "--policy".into(),
                policy_file.display().to_string(),
                "--at".into(),
                at.into(),
                "--format".into(),
                "json".into(),
            ];
            if platform != "cca" {
                args.extend(["--certs".into(), case.display().to_string()]);
            }
            if let Some(a) = &cca_anchors {
                args.extend([
                    "--cca-trust-anchors".into(),
                    a.display().to_string(),
                    "--allow-test-keys".into(),
                ]);
            }
            if let Some(l) = &event_log {
                args.extend(["--event-log".into(), l.display().to_string()]);
            }
            let offline = cli(&args);
            let online = service(
                &path,
                &case,
                at,
                cca_anchors.as_deref(),
                event_log.as_deref(),
                &policy,
            );
            let ov = &offline["verification"];
            let sv = &online["verification"];
            assert_eq!(ov["verdict"], sv["verdict"], "{id} ({ev}): {ov}\nvs\n{sv}");
            match ov["verdict"].as_str().unwrap() {
                "verified" => {
                    // Every claim, platform claim and check.
                    assert_eq!(ov, sv, "{id} ({ev})");
                    assert_eq!(offline["appraisal"], online["appraisal"], "{id} ({ev})");
                }
                _ => assert_eq!(ov["error"]["code"], sv["error"]["code"], "{id} ({ev})"),
            }
            compared += 1;
        }
    }
    assert!(
        compared >= 30,
        "compared only {compared} pieces of evidence"
    );
    eprintln!("compared {compared} pieces of real evidence");
}

/// An Azure HCL report binds the guest's 64 bytes through its runtime
/// data's `user-data` (REPORT_DATA is the hash of the runtime data), and
/// that is what the service compares with the protocol's binding.
#[test]
fn an_azure_hcl_report_binds_its_user_data() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let case = dir.join("snp/milan-v2-azure-hcl-trustee");
    let bytes = std::fs::read(case.join("hcl_report.bin")).unwrap();
    let v = cogito_manifest_time(&dir, "snp/milan-v2-azure-hcl-trustee");
    let verifier = Verifier::new(cogito_attest::Anchors::builtin());
    let collateral = SuppliedCollateral {
        snp: cogito_collateral::load_snp_bundle(&case).unwrap(),
        ..SuppliedCollateral::default()
    };
    let verified = cogito_server::attest::verify_evidence(
        &verifier,
        &cogito_attest::NoFetch,
        &cogito_server::attest::service_options(false),
        &bytes,
        &collateral,
        v,
    )
    .unwrap();
    assert_eq!(verified.kind, cogito_attest::EvidenceKind::AzureHclSnp);
    let bound = cogito_server::attest::guest_report_data(&bytes, &verified).unwrap();
    // This VM's user-data is 64 zero bytes; its REPORT_DATA is a hash.
    assert_eq!(bound, vec![0u8; 64]);
    assert_ne!(bound, verified.claims().report_data.0.to_vec());
}

fn cogito_manifest_time(dir: &Path, case: &str) -> VerificationTime {
    let v = cogito_testkit::real_vectors::manifest_vectors(dir)
        .into_iter()
        .find(|v| v["dir"].as_str() == Some(case))
        .unwrap();
    VerificationTime::parse_rfc3339(v["verify_at"].as_str().unwrap()).unwrap()
}
