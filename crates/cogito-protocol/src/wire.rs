//! The JSON bodies on the wire. Binary fields are standard base64
//! ([`crate::encode_b64`]); times are RFC 3339 in UTC. Unknown fields are
//! refused, so a typo in a client is an error and not an ignored option.

use serde::{Deserialize, Serialize};

use crate::seal::Kem;

/// The platform a guest will attest as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TeeName {
    /// AMD SEV-SNP (raw or Azure HCL reports).
    Snp,
    /// Intel TDX.
    Tdx,
    /// Arm CCA.
    Cca,
}

impl TeeName {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TeeName::Snp => "snp",
            TeeName::Tdx => "tdx",
            TeeName::Cca => "cca",
        }
    }
}

/// `POST /v1/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// The platform the evidence will come from.
    pub tee: TeeName,
}

/// The answer to a challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChallengeResponse {
    /// The nonce, base64: opaque to the guest, which binds its decoded
    /// bytes into the report data ([`crate::report_data`]) and sends it back
    /// unchanged. Single use.
    pub nonce: String,
    /// When the nonce stops being accepted.
    pub expires_at: String,
}

/// A guest's ephemeral public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PublicKey {
    /// The HPKE KEM.
    pub kem: Kem,
    /// The key as HPKE serializes it, base64 (X25519: 32 bytes; P-256: the
    /// 65-byte uncompressed point).
    pub key: String,
}

/// Collateral the guest sends with its evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttestCollateral {
    /// SEV-SNP: the host's certificate table (extended report, configfs-tsm
    /// `auxblob`), base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_table: Option<String>,
    /// TDX: the CC event log (CCEL data), base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_log: Option<String>,
}

/// `POST /v1/attest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttestRequest {
    /// The nonce of the challenge, as received.
    pub nonce: String,
    /// The evidence, base64: an SEV-SNP report, an Azure HCL report, a TDX
    /// quote or a CCA token, whose report data is
    /// [`crate::report_data`]`(nonce, public_key)`.
    pub evidence: String,
    /// The key the secrets are sealed to.
    pub public_key: PublicKey,
    /// Collateral that came with the evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collateral: Option<AttestCollateral>,
    /// The secrets wanted. All are granted or the request is refused.
    #[serde(default)]
    pub secrets: Vec<String>,
}

/// A secret sealed to the guest's key ([`crate::seal`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SealedSecret {
    /// The secret's name (also the HPKE associated data).
    pub name: String,
    /// The HPKE encapsulated key, base64.
    pub enc: String,
    /// The AES-256-GCM ciphertext and tag, base64.
    pub ciphertext: String,
}

/// The answer to an accepted attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttestResponse {
    /// The attestation result: an EAR (draft-ietf-rats-ear) as a JWT signed
    /// with ES256 by a key in `/v1/keys`. Also the bearer token for
    /// `GET /v1/secrets/{name}` until it expires.
    pub token: String,
    /// When the token expires.
    pub token_expires_at: String,
    /// The secrets asked for, each sealed to the guest's key.
    pub secrets: Vec<SealedSecret>,
}

/// One failed policy rule in a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailedRule {
    /// The rule (the policy key, e.g. `snp.measurements`).
    pub rule: String,
    /// What the evidence showed.
    pub actual: String,
    /// What the rule wanted (only with `explain = "full"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
}

/// A refusal: an RFC 9457 problem document (`application/problem+json`)
/// with a stable `code`. Never contains secret material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:cogito:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The stable error code (docs/errors.md).
    pub code: String,
    /// The secret a policy refusal concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The policy that refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The failed rules of a policy refusal (per the server's `explain`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<FailedRule>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_refused() {
        let ok: ChallengeRequest = serde_json::from_str(r#"{"tee":"snp"}"#).unwrap();
        assert_eq!(ok.tee, TeeName::Snp);
        assert!(serde_json::from_str::<ChallengeRequest>(r#"{"tee":"snp","x":1}"#).is_err());
        assert!(serde_json::from_str::<ChallengeRequest>(r#"{"tee":"sgx"}"#).is_err());
        let r: AttestRequest = serde_json::from_str(
            r#"{"nonce":"AA==","evidence":"AA==","public_key":{"kem":"x25519","key":"AA=="}}"#,
        )
        .unwrap();
        assert!(r.secrets.is_empty() && r.collateral.is_none());
    }

    #[test]
    fn problem_serializes_with_type_and_without_empty_parts() {
        let p = Problem {
            kind: "urn:cogito:problem:nonce.replayed".into(),
            title: "nonce already used".into(),
            status: 409,
            detail: "x".into(),
            code: "nonce.replayed".into(),
            secret: None,
            policy: None,
            rules: vec![],
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["type"], "urn:cogito:problem:nonce.replayed");
        assert!(v.get("rules").is_none() && v.get("secret").is_none());
    }
}
