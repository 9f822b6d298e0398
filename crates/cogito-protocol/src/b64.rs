//! Base64 on the wire: the standard alphabet with padding (RFC 4648 §4),
//! canonical (no stray bits, no whitespace).

use base64::Engine as _;

/// Encodes bytes for a JSON field.
pub fn encode_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a JSON field; `None` when it is not canonical base64.
pub fn decode_b64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode_b64(b"hello"), "aGVsbG8=");
        assert_eq!(decode_b64("aGVsbG8=").unwrap(), b"hello");
        assert!(decode_b64("aGVsbG8").is_none(), "padding is required");
        assert!(decode_b64("aGVs bG8=").is_none());
        assert!(decode_b64("%%%").is_none());
    }
}
