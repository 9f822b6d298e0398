//! The `/kbs/v0` bodies on arbitrary bytes, as `kbs::auth` and
//! `kbs::attest_inner` read them before any verification (after
//! `parse_body`'s nesting limit, which `v1_bodies` checks):
//!
//! - `kbs_types::Request` (auth): the TEE's name through `evidence::tee_of`
//!   and the hash negotiation `binding::select` of its `extra-params`;
//! - `kbs_types::Attestation` (attest) and the same body as raw JSON: the
//!   `tee-pubkey` JWK (`jwe::RecipientKey::from_jwk`), the primary evidence
//!   through `evidence::parse` for every TEE (the session decides which
//!   one; the fuzzer should not have to guess), the runtime-data binding
//!   `binding::runtime_digest` with every hash algorithm, the additional
//!   evidence's map and each of its pieces, and init-data
//!   (`kbs::init_data_digest`);
//! - the whole input as one piece of evidence of each TEE, and through
//!   `binding::canonical` (RFC 8785).
//!
//! Invariants: a piece of evidence that parses is what its TEE's verifier
//! takes (an SEV-SNP report of 1184 bytes, a certificate table that
//! `parse_cert_table` reads back to the kept entries; nothing else for TDX
//! and CCA but the TDX event log) and survives the session record's JSON
//! round trip (the resource step reads it back from the store); canonical
//! JSON is a fixed point of canonicalization; digests have their
//! algorithm's length and are fitted to 64 bytes.
#![no_main]

use cogito_protocol::TeeName;
use cogito_server::kbs::binding::{self, HashAlgorithm};
use cogito_server::kbs::evidence::{self, Piece};
use cogito_server::kbs::jwe::RecipientKey;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const TEES: [TeeName; 3] = [TeeName::Snp, TeeName::Tdx, TeeName::Cca];
const ALGS: [HashAlgorithm; 4] = [
    HashAlgorithm::Sha256,
    HashAlgorithm::Sha384,
    HashAlgorithm::Sha512,
    HashAlgorithm::Sm3,
];

/// The cert_chain entries evidence.rs keeps, in order: (GUID kind, data).
fn kept_entries(value: &Value) -> Vec<(cogito_snp::CertTableKind, Vec<u8>)> {
    use cogito_snp::CertTableKind;
    use sev::firmware::host::{CertTableEntry, CertType};
    let Some(chain) = value.get("cert_chain").filter(|c| !c.is_null()) else {
        return Vec::new();
    };
    let entries: Vec<CertTableEntry> =
        serde_json::from_value(chain.clone()).expect("evidence.rs parsed this cert_chain");
    entries
        .into_iter()
        .filter_map(|e| {
            let kind = match e.cert_type {
                CertType::ARK => CertTableKind::Ark,
                CertType::ASK => CertTableKind::Ask,
                CertType::VCEK => CertTableKind::Vcek,
                CertType::VLEK => CertTableKind::Vlek,
                _ => return None,
            };
            Some((kind, e.data))
        })
        .collect()
}

fn check_piece(tee: TeeName, value: &Value) {
    let piece = match evidence::parse(tee, value) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.is_empty());
            return;
        }
    };
    assert_eq!(piece.tee, tee);
    // The session record keeps the pieces as JSON; the resource step and
    // other replicas read them back.
    let stored = serde_json::to_string(&piece).expect("a piece serializes");
    let back: Piece = serde_json::from_str(&stored).expect("a stored piece reads back");
    assert_eq!(back, piece);
    let collateral = piece.collateral();
    assert_eq!(collateral.snp_cert_table, piece.cert_table);
    assert_eq!(collateral.event_log, piece.event_log);
    match tee {
        TeeName::Snp => {
            assert_eq!(piece.evidence.len(), cogito_snp::REPORT_LEN);
            assert!(piece.event_log.is_none());
            if let Some(table) = &piece.cert_table {
                let kept = kept_entries(value);
                assert!(!kept.is_empty());
                let parsed = cogito_snp::parse_cert_table(table)
                    .expect("the certificate table built from cert_chain parses");
                assert_eq!(parsed.len(), kept.len());
                for (entry, (kind, data)) in parsed.iter().zip(&kept) {
                    assert_eq!(entry.kind, *kind);
                    assert_eq!(entry.data, data.as_slice());
                }
            }
        }
        TeeName::Tdx => assert!(piece.cert_table.is_none()),
        TeeName::Cca => assert!(piece.cert_table.is_none() && piece.event_log.is_none()),
    }
}

fuzz_target!(|data: &[u8]| {
    // kbs::parse_body: the nesting limit before any parsing.
    let max = cogito_server::config::Limits::default().max_json_depth;
    if cogito_server::http::json_too_deep(data, max).is_some() {
        return;
    }
    // POST /kbs/v0/auth.
    if let Ok(request) = serde_json::from_slice::<kbs_types::Request>(data) {
        let name = serde_json::to_value(request.tee)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if let Some(tee) = evidence::tee_of(&name) {
            assert_eq!(tee.as_str(), name);
        }
        if let Ok(alg) = binding::select(&request.extra_params) {
            let listed = request
                .extra_params
                .get("supported-hash-algorithms")
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty());
            if let Some(list) = listed {
                assert!(list
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|n| n.parse::<HashAlgorithm>().ok() == Some(alg)));
            } else {
                assert_eq!(alg, HashAlgorithm::Sha384);
            }
        }
    }

    let Ok(raw) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Some(name) = raw.as_str() {
        let _ = evidence::tee_of(name);
    }
    for tee in TEES {
        check_piece(tee, &raw);
    }
    if let Ok(canonical) = binding::canonical(&raw) {
        let again: Value = serde_json::from_slice(&canonical).expect("canonical JSON parses");
        assert_eq!(
            binding::canonical(&again).expect("canonical JSON canonicalizes"),
            canonical,
            "canonicalization is not a fixed point"
        );
    }

    // POST /kbs/v0/attest: the body typed and raw, as attest_inner reads it.
    let Ok(typed) = serde_json::from_slice::<kbs_types::Attestation>(data) else {
        return;
    };
    let Some(tee_pubkey) = raw.pointer("/runtime-data/tee-pubkey") else {
        return;
    };
    if let Ok(key) = RecipientKey::from_jwk(tee_pubkey) {
        let _ = key.alg();
    }
    for tee in TEES {
        check_piece(tee, &typed.tee_evidence.primary_evidence);
    }
    let additional = typed.tee_evidence.additional_evidence.as_str();
    let nonce = typed.runtime_data.nonce.as_str();
    for alg in ALGS {
        for extra in [Some(additional), None] {
            if let Ok(d) = binding::runtime_digest(alg, nonce, tee_pubkey, extra) {
                assert_eq!(d.len(), alg.digest_len());
                let fitted = binding::fit(&d, 64);
                assert_eq!(fitted.len(), 64);
                assert_eq!(&fitted[..d.len()], d.as_slice());
            }
        }
    }
    if !additional.trim().is_empty() {
        if let Ok(map) = serde_json::from_str::<serde_json::Map<String, Value>>(additional) {
            for (name, value) in &map {
                if let Some(tee) = evidence::tee_of(name) {
                    check_piece(tee, value);
                }
            }
        }
    }
    if let Some(init) = &typed.init_data {
        if let Ok(d) = cogito_server::kbs::init_data_digest(init) {
            assert!(ALGS.iter().any(|a| a.digest_len() == d.len()));
        }
    }
});
