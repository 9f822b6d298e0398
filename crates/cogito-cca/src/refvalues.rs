//! Reference values for CCA claims: a comparison helper for software
//! components and a loader for the rust-ccatoken JSON store format
//! (`reference_values.json` in the vectors). Reference values are
//! informational here; a policy decides what a mismatch means.
//!
//! Components are keyed by (component type, measurement value): a digest
//! alone is not enough, since the same image measured as another component
//! type is another platform state. A reference that also names a signer id
//! or version must agree on it too.
//!
//! CoRIM (the Veraison endorsement format, `*.corim.cbor`) is not read yet.

use cogito_core::hexser::Hex;
use serde::{Deserialize, Serialize};

use crate::claims::{PlatformClaims, RealmClaims, SwComponent};
use crate::error::CcaError;

/// One expected software component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwComponentRef {
    /// Expected component type (1); `None` matches only components without one.
    pub component_type: Option<String>,
    /// Expected measurement value (2).
    pub measurement_value: Hex,
    /// Expected signer id (5), if constrained.
    pub signer_id: Option<Hex>,
    /// Expected version (4), if constrained.
    pub version: Option<String>,
}

/// How one component compares with the references.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentOutcome {
    /// A reference has this (type, measurement) and agrees on signer and version.
    Match,
    /// A reference has this (type, measurement) but another signer id.
    SignerMismatch,
    /// A reference has this (type, measurement) but another version.
    VersionMismatch,
    /// No reference has this (type, measurement).
    NotFound,
}

/// The comparison of one token component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentMatch {
    /// Index in the token's software components.
    pub index: usize,
    /// Its type.
    pub component_type: Option<String>,
    /// Its measurement.
    pub measurement_value: Hex,
    /// The outcome.
    pub outcome: ComponentOutcome,
    /// Index of the reference compared with, if any.
    pub reference: Option<usize>,
    /// Expected vs. found, for mismatches.
    pub detail: String,
}

/// Compares every component with the references, keyed by (type,
/// measurement value).
pub fn match_sw_components(
    components: &[SwComponent],
    references: &[SwComponentRef],
) -> Vec<ComponentMatch> {
    components
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let candidates: Vec<(usize, &SwComponentRef)> = references
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.component_type == c.component_type
                        && r.measurement_value == c.measurement_value
                })
                .collect();
            let mut result = ComponentMatch {
                index,
                component_type: c.component_type.clone(),
                measurement_value: c.measurement_value.clone(),
                outcome: ComponentOutcome::NotFound,
                reference: None,
                detail: String::new(),
            };
            let signer_ok =
                |r: &SwComponentRef| r.signer_id.as_ref().is_none_or(|s| *s == c.signer_id);
            let version_ok = |r: &SwComponentRef| {
                r.version.is_none() || r.version.as_deref() == c.version.as_deref()
            };
            if let Some((i, _)) = candidates
                .iter()
                .find(|(_, r)| signer_ok(r) && version_ok(r))
            {
                result.outcome = ComponentOutcome::Match;
                result.reference = Some(*i);
            } else if let Some((i, r)) = candidates.first() {
                result.reference = Some(*i);
                if !signer_ok(r) {
                    result.outcome = ComponentOutcome::SignerMismatch;
                    result.detail = format!(
                        "signer id {} expected, {} found",
                        r.signer_id.as_ref().map(Hex::to_hex).unwrap_or_default(),
                        c.signer_id.to_hex()
                    );
                } else {
                    result.outcome = ComponentOutcome::VersionMismatch;
                    result.detail = format!(
                        "version {:?} expected, {:?} found",
                        r.version.as_deref().unwrap_or_default(),
                        c.version.as_deref().unwrap_or_default()
                    );
                }
            } else if let Some(other) = references
                .iter()
                .find(|r| r.measurement_value == c.measurement_value)
            {
                result.detail = format!(
                    "the measurement is a reference for component type {:?}, not {:?}",
                    other.component_type.as_deref().unwrap_or_default(),
                    c.component_type.as_deref().unwrap_or_default()
                );
            } else {
                result.detail = "no reference has this component type and measurement".into();
            }
            result
        })
        .collect()
}

/// One acceptable platform state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformReference {
    /// The platform implementation id it applies to.
    pub implementation_id: Hex,
    /// The expected platform configuration (2401).
    pub config: Option<Hex>,
    /// The expected software components.
    pub sw_components: Vec<SwComponentRef>,
}

/// One acceptable realm state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealmReference {
    /// Expected RIM.
    pub initial_measurement: Hex,
    /// Expected REM0–3, if constrained.
    pub extensible_measurements: Option<Vec<Hex>>,
    /// Expected personalization value, if constrained.
    pub personalization_value: Option<Hex>,
    /// Expected RAK hash algorithm, if constrained.
    pub rak_hash_algorithm: Option<String>,
}

/// A platform compared with one reference state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformAppraisal {
    /// Index of the reference state.
    pub reference: usize,
    /// Whether the configuration matches (`None`: not constrained).
    pub config_matches: Option<bool>,
    /// Per-component outcomes.
    pub components: Vec<ComponentMatch>,
    /// Every component matched, and the configuration if constrained.
    pub matches: bool,
}

/// A realm compared with one reference state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealmAppraisal {
    /// Index of the reference state.
    pub reference: usize,
    /// RIM equal.
    pub rim_matches: bool,
    /// REMs equal (`None`: not constrained).
    pub rems_match: Option<bool>,
    /// Personalization value equal (`None`: not constrained).
    pub rpv_matches: Option<bool>,
    /// RAK hash algorithm equal (`None`: not constrained).
    pub rak_hash_algorithm_matches: Option<bool>,
    /// All constrained fields equal.
    pub matches: bool,
}

/// A set of reference values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReferenceValues {
    /// Acceptable platform states.
    pub platform: Vec<PlatformReference>,
    /// Acceptable realm states.
    pub realm: Vec<RealmReference>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonStore {
    #[serde(default)]
    platform: Vec<JsonPlatform>,
    #[serde(default)]
    realm: Vec<JsonRealm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPlatform {
    #[serde(rename = "implementation-id")]
    implementation_id: String,
    #[serde(rename = "platform-configuration", default)]
    config: Option<String>,
    #[serde(rename = "sw-components", default)]
    sw_components: Vec<JsonComponent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonComponent {
    #[serde(rename = "component-type", default)]
    component_type: Option<String>,
    #[serde(rename = "measurement-value")]
    measurement_value: String,
    #[serde(rename = "signer-id", default)]
    signer_id: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRealm {
    #[serde(rename = "initial-measurement")]
    initial_measurement: String,
    #[serde(rename = "extensible-measurements", default)]
    extensible_measurements: Option<Vec<String>>,
    #[serde(rename = "personalization-value", default)]
    personalization_value: Option<String>,
    #[serde(rename = "rak-hash-algorithm", default)]
    rak_hash_algorithm: Option<String>,
}

impl ReferenceValues {
    /// Loads the rust-ccatoken JSON store format:
    /// `{"platform": [{"implementation-id", "platform-configuration",
    /// "sw-components": [{"component-type", "measurement-value",
    /// "signer-id", "version"}]}], "realm": [{"initial-measurement",
    /// "extensible-measurements", "personalization-value",
    /// "rak-hash-algorithm"}]}`, byte strings as hex.
    pub fn from_json(bytes: &[u8], source_name: &str) -> Result<Self, CcaError> {
        let err = |detail: String| CcaError::ReferenceValues {
            source_name: source_name.to_string(),
            detail,
        };
        let store: JsonStore = serde_json::from_slice(bytes)
            .map_err(|e| err(format!("not a reference-value store: {e}")))?;
        let hx = |s: &str, what: &str| -> Result<Hex, CcaError> {
            hex::decode(s.trim())
                .map(Hex)
                .map_err(|e| err(format!("{what} {s:?} is not hex: {e}")))
        };
        let mut out = ReferenceValues::default();
        for (i, p) in store.platform.into_iter().enumerate() {
            let mut sw = Vec::with_capacity(p.sw_components.len());
            for (j, c) in p.sw_components.into_iter().enumerate() {
                let at = format!("platform[{i}].sw-components[{j}]");
                sw.push(SwComponentRef {
                    component_type: c.component_type,
                    measurement_value: hx(
                        &c.measurement_value,
                        &format!("{at}.measurement-value"),
                    )?,
                    signer_id: c
                        .signer_id
                        .map(|s| hx(&s, &format!("{at}.signer-id")))
                        .transpose()?,
                    version: c.version,
                });
            }
            out.platform.push(PlatformReference {
                implementation_id: hx(
                    &p.implementation_id,
                    &format!("platform[{i}].implementation-id"),
                )?,
                config: p
                    .config
                    .map(|s| hx(&s, &format!("platform[{i}].platform-configuration")))
                    .transpose()?,
                sw_components: sw,
            });
        }
        for (i, r) in store.realm.into_iter().enumerate() {
            out.realm.push(RealmReference {
                initial_measurement: hx(
                    &r.initial_measurement,
                    &format!("realm[{i}].initial-measurement"),
                )?,
                extensible_measurements: r
                    .extensible_measurements
                    .map(|v| {
                        v.iter()
                            .enumerate()
                            .map(|(j, s)| {
                                hx(s, &format!("realm[{i}].extensible-measurements[{j}]"))
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .transpose()?,
                personalization_value: r
                    .personalization_value
                    .map(|s| hx(&s, &format!("realm[{i}].personalization-value")))
                    .transpose()?,
                rak_hash_algorithm: r.rak_hash_algorithm,
            });
        }
        Ok(out)
    }

    /// Compares the platform with every reference state for its
    /// implementation id (empty when none applies).
    pub fn appraise_platform(&self, p: &PlatformClaims) -> Vec<PlatformAppraisal> {
        self.platform
            .iter()
            .enumerate()
            .filter(|(_, r)| r.implementation_id == p.implementation_id)
            .map(|(reference, r)| {
                let components = match_sw_components(&p.sw_components, &r.sw_components);
                let config_matches = r.config.as_ref().map(|c| *c == p.config);
                let matches = config_matches != Some(false)
                    && components
                        .iter()
                        .all(|c| c.outcome == ComponentOutcome::Match);
                PlatformAppraisal {
                    reference,
                    config_matches,
                    components,
                    matches,
                }
            })
            .collect()
    }

    /// Compares the realm with every reference state.
    pub fn appraise_realm(&self, r: &RealmClaims) -> Vec<RealmAppraisal> {
        self.realm
            .iter()
            .enumerate()
            .map(|(reference, rv)| {
                let rim_matches = rv.initial_measurement == r.initial_measurement;
                let rems_match = rv
                    .extensible_measurements
                    .as_ref()
                    .map(|v| *v == r.extensible_measurements);
                let rpv_matches = rv
                    .personalization_value
                    .as_ref()
                    .map(|v| *v == r.personalization_value);
                let rak_hash_algorithm_matches = rv
                    .rak_hash_algorithm
                    .as_ref()
                    .map(|a| a == r.public_key_hash_algo_id.as_str());
                RealmAppraisal {
                    reference,
                    rim_matches,
                    rems_match,
                    rpv_matches,
                    rak_hash_algorithm_matches,
                    matches: rim_matches
                        && rems_match != Some(false)
                        && rpv_matches != Some(false)
                        && rak_hash_algorithm_matches != Some(false),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(t: &str, m: u8, s: u8, v: &str) -> SwComponent {
        SwComponent {
            component_type: Some(t.into()),
            measurement_value: Hex(vec![m; 32]),
            version: Some(v.into()),
            signer_id: Hex(vec![s; 32]),
            hash_algo_id: None,
            extra: vec![],
        }
    }

    fn rf(t: &str, m: u8, s: Option<u8>, v: Option<&str>) -> SwComponentRef {
        SwComponentRef {
            component_type: Some(t.into()),
            measurement_value: Hex(vec![m; 32]),
            signer_id: s.map(|s| Hex(vec![s; 32])),
            version: v.map(str::to_string),
        }
    }

    #[test]
    fn components_are_keyed_by_type_and_measurement() {
        let token = [
            comp("BL", 1, 9, "1.0"),
            comp("RMM", 2, 9, "2.0"),
            comp("M1", 1, 9, "1.0"),
            comp("M2", 3, 8, "1.0"),
        ];
        let refs = [
            rf("BL", 1, Some(9), Some("1.0")),
            rf("RMM", 2, Some(9), Some("2.1")),
            rf("M2", 3, Some(7), None),
        ];
        let m = match_sw_components(&token, &refs);
        assert_eq!(m[0].outcome, ComponentOutcome::Match);
        assert_eq!(m[0].reference, Some(0));
        assert_eq!(m[1].outcome, ComponentOutcome::VersionMismatch);
        // The BL digest under another type does not match.
        assert_eq!(m[2].outcome, ComponentOutcome::NotFound);
        assert!(m[2].detail.contains("\"BL\""), "{}", m[2].detail);
        assert_eq!(m[3].outcome, ComponentOutcome::SignerMismatch);
    }
}
