//! The EAR-style result: an AR4SI trustworthiness vector and status
//! (draft-ietf-rats-ar4si §2.3, draft-ietf-rats-ear §3).
//!
//! Each appraisal rule feeds one trustworthiness claim. A failed rule sets
//! its claim to that claim's contraindicated value, so the status is
//! `contraindicated` exactly when some rule failed; a passed rule with a
//! caveat (allowed but out-of-date TCB, an allowed debug guest) sets the
//! warning value; otherwise every claim a rule looked at is affirming and
//! claims no rule looked at stay `0` ("no claim").

use serde::Serialize;

/// The eight AR4SI trustworthiness claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustClaim {
    /// The attesting environment and its identity.
    InstanceIdentity,
    /// Configuration (guest policy, attributes, init data).
    Configuration,
    /// What was loaded (launch and runtime measurements).
    Executables,
    /// Files.
    FileSystem,
    /// Hardware and firmware (TCB).
    Hardware,
    /// Memory confidentiality.
    RuntimeOpaque,
    /// Secrets at rest.
    StorageOpaque,
    /// Data from other attesters.
    SourcedData,
}

impl TrustClaim {
    /// The JSON name (`instance-identity`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TrustClaim::InstanceIdentity => "instance-identity",
            TrustClaim::Configuration => "configuration",
            TrustClaim::Executables => "executables",
            TrustClaim::FileSystem => "file-system",
            TrustClaim::Hardware => "hardware",
            TrustClaim::RuntimeOpaque => "runtime-opaque",
            TrustClaim::StorageOpaque => "storage-opaque",
            TrustClaim::SourcedData => "sourced-data",
        }
    }

    /// The affirming value (AR4SI §2.3: recognized_instance,
    /// approved_config, approved_boot, approved_fs, genuine_hw,
    /// encrypted_rt, hw_encrypted_secrets, trusted_sources).
    pub fn affirming(self) -> i8 {
        match self {
            // Launch-time measurements only: "approved boot-time" (3);
            // cogito does not see the runtime of the guest.
            TrustClaim::Executables => 3,
            _ => 2,
        }
    }

    /// The warning value (unsafe_config, unsafe_rt, unsafe_hw, …).
    pub fn warning(self) -> i8 {
        32
    }

    /// The contraindicated value (unsupportable_config, contraindicated_rt,
    /// unrecognized_instance, contraindicated_hw, visible_rt, …).
    pub fn contraindicated(self) -> i8 {
        match self {
            TrustClaim::InstanceIdentity => 97,
            _ => 96,
        }
    }

    /// The claim's slot in [`TrustVector`] (its position in [`Self::ALL`]).
    fn slot(self) -> usize {
        match self {
            TrustClaim::InstanceIdentity => 0,
            TrustClaim::Configuration => 1,
            TrustClaim::Executables => 2,
            TrustClaim::FileSystem => 3,
            TrustClaim::Hardware => 4,
            TrustClaim::RuntimeOpaque => 5,
            TrustClaim::StorageOpaque => 6,
            TrustClaim::SourcedData => 7,
        }
    }

    const ALL: [TrustClaim; 8] = [
        TrustClaim::InstanceIdentity,
        TrustClaim::Configuration,
        TrustClaim::Executables,
        TrustClaim::FileSystem,
        TrustClaim::Hardware,
        TrustClaim::RuntimeOpaque,
        TrustClaim::StorageOpaque,
        TrustClaim::SourcedData,
    ];
}

/// The EAR status: the worst tier of the vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EarStatus {
    /// Every claim made is affirming.
    Affirming,
    /// Acceptable, with caveats.
    Warning,
    /// Refused.
    Contraindicated,
}

impl EarStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EarStatus::Affirming => "affirming",
            EarStatus::Warning => "warning",
            EarStatus::Contraindicated => "contraindicated",
        }
    }
}

/// The trustworthiness vector: one value per claim, 0 for "no claim".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrustVector([i8; 8]);

impl TrustVector {
    /// The value of `claim`.
    pub fn get(&self, claim: TrustClaim) -> i8 {
        // Every slot is in range: the array has one per claim.
        self.0.get(claim.slot()).copied().unwrap_or(0)
    }

    /// Raises `claim` to `value` if that is worse than what it holds
    /// (tiers order none < affirming < warning < contraindicated).
    pub fn raise(&mut self, claim: TrustClaim, value: i8) {
        if let Some(slot) = self.0.get_mut(claim.slot()) {
            if value > *slot {
                *slot = value;
            }
        }
    }

    /// The status: the worst tier present.
    pub fn status(&self) -> EarStatus {
        let worst = self.0.iter().copied().max().unwrap_or(0);
        if worst >= 96 {
            EarStatus::Contraindicated
        } else if worst >= 32 {
            EarStatus::Warning
        } else {
            EarStatus::Affirming
        }
    }
}

impl Serialize for TrustVector {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(8))?;
        for c in TrustClaim::ALL {
            m.serialize_entry(c.as_str(), &self.get(c))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_the_worst_tier() {
        let mut v = TrustVector::default();
        assert_eq!(v.status(), EarStatus::Affirming);
        v.raise(TrustClaim::Executables, TrustClaim::Executables.affirming());
        assert_eq!(v.status(), EarStatus::Affirming);
        v.raise(TrustClaim::Hardware, TrustClaim::Hardware.warning());
        assert_eq!(v.status(), EarStatus::Warning);
        // A later affirming rule never lowers a warning.
        v.raise(TrustClaim::Hardware, TrustClaim::Hardware.affirming());
        assert_eq!(v.get(TrustClaim::Hardware), 32);
        v.raise(
            TrustClaim::InstanceIdentity,
            TrustClaim::InstanceIdentity.contraindicated(),
        );
        assert_eq!(v.status(), EarStatus::Contraindicated);
        let json = serde_json::to_value(v).unwrap();
        assert_eq!(json["instance-identity"], 97);
        assert_eq!(json["file-system"], 0);
    }

    #[test]
    fn every_claim_has_its_own_slot() {
        for (i, c) in TrustClaim::ALL.into_iter().enumerate() {
            assert_eq!(c.slot(), i, "{c:?}");
        }
    }
}
