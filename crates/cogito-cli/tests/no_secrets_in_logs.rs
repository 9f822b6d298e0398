//! What must never reach a log: the service runs with every target at
//! `trace` while an operator stores secrets and guests fetch them over
//! both protocols (`/v1` and `/kbs/v0`); then every log line is searched
//! for the secret's value, the KEK, the admin token, the attestation
//! tokens and the KBS session cookie, in the forms they travel in (raw,
//! hex, base64). None may appear.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use base64::Engine as _;
use cogito_protocol::Kem;
use cogito_testkit::LiveTdx;
use serde_json::{json, Value};
use sha2::Digest as _;
use support::*;

#[test]
fn trace_logs_hold_no_secret_key_or_credential() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let args = world.files(tmp.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = tmp.path().join("data");
    let server = Served::start_logging(&data, &args, "trace");
    let c = server.client();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let b64url = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);

    // The operator's side.
    let policies = tmp.path().join("policies");
    server.cli_ok(&[
        "policy",
        "push",
        &policies.join("fleet.toml").display().to_string(),
    ]);
    let secret = format!(
        "SECRET-{}",
        hex(&sha2::Sha256::digest(b"no secrets in logs"))
    );
    let value = tmp.path().join("value");
    std::fs::write(&value, &secret).unwrap();
    let vf = value.display().to_string();
    for name in ["disk-key", "default/key/trace"] {
        server.cli_ok(&[
            "secret",
            "put",
            name,
            "--policy",
            "fleet",
            "--value-file",
            &vf,
        ]);
    }
    let collateral = tmp.path().join("tdx-bundle").display().to_string();
    server.cli_ok(&["collateral", "import", &collateral]);

    // A /v1 guest: attest, then one more secret with its token.
    let key = GuestKey::new(Kem::X25519);
    let nonce = c.challenge("tdx");
    let (evidence, table) = world.evidence("tdx", &nonce, &key, None);
    let answer = accepted(&c.attest(&request(
        &nonce,
        &evidence,
        &key,
        table.as_deref(),
        &["disk-key"],
    )));
    assert_eq!(key.open(&answer.secrets[0]).unwrap(), secret.as_bytes());
    let again = c.get("/v1/secrets/disk-key", Some(&answer.token));
    assert_eq!(again.status, 200);

    // A KBS guest, TDX, with a P-256 tee key.
    let a = c.post_json(
        "/kbs/v0/auth",
        &json!({"version": "0.4.0", "tee": "tdx", "extra-params": ""}),
    );
    assert_eq!(a.status, 200);
    let cookie = a
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let kbs_nonce = a.json()["nonce"].as_str().unwrap().to_string();
    let point = GuestKey::new(Kem::P256).public;
    let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
        "x": b64url(&point[1..33]), "y": b64url(&point[33..65])});
    let runtime = json!({"nonce": kbs_nonce, "tee-pubkey": jwk, "additional-evidence": ""});
    let mut rd = [0u8; 64];
    rd[..48].copy_from_slice(&sha2::Sha384::digest(
        cogito_testkit::jcs::canonical(&runtime).as_bytes(),
    ));
    let quote = world.tdx.quote(rd, LiveTdx::mrtd_default());
    let body = json!({
        "runtime-data": {"nonce": kbs_nonce, "tee-pubkey": jwk},
        "tee-evidence": {"primary_evidence": {"quote": b64(&quote)}, "additional_evidence": ""},
    });
    let a = c.send_with(
        "POST",
        "/kbs/v0/attest",
        &[("cookie", &cookie)],
        Some(&serde_json::to_vec(&body).unwrap()),
    );
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let kbs_token = a.json()["token"].as_str().unwrap().to_string();
    let r = c.send_with(
        "GET",
        "/kbs/v0/resource/default/key/trace",
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    // Let the last lines arrive, then search every one.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = server.log.lock().unwrap().join("\n");
    let levels: std::collections::BTreeSet<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["level"].as_str().map(str::to_string))
        .collect();
    // The filter is `trace`; what the dependencies emit at that level is
    // theirs to choose (a run here shows DEBUG as the lowest), so the
    // check is that the run logged below INFO at all.
    assert!(
        levels.contains("DEBUG") || levels.contains("TRACE"),
        "the log is below info: levels {levels:?}, {} lines, first: {}",
        log.lines().count(),
        log.lines().next().unwrap_or_default()
    );
    // A positive control: what the requests did is in the log, so the
    // search below reads the lines that would hold a leak.
    assert!(
        log.contains("/kbs/v0/resource/default/key/trace"),
        "requests are logged"
    );
    let kek = std::fs::read(data.join("kek")).unwrap();
    let admin = server.admin_token();
    let cookie_value = cookie.split_once('=').unwrap().1.to_string();
    let forbidden: Vec<(&str, String)> = vec![
        ("the secret", secret.clone()),
        ("the secret, base64", b64(secret.as_bytes())),
        ("the KEK, hex", hex(&kek)),
        ("the KEK, base64", b64(&kek)),
        ("the admin token", admin.clone()),
        ("the /v1 token", answer.token.clone()),
        (
            "the /v1 token's signature",
            answer.token.rsplit('.').next().unwrap().to_string(),
        ),
        ("the KBS token", kbs_token.clone()),
        ("the KBS session cookie", cookie_value),
        ("a sealed secret", answer.secrets[0].ciphertext.clone()),
    ];
    for (what, needle) in &forbidden {
        assert!(needle.len() >= 16, "{what} is long enough to search for");
        assert!(
            !log.contains(needle.as_str()),
            "{what} appears in the trace log:\n{}",
            log.lines()
                .filter(|l| l.contains(needle.as_str()))
                .take(3)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
