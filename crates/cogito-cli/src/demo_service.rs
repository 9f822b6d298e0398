//! `cogito demo`, last act: the service releasing a secret.
//!
//! It starts `cogito serve` in this process on a loopback port (TLS with
//! its self-signed certificate, SQLite in a temporary folder, the
//! testkit's FAKE AMD roots trusted through its configuration), sets a
//! policy and a secret through the admin API as an operator would, and
//! then plays two guests over HTTPS: one whose evidence the policy accepts
//! and who opens its secret, and one with another launch measurement who
//! is refused with the rule named. The guests' evidence is SIMULATED: the
//! testkit's FAKE Genoa signs each report for the nonce and key of the
//! moment.

use std::path::Path;
use std::time::Duration;

use cogito_core::{AmdProduct, ErrorClass, VerificationTime};
use cogito_protocol::{
    decode_b64, encode_b64, report_data, AttestCollateral, AttestRequest, AttestResponse, GuestKey,
    Kem, Problem, PublicKey,
};
use cogito_testkit::LiveSnp;
use serde_json::{json, Value};

use crate::failure::Failure;
use crate::out::outln;

fn broken(message: impl std::fmt::Display) -> Failure {
    Failure::new("demo.embedded", ErrorClass::Internal, message.to_string())
}

const SECRET: &[u8] = b"correct horse battery staple";

/// Runs the act; `Ok(true)` when both guests got what they should.
pub fn run() -> Result<bool, Failure> {
    let dir = tempfile::tempdir().map_err(broken)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(broken)?;
    let now = VerificationTime::now().unix();
    let platform = LiveSnp::new(AmdProduct::Genoa, now);
    let anchors = dir.path().join("anchors");
    std::fs::create_dir_all(&anchors).map_err(broken)?;
    for (name, pem) in platform.anchors_pem() {
        std::fs::write(anchors.join(format!("{name}.pem")), pem).map_err(broken)?;
    }
    let mut config = cogito_server::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.path().join("data"),
        ..cogito_server::Config::default()
    };
    config.anchors.dir = Some(anchors);
    // A throwaway KEK of its own, so that the service has no first-start
    // warning to give about backing it up.
    let kek = dir.path().join("kek");
    cogito_server::keys::write_private(&kek, &cogito_server::keys::random::<32>().map_err(broken)?)
        .map_err(broken)?;
    config.kek_file = Some(kek);
    config.collateral.online = false;
    let server = runtime
        .block_on(cogito_server::start(config, &|_| {}))
        .map_err(broken)?;
    let url = server.url();
    outln!("── 6. the service: cogito serve, started in this process at {url}");
    outln!("   (SQLite in a temporary folder, its self-signed certificate pinned by the guests,");
    outln!("    the testkit's FAKE AMD roots trusted through its configuration)");
    let outcome = act(&url, &dir.path().join("data"), &platform);
    let _ = runtime.block_on(server.shutdown(Duration::from_secs(5)));
    outcome
}

fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Result<(u16, Value), Failure> {
    let mut req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Value::String(s) => s.clone().into_bytes(),
        other => serde_json::to_vec(other).map_err(broken)?,
    };
    let req = req.body(body).map_err(broken)?;
    let mut resp = agent.run(req).map_err(broken)?;
    let status = resp.status().as_u16();
    let bytes = resp.body_mut().read_to_vec().map_err(broken)?;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, value))
}

/// One simulated guest: challenge, key, evidence, attest.
fn guest(
    agent: &ureq::Agent,
    url: &str,
    platform: &LiveSnp,
    measurement: [u8; 48],
) -> Result<(GuestKey, u16, Value), Failure> {
    let (_, challenge) = call(
        agent,
        "POST",
        &format!("{url}/v1/challenge"),
        None,
        &json!({"tee": "snp"}),
    )?;
    let nonce = challenge
        .get("nonce")
        .and_then(Value::as_str)
        .and_then(decode_b64)
        .ok_or_else(|| broken("no nonce in the challenge"))?;
    let key = GuestKey::generate(Kem::X25519).map_err(broken)?;
    let rd = report_data(&nonce, key.kem, &key.public).ok_or_else(|| broken("report data"))?;
    let (report, table) = platform.evidence(rd, measurement);
    let request = AttestRequest {
        nonce: encode_b64(&nonce),
        evidence: encode_b64(&report),
        public_key: PublicKey {
            kem: key.kem,
            key: encode_b64(&key.public),
        },
        collateral: Some(AttestCollateral {
            cert_table: Some(encode_b64(&table)),
            event_log: None,
        }),
        secrets: vec!["disk-key".into()],
    };
    let body = serde_json::to_value(&request).map_err(broken)?;
    let (status, answer) = call(agent, "POST", &format!("{url}/v1/attest"), None, &body)?;
    Ok((key, status, answer))
}

fn act(url: &str, data: &Path, platform: &LiveSnp) -> Result<bool, Failure> {
    let agent = crate::remote::agent(crate::remote::roots_from(&data.join("tls/cert.pem"))?);
    let token = std::fs::read_to_string(data.join("admin-token")).map_err(broken)?;
    let token = token.trim();
    let measurement = LiveSnp::measurement_default();
    let policy = format!(
        "[policy]\nname = \"web\"\n[snp]\nmeasurements = [\"{}\"]\n",
        hex::encode(measurement)
    );
    let (s1, _) = call(
        &agent,
        "PUT",
        &format!("{url}/v1/admin/policies/web"),
        Some(token),
        &Value::String(policy),
    )?;
    let (s2, _) = call(
        &agent,
        "PUT",
        &format!("{url}/v1/admin/secrets/disk-key"),
        Some(token),
        &json!({ "policy": "web", "value": encode_b64(SECRET) }),
    )?;
    if s1 != 201 || s2 != 201 {
        return Err(broken(format!("the admin API answered {s1} and {s2}")));
    }
    outln!(
        "   operator: policy \"web\" pins measurement {}…; secret \"disk-key\" is guarded by it",
        &hex::encode(measurement)[..16]
    );

    outln!(
        "── 7. a SIMULATED guest (testkit evidence, FAKE AMD keys) attests and receives its secret"
    );
    let (key, status, answer) = guest(&agent, url, platform, measurement)?;
    let accepted = status == 200
        && serde_json::from_value::<AttestResponse>(answer.clone())
            .ok()
            .and_then(|r| {
                let s = r.secrets.first()?.clone();
                let opened = key
                    .open(&s.name, &decode_b64(&s.enc)?, &decode_b64(&s.ciphertext)?)
                    .ok()?;
                outln!("   HTTP 200: an EAR token ({} bytes) and \"disk-key\" sealed to the guest's X25519 key", r.token.len());
                outln!("   the guest opens it: {:?}", String::from_utf8_lossy(&opened));
                Some(opened == SECRET)
            })
            .unwrap_or(false);
    if !accepted {
        outln!("   unexpected answer: HTTP {status} {answer}");
    }

    outln!("── 8. a SIMULATED guest that booted another image asks for the same secret");
    let mut other = measurement;
    if let Some(b) = other.first_mut() {
        *b ^= 0xff;
    }
    let (_, status, answer) = guest(&agent, url, platform, other)?;
    let refused = match serde_json::from_value::<Problem>(answer.clone()) {
        Ok(p) if status == 422 && p.code == "policy.refused" => {
            outln!("   HTTP 422 {}: {}", p.code, p.detail);
            for r in &p.rules {
                outln!("   ✗ {}: actual {}", r.rule, r.actual);
            }
            p.rules.iter().any(|r| r.rule == "snp.measurements")
        }
        _ => {
            outln!("   unexpected answer: HTTP {status} {answer}");
            false
        }
    };
    outln!();
    Ok(accepted && refused)
}
