//! Small strict-DER helpers shared by the platform crates: reading one
//! TLV, and checking the signed envelope of a certificate or CRL.

/// One DER TLV: (tag, the whole TLV, its content, what follows it).
pub type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Reads one DER TLV from the front of `input`. Rejects high tag numbers,
/// indefinite and non-minimal lengths (X.690 §10.1).
pub fn der_tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        if bytes.first() == Some(&0) {
            return None;
        }
        let len = bytes.iter().fold(0usize, |a, b| a << 8 | usize::from(*b));
        if len < 0x80 {
            return None;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    let rest = input.get(end..)?;
    Some((tag, whole, whole.get(header..)?, rest))
}

/// Checks the signed envelope of a certificate or CRL in strict DER:
/// `SEQUENCE { tbs SEQUENCE, signatureAlgorithm SEQUENCE, signature BIT
/// STRING }` with nothing after, and the outer signatureAlgorithm
/// byte-identical to the one inside the signed part (RFC 5280 §4.1.1.2,
/// §5.1.1.2). The parser is lenient about these unsigned bytes; without
/// this check one real certificate could be re-encoded into endless
/// distinct byte strings (each a fresh cache entry).
pub fn check_signed_envelope(der: &[u8]) -> Result<(), String> {
    let bad = |what: &str| format!("not strict DER: {what}");
    let (tag, _, content, rest) = der_tlv(der).ok_or_else(|| bad("outer SEQUENCE"))?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(bad("outer SEQUENCE"));
    }
    let (tag, _, tbs, rest) = der_tlv(content).ok_or_else(|| bad("signed part"))?;
    if tag != 0x30 {
        return Err(bad("signed part is not a SEQUENCE"));
    }
    let (tag, outer_alg, _, rest) = der_tlv(rest).ok_or_else(|| bad("signatureAlgorithm"))?;
    if tag != 0x30 {
        return Err(bad("signatureAlgorithm is not a SEQUENCE"));
    }
    let (tag, _, _, rest) = der_tlv(rest).ok_or_else(|| bad("signatureValue"))?;
    if tag != 0x03 || !rest.is_empty() {
        return Err(bad("signatureValue is not the final BIT STRING"));
    }
    // Inside the signed part: an optional version ([0] for certificates,
    // INTEGER for CRLs) and, for certificates, the serial INTEGER come
    // before the signature AlgorithmIdentifier.
    let mut inner = tbs;
    for _ in 0..3 {
        let (tag, whole, _, rest) = der_tlv(inner).ok_or_else(|| bad("signed part fields"))?;
        match tag {
            0xa0 | 0x02 => inner = rest,
            0x30 if whole == outer_alg => return Ok(()),
            0x30 => {
                return Err(bad(
                    "signatureAlgorithm differs from the signature field it signs",
                ))
            }
            _ => break,
        }
    }
    Err(bad("no signature AlgorithmIdentifier in the signed part"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_must_be_minimal() {
        assert!(der_tlv(&[0x04, 0x01, 0xaa]).is_some());
        assert!(der_tlv(&[0x04, 0x81, 0x01, 0xaa]).is_none()); // long form for < 128
        assert!(der_tlv(&[0x04, 0x82, 0x00, 0x01, 0xaa]).is_none()); // leading zero
        assert!(der_tlv(&[0x04, 0x80]).is_none()); // indefinite
        assert!(der_tlv(&[0x04, 0x02, 0xaa]).is_none()); // short
        assert!(der_tlv(&[0x1f, 0x01, 0x00]).is_none()); // high tag number
    }

    #[test]
    fn envelope_requires_equal_algorithms() {
        // SEQUENCE { SEQUENCE { [0]{INT 2}, INT 1, SEQUENCE{OID 1.2} }, SEQUENCE{OID 1.2}, BIT STRING }
        let alg = [0x30, 0x03, 0x06, 0x01, 0x2a];
        let mut tbs = vec![0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01];
        tbs.extend_from_slice(&alg);
        let build = |outer_alg: &[u8]| {
            let mut body = vec![0x30, tbs.len() as u8];
            body.extend_from_slice(&tbs);
            body.extend_from_slice(outer_alg);
            body.extend_from_slice(&[0x03, 0x02, 0x00, 0xff]);
            let mut der = vec![0x30, body.len() as u8];
            der.extend_from_slice(&body);
            der
        };
        assert!(check_signed_envelope(&build(&alg)).is_ok());
        assert!(check_signed_envelope(&build(&[0x30, 0x03, 0x86, 0x01, 0x2a])).is_err());
        let mut trailing = build(&alg);
        trailing.push(0);
        assert!(check_signed_envelope(&trailing).is_err());
        let mut wrong_tag = build(&alg);
        wrong_tag[0] = 0xb0;
        assert!(check_signed_envelope(&wrong_tag).is_err());
    }
}
