//! A small, strict CBOR decoder (RFC 8949) for attestation tokens.
//!
//! Strict means every item has exactly one accepted encoding, so that what
//! was signed is what is interpreted:
//!
//! - definite lengths only (indefinite-length strings, arrays and maps are
//!   refused, RFC 8949 §3.2.2);
//! - shortest-form heads: an argument that fits a shorter head is an error
//!   ("preferred serialization", RFC 8949 §4.1 / §4.2.1);
//! - maps with two equal keys are errors naming the key (RFC 8949 §5.6);
//! - text strings are valid UTF-8 (RFC 8949 §3.1, major type 3);
//! - nesting is bounded by [`MAX_DEPTH`];
//! - the input is consumed exactly: trailing bytes are their own error;
//! - floating-point values are refused (no CCA claim uses them).
//!
//! Every [`Item`] records the byte span it was decoded from, as offsets into
//! the outermost input, so a verifier can hash the exact bytes of a claim
//! and an error can name the offset.

use std::collections::HashSet;
use std::fmt;

/// How deep arrays, maps and tags may nest (a CCA token needs 5).
pub const MAX_DEPTH: usize = 16;

/// One decoded data item and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    /// The value.
    pub value: Value<'a>,
    /// Offset of the item's first byte (its head), in the outermost input.
    pub start: usize,
    /// Offset one past the item's last byte, in the outermost input.
    pub end: usize,
}

/// A decoded CBOR value; byte and text strings borrow from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// Major type 0: an unsigned integer.
    Uint(u64),
    /// Major type 1: the negative integer `-1 - n`.
    Nint(u64),
    /// Major type 2: a byte string (its content).
    Bytes(&'a [u8]),
    /// Major type 3: a text string.
    Text(&'a str),
    /// Major type 4: an array.
    Array(Vec<Item<'a>>),
    /// Major type 5: a map, in encoded order, keys unique.
    Map(Vec<(Item<'a>, Item<'a>)>),
    /// Major type 6: a tagged item.
    Tag(u64, Box<Item<'a>>),
    /// Major type 7: a simple value (20 false, 21 true, 22 null, 23 undefined).
    Simple(u8),
}

impl<'a> Item<'a> {
    /// The integer value, if this is an integer that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Uint(n) => i64::try_from(n).ok(),
            Value::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    /// The unsigned integer value, if this is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self.value {
            Value::Uint(n) => Some(n),
            _ => None,
        }
    }

    /// The byte-string content, if this is a byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self.value {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The text, if this is a text string.
    pub fn as_text(&self) -> Option<&'a str> {
        match self.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<&[Item<'a>]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&[(Item<'a>, Item<'a>)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Offset of a byte string's content (after its head), in the outermost
    /// input; for other items, the item's start.
    pub fn content_start(&self) -> usize {
        match self.value {
            Value::Bytes(b) => self.end - b.len(),
            Value::Text(t) => self.end - t.len(),
            _ => self.start,
        }
    }

    /// A short description for error messages ("bstr of 31 bytes", "uint 7").
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Uint(n) => format!("uint {n}"),
            Value::Nint(n) => format!("nint -1-{n}"),
            Value::Bytes(b) => format!("bstr of {} bytes", b.len()),
            Value::Text(t) => format!("tstr of {} bytes", t.len()),
            Value::Array(a) => format!("array of {} items", a.len()),
            Value::Map(m) => format!("map of {} entries", m.len()),
            Value::Tag(t, _) => format!("tag {t}"),
            Value::Simple(20) => "false".to_string(),
            Value::Simple(21) => "true".to_string(),
            Value::Simple(22) => "null".to_string(),
            Value::Simple(23) => "undefined".to_string(),
            Value::Simple(s) => format!("simple({s})"),
        }
    }

    /// The item as a map key for messages: integers and text as themselves,
    /// byte strings as `h'…'`, anything else described.
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::Uint(n) => n.to_string(),
            Value::Nint(n) => format!("-{}", u128::from(*n) + 1),
            Value::Text(t) => format!("{t:?}"),
            Value::Bytes(b) => format!("h'{}'", hex::encode(b)),
            _ => self.describe(),
        }
    }
}

/// Why bytes are not strict CBOR; `offset` is in the outermost input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CborError {
    /// Offset of the offending byte or item.
    pub offset: usize,
    /// What is wrong.
    pub kind: CborErrorKind,
}

/// The kinds of strict-CBOR violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CborErrorKind {
    /// The input ends inside an item.
    Truncated {
        /// Bytes the item needs from `offset`.
        needed: u64,
        /// Bytes left from `offset`.
        available: usize,
    },
    /// A head uses a longer form than its argument needs (RFC 8949 §4.2.1).
    NonMinimal {
        /// The argument.
        value: u64,
        /// The bytes the encoding used for it.
        width: u8,
    },
    /// An indefinite-length string, array or map (RFC 8949 §3.2.2).
    IndefiniteLength {
        /// Which major type.
        major: &'static str,
    },
    /// Reserved additional information 28–30, a break outside an
    /// indefinite item, or a 1-byte simple value below 32 (RFC 8949 §3).
    NotWellFormed {
        /// Detail.
        detail: &'static str,
    },
    /// A floating-point value; none is expected here.
    Float,
    /// A text string is not valid UTF-8.
    InvalidUtf8,
    /// A map holds the same key twice.
    DuplicateKey {
        /// The key, as text.
        key: String,
    },
    /// Arrays, maps and tags nest deeper than the limit.
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Bytes remain after the top-level item.
    TrailingData {
        /// How many.
        len: usize,
    },
}

impl fmt::Display for CborError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.offset;
        match &self.kind {
            CborErrorKind::Truncated { needed, available } => write!(
                f,
                "truncated at offset {o:#x}: the item needs {needed} more bytes, {available} left"
            ),
            CborErrorKind::NonMinimal { value, width } => write!(
                f,
                "non-minimal encoding at offset {o:#x}: argument {value} written as a {width}-byte argument; the shortest form is required"
            ),
            CborErrorKind::IndefiniteLength { major } => write!(
                f,
                "indefinite-length {major} at offset {o:#x}; only definite lengths are allowed"
            ),
            CborErrorKind::NotWellFormed { detail } => {
                write!(f, "not well-formed at offset {o:#x}: {detail}")
            }
            CborErrorKind::Float => write!(
                f,
                "floating-point value at offset {o:#x}; not allowed in this token"
            ),
            CborErrorKind::InvalidUtf8 => {
                write!(f, "text string at offset {o:#x} is not valid UTF-8")
            }
            CborErrorKind::DuplicateKey { key } => {
                write!(f, "map key {key} at offset {o:#x} occurs twice")
            }
            CborErrorKind::TooDeep { limit } => write!(
                f,
                "nesting deeper than {limit} levels at offset {o:#x}"
            ),
            CborErrorKind::TrailingData { len } => write!(
                f,
                "{len} bytes of trailing data at offset {o:#x} after the item"
            ),
        }
    }
}

impl std::error::Error for CborError {}

/// Decodes exactly one item from `bytes`, which sit at offset `base` of the
/// outermost input (0 for a top-level decode; the content offset of a byte
/// string for a nested one). Every byte must be consumed.
pub fn decode(bytes: &[u8], base: usize) -> Result<Item<'_>, CborError> {
    let mut d = Decoder {
        buf: bytes,
        pos: 0,
        base,
    };
    let item = d.item(0)?;
    if d.pos != bytes.len() {
        return Err(CborError {
            offset: base + d.pos,
            kind: CborErrorKind::TrailingData {
                len: bytes.len() - d.pos,
            },
        });
    }
    Ok(item)
}

/// Decodes the content of a byte-string item as one CBOR item (`bstr .cbor`).
/// Returns `None` when `item` is not a byte string.
pub fn decode_wrapped<'a>(item: &Item<'a>) -> Option<Result<Item<'a>, CborError>> {
    let bytes = item.as_bytes()?;
    Some(decode(bytes, item.content_start()))
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

/// The name of a major type (the top 3 bits of an initial byte, 0..=7).
fn major_name(major: u8) -> &'static str {
    match major {
        0 => "unsigned integer",
        1 => "negative integer",
        2 => "byte string",
        3 => "text string",
        4 => "array",
        5 => "map",
        6 => "tag",
        _ => "simple/float",
    }
}

impl<'a> Decoder<'a> {
    fn err(&self, at: usize, kind: CborErrorKind) -> CborError {
        CborError {
            offset: self.base + at,
            kind,
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Takes `n` bytes; `start` is the item start for the error.
    fn take(&mut self, n: u64, start: usize) -> Result<&'a [u8], CborError> {
        let available = self.remaining();
        match usize::try_from(n) {
            Ok(n) if n <= available => {
                let s = self.buf.get(self.pos..self.pos + n).unwrap_or(&[]);
                self.pos += n;
                Ok(s)
            }
            _ => Err(self.err(
                start,
                CborErrorKind::Truncated {
                    needed: n,
                    available,
                },
            )),
        }
    }

    /// Reads a head: (major type, additional information, argument).
    /// The argument of additional information 31 is meaningless.
    fn head(&mut self) -> Result<(u8, u8, u64), CborError> {
        let start = self.pos;
        let ib = self.take(1, start)?.first().copied().unwrap_or(0);
        let major = ib >> 5;
        let ai = ib & 0x1f;
        let (width, min): (u8, u64) = match ai {
            0..=23 => return Ok((major, ai, u64::from(ai))),
            24 => (1, 24),
            25 => (2, 0x100),
            26 => (4, 0x1_0000),
            27 => (8, 0x1_0000_0000),
            28..=30 => {
                return Err(self.err(
                    start,
                    CborErrorKind::NotWellFormed {
                        detail: "reserved additional information 28-30",
                    },
                ))
            }
            _ => return Ok((major, ai, 0)),
        };
        if major == 7 {
            // Simple values and floats: the argument is not a length, so the
            // shortest-form rule is checked by the caller.
            let arg = self.take(u64::from(width), start)?;
            let v = arg.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
            return Ok((major, ai, v));
        }
        let arg = self.take(u64::from(width), start)?;
        let v = arg.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        if v < min {
            return Err(self.err(start, CborErrorKind::NonMinimal { value: v, width }));
        }
        Ok((major, ai, v))
    }

    fn item(&mut self, depth: usize) -> Result<Item<'a>, CborError> {
        let start = self.pos;
        let (major, ai, arg) = self.head()?;
        if ai == 31 {
            return Err(match major {
                2..=5 => self.err(
                    start,
                    CborErrorKind::IndefiniteLength {
                        major: major_name(major),
                    },
                ),
                7 => self.err(
                    start,
                    CborErrorKind::NotWellFormed {
                        detail: "break code outside an indefinite-length item",
                    },
                ),
                _ => self.err(
                    start,
                    CborErrorKind::NotWellFormed {
                        detail: "additional information 31 with an integer or tag",
                    },
                ),
            });
        }
        let value = match major {
            0 => Value::Uint(arg),
            1 => Value::Nint(arg),
            2 => Value::Bytes(self.take(arg, start)?),
            3 => {
                let raw = self.take(arg, start)?;
                Value::Text(
                    std::str::from_utf8(raw)
                        .map_err(|_| self.err(start, CborErrorKind::InvalidUtf8))?,
                )
            }
            4 => {
                self.check_depth(depth, start)?;
                // Every element takes at least one byte: a count beyond the
                // input is a truncation, found before any allocation.
                let n = self.count(arg, 1, start)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                self.check_depth(depth, start)?;
                let n = self.count(arg, 2, start)?;
                let mut entries: Vec<(Item<'a>, Item<'a>)> = Vec::with_capacity(n);
                let mut seen: HashSet<&'a [u8]> = HashSet::with_capacity(n);
                for _ in 0..n {
                    let key = self.item(depth + 1)?;
                    let key_bytes = self
                        .buf
                        .get(key.start - self.base..key.end - self.base)
                        .unwrap_or(&[]);
                    // With shortest-form heads, equal keys have equal bytes.
                    if !seen.insert(key_bytes) {
                        return Err(CborError {
                            offset: key.start,
                            kind: CborErrorKind::DuplicateKey {
                                key: key.key_text(),
                            },
                        });
                    }
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Map(entries)
            }
            6 => {
                self.check_depth(depth, start)?;
                Value::Tag(arg, Box::new(self.item(depth + 1)?))
            }
            _ => match ai {
                0..=23 => Value::Simple(ai),
                // RFC 8949 §3.3: a 1-byte simple value must be 32..=255.
                // A 1-byte argument always fits a u8.
                24 => match u8::try_from(arg) {
                    Ok(simple) if simple >= 32 => Value::Simple(simple),
                    _ => {
                        return Err(self.err(
                            start,
                            CborErrorKind::NotWellFormed {
                                detail: "two-byte simple value below 32",
                            },
                        ))
                    }
                },
                _ => return Err(self.err(start, CborErrorKind::Float)),
            },
        };
        Ok(Item {
            value,
            start: self.base + start,
            end: self.base + self.pos,
        })
    }

    fn check_depth(&self, depth: usize, start: usize) -> Result<(), CborError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(start, CborErrorKind::TooDeep { limit: MAX_DEPTH }));
        }
        Ok(())
    }

    /// An element count `n`, each element at least `min_bytes` long.
    fn count(&self, n: u64, min_bytes: u64, start: usize) -> Result<usize, CborError> {
        let available = self.remaining();
        match (
            usize::try_from(n),
            n.checked_mul(min_bytes).map(usize::try_from),
        ) {
            (Ok(n), Some(Ok(need))) if need <= available => Ok(n),
            _ => Err(self.err(
                start,
                CborErrorKind::Truncated {
                    needed: n.saturating_mul(min_bytes),
                    available,
                },
            )),
        }
    }
}

/// Appends a CBOR head with the shortest-form argument (RFC 8949 §3, §4.2.1).
pub fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if let Ok(a) = u8::try_from(arg) {
        if a < 24 {
            out.push(m | a);
        } else {
            out.push(m | 24);
            out.push(a);
        }
    } else if let Ok(a) = u16::try_from(arg) {
        out.push(m | 25);
        out.extend_from_slice(&a.to_be_bytes());
    } else if let Ok(a) = u32::try_from(arg) {
        out.push(m | 26);
        out.extend_from_slice(&a.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

/// A length as a CBOR argument. `usize` is at most 64 bits wide on every
/// target Rust supports, so this never saturates.
fn len_arg(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// Appends a byte string.
pub fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_head(out, 2, len_arg(bytes.len()));
    out.extend_from_slice(bytes);
}

/// Appends a text string.
pub fn write_text(out: &mut Vec<u8>, text: &str) {
    write_head(out, 3, len_arg(text.len()));
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(bytes: &[u8]) -> CborErrorKind {
        decode(bytes, 0).unwrap_err().kind
    }

    #[test]
    fn decodes_all_major_types_with_spans() {
        // {1: -7, "a": [h'0102', 1(0)], 2: true}
        let b = [
            0xa3, 0x01, 0x26, 0x61, b'a', 0x82, 0x42, 1, 2, 0xc1, 0x00, 0x02, 0xf5,
        ];
        let item = decode(&b, 100).unwrap();
        assert_eq!((item.start, item.end), (100, 113));
        let m = item.as_map().unwrap();
        assert_eq!(m[0].0.as_i64(), Some(1));
        assert_eq!(m[0].1.as_i64(), Some(-7));
        assert_eq!(m[1].0.as_text(), Some("a"));
        let arr = m[1].1.as_array().unwrap();
        assert_eq!(arr[0].as_bytes(), Some(&[1u8, 2][..]));
        assert_eq!(
            (arr[0].start, arr[0].end, arr[0].content_start()),
            (106, 109, 107)
        );
        assert!(matches!(arr[1].value, Value::Tag(1, _)));
        assert_eq!(m[2].1.value, Value::Simple(21));
    }

    #[test]
    fn large_arguments_round_trip() {
        for v in [
            0u64,
            23,
            24,
            255,
            256,
            65535,
            65536,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            write_head(&mut b, 0, v);
            assert_eq!(decode(&b, 0).unwrap().value, Value::Uint(v), "{v}");
            let mut n = Vec::new();
            write_head(&mut n, 1, v);
            assert_eq!(decode(&n, 0).unwrap().value, Value::Nint(v));
        }
        assert_eq!(
            decode(&[0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0)
                .unwrap()
                .as_i64(),
            None
        );
    }

    #[test]
    fn non_minimal_heads_are_refused() {
        for b in [
            &[0x18, 0x17][..],                           // 23 in 1 byte
            &[0x19, 0x00, 0xff],                         // 255 in 2 bytes
            &[0x1a, 0x00, 0x00, 0xff, 0xff],             // 65535 in 4 bytes
            &[0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff], // u32 in 8 bytes
            &[0x38, 0x05],                               // -6 in 1 byte
            &[0x58, 0x01, 0xaa],                         // bstr length 1 in 1 byte
            &[0x79, 0x00, 0x01, b'a'],                   // tstr length in 2 bytes
            &[0x98, 0x00],                               // empty array, long form
            &[0xb8, 0x00],                               // empty map, long form
            &[0xd8, 0x12, 0x00],                         // tag 18 in 1 byte
        ] {
            assert!(
                matches!(kind(b), CborErrorKind::NonMinimal { .. }),
                "{b:02x?}"
            );
        }
        // The shortest forms are accepted.
        assert!(decode(&[0x18, 0x18], 0).is_ok());
        assert!(decode(&[0xd2, 0x00], 0).is_ok());
    }

    #[test]
    fn indefinite_lengths_are_refused() {
        for (b, major) in [
            (&[0x5f, 0x41, 0x00, 0xff][..], "byte string"),
            (&[0x7f, 0x61, b'a', 0xff], "text string"),
            (&[0x9f, 0x01, 0xff], "array"),
            (&[0xbf, 0x01, 0x02, 0xff], "map"),
        ] {
            assert_eq!(kind(b), CborErrorKind::IndefiniteLength { major });
        }
        assert!(matches!(kind(&[0xff]), CborErrorKind::NotWellFormed { .. }));
        assert!(matches!(kind(&[0x1f]), CborErrorKind::NotWellFormed { .. }));
        assert!(matches!(kind(&[0x1c]), CborErrorKind::NotWellFormed { .. }));
    }

    #[test]
    fn duplicate_keys_name_the_key() {
        let e = decode(&[0xa2, 0x0a, 0x00, 0x0a, 0x01], 7).unwrap_err();
        assert_eq!(e.offset, 10);
        assert_eq!(e.kind, CborErrorKind::DuplicateKey { key: "10".into() });
        assert!(e.to_string().contains("map key 10"));
        let e = decode(&[0xa2, 0x61, b'x', 0x00, 0x61, b'x', 0x01], 0).unwrap_err();
        assert_eq!(
            e.kind,
            CborErrorKind::DuplicateKey {
                key: "\"x\"".into()
            }
        );
        let e = decode(&[0xa2, 0x39, 0xac, 0xcc, 0x00, 0x39, 0xac, 0xcc, 0x01], 0).unwrap_err();
        assert_eq!(
            e.kind,
            CborErrorKind::DuplicateKey {
                key: "-44237".into()
            }
        );
        // 1 and -2 and "1" are different keys.
        assert!(decode(&[0xa3, 0x01, 0x00, 0x21, 0x00, 0x61, b'1', 0x00], 0).is_ok());
    }

    #[test]
    fn trailing_bytes_are_their_own_error() {
        let e = decode(&[0x01, 0x02, 0x03], 5).unwrap_err();
        assert_eq!(e.offset, 6);
        assert_eq!(e.kind, CborErrorKind::TrailingData { len: 2 });
    }

    #[test]
    fn truncation_is_found_without_allocating() {
        assert!(matches!(kind(&[]), CborErrorKind::Truncated { .. }));
        assert!(matches!(
            kind(&[0x19, 0x01]),
            CborErrorKind::Truncated { .. }
        ));
        assert!(matches!(
            kind(&[0x43, 0x01]),
            CborErrorKind::Truncated {
                needed: 3,
                available: 1
            }
        ));
        // A huge declared count fails at once.
        assert!(matches!(
            kind(&[0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            CborErrorKind::Truncated { .. }
        ));
        assert!(matches!(
            kind(&[0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            CborErrorKind::Truncated { .. }
        ));
        assert!(matches!(
            kind(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            CborErrorKind::Truncated { .. }
        ));
    }

    #[test]
    fn nesting_depth_is_bounded() {
        let ok = [vec![0x81u8; MAX_DEPTH], vec![0x00]].concat();
        assert!(decode(&ok, 0).is_ok());
        let deep = [vec![0x81u8; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(kind(&deep), CborErrorKind::TooDeep { limit: MAX_DEPTH });
        let tags = [vec![0xc1u8; MAX_DEPTH + 1], vec![0x00]].concat();
        assert_eq!(kind(&tags), CborErrorKind::TooDeep { limit: MAX_DEPTH });
        // A very deep input does not exhaust the stack.
        let huge = vec![0x81u8; 1_000_000];
        assert_eq!(kind(&huge), CborErrorKind::TooDeep { limit: MAX_DEPTH });
    }

    #[test]
    fn text_must_be_utf8() {
        assert_eq!(kind(&[0x62, 0xc3, 0x28]), CborErrorKind::InvalidUtf8);
        assert_eq!(decode(&[0x62, 0xc3, 0xa9], 0).unwrap().as_text(), Some("é"));
    }

    #[test]
    fn simple_values_and_floats() {
        assert_eq!(decode(&[0xf4], 0).unwrap().value, Value::Simple(20));
        assert_eq!(decode(&[0xf6], 0).unwrap().value, Value::Simple(22));
        assert_eq!(decode(&[0xf8, 0x20], 0).unwrap().value, Value::Simple(32));
        assert!(matches!(
            kind(&[0xf8, 0x14]),
            CborErrorKind::NotWellFormed { .. }
        ));
        assert_eq!(kind(&[0xf9, 0x3c, 0x00]), CborErrorKind::Float);
        assert_eq!(kind(&[0xfa, 0, 0, 0, 0]), CborErrorKind::Float);
        assert_eq!(kind(&[0xfb, 0, 0, 0, 0, 0, 0, 0, 0]), CborErrorKind::Float);
    }

    #[test]
    fn nested_decode_keeps_absolute_offsets() {
        // h'a10126' at offset 0: content at 1.
        let outer = decode(&[0x43, 0xa1, 0x01, 0x26], 0).unwrap();
        let inner = decode_wrapped(&outer).unwrap().unwrap();
        assert_eq!((inner.start, inner.end), (1, 4));
        assert_eq!(inner.as_map().unwrap()[0].1.start, 3);
        let bad = decode(&[0x43, 0xa1, 0x01, 0x01], 0).unwrap();
        assert!(decode_wrapped(&bad).unwrap().is_ok());
        let dup = decode(&[0x45, 0xa2, 0x01, 0x26, 0x01, 0x26], 0).unwrap();
        assert_eq!(decode_wrapped(&dup).unwrap().unwrap_err().offset, 4);
    }
}
