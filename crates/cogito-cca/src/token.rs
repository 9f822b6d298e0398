//! The CCA attestation token envelope and its two COSE_Sign1 tokens.
//!
//! Two envelopes are accepted, exactly as the real tokens use them:
//!
//! - tag 399 (draft-ffm-rats-cca-token, "CCA Attestation Token"):
//!   `{44234: bstr .cbor platform COSE_Sign1_Tagged,
//!     44241: bstr .cbor realm COSE_Sign1_Tagged}`;
//! - tag 907 (RATS CMW collection, draft-ietf-rats-msg-wrap):
//!   `{44234: [263, bstr .cbor COSE_Sign1_Tagged],
//!     44241: [263, bstr .cbor COSE_Sign1_Tagged]}`, each entry a CMW record
//!   of CoAP content-format 263 (as TF-M's iat-verifier emits).
//!
//! Any other tag, key, or shape is refused with the offset and what was
//! expected.

use crate::cbor::{self, Item, Value};
use crate::claims::{parse_platform, parse_realm, CcaClaims, PlatformClaims, RealmClaims};
use crate::cose::CoseSign1;
use crate::error::CcaError;
use crate::keys::EcPublicKey;
use cogito_core::hexser::Hex;

/// CBOR tag of the CCA token collection.
pub const TAG_CCA_TOKEN: u64 = 399;
/// CBOR tag of a CMW collection.
pub const TAG_CMW_COLLECTION: u64 = 907;
/// Collection key of the platform token.
pub const LABEL_PLATFORM: u64 = 44234;
/// Collection key of the realm (delegated) token.
pub const LABEL_REALM: u64 = 44241;
/// CoAP content-format of the CMW records in the tag-907 tokens.
pub const CMW_CONTENT_FORMAT: u64 = 263;

/// A parsed, not yet verified CCA token.
#[derive(Debug, Clone)]
pub struct CcaToken<'a> {
    /// The envelope tag (399 or 907).
    pub envelope_tag: u64,
    /// The platform COSE_Sign1.
    pub platform: CoseSign1<'a>,
    /// The realm COSE_Sign1.
    pub realm: CoseSign1<'a>,
    /// The platform claims (unverified until [`crate::verify_token`]).
    pub platform_claims: PlatformClaims,
    /// The realm claims (unverified until [`crate::verify_token`]).
    pub realm_claims: RealmClaims,
    /// The RAK from claim 44237.
    pub rak: EcPublicKey,
    /// The exact bytes of claim 44237 (what the binding hashes).
    pub rak_claim: &'a [u8],
}

fn envelope_err(offset: usize, detail: impl Into<String>) -> CcaError {
    CcaError::Envelope {
        offset,
        detail: detail.into(),
    }
}

impl<'a> CcaToken<'a> {
    /// Parses a token strictly: envelope, both COSE_Sign1 structures, and
    /// every claim. Verifies nothing.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CcaError> {
        let top = cbor::decode(bytes, 0).map_err(|error| CcaError::Cbor {
            context: "token",
            error,
        })?;
        let (tag, collection) = match &top.value {
            Value::Tag(t @ (TAG_CCA_TOKEN | TAG_CMW_COLLECTION), inner) => (*t, inner.as_ref()),
            Value::Tag(t, _) => {
                return Err(envelope_err(
                    top.start,
                    format!("CBOR tag {t}; expected 399 (CCA token) or 907 (CMW collection)"),
                ))
            }
            _ => {
                return Err(envelope_err(
                    top.start,
                    format!(
                        "{}; expected CBOR tag 399 (CCA token) or 907 (CMW collection)",
                        top.describe()
                    ),
                ))
            }
        };
        let entries = collection.as_map().ok_or_else(|| {
            envelope_err(
                collection.start,
                format!(
                    "tag {tag} holds {}; expected a map {{44234: platform, 44241: realm}}",
                    collection.describe()
                ),
            )
        })?;
        let mut platform = None;
        let mut realm = None;
        for (k, v) in entries {
            match k.as_u64() {
                Some(LABEL_PLATFORM) => platform = Some(v),
                Some(LABEL_REALM) => realm = Some(v),
                _ => {
                    return Err(envelope_err(
                        k.start,
                        format!(
                            "unexpected key {} in the tag {tag} collection; only 44234 (platform) and 44241 (realm) are allowed",
                            k.key_text()
                        ),
                    ))
                }
            }
        }
        let platform = platform.ok_or_else(|| {
            envelope_err(
                collection.start,
                "the platform token (key 44234) is missing",
            )
        })?;
        let realm = realm.ok_or_else(|| {
            envelope_err(collection.start, "the realm token (key 44241) is missing")
        })?;
        let platform_item = unwrap_entry(tag, platform, "platform", "platform COSE_Sign1")?;
        let realm_item = unwrap_entry(tag, realm, "realm", "realm COSE_Sign1")?;
        let platform_cose = CoseSign1::from_item(&platform_item, "platform")?;
        let realm_cose = CoseSign1::from_item(&realm_item, "realm")?;

        let platform_payload =
            cbor::decode(platform_cose.payload, platform_cose.payload_span.start).map_err(
                |error| CcaError::Cbor {
                    context: "platform claims",
                    error,
                },
            )?;
        let platform_claims = parse_platform(&platform_payload, platform_cose.alg)?;
        let realm_payload = cbor::decode(realm_cose.payload, realm_cose.payload_span.start)
            .map_err(|error| CcaError::Cbor {
                context: "realm claims",
                error,
            })?;
        let (realm_claims, rak) = parse_realm(&realm_payload, realm_cose.alg)?;
        let rak_claim = rak_claim_bytes(&realm_payload).unwrap_or(&[]);
        Ok(CcaToken {
            envelope_tag: tag,
            platform: platform_cose,
            realm: realm_cose,
            platform_claims,
            realm_claims,
            rak,
            rak_claim,
        })
    }

    /// The typed claims, as far as parsing establishes them (no `cpak`).
    pub fn claims(&self) -> CcaClaims {
        CcaClaims {
            envelope_tag: self.envelope_tag,
            platform: self.platform_claims.clone(),
            realm: self.realm_claims.clone(),
            rak_claim_hash: Hex(self
                .realm_claims
                .public_key_hash_algo_id
                .digest(self.rak_claim)),
            cpak: None,
        }
    }
}

/// The content of the realm public key claim, borrowed from the token.
fn rak_claim_bytes<'a>(payload: &Item<'a>) -> Option<&'a [u8]> {
    payload
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_i64() == Some(crate::claims::key::RAK))
        .and_then(|(_, v)| v.as_bytes())
}

/// Unwraps one collection entry to the tagged COSE_Sign1 item it carries.
fn unwrap_entry<'a>(
    tag: u64,
    entry: &Item<'a>,
    which: &'static str,
    context: &'static str,
) -> Result<Item<'a>, CcaError> {
    let wrapped = if tag == TAG_CCA_TOKEN {
        if entry.as_bytes().is_none() {
            return Err(envelope_err(
                entry.start,
                format!(
                    "the {which} entry is {}; expected a bstr holding a COSE_Sign1",
                    entry.describe()
                ),
            ));
        }
        entry
    } else {
        match entry.as_array() {
            Some([ty, value])
                if ty.as_u64() == Some(CMW_CONTENT_FORMAT) && value.as_bytes().is_some() =>
            {
                value
            }
            _ => {
                return Err(envelope_err(
                    entry.start,
                    format!(
                        "the {which} entry is {}; expected a CMW record [263, bstr]",
                        entry.describe()
                    ),
                ))
            }
        }
    };
    match cbor::decode_wrapped(wrapped) {
        Some(Ok(item)) => Ok(item),
        Some(Err(error)) => Err(CcaError::Cbor { context, error }),
        None => Err(envelope_err(wrapped.start, "expected a bstr")),
    }
}
