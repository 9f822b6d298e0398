//! A minimal DER encoder: just what X.509 certificates and CRLs need.
//!
//! Every function returns the complete encoding (tag, length, contents) of
//! one value, so structures are built by nesting calls:
//! `seq(&[integer_u64(2), oid("2.5.4.3")])`. Only definite lengths and
//! low tag numbers are produced, as DER requires (X.690 §10).

/// Universal tags used here.
pub mod tag {
    /// BOOLEAN.
    pub const BOOLEAN: u8 = 0x01;
    /// INTEGER.
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING.
    pub const BIT_STRING: u8 = 0x03;
    /// OCTET STRING.
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL.
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER.
    pub const OID: u8 = 0x06;
    /// UTF8String.
    pub const UTF8_STRING: u8 = 0x0c;
    /// PrintableString.
    pub const PRINTABLE_STRING: u8 = 0x13;
    /// IA5String.
    pub const IA5_STRING: u8 = 0x16;
    /// UTCTime.
    pub const UTC_TIME: u8 = 0x17;
    /// GeneralizedTime.
    pub const GENERALIZED_TIME: u8 = 0x18;
    /// SEQUENCE (constructed).
    pub const SEQUENCE: u8 = 0x30;
    /// SET (constructed).
    pub const SET: u8 = 0x31;
}

/// Encodes a definite length (X.690 §8.1.3; short form below 128).
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len() - 1);
        let significant = &bytes[first..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// One TLV with the given identifier octet.
pub fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    out.push(tag);
    push_len(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

/// A SEQUENCE of already-encoded elements.
pub fn seq(elements: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag::SEQUENCE, &elements.concat())
}

/// A SET OF already-encoded elements, sorted as DER requires (X.690 §11.6).
pub fn set_of(elements: &[Vec<u8>]) -> Vec<u8> {
    let mut sorted = elements.to_vec();
    sorted.sort();
    tlv(tag::SET, &sorted.concat())
}

/// `[n] EXPLICIT` around an encoded value (context-specific, constructed).
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    assert!(n < 31, "high tag numbers are not needed");
    tlv(0xa0 | n, inner)
}

/// A BOOLEAN (DER: TRUE is 0xff).
pub fn boolean(v: bool) -> Vec<u8> {
    tlv(tag::BOOLEAN, &[if v { 0xff } else { 0x00 }])
}

/// NULL.
pub fn null() -> Vec<u8> {
    tlv(tag::NULL, &[])
}

/// A non-negative INTEGER from big-endian magnitude bytes: leading zeros
/// are stripped and a 0x00 is prepended when the top bit is set, so the
/// encoding is minimal and positive (X.690 §8.3.2).
pub fn integer_unsigned(be: &[u8]) -> Vec<u8> {
    let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    let magnitude = &be[first..];
    let mut contents = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|b| *b & 0x80 != 0) {
        contents.push(0);
    }
    contents.extend_from_slice(magnitude);
    tlv(tag::INTEGER, &contents)
}

/// A non-negative INTEGER.
pub fn integer_u64(v: u64) -> Vec<u8> {
    integer_unsigned(&v.to_be_bytes())
}

/// An OBJECT IDENTIFIER from dotted text (`"1.2.840.113549.1.1.10"`).
///
/// Panics on malformed text: OIDs here are compile-time constants.
pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|a| a.parse().expect("OID arcs are decimal numbers"))
        .collect();
    assert!(arcs.len() >= 2 && arcs[0] <= 2, "bad OID {dotted}");
    let mut contents = Vec::new();
    push_base128(&mut contents, arcs[0] * 40 + arcs[1]);
    for arc in &arcs[2..] {
        push_base128(&mut contents, *arc);
    }
    tlv(tag::OID, &contents)
}

/// Base-128, most significant group first, continuation bit on all but the last.
fn push_base128(out: &mut Vec<u8>, mut v: u64) {
    let mut groups = vec![(v & 0x7f) as u8];
    v >>= 7;
    while v > 0 {
        groups.push(0x80 | (v & 0x7f) as u8);
        v >>= 7;
    }
    groups.reverse();
    out.extend_from_slice(&groups);
}

/// A BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut contents = Vec::with_capacity(bytes.len() + 1);
    contents.push(0);
    contents.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &contents)
}

/// A named-bit BIT STRING (as keyUsage uses): bit 0 is the most significant
/// bit of the first octet; trailing zero bits are removed (X.690 §11.2.2).
pub fn named_bits(bits: &[u8]) -> Vec<u8> {
    let Some(highest) = bits.iter().copied().max() else {
        return tlv(tag::BIT_STRING, &[0]);
    };
    let len = usize::from(highest / 8) + 1;
    let mut octets = vec![0u8; len];
    for b in bits {
        octets[usize::from(b / 8)] |= 0x80 >> (b % 8);
    }
    let unused = 7 - highest % 8;
    let mut contents = vec![unused];
    contents.extend_from_slice(&octets);
    tlv(tag::BIT_STRING, &contents)
}

/// An OCTET STRING.
pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, bytes)
}

/// A UTF8String.
pub fn utf8_string(s: &str) -> Vec<u8> {
    tlv(tag::UTF8_STRING, s.as_bytes())
}

/// A PrintableString (the caller keeps to its character set).
pub fn printable_string(s: &str) -> Vec<u8> {
    tlv(tag::PRINTABLE_STRING, s.as_bytes())
}

/// An IA5String (ASCII).
pub fn ia5_string(s: &str) -> Vec<u8> {
    assert!(s.is_ascii(), "IA5String must be ASCII");
    tlv(tag::IA5_STRING, s.as_bytes())
}

/// Civil date and time (UTC) of a Unix timestamp: (year, month, day, hour,
/// minute, second). Howard Hinnant's `civil_from_days`.
pub fn civil(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

/// Unix timestamp of a UTC civil date and time (inverse of [`civil`]).
pub fn unix_from_civil(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + i64::from(hour) * 3600 + i64::from(min) * 60 + i64::from(sec)
}

/// UTCTime `YYMMDDHHMMSSZ` (only for years 1950–2049).
pub fn utc_time(unix: i64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil(unix);
    assert!((1950..2050).contains(&y), "UTCTime covers 1950-2049 only");
    let text = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
    tlv(tag::UTC_TIME, text.as_bytes())
}

/// GeneralizedTime `YYYYMMDDHHMMSSZ`.
pub fn generalized_time(unix: i64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = civil(unix);
    let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
    tlv(tag::GENERALIZED_TIME, text.as_bytes())
}

/// An X.509 `Time`: UTCTime through 2049, GeneralizedTime from 2050
/// (RFC 5280 §4.1.2.5).
pub fn x509_time(unix: i64) -> Vec<u8> {
    if civil(unix).0 < 2050 {
        utc_time(unix)
    } else {
        generalized_time(unix)
    }
}

/// Attribute types used in names.
pub mod attr {
    /// commonName.
    pub const CN: &str = "2.5.4.3";
    /// countryName.
    pub const C: &str = "2.5.4.6";
    /// localityName.
    pub const L: &str = "2.5.4.7";
    /// stateOrProvinceName.
    pub const ST: &str = "2.5.4.8";
    /// organizationName.
    pub const O: &str = "2.5.4.10";
    /// organizationalUnitName.
    pub const OU: &str = "2.5.4.11";
}

/// A Name: one single-valued RDN per (attribute type, value), in order.
/// countryName is a PrintableString (RFC 5280 App. A), the rest UTF8String,
/// as in AMD's certificates.
pub fn name(rdns: &[(&str, &str)]) -> Vec<u8> {
    let sets: Vec<Vec<u8>> = rdns
        .iter()
        .map(|(ty, value)| {
            let v = if *ty == attr::C {
                printable_string(value)
            } else {
                utf8_string(value)
            };
            set_of(&[seq(&[oid(ty), v])])
        })
        .collect();
    seq(&sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(tlv(4, &[0; 3])[..2], [4, 3]);
        assert_eq!(tlv(4, &[0; 0x80])[..3], [4, 0x81, 0x80]);
        assert_eq!(tlv(4, &[0; 0x1234])[..4], [4, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(integer_u64(0), [2, 1, 0]);
        assert_eq!(integer_u64(0x7f), [2, 1, 0x7f]);
        assert_eq!(integer_u64(0x80), [2, 2, 0, 0x80]);
        assert_eq!(integer_u64(0xd1), [2, 2, 0, 0xd1]);
        assert_eq!(integer_u64(0x10000), [2, 3, 1, 0, 0]);
        assert_eq!(integer_unsigned(&[0, 0, 0x01, 0x00]), [2, 2, 1, 0]);
        assert_eq!(integer_unsigned(&[]), [2, 1, 0]);
    }

    #[test]
    fn oids() {
        // rsassaPss.
        assert_eq!(
            oid("1.2.840.113549.1.1.10"),
            [6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 1, 10]
        );
        // AMD's hwID.
        assert_eq!(
            oid("1.3.6.1.4.1.3704.1.4"),
            [6, 9, 0x2b, 6, 1, 4, 1, 0x9c, 0x78, 1, 4]
        );
    }

    #[test]
    fn key_usage_bits() {
        // keyCertSign (5) | cRLSign (6): 0x06, one unused bit.
        assert_eq!(named_bits(&[5, 6]), [3, 2, 1, 0x06]);
        // digitalSignature (0): seven unused bits.
        assert_eq!(named_bits(&[0]), [3, 2, 7, 0x80]);
    }

    #[test]
    fn times() {
        let t = unix_from_civil(2025, 6, 1, 12, 34, 56);
        assert_eq!(civil(t), (2025, 6, 1, 12, 34, 56));
        assert_eq!(t, 1_748_781_296);
        assert_eq!(&x509_time(t)[2..], b"250601123456Z");
        let t = unix_from_civil(2054, 1, 1, 0, 0, 0);
        assert_eq!(x509_time(t)[0], tag::GENERALIZED_TIME);
        assert_eq!(&x509_time(t)[2..], b"20540101000000Z");
        assert_eq!(civil(unix_from_civil(2000, 2, 29, 0, 0, 0)).2, 29);
    }

    #[test]
    fn set_of_is_sorted() {
        assert_eq!(
            set_of(&[vec![2, 1, 5], vec![2, 1, 1]]),
            [0x31, 6, 2, 1, 1, 2, 1, 5]
        );
    }
}
