//! The certificate table a host returns with an extended attestation report
//! (GHCB specification §4.1.8.1, "SNP Extended Guest Request"; carried by
//! configfs-tsm as `auxblob`, and by `/dev/sev-guest` as certs_data).
//!
//! The table is an array of 24-byte entries `{ GUID (16, RFC 4122 byte
//! order), offset: u32 LE, length: u32 LE }` ended by an all-zero entry;
//! offsets count from the start of the table. The buffer is usually padded
//! with zeros to a page multiple, which is allowed.

use cogito_core::Reader;

use crate::error::SnpError;

/// The kind of object an entry holds, by GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertTableKind {
    /// `c0b406a4-a803-4952-9743-3fb6014cd0ae`: the ARK.
    Ark,
    /// `4ab7b379-bbac-4fe4-a02f-05aef327c782`: the ASK (or ASVK for VLEK chains).
    Ask,
    /// `63da758d-e664-4564-adc5-f4b93be8accd`: the VCEK.
    Vcek,
    /// `a8074bc2-a25a-483e-aae6-39c045a0b8a1`: the VLEK.
    Vlek,
    /// Any other GUID (kept, not used).
    Other,
}

const GUID_ARK: [u8; 16] = guid(
    0xc0b406a4,
    0xa803,
    0x4952,
    [0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae],
);
const GUID_ASK: [u8; 16] = guid(
    0x4ab7b379,
    0xbbac,
    0x4fe4,
    [0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82],
);
const GUID_VCEK: [u8; 16] = guid(
    0x63da758d,
    0xe664,
    0x4564,
    [0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd],
);
const GUID_VLEK: [u8; 16] = guid(
    0xa8074bc2,
    0xa25a,
    0x483e,
    [0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1],
);

/// Builds the RFC 4122 (big-endian) bytes of a GUID.
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let a = a.to_be_bytes();
    let b = b.to_be_bytes();
    let c = c.to_be_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}

impl CertTableKind {
    /// The GUID bytes of a known kind (`None` for `Other`).
    pub fn guid(self) -> Option<[u8; 16]> {
        match self {
            CertTableKind::Ark => Some(GUID_ARK),
            CertTableKind::Ask => Some(GUID_ASK),
            CertTableKind::Vcek => Some(GUID_VCEK),
            CertTableKind::Vlek => Some(GUID_VLEK),
            CertTableKind::Other => None,
        }
    }

    fn from_guid(g: &[u8; 16]) -> Self {
        match *g {
            GUID_ARK => CertTableKind::Ark,
            GUID_ASK => CertTableKind::Ask,
            GUID_VCEK => CertTableKind::Vcek,
            GUID_VLEK => CertTableKind::Vlek,
            _ => CertTableKind::Other,
        }
    }
}

/// One entry of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertTableEntry<'a> {
    /// The GUID.
    pub guid: [u8; 16],
    /// What the GUID names.
    pub kind: CertTableKind,
    /// The entry's bytes (a certificate, DER or PEM, for the known kinds).
    pub data: &'a [u8],
    /// Where the entry's bytes start in the table.
    pub offset: usize,
}

/// Parses a certificate table. Every entry must lie inside the buffer and
/// after the table itself; a GUID may appear only once.
pub fn parse_cert_table(table: &[u8]) -> Result<Vec<CertTableEntry<'_>>, SnpError> {
    let mut r = Reader::new(table);
    let mut entries = Vec::new();
    loop {
        let at = r.offset();
        let guid: [u8; 16] = r.array("certificate table entry GUID")?;
        let offset = r.u32_len("certificate table entry offset")?;
        let length = r.u32_len("certificate table entry length")?;
        if guid == [0u8; 16] {
            if offset != 0 || length != 0 {
                return Err(SnpError::MalformedCertTable {
                    reason: format!("terminator entry at {at:#x} has a non-zero offset or length"),
                });
            }
            break;
        }
        entries.push((at, guid, offset, length));
    }
    let table_end = r.offset();
    let mut out: Vec<CertTableEntry<'_>> = Vec::with_capacity(entries.len());
    for (at, guid, offset, length) in entries {
        let data = offset
            .checked_add(length)
            .filter(|_| offset >= table_end)
            .and_then(|end| table.get(offset..end))
            .ok_or_else(|| SnpError::MalformedCertTable {
                reason: format!(
                    "entry at {at:#x} points at bytes {offset:#x}..+{length:#x}, outside the {} byte buffer after the table (ends at {table_end:#x})",
                    table.len()
                ),
            })?;
        if out.iter().any(|e| e.guid == guid) {
            return Err(SnpError::MalformedCertTable {
                reason: format!("entry at {at:#x} repeats GUID {}", hex::encode(guid)),
            });
        }
        out.push(CertTableEntry {
            guid,
            kind: CertTableKind::from_guid(&guid),
            data,
            offset,
        });
    }
    Ok(out)
}

/// Builds a certificate table from (kind, bytes) pairs, as a host would.
/// Used by the testkit and by `cogito` to export bundles.
///
/// Panics if the table would exceed 4 GiB (its offsets are u32): a caller
/// building a table controls its size.
pub fn build_cert_table(entries: &[(CertTableKind, &[u8])]) -> Vec<u8> {
    let header = (entries.len() + 1) * 24;
    let mut out = Vec::with_capacity(header);
    let mut data = Vec::new();
    let u32_of = |n: usize| {
        #[allow(clippy::expect_used)] // Documented: a table is never near 4 GiB.
        u32::try_from(n).expect("certificate table larger than 4 GiB")
    };
    for (kind, bytes) in entries {
        out.extend_from_slice(&kind.guid().unwrap_or([0xff; 16]));
        out.extend_from_slice(&u32_of(header + data.len()).to_le_bytes());
        out.extend_from_slice(&u32_of(bytes.len()).to_le_bytes());
        data.extend_from_slice(bytes);
    }
    out.extend_from_slice(&[0u8; 24]);
    out.extend_from_slice(&data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_bytes_are_rfc4122_order() {
        assert_eq!(hex::encode(GUID_VCEK), "63da758de6644564adc5f4b93be8accd");
    }

    #[test]
    fn round_trip_with_padding() {
        let mut t = build_cert_table(&[
            (CertTableKind::Vcek, b"vcek-bytes"),
            (CertTableKind::Ask, b"ask"),
            (CertTableKind::Ark, b"ark!"),
        ]);
        t.resize(4096, 0);
        let e = parse_cert_table(&t).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].kind, CertTableKind::Vcek);
        assert_eq!(e[0].data, b"vcek-bytes");
        assert_eq!(e[2].data, b"ark!");
    }

    #[test]
    fn out_of_bounds_entry_is_rejected() {
        let mut t = build_cert_table(&[(CertTableKind::Vcek, b"abc")]);
        // Claim 1000 bytes of data.
        t[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(
            parse_cert_table(&t),
            Err(SnpError::MalformedCertTable { .. })
        ));
    }

    #[test]
    fn entry_overlapping_the_table_is_rejected() {
        let mut t = build_cert_table(&[(CertTableKind::Vcek, b"abc")]);
        t[16..20].copy_from_slice(&0u32.to_le_bytes());
        assert!(parse_cert_table(&t).is_err());
    }

    #[test]
    fn missing_terminator_is_truncation() {
        let t = build_cert_table(&[(CertTableKind::Vcek, b"")]);
        assert!(parse_cert_table(&t[..24]).is_err());
    }

    #[test]
    fn duplicate_guid_is_rejected() {
        let t = build_cert_table(&[(CertTableKind::Vcek, b"a"), (CertTableKind::Vcek, b"b")]);
        assert!(parse_cert_table(&t).is_err());
    }

    #[test]
    fn huge_offsets_do_not_overflow() {
        let mut t = build_cert_table(&[(CertTableKind::Vcek, b"abc")]);
        t[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        t[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_cert_table(&t).is_err());
    }
}
