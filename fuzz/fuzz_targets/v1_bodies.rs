//! The `/v1` JSON bodies on arbitrary bytes, as the service reads them
//! before any verification: the nesting limit (`http::json_too_deep`, a
//! scan of the bytes, which must agree with the depth of every value that
//! parses), `ChallengeRequest` and `AttestRequest` with serde_json (what
//! `http::Body` does), then for an attest request the
//! nonce's base64 and `cogito_server::attest::decode_request` (evidence and
//! collateral base64, the evidence size limit, the public key's base64 and
//! `check_public_key`, the number of secrets) with the default limits, and
//! the report-data binding of the nonce and key. The bodies a guest reads
//! from the service (`ChallengeResponse`, `AttestResponse`,
//! `SealedSecret`, `Problem`) are parsed from the same bytes.
//!
//! Invariants: what the service accepts re-serializes to JSON that parses
//! back to the same value; accepted base64 is canonical (it re-encodes to
//! the text that was sent); the decoded evidence is within the limit; an
//! accepted key is one `seal` can seal to (the service seals to it after
//! verification, so a key it lets through must not fail there); the
//! binding is defined for every nonce a u16 length can say.
#![no_main]

use cogito_protocol::{
    check_public_key, decode_b64, encode_b64, report_data, AttestRequest, AttestResponse,
    ChallengeRequest, ChallengeResponse, Kem, Problem, SealedSecret,
};
use cogito_server::attest::decode_request;
use cogito_server::config::Limits;
use cogito_server::http::json_too_deep;
use libfuzzer_sys::fuzz_target;

fn round_trips<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_vec(value).expect("a parsed body serializes");
    let back: T = serde_json::from_slice(&text).expect("a serialized body parses");
    assert_eq!(&back, value);
}

/// How deep a JSON value nests (a scalar: 0).
fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    // http::Body: the nesting limit first, by a scan of the bytes; for
    // JSON that parses it must agree with the parsed value's depth.
    let max = Limits::default().max_json_depth;
    let too_deep = json_too_deep(data, max);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let d = depth(&v);
        assert_eq!(too_deep.is_some(), d > max, "depth {d}, limit {max}");
        for m in [0, 1, 2, d] {
            assert_eq!(json_too_deep(data, m).is_some(), d > m);
        }
    }
    if let Some(offset) = too_deep {
        assert!(matches!(data[offset], b'[' | b'{'));
        return;
    }

    if let Ok(c) = serde_json::from_slice::<ChallengeRequest>(data) {
        round_trips(&c);
        let _ = c.tee.as_str();
    }
    for parsed in [
        serde_json::from_slice::<ChallengeResponse>(data).map(|r| round_trips(&r)),
        serde_json::from_slice::<AttestResponse>(data).map(|r| round_trips(&r)),
        serde_json::from_slice::<SealedSecret>(data).map(|r| round_trips(&r)),
        serde_json::from_slice::<Problem>(data).map(|r| round_trips(&r)),
    ] {
        let _ = parsed;
    }

    let Ok(req) = serde_json::from_slice::<AttestRequest>(data) else {
        return;
    };
    round_trips(&req);
    // attest::attest: the nonce first (its MAC and expiry need the
    // service's keys; not here), then decode_request.
    let Some(nonce) = decode_b64(&req.nonce) else {
        return;
    };
    assert_eq!(
        encode_b64(&nonce),
        req.nonce,
        "non-canonical base64 accepted"
    );
    let limits = Limits::default();
    let decoded = match decode_request(&req, &limits) {
        Ok(d) => d,
        Err(e) => {
            let _ = (e.code(), e.to_string());
            return;
        }
    };
    assert!(decoded.evidence.len() <= limits.max_evidence_bytes);
    assert_eq!(encode_b64(&decoded.evidence), req.evidence);
    assert_eq!(encode_b64(&decoded.public_key), req.public_key.key);
    assert_eq!(decoded.kem, req.public_key.kem);
    let c = req.collateral.clone().unwrap_or_default();
    assert_eq!(
        decoded.collateral.snp_cert_table.as_deref().map(encode_b64),
        c.cert_table
    );
    assert_eq!(
        decoded.collateral.event_log.as_deref().map(encode_b64),
        c.event_log
    );
    assert!(!req.secrets.is_empty() && req.secrets.len() <= limits.max_secrets_per_request);
    assert!(check_public_key(decoded.kem, &decoded.public_key).is_ok());
    let want_len = match decoded.kem {
        Kem::X25519 => 32,
        Kem::P256 => 65,
    };
    assert_eq!(decoded.public_key.len(), want_len);
    if let Err(e) = cogito_protocol::seal(decoded.kem, &decoded.public_key, "fuzz", b"secret") {
        panic!("an accepted {:?} key does not seal: {e}", decoded.kem);
    }

    let rd = report_data(&nonce, decoded.kem, &decoded.public_key);
    assert_eq!(rd.is_some(), nonce.len() <= usize::from(u16::MAX));
});
