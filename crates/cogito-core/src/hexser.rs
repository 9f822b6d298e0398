//! Serde helpers: byte strings are written as lower-case hex in JSON.

use serde::Serializer;

/// Serializes any byte slice as a lower-case hex string.
pub fn serialize<S: Serializer, T: AsRef<[u8]>>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes.as_ref()))
}

/// Serializes an optional byte slice as a lower-case hex string or null.
pub fn serialize_opt<S: Serializer, T: AsRef<[u8]>>(
    bytes: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match bytes {
        Some(b) => s.serialize_str(&hex::encode(b.as_ref())),
        None => s.serialize_none(),
    }
}

/// Owned bytes that serialize as lower-case hex.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Hex(pub Vec<u8>);

impl Hex {
    /// Copies `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Hex(bytes.to_vec())
    }
    /// Lower-case hex text.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl AsRef<[u8]> for Hex {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl serde::Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}
