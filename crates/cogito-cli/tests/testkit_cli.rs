//! `cogito verify` on every generated vector in test-vectors/snp, through
//! the real command line: bundle loading (`--certs`, including `crl.der` and
//! `auxblob`), `--trust-anchors`, `--product`, `--report-data`, and the
//! exit code of every error class. Also `cogito demo`, and the TDX vectors:
//! every case, the TD 1.5 extended claims in the JSON output, and a policy
//! that pins a VMID 2 quote refusing it by `tdx.vmids` until it lists 2.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/snp")
}

fn exit_code_of(class: &str) -> i32 {
    match class {
        "bad_input" => 3,
        "authenticity" => 4,
        "collateral_unavailable" => 5,
        "revoked" => 6,
        "policy" => 7,
        other => panic!("unknown class {other}"),
    }
}

#[test]
fn every_testkit_case_through_the_cli() {
    let dir = vectors();
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap()).unwrap();
    let anchors = dir.join("anchors");
    let cases = manifest["case"].as_array().unwrap();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let folder = dir.join(case["dir"].as_str().unwrap());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cogito"));
        cmd.arg("verify")
            .arg(folder.join("report.bin"))
            .arg("--certs")
            .arg(&folder)
            .args([
                "--at",
                case["verify_at"].as_str().unwrap(),
                "--format",
                "json",
            ]);
        if case["trust_testkit_anchors"].as_bool().unwrap() {
            cmd.arg("--trust-anchors").arg(&anchors);
        }
        if case["permit_provisional_firmware"].as_bool().unwrap() {
            cmd.arg("--permit-provisional-firmware");
        }
        if let Some(p) = case.get("options_product").and_then(|p| p.as_str()) {
            cmd.args(["--product", p]);
        }
        if let Some(rd) = case.get("expected_report_data").and_then(|p| p.as_str()) {
            cmd.args(["--report-data", rd]);
        }
        let out = cmd.output().unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{id}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let code = out.status.code().unwrap();
        match case["expected"].as_str().unwrap() {
            "accept" => {
                assert_eq!(code, 0, "{id}: {json}");
                let claims = &case["key_claims"];
                assert_eq!(
                    json["snp"]["product"],
                    claims["product"].as_str().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    json["claims"]["launch_measurement"],
                    claims["measurement"].as_str().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    json["snp"]["report"]["version"],
                    claims["report_version"].as_integer().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    json["snp"]["report"]["signing_key"],
                    claims["signing_key"].as_str().unwrap(),
                    "{id}"
                );
            }
            "reject" => {
                let want_code = case["expected_code"].as_str().unwrap();
                let want_class = case["expected_class"].as_str().unwrap();
                let got = json["error"]["code"].as_str().unwrap_or_default();
                // A report that is not exactly 1184 bytes is not recognised
                // as SNP evidence by the CLI's detection, before the parser
                // could call it truncated or over-long.
                let want_code = match want_code {
                    "snp.report.truncated" | "snp.report.trailing_data" => "evidence.unrecognised",
                    c => c,
                };
                assert_eq!(got, want_code, "{id}: {json}");
                assert_eq!(json["error"]["class"], want_class, "{id}");
                assert_eq!(code, exit_code_of(want_class), "{id}");
            }
            other => panic!("{id}: expected {other}"),
        }
    }
}

#[test]
fn demo_runs_on_embedded_evidence() {
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .arg("demo")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("VERIFIED"), "{text}");
    assert!(text.contains("snp.report.bad_signature"), "{text}");
    assert!(text.contains("snp.chain.not_pinned"), "{text}");
    assert!(text.contains("POLICY ACCEPTED"), "{text}");
    assert!(text.contains("POLICY REFUSED"), "{text}");
    assert!(text.contains("✗ snp.measurements"), "{text}");
    // The last act: the service in-process, a simulated guest served, a
    // tampered one refused with the rule named.
    assert!(text.contains("SIMULATED guest"), "{text}");
    assert!(
        text.contains("the guest opens it: \"correct horse battery staple\""),
        "{text}"
    );
    assert!(text.contains("HTTP 422 policy.refused"), "{text}");
    assert!(text.contains("all outcomes are as expected"), "{text}");
}

#[test]
fn trust_anchors_dir_rejects_unrecognised_certificates() {
    let dir = vectors();
    let tmp = tempfile::tempdir().unwrap();
    // A VCEK is not an anchor: its subject is CN=SEV-VCEK.
    std::fs::copy(dir.join("genoa-v3-vcek/vcek.der"), tmp.path().join("x.der")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .arg("verify")
        .arg(dir.join("genoa-v3-vcek/report.bin"))
        .arg("--trust-anchors")
        .arg(tmp.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json["error"]["code"], "anchors.unrecognised_subject");
    assert!(json["error"]["message"].as_str().unwrap().contains("x.der"));
}

fn tdx_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/tdx")
}

/// Every generated TDX case through `cogito verify`: bundle loading,
/// `--trust-anchors`, `--signature-only`, `--allow-tcb-status`, and the
/// code, class, exit code and TCB claims of each outcome.
#[test]
fn every_tdx_testkit_case_through_the_cli() {
    let dir = tdx_vectors();
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap()).unwrap();
    let anchors = dir.join("anchors");
    let cases = manifest["case"].as_array().unwrap();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let folder = dir.join(case["dir"].as_str().unwrap());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cogito"));
        cmd.arg("verify").arg(folder.join("quote.bin")).args([
            "--at",
            case["verify_at"].as_str().unwrap(),
            "--format",
            "json",
        ]);
        if case["signature_only"].as_bool().unwrap() {
            cmd.arg("--signature-only");
        } else {
            cmd.arg("--certs").arg(&folder);
        }
        if case["trust_testkit_anchors"].as_bool().unwrap() {
            cmd.arg("--trust-anchors").arg(&anchors);
        }
        let allowed: Vec<&str> = case["allow_tcb_status"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .filter(|s| *s != "UpToDate")
            .collect();
        if !allowed.is_empty() {
            cmd.arg("--allow-tcb-status").arg(allowed.join(","));
        }
        let out = cmd.output().unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{id}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let code = out.status.code().unwrap();
        let claims = &case["key_claims"];
        match case["expected"].as_str().unwrap() {
            "accept" => {
                assert_eq!(code, 0, "{id}: {json}");
                assert_eq!(
                    json["tdx"]["body"]["mrtd"],
                    claims["mrtd"].as_str().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    json["tdx"]["pck"]["fmspc"],
                    claims["fmspc"].as_str().unwrap(),
                    "{id}"
                );
                match claims.get("tcb_status").and_then(|s| s.as_str()) {
                    Some(want) if !case["signature_only"].as_bool().unwrap() => {
                        let tcb = &json["tdx"]["tcb"];
                        assert_eq!(tcb["status"], want, "{id}");
                        assert_eq!(
                            tcb["platform_status"],
                            claims["platform_tcb_status"].as_str().unwrap(),
                            "{id}"
                        );
                        assert_eq!(
                            tcb["qe_status"],
                            claims["qe_tcb_status"].as_str().unwrap(),
                            "{id}"
                        );
                        match claims.get("tdx_module_tcb_status") {
                            Some(m) => {
                                assert_eq!(tcb["module_status"], m.as_str().unwrap(), "{id}")
                            }
                            None => assert!(tcb["module_status"].is_null(), "{id}"),
                        }
                        let want_adv: Vec<&str> = claims["advisory_ids"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|a| a.as_str().unwrap())
                            .collect();
                        let got_adv: Vec<&str> = tcb["advisory_ids"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|a| a.as_str().unwrap())
                            .collect();
                        assert_eq!(got_adv, want_adv, "{id}");
                    }
                    _ => assert_eq!(json["claims"]["tcb_status"], "NotEvaluated", "{id}"),
                }
                if !case["signature_only"].as_bool().unwrap() {
                    // The current (TEE_TCB_SVN2) status of TD 1.5 bodies.
                    let current = &json["tdx"]["tcb"]["status_current_svn2"];
                    match claims.get("current_tcb_status") {
                        Some(s) => assert_eq!(current, s.as_str().unwrap(), "{id}"),
                        None => assert!(current.is_null(), "{id}: {current}"),
                    }
                }
                let body = &json["tdx"]["body"];
                assert_eq!(
                    body["body_type"],
                    claims["body_type"].as_integer().unwrap(),
                    "{id}"
                );
                match claims.get("td15ex") {
                    Some(want) => assert_td15ex(id, &body["td15ex"], want),
                    None => assert!(body["td15ex"].is_null(), "{id}"),
                }
            }
            "reject" => {
                let want_class = case["expected_class"].as_str().unwrap();
                assert_eq!(
                    json["error"]["code"],
                    case["expected_code"].as_str().unwrap(),
                    "{id}: {json}"
                );
                assert_eq!(json["error"]["class"], want_class, "{id}");
                assert_eq!(code, exit_code_of(want_class), "{id}");
                if let (Some(status), Some(msg)) =
                    (claims.get("tcb_status"), json["error"]["message"].as_str())
                {
                    if want_class == "policy" {
                        assert!(msg.contains(status.as_str().unwrap()), "{id}: {msg}");
                    }
                }
            }
            other => panic!("{id}: {other}"),
        }
    }
}

/// The ten fields of `tdx.body.td15ex` against the manifest's
/// `[case.key_claims.td15ex]`, one by one.
fn assert_td15ex(id: &str, got: &Value, want: &toml::Value) {
    let want = want.as_table().unwrap();
    assert_eq!(want.len(), 10, "{id}");
    assert_eq!(got.as_object().unwrap().len(), 10, "{id}: {got}");
    assert_eq!(
        got["vmid"],
        want["vmid"].as_integer().unwrap(),
        "{id}: vmid"
    );
    for field in [
        "td_id",
        "dev_info",
        "init_servicetd_hash",
        "init_servicetd_attributes",
        "init_cpusvn",
        "init_tee_tcb_svn",
        "init_tee_fmspc",
        "cur_servicetd_hash",
        "cur_servicetd_attributes",
    ] {
        assert_eq!(got[field], want[field].as_str().unwrap(), "{id}: {field}");
    }
}

fn tdx_case(manifest: &toml::Value, id: &str) -> toml::Value {
    manifest["case"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no TDX case {id}"))
        .clone()
}

/// `cogito verify <case quote> --certs <case> --trust-anchors <anchors>
/// --at <verify_at> --format json`, plus `extra`.
fn verify_tdx_case(case: &toml::Value, extra: &[&std::ffi::OsStr]) -> (i32, Value) {
    let dir = tdx_vectors();
    let folder = dir.join(case["dir"].as_str().unwrap());
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .arg("verify")
        .arg(folder.join("quote.bin"))
        .arg("--certs")
        .arg(&folder)
        .arg("--trust-anchors")
        .arg(dir.join("anchors"))
        .args(["--at", case["verify_at"].as_str().unwrap()])
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), json)
}

#[test]
fn verify_prints_the_td15_extended_fields() {
    let dir = tdx_vectors();
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap()).unwrap();
    let case = tdx_case(&manifest, "v5-td15ex");
    let claims = &case["key_claims"];
    let (code, json) = verify_tdx_case(&case, &[]);
    assert_eq!(code, 0, "{json}");
    let body = &json["tdx"]["body"];
    assert_eq!(body["body_type"], 4);
    assert_eq!(
        body["tee_tcb_svn2"],
        claims["tee_tcb_svn2"].as_str().unwrap()
    );
    assert_eq!(body["mrservicetd"], claims["mrservicetd"].as_str().unwrap());
    assert_td15ex("v5-td15ex", &body["td15ex"], &claims["td15ex"]);
    assert_eq!(body["td15ex"]["vmid"], 0);
    assert_eq!(json["tdx"]["tcb"]["status"], "UpToDate");
    assert_eq!(json["tdx"]["tcb"]["status_current_svn2"], "UpToDate");
    // The quote's INIT_TEE_TCB_SVN is an OutOfDate TCB; it is reported, not
    // evaluated.
    assert_eq!(
        body["td15ex"]["init_tee_tcb_svn"],
        "04010200000000000000000000000000"
    );
}

#[test]
fn a_pinning_policy_refuses_a_vmid_2_quote_until_it_lists_vmid_2() {
    let dir = tdx_vectors();
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap()).unwrap();
    let case = tdx_case(&manifest, "v5-td15ex-vmid-2");
    let claims = &case["key_claims"];
    let x = &claims["td15ex"];
    assert_eq!(x["vmid"].as_integer(), Some(2));
    let pinned = format!(
        "[policy]\nname = \"pinned L2 guest\"\n\n[tdx]\nmrtd = [\"{}\"]\nmrservicetd = [\"{}\"]\n\
         init_servicetd_hashes = [\"{}\"]\ninit_servicetd_attributes = [\"{}\"]\n\
         cur_servicetd_hashes = [\"{}\"]\ncur_servicetd_attributes = [\"{}\"]\n",
        claims["mrtd"].as_str().unwrap(),
        claims["mrservicetd"].as_str().unwrap(),
        x["init_servicetd_hash"].as_str().unwrap(),
        x["init_servicetd_attributes"].as_str().unwrap(),
        x["cur_servicetd_hash"].as_str().unwrap(),
        x["cur_servicetd_attributes"].as_str().unwrap(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("pinned.toml");
    let rules = |json: &Value, passed: bool| -> Vec<String> {
        json["appraisal"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["passed"] == passed)
            .map(|r| r["rule"].as_str().unwrap().to_string())
            .collect()
    };

    // Without `vmids`: only VMID 0, and the quote is VMID 2.
    std::fs::write(&policy, &pinned).unwrap();
    let (code, json) = verify_tdx_case(&case, &["--policy".as_ref(), policy.as_os_str()]);
    assert_eq!(code, 7, "{json}");
    assert_eq!(json["verification"]["tdx"]["body"]["td15ex"]["vmid"], 2);
    assert_eq!(json["appraisal"]["accepted"], false);
    assert_eq!(rules(&json, false), ["tdx.vmids"], "{json}");
    let vmids = json["appraisal"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "tdx.vmids")
        .unwrap();
    assert_eq!(vmids["actual"], "2");
    assert_eq!(vmids["expected"], "0");
    assert_eq!(vmids["default"], true);
    assert!(
        vmids["note"]
            .as_str()
            .unwrap()
            .contains("list it in tdx.vmids"),
        "{vmids}"
    );
    // Every pinned value passed: the refusal is the VMID alone.
    for rule in [
        "tdx.mrtd",
        "tdx.mrservicetd",
        "tdx.init_servicetd_hashes",
        "tdx.init_servicetd_attributes",
        "tdx.cur_servicetd_hashes",
        "tdx.cur_servicetd_attributes",
    ] {
        assert!(
            rules(&json, true).iter().any(|r| r == rule),
            "{rule}: {json}"
        );
    }

    // The same policy listing VMID 2 accepts it.
    std::fs::write(&policy, format!("{pinned}vmids = [2]\n")).unwrap();
    let (code, json) = verify_tdx_case(&case, &["--policy".as_ref(), policy.as_os_str()]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["appraisal"]["accepted"], true);
    assert!(rules(&json, false).is_empty(), "{json}");
    assert!(
        rules(&json, true).iter().any(|r| r == "tdx.vmids"),
        "{json}"
    );

    // A changed service-TD pin refuses it again, by name.
    let other = pinned.replace(x["cur_servicetd_hash"].as_str().unwrap(), &"00".repeat(48));
    std::fs::write(&policy, format!("{other}vmids = [2]\n")).unwrap();
    let (code, json) = verify_tdx_case(&case, &["--policy".as_ref(), policy.as_os_str()]);
    assert_eq!(code, 7, "{json}");
    assert_eq!(rules(&json, false), ["tdx.cur_servicetd_hashes"], "{json}");
}

#[test]
fn example_policies_pass_policy_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut files: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(["policy", "check"])
        .args(&files)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len(),
        "{text}"
    );
}
