//! The SEV-SNP evidence of a KBS attester: the `sev` crate's
//! `AttestationReport` in its serde JSON form, which
//! `kbs::evidence::parse` re-encodes with the `sev` crate into the
//! 1184-byte report the verifier checks ("the signature covers those
//! bytes, so a JSON that does not reproduce them fails the signature
//! check"). The input is taken two ways:
//!
//! - as JSON, `{"attestation_report": …, "cert_chain"?: …}` or a bare
//!   report object: what parses must be 1184 bytes at cogito's offsets
//!   (every field cogito's `Report::parse` reads is the JSON's), and a
//!   fixed point: decoding those bytes with the `sev` crate and encoding
//!   them again, or sending them again as JSON, gives the same bytes;
//! - as a binary report (1184 bytes) that cogito's `Report::parse`
//!   accepts and the `sev` crate decodes: sent as the `sev` JSON an
//!   attester makes of it, it must come back byte for byte, save the
//!   reserved bytes of the TCB fields that the `sev` crate's layout for
//!   the report's generation does not carry (legacy Milan/Genoa bytes
//!   2..6, Turin bytes 4..7). A real report whose signature would break
//!   on the way through JSON is a crash.
#![no_main]

use cogito_protocol::TeeName;
use cogito_server::kbs::evidence;
use cogito_snp::{Report, REPORT_LEN};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use sev::firmware::guest::AttestationReport;
use sev::parser::ByteParser;

/// Offsets of the four TCB_VERSION fields.
const TCB_FIELDS: [usize; 4] = [0x38, 0x180, 0x1E0, 0x1F0];

/// Which TCB bytes the `sev` crate's layout leaves out for `report`
/// (its own choice of generation, from `AttestationReport::decode`):
/// `None` when it cannot decode the report.
fn dropped_tcb_bytes(report: &[u8]) -> Option<&'static [usize]> {
    const LEGACY: &[usize] = &[2, 3, 4, 5];
    const TURIN: &[usize] = &[4, 5, 6];
    let version = u32::from_le_bytes(report[..4].try_into().ok()?);
    let chip_id = &report[0x1A0..0x1E0];
    match version {
        0 | 1 => None,
        2 => {
            if chip_id.iter().all(|b| *b == 0) {
                None
            } else if chip_id[8..].iter().all(|b| *b == 0) {
                Some(TURIN)
            } else {
                Some(LEGACY)
            }
        }
        _ => match (report[0x188], report[0x189]) {
            (0x19, 0x00..=0x1F | 0xA0..=0xAF) => Some(LEGACY),
            (0x1A, 0x00..=0x11 | 0x50..=0x57 | 0x90..=0xAF | 0xC0..=0xC7) => Some(TURIN),
            _ => None,
        },
    }
}

/// Evidence JSON for a report value, as `evidence::parse` reads it.
fn reencode(report: &Value) -> Result<Vec<u8>, String> {
    evidence::parse(TeeName::Snp, &json!({ "attestation_report": report })).map(|p| p.evidence)
}

/// cogito's reading of the bytes agrees with the `sev` crate's report.
fn same_fields(ours: &Report, theirs: &AttestationReport) {
    assert_eq!(ours.version, theirs.version);
    assert_eq!(ours.guest_svn, theirs.guest_svn);
    // The raw value, as serde writes it (`u64::from` would set the
    // must-be-one bit 17).
    let policy = serde_json::to_value(theirs.policy).expect("a policy serializes");
    assert_eq!(Some(ours.policy.0), policy.as_u64());
    assert_eq!(ours.family_id, theirs.family_id);
    assert_eq!(ours.image_id, theirs.image_id);
    assert_eq!(ours.vmpl, theirs.vmpl);
    assert_eq!(ours.signature_algo, theirs.sig_algo);
    assert_eq!(ours.report_data, theirs.report_data);
    assert_eq!(ours.measurement, theirs.measurement);
    assert_eq!(ours.host_data, theirs.host_data);
    assert_eq!(ours.id_key_digest, theirs.id_key_digest);
    assert_eq!(ours.author_key_digest, theirs.author_key_digest);
    assert_eq!(ours.report_id, theirs.report_id);
    assert_eq!(ours.report_id_ma, theirs.report_id_ma);
    assert_eq!(ours.chip_id, theirs.chip_id);
    assert_eq!(&ours.raw[0x2A0..0x2E8], &theirs.signature.r()[..]);
    assert_eq!(&ours.raw[0x2E8..0x330], &theirs.signature.s()[..]);
}

fn json_input(value: &Value) {
    let piece = match evidence::parse(TeeName::Snp, value) {
        Ok(p) => p,
        Err(_) => return,
    };
    let bytes = piece.evidence;
    assert_eq!(bytes.len(), REPORT_LEN);
    let sent: AttestationReport = serde_json::from_value(value["attestation_report"].clone())
        .expect("evidence.rs decoded this report");
    if let Ok(ours) = Report::parse(&bytes) {
        same_fields(&ours, &sent);
    }
    // A fixed point: what the `sev` crate reads back, it encodes the same,
    // in bytes and through JSON.
    if let Ok(back) = AttestationReport::from_bytes(&bytes) {
        let again = back.to_bytes().expect("a decoded report encodes");
        assert_eq!(
            &again[..],
            &bytes[..],
            "sev's encoding is not a fixed point"
        );
        let as_json = serde_json::to_value(back).expect("a report serializes");
        assert_eq!(reencode(&as_json).expect("its own JSON parses"), bytes);
    }
}

fn binary_input(data: &[u8]) {
    let Ok(ours) = Report::parse(data) else {
        return;
    };
    let Ok(theirs) = AttestationReport::from_bytes(data) else {
        // The `sev` crate cannot decode it (a masked CHIP_ID in a version 2
        // report, a CPU it does not know): no attester can send it as JSON.
        return;
    };
    same_fields(&ours, &theirs);
    let dropped = dropped_tcb_bytes(data).expect("the sev crate decoded this report");
    let as_json = serde_json::to_value(theirs).expect("a report serializes");
    let bytes = reencode(&as_json).expect("an attester's JSON of a report parses");
    for (offset, (sent, got)) in data.iter().zip(&bytes).enumerate() {
        if sent != got {
            let tcb_reserved = TCB_FIELDS
                .iter()
                .any(|f| offset >= *f && dropped.contains(&(offset - f)));
            assert!(
                tcb_reserved,
                "byte {offset:#x} changed on the way through sev's JSON ({sent:#04x} -> {got:#04x})"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() == REPORT_LEN {
        binary_input(data);
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if value.get("attestation_report").is_some() {
        json_input(&value);
    } else {
        json_input(&json!({ "attestation_report": value }));
    }
});
