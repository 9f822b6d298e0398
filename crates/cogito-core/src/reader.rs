//! A bounds-checked reader for fixed binary layouts.
//!
//! In the spirit of webpki's `untrusted::Reader`: every read names the field
//! it reads, so that an error says which field at which offset was short or
//! wrong, and [`Reader::finish`] insists that the input was consumed exactly
//! (trailing data is an error of its own).

use std::fmt;

/// A failure to read a field from untrusted bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderError {
    /// The input ended inside `field`.
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Its offset.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// Bytes remained after the last field.
    TrailingData {
        /// Offset of the first unread byte.
        offset: usize,
        /// Number of unread bytes.
        len: usize,
    },
    /// A must-be-zero field holds a non-zero byte.
    NotZero {
        /// The field.
        field: &'static str,
        /// Offset of the first non-zero byte.
        offset: usize,
    },
}

impl fmt::Display for ReaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReaderError::Truncated {
                field,
                offset,
                needed,
                available,
            } => write!(
                f,
                "input truncated in {field} at offset {offset:#x}: needs {needed} bytes, {available} left"
            ),
            ReaderError::TrailingData { offset, len } => {
                write!(f, "{len} bytes of trailing data at offset {offset:#x}")
            }
            ReaderError::NotZero { field, offset } => write!(
                f,
                "reserved field {field} must be zero, found a non-zero byte at offset {offset:#x}"
            ),
        }
    }
}

impl std::error::Error for ReaderError {}

/// Reads named fields from a byte slice, front to back.
///
/// A reader over a part of a larger input ([`Reader::nested`]) reports
/// offsets in the whole input, so an error inside a nested structure still
/// says where in the file the bad byte is.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    /// Offset of `input` in the outermost input.
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Reader {
            input,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over `input`, which starts at offset `base` of a larger
    /// input: its offsets and errors count from the start of that input.
    pub fn at_offset(input: &'a [u8], base: usize) -> Self {
        Reader {
            input,
            pos: 0,
            base,
        }
    }

    /// Reads `len` bytes as `field` and returns a reader over exactly
    /// them, reporting offsets in this reader's input. Finish it with
    /// [`Reader::finish`] to insist that the nested structure is consumed
    /// exactly.
    pub fn nested(&mut self, field: &'static str, len: usize) -> Result<Reader<'a>, ReaderError> {
        let base = self.offset();
        let input = self.bytes(field, len)?;
        Ok(Reader::at_offset(input, base))
    }

    /// The current offset (in the outermost input).
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.input.len().saturating_sub(self.pos)
    }

    /// Reads `len` bytes as `field`.
    pub fn bytes(&mut self, field: &'static str, len: usize) -> Result<&'a [u8], ReaderError> {
        let available = self.remaining();
        let end = self.pos.checked_add(len);
        match end.and_then(|end| self.input.get(self.pos..end)) {
            Some(slice) => {
                self.pos += len;
                Ok(slice)
            }
            None => Err(ReaderError::Truncated {
                field,
                offset: self.offset(),
                needed: len,
                available,
            }),
        }
    }

    /// Reads exactly `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ReaderError> {
        let slice = self.bytes(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    /// Reads a byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, ReaderError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Reads a little-endian `u16`.
    pub fn u16_le(&mut self, field: &'static str) -> Result<u16, ReaderError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    /// Reads a little-endian `u32`.
    pub fn u32_le(&mut self, field: &'static str) -> Result<u32, ReaderError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// Reads a little-endian `u32` length or count. (A length that does not
    /// fit `usize` becomes `usize::MAX`, which no read can satisfy, so it
    /// fails as a truncation where it is used.)
    pub fn u32_len(&mut self, field: &'static str) -> Result<usize, ReaderError> {
        Ok(usize::try_from(self.u32_le(field)?).unwrap_or(usize::MAX))
    }

    /// Reads a little-endian `u64`.
    pub fn u64_le(&mut self, field: &'static str) -> Result<u64, ReaderError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// Reads `len` bytes that must all be zero (a reserved, MBZ range).
    pub fn zeros(&mut self, field: &'static str, len: usize) -> Result<(), ReaderError> {
        let start = self.offset();
        let slice = self.bytes(field, len)?;
        match slice.iter().position(|b| *b != 0) {
            None => Ok(()),
            Some(i) => Err(ReaderError::NotZero {
                field,
                offset: start + i,
            }),
        }
    }

    /// Skips `len` bytes (a field that is read elsewhere).
    pub fn skip(&mut self, field: &'static str, len: usize) -> Result<(), ReaderError> {
        self.bytes(field, len).map(|_| ())
    }

    /// Succeeds only if the whole input was read.
    pub fn finish(self) -> Result<(), ReaderError> {
        match self.remaining() {
            0 => Ok(()),
            len => Err(ReaderError::TrailingData {
                offset: self.offset(),
                len,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_in_order() {
        let data = [1u8, 0, 0, 0, 2, 0, 9, 9];
        let mut r = Reader::new(&data);
        assert_eq!(r.u32_le("a").unwrap(), 1);
        assert_eq!(r.u16_le("b").unwrap(), 2);
        assert_eq!(r.array::<2>("c").unwrap(), [9, 9]);
        r.finish().unwrap();
    }

    #[test]
    fn truncation_names_field_and_offset() {
        let data = [0u8; 5];
        let mut r = Reader::new(&data);
        r.u32_le("first").unwrap();
        let err = r.u32_le("SECOND").unwrap_err();
        assert_eq!(
            err,
            ReaderError::Truncated {
                field: "SECOND",
                offset: 4,
                needed: 4,
                available: 1
            }
        );
        assert!(err.to_string().contains("SECOND"));
        assert!(err.to_string().contains("0x4"));
    }

    #[test]
    fn trailing_data_is_its_own_error() {
        let data = [0u8; 3];
        let mut r = Reader::new(&data);
        r.u16_le("x").unwrap();
        assert_eq!(
            r.finish(),
            Err(ReaderError::TrailingData { offset: 2, len: 1 })
        );
    }

    #[test]
    fn zeros_reports_first_nonzero_offset() {
        let data = [0u8, 0, 0, 7, 0];
        let mut r = Reader::new(&data);
        r.u8("lead").unwrap();
        assert_eq!(
            r.zeros("RESERVED", 4),
            Err(ReaderError::NotZero {
                field: "RESERVED",
                offset: 3
            })
        );
    }

    #[test]
    fn nested_readers_report_offsets_in_the_whole_input() {
        let data = [9u8, 9, 1, 0, 0, 0, 7];
        let mut r = Reader::new(&data);
        r.u16_le("head").unwrap();
        let mut inner = r.nested("inner", 4).unwrap();
        assert_eq!(inner.offset(), 2);
        assert_eq!(inner.u16_le("a").unwrap(), 1);
        assert_eq!(
            inner.u32_le("b"),
            Err(ReaderError::Truncated {
                field: "b",
                offset: 4,
                needed: 4,
                available: 2
            })
        );
        let mut inner = Reader::at_offset(&data[2..6], 2);
        inner.u16_le("a").unwrap();
        assert_eq!(
            inner.finish(),
            Err(ReaderError::TrailingData { offset: 4, len: 2 })
        );
        assert_eq!(r.offset(), 6);
        assert_eq!(r.u8("tail").unwrap(), 7);
        r.finish().unwrap();
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let data = [0u8; 2];
        let mut r = Reader::new(&data);
        r.u8("a").unwrap();
        assert!(r.bytes("b", usize::MAX).is_err());
    }
}
