//! Policies over the real evidence in ../shared/vectors: for every vector
//! that verifies, `cogito policy init --from` writes a policy that pins its
//! values; that policy accepts the vector, and changing any one pinned
//! value refuses it, naming exactly that rule.
//!
//! Skips with a notice when the vectors are absent, except under CI=true.
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

use cogito_testkit::real_vectors::manifest_vectors as vectors;

fn cogito(args: &[String]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(args)
        .output()
        .expect("run cogito");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One piece of evidence and the options that verify it.
struct Case {
    id: String,
    evidence: PathBuf,
    opts: Vec<String>,
}

/// Every real vector that verifies (authentic; policy-level rejects such as
/// provisional firmware included, since a policy can allow them).
fn cases(dir: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for v in vectors(dir) {
        let id = v["id"].as_str().unwrap().to_string();
        let case = dir.join(v["dir"].as_str().unwrap());
        let at = v
            .get("verify_at")
            .and_then(|t| t.as_str())
            .unwrap_or("2025-01-01T00:00:00Z");
        let reason = v
            .get("expected_reason")
            .and_then(|r| r.as_str())
            .unwrap_or("");
        match v["platform"].as_str().unwrap() {
            "snp" => {
                if reason.contains("expired") {
                    continue;
                }
                let files: Vec<&str> = v["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap())
                    .collect();
                for ev in ["report.bin", "hcl_report.bin"] {
                    if !files.contains(&ev) {
                        continue;
                    }
                    out.push(Case {
                        id: format!("{id}/{ev}"),
                        evidence: case.join(ev),
                        opts: vec![
                            "--certs".into(),
                            case.display().to_string(),
                            "--at".into(),
                            at.into(),
                        ],
                    });
                }
            }
            "tdx" => {
                if v["mode"].as_str() == Some("eventlog-only")
                    || v["expected"].as_str() == Some("reject")
                {
                    continue;
                }
                let mut opts = vec!["--at".to_string(), at.to_string()];
                if v["mode"].as_str() == Some("signature-only") {
                    opts.push("--signature-only".into());
                } else {
                    opts.extend(["--certs".into(), case.display().to_string()]);
                }
                let log = case.join("ccel/event_log.bin");
                if log.is_file() {
                    opts.extend(["--event-log".into(), log.display().to_string()]);
                }
                out.push(Case {
                    id,
                    evidence: case.join("quote.bin"),
                    opts,
                });
            }
            "cca" => {
                if v["expected"].as_str() == Some("reject") {
                    continue;
                }
                let key = ["cpak.jwk", "cpak.pem", "ta_store.json"]
                    .iter()
                    .map(|f| case.join(f))
                    .find(|p| p.is_file())
                    .unwrap();
                out.push(Case {
                    id,
                    evidence: case.join("token.cbor"),
                    opts: vec![
                        "--cca-trust-anchors".into(),
                        key.display().to_string(),
                        "--allow-test-keys".into(),
                    ],
                });
            }
            other => panic!("unknown platform {other}"),
        }
    }
    out
}

fn test_policy(policy: &Path, c: &Case) -> (i32, Value) {
    let mut args = vec![
        "policy".to_string(),
        "test".into(),
        policy.display().to_string(),
        c.evidence.display().to_string(),
    ];
    args.extend(c.opts.iter().cloned());
    args.extend(["--format".into(), "json".into()]);
    let (code, stdout, stderr) = cogito(&args);
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {stdout}\n{stderr}", c.id));
    (code, json)
}

fn failed_rules(out: &Value) -> Vec<String> {
    out["appraisal"]["rules"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter(|r| r["passed"] == false)
                .map(|r| r["rule"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A pinned value in a generated policy, and how to make it refuse.
struct Mutation {
    line: usize,
    rule: String,
    replacement: String,
}

fn next_hex_digit(c: char) -> char {
    let v = c.to_digit(16).unwrap();
    std::char::from_digit((v + 1) % 16, 16).unwrap()
}

/// Every value `policy init` pins, each changed so that it must refuse:
/// allow-listed hex values get one digit changed, minimums are raised,
/// exact booleans are flipped.
fn mutations(text: &str) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut table = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if let Some(h) = t.strip_prefix('[') {
            table = h.trim_start_matches('[').trim_end_matches(']').to_string();
            continue;
        }
        let Some((key, value)) = t.split_once(" = ") else {
            continue;
        };
        let rule = if table == "cca.sw_components" {
            table.clone()
        } else {
            format!("{table}.{key}")
        };
        let mutated = if table == "policy" {
            None
        } else if key == "min_tee_tcb_svn" {
            // Raise the first byte that can be raised.
            let hex = value.trim_matches('"');
            let bytes = hex::decode(hex).unwrap();
            bytes.iter().position(|b| *b < 0xff).map(|i| {
                let mut b = bytes.clone();
                b[i] += 1;
                format!("\"{}\"", hex::encode(b))
            })
        } else if (key == "min_current_version"
            || key == "min_committed_version"
            || key == "min_abi")
            && value.starts_with('"')
        {
            let v = value.trim_matches('"');
            let mut parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
            parts[0] += 1;
            Some(format!(
                "\"{}\"",
                parts
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(".")
            ))
        } else if let Some(hex) = value
            .strip_prefix("[\"")
            .and_then(|v| v.strip_suffix("\"]"))
            .filter(|h| h.len() >= 2 && h.chars().all(|c| c.is_ascii_hexdigit()))
        {
            let first = hex.chars().next().unwrap();
            Some(format!("[\"{}{}\"]", next_hex_digit(first), &hex[1..]))
        } else if table == "cca.sw_components" && (key == "measurement" || key == "signer_id") {
            let hex = value.trim_matches('"');
            let first = hex.chars().next().unwrap();
            Some(format!("\"{}{}\"", next_hex_digit(first), &hex[1..]))
        } else if let Ok(n) = value.parse::<u64>() {
            // Minimums (TCB components, SVNs, evaluation data numbers).
            let is_min = key.starts_with("min_") || table.starts_with("snp.min_");
            let is_u8 = table.starts_with("snp.min_");
            (is_min && !(is_u8 && n == 255)).then(|| (n + 1).to_string())
        } else if table == "snp.platform_info" && (value == "true" || value == "false") {
            Some((value == "false").to_string())
        } else {
            None
        };
        if let Some(replacement) = mutated {
            out.push(Mutation {
                line: i,
                rule,
                replacement: format!("{key} = {replacement}"),
            });
        }
    }
    out
}

#[test]
fn a_pinned_policy_accepts_its_vector_and_every_changed_value_refuses_by_name() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cases = cases(&dir);
    assert!(
        cases.len() >= 20,
        "only {} real vectors verify",
        cases.len()
    );
    let (mut snp, mut tdx, mut cca, mut total_mutations) = (0, 0, 0, 0);
    for (n, c) in cases.iter().enumerate() {
        let policy = tmp.path().join(format!("p{n}.toml"));
        let mut args = vec![
            "policy".to_string(),
            "init".into(),
            "--from".into(),
            c.evidence.display().to_string(),
            "-o".into(),
            policy.display().to_string(),
        ];
        args.extend(c.opts.iter().cloned());
        let (code, _, stderr) = cogito(&args);
        assert_eq!(code, 0, "{}: policy init failed: {stderr}", c.id);
        let text = std::fs::read_to_string(&policy).unwrap();

        let (code, _, stderr) = cogito(&[
            "policy".into(),
            "check".into(),
            policy.display().to_string(),
        ]);
        assert_eq!(
            code, 0,
            "{}: generated policy does not check: {stderr}",
            c.id
        );

        let (code, out) = test_policy(&policy, c);
        assert_eq!(
            code,
            0,
            "{}: pinned policy refuses its own vector: {:?}\n{text}",
            c.id,
            failed_rules(&out)
        );
        assert_eq!(out["appraisal"]["accepted"], true);
        let status = out["ear"]["submods"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()["ear.status"]
            .clone();
        assert_ne!(status, "contraindicated", "{}", c.id);
        match out["verification"]["claims"]["tee"].as_str().unwrap() {
            "snp" => snp += 1,
            "tdx" => tdx += 1,
            "cca" => cca += 1,
            other => panic!("{other}"),
        }

        let muts = mutations(&text);
        assert!(
            muts.len() >= 5,
            "{}: only {} values to change",
            c.id,
            muts.len()
        );
        for m in &muts {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines[m.line] = m.replacement.clone();
            let changed = tmp.path().join(format!("p{n}-changed.toml"));
            std::fs::write(&changed, lines.join("\n")).unwrap();
            let (code, out) = test_policy(&changed, c);
            let failed = failed_rules(&out);
            assert_eq!(
                code, 7,
                "{}: changing `{}` did not refuse (failed: {failed:?}): {out}",
                c.id, m.replacement
            );
            assert_eq!(
                failed,
                vec![m.rule.clone()],
                "{}: changing `{}` must fail exactly {}",
                c.id,
                m.replacement,
                m.rule
            );
            assert_eq!(
                out["ear"]["submods"]
                    .as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()["ear.status"],
                "contraindicated"
            );
            total_mutations += 1;
        }
    }
    assert!(
        snp >= 7 && tdx >= 6 && cca >= 5,
        "snp {snp}, tdx {tdx}, cca {cca}"
    );
    eprintln!(
        "{} vectors, {total_mutations} single-value changes, each refused by name",
        cases.len()
    );
}

#[test]
fn a_policy_without_the_platform_refuses_it() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("tdx-only.toml");
    std::fs::write(&policy, "[policy]\nname = \"tdx-only\"\n[tdx]\n").unwrap();
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.id.starts_with("snp"))
        .unwrap();
    let (code, out) = test_policy(&policy, &c);
    assert_eq!(code, 7);
    assert_eq!(failed_rules(&out), vec!["policy.platform"]);
    assert!(out["appraisal"]["rules"][0]["note"]
        .as_str()
        .unwrap()
        .contains("no [snp] table"));
}

#[test]
fn policy_decides_what_verifier_knobs_would_and_refuses_them_together() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.id.contains("provisional"))
        .expect("the provisional SNP vector");
    let tmp = tempfile::tempdir().unwrap();
    let strict = tmp.path().join("strict.toml");
    std::fs::write(&strict, "[policy]\nname = \"strict\"\n[snp]\n").unwrap();
    let (code, out) = test_policy(&strict, &c);
    assert_eq!(code, 7, "{out}");
    assert_eq!(failed_rules(&out), vec!["snp.allow_provisional_firmware"]);
    let lenient = tmp.path().join("lenient.toml");
    std::fs::write(
        &lenient,
        "[policy]\nname = \"lenient\"\n[snp]\nallow_provisional_firmware = true\n",
    )
    .unwrap();
    let (code, out) = test_policy(&lenient, &c);
    assert_eq!(code, 0, "{out}");
    // Allowed, but the EAR status says it is a caveat.
    assert_eq!(out["ear"]["submods"]["snp"]["ear.status"], "warning");

    let mut args = vec![
        "verify".to_string(),
        c.evidence.display().to_string(),
        "--policy".into(),
        lenient.display().to_string(),
        "--permit-provisional-firmware".into(),
    ];
    args.extend(c.opts.iter().cloned());
    let (code, stdout, _) = cogito(&args);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("snp.allow_provisional_firmware"),
        "{stdout}"
    );
}

#[test]
fn signature_only_tdx_is_refused_unless_the_policy_allows_not_evaluated() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.opts.iter().any(|o| o == "--signature-only"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.toml");
    std::fs::write(&p, "[policy]\nname = \"p\"\n[tdx]\n").unwrap();
    let (code, out) = test_policy(&p, &c);
    assert_eq!(code, 7);
    assert_eq!(failed_rules(&out), vec!["tdx.tcb_statuses"]);
    std::fs::write(
        &p,
        "[policy]\nname = \"p\"\n[tdx]\ntcb_statuses = [\"UpToDate\", \"NotEvaluated\"]\n",
    )
    .unwrap();
    let (code, out) = test_policy(&p, &c);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["ear"]["submods"]["tdx"]["ear.status"], "warning");
}

#[test]
fn text_output_lists_failures_first() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.id.starts_with("snp"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.toml");
    std::fs::write(
        &p,
        format!(
            "[policy]\nname = \"p\"\n[snp]\nmeasurements = [\"{}\"]\nmin_guest_svn = 4294967295\n",
            "ab".repeat(48)
        ),
    )
    .unwrap();
    let mut args = vec![
        "policy".to_string(),
        "test".into(),
        p.display().to_string(),
        c.evidence.display().to_string(),
    ];
    args.extend(c.opts.iter().cloned());
    let (code, stdout, _) = cogito(&args);
    assert_eq!(code, 7);
    assert!(stdout.starts_with("POLICY REFUSED"), "{stdout}");
    let failed_at = stdout.find("failed:").unwrap();
    let passed_at = stdout.find("passed:").unwrap();
    assert!(failed_at < passed_at);
    let failed_block = &stdout[failed_at..passed_at];
    assert!(
        failed_block.contains("✗ snp.measurements") && failed_block.contains("✗ snp.min_guest_svn"),
        "{stdout}"
    );
    // The verification summary follows.
    assert!(stdout.contains("VERIFIED"), "{stdout}");
}

/// The `key_claims` of a manifest vector.
fn key_claim(dir: &Path, id_prefix: &str, key: &str) -> String {
    let v = vectors(dir)
        .into_iter()
        .find(|v| v["id"].as_str().unwrap().starts_with(id_prefix))
        .unwrap();
    v["key_claims"][key].as_str().unwrap().to_string()
}

#[test]
fn expired_reference_values_refuse_and_included_values_are_traced_to_their_file() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.id.starts_with("snp-milan-v2-go-sev-guest"))
        .expect("vector");
    let measurement = key_claim(&dir, "snp-milan-v2-go-sev-guest", "measurement");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("ref")).unwrap();
    let p = tmp.path().join("p.toml");
    // This guest's POLICY allows debugging; that is not what this test is about.
    std::fs::write(&p, "[policy]\nname = \"p\"\ninclude = [\"ref/images.toml\"]\n[common]\ndebug_allowed = true\n[snp]\n").unwrap();
    // --at of this vector is 2023; an expiry in 2022 has passed, 2024 has not.
    for (expires, code) in [("2022-01-01", 7), ("2030-01-01", 0)] {
        std::fs::write(
            tmp.path().join("ref/images.toml"),
            format!("note = \"image build 7\"\n[snp]\nmeasurements = [{{ value = \"{measurement}\", expires = {expires} }}]\n"),
        )
        .unwrap();
        let (got, out) = test_policy(&p, &c);
        assert_eq!(got, code, "{expires}: {out}");
        let rule = out["appraisal"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == "snp.measurements")
            .unwrap()
            .clone();
        let note = rule["note"].as_str().unwrap();
        if code == 7 {
            assert!(note.contains("expired at 2022-01-01T00:00:00Z"), "{note}");
        } else {
            assert!(
                note.contains("image build 7")
                    && note.contains("from ref/images.toml")
                    && note.contains("expires 2030-01-01"),
                "{note}"
            );
        }
    }
}

#[test]
fn guest_policy_bits_are_ceilings_and_floors() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    // Genoa v3 (Azure): POLICY 0x3001f — SMT allowed, no migration agent,
    // single socket not required.
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.id.starts_with("snp-genoa-v3-azure"))
        .expect("vector");
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.toml");
    for (table, code, failed) in [
        (
            "smt_allowed = true\nmigrate_ma_allowed = false\nsingle_socket_required = false",
            0,
            vec![],
        ),
        (
            "smt_allowed = false",
            7,
            vec!["snp.guest_policy.smt_allowed"],
        ),
        (
            "single_socket_required = true",
            7,
            vec!["snp.guest_policy.single_socket_required"],
        ),
        ("min_abi = \"0.31\"", 0, vec![]),
        ("min_abi = \"1.0\"", 7, vec!["snp.guest_policy.min_abi"]),
    ] {
        std::fs::write(
            &p,
            format!("[policy]\nname = \"p\"\n[snp.guest_policy]\n{table}\n"),
        )
        .unwrap();
        let (got, out) = test_policy(&p, &c);
        assert_eq!(got, code, "{table}: {out}");
        assert_eq!(failed_rules(&out), failed, "{table}");
    }
}

#[test]
fn tdx_event_log_rules_check_replay_and_the_command_line() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.id.contains("ccel"))
        .expect("the CCEL vector");
    let log = c
        .opts
        .iter()
        .position(|o| o == "--event-log")
        .map(|i| c.opts[i + 1].clone())
        .unwrap();
    let (_, json, _) = cogito(&[
        "eventlog".into(),
        log.clone(),
        "--format".into(),
        "json".into(),
    ]);
    let json: Value = serde_json::from_str(&json).unwrap();
    let cmdline = json["log"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| {
            e["decoded"]["text"]
                .as_str()
                .and_then(|t| t.strip_prefix("kernel_cmdline: "))
                .map(str::to_string)
        })
        .expect("GRUB logs the command line");
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.toml");
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    std::fs::write(&p, format!("[policy]\nname = \"p\"\n[tdx]\ntcb_statuses = [\"NotEvaluated\"]\n[tdx.event_log]\ncmdline = [\"{}\"]\n", esc(&cmdline))).unwrap();
    let (code, out) = test_policy(&p, &c);
    assert_eq!(code, 0, "{out}");
    std::fs::write(&p, format!("[policy]\nname = \"p\"\n[tdx]\ntcb_statuses = [\"NotEvaluated\"]\n[tdx.event_log]\ncmdline = [\"{} init=/bin/sh\"]\n", esc(&cmdline))).unwrap();
    let (code, out) = test_policy(&p, &c);
    assert_eq!(code, 7, "{out}");
    assert_eq!(failed_rules(&out), vec!["tdx.event_log.cmdline"]);

    // Without the log, the event-log rules fail rather than being skipped.
    std::fs::write(&p, format!("[policy]\nname = \"p\"\n[tdx]\ntcb_statuses = [\"NotEvaluated\"]\n[tdx.event_log]\ncmdline = [\"{}\"]\n", esc(&cmdline))).unwrap();
    let mut no_log = Case {
        id: c.id.clone(),
        evidence: c.evidence.clone(),
        opts: c.opts.clone(),
    };
    let i = no_log.opts.iter().position(|o| o == "--event-log").unwrap();
    no_log.opts.drain(i..i + 2);
    let (code, out) = test_policy(&p, &no_log);
    assert_eq!(code, 7, "{out}");
    assert_eq!(failed_rules(&out), vec!["tdx.event_log"]);

    // A log from another boot does not replay to the quote's RTMRs.
    let other = dir
        .join("tdx/eventlog-ovmf-trustee/ccel/event_log.bin")
        .display()
        .to_string();
    let mut wrong = Case {
        id: c.id.clone(),
        evidence: c.evidence.clone(),
        opts: c.opts.clone(),
    };
    wrong.opts[i + 1] = other;
    let (code, out) = test_policy(&p, &wrong);
    assert_eq!(code, 7, "{out}");
    assert_eq!(failed_rules(&out), vec!["tdx.event_log"]);
}

#[test]
fn cca_test_keys_need_the_policy_to_allow_them_too() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let c = cases(&dir)
        .into_iter()
        .find(|c| c.opts.iter().any(|o| o == "--allow-test-keys"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.toml");
    std::fs::write(&p, "[policy]\nname = \"p\"\n[cca]\n").unwrap();
    let (code, out) = test_policy(&p, &c);
    assert_eq!(code, 7, "{out}");
    assert!(
        failed_rules(&out).contains(&"cca.allow_test_keys".to_string()),
        "{out}"
    );
    std::fs::write(&p, "[policy]\nname = \"p\"\n[common]\ndebug_allowed = true\n[cca]\nallow_test_keys = true\nlifecycles = [\"secured\", \"non_cca_platform_debug\", \"recoverable_cca_platform_rot_debug\", \"unknown\", \"assembly_and_test\", \"cca_platform_rot_provisioning\", \"decommissioned\"]\n").unwrap();
    let (code, out) = test_policy(&p, &c);
    assert_eq!(code, 0, "{out}");
    // Accepted, but a test key is never an affirming instance identity.
    assert_eq!(out["ear"]["submods"]["cca"]["ear.status"], "warning");
    assert_eq!(out["appraisal"]["trust_vector"]["instance-identity"], 32);
}

#[test]
fn per_product_tcb_minimums_replace_the_general_ones_for_that_product() {
    let Some(dir) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let all = cases(&dir);
    let genoa = all
        .iter()
        .find(|c| c.id.starts_with("snp-genoa-v3-azure"))
        .expect("Genoa vector");
    let milan = all
        .iter()
        .find(|c| c.id.starts_with("snp-milan-v2-virtee"))
        .expect("Milan vector");
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.toml");
    // No report has microcode 255: the general minimum refuses every
    // product that has no minimum of its own. Genoa's own is met (0x54).
    std::fs::write(
        &p,
        "[policy]\nname = \"p\"\n[common]\ndebug_allowed = true\n[snp]\n\
         [snp.min_reported_tcb]\nmicrocode = 255\nsnp = 1\n\
         [snp.min_reported_tcb.genoa]\nmicrocode = 0x54\n",
    )
    .unwrap();
    let (code, out) = test_policy(&p, genoa);
    assert_eq!(code, 0, "{out}");
    let rules: Vec<&str> = out["appraisal"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"snp.min_reported_tcb.genoa.microcode"),
        "{rules:?}"
    );
    assert!(rules.contains(&"snp.min_reported_tcb.snp"), "{rules:?}");
    let (code, out) = test_policy(&p, milan);
    assert_eq!(code, 7, "{out}");
    assert_eq!(failed_rules(&out), vec!["snp.min_reported_tcb.microcode"]);
}
