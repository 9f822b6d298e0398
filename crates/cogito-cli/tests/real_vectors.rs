//! `cogito verify` on the real evidence in ../shared/vectors: every SNP case
//! must give exactly the outcome its MANIFEST.toml lists, and every key
//! claim listed there must appear, with that value, in the JSON output.
//!
//! Skips with a notice when the vectors are absent, except under CI=true.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn vectors_dir() -> Option<PathBuf> {
    cogito_testkit::real_vectors::dir()
}

/// The stable error code each manifest reject reason must produce.
fn code_for_reason(reason: &str) -> &'static str {
    match reason {
        "committed TCB != current TCB (provisional firmware)" => "snp.tcb.provisional_firmware",
        "VLEK certificate expired at verify_at" => "snp.chain.outside_validity",
        other => {
            panic!("manifest reject reason {other:?} has no expected code in this test: add one")
        }
    }
}

use cogito_testkit::real_vectors::manifest_vectors as vectors;

fn run(args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(args)
        .output()
        .expect("run cogito");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "output of {args:?} is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

fn check_claim(id: &str, out: &Value, key: &str, expected: &toml::Value) {
    let r = s(out, &["snp", "report"]);
    let ext = s(out, &["snp", "endorsement", "extensions"]);
    let as_str = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let actual: String = match key {
        "report_version" => r["version"].to_string(),
        "cert_product_name" => as_str(&ext["product_name"]),
        "cpuid_fam_mod_step" => match r["cpuid"].as_object() {
            None => "00/00/00".into(),
            Some(c) => ["family", "model", "stepping"]
                .iter()
                .map(|k| c[*k].as_str().unwrap().trim_start_matches("0x").to_string())
                .collect::<Vec<_>>()
                .join("/"),
        },
        "signing_key" => as_str(&r["signing_key"]),
        "vmpl" => r["vmpl"].to_string(),
        "guest_svn" => r["guest_svn"].to_string(),
        "policy" => as_str(&r["policy"]["raw"]),
        "policy_debug" => r["policy"]["debug_allowed"].to_string(),
        "platform_info" => as_str(&r["platform_info"]["raw"]),
        "measurement" => as_str(&r["measurement"]),
        "report_data" => as_str(&r["report_data"]),
        "host_data" => as_str(&r["host_data"]),
        "chip_id_prefix" => as_str(&r["chip_id"])[..16].to_string(),
        "chip_id_masked" => r["chip_id_masked"].to_string(),
        "reported_tcb_raw" => as_str(&r["reported_tcb"]["raw"]),
        "current_tcb_raw" => as_str(&r["current_tcb"]["raw"]),
        "committed_tcb_raw" => as_str(&r["committed_tcb"]["raw"]),
        "launch_tcb_raw" => as_str(&r["launch_tcb"]["raw"]),
        "reported_tcb_bl" => r["reported_tcb"]["bootloader"].to_string(),
        "reported_tcb_tee" => r["reported_tcb"]["tee"].to_string(),
        "reported_tcb_snp" => r["reported_tcb"]["snp"].to_string(),
        "reported_tcb_ucode" => r["reported_tcb"]["microcode"].to_string(),
        "reported_tcb_fmc" => r["reported_tcb"]["fmc"].to_string(),
        "firmware_current" => as_str(&r["current_version"]),
        "firmware_committed" => as_str(&r["committed_version"]),
        "launch_mit_vector" => as_str(&r["launch_mit_vector"]),
        "current_mit_vector" => as_str(&r["current_mit_vector"]),
        "vlek_csp_id" => as_str(&ext["csp_id"]),
        // Checked separately by verifying hcl_report.bin.
        "hcl_var_data_sha256_is_report_data" => return,
        other => panic!("{id}: manifest key claim {other:?} is not checked by this test: add it"),
    };
    let expected = match expected {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    assert_eq!(actual, expected, "{id}: claim {key}");
}

#[test]
fn every_snp_vector_gives_its_manifest_outcome_and_claims() {
    let Some(dir) = vectors_dir() else { return };
    let mut seen = 0;
    for v in &vectors(&dir) {
        if v["platform"].as_str() != Some("snp") {
            continue;
        }
        seen += 1;
        let id = v["id"].as_str().unwrap();
        let case = dir.join(v["dir"].as_str().unwrap());
        let permit = v
            .get("policy")
            .and_then(|p| p.get("permit_provisional_firmware"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        let files: Vec<&str> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let mut evidence = vec!["report.bin"];
        if files.contains(&"hcl_report.bin") {
            evidence.push("hcl_report.bin");
        }
        for ev in evidence {
            let report = case.join(ev);
            let mut args = vec![
                "verify".to_string(),
                report.display().to_string(),
                "--certs".into(),
                case.display().to_string(),
                "--at".into(),
                v["verify_at"].as_str().unwrap().to_string(),
                "--format".into(),
                "json".into(),
            ];
            if permit {
                args.push("--permit-provisional-firmware".into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, out) = run(&args);
            match v["expected"].as_str().unwrap() {
                "accept" => {
                    assert_eq!(code, 0, "{id} ({ev}) should verify: {out}");
                    assert_eq!(out["verdict"], "verified");
                    for (key, expected) in v["key_claims"].as_table().unwrap() {
                        check_claim(id, &out, key, expected);
                    }
                    assert_eq!(out["claims"]["tee"], "snp");
                    assert_eq!(
                        out["claims"]["launch_measurement"],
                        v["key_claims"]["measurement"].as_str().unwrap()
                    );
                    assert_eq!(
                        out["claims"]["debug"].as_bool().unwrap(),
                        v["key_claims"]["policy_debug"].as_bool().unwrap()
                    );
                    if ev == "hcl_report.bin" {
                        let names: Vec<&str> = out["checks"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|c| c["name"].as_str().unwrap())
                            .collect();
                        assert!(names.contains(&"hcl_runtime_data"), "{id}: {names:?}");
                    }
                }
                "reject" => {
                    let want = code_for_reason(v["expected_reason"].as_str().unwrap());
                    assert_eq!(out["verdict"], "rejected", "{id} ({ev})");
                    assert_eq!(out["error"]["code"], want, "{id} ({ev}): {out}");
                    assert_eq!(code, out["exit_code"].as_i64().unwrap() as i32);
                    assert_ne!(code, 0);
                }
                other => panic!("{id}: unknown expected {other}"),
            }
        }
    }
    assert!(seen >= 11, "expected at least 11 SNP vectors, saw {seen}");
}

#[test]
fn text_output_puts_the_verdict_first() {
    let Some(dir) = vectors_dir() else { return };
    let case = dir.join("snp/milan-v2-virtee");
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(["verify"])
        .arg(case.join("report.bin"))
        .arg("--certs")
        .arg(&case)
        .args(["--at", "2023-04-05T00:00:00Z"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("VERIFIED"), "{text}");
    for needle in [
        "Milan",
        "measurement     7a1e5c26",
        "TCB reported",
        "guest policy",
        "checked:",
        "report_signature",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn wrong_report_data_is_a_policy_refusal() {
    let Some(dir) = vectors_dir() else { return };
    let case = dir.join("snp/milan-v2-go-sev-guest");
    let report = case.join("report.bin").display().to_string();
    let certs = case.display().to_string();
    let base = [
        "verify",
        &report,
        "--certs",
        &certs,
        "--at",
        "2022-09-26T00:00:00Z",
        "--format",
        "json",
    ];
    let (ok, _) = run(&[&base[..], &["--report-data", "0102030405"]].concat());
    assert_eq!(ok, 0);
    let (code, out) = run(&[&base[..], &["--report-data", "0102030406"]].concat());
    assert_eq!(code, 7);
    assert_eq!(out["error"]["code"], "snp.report_data.mismatch");
}

#[test]
fn product_option_must_agree() {
    let Some(dir) = vectors_dir() else { return };
    let case = dir.join("snp/genoa-v3-azure-trustee");
    let report = case.join("report.bin").display().to_string();
    let certs = case.display().to_string();
    let (code, out) = run(&[
        "verify",
        &report,
        "--certs",
        &certs,
        "--at",
        "2025-01-26T00:00:00Z",
        "--product",
        "milan",
        "--format",
        "json",
    ]);
    assert_eq!(code, 3, "{out}");
    assert_eq!(out["error"]["code"], "snp.product.mismatch");
}

#[test]
fn missing_vcek_is_collateral_unavailable() {
    let Some(dir) = vectors_dir() else { return };
    let report = dir
        .join("snp/milan-v2-virtee/report.bin")
        .display()
        .to_string();
    let (code, out) = run(&[
        "verify",
        &report,
        "--at",
        "2023-04-05T00:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(code, 5, "{out}");
    assert_eq!(out["error"]["code"], "snp.collateral.missing");
}

#[test]
fn chain_from_another_product_is_not_pinned() {
    let Some(dir) = vectors_dir() else { return };
    // The Milan report and VCEK, with the Genoa ASK+ARK supplied.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.join("snp/milan-v2-virtee/vcek.der"),
        tmp.path().join("vcek.der"),
    )
    .unwrap();
    std::fs::copy(
        dir.join("snp/genoa-v3-azure-trustee/cert_chain.pem"),
        tmp.path().join("cert_chain.pem"),
    )
    .unwrap();
    let report = dir
        .join("snp/milan-v2-virtee/report.bin")
        .display()
        .to_string();
    let certs = tmp.path().display().to_string();
    let (code, out) = run(&[
        "verify",
        &report,
        "--certs",
        &certs,
        "--at",
        "2023-04-05T00:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(code, 4, "{out}");
    assert_eq!(out["error"]["code"], "snp.chain.not_pinned");
}

#[test]
fn every_tdx_vector_through_the_cli() {
    let Some(dir) = vectors_dir() else { return };
    let mut seen = 0;
    for v in &vectors(&dir) {
        if v["platform"].as_str() != Some("tdx") || v["mode"].as_str() == Some("eventlog-only") {
            continue;
        }
        seen += 1;
        let id = v["id"].as_str().unwrap();
        let case = dir.join(v["dir"].as_str().unwrap());
        let quote = case.join("quote.bin").display().to_string();
        let certs = case.display().to_string();
        let mut args = vec![
            "verify",
            &quote,
            "--at",
            v["verify_at"].as_str().unwrap(),
            "--format",
            "json",
        ];
        if v["mode"].as_str() == Some("signature-only") {
            args.push("--signature-only");
        } else {
            args.extend(["--certs", &certs]);
        }
        let log = case.join("ccel/event_log.bin").display().to_string();
        if case.join("ccel/event_log.bin").is_file() {
            args.extend(["--event-log", &log]);
        }
        let (code, out) = run(&args);
        let claims = &v["key_claims"];
        match v["expected"].as_str().unwrap() {
            "accept" => {
                assert_eq!(code, 0, "{id}: {out}");
                assert_eq!(out["claims"]["tee"], "tdx");
                assert_eq!(
                    out["claims"]["launch_measurement"],
                    claims["mrtd"].as_str().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    out["tdx"]["body"]["report_data"],
                    claims["report_data"].as_str().unwrap(),
                    "{id}"
                );
                match claims.get("tcb_status").and_then(|s| s.as_str()) {
                    Some(status) => assert_eq!(out["claims"]["tcb_status"], status, "{id}"),
                    None => assert_eq!(out["claims"]["tcb_status"], "NotEvaluated", "{id}"),
                }
                if case.join("ccel/event_log.bin").is_file() {
                    assert_eq!(
                        out["event_log"]["matches_quote"],
                        serde_json::json!([true, true, true, true]),
                        "{id}"
                    );
                }
            }
            "reject" => {
                assert_eq!(
                    out["error"]["code"], "tdx.tcb.no_matching_level",
                    "{id}: {out}"
                );
                assert_eq!(code, 7);
            }
            other => panic!("{other}"),
        }
    }
    assert!(seen >= 9);
}

#[test]
fn tdx_without_collateral_needs_an_explicit_signature_only() {
    let Some(dir) = vectors_dir() else { return };
    let quote = dir
        .join("tdx/v4-uptodate-dcap-qvl/quote.bin")
        .display()
        .to_string();
    let (code, out) = run(&[
        "verify",
        &quote,
        "--at",
        "2025-07-01T00:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(code, 5, "{out}");
    assert_eq!(out["error"]["code"], "tdx.collateral.missing");
    let (code, out) = run(&[
        "verify",
        &quote,
        "--at",
        "2025-07-01T00:00:00Z",
        "--format",
        "json",
        "--signature-only",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["claims"]["tcb_status"], "NotEvaluated");
    assert!(out["tdx"]["tcb"].is_null());
}

#[test]
fn tdx_collateral_outside_its_window_is_refused() {
    let Some(dir) = vectors_dir() else { return };
    let case = dir.join("tdx/v4-uptodate-dcap-qvl");
    let quote = case.join("quote.bin").display().to_string();
    let certs = case.display().to_string();
    // The PCK CRL's nextUpdate is 2025-07-19T10:00:35Z.
    let (code, out) = run(&[
        "verify",
        &quote,
        "--certs",
        &certs,
        "--at",
        "2025-07-19T10:00:36Z",
        "--format",
        "json",
    ]);
    assert_eq!(code, 4, "{out}");
    assert_eq!(out["error"]["code"], "tdx.chain.outside_validity");
}

#[test]
fn eventlog_command_replays_every_real_log() {
    let Some(dir) = vectors_dir() else { return };
    let mut seen = 0;
    for v in &vectors(&dir) {
        if v["mode"].as_str() != Some("eventlog-only") {
            continue;
        }
        seen += 1;
        let id = v["id"].as_str().unwrap();
        let log = dir
            .join(v["dir"].as_str().unwrap())
            .join("ccel/event_log.bin");
        let (code, out) = run(&["eventlog", &log.display().to_string(), "--format", "json"]);
        assert_eq!(code, 0, "{id}: {out}");
        for i in 0..4 {
            assert_eq!(
                out["rtmr"][i],
                v["key_claims"][format!("rtmr{i}").as_str()]
                    .as_str()
                    .unwrap(),
                "{id}: RTMR{i}"
            );
        }
    }
    assert_eq!(seen, 4);
    let (code, out) = run(&["eventlog", "/dev/null", "--format", "json"]);
    assert_eq!(code, 3, "{out}");
}

#[test]
fn every_cca_vector_through_the_cli() {
    let Some(dir) = vectors_dir() else { return };
    let mut seen = 0;
    for v in &vectors(&dir) {
        if v["platform"].as_str() != Some("cca") {
            continue;
        }
        seen += 1;
        let id = v["id"].as_str().unwrap();
        let case = dir.join(v["dir"].as_str().unwrap());
        let token = case.join("token.cbor").display().to_string();
        let key = ["cpak.jwk", "cpak.pem", "ta_store.json"]
            .iter()
            .map(|f| case.join(f))
            .find(|p| p.is_file())
            .unwrap();
        let key = key.display().to_string();
        let (code, out) = run(&[
            "verify",
            &token,
            "--cca-trust-anchors",
            &key,
            "--allow-test-keys",
            "--format",
            "json",
        ]);
        match v["expected"].as_str().unwrap() {
            "accept" => {
                assert_eq!(code, 0, "{id}: {out}");
                assert_eq!(out["claims"]["tee"], "cca");
                let rim = out["cca"]["realm"]["initial_measurement"].as_str().unwrap();
                assert_eq!(out["claims"]["launch_measurement"], rim, "{id}");
                assert_eq!(
                    out["claims"]["runtime_measurements"]
                        .as_array()
                        .unwrap()
                        .len(),
                    4,
                    "{id}"
                );
            }
            "reject" => {
                assert_eq!(out["error"]["code"], "cca.binding", "{id}: {out}");
                assert_eq!(code, 4);
            }
            other => panic!("{other}"),
        }
        // Without --allow-test-keys every real CCA vector is refused: their
        // CPAKs are published test keys.
        let (code, out) = run(&[
            "verify",
            &token,
            "--cca-trust-anchors",
            &key,
            "--format",
            "json",
        ]);
        assert_eq!(out["error"]["code"], "cca.key.test_key", "{id}: {out}");
        assert_eq!(code, 7);
    }
    assert_eq!(seen, 7);
}
