//! EC public keys (CPAK, RAK), the CPAK trust anchors and the list of
//! published test keys.
//!
//! A [`CcaTrustAnchors`] store holds CPAKs (CCA Platform Attestation Keys,
//! Arm CCA Security Model §"CPAK"), each optionally bound to a platform
//! instance id (claim 256) and/or implementation id (claim 2396). A token's
//! CPAK is found by [`CcaTrustAnchors::find`]:
//!
//! 1. the entry whose instance id equals the token's (if that entry also
//!    names an implementation id, it must equal the token's);
//! 2. else the single entry that names only an implementation id, equal to
//!    the token's ("any instance of this implementation");
//! 3. else, when the store holds exactly one key and that key names no id at
//!    all (a bare JWK or PEM file), that key — it is trusted for **any**
//!    token, which is what a single-key `--cca-trust-anchors cpak.jwk`
//!    means.
//!
//! Loading refuses stores where this could be ambiguous: two entries for
//! the same instance id, two implementation-only entries for the same
//! implementation id, or an id-less key next to other keys.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, ParsedPublicKey};
use cogito_core::hexser::Hex;
use serde::{Deserialize, Serialize};

use crate::error::CcaError;

/// A NIST prime curve usable with COSE ES256/ES384/ES512.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    #[serde(rename = "P-256")]
    P256,
    /// NIST P-384 (secp384r1).
    #[serde(rename = "P-384")]
    P384,
    /// NIST P-521 (secp521r1).
    #[serde(rename = "P-521")]
    P521,
}

impl Curve {
    /// The JWK / COSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Bytes of one coordinate (and of r or s in a signature).
    pub fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// Length of an uncompressed SEC1 point `04 ‖ X ‖ Y`.
    pub fn point_len(self) -> usize {
        1 + 2 * self.coordinate_len()
    }

    /// From a JWK `crv` name.
    pub fn from_jwk_name(name: &str) -> Option<Curve> {
        match name {
            "P-256" => Some(Curve::P256),
            "P-384" => Some(Curve::P384),
            "P-521" => Some(Curve::P521),
            _ => None,
        }
    }

    /// From a COSE EC2 curve identifier (RFC 9053 §7.1: 1 P-256, 2 P-384, 3 P-521).
    pub fn from_cose(crv: i64) -> Option<Curve> {
        match crv {
            1 => Some(Curve::P256),
            2 => Some(Curve::P384),
            3 => Some(Curve::P521),
            _ => None,
        }
    }

    /// The curve of an uncompressed point of this length.
    pub fn from_point_len(len: usize) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.point_len() == len)
    }

    fn verification_algorithm(self) -> &'static signature::EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
            Curve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
            Curve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An EC public key on a NIST curve, validated (the point is on the curve).
#[derive(Clone)]
pub struct EcPublicKey {
    curve: Curve,
    point: Vec<u8>,
    parsed: std::sync::Arc<ParsedPublicKey>,
}

impl fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "EcPublicKey({} {})",
            self.curve,
            hex::encode(self.fingerprint())
        )
    }
}

impl PartialEq for EcPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.point == other.point
    }
}

impl Eq for EcPublicKey {}

impl EcPublicKey {
    /// From an uncompressed SEC1 point `04 ‖ X ‖ Y`; the curve follows from
    /// its length. `None` when the bytes are not a point on that curve.
    pub fn from_sec1(point: &[u8]) -> Option<Self> {
        let curve = Curve::from_point_len(point.len())?;
        if point.first() != Some(&0x04) {
            return None;
        }
        let parsed = ParsedPublicKey::new(curve.verification_algorithm(), point).ok()?;
        Some(EcPublicKey {
            curve,
            point: point.to_vec(),
            parsed: std::sync::Arc::new(parsed),
        })
    }

    /// From the two affine coordinates, each exactly the curve's size.
    pub fn from_coordinates(curve: Curve, x: &[u8], y: &[u8]) -> Option<Self> {
        if x.len() != curve.coordinate_len() || y.len() != curve.coordinate_len() {
            return None;
        }
        let mut point = Vec::with_capacity(curve.point_len());
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        EcPublicKey::from_sec1(&point)
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The uncompressed SEC1 point.
    pub fn point(&self) -> &[u8] {
        &self.point
    }

    /// SHA-256 of the uncompressed SEC1 point: how cogito names keys.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, &self.point).as_ref());
        out
    }

    /// Verifies a fixed-width (`r ‖ s`) ECDSA signature over `message` with
    /// the curve's hash (SHA-256/384/512 for P-256/384/521).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.parsed.verify_sig(message, signature).is_ok()
    }
}

/// A published test CPAK: anyone holds its private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestKey {
    /// SHA-256 of the uncompressed point, hex.
    pub fingerprint: &'static str,
    /// Where the key pair is published.
    pub name: &'static str,
}

/// CPAKs whose private keys are public. Computed from every CPAK in the
/// real vectors (`shared/vectors/cca`, README "Test keys").
pub const TEST_KEYS: &[TestKey] = &[
    TestKey {
        fingerprint: "9bdb470456c7c1348349e88f38540f43e7a7993ac32e9c9a0b3c8d8733cc63f0",
        name: "TF-A/TF-M/Veraison P-384 CPAK (x = IShnxS4r…; private key in tf-m-tools iat-verifier/tests/data/cca_platform.pem)",
    },
    TestKey {
        fingerprint: "90c71e80304f98d6556a402c0593b33a80acbd08e4aff9c4029f6e17e1039951",
        name: "Veraison P-256 CPAK (x = MKBCTNIc…; rust-ccatoken testdata, veraison/services end-to-end)",
    },
];

/// The published test key this is, if any.
pub fn test_key(key: &EcPublicKey) -> Option<&'static TestKey> {
    let fp = hex::encode(key.fingerprint());
    TEST_KEYS.iter().find(|k| k.fingerprint == fp)
}

/// One trusted CPAK and the platform(s) it is trusted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpakEntry {
    /// The key.
    pub key: EcPublicKey,
    /// The platform instance id (claim 256, 33 bytes) it belongs to.
    pub instance_id: Option<Vec<u8>>,
    /// The implementation id (claim 2396, 32 bytes) it belongs to.
    pub implementation_id: Option<Vec<u8>>,
    /// Where it came from, for messages.
    pub label: String,
}

/// How the CPAK of a token was found in the trust anchors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// An entry for the token's instance id.
    InstanceId,
    /// The single entry for the token's implementation id.
    ImplementationId,
    /// The only key of a store that names no ids.
    SoleKey,
}

/// The set of trusted CPAKs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CcaTrustAnchors {
    entries: Vec<CpakEntry>,
}

/// A JWK as found in the vectors and TA stores (RFC 7517/7518 §6.2).
#[derive(Debug, Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    #[serde(default)]
    d: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    kid: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    #[allow(dead_code)]
    use_: Option<String>,
}

/// One entry of a rust-ccatoken style TA store (`ta_store.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaStoreEntry {
    pkey: serde_json::Value,
    #[serde(rename = "implementation-id", default)]
    implementation_id: Option<String>,
    #[serde(rename = "instance-id", default)]
    instance_id: Option<String>,
}

impl CcaTrustAnchors {
    /// An empty store (trusts nothing).
    pub fn new() -> Self {
        CcaTrustAnchors::default()
    }

    /// All entries.
    pub fn entries(&self) -> &[CpakEntry] {
        &self.entries
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an entry, refusing anything that would make [`Self::find`]
    /// ambiguous (see the module documentation).
    pub fn add(&mut self, entry: CpakEntry) -> Result<(), CcaError> {
        let refuse = |detail: String| CcaError::Anchors {
            source_name: entry.label.clone(),
            detail,
        };
        if let Some(inst) = &entry.instance_id {
            if inst.len() != 33 || inst.first() != Some(&0x01) {
                return Err(refuse(format!(
                    "instance-id {} is not 33 bytes starting with 0x01 (EAT UEID type RAND)",
                    hex::encode(inst)
                )));
            }
        }
        if let Some(imp) = &entry.implementation_id {
            if imp.len() != 32 {
                return Err(refuse(format!(
                    "implementation-id {} is {} bytes, expected 32",
                    hex::encode(imp),
                    imp.len()
                )));
            }
        }
        let idless = |e: &CpakEntry| e.instance_id.is_none() && e.implementation_id.is_none();
        if (idless(&entry) && !self.entries.is_empty()) || self.entries.iter().any(idless) {
            return Err(refuse(
                "a CPAK without instance-id or implementation-id is trusted for every token, so it must be the only key in the trust anchors".into(),
            ));
        }
        for e in &self.entries {
            if entry.instance_id.is_some() && e.instance_id == entry.instance_id {
                return Err(refuse(format!(
                    "instance-id {} is already bound to a CPAK ({})",
                    hex::encode(entry.instance_id.as_deref().unwrap_or_default()),
                    e.label
                )));
            }
            if entry.instance_id.is_none()
                && e.instance_id.is_none()
                && e.implementation_id == entry.implementation_id
            {
                return Err(refuse(format!(
                    "implementation-id {} already has an instance-independent CPAK ({})",
                    hex::encode(entry.implementation_id.as_deref().unwrap_or_default()),
                    e.label
                )));
            }
        }
        self.entries.push(entry);
        Ok(())
    }

    /// A store of one key trusted for any token, from a JWK (`kty` EC,
    /// `crv` P-256/P-384/P-521, `x`/`y` base64url).
    pub fn from_jwk(bytes: &[u8], source_name: &str) -> Result<Self, CcaError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| anchors_err(source_name, format!("not JSON: {e}")))?;
        let key = jwk_key(&value, source_name)?;
        let mut s = CcaTrustAnchors::new();
        s.add(CpakEntry {
            key,
            instance_id: None,
            implementation_id: None,
            label: source_name.to_string(),
        })?;
        Ok(s)
    }

    /// A store of one key trusted for any token, from a PEM `PUBLIC KEY`
    /// (SubjectPublicKeyInfo, RFC 5480) or its DER.
    pub fn from_spki(bytes: &[u8], source_name: &str) -> Result<Self, CcaError> {
        let key = spki_key(bytes, source_name)?;
        let mut s = CcaTrustAnchors::new();
        s.add(CpakEntry {
            key,
            instance_id: None,
            implementation_id: None,
            label: source_name.to_string(),
        })?;
        Ok(s)
    }

    /// A store from a TA store JSON array as published by rust-ccatoken:
    /// `[{"pkey": JWK, "implementation-id": hex, "instance-id": hex}, …]`
    /// (either id may be omitted; other members are refused so that a
    /// misspelt id cannot silently widen what a key is trusted for).
    pub fn from_ta_store_json(bytes: &[u8], source_name: &str) -> Result<Self, CcaError> {
        let entries: Vec<TaStoreEntry> = serde_json::from_slice(bytes).map_err(|e| {
            anchors_err(
                source_name,
                format!("not a TA store (a JSON array of {{\"pkey\", \"implementation-id\", \"instance-id\"}}): {e}"),
            )
        })?;
        if entries.is_empty() {
            return Err(anchors_err(source_name, "the TA store is empty".into()));
        }
        let mut s = CcaTrustAnchors::new();
        for (i, e) in entries.into_iter().enumerate() {
            let label = format!("{source_name}[{i}]");
            let key = jwk_key(&e.pkey, &label)?;
            let id = |v: Option<String>, what: &str| -> Result<Option<Vec<u8>>, CcaError> {
                v.map(|h| {
                    hex::decode(h.trim())
                        .map_err(|err| anchors_err(&label, format!("{what} is not hex: {err}")))
                })
                .transpose()
            };
            let instance_id = id(e.instance_id, "instance-id")?;
            let implementation_id = id(e.implementation_id, "implementation-id")?;
            s.add(CpakEntry {
                key,
                instance_id,
                implementation_id,
                label,
            })?;
        }
        Ok(s)
    }

    /// Recognises the file format: a JSON array is a TA store, a JSON object
    /// a JWK, anything else a PEM/DER public key.
    pub fn load(bytes: &[u8], source_name: &str) -> Result<Self, CcaError> {
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => CcaTrustAnchors::from_ta_store_json(bytes, source_name),
            Some(b'{') => CcaTrustAnchors::from_jwk(bytes, source_name),
            _ => CcaTrustAnchors::from_spki(bytes, source_name),
        }
    }

    /// Adds every entry of `other`.
    pub fn extend(&mut self, other: CcaTrustAnchors) -> Result<(), CcaError> {
        for e in other.entries {
            self.add(e)?;
        }
        Ok(())
    }

    /// Finds the CPAK for a token's instance and implementation ids.
    pub fn find(
        &self,
        instance_id: &[u8],
        implementation_id: &[u8],
    ) -> Result<(&CpakEntry, MatchedBy), CcaError> {
        if let Some(e) = self
            .entries
            .iter()
            .find(|e| e.instance_id.as_deref() == Some(instance_id))
        {
            if let Some(endorsed) = &e.implementation_id {
                if endorsed.as_slice() != implementation_id {
                    return Err(CcaError::ImplementationMismatch {
                        instance_id: hex::encode(instance_id),
                        endorsed: hex::encode(endorsed),
                        found: hex::encode(implementation_id),
                    });
                }
            }
            return Ok((e, MatchedBy::InstanceId));
        }
        if let Some(e) = self.entries.iter().find(|e| {
            e.instance_id.is_none() && e.implementation_id.as_deref() == Some(implementation_id)
        }) {
            return Ok((e, MatchedBy::ImplementationId));
        }
        if let [only] = self.entries.as_slice() {
            if only.instance_id.is_none() && only.implementation_id.is_none() {
                return Ok((only, MatchedBy::SoleKey));
            }
        }
        Err(CcaError::UnknownKey {
            instance_id: hex::encode(instance_id),
            implementation_id: hex::encode(implementation_id),
            detail: if self.entries.is_empty() {
                "the trust anchors hold no CPAK".into()
            } else {
                format!(
                    "the trust anchors hold {} CPAK(s), none for this instance or implementation",
                    self.entries.len()
                )
            },
        })
    }
}

/// What the verifier reports about the CPAK that verified a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpakInfo {
    /// SHA-256 of the uncompressed point.
    pub fingerprint: Hex,
    /// The curve.
    pub curve: Curve,
    /// How it was found.
    pub matched_by: MatchedBy,
    /// The trust-anchor entry it came from.
    pub label: String,
    /// Set when it is a published test key (only with `allow_test_keys`).
    pub test_key: Option<&'static str>,
}

fn anchors_err(source_name: &str, detail: String) -> CcaError {
    CcaError::Anchors {
        source_name: source_name.to_string(),
        detail,
    }
}

fn jwk_key(value: &serde_json::Value, source_name: &str) -> Result<EcPublicKey, CcaError> {
    let jwk: Jwk = serde_json::from_value(value.clone())
        .map_err(|e| anchors_err(source_name, format!("not an EC JWK: {e}")))?;
    if jwk.d.is_some() {
        return Err(anchors_err(
            source_name,
            "the JWK holds a private key (\"d\"); supply the public key only".into(),
        ));
    }
    if jwk.kty != "EC" {
        return Err(anchors_err(
            source_name,
            format!("JWK kty {:?} is not \"EC\"", jwk.kty),
        ));
    }
    let curve = Curve::from_jwk_name(&jwk.crv).ok_or_else(|| {
        anchors_err(
            source_name,
            format!("JWK crv {:?} is not P-256, P-384 or P-521", jwk.crv),
        )
    })?;
    let x = base64url(&jwk.x)
        .ok_or_else(|| anchors_err(source_name, "JWK x is not unpadded base64url".into()))?;
    let y = base64url(&jwk.y)
        .ok_or_else(|| anchors_err(source_name, "JWK y is not unpadded base64url".into()))?;
    EcPublicKey::from_coordinates(curve, &x, &y).ok_or_else(|| {
        anchors_err(
            source_name,
            format!(
                "JWK x/y ({} and {} bytes) are not a point on {curve} ({} bytes each)",
                x.len(),
                y.len(),
                curve.coordinate_len()
            ),
        )
    })
}

fn spki_key(bytes: &[u8], source_name: &str) -> Result<EcPublicKey, CcaError> {
    use x509_parser::oid_registry::{
        OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    };
    use x509_parser::prelude::FromDer;
    use x509_parser::x509::SubjectPublicKeyInfo;

    let der = if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        let mut found = None;
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|e| anchors_err(source_name, format!("bad PEM: {e}")))?;
            if pem.label == "PUBLIC KEY" {
                found = Some(pem.contents);
                break;
            }
        }
        found.ok_or_else(|| anchors_err(source_name, "no PEM \"PUBLIC KEY\" block".into()))?
    } else {
        bytes.to_vec()
    };
    let (rest, spki) = SubjectPublicKeyInfo::from_der(&der).map_err(|e| {
        anchors_err(
            source_name,
            format!(
                "not a SubjectPublicKeyInfo (PEM PUBLIC KEY or DER), nor a JWK or TA store: {e}"
            ),
        )
    })?;
    if !rest.is_empty() {
        return Err(anchors_err(
            source_name,
            format!("{} bytes after the SubjectPublicKeyInfo", rest.len()),
        ));
    }
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY {
        return Err(anchors_err(
            source_name,
            format!(
                "key algorithm {} is not id-ecPublicKey",
                spki.algorithm.algorithm
            ),
        ));
    }
    let curve_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .ok_or_else(|| anchors_err(source_name, "EC key without a named curve".into()))?;
    let curve = if curve_oid == OID_EC_P256 {
        Curve::P256
    } else if curve_oid == OID_NIST_EC_P384 {
        Curve::P384
    } else if curve_oid == OID_NIST_EC_P521 {
        Curve::P521
    } else {
        return Err(anchors_err(
            source_name,
            format!("EC curve {curve_oid} is not P-256, P-384 or P-521"),
        ));
    };
    let point = spki.subject_public_key.data.as_ref();
    let key = EcPublicKey::from_sec1(point).ok_or_else(|| {
        anchors_err(
            source_name,
            format!("the public key is not an uncompressed {curve} point"),
        )
    })?;
    if key.curve() != curve {
        return Err(anchors_err(
            source_name,
            format!(
                "the point is a {} point but the curve is {curve}",
                key.curve()
            ),
        ));
    }
    Ok(key)
}

/// Decodes unpadded base64url (RFC 4648 §5, as JWK requires, RFC 7515 §2).
/// Padding is tolerated; any other character, or non-zero leftover bits,
/// is refused.
pub fn base64url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P384_JWK: &str = r#"{"crv":"P-384","kty":"EC","x":"IShnxS4rlQiwpCCpBWDzlNLfqiG911FP8akBr-fh94uxHU5m-Kijivp2r2oxxN6M","y":"hM4tr8mWQli1P61xh3T0ViDREbF26DGOEYfbAjWjGNN7pZf-6A4OTHYqEryz6m7U"}"#;
    const P256_PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMKBCTNIcKUSDii11ySs3526iDZ8A\niTo7Tu6KPAqv7D7gS2XpJFbZiItSs3m9+9Ue6GnvHw/GW2ZZaVtszggXIw==\n-----END PUBLIC KEY-----\n";

    #[test]
    fn base64url_is_strict() {
        assert_eq!(base64url("").unwrap(), b"");
        assert_eq!(base64url("Zg").unwrap(), b"f");
        assert_eq!(base64url("Zm8").unwrap(), b"fo");
        assert_eq!(base64url("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url("-_8").unwrap(), [0xfb, 0xff]);
        assert!(base64url("Zh").is_none()); // non-zero leftover bits
        assert!(base64url("Z").is_none());
        assert!(base64url("a+b/").is_none());
    }

    #[test]
    fn published_test_keys_are_recognised() {
        let a = CcaTrustAnchors::from_jwk(P384_JWK.as_bytes(), "jwk").unwrap();
        let k = &a.entries()[0].key;
        assert_eq!(k.curve(), Curve::P384);
        assert!(test_key(k).is_some());
        let b = CcaTrustAnchors::load(P256_PEM.as_bytes(), "pem").unwrap();
        let k = &b.entries()[0].key;
        assert_eq!(k.curve(), Curve::P256);
        assert!(test_key(k).unwrap().name.contains("P-256"));
    }

    #[test]
    fn jwk_problems_are_named() {
        let bad_crv = P384_JWK.replace("P-384", "P-256");
        let e = CcaTrustAnchors::from_jwk(bad_crv.as_bytes(), "k").unwrap_err();
        assert!(e.to_string().contains("not a point on P-256"), "{e}");
        let private = P384_JWK.replace("\"kty\"", "\"d\":\"AAAA\",\"kty\"");
        let e = CcaTrustAnchors::from_jwk(private.as_bytes(), "k").unwrap_err();
        assert!(e.to_string().contains("private key"), "{e}");
        let rsa = P384_JWK.replace("\"EC\"", "\"RSA\"");
        assert!(CcaTrustAnchors::from_jwk(rsa.as_bytes(), "k").is_err());
        // y off the curve.
        let off = P384_JWK.replace("hM4tr8", "hM4tr9");
        assert!(CcaTrustAnchors::from_jwk(off.as_bytes(), "k").is_err());
    }

    fn entry(inst: Option<u8>, imp: Option<u8>) -> CpakEntry {
        let a = CcaTrustAnchors::from_jwk(P384_JWK.as_bytes(), "k").unwrap();
        CpakEntry {
            key: a.entries()[0].key.clone(),
            instance_id: inst.map(|b| {
                let mut v = vec![b; 33];
                v[0] = 1;
                v
            }),
            implementation_id: imp.map(|b| vec![b; 32]),
            label: format!("{inst:?}/{imp:?}"),
        }
    }

    #[test]
    fn lookup_order_and_ambiguity() {
        let inst = |b: u8| {
            let mut v = vec![b; 33];
            v[0] = 1;
            v
        };
        let mut s = CcaTrustAnchors::new();
        s.add(entry(Some(2), Some(9))).unwrap();
        s.add(entry(None, Some(7))).unwrap();
        assert_eq!(s.find(&inst(2), &[9; 32]).unwrap().1, MatchedBy::InstanceId);
        let e = s.find(&inst(2), &[8; 32]).unwrap_err();
        assert_eq!(
            cogito_core::CogitoError::code(&e),
            "cca.key.implementation_mismatch"
        );
        assert_eq!(
            s.find(&inst(3), &[7; 32]).unwrap().1,
            MatchedBy::ImplementationId
        );
        let e = s.find(&inst(3), &[6; 32]).unwrap_err();
        assert_eq!(cogito_core::CogitoError::code(&e), "cca.key.unknown");
        // Ambiguous additions are refused.
        assert!(s.add(entry(Some(2), None)).is_err());
        assert!(s.add(entry(None, Some(7))).is_err());
        assert!(s.add(entry(None, None)).is_err());
        // A sole id-less key matches anything.
        let mut one = CcaTrustAnchors::new();
        one.add(entry(None, None)).unwrap();
        assert_eq!(one.find(&inst(5), &[5; 32]).unwrap().1, MatchedBy::SoleKey);
        assert!(one.add(entry(Some(4), None)).is_err());
        // Malformed ids are refused.
        let mut bad = entry(Some(2), None);
        bad.instance_id = Some(vec![2; 33]);
        assert!(CcaTrustAnchors::new().add(bad).is_err());
    }

    #[test]
    fn ta_store_refuses_unknown_members() {
        let store = format!(r#"[{{"pkey": {P384_JWK}, "instance_id": "01"}}]"#);
        let e = CcaTrustAnchors::load(store.as_bytes(), "ta").unwrap_err();
        assert!(e.to_string().contains("instance_id"), "{e}");
        assert!(CcaTrustAnchors::load(b"[]", "ta").is_err());
    }
}
