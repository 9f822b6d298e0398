//! The typed CCA claims (platform and realm), their strict parsing from the
//! COSE payloads, and the mapping into cogito's normalized [`Claims`].
//!
//! Claim keys and types follow draft-ffm-rats-cca-token (platform claims,
//! PSA-derived; realm claims from the Arm RMM specification §A7.2) and were
//! checked against every real token in `shared/vectors/cca`.

use cogito_core::hexser::Hex;
use cogito_core::{Claims, Signer, TcbStatus, Tee};
use serde::Serialize;

use crate::cbor::{self, Item, Value};
use crate::cose::CoseAlg;
use crate::error::CcaError;
use crate::keys::{CpakInfo, Curve, EcPublicKey};

/// Platform profile of the first CCA platform tokens (CCA Security Model).
pub const PLATFORM_PROFILE_SSD: &str = "http://arm.com/CCA-SSD/1.0.0";
/// Platform profile of draft-ffm-rats-cca-token.
pub const PLATFORM_PROFILE_2023: &str = "tag:arm.com,2023:cca_platform#1.0.0";
/// Realm profile of draft-ffm-rats-cca-token (RMM 1.0, COSE_Key RAK).
pub const REALM_PROFILE_2023: &str = "tag:arm.com,2023:realm#1.0.0";
/// Realm profile of RMM 1.1 tokens (COSE_Key RAK, MEC policy).
pub const REALM_PROFILE_2024: &str = "tag:arm.com,2024:realm#2.0.0";

/// Claim keys (draft-ffm-rats-cca-token §"CCA Platform Claims" and
/// §"Realm Claims"; RMM §A7.2.3). Checked against the real tokens.
pub mod key {
    /// EAT profile (platform and realm).
    pub const PROFILE: i64 = 265;
    /// Challenge / nonce (platform and realm).
    pub const CHALLENGE: i64 = 10;
    /// Platform implementation id.
    pub const IMPLEMENTATION_ID: i64 = 2396;
    /// Platform instance id (EAT UEID).
    pub const INSTANCE_ID: i64 = 256;
    /// Platform configuration.
    pub const CONFIG: i64 = 2401;
    /// Platform lifecycle.
    pub const LIFECYCLE: i64 = 2395;
    /// Platform software components.
    pub const SW_COMPONENTS: i64 = 2399;
    /// Platform verification service indicator.
    pub const VERIFICATION_SERVICE: i64 = 2400;
    /// Platform hash algorithm id.
    pub const PLATFORM_HASH_ALGO: i64 = 2402;
    /// Realm personalization value.
    pub const PERSONALIZATION_VALUE: i64 = 44235;
    /// Realm measurement hash algorithm id.
    pub const REALM_HASH_ALGO: i64 = 44236;
    /// Realm public key (RAK).
    pub const RAK: i64 = 44237;
    /// Realm initial measurement (RIM).
    pub const RIM: i64 = 44238;
    /// Realm extensible measurements (REM0–3).
    pub const REMS: i64 = 44239;
    /// Realm public key hash algorithm id.
    pub const RAK_HASH_ALGO: i64 = 44240;
    /// Realm MEC policy (2024 realm profile).
    pub const MEC_POLICY: i64 = 44243;
}

/// The realm's MEC (memory encryption context) policy, 2024 realm profile:
/// the draft describes text, shipping tokens carry an integer; both are
/// reported as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum MecPolicy {
    /// An integer policy (as RMM implementations encode it).
    Int(i64),
    /// A text policy (as the draft describes it).
    Text(String),
}

/// The PSA/CCA lifecycle states (draft-ffm-rats-cca-token, "Lifecycle";
/// each is a range `0xS000..=0xS0ff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    /// 0x0000–0x00ff.
    Unknown,
    /// 0x1000–0x10ff.
    AssemblyAndTest,
    /// 0x2000–0x20ff.
    CcaPlatformRotProvisioning,
    /// 0x3000–0x30ff: the only production state.
    Secured,
    /// 0x4000–0x40ff: debug of the non-CCA-platform parts is enabled.
    NonCcaPlatformDebug,
    /// 0x5000–0x50ff: the CCA platform RoT can be debugged.
    RecoverableCcaPlatformRotDebug,
    /// 0x6000–0x60ff.
    Decommissioned,
}

impl LifecycleState {
    /// Every state.
    pub const ALL: [LifecycleState; 7] = [
        LifecycleState::Unknown,
        LifecycleState::AssemblyAndTest,
        LifecycleState::CcaPlatformRotProvisioning,
        LifecycleState::Secured,
        LifecycleState::NonCcaPlatformDebug,
        LifecycleState::RecoverableCcaPlatformRotDebug,
        LifecycleState::Decommissioned,
    ];

    /// The state of a lifecycle claim value; `None` outside every range.
    pub fn from_value(v: u64) -> Option<LifecycleState> {
        if v & 0xff00 != (v & 0xf000) || v > 0x60ff {
            return None;
        }
        LifecycleState::ALL
            .get(usize::try_from(v >> 12).ok()?)
            .copied()
    }

    /// A short name (`secured`, `non_cca_platform_debug`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleState::Unknown => "unknown",
            LifecycleState::AssemblyAndTest => "assembly_and_test",
            LifecycleState::CcaPlatformRotProvisioning => "cca_platform_rot_provisioning",
            LifecycleState::Secured => "secured",
            LifecycleState::NonCcaPlatformDebug => "non_cca_platform_debug",
            LifecycleState::RecoverableCcaPlatformRotDebug => "recoverable_cca_platform_rot_debug",
            LifecycleState::Decommissioned => "decommissioned",
        }
    }

    /// Parses [`Self::as_str`] names.
    pub fn from_name(name: &str) -> Option<LifecycleState> {
        LifecycleState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the platform can be debugged in this state.
    pub fn is_debug(self) -> bool {
        matches!(
            self,
            LifecycleState::NonCcaPlatformDebug | LifecycleState::RecoverableCcaPlatformRotDebug
        )
    }
}

/// The lifecycle claim: raw value and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    /// The raw claim value.
    pub value: u16,
    /// Its state.
    pub state: LifecycleState,
}

/// A hash algorithm named by a Named Information Hash Algorithm Registry
/// string (draft-ffm-rats-cca-token, "hash-algo-id").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum HashAlg {
    /// `sha-256`.
    #[serde(rename = "sha-256")]
    Sha256,
    /// `sha-384`.
    #[serde(rename = "sha-384")]
    Sha384,
    /// `sha-512`.
    #[serde(rename = "sha-512")]
    Sha512,
}

impl HashAlg {
    /// From its registry name.
    pub fn from_name(name: &str) -> Option<HashAlg> {
        match name {
            "sha-256" => Some(HashAlg::Sha256),
            "sha-384" => Some(HashAlg::Sha384),
            "sha-512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// Its registry name.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha-256",
            HashAlg::Sha384 => "sha-384",
            HashAlg::Sha512 => "sha-512",
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use aws_lc_rs::digest;
        let alg = match self {
            HashAlg::Sha256 => &digest::SHA256,
            HashAlg::Sha384 => &digest::SHA384,
            HashAlg::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }
}

/// How the realm public key claim encodes the RAK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RakEncoding {
    /// Tokens without a realm profile: a raw uncompressed SEC1 P-384 point
    /// (`bytes .size 97`, RMM 1.0 EAC5).
    #[serde(rename = "raw-sec1")]
    RawSec1,
    /// Realm profiles 2023/2024: a serialized COSE_Key (RFC 9052 §7).
    #[serde(rename = "cose-key")]
    CoseKey,
}

impl RakEncoding {
    /// Its name (`raw-sec1`, `cose-key`).
    pub fn as_str(self) -> &'static str {
        match self {
            RakEncoding::RawSec1 => "raw-sec1",
            RakEncoding::CoseKey => "cose-key",
        }
    }
}

/// A claim label: CWT claim keys are integers or text (RFC 8392 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ClaimKey {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
}

/// A claim value kept but not interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimValue {
    /// An integer.
    Int(i128),
    /// A byte string (hex in JSON).
    Bytes(Hex),
    /// A text string.
    Text(String),
    /// An array.
    Array(Vec<ClaimValue>),
    /// A map, as key/value pairs in encoded order.
    Map(Vec<(ClaimValue, ClaimValue)>),
    /// A tagged value.
    Tag(u64, Box<ClaimValue>),
    /// A simple value (20 false, 21 true, 22 null, 23 undefined).
    Simple(u8),
}

impl ClaimValue {
    /// An owned copy of a decoded item.
    pub fn from_item(item: &Item<'_>) -> ClaimValue {
        match &item.value {
            Value::Uint(n) => ClaimValue::Int(i128::from(*n)),
            Value::Nint(n) => ClaimValue::Int(-1 - i128::from(*n)),
            Value::Bytes(b) => ClaimValue::Bytes(Hex::from_slice(b)),
            Value::Text(t) => ClaimValue::Text((*t).to_string()),
            Value::Array(a) => ClaimValue::Array(a.iter().map(ClaimValue::from_item).collect()),
            Value::Map(m) => ClaimValue::Map(
                m.iter()
                    .map(|(k, v)| (ClaimValue::from_item(k), ClaimValue::from_item(v)))
                    .collect(),
            ),
            Value::Tag(t, v) => ClaimValue::Tag(*t, Box::new(ClaimValue::from_item(v))),
            Value::Simple(s) => ClaimValue::Simple(*s),
        }
    }
}

/// A claim this verifier does not interpret, reported as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtraClaim {
    /// Its key.
    pub key: ClaimKey,
    /// Its value.
    pub value: ClaimValue,
}

/// One platform software component (claim 2399 entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwComponent {
    /// 1: component type (e.g. `BL`, `RMM`).
    pub component_type: Option<String>,
    /// 2: measurement value.
    pub measurement_value: Hex,
    /// 4: version.
    pub version: Option<String>,
    /// 5: signer id.
    pub signer_id: Hex,
    /// 6: hash algorithm id of the measurement.
    pub hash_algo_id: Option<String>,
    /// Other keys, uninterpreted.
    pub extra: Vec<ExtraClaim>,
}

/// The CCA platform token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformClaims {
    /// The COSE algorithm that signed the platform token.
    pub alg: CoseAlg,
    /// 265: profile.
    pub profile: String,
    /// 10: challenge (the hash of the RAK claim).
    pub challenge: Hex,
    /// 2396: implementation id.
    pub implementation_id: Hex,
    /// 256: instance id.
    pub instance_id: Hex,
    /// 2401: platform configuration.
    pub config: Hex,
    /// 2395: lifecycle.
    pub lifecycle: Lifecycle,
    /// 2399: software components.
    pub sw_components: Vec<SwComponent>,
    /// 2400: verification service indicator.
    pub verification_service: Option<String>,
    /// 2402: hash algorithm id.
    pub hash_algo_id: String,
    /// Other claims, uninterpreted.
    pub extra: Vec<ExtraClaim>,
}

/// The CCA realm (delegated) token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealmClaims {
    /// The COSE algorithm that signed the realm token.
    pub alg: CoseAlg,
    /// 265: realm profile, absent in RMM 1.0 EAC5 tokens.
    pub profile: Option<String>,
    /// 10: challenge (64 bytes).
    pub challenge: Hex,
    /// 44235: personalization value (64 bytes).
    pub personalization_value: Hex,
    /// 44238: realm initial measurement (RIM).
    pub initial_measurement: Hex,
    /// 44239: realm extensible measurements (REM0–3).
    pub extensible_measurements: Vec<Hex>,
    /// 44236: measurement hash algorithm id.
    pub hash_algo_id: String,
    /// 44237: the realm public key claim, exactly its bytes.
    pub public_key: Hex,
    /// How 44237 encodes the key.
    pub public_key_encoding: RakEncoding,
    /// The RAK's curve.
    pub public_key_curve: Curve,
    /// 44240: hash algorithm of the binding.
    pub public_key_hash_algo_id: HashAlg,
    /// Realm instance id (claim 256, 2024 realm profile), when present.
    pub instance_id: Option<Hex>,
    /// MEC policy (claim 44243, 2024 realm profile), when present.
    pub mec_policy: Option<MecPolicy>,
    /// Other claims, uninterpreted.
    pub extra: Vec<ExtraClaim>,
}

/// Everything cogito reports about a CCA token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CcaClaims {
    /// The envelope: 399 (CCA token collection) or 907 (CMW collection).
    pub envelope_tag: u64,
    /// The platform token.
    pub platform: PlatformClaims,
    /// The realm token.
    pub realm: RealmClaims,
    /// The 44240 hash of the 44237 bytes (equal to the platform challenge
    /// in a verified token).
    pub rak_claim_hash: Hex,
    /// The CPAK that verified the platform token (absent before verification).
    pub cpak: Option<CpakInfo>,
}

impl CcaClaims {
    /// Maps into cogito's normalized claims (DESIGN.md, "Normalized claims").
    /// `tcb_status` is NotEvaluated: CCA has no vendor TCB status, and the
    /// platform is only appraised against reference values by a policy.
    pub fn normalized(&self) -> Claims {
        let mut signer: Vec<Signer> = Vec::new();
        for c in &self.platform.sw_components {
            if !signer.iter().any(|s| s.value == c.signer_id) {
                signer.push(Signer {
                    kind: "sw_component_signer_id",
                    value: c.signer_id.clone(),
                });
            }
        }
        Claims {
            tee: Tee::Cca,
            launch_measurement: self.realm.initial_measurement.clone(),
            runtime_measurements: self.realm.extensible_measurements.clone(),
            report_data: self.realm.challenge.clone(),
            init_data: self.realm.personalization_value.clone(),
            debug: self.platform.lifecycle.state.is_debug(),
            tcb_status: TcbStatus::NotEvaluated,
            platform_instance: Some(self.platform.instance_id.clone()),
            signer,
        }
    }
}

/// Reads claims out of one decoded claims map, naming the claim on error.
struct ClaimMap<'a, 'b> {
    part: &'static str,
    entries: &'b [(Item<'a>, Item<'a>)],
}

impl<'a, 'b> ClaimMap<'a, 'b> {
    fn new(part: &'static str, payload: &'b Item<'a>) -> Result<Self, CcaError> {
        let entries = payload.as_map().ok_or_else(|| CcaError::Cose {
            part,
            offset: payload.start,
            detail: format!(
                "payload is {}; expected a map of claims",
                payload.describe()
            ),
        })?;
        for (k, _) in entries {
            if k.as_i64().is_none() && k.as_text().is_none() {
                return Err(CcaError::Cose {
                    part,
                    offset: k.start,
                    detail: format!(
                        "claim key {} is not an integer or text (RFC 8392 §3)",
                        k.key_text()
                    ),
                });
            }
        }
        Ok(ClaimMap { part, entries })
    }

    fn get(&self, key: i64) -> Option<&'b Item<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_i64() == Some(key))
            .map(|(_, v)| v)
    }

    fn required(&self, key: i64, name: &'static str) -> Result<&'b Item<'a>, CcaError> {
        self.get(key).ok_or(CcaError::MissingClaim {
            part: self.part,
            key,
            name,
        })
    }

    fn bad(
        &self,
        key: i64,
        name: impl Into<String>,
        item: &Item<'_>,
        expected: impl Into<String>,
    ) -> CcaError {
        CcaError::BadClaim {
            part: self.part,
            key,
            name: name.into(),
            offset: item.start,
            found: item.describe(),
            expected: expected.into(),
        }
    }

    fn bytes_of(
        &self,
        key: i64,
        name: impl Into<String>,
        item: &Item<'a>,
        sizes: &[usize],
    ) -> Result<&'a [u8], CcaError> {
        match item.as_bytes() {
            Some(b) if sizes.is_empty() || sizes.contains(&b.len()) => Ok(b),
            _ => Err(self.bad(key, name, item, bytes_expectation(sizes))),
        }
    }

    fn bytes(&self, key: i64, name: &'static str, sizes: &[usize]) -> Result<&'a [u8], CcaError> {
        let item = self.required(key, name)?;
        self.bytes_of(key, name, item, sizes)
    }

    fn text_of(
        &self,
        key: i64,
        name: impl Into<String>,
        item: &Item<'a>,
    ) -> Result<&'a str, CcaError> {
        item.as_text()
            .ok_or_else(|| self.bad(key, name, item, "a text string"))
    }

    fn text(&self, key: i64, name: &'static str) -> Result<&'a str, CcaError> {
        let item = self.required(key, name)?;
        self.text_of(key, name, item)
    }

    fn extras(&self, known: &[i64]) -> Vec<ExtraClaim> {
        extras(self.entries, known)
    }
}

fn extras(entries: &[(Item<'_>, Item<'_>)], known: &[i64]) -> Vec<ExtraClaim> {
    entries
        .iter()
        .filter_map(|(k, v)| {
            let key = match (k.as_i64(), k.as_text()) {
                (Some(i), _) if known.contains(&i) => return None,
                (Some(i), _) => ClaimKey::Int(i),
                (None, Some(t)) => ClaimKey::Text(t.to_string()),
                (None, None) => ClaimKey::Text(k.key_text()),
            };
            Some(ExtraClaim {
                key,
                value: ClaimValue::from_item(v),
            })
        })
        .collect()
}

fn bytes_expectation(sizes: &[usize]) -> String {
    match sizes {
        [] => "a byte string".into(),
        [n] => format!("a byte string of {n} bytes"),
        _ => format!(
            "a byte string of {} bytes",
            sizes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The digest sizes a CCA hash claim may have (`bytes .size 32 / 48 / 64`).
const HASH_SIZES: &[usize] = &[32, 48, 64];

/// Parses the platform token payload.
pub fn parse_platform(payload: &Item<'_>, alg: CoseAlg) -> Result<PlatformClaims, CcaError> {
    let m = ClaimMap::new("platform", payload)?;
    let profile = m.text(key::PROFILE, "profile")?;
    if profile != PLATFORM_PROFILE_SSD && profile != PLATFORM_PROFILE_2023 {
        return Err(CcaError::UnknownProfile {
            part: "platform",
            found: profile.to_string(),
            supported: "http://arm.com/CCA-SSD/1.0.0, tag:arm.com,2023:cca_platform#1.0.0",
        });
    }
    let challenge = m.bytes(key::CHALLENGE, "challenge", HASH_SIZES)?;
    let implementation_id = m.bytes(key::IMPLEMENTATION_ID, "implementation-id", &[32])?;
    // Instance id: an EAT UEID of type RAND (0x01) and 32 bytes — the hash
    // of the CPAK's public key (draft-ffm-rats-cca-token, "Instance ID").
    let inst_item = m.required(key::INSTANCE_ID, "instance-id")?;
    let instance_id = match inst_item.as_bytes() {
        Some(b) if b.len() == 33 && b.first() == Some(&0x01) => b,
        _ => {
            return Err(m.bad(
                key::INSTANCE_ID,
                "instance-id",
                inst_item,
                "a byte string of 33 bytes starting with 0x01 (UEID type RAND)",
            ))
        }
    };
    let config = m.bytes(key::CONFIG, "config", &[])?;
    let lc_item = m.required(key::LIFECYCLE, "lifecycle")?;
    let lifecycle = lc_item
        .as_u64()
        .and_then(|v| Some((u16::try_from(v).ok()?, LifecycleState::from_value(v)?)))
        .map(|(value, state)| Lifecycle { value, state })
        .ok_or_else(|| {
            m.bad(
                key::LIFECYCLE,
                "lifecycle",
                lc_item,
                "an unsigned integer in one of the ranges 0x0000-0x00ff, 0x1000-0x10ff, …, 0x6000-0x60ff",
            )
        })?;
    let sw_item = m.required(key::SW_COMPONENTS, "sw-components")?;
    let sw_list = match sw_item.as_array() {
        Some(a) if !a.is_empty() => a,
        _ => {
            return Err(m.bad(
                key::SW_COMPONENTS,
                "sw-components",
                sw_item,
                "a non-empty array of software component maps",
            ))
        }
    };
    let mut sw_components = Vec::with_capacity(sw_list.len());
    for (i, c) in sw_list.iter().enumerate() {
        sw_components.push(parse_sw_component(&m, i, c)?);
    }
    let verification_service = match m.get(key::VERIFICATION_SERVICE) {
        Some(item) => Some(
            m.text_of(key::VERIFICATION_SERVICE, "verification-service", item)?
                .to_string(),
        ),
        None => None,
    };
    let hash_algo_id = m.text(key::PLATFORM_HASH_ALGO, "hash-algo-id")?;
    Ok(PlatformClaims {
        alg,
        profile: profile.to_string(),
        challenge: Hex::from_slice(challenge),
        implementation_id: Hex::from_slice(implementation_id),
        instance_id: Hex::from_slice(instance_id),
        config: Hex::from_slice(config),
        lifecycle,
        sw_components,
        verification_service,
        hash_algo_id: hash_algo_id.to_string(),
        extra: m.extras(&[
            key::PROFILE,
            key::CHALLENGE,
            key::IMPLEMENTATION_ID,
            key::INSTANCE_ID,
            key::CONFIG,
            key::LIFECYCLE,
            key::SW_COMPONENTS,
            key::VERIFICATION_SERVICE,
            key::PLATFORM_HASH_ALGO,
        ]),
    })
}

fn parse_sw_component(
    m: &ClaimMap<'_, '_>,
    i: usize,
    c: &Item<'_>,
) -> Result<SwComponent, CcaError> {
    let k = key::SW_COMPONENTS;
    let entries = c.as_map().ok_or_else(|| {
        m.bad(
            k,
            format!("sw-components[{i}]"),
            c,
            "a software component map",
        )
    })?;
    let get = |label: i64| {
        entries
            .iter()
            .find(|(key, _)| key.as_i64() == Some(label))
            .map(|(_, v)| v)
    };
    let opt_text = |label: i64, name: &str| -> Result<Option<String>, CcaError> {
        get(label)
            .map(|v| {
                m.text_of(k, format!("sw-components[{i}].{name}"), v)
                    .map(str::to_string)
            })
            .transpose()
    };
    let hash = |label: i64, name: &str| -> Result<Hex, CcaError> {
        let path = format!("sw-components[{i}].{name}");
        match get(label) {
            Some(v) => m.bytes_of(k, path, v, HASH_SIZES).map(Hex::from_slice),
            None => Err(CcaError::BadClaim {
                part: "platform",
                key: k,
                name: path,
                offset: c.start,
                found: "nothing (the component has no such key)".into(),
                expected: format!("a mandatory {name} (key {label})"),
            }),
        }
    };
    Ok(SwComponent {
        component_type: opt_text(1, "component-type")?,
        measurement_value: hash(2, "measurement-value")?,
        version: opt_text(4, "version")?,
        signer_id: hash(5, "signer-id")?,
        hash_algo_id: opt_text(6, "hash-algo-id")?,
        extra: extras(entries, &[1, 2, 4, 5, 6]),
    })
}

/// Parses the realm token payload; returns the claims and the RAK.
pub fn parse_realm(
    payload: &Item<'_>,
    alg: CoseAlg,
) -> Result<(RealmClaims, EcPublicKey), CcaError> {
    let m = ClaimMap::new("realm", payload)?;
    let profile = match m.get(key::PROFILE) {
        Some(item) => {
            let p = m.text_of(key::PROFILE, "profile", item)?;
            if p != REALM_PROFILE_2023 && p != REALM_PROFILE_2024 {
                return Err(CcaError::UnknownProfile {
                    part: "realm",
                    found: p.to_string(),
                    supported: "none (RMM 1.0 EAC5), tag:arm.com,2023:realm#1.0.0, tag:arm.com,2024:realm#2.0.0",
                });
            }
            Some(p.to_string())
        }
        None => None,
    };
    let challenge = m.bytes(key::CHALLENGE, "challenge", &[64])?;
    let rpv = m.bytes(key::PERSONALIZATION_VALUE, "personalization-value", &[64])?;
    let rim = m.bytes(key::RIM, "initial-measurement", HASH_SIZES)?;
    let rems_item = m.required(key::REMS, "extensible-measurements")?;
    let rems = match rems_item.as_array() {
        Some(a) if a.len() == 4 => a,
        _ => {
            return Err(m.bad(
                key::REMS,
                "extensible-measurements",
                rems_item,
                "an array of 4 measurements",
            ))
        }
    };
    let mut extensible_measurements = Vec::with_capacity(4);
    for (i, r) in rems.iter().enumerate() {
        extensible_measurements.push(Hex::from_slice(m.bytes_of(
            key::REMS,
            format!("extensible-measurements[{i}]"),
            r,
            HASH_SIZES,
        )?));
    }
    let hash_algo_id = m.text(key::REALM_HASH_ALGO, "hash-algo-id")?;
    let rak_hash_item = m.required(key::RAK_HASH_ALGO, "public-key-hash-algo-id")?;
    let rak_hash = m
        .text_of(key::RAK_HASH_ALGO, "public-key-hash-algo-id", rak_hash_item)
        .ok()
        .and_then(HashAlg::from_name)
        .ok_or_else(|| {
            m.bad(
                key::RAK_HASH_ALGO,
                "public-key-hash-algo-id",
                rak_hash_item,
                "\"sha-256\", \"sha-384\" or \"sha-512\"",
            )
        })?;
    let rak_item = m.required(key::RAK, "public-key")?;
    let (rak_bytes, encoding, rak) = if profile.is_none() {
        // RMM 1.0 EAC5: `bytes .size 97`, an uncompressed P-384 point.
        let b = m.bytes(key::RAK, "public-key", &[97])?;
        let k = EcPublicKey::from_sec1(b).ok_or_else(|| {
            m.bad(
                key::RAK,
                "public-key",
                rak_item,
                "an uncompressed SEC1 P-384 point (0x04 ‖ X ‖ Y) on the curve",
            )
        })?;
        (b, RakEncoding::RawSec1, k)
    } else {
        // Realm profiles: `bstr .cbor COSE_Key`.
        let b = m.bytes(key::RAK, "public-key", &[])?;
        let k = parse_cose_key(&m, rak_item)?;
        (b, RakEncoding::CoseKey, k)
    };
    let instance_id = match m.get(key::INSTANCE_ID) {
        None => None,
        Some(item) => Some(Hex::from_slice(m.bytes_of(
            key::INSTANCE_ID,
            "instance-id",
            item,
            &[],
        )?)),
    };
    let mec_policy = match m.get(key::MEC_POLICY) {
        None => None,
        Some(item) => Some(match (item.as_i64(), item.as_text()) {
            (Some(i), _) => MecPolicy::Int(i),
            (None, Some(t)) => MecPolicy::Text(t.to_string()),
            (None, None) => {
                return Err(m.bad(
                    key::MEC_POLICY,
                    "mec-policy",
                    item,
                    "an integer or a text string",
                ))
            }
        }),
    };
    Ok((
        RealmClaims {
            alg,
            profile,
            instance_id,
            mec_policy,
            challenge: Hex::from_slice(challenge),
            personalization_value: Hex::from_slice(rpv),
            initial_measurement: Hex::from_slice(rim),
            extensible_measurements,
            hash_algo_id: hash_algo_id.to_string(),
            public_key: Hex::from_slice(rak_bytes),
            public_key_encoding: encoding,
            public_key_curve: rak.curve(),
            public_key_hash_algo_id: rak_hash,
            extra: m.extras(&[
                key::PROFILE,
                key::CHALLENGE,
                key::PERSONALIZATION_VALUE,
                key::RIM,
                key::REMS,
                key::REALM_HASH_ALGO,
                key::RAK,
                key::RAK_HASH_ALGO,
                key::INSTANCE_ID,
                key::MEC_POLICY,
            ]),
        },
        rak,
    ))
}

/// An EC2 COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1) holding a public key:
/// kty (1) = 2, crv (-1), x (-2), y (-3) as byte strings; kid (2), alg (3)
/// and key_ops (4) are allowed; a private key (-4) or any other label is
/// refused.
fn parse_cose_key(m: &ClaimMap<'_, '_>, rak_item: &Item<'_>) -> Result<EcPublicKey, CcaError> {
    let k = key::RAK;
    let bad = |at: &Item<'_>, what: &str, expected: &str| CcaError::BadClaim {
        part: "realm",
        key: k,
        name: format!("public-key COSE_Key {what}"),
        offset: at.start,
        found: at.describe(),
        expected: expected.to_string(),
    };
    let decoded = cbor::decode_wrapped(rak_item)
        .ok_or_else(|| m.bad(k, "public-key", rak_item, "a byte string"))?
        .map_err(|error| CcaError::Cbor {
            context: "realm public key (COSE_Key)",
            error,
        })?;
    let entries = decoded
        .as_map()
        .ok_or_else(|| bad(&decoded, "", "a COSE_Key map"))?;
    let get = |label: i64| {
        entries
            .iter()
            .find(|(key, _)| key.as_i64() == Some(label))
            .map(|(_, v)| v)
    };
    for (label, _) in entries {
        if !matches!(label.as_i64(), Some(1 | 2 | 3 | 4 | -1 | -2 | -3)) {
            return Err(bad(
                label,
                &format!("label {}", label.key_text()),
                "only kty (1), kid (2), alg (3), key_ops (4), crv (-1), x (-2), y (-3) of a public EC2 key",
            ));
        }
    }
    let missing = |what: &str| CcaError::BadClaim {
        part: "realm",
        key: k,
        name: format!("public-key COSE_Key {what}"),
        offset: decoded.start,
        found: "nothing".into(),
        expected: format!("a {what}"),
    };
    let kty = get(1).ok_or_else(|| missing("kty (1)"))?;
    if kty.as_i64() != Some(2) {
        return Err(bad(kty, "kty (1)", "2 (EC2)"));
    }
    let crv_item = get(-1).ok_or_else(|| missing("crv (-1)"))?;
    let curve = crv_item
        .as_i64()
        .and_then(Curve::from_cose)
        .ok_or_else(|| bad(crv_item, "crv (-1)", "1 (P-256), 2 (P-384) or 3 (P-521)"))?;
    let n = curve.coordinate_len();
    let coord = |label: i64, what: &str| -> Result<&[u8], CcaError> {
        let item = get(label).ok_or_else(|| missing(what))?;
        match item.as_bytes() {
            Some(b) if b.len() == n => Ok(b),
            _ => Err(bad(
                item,
                what,
                &format!("a byte string of {n} bytes (uncompressed {curve} coordinate)"),
            )),
        }
    };
    let x = coord(-2, "x (-2)")?;
    let y = coord(-3, "y (-3)")?;
    if let Some(alg) = get(3) {
        if alg.as_i64().and_then(CoseAlg::from_id).map(|a| a.curve()) != Some(curve) {
            return Err(bad(
                alg,
                "alg (3)",
                &format!("the ECDSA algorithm of {curve}"),
            ));
        }
    }
    EcPublicKey::from_coordinates(curve, x, y)
        .ok_or_else(|| bad(&decoded, "point", &format!("a point on {curve}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_ranges() {
        assert_eq!(
            LifecycleState::from_value(0x3000),
            Some(LifecycleState::Secured)
        );
        assert_eq!(
            LifecycleState::from_value(0x30ff),
            Some(LifecycleState::Secured)
        );
        assert_eq!(
            LifecycleState::from_value(0x00ff),
            Some(LifecycleState::Unknown)
        );
        assert_eq!(
            LifecycleState::from_value(0x4001),
            Some(LifecycleState::NonCcaPlatformDebug)
        );
        assert_eq!(
            LifecycleState::from_value(0x5000),
            Some(LifecycleState::RecoverableCcaPlatformRotDebug)
        );
        assert_eq!(
            LifecycleState::from_value(0x60ff),
            Some(LifecycleState::Decommissioned)
        );
        for bad in [0x0100, 0x3100, 0x6100, 0x7000, 0x1_3000, u64::MAX] {
            assert_eq!(LifecycleState::from_value(bad), None, "{bad:#x}");
        }
        assert!(LifecycleState::NonCcaPlatformDebug.is_debug());
        assert!(!LifecycleState::Secured.is_debug());
        for s in LifecycleState::ALL {
            assert_eq!(LifecycleState::from_name(s.as_str()), Some(s));
        }
    }

    #[test]
    fn extra_values_serialize() {
        let item = cbor::decode(
            &[
                0xa1, 0x19, 0xac, 0xd3, 0x82, 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                0x41, 0xab,
            ],
            0,
        )
        .unwrap();
        let e = extras(item.as_map().unwrap(), &[]);
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"[{"key":44243,"value":{"array":[{"int":-18446744073709551616},{"bytes":"ab"}]}}]"#
        );
    }
}
