//! The attestation service end to end: the real `cogito` binary serving on
//! a loopback port, once on its embedded SQLite store and once on
//! PostgreSQL; guests that attest with testkit evidence (SEV-SNP, TDX, CCA)
//! made for each fresh nonce and key, and open their secrets with an
//! independent HPKE implementation; the operator's side through the CLI;
//! and every refusal the protocol promises, each with its status and code.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::time::Duration;

use cogito_protocol::{decode_b64, encode_b64, AttestCollateral, Kem};
use cogito_testkit::{LiveSnp, LiveTdx};
use serde_json::Value;
use support::*;

/// One guest's whole round trip: challenge, evidence, attest.
fn attest(
    c: &Client,
    world: &World,
    tee: &str,
    kem: Kem,
    secrets: &[&str],
) -> (GuestKey, Vec<u8>, Answer) {
    let key = GuestKey::new(kem);
    let nonce = c.challenge(tee);
    let (evidence, table) = world.evidence(tee, &nonce, &key, None);
    let a = c.attest(&request(&nonce, &evidence, &key, table.as_deref(), secrets));
    (key, nonce, a)
}

fn jwks_verifies(c: &Client, token: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let kid = header.kid.unwrap();
    let jwks = c.get("/v1/keys", None).json();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the token's kid is in /v1/keys");
    assert!(jwk.get("d").is_none(), "no private part in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_ec_components(
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap(),
    )
    .unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .expect("the token verifies with the JWKS key")
        .claims
}

/// Everything a single server must do, on the store `serve_args` names.
fn full_protocol(tag: &str, store: &[String]) {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let mut args = world.files(tmp.path());
    args.extend(store.iter().cloned());
    args.extend(["--nonce-lifetime", "4", "--token-lifetime", "4"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.path().join(format!("data-{tag}")), &args);
    let c = server.client();
    let policies = tmp.path().join("policies");
    let pf = |name: &str| policies.join(name).display().to_string();

    // --- The operator: the admin API is closed, then set up via the CLI.
    refused(
        &c.get("/v1/admin/policies", None),
        401,
        "admin.unauthorized",
    );
    refused(
        &c.get("/v1/admin/policies", Some("cgt_000000000000_nope")),
        401,
        "admin.unauthorized",
    );
    let out = server.cli_ok(&["policy", "push", &pf("fleet.toml")]);
    assert!(
        out.contains("refvalues refvalues/measurements.toml: version 1"),
        "{out}"
    );
    assert!(out.contains("policy fleet: version 1"), "{out}");
    // Pushed again unchanged, the include is not versioned again.
    let again = server.cli_ok(&["policy", "push", &pf("fleet.toml")]);
    assert!(again.contains("unchanged (version 1)"), "{again}");
    assert!(again.contains("policy fleet: version 2"), "{again}");
    server.cli_ok(&["policy", "push", &pf("nobody.toml")]);
    let value_file = tmp.path().join("disk-key.bin");
    std::fs::write(&value_file, b"disk key \x00\x01\x02 of the fleet").unwrap();
    let vf = value_file.display().to_string();
    server.cli_ok(&[
        "secret",
        "put",
        "disk-key",
        "--policy",
        "fleet",
        "--value-file",
        &vf,
    ]);
    let (code, _, err) = server.cli_with(
        &["secret", "put", "api-token", "--policy", "fleet"],
        &[],
        Some(b"api token from stdin"),
    );
    assert_eq!(code, 0, "{err}");
    server.cli_ok(&[
        "secret",
        "put",
        "locked",
        "--policy",
        "nobody",
        "--value-file",
        &vf,
    ]);
    // A secret's value comes back to the operator exactly.
    assert_eq!(
        server.cli_ok(&["secret", "get", "api-token"]),
        "api token from stdin"
    );
    // A KBS resource path is a secret name too.
    server.cli_ok(&[
        "secret",
        "put",
        "default/key/kbs",
        "--policy",
        "fleet",
        "--value-file",
        &vf,
    ]);
    assert_eq!(
        server
            .cli_ok(&["secret", "get", "default/key/kbs"])
            .as_bytes(),
        b"disk key \x00\x01\x02 of the fleet"
    );
    let (code, _, err) = server.cli(&["secret", "put", "default/../x", "--policy", "fleet"]);
    assert_ne!(code, 0);
    assert!(err.contains("usage.name"), "{err}");
    let listed = server.cli_ok(&["secret", "list"]);
    assert!(
        listed.contains("disk-key") && listed.contains("locked"),
        "{listed}"
    );
    assert!(!listed.contains("of the fleet"), "values are never listed");
    // TDX collateral for an air-gapped site.
    let out = server.cli_ok(&[
        "collateral",
        "import",
        &tmp.path().join("tdx-bundle").display().to_string(),
    ]);
    assert!(out.contains("stored tdx/"), "{out}");

    // --- Guests of all three platforms, both KEMs.
    for (tee, kem) in [
        ("snp", Kem::X25519),
        ("snp", Kem::P256),
        ("tdx", Kem::P256),
        ("tdx", Kem::X25519),
        ("cca", Kem::X25519),
    ] {
        let (key, _, a) = attest(&c, &world, tee, kem, &["disk-key", "api-token"]);
        let r = accepted(&a);
        assert_eq!(r.secrets.len(), 2, "{tee}");
        assert_eq!(
            key.open(&r.secrets[0]).expect("the guest opens its secret"),
            b"disk key \x00\x01\x02 of the fleet",
            "{tee}"
        );
        assert_eq!(key.open(&r.secrets[1]).unwrap(), b"api token from stdin");
        // The EAR verifies with the published key and says what it should.
        let claims = jwks_verifies(&c, &r.token);
        assert_eq!(claims["eat_profile"], "tag:github.com,2023:veraison/ear");
        let sub = &claims["submods"]["cogito:fleet"];
        assert_eq!(sub["ear_status"], "affirming", "{tee}: {claims}");
        assert!(
            sub["ear_appraisal_policy_ids"][0]
                .as_str()
                .unwrap()
                .starts_with("policy:fleet#sha256:"),
            "{claims}"
        );
        assert!(sub["ear_trustworthiness_vector"].is_object(), "{claims}");
        assert!(sub["ear_veraison_key_attestation"]["akpub"].is_string());
        // One more secret with the token.
        let more = c.get("/v1/secrets/disk-key", Some(&r.token));
        assert_eq!(more.status, 200, "{}", String::from_utf8_lossy(&more.body));
        let sealed: cogito_protocol::SealedSecret = serde_json::from_slice(&more.body).unwrap();
        assert_eq!(
            key.open(&sealed).unwrap(),
            b"disk key \x00\x01\x02 of the fleet"
        );
    }

    // --- Refusals, each with its status and code.
    // A replayed nonce.
    let key = GuestKey::new(Kem::X25519);
    let nonce = c.challenge("snp");
    let (ev, table) = world.evidence("snp", &nonce, &key, None);
    let req = request(&nonce, &ev, &key, table.as_deref(), &["disk-key"]);
    accepted(&c.attest(&req));
    refused(&c.attest(&req), 409, "nonce.replayed");

    // A nonce MAC'd by another server's key.
    let other = Served::start(&tmp.path().join(format!("other-{tag}")), &args[..7]);
    let foreign = other.client().challenge("snp");
    drop(other);
    let (ev, table) = world.evidence("snp", &foreign, &key, None);
    refused(
        &c.attest(&request(
            &foreign,
            &ev,
            &key,
            table.as_deref(),
            &["disk-key"],
        )),
        400,
        "nonce.invalid",
    );
    // A nonce for another platform.
    let nonce = c.challenge("tdx");
    let (ev, table) = world.evidence("snp", &nonce, &key, None);
    refused(
        &c.attest(&request(&nonce, &ev, &key, table.as_deref(), &["disk-key"])),
        422,
        "nonce.tee_mismatch",
    );
    // Report data bound to another key: the secrets would go to a key the
    // TEE never vouched for.
    let nonce = c.challenge("snp");
    let thief = GuestKey::new(Kem::X25519);
    let (ev, table) = world.evidence("snp", &nonce, &key, None);
    refused(
        &c.attest(&request(
            &nonce,
            &ev,
            &thief,
            table.as_deref(),
            &["disk-key"],
        )),
        422,
        "attest.binding_mismatch",
    );
    // Evidence that fails verification: one byte of the signed report
    // changed.
    let nonce = c.challenge("snp");
    let (mut ev, table) = world.evidence("snp", &nonce, &key, None);
    ev[0x1f] ^= 1;
    let a = c.attest(&request(&nonce, &ev, &key, table.as_deref(), &["disk-key"]));
    let p = a.problem();
    assert_eq!(a.status, 422, "{p:?}");
    assert!(p.code.starts_with("snp."), "{p:?}");
    // The same nonce still works afterwards: a refused attempt does not
    // consume it.
    let (ev, table) = world.evidence("snp", &nonce, &key, None);
    accepted(&c.attest(&request(&nonce, &ev, &key, table.as_deref(), &["disk-key"])));
    // Evidence the policy refuses: a tampered measurement, the rule named
    // with its actual value, no secret material in the answer.
    let nonce = c.challenge("snp");
    let (ev, table) = world.evidence("snp", &nonce, &key, Some([0xee; 48]));
    let a = c.attest(&request(&nonce, &ev, &key, table.as_deref(), &["disk-key"]));
    let p = refused(&a, 422, "policy.refused");
    assert_eq!(p.secret.as_deref(), Some("disk-key"));
    assert_eq!(p.policy.as_deref(), Some("fleet"));
    let rule = p
        .rules
        .iter()
        .find(|r| r.rule == "snp.measurements")
        .unwrap_or_else(|| panic!("{p:?}"));
    assert!(rule.actual.contains(&"ee".repeat(48)), "{rule:?}");
    assert!(
        rule.expected.is_none(),
        "explain = rules hides expected values"
    );
    assert!(!String::from_utf8_lossy(&a.body).contains("of the fleet"));
    // An unknown secret.
    let nonce = c.challenge("snp");
    let (ev, table) = world.evidence("snp", &nonce, &key, None);
    refused(
        &c.attest(&request(
            &nonce,
            &ev,
            &key,
            table.as_deref(),
            &["no-such-secret"],
        )),
        404,
        "secret.unknown",
    );
    // A secret whose policy refuses this guest.
    let p = refused(
        &c.attest(&request(
            &nonce,
            &ev,
            &key,
            table.as_deref(),
            &["disk-key", "locked"],
        )),
        422,
        "policy.refused",
    );
    assert_eq!(p.policy.as_deref(), Some("nobody"));
    assert!(
        p.rules.iter().any(|r| r.rule == "snp.measurements"),
        "{p:?}"
    );
    // Malformed: bad base64, no secrets, a key of the wrong size.
    let mut bad = request(&nonce, &ev, &key, table.as_deref(), &["disk-key"]);
    bad.evidence = "%%%".into();
    refused(&c.attest(&bad), 400, "request.bad_base64");
    let mut bad = request(&nonce, &ev, &key, table.as_deref(), &[]);
    refused(&c.attest(&bad), 400, "request.malformed");
    bad.secrets = vec!["disk-key".into()];
    bad.public_key.key = encode_b64(&[1; 31]);
    refused(&c.attest(&bad), 400, "request.malformed");
    bad.public_key = key.public_key();
    bad.collateral = Some(AttestCollateral {
        cert_table: Some("!".into()),
        event_log: None,
    });
    refused(&c.attest(&bad), 400, "request.bad_base64");
    // Secrets per request: at the limit (64, the default) accepted, one
    // past it refused before anything is verified, and its nonce unspent.
    let key64 = GuestKey::new(Kem::X25519);
    let nonce64 = c.challenge("snp");
    let (ev64, table64) = world.evidence("snp", &nonce64, &key64, None);
    let mut many = request(
        &nonce64,
        &ev64,
        &key64,
        table64.as_deref(),
        &["disk-key"; 65],
    );
    refused(&c.attest(&many), 400, "request.too_many_secrets");
    many.secrets.truncate(64);
    let at_limit = accepted(&c.attest(&many));
    assert_eq!(
        at_limit.secrets.len(),
        1,
        "a name given 64 times is sealed once"
    );
    // Evidence at the limit (256 KiB decoded) is read and refused for what
    // it is; one byte more is refused for its size.
    let at = request(&nonce64, &vec![0u8; 256 << 10], &key64, None, &["disk-key"]);
    let a = c.attest(&at);
    assert_ne!(a.status, 413, "{}", String::from_utf8_lossy(&a.body));
    assert!(
        matches!(a.status, 400 | 422),
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let past = request(
        &nonce64,
        &vec![0u8; (256 << 10) + 1],
        &key64,
        None,
        &["disk-key"],
    );
    refused(&c.attest(&past), 413, "request.evidence_too_large");
    // Oversized bodies.
    let big = vec![b'a'; 2 << 20];
    refused(&c.post_bytes("/v1/attest", &big), 413, "request.too_large");

    // Tokens: another guest's, a tampered one, one for a secret its
    // policies did not grant.
    let (owner, _, a) = attest(&c, &world, "snp", Kem::X25519, &["disk-key"]);
    let token = accepted(&a).token;
    let other_guest = GuestKey::new(Kem::X25519);
    let s: cogito_protocol::SealedSecret =
        serde_json::from_slice(&c.get("/v1/secrets/disk-key", Some(&token)).body).unwrap();
    assert!(
        other_guest.open(&s).is_none(),
        "another guest holding the token cannot open what it fetches"
    );
    assert!(owner.open(&s).is_some());
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut payload = decode_b64_url(&parts[1]);
    let text = String::from_utf8(payload.clone()).unwrap();
    payload = text.replace("cogito:fleet", "cogito:fleeT").into_bytes();
    parts[1] = encode_b64_url(&payload);
    refused(
        &c.get("/v1/secrets/disk-key", Some(&parts.join("."))),
        401,
        "token.invalid",
    );
    // The header's alg set to none (signature dropped), the kid changed,
    // and the same claims signed by a key that is not the service's under
    // its kid: each refused.
    let header: Value = serde_json::from_slice(&decode_b64_url(&parts[0])).unwrap();
    let good: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut none = header.clone();
    none["alg"] = "none".into();
    let alg_none = format!(
        "{}.{}.",
        encode_b64_url(&serde_json::to_vec(&none).unwrap()),
        good[1]
    );
    refused(
        &c.get("/v1/secrets/disk-key", Some(&alg_none)),
        401,
        "token.invalid",
    );
    let mut other_kid = header.clone();
    other_kid["kid"] = "0000000000000000".into();
    let kid_changed = format!(
        "{}.{}.{}",
        encode_b64_url(&serde_json::to_vec(&other_kid).unwrap()),
        good[1],
        good[2]
    );
    refused(
        &c.get("/v1/secrets/disk-key", Some(&kid_changed)),
        401,
        "token.invalid",
    );
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let claims: Value = serde_json::from_slice(&decode_b64_url(&good[1])).unwrap();
    let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    jwt_header.kid = header["kid"].as_str().map(str::to_string);
    let impostor = jsonwebtoken::encode(
        &jwt_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
    .unwrap();
    refused(
        &c.get("/v1/secrets/disk-key", Some(&impostor)),
        401,
        "token.invalid",
    );
    refused(&c.get("/v1/secrets/disk-key", None), 401, "token.missing");
    refused(
        &c.get("/v1/secrets/locked", Some(&token)),
        403,
        "token.not_authorized",
    );

    // --- The operator again: tokens with scopes, revocation, a bad policy
    // upload that leaves the version in force, history, audit.
    let read = server.cli_ok(&["token", "create", "--scope", "read", "--note", "dashboards"]);
    let read = read.trim().to_string();
    let (code, _, err) = server.cli_with(
        &["policy", "push", &pf("nobody.toml")],
        &[("COGITO_TOKEN", &read)],
        None,
    );
    assert_ne!(code, 0);
    assert!(err.contains("admin.forbidden"), "{err}");
    assert_eq!(c.get("/v1/admin/policies", Some(&read)).status, 200);
    let id = read.split('_').nth(1).unwrap().to_string();
    server.cli_ok(&["token", "revoke", &id]);
    refused(
        &c.get("/v1/admin/policies", Some(&read)),
        401,
        "admin.unauthorized",
    );
    let tokens = server.cli_ok(&["token", "list"]);
    assert!(tokens.contains("REVOKED"), "{tokens}");
    assert!(!tokens.contains(&read), "tokens are never listed");

    let broken = tmp.path().join("fleet-broken.toml");
    std::fs::write(
        &broken,
        "[policy]\nname = \"fleet\"\n[snp]\nmeasurement = [\"00\"]\n",
    )
    .unwrap();
    let (code, _, err) = server.cli(&[
        "policy",
        "push",
        &broken.display().to_string(),
        "--name",
        "fleet",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("admin.policy_invalid"), "{err}");
    assert!(
        err.contains(":4"),
        "the loader's line is in the message: {err}"
    );
    let pulled = server.cli_ok(&["policy", "pull", "fleet"]);
    assert!(
        pulled.contains("include = [\"refvalues/measurements.toml\"]"),
        "{pulled}"
    );
    let (_, _, a) = attest(&c, &world, "tdx", Kem::P256, &["disk-key"]);
    accepted(&a);
    // A new version is served at once (well, within the policy cache's
    // second) and history shows both.
    let v2 = tmp.path().join("fleet-v2.toml");
    std::fs::write(
        &v2,
        format!(
            "[policy]\nname = \"fleet\"\n[tdx]\nmrtd = [\"{}\"]\n",
            hex(&LiveTdx::mrtd_default())
        ),
    )
    .unwrap();
    server.cli_ok(&[
        "policy",
        "push",
        &v2.display().to_string(),
        "--name",
        "fleet",
    ]);
    let history = server.cli_ok(&["policy", "history", "fleet"]);
    assert_eq!(history.lines().count(), 4, "{history}");
    std::thread::sleep(Duration::from_millis(1100));
    let (_, _, a) = attest(&c, &world, "snp", Kem::X25519, &["disk-key"]);
    let p = refused(&a, 422, "policy.refused");
    assert!(p.rules.iter().any(|r| r.rule == "policy.platform"), "{p:?}");
    let audit = server.cli_ok(&["audit", "--json"]);
    let audit: Value = serde_json::from_str(&audit).unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for want in [
        "policy.put",
        "refvalues.put",
        "secret.put",
        "secret.read",
        "token.create",
        "token.revoke",
        "collateral.import",
    ] {
        assert!(actions.contains(&want), "{want} not in {actions:?}");
    }

    // Key rotation: tokens of the old key still verify until they expire.
    let (_, _, a) = attest(&c, &world, "tdx", Kem::P256, &["disk-key"]);
    let old_token = accepted(&a).token;
    server.cli_ok(&["admin", "rotate-signing-key"]);
    assert_eq!(
        c.get("/v1/keys", None).json()["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(c.get("/v1/secrets/disk-key", Some(&old_token)).status, 200);

    // Expiry: a nonce and a token past their lifetimes.
    let nonce = c.challenge("tdx");
    std::thread::sleep(Duration::from_millis(5100));
    let (ev, _) = world.evidence("tdx", &nonce, &key, None);
    refused(
        &c.attest(&request(&nonce, &ev, &key, None, &["disk-key"])),
        410,
        "nonce.expired",
    );
    refused(
        &c.get("/v1/secrets/disk-key", Some(&old_token)),
        401,
        "token.invalid",
    );

    // Metrics saw all of it; logs never carry a secret or a token.
    let metrics = String::from_utf8(c.get("/metrics", None).body).unwrap();
    for series in [
        "cogito_verdicts_total{",
        "cogito_http_requests_total{",
        "cogito_verify_seconds_bucket",
        "cogito_secrets_released_total",
    ] {
        assert!(metrics.contains(series), "{series} missing from /metrics");
    }
    // Every series the Grafana dashboard in contrib/ queries is one this
    // server exports.
    let dashboard: Value = serde_json::from_slice(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../contrib/grafana/cogito.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() >= 10, "{exprs:?}");
    for expr in &exprs {
        for series in metric_names(expr) {
            assert!(
                metrics
                    .lines()
                    .any(|l| l.starts_with(&format!("{series}{{"))
                        || l.starts_with(&format!("{series} "))),
                "the dashboard queries {series}, which /metrics does not export ({expr})"
            );
        }
    }
    // A copy of the store without the KEK reveals no secret.
    if tag == "sqlite" {
        for f in ["cogito.db", "cogito.db-wal"] {
            let bytes = std::fs::read(server.data_dir.join(f)).unwrap_or_default();
            assert!(
                !bytes.windows(12).any(|w| w == b"of the fleet"),
                "{f} holds a secret in the clear"
            );
            assert!(!bytes.windows(20).any(|w| w == b"api token from stdin"));
        }
    }
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains("of the fleet"), "a secret in the logs");
    assert!(!log.contains(&token), "a token in the logs");
    assert!(
        !log.contains(&server.admin_token()),
        "the admin token in the logs"
    );
}

fn collect_exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr", Value::String(e)) => out.push(e.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

/// The `cogito_…` series names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find("cogito_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

fn decode_b64_url(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn encode_b64_url(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[test]
fn the_whole_protocol_on_sqlite() {
    full_protocol("sqlite", &[]);
}

#[test]
fn the_whole_protocol_on_postgresql() {
    let Some(db) = PgDb::create("e2e") else {
        return;
    };
    full_protocol("pg", &["--store".to_string(), db.url.clone()]);
}

#[test]
fn the_first_start_writes_an_admin_token_0600_and_a_pinnable_certificate() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let server = Served::start(tmp.path(), &["--offline"]);
    for f in ["admin-token", "kek", "tls/key.pem"] {
        let mode = std::fs::metadata(tmp.path().join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let token = server.admin_token();
    assert!(token.starts_with("cgt_"));
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        log.contains("admin-token"),
        "the log says where the token is"
    );
    assert!(!log.contains(&token), "but not the token");
    assert!(log.contains("fingerprint"), "{log}");
    let c = server.client();
    assert_eq!(c.get("/healthz", None).status, 200);
    assert_eq!(c.get("/readyz", None).status, 200);
    let api = c.get("/v1/openapi.json", None).json();
    assert!(api["openapi"].as_str().unwrap().starts_with("3.1"), "{api}");
    for path in [
        "/v1/challenge",
        "/v1/attest",
        "/v1/secrets/{name}",
        "/v1/keys",
    ] {
        assert!(
            api["paths"].get(path).is_some(),
            "{path} not in the OpenAPI document"
        );
    }
    refused(&c.get("/v1/nowhere", None), 404, "request.no_such_route");
    refused(
        &c.post_json("/v1/challenge", &serde_json::json!({"tee": "sgx"})),
        400,
        "request.malformed",
    );
    // A restart keeps the token, the keys and the certificate.
    let jwks = c.get("/v1/keys", None).json();
    drop(server);
    // Recovery of a lost admin token, on the machine, without a server.
    let out = std::process::Command::new(BIN)
        .args(["admin", "new-token", "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recovered = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(recovered.starts_with("cgt_") && recovered != token);
    let again = Served::start(tmp.path(), &["--offline"]);
    assert_eq!(again.admin_token(), token);
    let c = again.client();
    assert_eq!(c.get("/v1/keys", None).json(), jwks);
    assert_eq!(c.get("/v1/admin/tokens", Some(&recovered)).status, 200);
    assert_eq!(c.get("/v1/admin/tokens", Some(&token)).status, 200);
}

#[test]
fn a_policy_directory_is_served_and_reloaded() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let mut args = world.files(tmp.path());
    let dir = tmp.path().join("served-policies");
    std::fs::create_dir_all(&dir).unwrap();
    let accept = format!(
        "[policy]\nname = \"files\"\n[snp]\nmeasurements = [\"{}\"]\n",
        hex(&LiveSnp::measurement_default())
    );
    std::fs::write(dir.join("files.toml"), &accept).unwrap();
    args.extend(["--policy-dir".to_string(), dir.display().to_string()]);
    args.extend(["--explain".to_string(), "full".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.path().join("data"), &args);
    let c = server.client();
    server.cli_with(
        &["secret", "put", "k", "--policy", "files"],
        &[],
        Some(b"v"),
    );
    let (_, _, a) = attest(&c, &world, "snp", Kem::X25519, &["k"]);
    accepted(&a);
    // A broken file is refused and the loaded version stays.
    std::fs::write(
        dir.join("files.toml"),
        "[policy]\nname = \"files\"\n[snp]\nbogus = 1\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let (_, _, a) = attest(&c, &world, "snp", Kem::X25519, &["k"]);
    accepted(&a);
    // A valid change replaces it.
    std::fs::write(
        dir.join("files.toml"),
        accept.replace(&hex(&LiveSnp::measurement_default()), &"11".repeat(48)),
    )
    .unwrap();
    let started = std::time::Instant::now();
    loop {
        let (_, _, a) = attest(&c, &world, "snp", Kem::X25519, &["k"]);
        if a.status == 422 {
            let p = refused(&a, 422, "policy.refused");
            // explain = full: the expected values too.
            let r = p
                .rules
                .iter()
                .find(|r| r.rule == "snp.measurements")
                .unwrap();
            assert!(
                r.expected
                    .as_deref()
                    .is_some_and(|e| e.contains(&"11".repeat(48))),
                "{r:?}"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the change was not picked up"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // A deleted file is no longer served.
    std::fs::remove_file(dir.join("files.toml")).unwrap();
    let started = std::time::Instant::now();
    loop {
        let (_, _, a) = attest(&c, &world, "snp", Kem::X25519, &["k"]);
        if a.status == 500 {
            refused(&a, 500, "secret.policy_missing");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the deletion was not picked up"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = decode_b64("");
}

#[test]
fn explain_none_names_no_rule_and_limits_answer_429() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let mut args = world.files(tmp.path());
    // Rate 1/s with a burst of 40 for this client; explain = none.
    let config = tmp.path().join("cogito.toml");
    std::fs::write(
        &config,
        "explain = \"none\"\n[limits]\nrate_per_second = 1\nrate_burst = 40\n",
    )
    .unwrap();
    // World::files turns the rate limit off; the configuration turns it on.
    let i = args.iter().position(|a| a == "--rate-limit").unwrap();
    args.drain(i..i + 2);
    args.extend(["--config".to_string(), config.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.path().join("data"), &args);
    let c = server.client();
    server.cli_ok(&[
        "policy",
        "push",
        &tmp.path()
            .join("policies/nobody.toml")
            .display()
            .to_string(),
    ]);
    server.cli_with(
        &["secret", "put", "k", "--policy", "nobody"],
        &[],
        Some(b"v"),
    );
    let (_, _, a) = attest(&c, &world, "snp", Kem::X25519, &["k"]);
    let p = refused(&a, 422, "policy.refused");
    assert!(p.rules.is_empty(), "explain = none: {p:?}");
    assert_eq!(p.secret.as_deref(), Some("k"));
    // The burst spent, the next requests are refused with Retry-After.
    let mut limited = None;
    for _ in 0..60 {
        let a = c.get("/healthz", None);
        if a.status == 429 {
            limited = Some(a);
            break;
        }
    }
    let a = limited.expect("no 429 after the burst");
    refused(&a, 429, "request.rate_limited");
    assert!(a.headers.get("retry-after").is_some());
}
