//! The value types of policy files. Each validates itself while the TOML
//! is deserialized, so its error carries the line and column of the value
//! (`toml` attaches the span of the value whose `Deserialize` failed).

use std::fmt;
use std::marker::PhantomData;

use cogito_core::time::VerificationTime;
use cogito_core::TcbStatus;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Lengths a hex value may have. Most fields have exactly one; CCA
/// measurements follow their hash algorithm (32, 48 or 64 bytes).
pub trait HexLen: fmt::Debug + Clone + PartialEq + Eq {
    /// Allowed byte lengths.
    const LENS: &'static [usize];
    /// What the value is, for errors ("SHA-384 MEASUREMENT").
    const WHAT: &'static str;
    /// Whether `n` bytes is an allowed length.
    fn allows(n: usize) -> bool {
        Self::LENS.contains(&n)
    }
}

macro_rules! hex_len {
    ($name:ident, [$($n:expr),+], $what:expr) => {
        #[doc = concat!("Byte length marker: ", $what, ".")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl HexLen for $name {
            const LENS: &'static [usize] = &[$($n),+];
            const WHAT: &'static str = $what;
        }
    };
}

hex_len!(L48, [48], "48 bytes (a SHA-384 digest)");
hex_len!(L32, [32], "32 bytes");
hex_len!(L16, [16], "16 bytes");
hex_len!(L8, [8], "8 bytes");
hex_len!(L64, [64], "64 bytes");
hex_len!(
    LDigest,
    [32, 48, 64],
    "32, 48 or 64 bytes (a SHA-256/384/512 digest)"
);
/// Byte length marker: any length from 1 to 1024 bytes (identifiers and
/// configuration blobs whose size the platform does not fix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LAny;
impl HexLen for LAny {
    const LENS: &'static [usize] = &[];
    const WHAT: &'static str = "1 to 1024 bytes";
    fn allows(n: usize) -> bool {
        (1..=1024).contains(&n)
    }
}

/// Parses a hex string (`0x` prefix allowed, case-insensitive) of one of
/// `L::LENS` bytes.
pub fn parse_hex<L: HexLen>(s: &str) -> Result<Vec<u8>, String> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if t.len() % 2 == 1 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "an odd number of hex digits ({}), expected {}",
            t.len(),
            L::WHAT
        ));
    }
    let bytes = hex::decode(t).map_err(|e| format!("{s:?} is not hex ({e})"))?;
    if !L::allows(bytes.len()) {
        return Err(format!(
            "{} hex digits ({} bytes), expected {}",
            t.len(),
            bytes.len(),
            L::WHAT
        ));
    }
    Ok(bytes)
}

/// A hex byte string of a fixed set of lengths.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexBytes<L: HexLen>(pub Vec<u8>, PhantomData<L>);

impl<L: HexLen> HexBytes<L> {
    /// From bytes already known to have an allowed length.
    pub fn new(bytes: Vec<u8>) -> Self {
        HexBytes(bytes, PhantomData)
    }
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl<L: HexLen> fmt::Debug for HexBytes<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<'de, L: HexLen> Deserialize<'de> for HexBytes<L> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_hex::<L>(&s)
            .map(HexBytes::new)
            .map_err(de::Error::custom)
    }
}

/// When a reference value stops being accepted: a TOML date (`2027-01-01`,
/// meaning from 00:00:00 UTC that day) or date-time, or the same as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry(pub VerificationTime);

impl Expiry {
    /// Parses `YYYY-MM-DD` or RFC 3339.
    pub fn parse(s: &str) -> Result<Expiry, String> {
        let s = s.trim();
        let full = if s.len() == 10 {
            format!("{s}T00:00:00Z")
        } else {
            s.to_string()
        };
        VerificationTime::parse_rfc3339(&full)
            .map(Expiry)
            .map_err(|_| {
                format!("expiry {s:?}: expected a date (2027-01-31) or an RFC 3339 date-time")
            })
    }
}

impl<'de> Deserialize<'de> for Expiry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // TOML dates arrive as `toml::value::Datetime`; strings are accepted
        // too, for editors that quote everything.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Date(toml::value::Datetime),
        }
        let raw = Raw::deserialize(d)
            .map_err(|_| de::Error::custom("expected a date such as 2027-01-31"))?;
        let text = match raw {
            Raw::Text(s) => s,
            Raw::Date(dt) => {
                if dt.date.is_none() {
                    return Err(de::Error::custom(
                        "expected a date such as 2027-01-31, not a bare time",
                    ));
                }
                if dt.time.is_some() && dt.offset.is_none() {
                    return Err(de::Error::custom(
                        "a date-time needs an offset (Z or +hh:mm) to be unambiguous",
                    ));
                }
                dt.to_string()
            }
        };
        Expiry::parse(&text).map_err(de::Error::custom)
    }
}

/// One allowed value: the bytes, and optionally an expiry and a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefValue<L: HexLen> {
    /// The value.
    pub value: HexBytes<L>,
    /// From when it is no longer accepted.
    pub expires: Option<Expiry>,
    /// Free text: what this value is (image name, build id).
    pub note: Option<String>,
    /// The reference-value file it came from, if it was included.
    pub source: Option<String>,
}

impl<'de, L: HexLen> Deserialize<'de> for RefValue<L> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<L>(PhantomData<L>);
        impl<'de, L: HexLen> Visitor<'de> for V<L> {
            type Value = RefValue<L>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a hex string of {} or a table {{ value = \"…\", expires = 2027-01-31, note = \"…\" }}",
                    L::WHAT
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(RefValue {
                    value: HexBytes::new(parse_hex::<L>(s).map_err(E::custom)?),
                    expires: None,
                    note: None,
                    source: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut value = None;
                let mut expires = None;
                let mut note = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "value" if value.is_none() => value = Some(map.next_value::<HexBytes<L>>()?),
                        "expires" if expires.is_none() => expires = Some(map.next_value::<Expiry>()?),
                        "note" if note.is_none() => note = Some(map.next_value::<String>()?),
                        "value" | "expires" | "note" => {
                            return Err(de::Error::custom(format!("duplicate key `{key}`")))
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown key `{other}` in a reference value (expected value, expires, note)"
                            )))
                        }
                    }
                }
                let value = value.ok_or_else(|| de::Error::custom("missing `value`"))?;
                Ok(RefValue {
                    value,
                    expires,
                    note,
                    source: None,
                })
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A non-empty allow-list of reference values without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefList<L: HexLen>(pub Vec<RefValue<L>>);

impl<'de, L: HexLen> Deserialize<'de> for RefList<L> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The same bytes twice are a duplicate whatever their expiry or
        // note, and are named by their hex.
        non_empty_seq(
            d,
            |a: &RefValue<L>, b: &RefValue<L>| a.value == b.value,
            |r: &RefValue<L>| r.value.to_hex(),
        )
        .map(RefList)
    }
}

/// A list that must not be empty: an empty allow-list would refuse every
/// guest, which is never what a policy author means (leave the key out to
/// not constrain the claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de> + PartialEq + fmt::Debug> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        non_empty_seq(d, |a: &T, b: &T| a == b, |x: &T| format!("{x:?}")).map(NonEmpty)
    }
}

/// Reads a non-empty array in which no entry repeats: `same` says whether
/// two entries are the same, `name` names a repeated one in the error.
fn non_empty_seq<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    same: fn(&T, &T) -> bool,
    name: fn(&T) -> String,
) -> Result<Vec<T>, D::Error> {
    struct V<T> {
        same: fn(&T, &T) -> bool,
        name: fn(&T) -> String,
    }
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-empty array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out: Vec<T> = Vec::new();
            while let Some(x) = seq.next_element::<T>()? {
                if out.iter().any(|y| (self.same)(y, &x)) {
                    return Err(de::Error::custom(format!(
                        "{} is listed twice",
                        (self.name)(&x)
                    )));
                }
                out.push(x);
            }
            if out.is_empty() {
                return Err(de::Error::custom(
                    "an empty list would refuse every guest; leave the key out to not constrain this claim",
                ));
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V { same, name })
}

/// A TCB status name that the policy may allow (never `Revoked`: revoked
/// evidence is refused by verification before any policy sees it).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllowedStatus(pub TcbStatus);

impl fmt::Debug for AllowedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for AllowedStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match TcbStatus::from_name(&s) {
            Some(TcbStatus::Revoked) => Err(de::Error::custom(
                "Revoked can never be allowed: revoked evidence is refused before policy",
            )),
            Some(TcbStatus::Committed | TcbStatus::Provisional) => Err(de::Error::custom(format!(
                "{s} is an SEV-SNP firmware state; for SNP use snp.allow_provisional_firmware"
            ))),
            Some(st) => Ok(AllowedStatus(st)),
            None => Err(de::Error::custom(format!(
                "unknown TCB status {s:?}; expected one of UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, TDRelaunchAdvised, TDRelaunchAdvisedConfigurationNeeded, NotEvaluated"
            ))),
        }
    }
}

/// A duration such as `30d`, `12h`, `90m` or `3600s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration {
    /// Seconds.
    pub seconds: i64,
}

impl Duration {
    /// Parses `<n><unit>` with unit `d`, `h`, `m` or `s`.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let t = s.trim();
        let hint = || {
            format!(
                "duration {s:?}: expected a positive number and a unit, e.g. 30d, 12h, 90m, 3600s"
            )
        };
        let (num, unit) = t.split_at(t.len().saturating_sub(1));
        if !num.chars().all(|c| c.is_ascii_digit()) || num.is_empty() {
            return Err(hint());
        }
        let n: i64 = num.parse().map_err(|_| hint())?;
        let mul = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => return Err(hint()),
        };
        if n <= 0 {
            return Err(format!(
                "duration {s:?}: must be positive (zero would refuse all collateral)"
            ));
        }
        n.checked_mul(mul)
            .map(|seconds| Duration { seconds })
            .ok_or_else(hint)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s % 86_400 == 0 {
            write!(f, "{}d", s / 86_400)
        } else if s % 3_600 == 0 {
            write!(f, "{}h", s / 3_600)
        } else if s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(de::Error::custom)
    }
}

/// A bit mask written as hex (`"0x1f"`), at most 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask(pub u64);

impl<'de> Deserialize<'de> for Mask {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        if t.is_empty() || t.len() > 16 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(de::Error::custom(format!(
                "{s:?}: expected a 64-bit hex mask such as \"0x3\""
            )));
        }
        u64::from_str_radix(t, 16).map(Mask).map_err(|_| {
            de::Error::custom(format!("{s:?}: expected a 64-bit hex mask such as \"0x3\""))
        })
    }
}

/// A firmware version `major.minor` or `major.minor.build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FirmwareVersion(pub [u32; 3]);

impl FirmwareVersion {
    /// Parses `1.55` or `1.55.21`.
    pub fn parse(s: &str) -> Option<FirmwareVersion> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return None;
        }
        let mut out = [0u32; 3];
        for (slot, p) in out.iter_mut().zip(parts.iter()) {
            *slot = p.parse().ok()?;
        }
        Some(FirmwareVersion(out))
    }
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0[0], self.0[1], self.0[2])
    }
}

impl<'de> Deserialize<'de> for FirmwareVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FirmwareVersion::parse(&s).ok_or_else(|| {
            de::Error::custom(format!(
                "{s:?}: expected a firmware version such as \"1.55\" or \"1.55.21\""
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lengths_are_enforced() {
        assert!(parse_hex::<L48>(&"ab".repeat(48)).is_ok());
        assert!(parse_hex::<L48>(&format!("0x{}", "AB".repeat(48))).is_ok());
        let e = parse_hex::<L48>(&"ab".repeat(47)).unwrap_err();
        assert!(e.contains("47 bytes") && e.contains("48 bytes"), "{e}");
        assert!(parse_hex::<L48>("xyz").unwrap_err().contains("not hex"));
        assert!(parse_hex::<LDigest>(&"00".repeat(32)).is_ok());
        assert!(parse_hex::<LDigest>(&"00".repeat(33)).is_err());
        assert!(parse_hex::<L8>("abc")
            .unwrap_err()
            .contains("odd number of hex digits (3)"));
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("30d").unwrap().seconds, 30 * 86_400);
        assert_eq!(Duration::parse("90m").unwrap().to_string(), "90m");
        assert!(Duration::parse("0d").is_err());
        assert!(Duration::parse("-1h").is_err());
        assert!(Duration::parse("10").is_err());
        assert!(Duration::parse("d").is_err());
        assert!(Duration::parse("99999999999999999d").is_err());
        assert!(Duration::parse("+5d").is_err());
    }

    #[test]
    fn expiry_dates_are_midnight_utc() {
        let e = Expiry::parse("2027-01-31").unwrap();
        assert_eq!(e.0.to_rfc3339(), "2027-01-31T00:00:00Z");
        assert!(Expiry::parse("31.01.2027").is_err());
    }

    #[test]
    fn firmware_versions_order() {
        let a = FirmwareVersion::parse("1.55").unwrap();
        let b = FirmwareVersion::parse("1.55.21").unwrap();
        assert!(a < b);
        assert!(FirmwareVersion::parse("1").is_none());
        assert!(FirmwareVersion::parse("1.x").is_none());
    }
}
