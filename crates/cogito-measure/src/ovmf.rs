//! The OVMF GUIDed footer table, shared by the SEV-SNP and TDX calculators.
//!
//! OVMF (edk2 `OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm`) places a table
//! of GUID-tagged entries just below the reset vector: it ends 32 bytes
//! before the end of the image, and is read backwards. Each entry is
//! `data ‖ u16 length ‖ GUID`, where `length` counts the data and the
//! 18-byte trailer. The last entry (nearest the end) is the footer
//! 96b582de-1fb2-45f7-baea-a366c55a082d, whose length covers the whole
//! table. QEMU parses the same table (`hw/i386/pc_sysfw_ovmf.c`).

use crate::MeasureError;

/// A GUID in its on-disk (little-endian first three fields) byte order.
pub type Guid = [u8; 16];

/// Builds the on-disk bytes of a GUID from its textual fields.
pub(crate) const fn guid(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
    let a = d1.to_le_bytes();
    let b = d2.to_le_bytes();
    let c = d3.to_le_bytes();
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d4[0], d4[1], d4[2], d4[3], d4[4], d4[5],
        d4[6], d4[7],
    ]
}

/// Formats on-disk GUID bytes in the usual textual form.
pub fn guid_string(g: &Guid) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    format!(
        "{d1:08x}-{d2:04x}-{d3:04x}-{}-{}",
        hex::encode(&g[8..10]),
        hex::encode(&g[10..16])
    )
}

/// 96b582de-1fb2-45f7-baea-a366c55a082d: the footer of the table.
pub const FOOTER_GUID: Guid = guid(
    0x96b5_82de,
    0x1fb2,
    0x45f7,
    [0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d],
);

/// Bytes between the end of the table and the end of the image.
const BYTES_AFTER_TABLE: usize = 32;
/// `u16 length ‖ GUID`.
const ENTRY_TRAILER: usize = 18;

/// The parsed footer table: each entry's GUID and data, nearest the end first.
#[derive(Debug, Clone)]
pub struct FooterTable<'a> {
    entries: Vec<(Guid, &'a [u8])>,
}

impl<'a> FooterTable<'a> {
    /// Parses the table at the end of `image`.
    ///
    /// Refuses a missing footer, lengths running outside the table, and a
    /// GUID occurring twice.
    pub fn parse(image: &'a [u8]) -> Result<Self, MeasureError> {
        let footer_end = image
            .len()
            .checked_sub(BYTES_AFTER_TABLE)
            .ok_or(MeasureError::FooterTableMissing)?;
        let footer_start = footer_end
            .checked_sub(ENTRY_TRAILER)
            .ok_or(MeasureError::FooterTableMissing)?;
        let (len, g) = read_trailer(image, footer_start).ok_or(MeasureError::FooterTableMissing)?;
        if g != FOOTER_GUID {
            return Err(MeasureError::FooterTableMissing);
        }
        let body_len = len
            .checked_sub(ENTRY_TRAILER)
            .ok_or(MeasureError::FooterTableOutOfRange { len })?;
        let body_start = footer_start
            .checked_sub(body_len)
            .ok_or(MeasureError::FooterTableOutOfRange { len })?;
        let mut table = image
            .get(body_start..footer_start)
            .ok_or(MeasureError::FooterTableOutOfRange { len })?;
        let mut entries: Vec<(Guid, &'a [u8])> = Vec::new();
        // Entries are read from the end of the table towards its start; a
        // remainder shorter than one trailer is padding.
        while table.len() >= ENTRY_TRAILER {
            let trailer_at = table.len() - ENTRY_TRAILER;
            let (elen, eguid) = read_trailer(table, trailer_at)
                .ok_or(MeasureError::FooterTableOutOfRange { len })?;
            let invalid = || MeasureError::FooterEntryInvalid {
                guid: guid_string(&eguid),
                len: elen,
            };
            if elen < ENTRY_TRAILER {
                return Err(invalid());
            }
            let entry_start = table.len().checked_sub(elen).ok_or_else(invalid)?;
            let data = table.get(entry_start..trailer_at).ok_or_else(invalid)?;
            if entries.iter().any(|(g, _)| *g == eguid) {
                return Err(MeasureError::FooterEntryDuplicate {
                    guid: guid_string(&eguid),
                });
            }
            entries.push((eguid, data));
            table = table.get(..entry_start).ok_or_else(invalid)?;
        }
        Ok(Self { entries })
    }

    /// The data of the entry with this GUID, if there is one.
    pub fn get(&self, g: &Guid) -> Option<&'a [u8]> {
        self.entries.iter().find(|(eg, _)| eg == g).map(|(_, d)| *d)
    }

    /// The first little-endian `u32` of a required entry.
    pub(crate) fn u32_of(
        &self,
        g: &Guid,
        what: &'static str,
        guid_text: &'static str,
    ) -> Result<u32, MeasureError> {
        let data = self.get(g).ok_or(MeasureError::TableEntryMissing {
            what,
            guid: guid_text,
        })?;
        read_u32(data, 0).ok_or(MeasureError::TableEntryTooShort {
            what,
            len: data.len(),
            need: 4,
        })
    }

    /// All entries, nearest the end of the image first.
    pub fn entries(&self) -> impl Iterator<Item = (&Guid, &'a [u8])> + '_ {
        self.entries.iter().map(|(g, d)| (g, *d))
    }
}

fn read_trailer(buf: &[u8], at: usize) -> Option<(usize, Guid)> {
    let len = read_u16(buf, at)?;
    let g: Guid = buf.get(at + 2..at + ENTRY_TRAILER)?.try_into().ok()?;
    Some((usize::from(len), g))
}

/// A little-endian `u16` at `at`, or `None` past the end.
pub(crate) fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

/// A little-endian `u32` at `at`, or `None` past the end.
pub(crate) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// A little-endian `u64` at `at`, or `None` past the end.
pub(crate) fn read_u64(buf: &[u8], at: usize) -> Option<u64> {
    let b = buf.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// Where a metadata block given as an offset from the end of the image starts.
pub(crate) fn offset_from_end(
    image: &[u8],
    off: u32,
    what: &'static str,
) -> Result<usize, MeasureError> {
    // An offset that does not fit in usize is larger than any image.
    usize::try_from(off)
        .ok()
        .and_then(|off| image.len().checked_sub(off))
        .ok_or(MeasureError::MetadataOutOfRange {
            what,
            offset_from_end: u64::from(off),
        })
}

/// A firmware metadata block, as both OVMF's SEV metadata ("ASEV") and
/// TDVF's ("TDVF") lay it out: a 4-byte signature, a u32 length of header
/// and entries, a u32 version (1) and a u32 entry count, then the entries.
/// `off` is the block's offset from the end of the image (as the footer
/// table gives it). Returns the entry count, the entries' bytes, and the
/// error to report when an entry does not fit in them.
pub(crate) fn metadata_block<'a>(
    image: &'a [u8],
    off: u32,
    what: &'static str,
    signature: [u8; 4],
) -> Result<(u32, &'a [u8], MeasureError), MeasureError> {
    let start = offset_from_end(image, off, what)?;
    let out_of_range = || MeasureError::MetadataOutOfRange {
        what,
        offset_from_end: u64::from(off),
    };
    let header = image
        .get(start..start.saturating_add(16))
        .ok_or_else(out_of_range)?;
    let sig: [u8; 4] = header
        .get(0..4)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(out_of_range)?;
    if sig != signature {
        return Err(MeasureError::MetadataSignature {
            what,
            found: sig,
            expected: signature,
        });
    }
    let len = read_u32(header, 4).ok_or_else(out_of_range)?;
    let version = read_u32(header, 8).ok_or_else(out_of_range)?;
    let count = read_u32(header, 12).ok_or_else(out_of_range)?;
    if version != 1 {
        return Err(MeasureError::MetadataVersion { what, version });
    }
    let too_many = MeasureError::MetadataSectionsOutOfRange {
        what,
        count,
        len: u64::from(len),
    };
    // A length that does not fit in usize does not fit in the image either.
    let body_len = usize::try_from(len)
        .ok()
        .and_then(|len| len.checked_sub(16))
        .ok_or(too_many.clone())?;
    let body = image
        .get(start.saturating_add(16)..)
        .and_then(|b| b.get(..body_len))
        .ok_or(too_many.clone())?;
    Ok((count, body, too_many))
}

#[cfg(test)]
#[allow(clippy::as_conversions)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips_through_text() {
        assert_eq!(
            guid_string(&FOOTER_GUID),
            "96b582de-1fb2-45f7-baea-a366c55a082d"
        );
    }

    fn image_with_table(entries: &[(Guid, Vec<u8>)]) -> Vec<u8> {
        let mut table = Vec::new();
        // Entries are listed here nearest-the-start first.
        for (g, d) in entries {
            table.extend_from_slice(d);
            table.extend_from_slice(&((d.len() + 18) as u16).to_le_bytes());
            table.extend_from_slice(g);
        }
        let total = table.len() + 18;
        table.extend_from_slice(&(total as u16).to_le_bytes());
        table.extend_from_slice(&FOOTER_GUID);
        let mut img = vec![0u8; 4096 - table.len() - 32];
        img.extend_from_slice(&table);
        img.extend_from_slice(&[0u8; 32]);
        img
    }

    #[test]
    fn parses_entries_and_refuses_garbage() {
        let a = guid(1, 2, 3, [4; 8]);
        let b = guid(5, 6, 7, [8; 8]);
        let img = image_with_table(&[(a, vec![1, 2, 3, 4]), (b, vec![9, 9])]);
        let t = FooterTable::parse(&img).unwrap();
        assert_eq!(t.get(&a), Some(&[1u8, 2, 3, 4][..]));
        assert_eq!(t.get(&b), Some(&[9u8, 9][..]));
        assert_eq!(t.entries().count(), 2);

        assert_eq!(
            FooterTable::parse(&[0u8; 10]).unwrap_err(),
            MeasureError::FooterTableMissing
        );
        assert_eq!(
            FooterTable::parse(&vec![0u8; 4096]).unwrap_err(),
            MeasureError::FooterTableMissing
        );

        let dup = image_with_table(&[(a, vec![1]), (a, vec![2])]);
        assert!(matches!(
            FooterTable::parse(&dup),
            Err(MeasureError::FooterEntryDuplicate { .. })
        ));

        // A footer length far larger than the image.
        let mut big = img.clone();
        let at = big.len() - 32 - 18;
        big[at..at + 2].copy_from_slice(&0xffffu16.to_le_bytes());
        assert!(matches!(
            FooterTable::parse(&big),
            Err(MeasureError::FooterTableOutOfRange { .. })
        ));

        // An entry length of 3 (shorter than its own trailer).
        let mut bad = img;
        let at = bad.len() - 32 - 18 - 18;
        bad[at..at + 2].copy_from_slice(&3u16.to_le_bytes());
        assert!(matches!(
            FooterTable::parse(&bad),
            Err(MeasureError::FooterEntryInvalid { .. })
        ));
    }
}
