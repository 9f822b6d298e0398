//! The attestation-result token: an EAR (draft-ietf-rats-ear) claims set,
//! built with Veraison's `ear` crate and signed as a JWT with ES256 by the
//! service's signing key (`kid` in the header; the keys at `/v1/keys`).
//! cogito-protocol's `token` module documents the claims.

use std::collections::BTreeMap;

use cogito_attest::Verification;
use cogito_policy::Appraisal;
use cogito_protocol::token::{
    key_attestation_bytes, parse_key_attestation, submod_name, EAR_PROFILE,
};
use cogito_protocol::Kem;
use ear::{Ear, KeyAttestation, RawValue, TrustTier, VerifierID};

use crate::error::ApiError;
use crate::keys::KeyRing;

/// One policy's acceptance, as the token records it.
#[derive(Debug, Clone)]
pub struct Accepted<'a> {
    /// The policy name.
    pub policy: &'a str,
    /// `policy:<name>#sha256:<digest>`.
    pub policy_id: String,
    /// The appraisal.
    pub appraisal: &'a Appraisal,
}

fn raw(v: &serde_json::Value) -> RawValue {
    match v {
        serde_json::Value::Null => RawValue::Null,
        serde_json::Value::Bool(b) => RawValue::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => RawValue::Integer(i),
            None => RawValue::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => RawValue::String(s.clone()),
        serde_json::Value::Array(a) => RawValue::Array(a.iter().map(raw).collect()),
        serde_json::Value::Object(m) => RawValue::Map(
            m.iter()
                .map(|(k, v)| (RawValue::String(k.clone()), raw(v)))
                .collect(),
        ),
    }
}

fn tier(status: &str) -> TrustTier {
    match status {
        "affirming" => TrustTier::Affirming,
        "warning" => TrustTier::Warning,
        "contraindicated" => TrustTier::Contraindicated,
        _ => TrustTier::None,
    }
}

/// Builds and signs the token.
pub fn issue(
    keys: &KeyRing,
    now: i64,
    expires: i64,
    verification: &Verification,
    accepted: &[Accepted<'_>],
    kem: Kem,
    public_key: &[u8],
) -> Result<String, ApiError> {
    let claims_json =
        serde_json::to_value(verification.claims()).map_err(|_| ApiError::Internal)?;
    let mut attester_claims = BTreeMap::new();
    attester_claims.insert("cogito.claims".to_string(), raw(&claims_json));
    let mut submods = BTreeMap::new();
    let mut worst = TrustTier::None;
    for a in accepted {
        let mut app = ear::Appraisal::new();
        let status = tier(a.appraisal.status.as_str());
        app.status = status;
        let tv = serde_json::to_value(a.appraisal.trust_vector).map_err(|_| ApiError::Internal)?;
        if let Some(m) = tv.as_object() {
            for (name, value) in m {
                let v = value
                    .as_i64()
                    .and_then(|v| i8::try_from(v).ok())
                    .unwrap_or(0);
                if v != 0 {
                    if let Ok(c) = app.trust_vector.mut_by_name(name) {
                        c.set(v);
                    }
                }
            }
        }
        app.policy_ids = vec![a.policy_id.clone()];
        app.attester_claims = attester_claims.clone();
        app.key_attestation = Some(KeyAttestation {
            pub_key: key_attestation_bytes(kem, public_key).as_slice().into(),
        });
        if status > worst {
            worst = status;
        }
        submods.insert(submod_name(a.policy), app);
    }
    let ear = Ear {
        profile: EAR_PROFILE.to_string(),
        iat: now,
        exp: Some(expires),
        vid: VerifierID {
            build: concat!("cogito ", env!("CARGO_PKG_VERSION")).to_string(),
            developer: "cogito".to_string(),
        },
        submods,
        nonce: None,
        status: Some(worst),
        raw_evidence: None,
        topology: None,
        extensions: ear::Extensions::new(),
    };
    keys.with_signer(|k| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(k.kid.clone());
        ear.sign_jwk_der_with_header(&header, k.pkcs8())
    })
    .ok_or(ApiError::Internal)?
    .map_err(|e| {
        tracing::error!(error = %e, "could not sign a token");
        ApiError::Internal
    })
}

/// Why a token whose key id this replica does not know is refused.
pub const UNKNOWN_KEY: &str = "signed by no key of this service";

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    /// Submod name → (policy id, status).
    pub accepted: BTreeMap<String, (String, String)>,
    /// The guest's KEM and public key.
    pub kem: Kem,
    /// The public key.
    pub public_key: Vec<u8>,
}

/// Checks a token's ES256 signature (by any key of ours that may still
/// have unexpired tokens) and its expiry; returns its claims.
pub fn verify_signed(
    keys: &KeyRing,
    token: &str,
    now: i64,
    lifetime: i64,
) -> Result<serde_json::Value, ApiError> {
    let bad = |why: &str| ApiError::TokenInvalid(why.to_string());
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("not a JWT"))?;
    if header.alg != jsonwebtoken::Algorithm::ES256 {
        return Err(bad("not ES256"));
    }
    let kid = header.kid.ok_or_else(|| bad("no key id"))?;
    let (_, public) = keys
        .verifying_keys(now, lifetime)
        .into_iter()
        .find(|(k, _)| *k == kid)
        .ok_or_else(|| bad(UNKNOWN_KEY))?;
    let (x, y) = public
        .get(1..33)
        .zip(public.get(33..65))
        .ok_or_else(|| bad("key"))?;
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let key = jsonwebtoken::DecodingKey::from_ec_components(&b64(x), &b64(y))
        .map_err(|_| ApiError::Internal)?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|_| bad("signature does not verify"))?;
    let claims = data.claims;
    let exp = claims
        .get("exp")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| bad("no expiry"))?;
    if now >= exp {
        return Err(bad("expired"));
    }
    Ok(claims)
}

/// Checks a token's signature (any key of ours that may still have
/// unexpired tokens), expiry and shape.
pub fn check(keys: &KeyRing, token: &str, now: i64, lifetime: i64) -> Result<TokenView, ApiError> {
    let bad = |why: &str| ApiError::TokenInvalid(why.to_string());
    let claims = verify_signed(keys, token, now, lifetime)?;
    let submods = claims
        .get("submods")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| bad("no submods"))?;
    let mut accepted = BTreeMap::new();
    let mut key: Option<(Kem, Vec<u8>)> = None;
    for (name, sub) in submods {
        let status = sub
            .get("ear_status")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("none")
            .to_string();
        let policy = sub
            .get("ear_appraisal_policy_ids")
            .and_then(serde_json::Value::as_array)
            .and_then(|ids| ids.first())
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string();
        let pk = sub
            .get("ear_veraison_key_attestation")
            .and_then(|k| k.get("akpub"))
            .and_then(serde_json::Value::as_str)
            .and_then(|s| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s)
                    .ok()
            })
            .ok_or_else(|| bad("no key attestation"))?;
        let (kem, pk) = parse_key_attestation(&pk).ok_or_else(|| bad("key attestation"))?;
        match &key {
            None => key = Some((kem, pk.to_vec())),
            Some((k, p)) if *k == kem && p == pk => {}
            Some(_) => return Err(bad("submods name different keys")),
        }
        accepted.insert(name.clone(), (policy, status));
    }
    let (kem, public_key) = key.ok_or_else(|| bad("no submod"))?;
    Ok(TokenView {
        accepted,
        kem,
        public_key,
    })
}
