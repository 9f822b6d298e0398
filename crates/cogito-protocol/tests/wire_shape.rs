//! The JSON of every wire type, pinned byte for byte: a change to a field's
//! name, order, casing or optionality breaks this test before it breaks a
//! fleet of guests built against the previous shape. Changing an expected
//! string here is a protocol change: docs/protocol.md and the version in
//! the paths must say so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use cogito_protocol::*;

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    v: &T,
    expected: &str,
) {
    assert_eq!(json(v), expected);
    let back: T = serde_json::from_str(expected).unwrap();
    assert_eq!(&back, v);
}

#[test]
fn challenge() {
    round_trip(&ChallengeRequest { tee: TeeName::Snp }, r#"{"tee":"snp"}"#);
    round_trip(&ChallengeRequest { tee: TeeName::Tdx }, r#"{"tee":"tdx"}"#);
    round_trip(&ChallengeRequest { tee: TeeName::Cca }, r#"{"tee":"cca"}"#);
    round_trip(
        &ChallengeResponse {
            nonce: "AQI=".into(),
            expires_at: "2026-01-01T00:02:00Z".into(),
        },
        r#"{"nonce":"AQI=","expires_at":"2026-01-01T00:02:00Z"}"#,
    );
}

#[test]
fn attest_request() {
    let mut r = AttestRequest {
        nonce: "AQI=".into(),
        evidence: "AwQ=".into(),
        public_key: PublicKey {
            kem: Kem::X25519,
            key: "BQY=".into(),
        },
        collateral: None,
        secrets: vec!["disk-key".into()],
    };
    round_trip(
        &r,
        r#"{"nonce":"AQI=","evidence":"AwQ=","public_key":{"kem":"x25519","key":"BQY="},"secrets":["disk-key"]}"#,
    );
    r.public_key.kem = Kem::P256;
    r.collateral = Some(AttestCollateral {
        cert_table: Some("Bwg=".into()),
        event_log: None,
    });
    round_trip(
        &r,
        r#"{"nonce":"AQI=","evidence":"AwQ=","public_key":{"kem":"p256","key":"BQY="},"collateral":{"cert_table":"Bwg="},"secrets":["disk-key"]}"#,
    );
    r.collateral = Some(AttestCollateral {
        cert_table: None,
        event_log: Some("CQo=".into()),
    });
    assert!(json(&r).contains(r#""collateral":{"event_log":"CQo="}"#));
    // Unknown members are refused, also nested.
    assert!(serde_json::from_str::<AttestRequest>(
        r#"{"nonce":"","evidence":"","public_key":{"kem":"x25519","key":"","x":1}}"#
    )
    .is_err());
    assert!(serde_json::from_str::<PublicKey>(r#"{"kem":"x448","key":""}"#).is_err());
}

#[test]
fn attest_response_and_secrets() {
    let s = SealedSecret {
        name: "disk-key".into(),
        enc: "AQ==".into(),
        ciphertext: "Ag==".into(),
    };
    round_trip(
        &s,
        r#"{"name":"disk-key","enc":"AQ==","ciphertext":"Ag=="}"#,
    );
    round_trip(
        &AttestResponse {
            token: "a.b.c".into(),
            token_expires_at: "2026-01-01T00:10:00Z".into(),
            secrets: vec![s],
        },
        r#"{"token":"a.b.c","token_expires_at":"2026-01-01T00:10:00Z","secrets":[{"name":"disk-key","enc":"AQ==","ciphertext":"Ag=="}]}"#,
    );
}

#[test]
fn problem() {
    round_trip(
        &Problem {
            kind: "urn:cogito:problem:policy.refused".into(),
            title: "refused by policy".into(),
            status: 422,
            detail: "d".into(),
            code: "policy.refused".into(),
            secret: Some("disk-key".into()),
            policy: Some("fleet".into()),
            rules: vec![FailedRule {
                rule: "snp.measurements".into(),
                actual: "ab".into(),
                expected: Some("cd".into()),
            }],
        },
        r#"{"type":"urn:cogito:problem:policy.refused","title":"refused by policy","status":422,"detail":"d","code":"policy.refused","secret":"disk-key","policy":"fleet","rules":[{"rule":"snp.measurements","actual":"ab","expected":"cd"}]}"#,
    );
    // A guest reads a server's problem even when it adds members (RFC 9457
    // extension members), so problems are not strict.
    let p: Problem = serde_json::from_str(
        r#"{"type":"t","title":"t","status":503,"detail":"d","code":"service.saturated","retry_after":1}"#,
    )
    .unwrap();
    assert!(p.rules.is_empty() && p.secret.is_none());
}

#[test]
fn the_binding_and_the_labels() {
    assert_eq!(REPORT_DATA_LABEL, b"cogito/v1 report-data\0");
    assert_eq!(HPKE_INFO, b"cogito/v1 secret");
    assert_eq!(token::EAR_PROFILE, "tag:github.com,2023:veraison/ear");
    assert_eq!(Kem::X25519.id(), 0x0020);
    assert_eq!(Kem::P256.id(), 0x0010);
    // docs/protocol.md's known answer.
    let rd = report_data(b"abc", Kem::X25519, &[1, 2, 3, 4]).unwrap();
    assert_eq!(
        rd.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        "6eaaea0885abe5e111d739a6c97e4af7012f7c34b8398e55c41b6b33f60e8ab4b51c0abad6617523f687b6f2a126a46f5b234f929200eff7d1e68ddbf8e8c3f9"
    );
}
