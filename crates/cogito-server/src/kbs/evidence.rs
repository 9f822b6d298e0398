//! The evidence shapes Confidential Containers attesters send, turned
//! back into the bytes cogito's verifiers take:
//!
//! - SEV-SNP `{"attestation_report": <the sev crate's AttestationReport as
//!   serde writes it>, "cert_chain": [<CertTableEntry>…]?}`: the report is
//!   re-encoded with the sev crate; the signature covers those bytes, so a
//!   JSON that does not reproduce them fails the signature check. The
//!   certificates become a GHCB certificate table.
//! - TDX `{"quote": base64, "cc_eventlog": base64?}`.
//! - Arm CCA `{"token": [bytes]}` (serde's encoding of a `Vec<u8>`, as the
//!   upstream attester sends it) or `{"token": base64}`.

use base64::Engine as _;
use cogito_attest::SuppliedCollateral;
use cogito_protocol::TeeName;

/// One piece of evidence, as the verifiers take it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Piece {
    /// The platform the attester named.
    pub tee: TeeName,
    /// The evidence bytes.
    #[serde(with = "b64")]
    pub evidence: Vec<u8>,
    /// SEV-SNP: the certificate table.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub cert_table: Option<Vec<u8>>,
    /// TDX: the CC event log.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub event_log: Option<Vec<u8>>,
}

impl Piece {
    /// The collateral that came with it.
    pub fn collateral(&self) -> SuppliedCollateral {
        SuppliedCollateral {
            snp_cert_table: self.cert_table.clone(),
            event_log: self.event_log.clone(),
            ..Default::default()
        }
    }
}

mod b64 {
    use base64::Engine as _;
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

mod opt_b64 {
    use base64::Engine as _;
    pub fn serialize<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = serde::Deserialize::deserialize(d)?;
        text.map(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

fn base64_any(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let e = &base64::engine::general_purpose::STANDARD;
    e.decode(text)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
        .map_err(|_| format!("{field} is not base64"))
}

/// The TEE a KBS `tee` name stands for, among those cogito verifies.
pub fn tee_of(name: &str) -> Option<TeeName> {
    match name {
        "snp" => Some(TeeName::Snp),
        "tdx" => Some(TeeName::Tdx),
        "cca" => Some(TeeName::Cca),
        _ => None,
    }
}

/// Parses one attester's evidence for `tee`.
pub fn parse(tee: TeeName, value: &serde_json::Value) -> Result<Piece, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{} evidence is not a JSON object", tee.as_str()))?;
    match tee {
        TeeName::Snp => {
            let report = obj
                .get("attestation_report")
                .ok_or("SEV-SNP evidence has no attestation_report")?;
            let report: sev::firmware::guest::AttestationReport =
                serde_json::from_value(report.clone())
                    .map_err(|e| format!("attestation_report: {e}"))?;
            let bytes = sev::parser::ByteParser::to_bytes(&report)
                .map_err(|e| format!("attestation_report does not encode: {e}"))?
                .to_vec();
            let cert_table = match obj.get("cert_chain") {
                None | Some(serde_json::Value::Null) => None,
                Some(chain) => {
                    let entries: Vec<sev::firmware::host::CertTableEntry> =
                        serde_json::from_value(chain.clone())
                            .map_err(|e| format!("cert_chain: {e}"))?;
                    Some(cert_table(&entries)?)
                }
            };
            Ok(Piece {
                tee,
                evidence: bytes,
                cert_table,
                event_log: None,
            })
        }
        TeeName::Tdx => {
            let quote = obj
                .get("quote")
                .and_then(|v| v.as_str())
                .ok_or("TDX evidence has no quote (base64)")?;
            let event_log = match obj.get("cc_eventlog") {
                Some(serde_json::Value::String(s)) if !s.is_empty() => {
                    Some(base64_any("cc_eventlog", s)?)
                }
                _ => None,
            };
            Ok(Piece {
                tee,
                evidence: base64_any("quote", quote)?,
                cert_table: None,
                event_log,
            })
        }
        TeeName::Cca => {
            let token = match obj.get("token") {
                Some(serde_json::Value::String(s)) => base64_any("token", s)?,
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or("token: an array of bytes (0 to 255) expected")?,
                _ => return Err("CCA evidence has no token".into()),
            };
            Ok(Piece {
                tee,
                evidence: token,
                cert_table: None,
                event_log: None,
            })
        }
    }
}

/// The GHCB certificate table of the entries cogito uses (ARK, ASK/ASVK,
/// VCEK, VLEK); CRLs and other entries are left out (the verifier gets
/// CRLs from its own sources). A table names each certificate once (its
/// GUID), so a chain with two of one kind is refused here, as the shape
/// of the evidence, rather than built into a table that the verifier then
/// refuses as malformed collateral.
fn cert_table(entries: &[sev::firmware::host::CertTableEntry]) -> Result<Vec<u8>, String> {
    use cogito_snp::CertTableKind;
    use sev::firmware::host::CertType;
    let mut kept: Vec<(CertTableKind, &[u8])> = Vec::new();
    for e in entries {
        let kind = match e.cert_type {
            CertType::ARK => CertTableKind::Ark,
            CertType::ASK => CertTableKind::Ask,
            CertType::VCEK => CertTableKind::Vcek,
            CertType::VLEK => CertTableKind::Vlek,
            _ => continue,
        };
        if kept.iter().any(|(k, _)| *k == kind) {
            return Err(format!(
                "cert_chain: more than one {:?} certificate",
                e.cert_type
            ));
        }
        kept.push((kind, e.data.as_slice()));
    }
    if kept.is_empty() {
        return Err("cert_chain: no ARK, ASK, VCEK or VLEK".into());
    }
    // The body limit keeps the table far below the 4 GiB build_cert_table
    // refuses.
    Ok(cogito_snp::build_cert_table(&kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SEV-SNP evidence as a KBS attester sends it: a report the `sev`
    /// crate encodes (version 3 of a Genoa part) and `cert_chain`.
    fn snp(cert_chain: serde_json::Value) -> serde_json::Value {
        let report = sev::firmware::guest::AttestationReport {
            version: 3,
            sig_algo: 1,
            cpuid_fam_id: Some(0x19),
            cpuid_mod_id: Some(0x11),
            cpuid_step: Some(1),
            chip_id: [7; 64],
            ..Default::default()
        };
        serde_json::json!({ "attestation_report": report, "cert_chain": cert_chain })
    }

    /// Found by the fuzz target `kbs_bodies`: two ARK entries made a
    /// certificate table with a repeated GUID, which `parse_cert_table`
    /// (and so the verifier) refuses as malformed collateral. The evidence
    /// is refused for its shape now, before verification.
    #[test]
    fn kbs_snp_cert_chain_naming_a_certificate_twice_is_refused_as_its_shape() {
        let twice = snp(serde_json::json!([
            { "cert_type": "ARK", "data": [1, 2, 3] },
            { "cert_type": "ARK", "data": [4, 5] },
        ]));
        let e = parse(TeeName::Snp, &twice).unwrap_err();
        assert!(e.contains("more than one ARK"), "{e}");

        // One of each kind: a table that reads back to the same entries,
        // with entries of other kinds left out.
        let once = snp(serde_json::json!([
            { "cert_type": "VCEK", "data": [1] },
            { "cert_type": "ASK", "data": [2, 2] },
            { "cert_type": "ARK", "data": [3, 3, 3] },
            { "cert_type": "CRL", "data": [9] },
        ]));
        let piece = parse(TeeName::Snp, &once).unwrap();
        assert_eq!(piece.evidence.len(), cogito_snp::REPORT_LEN);
        let table = piece.cert_table.unwrap();
        let entries = cogito_snp::parse_cert_table(&table).unwrap();
        let read: Vec<(cogito_snp::CertTableKind, &[u8])> =
            entries.iter().map(|e| (e.kind, e.data)).collect();
        assert_eq!(
            read,
            vec![
                (cogito_snp::CertTableKind::Vcek, &[1u8][..]),
                (cogito_snp::CertTableKind::Ask, &[2, 2][..]),
                (cogito_snp::CertTableKind::Ark, &[3, 3, 3][..]),
            ]
        );
    }
}
