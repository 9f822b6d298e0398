//! How a KBS guest binds its key and the challenge into its evidence, as
//! Trustee's attestation service and the `kbs_protocol` client compute it:
//!
//! - the hash algorithm is negotiated: the client lists
//!   `supported-hash-algorithms` in the Request's `extra-params`, the
//!   server answers `selected-hash-algorithm` in the Challenge's; SHA-384
//!   when the client lists none ([`select`]);
//! - the primary evidence's report data is the hash of the canonical JSON
//!   (RFC 8785, JCS) of `{"additional-evidence", "nonce", "tee-pubkey"}`;
//!   additional evidence (other devices) binds `{"nonce", "tee-pubkey"}`
//!   ([`runtime_digest`]);
//! - the digest is fitted to the evidence's field: zero-padded when
//!   shorter, cut when longer ([`fit`]): 64 bytes of SEV-SNP REPORT_DATA,
//!   TDX REPORTDATA or the CCA challenge;
//! - init-data, when sent, is hashed with the same algorithm over its
//!   `body` text and must equal SEV-SNP HOST_DATA (32 bytes), TDX
//!   MRCONFIGID (48) or the CCA realm personalization value (64), fitted
//!   the same way.

pub use kbs_types::HashAlgorithm;

/// The algorithm for a session: the client's list in order of our
/// preference (SHA-384, SHA-512, SHA-256, SM3: the protocol's default
/// first),
/// SHA-384 when the client lists nothing; `Err` with the names it listed
/// when none is one we support.
pub fn select(extra_params: &serde_json::Value) -> Result<HashAlgorithm, String> {
    let listed = match extra_params
        .get("supported-hash-algorithms")
        .and_then(|v| v.as_array())
    {
        Some(list) if !list.is_empty() => list,
        _ => return Ok(HashAlgorithm::Sha384),
    };
    let names: Vec<&str> = listed.iter().filter_map(|v| v.as_str()).collect();
    [
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sm3,
    ]
    .into_iter()
    .find(|a| {
        names
            .iter()
            .any(|n| n.parse::<HashAlgorithm>().ok() == Some(*a))
    })
    .ok_or_else(|| names.join(", "))
}

/// RFC 8785 canonical JSON.
pub fn canonical(value: &serde_json::Value) -> Result<Vec<u8>, String> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| e.to_string())
}

/// The digest the primary evidence (with `additional`, the string the
/// client sent as `additional_evidence`) or additional evidence
/// (`additional` = `None`) must carry.
pub fn runtime_digest(
    alg: HashAlgorithm,
    nonce: &str,
    tee_pubkey: &serde_json::Value,
    additional: Option<&str>,
) -> Result<Vec<u8>, String> {
    let value = match additional {
        Some(a) => serde_json::json!({
            "tee-pubkey": tee_pubkey,
            "nonce": nonce,
            "additional-evidence": a,
        }),
        None => serde_json::json!({ "tee-pubkey": tee_pubkey, "nonce": nonce }),
    };
    Ok(alg.digest(&canonical(&value)?))
}

/// A digest fitted to a field of `len` bytes.
pub fn fit(digest: &[u8], len: usize) -> Vec<u8> {
    let mut out = digest.to_vec();
    out.resize(len, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trustee's attestation service pins this value in its tests
    /// (`parse_runtime_data`, structured runtime data, SHA-384): the JCS
    /// of `{"b": 1, "a": "test", "c": {"d": "e"}}`, hashed.
    #[test]
    fn upstream_published_canonical_json_digest() {
        let v = serde_json::json!({"b": 1, "a": "test", "c": {"d": "e"}});
        assert_eq!(
            canonical(&v).unwrap(),
            br#"{"a":"test","b":1,"c":{"d":"e"}}"#
        );
        assert_eq!(
            hex::encode(HashAlgorithm::Sha384.digest(&canonical(&v).unwrap())),
            "e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3"
        );
    }

    #[test]
    fn negotiation() {
        assert_eq!(
            select(&serde_json::json!("")).unwrap(),
            HashAlgorithm::Sha384
        );
        assert_eq!(
            select(&serde_json::json!({})).unwrap(),
            HashAlgorithm::Sha384
        );
        // What kbs_protocol sends: HashAlgorithm::list_all(), serialized.
        let all =
            serde_json::json!({"supported-hash-algorithms": ["sha256", "sha384", "sha512", "sm3"]});
        assert_eq!(select(&all).unwrap(), HashAlgorithm::Sha384);
        let two = serde_json::json!({"supported-hash-algorithms": ["SHA512", "sha256"]});
        assert_eq!(select(&two).unwrap(), HashAlgorithm::Sha512);
        let sm3 = serde_json::json!({"supported-hash-algorithms": ["sm3"]});
        assert_eq!(select(&sm3).unwrap(), HashAlgorithm::Sm3);
        let md5 = serde_json::json!({"supported-hash-algorithms": ["md5"]});
        assert_eq!(select(&md5).unwrap_err(), "md5");
    }

    #[test]
    fn fitting() {
        assert_eq!(fit(&[1, 2], 4), vec![1, 2, 0, 0]);
        assert_eq!(fit(&[1, 2, 3], 2), vec![1, 2]);
    }
}
