//! The Authenticode digest of a PE/COFF image, as UEFI firmware measures
//! an application it loads (edk2 `Tcg2MeasurePeImage`, following Microsoft's
//! "Windows Authenticode Portable Executable Signature Format", "Calculating
//! the PE Image Hash").

use sha2::{Digest, Sha384};

use crate::ovmf::{read_u16, read_u32};
use crate::{Digest48, MeasureError};

/// Index of the certificate table in the data directories (a `u8` so that
/// it converts losslessly both to the `u32` NumberOfRvaAndSizes it is
/// compared with and to the `usize` offset it is part of).
const IMAGE_DIRECTORY_ENTRY_SECURITY: u8 = 4;

fn bad(reason: &'static str) -> MeasureError {
    MeasureError::KernelNotPe { reason }
}

/// A little-endian `u32` offset or size at `at`, as a `usize`: `truncated`
/// when the field is past the end, `beyond` when the value cannot be an
/// offset in the file (it does not fit in `usize`, so it is larger than any
/// file; the same reason the caller gives for a value past the end).
fn read_len(
    image: &[u8],
    at: usize,
    truncated: &'static str,
    beyond: &'static str,
) -> Result<usize, MeasureError> {
    let v = read_u32(image, at).ok_or(bad(truncated))?;
    usize::try_from(v).map_err(|_| bad(beyond))
}

/// SHA-384 Authenticode digest of `image`.
///
/// Hashes the headers without the checksum and the certificate-table
/// directory entry, then the sections' raw data in file order, then any
/// data after the sections except the certificate table.
pub fn authenticode_sha384(image: &[u8]) -> Result<Digest48, MeasureError> {
    if image.get(0..2) != Some(b"MZ") {
        return Err(bad("no MZ signature"));
    }
    let pe = read_len(
        image,
        0x3c,
        "truncated DOS header",
        "no PE signature at e_lfanew",
    )?;
    if image.get(pe..pe.saturating_add(4)) != Some(b"PE\0\0") {
        return Err(bad("no PE signature at e_lfanew"));
    }
    let coff = pe + 4;
    let sections = read_u16(image, coff + 2).ok_or(bad("truncated COFF header"))?;
    let opt_size = usize::from(read_u16(image, coff + 16).ok_or(bad("truncated COFF header"))?);
    let opt = coff + 20;
    let (rva_count_at, dirs_at) =
        match read_u16(image, opt).ok_or(bad("truncated optional header"))? {
            0x10b => (opt + 92, opt + 96),   // PE32
            0x20b => (opt + 108, opt + 112), // PE32+
            _ => return Err(bad("unknown optional header magic")),
        };
    let checksum_at = opt + 64;
    let headers_end = read_len(
        image,
        opt + 60,
        "truncated optional header",
        "SizeOfHeaders beyond the file",
    )?;
    let rva_count = read_u32(image, rva_count_at).ok_or(bad("truncated optional header"))?;
    let cert_dir_at = dirs_at + 8 * usize::from(IMAGE_DIRECTORY_ENTRY_SECURITY);
    let headers = image
        .get(..headers_end)
        .ok_or(bad("SizeOfHeaders beyond the file"))?;
    if headers_end < checksum_at + 4 {
        return Err(bad("SizeOfHeaders inside the optional header"));
    }

    let mut h = Sha384::new();
    let piece = |from: usize, to: usize| {
        headers
            .get(from..to)
            .ok_or(bad("header ranges out of order"))
    };
    h.update(piece(0, checksum_at)?);
    let cert_size = if rva_count > u32::from(IMAGE_DIRECTORY_ENTRY_SECURITY) {
        h.update(piece(checksum_at + 4, cert_dir_at)?);
        h.update(piece(cert_dir_at + 8, headers_end)?);
        read_len(
            image,
            cert_dir_at + 4,
            "truncated data directory",
            "certificate table larger than the trailing data",
        )?
    } else {
        h.update(piece(checksum_at + 4, headers_end)?);
        0
    };

    // Section headers follow the optional header; hash by PointerToRawData.
    let table = opt + opt_size;
    let mut raw: Vec<(usize, usize)> = Vec::new();
    for i in 0..usize::from(sections) {
        let at = table + 40 * i;
        let size = read_len(
            image,
            at + 16,
            "truncated section table",
            "section raw data beyond the file",
        )?;
        let ptr = read_len(
            image,
            at + 20,
            "truncated section table",
            "section raw data beyond the file",
        )?;
        if size > 0 {
            raw.push((ptr, size));
        }
    }
    raw.sort_unstable();
    let mut hashed = headers_end;
    for (ptr, size) in raw {
        let data = ptr
            .checked_add(size)
            .and_then(|end| image.get(ptr..end))
            .ok_or(bad("section raw data beyond the file"))?;
        h.update(data);
        hashed += size;
    }
    // Trailing data, minus the certificate table at the end.
    if image.len() > hashed {
        let extra = image
            .len()
            .checked_sub(hashed + cert_size)
            .ok_or(bad("certificate table larger than the trailing data"))?;
        h.update(
            image
                .get(hashed..hashed + extra)
                .ok_or(bad("trailing data out of range"))?,
        );
    }
    Ok(h.finalize().into())
}
