//! The SGX extensions of a PCK certificate (Intel SGX PCK Certificate and
//! CRL Profile, §1.3.5 "Intel SGX Extensions", OID 1.2.840.113741.1.13.1).

use cogito_core::der::der_tlv;
use serde::Serialize;
use x509_parser::prelude::X509Certificate;

use crate::error::TdxError;

/// DER content of OID 1.2.840.113741.1.13.1.
const SGX_EXTENSIONS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01];

/// The SGX type of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SgxType {
    /// 0: Standard.
    Standard,
    /// 1: Scalable.
    Scalable,
    /// 2: Scalable with integrity.
    ScalableWithIntegrity,
    /// Another value.
    Other(u8),
}

/// Platform configuration flags (Platform CA PCK certificates only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlatformConfiguration {
    /// dynamicPlatform.
    pub dynamic_platform: Option<bool>,
    /// cachedKeys.
    pub cached_keys: Option<bool>,
    /// smtEnabled.
    pub smt_enabled: Option<bool>,
}

/// The SGX extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SgxExtensions {
    /// PPID (16 bytes), hex.
    pub ppid: String,
    /// CPUSVN components comp01..comp16.
    pub cpusvn_components: [u8; 16],
    /// PCESVN.
    pub pcesvn: u16,
    /// CPUSVN (16 bytes), hex.
    pub cpusvn: String,
    /// PCE-ID (2 bytes), hex.
    pub pce_id: String,
    /// FMSPC (6 bytes), hex.
    pub fmspc: String,
    /// SGX type.
    pub sgx_type: SgxType,
    /// Platform instance id (Platform CA certificates), hex.
    pub platform_instance_id: Option<String>,
    /// Configuration (Platform CA certificates).
    pub configuration: Option<PlatformConfiguration>,
}

fn bad(name: &'static str, problem: impl Into<String>) -> TdxError {
    TdxError::PckExtension {
        name,
        problem: problem.into(),
    }
}

/// One `SEQUENCE { OID, value }` entry: (OID arcs after the prefix, value
/// tag, value content).
type Entry<'a> = (&'a [u8], u8, &'a [u8]);

/// Iterates the `SEQUENCE { OID, value }` entries of a SEQUENCE's content,
/// yielding (last OID arc bytes after `prefix`, value TLV (tag, content)).
fn entries<'a>(
    mut content: &'a [u8],
    prefix: &[u8],
    name: &'static str,
) -> Result<Vec<Entry<'a>>, TdxError> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, _, seq, rest) = der_tlv(content).ok_or_else(|| bad(name, "is not DER"))?;
        content = rest;
        if tag != 0x30 {
            return Err(bad(name, "entry is not a SEQUENCE"));
        }
        let (tag, _, oid, after) = der_tlv(seq).ok_or_else(|| bad(name, "entry OID is not DER"))?;
        if tag != 0x06 || !oid.starts_with(prefix) {
            return Err(bad(name, "entry OID is outside the SGX arc"));
        }
        let (vtag, _, value, end) =
            der_tlv(after).ok_or_else(|| bad(name, "entry value is not DER"))?;
        if !end.is_empty() {
            return Err(bad(name, "entry has extra fields"));
        }
        out.push((oid.get(prefix.len()..).unwrap_or_default(), vtag, value));
    }
    Ok(out)
}

/// A DER INTEGER as an unsigned value that fits `max`.
/// An unsigned INTEGER (or ENUMERATED) that must fit `T`.
fn uint_of<T: TryFrom<u64>>(name: &'static str, tag: u8, v: &[u8]) -> Result<T, TdxError> {
    let max = u64::MAX;
    let n = uint(name, tag, v, max)?;
    T::try_from(n).map_err(|_| bad(name, format!("{n} is out of range")))
}

fn uint(name: &'static str, tag: u8, v: &[u8], max: u64) -> Result<u64, TdxError> {
    if tag != 0x02 && tag != 0x0a {
        return Err(bad(name, "is not an INTEGER"));
    }
    let digits = match v {
        [] => return Err(bad(name, "is an empty INTEGER")),
        [first, ..] if first & 0x80 != 0 => return Err(bad(name, "is negative")),
        [0, second, ..] if second & 0x80 == 0 => return Err(bad(name, "is not minimally encoded")),
        [0, rest @ ..] => rest,
        all => all,
    };
    if digits.len() > 8 {
        return Err(bad(name, "is too large"));
    }
    let n = digits.iter().fold(0u64, |a, b| a << 8 | u64::from(*b));
    if n > max {
        return Err(bad(name, format!("is {n}, above {max}")));
    }
    Ok(n)
}

fn octets<const N: usize>(name: &'static str, tag: u8, v: &[u8]) -> Result<[u8; N], TdxError> {
    if tag != 0x04 {
        return Err(bad(name, "is not an OCTET STRING"));
    }
    v.try_into()
        .map_err(|_| bad(name, format!("is {} bytes, expected {N}", v.len())))
}

impl SgxExtensions {
    /// Reads the SGX extensions of a PCK certificate; every mandatory field
    /// must be present exactly once.
    pub(crate) fn parse(cert: &X509Certificate<'_>) -> Result<Self, TdxError> {
        let ext = cert
            .extensions()
            .iter()
            .find(|e| e.oid.as_bytes() == SGX_EXTENSIONS)
            .ok_or_else(|| bad("SGX Extensions", "are missing (OID 1.2.840.113741.1.13.1)"))?;
        let (tag, _, content, rest) =
            der_tlv(ext.value).ok_or_else(|| bad("SGX Extensions", "are not DER"))?;
        if tag != 0x30 || !rest.is_empty() {
            return Err(bad("SGX Extensions", "are not one SEQUENCE"));
        }
        let mut ppid = None;
        let mut tcb = None;
        let mut pce_id = None;
        let mut fmspc = None;
        let mut sgx_type = None;
        let mut platform_instance_id = None;
        let mut configuration = None;
        for (arc, vtag, value) in entries(content, SGX_EXTENSIONS, "SGX Extensions")? {
            let dup = |seen: bool, name: &'static str| {
                if seen {
                    Err(bad(name, "appears twice"))
                } else {
                    Ok(())
                }
            };
            match arc {
                [1] => {
                    dup(ppid.is_some(), "PPID")?;
                    ppid = Some(octets::<16>("PPID", vtag, value)?);
                }
                [2] => {
                    dup(tcb.is_some(), "TCB")?;
                    if vtag != 0x30 {
                        return Err(bad("TCB", "is not a SEQUENCE"));
                    }
                    let mut comps: [Option<u8>; 16] = [None; 16];
                    let mut pcesvn = None;
                    let mut cpusvn = None;
                    let mut tcb_prefix = SGX_EXTENSIONS.to_vec();
                    tcb_prefix.push(2);
                    for (sub, t, v) in entries(value, &tcb_prefix, "TCB")? {
                        match sub {
                            [n @ 1..=16] => {
                                let slot = comps
                                    .get_mut(usize::from(*n - 1))
                                    .ok_or_else(|| bad("TCB", format!("component {n}")))?;
                                if slot.is_some() {
                                    return Err(bad("TCB", format!("component {n} appears twice")));
                                }
                                *slot = Some(uint_of::<u8>("TCB component SVN", t, v)?);
                            }
                            [17] => pcesvn = Some(uint_of::<u16>("PCESVN", t, v)?),
                            [18] => cpusvn = Some(octets::<16>("CPUSVN", t, v)?),
                            _ => {}
                        }
                    }
                    let mut cpusvn_components = [0u8; 16];
                    for (i, (out, c)) in cpusvn_components.iter_mut().zip(comps).enumerate() {
                        *out =
                            c.ok_or_else(|| bad("TCB", format!("component {} is missing", i + 1)))?;
                    }
                    tcb = Some((
                        cpusvn_components,
                        pcesvn.ok_or_else(|| bad("PCESVN", "is missing"))?,
                        cpusvn.ok_or_else(|| bad("CPUSVN", "is missing"))?,
                    ));
                }
                [3] => {
                    dup(pce_id.is_some(), "PCE-ID")?;
                    pce_id = Some(octets::<2>("PCE-ID", vtag, value)?);
                }
                [4] => {
                    dup(fmspc.is_some(), "FMSPC")?;
                    fmspc = Some(octets::<6>("FMSPC", vtag, value)?);
                }
                [5] => {
                    dup(sgx_type.is_some(), "SGX Type")?;
                    sgx_type = Some(match uint_of::<u8>("SGX Type", vtag, value)? {
                        0 => SgxType::Standard,
                        1 => SgxType::Scalable,
                        2 => SgxType::ScalableWithIntegrity,
                        n => SgxType::Other(n),
                    });
                }
                [6] => {
                    platform_instance_id = Some(hex::encode(octets::<16>(
                        "PlatformInstanceID",
                        vtag,
                        value,
                    )?));
                }
                [7] => {
                    let mut cfg = PlatformConfiguration::default();
                    let mut prefix = SGX_EXTENSIONS.to_vec();
                    prefix.push(7);
                    for (sub, t, v) in entries(value, &prefix, "Configuration")? {
                        let flag = match (t, v) {
                            (0x01, [b]) => *b != 0,
                            _ => return Err(bad("Configuration", "flag is not a BOOLEAN")),
                        };
                        match sub {
                            [1] => cfg.dynamic_platform = Some(flag),
                            [2] => cfg.cached_keys = Some(flag),
                            [3] => cfg.smt_enabled = Some(flag),
                            _ => {}
                        }
                    }
                    configuration = Some(cfg);
                }
                _ => {}
            }
        }
        let (cpusvn_components, pcesvn, cpusvn) = tcb.ok_or_else(|| bad("TCB", "is missing"))?;
        Ok(SgxExtensions {
            ppid: hex::encode(ppid.ok_or_else(|| bad("PPID", "is missing"))?),
            cpusvn_components,
            pcesvn,
            cpusvn: hex::encode(cpusvn),
            pce_id: hex::encode(pce_id.ok_or_else(|| bad("PCE-ID", "is missing"))?),
            fmspc: hex::encode(fmspc.ok_or_else(|| bad("FMSPC", "is missing"))?),
            sgx_type: sgx_type.ok_or_else(|| bad("SGX Type", "is missing"))?,
            platform_instance_id,
            configuration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(uint("x", 2, &[5], 255).unwrap(), 5);
        assert_eq!(uint("x", 2, &[0, 0x80], 255).unwrap(), 128);
        assert!(uint("x", 2, &[0x80], 255).is_err());
        assert!(uint("x", 2, &[0, 1], 255).is_err());
        assert!(uint("x", 2, &[1, 0], 255).is_err());
        assert!(uint("x", 4, &[1], 255).is_err());
        assert!(uint("x", 2, &[], 255).is_err());
    }
}
