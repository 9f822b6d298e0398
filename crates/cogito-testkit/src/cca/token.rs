//! CCA platform and realm claims and the two token envelopes, with every
//! field settable (draft-ffm-rats-cca-token; Arm RMM §A7.2).
//!
//! The shapes mirror the real tokens in `shared/vectors/cca`: claim keys
//! in their order, software components `{1 type, 5 signer id, 4 version,
//! 2 measurement, 6 hash alg}`, the RAK as a raw 97-byte point (realm
//! tokens without a profile) or as a COSE_Key `{1: 2, -1: 2, -2: x, -3: y}`
//! (realm profiles), the 2024 realm profile's extra claims 256 and 44243,
//! and both envelopes: tag 399 `{44234: bstr, 44241: bstr}` and tag 907
//! `{44234: [263, bstr], 44241: [263, bstr]}`.

use sha2::{Digest, Sha256, Sha384, Sha512};

use super::cbor::{int_map, Cbor};
use super::cose::{Key, Sign1};
use crate::keys::EcKey;

/// Platform profile of draft-ffm-rats-cca-token.
pub const PLATFORM_PROFILE_2023: &str = "tag:arm.com,2023:cca_platform#1.0.0";
/// Platform profile of the first CCA platform tokens (CCA Security Model).
pub const PLATFORM_PROFILE_SSD: &str = "http://arm.com/CCA-SSD/1.0.0";
/// Realm profile of draft-ffm-rats-cca-token (RMM 1.0, COSE_Key RAK).
pub const REALM_PROFILE_2023: &str = "tag:arm.com,2023:realm#1.0.0";
/// Realm profile of RMM 1.1 tokens (COSE_Key RAK, MEC policy claim).
pub const REALM_PROFILE_2024: &str = "tag:arm.com,2024:realm#2.0.0";

/// Tag of the CCA token collection.
pub const TAG_CCA_TOKEN: u64 = 399;
/// Tag of a CMW collection.
pub const TAG_CMW_COLLECTION: u64 = 907;
/// Collection key of the platform token.
pub const LABEL_PLATFORM: i64 = 44234;
/// Collection key of the realm token.
pub const LABEL_REALM: i64 = 44241;
/// CoAP content-format of the CMW records, as TF-M's iat-verifier writes
/// them.
pub const CMW_CONTENT_FORMAT: u64 = 263;

/// Claim keys.
pub mod key {
    /// Profile (platform and realm).
    pub const PROFILE: i64 = 265;
    /// Challenge (platform and realm).
    pub const CHALLENGE: i64 = 10;
    /// Implementation id.
    pub const IMPLEMENTATION_ID: i64 = 2396;
    /// Instance id (also the realm's instance claim in the 2024 profile).
    pub const INSTANCE_ID: i64 = 256;
    /// Platform configuration.
    pub const CONFIG: i64 = 2401;
    /// Lifecycle.
    pub const LIFECYCLE: i64 = 2395;
    /// Software components.
    pub const SW_COMPONENTS: i64 = 2399;
    /// Verification service.
    pub const VERIFICATION_SERVICE: i64 = 2400;
    /// Platform hash algorithm.
    pub const PLATFORM_HASH_ALGO: i64 = 2402;
    /// Realm personalization value.
    pub const PERSONALIZATION_VALUE: i64 = 44235;
    /// Realm measurement hash algorithm.
    pub const REALM_HASH_ALGO: i64 = 44236;
    /// Realm public key (RAK).
    pub const RAK: i64 = 44237;
    /// Realm initial measurement.
    pub const RIM: i64 = 44238;
    /// Realm extensible measurements.
    pub const REMS: i64 = 44239;
    /// RAK hash algorithm (the binding).
    pub const RAK_HASH_ALGO: i64 = 44240;
    /// MEC policy (2024 realm profile).
    pub const MEC_POLICY: i64 = 44243;
}

/// A hash algorithm by its Named Information registry name.
pub fn digest(alg: &str, data: &[u8]) -> Vec<u8> {
    match alg {
        "sha-256" => Sha256::digest(data).to_vec(),
        "sha-384" => Sha384::digest(data).to_vec(),
        "sha-512" => Sha512::digest(data).to_vec(),
        other => panic!("no hash algorithm {other:?}"),
    }
}

/// One software component (claim 2399 entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwComponent {
    /// 1: component type.
    pub component_type: String,
    /// 5: signer id.
    pub signer_id: Vec<u8>,
    /// 4: version.
    pub version: Option<String>,
    /// 2: measurement value.
    pub measurement: Vec<u8>,
    /// 6: hash algorithm of the measurement.
    pub hash_alg: Option<String>,
}

impl SwComponent {
    fn to_cbor(&self) -> Cbor {
        let mut m = vec![
            (1, Cbor::text(&self.component_type)),
            (5, Cbor::bytes(&self.signer_id)),
        ];
        if let Some(v) = &self.version {
            m.push((4, Cbor::text(v)));
        }
        m.push((2, Cbor::bytes(&self.measurement)));
        if let Some(h) = &self.hash_alg {
            m.push((6, Cbor::text(h)));
        }
        int_map(m)
    }
}

/// The platform token claims. The challenge is not here: it is the hash
/// of the realm token's RAK claim unless [`TokenSpec::platform_challenge`]
/// overrides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformClaims {
    /// 265.
    pub profile: String,
    /// 2396 (32 bytes).
    pub implementation_id: [u8; 32],
    /// 256 (33 bytes, 0x01 ‖ 32).
    pub instance_id: Vec<u8>,
    /// 2401.
    pub config: Vec<u8>,
    /// 2395.
    pub lifecycle: u64,
    /// 2399.
    pub sw_components: Vec<SwComponent>,
    /// 2400.
    pub verification_service: Option<String>,
    /// 2402.
    pub hash_algo: String,
}

impl PlatformClaims {
    /// The claims map entries, challenge included, in the order of the
    /// draft-ffm-00 and tag-907 tokens.
    pub fn entries(&self, challenge: &[u8]) -> Vec<(Cbor, Cbor)> {
        let mut m = vec![
            (key::PROFILE, Cbor::text(&self.profile)),
            (key::CHALLENGE, Cbor::bytes(challenge)),
            (key::IMPLEMENTATION_ID, Cbor::bytes(&self.implementation_id)),
            (key::INSTANCE_ID, Cbor::bytes(&self.instance_id)),
            (key::CONFIG, Cbor::bytes(&self.config)),
            (key::LIFECYCLE, Cbor::Uint(self.lifecycle)),
            (key::PLATFORM_HASH_ALGO, Cbor::text(&self.hash_algo)),
        ];
        if let Some(v) = &self.verification_service {
            m.push((key::VERIFICATION_SERVICE, Cbor::text(v)));
        }
        m.push((
            key::SW_COMPONENTS,
            Cbor::Array(self.sw_components.iter().map(|c| c.to_cbor()).collect()),
        ));
        m.into_iter().map(|(k, v)| (Cbor::int(k), v)).collect()
    }
}

/// How claim 44237 carries the RAK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RakEncoding {
    /// The raw uncompressed SEC1 point (97 bytes), as realm tokens without
    /// a profile carry it.
    RawSec1,
    /// A serialized COSE_Key, as the realm profiles require.
    CoseKey,
}

impl RakEncoding {
    /// cogito's name for it (`raw-sec1`, `cose-key`).
    pub fn as_str(self) -> &'static str {
        match self {
            RakEncoding::RawSec1 => "raw-sec1",
            RakEncoding::CoseKey => "cose-key",
        }
    }
}

/// The realm token claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealmClaims {
    /// 265 (absent in RMM 1.0 EAC5 tokens).
    pub profile: Option<String>,
    /// 10 (64 bytes).
    pub challenge: Vec<u8>,
    /// 256, as the 2024 realm profile tokens carry it.
    pub instance_id: Option<Vec<u8>>,
    /// 44236.
    pub hash_algo: String,
    /// 44240.
    pub rak_hash_algo: String,
    /// 44235 (64 bytes).
    pub personalization_value: Vec<u8>,
    /// How 44237 encodes the RAK.
    pub rak_encoding: RakEncoding,
    /// 44238.
    pub rim: Vec<u8>,
    /// 44243, as the 2024 realm profile tokens carry it.
    pub mec_policy: Option<u64>,
    /// 44239 (4 entries).
    pub rems: Vec<Vec<u8>>,
}

impl RealmClaims {
    /// The bytes of claim 44237 for `rak`.
    pub fn rak_claim(&self, rak: &Key) -> Vec<u8> {
        match self.rak_encoding {
            RakEncoding::RawSec1 => rak.public_sec1(),
            RakEncoding::CoseKey => rak.cose_key().encode(),
        }
    }

    /// The claims map entries, in the order of the tag-907 tokens.
    pub fn entries(&self, rak_claim: &[u8]) -> Vec<(Cbor, Cbor)> {
        let mut m = Vec::new();
        if let Some(p) = &self.profile {
            m.push((key::PROFILE, Cbor::text(p)));
        }
        m.push((key::CHALLENGE, Cbor::bytes(&self.challenge)));
        if let Some(i) = &self.instance_id {
            m.push((key::INSTANCE_ID, Cbor::bytes(i)));
        }
        m.push((key::REALM_HASH_ALGO, Cbor::text(&self.hash_algo)));
        m.push((key::RAK_HASH_ALGO, Cbor::text(&self.rak_hash_algo)));
        m.push((
            key::PERSONALIZATION_VALUE,
            Cbor::bytes(&self.personalization_value),
        ));
        m.push((key::RAK, Cbor::bytes(rak_claim)));
        m.push((key::RIM, Cbor::bytes(&self.rim)));
        if let Some(p) = self.mec_policy {
            m.push((key::MEC_POLICY, Cbor::Uint(p)));
        }
        m.push((
            key::REMS,
            Cbor::Array(self.rems.iter().map(|r| Cbor::bytes(r)).collect()),
        ));
        m.into_iter().map(|(k, v)| (Cbor::int(k), v)).collect()
    }
}

/// The envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// Tag 399: `{44234: bstr, 44241: bstr}`.
    Tag399,
    /// Tag 907: `{44234: [263, bstr], 44241: [263, bstr]}`.
    Tag907,
}

impl Envelope {
    /// Its CBOR tag.
    pub fn tag(self) -> u64 {
        match self {
            Envelope::Tag399 => TAG_CCA_TOKEN,
            Envelope::Tag907 => TAG_CMW_COLLECTION,
        }
    }
}

/// An edit of a claims map before it is signed.
pub type MapEdit = fn(&mut Vec<(Cbor, Cbor)>);

/// An edit of the finished token bytes (after signing), given the built
/// token for offsets.
pub type ByteEdit = fn(&mut Vec<u8>, &BuiltToken);

/// Everything a token is made of.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// The envelope.
    pub envelope: Envelope,
    /// Another envelope tag in place of 399/907 (same shape).
    pub envelope_tag: Option<u64>,
    /// CoAP content-format of the tag-907 records.
    pub cmw_content_format: u64,
    /// The CPAK (signs the platform token unless `platform_signer`).
    pub cpak: Key,
    /// Signs the platform token instead of the CPAK.
    pub platform_signer: Option<Key>,
    /// The platform protected-header algorithm instead of the signer's.
    pub platform_alg: Option<i64>,
    /// Whether the platform COSE_Sign1 carries tag 18.
    pub platform_tagged: bool,
    /// The platform claims.
    pub platform: PlatformClaims,
    /// The platform challenge instead of the hash of the RAK claim.
    pub platform_challenge: Option<Vec<u8>>,
    /// Edits of the platform claims map before signing.
    pub platform_edit: Option<MapEdit>,
    /// The RAK (in claim 44237; signs the realm token unless `realm_signer`).
    pub rak: Key,
    /// Signs the realm token instead of the RAK.
    pub realm_signer: Option<Key>,
    /// Whether the realm COSE_Sign1 carries tag 18.
    pub realm_tagged: bool,
    /// The realm claims.
    pub realm: RealmClaims,
    /// Edits of the realm claims map before signing.
    pub realm_edit: Option<MapEdit>,
    /// Edits of the encoded realm claims (after `realm_edit`, before
    /// signing).
    pub realm_payload_edit: Option<fn(&mut Vec<u8>)>,
    /// Edits of the collection map entries (after both tokens are signed).
    pub envelope_edit: Option<MapEdit>,
    /// Edits of the finished bytes.
    pub post: Vec<ByteEdit>,
}

/// A built token and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltToken {
    /// The token bytes.
    pub bytes: Vec<u8>,
    /// The envelope tag written.
    pub envelope_tag: u64,
    /// The platform COSE_Sign1.
    pub platform: Sign1,
    /// The realm COSE_Sign1.
    pub realm: Sign1,
    /// The platform challenge written.
    pub platform_challenge: Vec<u8>,
    /// The bytes of claim 44237.
    pub rak_claim: Vec<u8>,
}

impl BuiltToken {
    /// Offset of the first occurrence of `needle` in the token.
    pub fn find(&self, needle: &[u8]) -> usize {
        self.bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("needle in token")
    }
}

impl TokenSpec {
    /// The RAK used for the standard FAKE realm.
    pub fn standard_rak() -> Key {
        Key::P384(EcKey::derive("cca/rak"))
    }

    /// Builds the token.
    pub fn build(&self) -> BuiltToken {
        let rak_claim = self.realm.rak_claim(&self.rak);
        let mut realm_entries = self.realm.entries(&rak_claim);
        if let Some(edit) = self.realm_edit {
            edit(&mut realm_entries);
        }
        let mut realm_payload = Cbor::Map(realm_entries).encode();
        if let Some(edit) = self.realm_payload_edit {
            edit(&mut realm_payload);
        }
        let realm_signer = self.realm_signer.as_ref().unwrap_or(&self.rak);
        let mut realm = Sign1::sign(realm_signer, realm_signer.alg(), realm_payload);
        realm.tagged = self.realm_tagged;

        let platform_challenge = self
            .platform_challenge
            .clone()
            .unwrap_or_else(|| digest(&self.realm.rak_hash_algo, &rak_claim));
        let mut platform_entries = self.platform.entries(&platform_challenge);
        if let Some(edit) = self.platform_edit {
            edit(&mut platform_entries);
        }
        let platform_payload = Cbor::Map(platform_entries).encode();
        let platform_signer = self.platform_signer.as_ref().unwrap_or(&self.cpak);
        let alg = self.platform_alg.unwrap_or(platform_signer.alg());
        let mut platform = Sign1::sign(platform_signer, alg, platform_payload);
        platform.tagged = self.platform_tagged;

        let wrap = |s: &Sign1| match self.envelope {
            Envelope::Tag399 => Cbor::Bytes(s.encode()),
            Envelope::Tag907 => Cbor::Array(vec![
                Cbor::Uint(self.cmw_content_format),
                Cbor::Bytes(s.encode()),
            ]),
        };
        let mut entries = vec![
            (Cbor::int(LABEL_PLATFORM), wrap(&platform)),
            (Cbor::int(LABEL_REALM), wrap(&realm)),
        ];
        if let Some(edit) = self.envelope_edit {
            edit(&mut entries);
        }
        let envelope_tag = self.envelope_tag.unwrap_or(self.envelope.tag());
        let bytes = Cbor::tag(envelope_tag, Cbor::Map(entries)).encode();
        let mut built = BuiltToken {
            bytes,
            envelope_tag,
            platform,
            realm,
            platform_challenge,
            rak_claim,
        };
        for edit in &self.post {
            let mut b = built.bytes.clone();
            edit(&mut b, &built);
            built.bytes = b;
        }
        built
    }
}
