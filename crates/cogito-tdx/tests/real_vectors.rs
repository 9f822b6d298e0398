//! Every TDX quote in ../shared/vectors gives exactly its manifest's
//! outcome and key claims (full and signature-only cases).
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;

use cogito_core::{CogitoError, VerificationTime};
use cogito_tdx::{builtin_anchors, verify_quote, Collateral, Options, VerifiedCache};
use serde_json::Value;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn collateral(dir: &Path) -> Option<Collateral> {
    dir.join("tcb_info.json").is_file().then(|| Collateral {
        tcb_info: read(dir, "tcb_info.json"),
        tcb_info_issuer_chain: read(dir, "tcb_info_issuer_chain.pem"),
        qe_identity: read(dir, "qe_identity.json"),
        qe_identity_issuer_chain: read(dir, "qe_identity_issuer_chain.pem"),
        pck_crl: read(dir, "pck_crl.der"),
        pck_crl_issuer_chain: read(dir, "pck_crl_issuer_chain.pem"),
        root_ca_crl: read(dir, "root_ca_crl.der"),
    })
}

fn reason_code(reason: &str) -> &'static str {
    match reason {
        "no TCB level matches" => "tdx.tcb.no_matching_level",
        other => panic!("manifest reason {other:?} has no expected code in this test: add one"),
    }
}

#[test]
fn every_tdx_quote_vector() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root.join("MANIFEST.toml")).unwrap()).unwrap();
    let mut seen = 0;
    for v in manifest["vector"].as_array().unwrap() {
        if v["platform"].as_str() != Some("tdx") || v["mode"].as_str() == Some("eventlog-only") {
            continue;
        }
        seen += 1;
        let id = v["id"].as_str().unwrap();
        let dir = root.join(v["dir"].as_str().unwrap());
        let quote = read(&dir, "quote.bin");
        let at = VerificationTime::parse_rfc3339(v["verify_at"].as_str().unwrap()).unwrap();
        let col = collateral(&dir);
        let options = Options {
            signature_only: v["mode"].as_str() == Some("signature-only"),
            ..Options::default()
        };
        let cache = VerifiedCache::default();
        let r = verify_quote(
            &quote,
            col.as_ref(),
            builtin_anchors(),
            at,
            &options,
            &cache,
        );
        match v["expected"].as_str().unwrap() {
            "accept" => {
                let verified = r.unwrap_or_else(|e| panic!("{id}: {e}"));
                let json = serde_json::to_value(&verified.platform).unwrap();
                let claims = v["key_claims"].as_table().unwrap();
                let mut compared = 0;
                for (k, want) in claims {
                    let want = match want {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    if let Some(got) = claim(&json, k) {
                        assert_eq!(got, want, "{id}: {k}");
                        compared += 1;
                    }
                }
                // Only the event-log claims of the CCEL case are left out.
                assert!(
                    compared + 2 >= claims.len(),
                    "{id}: compared {compared} of {}",
                    claims.len()
                );
                eprintln!("{id}: {compared} claims match");
                // A second verification through the warm cache agrees.
                let again = verify_quote(
                    &quote,
                    col.as_ref(),
                    builtin_anchors(),
                    at,
                    &options,
                    &cache,
                )
                .unwrap();
                assert_eq!(again.platform, verified.platform, "{id}");
            }
            "reject" => {
                let e = r.err().unwrap_or_else(|| panic!("{id} must be rejected"));
                assert_eq!(
                    e.code(),
                    reason_code(v["expected_reason"].as_str().unwrap()),
                    "{id}: {e}"
                );
            }
            other => panic!("{other}"),
        }
    }
    assert!(seen >= 9, "{seen}");
}

/// Maps a manifest key claim to the JSON claims; `None` for claims this
/// test does not map (checked elsewhere, e.g. the event log ones).
fn claim(json: &Value, key: &str) -> Option<String> {
    let s = |v: &Value| {
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    };
    let b = &json["body"];
    let tcb = &json["tcb"];
    Some(match key {
        "quote_version" => json["quote_version"].to_string(),
        "body_type" => b["body_type"].to_string(),
        "tee_tcb_svn" => s(&b["tee_tcb_svn"]),
        "tee_tcb_svn2" => s(&b["tee_tcb_svn2"]),
        "mrseam" => s(&b["mrseam"]),
        "mrsignerseam_is_zero" => s(&b["mrsignerseam"]).chars().all(|c| c == '0').to_string(),
        "seam_attributes" => s(&b["seam_attributes"]),
        "td_attributes" => s(&b["td_attributes"]["raw"]),
        "td_debug" => b["td_attributes"]["debug"].to_string(),
        "td_sept_ve_disable" => b["td_attributes"]["sept_ve_disable"].to_string(),
        "xfam" => s(&b["xfam"]),
        "mrtd" => s(&b["mrtd"]),
        "mrconfigid" => s(&b["mrconfigid"]),
        "mrowner" => s(&b["mrowner"]),
        "mrownerconfig" => s(&b["mrownerconfig"]),
        "rtmr0" => s(&b["rtmr"][0]),
        "rtmr1" => s(&b["rtmr"][1]),
        "rtmr2" => s(&b["rtmr"][2]),
        "rtmr3" => s(&b["rtmr"][3]),
        "report_data" => s(&b["report_data"]),
        "mrservicetd" => s(&b["mrservicetd"]),
        "fmspc" => s(&json["pck"]["fmspc"]),
        "pce_id" => s(&json["pck"]["pce_id"]),
        "pck_pcesvn" => json["pck"]["pcesvn"].to_string(),
        "pck_cpusvn_components" => json["pck"]["cpusvn_components"]
            .as_array()?
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
        "qe_isvsvn" => json["qe"]["isvsvn"].to_string(),
        "trailing_bytes_after_signature_data" => json["trailing_padding"].to_string(),
        "body_size" => match b["body_type"].as_u64()? {
            2 => "584".into(),
            3 => "648".into(),
            _ => return None,
        },
        "tcb_status" => s(tcb.get("status")?),
        "platform_tcb_status" => s(tcb.get("platform_status")?),
        "tdx_module_tcb_status" => s(tcb.get("module_status")?),
        "qe_tcb_status" => s(tcb.get("qe_status")?),
        "tcb_status_current_svn2" => s(tcb.get("status_current_svn2")?),
        "tcb_date" => s(tcb.get("tcb_date")?),
        "tcb_evaluation_data_number" => tcb.get("tcb_evaluation_data_number")?.to_string(),
        "advisory_ids" => tcb
            .get("advisory_ids")?
            .as_array()?
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join(","),
        "ccel_events_per_rtmr" | "ccel_laml" => return None,
        other => panic!("manifest key claim {other:?} is not mapped by this test: add it"),
    })
}
