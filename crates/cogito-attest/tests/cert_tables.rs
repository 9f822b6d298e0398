//! SEV-SNP host certificate tables through the pipeline: DER entries as the
//! GHCB specification defines them, and PEM entries as some hosts write
//! them (one strict PEM block per entry). The claims say which was used.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};

use cogito_attest::{
    Anchors, AttestError, NoFetch, Options, Outcome, Request, SuppliedCollateral, Verification,
    Verifier,
};
use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::{CogitoError, VerificationTime};
use cogito_snp::{build_cert_table, CertTableKind, TableEncoding};

struct Case {
    report: Vec<u8>,
    vcek: Vec<u8>,
    /// ASK then ARK, DER.
    chain: Vec<Vec<u8>>,
    at: VerificationTime,
    anchors: Anchors,
}

fn testkit_case() -> Case {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/snp");
    let case = dir.join("genoa-v3-vcek");
    let mut anchors = Anchors::builtin();
    for f in ["genoa-ark.pem", "genoa-ask.pem"] {
        let pem = std::fs::read(dir.join("anchors").join(f)).unwrap();
        anchors.x509.add_pem_or_der(&pem, false, f).unwrap();
    }
    Case {
        report: std::fs::read(case.join("report.bin")).unwrap(),
        vcek: std::fs::read(case.join("vcek.der")).unwrap(),
        chain: certificates_from_pem_or_der(&std::fs::read(case.join("cert_chain.pem")).unwrap())
            .unwrap(),
        at: VerificationTime::parse_rfc3339("2025-06-01T00:00:00Z").unwrap(),
        anchors,
    }
}

fn real_case() -> Option<Case> {
    let root: PathBuf = cogito_testkit::real_vectors::dir()?;
    let v = cogito_testkit::real_vectors::manifest_vectors(&root)
        .into_iter()
        .find(|v| v["id"].as_str() == Some("snp-milan-v2-virtee"))
        .expect("snp-milan-v2-virtee in the manifest");
    let dir = root.join(v["dir"].as_str().unwrap());
    Some(Case {
        report: std::fs::read(dir.join("report.bin")).unwrap(),
        vcek: std::fs::read(dir.join("vcek.der")).unwrap(),
        chain: certificates_from_pem_or_der(&std::fs::read(dir.join("cert_chain.pem")).unwrap())
            .unwrap(),
        at: VerificationTime::parse_rfc3339(v["verify_at"].as_str().unwrap()).unwrap(),
        anchors: Anchors::builtin(),
    })
}

/// The entries as a host would write them: each DER, or each one PEM block.
fn table(c: &Case, pem: [bool; 3]) -> Vec<u8> {
    let encode = |der: &[u8], as_pem: bool| {
        if as_pem {
            cogito_testkit::pem::encode("CERTIFICATE", der).into_bytes()
        } else {
            der.to_vec()
        }
    };
    let vcek = encode(&c.vcek, pem[0]);
    let ask = encode(&c.chain[0], pem[1]);
    let ark = encode(&c.chain[1], pem[2]);
    build_cert_table(&[
        (CertTableKind::Vcek, &vcek),
        (CertTableKind::Ask, &ask),
        (CertTableKind::Ark, &ark),
    ])
}

fn verify(c: &Case, table: Vec<u8>) -> Result<Verification, AttestError> {
    let collateral = SuppliedCollateral {
        snp_cert_table: Some(table),
        ..SuppliedCollateral::default()
    };
    let request = Request {
        evidence: &c.report,
        collateral: &collateral,
        at: c.at,
        options: &Options::default(),
    };
    Verifier::without_cache(c.anchors.clone()).verify(&request, &NoFetch)
}

fn encoding(v: &Verification) -> Option<TableEncoding> {
    match &v.outcome {
        Outcome::Snp(s) => s.platform.endorsement.cert_table_encoding,
        _ => panic!("not SNP"),
    }
}

fn der_pem_and_mixed_tables_verify_alike(c: &Case) {
    let der = verify(c, table(c, [false; 3])).unwrap();
    let pem = verify(c, table(c, [true; 3])).unwrap();
    let mixed = verify(c, table(c, [true, false, true])).unwrap();
    assert_eq!(encoding(&der), Some(TableEncoding::Der));
    assert_eq!(encoding(&pem), Some(TableEncoding::Pem));
    assert_eq!(encoding(&mixed), Some(TableEncoding::Mixed));
    assert_eq!(der.claims(), pem.claims());
    let json = serde_json::to_value(&pem).unwrap();
    assert_eq!(json["snp"]["endorsement"]["cert_table_encoding"], "pem");
}

#[test]
fn testkit_tables_in_der_pem_and_mixed_verify_alike() {
    der_pem_and_mixed_tables_verify_alike(&testkit_case());
}

#[test]
fn a_real_chain_as_a_pem_table_verifies_like_the_der_one() {
    let Some(c) = real_case() else { return };
    der_pem_and_mixed_tables_verify_alike(&c);
}

#[test]
fn a_pem_entry_must_be_exactly_one_strict_block() {
    let c = testkit_case();
    let one = cogito_testkit::pem::encode("CERTIFICATE", &c.vcek);
    for (what, entry) in [
        ("two blocks", format!("{one}{one}")),
        ("a trailing NUL", format!("{one}\0")),
        ("text before", format!("vcek:\n{one}")),
        (
            "a space inside the base64",
            one.replacen('\n', "\n ", 2)
                .replacen("\n -----BEGIN", "\n-----BEGIN", 1),
        ),
    ] {
        let ask = c.chain[0].clone();
        let t = build_cert_table(&[
            (CertTableKind::Vcek, entry.as_bytes()),
            (CertTableKind::Ask, &ask),
        ]);
        let e = verify(&c, t).expect_err(what);
        assert_eq!(e.code(), "snp.cert_table.malformed", "{what}: {e}");
        assert!(e.to_string().contains("Vcek entry"), "{what}: {e}");
    }
}
