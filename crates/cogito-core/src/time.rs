//! The time a verification is judged at.
//!
//! Verification never reads the clock: the caller passes a
//! [`VerificationTime`] (the CLI's `--at`, or the clock read at the edge).

use std::fmt;

use serde::{Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VerificationTime(i64);

/// A time string that is not RFC 3339.
#[derive(Debug, thiserror::Error)]
#[error("invalid time {input:?}: expected RFC 3339, e.g. 2025-01-31T12:00:00Z ({reason})")]
pub struct TimeError {
    input: String,
    reason: String,
}

impl VerificationTime {
    /// From seconds since the Unix epoch.
    pub const fn from_unix(seconds: i64) -> Self {
        VerificationTime(seconds)
    }

    /// The system clock, read now. Only the edges (the CLI, the service)
    /// call this; verification takes the time as an argument. A clock
    /// before 1970 reads as the epoch.
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        VerificationTime(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 timestamp such as `2025-01-31T12:00:00Z`.
    pub fn parse_rfc3339(s: &str) -> Result<Self, TimeError> {
        OffsetDateTime::parse(s.trim(), &Rfc3339)
            .map(|t| VerificationTime(t.unix_timestamp()))
            .map_err(|e| TimeError {
                input: s.to_string(),
                reason: e.to_string(),
            })
    }

    /// Formats as RFC 3339 in UTC.
    pub fn to_rfc3339(self) -> String {
        match OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => t.format(&Rfc3339).unwrap_or_else(|_| self.0.to_string()),
            Err(_) => self.0.to_string(),
        }
    }
}

impl fmt::Display for VerificationTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for VerificationTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// A closed validity window `[not_before, not_after]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Window {
    /// First second of validity.
    pub not_before: VerificationTime,
    /// Last second of validity.
    pub not_after: VerificationTime,
}

impl Window {
    /// Whether `t` lies inside the window (both ends included, as RFC 5280
    /// §4.1.2.5 defines validity).
    pub fn contains(&self, t: VerificationTime) -> bool {
        self.not_before <= t && t <= self.not_after
    }

    /// The intersection of two windows (may be empty).
    pub fn intersect(&self, other: &Window) -> Window {
        Window {
            not_before: self.not_before.max(other.not_before),
            not_after: self.not_after.min(other.not_after),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = VerificationTime::parse_rfc3339("2023-04-05T00:00:00Z").unwrap();
        assert_eq!(t.unix(), 1_680_652_800);
        assert_eq!(t.to_rfc3339(), "2023-04-05T00:00:00Z");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let a = VerificationTime::parse_rfc3339("2023-04-05T02:00:00+02:00").unwrap();
        let b = VerificationTime::parse_rfc3339("2023-04-05T00:00:00Z").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn rejects_garbage() {
        assert!(VerificationTime::parse_rfc3339("yesterday").is_err());
        assert!(VerificationTime::parse_rfc3339("2023-04-05").is_err());
    }

    #[test]
    fn window_bounds_are_inclusive() {
        let w = Window {
            not_before: VerificationTime::from_unix(10),
            not_after: VerificationTime::from_unix(20),
        };
        assert!(w.contains(VerificationTime::from_unix(10)));
        assert!(w.contains(VerificationTime::from_unix(20)));
        assert!(!w.contains(VerificationTime::from_unix(9)));
        assert!(!w.contains(VerificationTime::from_unix(21)));
    }
}
