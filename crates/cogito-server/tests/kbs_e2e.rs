//! The KBS protocol end to end, against the real service code on a
//! loopback port: a test client written from Trustee's protocol document
//! and kbs-types performs auth → attest → resource with testkit evidence
//! in the shapes the upstream attesters send (SEV-SNP as the sev crate's
//! JSON, TDX base64, CCA a byte array), for EC and RSA keys, and decrypts
//! each JWE with an independent JOSE implementation (josekit, OpenSSL);
//! then every refusal the protocol promises, by status and code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use cogito_core::{AmdProduct, VerificationTime};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};
use serde_json::{json, Value};
use sha2::Digest as _;

struct World {
    snp: LiveSnp,
    tdx: LiveTdx,
    cca: LiveCca,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

struct Service {
    url: String,
    agent: ureq::Agent,
    admin: String,
    server: Option<cogito_server::Server>,
    rt: tokio::runtime::Runtime,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            let _ = self.rt.block_on(s.shutdown(Duration::from_secs(1)));
        }
    }
}

struct Answer {
    status: u16,
    cookie: Option<String>,
    body: Value,
}

impl Service {
    fn start(world: &World, dir: &Path) -> Service {
        Service::start_with(world, dir, |_| {})
    }

    fn start_with(
        world: &World,
        dir: &Path,
        configure: impl FnOnce(&mut cogito_server::Config),
    ) -> Service {
        let anchors = dir.join("anchors");
        std::fs::create_dir_all(&anchors).unwrap();
        for (name, pem) in world
            .snp
            .anchors_pem()
            .into_iter()
            .chain(world.tdx.anchors_pem())
        {
            std::fs::write(anchors.join(name), pem).unwrap();
        }
        std::fs::write(dir.join("cpak.jwk"), world.cca.cpak_jwk()).unwrap();
        let policies = dir.join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        std::fs::write(
            policies.join("fleet.toml"),
            format!(
                "[policy]\nname = \"fleet\"\n[snp]\nmeasurements = [\"{}\"]\n[tdx]\nmrtd = [\"{}\"]\n[cca]\nrim = [\"{}\"]\n",
                hex(&LiveSnp::measurement_default()),
                hex(&LiveTdx::mrtd_default()),
                hex(&LiveCca::rim_default())
            ),
        )
        .unwrap();
        std::fs::write(
            policies.join("nobody.toml"),
            format!(
                "[policy]\nname = \"nobody\"\n[snp]\nmeasurements = [\"{}\"]\n",
                "00".repeat(48),
            ),
        )
        .unwrap();
        let mut config = cogito_server::Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.join("data"),
            policy_dir: Some(policies),
            ..Default::default()
        };
        config.collateral.online = false;
        config.limits.rate_per_second = 0;
        config.anchors.dir = Some(anchors);
        config.anchors.cca = Some(dir.join("cpak.jwk"));
        configure(&mut config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(cogito_server::start(config, &|_| {})).unwrap();
        let agent: ureq::Agent = if server.scheme == "http" {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into()
        } else {
            let pem = std::fs::read(dir.join("data/tls/cert.pem")).unwrap();
            let ders = cogito_core::anchors::certificates_from_pem_or_der(&pem).unwrap();
            let tls = ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::Rustls)
                .unversioned_rustls_crypto_provider(Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(
                    ders.iter()
                        .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
                        .collect(),
                )))
                .build();
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .tls_config(tls)
                .build()
                .into()
        };
        let s = Service {
            url: server.url(),
            agent,
            // A replica started on a store that has its admin token already
            // writes none.
            admin: std::fs::read_to_string(dir.join("data/admin-token"))
                .unwrap_or_default()
                .trim()
                .to_string(),
            server: Some(server),
            rt,
        };
        if s.admin.is_empty() {
            return s;
        }
        let bundle = dir.join("tdx-bundle");
        std::fs::create_dir_all(&bundle).unwrap();
        for (name, bytes) in world.tdx.collateral_files() {
            std::fs::write(bundle.join(name), bytes).unwrap();
        }
        let files = cogito_collateral::load_tdx_bundle(&bundle)
            .unwrap()
            .unwrap();
        let tdx = cogito_server::collateral::StoredTdx::new(&files.collateral);
        let auth = format!("Bearer {}", s.admin);
        let a = s.send(
            "PUT",
            "/v1/admin/collateral",
            &[("authorization", &auth)],
            Some(&json!({ "tdx": tdx })),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        s
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url))
            .header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let mut resp = self.agent.run(req.body(bytes).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let text = resp.body_mut().read_to_string().unwrap();
        Answer {
            status,
            cookie,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    fn put_secret(&self, name: &str, policy: &str, value: &[u8]) {
        let auth = format!("Bearer {}", self.admin);
        let a = self.send(
            "PUT",
            &format!("/v1/admin/secrets/{name}"),
            &[("authorization", &auth)],
            Some(&json!({
                "policy": policy,
                "value": base64::engine::general_purpose::STANDARD.encode(value),
            })),
        );
        assert!(matches!(a.status, 200 | 201), "{}", a.body);
    }

    /// `POST /kbs/v0/auth`: (cookie, nonce, selected hash).
    fn auth(&self, tee: &str) -> (String, String, String) {
        let a = self.send(
            "POST",
            "/kbs/v0/auth",
            &[],
            Some(&json!({
                "version": "0.4.0",
                "tee": tee,
                "extra-params": { "supported-hash-algorithms": ["sha256", "sha384", "sha512", "sm3"] },
            })),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        let cookie = a.cookie.expect("a session cookie");
        assert!(cookie.starts_with("kbs-session-id="), "{cookie}");
        (
            cookie,
            a.body["nonce"].as_str().unwrap().to_string(),
            a.body["extra-params"]["selected-hash-algorithm"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    }
}

fn refused(a: &Answer, status: u16, code: &str) -> String {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["code"], code, "{}", a.body);
    let t = a.body["type"].as_str().unwrap();
    assert!(
        t.starts_with("https://github.com/confidential-containers/kbs/errors/"),
        "{t}"
    );
    a.body["detail"].as_str().unwrap().to_string()
}

/// The guest's key pair: a josekit decrypter and the public JWK.
struct TeeKey {
    decrypter: Box<dyn josekit::jwe::JweDecrypter>,
    jwk: Value,
}

fn tee_key(kind: &str) -> TeeKey {
    match kind {
        "ec" => {
            let kp = josekit::jwe::ECDH_ES_A256KW
                .generate_ec_key_pair(josekit::jwk::alg::ec::EcCurve::P256)
                .unwrap();
            let mut jwk: Value = serde_json::from_str(&kp.to_jwk_public_key().to_string()).unwrap();
            jwk["alg"] = json!("ECDH-ES+A256KW");
            TeeKey {
                decrypter: Box::new(
                    josekit::jwe::ECDH_ES_A256KW
                        .decrypter_from_jwk(&kp.to_jwk_private_key())
                        .unwrap(),
                ),
                jwk,
            }
        }
        _ => {
            let kp = josekit::jwe::RSA_OAEP_256.generate_key_pair(2048).unwrap();
            let mut jwk: Value = serde_json::from_str(&kp.to_jwk_public_key().to_string()).unwrap();
            jwk["alg"] = json!("RSA-OAEP-256");
            TeeKey {
                decrypter: Box::new(
                    josekit::jwe::RSA_OAEP_256
                        .decrypter_from_jwk(&kp.to_jwk_private_key())
                        .unwrap(),
                ),
                jwk,
            }
        }
    }
}

/// The report data the upstream client computes: SHA-384 over the
/// canonical JSON of the runtime data, zero-padded to 64 bytes.
fn report_data(nonce: &str, jwk: &Value, additional: Option<&str>) -> [u8; 64] {
    let v = match additional {
        Some(a) => json!({ "nonce": nonce, "tee-pubkey": jwk, "additional-evidence": a }),
        None => json!({ "nonce": nonce, "tee-pubkey": jwk }),
    };
    let digest = sha2::Sha384::digest(cogito_testkit::jcs::canonical(&v).as_bytes());
    let mut rd = [0u8; 64];
    rd[..48].copy_from_slice(&digest);
    rd
}

/// Primary evidence as the upstream attester of `tee` sends it.
fn evidence(world: &World, tee: &str, rd: [u8; 64]) -> Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match tee {
        "snp" => {
            let (report, table) = world.snp.evidence(rd, LiveSnp::measurement_default());
            let parsed: sev::firmware::guest::AttestationReport =
                sev::parser::ByteParser::from_bytes(&report).unwrap();
            let entries: Vec<Value> = cogito_snp::parse_cert_table(&table)
                .unwrap()
                .iter()
                .filter_map(|e| {
                    let t = match e.kind {
                        cogito_snp::CertTableKind::Ark => "ARK",
                        cogito_snp::CertTableKind::Ask => "ASK",
                        cogito_snp::CertTableKind::Vcek => "VCEK",
                        _ => return None,
                    };
                    Some(json!({ "cert_type": t, "data": e.data }))
                })
                .collect();
            json!({ "attestation_report": parsed, "cert_chain": entries })
        }
        "tdx" => json!({
            "quote": b64(&world.tdx.quote(rd, LiveTdx::mrtd_default())),
            "cc_eventlog": null,
        }),
        _ => json!({ "token": world.cca.token(rd, LiveCca::rim_default()) }),
    }
}

fn attestation(nonce: &str, jwk: &Value, primary: Value, additional: &str) -> Value {
    json!({
        "runtime-data": { "nonce": nonce, "tee-pubkey": jwk },
        "tee-evidence": { "primary_evidence": primary, "additional_evidence": additional },
    })
}

fn decrypt(key: &TeeKey, jwe: &Value) -> Vec<u8> {
    let (payload, header) =
        josekit::jwe::deserialize_json(&jwe.to_string(), key.decrypter.as_ref()).unwrap();
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    payload
}

fn world() -> World {
    let now = VerificationTime::now().unix();
    World {
        snp: LiveSnp::new(AmdProduct::Genoa, now),
        tdx: LiveTdx::new(now),
        cca: LiveCca::new(),
    }
}

#[test]
fn auth_attest_resource_for_each_platform_and_key_type() {
    let tmp = tempfile::tempdir().unwrap();
    let world = world();
    let svc = Service::start(&world, tmp.path());
    svc.put_secret("default/key/disk", "fleet", b"the disk key \x00\xff");

    for (tee, kind) in [
        ("snp", "ec"),
        ("snp", "rsa"),
        ("tdx", "ec"),
        ("tdx", "rsa"),
        ("cca", "ec"),
    ] {
        let (cookie, nonce, hash) = svc.auth(tee);
        assert_eq!(hash, "sha384", "the protocol's default, offered first");
        let key = tee_key(kind);
        let rd = report_data(&nonce, &key.jwk, Some(""));
        let a = svc.send(
            "POST",
            "/kbs/v0/attest",
            &[("cookie", &cookie)],
            Some(&attestation(
                &nonce,
                &key.jwk,
                evidence(&world, tee, rd),
                "",
            )),
        );
        assert_eq!(a.status, 200, "{tee}/{kind}: {}", a.body);
        let token = a.body["token"].as_str().unwrap().to_string();
        // The claims upstream consumers read.
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        let cpu0 = &claims["submods"]["cpu0"];
        assert_eq!(cpu0["ear.status"], "affirming", "{claims}");
        let annotated = &cpu0["ear.veraison.annotated-evidence"];
        assert_eq!(annotated["runtime_data_claims"]["tee-pubkey"], key.jwk);
        assert!(annotated[tee].is_object(), "{annotated}");

        // By cookie.
        let r = svc.send(
            "GET",
            "/kbs/v0/resource/default/key/disk",
            &[("cookie", &cookie)],
            None,
        );
        assert_eq!(r.status, 200, "{tee}/{kind}: {}", r.body);
        assert_eq!(decrypt(&key, &r.body), b"the disk key \x00\xff");
        // By bearer token, on a request without the cookie.
        let bearer = format!("Bearer {token}");
        let r = svc.send(
            "GET",
            "/kbs/v0/resource/default/key/disk",
            &[("authorization", &bearer)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(decrypt(&key, &r.body), b"the disk key \x00\xff");
    }
}

#[test]
fn every_refusal_by_status_and_code() {
    let tmp = tempfile::tempdir().unwrap();
    let world = world();
    let svc = Service::start(&world, tmp.path());
    svc.put_secret("default/key/disk", "fleet", b"k");
    svc.put_secret("default/key/locked", "nobody", b"never");

    // Another protocol version: refused, naming the supported one.
    let a = svc.send(
        "POST",
        "/kbs/v0/auth",
        &[],
        Some(&json!({"version": "0.1.1", "tee": "snp", "extra-params": ""})),
    );
    assert!(refused(&a, 401, "kbs.version").contains("0.4.0"));
    let a = svc.send(
        "POST",
        "/kbs/v0/auth",
        &[],
        Some(&json!({"version": "0.4.0", "tee": "sgx", "extra-params": ""})),
    );
    refused(&a, 400, "kbs.unsupported_tee");

    let key = tee_key("ec");
    let (cookie, nonce, _) = svc.auth("snp");
    let rd = report_data(&nonce, &key.jwk, Some(""));
    let good = attestation(&nonce, &key.jwk, evidence(&world, "snp", rd), "");
    let attest = |cookie: &str, body: &Value| {
        svc.send("POST", "/kbs/v0/attest", &[("cookie", cookie)], Some(body))
    };
    let get = |path: &str, cookie: &str| svc.send("GET", path, &[("cookie", cookie)], None);

    // No cookie, an unknown cookie.
    refused(
        &svc.send("POST", "/kbs/v0/attest", &[], Some(&good)),
        401,
        "kbs.no_session",
    );
    refused(
        &attest("kbs-session-id=nope", &good),
        401,
        "kbs.unknown_session",
    );
    // A resource before attesting.
    refused(
        &get("/kbs/v0/resource/default/key/disk", &cookie),
        401,
        "kbs.not_attested",
    );
    // The nonce of another session.
    let (other_cookie, _, _) = svc.auth("snp");
    refused(&attest(&other_cookie, &good), 422, "kbs.nonce_mismatch");
    // A tee-pubkey that is not the one the evidence binds.
    let other_key = tee_key("ec");
    let swapped = attestation(&nonce, &other_key.jwk, evidence(&world, "snp", rd), "");
    refused(&attest(&cookie, &swapped), 422, "kbs.binding_mismatch");
    // Tampered evidence: the report's JSON changed, so its bytes no longer
    // carry the signature.
    let mut tampered = good.clone();
    tampered["tee-evidence"]["primary_evidence"]["attestation_report"]["guest_svn"] = json!(7);
    let a = attest(&cookie, &tampered);
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["code"], "snp.report.bad_signature", "{}", a.body);
    // init-data whose digest is not HOST_DATA.
    let mut with_init = good.clone();
    with_init["init-data"] = json!({
        "format": "toml",
        "body": "algorithm = \"sha384\"\nversion = \"0.1.0\"\n[data]\n",
    });
    refused(&attest(&cookie, &with_init), 422, "kbs.init_data_mismatch");
    // Additional evidence of a TEE cogito does not verify: refused by name.
    let additional = r#"{"nvidia":{"evidence":"x"}}"#;
    let rd2 = report_data(&nonce, &key.jwk, Some(additional));
    let with_gpu = attestation(&nonce, &key.jwk, evidence(&world, "snp", rd2), additional);
    let detail = refused(
        &attest(&cookie, &with_gpu),
        422,
        "kbs.additional_evidence_unsupported",
    );
    assert!(detail.contains("nvidia"), "{detail}");

    // The good one, once; a second attestation in the session is a replay.
    let a = attest(&cookie, &good);
    assert_eq!(a.status, 200, "{}", a.body);
    let token = a.body["token"].as_str().unwrap().to_string();
    refused(&attest(&cookie, &good), 409, "kbs.replayed");
    // A resource its policy refuses; one that does not exist.
    let detail = refused(
        &get("/kbs/v0/resource/default/key/locked", &cookie),
        403,
        "kbs.policy_denied",
    );
    assert!(
        detail.contains("nobody") && detail.contains("snp.measurements"),
        "{detail}"
    );
    refused(
        &get("/kbs/v0/resource/default/key/none", &cookie),
        404,
        "kbs.unknown_resource",
    );
    // Another session's cookie reaches only that session: unattested, it
    // gets nothing.
    refused(
        &get("/kbs/v0/resource/default/key/disk", &other_cookie),
        401,
        "kbs.not_attested",
    );
    // A token whose claims were changed.
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(br#"{"cogito.kbs.session":"x","exp":9999999999}"#);
    let forged = format!("Bearer {}", parts.join("."));
    refused(
        &svc.send(
            "GET",
            "/kbs/v0/resource/default/key/disk",
            &[("authorization", &forged)],
            None,
        ),
        401,
        "kbs.token_invalid",
    );
    refused(
        &svc.send("GET", "/kbs/v0/resource/default/key/disk", &[], None),
        401,
        "kbs.no_session",
    );
    // Malformed bodies.
    refused(
        &attest(&other_cookie, &json!({"x": 1})),
        400,
        "kbs.malformed",
    );
}

#[test]
fn trustee_admin_uploads_a_resource_that_a_guest_then_gets() {
    let tmp = tempfile::tempdir().unwrap();
    let world = world();
    // The operator's key pair, as Trustee's docs make one (Ed25519).
    let admin = josekit::jws::EdDSA
        .generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)
        .unwrap();
    let public = tmp.path().join("admin.pub.pem");
    std::fs::write(&public, admin.to_pem_public_key()).unwrap();
    let svc = Service::start_with(&world, tmp.path(), |c| {
        c.kbs.admin_keys = vec![public.clone()];
        c.kbs.default_policy = Some("fleet".into());
    });
    let jwt = |kp: &josekit::jwk::alg::ed::EdKeyPair, exp_in: i64| {
        let signer = josekit::jws::EdDSA
            .signer_from_pem(kp.to_pem_private_key())
            .unwrap();
        let mut header = josekit::jws::JwsHeader::new();
        header.set_token_type("JWT");
        let mut payload = josekit::jwt::JwtPayload::new();
        payload.set_subject("ops");
        let exp = std::time::SystemTime::now()
            .checked_add(Duration::from_secs(exp_in.unsigned_abs()))
            .unwrap();
        let exp = if exp_in < 0 {
            std::time::SystemTime::now()
                .checked_sub(Duration::from_secs(exp_in.unsigned_abs()))
                .unwrap()
        } else {
            exp
        };
        payload.set_expires_at(&exp);
        josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap()
    };
    let upload = |token: Option<&str>, body: &[u8]| {
        let mut req = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}/kbs/v0/resource/alice/key/db", svc.url))
            .header("content-type", "application/octet-stream");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let mut resp = svc.agent.run(req.body(body.to_vec()).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        (status, text)
    };
    // Without a token, with another key's token, with an expired one.
    let (status, text) = upload(None, b"x");
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("kbs.admin_unauthorized"), "{text}");
    let stranger = josekit::jws::EdDSA
        .generate_key_pair(josekit::jwk::alg::ed::EdCurve::Ed25519)
        .unwrap();
    assert_eq!(upload(Some(&jwt(&stranger, 600)), b"x").0, 401);
    assert_eq!(upload(Some(&jwt(&admin, -600)), b"x").0, 401);
    // The operator's token: stored as the secret alice/key/db, audited.
    let (status, text) = upload(Some(&jwt(&admin, 600)), b"db password");
    assert_eq!(status, 200, "{text}");
    let auth = format!("Bearer {}", svc.admin);
    let log = svc.send("GET", "/v1/admin/audit", &[("authorization", &auth)], None);
    assert!(
        log.body.to_string().contains("kbs-admin:ops"),
        "{}",
        log.body
    );

    // A guest gets it.
    let key = tee_key("ec");
    let (cookie, nonce, _) = svc.auth("tdx");
    let rd = report_data(&nonce, &key.jwk, Some(""));
    let a = svc.send(
        "POST",
        "/kbs/v0/attest",
        &[("cookie", &cookie)],
        Some(&attestation(
            &nonce,
            &key.jwk,
            evidence(&world, "tdx", rd),
            "",
        )),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let r = svc.send(
        "GET",
        "/kbs/v0/resource/alice/key/db",
        &[("cookie", &cookie)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(decrypt(&key, &r.body), b"db password");
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/test";

fn pg_exec(sql: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        let mut c = sqlx::PgConnection::connect(PG_ADMIN)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// A database of its own, dropped at the end.
struct PgDb(String);

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = pg_exec(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.0));
    }
}

#[test]
fn a_session_continues_on_another_replica() {
    let name = format!("cogito_kbs_{}", std::process::id());
    if let Err(e) = pg_exec(&format!("CREATE DATABASE {name}")) {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and PostgreSQL is unreachable: {e}"
        );
        eprintln!("NOTICE: skipping a PostgreSQL test, {PG_ADMIN} is unreachable: {e}");
        return;
    }
    let db = PgDb(name);
    let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.0);
    let tmp = tempfile::tempdir().unwrap();
    let world = world();
    let kek = tmp.path().join("kek");
    let shared = |c: &mut cogito_server::Config| {
        c.store = Some(url.clone());
        c.kek_file = Some(kek.clone());
        c.insecure_http = true;
    };
    let a = Service::start_with(&world, &tmp.path().join("a"), shared);
    let b = Service::start_with(&world, &tmp.path().join("b"), shared);
    a.put_secret("default/key/disk", "fleet", b"shared");

    // auth on A, attest on B, the resource from either.
    let key = tee_key("ec");
    let (cookie, nonce, _) = a.auth("tdx");
    let rd = report_data(&nonce, &key.jwk, Some(""));
    let body = attestation(&nonce, &key.jwk, evidence(&world, "tdx", rd), "");
    let r = b.send(
        "POST",
        "/kbs/v0/attest",
        &[("cookie", &cookie)],
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for replica in [&a, &b] {
        let r = replica.send(
            "GET",
            "/kbs/v0/resource/default/key/disk",
            &[("cookie", &cookie)],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(decrypt(&key, &r.body), b"shared");
    }
    // The session attested once, whichever replica is asked again.
    let r = a.send(
        "POST",
        "/kbs/v0/attest",
        &[("cookie", &cookie)],
        Some(&body),
    );
    refused(&r, 409, "kbs.replayed");
}

#[test]
fn init_data_bound_to_mrconfigid_is_accepted_and_claimed() {
    let tmp = tempfile::tempdir().unwrap();
    let world = world();
    let svc = Service::start(&world, tmp.path());
    svc.put_secret("default/key/disk", "fleet", b"k");
    // The init-data TOML a pod would carry; the VMM put its SHA-384 in
    // MRCONFIGID.
    let body = "algorithm = \"sha384\"\nversion = \"0.1.0\"\n\n[data]\n\"aa.toml\" = \"\"\n";
    let digest: [u8; 48] = sha2::Sha384::digest(body.as_bytes()).into();
    let key = tee_key("ec");
    let (cookie, nonce, _) = svc.auth("tdx");
    let rd = report_data(&nonce, &key.jwk, Some(""));
    let quote = world
        .tdx
        .quote_with_config_id(rd, LiveTdx::mrtd_default(), digest);
    let mut att = attestation(
        &nonce,
        &key.jwk,
        json!({ "quote": base64::engine::general_purpose::STANDARD.encode(&quote) }),
        "",
    );
    att["init-data"] = json!({ "format": "toml", "body": body });
    let a = svc.send("POST", "/kbs/v0/attest", &[("cookie", &cookie)], Some(&att));
    assert_eq!(a.status, 200, "{}", a.body);
    let payload = a.body["token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]["init_data"],
        hex(&digest)
    );
    // Another body with the same quote: refused.
    let (cookie, nonce, _) = svc.auth("tdx");
    let rd = report_data(&nonce, &key.jwk, Some(""));
    let quote = world
        .tdx
        .quote_with_config_id(rd, LiveTdx::mrtd_default(), digest);
    let mut att = attestation(
        &nonce,
        &key.jwk,
        json!({ "quote": base64::engine::general_purpose::STANDARD.encode(&quote) }),
        "",
    );
    att["init-data"] = json!({ "format": "toml", "body": format!("{body}# changed\n") });
    let a = svc.send("POST", "/kbs/v0/attest", &[("cookie", &cookie)], Some(&att));
    refused(&a, 422, "kbs.init_data_mismatch");
}
