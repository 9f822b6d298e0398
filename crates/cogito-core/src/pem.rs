//! One certificate in strict PEM (RFC 7468 §3): a `CERTIFICATE` block whose
//! body is canonical base64 (RFC 4648 §4, padded, no stray bits), with
//! nothing around it but whitespace.
//!
//! Hosts fill SEV-SNP certificate tables from files their operator
//! supplies, and some write PEM where the GHCB specification expects DER;
//! go-sev-guest and virtee/sev accept either. cogito accepts such an entry
//! only when it is exactly one block, so an entry cannot smuggle a second
//! certificate or text that a lax decoder would skip.

use base64::Engine as _;

/// Why a PEM certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    /// The text does not begin with `-----BEGIN CERTIFICATE-----`.
    #[error("does not begin with -----BEGIN CERTIFICATE----- (after whitespace)")]
    NoBegin,
    /// No `-----END CERTIFICATE-----` line.
    #[error("has no -----END CERTIFICATE----- line")]
    NoEnd,
    /// Something other than whitespace after the END line (a second block,
    /// text, a NUL).
    #[error("has {0} bytes other than whitespace after -----END CERTIFICATE-----")]
    TrailingData(usize),
    /// The body is not canonical base64.
    #[error("the base64 body is not canonical base64 (line {line}): {reason}")]
    BadBase64 {
        /// 1-based line of the body where the problem is (0: the body as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The body is empty.
    #[error("the block is empty")]
    Empty,
}

const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const END: &[u8] = b"-----END CERTIFICATE-----";

/// Whether `bytes` are meant as PEM: not a DER SEQUENCE, and a
/// `-----BEGIN` somewhere. (Text before the block then fails as PEM,
/// naming the real fault, rather than as a malformed DER certificate.)
pub fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.first() != Some(&0x30) && bytes.windows(10).any(|w| w == b"-----BEGIN")
}

/// Decodes exactly one strict PEM certificate block to its DER bytes.
pub fn decode_certificate(bytes: &[u8]) -> Result<Vec<u8>, PemError> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let text = bytes.get(start..).unwrap_or_default();
    let after_begin = text.strip_prefix(BEGIN).ok_or(PemError::NoBegin)?;
    let end_at = after_begin
        .windows(END.len())
        .position(|w| w == END)
        .ok_or(PemError::NoEnd)?;
    let (body, rest) = after_begin.split_at(end_at);
    let after_end = rest.get(END.len()..).unwrap_or_default();
    let junk = after_end
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .count();
    if junk > 0 {
        return Err(PemError::TrailingData(junk));
    }
    // The body: lines of base64 characters, broken by LF or CRLF; no
    // headers (RFC 7468 has none for certificates), no spaces inside.
    let mut b64 = Vec::with_capacity(body.len());
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(bad) = line
            .iter()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=')))
        {
            return Err(PemError::BadBase64 {
                line: i,
                reason: format!("byte {bad:#04x} is not a base64 character"),
            });
        }
        b64.extend_from_slice(line);
    }
    if b64.is_empty() {
        return Err(PemError::Empty);
    }
    base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .map_err(|e| PemError::BadBase64 {
            line: 0,
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(body: &str) -> Vec<u8> {
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n").into_bytes()
    }

    #[test]
    fn decodes_one_block_with_whitespace_around_and_crlf_lines() {
        assert_eq!(decode_certificate(&pem("aGVsbG8=")).unwrap(), b"hello");
        let crlf =
            b"\r\n  -----BEGIN CERTIFICATE-----\r\naGVs\r\nbG8h\r\n-----END CERTIFICATE-----\r\n\t";
        assert_eq!(decode_certificate(crlf).unwrap(), b"hello!");
        assert!(looks_like_pem(crlf));
        assert!(!looks_like_pem(&[0x30, 0x82]));
    }

    #[test]
    fn refuses_what_a_lax_decoder_would_skip() {
        // A second block.
        let mut two = pem("aGVsbG8=");
        two.extend_from_slice(&pem("aGVsbG8="));
        assert!(matches!(
            decode_certificate(&two),
            Err(PemError::TrailingData(_))
        ));
        // A trailing NUL, text before, a header line, spaces in a line.
        let mut nul = pem("aGVsbG8=");
        nul.push(0);
        assert!(matches!(
            decode_certificate(&nul),
            Err(PemError::TrailingData(1))
        ));
        assert_eq!(
            decode_certificate(b"x-----BEGIN CERTIFICATE-----"),
            Err(PemError::NoBegin)
        );
        assert!(matches!(
            decode_certificate(&pem("Proc-Type: 4,ENCRYPTED\naGVsbG8=")),
            Err(PemError::BadBase64 { .. })
        ));
        assert!(matches!(
            decode_certificate(&pem("aGVs bG8=")),
            Err(PemError::BadBase64 { .. })
        ));
        // Non-canonical base64: missing padding, stray bits.
        assert!(decode_certificate(&pem("aGVsbG8")).is_err());
        assert!(decode_certificate(&pem("aGVsbG9=")).is_err());
        assert_eq!(decode_certificate(&pem("")), Err(PemError::Empty));
        assert_eq!(
            decode_certificate(b"-----BEGIN CERTIFICATE-----\naGVsbG8=\n"),
            Err(PemError::NoEnd)
        );
    }
}
